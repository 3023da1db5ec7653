"""Security Hub (issue 24): findings in ASFF, BatchUpdateFindings (the
customer's workflow, notes) and BatchImportFindings (a product's findings).

Seed securityhub.findings[]: ASFF findings (at least Id and ProductArn; a
GuardDuty finding imported by Security Hub has Id = the GuardDuty finding ARN
and ProductArn arn:aws:securityhub:<region>::product/aws/guardduty), plus
account/region. As Security Hub:
  * BatchUpdateFindings: a finding that does not exist (in the caller's
    account and Region) is UnprocessedFindings, ErrorCode
    FindingNotFound; Note.Text and UpdatedBy at most 512 characters
    (InvalidInputException); Workflow.Status one of NEW, NOTIFIED, RESOLVED,
    SUPPRESSED; at most 100 identifiers.
  * BatchImportFindings: at most 100 findings; the ProductArn of a
    customer's own findings is arn:aws:securityhub:<region>:<account>:
    product/<account>/default and AwsAccountId the caller's: anything else is
    FailedFindings (AccessDeniedException). An Id seen before updates the
    finding (Workflow and Notes set through BatchUpdateFindings are kept)."""
import copy
import time

from protocols import AwsError
from . import Base

STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class Service(Base):
    def reset(self):
        self.findings = {}   # (account, region, ProductArn, Id) -> finding
        self.updates = []    # BatchUpdateFindings requests accepted, in order

    def seed(self, section, merge):
        for f in section.get("findings", []):
            f = copy.deepcopy(f)
            acct, region = self.owner(f)
            f.setdefault("AwsAccountId", acct)
            f.setdefault("Workflow", {"Status": "NEW"})
            self.findings[(acct, region, f["ProductArn"], f["Id"])] = f

    def dump(self):
        return {"findings": list(self.findings.values()), "updates": self.updates}

    def op_BatchUpdateFindings(self, ctx, p):
        ids = p["FindingIdentifiers"]
        if not 1 <= len(ids) <= 100:
            raise AwsError("InvalidInputException", "FindingIdentifiers must have 1 to 100 items")
        note = p.get("Note")
        if note is not None and (len(note["Text"]) > 512 or len(note["UpdatedBy"]) > 512
                                 or not note["Text"] or not note["UpdatedBy"]):
            raise AwsError("InvalidInputException", "Note Text and UpdatedBy must be 1 to 512 characters")
        status = (p.get("Workflow") or {}).get("Status")
        if status is not None and status not in STATUSES:
            raise AwsError("InvalidInputException", "Invalid Workflow.Status %s" % status)
        done, failed = [], []
        for fi in ids:
            f = self.findings.get((ctx.account, ctx.region, fi["ProductArn"], fi["Id"]))
            if f is None:
                failed.append({"FindingIdentifier": fi, "ErrorCode": "FindingNotFound",
                               "ErrorMessage": "Finding Not Found"})
                continue
            if status is not None:
                f["Workflow"] = {"Status": status}
                f["WorkflowState"] = status if status != "NOTIFIED" else "ASSIGNED"
            if note is not None:
                f["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": _iso(ctx.now)}
            for k in ("Severity", "VerificationState", "Confidence", "Criticality", "Types", "UserDefinedFields",
                      "RelatedFindings"):
                if k in p:
                    f[k] = copy.deepcopy(p[k])
            f["UpdatedAt"] = _iso(ctx.now)
            done.append({"Id": fi["Id"], "ProductArn": fi["ProductArn"]})
        self.updates.append({"params": copy.deepcopy(p), "by": ctx.caller_arn, "account": ctx.account})
        return {"ProcessedFindings": done, "UnprocessedFindings": failed}

    def op_BatchImportFindings(self, ctx, p):
        fs = p["Findings"]
        if not 1 <= len(fs) <= 100:
            raise AwsError("InvalidInputException", "Findings must have 1 to 100 items")
        own = "arn:aws:securityhub:%s:%s:product/%s/default" % (ctx.region, ctx.account, ctx.account)
        ok, failed = 0, []
        for f in fs:
            if f["ProductArn"] != own or f["AwsAccountId"] != ctx.account:
                failed.append({"Id": f["Id"], "ErrorCode": "AccessDeniedException",
                               "ErrorMessage": "not the caller's product or account"})
                continue
            key = (ctx.account, ctx.region, f["ProductArn"], f["Id"])
            prev = self.findings.get(key)
            f = copy.deepcopy(f)
            if prev is not None:
                for k in ("Workflow", "WorkflowState", "Note"):
                    if k in prev:
                        f[k] = prev[k]
            f.setdefault("Workflow", {"Status": "NEW"})
            self.findings[key] = f
            ok += 1
        return {"FailedCount": len(failed), "SuccessCount": ok, "FailedFindings": failed}

    def op_GetFindings(self, ctx, p):
        """For reading the state back with the AWS CLI: the caller's findings,
        filtered by Id / ProductArn / GeneratorId / WorkflowStatus (EQUALS),
        up to MaxResults (default 100)."""
        fl = p.get("Filters") or {}
        names = {"Id": lambda f: f.get("Id"), "ProductArn": lambda f: f.get("ProductArn"),
                 "GeneratorId": lambda f: f.get("GeneratorId"),
                 "WorkflowStatus": lambda f: (f.get("Workflow") or {}).get("Status")}
        out = []
        for (acct, region, _, _), f in self.findings.items():
            if (acct, region) != (ctx.account, ctx.region):
                continue
            if all(any(names[k](f) == c.get("Value") for c in fl[k]) for k in fl if k in names):
                out.append(f)
        return {"Findings": out[:int(p.get("MaxResults") or 100)]}
