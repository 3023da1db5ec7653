/* akey: the calls about one IAM access key (akey.h). */
#include <stdio.h>
#include <string.h>

#include "akey.h"
#include "resp.h"

struct kit_step *akey_add(struct kit_round *rd, enum akey_op op, const char *step, const char *id,
			  const char *user, struct aws_client *cl, cJSON *restore)
{
	cJSON *in = cJSON_CreateObject();
	struct kit_spec sp = { .step = step, .target = id, .kind = RESP_READ, .client = cl, .in = in,
			       .restore = restore };

	/* .service and .op literals per operation: the IAM derivation reads them */
	switch (op) {
	case AKEY_INFO: sp.service = "sts", sp.op = "GetAccessKeyInfo"; break;
	case AKEY_LAST_USED: sp.service = "iam", sp.op = "GetAccessKeyLastUsed"; break;
	case AKEY_LIST: sp.service = "iam", sp.op = "ListAccessKeys"; break;
	case AKEY_DEACTIVATE: sp.service = "iam", sp.op = "UpdateAccessKey"; sp.kind = RESP_WRITE; break;
	}
	if (op != AKEY_LIST)
		cJSON_AddStringToObject(in, "AccessKeyId", id);
	if (op == AKEY_LIST || op == AKEY_DEACTIVATE)
		cJSON_AddStringToObject(in, "UserName", user ? user : "");
	if (op == AKEY_DEACTIVATE)
		cJSON_AddStringToObject(in, "Status", "Inactive");
	return kit_add(rd, &sp);
}

cJSON *akey_undo(const char *step, const char *user, const char *id, const char *prior_status,
		 const char *account, const char *role_arn)
{
	cJSON *e = cJSON_CreateObject();
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "aws iam update-access-key --user-name '%s' --access-key-id %s --status Active",
		 user, id);
	if (e && (!cJSON_AddStringToObject(e, "step", step) ||
		  !cJSON_AddStringToObject(e, "api", "iam:UpdateAccessKey") ||
		  !cJSON_AddStringToObject(e, "target", id) || !cJSON_AddStringToObject(e, "prior_status", prior_status) ||
		  !cJSON_AddStringToObject(e, "command", cmd) ||
		  (account && (!cJSON_AddStringToObject(e, "account", account) ||
			       !cJSON_AddStringToObject(e, "role", role_arn))))) {
		cJSON_Delete(e);
		e = NULL;
	}
	return e;
}

const char *akey_status(const cJSON *list_answer, const char *id)
{
	const cJSON *m;
	const char *st = NULL;

	cJSON_ArrayForEach(m, resp_get(list_answer, "AccessKeyMetadata"))
		if (resp_get_str(m, "AccessKeyId") && !strcmp(resp_get_str(m, "AccessKeyId"), id))
			st = resp_get_str(m, "Status");
	return st;
}

enum fb_err akey_verify(const char *id, const char *secret, const char *token, size_t token_len,
			int64_t deadline_ms, char *arn, size_t arnlen, struct aws_error *e)
{
	struct aws_client_options o;
	char sk[41], tok[AKEY_TOKEN_MAX + 1];
	enum fb_err rc;

	if (token && token_len > AKEY_TOKEN_MAX)
		return FB_E_INVALID;
	memcpy(sk, secret, 40);
	sk[40] = '\0';
	memset(&o, 0, sizeof(o));
	o.access_key = id;
	o.secret_key = sk;
	if (token) {
		memcpy(tok, token, token_len);
		tok[token_len] = '\0';
		o.session_token = tok;
	}
	rc = kit_caller_with(&o, deadline_ms, arn, arnlen, e);
	explicit_bzero(sk, sizeof(sk));
	explicit_bzero(tok, token ? token_len : 0);
	return rc;
}

enum fb_err akey_verify_any(const char *id, const char *const *cand, size_t ncand, const char *token,
			    size_t token_len, int64_t deadline_ms, char *arn, size_t arnlen,
			    struct aws_error *e, size_t *refused)
{
	enum fb_err rc = FB_OK;
	size_t c;

	*refused = 0;
	for (c = 0; c < ncand; c++) {
		memset(e, 0, sizeof(*e));
		rc = akey_verify(id, cand[c], token, token_len, deadline_ms, arn, arnlen, e);
		if (rc == FB_OK || strcmp(e->code, "SignatureDoesNotMatch"))
			break;
		(*refused)++;
	}
	return rc;
}

/* ---- w5-adopt-1: a key set Inactive as the containments record it --------------- */

const struct kit_paging akey_pages = KIT_IAM_PAGING("AccessKeyMetadata");

struct kit_step *akey_deactivate(struct kit_round *rd, const char *step, const char *user, const char *id,
				 const char *status, struct aws_client *cl)
{
	struct kit_step *s = kit_add(rd, &(struct kit_spec){ .step = step, .service = "iam", .op = "UpdateAccessKey",
		.target = id, .kind = RESP_WRITE,
		.in = kit_obj("UserName", user, "AccessKeyId", id, "Status", "Inactive", KIT_END),
		.restore = kit_undo_step(step, "iam:UpdateAccessKey",
			kit_obj("UserName", user, "AccessKeyId", id, "Status", "Active", KIT_END)),
		.detail = "Inactive (kept, not deleted)", .client = cl });

	if (status && !strcmp(status, "Inactive"))
		kit_already(s, "already Inactive");
	return s;
}
