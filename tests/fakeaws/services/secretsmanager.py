"""Secrets Manager: secrets, versions, staging labels, rotation."""
import copy
import json
import secrets as _rnd
import string

from protocols import AwsError
from . import Base, rand_id, uid

ALNUM = string.ascii_letters + string.digits


def _random_like(old):
    """A new value with the same JSON keys (each string replaced)."""
    try:
        d = json.loads(old)
    except (ValueError, TypeError):
        d = None
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            if isinstance(v, str):
                out[k] = "".join(_rnd.choice(ALNUM) for _ in range(max(16, len(v))))
            else:
                out[k] = v
        return json.dumps(out)
    return "".join(_rnd.choice(ALNUM) for _ in range(max(32, len(old or ""))))


class Service(Base):
    def reset(self):
        self.secrets = {}  # arn -> record

    def seed(self, section, merge):
        for s in section.get("secrets", []):
            s = copy.deepcopy(s)
            acct, region = self.owner(s)
            self.add(acct, region, s)

    def add(self, acct, region, s):
        name = s.pop("Name")
        arn = s.pop("ARN", None) or f"arn:aws:secretsmanager:{region}:{acct}:secret:{name}-{rand_id(6, ALNUM)}"
        now = self.world_now()
        rec = {"ARN": arn, "Name": name, "Description": s.pop("Description", None),
               "KmsKeyId": s.pop("KmsKeyId", None),
               "RotationEnabled": bool(s.pop("RotationEnabled", False)),
               "RotationLambdaARN": s.pop("RotationLambdaARN", None),
               "RotationRules": s.pop("RotationRules", None),
               "LastRotatedDate": s.pop("LastRotatedDate", None),
               "LastChangedDate": now, "CreatedDate": s.pop("CreatedDate", now),
               "Tags": s.pop("Tags", []), "versions": {}, "rotation": None,
               "RotationFails": bool(s.pop("RotationFails", False)),
               "account": acct, "region": region}
        if rec["RotationEnabled"] and not rec["RotationLambdaARN"]:
            rec["RotationLambdaARN"] = f"arn:aws:lambda:{region}:{acct}:function:rotate-{name}"
        versions = s.pop("versions", None)
        if versions is None and ("SecretString" in s or "SecretBinary" in s):
            versions = [{"VersionId": s.pop("VersionId", None), "SecretString": s.pop("SecretString", None),
                         "SecretBinary": s.pop("SecretBinary", None), "VersionStages": ["AWSCURRENT"]}]
        for v in versions or []:
            vid = v.get("VersionId") or uid()
            rec["versions"][vid] = {"SecretString": v.get("SecretString"), "SecretBinary": v.get("SecretBinary"),
                                    "VersionStages": list(v.get("VersionStages", [])),
                                    "CreatedDate": v.get("CreatedDate", now)}
        self.secrets[arn] = rec
        return rec

    def world_now(self):
        import time
        return time.time()

    def dump(self):
        self.settle()
        out = []
        for r in self.secrets.values():
            d = {k: v for k, v in r.items() if k != "versions"}
            d["versions"] = [dict(v, VersionId=k) for k, v in r["versions"].items()]
            out.append(d)
        return {"secrets": out}

    # ---- rotation completes lazily: any access after the due time finishes it
    def settle(self):
        import time
        t = time.time()
        for r in self.secrets.values():
            rot = r["rotation"]
            if rot and rot["due"] <= t and not r["RotationFails"]:
                self._finish(r, rot["version"], rot["due"])

    def _finish(self, r, vid, when):
        for v in r["versions"].values():
            if "AWSPREVIOUS" in v["VersionStages"]:
                v["VersionStages"].remove("AWSPREVIOUS")
        for v in r["versions"].values():
            if "AWSCURRENT" in v["VersionStages"]:
                v["VersionStages"].remove("AWSCURRENT")
                v["VersionStages"].append("AWSPREVIOUS")
        nv = r["versions"][vid]
        nv["VersionStages"] = [s for s in nv["VersionStages"] if s != "AWSPENDING"] + ["AWSCURRENT"]
        r["rotation"] = None
        r["LastRotatedDate"] = when
        r["LastChangedDate"] = when
        # versions with no label are deprecated (AWS keeps ~100; drop them here)
        r["versions"] = {k: v for k, v in r["versions"].items() if v["VersionStages"]}

    def find(self, ctx, sid):
        self.settle()
        if sid.startswith("arn:"):
            r = self.secrets.get(sid)
            if r is None:  # partial ARN (no random suffix)
                for a, x in self.secrets.items():
                    if a.rsplit("-", 1)[0] == sid:
                        r = x
        else:
            r = None
            for x in self.secrets.values():
                if x["Name"] == sid and (x["account"], x["region"]) == (ctx.account, ctx.region):
                    r = x
        if r is None or r.get("DeletedDate"):
            raise AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
        return r

    def _version(self, r, vid=None, stage=None):
        if vid:
            v = r["versions"].get(vid)
            if v is None or (stage and stage not in v["VersionStages"]):
                raise AwsError("ResourceNotFoundException",
                               "Secrets Manager can't find the specified secret value for VersionId: %s" % vid)
            return vid, v
        stage = stage or "AWSCURRENT"
        for k, v in r["versions"].items():
            if stage in v["VersionStages"]:
                return k, v
        raise AwsError("ResourceNotFoundException",
                       "Secrets Manager can't find the specified secret value for staging label: %s" % stage)

    def _describe(self, r):
        return {"ARN": r["ARN"], "Name": r["Name"], "Description": r["Description"],
                "KmsKeyId": r["KmsKeyId"], "RotationEnabled": r["RotationEnabled"],
                "RotationLambdaARN": r["RotationLambdaARN"], "RotationRules": r["RotationRules"],
                "LastRotatedDate": r["LastRotatedDate"], "LastChangedDate": r["LastChangedDate"],
                "CreatedDate": r["CreatedDate"], "Tags": r["Tags"] or None,
                "VersionIdsToStages": {k: v["VersionStages"] for k, v in r["versions"].items()},
                "PrimaryRegion": r["region"]}

    # ---- operations
    def op_GetSecretValue(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        vid, v = self._version(r, p.get("VersionId"), p.get("VersionStage"))
        return {"ARN": r["ARN"], "Name": r["Name"], "VersionId": vid, "SecretString": v["SecretString"],
                "SecretBinary": v["SecretBinary"], "VersionStages": v["VersionStages"],
                "CreatedDate": v["CreatedDate"]}

    def op_DescribeSecret(self, ctx, p):
        return self._describe(self.find(ctx, p["SecretId"]))

    def op_ListSecrets(self, ctx, p):
        self.settle()
        rs = [r for r in self.secrets.values()
              if (r["account"], r["region"]) == (ctx.account, ctx.region) and not r.get("DeletedDate")]
        for f in p.get("Filters", []):
            key, vals = f.get("Key"), f.get("Values", [])
            rs = [r for r in rs if self._filter(r, key, vals)]
        rs.sort(key=lambda r: r["Name"])
        start = int(p["NextToken"]) if p.get("NextToken", "").isdigit() else 0
        n = p.get("MaxResults", 100)
        page = rs[start:start + n]
        out = {"SecretList": [dict(self._describe(r), SecretVersionsToStages=self._describe(r)["VersionIdsToStages"])
                              for r in page]}
        if start + n < len(rs):
            out["NextToken"] = str(start + n)
        return out

    def _filter(self, r, key, vals):
        def match(field_vals):
            for v in vals:
                neg = v.startswith("!")
                v2 = v[1:] if neg else v
                hit = any(fv is not None and fv.startswith(v2) for fv in field_vals)
                if hit != neg:
                    return True
            return False
        if key == "name":
            return match([r["Name"]])
        if key == "description":
            return match([r["Description"] or ""])
        if key == "tag-key":
            return match([t["Key"] for t in r["Tags"]])
        if key == "tag-value":
            return match([t["Value"] for t in r["Tags"]])
        if key == "primary-region":
            return match([r["region"]])
        if key == "all":
            return match([r["Name"], r["Description"] or ""] + [t["Key"] for t in r["Tags"]]
                         + [t["Value"] for t in r["Tags"]])
        raise AwsError("InvalidParameterException", "Invalid filter key: %s" % key)

    def op_RotateSecret(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        if r["rotation"] is not None:
            raise AwsError("InvalidRequestException",
                           "A previous rotation isn't complete. That rotation will be reattempted.")
        if p.get("RotationLambdaARN"):
            r["RotationLambdaARN"] = p["RotationLambdaARN"]
        if p.get("RotationRules"):
            r["RotationRules"] = p["RotationRules"]
        if not r["RotationLambdaARN"] and not r.get("ManagedRotation"):
            raise AwsError("InvalidRequestException",
                           "No Lambda rotation function ARN is associated with this secret.")
        r["RotationEnabled"] = True
        vid = p.get("ClientRequestToken") or uid()
        if vid in r["versions"]:
            raise AwsError("ResourceExistsException", "A resource with the ID you requested already exists.")
        if p.get("RotateImmediately", True) is False:
            return {"ARN": r["ARN"], "Name": r["Name"]}
        _, cur = self._version(r)
        r["versions"][vid] = {"SecretString": _random_like(cur["SecretString"]) if cur["SecretString"] is not None else None,
                              "SecretBinary": None if cur["SecretString"] is not None else _rnd.token_bytes(32),
                              "VersionStages": ["AWSPENDING"], "CreatedDate": ctx.now}
        r["rotation"] = {"version": vid, "due": ctx.now + self.world.rotation_delay_ms / 1000.0}
        if self.world.rotation_delay_ms <= 0 and not r["RotationFails"]:
            self._finish(r, vid, ctx.now)
        return {"ARN": r["ARN"], "Name": r["Name"], "VersionId": vid}

    def op_CancelRotateSecret(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        rot = r["rotation"]
        if rot:
            v = r["versions"].get(rot["version"])
            if v is not None:
                v["VersionStages"] = [s for s in v["VersionStages"] if s != "AWSPENDING"]
        r["rotation"] = None
        r["RotationEnabled"] = False
        return {"ARN": r["ARN"], "Name": r["Name"], "VersionId": rot and rot["version"]}

    def op_PutSecretValue(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        vid = p.get("ClientRequestToken") or uid()
        stages = p.get("VersionStages") or ["AWSCURRENT"]
        if "AWSCURRENT" in stages:
            for v in r["versions"].values():
                if "AWSPREVIOUS" in v["VersionStages"]:
                    v["VersionStages"].remove("AWSPREVIOUS")
                if "AWSCURRENT" in v["VersionStages"]:
                    v["VersionStages"].remove("AWSCURRENT")
                    v["VersionStages"].append("AWSPREVIOUS")
        for s in stages:
            for v in r["versions"].values():
                if s in v["VersionStages"]:
                    v["VersionStages"].remove(s)
        r["versions"][vid] = {"SecretString": p.get("SecretString"), "SecretBinary": p.get("SecretBinary"),
                              "VersionStages": list(stages), "CreatedDate": ctx.now}
        r["LastChangedDate"] = ctx.now
        return {"ARN": r["ARN"], "Name": r["Name"], "VersionId": vid, "VersionStages": stages}

    def op_CreateSecret(self, ctx, p):
        for x in self.secrets.values():
            if x["Name"] == p["Name"] and (x["account"], x["region"]) == (ctx.account, ctx.region):
                raise AwsError("ResourceExistsException", "The operation failed because the secret %s already exists."
                               % p["Name"])
        s = {"Name": p["Name"], "Description": p.get("Description"), "KmsKeyId": p.get("KmsKeyId"),
             "Tags": p.get("Tags", [])}
        if "SecretString" in p or "SecretBinary" in p:
            s["versions"] = [{"VersionId": p.get("ClientRequestToken"), "SecretString": p.get("SecretString"),
                              "SecretBinary": p.get("SecretBinary"), "VersionStages": ["AWSCURRENT"]}]
        r = self.add(ctx.account, ctx.region, s)
        return {"ARN": r["ARN"], "Name": r["Name"], "VersionId": next(iter(r["versions"]), None)}

    def op_TagResource(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        for t in p["Tags"]:
            r["Tags"] = [x for x in r["Tags"] if x["Key"] != t["Key"]] + [t]
        return {}

    def op_UntagResource(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        r["Tags"] = [x for x in r["Tags"] if x["Key"] not in p["TagKeys"]]
        return {}

    def op_ListSecretVersionIds(self, ctx, p):
        r = self.find(ctx, p["SecretId"])
        return {"ARN": r["ARN"], "Name": r["Name"],
                "Versions": [{"VersionId": k, "VersionStages": v["VersionStages"], "CreatedDate": v["CreatedDate"]}
                             for k, v in r["versions"].items()]}
