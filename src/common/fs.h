#pragma once
// The file-system interface. Every file the store, ingest and collectors touch goes through a
// FileSystem, so tests can substitute one that injects failures (failed writes, failed fsyncs,
// short writes, a full disk) or crashes. Paths are plain strings; errors name the path and errno.
//
// Permissions: what a FileSystem creates is private to the user running cairn (files 0600, folders
// 0700, before the umask): CloudTrail events name people, addresses and resources.
//
// Thread safety: a FileSystem is safe for concurrent use. A file object is used by one thread at a
// time, except RandomAccessFile, whose Read is safe to call concurrently.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` or returns an error; a short write is an error.
  virtual Status Append(std::string_view data) = 0;
  // Makes every appended byte durable (fsync/fdatasync).
  virtual Status Sync() = 0;
  // Closes the file. Does not sync. Safe to call once; the destructor closes if not called.
  virtual Status Close() = 0;
  virtual uint64_t Size() const = 0;
};

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `buf`. Returns the count read; 0 means end of file.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `buf`; fewer only at end of file.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* buf) const = 0;
  virtual uint64_t Size() const = 0;
  // Reads exactly `n` bytes at `offset` or fails with Corruption naming the file.
  Status ReadExact(uint64_t offset, size_t n, char* buf) const;
  const std::string& path() const { return path_; }

 protected:
  std::string path_;
};

// An exclusive advisory lock on a file (flock(2)), held until the object is destroyed or the
// process ends: the kernel releases it when its holder dies, also on kill -9, so a lock never
// outlives its process. Another open of the same file conflicts with it, in another process or in
// this one.
class FileLock {
 public:
  virtual ~FileLock() = default;
  // Replaces the locked file's contents (e.g. the holder's pid, which processes that find the
  // lock taken can read and name).
  virtual Status WriteContents(std::string_view data) = 0;
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The real POSIX file system. Never null; lives for the whole program.
  static FileSystem* Default();

  // Creates (0600) or truncates `path` for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it (0600) when missing. Size() counts the bytes that
  // were there.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;

  // Creates `path` and any missing parents (0700). OK if it exists as a folder.
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes `path` and everything below it. OK if it does not exist.
  virtual Status RemoveAll(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsyncs a directory so that renames and creations in it are durable.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Takes an exclusive lock on `path`, creating the file (0600) when missing. With `wait`, blocks
  // until the lock is free; without, fails at once with kUnavailable when another holder has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, bool wait) = 0;

  // The absolute path of an existing `path` with every symbolic link, "." and ".." resolved
  // (realpath(3)). A file system without links may return `path` as it is (the default).
  virtual Result<std::string> RealPath(const std::string& path) { return path; }

  // The permission bits of `path` (st_mode & 07777). A file system without permissions answers
  // 0700 (the default), as if everything were its user's alone.
  virtual Result<uint32_t> Permissions(const std::string& path) { return 0700u; }
  // Sets the permission bits of `path` (chmod(2)); the default does nothing.
  virtual Status SetPermissions(const std::string& path, uint32_t mode) { return Status::Ok(); }
};

// Reads a whole file. Fails with ResourceExhausted when it is larger than `max_bytes`.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path,
                                     uint64_t max_bytes = UINT64_MAX);

// Writes `data` to `path` so that a crash leaves either the old file or the new one whole:
// write `path`.tmp, fsync, rename over `path`, fsync the folder.
Status WriteFileAtomic(FileSystem* fs, const std::string& path, std::string_view data);

// Joins two path parts with one '/'.
std::string JoinPath(std::string_view a, std::string_view b);
// The folder part of a path ("." when none).
std::string DirName(std::string_view path);
// The last part of a path.
std::string BaseName(std::string_view path);

}  // namespace cairn
