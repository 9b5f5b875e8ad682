#pragma once
// A string -> uint32 hash map for the segment writer's hot path: open addressing over a flat slot
// array (hash stored beside the key reference, so most probes touch one cache line) and keys
// copied into an append-only arena (no allocation per key). Keys handed out as string_views stay
// valid for the map's lifetime. Not thread-safe.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "store/encoding.h"

namespace cairn::store {

class FlatStringMap {
 public:
  FlatStringMap() { slots_.resize(64); }

  // Returns a pointer to the value of `key`, inserting `value_if_new` when absent (then *inserted
  // is true).
  // `stored_key`, when set, receives the arena copy of the key.
  uint32_t* FindOrInsert(std::string_view key, uint32_t value_if_new, bool* inserted,
                         std::string_view* stored_key = nullptr) {
    return FindOrInsertHashed(key, HashOf(key), value_if_new, inserted, stored_key);
  }
  // The hash FindOrInsertHashed expects, and a prefetch of its first slot: callers with several
  // keys at hand hash and prefetch them all first, so the cache misses overlap.
  static uint64_t HashOf(std::string_view key) { return Hash64(key) | 1; }  // 0 marks empty
  void Prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }
  uint32_t* FindOrInsertHashed(std::string_view key, uint64_t h, uint32_t value_if_new,
                               bool* inserted, std::string_view* stored_key = nullptr) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();  // load factor <= 0.7
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        s.hash = h;
        s.key = Store(key);
        s.len = static_cast<uint32_t>(key.size());
        s.value = value_if_new;
        ++size_;
        *inserted = true;
        if (stored_key) *stored_key = std::string_view(s.key, s.len);
        return &s.value;
      }
      if (s.hash == h && s.len == key.size() && std::memcmp(s.key, key.data(), key.size()) == 0) {
        *inserted = false;
        if (stored_key) *stored_key = std::string_view(s.key, s.len);
        return &s.value;
      }
    }
  }
  // The same for the key `tag` (4 bytes, native order) + `key` without building it: callers
  // hash with HashTagged. Keys inserted this way must only be looked up this way.
  static uint64_t HashTagged(uint32_t tag, std::string_view key) { return Hash64(key, tag) | 1; }
  uint32_t* FindOrInsertTagged(uint32_t tag, std::string_view key, uint64_t h,
                               uint32_t value_if_new, bool* inserted) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    size_t mask = slots_.size() - 1;
    const size_t len = key.size() + 4;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        char* p = Allocate(len);
        std::memcpy(p, &tag, 4);
        if (!key.empty()) std::memcpy(p + 4, key.data(), key.size());
        s.hash = h;
        s.key = p;
        s.len = static_cast<uint32_t>(len);
        s.value = value_if_new;
        ++size_;
        *inserted = true;
        return &s.value;
      }
      if (s.hash == h && s.len == len && std::memcmp(s.key, &tag, 4) == 0 &&
          std::memcmp(s.key + 4, key.data(), key.size()) == 0) {
        *inserted = false;
        return &s.value;
      }
    }
  }
  // Sizes the slot array for `n` keys (no effect when already larger).
  void Reserve(size_t n) {
    size_t want = slots_.size();
    while (n * 10 > want * 7) want *= 2;
    if (want == slots_.size()) return;
    if (size_ == 0) {
      slots_.assign(want, Slot{});
      return;
    }
    while (slots_.size() < want) Grow();
  }
  // Empties the map but keeps its slot array and arena chunks for the next keys (stored keys
  // handed out before become invalid).
  void Clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
    arena_used_ = 0;
    arena_pos_ = nullptr;
    arena_left_ = 0;
  }
  // Bytes held by the slot array and the arena.
  size_t Bytes() const {
    size_t n = slots_.capacity() * sizeof(Slot);
    for (size_t size : arena_sizes_) n += size;
    return n;
  }
  const uint32_t* Find(std::string_view key) const { return FindHashed(key, HashOf(key)); }
  // Find with the hash from HashOf.
  const uint32_t* FindHashed(std::string_view key, uint64_t h) const {
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == h && s.len == key.size() && std::memcmp(s.key, key.data(), key.size()) == 0) {
        return &s.value;
      }
    }
  }
  size_t size() const { return size_; }
  // Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.hash != 0) fn(std::string_view(s.key, s.len), s.value);
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* key = nullptr;
    uint32_t len = 0;
    uint32_t value = 0;
  };

  char* Allocate(size_t len) {
    if (arena_left_ < len) {
      // Chunks [0, arena_used_) hold keys; later ones are free after a Clear.
      if (arena_used_ < arena_.size() && arena_sizes_[arena_used_] >= len) {
        arena_pos_ = arena_[arena_used_].get();
        arena_left_ = arena_sizes_[arena_used_];
      } else {
        next_chunk_ = std::min<size_t>(next_chunk_ * 2, 1 << 20);
        size_t n = std::max<size_t>(len, next_chunk_);
        arena_.insert(arena_.begin() + static_cast<std::ptrdiff_t>(arena_used_),
                      std::make_unique<char[]>(n));
        arena_sizes_.insert(arena_sizes_.begin() + static_cast<std::ptrdiff_t>(arena_used_), n);
        arena_pos_ = arena_[arena_used_].get();
        arena_left_ = n;
      }
      ++arena_used_;
    }
    char* p = arena_pos_;
    arena_pos_ += len;
    arena_left_ -= len;
    return p;
  }
  const char* Store(std::string_view key) {
    char* p = Allocate(key.size());
    if (!key.empty()) std::memcpy(p, key.data(), key.size());
    return p;
  }
  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      for (size_t i = s.hash & mask;; i = (i + 1) & mask) {
        if (slots_[i].hash == 0) {
          slots_[i] = s;
          break;
        }
      }
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  std::vector<std::unique_ptr<char[]>> arena_;
  std::vector<size_t> arena_sizes_;
  size_t arena_used_ = 0;
  char* arena_pos_ = nullptr;
  size_t arena_left_ = 0;
  size_t next_chunk_ = 8 << 10;  // arena chunks grow from 16 KiB to 1 MiB
};

