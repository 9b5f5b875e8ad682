#include "verify/digest_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common/json_util.h"
#include "common/safe_path.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "generate/gzip_writer.h"
#include "verify/source.h"

namespace cairn::verify {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr const char* kPrivateKeyFile = "digest-signing-key.pem";

void Field(std::string* out, const char* name, std::string_view value, bool comma = true) {
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
  if (comma) out->push_back(',');
}

void NullableField(std::string* out, const char* name, const std::optional<std::string>& value) {
  AppendJsonString(out, name);
  out->push_back(':');
  if (value) {
    AppendJsonString(out, *value);
  } else {
    out->append("null");
  }
  out->push_back(',');
}

std::string DigestTimeStamp(int64_t ms) {
  // 2015-08-17T15:01:31Z -> 20150817T150131Z
  std::string iso = FormatIso8601(ms);
  std::string out;
  for (char c : iso) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

Result<std::string> Gzip(std::string_view data) {
  generate::GzipCompressor gz;
  ASSIGN_OR_RETURN(std::string_view out, gz.Compress(data));
  return std::string(out);
}

}  // namespace

DigestSigner MakeSigner(PrivateKey key) {
  DigestSigner s;
  s.public_der = key.PublicDerPkcs1();
  s.fingerprint = Md5Hex(s.public_der);
  s.key = std::move(key);
  return s;
}

std::string DigestKey(const DigestInput& in) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(in.end_ms / 86400000, &y, &m, &d);
  std::string key = in.prefix + "AWSLogs/";
  if (!in.organization.empty()) key += in.organization + "/";
  key += fmt::format(
      "{}/CloudTrail-Digest/{}/{:04}/{:02}/{:02}/{}_CloudTrail-Digest_{}_{}_{}_{}{}.json.gz",
      in.account, in.region, y, m, d, in.account, in.region, in.trail, in.home_region,
      DigestTimeStamp(in.end_ms), in.backfill ? "_backfill" : "");
  return key;
}

Result<WrittenDigest> MakeDigest(const DigestInput& in, const WrittenDigest* previous,
                                 const DigestSigner& signer) {
  WrittenDigest w;
  w.key = DigestKey(in);
  std::optional<std::string> prev_bucket, prev_object, prev_hash, prev_alg, prev_sig;
  if (previous != nullptr) {
    prev_bucket = in.bucket;
    prev_object = previous->key;
    prev_hash = Sha256Hex(previous->json);
    prev_alg = "SHA-256";
    prev_sig = previous->signature_hex;
  }
  std::string newest, oldest;
  for (const auto& lf : in.log_files) {
    if (!lf.newest_event_time.empty() && lf.newest_event_time > newest)
      newest = lf.newest_event_time;
    if (!lf.oldest_event_time.empty() && (oldest.empty() || lf.oldest_event_time < oldest)) {
      oldest = lf.oldest_event_time;
    }
  }
  std::string& j = w.json;
  j = "{";
  Field(&j, "awsAccountId", in.account);
  Field(&j, "digestStartTime", FormatIso8601(in.start_ms));
  Field(&j, "digestEndTime", FormatIso8601(in.end_ms));
  Field(&j, "digestS3Bucket", in.bucket);
  Field(&j, "digestS3Object", w.key);
  Field(&j, "digestPublicKeyFingerprint", signer.fingerprint);
  Field(&j, "digestSignatureAlgorithm", "SHA256withRSA");
  if (!in.log_files.empty()) {
    Field(&j, "newestEventTime", newest.empty() ? FormatIso8601(in.end_ms) : newest);
    Field(&j, "oldestEventTime", oldest.empty() ? FormatIso8601(in.start_ms) : oldest);
  }
  NullableField(&j, "previousDigestS3Bucket", prev_bucket);
  NullableField(&j, "previousDigestS3Object", prev_object);
  NullableField(&j, "previousDigestHashValue", prev_hash);
  NullableField(&j, "previousDigestHashAlgorithm", prev_alg);
  NullableField(&j, "previousDigestSignature", prev_sig);
  j += "\"logFiles\":[";
  for (size_t i = 0; i < in.log_files.size(); ++i) {
    const auto& lf = in.log_files[i];
    if (i > 0) j += ",";
    j += "{";
    Field(&j, "s3Bucket", lf.s3_bucket);
    Field(&j, "s3Object", lf.s3_object);
    Field(&j, "hashValue", lf.hash_value);
    Field(&j, "hashAlgorithm", "SHA-256", !lf.newest_event_time.empty());
    if (!lf.newest_event_time.empty()) {
      Field(&j, "newestEventTime", lf.newest_event_time);
      Field(&j, "oldestEventTime", lf.oldest_event_time, false);
    }
    j += "}";
  }
  j += "]}";
  ASSIGN_OR_RETURN(w.gz, Gzip(j));
  const std::string to_sign = StringToSign(FormatIso8601(in.end_ms), in.bucket, w.key, j, prev_sig);
  ASSIGN_OR_RETURN(std::string sig, SignSha256WithRsa(signer.key, to_sign));
  w.signature_hex = HexEncode(sig);
  return w;
}

