#!/usr/bin/python3
# needs: package (tests/run.sh --package holds this test until make package is done)
"""README.md's examples, each run or checked the way a reader would use it
(issue 24: "every example in README is run by a test").

- Every ```sh block of README.md carries a `readme-example` marker that names
  the test running it; the named test exists and reads README.md. A new
  example without a test fails here.
- README's runtime table has one row per runtime/<module>.c, with the prefix
  its header declares functions under.
- "make demo SCENARIO=kms" and "make demo SCENARIO=task DRY_RUN=1" run as
  written (only the output folder is added): each scenario PASSes.
- The sample report (```json) is the kms scenario's real report, trimmed as the
  text says: the same top-level, trigger and timings keys, the same actions
  (step, api, status, required) in order, the same restore calls, verdict and
  severity; the dry-run paragraph's claims hold for the dry-run report.
- The deploy block: `make package`'s zips exist; the mkdir and sed lines run
  as written and point every function's CodeUri at its zip; the package line
  reads the sed's output and writes what the deploy line reads. Each `aws cloudformation deploy` line is checked against
  its template as CloudFormation would: the template exists, every override is
  a parameter of it, every parameter without a default is given, the
  capabilities are the ones it needs (no more), and the two stacks agree
  (ResponderStackName is the security stack's name; MemberRoleName and the
  shared severity thresholds are equal in both). Deploying for real needs an
  AWS account: moto 5.2 cannot run it (its CloudFormation double-encodes a
  rule's EventPattern given as a JSON string, which ours are), and CLI 2.9's
  package command cannot be pointed at a local S3.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import cfnyaml  # noqa: E402

AWS = "/usr/bin/aws"


def readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def fenced(text, lang):
    """[(marker or None, body)] of README's ```<lang> blocks."""
    out = []
    for m in re.finditer(r"```%s\n(.*?)```" % lang, text, re.S):
        before = text[:m.start()].rstrip("\n").splitlines()
        last = before[-1] if before else ""
        mk = re.match(r"<!-- readme-example: (.*) -->$", last.strip())
        out.append((mk.group(1) if mk else None, m.group(1)))
    return out


