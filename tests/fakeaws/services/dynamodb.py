"""DynamoDB control plane (issue 22, data-breach): DescribeTable,
DescribeContinuousBackups, UpdateContinuousBackups, CreateBackup,
ListBackups, DeleteBackup, UpdateTable (StreamSpecification only),
ListTagsOfResource; GetResourcePolicy / PutResourcePolicy /
DeleteResourcePolicy (model: core.SUPPLEMENT, from the npm aws-sdk v2).

As DynamoDB: ResourceNotFoundException for a missing table; TableNotFound-
Exception for CreateBackup / DescribeContinuousBackups on one; enabling a
stream that is already on is ValidationException "Table already has an
enabled stream"; a backup is AVAILABLE at once (real ones go CREATING
first). Seed: {"dynamodb": {"tables": [{"TableName", "ItemCount"?,
"TableSizeBytes"?, "pitr"?: bool, "StreamSpecification"?, "Tags"?:
[{"Key","Value"}], "policy"?: <document object or text>, "account"?,
"region"?}]}}.

Resource policies as DynamoDB documents them: GetResourcePolicy on a table
without one is PolicyNotFoundException; PutResourcePolicy /
DeleteResourcePolicy with an ExpectedRevisionId that is not the current
one ("NO_POLICY" when there is none) is PolicyNotFoundException and
changes nothing; each change makes a new RevisionId. Seed
{"dynamodb": {"policy_race": N}} makes the next N PutResourcePolicy calls
that carry an ExpectedRevisionId find the policy changed just before them
(another writer adds a statement): the conflict a responder must re-read
and merge after.
"""
import copy
import json
import time
import uuid

from protocols import AwsError
from . import Base


def _arn(t):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (t["region"], t["account"], t["TableName"])


