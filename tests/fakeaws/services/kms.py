"""KMS: keys, key state machine, aliases, tags."""
import copy
import time

from protocols import AwsError
from . import Base, uid

PENDING = ("PendingDeletion", "PendingReplicaDeletion")


class Service(Base):
    def reset(self):
        self.keys = {}      # (account, region, key_id) -> {"meta":…, "tags":[…]}
        self.aliases = {}   # (account, region, "alias/x") -> key_id

    def seed(self, section, merge):
        for k in section.get("keys", []):
            k = copy.deepcopy(k)
            acct, region = self.owner(k)
            self.add_key(acct, region, k)

    def add_key(self, acct, region, k):
        kid = k.pop("KeyId", None) or uid()
        tags = k.pop("Tags", [])
        aliases = k.pop("Aliases", k.pop("aliases", []))
        meta = {"AWSAccountId": acct, "KeyId": kid,
                "Arn": f"arn:aws:kms:{region}:{acct}:key/{kid}",
                "CreationDate": time.time(), "Enabled": True, "Description": "",
                "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                "MultiRegion": False}
        meta.update(k)
        meta["Enabled"] = meta["KeyState"] == "Enabled"
        if meta.get("MultiRegion") and "MultiRegionConfiguration" not in meta:
            meta["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY",
                "PrimaryKey": {"Arn": meta["Arn"], "Region": region}, "ReplicaKeys": []}
        self.keys[(acct, region, kid)] = {"meta": meta, "tags": tags}
        for a in aliases:
            self.aliases[(acct, region, a)] = kid
        return meta

    def dump(self):
        out = []
        for (acct, region, kid), r in self.keys.items():
            d = dict(r["meta"], Tags=r["tags"], account=acct, region=region,
                     Aliases=[a for (aa, rr, a), k in self.aliases.items()
                              if (aa, rr, k) == (acct, region, kid)])
            out.append(d)
        return {"keys": out}

    # ---- helpers
    def find(self, ctx, key_id):
        acct, region, ident = ctx.account, ctx.region, key_id
        if key_id.startswith("arn:"):
            parts = key_id.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms":
                raise AwsError("NotFoundException", f"Invalid arn {key_id}")
            region, acct, ident = parts[3], parts[4], parts[5]
            if ident.startswith("key/"):
                ident = ident[4:]
        if ident.startswith("alias/"):
            kid = self.aliases.get((acct, region, ident))
            if kid is None:
                raise AwsError("NotFoundException", f"Alias arn:aws:kms:{region}:{acct}:{ident} is not found.")
            ident = kid
        r = self.keys.get((acct, region, ident))
        if r is None:
            raise AwsError("NotFoundException",
                           f"Key 'arn:aws:kms:{region}:{acct}:key/{ident}' does not exist")
        return r

    def _set_state(self, meta, state):
        meta["KeyState"] = state
        meta["Enabled"] = state == "Enabled"
        if state not in PENDING:
            meta.pop("DeletionDate", None)
            meta.pop("PendingDeletionWindowInDays", None)

    def _not_pending(self, meta):
        if meta["KeyState"] in PENDING:
            raise AwsError("KMSInvalidStateException", f"{meta['Arn']} is pending deletion.")

    # ---- operations
    def op_DescribeKey(self, ctx, p):
        return {"KeyMetadata": self.find(ctx, p["KeyId"])["meta"]}

    def op_ListKeys(self, ctx, p):
        ks = [r["meta"] for (a, rg, _), r in self.keys.items() if (a, rg) == (ctx.account, ctx.region)]
        return {"Keys": [{"KeyId": m["KeyId"], "KeyArn": m["Arn"]} for m in ks], "Truncated": False}

    def op_ListAliases(self, ctx, p):
        out = []
        for (a, rg, name), kid in self.aliases.items():
            if (a, rg) != (ctx.account, ctx.region):
                continue
            if p.get("KeyId") and self.find(ctx, p["KeyId"])["meta"]["KeyId"] != kid:
                continue
            out.append({"AliasName": name, "AliasArn": f"arn:aws:kms:{rg}:{a}:{name}", "TargetKeyId": kid})
        return {"Aliases": out, "Truncated": False}

    def op_CreateKey(self, ctx, p):
        k = {"Description": p.get("Description", ""), "Tags": p.get("Tags", []),
             "MultiRegion": p.get("MultiRegion", False)}
        return {"KeyMetadata": self.add_key(ctx.account, ctx.region, k)}

    def op_ScheduleKeyDeletion(self, ctx, p):
        r = self.find(ctx, p["KeyId"])
        m = r["meta"]
        if m["KeyManager"] == "AWS":
            raise AwsError("AccessDeniedException", f"{m['Arn']} is an AWS managed key and cannot be deleted.")
        self._not_pending(m)
        if m["KeyState"] not in ("Enabled", "Disabled"):
            raise AwsError("KMSInvalidStateException", f"{m['Arn']} is {m['KeyState']}.")
        days = p.get("PendingWindowInDays", 30)
        if not 7 <= days <= 30:
            raise AwsError("ValidationException", "1 validation error detected: Value '%d' at 'pendingWindowInDays' "
                           "failed to satisfy constraint: Member must have value between 7 and 30" % days)
        mrc = m.get("MultiRegionConfiguration") or {}
        state = "PendingDeletion"
        if m.get("MultiRegion") and mrc.get("MultiRegionKeyType") == "PRIMARY" and mrc.get("ReplicaKeys"):
            state = "PendingReplicaDeletion"
        m["_PriorState"] = m["KeyState"]
        self._set_state(m, state)
        m["DeletionDate"] = ctx.now + days * 86400
        m["PendingDeletionWindowInDays"] = days
        return {"KeyId": m["Arn"], "DeletionDate": m["DeletionDate"], "KeyState": state,
                "PendingWindowInDays": days}

    def op_CancelKeyDeletion(self, ctx, p):
        m = self.find(ctx, p["KeyId"])["meta"]
        if m["KeyState"] not in PENDING:
            raise AwsError("KMSInvalidStateException", f"{m['Arn']} is not pending deletion.")
        # as real KMS: a cancelled key is Disabled, whatever it was before
        self._set_state(m, "Disabled")
        m.pop("_PriorState", None)
        return {"KeyId": m["Arn"]}

    def op_EnableKey(self, ctx, p):
        m = self.find(ctx, p["KeyId"])["meta"]
        self._not_pending(m)
        if m["KeyState"] not in ("Enabled", "Disabled"):
            raise AwsError("KMSInvalidStateException", f"{m['Arn']} is {m['KeyState']}.")
        self._set_state(m, "Enabled")
        return {}

    def op_DisableKey(self, ctx, p):
        m = self.find(ctx, p["KeyId"])["meta"]
        self._not_pending(m)
        if m["KeyState"] not in ("Enabled", "Disabled"):
            raise AwsError("KMSInvalidStateException", f"{m['Arn']} is {m['KeyState']}.")
        self._set_state(m, "Disabled")
        return {}

    def op_TagResource(self, ctx, p):
        r = self.find(ctx, p["KeyId"])
        self._not_pending(r["meta"])
        for t in p["Tags"]:
            r["tags"] = [x for x in r["tags"] if x["TagKey"] != t["TagKey"]] + [t]
        return {}

    def op_UntagResource(self, ctx, p):
        r = self.find(ctx, p["KeyId"])
        r["tags"] = [x for x in r["tags"] if x["TagKey"] not in p["TagKeys"]]
        return {}

    def op_ListResourceTags(self, ctx, p):
        return {"Tags": self.find(ctx, p["KeyId"])["tags"], "Truncated": False}
