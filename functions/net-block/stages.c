/*
 * net-block's pure stages (net_block.h): no I/O, no clock. Every decision
 * that could make the function cut the wrong thing is here, where
 * tests/unit/test_net_block.c pins it.
 */
#include "net_block.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "field.h"
#include "resp.h"

/* ---- small helpers ----------------------------------------------------------- */

static const cJSON *jget(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *jstr(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(jget(o, name));
}

/* Where and when an event says it happened, from the members of o named
 * (each taken only when it is a string): account, region, time. */
static void nb_where(struct nb_event *ev, const cJSON *o, const char *account, const char *region,
		     const char *time)
{
	if (jstr(o, account))
		buf_copy_str(ev->account, sizeof(ev->account), jstr(o, account));
	if (jstr(o, region))
		buf_copy_str(ev->region, sizeof(ev->region), jstr(o, region));
	if (jstr(o, time))
		ev->event_ms = resp_parse_time_ms(jstr(o, time));
}

/* EC2 XML leaves are strings; JSON events have numbers and booleans. */
static int jint(const cJSON *o, const char *name, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	char *end;

	if (cJSON_IsNumber(v) && v->valuedouble >= -2147483648.0 && v->valuedouble <= 2147483647.0) {
		*out = (long)v->valuedouble;
		return 1;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return 0;
	errno = 0;
	*out = strtol(v->valuestring, &end, 10);
	return !errno && !*end && *out >= -2147483647L && *out <= 2147483647L;
}

static int jtrue(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsTrue(v) || (cJSON_IsString(v) && !strcmp(v->valuestring, "true"));
}

/* An EC2 XML list: an array, or "" for an empty element. */
static const cJSON *jlist(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsArray(v) ? v : NULL;
}

int nb_id_ok(const char *id, const char *prefix)
{
	size_t n, i, pl;

	if (!id || !prefix)
		return 0;
	pl = strlen(prefix);
	if (strncmp(id, prefix, pl) != 0 || id[pl] != '-')
		return 0;
	id += pl + 1;
	n = strlen(id);
	/* AWS ids: 8 hex (old) or 17 hex (current) */
	if (n != 8 && n != 17)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return 0;
	return 1;
}

/* ---- addresses ------------------------------------------------------------------ */

int nb_cidr_is_world(const char *s)
{
	struct kit_cidr c;

	return kit_cidr_parse(s, &c) == 0 && c.prefix == 0;
}

static int nb_in(const char *cidr, const struct kit_cidr *a)
{
	struct kit_cidr c;

	return kit_cidr_parse(cidr, &c) == 0 && kit_cidr_contains(&c, a);
}

int nb_ip_parse(const char *ip, const struct nb_settings *s, char *canon, size_t canonlen,
		char *why, size_t whylen)
{
	/* Never blocked: blocking these could cut the account's own traffic
	 * (VPC peers, load balancer health checks, the metadata service) and
	 * none of them is where an internet attacker's packets come from. */
	static const struct { const char *cidr, *what; } never[] = {
		{ "0.0.0.0/8", "unspecified/'this network'" },
		{ "10.0.0.0/8", "private (RFC 1918)" },
		{ "100.64.0.0/10", "shared address space (RFC 6598, carrier NAT)" },
		{ "127.0.0.0/8", "loopback" },
		{ "169.254.0.0/16", "link-local" },
		{ "172.16.0.0/12", "private (RFC 1918)" },
		{ "192.0.0.0/24", "IETF protocol assignments" },
		{ "192.168.0.0/16", "private (RFC 1918)" },
		{ "198.18.0.0/15", "benchmarking (RFC 2544)" },
		{ "224.0.0.0/4", "multicast" },
		{ "240.0.0.0/4", "reserved (incl. broadcast)" },
		{ "::/128", "unspecified" },
		{ "::1/128", "loopback" },
		{ "::ffff:0:0/96", "IPv4-mapped (judge the IPv4 address instead)" },
		{ "64:ff9b::/96", "NAT64 (judge the IPv4 address instead)" },
		{ "fc00::/7", "private (unique local)" },
		{ "fe80::/10", "link-local" },
		{ "ff00::/8", "multicast" },
	};
	struct kit_cidr a;
	char txt[INET6_ADDRSTRLEN];
	size_t i;

	if (canon && canonlen)
		canon[0] = '\0';
	if (kit_cidr_parse(ip, &a) != 0) {
		field_why(why, whylen, "'%.64s' is not an IP address", ip ? ip : "");
		return 0;
	}
	if (a.prefix != (a.family == AF_INET ? 32 : 128)) {
		field_why(why, whylen, "'%.64s' is a range, not one address: net-block blocks /32 and /128 only", ip);
		return 0;
	}
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (nb_in(never[i].cidr, &a)) {
			field_why(why, whylen, "'%.64s' is %s (%s): never blocked", ip, never[i].what, never[i].cidr);
			return 0;
		}
	for (i = 0; s && i < s->nnever; i++)
		if (kit_cidr_contains(&s->never[i], &a)) {
			field_why(why, whylen, "'%.64s' is in FIREBREAK_NB_NEVER_BLOCK: never blocked", ip);
			return 0;
		}
	if (!inet_ntop(a.family, a.addr, txt, sizeof(txt))) {
		field_why(why, whylen, "'%.64s' cannot be written back", ip);
		return 0;
	}
	if (canon && snprintf(canon, canonlen, "%s/%d", txt, a.prefix) >= (int)canonlen) {
		field_why(why, whylen, "address too long");
		return 0;
	}
	return 1;
}

static int nb_same_host(const char *entry, const char *canon)
{
	struct kit_cidr a, b;

	return kit_cidr_parse(entry, &a) == 0 && kit_cidr_parse(canon, &b) == 0 && a.family == b.family &&
	       a.prefix == b.prefix && !memcmp(a.addr, b.addr, 16);
}

int nb_ipset_merge(const cJSON *addresses, const char *canon, int remove, cJSON **out)
{
	const cJSON *e, *list = cJSON_IsArray(addresses) ? addresses : NULL;
	int found = 0, n = 0;

	*out = cJSON_CreateArray();
	if (!*out)
		return -1;
	cJSON_ArrayForEach(e, list) {
		const char *v = cJSON_GetStringValue(e);

		if (!v)
			continue;
		n++;
		if (nb_same_host(v, canon)) {
			found = 1;
			if (remove)
				continue;
		}
		cJSON_AddItemToArray(*out, cJSON_CreateString(v));
	}
	if (remove)
		return found;
	if (found)
		return 0;
	if (n >= NB_IPSET_MAX)
		return -1;
	cJSON_AddItemToArray(*out, cJSON_CreateString(canon));
	return 1;
}

int nb_nacl_entry_is(const cJSON *entry, const char *canon)
{
	const char *c = jstr(entry, "cidrBlock");
	const char *p = jstr(entry, "protocol");

	if (!c)
		c = jstr(entry, "ipv6CidrBlock");
	return c && !jtrue(entry, "egress") && jstr(entry, "ruleAction") &&
	       !strcmp(jstr(entry, "ruleAction"), "deny") && p && !strcmp(p, "-1") && nb_same_host(c, canon);
}

int nb_nacl_pick(const cJSON *acl, const char *canon, int min, int max, int *existing)
{
	const cJSON *e;
	unsigned char used[32768];
	long num;
	int n;

	*existing = 0;
	if (min < 1 || max > 32766 || min > max)
		return -1;
	memset(used, 0, sizeof(used));
	cJSON_ArrayForEach(e, jlist(acl, "entrySet")) {
		if (jtrue(e, "egress") || !jint(e, "ruleNumber", &num) || num < 1 || num > 32767)
			continue;
		used[num] = 1;
		if (num >= min && num <= max && nb_nacl_entry_is(e, canon)) {
			*existing = 1;
			return (int)num;
		}
	}
	for (n = min; n <= max; n++)
		if (!used[n])
			return n;
	return -1;
}

/* ---- settings -------------------------------------------------------------------- */

static enum fb_err nb_ports_parse(struct nb_settings *s, const char *v, char *err, size_t errlen)
{
	char tmp[512], *tok, *save = NULL, *end;
	long a, b;

	s->nallowed = 0;
	if (strlen(v) >= sizeof(tmp)) {
		field_why(err, errlen, "FIREBREAK_NB_ALLOWED_PORTS is too long");
		return FB_E_CONFIG;
	}
	buf_copy_str(tmp, sizeof(tmp), v);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		errno = 0;
		a = strtol(tok, &end, 10);
		b = a;
		if (*end == '-') {
			b = strtol(end + 1, &end, 10);
		}
		while (*end == ' ')
			end++;
		if (errno || *end || !isdigit((unsigned char)*tok) || a < 0 || b > 65535 || a > b ||
		    s->nallowed >= NB_MAX_PORTS) {
			field_why(err, errlen, "FIREBREAK_NB_ALLOWED_PORTS: cannot parse '%.40s' (ports or "
				  "ranges 0-65535, comma-separated, at most %d)", tok, NB_MAX_PORTS);
			return FB_E_CONFIG;
		}
		s->allowed[s->nallowed].from = (int)a;
		s->allowed[s->nallowed].to = (int)b;
		s->nallowed++;
	}
	return FB_OK;
}

/* arn:<partition>:wafv2:<region>:<account>:(regional|global)/ipset/<name>/<id> */
static enum fb_err nb_ipset_parse(struct nb_settings *s, const char *arn, char *err, size_t errlen)
{
	char tmp[512], *f[6], *p, *rest, *name, *id;
	size_t i;

	if (strlen(arn) >= sizeof(tmp))
		goto bad;
	buf_copy_str(tmp, sizeof(tmp), arn);
	p = tmp;
	for (i = 0; i < 5; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (!p)
			goto bad;
		*p++ = '\0';
	}
	rest = p;
	if (strcmp(f[0], "arn") || strcmp(f[2], "wafv2") || !resp_region_name_ok(f[3]) ||
	    !resp_account_id_ok(f[4]))
		goto bad;
	if (!strncmp(rest, "regional/ipset/", 15)) {
		buf_copy_str(s->ipset_scope, sizeof(s->ipset_scope), "REGIONAL");
		rest += 15;
	} else if (!strncmp(rest, "global/ipset/", 13)) {
		/* CloudFront's IP sets live in us-east-1 whatever the ARN's Region */
		if (strcmp(f[3], "us-east-1"))
			goto bad;
		buf_copy_str(s->ipset_scope, sizeof(s->ipset_scope), "CLOUDFRONT");
		rest += 13;
	} else {
		goto bad;
	}
	name = rest;
	id = strchr(rest, '/');
	if (!id)
		goto bad;
	*id++ = '\0';
	if (!*name || strlen(name) > 128 || strlen(id) < 1 || strlen(id) >= NB_ID_LEN || strchr(id, '/'))
		goto bad;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			goto bad;
	for (p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			goto bad;
	buf_copy_str(s->ipset_arn, sizeof(s->ipset_arn), arn);
	buf_copy_str(s->ipset_name, sizeof(s->ipset_name), name);
	buf_copy_str(s->ipset_id, sizeof(s->ipset_id), id);
	buf_copy_str(s->ipset_region, sizeof(s->ipset_region), f[3]);
	buf_copy_str(s->ipset_account, sizeof(s->ipset_account), f[4]);
	return FB_OK;
bad:
	field_why(err, errlen, "FIREBREAK_NB_IPSET_ARN: not a WAFv2 IP set ARN "
		  "(arn:aws:wafv2:<region>:<account>:regional|global/ipset/<name>/<id>; global only in us-east-1)");
	return FB_E_CONFIG;
}

enum fb_err nb_settings_parse(struct nb_settings *s, const char *ports, const char *ipset_arn,
			      const char *nacl, const char *nacl_rules, const char *never,
			      char *err, size_t errlen)
{
	enum fb_err rc;

	memset(s, 0, sizeof(*s));
	rc = nb_ports_parse(s, ports ? ports : "80,443", err, errlen);
	if (rc != FB_OK)
		return rc;
	if (ipset_arn && *ipset_arn) {
		rc = nb_ipset_parse(s, ipset_arn, err, errlen);
		if (rc != FB_OK)
			return rc;
	}
	if (nacl && *nacl && strcmp(nacl, "true") && strcmp(nacl, "false")) {
		field_why(err, errlen, "FIREBREAK_NB_NACL: 'true' or 'false'");
		return FB_E_CONFIG;
	}
	s->nacl = nacl && !strcmp(nacl, "true");
	s->nacl_min = 1;
	s->nacl_max = 99;
	if (nacl_rules && *nacl_rules) {
		char *end;
		long a, b;

		errno = 0;
		a = strtol(nacl_rules, &end, 10);
		b = *end == '-' ? strtol(end + 1, &end, 10) : -1;
		if (errno || *end || !isdigit((unsigned char)nacl_rules[0]) || a < 1 || b > 32766 || a > b) {
			field_why(err, errlen, "FIREBREAK_NB_NACL_RULES: a range 'min-max' within 1-32766");
			return FB_E_CONFIG;
		}
		s->nacl_min = (int)a;
		s->nacl_max = (int)b;
	}
	if (never && *never) {
		char tmp[2048], *tok, *save = NULL;

		if (strlen(never) >= sizeof(tmp)) {
			field_why(err, errlen, "FIREBREAK_NB_NEVER_BLOCK is too long");
			return FB_E_CONFIG;
		}
		buf_copy_str(tmp, sizeof(tmp), never);
		for (tok = strtok_r(tmp, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			if (s->nnever >= NB_MAX_NEVER || kit_cidr_parse(tok, &s->never[s->nnever]) != 0) {
				field_why(err, errlen, "FIREBREAK_NB_NEVER_BLOCK: cannot parse '%.60s' (CIDRs, "
					  "comma-separated, at most %d)", tok, NB_MAX_NEVER);
				return FB_E_CONFIG;
			}
			s->nnever++;
		}
	}
	return FB_OK;
}

enum fb_err nb_settings_from_env(struct nb_settings *s, char *err, size_t errlen)
{
	return nb_settings_parse(s, getenv("FIREBREAK_NB_ALLOWED_PORTS"), getenv("FIREBREAK_NB_IPSET_ARN"),
				 getenv("FIREBREAK_NB_NACL"), getenv("FIREBREAK_NB_NACL_RULES"),
				 getenv("FIREBREAK_NB_NEVER_BLOCK"), err, errlen);
}

/* ---- rules ------------------------------------------------------------------------ */

static int nb_port_allowed(const struct nb_settings *s, long p)
{
	size_t i;

	for (i = 0; i < s->nallowed; i++)
		if (p >= s->allowed[i].from && p <= s->allowed[i].to)
			return 1;
	return 0;
}

enum nb_rule_verdict nb_rule_decide(const cJSON *rule, const char *group_id,
				    const struct nb_settings *s, char *why, size_t whylen)
{
	const char *rid = jstr(rule, "securityGroupRuleId"), *gid = jstr(rule, "groupId");
	const char *proto = jstr(rule, "ipProtocol");
	const char *v4 = jstr(rule, "cidrIpv4"), *v6 = jstr(rule, "cidrIpv6");
	long from, to, p;

	if (!rid || !gid || !proto) {
		field_why(why, whylen, "the rule as EC2 describes it lacks its id, group or protocol: kept");
		return NB_RULE_KEEP;
	}
	if (!group_id || strcmp(gid, group_id)) {
		field_why(why, whylen, "rule '%s' belongs to '%s', not to '%s': kept", rid, gid,
			  group_id ? group_id : "");
		return NB_RULE_KEEP;
	}
	if (jtrue(rule, "isEgress")) {
		field_why(why, whylen, "rule '%s' is an egress rule: kept", rid);
		return NB_RULE_KEEP;
	}
	if (!((v4 && nb_cidr_is_world(v4)) || (v6 && nb_cidr_is_world(v6)))) {
		field_why(why, whylen, "rule '%s' is not open to the world (source %s): kept", rid,
			  v4 ? v4 : v6 ? v6 : jstr(rule, "prefixListId") ? "a prefix list" : "a security group");
		return NB_RULE_KEEP;
	}
	if (!strcmp(proto, "-1") || !strcasecmp(proto, "all")) {
		field_why(why, whylen, "rule '%s' opens every protocol and port to %s", rid, v4 ? v4 : v6);
		return NB_RULE_REVOKE;
	}
	if (!strcasecmp(proto, "icmp") || !strcasecmp(proto, "icmpv6") || !strcmp(proto, "1") ||
	    !strcmp(proto, "58")) {
		/* ICMP carries no port: path MTU discovery and ping, not a service */
		field_why(why, whylen, "rule '%s' is %s, which has no ports: kept", rid, proto);
		return NB_RULE_KEEP;
	}
	if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcmp(proto, "6") && strcmp(proto, "17")) {
		field_why(why, whylen, "rule '%s' opens protocol %s (all of it) to %s", rid, proto, v4 ? v4 : v6);
		return NB_RULE_REVOKE;
	}
	if (!jint(rule, "fromPort", &from) || !jint(rule, "toPort", &to) || from < 0 || to > 65535 ||
	    from > to) {
		/* a tcp/udp rule always has its ports: an answer without them is not understood */
		field_why(why, whylen, "rule '%s': ports not understood: kept", rid);
		return NB_RULE_KEEP;
	}
	for (p = from; p <= to; p++)
		if (!nb_port_allowed(s, p)) {
			if (from == to)
				field_why(why, whylen, "rule '%s' opens %s port %ld to %s", rid, proto, from,
					  v4 ? v4 : v6);
			else
				field_why(why, whylen, "rule '%s' opens %s ports %ld-%ld to %s (port %ld is not "
					  "allowed)", rid, proto, from, to, v4 ? v4 : v6, p);
			return NB_RULE_REVOKE;
		}
	field_why(why, whylen, "rule '%s' opens only allowed ports (%ld-%ld, FIREBREAK_NB_ALLOWED_PORTS): kept",
		  rid, from, to);
	return NB_RULE_KEEP;
}

static cJSON *nb_tags(const cJSON *rule)
{
	const cJSON *t;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(t, jlist(rule, "tagSet")) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "Key", jstr(t, "key") ? jstr(t, "key") : "");
		cJSON_AddStringToObject(o, "Value", jstr(t, "value") ? jstr(t, "value") : "");
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

cJSON *nb_rule_json(const cJSON *rule)
{
	cJSON *o = cJSON_CreateObject();
	long n;
	static const char *const str[][2] = {
		{ "securityGroupRuleId", "SecurityGroupRuleId" }, { "groupId", "GroupId" },
		{ "groupOwnerId", "GroupOwnerId" }, { "ipProtocol", "IpProtocol" },
		{ "cidrIpv4", "CidrIpv4" }, { "cidrIpv6", "CidrIpv6" }, { "prefixListId", "PrefixListId" },
		{ "description", "Description" },
	};
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		if (jstr(rule, str[i][0]))
			cJSON_AddStringToObject(o, str[i][1], jstr(rule, str[i][0]));
	cJSON_AddBoolToObject(o, "IsEgress", jtrue(rule, "isEgress"));
	if (jint(rule, "fromPort", &n))
		cJSON_AddNumberToObject(o, "FromPort", (double)n);
	if (jint(rule, "toPort", &n))
		cJSON_AddNumberToObject(o, "ToPort", (double)n);
	if (jstr(cJSON_GetObjectItemCaseSensitive(rule, "referencedGroupInfo"), "groupId"))
		cJSON_AddStringToObject(o, "ReferencedGroupId",
					jstr(cJSON_GetObjectItemCaseSensitive(rule, "referencedGroupInfo"), "groupId"));
	cJSON_AddItemToObject(o, "Tags", nb_tags(rule));
	return o;
}

cJSON *nb_rule_restore_args(const cJSON *rule)
{
	cJSON *a = cJSON_CreateObject(), *perms, *p, *ranges, *r, *tags;
	const char *proto = jstr(rule, "ipProtocol"), *v4 = jstr(rule, "cidrIpv4"), *v6 = jstr(rule, "cidrIpv6");
	const char *desc = jstr(rule, "description");
	long n;

	if (!a)
		return NULL;
	cJSON_AddStringToObject(a, "GroupId", jstr(rule, "groupId") ? jstr(rule, "groupId") : "");
	perms = cJSON_AddArrayToObject(a, "IpPermissions");
	p = cJSON_CreateObject();
	cJSON_AddItemToArray(perms, p);
	cJSON_AddStringToObject(p, "IpProtocol", proto ? proto : "-1");
	if (proto && strcmp(proto, "-1")) {
		if (jint(rule, "fromPort", &n))
			cJSON_AddNumberToObject(p, "FromPort", (double)n);
		if (jint(rule, "toPort", &n))
			cJSON_AddNumberToObject(p, "ToPort", (double)n);
	}
	ranges = cJSON_AddArrayToObject(p, v4 ? "IpRanges" : "Ipv6Ranges");
	r = cJSON_CreateObject();
	cJSON_AddItemToArray(ranges, r);
	cJSON_AddStringToObject(r, v4 ? "CidrIp" : "CidrIpv6", v4 ? v4 : v6 ? v6 : "");
	if (desc && *desc)
		cJSON_AddStringToObject(r, "Description", desc);
	tags = nb_tags(rule);
	if (cJSON_GetArraySize(tags) > 0) {
		cJSON *ts = cJSON_AddArrayToObject(a, "TagSpecifications"), *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "ResourceType", "security-group-rule");
		cJSON_AddItemToObject(t, "Tags", tags);
		cJSON_AddItemToArray(ts, t);
	} else {
		cJSON_Delete(tags);
	}
	return a;
}

/* ---- events ------------------------------------------------------------------------ */

static enum fb_err nb_add_rule(struct nb_event *ev, const char *rid, const char *gid, char *why, size_t wn)
{
	if (!nb_id_ok(rid, "sgr"))
		return field_bad(why, wn, "'%.64s' is not a security group rule id (sgr-...)", rid ? rid : "(missing)");
	if (gid && !nb_id_ok(gid, "sg"))
		return field_bad(why, wn, "'%.64s' is not a security group id (sg-...)", gid);
	if (gid && field_same(ev->group_id, sizeof(ev->group_id), gid))
		return field_bad(why, wn, "the rules name two groups ('%s', '%s')", ev->group_id, gid);
	if (field_set_add(ev->rule_ids[0], NB_ID_LEN, &ev->nrules, NB_MAX_RULES, rid) == -1)
		return field_bad(why, wn, "more than %d rule ids", NB_MAX_RULES);
	return FB_OK;
}

static enum fb_err nb_add_ip(struct nb_event *ev, const char *ip, char *why, size_t wn)
{
	struct kit_cidr c;

	if (!ip || strlen(ip) >= NB_IP_LEN || kit_cidr_parse(ip, &c) != 0)
		return field_bad(why, wn, "'%.64s' is not an IP address", ip ? ip : "(missing)");
	/* full: the finding's first NB_MAX_IPS addresses, the rest left out */
	field_set_add(ev->ips[0], NB_IP_LEN, &ev->nips, NB_MAX_IPS, ip);
	return FB_OK;
}

/* CloudTrail: AuthorizeSecurityGroupIngress / ModifySecurityGroupRules */
static enum fb_err nb_parse_call(struct nb_event *ev, const cJSON *d, char *why, size_t wn)
{
	const cJSON *rp = cJSON_GetObjectItemCaseSensitive(d, "requestParameters");
	const cJSON *re = cJSON_GetObjectItemCaseSensitive(d, "responseElements");
	const cJSON *it, *ec = cJSON_GetObjectItemCaseSensitive(d, "errorCode");
	const char *name = jstr(d, "eventName");
	enum fb_err rc;

	if (!name)
		return field_bad(why, wn, "no 'detail.eventName'");
	buf_copy_str(ev->event_name, sizeof(ev->event_name), name);
	buf_copy_str(ev->event_id, sizeof(ev->event_id), jstr(d, "eventID"));
	buf_copy_str(ev->actor, sizeof(ev->actor), resp_get_str(d, "userIdentity.arn"));
	nb_where(ev, d, "recipientAccountId", "awsRegion", "eventTime");
	if (ec && !cJSON_IsNull(ec)) {
		ev->kind = NB_SKIP;
		field_why(ev->why, sizeof(ev->why), "the call failed (%.80s): it changed nothing",
			  cJSON_IsString(ec) ? ec->valuestring : "errorCode");
		return FB_OK;
	}
	ev->kind = NB_SG;
	if (!strcmp(name, "AuthorizeSecurityGroupIngress")) {
		const char *g = jstr(rp, "groupId");

		if (g && !nb_id_ok(g, "sg"))
			return field_bad(why, wn, "'%.64s' is not a security group id (sg-...)", g);
		if (g)
			buf_copy_str(ev->group_id, sizeof(ev->group_id), g);
		if (resp_get(re, "securityGroupRuleSet.items") && !cJSON_IsArray(resp_get(re, "securityGroupRuleSet.items")))
			return field_bad(why, wn, "'responseElements.securityGroupRuleSet.items' is not an array");
		cJSON_ArrayForEach(it, resp_get(re, "securityGroupRuleSet.items")) {
			if (!cJSON_IsObject(it))
				return field_bad(why, wn, "'securityGroupRuleSet.items' holds a non-object");
			if (jtrue(it, "isEgress"))
				continue;
			rc = nb_add_rule(ev, jstr(it, "securityGroupRuleId"), jstr(it, "groupId"), why, wn);
			if (rc != FB_OK)
				return rc;
		}
	} else if (!strcmp(name, "ModifySecurityGroupRules")) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(rp, "ModifySecurityGroupRulesRequest");
		const cJSON *rules = cJSON_GetObjectItemCaseSensitive(m, "SecurityGroupRule");
		const char *g = jstr(m, "GroupId");

		if (!g || !nb_id_ok(g, "sg"))
			return field_bad(why, wn, "'%.64s' is not a security group id (sg-...)", g ? g : "(missing GroupId)");
		buf_copy_str(ev->group_id, sizeof(ev->group_id), g);
		/* one rule is an object, several an array (CloudTrail's XML-to-JSON) */
		if (cJSON_IsObject(rules)) {
			rc = nb_add_rule(ev, jstr(rules, "SecurityGroupRuleId"), g, why, wn);
			if (rc != FB_OK)
				return rc;
		} else if (cJSON_IsArray(rules)) {
			cJSON_ArrayForEach(it, rules) {
				rc = nb_add_rule(ev, jstr(it, "SecurityGroupRuleId"), g, why, wn);
				if (rc != FB_OK)
					return rc;
			}
		}
	} else {
		field_why(why, wn, "'%.64s' is not a call net-block handles (AuthorizeSecurityGroupIngress, "
			  "ModifySecurityGroupRules)", name);
		return FB_E_INVALID;
	}
	if (ev->nrules == 0) {
		/* never fall back to revoking by port: that is how other tools cut
		 * rules that shared the port */
		ev->kind = NB_SKIP;
		field_why(ev->why, sizeof(ev->why), "the record names no ingress rule id "
			  "(responseElements.securityGroupRuleSet): nothing is revoked by port");
		return FB_OK;
	}
	if (!ev->group_id[0])
		return field_bad(why, wn, "no security group id in the record");
	return FB_OK;
}

