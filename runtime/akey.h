/*
 * akey: IAM access keys, the calls a responder makes about one key (issue
 * 17: moved out of leak-rotate's key rounds). Prefix akey_.
 *
 *  akey_add      the kit step of one call about a key: its account
 *                (sts:GetAccessKeyInfo), owner and last use
 *                (iam:GetAccessKeyLastUsed), its user's keys
 *                (iam:ListAccessKeys), or setting it Inactive
 *                (iam:UpdateAccessKey, a write), each on a given client
 *  akey_undo     the restore[] entry of setting a key Inactive, with the
 *                AWS CLI line that sets it Active again
 *  akey_status   a key's Status in a ListAccessKeys answer
 *  akey_verify   does STS take a call signed with an id, a candidate
 *                secret (and a session token) found in text? The
 *                candidate and the token are copied out of the text (they
 *                end there without a NUL) and the copies wiped after.
 *
 * The decisions (which key is usable, acted on, only reported) stay the
 * responder's.
 */
#ifndef FB_AKEY_H
#define FB_AKEY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "fb_err.h"
#include "kit.h"

enum akey_op { AKEY_INFO, AKEY_LAST_USED, AKEY_LIST, AKEY_DEACTIVATE };

/* The step `step` (report name) of `op` about key `id` (the target) of
 * IAM user `user` (AKEY_LIST and AKEY_DEACTIVATE; may be NULL for the
 * others), on client cl (NULL: the kit's); restore taken (the write's
 * undo, NULL for reads). A read for every op but AKEY_DEACTIVATE. kit_add's
 * result. */
struct kit_step *akey_add(struct kit_round *rd, enum akey_op op, const char *step, const char *id,
			  const char *user, struct aws_client *cl, cJSON *restore);

/* {"step", "api": "iam:UpdateAccessKey", "target": id, "prior_status",
 * "command": "aws iam update-access-key --user-name '<user>'
 * --access-key-id <id> --status Active"}, and "account" and "role" (the
 * member role to run it with) when account is not NULL. NULL when out of
 * memory. */
cJSON *akey_undo(const char *step, const char *user, const char *id, const char *prior_status,
		 const char *account, const char *role_arn);

/* The Status of key `id` in a ListAccessKeys answer (its
 * AccessKeyMetadata; borrowed from it), NULL when it is not listed. */
const char *akey_status(const cJSON *list_answer, const char *id);

/* sts:GetCallerIdentity signed with key `id`, the 40 bytes at `secret`
 * and, when token is not NULL, the token_len bytes at `token`
 * (kit_caller_with; token_len at most AKEY_TOKEN_MAX). FB_OK with the
 * caller's ARN in arn; else *e says why (SignatureDoesNotMatch: not the
 * key's secret). */
#define AKEY_TOKEN_MAX 4096
enum fb_err akey_verify(const char *id, const char *secret, const char *token, size_t token_len,
			int64_t deadline_ms, char *arn, size_t arnlen, struct aws_error *e);

/* akey_verify with each of cand[0..ncand) (40 bytes each) in turn, until
 * STS accepts one (FB_OK) or answers anything but SignatureDoesNotMatch
 * (that rc and *e: it proves nothing about the rest). *refused counts the
 * candidates STS refused (ncand: none is the key's secret). */
enum fb_err akey_verify_any(const char *id, const char *const *cand, size_t ncand, const char *token,
			    size_t token_len, int64_t deadline_ms, char *arn, size_t arnlen,
			    struct aws_error *e, size_t *refused);

/* ---- w5-adopt-1: a key set Inactive as the containments record it --------------- */

/* The ListAccessKeys pages (AccessKeyMetadata, Marker, IsTruncated) for a
 * kit step's .paging: every key of a user, not the first 100. */
extern const struct kit_paging akey_pages;

/* The write `step` setting key `id` of IAM user `user` Inactive on client
 * cl (NULL: the kit's), detail "Inactive (kept, not deleted)", its undo
 * kit_undo_step(step, "iam:UpdateAccessKey", {UserName, AccessKeyId,
 * Status: Active}) (the entry firebreak-restore reads); "already Inactive",
 * nothing sent, when `status` (the key's Status as listed; may be NULL) is
 * Inactive. iam-contain's and access-triage's containment. kit_add's
 * result. */
struct kit_step *akey_deactivate(struct kit_round *rd, const char *step, const char *user, const char *id,
				 const char *status, struct aws_client *cl);

#endif
