/*
 * public-lock: the pure stages (public_lock.h). No I/O, no clock.
 */
#include "public_lock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "field.h"
#include "resp.h"

const char *const pl_setting_names[PL_NSETTINGS] = {
	"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets",
};

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

/* ---- names ---------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

int pl_bucket_name_ok(const char *b)
{
	size_t i, n;
	int dots = 0, digits_only = 1;

	if (!field_name_ok(b, 3, 63, "a-z0-9.-"))
		return 0;
	n = strlen(b);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c == '.') {
			dots++;
			if (i + 1 < n && b[i + 1] == '.')
				return 0;
		} else if (!isdigit(c)) {
			digits_only = 0;
		}
	}
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	if (dots == 3 && digits_only)
		return 0; /* formatted as an IP address */
	if (!strncmp(b, "xn--", 4) || !strncmp(b, "sthree-", 7) || !strncmp(b, "amzn-s3-demo-", 13))
		return 0;
	if (ends_with(b, "-s3alias") || ends_with(b, "--ol-s3") || ends_with(b, "--x-s3"))
		return 0;
	return 1;
}

/* ---- block configurations -------------------------------------------------------- */

/* 1 true, 0 false, -1 neither (boolean or "true"/"false" as S3's XML reads). */
static int tri(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? 1 : 0;
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "true"))
		return 1;
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "false"))
		return 0;
	return -1;
}

int pl_block_from_json(const cJSON *doc, struct pl_block *b)
{
	const cJSON *inner;
	int i;

	memset(b, 0, sizeof(*b));
	if (!cJSON_IsObject(doc))
		return 0;
	inner = cJSON_GetObjectItemCaseSensitive(doc, "PublicAccessBlockConfiguration");
	if (cJSON_IsObject(inner))
		doc = inner;
	for (i = 0; i < PL_NSETTINGS; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, pl_setting_names[i]);
		int t;

		if (!v)
			continue;
		t = tri(v);
		if (t < 0)
			return 0;
		b->on[i] = t;
	}
	b->present = 1;
	return 1;
}

cJSON *pl_block_json(const struct pl_block *b)
{
	cJSON *o = cJSON_CreateObject();
	int i;

	for (i = 0; o && i < PL_NSETTINGS; i++)
		cJSON_AddBoolToObject(o, pl_setting_names[i], b->present && b->on[i]);
	return o;
}

int pl_block_all_on(const struct pl_block *b)
{
	int i;

	if (!b->present)
		return 0;
	for (i = 0; i < PL_NSETTINGS; i++)
		if (!b->on[i])
			return 0;
	return 1;
}

void pl_block_off_names(const struct pl_block *b, char *out, size_t n)
{
	int i;

	if (n)
		out[0] = '\0';
	for (i = 0; i < PL_NSETTINGS; i++)
		if (!b->present || !b->on[i])
			snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "," : "",
				 pl_setting_names[i]);
}

cJSON *pl_lock_input(const char *account)
{
	struct pl_block all;
	cJSON *in = cJSON_CreateObject();
	int i;

	memset(&all, 0, sizeof(all));
	all.present = 1;
	for (i = 0; i < PL_NSETTINGS; i++)
		all.on[i] = 1;
	if (!in)
		return NULL;
	if (account)
		cJSON_AddStringToObject(in, "AccountId", account);
	cJSON_AddItemToObject(in, "PublicAccessBlockConfiguration", pl_block_json(&all));
	return in;
}

cJSON *pl_restore_input(const struct pl_block *prior, const char *bucket, const char *account)
{
	cJSON *in;

	if (!prior->present)
		return NULL;
	in = cJSON_CreateObject();
	if (!in)
		return NULL;
	if (bucket)
		cJSON_AddStringToObject(in, "Bucket", bucket);
	if (account)
		cJSON_AddStringToObject(in, "AccountId", account);
	cJSON_AddItemToObject(in, "PublicAccessBlockConfiguration", pl_block_json(prior));
	return in;
}

