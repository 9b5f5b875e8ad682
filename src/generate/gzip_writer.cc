#include "generate/gzip_writer.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>

namespace cairn::generate {

GzipCompressor::GzipCompressor() : level_buf_(ISAL_DEF_LVL1_DEFAULT) {}

Result<std::string_view> GzipCompressor::Compress(std::string_view in) {
  if (in.size() > UINT32_MAX) return InvalidArgument("gzip input of {} bytes is too large", in.size());
  const size_t want = in.size() + in.size() / 8 + 4096;
  if (out_.size() < want) out_.resize(want);
  isal_zstream s;
  isal_deflate_init(&s);
  s.level = 1;
  s.level_buf = level_buf_.data();
  s.level_buf_size = static_cast<uint32_t>(level_buf_.size());
  s.gzip_flag = IGZIP_GZIP;
  s.end_of_stream = 1;
  s.flush = NO_FLUSH;
  s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uint32_t>(in.size());
  s.next_out = out_.data();
  s.avail_out = static_cast<uint32_t>(std::min<size_t>(out_.size(), UINT32_MAX));
  for (int round = 0;; ++round) {
    if (round > 10000) return Internal("isal_deflate made no progress");
    int rc = isal_deflate(&s);
    if (rc != COMP_OK) return Internal("isal_deflate failed with code {}", rc);
    if (s.internal_state.state == ZSTATE_END) break;
    if (s.avail_out == 0) {
      size_t used = s.total_out;
      out_.resize(out_.size() * 2);
      s.next_out = out_.data() + used;
      s.avail_out = static_cast<uint32_t>(std::min<size_t>(out_.size() - used, UINT32_MAX));
    }
  }
  return std::string_view(reinterpret_cast<const char*>(out_.data()), s.total_out);
}

}  // namespace cairn::generate
