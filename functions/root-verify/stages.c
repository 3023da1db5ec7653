/*
 * root-verify, pure stages: event -> trigger, CloudTrail records and pages
 * -> facts, GetAccountSummary -> posture, facts -> verdict (a pure table),
 * verdict -> the runbook's next steps and the report's fields. No I/O, no
 * clock (times are parameters): unit-tested in tests/unit/test_root_verify.c,
 * fuzzed by tests/fuzz/fuzz_root_verify.c. The handler that sequences them
 * around AWS calls is main.c; README.md documents the behaviour.
 *
 *   event  -> rv_classify()        which trigger (or not a trigger, or invalid)
 *   record -> ct_facts_parse()     facts of one record (runtime/cloudtrail)
 *   pages  -> rv_history_add()     summary of the root events in the window
 *   IAM    -> rv_account_parse()   AccountMFAEnabled / AccountAccessKeysPresent
 *   facts  -> rv_decide()          severity, verdict, reasons[] (a pure table)
 *   verdict-> rv_next_steps()      the runbook's manual next steps
 */
#include "root_verify.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings ------------------------------------------------------------ */

enum fb_err rv_cidrs_parse(const char *list, struct rv_policy *p, char *err, size_t errlen)
{
	enum fb_err rc = kit_cidrs_parse(list, "FIREBREAK_ROOT_ALLOWED_CIDRS", p->cidrs, RV_MAX_CIDRS,
					 &p->ncidrs, err, errlen);

	p->cidrs_configured = rc == FB_OK && p->ncidrs > 0;
	return rc;
}

enum fb_err rv_config_from_env(struct rv_config *c, const struct resp_config *rc,
			       char *err, size_t errlen)
{
	enum fb_err rc2;
	memset(c, 0, sizeof(*c));
	const char *alarm = getenv("FIREBREAK_ROOT_ALARM_NAME");
	snprintf(c->alarm_name, sizeof(c->alarm_name), "%s", alarm && *alarm ? alarm : RV_DEFAULT_ALARM);
	if ((rc2 = kit_env_int("FIREBREAK_ROOT_FAILED_SIGNIN_THRESHOLD", 3, 1, 10000,
			       &c->policy.failed_threshold, err, errlen)) != FB_OK ||
	    (rc2 = kit_env_int("FIREBREAK_ROOT_LOOKBACK_MINUTES", 60, 1, 1440,
			       &c->lookback_minutes, err, errlen)) != FB_OK ||
	    (rc2 = kit_env_int("FIREBREAK_ROOT_MAX_PAGES", 20, 1, 200, &c->max_pages, err, errlen)) != FB_OK ||
	    (rc2 = kit_env_int("FIREBREAK_ROOT_MAX_EVENTS", 1000, 1, 10000, &c->max_events, err, errlen)) != FB_OK ||
	    (rc2 = regions_parse(getenv("FIREBREAK_ROOT_REGIONS"), "FIREBREAK_ROOT_REGIONS", c->regions,
				 RV_MAX_REGIONS, &c->nregions, err, errlen)) != FB_OK)
		return rc2;
	c->policy.resp = rc;
	return rv_cidrs_parse(getenv("FIREBREAK_ROOT_ALLOWED_CIDRS"), &c->policy, err, errlen);
}

/* ---- Regions ------------------------------------------------------------- */

size_t rv_regions_plan(const struct rv_config *c, const char *partition, const char *event_region,
		       const char *own_region, char out[][REGIONS_NAME_LEN], size_t cap)
{
	size_t n = 0;
	/* The trigger's own Region first: it holds the trigger's record, so
	 * the one read that matters most gets the freshest time budget. */
	regions_add(out, &n, cap, event_region);
	if (c->nregions) {
		for (size_t i = 0; i < c->nregions; i++)
			regions_add(out, &n, cap, c->regions[i]);
	} else {
		regions_add(out, &n, cap, endpoint_global_region(partition));
		regions_add(out, &n, cap, own_region);
	}
	return n;
}

/* ---- sensitive calls -------------------------------------------------------- */

/* Root calls that change who can get in, what is recorded, or what is
 * protected. Any of them (even a failed attempt) makes the use P1. The
 * README lists this table; keep the two in step. */
