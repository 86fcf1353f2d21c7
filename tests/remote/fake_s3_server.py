#!/usr/bin/env python3
"""A tiny S3 stand-in for tests/remote: verifies every request's AWS SigV4
signature independently of libcurl (canonical URI, sorted and encoded query,
signed headers, payload SHA-256), keeps objects in memory, and can fail on
purpose so the client's retries can be tested.

  fake_s3_server.py --port-file F [--secret S] [--fail-first N] [--fail-status 500]
                    [--always-status 503] [--refuse-part N] [--log-file L]

Writes its port to F once listening; appends "METHOD PATH?QUERY" to L for
each request. Test code only.
"""
import argparse
import hashlib
import hmac
import http.server
import os
import re
import sys
import urllib.parse

ARGS = None
OBJECTS = {}   # path -> bytes
UPLOADS = {}   # upload id -> {part number: bytes}
COUNT = 0


def uri_encode(s, keep_slash):
    safe = "-._~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_query(raw):
    pairs = []
    for piece in raw.split("&") if raw else []:
        name, _, value = piece.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote(name), False), uri_encode(urllib.parse.unquote(value), False)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def check_signature(handler, path, query, body):
    auth = handler.headers.get("Authorization", "")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
    if not m:
        return "AccessDenied", "malformed Authorization header: " + auth
    _access, date, region, signed, signature = m.groups()
    signed_list = signed.split(";")
    for required in ("host", "x-amz-date", "x-amz-content-sha256"):
        if required not in signed_list:
            return "AccessDenied", "header not signed: " + required
    payload_hash = handler.headers.get("x-amz-content-sha256", "")
    if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
        return "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match"
    headers = "".join(f"{h}:{' '.join(handler.headers.get(h, '').split())}\n" for h in signed_list)
    canonical = "\n".join([handler.command, uri_encode(urllib.parse.unquote(path), True), canonical_query(query),
                           headers, signed, payload_hash])
    amz_date = handler.headers.get("x-amz-date", "")
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + ARGS.secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if expected != signature:
        return "SignatureDoesNotMatch", "The request signature we calculated does not match: " + canonical
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, length=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                f"<Message>{message.replace('&', '&amp;').replace('<', '&lt;')}</Message></Error>").encode()
        self.reply(status, body, {"Content-Type": "application/xml"})

    def handle_any(self):
        global COUNT
        COUNT += 1
        if ARGS.log_file:
            with open(ARGS.log_file, "a") as f:
                f.write(f"{self.command} {self.path}\n")
        body = b""
        if "Content-Length" in self.headers:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        if ARGS.always_status:
            return self.error(ARGS.always_status, "SlowDown", "Please reduce your request rate.")
        if COUNT <= ARGS.fail_first:
            return self.error(ARGS.fail_status, "InternalError", "We encountered an internal error.")
        path, _, query = self.path.partition("?")
        problem = check_signature(self, path, query, body)
        if problem:
            return self.error(403, *problem)
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        obj = urllib.parse.unquote(path)
        if self.command == "PUT" and "uploadId" in params and params.get("partNumber") == str(ARGS.refuse_part):
            return self.error(400, "InvalidArgument", "Part number refused by the test.")
        if self.command == "PUT" and "uploadId" in params:
            UPLOADS[params["uploadId"]][int(params["partNumber"])] = body
            return self.reply(200, headers={"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
        if self.command == "PUT":
            OBJECTS[obj] = body
            return self.reply(200, headers={"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
        if self.command == "POST" and "uploads" in params:
            upload_id = "up/%d+%d" % (len(UPLOADS) + 1, os.getpid())  # characters that need encoding
            UPLOADS[upload_id] = {}
            esc = upload_id.replace("&", "&amp;")
            return self.reply(200, f"<InitiateMultipartUploadResult><UploadId>{esc}</UploadId>"
                                   f"</InitiateMultipartUploadResult>".encode())
        if self.command == "POST" and "uploadId" in params:
            parts = UPLOADS.pop(params["uploadId"])
            OBJECTS[obj] = b"".join(parts[n] for n in sorted(parts))
            return self.reply(200, b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>")
        if self.command == "DELETE" and "uploadId" in params:
            UPLOADS.pop(params["uploadId"], None)
            return self.reply(204)
        if self.command == "HEAD":
            if obj not in OBJECTS:
                return self.reply(404)
            return self.reply(200, length=len(OBJECTS[obj]))
        return self.error(405, "MethodNotAllowed", "not supported by the fake server")

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET = handle_any


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--secret", default="fake-secret")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=500)
    p.add_argument("--always-status", type=int, default=0)
    p.add_argument("--refuse-part", type=int, default=0)
    p.add_argument("--log-file")
    ARGS = p.parse_args()
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
