#include "query/row.h"

#include <simdjson.h>

#include <cmath>

#include "query/extract.h"
#include "query/time_format.h"

namespace cairn::query {

Row Row::FromEvent(EventView event, const Extraction* extraction) {
  Row r;
  r.event_ = std::move(event);
  r.extraction_ = extraction;
  return r;
}

EventFields& Row::cache() {
  if (!cache_) cache_ = std::make_shared<EventFields>();
  return *cache_;
}

const Values* Row::Get(std::string_view name) {
  auto it = fields_.find(name);
  if (it != fields_.end()) return it->second.empty() ? nullptr : &it->second;
  if (!extraction_ || all_) return nullptr;
  if (base_mode_) return extraction_->Base(*this, name);
  if (internal_only_ && (name.empty() || name[0] != '_')) return nullptr;
  Values v = extraction_->Field(*this, name);
  it = fields_.emplace(std::string(name), std::move(v)).first;
  return it->second.empty() ? nullptr : &it->second;
}

std::string Row::GetFirst(std::string_view name) {
  const Values* v = Get(name);
  return v ? v->front() : std::string();
}

void Row::Set(const std::string& name, Values v) {
  modified_ = true;
  if (v.empty() && (!extraction_ || all_)) {
    fields_.erase(name);
    return;
  }
  fields_[name] = std::move(v);  // empty: removed, so extraction does not bring it back
}

void Row::Remove(std::string_view name) {
  modified_ = true;
  auto it = fields_.find(name);
  if (!extraction_ || all_) {
    if (it != fields_.end()) fields_.erase(it);
    return;
  }
  if (it != fields_.end()) {
    it->second.clear();
  } else {
    fields_.emplace(std::string(name), Values{});
  }
}

void Row::MaterializeAll() {
  if (!extraction_ || all_ || base_mode_) return;
  for (const char* b : {"_time", "_raw", "index", "sourcetype", "source", "host"}) {
    if (internal_only_ && b[0] != '_') continue;
    if (!fields_.count(b)) fields_.emplace(b, extraction_->Field(*this, b));
  }
  FieldMap extracted = extraction_->All(*this);
  if (internal_only_) std::erase_if(extracted, [](const auto& kv) { return kv.first[0] != '_'; });
  // What the row already holds (a few fields) wins over what extraction found.
  for (auto& [k, v] : fields_) extracted.insert_or_assign(k, std::move(v));
  fields_ = std::move(extracted);
  std::erase_if(fields_, [](const auto& kv) { return kv.second.empty(); });
  all_ = true;
}

FieldMap& Row::fields() {
  MaterializeAll();
  return fields_;
}

double Row::time() {
  auto it = fields_.find("_time");
  if (it != fields_.end()) {
    if (it->second.empty()) return 0;
    auto n = ParseNumber(it->second.front());
    return n ? *n : 0;
  }
  if (extraction_ && !all_) return event_.time;
  return 0;
}

void Row::Restrict(const std::vector<std::string>& keep) {
  FieldMap kept;
  for (const auto& name : keep) {
    if (kept.count(name)) continue;
    if (const Values* v = Get(name)) kept.emplace(name, *v);
  }
  for (auto& [k, v] : fields_) {
    if (!k.empty() && k[0] == '_') kept.try_emplace(k, std::move(v));
  }
  fields_ = std::move(kept);
  internal_only_ = true;
}

void Row::Compact() {
  if (!extraction_ || !event_.origin) return;
  event_.raw = {};
  event_.raw_loaded = false;
  event_.owner.reset();
  if (cache_ && cache_->raw_held) {
    cache_->raw = {};
    cache_->raw_owner.reset();
    cache_->raw_held = false;
  }
}

size_t Row::MemoryUsage() const {
  constexpr size_t kNode = 64;  // a map node and its bookkeeping
  size_t n = sizeof(Row);
  for (const auto& [k, v] : fields_) {
    n += kNode + k.capacity() + v.capacity() * sizeof(std::string);
    for (const auto& s : v) n += s.capacity() > 15 ? s.capacity() : 0;
  }
  if (extraction_ && event_.raw_loaded && event_.origin) n += event_.raw.size();
  if (cache_) {
    n += sizeof(EventFields) + cache_->raw.size();
    for (const auto& v : cache_->slots) {
      for (const auto& s : v) n += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() : 0);
    }
    for (const auto* m : {&cache_->all, &cache_->other}) {
      for (const auto& [k, v] : *m) {
        n += kNode + k.capacity();
        for (const auto& s : v) n += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() : 0);
      }
    }
  }
  return n;
}

namespace {

void FlattenElement(simdjson::dom::element el, const std::string& path, Row* row) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::OBJECT:
      for (auto [key, child] : simdjson::dom::object(el)) {
        std::string p = path.empty() ? std::string(key) : path + "." + std::string(key);
        FlattenElement(child, p, row);
      }
      break;
    case element_type::ARRAY: {
      std::string p = path + "{}";
      for (auto child : simdjson::dom::array(el)) FlattenElement(child, p, row);
      break;
    }
    case element_type::STRING: row->AppendRaw(path, std::string(std::string_view(el))); break;
    case element_type::INT64: row->AppendRaw(path, std::to_string(int64_t(el))); break;
    case element_type::UINT64: row->AppendRaw(path, std::to_string(uint64_t(el))); break;
    case element_type::DOUBLE: row->AppendRaw(path, FormatNumber(double(el))); break;
    case element_type::BOOL: row->AppendRaw(path, bool(el) ? "true" : "false"); break;
    case element_type::NULL_VALUE: break;
  }
}

}  // namespace

bool FlattenJson(std::string_view json, const std::string& prefix, Row* row) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return false;
  FlattenElement(root, prefix, row);
  return true;
}

}  // namespace cairn::query
