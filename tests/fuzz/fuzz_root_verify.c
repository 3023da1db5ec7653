/*
 * fuzz_root_verify: root-verify's pure stages on attacker-influenced input
 * (functions/root-verify/stages.c, declared in root_verify.h). The first
 * byte picks the stage:
 *   0 the event: parsed as rv_run's .parse reads it, then rv_classify; a
 *     trigger then goes through rv_decide and rv_report_extra;
 *   1 a LookupEvents page (CloudTrailEvent strings are attacker-shaped
 *     records) -> rv_history_add_page -> rv_history_json;
 *   2 a GetAccountSummary answer -> rv_account_parse;
 *   3 FIREBREAK_ROOT_ALLOWED_CIDRS text -> rv_cidrs_parse, then an IP check.
 * FUZZ_SOURCES: functions/root-verify/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "../../functions/root-verify/root_verify.h"

static char *trusted[] = { "arn:aws:iam::999999999999:role/RootTasks" };

static void config(struct rv_config *c, struct resp_config *rc)
{
	char err[256];

	memset(rc, 0, sizeof(*rc));
	rc->trusted = trusted;
	rc->ntrusted = 1;
	memset(c, 0, sizeof(*c));
	snprintf(c->alarm_name, sizeof(c->alarm_name), "%s", RV_DEFAULT_ALARM);
	c->policy.failed_threshold = 3;
	c->lookback_minutes = 60;
	c->max_pages = 20;
	c->max_events = 1000;
	c->policy.resp = rc;
	if (rv_cidrs_parse("203.0.113.0/24,2001:db8::/32", &c->policy, err, sizeof(err)) != FB_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rv_config cfg;
	static struct resp_config rcfg;
	struct rv_trigger t;
	cJSON *j;
	char *s;
	size_t n;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES)
		return 0;
	config(&cfg, &rcfg);
	s = fuzz_strndup(data + 1, size - 1);
	n = size - 1;
	switch (data[0] & 3) {
	case 0:
		j = cJSON_ParseWithLengthOpts(s, n + 1, NULL, 1);
		if (j) {
			memset(&t, 0, sizeof(t));
			if (rv_classify(j, &cfg, &t) == RV_CLASS_RUN) {
				/* the facts as rv_run builds them, then the verdict
				 * and the report's fields */
				static struct rv_facts f;
				static struct vd_verdict v;
				cJSON *extra = cJSON_CreateObject();

				memset(&f, 0, sizeof(f));
				f.kind = t.kind;
				f.has_event = t.kind == RV_SIGNIN || t.kind == RV_API_CALL;
				f.ev = t.ev;
				f.window_minutes = t.window_minutes;
				f.policy = &cfg.policy;
				rv_history_init(&f.hist, t.ev.event_id);
				rv_decide(&f, &v);
				if (!memchr(v.verdict, '\0', sizeof(v.verdict)) || v.severity[0] != 'P')
					abort();
				rv_report_extra(extra, &t, &f, &v, &cfg, "111111111111", "a", "b");
				cJSON_Delete(extra);
			}
			if (!memchr(t.why, '\0', sizeof(t.why)))
				abort();
			cJSON_Delete(j);
		}
		break;
	case 1: {
		struct rv_history *h = calloc(1, sizeof(*h));

		if (!h)
			abort();
		rv_history_init(h, "ev-trigger");
		h->queried = 1;
		j = cJSON_ParseWithLength(s, n);
		if (j) {
			cJSON *out;

			(void)rv_history_add_page(h, &cfg.policy, j, (size_t)cfg.max_events);
			(void)rv_history_add_page(h, &cfg.policy, j, (size_t)cfg.max_events);
			out = rv_history_json(h, (size_t)cfg.max_pages, (size_t)cfg.max_events);
			cJSON_Delete(out);
			cJSON_Delete(j);
		}
		free(h);
		break;
	}
	case 2: {
		struct rv_account a;

		j = cJSON_ParseWithLength(s, n);
		if (j) {
			memset(&a, 0, sizeof(a));
			(void)rv_account_parse(j, &a);
			cJSON_Delete(j);
		}
		break;
	}
	case 3: {
		struct rv_policy p;
		char err[256];

		memset(&p, 0, sizeof(p));
		p.resp = &rcfg;
		if (rv_cidrs_parse(s, &p, err, sizeof(err)) == FB_OK) {
			(void)kit_ip_in(p.cidrs, p.ncidrs, "203.0.113.7");
			(void)kit_ip_in(p.cidrs, p.ncidrs, "2001:db8::1");
			(void)kit_ip_in(p.cidrs, p.ncidrs, s);
		}
		break;
	}
	}
	free(s);
	return 0;
}
