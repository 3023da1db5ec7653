/*
 * net-block: close a port opened to the world, exactly, and block an
 * attacker's address (issue 19). README.md next to this file documents
 * triggers, actions, decisions, Safety, IAM and settings; net_block.h
 * declares the pure stages (stages.c) this file runs on the responder kit
 * (runtime/kit.h), as a runbook:
 *
 *   security group  read the group's rules (DescribeSecurityGroupRules,
 *                   every page) and the group (tags) -> nb_rule_decide()
 *                   per rule id the event names -> RevokeSecurityGroupIngress
 *                   by SecurityGroupRuleId, one step per rule, each rule's
 *                   full content in restore[] first
 *   attacker        nb_ip_parse() per address; is it one of the account's
 *                   own public addresses (DescribeNetworkInterfaces)? ->
 *                   the WAFv2 IP set (kit_ipset_update: GetIPSet, UpdateIPSet
 *                   with its LockToken, retried on WAFOptimisticLockException)
 *                   -> optionally a deny entry in the subnet's network ACL
 *   unblock         the same, removing
 */
#include "net_block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"

#define NB_FUNCTION "net-block"
#define NB_DEADLINE_MARGIN_MS 500
#define NB_TAG_EXEMPT "firebreak:exempt"

struct nb_state {
	struct fn_base fn;
	struct nb_settings set;
	const struct lr_context *ctx;   /* borrowed: the current invocation's (one at a time) */
};

static enum fb_err nb_settings(void *state, char *err, size_t errlen)
{
	return nb_settings_from_env(&((struct nb_state *)state)->set, err, errlen);
}

/* The undo record of a round of writes (issue 24), before it runs:
 * restore.json of the incident's next attempt when FIREBREAK_EVIDENCE_BUCKET
 * is set. Never holds the block back (evidence_undo_record). Takes `rec`. */
static void nb_undo_record(struct kit *k, struct nb_state *st, struct resp *r, const char *subject_name,
			   const char *subject, cJSON *rec)
{
	cJSON *out;

	if (!r)
		r = k->r;
	out = cJSON_GetObjectItemCaseSensitive(r->extra, "undo_record");
	if (cJSON_GetArraySize(rec) > 0) {
		/* one invocation may claim twice (the IP set, then the ACL): each its own attempt */
		if (!out)
			out = cJSON_AddArrayToObject(r->extra, "undo_record");
		evidence_undo_record(k, st->fn.aws, &st->fn.evcfg, st->ctx, subject_name, subject, rec,
				     cJSON_AddItemToArray(out, cJSON_CreateObject()) ? cJSON_GetArrayItem(out,
					cJSON_GetArraySize(out) - 1) : NULL);
	}
	cJSON_Delete(rec);
}

/* The addresses of one invocation and what became of each. */
struct nb_addr {
	char given[NB_IP_LEN];
	char canon[NB_IP_LEN];
	int family;
	int ok;                 /* may be blocked (or unblocked) */
	cJSON *sec;             /* borrowed: its entry in the report's "addresses" */
};

struct nb_ips {
	struct nb_addr a[NB_MAX_IPS];
	size_t n;
	int remove;
	int version;            /* the IP set's family, 4 or 6; 0 unknown */
};

static cJSON *nb_filter(cJSON *in, const char *name, const char *const *values, size_t n)
{
	cJSON *fs = cJSON_GetObjectItemCaseSensitive(in, "Filter"), *f, *vs;
	size_t i;

	if (!fs)
		fs = cJSON_AddArrayToObject(in, "Filter");
	f = cJSON_CreateObject();
	cJSON_AddItemToArray(fs, f);
	cJSON_AddStringToObject(f, "Name", name);
	vs = cJSON_AddArrayToObject(f, "Value");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(vs, cJSON_CreateString(values[i]));
	return in;
}

/* ---- security group rules -------------------------------------------------------- */

