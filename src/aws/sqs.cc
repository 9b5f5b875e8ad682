#include "aws/sqs.h"

#include <simdjson.h>

#include <cstdlib>

#include "common/json_util.h"

namespace cairn::aws {

namespace {

// A tiny JSON object writer for request bodies.
class JsonObject {
 public:
  JsonObject& Str(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(&out_, value);
    return *this;
  }
  JsonObject& Int(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  JsonObject& StrList(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    out_.push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_.push_back(',');
      AppendJsonString(&out_, values[i]);
    }
    out_.push_back(']');
    return *this;
  }
  JsonObject& StrMap(std::string_view key, const std::map<std::string, std::string>& values) {
    Key(key);
    out_.push_back('{');
    bool first = true;
    for (const auto& [k, v] : values) {
      if (!first) out_.push_back(',');
      first = false;
      AppendJsonString(&out_, k);
      out_.push_back(':');
      AppendJsonString(&out_, v);
    }
    out_.push_back('}');
    return *this;
  }
  JsonObject& Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_ += json;
    return *this;
  }
  std::string Done() { return out_ + "}"; }

 private:
  void Key(std::string_view key) {
    if (out_.size() > 1) out_.push_back(',');
    AppendJsonString(&out_, key);
    out_.push_back(':');
  }
  std::string out_ = "{";
};

Result<simdjson::dom::element> ParseJson(simdjson::dom::parser* parser, simdjson::padded_string* padded,
                                         std::string_view api, std::string_view resource) {
  simdjson::dom::element doc;
  auto err = parser->parse(*padded).get(doc);
  if (err != simdjson::SUCCESS || !doc.is_object()) {
    return Corruption("{} {}: response is not a JSON object ({})", api, resource, simdjson::error_message(err));
  }
  return doc;
}

std::string StringOr(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) == simdjson::SUCCESS) return std::string(v);
  return {};
}

Result<BatchResult> ParseBatch(const std::string& body, std::string_view api, std::string_view resource) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, api, resource));
  BatchResult r;
  simdjson::dom::array arr;
  if (doc["Successful"].get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) r.successful.push_back(StringOr(e, "Id"));
  }
  if (doc["Failed"].get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) {
      BatchFailure f;
      f.id = StringOr(e, "Id");
      f.code = StringOr(e, "Code");
      f.message = StringOr(e, "Message");
      bool sf = false;
      if (e["SenderFault"].get(sf) == simdjson::SUCCESS) f.sender_fault = sf;
      r.failed.push_back(std::move(f));
    }
  }
  return r;
}

}  // namespace

int SqsMessage::receive_count() const {
  auto it = attributes.find("ApproximateReceiveCount");
  return it == attributes.end() ? 0 : std::atoi(it->second.c_str());
}

