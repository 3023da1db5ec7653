"""CodeArtifact domains, repositories and their permissions policies (issue
23, codeartifact-lock): DescribeDomain, Get/Put/DeleteDomainPermissionsPolicy,
ListRepositoriesInDomain, Get/Put/DeleteRepositoryPermissionsPolicy.
rest-json (core.rest_json_route / rest_json_params), checked against
botocore's codeartifact model like every other service.

Optimistic locking as CodeArtifact documents it: every policy has a revision
that changes on each put; a Put or Delete whose policyRevision is not the
current one (or names one when there is no policy) answers ConflictException
(409) and changes nothing; without policyRevision the put is unconditional.
A document that is not a JSON object with a Statement is ValidationException.
No domain, no repository, or no policy: ResourceNotFoundException (404).
domainOwner defaults to the caller's account; the fake serves only the
caller's own domains (another owner: AccessDeniedException), so cross-account
work goes through the member role, as firebreak does.

Seed: {"codeartifact": {"domains": [{"name", "account"?, "region"?, "policy"?
(a document or its text), "bump_on_get"?, "repositories": [{"name",
"description"?, "administratorAccount"?, "policy"?, "bump_on_get"?}]}]}}.
The test hook `bump_on_get` (a count) makes that many Get*PermissionsPolicy
answers be followed by someone else's put (a statement "SomeoneElse<N>" is
appended and the revision moves), to exercise the conflict retry.
"""
import base64
import copy
import json
import uuid

from protocols import AwsError
from . import Base, now


def _doc_text(d):
    return d if isinstance(d, str) else json.dumps(d)


def _check_doc(text):
    try:
        d = json.loads(text)
    except ValueError:
        d = None
    if not isinstance(d, dict) or "Statement" not in d:
        raise AwsError("ValidationException", "The policy document is not a valid JSON policy with a Statement")


