/*
 * ecs: DescribeTasks and DescribeTaskDefinition answers -> struct ecs_task
 * (ecs.h).
 */
#include "ecs.h"

#include <stdio.h>
#include <string.h>
#include "arn.h"
#include "buf.h"
#include "resp.h"

/* String members are read with resp_get_str: every name here is a plain
 * key (no '.', which resp_get would take as a path step). */

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

#define ECS_FIELD(m, n) { offsetof(struct ecs_task, m), sizeof(((struct ecs_task *)0)->m), n }
enum fb_err ecs_task_from_json(const cJSON *task, struct ecs_task *t)
{
	/* DescribeTasks members kept as they are */
	static const struct { size_t off, size; const char *name; } fields[] = {
		ECS_FIELD(cluster_arn, "clusterArn"), ECS_FIELD(last_status, "lastStatus"),
		ECS_FIELD(desired_status, "desiredStatus"), ECS_FIELD(launch_type, "launchType"),
		ECS_FIELD(group, "group"), ECS_FIELD(started_by, "startedBy"),
		ECS_FIELD(taskdef_arn, "taskDefinitionArn"), ECS_FIELD(container_instance_arn, "containerInstanceArn"),
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
		struct ecs_container *c;

		if (t->nc == ECS_MAX_CONTAINERS)
			break;
		c = &t->c[t->nc++];
		buf_copy_id(c->name, sizeof(c->name), resp_get_str(it, "name"));
		buf_copy_id(c->image, sizeof(c->image), resp_get_str(it, "image"));
		buf_copy_id(c->digest, sizeof(c->digest), resp_get_str(it, "imageDigest"));
		buf_copy_id(c->runtime_id, sizeof(c->runtime_id), resp_get_str(it, "runtimeId"));
	}
	buf_copy_id(t->task_role, sizeof(t->task_role),
		resp_get_str(cJSON_GetObjectItemCaseSensitive(task, "overrides"), "taskRoleArn"));
	return FB_OK;
}

void ecs_task_apply_taskdef(struct ecs_task *t, const cJSON *taskdef, const char *default_region)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(taskdef, "containerDefinitions"), *d;
	size_t i;

	buf_copy_id(t->network_mode, sizeof(t->network_mode), resp_get_str(taskdef, "networkMode"));
	/* RunTask's override wins over the task definition's role */
	if (!t->task_role[0])
		buf_copy_id(t->task_role, sizeof(t->task_role), resp_get_str(taskdef, "taskRoleArn"));
	for (i = 0; i < t->nc; i++) {
		struct ecs_container *c = &t->c[i];

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

size_t ecs_tag_sources(const struct ecs_task *t, struct kit_tag_source out[KIT_MAX_TAG_SOURCES])
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
