#!/usr/bin/python3
"""Differential test: STRUCTURED query-protocol input (issue 17), byte for
byte, against botocore's serializer with the real service models (Debian
python3-botocore).

Each case is written twice, by hand, the way each side is meant to be
used: botocore's parameters (model member names, as boto3 takes them) and
the JSON a responder gives runtime/aws.c (wire names: the member's
locationName/queryName as the wire spells it, e.g. EC2's "SecurityGroupId"
for ModifyNetworkInterfaceAttribute's Groups, "Groups" for an IpPermission's
UserIdGroupPairs, "Filter"/"Value" for Filters/Values, "Tag"/"ResourceId"
for CreateTags; a query map as {"entry": [{key, value}, ...]} with the
map's key/value names). botocore's serializer and request preparer give
the body it would send; our JSON goes through build/native/tools/aws_call
to a capture server on 127.0.0.1; the two bodies must be identical.

Random words (spaces, '+', '~', '%', '&', '=', unicode, control bytes)
and random list lengths (0 included: query sends "Name=", EC2 nothing).
Usage: tests/integration/22-query-structured-botocore.py [N] (default 200 random cases)
"""
import http.server
import json
import os
import random
import subprocess
import sys
import threading

import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.serialize import create_serializer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build/native/tools/aws_call")
SEED = 20261217

WORDS = ["a", "key", "my file", "x y  z", " lead", "a+b", "1+1=2", "~user", "*", "100%", "%20",
         "&", "a&b=c", "?", "#f", "/p/x", "caf\u00e9", "\u65e5\u672c", "\U0001F600", "tab\there",
         "line\nbreak", "\"q\"", "<x>", "{z}", "-._~", "ABC", "0"]


def word(rng):
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))


def n_of(rng, lo=0, hi=3):
    return range(rng.randint(lo, hi))


# ---- EC2 (lists Name.N, wire names from locationName/queryName) -------------

def ec2_perms(rng):
    bp, ours = [], []
    for _ in n_of(rng, 1, 3):
        proto = rng.choice(["tcp", "udp", "-1"])
        fp, tp = rng.randint(0, 65535), rng.randint(0, 65535)
        ranges = [("10.%d.0.0/16" % rng.randint(0, 255), word(rng)) for _ in n_of(rng)]
        v6 = ["2001:db8::/%d" % rng.randint(32, 64) for _ in n_of(rng, 0, 1)]
        pairs = [("sg-%08x" % rng.getrandbits(32), word(rng)) for _ in n_of(rng, 0, 2)]
        b = {"IpProtocol": proto, "FromPort": fp, "ToPort": tp}
        o = {"IpProtocol": proto, "FromPort": fp, "ToPort": tp}
        if ranges or rng.random() < 0.5:
            b["IpRanges"] = [{"CidrIp": c, "Description": d} for c, d in ranges]
            o["IpRanges"] = [{"CidrIp": c, "Description": d} for c, d in ranges]
        if v6:
            b["Ipv6Ranges"] = [{"CidrIpv6": c} for c in v6]
            o["Ipv6Ranges"] = [{"CidrIpv6": c} for c in v6]
        if pairs:
            b["UserIdGroupPairs"] = [{"GroupId": g, "Description": d} for g, d in pairs]
            o["Groups"] = [{"GroupId": g, "Description": d} for g, d in pairs]
        bp.append(b)
        ours.append(o)
    return bp, ours


def c_sg_rules(rng):
    op = rng.choice(["AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
                     "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"])
    bp, ours = ec2_perms(rng)
    gid = "sg-%08x" % rng.getrandbits(32)
    b = {"GroupId": gid, "IpPermissions": bp}
    o = {"GroupId": gid, "IpPermissions": ours}
    if op == "AuthorizeSecurityGroupIngress" and rng.random() < 0.5:
        tags = [(word(rng), word(rng)) for _ in n_of(rng, 1, 2)]
        b["TagSpecifications"] = [{"ResourceType": "security-group-rule",
                                   "Tags": [{"Key": k, "Value": v} for k, v in tags]}]
        o["TagSpecification"] = [{"ResourceType": "security-group-rule",
                                  "Tag": [{"Key": k, "Value": v} for k, v in tags]}]
    return "ec2", op, b, o


