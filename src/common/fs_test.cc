#include "common/fs.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

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

int Mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// CloudTrail events name people and addresses: what cairn creates is its user's alone.
TEST(FsTest, CreatesPrivateFilesAndFolders) {
  FileSystem* fs = FileSystem::Default();
  std::string dir = TempDir();
  ASSERT_TRUE(fs->CreateDirs(JoinPath(dir, "a/b/c")).ok());
  EXPECT_EQ(Mode(JoinPath(dir, "a")), 0700);
  EXPECT_EQ(Mode(JoinPath(dir, "a/b")), 0700);
  EXPECT_EQ(Mode(JoinPath(dir, "a/b/c")), 0700);
  EXPECT_TRUE(fs->CreateDirs(JoinPath(dir, "a/b/c")).ok());  // exists: fine
  ASSERT_TRUE(WriteFileAtomic(fs, JoinPath(dir, "a/f"), "x").ok());
  EXPECT_EQ(Mode(JoinPath(dir, "a/f")), 0600);
  EXPECT_FALSE(fs->CreateDirs(JoinPath(dir, "a/f/g")).ok());  // a file in the way
  {
    auto log = fs->NewAppendableFile(JoinPath(dir, "a/log"));
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("one\n").ok());
  }
  auto log = fs->NewAppendableFile(JoinPath(dir, "a/log"));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->Size(), 4u);
  ASSERT_TRUE((*log)->Append("two\n").ok());
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_EQ(*ReadFileToString(fs, JoinPath(dir, "a/log")), "one\ntwo\n");
  EXPECT_EQ(Mode(JoinPath(dir, "a/log")), 0600);
  ASSERT_TRUE(fs->RemoveAll(dir).ok());
}

TEST(FsTest, LockFileIsExclusiveUntilReleased) {
  FileSystem* fs = FileSystem::Default();
  std::string dir = TempDir();
  const std::string path = JoinPath(dir, "LOCK");
  auto first = fs->LockFile(path, /*wait=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Mode(path), 0600);
  ASSERT_TRUE((*first)->WriteContents("1234\n").ok());
  ASSERT_TRUE((*first)->WriteContents("42\n").ok());  // replaces, not appends
  EXPECT_EQ(*ReadFileToString(fs, path), "42\n");
  auto second = fs->LockFile(path, /*wait=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  first->reset();
  auto third = fs->LockFile(path, /*wait=*/true);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
  ASSERT_TRUE(fs->RemoveAll(dir).ok());
}

}  // namespace
}  // namespace cairn