/* ---- ACL ----------------------------------------------------------------------------- */

int pl_acl_public(const cJSON *acl, char *names, size_t n)
{
	const cJSON *list, *grants, *g;
	int count = 0;

	if (n)
		names[0] = '\0';
	if (!cJSON_IsObject(acl))
		return -1;
	list = cJSON_GetObjectItemCaseSensitive(acl, "AccessControlList");
	if (!list || (cJSON_IsString(list) && !list->valuestring[0]))
		return 0; /* <AccessControlList/>: no grants at all */
	if (!cJSON_IsObject(list))
		return -1;
	grants = cJSON_GetObjectItemCaseSensitive(list, "Grant");
	if (!grants)
		return 0;
	/* one <Grant> is an object, several an array (runtime/xml.h) */
	for (g = cJSON_IsArray(grants) ? grants->child : grants; g; g = cJSON_IsArray(grants) ? g->next : NULL) {
		const char *uri = resp_get_str(g, "Grantee.URI"), *perm = resp_get_str(g, "Permission");
		const char *who = NULL;

		if (!cJSON_IsObject(g))
			return -1;
		if (uri && !strcmp(uri, ALL_USERS))
			who = "AllUsers";
		else if (uri && !strcmp(uri, AUTH_USERS))
			who = "AuthenticatedUsers";
		if (!who)
			continue;
		count++;
		if (n)
			snprintf(names + strlen(names), n - strlen(names), "%s%s:%s", names[0] ? "," : "", who,
				 perm ? perm : "?");
	}
	return count;
}

/* ---- the decision ------------------------------------------------------------------- */

enum pl_exposure pl_exposure(const struct pl_state *s, char *why, size_t n)
{
	int ignore = (s->bucket.present && s->bucket.on[PL_IGNORE_ACLS]) ||
		     (s->account.present && s->account.on[PL_IGNORE_ACLS]);
	int restrict_ = (s->bucket.present && s->bucket.on[PL_RESTRICT_BUCKETS]) ||
			(s->account.present && s->account.on[PL_RESTRICT_BUCKETS]);
	int pol = s->policy_public && !restrict_, acl = s->acl_public && !ignore;

	if (pol || acl) {
		snprintf(why, n, "public through %s%s%s", pol ? "its bucket policy" : "",
			 pol && acl ? " and " : "", acl ? "its ACL" : "");
		return PL_PUBLIC;
	}
	if (s->policy_public || s->acl_public) {
		snprintf(why, n, "a public %s%s%s, made ineffective by the %s", s->policy_public ? "policy" : "",
			 s->policy_public && s->acl_public ? " and ACL" : "",
			 !s->policy_public && s->acl_public ? "ACL" : "",
			 s->policy_public && s->acl_public ? "block settings"
			 : s->policy_public ? "RestrictPublicBuckets setting" : "IgnorePublicAcls setting");
		return PL_BLOCKED;
	}
	snprintf(why, n, "no public policy and no ACL grant to AllUsers or AuthenticatedUsers");
	return PL_NOT_PUBLIC;
}

/* ---- the event -------------------------------------------------------------------------- */

void pl_event_cleanup(struct pl_event *ev)
{
	cJSON_Delete(ev->root);
	memset(ev, 0, sizeof(*ev));
}

static enum fb_err add_bucket(struct pl_event *ev, const char *b, char *why, size_t n)
{
	if (!pl_bucket_name_ok(b))
		return field_bad(why, n, "'%.80s' is not a valid S3 bucket name", b ? b : "");
	if (field_set_add(ev->buckets[0], sizeof(ev->buckets[0]), &ev->nbuckets, PL_MAX_BUCKETS, b) == -1)
		return field_bad(why, n, "more than %d buckets in one event", PL_MAX_BUCKETS);
	return FB_OK;
}