static enum fb_err nb_parse_finding(struct nb_event *ev, const cJSON *d, char *why, size_t wn)
{
	const cJSON *act = resp_get(d, "service.action"), *it;
	const char *type = jstr(d, "type"), *at = jstr(act, "actionType");
	const cJSON *eni = cJSON_GetArrayItem(resp_get(d, "resource.instanceDetails.networkInterfaces"), 0);
	enum fb_err rc;

	if (!type)
		return field_bad(why, wn, "no 'detail.type' in the finding");
	buf_copy_str(ev->event_name, sizeof(ev->event_name), type);
	buf_copy_str(ev->event_id, sizeof(ev->event_id), jstr(d, "id"));
	nb_where(ev, d, "accountId", "region", "updatedAt");
	if (nb_id_ok(jstr(eni, "subnetId"), "subnet"))
		buf_copy_str(ev->subnet_id, sizeof(ev->subnet_id), jstr(eni, "subnetId"));
	if (nb_id_ok(resp_get_str(d, "resource.instanceDetails.instanceId"), "i"))
		buf_copy_str(ev->instance_id, sizeof(ev->instance_id),
			     resp_get_str(d, "resource.instanceDetails.instanceId"));
	ev->kind = NB_BLOCK;
	if (cJSON_IsTrue(resp_get(d, "service.additionalInfo.sample"))) {
		ev->kind = NB_SKIP;
		field_why(ev->why, sizeof(ev->why), "a sample finding (service.additionalInfo.sample): nothing blocked");
		return FB_OK;
	}
	if (cJSON_IsTrue(resp_get(d, "service.archived"))) {
		ev->kind = NB_SKIP;
		field_why(ev->why, sizeof(ev->why), "an archived finding: nothing blocked");
		return FB_OK;
	}
	if (at && !strcmp(at, "NETWORK_CONNECTION")) {
		const cJSON *nc = cJSON_GetObjectItemCaseSensitive(act, "networkConnectionAction");
		const char *dir = jstr(nc, "connectionDirection"), *role = resp_get_str(d, "service.resourceRole");
		const char *ip = resp_get_str(nc, "remoteIpDetails.ipAddressV4");

		/* Outbound, or our instance the actor: the remote address is its
		 * victim, not an attacker. Blocking it would protect nothing and
		 * could be steered at anyone. */
		if (!dir || strcmp(dir, "INBOUND") || (role && strcmp(role, "TARGET"))) {
			ev->kind = NB_SKIP;
			field_why(ev->why, sizeof(ev->why), "connection %s, resource role %s: the remote address is "
				  "not an attacker of this account: nothing blocked", dir ? dir : "(unknown)",
				  role ? role : "(unknown)");
			return FB_OK;
		}
		if (!ip)
			ip = resp_get_str(nc, "remoteIpDetails.ipAddressV6");
		rc = nb_add_ip(ev, ip, why, wn);
		if (rc != FB_OK)
			return rc;
	} else if (at && !strcmp(at, "PORT_PROBE")) {
		cJSON_ArrayForEach(it, resp_get(act, "portProbeAction.portProbeDetails")) {
			const char *ip = resp_get_str(it, "remoteIpDetails.ipAddressV4");

			if (!ip)
				ip = resp_get_str(it, "remoteIpDetails.ipAddressV6");
			rc = nb_add_ip(ev, ip, why, wn);
			if (rc != FB_OK)
				return rc;
		}
	}
	if (ev->nips == 0) {
		ev->kind = NB_SKIP;
		field_why(ev->why, sizeof(ev->why), "the finding (action %s) names no remote attacker address: "
			  "nothing blocked", at ? at : "(none)");
	}
	return FB_OK;
}

