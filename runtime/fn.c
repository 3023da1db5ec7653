/* fn: a responder's process, written once (fn.h). */
#include "fn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fn_free(const struct fn_responder *fn, void *state)
{
	struct fn_base *b = state;

	if (!b)
		return;
	if (fn && fn->cleanup)
		fn->cleanup(state);
	evidence_config_cleanup(&b->evcfg);
	resp_config_cleanup(&b->cfg);
	aws_client_free(b->aws);
	free(state);
}

enum fb_err fn_init(const struct fn_responder *fn, void **state, char *err, size_t errlen)
{
	struct fn_base *b;
	enum fb_err rc;

	*state = NULL;
	if (fn->size < sizeof(*b)) {
		snprintf(err, errlen, "%s: its state does not begin with struct fn_base", fn->function);
		return FB_E_INVALID;
	}
	b = calloc(1, fn->size);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return FB_E_NOMEM;
	}
	b->function = fn->function;
	b->margin_ms = fn->margin_ms;
	/* kit_setup leaves nothing to free when it fails */
	rc = kit_setup(&b->cfg, &b->aws, err, errlen);
	if (rc != FB_OK) {
		free(b);
		return rc;
	}
	if (fn->settings)
		rc = fn->settings(b, err, errlen);
	if (rc == FB_OK && !fn->no_evidence)
		rc = evidence_config_from_env(&b->evcfg, err, errlen);
	if (rc != FB_OK) {
		fn_free(fn, b);
		return rc;
	}
	*state = b;
	return FB_OK;
}

/* lr_main's callbacks take no context: the one responder of this process. */
static const struct fn_responder *fn_process;

static enum fb_err fn_lr_init(void **state, char *err, size_t errlen)
{
	return fn_init(fn_process, state, err, errlen);
}

static enum fb_err fn_lr_handle(void *state, const char *event, size_t len, const struct lr_context *ctx,
				struct lr_result *out)
{
	return fn_invoke(fn_process, state, event, len, ctx, out);
}

int fn_main(const struct fn_responder *fn)
{
	/* the handler by assignment: tests/infra/iamderive.py follows a
	 * function whose address is taken this way (the frame's publish) */
	lr_handler_fn handle = fn_lr_handle;

	fn_process = fn;
	return lr_main(fn_lr_init, handle);
}

/* The envelope kit_begin reads: the event's cJSON *root, where
 * fn->event_root says. */
static const cJSON *fn_event_root(const struct fn_responder *fn, const void *ev)
{
	const cJSON *root;

	memcpy(&root, (const char *)ev + fn->event_root, sizeof(root));
	return root;
}

enum fb_err fn_invoke(const struct fn_responder *fn, void *state, const char *event, size_t len,
		      const struct lr_context *ctx, struct lr_result *out)
{
	struct resp r;
	struct kit k;
	struct fn_call c = { .st = state, .ctx = ctx, .r = &r, .k = &k, .out = out };
	char why[512];
	enum fb_err rc;

	c.ev = calloc(1, fn->event_size ? fn->event_size : 1);
	if (!c.ev)
		return FB_E_NOMEM;
	why[0] = '\0';
	rc = fn->parse(&c, event, len, why, sizeof(why));
	if (rc != FB_OK && rc != FB_E_NOMEM && !c.answered)
		rc = resp_invalid(out, "%s", why);
	else if (rc == FB_OK && !c.answered && fn_open(c.r, c.k, state, ctx, fn_event_root(fn, c.ev),
						     fn->skip ? fn->skip(c.ev) : NULL, out, &rc)) {
		rc = fn->run(&c);
		if (rc == FB_OK && !c.answered) {
			/* published with the function's own client, whatever
			 * the kit's default became (a member account's) */
			c.k->aws = ((struct fn_base *)state)->aws;
			if (fn->finish_reserve_ms && ctx && ctx->deadline_ms)
				aws_client_set_deadline(c.k->aws, ctx->deadline_ms - fn->finish_reserve_ms);
			rc = fn_finish(c.k, out);
		} else {        /* answered by run, or nothing published: the cleanups alone */
			kit_cleanup(c.k);
			resp_cleanup(c.r);
		}
	}
	if (fn->event_cleanup)
		fn->event_cleanup(c.ev);
	free(c.ev);
	return rc;
}

int fn_open(struct resp *r, struct kit *k, void *state, const struct lr_context *ctx, const cJSON *ev,
	    const char *skip, struct lr_result *out, enum fb_err *rc)
{
	struct fn_base *b = state;

	if (skip && *skip) {
		*rc = kit_skip_result(&b->cfg, b->function, ev, ctx, skip, out);
		return 0;
	}
	if (!kit_begin(r, &(struct kit_handler){ b->function, &b->cfg, b->aws, b->margin_ms }, ctx, ev, out, rc))
		return 0;
	kit_init(k, r, b->aws);
	return 1;
}

enum fb_err fn_finish(struct kit *k, struct lr_result *out)
{
	enum fb_err rc = resp_finish(k->r, k->aws, out);

	kit_cleanup(k);
	resp_cleanup(k->r);
	return rc;
}

void fn_manual_incident(struct resp *r, const cJSON *ev, const char *fmt, ...)
{
	char key[FN_MANUAL_KEY_LEN];
	va_list ap;

	if (resp_get_str(ev, "id"))
		return;
	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	resp_set_incident(r, key);
}
