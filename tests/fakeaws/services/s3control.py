"""S3 Control (issue 19): the account-level public access block. Signed
as s3; routed by its /v20180820/ path (core.py). Seed:
{"s3control": {"public_access_block": {"<account>": {setting: bool}}}}."""
import copy

from protocols import AwsError
from . import Base

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class Service(Base):
    def reset(self):
        self.blocks = {}  # account -> {setting: bool}

    def seed(self, section, merge):
        for acct, cfg in (section.get("public_access_block") or {}).items():
            self.blocks[str(acct)] = {k: bool(cfg.get(k, False)) for k in SETTINGS}

    def dump(self):
        return {"public_access_block": copy.deepcopy(self.blocks)}

    def _own(self, ctx, p):
        if p.get("AccountId") != ctx.account:
            raise AwsError("AccessDenied", "Access Denied", 403)
        return p["AccountId"]

    def op_GetPublicAccessBlock(self, ctx, p):
        acct = self._own(ctx, p)
        if acct not in self.blocks:
            raise AwsError("NoSuchPublicAccessBlockConfiguration",
                           "The public access block configuration was not found", 404)
        return {"PublicAccessBlockConfiguration": dict(self.blocks[acct])}

    def op_PutPublicAccessBlock(self, ctx, p):
        acct = self._own(ctx, p)
        cfg = p.get("PublicAccessBlockConfiguration") or {}
        self.blocks[acct] = {k: bool(cfg.get(k, False)) for k in SETTINGS}
        return {}

    def op_DeletePublicAccessBlock(self, ctx, p):
        self.blocks.pop(self._own(ctx, p), None)
        return {}
