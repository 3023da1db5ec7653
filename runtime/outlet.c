/*
 * outlet: the report onto EventBridge and into Security Hub (outlet.h).
 */
#include "outlet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "utc.h"

const char *outlet_workflow_status(const char *verdict)
{
	if (verdict && (!strcmp(verdict, "contained") || !strcmp(verdict, "already-contained")))
		return "RESOLVED";
	return "NOTIFIED";
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

char *outlet_event_detail(const struct resp *r, const char *report, size_t len,
			  const char *resource)
{
	size_t fixed = strlen(OUTLET_SOURCE) + strlen(OUTLET_DETAIL_TYPE) +
		       (resource ? strlen(resource) : 0);
	cJSON *o, *by, *failed;
	char *txt;
	size_t i, nfailed = 0;

	if (fixed + len <= OUTLET_ENTRY_MAX)
		return strndup(report, len);
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "incident_id", r->incident_id);
	cJSON_AddStringToObject(o, "function", r->function);
	cJSON_AddStringToObject(o, "severity", r->severity);
	cJSON_AddStringToObject(o, "verdict", resp_verdict(r));
	cJSON_AddBoolToObject(o, "dry_run", r->dry_run);
	cJSON_AddItemToObject(o, "resource", str_or_null(r->resource));
	cJSON_AddItemToObject(o, "account", str_or_null(r->account));
	cJSON_AddItemToObject(o, "region", str_or_null(r->region));
	cJSON_AddBoolToObject(o, "truncated", 1);
	cJSON_AddNumberToObject(o, "report_bytes", (double)len);
	by = cJSON_AddObjectToObject(o, "actions_by_status");
	failed = cJSON_AddArrayToObject(o, "failed_steps");
	for (i = 0; i < r->nsteps; i++) {
		const struct resp_step *s = &r->steps[i];
		const char *st = resp_status_name(s->ended ? s->status : RESP_FAILED);
		cJSON *n = cJSON_GetObjectItemCaseSensitive(by, st);

		if (n)
			cJSON_SetNumberValue(n, n->valuedouble + 1);
		else
			cJSON_AddNumberToObject(by, st, 1);
		if (!strcmp(st, "failed") && nfailed < 50) {
			/* step names are the responder's literals, bounded: no cut needed
			 * but keep each under 128 bytes whatever they are */
			char name[128];

			snprintf(name, sizeof(name), "%s", s->step ? s->step : "");
			cJSON_AddItemToArray(failed, cJSON_CreateString(name));
			nfailed++;
		}
	}
	cJSON_AddNumberToObject(o, "restore_entries", (double)cJSON_GetArraySize(r->restore));
	{
		char *p = cJSON_PrintUnformatted(o);

		cJSON_Delete(o);
		txt = p ? strdup(p) : NULL;   /* one allocator for both answers: free() */
		cJSON_free(p);
	}
	if (!txt)
		return NULL;
	/* bounded by construction (50 names of < 128 bytes, fixed fields whose
	 * strings resp keeps short); checked all the same */
	if (fixed + strlen(txt) > OUTLET_ENTRY_MAX) {
		free(txt);
		return NULL;
	}
	return txt;
}

