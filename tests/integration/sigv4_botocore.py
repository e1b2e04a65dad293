"""SigV4 oracle for tests/integration/sigv4_botocore.sh, run in a virtualenv
holding botocore (PyPI).

  serve PORTFILE LOG   a scripted OpenSearch on 127.0.0.1 (any free port,
                       written to PORTFILE): records every request (method,
                       path, query, headers, body) as one JSON line in LOG and
                       answers template PUTs and _bulk requests as OpenSearch
                       does, until killed
  check LOG            signs every recorded request again with botocore's
                       SigV4Auth (credentials from the environment, the clock
                       set to the X-Amz-Date the sink sent) and compares the
                       Authorization headers byte for byte; exit 1 on any
                       difference
  presign              reads lines "METHOD HOST PATH QUERY EXPIRES AMZDATE
                       REGION SERVICE TOKEN|- PRESIGNED_QUERY" (the output of
                       sigv4_presign.c) and compares each presigned query with
                       botocore's SigV4QueryAuth for the same request and clock
"""
import base64
import datetime
import gzip
import hashlib
import http.server
import json
import os
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def serve(portfile, logpath):

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self, status, obj):
            body = json.dumps(obj, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            path, _, query = self.path.partition("?")
            with open(logpath, "a") as log:  # opened per request: the test moves it between runs
                log.write(json.dumps({
                    "method": self.command, "path": path, "query": query,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body_base64": base64.b64encode(body).decode()}) + "\n")
            if path.endswith("/_bulk"):
                raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                docs = len([line for line in raw.split(b"\n") if line.strip()]) // 2
                self._answer(200, {"errors": False,
                                   "items": [{"index": {"status": 201}} for _ in range(docs)]})
            elif "/_index_template/" in path:
                self._answer(200, {"acknowledged": True})
            else:
                self._answer(404, {"error": {"type": "not_found", "reason": path}, "status": 404})

        do_GET = do_POST = do_PUT = do_HEAD = _handle

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def fixed_clock(amz_date):
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    return mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: when)


def credentials():
    return Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                       os.environ.get("AWS_SESSION_TOKEN") or None)


def check(logpath, region, service):
    bad = 0
    n = 0
    for line in open(logpath):
        rq = json.loads(line)
        n += 1
        h = {k.lower(): v for k, v in rq["headers"]}
        body = base64.b64decode(rq["body_base64"])
        what = "%s %s%s" % (rq["method"], rq["path"], "?" + rq["query"] if rq["query"] else "")
        # the payload hash the sink sent is the SHA-256 of the body as sent
        if h.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            print("MISMATCH %s: x-amz-content-sha256 %s is not the body's SHA-256"
                  % (what, h.get("x-amz-content-sha256")))
            bad += 1
            continue
        token = os.environ.get("AWS_SESSION_TOKEN") or None
        if h.get("x-amz-security-token") != token:
            print("MISMATCH %s: x-amz-security-token sent: %r" % (what, h.get("x-amz-security-token")))
            bad += 1
            continue
        # The same request as opensearch-py's AWSV4SignerAuth hands botocore:
        # method, url, body, and the payload hash header; botocore adds
        # host (from the url), x-amz-date and x-amz-security-token itself.
        url = "http://%s%s%s" % (h["host"], rq["path"], "?" + rq["query"] if rq["query"] else "")
        areq = AWSRequest(method=rq["method"], url=url, data=body,
                          headers={"X-Amz-Content-SHA256": h["x-amz-content-sha256"]})
        with fixed_clock(h["x-amz-date"]):
            botocore.auth.SigV4Auth(credentials(), service, region).add_auth(areq)
        want = areq.headers["Authorization"]
        got = h.get("authorization")
        if got != want:
            print("MISMATCH %s\n  sink:     %s\n  botocore: %s" % (what, got, want))
            bad += 1
        else:
            enc = h.get("content-encoding", "identity")
            print("SAME %s (%d body bytes, %s, %s): %s"
                  % (what, len(body), enc, "session token" if token else "no token", got))
    if n == 0:
        print("no requests recorded")
        return 1
    return 1 if bad else 0


def presign():
    bad = n = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        method, host, path, query, expires, amz_date, region, service, token, got = line.split()
        n += 1
        creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                            None if token == "-" else token)
        url = "https://%s%s%s" % (host, path, "?" + query if query != "-" else "")
        areq = AWSRequest(method=method, url=url)
        with fixed_clock(amz_date):
            botocore.auth.SigV4QueryAuth(creds, service, region, expires=int(expires)).add_auth(areq)
        want = areq.url.split("?", 1)[1]
        if got != want:
            print("MISMATCH presign %s %s\n  streamhost: %s\n  botocore:   %s" % (method, url, got, want))
            bad += 1
        else:
            print("SAME presign %s %s (%s): %s" % (method, url, "session token" if token != "-"
                                                   else "no token", got))
    if n == 0:
        print("no presigned urls read")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "presign":
        sys.exit(presign())
    else:
        sys.exit("unknown command " + cmd)
