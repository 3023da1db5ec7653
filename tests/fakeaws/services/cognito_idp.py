"""Cognito user pools (issue 23, cognito-lockdown): ListUsers,
AdminUserGlobalSignOut, GetUserPoolMfaConfig, DescribeUserPoolClient,
AddUserPoolClientSecret, ListUserPoolClientSecrets,
DeleteUserPoolClientSecret.

As Cognito: a pool lives in the Region its id starts with (another Region's
endpoint answers ResourceNotFoundException); a missing user is
UserNotFoundException "User does not exist."; a missing client is
ResourceNotFoundException; ListUsers pages by at most 60 (Limit, default
60) with an opaque PaginationToken (a bad one: InvalidParameterException)
and returns only the attributes asked for (AttributesToGet); an app client
keeps at most two secrets (a third: LimitExceededException) and its last
one cannot be deleted (InvalidParameterException); ListUserPoolClientSecrets
does not return the values (only AddUserPoolClientSecret shows a value,
once). AdminUserGlobalSignOut is counted per user (signouts, with times)
and held to the UserUpdate request-rate quota (25 a second per account and
Region by default; "signout_rps_quota" in the seed lowers it):
TooManyRequestsException beyond it in any one-second window.

Seed: {"cognito-idp": {"pools": [{"Id", "Name"?, "MfaConfiguration"?,
"SoftwareTokenMfaConfiguration"?, "SmsMfaConfiguration"?, "users"?:
["name", ...] | [{"Username", ...}], "user_count"?: N (user0000..),
"clients"?: [{"ClientId", "ClientName"?, "AccessTokenValidity"?, ...,
"secrets"?: ["value", ...]}], "account"?}], "signout_rps_quota"?: N,
"fail_signout"?: ["name", ...] (those users' sign-out answers
InternalErrorException)}}.
"""
import base64
import collections
import copy
import secrets
import string
import time
import uuid

from protocols import AwsError
from . import Base

_CLIENT_FIELDS = ("ClientName", "AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity",
                  "TokenValidityUnits", "ExplicitAuthFlows", "AllowedOAuthFlows")


def _new_secret():
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(52))


def _secret(value, when=None):
    return {"ClientSecretId": uuid.uuid4().hex[:26], "ClientSecretValue": value,
            "ClientSecretCreateDate": when if when is not None else time.time()}


