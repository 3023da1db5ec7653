/*
 * kit_fake.h: the fake HTTP transport on a virtual clock and the fixture
 * (a client, a report, a kit) that test_kit.c and test_redeploy.c share:
 * the real AWS layer and kit over answers routed by operation and a
 * substring of the request body, every request recorded with the number
 * of restore[] entries the report held when it was sent. Included once per
 * test program (static definitions), after cmocka.h, aws.h, http.h, kit.h
 * and resp.h.
 */
#ifndef FB_TEST_KIT_FAKE_H
#define FB_TEST_KIT_FAKE_H

/* ---- the fake transport ------------------------------------------------------ */

#define T0_MS 1796601600000LL /* 2026-12-07T00:00:00Z */
#define MAXLOG 64
#define MAXROUTES 32

struct route {
	const char *op;
	const char *match;   /* substring of the request body; NULL = any */
	long status;
	const char *body;
	int64_t delay_ms;
	int times;           /* 0 = every time */
	int used;
};

struct logged {
	char op[64];
	char url[512];
	char body[4096];
	char auth[512];      /* the Authorization header */
	int64_t at_ms;
	int nrestore;        /* restore[] entries when the request was sent */
};

struct flight {
	struct http_exchange *x;
	int64_t done_at;
	const struct route *rt;
};

static struct fake {
	int64_t now;
	struct route routes[MAXROUTES];
	size_t nroutes;
	struct logged log[MAXLOG];
	size_t nlog;
	struct flight fl[MAXLOG];
	size_t nfl;
	int max_parallel;
	struct resp *r;      /* whose restore[] to sample */
} F;

static const struct route not_routed = { "", NULL, 500, "{\"__type\":\"NotRouted\"}", 0, 0, 0 };

static void op_of(const struct http_exchange *x, char *op, size_t len)
{
	const char *b = x->req.body ? (const char *)x->req.body : "";
	size_t i;

	op[0] = '\0';
	for (i = 0; i < x->req.nheaders; i++)
		if (!strcasecmp(x->req.headers[i].name, "X-Amz-Target")) {
			const char *dot = strrchr(x->req.headers[i].value, '.');

			snprintf(op, len, "%s", dot ? dot + 1 : "");
			return;
		}
	if (!strncmp(b, "Action=", 7))
		snprintf(op, len, "%.*s", (int)strcspn(b + 7, "&"), b + 7);
}

static enum fb_err fake_start(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	struct logged *l = &f->log[f->nlog < MAXLOG ? f->nlog : MAXLOG - 1];
	const struct route *rt = &not_routed;
	size_t i;

	if (f->nlog < MAXLOG)
		f->nlog++;
	op_of(x, l->op, sizeof(l->op));
	snprintf(l->url, sizeof(l->url), "%s", x->req.url);
	snprintf(l->body, sizeof(l->body), "%.*s", (int)x->req.body_len,
		 x->req.body ? (const char *)x->req.body : "");
	l->auth[0] = '\0';
	for (i = 0; i < x->req.nheaders; i++)
		if (!strcasecmp(x->req.headers[i].name, "Authorization"))
			snprintf(l->auth, sizeof(l->auth), "%s", x->req.headers[i].value);
	l->at_ms = f->now;
	l->nrestore = f->r ? cJSON_GetArraySize(f->r->restore) : -1;
	for (i = 0; i < f->nroutes; i++) {
		struct route *c = &f->routes[i];

		if (!strcmp(c->op, l->op) && (!c->match || strstr(l->body, c->match)) &&
		    (!c->times || c->used < c->times)) {
			c->used++;
			rt = c;
			break;
		}
	}
	http_response_init(&x->resp, x->req.max_response);
	f->fl[f->nfl].x = x;
	f->fl[f->nfl].rt = rt;
	f->fl[f->nfl].done_at = f->now + rt->delay_ms;
	f->nfl++;
	if ((int)f->nfl > f->max_parallel)
		f->max_parallel = (int)f->nfl;
	return FB_OK;
}

static enum fb_err fake_wait(void *ctx, int64_t timeout_ms, struct http_exchange **done)
{
	struct fake *f = ctx;
	size_t i, best = 0;
	struct flight fl;

	*done = NULL;
	for (i = 1; i < f->nfl; i++)
		if (f->fl[i].done_at < f->fl[best].done_at)
			best = i;
	if (f->nfl == 0 || f->fl[best].done_at > f->now + timeout_ms) {
		f->now += timeout_ms;
		return FB_OK;
	}
	fl = f->fl[best];
	memmove(&f->fl[best], &f->fl[best + 1], (f->nfl - best - 1) * sizeof(fl));
	f->nfl--;
	if (fl.done_at > f->now)
		f->now = fl.done_at;
	fl.x->resp.rc = FB_OK;
	fl.x->resp.status = fl.rt->status;
	buf_puts(&fl.x->resp.headers, "x-amzn-RequestId: r-1\r\n");
	buf_puts(&fl.x->resp.body, fl.rt->body);
	*done = fl.x;
	return FB_OK;
}

