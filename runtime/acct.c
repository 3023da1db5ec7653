/*
 * acct: the account the function runs in and the clients it acts with in
 * other accounts (acct.h).
 */
#include "acct.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* arn:aws:lambda:region:ACCOUNT:function:name -> ACCOUNT */
static int account_from_function_arn(const char *arn, char out[16])
{
	const char *p = arn;
	int field;
	size_t n;

	if (!arn || strncmp(arn, "arn:", 4))
		return 0;
	for (field = 0; field < 4; field++) {
		p = strchr(p, ':');
		if (!p)
			return 0;
		p++;
	}
	n = strcspn(p, ":");
	if (n != 12 || p[n] != ':')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* One member of sts:GetCallerIdentity's answer ("Account", "Arn"), copied
 * into *out; the call's failure is logged ("cannot learn own <what> ...")
 * and leaves *out alone. The answer can be absent, then *out is "" when
 * `empty_if_absent` (the call worked: nothing more to learn). */
static void caller_identity(struct aws_client *base, const char *member, const char *what,
			    int empty_if_absent, char **out)
{
	char path[96];
	cJSON *res = NULL;
	struct aws_error err;
	const char *a;

	memset(&err, 0, sizeof(err));
	if (aws_do(base, "sts", "GetCallerIdentity", NULL, &res, &err) == FB_OK) {
		snprintf(path, sizeof(path), "GetCallerIdentityResponse.GetCallerIdentityResult.%s", member);
		a = resp_get_str(res, path);
		if (!a)
			a = resp_get_str(res, path + strlen("GetCallerIdentityResponse."));
		if (a || empty_if_absent)
			*out = strdup(a ? a : "");
	} else {
		log_warn("cannot learn own %s from sts:GetCallerIdentity: %s", what,
			 err.code[0] ? err.code : "no answer");
	}
	cJSON_Delete(res);
}

static void own_account(struct resp *r, struct aws_client *base)
{
	char acct[16];

	if (!r->cfg || r->cfg->own_account)
		return;
	if (r->ctx && account_from_function_arn(r->ctx->function_arn, acct)) {
		r->cfg->own_account = strdup(acct);
		return;
	}
	caller_identity(base, "Account", "account", 0, &r->cfg->own_account);
}

const char *acct_caller_arn(struct resp *r, struct aws_client *base)
{
	if (!r->cfg)
		return "";
	if (!r->cfg->caller_arn)
		caller_identity(base, "Arn", "identity", 1, &r->cfg->caller_arn);
	return r->cfg->caller_arn ? r->cfg->caller_arn : "";
}

const char *acct_own_account(struct resp *r, struct aws_client *base)
{
	own_account(r, base);
	return r->cfg ? r->cfg->own_account : NULL;
}

/* Session names: [\w+=,.@-]{2,64}. */
static void session_name(const struct resp *r, char *out, size_t outlen)
{
	size_t i;

	/* 64 characters at most: "firebreak-" + up to 32 of the function + "-" +
	 * the incident id (19). */
	snprintf(out, outlen, "firebreak-%.32s-%.20s", r->function, r->incident_id);
	for (i = 0; out[i]; i++)
		if (!isalnum((unsigned char)out[i]) && !strchr("_+=,.@-", out[i]))
			out[i] = '-';
}

enum fb_err acct_client_for(struct resp *r, struct aws_client *base, const char *account,
			    const char *region, struct aws_client **out, int *owned,
			    struct aws_error *err)
{
	char role_arn[512], sess[65];
	struct aws_client *assumed = NULL, *regional = NULL;
	int foreign;
	enum fb_err rc;

	*out = NULL;
	*owned = 0;
	if (err)
		memset(err, 0, sizeof(*err));
	/* Both end up in requests (the role ARN, the endpoint host): an
	 * event's crafted value must not get that far. */
	if ((account && *account && !resp_account_id_ok(account)) ||
	    (region && *region && !resp_region_name_ok(region))) {
		if (err)
			snprintf(err->message, sizeof(err->message),
				 "account or region is not an account id / region name");
		return FB_E_INVALID;
	}
	if (account && *account)
		own_account(r, base);
	/* Unknown own account: act through the member role when there is one
	 * (it exists in every account, ours included), else as ourselves. */
	foreign = account && *account &&
		  (!r->cfg || !r->cfg->own_account || strcmp(account, r->cfg->own_account));
	if (foreign && !(r->cfg && r->cfg->member_role)) {
		if (r->cfg && !r->cfg->own_account) {
			foreign = 0;
		} else {
			if (err)
				snprintf(err->message, sizeof(err->message),
					 "account '%s' is not ours and FIREBREAK_MEMBER_ROLE is not set",
					 account);
			return FB_E_CONFIG;
		}
	}
	if (foreign) {
		int n = snprintf(role_arn, sizeof(role_arn), "arn:%s:iam::%s:role/%s",
				 aws_client_partition(base), account, r->cfg->member_role);

		if (n < 0 || (size_t)n >= sizeof(role_arn))
			return FB_E_INVALID;
		session_name(r, sess, sizeof(sess));
		rc = aws_client_assume_role(base, role_arn, sess, &assumed, err);
		if (rc != FB_OK)
			return rc;
	}
	if (region && *region && strcmp(region, aws_client_region(assumed ? assumed : base))) {
		rc = aws_client_for_region(assumed ? assumed : base, region, &regional);
		if (assumed)
			aws_client_free(assumed);
		if (rc != FB_OK)
			return rc;
		*out = regional;
		*owned = 1;
		return FB_OK;
	}
	*out = assumed ? assumed : base;
	*owned = assumed != NULL;
	return FB_OK;
}
