/*
 * data-breach: a suspected DynamoDB breach is preserved, measured and put
 * on the GDPR clock (issue 22), on the responder kit. README.md next to
 * this file has triggers, actions, decisions, Safety and IAM;
 * data_breach.h declares the pure stages (stages.c).
 *
 * The runbook:
 *   round 1 (reads, concurrent): DescribeTable, DescribeContinuousBackups,
 *            ListBackups (the incident's backup already made?),
 *            ListTagsOfResource (declared data categories / subjects),
 *            GetMetricStatistics (24 h of ConsumedReadCapacityUnits, hourly
 *            sums), CloudTrail LookupEvents ResourceName=<table> (control
 *            plane; data-plane reads are not in LookupEvents)
 *   decide:  what is already preserved (db_pitr_on, db_stream_state,
 *            db_backup_exists), the spike (db_spike_measure)
 *   round 2 (writes, concurrent, each restore[] first): PITR on,
 *            CreateBackup named after the incident, Streams
 *            NEW_AND_OLD_IMAGES when off
 *   record:  the GDPR Art. 33 draft in the report (extra.gdpr), deadline
 *            72 h from detection.
 */
#include "data_breach.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cloudtrail.h"
#include "evidence.h"
#include "fb_err.h"
#include "fn.h"
#include "http.h"
#include "kit.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"

#define DB_FUNCTION "data-breach"
#define DB_DEADLINE_MARGIN_MS 500
#define DB_TAG_CATEGORIES "firebreak:data-categories"
#define DB_TAG_SUBJECTS "firebreak:data-subjects"
#define DB_TAG_EXEMPT "firebreak:exempt"

struct db_fn {
	struct fn_base fn;
	char alarm_prefix[128];
	int spike_factor;
	double min_severity;
	struct db_deadline deadlines[DB_MAX_DEADLINES]; /* FIREBREAK_DB_DEADLINES */
	size_t ndeadlines;
	char dpo[256];                  /* FIREBREAK_DB_DPO_CONTACT, "" unknown */
};

/* Who is suspected, and on what ground: the manual form's principal (an
 * operator said so) or the finding's, confirmed by CloudTrail (the
 * finding's access key seen calling DynamoDB on this table). */
struct db_who {
	char principal[512];
	int is_role;
	char ground[300];
};

static long json_long_or(const cJSON *v, long def)
{
	long x;

	return kit_json_long(v, &x) == 0 ? x : def;
}

/* The ISO-8601 UTC time (seconds) GetMetricStatistics takes. */
static void iso_s(int64_t ms, char out[RESP_TIME_LEN])
{
	resp_format_time_ms(ms - ms % 1000, out);
}

static cJSON *metric_input(const char *table, int64_t now_ms)
{
	char start[RESP_TIME_LEN], end[RESP_TIME_LEN];
	cJSON *in = cJSON_CreateObject(), *dims, *d, *stats;

	if (!in)
		return NULL;
	iso_s(now_ms - 24 * 3600 * 1000LL, start);
	iso_s(now_ms, end);
	cJSON_AddStringToObject(in, "Namespace", "AWS/DynamoDB");
	cJSON_AddStringToObject(in, "MetricName", "ConsumedReadCapacityUnits");
	dims = cJSON_AddArrayToObject(in, "Dimensions");
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "Name", "TableName");
	cJSON_AddStringToObject(d, "Value", table);
	cJSON_AddItemToArray(dims, d);
	cJSON_AddStringToObject(in, "StartTime", start);
	cJSON_AddStringToObject(in, "EndTime", end);
	cJSON_AddNumberToObject(in, "Period", 3600);
	stats = cJSON_AddArrayToObject(in, "Statistics");
	cJSON_AddItemToArray(stats, cJSON_CreateString("Sum"));
	return in;
}

static cJSON *table_in(const char *table)
{
	return kit_obj("TableName", table, KIT_END);
}

/* UpdateContinuousBackups' input: the table's point-in-time recovery on or
 * off (the write, and its undo). */
static cJSON *pitr_in(const char *table, int on)
{
	cJSON *in = table_in(table);
	cJSON *spec = in ? cJSON_AddObjectToObject(in, "PointInTimeRecoverySpecification") : NULL;

	if (spec)
		cJSON_AddBoolToObject(spec, "PointInTimeRecoveryEnabled", on);
	return in;
}

/* CloudWatch answers Datapoints unordered: sort by Timestamp (ISO strings
 * of one format sort as text) so the report reads in time order. */
static int cmp_ts(const void *a, const void *b)
{
	const char *x = resp_get_str(*(cJSON *const *)a, "Timestamp");
	const char *y = resp_get_str(*(cJSON *const *)b, "Timestamp");

	return strcmp(x ? x : "", y ? y : "");
}

static cJSON *sorted_points(const cJSON *dps)
{
	cJSON *arr = cJSON_CreateArray(), *items[64], *d;
	int n = 0, i;

	if (!arr)
		return NULL;
	cJSON_ArrayForEach(d, dps) {
		if (n == 64)
			break;
		items[n++] = d;
	}
	qsort(items, (size_t)n, sizeof(items[0]), cmp_ts);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(items[i], 1));
	return arr;
}

/* The steps that did or planned something: the Art. 33(3)(d) measures. */
static cJSON *measures(const struct resp *r)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < r->nsteps; i++) {
		const struct resp_step *s = &r->steps[i];
		cJSON *m;

		/* the undo record's lines (claimed before the writes) are not
		 * measures against the breach */
		if (s->kind != RESP_WRITE || !strncmp(s->step, "evidence", 8))
			continue;
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "step", s->step);
		cJSON_AddStringToObject(m, "status", resp_status_name(s->status));
		if (s->detail)
			cJSON_AddStringToObject(m, "detail", s->detail);
		cJSON_AddItemToArray(a, m);
	}
	return a;
}

static enum fb_err db_settings(void *state, char *err, size_t errlen)
{
	struct db_fn *st = state;
	const char *p = getenv("FIREBREAK_DB_ALARM_PREFIX");
	enum fb_err rc;