std::string QueueRegionFromUrl(std::string_view url) {
  Result<ParsedUrl> u = ParseUrl(url);
  if (!u.ok()) return {};
  std::string_view host = u->host;
  if (size_t colon = host.find(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  if (host.starts_with("sqs.")) {
    std::string_view rest = host.substr(4);
    size_t dot = rest.find('.');
    if (dot != std::string_view::npos) return std::string(rest.substr(0, dot));
  }
  if (host == "queue.amazonaws.com") return "us-east-1";
  if (host.ends_with(".queue.amazonaws.com")) return std::string(host.substr(0, host.find('.')));
  return {};
}

Result<std::string> SqsClient::Call(const std::string& action, const std::string& queue_url,
                                    const std::string& region, std::string body, int64_t idle_timeout_ms) {
  Operation op;
  op.service = "sqs";
  op.api = "SQS " + action;
  op.resource = queue_url;
  op.region = region.empty() ? QueueRegionFromUrl(queue_url) : region;
  op.idle_timeout_ms = idle_timeout_ms;
  return client_->Json(op, "AmazonSQS", action, "1.0", std::move(body));
}

Result<std::string> SqsClient::GetQueueUrl(const std::string& queue_name, const std::string& region,
                                           const std::string& owner_account) {
  JsonObject req;
  req.Str("QueueName", queue_name);
  if (!owner_account.empty()) req.Str("QueueOwnerAWSAccountId", owner_account);
  ASSIGN_OR_RETURN(std::string body, Call("GetQueueUrl", "", region, req.Done()));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, "SQS GetQueueUrl", queue_name));
  std::string url = StringOr(doc, "QueueUrl");
  if (url.empty()) return Corruption("SQS GetQueueUrl {}: response has no QueueUrl", queue_name);
  return url;
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessage(const std::string& queue_url,
                                                          const ReceiveOptions& options) {
  if (options.max_messages < 1 || options.max_messages > 10) {
    return InvalidArgument("SQS ReceiveMessage {}: max_messages {} is outside 1..10", queue_url, options.max_messages);
  }
  if (options.wait_seconds < 0 || options.wait_seconds > 20) {
    return InvalidArgument("SQS ReceiveMessage {}: wait_seconds {} is outside 0..20", queue_url, options.wait_seconds);
  }
  JsonObject req;
  req.Str("QueueUrl", queue_url).Int("MaxNumberOfMessages", options.max_messages).Int("WaitTimeSeconds",
                                                                                      options.wait_seconds);
  if (options.visibility_timeout >= 0) req.Int("VisibilityTimeout", options.visibility_timeout);
  if (!options.attribute_names.empty()) {
    // Both spellings: MessageSystemAttributeNames is current, AttributeNames the older one.
    req.StrList("MessageSystemAttributeNames", options.attribute_names);
    req.StrList("AttributeNames", options.attribute_names);
  }
  req.StrList("MessageAttributeNames", {"All"});
  ASSIGN_OR_RETURN(std::string body,
                   Call("ReceiveMessage", queue_url, "", req.Done(), (options.wait_seconds + 15) * 1000LL));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, "SQS ReceiveMessage", queue_url));
  std::vector<SqsMessage> out;
  simdjson::dom::array messages;
  if (doc["Messages"].get(messages) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element m : messages) {
    SqsMessage msg;
    msg.message_id = StringOr(m, "MessageId");
    msg.receipt_handle = StringOr(m, "ReceiptHandle");
    msg.body = StringOr(m, "Body");
    msg.md5_of_body = StringOr(m, "MD5OfBody");
    simdjson::dom::object attrs;
    if (m["Attributes"].get(attrs) == simdjson::SUCCESS) {
      for (auto [k, v] : attrs) {
        std::string_view s;
        if (v.get(s) == simdjson::SUCCESS) msg.attributes[std::string(k)] = std::string(s);
      }
    }
    if (m["MessageAttributes"].get(attrs) == simdjson::SUCCESS) {
      for (auto [k, v] : attrs) {
        std::string_view s;
        if (v["StringValue"].get(s) == simdjson::SUCCESS) msg.message_attributes[std::string(k)] = std::string(s);
      }
    }
    if (msg.receipt_handle.empty()) {
      return Corruption("SQS ReceiveMessage {}: message {} has no ReceiptHandle", queue_url, msg.message_id);
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Result<BatchResult> SqsClient::DeleteMessageBatch(const std::string& queue_url,
                                                  const std::vector<DeleteEntry>& entries) {
  if (entries.empty() || entries.size() > 10) {
    return InvalidArgument("SQS DeleteMessageBatch {}: {} entries (1..10 allowed)", queue_url, entries.size());
  }
  std::string list = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) list.push_back(',');
    list += JsonObject().Str("Id", entries[i].id).Str("ReceiptHandle", entries[i].receipt_handle).Done();
  }
  list.push_back(']');
  ASSIGN_OR_RETURN(std::string body,
                   Call("DeleteMessageBatch", queue_url, "", JsonObject().Str("QueueUrl", queue_url).Raw("Entries", list).Done()));
  return ParseBatch(body, "SQS DeleteMessageBatch", queue_url);
}