static const struct rv_sensitive {
	const char *category;
	const char *names[20];  /* up to the first NULL: at most 19 a category */
} rv_sensitive_calls[] = {
	/* credentials of root or of anyone */
	{"credentials", {"CreateAccessKey", "UpdateAccessKey", "CreateLoginProfile",
		         "UpdateLoginProfile", "PasswordUpdated", "UploadSigningCertificate",
		         "CreateServiceSpecificCredential"}},
	/* MFA */
	{"mfa", {"EnableMFADevice", "DeactivateMFADevice", "CreateVirtualMFADevice",
		 "DeleteVirtualMFADevice", "ResyncMFADevice"}},
	/* IAM: who may do what */
	{"iam", {"CreateUser", "CreateRole", "AddUserToGroup", "AttachUserPolicy",
		 "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy", "PutRolePolicy",
		 "PutGroupPolicy", "CreatePolicyVersion", "SetDefaultPolicyVersion",
		 "UpdateAssumeRolePolicy", "CreateSAMLProvider", "UpdateSAMLProvider",
		 "CreateOpenIDConnectProvider", "UpdateAccountPasswordPolicy",
		 "DeleteAccountPasswordPolicy"}},
	/* audit trail */
	{"cloudtrail", {"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
		        "DeleteEventDataStore", "StopEventDataStoreIngestion"}},
	{"config", {"StopConfigurationRecorder", "DeleteConfigurationRecorder",
		    "DeleteDeliveryChannel"}},
	/* data protection */
	{"s3", {"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl",
		"PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
		"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"}},
	{"kms", {"ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy", "DeleteImportedKeyMaterial"}},
	/* detection */
	{"guardduty", {"DeleteDetector", "UpdateDetector", "DisassociateFromMasterAccount",
		       "DisassociateFromAdministratorAccount", "StopMonitoringMembers",
		       "DeleteMembers"}},
	{"securityhub", {"DisableSecurityHub"}},
	{"access-analyzer", {"DeleteAnalyzer"}},
	{"macie", {"DisableMacie"}},
	/* the account itself */
	{"organizations", {"LeaveOrganization", "DeleteOrganization",
		           "RemoveAccountFromOrganization"}},
	{"account", {"CloseAccount", "PutAlternateContact", "PutContactInformation"}},
};

/* NULL when `name` is not sensitive, else its category. */
static const char *rv_sensitive_category(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(rv_sensitive_calls) / sizeof(rv_sensitive_calls[0]); i++)
		for (const char *const *n = rv_sensitive_calls[i].names; *n; n++)
			if (strcmp(*n, name) == 0)
				return rv_sensitive_calls[i].category;
	return NULL;
}

/* ---- one CloudTrail record ------------------------------------------------------ */

/* Centralized root session whose issuer is a trusted principal. */
static int rv_record_expected(const struct rv_policy *p, const struct ct_facts *r)
{
	return r->centralized && r->issuer_arn[0] && p->resp &&
	       resp_is_trusted(p->resp, r->issuer_arn);
}

/* ---- the window's history ---------------------------------------------------------- */

void rv_history_init(struct rv_history *h, const char *trigger_event_id)
{
	memset(h, 0, sizeof(*h));
	buf_copy_str(h->trigger_event_id, sizeof(h->trigger_event_id), trigger_event_id);
}

/* Adds `s` to a fixed set; returns the index, or -1 when full. */
static int rv_set_add(char set[][64], size_t *n, size_t cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(set[i], s) == 0)
			return (int)i;
	if (*n == cap)
		return -1;
	snprintf(set[*n], 64, "%s", s);
	return (int)(*n)++;
}

/* Adds one root record to the summary. Records that are not root are
 * ignored: the Username=root lookup should not return any. */
