#!/usr/bin/python3
"""IAM matches code: for each responder, the actions its role grants equal
the AWS operations its code can call (tests/infra/iamderive.py reads them
from functions/<name>/*.c and the runtime functions it reaches), plus what
the platform and the service need for those calls:

  * logs:CreateLogStream, logs:PutLogEvents on its own log group (Lambda
    writes the function's logs with its role);
  * sqs:SendMessage on the failure queue when EventInvokeConfig sends
    failures there (Lambda sends with the function's role);
  * kms:GenerateDataKey + kms:Decrypt when it publishes to a KMS-encrypted
    topic (SNS SSE), kms:GenerateDataKey for an SSE-KMS PutObject,
    ec2:CreateTags for CreateSecurityGroup with TagSpecifications.

Extra or missing actions fail. Also: resources are scoped (only actions
without resource-level permissions get "*"), each (svc, Op) found in the
code exists in botocore's model, the member-account role grants exactly the
member-side actions of the responders that act cross-account
(acct_client_for), and trusts exactly their roles.
Prints "N passed, N failed".
"""
import os
import sys
import unittest

sys.dont_write_bytecode = True   # no __pycache__ in tests/infra
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import cfnyaml  # noqa: E402
import cfnmodel  # noqa: E402
import iamderive  # noqa: E402

import botocore.session  # noqa: E402  (Debian python3-botocore)

TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
MEMBER = os.path.join(ROOT, "infra", "member-account.yaml")
STACK = cfnmodel.PSEUDO_VALUES["AWS::StackName"]

# Service Authorization Reference: actions with no resource-level
# permissions, the only ones allowed Resource "*".
NO_RESOURCE_LEVEL = {"cloudtrail:lookupevents", "iam:getaccountsummary", "secretsmanager:listsecrets",
                     # issue 21: Insights results and stop take a query id (Service
                     # Authorization Reference: no resource type)
                     "logs:getqueryresults", "logs:stopquery",
                     "ec2:describenetworkinterfaces", "ec2:describesecuritygroups",
                     "ecs:describetaskdefinition", "sts:getaccesskeyinfo",
                     # issue 19: the account-level block has no resource type
                     "s3:getaccountpublicaccessblock", "s3:putaccountpublicaccessblock",
                     # issue 20
                     "ec2:describeinstances", "ec2:describesnapshots", "autoscaling:describeautoscalinginstances",
                     "ec2:describesecuritygrouprules", "ec2:describenetworkacls",  # issue 19
                     # issue 22 (SAR: no resource types for either)
                     "dynamodb:listbackups", "cloudwatch:getmetricstatistics",
                     "dynamodb:listexports"}  # issue 22 item 4 (SAR: no resource types, as ListBackups)

_session = botocore.session.get_session()
SERVICES = set(_session.get_available_services()) | {"monitoring"}
_models = {}


def botocore_has(svc, op):
    """In botocore's model, or in the fake's supplement for operations newer
    than Debian's botocore (tests/fakeaws/core.py SUPPLEMENT, checked
    against AWS's published model by 25-fakeaws.py)."""
    name = {"monitoring": "cloudwatch"}.get(svc, svc)
    if name not in _models:
        _models[name] = _session.get_service_model(name)
    if op in _models[name].operation_names:
        return True
    sys.path.insert(0, os.path.join(ROOT, "tests", "fakeaws"))
    import core  # noqa: E402
    return op in core.SUPPLEMENT.get(name, {}).get("operations", {})


def repo_functions():
    d = os.path.join(ROOT, "functions")
    return sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n, "main.c")))


class Ctx:
    tpl = cfnyaml.load(TEMPLATE)
    model = cfnmodel.Model(tpl)
    deriv = iamderive.Derivation(ROOT, SERVICES)
    fns = {}   # name -> logical id
    for lid, r in tpl["Resources"].items():
        if r["Type"] == "AWS::Serverless::Function":
            fname = model.resolve(r["Properties"]["FunctionName"])
            fns[fname[len(STACK) + 1:]] = lid


def role_of(lid):
    role = Ctx.tpl["Resources"][lid]["Properties"]["Role"]
    assert "Fn::GetAtt" in role, f"{lid}: Role must be a role of this template"
    return role["Fn::GetAtt"][0]


def granted(role_lid):
    acts = {}
    for st in cfnmodel.statements(Ctx.tpl["Resources"][role_lid]["Properties"]):
        if st.get("Effect") != "Allow":
            continue
        for a in cfnmodel.as_list(st["Action"]):
            acts.setdefault(a.lower(), []).append(st)
    return acts


