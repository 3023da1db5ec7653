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
        self.groups = {}    # (account, name) -> group
        self.policies = {}  # arn -> {versions, default, next}

    def seed(self, section, merge):
        for u in section.get("users", []):
            u = copy.deepcopy(u)
            acct = str(u.pop("account", self.world.default_account))
            self.add_user(acct, u)
        for acct, s in (section.get("account_summary") or {}).items():
            if isinstance(s, dict):
                self.summary.setdefault(str(acct), {}).update(s)
        self.seed_ext(section)
        # "account_summary": {"AccountMFAEnabled": 0} (no account key) -> default account
        s = section.get("account_summary") or {}
        flat = {k: v for k, v in s.items() if not isinstance(v, dict)}
        if flat:
            self.summary.setdefault(self.world.default_account, {}).update(flat)

    def add_user(self, acct, u):
        name = u["UserName"]
        user = {"UserName": name, "UserId": u.get("UserId", "AIDA" + rand_id(17, UPPER)),
                "Arn": u.get("Arn", "arn:aws:iam::%s:user/%s" % (acct, name)), "Path": "/",
                "CreateDate": u.get("CreateDate", 1600000000), "access_keys": [],
                "inline_policies": dict(u.get("inline_policies", {})), "attached": list(u.get("attached", [])),
                "groups": list(u.get("groups", [])), "login_profile": bool(u.get("login_profile")),
                "permissions_boundary": u.get("permissions_boundary")}
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
        return {"User": self._pub_user(u)}

    def op_ListUsers(self, ctx, p):
        return {"Users": [self._pub_user(u) for (a, _), u in self.users.items() if a == ctx.account],
                "IsTruncated": False}

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
        extra = {"PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                         "PermissionsBoundaryArn": r["permissions_boundary"]}} \
            if r.get("permissions_boundary") else {}
        return {"Role": {**extra, "Path": path, "RoleName": p["RoleName"], "RoleId": r.get("RoleId", "AROA" + "X" * 17),
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

    # ---- issue 18 (iam-contain): inline and managed policies, policy versions,
    # groups, login profiles, permissions boundaries, CreateAccessKey.
    # Seeds: users[].inline_policies {name: doc}, .attached [arn], .groups [name],
    # .login_profile true, .permissions_boundary arn; "groups": [{GroupName,
    # inline_policies, attached}]; "policies": [{Arn, versions: {"v1": doc},
    # default: "v1"}]; roles (top level) attached [arn], permissions_boundary.
    USER_POLICY_CHARS = 2048
    GROUP_POLICY_CHARS = 5120

    def _ext(self):
        if not hasattr(self, "groups"):
            self.groups = {}
            self.policies = {}

    def seed_ext(self, section):
        self._ext()
        for g in section.get("groups", []):
            acct = str(g.get("account", self.world.default_account))
            self.groups[(acct, g["GroupName"])] = {
                "GroupName": g["GroupName"], "GroupId": "AGPA" + rand_id(17, UPPER), "Path": "/",
                "Arn": "arn:aws:iam::%s:group/%s" % (acct, g["GroupName"]), "CreateDate": 1600000000,
                "inline_policies": dict(g.get("inline_policies", {})), "attached": list(g.get("attached", []))}
        for pol in section.get("policies", []):
            self.policies[pol["Arn"]] = {"versions": {v: {"doc": d, "CreateDate": 1600000000}
                                                      for v, d in pol.get("versions", {}).items()},
                                         "default": pol.get("default", "v1"), "next": len(pol.get("versions", {})) + 1}

    @staticmethod
    def _doc(doc):
        try:
            parsed = json.loads(doc)
        except ValueError:
            raise AwsError("MalformedPolicyDocument", "Syntax errors in policy.")
        if not isinstance(parsed, dict) or "Statement" not in parsed:
            raise AwsError("MalformedPolicyDocument", "Policy document must contain a Statement.")
        return doc

    @staticmethod
    def _size(pols):
        return sum(len("".join(d.split())) for d in pols.values())

    def _group(self, ctx, name):
        self._ext()
        g = self.groups.get((ctx.account, name))
        if g is None:
            raise AwsError("NoSuchEntity", "The group with name %s cannot be found." % name, 404)
        return g

    def _policy(self, arn):
        self._ext()
        p = self.policies.get(arn)
        if p is None:
            raise AwsError("NoSuchEntity", "Policy %s does not exist or is not attachable." % arn, 404)
        return p

    # inline policies: users, roles (above), groups
    def _inline_get(self, holder, kind, who, p):
        doc = holder.get("inline_policies", {}).get(p["PolicyName"])
        if doc is None:
            raise AwsError("NoSuchEntity", "The %s policy with name %s cannot be found." % (kind, p["PolicyName"]), 404)
        return {kind.capitalize() + "Name": who, "PolicyName": p["PolicyName"],
                "PolicyDocument": urllib.parse.quote(doc, safe="")}

    def _inline_put(self, holder, limit, who, p):
        pols = dict(holder.get("inline_policies", {}))
        pols[p["PolicyName"]] = self._doc(p["PolicyDocument"])
        if self._size(pols) > limit:
            raise AwsError("LimitExceeded", "Maximum policy size of %d bytes exceeded for %s" % (limit, who), 409)
        holder["inline_policies"] = pols
        return {}

    def _inline_delete(self, holder, kind, p):
        if p["PolicyName"] not in holder.get("inline_policies", {}):
            raise AwsError("NoSuchEntity", "The %s policy with name %s cannot be found." % (kind, p["PolicyName"]), 404)
        del holder["inline_policies"][p["PolicyName"]]
        return {}

    def op_GetUserPolicy(self, ctx, p):
        return self._inline_get(self._user(ctx, p["UserName"]), "user", p["UserName"], p)

    def op_PutUserPolicy(self, ctx, p):
        return self._inline_put(self._user(ctx, p["UserName"]), self.USER_POLICY_CHARS, "user " + p["UserName"], p)

    def op_DeleteUserPolicy(self, ctx, p):
        return self._inline_delete(self._user(ctx, p["UserName"]), "user", p)

    def op_ListUserPolicies(self, ctx, p):
        return {"PolicyNames": sorted(self._user(ctx, p["UserName"]).get("inline_policies", {})), "IsTruncated": False}

    def op_GetGroupPolicy(self, ctx, p):
        return self._inline_get(self._group(ctx, p["GroupName"]), "group", p["GroupName"], p)

    def op_PutGroupPolicy(self, ctx, p):
        return self._inline_put(self._group(ctx, p["GroupName"]), self.GROUP_POLICY_CHARS, "group " + p["GroupName"], p)

    def op_DeleteGroupPolicy(self, ctx, p):
        return self._inline_delete(self._group(ctx, p["GroupName"]), "group", p)

    # attached managed policies
    def _attach(self, holder, p):
        if not p["PolicyArn"].startswith("arn:aws:iam::aws:policy/"):
            self._policy(p["PolicyArn"])
        att = holder.setdefault("attached", [])
        if p["PolicyArn"] not in att:
            if len(att) >= 10:
                raise AwsError("LimitExceeded", "Cannot exceed quota for PoliciesPerEntity: 10", 409)
            att.append(p["PolicyArn"])
        return {}

    def _detach(self, holder, p):
        if p["PolicyArn"] not in holder.get("attached", []):
            raise AwsError("NoSuchEntity", "Policy %s was not found." % p["PolicyArn"], 404)
        holder["attached"].remove(p["PolicyArn"])
        return {}

    @staticmethod
    def _list_attached(holder):
        return {"AttachedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a}
                                     for a in holder.get("attached", [])], "IsTruncated": False}

    def op_AttachUserPolicy(self, ctx, p):
        return self._attach(self._user(ctx, p["UserName"]), p)

    def op_DetachUserPolicy(self, ctx, p):
        return self._detach(self._user(ctx, p["UserName"]), p)

    def op_ListAttachedUserPolicies(self, ctx, p):
        return self._list_attached(self._user(ctx, p["UserName"]))

    def op_AttachRolePolicy(self, ctx, p):
        return self._attach(self._role(ctx, p["RoleName"])[1], p)

    def op_DetachRolePolicy(self, ctx, p):
        return self._detach(self._role(ctx, p["RoleName"])[1], p)

    def op_ListAttachedRolePolicies(self, ctx, p):
        return self._list_attached(self._role(ctx, p["RoleName"])[1])

    def op_AttachGroupPolicy(self, ctx, p):
        return self._attach(self._group(ctx, p["GroupName"]), p)

    def op_DetachGroupPolicy(self, ctx, p):
        return self._detach(self._group(ctx, p["GroupName"]), p)

    def op_ListAttachedGroupPolicies(self, ctx, p):
        return self._list_attached(self._group(ctx, p["GroupName"]))

    # groups
    def _pub_group(self, g):
        return {k: g[k] for k in ("GroupName", "GroupId", "Path", "Arn", "CreateDate")}

    def op_AddUserToGroup(self, ctx, p):
        g = self._group(ctx, p["GroupName"])
        u = self._user(ctx, p["UserName"])
        if g["GroupName"] not in u.setdefault("groups", []):
            u["groups"].append(g["GroupName"])
        return {}

    def op_RemoveUserFromGroup(self, ctx, p):
        self._group(ctx, p["GroupName"])
        u = self._user(ctx, p["UserName"])
        if p["GroupName"] not in u.get("groups", []):
            raise AwsError("NoSuchEntity", "The user with name %s cannot be found in group %s."
                           % (p["UserName"], p["GroupName"]), 404)
        u["groups"].remove(p["GroupName"])
        return {}

    def op_ListGroupsForUser(self, ctx, p):
        u = self._user(ctx, p["UserName"])
        return {"Groups": [self._pub_group(self._group(ctx, g)) for g in u.get("groups", [])], "IsTruncated": False}

    def op_GetGroup(self, ctx, p):
        g = self._group(ctx, p["GroupName"])
        users = [self._pub_user(u) for (a, _), u in self.users.items()
                 if a == ctx.account and g["GroupName"] in u.get("groups", [])]
        return {"Group": self._pub_group(g), "Users": users, "IsTruncated": False}

    # access keys, login profiles
    def op_CreateAccessKey(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        if len(u["access_keys"]) >= 2:
            raise AwsError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
        k = {"AccessKeyId": "AKIA" + rand_id(16, UPPER), "Status": "Active", "CreateDate": 1700000000,
             "SecretAccessKey": rand_id(40), "last_used": None}
        u["access_keys"].append(k)
        return {"AccessKey": {"UserName": u["UserName"], "AccessKeyId": k["AccessKeyId"], "Status": "Active",
                              "SecretAccessKey": k["SecretAccessKey"], "CreateDate": k["CreateDate"]}}

    def op_GetLoginProfile(self, ctx, p):
        u = self._user(ctx, p["UserName"])
        if not u.get("login_profile"):
            raise AwsError("NoSuchEntity", "Login Profile for User %s cannot be found." % p["UserName"], 404)
        return {"LoginProfile": {"UserName": u["UserName"], "CreateDate": 1600000000, "PasswordResetRequired": False}}

    def op_CreateLoginProfile(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        if u.get("login_profile"):
            raise AwsError("EntityAlreadyExists", "Login Profile for user %s already exists." % u["UserName"], 409)
        u["login_profile"] = True
        return {"LoginProfile": {"UserName": u["UserName"], "CreateDate": 1700000000,
                                 "PasswordResetRequired": bool(p.get("PasswordResetRequired"))}}

    def op_DeleteLoginProfile(self, ctx, p):
        u = self._user(ctx, p.get("UserName"))
        if not u.get("login_profile"):
            raise AwsError("NoSuchEntity", "Login Profile for User %s cannot be found." % u["UserName"], 404)
        u["login_profile"] = False
        return {}

    # managed policies and their versions
    def op_GetPolicy(self, ctx, p):
        pol = self._policy(p["PolicyArn"])
        return {"Policy": {"PolicyName": p["PolicyArn"].rsplit("/", 1)[-1], "Arn": p["PolicyArn"],
                           "DefaultVersionId": pol["default"], "AttachmentCount": 0, "IsAttachable": True,
                           "Path": "/", "PolicyId": "ANPA" + "X" * 17, "CreateDate": 1600000000}}

    def op_GetPolicyVersion(self, ctx, p):
        pol = self._policy(p["PolicyArn"])
        v = pol["versions"].get(p["VersionId"])
        if v is None:
            raise AwsError("NoSuchEntity", "Policy %s version %s does not exist." % (p["PolicyArn"], p["VersionId"]), 404)
        return {"PolicyVersion": {"Document": urllib.parse.quote(v["doc"], safe=""), "VersionId": p["VersionId"],
                                  "IsDefaultVersion": pol["default"] == p["VersionId"], "CreateDate": v["CreateDate"]}}

    def op_ListPolicyVersions(self, ctx, p):
        pol = self._policy(p["PolicyArn"])
        return {"Versions": [{"VersionId": vid, "IsDefaultVersion": vid == pol["default"], "CreateDate": v["CreateDate"]}
                             for vid, v in sorted(pol["versions"].items(), key=lambda kv: -int(kv[0][1:]))],
                "IsTruncated": False}

    def op_CreatePolicyVersion(self, ctx, p):
        pol = self._policy(p["PolicyArn"])
        if len(pol["versions"]) >= 5:
            raise AwsError("LimitExceeded", "A managed policy can have up to 5 versions.", 409)
        vid = "v%d" % pol["next"]
        pol["next"] += 1
        pol["versions"][vid] = {"doc": self._doc(p["PolicyDocument"]), "CreateDate": 1700000000}
        if p.get("SetAsDefault"):
            pol["default"] = vid
        return {"PolicyVersion": {"VersionId": vid, "IsDefaultVersion": pol["default"] == vid, "CreateDate": 1700000000}}

    def op_SetDefaultPolicyVersion(self, ctx, p):
        pol = self._policy(p["PolicyArn"])
        if p["VersionId"] not in pol["versions"]:
            raise AwsError("NoSuchEntity", "Policy %s version %s does not exist." % (p["PolicyArn"], p["VersionId"]), 404)
        pol["default"] = p["VersionId"]
        return {}

    # trust policies, permissions boundaries
    def op_UpdateAssumeRolePolicy(self, ctx, p):
        _, r = self._role(ctx, p["RoleName"])
        r["trust_policy"] = json.loads(self._doc(p["PolicyDocument"]))
        return {}

    def op_PutUserPermissionsBoundary(self, ctx, p):
        self._user(ctx, p["UserName"])["permissions_boundary"] = p["PermissionsBoundary"]
        return {}

    def op_DeleteUserPermissionsBoundary(self, ctx, p):
        self._user(ctx, p["UserName"]).pop("permissions_boundary", None)
        return {}

    def op_PutRolePermissionsBoundary(self, ctx, p):
        self._role(ctx, p["RoleName"])[1]["permissions_boundary"] = p["PermissionsBoundary"]
        return {}

    def op_DeleteRolePermissionsBoundary(self, ctx, p):
        self._role(ctx, p["RoleName"])[1].pop("permissions_boundary", None)
        return {}

    @staticmethod
    def _pub_user(u):
        out = {k: u[k] for k in ("UserName", "UserId", "Arn", "Path", "CreateDate")}
        if u.get("permissions_boundary"):
            out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                          "PermissionsBoundaryArn": u["permissions_boundary"]}
        return out
