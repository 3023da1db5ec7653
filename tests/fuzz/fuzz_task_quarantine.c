/*
 * fuzz_task_quarantine: task-quarantine's pure stages
 * (functions/task-quarantine/stages.c) on hostile input. The first byte
 * picks the stage:
 *   0 the event, through tq_run's own path (its .parse): resp_parse_event (size,
 *     UTF-8, control bytes, \u0000, depth, trailing data, an object) ->
 *     tq_parse_event (GuardDuty finding or the manual form) -> for an
 *     accepted or ignored event, the report's trigger
 *     (resp_begin + resp_trigger_from_event); an accepted one must name
 *     a task and cluster that pass arn_ecs_task_ok / arn_ecs_cluster_ok;
 *   1-4 AWS answers, parsed as the AWS layer parses JSON answers (cJSON);
 *   1 one DescribeTasks "tasks" element -> ecs_task_from_json, then a task
 *     definition from the same document -> ecs_task_apply_taskdef and the
 *     log stream names;
 *   2 a DescribeNetworkInterfaces answer (XML as JSON) -> sg_eni_from_json;
 *   3 an ipPermissionsEgress list -> sg_perms_from_ec2 -> sg_perms_wire;
 *   4 a GetLogEvents page -> cwl_append_page.
 * FUZZ_SOURCES: functions/task-quarantine/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "arn.h"
#include "cwl.h"
#include "ecs.h"
#include "resp.h"
#include "sg.h"
#include "../../functions/task-quarantine/task_quarantine.h"

/* Stage 0: the event as tq_run's .parse sees it. */
static void fuzz_event(const char *s, size_t n)
{
	static struct resp_config cfg;
	struct lr_context ctx;
	struct tq_target t;
	struct resp r;
	char why[300];
	cJSON *ev = NULL;
	enum tq_parse p;

	why[0] = '\0';
	if (resp_parse_event(s, n, RESP_MAX_EVENT_BYTES, &ev, why, sizeof(why)) != FB_OK) {
		if (ev || !why[0])
			abort(); /* a refusal says why and leaves nothing */
		return;
	}
	if (!cJSON_IsObject(ev))
		abort();
	why[0] = '\0';
	p = tq_parse_event(ev, 7.0, &t, why, sizeof(why));
	if (p == TQ_PARSE_INVALID && !why[0])
		abort(); /* an invalid event says why */
	if (p == TQ_PARSE_OK) {
		if (!memchr(t.cluster, '\0', sizeof(t.cluster)) || !memchr(t.task, '\0', sizeof(t.task)) ||
		    !t.task[0] || !arn_ecs_task_ok(t.task) || (t.cluster[0] && !arn_ecs_cluster_ok(t.cluster)))
			abort(); /* only well-formed references reach AWS */
	}
	if (p != TQ_PARSE_INVALID) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.request_id = "fuzz";
		if (resp_begin(&r, &cfg, "task-quarantine", &ctx) == FB_OK) {
			(void)resp_trigger_from_event(&r, ev);
			resp_cleanup(&r);
		}
	}
	cJSON_Delete(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j;
	char *s;
	size_t n, i;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	n = size - 1;
	if (data[0] % 5 == 0) {
		fuzz_event(s, n);
		free(s);
		return 0;
	}
	j = cJSON_ParseWithLength(s, n);
	if (!j)
		goto out;
	switch (data[0] % 5) {
	case 1: {
		struct ecs_task *t = calloc(1, sizeof(*t));
		char stream[1024];

		if (!t)
			abort();
		if (ecs_task_from_json(cJSON_GetObjectItemCaseSensitive(j, "task"), t) == FB_OK) {
			ecs_task_apply_taskdef(t, cJSON_GetObjectItemCaseSensitive(j, "taskDefinition"),
					      "us-east-1");
			if (t->nc > ECS_MAX_CONTAINERS)
				abort();
			for (i = 0; i < t->nc; i++)
				(void)cwl_awslogs_stream("ecs", t->c[i].name, t->id, t->c[i].runtime_id,
						    stream, sizeof(stream));
		}
		free(t);
		break;
	}
	case 2: {
		struct sg_eni *e = calloc(1, sizeof(*e));

		if (!e)
			abort();
		if (sg_eni_from_json(j, e) == FB_OK && e->ngroups > SG_MAX_GROUPS)
			abort();
		free(e);
		break;
	}
	case 3: {
		cJSON *perms = sg_perms_from_ec2(j), *q = perms ? sg_perms_wire(perms) : NULL;

		cJSON_Delete(perms);
		cJSON_Delete(q);
		break;
	}
	case 4: {
		struct buf log;
		size_t events = 0;

		buf_init(&log, 1u << 20);
		(void)cwl_append_page(j, &log, &events);
		(void)cwl_append_page(j, &log, &events);
		buf_cleanup(&log);
		break;
	}
	}
	cJSON_Delete(j);
out:
	free(s);
	return 0;
}
