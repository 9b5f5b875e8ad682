// bin (bucket) f [span=S | bins=N] [AS g]: puts a number (or _time) into the bucket of width S
// that holds it (_time: the bucket's start; other fields: "start-end"). With span= it streams;
// without, the width depends on the range of all rows (bins=N, or Splunk's automatic span for
// _time), so it holds the rows until its input ends.

#include "query/command_support.h"
#include "query/time_format.h"

namespace cairn::query::internal {
namespace {

// Sets `target` of each row to the bucket of `field` with width `span`.
void Bucket(Row& row, const std::string& field, const std::string& target, double span) {
  const Values* v = row.Get(field);
  if (!v) return;
  auto n = ParseNumber(v->front());
  if (!n) return;
  double b = FloorTo(*n, span);
  if (field == "_time") {
    row.Set(target, {FormatNumber(b)});
  } else {
    row.Set(target, {FormatNumber(b) + "-" + FormatNumber(b + span)});
  }
}

// The width from the range of every row's value.
Result<double> SpanOfRows(const Command& c, const std::string& f, Rows& rows) {
  if (c.options.count("bins")) {
    auto bins = ParseNumber(c.options.at("bins"));
    if (!bins || *bins < 1) return InvalidArgument("bin: bins must be a positive number");
    std::optional<double> mn, mx;
    for (Row& row : rows) {
      const Values* v = row.Get(f);
      if (!v) continue;
      if (auto n = ParseNumber(v->front())) {
        mn = mn ? std::min(*mn, *n) : *n;
        mx = mx ? std::max(*mx, *n) : *n;
      }
    }
    if (!mn) return 0.0;
    double range = *mx - *mn;
    double span = 1;
    while (range / span >= *bins) span *= 10;
    return span;
  }
  double lo = 0, hi = 0;
  bool any = false;
  for (Row& row : rows) {
    double t = row.time();
    if (!any || t < lo) lo = t;
    if (!any || t > hi) hi = t;
    any = true;
  }
  return AutoSpan(lo, hi);
}

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  const std::string f = c.fields[0];
  const std::string target = c.text.empty() ? f : c.text;
  if (c.options.count("span")) {
    ASSIGN_OR_RETURN(double span, ParseSpan(c.options.at("span")));
    if (span <= 0) return InvalidArgument("bin: span must be positive");
    return MakeOp<RowOperator>([f, target, span](Row& row) -> Result<bool> {
      Bucket(row, f, target, span);
      return true;
    });
  }
  if (!c.options.count("bins") && f != "_time") {
    return InvalidArgument("bin {} needs span= or bins=", f);
  }
  const Command* cmd = &c;
  return MakeOp<BufferOperator>("bin", env.budget, [cmd, f, target](Results* r) -> Status {
    ASSIGN_OR_RETURN(double span, SpanOfRows(*cmd, f, r->rows));
    if (span <= 0) return Status::Ok();
    for (Row& row : r->rows) Bucket(row, f, target, span);
    return Status::Ok();
  });
}

}  // namespace

void Register_bin(CommandRegistry& r) {
  CommandInfo info;
  info.name = "bin";
  info.aliases = {"bucket"};
  info.syntax = Generic({.fields = true, .as_name = true}, [](Command* c) {
    if (c->fields.size() == 1) return Status::Ok();
    return SyntaxError(c->offset, "bin needs one field");
  });
  info.classes = {CommandClass::kStreaming, CommandClass::kBlocking};
  info.class_of = [](const Command& c) {
    return c.options.count("span") ? CommandClass::kStreaming : CommandClass::kBlocking;
  };
  info.make = Make;
  info.parallel = [](const Command& c) { return c.options.count("span") > 0; };
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