	snprintf(st->alarm_prefix, sizeof(st->alarm_prefix), "%s", p && *p ? p : DB_DEFAULT_ALARM_PREFIX);
	rc = kit_env_int("FIREBREAK_DB_SPIKE_FACTOR", (int)DB_DEFAULT_SPIKE_FACTOR, 2, 10000, &st->spike_factor,
			 err, errlen);
	if (rc == FB_OK)
		rc = kit_env_severity("FIREBREAK_MIN_SEVERITY", DB_DEFAULT_MIN_SEVERITY, &st->min_severity, err,
				      errlen);
	if (rc == FB_OK && p && strlen(p) >= sizeof(st->alarm_prefix)) {
		snprintf(err, errlen, "setting 'FIREBREAK_DB_ALARM_PREFIX' is too long");
		rc = FB_E_CONFIG;
	}
	if (rc == FB_OK)
		rc = db_deadlines_parse(getenv("FIREBREAK_DB_DEADLINES"), st->deadlines, DB_MAX_DEADLINES,
					&st->ndeadlines, err, errlen);
	if (rc == FB_OK) {
		const char *d = getenv("FIREBREAK_DB_DPO_CONTACT");

		if (d && strlen(d) >= sizeof(st->dpo)) {
			snprintf(err, errlen, "setting 'FIREBREAK_DB_DPO_CONTACT' is too long");
			rc = FB_E_CONFIG;
		} else {
			snprintf(st->dpo, sizeof(st->dpo), "%s", d ? d : "");
		}
	}
	return rc;
}


/* The undo record (restore.json), claimed BEFORE the first write (issue 24
 * s2, w3-rst2): the undo of every write round 2 will send (kit_round_undo_plan)
 * and of the session revocation (its prior AWSRevokeOlderSessions, read in
 * round 1: `rev`, for the role named `role`; NULL: no revocation planned).
 * A write that is then not made leaves an entry firebreak-restore finds
 * "already"; a deny re-merged after a revision conflict (deny_retry) keeps
 * the first prior, which firebreak-restore then finds "changed" (not
 * touched). A failed claim never holds back the preservation: the table
 * matters more than the record, and every undo is in restore[] before its
 * write (README "Decisions"). 1 when claimed (or planned under dry run). */
static int claim_record(struct db_fn *st, struct resp *r, struct evidence *evd, struct kit_round *rd,
			struct kit_step *rev, const char *role)
{
	cJSON *plan = kit_round_undo_plan(rd), *out = cJSON_AddObjectToObject(r->extra, "evidence");
	int claimed;

	if (plan && role && kit_ok(rev))
		cJSON_AddItemToArray(plan, kit_revoke_undo(role, kit_found(rev) ?
			resp_get_str(kit_out(rev), "PolicyDocument") : NULL));
	claimed = evidence_open(evd, !r->dry_run && cJSON_GetArraySize(plan) > 0, plan, out);
	if (!claimed && !st->fn.evcfg.bucket)
		resp_warn(r, "no evidence bucket configured: the GDPR record is only in this report");
	cJSON_Delete(plan);
	return claimed;
}

/* The GDPR record in the evidence bucket (runtime/evidence: write-once,
 * SHA-256 manifest), in the attempt claim_record claimed: the JSON and the
 * DPO's text. Once per incident: a delivery that wrote nothing new finds
 * the first set complete (manifest.json) and writes nothing ("already"). */
static void keep_record(struct resp *r, struct evidence *evd, const cJSON *rec, int claimed)
{
	static const char *const names[] = { "restore.json", "gdpr-record.json", "gdpr-record.txt",
					      "manifest.json", NULL };
	cJSON *out = cJSON_GetObjectItemCaseSensitive(r->extra, "evidence");
	char *txt;

	if (!claimed || !out)
		return;
	evidence_add_json(evd, "gdpr-record.json", rec);
	txt = db_gdpr_text(rec);
	if (txt)
		evidence_add(evd, "gdpr-record.txt", txt, strlen(txt), NULL);
	evidence_put(evd);
	evidence_finish(evd, names, out);
}

/* The Deny for the principal in the table's resource policy: the write
 * of one attempt, its undo the prior policy (or deleting the policy when
 * there was none), ExpectedRevisionId so that a policy changed since the
 * read is never overwritten (DynamoDB answers PolicyNotFoundException and
 * writes nothing). rd: the round to join; read: GetResourcePolicy's step
 * (its answer or "absent"). Returns the step, NULL when no write is needed
 * or possible (the line already says why). */
static struct kit_step *add_deny(struct kit_round *rd, struct aws_client *c, const char *arn,
				 const char *principal, struct kit_step *read, const char *step)
{
	const char *prior = kit_found(read) ? resp_get_str(kit_out(read), "Policy") : NULL;
	const char *rev = kit_found(read) ? resp_get_str(kit_out(read), "RevisionId") : NULL;
	char *doc = NULL, why[200] = "";
	cJSON *in, *undo;
	struct kit_step *s;
	int m;

	m = kit_ok(read) ? db_policy_merge(prior, arn, principal, &doc, why, sizeof(why)) : -1;
	if (kit_ok(read) && kit_found(read) && (!prior || !rev)) {
		m = -1;
		snprintf(why, sizeof(why), "GetResourcePolicy answered without Policy or RevisionId");
	}
	in = kit_obj("ResourceArn", arn, "Policy", doc ? doc : "{}", "ExpectedRevisionId",
		     kit_found(read) && rev ? rev : "NO_POLICY", KIT_END);
	undo = kit_obj("ResourceArn", arn, "Policy", prior, KIT_END);
	s = kit_add(rd, &(struct kit_spec){ .step = step, .service = "dynamodb", .op = "PutResourcePolicy",
		.target = arn, .kind = RESP_WRITE, .in = in, .client = c,
		.restore = prior ? kit_undo("dynamodb:PutResourcePolicy", undo)
				 : kit_undo("dynamodb:DeleteResourcePolicy", undo),
		.detail = "Deny dynamodb:* on the table and its indexes for the principal (aws:PrincipalArn), "
			  "other statements kept" });
	free(doc);
	if (!kit_ok(read))
		kit_skip(s, "the table's policy could not be read: no write (its undo could not be recorded)");
	else if (m < 0)
		kit_skip(s, "%s: no write", why);
	else if (m == 0)
		kit_already(s, "the table's policy already denies %s", principal);
	else
		return s;
	return NULL;
}

