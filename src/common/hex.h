#pragma once

// Hexadecimal text of bytes, as digests, signatures and URL escapes write them.

#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);
// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);
// The bytes of a hex string (either case); nullopt when it has an odd length or a non-hex byte.
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace cairn
