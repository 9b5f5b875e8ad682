# S3 proxy in front of fauxqs that answers GetBucketLocation (fauxqs lists the bucket instead).
import http.client, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
UP = int(sys.argv[1])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _go(self):
        n = int(self.headers.get("Content-Length", 0) or 0); body = self.rfile.read(n) if n else None
        if self.command == "GET" and self.path.split("?", 1)[-1] == "location":
            data = b'<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
            self.send_response(200); self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data); return
        c = http.client.HTTPConnection("127.0.0.1", UP)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        hdrs["Host"] = f"127.0.0.1:{UP}"
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"): self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _go
    def log_message(self, *a): pass
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
