"""CloudFormation-flavoured YAML for the infra tests (PyYAML, /usr/bin/python3).

load(path) returns the template as plain dicts/lists, with every short-form
tag turned into its long form ({"Fn::Sub": ...}, {"Ref": ...}), which is what
CloudFormation itself does before it reads a template. !GetAtt "A.B" becomes
{"Fn::GetAtt": ["A", "B"]} like the service does.
"""
import yaml

# Short tag -> long key. !Ref and !Condition are not Fn::-prefixed.
_TAGS = {
    "Ref": "Ref", "Condition": "Condition",
    "Sub": "Fn::Sub", "GetAtt": "Fn::GetAtt", "If": "Fn::If", "Equals": "Fn::Equals",
    "Join": "Fn::Join", "Select": "Fn::Select", "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap", "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or",
    "Base64": "Fn::Base64", "Cidr": "Fn::Cidr", "ImportValue": "Fn::ImportValue",
    "GetAZs": "Fn::GetAZs", "Transform": "Fn::Transform", "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
}


class Loader(yaml.SafeLoader):
    pass


def _construct(tag):
    key = _TAGS[tag]

    def make(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                res, _, attr = value.partition(".")
                value = [res, attr]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}
    return make


for _t in _TAGS:
    Loader.add_constructor("!" + _t, _construct(_t))

# YAML 1.1 reads on/off/yes/no as booleans; CloudFormation (YAML 1.1 too)
# does the same, so the SafeLoader default is the right model here.


def loads(text):
    return yaml.load(text, Loader=Loader)


def load(path):
    with open(path, encoding="utf-8") as f:
        return loads(f.read())


PSEUDO = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
          "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}


def walk(node, path=()):
    """Yields (path, dict) for every mapping in the tree."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def sub_refs(s):
    """Names referenced by a Fn::Sub string: ${Name} and ${Res.Attr}; ${!x} is literal."""
    out, i = [], 0
    while True:
        i = s.find("${", i)
        if i < 0:
            return out
        j = s.find("}", i)
        if j < 0:
            return out
        name = s[i + 2:j]
        if not name.startswith("!"):
            out.append(name)
        i = j + 1
