/*
 * task-quarantine, pure stages: event -> target, ECS/EC2 answers -> facts,
 * the sharing, cluster and tag-source decisions. No I/O, no clock:
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
#include "cwl.h"
#include "kit.h"
#include "prov.h"
#include "resp.h"
#include "sg.h"

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

void tq_settings_cleanup(struct tq_settings *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- stage 1: the event ------------------------------------------------------- */

static enum tq_parse bad(char *why, size_t whylen, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return TQ_PARSE_INVALID;
}

static enum tq_parse parse_manual(const cJSON *ev, struct tq_target *t, char *why, size_t whylen)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev, "cluster");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(ev, "task");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(ev, "reason");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(ev, "dryRun");

	if (!c || !k)
		return bad(why, whylen, "missing field 'cluster' or 'task'");
	if (!cJSON_IsString(c) || !cJSON_IsString(k))
		return bad(why, whylen, "fields 'cluster' and 'task' must be strings");
	if (r && !cJSON_IsString(r) && !cJSON_IsNull(r))
		return bad(why, whylen, "field 'reason' must be a string");
	if (d && !cJSON_IsBool(d))
		return bad(why, whylen, "field 'dryRun' must be a boolean");
	if (!buf_copy_id(t->cluster, sizeof(t->cluster), c->valuestring) || !arn_ecs_cluster_ok(t->cluster))
		return bad(why, whylen, "field 'cluster' is not an ECS cluster name ([A-Za-z0-9_-]{1,255}) or cluster ARN");
	if (!buf_copy_id(t->task, sizeof(t->task), k->valuestring) || !arn_ecs_task_ok(t->task))
		return bad(why, whylen, "field 'task' is not an ECS task id (32 hex digits) or task ARN");
	/* A long reason is cut, not refused: it is prose for the report. */
	snprintf(t->reason, sizeof(t->reason), "%s",
		 cJSON_IsString(r) && *r->valuestring ? r->valuestring : "manual quarantine");
	t->is_finding = 0;
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

/* ---- stage 2: what ECS says about the task --------------------------------------- */

static const char *attachment_detail(const cJSON *att, const char *name)
{
	const cJSON *d, *details = cJSON_GetObjectItemCaseSensitive(att, "details");

	cJSON_ArrayForEach(d, details) {
		const char *n = resp_get_str(d, "name");

		if (n && !strcmp(n, name))
			return resp_get_str(d, "value");
	}
	return NULL;
}

