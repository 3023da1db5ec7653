"""Auto Scaling: groups and their instances (issue 20: DetachInstances)."""
import copy

from protocols import AwsError
from . import Base


class Service(Base):
    def reset(self):
        self.groups = {}     # (account, region, name) -> group

    def seed(self, section, merge):
        for g in section.get("groups", section.get("AutoScalingGroups", [])):
            g = copy.deepcopy(g)
            acct, region = self.owner(g)
            g.setdefault("MinSize", 0)
            g.setdefault("MaxSize", 10)
            g.setdefault("DesiredCapacity", len(g.get("Instances", [])))
            g.setdefault("AvailabilityZones", [region + "a"])
            g.setdefault("HealthCheckType", "EC2")
            g.setdefault("DefaultCooldown", 300)
            g.setdefault("CreatedTime", 1600000000)
            g.setdefault("LaunchConfigurationName", "lc")
            g["AutoScalingGroupARN"] = "arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s" % (
                region, acct, "00000000-0000-0000-0000-000000000000", g["AutoScalingGroupName"])
            for i in g.get("Instances", []):
                i.setdefault("LifecycleState", "InService")
                i.setdefault("HealthStatus", "Healthy")
                i.setdefault("AvailabilityZone", region + "a")
                i.setdefault("ProtectedFromScaleIn", False)
            self.groups[(acct, region, g["AutoScalingGroupName"])] = g

    def dump(self):
        return {"groups": [dict(g, account=a, region=r) for (a, r, _), g in self.groups.items()]}

    def _group(self, ctx, name):
        g = self.groups.get((ctx.account, ctx.region, name))
        if g is None:
            raise AwsError("ValidationError", "AutoScalingGroup name not found - %s" % name)
        return g

    def op_DescribeAutoScalingGroups(self, ctx, p):
        names = p.get("AutoScalingGroupNames")
        out = [g for (a, r, n), g in self.groups.items()
               if (a, r) == (ctx.account, ctx.region) and (not names or n in names)]
        return {"AutoScalingGroups": out}

    def op_DescribeAutoScalingInstances(self, ctx, p):
        ids = p.get("InstanceIds")
        out = []
        for (a, r, n), g in self.groups.items():
            if (a, r) != (ctx.account, ctx.region):
                continue
            for i in g.get("Instances", []):
                if not ids or i["InstanceId"] in ids:
                    out.append(dict(i, AutoScalingGroupName=n))
        return {"AutoScalingInstances": out}

    def op_DetachInstances(self, ctx, p):
        g = self._group(ctx, p["AutoScalingGroupName"])
        ids = p.get("InstanceIds") or []
        have = {i["InstanceId"] for i in g.get("Instances", [])}
        for iid in ids:
            if iid not in have:
                raise AwsError("ValidationError", "The instance %s is not part of Auto Scaling group %s."
                               % (iid, p["AutoScalingGroupName"]))
        if p["ShouldDecrementDesiredCapacity"]:
            if g["DesiredCapacity"] - len(ids) < g["MinSize"]:
                raise AwsError("ValidationError", "Desired capacity would go below the minimum size")
            g["DesiredCapacity"] -= len(ids)
        g["Instances"] = [i for i in g["Instances"] if i["InstanceId"] not in ids]
        g.setdefault("detached", []).extend(ids)
        return {"Activities": [{"ActivityId": "act-" + iid, "AutoScalingGroupName": p["AutoScalingGroupName"],
                                "Cause": "An instance was detached", "StartTime": 1600000000,
                                "StatusCode": "InProgress", "Description": "Detaching EC2 instance: " + iid}
                               for iid in ids]}

    def op_AttachInstances(self, ctx, p):
        g = self._group(ctx, p["AutoScalingGroupName"])
        for iid in p.get("InstanceIds") or []:
            g["Instances"].append({"InstanceId": iid, "LifecycleState": "InService", "HealthStatus": "Healthy",
                                   "AvailabilityZone": ctx.region + "a", "ProtectedFromScaleIn": False})
            g["DesiredCapacity"] += 1
        return None
