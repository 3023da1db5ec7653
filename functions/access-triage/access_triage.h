/*
 * access-triage: the pure stages (stages.c) of the unauthorized-API-calls
 * responder (issue 21). main.c runs them on the kit; tests/unit/
 * test_access_triage.c feeds them events and LookupEvents pages.
 *
 * The flow: at_parse() turns the trigger (a CloudWatch alarm state change
 * to ALARM for the configured alarm, or the manual {"window_minutes": N})
 * into a time window; the window's CloudTrail events are read by main.c
 * (LookupEvents cannot filter on errorCode or source IP, so every event of
 * the window is read, page-capped) and fed page by page to at_add_page();
 * at_decide() gives each (principal, source IP) group its verdict.
 */
#ifndef FB_ACCESS_TRIAGE_H
#define FB_ACCESS_TRIAGE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"
#include "kit.h"

#define AT_NAME_LEN 256
#define AT_ARN_LEN 512
#define AT_IP_LEN 64
#define AT_MAX_GROUPS 256    /* groups kept; more are counted, not kept */
#define AT_MAX_APIS 32       /* distinct APIs kept per group */
#define AT_MAX_AGENTS 4      /* distinct user agents kept per group */
#define AT_AGENT_LEN 128
#define AT_MAX_CIDRS 32
#define AT_SRC_WRITES 8      /* successful write calls kept per source IP */
#define AT_SRC_READS 4       /* successful read calls kept per source IP */
#define AT_SRC_OTHERS 4      /* other principals named per source IP */

struct at_settings {
	char alarm_name[AT_NAME_LEN]; /* FIREBREAK_AT_ALARM_NAME (unauthorized-api-calls) */
	int window_minutes;           /* FIREBREAK_AT_WINDOW_MINUTES: alarm window (15) */
	int lookback_minutes;         /* FIREBREAK_AT_LOOKBACK_MINUTES: read before it (15) */
	int max_pages;                /* FIREBREAK_AT_MAX_PAGES: LookupEvents page cap (20) */
	int max_principals;           /* FIREBREAK_AT_MAX_PRINCIPALS: listed in the report (20) */
	int burst_apis;               /* FIREBREAK_AT_BURST_APIS: distinct denied read APIs (5) */
	int burst_services;           /* FIREBREAK_AT_BURST_SERVICES: across services (2) */
	char noisy[1024];             /* FIREBREAK_AT_NOISY_PRINCIPALS: comma list of globs */
	char log_group[AT_NAME_LEN * 2]; /* FIREBREAK_AT_LOG_GROUP: the trail's CloudWatch Logs
				      * group ("" : LookupEvents) */
	int query_wait_s;             /* FIREBREAK_AT_QUERY_WAIT_SECONDS: Insights polling budget (60) */
	int query_limit;              /* FIREBREAK_AT_QUERY_LIMIT: Insights rows per query (10000) */
	int poll_ms;                  /* FIREBREAK_AT_POLL_MS: first GetQueryResults interval (250) */
	struct kit_cidr trusted[AT_MAX_CIDRS]; /* FIREBREAK_AT_TRUSTED_CIDRS: the organisation's own
				      * egress (NAT gateways, offices, VPN): shared by many
				      * principals, never blocked */
	size_t ntrusted;
	int contain;                  /* FIREBREAK_TRIAGE_CONTAIN=true: contain P1 principals (off) */
	char ipset_arn[AT_NAME_LEN * 2]; /* FIREBREAK_AT_IPSET_ARN: net-block's WAFv2 IP set ("": none) */
	char ipset_name[129], ipset_id[64], ipset_scope[16], ipset_region[32], ipset_account[16];
};

/* ---- CloudWatch Logs Insights (the read when the trail delivers to CloudWatch Logs) ----
 * CloudTrail writes each record as one JSON log event; Insights discovers
 * its fields (userIdentity.arn, errorCode, ...). The queries select the
 * whole record (@message): the same stages then read LookupEvents and
 * Insights alike. */
#define AT_QUERY_MAX_IPS 50           /* source IPs in the successes query */
/* The denied calls of the window (the CIS filter's two patterns), newest
 * first. Caller frees. */