static struct kit_step *add_policy_read(struct kit_round *rd, struct aws_client *c, const char *arn,
					const char *step)
{
	return kit_add(rd, &(struct kit_spec){ .step = step, .service = "dynamodb", .op = "GetResourcePolicy",
		.target = arn, .kind = RESP_READ, .in = kit_obj("ResourceArn", arn, KIT_END), .client = c,
		.optional = 1, .absent = "PolicyNotFoundException", .detail = "the table's resource policy" });
}

#define DB_DENY_RETRIES 3

static int deny_conflict(const struct kit_step *s)
{
	return s && kit_status(s) == RESP_FAILED && strcmp(kit_err(s)->code, "PolicyNotFoundException") == 0;
}

/* After round 2: a deny refused for a changed revision (someone wrote the
 * policy between our read and our write: DynamoDB answers
 * PolicyNotFoundException and writes nothing) is re-read and merged again,
 * up to DB_DENY_RETRIES times while the deadline allows. A superseded
 * attempt's line stays failed but optional; its restore[] entry stands as
 * a failed write's does. The last attempt decides. */
static void deny_retry(struct resp *r, struct kit *k, struct aws_client *c, const char *arn,
		       const char *principal, struct kit_step *prev)
{
	struct kit_round *rd_prev = NULL;
	int attempt;

	for (attempt = 1; attempt <= DB_DENY_RETRIES && deny_conflict(prev); attempt++) {
		struct kit_round *rd;
		struct kit_step *read;
		char n1[48], n2[48];

		if (r->ctx && r->ctx->deadline_ms > 0 && lr_remaining_ms(r->ctx) < 4 * DB_DEADLINE_MARGIN_MS) {
			resp_warn(r, "the table's policy kept changing and the deadline is near: not denied");
			break;
		}
		kit_set_optional(prev);
		kit_detail(prev, "refused: the policy changed since it was read; re-read and merged again");
		snprintf(n1, sizeof(n1), "re-read-table-policy-%d", attempt);
		snprintf(n2, sizeof(n2), "deny-principal-retry-%d", attempt);
		rd = kit_round_new(k);
		read = add_policy_read(rd, c, arn, n1);
		kit_run(rd);
		prev = add_deny(rd, c, arn, principal, read, n2);
		kit_run(rd);
		kit_round_free(rd_prev);
		rd_prev = rd;
	}
	kit_round_free(rd_prev);
}

/* The kit's principal containment: a role's sessions issued before the
 * incident end (kit_revoke_sessions) when the role is in the table's
 * account (another account's role is that account's to revoke: the table
 * Deny stands either way). An IAM user's keys are iam-contain's (the same
 * GuardDuty finding reaches it): said, not done twice. */
/* The role contain_principal revokes (its name in `role`): a role of the
 * table's account, as contain_principal decides. */
static int revocation_role(const struct db_who *who, const char *account, char *role, size_t n)
{
	cJSON *pats;
	const cJSON *first;
	char acct[16] = "";
	const char *a;
	int slr = 0, ok;

	if (!who || !who->is_role || !account)
		return 0;
	a = strstr(who->principal, "::");
	if (a)
		snprintf(acct, sizeof(acct), "%.12s", a + 2);
	if (strcmp(acct, account))
		return 0;
	pats = db_principal_patterns(who->principal);
	first = cJSON_GetArrayItem(pats, 0);
	ok = cJSON_IsString(first) && kit_role_name(first->valuestring, role, n, &slr) && !slr;
	cJSON_Delete(pats);
	return ok;
}

static void contain_principal(struct resp *r, struct kit *k, struct aws_client *c, const char *account,
			      const struct db_who *who, int64_t aware)
{
	cJSON *pats = db_principal_patterns(who->principal);
	const cJSON *first = cJSON_GetArrayItem(pats, 0);
	char acct[16] = "";
	const char *a = strstr(who->principal, "::");

	if (a)
		snprintf(acct, sizeof(acct), "%.12s", a + 2);
	if (!who->is_role) {
		resp_warn(r, "%s is an IAM user: the table denies it; its access keys are iam-contain's to "
			  "deactivate", who->principal);
	} else if (!first || !account || strcmp(acct, account)) {
		kit_decide(k, &(struct kit_spec){ .step = "revoke-sessions", .service = "iam", .op = "PutRolePolicy",
			.target = who->principal, .kind = RESP_WRITE }, RESP_SKIPPED,
			"the role is in another account than the table: its sessions are that account's to revoke "
			"(the table denies it)");
	} else {
		kit_revoke_sessions(k, &(struct kit_revoke){ .role_arn = first->valuestring, .not_before_ms = aware,
			.client = c });
	}
	cJSON_Delete(pats);
}

/* firebreak:exempt on the table, under the provenance rule (runtime/prov):
 * honoured only when CloudTrail shows it predates the incident by the
 * minimum age and was not set by the suspected principal; unread or
 * unverifiable history: ignored (fail towards preserving). 1 when
 * honoured, the reason in `reason`. */
static int db_table_exempt(struct resp *r, struct kit *k, struct aws_client *c, const char *arn,
			   const char *account, const cJSON *tags, int64_t aware, const struct db_who *who,
			   char *reason, size_t rn)
{
	static const char *const keys[] = { DB_TAG_EXEMPT };

	/* an alarm, a finding or a request: no CloudTrail record of its own */
	return kit_exemption(k, &(struct kit_prov_read){ .step = "tag-provenance", .arn = arn, .client = c,
		.account = account, .deadline_ms = kit_read_deadline(k, 3 * DB_DEADLINE_MARGIN_MS),
		.complete_note = " (complete)" }, &(struct prov_query){ .trigger_ms = aware,
		.trigger_actor = who && who->principal[0] ? who->principal : NULL }, tags, keys, 1, r->extra,
		reason, rn) != NULL;
}

/* A GuardDuty finding: the finding is a claim. CloudTrail (LookupEvents by
 * the finding's access key) says which tables that key really called
 * DynamoDB on, and as whom. The table: the finding's own (DescribeTable
 * confirms it next), else the one CloudTrail shows (the latest, when
 * several: the others are listed). The principal is contained only when
 * CloudTrail shows its key on that table. 0: go on; -1: stop (verdict set). */
