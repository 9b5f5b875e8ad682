// Fuzzes ReadEvents over arbitrary bytes (plain or gzip). Invariants checked beyond "no crash,
// no sanitizer report": reading with 3-byte source reads gives exactly the same outcome as
// reading whole, the streaming reader alone (whole_file_bytes = 0) the same as the whole-file
// path, and every emitted event is a well-formed JSON object with an identity.

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cloudtrail/memory_file.h"
#include "cloudtrail/reader.h"

namespace {

using cairn::Result;
using cairn::Status;
using cairn::cloudtrail::Event;
using cairn::cloudtrail::FileSummary;

struct Outcome {
  Result<FileSummary> summary = Status(cairn::StatusCode::kInternal, "");
  std::vector<std::string> raws;
};

Outcome Read(const std::string& bytes, size_t max_read, bool streaming_only = false) {
  cairn::cloudtrail::ReaderOptions options;
  if (streaming_only) options.whole_file_bytes = 0;
  options.max_decompressed_bytes = 16 << 20;
  options.max_event_bytes = 1 << 20;
  Outcome out;
  simdjson::dom::parser parser;
  out.summary = cairn::cloudtrail::ReadEvents(
      std::make_unique<cairn::cloudtrail::StringSequentialFile>(bytes, max_read), "fuzz", options,
      [&](Event&& e) {
        simdjson::dom::element doc;
        if (parser.parse(e.raw.view()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
          std::fprintf(stderr, "emitted an event that is not a JSON object\n");
          std::abort();
        }
        if (e.event_id.empty() || e.source != "fuzz") std::abort();
        out.raws.push_back(e.raw.str());
        return Status::Ok();
      });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  Outcome whole = Read(bytes, SIZE_MAX);
  Outcome pieces = Read(bytes, 3);
  Outcome streamed = Read(bytes, SIZE_MAX, /*streaming_only=*/true);
  // (The offset of corrupt deflate data depends on how much input ISA-L had in hand; see below.)
  if (whole.summary.ok() != streamed.summary.ok() || whole.raws != streamed.raws ||
      (!whole.summary.ok() &&
       whole.summary.status().message() != streamed.summary.status().message() &&
       whole.summary.status().message().find("corrupt gzip data") == std::string::npos)) {
    std::fprintf(stderr, "whole-file and streaming reads disagree: %s / %s\n",
                 whole.summary.status().ToString().c_str(),
                 streamed.summary.status().ToString().c_str());
    std::abort();
  }
  if (whole.summary.ok() != pieces.summary.ok() || whole.raws != pieces.raws) {
    std::fprintf(stderr, "whole and 3-byte reads disagree: %s / %s\n",
                 whole.summary.status().ToString().c_str(),
                 pieces.summary.status().ToString().c_str());
    std::abort();
  }
  // Messages must match exactly, except the approximate offset of corrupt deflate data, which
  // depends on how much input ISA-L had in hand when it noticed.
  if (!whole.summary.ok() &&
      (whole.summary.status().code() != pieces.summary.status().code() ||
       (whole.summary.status().message() != pieces.summary.status().message() &&
        whole.summary.status().message().find("corrupt gzip data") == std::string::npos))) {
    std::fprintf(stderr, "error messages differ: %s / %s\n",
                 whole.summary.status().message().c_str(),
                 pieces.summary.status().message().c_str());
    std::abort();
  }
  return 0;
}
