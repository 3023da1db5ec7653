/*
 * fn: a responder's process, written once. What every responder's main.c
 * used to write for itself (issue 17): the state's common part (the
 * report settings, the evidence settings, the default client), its init
 * and the cleanup when init fails, and the handler's opening and closing.
 *
 * and the whole invocation frame around its decisions (fn_invoke: the
 * parse, the invalid and skipped results, the report's opening, the
 * finish, the cleanups). A responder declares its pieces and keeps only
 * its settings, its event's reader and its decisions (.run):
 *
 *     FN_STATE(xx_state, struct xx_settings, xx_settings_from_env)
 *     FN_EVENT_READER(xx, xx_parse(event, len, c->ev, why, whylen))
 *     static enum fb_err xx_run(struct fn_call *c)
 *     {
 *             ... the decisions, through the kit (kit.h): c->r, c->k,
 *             c->ev, c->st, c->ctx ...
 *             return FB_OK;
 *     }
 *     int main(void)
 *     {
 *             return fn_main(&(struct fn_responder){ .function = XX_FUNCTION,
 *                     .margin_ms = XX_DEADLINE_MARGIN_MS, .size = sizeof(struct xx_state),
 *                     .settings = xx_state_settings, FN_EVENT(struct xx_event, xx),
 *                     .skip = xx_skip, .run = xx_run });
 *     }
 *
 * Init (fn_init), in this order, the first failure stopping it with err
 * saying which setting is wrong (the message each reader always gave):
 * resp_config_from_env and the default client (kit_setup), the responder's
 * own settings (.settings: they may read fn.cfg), FIREBREAK_EVIDENCE_*
 * (evidence_config_from_env) unless .no_evidence. A failed init frees
 * everything made (.cleanup for what .settings made, also when .settings
 * itself failed half-way) and leaves *state NULL.
 *
 * Ownership: the state is heap (calloc, zeroed), owned by the process
 * (lr_main keeps it for every invocation; it is never freed: the process
 * ends). fn.* members are owned by the state; the descriptor is copied
 * where needed (function name and margin are borrowed: literals).
 */
#ifndef FB_FN_H
#define FB_FN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "aws.h"
#include "evidence.h"
#include "fb_err.h"
#include "kit.h"
#include "lr.h"
#include "resp.h"

/* The common part of a responder's state: its first member. */
struct fn_base {
	const char *function;          /* borrowed: the report's "function" */
	int64_t margin_ms;             /* kept back from the invocation's deadline */
	struct resp_config cfg;        /* owned: resp_config_from_env */
	struct evidence_config evcfg;  /* owned: FIREBREAK_EVIDENCE_* (zero with .no_evidence) */
	struct aws_client *aws;        /* owned: the default client (the environment's Region) */
};

/* One invocation, as fn_invoke hands it to a responder's .parse and .run. */
struct fn_call {
	void *st;                      /* borrowed: the responder's state (fn_init's) */
	void *ev;                      /* owned by fn_invoke: the event, .event_size bytes */
	const struct lr_context *ctx;  /* borrowed: the invocation's */
	struct resp *r;                /* the report (kit_begin), finished by fn_invoke: the frame's */
	struct kit *k;                 /* the kit over r and fn.aws: the frame's (or .parse's, above) */
	struct lr_result *out;         /* borrowed: the invocation's result */
	/* Set by a .parse or .run that answered the invocation itself into
	 * out (leak-rotate's quiet results, its own finish): what it returns
	 * is the handler's, the frame only cleans up. */
	int answered;
};

/* A responder, declared (plain data; a compound literal in main()). */
struct fn_responder {
	const char *function;          /* literal: the report's "function" */
	int64_t margin_ms;             /* kept back from ctx->deadline_ms for the report and publish */
	/* A responder that keeps margin_ms back for its own last steps
	 * (task-quarantine, instance-quarantine: the finishing reserve) gives
	 * the publish all but this much of the invocation instead; 0: the
	 * publish keeps kit_begin's deadline. */
	int64_t finish_reserve_ms;
	size_t size;                   /* sizeof the state: a struct whose first member is struct fn_base */
	/* The responder's own settings into the state (fn.cfg is read);
	 * NULL: none. FB_E_CONFIG with err filled on a bad value. */
	enum fb_err (*settings)(void *state, char *err, size_t errlen);
	/* Frees what .settings made (after a failed init only: a state that
	 * made it lives as long as the process); NULL: nothing to free. */
	void (*cleanup)(void *state);
	int no_evidence;               /* 1: FIREBREAK_EVIDENCE_* not read (root-verify keeps none) */
	/* The invocation frame (fn_invoke): the
	 * responder gives its event's pieces and its decisions, fn_ the rest.
	 * FN_EVENT(type, xx) fills the first three. */
	size_t event_size;             /* sizeof the responder's event struct (zeroed before .parse) */
	size_t event_root;             /* offsetof its cJSON *root: the envelope kit_begin reads */
	void (*event_cleanup)(void *ev); /* frees the event; safe on a zeroed or half-parsed one */
	/* event text -> c->ev (c->st is set): FB_OK, else why says what is
	 * wrong (the invalid result's error, nothing read or published);
	 * FB_E_NOMEM is returned as is. A responder whose own invocation
	 * struct holds its report and kit points c->r and c->k there. */
	enum fb_err (*parse)(struct fn_call *c, const char *event, size_t len, char *why, size_t whylen);
	/* NULL or "": the event is a trigger; else why it is not (the
	 * skipped result, zero AWS calls). NULL: every valid event is one. */
	const char *(*skip)(const void *ev);
	/* The decisions, with c->r and c->k open. FB_OK: the report is
	 * finished (fn_finish); else that error, nothing published (only
	 * FB_E_NOMEM so far). */
	enum fb_err (*run)(struct fn_call *c);
};

