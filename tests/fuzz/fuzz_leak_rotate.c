/*
 * fuzz_leak_rotate: leak-rotate's event classification (functions/
 * leak-rotate/main.c `classify`, included with main renamed): the awslogs
 * delivery (decode + batch parse), the CloudWatch alarm form and the manual
 * form, on the event text parsed as the handler parses it. Needs only the
 * settings part of the state (alarm name, log groups).
 * Checks: an invalid or ignored event says why; an awslogs form has a
 * DATA_MESSAGE batch.
 * FUZZ_SOURCES: functions/leak-rotate/awslogs.c functions/leak-rotate/scan.c
 */
#define main leak_rotate_main_unused
#include "../../functions/leak-rotate/main.c"
#undef main
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char alarm[] = "firebreak-leak-exposure";
	static char *groups[] = { "/ecs/orders-api" };
	static struct lk_state st;
	struct lk_run *u;
	char why[512], *s;
	enum lk_form f;

	if (size > RESP_MAX_EVENT_BYTES)
		return 0;
	st.set.alarm_name = alarm;
	st.set.log_groups.v = groups;
	st.set.log_groups.n = 1;
	s = fuzz_strndup(data, size);
	u = calloc(1, sizeof(*u));
	if (!u)
		abort();
	u->st = &st;
	u->ev = cJSON_ParseWithLengthOpts(s, size + 1, NULL, 1);
	if (u->ev) {
		why[0] = '\0';
		f = classify(u, why, sizeof(why));
		if ((f == FORM_INVALID || f == FORM_IGNORE) && !why[0] && f == FORM_INVALID)
			abort(); /* an invalid event must say why */
		if (f == FORM_AWSLOGS && (!u->batch.message_type ||
					  strcmp(u->batch.message_type, "DATA_MESSAGE")))
			abort();
	}
	leak_batch_cleanup(&u->batch);
	cJSON_Delete(u->ev);
	free(u);
	free(s);
	return 0;
}
