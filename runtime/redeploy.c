/*
 * redeploy: new secret value, wait until it is AWSCURRENT, redeploy its ECS
 * consumers, follow their rollout (redeploy.h). Moved out of leak-rotate
 * (issue 17) so that cognito-lockdown (issue 23) runs the same sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/sha.h>

#include "buf.h"
#include "prov.h"
#include "redeploy.h"
#include "resp.h"

static void rdp_nanosleep(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void rdp_init(struct rdp *d, struct kit *k, int64_t poll_ms, int64_t deadline_ms, cJSON *warnings)
{
	memset(d, 0, sizeof(*d));
	d->kit = k;
	d->poll_ms = poll_ms;
	d->deadline_ms = deadline_ms;
	d->warnings = warnings;
	d->list_name = "services list";
	d->now_ms = k->now_ms;
	d->sleep_ms = rdp_nanosleep;
}

void rdp_cleanup(struct rdp *d)
{
	free(d->sv);
	d->sv = NULL;
	d->nsv = d->capsv = 0;
}

/* A line a decision settles without a call. */
static void note(struct rdp *d, const char *step, const char *api, const char *target,
		 enum resp_status st, const char *detail)
{
	int i = resp_step_begin(d->kit->r, step, api, target, RESP_WRITE);

	resp_step_end(d->kit->r, i, st, detail, NULL);
}

static cJSON *secret_in(const char *arn)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddStringToObject(in, "SecretId", arn);
	return in;
}

/* 1 while another poll fits before the deadline. */
static int time_left(const struct rdp *d)
{
	return !d->deadline_ms || d->now_ms() + d->poll_ms + 200 <= d->deadline_ms;
}

/* ---- writing the new value ------------------------------------------------------------------ */

/* The answer of one write. The two "already" answers keep the error on the
 * line (what Secrets Manager said). */
static void write_outcome(struct rdp *d, struct rdp_secret *s, struct kit_step *st)
{
	const struct aws_error *e = kit_err(st);
	const char *vid = resp_get_str(kit_out(st), "VersionId");
	char detail[200];

	if (kit_ok(st)) {
		if (vid)
			buf_copy_str(s->version, sizeof(s->version), vid);
		if (s->put) {
			char fp[RESP_FP_LEN];

			resp_fingerprint(s->value, strlen(s->value), fp);
			kit_detail(st, "value stored: new version %s (value %s)%s%s", s->version, fp,
				   s->why[0] ? "; " : "", s->why);
		} else {
			kit_detail(st, "rotation started: new version %s%s%s", s->version, s->why[0] ? "; " : "",
				   s->why);
		}
		s->state = RDP_WAIT;
	} else if (!strcmp(e->code, "ResourceExistsException")) {
		/* our token's version exists: an earlier try of this incident
		 * made it */
		snprintf(detail, sizeof(detail), "%s by an earlier delivery (version %s)",
			 s->put ? "value already stored" : "rotation already started", s->version);
		resp_step_end(d->kit->r, kit_index(st), RESP_ALREADY, detail, e);
		s->state = RDP_WAIT;
	} else if (!strcmp(e->code, "InvalidRequestException") &&
		   strstr(e->message, "previous rotation isn't complete")) {
		/* started by someone else between our describe and rotate */
		resp_step_end(d->kit->r, kit_index(st), RESP_ALREADY, "rotation already in progress: waiting for it", e);
		s->version[0] = '\0'; /* learn it from DescribeSecret */
		s->state = RDP_WAIT;
	} else {
		kit_detail(st, "%s", s->put ? "value not stored" : "rotation not started");
		s->state = RDP_FAILED;
	}
}

/* 1 when s is due for a write of this kind; then its new version is
 * named by the token, and under dry run the write is only planned. */
static int write_due(struct rdp *d, struct rdp_secret *s, int put)
{
	if (s->state != RDP_WRITE || (put && !s->value))
		return 0;
	s->put = put;
	buf_copy_str(s->version, sizeof(s->version), s->token);
	s->state = d->kit->r->dry_run ? RDP_STOP : RDP_WRITE;
	return 1;
}

