/*
 * task-quarantine: isolate a compromised ECS task, stop it and keep what it
 * did as evidence (runbook P1). Contract: ../shared/RESPONDERS.md, resp.h;
 * trigger, IAM actions and settings: README.md beside this file.
 *
 * This file is the runbook: kit steps (runtime/kit.h) around the pure stages of stages.c:
 *
 *   1. DescribeTasks                                   (what is the task?)
 *   2. one round, concurrently: DescribeTaskDefinition, DescribeNetworkInterfaces,
 *      DescribeServices, DescribeContainerInstances, s3:HeadObject(manifest)
 *   3. isolate: CreateSecurityGroup -> DescribeSecurityGroups(new group) ->
 *      RevokeSecurityGroupEgress(its default rules) -> ModifyNetworkInterfaceAttribute;
 *      refused, or FIREBREAK_ISOLATION=revoke-egress: DescribeSecurityGroups +
 *      DescribeNetworkInterfaces(sharing) -> RevokeSecurityGroupEgress per group,
 *      only on groups no other ENI carries (FIREBREAK_ALLOW_SHARED_SG_REVOKE)
 *   4. StopTask                                        (contained)
 *   5. GetLogEvents, every page, all containers' streams concurrently
 *   6. PutObject, write-once (If-None-Match: *): restore.json first (it claims
 *      the attempt's prefix), the other objects concurrently, HeadObject of
 *      the earlier attempts' objects, then this attempt's manifest.json
 *
 * Logs stay in CloudWatch after the task stops, so they are fetched after
 * containment; the task description (ECS forgets a stopped task within
 * about an hour) is taken in step 1.
 */
#include "task_quarantine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arn.h"
#include "aws.h"
#include "cwl.h"
#include "ecs.h"
#include "evidence.h"
#include "fn.h"
#include "kit.h"
#include "prov.h"
#include "resp.h"
#include "sg.h"

#define TQ_FN "task-quarantine"
/* Time kept back from the Lambda deadline for the SNS publish and the
 * response; the AWS calls of the work itself stop this much earlier. */
#define TQ_FINISH_RESERVE_MS 800
/* Below this much time left, a required step is not started: it is
 * reported failed so the partial report still goes out in time. */
#define TQ_MIN_STEP_MS 300
/* The tag-provenance reads stop this long before the work's deadline: an
 * exemption that cannot be verified in time is ignored, and containment
 * still needs its time. */
#define TQ_CONTAIN_RESERVE_MS 4000

FN_STATE(tq_state, struct tq_settings, tq_settings_from_env)

/* One invocation. */
struct tq_run {
	struct tq_state *st;
	const struct lr_context *ctx;
	struct resp r;
	/* Where the task lives (ECS, EC2, logs): st->fn.aws or one of the owned
	 * below. The evidence bucket and the SNS topic are the function's own
	 * (the security account's): S3 and SNS always go through st->fn.aws. */
	struct aws_client *aws;
	struct tq_target tgt;
	struct ecs_task task;
	struct sg_eni eni;
	int have_task, have_eni;
	int exempt;                     /* tq_exempt */
	char exempt_value[260];
	cJSON *task_json;               /* owned: the DescribeTasks element */
	cJSON *taskdef_json;            /* owned: DescribeTaskDefinition's taskDefinition */
	cJSON *network_json;            /* owned: ENI and security group answers */
	char region[32], account[16];
	char cluster[512];              /* the cluster as ECS names it */
	struct kit kit;                 /* the task's client (aws) by default */
	struct evidence ev;             /* our own bucket, through st->fn.aws */
	int isolated_now, stopped_now, was_stopped;
	const char *isolated_by;        /* static: the path that isolated the task, NULL if none */
	cJSON *iso;                     /* borrowed: extra.isolation */
	cJSON *warnings;                /* borrowed: extra.warnings */
};

/* ---- init ------------------------------------------------------------------------ */

static void tq_settings_free(void *state)
{
	memset(&((struct tq_state *)state)->set, 0, sizeof(struct tq_settings));
}

/* ---- helpers ----------------------------------------------------------------------- */

static void warn(struct tq_run *u, const char *msg)
{
	cJSON_AddItemToArray(u->warnings, cJSON_CreateString(msg));
}

/* {"<lk>": [v1], "<k2>": v2}: a one-element list and a string. */
static cJSON *obj_list(const char *lk, const char *v1, const char *k2, const char *v2)
{
	cJSON *o = kit_obj(k2, v2, KIT_END);

	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, lk), cJSON_CreateString(v1));
	return o;
}

