/*
 * instance-quarantine: isolate a compromised EC2 instance and keep its
 * disks as evidence (issue 20). The handler reads as the runbook:
 *
 *   round 1  read the instance, its termination protection, its Auto Scaling
 *            membership                                (reads, concurrent)
 *   decide   terminated? trusted? exempt (under the provenance rule)?
 *   round 2  the VPC's firebreak groups, the groups it carries now, the
 *            incident's snapshots, the instance profile (reads, concurrent)
 *   round 3  protect (termination protection, DeleteOnTermination off,
 *            detach from the Auto Scaling group), snapshots, the groups to
 *            create, and, when the groups exist, the untrack swap
 *   round 4  the new groups' rules (quarantine: none; untrack: all)
 *   round 5  the untrack swap (when round 3 could not do it)
 *   round 6  the quarantine swap: isolated
 *   then     stop (setting), the role's older sessions (credential findings)
 *
 * The decisions are in stages.c (instance_quarantine.h); the kit runs the
 * calls, writes the report lines and records every undo before its write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "fn.h"
#include "instance_quarantine.h"
#include "http.h"
#include "kit.h"
#include "log.h"
#include "lr.h"
#include "prov.h"
#include "resp.h"
#include "sg.h"

/* Kept back from the deadline for the report and its publication. */
#define IQ_FINISH_RESERVE_MS 1500

FN_STATE(iq_state, struct iq_settings, iq_settings_from_env)

struct iq_vpc {
	struct iq_vpc_groups g;
	char qname[128], uname[128];       /* the names used (the VPC's, or this incident's) */
	struct kit_step *create_q, *create_u; /* round 3, NULL when reused */
	const char *qid, *uid;             /* the ids to swap to (borrowed) */
};

struct iq_run {
	struct iq_state *st;
	const struct lr_context *ctx;
	struct resp r;
	struct kit k;
	struct aws_client *c;              /* borrowed (kit_client): the instance's account/region */
	struct iq_target t;
	struct iq_instance in;
	cJSON *inst_out;                   /* owned: DescribeInstances' answer (in borrows it) */
	cJSON *report_inst;                /* borrowed: extra.instance */
	cJSON *iso;                        /* borrowed: extra.isolation */
	int termination_on;                /* termination protection already on */
	char asg[256];                     /* the Auto Scaling group, "" none */
	char asg_state[64];
	char role_arn[512];
	struct iq_vpc vpc[IQ_MAX_VPCS];
	size_t nvpc;
	int64_t isolated_ms;               /* since receipt; 0 not isolated */
	int64_t snap_requested_ms;         /* CreateSnapshots answered, since receipt; 0 not sent */
	struct evidence ev;                /* the function's own bucket, through st->fn.aws */
	int wrote;                         /* any write done */
};

static int64_t since(const struct iq_run *u)
{
	return http_now_ms() - u->r.received_ms;
}

/* ---- init -------------------------------------------------------------------------- */

/* ---- inputs (EC2 wire names, runtime/README.md) -------------------------------------------- */

/* All protocols, 0.0.0.0/0 and/or ::/0, as IpPermissions (wire names;
 * botocore's names are the same for these members). */
static cJSON *open_perms(int v4, int v6)
{
	cJSON *perms = cJSON_CreateArray(), *p = cJSON_CreateObject(), *r, *x;

	cJSON_AddItemToArray(perms, p);
	cJSON_AddStringToObject(p, "IpProtocol", "-1");
	if (v4) {
		r = cJSON_AddArrayToObject(p, "IpRanges");
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "CidrIp", "0.0.0.0/0");
		cJSON_AddItemToArray(r, x);
	}
	if (v6) {
		r = cJSON_AddArrayToObject(p, "Ipv6Ranges");
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "CidrIpv6", "::/0");
		cJSON_AddItemToArray(r, x);
	}
	return perms;
}

static cJSON *rule_in(const char *gid, int v4, int v6)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddStringToObject(in, "GroupId", gid);
	cJSON_AddItemToObject(in, "IpPermissions", open_perms(v4, v6));
	return in;
}

static void add_tag(cJSON *tags, const char *k, const char *v)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "Key", k);
	cJSON_AddStringToObject(t, "Value", v);
	cJSON_AddItemToArray(tags, t);
}

static cJSON *create_group_in(const struct iq_run *u, const char *vpc, const char *name, const char *role)
{
	const char *tags[] = { "firebreak:role", role, "firebreak:incident", u->r.incident_id, NULL };
	char desc[256];

	snprintf(desc, sizeof(desc), "firebreak %s group (instance-quarantine; created for %s)", role,
		 u->r.incident_id);
	return sg_create_in(name, desc, vpc, tags);
}

/* The undo of a group firebreak created: delete it once nothing uses it
 * (its id is not known before the call; the entry names the VPC and name). */
static cJSON *create_group_undo(const char *vpc, const char *name)
{
	cJSON *a = cJSON_CreateObject(), *e;

	cJSON_AddStringToObject(a, "GroupName", name);
	e = kit_undo("ec2:DeleteSecurityGroup", a);
	cJSON_AddStringToObject(e, "vpc_id", vpc);
	cJSON_AddStringToObject(e, "note", "look the group id up by name in this VPC; delete it when no "
				"interface uses it any more (other quarantined instances may)");
	return e;
}

/* ---- round 1: the instance ------------------------------------------------------------ */

/* The reads whose answers the later rounds use (borrowed from their rounds). */
struct reads {
	struct kit_step *groups, *before, *snaps, *profile, *peers, *console, *evcheck;
};

static void report_instance(struct iq_run *u)
{
	cJSON *o = cJSON_AddObjectToObject(u->r.extra, "instance"), *enis, *vols;
	size_t i;

	u->report_inst = o;
	cJSON_AddStringToObject(o, "id", u->in.id);
	cJSON_AddStringToObject(o, "state", u->in.state);
	cJSON_AddStringToObject(o, "vpc", u->in.vpc);
	if (u->in.profile_arn[0])
		cJSON_AddStringToObject(o, "instance_profile", u->in.profile_arn);
	enis = cJSON_AddArrayToObject(o, "network_interfaces");
	for (i = 0; i < u->in.neni; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToArray(enis, e);
		cJSON_AddStringToObject(e, "id", u->in.eni[i].id);
		cJSON_AddStringToObject(e, "vpc", u->in.eni[i].vpc);
		cJSON_AddItemToObject(e, "groups_before", sg_eni_groups(&u->in.eni[i]));
	}
	vols = cJSON_AddArrayToObject(o, "volumes");
	for (i = 0; i < u->in.nvol; i++) {
		cJSON *v = cJSON_CreateObject();

		cJSON_AddItemToArray(vols, v);
		cJSON_AddStringToObject(v, "device", u->in.vol[i].device);
		cJSON_AddStringToObject(v, "volume", u->in.vol[i].volume);
		cJSON_AddBoolToObject(v, "delete_on_termination_before", u->in.vol[i].delete_on_termination);
	}
}

/* Round 1: what the first writes depend on, and only that. The firebreak
 * groups are looked up by name in every VPC (the instance's VPCs are not
 * known yet: one round fewer before the first write); the incident's
 * snapshots by tag. 1 when the run goes on. */