Status SqsClient::DeleteMessage(const std::string& queue_url, const std::string& receipt_handle) {
  return Call("DeleteMessage", queue_url, "",
              JsonObject().Str("QueueUrl", queue_url).Str("ReceiptHandle", receipt_handle).Done())
      .status();
}

Status SqsClient::ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                          int visibility_timeout) {
  auto r = Call("ChangeMessageVisibility", queue_url, "",
                JsonObject()
                    .Str("QueueUrl", queue_url)
                    .Str("ReceiptHandle", receipt_handle)
                    .Int("VisibilityTimeout", visibility_timeout)
                    .Done());
  return r.ok() ? Status::Ok() : r.status();
}

Result<BatchResult> SqsClient::ChangeMessageVisibilityBatch(const std::string& queue_url,
                                                            const std::vector<VisibilityEntry>& entries) {
  if (entries.empty() || entries.size() > 10) {
    return InvalidArgument("SQS ChangeMessageVisibilityBatch {}: {} entries (1..10 allowed)", queue_url,
                           entries.size());
  }
  std::string list = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) list.push_back(',');
    list += JsonObject()
                .Str("Id", entries[i].id)
                .Str("ReceiptHandle", entries[i].receipt_handle)
                .Int("VisibilityTimeout", entries[i].visibility_timeout)
                .Done();
  }
  list.push_back(']');
  ASSIGN_OR_RETURN(std::string body, Call("ChangeMessageVisibilityBatch", queue_url, "",
                                          JsonObject().Str("QueueUrl", queue_url).Raw("Entries", list).Done()));
  return ParseBatch(body, "SQS ChangeMessageVisibilityBatch", queue_url);
}

Result<std::map<std::string, std::string>> SqsClient::GetQueueAttributes(const std::string& queue_url,
                                                                         const std::vector<std::string>& names) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("GetQueueAttributes", queue_url, "",
                        JsonObject()
                            .Str("QueueUrl", queue_url)
                            .StrList("AttributeNames", names.empty() ? std::vector<std::string>{"All"} : names)
                            .Done()));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, "SQS GetQueueAttributes", queue_url));
  std::map<std::string, std::string> out;
  simdjson::dom::object attrs;
  if (doc["Attributes"].get(attrs) == simdjson::SUCCESS) {
    for (auto [k, v] : attrs) {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) out[std::string(k)] = std::string(s);
    }
  }
  return out;
}

Result<std::string> SqsClient::CreateQueue(const std::string& queue_name,
                                           const std::map<std::string, std::string>& attributes,
                                           const std::string& region) {
  JsonObject req;
  req.Str("QueueName", queue_name);
  if (!attributes.empty()) req.StrMap("Attributes", attributes);
  ASSIGN_OR_RETURN(std::string body, Call("CreateQueue", queue_name, region, req.Done()));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, "SQS CreateQueue", queue_name));
  std::string url = StringOr(doc, "QueueUrl");
  if (url.empty()) return Corruption("SQS CreateQueue {}: response has no QueueUrl", queue_name);
  return url;
}

Status SqsClient::SetQueueAttributes(const std::string& queue_url,
                                     const std::map<std::string, std::string>& attributes) {
  auto r = Call("SetQueueAttributes", queue_url, "",
                JsonObject().Str("QueueUrl", queue_url).StrMap("Attributes", attributes).Done());
  return r.ok() ? Status::Ok() : r.status();
}

Status SqsClient::DeleteQueue(const std::string& queue_url) {
  auto r = Call("DeleteQueue", queue_url, "", JsonObject().Str("QueueUrl", queue_url).Done());
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> SqsClient::SendMessage(const std::string& queue_url, const std::string& message) {
  ASSIGN_OR_RETURN(std::string body,
                   Call("SendMessage", queue_url, "", JsonObject().Str("QueueUrl", queue_url).Str("MessageBody", message).Done()));
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  ASSIGN_OR_RETURN(simdjson::dom::element doc, ParseJson(&parser, &padded, "SQS SendMessage", queue_url));
  return StringOr(doc, "MessageId");
}

}  // namespace cairn::aws