#define TQ_FIELD(m, n) { offsetof(struct tq_task, m), sizeof(((struct tq_task *)0)->m), n }
enum fb_err tq_task_from_json(const cJSON *task, struct tq_task *t)
{
	/* DescribeTasks members kept as they are */
	static const struct { size_t off, size; const char *name; } fields[] = {
		TQ_FIELD(cluster_arn, "clusterArn"), TQ_FIELD(last_status, "lastStatus"),
		TQ_FIELD(desired_status, "desiredStatus"), TQ_FIELD(launch_type, "launchType"),
		TQ_FIELD(group, "group"), TQ_FIELD(started_by, "startedBy"),
		TQ_FIELD(taskdef_arn, "taskDefinitionArn"), TQ_FIELD(container_instance_arn, "containerInstanceArn"),
	};
	const cJSON *it, *arr;
	const char *s;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(task) || !resp_get_str(task, "taskArn"))
		return FB_E_PARSE;
	if (!buf_copy_id(t->arn, sizeof(t->arn), resp_get_str(task, "taskArn")))
		return FB_E_TOO_LARGE;
	buf_copy_id(t->id, sizeof(t->id), arn_tail(t->arn));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		buf_copy_id((char *)t + fields[i].off, fields[i].size, resp_get_str(task, fields[i].name));
	if (!strncmp(t->group, "service:", 8))
		buf_copy_id(t->service, sizeof(t->service), t->group + 8);

	arr = cJSON_GetObjectItemCaseSensitive(task, "attachments");
	cJSON_ArrayForEach(it, arr) {
		s = resp_get_str(it, "type");
		if (!s || strcmp(s, "ElasticNetworkInterface"))
			continue;
		buf_copy_id(t->eni, sizeof(t->eni), attachment_detail(it, "networkInterfaceId"));
		buf_copy_id(t->subnet, sizeof(t->subnet), attachment_detail(it, "subnetId"));
		buf_copy_id(t->private_ip, sizeof(t->private_ip),
			attachment_detail(it, "privateIPv4Address"));
		break;
	}
	arr = cJSON_GetObjectItemCaseSensitive(task, "containers");
	cJSON_ArrayForEach(it, arr) {
		struct tq_container *c;

		if (t->nc == TQ_MAX_CONTAINERS)
			break;
		c = &t->c[t->nc++];
		buf_copy_id(c->name, sizeof(c->name), resp_get_str(it, "name"));
		buf_copy_id(c->image, sizeof(c->image), resp_get_str(it, "image"));
		buf_copy_id(c->digest, sizeof(c->digest), resp_get_str(it, "imageDigest"));
		buf_copy_id(c->runtime_id, sizeof(c->runtime_id), resp_get_str(it, "runtimeId"));
	}
	arr = cJSON_GetObjectItemCaseSensitive(task, "tags");
	cJSON_ArrayForEach(it, arr) {
		const char *k = resp_get_str(it, "key"), *v = resp_get_str(it, "value");

		/* keys exactly, values as every function compares them (prov.h) */
		if (k && v && !strcmp(k, TQ_TAG_EXEMPT) && prov_value_true(v)) {
			t->exempt = 1;
			buf_copy_id(t->exempt_value, sizeof(t->exempt_value), v);
		}
	}
	buf_copy_id(t->task_role, sizeof(t->task_role),
		resp_get_str(cJSON_GetObjectItemCaseSensitive(task, "overrides"), "taskRoleArn"));
	return FB_OK;
}

/* Fills each container's log settings from the task definition. */
void tq_task_apply_taskdef(struct tq_task *t, const cJSON *taskdef, const char *default_region)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(taskdef, "containerDefinitions"), *d;
	size_t i;

	buf_copy_id(t->network_mode, sizeof(t->network_mode), resp_get_str(taskdef, "networkMode"));
	/* RunTask's override wins over the task definition's role */
	if (!t->task_role[0])
		buf_copy_id(t->task_role, sizeof(t->task_role), resp_get_str(taskdef, "taskRoleArn"));
	for (i = 0; i < t->nc; i++) {
		struct tq_container *c = &t->c[i];

		c->log.state = CWL_LOG_NONE;
		cJSON_ArrayForEach(d, defs) {
			const char *name = resp_get_str(d, "name");

			if (!name || strcmp(name, c->name))
				continue;
			cwl_awslogs(cJSON_GetObjectItemCaseSensitive(d, "logConfiguration"), c->name, t->id,
				    c->runtime_id, default_region, &c->log);
			break;
		}
	}
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

size_t tq_tag_sources(const struct tq_task *t, struct kit_tag_source out[KIT_MAX_TAG_SOURCES])
{
	char cluster[256];
	const char *c;
	size_t n = 0;

	if (t->arn[0] && buf_copy_id(out[n].arn, sizeof(out[n].arn), t->arn))
		out[n++].what = "task";
	/* The service ARN of the new format, from the task's own ARN
	 * (arn:P:ecs:R:A:task/<cluster>/<id> -> arn:P:ecs:R:A:service/<cluster>/<name>). */
	c = strstr(t->arn, ":task/");
	if (t->service[0] && c && t->cluster_arn[0] && buf_copy_id(cluster, sizeof(cluster), arn_tail(t->cluster_arn))) {
		int len = snprintf(out[n].arn, sizeof(out[n].arn), "%.*s:service/%s/%s", (int)(c - t->arn), t->arn,
				   cluster, t->service);

		if (len > 0 && (size_t)len < sizeof(out[n].arn))
			out[n++].what = "service";
	}
	if (t->taskdef_arn[0] && buf_copy_id(out[n].arn, sizeof(out[n].arn), t->taskdef_arn))
		out[n++].what = "task definition";
	return n;
}