static void rv_history_add(struct rv_history *h, const struct rv_policy *p, const struct ct_facts *r)
{
	if (!r->is_root)
		return;
	h->events++;
	if (h->trigger_event_id[0] && strcmp(h->trigger_event_id, r->event_id) == 0)
		h->saw_trigger = 1;
	int idx = rv_set_add(h->names, &h->nnames, RV_MAX_DISTINCT, r->event_name);
	if (idx < 0)
		h->names_overflow = 1;
	else
		h->name_counts[idx]++;
	if (r->source_ip[0] && rv_set_add(h->ips, &h->nips, RV_MAX_DISTINCT, r->source_ip) < 0)
		h->ips_overflow = 1;
	h->mfa[r->mfa]++;
	if (r->is_console_login && r->failed)
		h->failed_signins++;

	if (rv_record_expected(p, r)) {
		h->centralized_trusted++;
		return; /* explained: its calls are the task it was issued for */
	}
	if (r->centralized) {
		h->centralized_untrusted++;
		if (!h->untrusted_issuer[0])
			snprintf(h->untrusted_issuer, sizeof(h->untrusted_issuer), "%.255s",
				 r->issuer_arn[0] ? r->issuer_arn : "(issuer not recorded)");
	} else if (!r->failed) {
		if (r->is_console_login) {
			h->signins_ok++;
			if (r->mfa == CT_MFA_NO)
				h->signins_no_mfa++;
		} else if (!r->is_signin_source && r->mfa == CT_MFA_NO) {
			h->api_no_mfa++;
		}
	}
	if (rv_sensitive_category(r->event_name)) {
		h->sensitive++;
		rv_set_add(h->sensitive_names, &h->nsensitive_names, RV_MAX_LISTED, r->event_name);
	}
	if (p->cidrs_configured && kit_ip_in(p->cidrs, p->ncidrs, r->source_ip) == KIT_IP_OUT) {
		h->ips_outside++;
		rv_set_add(h->outside_ips, &h->noutside, RV_MAX_LISTED, r->source_ip);
	}
}

size_t rv_history_add_page(struct rv_history *h, const struct rv_policy *p,
			   const cJSON *page, size_t max_events)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(page, "Events");
	const cJSON *e;
	size_t n = 0;
	h->pages++;
	cJSON_ArrayForEach(e, events) {
		struct ct_facts r;
		n++;
		if (h->events >= max_events)
			continue;
		if (ct_event_facts(e, &r) != FB_OK) {
			/* still count it, from the lookup's own fields */
			r.is_root = 1;
			h->unparsed++;
		}
		rv_history_add(h, p, &r);
	}
	return n;
}

/* ---- IAM account summary ---------------------------------------------------------- */

enum fb_err rv_account_parse(const cJSON *out, struct rv_account *a)
{
	long mfa, keys;
	memset(a, 0, sizeof(*a));
	const cJSON *map = resp_get(out, "GetAccountSummaryResult.SummaryMap");
	if (!map)
		map = resp_get(out, "GetAccountSummaryResponse.GetAccountSummaryResult.SummaryMap");
	if (!map)
		map = resp_get(out, "SummaryMap");
	if (kit_json_long(kit_map_get(map, "AccountMFAEnabled"), &mfa) != 0 ||
	    kit_json_long(kit_map_get(map, "AccountAccessKeysPresent"), &keys) != 0)
		return FB_E_PARSE;
	a->known = 1;
	a->mfa_enabled = mfa != 0;
	a->access_keys_present = keys != 0;
	return FB_OK;
}

/* ---- the verdict: a pure function of the facts ----------------------------------------- */

static void rv_join_list(char *out, size_t n, const char list[][64], size_t count)
{
	out[0] = '\0';
	for (size_t i = 0; i < count; i++)
		buf_catf(out, n, "%s%s", i ? ", " : "", list[i]);
}