def c_modify_eni(rng):
    eni = "eni-%08x" % rng.getrandbits(32)
    groups = ["sg-%08x" % rng.getrandbits(32) for _ in n_of(rng, 1, 4)]
    return ("ec2", "ModifyNetworkInterfaceAttribute",
            {"NetworkInterfaceId": eni, "Groups": groups},
            {"NetworkInterfaceId": eni, "SecurityGroupId": groups})


def c_create_tags(rng):
    res = ["sg-%08x" % rng.getrandbits(32) for _ in n_of(rng, 1, 3)]
    tags = [(word(rng), word(rng)) for _ in n_of(rng, 1, 3)]
    return ("ec2", "CreateTags",
            {"Resources": res, "Tags": [{"Key": k, "Value": v} for k, v in tags]},
            {"ResourceId": res, "Tag": [{"Key": k, "Value": v} for k, v in tags]})


def c_describe_enis(rng):
    filters = [(rng.choice(["group-id", "vpc-id", "tag:" + word(rng)]), [word(rng) for _ in n_of(rng, 1, 3)])
               for _ in n_of(rng, 0, 3)]
    b = {"Filters": [{"Name": n, "Values": v} for n, v in filters]}
    o = {"Filter": [{"Name": n, "Value": v} for n, v in filters]}
    if rng.random() < 0.5:
        b["MaxResults"] = rng.randint(5, 1000)
        o["MaxResults"] = b["MaxResults"]
        b["NextToken"] = word(rng)
        o["NextToken"] = b["NextToken"]
    return "ec2", "DescribeNetworkInterfaces", b, o


# issues 19 and 20 (net-block, instance-quarantine) on the same layer
def c_revoke_rule_ids(rng):
    ids = ["sgr-%017x" % rng.getrandbits(68) for _ in n_of(rng, 1, 3)]
    return ("ec2", "RevokeSecurityGroupIngress", {"GroupId": "sg-1", "SecurityGroupRuleIds": ids},
            {"GroupId": "sg-1", "SecurityGroupRuleId": ids})


def c_modify_instance(rng):
    iid = "i-%017x" % rng.getrandbits(68)
    if rng.random() < 0.5:
        v = rng.random() < 0.5
        return ("ec2", "ModifyInstanceAttribute", {"InstanceId": iid, "DisableApiTermination": {"Value": v}},
                {"InstanceId": iid, "DisableApiTermination": {"Value": v}})
    devs = ["/dev/xvd%s" % c for c in "abcdef"[:rng.randint(1, 4)]]
    return ("ec2", "ModifyInstanceAttribute",
            {"InstanceId": iid, "BlockDeviceMappings": [{"DeviceName": d, "Ebs": {"DeleteOnTermination": False}}
                                                        for d in devs]},
            {"InstanceId": iid, "BlockDeviceMapping": [{"DeviceName": d, "Ebs": {"DeleteOnTermination": False}}
                                                       for d in devs]})


def c_create_snapshots(rng):
    iid = "i-%017x" % rng.getrandbits(68)
    tags = [(word(rng), word(rng)) for _ in n_of(rng, 1, 3)]
    return ("ec2", "CreateSnapshots",
            {"InstanceSpecification": {"InstanceId": iid}, "Description": "Forensic snapshot - " + word(rng),
             "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags]}],
             "CopyTagsFromSource": "volume"},
            None)


