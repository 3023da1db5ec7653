/*
 * task-quarantine, pure stages: event -> target, the exemption tag, the
 * replacement, sharing and cluster decisions (ECS's answers are read by
 * runtime/ecs, EC2's by runtime/sg). No I/O, no clock:
 * unit-tested in tests/unit/test_task_quarantine.c. The runbook that
 * sequences them around AWS calls, and why in that order, is main.c.
 *
 * Triggers: a GuardDuty Finding (EventBridge, camelCase keys) whose
 * resource is an ECS task (resourceType "ECSCluster" with
 * ecsClusterDetails.taskDetails), at or above FIREBREAK_MIN_SEVERITY; or
 * the manual form {"cluster", "task", "reason", "dryRun"}.
 */
#include "task_quarantine.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arn.h"
#include "field.h"
#include "kit.h"
#include "prov.h"
#include "resp.h"

/* String members are read with resp_get_str: every name here is a plain
 * key (no '.', which resp_get would take as a path step). Identifiers are
 * copied with buf_copy_id: a cut one is treated as invalid rather than
 * acted on. */

/* ---- settings ------------------------------------------------------------------- */

enum fb_err tq_settings_from_env(struct tq_settings *s, char *err, size_t errlen)
{
	const char *v;
	char *end;

	memset(s, 0, sizeof(*s));
	s->log_max_bytes = TQ_DEFAULT_LOG_MAX_BYTES;
	if (kit_env_severity("FIREBREAK_MIN_SEVERITY", TQ_DEFAULT_MIN_SEVERITY, &s->min_severity,
			     err, errlen) != FB_OK)
		return FB_E_CONFIG;
	if (kit_env_choice("FIREBREAK_ISOLATION", "quarantine-sg", "revoke-egress", &s->revoke_egress,
			   err, errlen) != FB_OK)
		return FB_E_CONFIG;
	v = getenv("FIREBREAK_LOG_MAX_BYTES");
	if (v && *v) {
		unsigned long long n = strtoull(v, &end, 10);

		if (*end || n < 1024 || n > TQ_LOG_MAX_BYTES_CAP) {
			snprintf(err, errlen, "cannot parse setting 'FIREBREAK_LOG_MAX_BYTES'");
			return FB_E_CONFIG;
		}
		s->log_max_bytes = (size_t)n;
	}
	/* Off unless exactly "true": a typo must not cut a fleet. Anything
	 * but true/false is a configuration error, so the typo is seen. */
	return kit_env_choice("FIREBREAK_ALLOW_SHARED_SG_REVOKE", "false", "true", &s->allow_shared_revoke,
			      err, errlen);
}

/* ---- stage 1: the event ------------------------------------------------------- */

static enum tq_parse bad(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return TQ_PARSE_INVALID;
}

static enum tq_parse parse_manual(const cJSON *ev, struct tq_target *t, char *why, size_t whylen)
{
	const char *r = resp_get_str(ev, "reason");

	if (field_read(ev, (const struct field[]){
		FIELD_CHECK("cluster", FIELD_REQUIRED, "missing field 'cluster' or 'task'"),
		FIELD_CHECK("task", FIELD_REQUIRED, "missing field 'cluster' or 'task'"),
		FIELD_CHECK("cluster", FIELD_STR, "fields 'cluster' and 'task' must be strings"),
		FIELD_CHECK("task", FIELD_STR, "fields 'cluster' and 'task' must be strings"),
		FIELD_CHECK("reason", FIELD_STR | FIELD_NULL, "field 'reason' must be a string"),
		FIELD_CHECK("dryRun", FIELD_BOOL, "field 'dryRun' must be a boolean"),
		FIELD_INTO("cluster", FIELD_STR, "field 'cluster' is not an ECS cluster name ([A-Za-z0-9_-]{1,255}) "
			   "or cluster ARN", arn_ecs_cluster_ok, t->cluster),
		FIELD_INTO("task", FIELD_STR, "field 'task' is not an ECS task id (32 hex digits) or task ARN",
			   arn_ecs_task_ok, t->task),
		FIELD_END }, why, whylen))
		return TQ_PARSE_INVALID;
	/* A long reason is cut, not refused: it is prose for the report. */
	snprintf(t->reason, sizeof(t->reason), "%s", r && *r ? r : "manual quarantine");
	return TQ_PARSE_OK;
}