/* The task definition (log settings, the task role). Optional: without it
 * the logs are not found and the actor is unknown. */
static struct kit_step *taskdef_add(struct tq_run *u, struct kit_round *rd)
{
	if (!u->task.taskdef_arn[0] || u->taskdef_json)
		return NULL;
	return kit_add(rd, &(struct kit_spec){ .step = "describe-task-definition", .service = "ecs",
		.op = "DescribeTaskDefinition", .target = u->task.taskdef_arn, .kind = RESP_READ, .optional = 1,
		.in = kit_obj("taskDefinition", u->task.taskdef_arn, KIT_END) });
}

static void taskdef_take(struct tq_run *u, const struct kit_step *td)
{
	const cJSON *d = resp_get(kit_out(td), "taskDefinition");

	if (td && kit_ok(td) && d) {
		u->taskdef_json = cJSON_Duplicate(d, 1);
		ecs_task_apply_taskdef(&u->task, u->taskdef_json, u->region);
	}
}

/* ---- 1. the task ---------------------------------------------------------------------- */

/* Returns 1 when the task was found and described. */
static int describe_task(struct tq_run *u)
{
	struct kit_round *rd = kit_round_new(&u->kit);
	cJSON *in = obj_list("tasks", u->tgt.task, "cluster", u->cluster);
	struct kit_step *s;
	const cJSON *t;
	const char *reason;

	cJSON_AddItemToObject(in, "include", cJSON_CreateStringArray((const char *const[]){ "TAGS" }, 1));
	s = kit_add(rd, &(struct kit_spec){ .step = "describe-task", .service = "ecs", .op = "DescribeTasks",
		.target = u->tgt.task, .kind = RESP_READ, .in = in });
	if (kit_run(rd) != FB_OK) {
		kit_detail(s, "cannot describe the task");
		goto out;
	}
	t = cJSON_GetArrayItem(resp_get(kit_out(s), "tasks"), 0);
	if (!t) {
		reason = resp_get_str(cJSON_GetArrayItem(resp_get(kit_out(s), "failures"), 0), "reason");
		kit_detail(s, "task not found (%s)", reason ? reason : "no such task");
		resp_skip(&u->r, "task not found in cluster '%.200s' (%.40s)", u->cluster,
			  reason ? reason : "MISSING");
		goto out;
	}
	if (ecs_task_from_json(t, &u->task) != FB_OK) {
		kit_fail(s, "cannot parse the DescribeTasks answer");
		goto out;
	}
	u->exempt = tq_exempt(t, u->exempt_value, sizeof(u->exempt_value));
	u->task_json = cJSON_Duplicate(t, 1);
	kit_detail(s, "%s", u->task.last_status);
	u->have_task = 1;
out:
	kit_round_free(rd);
	return u->have_task;
}

static void report_task(struct tq_run *u)
{
	const struct ecs_task *t = &u->task;
	cJSON *o = kit_obj("arn", t->arn, "cluster", t->cluster_arn, "last_status", t->last_status,
			   "desired_status", t->desired_status, "launch_type", t->launch_type,
			   "network_mode", t->network_mode, "task_definition", t->taskdef_arn, "group", t->group,
			   "started_by", t->started_by, KIT_END), *cs, *n;
	size_t i;

	if (!cJSON_AddItemToObject(u->r.extra, "task", o))
		return;
	cs = cJSON_AddArrayToObject(o, "containers");
	for (i = 0; cs && i < t->nc; i++) {
		const struct ecs_container *c = &t->c[i];
		cJSON *x = kit_obj("name", c->name, "image", c->image, "image_digest", c->digest,
				   "runtime_id", c->runtime_id, KIT_END);

		cJSON_AddItemToArray(cs, x);
		cJSON_AddItemToObject(x, "log", cwl_awslogs_json(&c->log));
	}
	n = kit_obj("network_interface_id", t->eni, "subnet_id", t->subnet, "private_ipv4_address", t->private_ip,
		    KIT_END);
	if (cJSON_AddItemToObject(o, "network", n) && u->have_eni)
		sg_eni_report(&u->eni, n);
}

/* ---- 1b. an exemption counts only with provenance ------------------------------------------ */

/* firebreak:exempt is honoured only when the CloudTrail history of every
 * resource the tag may have come from (ecs_tag_sources) says it predates
 * the finding by the minimum age and was not set by the task's own role
 * (whoever holds the task's credentials is the attacker here). Returns 1
 * when honoured; the report's extra.exemption_tags says why either way. */