static cJSON *write_in(const struct rdp_secret *s, cJSON **value)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddStringToObject(in, "SecretId", s->arn);
	cJSON_AddStringToObject(in, "ClientRequestToken", s->token);
	if (value)
		*value = cJSON_AddStringToObject(in, "SecretString", s->value);
	return in;
}

/* Runs the round of writes (the undo of each is recorded first, also
 * planned under dry run) and reads each answer; frees the round. */
static void write_finish(struct rdp *d, struct rdp_secret *const *v, size_t n, struct kit_round *rd,
			 struct kit_step **w, cJSON **val)
{
	size_t i;

	kit_run(rd);
	for (i = 0; w && i < n; i++) {
		/* the request keeps the value until the round is freed: wipe it */
		if (val && val[i] && cJSON_IsString(val[i]) && val[i]->valuestring)
			explicit_bzero(val[i]->valuestring, strlen(val[i]->valuestring));
		if (w[i] && v[i]->state == RDP_WRITE)
			write_outcome(d, v[i], w[i]);
	}
	kit_round_free(rd);
	free(w);
	free(val);
}

void rdp_rotate(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	struct kit_round *rd = kit_round_new(d->kit);
	struct kit_step **w = calloc(n + 1, sizeof(*w));
	size_t i;

	for (i = 0; w && i < n; i++)
		if (write_due(d, v[i], 0))
			w[i] = kit_add(rd, &(struct kit_spec){ .step = "rotate-secret", .service = "secretsmanager",
				.op = "RotateSecret", .target = v[i]->arn, .kind = RESP_WRITE, .in = write_in(v[i], NULL),
				.restore = rdp_restore("rotate-secret", v[i]->arn, v[i]->old_version, v[i]->token,
						       d->undo_note) });
	write_finish(d, v, n, rd, w, NULL);
}

void rdp_put(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	struct kit_round *rd = kit_round_new(d->kit);
	struct kit_step **w = calloc(n + 1, sizeof(*w));
	cJSON **val = calloc(n + 1, sizeof(*val));
	size_t i;

	for (i = 0; w && val && i < n; i++) {
		char fp[RESP_FP_LEN], detail[120];

		if (!write_due(d, v[i], 1))
			continue;
		resp_fingerprint(v[i]->value, strlen(v[i]->value), fp);
		snprintf(detail, sizeof(detail), "value %s", fp);
		w[i] = kit_add(rd, &(struct kit_spec){ .step = "put-secret-value", .service = "secretsmanager",
			.op = "PutSecretValue", .target = v[i]->arn, .kind = RESP_WRITE, .in = write_in(v[i], &val[i]),
			.restore = rdp_restore("put-secret-value", v[i]->arn, v[i]->old_version, v[i]->token,
					       d->undo_note), .detail = detail });
	}
	write_finish(d, v, n, rd, w, val);
}

/* ---- waiting for AWSCURRENT ------------------------------------------------------------------ */

/* Every secret still waiting fails: the deadline is near. */
static void wait_give_up(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	char detail[300];
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i]->state != RDP_WAIT)
			continue;
		snprintf(detail, sizeof(detail),
			 "version %s not AWSCURRENT before the invocation deadline (%d polls); "
			 "services not redeployed", v[i]->version, v[i]->polls);
		resp_step_end(d->kit->r, v[i]->wait_idx, RESP_FAILED, detail, NULL);
		v[i]->state = RDP_FAILED;
	}
}

/* One poll of a waiting secret: 1 when it is settled. */
static int wait_poll(struct rdp *d, struct rdp_secret *s, struct kit_step *st)
{
	char detail[300];
	enum rdp_poll w;

	s->polls++;
	if (!kit_ok(st)) {
		if (aws_is_throttle_code(kit_err(st)->code))
			return 0;
		resp_step_end(d->kit->r, s->wait_idx, RESP_FAILED, s->put ? "cannot follow the new version" :
			      "cannot follow the rotation", kit_err(st));
		s->state = RDP_FAILED;
		return 1;
	}
	w = rdp_wait_check(kit_out(st), s, detail, sizeof(detail));
	if (w == RDP_MORE)
		return 0;
	resp_step_end(d->kit->r, s->wait_idx, w == RDP_DONE ? RESP_DONE : RESP_FAILED, detail, NULL);
	s->state = w == RDP_DONE ? RDP_CURRENT : RDP_FAILED;
	return 1;
}

