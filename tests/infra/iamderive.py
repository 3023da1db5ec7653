"""Which AWS operations a responder's code can call, read from the C sources.

Call sites, in every form the code base uses:
  * two adjacent string literals "svc", "Op" in a call: aws_do(c, "kms",
    "DescribeKey", ...), call_init(&c, "ecs", "StopTask", ...),
    key_round(u, "iam", "ListAccessKeys", ...);
  * assignments or designated initialisers: x.service = "kms"; x.op =
    "EnableKey"; / { .service = "s3", .op = "PutObject" } (paired in order).
A site whose service or operation is not a literal is "dynamic"; it is
accepted only inside a forwarder (the value is one of the enclosing
function's parameters, e.g. aws_do itself or call_init), whose callers pass
literals, or as a row of a call table (below); anything else is reported so
the test fails loudly.

Call tables (issue 17, w4-rst: firebreak-restore's inverse calls): a
file-scope array `static const struct <tag> <name>[] = { ... };` whose rows
hold the literal pair `"svc", "Op"` (e.g. `{ FR_X, "iam", "PutRolePolicy",
... }`), and a site `.service = t->service, .op = t->op` (or `x.service =
t->service; x.op = t->op;`) in a function that declares `const struct <tag>
*t`: the site is not dynamic, and every row of that table is an operation
of the function (the table is the list of what the site can call).

The runtime (runtime/*.c) is linked into every function, but a runtime call
site counts for a function only when the function's code calls (directly or
through other runtime functions) the runtime function that holds it:
resp_finish -> sns:Publish, acct_client_for -> sts:AssumeRole and
sts:GetCallerIdentity, for example. Every function of the responder's own
files counts (they are reachable through lr_main's callbacks).
"""
import glob
import os
import re

