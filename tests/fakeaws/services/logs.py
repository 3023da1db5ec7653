"""CloudWatch Logs: groups, streams, events; GetLogEvents / FilterLogEvents
paging as AWS does it (GetLogEvents returns the same forward token at the end)."""
import base64
import copy
import json
import re

from protocols import AwsError
from . import Base, logs_insights, uid


def _tok(kind, n):
    return "%s/%056d/s" % (kind, n)


def _untok(t):
    m = re.fullmatch(r"([fb])/(\d+)(/s)?", t or "")
    if not m:
        raise AwsError("InvalidParameterException", "The specified nextToken is invalid.")
    return m.group(1), int(m.group(2))


def _match(pattern, msg):
    """Minimal filter pattern: quoted phrases and bare terms must all occur."""
    if not pattern:
        return True
    terms = re.findall(r'"([^"]*)"|(\S+)', pattern)
    for q, w in terms:
        t = q or w
        if t.startswith("-"):
            if t[1:] in msg:
                return False
        elif t.startswith("?"):
            continue
        elif t not in msg:
            return False
    ors = [w[1:] for q, w in terms if w.startswith("?")]
    return not ors or any(o in msg for o in ors)


class Service(Base):
    def reset(self):
        self.groups = {}  # (account, region, name) -> {"arn", "creationTime", "streams": {name: [events]}}
        self.queries = {}  # queryId -> Insights query state (StartQuery)
        # Insights timing (seed {"logs": {"insights": {...}}}): how many
        # GetQueryResults answer Running before the final status (-1:
        # never finishes), and that status (Complete, Failed, Timeout, Cancelled)
        self.insights = {"running_polls": 0, "final": "Complete"}

    def seed(self, section, merge):
        if "insights" in section:
            self.insights = dict({"running_polls": 0, "final": "Complete"}, **section["insights"])
        for g in section.get("groups", []):
            g = copy.deepcopy(g)
            acct, region = self.owner(g)
            grp = self._group_rec(acct, region, g["name"])
            for s in g.get("streams", []):
                evs = grp["streams"].setdefault(s["name"], [])
                for e in s.get("events", []):
                    evs.append({"timestamp": int(e["timestamp"]), "message": e["message"],
                                "ingestionTime": int(e.get("ingestionTime", e["timestamp"])),
                                "eventId": e.get("eventId") or uid().replace("-", "")})
                evs.sort(key=lambda e: e["timestamp"])

    def _group_rec(self, acct, region, name):
        k = (acct, region, name)
        if k not in self.groups:
            self.groups[k] = {"arn": "arn:aws:logs:%s:%s:log-group:%s:*" % (region, acct, name),
                              "creationTime": 1700000000000, "streams": {}}
        return self.groups[k]

    def dump(self):
        return {"groups": [{"name": n, "account": a, "region": r, "streams": [{"name": s, "events": e}
                            for s, e in g["streams"].items()]} for (a, r, n), g in self.groups.items()]}

    def group(self, ctx, p):
        name = p.get("logGroupName") or p.get("logGroupIdentifier")
        if not name:
            raise AwsError("InvalidParameterException", "Either logGroupName or logGroupIdentifier must be provided.")
        acct, region = ctx.account, ctx.region
        if name.startswith("arn:"):
            parts = name.split(":")
            region, acct, name = parts[3], parts[4], parts[6]
        g = self.groups.get((acct, region, name))
        if g is None:
            raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
        return name, g

    def op_DescribeLogGroups(self, ctx, p):
        pre = p.get("logGroupNamePrefix", "")
        return {"logGroups": [{"logGroupName": n, "arn": g["arn"], "creationTime": g["creationTime"],
                               "storedBytes": 0} for (a, r, n), g in sorted(self.groups.items())
                              if (a, r) == (ctx.account, ctx.region) and n.startswith(pre)]}

    def op_DescribeLogStreams(self, ctx, p):
        _, g = self.group(ctx, p)
        pre = p.get("logStreamNamePrefix", "")
        out = []
        for s, evs in sorted(g["streams"].items()):
            if s.startswith(pre):
                d = {"logStreamName": s, "creationTime": g["creationTime"], "storedBytes": 0,
                     "arn": g["arn"][:-2] + ":log-stream:" + s}
                if evs:
                    d.update(firstEventTimestamp=evs[0]["timestamp"], lastEventTimestamp=evs[-1]["timestamp"],
                             lastIngestionTime=evs[-1]["ingestionTime"])
                out.append(d)
        return {"logStreams": out}

    def op_CreateLogGroup(self, ctx, p):
        if (ctx.account, ctx.region, p["logGroupName"]) in self.groups:
            raise AwsError("ResourceAlreadyExistsException", "The specified log group already exists")
        self._group_rec(ctx.account, ctx.region, p["logGroupName"])
        return {}

    def op_CreateLogStream(self, ctx, p):
        _, g = self.group(ctx, p)
        if p["logStreamName"] in g["streams"]:
            raise AwsError("ResourceAlreadyExistsException", "The specified log stream already exists")
        g["streams"][p["logStreamName"]] = []
        return {}

    def op_PutLogEvents(self, ctx, p):
        _, g = self.group(ctx, p)
        evs = g["streams"].get(p["logStreamName"])
        if evs is None:
            raise AwsError("ResourceNotFoundException", "The specified log stream does not exist.")
        for e in p["logEvents"]:
            evs.append({"timestamp": e["timestamp"], "message": e["message"], "ingestionTime": int(ctx.now * 1000),
                        "eventId": uid().replace("-", "")})
        evs.sort(key=lambda e: e["timestamp"])
        return {"nextSequenceToken": "1"}

    def op_GetLogEvents(self, ctx, p):
        _, g = self.group(ctx, p)
        evs = g["streams"].get(p["logStreamName"])
        if evs is None:
            raise AwsError("ResourceNotFoundException", "The specified log stream does not exist.")
        st, et = p.get("startTime"), p.get("endTime")
        lst = [e for e in evs if (st is None or e["timestamp"] >= st) and (et is None or e["timestamp"] < et)]
        limit = p.get("limit", 10000)
        if p.get("nextToken"):
            kind, n = _untok(p["nextToken"])
            n = min(n, len(lst))
        elif p.get("startFromHead"):
            kind, n = "f", 0
        else:
            kind, n = "b", len(lst)
        if kind == "f":
            page = lst[n:n + limit]
            size = 0
            for i, e in enumerate(page):  # the 1 MB response cap
                size += len(e["message"].encode()) + 26
                if size > 1048576:
                    page = page[:i]
                    break
            fwd, back = n + len(page), n
        else:
            page = lst[max(0, n - limit):n]
            fwd, back = n, n - len(page)
        return {"events": [{"timestamp": e["timestamp"], "message": e["message"], "ingestionTime": e["ingestionTime"]}
                           for e in page], "nextForwardToken": _tok("f", fwd), "nextBackwardToken": _tok("b", back)}

    def op_FilterLogEvents(self, ctx, p):
        name, g = self.group(ctx, p)
        streams = p.get("logStreamNames")
        if streams:
            for s in streams:
                if s not in g["streams"]:
                    raise AwsError("ResourceNotFoundException", "The specified log stream does not exist.")
        else:
            streams = [s for s in g["streams"] if s.startswith(p.get("logStreamNamePrefix", ""))]
        st, et = p.get("startTime"), p.get("endTime")
        allev = []
        for s in streams:
            for e in g["streams"][s]:
                if (st is None or e["timestamp"] >= st) and (et is None or e["timestamp"] <= et) \
                        and _match(p.get("filterPattern"), e["message"]):
                    allev.append(dict(e, logStreamName=s))
        allev.sort(key=lambda e: (e["timestamp"], e["logStreamName"]))
        start = 0
        if p.get("nextToken"):
            try:
                d = json.loads(base64.b64decode(p["nextToken"]))
                start = int(d["o"])
            except (ValueError, KeyError, TypeError):
                raise AwsError("InvalidParameterException", "The specified nextToken is invalid.")
        limit = p.get("limit", 10000)
        page = allev[start:start + limit]
        out = {"events": page, "searchedLogStreams": [{"logStreamName": s, "searchedCompletely": True}
                                                     for s in streams]}
        if start + limit < len(allev):
            out["nextToken"] = base64.b64encode(json.dumps({"o": start + limit, "g": name}).encode()).decode()
        return out

    # ---- CloudWatch Logs Insights (issue 21): logs_insights.py runs the query

    def op_StartQuery(self, ctx, p):
        names = list(p.get("logGroupNames") or []) + list(p.get("logGroupIdentifiers") or [])
        if p.get("logGroupName"):
            names.insert(0, p["logGroupName"])
        if not names:
            raise AwsError("InvalidParameterException", "Either logGroupName, logGroupNames or "
                           "logGroupIdentifiers must be provided.")
        if p["endTime"] < p["startTime"]:
            raise AwsError("InvalidParameterException", "endTime must be greater than or equal to startTime")
        limit = p.get("limit", 1000)
        if not 1 <= limit <= 10000:
            raise AwsError("InvalidParameterException", "limit must be between 1 and 10000")
        cmds = logs_insights.parse(p["queryString"])
        events = []
        lo, hi = p["startTime"] * 1000, (p["endTime"] + 1) * 1000
        for n in names:
            _, g = self.group(ctx, {"logGroupIdentifier": n})
            for s, evs in g["streams"].items():
                events += [(s, e) for e in evs if lo <= e["timestamp"] < hi]
        rows, matched, scanned = logs_insights.run(cmds, events, limit)
        qid = uid()
        self.queries[qid] = {"account": ctx.account, "rows": rows, "matched": matched, "scanned": scanned,
                             "polls": int(self.insights.get("running_polls", 0)),
                             "final": self.insights.get("final", "Complete"), "status": "Running",
                             "query": p["queryString"]}
        return {"queryId": qid}

    def _query(self, ctx, p):
        q = self.queries.get(p["queryId"])
        if q is None or q["account"] != ctx.account:
            raise AwsError("ResourceNotFoundException", "Query does not exist.")
        return q

    def op_GetQueryResults(self, ctx, p):
        q = self._query(ctx, p)
        if q["status"] == "Running":
            if q["polls"] == 0:
                q["status"] = q["final"]
            elif q["polls"] > 0:
                q["polls"] -= 1
        done = q["status"] == "Complete"
        # partial results while running or cut (Timeout, Cancelled): AWS
        # returns what it has; a fixed half here makes that visible
        rows = q["rows"] if done else q["rows"][:len(q["rows"]) // 2]
        return {"results": rows, "status": q["status"],
                "statistics": {"recordsMatched": float(q["matched"] if done else len(rows)),
                               "recordsScanned": float(q["scanned"]), "bytesScanned": 0.0}}

    def op_StopQuery(self, ctx, p):
        q = self._query(ctx, p)
        if q["status"] != "Running":
            # the model: "If the query has already ended, the operation
            # returns an error indicating that the specified query is not running"
            raise AwsError("InvalidParameterException", "Query %s is not running." % p["queryId"])
        q["status"] = "Cancelled"
        return {"success": True}