// How many lookups ahead callers prefetch a large table's slots (FlatStringMap::Prefetch,
// FpSet::Prefetch) when they probe it for a run of keys, so that the cache misses overlap.
inline constexpr size_t kPrefetchAhead = 8;

// An open-addressing set of 64-bit fingerprints (0 is the empty slot; fingerprint 0 is stored as 1,
// which only makes a rare extra exact check).
class FpSet {
 public:
  bool Contains(uint64_t fp) const {
    if (slots_.empty()) return false;
    fp = fp ? fp : 1;
    size_t mask = slots_.size() - 1;
    for (size_t i = fp & mask;; i = (i + 1) & mask) {
      if (slots_[i] == fp) return true;
      if (slots_[i] == 0) return false;
    }
  }
  void Insert(uint64_t fp) {
    fp = fp ? fp : 1;
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = fp & mask;; i = (i + 1) & mask) {
      if (slots_[i] == fp) return;
      if (slots_[i] == 0) {
        slots_[i] = fp;
        ++size_;
        return;
      }
    }
  }
  size_t size() const { return size_; }
  // A partition's set outgrows the caches (8 bytes a slot, ~1.5 slots per stored event), so a
  // batch's probes are issued ahead of their lookups.
  void Prefetch(uint64_t fp) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[(fp ? fp : 1) & (slots_.size() - 1)]);
  }

 private:
  void Grow() {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    size_ = 0;
    for (uint64_t v : old) {
      if (v != 0) Insert(v);
    }
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

// How many commits in flight hold each identity (IndexState::pending), open-addressed like FpSet,
// so reserving and releasing a batch's identities allocates nothing per event. Holds at most the
// events of the commits in flight.
class FpCounts {
 public:
  bool empty() const { return size_ == 0; }
  bool Contains(uint64_t k) const {
    if (size_ == 0) return false;
    for (size_t i = Home(k);; i = Next(i)) {
      if (slots_[i].first == Key(k)) return true;
      if (slots_[i].first == 0) return false;
    }
  }
  void Add(uint64_t k) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    for (size_t i = Home(k);; i = Next(i)) {
      if (slots_[i].first == Key(k)) {
        ++slots_[i].second;
        return;
      }
      if (slots_[i].first == 0) {
        slots_[i] = {Key(k), 1};
        ++size_;
        return;
      }
    }
  }
  void Release(uint64_t k) {
    if (size_ == 0) return;
    for (size_t i = Home(k);; i = Next(i)) {
      if (slots_[i].first == 0) return;
      if (slots_[i].first == Key(k)) {
        if (--slots_[i].second == 0) Erase(i);
        return;
      }
    }
  }

 private:
  static uint64_t Key(uint64_t k) { return k ? k : 1; }
  size_t Home(uint64_t k) const { return Key(k) & (slots_.size() - 1); }
  size_t Next(size_t i) const { return (i + 1) & (slots_.size() - 1); }
  // Linear probing without tombstones: the entries after the hole that may move back fill it.
  void Erase(size_t hole) {
    for (size_t j = Next(hole); slots_[j].first != 0; j = Next(j)) {
      const size_t home = Home(slots_[j].first);
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = {0, 0};
    --size_;
  }
  void Grow() {
    std::vector<std::pair<uint64_t, uint32_t>> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, {0, 0});
    for (const auto& [k, n] : old) {
      if (k == 0) continue;
      size_t i = Home(k);
      while (slots_[i].first != 0) i = Next(i);
      slots_[i] = {k, n};
    }
  }
  std::vector<std::pair<uint64_t, uint32_t>> slots_;
  size_t size_ = 0;
};

}  // namespace cairn::store
