/*
 * fuzz_root_verify: root-verify's pure stages on attacker-influenced input
 * (functions/root-verify/main.c included with its main renamed, as the unit
 * tests do). The first byte picks the stage:
 *   0 the event: parsed as rv_handle parses it, then rv_classify;
 *   1 a LookupEvents page (CloudTrailEvent strings are attacker-shaped
 *     records) -> rv_history_add_page -> rv_history_json;
 *   2 a GetAccountSummary answer -> rv_account_parse;
 *   3 FIREBREAK_ROOT_ALLOWED_CIDRS text -> rv_cidrs_parse, then an IP check.
 * FUZZ_SOURCES:
 */
#define main root_verify_main_unused
#include "../../functions/root-verify/main.c"
#undef main
#include "fuzz_common.h"

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
			(void)rv_classify(j, &cfg, &t);
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
			(void)rv_ip_check(&p, "203.0.113.7");
			(void)rv_ip_check(&p, "2001:db8::1");
			(void)rv_ip_check(&p, s);
		}
		break;
	}
	}
	free(s);
	return 0;
}
