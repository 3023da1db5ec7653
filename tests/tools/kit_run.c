/*
 * kit_run: the responder kit (runtime/kit.h) from the command line, for
 * integration tests against tests/fakeaws. Prints the report
 * (resp_report_json) with, for a step, its "items"/"complete"/"status".
 *
 *   kit_run [--dry-run] step SERVICE OP 'JSON-IN' [ITEMS NEXT TOKEN TRUNCATED MAX_PAGES]
 *       one read step (paged when ITEMS.. are given; "-" for none)
 *   kit_run [--dry-run] revoke ROLE_ARN NOT_BEFORE_ISO
 *       kit_revoke_sessions
 *
 * Exits 0 when no required step failed, 1 otherwise, 2 on a usage error.
 * Environment: as aws_call (AWS_ENDPOINT_URL, credentials, AWS_REGION).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "kit.h"
#include "resp.h"

static const char *arg_or_null(const char *s)
{
	return s && strcmp(s, "-") ? s : NULL;
}

int main(int argc, char **argv)
{
	static const struct lr_context ctx = {
		.request_id = "kit-run", .deadline_ms = 0, .function_arn = "",
		.trace_id = "", .client_context = "", .cognito_identity = "", .tenant_id = "",
	};
	struct aws_client *aws = NULL;
	struct resp_config cfg;
	struct resp r;
	struct kit k;
	cJSON *report = NULL, *extra = cJSON_CreateObject();
	char err[256] = "", *text;
	int a = 1, dry = 0, rc = 2;

	if (a < argc && !strcmp(argv[a], "--dry-run")) {
		dry = 1;
		a++;
	}
	if (a >= argc || (strcmp(argv[a], "step") && strcmp(argv[a], "revoke"))) {
		fprintf(stderr, "usage: kit_run [--dry-run] step SERVICE OP JSON [ITEMS NEXT TOKEN TRUNCATED MAX]"
			" | revoke ROLE_ARN ISO\n");
		cJSON_Delete(extra);
		return 2;
	}
	if (aws_client_new(&aws, NULL, err, sizeof(err)) != FB_OK ||
	    resp_config_from_env(&cfg, err, sizeof(err)) != FB_OK) {
		fprintf(stderr, "kit_run: %s\n", err);
		aws_client_free(aws);
		cJSON_Delete(extra);
		return 2;
	}
	cfg.dry_run = dry;
	resp_begin(&r, &cfg, "kit-run", &ctx);
	r.dry_run = dry;
	resp_set_incident(&r, "kit-run");
	kit_init(&k, &r, aws);
	if (!strcmp(argv[a], "step") && argc - a >= 4) {
		struct kit_paging pg = { 0 };
		struct kit_round *rd = kit_round_new(&k);
		struct kit_step *s;

		if (argc - a >= 9) {
			pg.items = arg_or_null(argv[a + 4]);
			pg.next = arg_or_null(argv[a + 5]);
			pg.token = arg_or_null(argv[a + 6]);
			pg.truncated = arg_or_null(argv[a + 7]);
			pg.max_pages = (int)strtol(argv[a + 8], NULL, 10);
		}
		s = kit_add(rd, &(struct kit_spec){ .step = "step", .service = argv[a + 1], .op = argv[a + 2],
			.kind = RESP_READ, .in = cJSON_Parse(argv[a + 3]), .paging = pg.items ? &pg : NULL });
		kit_run(rd);
		cJSON_AddItemToObject(extra, "items", cJSON_Duplicate(kit_items(s), 1));
		cJSON_AddBoolToObject(extra, "complete", kit_complete(s));
		cJSON_AddStringToObject(extra, "status", resp_status_name(kit_status(s)));
		kit_round_free(rd);
	} else if (!strcmp(argv[a], "revoke") && argc - a >= 3) {
		enum resp_status st = kit_revoke_sessions(&k, &(struct kit_revoke){ .role_arn = argv[a + 1],
			.not_before_ms = resp_parse_time_ms(argv[a + 2]) });

		cJSON_AddStringToObject(extra, "status", resp_status_name(st));
	} else {
		fprintf(stderr, "kit_run: missing arguments\n");
		goto out;
	}
	report = resp_report_json(&r);
	cJSON_AddItemToObject(report, "kit", extra);
	extra = NULL;
	text = cJSON_PrintUnformatted(report);
	if (text)
		puts(text);
	free(text);
	rc = resp_failed(&r) ? 1 : 0;
out:
	cJSON_Delete(report);
	cJSON_Delete(extra);
	kit_cleanup(&k);
	resp_cleanup(&r);
	resp_config_cleanup(&cfg);
	aws_client_free(aws);
	return rc;
}
