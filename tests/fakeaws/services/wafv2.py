"""WAFv2 IP sets (issue 19): CreateIPSet, GetIPSet, UpdateIPSet, ListIPSets.

Optimistic locking as WAF does it: every IP set carries a LockToken that
changes on each update; UpdateIPSet with another token answers
WAFOptimisticLockException and changes nothing. UpdateIPSet replaces
Addresses and Description (an omitted Description is cleared, as WAF's
"provide the complete specification" rule). CLOUDFRONT-scope sets exist
only in us-east-1 (WAFInvalidParameterException elsewhere). Addresses are
checked as CIDRs of the set's IPAddressVersion (WAFInvalidParameterException).
Seed: {"wafv2": {"ip_sets": [{"Name", "Id"?, "Scope"?, "IPAddressVersion"?,
"Addresses"?, "Description"?, "account"?, "region"?}]}}; the test hook
`bump_on_get` (a count) makes that many GetIPSet answers be followed by a
concurrent change (the token moves and an address is added), to exercise
the retry.
"""
import copy
import ipaddress
import uuid

from protocols import AwsError
from . import Base


def _arn(s):
    kind = "global" if s["Scope"] == "CLOUDFRONT" else "regional"
    return "arn:aws:wafv2:%s:%s:%s/ipset/%s/%s" % (s["region"], s["account"], kind, s["Name"], s["Id"])


class Service(Base):
    def reset(self):
        self.sets = {}   # (account, region, scope, id) -> set

    def seed(self, section, merge):
        for s in section.get("ip_sets", []):
            s = copy.deepcopy(s)
            acct, region = self.owner(s)
            s.setdefault("Id", str(uuid.uuid4()))
            s.setdefault("Scope", "REGIONAL")
            s.setdefault("IPAddressVersion", "IPV4")
            s.setdefault("Addresses", [])
            s.setdefault("Description", "")
            s["LockToken"] = str(uuid.uuid4())
            s["account"], s["region"] = acct, region
            s.setdefault("bump_on_get", 0)
            self.sets[(acct, region, s["Scope"], s["Id"])] = s

    def dump(self):
        return {"ip_sets": [dict(s, ARN=_arn(s)) for s in self.sets.values()]}

    def _scope(self, ctx, p):
        if p["Scope"] == "CLOUDFRONT" and ctx.region != "us-east-1":
            raise AwsError("WAFInvalidParameterException",
                           "Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: CLOUDFRONT")

    def _get(self, ctx, p):
        self._scope(ctx, p)
        s = self.sets.get((ctx.account, ctx.region, p["Scope"], p["Id"]))
        if s is None or s["Name"] != p["Name"]:
            raise AwsError("WAFNonexistentItemException",
                           "AWS WAF couldn\u2019t perform the operation because your resource doesn\u2019t exist.")
        return s

    @staticmethod
    def _check(s, addrs):
        for a in addrs:
            try:
                n = ipaddress.ip_network(a, strict=False)
            except ValueError:
                n = None
            if n is None or "/" not in a or n.version != (6 if s["IPAddressVersion"] == "IPV6" else 4):
                raise AwsError("WAFInvalidParameterException",
                               "Error reason: The parameter contains formatting that is not valid., "
                               "field: IP_ADDRESS, parameter: %s" % a)
        if len(addrs) > 10000:
            raise AwsError("WAFLimitsExceededException", "AWS WAF couldn\u2019t perform the operation "
                           "because you exceeded your resource limit.")

    def op_CreateIPSet(self, ctx, p):
        self._scope(ctx, p)
        s = {"Name": p["Name"], "Id": str(uuid.uuid4()), "Scope": p["Scope"],
             "IPAddressVersion": p["IPAddressVersion"], "Addresses": list(p["Addresses"]),
             "Description": p.get("Description", ""), "LockToken": str(uuid.uuid4()),
             "account": ctx.account, "region": ctx.region, "bump_on_get": 0}
        self._check(s, s["Addresses"])
        self.sets[(ctx.account, ctx.region, s["Scope"], s["Id"])] = s
        return {"Summary": {"Name": s["Name"], "Id": s["Id"], "Description": s["Description"],
                            "LockToken": s["LockToken"], "ARN": _arn(s)}}

    def op_GetIPSet(self, ctx, p):
        s = self._get(ctx, p)
        out = {"IPSet": {"Name": s["Name"], "Id": s["Id"], "ARN": _arn(s), "Description": s["Description"],
                         "IPAddressVersion": s["IPAddressVersion"], "Addresses": list(s["Addresses"])},
               "LockToken": s["LockToken"]}
        if s.get("bump_on_get", 0) > 0:
            # someone else writes right after our read
            s["bump_on_get"] -= 1
            s["Addresses"].append("192.0.2.%d/32" % (200 + s["bump_on_get"]) if s["IPAddressVersion"] == "IPV4"
                                  else "2001:db8:ffff::%d/128" % s["bump_on_get"])
            s["LockToken"] = str(uuid.uuid4())
        return out

    def op_UpdateIPSet(self, ctx, p):
        s = self._get(ctx, p)
        if p["LockToken"] != s["LockToken"]:
            raise AwsError("WAFOptimisticLockException",
                           "AWS WAF couldn\u2019t save your changes because someone changed the resource after "
                           "you started to edit it. Reapply your changes.")
        self._check(s, p["Addresses"])
        s["Addresses"] = list(p["Addresses"])
        s["Description"] = p.get("Description", "")
        s["LockToken"] = str(uuid.uuid4())
        return {"NextLockToken": s["LockToken"]}

    def op_ListIPSets(self, ctx, p):
        self._scope(ctx, p)
        out = [{"Name": s["Name"], "Id": s["Id"], "Description": s["Description"], "LockToken": s["LockToken"],
                "ARN": _arn(s)} for s in self.sets.values()
               if (s["account"], s["region"], s["Scope"]) == (ctx.account, ctx.region, p["Scope"])]
        return {"IPSets": out}
