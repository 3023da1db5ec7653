/*
 * kit: the responder kit. A responder is its decisions; the kit runs the
 * AWS calls they ask for, reports them and records their undo.
 *
 * Adding a responder (functions/<name>/), in the manner of git's builtin.h:
 *
 *  1. functions/<name>/main.c (runtime/fn.h): FN_STATE(xx_state, struct
 *     xx_settings, xx_settings_from_env) (a state whose first member is
 *     struct fn_base: the report settings, FIREBREAK_EVIDENCE_*, the
 *     default client, read and made by fn_main's init, in one order, with
 *     one cleanup); FN_EVENT_READER(xx, xx_parse(event, len, c->ev, why,
 *     whylen)) (the strict parse, resp_parse_event + the responder's
 *     checks, in stages.c); .skip when an event can be no trigger; and
 *     xx_run(struct fn_call *c), the decisions: main() = fn_main(&(struct
 *     fn_responder){ name, deadline margin, sizeof the state, .settings,
 *     FN_EVENT(struct xx_event, xx), .skip, .run = xx_run }). The frame
 *     (fn_invoke) gives the invalid result, the skipped result, the
 *     deadline, the report and its trigger, the kit (c->r, c->k), the
 *     finish and the cleanups. xx_run reads as a runbook: the reads in one
 *     round, the decisions (pure functions in stages.c, declared in
 *     <name>.h and unit-tested without AWS), the writes in the rounds their
 *     dependencies need, the verdict, FB_OK.
 *     No struct aws_call, no list encoding, no paging loop, no cleanup
 *     loop over calls in functions/: that is what the kit is for.
 *  2. Steps through kit_add() with .service and .op as string literals at
 *     the call site: tests/infra/iamderive.py reads them from the code and
 *     tests/integration/61-infra-iam.py derives the role's IAM from them
 *     (a name computed at run time fails that test loudly).
 *  3. functions/<name>/README.md: trigger (EventBridge pattern, manual
 *     form), actions in order, decisions, "Safety" (what it never does),
 *     IAM, settings, examples; decisions where the issue is silent, and why.
 *  4. events/<name>/<case>.json: real trigger samples (from AWS's published
 *     examples where they exist, ../shared/reference-events/) and manual
 *     ones; tests/integration/62-infra-wiring.py checks every sample
 *     against the rule's pattern.
 *  5. infra/template.yaml: the function, its role (the actions step 2
 *     derives, resources scoped), its rule(s), a build-<LogicalId> target
 *     in the Makefile's sam build section; infra/member-account.yaml when
 *     it acts in member accounts (acct_client_for / kit_client).
 *  6. Tests: tests/unit/test_<name>.c (stages, table-driven);
 *     tests/integration/5N-<name>.py against tests/fakeaws (fakeaws grows
 *     the operations it needs, checked against botocore's model); the
 *     responder's name in tests/fuzz/scenarios.py (RESPONDERS, TEST_FILES:
 *     the fault matrix 85 and the fuzz replay pick it up from there), a
 *     CASES entry in tests/integration/86-hostile-events.py, a fuzz target
 *     tests/fuzz/fuzz_<name>.c with a corpus, and tests/bench/bench.py's
 *     RESPONDERS.
 *
 * The model, in one page (runtime/README.md walks kms-guard through it):
 *
 *  - A step is one AWS call, declared once (struct kit_spec): its report
 *    name, service and operation, target, read or write, required or
 *    optional, the input (cJSON, structured: query-protocol lists and maps
 *    are encoded by the AWS layer, aws.h), the restore entry of a write,
 *    the error codes that mean "already in that state" and those that mean
 *    "not there". The kit makes the report line (resp_step_*), plans
 *    writes under dry run (status "planned", no call; the restore entry is
 *    recorded as part of the plan, as kms-guard does today), records the restore
 *    entry before the write is sent (kept when the write fails: a write
 *    that failed may still have happened), and turns the outcome into
 *    done / already / failed. Deadline and retries are the AWS layer's.
 *  - Rounds. Steps added to one round run concurrently when kit_run() is
 *    called (one curl multi). Dependencies are the order of rounds: decide
 *    from a round's results, then add the next round. A step can be
 *    skipped before its round runs (kit_skip: "skipped" with the reason).
 *  - Results by handle: kit_status, kit_out (the answer, borrowed until
 *    the round is freed), kit_err, kit_found; kit_detail/kit_fail let the
 *    decision reword a step's line once the answer is read.
 *  - Paging: a step with .paging set runs page after page (in the same
 *    round, concurrently with the round's other steps) up to a page cap,
 *    concatenates the list member (kit_items) and says whether it got
 *    everything (kit_complete). NextToken / nextToken (JSON and EC2 XML),
 *    Marker + IsTruncated (IAM) are all one descriptor (struct kit_paging).
 *    CloudTrail LookupEvents has its own throttle-aware pager
 *    (runtime/cloudtrail, ct_): its rate limiter and retry budget are more
 *    than a page cap. Its page 1 can already join a round of raw calls
 *    (ct_lookup_input / ct_lookup_continue); a kit step kind that does the
 *    same inside kit_run is the next step when the responders are ported.
 *  - The shared pieces: own account and partition (kit_own_account,
 *    kit_partition), clients for member accounts and regions, made once
 *    per invocation (kit_client), session revocation for a role
 *    (kit_revoke_sessions).
 *
 * Ownership: struct kit is caller-placed (kit_init / kit_cleanup) and
 * borrows the report and the client. A round is heap (kit_round_new /
 * kit_round_free) and owns its steps; step handles are valid until the
 * round is freed.
 */
