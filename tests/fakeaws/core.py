"""fakeaws core: HTTP server, SigV4 check with botocore's signer, model
validation, protocol dispatch, faults, call log and the /_fake/ admin API.

One endpoint serves every service: the service comes from the SigV4
credential scope of the Authorization header; the operation from
X-Amz-Target (awsJson), Action (query, ec2) or method + path (s3).
"""
import base64
import copy
import datetime
import hashlib
import json
import re
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session  # noqa: E402
from botocore.auth import S3SigV4Auth, SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.validate import ParamValidator  # noqa: E402

from protocols import (AwsError, ParamError, json_value, unflatten,  # noqa: E402
                       xml_element, xml_members, xml_escape, http_date,
                       iso8601, _scalar)

DEFAULT_ACCOUNT = "111111111111"
DEFAULT_AK = "AKIDFAKE"
DEFAULT_SK = "fakesecret"
SKEW_SECONDS = 300

SERVICES = ["kms", "secretsmanager", "ecs", "cloudtrail", "logs", "ec2",
            "iam", "sts", "sns", "s3", "autoscaling"]
SERVICES += ["wafv2"]  # issue 19 (net-block)
SERVICES += ["dynamodb", "monitoring"]  # issue 22 (data-breach)
SERVICES += ["cognito-idp"]  # issue 23 (cognito-lockdown)
SERVICES += ["codeartifact"]  # issue 23 (codeartifact-lock): rest-json
# credential-scope name -> botocore model name (CloudWatch signs as "monitoring")
MODEL_NAMES = {"monitoring": "cloudwatch"}

_session = botocore.session.get_session()
_models = {}
_validator = ParamValidator()


