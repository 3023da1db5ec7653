#!/usr/bin/python3
"""Baseline task-quarantine in Python 3 + boto3: the API sequence of
functions/task-quarantine for a GuardDuty ECS finding, one call after another:
DescribeTasks, DescribeTaskDefinition, DescribeNetworkInterfaces,
DescribeServices, CreateSecurityGroup, DescribeSecurityGroups,
RevokeSecurityGroupEgress, ModifyNetworkInterfaceAttribute, StopTask
(contained), GetLogEvents (every page), PutObject per evidence object with
SSE-KMS and a SHA-256 checksum, PutObject manifest.json, SNS Publish."""
import datetime
import gzip
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Report, client, main  # noqa: E402

ecs = client("ecs")
ec2 = client("ec2")
logs = client("logs")
s3 = client("s3")
sns = client("sns")
TOPIC = os.environ.get("FIREBREAK_TOPIC_ARN")
BUCKET = os.environ.get("FIREBREAK_EVIDENCE_BUCKET")
KMS_KEY = os.environ.get("FIREBREAK_EVIDENCE_KMS_KEY")


def handler(event, context):
    r = Report("task-quarantine-baseline")
    inc = "bl-" + hashlib.sha256(event["id"].encode()).hexdigest()[:16]
    ecsd = event["detail"]["resource"]["ecsClusterDetails"]
    cluster, task_arn = ecsd["arn"], ecsd["taskDetails"]["arn"]
    task = r.step("describe-task", "ecs:DescribeTasks", ecs.describe_tasks, cluster=cluster,
                  tasks=[task_arn], include=["TAGS"])["tasks"][0]
    td = r.step("describe-task-definition", "ecs:DescribeTaskDefinition", ecs.describe_task_definition,
                taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    eni_id = [d["value"] for a in task.get("attachments", []) for d in a["details"]
              if d["name"] == "networkInterfaceId"][0]
    eni = r.step("describe-eni", "ec2:DescribeNetworkInterfaces", ec2.describe_network_interfaces,
                 NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    if task.get("group", "").startswith("service:"):
        r.step("describe-service", "ecs:DescribeServices", ecs.describe_services, cluster=cluster,
               services=[task["group"][8:]])
    sg = r.step("create-quarantine-group", "ec2:CreateSecurityGroup", ec2.create_security_group,
                GroupName="firebreak-quarantine-" + inc, Description="quarantine " + inc,
                VpcId=eni["VpcId"])["GroupId"]
    g = r.step("describe-quarantine-group", "ec2:DescribeSecurityGroups", ec2.describe_security_groups,
               GroupIds=[sg])["SecurityGroups"][0]
    if g["IpPermissionsEgress"]:
        r.step("revoke-quarantine-egress", "ec2:RevokeSecurityGroupEgress",
               ec2.revoke_security_group_egress, GroupId=sg, IpPermissions=g["IpPermissionsEgress"])
    restore = [{"api": "ec2:ModifyNetworkInterfaceAttribute",
                "args": {"NetworkInterfaceId": eni_id, "Groups": [x["GroupId"] for x in eni["Groups"]]}}]
    r.step("swap-groups", "ec2:ModifyNetworkInterfaceAttribute", ec2.modify_network_interface_attribute,
           NetworkInterfaceId=eni_id, Groups=[sg])
    r.step("stop-task", "ecs:StopTask", ecs.stop_task, cluster=cluster, task=task_arn,
           reason="firebreak %s" % inc)
    r.contained()
    objects = {"task.json": json.dumps(task, default=str).encode(),
               "task-definition.json": json.dumps(td, default=str).encode(),
               "network.json": json.dumps(eni, default=str).encode(),
               "restore.json": json.dumps(restore).encode()}
    tid = task_arn.split("/")[-1]
    for c in td.get("containerDefinitions", []):
        opts = (c.get("logConfiguration") or {}).get("options") or {}
        if (c.get("logConfiguration") or {}).get("logDriver") != "awslogs":
            continue
        stream = "%s/%s/%s" % (opts.get("awslogs-stream-prefix"), c["name"], tid)
        lines, token = [], None
        while True:
            kw = {"logGroupName": opts["awslogs-group"], "logStreamName": stream, "startFromHead": True}
            if token:
                kw["nextToken"] = token
            page = r.step("fetch-logs", "logs:GetLogEvents", logs.get_log_events, **kw)
            lines += [json.dumps({"timestamp": e["timestamp"], "message": e["message"]})
                      for e in page["events"]]
            if page.get("nextForwardToken") in (None, token):
                break
            token = page["nextForwardToken"]
        objects["logs/%s.log.gz" % c["name"]] = gzip.compress("\n".join(lines).encode())
    prefix = "incidents/%s/" % inc
    manifest = {"incident_id": inc, "written_at": datetime.datetime.utcnow().isoformat() + "Z",
                "objects": []}
    for name, body in objects.items():
        if BUCKET:
            r.step("evidence-put", "s3:PutObject", s3.put_object, Bucket=BUCKET, Key=prefix + name,
                   Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_KEY,
                   ChecksumAlgorithm="SHA256")
        manifest["objects"].append({"key": prefix + name, "size": len(body),
                                    "sha256": hashlib.sha256(body).hexdigest()})
    if BUCKET:
        r.step("evidence-put", "s3:PutObject", s3.put_object, Bucket=BUCKET, Key=prefix + "manifest.json",
               Body=json.dumps(manifest).encode(), ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_KEY,
               ChecksumAlgorithm="SHA256")
    r.doc["verdict"] = "contained"
    if TOPIC:
        r.step("notify", "sns:Publish", sns.publish, TopicArn=TOPIC, Message=json.dumps(r.doc))
    return r.finish()


if __name__ == "__main__":
    main(handler)