/* DescribeSecret, all waiting secrets at once, until each new version is
 * AWSCURRENT, bounded by the deadline. One line per secret over all its
 * polls (quiet steps). */
void rdp_wait(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	struct kit_step **poll = calloc(n + 1, sizeof(*poll));
	size_t i, waiting = 0;

	for (i = 0; poll && i < n; i++) {
		if (v[i]->state != RDP_WAIT)
			continue;
		v[i]->wait_idx = resp_step_begin(d->kit->r, "wait-current", "secretsmanager:DescribeSecret",
						 v[i]->arn, RESP_READ);
		waiting++;
	}
	while (waiting) {
		struct kit_round *rd;

		if (!time_left(d)) {
			wait_give_up(d, v, n);
			break;
		}
		rd = kit_round_new(d->kit);
		for (i = 0; i < n; i++)
			poll[i] = v[i]->state != RDP_WAIT ? NULL :
				kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "secretsmanager",
					.op = "DescribeSecret", .kind = RESP_READ, .in = secret_in(v[i]->arn) });
		kit_run(rd);
		for (i = 0; i < n; i++)
			if (poll[i])
				waiting -= (size_t)wait_poll(d, v[i], poll[i]);
		kit_round_free(rd);
		if (waiting)
			d->sleep_ms(d->poll_ms);
	}
	free(poll);
}

/* ---- redeploying the consumers ---------------------------------------------------------------- */

static cJSON *services_in(const struct rdp_svc *s)
{
	cJSON *in = cJSON_CreateObject();
	const char *name = s->service;

	cJSON_AddStringToObject(in, "cluster", s->cluster);
	cJSON_AddItemToObject(in, "services", cJSON_CreateStringArray(&name, 1));
	return in;
}

/* Which services already got a deployment after the change (an earlier
 * delivery of this incident redeployed them). */
static void redeploy_check(struct rdp *d, struct rdp_secret *const *v)
{
	struct kit_round *rd = kit_round_new(d->kit);
	struct kit_step **st = calloc(d->nsv, sizeof(*st));
	size_t i;

	for (i = 0; st && i < d->nsv; i++)
		st[i] = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "ecs", .op = "DescribeServices",
			.kind = RESP_READ, .in = services_in(&d->sv[i]) });
	kit_run(rd);
	for (i = 0; st && i < d->nsv; i++) {
		struct rdp_svc *s = &d->sv[i];
		char detail[200];

		if (rdp_deployed_since(kit_out(st[i]), v[s->secret]->changed_at, s->deployment,
				       sizeof(s->deployment))) {
			snprintf(detail, sizeof(detail), "deployment %s started after the %s: already redeployed",
				 s->deployment, v[s->secret]->put ? "new value" : "rotation");
			note(d, "redeploy", "ecs:UpdateService", s->target, RESP_ALREADY, detail);
			s->need = 0;
		}
	}
	kit_round_free(rd);
	free(st);
}