static int read_instance(struct iq_run *u, struct kit_round *rd, struct reads *rs)
{
	struct kit_step *di, *ta, *as;
	cJSON *in, *v;
	const cJSON *asi;
	enum fb_err rc;

	di = kit_add(rd, &(struct kit_spec){ .step = "describe-instance", .service = "ec2",
		.op = "DescribeInstances", .target = u->t.instance, .kind = RESP_READ,
		.in = sg_ids("InstanceId", u->t.instance), .client = u->c,
		.absent = "InvalidInstanceID.NotFound" });
	in = cJSON_CreateObject();
	cJSON_AddStringToObject(in, "Attribute", "disableApiTermination");
	cJSON_AddStringToObject(in, "InstanceId", u->t.instance);
	ta = kit_add(rd, &(struct kit_spec){ .step = "read-termination-protection", .service = "ec2",
		.op = "DescribeInstanceAttribute", .target = u->t.instance, .kind = RESP_READ,
		.in = in, .client = u->c, .absent = "InvalidInstanceID.NotFound" });
	as = kit_add(rd, &(struct kit_spec){ .step = "read-auto-scaling", .service = "autoscaling",
		.op = "DescribeAutoScalingInstances", .target = u->t.instance, .kind = RESP_READ,
		.in = sg_ids("InstanceIds", u->t.instance), .client = u->c });
	in = cJSON_CreateObject();
	v = sg_filter(in, "group-name", NULL);
	cJSON_AddItemToArray(v, cJSON_CreateString(IQ_SG_QUARANTINE));
	cJSON_AddItemToArray(v, cJSON_CreateString(IQ_SG_UNTRACK));
	rs->groups = kit_add(rd, &(struct kit_spec){ .step = "describe-firebreak-groups", .service = "ec2",
		.op = "DescribeSecurityGroups", .target = IQ_SG_QUARANTINE, .kind = RESP_READ, .in = in,
		.client = u->c });
	in = cJSON_CreateObject();
	sg_filter(in, "tag:firebreak:incident", u->r.incident_id);
	v = cJSON_AddArrayToObject(in, "Owner");
	cJSON_AddItemToArray(v, cJSON_CreateString("self"));
	rs->snaps = kit_add(rd, &(struct kit_spec){ .step = "describe-incident-snapshots", .service = "ec2",
		.op = "DescribeSnapshots", .target = u->t.instance, .kind = RESP_READ, .in = in, .client = u->c });
	rc = kit_run(rd);
	if (rc != FB_OK && !kit_ok(di))
		return 0;
	if (!kit_found(di)) {
		resp_skip(&u->r, "instance %s not found in %s", u->t.instance, aws_client_region(u->c));
		return 0;
	}
	u->inst_out = cJSON_Duplicate(kit_out(di), 1);
	rc = u->inst_out ? iq_instance_from_json(u->inst_out, &u->in) : FB_E_NOMEM;
	if (rc == FB_E_NOTFOUND) {
		resp_skip(&u->r, "instance %s not found in %s", u->t.instance, aws_client_region(u->c));
		return 0;
	}
	if (rc != FB_OK || strcmp(u->in.id, u->t.instance)) {
		kit_fail(di, "the answer does not describe %s as expected (%s)", u->t.instance,
			 rc == FB_E_TOO_LARGE ? "more interfaces, groups or volumes than handled" : "unreadable");
		return 0;
	}
	kit_detail(di, "%s, %zu network interface(s), %zu EBS volume(s)", u->in.state, u->in.neni, u->in.nvol);
	report_instance(u);
	/* Required reads: without them the undo of their writes is unknown,
	 * or whether a group or a snapshot already exists. */
	if (!kit_ok(ta) || !kit_ok(as) || !kit_ok(rs->groups) || !kit_ok(rs->snaps))
		return 0;
	u->termination_on = resp_get_str(kit_out(ta), "disableApiTermination.value") &&
			    !strcmp(resp_get_str(kit_out(ta), "disableApiTermination.value"), "true");
	asi = cJSON_GetArrayItem(resp_get(kit_out(as), "AutoScalingInstances"), 0);
	if (cJSON_IsObject(asi)) {
		snprintf(u->asg, sizeof(u->asg), "%s", resp_get_str(asi, "AutoScalingGroupName") ?
			 resp_get_str(asi, "AutoScalingGroupName") : "");
		snprintf(u->asg_state, sizeof(u->asg_state), "%s", resp_get_str(asi, "LifecycleState") ?
			 resp_get_str(asi, "LifecycleState") : "");
		kit_detail(as, "in Auto Scaling group %s (%s)", u->asg, u->asg_state);
	} else {
		kit_detail(as, "not in an Auto Scaling group");
	}
	return 1;
}

/* ---- decide: trusted, exempt ---------------------------------------------------------------- */

/* 1 when the exemption tag is honoured (the run is then a skip). */
static int exempt(struct iq_run *u)
{
	struct prov_history h;
	struct prov_query q;
	cJSON *one;
	char detail[200], why[PROV_REASON_LEN];
	int idx, honoured;
	enum fb_err rc;
	int64_t created = resp_parse_time_ms(u->in.launch_time);

	if (!prov_tag_true(u->in.tags, "firebreak:exempt"))
		return 0;
	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	q.trigger_ms = u->r.event_time_ms ? u->r.event_time_ms : u->r.received_ms;
	/* A finding is not a CloudTrail record and has no actor: only a tag
	 * with a clean history (or a trusted setter) counts (prov.h). */
	q.trigger_event_id = NULL;
	q.trigger_actor = NULL;
	q.min_age_ms = u->st->fn.cfg.tag_min_age_ms;
	q.created_ms = created > 0 ? created : 0;
	q.trust = &u->st->fn.cfg;
	/* CloudTrail names EC2 resources by id (ResourceName i-...). */
	idx = resp_step_begin(&u->r, "tag-provenance", "cloudtrail:LookupEvents", u->in.id, RESP_READ);
	resp_step_optional(&u->r, idx);
	rc = prov_history_read(u->c, u->in.id, 0, u->ctx->deadline_ms ? u->ctx->deadline_ms - 5000 : 0,
			       u->t.account[0] ? u->t.account : NULL, &h);
	prov_query_from_history(&q, &h);
	snprintf(detail, sizeof(detail), "%d event(s), %s", h.events ? cJSON_GetArraySize(h.events) : 0,
		 h.complete ? "complete" : "incomplete");
	resp_step_end(&u->r, idx, rc == FB_OK ? RESP_DONE : RESP_FAILED, detail, NULL);
	one = cJSON_CreateArray();
	honoured = prov_decide_tag(h.events, &q, "firebreak:exempt", prov_tag_value(u->in.tags, "firebreak:exempt"),
				   why, sizeof(why), one) == PROV_HONOURED;
	cJSON_AddItemToObject(u->r.extra, "exemption", cJSON_DetachItemFromArray(one, 0));
	cJSON_Delete(one);
	prov_history_cleanup(&h);
	if (honoured)
		resp_skip(&u->r, "instance tagged firebreak:exempt=true (%s): not touched", why);
	else
		resp_warn(&u->r, "tag firebreak:exempt=true on the instance was not honoured: %s", why);
	return honoured;
}

