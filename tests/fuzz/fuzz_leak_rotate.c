/*
 * fuzz_leak_rotate: leak-rotate's event classification (functions/
 * leak-rotate/stages.c `leak_classify`: the awslogs delivery (decode +
 * batch parse), the CloudWatch alarm form and the manual form) on the
 * event text taken the handler's own way: resp_parse_event first, with
 * the same size cap. Settings: an alarm name, one log group and the
 * function's own log group (a delivery from it is ignored).
 * Checks: a refused or invalid event says why; an awslogs form has a
 * DATA_MESSAGE batch from another log group; the alarm window is ordered.
 * The messages of an awslogs or manual event are then scanned with the
 * detectors (leak_scan_messages: key ids and their secret access keys,
 * CloudTrail records' own key ids): every key found is a well-formed id,
 * and one seen only in a CloudTrail record's accessKeyId fields is none.
 * FUZZ_SOURCES: functions/leak-rotate/awslogs.c functions/leak-rotate/scan.c functions/leak-rotate/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "alarm.h"
#include "cloudtrail.h"
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
	if (f == LEAK_FORM_AWSLOGS || f == LEAK_FORM_MANUAL) {
		static struct leak_watch w;
		static int built;
		struct leak_msgs m;
		struct leak_findings fi;
		const cJSON *it;
		size_t i;

		if (!built) {
			if (leak_watch_init(&w) != FB_OK || leak_watch_build(&w) != FB_OK)
				abort();
			built = 1;
		}
		memset(&m, 0, sizeof(m));
		if (f == LEAK_FORM_AWSLOGS) {
			for (i = 0; i < batch.nevents; i++)
				if (leak_msgs_add(&m, batch.log_group, batch.log_stream, batch.events[i].id,
						  batch.events[i].timestamp_ms, batch.events[i].message) != FB_OK)
					break;
		} else {
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ev, "messages"))
				if (leak_msgs_add(&m, "g", "s", "e", 0, it->valuestring) != FB_OK)
					break;
		}
		if (leak_findings_init(&fi, 0, NULL) != FB_OK)
			abort();
		leak_scan_messages(&w, m.v, m.n, &fi);
		for (i = 0; i < fi.nkeys; i++)
			if (strlen(fi.keys[i].id) != 20 || !leak_is_key_id(fi.keys[i].id, 20, 0))
				abort();
		for (i = 0; i < m.n; i++) {
			char ids[CT_TEXT_MAX_IDS][21];
			size_t nids = 0, k;

			/* one message at a time: a record's own ids never become keys */
			if (!ct_record_text(m.v[i].text, m.v[i].len, ids, CT_TEXT_MAX_IDS, &nids))
				continue;
			leak_findings_cleanup(&fi);
			if (leak_findings_init(&fi, 0, NULL) != FB_OK)
				abort();
			leak_scan_messages(&w, &m.v[i], 1, &fi);
			for (k = 0; k < fi.nkeys; k++) {
				size_t d;

				for (d = 0; d < nids; d++)
					if (!strcmp(fi.keys[k].id, ids[d]))
						abort();
			}
		}
		leak_findings_cleanup(&fi);
		leak_msgs_cleanup(&m);
	}
	if (f == LEAK_FORM_ALARM) {
		int64_t start, end;
		struct alarm_change al;

		alarm_parse(cJSON_GetObjectItemCaseSensitive(ev, "detail"), &al); /* fields 0 when absent */
		alarm_log_window(&al, 0, 1700000000000, set.lookback_ms, &start, &end);
		if (start >= end)
			abort();
	}
	leak_batch_cleanup(&batch);
	cJSON_Delete(ev);
	free(s);
	return 0;
}