static void fake_cancel(void *ctx, struct http_exchange *x)
{
	struct fake *f = ctx;
	size_t i;

	for (i = 0; i < f->nfl; i++)
		if (f->fl[i].x == x) {
			memmove(&f->fl[i], &f->fl[i + 1], (f->nfl - i - 1) * sizeof(f->fl[0]));
			f->nfl--;
			return;
		}
}

static int64_t fake_now(void *ctx) { return ((struct fake *)ctx)->now; }
static void fake_destroy(void *ctx) { (void)ctx; }
static int64_t kit_fake_now(void) { return F.now; }

static const char *fake_getenv(const char *name)
{
	return !strcmp(name, "AWS_MAX_ATTEMPTS") ? "1" : NULL;
}

static void route(const char *op, const char *match, long status, const char *body, int64_t delay_ms,
		  int times)
{
	struct route *r = &F.routes[F.nroutes++];

	assert_true(F.nroutes <= MAXROUTES);
	r->op = op;
	r->match = match;
	r->status = status;
	r->body = body;
	r->delay_ms = delay_ms;
	r->times = times;
	r->used = 0;
}

/* Requests of one operation so far. */
static int sent(const char *op)
{
	size_t i;
	int n = 0;

	for (i = 0; i < F.nlog; i++)
		n += !strcmp(F.log[i].op, op);
	return n;
}

static const struct logged *last_of(const char *op)
{
	size_t i;

	for (i = F.nlog; i-- > 0;)
		if (!strcmp(F.log[i].op, op))
			return &F.log[i];
	return NULL;
}

/* ---- fixture: a client, a report, a kit --------------------------------------- */

struct world {
	struct aws_client *aws;
	struct resp_config cfg;
	struct resp r;
	struct kit k;
};

static const struct lr_context ctx = {
	.request_id = "req-1",
	.deadline_ms = 0,
	.function_arn = "arn:aws:lambda:us-east-1:111111111111:function:kms-guard",
	.trace_id = "", .client_context = "", .cognito_identity = "", .tenant_id = "",
};

static void world_up(struct world *w, int dry_run)
{
	struct http_transport *t = calloc(1, sizeof(*t));
	struct aws_client_options o;
	char err[200] = "";

	memset(&F, 0, sizeof(F));
	memset(w, 0, sizeof(*w));
	F.now = T0_MS;
	t->ctx = &F;
	t->start = fake_start;
	t->wait = fake_wait;
	t->cancel = fake_cancel;
	t->now_ms = fake_now;
	t->destroy = fake_destroy;
	memset(&o, 0, sizeof(o));
	o.region = "us-east-1";
	o.access_key = "AKIDEXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.transport = t;
	o.getenv_fn = fake_getenv;
	o.jitter_seed = 7;
	if (aws_client_new_opts(&w->aws, &o, err, sizeof(err)) != FB_OK)
		fail_msg("aws_client_new_opts: %s", err);
	unsetenv("FIREBREAK_DRY_RUN");
	unsetenv("FIREBREAK_TRUSTED_PRINCIPALS");
	unsetenv("FIREBREAK_TOPIC_ARN");
	unsetenv("FIREBREAK_MEMBER_ROLE");
	assert_int_equal(resp_config_from_env(&w->cfg, err, sizeof(err)), FB_OK);
	w->cfg.dry_run = dry_run;
	assert_int_equal(resp_begin(&w->r, &w->cfg, "kit-test", &ctx), FB_OK);
	w->r.dry_run = dry_run;
	resp_set_incident(&w->r, "ev-1");
	kit_init(&w->k, &w->r, w->aws);
	w->k.now_ms = kit_fake_now;
	F.r = &w->r;
}

static void world_down(struct world *w)
{
	kit_cleanup(&w->k);
	resp_cleanup(&w->r);
	resp_config_cleanup(&w->cfg);
	aws_client_free(w->aws);
	F.r = NULL;
}

static const struct resp_step *line(const struct world *w, const char *step)
{
	size_t i;

	for (i = 0; i < w->r.nsteps; i++)
		if (!strcmp(w->r.steps[i].step, step))
			return &w->r.steps[i];
	fail_msg("no report line '%s'", step);
	return NULL;
}

#endif
