#!/usr/bin/python3
"""infra/policies: the policies that deny changing firebreak:* tags to everyone
but the trusted principals (issue 16 item 8).

Checked here:
  * both files are valid JSON IAM policy documents (Version 2012-10-17,
    Statement list, Effect/Action/Resource), within the SCP size limit;
  * the condition keys are used the way the IAM User Guide defines them:
    aws:TagKeys is multivalued, so a Deny must use ForAnyValue:StringLike
    (ForAllValues is true for a request with no tag keys and would deny
    nothing useful while matching requests it should not); aws:RequestTag/<key>
    is single-valued and names one key (no wildcard in the key); aws:ResourceTag
    (the tags the resource has before the request) is not the gate on adding
    a tag (a new firebreak:* tag is not on the resource yet);
  * the trusted-principals exception is wired: every Deny carries ArnNotLike on
    aws:PrincipalArn (for a role session it is the role's ARN, so the session
    name cannot be used to slip in) with the placeholders infra/README.md
    documents;
  * a small evaluator of exactly those operators applies the SCP and the
    boundary to sample requests: an untrusted TagResource/UntagResource of a
    firebreak:* key is denied, on KMS, Secrets Manager, ECS and through the
    Resource Groups Tagging API; the trusted principals and the responders are
    not; ordinary tags are not; create calls carrying the exemption tag are.
Prints "N passed, N failed".
"""
import fnmatch
import json
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import fbtest  # noqa: E402

POL = os.path.join(ROOT, "infra", "policies")
SCP = os.path.join(POL, "deny-firebreak-tag-changes.scp.json")
BOUNDARY = os.path.join(POL, "deny-firebreak-tag-changes.boundary.json")
SEC = "999999999999"     # what SECURITY_ACCOUNT_ID is replaced with below
MALLORY = "arn:aws:iam::111111111111:user/mallory"
DEV_ROLE = "arn:aws:iam::111111111111:role/Dev"
KMS_GUARD = "arn:aws:iam::%s:role/firebreak-kms-guard" % SEC
MEMBER = "arn:aws:iam::111111111111:role/firebreak-member"
PIPELINE = "arn:aws:iam::111111111111:role/firebreak-trusted/iac-deploy"
SINGLE_VALUED_OPS = ("StringEquals", "StringLike", "StringNotEquals", "StringNotLike",
                     "ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals")


def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text.replace("SECURITY_ACCOUNT_ID", SEC))


def _like(pattern, value):
    # IAM's StringLike/ArnLike: '*' any run, '?' one character, case-sensitive.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _cond(op, key, want, ctx):
    """One condition operator on one key, as the IAM User Guide defines it."""
    want = want if isinstance(want, list) else [want]
    have = ctx.get(key)
    if op == "Null":
        return (have is None) == (want[0] == "true")
    if op.startswith("ForAnyValue:"):
        base = op.split(":", 1)[1]
        vals = have or []
        return any(_cond(base, key, want, {key: v}) for v in vals)
    if op.startswith("ForAllValues:"):
        base = op.split(":", 1)[1]
        vals = have or []
        return all(_cond(base, key, want, {key: v}) for v in vals)
    if have is None:
        # A negated operator on a missing key is true; a positive one false.
        return "Not" in op
    if isinstance(have, list):
        raise AssertionError("single-valued operator %s on multivalued key %s" % (op, key))
    if op in ("StringEquals", "ArnEquals"):
        return have in want
    if op in ("StringLike", "ArnLike"):
        return any(_like(w, have) for w in want)
    if op in ("StringNotEquals", "ArnNotEquals"):
        return have not in want
    if op in ("StringNotLike", "ArnNotLike"):
        return not any(_like(w, have) for w in want)
    raise AssertionError("operator %s not modelled" % op)


def _matches(stmt, action, ctx):
    acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
    if not any(_like(a, action) for a in acts):
        return False
    for op, kv in stmt.get("Condition", {}).items():
        for key, want in kv.items():
            if not _cond(op, key, want, ctx):
                return False
    return True