void rdp_redeploy(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	struct kit_round *rd;
	struct kit_step **up;
	size_t i;

	rdp_cleanup(d);
	for (i = 0; i < n; i++)
		if (v[i]->state == RDP_CURRENT && v[i]->services && *v[i]->services &&
		    rdp_services_parse(v[i]->services, i, v[i]->arn, d->list_name, &d->sv, &d->nsv, &d->capsv,
				       d->warnings) != FB_OK)
			break;
	if (!d->nsv)
		return;
	redeploy_check(d, v);
	rd = kit_round_new(d->kit);
	up = calloc(d->nsv, sizeof(*up));
	for (i = 0; up && i < d->nsv; i++) {
		cJSON *in;

		if (!d->sv[i].need)
			continue;
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "cluster", d->sv[i].cluster);
		cJSON_AddStringToObject(in, "service", d->sv[i].service);
		cJSON_AddBoolToObject(in, "forceNewDeployment", 1);
		up[i] = kit_add(rd, &(struct kit_spec){ .step = "redeploy", .service = "ecs", .op = "UpdateService",
			.target = d->sv[i].target, .kind = RESP_WRITE, .in = in });
	}
	kit_run(rd);
	for (i = 0; up && i < d->nsv; i++) {
		const char *dep = rdp_primary_deployment(kit_out(up[i]));

		if (kit_status(up[i]) == RESP_DONE) {
			kit_detail(up[i], "new deployment %s", dep ? dep : "?");
			buf_copy_str(d->sv[i].deployment, sizeof(d->sv[i].deployment), dep);
		} else if (up[i] && kit_status(up[i]) == RESP_FAILED) {
			kit_detail(up[i], "not redeployed");
			d->sv[i].done = -1;
		}
	}
	kit_round_free(rd);
	free(up);
}

/* ---- following the rollout -------------------------------------------------------------------- */

void rdp_rollout(struct rdp *d, struct rdp_secret *const *v, size_t n)
{
	int *idx = calloc(d->nsv + 1, sizeof(*idx));
	struct kit_step **st = calloc(d->nsv + 1, sizeof(*st));
	size_t i, left = 0;

	for (i = 0; idx && st && i < d->nsv; i++) {
		struct rdp_svc *s = &d->sv[i];

		if (v[s->secret]->state != RDP_CURRENT || s->done)
			continue;
		idx[i] = resp_step_begin(d->kit->r, "wait-rollout", "ecs:DescribeServices", s->target, RESP_READ);
		if (!s->deployment[0]) {
			/* dry run (planned) or no deployment id in the answer */
			resp_step_end(d->kit->r, idx[i], d->kit->r->dry_run ? RESP_SKIPPED : RESP_FAILED,
				      "no new deployment to follow", NULL);
			s->done = -1;
			continue;
		}
		left++;
	}
	while (left && st && idx) {
		struct kit_round *rd;

		if (!time_left(d)) {
			for (i = 0; i < d->nsv; i++)
				if (!d->sv[i].done && v[d->sv[i].secret]->state == RDP_CURRENT) {
					resp_step_end(d->kit->r, idx[i], RESP_FAILED, "deployment not rolled out before "
						      "the invocation deadline", NULL);
					d->sv[i].done = -1;
				}
			break;
		}
		rd = kit_round_new(d->kit);
		for (i = 0; i < d->nsv; i++)
			st[i] = d->sv[i].done || v[d->sv[i].secret]->state != RDP_CURRENT ? NULL :
				kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "ecs", .op = "DescribeServices",
					.kind = RESP_READ, .in = services_in(&d->sv[i]) });
		kit_run(rd);
		for (i = 0; i < d->nsv; i++) {
			char detail[300];
			enum rdp_poll p;

			if (!st[i] || (!kit_ok(st[i]) && aws_is_throttle_code(kit_err(st[i])->code)))
				continue;
			p = kit_ok(st[i]) ? rdp_rollout_check(kit_out(st[i]), d->sv[i].deployment, detail,
							      sizeof(detail)) : RDP_FAIL;
			if (p == RDP_MORE)
				continue;
			resp_step_end(d->kit->r, idx[i], p == RDP_DONE ? RESP_DONE : RESP_FAILED,
				      kit_ok(st[i]) ? detail : "cannot follow the rollout", kit_err(st[i]));
			d->sv[i].done = p == RDP_DONE ? 1 : -1;
			left--;
		}
		kit_round_free(rd);
		if (left)
			d->sleep_ms(d->poll_ms);
	}
	for (i = 0; i < n; i++) {
		size_t k;
		int ok = v[i]->state == RDP_CURRENT;

		for (k = 0; ok && k < d->nsv; k++)
			ok = d->sv[k].secret != i || d->sv[k].done == 1;
		if (v[i]->state == RDP_CURRENT)
			v[i]->state = ok ? RDP_RUNNING : RDP_FAILED;
	}
	free(idx);
	free(st);
}