# Signing name -> IAM prefix where they differ.
_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "s3control": "s3"}
# Operations authorised under another action name.
_ACTION = {("s3", "HeadObject"): "s3:GetObject", ("s3", "ListObjectsV2"): "s3:ListBucket",
           ("s3", "HeadBucket"): "s3:ListBucket",
           # issue 19: S3 and S3 Control public access block (Service Authorization Reference)
           ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
           ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
           ("s3", "DeletePublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
           ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
           ("s3control", "PutPublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
           ("s3control", "DeletePublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
           ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration"}
# Operations that need no permission (IAM User Guide: GetCallerIdentity).
_FREE = {("sts", "GetCallerIdentity")}

_C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined"}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _strip_comments(text):
    # Keeps line numbers: comments become spaces/newlines; strings are kept.
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def c_functions(path):
    """[(name, params, body, first_line)] for the function definitions of a
    file in this code base's style (header at column 0, '{' and '}' alone at
    column 0)."""
    text = _strip_comments(_read(path))
    lines = text.split("\n")
    funcs, i = [], 0
    while i < len(lines):
        if lines[i] == "{":
            # The header: lines above up to the previous blank/;/}/# line.
            j = i - 1
            while j >= 0 and lines[j].strip() and not lines[j].rstrip().endswith((";", "}")) \
                    and not lines[j].startswith("#"):
                j -= 1
            header = " ".join(lines[j + 1:i])
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            m = re.search(r"(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$", header)
            if m and "=" not in header.split("(")[0]:
                params = set(re.findall(r"(\w+)\s*(?:\[[^\]]*\])?\s*(?:,|$)", m.group(2)))
                funcs.append((m.group(1), params, "\n".join(lines[i + 1:k]), i + 1))
            i = k
        i += 1
    return funcs


_PAIR = re.compile(r'"([a-z0-9-]+)"\s*,\s*"([A-Z][A-Za-z0-9]+)"')
# x.service = ..., x->service = ..., { .service = ... }: the object expression
# (empty for a designated initialiser) pairs a service with its op.
_SVC = re.compile(r'([\w\[\]\.>-]*?)(?:\.|->)service\s*=\s*([^;,}]+)')
_OP = re.compile(r'([\w\[\]\.>-]*?)(?:\.|->)op\s*=\s*([^;,}]+)')
_AWSDO = re.compile(r'\baws_do\s*\(\s*[^,]+,\s*([^,]+),\s*([^,]+),')


def _lit(expr):
    m = re.fullmatch(r'\s*"([^"]*)"\s*', expr)
    return m.group(1) if m else None


def _braces(text, pos):
    """(start, end) of the innermost {...} around pos ((-1, len) if none).
    String literals are skipped (comments are already stripped)."""
    depth, i, lo = 0, pos - 1, -1
    while i >= 0:
        c = text[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                lo = i
                break
            depth -= 1
        i -= 1
    if lo < 0:
        return -1, len(text)
    depth, i = 0, lo + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return lo, i
            depth -= 1
        i += 1
    return lo, len(text)


_TABLE = re.compile(r"^static\s+const\s+struct\s+(\w+)\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{", re.M)


def call_tables_in(text, services):
    """{struct tag: set of (svc, Op)} for the file-scope call tables of a
    (comment-stripped) C text: the literal pairs of each table's rows."""
    tables = {}
    for m in _TABLE.finditer(text):
        lo, hi = _braces(text, m.end())
        pairs = {(p.group(1), p.group(2)) for p in _PAIR.finditer(text[lo:hi])
                 if p.group(1) in services}
        if pairs:
            tables.setdefault(m.group(1), set()).update(pairs)
    return tables


def _table_site(body, s, o, tables):
    """The call table whose row pointer names both expressions
    (t->service, t->op with `const struct <tag> *t` declared here), or None."""
    ms = re.fullmatch(r"\s*(\w+)\s*->\s*service\s*", s)
    mo = re.fullmatch(r"\s*(\w+)\s*->\s*op\s*", o)
    if not ms or not mo or ms.group(1) != mo.group(1):
        return None
    d = re.search(r"\bconst\s+struct\s+(\w+)\s*\*\s*%s\b" % re.escape(ms.group(1)), body)
    return tables.get(d.group(1)) if d else None


def sites_in_body(body, params, services, tables=None):
    """(set of (svc, Op), list of dynamic-site descriptions). `tables`: the
    file's call tables (call_tables_in)."""
    found, dynamic = set(), []
    for m in _PAIR.finditer(body):
        if m.group(1) in services:
            found.add((m.group(1), m.group(2)))
    # Pair each service assignment with the next op assignment on the same
    # object. A struct with a .service but no .op (the SigV4 parameters) is
    # not an AWS call.
    ops = [(m.start(), m.group(1), m.group(2).strip()) for m in _OP.finditer(body)]
    used = set()
    for m in _SVC.finditer(body):
        obj, s = m.group(1), m.group(2).strip()
        if obj == "":
            # A designated initialiser ({ .service = "kms", .op = "X" }, a
            # runtime/kit.h step declaration): the .op of the same braces,
            # before or after .service, never one of the next declaration.
            lo, hi = _braces(body, m.start())
            o = next(((i, x) for i, (pos, ob, x) in enumerate(ops)
                      if lo < pos < hi and ob == "" and i not in used
                      and _braces(body, pos) == (lo, hi)), None)
        else:
            o = next(((i, x) for i, (pos, ob, x) in enumerate(ops)
                      if pos > m.start() and ob == obj and i not in used), None)
        if o is None:
            continue
        used.add(o[0])
        ls, lo = _lit(s), _lit(o[1])
        rows = _table_site(body, s, o[1], tables or {})
        if ls is not None and lo is not None:
            found.add((ls, lo))
        elif rows:
            found |= rows
        elif not ({s, o[1]} <= params):
            dynamic.append(f"service={s} op={o[1]}")
    for m in _AWSDO.finditer(body):
        s, o = m.group(1).strip(), m.group(2).strip()
        if (_lit(s) is None or _lit(o) is None) and not ({s, o} <= params):
            dynamic.append(f"aws_do({s}, {o})")
    return found, dynamic


def _calls(body):
    """Functions a body calls, and (issue 24) functions whose address it
    takes as a value (`r->outlet = outlet_publish;`, `.fn = reader,`): a
    hook installed here runs on this function's behalf later."""
    called = {m.group(1) for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", body)}
    taken = {m.group(1) for m in re.finditer(r"[=,(]\s*&?([A-Za-z_]\w*)\s*(?=[;,)])", body)}
    return (called | taken) - _C_KEYWORDS


class Derivation:
    def __init__(self, root, services):
        self.root = root
        self.services = set(services)
        self.rt = {}        # runtime function -> (sites, calls, dynamic, where)
        self.rt_body = {}   # runtime function -> its body (issue 17: requests the runtime builds)
        for path in sorted(glob.glob(os.path.join(root, "runtime", "*.c"))):
            for name, params, body, line in c_functions(path):
                sites, dyn = sites_in_body(body, params, self.services)
                self.rt[name] = (sites, _calls(body), dyn, f"{os.path.relpath(path, root)}:{line}")
                self.rt_body[name] = body

    def _runtime_reach(self, names):
        seen, stack = set(), [n for n in names if n in self.rt]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(c for c in self.rt[n][1] if c in self.rt and c not in seen)
        return seen

    def function(self, name):
        """{"ops": {(svc, Op)}, "runtime_entry": set, "dynamic": [..], "texts": str}"""
        ops, calls, dynamic, texts = set(), set(), [], []
        for path in sorted(glob.glob(os.path.join(self.root, "functions", name, "*.c"))):
            texts.append(_read(path))
            tables = call_tables_in(_strip_comments(texts[-1]), self.services)
            for fname, params, body, line in c_functions(path):
                s, d = sites_in_body(body, params, self.services, tables)
                ops |= s
                calls |= _calls(body)
                dynamic += [f"{os.path.relpath(path, self.root)}:{line} {fname}: {x}" for x in d]
        entry = {c for c in calls if c in self.rt}
        reach = self._runtime_reach(entry)
        for n in reach:
            ops |= self.rt[n][0]
            dynamic += [f"{self.rt[n][3]} {n}: {x}" for x in self.rt[n][2]]
        # A runtime sequence that makes a call whose request implies a
        # dependent action (runtime/sg.c's CreateSecurityGroup with its
        # TagSpecification) counts with the request it builds: its body and
        # the runtime functions it calls.
        for n in sorted(reach):
            if any(op in self.rt[n][0] for op in _IMPLYING_RUNTIME_OPS):
                texts += [self.rt_body[m] for m in sorted(self._runtime_reach(self.rt[n][1] | {n}))]
        return {"ops": ops, "runtime_entry": entry, "runtime_reach": reach,
                "dynamic": dynamic, "text": "\n".join(texts)}


def iam_action(svc, op):
    """IAM action for one operation, or None when it needs no permission."""
    if (svc, op) in _FREE:
        return None
    if (svc, op) in _ACTION:
        return _ACTION[(svc, op)]
    return f"{_PREFIX.get(svc, svc)}:{op}"


# Responders whose member-account work is only part of what they do: the
# operations they make through the member-role client (acct_client_for),
# everything else in their own account. leak-rotate deactivates another
# account's leaked access key there (key_round on a member client, in
# functions/leak-rotate/main.c); it rotates secrets and redeploys services
# in its own account only. A responder not listed acts in the member account
# with all of its member-side actions.
MEMBER_OPS = {
    "leak-rotate": {("iam", "GetAccessKeyLastUsed"), ("iam", "ListAccessKeys"), ("iam", "UpdateAccessKey"),
                    # a verified leaked temporary credential of a member account: its role's sessions
                    ("iam", "GetRolePolicy"), ("iam", "PutRolePolicy")},
    # net-block (issue 19): the rules and network ACLs of the member account;
    # its WAFv2 IP set is the one FIREBREAK_NB_IPSET_ARN names (the security account's).
    "net-block": {("ec2", "DescribeSecurityGroupRules"), ("ec2", "DescribeSecurityGroups"),
                  ("ec2", "RevokeSecurityGroupIngress"), ("ec2", "DescribeNetworkInterfaces"),
                  ("ec2", "DescribeNetworkAcls"), ("ec2", "CreateNetworkAclEntry"),
                  ("ec2", "DeleteNetworkAclEntry")},
}


# issue 24: the report's outlets (runtime/outlet.c) always use the
# function's own client: never member-side.
OWN_ACCOUNT_ACTIONS = {"events:putevents", "securityhub:batchimportfindings",
                       "securityhub:batchupdatefindings"}


def member_actions(name, actions):
    """The subset of `actions` (IAM action names, any case) that `name`
    performs in member accounts: all of them unless MEMBER_OPS narrows it
    (the report outlets, OWN_ACCOUNT_ACTIONS, never)."""
    actions = {a for a in actions if a.lower() not in OWN_ACCOUNT_ACTIONS}
    ops = MEMBER_OPS.get(name)
    if ops is None:
        return set(actions)
    allowed = {iam_action(s, o).lower() for s, o in ops}
    return {a for a in actions if a.lower() in allowed}


# Operations whose request, when a runtime function builds it, is read for
# implied_by_request (the responder's own files are always read).
_IMPLYING_RUNTIME_OPS = {("ec2", "CreateSecurityGroup")}


def implied_by_request(ops, text):
    """Actions the service authorises for the way the code calls an
    operation (Service Authorization Reference, "dependent actions"):
      ec2:CreateSecurityGroup with TagSpecification(s) (query form TagSpecification.N) -> ec2:CreateTags;
      s3:PutObject with SSE-KMS (x-amz-server-side-encryption: aws:kms)
        -> kms:GenerateDataKey on the bucket's key;
      s3:PutObject by a writer that reads the bucket's Object Lock
        configuration (runtime/evidence.c: it does so to send
        x-amz-object-lock-retain-until-date) -> s3:PutObjectRetention;
      secretsmanager:GetSecretValue -> kms:Decrypt (a secret under a
        customer managed key; via secretsmanager)."""
    out = set()
    if ("ec2", "CreateSecurityGroup") in ops and "TagSpecification" in text:
        out.add("ec2:CreateTags")
    if ("s3", "PutObject") in ops and '"aws:kms"' in text:
        out.add("kms:GenerateDataKey")
    if ("s3", "PutObject") in ops and ("s3", "GetObjectLockConfiguration") in ops:
        out.add("s3:PutObjectRetention")
    if ("secretsmanager", "GetSecretValue") in ops:
        out.add("kms:Decrypt")
    return out