static int exemption_honoured(struct tq_run *u, char *why, size_t whylen)
{
	struct kit_tag_source src[KIT_MAX_TAG_SOURCES];
	struct prov_query q;
	size_t n;
	cJSON *list = cJSON_AddArrayToObject(u->r.extra, "exemption_tags");

	if (!u->task.task_role[0]) {
		struct kit_round *rd = kit_round_new(&u->kit);
		struct kit_step *td = taskdef_add(u, rd);

		kit_run(rd);
		taskdef_take(u, td);
		kit_round_free(rd);
	}
	n = ecs_tag_sources(&u->task, src);
	q = (struct prov_query){ .tag_key = TQ_TAG_EXEMPT, .tag_value = u->exempt_value,
		.trigger_ms = u->r.event_time_ms ? u->r.event_time_ms : u->r.received_ms,
		.trigger_actor = u->task.task_role[0] ? u->task.task_role : NULL,
		.min_age_ms = u->st->fn.cfg.tag_min_age_ms, .trust = &u->st->fn.cfg };
	/* created_ms stays 0: a task is often younger than the minimum
	 * age while the tag it inherited (service, task definition) is
	 * not; each source's own history dates the tag. Each read is
	 * optional (kit.h): without the history the tag is ignored (fail
	 * towards containment), not a failed containment. */
	return kit_prov_sources(&u->kit, &q, src, n, &(struct kit_prov_read){ .step = "tag-provenance",
		.account = u->account[0] ? u->account : NULL, .complete_note = " (complete)",
		.deadline_ms = kit_read_deadline(&u->kit, TQ_FINISH_RESERVE_MS + TQ_CONTAIN_RESERVE_MS) }, list, why, whylen);
}

/* ---- 2. the independent reads ------------------------------------------------------ */

static void network_evidence_add(struct tq_run *u, const char *name, const cJSON *out)
{
	if (!u->network_json)
		u->network_json = cJSON_CreateObject();
	if (u->network_json && out)
		cJSON_AddItemToObject(u->network_json, name, cJSON_Duplicate(out, 1));
}

/* Who owns the task, and whether it will come back from the same image. */
static void service_report(struct tq_run *u, struct kit_step *svc)
{
	const cJSON *s = cJSON_GetArrayItem(resp_get(kit_out(svc), "services"), 0);
	cJSON *o = kit_obj("name", u->task.service, "started_by", u->task.started_by, KIT_END);
	int again = s ? tq_will_replace(s, u->task.taskdef_arn) : 0;

	cJSON_AddItemToObject(u->r.extra, "service", o);
	if (s) {
		const cJSON *dc = cJSON_GetObjectItemCaseSensitive(s, "desiredCount");
		const char *std = resp_get_str(s, "taskDefinition");

		cJSON_AddNumberToObject(o, "desired_count", cJSON_IsNumber(dc) ? dc->valuedouble : 0);
		cJSON_AddStringToObject(o, "task_definition", std ? std : "");
		cJSON_AddBoolToObject(o, "will_replace_from_same_image", again);
		if (again)
			warn(u, "the service will start a replacement task from the same task definition and image: it may be compromised the same way; scale the service to 0 or deploy a fixed image");
	} else {
		cJSON_AddNullToObject(o, "will_replace_from_same_image");
	}
	kit_detail(svc, "%s", s ? (again ? "replacement from the same image expected" : "no replacement from the same image")
			    : "service not described");
}