static int db_resolve_finding(struct resp *r, struct kit *k, struct db_event *ev, struct db_who *who)
{
	struct aws_client *c = kit_client(k, ev->account, ev->region[0] ? ev->region : NULL,
					  "assume-member-role", NULL);
	struct kit_round *rd;
	struct kit_step *s;
	struct ct_query q;
	struct db_access acc, hit;
	const cJSON *e, *evs;
	cJSON *tables, *f;
	int64_t now = k->now_ms();
	int n = 0, seen_on_table = 0;

	if (!c)
		return -1;
	f = cJSON_GetObjectItemCaseSensitive(r->extra, "finding");
	if (f) {
		cJSON_AddStringToObject(f, "access_key", ev->gd.access_key);
		cJSON_AddStringToObject(f, "user_type", ev->gd.user_type);
		cJSON_AddStringToObject(f, "user_name", ev->gd.user_name);
		cJSON_AddStringToObject(f, "dynamodb_apis", ev->gd.apis);
		if (ev->table[0])
			cJSON_AddStringToObject(f, "table", ev->table);
	}
	memset(&q, 0, sizeof(q));
	q.attr_key = "AccessKeyId";
	q.attr_value = ev->gd.access_key;
	/* from an hour before GuardDuty first saw it (CloudTrail's own delay),
	 * at most 7 days back */
	q.start_ms = ev->gd.first_seen_ms > 0 ? ev->gd.first_seen_ms - 3600 * 1000LL : now - 24 * 3600 * 1000LL;
	if (q.start_ms < now - 7 * 24 * 3600 * 1000LL)
		q.start_ms = now - 7 * 24 * 3600 * 1000LL;
	q.end_ms = now;
	q.max_pages = 5;
	q.account = ev->account;
	q.deadline_ms = kit_read_deadline(k, 3 * DB_DEADLINE_MARGIN_MS);
	q.keep_events = 1;
	rd = kit_round_new(k);
	s = kit_add(rd, &(struct kit_spec){ .step = "key-activity", .service = "cloudtrail",
		.op = "LookupEvents", .target = ev->gd.access_key, .kind = RESP_READ, .cloudtrail = &q,
		.optional = ev->table[0] != 0, .client = c,
		.detail = "the finding's access key in CloudTrail" });
	kit_run(rd);
	memset(&hit, 0, sizeof(hit));
	tables = cJSON_AddArrayToObject(r->extra, "key_tables");
	/* newest first: the first match is the latest */
	evs = kit_ct_result(s) ? kit_items(s) : NULL;
	cJSON_ArrayForEach(e, evs) {
		cJSON *rec = ct_event_detail(e);
		const cJSON *x;
		int dup = 0;

		if (rec && db_ct_access(rec, &ev->gd, ev->account, &acc)) {
			cJSON_ArrayForEach(x, tables)
				if (strcmp(x->valuestring, acc.table) == 0)
					dup = 1;
			if (!dup)
				cJSON_AddItemToArray(tables, cJSON_CreateString(acc.table));
			if (ev->table[0] ? strcmp(acc.table, ev->table) == 0 : n == 0) {
				if (!seen_on_table || (!hit.principal[0] && acc.principal[0]))
					hit = acc;
				seen_on_table = 1;
			}
			n++;
		}
		cJSON_Delete(rec);
	}
	if (!ev->table[0]) {
		if (!seen_on_table) {
			kit_fail(s, "CloudTrail shows no DynamoDB call on a table by this key%s",
				 kit_ok(s) ? "" : " (not read)");
			resp_set_verdict(r, "failed: the finding names no table and CloudTrail does not show one "
					 "(its delivery lags up to 15 minutes: a retry may): nothing changed");
			kit_round_free(rd);
			return -1;
		}
		snprintf(ev->table, sizeof(ev->table), "%s", hit.table);
		if (cJSON_GetArraySize(tables) > 1)
			resp_warn(r, "the key called DynamoDB on %d tables (key_tables): this run acts on the latest, %s; "
				  "run the manual form for the others", cJSON_GetArraySize(tables), hit.table);
	}
	kit_detail(s, "%d DynamoDB calls by the key on %d table(s)%s", n, cJSON_GetArraySize(tables),
		   seen_on_table ? "" : "; none on the finding's table");
	if (seen_on_table && hit.principal[0]) {
		snprintf(who->principal, sizeof(who->principal), "%s", hit.principal);
		who->is_role = hit.is_role;
		snprintf(who->ground, sizeof(who->ground), "CloudTrail: the finding's key called %.40s on %.120s",
			 hit.event, hit.table);
	} else if (seen_on_table) {
		resp_warn(r, "CloudTrail shows the key on the table, but as a %s identity: not contained by a "
			  "table policy (reported)", ev->gd.user_type[0] ? ev->gd.user_type : "non-IAM");
	} else {
		resp_warn(r, "CloudTrail does not show the finding's key on %s: preserved, the principal not contained",
			  ev->table);
	}
	kit_round_free(rd);
	return 0;
}

