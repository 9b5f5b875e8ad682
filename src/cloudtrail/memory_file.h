#pragma once
// SequentialFile over bytes in memory: for data that arrived whole (an
// SQS-delivered object, stdin read up front), tests and fuzz targets. Reads at
// most `max_read` bytes per call so callers' refill paths can be exercised with
// tiny reads.

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "common/fs.h"

namespace cairn::cloudtrail {

class StringSequentialFile final : public SequentialFile {
 public:
  explicit StringSequentialFile(std::string data, size_t max_read = SIZE_MAX)
      : data_(std::move(data)), max_read_(max_read == 0 ? 1 : max_read) {}

  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, data_.size() - pos_, max_read_});
    if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t max_read_;
  size_t pos_ = 0;
};

}  // namespace cairn::cloudtrail