/* Reasons from the trigger event itself. */
static void rv_decide_event(const struct rv_facts *f, struct vd_verdict *v, int expected)
{
	const struct ct_facts *e = &f->ev;
	const struct rv_policy *p = f->policy;

	if (e->assume_root) {
		/* The call that hands out root: the caller decides; its MFA and
		 * network are not root's. A refused attempt by an untrusted
		 * principal is still worth a page. */
		if (expected)
			vd_add(v, "centralized-root-trusted", VD_P3,
			       "sts:AssumeRoot by trusted principal %s: root in account %s, task policy %s%s%s",
			       e->issuer_arn, e->target_principal[0] ? e->target_principal : "(not recorded)",
			       e->task_policy_arn[0] ? e->task_policy_arn : "(not recorded)",
			       e->failed ? "; the call failed: " : "", e->failed ? e->error : "");
		else
			vd_add(v, "centralized-root-untrusted", VD_P1,
			       "sts:AssumeRoot %s by %s, which is not in FIREBREAK_TRUSTED_PRINCIPALS: root in account %s, task policy %s",
			       e->failed ? "attempted" : "called",
			       e->issuer_arn[0] ? e->issuer_arn : "(caller not recorded)",
			       e->target_principal[0] ? e->target_principal : "(not recorded)",
			       e->task_policy_arn[0] ? e->task_policy_arn : "(not recorded)");
		return;
	}
	if (expected) {
		vd_add(v, "centralized-root-trusted", VD_P3,
		       "root session from sts:AssumeRoot issued to trusted principal %s (%s)",
		       e->issuer_arn, e->event_name);
		return; /* its MFA, network and call are the task it was issued for */
	}
	if (e->centralized) {
		if (e->issuer_arn[0])
			vd_add(v, "centralized-root-untrusted", VD_P1,
			       "root session from sts:AssumeRoot issued to %s, which is not in FIREBREAK_TRUSTED_PRINCIPALS",
			       e->issuer_arn);
		else
			vd_add(v, "centralized-root-untrusted", VD_P1,
			       "root session from sts:AssumeRoot whose issuer this account's record does not name "
			       "(find the AssumeRoot call in the management account's CloudTrail)");
	}
	if (!e->centralized && !e->failed && e->mfa == CT_MFA_NO) {
		if (e->is_console_login)
			vd_add(v, "signin-without-mfa", VD_P1,
			       "root console sign-in without MFA from %s",
			       e->source_ip[0] ? e->source_ip : "(no source IP)");
		else if (!e->is_signin_source)
			vd_add(v, "api-call-without-mfa", VD_P1,
			       "root called %s without MFA", e->event_name);
	}
	const char *cat = rv_sensitive_category(e->event_name);
	if (cat)
		vd_add(v, "sensitive-call", VD_P1, "root %s %s (%s)",
		       e->failed ? "attempted" : "called", e->event_name, cat);
	if (p->cidrs_configured && kit_ip_in(p->cidrs, p->ncidrs, e->source_ip) == KIT_IP_OUT)
		vd_add(v, "source-ip-not-allowed", VD_P1,
		       "source IP %s is outside FIREBREAK_ROOT_ALLOWED_CIDRS", e->source_ip);
	if (e->failed) {
		if (e->is_console_login)
			vd_add(v, "signin-failed", VD_P3, "failed root sign-in from %s%s%s",
			       e->source_ip[0] ? e->source_ip : "(no source IP)",
			       e->error[0] ? ": " : "", e->error);
		else
			vd_add(v, "call-failed", VD_P3, "root call %s failed%s%s", e->event_name,
			       e->error[0] ? ": " : "", e->error);
	} else if (e->mfa == CT_MFA_YES) {
		vd_add(v, "root-used-with-mfa", VD_P2, "root %s with MFA%s", e->event_name,
		       p->cidrs_configured && kit_ip_in(p->cidrs, p->ncidrs, e->source_ip) == KIT_IP_IN
			       ? " from an allowed network" : "");
	} else {
		vd_add(v, "root-activity", VD_P2, "root %s", e->event_name);
	}
}

/* Reasons from the window's history. */
static void rv_decide_history(const struct rv_facts *f, struct vd_verdict *v)
{
	const struct rv_history *h = &f->hist;
	char list[RV_MAX_LISTED * 66];

	if (h->signins_no_mfa)
		vd_add(v, "signin-without-mfa", VD_P1,
		       "%zu root sign-in(s) without MFA in the window", h->signins_no_mfa);
	if (h->api_no_mfa)
		vd_add(v, "api-call-without-mfa", VD_P1,
		       "%zu root API call(s) without MFA in the window", h->api_no_mfa);
	if (h->sensitive) {
		rv_join_list(list, sizeof(list), h->sensitive_names, h->nsensitive_names);
		vd_add(v, "sensitive-call", VD_P1, "%zu sensitive root call(s) in the window: %s",
		       h->sensitive, list);
	}
	if (h->ips_outside) {
		rv_join_list(list, sizeof(list), h->outside_ips, h->noutside);
		vd_add(v, "source-ip-not-allowed", VD_P1,
		       "%zu root event(s) in the window from outside FIREBREAK_ROOT_ALLOWED_CIDRS: %s",
		       h->ips_outside, list);
	}
	if (h->centralized_untrusted)
		vd_add(v, "centralized-root-untrusted", VD_P1,
		       "%zu event(s) in the window from sts:AssumeRoot sessions of untrusted issuers (first: %s)",
		       h->centralized_untrusted, h->untrusted_issuer);

	/* The trigger may not be in the lookup yet (CloudTrail lookup lags). */
	size_t failures = h->failed_signins;
	if (f->has_event && f->ev.is_console_login && f->ev.failed && !h->saw_trigger)
		failures++;
	if (failures >= (size_t)f->policy->failed_threshold)
		vd_add(v, "repeated-failed-signins", VD_P2,
		       "%zu failed root sign-ins in the window (threshold %d)", failures,
		       f->policy->failed_threshold);

	if (!f->has_event && h->queried) {
		size_t unexplained = h->events - h->centralized_trusted;
		if (unexplained)
			vd_add(v, "root-activity", VD_P2, "%zu root event(s) in the last %d minutes",
			       unexplained, f->window_minutes);
		else if (h->events)
			vd_add(v, "centralized-root-trusted", VD_P3,
			       "%zu root event(s), all from sts:AssumeRoot sessions of trusted principals",
			       h->events);
		else if (f->kind == RV_ALARM && h->reads.complete)
			vd_add(v, "alarm-without-events", VD_P2,
			       "the root-usage alarm fired but no root event was found in the last %d minutes (CloudTrail lookup can lag by minutes)",
			       f->window_minutes);
		else if (h->reads.complete)
			vd_add(v, "no-root-activity", VD_P3, "no root event in the last %d minutes",
			       f->window_minutes);
	}
	/* Decision (README "Incomplete history"): what was read still counts
	 * (a P1 found stays P1), but an unread part of the window may hold
	 * anything, so it can never read "no action": at least P2, and the
	 * verdict text itself says so (rv_decide). */
	if (!h->reads.complete)
		vd_add(v, "history-incomplete", VD_P2, "root history is incomplete: %s",
		       !h->queried ? "LookupEvents was not run"
		       : h->reads.incomplete_why[0] ? h->reads.incomplete_why : "lookup did not finish");
	if (h->unparsed)
		vd_add(v, "history-unparsed", VD_INFO,
		       "%zu event(s) had no parsable CloudTrailEvent (counted by name only)", h->unparsed);
}

