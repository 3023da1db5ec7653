/*
 * ecs: an ECS task as DescribeTasks and DescribeTaskDefinition describe it
 * (issue 17: out of task-quarantine; ECS's answer shapes are not a
 * responder's domain). Prefix ecs_. Plain data, no I/O.
 *
 * Identifiers are copied with buf_copy_id: one that does not fit is left
 * empty rather than cut (a cut one would name another resource).
 */
#ifndef FB_ECS_H
#define FB_ECS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "cwl.h"
#include "fb_err.h"
#include "kit.h"

/* ECS allows 10 containers per task definition. */
#define ECS_MAX_CONTAINERS 10

struct ecs_container {
	char name[256], image[512], digest[160], runtime_id[160];
	struct cwl_awslogs log;  /* from the task definition (runtime/cwl) */
};

struct ecs_task {
	char arn[512], id[128], cluster_arn[512];
	char last_status[32], desired_status[32], launch_type[32];
	char group[512], service[256], started_by[256];
	char taskdef_arn[512], container_instance_arn[512], network_mode[16];
	char eni[64], subnet[64], private_ip[64];
	char task_role[512];     /* overrides.taskRoleArn, else the task definition's */
	struct ecs_container c[ECS_MAX_CONTAINERS];
	size_t nc;
};
/* One element of DescribeTasks' "tasks": FB_E_PARSE without a taskArn,
 * FB_E_TOO_LARGE when it does not fit. The service is the group's
 * "service:<name>"; the network interface the ElasticNetworkInterface
 * attachment's; containers past ECS_MAX_CONTAINERS are left out. */
enum fb_err ecs_task_from_json(const cJSON *task, struct ecs_task *t);
/* From DescribeTaskDefinition's "taskDefinition": the network mode, the
 * task role unless RunTask overrode it, each container's log settings
 * (cwl_awslogs; CWL_LOG_NONE for a container it does not define). */
void ecs_task_apply_taskdef(struct ecs_task *t, const cJSON *taskdef, const char *default_region);
/* Where a task's tags may have come from (kit_prov_sources): the task
 * itself (TagResource on the task, RunTask's tags), its service
 * (propagateTags SERVICE; CreateService / TagResource on the service: its
 * ARN of the new format, from the task's own) and its task definition
 * (propagateTags TASK_DEFINITION; RegisterTaskDefinition's tags). */
size_t ecs_tag_sources(const struct ecs_task *t, struct kit_tag_source out[KIT_MAX_TAG_SOURCES]);

#endif
