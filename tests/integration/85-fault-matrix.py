#!/usr/bin/python3
"""Fault-injection matrix: for each responder present, each AWS call its main
scenario makes (from the fake's call log of a clean run) and each fault, the
scenario runs again against tests/fakeaws with that fault on that operation:

  throttle2   throttled twice, then served           (transient: must recover)
  500x1       one 500                                (transient: must recover)
  reset1      one connection reset                   (transient: must recover)
  500always   500 on every attempt                   (persistent)
  latency     one answer delayed past the function timeout (deadline)
  malformed   a 200 with a truncated body, always    (persistent)
  denied      AccessDenied, always                   (persistent)

Asserted for every case:
  - no crash (a function error is fine; the emulator's Sandbox.Timedout only
    for the latency fault);
  - never a "contained" verdict with a failed required step;
  - no destructive write repeated: a write (op, params) succeeding more often
    than in the clean run (and more than once) fails;
  - a transient fault ends like the clean run (same verdict and the same
    successful writes, i.e. the same final state);
  - an error result carrying a report under a persistent fault names the
    faulted call: actions[] has a failed step whose api is service:Operation.
Prints the matrix (responder x op x fault -> ok/err/TO) with counts.
FB_MATRIX_JOBS sets the parallel workers (default 4, one fakeaws each)."""
import collections
import concurrent.futures as cf
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
import scenarios  # noqa: E402
import fbtest  # noqa: E402

TIMEOUT = 25              # normal cases (seconds, the function timeout)
LAT_TIMEOUT = 3           # latency cases: the function timeout ...
LAT_MS = 4500             # ... and the injected delay, past it
FAULTS = [
    ("throttle2", {"kind": "throttle", "count": 2}, "transient"),
    ("500x1", {"kind": "error", "status": 500, "count": 1}, "transient"),
    ("reset1", {"kind": "reset", "count": 1}, "transient"),
    ("500always", {"kind": "error", "status": 500}, "persistent"),
    ("latency", {"kind": "latency", "latency_ms": LAT_MS, "count": 1}, "deadline"),
    ("malformed", {"kind": "malformed"}, "persistent"),
    ("denied", {"kind": "access_denied"}, "persistent"),
]
# Known gaps reported to the lead: (responder, "service:Op", check) -> why.
# Printed as XFAIL; a known gap that stops failing is an XPASS failure, so
# this list only shrinks.
KNOWN = {
}
CRASH_TYPES = ("Runtime.ExitError", "Runtime.Unknown", "Emulator.Error")


def write_key(c):
    return "%s:%s %s" % (c.get("service"), c.get("operation"),
                         json.dumps(c.get("params"), sort_keys=True, default=str))


def ok_writes(calls):
    """Counter of successful writes (SNS Publish included: a repeated
    notification is a repeat too) by (op, params)."""
    n = collections.Counter()
    for c in fbtest.writes(calls, include_notify=True):
        st = c.get("status") or 0
        if 200 <= st < 300 and not c.get("fault"):
            n[write_key(c)] += 1
    return n


def op_counts(writes):
    n = collections.Counter()
    for k, v in writes.items():
        n[k.split(" ", 1)[0]] += v
    return n


class Worker:
    """One fakeaws per thread."""
    local = threading.local()
    fakes = []
    lock = threading.Lock()

    @classmethod
    def fake(cls):
        f = getattr(cls.local, "fake", None)
        if f is None:
            f = fbtest.Fake({}).start()
            cls.local.fake = f
            with cls.lock:
                cls.fakes.append(f)
        return f


def run_case(sc, fault=None, service=None, op=None, timeout=TIMEOUT):
    fake = Worker.fake()
    fake.seed(sc.seed)
    fake.reset()
    if fault:
        spec = dict(fault)
        spec.update(service=service, operation=op)
        fake.faults(spec)
    res = fbtest.invoke(sc.name, sc.event, fake, env=sc.env, timeout=timeout, account=sc.account)
    # A latency case's delayed request is still asleep in the fake: the next
    # case's reset drops it (the fake's generation), so no wait here.
    return res, fake.calls()


def verdict(res):
    rep = res.report
    return rep.get("verdict") if isinstance(rep, dict) else None


