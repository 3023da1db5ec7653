/*
 * sg: EC2 security groups for the responders that isolate a network
 * interface (task-quarantine, instance-quarantine). Prefix sg_.
 *
 * What both wrote for themselves before (issue 17): the inputs of the EC2
 * calls in EC2's wire names (structured query input, aws.h: the AWS layer
 * encodes lists and maps), the reading of EC2's answers as the AWS layer
 * turns their XML into cJSON (camelCase, "" for an empty list), the
 * conversion of described rules back into a request and into the undo a
 * human pastes (`aws ec2 authorize-security-group-egress --cli-input-json`),
 * and the kit sequence of a group with no rules at all. What a group is
 * for, which one to use and when to swap stay the responder's.
 *
 * Ownership: every cJSON * returned is the caller's (cJSON_Delete, or hand
 * it to kit_spec.in / .restore, which take it); arguments are borrowed
 * unless the declaration says "taken".
 */
#ifndef FB_SG_H
#define FB_SG_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "kit.h"
#include "resp.h"

/* An EC2 list member of `o`: the array, or NULL for anything else (the XML
 * layer turns an empty <groupSet/> into ""). Borrowed from o. */
const cJSON *sg_list(const cJSON *o, const char *name);

/* A network interface as EC2 describes it (a networkInterfaceSet element). */
#define SG_MAX_GROUPS 16
struct sg_eni {
	char id[64], vpc[64], subnet[64];
	char groups[SG_MAX_GROUPS][64];
	char group_names[SG_MAX_GROUPS][256];
	size_t ngroups;          /* a group without an id, or past SG_MAX_GROUPS, is left out */
	int requester_managed;
};
/* The first interface of a DescribeNetworkInterfaces answer: FB_E_NOTFOUND
 * when it lists none, FB_E_PARSE when it lacks its id or VPC (an id that
 * does not fit is never cut: it reads as missing). */
enum fb_err sg_eni_from_json(const cJSON *out, struct sg_eni *e);

/* {"<member>": [id]}: DescribeNetworkInterfaces' NetworkInterfaceId,
 * DescribeSecurityGroups' GroupId, ... */
cJSON *sg_ids(const char *member, const char *id);

/* Appends {"Name": name, "Value": [value]} to in's "Filter" list (made
 * when absent) and returns that Value array (borrowed from in) for more
 * values; value NULL: the array starts empty. NULL when out of memory. */
cJSON *sg_filter(cJSON *in, const char *name, const char *value);

/* A CreateSecurityGroup input: GroupName, GroupDescription, VpcId and the
 * tags given at creation (TagSpecification, so the group is never
 * untagged): `tags` is key, value, key, value, ..., NULL. */
cJSON *sg_create_in(const char *name, const char *desc, const char *vpc, const char *const *tags);

/* ModifyNetworkInterfaceAttribute onto the one group `gid`. */
cJSON *sg_swap_in(const char *eni, const char *gid);
/* Its restore[] entry: the interface's groups as they were (`groups`, an
 * array of group ids, taken), botocore's input (Groups); with `step`
 * (kit_undo_step) or without (kit_undo). */
cJSON *sg_swap_undo(const char *step, const char *eni, cJSON *groups);

/* A security group's rules as EC2 describes them (ipPermissions or
 * ipPermissionsEgress: XML turned to JSON, camelCase) -> IpPermissions in
 * the botocore/CLI input shape (IpProtocol, FromPort, ToPort, IpRanges,
 * Ipv6Ranges, PrefixListIds, UserIdGroupPairs with descriptions), the form
 * a human pastes. NULL when a permission has no protocol. */
cJSON *sg_perms_from_ec2(const cJSON *ip_permissions);
/* IpPermissions (botocore shape) -> the same list in EC2's wire names for
 * the AWS layer to encode (UserIdGroupPairs serialise as "Groups"; a pair
 * keeps its UserId: revoking by group needs no owner, re-authorising across
 * accounts does). NULL when a permission lacks its protocol or a list item
 * its key. */
cJSON *sg_perms_wire(const cJSON *perms);

/* The revoke of every egress rule of one group as described (`sg`, a
 * DescribeSecurityGroups securityGroupInfo element): RESP_DONE with the
 * RevokeSecurityGroupEgress input (*in) and, when `undo_step` is set, the
 * restore[] entry (*undo: AuthorizeSecurityGroupEgress of the same rules,
 * botocore shape); RESP_ALREADY when it has no egress rule; RESP_FAILED
 * when the request cannot be built. *in and *undo are NULL otherwise. */
enum resp_status sg_egress_revoke(const cJSON *sg, const char *undo_step, cJSON **in, cJSON **undo);

