// The HTTP Event Collector's routes (its own port, default 8088): POST /services/collector/event
// (also /services/collector and /services/collector/event/1.0), POST /services/collector/raw
// (also /raw/1.0), POST /services/collector/ack, GET /services/collector/health (public). Every
// route but health authenticates with `Authorization: Splunk <token>` against the configured
// HEC tokens (never the users file). See hec.h for the parsing and the committer.

#include <openssl/crypto.h>
#include <simdjson.h>

#include <chrono>

#include "cloudtrail/gzip.h"
#include "cloudtrail/memory_file.h"
#include "common/digest.h"
#include "common/log.h"
#include "serve/hec.h"
#include "serve/rest.h"
#include "serve/splunk_format.h"

namespace cairn::serve {
namespace {

Response HecResponse(const HecError& e) {
  Response r = JsonResponse(e.http_status, HecErrorJson(e));
  return r;
}

Response HecResponse(int code) { return HecResponse(MakeHecError(code)); }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// The token the request presents, compared in constant time against every configured one (by
// their SHA-256, so that lengths leak nothing either).
const HecToken* FindToken(const HecContext& hec, const Request& req, HecError* error) {
  std::string auth = req.Header("authorization");
  if (auth.empty()) {
    *error = MakeHecError(kHecTokenRequired);
    return nullptr;
  }
  if (!StartsWithNoCase(auth, "Splunk ")) {
    *error = MakeHecError(kHecInvalidAuth);
    return nullptr;
  }
  std::string_view presented = std::string_view(auth).substr(7);
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  const Sha256Digest have = Sha256(presented);
  const HecToken* found = nullptr;
  for (const HecToken& t : hec.tokens) {
    const Sha256Digest want = Sha256(t.value);
    if (CRYPTO_memcmp(want.data(), have.data(), want.size()) == 0) found = &t;
  }
  if (found == nullptr) {
    log::Warn("hec: request from {} with an unknown token", req.remote);
    *error = MakeHecError(kHecInvalidToken);
    return nullptr;
  }
  if (found->disabled) {
    *error = MakeHecError(kHecTokenDisabled);
    return nullptr;
  }
  return found;
}

// A share of HecContext::max_inflight_bytes, given back when the request is done.
class Reservation {
 public:
  explicit Reservation(HecContext* hec) : hec_(hec) {}
  ~Reservation() { hec_->inflight_bytes.fetch_sub(bytes_); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  // Adds 3 x `decoded` bytes; false when the total is over the bound.
  bool Add(uint64_t decoded) {
    bytes_ += 3 * decoded;
    return hec_->inflight_bytes.fetch_add(3 * decoded) + 3 * decoded <= hec_->max_inflight_bytes;
  }

 private:
  HecContext* hec_;
  uint64_t bytes_ = 0;
};

// The body (moved out of the request), gunzipped when Content-Encoding says gzip; counted in
// `reservation` as it is decoded.
bool DecodedBody(Request& req, Reservation* reservation, const HecContext& hec, std::string* out,
                 HecError* error) {
  std::string enc = req.Header("content-encoding");
  if (enc.empty() || enc == "identity") {
    *out = std::move(req.body);
    if (!reservation->Add(out->size())) {
      *error = MakeHecError(kHecBusy);
      return false;
    }
    return true;
  }
  if (enc != "gzip" && enc != "x-gzip") {
    *error = MakeHecError(kHecInvalidFormat, -1, "unsupported Content-Encoding " + enc);
    return false;
  }
  auto file = cloudtrail::NewGunzipFile(
      std::make_unique<cloudtrail::StringSequentialFile>(std::move(req.body)), "request body",
      hec.max_decompressed_bytes);
  out->clear();
  char buf[64 << 10];
  while (true) {
    auto n = file->Read(buf, sizeof(buf));
    if (!n.ok()) {
      *error = MakeHecError(kHecInvalidFormat, -1, n.status().message());
      return false;
    }
    if (*n == 0) break;
    if (!reservation->Add(*n)) {
      *error = MakeHecError(kHecBusy);
      return false;
    }
    out->append(buf, *n);
  }
  return true;
}

std::string Channel(const Request& req) {
  std::string c = req.Header("x-splunk-request-channel");
  if (c.empty()) c = req.query.Get("channel", "");
  return c;
}

// Acks are kept per token and channel: another token cannot read (and so consume) them.
std::string AckChannel(const HecToken& token, const std::string& channel) {
  return token.name + "\n" + channel;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// /event and /raw: authenticate, decode, parse, queue; then answer with an ackId (useACK) or
// after the commit is durable.
Response Ingest(HecContext* hec, Request& req, bool raw) {
  HecError err;
  const HecToken* token = FindToken(*hec, req, &err);
  if (token == nullptr) return HecResponse(err);
  std::string channel = Channel(req);
  if (channel.empty() && (raw || token->use_ack)) return HecResponse(kHecChannelMissing);
  if (!channel.empty() && !ValidHecChannel(channel)) return HecResponse(kHecInvalidChannel);
  std::string body;
  Reservation reservation(hec);
  if (!DecodedBody(req, &reservation, *hec, &body, &err)) return HecResponse(err);
  HecRequestMeta meta;
  meta.token = token;
  meta.now_ms = NowMs();
  if (raw) {
    meta.index = req.query.Get("index", "");
    meta.sourcetype = req.query.Get("sourcetype", "");
    meta.source = req.query.Get("source", "");
    meta.host = req.query.Get("host", "");
    if (auto t = req.query.Get("time")) {
      meta.time_ms = ParseEpochSeconds(*t);
      if (!meta.time_ms) return HecResponse(MakeHecError(kHecInvalidFormat, -1, "bad time"));
    }
  }
  HecBatch batch;
  auto bad = raw ? ParseHecRawBody(body, meta, &batch) : ParseHecEventBody(body, meta, &batch);
  if (bad) return HecResponse(*bad);
  batch.sender_waits = !token->use_ack;
  auto ticket = hec->ingest->Submit(std::move(batch));
  if (!ticket.ok()) return HecResponse(kHecBusy);
  if (token->use_ack) {
    auto id = hec->ingest->AddAck(AckChannel(*token, channel), *ticket);
    if (!id.ok()) return HecResponse(kHecBusy);
    return JsonResponse(200, fmt::format("{{\"text\":\"Success\",\"code\":0,\"ackId\":{}}}", *id));
  }
  Status s = hec->ingest->Wait(*ticket);
  if (!s.ok()) return HecResponse(kHecInternalError);
  return JsonResponse(200, "{\"text\":\"Success\",\"code\":0}");
}

Response Ack(HecContext* hec, Request& req) {
  HecError err;
  const HecToken* token = FindToken(*hec, req, &err);
  if (token == nullptr) return HecResponse(err);
  if (!token->use_ack) return HecResponse(kHecAckDisabled);
  std::string channel = Channel(req);
  if (channel.empty()) return HecResponse(kHecChannelMissing);
  if (!ValidHecChannel(channel)) return HecResponse(kHecInvalidChannel);
  std::string body;
  Reservation reservation(hec);
  if (!DecodedBody(req, &reservation, *hec, &body, &err)) return HecResponse(err);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array acks;
  if (parser.parse(simdjson::padded_string(body)).get(doc) != simdjson::SUCCESS ||
      doc["acks"].get_array().get(acks) != simdjson::SUCCESS) {
    return HecResponse(MakeHecError(kHecInvalidFormat, -1, "expected {\"acks\":[ids]}"));
  }
  std::vector<uint64_t> ids;
  for (auto v : acks) {
    uint64_t id = 0;
    if (v.get_uint64().get(id) != simdjson::SUCCESS) {
      return HecResponse(MakeHecError(kHecInvalidFormat, -1, "ack ids must be integers"));
    }
    ids.push_back(id);
    if (ids.size() > 100'000) return HecResponse(MakeHecError(kHecInvalidFormat, -1, "too many"));
  }
  std::string out = "{\"acks\":{";
  bool first = true;
  for (const auto& [id, ok] : hec->ingest->QueryAcks(AckChannel(*token, channel), ids)) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("\"{}\":{}", id, ok ? "true" : "false");
  }
  out += "}}";
  return JsonResponse(200, out);
}

}  // namespace

void RegisterHecRoutes(Router* router, HecContext* hec) {
  for (const char* path :
       {"/services/collector", "/services/collector/event", "/services/collector/event/1.0"}) {
    router->Add(
        "POST", path, [hec](Request& req) { return Ingest(hec, req, false); }, Access::kPublic);
  }
  for (const char* path : {"/services/collector/raw", "/services/collector/raw/1.0"}) {
    router->Add(
        "POST", path, [hec](Request& req) { return Ingest(hec, req, true); }, Access::kPublic);
  }
  for (const char* path : {"/services/collector/ack", "/services/collector/ack/1.0"}) {
    router->Add(
        "POST", path, [hec](Request& req) { return Ack(hec, req); }, Access::kPublic);
  }
  for (const char* path : {"/services/collector/health", "/services/collector/health/1.0"}) {
    router->Add(
        "GET", path,
        [hec](Request&) {
          return HecResponse(hec->ingest->Busy() ? kHecUnhealthyQueues : kHecHealthy);
        },
        Access::kPublic);
  }
}

}  // namespace cairn::serve