def expected(name):
    """(set of actions, why) for a function, from its code and the template."""
    lid = Ctx.fns[name]
    props = Ctx.tpl["Resources"][lid]["Properties"]
    d = Ctx.deriv.function(name)
    why = {}
    for svc, op in d["ops"]:
        a = iamderive.iam_action(svc, op)
        if a:
            why[a] = f"code calls {svc}:{op}"
    for a in iamderive.implied_by_request(d["ops"], d["text"]):
        why.setdefault(a, "dependent action of how the code calls the operation")
    why.setdefault("logs:CreateLogStream", "platform: the function's logs")
    why.setdefault("logs:PutLogEvents", "platform: the function's logs")
    dest = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure") or {}
    if dest.get("Type") == "SQS":
        why.setdefault("sqs:SendMessage", "platform: on-failure destination")
    if ("sns", "Publish") in d["ops"]:
        topic = (props.get("Environment") or {}).get("Variables", {}).get("FIREBREAK_TOPIC_ARN")
        tid = topic.get("Ref") if isinstance(topic, dict) else None
        if tid in Ctx.tpl["Resources"] and Ctx.tpl["Resources"][tid]["Properties"].get("KmsMasterKeyId"):
            why.setdefault("kms:GenerateDataKey", "publishing to a KMS-encrypted topic")
            why.setdefault("kms:Decrypt", "publishing to a KMS-encrypted topic")
    return why, d


class IamMatchesCode(unittest.TestCase):
    def test_every_function_has_one_template_function(self):
        self.assertEqual(sorted(Ctx.fns), repo_functions())

    def test_no_dynamic_call_sites(self):
        for name in Ctx.fns:
            with self.subTest(function=name):
                self.assertEqual(Ctx.deriv.function(name)["dynamic"], [],
                                 "AWS calls whose service/operation is not a literal: "
                                 "the derivation cannot see them")

    def test_derived_operations_exist_in_botocore(self):
        for name in Ctx.fns:
            for svc, op in sorted(Ctx.deriv.function(name)["ops"]):
                with self.subTest(function=name, op=f"{svc}:{op}"):
                    self.assertTrue(botocore_has(svc, op), f"{svc}:{op} is not in botocore's model")

    def test_role_actions_equal_code_actions(self):
        for name, lid in sorted(Ctx.fns.items()):
            with self.subTest(function=name):
                why, _ = expected(name)
                got = set(granted(role_of(lid)))
                want = {a.lower() for a in why}
                missing = sorted(a for a in why if a.lower() not in got)
                extra = sorted(got - want)
                self.assertEqual((missing, extra), ([], []),
                                 f"{name}: missing {[(a, why[a]) for a in missing]}, extra {extra}")

    def test_runtime_calls_attributed_by_reach(self):
        # resp_finish publishes: every responder reaches it. sts:AssumeRole
        # only for the ones that call acct_client_for.
        for name in Ctx.fns:
            d = Ctx.deriv.function(name)
            with self.subTest(function=name):
                self.assertIn(("sns", "Publish"), d["ops"])
                self.assertEqual(("sts", "AssumeRole") in d["ops"], "acct_client_for" in d["runtime_reach"])

    def test_resources_scoped(self):
        for name, lid in sorted(Ctx.fns.items()):
            for a, sts in granted(role_of(lid)).items():
                for st in sts:
                    with self.subTest(function=name, action=a):
                        res = cfnmodel.as_list(st["Resource"])
                        if "*" in res:
                            self.assertIn(a, NO_RESOURCE_LEVEL, f"{a} on '*' but it supports resource-level permissions")

    def test_specific_scopes(self):
        m = Ctx.model
        for name, lid in sorted(Ctx.fns.items()):
            acts = granted(role_of(lid))
            own_group = f"{name[0].upper()}"  # placeholder to keep names short below
            del own_group
            with self.subTest(function=name):
                for st in acts.get("logs:putlogevents", []):
                    r = m.resolve(st["Resource"])
                    group_lid = r.strip("<>").split(".")[0]
                    group = m.resolve(Ctx.tpl["Resources"][group_lid]["Properties"]["LogGroupName"])
                    self.assertEqual(group, f"/aws/lambda/{STACK}-{name}")
                for st in acts.get("sns:publish", []):
                    self.assertEqual(m.resolve(st["Resource"]), "<ReportsTopic>")
                for st in acts.get("sts:assumerole", []):
                    self.assertEqual(m.resolve(st["Resource"]), "arn:aws:iam::*:role/firebreak-member")
                for a in ("s3:putobject", "s3:getobject"):
                    for st in acts.get(a, []):
                        self.assertEqual(m.resolve(st["Resource"]), "<EvidenceBucket.Arn>/incidents/*")
                for a, sts in acts.items():
                    if a.startswith("kms:") and a not in ("kms:decrypt", "kms:generatedatakey"):
                        for st in sts:
                            self.assertEqual(m.resolve(st["Resource"]), "arn:aws:kms:*:999999999999:key/*")


