/*
 * sg: EC2 security groups (sg.h). Inputs in EC2's wire names, answers as
 * the AWS layer gives EC2's XML, the empty-group kit sequence.
 */
#include "sg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

const cJSON *sg_list(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsArray(it) ? it : NULL;
}

enum fb_err sg_eni_from_json(const cJSON *out, struct sg_eni *e)
{
	const cJSON *eni = cJSON_GetArrayItem(sg_list(out, "networkInterfaceSet"), 0), *g;
	const char *rm;

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(eni))
		return FB_E_NOTFOUND;
	buf_copy_id(e->id, sizeof(e->id), resp_get_str(eni, "networkInterfaceId"));
	buf_copy_id(e->vpc, sizeof(e->vpc), resp_get_str(eni, "vpcId"));
	buf_copy_id(e->subnet, sizeof(e->subnet), resp_get_str(eni, "subnetId"));
	rm = resp_get_str(eni, "requesterManaged");
	e->requester_managed = rm && !strcmp(rm, "true");
	cJSON_ArrayForEach(g, sg_list(eni, "groupSet")) {
		const char *id = resp_get_str(g, "groupId");

		if (!id || e->ngroups == SG_MAX_GROUPS)
			continue;
		buf_copy_id(e->groups[e->ngroups], sizeof(e->groups[0]), id);
		buf_copy_id(e->group_names[e->ngroups], sizeof(e->group_names[0]), resp_get_str(g, "groupName"));
		e->ngroups++;
	}
	return e->id[0] && e->vpc[0] ? FB_OK : FB_E_PARSE;
}

cJSON *sg_ids(const char *member, const char *id)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddItemToArray(cJSON_AddArrayToObject(in, member), cJSON_CreateString(id));
	return in;
}

cJSON *sg_filter(cJSON *in, const char *name, const char *value)
{
	cJSON *fl = cJSON_GetObjectItemCaseSensitive(in, "Filter"), *f = cJSON_CreateObject(), *v;

	if (!fl)
		fl = cJSON_AddArrayToObject(in, "Filter");
	if (!f || !cJSON_AddItemToArray(fl, f)) {
		cJSON_Delete(f);
		return NULL;
	}
	cJSON_AddStringToObject(f, "Name", name);
	v = cJSON_AddArrayToObject(f, "Value");
	if (value)
		cJSON_AddItemToArray(v, cJSON_CreateString(value));
	return v;
}

cJSON *sg_create_in(const char *name, const char *desc, const char *vpc, const char *const *tags)
{
	cJSON *in = cJSON_CreateObject(), *spec = cJSON_CreateObject(), *tl;

	cJSON_AddStringToObject(in, "GroupName", name);
	cJSON_AddStringToObject(in, "GroupDescription", desc);
	cJSON_AddStringToObject(in, "VpcId", vpc);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "TagSpecification"), spec);
	cJSON_AddStringToObject(spec, "ResourceType", "security-group");
	tl = cJSON_AddArrayToObject(spec, "Tag");
	for (; tags && tags[0] && tags[1]; tags += 2) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "Key", tags[0]);
		cJSON_AddStringToObject(t, "Value", tags[1]);
		cJSON_AddItemToArray(tl, t);
	}
	return in;
}

cJSON *sg_swap_in(const char *eni, const char *gid)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddStringToObject(in, "NetworkInterfaceId", eni);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "SecurityGroupId"), cJSON_CreateString(gid));
	return in;
}

cJSON *sg_swap_undo(const char *step, const char *eni, cJSON *groups)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "NetworkInterfaceId", eni);
	cJSON_AddItemToObject(a, "Groups", groups);
	return step ? kit_undo_step(step, "ec2:ModifyNetworkInterfaceAttribute", a)
		    : kit_undo("ec2:ModifyNetworkInterfaceAttribute", a);
}

/* ---- rules -------------------------------------------------------------------------- */

