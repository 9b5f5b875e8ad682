#pragma once
// Where `cairn verify` reads a bucket's objects from. The verifier needs three things of a bucket:
// its keys, an object's bytes, and a digest object's signature metadata (S3 user metadata
// x-amz-meta-signature). An S3 source implements the same interface later.
//
// LocalFolderSource reads a local copy of the bucket: the object with key K is the file
// <root>/K, K mapped through SafeRelativePath (CloudTrail keys use only letters, digits, '-', '_',
// '.' and '/', so they map to themselves: a copy made with `aws s3 sync` works as it is). A
// digest's signature is the sidecar file <root>/K.sig holding the hex signature (whitespace around
// it is ignored); see docs/verify.md.
//
// Thread safety: Read may be called from several threads at once; the other methods from one.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace cairn::verify {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // The bucket's name ("" when unknown: a local copy made without saying which bucket it is).
  virtual std::string bucket() const = 0;
  // Every object key under `prefix`, in key order.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // The names of the "folders" directly under `prefix` (which ends in '/'): the next key part of
  // every key that has one more '/' after the prefix ("o-abc/", "111122223333/" under AWSLogs/),
  // without the '/', in key order.
  virtual Result<std::vector<std::string>> ListFolders(const std::string& prefix) = 0;
  // An object's bytes. NotFound when it does not exist.
  virtual Result<std::string> Read(const std::string& key) = 0;
  // A digest object's hex signature (x-amz-meta-signature); nullopt when the object has none.
  // NotFound when the object does not exist.
  virtual Result<std::optional<std::string>> ReadSignature(const std::string& key) = 0;
  // Where the object is, for messages ("s3://bucket/key" or a local path).
  virtual std::string Describe(const std::string& key) const = 0;
};

class LocalFolderSource : public ObjectSource {
 public:
  // `bucket` may be empty (the bucket checks are then skipped).
  LocalFolderSource(FileSystem* fs, std::string root, std::string bucket);
  std::string bucket() const override { return bucket_; }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::vector<std::string>> ListFolders(const std::string& prefix) override;
  Result<std::string> Read(const std::string& key) override;
  Result<std::optional<std::string>> ReadSignature(const std::string& key) override;
  std::string Describe(const std::string& key) const override;

  static constexpr const char* kSignatureSuffix = ".sig";
  // Folders deeper than this below the root are refused (a symbolic link loop): a CloudTrail key
  // has 9 to 10 parts after its prefix.
  static constexpr int kMaxDepth = 40;

 private:
  Status Walk(const std::string& dir, const std::string& key_prefix, int depth,
              std::vector<ObjectInfo>* out);

  FileSystem* fs_;
  std::string root_;
  std::string bucket_;
};

}  // namespace cairn::verify