Status WriteDigestFiles(FileSystem* fs, const std::string& root, const WrittenDigest& d) {
  ASSIGN_OR_RETURN(std::string path, PathUnder(fs, root, d.key));
  RETURN_IF_ERROR(fs->CreateDirs(DirName(path)));
  RETURN_IF_ERROR(WriteFileAtomic(fs, path, d.gz));
  ASSIGN_OR_RETURN(std::string sig_path,
                   PathUnder(fs, root, d.key, LocalFolderSource::kSignatureSuffix));
  return WriteFileAtomic(fs, sig_path, d.signature_hex + "\n");
}

Result<DigestSigner> LoadOrCreateSigner(FileSystem* fs, const std::string& key_dir) {
  const std::string pem_path = JoinPath(key_dir, kPrivateKeyFile);
  if (fs->Exists(pem_path)) {
    ASSIGN_OR_RETURN(std::string pem, ReadFileToString(fs, pem_path, 1 << 20));
    ASSIGN_OR_RETURN(PrivateKey key, ParsePrivateKeyPem(pem, pem_path));
    DigestSigner s = MakeSigner(std::move(key));
    const std::string der_path = JoinPath(key_dir, s.fingerprint + ".der");
    if (!fs->Exists(der_path)) RETURN_IF_ERROR(WriteFileAtomic(fs, der_path, s.public_der));
    return s;
  }
  RETURN_IF_ERROR(fs->CreateDirs(key_dir));
  ASSIGN_OR_RETURN(PrivateKey key, GenerateRsaKey(2048));
  DigestSigner s = MakeSigner(std::move(key));
  RETURN_IF_ERROR(WriteFileAtomic(fs, pem_path, s.key.PrivatePem()));
  RETURN_IF_ERROR(WriteFileAtomic(fs, JoinPath(key_dir, s.fingerprint + ".der"), s.public_der));
  return s;
}

Result<DigestFolderSummary> WriteDigestsForFolder(FileSystem* fs, const std::string& root,
                                                  const std::string& bucket,
                                                  const std::string& trail,
                                                  const DigestSigner& signer, bool backfill) {
  LocalFolderSource source(fs, root, bucket);
  ASSIGN_OR_RETURN(auto objects, source.List(""));
  using Chain =
      std::tuple<std::string, std::string, std::string, std::string>;  // prefix, org, acct, region
  std::map<Chain, std::map<int64_t, std::vector<DigestLogFile>>> hours;
  std::string home_region;
  for (const auto& o : objects) {
    auto k = generate::ParseCloudTrailKey(o.key);
    if (!k || k->kind != generate::KeyKind::kLog) continue;
    if (home_region.empty() || k->region < home_region) home_region = k->region;
    ASSIGN_OR_RETURN(std::string gz, source.Read(o.key));
    Sha256 sha;
    RETURN_IF_ERROR(GunzipOneMemberTo(gz, o.key, [&](std::string_view chunk) {
      sha.Update(chunk);
      return Status::Ok();
    }));
    DigestLogFile lf;
    lf.s3_bucket = bucket;
    lf.s3_object = o.key;
    lf.hash_value = sha.FinishHex();
    lf.hash_algorithm = "SHA-256";
    const int64_t hour = k->file_time_ms / kHourMs * kHourMs;
    hours[{k->prefix, k->organization_id, k->account, k->region}][hour].push_back(std::move(lf));
  }
  DigestFolderSummary summary;
  for (const auto& [chain, by_hour] : hours) {
    if (by_hour.empty()) continue;
    std::optional<WrittenDigest> previous, previous_backfill;
    const int64_t first = by_hour.begin()->first, last = by_hour.rbegin()->first;
    for (int64_t hour = first; hour <= last; hour += kHourMs) {
      DigestInput in;
      in.bucket = bucket;
      std::tie(in.prefix, in.organization, in.account, in.region) = chain;
      in.trail = trail;
      in.home_region = home_region;
      in.start_ms = hour;
      in.end_ms = hour + kHourMs;
      auto it = by_hour.find(hour);
      if (it != by_hour.end()) in.log_files = it->second;
      std::optional<DigestInput> late;
      if (backfill && (hour - first) / kHourMs % 6 == 3 && in.log_files.size() >= 2) {
        late = in;
        late->backfill = true;
        late->log_files = {in.log_files.back()};
        in.log_files.pop_back();
      }
      ASSIGN_OR_RETURN(WrittenDigest d, MakeDigest(in, previous ? &*previous : nullptr, signer));
      RETURN_IF_ERROR(WriteDigestFiles(fs, root, d));
      summary.digests++;
      summary.log_files += in.log_files.size();
      summary.digest_keys.push_back(d.key);
      previous = std::move(d);
      if (late) {
        ASSIGN_OR_RETURN(
            WrittenDigest b,
            MakeDigest(*late, previous_backfill ? &*previous_backfill : nullptr, signer));
        RETURN_IF_ERROR(WriteDigestFiles(fs, root, b));
        summary.digests++;
        summary.log_files += late->log_files.size();
        summary.backfill_keys.push_back(b.key);
        previous_backfill = std::move(b);
      }
    }
  }
  return summary;
}

