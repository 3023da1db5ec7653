"""SNS: topics and stored publishes."""
import copy

from protocols import AwsError
from . import Base, uid


class Service(Base):
    def reset(self):
        self.topics = {}     # arn -> {}
        self.published = []

    def seed(self, section, merge):
        for t in section.get("topics", []):
            t = copy.deepcopy(t) if isinstance(t, dict) else ({"TopicArn": t} if t.startswith("arn:") else {"Name": t})
            acct, region = self.owner(t)
            arn = t.get("TopicArn") or "arn:aws:sns:%s:%s:%s" % (region, acct, t["Name"])
            self.topics[arn] = {"TopicArn": arn}

    def dump(self):
        return {"topics": list(self.topics.values()), "published": self.published}

    def op_CreateTopic(self, ctx, p):
        arn = ctx.arn("sns", p["Name"])
        self.topics.setdefault(arn, {"TopicArn": arn})
        return {"TopicArn": arn}

    def op_ListTopics(self, ctx, p):
        return {"Topics": [{"TopicArn": a} for a in self.topics if a.split(":")[3:5] == [ctx.region, ctx.account]]}

    def op_Publish(self, ctx, p):
        arn = p.get("TopicArn") or p.get("TargetArn")
        if not arn:
            raise AwsError("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
        if arn not in self.topics:
            raise AwsError("NotFound", "Topic does not exist", 404)
        if len(p["Message"].encode()) > 262144:
            raise AwsError("InvalidParameter", "Invalid parameter: Message too long")
        if p.get("Subject") is not None and (len(p["Subject"]) > 100 or not p["Subject"].strip()):
            raise AwsError("InvalidParameter", "Invalid parameter: Subject")
        mid = uid()
        self.published.append({"MessageId": mid, "TopicArn": arn, "Subject": p.get("Subject"),
                               "Message": p["Message"], "MessageAttributes": p.get("MessageAttributes"),
                               "time": ctx.now, "account": ctx.account, "by": ctx.caller_arn})
        return {"MessageId": mid}
