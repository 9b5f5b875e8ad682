#pragma once
// Tests only (library cairn_provision_testing): an in-memory cloud whose drivers hold resources
// exactly as the AWS drivers report them, with fault injection, so plan/apply/destroy can be
// tested without AWS; and the stand-in for the services the fauxqs emulator lacks (CloudTrail,
// IAM) in the emulator tests.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "provision/driver.h"

namespace cairn::provision::testing {

class FakeCloud {
 public:
  // A driver for `service` ("s3", "sqs", "sns", "cloudtrail", "iam") over this cloud. The cloud
  // must outlive it.
  std::unique_ptr<ServiceDriver> Driver(const std::string& service);
  // One driver per service.
  std::vector<std::unique_ptr<ServiceDriver>> AllDrivers();

  // The next `op` ("Read", "Create", "Update", "Delete") on a resource whose Describe() contains
  // `match` fails with `status` (once).
  void FailOnce(const std::string& op, const std::string& match, Status status);

  // Resources by Key(); attrs["tags"] holds every tag ("k=v,..."), not only cairn's.
  std::map<std::string, Resource> resources;
  // "Create sqs queue cairn-cloudtrail (us-west-2)" ...: every mutating call, in order.
  std::vector<std::string> calls;
  int keys_issued = 0;

 private:
  friend class FakeDriver;
  Status Injected(const std::string& op, const Resource& r);
  struct Failure {
    std::string op, match;
    Status status;
  };
  std::vector<Failure> failures_;
};

}  // namespace cairn::provision::testing
