// Events of a segment: raw event blocks (sections 1 and 2), the time column (section 4), the ids
// (section 5), and whole events with their metadata.

#include <algorithm>
#include <atomic>

#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store {

using internal::DecodedBlock;
using internal::Frame;
using internal::Ids;

namespace internal {

namespace {

// Splits a block's raw content (`size` bytes) into its `count` events: the length varints, then
// the bytes.
Status DecodeBlock(std::unique_ptr<char[]> raw, size_t size, uint32_t count, DecodedBlock* out,
                   std::string_view what) {
  if (count > size) return Corruption("{}: {} events cannot fit in {} bytes", what, count, size);
  Reader r(std::string_view(raw.get(), size));
  std::vector<uint32_t> lens(count);
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (!r.GetVarint32(&lens[i])) return Corruption("{}: block lengths truncated", what);
    total += lens[i];
  }
  const size_t header = size - r.remaining();
  if (total != r.remaining()) return Corruption("{}: block length mismatch", what);
  out->offsets.resize(count + 1);
  uint32_t pos = static_cast<uint32_t>(header);
  for (uint32_t i = 0; i < count; ++i) {
    out->offsets[i] = pos;
    pos += lens[i];
  }
  out->offsets[count] = pos;
  out->bytes = std::move(raw);
  out->size = size;
  return Status::Ok();
}

}  // namespace

Status ReadBlock(const Impl& m, uint32_t b, DecodedBlock* out) {
  const BlockInfo& info = m.blocks[b];
  std::unique_ptr<char[]> raw;
  RETURN_IF_ERROR(ReadFrame(*m.file, Frame{info.offset, info.csize, info.rsize, info.crc}, &raw,
                            fmt::format("block {}", b)));
  return DecodeBlock(std::move(raw), info.rsize, info.count, out,
                     fmt::format("{}: block {}", m.file->path(), b));
}

SharedCache<DecodedBlock>& EventBlockCache() {
  static auto* cache = new SharedCache<DecodedBlock>(32 << 20);
  return *cache;
}

uint64_t NextCacheId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Result<std::shared_ptr<const DecodedBlock>> LoadBlock(const Impl& cm, uint32_t b) {
  auto& m = const_cast<Impl&>(cm);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (auto hit = m.recent_blocks.Get(b)) return hit;
  }
  std::shared_ptr<const DecodedBlock> block = EventBlockCache().Get(m.cache_id, b);
  if (!block) {
    auto read = std::make_shared<DecodedBlock>();
    RETURN_IF_ERROR(ReadBlock(m, b, read.get()));
    EventBlockCache().Put(m.cache_id, b, read,
                          read->size + read->offsets.capacity() * sizeof(uint32_t));
    block = std::move(read);
  }
  std::lock_guard<std::mutex> lock(m.mu);
  m.recent_blocks.Put(b, block);
  return block;
}

SharedCache<LaneMap>& LaneMapCache() {
  static auto* cache = new SharedCache<LaneMap>(64 << 20);
  return *cache;
}

namespace {

Result<std::shared_ptr<const LaneMap>> BuildLaneMap(const Impl& m) {
  const std::string& path = m.file->path();
  const uint32_t count = m.event_count;
  std::string lanes;
  RETURN_IF_ERROR(ReadSection(*m.file, m.section(SectionId::kLanes), &lanes, "lanes", count));
  if (lanes.size() != count) {
    return Corruption("{}: lanes section holds {} events, the segment {}", path, lanes.size(),
                      count);
  }
  // Each lane's events must be what its blocks hold (checked at open to follow each other).
  std::vector<uint32_t> in_lane(m.lane_count, 0), in_blocks(m.lane_count, 0);
  for (char c : lanes) {
    const uint8_t l = static_cast<uint8_t>(c);
    if (l >= m.lane_count) return Corruption("{}: an event of lane {} has no block", path, l);
    ++in_lane[l];
  }
  for (const BlockInfo& b : m.blocks) in_blocks[b.lane] += b.count;
  if (in_lane != in_blocks) return Corruption("{}: lanes disagree with the blocks", path);
  auto map = std::make_shared<LaneMap>();
  map->count = count;
  map->base.assign(m.lane_count + 1, 0);
  for (uint32_t l = 0; l < m.lane_count; ++l) map->base[l + 1] = map->base[l] + in_lane[l];
  std::vector<uint32_t> next(map->base.begin(), map->base.end() - 1);
  // Filled below, every entry once (not zeroed first).
  map->ordinals.reset(new uint32_t[count]);
  map->at.reset(new uint32_t[count]);
  for (uint32_t o = 0; o < count; ++o) {
    const uint32_t p = next[static_cast<uint8_t>(lanes[o])]++;
    map->ordinals[p] = o;
    map->at[o] = p;
  }
  map->blocks.resize(m.lane_count);
  for (uint32_t b = 0; b < m.blocks.size(); ++b) map->blocks[m.blocks[b].lane].push_back(b);
  for (auto& bs : map->blocks) {
    std::sort(bs.begin(), bs.end(),
              [&](uint32_t x, uint32_t y) { return m.blocks[x].first < m.blocks[y].first; });
  }
  return std::shared_ptr<const LaneMap>(std::move(map));
}

}  // namespace