def c_nacl_entry(rng):
    b = {"NetworkAclId": "acl-1", "RuleNumber": rng.randint(1, 32766), "Protocol": "-1", "RuleAction": "deny",
         "Egress": False, "CidrBlock": "203.0.113.%d/32" % rng.randint(0, 255)}
    o = dict(b)
    if rng.random() < 0.5:
        b["Protocol"] = o["Protocol"] = "6"
        b["PortRange"] = {"From": 22, "To": 22}
        o["PortRange"] = {"From": 22, "To": 22}
    else:
        b["IcmpTypeCode"] = {"Type": -1, "Code": -1}
        o["Icmp"] = {"Type": -1, "Code": -1}
    return "ec2", "CreateNetworkAclEntry", b, o


def c_asg_detach(rng):
    p = {"InstanceIds": ["i-%017x" % rng.getrandbits(68) for _ in n_of(rng, 1, 3)],
         "AutoScalingGroupName": word(rng), "ShouldDecrementDesiredCapacity": False}
    return "autoscaling", "DetachInstances", p, json.loads(json.dumps(p))


# ---- IAM, STS, SNS (lists Name.member.N, maps Name.entry.N.key/value) ---------

def c_put_role_policy(rng):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-07T01:02:03.456Z"}}}]})
    p = {"RoleName": word(rng), "PolicyName": "AWSRevokeOlderSessions", "PolicyDocument": doc}
    return "iam", "PutRolePolicy", p, dict(p)


def c_list_access_keys(rng):
    p = {"UserName": word(rng)}
    if rng.random() < 0.5:
        p["Marker"] = word(rng)
        p["MaxItems"] = rng.randint(1, 1000)
    return "iam", "ListAccessKeys", p, dict(p)


def c_update_access_key(rng):
    p = {"UserName": word(rng), "AccessKeyId": "AKIA%016d" % rng.randint(0, 10 ** 15),
         "Status": rng.choice(["Active", "Inactive"])}
    return "iam", "UpdateAccessKey", p, dict(p)


def c_tag_role(rng):
    tags = [{"Key": word(rng), "Value": word(rng)} for _ in n_of(rng, 0, 3)]
    p = {"RoleName": word(rng), "Tags": tags}
    return "iam", "TagRole", p, json.loads(json.dumps(p))


