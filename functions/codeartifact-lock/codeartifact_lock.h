/*
 * codeartifact-lock: lock a principal out of a CodeArtifact domain (issue
 * 23). The pure stages (stages.c, unit-tested in
 * tests/unit/test_codeartifact_lock.c without AWS); main.c runs them around
 * the kit's rounds. README.md has the decisions and why.
 *
 * Prefix ca_. Alarms are read with runtime/alarm, ARNs split with
 * runtime/arn. The event says which domain and which principal; everything
 * else is decided from the state read: the domain's and repositories'
 * permissions policies as AWS answers them (already locked, which
 * repositories grant the principal, whose account the domain is).
 */
#ifndef FB_CODEARTIFACT_LOCK_H
#define FB_CODEARTIFACT_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"
#include "resp.h"

#define CA_ARN_MAX 512
/* Sid of our Deny: the prefix and 16 hex digits of SHA-256(principal ARN),
 * the same for every run about that principal (idempotency) and distinct
 * between principals (two locks on one domain never collide). */
#define CA_SID_PREFIX "FirebreakCodeArtifactLock"
#define CA_SID_LEN (sizeof(CA_SID_PREFIX) + 16)
/* GetAuthorizationToken durationSeconds: at most 43200 (12 h). */
#define CA_TOKEN_MAX_MS (12LL * 3600 * 1000)
#define CA_DEFAULT_MIN_SEVERITY 4.0

/* Settings (ca_settings_from_env). */
struct ca_settings {
	char alarm[256];          /* FIREBREAK_CA_ALARM: the alarm that triggers ("" none) */
	char domain[64];          /* FIREBREAK_CA_DOMAIN: the domain an alarm/finding is about */
	char domain_owner[16];    /* FIREBREAK_CA_DOMAIN_OWNER ("" the function's account) */
	char principal[CA_ARN_MAX]; /* FIREBREAK_CA_PRINCIPAL: whom the alarm is about */
	double min_severity;      /* FIREBREAK_MIN_SEVERITY (GuardDuty), default 4 */
};
/* FB_E_CONFIG with err on a bad value: a domain, owner or principal that
 * would be refused as event input is refused as a setting too. */
enum fb_err ca_settings_from_env(struct ca_settings *s, char *err, size_t errlen);

enum ca_source { CA_SRC_ALARM, CA_SRC_GUARDDUTY, CA_SRC_MANUAL };

struct ca_event {
	cJSON *root;              /* owned: the parsed event */
	enum ca_source source;
	char domain[64];
	char domain_owner[16];    /* "" = the function's own account */
	char principal[CA_ARN_MAX]; /* as named (user, role or assumed-role ARN) */
	char alarm[256];
	char finding_id[128], finding_type[128];
	double severity;
	int64_t event_ms;         /* alarm state time / finding updatedAt / 0 */
	/* Understood, nothing to do (zero calls): why. */
	char skip[240];
};

/* Parses the trigger:
 *  - "CloudWatch Alarm State Change" (aws.cloudwatch) whose alarmName is
 *    set->alarm exactly, state ALARM: domain and principal from settings;
 *  - "GuardDuty Finding" whose awsApiCallAction.serviceName is
 *    codeartifact.amazonaws.com, severity >= set->min_severity: the
 *    principal from resource.accessKeyDetails (IAMUser -> user ARN,
 *    AssumedRole -> role ARN) in detail.accountId; the domain from
 *    affectedResources["AWS::CodeArtifact::Domain"], else the setting;
 *    the domain's owner from FIREBREAK_CA_DOMAIN_OWNER, else the
 *    principal's account (detail.accountId);
 *  - manual {"domain", "principal": "<ARN>", "domainOwner"?, "dryRun"?}.
 * FB_E_INVALID with `why` (zero calls) for anything malformed; FB_OK with
 * ev->skip for an event understood but not ours (another alarm, OK state,
 * low severity, another service). Caller: ca_event_cleanup. */
enum fb_err ca_parse(const char *event, size_t len, const struct ca_settings *set,
		     struct ca_event *ev, char *why, size_t whylen);
void ca_event_cleanup(struct ca_event *ev);

/* CodeArtifact's names (service-2.json patterns): domain
 * [a-z][a-z0-9-]{0,48}[a-z0-9]; repository [A-Za-z0-9][A-Za-z0-9._-]{1,99}. */