static enum fb_err set_region(struct pl_event *ev, const char *r, char *why, size_t n)
{
	if (!r)
		return FB_OK;
	if (!resp_region_name_ok(r))
		return field_bad(why, n, "region '%.40s' is not a region name", r);
	if (field_same(ev->region, sizeof(ev->region), r))
		return field_bad(why, n, "the event names two regions (%s, %s)", ev->region, r);
	return FB_OK;
}

static enum fb_err set_account(struct pl_event *ev, const char *a, char *why, size_t n)
{
	if (!a || !resp_account_id_ok(a))
		return field_bad(why, n, "account '%.40s' is not a 12-digit account id", a ? a : "");
	if (field_same(ev->account, sizeof(ev->account), a))
		return field_bad(why, n, "the event names two accounts (%s, %s)", ev->account, a);
	return FB_OK;
}

/* A PutBucketPublicAccessBlock / PutAccountPublicAccessBlock that turns all
 * four settings on weakens nothing (our own write is one): 1. */
static int request_all_on(const cJSON *rp)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(rp, "PublicAccessBlockConfiguration");
	int i;

	if (!cJSON_IsObject(c))
		return 0;
	for (i = 0; i < PL_NSETTINGS; i++)
		if (tri(cJSON_GetObjectItemCaseSensitive(c, pl_setting_names[i])) != 1)
			return 0;
	return 1;
}

static enum fb_err parse_cloudtrail(struct pl_event *ev, const cJSON *root, char *why, size_t n)
{
	static const char *const bucket_ops[] = {
		"PutBucketPolicy", "PutBucketAcl", "DeleteBucketPublicAccessBlock", "PutBucketPublicAccessBlock",
	};
	static const char *const account_ops[] = {
		"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock",
	};
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "detail");
	const cJSON *rp = resp_get(d, "requestParameters"), *res;
	const char *name = resp_get_str(d, "eventName"), *src = resp_get_str(d, "eventSource");
	const char *acct = resp_get_str(d, "recipientAccountId"), *b, *t;
	size_t i;
	int known = 0;

	ev->source = PL_SRC_CLOUDTRAIL;
	if (!cJSON_IsObject(d) || !name || !src || strcmp(src, "s3.amazonaws.com"))
		return field_bad(why, n, "not an S3 CloudTrail record (detail.eventSource, detail.eventName)");
	buf_copy_str(ev->event_name, sizeof(ev->event_name), name);
	buf_copy_str(ev->event_id, sizeof(ev->event_id), resp_get_str(d, "eventID"));
	buf_copy_str(ev->actor, sizeof(ev->actor), resp_get_str(d, "userIdentity.arn"));
	if ((t = resp_get_str(d, "eventTime")))
		ev->event_ms = resp_parse_time_ms(t);
	if (!acct)
		acct = resp_get_str(root, "account");
	if (acct && set_account(ev, acct, why, n))
		return FB_E_INVALID;
	if (set_region(ev, resp_get_str(d, "awsRegion") ? resp_get_str(d, "awsRegion")
						       : resp_get_str(root, "region"), why, n))
		return FB_E_INVALID;
	for (i = 0; i < sizeof(account_ops) / sizeof(account_ops[0]); i++)
		if (!strcmp(name, account_ops[i])) {
			ev->scope = PL_SCOPE_ACCOUNT;
			known = 1;
		}
	for (i = 0; i < sizeof(bucket_ops) / sizeof(bucket_ops[0]); i++)
		known |= !strcmp(name, bucket_ops[i]);
	if (!known)
		return field_bad(why, n, "eventName '%.60s' is not one public-lock handles", name);
	if (ev->scope == PL_SCOPE_ACCOUNT && !ev->account[0])
		return field_bad(why, n, "%s without an account (recipientAccountId, account)", name);
	if (ev->scope == PL_SCOPE_BUCKET) {
		b = resp_get_str(rp, "bucketName");
		/* S3 may log bucketName "" (the s3 guide's PutBucketAcl sample):
		 * the record's resources[] names it then. */
		if (!b || !*b) {
			b = NULL;
			cJSON_ArrayForEach(res, resp_get(d, "resources")) {
				const char *ty = resp_get_str(res, "type"), *arn = resp_get_str(res, "ARN");

				if (ty && arn && !strcmp(ty, "AWS::S3::Bucket") && !strncmp(arn, "arn:", 4) &&
				    strstr(arn, ":s3:::"))
					b = strstr(arn, ":s3:::") + 6;
			}
		}
		if (!b)
			return field_bad(why, n, "%s names no bucket (requestParameters.bucketName, resources)", name);
		if (add_bucket(ev, b, why, n))
			return FB_E_INVALID;
	}
	if ((t = resp_get_str(d, "errorCode"))) {
		snprintf(ev->skip, sizeof(ev->skip), "the %s call failed (%.60s): it changed nothing", name, t);
		return FB_OK;
	}
	if ((!strcmp(name, "PutBucketPublicAccessBlock") || !strcmp(name, "PutAccountPublicAccessBlock")) &&
	    request_all_on(rp))
		snprintf(ev->skip, sizeof(ev->skip), "%s turned every setting on: nothing was weakened", name);
	return FB_OK;
}

