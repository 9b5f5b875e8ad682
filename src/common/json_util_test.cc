#include "common/json_util.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(JsonUtilTest, Escapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonString("héllo"), "\"héllo\"");
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