/* ---- round 2: what the isolation and the snapshots need to know ----------------------- */

static struct iq_vpc *vpc_of(struct iq_run *u, const char *vpc)
{
	size_t i;

	for (i = 0; i < u->nvpc; i++)
		if (!strcmp(u->vpc[i].g.vpc, vpc))
			return &u->vpc[i];
	return NULL;
}


/* The instance's VPCs (its interfaces'). */
static void list_vpcs(struct iq_run *u)
{
	size_t i;

	for (i = 0; i < u->in.neni; i++) {
		if (vpc_of(u, u->in.eni[i].vpc) || u->nvpc == IQ_MAX_VPCS)
			continue;
		snprintf(u->vpc[u->nvpc].g.vpc, sizeof(u->vpc[0].g.vpc), "%s", u->in.eni[i].vpc);
		u->nvpc++;
	}
}

/* Reads containment does not wait for: one round once the instance is
 * isolated (before a stop: the console output would end with it). */
static void read_context(struct iq_run *u, struct kit_round *rd, struct reads *s, int revoke)
{
	cJSON *in, *v;
	size_t i, j;

	/* The groups it carries now: evidence ("before"), not a decision
	 * (the swaps change the interfaces, never these groups). */
	in = cJSON_CreateObject();
	v = cJSON_AddArrayToObject(in, "GroupId");
	for (i = 0; i < u->in.neni; i++)
		for (j = 0; j < u->in.eni[i].ngroups; j++)
			cJSON_AddItemToArray(v, cJSON_CreateString(u->in.eni[i].groups[j]));
	s->before = kit_add(rd, &(struct kit_spec){ .step = "describe-groups-before", .service = "ec2",
		.op = "DescribeSecurityGroups", .target = u->in.id, .kind = RESP_READ, .optional = 1,
		.in = in, .client = u->c });
	if (!cJSON_GetArraySize(v))
		kit_skip(s->before, "no security groups");
	/* Evidence: the console as it is now (a stop would end it), and
	 * whether a complete set of this incident is already kept. */
	if (u->st->fn.evcfg.bucket) {
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "InstanceId", u->in.id);
		s->console = kit_add(rd, &(struct kit_spec){ .step = "read-console-output", .service = "ec2",
			.op = "GetConsoleOutput", .target = u->in.id, .kind = RESP_READ, .optional = 1,
			.in = in, .client = u->c });
	}
	s->evcheck = evidence_check(&u->ev, rd);
	/* The role and who else holds it, only when it may be revoked. */
	if (revoke && u->in.profile_arn[0]) {
		const char *name = strrchr(u->in.profile_arn, '/');

		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "InstanceProfileName", name ? name + 1 : u->in.profile_arn);
		s->profile = kit_add(rd, &(struct kit_spec){ .step = "read-instance-profile", .service = "iam",
			.op = "GetInstanceProfile", .target = u->in.profile_arn, .kind = RESP_READ,
			.optional = 1, .in = in, .client = u->c });
		in = cJSON_CreateObject();
		sg_filter(in, "iam-instance-profile.arn", u->in.profile_arn);
		s->peers = kit_add(rd, &(struct kit_spec){ .step = "read-profile-peers", .service = "ec2",
			.op = "DescribeInstances", .target = u->in.profile_arn, .kind = RESP_READ,
			.optional = 1, .in = in, .client = u->c });
	}
}

/* The names and reuse decision of each VPC's two groups. */
static void decide_groups(struct iq_run *u, const cJSON *items)
{
	size_t i;

	for (i = 0; i < u->nvpc; i++) {
		struct iq_vpc *v = &u->vpc[i];

		iq_vpc_groups_pick(items, &v->g);
		snprintf(v->qname, sizeof(v->qname), "%s", IQ_SG_QUARANTINE);
		snprintf(v->uname, sizeof(v->uname), "%s", IQ_SG_UNTRACK);
		/* A group of our name with other rules is someone's: never
		 * changed; this incident makes its own (its name is unique
		 * to the incident, so a retry finds it by that name). */
		if (v->g.quarantine == IQ_GRP_UNFIT) {
			snprintf(v->qname, sizeof(v->qname), "%s-%s", IQ_SG_QUARANTINE, u->r.incident_id);
			resp_warn(&u->r, "security group %s (%s) in %s has rules: not used, not changed; "
				  "this incident uses %s", IQ_SG_QUARANTINE, v->g.quarantine_id, v->g.vpc, v->qname);
			v->g.quarantine = IQ_GRP_ABSENT;
		}
		if (v->g.untrack == IQ_GRP_UNFIT) {
			snprintf(v->uname, sizeof(v->uname), "%s-%s", IQ_SG_UNTRACK, u->r.incident_id);
			resp_warn(&u->r, "security group %s (%s) in %s does not allow all traffic both ways: "
				  "not used, not changed; this incident uses %s", IQ_SG_UNTRACK, v->g.untrack_id,
				  v->g.vpc, v->uname);
			v->g.untrack = IQ_GRP_ABSENT;
		}
		v->qid = v->g.quarantine == IQ_GRP_OK ? v->g.quarantine_id : NULL;
		v->uid = v->g.untrack == IQ_GRP_OK ? v->g.untrack_id : NULL;
	}
}

/* ---- round 3: protect, snapshot, create ------------------------------------------------ */

static void protect(struct iq_run *u, struct kit_round *rd)
{
	struct kit_step *s;
	cJSON *in, *a, *m;

	in = cJSON_CreateObject();
	cJSON_AddStringToObject(in, "InstanceId", u->in.id);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(in, "DisableApiTermination"), "Value", 1);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "InstanceId", u->in.id);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(a, "DisableApiTermination"), "Value", 0);
	s = kit_add(rd, &(struct kit_spec){ .step = "protect-termination", .service = "ec2",
		.op = "ModifyInstanceAttribute", .target = u->in.id, .kind = RESP_WRITE, .in = in,
		.restore = kit_undo_step("protect-termination", "ec2:ModifyInstanceAttribute", a),
		.client = u->c, .detail = "termination protection on" });
	if (u->termination_on)
		kit_already(s, "termination protection is on");

	m = iq_dot_mappings(&u->in, 0);
	in = cJSON_CreateObject();
	cJSON_AddStringToObject(in, "InstanceId", u->in.id);
	if (m)
		cJSON_AddItemToObject(in, "BlockDeviceMapping", m);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "InstanceId", u->in.id);
	m = iq_dot_mappings(&u->in, 1);
	if (m) {
		/* botocore's name for the undo (the CLI's --cli-input-json). */
		cJSON_AddItemToObject(a, "BlockDeviceMappings", m);
	}
	s = kit_add(rd, &(struct kit_spec){ .step = "keep-volumes", .service = "ec2",
		.op = "ModifyInstanceAttribute", .target = u->in.id, .kind = RESP_WRITE, .in = in,
		.restore = kit_undo_step("keep-volumes", "ec2:ModifyInstanceAttribute", a),
		.client = u->c, .detail = "DeleteOnTermination off for every EBS volume" });
	if (!m)
		kit_already(s, u->in.nvol ? "no volume is deleted on termination" : "no EBS volume");

	in = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(in, "InstanceIds");
	cJSON_AddItemToArray(a, cJSON_CreateString(u->in.id));
	cJSON_AddStringToObject(in, "AutoScalingGroupName", u->asg);
	/* Not decremented: the group launches a replacement and keeps its
	 * size, the service keeps serving, and the suspect instance is no
	 * longer the group's to terminate (health checks, scale-in). */
	cJSON_AddBoolToObject(in, "ShouldDecrementDesiredCapacity", 0);
	a = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(a, "InstanceIds"), cJSON_CreateString(u->in.id));
	cJSON_AddStringToObject(a, "AutoScalingGroupName", u->asg);
	m = kit_undo_step("detach-auto-scaling", "autoscaling:AttachInstances", a);
	if (m)
		cJSON_AddStringToObject(m, "note", "AttachInstances raises the group's desired capacity by one");
	s = kit_add(rd, &(struct kit_spec){ .step = "detach-auto-scaling", .service = "autoscaling",
		.op = "DetachInstances", .target = u->asg[0] ? u->asg : u->in.id, .kind = RESP_WRITE,
		.in = in, .restore = m, .client = u->c,
		.detail = "detached; desired capacity kept (the group launches a replacement)" });
	if (!u->asg[0])
		kit_skip(s, "not in an Auto Scaling group");
	else if (!strncmp(u->asg_state, "Detach", 6))
		kit_already(s, "lifecycle state %s", u->asg_state);
}

