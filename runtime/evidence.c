/*
 * evidence: write-once incident evidence in S3 (evidence.h). Moved from
 * functions/task-quarantine (issue 17) so every responder keeps evidence
 * the same way.
 */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "resp.h"

#define PUT_HEADERS 7

/* ---- settings --------------------------------------------------------------------- */

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? strdup(v) : NULL;
}

enum fb_err evidence_config_from_env(struct evidence_config *c, char *err, size_t errlen)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	snprintf(c->lock_mode, sizeof(c->lock_mode), "GOVERNANCE");
	v = getenv("FIREBREAK_EVIDENCE_LOCK_MODE");
	if (v && *v) {
		if (strcmp(v, "GOVERNANCE") && strcmp(v, "COMPLIANCE")) {
			snprintf(err, errlen, "setting 'FIREBREAK_EVIDENCE_LOCK_MODE' must be GOVERNANCE or COMPLIANCE");
			return FB_E_CONFIG;
		}
		snprintf(c->lock_mode, sizeof(c->lock_mode), "%s", v);
	}
	v = getenv("FIREBREAK_EVIDENCE_LOCK_DAYS");
	if (v && *v) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*end || n < 0 || n > EVIDENCE_MAX_LOCK_DAYS) {
			snprintf(err, errlen, "setting 'FIREBREAK_EVIDENCE_LOCK_DAYS' must be 0..%d",
				 EVIDENCE_MAX_LOCK_DAYS);
			return FB_E_CONFIG;
		}
		c->lock_days = (int)n;
	}
	c->bucket = env_dup("FIREBREAK_EVIDENCE_BUCKET");
	c->kms_key = env_dup("FIREBREAK_EVIDENCE_KMS_KEY");
	return FB_OK;
}

void evidence_config_cleanup(struct evidence_config *c)
{
	free(c->bucket);
	free(c->kms_key);
	memset(c, 0, sizeof(*c));
}

/* ---- pure pieces -------------------------------------------------------------------- */

static const char hexdigits[] = "0123456789abcdef";

void evidence_sha256(const void *p, size_t n, char hex[65], char b64[45])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256(p, n, md);
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 15];
	}
	hex[64] = '\0';
	EVP_EncodeBlock((unsigned char *)b64, md, (int)sizeof(md));
}

int evidence_sha256_b64_to_hex(const char *b64, char hex[65])
{
	unsigned char md[48];
	size_t i;

	hex[0] = '\0';
	/* 32 bytes are 44 base64 characters ending in one '=' pad. */
	if (!b64 || strlen(b64) != 44 || b64[43] != '=' || b64[42] == '=')
		return 0;
	if (EVP_DecodeBlock(md, (const unsigned char *)b64, 44) != 33)
		return 0;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 15];
	}
	hex[64] = '\0';
	return 1;
}

void evidence_obj_cleanup(struct evidence_obj *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

void evidence_obj_set(struct evidence_obj *o, const char *key, char *data, size_t len)
{
	free(o->data);
	buf_copy_str(o->key, sizeof(o->key), key);
	o->data = data;
	o->len = len;
	evidence_sha256(data ? data : "", len, o->sha_hex, o->sha_b64);
}

enum evidence_manifest evidence_manifest_state(enum fb_err rc, long http_status)
{
	if (rc == FB_OK)
		return EVIDENCE_MANIFEST_PRESENT;
	if (rc == FB_E_NOTFOUND || http_status == 404)
		return EVIDENCE_MANIFEST_MISSING;
	if (http_status == 403)
		return EVIDENCE_MANIFEST_UNREADABLE;
	return EVIDENCE_MANIFEST_UNKNOWN;
}

int evidence_attempt_prefix(const char *incident_prefix, unsigned attempt, char *out, size_t outlen)
{
	char tail[32] = "";
	size_t a, b;

	if (attempt < 1)
		return 0;
	if (attempt > 1)
		snprintf(tail, sizeof(tail), "attempt-%u/", attempt);
	a = strlen(incident_prefix);
	b = strlen(tail);
	if (a + b >= outlen)
		return 0;
	memcpy(out, incident_prefix, a);
	memcpy(out + a, tail, b + 1);
	return 1;
}

static void iso8601(int64_t ms, char out[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000) % 1000u);
}

/* manifest.json: every object's key, size and SHA-256, who wrote it and
 * when; the earlier attempts' objects first. Caller frees. */
