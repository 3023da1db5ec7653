#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""net-block against tests/fakeaws, run through the local Lambda emulator.

The attacker's calls are made with the real AWS CLI (so the event's
responseElements carry the rule ids EC2 gave), state is read back with the
CLI (describe-security-group-rules, wafv2 get-ip-set, describe-network-acls)
and the report's restore[] entries are applied with the CLI too. One fake
for the whole file, re-seeded per case. Prints "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import fbtest  # noqa: E402

FN = "net-block"
SG = "sg-0123456789abcdef0"
OTHER_SG = "sg-0fedcba9876543210"
SUBNET = "subnet-0123456789abcdef0"
ACL = "acl-0123456789abcdef0"
IPSET_ID = "0a1b2c3d-1111-2222-3333-444455556666"
IPSET_ARN = "arn:aws:wafv2:us-east-1:111111111111:regional/ipset/blocked/" + IPSET_ID
ACTOR = "arn:aws:iam::111111111111:user/mallory"
OWN_IP = "203.0.113.50"


def world(**kw):
    return {
        "ec2": {
            "security_groups": [
                {"GroupId": SG, "GroupName": "web", "VpcId": "vpc-0fake",
                 "Tags": [{"Key": "firebreak:exempt", "Value": "true"}] if kw.get("exempt_tag") else [],
                 "IpPermissions": [
                     {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8",
                                                                                        "Description": "bastion"}]},
                     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
                {"GroupId": OTHER_SG, "GroupName": "db", "VpcId": "vpc-0fake",
                 "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}],
            "network_interfaces": [{"NetworkInterfaceId": "eni-0123456789abcdef0", "Groups": [SG],
                                    "SubnetId": SUBNET, "Association": {"PublicIp": OWN_IP}}],
            "network_acls": [{"NetworkAclId": ACL, "Associations": [SUBNET], "Entries": [
                {"RuleNumber": 1, "Protocol": "-1", "RuleAction": "deny", "Egress": False,
                 "CidrBlock": "192.0.2.1/32"},
                {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False,
                 "CidrBlock": "0.0.0.0/0"}]}]},
        "wafv2": {"ip_sets": [{"Name": "blocked", "Id": IPSET_ID, "Description": "firebreak blocks",
                               "Addresses": ["192.0.2.44/32", "198.51.100.0/24"],
                               "bump_on_get": kw.get("bump", 0)}]},
        "sns": {"topics": ["arn:aws:sns:us-east-1:111111111111:firebreak"]},
    }


SAMPLE_RULE = "sgr-0a1b2c3d4e5f60718"   # events/net-block/authorize-ssh-world.json


def scenario_world():
    """The world of events/net-block/authorize-ssh-world.json: the rule it names
    exists (tests/fuzz/scenarios.py: the fault matrix and hostile events)."""
    w = world()
    w["ec2"]["security_groups"][0]["IpPermissions"].append(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "SecurityGroupRuleId": SAMPLE_RULE}]})
    return w


