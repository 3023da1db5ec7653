"""STS: GetCallerIdentity, AssumeRole (issues usable temporary credentials),
GetAccessKeyInfo."""
import base64
import secrets as _rnd
import string

from protocols import AwsError
from . import Base, rand_id

UPPER = string.ascii_uppercase + "234567"


def account_from_key_id(ak):
    """The account id encoded in a modern AKIA/ASIA key id (as AWS does)."""
    try:
        raw = base64.b32decode(ak[4:] + "=" * (-len(ak[4:]) % 8))
        z = int.from_bytes(raw[0:6], "big")
        return "%012d" % ((z & 0x7FFFFFFFFF80) >> 7)
    except (ValueError, TypeError):
        return None


class Service(Base):
    def reset(self):
        self.issued = []

    def dump(self):
        return {"issued": [dict(i) for i in self.issued]}

    def op_GetCallerIdentity(self, ctx, p):
        arn = ctx.caller_arn
        if ":assumed-role/" in arn:
            role = arn.split(":assumed-role/")[1].split("/")
            uid_ = "AROA%s:%s" % (rand_id(16, UPPER), role[1] if len(role) > 1 else "session")
        else:
            uid_ = "AIDA" + ctx.access_key[4:].upper().ljust(16, "X")[:16]
        return {"UserId": uid_, "Account": ctx.account, "Arn": arn}

    def op_AssumeRole(self, ctx, p):
        arn = p["RoleArn"]
        role = self.world.roles.get(arn)
        trusted = (role or {}).get("trusted")
        if role is None or (trusted and not any(t in (ctx.caller_arn, ctx.account) for t in trusted)):
            raise AwsError("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                           % (ctx.caller_arn, arn), 403)
        dur = p.get("DurationSeconds", 3600)
        if not 900 <= dur <= 43200:
            raise AwsError("ValidationError", "1 validation error detected: Value '%d' at 'durationSeconds' failed "
                           "to satisfy constraint: Member must have value greater than or equal to 900" % dur)
        acct = arn.split(":")[4]
        name = arn.split(":role/")[-1].split("/")[-1]
        ak = "ASIA" + rand_id(16, UPPER)
        sk = _rnd.token_urlsafe(30)[:40]
        token = "FwoGZXIvYXdzE" + _rnd.token_urlsafe(96)
        exp = ctx.now + dur
        sess = p["RoleSessionName"]
        assumed = "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, name, sess)
        self.world.creds[ak] = {"secret": sk, "account": acct, "arn": assumed, "token": token, "expires": exp}
        self.issued.append({"access_key_id": ak, "role_arn": arn, "session": sess, "expires": exp,
                            "by": ctx.caller_arn})
        return {"Credentials": {"AccessKeyId": ak, "SecretAccessKey": sk, "SessionToken": token, "Expiration": exp},
                "AssumedRoleUser": {"AssumedRoleId": "AROA%s:%s" % (rand_id(16, UPPER), sess), "Arn": assumed},
                "PackedPolicySize": 0}

    def op_GetAccessKeyInfo(self, ctx, p):
        ak = p["AccessKeyId"]
        c = self.world.creds.get(ak)
        if c is not None:
            return {"Account": c["account"]}
        found = self.world.services["iam"].find_access_key(ak)
        if found is not None:
            return {"Account": found[2]}
        acct = account_from_key_id(ak)
        if acct is None:
            raise AwsError("ValidationError", "Invalid access key id")
        return {"Account": acct}