# Operations newer than Debian's botocore (1.29), written in botocore's
# model format from AWS's published model (the npm package aws-sdk v2 ships
# it: apis/<service>-<version>.min.json). tests/integration/25-fakeaws.py
# checks each against that model when the package is installed, so a
# request the fake accepts is one AWS's model accepts.
SUPPLEMENT = {
    # issue 22 (data-breach): table resource policies (DynamoDB, March
    # 2024; Debian's botocore 1.29 predates them). Vendored from the npm
    # package aws-sdk 2.1693.0 apis/dynamodb-2012-08-10.min.json (its inline
    # shapes named here); 25-fakeaws.py SupplementModels checks them against
    # that model when FBTEST_NODE_MODULES points at it.
    "dynamodb": {
        "operations": {
            "GetResourcePolicy": {"name": "GetResourcePolicy", "http": {"method": "POST", "requestUri": "/"},
                                  "input": {"shape": "GetResourcePolicyInput"},
                                  "output": {"shape": "GetResourcePolicyOutput"},
                                  "errors": [{"shape": "PolicyNotFoundException"}]},
            "PutResourcePolicy": {"name": "PutResourcePolicy", "http": {"method": "POST", "requestUri": "/"},
                                  "input": {"shape": "PutResourcePolicyInput"},
                                  "output": {"shape": "PutResourcePolicyOutput"},
                                  "errors": [{"shape": "PolicyNotFoundException"}]},
            "DeleteResourcePolicy": {"name": "DeleteResourcePolicy", "http": {"method": "POST", "requestUri": "/"},
                                     "input": {"shape": "DeleteResourcePolicyInput"},
                                     "output": {"shape": "DeleteResourcePolicyOutput"},
                                     "errors": [{"shape": "PolicyNotFoundException"}]},
        },
        "shapes": {
            "ResourcePolicyArn": {"type": "string", "max": 1283, "min": 1},
            "ResourcePolicy": {"type": "string"},
            "PolicyRevisionId": {"type": "string", "max": 255, "min": 1},
            "ConfirmRemoveSelfResourceAccess": {"type": "boolean"},
            "GetResourcePolicyInput": {"type": "structure", "required": ["ResourceArn"], "members": {
                "ResourceArn": {"shape": "ResourcePolicyArn"}}},
            "GetResourcePolicyOutput": {"type": "structure", "members": {
                "Policy": {"shape": "ResourcePolicy"}, "RevisionId": {"shape": "PolicyRevisionId"}}},
            "PutResourcePolicyInput": {"type": "structure", "required": ["ResourceArn", "Policy"], "members": {
                "ResourceArn": {"shape": "ResourcePolicyArn"}, "Policy": {"shape": "ResourcePolicy"},
                "ExpectedRevisionId": {"shape": "PolicyRevisionId"},
                "ConfirmRemoveSelfResourceAccess": {"shape": "ConfirmRemoveSelfResourceAccess"}}},
            "PutResourcePolicyOutput": {"type": "structure", "members": {
                "RevisionId": {"shape": "PolicyRevisionId"}}},
            "DeleteResourcePolicyInput": {"type": "structure", "required": ["ResourceArn"], "members": {
                "ResourceArn": {"shape": "ResourcePolicyArn"}, "ExpectedRevisionId": {"shape": "PolicyRevisionId"}}},
            "DeleteResourcePolicyOutput": {"type": "structure", "members": {
                "RevisionId": {"shape": "PolicyRevisionId"}}},
            "PolicyNotFoundException": {"type": "structure", "members": {"message": {"shape": "ErrorMessage"}},
                                        "exception": True},
        },
    },
    "ec2": {
        "operations": {
            # issue 20 (instance-quarantine): snapshot lock
            "LockSnapshot": {"name": "LockSnapshot", "http": {"method": "POST", "requestUri": "/"},
                             "input": {"shape": "LockSnapshotRequest"}, "output": {"shape": "LockSnapshotResult"}},
            "UnlockSnapshot": {"name": "UnlockSnapshot", "http": {"method": "POST", "requestUri": "/"},
                               "input": {"shape": "UnlockSnapshotRequest"},
                               "output": {"shape": "UnlockSnapshotResult"}},
        },
        "shapes": {
            "LockSnapshotRequest": {"type": "structure", "required": ["SnapshotId", "LockMode"], "members": {
                "SnapshotId": {"shape": "SnapshotId"}, "DryRun": {"shape": "Boolean"},
                "LockMode": {"shape": "LockMode"}, "CoolOffPeriod": {"shape": "CoolOffPeriodRequestHours"},
                "LockDuration": {"shape": "RetentionPeriodRequestDays"},
                "ExpirationDate": {"shape": "MillisecondDateTime"}}},
            "LockSnapshotResult": {"type": "structure", "members": {
                "SnapshotId": {"shape": "String", "locationName": "snapshotId"},
                "LockState": {"shape": "LockState", "locationName": "lockState"},
                "LockDuration": {"shape": "RetentionPeriodResponseDays", "locationName": "lockDuration"},
                "CoolOffPeriod": {"shape": "CoolOffPeriodResponseHours", "locationName": "coolOffPeriod"},
                "CoolOffPeriodExpiresOn": {"shape": "MillisecondDateTime", "locationName": "coolOffPeriodExpiresOn"},
                "LockCreatedOn": {"shape": "MillisecondDateTime", "locationName": "lockCreatedOn"},
                "LockExpiresOn": {"shape": "MillisecondDateTime", "locationName": "lockExpiresOn"},
                "LockDurationStartTime": {"shape": "MillisecondDateTime", "locationName": "lockDurationStartTime"}}},
            "UnlockSnapshotRequest": {"type": "structure", "required": ["SnapshotId"], "members": {
                "SnapshotId": {"shape": "SnapshotId"}, "DryRun": {"shape": "Boolean"}}},
            "UnlockSnapshotResult": {"type": "structure", "members": {
                "SnapshotId": {"shape": "String", "locationName": "snapshotId"}}},
            "LockMode": {"type": "string", "enum": ["compliance", "governance"]},
            "LockState": {"type": "string", "enum": ["compliance", "governance", "compliance-cooloff", "expired"]},
            "CoolOffPeriodRequestHours": {"type": "integer", "max": 72, "min": 1},
            "CoolOffPeriodResponseHours": {"type": "integer"},
            "RetentionPeriodRequestDays": {"type": "integer", "max": 36500, "min": 1},
            "RetentionPeriodResponseDays": {"type": "integer"},
            "MillisecondDateTime": {"type": "timestamp"},
        },
    },
    # issue 23 (cognito-lockdown): app client secrets, newer than botocore
    # 1.29 and than the last aws-sdk v2 (2.1693.0) too. Written from the
    # npm package @aws-sdk/client-cognito-identity-provider 3.1178.0
    # (dist-es/schemas/schemas_0.js: AddUserPoolClientSecretRequest$,
    # ListUserPoolClientSecretsRequest$, DeleteUserPoolClientSecretRequest$,
    # ClientSecretDescriptorType$, their responses); "sdk": "v3" tells
    # 25-fakeaws's v2 check to leave it to tests/integration/65-cognito-
    # lockdown.py, which checks it against that package when installed.
    "cognito-idp": {
        "sdk": "v3",
        "operations": {
            "AddUserPoolClientSecret": {
                "name": "AddUserPoolClientSecret", "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "AddUserPoolClientSecretRequest"},
                "output": {"shape": "AddUserPoolClientSecretResponse"}},
            "ListUserPoolClientSecrets": {
                "name": "ListUserPoolClientSecrets", "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "ListUserPoolClientSecretsRequest"},
                "output": {"shape": "ListUserPoolClientSecretsResponse"}},
            "DeleteUserPoolClientSecret": {
                "name": "DeleteUserPoolClientSecret", "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "DeleteUserPoolClientSecretRequest"},
                "output": {"shape": "DeleteUserPoolClientSecretResponse"}},
        },
        "shapes": {
            "AddUserPoolClientSecretRequest": {"type": "structure", "required": ["UserPoolId", "ClientId"],
                                               "members": {"UserPoolId": {"shape": "UserPoolIdType"},
                                                           "ClientId": {"shape": "ClientIdType"},
                                                           "ClientSecret": {"shape": "ClientSecretType"}}},
            "AddUserPoolClientSecretResponse": {"type": "structure", "members": {
                "ClientSecretDescriptor": {"shape": "ClientSecretDescriptorType"}}},
            "ClientSecretDescriptorType": {"type": "structure", "members": {
                "ClientSecretId": {"shape": "StringType"},
                "ClientSecretValue": {"shape": "ClientSecretType"},
                "ClientSecretCreateDate": {"shape": "DateType"}}},
            "ClientSecretDescriptorListType": {"type": "list", "member": {"shape": "ClientSecretDescriptorType"}},
            "ListUserPoolClientSecretsRequest": {"type": "structure", "required": ["UserPoolId", "ClientId"],
                                                 "members": {"UserPoolId": {"shape": "UserPoolIdType"},
                                                             "ClientId": {"shape": "ClientIdType"},
                                                             "NextToken": {"shape": "StringType"}}},
            "ListUserPoolClientSecretsResponse": {"type": "structure", "members": {
                "ClientSecrets": {"shape": "ClientSecretDescriptorListType"},
                "NextToken": {"shape": "StringType"}}},
            "DeleteUserPoolClientSecretRequest": {"type": "structure",
                                                  "required": ["UserPoolId", "ClientId", "ClientSecretId"],
                                                  "members": {"UserPoolId": {"shape": "UserPoolIdType"},
                                                              "ClientId": {"shape": "ClientIdType"},
                                                              "ClientSecretId": {"shape": "StringType"}}},
            "DeleteUserPoolClientSecretResponse": {"type": "structure", "members": {}},
        },
    },
}


def model(service):
    m = _models.get(service)
    if m is None:
        extra = SUPPLEMENT.get(service)
        if extra:
            import copy
            from botocore.model import ServiceModel
            d = copy.deepcopy(_session.get_component("data_loader").load_service_model(
                MODEL_NAMES.get(service, service), "service-2"))
            for k, v in extra["operations"].items():
                d["operations"].setdefault(k, v)   # a newer botocore's own model wins
            for k, v in extra["shapes"].items():
                d["shapes"].setdefault(k, v)
            m = ServiceModel(d, service_name=MODEL_NAMES.get(service, service))
        else:
            m = _session.get_service_model(MODEL_NAMES.get(service, service))
        _models[service] = m
    return m


def protocol_of(service):
    return model(service).protocol  # json, query, ec2, rest-xml, rest-json


def new_request_id():
    return str(uuid.uuid4())


# ---- signing -----------------------------------------------------------------

class _ReceivedHeadersMixin:
    """Sign exactly the headers the client listed in SignedHeaders (botocore
    would otherwise pick every header it was given)."""
    signed_names = ()

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for n in self.signed_names:
            for v in request.headers.get_all(n) or []:
                hm[n] = v
        return hm


class _V4(_ReceivedHeadersMixin, SigV4Auth):
    pass


