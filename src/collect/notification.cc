#include "collect/notification.h"

#include <fmt/format.h>
#include <simdjson.h>

namespace cairn::collect {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr int kMaxDepth = 4;

std::string_view Str(element e, std::string_view field) {
  std::string_view v;
  if (e.is_object() && e[field].get(v) == simdjson::SUCCESS) return v;
  return {};
}

bool Has(element e, std::string_view field) {
  element sub;
  return e.is_object() && e[field].get(sub) == simdjson::SUCCESS;
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

int64_t SizeOf(element object) {
  int64_t n = -1;
  uint64_t u = 0;
  if (object["size"].get(u) == simdjson::SUCCESS) n = static_cast<int64_t>(u);
  return n;
}

std::string Snippet(std::string_view text) {
  std::string s(text.substr(0, 80));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text.size() > 80 ? s + "..." : s;
}

void ParseText(std::string_view text, int depth, const std::string& via, Notification* out);

void ParseElement(element root, int depth, const std::string& via, Notification* out) {
  auto set_shape = [&](std::string_view s) {
    std::string full = via + std::string(s);
    if (out->shape.empty()) {
      out->shape = full;
    } else if (out->shape.find(full) == std::string::npos) {
      out->shape += "," + full;
    }
  };
  if (!root.is_object()) {
    out->invalid.push_back(via + "not a JSON object");
    return;
  }
  // SNS envelope.
  std::string_view type = Str(root, "Type");
  if (!type.empty() && (Has(root, "Message") || Has(root, "TopicArn"))) {
    if (type == "SubscriptionConfirmation" || type == "UnsubscribeConfirmation") {
      set_shape("sns");
      out->ignored.push_back(fmt::format("SNS {} for {}", type, Str(root, "TopicArn")));
      return;
    }
    std::string_view message;
    if (type != "Notification" || root["Message"].get(message) != simdjson::SUCCESS) {
      out->invalid.push_back(
          fmt::format("{}SNS envelope of type \"{}\" without a Message string", via, type));
      return;
    }
    ParseText(message, depth + 1, via + "sns/", out);
    return;
  }
  // CloudTrail's notification.
  if (Has(root, "s3Bucket") || Has(root, "s3ObjectKey")) {
    set_shape("cloudtrail");
    std::string_view bucket = Str(root, "s3Bucket");
    if (bucket.empty()) {
      out->invalid.push_back(via + "CloudTrail notification without an s3Bucket string");
      return;
    }
    element keys;
    if (root["s3ObjectKey"].get(keys) != simdjson::SUCCESS) {
      out->invalid.push_back(via + "CloudTrail notification without s3ObjectKey");
      return;
    }
    std::string_view one;
    if (keys.get(one) == simdjson::SUCCESS) {
      out->objects.push_back(ObjectRef{std::string(bucket), std::string(one), "", -1});
      return;
    }
    simdjson::dom::array arr;
    if (keys.get(arr) != simdjson::SUCCESS) {
      out->invalid.push_back(via +
                             "CloudTrail notification: s3ObjectKey is neither a list nor a string");
      return;
    }
    size_t n = 0;
    for (element k : arr) {
      std::string_view key;
      if (k.get(key) != simdjson::SUCCESS || key.empty()) {
        out->invalid.push_back(
            fmt::format("{}CloudTrail notification: s3ObjectKey[{}] is not a key", via, n));
      } else {
        out->objects.push_back(ObjectRef{std::string(bucket), std::string(key), "", -1});
      }
      ++n;
    }
    if (n == 0)
      out->invalid.push_back(via + "CloudTrail notification with an empty s3ObjectKey list");
    return;
  }
  // s3:TestEvent.
  if (Str(root, "Event") == "s3:TestEvent") {
    set_shape("s3-test");
    out->test_event = true;
    return;
  }
  // EventBridge.
  if (Has(root, "detail-type") && Has(root, "source")) {
    std::string_view source = Str(root, "source");
    std::string_view detail_type = Str(root, "detail-type");
    if (source != "aws.s3") {
      out->invalid.push_back(fmt::format("{}EventBridge event from {} ({}) names no S3 object", via,
                                         source, detail_type));
      return;
    }
    set_shape("eventbridge");
    if (detail_type != "Object Created") {
      out->ignored.push_back(fmt::format("EventBridge S3 \"{}\"", detail_type));
      return;
    }
    element detail;
    if (root["detail"].get(detail) != simdjson::SUCCESS) {
      out->invalid.push_back(via + "EventBridge Object Created without detail");
      return;
    }
    element object;
    std::string_view bucket, key;
    if (detail["bucket"]["name"].get(bucket) != simdjson::SUCCESS ||
        detail["object"].get(object) != simdjson::SUCCESS ||
        object["key"].get(key) != simdjson::SUCCESS || bucket.empty() || key.empty()) {
      out->invalid.push_back(
          via + "EventBridge Object Created without detail.bucket.name and detail.object.key");
      return;
    }
    out->objects.push_back(ObjectRef{std::string(bucket), std::string(key),
                                     StripQuotes(Str(object, "etag")), SizeOf(object)});
    return;
  }
  // Records: S3 events, or Lambda-style SQS/SNS batches.
  simdjson::dom::array records;
  if (root["Records"].get(records) == simdjson::SUCCESS) {
    size_t i = 0;
    if (records.size() == 0) out->invalid.push_back(via + "empty Records list");
    for (element r : records) {
      std::string_view source = Str(r, "eventSource");
      if (source.empty()) source = Str(r, "EventSource");
      if (source == "aws:s3" || (source.empty() && Has(r, "s3"))) {
        set_shape("s3");
        std::string_view name = Str(r, "eventName");
        if (name.rfind("ObjectCreated:", 0) != 0) {
          out->ignored.push_back(
              fmt::format("S3 event {}", name.empty() ? "without eventName" : name));
        } else {
          std::string_view bucket, key;
          element object;
          if (r["s3"]["bucket"]["name"].get(bucket) != simdjson::SUCCESS ||
              r["s3"]["object"].get(object) != simdjson::SUCCESS ||
              object["key"].get(key) != simdjson::SUCCESS || bucket.empty() || key.empty()) {
            out->invalid.push_back(fmt::format(
                "{}S3 event Records[{}] without s3.bucket.name and s3.object.key", via, i));
          } else {
            out->objects.push_back(ObjectRef{std::string(bucket), DecodeS3EventKey(key),
                                             StripQuotes(Str(object, "eTag")), SizeOf(object)});
          }
        }
      } else if (source == "aws:sqs" && Has(r, "body")) {
        ParseText(Str(r, "body"), depth + 1, via + "lambda-sqs/", out);
      } else if (source == "aws:sns" && Has(r, "Sns")) {
        element sns;
        if (r["Sns"].get(sns) != simdjson::SUCCESS) continue;
        ParseText(Str(sns, "Message"), depth + 1, via + "lambda-sns/", out);
      } else {
        out->invalid.push_back(
            fmt::format("{}Records[{}] is not an S3 event (eventSource \"{}\")", via, i, source));
      }
      ++i;
    }
    return;
  }
  out->invalid.push_back(via + "JSON object of no known notification shape");
}

void ParseText(std::string_view text, int depth, const std::string& via, Notification* out) {
  if (depth > kMaxDepth) {
    out->invalid.push_back(via + "envelopes nested too deeply");
    return;
  }
  simdjson::dom::parser parser;
  element root;
  auto err = parser.parse(text.data(), text.size()).get(root);
  if (err) {
    out->invalid.push_back(
        fmt::format("{}not JSON ({}): \"{}\"", via, simdjson::error_message(err), Snippet(text)));
    return;
  }
  ParseElement(root, depth, via, out);
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string DecodeS3EventKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < key.size() && Hex(key[i + 1]) >= 0 && Hex(key[i + 2]) >= 0) {
      out.push_back(static_cast<char>(Hex(key[i + 1]) * 16 + Hex(key[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Notification ParseNotification(std::string_view body) {
  Notification out;
  ParseText(body, 0, "", &out);
  return out;
}

}  // namespace cairn::collect
