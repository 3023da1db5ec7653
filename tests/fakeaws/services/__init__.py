"""Service state and operations. Each module defines `Service(world)` with
reset(), seed(section, merge), dump() and op_<Operation>(ctx, params)."""
import random
import string
import time
import uuid


def make_services(world):
    from . import (kms, secretsmanager, ecs, ec2, cloudtrail, logs, s3, sns,
                   iam, sts, s3control, autoscaling)
    mods = {"kms": kms, "secretsmanager": secretsmanager, "ecs": ecs,
            "ec2": ec2, "cloudtrail": cloudtrail, "logs": logs, "s3": s3,
            "sns": sns, "iam": iam, "sts": sts, "s3control": s3control, "autoscaling": autoscaling}
    from . import wafv2  # issue 19 (net-block)
    mods["wafv2"] = wafv2
    from . import dynamodb, monitoring  # issue 22 (data-breach)
    mods["dynamodb"] = dynamodb
    mods["monitoring"] = monitoring
    from . import cognito_idp  # issue 23 (cognito-lockdown)
    mods["cognito-idp"] = cognito_idp
    from . import codeartifact  # issue 23 (codeartifact-lock)
    mods["codeartifact"] = codeartifact
    return {name: m.Service(world) for name, m in mods.items()}


class Base:
    def __init__(self, world):
        self.world = world
        self.reset()

    def reset(self):
        pass

    def seed(self, section, merge):
        pass

    def dump(self):
        return {}

    def owner(self, rec):
        """(account, region) a seeded record belongs to."""
        return (str(rec.pop("account", self.world.default_account)),
                rec.pop("region", self.world.default_region))


def rand_id(n, alphabet=string.ascii_lowercase + string.digits):
    return "".join(random.choice(alphabet) for _ in range(n))


def now():
    return time.time()


def uid():
    return str(uuid.uuid4())