Result<std::shared_ptr<const LaneMap>> LoadLanes(const Impl& m) {
  if (!m.laned) return std::shared_ptr<const LaneMap>();
  // Each thread keeps the map of the segment it read last: a scan asks for it once per event, and
  // the shared cache's lock would be taken that often otherwise. (Cache ids are never reused.)
  thread_local uint64_t last_id = 0;
  thread_local std::shared_ptr<const LaneMap> last;
  if (last_id == m.cache_id && last) return last;
  std::shared_ptr<const LaneMap> map = LaneMapCache().Get(m.cache_id, 0);
  if (!map) {
    ASSIGN_OR_RETURN(map, BuildLaneMap(m));
    LaneMapCache().Put(m.cache_id, 0, map, map->bytes());
  }
  last_id = m.cache_id;
  last = map;
  return map;
}

uint32_t BlockOf(const Impl& m, const LaneMap* lanes, uint32_t ordinal) {
  if (lanes) {
    const uint32_t p = lanes->at[ordinal];
    const uint32_t lane = static_cast<uint32_t>(
        std::upper_bound(lanes->base.begin(), lanes->base.end(), p) - lanes->base.begin() - 1);
    const uint32_t rank = p - lanes->base[lane];
    const auto& bs = lanes->blocks[lane];
    auto it = std::upper_bound(bs.begin(), bs.end(), rank,
                               [&](uint32_t r, uint32_t b) { return r < m.blocks[b].first; });
    return *(it - 1);
  }
  auto it = std::upper_bound(m.blocks.begin(), m.blocks.end(), ordinal,
                             [](uint32_t o, const BlockInfo& b) { return o < b.first; });
  return static_cast<uint32_t>(it - m.blocks.begin()) - 1;
}

uint32_t PlaceInBlock(const Impl& m, const LaneMap* lanes, uint32_t b, uint32_t ordinal) {
  const BlockInfo& info = m.blocks[b];
  return lanes ? lanes->at[ordinal] - lanes->base[info.lane] - info.first : ordinal - info.first;
}

uint32_t OrdinalAt(const Impl& m, const LaneMap* lanes, uint32_t b, uint32_t i) {
  const BlockInfo& info = m.blocks[b];
  return lanes ? lanes->ordinals[lanes->base[info.lane] + info.first + i] : info.first + i;
}

