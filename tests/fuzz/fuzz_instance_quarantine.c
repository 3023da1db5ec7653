/*
 * fuzz_instance_quarantine: instance-quarantine's pure stages
 * (functions/instance-quarantine/stages.c) on hostile input. The first byte
 * picks the stage:
 *   0 the event, through iq_run's own path (its .parse): resp_parse_event ->
 *     iq_parse_event (GuardDuty finding, Security Hub import, manual form);
 *     an accepted event must name an instance id that passes
 *     iq_instance_id_ok, and an account / region that pass the contract's
 *     checks when set; then the report's trigger (resp_begin +
 *     resp_trigger_from_event);
 *   1 a DescribeInstances answer (XML as JSON) -> iq_instance_from_json,
 *     then iq_dot_mappings both ways and iq_snapshots_covered on the same
 *     document's "snapshotSet";
 *   2 DescribeSecurityGroups items -> iq_vpc_groups_pick for "vpc-1", then
 *     iq_group_is_empty / iq_group_is_open on each element.
 * FUZZ_SOURCES: functions/instance-quarantine/stages.c
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "resp.h"
#include "../../functions/instance-quarantine/instance_quarantine.h"

static void fuzz_event(const char *s, size_t n)
{
	static struct resp_config cfg;
	struct lr_context ctx;
	struct iq_target t;
	struct resp r;
	char why[300];
	cJSON *ev = NULL;
	enum iq_parse p;

	why[0] = '\0';
	if (resp_parse_event(s, n, RESP_MAX_EVENT_BYTES, &ev, why, sizeof(why)) != FB_OK) {
		if (ev || !why[0])
			abort(); /* a refusal says why and leaves nothing */
		return;
	}
	why[0] = '\0';
	p = iq_parse_event(ev, 7.0, &t, why, sizeof(why));
	if (p == IQ_PARSE_INVALID && !why[0])
		abort(); /* an invalid event says why */
	if (p == IQ_PARSE_OK) {
		if (!memchr(t.instance, '\0', sizeof(t.instance)) || !iq_instance_id_ok(t.instance))
			abort(); /* only an instance id reaches AWS */
		if ((t.account[0] && !resp_account_id_ok(t.account)) ||
		    (t.region[0] && !resp_region_name_ok(t.region)))
			abort(); /* nor a crafted account or endpoint region */
	}
	if (p != IQ_PARSE_INVALID) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.request_id = "fuzz";
		if (resp_begin(&r, &cfg, "instance-quarantine", &ctx) == FB_OK) {
			(void)resp_trigger_from_event(&r, ev);
			resp_cleanup(&r);
		}
	}
	cJSON_Delete(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j, *m, *it;
	char *s;
	size_t n, i;

	if (size < 1 || size > RESP_MAX_EVENT_BYTES + 2)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	n = size - 1;
	if (data[0] % 3 == 0) {
		fuzz_event(s, n);
		free(s);
		return 0;
	}
	j = cJSON_ParseWithLength(s, n);
	if (!j)
		goto out;
	if (data[0] % 3 == 1) {
		struct iq_instance *in = calloc(1, sizeof(*in));

		if (!in)
			abort();
		if (iq_instance_from_json(j, in) == FB_OK) {
			if (in->neni > IQ_MAX_ENIS || in->nvol > IQ_MAX_VOLUMES)
				abort();
			for (i = 0; i < in->neni; i++)
				if (in->eni[i].ngroups > SG_MAX_GROUPS)
					abort();
			m = iq_dot_mappings(in, 0);
			cJSON_Delete(m);
			m = iq_dot_mappings(in, 1);
			cJSON_Delete(m);
			if (iq_snapshots_covered(in, cJSON_GetObjectItemCaseSensitive(j, "snapshotSet")) > in->nvol)
				abort();
			for (i = 0; i < in->neni; i++)
				(void)iq_eni_isolated(&in->eni[i], "sg-1");
		}
		free(in);
	} else {
		struct iq_vpc_groups g;

		memset(&g, 0, sizeof(g));
		memcpy(g.vpc, "vpc-1", 6);
		iq_vpc_groups_pick(j, &g);
		if (!memchr(g.quarantine_id, '\0', sizeof(g.quarantine_id)) ||
		    !memchr(g.untrack_id, '\0', sizeof(g.untrack_id)))
			abort();
		cJSON_ArrayForEach(it, (cJSON_IsArray(j) ? j : NULL)) {
			/* no group is both without rules and open to all */
			if (iq_group_is_empty(it) && iq_group_is_open(it))
				abort();
		}
	}
	cJSON_Delete(j);
out:
	free(s);
	return 0;
}