class _S3V4(_ReceivedHeadersMixin, S3SigV4Auth):
    pass


AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$")


def expected_signature(creds_secret, ak, token, service, region, method, raw_path,
                       raw_query, headers, signed_names, body, amz_date):
    """Recompute the SigV4 signature with botocore's signer."""
    cls = _S3V4 if service == "s3" else _V4
    signer = cls(Credentials(ak, creds_secret, token), service, region)
    signer.signed_names = signed_names
    url = "http://" + (headers.get("host") or "localhost") + raw_path
    if raw_query:
        url += "?" + raw_query
    hh = HTTPHeaders()
    for n in signed_names:
        for v in headers.get_all(n) or []:
            hh[n] = v
    req = AWSRequest(method=method, url=url, headers=hh, data=body)
    req.context["timestamp"] = amz_date
    cr = signer.canonical_request(req)
    sts = signer.string_to_sign(req, cr)
    return signer.signature(sts, req)


# ---- the world -----------------------------------------------------------------

class Ctx:
    __slots__ = ("world", "service", "op", "account", "region", "access_key",
                 "caller_arn", "request_id", "headers", "body", "query",
                 "bucket", "key", "now")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def arn(self, service, resource, region=None, account=None):
        return "arn:aws:%s:%s:%s:%s" % (
            service, self.region if region is None else region,
            account or self.account, resource)


class World:
    def __init__(self):
        self.lock = threading.RLock()
        self.calls = []
        self.call_seq = 0
        self.faults = []
        self.global_latency_ms = 0
        # Bumped by every reset and full seed: a request delayed by a latency
        # fault across one belongs to the world before it and is dropped.
        self.generation = 0
        self.initial_seed = {}
        # TLS listener counters (GET /_fake/tls): connections accepted, handshakes
        # completed, handshakes failed and the last failure's reason
        self.tls = {"connections": 0, "handshakes": 0, "failures": 0, "last_error": None}
        from services import make_services
        self.services = make_services(self)
        self.reset_state()

    # state
    def reset_state(self):
        self.default_account = DEFAULT_ACCOUNT
        self.default_region = "us-east-1"
        self.rotation_delay_ms = 1000
        self.creds = {}
        self.roles = {}
        for s in self.services.values():
            s.reset()

    def load_seed(self, seed, merge=False):
        with self.lock:
            if not merge:
                self.reset_state()
            self.default_account = str(seed.get("default_account", self.default_account))
            self.default_region = seed.get("default_region", self.default_region)
            if "rotation_delay_ms" in seed:
                self.rotation_delay_ms = int(seed["rotation_delay_ms"])
            sm = seed.get("secretsmanager") or {}
            if "rotation_delay_ms" in sm:
                self.rotation_delay_ms = int(sm["rotation_delay_ms"])
            if not seed.get("no_default_credentials") and DEFAULT_AK not in self.creds:
                self.creds[DEFAULT_AK] = {
                    "secret": DEFAULT_SK, "account": self.default_account,
                    "arn": f"arn:aws:iam::{self.default_account}:user/fake-admin",
                    "token": None, "expires": None}
            for c in seed.get("credentials", []):
                ak = c["access_key_id"]
                acct = str(c.get("account", self.default_account))
                self.creds[ak] = {
                    "secret": c["secret_access_key"], "account": acct,
                    "arn": c.get("arn", f"arn:aws:iam::{acct}:user/{ak.lower()}"),
                    "token": c.get("session_token"), "expires": c.get("expires")}
            for r in seed.get("roles", []):
                r = dict(r) if isinstance(r, dict) else {"arn": r}
                self.roles[r["arn"]] = r
            for name, svc in self.services.items():
                if name in seed:
                    svc.seed(seed[name], merge)

    def dump(self):
        with self.lock:
            out = {"default_account": self.default_account,
                   "default_region": self.default_region,
                   "rotation_delay_ms": self.rotation_delay_ms,
                   "credentials": [dict(access_key_id=k, secret_access_key=v["secret"],
                                        account=v["account"], arn=v["arn"],
                                        session_token=v["token"], expires=v["expires"])
                                   for k, v in self.creds.items()],
                   "roles": list(self.roles.values()),
                   "global_latency_ms": self.global_latency_ms,
                   "faults": self.faults}
            for name, svc in self.services.items():
                out[name] = svc.dump()
            return out

    def find_credentials(self, ak):
        """-> (secret, account, arn, token) or raise ('unknown'|'inactive'|'expired')."""
        c = self.creds.get(ak)
        if c is not None:
            if c["expires"] is not None and c["expires"] < time.time():
                raise LookupError("expired")
            return c["secret"], c["account"], c["arn"], c["token"]
        found = self.services["iam"].find_access_key(ak)
        if found is None:
            raise LookupError("unknown")
        user, key, account = found
        if key.get("Status", "Active") != "Active":
            raise LookupError("inactive")
        if not key.get("SecretAccessKey"):
            raise LookupError("unknown")
        return key["SecretAccessKey"], account, user["Arn"], None

    # faults
    def set_faults(self, spec):
        with self.lock:
            if isinstance(spec, dict) and "faults" in spec:
                items = spec["faults"]
            elif isinstance(spec, list):
                items = spec
            else:
                items = [spec]
            if isinstance(spec, dict):
                if spec.get("clear"):
                    self.faults = []
                if "global_latency_ms" in spec:
                    self.global_latency_ms = int(spec["global_latency_ms"])
            for f in items:
                if not isinstance(f, dict) or "kind" not in f:
                    continue
                f = dict(f)
                if f["kind"] not in ("throttle", "error", "reset", "latency",
                                     "malformed", "access_denied"):
                    raise ValueError("unknown fault kind %r" % f["kind"])
                f.setdefault("service", "*")
                f.setdefault("operation", "*")
                f.setdefault("count", None)
                self.faults.append(f)

    def take_faults(self, service, op, region=None):
        """-> (latency_ms, fault or None); consumes counted faults. A fault
        with "region" applies to requests signed for that region only."""
        latency = self.global_latency_ms
        chosen = None
        with self.lock:
            keep = []
            for f in self.faults:
                match = (f["service"] in ("*", service) and f["operation"] in ("*", op)
                         and f.get("region", "*") in ("*", region))
                if match and f.get("skip"):
                    # "skip": N lets the first N matching calls through
                    f["skip"] -= 1
                    keep.append(f)
                    continue
                if match and (f["kind"] == "latency" or chosen is None):
                    if f["kind"] == "latency":
                        latency += int(f.get("latency_ms", 0))
                    else:
                        chosen = f
                    if f["count"] is not None:
                        f["count"] -= 1
                        if f["count"] <= 0:
                            continue
                keep.append(f)
            self.faults = keep
        return latency, chosen

    # call log
    def log_call(self, entry):
        with self.lock:
            self.call_seq += 1
            entry["seq"] = self.call_seq
            self.calls.append(entry)


