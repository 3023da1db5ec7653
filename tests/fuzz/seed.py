#!/usr/bin/python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ from events/, the
published samples in ../shared (when present) and a few hand-made AWS
answers. Run it again after adding events; the output is committed so the
replay works without ../shared. Seeds are named by content hash."""
import base64
import glob
import gzip
import hashlib
import json
import os
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared")
REF = os.path.join(SHARED, "reference-events")
SUITE = os.path.join(SHARED, "sigv4-test-suite", "v4")


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def jload(b):
    try:
        return json.loads(b.decode("utf-8-sig"))
    except ValueError:
        return None


def refs(pattern):
    return sorted(glob.glob(os.path.join(REF, pattern))) if os.path.isdir(REF) else []


def lookup_page(records):
    return json.dumps({"Events": [
        {"EventId": r.get("eventID", "ev-%d" % i), "EventName": r.get("eventName", ""),
         "EventTime": 1709287230 + i, "CloudTrailEvent": json.dumps(r)}
        for i, r in enumerate(records)], "NextToken": "tok"})


def main():

    # ---- public-lock (issue 19): events, S3 answers, tag histories
    for f in sorted(glob.glob(os.path.join(ROOT, "events/public-lock/*.json"))) + refs("securityhub-asff-afsbp-s3*"):
        put("public_lock", b"\x00" + read(f))
    for doc in ({"BlockPublicAcls": "true", "IgnorePublicAcls": "false", "BlockPublicPolicy": "true",
                 "RestrictPublicBuckets": "false"},
                {"Owner": {"ID": "o"}, "AccessControlList": {"Grant": [
                    {"Grantee": {"ID": "o"}, "Permission": "FULL_CONTROL"},
                    {"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}):
        put("public_lock", b"\x01" + json.dumps(doc).encode())
    put("public_lock", b"\x02" + json.dumps(json.loads(lookup_page([
        {"eventName": "PutBucketTagging", "eventTime": "2024-03-01T10:00:00Z", "eventID": "t-1",
         "userIdentity": {"arn": "arn:aws:iam::111111111111:user/mallory"},
         "requestParameters": {"bucketName": "b-1", "Tagging": {"TagSet": {"Tag": {
             "Key": "firebreak:public-ok", "Value": "true"}}}}},
        {"eventName": "DeleteBucketTagging", "eventTime": "2024-03-01T11:00:00Z", "eventID": "t-2",
         "requestParameters": {"bucketName": "b-1"}}]))["Events"]).encode())
    # ---- responders' events
    for f in sorted(glob.glob(os.path.join(ROOT, "events/root-verify/*.json"))) + refs("root-*") + refs("cloudwatch-alarm-*"):
        put("root_verify", b"\x00" + read(f))
    for f in sorted(glob.glob(os.path.join(ROOT, "events/kms-guard/*.json"))) + refs("kms-*"):
        put("kms_guard", b"\x00" + read(f))
    for f in sorted(glob.glob(os.path.join(ROOT, "events/task-quarantine/*.json"))) + refs("guardduty-*.json"):
        put("task_quarantine", b"\x00" + read(f))
    # iam-contain: events (stage 0), a history of each kind (stage 1), trust
    # policies and IAM's URL-encoded documents (stage 2)
    for f in sorted(glob.glob(os.path.join(ROOT, "events/iam-contain/*.json"))) + refs("guardduty-finding-iam-*"):
        put("iam_contain", b"\x00" + read(f))
    ui = {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice"}
    hist = [{"EventName": "PutUserPolicy", "CloudTrailEvent": json.dumps({
                "eventName": "PutUserPolicy", "eventTime": "2026-12-01T00:00:00Z", "userIdentity": ui,
                "requestParameters": {"userName": "bob", "policyName": "p", "policyDocument": "{\"Statement\":[]}"}})},
            {"EventName": "SetDefaultPolicyVersion", "CloudTrailEvent": json.dumps({
                "eventName": "SetDefaultPolicyVersion", "eventTime": "2026-12-01T00:00:00Z", "userIdentity": ui,
                "requestParameters": {"policyArn": "arn:aws:iam::111111111111:policy/ops", "versionId": "v1"}})},
            {"EventName": "CreateRole", "CloudTrailEvent": json.dumps({
                "eventName": "CreateRole", "eventTime": "2026-11-01T00:00:00Z", "userIdentity": ui,
                "requestParameters": {"roleName": "app", "assumeRolePolicyDocument": "{\"Statement\":[]}",
                                      "permissionsBoundary": "arn:aws:iam::111111111111:policy/b"}})}]
    for sel in range(8):
        put("iam_contain", bytes([1 + 3 * sel]) + json.dumps(hist).encode())
    put("iam_contain", b"\x02" + json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}}]}).encode())
    put("iam_contain", b"\x02%7B%22Statement%22%3A%5B%5D%7D")
    root_records = [jload(read(f)) for f in refs("root-*cloudtrail-record.json")]
    kms_records = [jload(read(f)) for f in refs("kms-*cloudtrail-record.json")]
    for f in sorted(glob.glob(os.path.join(ROOT, "events/kms-guard/*.json"))):
        j = jload(read(f))
        if isinstance(j, dict) and isinstance(j.get("detail"), dict):
            kms_records.append(j["detail"])
    for f in sorted(glob.glob(os.path.join(ROOT, "events/root-verify/*.json"))):
        j = jload(read(f))
        if isinstance(j, dict) and isinstance(j.get("detail"), dict):
            root_records.append(j["detail"])
    root_records = [r for r in root_records if r]
    kms_records = [r for r in kms_records if r]
    put("root_verify", b"\x01" + lookup_page(root_records).encode())
    put("root_verify", b"\x01" + lookup_page([]).encode())
    put("root_verify", b'\x02{"GetAccountSummaryResult":{"SummaryMap":{"AccountMFAEnabled":"1","AccountAccessKeysPresent":"0","Users":"3"}}}')
    put("root_verify", b'\x02{"GetAccountSummaryResult":{"SummaryMap":""}}')
    put("root_verify", b"\x03203.0.113.0/24, 198.51.100.7,2001:db8::/32")
    put("root_verify", b"\x03::ffff:10.0.0.1/128,0.0.0.0/0")
    for r in kms_records:
        put("kms_guard", b"\x01" + json.dumps(r).encode())
    put("kms_guard", b"\x02" + json.dumps(json.loads(lookup_page(kms_records))["Events"]).encode())
    # task-quarantine AWS answers (shapes from the ECS/EC2 API references)
    task = {"taskArn": "arn:aws:ecs:us-east-1:111111111111:task/prod/0123456789abcdef0123456789abcdef",
            "clusterArn": "arn:aws:ecs:us-east-1:111111111111:cluster/prod", "lastStatus": "RUNNING",
            "desiredStatus": "RUNNING", "launchType": "FARGATE", "group": "service:web",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/web:3",
            "tags": [{"key": "firebreak:exempt", "value": "false"}],
            "attachments": [{"type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [
                {"name": "networkInterfaceId", "value": "eni-0abc"}, {"name": "subnetId", "value": "subnet-1"},
                {"name": "privateIPv4Address", "value": "10.0.1.5"}]}],
            "containers": [{"name": "web", "image": "nginx:1.25", "imageDigest": "sha256:" + "a" * 64,
                            "runtimeId": "0123456789abcdef0123456789abcdef-1234567890"}]}
    td = {"taskDefinitionArn": task["taskDefinitionArn"], "networkMode": "awsvpc", "containerDefinitions": [
        {"name": "web", "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}]}
    put("task_quarantine", b"\x01" + json.dumps({"task": task, "taskDefinition": td}).encode())
    eni = {"networkInterfaceSet": [{"networkInterfaceId": "eni-0abc", "vpcId": "vpc-1", "subnetId": "subnet-1",
                                    "requesterManaged": "false",
                                    "groupSet": [{"groupId": "sg-1", "groupName": "web"},
                                                 {"groupId": "sg-2", "groupName": "firebreak-quarantine-vpc-1"}]}]}
    put("task_quarantine", b"\x02" + json.dumps(eni).encode())
    put("task_quarantine", b'\x02{"networkInterfaceSet":""}')
    eg = [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
          {"ipProtocol": "tcp", "fromPort": "443", "toPort": "443", "groups": [{"groupId": "sg-9", "userId": "111111111111"}],
           "prefixListIds": [{"prefixListId": "pl-1"}]}]
    put("task_quarantine", b"\x03" + json.dumps(eg).encode())
    put("task_quarantine", b"\x04" + json.dumps({"events": [{"timestamp": 1709287230000, "message": "hello", "ingestionTime": 1}],
                                                  "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}).encode())
    for f in sorted(glob.glob(os.path.join(ROOT, "events/leak-rotate/*.json"))) + refs("cloudwatch-logs-subscription*.json"):
        put("leak_rotate", read(f))
    put("leak_rotate", b'{"version":"0","id":"a","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch",'
        b'"account":"111111111111","time":"2026-01-01T00:00:00Z","region":"us-east-1",'
        b'"detail":{"alarmName":"firebreak-leak-exposure","state":{"value":"ALARM","reasonData":"{}"}}}')
    # ---- awslogs
    payloads = []
    for f in refs("cloudwatch-logs-subscription*.json"):
        j = jload(read(f))
        if isinstance(j, dict) and isinstance(j.get("awslogs"), dict):
            data = j["awslogs"].get("data", "")
            put("awslogs", b"\x00" + data.encode())
            try:
                raw = base64.b64decode(data)
                put("awslogs", b"\x01" + raw)
                payloads.append(zlib.decompress(raw, 47))
            except Exception:
                pass
        elif isinstance(j, dict) and "logEvents" in j:
            payloads.append(json.dumps(j).encode())
    payloads.append(json.dumps({"messageType": "DATA_MESSAGE", "owner": "111111111111", "logGroup": "/app",
                                "logStream": "s", "subscriptionFilters": ["f"], "logEvents": [
                                    {"id": "1", "timestamp": 1, "message": "key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                                    {"id": "2", "timestamp": 2, "message": "pw hunter2-correct-horse-battery ghp_" + "a" * 36},
                                    {"id": "3", "timestamp": 3, "message": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln -----BEGIN RSA PRIVATE KEY-----"}]}).encode())
    payloads.append(b'{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}')
    for p in payloads:
        put("awslogs", b"\x02" + p)
        put("awslogs", b"\x01" + gzip.compress(p, mtime=0))
        put("awslogs", b"\x00" + base64.b64encode(gzip.compress(p, mtime=0)))
    put("awslogs", b'\x03{"username":"admin","password":"hunter2-correct-horse-battery","port":5432}')
    put("awslogs", b"\x03plain-secret-value-1234")
    # ---- XML answers and errors
    xmls = [
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>denied</Message></Error><RequestId>r-1</RequestId></ErrorResponse>',
        b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>The security group does not exist</Message></Error></Errors><RequestID>r-2</RequestID></Response>',
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>no bucket</Message><RequestId>r-3</RequestId><HostId>h</HostId></Error>',
        b'<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult><SummaryMap><entry><key>AccountMFAEnabled</key><value>1</value></entry><entry><key>AccountAccessKeysPresent</key><value>0</value></entry></SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>r-4</RequestId></ResponseMetadata></GetAccountSummaryResponse>',
        b'<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKE</AccessKeyId><SecretAccessKey>x</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>',
        b'<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-5</requestId><securityGroupInfo><item><groupId>sg-1</groupId><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><groups/></item></ipPermissionsEgress></item></securityGroupInfo></DescribeSecurityGroupsResponse>',
        b'<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>',
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b'<a><b>1</b><b>2</b><c>&amp;&lt;&#x41;</c><![CDATA[x]]></a>',
    ]
    for x in xmls:
        put("xml", x)
    # aws_error: status selector byte, header lines, NUL, body
    errs = [
        (0, b"x-amzn-RequestId: r-1\r\nContent-Type: application/x-amz-json-1.1\r\n",
         b'{"__type":"com.amazonaws.kms#NotFoundException","message":"Key not found"}'),
        (4, b"x-amzn-RequestId: r-2\r\nx-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/\r\n",
         b'{"__type":"ThrottlingException","Message":"Rate exceeded"}'),
        (5, b"HTTP/1.1 500 Internal\r\n", b'{"code":"InternalFailure"}'),
        (7, b"", b"<html>Service Unavailable</html>"),
        (9, b"x-amz-request-id: r-3\r\n", b""),
    ]
    for st, h, b in errs:
        put("aws_error", bytes([st]) + h + b"\x00" + b)
    for x in xmls[:3]:
        put("aws_error", b"\x00Content-Type: text/xml\r\n\x00" + x)
    # lr_headers: the GET /next answer's header lines, NUL, error type, NUL, message
    put("lr_headers", b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
        b"Lambda-Runtime-Deadline-Ms: 1542409706888\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:custom-runtime\r\n"
        b"Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n"
        b"Lambda-Runtime-Client-Context: {}\r\nLambda-Runtime-Cognito-Identity: {}\r\nLambda-Runtime-Aws-Tenant-Id: t1\r\nContent-Type: application/json\r\n\r\n"
        b"\x00Firebreak.InvalidEvent\x00not JSON")
    put("lr_headers", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nlambda-runtime-deadline-ms:   99999999999999999999\r\n\x00\x00")
    put("lr_headers", b"Lambda-Runtime-Deadline-Ms: -5\n\x00Bad\xffType\r\n\x00\xe2\x82\xac\xe2\x82")
    # sigv4: the AWS test suite's requests
    if os.path.isdir(SUITE):
        for req in sorted(glob.glob(os.path.join(SUITE, "**", "header-signed-request.txt"), recursive=True)):
            raw = read(req).replace(b"\r\n", b"\n")
            head, _, body = raw.partition(b"\n\n")
            lines = head.split(b"\n")
            parts = lines[0].split(b" ")
            method, target = parts[0], b" ".join(parts[1:-1])
            path, _, query = target.partition(b"?")
            hdrs = []
            for l in lines[1:]:
                if l[:1] in (b" ", b"\t") and hdrs:
                    hdrs[-1] += b" " + l.strip()
                else:
                    hdrs.append(l)
            for flags in (0, 2):
                put("sigv4", bytes([flags]) + b"\n".join([method, path, query] + hdrs) + b"\x00" + body)
    put("sigv4", b"\x01POST\n/\n\ncontent-type:application/x-amz-json-1.1\nx-amz-target:TrentService.DescribeKey\x00{\"KeyId\":\"alias/x\"}")
    put("sigv4", b"\x03PUT\n/bucket/a b/../c%2Fd\nversionId=1&x=\nx-amz-content-sha256:UNSIGNED-PAYLOAD\x00data")
    put("sigv4", b"\x05GET\n/./a//b/\nAction=ListUsers&Version=2010-05-08&Marker=a%20b\nX-Amz-Security-Token:token\n  My-Header :  a   b  \nmy-header:c\x00")
    instance_quarantine()


def instance_quarantine():
    """issue 20: the events (stage 0), a DescribeInstances answer (1), firebreak groups (2)."""
    for f in sorted(glob.glob(os.path.join(ROOT, "events/instance-quarantine/*.json"))) + refs("guardduty-*.json") \
            + refs("securityhub-*.json"):
        put("instance_quarantine", b"\x00" + read(f))
    inst = {"reservationSet": [{"instancesSet": [{
        "instanceId": "i-0123456789abcdef0", "instanceState": {"name": "running"}, "vpcId": "vpc-1",
        "iamInstanceProfile": {"arn": "arn:aws:iam::111111111111:instance-profile/web"},
        "tagSet": [{"key": "firebreak:exempt", "value": "true"}],
        "networkInterfaceSet": [{"networkInterfaceId": "eni-1", "vpcId": "vpc-1",
                                 "groupSet": [{"groupId": "sg-1", "groupName": "web"}]}],
        "blockDeviceMapping": [{"deviceName": "/dev/xvda", "ebs": {"volumeId": "vol-1", "deleteOnTermination": "true"}}]}]}],
        "snapshotSet": [{"snapshotId": "snap-1", "volumeId": "vol-1", "state": "pending"}]}
    put("instance_quarantine", b"\x01" + json.dumps(inst).encode())
    put("instance_quarantine", b'\x01{"reservationSet":""}')
    openp = [{"ipProtocol": "-1", "ipRanges": [{"cidrIp": "0.0.0.0/0"}], "ipv6Ranges": [{"cidrIpv6": "::/0"}]}]
    put("instance_quarantine", b"\x02" + json.dumps([
        {"groupId": "sg-q", "groupName": "firebreak-quarantine", "vpcId": "vpc-1", "ipPermissions": "",
         "ipPermissionsEgress": ""},
        {"groupId": "sg-u", "groupName": "firebreak-untrack", "vpcId": "vpc-1", "ipPermissions": openp,
         "ipPermissionsEgress": openp}]).encode())

    seed_data_breach()
    seed_cognito_lockdown()
    seed_codeartifact_lock()


def seed_data_breach():
    # ---- data-breach (issue 22): events, Datapoints, table state answers
    for f in sorted(glob.glob(os.path.join(ROOT, "events/data-breach/*.json"))) + \
            refs("cloudwatch-alarm-state-change-*"):
        put("data_breach", b"\x00" + read(f))
    put("data_breach", b"\x00" + json.dumps({"table": "arn:aws:dynamodb:eu-west-1:123456789012:table/t.1",
                                             "principal": "arn:aws:sts::123456789012:assumed-role/r/s"}).encode())
    put("data_breach", b"\x00" + json.dumps({"restore": {"table": "orders", "to": "2026-12-06T01:00:00Z",
                                                         "target": "orders-r"}}).encode())
    put("data_breach", b"\x01" + json.dumps([{"Timestamp": "2026-12-06T%02d:00:00Z" % h, "Sum": 5000 if h == 3 else 100,
                                              "Unit": "Count"} for h in range(24)]).encode())
    put("data_breach", b"\x02" + json.dumps({"Table": {"TableName": "orders", "ItemCount": 5, "StreamSpecification": {
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}}}).encode())
    put("data_breach", b"\x02" + json.dumps({"ContinuousBackupsDescription": {
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}},
        "BackupSummaries": [{"BackupName": "firebreak-x", "BackupStatus": "AVAILABLE"}]}).encode())


def seed_cognito_lockdown():
    # ---- cognito-lockdown (issue 23): events, ListUsers pages, pool / client / secrets answers
    for f in sorted(glob.glob(os.path.join(ROOT, "events/cognito-lockdown/*.json"))):
        put("cognito_lockdown", b"\x00" + read(f))
    put("cognito_lockdown", b"\x00" + json.dumps({"userPoolId": "eu-west-1_AbC", "clientId": "x+y_1",
                                                   "scope": {"users": ["b", "a", "b", "j\u00f6rg"]}}).encode())
    put("cognito_lockdown", b"\x01" + json.dumps([{"Username": "user%03d" % i, "UserStatus": "CONFIRMED"}
                                                   for i in range(40)] + [{"Username": "a b"}, {}]).encode())
    put("cognito_lockdown", b"\x02" + json.dumps({
        "MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "UserPoolClient": {"AccessTokenValidity": 30, "IdTokenValidity": 2,
                           "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "hours"}},
        "ClientSecrets": [{"ClientSecretId": "s1", "ClientSecretCreateDate": 1.7e9},
                          {"ClientSecretId": "s2"}]}).encode())
    put("cognito_lockdown", b"\x02" + json.dumps({"MfaConfiguration": "OPTIONAL",
                                                   "UserPoolClient": {"AccessTokenValidity": "24"},
                                                   "ClientSecrets": []}).encode())


def seed_codeartifact_lock():
    # ---- codeartifact-lock (issue 23): events, policy documents, principals
    for f in sorted(glob.glob(os.path.join(ROOT, "events/codeartifact-lock/*.json"))):
        put("codeartifact_lock", b"\x00" + read(f))
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "codeartifact:ReadFromRepository", "Resource": "*"},
        {"Effect": "Allow", "NotPrincipal": {"AWS": ["arn:aws:iam::111111111111:user/bob"]}, "Action": "*"}]}
    put("codeartifact_lock", b"\x01" + json.dumps(pol).encode())
    put("codeartifact_lock", b"\x01" + json.dumps(dict(pol, Statement=pol["Statement"][0])).encode())
    for arn in ("arn:aws:iam::111111111111:user/dev/mallory", "arn:aws:sts::111111111111:assumed-role/ci/s-1",
                "arn:aws:iam::111111111111:root", "arn:aws-us-gov:iam::111111111111:role/a/b/c"):
        put("codeartifact_lock", b"\x02" + arn.encode())


if __name__ == "__main__":
    main()
    for d in sorted(glob.glob(os.path.join(HERE, "corpus", "*"))):
        print("%-16s %d seeds" % (os.path.basename(d), len(os.listdir(d))))
