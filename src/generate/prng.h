#pragma once
// The generator's own pseudo-random numbers. Output must be identical on every platform and
// library version, so nothing here uses <random> distributions (whose results are unspecified
// across implementations) or floating-point transcendental functions.
//
// Rng is xoshiro256** seeded through splitmix64. It is a value type; one per thread or task.

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::generate {

// One step of splitmix64: a good 64-bit mixer for deriving seeds from identities.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Mixes a list of integers into one 64-bit seed (order matters).
inline uint64_t MixSeed(std::initializer_list<uint64_t> parts) {
  uint64_t state = 0x6A09E667F3BCC908ull;
  uint64_t out = 0;
  for (uint64_t p : parts) {
    state ^= p;
    out = SplitMix64(&state);
    state = out;
  }
  return out;
}

// FNV-1a, for folding short names into seeds.
inline uint64_t HashName(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = SplitMix64(&sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) (Lemire's multiply-shift; the tiny bias is irrelevant here). n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  // True with probability per_mille / 1000.
  bool Chance(uint32_t per_mille) { return Below(1000) < per_mille; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Appends `n` characters drawn from `alphabet`.
inline void AppendRandomChars(Rng* rng, std::string* out, size_t n, std::string_view alphabet) {
  for (size_t i = 0; i < n; ++i) out->push_back(alphabet[rng->Below(alphabet.size())]);
}

inline constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
inline constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kLowerHex = "0123456789abcdef";
inline constexpr std::string_view kDigits = "0123456789";

// Appends a version-4 UUID in lower-case 8-4-4-4-12 form.
inline void AppendUuid(Rng* rng, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = rng->Next(), b = rng->Next();
  a = (a & ~0xF000ull) | 0x4000ull;              // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[36];
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[pos++] = '-';
    uint64_t w = i < 16 ? a : b;
    buf[pos++] = kHex[(w >> (60 - 4 * (i % 16))) & 0xF];
  }
  out->append(buf, 36);
}

}  // namespace cairn::generate