static void db_respond(struct db_fn *st, struct resp *r, struct kit *k, const struct db_event *ev,
		       const struct db_who *who, struct evidence *evd)
{
	struct aws_client *c;
	struct aws_error aerr;
	struct kit_round *rd, *rd1, *rd2, *rdm;
	struct kit_step *s_dt, *s_cb, *s_lb, *s_tags, *s_met, *s_ct, *s_pitr, *s_bk, *s_str, *s_chk;
	struct kit_step *s_pol = NULL, *s_deny = NULL, *s_exp, *s_rev = NULL;
	char rev_role[130] = "";
	int claimed;
	char guard[200] = "", exempt_why[PROV_REASON_LEN] = "";
	int contain = 0, exempt = 0;
	struct ct_query q;
	struct db_spike spike;
	struct db_record_in rin;
	char arn[400], backup[300], source[400], next_dl[160];
	const char *account, *region;
	int64_t now = k->now_ms(), aware;
	int pitr, stream, have_spike = 0, nfail = 0;
	cJSON *in, *rec, *meas, *gdpr_sorted = NULL;
	const cJSON *tags;
	static const struct kit_paging backups_paging = { .items = "BackupSummaries",
		.next = "LastEvaluatedBackupArn", .token = "ExclusiveStartBackupArn" };
	static const struct kit_paging exports_paging = { .items = "ExportSummaries", .next = "NextToken",
		.max_pages = 3 };

	memset(&aerr, 0, sizeof(aerr));
	c = kit_client(k, ev->account[0] ? ev->account : NULL, ev->region[0] ? ev->region : NULL,
		       "assume-member-role", &aerr);
	if (!c)
		return;
	account = ev->account[0] ? ev->account : kit_own_account(k);
	region = ev->region[0] ? ev->region : aws_client_region(c);
	snprintf(arn, sizeof(arn), "arn:%s:dynamodb:%s:%s:table/%s", kit_partition(k), region ? region : "",
		 account ? account : "", ev->table);
	resp_set_resource(r, arn, account, region);
	aware = ev->detected_ms > 0 ? ev->detected_ms : r->received_ms;

	/* Round 1: the table's real state, what the writes are decided from. */
	memset(&q, 0, sizeof(q));
	/* CloudTrail records a DynamoDB call's table in resources[] by its ARN
	 * (AWS::DynamoDB::Table); LookupEvents matches ResourceName on that, as
	 * runtime/prov does for every resource */
	q.attr_key = "ResourceName";
	q.attr_value = arn;
	q.start_ms = now - 24 * 3600 * 1000LL;
	q.end_ms = now;
	q.max_pages = 3;
	q.account = account;
	q.deadline_ms = kit_read_deadline(k, 3 * DB_DEADLINE_MARGIN_MS);
	q.keep_events = 1;
	rd = kit_round_new(k);
	s_dt = kit_add(rd, &(struct kit_spec){ .step = "describe-table", .service = "dynamodb",
		.op = "DescribeTable", .target = arn, .kind = RESP_READ, .in = table_in(ev->table), .client = c });
	s_cb = kit_add(rd, &(struct kit_spec){ .step = "read-pitr", .service = "dynamodb",
		.op = "DescribeContinuousBackups", .target = arn, .kind = RESP_READ, .in = table_in(ev->table),
		.client = c });
	s_lb = kit_add(rd, &(struct kit_spec){ .step = "list-backups", .service = "dynamodb",
		.op = "ListBackups", .target = arn, .kind = RESP_READ, .in = table_in(ev->table), .client = c,
		.paging = &backups_paging });
	/* Optional: without tags the record says "unknown" and no exemption is read. */
	s_tags = kit_add(rd, &(struct kit_spec){ .step = "read-tags", .service = "dynamodb",
		.op = "ListTagsOfResource", .target = arn, .kind = RESP_READ, .optional = 1,
		.in = kit_obj("ResourceArn", arn, KIT_END), .client = c });
	/* Containment, when a principal is known and may be contained. */
	if (who && who->principal[0]) {
		if (resp_is_trusted(r->cfg, who->principal))
			snprintf(guard, sizeof(guard), "a trusted principal (FIREBREAK_TRUSTED_PRINCIPALS): reported only");
		else if (db_principal_protected(who->principal, kit_caller_arn(k), r->cfg->member_role, guard,
						sizeof(guard)))
			;
		else
			contain = 1;
		if (contain)
			s_pol = add_policy_read(rd, c, arn, "read-table-policy");
		/* the revocation's undo, for the undo record written before the
		 * writes (claim_record): the policy as it is now */
		if (contain && revocation_role(who, account, rev_role, sizeof(rev_role))) {
			s_rev = kit_add(rd, &(struct kit_spec){ .step = "read-revocation-undo", .service = "iam",
				.op = "GetRolePolicy", .target = who->principal, .kind = RESP_READ, .optional = 1,
				.in = kit_obj("RoleName", rev_role, "PolicyName", KIT_REVOKE_POLICY_NAME, KIT_END),
				.absent = "NoSuchEntity", .client = c,
				.detail = "the role's " KIT_REVOKE_POLICY_NAME " before this incident (the undo record)" });
		}
	}
	evidence_init(evd, k, st->fn.aws, &st->fn.evcfg, r->ctx, "table_arn", arn);
	s_chk = evidence_check(evd, rd);
	kit_run(rd);
	evidence_checked(evd, s_chk);

	if (!kit_ok(s_dt) || !kit_ok(s_cb) || !kit_ok(s_lb)) {
		resp_set_verdict(r, "failed: the table's state could not be read: nothing changed");
		kit_round_free(rd);
		return;
	}
	pitr = db_pitr_on(kit_out(s_cb));
	stream = db_stream_state(kit_out(s_dt));
	if (pitr < 0)
		kit_fail(s_cb, "the answer has no PointInTimeRecoveryStatus");
	if (stream < 0)
		kit_fail(s_dt, "the answer has no Table");
	if (pitr < 0 || stream < 0) {
		resp_set_verdict(r, "failed: unreadable table state: nothing changed");
		kit_round_free(rd);
		return;
	}
	kit_detail(s_cb, "point-in-time recovery %s", pitr ? "on" : "off");
	{
		const cJSON *t = resp_get(kit_out(s_dt), "Table");
		const char *status = resp_get_str(t, "TableStatus");

		rin.item_count = json_long_or(resp_get(t, "ItemCount"), -1);
		rin.size_bytes = json_long_or(resp_get(t, "TableSizeBytes"), -1);
		kit_detail(s_dt, "%s, %ld items, stream %s", status ? status : "?", rin.item_count,
			   stream == 0 ? "off" : stream == 1 ? "NEW_AND_OLD_IMAGES" : "on (other view type)");
	}
	db_backup_name(r->incident_id, backup, sizeof(backup));
	exempt = kit_ok(s_tags) && db_table_exempt(r, k, c, arn, account, resp_get(kit_out(s_tags), "Tags"), aware, who,
						   exempt_why, sizeof(exempt_why));

	/* Round 1's answers (the table) are read below: it stays until the end. */
	rd1 = rd;

	/* Round 2: preserve, each write's undo recorded first. */
	rd = kit_round_new(k);
	s_pitr = kit_add(rd, &(struct kit_spec){ .step = "enable-pitr", .service = "dynamodb",
		.op = "UpdateContinuousBackups", .target = arn, .kind = RESP_WRITE, .in = pitr_in(ev->table, 1),
		.restore = kit_undo("dynamodb:UpdateContinuousBackups", pitr_in(ev->table, 0)), .client = c,
		.detail = "point-in-time recovery on (35 days of restore points from now)" });
	if (exempt)
		kit_skip(s_pitr, "exempt table (%s): reported only", exempt_why);
	else if (pitr)
		kit_already(s_pitr, "point-in-time recovery already on");
	in = table_in(ev->table);
	if (in)
		cJSON_AddStringToObject(in, "BackupName", backup);
	{
		/* DeleteBackup takes the BackupArn, known only from the answer:
		 * the undo names the backup; extra.backup_arn has the ARN. */
		cJSON *undo = kit_obj("BackupName", backup, "TableName", ev->table, "note", "DeleteBackup takes the "
				      "BackupArn: see backup_arn in this report, or ListBackups by this name", KIT_END);

		s_bk = kit_add(rd, &(struct kit_spec){ .step = "create-backup", .service = "dynamodb",
			.op = "CreateBackup", .target = arn, .kind = RESP_WRITE, .in = in,
			.restore = kit_undo("dynamodb:DeleteBackup", undo), .client = c, .detail = backup });
	}
	if (exempt)
		kit_skip(s_bk, "exempt table (%s): reported only", exempt_why);
	else if (db_backup_exists(kit_items(s_lb), backup))
		kit_already(s_bk, "backup %s already made for this incident", backup);
	in = table_in(ev->table);
	if (in) {
		cJSON *spec = cJSON_AddObjectToObject(in, "StreamSpecification");

		cJSON_AddBoolToObject(spec, "StreamEnabled", 1);
		cJSON_AddStringToObject(spec, "StreamViewType", "NEW_AND_OLD_IMAGES");
	}
	{
		cJSON *undo = table_in(ev->table);
		cJSON *spec = cJSON_AddObjectToObject(undo, "StreamSpecification");

		cJSON_AddBoolToObject(spec, "StreamEnabled", 0);
		s_str = kit_add(rd, &(struct kit_spec){ .step = "enable-stream", .service = "dynamodb",
			.op = "UpdateTable", .target = arn, .kind = RESP_WRITE, .in = in,
			.restore = kit_undo("dynamodb:UpdateTable", undo), .client = c,
			.detail = "Streams NEW_AND_OLD_IMAGES on: records writes from now (not reads)" });
	}
	if (exempt)
		kit_skip(s_str, "exempt table (%s): reported only", exempt_why);
	else if (stream == 1)
		kit_already(s_str, "Streams already on with NEW_AND_OLD_IMAGES (it records writes, not reads)");
	else if (stream == 2)
		kit_skip(s_str, "Streams is on with another view type: changing it means disabling the stream "
			 "and losing its records, never done here");
	/* The Deny joins the preserve writes: one round. */
	if (exempt && who && who->principal[0]) {
		contain = 0;
		snprintf(guard, sizeof(guard), "exempt table: reported only");
	}
	if (contain)
		s_deny = add_deny(rd, c, arn, who->principal, s_pol, "deny-principal");
	else if (who && who->principal[0])
		kit_decide(k, &(struct kit_spec){ .step = "deny-principal", .service = "dynamodb",
			.op = "PutResourcePolicy", .target = arn, .kind = RESP_WRITE }, RESP_SKIPPED,
			"%s: %s", who->principal, guard);
	/* the undo record first, whatever becomes of it (claim_record) */
	claimed = claim_record(st, r, evd, rd, s_rev, contain && s_rev ? rev_role : NULL);
	kit_run(rd);
	rd2 = rd;
	{
		const char *ba = resp_get_str(kit_out(s_bk), "BackupDetails.BackupArn");

		if (ba)
			cJSON_AddStringToObject(r->extra, "backup_arn", ba);
	}
	nfail = !kit_ok(s_pitr) + !kit_ok(s_bk) + (stream != 2 && !kit_ok(s_str));
	if (r->dry_run || exempt)
		nfail = 0;
	else if (!nfail && !exempt)
		resp_contained(r); /* preserved: the moment the evidence is safe (timings) */
	if (contain) {
		deny_retry(r, k, c, arn, who->principal, s_deny);
		contain_principal(r, k, c, account, who, aware);
	}

	/* Round 3: the measures, after the table is safe. They decide no
	 * write (the record's nature, categories and the report's counts
	 * only), and a slow one (CloudTrail's LookupEvents is paced to 2/s per
	 * account and answers in hundreds of ms) must not delay preserving. */
	rdm = kit_round_new(k);
	/* Optional: measuring never stops preserving. */
	s_met = kit_add(rdm, &(struct kit_spec){ .step = "read-capacity", .service = "monitoring",
		.op = "GetMetricStatistics", .target = arn, .kind = RESP_READ, .optional = 1,
		.in = metric_input(ev->table, now), .client = c });
	/* Optional: exports to S3 are a bulk copy AWS lists itself. */
	s_exp = kit_add(rdm, &(struct kit_spec){ .step = "list-exports", .service = "dynamodb",
		.op = "ListExports", .target = arn, .kind = RESP_READ, .optional = 1,
		.in = kit_obj("TableArn", arn, KIT_END), .client = c,
		.paging = &exports_paging });
	s_ct = kit_add(rdm, &(struct kit_spec){ .step = "control-plane-events", .service = "cloudtrail",
		.op = "LookupEvents", .target = arn, .kind = RESP_READ, .optional = 1, .cloudtrail = &q,
		.ct_no_error = 1, .client = c, .detail = "control plane only (data-plane reads need data events)" });
	kit_run(rdm);
	/* The measures. */
	memset(&spike, 0, sizeof(spike));
	if (kit_ok(s_met)) {
		const cJSON *dps = resp_get(kit_out(s_met), "Datapoints");

		gdpr_sorted = sorted_points(dps);
		have_spike = db_spike_measure(gdpr_sorted, &spike);
		if (!have_spike)
			kit_detail(s_met, "%d hourly datapoints: too few for a baseline", spike.n);
		else if (isinf(spike.factor))
			kit_detail(s_met, "spike: %.0f read units in the hour of %s against a baseline of 0",
				   spike.peak, spike.peak_at);
		else
			kit_detail(s_met, "%s: peak %.0f read units (hour of %s), %.1fx the 24 h median of %.1f",
				   spike.factor >= st->spike_factor ? "bulk-read spike" : "no spike", spike.peak,
				   spike.peak_at, spike.factor, spike.baseline);
		if (have_spike) {
			cJSON *m = cJSON_AddObjectToObject(r->extra, "read_spike");

			cJSON_AddNumberToObject(m, "peak", spike.peak);
			cJSON_AddNumberToObject(m, "baseline", spike.baseline);
			if (isfinite(spike.factor))
				cJSON_AddNumberToObject(m, "factor", spike.factor);
			else
				cJSON_AddStringToObject(m, "factor", "infinite (baseline 0)");
			cJSON_AddStringToObject(m, "peak_at", spike.peak_at);
			cJSON_AddBoolToObject(m, "spike", spike.factor >= st->spike_factor);
			cJSON_AddNumberToObject(m, "threshold", st->spike_factor);
		}
	}
	if (kit_ct_result(s_ct)) {
		const cJSON *e;
		cJSON *evs = cJSON_AddArrayToObject(r->extra, "control_plane_events");

		cJSON_ArrayForEach(e, kit_items(s_ct)) {
			cJSON *o = cJSON_CreateObject();
			const char *v;

			if ((v = resp_get_str(e, "EventName")))
				cJSON_AddStringToObject(o, "event", v);
			if ((v = resp_get_str(e, "Username")))
				cJSON_AddStringToObject(o, "user", v);
			if (cJSON_IsNumber(resp_get(e, "EventTime"))) {
				char t[RESP_TIME_LEN];
				resp_format_time_ms((int64_t)(resp_get(e, "EventTime")->valuedouble * 1000), t);
				cJSON_AddStringToObject(o, "time", t);
			} else if ((v = resp_get_str(e, "EventTime"))) {
				cJSON_AddStringToObject(o, "time", v);
			}
			cJSON_AddItemToArray(evs, o);
		}
	}
	{
		cJSON *bulk = cJSON_AddArrayToObject(r->extra, "bulk_reads");
		int nb = db_bulk_reads(kit_items(s_exp), kit_ct_result(s_ct) ? kit_items(s_ct) : NULL,
				       now - 24 * 3600 * 1000LL, bulk);

		if (kit_ok(s_exp))
			kit_detail(s_exp, "%d export(s) or scan(s) in the last 24 h (ListExports, CloudTrail); scans are "
				   "data events: seen only where a trail's data events reach LookupEvents", nb);
	}
	cJSON_AddStringToObject(r->extra, "data_plane_reads",
				"not measured from CloudTrail: GetItem/Query/Scan are data events, not in "
				"LookupEvents; the read capacity metric stands in for them");

	/* The GDPR record (a draft for a human). */
	memset(&source, 0, sizeof(source));
	if (ev->source == DB_SRC_ALARM)
		snprintf(source, sizeof(source), "cloudwatch-alarm: %s", ev->alarm);
	else if (ev->source == DB_SRC_GUARDDUTY)
		snprintf(source, sizeof(source), "guardduty: %.120s (finding %.100s, severity %.1f, DynamoDB %.100s)",
			 ev->gd.type, ev->gd.id, ev->gd.severity, ev->gd.apis);
	else
		snprintf(source, sizeof(source), "manual: %s", ev->reason);
	meas = measures(r);
	rin.table_arn = arn;
	rin.incident = r->incident_id;
	rin.source = source;
	rin.aware_ms = aware;
	tags = kit_ok(s_tags) ? resp_get(kit_out(s_tags), "Tags") : NULL;
	rin.categories = prov_tag_value(tags, DB_TAG_CATEGORIES);
	rin.subjects = prov_tag_value(tags, DB_TAG_SUBJECTS);
	rin.spike = have_spike ? &spike : NULL;
	rin.spike_threshold = st->spike_factor;
	rin.measures = meas;
	rin.deadlines = st->deadlines;
	rin.n_deadlines = st->ndeadlines;
	rin.dpo = st->dpo[0] ? st->dpo : NULL;
	rin.principal = who && who->principal[0] ? who->principal : NULL;
	rec = db_gdpr_record(&rin);
	if (rec) {
		char due[RESP_TIME_LEN];

		resp_format_time_ms(db_gdpr_deadline_ms(aware), due);
		cJSON_AddStringToObject(r->extra, "gdpr_deadline", due);
		cJSON_AddItemToObject(r->extra, "deadlines", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "deadlines"), 1));
		keep_record(r, evd, rec, claimed);
		cJSON_AddItemToObject(r->extra, "gdpr", rec);
	} else {
		resp_warn(r, "out of memory: no GDPR record");
	}
	cJSON_Delete(meas);
	cJSON_Delete(gdpr_sorted);
	/* the soonest further regime, for the verdict (and so the SNS message) */
	next_dl[0] = 0;
	{
		size_t i, best = 0;

		for (i = 1; i < st->ndeadlines; i++)
			if (st->deadlines[i].hours < st->deadlines[best].hours)
				best = i;
		if (st->ndeadlines && st->deadlines[best].hours < DB_GDPR_HOURS) {
			char due[RESP_TIME_LEN];

			resp_format_time_ms(aware + (int64_t)st->deadlines[best].hours * 3600 * 1000, due);
			snprintf(next_dl, sizeof(next_dl), "%s %s", st->deadlines[best].regime, due);
		}
	}
	kit_round_free(rd2);
	kit_round_free(rdm);
	kit_round_free(rd1);
	if (resp_failed(r) || nfail)
		resp_set_verdict(r, "failed: %d preserve step%s failed (see steps)", nfail, nfail == 1 ? "" : "s");
	else if (exempt)
		resp_set_verdict(r, "exempt table (%s): reported only; GDPR Art. 33 deadline %s%s%s", exempt_why,
				 resp_get_str(r->extra, "gdpr_deadline"), next_dl[0] ? "; " : "", next_dl);
	else if (r->dry_run)
		resp_set_verdict(r, "dry run: preserve planned; GDPR deadline %s%s%s",
				 resp_get_str(r->extra, "gdpr_deadline"), next_dl[0] ? "; " : "", next_dl);
	else
		resp_set_verdict(r, "preserved; GDPR Art. 33 deadline %s%s%s (draft record in gdpr and the evidence "
				 "bucket)", resp_get_str(r->extra, "gdpr_deadline"), next_dl[0] ? "; " : "", next_dl);
}