def member_side(name):
    """Actions of a cross-account responder that act on member resources:
    those its security role grants on something other than this stack's
    own resources, narrowed to the operations it makes through the member
    client when iamderive.MEMBER_OPS says so (leak-rotate: its access-key
    calls). sts:AssumeRole is how it gets there, not what it does."""
    why, d = expected(name)
    acts = granted(role_of(Ctx.fns[name]))
    stack = set(Ctx.tpl["Resources"])
    out = set()
    for a in why:
        if a.lower() in ("sts:assumerole", "logs:createlogstream", "logs:putlogevents", "sqs:sendmessage"):
            continue
        sts = acts.get(a.lower(), [])
        if any(not (cfnmodel.refs_in(st["Resource"]) & stack) for st in sts):
            out.add(a.lower())
    return iamderive.member_actions(name, out)


class MemberRole(unittest.TestCase):
    mt = cfnyaml.load(MEMBER)
    mm = cfnmodel.Model(mt, {"SecurityAccountId": "999999999999"})

    def cross(self):
        return sorted(n for n in Ctx.fns if "acct_client_for" in Ctx.deriv.function(n)["runtime_reach"])

    def test_member_actions_are_the_cross_account_union(self):
        want = set()
        for n in self.cross():
            want |= member_side(n)
        role = self.mt["Resources"]["MemberRole"]["Properties"]
        got = set()
        for st in cfnmodel.statements(role):
            got |= {a.lower() for a in cfnmodel.as_list(st["Action"])}
        self.assertEqual((sorted(want - got), sorted(got - want)), ([], []))

    def test_member_ops_are_calls_the_code_makes(self):
        # a narrowing names operations the responder's code does call, and
        # only responders that act cross-account
        for n, ops in iamderive.MEMBER_OPS.items():
            with self.subTest(function=n):
                self.assertIn(n, self.cross())
                self.assertLessEqual(ops, Ctx.deriv.function(n)["ops"])

    def test_member_trusts_exactly_the_cross_account_roles(self):
        doc = self.mm.resolve(self.mt["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"])
        arns = set()
        for st in doc["Statement"]:
            arns |= set(cfnmodel.as_list(st["Condition"]["ArnEquals"]["aws:PrincipalArn"]))
            self.assertEqual(st["Principal"], {"AWS": "arn:aws:iam::999999999999:root"})
        want = set()
        for n in self.cross():
            rn = Ctx.model.resolve(Ctx.tpl["Resources"][role_of(Ctx.fns[n])]["Properties"]["RoleName"])
            want.add(f"arn:aws:iam::999999999999:role/{rn}")
        self.assertEqual(arns, want)