void rv_decide(const struct rv_facts *f, struct vd_verdict *v)
{
	const struct rv_policy *p = f->policy;
	int expected = f->has_event && rv_record_expected(p, &f->ev);

	memset(v, 0, sizeof(*v));
	if (f->has_event)
		rv_decide_event(f, v, expected);
	rv_decide_history(f, v);

	/* Root posture outranks any explanation of the event. */
	if (f->acct.known) {
		if (f->acct.access_keys_present)
			vd_add(v, "root-access-keys-present", VD_P1,
			       "the root user has access keys (AccountAccessKeysPresent=1)");
		if (!f->acct.mfa_enabled)
			vd_add(v, "root-mfa-not-enabled", VD_P1,
			       "the root user has no MFA device (AccountMFAEnabled=0)");
	} else {
		vd_add(v, "account-summary-unavailable", VD_INFO,
		       "iam:GetAccountSummary was not read: root MFA and access keys unknown");
	}
	if (!p->cidrs_configured)
		vd_add(v, "network-restriction-not-configured", VD_INFO,
		       "FIREBREAK_ROOT_ALLOWED_CIDRS is unset: source IPs were not checked");

	enum vd_level sev = vd_severity(v);

	if (sev == VD_P3 && expected && !vd_has(v, "repeated-failed-signins")) {
		snprintf(v->verdict, sizeof(v->verdict), "expected: centralized root access by %.450s",
			 f->ev.issuer_arn);
		return;
	}
	const char *lead = sev == VD_P1 ? "escalate" : sev == VD_P2 ? "review" : "no action";
	snprintf(v->verdict, sizeof(v->verdict), "%s:", lead);
	int first = 1;
	for (size_t i = 0; i < v->nreasons; i++) {
		if (v->reasons[i].level != sev || !strcmp(v->reasons[i].code, "history-incomplete"))
			continue;
		buf_catf(v->verdict, sizeof(v->verdict), "%s%s", first ? " " : ", ", v->reasons[i].code);
		first = 0;
	}
	if (!f->hist.reads.complete) {
		/* Never the wording of a complete read: name what was not read. */
		buf_catf(v->verdict, sizeof(v->verdict), "%shistory incomplete", first ? " " : "; ");
		first = 0;
		for (size_t i = 0, k = 0; i < f->hist.reads.nregions; i++)
			if (!f->hist.reads.regions[i].complete)
				buf_catf(v->verdict, sizeof(v->verdict), "%s%s", k++ ? ", " : ": regions ",
					 f->hist.reads.regions[i].region);
	}
	if (first)
		buf_catf(v->verdict, sizeof(v->verdict), " root use verified");
}

/* The runbook's manual next steps for the verdict (strings borrowed; the
 * caller cJSON_Delete()s the array). Root cannot be contained through an
 * API, so a human does these. */