static void read_round(struct tq_run *u)
{
	const struct ecs_task *t = &u->task;
	struct kit_round *rd = kit_round_new(&u->kit);
	struct kit_step *td = taskdef_add(u, rd), *eni = NULL, *svc = NULL, *ci = NULL, *head;

	/* A stopped task's ENI is gone (or going): nothing to isolate. */
	if (t->eni[0] && strcmp(t->last_status, "STOPPED"))
		eni = kit_add(rd, &(struct kit_spec){ .step = "describe-eni", .service = "ec2",
			.op = "DescribeNetworkInterfaces", .target = t->eni, .kind = RESP_READ,
			.in = sg_ids("NetworkInterfaceId", t->eni) });
	if (t->service[0])
		svc = kit_add(rd, &(struct kit_spec){ .step = "describe-service", .service = "ecs",
			.op = "DescribeServices", .target = t->service, .kind = RESP_READ, .optional = 1,
			.in = obj_list("services", t->service, "cluster", u->cluster) });
	if (t->container_instance_arn[0])
		ci = kit_add(rd, &(struct kit_spec){ .step = "describe-host", .service = "ecs",
			.op = "DescribeContainerInstances", .target = t->container_instance_arn, .kind = RESP_READ,
			.optional = 1, .in = obj_list("containerInstances", t->container_instance_arn, "cluster", u->cluster) });
	/* The manifest lives in our own bucket (our own client): same round. */
	head = evidence_check(&u->ev, rd);
	kit_run(rd);

	taskdef_take(u, td);
	if (eni) {
		u->have_eni = kit_ok(eni) && sg_eni_from_json(kit_out(eni), &u->eni) == FB_OK;
		network_evidence_add(u, "DescribeNetworkInterfaces", kit_out(eni));
		if (kit_ok(eni) && !u->have_eni)
			kit_fail(eni, "the task's network interface is not listed");
		else
			kit_detail(eni, "%s", u->eni.vpc);
	}
	if (svc)
		service_report(u, svc);
	if (ci) {
		const char *iid = resp_get_str(cJSON_GetArrayItem(resp_get(kit_out(ci), "containerInstances"), 0),
					       "ec2InstanceId");
		cJSON *o = cJSON_AddObjectToObject(u->r.extra, "suspect_host");

		cJSON_AddStringToObject(o, "container_instance_arn", t->container_instance_arn);
		resp_json_set(o, "ec2_instance_id", iid);
		cJSON_AddStringToObject(o, "note", "EC2 launch type: the host ran the compromised container and is suspect; investigate or replace it");
		kit_detail(ci, "%s", iid ? iid : "instance id not found");
	}
	evidence_checked(&u->ev, head);
	kit_round_free(rd);
}

/* ---- 3. isolation ----------------------------------------------------------------------- */

/* Never cut a fleet to contain one task: a group that other network
 * interfaces also carry is revoked only with FIREBREAK_ALLOW_SHARED_SG_REVOKE,
 * and then the report names the blast radius. An unreadable sharing answer
 * counts as shared. Returns 1 when the revoke may go ahead; otherwise a
 * failed required step says why, and the task is stopped without it. */
static int share_decision(struct tq_run *u, int known, const cJSON *shared, int more)
{
	int n = cJSON_GetArraySize(shared);
	enum tq_share d = tq_share_decide(known, (size_t)n, u->st->set.allow_shared_revoke);
	char msg[400];
	cJSON *br;

	switch (d) {
	case TQ_SHARE_ALONE:
		return 1;
	case TQ_SHARE_ALLOWED:
		br = cJSON_AddObjectToObject(u->iso, "blast_radius");
		cJSON_AddStringToObject(br, "allowed_by", "FIREBREAK_ALLOW_SHARED_SG_REVOKE=true");
		if (known)
			cJSON_AddNumberToObject(br, "other_network_interfaces", n);
		else
			cJSON_AddNullToObject(br, "other_network_interfaces");
		cJSON_AddBoolToObject(br, "complete", known && !more);
		cJSON_AddItemToObject(br, "network_interfaces", cJSON_Duplicate(shared, 1));
		if (known)
			kit_warn_to(u->warnings, "FIREBREAK_ALLOW_SHARED_SG_REVOKE=true: revoking egress on the task's security groups also cuts %d%s other network interface(s) that share them: see isolation.blast_radius",
				    n, more ? "+" : "");
		else
			warn(u, "FIREBREAK_ALLOW_SHARED_SG_REVOKE=true: who else shares the task's security groups could not be read; egress revoked anyway, the blast radius is unknown");
		return 1;
	case TQ_SHARE_REFUSED:
		snprintf(msg, sizeof(msg), "refused: the task's security group(s) are shared with %d%s other network interface(s) (see isolation.shared_with); revoking their egress would cut those too. Not revoked; stopping the task instead. Set FIREBREAK_ALLOW_SHARED_SG_REVOKE=true to allow",
			 n, more ? "+" : "");
		break;
	case TQ_SHARE_UNKNOWN_REFUSED:
		snprintf(msg, sizeof(msg), "refused: who else uses the task's security group(s) could not be read (ec2:DescribeNetworkInterfaces), so they count as shared. Not revoked; stopping the task instead. Set FIREBREAK_ALLOW_SHARED_SG_REVOKE=true to allow");
		break;
	}
	/* Read kind: the write is refused, not planned, even under dry run. */
	kit_decide(&u->kit, &(struct kit_spec){ .step = "isolate", .service = "ec2",
		.op = "RevokeSecurityGroupEgress", .target = u->eni.groups[0], .kind = RESP_READ },
		RESP_FAILED, "%s", msg);
	cJSON_AddStringToObject(u->iso, "refused", msg);
	warn(u, "the task was NOT network-isolated: its security groups are (or may be) shared with other workloads; it is being stopped, and this report is an error so that someone is paged");
	return 0;
}