static struct kit_step *snapshot(struct iq_run *u, struct kit_round *rd, const cJSON *existing)
{
	struct kit_step *s;
	cJSON *in, *spec, *ts, *tags, *a, *undo;
	char desc[256];
	size_t covered = iq_snapshots_covered(&u->in, existing);

	snprintf(desc, sizeof(desc), "Forensic snapshot - %s - %s", u->r.incident_id, u->in.id);
	in = cJSON_CreateObject();
	spec = cJSON_AddObjectToObject(in, "InstanceSpecification");
	cJSON_AddStringToObject(spec, "InstanceId", u->in.id);
	cJSON_AddBoolToObject(spec, "ExcludeBootVolume", 0);
	cJSON_AddStringToObject(in, "Description", desc);
	ts = cJSON_AddArrayToObject(in, "TagSpecification");
	spec = cJSON_CreateObject();
	cJSON_AddItemToArray(ts, spec);
	cJSON_AddStringToObject(spec, "ResourceType", "snapshot");
	tags = cJSON_AddArrayToObject(spec, "Tag");
	add_tag(tags, "firebreak:incident", u->r.incident_id);
	add_tag(tags, "firebreak:instance", u->in.id);
	if (u->t.is_finding) {
		add_tag(tags, "firebreak:finding-id", u->t.finding_id);
		add_tag(tags, "firebreak:finding-type", u->t.finding_type);
	}
	/* Evidence is not undone by restore[]: the entry says how to find
	 * the snapshots when the investigation is closed. */
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "SnapshotId", "<each snapshot tagged firebreak:incident>");
	undo = kit_undo_step("create-snapshots", "ec2:DeleteSnapshot", a);
	if (undo)
		cJSON_AddStringToObject(undo, "note", "evidence: delete only when the investigation is closed "
					"(aws ec2 describe-snapshots --filters Name=tag:firebreak:incident,Values=<id>)");
	s = kit_add(rd, &(struct kit_spec){ .step = "create-snapshots", .service = "ec2",
		.op = "CreateSnapshots", .target = u->in.id, .kind = RESP_WRITE, .in = in,
		.restore = undo, .client = u->c });
	if (!u->in.nvol)
		kit_skip(s, "no EBS volume");
	else if (covered == u->in.nvol)
		kit_already(s, "every volume has a snapshot for this incident");
	return s;
}

static void create_groups(struct iq_run *u, struct kit_round *rd)
{
	size_t i;

	for (i = 0; i < u->nvpc; i++) {
		struct iq_vpc *v = &u->vpc[i];

		if (!v->qid)
			v->create_q = kit_add(rd, &(struct kit_spec){ .step = "create-quarantine-group",
				.service = "ec2", .op = "CreateSecurityGroup", .target = v->g.vpc,
				.kind = RESP_WRITE, .in = create_group_in(u, v->g.vpc, v->qname, "quarantine"),
				.restore = create_group_undo(v->g.vpc, v->qname), .client = u->c,
				.already = "InvalidGroup.Duplicate",
				.already_detail = "created meanwhile (another invocation): read again" });
		if (!v->uid)
			v->create_u = kit_add(rd, &(struct kit_spec){ .step = "create-untrack-group",
				.service = "ec2", .op = "CreateSecurityGroup", .target = v->g.vpc,
				.kind = RESP_WRITE, .in = create_group_in(u, v->g.vpc, v->uname, "untrack"),
				.restore = create_group_undo(v->g.vpc, v->uname), .client = u->c,
				.already = "InvalidGroup.Duplicate",
				.already_detail = "created meanwhile (another invocation): read again" });
	}
}

/* Two deliveries of one finding (GuardDuty and Security Hub) may create
 * the VPC's group at the same moment: the loser reads it again and uses it
 * only when it is already fit (the winner is still adding or removing its
 * rules otherwise: this run then fails that VPC's isolation, and Lambda's
 * retry finds the group done). Rules are never given to a group this run
 * did not create. */
static void reread_groups(struct iq_run *u)
{
	struct kit_round *rd;
	struct kit_step *s;
	cJSON *in, *v;
	size_t i, dup = 0;

	for (i = 0; i < u->nvpc; i++)
		dup += kit_status(u->vpc[i].create_q) == RESP_ALREADY || kit_status(u->vpc[i].create_u) == RESP_ALREADY;
	if (!dup)
		return;
	rd = kit_round_new(&u->k);
	in = cJSON_CreateObject();
	v = sg_filter(in, "vpc-id", NULL);
	for (i = 0; i < u->nvpc; i++)
		cJSON_AddItemToArray(v, cJSON_CreateString(u->vpc[i].g.vpc));
	v = sg_filter(in, "group-name", NULL);
	cJSON_AddItemToArray(v, cJSON_CreateString(IQ_SG_QUARANTINE));
	cJSON_AddItemToArray(v, cJSON_CreateString(IQ_SG_UNTRACK));
	s = kit_add(rd, &(struct kit_spec){ .step = "describe-firebreak-groups-again", .service = "ec2",
		.op = "DescribeSecurityGroups", .target = u->in.vpc[0] ? u->in.vpc : u->in.id,
		.kind = RESP_READ, .in = in, .client = u->c });
	kit_run(rd);
	for (i = 0; i < u->nvpc; i++) {
		struct iq_vpc *x = &u->vpc[i];
		struct iq_vpc_groups g = x->g;

		iq_vpc_groups_pick(resp_get(kit_out(s), "securityGroupInfo"), &g);
		if (kit_status(x->create_q) == RESP_ALREADY) {
			x->create_q = NULL;
			memcpy(x->g.quarantine_id, g.quarantine_id, sizeof(g.quarantine_id));
			x->qid = g.quarantine == IQ_GRP_OK ? x->g.quarantine_id : NULL;
		}
		if (kit_status(x->create_u) == RESP_ALREADY) {
			x->create_u = NULL;
			memcpy(x->g.untrack_id, g.untrack_id, sizeof(g.untrack_id));
			x->uid = g.untrack == IQ_GRP_OK ? x->g.untrack_id : NULL;
		}
		if (!x->qid || !x->uid)
			resp_warn(&u->r, "%s: a firebreak group was being created by another invocation and is not "
				  "ready: the retry will use it", x->g.vpc);
	}
	/* The ids are copied: the round can go. */
	kit_round_free(rd);
}