static const struct kit_paging rules_paging = { .items = "securityGroupRuleSet", .next = "nextToken",
	.token = "NextToken" };

static const cJSON *nb_find_rule(const cJSON *items, const char *rid)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "securityGroupRuleId"));

		if (v && !strcmp(v, rid))
			return it;
	}
	return NULL;
}

/* A firebreak:exempt tag on the group counts only under the provenance
 * rule (runtime/prov.h): the group's whole CloudTrail history (EC2 names
 * it by id; CreateTags records are read as tagSet.items) must show it was
 * set before the event and not by the event's actor, or by a trusted
 * principal. Decided and reported ("exemption_tags") either way; returns
 * 1 when honoured, reason copied to `reason`. The history read is an
 * optional step: unread, the tag is ignored (fail towards containment). */
static int nb_group_exempt(struct kit *k, struct resp *r, const struct nb_event *ev,
			   struct aws_client *c, const cJSON *group, char *reason, size_t rn)
{
	static const char *const keys[] = { NB_TAG_EXEMPT };

	/* manual: no CloudTrail record and no actor (a clean history counts) */
	return kit_exemption(k, &(struct kit_prov_read){ .step = "tag-provenance", .arn = ev->group_id,
		.client = c, .account = ev->account[0] ? ev->account : NULL,
		.deadline_ms = kit_read_deadline(k, 3 * NB_DEADLINE_MARGIN_MS), .complete_note = " (complete)" },
		&(struct prov_query){ .trigger_ms = ev->event_ms ? ev->event_ms : r->received_ms,
		.trigger_event_id = !ev->manual && ev->event_id[0] ? ev->event_id : NULL,
		.trigger_actor = ev->actor[0] ? ev->actor : NULL },
		cJSON_GetObjectItemCaseSensitive(group, "tagSet"), keys, 1, r->extra, reason, rn) != NULL;
}

static void nb_security_group(struct kit *k, struct nb_state *st, struct resp *r, const struct nb_event *ev,
			      struct aws_client *c)
{
	struct kit_round *rd = kit_round_new(k), *wr = NULL;
	struct kit_step *rules, *grp, *rv[NB_MAX_RULES] = { 0 };
	cJSON *in, *rec, *sec = cJSON_AddArrayToObject(r->extra, "rules");
	const cJSON *items;
	const char *gids[1] = { ev->group_id };
	int nrevoke = 0, nkeep = 0, ngone = 0, others = 0;
	char reason[PROV_REASON_LEN];
	size_t i;