/* ---- finding the secret --------------------------------------------------------------------- */

static cJSON *tag_filter(const char *key, const char *value)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "Key", key);
	cJSON_AddItemToObject(f, "Values", cJSON_CreateStringArray(&value, 1));
	return f;
}

enum fb_err rdp_tagged(struct kit *k, const char *key, const char *value, int max_pages, cJSON *arns,
		       int *complete, struct aws_error *err)
{
	const struct kit_paging paging = { .items = "SecretList", .next = "NextToken", .max_pages = max_pages };
	struct kit_round *rd = kit_round_new(k);
	cJSON *in = cJSON_CreateObject(), *f = cJSON_AddArrayToObject(in, "Filters");
	const cJSON *sec;
	struct kit_step *list;
	enum fb_err rc = FB_OK;

	cJSON_AddItemToArray(f, tag_filter("tag-key", key));
	cJSON_AddItemToArray(f, tag_filter("tag-value", value));
	cJSON_AddNumberToObject(in, "MaxResults", 100);
	list = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "secretsmanager", .op = "ListSecrets",
					       .kind = RESP_READ, .in = in, .paging = &paging });
	kit_run(rd);
	for (sec = kit_items(list) ? kit_items(list)->child : NULL; sec; sec = sec->next) {
		const char *v = prov_tag_value(cJSON_GetObjectItemCaseSensitive(sec, "Tags"), key);

		if (resp_get_str(sec, "ARN") && v && prov_value_eq(v, value))
			cJSON_AddItemToArray(arns, cJSON_CreateString(resp_get_str(sec, "ARN")));
	}
	*complete = kit_complete(list);
	if (!kit_ok(list)) {
		*err = *kit_err(list);
		rc = FB_E_AWS;
	}
	kit_round_free(rd);
	return rc;
}

/* ---- pure stages ------------------------------------------------------------------------------- */

void rdp_token(const char *incident, const char *arn, const char *old_version, char out[37])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";
	char seed[3000];
	size_t i, k = 0;
	int n = snprintf(seed, sizeof(seed), "%s|%s|%s", incident, arn, old_version);

	SHA256((const unsigned char *)seed, n < 0 ? 0 : (size_t)n < sizeof(seed) ? (size_t)n : sizeof(seed) - 1, md);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* name-based UUID shape (v5-like) */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[md[i] >> 4];
		out[k++] = hex[md[i] & 15];
	}
	out[k] = '\0';
}

const char *rdp_version_with(const cJSON *v2s, const char *stage, const char *unless)
{
	const cJSON *v, *s;

	cJSON_ArrayForEach(v, v2s) {
		int has = 0, hasnot = 0;

		cJSON_ArrayForEach(s, v) {
			if (cJSON_IsString(s) && !strcmp(s->valuestring, stage))
				has = 1;
			if (unless && cJSON_IsString(s) && !strcmp(s->valuestring, unless))
				hasnot = 1;
		}
		if (has && !hasnot)
			return v->string;
	}
	return NULL;
}

int rdp_version_has(const cJSON *v2s, const char *vid, const char *stage)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v2s, vid))
		if (cJSON_IsString(s) && !strcmp(s->valuestring, stage))
			return 1;
	return 0;
}

/* When the new version became current: a put does not set LastRotatedDate. */
static double changed_at(const cJSON *describe, int put)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(describe, put ? "LastChangedDate" : "LastRotatedDate");

	return cJSON_IsNumber(t) ? t->valuedouble : 0;
}

enum rdp_poll rdp_wait_check(const cJSON *describe, struct rdp_secret *s, char *detail, size_t dlen)
{
	const cJSON *v2s = cJSON_GetObjectItemCaseSensitive(describe, "VersionIdsToStages");
	const char *cur = rdp_version_with(v2s, "AWSCURRENT", NULL);