static enum fb_err nb_parse_manual(struct nb_event *ev, const cJSON *root, char *why, size_t wn)
{
	const cJSON *g = jget(root, "groupId"), *ids = jget(root, "ruleIds");
	const cJSON *ip = jget(root, "ip"), *un = jget(root, "unblock");
	const cJSON *addr = ip ? ip : un, *it;   /* the block or the unblock form */
	const char *form = ip ? "ip" : "unblock";
	enum fb_err rc;
	int forms = (g || ids) + !!ip + !!un;

	ev->manual = 1;
	buf_copy_str(ev->event_name, sizeof(ev->event_name), "manual");
	if (forms != 1)
		return field_bad(why, wn, "a manual event is one of {\"groupId\", \"ruleIds\"}, {\"ip\"} or "
				 "{\"unblock\"}");
	if (g || ids) {
		if (!cJSON_IsString(g) || !nb_id_ok(g->valuestring, "sg"))
			return field_bad(why, wn, "'groupId' is not a security group id (sg-...)");
		if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0)
			return field_bad(why, wn, "'ruleIds' must be a non-empty array of sgr-... ids");
		cJSON_ArrayForEach(it, ids) {
			rc = nb_add_rule(ev, cJSON_GetStringValue(it), g->valuestring, why, wn);
			if (rc != FB_OK)
				return rc;
		}
		ev->kind = NB_SG;
		return FB_OK;
	}
	if (cJSON_IsArray(addr)) {
		/* restore[] names all of a finding's addresses in one entry */
		if (cJSON_GetArraySize(addr) < 1 || cJSON_GetArraySize(addr) > NB_MAX_IPS)
			return field_bad(why, wn, "'%s' must hold 1 to %d addresses", form, NB_MAX_IPS);
		cJSON_ArrayForEach(it, addr) {
			rc = nb_add_ip(ev, cJSON_GetStringValue(it), why, wn);
			if (rc != FB_OK)
				return rc;
		}
		ev->kind = ip ? NB_BLOCK : NB_UNBLOCK;
		return FB_OK;
	}
	if (!cJSON_IsString(addr))
		return field_bad(why, wn, "'%s' must be a string", form);
	rc = nb_add_ip(ev, addr->valuestring, why, wn);
	if (rc != FB_OK)
		return rc;
	ev->kind = ip ? NB_BLOCK : NB_UNBLOCK;
	return FB_OK;
}