/* ---- a group with no rules: the kit sequence ---------------------------------- *
 *
 * "create-quarantine-group" (ec2:CreateSecurityGroup, tags at creation) ->
 * "describe-quarantine-group" (DescribeSecurityGroups: its default egress
 * rules, a step of its own so a failed read is reported as the read) ->
 * "revoke-quarantine-egress" (RevokeSecurityGroupEgress of exactly those
 * rules: a VPC with IPv6 also gets ::/0 by default). The group is made
 * once per incident (its name is the incident's): InvalidGroup.Duplicate
 * means an earlier delivery made it, and it is found by name in the VPC
 * (that read gives its rules too). restore[] gets the delete of a group
 * created now (its id is known only then); a group an earlier delivery made
 * has its undo in that delivery's report. The create is made optional when
 * no group came of it: the caller's fallback decides whether that is an
 * error. Writes only: under dry run the caller plans its own lines. */
struct sg_empty {
	const char *name, *desc, *vpc;
	const char *const *tags;        /* sg_create_in's */
	char id[64];                    /* out: the group's id, "" when none */
	int failed;                     /* out: the group exists but still allows egress, or
					 * could not be read: it must not be swapped on */
};
/* Returns 1 when sg->id holds a group with no rules, else 0 (id "" when
 * there is no group at all). */
int sg_empty_group(struct kit *k, struct sg_empty *sg);

/* ---- every egress rule of a set of groups: the kit sequence ------------------------ *
 *
 * The runbook's way when a group cannot be swapped: one round of two reads,
 * `read_step` (DescribeSecurityGroups of the groups, required) and
 * `share_step` (DescribeNetworkInterfaces, Filter group-id: who else
 * carries them, optional); then `decide` (the responder's: never cut a
 * fleet to contain one resource) gets the groups' answer (NULL when it
 * failed; borrowed for the call), whether the sharing was read, its
 * networkInterfaceSet and whether more pages follow, and returns 1 to go
 * ahead. Nothing is revoked when it says no or the groups were not read.
 * Then one "revoke-egress" (RevokeSecurityGroupEgress of every egress rule
 * as described, its undo AuthorizeSecurityGroupEgress of the same rules
 * recorded first) per group, concurrently: a group without egress rules is
 * "already", under dry run every one is planned; none described is a
 * failed line "<what> were not described: nothing revoked". */
struct sg_revoke {
	const char *const *groups;      /* group ids */
	size_t ngroups;                 /* 1..SG_MAX_REVOKE */
	const char *read_step, *share_step, *what;
	int (*decide)(void *arg, const cJSON *groups, int known, const cJSON *interfaces, int more);
	void *arg;
	int revoked;                    /* out: a group's egress was revoked now */
	int complete;                   /* out: groups were described and no revoke failed */
};
#define SG_MAX_REVOKE 16
void sg_revoke_egress(struct kit *k, struct sg_revoke *rv);

/* ---- w4-kc-tq: who else carries the groups; an interface onto an empty group ---- */

/* 1 when every group of `e` is named `prefix`* (and it has one at least):
 * the interface is isolated already by such a group. */
int sg_all_prefixed(const struct sg_eni *e, const char *prefix);

/* The other network interfaces of a DescribeNetworkInterfaces (Filter
 * group-id) networkInterfaceSet, `e`'s own left out, each in the words an
 * on-call engineer knows: network_interface_id, description,
 * interface_type, requester_id and instance_id when set, ecs_service and
 * ecs_cluster (ECS tags its tasks' interfaces with them) and
 * shared_groups (which of e's groups it carries). A new array (caller's;
 * NULL when out of memory). */
cJSON *sg_sharers(const cJSON *interfaces, const struct sg_eni *e);

/* The swap of an interface onto a per-incident group with no rules, the
 * kit sequence: sg_empty_group, then `step` (ModifyNetworkInterfaceAttribute
 * onto that group alone, detail `detail`), its undo the interface's groups
 * as they were, recorded first. Under dry run the three writes are planned
 * (create-quarantine-group, revoke-quarantine-egress, the swap with its
 * undo), nothing is sent. A refused swap changed nothing: it is made
 * optional (the caller's fallback decides whether that is an error), its
 * undo dropped, and why says what the service answered. A group that still
 * allows egress (any required failure so far) is never swapped on. */
enum sg_swap_result {
	SG_SWAP_PLANNED,          /* dry run */
	SG_SWAP_DONE,             /* swapped now */
	SG_SWAP_NO_GROUP,         /* no group came of the create: nothing swapped */
	SG_SWAP_UNSAFE,           /* the group is not known to be empty: nothing swapped */
	SG_SWAP_REFUSED           /* the swap was refused: why */
};
struct sg_swap {
	const struct sg_eni *eni;
	struct sg_empty group;          /* name, desc, vpc, tags; out: id */
	const char *step, *detail;
	char why[300];                  /* out (SG_SWAP_REFUSED): "<code> <message>" */
};
enum sg_swap_result sg_swap_empty(struct kit *k, struct sg_swap *q);
/* An interface's groups as a JSON array of ids (caller's). */
cJSON *sg_eni_groups(const struct sg_eni *e);

/* The interface in the report's words, added to `into`: vpc_id,
 * requester_managed, security_groups [{group_id, group_name}]. */
void sg_eni_report(const struct sg_eni *e, cJSON *into);

#endif