def denied(policy, action, principal, tag_keys=None, request_tags=None):
    ctx = {"aws:PrincipalArn": principal}
    if tag_keys is not None:
        ctx["aws:TagKeys"] = list(tag_keys)
    for k, v in (request_tags or {}).items():
        ctx["aws:RequestTag/" + k] = v
    return any(s["Effect"] == "Deny" and _matches(s, action, ctx) for s in policy["Statement"])


def allowed_by_boundary(policy, action, principal, **kw):
    allow = any(s["Effect"] == "Allow" and _matches(s, action, {}) for s in policy["Statement"])
    return allow and not denied(policy, action, principal, **kw)


class Documents(unittest.TestCase):
    def test_valid_json_policy_documents(self):
        for path in (SCP, BOUNDARY):
            with self.subTest(path=os.path.basename(path)):
                with open(path) as f:
                    doc = json.load(f)   # valid JSON as shipped (placeholders included)
                self.assertEqual(doc["Version"], "2012-10-17")
                self.assertIsInstance(doc["Statement"], list)
                sids = [s.get("Sid") for s in doc["Statement"]]
                self.assertEqual(len(sids), len(set(sids)), "Sids are unique")
                for s in doc["Statement"]:
                    self.assertIn(s["Effect"], ("Allow", "Deny"))
                    self.assertIn("Action", s)
                    self.assertIn("Resource", s)
                    self.assertNotIn("Principal", s)  # SCPs and boundaries have none
        with open(SCP) as f:
            # Organizations: an SCP is at most 5,120 characters (white space trimmed).
            self.assertLessEqual(len(json.dumps(json.load(f), separators=(",", ":"))), 5120)

    def test_condition_keys_used_as_documented(self):
        for path in (SCP, BOUNDARY):
            doc = load(path)
            for s in doc["Statement"]:
                for op, kv in s.get("Condition", {}).items():
                    for key in kv:
                        with self.subTest(path=os.path.basename(path), sid=s.get("Sid"), key=key):
                            if key == "aws:TagKeys":
                                # multivalued: a set operator; for a Deny, ForAnyValue
                                self.assertEqual(op, "ForAnyValue:StringLike")
                                self.assertEqual(kv[key], ["firebreak:*"])
                            elif key.startswith("aws:RequestTag/"):
                                self.assertNotIn("*", key, "a tag key cannot be wildcarded here")
                                self.assertTrue(key.startswith("aws:RequestTag/firebreak:"))
                                self.assertFalse(op.startswith("For"), "single-valued key")
                            elif key.startswith("aws:ResourceTag/"):
                                self.fail("aws:ResourceTag holds the tags before the request: it "
                                          "cannot stop a new firebreak:* tag")
                            elif key == "aws:PrincipalArn":
                                self.assertEqual(op, "ArnNotLike")
                            else:
                                self.fail("unexpected condition key %s" % key)

    def test_every_deny_has_the_trusted_principals_exception(self):
        for path in (SCP, BOUNDARY):
            doc = load(path)
            denies = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
            self.assertTrue(denies)
            for s in denies:
                with self.subTest(path=os.path.basename(path), sid=s.get("Sid")):
                    pats = s["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
                    self.assertIn("arn:aws:iam::%s:role/firebreak-*" % SEC, pats)
                    self.assertIn("arn:aws:iam::*:role/firebreak-member", pats)
                    self.assertIn("arn:aws:iam::*:role/firebreak-trusted/*", pats)
        with open(SCP) as f:
            self.assertIn("SECURITY_ACCOUNT_ID", f.read())  # the documented placeholder

    def test_scp_and_boundary_deny_the_same(self):
        scp, bnd = load(SCP), load(BOUNDARY)
        self.assertEqual([s for s in scp["Statement"] if s["Effect"] == "Deny"],
                         [s for s in bnd["Statement"] if s["Effect"] == "Deny"])

    def test_readme_documents_them(self):
        with open(os.path.join(ROOT, "infra", "README.md")) as f:
            text = f.read()
        for word in ("deny-firebreak-tag-changes.scp.json", "deny-firebreak-tag-changes.boundary.json",
                     "SECURITY_ACCOUNT_ID", "aws:TagKeys", "aws:PrincipalArn"):
            self.assertIn(word, text)


class Evaluation(unittest.TestCase):
    def setUp(self):
        self.scp = load(SCP)
        self.bnd = load(BOUNDARY)

    def check(self, want_denied, action, principal, **kw):
        self.assertEqual(denied(self.scp, action, principal, **kw), want_denied,
                         (action, principal, kw))
        self.assertEqual(allowed_by_boundary(self.bnd, action, principal, **kw), not want_denied,
                         (action, principal, kw))

    def test_untrusted_firebreak_tag_changes_are_denied(self):
        for action in ("kms:TagResource", "secretsmanager:TagResource", "ecs:TagResource",
                       "tag:TagResources"):
            for who in (MALLORY, DEV_ROLE):
                with self.subTest(action=action, who=who):
                    self.check(True, action, who, tag_keys=["firebreak:exempt"],
                               request_tags={"firebreak:exempt": "true"})
                    # hidden among ordinary tags
                    self.check(True, action, who, tag_keys=["Owner", "firebreak:allow-deletion"])
        for action in ("kms:UntagResource", "secretsmanager:UntagResource", "ecs:UntagResource",
                       "tag:UntagResources"):
            with self.subTest(action=action):
                self.check(True, action, MALLORY, tag_keys=["firebreak:exempt"])

    def test_create_calls_with_firebreak_tags_are_denied(self):
        self.check(True, "kms:CreateKey", MALLORY, tag_keys=["firebreak:exempt"],
                   request_tags={"firebreak:exempt": "true"})
        # request tag without the tag-keys context (belt and braces)
        self.check(True, "secretsmanager:CreateSecret", MALLORY, request_tags={"firebreak:exempt": "true"})
        self.check(True, "kms:CreateKey", MALLORY, request_tags={"firebreak:allow-deletion": "true"})

    def test_trusted_principals_and_responders_may(self):
        for who in (KMS_GUARD, MEMBER, PIPELINE):
            with self.subTest(who=who):
                self.check(False, "kms:TagResource", who, tag_keys=["firebreak:exempt"],
                           request_tags={"firebreak:exempt": "true"})
                self.check(False, "kms:UntagResource", who, tag_keys=["firebreak:exempt"])
        # the responder role pattern is bound to the security account
        self.check(True, "kms:TagResource", "arn:aws:iam::111111111111:role/firebreak-kms-guard",
                   tag_keys=["firebreak:exempt"])

    def test_ordinary_tags_and_calls_are_untouched(self):
        self.check(False, "kms:TagResource", MALLORY, tag_keys=["Owner", "CostCenter"],
                   request_tags={"Owner": "x"})
        self.check(False, "kms:UntagResource", MALLORY, tag_keys=["Owner"])
        self.check(False, "kms:CreateKey", MALLORY)
        self.check(False, "kms:ScheduleKeyDeletion", MALLORY)
        # case matters: "Firebreak:Exempt" is not a firebreak tag and firebreak never reads it
        self.check(False, "kms:TagResource", MALLORY, tag_keys=["Firebreak:Exempt"])

    def test_evaluator_is_not_trivially_permissive(self):
        # the oracle itself: ForAllValues would have been wrong for a Deny
        stmt = {"Effect": "Deny", "Action": "kms:TagResource",
                "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["firebreak:*"]}}}
        pol = {"Statement": [stmt]}
        self.assertFalse(denied(pol, "kms:TagResource", MALLORY, tag_keys=["Owner", "firebreak:exempt"]))
        self.assertTrue(denied(pol, "kms:TagResource", MALLORY, tag_keys=[]))


if __name__ == "__main__":
    fbtest.main([Documents, Evaluation])
