"""CloudTrail LookupEvents over seeded events or raw CloudTrail records.

The LookupEvents quota (off unless seeded): "The rate of lookup requests is
limited to two per second, per account, per region. If this limit is
exceeded, a throttling error occurs." (botocore's cloudtrail model,
LookupEvents). The error is CloudTrail's ThrottlingException, HTTP 400
(newer cloudtrail models list it: "This exception is thrown when the request
rate exceeds the limit"). Seed `{"cloudtrail": {"lookup_rate_per_second": 2}}`
turns it on: at most N accepted LookupEvents in any 1 s window per
(account, region); a throttled request is not counted. 0 (the default)
keeps every existing test as fast as before.
"""
import base64
import collections
import copy
import hashlib
import json
import time

from protocols import AwsError, to_epoch
from . import Base, uid

ATTRS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
         "EventSource", "AccessKeyId")


def _username(rec):
    ui = rec.get("userIdentity") or {}
    t = ui.get("type")
    if t == "Root":
        return "root"
    if t == "IAMUser":
        return ui.get("userName")
    if t in ("AssumedRole", "FederatedUser"):
        arn = ui.get("arn", "")
        return arn.rsplit("/", 1)[-1] if "/" in arn else None
    return ui.get("userName") or ui.get("invokedBy")


def from_record(rec):
    """A raw CloudTrail record -> a LookupEvents Event."""
    res = []
    for r in rec.get("resources") or []:
        res.append({"ResourceType": r.get("type"), "ResourceName": r.get("ARN") or r.get("arn")})
    return {"EventId": rec.get("eventID") or uid(), "EventName": rec.get("eventName"),
            "ReadOnly": str(rec.get("readOnly", False)).lower(), "AccessKeyId": (rec.get("userIdentity") or {}).get("accessKeyId"),
            "EventTime": to_epoch(rec.get("eventTime")), "EventSource": rec.get("eventSource"),
            "Username": _username(rec), "Resources": res, "CloudTrailEvent": json.dumps(rec)}


class Service(Base):
    def reset(self):
        self.events = []  # each with _account/_region
        self.rate = 0                                   # LookupEvents per second; 0 = no quota
        self.accepted = collections.defaultdict(collections.deque)  # (account, region) -> times
        self.throttled = 0

    def seed(self, section, merge):
        if "lookup_rate_per_second" in section:
            self.rate = int(section["lookup_rate_per_second"] or 0)
            self.accepted.clear()
        for rec in section.get("records", []):
            rec = copy.deepcopy(rec)
            acct = str(rec.get("recipientAccountId") or (rec.get("userIdentity") or {}).get("accountId")
                       or self.world.default_account)
            e = from_record(rec)
            e["_account"], e["_region"] = acct, rec.get("awsRegion", self.world.default_region)
            self.events.append(e)
        for e in section.get("events", []):
            e = copy.deepcopy(e)
            acct, region = self.owner(e)
            e.setdefault("EventId", uid())
            e["EventTime"] = to_epoch(e.get("EventTime", 0))
            if not isinstance(e.get("CloudTrailEvent"), str):
                e["CloudTrailEvent"] = json.dumps(e.get("CloudTrailEvent") or {
                    "eventVersion": "1.08", "eventID": e["EventId"], "eventName": e.get("EventName"),
                    "eventSource": e.get("EventSource"), "awsRegion": region, "recipientAccountId": acct})
            e["_account"], e["_region"] = acct, region
            self.events.append(e)
        self.events.sort(key=lambda e: e["EventTime"], reverse=True)

    def dump(self):
        return {"events": [{k: v for k, v in e.items() if not k.startswith("_")} for e in self.events],
                "lookup_rate_per_second": self.rate, "throttled": self.throttled}

    def _quota(self, ctx):
        if not self.rate:
            return
        now = time.monotonic()
        q = self.accepted[(ctx.account, ctx.region)]
        while q and q[0] <= now - 1.0:
            q.popleft()
        if len(q) >= self.rate:
            self.throttled += 1
            raise AwsError("ThrottlingException", "Rate exceeded", 400)
        q.append(now)

    def op_LookupEvents(self, ctx, p):
        self._quota(ctx)
        attrs = p.get("LookupAttributes") or []
        if len(attrs) > 1:
            raise AwsError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        n = p.get("MaxResults", 50)
        if not 1 <= n <= 50:
            raise AwsError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        st, et = p.get("StartTime"), p.get("EndTime")
        st = to_epoch(st) if st is not None else None
        et = to_epoch(et) if et is not None else None
        if st is not None and et is not None and st > et:
            raise AwsError("InvalidTimeRangeException", "Start time must be earlier than end time.")
        evs = [e for e in self.events if (e["_account"], e["_region"]) == (ctx.account, ctx.region)
               and (st is None or e["EventTime"] >= st) and (et is None or e["EventTime"] <= et)]
        for a in attrs:
            k, v = a["AttributeKey"], a["AttributeValue"]
            if k not in ATTRS:
                raise AwsError("InvalidLookupAttributesException", "Invalid attribute key: %s" % k)
            if k == "ResourceType":
                evs = [e for e in evs if any(r.get("ResourceType") == v for r in e.get("Resources") or [])]
            elif k == "ResourceName":
                evs = [e for e in evs if any(r.get("ResourceName") == v for r in e.get("Resources") or [])]
            else:
                evs = [e for e in evs if str(e.get(k)) == v]
        qhash = hashlib.sha256(json.dumps([attrs, st, et], default=str).encode()).hexdigest()[:16]
        start = 0
        if p.get("NextToken"):
            try:
                h, off = base64.b64decode(p["NextToken"]).decode().split(":")
                start = int(off)
                if h != qhash:
                    raise ValueError
            except (ValueError, UnicodeDecodeError):
                raise AwsError("InvalidNextTokenException", "Invalid NextToken")
        page = evs[start:start + n]
        out = {"Events": [{k: v for k, v in e.items() if not k.startswith("_")} for e in page]}
        if start + n < len(evs):
            out["NextToken"] = base64.b64encode(("%s:%d" % (qhash, start + n)).encode()).decode()
        return out
