"""EC2: security groups and their rules, network interfaces, tags, instances."""
import copy

from protocols import AwsError
from . import Base, rand_id

HEX = "0123456789abcdef"
PROTO = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def _atoms(perms):
    """IpPermissions -> atomic rules (one per source), as AWS stores them."""
    out = []
    for p in perms or []:
        proto = PROTO.get(str(p.get("IpProtocol", "-1")).lower(), str(p.get("IpProtocol", "-1")).lower())
        fp = None if proto == "-1" else p.get("FromPort")
        tp = None if proto == "-1" else p.get("ToPort")
        for r in p.get("IpRanges", []):
            out.append({"proto": proto, "from": fp, "to": tp, "kind": "cidr4", "src": r["CidrIp"],
                        "desc": r.get("Description"), "id": r.get("SecurityGroupRuleId")})
        for r in p.get("Ipv6Ranges", []):
            out.append({"proto": proto, "from": fp, "to": tp, "kind": "cidr6", "src": r["CidrIpv6"],
                        "desc": r.get("Description"), "id": r.get("SecurityGroupRuleId")})
        for r in p.get("UserIdGroupPairs", []):
            out.append({"proto": proto, "from": fp, "to": tp, "kind": "group", "src": r.get("GroupId"),
                        "desc": r.get("Description")})
        for r in p.get("PrefixListIds", []):
            out.append({"proto": proto, "from": fp, "to": tp, "kind": "pl", "src": r["PrefixListId"],
                        "desc": r.get("Description")})
    return out


def _same(a, b):
    return all(a[k] == b[k] for k in ("proto", "from", "to", "kind", "src"))


def _perms(atoms, owner):
    """atomic rules -> IpPermissions grouped by (protocol, ports)."""
    groups = {}
    for a in atoms:
        k = (a["proto"], a["from"], a["to"])
        g = groups.get(k)
        if g is None:
            g = groups[k] = {"IpProtocol": a["proto"], "IpRanges": [], "Ipv6Ranges": [],
                             "UserIdGroupPairs": [], "PrefixListIds": []}
            if a["from"] is not None:
                g["FromPort"] = a["from"]
            if a["to"] is not None:
                g["ToPort"] = a["to"]
        d = {"Description": a["desc"]} if a.get("desc") else {}
        if a["kind"] == "cidr4":
            g["IpRanges"].append(dict(d, CidrIp=a["src"]))
        elif a["kind"] == "cidr6":
            g["Ipv6Ranges"].append(dict(d, CidrIpv6=a["src"]))
        elif a["kind"] == "group":
            g["UserIdGroupPairs"].append(dict(d, GroupId=a["src"], UserId=owner))
        else:
            g["PrefixListIds"].append(dict(d, PrefixListId=a["src"]))
    return list(groups.values())