int ca_domain_ok(const char *s);
int ca_repo_ok(const char *s);

enum ca_pkind { CA_P_USER, CA_P_ROLE, CA_P_ROOT };
struct ca_principal {
	enum ca_pkind kind;
	char partition[16];
	char account[16];
	char name[256];           /* user or role name (no path); "" for root */
	/* The ARN the Deny names: the user or role ARN as given; for an
	 * assumed-role session the role (arn:<p>:iam::<a>:role/<name>): a
	 * resource policy naming a role applies to all of its sessions. */
	char deny_arn[CA_ARN_MAX];
	int from_session;         /* given as an assumed-role session ARN */
};
/* 0 and *p filled for arn:<partition>:iam::<12 digits>:user/..., :role/...,
 * :root and arn:<partition>:sts::<12>:assumed-role/<role>/<session>;
 * -1 for anything else ("*", a group, a service, wildcards, spaces). */
int ca_principal_parse(const char *arn, struct ca_principal *p);

/* Who must never be denied, decided before any write. */
enum ca_judgement {
	CA_LOCK,             /* deny it */
	CA_KEEP_TRUSTED,     /* FIREBREAK_TRUSTED_PRINCIPALS */
	CA_KEEP_SELF,        /* the function's own role, or the member role it acts through */
	CA_KEEP_OWNER_ROOT,  /* an account root: the domain owner's would lock its admins out */
	CA_KEEP_FOREIGN      /* outside the domain's account */
};
/* `named` is the ARN as the event gave it; `domain_account` the domain's
 * owner as read; `self_arn` the function's caller ARN ("" unknown);
 * `member_role` FIREBREAK_MEMBER_ROLE (NULL none). A role when self_arn is
 * unknown is CA_KEEP_SELF (it could be ours). why says it. */
enum ca_judgement ca_judge(const struct ca_principal *p, const char *named, const char *domain_account,
			   const char *self_arn, const char *member_role,
			   const struct resp_config *cfg, char *why, size_t whylen);

/* Our Sid for a principal ARN (the deny_arn). */
void ca_sid(const char *deny_arn, char out[CA_SID_LEN]);

/* The statement we add (caller frees). */
cJSON *ca_deny_statement(const char *deny_arn);

enum ca_merge { CA_MERGE_WRITE, CA_MERGE_ALREADY, CA_MERGE_BAD };
/* Merges our Deny into `doc` (the policy as read, NULL or "" when there is
 * none): every existing statement is kept, in order; a Statement that is a
 * single object becomes a one-element array; a statement with our Sid that
 * is exactly our Deny is ALREADY (nothing written); one with our Sid and
 * another shape (edited by someone) is replaced in place by ours. BAD (why
 * set) when doc is not a policy we can merge without losing anything: not
 * JSON, not an object, Statement neither array nor object. On WRITE *out
 * is the new document (caller frees). */
enum ca_merge ca_policy_merge(const char *doc, const char *deny_arn, char **out, char *why,
			      size_t whylen);

/* Does the policy grant the principal anything: an Allow statement whose
 * Principal is "*", {"AWS": "*"}, the principal's ARN (as named or its
 * deny_arn), its account's root ARN or its bare account id, in a string
 * or a list; or an Allow with NotPrincipal that does not name it.
 * Conditions are not evaluated (a conditional grant counts: the Deny costs
 * nothing where it was not needed). 1 grants (why: which statement), 0
 * not, -1 not a readable policy (why). */
int ca_policy_grants(const char *doc, const struct ca_principal *p, const char *named, char *why,
		     size_t whylen);

/* Tokens: issued at most until `contained_ms` and living at most 12 h,
 * the last one expires by contained_ms + CA_TOKEN_MAX_MS. */
int64_t ca_token_expiry_ms(int64_t contained_ms);
/* The report's sentence about it. */
void ca_token_note(int64_t contained_ms, int dry_run, char *out, size_t outlen);

/* arn:<p>:codeartifact:<region>:<account>:domain/<name>: the account, or
 * NULL when resource_arn is not a domain ARN (into acct[16]). */
const char *ca_arn_account(const char *resource_arn, char acct[16]);

#endif