def cli(fake, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 0:
        raise AssertionError("aws %s: %s" % (" ".join(args[:2]), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


_clients = {}


def client(fake, service):
    """botocore in-process (the CLI takes ~1 s a call): setup and most reads."""
    import botocore.session
    key = (fake.url, service)
    if key not in _clients:
        _clients[key] = botocore.session.get_session().create_client(
            service, region_name="us-east-1", endpoint_url=fake.url, aws_access_key_id="AKIDFAKE",
            aws_secret_access_key="fakesecret")
    return _clients[key]


def rules(fake, group=SG, oracle=False):
    """The group's ingress rules; `oracle`: read with the AWS CLI."""
    if oracle:
        out = cli(fake, "ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values=" + group)
    else:
        out = client(fake, "ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    return [r for r in out["SecurityGroupRules"] if not r["IsEgress"]]


def authorize_event(fake, out, event_id="ct-auth-1", actor=ACTOR):
    """The CloudTrail record of an AuthorizeSecurityGroupIngress, with the rule
    set EC2 answered (`out`, the CLI's result), in its EventBridge envelope."""
    items = [{"groupOwnerId": r["GroupOwnerId"], "groupId": r["GroupId"], "securityGroupRuleId":
              r["SecurityGroupRuleId"], "isEgress": r["IsEgress"], "ipProtocol": r["IpProtocol"],
              "fromPort": r["FromPort"], "toPort": r["ToPort"],
              **({"cidrIpv4": r["CidrIpv4"]} if r.get("CidrIpv4") else {}),
              **({"cidrIpv6": r["CidrIpv6"]} if r.get("CidrIpv6") else {})} for r in out["SecurityGroupRules"]]
    rec = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": actor, "accountId": "111111111111"},
           "eventTime": "2026-12-07T01:00:00Z", "eventSource": "ec2.amazonaws.com",
           "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
           "requestParameters": {"groupId": items[0]["groupId"] if items else SG, "ipPermissions": {"items": []}},
           "responseElements": {"requestId": "r-1", "_return": True, "securityGroupRuleSet": {"items": items}},
           "eventID": event_id, "eventType": "AwsApiCall", "recipientAccountId": "111111111111"}
    return fbtest.eventbridge_wrap(rec, event_id="eb-" + event_id)


def finding(ip, direction="INBOUND", role="TARGET", fid="gd-1"):
    return {"version": "0", "id": "eb-" + fid, "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
            "account": "111111111111", "time": "2026-12-07T01:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"schemaVersion": "2.0", "accountId": "111111111111", "region": "us-east-1", "id": fid,
                       "type": "UnauthorizedAccess:EC2/SSHBruteForce", "updatedAt": "2026-12-07T01:00:00Z",
                       "resource": {"resourceType": "Instance", "instanceDetails": {
                           "instanceId": "i-0123456789abcdef0",
                           "networkInterfaces": [{"subnetId": SUBNET, "networkInterfaceId": "eni-0123456789abcdef0"}]}},
                       "service": {"serviceName": "guardduty", "resourceRole": role, "action": {
                           "actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
                               "connectionDirection": direction, "remoteIpDetails": {"ipAddressV4": ip},
                               "localPortDetails": {"port": 22, "portName": "SSH"}, "protocol": "TCP",
                               "blocked": False}}, "count": 12}, "severity": 5}}


ENV = {"FIREBREAK_NB_IPSET_ARN": IPSET_ARN, "FIREBREAK_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:firebreak"}


class NetBlock(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.seed(world())
        self.fake.reset_calls()

    def run_fn(self, event, **env):
        e = dict(ENV)
        e.update(env)
        self.fake.reset_calls()
        return fbtest.invoke(FN, event, self.fake, env=e)

    def open_22(self):
        """The attacker opens 22 to the world, v4 and v6, in one call."""
        perms = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                  "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temp"}],
                  "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
        return client(self.fake, "ec2").authorize_security_group_ingress(
            GroupId=SG, IpPermissions=perms,
            TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "ticket", "Value": "T-1"}]}])

    # ---- security group ---------------------------------------------------------
    def test_port_22_to_the_world_those_rules_only_then_restore(self):
        out = self.open_22()
        opened = {r["SecurityGroupRuleId"] for r in out["SecurityGroupRules"]}
        before = {r["SecurityGroupRuleId"]: r for r in rules(self.fake)}
        res = self.run_fn(authorize_event(self.fake, out))
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "contained")
        w = fbtest.writes(self.fake.calls())
        self.assertEqual(fbtest.ops(w), ["ec2:RevokeSecurityGroupIngress"] * 2)
        self.assertEqual({c["params"]["SecurityGroupRuleIds"][0] for c in w}, opened)
        for c in w:
            self.assertEqual(c["params"]["GroupId"], SG)
            self.assertNotIn("IpPermissions", c["params"])   # by id, never by port
        # the others intact: the restricted 22 rule, 443, and the other group's 22
        after = {r["SecurityGroupRuleId"]: r for r in rules(self.fake, oracle=True)}
        self.assertEqual(set(after), set(before) - opened)
        self.assertEqual(sorted((r["FromPort"], r.get("CidrIpv4")) for r in after.values()),
                         [(22, "10.0.0.0/8"), (443, "0.0.0.0/0")])
        self.assertEqual(len(rules(self.fake, OTHER_SG)), 1)
        self.assertEqual(rep["other_rules_untouched"], 3)  # 22 from 10/8, 443, the default egress
        self.assertIn("survive", rep["note"])
        # restore[]: the rules' full content, re-applied with the CLI
        self.assertEqual(len(rep["restore"]), 2)
        for e in rep["restore"]:
            self.assertEqual(e["api"], "ec2:AuthorizeSecurityGroupIngress")
            cli(self.fake, "ec2", "authorize-security-group-ingress", "--cli-input-json", json.dumps(e["args"]))
        back = [r for r in rules(self.fake, oracle=True) if r["FromPort"] == 22 and (r.get("CidrIpv4") == "0.0.0.0/0" or
                                                                         r.get("CidrIpv6") == "::/0")]
        self.assertEqual(len(back), 2)
        v4 = [r for r in back if r.get("CidrIpv4")][0]
        self.assertEqual(v4.get("Description"), "temp")
        self.assertEqual(v4.get("Tags"), [{"Key": "ticket", "Value": "T-1"}])
        self.assertFalse({r["SecurityGroupRuleId"] for r in back} & opened)  # new ids

    def test_second_delivery_is_already_and_dry_run_plans(self):
        out = self.open_22()
        ev = authorize_event(self.fake, out)
        res = self.run_fn(dict(ev))
        self.assertTrue(res.ok, res)
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "already-contained")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        # dry run: reads, plans both revokes with their undo, writes nothing
        out = self.open_22()
        res = self.run_fn(authorize_event(self.fake, out, "ct-auth-2"), FIREBREAK_DRY_RUN="true")
        self.assertTrue(res.ok, res)
        self.assertEqual([a["status"] for a in res.report["actions"] if a["step"] == "revoke-rule"],
                         ["planned", "planned"])
        self.assertEqual(len(res.report["restore"]), 2)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_weapon_event_naming_restricted_or_allowed_rules_revokes_nothing(self):
        # a crafted (or replayed) record naming the restricted 22 rule, the
        # allowed 443 rule and the other group's rule: all kept
        rs = rules(self.fake)
        other = rules(self.fake, OTHER_SG)[0]
        fake_out = {"SecurityGroupRules": rs + [dict(other, GroupId=SG)]}
        res = self.run_fn(authorize_event(self.fake, fake_out, "ct-crafted"))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("skipped"), res.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len(rules(self.fake)), 2)
        self.assertEqual(len(rules(self.fake, OTHER_SG)), 1)

    def test_trusted_actor_reported_not_reverted(self):
        out = self.open_22()
        res = self.run_fn(authorize_event(self.fake, out, actor="arn:aws:iam::111111111111:role/iac"),
                          FIREBREAK_TRUSTED_PRINCIPALS="arn:aws:iam::111111111111:role/iac")
        self.assertTrue(res.ok, res)
        self.assertIn("trusted actor", res.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_firebreak_restore_undo_is_not_contained_again(self):
        # infra/template.yaml: every responder trusts firebreak-restore's role
        # and its member-account sessions, so an operator's undo (re-adding a
        # rule net-block revoked) is not revoked again seconds later. Other
        # sessions of the member role are not trusted by that.
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "infra"))
        import cfnmodel
        import cfnyaml
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        t = cfnyaml.load(os.path.join(root, "infra", "template.yaml"))
        m = cfnmodel.Model(t, {"AWS::StackName": "firebreak", "AWS::AccountId": "111111111111"})
        fn = [r for r in t["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
              and m.resolve(r["Properties"]["FunctionName"]) == "firebreak-" + FN][0]
        trusted = m.resolve(fn["Properties"]["Environment"]["Variables"]["FIREBREAK_TRUSTED_PRINCIPALS"])
        for actor, undo in (
                ("arn:aws:sts::111111111111:assumed-role/firebreak-firebreak-restore/firebreak-firebreak-restore", 1),
                ("arn:aws:sts::111111111111:assumed-role/firebreak-member/firebreak-firebreak-restore-fb-0123456789abcdef",
                 1),
                ("arn:aws:sts::111111111111:assumed-role/firebreak-member/mallory", 0),
                ("arn:aws:sts::111111111111:assumed-role/firebreak-restore-lookalike/x", 0)):
            with self.subTest(actor=actor):
                self.fake.seed(world())
                out = self.open_22()
                res = self.run_fn(authorize_event(self.fake, out, actor=actor), FIREBREAK_TRUSTED_PRINCIPALS=trusted)
                self.assertTrue(res.ok, res)
                if undo:
                    self.assertIn("trusted actor", res.report["verdict"])
                    self.assertEqual(fbtest.writes(self.fake.calls()), [])
                else:
                    self.assertNotIn("trusted", res.report["verdict"])
                    self.assertIn("ec2:RevokeSecurityGroupIngress", fbtest.ops(fbtest.writes(self.fake.calls())))

    def exempt_world(self, setter, when):
        """The group tagged firebreak:exempt=true by `setter` at `when` (its
        CreateTags record in CloudTrail, EC2's tagSet.items shape)."""
        w = world(exempt_tag=True)
        w["cloudtrail"] = {"events": [{
            "EventName": "CreateTags", "EventTime": when, "EventSource": "ec2.amazonaws.com",
            "Username": setter.rsplit("/", 1)[-1],
            "Resources": [{"ResourceType": "AWS::EC2::SecurityGroup", "ResourceName": SG}],
            "CloudTrailEvent": {"eventName": "CreateTags", "eventTime": when, "eventSource": "ec2.amazonaws.com",
                                "userIdentity": {"type": "IAMUser", "arn": setter},
                                "requestParameters": {"resourcesSet": {"items": [{"resourceId": SG}]},
                                                      "tagSet": {"items": [{"key": "firebreak:exempt",
                                                                            "value": "true"}]}}}}]}
        self.fake.reset()
        self.fake.seed(w)

    def test_exempt_tag_set_long_ago_by_someone_else_is_honoured(self):
        self.exempt_world("arn:aws:iam::111111111111:user/ops", "2026-11-20T09:00:00Z")
        out = self.open_22()
        res = self.run_fn(authorize_event(self.fake, out))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("skipped"), res.report["verdict"])
        self.assertIn("exempt", res.report["verdict"])
        ex = res.report["exemption_tags"][0]
        self.assertEqual(ex["verdict"], "honoured", ex)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len([r for r in rules(self.fake) if r.get("CidrIpv4") == "0.0.0.0/0"
                              and r["FromPort"] == 22]), 1)

    def test_exempt_tag_set_just_before_by_the_actor_is_ignored(self):
        self.exempt_world(ACTOR, "2026-12-07T00:50:00Z")
        out = self.open_22()
        res = self.run_fn(authorize_event(self.fake, out))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        ex = res.report["exemption_tags"][0]
        self.assertEqual(ex["verdict"], "ignored", ex)
        self.assertEqual(ex.get("set_by"), ACTOR, ex)   # the CreateTags record was read
        self.assertEqual([r for r in rules(self.fake) if r["FromPort"] == 22 and
                          (r.get("CidrIpv4") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0")], [])

    def test_modify_rule_to_the_world(self):
        bastion = [r for r in rules(self.fake) if r["FromPort"] == 22][0]
        client(self.fake, "ec2").modify_security_group_rules(GroupId=SG, SecurityGroupRules=[
            {"SecurityGroupRuleId": bastion["SecurityGroupRuleId"], "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}}])
        rec = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": ACTOR},
               "eventTime": "2026-12-07T01:00:00Z", "eventSource": "ec2.amazonaws.com",
               "eventName": "ModifySecurityGroupRules", "awsRegion": "us-east-1",
               "requestParameters": {"ModifySecurityGroupRulesRequest": {"GroupId": SG, "SecurityGroupRule": {
                   "SecurityGroupRuleId": bastion["SecurityGroupRuleId"], "SecurityGroupRule": {
                       "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}, "tag": 1}}},
               "responseElements": {"ModifySecurityGroupRulesResponse": {"return": True}},
               "eventID": "ct-mod-1", "recipientAccountId": "111111111111"}
        res = self.run_fn(fbtest.eventbridge_wrap(rec, event_id="eb-mod-1"))
        self.assertTrue(res.ok, res)
        w = fbtest.writes(self.fake.calls())
        self.assertEqual([c["params"]["SecurityGroupRuleIds"] for c in w], [[bastion["SecurityGroupRuleId"]]])
        self.assertEqual([r["FromPort"] for r in rules(self.fake)], [443])

    # ---- attacker addresses -----------------------------------------------------
    def ipset(self, oracle=False):
        if oracle:
            return cli(self.fake, "wafv2", "get-ip-set", "--name", "blocked", "--scope", "REGIONAL", "--id", IPSET_ID)
        return client(self.fake, "wafv2").get_ip_set(Name="blocked", Scope="REGIONAL", Id=IPSET_ID)

    def test_finding_blocks_in_waf_keeping_every_address_through_a_lock_conflict(self):
        self.fake.seed(world(bump=1))   # someone writes right after our first read
        res = self.run_fn(finding("203.0.113.7"))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertEqual(fbtest.ops(fbtest.writes(self.fake.calls())), ["wafv2:UpdateIPSet"] * 2)
        s = self.ipset(oracle=True)["IPSet"]
        self.assertEqual(s["Addresses"], ["192.0.2.44/32", "198.51.100.0/24", "192.0.2.200/32", "203.0.113.7/32"])
        self.assertEqual(s["Description"], "firebreak blocks")
        self.assertEqual(res.report["restore"], [{"api": "lambda:Invoke net-block",
                                                  "args": {"unblock": ["203.0.113.7/32"]}}])
        # second delivery: already; then the manual unblock from restore[] takes it out
        res = self.run_fn(finding("203.0.113.7"))
        self.assertEqual(res.report["verdict"], "already-contained")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        res = self.run_fn(res.report["restore"][0]["args"] if res.report["restore"] else {"unblock": ["203.0.113.7/32"]})
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "unblocked")
        self.assertEqual(self.ipset()["IPSet"]["Addresses"], ["192.0.2.44/32", "198.51.100.0/24", "192.0.2.200/32"])

    def test_weapon_never_blocks_own_private_or_victim_addresses(self):
        for ev in (finding(OWN_IP), finding("10.1.2.3"), finding("169.254.169.254"),
                   finding("203.0.113.8", direction="OUTBOUND", role="ACTOR"), {"ip": "127.0.0.1"},
                   {"ip": "::1"}, {"ip": "fd00::5"}):
            res = self.run_fn(ev)
            self.assertTrue(res.ok, (ev, res))
            self.assertTrue(res.report["verdict"].startswith("skipped"), res.report["verdict"])
            self.assertEqual(fbtest.writes(self.fake.calls()), [], ev)
        self.assertEqual(self.ipset()["IPSet"]["Addresses"], ["192.0.2.44/32", "198.51.100.0/24"])

    def test_network_acl_option(self):
        res = self.run_fn(finding("203.0.113.9"), FIREBREAK_NB_NACL="true")
        self.assertTrue(res.ok, res)
        acl = cli(self.fake, "ec2", "describe-network-acls", "--network-acl-ids", ACL)["NetworkAcls"][0]  # oracle
        deny = [e for e in acl["Entries"] if e.get("CidrBlock") == "203.0.113.9/32"]
        self.assertEqual(len(deny), 1)
        self.assertEqual((deny[0]["RuleNumber"], deny[0]["RuleAction"], deny[0]["Egress"]), (2, "deny", False))
        self.assertIn({"api": "ec2:DeleteNetworkAclEntry", "args": {"NetworkAclId": ACL, "RuleNumber": 2,
                                                                    "Egress": False}}, res.report["restore"])
        res = self.run_fn(finding("203.0.113.9"), FIREBREAK_NB_NACL="true")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        res = self.run_fn({"unblock": "203.0.113.9"}, FIREBREAK_NB_NACL="true")
        self.assertTrue(res.ok, res)
        acl = client(self.fake, "ec2").describe_network_acls(NetworkAclIds=[ACL])["NetworkAcls"][0]
        self.assertEqual([e["RuleNumber"] for e in acl["Entries"] if not e["Egress"]], [1, 100, 32767])

    def test_repo_samples(self):
        # events/net-block: invalid-* refused before any call; the rest accepted
        d = os.path.join(fbtest.ROOT, "events", FN)
        for name in sorted(os.listdir(d)):
            # the manual forms are exercised above (kept fast: one invoke each costs ~0.5 s)
            if not name.endswith(".json") or (name.startswith("manual-") and "refused" not in name):
                continue
            with open(os.path.join(d, name)) as f:
                ev = json.load(f)
            res = self.run_fn(ev)
            with self.subTest(event=name):
                if name.startswith("invalid-"):
                    self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res)
                    self.assertEqual(self.fake.calls(), [])
                else:
                    self.assertTrue(res.ok, res)
                    if "outbound" in name or "sample" in name or "refused" in name \
                            or "failed" in name:
                        self.assertEqual(fbtest.writes(self.fake.calls()), [], name)

    def test_sample_event_revokes_the_seeded_rule(self):
        self.fake.seed(scenario_world())
        with open(os.path.join(fbtest.ROOT, "events", FN, "authorize-ssh-world.json")) as f:
            ev = json.load(f)
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertNotIn(SAMPLE_RULE, [r["SecurityGroupRuleId"] for r in rules(self.fake)])
        self.assertEqual(len(rules(self.fake)), 2)

    def test_bad_input_is_refused_before_any_call(self):
        for ev in ({"groupId": SG, "ruleIds": ["sgr-1"]}, {"ip": "203.0.113.300"}, {"ip": "203.0.113.0/24"},
                   {"groupId": "sg-x", "ruleIds": ["sgr-0123456789abcdef0"]}, {"hello": 1}):
            res = self.run_fn(ev)
            if ev.get("ip") == "203.0.113.0/24":
                # parses, but a range is never blocked: a skip
                self.assertTrue(res.ok and res.report["verdict"].startswith("skipped"), res)
                self.assertEqual(fbtest.writes(self.fake.calls()), [])
                continue
            self.assertEqual(res.error_type, "Firebreak.InvalidEvent", (ev, res))
            self.assertEqual(self.fake.calls(), [], ev)


if __name__ == "__main__":
    fbtest.main([NetBlock])