static cJSON *rv_next_steps(const struct vd_verdict *v, const char *account, const char *start_iso,
			    const char *end_iso)
{
	/* In this order, each when the verdict has one of its reasons. */
	static const struct { const char *codes[3]; const char *step; } steps[] = {
		{{"signin-without-mfa", "root-mfa-not-enabled", "api-call-without-mfa"},
		 "Sign in as root and assign an MFA device (IAM console > Security credentials); rotate the root password."},
		{{"root-access-keys-present"},
		 "Delete the root user's access keys (signed in as root: Security credentials > Access keys); no other principal can delete them through an API."},
		{{"source-ip-not-allowed"},
		 "Treat the listed source IPs as hostile until explained: reset the root password, re-register root MFA, and check the root email mailbox for password-reset mail."},
		{{"sensitive-call"},
		 "Review and revert each listed sensitive call (new keys, users, policies, trail/GuardDuty/bucket-policy changes) in CloudTrail."},
		{{"repeated-failed-signins"},
		 "Repeated failed root sign-ins: confirm MFA is on, use a long unique root password, and protect the root email account."},
		{{"centralized-root-untrusted"},
		 "Find who called sts:AssumeRoot (management or delegated-admin account CloudTrail, eventName AssumeRoot); add the principal to FIREBREAK_TRUSTED_PRINCIPALS only if the task was legitimate."},
		{{"history-incomplete", "account-summary-unavailable"},
		 "The verification was incomplete: re-run by hand with aws lambda invoke --function-name root-verify --payload '{\"window_minutes\": 60}'."},
	};
	cJSON *a = cJSON_CreateArray();
	char line[512];
	if (!a)
		return NULL;
	cJSON_AddItemToArray(a, cJSON_CreateString(
		vd_has(v, "centralized-root-trusted") && v->severity[1] == '3'
		? "Confirm the sts:AssumeRoot task matches a change ticket; no other action needed."
		: "Confirm with the account owner right now whether this root use was planned (who, why, ticket); if nobody owns it, treat the root user as compromised."));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (size_t c = 0; c < 3 && steps[i].codes[c]; c++)
			if (vd_has(v, steps[i].codes[c])) {
				cJSON_AddItemToArray(a, cJSON_CreateString(steps[i].step));
				break;
			}
	snprintf(line, sizeof(line),
		 "Review all root activity: aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root --start-time %s --end-time %s%s%s",
		 start_iso, end_iso, account && *account ? "   # account " : "",
		 account ? account : "");
	cJSON_AddItemToArray(a, cJSON_CreateString(line));
	return a;
}

/* ---- trigger classification --------------------------------------------------------------- */

enum rv_class rv_classify(const cJSON *ev, const struct rv_config *cfg, struct rv_trigger *t)
{
	memset(t, 0, sizeof(*t));
	t->window_minutes = cfg->lookback_minutes;
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(ev, "detail");
	const char *src, *dt;

	/* dryRun, and the account and region that pick the role ARN and the
	 * endpoint (acct_client_for), then source and detail-type */
	if (kit_envelope_check(ev, t->why, sizeof(t->why)) != 0)
		return RV_CLASS_INVALID;
	enum kit_event kind = kit_event_envelope(ev, &src, &dt, t->why, sizeof(t->why));
	if (kind == KIT_EVENT_INVALID)
		return RV_CLASS_INVALID;
	if (kind == KIT_EVENT_MANUAL) {
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(ev, "window_minutes");
		if (!w) {
			snprintf(t->why, sizeof(t->why),
				 "not an EventBridge event and no 'window_minutes' for a manual run");
			return RV_CLASS_INVALID;
		}
		/* fuzz: the range check comes first, (long) of an out-of-range double is UB */
		if (!cJSON_IsNumber(w) || !(w->valuedouble >= 1 && w->valuedouble <= 1440) ||
		    w->valuedouble != (double)(long)w->valuedouble) {
			snprintf(t->why, sizeof(t->why), "field 'window_minutes' must be an integer in 1..1440");
			return RV_CLASS_INVALID;
		}
		t->kind = RV_MANUAL;
		t->window_minutes = (int)w->valuedouble;
		return RV_CLASS_RUN;
	}
	if (!cJSON_IsObject(detail)) {
		snprintf(t->why, sizeof(t->why), "field 'detail' must be an object");
		return RV_CLASS_INVALID;
	}
	const char *time_s = resp_get_str(ev, "time");