#ifndef FB_KIT_H
#define FB_KIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>     /* AF_INET, AF_INET6: struct kit_cidr */
#include <cjson/cJSON.h>
#include "aws.h"
#include "cloudtrail.h"
#include "fb_err.h"
#include "prov.h"
#include "resp.h"

struct kit_client_entry;

struct kit {
	struct resp *r;               /* borrowed: the report steps are written to */
	struct aws_client *aws;       /* borrowed: the default client */
	int64_t (*now_ms)(void);      /* epoch ms; http_now_ms unless a test sets it */
	struct kit_client_entry *clients; /* owned: kit_client's cache */
};

/* A responder's init (lr_main's init callback), the part every responder
 * shares: resp_config_from_env, then the default client (aws_client_new,
 * the environment's Region). On failure nothing is left to free and err
 * says why; else release with resp_config_cleanup / aws_client_free. */
enum fb_err kit_setup(struct resp_config *cfg, struct aws_client **aws, char *err, size_t errlen);

void kit_init(struct kit *k, struct resp *r, struct aws_client *aws);
/* Frees the clients kit_client made. Rounds are freed by their owner. */
void kit_cleanup(struct kit *k);

/* Default page cap: a responder that needs more says so per step. */
#define KIT_DEFAULT_PAGES 10

/* How a paginated read continues. Paths are dotted (resp_get) and relative
 * to kit_out(): the answer, or for the query protocol its <Op>Result. */
struct kit_paging {
	const char *items;      /* the list member: "SecretList", "AccessKeyMetadata", "networkInterfaceSet" */
	const char *next;       /* the answer's token: "NextToken", "Marker", "nextToken" */
	const char *token;      /* the input member that carries it back; NULL: same as next */
	const char *truncated;  /* a "more pages" flag ("IsTruncated": "true"); NULL: the token alone says */
	int max_pages;          /* cap; 0: KIT_DEFAULT_PAGES */
	/* Optional reader of every page as it arrives (the answer, borrowed
	 * for the call; `more` says whether another page would follow), for
	 * a stream too large to keep as JSON (task-quarantine's logs): return
	 * 0 to stop paging (kit_complete stays 0), else 1. With a reader,
	 * .items may be NULL (nothing kept). Added for issue 17. */
	int (*on_page)(void *arg, const cJSON *page, int more);
	void *arg;
};

/* IAM's lists page the same way: a Marker sent back while IsTruncated is
 * true. `static const struct kit_paging pg = KIT_IAM_PAGING("Groups");` */
#define KIT_IAM_PAGING(list) { .items = (list), .next = "Marker", .truncated = "IsTruncated" }

/* One step. Strings are copied by kit_add (service and op must still be
 * literals at the call site, for the IAM derivation); `in` and `restore`
 * are taken (freed by the kit, also when kit_add fails). */
struct kit_spec {
	const char *step;           /* report name: "cancel-deletion" */
	const char *service;        /* "kms" */
	const char *op;             /* "CancelKeyDeletion" */
	const char *api;            /* report api; NULL: "<service>:<op>" as today's reports spell it */
	const char *target;         /* ARN or id the report names */
	enum resp_kind kind;        /* RESP_READ or RESP_WRITE */
	int optional;               /* a failure does not make the invocation an error */
	cJSON *in;                  /* taken; NULL = {} (aws.h: json body or structured query input) */
	cJSON *restore;             /* taken; writes: the restore[] entry (kit_undo) */
	const char *already;        /* space-separated error codes: already in the wanted state */
	const char *absent;         /* space-separated error codes: not there (done, kit_found 0) */
	const char *detail;         /* detail on success; NULL: none (paging: the item count) */
	const char *already_detail; /* NULL: "already: <code>" */
	struct aws_client *client;  /* borrowed; NULL: the kit's. Same connection pool (aws.h) */
	const struct kit_paging *paging; /* copied; NULL: one call */
	/* s3 (rest-xml) only, borrowed until the round ran: aws.h */
	const char *bucket, *key;
	const void *body;
	size_t body_len;
	const struct aws_header *headers;
	size_t nheaders;
	/* A CloudTrail LookupEvents step (kit_ct_*, below): .service
	 * "cloudtrail" and .op "LookupEvents" still at the call site (IAM
	 * derivation); .in and .paging unused. Copied (attr_key, attr_value,
	 * account too); on_page, page_ctx and clock borrowed until the round
	 * is freed. */
	const struct ct_query *cloudtrail;
	int ct_defer;               /* cloudtrail: kit_run sends page 1 only; kit_ct_continue reads on */
	int ct_no_error;            /* cloudtrail: a failure is said in the detail only, no "error" */
	/* No report line of its own (reads only): the responder reports the
	 * outcome in a line of its choosing (leak-rotate: one load line over
	 * ListSecrets pages and every GetSecretValue; one wait line over many
	 * DescribeSecret polls). kit_index() is -1; kit_detail/kit_fail only
	 * change the status. */
	int quiet;
	/* With .quiet, a write whose line is the caller's own summary line
	 * (resp_step_begin / resp_step_end over many such writes: cognito-
	 * lockdown's one "sign-out" line over thousands of
	 * AdminUserGlobalSignOut calls). Its restore entry, if any, is still
	 * recorded before it is sent; under dry run it is planned, not sent
	 * (the caller's line says so). Added for issue 23. */
	int batched;
	/* issue 24: a reporting write (EventBridge, Security Hub: runtime/
	 * outlet.h), not containment: optional, sent under dry run too (as
	 * SNS is: a notification is not a change to the resource), left out
	 * of the verdict and of the metrics' actions (resp_step.notify). */
	int notify;
};

