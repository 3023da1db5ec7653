"""IAM: users, access keys, account summary; roles' inline policies (the
world's roles, seeded at the top level: {"arn": ..., "inline_policies":
{name: document}})."""
import copy
import json
import urllib.parse

from protocols import AwsError
from . import Base, rand_id

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

SUMMARY_DEFAULTS = {
    "Users": 0, "UsersQuota": 5000, "Groups": 0, "GroupsQuota": 300, "Roles": 0, "RolesQuota": 1000,
    "Policies": 0, "PoliciesQuota": 1500, "ServerCertificates": 0, "ServerCertificatesQuota": 20,
    "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2, "MFADevices": 0,
    "MFADevicesInUse": 0, "AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0,
    "AccountSigningCertificatesPresent": 0, "GroupsPerUserQuota": 10, "PolicySizeQuota": 6144,
    "PolicyVersionsInUse": 0, "PolicyVersionsInUseQuota": 10000, "VersionsPerPolicyQuota": 5,
    "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10, "GlobalEndpointTokenVersion": 1, "Providers": 0,
    "InstanceProfiles": 0, "InstanceProfilesQuota": 1000}


class Service(Base):
    def reset(self):
        self.users = {}     # (account, name) -> user
        self.summary = {}   # account -> overrides

    def seed(self, section, merge):
        for u in section.get("users", []):
            u = copy.deepcopy(u)
            acct = str(u.pop("account", self.world.default_account))
            self.add_user(acct, u)
        for acct, s in (section.get("account_summary") or {}).items():
            if isinstance(s, dict):
                self.summary.setdefault(str(acct), {}).update(s)
        # "account_summary": {"AccountMFAEnabled": 0} (no account key) -> default account
        s = section.get("account_summary") or {}
        flat = {k: v for k, v in s.items() if not isinstance(v, dict)}
        if flat:
            self.summary.setdefault(self.world.default_account, {}).update(flat)

    def add_user(self, acct, u):
        name = u["UserName"]
        user = {"UserName": name, "UserId": u.get("UserId", "AIDA" + rand_id(17, UPPER)),
                "Arn": u.get("Arn", "arn:aws:iam::%s:user/%s" % (acct, name)), "Path": "/",
                "CreateDate": u.get("CreateDate", 1600000000), "access_keys": []}
        for k in u.get("access_keys", u.get("AccessKeys", [])):
            user["access_keys"].append({"AccessKeyId": k["AccessKeyId"], "Status": k.get("Status", "Active"),
                                        "CreateDate": k.get("CreateDate", 1600000000),
                                        "SecretAccessKey": k.get("SecretAccessKey"),
                                        "last_used": k.get("last_used", k.get("LastUsed"))})
        self.users[(acct, name)] = user
        return user

    def dump(self):
        return {"users": [dict(u, account=a) for (a, _), u in self.users.items()],
                "account_summary": self.summary}

    def find_access_key(self, ak):
        for (acct, _), u in self.users.items():
            for k in u["access_keys"]:
                if k["AccessKeyId"] == ak:
                    return u, k, acct
        return None

    def _user(self, ctx, name):
        if name is None:
            name = ctx.caller_arn.rsplit("/", 1)[-1]
            if ":user/" not in ctx.caller_arn:
                raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
        u = self.users.get((ctx.account, name))
        if u is None:
            raise AwsError("NoSuchEntity", "The user with name %s cannot be found." % name, 404)
        return u

    def op_GetUser(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        return {"User": u}

    def op_ListUsers(self, ctx, p):
        return {"Users": [u for (a, _), u in self.users.items() if a == ctx.account], "IsTruncated": False}

    def op_ListAccessKeys(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        return {"AccessKeyMetadata": [{"UserName": u["UserName"], "AccessKeyId": k["AccessKeyId"],
                                       "Status": k["Status"], "CreateDate": k["CreateDate"]}
                                      for k in u["access_keys"]], "IsTruncated": False}

    def op_GetAccessKeyLastUsed(self, ctx, p):
        found = self.find_access_key(p["AccessKeyId"])
        if found is None or found[2] != ctx.account:
            raise AwsError("AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on "
                           "resource: access key %s" % (ctx.caller_arn, p["AccessKeyId"]), 403)
        u, k, _ = found
        lu = k.get("last_used") or {}
        return {"UserName": u["UserName"],
                "AccessKeyLastUsed": {"LastUsedDate": lu.get("LastUsedDate"),
                                      "ServiceName": lu.get("ServiceName", "N/A"),
                                      "Region": lu.get("Region", "N/A")}}

    def op_UpdateAccessKey(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        for k in u["access_keys"]:
            if k["AccessKeyId"] == p["AccessKeyId"]:
                k["Status"] = p["Status"]
                return {}
        raise AwsError("NoSuchEntity", "The Access Key with id %s cannot be found." % p["AccessKeyId"], 404)

    def op_GetAccountSummary(self, ctx, p):
        m = dict(SUMMARY_DEFAULTS)
        m["Users"] = sum(1 for (a, _) in self.users if a == ctx.account)
        m.update(self.summary.get(ctx.account, {}))
        return {"SummaryMap": m}

    # ---- roles (issue 17: session revocation, AWSRevokeOlderSessions) ----------
    # IAM answers policy documents URL-encoded (RFC 3986); botocore's
    # json_decode_policies handler unquotes and parses them for its callers.
    ROLE_POLICY_CHARS = 10240   # IAM quota: inline policies of a role, in total

    def _role(self, ctx, name):
        for arn, r in self.world.roles.items():
            parts = arn.split(":", 5)
            if len(parts) == 6 and parts[4] == ctx.account and parts[5].startswith("role/") \
                    and parts[5].rsplit("/", 1)[-1] == name:
                return arn, r
        raise AwsError("NoSuchEntity", "The role with name %s cannot be found." % name, 404)

    def op_GetInstanceProfile(self, ctx, p):
        # World roles may carry "instance_profiles": [name, ...] (issue 20).
        name = p["InstanceProfileName"]
        for arn, r in self.world.roles.items():
            parts = arn.split(":", 5)
            if len(parts) == 6 and parts[4] == ctx.account and name in r.get("instance_profiles", []):
                res = parts[5][len("role/"):]
                path = "/" + res.rsplit("/", 1)[0] + "/" if "/" in res else "/"
                role = {"Path": path, "RoleName": res.rsplit("/", 1)[-1], "RoleId": r.get("RoleId", "AROA" + "X" * 17),
                        "Arn": arn, "CreateDate": r.get("CreateDate", 1600000000)}
                return {"InstanceProfile": {"Path": "/", "InstanceProfileName": name,
                                            "InstanceProfileId": "AIPA" + "X" * 17,
                                            "Arn": "arn:aws:iam::%s:instance-profile/%s" % (ctx.account, name),
                                            "CreateDate": 1600000000, "Roles": [role]}}
        raise AwsError("NoSuchEntity", "Instance Profile %s cannot be found." % name, 404)

    def op_GetRole(self, ctx, p):
        arn, r = self._role(ctx, p["RoleName"])
        res = arn.split(":", 5)[5][len("role/"):]
        path = "/" + res.rsplit("/", 1)[0] + "/" if "/" in res else "/"
        trust = r.get("trust_policy", {"Version": "2012-10-17", "Statement": []})
        return {"Role": {"Path": path, "RoleName": p["RoleName"], "RoleId": r.get("RoleId", "AROA" + "X" * 17),
                         "Arn": arn, "CreateDate": r.get("CreateDate", 1600000000),
                         "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(trust), safe="")}}

    def op_ListRolePolicies(self, ctx, p):
        _, r = self._role(ctx, p["RoleName"])
        return {"PolicyNames": sorted(r.get("inline_policies", {})), "IsTruncated": False}

    def op_GetRolePolicy(self, ctx, p):
        _, r = self._role(ctx, p["RoleName"])
        doc = r.get("inline_policies", {}).get(p["PolicyName"])
        if doc is None:
            raise AwsError("NoSuchEntity", "The role policy with name %s cannot be found." % p["PolicyName"], 404)
        return {"RoleName": p["RoleName"], "PolicyName": p["PolicyName"],
                "PolicyDocument": urllib.parse.quote(doc, safe="")}

    def op_PutRolePolicy(self, ctx, p):
        _, r = self._role(ctx, p["RoleName"])
        doc = p["PolicyDocument"]
        try:
            parsed = json.loads(doc)
        except ValueError:
            raise AwsError("MalformedPolicyDocument", "Syntax errors in policy.")
        if not isinstance(parsed, dict) or "Statement" not in parsed:
            raise AwsError("MalformedPolicyDocument", "Policy document must contain a Statement.")
        pols = dict(r.get("inline_policies", {}))
        pols[p["PolicyName"]] = doc
        if sum(len("".join(d.split())) for d in pols.values()) > self.ROLE_POLICY_CHARS:
            raise AwsError("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s"
                           % (self.ROLE_POLICY_CHARS, p["RoleName"]), 409)
        r["inline_policies"] = pols
        return {}

    def op_DeleteRolePolicy(self, ctx, p):
        _, r = self._role(ctx, p["RoleName"])
        if p["PolicyName"] not in r.get("inline_policies", {}):
            raise AwsError("NoSuchEntity", "The role policy with name %s cannot be found." % p["PolicyName"], 404)
        del r["inline_policies"][p["PolicyName"]]
        return {}
