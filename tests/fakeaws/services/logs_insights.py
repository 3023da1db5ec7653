"""CloudWatch Logs Insights, the part of its query language access-triage
sends (issue 21), run over the fake's seeded log events.

Grammar (AWS, "CloudWatch Logs Insights query syntax"), commands joined by
`|`:
  fields f1, f2, ...                 the fields of each row (@timestamp,
                                     @message, @logStream, discovered JSON
                                     fields such as userIdentity.arn)
  filter EXPR                        EXPR: or / and / not, parentheses,
                                     ispresent(f), f = v, f != v,
                                     f like /regex/, f like "substring",
                                     f in [v, ...], f not in [v, ...]
  stats count(*) [as n] by f1, ...   one row per distinct (f1, ...)
  sort f [asc|desc]
  limit N
Anything else is MalformedQueryException, as AWS answers a query it cannot
parse (a test sending a query this fake does not know fails loudly rather
than matching everything). JSON messages' fields are discovered as
Insights does: nested objects flattened with dots; values compared as
strings (JSON true/false as "1"/"0", numbers as written).
"""
import datetime
import json
import re

from protocols import AwsError

TOKEN = re.compile(r'''\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<re>/(?:[^/\\]|\\.)*/)|'''
                   r'''(?P<num>-?\d+(?:\.\d+)?)|(?P<op>!=|=|\(|\)|\[|\]|,|\*)|'''
                   r'''(?P<word>[@A-Za-z_][\w.@-]*(?:\(\))?))''')


def _bad(msg):
    raise AwsError("MalformedQueryException", msg)


def _tokens(s):
    out, pos = [], 0
    while pos < len(s):
        if s[pos:].strip() == "":
            break
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            _bad("unexpected symbol at %d" % pos)
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _split_commands(q):
    """Split on | outside strings and regexes."""
    parts, cur, quote = [], "", None
    for ch in q:
        if quote:
            cur += ch
            if ch == quote and not cur.endswith("\\" + ch):
                quote = None
        elif ch in "\"'/":
            quote = ch
            cur += ch
        elif ch == "|":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if quote:
        _bad("unterminated string or regex")
    parts.append(cur)
    return [p.strip() for p in parts]


def _unquote(tok):
    kind, v = tok
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    if kind == "num":
        return v
    _bad("expected a value, got '%s'" % v)


class _Expr:
    def __init__(self, toks):
        self.t = toks
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if tok[0] is None or (want is not None and tok[1] != want):
            _bad("expected '%s'" % want if want else "unexpected end of filter")
        self.i += 1
        return tok

    def parse(self):
        e = self.or_()
        if self.i != len(self.t):
            _bad("unexpected '%s' in filter" % self.peek()[1])
        return e

    def or_(self):
        e = self.and_()
        while self.peek()[1] == "or":
            self.take()
            r = self.and_()
            e = ("or", e, r)
        return e

    def and_(self):
        e = self.not_()
        while self.peek()[1] == "and":
            self.take()
            r = self.not_()
            e = ("and", e, r)
        return e

    def not_(self):
        if self.peek()[1] == "not":
            self.take()
            return ("not", self.not_())
        return self.atom()

    def atom(self):
        kind, v = self.peek()
        if v == "(":
            self.take()
            e = self.or_()
            self.take(")")
            return e
        if kind == "word" and v == "ispresent" and self.peek(1)[1] == "(":
            self.take()
            self.take("(")
            f = self.take()
            if f[0] != "word":
                _bad("ispresent takes a field")
            self.take(")")
            return ("present", f[1])
        if kind != "word":
            _bad("expected a field, got '%s'" % v)
        self.take()
        op = self.take()[1]
        if op in ("=", "!="):
            return (op, v, _unquote(self.take()))
        if op == "like":
            pk, pv = self.take()
            if pk == "re":
                try:
                    return ("like", v, re.compile(pv[1:-1]))
                except re.error:
                    _bad("invalid regex")
            return ("like", v, re.compile(re.escape(_unquote((pk, pv)))))
        neg = False
        if op == "not" and self.peek()[1] == "in":
            self.take()
            op, neg = "in", True
        if op == "in":
            self.take("[")
            vals = []
            while True:
                vals.append(_unquote(self.take()))
                if self.peek()[1] == ",":
                    self.take()
                    continue
                self.take("]")
                break
            return ("notin" if neg else "in", v, set(vals))
        _bad("unknown operator '%s'" % op)