def commands(body):
    """A shell block's commands: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(words)
    return out


class Markers(unittest.TestCase):
    def test_every_shell_example_names_the_test_that_runs_it(self):
        blocks = fenced(readme(), "sh")
        self.assertGreaterEqual(len(blocks), 6)
        for marker, body in blocks:
            with self.subTest(block=body.splitlines()[0]):
                self.assertIsNotNone(marker, "a README sh example without a readme-example marker")
                tests = re.findall(r"tests/integration/[\w.-]+|\.ci/run", marker)
                self.assertTrue(tests, "the marker names no test: %r" % marker)
                for t in tests:
                    p = os.path.join(ROOT, t)
                    self.assertTrue(os.path.isfile(p), "%s does not exist" % t)
                    if t.startswith("tests/"):
                        with open(p) as f:
                            self.assertIn("README", f.read(), "%s does not read README" % t)


class Layout(unittest.TestCase):
    def test_every_runtime_module_has_its_row_and_prefix(self):
        # README's runtime table is where a new engineer looks a module up:
        # one row per runtime/<module>.c, with the prefix its header uses.
        rows = dict(re.findall(r"^\| `(\w+)` \| `(\w+_)` \|", readme(), re.M))
        mods = sorted(f[:-2] for f in os.listdir(os.path.join(ROOT, "runtime")) if f.endswith(".c"))
        self.assertEqual(sorted(set(mods) - set(rows)), [], "runtime modules without a README row")
        self.assertEqual(sorted(set(rows) - set(mods)), [], "README rows without a module")
        for m in mods:
            with self.subTest(module=m):
                with open(os.path.join(ROOT, "runtime", m + ".h")) as f:
                    self.assertRegex(f.read(), r"\b%s\w+\s*\(" % re.escape(rows[m]),
                                     "runtime/%s.h declares no %s function" % (m, rows[m]))


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="fb-71-demo-")
        block = [b for m, b in fenced(readme(), "sh") if "make demo SCENARIO=" in b]
        assert len(block) == 1, "README lost its make demo SCENARIO= example"
        cls.runs = {}
        for i, words in enumerate(commands(block[0])):
            assert words[:2] == ["make", "demo"], words
            out = os.path.join(cls.out, str(i))
            p = subprocess.run(["make", "-s"] + words[1:] + ["DEMO_OUT=" + out], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
            cls.runs[" ".join(words)] = (p, out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_each_make_demo_line_passes(self):
        self.assertEqual(len(self.runs), 2)
        for line, (p, out) in self.runs.items():
            with self.subTest(line=line):
                self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
                with open(os.path.join(out, "summary.json")) as f:
                    summary = json.load(f)
                self.assertEqual([s["result"] for s in summary["scenarios"]], ["PASS"])
                self.assertEqual(summary["dry_run"], "DRY_RUN=1" in line)

    def report(self, dry):
        line = "make demo SCENARIO=kms"
        if dry:
            # the text's dry-run claims are about the same scenario
            out = os.path.join(self.out, "kms-dry")
            p = subprocess.run(["make", "-s", "demo", "SCENARIO=kms", "DRY_RUN=1", "DEMO_OUT=" + out],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        else:
            out = self.runs[line][1]
        with open(os.path.join(out, "kms.report.json")) as f:
            return json.load(f)

    def test_the_sample_report_is_the_kms_scenarios_report_trimmed(self):
        text = readme()
        m = re.search(r"Taken from `make demo SCENARIO=kms`.*?```json\n(.*?)```", text, re.S)
        self.assertIsNotNone(m, "README lost its sample report")
        sample = json.loads(m.group(1))
        real = self.report(dry=False)
        self.assertEqual(list(sample), list(real), "top-level keys")
        for k in ("trigger", "timings"):
            self.assertEqual(sorted(sample[k]), sorted(real[k]), k)
        for k in ("function", "severity", "verdict", "dry_run", "account", "region"):
            self.assertEqual(sample[k], real[k], k)

        def acts(r):
            return [(a["step"], a["api"], a["status"], a["required"]) for a in r["actions"]]
        self.assertEqual(acts(sample), acts(real))
        # "every action also has target and error"
        for s, a in zip(sample["actions"], real["actions"]):
            self.assertEqual(sorted(set(a) - set(s)), ["error", "target"])
        self.assertEqual([r["api"] for r in sample["restore"]], [r["api"] for r in real["restore"]])
        for s, r in zip(sample["restore"], real["restore"]):
            self.assertEqual(sorted(s["args"]), sorted(r["args"]))
        self.assertEqual(sample["prior_state"], real["prior_state"])

    def test_the_dry_run_paragraph_holds(self):
        text = readme()
        self.assertIn('With `DRY_RUN=1`, the same scenario gives `"verdict": "planned (dry run)"`', text)
        r = self.report(dry=True)
        self.assertEqual(r["verdict"], "planned (dry run)")
        self.assertIs(r["dry_run"], True)
        status = {a["step"]: a["status"] for a in r["actions"]}
        self.assertEqual(sorted(s for s, v in status.items() if v == "planned"),
                         ["cancel-deletion", "enable-key", "tag-incident"], "the three writes")
        self.assertEqual(status["notify"], "done")
        self.assertIsNone(r["timings"]["contained"])


class RestoreExample(unittest.TestCase):
    """The restore lines need a deployed stack and a real incident: their
    payloads are sent to the local firebreak-restore (make invoke), which must
    take them as a valid request for that incident's restore.json."""

    def test_payloads_are_what_firebreak_restore_takes(self):
        block = [b for m, b in fenced(readme(), "sh") if "firebreak-restore" in b and "lambda invoke" in b]
        self.assertEqual(len(block), 1, "README lost its restore example")
        cmds = commands(block[0])
        self.assertEqual(len(cmds), 2)
        deploy = [b for m, b in fenced(readme(), "sh") if "cloudformation deploy" in b][0]
        stack = re.search(r"--stack-name (\S+)", deploy).group(1)
        tmp = tempfile.mkdtemp(prefix="fb-71-rst-")
        try:
            for w, apply in zip(cmds, (False, True)):
                with self.subTest(apply=apply):
                    self.assertEqual(w[:3], ["aws", "lambda", "invoke"])
                    self.assertEqual(w[w.index("--function-name") + 1], stack + "-firebreak-restore")
                    payload = json.loads(w[w.index("--payload") + 1])
                    self.assertEqual(payload["apply"], apply)
                    self.assertRegex(payload["incident_id"], r"^fb-[0-9a-f]{16}$")
                    ev = os.path.join(tmp, "ev.json")
                    with open(ev, "w") as f:
                        json.dump(payload, f)
                    p = subprocess.run(["make", "-s", "invoke", "FN=firebreak-restore", "EVENT=" + ev], cwd=ROOT,
                                       capture_output=True, text=True, timeout=180)
                    # no record of that incident here: a failed read of its
                    # restore.json, not an invalid request
                    body = json.loads(p.stdout)
                    report = json.loads(body["errorMessage"]) if "errorMessage" in body else body
                    self.assertEqual(report["incident_id"], payload["incident_id"])
                    self.assertEqual(report["restored"]["apply"], apply)
                    read = [a for a in report["actions"] if a["step"] == "read-restore"]
                    self.assertEqual(read[0]["target"], "incidents/%s/restore.json" % payload["incident_id"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Deploy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        block = [b for m, b in fenced(readme(), "sh") if "cloudformation deploy" in b]
        assert len(block) == 1, "README lost its deploy example"
        cls.cmds = commands(block[0])

    def deploys(self):
        out = []
        for w in self.cmds:
            if w[:3] != [AWS, "cloudformation", "deploy"]:
                continue
            opts, key = {}, None
            for x in w[3:]:
                if x.startswith("--"):
                    key = x[2:]
                    opts[key] = []
                else:
                    opts[key].append(x)
            out.append(opts)
        return out

    def test_every_line_is_one_this_test_knows(self):
        known = 0
        for w in self.cmds:
            with self.subTest(line=" ".join(w)):
                if w[0] == "make":
                    self.assertIn(w[1:], (["deps-build"], ["package"]))
                elif w[0] == "sam":
                    # sam is not installed here: what `sam build` runs, the
                    # Makefile's build-<LogicalId> targets, is run by 63.
                    self.assertIn(w[1], ("build", "deploy"))
                elif w[0] in ("mkdir", "sed") or w[:3] in ([AWS, "cloudformation", "package"],
                                                          [AWS, "cloudformation", "deploy"]):
                    known += 1
                else:
                    self.fail("a README deploy line this test does not check")
        self.assertEqual(known, 5)

    def test_make_package_made_every_zip_the_template_names(self):
        t = cfnyaml.load(os.path.join(ROOT, "infra", "template.yaml"))
        names = [r["Properties"]["FunctionName"] for r in t["Resources"].values()
                 if r["Type"] == "AWS::Serverless::Function"]
        self.assertGreaterEqual(len(names), 13)
        for lid, r in t["Resources"].items():
            if r["Type"] == "AWS::Serverless::Function":
                with open(os.path.join(ROOT, "infra", "template.yaml")) as f:
                    m = re.search(r"^  %s:\n(?:    .*\n)*?      CodeUri: \.\. +# zip: (\S+)" % lid, f.read(), re.M)
                self.assertIsNotNone(m, lid)
                self.assertTrue(os.path.isfile(os.path.join(ROOT, m.group(1))), m.group(1))

    def test_sed_and_package_lines_chain_as_written(self):
        # mkdir and sed run as written in a copy of the reader's checkout;
        # the package line reads the sed's output, the deploy line reads the
        # package's. (Running `aws cloudformation package` needs S3: CLI 2.9's
        # package command ignores --endpoint-url for its uploads, so it cannot
        # be pointed at moto; 63 checks the same zips as sam build's route.)
        tmp = tempfile.mkdtemp(prefix="fb-71-pkg-")
        try:
            os.makedirs(os.path.join(tmp, "build"))
            os.symlink(os.path.join(ROOT, "build", "arm64"), os.path.join(tmp, "build", "arm64"))
            os.symlink(os.path.join(ROOT, "infra"), os.path.join(tmp, "infra"))
            files = {}
            for w in self.cmds:
                if w[0] == "mkdir":
                    subprocess.run(w, cwd=tmp, check=True)
                elif w[0] == "sed":
                    line = [x.replace("$PWD", tmp) for x in w]
                    i = line.index(">")   # the shell's redirection
                    with open(os.path.join(tmp, line[i + 1]), "w") as f:
                        subprocess.run(line[:i], cwd=tmp, stdout=f, check=True)
                    files["sed"] = line[i + 1]
                elif w[:3] == [AWS, "cloudformation", "package"]:
                    files["package-in"] = w[w.index("--template-file") + 1]
                    files["package-out"] = w[w.index("--output-template-file") + 1]
                    self.assertEqual(w[w.index("--s3-bucket") + 1], "<artifacts-bucket>")
            self.assertEqual(files["package-in"], files["sed"])
            self.assertIn(files["package-out"], [d["template-file"][0] for d in self.deploys()])
            t = cfnyaml.load(os.path.join(tmp, files["sed"]))
            n = 0
            for lid, r in t["Resources"].items():
                if r["Type"] == "AWS::Serverless::Function":
                    uri = r["Properties"]["CodeUri"]
                    self.assertTrue(uri.startswith(tmp + "/build/arm64/") and uri.endswith(".zip"), uri)
                    self.assertTrue(os.path.isfile(uri), uri)
                    n += 1
            self.assertGreaterEqual(n, 13)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_deploy_lines_match_their_templates(self):
        deploys = self.deploys()
        self.assertEqual(len(deploys), 2)
        effective = []
        for d in deploys:
            tf = d["template-file"][0]
            with self.subTest(template=tf):
                # the packaged template is the source one with CodeUri rewritten
                path = os.path.join(ROOT, "infra/template.yaml" if tf == "build/infra/packaged.yaml" else tf)
                self.assertTrue(os.path.isfile(path), tf)
                t = cfnyaml.load(path)
                params = t.get("Parameters", {})
                given = dict(kv.split("=", 1) for kv in d.get("parameter-overrides", []))
                self.assertEqual(sorted(set(given) - set(params)), [], "overrides that are no parameter")
                self.assertEqual(sorted(k for k, v in params.items() if "Default" not in v and k not in given), [],
                                 "parameters without a default not given")
                need = set()
                if t.get("Transform"):
                    need.add("CAPABILITY_AUTO_EXPAND")
                iam = [r for r in t["Resources"].values() if r["Type"].startswith("AWS::IAM::")
                       or r["Type"] == "AWS::Serverless::Function"]
                if any(k in r.get("Properties", {}) for r in iam for k in ("RoleName", "UserName", "GroupName")):
                    need.add("CAPABILITY_NAMED_IAM")
                elif iam:
                    need.add("CAPABILITY_IAM")
                self.assertEqual(sorted(d["capabilities"]), sorted(need), "capabilities")
                self.assertEqual(len(d["stack-name"]), 1)
                eff = {k: str(v.get("Default", "")) for k, v in params.items()}
                eff.update(given)
                effective.append((d["stack-name"][0], eff))
        (sec_name, sec), (_, mem) = effective
        self.assertLessEqual(len(sec_name), 40, "README: keep the stack name to 40 characters")
        self.assertEqual(mem["ResponderStackName"], sec_name)
        self.assertRegex(mem["SecurityAccountId"], r"^\d{12}$")
        shared = sorted(set(sec) & set(mem) - {"ResponderStackName"})
        self.assertIn("MemberRoleName", shared)
        for k in shared:
            self.assertEqual(sec[k], mem[k], "both stacks must agree on %s" % k)


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
