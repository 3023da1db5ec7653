"""Shared by the Python 3 + boto3 baselines: what a team would deploy instead of
firebreak, written the usual way (a Lambda handler module, clients created at
import, calls one after another). Used only by tests/bench/bench.py.

Run as a script: `python3 BASELINE.py EVENT.json` calls handler(event, None) once
and prints the result JSON with timings; the bench runs it against tests/fakeaws
(AWS_ENDPOINT_URL; Debian's botocore 1.29 predates that variable, so it is passed
to each client explicitly)."""
import json
import os
import sys
import time

T_IMPORT = time.time()

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

CONFIG = Config(retries={"mode": "standard", "max_attempts": 3},
                s3={"addressing_style": "path"})


def client(service):
    return boto3.client(service, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
                        region_name=os.environ.get("AWS_REGION", "us-east-1"), config=CONFIG)


class Report:
    def __init__(self, function):
        self.t0 = time.time()
        self.doc = {"function": function, "actions": [], "verdict": None}
        self.contained_at = None

    def step(self, step, api, fn, *a, **kw):
        t = time.time()
        out = fn(*a, **kw)
        self.doc["actions"].append({"step": step, "api": api, "status": "done",
                                    "started_ms": round((t - self.t0) * 1000, 1),
                                    "elapsed_ms": round((time.time() - t) * 1000, 1)})
        return out

    def contained(self):
        self.contained_at = time.time()

    def finish(self):
        end = time.time()
        self.doc["timings"] = {
            "received_to_contained_ms": round((self.contained_at - self.t0) * 1000, 1)
            if self.contained_at else None,
            "received_to_done_ms": round((end - self.t0) * 1000, 1),
            "import_to_received_ms": round((self.t0 - T_IMPORT) * 1000, 1)}
        return self.doc


def main(handler):
    with open(sys.argv[1]) as f:
        event = json.load(f)
    out = handler(event, None)
    sys.stdout.write(json.dumps(out) + "\n")