	if (strcmp(dt, "CloudWatch Alarm State Change") == 0) {
		struct alarm_change a;
		if (alarm_parse(detail, &a) != FB_OK) {
			snprintf(t->why, sizeof(t->why),
				 "cannot parse event field 'detail.alarmName' or 'detail.state.value'");
			return RV_CLASS_INVALID;
		}
		t->kind = RV_ALARM;
		buf_copy_str(t->alarm_name, sizeof(t->alarm_name), a.name);
		if (strcmp(a.name, cfg->alarm_name) != 0) {
			snprintf(t->why, sizeof(t->why), "alarm '%.100s' is not the root-usage alarm '%.100s'",
				 a.name, cfg->alarm_name);
			return RV_CLASS_SKIP;
		}
		if (strcmp(a.state, "ALARM") != 0) {
			snprintf(t->why, sizeof(t->why), "alarm state is %.40s, not ALARM", a.state);
			return RV_CLASS_SKIP;
		}
		/* the window: what the alarm evaluated (period x datapoints) */
		int w = alarm_span_minutes(&a, 1440);
		if (w > 0)
			t->window_minutes = w;
		t->end_ms = a.changed_ms;
		if (!t->end_ms)
			t->end_ms = resp_parse_time_ms(time_s);
		return RV_CLASS_RUN;
	}
	if (strcmp(dt, "AWS Console Sign In via CloudTrail") == 0 ||
	    strcmp(dt, "AWS API Call via CloudTrail") == 0) {
		if (ct_facts_parse(detail, &t->ev) != FB_OK) {
			snprintf(t->why, sizeof(t->why),
				 "cannot parse event field 'detail.userIdentity.type' or 'detail.eventName'");
			return RV_CLASS_INVALID;
		}
		t->kind = dt[4] == 'C' ? RV_SIGNIN : RV_API_CALL;
		/* sts:AssumeRoot is not root use yet, but it is how root is handed
		 * out under centralized root access: who asked decides. */
		if (!t->ev.is_root && !t->ev.assume_root) {
			snprintf(t->why, sizeof(t->why), "identity type is %.30s, not Root", t->ev.identity_type);
			return RV_CLASS_SKIP;
		}
		t->end_ms = t->ev.time_ms ? t->ev.time_ms : resp_parse_time_ms(time_s);
		return RV_CLASS_RUN;
	}
	snprintf(t->why, sizeof(t->why), "unsupported detail-type '%.80s'", dt);
	return RV_CLASS_INVALID;
}

/* ---- report pieces ----------------------------------------------------------------------------------- */

cJSON *rv_history_json(const struct rv_history *h, size_t max_pages, size_t max_events)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *names = cJSON_AddObjectToObject(o, "event_names");
	cJSON *ips = cJSON_AddArrayToObject(o, "source_ips");
	cJSON *sens = cJSON_AddArrayToObject(o, "sensitive_calls");
	cJSON *outside = cJSON_AddArrayToObject(o, "ips_outside_allowed");
	cJSON_AddBoolToObject(o, "queried", h->queried);
	cJSON_AddBoolToObject(o, "complete", h->reads.complete);
	kit_add_strs(o, "incomplete_why", h->reads.incomplete_why[0] ? h->reads.incomplete_why : NULL, KIT_END);
	regions_log_json(&h->reads, o);
	cJSON_AddNumberToObject(o, "pages", (double)h->pages);
	cJSON_AddNumberToObject(o, "events", (double)h->events);
	cJSON_AddNumberToObject(o, "max_pages", (double)max_pages);
	cJSON_AddNumberToObject(o, "max_events", (double)max_events);
	for (size_t i = 0; i < h->nnames; i++)
		cJSON_AddNumberToObject(names, h->names[i], (double)h->name_counts[i]);
	if (h->names_overflow)
		cJSON_AddBoolToObject(o, "event_names_truncated", 1);
	for (size_t i = 0; i < h->nips; i++)
		cJSON_AddItemToArray(ips, cJSON_CreateString(h->ips[i]));
	if (h->ips_overflow)
		cJSON_AddBoolToObject(o, "source_ips_truncated", 1);
	cJSON *mfa = cJSON_AddObjectToObject(o, "mfa");
	cJSON_AddNumberToObject(mfa, "yes", (double)h->mfa[CT_MFA_YES]);
	cJSON_AddNumberToObject(mfa, "no", (double)h->mfa[CT_MFA_NO]);
	cJSON_AddNumberToObject(mfa, "unknown", (double)h->mfa[CT_MFA_UNKNOWN]);
	cJSON_AddNumberToObject(o, "successful_signins", (double)h->signins_ok);
	cJSON_AddNumberToObject(o, "signins_without_mfa", (double)h->signins_no_mfa);
	cJSON_AddNumberToObject(o, "failed_signins", (double)h->failed_signins);
	cJSON_AddNumberToObject(o, "api_calls_without_mfa", (double)h->api_no_mfa);
	cJSON_AddNumberToObject(o, "sensitive", (double)h->sensitive);
	for (size_t i = 0; i < h->nsensitive_names; i++)
		cJSON_AddItemToArray(sens, cJSON_CreateString(h->sensitive_names[i]));
	for (size_t i = 0; i < h->noutside; i++)
		cJSON_AddItemToArray(outside, cJSON_CreateString(h->outside_ips[i]));
	cJSON_AddNumberToObject(o, "centralized_trusted", (double)h->centralized_trusted);
	cJSON_AddNumberToObject(o, "centralized_untrusted", (double)h->centralized_untrusted);
	cJSON_AddNumberToObject(o, "unparsed", (double)h->unparsed);
	return o;
}

