/*
 * fuzz_net_block: net-block's pure stages (functions/net-block/stages.c,
 * declared in net_block.h). The first byte picks the stage:
 *   0 the event text -> nb_parse (CloudTrail Authorize/Modify, GuardDuty
 *     finding, manual forms); every accepted rule id, group id and subnet id
 *     is well formed (nb_id_ok) and every address parses as a CIDR;
 *   1 a DescribeSecurityGroupRules item (JSON, as aws.c turns EC2's XML
 *     into it) -> nb_rule_decide, nb_rule_json, nb_rule_restore_args; a
 *     revoke is only ever decided for an ingress rule of the group open to
 *     the world;
 *   2 an address -> nb_ip_parse; an accepted address is a /32 or /128
 *     outside the refused ranges;
 *   3 a JSON array of addresses -> nb_ipset_merge (add and remove) of a
 *     fixed host: adding keeps every entry, removing drops only that host;
 *   4 a network ACL (JSON) -> nb_nacl_pick within 1-99.
 * FUZZ_SOURCES: functions/net-block/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "../../functions/net-block/net_block.h"

static struct nb_settings S;
static int ready;

static void stage_event(const char *s, size_t n)
{
	struct nb_event ev;
	char why[256];
	size_t i;

	if (nb_parse(s, n, &ev, why, sizeof(why)) == FB_OK) {
		if (ev.kind == NB_SG) {
			if (!nb_id_ok(ev.group_id, "sg") || ev.nrules == 0 || ev.nrules > NB_MAX_RULES)
				abort();
			for (i = 0; i < ev.nrules; i++)
				if (!nb_id_ok(ev.rule_ids[i], "sgr"))
					abort();
		}
		for (i = 0; i < ev.nips; i++) {
			struct kit_cidr c;

			if (kit_cidr_parse(ev.ips[i], &c) != 0)
				abort();
		}
		if (ev.subnet_id[0] && !nb_id_ok(ev.subnet_id, "subnet"))
			abort();
		if (!memchr(ev.why, '\0', sizeof(ev.why)) || !memchr(ev.actor, '\0', sizeof(ev.actor)))
			abort();
	} else if (!why[0]) {
		abort();
	}
	nb_event_cleanup(&ev);
}

static void stage_rule(const char *s)
{
	cJSON *r = cJSON_Parse(s), *a, *j;
	char why[400];

	if (!r)
		return;
	if (nb_rule_decide(r, "sg-0123456789abcdef0", &S, why, sizeof(why)) == NB_RULE_REVOKE) {
		const char *g = cJSON_GetStringValue(cJSON_GetObjectItem(r, "groupId"));
		const char *v4 = cJSON_GetStringValue(cJSON_GetObjectItem(r, "cidrIpv4"));
		const char *v6 = cJSON_GetStringValue(cJSON_GetObjectItem(r, "cidrIpv6"));
		const cJSON *eg = cJSON_GetObjectItem(r, "isEgress");

		if (!g || strcmp(g, "sg-0123456789abcdef0") || cJSON_IsTrue(eg) ||
		    (cJSON_IsString(eg) && !strcmp(eg->valuestring, "true")) ||
		    !((v4 && nb_cidr_is_world(v4)) || (v6 && nb_cidr_is_world(v6))))
			abort();
	}
	a = nb_rule_restore_args(r);
	j = nb_rule_json(r);
	cJSON_Delete(a);
	cJSON_Delete(j);
	cJSON_Delete(r);
}

static void stage_ip(const char *s)
{
	char canon[NB_IP_LEN], why[256];
	struct kit_cidr c;

	if (nb_ip_parse(s, &S, canon, sizeof(canon), why, sizeof(why))) {
		if (kit_cidr_parse(canon, &c) != 0 || c.prefix != (c.family == AF_INET ? 32 : 128))
			abort();
		if (c.family == AF_INET && (c.addr[0] == 10 || c.addr[0] == 127 || (c.addr[0] == 169 && c.addr[1] == 254) ||
				      (c.addr[0] == 192 && c.addr[1] == 168) || c.addr[0] >= 224))
			abort();
	} else if (!why[0]) {
		abort();
	}
}

static void stage_ipset(const char *s)
{
	cJSON *addrs = cJSON_Parse(s), *out = NULL;
	int n, c;

	if (!addrs)
		return;
	n = cJSON_IsArray(addrs) ? cJSON_GetArraySize(addrs) : 0;
	c = nb_ipset_merge(addrs, "203.0.113.5/32", 0, &out);
	/* adding keeps every string entry and appends the host */
	if (c == 1 && !cJSON_IsString(cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1)))
		abort();
	cJSON_Delete(out);
	out = NULL;
	c = nb_ipset_merge(addrs, "203.0.113.5/32", 1, &out);
	if (c < 0 || cJSON_GetArraySize(out) > n)
		abort();
	cJSON_Delete(out);
	cJSON_Delete(addrs);
}

static void stage_nacl(const char *s)
{
	cJSON *acl = cJSON_Parse(s);
	int existing, n;

	if (!acl)
		return;
	n = nb_nacl_pick(acl, "203.0.113.5/32", 1, 99, &existing);
	if (n != -1 && (n < 1 || n > 99))
		abort();
	cJSON_Delete(acl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *s;

	if (!ready) {
		if (nb_settings_parse(&S, NULL, NULL, NULL, NULL, "198.51.100.0/24", err, sizeof(err)) != FB_OK)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0: stage_event(s, size - 1); break;
	case 1: stage_rule(s); break;
	case 2: stage_ip(s); break;
	case 3: stage_ipset(s); break;
	default: stage_nacl(s); break;
	}
	free(s);
	return 0;
}
