"""An EventBridge event-pattern matcher for the infra tests.

Follows the documented semantics (EventBridge user guide "Event patterns",
"Content filtering", "Comparison operators", and aws/event-ruler's README,
the matcher EventBridge uses):

* A pattern is a JSON object. Every field named in it must match (AND);
  fields the pattern does not name are ignored.
* A leaf is an array of alternatives (OR). An alternative is an exact value
  (string, number, true/false, null: null and "" are different) or one
  operator object: prefix, suffix (each also {"equals-ignore-case": s}),
  equals-ignore-case, wildcard ('*' any run, '\\*' a star, '\\\\' a
  backslash), anything-but (a value, a list of strings or of numbers,
  {"prefix"}, {"suffix"}, {"equals-ignore-case": s or [s]}, {"wildcard": s
  or [s]}), numeric (one or two comparisons: "=", "<", "<=", ">", ">="; JSON
  numbers only), exists (true/false; leaves only: a field whose value is an
  object does not "exist" as a leaf), cidr (IPv4/IPv6).
* "$or": [{...}, {...}] (two or more objects) at any level: any branch.
* Arrays in the event: a leaf matches when any element matches; objects
  inside arrays are matched one element at a time ("array consistency": all
  fields of a sub-pattern must come from the same element); nested arrays
  are flattened. An empty array holds no value (the field does not exist).
* Numbers compare by value (300 equals 3.0e2), booleans are not numbers.

match(pattern, event) -> bool; check(pattern) raises ValueError for a
pattern EventBridge would refuse (the parts this matcher knows).
"""
import ipaddress
import math

_ABSENT = object()
_OPS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but",
        "numeric", "exists", "cidr"}


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_or(key, val):
    return (key == "$or" and isinstance(val, list) and len(val) >= 2
            and all(isinstance(b, dict) for b in val)
            and not any(k in _OPS for b in val for k in b))


# ---- leaf values -------------------------------------------------------------------

def _wildcard_regex_match(pat, s):
    # Translate to a list of literal chunks split on unescaped '*'.
    chunks, cur, i = [], [], 0
    while i < len(pat):
        c = pat[i]
        if c == "\\":
            if i + 1 >= len(pat) or pat[i + 1] not in "*\\":
                raise ValueError("wildcard: backslash may only escape '*' or '\\'")
            cur.append(pat[i + 1])
            i += 2
            continue
        if c == "*":
            if i + 1 < len(pat) and pat[i + 1] == "*":
                raise ValueError("wildcard: consecutive '*' are not allowed")
            chunks.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    chunks.append("".join(cur))
    if len(chunks) == 1:
        return s == chunks[0]
    first, last, mids = chunks[0], chunks[-1], chunks[1:-1]
    if not s.startswith(first) or len(s) < len(first) + len(last):
        return False
    pos, end = len(first), len(s) - len(last)
    if not s.endswith(last):
        return False
    for m in mids:
        k = s.find(m, pos, end)
        if k < 0:
            return False
        pos = k + len(m)
    return True


def _str_op(spec, v, fn, name):
    """prefix/suffix: spec is a string or {"equals-ignore-case": s}."""
    if isinstance(spec, dict):
        if list(spec) != ["equals-ignore-case"] or not isinstance(spec["equals-ignore-case"], str):
            raise ValueError(f"{name}: only equals-ignore-case may be nested")
        return isinstance(v, str) and fn(v.casefold(), spec["equals-ignore-case"].casefold())
    if not isinstance(spec, str):
        raise ValueError(f"{name} needs a string")
    return isinstance(v, str) and fn(v, spec)


def _exact(p, v):
    if _is_num(p):
        return _is_num(v) and float(p) == float(v)
    if isinstance(p, bool) or p is None:
        return v is p
    return isinstance(v, str) and v == p


def _numeric(spec, v):
    if not isinstance(spec, list) or len(spec) not in (2, 4):
        raise ValueError("numeric needs one or two [op, number] pairs")
    conds = []
    for i in range(0, len(spec), 2):
        op, n = spec[i], spec[i + 1]
        if op not in ("=", "<", "<=", ">", ">=") or not _is_num(n) or not math.isfinite(n):
            raise ValueError(f"numeric: bad comparison {op!r} {n!r}")
        conds.append((op, float(n)))
    if len(conds) == 2:
        lows = [c for c in conds if c[0] in (">", ">=")]
        highs = [c for c in conds if c[0] in ("<", "<=")]
        if len(lows) != 1 or len(highs) != 1:
            raise ValueError("numeric: a range needs one lower and one upper bound")
    if not _is_num(v):
        return False
    x = float(v)
    for op, n in conds:
        ok = {"=": x == n, "<": x < n, "<=": x <= n, ">": x > n, ">=": x >= n}[op]
        if not ok:
            return False
    return True