/* The id a create step made ("" under dry run or on failure). */
static const char *created_id(struct kit_step *s)
{
	const char *id = resp_get_str(kit_out(s), "groupId");

	if (id)
		kit_detail(s, "%s", id);
	return id;
}

/* Round 4: a new quarantine group loses its default egress rule (no rules
 * at all); a new untrack group gets all traffic both ways. */
static void group_rules(struct iq_run *u, struct kit_round *rd)
{
	size_t i;

	for (i = 0; i < u->nvpc; i++) {
		struct iq_vpc *v = &u->vpc[i];
		struct kit_step *s;
		const char *id;

		if (v->create_q) {
			id = created_id(v->create_q);
			v->qid = id;
			s = kit_add(rd, &(struct kit_spec){ .step = "revoke-quarantine-egress", .service = "ec2",
				.op = "RevokeSecurityGroupEgress", .target = id ? id : v->qname,
				.kind = RESP_WRITE, .in = rule_in(id ? id : "", 1, 0),
				.restore = kit_undo("ec2:AuthorizeSecurityGroupEgress", rule_in(id ? id : v->qname, 1, 0)),
				.client = u->c, .already = "InvalidPermission.NotFound",
				.detail = "the quarantine group has no rules" });
			if (!id && !u->r.dry_run)
				kit_skip(s, "the group was not created");
		}
		if (v->create_u) {
			id = created_id(v->create_u);
			v->uid = id;
			s = kit_add(rd, &(struct kit_spec){ .step = "open-untrack-ingress", .service = "ec2",
				.op = "AuthorizeSecurityGroupIngress", .target = id ? id : v->uname,
				.kind = RESP_WRITE, .in = rule_in(id ? id : "", 1, 1),
				.restore = kit_undo("ec2:RevokeSecurityGroupIngress", rule_in(id ? id : v->uname, 1, 1)),
				.client = u->c, .already = "InvalidPermission.Duplicate" });
			if (!id && !u->r.dry_run)
				kit_skip(s, "the group was not created");
			/* CreateSecurityGroup already allows all egress to 0.0.0.0/0. */
			s = kit_add(rd, &(struct kit_spec){ .step = "open-untrack-egress", .service = "ec2",
				.op = "AuthorizeSecurityGroupEgress", .target = id ? id : v->uname,
				.kind = RESP_WRITE, .in = rule_in(id ? id : "", 0, 1),
				.restore = kit_undo("ec2:RevokeSecurityGroupEgress", rule_in(id ? id : v->uname, 0, 1)),
				.client = u->c, .already = "InvalidPermission.Duplicate" });
			if (!id && !u->r.dry_run)
				kit_skip(s, "the group was not created");
		}
	}
}

/* ---- rounds 5 and 6: the two swaps ---------------------------------------------------- */

/* The untrack swap of every interface not isolated yet. 0 when a VPC's
 * groups are not usable (then nothing is swapped in it). */
static void swap_untrack(struct iq_run *u, struct kit_round *rd, struct kit_step **steps)
{
	size_t i;

	for (i = 0; i < u->in.neni; i++) {
		const struct sg_eni *e = &u->in.eni[i];
		struct iq_vpc *v = vpc_of(u, e->vpc);
		int dry = u->r.dry_run;

		steps[i] = NULL;
		if (!v || (!dry && !v->qid))
			continue; /* the swap to quarantine reports it */
		if (!dry && !v->uid) {
			/* Isolating without it would leave tracked connections
			 * open: the quarantine swap still runs (new connections
			 * are cut), and this line says what is missing. */
			int idx = resp_step_begin(&u->r, "untrack-connections", "ec2:ModifyNetworkInterfaceAttribute",
						  e->id, RESP_WRITE);

			resp_step_end(&u->r, idx, RESP_FAILED, "no usable untrack group in the VPC", NULL);
			continue;
		}
		steps[i] = kit_add(rd, &(struct kit_spec){ .step = "untrack-connections", .service = "ec2",
			.op = "ModifyNetworkInterfaceAttribute", .target = e->id, .kind = RESP_WRITE,
			.in = sg_swap_in(e->id, v->uid ? v->uid : v->uname), .restore = sg_swap_undo(NULL, e->id, sg_eni_groups(e)),
			.client = u->c, .detail = "all-traffic group: EC2 stops tracking its flows" });
		if (iq_eni_isolated(e, v->qid))
			kit_already(steps[i], "carries only %s", v->qid);
	}
}

static size_t swap_quarantine(struct iq_run *u, struct kit_round *rd, struct kit_step **steps,
			      struct kit_step **untrack)
{
	size_t i, n = 0;

	for (i = 0; i < u->in.neni; i++) {
		const struct sg_eni *e = &u->in.eni[i];
		struct iq_vpc *v = vpc_of(u, e->vpc);

		if (!v || (!u->r.dry_run && !v->qid)) {
			/* A declared isolation that cannot happen is a failure,
			 * not a skip: the line says so and nothing is sent. */
			int idx = resp_step_begin(&u->r, "isolate", "ec2:ModifyNetworkInterfaceAttribute",
						  e->id, RESP_WRITE);

			resp_step_end(&u->r, idx, RESP_FAILED, "no usable quarantine group in the VPC", NULL);
			steps[i] = NULL;
			continue;
		}
		steps[i] = kit_add(rd, &(struct kit_spec){ .step = "isolate", .service = "ec2",
			.op = "ModifyNetworkInterfaceAttribute", .target = e->id, .kind = RESP_WRITE,
			.in = sg_swap_in(e->id, v->qid ? v->qid : v->qname),
			/* The undo is the untrack swap's when it was sent. */
			.restore = untrack[i] && kit_status(untrack[i]) != RESP_ALREADY ? NULL : sg_swap_undo(NULL, e->id, sg_eni_groups(e)),
			.client = u->c, .detail = "quarantine group only: no traffic in or out" });
		if (iq_eni_isolated(e, v->qid)) {
			kit_already(steps[i], "carries only %s", v->qid);
			n++;
		}
	}
	return n;
}

