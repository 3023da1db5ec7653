/*
 * arn: Amazon Resource Names and the identifier forms that travel in them,
 * checked before any of them reaches a request (a host name, a path, a
 * query). Prefix arn_. Pure: no I/O. Every responder that reads an ARN from
 * an event (attacker data until checked) uses these; kms-guard's key
 * references first, task-quarantine's ECS task and cluster references.
 *
 *   arn:<partition>:<service>:<region>:<account>:<resource>
 *   (IAM User Guide, "IAM identifiers"; the resource may hold ':' and '/')
 */
#ifndef FB_ARN_H
#define FB_ARN_H

#include <stddef.h>

/* An ARN split into its fields (copies), resource borrowed from the text. */
struct arn {
	char partition[16];
	char service[64];
	char region[32];        /* "" for global services (IAM, S3 buckets) */
	char account[16];       /* "" where the ARN names none */
	const char *resource;   /* borrowed: the rest of the text, ':' included */
};

/* 1 when s (may be NULL) starts "arn:" and has the six fields, each of the
 * first five fitting its array; *a filled. Syntax only: the values are
 * checked by the functions below. 0 otherwise (*a zeroed). */
int arn_parse(const char *s, struct arn *a);

/* aws, aws-cn, aws-us-gov: the partitions firebreak runs in. */
int arn_partition_ok(const char *partition);

/* A region name (resp_region_name_ok: us-east-1, us-gov-west-1,
 * ap-southeast-4) that belongs to `partition` (aws-cn: "cn-" regions,
 * aws-us-gov: "us-gov-" regions, aws: neither); partition NULL: any. */
int arn_region_ok(const char *region, const char *partition);

/* KMS KeyId forms (KMS API reference, DescribeKey KeyId), the only ones a
 * key reference from an event may take:
 *   key id       1234abcd-12ab-34cd-56ef-1234567890ab (8-4-4-4-12 hex)
 *   mrk id       mrk- + 32 hex (multi-Region key)
 *   alias name   alias/ + [A-Za-z0-9/_-] (AliasName: at most 256 characters)
 *   key ARN      arn:<partition>:kms:<region>:<12 digits>:key/<key id>
 *   alias ARN    arn:<partition>:kms:<region>:<12 digits>:alias/<name>
 * Anything else (URLs, host:port, "../", spaces, control characters) is
 * refused. ARN_KMS_REF_MAX: KeyId is 1..2048 characters. */
#define ARN_KMS_REF_MAX 2048
#define ARN_KMS_ALIAS_MAX 256
int arn_kms_ref_ok(const char *s);
/* A KMS ARN of a key or an alias (arn_parse, service kms, resource key/...
 * or alias/..., region and account non-empty): region and account in *a.
 * Lenient on the values (arn_kms_ref_ok is the check); 1 when it is one. */
int arn_kms(const char *s, struct arn *a);

/* ---- issue 17, from task-quarantine: fields, the strict head, ECS references ---- */

/* Field `idx` (0 "arn", 1 partition, 2 service, 3 region, 4 account, 5 the
 * resource up to its next ':') of an ARN into out. 0 when s is not an ARN,
 * the field is empty or does not fit (never truncated). */
int arn_field(const char *s, int idx, char *out, size_t outlen);

/* The strict head of an ARN that picks where to act:
 * "arn:<partition [a-z-]{1,16}>:<service>:<region [a-z0-9-]{1,32}>:<12 digits>:"
 * -> the resource that follows (borrowed from s), else NULL. */
const char *arn_rest(const char *s, const char *service);

/* The last '/'-separated part of an ARN (the id in ".../task/<cluster>/<id>");
 * the whole string when it has no '/'. */
const char *arn_tail(const char *s);

/* ECS references. They go into request bodies and pick the account and
 * region to act in, so only ECS's own forms pass: anything else (a URL, a
 * host:port, "../", a look-alike ARN) is refused before any AWS call.
 * A task: its id (32 hex digits, or the UUID of an old-format task), or
 * arn:<partition>:ecs:<region>:<12 digits>:task/<cluster>/<id> or the old
 * task/<id>. A cluster: its name [A-Za-z0-9_-]{1,255} or ...:cluster/<name>.
 * 1 when `s` (may be NULL) is one. */
int arn_ecs_task_ok(const char *s);
int arn_ecs_cluster_ok(const char *s);
/* The cluster ARN a new-format task ARN names (...:task/<cluster>/<id> ->
 * ...:cluster/<cluster>) into out; 0 for a task id, an old-format ARN
 * (task/<id> names no cluster) or when it does not fit. */
int arn_ecs_task_cluster(const char *task, char *out, size_t outlen);

#endif