static enum tq_parse parse_finding(const cJSON *ev, double min_sev, struct tq_target *t,
				   char *why, size_t whylen)
{
	struct kit_gd_finding gd;
	const char *task_arn, *cluster;
	int about;

	if (kit_guardduty_finding(ev, &gd, why, whylen))
		return TQ_PARSE_INVALID;
	t->severity = gd.severity;
	t->is_finding = 1;
	buf_copy_id(t->finding_id, sizeof(t->finding_id), gd.id);
	snprintf(t->finding_type, sizeof(t->finding_type), "%s", gd.type);
	about = kit_gd_ecs_task(&gd, &cluster, &task_arn, why, whylen);
	if (about)
		return about > 0 ? TQ_PARSE_IGNORE : TQ_PARSE_INVALID;
	if (!buf_copy_id(t->cluster, sizeof(t->cluster), cluster) || !arn_ecs_cluster_ok(t->cluster))
		return bad(why, whylen, "field 'ecsClusterDetails.arn' is not an ECS cluster ARN");
	if (!buf_copy_id(t->task, sizeof(t->task), task_arn) || !arn_ecs_task_ok(t->task))
		return bad(why, whylen, "field 'taskDetails.arn' is not an ECS task ARN");
	kit_gd_reason(t->reason, sizeof(t->reason), t->finding_type, t->severity);
	return kit_severity_below(t->severity, min_sev, why, whylen) ? TQ_PARSE_IGNORE : TQ_PARSE_OK;
}

enum tq_parse tq_parse_event(const cJSON *ev, double min_sev, struct tq_target *t,
			     char *why, size_t whylen)
{
	const char *src, *dt;

	memset(t, 0, sizeof(*t));
	switch (kit_event_envelope(ev, &src, &dt, why, whylen)) {
	case KIT_EVENT_INVALID:
		return TQ_PARSE_INVALID;
	case KIT_EVENT_MANUAL:
		return parse_manual(ev, t, why, whylen);
	case KIT_EVENT_BRIDGE:
		break;
	}
	if (strcmp(src, "aws.guardduty") || strcmp(dt, "GuardDuty Finding"))
		return bad(why, whylen, "not a GuardDuty Finding event (source/detail-type)");
	return parse_finding(ev, min_sev, t, why, whylen);
}

/* ---- stage 2: the exemption tag ------------------------------------------------------- */

int tq_exempt(const cJSON *task, char *value, size_t valuelen)
{
	const cJSON *it;
	int exempt = 0;

	value[0] = '\0';
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(task, "tags")) {
		const char *k = resp_get_str(it, "key"), *v = resp_get_str(it, "value");

		/* keys exactly, values as every function compares them (prov.h) */
		if (k && v && !strcmp(k, TQ_TAG_EXEMPT) && prov_value_true(v)) {
			exempt = 1;
			buf_copy_id(value, valuelen, v);
		}
	}
	return exempt;
}

/* ---- stage 4: the owning service --------------------------------------------------- */

/* 1 when the service will start a replacement from the same task
 * definition (so the same image): ACTIVE, desiredCount > 0, and the
 * service's task definition is the task's. */
int tq_will_replace(const cJSON *service, const char *taskdef_arn)
{
	const cJSON *dc = cJSON_GetObjectItemCaseSensitive(service, "desiredCount");
	const char *st = resp_get_str(service, "status"), *td = resp_get_str(service, "taskDefinition");

	if (!cJSON_IsNumber(dc) || dc->valuedouble <= 0)
		return 0;
	if (st && strcmp(st, "ACTIVE"))
		return 0;
	return td && taskdef_arn && !strcmp(td, taskdef_arn);
}

/* ---- stage 5: shared groups, the cluster, where tags come from --------------------------- */

enum tq_share tq_share_decide(int sharing_known, size_t others, int allow_shared)
{
	if (sharing_known && !others)
		return TQ_SHARE_ALONE;
	if (allow_shared)
		return TQ_SHARE_ALLOWED;
	return sharing_known ? TQ_SHARE_REFUSED : TQ_SHARE_UNKNOWN_REFUSED;
}

int tq_cluster_resolve(const char *event_cluster, const char *task, char *out, size_t outlen)
{
	char carn[600];

	buf_copy_id(out, outlen, event_cluster);
	/* a task id or an old-format task ARN names no cluster */
	if (!arn_ecs_task_cluster(task, carn, sizeof(carn)))
		return 0;
	/* An ARN: the same partition, region, account and name. */
	if (!strcmp(event_cluster, strncmp(event_cluster, "arn:", 4) ? arn_tail(carn) : carn))
		return 0;
	if (!buf_copy_id(out, outlen, carn))
		buf_copy_id(out, outlen, event_cluster);
	return 1;
}
