"""Small helpers over a loaded template: resolve intrinsics with given
parameter values, evaluate conditions, list a role's statements."""
import json

from cfnyaml import PSEUDO

PSEUDO_VALUES = {"AWS::AccountId": "999999999999", "AWS::Region": "us-east-1",
                 "AWS::Partition": "aws", "AWS::StackName": "firebreak",
                 "AWS::URLSuffix": "amazonaws.com", "AWS::StackId": "stack-id"}
NOVALUE = object()


class Model:
    def __init__(self, tpl, params=None):
        self.t = tpl
        self.params = {}
        for name, p in (tpl.get("Parameters") or {}).items():
            v = p.get("Default", "")
            if p.get("Type") == "CommaDelimitedList":
                v = [x.strip() for x in str(v).split(",")] if not isinstance(v, list) else v
            else:
                v = str(v)
            self.params[name] = v
        for k, v in (params or {}).items():
            self.params[k] = v
        self._cond = {}

    @property
    def resources(self):
        return self.t.get("Resources") or {}

    def condition(self, name):
        if name not in self._cond:
            self._cond[name] = bool(self.resolve(self.t["Conditions"][name]))
        return self._cond[name]

    def active(self, logical_id):
        c = self.resources[logical_id].get("Condition")
        return True if c is None else self.condition(c)

    def resolve(self, n):
        """Intrinsics -> values. A resource's Ref/GetAtt resolves to a
        placeholder '<Id>' / '<Id.Attr>' (what it names, not its value)."""
        if isinstance(n, list):
            out = [self.resolve(x) for x in n]
            return [x for x in out if x is not NOVALUE]
        if not isinstance(n, dict):
            return n
        if len(n) == 1:
            (k, v), = n.items()
            if k == "Ref":
                if v == "AWS::NoValue":
                    return NOVALUE
                if v in self.params:
                    return self.params[v]
                if v in PSEUDO_VALUES:
                    return PSEUDO_VALUES[v]
                return f"<{v}>"
            if k == "Fn::GetAtt":
                return f"<{v[0]}.{v[1]}>"
            if k == "Fn::Sub":
                if isinstance(v, list):
                    s, extra = v[0], {a: self.resolve(b) for a, b in v[1].items()}
                else:
                    s, extra = v, {}
                return self._sub(s, extra)
            if k == "Fn::Join":
                sep, items = v
                return sep.join(str(x) for x in self.resolve(items))
            if k == "Fn::Split":
                return str(self.resolve(v[1])).split(v[0])
            if k == "Fn::Select":
                return self.resolve(v[1])[int(self.resolve(v[0]))]
            if k == "Fn::If":
                return self.resolve(v[1] if self.condition(v[0]) else v[2])
            if k == "Fn::Equals":
                a, b = self.resolve(v[0]), self.resolve(v[1])
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self.resolve(v[0])
            if k == "Fn::And":
                return all(self.resolve(x) for x in v)
            if k == "Fn::Or":
                return any(self.resolve(x) for x in v)
            if k == "Condition":
                return self.condition(v)
        out = {}
        for k, v in n.items():
            r = self.resolve(v)
            if r is not NOVALUE:
                out[k] = r
        return out

    def _sub(self, s, extra):
        out, i = [], 0
        while True:
            j = s.find("${", i)
            if j < 0:
                out.append(s[i:])
                return "".join(out)
            out.append(s[i:j])
            k = s.find("}", j)
            name = s[j + 2:k]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in extra:
                out.append(str(extra[name]))
            elif name in self.params:
                p = self.params[name]
                out.append(",".join(p) if isinstance(p, list) else str(p))
            elif name in PSEUDO_VALUES:
                out.append(PSEUDO_VALUES[name])
            else:
                out.append(f"<{name}>")
            i = k + 1

    def event_pattern(self, rule_id):
        p = self.resolve(self.resources[rule_id]["Properties"]["EventPattern"])
        return json.loads(p) if isinstance(p, str) else p


def statements(role_props, both_branches=True):
    """Every statement of a role's inline policies; Fn::If contributes both
    branches (the union of what any parameter choice grants)."""
    out = []

    def add(st):
        if isinstance(st, dict) and set(st) == {"Fn::If"}:
            for b in st["Fn::If"][1:]:
                add(b)
        elif isinstance(st, dict) and st.get("Ref") == "AWS::NoValue":
            return
        elif isinstance(st, dict):
            out.append(st)
    for pol in role_props.get("Policies") or []:
        sts = pol["PolicyDocument"]["Statement"]
        for st in (sts if isinstance(sts, list) else [sts]):
            add(st)
    return out


def as_list(x):
    return x if isinstance(x, list) else [x]


def refs_in(node):
    """Logical ids and parameter names referenced by Ref/GetAtt/Sub."""
    from cfnyaml import walk, sub_refs
    out = set()
    for _, d in walk(node):
        if "Ref" in d and isinstance(d["Ref"], str):
            out.add(d["Ref"])
        if "Fn::GetAtt" in d:
            out.add(d["Fn::GetAtt"][0])
        if "Fn::Sub" in d:
            v = d["Fn::Sub"]
            s = v[0] if isinstance(v, list) else v
            out |= {r.split(".")[0] for r in sub_refs(s)}
    return out - PSEUDO
