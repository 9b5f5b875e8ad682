#pragma once
// SHA-256 for the hot paths that name things by content (event ids of records without an
// eventID, alert ids, token checks). OpenSSL's one-shot SHA256() looks the algorithm up on every
// call (about 0.8 µs for a short input); this keeps one fetched algorithm and one context per
// thread (about 0.2 µs).
//
// Thread safety: every function may run on many threads at once.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest Sha256(std::string_view data);
// Lower-case hex of the whole digest (64 digits).
std::string Sha256Hex(std::string_view data);

// The id cairn gives a record that has no id of its own: "h:" + the first 16 bytes of the
// SHA-256 of its text, in hex (34 characters). Readers, the HTTP Event Collector and detection
// name such records alike.
std::string ContentKey(std::string_view text);

}  // namespace cairn
