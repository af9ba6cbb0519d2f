#!/usr/bin/env python3
"""A loopback stand-in for the AWS endpoints s3_signing talks to, for Verdict's tests.

S3: GET /<bucket>/<key> serves <root>/<bucket>/<key> only if the request's SigV4 signature is right. The expected
signature is recomputed with botocore's own signer (S3SigV4Auth / SigV4Auth) from the headers the request says it
signed, and the payload hash is checked against the body, so Verdict's signer is judged by an independent one.
STS: POST /sts answers AssumeRoleWithWebIdentity (the token must match) and AssumeRole (itself SigV4-signed).
Metadata: EC2's IMDSv2 (PUT /latest/api/token, then GET /latest/meta-data/iam/security-credentials/<role>) and an
ECS-style GET /ecs-credentials that requires the container authorization token.
GET /_log returns what each request was judged as. Configuration is one JSON argument; the port is printed.
"""
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONFIG = json.loads(sys.argv[1])
ROOT = CONFIG["root"]
# access key id -> {"secret": ..., "token": ...}: the base users plus the temporary credentials STS hands out.
USERS = dict(CONFIG["users"])
LOG = []
LOCK = threading.Lock()
EXPIRATION = "2099-01-01T00:00:00Z"


def verify_sigv4(handler, body, service):
    """Returns None if the request is correctly signed for `service`, else the reason it is not."""
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    akid, date, region, svc, term = parts["Credential"].split("/")
    if svc != service or term != "aws4_request":
        return f"credential scope names service {svc}, expected {service}"
    user = USERS.get(akid)
    if user is None:
        return f"unknown access key {akid}"
    if user.get("token") and handler.headers.get("X-Amz-Security-Token") != user["token"]:
        return "session token missing or wrong"
    signed = parts["SignedHeaders"].split(";")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return f"{required} is not signed"
    amz_date = handler.headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date):
        return "x-amz-date does not match the credential scope date"
    headers = {name: handler.headers.get(name, "") for name in signed}
    if service == "s3":
        declared = handler.headers.get("X-Amz-Content-SHA256")
        if declared != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 does not match the payload"
    request = AWSRequest(method=handler.command, url=f"http://{handler.headers['Host']}{handler.path}", headers=headers, data=body)
    request.context["timestamp"] = amz_date
    signer_class = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = signer_class(Credentials(akid, user["secret"], user.get("token")), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != parts["Signature"]:
        return "signature mismatch"
    return None


def issue(prefix):
    akid = f"ASIA{prefix}{len(USERS):08d}"
    creds = {"secret": f"secret-{akid}", "token": f"token-{akid}"}
    USERS[akid] = creds
    return akid, creds


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, **entry):
        with LOCK:
            LOG.append({"method": self.command, "path": self.path, **entry})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token":
            self.record(ok=True, kind="imds-token")
            return self.reply(200, CONFIG["imds_token"], "text/plain")
        self.reply(404, "{}")

    def do_GET(self):
        self.body()
        if self.path == "/_log":
            with LOCK:
                return self.reply(200, json.dumps(LOG))
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            ok = self.headers.get("X-aws-ec2-metadata-token") == CONFIG["imds_token"]
            self.record(ok=ok, kind="imds")
            if not ok:
                return self.reply(401, "{}")
            akid, creds = issue("EC2")
            return self.reply(200, json.dumps({"Code": "Success", "AccessKeyId": akid, "SecretAccessKey": creds["secret"], "Token": creds["token"], "Expiration": EXPIRATION}))
        if self.path == "/ecs-credentials":
            ok = self.headers.get("Authorization") == CONFIG["ecs_token"]
            self.record(ok=ok, kind="ecs")
            if not ok:
                return self.reply(401, "{}")
            akid, creds = issue("ECS")
            return self.reply(200, json.dumps({"AccessKeyId": akid, "SecretAccessKey": creds["secret"], "Token": creds["token"], "Expiration": EXPIRATION}))
        problem = verify_sigv4(self, b"", "s3")
        self.record(ok=problem is None, kind="s3", problem=problem, access_key=self.headers.get("Authorization", "").split("Credential=")[-1].split("/")[0])
        if problem:
            return self.reply(403, f"<Error><Code>SignatureDoesNotMatch</Code><Message>{problem}</Message></Error>", "application/xml")
        path = os.path.normpath(os.path.join(ROOT, self.path.lstrip("/").split("?")[0]))
        if not path.startswith(ROOT) or not os.path.isfile(path):
            return self.reply(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        with open(path, "rb") as f:
            self.reply(200, f.read(), "application/octet-stream")

    def do_POST(self):
        body = self.body()
        if self.path != "/sts":
            return self.reply(404, "{}")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        action = form.get("Action")
        if action == "AssumeRoleWithWebIdentity":
            problem = None if form.get("WebIdentityToken") == CONFIG["web_identity_token"] else "wrong web identity token"
            if form.get("RoleArn") != CONFIG["role_arn"]:
                problem = "wrong role"
        elif action == "AssumeRole":
            problem = verify_sigv4(self, body, "sts")
            if form.get("RoleArn") != CONFIG["role_arn"]:
                problem = problem or "wrong role"
        else:
            problem = f"unknown action {action}"
        self.record(ok=problem is None, kind=f"sts:{action}", problem=problem, session=form.get("RoleSessionName"))
        if problem:
            return self.reply(403, f"<ErrorResponse><Error><Message>{problem}</Message></Error></ErrorResponse>", "text/xml")
        akid, creds = issue("STS")
        xml = (f"<{action}Response><{action}Result><Credentials><AccessKeyId>{akid}</AccessKeyId>"
               f"<SecretAccessKey>{creds['secret']}</SecretAccessKey><SessionToken>{creds['token']}</SessionToken>"
               f"<Expiration>{EXPIRATION}</Expiration></Credentials></{action}Result></{action}Response>")
        self.reply(200, xml, "text/xml")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
