#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""Reports where people look (issue 24 section 3), against tests/fakeaws:

  * EventBridge: with FIREBREAK_EVENT_BUS every report is put on the bus
    (source "firebreak", detail-type "Firebreak Incident Report", the report
    as detail); loop safety: no rule of infra/template.yaml or
    infra/member-account.yaml matches such an event (tests/infra/eventpattern);
  * Security Hub: a GuardDuty-triggered incident updates its finding
    (workflow RESOLVED, a note with the incident id and verdict), read back
    with /usr/bin/aws securityhub get-findings; with
    FIREBREAK_SECURITYHUB_IMPORT the incident is imported as an ASFF finding
    (the fake validates it against botocore's AwsSecurityFinding);
  * the outlets are optional reporting steps: failing them fails nothing, and
    without their settings the report and the calls are what they were;
  * EMF: one Embedded Metric Format line per report in the function's logs;
  * IAM: the operations are derived only where used (61-infra-iam's deriver).
Prints "N passed, N failed"."""
import importlib.util
import json
import os
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import fbtest  # noqa: E402
import cfnyaml  # noqa: E402
import cfnmodel  # noqa: E402
import iamderive  # noqa: E402
from eventpattern import match  # noqa: E402


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TQ = _load("tq53", os.path.join(ROOT, "tests/integration/53-task-quarantine.py"))
GD_PRODUCT = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
OWN_PRODUCT = "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
OUTLET_ENV = {"FIREBREAK_EVENT_BUS": "default", "FIREBREAK_SECURITYHUB_UPDATE": "true",
              "FIREBREAK_SECURITYHUB_IMPORT": "true"}


def tq_env(**extra):
    e = {"AWS_LAMBDA_FUNCTION_NAME": "task-quarantine", "FIREBREAK_EVIDENCE_BUCKET": TQ.BUCKET,
         "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence", "FIREBREAK_TOPIC_ARN": TQ.TOPIC}
    e.update(extra)
    return e


def seed_with_finding(finding_arn):
    w = TQ.world()
    w["securityhub"] = {"findings": [{"Id": finding_arn, "ProductArn": GD_PRODUCT,
                                      "GeneratorId": "guardduty", "Title": "ECS runtime finding"}]}
    return w


def steps(rep, name):
    return [a for a in rep["actions"] if a["step"] == name]


def cli(fake, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
               AWS_DEFAULT_REGION="us-east-1")
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if p.returncode:
        raise AssertionError("aws %s: %s" % (" ".join(args), p.stderr))
    return json.loads(p.stdout or "{}")


def emf_lines(logs):
    out = []
    for line in logs.splitlines():
        i = line.find("{")
        if i < 0:
            continue
        try:
            o = json.loads(line[i:])
        except ValueError:
            continue
        if isinstance(o, dict) and "_aws" in o:
            out.append(o)
    return out


class LoopSafety(unittest.TestCase):
    """No firebreak rule ever fires on firebreak's own report event."""

    REPORT_EVENT = {"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
                    "detail-type": "Firebreak Incident Report", "source": "firebreak",
                    "account": "111111111111", "time": "2026-12-07T05:00:00Z", "region": "us-east-1",
                    "resources": ["arn:aws:ecs:us-east-1:111111111111:task/prod/x"],
                    "detail": {"incident_id": "fb-0123", "function": "kms-guard", "verdict": "contained",
                               "eventName": "ScheduleKeyDeletion", "actions": [], "restore": []}}

    def rules(self, path):
        m = cfnmodel.Model(cfnyaml.load(path))
        out = []
        for lid, r in m.resources.items():
            if r.get("Type") == "AWS::Events::Rule" and "EventPattern" in (r.get("Properties") or {}):
                out.append((lid, m.event_pattern(lid)))
        return out

    def test_no_rule_matches_source_firebreak(self):
        rules = self.rules(os.path.join(ROOT, "infra/template.yaml")) + \
            self.rules(os.path.join(ROOT, "infra/member-account.yaml"))
        self.assertGreater(len(rules), 5)
        for lid, pat in rules:
            self.assertFalse(match(pat, self.REPORT_EVENT), "%s matches the report event" % lid)
            # a rule that names sources names AWS services' only
            src = pat.get("source")
            if src is not None:
                self.assertTrue(all(isinstance(s, str) and s.startswith("aws.") for s in src),
                                "%s: source %r is not an AWS service's" % (lid, src))


class Infra(unittest.TestCase):
    def test_dashboard_and_failed_containment_alarm_on_the_emf_metrics(self):
        t = cfnyaml.load(os.path.join(ROOT, "infra/template.yaml"))
        m = cfnmodel.Model(t)
        R = t["Resources"]
        ns = m.resolve(R["FailedContainmentAlarm"]["Properties"]["Namespace"])
        a = R["FailedContainmentAlarm"]["Properties"]
        self.assertEqual((a["MetricName"], a["Statistic"], a["ComparisonOperator"], a["Threshold"]),
                         ("ContainmentFailed", "Sum", "GreaterThanOrEqualToThreshold", 1))
        self.assertNotIn("Dimensions", a)   # the all-functions aggregate (EMF dimension set [])
        body = json.loads(m.resolve(R["ResponseDashboard"]["Properties"]["DashboardBody"]))
        names = {x for w in body["widgets"] for row in w["properties"]["metrics"] for x in row
                 if isinstance(x, str) and not x.startswith(".")}
        self.assertIn(ns, names)
        self.assertTrue({"Incidents", "ContainmentFailed", "TimeToContain", "ActionsFailed"} <= names)
        # the namespace every function writes is the alarm's
        for lid, r in R.items():
            if r["Type"] == "AWS::Serverless::Function":
                v = r["Properties"]["Environment"]["Variables"]
                self.assertEqual(m.resolve(v["FIREBREAK_METRICS_NAMESPACE"]), ns, lid)
                self.assertEqual(v["FIREBREAK_EVENT_BUS"], {"Ref": "ReportEventBus"}, lid)


class IamWhereUsed(unittest.TestCase):
    def test_derived_only_where_used(self):
        import botocore.session
        d = iamderive.Derivation(ROOT, set(botocore.session.get_session().get_available_services()))
        fns = sorted(n for n in os.listdir(os.path.join(ROOT, "functions"))
                     if os.path.isfile(os.path.join(ROOT, "functions", n, "main.c")))
        # the responders that start from a finding (kit_finding installs the update)
        finding = {fn for fn in fns if any("kit_finding(" in open(os.path.join(ROOT, "functions", fn, f)).read()
                                           for f in os.listdir(os.path.join(ROOT, "functions", fn))
                                           if f.endswith(".c"))}
        self.assertTrue({"task-quarantine", "instance-quarantine"} <= finding)
        for fn in fns:
            ops = d.function(fn)["ops"]
            self.assertIn(("events", "PutEvents"), ops, fn)
            self.assertIn(("securityhub", "BatchImportFindings"), ops, fn)
            self.assertEqual(("securityhub", "BatchUpdateFindings") in ops, fn in finding, fn)


class Outlets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ev = TQ.finding_now()
        cls.finding_arn = cls.ev["detail"]["arn"]
        cls.fake = fbtest.Fake(seed_with_finding(cls.finding_arn)).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.seed(seed_with_finding(self.finding_arn))
        self.fake.reset_calls()

    def test_report_on_eventbridge_finding_updated_and_imported(self):
        res = fbtest.invoke("task-quarantine", self.ev, self.fake, env=tq_env(**OUTLET_ENV))
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "contained")
        for name, api in (("publish-event", "events:PutEvents"),
                          ("update-finding", "securityhub:BatchUpdateFindings"),
                          ("import-finding", "securityhub:BatchImportFindings")):
            (a,) = steps(rep, name)
            self.assertEqual((a["api"], a["status"], a["required"]), (api, "done", False), a)
        st = self.fake.state()
        (put,) = st["events"]["put"]
        self.assertEqual((put["Source"], put["DetailType"], put["bus"]),
                         ("firebreak", "Firebreak Incident Report", "default"))
        self.assertEqual(put["Detail"]["incident_id"], rep["incident_id"])
        self.assertEqual(put["Detail"]["verdict"], "contained")
        # the detail is the report as it stood before the outlet's own lines
        names = [a["step"] for a in put["Detail"]["actions"]]
        self.assertNotIn("publish-event", names)
        self.assertIn("quarantine-eni", names) if "quarantine-eni" in [a["step"] for a in rep["actions"]] else None
        # the finding, read back with the AWS CLI
        got = cli(self.fake, "securityhub", "get-findings", "--filters",
                  json.dumps({"Id": [{"Value": self.finding_arn, "Comparison": "EQUALS"}]}))["Findings"]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["Workflow"]["Status"], "RESOLVED")
        self.assertIn(rep["incident_id"], got[0]["Note"]["Text"])
        self.assertIn("contained", got[0]["Note"]["Text"])
        self.assertEqual(got[0]["Note"]["UpdatedBy"], "firebreak/task-quarantine")
        imp = cli(self.fake, "securityhub", "get-findings", "--filters",
                  json.dumps({"GeneratorId": [{"Value": "firebreak-task-quarantine",
                                               "Comparison": "EQUALS"}]}))["Findings"]
        self.assertEqual(len(imp), 1)
        self.assertEqual(imp[0]["ProductArn"], OWN_PRODUCT)
        self.assertEqual(imp[0]["Id"], "firebreak/task-quarantine/" + rep["incident_id"])
        self.assertEqual(imp[0]["ProductFields"]["firebreak/verdict"], "contained")
        # EMF: one line, the function's dimension, time to contain
        (emf,) = emf_lines(res.logs)
        cwm = emf["_aws"]["CloudWatchMetrics"][0]
        self.assertEqual(cwm["Namespace"], "Firebreak")
        self.assertIn(["Function"], cwm["Dimensions"])
        self.assertEqual(emf["Function"], "task-quarantine")
        self.assertEqual((emf["Incidents"], emf["ContainmentFailed"]), (1, 0))
        self.assertIn("TimeToContain", [m["Name"] for m in cwm["Metrics"]])
        self.assertGreaterEqual(emf["TimeToContain"], 0)
        done = sum(1 for a in rep["actions"] if a["status"] == "done" and a["step"] not in
                   ("publish-event", "update-finding", "import-finding"))
        self.assertEqual(emf["ActionsDone"], done)

    def test_outlets_failing_never_fail_the_containment(self):
        self.fake.faults([{"service": "events", "kind": "error", "status": 500},
                          {"service": "securityhub", "kind": "access_denied"}])
        try:
            res = fbtest.invoke("task-quarantine", self.ev, self.fake, env=tq_env(**OUTLET_ENV))
        finally:
            self.fake.faults({"clear": True})
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "contained")
        for name in ("publish-event", "update-finding", "import-finding"):
            (a,) = steps(rep, name)
            self.assertEqual((a["status"], a["required"]), ("failed", False), a)
        (emf,) = emf_lines(res.logs)
        self.assertEqual((emf["ContainmentFailed"], emf["NotificationsFailed"]), (0, 3))

    def test_unknown_finding_is_a_failed_optional_line(self):
        self.fake.seed(TQ.world())   # Security Hub does not have the finding
        res = fbtest.invoke("task-quarantine", self.ev, self.fake, env=tq_env(**OUTLET_ENV))
        self.assertTrue(res.ok, res)
        (a,) = steps(res.report, "update-finding")
        self.assertEqual(a["status"], "failed")
        self.assertIn("FindingNotFound", a["detail"] + (a["error"] or ""))

    def test_without_settings_report_and_calls_unchanged(self):
        res = fbtest.invoke("task-quarantine", self.ev, self.fake, env=tq_env())
        self.assertTrue(res.ok, res)
        names = [a["step"] for a in res.report["actions"]]
        for n in ("publish-event", "update-finding", "import-finding"):
            self.assertNotIn(n, names)
        self.assertEqual([c for c in self.fake.calls() if c["service"] in ("events", "securityhub")], [])
        self.assertEqual(len(emf_lines(res.logs)), 1)   # metrics need no setting and no call
        res = fbtest.invoke("task-quarantine", self.ev, self.fake, env=tq_env(FIREBREAK_METRICS="false"))
        self.assertEqual(emf_lines(res.logs), [])

    def test_dry_run_publishes_but_leaves_the_finding(self):
        res = fbtest.invoke("task-quarantine", self.ev, self.fake,
                            env=tq_env(FIREBREAK_DRY_RUN="true", **OUTLET_ENV))
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "planned (dry run)")
        self.assertEqual(steps(rep, "publish-event")[0]["status"], "done")
        self.assertEqual(steps(rep, "update-finding")[0]["status"], "skipped")
        st = self.fake.state()
        self.assertTrue(st["events"]["put"][0]["Detail"]["dry_run"])
        self.assertEqual(st["securityhub"]["updates"], [])
        (emf,) = emf_lines(res.logs)
        self.assertNotIn("TimeToContain", emf)

    def test_not_a_finding_updates_no_finding(self):
        """kms-guard (CloudTrail-triggered): no finding to update, the rest goes out."""
        ev = json.load(open(os.path.join(ROOT, "events/kms-guard/schedule-deletion-enabled-key.json")))
        self.fake.seed({"kms": {"keys": [{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                                          "KeyState": "PendingDeletion"}]}})
        res = fbtest.invoke("kms-guard", ev, self.fake, env=dict(OUTLET_ENV))
        names = [a["step"] for a in res.report["actions"]]
        self.assertIn("publish-event", names)
        self.assertIn("import-finding", names)
        self.assertNotIn("update-finding", names)
        self.assertEqual([c for c in self.fake.calls() if c["operation"] == "BatchUpdateFindings"], [])



