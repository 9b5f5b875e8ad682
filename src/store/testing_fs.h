#pragma once
// A FileSystem wrapper that injects failures, for tests of the store's error paths: failed
// writes, short writes, a full disk (ENOSPC), failed fsyncs (files and folders), failed renames
// and failed file creation; and a hook that runs before files are opened for reading. Faults are
// armed per operation kind and trigger on the n-th call from the moment they are armed; a sticky
// fault keeps failing until Clear().
//
// Thread-safe. Files created through it keep a pointer to it; it must outlive them.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "common/fs.h"

namespace cairn::store::testing {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  enum class Op { kCreate = 0, kAppend, kSync, kClose, kRename, kSyncDir, kRemove, kCount };
  enum class Fault {
    kError,       // the call fails with IOError and does nothing
    kShortWrite,  // Append writes the first half of its data, then fails
    kNoSpace,     // Append writes part of its data and fails with ENOSPC; sticky
    kNotFound,    // the call fails with NotFound and does nothing (its folder vanished)
  };

  explicit FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

  // Fails the `nth` (0 = next) call of `op`, only for paths containing `path_filter`.
  void FailNth(Op op, int nth, Fault fault = Fault::kError, bool sticky = false,
               std::string path_filter = "");
  void Clear();
  // Calls of `op` seen since construction.
  int Calls(Op op) const;
  bool fired() const { return fired_.load(); }

  // Returns the status to fail with, or OK. `written` receives how many bytes of an Append to
  // pass through first.
  Status Check(Op op, const std::string& path, size_t size, size_t* written);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  // Calls `hook` with the path before every NewRandomAccessFile (tests of readers racing a
  // writer use it to change the folder at that moment). Not thread-safe against opens in flight.
  void SetOpenHook(std::function<void(const std::string& path)> hook) {
    open_hook_ = std::move(hook);
  }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status RemoveFile(const std::string& path) override;
  Status RemoveAll(const std::string& path) override { return base_->RemoveAll(path); }
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) override {
    return base_->LockFile(path, wait);
  }

  Result<std::string> RealPath(const std::string& path) override { return base_->RealPath(path); }
  Result<uint32_t> Permissions(const std::string& path) override {
    return base_->Permissions(path);
  }
  Status SetPermissions(const std::string& path, uint32_t mode) override {
    return base_->SetPermissions(path, mode);
  }

 private:
  // A writable file through the kCreate fault, truncated or (append) appended to.
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path, bool append);
  FileSystem* base_;
  mutable std::mutex mu_;
  int calls_[static_cast<int>(Op::kCount)] = {};
  bool armed_ = false;
  Op op_ = Op::kAppend;
  int countdown_ = 0;
  Fault fault_ = Fault::kError;
  bool sticky_ = false;
  std::string filter_;
  std::atomic<bool> fired_{false};
  std::function<void(const std::string&)> open_hook_;
};

}  // namespace cairn::store::testing
