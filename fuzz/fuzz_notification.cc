// libFuzzer target: SQS message bodies through the notification parser. Must never crash, and
// every object it returns must have a bucket and a key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collect/notification.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  cairn::collect::Notification n = cairn::collect::ParseNotification(body);
  for (const auto& o : n.objects) {
    if (o.bucket.empty() || o.key.empty()) std::abort();
  }
  (void)cairn::collect::DecodeS3EventKey(body);
  return 0;
}