def check(sc, clean, svc, op, fname, cls, res, calls):
    """-> (cell, [problems])"""
    probs = []
    rep = res.report if isinstance(res.report, dict) else None
    api = "%s:%s" % (svc, op)
    if res.ok:
        cell = "ok"
    elif res.error_type == "Sandbox.Timedout":
        cell = "TO"
    else:
        cell = "err"
    if res.body is None:
        probs.append("no parsable response: %r" % res.raw[:300])
    if res.error_type in CRASH_TYPES:
        probs.append("crash: %s %s" % (res.error_type, (res.error_message or "")[:200]))
    if cell == "TO" and cls != "deadline":
        probs.append("timed out without a deadline fault")
    if rep is not None:
        v = rep.get("verdict") or ""
        failed_req = [a for a in rep.get("actions") or [] if a.get("status") == "failed" and a.get("required")]
        if v.startswith("contained") and failed_req:
            probs.append("verdict %r with failed required step(s) %s" % (v, [a.get("api") for a in failed_req]))
        if res.ok and failed_req:
            probs.append("success result with failed required step(s) %s" % [a.get("api") for a in failed_req])
    base = clean["writes"]
    for k, n in ok_writes(calls).items():
        if n > 1 and n > base.get(k, 0):
            probs.append("write repeated %dx (clean run: %d): %s" % (n, base.get(k, 0), k[:160]))
    if cls == "transient":
        if verdict(res) != clean["verdict"] or res.ok != clean["ok"]:
            probs.append("did not recover: verdict %r (clean %r), ok=%s" % (verdict(res), clean["verdict"], res.ok))
        elif op_counts(ok_writes(calls)) != op_counts(base):
            # by operation: ids the fake generates (security groups, versions)
            # and report text differ between runs
            probs.append("final writes differ from the clean run: %s vs %s" % (
                dict(op_counts(ok_writes(calls))), dict(op_counts(base))))
    if cls == "persistent" and not res.ok and rep is not None and res.error_type != "Sandbox.Timedout":
        named = [a for a in rep.get("actions") or [] if a.get("status") == "failed" and a.get("api") == api]
        if not named and (sc.name, api, "named") not in KNOWN:
            probs.append("error result does not name the failed call %s (failed: %s)" % (
                api, [a.get("api") for a in rep.get("actions") or [] if a.get("status") == "failed"]))
        elif not named:
            print("XFAIL %s %s: %s" % (sc.name, api, KNOWN[(sc.name, api, "named")]))
        elif (sc.name, api, "named") in KNOWN:
            probs.append("XPASS: known gap fixed, remove it from KNOWN: %s" % api)
    return cell, probs


def main():
    t0 = time.time()
    scs = scenarios.all_present()
    if not scs:
        print("no responders built")
        print("0 passed, 1 failed")
        return 1
    jobs = int(os.environ.get("FB_MATRIX_JOBS", "4"))
    cleans, cases = {}, []
    failures = []
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(run_case, sc): sc for sc in scs}
        for fu in cf.as_completed(futs):
            sc = futs[fu]
            res, calls = fu.result()
            opl = []
            for c in calls:
                k = (c.get("service"), c.get("operation"))
                if k not in opl:
                    opl.append(k)
            cleans[sc.name] = {"ok": res.ok, "verdict": verdict(res), "writes": ok_writes(calls), "ops": opl}
            print("clean %-16s ok=%s verdict=%r calls=%d ops=%s" % (
                sc.name, res.ok, verdict(res), len(calls), ", ".join("%s:%s" % k for k in opl)))
            if res.body is None or res.error_type in CRASH_TYPES:
                failures.append("%s clean run: %r" % (sc.name, res))
            for svc, op in opl:
                for fname, spec, cls in FAULTS:
                    cases.append((sc, svc, op, fname, spec, cls))
        # latency cases first: they are the slowest
        cases.sort(key=lambda c: c[3] != "latency")
        futs = {ex.submit(run_case, sc, spec, svc, op, LAT_TIMEOUT if cls == "deadline" else TIMEOUT):
                (sc, svc, op, fname, cls) for sc, svc, op, fname, spec, cls in cases}
        cells = {}
        for fu in cf.as_completed(futs):
            sc, svc, op, fname, cls = futs[fu]
            try:
                res, calls = fu.result()
                cell, probs = check(sc, cleans[sc.name], svc, op, fname, cls, res, calls)
            except Exception as e:  # the harness itself: count it as a failure
                cell, probs = "?", ["harness: %r" % e]
            cells[(sc.name, svc, op, fname)] = (cell, probs)
            for p in probs:
                failures.append("%s %s:%s %s: %s" % (sc.name, svc, op, fname, p))
    for f in Worker.fakes:
        f.stop()

    # the matrix
    names = [f[0] for f in FAULTS]
    print()
    print("%-16s %-36s " % ("responder", "call") + " ".join("%-9s" % n for n in names))
    counts = collections.Counter()
    for sc in scs:
        for svc, op in cleans[sc.name]["ops"]:
            row = []
            for n in names:
                cell, probs = cells.get((sc.name, svc, op, n), ("-", []))
                counts[cell] += 1
                if probs:
                    counts["FAIL"] += 1
                row.append("%-9s" % (cell + ("!" if probs else "")))
            print("%-16s %-36s " % (sc.name, "%s:%s" % (svc, op)) + " ".join(row))
    total = len(cells)
    print()
    print("cases %d: ok %d, err %d, TO %d; invariant failures %d (!); %.0fs" % (
        total, counts["ok"], counts["err"], counts["TO"], counts["FAIL"], time.time() - t0))
    for f in failures:
        print("FAIL " + (f if len(f) < 400 else f[:400] + "..."))
    print("%d passed, %d failed" % (total - counts["FAIL"], counts["FAIL"] + (len(failures) - counts["FAIL"])))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
