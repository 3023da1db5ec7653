/*
 * fuzz_firebreak_restore: firebreak-restore's pure stages (functions/
 * firebreak-restore/stages.c). The first byte picks the stage:
 *   0 the event text -> fr_parse: an accepted event has an incident id of
 *     "fb-" + 16 lowercase hex digits (the only thing that reaches an S3
 *     key) and at most 64 steps;
 *   1 a restore.json entry (JSON) and, after a 0x00 byte, a check answer
 *     (JSON) -> fr_kind_of, fr_wire, fr_decide: an unsupported or evidence
 *     api is never "apply", every decision says why, and an entry whose
 *     args fr_wire refuses yields no input.
 * FUZZ_SOURCES: functions/firebreak-restore/stages.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "../../functions/firebreak-restore/firebreak_restore.h"
#include "resp.h"

static void stage_event(const char *s)
{
	cJSON *ev = cJSON_Parse(s);
	struct fr_req req;
	char why[256] = "";
	size_t i;

	if (!ev)
		return;
	if (fr_parse(ev, &req, why, sizeof(why)) == 0) {
		if (!req.incident_id || strlen(req.incident_id) != 19 || strncmp(req.incident_id, "fb-", 3) ||
		    req.nsteps > FR_MAX_STEPS)
			abort();
		for (i = 3; i < 19; i++)
			if (!strchr("0123456789abcdef", req.incident_id[i]))
				abort();
	} else if (!why[0]) {
		abort();
	}
	cJSON_Delete(ev);
}

static void stage_entry(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b;
	size_t alen, blen;
	char *es, *as, why[256] = "";
	cJSON *e, *ans, *in;
	static const char *const created[] = { "sg-q", "firebreak-quarantine" };
	struct fr_state st;
	enum fr_kind k;
	enum fr_decision d;

	fuzz_split(data, size, 0, &a, &alen, &b, &blen);
	es = fuzz_strndup(a, alen);
	as = fuzz_strndup(b, blen);
	e = cJSON_Parse(es);
	ans = cJSON_Parse(as);
	if (e) {
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");

		k = fr_kind_of(resp_get_str(e, "api"), args);
		in = fr_wire(k, args, "sg-0123", why, sizeof(why));
		if ((k == FR_UNSUPPORTED || k == FR_KEPT) && in)
			abort();
		cJSON_Delete(in);
		memset(&st, 0, sizeof(st));
		st.found = blen % 2;
		st.answer = ans;
		st.created = created;
		st.ncreated = 2;
		why[0] = '\0';
		d = fr_decide(k, args, &st, why, sizeof(why));
		if (!why[0] || ((k == FR_UNSUPPORTED || k == FR_KEPT) && d != FR_SKIP))
			abort();
	}
	cJSON_Delete(e);
	cJSON_Delete(ans);
	free(es);
	free(as);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		s = fuzz_strndup(data + 1, size - 1);
		stage_event(s);
		free(s);
	} else {
		stage_entry(data + 1, size - 1);
	}
	return 0;
}