	cJSON_AddStringToObject(r->extra, "group_id", ev->group_id);
	/* Round 1: the group's rules as EC2 has them now (every page: the
	 * others are counted as intact afterwards), and the group's tags. */
	in = cJSON_CreateObject();
	nb_filter(in, "group-id", gids, 1);
	cJSON_AddNumberToObject(in, "MaxResults", 1000);
	rules = kit_add(rd, &(struct kit_spec){ .step = "read-rules", .service = "ec2",
		.op = "DescribeSecurityGroupRules", .target = ev->group_id, .kind = RESP_READ, .in = in,
		.client = c, .paging = &rules_paging });
	in = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "GroupId"), cJSON_CreateString(ev->group_id));
	grp = kit_add(rd, &(struct kit_spec){ .step = "read-group", .service = "ec2",
		.op = "DescribeSecurityGroups", .target = ev->group_id, .kind = RESP_READ, .in = in,
		.optional = 1, .client = c, .absent = "InvalidGroup.NotFound InvalidGroupId.NotFound" });
	kit_run(rd);
	if (kit_ok(grp) && kit_found(grp) &&
	    nb_group_exempt(k, r, ev, c, cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(kit_out(grp),
					"securityGroupInfo"), 0), reason, sizeof(reason))) {
		resp_skip(r, "security group %s is exempt: firebreak:exempt %s", ev->group_id, reason);
		goto out;
	}
	if (!kit_ok(rules))
		goto out;
	if (!kit_complete(rules)) {
		/* a rule not on the pages read is not known to be gone */
		kit_fail(rules, "the rule list is incomplete (page cap): cannot tell which rules exist");
		goto out;
	}
	items = kit_items(rules);
	kit_detail(rules, "%d rules in %s", cJSON_GetArraySize(items), ev->group_id);

	/* Round 2: one revoke per rule, by id, concurrently (round 1 holds
	 * the rules read until the end). */
	wr = kit_round_new(k);
	rec = cJSON_CreateArray();
	for (i = 0; i < ev->nrules; i++) {
		const cJSON *rule = nb_find_rule(items, ev->rule_ids[i]);
		cJSON *e = cJSON_CreateObject();
		char why[400];

		cJSON_AddItemToArray(sec, e);
		cJSON_AddStringToObject(e, "rule_id", ev->rule_ids[i]);
		if (!rule) {
			/* revoked already (a second delivery), or never this group's */
			cJSON_AddStringToObject(e, "decision", "gone");
			cJSON_AddStringToObject(e, "why", "not among the group's rules now (revoked already, or "
						"not this group's)");
			ngone++;
			continue;
		}
		cJSON_AddItemToObject(e, "rule", nb_rule_json(rule));
		if (nb_rule_decide(rule, ev->group_id, &st->set, why, sizeof(why)) == NB_RULE_KEEP) {
			cJSON_AddStringToObject(e, "decision", "keep");
			cJSON_AddStringToObject(e, "why", why);
			nkeep++;
			continue;
		}
		cJSON_AddStringToObject(e, "decision", "revoke");
		cJSON_AddStringToObject(e, "why", why);
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "GroupId", ev->group_id);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "SecurityGroupRuleId"),
				     cJSON_CreateString(ev->rule_ids[i]));
		rv[i] = kit_add(wr, &(struct kit_spec){ .step = "revoke-rule", .service = "ec2",
			.op = "RevokeSecurityGroupIngress", .target = ev->rule_ids[i], .kind = RESP_WRITE,
			.in = in, .client = c, .detail = why,
			.restore = kit_undo("ec2:AuthorizeSecurityGroupIngress", nb_rule_restore_args(rule)),
			.already = "InvalidSecurityGroupRuleId.NotFound InvalidPermission.NotFound",
			.already_detail = "already: the rule is gone" });
		cJSON_AddItemToArray(rec, kit_undo_step("revoke-rule", "ec2:AuthorizeSecurityGroupIngress",
							nb_rule_restore_args(rule)));
		nrevoke++;
	}
	{
		const cJSON *it;

		cJSON_ArrayForEach(it, items) {
			const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "securityGroupRuleId"));
			int named = 0;

			for (i = 0; v && i < ev->nrules; i++)
				named |= !strcmp(v, ev->rule_ids[i]);
			others += !named;
		}
	}
	cJSON_AddNumberToObject(r->extra, "other_rules_untouched", others);
	nb_undo_record(k, st, r, "group_id", ev->group_id, rec);
	kit_run(wr);
	if (nrevoke) {
		cJSON_AddStringToObject(r->extra, "note", "connections already open through a revoked rule are "
					"tracked by the security group and survive its removal until they close; "
					"restore[] re-creates each rule exactly (it gets a new rule id)");
		for (i = 0; i < ev->nrules; i++)
			if (rv[i] && kit_status(rv[i]) == RESP_DONE)
				resp_contained(r);
	} else if (nkeep) {
		resp_skip(r, "no rule the event names is open to the world on a port outside the allowed set "
			  "(%d kept, %d not in the group now: see rules[])", nkeep, ngone);
	} else if (ngone) {
		resp_set_verdict(r, "already-contained");
	}
out:
	kit_round_free(wr);
	kit_round_free(rd);
}

/* ---- addresses ------------------------------------------------------------------- */

