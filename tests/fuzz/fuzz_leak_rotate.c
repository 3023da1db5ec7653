/*
 * fuzz_leak_rotate: leak-rotate's event classification (functions/
 * leak-rotate/stages.c `leak_classify`: the awslogs delivery (decode +
 * batch parse), the CloudWatch alarm form and the manual form) on the
 * event text taken the handler's own way: resp_parse_event first, with
 * the same size cap. Settings: an alarm name, one log group and the
 * function's own log group (a delivery from it is ignored).
 * Checks: a refused or invalid event says why; an awslogs form has a
 * DATA_MESSAGE batch from another log group; the alarm window is ordered.
 * FUZZ_SOURCES: functions/leak-rotate/awslogs.c functions/leak-rotate/scan.c functions/leak-rotate/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/leak-rotate/leak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char alarm[] = "firebreak-leak-exposure";
	static char own[] = "/aws/lambda/leak-rotate";
	static char *groups[] = { "/ecs/orders-api" };
	static struct leak_settings set;
	struct leak_batch batch;
	char why[512], *s;
	cJSON *ev = NULL;
	enum leak_form f;

	if (size > RESP_MAX_EVENT_BYTES + 1)
		return 0;
	set.alarm_name = alarm;
	set.own_log_group = own;
	set.log_groups.v = groups;
	set.log_groups.n = 1;
	set.lookback_ms = 900000;
	s = fuzz_strndup(data, size);
	why[0] = '\0';
	if (resp_parse_event(s, size, RESP_MAX_EVENT_BYTES, &ev, why, sizeof(why)) != FB_OK) {
		if (ev || !why[0])
			abort(); /* a refusal says why and leaves nothing */
		free(s);
		return 0;
	}
	memset(&batch, 0, sizeof(batch));
	why[0] = '\0';
	f = leak_classify(ev, &set, &batch, why, sizeof(why));
	if ((f == LEAK_FORM_INVALID || f == LEAK_FORM_IGNORE) && !why[0])
		abort(); /* an invalid or ignored event says why */
	if (f == LEAK_FORM_AWSLOGS && (!batch.message_type || strcmp(batch.message_type, "DATA_MESSAGE") ||
				       !strcmp(batch.log_group, own)))
		abort();
	if (f == LEAK_FORM_ALARM) {
		int64_t start, end;

		leak_alarm_window(ev, 0, 1700000000000, set.lookback_ms, &start, &end);
		if (start >= end)
			abort();
	}
	leak_batch_cleanup(&batch);
	cJSON_Delete(ev);
	free(s);
	return 0;
}