char *at_query_denied(int limit);
/* The successful calls (no errorCode) from the source IPs with denials,
 * by any principal. Only real IP addresses go into the query (a
 * sourceIPAddress like "AWS Internal" or "ec2.amazonaws.com" is not a
 * source and could not be quoted safely anyway); at most AT_QUERY_MAX_IPS,
 * *nips says how many went in, *left how many did not. NULL when none (or
 * out of memory); caller frees. */
struct at_triage;
char *at_query_successes(const struct at_triage *t, int limit, size_t *nips, size_t *left);
/* GetQueryResults' status: AT_Q_RUNNING (Scheduled, Running, Unknown),
 * AT_Q_COMPLETE, AT_Q_ENDED (Failed, Timeout, Cancelled: what was returned
 * is partial), AT_Q_BAD (absent or anything else). */
enum at_qstatus { AT_Q_RUNNING, AT_Q_COMPLETE, AT_Q_ENDED, AT_Q_BAD };
enum at_qstatus at_query_status(const char *status);
/* GetQueryResults' "results" (rows of {field, value}) -> an array of
 * {"CloudTrailEvent": <@message>} that at_add_events/at_add_denials/
 * at_add_successes read like LookupEvents' Events. Rows without @message
 * are passed over. NULL when out of memory; caller deletes. */
cJSON *at_insights_events(const cJSON *results);

/* Settings from the environment (defaults above); FB_E_CONFIG + err. */
enum fb_err at_settings_from_env(struct at_settings *s, char *err, size_t errlen);
void at_settings_default(struct at_settings *s);

enum at_kind { AT_ALARM, AT_MANUAL, AT_SKIP };

struct at_event {
	enum at_kind kind;
	cJSON *root;                  /* owned: the parsed event */
	char alarm[AT_NAME_LEN];
	char event_id[128];
	int64_t start_ms, end_ms;     /* the window read (lookback included) */
	char why[256];                /* AT_SKIP: why nothing is done */
};

/* Parses the trigger. now_ms is the manual window's end. An alarm for
 * another alarm name, or a state other than ALARM, is AT_SKIP (not an
 * error: the rule may be wider than the setting). FB_E_INVALID + why for
 * anything malformed. ev->root is set on FB_OK; at_event_cleanup() always. */
enum fb_err at_parse(const char *event, size_t len, const struct at_settings *set, int64_t now_ms,
		     struct at_event *ev, char *why, size_t whylen);
void at_event_cleanup(struct at_event *ev);

/* One (principal, source IP) and what it did in the window. */
struct at_group {
	char principal[AT_ARN_LEN];   /* userIdentity.arn, or type:accountId for root/others */
	char ip[AT_IP_LEN];
	int root;                     /* userIdentity.type Root */
	char type[24];                /* userIdentity.type: IAMUser, AssumedRole, ... */
	char account[16];             /* userIdentity.accountId */
	char user[128];               /* IAMUser: userName */
	char key_id[32];              /* IAMUser: the first long-term key (AKIA...) denied */
	char role_arn[AT_ARN_LEN];    /* AssumedRole: sessionContext.sessionIssuer.arn */
	int leaked;                   /* the key is already reported leaked (AWS's state) */
	char leaked_why[160];
	int denied;
	int denied_reads;             /* denied List*, Describe*, Get*, Head* */
	char apis[AT_MAX_APIS][96];   /* distinct denied "service:Name" */
	int napis;
	int apis_more;                /* distinct denied APIs not kept */
	char services[AT_MAX_APIS][64];
	int nservices;
	int64_t first_ms, last_ms;    /* denials */
	char agents[AT_MAX_AGENTS][AT_AGENT_LEN];
	int nagents;
	int ok_writes, ok_reads;      /* successful calls, same principal and IP */
	char writes[8][96];           /* first successful write APIs */
	int nwrites;
	char sev[4];                  /* at_decide: "P1" "P2" "P3" */
	char reason[400];
};

/* A source IP with denials and every successful call from it in the
 * window, by any principal (issue 21: a second principal succeeding from
 * the attacker's IP is a P1 reason). Only IP addresses are sources
 * ("AWS Internal" and service names are not). */