static void nb_addr_decide(struct nb_addr *a, const char *why, const char *decision)
{
	a->ok = 0;
	cJSON_AddStringToObject(a->sec, "decision", decision);
	cJSON_AddStringToObject(a->sec, "why", why);
}

/* The account's own public addresses are never blocked: one read per
 * family, of every interface with that public address. */
static int nb_own_addresses(struct kit *k, struct nb_ips *ips, struct aws_client *c)
{
	/* per family (IPv4, IPv6): the line and the interfaces' filter */
	static const char *const step[2] = { "own-addresses", "own-addresses-v6" };
	static const char *const filter[2] = { "association.public-ip", "ipv6-addresses.ipv6-address" };
	struct kit_round *rd = kit_round_new(k);
	struct kit_step *s[2] = { NULL, NULL };
	const char *v[2][NB_MAX_IPS];
	size_t nv[2] = { 0, 0 }, i, f;
	int rc = 0;

	for (i = 0; i < ips->n; i++)
		if (ips->a[i].ok) {
			char *slash = strchr(ips->a[i].canon, '/');

			/* the filter wants the bare address */
			char *bare;

			if (slash)
				*slash = '\0';
			bare = strdup(ips->a[i].canon);
			if (slash)
				*slash = '/';
			if (!bare) {
				nb_addr_decide(&ips->a[i], "out of memory", "refused");
				continue;
			}
			v[ips->a[i].family == 6][nv[ips->a[i].family == 6]++] = bare;
		}
	for (f = 0; f < 2; f++)
		if (nv[f])
			s[f] = kit_add(rd, &(struct kit_spec){ .step = step[f], .service = "ec2",
				.op = "DescribeNetworkInterfaces", .target = filter[f], .kind = RESP_READ,
				.in = nb_filter(cJSON_CreateObject(), filter[f], v[f], nv[f]), .client = c,
				.paging = &(struct kit_paging){ .items = "networkInterfaceSet", .next = "nextToken",
					.token = "NextToken" } });
	kit_run(rd);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < nv[f]; i++)
			free((void *)v[f][i]);
		if (!s[f])
			continue;
		if (!kit_ok(s[f]) || !kit_complete(s[f])) {
			/* unknown whether it is ours: not blocked (this check is what
			 * keeps a crafted finding from cutting the account's own hosts) */
			rc = -1;
			continue;
		}
		kit_detail(s[f], "%d of the account's interfaces use these addresses",
			   cJSON_GetArraySize(kit_items(s[f])));
	}
	for (f = 0; f < 2; f++) {
		const cJSON *eni, *found = s[f] && kit_ok(s[f]) ? kit_items(s[f]) : NULL;

		/* every interface the filter returned must be one we can pin to an
		 * address: one we cannot read makes every address of that family
		 * "cannot tell" (never guess in favour of blocking) */
		cJSON_ArrayForEach(eni, found) {
			const char *pub = resp_get_str(eni, "association.publicIp");

			if (f == 0 && !pub)
				kit_fail(s[f], "an interface matched without its public address in the answer");
			if (f == 1 && !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(eni, "ipv6AddressesSet")))
				kit_fail(s[f], "an interface matched without its IPv6 addresses in the answer");
			if (!kit_ok(s[f]))
				break;
		}
	}
	for (i = 0; i < ips->n; i++) {
		struct nb_addr *a = &ips->a[i];
		struct kit_step *rs = s[a->family == 6];
		const cJSON *eni;

		if (!a->ok)
			continue;
		if (!kit_ok(rs) || !kit_complete(rs)) {
			nb_addr_decide(a, "cannot tell whether it is one of the account's own addresses", "refused");
			continue;
		}
		cJSON_ArrayForEach(eni, kit_items(rs)) {
			const char *pub = resp_get_str(eni, "association.publicIp");
			const char *id = resp_get_str(eni, "networkInterfaceId");
			struct kit_cidr x, y;
			const cJSON *v6;
			int mine = pub && kit_cidr_parse(pub, &x) == 0 && kit_cidr_parse(a->canon, &y) == 0 &&
				   x.family == y.family && !memcmp(x.addr, y.addr, 16);

			cJSON_ArrayForEach(v6, cJSON_GetObjectItemCaseSensitive(eni, "ipv6AddressesSet")) {
				const char *s6 = resp_get_str(v6, "ipv6Address");

				mine |= s6 && kit_cidr_parse(s6, &x) == 0 && kit_cidr_parse(a->canon, &y) == 0 &&
					x.family == y.family && !memcmp(x.addr, y.addr, 16);
			}
			if (mine) {
				char why[200];

				snprintf(why, sizeof(why), "one of the account's own addresses (%s)", id ? id : "an interface");
				nb_addr_decide(a, why, "refused");
				break;
			}
		}
	}
	kit_round_free(rd);
	return rc;
}

