#!/usr/bin/python3
"""Baseline kms-guard in Python 3 + boto3: the API sequence of
functions/kms-guard for a ScheduleKeyDeletion / DisableKey event:
DescribeKey, ListResourceTags, LookupEvents (the key's history, to learn the
prior state), CancelKeyDeletion, EnableKey, TagResource, SNS Publish."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Report, client, main  # noqa: E402

kms = client("kms")
cloudtrail = client("cloudtrail")
sns = client("sns")
TOPIC = os.environ.get("FIREBREAK_TOPIC_ARN")


def handler(event, context):
    r = Report("kms-guard-baseline")
    detail = event["detail"]
    key = detail["requestParameters"]["keyId"]
    meta = r.step("describe-key", "kms:DescribeKey", kms.describe_key, KeyId=key)["KeyMetadata"]
    arn = meta["Arn"]
    tags = r.step("list-tags", "kms:ListResourceTags", kms.list_resource_tags, KeyId=arn)["Tags"]
    if meta["KeyManager"] == "AWS" or any(t["TagKey"] == "firebreak:allow-deletion" and
                                          t["TagValue"] == "true" for t in tags):
        r.doc["verdict"] = "skipped"
        return r.finish()
    hist = r.step("key-history", "cloudtrail:LookupEvents", cloudtrail.lookup_events,
                  LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}],
                  MaxResults=50)["Events"]
    prior = "Enabled"
    for e in hist:  # newest first: the last state change before this event
        if e["EventName"] in ("DisableKey", "EnableKey") and e["EventId"] != detail.get("eventID"):
            prior = "Disabled" if e["EventName"] == "DisableKey" else "Enabled"
            break
    if meta["KeyState"] in ("PendingDeletion", "PendingReplicaDeletion"):
        r.step("cancel-deletion", "kms:CancelKeyDeletion", kms.cancel_key_deletion, KeyId=arn)
    if prior == "Enabled":
        r.step("enable-key", "kms:EnableKey", kms.enable_key, KeyId=arn)
    r.step("tag-incident", "kms:TagResource", kms.tag_resource, KeyId=arn,
           Tags=[{"TagKey": "firebreak:incident", "TagValue": event["id"]}])
    r.contained()
    r.doc["verdict"] = "contained"
    if TOPIC:
        r.step("notify", "sns:Publish", sns.publish, TopicArn=TOPIC, Message=json.dumps(r.doc))
    return r.finish()


if __name__ == "__main__":
    main(handler)