REDACT = {"SecretString", "SecretBinary", "SecretAccessKey", "SessionToken",
          "Password", "NewPassword", "OldPassword", "Plaintext"}


def redact(v):
    if isinstance(v, dict):
        return {k: ("<redacted>" if k in REDACT else redact(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [redact(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return "<%d bytes>" % len(v)
    if isinstance(v, datetime.datetime):
        return iso8601(v)
    return v


def json_default(o):
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode()
    if isinstance(o, datetime.datetime):
        return iso8601(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


# ---- error / response serialisation -------------------------------------------------

THROTTLE = {"json": ("ThrottlingException", 400), "query": ("Throttling", 400),
            "ec2": ("RequestLimitExceeded", 503), "rest-xml": ("SlowDown", 503)}
DENIED = {"json": ("AccessDeniedException", 400), "query": ("AccessDenied", 403),
          "ec2": ("UnauthorizedOperation", 403), "rest-xml": ("AccessDenied", 403)}
# issue 23: rest-json (CodeArtifact's model: ThrottlingException 429,
# AccessDeniedException 403)
THROTTLE["rest-json"] = ("ThrottlingException", 429)
DENIED["rest-json"] = ("AccessDeniedException", 403)


def error_body(proto, service, err, rid):
    """-> (status, headers, body) for an AwsError in the protocol's shape."""
    if proto == "rest-json":
        # the code in x-amzn-ErrorType (what botocore's rest-json parser and
        # ours read first), the message in the body
        body = json.dumps({"message": err.message}).encode()
        return err.status, {"Content-Type": "application/json", "x-amzn-RequestId": rid,
                            "x-amzn-ErrorType": err.code}, body
    if proto == "json":
        body = json.dumps({"__type": err.code, "message": err.message}).encode()
        return err.status, {"Content-Type": "application/x-amz-json-1.1",
                            "x-amzn-RequestId": rid}, body
    if proto == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                '<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>'
                % (xml_escape(err.code), xml_escape(err.message), rid)).encode()
        return err.status, {"Content-Type": "text/xml;charset=UTF-8"}, body
    if proto == "rest-xml":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                '<RequestId>%s</RequestId><HostId>fakeaws</HostId></Error>'
                % (xml_escape(err.code), xml_escape(err.message), rid)).encode()
        return err.status, {"Content-Type": "application/xml", "x-amz-request-id": rid}, body
    ns = model(service).metadata.get("xmlNamespace", "") if service else ""
    body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>'
            '</Error><RequestId>%s</RequestId></ErrorResponse>'
            % (ns, "Sender" if err.sender else "Receiver", xml_escape(err.code),
               xml_escape(err.message), rid)).encode()
    return err.status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body


S3_ROOT = {"ListObjectsV2": "ListBucketResult", "ListObjects": "ListBucketResult",
           "ListBuckets": "ListAllMyBucketsResult", "GetBucketAcl": "AccessControlPolicy",
           "GetBucketTagging": "Tagging"}


def success_body(proto, service, opm, out, rid):
    out = out or {}
    shape = opm.output_shape
    if proto == "rest-json":
        # issue 23: the output shapes served have body members only
        body = json.dumps(json_value(shape, out) if shape else {}).encode()
        return 200, {"Content-Type": "application/json", "x-amzn-RequestId": rid}, body
    if proto == "json":
        body = json.dumps(json_value(shape, out) if shape else {}).encode()
        return 200, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid}, body
    ns = model(service).metadata.get("xmlNamespace", "")
    if proto == "ec2":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s"><requestId>%s</requestId>'
                 % (opm.name, ns, rid)]
        if shape is not None:
            xml_members(shape, out, parts)
        else:
            parts.append("<return>true</return>")
        parts.append("</%sResponse>" % opm.name)
        return 200, {"Content-Type": "text/xml;charset=UTF-8"}, "".join(parts).encode()
    if proto == "query":
        parts = ['<%sResponse xmlns="%s">' % (opm.name, ns)]
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", opm.name + "Result")
            parts.append("<%s>" % wrapper)
            xml_members(shape, out, parts)
            parts.append("</%s>" % wrapper)
        parts.append("<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>"
                     % (rid, opm.name))
        return 200, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, "".join(parts).encode()
    # rest-xml (s3)
    headers = {"x-amz-request-id": rid}
    body = b""
    status = 200
    if shape is not None:
        payload = shape.serialization.get("payload")
        for name, m in shape.members.items():
            v = out.get(name)
            if v is None:
                continue
            loc = m.serialization.get("location")
            if loc == "header":
                if m.type_name == "timestamp":
                    v = http_date(v)
                elif m.type_name == "boolean":
                    v = "true" if v else "false"
                headers[m.serialization["name"]] = str(v)
            elif loc == "headers":
                for k, x in v.items():
                    headers[m.serialization.get("name", "") + k] = str(x)
            elif loc == "statusCode":
                status = int(v)
        if payload and shape.members[payload].type_name == "structure":
            # a structure payload is the document itself (PolicyStatus,
            # PublicAccessBlockConfiguration), rooted at its own name
            m = shape.members[payload]
            v = out.get(payload)
            if v is not None:
                parts = ['<?xml version="1.0" encoding="UTF-8"?>\n']
                xml_element(m, v, m.serialization.get("name", payload), parts)
                body = "".join(parts).encode()
                headers["Content-Type"] = "application/xml"
        elif payload:
            v = out.get(payload)
            pm = shape.members[payload]
            if v is not None and pm.type_name == "structure":
                # a structure payload (GetObjectLockConfiguration) is the
                # document itself, its root named by the member
                root = pm.serialization.get("name", payload)
                parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' % root]
                xml_members(pm, v, parts)
                parts.append("</%s>" % root)
                body = "".join(parts).encode()
                headers["Content-Type"] = "application/xml"
            elif v is not None:
                body = v if isinstance(v, bytes) else str(v).encode()
        # An XML body only for members that live in the body: HeadObject's and
        # PutObject's answers are all headers and S3 sends no body (one here
        # also replaced the object's Content-Type with application/xml).
        elif any(not m.serialization.get("location") for m in shape.members.values()):
            root = S3_ROOT.get(opm.name, opm.name + "Result")
            parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' % root]
            xml_members(shape, out, parts)
            parts.append("</%s>" % root)
            body = "".join(parts).encode()
            headers["Content-Type"] = "application/xml"
    return status, headers, body


def malformed_body(proto):
    if proto == "json":
        return {"Content-Type": "application/x-amz-json-1.1"}, b'{"__malformed": [1, 2, {"x": '
    return {"Content-Type": "text/xml"}, b"<Response><Unclosed><x>garbage</Response"


# ---- validation messages ----------------------------------------------------------

def _lower_path(name):
    parts = [p for p in name.split(".") if p]
    return ".".join(p[0].lower() + p[1:] for p in parts)


def validation_error(proto, report):
    errs = report._errors
    msgs = []
    for reason, name, kw in errs:
        if reason == "missing required field":
            path = (name + "." if name else "") + kw["required_name"]
            if proto == "ec2":
                raise AwsError("MissingParameter",
                               "The request must contain the parameter %s" % kw["required_name"])
            msgs.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                        % _lower_path(path))
        elif reason == "unknown field":
            if proto == "ec2":
                raise AwsError("UnknownParameter", "The parameter %s is not recognized" % kw["unknown_param"])
            msgs.append("Unknown member '%s'" % _lower_path((name + ".") + kw["unknown_param"]))
        elif reason == "invalid type":
            if proto == "json":
                raise AwsError("SerializationException",
                               "Invalid type for '%s': expected %s" % (name.lstrip(".") or "input",
                                                                       ", ".join(kw["valid_types"])))
            msgs.append("Value at '%s' has an invalid type" % _lower_path(name))
        elif reason in ("invalid range", "invalid length"):
            msgs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have %s greater than or equal to %s"
                        % (kw.get("param"), _lower_path(name), "value" if reason == "invalid range" else "length",
                           kw.get("min_allowed")))
        else:
            msgs.append("%s at '%s'" % (reason, _lower_path(name)))
    code = {"json": "ValidationException", "query": "ValidationError",
            "ec2": "InvalidParameterValue", "rest-xml": "InvalidArgument",
            "rest-json": "ValidationException"}[proto]
    n = len(msgs)
    raise AwsError(code, "%d validation error%s detected: %s" % (n, "" if n == 1 else "s", "; ".join(msgs)))


