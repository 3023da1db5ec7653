"""ECS: clusters, services with deployments, tasks, task definitions."""
import copy
import random

from protocols import AwsError
from . import Base, rand_id, uid


class Service(Base):
    def reset(self):
        self.clusters = {}  # arn -> cluster
        self.services = {}  # arn -> service
        self.tasks = {}     # arn -> task
        self.taskdefs = {}  # arn -> task definition
        self.instances = {}  # arn -> container instance (EC2 launch type hosts)

    def seed(self, section, merge):
        for c in section.get("clusters", []):
            c = copy.deepcopy(c) if isinstance(c, dict) else {"clusterName": c}
            acct, region = self.owner(c)
            name = c.get("clusterName") or c["clusterArn"].split("/")[-1]
            c.setdefault("clusterArn", f"arn:aws:ecs:{region}:{acct}:cluster/{name}")
            c.update(clusterName=name, status=c.get("status", "ACTIVE"))
            c["_account"], c["_region"] = acct, region
            self.clusters[c["clusterArn"]] = c
        for td in section.get("task_definitions", section.get("taskDefinitions", [])):
            td = copy.deepcopy(td)
            acct, region = self.owner(td)
            rev = td.setdefault("revision", 1)
            td.setdefault("taskDefinitionArn", f"arn:aws:ecs:{region}:{acct}:task-definition/{td['family']}:{rev}")
            td.setdefault("status", "ACTIVE")
            td.setdefault("containerDefinitions", [])
            td.setdefault("networkMode", "awsvpc")
            td["_account"], td["_region"] = acct, region
            self.taskdefs[td["taskDefinitionArn"]] = td
        for s in section.get("services", []):
            s = copy.deepcopy(s)
            acct, region = self.owner(s)
            cl = self._cluster_arn(acct, region, s.pop("cluster", s.get("clusterArn", "default")))
            name = s["serviceName"]
            s.setdefault("serviceArn", f"arn:aws:ecs:{region}:{acct}:service/{cl.split('/')[-1]}/{name}")
            s.update(clusterArn=cl, status=s.get("status", "ACTIVE"))
            s.setdefault("desiredCount", 1)
            s.setdefault("runningCount", s["desiredCount"])
            s.setdefault("pendingCount", 0)
            s.setdefault("launchType", "FARGATE")
            s.setdefault("createdAt", 1700000000)
            if not s.get("deployments"):
                s["deployments"] = [self._deployment(s, 1700000000)]
            s["_account"], s["_region"] = acct, region
            # issue 23: "settle_after_s": N makes a forced deployment finish N
            # seconds after UpdateService (read lazily by DescribeServices);
            # absent, deployments stay IN_PROGRESS as before
            s["_settle"] = s.pop("settle_after_s", None)
            self.services[s["serviceArn"]] = s
        for t in section.get("tasks", []):
            t = copy.deepcopy(t)
            acct, region = self.owner(t)
            cl = self._cluster_arn(acct, region, t.pop("cluster", t.get("clusterArn", "default")))
            tid = t.pop("taskId", None) or (t["taskArn"].split("/")[-1] if "taskArn" in t else uid().replace("-", ""))
            t.setdefault("taskArn", f"arn:aws:ecs:{region}:{acct}:task/{cl.split('/')[-1]}/{tid}")
            t["clusterArn"] = cl
            t.setdefault("lastStatus", "RUNNING")
            t.setdefault("desiredStatus", "RUNNING" if t["lastStatus"] != "STOPPED" else "STOPPED")
            t.setdefault("launchType", "FARGATE")
            t.setdefault("createdAt", 1700000000)
            t.setdefault("startedAt", 1700000001)
            t.setdefault("containers", [])
            for c in t["containers"]:
                c.setdefault("taskArn", t["taskArn"])
                c.setdefault("containerArn", f"arn:aws:ecs:{region}:{acct}:container/{cl.split('/')[-1]}/{tid}/{uid()}")
                c.setdefault("lastStatus", t["lastStatus"])
            t["_account"], t["_region"] = acct, region
            self.tasks[t["taskArn"]] = t
        for ci in section.get("container_instances", section.get("containerInstances", [])):
            ci = copy.deepcopy(ci)
            acct, region = self.owner(ci)
            cl = self._cluster_arn(acct, region, ci.pop("cluster", "default"))
            cid = ci.pop("id", None) or (ci["containerInstanceArn"].split("/")[-1] if "containerInstanceArn" in ci
                                         else uid().replace("-", ""))
            ci.setdefault("containerInstanceArn",
                          f"arn:aws:ecs:{region}:{acct}:container-instance/{cl.split('/')[-1]}/{cid}")
            ci.setdefault("status", "ACTIVE")
            ci.setdefault("agentConnected", True)
            ci.setdefault("runningTasksCount", 0)
            ci.setdefault("pendingTasksCount", 0)
            ci.setdefault("registeredAt", 1700000000)
            ci["_cluster"], ci["_account"], ci["_region"] = cl, acct, region
            self.instances[ci["containerInstanceArn"]] = ci

    def _cluster_arn(self, acct, region, name):
        if name.startswith("arn:"):
            arn = name
        else:
            arn = f"arn:aws:ecs:{region}:{acct}:cluster/{name}"
        if arn not in self.clusters:
            self.clusters[arn] = {"clusterArn": arn, "clusterName": arn.split("/")[-1], "status": "ACTIVE",
                                  "_account": acct, "_region": region}
        return arn

    def _deployment(self, s, when):
        return {"id": "ecs-svc/%019d" % random.randrange(10 ** 18, 10 ** 19), "status": "PRIMARY",
                "taskDefinition": s.get("taskDefinition"), "desiredCount": s["desiredCount"],
                "pendingCount": 0, "runningCount": s["desiredCount"], "createdAt": when, "updatedAt": when,
                "launchType": s.get("launchType"), "rolloutState": "COMPLETED"}

    def dump(self):
        strip = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}  # noqa: E731
        return {"clusters": [strip(c) for c in self.clusters.values()],
                "services": [strip(s) for s in self.services.values()],
                "tasks": [strip(t) for t in self.tasks.values()],
                "task_definitions": [strip(t) for t in self.taskdefs.values()],
                "container_instances": [dict(strip(c), cluster=c["_cluster"]) for c in self.instances.values()]}

    # ---- helpers
    def cluster(self, ctx, name):
        name = name or "default"
        arn = name if name.startswith("arn:") else ctx.arn("ecs", "cluster/" + name)
        c = self.clusters.get(arn)
        if c is None:
            raise AwsError("ClusterNotFoundException", "Cluster not found.")
        return c

    def _task(self, ctx, cl, ident):
        arn = ident if ident.startswith("arn:") else ctx.arn("ecs", "task/%s/%s" % (cl["clusterName"], ident))
        t = self.tasks.get(arn)
        if t is None and ident.startswith("arn:"):  # old ARN format without cluster
            for a, x in self.tasks.items():
                if a.split("/")[-1] == ident.split("/")[-1] and x["clusterArn"] == cl["clusterArn"]:
                    t = x
        return arn, t if t is not None and t["clusterArn"] == cl["clusterArn"] else None

    def _service(self, ctx, cl, ident):
        arn = ident if ident.startswith("arn:") else ctx.arn("ecs", "service/%s/%s" % (cl["clusterName"], ident))
        s = self.services.get(arn)
        return arn, s

    # ---- operations
    def op_ListClusters(self, ctx, p):
        return {"clusterArns": [a for a, c in self.clusters.items()
                                if (c["_account"], c["_region"]) == (ctx.account, ctx.region)]}

    def op_DescribeClusters(self, ctx, p):
        out, fails = [], []
        for n in p.get("clusters") or ["default"]:
            try:
                out.append(self.cluster(ctx, n))
            except AwsError:
                fails.append({"arn": n if n.startswith("arn:") else ctx.arn("ecs", "cluster/" + n), "reason": "MISSING"})
        return {"clusters": out, "failures": fails}

    def op_DescribeServices(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        out, fails = [], []
        for n in p["services"]:
            arn, s = self._service(ctx, cl, n)
            if s is None:
                fails.append({"arn": arn, "reason": "MISSING"})
            else:
                self._settle(s, ctx.now)
                out.append(s)
        return {"services": out, "failures": fails}

    @staticmethod
    def _settle(s, now):
        """The opt-in lazy rollout (seed settle_after_s): the PRIMARY
        deployment completes and the older ones drain."""
        if s.get("_settle") is None:
            return
        prim = [d for d in s["deployments"] if d["status"] == "PRIMARY"]
        if prim and prim[0]["rolloutState"] == "IN_PROGRESS" and now - prim[0]["createdAt"] >= s["_settle"]:
            prim[0].update(rolloutState="COMPLETED", runningCount=prim[0]["desiredCount"], updatedAt=now)
            s["deployments"] = [prim[0]]

    def op_ListServices(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        return {"serviceArns": [a for a, s in self.services.items() if s["clusterArn"] == cl["clusterArn"]]}

    def op_UpdateService(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        _, s = self._service(ctx, cl, p["service"])
        if s is None:
            raise AwsError("ServiceNotFoundException", "Service not found.")
        if s["status"] != "ACTIVE":
            raise AwsError("ServiceNotActiveException", "Service was not ACTIVE.")
        if "desiredCount" in p:
            s["desiredCount"] = p["desiredCount"]
        changed = False
        if p.get("taskDefinition") and p["taskDefinition"] != s.get("taskDefinition"):
            s["taskDefinition"] = p["taskDefinition"]
            changed = True
        if p.get("forceNewDeployment") or changed:
            for d in s["deployments"]:
                if d["status"] == "PRIMARY":
                    d["status"] = "ACTIVE"
                    d["updatedAt"] = ctx.now
            d = self._deployment(s, ctx.now)
            d["rolloutState"] = "IN_PROGRESS"
            d["runningCount"] = 0
            s["deployments"].insert(0, d)
            s.setdefault("events", []).insert(0, {"id": uid(), "createdAt": ctx.now,
                                                  "message": "(service %s) has started 1 tasks." % s["serviceName"]})
        return {"service": s}

    def op_ListTasks(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        want = p.get("desiredStatus", "RUNNING")
        out = []
        for a, t in self.tasks.items():
            if t["clusterArn"] != cl["clusterArn"] or t["desiredStatus"] != want:
                continue
            if p.get("serviceName") and t.get("group") != "service:" + p["serviceName"].split("/")[-1]:
                continue
            if p.get("family") and t.get("taskDefinitionArn", "").split("/")[-1].split(":")[0] != p["family"]:
                continue
            if p.get("containerInstance") and t.get("containerInstanceArn", "").split("/")[-1] != \
                    p["containerInstance"].split("/")[-1]:
                continue
            out.append(a)
        return {"taskArns": out}

    def op_DescribeTasks(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        out, fails = [], []
        for ident in p["tasks"]:
            arn, t = self._task(ctx, cl, ident)
            if t is None:
                fails.append({"arn": arn, "reason": "MISSING"})
            else:
                out.append(t)
        return {"tasks": out, "failures": fails}

    def op_DescribeContainerInstances(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        out, fails = [], []
        for ident in p["containerInstances"]:
            arn = ident if ident.startswith("arn:") else \
                ctx.arn("ecs", "container-instance/%s/%s" % (cl["clusterName"], ident))
            ci = self.instances.get(arn)
            if ci is None or ci["_cluster"] != cl["clusterArn"]:
                fails.append({"arn": arn, "reason": "MISSING"})
            else:
                out.append({k: v for k, v in ci.items() if not k.startswith("_")})
        return {"containerInstances": out, "failures": fails}

    def op_StopTask(self, ctx, p):
        cl = self.cluster(ctx, p.get("cluster"))
        _, t = self._task(ctx, cl, p["task"])
        if t is None:
            raise AwsError("InvalidParameterException", "The referenced task was not found.")
        if t["lastStatus"] != "STOPPED":
            t["desiredStatus"] = "STOPPED"
            t["lastStatus"] = "STOPPED"
            t["stopCode"] = "UserInitiated"
            t["stoppedReason"] = p.get("reason", "Task stopped by user")
            t["stoppingAt"] = t["stoppedAt"] = t["executionStoppedAt"] = ctx.now
            for c in t.get("containers", []):
                c["lastStatus"] = "STOPPED"
                c.setdefault("exitCode", 137)
            for a in t.get("attachments", []):
                a["status"] = "DELETED"
        return {"task": t}

    def op_DescribeTaskDefinition(self, ctx, p):
        ident = p["taskDefinition"]
        td = self.taskdefs.get(ident)
        if td is None:
            fam, _, rev = ident.split("/")[-1].partition(":")
            cands = [x for x in self.taskdefs.values() if x["family"] == fam
                     and (x["_account"], x["_region"]) == (ctx.account, ctx.region)
                     and (not rev or str(x["revision"]) == rev) and (rev or x["status"] == "ACTIVE")]
            td = max(cands, key=lambda x: x["revision"]) if cands else None
        if td is None:
            raise AwsError("ClientException", "Unable to describe task definition.")
        return {"taskDefinition": td, "tags": td.get("tags", [])}