static int add_int_from_str(cJSON *o, const char *name, const char *s)
{
	char *end;
	long v;

	if (!s)
		return 1;
	v = strtol(s, &end, 10);
	if (*end || end == s)
		return 0;
	return cJSON_AddNumberToObject(o, name, (double)v) != NULL;
}

/* One list of an EC2 permission ({ipRanges:[{cidrIp, description}]}) into
 * the botocore shape ({IpRanges:[{CidrIp, Description}]}). */
static int perm_list(const cJSON *src, const char *from, cJSON *dst, const char *to,
		     const char *key_from, const char *key_to)
{
	const cJSON *arr = sg_list(src, from), *it;
	cJSON *out;

	if (!arr || !cJSON_GetArraySize(arr))
		return 1;
	out = cJSON_AddArrayToObject(dst, to);
	if (!out)
		return 0;
	cJSON_ArrayForEach(it, arr) {
		cJSON *o = cJSON_CreateObject();
		const char *v = resp_get_str(it, key_from), *d = resp_get_str(it, "description");

		if (!o || !cJSON_AddItemToArray(out, o))
			return 0;
		if (v && !cJSON_AddStringToObject(o, key_to, v))
			return 0;
		if (!strcmp(key_to, "GroupId") && resp_get_str(it, "userId") &&
		    !cJSON_AddStringToObject(o, "UserId", resp_get_str(it, "userId")))
			return 0;
		if (d && !cJSON_AddStringToObject(o, "Description", d))
			return 0;
	}
	return 1;
}

