#pragma once
// The AWS actions cairn's readers perform: `cairn collect` (and backfill, which shares its S3
// code) and `cairn verify`. This list is the single source of truth for the least-privilege
// reader policy that `cairn provision` writes: the policy grants exactly these actions, each on
// the narrowest resource AWS allows, and nothing else (tests/provision/policy_test.cc checks the
// generated document against this list and the code's calls against it).
//
// When the collector or verifier starts calling a new AWS API, add it here (and to
// kClientCallActions when it goes through a new src/aws client method); the reader policy, its
// test and docs/provision.md follow.

#include <array>
#include <string_view>

namespace cairn::provision {

// What an action is granted on.
enum class ReaderResource {
  kLogObjects,     // arn:aws:s3:::BUCKET/AWSLogs/*
  kBucket,         // arn:aws:s3:::BUCKET, with an s3:prefix condition AWSLogs/*
  kQueue,          // the collector's SQS queue
  kTrails,         // the provisioned trails' ARNs
  kAny,            // "*": actions without resource-level permissions
  kReportObjects,  // arn:aws:s3:::BILLING_BUCKET/PREFIX/*: the cost and usage reports
  kReportBucket,   // arn:aws:s3:::BILLING_BUCKET, with an s3:prefix condition PREFIX/*
};

// Who needs it.
enum class ReaderUse {
  kCollect,          // cairn collect / backfill
  kVerify,           // cairn verify (digest chain and log-file hashes)
  kRemoveFilesOnly,  // only when remove_files_when_done is on
  kBillingOnly,      // only when a billing report bucket is given (cairn billing, docs/billing.md)
};

struct ReaderAction {
  std::string_view action;  // IAM action name, "service:Action"
  ReaderResource resource;
  ReaderUse use;
};

inline constexpr std::array<ReaderAction, 15> kReaderActions = {{
    // Collect: SQS long-poll, extend visibility while large files are read, ack after commit.
    {"sqs:ReceiveMessage", ReaderResource::kQueue, ReaderUse::kCollect},
    {"sqs:DeleteMessage", ReaderResource::kQueue, ReaderUse::kCollect},  // also DeleteMessageBatch
    {"sqs:ChangeMessageVisibility", ReaderResource::kQueue, ReaderUse::kCollect},  // also ...Batch
    {"sqs:GetQueueAttributes", ReaderResource::kQueue, ReaderUse::kCollect},
    {"sqs:GetQueueUrl", ReaderResource::kQueue, ReaderUse::kCollect},
    // Collect and backfill: fetch the named log files; list the AWSLogs/ layout for backfill.
    {"s3:GetObject", ReaderResource::kLogObjects, ReaderUse::kCollect},
    {"s3:ListBucket", ReaderResource::kBucket, ReaderUse::kCollect},
    // Collect: report the trails' state (is logging on, where do files go).
    {"cloudtrail:DescribeTrails", ReaderResource::kAny, ReaderUse::kCollect},
    {"cloudtrail:GetTrailStatus", ReaderResource::kTrails, ReaderUse::kCollect},
    // Verify: the public keys that sign digest files, and the digest and log files themselves.
    {"cloudtrail:ListPublicKeys", ReaderResource::kAny, ReaderUse::kVerify},
    {"s3:GetObject", ReaderResource::kLogObjects, ReaderUse::kVerify},
    {"s3:ListBucket", ReaderResource::kBucket, ReaderUse::kVerify},
    // Only with remove_files_when_done: delete a log file after its events are committed.
    {"s3:DeleteObject", ReaderResource::kLogObjects, ReaderUse::kRemoveFilesOnly},
    // Only with a billing bucket: read the cost and usage reports and list their periods.
    {"s3:GetObject", ReaderResource::kReportObjects, ReaderUse::kBillingOnly},
    {"s3:ListBucket", ReaderResource::kReportBucket, ReaderUse::kBillingOnly},
}};

// The src/aws client calls (and their IAM action) that the readers may make: how a call found
// in the collector's or verifier's code maps to the action it needs. Used by the policy test to
// check that every call the code makes is covered by kReaderActions.
struct ClientCallAction {
  std::string_view call;    // the method name, as written at the call site: ".ReceiveMessage("
  std::string_view action;  // the IAM action it needs
};

inline constexpr std::array<ClientCallAction, 17> kClientCallActions = {{
    {"ReceiveMessage", "sqs:ReceiveMessage"},
    {"DeleteMessage", "sqs:DeleteMessage"},
    {"DeleteMessageBatch", "sqs:DeleteMessage"},
    {"ChangeMessageVisibility", "sqs:ChangeMessageVisibility"},
    {"ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"},
    {"GetQueueAttributes", "sqs:GetQueueAttributes"},
    {"GetQueueUrl", "sqs:GetQueueUrl"},
    {"GetObject", "s3:GetObject"},
    {"GetObjectToString", "s3:GetObject"},
    {"GetObjectToFile", "s3:GetObject"},
    {"HeadObject", "s3:GetObject"},
    {"ListObjectsV2", "s3:ListBucket"},
    {"DeleteObject", "s3:DeleteObject"},
    {"DescribeTrails", "cloudtrail:DescribeTrails"},
    {"GetTrailStatus", "cloudtrail:GetTrailStatus"},
    {"ListPublicKeys", "cloudtrail:ListPublicKeys"},
    {"GetCallerIdentity", ""},  // needs no permission: STS answers every caller
}};

}  // namespace cairn::provision
