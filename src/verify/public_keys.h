#pragma once
// CloudTrail's public keys from its ListPublicKeys API, and a folder that caches them.
//
// ListPublicKeys (JSON 1.1, in the trail's home region) returns the keys valid within a time range
// as base64 DER with their fingerprints; keys are indexed by the fingerprint CloudTrail reports
// (the hex MD5 of the DER, as digests name it). A key folder holds one <fingerprint>.der per key.
//
// Thread safety: the functions share nothing.

#include <cstdint>
#include <string>

#include "aws/client.h"
#include "common/fs.h"
#include "common/status.h"
#include "verify/verifier.h"

namespace cairn::verify {

// Every key valid between `start_ms` and `end_ms`, following NextToken. Errors are the AWS call's,
// or InvalidArgument naming a key that is not base64 DER of an RSA key.
Result<PublicKeySet> ListPublicKeys(aws::AwsClient* client, const std::string& region,
                                    int64_t start_ms, int64_t end_ms);

// Writes <dir>/<fingerprint>.der for each key not already there (creating `dir`).
Status SavePublicKeys(FileSystem* fs, const std::string& dir, const PublicKeySet& keys);

}  // namespace cairn::verify