/* At most n characters of s (UTF-8 safe: never cut inside a sequence). */
static void cut_utf8(char *s, size_t n)
{
	size_t len = strlen(s);

	if (len <= n)
		return;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

cJSON *outlet_asff(const struct resp *r, const char *account, const char *region,
		   const char *partition, int64_t now_ms)
{
	static const char *const labels[] = { "P1", "CRITICAL", "P2", "HIGH", "P3", "LOW" };
	char buf[1100], created[UTC_ISO_LEN], updated[UTC_ISO_LEN];
	const char *label = "MEDIUM", *verdict = resp_verdict(r);
	cJSON *f = cJSON_CreateObject(), *res, *rs, *pf, *t;
	size_t i;

	if (!f)
		return NULL;
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i += 2)
		if (!strcmp(r->severity, labels[i]))
			label = labels[i + 1];
	utc_format_ms(r->received_ms, created);
	utc_format_ms(now_ms, updated);
	cJSON_AddStringToObject(f, "SchemaVersion", "2018-10-08");
	snprintf(buf, sizeof(buf), "firebreak/%s/%s", r->function, r->incident_id);
	cJSON_AddStringToObject(f, "Id", buf);
	snprintf(buf, sizeof(buf), "arn:%s:securityhub:%s:%s:product/%s/default", partition, region,
		 account, account);
	cJSON_AddStringToObject(f, "ProductArn", buf);
	snprintf(buf, sizeof(buf), "firebreak-%s", r->function);
	cJSON_AddStringToObject(f, "GeneratorId", buf);
	cJSON_AddStringToObject(f, "AwsAccountId", account);
	t = cJSON_AddArrayToObject(f, "Types");
	cJSON_AddItemToArray(t, cJSON_CreateString("Unusual Behaviors"));
	cJSON_AddStringToObject(f, "CreatedAt", created);
	cJSON_AddStringToObject(f, "UpdatedAt", updated);
	cJSON_AddItemToObject(f, "Severity", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(f, "Severity"), "Label", label);
	snprintf(buf, sizeof(buf), "firebreak %s: %s", r->function, verdict);
	cut_utf8(buf, 256);
	cJSON_AddStringToObject(f, "Title", buf);
	snprintf(buf, sizeof(buf), "Incident %s (%s) on %s in account %s, %s: %s%s. The full report "
		 "is in the function's logs, on EventBridge and in the evidence bucket.",
		 r->incident_id, r->severity, r->resource ? r->resource : "(no resource)",
		 r->account ? r->account : "(unknown)", r->region ? r->region : "(unknown)", verdict,
		 r->dry_run ? " (dry run)" : "");
	cut_utf8(buf, 1024);
	cJSON_AddStringToObject(f, "Description", buf);
	res = cJSON_AddArrayToObject(f, "Resources");
	rs = cJSON_CreateObject();
	cJSON_AddItemToArray(res, rs);
	/* Type "Other": firebreak's resources span ASFF's types; the Id is the
	 * ARN (or id) the report names, else the account. */
	cJSON_AddStringToObject(rs, "Type", "Other");
	snprintf(buf, sizeof(buf), "%s", r->resource ? r->resource : r->account ? r->account : account);
	cut_utf8(buf, 512);
	cJSON_AddStringToObject(rs, "Id", buf);
	cJSON_AddStringToObject(rs, "Partition", partition);
	cJSON_AddStringToObject(rs, "Region", r->region ? r->region : region);
	pf = cJSON_AddObjectToObject(f, "ProductFields");
	cJSON_AddStringToObject(pf, "firebreak/incident_id", r->incident_id);
	cJSON_AddStringToObject(pf, "firebreak/function", r->function);
	snprintf(buf, sizeof(buf), "%s", verdict);
	cut_utf8(buf, 512);
	cJSON_AddStringToObject(pf, "firebreak/verdict", buf);
	if (r->account)
		cJSON_AddStringToObject(pf, "firebreak/account", r->account);
	cJSON_AddStringToObject(f, "RecordState", "ACTIVE");
	return f;
}

/* A batch answer that refused part of it: the line fails with AWS's code. */
static void batch_check(struct kit_step *s, const char *count_name, const char *list_name,
			const char *code_name)
{
	const cJSON *out = kit_out(s), *lst, *first;
	long n = 0;

	if (kit_status(s) != RESP_DONE || !out)
		return;
	lst = cJSON_GetObjectItemCaseSensitive(out, list_name);
	if (count_name)
		kit_json_long(cJSON_GetObjectItemCaseSensitive(out, count_name), &n);
	else
		n = cJSON_GetArraySize(lst);
	if (n <= 0)
		return;
	first = NULL;
	{
		const cJSON *it;

		cJSON_ArrayForEach(it, lst) {
			if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, code_name))) {
				first = it;
				break;
			}
		}
	}
	kit_fail(s, "%ld refused: %.80s: %.200s", n,
		 first ? cJSON_GetObjectItemCaseSensitive(first, code_name)->valuestring : "?",
		 first && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(first, "ErrorMessage"))
			 ? cJSON_GetObjectItemCaseSensitive(first, "ErrorMessage")->valuestring : "");
}

struct kit_step *outlet_finding_update(struct kit_round *rd, struct resp *r)
{
	struct kit_step *s;
	const char *id, *prod, *verdict = resp_verdict(r);
	char note[512], by[128];
	cJSON *in, *ids, *fi, *n;

	if (!rd || !r->cfg || !r->cfg->sh_update || !r->finding_ref)
		return NULL;
	id = resp_get_str(r->finding_ref, "Id");
	prod = resp_get_str(r->finding_ref, "ProductArn");
	if (!id || !prod)
		return NULL;
	in = cJSON_CreateObject();
	ids = cJSON_AddArrayToObject(in, "FindingIdentifiers");
	fi = cJSON_CreateObject();
	cJSON_AddItemToArray(ids, fi);
	cJSON_AddStringToObject(fi, "Id", id);
	cJSON_AddStringToObject(fi, "ProductArn", prod);
	cJSON_AddItemToObject(in, "Workflow", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(in, "Workflow"), "Status",
				outlet_workflow_status(verdict));
	snprintf(note, sizeof(note), "firebreak %s %s: %s", r->function, r->incident_id, verdict);
	cut_utf8(note, 500);
	snprintf(by, sizeof(by), "firebreak/%s", r->function);
	n = cJSON_AddObjectToObject(in, "Note");
	cJSON_AddStringToObject(n, "Text", note);
	cJSON_AddStringToObject(n, "UpdatedBy", by);
	s = kit_add(rd, &(struct kit_spec){ .step = "update-finding", .service = "securityhub",
		.op = "BatchUpdateFindings", .target = id, .kind = RESP_WRITE, .optional = 1, .notify = 1,
		.in = in, .detail = outlet_workflow_status(verdict) });
	if (r->dry_run)
		kit_skip(s, "dry run: the finding's workflow is the SOC's, not changed");
	return s;
}

