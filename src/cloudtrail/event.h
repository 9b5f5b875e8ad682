#pragma once
// One CloudTrail event as it moves from a reader to the store: the original JSON bytes exactly as
// they appeared in the file, plus the few facts every later stage needs without parsing again.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace cairn::cloudtrail {

inline constexpr std::string_view kSourcetypeEvents = "aws:cloudtrail";
inline constexpr std::string_view kSourcetypeInsight = "aws:cloudtrail:insight";

// Readable bytes (of any content) that follow every shared SharedText view: enough for simdjson
// to parse the text where it is.
inline constexpr size_t kJsonPadding = 64;

// Text that is either its own string or a view into a buffer shared with other events of the same
// file (the reader's whole file, an arena its streamed records are copied into, or its source
// name), which stays alive while any of them does. Either way it reads as a std::string_view;
// assigning a string makes it owned.
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text) : owned_(std::move(text)) {}  // NOLINT: implicit, like a string
  SharedText(const char* text) : owned_(text) {}             // NOLINT
  // A view into `buffer`, which must hold at least kJsonPadding readable bytes after the view.
  SharedText(std::string_view text, std::shared_ptr<const char[]> buffer)
      : view_(text), buffer_(std::move(buffer)) {}

  SharedText& operator=(std::string text) {
    owned_ = std::move(text);
    buffer_.reset();
    return *this;
  }
  SharedText& operator=(const char* text) { return *this = std::string(text); }
  SharedText& operator=(std::string_view text) { return *this = std::string(text); }

  std::string_view view() const { return buffer_ ? view_ : std::string_view(owned_); }
  operator std::string_view() const { return view(); }  // NOLINT: reads as text
  const char* data() const { return view().data(); }
  size_t size() const { return view().size(); }
  bool empty() const { return view().empty(); }
  bool shared() const { return buffer_ != nullptr; }
  // Whether kJsonPadding readable bytes follow the text (a shared view's guarantee).
  bool padded() const { return shared(); }

  std::string str() const { return std::string(view()); }
  // The text as an owned string that may be edited (a copy is made first when it is shared).
  std::string& mutable_string() {
    if (buffer_) {
      owned_.assign(view_);
      buffer_.reset();
    }
    return owned_;
  }

  friend bool operator==(const SharedText& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const SharedText& a, const char* b) { return a.view() == b; }
  friend bool operator==(const SharedText& a, const SharedText& b) { return a.view() == b.view(); }
  friend std::ostream& operator<<(std::ostream& os, const SharedText& r) { return os << r.view(); }

 private:
  std::string owned_;
  std::string_view view_;
  std::shared_ptr<const char[]> buffer_;
};

struct Event {
  SharedText raw;          // the event's original JSON text, byte for byte
  int64_t time_ms = 0;     // eventTime, UTC, milliseconds since the epoch
  std::string account;     // recipientAccountId, else userIdentity.accountId, else ""
  std::string event_id;    // eventID, else "h:" + 32 hex digits of a stable hash of `raw`
  std::string sourcetype;  // kSourcetypeEvents or kSourcetypeInsight
  SharedText source;       // the file path or S3 key the event came from
  std::string host;        // the host that sent it (HTTP Event Collector), else "" (the default)
  std::string fields;      // its indexed fields (HTTP Event Collector): a JSON object, else ""
};

}  // namespace cairn::cloudtrail
