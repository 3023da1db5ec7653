"""DynamoDB control plane (issue 22, data-breach): DescribeTable,
DescribeContinuousBackups, UpdateContinuousBackups, CreateBackup,
ListBackups, DeleteBackup, UpdateTable (StreamSpecification only),
ListTagsOfResource.

As DynamoDB: ResourceNotFoundException for a missing table; TableNotFound-
Exception for CreateBackup / DescribeContinuousBackups on one; enabling a
stream that is already on is ValidationException "Table already has an
enabled stream"; a backup is AVAILABLE at once (real ones go CREATING
first). Seed: {"dynamodb": {"tables": [{"TableName", "ItemCount"?,
"TableSizeBytes"?, "pitr"?: bool, "StreamSpecification"?, "Tags"?:
[{"Key","Value"}], "account"?, "region"?}]}}.
"""
import copy
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

    def seed(self, section, merge):
        for t in section.get("tables", []):
            t = copy.deepcopy(t)
            acct, region = self.owner(t)
            t["account"], t["region"] = acct, region
            t.setdefault("ItemCount", 0)
            t.setdefault("TableSizeBytes", 0)
            t.setdefault("pitr", False)
            t.setdefault("Tags", [])
            t.setdefault("created", time.time() - 86400 * 30)
            self.tables[(acct, region, t["TableName"])] = t

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