/* The Security Hub control id of a finding: Compliance.SecurityControlId
 * (consolidated findings), ProductFields.ControlId, else the GeneratorId's
 * last part ("aws-foundational-security-best-practices/v/1.0.0/S3.8"). */
static const char *finding_control(const cJSON *f)
{
	const char *c = resp_get_str(f, "Compliance.SecurityControlId"), *g;

	if (!c)
		c = resp_get_str(f, "ProductFields.ControlId");
	if (!c && (g = resp_get_str(f, "GeneratorId")) && strrchr(g, '/'))
		c = strrchr(g, '/') + 1;
	return c;
}

static enum fb_err parse_securityhub(struct pl_event *ev, const cJSON *root, char *why, size_t n)
{
	const cJSON *fs = resp_get(root, "detail.findings"), *f, *r;
	const char *t;
	int seen = 0;
	char last[200] = "";

	ev->source = PL_SRC_SECURITYHUB;
	if (!cJSON_IsArray(fs) || !fs->child)
		return field_bad(why, n, "Security Hub event without detail.findings");
	cJSON_ArrayForEach(f, fs) {
		const char *c = finding_control(f), *st = resp_get_str(f, "Compliance.Status");
		const char *wf = resp_get_str(f, "Workflow.Status"), *rs = resp_get_str(f, "RecordState");

		if (!cJSON_IsObject(f))
			return field_bad(why, n, "a finding is not an object");
		if (!c || (strcmp(c, "S3.2") && strcmp(c, "S3.3") && strcmp(c, "S3.8"))) {
			snprintf(last, sizeof(last), "control %.20s is not S3.2, S3.3 or S3.8", c ? c : "(none)");
			continue;
		}
		if (!st || strcmp(st, "FAILED")) {
			snprintf(last, sizeof(last), "%s finding is %.20s, not FAILED", c, st ? st : "without a status");
			continue;
		}
		if ((rs && strcmp(rs, "ACTIVE")) || (wf && (!strcmp(wf, "RESOLVED") || !strcmp(wf, "SUPPRESSED")))) {
			snprintf(last, sizeof(last), "%s finding is %.20s / %.20s", c, rs ? rs : "", wf ? wf : "");
			continue;
		}
		if (set_account(ev, resp_get_str(f, "AwsAccountId"), why, n))
			return FB_E_INVALID;
		cJSON_ArrayForEach(r, resp_get(f, "Resources")) {
			const char *ty = resp_get_str(r, "Type"), *id = resp_get_str(r, "Id");

			if (!ty || strcmp(ty, "AwsS3Bucket"))
				continue;
			if (!id || strncmp(id, "arn:", 4) || !strstr(id, ":s3:::"))
				return field_bad(why, n, "AwsS3Bucket resource id '%.80s' is not a bucket ARN", id ? id : "");
			if (add_bucket(ev, strstr(id, ":s3:::") + 6, why, n) ||
			    set_region(ev, resp_get_str(r, "Region") ? resp_get_str(r, "Region")
								     : resp_get_str(f, "Region"), why, n))
				return FB_E_INVALID;
			seen++;
		}
		buf_copy_str(ev->control, sizeof(ev->control), c);
		if (!ev->event_ms && (t = resp_get_str(f, "UpdatedAt")))
			ev->event_ms = resp_parse_time_ms(t);
	}
	if (!seen)
		snprintf(ev->skip, sizeof(ev->skip), "no failed S3.2/S3.3/S3.8 finding for a bucket%s%s",
			 last[0] ? ": " : "", last);
	return FB_OK;
}

