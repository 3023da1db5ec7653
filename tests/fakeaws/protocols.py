"""Wire protocols of the fake: parse requests into the model's input shape,
serialise outputs and errors in the model's protocol.

Everything here walks botocore's service model, so the shapes we accept and
answer are the ones real clients (botocore, the AWS CLI) expect.
"""
import base64
import datetime
import json
from xml.sax.saxutils import escape as _xml_escape

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class AwsError(Exception):
    """An error answered to the client in the protocol's shape."""

    def __init__(self, code, message, status=400, sender=True):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender and status < 500


class ParamError(Exception):
    pass


def xml_escape(s):
    return _xml_escape(s, {'"': "&quot;"})


def to_datetime(v):
    """epoch seconds (int/float), ISO-8601 string or datetime -> aware datetime."""
    if v is None:
        return None
    if isinstance(v, datetime.datetime):
        return v if v.tzinfo else v.replace(tzinfo=datetime.timezone.utc)
    if isinstance(v, (int, float)):
        return EPOCH + datetime.timedelta(seconds=v)
    s = str(v).strip()
    try:
        return EPOCH + datetime.timedelta(seconds=float(s))
    except ValueError:
        pass
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    return d if d.tzinfo else d.replace(tzinfo=datetime.timezone.utc)


def to_epoch(v):
    d = to_datetime(v)
    return None if d is None else (d - EPOCH).total_seconds()


def iso8601(v):
    d = to_datetime(v).astimezone(datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def http_date(v):
    d = to_datetime(v).astimezone(datetime.timezone.utc)
    return d.strftime("%a, %d %b %Y %H:%M:%S GMT")


# ---- input: query protocol (iam, sts, sns) and ec2 ---------------------------

def _qname(shape, default, ec2):
    ser = shape.serialization
    if ec2:
        if "queryName" in ser:
            return ser["queryName"]
        if "name" in ser:
            return ser["name"][0].upper() + ser["name"][1:]
        return default
    return ser.get("name", default)


def _has_prefix(flat, p):
    if p in flat:
        return True
    pd = p + "."
    return any(k.startswith(pd) for k in flat)


def _scalar(shape, raw, key):
    t = shape.type_name
    try:
        if t in ("integer", "long"):
            return int(raw)
        if t in ("float", "double"):
            return float(raw)
        if t == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if t == "blob":
            return base64.b64decode(raw, validate=True)
    except (ValueError, TypeError):
        raise ParamError(f"Invalid value '{raw}' for parameter {key}: expected {t}")
    return raw


def unflatten(shape, flat, prefix, ec2, used):
    """Rebuild a value of `shape` from flat query params under `prefix`.
    Returns None when absent. Consumed keys are added to `used`."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, m in shape.members.items():
            key = _qname(m, name, ec2)
            full = f"{prefix}.{key}" if prefix else key
            v = unflatten(m, flat, full, ec2, used)
            if v is not None:
                out[name] = v
        return out if (out or not prefix) else None
    if t == "list":
        if flat.get(prefix) == "" and prefix in flat:
            used.add(prefix)
            return []
        if ec2:
            lp = prefix
        elif shape.serialization.get("flattened"):
            lp = prefix
            if shape.member.serialization.get("name"):
                lp = ".".join(prefix.split(".")[:-1] + [shape.member.serialization["name"]])
        else:
            lp = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        if not _has_prefix(flat, lp):
            return None
        items = []
        i = 1
        while True:
            p = f"{lp}.{i}"
            if not _has_prefix(flat, p):
                break
            items.append(unflatten(shape.member, flat, p, ec2, used))
            i += 1
        return items
    if t == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        kn = _qname(shape.key, "key", ec2)
        vn = _qname(shape.value, "value", ec2)
        if not _has_prefix(flat, base):
            return None
        out = {}
        i = 1
        while _has_prefix(flat, f"{base}.{i}"):
            k = unflatten(shape.key, flat, f"{base}.{i}.{kn}", ec2, used)
            out[k] = unflatten(shape.value, flat, f"{base}.{i}.{vn}", ec2, used)
            i += 1
        return out
    if prefix in flat:
        used.add(prefix)
        return _scalar(shape, flat[prefix], prefix)
    return None


# ---- output: JSON ---------------------------------------------------------------

def json_value(shape, v):
    """Shape-directed conversion to JSON: drops members the model does not
    have, timestamps as epoch seconds, blobs base64."""
    if v is None:
        return None
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, m in shape.members.items():
            if name in v and v[name] is not None:
                out[name] = json_value(m, v[name])
        return out
    if t == "list":
        return [json_value(shape.member, x) for x in v]
    if t == "map":
        return {k: json_value(shape.value, x) for k, x in v.items()}
    if t == "timestamp":
        e = to_epoch(v)
        return int(e) if e == int(e) else round(e, 3)
    if t == "blob":
        if isinstance(v, str):
            v = v.encode()
        return base64.b64encode(v).decode()
    if t in ("integer", "long"):
        return int(v)
    if t == "boolean":
        return bool(v)
    return v


# ---- output: XML (query, ec2, rest-xml) -----------------------------------------

def _xml_scalar(shape, v):
    t = shape.type_name
    if t == "timestamp":
        return iso8601(v)
    if t == "boolean":
        return "true" if v else "false"
    if t == "blob":
        if isinstance(v, str):
            v = v.encode()
        return base64.b64encode(v).decode()
    return xml_escape(str(v))


def xml_members(shape, v, parts):
    """Serialise the members of structure `v` (no wrapping element)."""
    for name, m in shape.members.items():
        if name not in v or v[name] is None:
            continue
        if m.serialization.get("location") or m.serialization.get("xmlAttribute"):
            continue  # headers / uri / status: not in the body; attributes: on the element
        el = m.serialization.get("name", name)
        val = v[name]
        if m.type_name == "list" and m.serialization.get("flattened"):
            iname = m.member.serialization.get("name", el)
            for x in val:
                xml_element(m.member, x, iname, parts)
        else:
            xml_element(m, val, el, parts)


def xml_element(shape, v, name, parts):
    t = shape.type_name
    if t == "structure":
        attrs = "".join(' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" %s="%s"'
                        % (m.serialization["name"], xml_escape(str(v[n])))
                        for n, m in shape.members.items()
                        if m.serialization.get("xmlAttribute") and v.get(n) is not None)
        parts.append(f"<{name}{attrs}>")
        xml_members(shape, v, parts)
        parts.append(f"</{name}>")
    elif t == "list":
        iname = shape.member.serialization.get("name", "member")
        parts.append(f"<{name}>")
        for x in v:
            xml_element(shape.member, x, iname, parts)
        parts.append(f"</{name}>")
    elif t == "map":
        kn = shape.key.serialization.get("name", "key")
        vn = shape.value.serialization.get("name", "value")
        flat = shape.serialization.get("flattened")
        if not flat:
            parts.append(f"<{name}>")
        for k, x in v.items():
            parts.append(f"<{name}>" if flat else "<entry>")
            xml_element(shape.key, k, kn, parts)
            xml_element(shape.value, x, vn, parts)
            parts.append(f"</{name}>" if flat else "</entry>")
        if not flat:
            parts.append(f"</{name}>")
    else:
        parts.append(f"<{name}>{_xml_scalar(shape, v)}</{name}>")
