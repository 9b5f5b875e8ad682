#include "billing/zip.h"

#include <zip.h>

#include <cerrno>
#include <cstring>

namespace cairn::billing {
namespace {

// A libzip read source over a RandomAccessFile. Owned by the zip_source (freed on
// ZIP_SOURCE_FREE), which the archive owns once opened.
struct FileSource {
  std::unique_ptr<RandomAccessFile> file;
  uint64_t pos = 0;
  zip_error_t error;
};

zip_int64_t SourceCallback(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* s = static_cast<FileSource*>(user);
  const uint64_t size = s->file->Size();
  switch (cmd) {
    case ZIP_SOURCE_OPEN: s->pos = 0; return 0;
    case ZIP_SOURCE_READ: {
      const uint64_t n = std::min<uint64_t>(len, size - std::min(size, s->pos));
      if (n == 0) return 0;
      auto got = s->file->Read(s->pos, static_cast<size_t>(n), static_cast<char*>(data));
      if (!got.ok()) {
        zip_error_set(&s->error, ZIP_ER_READ, EIO);
        return -1;
      }
      s->pos += *got;
      return static_cast<zip_int64_t>(*got);
    }
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
      if (len < sizeof(zip_stat_t)) {
        zip_error_set(&s->error, ZIP_ER_INVAL, 0);
        return -1;
      }
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      st->size = size;
      st->valid |= ZIP_STAT_SIZE;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&s->error, data, len);
    case ZIP_SOURCE_FREE:
      zip_error_fini(&s->error);
      delete s;
      return 0;
    case ZIP_SOURCE_SEEK: {
      const zip_int64_t at = zip_source_seek_compute_offset(s->pos, size, data, len, &s->error);
      if (at < 0) return -1;
      s->pos = static_cast<uint64_t>(at);
      return 0;
    }
    case ZIP_SOURCE_TELL: return static_cast<zip_int64_t>(s->pos);
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(
          ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR,
          ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, -1);
    default: zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0); return -1;
  }
}

std::string ZipErrorText(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

class ZipEntryFile final : public SequentialFile {
 public:
  ZipEntryFile(zip_t* archive, zip_file_t* entry, std::string name, uint64_t declared)
      : archive_(archive), entry_(entry), name_(std::move(name)), declared_(declared) {}
  ~ZipEntryFile() override {
    if (entry_ != nullptr) zip_fclose(entry_);
    zip_discard(archive_);
  }
  Result<size_t> Read(char* buf, size_t n) override {
    if (done_) return size_t{0};
    const zip_int64_t got = zip_fread(entry_, buf, n);
    if (got < 0) {
      // libzip reports a CRC mismatch or a damaged deflate stream here.
      return Corruption("{}: the ZIP entry cannot be read after {} bytes: {}", name_, read_,
                        zip_error_strerror(zip_file_get_error(entry_)));
    }
    read_ += static_cast<uint64_t>(got);
    if (read_ > declared_) {
      return Corruption("{}: the ZIP entry inflates to more than the {} bytes it declares", name_,
                        declared_);
    }
    if (got == 0) {
      done_ = true;
      if (read_ != declared_) {
        return Corruption("{}: the ZIP entry ends after {} of the {} bytes it declares", name_,
                          read_, declared_);
      }
    }
    return static_cast<size_t>(got);
  }

 private:
  zip_t* archive_;
  zip_file_t* entry_;
  std::string name_;
  uint64_t declared_;
  uint64_t read_ = 0;
  bool done_ = false;
};

bool BadEntryName(std::string_view n) {
  if (n.empty() || n.find('/') != std::string_view::npos ||
      n.find('\\') != std::string_view::npos || n.find("..") != std::string_view::npos) {
    return true;
  }
  for (char c : n) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  if (n.size() < 5) return true;
  std::string tail(n.substr(n.size() - 4));
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail != ".csv";
}

}  // namespace

