/*
 * arn: Amazon Resource Names and the identifier forms that travel in them,
 * checked before any of them reaches a request (a host name, a path, a
 * query). Prefix arn_. Pure: no I/O. Every responder that reads an ARN from
 * an event (attacker data until checked) uses these; kms-guard's key
 * references first.
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

#endif