class WireFormat(unittest.TestCase):
    """runtime/aws.c's first rest-json service (securityhub) and events'
    awsJson against botocore's serializers with the real models, on the
    wire (method, path, content type, target, body as JSON); s3 GetObject
    (firebreak-restore) too. Ours through build/native/tools/aws_call,
    botocore's through a before-send hook."""
    TOOL = os.path.join(ROOT, "build/native/tools/aws_call")

    @classmethod
    def setUpClass(cls):
        import http.server
        import threading
        got = cls.got = []

        class Capture(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                got.append((self.command, self.path, self.rfile.read(n) if n else b"",
                            self.headers.get("Content-Type"), self.headers.get("X-Amz-Target")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PATCH = do_PUT = _any

        cls.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
        threading.Thread(target=cls.srv.serve_forever, daemon=True).start()
        cls.port = cls.srv.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()

    def ours(self, service, op, params, extra=()):
        env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % self.port, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                   AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_SESSION_TOKEN", None)
        before = len(self.got)
        subprocess.run([self.TOOL] + list(extra) + [service, op, json.dumps(params)], env=env,
                       capture_output=True, timeout=20)
        self.assertEqual(len(self.got), before + 1, "aws_call sent nothing for %s %s" % (service, op))
        return self.got[-1]

    def theirs(self, service, method, params):
        import botocore.session
        from botocore.awsrequest import AWSResponse
        c = botocore.session.get_session().create_client(
            service, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            endpoint_url="http://127.0.0.1:%d" % self.port,
            config=__import__("botocore.config").config.Config(s3={"addressing_style": "path"}))
        seen = []

        def grab(request, **kw):
            u = request.url.split("://", 1)[1]
            h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
            body = request.body or b""
            seen.append((request.method, u[u.index("/"):], body if isinstance(body, bytes) else body.encode(),
                         h.get("content-type"), h.get("x-amz-target")))
            return AWSResponse(request.url, 200, {}, None)

        c.meta.events.register("before-send", grab)
        try:
            getattr(c, method)(**params)
        except Exception:   # the empty answer may not parse: the request is what counts
            pass
        self.assertEqual(len(seen), 1)
        return seen[0]

    def same(self, a, b):
        self.assertEqual(a[:2], b[:2])
        self.assertEqual(json.loads(a[2] or b"{}"), json.loads(b[2] or b"{}"))
        self.assertEqual((a[3] or "").split(";")[0], (b[3] or "").split(";")[0])
        self.assertEqual(a[4], b[4])

    def test_securityhub_and_events(self):
        if not os.access(self.TOOL, os.X_OK):
            self.skipTest("build/native/tools/aws_call not built")
        fid = {"Id": "arn:aws:guardduty:us-east-1:111111111111:detector/d/finding/f", "ProductArn": GD_PRODUCT}
        upd = {"FindingIdentifiers": [fid], "Workflow": {"Status": "RESOLVED"},
               "Note": {"Text": "firebreak task-quarantine fb-1: contained", "UpdatedBy": "firebreak/task-quarantine"}}
        self.same(self.ours("securityhub", "BatchUpdateFindings", upd),
                  self.theirs("securityhub", "batch_update_findings", upd))
        f = {"SchemaVersion": "2018-10-08", "Id": "firebreak/x/fb-1", "ProductArn": OWN_PRODUCT,
             "GeneratorId": "firebreak-x", "AwsAccountId": "111111111111", "CreatedAt": "2026-12-07T00:00:00.000Z",
             "UpdatedAt": "2026-12-07T00:00:01.000Z", "Title": "t", "Description": "d",
             "Resources": [{"Type": "Other", "Id": "r"}], "Severity": {"Label": "HIGH"}}
        self.same(self.ours("securityhub", "BatchImportFindings", {"Findings": [f]}),
                  self.theirs("securityhub", "batch_import_findings", {"Findings": [f]}))
        pe = {"Entries": [{"Source": "firebreak", "DetailType": "Firebreak Incident Report", "Detail": "{\"a\":1}",
                           "EventBusName": "default", "Resources": ["arn:aws:ecs:us-east-1:1:task/x"]}]}
        self.same(self.ours("events", "PutEvents", pe), self.theirs("events", "put_events", pe))

    def test_s3_get_object(self):
        if not os.access(self.TOOL, os.X_OK):
            self.skipTest("build/native/tools/aws_call not built")
        key = "incidents/fb-0123456789abcdef/attempt-2/restore.json"
        a = self.ours("s3", "GetObject", {}, ["--bucket", "evidence-bucket", "--key", key])
        b = self.theirs("s3", "get_object", {"Bucket": "evidence-bucket", "Key": key})
        self.assertEqual(a[:3], b[:3])


if __name__ == "__main__":
    t0 = time.time()
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    r = unittest.TextTestRunner(verbosity=2).run(suite)
    bad = len(r.failures) + len(r.errors)
    print("%d passed, %d failed (%.1f s)" % (r.testsRun - bad, bad, time.time() - t0))
    sys.exit(1 if bad else 0)
