# Stand-in for CloudTrail DescribeTrails and ListPublicKeys (and Organizations
# DescribeOrganization, for an organization trail), for scripts/compare_validate_logs.sh and
# tests/cli/validate_logs_compare.sh:
# python3 cloudtrail_standin.py KEYDIR ACCOUNT BUCKET [HOME_REGION [PREFIX [ORG_ID [TRAIL]]]]
# prints "PORT <n>" and serves 127.0.0.1:<n>. With ORG_ID the trail is an organization trail
# (DescribeTrails says so and DescribeOrganization answers ORG_ID).
import base64, glob, json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
keys = []
for p in glob.glob(os.path.join(sys.argv[1], "*.der")):
    fp = os.path.basename(p)[:-4]
    keys.append({"Value": base64.b64encode(open(p, "rb").read()).decode(), "ValidityStartTime": 1.7e9,
                 "ValidityEndTime": 1.9e9, "Fingerprint": fp})
acct, bucket = sys.argv[2], sys.argv[3]
home = sys.argv[4] if len(sys.argv) > 4 else "us-east-1"
prefix = sys.argv[5] if len(sys.argv) > 5 else ""
org = sys.argv[6] if len(sys.argv) > 6 else ""
name = sys.argv[7] if len(sys.argv) > 7 else "cairn-trail"
trail = {"Name": name, "S3BucketName": bucket, "HomeRegion": home,
         "TrailARN": f"arn:aws:cloudtrail:{home}:{acct}:trail/{name}",
         "IsMultiRegionTrail": True, "IsOrganizationTrail": bool(org),
         "LogFileValidationEnabled": True}
if prefix:
    trail["S3KeyPrefix"] = prefix
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0)); body = self.rfile.read(n)
        target = self.headers.get("X-Amz-Target", "")
        sys.stderr.write(f"REQ {target} {body[:200]!r}\n")
        if target.endswith("ListPublicKeys"): out = {"PublicKeyList": keys}
        elif target.endswith("DescribeTrails"): out = {"trailList": [trail]}
        elif target.endswith("GetTrail"): out = {"Trail": trail}
        elif target.endswith("DescribeOrganization") and org:
            out = {"Organization": {"Id": org, "MasterAccountId": acct}}
        else:
            self.send_response(400); self.end_headers(); self.wfile.write(b'{"__type":"Unknown"}'); return
        data = json.dumps(out).encode()
        self.send_response(200); self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
srv = HTTPServer(("127.0.0.1", 0), H)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