/* The recovery form: RestoreTableToPointInTime into a NEW table (never over
 * the old one: a target that exists is left alone), then what a restore
 * does not carry over, as next steps. */
static void db_restore(struct resp *r, struct kit *k, const struct db_event *ev)
{
	static const char *const not_carried[] = {
		"auto scaling policies", "IAM and resource-based policies", "CloudWatch metrics and alarms",
		"Streams settings", "time to live (TTL)", "point-in-time recovery (turn it on again)", "tags",
	};
	struct aws_client *c = kit_client(k, NULL, NULL, "assume-member-role", NULL);
	struct kit_round *rd, *rd2 = NULL;
	struct kit_step *s_cb, *s_tg, *s_rs;
	cJSON *in, *steps;
	char when[RESP_TIME_LEN];
	size_t i;
	int pitr;

	if (!c)
		return;
	resp_format_time_ms(ev->restore_ms, when);
	rd = kit_round_new(k);
	s_cb = kit_add(rd, &(struct kit_spec){ .step = "read-pitr", .service = "dynamodb",
		.op = "DescribeContinuousBackups", .target = ev->table, .kind = RESP_READ, .in = table_in(ev->table),
		.client = c });
	s_tg = kit_add(rd, &(struct kit_spec){ .step = "target-absent", .service = "dynamodb",
		.op = "DescribeTable", .target = ev->target, .kind = RESP_READ, .in = table_in(ev->target),
		.client = c, .absent = "ResourceNotFoundException" });
	kit_run(rd);
	if (!kit_ok(s_cb) || !kit_ok(s_tg)) {
		resp_set_verdict(r, "failed: the source or target state could not be read: nothing restored");
		goto out;
	}
	pitr = db_pitr_on(kit_out(s_cb));
	if (pitr != 1) {
		kit_fail(s_cb, "point-in-time recovery is not on for %s: no restore point", ev->table);
		resp_set_verdict(r, "failed: no point-in-time recovery on the source: nothing restored");
		goto out;
	}
	rd2 = kit_round_new(k);
	in = cJSON_CreateObject();
	if (in) {
		cJSON_AddStringToObject(in, "SourceTableName", ev->table);
		cJSON_AddStringToObject(in, "TargetTableName", ev->target);
		cJSON_AddNumberToObject(in, "RestoreDateTime", (double)(ev->restore_ms / 1000));
	}
	s_rs = kit_add(rd2, &(struct kit_spec){ .step = "restore-to-new-table", .service = "dynamodb",
		.op = "RestoreTableToPointInTime", .target = ev->target, .kind = RESP_WRITE, .in = in,
		.restore = kit_undo("dynamodb:DeleteTable", table_in(ev->target)), .client = c,
		.detail = "a new table from the source's state at the time asked" });
	if (kit_found(s_tg))
		kit_already(s_rs, "table %s exists: never restored over (a replay, or pick another target)", ev->target);
	kit_run(rd2);
	steps = cJSON_AddArrayToObject(r->extra, "next_steps");
	for (i = 0; steps && i < sizeof(not_carried) / sizeof(not_carried[0]); i++) {
		char line[400];

		snprintf(line, sizeof(line), "not carried over by a restore, set on %s: %s", ev->target,
			 not_carried[i]);
		cJSON_AddItemToArray(steps, cJSON_CreateString(line));
	}
	cJSON_AddStringToObject(r->extra, "restore_point", when);
	if (r->dry_run)
		resp_set_verdict(r, "dry run: restore of %s at %s into %s planned", ev->table, when, ev->target);
	else if (kit_status(s_rs) == RESP_ALREADY)
		resp_skip(r, "target table %s exists: nothing restored", ev->target);
	else if (kit_ok(s_rs))
		resp_set_verdict(r, "restored %s at %s into the new table %s (see next_steps)", ev->table, when,
				 ev->target);
	else
		resp_set_verdict(r, "failed: the restore was not accepted");
out:
	kit_round_free(rd2);
	kit_round_free(rd);
}