def _eval(e, row):
    k = e[0]
    if k == "or":
        return _eval(e[1], row) or _eval(e[2], row)
    if k == "and":
        return _eval(e[1], row) and _eval(e[2], row)
    if k == "not":
        return not _eval(e[1], row)
    if k == "present":
        return e[1] in row
    v = row.get(e[1])
    if k == "=":
        return v is not None and v == e[2]
    if k == "!=":
        return v is not None and v != e[2]
    if k == "like":
        return v is not None and e[2].search(v) is not None
    if k == "in":
        return v is not None and v in e[2]
    if k == "notin":
        return v is not None and v not in e[2]
    raise AssertionError(k)


def _fieldlist(rest):
    fs = [f.strip() for f in rest.split(",")]
    for f in fs:
        if not re.fullmatch(r"[@A-Za-z_][\w.@-]*", f):
            _bad("bad field name '%s'" % f)
    return fs


def parse(q):
    """Query text -> list of (command, args); MalformedQueryException."""
    if not q or not q.strip():
        _bad("empty query")
    cmds = []
    for c in _split_commands(q):
        m = re.fullmatch(r"(\w+)\s*(.*)", c, re.S)
        if not m:
            _bad("empty command")
        word, rest = m.group(1), m.group(2).strip()
        if word == "fields":
            cmds.append(("fields", _fieldlist(rest)))
        elif word == "filter":
            cmds.append(("filter", _Expr(_tokens(rest)).parse()))
        elif word == "stats":
            m2 = re.fullmatch(r"count\(\s*\*?\s*\)(?:\s+as\s+(\w+))?\s+by\s+(.+)", rest, re.S)
            if not m2:
                _bad("only 'stats count(*) [as n] by f, ...' is known to this fake")
            cmds.append(("stats", (m2.group(1) or "count(*)", _fieldlist(m2.group(2)))))
        elif word == "sort":
            m2 = re.fullmatch(r"([@A-Za-z_][\w.@-]*)(?:\s+(asc|desc))?", rest)
            if not m2:
                _bad("bad sort")
            cmds.append(("sort", (m2.group(1), m2.group(2) != "asc")))
        elif word == "limit":
            if not re.fullmatch(r"\d+", rest) or not 1 <= int(rest) <= 10000:
                _bad("limit must be 1..10000")
            cmds.append(("limit", int(rest)))
        else:
            _bad("unknown command '%s'" % word)
    return cmds


def _flatten(obj, pre, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, pre + k + ".", out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _flatten(v, pre + str(i) + ".", out)
    elif obj is not None:
        out[pre[:-1]] = ("1" if obj else "0") if isinstance(obj, bool) else str(obj)


def _ts(ms):
    return datetime.datetime.utcfromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (ms % 1000)


def run(cmds, events, limit):
    """events: [(stream, event)] -> (rows as [{field, value}], matched, scanned)."""
    rows = []
    for stream, e in events:
        r = {"@timestamp": _ts(e["timestamp"]), "@message": e["message"], "@logStream": stream,
             "@ingestionTime": _ts(e["ingestionTime"]), "@ptr": e["eventId"], "_ms": e["timestamp"]}
        try:
            msg = json.loads(e["message"])
        except ValueError:
            msg = None
        if isinstance(msg, dict):
            d = {}
            _flatten(msg, "", d)
            for k, v in d.items():
                r.setdefault(k, v)
        rows.append(r)
    scanned = len(rows)
    shown = None
    for c, a in cmds:
        if c == "fields":
            shown = a
        elif c == "filter":
            rows = [r for r in rows if _eval(a, r)]
        elif c == "stats":
            name, by = a
            counts = {}
            for r in rows:
                key = tuple(r.get(f) for f in by)
                counts[key] = counts.get(key, 0) + 1
            rows = [dict(zip(by, k), **{name: str(n)}) for k, n in counts.items()]
            shown = by + [name]
        elif c == "sort":
            f, desc = a
            key = "_ms" if f == "@timestamp" else f
            rows.sort(key=lambda r: (r.get(key) is not None, r.get(key) if r.get(key) is not None else ""),
                      reverse=desc)
        elif c == "limit":
            rows = rows[:a]
    matched = len(rows)
    rows = rows[:limit]
    out = []
    for r in rows:
        fs = shown if shown is not None else ["@timestamp", "@message"]
        line = [{"field": f, "value": r[f]} for f in fs if r.get(f) is not None]
        if "@ptr" in r and "stats" not in [c for c, _ in cmds]:
            line.append({"field": "@ptr", "value": r["@ptr"]})
        out.append(line)
    return out, matched, scanned
