#include "common/json_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

namespace cairn {
namespace {

TEST(JsonUtilTest, Escapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonString("héllo"), "\"héllo\"");
  // Escapes at both ends, runs between them, every control byte, appended to existing text.
  EXPECT_EQ(JsonString("\"x\""), "\"\\\"x\\\"\"");
  EXPECT_EQ(JsonString(""), "\"\"");
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  std::string escaped = JsonString(controls + "end");
  auto parsed = simdjson::padded_string(escaped);
  simdjson::dom::parser parser;
  std::string_view back;
  ASSERT_EQ(parser.parse(parsed).get_string().get(back), simdjson::SUCCESS);
  EXPECT_EQ(back, controls + "end");
  std::string out = "{";
  AppendJsonString(&out, "tab\there");
  EXPECT_EQ(out, "{\"tab\\there\"");
}

// The word-at-a-time scan against a byte-at-a-time reference, escapes at every offset.
TEST(JsonUtilTest, EscapesAtEveryOffsetOfLongText) {
  auto reference = [](std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "";
        if (c != '\n' && c != '\t') out += fmt::format("\\u{:04x}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  const std::string specials = std::string("\"\\\n\t\x01\x1f", 6);
  for (size_t len : {1u, 7u, 8u, 9u, 16u, 31u, 64u}) {
    for (size_t at = 0; at < len; ++at) {
      for (char special : specials) {
        std::string text(len, 'a');
        text[len / 2] = '\xc3';  // a UTF-8 lead byte stays as it is
        text[at] = special;
        ASSERT_EQ(JsonString(text), reference(text)) << "length " << len << " offset " << at;
      }
    }
  }
}

TEST(JsonUtilTest, Utf8Validation) {
  size_t off = 0;
  EXPECT_TRUE(ValidUtf8("plain ascii and é"));
  EXPECT_FALSE(ValidUtf8(std::string_view("ab\xff", 3), &off));
  EXPECT_EQ(off, 2u);
  EXPECT_FALSE(ValidUtf8(std::string_view("abc\xc0\xaf", 5), &off));  // overlong '/'
  EXPECT_EQ(off, 3u);
  EXPECT_FALSE(ValidUtf8(std::string_view("x\xed\xa0\x80", 4), &off));  // surrogate
  EXPECT_EQ(off, 1u);
}

}  // namespace
}  // namespace cairn
