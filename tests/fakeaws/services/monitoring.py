"""CloudWatch metrics (issue 22, data-breach): GetMetricStatistics.
Signed as "monitoring", model "cloudwatch" (core.MODEL_NAMES).

Seed: {"monitoring": {"metrics": [{"Namespace", "MetricName", "Dimensions":
[{"Name","Value"}], "points": [{"hours_ago": N, "Sum": x}], "account"?,
"region"?}]}}: points are placed relative to now (the start of the hour N
hours back), so a test seeds a spike "2 hours ago" without knowing the date.
A metric matches when Namespace, MetricName and the Dimensions set are equal
(CloudWatch's rule: a metric is its full dimension set). Datapoints within
[StartTime, EndTime) come back unordered, as CloudWatch's do; Period must be
a multiple of 60 (InvalidParameterValue otherwise).
"""
import copy
import datetime
import time

from protocols import AwsError
from . import Base


def _secs(v):
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, datetime.datetime):
        return v.timestamp()
    s = str(v)
    try:
        return float(s)
    except ValueError:
        pass
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class Service(Base):
    def reset(self):
        self.metrics = []

    def seed(self, section, merge):
        for m in section.get("metrics", []):
            m = copy.deepcopy(m)
            m["account"], m["region"] = self.owner(m)
            self.metrics.append(m)

    def dump(self):
        return {"metrics": copy.deepcopy(self.metrics)}

    def op_GetMetricStatistics(self, ctx, p):
        period = int(p["Period"])
        if period <= 0 or period % 60:
            raise AwsError("InvalidParameterValue", "The parameter Period must be a multiple of 60.")
        start, end = _secs(p["StartTime"]), _secs(p["EndTime"])
        dims = sorted((d["Name"], d["Value"]) for d in p.get("Dimensions", []))
        hour = int(time.time()) // 3600 * 3600
        out = []
        for m in self.metrics:
            if (m["account"], m["region"]) != (ctx.account, ctx.region):
                continue
            if m["Namespace"] != p["Namespace"] or m["MetricName"] != p["MetricName"]:
                continue
            if sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", [])) != dims:
                continue
            for pt in m.get("points", []):
                ts = hour - 3600 * int(pt["hours_ago"])
                if not (start <= ts < end):
                    continue
                d = {"Timestamp": ts, "Unit": "Count"}
                for st in p.get("Statistics", []):
                    if st in pt:
                        d[st] = float(pt[st])
                out.append(d)
        out.reverse()  # not in time order, as CloudWatch
        return {"Label": p["MetricName"], "Datapoints": out}
