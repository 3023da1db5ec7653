"""EventBridge (issue 24): PutEvents onto event buses, kept in the state.

Limits as EventBridge documents them (PutEvents, "Calculating PutEvents event
entry size"): at most 10 entries; the request's entries together at most
256 KB, counted as the UTF-8 bytes of Source, DetailType, Detail, each
Resources string and 14 bytes for a Time: over it the whole call fails
(ValidationException). An entry without Source, DetailType or Detail, or
whose Detail is not a JSON object, fails alone (FailedEntryCount,
ErrorCode InvalidArgument / MalformedDetail) as AWS answers them."""
import json

from protocols import AwsError
from . import Base, uid

ENTRY_LIMIT = 262144


def entry_size(e):
    n = 14 if e.get("Time") is not None else 0
    for k in ("Source", "DetailType", "Detail"):
        if e.get(k) is not None:
            n += len(e[k].encode("utf-8"))
    for r in e.get("Resources") or []:
        n += len(r.encode("utf-8"))
    return n


class Service(Base):
    def reset(self):
        self.buses = {}   # (account, region, name) -> {}
        self.put = []     # accepted entries, in order

    def seed(self, section, merge):
        for b in section.get("buses", []):
            b = dict(b) if isinstance(b, dict) else {"Name": b}
            acct, region = self.owner(b)
            self.buses[(acct, region, b["Name"])] = {"Name": b["Name"]}

    def dump(self):
        return {"buses": [{"Name": k[2], "account": k[0], "region": k[1]} for k in self.buses],
                "put": self.put}

    def _bus(self, ctx, name):
        if not name or name == "default":
            return "default"
        if name.startswith("arn:"):
            parts = name.split(":")
            if len(parts) < 6 or not parts[5].startswith("event-bus/"):
                raise AwsError("ValidationException", "Invalid event bus ARN")
            acct, region, bus = parts[4], parts[3], parts[5][len("event-bus/"):]
            if (acct, region) != (ctx.account, ctx.region):
                raise AwsError("AccessDeniedException", "cross-account PutEvents is not emulated")
            name = bus
        if name != "default" and (ctx.account, ctx.region, name) not in self.buses:
            raise AwsError("ResourceNotFoundException", "Event bus %s does not exist." % name)
        return name

    def op_PutEvents(self, ctx, p):
        entries = p["Entries"]
        if len(entries) > 10:
            raise AwsError("ValidationException", "1 validation error detected: Value at 'entries' failed "
                           "to satisfy constraint: Member must have length less than or equal to 10")
        if sum(entry_size(e) for e in entries) > ENTRY_LIMIT:
            raise AwsError("ValidationException", "Total size of the entries in the request is over the limit.")
        out, failed = [], 0
        for e in entries:
            bus = self._bus(ctx, e.get("EventBusName"))
            if not e.get("Source") or not e.get("DetailType") or e.get("Detail") is None:
                failed += 1
                out.append({"ErrorCode": "InvalidArgument",
                            "ErrorMessage": "Parameters Source, DetailType and Detail are required."})
                continue
            try:
                detail = json.loads(e["Detail"])
                if not isinstance(detail, dict):
                    raise ValueError("not an object")
            except ValueError:
                failed += 1
                out.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                continue
            eid = uid()
            self.put.append({"EventId": eid, "bus": bus, "Source": e["Source"], "DetailType": e["DetailType"],
                             "Detail": detail, "Resources": e.get("Resources") or [],
                             "account": ctx.account, "region": ctx.region, "by": ctx.caller_arn,
                             "size": entry_size(e)})
            out.append({"EventId": eid})
        return {"FailedEntryCount": failed, "Entries": out}