# ---- rest-json (issue 23) ----------------------------------------------------------------

def rest_json_route(svcm, method, raw_path):
    """The operation whose http method and requestUri path are these (no path
    labels: CodeArtifact's domain and repository operations), else None."""
    for name in svcm.operation_names:
        h = svcm.operation_model(name).http
        if h.get("method") == method and h.get("requestUri", "").split("?")[0] == raw_path:
            return name
    return None


def rest_json_params(opm, query, body):
    """Input from the query string (members with location querystring, by
    locationName; integers and booleans converted by the shape) and the JSON
    body (the other members). A query name the shape does not have is an
    unknown member, as a misspelt body member is."""
    shape = opm.input_shape
    params = {}
    if shape is None:
        return params
    by_loc = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()
              if m.serialization.get("location") == "querystring"}
    for k, v in query:
        if k not in by_loc:
            raise AwsError("ValidationException", "1 validation error detected: Unknown query parameter '%s'" % k)
        n, m = by_loc[k]
        if m.type_name in ("integer", "long"):
            try:
                v = int(v)
            except ValueError:
                raise AwsError("ValidationException", "Value '%s' at '%s' is not an integer" % (v, n))
        elif m.type_name == "boolean":
            v = v == "true"
        params[n] = v
    if body.strip():
        try:
            b = json.loads(body)
            if not isinstance(b, dict):
                raise ValueError("not an object")
        except ValueError as e:
            raise AwsError("SerializationException", "Start of structure or map found where not expected (%s)" % e)
        for n, v in b.items():
            m = shape.members.get(n)
            if m is not None and m.serialization.get("location"):
                raise AwsError("ValidationException", "'%s' belongs in the %s, not the body"
                               % (n, m.serialization.get("location")))
            params[n] = v
    return params


# ---- S3 routing -----------------------------------------------------------------------

# issue 19: bucket subresources (public-lock), by method: (query name, operation)
S3_SUBRESOURCES = {
    "GET": (("policyStatus", "GetBucketPolicyStatus"), ("policy", "GetBucketPolicy"), ("acl", "GetBucketAcl"),
            ("tagging", "GetBucketTagging"), ("publicAccessBlock", "GetPublicAccessBlock")),
    "PUT": (("policy", "PutBucketPolicy"), ("acl", "PutBucketAcl"), ("tagging", "PutBucketTagging"),
            ("publicAccessBlock", "PutPublicAccessBlock")),
    "DELETE": (("policy", "DeleteBucketPolicy"), ("tagging", "DeleteBucketTagging"),
               ("publicAccessBlock", "DeletePublicAccessBlock")),
}
# S3 Control (signed as "s3"): its paths start with the API version
S3CONTROL_PREFIX = "/v20180820/"
S3CONTROL_ROUTES = {("GET", "/v20180820/configuration/publicAccessBlock"): "GetPublicAccessBlock",
                    ("PUT", "/v20180820/configuration/publicAccessBlock"): "PutPublicAccessBlock",
                    ("DELETE", "/v20180820/configuration/publicAccessBlock"): "DeletePublicAccessBlock"}