/* Between the reads and the revokes (sg_revoke_egress): the groups'
 * answer kept as evidence, who else carries them, the sharing decision. */
static int revoke_decide(void *arg, const cJSON *groups, int known, const cJSON *interfaces, int more)
{
	struct tq_run *u = arg;
	cJSON *shared = sg_sharers(interfaces, &u->eni);

	network_evidence_add(u, "DescribeSecurityGroups", groups);
	cJSON_AddItemToObject(u->iso, "shared_with", shared);
	return share_decision(u, known, shared, more);
}

/* The runbook's way: every egress rule of the task's own groups goes. */
static void isolate_revoke_egress(struct tq_run *u, const char *why)
{
	const char *ids[SG_MAX_GROUPS];
	struct sg_revoke rv = { .groups = ids, .ngroups = u->eni.ngroups, .read_step = "describe-task-groups",
				.share_step = "describe-group-sharing", .what = "the task's security groups",
				.decide = revoke_decide, .arg = u };
	size_t i;

	cJSON_AddStringToObject(u->iso, "strategy", "revoke-egress");
	if (why)
		cJSON_AddStringToObject(u->iso, "fallback_reason", why);
	if (!u->eni.ngroups) {
		kit_decide(&u->kit, &(struct kit_spec){ .step = "revoke-egress", .service = "ec2",
			.op = "RevokeSecurityGroupEgress", .target = u->eni.id, .kind = RESP_WRITE },
			RESP_FAILED, "the network interface has no security groups to revoke");
		return;
	}
	for (i = 0; i < u->eni.ngroups; i++)
		ids[i] = u->eni.groups[i];
	sg_revoke_egress(&u->kit, &rv);
	u->isolated_now |= rv.revoked;
	if (rv.complete)
		u->isolated_by = "revoke-egress";
}

/* Default: a per-incident group with no rules (runtime/sg: created with
 * its tags, its default egress revoked), swapped onto the ENI. */
static void isolate_quarantine_sg(struct tq_run *u)
{
	char sgname[128], desc[256], why[300];
	const char *tags[] = { "Name", sgname, "firebreak:incident", u->r.incident_id,
			       "firebreak:task", u->task.arn, NULL };
	struct sg_swap q = { .eni = &u->eni, .group = { .name = sgname, .desc = desc, .vpc = u->eni.vpc,
		.tags = tags }, .step = "swap-groups", .detail = "only the quarantine group is attached" };
	enum sg_swap_result res;

	snprintf(sgname, sizeof(sgname), TQ_SG_PREFIX "%s", u->r.incident_id);
	snprintf(desc, sizeof(desc), "firebreak quarantine for %.60s: no ingress, no egress", u->task.id);
	cJSON_AddStringToObject(u->iso, "strategy", "quarantine-sg");
	cJSON_AddStringToObject(u->iso, "quarantine_group_name", sgname);
	res = sg_swap_empty(&u->kit, &q);
	if (q.group.id[0])
		cJSON_AddStringToObject(u->iso, "quarantine_group", q.group.id);
	if (res == SG_SWAP_DONE || res == SG_SWAP_REFUSED)
		cJSON_AddItemToObject(u->iso, "original_groups", sg_eni_groups(&u->eni));
	if (res == SG_SWAP_DONE) {
		u->isolated_now = 1;
		u->isolated_by = "quarantine-sg";
	} else if (res == SG_SWAP_NO_GROUP) {
		isolate_revoke_egress(u, "the quarantine group could not be created");
	} else if (res == SG_SWAP_REFUSED) {
		/* Refused (requester-managed ENI, permissions): the runbook's way. */
		snprintf(why, sizeof(why), "ModifyNetworkInterfaceAttribute refused: %.252s", q.why);
		isolate_revoke_egress(u, why);
	}
}

/* What the isolation came to, in one place of the report: which path
 * isolated the task (the swap, or the revoke-egress fallback), or that it
 * failed. Steps from `from` on are the isolation's. */
static void iso_outcome(struct tq_run *u, size_t from)
{
	size_t i;
	int failed = 0;

	if (u->r.dry_run)
		return;
	for (i = from; i < u->r.nsteps; i++)
		failed |= u->r.steps[i].required && u->r.steps[i].status == RESP_FAILED;
	if (failed) {
		cJSON_AddStringToObject(u->iso, "result", "failed");
	} else if (u->isolated_by) {
		cJSON_AddStringToObject(u->iso, "result", u->isolated_now ? "isolated" : "already");
		cJSON_AddStringToObject(u->iso, "isolated_by", u->isolated_by);
	}
}