class Service(Base):
    def reset(self):
        self.tables = {}   # (account, region, name) -> table
        self.backups = []
        self.policy_race = 0
        self.exports = []

    def seed(self, section, merge):
        self.policy_race = int(section.get("policy_race", getattr(self, "policy_race", 0)) or 0)
        for t in section.get("tables", []):
            t = copy.deepcopy(t)
            acct, region = self.owner(t)
            t["account"], t["region"] = acct, region
            t.setdefault("ItemCount", 0)
            t.setdefault("TableSizeBytes", 0)
            t.setdefault("pitr", False)
            t.setdefault("Tags", [])
            t.setdefault("created", time.time() - 86400 * 30)
            if t.get("policy") is not None and not isinstance(t["policy"], str):
                t["policy"] = json.dumps(t["policy"])
            if t.get("policy") is not None:
                t.setdefault("policy_rev", str(uuid.uuid4().int % 10 ** 13))
            self.tables[(acct, region, t["TableName"])] = t
        for e in section.get("exports", []):
            e = dict(e)
            acct, region = self.owner(e)
            t = self.tables[(acct, region, e["TableName"])]
            self._export(t, time.time() - float(e.get("ago_s", 0)), e.get("ExportStatus", "COMPLETED"))

    def dump(self):
        return {"tables": [dict(t, TableArn=_arn(t)) for t in self.tables.values()],
                "backups": copy.deepcopy(self.backups)}

    def _table(self, ctx, name, code="ResourceNotFoundException"):
        if name.startswith("arn:"):
            name = name.rsplit("/", 1)[-1]
        t = self.tables.get((ctx.account, ctx.region, name))
        if t is None:
            raise AwsError(code, "Requested resource not found: Table: %s not found" % name)
        return t

    def op_DescribeTable(self, ctx, p):
        t = self._table(ctx, p["TableName"])
        d = {"TableName": t["TableName"], "TableArn": _arn(t), "TableStatus": "ACTIVE",
             "ItemCount": t["ItemCount"], "TableSizeBytes": t["TableSizeBytes"],
             "CreationDateTime": t["created"]}
        if t.get("StreamSpecification"):
            d["StreamSpecification"] = t["StreamSpecification"]
            if t["StreamSpecification"].get("StreamEnabled"):
                d["LatestStreamArn"] = _arn(t) + "/stream/" + t.get("stream_label", "2026-01-01T00:00:00.000")
        return {"Table": d}

    def op_DescribeContinuousBackups(self, ctx, p):
        t = self._table(ctx, p["TableName"], "TableNotFoundException")
        pitr = {"PointInTimeRecoveryStatus": "ENABLED" if t["pitr"] else "DISABLED"}
        if t["pitr"]:
            pitr["EarliestRestorableDateTime"] = t.get("pitr_since", time.time())
            pitr["LatestRestorableDateTime"] = time.time() - 300
        return {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
                                                 "PointInTimeRecoveryDescription": pitr}}

    def op_UpdateContinuousBackups(self, ctx, p):
        t = self._table(ctx, p["TableName"], "TableNotFoundException")
        on = bool(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"])
        if on and not t["pitr"]:
            t["pitr_since"] = time.time()
        t["pitr"] = on
        return self.op_DescribeContinuousBackups(ctx, p)

    def op_CreateBackup(self, ctx, p):
        t = self._table(ctx, p["TableName"], "TableNotFoundException")
        now = time.time()
        b = {"BackupArn": "%s/backup/%013d-%s" % (_arn(t), int(now * 1000), uuid.uuid4().hex[:8]),
             "BackupName": p["BackupName"], "BackupStatus": "AVAILABLE", "BackupType": "USER",
             "BackupCreationDateTime": now, "BackupSizeBytes": t["TableSizeBytes"],
             "TableName": t["TableName"], "TableArn": _arn(t), "TableId": uuid.uuid5(uuid.NAMESPACE_URL, _arn(t)).hex,
             "account": ctx.account, "region": ctx.region}
        self.backups.append(b)
        return {"BackupDetails": {k: b[k] for k in ("BackupArn", "BackupName", "BackupSizeBytes", "BackupStatus",
                                                     "BackupType", "BackupCreationDateTime")}}

    def op_ListBackups(self, ctx, p):
        out = [b for b in self.backups if (b["account"], b["region"]) == (ctx.account, ctx.region)
               and b["BackupStatus"] != "DELETED"
               and ("TableName" not in p or b["TableName"] == p["TableName"])]
        start = p.get("ExclusiveStartBackupArn")
        if start:
            arns = [b["BackupArn"] for b in out]
            if start in arns:
                out = out[arns.index(start) + 1:]
        limit = p.get("Limit", 100)
        page, rest = out[:limit], out[limit:]
        res = {"BackupSummaries": [{k: b[k] for k in ("TableName", "TableId", "TableArn", "BackupArn", "BackupName",
                                                       "BackupCreationDateTime", "BackupStatus", "BackupType",
                                                       "BackupSizeBytes")} for b in page]}
        if rest:
            res["LastEvaluatedBackupArn"] = page[-1]["BackupArn"]
        return res

    def op_DeleteBackup(self, ctx, p):
        for b in self.backups:
            if b["BackupArn"] == p["BackupArn"] and b["BackupStatus"] != "DELETED":
                b["BackupStatus"] = "DELETED"
                return {"BackupDescription": {"BackupDetails": {k: b[k] for k in (
                    "BackupArn", "BackupName", "BackupStatus", "BackupType", "BackupCreationDateTime")}}}
        raise AwsError("BackupNotFoundException", "Backup not found: %s" % p["BackupArn"])

    def op_UpdateTable(self, ctx, p):
        t = self._table(ctx, p["TableName"])
        spec = p.get("StreamSpecification")
        if spec is None:
            raise AwsError("ValidationException", "fakeaws: only StreamSpecification updates are emulated")
        cur = t.get("StreamSpecification") or {}
        if spec.get("StreamEnabled"):
            if cur.get("StreamEnabled"):
                raise AwsError("ValidationException", "Table already has an enabled stream: %s" % _arn(t))
            if "StreamViewType" not in spec:
                raise AwsError("ValidationException", "StreamViewType is required when enabling a stream")
            t["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}
        else:
            if not cur.get("StreamEnabled"):
                raise AwsError("ValidationException", "Table already has no stream enabled")
            t["StreamSpecification"] = {"StreamEnabled": False}
        return self.op_DescribeTable(ctx, p)

    def op_ListTagsOfResource(self, ctx, p):
        arn = p["ResourceArn"]
        t = self._table(ctx, arn)
        if arn != _arn(t):
            raise AwsError("ResourceNotFoundException", "Requested resource not found: ResourceArn: %s not found" % arn)
        return {"Tags": copy.deepcopy(t["Tags"])}

    # issue 22: the recovery form. As DynamoDB: the target must not exist
    # (TableAlreadyExistsException), the source must have PITR on
    # (PointInTimeRecoveryUnavailableException), the time within its window
    # (InvalidRestoreTimeException). The new table copies the item count and
    # size, nothing else (no PITR, no stream, no tags), as a real restore.
    def op_RestoreTableToPointInTime(self, ctx, p):
        src = self._table(ctx, p["SourceTableName"], "SourceTableNotFoundException")
        if (ctx.account, ctx.region, p["TargetTableName"]) in self.tables:
            raise AwsError("TableAlreadyExistsException", "Table already exists: %s" % p["TargetTableName"])
        if not src["pitr"]:
            raise AwsError("PointInTimeRecoveryUnavailableException",
                           "Point in time recovery is not enabled for table '%s'" % src["TableName"])
        when = p.get("RestoreDateTime")
        if when is not None:
            when = when.timestamp() if hasattr(when, "timestamp") else float(when)
            if when < src.get("pitr_since", 0) or when > time.time():
                raise AwsError("InvalidRestoreTimeException", "Restore time is not within the restorable window")
        t = {"TableName": p["TargetTableName"], "ItemCount": src["ItemCount"],
             "TableSizeBytes": src["TableSizeBytes"], "pitr": False, "Tags": [], "created": time.time(),
             "account": ctx.account, "region": ctx.region, "restored_from": src["TableName"],
             "restored_to": when}
        self.tables[(ctx.account, ctx.region, t["TableName"])] = t
        return {"TableDescription": self.op_DescribeTable(ctx, {"TableName": t["TableName"]})["Table"]}

    # issue 22: table resource policies (containment of a principal).
    def _policy_table(self, ctx, arn):
        t = self._table(ctx, arn)
        if arn != _arn(t):
            raise AwsError("ResourceNotFoundException", "Requested resource not found: ResourceArn: %s not found" % arn)
        return t

    def _check_rev(self, t, p):
        exp = p.get("ExpectedRevisionId")
        if exp is None:
            return
        cur = t.get("policy_rev") if t.get("policy") is not None else "NO_POLICY"
        if exp != cur:
            raise AwsError("PolicyNotFoundException",
                           "Resource-based policy not found for the provided ResourceArn: Requested update for policy "
                           "with revision id %s, but the policy associated to target table %s has revision id %s."
                           % (exp, t["TableName"], cur))

    def op_GetResourcePolicy(self, ctx, p):
        t = self._policy_table(ctx, p["ResourceArn"])
        if t.get("policy") is None:
            raise AwsError("PolicyNotFoundException",
                           "Resource-based policy not found for the provided ResourceArn: %s" % p["ResourceArn"])
        return {"Policy": t["policy"], "RevisionId": t["policy_rev"]}

    def op_PutResourcePolicy(self, ctx, p):
        t = self._policy_table(ctx, p["ResourceArn"])
        if self.policy_race and p.get("ExpectedRevisionId") is not None:
            self.policy_race -= 1
            doc = json.loads(t["policy"]) if t.get("policy") else {"Version": "2012-10-17", "Statement": []}
            doc["Statement"].append({"Sid": "OtherWriter%d" % len(doc["Statement"]), "Effect": "Allow",
                                     "Principal": {"AWS": "arn:aws:iam::%s:role/reader" % t["account"]},
                                     "Action": "dynamodb:GetItem", "Resource": _arn(t)})
            t["policy"], t["policy_rev"] = json.dumps(doc), str(uuid.uuid4().int % 10 ** 13)
        self._check_rev(t, p)
        try:
            doc = json.loads(p["Policy"])
        except ValueError:
            raise AwsError("ValidationException", "Invalid policy document")
        if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list):
            raise AwsError("ValidationException", "Invalid policy document: Statement must be a list")
        t["policy"], t["policy_rev"] = p["Policy"], str(uuid.uuid4().int % 10 ** 13)
        return {"RevisionId": t["policy_rev"]}

    def op_DeleteResourcePolicy(self, ctx, p):
        t = self._policy_table(ctx, p["ResourceArn"])
        if t.get("policy") is None:
            raise AwsError("PolicyNotFoundException",
                           "Resource-based policy not found for the provided ResourceArn: %s" % p["ResourceArn"])
        self._check_rev(t, p)
        t["policy"], t["policy_rev"] = None, None
        return {"RevisionId": str(uuid.uuid4().int % 10 ** 13)}

    # issue 22 item 4: exports in the window. As DynamoDB: PITR must be on
    # (PointInTimeRecoveryUnavailableException); the export ARN carries its
    # start time ("<table arn>/export/<epoch ms>-<8 hex>"); ListExports by
    # TableArn, newest last, MaxResults/NextToken. An export is COMPLETED at
    # once. Seed {"dynamodb": {"exports": [{"TableName", "ago_s"?,
    # "ExportStatus"?}]}} for exports made before the test.
    def _export(self, t, when, status="COMPLETED", bucket="bucket"):
        arn = "%s/export/%013d-%s" % (_arn(t), int(when * 1000), uuid.uuid4().hex[:8])
        e = {"ExportArn": arn, "ExportStatus": status, "ExportType": "FULL_EXPORT", "TableArn": _arn(t),
             "S3Bucket": bucket, "ExportTime": when, "account": t["account"], "region": t["region"]}
        self.exports.append(e)
        return e

    def op_ExportTableToPointInTime(self, ctx, p):
        t = self._policy_table(ctx, p["TableArn"])
        if not t["pitr"]:
            raise AwsError("PointInTimeRecoveryUnavailableException",
                           "Point in time recovery is not enabled for table '%s'" % t["TableName"])
        e = self._export(t, time.time(), bucket=p["S3Bucket"])
        return {"ExportDescription": {"ExportArn": e["ExportArn"], "ExportStatus": e["ExportStatus"],
                                      "TableArn": e["TableArn"], "S3Bucket": e["S3Bucket"],
                                      "ExportType": e["ExportType"]}}

    def op_ListExports(self, ctx, p):
        out = [e for e in self.exports if (e["account"], e["region"]) == (ctx.account, ctx.region)
               and ("TableArn" not in p or e["TableArn"] == p["TableArn"])]
        start = int(p.get("NextToken") or 0)
        limit = p.get("MaxResults", 25)
        page = out[start:start + limit]
        res = {"ExportSummaries": [{k: e[k] for k in ("ExportArn", "ExportStatus", "ExportType")} for e in page]}
        if start + limit < len(out):
            res["NextToken"] = str(start + limit)
        return res
