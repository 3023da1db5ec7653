/*
 * net-block: close a port opened to the world, exactly, and block an
 * attacker's address (issue 19). The pure stages (stages.c), unit-tested
 * in tests/unit/test_net_block.c without AWS; main.c runs them on the
 * responder kit (runtime/kit.h).
 *
 *   nb_settings_from_env()  FIREBREAK_NB_* settings
 *   nb_parse()              event -> what to do: the rule ids a CloudTrail
 *                           call created or changed (never a port), the
 *                           attacker addresses of a GuardDuty finding, or
 *                           the manual forms
 *   nb_rule_decide()        one rule as EC2 describes it now -> revoke or
 *                           keep (and why): only an ingress rule of that
 *                           group, open to 0.0.0.0/0 or ::/0, on a port
 *                           outside the allowed set
 *   nb_ip_parse()           an address -> its /32 or /128, or a refusal
 *                           (private, loopback, link-local, multicast,
 *                           reserved, the never-block list)
 *   nb_ipset_merge()        WAFv2 Addresses now + the address -> the new
 *                           list (every existing entry kept), or "already"
 *   nb_nacl_pick()          a network ACL's entries -> the deny already
 *                           there, or the free rule number to use
 */
#ifndef FB_NET_BLOCK_H
#define FB_NET_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "fb_err.h"
#include "kit.h"

#define NB_MAX_RULES 16       /* rule ids per event (AWS: 60 rules per group) */
#define NB_MAX_IPS 8          /* attacker addresses per finding (port probes list several) */
#define NB_MAX_PORTS 32       /* FIREBREAK_NB_ALLOWED_PORTS entries */
#define NB_MAX_NEVER 32       /* FIREBREAK_NB_NEVER_BLOCK CIDRs */
#define NB_ID_LEN 64
#define NB_IP_LEN 64          /* "x/128" in canonical text */
#define NB_IPSET_MAX 10000    /* WAFv2: addresses per IP set */

struct nb_settings {
	struct { int from, to; } allowed[NB_MAX_PORTS]; /* FIREBREAK_NB_ALLOWED_PORTS, default 80,443 */
	size_t nallowed;
	/* FIREBREAK_NB_IPSET_ARN: arn:<p>:wafv2:<region>:<acct>:(regional|global)/ipset/<name>/<id> */
	char ipset_arn[512];
	char ipset_name[129], ipset_id[NB_ID_LEN], ipset_scope[16], ipset_region[32], ipset_account[16];
	int nacl;                 /* FIREBREAK_NB_NACL=true: also a deny entry in the subnet's ACL */
	int nacl_min, nacl_max;   /* FIREBREAK_NB_NACL_RULES, default 1-99 */
	struct kit_cidr never[NB_MAX_NEVER]; /* FIREBREAK_NB_NEVER_BLOCK: own egress, partners */
	size_t nnever;
};

/* Reads the settings (getenv); FB_E_CONFIG with a message when one does
 * not parse: a bad setting stops the function at init, never a guess. */
enum fb_err nb_settings_from_env(struct nb_settings *s, char *err, size_t errlen);
/* The same from explicit values (NULL: default), for tests. */
enum fb_err nb_settings_parse(struct nb_settings *s, const char *ports, const char *ipset_arn,
			      const char *nacl, const char *nacl_rules, const char *never,
			      char *err, size_t errlen);

enum nb_kind {
	NB_SG,        /* CloudTrail Authorize/ModifySecurityGroupRules or manual {groupId, ruleIds} */
	NB_BLOCK,     /* GuardDuty finding or manual {"ip"} */
	NB_UNBLOCK,   /* manual {"unblock": ip or [ips]} */
	NB_SKIP       /* nothing to do (failed call, egress only, outbound finding...): why */
};