struct kit_round;
struct kit_step;

/* A round of concurrent steps. NULL on allocation failure (kit_add and
 * kit_run accept NULL and fail). */
struct kit_round *kit_round_new(struct kit *k);
/* Declares a step: its report line starts now (a write under dry run is
 * "planned" at once). Returns the handle, NULL when out of memory (the
 * step is then in the report as failed, unless rd itself is NULL: then
 * nothing could be recorded and the caller must fail the invocation).
 * Every kit_* taking a step accepts NULL and does nothing. */
struct kit_step *kit_add(struct kit_round *rd, const struct kit_spec *spec);
/* Before the round runs: the step is not made; "skipped" with `why`. */
void kit_skip(struct kit_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Before the round runs: the state read says the write is not needed;
 * "already" with `why`, nothing sent, no restore entry. */
void kit_already(struct kit_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line settled by a decision, with no call: a one-step round of its own,
 * ended `st` (RESP_SKIPPED, RESP_ALREADY or RESP_FAILED) with `why`; a
 * write under dry run stays "planned" (spec->restore is not recorded for
 * such a line: nothing was planned to be undone). Added for task-quarantine
 * and runtime/evidence (issue 17). */
void kit_decide(struct kit *k, const struct kit_spec *spec, enum resp_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Runs every step not yet run or skipped, concurrently, pages included.
 * Restore entries of the round's writes are recorded first, in declaration
 * order. Returns FB_OK when no required step failed, else the first
 * failure's rc. A round can be run again after kit_add: only new steps run. */
enum fb_err kit_run(struct kit_round *rd);
/* A step never run nor skipped ends "failed: not run" (a step that was
 * declared must say what became of it). */
void kit_round_free(struct kit_round *rd);

enum resp_status kit_status(const struct kit_step *s);
/* done or already */
int kit_ok(const struct kit_step *s);
/* The answer (for query: <Op>Result when present; paged: the last page),
 * borrowed until kit_round_free; NULL before the run or on failure. */
const cJSON *kit_out(const struct kit_step *s);
/* Paged: every page's list members, in order (borrowed as kit_out); an
 * empty array for a one-call step. */
const cJSON *kit_items(const struct kit_step *s);
/* Paged: 1 when the last page said there was no more (0 at the cap or
 * after a failed page); 1 for a one-call step that succeeded. */
int kit_complete(const struct kit_step *s);
/* Paged: the pages read (0 before the run). */
int kit_pages(const struct kit_step *s);
/* Paged: takes the list members out of the step (kit_items is empty
 * after); the caller owns the array (cJSON_Delete), which outlives the
 * round: answers a responder keeps pointers into (leak-rotate's log
 * events). NULL when s is NULL or out of memory. */
cJSON *kit_take_items(struct kit_step *s);
/* 0 when the answer was one of .absent's codes, else 1. */
int kit_found(const struct kit_step *s);
/* The call's error (code "" on success); never NULL. */
const struct aws_error *kit_err(const struct kit_step *s);
/* The report line's index (resp_step_*), -1 if none. */
int kit_index(const struct kit_step *s);
/* After the run: reword the line from the answer; status unchanged. */
void kit_detail(struct kit_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After the run: the answer does not do (a read without the member the
 * decision needs): "failed" with `why`. */
void kit_fail(struct kit_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A decision made after the run: this step's failure does not matter. */
void kit_set_optional(struct kit_step *s);

/* ---- CloudTrail steps ------------------------------------------------------ *
 *
 * A step with .cloudtrail set runs through the ct_ pager (cloudtrail.h),
 * not the kit's: its limiter slot, throttle budget, pacing and deadline are
 * the pager's. Page 1 goes out with the round's other steps (one curl
 * multi; ct_lookup_input takes the limiter slot first, which may wait);
 * then ct_lookup_continue retries page 1 when it was throttled or failed
 * transiently and reads on, in kit_run, after the round's batch. With
 * .ct_defer the continuation waits for kit_ct_continue (the decision may
 * not need the history: page 1 then cost nothing extra in time); a
 * deferred step never continued ends, at kit_round_free, from page 1's
 * outcome with the detail "first page (not needed)".
 *
 * The report line: done when the read ended without a failure (complete
 * or stopped at a cap: kit_ct_result()->complete says which), else failed
 * with the pager's error; detail "[<.detail>: ]<n> events[; incomplete:
 * <why>]" (kit_detail rewords it). kit_items is the events read when the
 * query kept them (keep_events), newest first.
 */
/* Finishes a deferred CloudTrail step (blocking: retries and pages) and
 * ends its line. Returns the lookup's rc (ct_lookup's), also when called
 * again; FB_E_INVALID for a step that is not a CloudTrail step or whose
 * page 1 was not sent (skipped, failed before its round ran). */
enum fb_err kit_ct_continue(struct kit_step *s);
/* What the lookup read (borrowed until kit_round_free); NULL until it
 * finished (a deferred step before kit_ct_continue, or not a CloudTrail
 * step). */
const struct ct_result *kit_ct_result(const struct kit_step *s);

/* A resource's whole CloudTrail history (all of the 90 days: an older
 * tag's setter is then known too) for prov_decide, read as an optional
 * step (a CloudTrail step, above): without it the tags are unverifiable and
 * ignored (fail towards containment), which is not a failure of the
 * response. The line: "<n> events<complete_note>" or "<n> events;
 * incomplete: <why>", no "error". h is filled in every case (the caller
 * prov_history_cleanup()s it); returns the lookup's rc. */
struct kit_prov_read {
	const char *step;           /* "tag-provenance" */
	const char *arn;            /* the resource */
	const char *account;        /* limiter key (ct_query.account); NULL: none */
	struct aws_client *client;  /* NULL: the kit's */
	int64_t deadline_ms;        /* ct_query.deadline_ms */
	const char *complete_note;  /* NULL: "" */
};
enum fb_err kit_prov_history(struct kit *k, const struct kit_prov_read *pr, struct prov_history *h);

/* A restore[] entry {"api": api, "args": args} (takes args); with step,
 * {"step", "api", "args"}. NULL on allocation failure. */
cJSON *kit_undo(const char *api, cJSON *args);
cJSON *kit_undo_step(const char *step, const char *api, cJSON *args);

/* ---- the shared pieces ---------------------------------------------------- */

/* The function's own account (acct_own_account: the function ARN, else
 * sts:GetCallerIdentity, once per container); NULL when unknown. */
const char *kit_own_account(struct kit *k);
/* The principal ARN the function runs as (acct_caller_arn: asked once per
 * container, sts:GetCallerIdentity needs no permission); "" when unknown.
 * For loop safety: a responder's own writes come back as events. */
const char *kit_caller_arn(struct kit *k);
/* "aws", "aws-cn", "aws-us-gov": the default client's partition. */
const char *kit_partition(const struct kit *k);

/* The client to act in `account` / `region` (either NULL: the event's
 * own / the default's): acct_client_for (member role through STS
 * AssumeRole for another account), made once per invocation and kept by
 * the kit (borrowed until kit_cleanup). NULL on failure, with *err filled
 * (may be NULL); when `step` is not NULL the failure is also a failed,
 * required report line of that name (api "sts:AssumeRole", target the
 * account). */
struct aws_client *kit_client(struct kit *k, const char *account, const char *region,
			      const char *step, struct aws_error *err);

/* Session revocation for a role: AWS's "Revoke active sessions"
 * (AWSRevokeOlderSessions) as the IAM console writes it: the role's inline
 * policy KIT_REVOKE_POLICY_NAME =
 *   {"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
 *    "Action": "*", "Resource": "*", "Condition": {"DateLessThan":
 *    {"aws:TokenIssueTime": "<now, ISO-8601 ms Z>"}}}]}
 * Two steps: "read-revocation-policy" (iam:GetRolePolicy; NoSuchEntity is
 * "none yet") and `step` (default "revoke-sessions", iam:PutRolePolicy,
 * required unless .optional). Decisions:
 *  - a role ARN that does not parse, or a service-linked role (path
 *    aws-service-role/, which AWS does not let anyone revoke): no call,
 *    the step failed / skipped with the reason;
 *  - the existing policy already denies tokens issued before a time at or
 *    after not_before_ms (a replay of the same incident): "already";
 *    only a statement of exactly the shape above counts (nothing an
 *    attacker adds, a Sid aside, can make it look revoked);
 *  - else PutRolePolicy with the time now; restore[] first: put the prior
 *    document back (iam:PutRolePolicy) when one existed, else delete the
 *    policy (iam:DeleteRolePolicy);
 *  - the prior policy cannot be read (not NoSuchEntity): no write (its
 *    undo could not be recorded), the step fails.
 * not_before_ms: the incident's time (sessions issued before it must end);
 * clamped to now. Returns the revoke step's status. */
#define KIT_REVOKE_POLICY_NAME "AWSRevokeOlderSessions"
struct kit_revoke {
	const char *role_arn;       /* arn:<partition>:iam::<account>:role/[path/]name */
	int64_t not_before_ms;
	struct aws_client *client;  /* NULL: the kit's (kit_client for another account) */
	const char *step;           /* NULL: "revoke-sessions" */
	int optional;
};
enum resp_status kit_revoke_sessions(struct kit *k, const struct kit_revoke *rv);

/* Pure stages of kit_revoke_sessions, for tests and other callers. */
/* The newest aws:TokenIssueTime cut (epoch ms) of the revocation
 * statements in a policy document (JSON text), 0 when none. */
int64_t kit_revocation_cut_ms(const char *doc);
/* The policy document text for a cut at `cut_ms` (caller frees). */
char *kit_revocation_policy(int64_t cut_ms);
/* The role name of a role ARN into out; 1 when it parses. *service_linked
 * is set when the path is aws-service-role/. */
int kit_role_name(const char *role_arn, char *out, size_t outlen, int *service_linked);

/* ---- settings, network ranges, the not-a-trigger result ---------------------
 * Pieces every responder's policy needs and root-verify wrote for itself
 * (issue 17: moved here so the next responder does not write them again). */

/* A bounded decimal setting from the environment; unset or "" gives def.
 * FB_E_CONFIG, err "setting '<name>' must be an integer in <lo>..<hi>". */
enum fb_err kit_env_int(const char *name, int def, int lo, int hi, int *out,
			char *err, size_t errlen);

/* A finding-severity threshold from the environment (GuardDuty's 0-10
 * scale); unset or "" gives def. FB_E_CONFIG, err "setting '<name>' must
 * be a number from 0 to 10" (NaN and infinities too: a NaN threshold
 * would let every finding through). */
enum fb_err kit_env_severity(const char *name, double def, double *out,
			     char *err, size_t errlen);

/* Comma lists in settings: the next item of *p (moved past it) into
 * item[cap], spaces around it trimmed, empty items passed over. 1: an
 * item; 0: no more; -1: an item of cap bytes or more (item holds its head,
 * for the message). */
int kit_list_next(const char **p, char *item, size_t cap);

/* Network ranges: "a.b.c.d/n", "x::y/n", a bare address (a host route:
 * /32, /128). The one parser every responder uses (root-verify's settings,
 * net-block's addresses and never-block list). Strict, the same on every
 * libc: NULL is refused; the prefix is 1..3 decimal digits without a
 * leading zero ("/08" and "/0032" are refused, "/0" is the world) and at
 * most 32 / 128; an IPv4 octet with a leading zero ("010.0.0.1": octal to
 * some parsers) is refused; no spaces, no zone ("%eth0"). An IPv4-mapped
 * IPv6 address ("::ffff:192.0.2.1") is parsed as written, AF_INET6: it is
 * kit_cidr_contains that reads it as its IPv4 address. */
struct kit_cidr {
	int family;                 /* AF_INET or AF_INET6 (never 4 / 6) */
	unsigned char addr[16];     /* network byte order; the host bits are kept as written */
	int prefix;
};
/* One range; 0 when it parses, -1 otherwise (out zeroed). */
int kit_cidr_parse(const char *s, struct kit_cidr *out);
/* 1 when every address of `a` is inside `range` (a host: that address). An
 * IPv4-mapped IPv6 `a` is inside the IPv4 ranges its IPv4 address is in
 * (what kit_ip_in has always done); an IPv4 `a` is never inside an IPv6
 * range, mapped or not. NULL: 0. */
int kit_cidr_contains(const struct kit_cidr *range, const struct kit_cidr *a);
/* A comma list of ranges (kit_list_next) from the setting named `setting`
 * (for messages) into out[cap]; *n counts them. NULL list: none. */
enum fb_err kit_cidrs_parse(const char *list, const char *setting, struct kit_cidr *out,
			    size_t cap, size_t *n, char *err, size_t errlen);
enum kit_ip { KIT_IP_NOT_AN_IP, KIT_IP_IN, KIT_IP_OUT };
/* `ip` (may be NULL) against ranges[n]. CloudTrail's sourceIPAddress is an
 * IP or a service name ("AWS Internal"): the latter is KIT_IP_NOT_AN_IP.
 * An IPv4-mapped IPv6 address is checked against the IPv4 ranges too. */
enum kit_ip kit_ip_in(const struct kit_cidr *ranges, size_t n, const char *ip);

/* A JSON number or a decimal string (AWS answers carry both) -> *out;
 * 0 on success, -1 when it is neither or out of range. */
int kit_json_long(const cJSON *v, long *out);

/* IAM answers policy documents URL-encoded (RFC 3986); decoded in place
 * (the result is never longer). '+' stays '+' (botocore's unquote, not
 * unquote_plus); a malformed escape stays literal. */
void kit_url_decode(char *s);

/* The envelope of a responder's event (ev borrowed): KIT_EVENT_MANUAL when
 * it has neither 'source' nor 'detail-type' (a hand-written invocation),
 * KIT_EVENT_BRIDGE with *src and *dt set (borrowed from ev) when both are
 * strings, KIT_EVENT_INVALID with why set otherwise ("event is not a JSON
 * object", "fields 'source' and 'detail-type' must be strings"). */
enum kit_event { KIT_EVENT_INVALID, KIT_EVENT_MANUAL, KIT_EVENT_BRIDGE };
enum kit_event kit_event_envelope(const cJSON *ev, const char **src, const char **dt,
				  char *why, size_t whylen);

/* The head of a "GuardDuty Finding" event (ev borrowed; every pointer set
 * borrows from it): detail an object, detail.severity a number, detail.id
 * and detail.type strings when present (then "" when absent),
 * detail.resource an object. 0, or -1 with why set ("missing object
 * 'detail'", "field 'detail.severity' must be a number", ...). What the
 * resource is about stays the responder's. */
struct kit_gd_finding {
	const cJSON *detail, *resource;
	double severity;
	const char *id, *type;
};
int kit_guardduty_finding(const cJSON *ev, struct kit_gd_finding *f, char *why, size_t whylen);

/* The FIREBREAK_MIN_SEVERITY gate: 1 (why set, "severity <s> below
 * FIREBREAK_MIN_SEVERITY <min>": a finding to report, not to act on) when
 * severity < min, else 0. */
int kit_severity_below(double severity, double min, char *why, size_t whylen);

/* A run started by a GuardDuty or Security Hub finding about resource (both
 * borrowed): GuardDuty re-publishes an updated finding under new event ids,
 * so the finding id (when there is one) keys the incident,
 * "guardduty:<id>:<resource>", and every delivery of it is one incident; the
 * report's extra.finding says id, type and severity. Call it before
 * evidence_init (the evidence prefix is the incident's). Returns that
 * object (owned by r->extra) for the caller's own members, or NULL. */
cJSON *kit_finding(struct resp *r, const char *id, const char *type, double severity,
		 const char *resource);

/* An event that is not a trigger: a clear result carrying a P3 report
 * whose verdict is "skipped: <why>", logged, NOT published (nothing
 * happened), zero AWS calls. ev (borrowed) fills the report's trigger. */
enum fb_err kit_skip_result(struct resp_config *cfg, const char *function, const cJSON *ev,
			    const struct lr_context *ctx, const char *why, struct lr_result *out);

/* The decision ends a step's line itself (resp_step_end: status, the error
 * shown or NULL, the detail). Before the run the step is not made (as
 * kit_skip, with any status: a read a bound made unnecessary is "done");
 * after it, the line says what the decision read in the outcome (a
 * CloudTrail read stopped at a bound is done, one cut short by the
 * deadline failed with the pager's error even when it has no code). */
void kit_end(struct kit_step *s, enum resp_status st, const struct aws_error *err,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A query-protocol map in an answer (IAM SummaryMap, SNS Attributes), in
 * any shape the XML layer gives it: an array of {key, value}; an object
 * whose children are {key, value} entries (repeated "entry") or arrays of
 * them; an already flattened {"Name": "1"} object. fn gets each entry in
 * document order (key borrowed, value borrowed) as long as the nesting
 * stays within 4 levels; an entry whose key is not a string is passed
 * over. map may be NULL. */
void kit_map_each(const cJSON *map, void (*fn)(void *ctx, const char *key, const cJSON *value),
		  void *ctx);

/* ---- issue 19: read-modify-write of a WAFv2 IP set ----------------------------- */

/* WAFv2 changes an IP set only as a whole (UpdateIPSet replaces Addresses
 * and Description) and guards it with optimistic locking: GetIPSet gives a
 * LockToken, UpdateIPSet must send it back, and answers
 * WAFOptimisticLockException when someone changed the set in between
 * (AWS WAF Developer Guide, "Optimistic locking"). kit_ipset_update does
 * the whole cycle:
 *  - "read-ipset" (wafv2:GetIPSet, a read, Name/Scope/Id);
 *  - `change` decides from the set read now (the IPSet object, borrowed:
 *    Addresses, IPAddressVersion, Description): returns 1
 *    with *out the complete new list (taken), 0 when nothing needs to
 *    change ("already", with `why`), -1 when it must not be written
 *    ("failed", with `why`);
 *  - `step` (wafv2:UpdateIPSet, a write) with the complete specification
 *    read (Description kept) and the LockToken; restore[] gets `restore`
 *    (taken) before the first attempt; dry run plans it;
 *  - WAFOptimisticLockException: the attempt's line stays "failed" but is
 *    made optional ("lock token stale: read again"), and the cycle starts
 *    over from a fresh GetIPSet, up to `max_attempts` (default 4): every
 *    address written meanwhile by others is read and kept.
 * A set that cannot be read is never written (no LockToken, and the
 * complete list to write is unknown). CLOUDFRONT-scope sets live in
 * us-east-1: pass a client for that Region (kit_client). Returns the
 * final write's status. */
struct kit_ipset {
	const char *name, *id, *scope;  /* IPSet Name, Id; "REGIONAL" or "CLOUDFRONT" */
	const char *target;             /* report target (the IP set ARN) */
	int (*change)(const cJSON *ipset, void *arg, cJSON **out, char *why, size_t whylen);
	void *arg;
	cJSON *restore;                 /* taken: the restore[] entry of the write */
	const char *detail;             /* write's detail on success */
	struct aws_client *client;      /* NULL: the kit's */
	const char *read_step;          /* NULL: "read-ipset" */
	const char *step;               /* NULL: "update-ipset" */
	int optional;
	int max_attempts;               /* 0: 4 */
};
#define KIT_IPSET_ATTEMPTS 4
enum resp_status kit_ipset_update(struct kit *k, const struct kit_ipset *u);

/* ---- issue 17: the handler's opening --------------------------------------------- */

/* What a responder's handler opens every invocation with; plain data,
 * every pointer borrowed for the call (a compound literal at the call
 * site, or kept in the responder's state). */
struct kit_handler {
	const char *function;           /* the report's "function" (FN name) */
	struct resp_config *cfg;        /* resp_config_from_env / kit_setup */
	struct aws_client *aws;         /* the default client: its deadline is set */
	int64_t margin_ms;              /* kept back from ctx->deadline_ms */
};

/* The opening once the responder has parsed and classified its event:
 *  - the client's deadline: ctx->deadline_ms - margin_ms, or none (0) when
 *    the invocation has no deadline (never one left from the previous
 *    invocation: the client outlives it);
 *  - the report skeleton (resp_begin) and its trigger from the envelope
 *    (resp_trigger_from_event, ev borrowed);
 *  - an envelope whose fields have the wrong types (or 'dryRun' not a
 *    boolean) is refused: *out holds the invalid-event result.
 * Returns 1 when the report is begun (the caller resp_cleanup()s r), else
 * 0 with r not begun and *rc what the handler returns (out already filled
 * for an invalid envelope; FB_E_NOMEM otherwise). */
int kit_begin(struct resp *r, const struct kit_handler *h, const struct lr_context *ctx,
	      const cJSON *ev, struct lr_result *out, enum fb_err *rc);

/* ---- issue 17: a tag inherited from several resources ------------------------------ */

/* A resource a tag may have come from, whose CloudTrail history says who
 * set it and when (an ECS task's tags: the task itself, its service with
 * propagateTags SERVICE, its task definition with TASK_DEFINITION). */
#define KIT_MAX_TAG_SOURCES 3
struct kit_tag_source {
	char arn[600];
	const char *what;           /* static: "task", "service", "task definition" */
};

/* The tag q->tag_key = q->tag_value counts only when the history of every
 * source allows it: for each source in order, its history read as
 * kit_prov_history (`read` gives step, account, deadline and note; its arn
 * is the source's), q completed from it (prov_query_from_history), the
 * decision (prov_decide) added to `list` (prov_report_json with "source"
 * and "resource"), until one refuses. why (whylen bytes): the refusal as
 * "<reason> (<what>)", else the first source's reason. Returns 1 when
 * honoured; 0 when any source refuses or there is none. q is borrowed (a
 * copy is completed per source). */
int kit_prov_sources(struct kit *k, const struct prov_query *q, const struct kit_tag_source *src,
		     size_t n, const struct kit_prov_read *read, cJSON *list, char *why, size_t whylen);

/* ---- issue 17: what a GuardDuty finding is about ----------------------------------- */

/* GuardDuty's resource shapes (detail.resource of kit_guardduty_finding;
 * every pointer borrowed from the event). 0 when the finding is about one,
 * with its identifiers set; 1 when it is about something else (why: "finding
 * is not about an ECS task (resourceType '<type>')": a finding to skip);
 * -1 when the shape is malformed (why says which field).
 * An ECS task: resourceType "ECSCluster" (or none) with
 * ecsClusterDetails.taskDetails; *cluster its arn, else its name, *task the
 * task's arn. */
int kit_gd_ecs_task(const struct kit_gd_finding *f, const char **cluster, const char **task,
		    char *why, size_t whylen);
/* An EC2 instance: resourceType "Instance", instanceDetails.instanceId. */
int kit_gd_instance(const struct kit_gd_finding *f, const char **instance, char *why, size_t whylen);
/* "GuardDuty <type, or finding when empty> severity <s>": the reason a
 * finding gives (type as the responder keeps it). */
void kit_gd_reason(char *out, size_t outlen, const char *type, double severity);

/* ---- issue 17: a two-valued setting ------------------------------------------------ */

/* A setting that is `off` (also when unset or "") or `on`: *out 0 or 1.
 * Anything else is FB_E_CONFIG, err "setting '<name>' must be <off> or
 * <on>": a typo is seen at init, never read as either. */
enum fb_err kit_env_choice(const char *name, const char *off, const char *on, int *out,
			   char *err, size_t errlen);

/* ---- issue 17: small inputs, a refused write's undo ------------------------------- */

/* {"<k1>": "<v1>", "<k2>": "<v2>", ...}: string members, the list ended by
 * KIT_END (a typed null: a bare NULL may be an int 0 in varargs); a null
 * value is left out. Caller owns it (or kit_spec.in takes it); NULL when
 * out of memory. */
#define KIT_END ((const char *)0)
cJSON *kit_obj(const char *k1, ...);
/* A write the service refused changed nothing: its undo, the newest
 * restore[] entry of the report, is dropped (restore[] says only what was
 * done; the kit records an undo before the write is sent). */
void kit_undo_drop(struct kit *k);

/* ---- issue 17: where an event happened --------------------------------------------- */

/* A finding's own account and region (detail.accountId, detail.region: in
 * a delegated administrator setup the envelope's are the administrator's),
 * else the envelope's (account, region); NULL when neither. Borrowed from
 * ev. */
const char *kit_event_account(const cJSON *ev);
const char *kit_event_region(const cJSON *ev);

/* The envelope fields that steer a responder, checked before it reads
 * anything else (ev borrowed): 'dryRun' when present is a boolean; 'account'
 * and 'region' when present and not null are an account id and a region
 * name (resp_account_id_ok, resp_region_name_ok): they pick the member
 * role's ARN and the endpoint. 0, or -1 with why set ("field 'dryRun' must
 * be a boolean", "field 'account' must be a 12-digit account id", "field
 * 'region' must be a region name"). */
int kit_envelope_check(const cJSON *ev, char *why, size_t whylen);

/* One entry of a query-protocol map (kit_map_each's shapes; map and the
 * result borrowed): the value of the last entry named `key`, NULL when none. */
const cJSON *kit_map_get(const cJSON *map, const char *key);

/* ---- issue 17: borrowed credentials (leak-rotate's port) --------------------------- */

/* Does STS take these credentials? sts:GetCallerIdentity (no permission
 * needed: any valid key may call it) signed with creds (access_key,
 * secret_key and session_token, borrowed; the rest as aws_client_new_opts
 * reads it) by a client of their own, freed (its copy of the secret wiped)
 * before return; deadline_ms 0: none. FB_OK with the caller's ARN in arn
 * ("" when the answer lacks it); else *e says why (SignatureDoesNotMatch:
 * the secret is not the key's; InvalidClientTokenId: the key is unknown
 * or inactive). No report line: the caller words it. */
enum fb_err kit_caller_with(const struct aws_client_options *creds, int64_t deadline_ms, char *arn,
			    size_t arnlen, struct aws_error *e);

/* ---- issue 24 s2 (w3-rst2): an undo record written before the writes ------------- */

/* The restore[] entries the round's writes will record when it runs (the
 * writes to be sent or planned, in declaration order, as kit_run records
 * them), as a new array of copies (caller deletes; NULL on allocation
 * failure); rd borrowed, unchanged. For a write-once undo record claimed
 * before the first write (data-breach). */
cJSON *kit_round_undo_plan(const struct kit_round *rd);

/* ---- w4-dinit: a revocation's undo, planned before it runs ------------------------ */

/* The restore[] entry kit_revoke_sessions records for the role named
 * `role` (a role name, not an ARN): the prior KIT_REVOKE_POLICY_NAME
 * document put back (iam:PutRolePolicy) when there was one, else the
 * policy deleted (iam:DeleteRolePolicy). `prior` is the document as
 * GetRolePolicy answers it (URL-encoded: decoded here), NULL when there was
 * none. For an undo record written before the revocation (access-triage,
 * data-breach). Caller owns it; NULL when out of memory. */
cJSON *kit_revoke_undo(const char *role, const char *prior);

/* ---- w4-kc-lr: a lenient flag, a member-account line, a quiet result ------------- */

/* A flag setting: "true", "yes" (any case) or "1" is 1, anything else 0;
 * unset or "" gives dflt (resp_flag_word, which resp_config_from_env
 * reads FIREBREAK_DRY_RUN with). kit_env_choice when a typo must be
 * refused instead. */
int kit_env_flag(const char *name, int dflt);

/* "arn:<partition>:iam::<account>:role/<FIREBREAK_MEMBER_ROLE>" into out
 * (the role kit_client assumes there; "" after "role/" when unset). */
void kit_member_role_arn(const struct kit *k, const char *account, char *out, size_t n);

/* kit_client for another account, on a report line of its own: `step`
 * (api sts:AssumeRole, target kit_member_role_arn) done "acting in account
 * <a>"; skipped and optional "our own account: no role needed" when
 * kit_client finds the account is ours (the default client is returned);
 * failed "cannot act in account <a>: no session" (": FIREBREAK_MEMBER_ROLE
 * not set" without a role) with the error, optional unless `required`:
 * NULL. The client is kit_client's (cached per account, borrowed until
 * kit_cleanup). Added for leak-rotate's keys of member accounts. */
struct aws_client *kit_member_client(struct kit *k, const char *account, const char *step, int required);

/* A line whose outcome a decision knows without a call: begun and ended
 * at once with `st` and the formatted detail (at most 1400 bytes), marked
 * optional when asked. Unlike kit_decide, a write under dry run is not
 * turned into "planned": the decision stands (a skipped write is skipped
 * in a dry run too). */
void kit_note(struct kit *k, const char *step, const char *api, const char *target, enum resp_kind kind,
	      enum resp_status st, int optional, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* Appends the formatted line (cut at 599 bytes) to a responder's own
 * warnings array (NULL: dropped), as against resp_warn's list of the
 * runtime. runtime/redeploy's service-list warnings go through it too. */
void kit_warn_to(cJSON *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A result that is no incident (a control message, another alarm, no
 * leak): {"function", "result", "detail"} as the invocation's response
 * (detail formatted, at most 599 bytes), logged at info ("<result>:
 * <detail>"), no report, nothing published. */
enum fb_err kit_quiet_result(struct lr_result *out, const char *function, const char *result,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The report goes out with the time kept back for it: the client's
 * deadline moved to the invocation's less 100 ms (none without one), then
 * resp_finish(r, aws, out). task-quarantine and instance-quarantine do the
 * same before their resp_finish. */
enum fb_err kit_finish(struct resp *r, struct aws_client *aws, const struct lr_context *ctx,
		       struct lr_result *out);

/* ---- w4-kc-kg: a read's deadline, exemptions with provenance, events by name ----- */

/* The deadline of a read that writes follow: the invocation's
 * (k->r->ctx) less reserve_ms, so the writes keep time; 0 (none) when the
 * invocation has none. */
int64_t kit_read_deadline(const struct kit *k, int64_t reserve_ms);

/* Exemption tags that count only when CloudTrail shows they predate the
 * change (prov.h): when one of keys[n] is "true" in tags (borrowed), the
 * resource's whole history is read as kit_prov_history (`read`), a copy
 * of q (the trigger: trigger_ms, trigger_event_id, trigger_actor,
 * created_ms) gets min_age_ms and trust from the report's settings
 * (k->r->cfg) and the history read, and prov_honoured judges each true
 * key into out["exemption_tags"] (an array added to out). Returns the
 * honoured key (borrowed from keys; reason, rn bytes, says why), else
 * NULL: the caller acts as if there were none. No key true: no read,
 * nothing added. kms-guard, net-block and data-breach use it. */
const char *kit_exemption(struct kit *k, const struct kit_prov_read *read, const struct prov_query *q,
			  const cJSON *tags, const char *const *keys, size_t n, cJSON *out,
			  char *reason, size_t rn);

/* The CloudTrail events of each of names[n] (an alarm's window: q holds
 * the window, page size and cap, deadline, account and keep_events; its
 * attr_key, e.g. "EventName", is looked up with each name as the value):
 * one required CloudTrail step `step` per name (target the name, detail
 * "<attr_key>=<name>"), in turn. Returns the events read (a new array of
 * copies, the caller's; per name newest first, as AWS lists them), NULL
 * when out of memory (nothing read). *rc (may be NULL): FB_OK, else the
 * first failed lookup's (the names after it are still read). */
cJSON *kit_ct_each(struct kit *k, const char *step, const struct ct_query *q,
		   const char *const *names, size_t n, enum fb_err *rc);

/* A time window as the reports write it: to[name] = {"start", "end"} (ISO
 * 8601 with ms, resp_format_time_ms), returned (owned by to) for more
 * members; NULL when out of memory. kms-guard's alarm_window and access-triage's
 * window (root-verify's window is in whole seconds: it writes its own). */
cJSON *kit_window(cJSON *to, const char *name, int64_t start_ms, int64_t end_ms);

/* ---- w5-cut-b: string members onto an object, a zeroed array slot ----------------- */

/* kit_obj's members added to an existing object `o` (borrowed; NULL: nothing
 * done): "<k1>": "<v1>", ... up to KIT_END, a null value left out, in that
 * order after the members o has (out of memory: the ones after are not
 * added). For report entries that mix strings with
 * numbers and booleans (leak-rotate's access_keys[], root-verify's event). */
void kit_add_strs(cJSON *o, const char *k1, ...);

/* Element n of a growable array, zeroed: `arrp` is the address of the
 * array's pointer (T **, stored back when the array grows; buf_grow_array's
 * cap and first). Returns &(*arrp)[n], or NULL when out of memory (the
 * array untouched). The caller counts the element in once it is filled.
 * Plain realloc: not for secret bytes. */
void *kit_slot(void *arrp, size_t n, size_t *cap, size_t sz, size_t first);

#endif
