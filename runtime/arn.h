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

#endif