/* The init: a zeroed state of fn->size bytes, fn.* filled, then .settings,
 * as described above. FB_OK with *state set, else *state NULL and err set
 * (FB_E_NOMEM: "out of memory"). */
enum fb_err fn_init(const struct fn_responder *fn, void **state, char *err, size_t errlen);
/* Frees what fn_init made (for tests and fn_init's failure path; a state
 * that lives as long as the process needs no call). NULL: nothing. */
void fn_free(const struct fn_responder *fn, void *state);

/* The process: lr_main with fn_init and fn_invoke (fn borrowed for the
 * process's life). Returns lr_main's exit code. */
int fn_main(const struct fn_responder *fn);

/* The handler's opening, once the event is parsed (ev borrowed):
 *  - skip not NULL and not "": the event is not a trigger; *out is the
 *    skipped result (kit_skip_result: a P3 report, logged, not published,
 *    zero AWS calls), *rc what the handler returns, 0;
 *  - else kit_begin (the client's deadline from fn.margin_ms, the report,
 *    its trigger; a wrongly typed envelope is an invalid result: 0) and
 *    kit_init(k, r, fn.aws): 1, and the handler ends with fn_finish.
 * state is the responder's (its struct fn_base first). */
int fn_open(struct resp *r, struct kit *k, void *state, const struct lr_context *ctx, const cJSON *ev,
	    const char *skip, struct lr_result *out, enum fb_err *rc);
/* The handler's closing: resp_finish of k's report through k's default
 * client (the publication, the result into out), then kit_cleanup and
 * resp_cleanup. Returns resp_finish's rc. */
enum fb_err fn_finish(struct kit *k, struct lr_result *out);

/* The invocation frame (lr_main's handler in fn_main):
 * a zeroed event of fn->event_size bytes; fn->parse (not FB_OK: the
 * invalid result with its why; FB_E_NOMEM returned); fn_open with the event's root and
 * fn->skip's reason (a skip: the skipped result); fn->run; fn_finish
 * through fn.aws, the function's own client (the kit's default may have
 * become a member account's), or the cleanups when run failed;
 * fn->event_cleanup. Returns what the
 * handler returns. */
enum fb_err fn_invoke(const struct fn_responder *fn, void *state, const char *event, size_t len,
		      const struct lr_context *ctx, struct lr_result *out);

/* A responder's declaration pieces, so it writes them once:
 *  - FN_STATE(xx_state, struct xx_settings, xx_settings_from_env): the
 *    state struct xx_state { struct fn_base fn; struct xx_settings set; }
 *    and xx_state_settings(), its .settings;
 *  - FN_EVENT_READER(xx, parse): xx_event_read(), the .parse that
 *    returns the expression parse, written over the frame's names (c,
 *    event, len, why, whylen), and xx_event_free(), the .event_cleanup
 *    over xx_event_cleanup(struct xx_event *) (FN_EVENT_FREE(xx) alone
 *    when the reader is written by hand: name it xx_event_read);
 *  - FN_EVENT(struct xx_event, xx) in main()'s declaration: .event_size,
 *    .event_root (the event's cJSON *root), .event_cleanup, .parse.
 * So a responder reads:
 *     FN_STATE(xx_state, struct xx_settings, xx_settings_from_env)
 *     ...
 *     FN_EVENT_READER(xx, xx_parse(event, len, c->ev, why, whylen))
 *     static enum fb_err xx_run(struct fn_call *c) { ... the decisions ... }
 *     int main(void)
 *     {
 *             return fn_main(&(struct fn_responder){ .function = XX_FUNCTION,
 *                     .margin_ms = XX_DEADLINE_MARGIN_MS, .size = sizeof(struct xx_state),
 *                     .settings = xx_state_settings, FN_EVENT(struct xx_event, xx), .run = xx_run });
 *     } */
#define FN_STATE(tag, settings_type, from_env)                                        \
	struct tag {                                                                  \
		struct fn_base fn;                                                    \
		settings_type set;                                                    \
	};                                                                            \
	static enum fb_err tag##_settings(void *state, char *err, size_t errlen)     \
	{                                                                             \
		return from_env(&((struct tag *)state)->set, err, errlen);            \
	}
#define FN_EVENT_FREE(xx)                                                             \
	static void xx##_event_free(void *ev)                                         \
	{                                                                             \
		xx##_event_cleanup(ev);                                               \
	}
#define FN_EVENT_READER(xx, parse)                                                    \
	static enum fb_err xx##_event_read(struct fn_call *c, const char *event, size_t len, \
					   char *why, size_t whylen)                 \
	{                                                                             \
		(void)c;                                                              \
		return parse;                                                         \
	}                                                                             \
	FN_EVENT_FREE(xx)
#define FN_EVENT(type, xx)                                                            \
	.event_size = sizeof(type), .event_root = offsetof(type, root), .event_cleanup = xx##_event_free, \
	.parse = xx##_event_read

/* A manual invocation has no event id: the same request is the same
 * incident (a replay continues it, one record, one backup). When ev
 * (borrowed) has no string "id", the report's incident is keyed by the
 * formatted request (at most FN_MANUAL_KEY_LEN - 1 bytes); else nothing. */
#define FN_MANUAL_KEY_LEN 600
void fn_manual_incident(struct resp *r, const cJSON *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