/* A line of the isolation settled by what was read, no call. */
#define ISO_DECIDE(u, kind_, target_, st, ...) \
	kit_decide(&(u)->kit, &(struct kit_spec){ .step = "isolate", .service = "ec2", \
		.op = "ModifyNetworkInterfaceAttribute", .target = (target_), .kind = (kind_), \
		.optional = (st) == RESP_SKIPPED }, (st), __VA_ARGS__)

static void isolate(struct tq_run *u)
{
	size_t from;

	u->iso = cJSON_AddObjectToObject(u->r.extra, "isolation");
	if (!strcmp(u->task.last_status, "STOPPED")) {
		cJSON_AddStringToObject(u->iso, "strategy", "none: task already stopped");
		ISO_DECIDE(u, RESP_READ, u->task.eni, RESP_SKIPPED, "task already stopped: no network to isolate");
		return;
	}
	if (!u->task.eni[0]) {
		cJSON_AddStringToObject(u->iso, "strategy", "none: not an awsvpc task");
		ISO_DECIDE(u, RESP_READ, u->task.arn, RESP_SKIPPED,
			   "no task network interface (bridge/host network mode): the host's groups are shared, stopping only");
		warn(u, "the task has no network interface of its own: it was stopped but not isolated first");
		return;
	}
	if (!u->have_eni)
		return; /* describe-eni already failed (required) */
	if (sg_all_prefixed(&u->eni, TQ_SG_PREFIX)) {
		cJSON_AddStringToObject(u->iso, "strategy", "quarantine-sg");
		cJSON_AddStringToObject(u->iso, "quarantine_group", u->eni.groups[0]);
		ISO_DECIDE(u, RESP_WRITE, u->eni.id, RESP_ALREADY, "only a firebreak quarantine group is attached");
		u->isolated_by = "quarantine-sg";
		iso_outcome(u, u->r.nsteps);   /* "already" (not under dry run) */
		return;
	}
	if (!lr_time_left(u->ctx, TQ_MIN_STEP_MS)) {
		ISO_DECIDE(u, RESP_WRITE, u->eni.id, RESP_FAILED, "not started: invocation deadline nearly spent");
		return;
	}
	from = u->r.nsteps;
	if (u->st->set.revoke_egress)
		isolate_revoke_egress(u, NULL);
	else
		isolate_quarantine_sg(u);
	iso_outcome(u, from);
}

/* ---- 4. stop ------------------------------------------------------------------------------ */

static void stop_task(struct tq_run *u)
{
	struct kit_round *rd = kit_round_new(&u->kit);
	struct kit_step *s;
	char reason[256];
	cJSON *in;

	/* StopTask's reason is shown in the console and kept on the task. */
	snprintf(reason, sizeof(reason), "firebreak %.40s: %.200s", u->r.incident_id, u->tgt.reason);
	in = kit_obj("cluster", u->cluster, "task", u->task.arn, "reason", reason, KIT_END);
	s = kit_add(rd, &(struct kit_spec){ .step = "stop-task", .service = "ecs", .op = "StopTask",
		.target = u->task.arn, .kind = RESP_WRITE, .in = in,
		.detail = "stop requested; the task drains to STOPPED" });
	if (u->r.dry_run) {
		/* planned */
	} else if (!strcmp(u->task.desired_status, "STOPPED") || !strcmp(u->task.last_status, "STOPPED")) {
		u->was_stopped = 1;
		kit_already(s, "%s", u->task.last_status);
	} else if (!lr_time_left(u->ctx, TQ_MIN_STEP_MS)) {
		kit_fail(s, "not started: invocation deadline nearly spent");
	} else if (kit_run(rd) == FB_OK) {
		u->stopped_now = 1;
		if (!resp_failed(&u->r))
			resp_contained(&u->r);
	} else {
		kit_detail(s, "stop requested; the task drains to STOPPED");
	}
	kit_round_free(rd);
}


/* ---- 5 and 6. logs and evidence ------------------------------------------------------------- */

/* Write-once evidence (runtime/evidence.h): restore.json claims the
 * attempt, then the task, its definition, the network answers and the
 * logs, then the manifest. */
