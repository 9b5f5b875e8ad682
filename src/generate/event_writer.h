#pragma once
// Writes CloudTrail records as JSON text, straight into a string (no DOM): the ordinary
// background traffic of one (account, region) stream, console sign-ins, and the pieces the
// scenario and Insights builders reuse (identities, times, ids).
//
// An EventWriter holds scratch buffers: use one per thread. It only reads the World and Catalog,
// which must outlive it. Output depends only on the Rng passed in and the writer's cell state
// (BeginCell), never on earlier cells, which is what makes generation reproducible whatever the
// thread count.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generate/catalog.h"
#include "generate/prng.h"
#include "generate/world.h"

namespace cairn::generate {

// One CloudTrail record, each field already JSON text. Empty optional fields are omitted.
struct Record {
  std::string_view event_version = "1.08";
  std::string_view user_identity;  // a JSON object
  int64_t time_ms = 0;
  std::string_view event_source, event_name, region, source_ip, user_agent;
  std::string_view error_code, error_message;  // both empty: no error
  std::string_view request_parameters = "null";
  std::string_view response_elements = "null";
  std::string_view additional_event_data;  // JSON object, or empty
  std::string_view request_id;             // empty: no requestID (sign-in events)
  std::string_view event_id;
  bool read_only = false;
  std::string_view resources;  // JSON array, or empty
  std::string_view event_type = "AwsApiCall";
  bool management_event = true;
  std::string_view recipient_account;
  std::string_view event_category = "Management";
  std::string_view tls_host;  // empty: no tlsDetails
  bool tls13 = true;
  bool session_from_console = false;
};

// Appends `r` as one JSON object.
void AppendRecord(const Record& r, std::string* out);

// Appends "YYYY-MM-DDTHH:MM:SSZ" for a time in milliseconds (seconds truncated).
void AppendIsoSeconds(int64_t millis, std::string* out);

// The user-facing identity of a principal at one moment: userIdentity JSON, the caller ARN and
// access key it implies.
struct Identity {
  std::string json;        // the userIdentity object
  std::string caller_arn;  // the ARN an AccessDenied message names
  std::string access_key;  // may be empty (root sign-in, AWS services)
  bool console = false;
};

class EventWriter {
 public:
  EventWriter(const World* world, const Catalog* catalog, bool data_events);

  // Resets per-cell state (the "same principal keeps working" memory). Call before each file.
  void BeginCell();

  // Appends one ordinary event of `account`'s traffic in `region` (an index into World::regions).
  void AppendBackground(Rng* rng, int account, int region, int64_t time_ms, std::string* out);

  // Renders principal `p` of `account` acting at `time_ms`; `console` picks the console session
  // key over the long-term key where the principal has both. `session` picks a role session.
  // With `event_key` (the wide profile's background traffic) the call gets temporary credentials
  // of its own, drawn from that Rng, instead of the principal's key of the hour.
  void MakeIdentity(int account, int p, int64_t time_ms, bool console, int session, Identity* id,
                    Rng* event_key = nullptr);

  // For scenarios: starts a placeholder context for one event, with `overrides` fixing some
  // placeholders; Expand then fills templates from it (consistently across calls) until the next
  // StartVars or AppendBackground. `rng` must outlive the context.
  void StartVars(Rng* rng, int account, int region, int64_t time_ms,
                 const std::vector<std::pair<Var, std::string>>& overrides);
  void Expand(const Template& t, std::string* out);
  const std::string& Resolve(int var);

  const World& world() const { return *world_; }
  const Catalog& catalog() const { return *catalog_; }

 private:
  struct Table {
    std::vector<int> entries;
    std::vector<uint64_t> cumulative;
    int Pick(Rng* rng) const;
  };
  void BuildTable(Table* t, bool global, bool service, bool data_events);
  void ResetVars(Rng* rng, int account, int region, int64_t time_ms);
  void AppendConsoleLogin(Rng* rng, int account, int region, int64_t time_ms, std::string* out);
  int PickPrincipal(Rng* rng, int account);
  // The source address of a call by principal `pi` (a crowd principal's change daily).
  std::string_view SourceIp(Rng* rng, int account, int pi, int64_t time_ms);

  const World* world_;
  const Catalog* catalog_;
  Table tables_[2][2];  // [global stream][AWSService caller]
  int last_principal_ = -1;

  // Per-event placeholder state.
  Rng* rng_ = nullptr;
  const Account* account_ = nullptr;
  const RegionalPool* pool_ = nullptr;
  std::string_view region_;
  int64_t time_ms_ = 0;
  int role_ = -1;  // principal index of the role the event's @role@ names
  std::string caller_arn_;
  uint64_t have_ = 0;
  std::string vars_[kVarCount];

  // Temporary credentials by (tag, account, principal, session, hour): computing a key costs a
  // PRNG seeding, and the same few sessions recur all through a file.
  struct SessionKey {
    uint64_t id = ~0ull;
    std::string key;
    std::string created;  // creationDate text
  };
  const SessionKey& Session(uint64_t tag, int account, int principal, int session, uint64_t hour);
  SessionKey session_cache_[256];
  SessionKey event_key_;  // the wide profile's per-call credentials
  std::string daily_ip_, daily_session_;

  // Scratch.
  Identity identity_;
  std::string request_, response_, resources_, extra_, event_id_, request_id_, error_message_,
      tls_host_;
};

}  // namespace cairn::generate
