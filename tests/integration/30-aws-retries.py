#!/usr/bin/python3
"""Retries, deadlines and concurrency of runtime/aws.c against fakeaws
with injected faults (POST /_fake/faults).

Each case asserts on the error the C layer returns and on fakeaws's own
call log (how many requests really arrived), never on tight timings; the
deadline cases only add a loose wall-clock safety bound.
"""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("aws_services", os.path.join(HERE, "30-aws-services.py"))
svc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(svc)
check = svc.check


def faults(f, *items, **kw):
    body = {"clear": True, "faults": list(items)}
    body.update(kw)
    f.admin("/_fake/faults", body)
    f.admin("/_fake/calls/reset", {})


def calls_for(f, op):
    c = f.admin("/_fake/calls")
    c = c["calls"] if isinstance(c, dict) else c
    return [x for x in c if x.get("operation") == op]


def report(f, *args, env=None):
    rc, out = f.c("--report", *args, env=env)
    return rc, out or {}


def run(f):
    # throttled twice, then success: three attempts, three requests
    faults(f, {"kind": "throttle", "service": "kms", "operation": "ListKeys", "count": 2})
    rc, r = report(f, "kms", "ListKeys")
    got = calls_for(f, "ListKeys")
    check(rc == 0 and r.get("rc") == "FB_OK" and r.get("attempts") == 3 and "Keys" in r.get("out", {}),
          "json: throttled twice then success, attempts == 3")
    check([c.get("code") for c in got][:2] == ["ThrottlingException"] * 2 and len(got) == 3,
          "json: fakeaws saw 2 throttled requests and 1 success")

    faults(f, {"kind": "throttle", "service": "ec2", "operation": "DescribeSecurityGroups", "count": 2})
    rc, r = report(f, "ec2", "DescribeSecurityGroups")
    check(rc == 0 and r.get("attempts") == 3 and len(calls_for(f, "DescribeSecurityGroups")) == 3,
          "ec2: RequestLimitExceeded twice then success, attempts == 3")

    faults(f, {"kind": "throttle", "service": "s3", "operation": "PutObject", "count": 2})
    rc, r = report(f, "--bucket", "evidence-bucket", "--key", "retry/k", "--body", "x", "s3", "PutObject")
    check(rc == 0 and r.get("attempts") == 3 and len(calls_for(f, "PutObject")) == 3,
          "s3: SlowDown twice then success, attempts == 3 (re-signed each time)")

    # three failures: the error says how many attempts were made
    faults(f, {"kind": "error", "status": 503, "service": "iam", "operation": "GetAccountSummary", "count": 10})
    rc, r = report(f, "iam", "GetAccountSummary")
    check(rc == 1 and r.get("rc") == "FB_E_AWS" and r.get("attempts") == 3 and r.get("http_status") == 503
          and r.get("code") == "ServiceUnavailable" and "after 3 attempts" in r.get("message", ""),
          "query: three 503s give FB_E_AWS 'after 3 attempts'")
    check(len(calls_for(f, "GetAccountSummary")) == 3, "query: exactly 3 requests reached fakeaws")

    # AWS_MAX_ATTEMPTS raises the budget
    faults(f, {"kind": "throttle", "service": "sns", "operation": "ListTopics", "count": 4})
    rc, r = report(f, "sns", "ListTopics", env={"AWS_MAX_ATTEMPTS": "5"})
    check(rc == 0 and r.get("attempts") == 5, "AWS_MAX_ATTEMPTS=5: four throttles then success")
    faults(f, {"kind": "throttle", "service": "sns", "operation": "ListTopics", "count": 4})
    rc, r = report(f, "sns", "ListTopics", env={"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "legacy"})
    check(rc == 1 and r.get("attempts") == 1 and r.get("code") == "Throttling",
          "AWS_MAX_ATTEMPTS=1: no retry")

    # a connection reset is retried
    faults(f, {"kind": "reset", "service": "ecs", "operation": "ListClusters", "count": 1})
    rc, r = report(f, "ecs", "ListClusters")
    check(rc == 0 and r.get("attempts") == 2, "network: a reset connection is retried once")

    # a non-retryable 4xx is not retried
    faults(f, {"kind": "access_denied", "service": "kms", "operation": "DescribeKey", "count": 1})
    rc, r = report(f, "kms", "DescribeKey", json.dumps({"KeyId": "alias/payments"}))
    check(rc == 1 and r.get("attempts") == 1 and r.get("code") == "AccessDeniedException"
          and len(calls_for(f, "DescribeKey")) == 1, "4xx: AccessDenied is not retried")

    # never past the deadline: 2 s latency, 500 ms deadline
    faults(f, {"kind": "latency", "service": "kms", "operation": "DescribeKey", "latency_ms": 2000})
    t0 = time.monotonic()
    rc, r = report(f, "--deadline-ms", "500", "kms", "DescribeKey", json.dumps({"KeyId": "alias/payments"}))
    wall = time.monotonic() - t0
    check(rc == 1 and r.get("rc") == "FB_E_TIMEOUT" and r.get("attempts") == 1
          and "after 1 attempt" in r.get("message", ""), "deadline: slow answer gives FB_E_TIMEOUT after 1 attempt")
    check(wall < 1.5, "deadline: returned well before the 2 s answer (loose bound, %.2f s)" % wall)

    # never past the deadline through backoff either: endless throttling
    faults(f, {"kind": "throttle", "service": "logs", "operation": "DescribeLogGroups"})
    t0 = time.monotonic()
    rc, r = report(f, "--deadline-ms", "800", "logs", "DescribeLogGroups", env={"AWS_MAX_ATTEMPTS": "20"})
    wall = time.monotonic() - t0
    n = len(calls_for(f, "DescribeLogGroups"))
    check(rc == 1 and r.get("rc") == "FB_E_TIMEOUT" and r.get("code") == "ThrottlingException"
          and r.get("attempts") == n and ("after %d attempt" % n) in r.get("message", ""),
          "deadline: endless throttling stops with FB_E_TIMEOUT saying 'after %d attempts'" % n)
    check(wall < 1.5, "deadline: backoff never waited past the deadline (loose bound, %.2f s)" % wall)

    # concurrency: N calls in flight at once (fakeaws's log shows overlap)
    faults(f, {"kind": "latency", "service": "secretsmanager", "operation": "ListSecrets", "latency_ms": 500})
    rc, r = f.c("--repeat", "8", "secretsmanager", "ListSecrets")
    got = calls_for(f, "ListSecrets")
    overlap = got and max(c["time"] for c in got) < min(c["time"] + c["duration_ms"] / 1000.0 for c in got)
    check(rc == 0 and r and r.get("ok") == 8 and len(got) == 8 and overlap,
          "run_all: 8 calls all succeed and were in flight together")
    faults(f)


def main():
    if not os.access(svc.TOOL, os.X_OK):
        print("missing %s (run make all)" % svc.TOOL)
        return 1
    f = svc.Fake()
    try:
        run(f)
    finally:
        f.close()
    print("\n%d failure(s)" % len(svc.failures))
    return 1 if svc.failures else 0


if __name__ == "__main__":
    sys.exit(main())