static enum fb_err parse_manual(struct pl_event *ev, const cJSON *root, char *why, size_t n)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "bucket");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "account");
	const cJSON *rg = cJSON_GetObjectItemCaseSensitive(root, "region");

	ev->source = PL_SRC_MANUAL;
	if ((b && !cJSON_IsString(b)) || (a && !cJSON_IsString(a)) || (rg && !cJSON_IsString(rg)))
		return field_bad(why, n, "manual form: 'bucket', 'account' and 'region' are strings");
	if (rg && set_region(ev, rg->valuestring, why, n))
		return FB_E_INVALID;
	if (a && set_account(ev, a->valuestring, why, n))
		return FB_E_INVALID;
	if (b)
		return add_bucket(ev, b->valuestring, why, n);
	if (a) {
		ev->scope = PL_SCOPE_ACCOUNT;
		return FB_OK;
	}
	snprintf(why, n, "expected a CloudTrail or Security Hub event, or {\"bucket\": \"name\"} / "
		 "{\"account\": \"123456789012\"}");
	return FB_E_INVALID;
}

enum fb_err pl_parse(const char *event, size_t len, struct pl_event *ev, char *why, size_t whylen)
{
	const char *dt, *src;
	enum fb_err rc;

	memset(ev, 0, sizeof(*ev));
	if (resp_parse_event(event, len, RESP_MAX_EVENT_BYTES, &ev->root, why, whylen) != FB_OK)
		return FB_E_INVALID;
	dt = resp_get_str(ev->root, "detail-type");
	src = resp_get_str(ev->root, "source");
	if (dt && !strcmp(dt, "AWS API Call via CloudTrail") && src && !strcmp(src, "aws.s3"))
		rc = parse_cloudtrail(ev, ev->root, why, whylen);
	else if (dt && !strcmp(dt, "Security Hub Findings - Imported") && src && !strcmp(src, "aws.securityhub"))
		rc = parse_securityhub(ev, ev->root, why, whylen);
	else if (dt || src || resp_get(ev->root, "detail")) {
		snprintf(why, whylen, "unsupported event (detail-type '%.60s', source '%.40s')", dt ? dt : "",
			 src ? src : "");
		rc = FB_E_INVALID;
	} else
		rc = parse_manual(ev, ev->root, why, whylen);
	if (rc != FB_OK)
		pl_event_cleanup(ev);
	return rc;
}

/* ---- settings ---------------------------------------------------------------------------- */

enum fb_err pl_settings_from_env(struct pl_settings *s, char *err, size_t errlen)
{
	const char *v = getenv("FIREBREAK_PL_ACCOUNT_LOCK");

	memset(s, 0, sizeof(*s));
	s->account_lock = 1;
	if (!v || !*v)
		return FB_OK;
	if (!strcasecmp(v, "true"))
		return FB_OK;
	if (!strcasecmp(v, "false")) {
		s->account_lock = 0;
		return FB_OK;
	}
	snprintf(err, errlen, "FIREBREAK_PL_ACCOUNT_LOCK must be true or false, not '%.40s'", v);
	return FB_E_CONFIG;
}