cJSON *evidence_manifest_json(const struct evidence_manifest_info *mi, const struct evidence_obj *objs, size_t n)
{
	cJSON *m = cJSON_CreateObject(), *arr;
	const cJSON *e;
	char when[32];
	size_t i;
	int nearlier = 0;

	if (!m)
		return NULL;
	iso8601(mi->written_ms, when);
	cJSON_AddStringToObject(m, "incident_id", mi->incident_id);
	cJSON_AddStringToObject(m, mi->subject_name ? mi->subject_name : "subject", mi->subject ? mi->subject : "");
	cJSON_AddStringToObject(m, "bucket", mi->bucket);
	cJSON_AddStringToObject(m, "prefix", mi->prefix);
	cJSON_AddStringToObject(m, "written_by", mi->written_by);
	cJSON_AddStringToObject(m, "written_at", when);
	cJSON_AddStringToObject(m, "hash", "SHA-256");
	cJSON_AddNumberToObject(m, "attempt", mi->attempt ? mi->attempt : 1);
	/* Whether every earlier attempt's object could be read back and listed. */
	cJSON_AddBoolToObject(m, "earlier_complete", mi->attempt < 2 || mi->earlier_complete);
	arr = cJSON_AddArrayToObject(m, "objects");
	cJSON_ArrayForEach(e, mi->earlier) {
		cJSON *o = cJSON_Duplicate(e, 1);

		if (!o || !arr || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			break;
		}
		nearlier++;
	}
	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o))
			break;
		cJSON_AddStringToObject(o, "key", objs[i].key);
		cJSON_AddNumberToObject(o, "size", (double)objs[i].len);
		cJSON_AddStringToObject(o, "sha256", objs[i].sha_hex);
		cJSON_AddNumberToObject(o, "attempt", mi->attempt ? mi->attempt : 1);
		if (objs[i].note[0])
			cJSON_AddStringToObject(o, "note", objs[i].note);
	}
	if (!arr || cJSON_GetArraySize(arr) != nearlier + (int)n) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

/* ---- the writer ------------------------------------------------------------------------ */

void evidence_init(struct evidence *e, struct kit *k, struct aws_client *own, struct evidence_config *cfg,
		   const struct lr_context *ctx, const char *subject_name, const char *subject)
{
	*e = (struct evidence){ .k = k, .aws = own, .cfg = cfg, .ctx = ctx, .subject_name = subject_name,
				.subject = subject };
	snprintf(e->prefix, sizeof(e->prefix), "incidents/%s/", k->r->incident_id);
}

void evidence_cleanup(struct evidence *e)
{
	size_t i;

	for (i = 0; i < e->nobj; i++)
		evidence_obj_cleanup(&e->obj[i]);
	e->nobj = 0;
}


int evidence_begin(struct evidence *e, int wrote, cJSON *out)
{
	if (!e->cfg->bucket) {
		kit_decide(e->k, &(struct kit_spec){ .step = "evidence", .service = "s3", .op = "PutObject",
			.kind = RESP_WRITE, .optional = 1 }, RESP_SKIPPED, "FIREBREAK_EVIDENCE_BUCKET not set");
		return 0;
	}
	cJSON_AddStringToObject(out, "bucket", e->cfg->bucket);
	cJSON_AddStringToObject(out, "prefix", e->prefix);
	/* A complete first set and nothing new to record: done. An attempt
	 * that wrote something adds its own set (its undo record) instead. */
	if (e->manifest_state == 1 && !wrote) {
		kit_decide(e->k, &(struct kit_spec){ .step = "evidence", .service = "s3", .op = "PutObject",
			.target = e->prefix, .kind = RESP_WRITE }, RESP_ALREADY,
			"manifest.json present: evidence already kept");
		cJSON_AddStringToObject(out, "state", "already");
		return 0;
	}
	return 1;
}

struct kit_step *evidence_check(struct evidence *e, struct kit_round *rd)
{
	char key[256];