	detail[0] = '\0';
	if (!s->version[0]) {
		const char *p = rdp_version_with(v2s, "AWSPENDING", "AWSCURRENT");

		if (p)
			buf_copy_str(s->version, sizeof(s->version), p);
	}
	if (s->version[0] && rdp_version_has(v2s, s->version, "AWSCURRENT")) {
		s->changed_at = changed_at(describe, s->put);
		snprintf(detail, dlen, "version %s is AWSCURRENT (%d polls)", s->version, s->polls);
		return RDP_DONE;
	}
	if (s->version[0] && !rdp_version_has(v2s, s->version, "AWSPENDING")) {
		if (s->put)
			snprintf(detail, dlen, "version %s is not AWSCURRENT: another value was stored since "
				 "(current version %s)", s->version, cur ? cur : "?");
		else
			snprintf(detail, dlen, "rotation failed: version %s is neither AWSPENDING nor AWSCURRENT "
				 "(see the rotation function's logs)", s->version);
		return RDP_FAIL;
	}
	if (!s->version[0] && cur && strcmp(cur, s->old_version)) {
		/* the other rotation finished before we saw its version */
		s->changed_at = changed_at(describe, s->put);
		snprintf(detail, dlen, "a new version is AWSCURRENT");
		return RDP_DONE;
	}
	return RDP_MORE;
}

enum fb_err rdp_services_parse(const char *list, size_t secret, const char *secret_arn,
			       const char *list_name, struct rdp_svc **sv, size_t *nsv, size_t *cap,
			       cJSON *warnings)
{
	const char *p = list;
	char item[600];
	int r, k = 0;

	while ((r = kit_list_next(&p, item, sizeof(item))) != 0) {
		const char *slash = strrchr(item, '/');
		struct rdp_svc *ns;

		if (k++ >= RDP_MAX_SERVICES) {
			kit_warn_to(warnings, "secret '%s': more than %d services tagged; the rest not redeployed",
				    secret_arn, RDP_MAX_SERVICES);
			break;
		}
		if (r < 0 || !slash || slash == item || !slash[1] || slash - item >= 256 || strlen(slash) > 256) {
			kit_warn_to(warnings, "secret '%s': %s entry '%.100s' is not cluster/service", secret_arn,
				    list_name, item);
			continue;
		}
		ns = buf_grow_array(*sv, *nsv, cap, sizeof(*ns), 8);
		if (!ns)
			return FB_E_NOMEM;
		*sv = ns;
		ns = &(*sv)[(*nsv)++];
		memset(ns, 0, sizeof(*ns));
		ns->secret = secret;
		snprintf(ns->cluster, sizeof(ns->cluster), "%.*s", (int)(slash - item), item);
		buf_copy_str(ns->service, sizeof(ns->service), slash + 1);
		snprintf(ns->target, sizeof(ns->target), "%s/%s", ns->cluster, ns->service);
		ns->need = 1;
	}
	return FB_OK;
}

int rdp_deployed_since(const cJSON *describe_services, double changed, char *dep, size_t deplen)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, resp_get(describe_services, "services.0.deployments")) {
		const cJSON *ca = cJSON_GetObjectItemCaseSensitive(d, "createdAt");
		const char *status = resp_get_str(d, "status");

		if (status && !strcmp(status, "PRIMARY") && changed > 0 && cJSON_IsNumber(ca) &&
		    ca->valuedouble >= changed) {
			buf_copy_str(dep, deplen, resp_get_str(d, "id") ? resp_get_str(d, "id") : "?");
			return 1;
		}
	}
	return 0;
}

const char *rdp_primary_deployment(const cJSON *update_service)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, resp_get(update_service, "service.deployments")) {
		const char *status = resp_get_str(d, "status");

		if (status && !strcmp(status, "PRIMARY"))
			return resp_get_str(d, "id");
	}
	return NULL;
}

enum rdp_poll rdp_rollout_check(const cJSON *describe_services, const char *dep, char *detail, size_t dlen)
{
	const cJSON *deps = resp_get(describe_services, "services.0.deployments"), *d, *mine = NULL;
	const char *state;
	long run = -1, want = -2;

