/*
 * arn: reading Amazon Resource Names, "arn:<partition>:<service>:<region>:
 * <account>:<resource>" (issue 17: ARN parsing is not a responder's
 * domain; task-quarantine's copy moved here). Prefix arn_. Pure functions,
 * every output a caller's buffer; nothing allocated.
 */
#ifndef FB_ARN_H
#define FB_ARN_H

#include <stddef.h>

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