class Service(Base):
    def reset(self):
        self.groups = {}     # group id -> {"meta":…, "ingress":[atoms], "egress":[atoms]}
        self.enis = {}       # eni id -> description
        self.instances = {}  # instance id -> description
        self.acls = {}       # network ACL id -> description (issue 19)
        self.snapshots = {}  # snapshot id -> description (+ _account, _region)

    def seed(self, section, merge):
        for g in section.get("security_groups", section.get("SecurityGroups", [])):
            g = copy.deepcopy(g)
            acct, region = self.owner(g)
            gid = g.pop("GroupId", None) or "sg-" + rand_id(17, HEX)
            ing = _atoms(g.pop("IpPermissions", []))
            eg = _atoms(g.pop("IpPermissionsEgress", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]))
            for a in ing + eg:
                # a seed may fix a rule's id ("SecurityGroupRuleId" beside the CIDR; issue 19)
                a["id"] = a.get("id") or "sgr-" + rand_id(17, HEX)
            meta = {"GroupId": gid, "GroupName": g.pop("GroupName", gid), "Description": g.pop("Description", ""),
                    "VpcId": g.pop("VpcId", "vpc-0fake"), "OwnerId": acct, "Tags": g.pop("Tags", [])}
            self.groups[gid] = {"meta": meta, "ingress": ing, "egress": eg, "account": acct, "region": region}
        for e in section.get("network_interfaces", section.get("NetworkInterfaces", [])):
            e = copy.deepcopy(e)
            acct, region = self.owner(e)
            e.setdefault("NetworkInterfaceId", "eni-" + rand_id(17, HEX))
            e.setdefault("OwnerId", acct)
            e.setdefault("Status", "in-use")
            e.setdefault("InterfaceType", "interface")
            e.setdefault("VpcId", "vpc-0fake")
            e.setdefault("SubnetId", "subnet-0fake")
            e.setdefault("PrivateIpAddress", "10.0.0.10")
            e.setdefault("TagSet", [])
            e["Groups"] = [self._gref(x) for x in e.get("Groups", [])]
            e["_account"], e["_region"] = acct, region
            self.enis[e["NetworkInterfaceId"]] = e
        for a in section.get("network_acls", section.get("NetworkAcls", [])):
            a = copy.deepcopy(a)
            acct, region = self.owner(a)
            a.setdefault("NetworkAclId", "acl-" + rand_id(17, HEX))
            a.setdefault("VpcId", "vpc-0fake")
            a.setdefault("IsDefault", False)
            a.setdefault("OwnerId", acct)
            a["Associations"] = [dict(x if isinstance(x, dict) else {"SubnetId": x},
                                      NetworkAclId=a["NetworkAclId"],
                                      NetworkAclAssociationId="aclassoc-" + rand_id(17, HEX))
                                 for x in a.get("Associations", [])]
            ents = a.get("Entries") or []
            for eg in (False, True):
                if not any(e["RuleNumber"] == 32767 and e["Egress"] == eg for e in ents):
                    ents.append({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": eg,
                                 "CidrBlock": "0.0.0.0/0"})
            a["Entries"] = ents
            a["_account"], a["_region"] = acct, region
            self.acls[a["NetworkAclId"]] = a
        for i in section.get("instances", section.get("Instances", [])):
            i = copy.deepcopy(i)
            acct, region = self.owner(i)
            i.setdefault("InstanceId", "i-" + rand_id(17, HEX))
            i.setdefault("State", {"Code": 16, "Name": "running"})
            i.setdefault("InstanceType", "t3.micro")
            i.setdefault("Tags", [])
            i.setdefault("BlockDeviceMappings", [])
            i["_account"], i["_region"] = acct, region
            i["_dat"] = bool(i.pop("DisableApiTermination", False))
            i["_console"] = i.pop("ConsoleOutput", "")
            self.instances[i["InstanceId"]] = i

    def _gref(self, x):
        gid = x if isinstance(x, str) else x["GroupId"]
        g = self.groups.get(gid)
        return {"GroupId": gid, "GroupName": g["meta"]["GroupName"] if g else gid}

    def dump(self):
        out = []
        for g in self.groups.values():
            out.append(dict(self._desc(g), account=g["account"], region=g["region"],
                            rules={"ingress": g["ingress"], "egress": g["egress"]}))
        strip = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}  # noqa: E731
        return {"security_groups": out, "network_interfaces": [strip(e) for e in self.enis.values()],
                "network_acls": [strip(a) for a in self.acls.values()],
                "instances": [dict(strip(i), DisableApiTermination=i["_dat"]) for i in self.instances.values()],
                "snapshots": [dict(strip(x), **({"Lock": x["_lock"]} if x.get("_lock") else {}))
                              for x in self.snapshots.values()]}

    def _desc(self, g):
        m = g["meta"]
        return dict(m, IpPermissions=_perms(g["ingress"], m["OwnerId"]),
                    IpPermissionsEgress=_perms(g["egress"], m["OwnerId"]))

    def group(self, ctx, gid):
        g = self.groups.get(gid)
        if g is None or (g["account"], g["region"]) != (ctx.account, ctx.region):
            raise AwsError("InvalidGroup.NotFound", "The security group '%s' does not exist" % gid)
        return g

    def _filters(self, items, filters, getters):
        for f in filters or []:
            name, vals = f["Name"], f.get("Values", [])
            if name.startswith("tag:"):
                k = name[4:]
                items = [x for x in items if any(t["Key"] == k and t["Value"] in vals
                                                 for t in getters["tags"](x))]
            elif name == "tag-key":
                items = [x for x in items if any(t["Key"] in vals for t in getters["tags"](x))]
            elif name in getters:
                items = [x for x in items if set(getters[name](x)) & set(vals)]
            else:
                raise AwsError("InvalidParameterValue", "The filter '%s' is invalid" % name)
        return items

    # ---- security groups
    def op_DescribeSecurityGroups(self, ctx, p):
        gs = [g for g in self.groups.values() if (g["account"], g["region"]) == (ctx.account, ctx.region)]
        if p.get("GroupIds"):
            for gid in p["GroupIds"]:
                self.group(ctx, gid)
            gs = [g for g in gs if g["meta"]["GroupId"] in p["GroupIds"]]
        if p.get("GroupNames"):
            gs = [g for g in gs if g["meta"]["GroupName"] in p["GroupNames"]]
        gs = self._filters(gs, p.get("Filters"), {
            "tags": lambda g: g["meta"]["Tags"], "group-id": lambda g: [g["meta"]["GroupId"]],
            "group-name": lambda g: [g["meta"]["GroupName"]], "vpc-id": lambda g: [g["meta"]["VpcId"]],
            "description": lambda g: [g["meta"]["Description"]], "owner-id": lambda g: [g["meta"]["OwnerId"]]})
        return {"SecurityGroups": [self._desc(g) for g in gs]}

    def op_CreateSecurityGroup(self, ctx, p):
        vpc = p.get("VpcId", "vpc-0fake")
        for g in self.groups.values():
            if g["meta"]["GroupName"] == p["GroupName"] and g["meta"]["VpcId"] == vpc and g["account"] == ctx.account:
                raise AwsError("InvalidGroup.Duplicate",
                               "The security group '%s' already exists for VPC '%s'" % (p["GroupName"], vpc))
        gid = "sg-" + rand_id(17, HEX)
        tags = []
        for ts in p.get("TagSpecifications", []):
            tags += ts.get("Tags", [])
        eg = _atoms([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        for a in eg:
            a["id"] = "sgr-" + rand_id(17, HEX)
        self.groups[gid] = {"meta": {"GroupId": gid, "GroupName": p["GroupName"], "Description": p["Description"],
                                     "VpcId": vpc, "OwnerId": ctx.account, "Tags": tags},
                            "ingress": [], "egress": eg, "account": ctx.account, "region": ctx.region}
        return {"GroupId": gid, "Tags": tags or None}

    def op_DeleteSecurityGroup(self, ctx, p):
        gid = p.get("GroupId")
        if gid is None:
            for g in self.groups.values():
                if g["meta"]["GroupName"] == p.get("GroupName") and g["account"] == ctx.account:
                    gid = g["meta"]["GroupId"]
        self.group(ctx, gid)
        for e in self.enis.values():
            if any(x["GroupId"] == gid for x in e["Groups"]):
                raise AwsError("DependencyViolation", "resource %s has a dependent object" % gid)
        del self.groups[gid]
        return {"Return": True, "GroupId": gid}

    def _rules_out(self, g, atoms, egress):
        return [{"SecurityGroupRuleId": a["id"], "GroupId": g["meta"]["GroupId"], "GroupOwnerId": g["account"],
                 "IsEgress": egress, "IpProtocol": a["proto"], "FromPort": a["from"] if a["from"] is not None else -1,
                 "ToPort": a["to"] if a["to"] is not None else -1,
                 "CidrIpv4": a["src"] if a["kind"] == "cidr4" else None,
                 "CidrIpv6": a["src"] if a["kind"] == "cidr6" else None,
                 "PrefixListId": a["src"] if a["kind"] == "pl" else None,
                 "ReferencedGroupInfo": {"GroupId": a["src"]} if a["kind"] == "group" else None,
                 "Description": a.get("desc"), "Tags": a.get("tags") or None} for a in atoms]

    def _authorize(self, ctx, p, which):
        g = self.group(ctx, p["GroupId"])
        new = _atoms(p.get("IpPermissions") or [])
        if not new and p.get("CidrIp"):
            new = _atoms([{"IpProtocol": p.get("IpProtocol", "-1"), "FromPort": p.get("FromPort"),
                           "ToPort": p.get("ToPort"), "IpRanges": [{"CidrIp": p["CidrIp"]}]}])
        if not new:
            raise AwsError("MissingParameter", "The request must contain the parameter ipPermissions")
        for a in new:
            if a["kind"] == "group" and a["src"] not in self.groups:
                raise AwsError("InvalidGroup.NotFound", "The security group '%s' does not exist" % a["src"])
            if any(_same(a, b) for b in g[which]):
                raise AwsError("InvalidPermission.Duplicate",
                               "the specified rule \"peer: %s, %s, ALLOW\" already exists" % (a["src"], a["proto"].upper()))
        tags = [t for ts in p.get("TagSpecifications", []) if ts.get("ResourceType") == "security-group-rule"
                for t in ts.get("Tags", [])]
        for a in new:
            a["id"] = "sgr-" + rand_id(17, HEX)
            a["tags"] = copy.deepcopy(tags)
        g[which] += new
        return {"Return": True, "SecurityGroupRules": self._rules_out(g, new, which == "egress")}

    def _revoke(self, ctx, p, which):
        g = self.group(ctx, p["GroupId"])
        if p.get("SecurityGroupRuleIds"):
            for rid in p["SecurityGroupRuleIds"]:
                if not any(a["id"] == rid for a in g[which]):
                    raise AwsError("InvalidSecurityGroupRuleId.NotFound",
                                   "The security group rule ID '%s' does not exist" % rid)
            g[which] = [a for a in g[which] if a["id"] not in p["SecurityGroupRuleIds"]]
            return {"Return": True}
        gone = _atoms(p.get("IpPermissions") or [])
        if not gone:
            raise AwsError("MissingParameter", "The request must contain the parameter ipPermissions")
        for a in gone:
            if not any(_same(a, b) for b in g[which]):
                raise AwsError("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
        g[which] = [b for b in g[which] if not any(_same(a, b) for a in gone)]
        return {"Return": True}

    def op_AuthorizeSecurityGroupEgress(self, ctx, p):
        return self._authorize(ctx, p, "egress")

    def op_AuthorizeSecurityGroupIngress(self, ctx, p):
        return self._authorize(ctx, p, "ingress")

    def op_RevokeSecurityGroupEgress(self, ctx, p):
        return self._revoke(ctx, p, "egress")

    def op_RevokeSecurityGroupIngress(self, ctx, p):
        return self._revoke(ctx, p, "ingress")

    # ---- network interfaces
    def _eni(self, ctx, eid):
        e = self.enis.get(eid)
        if e is None or (e["_account"], e["_region"]) != (ctx.account, ctx.region):
            raise AwsError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist" % eid)
        return e

    def op_DescribeNetworkInterfaces(self, ctx, p):
        es = [e for e in self.enis.values() if (e["_account"], e["_region"]) == (ctx.account, ctx.region)]
        if p.get("NetworkInterfaceIds"):
            for eid in p["NetworkInterfaceIds"]:
                self._eni(ctx, eid)
            es = [e for e in es if e["NetworkInterfaceId"] in p["NetworkInterfaceIds"]]
        es = self._filters(es, p.get("Filters"), {
            "tags": lambda e: e["TagSet"], "network-interface-id": lambda e: [e["NetworkInterfaceId"]],
            "group-id": lambda e: [g["GroupId"] for g in e["Groups"]], "vpc-id": lambda e: [e["VpcId"]],
            "subnet-id": lambda e: [e["SubnetId"]], "private-ip-address": lambda e: [e["PrivateIpAddress"]],
            "addresses.private-ip-address": lambda e: [e["PrivateIpAddress"]],
            "attachment.instance-id": lambda e: [(e.get("Attachment") or {}).get("InstanceId")],
            "status": lambda e: [e["Status"]],
            # issue 19: the account's own public addresses
            "association.public-ip": lambda e: [(e.get("Association") or {}).get("PublicIp")],
            "ipv6-addresses.ipv6-address": lambda e: [x.get("Ipv6Address") for x in e.get("Ipv6Addresses", [])]})
        return {"NetworkInterfaces": [{k: v for k, v in e.items() if not k.startswith("_")} for e in es]}

    def op_ModifyNetworkInterfaceAttribute(self, ctx, p):
        e = self._eni(ctx, p["NetworkInterfaceId"])
        if p.get("Groups") is not None:
            if not p["Groups"]:
                raise AwsError("InvalidParameterValue", "You must specify at least one security group")
            for gid in p["Groups"]:
                g = self.group(ctx, gid)
                if g["meta"]["VpcId"] != e["VpcId"]:
                    raise AwsError("InvalidParameter", "Security group %s and interface %s belong to different "
                                   "networks." % (gid, e["NetworkInterfaceId"]))
            e["Groups"] = [self._gref(g) for g in p["Groups"]]
        if p.get("Description") is not None:
            e["Description"] = p["Description"].get("Value")
        return None

    # ---- tags, instances
    def _tag_target(self, rid):
        if rid in self.groups:
            return self.groups[rid]["meta"]["Tags"], self.groups[rid]["meta"]
        if rid in self.enis:
            return self.enis[rid]["TagSet"], None
        if rid in self.instances:
            return self.instances[rid]["Tags"], None
        kind = {"sg": "InvalidGroup.NotFound", "eni": "InvalidNetworkInterfaceID.NotFound",
                "i": "InvalidInstanceID.NotFound"}.get(rid.split("-")[0], "InvalidID")
        raise AwsError(kind, "The ID '%s' does not exist" % rid)

    def op_CreateTags(self, ctx, p):
        for rid in p["Resources"]:
            tags, _ = self._tag_target(rid)
            for t in p["Tags"]:
                tags[:] = [x for x in tags if x["Key"] != t["Key"]] + [{"Key": t["Key"], "Value": t.get("Value", "")}]
        return None

    def op_DeleteTags(self, ctx, p):
        for rid in p["Resources"]:
            tags, _ = self._tag_target(rid)
            keys = {t["Key"] for t in p.get("Tags", [])}
            tags[:] = [x for x in tags if keys and x["Key"] not in keys]
        return None

    def _instance(self, ctx, iid):
        i = self.instances.get(iid)
        if i is None or (i["_account"], i["_region"]) != (ctx.account, ctx.region):
            raise AwsError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist" % iid)
        return i

    def _instance_out(self, i):
        """An instance as DescribeInstances shows it: its interfaces (and the
        primary one's groups) are the ENIs attached to it now."""
        out = {k: v for k, v in i.items() if not k.startswith("_")}
        nis = []
        for e in self.enis.values():
            att = e.get("Attachment") or {}
            if att.get("InstanceId") != i["InstanceId"]:
                continue
            nis.append({"NetworkInterfaceId": e["NetworkInterfaceId"], "VpcId": e["VpcId"],
                        "SubnetId": e["SubnetId"], "PrivateIpAddress": e["PrivateIpAddress"],
                        "Status": e["Status"], "OwnerId": e["OwnerId"], "Groups": e["Groups"],
                        "InterfaceType": e["InterfaceType"],
                        "Attachment": {"AttachmentId": att.get("AttachmentId", "eni-attach-0"),
                                       "DeviceIndex": att.get("DeviceIndex", 0), "Status": "attached",
                                       "DeleteOnTermination": att.get("DeleteOnTermination", True)}})
        if nis:
            nis.sort(key=lambda n: n["Attachment"]["DeviceIndex"])
            out["NetworkInterfaces"] = nis
            out["SecurityGroups"] = nis[0]["Groups"]
            out.setdefault("VpcId", nis[0]["VpcId"])
            out.setdefault("SubnetId", nis[0]["SubnetId"])
        return out

    def op_DescribeInstances(self, ctx, p):
        ins = [i for i in self.instances.values() if (i["_account"], i["_region"]) == (ctx.account, ctx.region)]
        if p.get("InstanceIds"):
            for iid in p["InstanceIds"]:
                if iid not in self.instances:
                    raise AwsError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist" % iid)
            ins = [i for i in ins if i["InstanceId"] in p["InstanceIds"]]
        ins = self._filters(ins, p.get("Filters"), {
            "tags": lambda i: i["Tags"], "instance-id": lambda i: [i["InstanceId"]],
            "instance-state-name": lambda i: [i["State"]["Name"]],
            "iam-instance-profile.arn": lambda i: [(i.get("IamInstanceProfile") or {}).get("Arn")]})
        return {"Reservations": [{"ReservationId": "r-" + i["InstanceId"][2:], "OwnerId": i["_account"],
                                  "Instances": [self._instance_out(i)]}
                                 for i in ins]}

    # ---- issue 19: rules by id, network ACLs
    def op_DescribeSecurityGroupRules(self, ctx, p):
        rules = []
        for g in self.groups.values():
            if (g["account"], g["region"]) != (ctx.account, ctx.region):
                continue
            rules += self._rules_out(g, g["ingress"], False) + self._rules_out(g, g["egress"], True)
        ids = p.get("SecurityGroupRuleIds")
        if ids:
            for rid in ids:
                if not any(r["SecurityGroupRuleId"] == rid for r in rules):
                    raise AwsError("InvalidSecurityGroupRuleId.NotFound",
                                   "The security group rule ID '%s' does not exist" % rid)
            rules = [r for r in rules if r["SecurityGroupRuleId"] in ids]
        rules = self._filters(rules, p.get("Filters"), {
            "tags": lambda r: r.get("Tags") or [], "group-id": lambda r: [r["GroupId"]],
            "security-group-rule-id": lambda r: [r["SecurityGroupRuleId"]]})
        size = p.get("MaxResults") or 1000
        if p.get("MaxResults") is not None and not 5 <= size <= 1000:
            raise AwsError("InvalidParameterValue", "MaxResults must be between 5 and 1000")
        start = int(p.get("NextToken") or 0)
        page = rules[start:start + size]
        out = {"SecurityGroupRules": page}
        if start + size < len(rules):
            out["NextToken"] = str(start + size)
        return out

    def op_ModifySecurityGroupRules(self, ctx, p):
        g = self.group(ctx, p["GroupId"])
        for m in p["SecurityGroupRules"]:
            a = next((x for x in g["ingress"] + g["egress"] if x["id"] == m["SecurityGroupRuleId"]), None)
            if a is None:
                raise AwsError("InvalidSecurityGroupRuleId.NotFound",
                               "The security group rule ID '%s' does not exist" % m["SecurityGroupRuleId"])
            r = m.get("SecurityGroupRule") or {}
            proto = PROTO.get(str(r.get("IpProtocol", a["proto"])).lower(), str(r.get("IpProtocol", a["proto"])).lower())
            a["proto"] = proto
            a["from"] = None if proto == "-1" else r.get("FromPort", a["from"])
            a["to"] = None if proto == "-1" else r.get("ToPort", a["to"])
            for k, kind in (("CidrIpv4", "cidr4"), ("CidrIpv6", "cidr6"), ("PrefixListId", "pl"),
                            ("ReferencedGroupId", "group")):
                if r.get(k):
                    a["kind"], a["src"] = kind, r[k]
            if "Description" in r:
                a["desc"] = r["Description"]
        return {"Return": True}

    def _acl(self, ctx, aid):
        a = self.acls.get(aid)
        if a is None or (a["_account"], a["_region"]) != (ctx.account, ctx.region):
            raise AwsError("InvalidNetworkAclID.NotFound", "The network ACL ID '%s' does not exist" % aid)
        return a

    def op_DescribeNetworkAcls(self, ctx, p):
        acls = [a for a in self.acls.values() if (a["_account"], a["_region"]) == (ctx.account, ctx.region)]
        if p.get("NetworkAclIds"):
            for aid in p["NetworkAclIds"]:
                self._acl(ctx, aid)
            acls = [a for a in acls if a["NetworkAclId"] in p["NetworkAclIds"]]
        acls = self._filters(acls, p.get("Filters"), {
            "tags": lambda a: a.get("Tags") or [], "network-acl-id": lambda a: [a["NetworkAclId"]],
            "vpc-id": lambda a: [a["VpcId"]],
            "association.subnet-id": lambda a: [x["SubnetId"] for x in a["Associations"]],
            "entry.cidr": lambda a: [e.get("CidrBlock") for e in a["Entries"]],
            "entry.ipv6-cidr": lambda a: [e.get("Ipv6CidrBlock") for e in a["Entries"]],
            "entry.rule-action": lambda a: [e["RuleAction"] for e in a["Entries"]]})
        return {"NetworkAcls": [{k: v for k, v in a.items() if not k.startswith("_")} for a in acls]}

    def op_CreateNetworkAclEntry(self, ctx, p):
        a = self._acl(ctx, p["NetworkAclId"])
        if not 1 <= p["RuleNumber"] <= 32766:
            raise AwsError("InvalidParameterValue", "Invalid value for rule number %s" % p["RuleNumber"])
        if any(e["RuleNumber"] == p["RuleNumber"] and e["Egress"] == p["Egress"] for e in a["Entries"]):
            raise AwsError("NetworkAclEntryAlreadyExists",
                           "The network acl entry identified by %s already exists." % p["RuleNumber"])
        if bool(p.get("CidrBlock")) == bool(p.get("Ipv6CidrBlock")):
            raise AwsError("InvalidParameterCombination", "Either CidrBlock or Ipv6CidrBlock must be given")
        e = {"RuleNumber": p["RuleNumber"], "Protocol": p["Protocol"], "RuleAction": p["RuleAction"],
             "Egress": p["Egress"]}
        for k in ("CidrBlock", "Ipv6CidrBlock", "PortRange", "IcmpTypeCode"):
            if p.get(k) is not None:
                e[k] = p[k]
        a["Entries"].append(e)
        return None

    def op_DeleteNetworkAclEntry(self, ctx, p):
        a = self._acl(ctx, p["NetworkAclId"])
        n = len(a["Entries"])
        a["Entries"] = [e for e in a["Entries"] if not (e["RuleNumber"] == p["RuleNumber"] and
                                                           e["Egress"] == p["Egress"])]
        if len(a["Entries"]) == n:
            raise AwsError("InvalidNetworkAclEntry.NotFound",
                           "The network acl entry identified by %s does not exist." % p["RuleNumber"])
        return None
    # ---- instance attributes, state (issue 20)
    def op_DescribeInstanceAttribute(self, ctx, p):
        i = self._instance(ctx, p["InstanceId"])
        a = p["Attribute"]
        out = {"InstanceId": i["InstanceId"]}
        if a == "disableApiTermination":
            out["DisableApiTermination"] = {"Value": i["_dat"]}
        elif a == "blockDeviceMapping":
            out["BlockDeviceMappings"] = i["BlockDeviceMappings"]
        elif a == "groupSet":
            out["Groups"] = self._instance_out(i).get("SecurityGroups", [])
        else:
            raise AwsError("InvalidParameterValue", "fakeaws: attribute %s is not emulated" % a)
        return out

    def op_ModifyInstanceAttribute(self, ctx, p):
        i = self._instance(ctx, p["InstanceId"])
        if p.get("DisableApiTermination") is not None:
            i["_dat"] = bool(p["DisableApiTermination"]["Value"])
        for m in p.get("BlockDeviceMappings") or []:
            cur = [b for b in i["BlockDeviceMappings"] if b["DeviceName"] == m.get("DeviceName")]
            if not cur or "Ebs" not in cur[0]:
                raise AwsError("InvalidInstanceAttributeValue", "No device is currently mapped at %s"
                               % m.get("DeviceName"))
            if (m.get("Ebs") or {}).get("DeleteOnTermination") is not None:
                cur[0]["Ebs"]["DeleteOnTermination"] = bool(m["Ebs"]["DeleteOnTermination"])
        return None

    def _state(self, i, name, code):
        prev = dict(i["State"])
        i["State"] = {"Code": code, "Name": name}
        return {"InstanceId": i["InstanceId"], "CurrentState": i["State"], "PreviousState": prev}

    def op_StopInstances(self, ctx, p):
        ins = [self._instance(ctx, iid) for iid in p["InstanceIds"]]
        return {"StoppingInstances": [self._state(i, "stopped", 80) for i in ins]}

    def op_StartInstances(self, ctx, p):
        ins = [self._instance(ctx, iid) for iid in p["InstanceIds"]]
        return {"StartingInstances": [self._state(i, "running", 16) for i in ins]}

    def op_TerminateInstances(self, ctx, p):
        ins = [self._instance(ctx, iid) for iid in p["InstanceIds"]]
        for i in ins:
            if i["_dat"]:
                raise AwsError("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its "
                               "'disableApiTermination' instance attribute and try again." % i["InstanceId"])
        out = [self._state(i, "terminated", 48) for i in ins]
        for i in ins:  # volumes with DeleteOnTermination go with it
            i["BlockDeviceMappings"] = [b for b in i["BlockDeviceMappings"]
                                        if not (b.get("Ebs") or {}).get("DeleteOnTermination")]
        return {"TerminatingInstances": out}

    def op_GetConsoleOutput(self, ctx, p):
        import base64
        i = self._instance(ctx, p["InstanceId"])
        return {"InstanceId": i["InstanceId"], "Timestamp": 1600000000,
                "Output": base64.b64encode(i["_console"].encode()).decode() if i["_console"] else None}

    # ---- snapshots (issue 20)
    def op_CreateSnapshots(self, ctx, p):
        spec = p["InstanceSpecification"]
        i = self._instance(ctx, spec["InstanceId"])
        tags = []
        for ts in p.get("TagSpecifications", []):
            if ts.get("ResourceType") not in (None, "snapshot"):
                raise AwsError("InvalidParameterValue", "TagSpecification resource type must be snapshot")
            tags += ts.get("Tags", [])
        out = []
        for n, b in enumerate(i["BlockDeviceMappings"]):
            ebs = b.get("Ebs")
            if not ebs or (n == 0 and spec.get("ExcludeBootVolume")):
                continue
            sid = "snap-" + rand_id(17, HEX)
            snap = {"SnapshotId": sid, "VolumeId": ebs["VolumeId"], "State": "pending", "Progress": "0%",
                    "StartTime": 1600000000, "Description": p.get("Description", ""), "OwnerId": ctx.account,
                    "VolumeSize": ebs.get("VolumeSize", 8), "Encrypted": False, "Tags": list(tags),
                    "_account": ctx.account, "_region": ctx.region}
            self.snapshots[sid] = snap
            out.append({k: v for k, v in snap.items() if not k.startswith("_") and k != "VolumeSize"
                        and k != "OwnerId"} | {"OwnerId": ctx.account, "VolumeSize": snap["VolumeSize"]})
        return {"Snapshots": out}

    def _snapshot(self, ctx, sid):
        x = self.snapshots.get(sid)
        if not x or (x["_account"], x["_region"]) != (ctx.account, ctx.region):
            raise AwsError("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist." % sid)
        return x

    def op_LockSnapshot(self, ctx, p):
        """Lock by duration (days) or to a date; compliance or governance.
        A compliance lock past its cool-off cannot be changed (AWS's rule)."""
        x = self._snapshot(ctx, p["SnapshotId"])
        if ("LockDuration" in p) == ("ExpirationDate" in p):
            raise AwsError("InvalidParameterCombination", "Specify either LockDuration or ExpirationDate.")
        if p.get("CoolOffPeriod") and p["LockMode"] != "compliance":
            raise AwsError("InvalidParameterCombination", "CoolOffPeriod applies to compliance mode only.")
        old = x.get("_lock")
        if old and old["LockState"] == "compliance":
            raise AwsError("IncorrectState", "The snapshot is locked in compliance mode.")
        now = int(ctx.now)
        exp = p["ExpirationDate"] if "ExpirationDate" in p else now + 86400 * int(p["LockDuration"])
        if hasattr(exp, "timestamp"):
            exp = int(exp.timestamp())
        lock = {"SnapshotId": x["SnapshotId"], "LockState": p["LockMode"], "LockCreatedOn": now,
                "LockExpiresOn": exp, "LockDurationStartTime": now}
        if "LockDuration" in p:
            lock["LockDuration"] = int(p["LockDuration"])
        if p.get("CoolOffPeriod"):
            lock["LockState"] = "compliance-cooloff"
            lock["CoolOffPeriod"] = int(p["CoolOffPeriod"])
            lock["CoolOffPeriodExpiresOn"] = now + 3600 * int(p["CoolOffPeriod"])
        x["_lock"] = lock
        return dict(lock)

    def op_UnlockSnapshot(self, ctx, p):
        x = self._snapshot(ctx, p["SnapshotId"])
        lock = x.get("_lock")
        if not lock:
            raise AwsError("IncorrectState", "The snapshot is not locked.")
        if lock["LockState"] == "compliance":
            raise AwsError("IncorrectState", "The snapshot is locked in compliance mode.")
        del x["_lock"]
        return {"SnapshotId": x["SnapshotId"]}

    def op_DescribeSnapshots(self, ctx, p):
        ss = [x for x in self.snapshots.values() if (x["_account"], x["_region"]) == (ctx.account, ctx.region)]
        if p.get("SnapshotIds"):
            ss = [x for x in ss if x["SnapshotId"] in p["SnapshotIds"]]
        ss = self._filters(ss, p.get("Filters"), {
            "tags": lambda x: x["Tags"], "volume-id": lambda x: [x["VolumeId"]],
            "snapshot-id": lambda x: [x["SnapshotId"]], "status": lambda x: [x["State"]],
            "owner-id": lambda x: [x["OwnerId"]]})
        for x in ss:  # snapshots complete once looked at again (the fake's clock)
            if x["State"] == "pending":
                x["State"], x["Progress"] = "completed", "100%"
        return {"Snapshots": [{k: v for k, v in x.items() if not k.startswith("_")} for x in ss]}