/* kit_ipset_update's decision: the addresses this invocation blocks (or
 * unblocks), of the set's family, merged into the set read now. */
static int nb_ipset_change(const cJSON *set, void *arg, cJSON **out, char *why, size_t wn)
{
	struct nb_ips *ips = arg;
	const char *ver = resp_get_str(set, "IPAddressVersion");
	cJSON *cur = cJSON_Duplicate(resp_get(set, "Addresses"), 1), *next = NULL;
	int changed = 0, c;
	size_t i;

	ips->version = ver && !strcmp(ver, "IPV6") ? 6 : 4;
	for (i = 0; cur && i < ips->n; i++) {
		struct nb_addr *a = &ips->a[i];

		if (!a->ok || a->family != ips->version)
			continue;
		c = nb_ipset_merge(cur, a->canon, ips->remove, &next);
		if (c < 0) {
			snprintf(why, wn, "the IP set is full (%d addresses)", NB_IPSET_MAX);
			cJSON_Delete(next);
			cJSON_Delete(cur);
			return -1;
		}
		changed |= c;
		cJSON_Delete(cur);
		cur = next;
		next = NULL;
	}
	if (!cur) {
		snprintf(why, wn, "out of memory");
		return -1;
	}
	if (!changed) {
		snprintf(why, wn, ips->remove ? "not in the IP set" : "already in the IP set");
		cJSON_Delete(cur);
		return 0;
	}
	*out = cur;
	return 1;
}

/* The network ACL option: a deny entry per address in the target's subnet
 * ACL (block), or the reserved-range deny entries for the address (unblock). */
static void nb_nacl(struct kit *k, struct nb_state *st, struct nb_ips *ips, const struct nb_event *ev,
		    struct aws_client *c)
{
	struct kit_round *rd = kit_round_new(k), *wr = NULL;
	struct kit_step *rs;
	const cJSON *acl, *e;
	cJSON *rec;
	const char *acl_id;
	cJSON *in = cJSON_CreateObject();
	size_t i, nv = 0;
	char num[16];