static void isolate(struct iq_run *u, struct kit_round *rd3)
{
	struct kit_step *untrack[IQ_MAX_ENIS] = {0}, *iso[IQ_MAX_ENIS] = {0};
	struct kit_round *rd, *rd_u = NULL;   /* rd_u: the untrack steps' round, read until the end */
	size_t i, ok = 0, already = 0, need_groups = 0;
	const char *result;
	cJSON *q, *uo;

	for (i = 0; i < u->nvpc; i++)
		need_groups += !u->vpc[i].qid || !u->vpc[i].uid;
	/* Round 3 (given): the groups exist everywhere -> the untrack swap
	 * joins the protection writes. */
	if (!need_groups) {
		swap_untrack(u, rd3, untrack);
		kit_run(rd3);
	} else {
		kit_run(rd3);
		reread_groups(u);
		rd = kit_round_new(&u->k);
		group_rules(u, rd);
		kit_run(rd);
		kit_round_free(rd);
		rd_u = kit_round_new(&u->k);
		swap_untrack(u, rd_u, untrack);
		kit_run(rd_u);
	}
	for (i = 0; i < u->in.neni; i++)
		if (untrack[i] && kit_status(untrack[i]) == RESP_FAILED)
			resp_warn(&u->r, "interface %s: the all-traffic step failed; connections tracked before "
				  "the quarantine swap may go on until they time out", u->in.eni[i].id);
	rd = kit_round_new(&u->k);
	swap_quarantine(u, rd, iso, untrack);
	kit_run(rd);
	for (i = 0; i < u->in.neni; i++) {
		enum resp_status s = kit_status(iso[i]);

		ok += s == RESP_DONE || s == RESP_ALREADY || s == RESP_PLANNED;
		already += s == RESP_ALREADY;
	}
	kit_round_free(rd);
	kit_round_free(rd_u);
	if (ok == u->in.neni && u->in.neni && !u->r.dry_run) {
		u->isolated_ms = since(u);
		resp_contained(&u->r);
	}
	result = !u->in.neni ? "no-interfaces" : u->r.dry_run ? "planned" :
		 already == u->in.neni ? "already" : ok == u->in.neni ? "isolated" : "failed";
	u->iso = cJSON_AddObjectToObject(u->r.extra, "isolation");
	cJSON_AddStringToObject(u->iso, "result", result);
	cJSON_AddStringToObject(u->iso, "method", "untrack-then-quarantine");
	q = cJSON_AddArrayToObject(u->iso, "quarantine_groups");
	uo = cJSON_AddArrayToObject(u->iso, "untrack_groups");
	for (i = 0; i < u->nvpc; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "vpc", u->vpc[i].g.vpc);
		cJSON_AddStringToObject(o, "name", u->vpc[i].qname);
		cJSON_AddStringToObject(o, "id", u->vpc[i].qid ? u->vpc[i].qid : "");
		cJSON_AddItemToArray(q, o);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vpc", u->vpc[i].g.vpc);
		cJSON_AddStringToObject(o, "name", u->vpc[i].uname);
		cJSON_AddStringToObject(o, "id", u->vpc[i].uid ? u->vpc[i].uid : "");
		cJSON_AddItemToArray(uo, o);
	}
	if (!u->in.neni)
		resp_warn(&u->r, "the instance has no network interface: nothing to isolate");
}

/* ---- after isolation ----------------------------------------------------------------------- */

static void report_snapshots(struct iq_run *u, struct kit_step *s, const cJSON *existing)
{
	cJSON *o = cJSON_AddObjectToObject(u->r.extra, "snapshots"), *ids = cJSON_AddArrayToObject(o, "items");
	const cJSON *set = kit_status(s) == RESP_DONE ? resp_get(kit_out(s), "snapshotSet") : existing, *it;

	cJSON_AddStringToObject(o, "status", resp_status_name(kit_status(s)));
	cJSON_ArrayForEach(it, (cJSON_IsArray(set) ? set : NULL)) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "snapshot", resp_get_str(it, "snapshotId") ? resp_get_str(it, "snapshotId") : "");
		cJSON_AddStringToObject(x, "volume", resp_get_str(it, "volumeId") ? resp_get_str(it, "volumeId") : "");
		cJSON_AddStringToObject(x, "state", resp_get_str(it, "state") ? resp_get_str(it, "state") : "");
		cJSON_AddItemToArray(ids, x);
	}
	if (kit_status(s) == RESP_DONE) {
		const struct resp_step *line = kit_index(s) >= 0 ? &u->r.steps[kit_index(s)] : NULL;

		kit_detail(s, "%d snapshot(s) started (completion is not awaited)", cJSON_GetArraySize(ids));
		if (line)
			u->snap_requested_ms = line->started_ms + line->elapsed_ms;
	}
	cJSON_AddStringToObject(o, "note", "snapshots complete after the invocation; their state here is "
				"as CreateSnapshots answered");
}

/* Snapshot lock (FIREBREAK_SNAPSHOT_LOCK_DAYS): one LockSnapshot per
 * snapshot listed in the report, concurrently. Optional steps: the lock
 * protects evidence already taken, and its failure must not turn a
 * contained instance into an error; the report says which snapshots are
 * not locked instead (snapshots.lock, and a warning). */
static void lock_snapshots(struct iq_run *u, struct kit_step *snap)
{
	const struct iq_settings *set = &u->st->set;
	cJSON *o = cJSON_GetObjectItemCaseSensitive(u->r.extra, "snapshots"), *lk, *locked, *not_locked;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items"), *it;
	struct kit_step *s[IQ_MAX_VOLUMES + 1] = { 0 };
	struct kit_round *rd;
	int n = 0, compliance = !strcmp(set->lock_mode, "compliance"), i = 0;

	if (!set->lock_days || !o)
		return;
	lk = cJSON_AddObjectToObject(o, "lock");
	cJSON_AddStringToObject(lk, "mode", set->lock_mode);
	cJSON_AddNumberToObject(lk, "days", set->lock_days);
	locked = cJSON_AddArrayToObject(lk, "locked");
	not_locked = cJSON_AddArrayToObject(lk, "not_locked");
	rd = kit_round_new(&u->k);
	cJSON_ArrayForEach(it, items) {
		const char *sid = resp_get_str(it, "snapshot");
		cJSON *in, *a, *undo;

		if (!sid || !*sid || n >= IQ_MAX_VOLUMES)
			continue;
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "SnapshotId", sid);
		cJSON_AddStringToObject(in, "LockMode", set->lock_mode);
		cJSON_AddNumberToObject(in, "LockDuration", set->lock_days);
		a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "SnapshotId", sid);
		undo = kit_undo("ec2:UnlockSnapshot", a);
		if (undo && compliance)
			cJSON_AddStringToObject(undo, "note", "compliance mode: no one can unlock it before it "
						"expires (LockSnapshot without a cool-off period)");
		s[n++] = kit_add(rd, &(struct kit_spec){ .step = "lock-snapshot", .service = "ec2",
			.op = "LockSnapshot", .target = sid, .kind = RESP_WRITE, .in = in, .optional = 1,
			.restore = undo, .client = u->c });
	}
	if (!n && u->r.dry_run && kit_status(snap) == RESP_PLANNED) {
		cJSON *in = cJSON_CreateObject();

		/* the ids are known once CreateSnapshots answers: plan one line */
		cJSON_AddStringToObject(in, "SnapshotId", "<each snapshot created>");
		cJSON_AddStringToObject(in, "LockMode", set->lock_mode);
		cJSON_AddNumberToObject(in, "LockDuration", set->lock_days);
		s[n++] = kit_add(rd, &(struct kit_spec){ .step = "lock-snapshot", .service = "ec2",
			.op = "LockSnapshot", .target = "<each snapshot created>", .kind = RESP_WRITE, .in = in,
			.optional = 1, .client = u->c });
	}
	kit_run(rd);
	cJSON_ArrayForEach(it, items) {
		const char *sid = resp_get_str(it, "snapshot");

		if (!sid || !*sid || i >= n)
			continue;
		if (kit_status(s[i]) == RESP_DONE || kit_status(s[i]) == RESP_ALREADY) {
			cJSON_AddItemToArray(locked, cJSON_CreateString(sid));
			kit_detail(s[i], "locked (%s, %d days)", set->lock_mode, set->lock_days);
		} else if (kit_status(s[i]) != RESP_PLANNED) {
			cJSON_AddItemToArray(not_locked, cJSON_CreateString(sid));
		}
		i++;
	}
	if (cJSON_GetArraySize(not_locked))
		resp_warn(&u->r, "evidence not locked: %d snapshot(s) have no snapshot lock (see snapshots.lock)",
			  cJSON_GetArraySize(not_locked));
	else if (!cJSON_GetArraySize(items) && !u->r.dry_run && kit_status(snap) != RESP_SKIPPED)
		resp_warn(&u->r, "evidence not locked: no snapshot to lock");
	kit_round_free(rd);
}

