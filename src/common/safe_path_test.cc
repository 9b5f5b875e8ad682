#include "common/safe_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

#include "common/clock.h"
#include "common/quarantine.h"
#include "common/testing.h"

namespace cairn {
namespace {

// Every component of a relative path: not empty, not "." or "..", within the
// bound.
void ExpectSafe(const std::string &rel, const std::string &name) {
  ASSERT_FALSE(rel.empty()) << name;
  EXPECT_NE(rel.front(), '/') << name;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    std::string part = rel.substr(start, slash - start);
    EXPECT_FALSE(part.empty()) << "empty component in " << rel;
    EXPECT_NE(part, ".") << rel;
    EXPECT_NE(part, "..") << rel;
    EXPECT_LE(part.size(), kMaxSafeComponent) << rel;
    for (char c : part) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                c == '%' || c == '~';
      EXPECT_TRUE(ok) << "byte " << int(static_cast<unsigned char>(c)) << " in " << rel;
    }
    start = slash + 1;
  }
  EXPECT_LE(rel.size(), kMaxSafePath) << name;
}

TEST(SafePath, OrdinaryKeysStayAsTheyAre) {
  const std::string key =
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/"
      "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_"
      "20230710T000000Z.json";
  EXPECT_EQ(SafeRelativePath(key), key);
  EXPECT_EQ(SafeFileName("1700000000000-3-message-id_1.json"), "1700000000000-3-message-id_1.json");
  EXPECT_EQ(SafeFileName("bucket/key.json.gz"), "bucket%2Fkey.json.gz");
}

TEST(SafePath, HostileNamesAreDefused) {
  EXPECT_EQ(SafeRelativePath("a/../../etc/cron.d/x"), "a/%2E%2E/%2E%2E/etc/cron.d/x");
  EXPECT_EQ(SafeRelativePath("./x"), "%2E/x");
  EXPECT_EQ(SafeRelativePath("%2e%2e/%2E%2E/x"), "%252e%252e/%252E%252E/x");
  EXPECT_EQ(SafeRelativePath("a%2Fb"), "a%252Fb");
  EXPECT_EQ(SafeRelativePath("..\\..\\windows"), "..%5C..%5Cwindows");
  EXPECT_EQ(SafeRelativePath(std::string("nul\0byte", 8)), "nul%00byte");
  EXPECT_EQ(SafeRelativePath("caf\xc3\xa9 ~x"), "caf%C3%A9%20%7Ex");
  // Leading, doubled and trailing slashes are dropped, and the result marked,
  // so "/etc/passwd" is not "etc/passwd".
  const std::string abs = SafeRelativePath("/etc/passwd");
  EXPECT_TRUE(abs.starts_with("etc/passwd~")) << abs;
  EXPECT_NE(abs, SafeRelativePath("etc/passwd"));
  EXPECT_NE(SafeRelativePath("a//b"), SafeRelativePath("a/b"));
  EXPECT_NE(SafeRelativePath("a/b/"), SafeRelativePath("a/b"));
  for (const char *name : {"", "/", "//", ".", "..", "../..", "/../"}) {
    ExpectSafe(SafeRelativePath(name), name);
    const std::string file = SafeFileName(name);
    EXPECT_EQ(file.find('/'), std::string::npos) << name;
    ExpectSafe(file, name);
  }
}