class Service(Base):
    def reset(self):
        self.pools = {}           # (account, region, id) -> pool
        self.quota = 25
        self.window = collections.deque()   # AdminUserGlobalSignOut times (all pools: the quota is per account)
        self.fail_signout = set()
        self.throttled = 0

    def seed(self, section, merge):
        self.quota = int(section.get("signout_rps_quota", self.quota))
        self.fail_signout = set(section.get("fail_signout", self.fail_signout))
        for p in section.get("pools", []):
            p = copy.deepcopy(p)
            acct, _ = self.owner(p)
            region = p["Id"].split("_", 1)[0]
            users = {}
            base = time.time() - 86400 * 30
            for i, u in enumerate(p.pop("users", [])):
                u = {"Username": u} if isinstance(u, str) else u
                users[u["Username"]] = dict({"UserStatus": "CONFIRMED", "Enabled": True,
                                             "created": base + i, "sub": str(uuid.uuid4()),
                                             "signouts": []}, **u)
            for i in range(int(p.pop("user_count", 0))):
                name = "user%04d" % i
                users[name] = {"Username": name, "UserStatus": "CONFIRMED", "Enabled": True,
                               "created": base + 1000 + i, "sub": str(uuid.uuid4()), "signouts": []}
            clients = {}
            for c in p.pop("clients", []):
                c = copy.deepcopy(c)
                c["secrets"] = [_secret(v, base) for v in c.get("secrets", [])]
                clients[c["ClientId"]] = c
            p.update(account=acct, region=region, users=users, clients=clients)
            p.setdefault("Name", p["Id"])
            p.setdefault("MfaConfiguration", "OFF")
            self.pools[(acct, region, p["Id"])] = p

    def dump(self):
        out = []
        for p in self.pools.values():
            d = {k: v for k, v in p.items() if k not in ("users", "clients")}
            d["users"] = {n: {"signouts": len(u["signouts"]), "signout_times": list(u["signouts"])}
                          for n, u in p["users"].items()}
            # values are the test's to compare (the fake is the test's world), never the responder's to log
            d["clients"] = {cid: dict({k: c[k] for k in c if k != "secrets"},
                                      secrets=copy.deepcopy(c["secrets"])) for cid, c in p["clients"].items()}
            out.append(d)
        return {"pools": out, "throttled": self.throttled}

    def _pool(self, ctx, pid):
        p = self.pools.get((ctx.account, ctx.region, pid))
        if p is None:
            raise AwsError("ResourceNotFoundException", "User pool %s does not exist." % pid)
        return p

    def _client(self, ctx, p):
        pool = self._pool(ctx, p["UserPoolId"])
        c = pool["clients"].get(p["ClientId"])
        if c is None:
            raise AwsError("ResourceNotFoundException", "User pool client %s does not exist." % p["ClientId"])
        return pool, c

    # ---- users --------------------------------------------------------------

    def op_ListUsers(self, ctx, p):
        pool = self._pool(ctx, p["UserPoolId"])
        if p.get("Filter"):
            raise AwsError("InvalidParameterException", "Filter is not implemented by the fake")
        limit = int(p.get("Limit", 60))
        if limit < 0 or limit > 60:
            raise AwsError("InvalidParameterException", "1 validation error detected: Value '%d' at 'limit' "
                           "failed to satisfy constraint: Member must have value less than or equal to 60" % limit)
        limit = limit or 60
        names = sorted(pool["users"], key=lambda n: (pool["users"][n]["created"], n))
        start = 0
        if p.get("PaginationToken"):
            try:
                start = int(base64.b64decode(p["PaginationToken"]).decode().split(":", 1)[1])
            except Exception:
                raise AwsError("InvalidParameterException", "Invalid pagination token")
        attrs = p.get("AttributesToGet")
        users = []
        for n in names[start:start + limit]:
            u = pool["users"][n]
            all_attrs = [{"Name": "sub", "Value": u["sub"]}]
            if u.get("email"):
                all_attrs.append({"Name": "email", "Value": u["email"]})
            users.append({"Username": n, "Enabled": u["Enabled"], "UserStatus": u["UserStatus"],
                          "UserCreateDate": u["created"], "UserLastModifiedDate": u["created"],
                          "Attributes": [a for a in all_attrs if attrs is None or a["Name"] in attrs]})
        out = {"Users": users}
        if start + limit < len(names):
            out["PaginationToken"] = base64.b64encode(("%s:%d" % (uuid.uuid4().hex[:8], start + limit))
                                                      .encode()).decode()
        return out

    def op_AdminUserGlobalSignOut(self, ctx, p):
        now = time.time()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.quota:
            self.throttled += 1
            raise AwsError("TooManyRequestsException", "Too many requests", 400)
        self.window.append(now)
        pool = self._pool(ctx, p["UserPoolId"])
        u = pool["users"].get(p["Username"])
        if u is None:
            raise AwsError("UserNotFoundException", "User does not exist.")
        if p["Username"] in self.fail_signout:
            raise AwsError("InternalErrorException", "Internal error", 500)
        u["signouts"].append(now)
        return {}

    # ---- pool and client ------------------------------------------------------

    def op_GetUserPoolMfaConfig(self, ctx, p):
        pool = self._pool(ctx, p["UserPoolId"])
        out = {"MfaConfiguration": pool["MfaConfiguration"]}
        for k in ("SoftwareTokenMfaConfiguration", "SmsMfaConfiguration"):
            if pool.get(k) is not None:
                out[k] = pool[k]
        return out

    def op_DescribeUserPoolClient(self, ctx, p):
        pool, c = self._client(ctx, p)
        d = {"UserPoolId": pool["Id"], "ClientId": c["ClientId"]}
        for k in _CLIENT_FIELDS:
            if k in c:
                d[k] = c[k]
        if c["secrets"]:
            d["ClientSecret"] = c["secrets"][0]["ClientSecretValue"]
        return {"UserPoolClient": d}

    def op_AddUserPoolClientSecret(self, ctx, p):
        _, c = self._client(ctx, p)
        if len(c["secrets"]) >= 2:
            raise AwsError("LimitExceededException", "The app client already has the maximum number of secrets (2).")
        s = _secret(p.get("ClientSecret") or _new_secret())
        c["secrets"].append(s)
        return {"ClientSecretDescriptor": dict(s)}

    def op_ListUserPoolClientSecrets(self, ctx, p):
        _, c = self._client(ctx, p)
        return {"ClientSecrets": [{"ClientSecretId": s["ClientSecretId"],
                                   "ClientSecretCreateDate": s["ClientSecretCreateDate"]} for s in c["secrets"]]}

    def op_DeleteUserPoolClientSecret(self, ctx, p):
        _, c = self._client(ctx, p)
        keep = [s for s in c["secrets"] if s["ClientSecretId"] != p["ClientSecretId"]]
        if len(keep) == len(c["secrets"]):
            raise AwsError("ResourceNotFoundException", "Client secret %s does not exist." % p["ClientSecretId"])
        if not keep:
            raise AwsError("InvalidParameterException", "The last client secret of an app client cannot be deleted.")
        c["secrets"] = keep
        return {}