FN_EVENT_READER(db, db_parse(event, len, ((struct db_fn *)c->st)->alarm_prefix,
			     ((struct db_fn *)c->st)->min_severity, c->ev, why, whylen))

static enum fb_err db_run(struct fn_call *c)
{
	struct db_event *ev = c->ev;
	struct db_who who;
	struct evidence evd;

	/* one backup, one record, on a replay of the manual form */
	if (ev->source == DB_SRC_MANUAL)
		fn_manual_incident(c->r, ev->root, "manual:%s:%s:%s", ev->account, ev->table, ev->reason);
	if (ev->source == DB_SRC_GUARDDUTY)
		kit_finding(c->r, ev->gd.id, ev->gd.type, ev->gd.severity, ev->gd.access_key);
	resp_set_severity(c->r, "P1");
	memset(&who, 0, sizeof(who));
	if (ev->principal[0]) {
		snprintf(who.principal, sizeof(who.principal), "%s", ev->principal);
		who.is_role = strstr(ev->principal, ":role/") != NULL || strstr(ev->principal, ":assumed-role/") != NULL;
		snprintf(who.ground, sizeof(who.ground), "named by the operator (manual form)");
	}
	cJSON_AddStringToObject(c->r->extra, "table", ev->table);
	if (ev->alarm[0])
		cJSON_AddStringToObject(c->r->extra, "alarm", ev->alarm);
	if (ev->principal[0])
		cJSON_AddStringToObject(c->r->extra, "suspected_principal", ev->principal);
	if (ev->skip[0])
		resp_skip(c->r, "%s", ev->skip);
	else if (ev->source == DB_SRC_RESTORE)
		db_restore(c->r, c->k, ev);
	else if (ev->source != DB_SRC_GUARDDUTY || db_resolve_finding(c->r, c->k, ev, &who) == 0) {
		if (ev->source == DB_SRC_GUARDDUTY)
			cJSON_ReplaceItemInObject(c->r->extra, "table", cJSON_CreateString(ev->table));
		if (who.principal[0] && ev->source == DB_SRC_GUARDDUTY)
			cJSON_AddStringToObject(c->r->extra, "suspected_principal", who.principal);
		memset(&evd, 0, sizeof(evd));
		db_respond(c->st, c->r, c->k, ev, &who, &evd);
		evidence_cleanup(&evd);
	}
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = DB_FUNCTION, .margin_ms = DB_DEADLINE_MARGIN_MS,
		.size = sizeof(struct db_fn), .settings = db_settings, FN_EVENT(struct db_event, db),
		.run = db_run });
}