enum fb_err nb_parse(const char *text, size_t len, struct nb_event *ev, char *why, size_t whylen)
{
	const char *src, *dt;
	const cJSON *d, *acct, *reg;
	enum fb_err rc;

	memset(ev, 0, sizeof(*ev));
	rc = resp_parse_event(text, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen);
	if (rc != FB_OK)
		return rc;
	src = jstr(ev->root, "source");
	dt = jstr(ev->root, "detail-type");
	d = cJSON_GetObjectItemCaseSensitive(ev->root, "detail");
	if (cJSON_GetObjectItemCaseSensitive(ev->root, "source") && !src)
		return field_bad(why, whylen, "'source' is not a string");
	nb_where(ev, ev->root, "account", "region", "time");
	if (!src) {
		rc = nb_parse_manual(ev, ev->root, why, whylen);
	} else if (!strcmp(src, "aws.ec2") && dt && !strcmp(dt, "AWS API Call via CloudTrail") &&
		   cJSON_IsObject(d)) {
		rc = nb_parse_call(ev, d, why, whylen);
	} else if (!strcmp(src, "aws.guardduty") && dt && !strcmp(dt, "GuardDuty Finding") && cJSON_IsObject(d)) {
		rc = nb_parse_finding(ev, d, why, whylen);
	} else {
		field_why(why, whylen, "not an event net-block handles (source '%.64s', detail-type '%.64s')", src,
			  dt ? dt : "");
		rc = FB_E_INVALID;
	}
	if (rc != FB_OK)
		return rc;
	acct = cJSON_GetObjectItemCaseSensitive(ev->root, "account");
	reg = cJSON_GetObjectItemCaseSensitive(ev->root, "region");
	if ((ev->account[0] && !resp_account_id_ok(ev->account)) || (acct && !cJSON_IsString(acct)))
		return field_bad(why, whylen, "'account' is not an account id");
	if ((ev->region[0] && !resp_region_name_ok(ev->region)) || (reg && !cJSON_IsString(reg)))
		return field_bad(why, whylen, "'region' is not a region name");
	return FB_OK;
}

void nb_event_cleanup(struct nb_event *ev)
{
	if (ev)
		field_json_free(&ev->root);
}
