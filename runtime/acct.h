/*
 * acct: the account the function runs in, and the client to act with in an
 * account (issue 17: split from resp.c, whose job is the report). Learnt
 * once per container and kept in the responder's settings (struct
 * resp_config own_account and caller_arn), so a warm invocation asks
 * nothing again.
 *
 * The kit wraps all three (kit_own_account, kit_caller_arn, kit_client);
 * a responder on the kit does not call them. tests/infra/iamderive.py
 * grants sts:AssumeRole to the responders whose code reaches
 * acct_client_for (tests/integration/61-infra-iam.py).
 *
 * Dependency: acct reads struct resp (its settings, function name and
 * incident id, for the session name) and resp's syntax checks; resp does
 * not call acct.
 */
#ifndef FB_ACCT_H
#define FB_ACCT_H

#include "aws.h"
#include "fb_err.h"
#include "resp.h"

/* The client to act in `account` (NULL or "": ours) and `region` (NULL or
 * "": the base client's): the base client when it is our own account (or
 * ours is unknown and there is no member role), else STS AssumeRole into
 * FIREBREAK_MEMBER_ROLE of that account (session name
 * "firebreak-<function>-<incident id>", the characters IAM refuses made
 * '-'); a client for another region shares the pool. Without a member
 * role, a foreign account is FB_E_CONFIG (no action). An account that is
 * not an account id, a region that is not a region name
 * (resp_account_id_ok, resp_region_name_ok) is FB_E_INVALID before any
 * call. *owned is set to 1 when the caller must free the returned client;
 * err (may be NULL) says why it failed. */
enum fb_err acct_client_for(struct resp *r, struct aws_client *base, const char *account,
			    const char *region, struct aws_client **out, int *owned,
			    struct aws_error *err);

/* The function's own account, learnt once per container and kept in
 * cfg->own_account: from the function ARN in the invocation context, else
 * sts:GetCallerIdentity with `base`. NULL when neither answers (borrowed
 * from cfg; valid until resp_config_cleanup). */
const char *acct_own_account(struct resp *r, struct aws_client *base);

/* The principal ARN this function runs as (sts:GetCallerIdentity with
 * `base`), asked until it answers once, then kept in cfg->caller_arn.
 * "" when unknown (logged). Borrowed from cfg. */
const char *acct_caller_arn(struct resp *r, struct aws_client *base);

#endif