	if (ips->remove) {
		for (i = 0; i < ips->n; i++)
			nv += ips->a[i].ok;
		/* every ACL with a deny entry (all of them: the default rule '*'
		 * denies); the entries are matched here, v4 and v6 alike */
		nb_filter(in, "entry.rule-action", (const char *const[]){ "deny" }, 1);
	} else {
		const char *sub = ev->subnet_id;

		nb_filter(in, "association.subnet-id", &sub, 1);
	}
	rs = kit_add(rd, &(struct kit_spec){ .step = "read-network-acl", .service = "ec2",
		.op = "DescribeNetworkAcls", .target = ips->remove ? "entry.cidr" : ev->subnet_id, .kind = RESP_READ,
		.in = in, .client = c, .paging = &(struct kit_paging){ .items = "networkAclSet", .next = "nextToken",
			.token = "NextToken" } });
	if (!ips->remove && !ev->subnet_id[0])
		kit_skip(rs, "the finding names no subnet: no network ACL entry");
	if (ips->remove && !nv)
		kit_skip(rs, "no address to unblock");
	kit_run(rd);
	if (!kit_ok(rs))
		goto out;
	wr = kit_round_new(k);
	rec = cJSON_CreateArray();
	cJSON_ArrayForEach(acl, kit_items(rs)) {
		acl_id = resp_get_str(acl, "networkAclId");
		if (!acl_id || !nb_id_ok(acl_id, "acl"))
			continue;
		for (i = 0; i < ips->n; i++) {
			struct nb_addr *a = &ips->a[i];
			int existing = 0, n;
			cJSON *args;
			struct kit_step *ws;

			if (!a->ok)
				continue;
			if (ips->remove) {
				cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(acl, "entrySet")) {
					long rn = strtol(resp_get_str(e, "ruleNumber") ? resp_get_str(e, "ruleNumber") : "0",
							 NULL, 10);

					/* only what this function could have written: the reserved range */
					if (!nb_nacl_entry_is(e, a->canon) || rn < st->set.nacl_min || rn > st->set.nacl_max)
						continue;
					args = cJSON_CreateObject();
					cJSON_AddStringToObject(args, "NetworkAclId", acl_id);
					cJSON_AddNumberToObject(args, "RuleNumber", (double)rn);
					cJSON_AddBoolToObject(args, "Egress", 0);
					in = cJSON_Duplicate(args, 1);
					cJSON_AddStringToObject(args, "Protocol", "-1");
					cJSON_AddStringToObject(args, "RuleAction", "deny");
					cJSON_AddStringToObject(args, a->family == 6 ? "Ipv6CidrBlock" : "CidrBlock", a->canon);
					cJSON_AddItemToArray(rec, kit_undo_step("nacl-allow", "ec2:CreateNetworkAclEntry",
										cJSON_Duplicate(args, 1)));
					kit_add(wr, &(struct kit_spec){ .step = "nacl-allow", .service = "ec2",
						.op = "DeleteNetworkAclEntry", .target = acl_id, .kind = RESP_WRITE,
						.in = in, .client = c, .restore = kit_undo("ec2:CreateNetworkAclEntry", args),
						.detail = a->canon, .already = "InvalidNetworkAclEntry.NotFound" });
				}
				continue;
			}
			n = nb_nacl_pick(acl, a->canon, st->set.nacl_min, st->set.nacl_max, &existing);
			args = cJSON_CreateObject();
			cJSON_AddStringToObject(args, "NetworkAclId", acl_id);
			cJSON_AddNumberToObject(args, "RuleNumber", n > 0 ? n : 0);
			cJSON_AddBoolToObject(args, "Egress", 0);
			in = cJSON_Duplicate(args, 1);
			cJSON_AddStringToObject(in, "Protocol", "-1");
			cJSON_AddStringToObject(in, "RuleAction", "deny");
			cJSON_AddStringToObject(in, a->family == 6 ? "Ipv6CidrBlock" : "CidrBlock", a->canon);
			snprintf(num, sizeof(num), "%d", n);
			if (!existing && n > 0)
				cJSON_AddItemToArray(rec, kit_undo_step("nacl-deny", "ec2:DeleteNetworkAclEntry",
									cJSON_Duplicate(args, 1)));
			ws = kit_add(wr, &(struct kit_spec){ .step = "nacl-deny", .service = "ec2",
				.op = "CreateNetworkAclEntry", .target = acl_id, .kind = RESP_WRITE, .in = in,
				.client = c, .restore = kit_undo("ec2:DeleteNetworkAclEntry", args),
				.detail = a->canon, .already = "NetworkAclEntryAlreadyExists" });
			if (existing)
				kit_already(ws, "rule %s already denies %s", num, a->canon);
			else if (n < 0)
				kit_fail(ws, "no free rule number in FIREBREAK_NB_NACL_RULES %d-%d", st->set.nacl_min,
					 st->set.nacl_max);
			else
				kit_detail(ws, "rule %s denies %s", num, a->canon);
		}
	}
	nb_undo_record(k, st, NULL, "subnet_id", ev->subnet_id, rec);
	kit_run(wr);