	if (!e->cfg->bucket)
		return NULL;
	e->lock_step = NULL;
	snprintf(key, sizeof(key), "%smanifest.json", e->prefix);
	/* The Object Lock read (once per container) joins the same round. */
	if (e->cfg->lock_days && !e->cfg->lock_known)
		e->lock_step = kit_add(rd, &(struct kit_spec){ .step = "evidence-lock-config", .service = "s3",
			.op = "GetObjectLockConfiguration", .target = e->cfg->bucket, .kind = RESP_READ,
			.optional = 1, .client = e->aws, .bucket = e->cfg->bucket,
			.absent = "ObjectLockConfigurationNotFoundError" });
	return kit_add(rd, &(struct kit_spec){ .step = "evidence-check", .service = "s3", .op = "HeadObject",
		.target = key, .kind = RESP_READ, .optional = 1, .client = e->aws, .bucket = e->cfg->bucket,
		.key = key, .absent = "NotFound AccessDenied" });
}

void evidence_checked(struct evidence *e, struct kit_step *s)
{
	const struct aws_error *err = kit_err(s);

	if (e->lock_step && kit_ok(e->lock_step)) {
		/* the document's root element is not kept (aws.h) */
		const char *on = resp_get_str(kit_out(e->lock_step), "ObjectLockEnabled");

		e->cfg->lock_known = 1;
		e->cfg->lock_enabled = kit_found(e->lock_step) && on && !strcmp(on, "Enabled");
		kit_detail(e->lock_step, "%s", e->cfg->lock_enabled ? "Object Lock enabled" :
			   "no Object Lock on the bucket: objects are written without retention");
	}
	e->lock_step = NULL;
	if (!s)
		return;
	switch (evidence_manifest_state(kit_ok(s) && kit_found(s) ? FB_OK : FB_E_AWS, err->http_status)) {
	case EVIDENCE_MANIFEST_PRESENT:
		e->manifest_state = 1;
		kit_detail(s, "manifest.json present");
		break;
	case EVIDENCE_MANIFEST_MISSING:
		e->manifest_state = 0;
		kit_detail(s, "manifest.json missing");
		break;
	case EVIDENCE_MANIFEST_UNREADABLE:
		/* the usual answer for a missing key without s3:ListBucket */
		e->manifest_state = 0;
		kit_detail(s, "manifest.json missing or not readable (403: S3 says so for a missing "
			   "key without s3:ListBucket): capturing evidence");
		break;
	case EVIDENCE_MANIFEST_UNKNOWN:
		e->manifest_state = -1;
		kit_detail(s, "cannot tell: capturing evidence again");
		break;
	}
}

int evidence_add(struct evidence *e, const char *name, char *data, size_t len, const char *note)
{
	char key[1024];
	struct evidence_obj *o;

	if (!data || e->nobj == EVIDENCE_MAX_OBJECTS) {
		free(data);
		return 0;
	}
	snprintf(key, sizeof(key), "%s%s", e->aprefix, name);
	o = &e->obj[e->nobj++];
	evidence_obj_set(o, key, data, len);
	if (note)
		buf_copy_str(o->note, sizeof(o->note), note);
	return 1;
}

void evidence_add_json(struct evidence *e, const char *name, const cJSON *j)
{
	char *txt = j ? cJSON_Print(j) : NULL;

	if (txt)
		evidence_add(e, name, txt, strlen(txt), NULL);
}

/* PutObject headers: SSE-KMS, the SHA-256 S3 verifies on receipt,
 * If-None-Match: * (write-once; the runtime does not retry a 412), and
 * retention when asked for and the bucket has Object Lock. */
static size_t put_headers(struct evidence *e, const struct evidence_obj *o, struct aws_header *h)
{
	size_t nh = 0;

	h[nh++] = (struct aws_header){ "x-amz-server-side-encryption", "aws:kms" };
	if (e->cfg->kms_key)
		h[nh++] = (struct aws_header){ "x-amz-server-side-encryption-aws-kms-key-id", e->cfg->kms_key };
	h[nh++] = (struct aws_header){ "x-amz-checksum-sha256", o->sha_b64 };
	h[nh++] = (struct aws_header){ "x-amz-sdk-checksum-algorithm", "SHA256" };
	h[nh++] = (struct aws_header){ "If-None-Match", "*" };
	if (e->lock_until[0]) {
		h[nh++] = (struct aws_header){ "x-amz-object-lock-mode", e->cfg->lock_mode };
		h[nh++] = (struct aws_header){ "x-amz-object-lock-retain-until-date", e->lock_until };
	}
	return nh;
}

