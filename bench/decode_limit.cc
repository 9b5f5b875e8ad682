// decode_limit: the machine's decode+parse limit for a set of CloudTrail files — gunzip (ISA-L)
// and a full simdjson parse of each file, on N threads, nothing else. `cairn ingest --sink null`
// is measured against this number in bench/run.sh.
//
// Usage: decode_limit THREADS FILE...   (prints one JSON line)

#include <isa-l/igzip_lib.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

// A growable output buffer that is never zero-filled (the limit should not pay for memset).
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t size = 0, capacity = 0;
  void Reserve(size_t n) {
    if (n <= capacity) return;
    size_t cap = std::max(n, capacity * 2);
    std::unique_ptr<char[]> bigger(new char[cap + simdjson::SIMDJSON_PADDING]);
    if (size > 0) std::memcpy(bigger.get(), data.get(), size);
    data = std::move(bigger);
    capacity = cap;
  }
};

bool Gunzip(const std::string& in, Buffer* out) {
  out->size = 0;
  size_t pos = 0;
  while (pos < in.size()) {
    inflate_state state;
    isal_inflate_init(&state);
    state.crc_flag = ISAL_GZIP;
    state.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data() + pos));
    state.avail_in = static_cast<uint32_t>(in.size() - pos);
    while (true) {
      out->Reserve(out->size + (1 << 20));
      size_t room = out->capacity - out->size;
      state.next_out = reinterpret_cast<uint8_t*>(out->data.get() + out->size);
      state.avail_out = static_cast<uint32_t>(room);
      int rc = isal_inflate(&state);
      out->size += room - state.avail_out;
      if (rc != ISAL_DECOMP_OK) return false;
      if (state.block_state == ISAL_BLOCK_FINISH) break;
      if (state.avail_in == 0 && state.avail_out != 0) return false;
    }
    pos = in.size() - state.avail_in;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: decode_limit THREADS FILE...\n");
    return 2;
  }
  int threads = std::atoi(argv[1]);
  std::vector<std::string> files(argv + 2, argv + argc);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> records{0}, in_bytes{0}, out_bytes{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      simdjson::dom::parser parser;
      std::string raw;
      Buffer text;
      for (size_t i; (i = next.fetch_add(1)) < files.size();) {
        FILE* f = std::fopen(files[i].c_str(), "rb");
        if (f == nullptr) continue;
        std::fseek(f, 0, SEEK_END);
        raw.resize(static_cast<size_t>(std::ftell(f)));
        std::fseek(f, 0, SEEK_SET);
        size_t got = std::fread(raw.data(), 1, raw.size(), f);
        std::fclose(f);
        raw.resize(got);
        in_bytes += raw.size();
        const char* doc = raw.data();
        size_t doc_size = raw.size();
        if (raw.size() > 2 && static_cast<uint8_t>(raw[0]) == 0x1f &&
            static_cast<uint8_t>(raw[1]) == 0x8b) {
          if (!Gunzip(raw, &text)) {
            std::fprintf(stderr, "bad gzip: %s\n", files[i].c_str());
            continue;
          }
          doc = text.data.get();
          doc_size = text.size;
        }
        out_bytes += doc_size;
        simdjson::dom::element root;
        if (parser.parse(doc, doc_size, doc == raw.data()).get(root) != simdjson::SUCCESS) continue;
        simdjson::dom::array recs;
        if (root["Records"].get_array().get(recs) == simdjson::SUCCESS) records += recs.size();
      }
    });
  }
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"threads\":%d,\"files\":%zu,\"events\":%llu,\"input_bytes\":%llu,\"decoded_bytes\":%llu,"
      "\"seconds\":%.3f,\"events_per_second\":%.0f}\n",
      threads, files.size(), static_cast<unsigned long long>(records.load()),
      static_cast<unsigned long long>(in_bytes.load()),
      static_cast<unsigned long long>(out_bytes.load()), secs, records / secs);
  return 0;
}