out:
	kit_round_free(wr);
	kit_round_free(rd);
}

static int nb_any_write_done(const struct resp *r)
{
	size_t i;

	for (i = 0; i < r->nsteps; i++)
		if (r->steps[i].kind == RESP_WRITE && r->steps[i].status == RESP_DONE)
			return 1;
	return 0;
}

static void nb_addresses(struct kit *k, struct nb_state *st, struct resp *r, const struct nb_event *ev,
			 struct aws_client *c)
{
	struct nb_ips ips;
	cJSON *sec = cJSON_AddArrayToObject(r->extra, "addresses"), *undo, *list;
	struct aws_client *wc = NULL;
	struct aws_error err;
	size_t i, nok = 0;
	enum resp_status ws = RESP_SKIPPED;

	memset(&ips, 0, sizeof(ips));
	ips.remove = ev->kind == NB_UNBLOCK;
	for (i = 0; i < ev->nips; i++) {
		struct nb_addr *a = &ips.a[ips.n++];
		struct kit_cidr cc;
		char why[300];

		buf_copy_str(a->given, sizeof(a->given), ev->ips[i]);
		a->sec = cJSON_CreateObject();
		cJSON_AddItemToArray(sec, a->sec);
		cJSON_AddStringToObject(a->sec, "ip", a->given);
		a->ok = nb_ip_parse(a->given, &st->set, a->canon, sizeof(a->canon), why, sizeof(why));
		if (!a->ok) {
			nb_addr_decide(a, why, "refused");
			continue;
		}
		kit_cidr_parse(a->canon, &cc);
		a->family = cc.family == AF_INET6 ? 6 : 4;   /* the IP set's IPAddressVersion */
		cJSON_AddStringToObject(a->sec, "cidr", a->canon);
	}
	/* blocking needs the own-address check; an unblock only lifts a block */
	if (!ips.remove)
		nb_own_addresses(k, &ips, c);
	for (i = 0; i < ips.n; i++)
		nok += ips.a[i].ok;
	if (!nok) {
		resp_skip(r, "no address may be %s (see addresses[])", ips.remove ? "unblocked" : "blocked");
		return;
	}
	if (!st->set.ipset_name[0] && !st->set.nacl) {
		resp_skip(r, "nothing to block with: set FIREBREAK_NB_IPSET_ARN and/or FIREBREAK_NB_NACL");
		return;
	}
	if (st->set.ipset_name[0]) {
		memset(&err, 0, sizeof(err));
		wc = kit_client(k, st->set.ipset_account, st->set.ipset_region, "assume-ipset-account", &err);
		/* the undo is net-block's own manual form: unblock what this write
		 * adds, or block again what it removes */
		list = cJSON_CreateArray();
		for (i = 0; i < ips.n; i++)
			if (ips.a[i].ok)
				cJSON_AddItemToArray(list, cJSON_CreateString(ips.a[i].canon));
		undo = cJSON_CreateObject();
		cJSON_AddItemToObject(undo, ips.remove ? "ip" : "unblock", list);
		if (wc) {
			cJSON *rec = cJSON_CreateArray();

			cJSON_AddItemToArray(rec, kit_undo_step(ips.remove ? "ipset-remove" : "ipset-add",
								"lambda:Invoke " NB_FUNCTION, cJSON_Duplicate(undo, 1)));
			nb_undo_record(k, st, r, "ipset", st->set.ipset_arn, rec);
			ws = kit_ipset_update(k, &(struct kit_ipset){ .name = st->set.ipset_name,
				.id = st->set.ipset_id, .scope = st->set.ipset_scope, .target = st->set.ipset_arn,
				.change = nb_ipset_change, .arg = &ips, .client = wc,
				.restore = kit_undo("lambda:Invoke " NB_FUNCTION, undo),
				.step = ips.remove ? "ipset-remove" : "ipset-add",
				.detail = ips.remove ? "removed from the IP set" : "added to the IP set" });
		} else {
			cJSON_Delete(undo);
			ws = RESP_FAILED;
		}
		for (i = 0; i < ips.n; i++) {
			struct nb_addr *a = &ips.a[i];

			if (!a->ok)
				continue;
			if (ips.version && a->family != ips.version) {
				cJSON_AddStringToObject(a->sec, "ipset", "skipped: the IP set holds the other IP version");
				continue;
			}
			cJSON_AddStringToObject(a->sec, "ipset", resp_status_name(ws));
		}
	}
	if (st->set.nacl)
		nb_nacl(k, st, &ips, ev, c);
	if (ips.remove && !resp_failed(r))
		resp_set_verdict(r, "unblocked%s", r->dry_run ? " (planned, dry run)" : "");
	else if (!resp_failed(r) && nb_any_write_done(r))
		resp_contained(r);
}