struct nb_event {
	cJSON *root;              /* owned: the parsed event */
	enum nb_kind kind;
	int manual;
	char why[256];            /* NB_SKIP: the reason */
	char event_name[64];      /* CloudTrail eventName, GuardDuty type, "manual" */
	char event_id[128];       /* CloudTrail eventID / finding id; "" for manual */
	char actor[512];          /* detail.userIdentity.arn; "" otherwise */
	char account[16], region[32];
	int64_t event_ms;
	/* NB_SG */
	char group_id[NB_ID_LEN];
	char rule_ids[NB_MAX_RULES][NB_ID_LEN];
	size_t nrules;
	/* NB_BLOCK / NB_UNBLOCK: the addresses as sent (checked by nb_ip_parse later) */
	char ips[NB_MAX_IPS][NB_IP_LEN];
	size_t nips;
	char subnet_id[NB_ID_LEN]; /* GuardDuty: the target's subnet (network ACL option) */
	char instance_id[NB_ID_LEN];
};

/* Parses (resp_parse_event) and classifies. FB_E_INVALID with `why` for a
 * bad event: a rule id, group id or address that does not parse is refused
 * here, before any call. */
enum fb_err nb_parse(const char *text, size_t len, struct nb_event *ev, char *why, size_t whylen);
void nb_event_cleanup(struct nb_event *ev);

/* Syntax: sg-<8 or 17 hex>, sgr-<8 or 17 hex>, subnet-..., acl-... */
int nb_id_ok(const char *id, const char *prefix);

/* 0.0.0.0/0 or ::/0 in any spelling. */
int nb_cidr_is_world(const char *s);

/* One rule as DescribeSecurityGroupRules answers it (EC2 XML as aws.h
 * gives it: securityGroupRuleId, groupId, isEgress, ipProtocol, fromPort,
 * toPort, cidrIpv4 / cidrIpv6 / prefixListId / referencedGroupInfo,
 * description, tagSet). */
enum nb_rule_verdict { NB_RULE_REVOKE, NB_RULE_KEEP };
enum nb_rule_verdict nb_rule_decide(const cJSON *rule, const char *group_id,
				    const struct nb_settings *s, char *why, size_t whylen);
/* The rule's full content for the report (API member names). */
cJSON *nb_rule_json(const cJSON *rule);
/* AuthorizeSecurityGroupIngress input that re-creates the rule exactly
 * (protocol, ports, source, description, tags): its restore entry. */
cJSON *nb_rule_restore_args(const cJSON *rule);

/* An address to block: "203.0.113.5", "203.0.113.5/32", "2001:db8::1",
 * ".../128". Writes the canonical "/32" or "/128" form. Returns 1 when it
 * may be blocked; 0 with `why` when it does not parse, is not one host, or
 * is private (RFC 1918, fc00::/7, 100.64/10), loopback, link-local,
 * unspecified, multicast, reserved (240/4, broadcast), IPv4-mapped, or in
 * s->never. */
int nb_ip_parse(const char *ip, const struct nb_settings *s, char *canon, size_t canonlen,
		char *why, size_t whylen);

/* WAFv2 Addresses now (array of CIDR strings) and one canonical address.
 * Block: *out = every existing entry + the address, in order; returns 1,
 * or 0 ("already") when an entry equals it in any spelling, -1 when the
 * set is full. Unblock (`remove`): *out = the entries that are not that
 * address; 1 when one was removed, 0 when absent. Caller frees *out. */
int nb_ipset_merge(const cJSON *addresses, const char *canon, int remove, cJSON **out);

/* A network ACL (DescribeNetworkAcls item, EC2 XML: entrySet[] of
 * {ruleNumber, protocol, ruleAction, egress, cidrBlock | ipv6CidrBlock}).
 * Returns the ingress deny rule number already there for the address
 * within [min, max] (*existing = 1), else the lowest free number in the
 * range (*existing = 0), or -1 when the range is full. */
int nb_nacl_pick(const cJSON *acl, const char *canon, int min, int max, int *existing);

/* A network ACL entry that denies the address (unblock: that entry). */
int nb_nacl_entry_is(const cJSON *entry, const char *canon);

#endif
