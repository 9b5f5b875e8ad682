// Fuzzes the Sigma rule loader and evaluator (rules are untrusted YAML from users and rule
// repositories): any input must load or be refused with a message, never crash; a loaded rule's
// canonical text is stable, and evaluating the loaded rules over an event must not crash.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "detect/rule_set.h"
#include "detect/sigma.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cairn::detect::LoadedRules loaded;
  cairn::detect::ParseSigmaText(text, "fuzz.yml", &loaded);
  cairn::detect::ResolveCorrelations(&loaded);
  for (const auto& r : loaded.rules) {
    if (r.Explain() != r.Explain()) std::abort();
  }
  cairn::detect::RuleSet rules(std::move(loaded));
  (void)rules.Match(
      R"({"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","userIdentity":)"
      R"({"type":"Root","arn":"arn:aws:iam::1:root"},"requestParameters":{"a":[1,"x"]},)"
      R"("sourceIPAddress":"203.0.113.9","errorCode":null})");
  return 0;
}