Result<std::string> Tamper(FileSystem* fs, const std::string& root,
                           const DigestFolderSummary& written, const std::string& mode) {
  if (written.digest_keys.size() < 3) {
    return InvalidArgument("--tamper needs at least 3 digests in a chain; {} were written",
                           written.digest_keys.size());
  }
  // The middle of the first chain: a digest with one before and one after it.
  const std::string& middle = written.digest_keys[1];
  LocalFolderSource source(fs, root, "");
  if (mode == "chain") {
    ASSIGN_OR_RETURN(std::string path, PathUnder(fs, root, middle));
    ASSIGN_OR_RETURN(std::string sig,
                     PathUnder(fs, root, middle, LocalFolderSource::kSignatureSuffix));
    RETURN_IF_ERROR(fs->RemoveFile(path));
    RETURN_IF_ERROR(fs->RemoveFile(sig));
    return middle;
  }
  if (mode == "signature") {
    ASSIGN_OR_RETURN(std::string sig_path,
                     PathUnder(fs, root, middle, LocalFolderSource::kSignatureSuffix));
    ASSIGN_OR_RETURN(std::string sig, ReadFileToString(fs, sig_path));
    if (sig.empty()) return InvalidArgument("{}: empty signature", sig_path);
    sig[0] = sig[0] == '0' ? '1' : '0';
    RETURN_IF_ERROR(WriteFileAtomic(fs, sig_path, sig));
    return middle;
  }
  if (mode != "modify" && mode != "delete") {
    return InvalidArgument("--tamper \"{}\" is not modify, delete, chain or signature", mode);
  }
  // The first log file listed by a digest, from the middle one on.
  std::string target;
  for (size_t i = 1; i < written.digest_keys.size() && target.empty(); ++i) {
    ASSIGN_OR_RETURN(std::string gz, source.Read(written.digest_keys[i]));
    ASSIGN_OR_RETURN(std::string json, GunzipOneMember(gz, written.digest_keys[i]));
    ASSIGN_OR_RETURN(Digest d, ParseDigest(json, written.digest_keys[i]));
    if (!d.log_files.empty()) target = d.log_files.front().s3_object;
  }
  if (target.empty()) return InvalidArgument("--tamper {}: no digest lists a log file", mode);
  ASSIGN_OR_RETURN(std::string path, PathUnder(fs, root, target));
  if (mode == "delete") {
    RETURN_IF_ERROR(fs->RemoveFile(path));
    return target;
  }
  ASSIGN_OR_RETURN(std::string gz, source.Read(target));
  ASSIGN_OR_RETURN(std::string json, GunzipOneMember(gz, target));
  // An attacker's edit: one event's source address changes by a digit, the JSON stays valid.
  size_t at = json.find("\"sourceIPAddress\":\"");
  size_t digit = json.find_first_of("0123456789", at == std::string::npos ? 0 : at);
  if (digit == std::string::npos)
    return InvalidArgument("--tamper modify: {} has no digit", target);
  json[digit] = json[digit] == '1' ? '2' : '1';
  ASSIGN_OR_RETURN(std::string out, Gzip(json));
  RETURN_IF_ERROR(WriteFileAtomic(fs, path, out));
  return target;
}

}  // namespace cairn::verify