Result<std::unique_ptr<SequentialFile>> OpenZipEntry(std::unique_ptr<RandomAccessFile> file,
                                                     const std::string& name,
                                                     const ZipLimits& limits, ZipEntryInfo* info) {
  auto* state = new FileSource{std::move(file), 0, {}};
  zip_error_init(&state->error);
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_function_create(SourceCallback, state, &error);
  if (src == nullptr) {
    zip_error_fini(&state->error);
    delete state;
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Internal("{}: libzip: {}", name, text);
  }
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    zip_source_free(src);  // frees `state`
    return InvalidArgument("{}: not a readable ZIP archive ({})", name, text);
  }
  zip_error_fini(&error);
  struct Discard {
    zip_t* a;
    ~Discard() {
      if (a != nullptr) zip_discard(a);
    }
  } discard{archive};

  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  if (entries != 1) {
    return InvalidArgument("{}: the ZIP archive holds {} entries; a report archive holds one CSV",
                           name, entries);
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive, 0, ZIP_FL_ENC_RAW, &st) != 0) {
    return InvalidArgument("{}: the ZIP entry cannot be described: {}", name,
                           zip_strerror(archive));
  }
  const std::string entry_name = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "";
  if (BadEntryName(entry_name)) {
    return InvalidArgument(
        "{}: the ZIP entry's name \"{}\" is not a plain file name ending in .csv (no folders, "
        "\"..\" or control characters)",
        name, entry_name);
  }
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
    return Unsupported("{}: the ZIP entry {} is encrypted; cairn reads only unencrypted reports",
                       name, entry_name);
  }
  if (!(st.valid & ZIP_STAT_COMP_METHOD) ||
      (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)) {
    return Unsupported(
        "{}: the ZIP entry {} uses compression method {}; cairn reads stored or deflate only", name,
        entry_name, (st.valid & ZIP_STAT_COMP_METHOD) ? st.comp_method : -1);
  }
  if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) {
    return InvalidArgument("{}: the ZIP entry {} declares no size", name, entry_name);
  }
  if (st.size > limits.max_entry_bytes) {
    return InvalidArgument(
        "{}: the ZIP entry {} declares {} bytes uncompressed, more than the limit of {}", name,
        entry_name, st.size, limits.max_entry_bytes);
  }
  if (st.comp_method == ZIP_CM_DEFLATE && st.size > 1'000'000 &&
      st.size / std::max<uint64_t>(st.comp_size, 1) > limits.max_ratio) {
    return InvalidArgument(
        "{}: the ZIP entry {} declares {} bytes from {} compressed, a ratio above {}:1 (a ZIP "
        "bomb?)",
        name, entry_name, st.size, st.comp_size, limits.max_ratio);
  }
  zip_file_t* entry = zip_fopen_index(archive, 0, 0);
  if (entry == nullptr) {
    return InvalidArgument("{}: the ZIP entry {} cannot be opened: {}", name, entry_name,
                           zip_strerror(archive));
  }
  if (info != nullptr) {
    info->name = entry_name;
    info->size = st.size;
    info->compressed_size = st.comp_size;
    info->crc = (st.valid & ZIP_STAT_CRC) ? st.crc : 0;
  }
  discard.a = nullptr;
  return std::unique_ptr<SequentialFile>(
      std::make_unique<ZipEntryFile>(archive, entry, name, st.size));
}

Status WriteZip(const std::string& path, const std::string& entry_name, std::string_view text) {
  const std::string tmp = path + ".tmp";
  int code = 0;
  zip_t* archive = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (archive == nullptr) return IOError("{}: cannot create: {}", tmp, ZipErrorText(code));
  zip_source_t* src = zip_source_buffer(archive, text.data(), text.size(), 0);
  zip_int64_t index = src ? zip_file_add(archive, entry_name.c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
  if (index < 0) {
    if (src != nullptr) zip_source_free(src);
    std::string e = zip_strerror(archive);
    zip_discard(archive);
    return IOError("{}: cannot add {}: {}", tmp, entry_name, e);
  }
  // 2026-01-01T00:00:00Z: a fixed time, so the archive's bytes depend on the text only.
  if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 1) != 0 ||
      zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), 1767225600, 0) != 0 ||
      zip_close(archive) != 0) {
    std::string e = zip_strerror(archive);
    zip_discard(archive);
    return IOError("{}: cannot write: {}", tmp, e);
  }
  return FileSystem::Default()->Rename(tmp, path);
}

}  // namespace cairn::billing
