/*
 * instance-quarantine: the pure stages (stages.c) shared by the handler
 * (main.c, on the responder kit) and tests/unit/test_instance_quarantine.c.
 * Prefix iq_. Nothing here does I/O: every input is an AWS answer (as the
 * AWS layer turns EC2's XML into cJSON), the event, or the environment.
 */
#ifndef FB_INSTANCE_QUARANTINE_H
#define FB_INSTANCE_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "fb_err.h"
#include "sg.h"

#define IQ_FN "instance-quarantine"
#define IQ_DEFAULT_MIN_SEVERITY 7.0
/* The two groups firebreak keeps per VPC (README "Isolation"): the
 * quarantine group has no rules at all; the untrack group allows all
 * traffic both ways to 0.0.0.0/0 and ::/0, which is what makes EC2 stop
 * tracking the instance's flows before the quarantine group cuts them. */
#define IQ_SG_QUARANTINE "firebreak-quarantine"
#define IQ_SG_UNTRACK "firebreak-untrack"
/* Instance types go up to 15 network cards x interfaces; 32 is plenty for
 * anything one responder should touch, more is refused (not truncated). */
#define IQ_MAX_ENIS 32
/* EC2's ids fit in 31 bytes: a longer one in an answer reads as
 * unreadable (struct sg_eni has room for more). */
#define IQ_ID_LEN 32
#define IQ_MAX_VOLUMES 64
#define IQ_MAX_VPCS 4

struct iq_settings {
	double min_severity;     /* FIREBREAK_MIN_SEVERITY, default 7.0 */
	int stop_after_snapshot; /* FIREBREAK_STOP_AFTER_SNAPSHOT=true (default false) */
	int revoke_role;         /* FIREBREAK_REVOKE_INSTANCE_ROLE (default true) */
	int lock_days;           /* FIREBREAK_SNAPSHOT_LOCK_DAYS, 1..36500; 0 (default): no lock */
	char lock_mode[16];      /* FIREBREAK_SNAPSHOT_LOCK_MODE: "governance" (default) or "compliance" */
};
/* "true"/"false" only: any other value is FB_E_CONFIG with err filled. */
enum fb_err iq_settings_from_env(struct iq_settings *s, char *err, size_t errlen);

/* What the event asks for. */
struct iq_target {
	char instance[24];       /* i- + 8 or 17 lowercase hex digits */
	char account[16];        /* the finding's account ("" manual / unknown) */
	char region[32];         /* the finding's region, the manual "region" ("" unknown) */
	char reason[256];
	char finding_id[160];
	char finding_type[128];
	double severity;
	int is_finding;
	int from_securityhub;    /* the finding came as a Security Hub imported finding */
	const cJSON *finding;    /* borrowed from the event: the finding object (evidence) */
};
enum iq_parse { IQ_PARSE_OK, IQ_PARSE_INVALID, IQ_PARSE_IGNORE };
/* INVALID: malformed (why says what: a clear error, zero calls); IGNORE:
 * well formed but not ours (not an EC2 instance finding, below min_sev,
 * a Security Hub finding from another product). */
enum iq_parse iq_parse_event(const cJSON *ev, double min_sev, struct iq_target *t,
			     char *why, size_t whylen);
/* "i-" + 8 or 17 lowercase hex digits: the only instance references acted on. */
int iq_instance_id_ok(const char *s);
/* Whether a GuardDuty finding type is about the instance's credentials
 * (then the role's older sessions are revoked): InstanceCredentialExfiltration,
 * MetadataDNSRebind, CredentialAccess:*. */
int iq_credential_finding(const char *type);

struct iq_volume {
	char device[64], volume[32];
	int delete_on_termination;
};
struct iq_instance {
	char id[24], state[32], vpc[32], profile_arn[512], launch_time[40];
	struct sg_eni eni[IQ_MAX_ENIS];   /* id, vpc, groups, group_names, ngroups */
	size_t neni;
	struct iq_volume vol[IQ_MAX_VOLUMES];
	size_t nvol;
	const cJSON *tags;       /* borrowed from the answer: tagSet ({key, value}) */
	const cJSON *json;       /* borrowed: the instance element */
};
/* A DescribeInstances answer (reservationSet / instancesSet). FB_E_NOTFOUND
 * when it holds no instance, FB_E_PARSE when the instance lacks an id, or
 * an interface its id or VPC, FB_E_TOO_LARGE past the caps above. */
enum fb_err iq_instance_from_json(const cJSON *out, struct iq_instance *in);

/* A security group's fitness for each role, from its DescribeSecurityGroups
 * element (ipPermissions / ipPermissionsEgress). */
/* No rule at all in either direction. */
int iq_group_is_empty(const cJSON *sg);
/* Exactly what the untrack step needs and nothing narrower: ingress and
 * egress each allow all protocols from/to 0.0.0.0/0 and ::/0. */
int iq_group_is_open(const cJSON *sg);

/* What the VPC's firebreak groups are. */
enum iq_grp {
	IQ_GRP_ABSENT,           /* no group of that name: create it */
	IQ_GRP_OK,               /* exists, fit for its role: reuse */
	IQ_GRP_UNFIT             /* exists with other rules: never modified, a
				  * per-incident group of our own is used instead */
};
struct iq_vpc_groups {
	char vpc[32];
	enum iq_grp quarantine, untrack;
	char quarantine_id[32], untrack_id[32];
};
/* From the items of DescribeSecurityGroups (Filter vpc-id + group-name of
 * both names), for the VPC g->vpc (other VPCs' groups are ignored). */
void iq_vpc_groups_pick(const cJSON *items, struct iq_vpc_groups *g);

/* An interface already isolated: it carries exactly one group, and it is
 * the VPC's (fit) quarantine group `qid`. */
int iq_eni_isolated(const struct sg_eni *e, const char *qid);

/* The BlockDeviceMapping input (EC2 wire names) that turns
 * DeleteOnTermination off (value 0) or back on (1) for every EBS volume
 * that has it on now; NULL when none has it on. Caller frees. */
cJSON *iq_dot_mappings(const struct iq_instance *in, int value);

/* The snapshots already taken for this incident: DescribeSnapshots items
 * (tag firebreak:incident) -> how many of the instance's volumes have one. */
size_t iq_snapshots_covered(const struct iq_instance *in, const cJSON *snapshots);

/* The handler (main.c). */
struct lr_context;
struct lr_result;

#endif