def c_assume_role(rng):
    p = {"RoleArn": "arn:aws:iam::222222222222:role/r", "RoleSessionName": "s-%d" % rng.randint(0, 99),
         "DurationSeconds": rng.randint(900, 43200),
         "Tags": [{"Key": word(rng), "Value": word(rng)} for _ in n_of(rng, 0, 3)],
         "TransitiveTagKeys": [word(rng) for _ in n_of(rng, 0, 2)]}
    if rng.random() < 0.5:
        p["PolicyArns"] = [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    return "sts", "AssumeRole", p, json.loads(json.dumps(p))


def c_publish(rng):
    attrs = {}
    for _ in n_of(rng, 1, 3):
        attrs[word(rng)] = rng.choice([{"DataType": "String", "StringValue": word(rng)},
                                       {"DataType": "Number", "StringValue": str(rng.randint(0, 99))}])
    b = {"TopicArn": "arn:aws:sns:us-east-1:111111111111:t", "Message": word(rng),
         "Subject": word(rng)[:99] or "s", "MessageAttributes": attrs}
    o = {"TopicArn": b["TopicArn"], "Message": b["Message"], "Subject": b["Subject"],
         "MessageAttributes": {"entry": [{"Name": k, "Value": v} for k, v in attrs.items()]}}
    return "sns", "Publish", b, o


MAKERS = [c_sg_rules, c_modify_eni, c_create_tags, c_describe_enis, c_put_role_policy,
          c_list_access_keys, c_update_access_key, c_tag_role, c_assume_role, c_publish,
          c_revoke_rule_ids, c_modify_instance, c_create_snapshots, c_nacl_entry, c_asg_detach]


# issue 19 (net-block): the group's rules, the subnet's ACL, an ACL entry's removal
def c_describe_sg_rules(rng):
    vals = ["sg-%017x" % rng.getrandbits(68) for _ in n_of(rng, 1, 2)]
    b = {"Filters": [{"Name": "group-id", "Values": vals}], "MaxResults": 1000}
    o = {"Filter": [{"Name": "group-id", "Value": vals}], "MaxResults": 1000}
    if rng.random() < 0.5:
        b["NextToken"] = o["NextToken"] = word(rng)
    return "ec2", "DescribeSecurityGroupRules", b, o


def c_describe_nacls(rng):
    name = rng.choice(["association.subnet-id", "entry.rule-action"])
    vals = [word(rng) for _ in n_of(rng, 1, 2)]
    return ("ec2", "DescribeNetworkAcls", {"Filters": [{"Name": name, "Values": vals}]},
            {"Filter": [{"Name": name, "Value": vals}]})


def c_delete_nacl_entry(rng):
    b = {"NetworkAclId": "acl-%017x" % rng.getrandbits(68), "RuleNumber": rng.randint(1, 32766), "Egress": False}
    return "ec2", "DeleteNetworkAclEntry", b, dict(b)


MAKERS += [c_describe_sg_rules, c_describe_nacls, c_delete_nacl_entry]


# issue 22 (data-breach): CloudWatch GetMetricStatistics (signing name
# "monitoring", botocore model "cloudwatch"): a list of structures and a
# list of strings, both X.member.N; timestamps as the responder sends them.
def c_metric_statistics(rng):
    dims = [{"Name": word(rng), "Value": word(rng)} for _ in n_of(rng, 1, 3)]
    stats = rng.sample(["Sum", "Maximum", "Average", "SampleCount", "Minimum"], rng.randint(1, 3))
    b = {"Namespace": "AWS/DynamoDB", "MetricName": word(rng), "Dimensions": dims,
         "StartTime": "2026-12-06T03:00:00Z", "EndTime": "2026-12-07T03:00:00Z",
         "Period": 60 * rng.randint(1, 60), "Statistics": stats}
    return "monitoring", "GetMetricStatistics", b, json.loads(json.dumps(b))


MAKERS += [c_metric_statistics]
MODEL_NAMES = {"monitoring": "cloudwatch"}


def botocore_body(session, service, op, params):
    model = session.get_service_model(MODEL_NAMES.get(service, service))
    opm = model.operation_model(op)
    ser = create_serializer(model.metadata["protocol"], include_validation=True)
    req = ser.serialize_to_request(params, opm)
    prepared = AWSRequest(method="POST", url="https://example.com/", data=req["body"]).prepare()
    body = prepared.body
    return body.encode() if isinstance(body, str) else body


class Capture(http.server.BaseHTTPRequestHandler):
    bodies = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Capture.bodies.append(self.rfile.read(n))
        payload = b"<Response><RequestId>r</RequestId></Response>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = random.Random(SEED)
    session = botocore.session.get_session()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % srv.server_address[1],
               AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="test-secret",
               AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    # every maker at least twice, then random ones
    plan = MAKERS * 2 + [rng.choice(MAKERS) for _ in range(n)]
    passed = failed = 0
    seen = set()
    for i, mk in enumerate(plan):
        service, op, bparams, ours = mk(rng)
        if ours is None:  # CreateSnapshots: the wire names of its members
            ours = {"InstanceSpecification": bparams["InstanceSpecification"],
                    "Description": bparams["Description"],
                    "TagSpecification": [{"ResourceType": t["ResourceType"], "Tag": t["Tags"]}
                                         for t in bparams["TagSpecifications"]],
                    "CopyTagsFromSource": bparams["CopyTagsFromSource"]}
        seen.add((service, op))
        want = botocore_body(session, service, op, bparams)
        Capture.bodies.clear()
        subprocess.run([TOOL, service, op, json.dumps(ours)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        got = Capture.bodies[0] if Capture.bodies else None
        if got == want:
            passed += 1
        else:
            failed += 1
            if failed <= 5:
                print("FAIL case %d %s.%s\n  botocore: %r\n  ours:     %r" % (i, service, op, want, got))
    srv.shutdown()
    print("operations: %s" % ", ".join(sorted("%s:%s" % s for s in seen)))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