Status ScanRaw(const Impl& m, const std::function<void(uint32_t, std::string_view)>& fn) {
  if (!m.laned) {
    for (uint32_t b = 0; b < m.blocks.size(); ++b) {
      DecodedBlock block;
      RETURN_IF_ERROR(ReadBlock(m, b, &block));
      for (uint32_t i = 0; i < m.blocks[b].count; ++i) fn(m.blocks[b].first + i, block.Get(i));
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto lanes, LoadLanes(m));
  std::vector<DecodedBlock> open(m.lane_count);
  std::vector<uint32_t> open_id(m.lane_count, UINT32_MAX);
  for (uint32_t o = 0; o < m.event_count; ++o) {
    const uint32_t b = BlockOf(m, lanes.get(), o);
    const uint32_t lane = m.blocks[b].lane;
    if (open_id[lane] != b) {
      RETURN_IF_ERROR(ReadBlock(m, b, &open[lane]));
      open_id[lane] = b;
    }
    fn(o, open[lane].Get(PlaceInBlock(m, lanes.get(), b, o)));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Ids>> LoadIds(Impl& m, const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.ids) return m.ids;
  }
  const uint32_t count = m.event_count;
  auto ids = std::make_shared<Ids>();
  std::string section;
  RETURN_IF_ERROR(ReadSection(*m.file, m.section(SectionId::kIds), &section, "ids"));
  Reader r(section);
  uint64_t nacc;
  if (!r.GetVarint(&nacc) || nacc > uint64_t{count} + 1 || nacc > r.remaining()) {
    return Corruption("{}: ids section malformed", path);
  }
  for (uint64_t i = 0; i < nacc; ++i) {
    std::string_view a;
    if (!r.GetLengthPrefixed(&a)) return Corruption("{}: ids section truncated", path);
    ids->accounts.emplace_back(a);
  }
  if (r.remaining() < count)
    return Corruption("{}: ids section too short for {} events", path, count);
  ids->account_of.reserve(count);
  std::vector<std::pair<uint32_t, uint32_t>> where(count);  // (offset, length) in ids->data
  std::vector<uint32_t> derived;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t v;
    if (!r.GetVarint(&v) || (v >> 1) >= nacc) {
      return Corruption("{}: ids section truncated at event {}", path, i);
    }
    ids->account_of.push_back(static_cast<uint32_t>(v >> 1));
    if (v & 1) {
      derived.push_back(i);
      continue;
    }
    std::string_view id;
    if (!r.GetLengthPrefixed(&id))
      return Corruption("{}: ids section truncated at event {}", path, i);
    where[i] = {static_cast<uint32_t>(ids->data.size()), static_cast<uint32_t>(id.size())};
    ids->data.append(id);
  }
  if (r.remaining() != 0) return Corruption("{}: ids section has trailing bytes", path);
  if (!derived.empty()) {
    size_t next = 0;
    Status bad;
    RETURN_IF_ERROR(ScanRaw(m, [&](uint32_t o, std::string_view raw) {
      if (next >= derived.size() || derived[next] != o || !bad.ok()) return;
      ++next;
      size_t at = FindEventIdMarker(raw);
      size_t start = at + kEventIdMarker.size();
      size_t end = at == std::string_view::npos ? at : raw.find('"', start);
      if (end == std::string_view::npos) {
        bad = Corruption("{}: event {} has no eventID to take its id from", path, o);
        return;
      }
      where[o] = {static_cast<uint32_t>(ids->data.size()), static_cast<uint32_t>(end - start)};
      ids->data.append(raw.substr(start, end - start));
    }));
    RETURN_IF_ERROR(bad);
    if (next != derived.size()) return Corruption("{}: ids reference missing events", path);
  }
  ids->event_id.reserve(count);
  ids->by_fp.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view id = std::string_view(ids->data).substr(where[i].first, where[i].second);
    ids->event_id.push_back(id);
    ids->by_fp.emplace_back(IdFingerprint(ids->accounts[ids->account_of[i]], id), i);
  }
  std::sort(ids->by_fp.begin(), ids->by_fp.end());
  std::lock_guard<std::mutex> lock(m.mu);
  m.ids = ids;
  return m.ids;
}

}  // namespace internal

// ---------------------------------------------------------------- time

Result<std::shared_ptr<const std::vector<int64_t>>> Segment::Times() const {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.times) return m.times;
  }
  // One varint of at least one byte and at most ten per event.
  const uint64_t count = desc_.event_count;
  std::string raw;
  RETURN_IF_ERROR(
      internal::ReadSection(*m.file, m.section(SectionId::kTime), &raw, "time", 10 * count));
  if (raw.size() < count) return Corruption("{}: time column truncated", path_);
  auto times = std::make_shared<std::vector<int64_t>>();
  times->reserve(count);
  Reader r(raw);
  int64_t prev = desc_.min_time;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t z;
    if (!r.GetVarint(&z)) return Corruption("{}: time column truncated", path_);
    // Times are non-decreasing and within the footer's [min, max]: a delta is never negative.
    const int64_t delta = UnZigZag(z);
    const uint64_t room = static_cast<uint64_t>(desc_.max_time) - static_cast<uint64_t>(prev);
    if (delta < 0 || static_cast<uint64_t>(delta) > room) {
      return Corruption("{}: time column out of order at event {}", path_, i);
    }
    prev = static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(delta));
    times->push_back(prev);
  }
  if (r.remaining() != 0 || times->back() != desc_.max_time) {
    return Corruption("{}: time column inconsistent", path_);
  }
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.times) m.times = times;
  return m.times;
}

