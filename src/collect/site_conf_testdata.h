#pragma once
// Test data shared by the collect unit and integration tests: the original site's inputs.conf
// exactly as deployed (../shared/DESIGN.md): header first, first key flush left, the rest
// indented by tabs.

namespace cairn::collect {

inline constexpr char kSiteConf[] =
    "[aws_cloudtrail://its-aws-idg-cloudtrail]\n"
    "exclude_describe_events = 0\n"
    "\tindex = aws-cloudtrail\n"
    "\tinterval = 1\n"
    "\tremove_files_when_done = 0\n"
    "\tkey_id = key\n"
    "\tsecret_key = secret\n"
    "\tsqs_queue = its-aws-idg-cloudtrail\n"
    "\tsqs_queue_region = us-west-2\n"
    "\tsourcetype = aws-cloudtrail\n"
    "\tscript_iterations = relaunch\n";

}  // namespace cairn::collect
