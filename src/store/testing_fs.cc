#include "store/testing_fs.h"

namespace cairn::store::testing {
namespace {

class FaultFile final : public WritableFile {
 public:
  FaultFile(FaultInjectionFileSystem* fs, std::string path, std::unique_ptr<WritableFile> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    size_t pass = 0;
    Status s = fs_->Check(FaultInjectionFileSystem::Op::kAppend, path_, data.size(), &pass);
    if (!s.ok()) {
      if (pass > 0) base_->Append(data.substr(0, pass)).IgnoreError();
      return s;
    }
    return base_->Append(data);
  }
  Status Sync() override {
    size_t pass;
    RETURN_IF_ERROR(fs_->Check(FaultInjectionFileSystem::Op::kSync, path_, 0, &pass));
    return base_->Sync();
  }
  Status Close() override {
    size_t pass;
    Status s = fs_->Check(FaultInjectionFileSystem::Op::kClose, path_, 0, &pass);
    Status c = base_->Close();
    return s.ok() ? c : s;
  }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionFileSystem* fs_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

void FaultInjectionFileSystem::FailNth(Op op, int nth, Fault fault, bool sticky,
                                       std::string path_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  op_ = op;
  countdown_ = nth;
  fault_ = fault;
  sticky_ = sticky || fault == Fault::kNoSpace;
  filter_ = std::move(path_filter);
  fired_ = false;
}

void FaultInjectionFileSystem::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
}

int FaultInjectionFileSystem::Calls(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<int>(op)];
}

Status FaultInjectionFileSystem::Check(Op op, const std::string& path, size_t size,
                                       size_t* written) {
  std::lock_guard<std::mutex> lock(mu_);
  *written = 0;
  ++calls_[static_cast<int>(op)];
  if (!armed_ || op != op_) return Status::Ok();
  if (!filter_.empty() && path.find(filter_) == std::string::npos) return Status::Ok();
  if (countdown_ > 0) {
    --countdown_;
    return Status::Ok();
  }
  if (!sticky_) armed_ = false;
  fired_ = true;
  switch (fault_) {
    case Fault::kError:
      return IOError("injected failure of operation {} on {}", static_cast<int>(op), path);
    case Fault::kShortWrite:
      *written = size / 2;
      return IOError("write {}: injected short write ({} of {} bytes)", path, size / 2, size);
    case Fault::kNoSpace:
      *written = size / 3;
      return IOError("write {}: No space left on device (injected)", path);
    case Fault::kNotFound: return NotFound("open {}: No such file or directory (injected)", path);
  }
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  return Create(path, false);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewAppendableFile(
    const std::string& path) {
  return Create(path, true);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::Create(const std::string& path,
                                                                       bool append) {
  size_t pass;
  RETURN_IF_ERROR(Check(Op::kCreate, path, 0, &pass));
  ASSIGN_OR_RETURN(auto base,
                   append ? base_->NewAppendableFile(path) : base_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultFile(this, path, std::move(base)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::NewRandomAccessFile(
    const std::string& path) {
  if (open_hook_) open_hook_(path);
  return base_->NewRandomAccessFile(path);
}

Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  size_t pass;
  RETURN_IF_ERROR(Check(Op::kRemove, path, 0, &pass));
  return base_->RemoveFile(path);
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  size_t pass;
  RETURN_IF_ERROR(Check(Op::kRename, to, 0, &pass));
  return base_->Rename(from, to);
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  size_t pass;
  RETURN_IF_ERROR(Check(Op::kSyncDir, path, 0, &pass));
  return base_->SyncDir(path);
}

}  // namespace cairn::store::testing