Result<std::pair<uint32_t, uint32_t>> Segment::OrdinalRange(int64_t from_ms, int64_t to_ms) const {
  if (to_ms <= desc_.min_time || from_ms > desc_.max_time) return std::make_pair(0u, 0u);
  ASSIGN_OR_RETURN(auto times, Times());
  auto lo = std::lower_bound(times->begin(), times->end(), from_ms);
  auto hi = std::lower_bound(times->begin(), times->end(), to_ms);
  return std::make_pair(static_cast<uint32_t>(lo - times->begin()),
                        static_cast<uint32_t>(hi - times->begin()));
}

// ---------------------------------------------------------------- raw events

Result<std::string> Segment::Raw(uint32_t ordinal) const {
  if (ordinal >= desc_.event_count) {
    return InvalidArgument("{}: ordinal {} out of range", path_, ordinal);
  }
  ASSIGN_OR_RETURN(auto lanes, internal::LoadLanes(*impl_));
  const uint32_t b = internal::BlockOf(*impl_, lanes.get(), ordinal);
  ASSIGN_OR_RETURN(auto block, internal::LoadBlock(*impl_, b));
  return std::string(block->Get(internal::PlaceInBlock(*impl_, lanes.get(), b, ordinal)));
}

uint32_t Segment::BlockOf(uint32_t ordinal) const {
  // A failure to read the lanes is reported by the read of the event itself.
  auto lanes = internal::LoadLanes(*impl_);
  if (!lanes.ok()) return 0;
  return internal::BlockOf(*impl_, lanes->get(), ordinal);
}

Result<std::string_view> Segment::RawView(uint32_t ordinal,
                                          std::shared_ptr<const void>* owner) const {
  if (ordinal >= desc_.event_count) {
    return InvalidArgument("{}: ordinal {} out of range", path_, ordinal);
  }
  ASSIGN_OR_RETURN(auto lanes, internal::LoadLanes(*impl_));
  const uint32_t b = internal::BlockOf(*impl_, lanes.get(), ordinal);
  ASSIGN_OR_RETURN(auto block, internal::LoadBlock(*impl_, b));
  std::string_view view = block->Get(internal::PlaceInBlock(*impl_, lanes.get(), b, ordinal));
  *owner = std::move(block);
  return view;
}

Status Segment::ForEach(const Bitmap& ordinals, bool reverse,
                        const std::function<bool(uint32_t, std::string_view)>& fn) const {
  if (ordinals.isEmpty()) return Status::Ok();
  if (ordinals.maximum() >= desc_.event_count) {
    return InvalidArgument("{}: ordinal {} out of range", path_, ordinals.maximum());
  }
  std::vector<uint32_t> ords(ordinals.cardinality());
  ordinals.toUint32Array(ords.data());
  if (reverse) std::reverse(ords.begin(), ords.end());
  const Impl& m = *impl_;
  const auto& blocks = m.blocks;
  if (m.laned) {
    // One open block per lane: a lane's events follow each other in its blocks.
    ASSIGN_OR_RETURN(auto lanes, internal::LoadLanes(m));
    std::vector<std::shared_ptr<const DecodedBlock>> open(m.lane_count);
    std::vector<uint32_t> open_id(m.lane_count, UINT32_MAX);
    for (uint32_t o : ords) {
      const uint32_t b = internal::BlockOf(m, lanes.get(), o);
      const uint32_t lane = blocks[b].lane;
      if (open_id[lane] != b) {
        ASSIGN_OR_RETURN(open[lane], internal::LoadBlock(m, b));
        open_id[lane] = b;
      }
      if (!fn(o, open[lane]->Get(internal::PlaceInBlock(m, lanes.get(), b, o)))) break;
    }
    return Status::Ok();
  }
  std::shared_ptr<const DecodedBlock> block;
  uint32_t cur = UINT32_MAX;
  for (uint32_t o : ords) {
    if (cur == UINT32_MAX || o < blocks[cur].first || o >= blocks[cur].first + blocks[cur].count) {
      cur = internal::BlockOf(m, nullptr, o);
      ASSIGN_OR_RETURN(block, internal::LoadBlock(m, cur));
    }
    if (!fn(o, block->Get(o - blocks[cur].first))) break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- ids

Result<bool> Segment::ContainsId(std::string_view account, std::string_view event_id) const {
  ASSIGN_OR_RETURN(auto ids, internal::LoadIds(*impl_, path_));
  uint64_t fp = IdFingerprint(account, event_id);
  auto it = std::lower_bound(ids->by_fp.begin(), ids->by_fp.end(), std::make_pair(fp, 0u));
  for (; it != ids->by_fp.end() && it->first == fp; ++it) {
    uint32_t o = it->second;
    if (ids->event_id[o] == event_id && ids->accounts[ids->account_of[o]] == account) return true;
  }
  return false;
}

Status Segment::ForEachId(const std::function<void(std::string_view, std::string_view)>& fn) const {
  ASSIGN_OR_RETURN(auto ids, internal::LoadIds(*impl_, path_));
  for (uint32_t i = 0; i < desc_.event_count; ++i) {
    fn(ids->accounts[ids->account_of[i]], ids->event_id[i]);
  }
  return Status::Ok();
}

void Segment::DropIdCache() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ids.reset();
}

void Segment::DropEventCaches() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ids.reset();
  impl_->times.reset();
  for (internal::ColumnSlot& slot : impl_->cols) slot.column.reset();
}