void outlet_publish(struct resp *r, struct aws_client *aws)
{
	struct kit k;
	struct kit_round *rd;
	struct kit_step *ev = NULL, *imp = NULL, *upd = NULL;
	const char *resource = NULL;
	char *report = NULL, *detail = NULL;
	cJSON *rep;
	int want_update;

	if (!r->cfg)
		return;
	want_update = r->finding_hook && r->cfg->sh_update && r->finding_ref;
	if (!r->cfg->event_bus && !want_update && !r->cfg->sh_import)
		return;
	kit_init(&k, r, aws);
	rd = kit_round_new(&k);
	if (!rd)
		goto out;
	/* the report as it stands, before any outlet line */
	rep = resp_report_json(r);
	report = rep ? cJSON_PrintUnformatted(rep) : NULL;
	cJSON_Delete(rep);
	if (r->cfg->event_bus) {
		cJSON *in = cJSON_CreateObject(), *entries, *e;

		if (r->resource && !strncmp(r->resource, "arn:", 4) && strlen(r->resource) <= 1600)
			resource = r->resource;
		detail = report ? outlet_event_detail(r, report, strlen(report), resource) : NULL;
		entries = cJSON_AddArrayToObject(in, "Entries");
		e = cJSON_CreateObject();
		cJSON_AddItemToArray(entries, e);
		cJSON_AddStringToObject(e, "Source", OUTLET_SOURCE);
		cJSON_AddStringToObject(e, "DetailType", OUTLET_DETAIL_TYPE);
		cJSON_AddStringToObject(e, "Detail", detail ? detail : "{}");
		cJSON_AddStringToObject(e, "EventBusName", r->cfg->event_bus);
		if (resource) {
			cJSON *rl = cJSON_AddArrayToObject(e, "Resources");

			cJSON_AddItemToArray(rl, cJSON_CreateString(resource));
		}
		ev = kit_add(rd, &(struct kit_spec){ .step = "publish-event", .service = "events",
			.op = "PutEvents", .target = r->cfg->event_bus, .kind = RESP_WRITE, .optional = 1,
			.notify = 1, .in = in, .detail = "report on EventBridge" });
		if (!detail)
			kit_skip(ev, "cannot build the detail (out of memory)");
	}
	if (want_update)
		upd = r->finding_hook(rd, r);
	if (r->cfg->sh_import) {
		const char *acct = kit_own_account(&k);
		cJSON *in = cJSON_CreateObject(), *fs = cJSON_AddArrayToObject(in, "Findings");
		cJSON *f = acct ? outlet_asff(r, acct, aws_client_region(aws), kit_partition(&k),
					      http_now_ms()) : NULL;
		char target[300];

		snprintf(target, sizeof(target), "firebreak/%s/%s", r->function, r->incident_id);
		if (f)
			cJSON_AddItemToArray(fs, f);
		imp = kit_add(rd, &(struct kit_spec){ .step = "import-finding", .service = "securityhub",
			.op = "BatchImportFindings", .target = target, .kind = RESP_WRITE, .optional = 1,
			.notify = 1, .in = in, .detail = "incident imported as a finding" });
		if (!f)
			kit_skip(imp, "own account unknown: no ProductArn to import under");
	}
	kit_run(rd);
	batch_check(ev, "FailedEntryCount", "Entries", "ErrorCode");
	batch_check(upd, NULL, "UnprocessedFindings", "ErrorCode");
	batch_check(imp, "FailedCount", "FailedFindings", "ErrorCode");
	if (ev && kit_status(ev) == RESP_DONE) {
		const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(kit_out(ev), "Entries"), 0);
		const char *eid = resp_get_str(e0, "EventId");

		if (eid)
			kit_detail(ev, "report on EventBridge (%s%s)", eid,
				   detail && report && strcmp(detail, report) ? ", summary: report past 256 KB" : "");
	}
	kit_round_free(rd);
out:
	kit_cleanup(&k);
	free(detail);
	cJSON_free(report);
}