static void evidence(struct tq_run *u)
{
	static const char *const fixed[] = { "task.json", "task-definition.json", "network.json",
					     "restore.json", "manifest.json" };
	const char *names[sizeof(fixed) / sizeof(fixed[0]) + ECS_MAX_CONTAINERS + 1];
	char lognames[ECS_MAX_CONTAINERS][300];
	cJSON *ev = cJSON_AddObjectToObject(u->r.extra, "evidence");
	struct cwl logs;
	size_t i, n = 0;

	/* Under dry run restore[] holds the plan's undo, not a write. The
	 * restore manifest as it stands (every write of this attempt) claims
	 * the attempt. */
	if (!evidence_open(&u->ev, !u->r.dry_run && cJSON_GetArraySize(u->r.restore) > 0, u->r.restore, ev)) {
		if (!u->st->fn.evcfg.bucket)
			warn(u, "no evidence bucket configured: task description and logs were not kept");
		return;
	}
	evidence_add_json(&u->ev, "task.json", u->task_json);
	evidence_add_json(&u->ev, "task-definition.json", u->taskdef_json);
	evidence_add_json(&u->ev, "network.json", u->network_json);
	/* What an earlier attempt may have written, for the manifest. */
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		names[n++] = fixed[i];
	/* Every awslogs stream from its head, all together (runtime/cwl). */
	cwl_init(&logs, &u->kit, u->ctx, u->st->set.log_max_bytes);
	for (i = 0; i < u->task.nc; i++)
		if (cwl_add_log(&logs, u->task.c[i].name, &u->task.c[i].log, lognames[i], sizeof(lognames[i])))
			names[n++] = lognames[i];
	names[n] = NULL;
	cwl_fetch(&logs, &u->ev);
	cwl_cleanup(&logs);
	evidence_put(&u->ev);
	evidence_finish(&u->ev, names, ev);
}

/* ---- the handler ------------------------------------------------------------------------------- */

/* Where to act: region and account from the task ARN when it is one,
 * else from the finding / envelope, else the function's own. */
static void locate(struct tq_run *u, const cJSON *ev)
{
	const char *region = kit_event_region(ev), *account = kit_event_account(ev);

	if (!arn_field(u->tgt.task, 3, u->region, sizeof(u->region)))
		buf_copy_id(u->region, sizeof(u->region), region ? region : aws_client_region(u->st->fn.aws));
	if (!arn_field(u->tgt.task, 4, u->account, sizeof(u->account)))
		buf_copy_id(u->account, sizeof(u->account), account);
}

/* The task's account and region: the member role for another account
 * (kit_client, freed by kit_cleanup). */
static enum fb_err client_for(struct tq_run *u)
{
	struct aws_error err;

	u->aws = kit_client(&u->kit, u->account[0] ? u->account : NULL, u->region, NULL, &err);
	if (!u->aws) {
		int i = resp_step_begin(&u->r, "assume-role", "sts:AssumeRole", u->account, RESP_READ);

		/* acct_client_for's FB_E_CONFIG says so in its message */
		resp_step_end(&u->r, i, RESP_FAILED, strstr(err.message, "FIREBREAK_MEMBER_ROLE is not set") ?
			      "task in another account and FIREBREAK_MEMBER_ROLE not set" :
			      "cannot act in the task's account", &err);
		return FB_E_AWS;
	}
	u->kit.aws = u->aws;   /* the task's account and region by default */
	return FB_OK;
}

static void run_cleanup(struct tq_run *u)
{
	evidence_cleanup(&u->ev);
	kit_cleanup(&u->kit);
	cJSON_Delete(u->task_json);
	cJSON_Delete(u->taskdef_json);
	cJSON_Delete(u->network_json);
	resp_cleanup(&u->r);
	free(u);
}

static void set_verdict(struct tq_run *u)
{
	if (resp_failed(&u->r) || u->r.dry_run || u->r.skipped)
		return;
	if (u->stopped_now || u->isolated_now)
		resp_set_verdict(&u->r, "contained");
	else if (u->was_stopped)
		resp_set_verdict(&u->r, "already-contained");
}

/* One invocation as the frame holds it: the event and the run. */
struct tq_call {
	cJSON *root;                    /* owned: the event */
	struct tq_run *u;               /* owned: run_cleanup */
	enum tq_parse p;
	char why[300];                  /* TQ_PARSE_IGNORE: why */
};

/* The shared strict parse (size, UTF-8, control bytes, \u0000, depth,
 * trailing data, an object); then tq_parse_event checks the fields and the
 * task/cluster references, all before any AWS call. */