TEST(SafePath, LongNamesAreBoundedUniqueAndRecognisable) {
  const std::string long_part(1000, 'k');
  const std::string a = SafeRelativePath("AWSLogs/" + long_part + "A.json");
  const std::string b = SafeRelativePath("AWSLogs/" + long_part + "B.json");
  ExpectSafe(a, "long a");
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("AWSLogs/kkkk")) << a;
  EXPECT_TRUE(a.ends_with(".json")) << a;
  // Escapes are never cut in half.
  const std::string escaped = SafeFileName(std::string(500, '%'));
  EXPECT_LE(escaped.size(), kMaxSafeComponent);
  EXPECT_EQ(escaped.find("%~"), std::string::npos);
  EXPECT_EQ(escaped.find("%2~"), std::string::npos);
  // Many folders.
  std::string deep;
  for (int i = 0; i < 400; ++i) deep += "dir" + std::to_string(i) + "/";
  const std::string d = SafeRelativePath(deep + "file.json");
  ExpectSafe(d, "deep");
  EXPECT_TRUE(d.starts_with("dir0/dir1/")) << d;
  EXPECT_TRUE(d.ends_with("/file.json")) << d;
  EXPECT_NE(d, SafeRelativePath(deep + "x/file.json"));
  EXPECT_EQ(SafeFileName(long_part, ".json").size(), kMaxSafeComponent);
  EXPECT_TRUE(SafeFileName(long_part, ".json").ends_with(".json"));
}

// Random names over an alphabet of the dangerous bytes: every result is safe,
// and different names never share a result.
TEST(SafePath, RandomNamesAreSafeAndDistinct) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const std::string alphabet = std::string("./%\\~a2E", 8) + std::string(1, '\0');
  std::set<std::string> names;
  std::map<std::string, std::string> by_path, by_file;
  for (int i = 0; i < 20000; ++i) {
    std::string name;
    const size_t len = rng() % 12;
    for (size_t k = 0; k < len; ++k) name.push_back(alphabet[rng() % alphabet.size()]);
    if (!names.insert(name).second) continue;
    const std::string rel = SafeRelativePath(name), file = SafeFileName(name);
    ExpectSafe(rel, name);
    ExpectSafe(file, name);
    auto [it, fresh] = by_path.emplace(rel, name);
    EXPECT_TRUE(fresh) << "seed " << seed << ": '" << name << "' and '" << it->second
                       << "' both map to " << rel;
    auto [jt, fresh_file] = by_file.emplace(file, name);
    EXPECT_TRUE(fresh_file) << "seed " << seed << ": " << file;
  }
}

TEST(SafePath, LexicalCheck) {
  EXPECT_TRUE(IsLexicallyUnder("/data/digests", "/data/digests/b/k"));
  EXPECT_TRUE(IsLexicallyUnder("/data/digests/", "/data//digests/./b"));
  EXPECT_FALSE(IsLexicallyUnder("/data/digests", "/data/digests"));
  EXPECT_FALSE(IsLexicallyUnder("/data/digests", "/data/digests/../x"));
  EXPECT_FALSE(IsLexicallyUnder("/data/digests", "/data/digestsx/y"));
  EXPECT_FALSE(IsLexicallyUnder("data", "/data/x"));
}

class SafePathFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_ = cairn::testing::MakeTempDir("cairn_safe_path");
    data_ = sandbox_ + "/data";
    ASSERT_TRUE(fs_->CreateDirs(data_).ok());
  }
  void TearDown() override { fs_->RemoveAll(sandbox_).IgnoreError(); }

  // Every path under the sandbox that is not under the data folder.
  std::vector<std::string> Outside() {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::recursive_directory_iterator(sandbox_)) {
      const std::string p = e.path().string();
      if (p != data_ && !p.starts_with(data_ + "/")) out.push_back(p);
    }
    return out;
  }

  static std::vector<std::string> HostileNames() {
    return {"AWSLogs/1111/CloudTrail-Digest/../../../../x.json",
            "../../escaped.json",
            "/etc/cron.d/x",
            "%2e%2e/%2e%2e/pct.json",
            "a%2F..%2F..%2Fb",
            "..\\..\\back.json",
            std::string("nul\0/../x", 9),
            std::string(5000, 'L') + ".json",
            std::string(300, '/') + "deep",
            "..",
            "",
            "/"};
  }

  FileSystem *fs_ = FileSystem::Default();
  std::string sandbox_, data_;
};