/* ---- the handler --------------------------------------------------------------- */

FN_EVENT_READER(nb, nb_parse(event, len, c->ev, why, whylen))

static enum fb_err nb_run(struct fn_call *c)
{
	struct nb_state *st = c->st;
	struct nb_event *ev = c->ev;
	struct aws_client *cl;
	struct aws_error err;
	char arn[300];

	if (ev->event_id[0] && ev->kind != NB_SG)
		resp_set_incident(c->r, ev->event_id);   /* a finding's id: its updates share the incident */
	/* a port open to the world is an exposure now: P1; an attacker
	 * knocking: P2; a human lifting a block: P3 */
	resp_set_severity(c->r, ev->kind == NB_SG ? "P1" : ev->kind == NB_UNBLOCK ? "P3" : "P2");
	st->ctx = c->ctx;
	cJSON_AddStringToObject(c->r->extra, "event_name", ev->event_name);
	if (ev->kind == NB_SG) {
		snprintf(arn, sizeof(arn), "arn:%s:ec2:%s:%s:security-group/%s", kit_partition(c->k),
			 ev->region[0] ? ev->region : aws_client_region(st->fn.aws),
			 ev->account[0] ? ev->account : (kit_own_account(c->k) ? kit_own_account(c->k) : ""), ev->group_id);
		resp_set_resource(c->r, arn, ev->account[0] ? ev->account : NULL, ev->region[0] ? ev->region : NULL);
	} else if (ev->kind != NB_SKIP) {
		resp_set_resource(c->r, st->set.ipset_arn[0] ? st->set.ipset_arn : ev->ips[0],
				  ev->account[0] ? ev->account : NULL, ev->region[0] ? ev->region : NULL);
	}

	if (ev->kind == NB_SKIP) {
		resp_skip(c->r, "%s", ev->why);
	} else if (ev->actor[0] && resp_is_trusted(&st->fn.cfg, ev->actor)) {
		/* reported, not reverted: a break-glass role, the IaC pipeline,
		 * or whoever runs a restore[] entry */
		resp_skip(c->r, "trusted actor '%s' (FIREBREAK_TRUSTED_PRINCIPALS)", ev->actor);
	} else {
		memset(&err, 0, sizeof(err));
		cl = kit_client(c->k, ev->account[0] ? ev->account : NULL, ev->region[0] ? ev->region : NULL,
			       "assume-member-role", &err);
		if (cl && ev->kind == NB_SG)
			nb_security_group(c->k, st, c->r, ev, cl);
		else if (cl)
			nb_addresses(c->k, st, c->r, ev, cl);
	}
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = NB_FUNCTION, .margin_ms = NB_DEADLINE_MARGIN_MS,
		.size = sizeof(struct nb_state), .settings = nb_settings, FN_EVENT(struct nb_event, nb),
		.run = nb_run });
}