static enum fb_err tq_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct tq_call *tc = c->ev;
	struct tq_state *st = c->st;

	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &tc->root, tc->why, sizeof(tc->why)) != FB_OK) {
		snprintf(why, whylen, "%s", tc->why[0] ? tc->why : "not a JSON object");
		return FB_E_INVALID;
	}
	tc->u = calloc(1, sizeof(*tc->u));
	if (!tc->u)
		return FB_E_NOMEM;
	tc->u->st = st;
	tc->u->ctx = c->ctx;
	c->r = &tc->u->r;
	c->k = &tc->u->kit;
	tc->p = tq_parse_event(tc->root, st->set.min_severity, &tc->u->tgt, tc->why, sizeof(tc->why));
	snprintf(why, whylen, "%s", tc->why);
	return tc->p == TQ_PARSE_INVALID ? FB_E_INVALID : FB_OK;
}

static void tq_event_free(void *ev)
{
	struct tq_call *tc = ev;

	if (tc->u)
		run_cleanup(tc->u);
	cJSON_Delete(tc->root);
}

static enum fb_err tq_run(struct fn_call *c)
{
	struct tq_call *tc = c->ev;
	struct tq_state *st = c->st;
	struct tq_run *u = tc->u;

	/* The incident (from the finding id) before evidence_init: the
	 * evidence prefix is the incident's. */
	if (u->tgt.is_finding)
		kit_finding(&u->r, u->tgt.finding_id, u->tgt.finding_type, u->tgt.severity, u->tgt.task);
	evidence_init(&u->ev, &u->kit, st->fn.aws, &st->fn.evcfg, c->ctx, "task_arn", u->task.arn);
	resp_set_severity(&u->r, "P1");
	u->warnings = cJSON_AddArrayToObject(u->r.extra, "warnings");
	cJSON_AddStringToObject(u->r.extra, "reason", u->tgt.reason);
	locate(u, tc->root);
	resp_set_resource(&u->r, u->tgt.task, u->account[0] ? u->account : NULL, u->region);
	/* The task ARN's own cluster wins over the one named beside it: the
	 * task cannot be elsewhere, and a wrong cluster would only make ECS
	 * answer "MISSING" and leave the task running. */
	if (tq_cluster_resolve(u->tgt.cluster, u->tgt.task, u->cluster, sizeof(u->cluster))) {
		cJSON *m = cJSON_AddObjectToObject(u->r.extra, "cluster_mismatch");

		cJSON_AddStringToObject(m, "event_cluster", u->tgt.cluster);
		cJSON_AddStringToObject(m, "task_arn_cluster", u->cluster);
		cJSON_AddStringToObject(m, "used", "task_arn_cluster");
		warn(u, "the event's cluster and the cluster in the task ARN differ: the task ARN's cluster was used (see cluster_mismatch)");
	}
	if (tc->p == TQ_PARSE_IGNORE) {
		resp_skip(&u->r, "%s", tc->why);
		goto finish;
	}
	if (client_for(u) != FB_OK)
		goto finish;
	if (u->aws != st->fn.aws && c->ctx->deadline_ms)
		aws_client_set_deadline(u->aws, c->ctx->deadline_ms - TQ_FINISH_RESERVE_MS);
	if (!describe_task(u))
		goto finish;
	if (u->task.cluster_arn[0])
		buf_copy_id(u->cluster, sizeof(u->cluster), u->task.cluster_arn);
	resp_set_resource(&u->r, u->task.arn, u->account[0] ? u->account : NULL, u->region);
	if (u->exempt) {
		char pwhy[PROV_REASON_LEN + 40];

		if (exemption_honoured(u, pwhy, sizeof(pwhy))) {
			resp_skip(&u->r, "task tagged firebreak:exempt=true: not isolated or stopped (%.400s)", pwhy);
			goto finish;
		}
		warn(u, "firebreak:exempt=true on the task ignored: its provenance does not allow it (see exemption_tags)");
	}
	if (!strcmp(u->task.last_status, "STOPPED"))
		u->was_stopped = 1;
	read_round(u);
	isolate(u);
	stop_task(u);
	evidence(u);
	report_task(u);
	set_verdict(u);
finish:
	if (u->r.skipped && u->have_task)
		report_task(u);
	/* The publish and response get the time kept back (.finish_reserve_ms).
	 * The topic is ours: the frame publishes with our own client, not the
	 * member account's. */
	return FB_OK;
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = TQ_FN, .margin_ms = TQ_FINISH_RESERVE_MS,
		.finish_reserve_ms = 100,
		.size = sizeof(struct tq_state), .settings = tq_state_settings, .cleanup = tq_settings_free,
		.event_size = sizeof(struct tq_call), .event_root = offsetof(struct tq_call, root),
		.event_cleanup = tq_event_free, .parse = tq_event_read, .run = tq_run });
}