class Derivation(unittest.TestCase):
    """The derivation itself finds every call form and flags dynamic ones."""

    def test_forms(self):
        body = ('aws_do(c, "kms", "DescribeKey", in, &o, &e);\n'
                'call_init(&x[1], "ecs", "StopTask", in);\n'
                'calls[2].service = "cloudtrail";\ncalls[2].op = "LookupEvents";\n'
                'struct aws_call k = { .service = "s3", .op = "PutObject" };\n'
                'prm.service = s->ep.signing_name;\n'
                'resp_step_begin(&r, "stop", "ecs:StopTask", arn, RESP_WRITE);\n')
        found, dyn = iamderive.sites_in_body(body, set(), {"kms", "ecs", "cloudtrail", "s3"})
        self.assertEqual(found, {("kms", "DescribeKey"), ("ecs", "StopTask"),
                                 ("cloudtrail", "LookupEvents"), ("s3", "PutObject")})
        self.assertEqual(dyn, [])

    def test_dynamic_flagged_unless_forwarded(self):
        _, dyn = iamderive.sites_in_body('c.service = names[i]; c.op = ops[i];', set(), {"kms"})
        self.assertEqual(len(dyn), 1)
        _, dyn = iamderive.sites_in_body('c->service = svc; c->op = op;', {"svc", "op"}, {"kms"})
        self.assertEqual(dyn, [])
        _, dyn = iamderive.sites_in_body('aws_do(c, svc, "X", in, &o, &e);', set(), {"kms"})
        self.assertEqual(len(dyn), 1)

    def test_kit_declarations(self):
        # runtime/kit.h steps: designated initialisers paired within their
        # own braces, .op before or after .service, nested braces aside.
        body = ('kit_add(rd, &(struct kit_spec){ .step = "a", .op = "CancelKeyDeletion", .service = "kms",\n'
                '        .paging = &(struct kit_paging){ .items = "x" }, .optional = 1 });\n'
                'kit_add(rd, &(struct kit_spec){ .step = "b", .service = "ec2",\n'
                '        .restore = kit_undo("ec2:X", in), .op = "RevokeSecurityGroupEgress" });\n'
                'kit_add(rd, &(struct kit_spec){ .service = "iam", .op = "GetRolePolicy" });\n')
        found, dyn = iamderive.sites_in_body(body, set(), {"kms", "ec2", "iam"})
        self.assertEqual(found, {("kms", "CancelKeyDeletion"), ("ec2", "RevokeSecurityGroupEgress"),
                                 ("iam", "GetRolePolicy")})
        self.assertEqual(dyn, [])
        _, dyn = iamderive.sites_in_body('kit_add(rd, &(struct kit_spec){ .service = svc, .op = "X" });',
                                         set(), {"kms"})
        self.assertEqual(len(dyn), 1)
        # the demonstration in tests/unit/test_kit.c: kms-guard's writes
        funcs = {n: (p, b) for n, p, b, _ in iamderive.c_functions(
            os.path.join(ROOT, "tests", "unit", "test_kit.c"))}
        p, b = funcs["demo_kms_guard_writes"]
        found, dyn = iamderive.sites_in_body(b, p, SERVICES)
        self.assertEqual(found, {("kms", "CancelKeyDeletion"), ("kms", "EnableKey"), ("kms", "TagResource")})
        self.assertEqual(dyn, [])
        # the kit itself: its forwarder is not dynamic, and what it calls on
        # its own (session revocation) is attributed to whoever reaches it
        rt = Ctx.deriv.rt
        self.assertEqual(rt["call_fill"][2], [])
        self.assertEqual(rt["kit_revoke_sessions"][0], {("iam", "GetRolePolicy"), ("iam", "PutRolePolicy")})
        reach = Ctx.deriv._runtime_reach({"kit_revoke_sessions", "kit_run", "kit_client", "kit_own_account"})
        ops = set().union(*(rt[n][0] for n in reach))
        self.assertTrue({("iam", "GetRolePolicy"), ("iam", "PutRolePolicy"), ("sts", "AssumeRole"),
                         ("sts", "GetCallerIdentity")} <= ops, ops)
        self.assertEqual([d for n in reach for d in rt[n][2]], [])

    def test_call_tables(self):
        # issue 17 (w4-rst): a file-scope table of "svc", "Op" rows and a site that calls
        # through a row pointer of its type: every row counts, nothing is dynamic
        text = ('static const struct row rows[] = {\n\t{ 1, "kms", "DisableKey", "KeyId" },\n'
                '\t{ 2, "ec2", "StartInstances", NULL },\n};\n')
        tables = iamderive.call_tables_in(text, {"kms", "ec2"})
        self.assertEqual(tables, {"row": {("kms", "DisableKey"), ("ec2", "StartInstances")}})
        body = ('const struct row *t = &rows[i];\n'
                'return kit_add(rd, &(struct kit_spec){ .step = n, .service = t->service, .op = t->op });\n')
        found, dyn = iamderive.sites_in_body(body, set(), {"kms", "ec2"}, tables)
        self.assertEqual((found, dyn), ({("kms", "DisableKey"), ("ec2", "StartInstances")}, []))
        # not a table's row: dynamic, as before
        self.assertEqual(len(iamderive.sites_in_body(body, set(), {"kms", "ec2"}, {})[1]), 1)
        other = body.replace("const struct row *t", "const struct other *t")
        self.assertEqual(len(iamderive.sites_in_body(other, set(), {"kms", "ec2"}, tables)[1]), 1)
        mixed = body.replace(".op = t->op", ".op = u->op")
        self.assertEqual(len(iamderive.sites_in_body(mixed, set(), {"kms", "ec2"}, tables)[1]), 1)
        # firebreak-restore's inverse calls are read from its table (functions/firebreak-restore/main.c)
        ops = Ctx.deriv.function("firebreak-restore")["ops"]
        for op in (("iam", "PutRolePolicy"), ("ec2", "StartInstances"), ("codeartifact", "DeleteRepositoryPermissionsPolicy"),
                   ("dynamodb", "PutResourcePolicy"), ("kms", "DisableKey")):
            self.assertIn(op, ops)

    def test_action_names(self):
        self.assertEqual(iamderive.iam_action("s3", "HeadObject"), "s3:GetObject")
        self.assertIsNone(iamderive.iam_action("sts", "GetCallerIdentity"))
        self.assertEqual(iamderive.iam_action("monitoring", "DescribeAlarms"), "cloudwatch:DescribeAlarms")


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    failed = len(r.failures) + len(r.errors)
    print(f"{r.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
