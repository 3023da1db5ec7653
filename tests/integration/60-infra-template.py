#!/usr/bin/python3
"""infra/template.yaml and infra/member-account.yaml: they parse (YAML with
CloudFormation tags), every resource has the properties its type requires,
every Ref/GetAtt/Sub names a parameter, resource or pseudo parameter, every
condition used is defined, and the settings match the code.

Required properties: REQUIRED below, from the CloudFormation registry
schemas ("required"). When cfn-lint is installed (the machine image ships it
in its own Python), it is the oracle: the table is checked against the
schemas cfn-lint bundles, and `cfn-lint` itself must pass both templates
(it also applies the SAM transform and validates the result). Without it,
the table alone is used and the test says so. Prints "N passed, N failed".
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True   # no __pycache__ in tests/infra
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import cfnyaml  # noqa: E402
import cfnmodel  # noqa: E402

TEMPLATES = [os.path.join(ROOT, "infra", "template.yaml"), os.path.join(ROOT, "infra", "member-account.yaml"),
             os.path.join(ROOT, "infra", "organization.yaml")]
STACK = cfnmodel.PSEUDO_VALUES["AWS::StackName"]

# Registry schema "required" lists of the types the templates use.
REQUIRED = {
    "AWS::KMS::Key": [],
    "AWS::KMS::Alias": ["AliasName", "TargetKeyId"],
    "AWS::SNS::Topic": [],
    "AWS::SNS::Subscription": ["TopicArn", "Protocol"],
    "AWS::SQS::Queue": [],
    "AWS::S3::Bucket": [],
    "AWS::S3::BucketPolicy": ["Bucket", "PolicyDocument"],
    "AWS::Events::EventBusPolicy": ["StatementId"],
    "AWS::Events::Rule": [],
    "AWS::Logs::LogGroup": [],
    "AWS::Logs::SubscriptionFilter": ["DestinationArn", "FilterPattern", "LogGroupName"],
    "AWS::Logs::AccountPolicy": ["PolicyName", "PolicyType", "PolicyDocument"],
    "AWS::Logs::MetricFilter": ["FilterPattern", "LogGroupName", "MetricTransformations"],
    "AWS::IAM::Role": ["AssumeRolePolicyDocument"],
    "AWS::Lambda::Permission": ["FunctionName", "Action", "Principal"],
    "AWS::CloudWatch::Alarm": [],
    "AWS::CloudFormation::StackSet": ["PermissionModel", "StackSetName"],
}
# AWS::Serverless::Function (SAM spec): code, and with Globals the handler
# and runtime of a zip function.
SAM_FUNCTION_REQUIRED = ["CodeUri", "Runtime", "Handler"]
# Timeouts chosen per function (the template's comments say why).
TIMEOUTS = {"root-verify": 30, "kms-guard": 30, "leak-rotate": 120, "task-quarantine": 120, "public-lock": 60, "iam-contain": 30,
            "instance-quarantine": 60,
            "net-block": 30,  # issue 19
            "access-triage": 60,  # issue 21
            "data-breach": 60,  # issue 22
            "cognito-lockdown": 900,  # issue 23: resumable sign-out of a whole pool
            "codeartifact-lock": 60}  # issue 23


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def cfn_lint():
    exe = shutil.which("cfn-lint")
    if not exe:
        return None, None
    real = os.path.realpath(exe)
    if shutil.which("pyenv") and "/shims/" in real:
        # A pyenv shim (a shell script): ask pyenv for the real script.
        r = subprocess.run(["pyenv", "which", "cfn-lint"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            real = r.stdout.strip()
    with open(real, "rb") as f:
        first = f.readline().decode(errors="replace").strip()
    py = first[2:].strip() if first.startswith("#!") and "python" in first else None
    return exe, py


class Parse(unittest.TestCase):
    def test_parse(self):
        for p in TEMPLATES:
            with self.subTest(template=os.path.basename(p)):
                t = cfnyaml.load(p)
                self.assertIn("Resources", t)
                self.assertEqual(t["AWSTemplateFormatVersion"], "2010-09-09")

    def test_loader_tags(self):
        t = cfnyaml.loads("a: !GetAtt R.Arn\nb: !Sub 'x${A}'\nc: !Select [0, !Split [',', !Ref L]]\n"
                          "d: !If [C, !Base64 x, !Ref AWS::NoValue]\ne: !ImportValue X\nf: !GetAZs ''\n"
                          "g: !Cidr [!Ref V, 6, 5]\nh: !FindInMap [M, K, V]\ni: !And [!Condition C, !Not [!Or [!Equals [a, b]]]]\n"
                          "j: !Join ['', [a]]\n")
        self.assertEqual(t["a"], {"Fn::GetAtt": ["R", "Arn"]})
        self.assertEqual(t["c"], {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "L"}]}]})
        self.assertEqual(t["d"]["Fn::If"][1], {"Fn::Base64": "x"})
        self.assertEqual(t["i"]["Fn::And"][0], {"Condition": "C"})
        self.assertEqual(t["f"], {"Fn::GetAZs": ""})


class Structure(unittest.TestCase):
    def each(self):
        for p in TEMPLATES:
            yield os.path.basename(p), cfnyaml.load(p)

    def test_required_properties(self):
        for name, t in self.each():
            for lid, r in t["Resources"].items():
                with self.subTest(template=name, resource=lid):
                    typ = r["Type"]
                    props = r.get("Properties") or {}
                    if typ == "AWS::Serverless::Function":
                        glob_ = (t.get("Globals") or {}).get("Function") or {}
                        for k in SAM_FUNCTION_REQUIRED:
                            self.assertTrue(k in props or k in glob_, f"{lid}: {k}")
                        continue
                    self.assertIn(typ, REQUIRED, f"{typ} not in the REQUIRED table")
                    for k in REQUIRED[typ]:
                        self.assertIn(k, props, f"{lid} ({typ}) lacks {k}")

    def test_references_defined(self):
        for name, t in self.each():
            params = set(t.get("Parameters") or {})
            res = set(t["Resources"])
            conds = set(t.get("Conditions") or {})
            names = params | res | cfnyaml.PSEUDO
            for path, d in cfnyaml.walk(t):
                where = "/".join(map(str, path))
                with self.subTest(template=name, at=where):
                    if "Ref" in d and len(d) == 1:
                        self.assertIn(d["Ref"], names)
                    if "Fn::GetAtt" in d:
                        self.assertIn(d["Fn::GetAtt"][0], res)
                    if "Fn::Sub" in d:
                        v = d["Fn::Sub"]
                        s, local = (v[0], set(v[1])) if isinstance(v, list) else (v, set())
                        for ref in cfnyaml.sub_refs(s):
                            base = ref.split(".")[0] if ref not in names else ref
                            self.assertTrue(ref in names or ref in local or base in res, ref)
                    if "Fn::If" in d:
                        self.assertIn(d["Fn::If"][0], conds)
                    if "Condition" in d and isinstance(d["Condition"], str) and path and path[0] in ("Conditions", "Resources"):
                        self.assertIn(d["Condition"], conds)
                    if "DependsOn" in d:
                        for dep in cfnmodel.as_list(d["DependsOn"]):
                            self.assertIn(dep, res)

    def test_the_loader_sees_a_bad_reference(self):
        t = cfnyaml.loads("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: !Ref Nope\n")
        refs = [d["Ref"] for _, d in cfnyaml.walk(t) if "Ref" in d]
        self.assertEqual(refs, ["Nope"])


class Functions(unittest.TestCase):
    t = cfnyaml.load(TEMPLATES[0])
    text = read(TEMPLATES[0])
    m = cfnmodel.Model(t)

    def fns(self):
        for lid, r in self.t["Resources"].items():
            if r["Type"] == "AWS::Serverless::Function":
                yield lid, self.m.resolve(r["Properties"]["FunctionName"])[len(STACK) + 1:], r

    def test_runtime_settings(self):
        g = self.t["Globals"]["Function"]
        self.assertEqual((g["Runtime"], g["Architectures"], g["Handler"], g["MemorySize"]),
                         ("provided.al2023", ["arm64"], "bootstrap", 128))
        seen = set()
        for lid, name, r in self.fns():
            seen.add(name)
            p = r["Properties"]
            with self.subTest(function=name):
                self.assertEqual(p["Timeout"], TIMEOUTS[name])
                self.assertEqual(r["Metadata"], {"BuildMethod": "makefile"})
                self.assertEqual(p["CodeUri"], "..")
                for k in ("Runtime", "Architectures", "Handler", "MemorySize"):
                    self.assertNotIn(k, p, "set once, in Globals")
                eic = p["EventInvokeConfig"]
                self.assertLessEqual(eic["MaximumRetryAttempts"], 2)
                self.assertEqual(eic["DestinationConfig"]["OnFailure"], {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}})
                # The zip route: "CodeUri: ..   # zip: build/arm64/<name>.zip"
                self.assertRegex(self.text, rf"CodeUri: \.\. +# zip: build/arm64/{re.escape(name)}\.zip\n")
                lg = [x for x in self.t["Resources"].values() if x["Type"] == "AWS::Logs::LogGroup"
                      and self.m.resolve(x["Properties"]["LogGroupName"]) == f"/aws/lambda/{STACK}-{name}"]
                self.assertEqual(len(lg), 1)
                self.assertEqual(lg[0]["Properties"]["RetentionInDays"], {"Ref": "LogRetentionDays"})
        self.assertEqual(seen, set(TIMEOUTS))

    def test_env_vars_are_read_by_the_code(self):
        for lid, name, r in self.fns():
            code = ""
            for d in (os.path.join(ROOT, "functions", name), os.path.join(ROOT, "runtime")):
                for f in sorted(os.listdir(d)):
                    if f.endswith(".c"):
                        code += read(os.path.join(d, f))
            for var in r["Properties"]["Environment"]["Variables"]:
                with self.subTest(function=name, var=var):
                    self.assertIn(f'"{var}"', code, f"{name} does not read {var}")
            for var in ("FIREBREAK_DRY_RUN", "FIREBREAK_TOPIC_ARN", "FIREBREAK_TRUSTED_PRINCIPALS", "FIREBREAK_MEMBER_ROLE"):
                self.assertIn(var, r["Properties"]["Environment"]["Variables"])

    def test_bucket_topic_queue_alarms(self):
        R = self.t["Resources"]
        b = R["EvidenceBucket"]["Properties"]
        self.assertTrue(b["ObjectLockEnabled"])
        self.assertEqual(b["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"], "GOVERNANCE")
        self.assertEqual(b["VersioningConfiguration"]["Status"], "Enabled")
        sse = b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        self.assertEqual(sse["SSEAlgorithm"], "aws:kms")
        self.assertEqual(sse["KMSMasterKeyID"], {"Fn::GetAtt": ["FirebreakKey", "Arn"]})
        self.assertEqual(set(b["PublicAccessBlockConfiguration"].values()), {True})
        self.assertEqual(len(b["PublicAccessBlockConfiguration"]), 4)
        pol = R["EvidenceBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        self.assertTrue(any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                            for s in pol))
        self.assertIn("KmsMasterKeyId", R["ReportsTopic"]["Properties"])
        self.assertEqual(R["ReportsEmailSubscription"].get("Condition"), "HasEmail")
        self.assertTrue(R["FailureQueue"]["Properties"].get("SqsManagedSseEnabled"))
        alarms = [r["Properties"] for r in R.values() if r["Type"] == "AWS::CloudWatch::Alarm"
                  and r.get("Condition") is None]
        errs = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] == "Errors"}
        self.assertEqual(errs, {lid for lid, _, _ in self.fns()})
        q = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
        self.assertEqual(len(q), 1)
        for a in alarms:
            self.assertEqual(a["AlarmActions"], [{"Ref": "ReportsTopic"}])


class Organization(unittest.TestCase):
    """infra/organization.yaml deploys member-account.yaml to an organization."""

    def setUp(self):
        self.org = cfnyaml.load(os.path.join(ROOT, "infra", "organization.yaml"))
        self.member = cfnyaml.load(os.path.join(ROOT, "infra", "member-account.yaml"))
        self.ss = self.org["Resources"]["MemberStackSet"]["Properties"]

    def test_every_member_parameter_is_passed_through(self):
        passed = {p["ParameterKey"]: p["ParameterValue"] for p in self.ss["Parameters"]}
        mparams = self.member["Parameters"]
        self.assertEqual(set(passed) - set(mparams), set(), "unknown member parameters")
        # every member parameter is set by the organization's own parameter of
        # the same name and the same default: one place to change a setting
        for k, spec in mparams.items():
            with self.subTest(parameter=k):
                self.assertEqual(passed.get(k), {"Ref": k})
                self.assertEqual(self.org["Parameters"][k].get("Default"), spec.get("Default"))

    def test_service_managed_auto_deployed_security_account_left_out(self):
        self.assertEqual(self.ss["PermissionModel"], "SERVICE_MANAGED")
        self.assertEqual(self.ss["AutoDeployment"], {"Enabled": True, "RetainStacksOnAccountRemoval": False})
        self.assertIn("CAPABILITY_NAMED_IAM", self.ss["Capabilities"])
        (grp,) = self.ss["StackInstancesGroup"]
        self.assertEqual(grp["Regions"], {"Ref": "Regions"})
        tgt = grp["DeploymentTargets"]
        self.assertEqual(tgt["OrganizationalUnitIds"], {"Ref": "OrganizationalUnitIds"})
        self.assertEqual((tgt["AccountFilterType"], tgt["Accounts"]), ("DIFFERENCE", [{"Ref": "SecurityAccountId"}]))

    def test_member_stack_in_several_regions_creates_named_iam_once(self):
        # The StackSet puts member-account.yaml in every Region: a named IAM
        # resource there must be created in RoleRegion only (IAM is global).
        conds = self.member.get("Conditions") or {}
        self.assertEqual(conds.get("IsRoleRegion"), {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "RoleRegion"}]})
        for lid, r in self.member["Resources"].items():
            if r["Type"].startswith("AWS::IAM::") and any(
                    k.endswith("Name") for k in (r.get("Properties") or {})):
                with self.subTest(resource=lid):
                    self.assertEqual(r.get("Condition"), "IsRoleRegion")
        for name, out in (self.member.get("Outputs") or {}).items():
            if "MemberRole" in json.dumps(out.get("Value")):
                self.assertEqual(out.get("Condition"), "IsRoleRegion", name)


class CfnLint(unittest.TestCase):
    exe, py = cfn_lint()

    def setUp(self):
        if not self.exe:
            print("cfn-lint not installed: REQUIRED table used alone", file=sys.stderr)
            self.skipTest("cfn-lint not installed")

    def test_cfn_lint_passes(self):
        r = subprocess.run([self.exe, "--format", "parseable", *TEMPLATES], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_cfn_lint_catches_a_missing_required_property(self):
        # The oracle can fail: drop a required property from a copy.
        import tempfile
        text = read(TEMPLATES[0]).replace("      Principal: events.amazonaws.com\n", "", 1)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            r = subprocess.run([self.exe, "--format", "parseable", f.name], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("E3003", r.stdout)
        finally:
            os.unlink(f.name)

    def test_required_table_matches_the_registry_schemas(self):
        if not self.py or not os.access(self.py, os.X_OK):
            self.skipTest("cfn-lint's interpreter not found")
        code = ("import json,sys\nfrom cfnlint.schema import PROVIDER_SCHEMA_MANAGER as m\n"
                "print(json.dumps({t: m.get_resource_schema('us-east-1', t).schema.get('required') or []"
                " for t in json.loads(sys.argv[1])}))")
        r = subprocess.run([self.py, "-c", code, json.dumps(sorted(REQUIRED))], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        schemas = json.loads(r.stdout)
        for t, req in REQUIRED.items():
            with self.subTest(type=t):
                self.assertEqual(sorted(req), sorted(schemas[t]))


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    failed = len(r.failures) + len(r.errors)
    print(f"{r.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