cJSON *sg_perms_from_ec2(const cJSON *ip_permissions)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *p;

	if (!out)
		return NULL;
	cJSON_ArrayForEach(p, ip_permissions) {
		cJSON *o = cJSON_CreateObject();
		const char *proto = resp_get_str(p, "ipProtocol");

		if (!o || !cJSON_AddItemToArray(out, o) || !proto ||
		    !cJSON_AddStringToObject(o, "IpProtocol", proto) ||
		    !add_int_from_str(o, "FromPort", resp_get_str(p, "fromPort")) ||
		    !add_int_from_str(o, "ToPort", resp_get_str(p, "toPort")) ||
		    !perm_list(p, "ipRanges", o, "IpRanges", "cidrIp", "CidrIp") ||
		    !perm_list(p, "ipv6Ranges", o, "Ipv6Ranges", "cidrIpv6", "CidrIpv6") ||
		    !perm_list(p, "prefixListIds", o, "PrefixListIds", "prefixListId", "PrefixListId") ||
		    !perm_list(p, "groups", o, "UserIdGroupPairs", "groupId", "GroupId")) {
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

/* {key: v}, NULL when v is NULL. */
static cJSON *obj_key(const char *key, const char *v)
{
	cJSON *o = v ? cJSON_CreateObject() : NULL;

	if (o && !cJSON_AddStringToObject(o, key, v)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

cJSON *sg_perms_wire(const cJSON *perms)
{
	static const struct { const char *list, *wire, *key; } L[] = {
		{ "IpRanges", "IpRanges", "CidrIp" },
		{ "Ipv6Ranges", "Ipv6Ranges", "CidrIpv6" },
		{ "PrefixListIds", "PrefixListIds", "PrefixListId" },
		{ "UserIdGroupPairs", "Groups", "GroupId" },
	};
	cJSON *out = cJSON_CreateArray();
	const cJSON *p;
	size_t l;

	cJSON_ArrayForEach(p, perms) {
		const cJSON *from = cJSON_GetObjectItemCaseSensitive(p, "FromPort");
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(p, "ToPort");
		cJSON *w = cJSON_CreateObject();

		if (!w || !cJSON_AddItemToArray(out, w) || !resp_get_str(p, "IpProtocol"))
			goto bad;
		cJSON_AddStringToObject(w, "IpProtocol", resp_get_str(p, "IpProtocol"));
		if (cJSON_IsNumber(from))
			cJSON_AddNumberToObject(w, "FromPort", from->valueint);
		if (cJSON_IsNumber(to))
			cJSON_AddNumberToObject(w, "ToPort", to->valueint);
		for (l = 0; l < sizeof(L) / sizeof(L[0]); l++) {
			const cJSON *it, *src = cJSON_GetObjectItemCaseSensitive(p, L[l].list);
			cJSON *dst;

			if (!cJSON_GetArraySize(src))
				continue;
			dst = cJSON_AddArrayToObject(w, L[l].wire);
			cJSON_ArrayForEach(it, src) {
				cJSON *x = obj_key(L[l].key, resp_get_str(it, L[l].key));

				if (!x || !cJSON_AddItemToArray(dst, x))
					goto bad;
				if (resp_get_str(it, "UserId"))
					cJSON_AddStringToObject(x, "UserId", resp_get_str(it, "UserId"));
			}
		}
	}
	return out;
bad:
	cJSON_Delete(out);
	return NULL;
}

enum resp_status sg_egress_revoke(const cJSON *sg, const char *undo_step, cJSON **in, cJSON **undo)
{
	const char *gid = resp_get_str(sg, "groupId");
	const cJSON *eg = sg_list(sg, "ipPermissionsEgress");
	cJSON *perms, *wire;

	*in = *undo = NULL;
	if (!gid)
		return RESP_FAILED;
	if (!eg || !cJSON_GetArraySize(eg))
		return RESP_ALREADY;
	perms = sg_perms_from_ec2(eg);
	wire = perms ? sg_perms_wire(perms) : NULL;
	if (!wire) {
		cJSON_Delete(perms);
		return RESP_FAILED;
	}
	*in = cJSON_CreateObject();
	cJSON_AddStringToObject(*in, "GroupId", gid);
	cJSON_AddItemToObject(*in, "IpPermissions", wire);
	if (undo_step) {
		cJSON *args = cJSON_CreateObject();

		cJSON_AddStringToObject(args, "GroupId", gid);
		cJSON_AddItemToObject(args, "IpPermissions", perms);
		*undo = kit_undo_step(undo_step, "ec2:AuthorizeSecurityGroupEgress", args);
	} else {
		cJSON_Delete(perms);
	}
	return RESP_DONE;
}

/* ---- a group with no rules ------------------------------------------------------------ */

/* The group's id: created now (its undo, a delete, is known only now), or
 * made by an earlier delivery of this incident (found by name in the VPC,
 * with its default rules read in the same call). Returns the
 * DescribeSecurityGroups step for the group's rules, added to rd. */
static struct kit_step *empty_group_id(struct kit *k, struct kit_round *rd, struct sg_empty *sg)
{
	struct kit_round *cr = kit_round_new(k);
	struct kit_step *create, *d;
	cJSON *del;

	create = kit_add(cr, &(struct kit_spec){ .step = "create-quarantine-group", .service = "ec2",
		.op = "CreateSecurityGroup", .target = sg->name, .kind = RESP_WRITE,
		.in = sg_create_in(sg->name, sg->desc, sg->vpc, sg->tags), .already = "InvalidGroup.Duplicate" });
	kit_run(cr);
	sg->id[0] = '\0';
	if (kit_status(create) == RESP_DONE) {
		buf_copy_str(sg->id, sizeof(sg->id), resp_get_str(kit_out(create), "groupId"));
		if (sg->id[0]) {
			del = cJSON_CreateObject();
			cJSON_AddStringToObject(del, "GroupId", sg->id);
			resp_restore_add(k->r, kit_undo_step("create-quarantine-group", "ec2:DeleteSecurityGroup", del));
		}
		kit_detail(create, "%s", sg->id);
		d = kit_add(rd, &(struct kit_spec){ .step = "describe-quarantine-group", .service = "ec2",
			.op = "DescribeSecurityGroups", .target = sg->id, .kind = RESP_READ,
			.in = sg_ids("GroupId", sg->id), .detail = "its default egress rules read" });
	} else if (kit_status(create) == RESP_ALREADY) {
		/* An earlier delivery of this incident made it: find it. */
		cJSON *f = cJSON_CreateObject();

		sg_filter(f, "group-name", sg->name);
		sg_filter(f, "vpc-id", sg->vpc);
		d = kit_add(rd, &(struct kit_spec){ .step = "describe-quarantine-group", .service = "ec2",
			.op = "DescribeSecurityGroups", .target = sg->name, .kind = RESP_READ, .in = f,
			.detail = "its default egress rules read" });
		kit_run(rd);
		buf_copy_str(sg->id, sizeof(sg->id),
			     resp_get_str(cJSON_GetArrayItem(sg_list(kit_out(d), "securityGroupInfo"), 0), "groupId"));
		if (sg->id[0])
			kit_detail(create, "%s", sg->id);
		else
			kit_fail(create, "the quarantine group exists but cannot be found");
	} else {
		kit_detail(create, "cannot create the quarantine group");
		d = NULL;
	}
	/* Not required: the caller's fallback steps are, so the report is an
	 * error only when the resource ends up not isolated. */
	if (!sg->id[0])
		kit_set_optional(create);
	kit_round_free(cr);
	return d;
}

int sg_empty_group(struct kit *k, struct sg_empty *sg)
{
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *d = empty_group_id(k, rd, sg), *rv;
	cJSON *in, *undo;
	enum resp_status st;

	sg->failed = 0;
	if (!sg->id[0]) {
		kit_round_free(rd);
		return 0;
	}
	/* Its default rules: read, then revoke exactly those. */
	kit_run(rd);
	if (!kit_ok(d)) {
		kit_detail(d, "its default egress rules read");
		sg->failed = 1;
		kit_round_free(rd);
		return 0;
	}
	st = sg_egress_revoke(cJSON_GetArrayItem(sg_list(kit_out(d), "securityGroupInfo"), 0), NULL, &in, &undo);
	rv = kit_add(rd, &(struct kit_spec){ .step = "revoke-quarantine-egress", .service = "ec2",
		.op = "RevokeSecurityGroupEgress", .target = sg->id, .kind = RESP_WRITE, .in = in,
		.already = "InvalidPermission.NotFound", .detail = "no ingress and no egress rules left",
		.already_detail = "no ingress and no egress rules left" });
	if (st == RESP_ALREADY)
		kit_already(rv, "no egress rules");
	else if (st != RESP_DONE)
		kit_fail(rv, "cannot read the group");
	kit_run(rd);
	if (kit_status(rv) == RESP_FAILED && kit_err(rv)->code[0])
		kit_detail(rv, "the quarantine group still allows egress");
	sg->failed = !kit_ok(rv);
	kit_round_free(rd);
	return !sg->failed;
}

/* ---- every egress rule of a set of groups -------------------------------------------- */

void sg_revoke_egress(struct kit *k, struct sg_revoke *rv)
{
	struct kit_round *rd = kit_round_new(k), *wr;
	struct kit_step *sgs_step, *share, *steps[SG_MAX_REVOKE];
	cJSON *byid = cJSON_CreateObject(), *filter = cJSON_CreateObject(), *ids, *fv;
	const cJSON *sgs, *sg;
	size_t i, nr = 0, nsent = 0, nfail = 0;
	int go;

	rv->revoked = rv->complete = 0;
	/* {"Filter": [{"Name": "group-id", "Value": [ids]}]} */
	ids = cJSON_AddArrayToObject(byid, "GroupId");
	fv = sg_filter(filter, "group-id", NULL);
	for (i = 0; i < rv->ngroups; i++) {
		cJSON_AddItemToArray(ids, cJSON_CreateString(rv->groups[i]));
		cJSON_AddItemToArray(fv, cJSON_CreateString(rv->groups[i]));
	}
	/* Both reads depend only on the interface: one round. */
	sgs_step = kit_add(rd, &(struct kit_spec){ .step = rv->read_step, .service = "ec2",
		.op = "DescribeSecurityGroups", .target = rv->groups[0], .kind = RESP_READ, .in = byid });
	share = kit_add(rd, &(struct kit_spec){ .step = rv->share_step, .service = "ec2",
		.op = "DescribeNetworkInterfaces", .target = rv->groups[0], .kind = RESP_READ,
		.optional = 1, .in = filter });
	kit_run(rd);
	go = rv->decide(rv->arg, kit_out(sgs_step), kit_ok(share), sg_list(kit_out(share), "networkInterfaceSet"),
			resp_get_str(kit_out(share), "nextToken") != NULL);
	if (!go || !kit_ok(sgs_step)) {
		kit_round_free(rd);
		return;
	}
	sgs = sg_list(kit_out(sgs_step), "securityGroupInfo");
	wr = kit_round_new(k);
	cJSON_ArrayForEach(sg, sgs) {
		cJSON *in, *undo;
		enum resp_status st;

		if (nr == SG_MAX_REVOKE)
			break;
		st = sg_egress_revoke(sg, "revoke-egress", &in, &undo);
		steps[nr] = kit_add(wr, &(struct kit_spec){ .step = "revoke-egress", .service = "ec2",
			.op = "RevokeSecurityGroupEgress", .target = resp_get_str(sg, "groupId"), .kind = RESP_WRITE,
			.in = in, .restore = undo, .detail = "every egress rule revoked" });
		if (k->r->dry_run) {
			nr++;
			continue;
		}
		if (st == RESP_ALREADY)
			kit_already(steps[nr], "no egress rules");
		else if (st != RESP_DONE)
			kit_fail(steps[nr], "cannot build the request");
		else
			nsent++;
		nr++;
	}
	if (!cJSON_GetArraySize(sgs))
		kit_decide(k, &(struct kit_spec){ .step = "revoke-egress", .service = "ec2",
			.op = "RevokeSecurityGroupEgress", .target = rv->groups[0], .kind = RESP_WRITE },
			RESP_FAILED, "%s were not described: nothing revoked", rv->what);
	kit_run(wr);
	for (i = 0; i < nr && nsent; i++) {
		if (kit_status(steps[i]) == RESP_DONE)
			rv->revoked = 1;
		else if (kit_status(steps[i]) == RESP_FAILED && kit_err(steps[i])->code[0])
			nfail++;
		if (kit_status(steps[i]) == RESP_FAILED && kit_err(steps[i])->code[0])
			kit_detail(steps[i], "every egress rule revoked");
	}
	rv->complete = !nfail && cJSON_GetArraySize(sgs);
	kit_round_free(wr);
	kit_round_free(rd);
}

/* ---- w4-kc-tq: who else carries the groups; an interface onto an empty group ---- */

int sg_all_prefixed(const struct sg_eni *e, const char *prefix)
{
	size_t i;

	for (i = 0; i < e->ngroups; i++)
		if (strncmp(e->group_names[i], prefix, strlen(prefix)))
			return 0;
	return e->ngroups > 0;
}

/* One interface other than e's own, NULL for e's own (or one without an id). */
static cJSON *sharer(const cJSON *ni, const struct sg_eni *e)
{
	const char *id = resp_get_str(ni, "networkInterfaceId"), *d = resp_get_str(ni, "description");
	const char *it = resp_get_str(ni, "interfaceType");
	const cJSON *g, *tag;
	cJSON *x, *gs;
	size_t i;

	if (!id || !strcmp(id, e->id))
		return NULL;
	x = kit_obj("network_interface_id", id, "description", d ? d : "", "interface_type", it ? it : "",
		    "requester_id", resp_get_str(ni, "requesterId"),
		    "instance_id", resp_get_str(ni, "attachment.instanceId"), KIT_END);
	cJSON_ArrayForEach(tag, sg_list(ni, "tagSet")) {
		const char *k = resp_get_str(tag, "key"), *v = resp_get_str(tag, "value");

		if (k && v && !strcmp(k, "aws:ecs:serviceName"))
			cJSON_AddStringToObject(x, "ecs_service", v);
		else if (k && v && !strcmp(k, "aws:ecs:clusterName"))
			cJSON_AddStringToObject(x, "ecs_cluster", v);
	}
	gs = cJSON_AddArrayToObject(x, "shared_groups");
	cJSON_ArrayForEach(g, sg_list(ni, "groupSet")) {
		const char *gid = resp_get_str(g, "groupId");

		for (i = 0; gid && i < e->ngroups; i++)
			if (!strcmp(gid, e->groups[i]))
				cJSON_AddItemToArray(gs, cJSON_CreateString(gid));
	}
	return x;
}

cJSON *sg_sharers(const cJSON *interfaces, const struct sg_eni *e)
{
	cJSON *out = cJSON_CreateArray(), *x;
	const cJSON *ni;

	cJSON_ArrayForEach(ni, interfaces) {
		if ((x = sharer(ni, e)) != NULL)
			cJSON_AddItemToArray(out, x);
	}
	return out;
}

cJSON *sg_eni_groups(const struct sg_eni *e)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < e->ngroups; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(e->groups[i]));
	return a;
}

static struct kit_step *swap_add(struct kit_round *rd, const struct sg_swap *q, const char *gid)
{
	return kit_add(rd, &(struct kit_spec){ .step = q->step, .service = "ec2",
		.op = "ModifyNetworkInterfaceAttribute", .target = q->eni->id, .kind = RESP_WRITE,
		.in = gid ? sg_swap_in(q->eni->id, gid) : NULL,
		.restore = sg_swap_undo(q->step, q->eni->id, sg_eni_groups(q->eni)), .detail = q->detail });
}

enum sg_swap_result sg_swap_empty(struct kit *k, struct sg_swap *q)
{
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *swap;
	enum sg_swap_result res = SG_SWAP_PLANNED;

	q->why[0] = '\0';
	if (k->r->dry_run) {
		/* The plan: three writes; the swap's undo (the groups now) is
		 * known before it, as kit-planned writes record it. */
		kit_add(rd, &(struct kit_spec){ .step = "create-quarantine-group", .service = "ec2",
			.op = "CreateSecurityGroup", .target = q->group.name, .kind = RESP_WRITE });
		kit_add(rd, &(struct kit_spec){ .step = "revoke-quarantine-egress", .service = "ec2",
			.op = "RevokeSecurityGroupEgress", .target = q->group.name, .kind = RESP_WRITE });
		swap_add(rd, q, NULL);
		kit_run(rd);
		kit_round_free(rd);
		return res;
	}
	sg_empty_group(k, &q->group);
	if (!q->group.id[0])
		res = SG_SWAP_NO_GROUP;
	else if (resp_failed(k->r))
		res = SG_SWAP_UNSAFE;
	if (res != SG_SWAP_PLANNED) {
		kit_round_free(rd);
		return res;
	}
	swap = swap_add(rd, q, q->group.id);
	kit_run(rd);
	if (kit_ok(swap)) {
		res = SG_SWAP_DONE;
	} else {
		/* Refused (requester-managed ENI, permissions): nothing changed,
		 * so its undo goes. */
		kit_detail(swap, "%s", q->detail);
		snprintf(q->why, sizeof(q->why), "%.100s %.150s", kit_err(swap)->code, kit_err(swap)->message);
		kit_set_optional(swap);
		kit_undo_drop(k);
		res = SG_SWAP_REFUSED;
	}
	kit_round_free(rd);
	return res;
}

void sg_eni_report(const struct sg_eni *e, cJSON *into)
{
	cJSON *g;
	size_t i;

	cJSON_AddStringToObject(into, "vpc_id", e->vpc);
	cJSON_AddBoolToObject(into, "requester_managed", e->requester_managed);
	g = cJSON_AddArrayToObject(into, "security_groups");
	for (i = 0; g && i < e->ngroups; i++)
		cJSON_AddItemToArray(g, kit_obj("group_id", e->groups[i], "group_name", e->group_names[i], KIT_END));
}
