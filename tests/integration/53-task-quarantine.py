#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""task-quarantine against tests/fakeaws, run through the local Lambda emulator.

Oracles nobody here wrote: botocore clients read the fake's state back
(ENI groups, rules, S3 objects and their checksums), the restore manifest is
applied with botocore, and the GuardDuty event is checked against botocore's
GuardDuty model. Prints "N passed, N failed".
"""
import base64
import copy
import glob
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# $FBTEST_BUILD: another build of the same bootstrap (81-sanitizers: build/asan)
BOOT = os.path.join(os.environ.get("FBTEST_BUILD") or os.path.join(ROOT, "build/native"), "task-quarantine/bootstrap")
EVENTS = os.path.join(ROOT, "events/task-quarantine")
FN = "task-quarantine"
TASK_ID = "0123456789abcdef0123456789abcdef"
ENI = "eni-0123456789abcdef0"
SG = "sg-0aaaaaaaaaaaaaaaa"
BUCKET = "evidence-bucket"
KMS_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
READ_PREFIXES = ("Describe", "Get", "List", "Head")

EGRESS = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
          {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}]


def world(**kw):
    td = {"family": "api", "revision": 3, "networkMode": "awsvpc", "containerDefinitions": [
        {"name": "api", "image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/api:1.2",
         "logConfiguration": {"logDriver": "awslogs", "options": {
             "awslogs-group": "/ecs/api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}},
        {"name": "sidecar", "image": "public.ecr.aws/envoy:1"}]}
    task = {"cluster": "prod", "taskId": TASK_ID, "group": "service:api",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/api:3",
            "launchType": "FARGATE", "lastStatus": kw.get("status", "RUNNING"),
            "attachments": [{"id": "att-1", "type": "ElasticNetworkInterface", "status": "ATTACHED",
                             "details": [{"name": "subnetId", "value": "subnet-0fake"},
                                         {"name": "networkInterfaceId", "value": ENI},
                                         {"name": "privateIPv4Address", "value": "10.0.1.15"}]}],
            "containers": [{"name": "api", "image": td["containerDefinitions"][0]["image"],
                            "imageDigest": "sha256:" + "ab" * 32, "runtimeId": TASK_ID + "-1"},
                           {"name": "sidecar", "image": "public.ecr.aws/envoy:1", "runtimeId": TASK_ID + "-2"}]}
    events = [{"timestamp": 1700000000000 + i, "message": "line %d %s" % (i, "x" * 200)} for i in range(300)]
    enis = [{"NetworkInterfaceId": ENI, "VpcId": "vpc-0fake", "SubnetId": "subnet-0fake",
             "PrivateIpAddress": "10.0.1.15", "Groups": [SG],
             "Description": "arn:aws:ecs:us-east-1:111111111111:attachment/att-1"}]
    if kw.get("shared"):
        enis.append({"NetworkInterfaceId": "eni-0bbbbbbbbbbbbbbbb", "VpcId": "vpc-0fake", "Groups": [SG],
                     "Description": "another api task",
                     "TagSet": [{"Key": "aws:ecs:serviceName", "Value": "api"},
                                {"Key": "aws:ecs:clusterName", "Value": "prod"}]})
    if kw.get("task_tags"):
        task["tags"] = kw["task_tags"]
    if kw.get("task_role"):
        td["taskRoleArn"] = kw["task_role"]
    streams = [] if kw.get("no_stream") else [{"name": "ecs/api/" + TASK_ID, "events": events}]
    return {
        "kms": {"keys": [{"KeyId": KMS_KEY, "KeyState": "Enabled", "Aliases": ["alias/firebreak-evidence"]}]},
        "ecs": {"clusters": ["prod"], "task_definitions": [td],
                "services": [{"cluster": "prod", "serviceName": "api", "desiredCount": 2,
                              "taskDefinition": "arn:aws:ecs:us-east-1:111111111111:task-definition/api:3"}],
                "tasks": [task]},
        "ec2": {"security_groups": [{"GroupId": SG, "GroupName": "api", "VpcId": "vpc-0fake",
                                     "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                        "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
                                     "IpPermissionsEgress": copy.deepcopy(EGRESS)}],
                "network_interfaces": enis},
        "logs": {"groups": [{"name": "/ecs/api", "streams": streams}]},
        "s3": {"buckets": [{"name": BUCKET, "object_lock": bool(kw.get("object_lock"))}]},
        "sns": {"topics": [TOPIC]},
        "cloudtrail": {"records": kw.get("trail", [])},
    }


TASK_ARN = "arn:aws:ecs:us-east-1:111111111111:task/prod/" + TASK_ID
SERVICE_ARN = "arn:aws:ecs:us-east-1:111111111111:service/prod/api"
TASK_ROLE = "arn:aws:iam::111111111111:role/api-task"


def finding_now():
    """The GuardDuty sample, delivered now (its tag history is relative to now)."""
    ev = load("guardduty-ecs-runtime-finding.json")
    ev["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    return ev


def tag_record(arn, who, ago_s, rtype="AWS::ECS::Task"):
    """An ecs:TagResource CloudTrail record setting firebreak:exempt=true."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ago_s))
    ui = ({"type": "AssumedRole", "arn": who, "accountId": "111111111111"} if ":assumed-role/" in who
          else {"type": "IAMUser", "arn": who, "userName": who.rsplit("/", 1)[-1], "accountId": "111111111111"})
    return {"eventVersion": "1.08", "eventID": "tag-%s-%d" % (rtype[-4:], ago_s), "eventTime": when,
            "eventSource": "ecs.amazonaws.com", "eventName": "TagResource", "awsRegion": "us-east-1",
            "recipientAccountId": "111111111111", "userIdentity": ui,
            "requestParameters": {"resourceArn": arn, "tags": [{"key": "firebreak:exempt", "value": "true"}]},
            "resources": [{"ARN": arn, "type": rtype}]}