// ---------------------------------------------------------------- whole events

namespace {

// What an event carries besides its raw JSON, for every ordinal of a segment.
struct Metadata {
  std::shared_ptr<const std::vector<int64_t>> times;
  std::shared_ptr<const Ids> ids;
  std::shared_ptr<const Column> sourcetype, source;
  std::shared_ptr<const Column> host;    // null: a segment written before the host column
  std::shared_ptr<const Column> fields;  // null: likewise, before the indexed fields column

  void Fill(uint32_t o, cloudtrail::Event* e) const {
    e->time_ms = (*times)[o];
    e->account = ids->accounts[ids->account_of[o]];
    e->event_id = std::string(ids->event_id[o]);
    e->sourcetype = std::string(sourcetype->Value(o));
    e->source = std::string(source->Value(o));
    if (host && host->codes[o] != 0) e->host = std::string(host->Value(o));
    if (fields && fields->codes[o] != 0) e->fields = std::string(fields->Value(o));
  }
};

Result<Metadata> LoadMetadata(const Segment& seg) {
  Metadata md;
  ASSIGN_OR_RETURN(md.times, seg.Times());
  ASSIGN_OR_RETURN(md.sourcetype, seg.GetColumn("sourcetype"));
  ASSIGN_OR_RETURN(md.source, seg.GetColumn("source"));
  for (auto [name, dest] : {std::pair{std::string_view("host"), &md.host},
                            std::pair{kIndexedFieldsColumnName, &md.fields}}) {
    auto col = seg.GetColumn(name);
    if (col.ok()) {
      *dest = *std::move(col);
    } else if (col.status().code() != StatusCode::kNotFound) {
      return col.status();
    }
  }
  return md;
}

}  // namespace

Result<cloudtrail::Event> Segment::ReadEvent(uint32_t ordinal) const {
  if (ordinal >= desc_.event_count) {
    return InvalidArgument("{}: ordinal {} out of range", path_, ordinal);
  }
  cloudtrail::Event e;
  ASSIGN_OR_RETURN(e.raw, Raw(ordinal));
  ASSIGN_OR_RETURN(Metadata md, LoadMetadata(*this));
  ASSIGN_OR_RETURN(md.ids, internal::LoadIds(*impl_, path_));
  md.Fill(ordinal, &e);
  return e;
}

Status Segment::ForEachEvent(const std::function<Status(uint32_t, cloudtrail::Event&&)>& fn) const {
  ASSIGN_OR_RETURN(Metadata md, LoadMetadata(*this));
  ASSIGN_OR_RETURN(md.ids, internal::LoadIds(*impl_, path_));
  Status result;
  RETURN_IF_ERROR(internal::ScanRaw(*impl_, [&](uint32_t o, std::string_view raw) {
    if (!result.ok()) return;
    cloudtrail::Event e;
    e.raw = std::string(raw);
    md.Fill(o, &e);
    result = fn(o, std::move(e));
  }));
  return result;
}

Status Segment::ReadEvents(uint32_t first, uint32_t n, std::vector<cloudtrail::Event>* out) const {
  if (n == 0) return Status::Ok();
  if (uint64_t{first} + n > desc_.event_count) {
    return InvalidArgument("{}: range out of bounds", path_);
  }
  ASSIGN_OR_RETURN(Metadata md, LoadMetadata(*this));
  ASSIGN_OR_RETURN(md.ids, internal::LoadIds(*impl_, path_));
  Bitmap range;
  range.addRange(first, uint64_t{first} + n);
  return ForEach(range, false, [&](uint32_t o, std::string_view raw) {
    cloudtrail::Event e;
    e.raw = std::string(raw);
    md.Fill(o, &e);
    out->push_back(std::move(e));
    return true;
  });
}

}  // namespace cairn::store