/* 412: the key exists. 409 ConditionalRequestConflict: another writer is
 * writing the same key right now. Either way the key is not ours. */
static int taken(enum fb_err rc, const struct aws_error *err)
{
	return rc != FB_OK && (err->http_status == 412 || err->http_status == 409 ||
			       !strcmp(err->code, "PreconditionFailed") ||
			       !strcmp(err->code, "ConditionalRequestConflict"));
}

#define TAKEN_WHY "the key exists (or is being written): not replaced, evidence is write-once"

static void put_range(struct evidence *e, size_t from, size_t to)
{
	struct aws_header h[EVIDENCE_MAX_OBJECTS][PUT_HEADERS];
	struct kit_step *s[EVIDENCE_MAX_OBJECTS];
	struct kit_round *rd = kit_round_new(e->k);
	size_t i;

	for (i = from; i < to; i++) {
		const struct evidence_obj *o = &e->obj[i];
		char detail[160];
		size_t nh = put_headers(e, o, h[i]);

		snprintf(detail, sizeof(detail), "%zu bytes, sha256 %.16s…", o->len, o->sha_hex);
		s[i] = kit_add(rd, &(struct kit_spec){ .step = "evidence-put", .service = "s3", .op = "PutObject",
			.target = o->key, .kind = RESP_WRITE, .client = e->aws, .bucket = e->cfg->bucket,
			.key = o->key, .body = o->data, .body_len = o->len, .headers = h[i], .nheaders = nh,
			.detail = detail });
		if (!e->k->r->dry_run && !lr_time_left(e->ctx, EVIDENCE_MIN_STEP_MS))
			kit_fail(s[i], "not started: invocation deadline nearly spent");
	}
	kit_run(rd);
	for (i = from; i < to && !e->k->r->dry_run; i++) {
		const char *got = resp_get_str(kit_out(s[i]), "ChecksumSHA256");

		/* S3 checked the checksum; it answers with the one it stored. */
		if (kit_ok(s[i]) && got && strcmp(got, e->obj[i].sha_b64))
			kit_fail(s[i], "S3 answered a different SHA-256");
		else if (kit_status(s[i]) == RESP_FAILED && taken(FB_E_AWS, kit_err(s[i])))
			kit_fail(s[i], TAKEN_WHY);
	}
	kit_round_free(rd);
}

void evidence_put(struct evidence *e)
{
	/* restore.json (obj[0]) is written by the claim */
	size_t from = e->put_from ? e->put_from : 1;

	if (from < e->nobj)
		put_range(e, from, e->nobj);
	e->put_from = e->nobj;
}

