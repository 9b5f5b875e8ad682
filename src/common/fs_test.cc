#include "common/fs.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace cairn {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/cairn_fs_test_XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(FsTest, AtomicWriteAndRead) {
  FileSystem* fs = FileSystem::Default();
  std::string dir = TempDir();
  std::string path = JoinPath(dir, "manifest");
  ASSERT_TRUE(WriteFileAtomic(fs, path, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(fs, path, "two").ok());
  EXPECT_EQ(*ReadFileToString(fs, path), "two");
  EXPECT_FALSE(fs->Exists(path + ".tmp"));
  auto too_big = ReadFileToString(fs, path, 2);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  auto missing = ReadFileToString(fs, JoinPath(dir, "nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  ASSERT_TRUE(fs->RemoveAll(dir).ok());
}

TEST(FsTest, RandomAccessAndListing) {
  FileSystem* fs = FileSystem::Default();
  std::string dir = TempDir();
  ASSERT_TRUE(fs->CreateDirs(JoinPath(dir, "a/b")).ok());
  ASSERT_TRUE(WriteFileAtomic(fs, JoinPath(dir, "f"), "0123456789").ok());
  auto f = fs->NewRandomAccessFile(JoinPath(dir, "f"));
  ASSERT_TRUE(f.ok());
  char buf[4];
  ASSERT_TRUE((*f)->ReadExact(3, 4, buf).ok());
  EXPECT_EQ(std::string(buf, 4), "3456");
  EXPECT_EQ((*f)->ReadExact(8, 4, buf).code(), StatusCode::kCorruption);
  auto entries = fs->ListDir(dir);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u);
  EXPECT_EQ(DirName("/x/y/z"), "/x/y");
  EXPECT_EQ(BaseName("/x/y/z"), "z");
  ASSERT_TRUE(fs->RemoveAll(dir).ok());
}

}  // namespace
}  // namespace cairn