struct at_call {
	char principal[AT_ARN_LEN];
	char api[96];
};
struct at_src {
	char ip[AT_IP_LEN];
	int ok_writes, ok_reads;      /* by any principal */
	int other_ok;                 /* by principals never denied from this IP */
	struct at_call writes[AT_SRC_WRITES]; /* the first ones; reported before reads */
	int nwrites;
	struct at_call reads[AT_SRC_READS];
	int nreads;
	char others[AT_SRC_OTHERS][AT_ARN_LEN]; /* principals never denied from this IP */
	int nothers, others_more;
	int trusted;                  /* at_decide: in FIREBREAK_AT_TRUSTED_CIDRS */
};

struct at_triage {
	struct at_src *src;           /* owned */
	size_t nsrc, srccap;
	struct at_group *g;           /* owned */
	size_t n, cap;
	size_t groups_dropped;        /* denials of groups beyond AT_MAX_GROUPS */
	size_t events, denied, unreadable;
	int64_t start_ms, end_ms;     /* events outside are not counted */
};

void at_triage_init(struct at_triage *t, int64_t start_ms, int64_t end_ms);
void at_triage_cleanup(struct at_triage *t);
/* A LookupEvents answer ({"Events": [...]}) or an array of events: the
 * denials, then the successes joined to them. FB_E_NOMEM only. */
enum fb_err at_add_events(struct at_triage *t, const cJSON *events);
/* The two halves, for reads that return them separately (Insights):
 * denials first (they make the groups), then the successes. */
enum fb_err at_add_denials(struct at_triage *t, const cJSON *events);
void at_add_successes(struct at_triage *t, const cJSON *events);
/* Is this errorCode a denial (the CIS metric filter:
 * "*UnauthorizedOperation" or "AccessDenied*")? */
int at_is_denied(const char *code);
/* Is the call a read (readOnly, else by its name's prefix)? */
int at_is_read(const char *name, const cJSON *read_only);
/* Verdicts per group, then sorts P1 first (then by denials); returns the
 * worst ("P1".."P3"; "" when no group). */
const char *at_decide(struct at_triage *t, const struct at_settings *set);
/* The report's "principals" (at most max; the rest summarised in *more). */
cJSON *at_report(const struct at_triage *t, int max, cJSON **more);
/* "Already reported leaked", from AWS's state for the user of a long-term
 * access key (not from the event: a record names the key, only IAM says
 * what became of it). attached: the user's AttachedPolicies; keys: its
 * AccessKeyMetadata (either may be NULL). 1 with why when
 *  - an AWS-managed AWSCompromisedKeyQuarantine* policy is attached (AWS
 *    attaches it when it finds one of the user's keys exposed in public);
 *  - key_id is Inactive now (someone already deactivated it: iam-contain,
 *    a leak response, an administrator acting on AWS's notice).
 * An attached policy of that name in a customer account is not AWS's:
 * only arn:<partition>:iam::aws:policy/ counts. */
int at_key_leaked(const cJSON *attached, const cJSON *keys, const char *key_id, char *why, size_t whylen);
/* A long-term access key id (AKIA + 16 upper-case letters/digits). */
int at_is_long_term_key(const char *id);

/* An attacker address the containment may put in the WAF IP set: an IP
 * address (not a service name), globally routable (not unspecified,
 * loopback, private, shared, link-local, multicast: a private source came
 * through a VPC endpoint from inside, which a WAF does not see and
 * instance-quarantine is for), outside the trusted CIDRs. Its host route
 * ("a.b.c.d/32", "x::y/128", the form WAF stores) into out. 1, or 0 with
 * why. Never a range: nothing a record says can widen it to 0.0.0.0/0. */
int at_block_ip(const struct at_settings *set, const char *ip, char *out, size_t outlen, char *why, size_t whylen);
/* The set read (Addresses) plus the host routes of family `v6`, *out the
 * complete new list (caller deletes). 1 when it changed, 0 when all were
 * there, -1 when the set would exceed WAF's 10,000 addresses. */
int at_ipset_merge(const cJSON *addresses, const char *const *routes, size_t n, cJSON **out);
/* The role name of the function's own session ARN (arn:...:sts::<acct>:
 * assumed-role/<name>/<session>) into out; 1 when it parses. */
int at_caller_role(const char *caller_arn, char *out, size_t outlen);

/* The source IP entry of ip, NULL when none. */
const struct at_src *at_source(const struct at_triage *t, const char *ip);
/* The report's "sources": per source IP with denials, the successful
 * calls from it by any principal, writes first (at most max sources). */
cJSON *at_report_sources(const struct at_triage *t, int max);

#endif