def _anything_but(spec, v):
    """True when v is a value that spec does not exclude."""
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise ValueError("anything-but: one operator only")
        (op, arg), = spec.items()
        if op == "prefix":
            if not isinstance(arg, str):
                raise ValueError("anything-but prefix needs a string")
            return not (isinstance(v, str) and v.startswith(arg))
        if op == "suffix":
            if not isinstance(arg, str):
                raise ValueError("anything-but suffix needs a string")
            return not (isinstance(v, str) and v.endswith(arg))
        if op == "equals-ignore-case":
            args = arg if isinstance(arg, list) else [arg]
            if not args or not all(isinstance(a, str) for a in args):
                raise ValueError("anything-but equals-ignore-case needs strings")
            return not (isinstance(v, str) and v.casefold() in {a.casefold() for a in args})
        if op == "wildcard":
            args = arg if isinstance(arg, list) else [arg]
            if not args or not all(isinstance(a, str) for a in args):
                raise ValueError("anything-but wildcard needs strings")
            return not (isinstance(v, str) and any(_wildcard_regex_match(a, v) for a in args))
        raise ValueError(f"anything-but: unknown operator {op!r}")
    vals = spec if isinstance(spec, list) else [spec]
    if not vals:
        raise ValueError("anything-but: empty list")
    if not (all(isinstance(a, str) for a in vals) or all(_is_num(a) for a in vals)):
        raise ValueError("anything-but: the list must be all strings or all numbers")
    return not any(_exact(a, v) for a in vals)


def _value_matches(p, v):
    """One pattern alternative against one present scalar event value."""
    if not isinstance(p, dict):
        if isinstance(p, list):
            raise ValueError("nested arrays are not allowed in a pattern")
        return _exact(p, v)
    if len(p) != 1:
        raise ValueError(f"one operator per object: {p!r}")
    (op, arg), = p.items()
    if op == "prefix":
        return _str_op(arg, v, str.startswith, "prefix")
    if op == "suffix":
        return _str_op(arg, v, str.endswith, "suffix")
    if op == "equals-ignore-case":
        if not isinstance(arg, str):
            raise ValueError("equals-ignore-case needs a string")
        return isinstance(v, str) and v.casefold() == arg.casefold()
    if op == "wildcard":
        if not isinstance(arg, str):
            raise ValueError("wildcard needs a string")
        return isinstance(v, str) and _wildcard_regex_match(arg, v)
    if op == "anything-but":
        return _anything_but(arg, v)
    if op == "numeric":
        return _numeric(arg, v)
    if op == "cidr":
        net = ipaddress.ip_network(arg, strict=False)
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in net
        except ValueError:
            return False
    if op == "exists":
        raise AssertionError("exists is handled by the caller")
    raise ValueError(f"unknown operator {op!r}")


def _flatten(v):
    if isinstance(v, list):
        for e in v:
            yield from _flatten(e)
    else:
        yield v


def _leaf(alts, v):
    if not isinstance(alts, list) or not alts:
        raise ValueError(f"a pattern leaf must be a non-empty array, got {alts!r}")
    scalars = [] if v is _ABSENT else [e for e in _flatten(v) if not isinstance(e, dict)]
    # A field whose only values are objects is not a leaf: it does not exist
    # for exists, and no value operator can match it.
    for p in alts:
        if isinstance(p, dict) and "exists" in p:
            if len(p) != 1 or not isinstance(p["exists"], bool):
                raise ValueError("exists takes true or false")
            if p["exists"] == bool(scalars):
                return True
            continue
        for e in scalars:
            if _value_matches(p, e):
                return True
    return False


def _obj(pattern, ev):
    """pattern (an object) against one event object (or _ABSENT)."""
    if not isinstance(pattern, dict):
        raise ValueError("a pattern level must be an object")
    for key, sub in pattern.items():
        if _is_or(key, sub):
            if not any(_obj(b, ev) for b in sub):
                return False
            continue
        val = ev.get(key, _ABSENT) if isinstance(ev, dict) else _ABSENT
        if isinstance(sub, dict):
            # Descend: an object, or any object element of an array (array
            # consistency); a missing or scalar field descends as absent.
            cands = [e for e in _flatten(val) if isinstance(e, dict)] if val is not _ABSENT else []
            if not cands:
                cands = [_ABSENT]
            if not any(_obj(sub, c) for c in cands):
                return False
        else:
            if not _leaf(sub, val):
                return False
    return True


def match(pattern, event):
    return _obj(pattern, event)


def check(pattern):
    """Runs the pattern against an empty event to surface syntax errors."""
    if not isinstance(pattern, dict) or not pattern:
        raise ValueError("a pattern is a non-empty JSON object")
    _walk_check(pattern)


def _walk_check(p):
    for k, v in p.items():
        if _is_or(k, v):
            for b in v:
                _walk_check(b)
        elif isinstance(v, dict):
            _walk_check(v)
        else:
            if not isinstance(v, list) or not v:
                raise ValueError(f"leaf {k!r} must be a non-empty array")
            for alt in v:
                if isinstance(alt, dict) and "exists" in alt:
                    _leaf([alt], _ABSENT)
                elif isinstance(alt, dict) or isinstance(alt, list):
                    # Exercise the operator's argument checks on a few values.
                    for probe in ("", 0, "x"):
                        _value_matches(alt, probe)
