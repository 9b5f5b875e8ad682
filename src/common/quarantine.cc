#include "common/quarantine.h"

#include "common/json_util.h"
#include "common/safe_path.h"
#include "common/time_util.h"

namespace cairn {

namespace {

// Copies the local file `from` to `to` durably: a temporary name, fsync,
// rename.
Status CopyFileAtomic(FileSystem *fs, const std::string &from, const std::string &to) {
  const std::string tmp = to + ".tmp";
  {
    ASSIGN_OR_RETURN(auto in, fs->NewSequentialFile(from));
    ASSIGN_OR_RETURN(auto out, fs->NewWritableFile(tmp));
    std::string buf(1 << 16, '\0');
    while (true) {
      ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
      if (n == 0) break;
      RETURN_IF_ERROR(out->Append(std::string_view(buf.data(), n)));
    }
    RETURN_IF_ERROR(out->Sync());
    RETURN_IF_ERROR(out->Close());
  }
  RETURN_IF_ERROR(fs->Rename(tmp, to));
  return fs->SyncDir(DirName(to));
}

}  // namespace

Quarantine::Quarantine(FileSystem *fs, Clock *clock, std::string dir)
    : fs_(fs), clock_(clock), dir_(std::move(dir)) {}

Result<std::string> Quarantine::Keep(std::string_view kind, std::string_view name,
                                     const Fields &fields, const QuarantineCopy &copy) {
  const std::string folder = JoinPath(dir_, kind);
  RETURN_IF_ERROR(fs_->CreateDirs(folder));
  const int64_t now_ms = clock_->NowMicros() / 1000;
  const std::string base = fmt::format("{}-{}-{}", now_ms, seq_.fetch_add(1), name);
  // The untrusted name goes through the sanitiser, and the result must stay in
  // the folder.
  ASSIGN_OR_RETURN(std::string record_path, FileUnder(fs_, folder, base, ".json"));
  std::string copy_name;
  if (copy.bytes != nullptr || !copy.file.empty()) {
    ASSIGN_OR_RETURN(std::string data_path, FileUnder(fs_, folder, base, ".data"));
    if (copy.bytes != nullptr) {
      RETURN_IF_ERROR(WriteFileAtomic(fs_, data_path, *copy.bytes));
    } else {
      RETURN_IF_ERROR(CopyFileAtomic(fs_, copy.file, data_path));
    }
    copy_name = BaseName(data_path);
  }
  std::string json = "{\"kind\":";
  AppendJsonString(&json, kind);
  json += ",\"time\":";
  AppendJsonString(&json, FormatIso8601(now_ms, true));
  for (const auto &[field, value] : fields) {
    json += ',';
    AppendJsonString(&json, field);
    json += ':';
    json += value;
  }
  json += ",\"copy\":";
  AppendJsonString(&json, copy_name);
  json += "}\n";
  RETURN_IF_ERROR(WriteFileAtomic(fs_, record_path, json));
  return record_path;
}

}  // namespace cairn