def xml_payload(shape, body):
    """A rest-xml structure payload (PublicAccessBlockConfiguration,
    Tagging, AccessControlPolicy) -> params, by the shape. Attributes
    (Grantee xsi:type) are read as their member."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                       "against our published schema (%s)" % e)

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    def conv(sh, el):
        t = sh.type_name
        if t == "structure":
            out = {}
            for name, m in sh.members.items():
                ln = m.serialization.get("name", name)
                if m.serialization.get("xmlAttribute"):
                    for k, v in el.attrib.items():
                        if local(k) == ln.split(":")[-1]:
                            out[name] = v
                    continue
                kids = [c for c in el if local(c.tag) == ln]
                if m.type_name == "list" and m.serialization.get("flattened"):
                    if kids:
                        out[name] = [conv(m.member, c) for c in kids]
                elif kids:
                    out[name] = conv(m, kids[0])
            return out
        if t == "list":
            iname = sh.member.serialization.get("name", "member")
            return [conv(sh.member, c) for c in el if local(c.tag) == iname]
        txt = el.text or ""
        if t == "boolean":
            if txt not in ("true", "false"):
                raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema")
            return txt == "true"
        if t in ("integer", "long"):
            return int(txt)
        return txt
    return conv(shape, root)


def s3_route(method, path, query):
    """-> (op, bucket, key)."""
    parts = path.lstrip("/").split("/", 1)
    bucket = unquote(parts[0]) if parts[0] else None
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] != "" else None
    q = dict(query)
    if bucket is None:
        return ("ListBuckets" if method == "GET" else None), None, None
    if key is None:
        if method == "GET":
            if "versioning" in q:
                return "GetBucketVersioning", bucket, None
            if "location" in q:
                return "GetBucketLocation", bucket, None
            if "object-lock" in q:
                return "GetObjectLockConfiguration", bucket, None
            for sub, op in S3_SUBRESOURCES["GET"]:
                if sub in q:
                    return op, bucket, None
            return ("ListObjectsV2" if q.get("list-type") == "2" else "ListObjects"), bucket, None
        for sub, op in S3_SUBRESOURCES.get(method, ()):
            if sub in q:
                return op, bucket, None
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method), bucket, None
    return {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject",
            "DELETE": "DeleteObject"}.get(method), bucket, key


def s3_params(opm, bucket, key, query, headers, body):
    shape = opm.input_shape
    p = {}
    q = dict(query)
    payload = shape.serialization.get("payload")
    for name, m in shape.members.items():
        loc = m.serialization.get("location")
        ln = m.serialization.get("name", name)
        raw = None
        if loc == "uri":
            raw = bucket if ln == "Bucket" else key
            if raw is not None:
                p[name] = raw
            continue
        if loc == "header":
            raw = headers.get(ln)
        elif loc == "querystring":
            raw = q.get(ln)
        elif loc == "headers":
            pre = ln.lower()
            md = {k[len(pre):]: v for k, v in headers.items() if k.lower().startswith(pre)}
            if md:
                p[name] = md
            continue
        elif name == payload:
            if body and m.type_name == "structure":
                p[name] = xml_payload(m, body)
            elif body and m.type_name == "string":  # PutBucketPolicy's Policy
                p[name] = body.decode("utf-8", "replace")
            elif body:
                p[name] = body
            continue
        if raw is not None:
            if m.type_name == "timestamp":
                p[name] = raw
            else:
                try:
                    p[name] = _scalar(m, raw, ln)
                except ParamError as e:
                    raise AwsError("InvalidArgument", str(e))
    return p


# ---- HTTP ------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeaws"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_HEAD = do_DELETE = do_GET

    # ---- plumbing
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(n))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, headers, body, head=False):
        self.send_response(status)
        has_len = False
        for k, v in headers.items():
            if k.lower() == "content-length":
                has_len = True
            self.send_header(k, v)
        if not has_len:
            self.send_header("Content-Length", str(len(body)))
        # headers and body in one write: two small segments would meet the
        # client's delayed ACK and cost ~40 ms a call
        self._headers_buffer.append(b"\r\n")
        if not head and body:
            self._headers_buffer.append(body)
        self.flush_headers()

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    # ---- admin
    def _admin(self, path, query, body):
        world = self.server.world
        q = dict(query)
        try:
            data = json.loads(body) if body else {}
        except ValueError as e:
            return self._send(400, {"Content-Type": "application/json"},
                              json.dumps({"error": "bad json: %s" % e}).encode())
        out = {"ok": True}
        m = self.command
        try:
            if path == "/_fake/seed" and m == "POST":
                merge = q.get("mode") == "merge" or (isinstance(data, dict) and data.pop("_merge", False))
                world.load_seed(data, merge=bool(merge))
                if not merge:
                    world.initial_seed = copy.deepcopy(data)
                    world.generation += 1
            elif path == "/_fake/state" and m == "GET":
                out = world.dump()
            elif path == "/_fake/calls" and m == "GET":
                with world.lock:
                    calls = list(world.calls)
                since = int(q.get("since", 0))
                calls = [c for c in calls if c["seq"] > since
                         and q.get("service", c["service"]) == c["service"]
                         and q.get("operation", c["operation"]) == c["operation"]]
                out = {"calls": calls}
            elif path == "/_fake/calls/reset" and m == "POST":
                with world.lock:
                    world.calls = []
            elif path == "/_fake/faults" and m == "POST":
                world.set_faults(data)
                out = {"ok": True, "faults": world.faults, "global_latency_ms": world.global_latency_ms}
            elif path == "/_fake/faults" and m == "GET":
                out = {"faults": world.faults, "global_latency_ms": world.global_latency_ms}
            elif path == "/_fake/reset" and m == "POST":
                with world.lock:
                    world.calls = []
                    world.faults = []
                    world.global_latency_ms = 0
                    world.load_seed(world.initial_seed, merge=False)
                    world.generation += 1
            elif path == "/_fake/health":
                out = {"ok": True}
            elif path == "/_fake/tls" and m == "GET":
                with world.lock:
                    out = dict(world.tls)
            else:
                return self._send(404, {"Content-Type": "application/json"}, b'{"error":"no such admin path"}')
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, {"Content-Type": "application/json"},
                              json.dumps({"error": "%s: %s" % (type(e).__name__, e)}).encode())
        self._send(200, {"Content-Type": "application/json"},
                   json.dumps(out, default=json_default).encode())

    # ---- AWS
    def _handle(self):
        t0 = time.time()
        split = urlsplit(self.path)
        raw_path, raw_query = split.path, split.query
        body = self._read_body()
        if raw_path.startswith("/_fake/"):
            return self._admin(raw_path, parse_qsl(raw_query, keep_blank_values=True), body)
        if self.server.admin_only:
            # the plain-http admin listener of a TLS fake: an AWS call here would
            # be a test that thinks it uses TLS and does not
            return self._send(404, {"Content-Type": "application/json"},
                              b'{"error":"admin-only listener: AWS calls go to the TLS port"}')
        world = self.server.world
        rid = new_request_id()
        entry = {"time": t0, "service": None, "operation": None, "params": None,
                 "account": None, "access_key": None, "region": None,
                 "status": None, "code": None, "fault": None}
        service = None
        proto = None
        head = self.command == "HEAD"
        try:
            auth = self.headers.get("Authorization")
            # guess the protocol for errors before the credential scope is known
            if self.headers.get("X-Amz-Target"):
                proto = "json"
            elif "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "") or "Action=" in raw_query:
                proto = "query"
            else:
                proto = "rest-xml"
            if not auth:
                if proto == "json":
                    raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
                if proto == "query":
                    raise AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
                raise AwsError("AccessDenied", "Access Denied", 403)
            m = AUTH_RE.match(auth.strip())
            scope = None
            if m:
                scope = m.group(1).split("/")
                if len(scope) != 5 or scope[4] != "aws4_request":
                    scope = None
            if scope is None:
                cred = re.search(r"Credential=([^,\s]+)", auth)
                if cred and len(cred.group(1).split("/")) == 5:
                    service = cred.group(1).split("/")[3]
                    if service in SERVICES:
                        proto = protocol_of(service)
                raise AwsError("IncompleteSignature",
                               "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
                               "parameters in the form AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., "
                               "Signature=...", 400 if proto != "rest-xml" else 400)
            ak, sdate, region, service, _ = scope
            if service not in SERVICES:
                service = None
                raise AwsError("UnrecognizedClientException" if proto == "json" else "InvalidClientTokenId",
                               "fakeaws does not emulate service in credential scope: %s" % scope[3], 400)
            proto = protocol_of(service)
            entry.update(service=service, access_key=ak, region=region)
            svcm = model(service)
            query = parse_qsl(raw_query, keep_blank_values=True)

            # operation
            bucket = key = None
            if proto == "json":
                target = self.headers.get("X-Amz-Target", "")
                prefix, _, op = target.rpartition(".")
                if prefix != svcm.metadata.get("targetPrefix") or op not in svcm.operation_names:
                    entry["operation"] = op or target
                    raise AwsError("UnknownOperationException", "", 400)
                try:
                    params = json.loads(body) if body.strip() else {}
                    if not isinstance(params, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    raise AwsError("SerializationException", "Start of structure or map found where not expected (%s)" % e)
            elif proto in ("query", "ec2"):
                if self.command == "POST" and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                else:
                    form = dict(query)
                op = form.pop("Action", None)
                version = form.pop("Version", None)
                if not op or op not in svcm.operation_names:
                    entry["operation"] = op
                    raise AwsError("InvalidAction", "The action %s is not valid for this web service." % op, 400)
                if version != svcm.api_version:
                    entry["operation"] = op
                    raise AwsError("InvalidAction" if proto == "query" else "InvalidParameterValue",
                                   "Could not find operation %s for version %s" % (op, version), 400)
                params = None  # after auth
            elif proto == "rest-json":
                # issue 23: method + requestUri (CodeArtifact's have no labels)
                op = rest_json_route(svcm, self.command, raw_path)
                if op is None:
                    raise AwsError("UnknownOperationException",
                                   "fakeaws: no %s operation for %s %s" % (service, self.command, raw_path), 404)
                params = None  # after auth
            else:
                host = (self.headers.get("Host") or "").split(":")[0]
                path_for_route = raw_path
                if host.endswith(".localhost") and host != "localhost":  # virtual-hosted style
                    path_for_route = "/" + host[:-len(".localhost")] + raw_path
                if raw_path.startswith(S3CONTROL_PREFIX):
                    # S3 Control signs as s3; the path names it (issue 19)
                    service = "s3control"
                    svcm = model(service)
                    entry["service"] = service
                    op = S3CONTROL_ROUTES.get((self.command, raw_path))
                else:
                    op, bucket, key = s3_route(self.command, path_for_route, query)
                if op is None:
                    raise AwsError("NotImplemented", "fakeaws: no S3 operation for %s %s" % (self.command, raw_path), 501)
            entry["operation"] = op

            # authentication
            amz_date = self.headers.get("X-Amz-Date")
            if not amz_date:
                raise AwsError("IncompleteSignature" if proto != "rest-xml" else "AccessDenied",
                               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
                               400 if proto != "rest-xml" else 403)
            try:
                when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            except ValueError:
                raise AwsError("IncompleteSignature", "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date)
            try:
                secret, account, arn, token = world.find_credentials(ak)
            except LookupError as e:
                if str(e) == "expired":
                    raise AwsError("ExpiredTokenException" if proto == "json" else "ExpiredToken",
                                   "The security token included in the request is expired", 400 if proto == "json" else 403)
                code = {"json": "UnrecognizedClientException", "query": "InvalidClientTokenId",
                        "ec2": "AuthFailure", "rest-xml": "InvalidAccessKeyId",
                        "rest-json": "UnrecognizedClientException"}[proto]
                msg = ("The AWS Access Key Id you provided does not exist in our records." if proto == "rest-xml"
                       else "AWS was not able to validate the provided access credentials" if proto == "ec2"
                       else "The security token included in the request is invalid.")
                raise AwsError(code, msg, 400 if proto == "json" else 403)
            entry["account"] = account
            sent_token = self.headers.get("X-Amz-Security-Token")
            if token != sent_token and (token or sent_token):
                code = {"json": "UnrecognizedClientException", "query": "InvalidClientTokenId",
                        "ec2": "AuthFailure", "rest-xml": "InvalidToken",
                        "rest-json": "UnrecognizedClientException"}[proto]
                raise AwsError(code, "The security token included in the request is invalid.",
                               400 if proto in ("json", "rest-xml") else 403)
            skew = (datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()
            if abs(skew) > SKEW_SECONDS:
                now_s = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                if proto == "rest-xml":
                    raise AwsError("RequestTimeTooSkewed",
                                   "The difference between the request time and the current time is too large.", 403)
                if proto == "ec2":
                    raise AwsError("RequestExpired", "Request has expired. Timestamp date is %s" % amz_date, 400)
                raise AwsError("InvalidSignatureException" if proto == "json" else "SignatureDoesNotMatch",
                               "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (
                                   amz_date, (datetime.datetime.now(datetime.timezone.utc)
                                              - datetime.timedelta(seconds=SKEW_SECONDS)).strftime("%Y%m%dT%H%M%SZ"),
                                   now_s) if skew > 0 else
                               "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
                                   amz_date, (datetime.datetime.now(datetime.timezone.utc)
                                              + datetime.timedelta(seconds=SKEW_SECONDS)).strftime("%Y%m%dT%H%M%SZ"),
                                   now_s), 400 if proto == "json" else 403)
            signed_names = m.group(2).lower().split(";")
            if "host" not in signed_names:
                raise AwsError("InvalidSignatureException" if proto == "json" else "SignatureDoesNotMatch",
                               "'Host' must be a 'SignedHeader' in the AWS Authorization.", 400 if proto == "json" else 403)
            if service in ("s3", "s3control"):
                csha = self.headers.get("x-amz-content-sha256")
                if not csha:
                    raise AwsError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
                if csha.startswith("STREAMING-"):
                    raise AwsError("NotImplemented", "fakeaws does not implement aws-chunked uploads", 501)
                if csha != "UNSIGNED-PAYLOAD" and csha != hashlib.sha256(body).hexdigest():
                    raise AwsError("XAmzContentSHA256Mismatch",
                                   "The provided 'x-amz-content-sha256' header does not match what was computed.")
            want = expected_signature(secret, ak, token, "s3" if service == "s3control" else service, region, self.command, raw_path, raw_query,
                                      self.headers, signed_names, body, amz_date)
            if sdate != amz_date[:8] or want != m.group(3):
                if proto == "json":
                    raise AwsError("InvalidSignatureException",
                                   "The request signature we calculated does not match the signature you provided. "
                                   "Check your AWS Secret Access Key and signing method. Consult the service "
                                   "documentation for details.", 400)
                raise AwsError("SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided. "
                               "Check your key and signing method.", 403)

            # parameters
            opm = svcm.operation_model(op)
            if proto in ("query", "ec2"):
                used = set()
                try:
                    params = unflatten(opm.input_shape, form, "", proto == "ec2", used) if opm.input_shape else {}
                except ParamError as e:
                    raise AwsError("InvalidParameterValue" if proto == "ec2" else "ValidationError", str(e))
                if proto == "ec2":
                    extra = sorted(k for k in form if k not in used)
                    if extra:
                        raise AwsError("UnknownParameter", "The parameter %s is not recognized" % extra[0].split(".")[0])
            elif proto == "rest-xml":
                params = s3_params(opm, bucket, key, query, self.headers, body)
            elif proto == "rest-json":
                params = rest_json_params(opm, query, body)
            entry["params"] = redact(params)

            # faults
            latency, fault = world.take_faults(service, op, region)
            if latency:
                gen = world.generation
                time.sleep(latency / 1000.0)
                if world.generation != gen:
                    # the world was reset meanwhile (its caller gave up and the
                    # next test began): act on nothing of the new one
                    return self._reset()
            if fault is not None:
                entry["fault"] = fault["kind"]
                k = fault["kind"]
                if k == "reset":
                    entry["status"] = 0
                    world.log_call(entry)
                    return self._reset()
                if k == "malformed":
                    h, b = malformed_body(proto)
                    entry["status"] = 200
                    world.log_call(entry)
                    return self._send(200, h, b, head)
                if k == "throttle":
                    code, status = THROTTLE[proto]
                    raise AwsError(fault.get("code", code), fault.get("message", "Rate exceeded"),
                                   int(fault.get("status", status)))
                if k == "access_denied":
                    code, status = DENIED[proto]
                    raise AwsError(fault.get("code", code), fault.get("message",
                                   "User: %s is not authorized to perform: %s:%s" % (arn, service, op)), status)
                if k == "error":
                    status = int(fault.get("status", 500))
                    if status == 503:
                        code = {"ec2": "Unavailable"}.get(proto, "ServiceUnavailable")
                    else:
                        code = {"ec2": "InternalError", "rest-xml": "InternalError"}.get(proto, "InternalFailure")
                    raise AwsError(fault.get("code", code), fault.get("message",
                                   "We encountered an internal error. Please try again."), status, sender=False)

            # validation
            if opm.input_shape is not None:
                report = _validator.validate(params, opm.input_shape)
                if report.has_errors():
                    validation_error(proto, report)

            ctx = Ctx(world=world, service=service, op=op, account=account, region=region,
                      access_key=ak, caller_arn=arn, request_id=rid, headers=self.headers,
                      body=body, query=dict(query), bucket=bucket, key=key, now=time.time())
            svc = world.services[service]
            fn = getattr(svc, "op_" + op, None)
            if fn is None:
                raise AwsError("NotImplemented" if proto != "json" else "UnknownOperationException",
                               "fakeaws does not implement %s.%s" % (service, op), 501 if proto != "json" else 400)
            with world.lock:
                out = fn(ctx, params)
            status, headers, rbody = success_body(proto, service, opm, out, rid)
            entry.update(status=status)
            world.log_call(entry)
            self._send(status, headers, rbody, head)
        except AwsError as e:
            entry.update(status=e.status, code=e.code, message=e.message)
            world.log_call(entry)
            status, headers, rbody = error_body(proto or "json", service, e, rid)
            self._send(status, headers, rbody, head)
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception as e:  # a bug in the fake: answer 500 and say so
            import traceback
            traceback.print_exc()
            err = AwsError("InternalFailure", "fakeaws bug: %s: %s" % (type(e).__name__, e), 500, sender=False)
            entry.update(status=500, code=err.code, message=err.message)
            world.log_call(entry)
            status, headers, rbody = error_body(proto or "json", service, err, rid)
            self._send(status, headers, rbody, head)
        finally:
            entry["duration_ms"] = round((time.time() - t0) * 1000, 3)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, world, ssl_context=None, admin_only=False):
        self.world = world
        self.ssl_context = ssl_context  # an ssl.SSLContext: serve HTTPS
        self.admin_only = admin_only    # only /_fake/ paths (see Handler._handle)
        super().__init__(addr, Handler)

    def get_request(self):
        # No handshake here: this runs in the accepting thread, and one client
        # that stalls or fails its handshake must not stop the others.
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        # Runs in the per-connection thread: a failed handshake (a client that
        # rejects our certificate) ends this connection only.
        if self.ssl_context is not None:
            with self.world.lock:
                self.world.tls["connections"] += 1
            try:
                request.settimeout(10)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                with self.world.lock:
                    self.world.tls["failures"] += 1
                    self.world.tls["last_error"] = str(e)[:300]
                return
            with self.world.lock:
                self.world.tls["handshakes"] += 1
        super().finish_request(request, client_address)


def preload():
    for s in SERVICES:
        m = model(s)
        for op in m.operation_names:
            m.operation_model(op)