class Fake:
    def __init__(self, seed):
        self.dir = tempfile.mkdtemp(prefix="tq-")
        sp = os.path.join(self.dir, "seed.json")
        with open(sp, "w") as f:
            json.dump(seed, f)
        pf = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/fakeaws/server.py"),
                                      "--port", "0", "--port-file", pf, "--seed", sp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(pf).read().strip()

    def admin(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
            txt = r.read()
        return json.loads(txt) if txt else None

    def calls(self):
        return self.admin("/_fake/calls")["calls"]

    def writes(self, exclude_sns=True):
        return [(c["service"], c["operation"]) for c in self.calls()
                if not c["operation"].startswith(READ_PREFIXES)
                and not (exclude_sns and c["operation"] == "Publish")]

    def client(self, service):
        import botocore.config
        import botocore.session
        s = botocore.session.get_session()
        return s.create_client(service, region_name="us-east-1", endpoint_url=self.url,
                               aws_access_key_id="AKIDFAKE", aws_secret_access_key="fakesecret",
                               config=botocore.config.Config(s3={"addressing_style": "path"},
                                                             retries={"max_attempts": 1}))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def invoke(fake, event, timeout=10, **env):
    e = {"AWS_ENDPOINT_URL": fake.url, "AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
         "AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": FN, "FIREBREAK_EVIDENCE_BUCKET": BUCKET,
         "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence", "FIREBREAK_TOPIC_ARN": TOPIC}
    e.update(env)
    e = {k: v for k, v in e.items() if v is not None}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        if isinstance(event, (bytes, str)):
            f.write(event if isinstance(event, str) else event.decode())
        else:
            json.dump(event, f)
        path = f.name
    cmd = [sys.executable, os.path.join(ROOT, "tests/emulator/emulator.py"), "invoke", "--quiet", "--account", "111111111111",
           "--function", "%s=%s" % (FN, BOOT), "--timeout", "%s=%s" % (FN, timeout)]
    for k, v in e.items():
        cmd += ["--env", "%s:%s=%s" % (FN, k, v)]
    p = subprocess.run(cmd + [path], capture_output=True, text=True, timeout=timeout + 30)
    os.unlink(path)
    out = json.loads(p.stdout)
    if "errorType" in out:
        rep = None
        try:
            rep = json.loads(out["errorMessage"])
        except ValueError:
            pass
        return True, out, rep
    return False, out, out


def load(name):
    with open(os.path.join(EVENTS, name)) as f:
        return json.load(f)


def step(rep, name):
    return [a for a in rep["actions"] if a["step"] == name]


class TaskQuarantine(unittest.TestCase):
    def setUp(self):
        self.fake = None

    def tearDown(self):
        if self.fake:
            self.fake.stop()

    def start(self, **kw):
        self.fake = Fake(world(**kw))
        return self.fake

    def apply_restore(self, restore):
        ec2 = self.fake.client("ec2")
        # Undo in reverse order: the last write first.
        for r in reversed(restore):
            svc, op = r["api"].split(":")
            self.assertEqual(svc, "ec2")
            meth = getattr(ec2, "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_"))
            meth(**r["args"])

    def eni_groups(self, eni=ENI):
        d = self.fake.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni])
        return [g["GroupId"] for g in d["NetworkInterfaces"][0]["Groups"]]

    def egress(self, gid):
        return self.fake.client("ec2").describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissionsEgress"]

    def check_evidence(self, rep):
        s3 = self.fake.client("s3")
        prefix = rep["evidence"]["prefix"]
        man_obj = s3.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")
        self.assertEqual(man_obj.get("ServerSideEncryption"), "aws:kms")
        man = json.loads(man_obj["Body"].read())
        self.assertEqual(man["incident_id"], rep["incident_id"])
        self.assertTrue(man["written_by"] and man["written_at"])
        keys = {o["key"] for o in man["objects"]}
        for name in ("task.json", "task-definition.json", "restore.json", "logs/api.log.gz"):
            self.assertIn(prefix + name, keys)
        for o in man["objects"]:
            body = s3.get_object(Bucket=BUCKET, Key=o["key"])["Body"].read()
            self.assertEqual(hashlib.sha256(body).hexdigest(), o["sha256"], o["key"])
            self.assertEqual(len(body), o["size"])
        log = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=prefix + "logs/api.log.gz")["Body"].read())
        lines = [json.loads(x) for x in log.decode().splitlines()]
        self.assertEqual(len(lines), 300)  # every page
        self.assertEqual(lines[299]["message"], "line 299 " + "x" * 200)
        task = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "task.json")["Body"].read())
        self.assertEqual(task["taskArn"].split("/")[-1], TASK_ID)
        return man

    # ---- the main path
    def test_guardduty_finding_quarantines_stops_keeps_evidence_and_restores(self):
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "throttle", "service": "ecs", "operation": "DescribeTasks", "count": 1})
        err, out, rep = invoke(fake, load("guardduty-ecs-runtime-finding.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        self.assertEqual(rep["severity"], "P1")
        # throttled once, retried
        dt = step(rep, "describe-task")[0]
        self.assertEqual(dt["status"], "done")
        self.assertEqual(len([c for c in fake.calls() if c["operation"] == "DescribeTasks"]), 2)
        qsg = rep["isolation"]["quarantine_group"]
        self.assertEqual(self.eni_groups(), [qsg])
        sgd = fake.client("ec2").describe_security_groups(GroupIds=[qsg])["SecurityGroups"][0]
        self.assertEqual(sgd["IpPermissions"], [])
        self.assertEqual(sgd["IpPermissionsEgress"], [])
        self.assertTrue(sgd["GroupName"].startswith("firebreak-quarantine-"))
        t = fake.client("ecs").describe_tasks(cluster="prod", tasks=[TASK_ID])["tasks"][0]
        self.assertEqual(t["desiredStatus"], "STOPPED")
        self.assertIn(rep["incident_id"], t.get("stoppedReason", ""))
        self.assertTrue(rep["service"]["will_replace_from_same_image"])
        self.check_evidence(rep)
        self.assertTrue([c for c in fake.calls() if c["operation"] == "Publish"])
        for a in rep["actions"]:
            self.assertIn("started_ms", a)
            self.assertIn("elapsed_ms", a)
        sc = [a for a in rep["actions"] if a["step"] == "fetch-logs"]
        self.assertEqual([a["status"] for a in sc], ["done", "skipped"])  # sidecar: no log configuration
        # the restore manifest gives back the original groups
        self.apply_restore(rep["restore"])
        self.assertEqual(self.eni_groups(), [SG])
        # a second delivery: no second isolation or stop
        fake.admin("/_fake/calls/reset", {})
        err, out, rep2 = invoke(fake, load("guardduty-ecs-runtime-finding.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep2["incident_id"], rep["incident_id"])
        w = fake.writes()
        self.assertFalse([x for x in w if x[0] in ("ec2", "ecs")], w)
        self.assertEqual(rep2["verdict"], "already-contained")
        # manifest.json is there (s3:HeadObject): the evidence is not uploaded again
        self.assertEqual([x for x in w if x == ("s3", "PutObject")], [], w)
        heads = [c for c in fake.calls() if c["operation"] == "HeadObject"]
        self.assertEqual([(c["params"]["Key"], c["status"]) for c in heads],
                         [(rep["evidence"]["prefix"] + "manifest.json", 200)])
        self.assertEqual(rep2["evidence"]["state"], "already")
        self.assertEqual(step(rep2, "evidence-check")[0]["detail"], "manifest.json present")

    def test_revoke_egress_strategy_with_opt_in_names_blast_radius_and_restores_rules(self):
        # issue 16 item 5: a shared group is revoked only with the opt-in (this test
        # used to expect the revoke without it), and then the report names who else is cut.
        fake = self.start(shared=True)
        err, out, rep = invoke(fake, load("manual.json"), FIREBREAK_ISOLATION="revoke-egress",
                               FIREBREAK_ALLOW_SHARED_SG_REVOKE="true")
        self.assertFalse(err, out)
        self.assertEqual(self.egress(SG), [])
        self.assertEqual(self.eni_groups(), [SG])
        shared = [x["network_interface_id"] for x in rep["isolation"]["shared_with"]]
        self.assertEqual(shared, ["eni-0bbbbbbbbbbbbbbbb"])
        br = rep["isolation"]["blast_radius"]
        self.assertEqual(br["allowed_by"], "FIREBREAK_ALLOW_SHARED_SG_REVOKE=true")
        self.assertEqual(br["other_network_interfaces"], 1)
        self.assertTrue(br["complete"])
        self.assertEqual([(x["network_interface_id"], x.get("ecs_service"), x.get("ecs_cluster"))
                          for x in br["network_interfaces"]], [("eni-0bbbbbbbbbbbbbbbb", "api", "prod")])
        self.assertEqual((rep["isolation"]["result"], rep["isolation"]["isolated_by"]), ("isolated", "revoke-egress"))
        self.assertTrue(any("FIREBREAK_ALLOW_SHARED_SG_REVOKE" in w and "1 other" in w for w in rep["warnings"]))
        self.apply_restore(rep["restore"])
        got = sorted(json.dumps({k: v for k, v in p.items() if k in ("IpProtocol", "FromPort", "ToPort", "IpRanges")},
                                sort_keys=True) for p in self.egress(SG))
        want = sorted(json.dumps(p, sort_keys=True) for p in EGRESS)
        self.assertEqual(got, want)

    def check_not_revoked_but_stopped_and_paged(self, fake, err, out, rep):
        self.assertTrue(err, out)
        self.assertEqual(out["errorType"], "Firebreak.ContainmentFailed")
        self.assertEqual(rep["verdict"], "failed")
        # nothing revoked on the shared group: the other task keeps its egress
        self.assertEqual([c for c in fake.calls() if c["operation"] == "RevokeSecurityGroupEgress"
                          and c["params"].get("GroupId") == SG], [])
        got = sorted(json.dumps({k: v for k, v in p.items() if k in ("IpProtocol", "FromPort", "ToPort", "IpRanges")},
                                sort_keys=True) for p in self.egress(SG))
        self.assertEqual(got, sorted(json.dumps(p, sort_keys=True) for p in EGRESS))
        self.assertEqual(self.eni_groups(), [SG])
        # the task is stopped all the same
        self.assertEqual(step(rep, "stop-task")[0]["status"], "done")
        t = fake.client("ecs").describe_tasks(cluster="prod", tasks=[TASK_ID])["tasks"][0]
        self.assertEqual(t["desiredStatus"], "STOPPED")
        # isolation failed (a required step), and the report went out (page)
        iso = step(rep, "isolate")[0]
        self.assertEqual((iso["status"], iso["required"]), ("failed", True))
        self.assertIn("FIREBREAK_ALLOW_SHARED_SG_REVOKE", iso["detail"])
        self.assertEqual(rep["isolation"]["result"], "failed")
        self.assertIn("FIREBREAK_ALLOW_SHARED_SG_REVOKE", rep["isolation"]["refused"])
        self.assertEqual([c["status"] for c in fake.calls() if c["operation"] == "Publish"], [200])
        self.assertTrue(any("NOT network-isolated" in w for w in rep["warnings"]))

    def test_swap_refused_on_shared_group_stops_task_revokes_nothing_and_pages(self):
        # issue 16 item 5: the fallback used to revoke every egress rule of the
        # shared group (a fleet-wide outage) and only warn.
        fake = self.start(shared=True)
        fake.admin("/_fake/faults", {"kind": "error", "service": "ec2", "operation": "ModifyNetworkInterfaceAttribute",
                                     "code": "OperationNotPermitted", "status": 400,
                                     "message": "requester-managed interface"})
        err, out, rep = invoke(fake, load("manual.json"))
        self.check_not_revoked_but_stopped_and_paged(fake, err, out, rep)
        self.assertIn("shared with 1 other", rep["isolation"]["refused"])
        self.assertEqual([x["network_interface_id"] for x in rep["isolation"]["shared_with"]],
                         ["eni-0bbbbbbbbbbbbbbbb"])

    def test_sharing_unreadable_counts_as_shared(self):
        # The group is the task's alone, but who uses it cannot be read: fail safe.
        fake = self.start()
        fake.admin("/_fake/faults", [
            {"kind": "error", "service": "ec2", "operation": "ModifyNetworkInterfaceAttribute",
             "code": "OperationNotPermitted", "status": 400, "message": "requester-managed interface"},
            # the first DescribeNetworkInterfaces (the task's ENI) passes, the sharing read fails
            {"kind": "access_denied", "service": "ec2", "operation": "DescribeNetworkInterfaces", "skip": 1,
             "count": 1}])
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertEqual(step(rep, "describe-group-sharing")[0]["status"], "failed")
        self.check_not_revoked_but_stopped_and_paged(fake, err, out, rep)
        self.assertIn("could not be read", rep["isolation"]["refused"])

    def test_create_group_refused_fallback_isolates_is_not_an_error(self):
        # issue 16 item 7: a failed create-quarantine-group whose fallback isolated
        # the task is not a failed required step; the report says which path did it.
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "access_denied", "service": "ec2", "operation": "CreateSecurityGroup"})
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        cg = step(rep, "create-quarantine-group")[0]
        self.assertEqual((cg["status"], cg["required"]), ("failed", False))
        self.assertEqual(self.egress(SG), [])
        self.assertEqual(rep["isolation"]["isolated_by"], "revoke-egress")
        self.assertEqual(rep["isolation"]["result"], "isolated")
        self.assertIn("could not be created", rep["isolation"]["fallback_reason"])

    def test_cluster_mismatch_the_task_arn_wins(self):
        # issue 16 item 7: the finding names cluster "staging", the task ARN says prod.
        w = world()
        w["ecs"]["clusters"] = ["prod", "staging"]
        self.fake = fake = Fake(w)
        ev = load("guardduty-ecs-runtime-finding.json")
        ecs = ev["detail"]["resource"]["ecsClusterDetails"]
        ecs["name"], ecs["arn"] = "staging", "arn:aws:ecs:us-east-1:111111111111:cluster/staging"
        err, out, rep = invoke(fake, ev)
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        mm = rep["cluster_mismatch"]
        self.assertEqual(mm["event_cluster"], "arn:aws:ecs:us-east-1:111111111111:cluster/staging")
        self.assertEqual(mm["task_arn_cluster"], "arn:aws:ecs:us-east-1:111111111111:cluster/prod")
        self.assertTrue(any("cluster" in w and "differ" in w for w in rep["warnings"]))
        dt = [c for c in fake.calls() if c["operation"] in ("DescribeTasks", "StopTask")]
        self.assertEqual({c["params"]["cluster"] for c in dt}, {"arn:aws:ecs:us-east-1:111111111111:cluster/prod"})
        t = fake.client("ecs").describe_tasks(cluster="prod", tasks=[TASK_ID])["tasks"][0]
        self.assertEqual(t["desiredStatus"], "STOPPED")

    def test_retry_after_partial_failure_keeps_every_attempt_and_undo_record(self):
        # issue 16 item 6: delivered twice after a partial failure, the second run
        # rewrote restore.json as [] and sealed it with a manifest.
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "access_denied", "service": "ecs", "operation": "StopTask", "count": 1})
        ev = load("guardduty-ecs-runtime-finding.json")
        err1, out1, rep1 = invoke(fake, ev)
        self.assertTrue(err1, out1)
        prefix = rep1["evidence"]["prefix"]
        s3 = fake.client("s3")
        first = s3.get_object(Bucket=BUCKET, Key=prefix + "restore.json")["Body"].read()
        self.assertTrue(any(r["step"] == "swap-groups" for r in json.loads(first)))  # the original groups
        self.assertEqual(rep1["evidence"]["state"], "incomplete")
        err2, out2, rep2 = invoke(fake, ev)
        self.assertFalse(err2, out2)
        self.assertEqual(rep2["incident_id"], rep1["incident_id"])
        # the first undo record is untouched, the second attempt added its own set
        self.assertEqual(s3.get_object(Bucket=BUCKET, Key=prefix + "restore.json")["Body"].read(), first)
        self.assertEqual(rep2["evidence"]["attempt"], 2)
        a2 = prefix + "attempt-2/"
        self.assertEqual(json.loads(s3.get_object(Bucket=BUCKET, Key=a2 + "restore.json")["Body"].read()), [])
        man = json.loads(s3.get_object(Bucket=BUCKET, Key=a2 + "manifest.json")["Body"].read())
        self.assertEqual(man["attempt"], 2)
        self.assertIs(man["earlier_complete"], True)
        listed = {o["key"]: o for o in man["objects"]}
        for name in ("task.json", "task-definition.json", "network.json", "restore.json", "logs/api.log.gz"):
            self.assertEqual(listed[prefix + name]["attempt"], 1, name)
            self.assertEqual(listed[a2 + name]["attempt"], 2, name)
        for k, o in listed.items():
            body = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()
            self.assertEqual(hashlib.sha256(body).hexdigest(), o["sha256"], k)
            self.assertEqual(len(body), o["size"], k)
        # every write was conditional: no key was ever written twice
        puts = [c for c in fake.calls() if c["operation"] == "PutObject"]
        ok = [c["params"]["Key"] for c in puts if c["status"] == 200]
        self.assertEqual(len(ok), len(set(ok)), ok)
        self.assertEqual([(c["params"]["Key"], c["status"]) for c in puts if c["status"] != 200],
                         [(prefix + "restore.json", 412)])
        # a third delivery with nothing new to record: the first manifest is missing
        # (attempt 1 was incomplete), so it adds attempt 3; nothing is replaced.
        err3, out3, rep3 = invoke(fake, ev)
        self.assertFalse(err3, out3)
        self.assertEqual(rep3["evidence"]["attempt"], 3)
        self.assertEqual(s3.get_object(Bucket=BUCKET, Key=prefix + "restore.json")["Body"].read(), first)
        man3 = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "attempt-3/manifest.json")["Body"].read())
        self.assertIn(a2 + "manifest.json", {o["key"] for o in man3["objects"]})

    def test_concurrent_write_conflict_moves_to_the_next_attempt(self):
        # S3 answers 409 ConditionalRequestConflict when another conditional write of
        # the same key is in flight: that slot is not ours, the attempt takes the next
        # one (no retry of the 409, nothing replaced).
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "error", "service": "s3", "operation": "PutObject", "count": 1,
                                     "code": "ConditionalRequestConflict", "status": 409,
                                     "message": "A conflicting conditional operation is currently in progress"})
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["evidence"]["attempt"], 2)
        prefix = rep["evidence"]["prefix"]
        puts = [(c["params"]["Key"], c["status"]) for c in fake.calls() if c["operation"] == "PutObject"]
        self.assertEqual(puts[:2], [(prefix + "restore.json", 409), (prefix + "attempt-2/restore.json", 200)])
        man = json.loads(fake.client("s3").get_object(Bucket=BUCKET, Key=prefix + "attempt-2/manifest.json")["Body"].read())
        self.assertTrue(all(o["key"].startswith(prefix + "attempt-2/") for o in man["objects"]))

    def test_fake_s3_conditional_write_as_s3(self):
        # The fake's If-None-Match: * against an independent client: botocore
        # (Debian's 1.29 has no IfNoneMatch on PutObject, so the header is added
        # on the wire) and, when installed, @aws-sdk/client-s3 v3.
        fake = self.start()
        s3 = fake.client("s3")
        s3.meta.events.register("before-sign.s3.PutObject",
                                lambda request, **kw: request.headers.__setitem__("If-None-Match", "*"))
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"one")
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.put_object(Bucket=BUCKET, Key="k", Body=b"two")
        e = cm.exception.response
        self.assertEqual((e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]), ("PreconditionFailed", 412))
        self.assertEqual(s3.get_object(Bucket=BUCKET, Key="k")["Body"].read(), b"one")
        js = os.path.join(ROOT, "tests/integration/s3-conditional-write.mjs")
        node_modules = os.environ.get("FBTEST_NODE_MODULES")
        if node_modules and os.path.isdir(os.path.join(node_modules, "@aws-sdk/client-s3")):
            p = subprocess.run(["node", js, fake.url, BUCKET], capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, NODE_PATH=node_modules))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(json.loads(p.stdout.strip().splitlines()[-1]),
                             {"first": 200, "second": [412, "PreconditionFailed"], "body": "one"})

    def test_swap_refused_falls_back_to_revoke_egress(self):
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "error", "service": "ec2", "operation": "ModifyNetworkInterfaceAttribute",
                                     "code": "OperationNotPermitted", "status": 400,
                                     "message": "requester-managed interface"})
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["isolation"]["strategy"], "revoke-egress")
        self.assertIn("refused", rep["isolation"]["fallback_reason"])
        self.assertEqual(self.egress(SG), [])
        self.assertEqual(rep["verdict"], "contained")
        # the report says the swap failed (not required: the fallback covers it) and the fallback did it
        sw = step(rep, "swap-groups")[0]
        self.assertEqual((sw["status"], sw["required"]), ("failed", False))
        self.assertIn("OperationNotPermitted", sw["error"])
        self.assertEqual([(a["status"], a["target"]) for a in step(rep, "revoke-egress")], [("done", SG)])
        self.assertEqual(step(rep, "describe-task-groups")[0]["status"], "done")

    def test_swap_refused_and_fallback_refused_is_an_error(self):
        fake = self.start()
        # The quarantine group of this incident already exists without rules (an earlier delivery):
        # the only RevokeSecurityGroupEgress left to make is the fallback's, and it is refused too.
        _, _, dry = invoke(fake, load("manual.json"), FIREBREAK_DRY_RUN="true")
        qname = dry["isolation"]["quarantine_group_name"]
        fake.admin("/_fake/seed?mode=merge", {"ec2": {"security_groups": [
            {"GroupId": "sg-0cccccccccccccccc", "GroupName": qname, "VpcId": "vpc-0fake",
             "IpPermissions": [], "IpPermissionsEgress": []}]}})
        fake.admin("/_fake/faults", [
            {"kind": "error", "service": "ec2", "operation": "ModifyNetworkInterfaceAttribute",
             "code": "OperationNotPermitted", "status": 400, "message": "requester-managed interface"},
            {"kind": "access_denied", "service": "ec2", "operation": "RevokeSecurityGroupEgress"}])
        fake.admin("/_fake/calls/reset", {})
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertTrue(err, out)
        self.assertEqual(out["errorType"], "Firebreak.ContainmentFailed")
        self.assertNotIn("contained", rep["verdict"])
        self.assertEqual(step(rep, "create-quarantine-group")[0]["status"], "already")
        self.assertEqual(step(rep, "revoke-quarantine-egress")[0]["status"], "already")
        sw = step(rep, "swap-groups")[0]
        self.assertEqual((sw["status"], sw["required"]), ("failed", False))
        rv = step(rep, "revoke-egress")
        self.assertEqual([(a["status"], a["required"]) for a in rv], [("failed", True)])
        self.assertNotEqual(self.egress(SG), [])  # nothing was revoked
        self.assertEqual(self.eni_groups(), [SG])
        revokes = [c for c in fake.calls() if c["operation"] == "RevokeSecurityGroupEgress"]
        self.assertEqual([c["params"]["GroupId"] for c in revokes], [SG])

    # ---- cross-account: the task in a member account, evidence and report in ours
    def test_member_account_task_acts_there_keeps_evidence_here(self):
        member, own = "222222222222", "111111111111"
        w = world()
        ecs = w["ecs"]
        ecs["clusters"] = [{"clusterName": "prod", "account": member}]
        for td in ecs["task_definitions"]:
            td["account"] = member
        for x in ecs["services"] + ecs["tasks"]:
            x["account"] = member
            for k in ("taskDefinition", "taskDefinitionArn"):
                if k in x:
                    x[k] = x[k].replace(own, member)
        for x in w["ec2"]["security_groups"] + w["ec2"]["network_interfaces"] + w["logs"]["groups"]:
            x["account"] = member
        w["roles"] = [{"arn": "arn:aws:iam::%s:role/firebreak-member" % member}]
        self.fake = fake = Fake(w)
        ev = dict(load("manual.json"), task="arn:aws:ecs:us-east-1:%s:task/prod/%s" % (member, TASK_ID))
        err, out, rep = invoke(fake, ev, FIREBREAK_MEMBER_ROLE="firebreak-member")
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        self.assertEqual(rep["evidence"]["state"], "kept")
        calls = fake.calls()
        where = {}
        for c in calls:
            where.setdefault(c["service"], set()).add(c["account"])
        # the task's own services in the member account, through the assumed role
        for svc in ("ecs", "ec2", "logs"):
            self.assertEqual(where.get(svc), {member}, (svc, where))
        # the evidence bucket, the manifest check and the topic: ours
        for svc in ("s3", "sns", "sts"):
            self.assertEqual(where.get(svc), {own}, (svc, where))
        ops = {(c["service"], c["operation"]) for c in calls if c["status"] == 200}
        for op in (("ecs", "StopTask"), ("ec2", "ModifyNetworkInterfaceAttribute"),
                   ("s3", "PutObject"), ("sns", "Publish"), ("sts", "AssumeRole")):
            self.assertIn(op, ops)
        # the manifest check asked our bucket (first delivery: not there yet)
        self.assertEqual([(c["account"], c["status"]) for c in calls if c["operation"] == "HeadObject"],
                         [(own, 404)])
        self.check_evidence(rep)  # read back in our account with botocore

    # ---- EC2 launch type: the host is named
    def test_ec2_launch_type_names_the_host_instance(self):
        w = world()
        t = w["ecs"]["tasks"][0]
        t["launchType"] = "EC2"
        t["containerInstanceArn"] = "arn:aws:ecs:us-east-1:111111111111:container-instance/prod/ci0123456789"
        w["ecs"]["container_instances"] = [{"cluster": "prod", "id": "ci0123456789",
                                            "ec2InstanceId": "i-0123456789abcdef0"}]
        self.fake = fake = Fake(w)
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        host = rep["suspect_host"]
        self.assertEqual(host["ec2_instance_id"], "i-0123456789abcdef0")
        self.assertEqual(host["container_instance_arn"], t["containerInstanceArn"])
        dh = step(rep, "describe-host")[0]
        self.assertEqual((dh["status"], dh["detail"]), ("done", "i-0123456789abcdef0"))
        dci = [c for c in fake.calls() if c["operation"] == "DescribeContainerInstances"]
        self.assertEqual([c["params"]["containerInstances"] for c in dci], [[t["containerInstanceArn"]]])

    # ---- clear outcomes
    # ---- issue 16 item 8: firebreak:exempt counts only with provenance
    def test_exempt_tag_fresh_from_the_task_role_is_ignored_and_the_task_contained(self):
        # the compromised task's own role tagged it 10 minutes ago
        fake = self.start(task_tags=[{"key": "firebreak:exempt", "value": "true"}], task_role=TASK_ROLE,
                          trail=[tag_record(TASK_ARN, "arn:aws:sts::111111111111:assumed-role/api-task/" + TASK_ID, 600)])
        err, out, rep = invoke(fake, finding_now())
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        t = fake.client("ecs").describe_tasks(cluster="prod", tasks=[TASK_ID])["tasks"][0]
        self.assertEqual(t["desiredStatus"], "STOPPED")
        self.assertEqual(self.eni_groups(), [rep["isolation"]["quarantine_group"]])
        ex = rep["exemption_tags"]
        self.assertEqual(ex[0]["verdict"], "ignored")
        self.assertEqual(ex[0]["resource"], TASK_ARN)
        self.assertTrue(any("exempt" in w and "ignored" in w for w in rep["warnings"]), rep["warnings"])
        self.assertEqual([a["status"] for a in step(rep, "tag-provenance")][:1], ["done"])
        # an exemption never read without its history: one LookupEvents per source read, by resource name
        lk = [c for c in fake.calls() if c["operation"] == "LookupEvents"]
        self.assertEqual(lk[0]["params"]["LookupAttributes"][0]["AttributeValue"], TASK_ARN)

    def test_exempt_tag_set_long_ago_by_someone_else_is_honoured(self):
        # the platform team tagged the service 30 days ago; the task inherited it
        # (" TRUE ": values compare as everywhere, prov_value_true)
        fake = self.start(task_tags=[{"key": "firebreak:exempt", "value": " TRUE "}], task_role=TASK_ROLE,
                          trail=[tag_record(SERVICE_ARN, "arn:aws:iam::111111111111:user/platform-admin",
                                            30 * 86400, "AWS::ECS::Service")])
        err, out, rep = invoke(fake, finding_now())
        self.assertFalse(err, out)
        self.assertTrue(rep["verdict"].startswith("skipped: task tagged firebreak:exempt"), rep["verdict"])
        self.assertEqual([e["verdict"] for e in rep["exemption_tags"]], ["honoured"] * 3)
        svc = [e for e in rep["exemption_tags"] if e["source"] == "service"][0]
        self.assertEqual(svc["resource"], SERVICE_ARN)
        self.assertIn("platform-admin", json.dumps(svc))
        self.assertFalse([w for w in fake.writes() if w[0] in ("ec2", "ecs")])
        t = fake.client("ecs").describe_tasks(cluster="prod", tasks=[TASK_ID])["tasks"][0]
        self.assertEqual(t["desiredStatus"], "RUNNING")

    def test_exempt_tag_on_the_service_set_by_the_task_role_is_ignored(self):
        # old, but set by the task's own role (any session): not an exemption
        fake = self.start(task_tags=[{"key": "firebreak:exempt", "value": "true"}], task_role=TASK_ROLE,
                          trail=[tag_record(SERVICE_ARN, "arn:aws:sts::111111111111:assumed-role/api-task/other",
                                            30 * 86400, "AWS::ECS::Service")])
        err, out, rep = invoke(fake, finding_now())
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "contained")
        self.assertEqual([e["verdict"] for e in rep["exemption_tags"]], ["honoured", "ignored"])

    # ---- issue 17: the evidence writer (runtime/evidence.h), Object Lock retention
    def test_evidence_retention_when_asked_and_the_bucket_has_object_lock(self):
        fake = self.start(object_lock=True)
        err, out, rep = invoke(fake, load("manual.json"), FIREBREAK_EVIDENCE_LOCK_DAYS="30",
                               FIREBREAK_EVIDENCE_LOCK_MODE="COMPLIANCE")
        self.assertFalse(err, out)
        self.assertEqual(step(rep, "evidence-lock-config")[0]["status"], "done")
        s3 = fake.client("s3")
        man = self.check_evidence(rep)
        for o in man["objects"] + [{"key": rep["evidence"]["manifest"]}]:
            h = s3.head_object(Bucket=BUCKET, Key=o["key"])
            self.assertEqual(h.get("ObjectLockMode"), "COMPLIANCE", o["key"])
            days = (h["ObjectLockRetainUntilDate"].timestamp() - time.time()) / 86400
            self.assertTrue(29 < days <= 30, days)
        self.assertEqual(rep["evidence"]["object_lock"]["mode"], "COMPLIANCE")

    def test_evidence_without_object_lock_is_still_written_and_says_so(self):
        fake = self.start()
        err, out, rep = invoke(fake, load("manual.json"), FIREBREAK_EVIDENCE_LOCK_DAYS="30")
        self.assertFalse(err, out)
        self.assertEqual(step(rep, "evidence-lock-config")[0]["status"], "done")
        self.check_evidence(rep)
        self.assertIn("no Object Lock", rep["evidence"]["object_lock"]["retain_until"])
        h = fake.client("s3").head_object(Bucket=BUCKET, Key=rep["evidence"]["manifest"])
        self.assertNotIn("ObjectLockMode", h)

    def test_task_not_found(self):
        fake = self.start()
        err, out, rep = invoke(fake, load("manual-not-found.json"))
        self.assertFalse(err, out)
        self.assertIn("not found", rep["verdict"])
        self.assertEqual(fake.writes(), [])

    def test_already_stopped_task_still_gets_evidence(self):
        fake = self.start(status="STOPPED")
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        self.assertEqual(rep["verdict"], "already-contained")
        self.assertEqual(step(rep, "stop-task")[0]["status"], "already")
        self.assertEqual([w for w in fake.writes() if w[0] != "s3"], [])
        self.check_evidence(rep)

    def test_manifest_403_without_list_bucket_still_captures_evidence(self):
        # Without s3:ListBucket (the README's policy grants none) S3 answers
        # HeadObject on a missing key with 403, not 404: that is "missing",
        # evidence is captured and the check is not reported as failed.
        fake = self.start(status="STOPPED")
        fake.admin("/_fake/faults", [{"kind": "error", "service": "s3", "operation": "HeadObject",
                                      "code": "Forbidden", "status": 403, "message": "Forbidden"}])
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        chk = step(rep, "evidence-check")[0]
        self.assertEqual(chk["status"], "done", chk)
        self.assertIn("403", chk["detail"])
        self.assertTrue(step(rep, "evidence-put"))
        self.check_evidence(rep)

    def test_log_stream_missing(self):
        fake = self.start(no_stream=True)
        err, out, rep = invoke(fake, load("manual.json"))
        self.assertFalse(err, out)
        fl = step(rep, "fetch-logs")
        self.assertEqual(fl[0]["status"], "skipped")
        self.assertIn("missing", fl[0]["detail"])
        self.assertEqual(rep["verdict"], "contained")

    def test_dry_run_writes_nothing(self):
        fake = self.start()
        err, out, rep = invoke(fake, load("manual-dry-run.json"))
        self.assertFalse(err, out)
        self.assertTrue(rep["dry_run"])
        self.assertEqual(fake.writes(), [])
        self.assertTrue([a for a in rep["actions"] if a["status"] == "planned" and a["api"] == "ecs:StopTask"])
        # issue 17: a planned write records its undo, as on every kit responder
        self.assertEqual([(r["step"], r["args"]["Groups"]) for r in rep["restore"]], [("swap-groups", [SG])])

    def test_below_severity_is_skipped(self):
        fake = self.start()
        err, out, rep = invoke(fake, load("guardduty-ecs-low-severity.json"))
        self.assertFalse(err, out)
        self.assertIn("below", rep["verdict"])
        self.assertEqual(fake.writes(), [])

    def test_invalid_events_make_no_calls(self):
        fake = self.start()
        # Lambda (and the emulator) only accept JSON payloads: non-JSON and
        # past-the-limit nesting are covered by the unit tests on tq_handle.
        cases = [load("invalid-task-type.json"), "", "[1,2]", "42",
                 {"source": "aws.kms", "detail-type": "GuardDuty Finding", "detail": {}},
                 {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": "high"}},
                 {"cluster": "prod"}, {"cluster": "prod", "task": "a b"},
                 # only ECS's own reference forms: no URL, host:port, "../", look-alike ARN, \u0000
                 {"cluster": "prod", "task": "https://evil.example/task"},
                 {"cluster": "prod", "task": "../../../etc/passwd"},
                 {"cluster": "ecs.evil.example:443", "task": TASK_ID},
                 {"cluster": "prod", "task": "arn:aws:ecs:us-east-1:111111111111:task/prod/../" + TASK_ID},
                 {"cluster": "prod", "task": "arn:aws:ecs:evil.example:111111111111:task/prod/" + TASK_ID},
                 {"cluster": "prod", "task": TASK_ID + "\u0000/../x"},
                 {"cluster": "prod", "task": "abc"},
                 "[" * 900 + "]" * 900, json.dumps({"junk": "x" * (1024 * 1024 + 10)})]
        for ev in cases:
            err, out, _ = invoke(fake, ev)
            self.assertTrue(err)
            self.assertEqual(out["errorType"], "Firebreak.InvalidEvent", out)
        self.assertEqual(fake.calls(), [])

    def test_deadline_nearly_spent_gives_partial_report_and_error(self):
        fake = self.start()
        fake.admin("/_fake/faults", {"kind": "latency", "service": "ec2", "operation": "CreateSecurityGroup",
                                     "latency_ms": 4000})
        err, out, rep = invoke(fake, load("manual.json"), timeout=3)
        self.assertTrue(err, out)
        self.assertEqual(out["errorType"], "Firebreak.ContainmentFailed")
        self.assertEqual(rep["verdict"], "failed")
        self.assertTrue(step(rep, "describe-task"))

    # ---- the event itself
    def test_guardduty_event_follows_the_botocore_model(self):
        models = sorted(glob.glob("/usr/lib/python3/dist-packages/botocore/data/guardduty/*/service-2.json"))
        if not models:
            self.skipTest("botocore guardduty model not installed")
        shapes = json.load(open(models[-1]))["shapes"]
        unknown = []

        def check(val, shape, path):
            s = shapes[shape]
            if s["type"] == "structure":
                names = {m.get("locationName", k): m["shape"] for k, m in s["members"].items()}
                self.assertIsInstance(val, dict, path)
                for k, v in val.items():
                    if k not in names:
                        unknown.append(path + "." + k)
                    else:
                        check(v, names[k], path + "." + k)
            elif s["type"] == "list":
                for i, v in enumerate(val):
                    check(v, s["member"]["shape"], "%s[%d]" % (path, i))

        ev = load("guardduty-ecs-runtime-finding.json")
        check(ev["detail"], "Finding", "detail")
        self.assertEqual(unknown, [])
        self.assertEqual(ev["detail"]["resource"]["resourceType"], "ECSCluster")
        ref = os.path.join(ROOT, "../shared/reference-events/guardduty-finding.eventbridge-envelope.template.txt")
        if os.path.exists(ref):
            env = json.loads(open(ref).read().replace("{GUARDDUTY_FINDING_JSON_OBJECT}", "{}"))
            self.assertEqual(sorted(env.keys()), sorted(ev.keys()))
            self.assertEqual((env["source"], env["detail-type"]), (ev["source"], ev["detail-type"]))


if __name__ == "__main__":
    if not os.path.exists(BOOT):
        print("missing %s: run make all" % BOOT)
        sys.exit(1)
    res = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromTestCase(TaskQuarantine))
    bad = len(res.failures) + len(res.errors)
    print("%d passed, %d failed" % (res.testsRun - bad - len(res.skipped), bad))
    sys.exit(1 if bad else 0)