static void stop_instance(struct iq_run *u, struct kit_step *snap)
{
	struct kit_round *rd;
	struct kit_step *s;

	if (!u->st->set.stop_after_snapshot)
		return;
	rd = kit_round_new(&u->k);
	s = kit_add(rd, &(struct kit_spec){ .step = "stop-instance", .service = "ec2",
		.op = "StopInstances", .target = u->in.id, .kind = RESP_WRITE,
		.in = sg_ids("InstanceId", u->in.id),
		.restore = kit_undo("ec2:StartInstances", sg_ids("InstanceIds", u->in.id)), .client = u->c,
		.detail = "stopping (after the snapshots were started)" });
	/* Memory is evidence too: stop only once the disks are captured. */
	if (kit_status(snap) != RESP_DONE && kit_status(snap) != RESP_ALREADY &&
	    kit_status(snap) != RESP_PLANNED && kit_status(snap) != RESP_SKIPPED)
		kit_skip(s, "the snapshots were not taken: the instance is left running");
	else if (!strcmp(u->in.state, "stopped") || !strcmp(u->in.state, "stopping"))
		kit_already(s, "instance is %s", u->in.state);
	kit_run(rd);
	kit_round_free(rd);
}

static void revoke_role(struct iq_run *u, struct kit_step *profile, struct kit_step *peers)
{
	const cJSON *role = cJSON_GetArrayItem(resp_get(kit_out(profile), "InstanceProfile.Roles"), 0);
	const char *arn = resp_get_str(role, "Arn");
	cJSON *br;
	const cJSON *it, *inst;
	int others = 0;

	br = cJSON_AddObjectToObject(u->r.extra, "role_revocation");
	if (!arn) {
		resp_warn(&u->r, "credential finding but the instance profile's role could not be read: "
			  "its sessions were not revoked");
		cJSON_AddStringToObject(br, "result", "unknown-role");
		return;
	}
	snprintf(u->role_arn, sizeof(u->role_arn), "%s", arn);
	cJSON_AddStringToObject(br, "role", arn);
	/* Blast radius: every other instance with the same profile loses the
	 * sessions it holds now (it gets new ones from IMDS in minutes). */
	cJSON_ArrayForEach(it, resp_get(kit_out(peers), "reservationSet")) {
		cJSON_ArrayForEach(inst, resp_get(it, "instancesSet")) {
			if (resp_get_str(inst, "instanceId") && strcmp(resp_get_str(inst, "instanceId"), u->in.id))
				others++;
		}
	}
	if (kit_ok(peers))
		cJSON_AddNumberToObject(br, "other_instances_with_profile", others);
	else
		cJSON_AddNullToObject(br, "other_instances_with_profile");
	kit_revoke_sessions(&u->k, &(struct kit_revoke){ .role_arn = arn,
		.not_before_ms = u->r.event_time_ms ? u->r.event_time_ms : u->r.received_ms, .client = u->c });
}

/* ---- evidence -------------------------------------------------------------------------------- */

/* Write-once (runtime/evidence.h): restore.json claims the attempt; then
 * the finding, the instance before (DescribeInstances as read) and after
 * (read again now: the groups after), the groups it carried, the console
 * output, the snapshots; then the manifest. */
static void keep_evidence(struct iq_run *u, struct reads *rs)
{
	static const char *const names[] = { "restore.json", "finding.json", "instance-before.json",
					      "instance-after.json", "security-groups-before.json",
					      "console-output.json", "snapshots.json", "manifest.json", NULL };
	cJSON *out = cJSON_AddObjectToObject(u->r.extra, "evidence");
	struct kit_round *rd;
	struct kit_step *after;

	if (!evidence_open(&u->ev, cJSON_GetArraySize(u->r.restore) > 0, u->r.restore, out)) {
		if (!u->st->fn.evcfg.bucket)
			resp_warn(&u->r, "no evidence bucket configured (FIREBREAK_EVIDENCE_BUCKET): the instance "
				  "description, console output and finding were not kept in S3");
		return;
	}
	rd = kit_round_new(&u->k);
	after = kit_add(rd, &(struct kit_spec){ .step = "describe-instance-after", .service = "ec2",
		.op = "DescribeInstances", .target = u->in.id, .kind = RESP_READ, .optional = 1,
		.in = sg_ids("InstanceId", u->in.id), .client = u->c });
	kit_run(rd);
	if (u->t.finding)
		evidence_add_json(&u->ev, "finding.json", u->t.finding);
	evidence_add_json(&u->ev, "instance-before.json", u->inst_out);
	if (kit_ok(after))
		evidence_add_json(&u->ev, "instance-after.json", kit_out(after));
	if (kit_ok(rs->before))
		evidence_add_json(&u->ev, "security-groups-before.json", kit_out(rs->before));
	if (kit_ok(rs->console))
		evidence_add_json(&u->ev, "console-output.json", kit_out(rs->console));
	if (cJSON_GetObjectItemCaseSensitive(u->r.extra, "snapshots"))
		evidence_add_json(&u->ev, "snapshots.json", cJSON_GetObjectItemCaseSensitive(u->r.extra, "snapshots"));
	kit_round_free(rd);
	evidence_put(&u->ev);
	evidence_finish(&u->ev, names, out);
}

/* ---- the handler ----------------------------------------------------------------------------- */