class Service(Base):
    def reset(self):
        self.domains = {}   # (account, region, name) -> domain

    def seed(self, section, merge):
        for d in section.get("domains", []):
            d = copy.deepcopy(d)
            acct, region = self.owner(d)
            repos = {}
            for r in d.get("repositories", []):
                r = dict(r) if isinstance(r, dict) else {"name": r}
                repos[r["name"]] = {
                    "name": r["name"], "description": r.get("description", ""),
                    "administratorAccount": r.get("administratorAccount", acct),
                    "policy": self._policy(r.get("policy")), "bump_on_get": r.get("bump_on_get", 0)}
            self.domains[(acct, region, d["name"])] = {
                "name": d["name"], "account": acct, "region": region, "created": now(),
                "policy": self._policy(d.get("policy")), "bump_on_get": d.get("bump_on_get", 0),
                "repositories": repos}

    @staticmethod
    def _policy(doc):
        if doc is None:
            return None
        return {"document": _doc_text(doc), "revision": str(uuid.uuid4())}

    def dump(self):
        out = []
        for d in self.domains.values():
            x = {k: v for k, v in d.items() if k != "repositories"}
            x["arn"] = self._arn(d)
            x["repositories"] = list(d["repositories"].values())
            out.append(x)
        return {"domains": out}

    @staticmethod
    def _arn(d, repo=None):
        base = "arn:aws:codeartifact:%s:%s:" % (d["region"], d["account"])
        return base + ("repository/%s/%s" % (d["name"], repo) if repo else "domain/%s" % d["name"])

    def _domain(self, ctx, p):
        owner = p.get("domainOwner") or ctx.account
        if owner != ctx.account:
            raise AwsError("AccessDeniedException", "User: %s is not authorized to access domain %s owned by %s"
                           % (ctx.caller_arn, p["domain"], owner), 403)
        d = self.domains.get((ctx.account, ctx.region, p["domain"]))
        if d is None:
            raise AwsError("ResourceNotFoundException", "Domain %s not found" % p["domain"], 404)
        return d

    def _repo(self, ctx, p):
        d = self._domain(ctx, p)
        r = d["repositories"].get(p["repository"])
        if r is None:
            raise AwsError("ResourceNotFoundException", "Repository %s not found in domain %s"
                           % (p["repository"], d["name"]), 404)
        return d, r

    @staticmethod
    def _bump(holder):
        if holder.get("bump_on_get", 0) > 0 and holder["policy"]:
            holder["bump_on_get"] -= 1
            doc = json.loads(holder["policy"]["document"])
            st = doc.get("Statement")
            st = st if isinstance(st, list) else [st]
            st.append({"Sid": "SomeoneElse%d" % len(st), "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::%s:root" % "999999999999"},
                       "Action": "codeartifact:ReadFromRepository", "Resource": "*"})
            doc["Statement"] = st
            holder["policy"] = {"document": json.dumps(doc), "revision": str(uuid.uuid4())}

    @staticmethod
    def _put(holder, p):
        cur = holder["policy"]
        rev = p.get("policyRevision")
        if rev is not None and (cur is None or cur["revision"] != rev):
            raise AwsError("ConflictException", "The policy revision %s is not the current revision" % rev, 409)
        _check_doc(p["policyDocument"])
        holder["policy"] = {"document": p["policyDocument"], "revision": str(uuid.uuid4())}

    @staticmethod
    def _delete(holder, p, what):
        cur = holder["policy"]
        if cur is None:
            raise AwsError("ResourceNotFoundException", "%s has no resource policy" % what, 404)
        rev = p.get("policyRevision")
        if rev is not None and cur["revision"] != rev:
            raise AwsError("ConflictException", "The policy revision %s is not the current revision" % rev, 409)
        holder["policy"] = None
        return cur

    def _answer(self, arn, pol):
        return {"policy": {"resourceArn": arn, "revision": pol["revision"], "document": pol["document"]}}

    def op_DescribeDomain(self, ctx, p):
        d = self._domain(ctx, p)
        return {"domain": {"name": d["name"], "owner": d["account"], "arn": self._arn(d), "status": "Active",
                           "createdTime": d["created"], "repositoryCount": len(d["repositories"]),
                           "assetSizeBytes": 0,
                           "encryptionKey": "arn:aws:kms:%s:%s:key/fake" % (d["region"], d["account"])}}

    def op_GetDomainPermissionsPolicy(self, ctx, p):
        d = self._domain(ctx, p)
        if d["policy"] is None:
            raise AwsError("ResourceNotFoundException", "Domain %s has no resource policy" % d["name"], 404)
        out = self._answer(self._arn(d), d["policy"])
        self._bump(d)
        return out

    def op_PutDomainPermissionsPolicy(self, ctx, p):
        d = self._domain(ctx, p)
        self._put(d, p)
        return self._answer(self._arn(d), d["policy"])

    def op_DeleteDomainPermissionsPolicy(self, ctx, p):
        d = self._domain(ctx, p)
        return self._answer(self._arn(d), self._delete(d, p, "Domain %s" % d["name"]))

    def op_ListRepositoriesInDomain(self, ctx, p):
        d = self._domain(ctx, p)
        names = sorted(n for n in d["repositories"]
                       if n.startswith(p.get("repositoryPrefix", ""))
                       and (not p.get("administratorAccount")
                            or d["repositories"][n]["administratorAccount"] == p["administratorAccount"]))
        start = 0
        if p.get("nextToken"):
            try:
                start = int(base64.b64decode(p["nextToken"]).decode().split(":")[1])
            except (ValueError, IndexError):
                raise AwsError("ValidationException", "Invalid nextToken")
        size = p.get("maxResults") or 100
        page = names[start:start + size]
        out = {"repositories": [{"name": n, "administratorAccount": d["repositories"][n]["administratorAccount"],
                                 "domainName": d["name"], "domainOwner": d["account"], "arn": self._arn(d, n),
                                 "description": d["repositories"][n]["description"]} for n in page]}
        if start + size < len(names):
            out["nextToken"] = base64.b64encode(("%s:%d" % (d["name"], start + size)).encode()).decode()
        return out

    def op_GetRepositoryPermissionsPolicy(self, ctx, p):
        d, r = self._repo(ctx, p)
        if r["policy"] is None:
            raise AwsError("ResourceNotFoundException", "Repository %s has no resource policy" % r["name"], 404)
        out = self._answer(self._arn(d, r["name"]), r["policy"])
        self._bump(r)
        return out

    def op_PutRepositoryPermissionsPolicy(self, ctx, p):
        d, r = self._repo(ctx, p)
        self._put(r, p)
        return self._answer(self._arn(d, r["name"]), r["policy"])

    def op_DeleteRepositoryPermissionsPolicy(self, ctx, p):
        d, r = self._repo(ctx, p)
        return self._answer(self._arn(d, r["name"]), self._delete(r, p, "Repository %s" % r["name"]))