static const char *rv_network_name(const struct rv_policy *p, const char *ip)
{
	if (!p->cidrs_configured)
		return "not-checked";
	switch (kit_ip_in(p->cidrs, p->ncidrs, ip)) {
	case KIT_IP_IN: return "allowed";
	case KIT_IP_OUT: return "outside";
	case KIT_IP_NOT_AN_IP: break;
	}
	return "not-an-ip";
}

static cJSON *rv_event_json(const struct ct_facts *e, const struct rv_policy *p)
{
	cJSON *o = kit_obj("event_name", e->event_name, "event_source", e->event_source,
			   "event_time", e->event_time, "source_ip", e->source_ip, "user_agent", e->user_agent,
			   "outcome", e->failed ? "failure" : "success", "error", e->error[0] ? e->error : NULL,
			   "mfa", e->mfa == CT_MFA_YES ? "yes" : e->mfa == CT_MFA_NO ? "no" : "unknown",
			   "network", rv_network_name(p, e->source_ip), KIT_END);

	cJSON_AddBoolToObject(o, "centralized_root", e->centralized);
	kit_add_strs(o, "issuer", e->centralized ? e->issuer_arn : NULL, KIT_END);
	if (e->assume_root)
		cJSON_AddItemToObject(o, "assume_root", kit_obj("target_principal", e->target_principal,
								"task_policy_arn", e->task_policy_arn, KIT_END));
	return o;
}

void rv_report_extra(cJSON *extra, const struct rv_trigger *t, const struct rv_facts *f,
		     const struct vd_verdict *v, const struct rv_config *cfg, const char *account,
		     const char *start_iso, const char *end_iso)
{
	static const char *const kinds[] = { [RV_SIGNIN] = "console-sign-in", [RV_API_CALL] = "api-call",
					     [RV_ALARM] = "alarm", [RV_MANUAL] = "manual" };
	cJSON *w, *acct;

	if (!extra)
		return;
	kit_add_strs(extra, "trigger_kind", kinds[t->kind], "alarm_name", t->kind == RV_ALARM ? t->alarm_name : NULL,
		     KIT_END);
	w = cJSON_AddObjectToObject(extra, "window");
	kit_add_strs(w, "start", start_iso, "end", end_iso, KIT_END);
	cJSON_AddNumberToObject(w, "minutes", t->window_minutes);
	if (f->has_event)
		cJSON_AddItemToObject(extra, "event", rv_event_json(&f->ev, f->policy));
	cJSON_AddItemToObject(extra, "history",
			      rv_history_json(&f->hist, (size_t)cfg->max_pages, (size_t)cfg->max_events));
	acct = cJSON_AddObjectToObject(extra, "account_summary");
	cJSON_AddBoolToObject(acct, "known", f->acct.known);
	if (f->acct.known) {
		cJSON_AddBoolToObject(acct, "root_mfa_enabled", f->acct.mfa_enabled);
		cJSON_AddBoolToObject(acct, "root_access_keys_present", f->acct.access_keys_present);
	}
	/* the verdict again: resp reports "failed" when a step failed, and the
	 * partial assessment must survive that */
	cJSON_AddStringToObject(extra, "assessment", v->verdict);
	cJSON_AddItemToObject(extra, "reasons", vd_reasons_json(v));
	cJSON_AddItemToObject(extra, "next_steps", rv_next_steps(v, account, start_iso, end_iso));
}