static void run(struct iq_run *u)
{
	struct kit_round *rd1 = kit_round_new(&u->k), *rd3 = NULL, *rdc = NULL;
	struct reads rs = {0};
	struct kit_step *snap;
	const cJSON *existing = NULL;
	int credential = u->t.is_finding && iq_credential_finding(u->t.finding_type);
	int revoke = credential && u->st->set.revoke_role;
	char arnbuf[160];

	if (!read_instance(u, rd1, &rs))
		goto out;
	snprintf(arnbuf, sizeof(arnbuf), "arn:%s:ec2:%s:%s:instance/%s", kit_partition(&u->k),
		 aws_client_region(u->c), u->t.account[0] ? u->t.account :
		 (kit_own_account(&u->k) ? kit_own_account(&u->k) : ""), u->in.id);
	resp_set_resource(&u->r, arnbuf, u->t.account[0] ? u->t.account : NULL, aws_client_region(u->c));
	if (!strcmp(u->in.state, "terminated") || !strcmp(u->in.state, "shutting-down")) {
		resp_skip(&u->r, "instance is %s: nothing left to isolate or keep", u->in.state);
		goto out;
	}
	if (u->in.profile_arn[0] && resp_is_trusted(&u->st->fn.cfg, u->in.profile_arn)) {
		resp_skip(&u->r, "instance profile %s is a trusted principal: not touched", u->in.profile_arn);
		goto out;
	}
	if (exempt(u))
		goto out;
	list_vpcs(u);
	decide_groups(u, resp_get(kit_out(rs.groups), "securityGroupInfo"));
	existing = resp_get(kit_out(rs.snaps), "snapshotSet");

	rd3 = kit_round_new(&u->k);
	protect(u, rd3);
	snap = snapshot(u, rd3, existing);
	create_groups(u, rd3);
	isolate(u, rd3);
	rdc = kit_round_new(&u->k);
	read_context(u, rdc, &rs, revoke);
	kit_run(rdc);
	evidence_checked(&u->ev, rs.evcheck);
	if (kit_ok(rs.before))
		cJSON_AddItemToObject(u->r.extra, "security_groups_before",
				      cJSON_Duplicate(resp_get(kit_out(rs.before), "securityGroupInfo"), 1));
	report_snapshots(u, snap, existing);
	lock_snapshots(u, snap);
	stop_instance(u, snap);
	if (revoke) {
		if (!u->in.profile_arn[0])
			resp_warn(&u->r, "credential finding, but the instance has no instance profile: no role to revoke");
		else
			revoke_role(u, rs.profile, rs.peers);
	}
	keep_evidence(u, &rs);
out:
	kit_round_free(rdc);
	kit_round_free(rd3);
	kit_round_free(rd1);
}

static void set_verdict(struct iq_run *u)
{
	const char *res;

	if (resp_failed(&u->r) || u->r.dry_run || u->r.skipped || !u->iso)
		return;
	res = resp_get_str(u->iso, "result");
	if (res && !strcmp(res, "already"))
		resp_set_verdict(&u->r, "already-contained");
	else if (res && !strcmp(res, "isolated"))
		resp_set_verdict(&u->r, "contained");
}

/* The contract's timings say when containment was reached (resp_contained
 * at the last quarantine swap); this says the same from receipt and how
 * long the snapshots took to be started. Snapshots complete later. */
static void report_timings(struct iq_run *u)
{
	cJSON *t = cJSON_AddObjectToObject(u->r.extra, "phase_timings");

	if (u->isolated_ms)
		cJSON_AddNumberToObject(t, "isolated_ms", (double)u->isolated_ms);
	else
		cJSON_AddNullToObject(t, "isolated_ms");
	if (u->snap_requested_ms)
		cJSON_AddNumberToObject(t, "snapshots_requested_ms", (double)u->snap_requested_ms);
	else
		cJSON_AddNullToObject(t, "snapshots_requested_ms");
	cJSON_AddStringToObject(t, "snapshots_completed", "not awaited (snapshots.items[].state)");
}

/* One invocation as the frame holds it: the event, its class, the run
 * (its report and kit are the frame's). */
struct iq_call {
	cJSON *root;                       /* owned: the event */
	enum iq_parse p;
	char why[300];                     /* IQ_PARSE_INVALID / IQ_PARSE_IGNORE: why */
	struct iq_run u;
};

/* Strict parse and field checks before any AWS call. */
static enum fb_err iq_event_read(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen)
{
	struct iq_call *ic = c->ev;

	ic->u.st = c->st;
	ic->u.ctx = c->ctx;
	c->r = &ic->u.r;
	c->k = &ic->u.k;
	ic->p = resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ic->root, ic->why, sizeof(ic->why)) != FB_OK
		? IQ_PARSE_INVALID : iq_parse_event(ic->root, ic->u.st->set.min_severity, &ic->u.t, ic->why,
						    sizeof(ic->why));
	snprintf(why, whylen, "%s", ic->why[0] ? ic->why : "not a JSON object");
	return ic->p == IQ_PARSE_INVALID ? FB_E_INVALID : FB_OK;
}

static void iq_event_free(void *ev)
{
	struct iq_call *ic = ev;

	cJSON_Delete(ic->u.inst_out);
	cJSON_Delete(ic->root);
}

static enum fb_err iq_run(struct fn_call *c)
{
	struct iq_call *ic = c->ev;
	struct iq_run *u = &ic->u;
	struct aws_error err;
	cJSON *f;

	resp_set_severity(&u->r, "P1");
	resp_set_resource(&u->r, u->t.instance, u->t.account[0] ? u->t.account : NULL,
			  u->t.region[0] ? u->t.region : NULL);
	if (u->t.is_finding) {
		f = kit_finding(&u->r, u->t.finding_id, u->t.finding_type, u->t.severity, u->t.instance);
		cJSON_AddStringToObject(f, "via", u->t.from_securityhub ? "securityhub" : "guardduty");
	}
	cJSON_AddStringToObject(u->r.extra, "reason", u->t.reason);
	if (ic->p == IQ_PARSE_IGNORE) {
		resp_skip(&u->r, "%s", ic->why);
		return FB_OK;
	}
	memset(&err, 0, sizeof(err));
	u->c = kit_client(&u->k, u->t.account[0] ? u->t.account : NULL, u->t.region[0] ? u->t.region : NULL,
			  "assume-member-role", &err);
	if (!u->c)
		return FB_OK;
	if (u->c != u->st->fn.aws && c->ctx->deadline_ms)
		aws_client_set_deadline(u->c, c->ctx->deadline_ms - IQ_FINISH_RESERVE_MS);
	evidence_init(&u->ev, &u->k, u->st->fn.aws, &u->st->fn.evcfg, c->ctx, "instance_id", u->t.instance);
	run(u);
	evidence_cleanup(&u->ev);
	report_timings(u);
	set_verdict(u);
	return FB_OK;   /* the publish gets the time kept back: .finish_reserve_ms */
}

int main(void)
{
	return fn_main(&(struct fn_responder){ .function = IQ_FN, .margin_ms = IQ_FINISH_RESERVE_MS,
		.finish_reserve_ms = 100,
		.size = sizeof(struct iq_state), .settings = iq_state_settings, .event_size = sizeof(struct iq_call),
		.event_root = offsetof(struct iq_call, root), .event_cleanup = iq_event_free,
		.parse = iq_event_read, .run = iq_run });
}