	cJSON_ArrayForEach(d, deps) {
		const char *id = resp_get_str(d, "id");

		if (id && !strcmp(id, dep))
			mine = d;
	}
	if (!mine || !resp_get_str(mine, "status") || strcmp(resp_get_str(mine, "status"), "PRIMARY")) {
		snprintf(detail, dlen, "deployment %s is %s", dep, mine ? "no longer PRIMARY" : "not listed");
		return RDP_FAIL;
	}
	state = resp_get_str(mine, "rolloutState");
	if (state && !strcmp(state, "FAILED")) {
		snprintf(detail, dlen, "deployment %s rollout FAILED: %.200s", dep,
			 resp_get_str(mine, "rolloutStateReason") ? resp_get_str(mine, "rolloutStateReason") : "");
		return RDP_FAIL;
	}
	kit_json_long(cJSON_GetObjectItemCaseSensitive(mine, "runningCount"), &run);
	kit_json_long(cJSON_GetObjectItemCaseSensitive(mine, "desiredCount"), &want);
	/* every task of an older deployment still runs the old value */
	if (cJSON_GetArraySize(deps) == 1 && (state ? !strcmp(state, "COMPLETED") : run == want)) {
		snprintf(detail, dlen, "deployment %s rolled out (%ld tasks); no older deployment left", dep, run);
		return RDP_DONE;
	}
	return RDP_MORE;
}

cJSON *rdp_restore(const char *step, const char *arn, const char *old_version, const char *new_version,
		   const char *note)
{
	cJSON *e = cJSON_CreateObject();
	char cmd[1200];

	/* undo (prior state first): move AWSCURRENT back */
	snprintf(cmd, sizeof(cmd),
		 "aws secretsmanager update-secret-version-stage --secret-id '%s' "
		 "--version-stage AWSCURRENT --move-to-version-id %s --remove-from-version-id %s%s%s",
		 arn, old_version, new_version, note && *note ? "  # " : "", note ? note : "");
	if (e && (!cJSON_AddStringToObject(e, "step", step) ||
		  !cJSON_AddStringToObject(e, "api", "secretsmanager:UpdateSecretVersionStage") ||
		  !cJSON_AddStringToObject(e, "target", arn) ||
		  !cJSON_AddStringToObject(e, "prior_current_version", old_version) ||
		  !cJSON_AddStringToObject(e, "command", cmd))) {
		cJSON_Delete(e);
		e = NULL;
	}
	return e;
}

/* ---- w4-kc-lr: the values of a set of secrets ------------------------------------- */

enum fb_err rdp_values(struct kit *k, const cJSON *ids, rdp_values_fn fn, void *arg)
{
	size_t n = (size_t)cJSON_GetArraySize(ids);
	struct kit_step **get = calloc(n * 2 + 1, sizeof(*get));
	struct kit_round *rd = get ? kit_round_new(k) : NULL;
	const cJSON *id = ids ? ids->child : NULL;
	enum fb_err rc = FB_OK;
	size_t i;

	if (!rd) {
		free(get);
		return FB_E_NOMEM;
	}
	for (i = 0; i < n * 2; i++) {
		get[i] = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "secretsmanager",
			.op = "GetSecretValue", .kind = RESP_READ, .in = kit_obj("SecretId", cJSON_GetStringValue(id),
			"VersionStage", i % 2 ? "AWSPREVIOUS" : "AWSCURRENT", KIT_END) });
		if (i % 2)      /* both stages of this id queued: the next id */
			id = id->next;
	}
	kit_run(rd);
	for (i = 0; i < n; i++) {
		if (rc == FB_OK)
			rc = fn(arg, i, get[2 * i], get[2 * i + 1]);
		buf_cjson_wipe((cJSON *)kit_out(get[2 * i]));   /* SecretString */
		buf_cjson_wipe((cJSON *)kit_out(get[2 * i + 1]));
	}
	kit_round_free(rd);
	free(get);
	return rc;
}