TEST_F(SafePathFsTest, HostileNamesAreWrittenInsideTheFolderOnly) {
  const std::string digests = data_ + "/digests";
  std::set<std::string> written;
  // Each under its own bucket: "b/.." and "b/../x" would otherwise want a file
  // and a folder of the same name, as S3 keys "a" and "a/b" would.
  const auto names = HostileNames();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string &name = names[i];
    auto path = PathUnder(fs_, digests, "bucket" + std::to_string(i) + "/" + name);
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    ASSERT_TRUE(fs_->CreateDirs(DirName(*path)).ok()) << *path;
    ASSERT_TRUE(WriteFileAtomic(fs_, *path, name).ok()) << *path;
    EXPECT_TRUE(written.insert(*path).second) << "two names share " << *path;
    auto file = FileUnder(fs_, data_ + "/flat", name, ".json");
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(DirName(*file), data_ + "/flat");
  }
  EXPECT_EQ(Outside(), std::vector<std::string>{});
  // What was written is what was asked for.
  for (size_t i = 0; i < names.size(); ++i) {
    auto path = PathUnder(fs_, digests, "bucket" + std::to_string(i) + "/" + names[i]);
    EXPECT_EQ(*ReadFileToString(fs_, *path), names[i]);
  }
}

TEST_F(SafePathFsTest, QuarantineKeepsHostileNamesInsideItsFolder) {
  ManualClock clock(1'700'000'000'000'000);
  Quarantine q(fs_, &clock, data_ + "/quarantine");
  const std::string content = "bytes of the object";
  for (const std::string &name : HostileNames()) {
    auto kept = q.Keep("files", name, {{"key", "\"k\""}}, {.bytes = &content, .file = {}});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(DirName(*kept), data_ + "/quarantine/files");
    const std::string record = *ReadFileToString(fs_, *kept);
    EXPECT_TRUE(
        record.starts_with("{\"kind\":\"files\",\"time\":\"2023-11-14T22:13:20."
                           "000Z\",\"key\":\"k\",\"copy\":\""))
        << record;
    const size_t at = record.find("\"copy\":\"") + 8;
    const std::string copy = record.substr(at, record.find('"', at) - at);
    EXPECT_EQ(*ReadFileToString(fs_, JoinPath(DirName(*kept), copy)), content);
  }
  // A local file, copied in pieces.
  const std::string local = sandbox_ + "/data/in.json";
  std::string big(300000, 'x');
  ASSERT_TRUE(WriteFileAtomic(fs_, local, big).ok());
  auto kept = q.Keep("local", "../../in.json", {}, {.file = local});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  auto listing = fs_->ListDir(data_ + "/quarantine/local");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  for (const auto &e : *listing) {
    if (e.name.ends_with(".data")) {
      EXPECT_EQ(*ReadFileToString(fs_, data_ + "/quarantine/local/" + e.name), big);
    }
  }
  EXPECT_EQ(Outside(), std::vector<std::string>{});
}

TEST_F(SafePathFsTest, SymbolicLinksOutOfTheFolderAreRefused) {
  ASSERT_TRUE(fs_->CreateDirs(sandbox_ + "/elsewhere").ok());
  ASSERT_TRUE(fs_->CreateDirs(data_ + "/digests").ok());
  ASSERT_EQ(::symlink((sandbox_ + "/elsewhere").c_str(), (data_ + "/digests/bucket").c_str()), 0);
  auto path = PathUnder(fs_, data_ + "/digests", "bucket/key.json");
  EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(path.status().message().find("bucket/key.json"), std::string::npos)
      << path.status().message();
  // A link that stays inside is fine.
  ASSERT_TRUE(fs_->CreateDirs(data_ + "/digests/real").ok());
  ASSERT_EQ(::symlink((data_ + "/digests/real").c_str(), (data_ + "/digests/inner").c_str()), 0);
  EXPECT_TRUE(PathUnder(fs_, data_ + "/digests", "inner/key.json").ok());
}

}  // namespace
}  // namespace cairn