/* The retention asked for: now + lock_days, when the bucket has Object Lock. */
static void lock_plan(struct evidence *e)
{
	e->lock_until[0] = '\0';
	if (e->cfg->lock_days && e->cfg->lock_known && e->cfg->lock_enabled) {
		time_t t = (time_t)(e->k->now_ms() / 1000) + (time_t)e->cfg->lock_days * 86400;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(e->lock_until, sizeof(e->lock_until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}

int evidence_claim(struct evidence *e, char *restore, size_t len, cJSON *out)
{
	struct aws_header h[PUT_HEADERS];
	struct aws_call c;
	struct evidence_obj *o;
	const char *why = NULL;
	unsigned a;
	int k, ok = 0;

	e->put_from = 0;
	lock_plan(e);
	evidence_attempt_prefix(e->prefix, 1, e->aprefix, sizeof(e->aprefix));
	if (!evidence_add(e, "restore.json", restore, len, NULL)) {
		cJSON_AddStringToObject(out, "state", "incomplete");
		return 0;
	}
	o = &e->obj[0];
	e->put_from = 1;
	if (e->k->r->dry_run) {
		resp_step_begin(e->k->r, "evidence-put", "s3:PutObject", o->key, RESP_WRITE);
		e->attempt = 1;
		goto claimed;
	}
	/* One line for the claim however many slots are tried: the slots
	 * taken are earlier attempts', not failures of this one. */
	memset(&c, 0, sizeof(c));
	for (a = 1;; a++) {
		if (a > EVIDENCE_MAX_ATTEMPTS || !evidence_attempt_prefix(e->prefix, a, e->aprefix, sizeof(e->aprefix))) {
			why = "every attempt slot is taken: nothing replaced; this attempt's undo record is in the report only";
			break;
		}
		snprintf(o->key, sizeof(o->key), "%srestore.json", e->aprefix);
		if (!lr_time_left(e->ctx, EVIDENCE_MIN_STEP_MS)) {
			why = "not started: invocation deadline nearly spent";
			break;
		}
		aws_call_cleanup(&c);
		memset(&c, 0, sizeof(c));
		c.service = "s3";
		c.op = "PutObject";
		c.bucket = e->cfg->bucket;
		c.key = o->key;
		c.body = o->data;
		c.body_len = o->len;
		c.headers = h;
		c.nheaders = put_headers(e, o, h);
		aws_call_run(e->aws, &c);
		if (!taken(c.rc, &c.err))
			break;
	}
	k = resp_step_begin(e->k->r, "evidence-put", "s3:PutObject", o->key, RESP_WRITE);
	if (why) {
		resp_step_end(e->k->r, k, RESP_FAILED, why, NULL);
	} else {
		const char *got = resp_get_str(c.out, "ChecksumSHA256");
		char detail[160];

		if (c.rc == FB_OK && got && strcmp(got, o->sha_b64)) {
			resp_step_end(e->k->r, k, RESP_FAILED, "S3 answered a different SHA-256", NULL);
		} else if (taken(c.rc, &c.err)) {
			resp_step_end(e->k->r, k, RESP_FAILED, TAKEN_WHY, &c.err);
		} else {
			snprintf(detail, sizeof(detail), "%zu bytes, sha256 %.16s…", o->len, o->sha_hex);
			resp_step_from_call(e->k->r, k, &c, detail);
			ok = c.rc == FB_OK;
		}
	}
	aws_call_cleanup(&c);
	if (!ok) {
		cJSON_AddStringToObject(out, "state", "incomplete");
		return 0;
	}
	e->attempt = a;
claimed:
	cJSON_AddNumberToObject(out, "attempt", e->attempt);
	cJSON_AddStringToObject(out, "attempt_prefix", e->aprefix);
	return 1;
}

/* The earlier attempts' objects, read back from S3 (HeadObject with
 * x-amz-checksum-mode: ENABLED returns the SHA-256 S3 verified when the
 * object was written): what this attempt's manifest lists besides its own.
 * One line for all of them. Keys an attempt did not write (404, or 403
 * without s3:ListBucket) are left out; *complete is 0 when some could not
 * be read. Caller frees. */
static cJSON *earlier_objects(struct evidence *e, const char *const *names, int *complete)
{
	static const struct aws_header mode = { "x-amz-checksum-mode", "ENABLED" };
	struct aws_call *c = NULL;
	char (*keys)[1024] = NULL;
	unsigned *att = NULL, a;
	size_t n = 0, i, j, found = 0, unsure = 0, left = 0;
	cJSON *arr = cJSON_CreateArray();
	char pre[200], detail[200];
	int k;

	*complete = e->attempt < 2;
	if (!arr || e->attempt < 2)
		return arr;
	c = calloc(EVIDENCE_MAX_EARLIER, sizeof(*c));
	keys = calloc(EVIDENCE_MAX_EARLIER, sizeof(*keys));
	att = calloc(EVIDENCE_MAX_EARLIER, sizeof(*att));
	k = resp_step_begin(e->k->r, "evidence-earlier", "s3:HeadObject", e->prefix, RESP_READ);
	resp_step_optional(e->k->r, k);
	if (!c || !keys || !att) {
		resp_step_end(e->k->r, k, RESP_FAILED, "out of memory", NULL);
		goto out;
	}
	for (a = 1; a < e->attempt; a++) {
		evidence_attempt_prefix(e->prefix, a, pre, sizeof(pre));
		for (j = 0; names && names[j]; j++) {
			if (n == EVIDENCE_MAX_EARLIER) {
				left++;
				continue;
			}
			snprintf(keys[n], sizeof(keys[n]), "%s%s", pre, names[j]);
			c[n].service = "s3";
			c[n].op = "HeadObject";
			c[n].bucket = e->cfg->bucket;
			c[n].key = keys[n];
			c[n].headers = &mode;
			c[n].nheaders = 1;
			att[n++] = a;
		}
	}
	if (n)
		aws_call_run_all(e->aws, c, n);
	for (i = 0; i < n; i++) {
		enum evidence_manifest st = evidence_manifest_state(c[i].rc, c[i].err.http_status);
		const cJSON *len = cJSON_GetObjectItemCaseSensitive(c[i].out, "ContentLength");
		char hex[65];
		cJSON *o;

		if (c[i].rc == FB_OK) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "key", keys[i]);
			cJSON_AddNumberToObject(o, "size", cJSON_IsNumber(len) ? len->valuedouble : -1);
			if (evidence_sha256_b64_to_hex(resp_get_str(c[i].out, "ChecksumSHA256"), hex))
				cJSON_AddStringToObject(o, "sha256", hex);
			else
				cJSON_AddNullToObject(o, "sha256");
			cJSON_AddNumberToObject(o, "attempt", att[i]);
			cJSON_AddItemToArray(arr, o);
			found++;
		} else if (st != EVIDENCE_MANIFEST_MISSING && st != EVIDENCE_MANIFEST_UNREADABLE) {
			unsure++;
		}
		aws_call_cleanup(&c[i]);
	}
	snprintf(detail, sizeof(detail), "%zu object(s) of attempt(s) 1..%u read back with their SHA-256%s%s",
		 found, e->attempt - 1, unsure ? "; some could not be read" : "",
		 left ? "; more keys than listed" : "");
	resp_step_end(e->k->r, k, unsure || left ? RESP_FAILED : RESP_DONE, detail, NULL);
	*complete = !unsure && !left;
out:
	free(c);
	free(keys);
	free(att);
	return arr;
}

void evidence_finish(struct evidence *e, const char *const *names, cJSON *out)
{
	struct evidence_manifest_info mi;
	cJSON *man, *earlier = NULL, *objects;
	size_t i, nbody = e->nobj;
	char *txt;
	int complete = 1;
	struct resp *r = e->k->r;

	if (!r->dry_run)
		earlier = earlier_objects(e, names, &complete);
	/* manifest.json last: its presence means this attempt's set is complete. */
	memset(&mi, 0, sizeof(mi));
	mi.incident_id = r->incident_id;
	mi.subject_name = e->subject_name;
	mi.subject = e->subject;
	mi.bucket = e->cfg->bucket;
	mi.prefix = e->prefix;
	mi.written_by = e->ctx && e->ctx->function_arn[0] ? e->ctx->function_arn : r->function;
	mi.written_ms = e->k->now_ms();
	mi.attempt = e->attempt;
	mi.earlier = earlier;
	mi.earlier_complete = complete;
	man = evidence_manifest_json(&mi, e->obj, nbody);
	txt = man ? cJSON_Print(man) : NULL;
	cJSON_Delete(man);
	if (earlier)
		cJSON_AddNumberToObject(out, "earlier_objects", cJSON_GetArraySize(earlier));
	cJSON_Delete(earlier);
	objects = cJSON_AddArrayToObject(out, "objects");
	for (i = 0; i < nbody; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", e->obj[i].key);
		cJSON_AddNumberToObject(o, "size", (double)e->obj[i].len);
		cJSON_AddStringToObject(o, "sha256", e->obj[i].sha_hex);
		cJSON_AddItemToArray(objects, o);
	}
	if (e->cfg->lock_days) {
		cJSON *l = cJSON_AddObjectToObject(out, "object_lock");

		cJSON_AddStringToObject(l, "mode", e->cfg->lock_mode);
		if (e->lock_until[0])
			cJSON_AddStringToObject(l, "retain_until", e->lock_until);
		else
			cJSON_AddStringToObject(l, "retain_until", e->cfg->lock_known ?
						"none: the bucket has no Object Lock" :
						"none: the bucket's Object Lock configuration could not be read");
	}
	if (resp_failed(r) && !r->dry_run) {
		/* An incomplete set gets no manifest: a retry adds a set of its own. */
		free(txt);
		cJSON_AddStringToObject(out, "state", "incomplete");
		return;
	}
	if (txt && evidence_add(e, "manifest.json", txt, strlen(txt), NULL))
		put_range(e, e->nobj - 1, e->nobj);
	e->put_from = e->nobj;
	cJSON_AddStringToObject(out, "manifest", e->nobj ? e->obj[e->nobj - 1].key : "");
	cJSON_AddStringToObject(out, "state", r->dry_run ? "planned" : (resp_failed(r) ? "incomplete" : "kept"));
}

int evidence_undo_record(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			 const struct lr_context *ctx, const char *subject_name, const char *subject,
			 const cJSON *entries, cJSON *out)
{
	struct evidence *e;
	char *txt;
	size_t before;
	int ok;

	if (!cfg || !cfg->bucket) {
		cJSON_AddStringToObject(out, "state", "not kept");
		cJSON_AddStringToObject(out, "why", "FIREBREAK_EVIDENCE_BUCKET not set: the undo is in this "
					"report's restore[] only (firebreak-restore cannot undo this incident)");
		return 0;
	}
	e = calloc(1, sizeof(*e));   /* struct evidence holds 32 object slots: not for the stack */
	txt = cJSON_Print(entries);
	if (!e || !txt) {
		free(e);
		free(txt);
		resp_warn(k->r, "the undo record could not be built (out of memory): the undo is in restore[] only");
		cJSON_AddStringToObject(out, "state", "incomplete");
		return 0;
	}
	evidence_init(e, k, own, cfg, ctx, subject_name, subject);
	cJSON_AddStringToObject(out, "bucket", cfg->bucket);
	before = k->r->nsteps;
	ok = evidence_claim(e, txt, strlen(txt), out);
	if (!ok) {
		/* the containment goes on: a record that cannot be written must
		 * not leave a key pending deletion or a bucket public */
		if (k->r->nsteps > before)
			resp_step_optional(k->r, (int)k->r->nsteps - 1);
		resp_warn(k->r, "the undo record (restore.json) could not be written: the containment went on; "
			  "its undo is in this report's restore[] only");
	} else {
		cJSON_AddStringToObject(out, "state", k->r->dry_run ? "planned" : "kept");
		cJSON_AddStringToObject(out, "key", e->obj[0].key);
	}
	evidence_cleanup(e);
	free(e);
	return ok;
}

/* ---- w4-kc-tq: the opening of a set ------------------------------------------------ */

int evidence_open(struct evidence *e, int wrote, const cJSON *restore, cJSON *out)
{
	char *txt;

	if (!evidence_begin(e, wrote, out))
		return 0;
	txt = cJSON_Print(restore);
	return evidence_claim(e, txt, txt ? strlen(txt) : 0, out);
}

/* ---- w4-kc-lr: the undo record after the writes ------------------------------------ */

int evidence_restore_after(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			   const struct lr_context *ctx, const char *subject_name, const char *subject,
			   int mark_secret)
{
	static const char *const names[] = { "restore.json", "manifest.json", NULL };
	struct evidence *e;
	cJSON *rec, *it, *out;
	char *txt;

	if (k->r->dry_run || cJSON_GetArraySize(k->r->restore) == 0)
		return 1;
	if (!cfg || !cfg->bucket)
		return 0;
	rec = cJSON_Duplicate(k->r->restore, 1);
	cJSON_ArrayForEach(it, rec)
		if (mark_secret && cJSON_IsObject(it) && !cJSON_HasObjectItem(it, "secret_public"))
			cJSON_AddBoolToObject(it, "secret_public", 1);
	txt = rec ? cJSON_Print(rec) : NULL;
	cJSON_Delete(rec);
	e = txt ? calloc(1, sizeof(*e)) : NULL;   /* 32 object slots: not for the stack */
	if (!e) {
		free(txt);
		return 1;
	}
	out = cJSON_AddObjectToObject(k->r->extra, "evidence");
	evidence_init(e, k, own, cfg, ctx, subject_name, subject);
	if (!evidence_begin(e, 1, out))
		free(txt);
	else if (evidence_claim(e, txt, strlen(txt), out)) {   /* takes txt */
		evidence_put(e);
		evidence_finish(e, names, out);
	}
	evidence_cleanup(e);
	free(e);
	return 1;
}

/* ---- w4-kc-kg: the claim as the responders make it ---------------------------------- */

int evidence_undo_claim(struct kit *k, struct aws_client *own, struct evidence_config *cfg,
			const struct lr_context *ctx, const char *subject_name, const char *subject,
			cJSON *entries, cJSON *parent)
{
	int ok = 0;

	if (cJSON_GetArraySize(entries) > 0)
		ok = evidence_undo_record(k, own, cfg, ctx, subject_name, subject, entries,
					  cJSON_AddObjectToObject(parent, "undo_record"));
	cJSON_Delete(entries);
	return ok;
}
