/*
 * test_kit: the responder kit over the real AWS layer and a fake HTTP
 * transport on a virtual clock (as test_aws.c does). The fake answers by
 * route (operation + a substring of the request body) and records every
 * request with the number of restore[] entries the report held when the
 * request was sent, so "undo recorded before the write" is observed at
 * the moment of sending, not inferred afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "http.h"
#include "kit.h"
#include "resp.h"

#include "kit_fake.h"

static cJSON *key_in(const char *arn)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "KeyId", arn);
	return o;
}

#define KEY "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define KMS_STATE_ERR "{\"__type\":\"KMSInvalidStateException\",\"message\":\"key is pending deletion\"}"
#define KMS_500 "{\"__type\":\"KMSInternalException\",\"message\":\"internal\"}"

/* ---- steps --------------------------------------------------------------------- */

static void test_kit__dry_run_plans_writes_and_makes_no_write(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *d, *c;

	(void)st;
	world_up(&w, 1);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{\"KeyState\":\"PendingDeletion\"}}", 5, 0);
	rd = kit_round_new(&w.k);
	d = kit_add(rd, &(struct kit_spec){ .step = "describe-key", .service = "kms", .op = "DescribeKey",
		.target = KEY, .kind = RESP_READ, .in = key_in(KEY) });
	c = kit_add(rd, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:ScheduleKeyDeletion", key_in(KEY)) });
	assert_int_equal(kit_run(rd), FB_OK);
	/* the read happened, the write did not */
	assert_int_equal(sent("DescribeKey"), 1);
	assert_int_equal(sent("CancelKeyDeletion"), 0);
	assert_int_equal(F.nlog, 1);
	assert_int_equal(kit_status(d), RESP_DONE);
	assert_int_equal(kit_status(c), RESP_PLANNED);
	assert_string_equal(line(&w, "cancel-deletion")->api, "kms:CancelKeyDeletion");
	assert_int_equal(line(&w, "cancel-deletion")->status, RESP_PLANNED);
	/* the plan carries its undo */
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
	assert_false(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

/* issue 23: a quiet write is refused unless it is .batched (the caller's own
 * summary line speaks for it); a batched one is sent without a line of its
 * own, its undo recorded first, and under dry run it is planned, not sent. */
static void test_kit__batched_quiet_writes(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *a, *b, *c;
	size_t lines;

	(void)st;
	world_up(&w, 0);
	route("CancelKeyDeletion", NULL, 200, "{}", 5, 0);
	rd = kit_round_new(&w.k);
	a = kit_add(rd, &(struct kit_spec){ .quiet = 1, .service = "kms", .op = "CancelKeyDeletion",
		.kind = RESP_WRITE, .in = key_in(KEY) });
	assert_null(a);
	lines = w.r.nsteps;
	b = kit_add(rd, &(struct kit_spec){ .quiet = 1, .batched = 1, .service = "kms", .op = "CancelKeyDeletion",
		.kind = RESP_WRITE, .in = key_in(KEY), .restore = kit_undo("kms:ScheduleKeyDeletion", key_in(KEY)) });
	c = kit_add(rd, &(struct kit_spec){ .quiet = 1, .batched = 1, .service = "kms", .op = "CancelKeyDeletion",
		.kind = RESP_WRITE, .in = key_in(KEY) });
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(kit_index(b), -1);
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("CancelKeyDeletion"), 2);
	assert_int_equal(last_of("CancelKeyDeletion")->nrestore, 1);
	assert_int_equal(kit_status(b), RESP_DONE);
	assert_int_equal(w.r.nsteps, lines);
	kit_round_free(rd);
	world_down(&w);

	world_up(&w, 1);
	rd = kit_round_new(&w.k);
	b = kit_add(rd, &(struct kit_spec){ .quiet = 1, .batched = 1, .service = "kms", .op = "CancelKeyDeletion",
		.kind = RESP_WRITE, .in = key_in(KEY) });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("CancelKeyDeletion"), 0);
	assert_int_equal(kit_status(b), RESP_PLANNED);
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__restore_recorded_before_the_write_even_when_it_fails(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *c;
	const cJSON *e;

	(void)st;
	world_up(&w, 0);
	route("CancelKeyDeletion", NULL, 500, KMS_500, 5, 0);
	rd = kit_round_new(&w.k);
	c = kit_add(rd, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:ScheduleKeyDeletion", key_in(KEY)) });
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	assert_int_not_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("CancelKeyDeletion"), 1);
	/* when the write left, its undo was already in the report */
	assert_int_equal(last_of("CancelKeyDeletion")->nrestore, 1);
	assert_int_equal(kit_status(c), RESP_FAILED);
	assert_string_equal(kit_err(c)->code, "KMSInternalException");
	e = cJSON_GetArrayItem(w.r.restore, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "kms:ScheduleKeyDeletion");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "KeyId")->valuestring, KEY);
	assert_non_null(strstr(line(&w, "cancel-deletion")->error, "KMSInternalException"));
	assert_true(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__already_codes_and_absent_codes(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *en, *gp;

	(void)st;
	world_up(&w, 0);
	route("EnableKey", NULL, 400, KMS_STATE_ERR, 5, 0);
	route("GetRolePolicy", NULL, 404, "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
	      "<Message>none</Message></Error><RequestId>r</RequestId></ErrorResponse>", 5, 0);
	rd = kit_round_new(&w.k);
	en = kit_add(rd, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.already = "DisabledException KMSInvalidStateException", .already_detail = "key not disabled" });
	gp = kit_add(rd, &(struct kit_spec){ .step = "read-policy", .service = "iam", .op = "GetRolePolicy",
		.target = "r", .kind = RESP_READ, .absent = "NoSuchEntity",
		.in = cJSON_Parse("{\"RoleName\":\"r\",\"PolicyName\":\"p\"}") });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(kit_status(en), RESP_ALREADY);
	assert_true(kit_ok(en));
	assert_string_equal(line(&w, "enable-key")->detail, "key not disabled");
	assert_null(line(&w, "enable-key")->error);
	assert_int_equal(kit_status(gp), RESP_DONE);
	assert_int_equal(kit_found(gp), 0);
	assert_false(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__optional_failure_does_not_fail_the_invocation(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *tag;

	(void)st;
	world_up(&w, 0);
	route("TagResource", NULL, 500, KMS_500, 5, 0);
	route("EnableKey", NULL, 200, "{}", 5, 0);
	rd = kit_round_new(&w.k);
	tag = kit_add(rd, &(struct kit_spec){ .step = "tag-incident", .service = "kms", .op = "TagResource",
		.target = KEY, .kind = RESP_WRITE, .optional = 1, .in = key_in(KEY) });
	kit_add(rd, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY), .detail = "key Enabled again" });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(kit_status(tag), RESP_FAILED);
	assert_int_equal(line(&w, "enable-key")->status, RESP_DONE);
	assert_string_equal(line(&w, "enable-key")->detail, "key Enabled again");
	assert_false(resp_failed(&w.r));
	/* the same failure on a required step fails it */
	F.routes[1].status = 500;
	F.routes[1].body = KMS_500;
	kit_add(rd, &(struct kit_spec){ .step = "enable-key-2", .service = "kms", .op = "EnableKey",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY) });
	assert_int_not_equal(kit_run(rd), FB_OK);
	/* a second run of the round makes only the new step */
	assert_int_equal(sent("TagResource"), 1);
	assert_int_equal(sent("EnableKey"), 2);
	assert_true(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__a_round_runs_concurrently(void **st)
{
	struct world w;
	struct kit_round *rd;
	int64_t t0;

	(void)st;
	world_up(&w, 0);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 100, 0);
	route("ListResourceTags", NULL, 200, "{\"Tags\":[]}", 100, 0);
	route("DescribeSecret", NULL, 200, "{}", 100, 0);
	rd = kit_round_new(&w.k);
	kit_add(rd, &(struct kit_spec){ .step = "a", .service = "kms", .op = "DescribeKey", .kind = RESP_READ,
		.in = key_in(KEY) });
	kit_add(rd, &(struct kit_spec){ .step = "b", .service = "kms", .op = "ListResourceTags",
		.kind = RESP_READ, .in = key_in(KEY) });
	kit_add(rd, &(struct kit_spec){ .step = "c", .service = "secretsmanager", .op = "DescribeSecret",
		.kind = RESP_READ, .in = cJSON_Parse("{\"SecretId\":\"s\"}") });
	t0 = F.now;
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(F.max_parallel, 3);
	assert_true(F.now - t0 < 200); /* one round trip, not three */
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__skip_and_already_before_the_run(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *a, *b, *c;

	(void)st;
	world_up(&w, 0);
	route("EnableKey", NULL, 200, "{}", 5, 0);
	rd = kit_round_new(&w.k);
	a = kit_add(rd, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:DisableKey", key_in(KEY)) });
	b = kit_add(rd, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:ScheduleKeyDeletion", key_in(KEY)) });
	c = kit_add(rd, &(struct kit_spec){ .step = "tag", .service = "kms", .op = "TagResource",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY) });
	kit_skip(a, "trusted actor '%s'", "arn:aws:iam::111111111111:role/BreakGlass");
	kit_already(b, "no deletion pending (KeyState %s)", "Enabled");
	assert_int_not_equal(kit_run(rd), FB_OK); /* c failed, required */
	assert_int_equal(sent("EnableKey"), 0);
	assert_int_equal(sent("CancelKeyDeletion"), 0);
	assert_int_equal(sent("TagResource"), 1);  /* unrouted: 500, required */
	assert_int_equal(kit_status(a), RESP_SKIPPED);
	assert_int_equal(kit_status(b), RESP_ALREADY);
	assert_int_equal(kit_status(c), RESP_FAILED);
	assert_string_equal(line(&w, "enable-key")->detail,
			    "trusted actor 'arn:aws:iam::111111111111:role/BreakGlass'");
	assert_string_equal(line(&w, "cancel-deletion")->detail, "no deletion pending (KeyState Enabled)");
	/* nothing written, nothing to undo */
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__failed_by_decision_records_no_undo(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s;

	(void)st;
	world_up(&w, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "stop-task", .service = "ecs", .op = "StopTask",
		.kind = RESP_WRITE, .in = cJSON_Parse("{\"task\":\"t\"}"),
		.restore = kit_undo("ecs:RunTask", NULL) });
	kit_fail(s, "not started: invocation deadline nearly spent");
	assert_int_equal(kit_run(rd), FB_OK); /* nothing left to run in this round */
	assert_int_equal(F.nlog, 0);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	assert_int_equal(line(&w, "stop-task")->status, RESP_FAILED);
	assert_true(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__a_step_never_run_says_so(void **st)
{
	struct world w;
	struct kit_round *rd;

	(void)st;
	world_up(&w, 0);
	rd = kit_round_new(&w.k);
	kit_add(rd, &(struct kit_spec){ .step = "forgotten", .service = "kms", .op = "EnableKey",
		.kind = RESP_WRITE, .in = key_in(KEY) });
	kit_round_free(rd);
	assert_int_equal(line(&w, "forgotten")->status, RESP_FAILED);
	assert_string_equal(line(&w, "forgotten")->detail, "not run");
	assert_int_equal(F.nlog, 0);
	world_down(&w);
}

/* ---- paging ----------------------------------------------------------------------- */

static void test_kit__pager_next_token(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s, *o;
	static const struct kit_paging pg = { .items = "SecretList", .next = "NextToken" };

	(void)st;
	world_up(&w, 0);
	route("ListSecrets", "\"NextToken\":\"t2\"", 200,
	      "{\"SecretList\":[{\"ARN\":\"s3\"}],\"NextToken\":\"t3\"}", 10, 0);
	route("ListSecrets", "\"NextToken\":\"t3\"", 200, "{\"SecretList\":[{\"ARN\":\"s4\"}]}", 10, 0);
	route("ListSecrets", NULL, 200, "{\"SecretList\":[{\"ARN\":\"s1\"},{\"ARN\":\"s2\"}],"
	      "\"NextToken\":\"t2\"}", 10, 0);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 25, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "list-secrets", .service = "secretsmanager",
		.op = "ListSecrets", .kind = RESP_READ, .paging = &pg,
		.in = cJSON_Parse("{\"MaxResults\":100}") });
	o = kit_add(rd, &(struct kit_spec){ .step = "describe", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .in = key_in(KEY) });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("ListSecrets"), 3);
	assert_int_equal(cJSON_GetArraySize(kit_items(s)), 4);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(kit_items(s), 3), "ARN")->valuestring, "s4");
	assert_true(kit_complete(s));
	assert_true(kit_ok(o));
	/* page 2 ran while the other step of the round was in flight */
	assert_int_equal(F.max_parallel, 2);
	assert_non_null(strstr(last_of("ListSecrets")->body, "\"MaxResults\":100"));
	assert_string_equal(line(&w, "list-secrets")->detail, "4 items in 3 pages");
	kit_round_free(rd);
	world_down(&w);
}

#define LAK(keys, more, marker) \
	"<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata>" keys \
	"</AccessKeyMetadata><IsTruncated>" more "</IsTruncated>" marker \
	"</ListAccessKeysResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>" \
	"</ListAccessKeysResponse>"
#define AK(id) "<member><AccessKeyId>" id "</AccessKeyId><Status>Active</Status></member>"

static void test_kit__pager_marker_is_truncated(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s;
	static const struct kit_paging pg = { .items = "AccessKeyMetadata", .next = "Marker",
					      .truncated = "IsTruncated" };

	(void)st;
	world_up(&w, 0);
	route("ListAccessKeys", "Marker=m2", 200, LAK(AK("AKIA3"), "false", ""), 10, 0);
	route("ListAccessKeys", NULL, 200, LAK(AK("AKIA1") AK("AKIA2"), "true", "<Marker>m2</Marker>"), 10, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "list-keys", .service = "iam", .op = "ListAccessKeys",
		.kind = RESP_READ, .paging = &pg, .in = cJSON_Parse("{\"UserName\":\"ci bot\"}") });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("ListAccessKeys"), 2);
	assert_string_equal(last_of("ListAccessKeys")->body,
			    "Action=ListAccessKeys&Version=2010-05-08&UserName=ci+bot&Marker=m2");
	assert_int_equal(cJSON_GetArraySize(kit_items(s)), 3);
	assert_true(kit_complete(s));
	/* IsTruncated false with a stale Marker present: no further page */
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__pager_cap_reached_is_incomplete(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s;
	static const struct kit_paging pg = { .items = "networkInterfaceSet", .next = "nextToken",
					      .token = "NextToken", .max_pages = 2 };

	(void)st;
	world_up(&w, 0);
	/* EC2: the token comes back as nextToken in the XML and goes out as NextToken */
#define ENIS(id, next) "<DescribeNetworkInterfacesResponse><requestId>r</requestId><networkInterfaceSet>" \
	"<item><networkInterfaceId>" id "</networkInterfaceId></item></networkInterfaceSet>" \
	"<nextToken>" next "</nextToken></DescribeNetworkInterfacesResponse>"
	route("DescribeNetworkInterfaces", "NextToken=t2", 200, ENIS("eni-2", "t3"), 10, 0);
	route("DescribeNetworkInterfaces", "NextToken=t3", 200, ENIS("eni-3", "t4"), 10, 0);
	route("DescribeNetworkInterfaces", NULL, 200, ENIS("eni-1", "t2"), 10, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "enis", .service = "ec2", .op = "DescribeNetworkInterfaces",
		.kind = RESP_READ, .paging = &pg,
		.in = cJSON_Parse("{\"Filter\":[{\"Name\":\"group-id\",\"Value\":[\"sg-1\",\"sg-2\"]}]}") });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("DescribeNetworkInterfaces"), 2);
	assert_false(kit_complete(s));
	assert_int_equal(cJSON_GetArraySize(kit_items(s)), 2);
	assert_string_equal(line(&w, "enis")->detail, "2 items in 2 pages (incomplete: page cap reached)");
	assert_string_equal(last_of("DescribeNetworkInterfaces")->body,
			    "Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=group-id"
			    "&Filter.1.Value.1=sg-1&Filter.1.Value.2=sg-2&NextToken=t2");
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__pager_same_token_again_ends(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s;
	static const struct kit_paging pg = { .items = "events", .next = "nextForwardToken",
					      .token = "nextToken" };

	(void)st;
	/* CloudWatch Logs GetLogEvents answers its last token again at the end */
	world_up(&w, 0);
	route("GetLogEvents", "\"nextToken\":\"f/2\"", 200,
	      "{\"events\":[],\"nextForwardToken\":\"f/2\"}", 10, 0);
	route("GetLogEvents", NULL, 200,
	      "{\"events\":[{\"message\":\"a\"},{\"message\":\"b\"}],\"nextForwardToken\":\"f/2\"}", 10, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "log-events", .service = "logs", .op = "GetLogEvents",
		.kind = RESP_READ, .paging = &pg,
		.in = cJSON_Parse("{\"logGroupName\":\"g\",\"logStreamName\":\"s\",\"startFromHead\":true}") });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("GetLogEvents"), 2);
	assert_int_equal(cJSON_GetArraySize(kit_items(s)), 2);
	assert_true(kit_complete(s));
	kit_round_free(rd);
	world_down(&w);
}

/* kit_paging.on_page (issue 17, task-quarantine's logs): every page is
 * read as it arrives, nothing kept; the reader can stop the paging. */
static int count_pages(void *arg, const cJSON *page, int more)
{
	int *n = arg;

	(*n)++;
	assert_non_null(resp_get(page, "events"));
	(void)more;
	return *n < 2;   /* stop after the second page */
}

static void test_kit__page_reader_sees_every_page_and_can_stop(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *s;
	int n = 0;

	(void)st;
	world_up(&w, 0);
	route("GetLogEvents", "\"nextToken\":\"f/2\"", 200, "{\"events\":[{\"message\":\"b\"}],\"nextForwardToken\":\"f/3\"}", 10, 0);
	route("GetLogEvents", "\"nextToken\":\"f/3\"", 200, "{\"events\":[],\"nextForwardToken\":\"f/3\"}", 10, 0);
	route("GetLogEvents", NULL, 200, "{\"events\":[{\"message\":\"a\"}],\"nextForwardToken\":\"f/2\"}", 10, 0);
	rd = kit_round_new(&w.k);
	s = kit_add(rd, &(struct kit_spec){ .step = "log-events", .service = "logs", .op = "GetLogEvents",
		.kind = RESP_READ, .in = cJSON_Parse("{\"logGroupName\":\"g\",\"logStreamName\":\"s\"}"),
		.paging = &(struct kit_paging){ .next = "nextForwardToken", .token = "nextToken",
			.on_page = count_pages, .arg = &n } });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(sent("GetLogEvents"), 2);     /* the third page was never asked for */
	assert_false(kit_complete(s));
	assert_int_equal(cJSON_GetArraySize(kit_items(s)), 0);  /* no .items: nothing kept */
	kit_round_free(rd);
	world_down(&w);
}

/* kit_decide: a line settled by a decision, no call; a write under dry run stays planned. */
static void test_kit__decide_makes_a_line_and_no_call(void **st)
{
	struct world w;

	(void)st;
	world_up(&w, 0);
	kit_decide(&w.k, &(struct kit_spec){ .step = "isolate", .service = "ec2", .op = "RevokeSecurityGroupEgress",
		.target = "sg-1", .kind = RESP_READ }, RESP_FAILED, "refused: %s", "shared");
	kit_decide(&w.k, &(struct kit_spec){ .step = "evidence", .service = "s3", .op = "PutObject",
		.kind = RESP_WRITE, .optional = 1 }, RESP_SKIPPED, "no bucket");
	assert_int_equal(sent("RevokeSecurityGroupEgress") + sent("PutObject"), 0);
	assert_int_equal(line(&w, "isolate")->status, RESP_FAILED);
	assert_string_equal(line(&w, "isolate")->detail, "refused: shared");
	assert_int_equal(line(&w, "evidence")->status, RESP_SKIPPED);
	assert_true(resp_failed(&w.r));
	world_down(&w);
	world_up(&w, 1);   /* dry run */
	kit_decide(&w.k, &(struct kit_spec){ .step = "evidence", .service = "s3", .op = "PutObject",
		.kind = RESP_WRITE }, RESP_ALREADY, "kept");
	assert_int_equal(line(&w, "evidence")->status, RESP_PLANNED);
	world_down(&w);
}

/* ---- clients, own account ----------------------------------------------------------- */

static void test_kit__own_account_partition_and_region_clients(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct aws_client *west, *again;
	struct aws_error err;

	(void)st;
	world_up(&w, 0);
	assert_string_equal(kit_own_account(&w.k), "111111111111"); /* from the function ARN */
	assert_string_equal(kit_partition(&w.k), "aws");
	assert_int_equal(F.nlog, 0);
	west = kit_client(&w.k, "111111111111", "us-west-2", NULL, &err);
	assert_non_null(west);
	again = kit_client(&w.k, "111111111111", "us-west-2", NULL, &err);
	assert_ptr_equal(west, again); /* made once per invocation */
	/* a step on another client runs in the same round */
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 10, 0);
	rd = kit_round_new(&w.k);
	kit_add(rd, &(struct kit_spec){ .step = "east", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .in = key_in(KEY) });
	kit_add(rd, &(struct kit_spec){ .step = "west", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .in = key_in(KEY), .client = west });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(F.max_parallel, 2);
	assert_string_equal(F.log[0].url, "https://kms.us-east-1.amazonaws.com/");
	assert_string_equal(F.log[1].url, "https://kms.us-west-2.amazonaws.com/");
	/* another account without FIREBREAK_MEMBER_ROLE: no client, a failed line */
	assert_null(kit_client(&w.k, "222222222222", NULL, "client", &err));
	assert_int_equal(line(&w, "client")->status, RESP_FAILED);
	assert_string_equal(line(&w, "client")->api, "sts:AssumeRole");
	kit_round_free(rd);
	world_down(&w);
}

static void test_kit__member_account_client(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct aws_client *m;
	struct aws_error err;

	(void)st;
	world_up(&w, 0);
	w.cfg.member_role = strdup("firebreak-member");
	route("AssumeRole", NULL, 200, "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
	      "<AccessKeyId>ASIAMEMBEREXAMPLE</AccessKeyId><SecretAccessKey>member-secret</SecretAccessKey>"
	      "<SessionToken>tok</SessionToken><Expiration>2026-12-07T01:00:00Z</Expiration></Credentials>"
	      "</AssumeRoleResult></AssumeRoleResponse>", 5, 0);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 5, 0);
	m = kit_client(&w.k, "222222222222", "us-east-1", "client", &err);
	assert_non_null(m);
	assert_ptr_equal(kit_client(&w.k, "222222222222", "us-east-1", "client", &err), m);
	assert_int_equal(sent("AssumeRole"), 1);
	assert_non_null(strstr(last_of("AssumeRole")->body,
			       "RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Ffirebreak-member"));
	rd = kit_round_new(&w.k);
	kit_add(rd, &(struct kit_spec){ .step = "member", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .in = key_in(KEY), .client = m });
	kit_add(rd, &(struct kit_spec){ .step = "own", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .in = key_in(KEY) });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_non_null(strstr(F.log[1].auth, "Credential=ASIAMEMBEREXAMPLE/"));
	assert_non_null(strstr(F.log[2].auth, "Credential=AKIDEXAMPLE/"));
	/* a crafted account id never reaches STS */
	assert_null(kit_client(&w.k, "2222&Action=X", NULL, NULL, &err));
	assert_int_equal(sent("AssumeRole"), 1);
	kit_round_free(rd);
	world_down(&w);
}

/* ---- session revocation ------------------------------------------------------------------ */

#define ROLE "arn:aws:iam::111111111111:role/app/app-task"
#define NO_POLICY "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role " \
	"policy with name AWSRevokeOlderSessions cannot be found.</Message></Error><RequestId>r</RequestId>" \
	"</ErrorResponse>"
#define PUT_OK "<PutRolePolicyResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>" \
	"</PutRolePolicyResponse>"
/* GetRolePolicy answers the document URL-encoded, as IAM does */
#define GRP(doc) "<GetRolePolicyResponse><GetRolePolicyResult><RoleName>app-task</RoleName><PolicyName>" \
	"AWSRevokeOlderSessions</PolicyName><PolicyDocument>" doc "</PolicyDocument></GetRolePolicyResult>" \
	"</GetRolePolicyResponse>"
/* {"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
 *  "Condition":{"DateLessThan":{"aws:TokenIssueTime":"<T>"}}}}, the documented form */
#define DOC(t) "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Deny%22%2C" \
	"%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%2C%22Condition%22%3A%7B%22DateLessThan" \
	"%22%3A%7B%22aws%3ATokenIssueTime%22%3A%22" t "%22%7D%7D%7D%7D"

static void test_kit__revoke_sessions_first_time(void **st)
{
	struct world w;
	const cJSON *e;
	char *doc;

	(void)st;
	world_up(&w, 0);
	route("GetRolePolicy", NULL, 404, NO_POLICY, 5, 0);
	route("PutRolePolicy", NULL, 200, PUT_OK, 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS - 60000 }), RESP_DONE);
	assert_int_equal(sent("GetRolePolicy"), 1);
	assert_int_equal(sent("PutRolePolicy"), 1);
	doc = kit_revocation_policy(T0_MS + 10);
	assert_string_equal(doc, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\","
			    "\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":"
			    "\"2026-12-07T00:00:00.010Z\"}}}]}");
	free(doc);
	assert_non_null(strstr(last_of("PutRolePolicy")->body,
			       "RoleName=app-task&PolicyName=AWSRevokeOlderSessions&PolicyDocument=%7B%22Version"));
	assert_non_null(strstr(last_of("PutRolePolicy")->body, "aws%3ATokenIssueTime%22%3A%222026-12-07T00%3A00"));
	/* the undo of a new policy is deleting it, recorded before the write */
	assert_int_equal(last_of("PutRolePolicy")->nrestore, 1);
	e = cJSON_GetArrayItem(w.r.restore, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "iam:DeleteRolePolicy");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "PolicyName")->valuestring,
			    "AWSRevokeOlderSessions");
	assert_string_equal(line(&w, "read-revocation-policy")->api, "iam:GetRolePolicy");
	assert_string_equal(line(&w, "revoke-sessions")->api, "iam:PutRolePolicy");
	assert_string_equal(line(&w, "revoke-sessions")->target, ROLE);
	assert_false(resp_failed(&w.r));
	world_down(&w);
}

static void test_kit__revoke_sessions_replay_is_already(void **st)
{
	struct world w;

	(void)st;
	/* the existing policy cuts at T0 + 5 s: an incident at T0 - 60 s is covered */
	world_up(&w, 0);
	route("GetRolePolicy", NULL, 200, GRP(DOC("2026-12-07T00%3A00%3A05.000Z")), 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS - 60000 }), RESP_ALREADY);
	assert_int_equal(sent("PutRolePolicy"), 0);
	assert_string_equal(line(&w, "revoke-sessions")->detail,
			    "sessions issued before 2026-12-07T00:00:05.000Z already denied");
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	world_down(&w);
}

static void test_kit__revoke_sessions_newer_incident_writes_again(void **st)
{
	struct world w;
	const cJSON *e;
	const char *prior;

	(void)st;
	/* an older revocation (a day before) does not cover today's incident */
	world_up(&w, 0);
	route("GetRolePolicy", NULL, 200, GRP(DOC("2026-12-06T00%3A00%3A00Z")), 5, 0);
	route("PutRolePolicy", NULL, 200, PUT_OK, 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS - 60000 }), RESP_DONE);
	assert_int_equal(sent("PutRolePolicy"), 1);
	/* the undo puts the prior document back, decoded */
	e = cJSON_GetArrayItem(w.r.restore, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "iam:PutRolePolicy");
	prior = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "PolicyDocument")->valuestring;
	assert_int_equal(kit_revocation_cut_ms(prior), T0_MS - 86400000LL);
	world_down(&w);
}

/* w4-dinit: the undo a responder plans before the revocation runs (its undo
 * record) is the very entry kit_revoke_sessions records, with a prior
 * policy and without one. */
static void test_kit__revoke_undo_is_the_recorded_entry(void **st)
{
	static const char *answers[] = { GRP(DOC("2026-12-06T00%3A00%3A00Z")), NO_POLICY };
	static const char *priors[] = { DOC("2026-12-06T00%3A00%3A00Z"), NULL };
	size_t i;

	(void)st;
	for (i = 0; i < 2; i++) {
		struct world w;
		cJSON *planned = kit_revoke_undo("app-task", priors[i]);

		world_up(&w, 0);
		route("GetRolePolicy", NULL, priors[i] ? 200 : 404, answers[i], 5, 0);
		route("PutRolePolicy", NULL, 200, PUT_OK, 5, 0);
		assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
			.not_before_ms = T0_MS - 60000 }), RESP_DONE);
		assert_non_null(planned);
		assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
		assert_true(cJSON_Compare(planned, cJSON_GetArrayItem(w.r.restore, 0), 1));
		assert_string_equal(cJSON_GetObjectItem(planned, "api")->valuestring,
				    priors[i] ? "iam:PutRolePolicy" : "iam:DeleteRolePolicy");
		cJSON_Delete(planned);
		world_down(&w);
	}
}

static void test_kit__revoke_sessions_refusals(void **st)
{
	struct world w;

	(void)st;
	/* service-linked: AWS forbids it; nothing is called */
	world_up(&w, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){
		.role_arn = "arn:aws:iam::111111111111:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
		.not_before_ms = T0_MS }), RESP_SKIPPED);
	/* not a role ARN (a user, a crafted name): nothing is called, failed */
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){
		.role_arn = "arn:aws:iam::111111111111:user/alice", .not_before_ms = T0_MS }), RESP_FAILED);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){
		.role_arn = "arn:aws:iam::111111111111:role/a&Action=DeleteRole", .not_before_ms = T0_MS }),
		RESP_FAILED);
	assert_int_equal(F.nlog, 0);
	/* the prior policy cannot be read: no write (its undo is unknown) */
	route("GetRolePolicy", NULL, 403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no"
	      "</Message></Error></ErrorResponse>", 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS }), RESP_FAILED);
	assert_int_equal(sent("PutRolePolicy"), 0);
	assert_true(resp_failed(&w.r));
	world_down(&w);

	/* dry run: an unreadable prior policy fails the step there too */
	world_up(&w, 1);
	route("GetRolePolicy", NULL, 403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no"
	      "</Message></Error></ErrorResponse>", 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS }), RESP_FAILED);
	world_down(&w);

	/* dry run: read, plan the write, write nothing */
	world_up(&w, 1);
	route("GetRolePolicy", NULL, 404, NO_POLICY, 5, 0);
	assert_int_equal(kit_revoke_sessions(&w.k, &(struct kit_revoke){ .role_arn = ROLE,
		.not_before_ms = T0_MS }), RESP_PLANNED);
	assert_int_equal(sent("GetRolePolicy"), 1);
	assert_int_equal(sent("PutRolePolicy"), 0);
	world_down(&w);
}

static void test_kit__revocation_cut_only_for_the_exact_shape(void **st)
{
	static const struct { const char *doc; int64_t want; } rows[] = {
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2014-05-07T23:47:00Z\"}}}}", 1399506420000LL },
		/* the console's array form, a Sid, ["*"], any case of the key */
		{ "{\"Statement\":[{\"Sid\":\"x\",\"Effect\":\"Deny\",\"Action\":[\"*\"],\"Resource\":\"*\","
		  "\"Condition\":{\"DateLessThan\":{\"AWS:TokenIssueTime\":\"2024-10-10T09:43:48.085Z\"}}}]}",
		  1728553428085LL },
		/* the newest of two */
		{ "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2020-01-01T00:00:00Z\"}}},{\"Effect\":\"Deny\","
		  "\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":"
		  "\"2021-01-01T00:00:00Z\"}}}]}", 1609459200000LL },
		/* an extra condition (never true) does not count */
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2030-01-01T00:00:00Z\"},\"StringEquals\":"
		  "{\"aws:PrincipalTag/x\":\"never\"}}}}", 0 },
		/* a narrower action, an Allow, a NotAction, a Principal: not a revocation */
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2030-01-01T00:00:00Z\"}}}}", 0 },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2030-01-01T00:00:00Z\"}}}}", 0 },
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"NotAction\":\"iam:*\",\"Action\":\"*\",\"Resource\":\"*\","
		  "\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":\"2030-01-01T00:00:00Z\"}}}}", 0 },
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":[\"2030-01-01T00:00:00Z\",\"2001-01-01T00:00:00Z\"]}}}}",
		  0 },
		{ "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
		  "{\"DateLessThan\":{\"aws:TokenIssueTime\":\"soon\"}}}}", 0 },
		{ "not json", 0 },
		{ "{}", 0 },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (kit_revocation_cut_ms(rows[i].doc) != rows[i].want)
			fail_msg("row %zu: got %lld want %lld", i, (long long)kit_revocation_cut_ms(rows[i].doc),
				 (long long)rows[i].want);
}

static void test_kit__role_names(void **st)
{
	static const struct { const char *arn; const char *name; int slr; } rows[] = {
		{ "arn:aws:iam::111111111111:role/app", "app", 0 },
		{ "arn:aws-cn:iam::111111111111:role/path/to/app-task", "app-task", 0 },
		{ "arn:aws:iam::111111111111:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
		  "AWSServiceRoleForECS", 1 },
		{ "arn:aws:iam::111111111111:user/app", NULL, 0 },
		{ "arn:aws:sts::111111111111:assumed-role/app/s", NULL, 0 },
		{ "arn:aws:iam::11111111111:role/app", NULL, 0 },
		{ "arn:aws:iam:us-east-1:111111111111:role/app", NULL, 0 },
		{ "arn:aws:iam::111111111111:role/", NULL, 0 },
		{ "arn:aws:iam::111111111111:role/a b", NULL, 0 },
		{ "arn:aws:iam::111111111111:role/a&x=y", NULL, 0 },
		{ "role/app", NULL, 0 },
	};
	char name[80];
	size_t i;
	int slr;

	(void)st;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ok = kit_role_name(rows[i].arn, name, sizeof(name), &slr);

		if (ok != (rows[i].name != NULL) || (ok && (strcmp(name, rows[i].name) || slr != rows[i].slr)))
			fail_msg("row %zu '%s': ok %d name '%s' slr %d", i, rows[i].arn, ok, ok ? name : "", slr);
	}
}

/* ---- the demonstration: kms-guard's writes on the kit ------------------------------------ */

/*
 * kms-guard today (functions/kms-guard/main.c kg_handle_item, the writes):
 * ~120 lines of resp_step_begin / resp_step_dry / struct aws_call /
 * aws_call_run_all / resp_step_from_call / cleanup. On the kit the same
 * runbook is the decisions and three declarations.
 */
struct demo_key {
	const char *arn, *state;     /* from DescribeKey */
	int prior_enabled;           /* the decision from CloudTrail history */
	const char *incident_tag;    /* the key's firebreak:incident tag, NULL if none */
	int pending_days;
};

static cJSON *tag_in(const char *arn, const char *value)
{
	cJSON *in = key_in(arn), *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "TagKey", "firebreak:incident");
	cJSON_AddStringToObject(t, "TagValue", value);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(in, "Tags"), t);
	return in;
}

static int demo_kms_guard_writes(struct kit *k, const struct demo_key *key)
{
	int pending = !strcmp(key->state, "PendingDeletion");
	cJSON *sched = key_in(key->arn), *untag = key_in(key->arn);
	struct kit_round *rd;
	struct kit_step *cancel, *enable, *tag;
	int rc;

	cJSON_AddNumberToObject(sched, "PendingWindowInDays", key->pending_days);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(untag, "TagKeys"), cJSON_CreateString("firebreak:incident"));

	/* Write 1: cancel the deletion (a cancelled key is Disabled). */
	rd = kit_round_new(k);
	cancel = kit_add(rd, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = key->arn, .kind = RESP_WRITE, .in = key_in(key->arn),
		.restore = kit_undo("kms:ScheduleKeyDeletion", sched),
		.detail = "deletion cancelled; KMS leaves the key Disabled" });
	if (!pending)
		kit_already(cancel, "no deletion pending (KeyState %s)", key->state);
	rc = kit_run(rd) == FB_OK ? 0 : -1;
	kit_round_free(rd);
	if (rc)
		return rc; /* deletion still pending: stop here */

	/* Writes 2 and 3, concurrently: enable (when it was Enabled) and tag. */
	rd = kit_round_new(k);
	enable = kit_add(rd, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = key->arn, .kind = RESP_WRITE, .in = key_in(key->arn),
		.restore = kit_undo("kms:DisableKey", key_in(key->arn)),
		.detail = "key Enabled again (prior state Enabled)" });
	if (!key->prior_enabled || (!pending && !strcmp(key->state, "Enabled")))
		kit_already(enable, !pending && !strcmp(key->state, "Enabled") ? "key is Enabled"
			    : "key stays Disabled (prior state Disabled)");
	tag = kit_add(rd, &(struct kit_spec){ .step = "tag-incident", .service = "kms", .op = "TagResource",
		.target = key->arn, .kind = RESP_WRITE, .optional = 1, .in = tag_in(key->arn, k->r->incident_id),
		.restore = key->incident_tag ? kit_undo("kms:TagResource", tag_in(key->arn, key->incident_tag))
					     : kit_undo("kms:UntagResource", untag),
		.detail = "tagged firebreak:incident" });
	if (key->incident_tag)
		cJSON_Delete(untag);
	if (key->incident_tag && !strcmp(key->incident_tag, k->r->incident_id))
		kit_already(tag, "tag firebreak:incident present");
	rc = kit_run(rd) == FB_OK ? 0 : -1;
	kit_round_free(rd);
	return rc;
}

static void test_kit__demo_kms_guard_on_the_kit(void **st)
{
	struct world w;
	const struct demo_key key = { KEY, "PendingDeletion", 1, NULL, 7 };
	const cJSON *e;

	(void)st;
	world_up(&w, 0);
	route("CancelKeyDeletion", NULL, 200, "{\"KeyId\":\"" KEY "\"}", 20, 0);
	route("EnableKey", NULL, 200, "{}", 20, 0);
	route("TagResource", NULL, 200, "{}", 20, 0);
	assert_int_equal(demo_kms_guard_writes(&w.k, &key), 0);
	/* the report reads as kms-guard's does today */
	assert_int_equal(w.r.nsteps, 3);
	assert_string_equal(w.r.steps[0].step, "cancel-deletion");
	assert_string_equal(w.r.steps[0].api, "kms:CancelKeyDeletion");
	assert_int_equal(w.r.steps[0].status, RESP_DONE);
	assert_string_equal(w.r.steps[1].api, "kms:EnableKey");
	assert_string_equal(w.r.steps[1].detail, "key Enabled again (prior state Enabled)");
	assert_string_equal(w.r.steps[2].api, "kms:TagResource");
	assert_int_equal(w.r.steps[2].required, 0);
	/* cancel first, then enable and tag together */
	assert_string_equal(F.log[0].op, "CancelKeyDeletion");
	assert_true(F.log[1].at_ms > F.log[0].at_ms && F.log[1].at_ms == F.log[2].at_ms);
	assert_int_equal(F.max_parallel, 2);
	/* restore[] as kms-guard writes it, each entry before its write */
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 3);
	e = cJSON_GetArrayItem(w.r.restore, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "kms:ScheduleKeyDeletion");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "PendingWindowInDays")->valueint, 7);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(w.r.restore, 1), "api")->valuestring,
			    "kms:DisableKey");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(w.r.restore, 2), "api")->valuestring,
			    "kms:UntagResource");
	assert_int_equal(F.log[0].nrestore, 1);
	assert_int_equal(F.log[1].nrestore, 3);
	assert_non_null(strstr(last_of("TagResource")->body, w.r.incident_id));
	assert_false(resp_failed(&w.r));
	world_down(&w);

	/* the same event again: the key is Enabled and tagged -> nothing written */
	world_up(&w, 0);
	{
		struct demo_key again = { KEY, "Enabled", 1, NULL, 7 };

		again.incident_tag = w.r.incident_id;
		assert_int_equal(demo_kms_guard_writes(&w.k, &again), 0);
	}
	assert_int_equal(F.nlog, 0);
	assert_int_equal(w.r.steps[0].status, RESP_ALREADY);
	assert_int_equal(w.r.steps[1].status, RESP_ALREADY);
	assert_string_equal(w.r.steps[1].detail, "key is Enabled");
	assert_int_equal(w.r.steps[2].status, RESP_ALREADY);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	assert_false(resp_failed(&w.r));
	world_down(&w);
}

/* ---- CloudTrail steps ---------------------------------------------------------- */

static int64_t ct_now(void *c) { return ((struct fake *)c)->now; }
static void ct_sleep(void *c, int64_t ms) { ((struct fake *)c)->now += ms; }
static const struct ct_clock CT_CLOCK = { ct_now, ct_sleep, &F };

#define EV(id) "{\"EventId\":\"" id "\",\"EventName\":\"Decrypt\"}"
#define CT_THROTTLED "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"

static struct ct_query ct_q(const char *value)
{
	struct ct_query q;

	memset(&q, 0, sizeof(q));
	q.attr_key = "ResourceName";
	q.attr_value = value;
	q.max_results = 50;
	q.max_pages = 5;
	q.keep_events = 1;
	q.clock = &CT_CLOCK;
	q.jitter_seed = 3;
	return q;
}

static void ct_world_up(struct world *w)
{
	world_up(w, 0);
	ct_limiter_reset();
}

/* Page 1 goes out with the round's other reads; the pager then reads on. */
static void test_kit__cloudtrail_step_page1_in_the_round_then_pages(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *d, *h;
	struct ct_query q;
	char value[] = KEY;

	(void)st;
	ct_world_up(&w);
	route("LookupEvents", "\"NextToken\":\"p2\"", 200, "{\"Events\":[" EV("e3") "]}", 10, 0);
	route("LookupEvents", NULL, 200, "{\"Events\":[" EV("e1") "," EV("e2") "],\"NextToken\":\"p2\"}",
	      10, 0);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 25, 0);
	q = ct_q(value);
	rd = kit_round_new(&w.k);
	d = kit_add(rd, &(struct kit_spec){ .step = "describe-key", .service = "kms", .op = "DescribeKey",
		.target = KEY, .kind = RESP_READ, .in = key_in(KEY) });
	h = kit_add(rd, &(struct kit_spec){ .step = "key-history", .service = "cloudtrail",
		.op = "LookupEvents", .target = KEY, .kind = RESP_READ, .cloudtrail = &q });
	/* the query was copied: the caller's buffers may go */
	memset(value, 'x', sizeof(value) - 1);
	assert_null(kit_ct_result(h));
	assert_int_equal(kit_run(rd), FB_OK);
	assert_true(kit_ok(d));
	assert_int_equal(kit_status(h), RESP_DONE);
	assert_int_equal(sent("LookupEvents"), 2);
	/* page 1 and DescribeKey together */
	assert_int_equal(F.log[0].at_ms, F.log[1].at_ms);
	assert_int_equal(F.max_parallel, 2);
	assert_non_null(strstr(last_of("LookupEvents")->body, "\"NextToken\":\"p2\""));
	assert_non_null(strstr(last_of("LookupEvents")->body, KEY));
	/* page 2 waited for the limiter: 2 requests a second */
	assert_true(last_of("LookupEvents")->at_ms - F.log[0].at_ms >= CT_RATE_INTERVAL_MS);
	assert_non_null(kit_ct_result(h));
	assert_true(kit_ct_result(h)->complete);
	assert_int_equal(kit_ct_result(h)->pages, 2);
	assert_int_equal(kit_ct_result(h)->requests, 2);
	assert_true(kit_complete(h));
	assert_int_equal(cJSON_GetArraySize(kit_items(h)), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(kit_items(h), 2), "EventId")->valuestring,
			    "e3");
	assert_string_equal(line(&w, "key-history")->api, "cloudtrail:LookupEvents");
	assert_string_equal(line(&w, "key-history")->detail, "3 events");
	assert_int_equal(kit_ct_continue(h), FB_OK); /* again: the same answer, no call */
	assert_int_equal(sent("LookupEvents"), 2);
	kit_round_free(rd);
	world_down(&w);
}

/* A throttled page 1 is the pager's to retry: backoff, limiter, budget. */
static void test_kit__cloudtrail_step_throttled_page1_is_retried_by_the_pager(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *h;
	struct ct_query q;

	(void)st;
	ct_world_up(&w);
	route("LookupEvents", NULL, 400, CT_THROTTLED, 5, 2);
	route("LookupEvents", NULL, 200, "{\"Events\":[" EV("e1") "]}", 5, 0);
	q = ct_q(KEY);
	rd = kit_round_new(&w.k);
	h = kit_add(rd, &(struct kit_spec){ .step = "lookup-events", .service = "cloudtrail",
		.op = "LookupEvents", .target = "ScheduleKeyDeletion", .kind = RESP_READ, .cloudtrail = &q,
		.detail = "EventName=ScheduleKeyDeletion" });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("LookupEvents"), 3);
	assert_int_equal(kit_ct_result(h)->throttled, 2);
	assert_int_equal(kit_ct_result(h)->requests, 3);
	/* each retry after a backoff of at least CT_BACKOFF_MIN_MS */
	assert_true(F.log[1].at_ms - F.log[0].at_ms >= CT_BACKOFF_MIN_MS);
	assert_true(F.log[2].at_ms - F.log[1].at_ms >= CT_BACKOFF_MIN_MS);
	assert_string_equal(line(&w, "lookup-events")->detail, "EventName=ScheduleKeyDeletion: 1 events");
	assert_int_equal(line(&w, "lookup-events")->status, RESP_DONE);
	kit_round_free(rd);
	world_down(&w);
}

/* Without a deadline the throttle budget is CT_NO_DEADLINE_THROTTLE_ATTEMPTS
 * a page; a failed lookup is a failed line with the pager's error, and
 * fails the round unless optional. */
static void test_kit__cloudtrail_step_failure(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *h, *o;
	struct ct_query q;

	(void)st;
	ct_world_up(&w);
	route("LookupEvents", "Disable", 400, CT_THROTTLED, 5, 0);
	route("LookupEvents", NULL, 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}", 5, 0);
	q = ct_q("DisableKey");
	rd = kit_round_new(&w.k);
	h = kit_add(rd, &(struct kit_spec){ .step = "throttled", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q, .optional = 1 });
	q = ct_q("other");
	o = kit_add(rd, &(struct kit_spec){ .step = "denied", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q });
	q = ct_q("quiet");
	kit_add(rd, &(struct kit_spec){ .step = "quiet", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q, .ct_no_error = 1, .optional = 1 });
	assert_int_not_equal(kit_run(rd), FB_OK);
	assert_int_equal(kit_status(h), RESP_FAILED);
	assert_int_equal(kit_ct_result(h)->throttled, CT_NO_DEADLINE_THROTTLE_ATTEMPTS);
	assert_int_equal(kit_ct_result(h)->stop, CT_STOP_ERROR);
	assert_non_null(strstr(line(&w, "throttled")->detail, "0 events; incomplete: page 1: ThrottlingException"));
	assert_non_null(strstr(line(&w, "throttled")->error, "ThrottlingException"));
	assert_int_equal(kit_status(o), RESP_FAILED);
	assert_int_equal(kit_ct_result(o)->requests, 1);
	assert_non_null(strstr(line(&w, "denied")->error, "AccessDeniedException"));
	/* .ct_no_error: the failure is in the detail only */
	assert_int_equal(line(&w, "quiet")->status, RESP_FAILED);
	assert_null(line(&w, "quiet")->error);
	assert_non_null(strstr(line(&w, "quiet")->detail, "incomplete: page 1: AccessDeniedException"));
	assert_true(resp_failed(&w.r));
	kit_round_free(rd);
	world_down(&w);
}

/* Deferred: page 1 in the round; the rest only when the decision asks. */
static void test_kit__cloudtrail_step_deferred(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *h;
	struct ct_query q;

	(void)st;
	ct_world_up(&w);
	route("LookupEvents", "\"NextToken\":\"p2\"", 200, "{\"Events\":[" EV("e3") "]}", 10, 0);
	route("LookupEvents", NULL, 200, "{\"Events\":[" EV("e1") "],\"NextToken\":\"p2\"}", 10, 0);
	q = ct_q(KEY);
	/* never continued: one request, the line from page 1 */
	rd = kit_round_new(&w.k);
	h = kit_add(rd, &(struct kit_spec){ .step = "key-history", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q, .ct_defer = 1, .optional = 1 });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(sent("LookupEvents"), 1);
	assert_null(kit_ct_result(h));
	assert_false(line(&w, "key-history")->ended);
	kit_round_free(rd);
	assert_int_equal(sent("LookupEvents"), 1);
	assert_int_equal(w.r.steps[0].status, RESP_DONE);
	assert_string_equal(w.r.steps[0].detail, "first page (not needed)");
	world_down(&w);

	/* continued: page 1 is not asked again, page 2 is read */
	ct_world_up(&w);
	route("LookupEvents", "\"NextToken\":\"p2\"", 200, "{\"Events\":[" EV("e3") "]}", 10, 0);
	route("LookupEvents", NULL, 200, "{\"Events\":[" EV("e1") "],\"NextToken\":\"p2\"}", 10, 0);
	rd = kit_round_new(&w.k);
	h = kit_add(rd, &(struct kit_spec){ .step = "key-history", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q, .ct_defer = 1 });
	assert_int_equal(kit_run(rd), FB_OK);
	assert_int_equal(kit_ct_continue(h), FB_OK);
	assert_int_equal(sent("LookupEvents"), 2);
	assert_int_equal(cJSON_GetArraySize(kit_items(h)), 2);
	assert_string_equal(line(&w, "key-history")->detail, "2 events");
	kit_round_free(rd);
	assert_string_equal(w.r.steps[0].detail, "2 events");
	world_down(&w);
}

/* Not a CloudTrail step, or one that never ran: nothing to continue. */
static void test_kit__cloudtrail_step_misuse(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *a, *b;
	struct ct_query q = ct_q(KEY);

	(void)st;
	ct_world_up(&w);
	rd = kit_round_new(&w.k);
	a = kit_add(rd, &(struct kit_spec){ .step = "wrong-op", .service = "kms", .op = "DescribeKey",
		.kind = RESP_READ, .cloudtrail = &q });
	assert_null(a);
	assert_int_equal(line(&w, "wrong-op")->status, RESP_FAILED);
	b = kit_add(rd, &(struct kit_spec){ .step = "skipped", .service = "cloudtrail",
		.op = "LookupEvents", .kind = RESP_READ, .cloudtrail = &q });
	kit_skip(b, "not needed");
	assert_int_equal(kit_ct_continue(b), FB_E_INVALID);
	assert_null(kit_ct_result(b));
	kit_run(rd);
	assert_int_equal(F.nlog, 0);
	kit_round_free(rd);
	world_down(&w);
}

/* Tag provenance as a step: the whole history, optional, no "error". */
static void test_kit__prov_history_step(void **st)
{
	struct world w;
	struct prov_history h;

	(void)st;
	ct_world_up(&w);
	route("LookupEvents", NULL, 200, "{\"Events\":[" EV("e1") "," EV("e2") "]}", 10, 0);
	assert_int_equal(kit_prov_history(&w.k, &(struct kit_prov_read){ .step = "tag-provenance",
		.arn = KEY, .account = "111111111111", .complete_note = " (complete)" }, &h), FB_OK);
	assert_int_equal(cJSON_GetArraySize(h.events), 2);
	assert_true(h.complete);
	assert_int_equal(h.since_ms, 0);
	/* all of the history: no StartTime; ResourceName = the ARN */
	assert_null(strstr(F.log[0].body, "StartTime"));
	assert_non_null(strstr(F.log[0].body, "\"AttributeValue\":\"" KEY "\""));
	assert_string_equal(line(&w, "tag-provenance")->detail, "2 events (complete)");
	assert_string_equal(line(&w, "tag-provenance")->api, "cloudtrail:LookupEvents");
	assert_int_equal(line(&w, "tag-provenance")->required, 0);
	prov_history_cleanup(&h);
	world_down(&w);

	ct_world_up(&w);
	route("LookupEvents", NULL, 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}", 5, 0);
	assert_int_not_equal(kit_prov_history(&w.k, &(struct kit_prov_read){ .step = "key-history",
		.arn = KEY }, &h), FB_OK);
	assert_int_equal(cJSON_GetArraySize(h.events), 0);
	assert_false(h.complete);
	assert_int_equal(line(&w, "key-history")->status, RESP_FAILED);
	assert_null(line(&w, "key-history")->error);
	assert_non_null(strstr(line(&w, "key-history")->detail, "0 events; incomplete: page 1: AccessDeniedException"));
	assert_false(resp_failed(&w.r));
	prov_history_cleanup(&h);
	world_down(&w);
}

#define GCI "<GetCallerIdentityResponse><GetCallerIdentityResult>" \
	"<Arn>arn:aws:sts::111111111111:assumed-role/kms-guard-role/kms-guard</Arn>" \
	"<Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"

/* Who the function is: asked until it answers, then kept in the config. */
static void test_kit__caller_arn_asked_once(void **st)
{
	struct world w;

	(void)st;
	world_up(&w, 0);
	route("GetCallerIdentity", NULL, 500, "<ErrorResponse><Error><Code>InternalError</Code>"
	      "</Error></ErrorResponse>", 5, 1);
	route("GetCallerIdentity", NULL, 200, GCI, 5, 0);
	assert_string_equal(kit_caller_arn(&w.k), "");
	assert_string_equal(kit_caller_arn(&w.k), "arn:aws:sts::111111111111:assumed-role/kms-guard-role/kms-guard");
	assert_string_equal(kit_caller_arn(&w.k), "arn:aws:sts::111111111111:assumed-role/kms-guard-role/kms-guard");
	assert_int_equal(sent("GetCallerIdentity"), 2);
	assert_string_equal(w.cfg.caller_arn, "arn:aws:sts::111111111111:assumed-role/kms-guard-role/kms-guard");
	assert_int_equal(w.r.nsteps, 0); /* no report line */
	world_down(&w);
}

/* ---- issue 19: WAFv2 IP set read-modify-write ---------------------------------- */

#define IPSET_ARN "arn:aws:wafv2:us-east-1:111111111111:regional/ipset/blocked/0a1b2c3d"
#define GET_IPSET(addrs, tok) "{\"IPSet\":{\"Name\":\"blocked\",\"Id\":\"0a1b2c3d\",\"ARN\":\"" IPSET_ARN "\"," \
	"\"Description\":\"firebreak blocks\",\"IPAddressVersion\":\"IPV4\",\"Addresses\":" addrs "},\"LockToken\":\"" tok "\"}"

static int add_one(const cJSON *set, void *arg, cJSON **out, char *why, size_t wn)
{
	const cJSON *e, *addrs = cJSON_GetObjectItem(set, "Addresses");

	cJSON_ArrayForEach(e, addrs)
		if (!strcmp(e->valuestring, (const char *)arg)) {
			snprintf(why, wn, "%s already in the set", (const char *)arg);
			return 0;
		}
	*out = cJSON_Duplicate(addrs, 1);
	cJSON_AddItemToArray(*out, cJSON_CreateString((const char *)arg));
	return 1;
}

static enum resp_status ipset_add(struct world *w, const char *ip)
{
	return kit_ipset_update(&w->k, &(struct kit_ipset){ .name = "blocked", .id = "0a1b2c3d",
		.scope = "REGIONAL", .target = IPSET_ARN, .change = add_one, .arg = (void *)ip,
		.restore = kit_undo("firebreak:unblock", cJSON_CreateString(ip)), .detail = "blocked" });
}

static void test_kit__ipset_update_sends_lock_token_and_keeps_addresses(void **st)
{
	struct world w;

	(void)st;
	world_up(&w, 0);
	route("GetIPSet", NULL, 200, GET_IPSET("[\"192.0.2.1/32\"]", "tok-1"), 5, 0);
	route("UpdateIPSet", NULL, 200, "{\"NextLockToken\":\"tok-2\"}", 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_DONE);
	assert_string_equal(last_of("UpdateIPSet")->body,
			    "{\"Name\":\"blocked\",\"Scope\":\"REGIONAL\",\"Id\":\"0a1b2c3d\",\"Description\":"
			    "\"firebreak blocks\",\"Addresses\":[\"192.0.2.1/32\",\"203.0.113.5/32\"],"
			    "\"LockToken\":\"tok-1\"}");
	assert_int_equal(last_of("UpdateIPSet")->nrestore, 1);
	assert_string_equal(line(&w, "read-ipset")->api, "wafv2:GetIPSet");
	assert_string_equal(line(&w, "update-ipset")->detail, "blocked");
	assert_false(resp_failed(&w.r));
	world_down(&w);
}

/* Someone changed the set between our read and write: read again, keep
 * their address too, write with the new token; the failed attempt stays in
 * the report without failing the invocation, and the undo is recorded once. */
static void test_kit__ipset_update_retries_optimistic_lock(void **st)
{
	struct world w;
	size_t i, nupd = 0;

	(void)st;
	world_up(&w, 0);
	route("GetIPSet", NULL, 200, GET_IPSET("[\"192.0.2.1/32\"]", "tok-1"), 5, 1);
	route("GetIPSet", NULL, 200, GET_IPSET("[\"192.0.2.1/32\",\"192.0.2.99/32\"]", "tok-9"), 5, 0);
	route("UpdateIPSet", "tok-1", 400, "{\"__type\":\"WAFOptimisticLockException\",\"Message\":\"stale\"}", 5, 0);
	route("UpdateIPSet", "tok-9", 200, "{\"NextLockToken\":\"tok-10\"}", 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_DONE);
	assert_int_equal(sent("GetIPSet"), 2);
	assert_int_equal(sent("UpdateIPSet"), 2);
	assert_non_null(strstr(last_of("UpdateIPSet")->body,
			       "\"Addresses\":[\"192.0.2.1/32\",\"192.0.2.99/32\",\"203.0.113.5/32\"],\"LockToken\":\"tok-9\""));
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
	for (i = 0; i < w.r.nsteps; i++)
		if (!strcmp(w.r.steps[i].step, "update-ipset")) {
			nupd++;
			if (nupd == 1) {
				assert_int_equal(w.r.steps[i].status, RESP_FAILED);
				assert_false(w.r.steps[i].required);
			} else {
				assert_int_equal(w.r.steps[i].status, RESP_DONE);
			}
		}
	assert_int_equal(nupd, 2);
	assert_false(resp_failed(&w.r));
	world_down(&w);
}

static void test_kit__ipset_update_already_unreadable_and_dry_run(void **st)
{
	struct world w;

	(void)st;
	/* present: no write, no undo */
	world_up(&w, 0);
	route("GetIPSet", NULL, 200, GET_IPSET("[\"203.0.113.5/32\"]", "tok-1"), 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_ALREADY);
	assert_int_equal(sent("UpdateIPSet"), 0);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	world_down(&w);
	/* unreadable: never written, the write line says why and fails */
	world_up(&w, 0);
	route("GetIPSet", NULL, 400, "{\"__type\":\"WAFNonexistentItemException\",\"Message\":\"no\"}", 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_FAILED);
	assert_int_equal(sent("UpdateIPSet"), 0);
	assert_true(resp_failed(&w.r));
	assert_non_null(strstr(line(&w, "update-ipset")->detail, "cannot be read"));
	world_down(&w);
	/* lock conflicts forever: gives up after KIT_IPSET_ATTEMPTS, failed */
	world_up(&w, 0);
	route("GetIPSet", NULL, 200, GET_IPSET("[]", "tok-1"), 5, 0);
	route("UpdateIPSet", NULL, 400, "{\"__type\":\"WAFOptimisticLockException\",\"Message\":\"stale\"}", 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_FAILED);
	assert_int_equal(sent("UpdateIPSet"), KIT_IPSET_ATTEMPTS);
	assert_true(resp_failed(&w.r));
	world_down(&w);
	/* dry run: read, planned, undo in the plan, nothing written */
	world_up(&w, 1);
	route("GetIPSet", NULL, 200, GET_IPSET("[]", "tok-1"), 5, 0);
	assert_int_equal(ipset_add(&w, "203.0.113.5/32"), RESP_PLANNED);
	assert_int_equal(sent("UpdateIPSet"), 0);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 1);
	world_down(&w);
}

/* ---- issue 17: the handler's opening (kit_begin) ------------------------------- */

static void begin_probe(struct world *w)
{
	struct kit_round *rd = kit_round_new(&w->k);

	kit_add(rd, &(struct kit_spec){ .step = "describe-key", .service = "kms",
		.op = "DescribeKey", .target = KEY, .kind = RESP_READ, .in = key_in(KEY) });

	kit_run(rd);
	kit_round_free(rd);
}

static void test_kit__begin_sets_deadline_report_and_trigger(void **st)
{
	struct world w;
	struct resp r;
	struct lr_result out;
	struct lr_context c = ctx;
	enum fb_err rc = FB_E_IO;
	cJSON *ev = cJSON_Parse("{\"id\":\"e-1\",\"source\":\"aws.kms\",\"detail-type\":\"AWS API Call "
				"via CloudTrail\",\"time\":\"2026-12-07T00:00:00Z\",\"dryRun\":true}");

	(void)st;
	world_up(&w, 0);
	lr_result_init(&out);
	route("DescribeKey", NULL, 200, "{\"KeyMetadata\":{}}", 0, 0);
	/* a deadline already past once the margin is kept back: no call goes out */
	c.deadline_ms = T0_MS + 100;
	assert_int_equal(kit_begin(&r, &(struct kit_handler){ "kg", &w.cfg, w.aws, 300 }, &c, ev, &out, &rc), 1);
	assert_int_equal(rc, FB_OK);
	assert_string_equal(r.function, "kg");
	assert_string_equal(resp_get_str(r.trigger, "event_id"), "e-1");
	assert_int_equal(r.dry_run, 1);       /* the envelope's dryRun */
	assert_false(out.is_error);
	resp_cleanup(&r);
	begin_probe(&w);
	assert_int_equal(sent("DescribeKey"), 0);
	/* the next invocation without a deadline: none left over */
	c.deadline_ms = 0;
	assert_int_equal(kit_begin(&r, &(struct kit_handler){ "kg", &w.cfg, w.aws, 300 }, &c, ev, &out, &rc), 1);
	resp_cleanup(&r);
	begin_probe(&w);
	assert_int_equal(sent("DescribeKey"), 1);
	lr_result_cleanup(&out);
	cJSON_Delete(ev);
	world_down(&w);
}

static void test_kit__begin_refuses_wrongly_typed_envelope(void **st)
{
	static const char *bad[] = {
		"{\"id\":5,\"source\":\"aws.kms\",\"detail-type\":\"x\"}",
		"{\"source\":[\"aws.kms\"],\"detail-type\":\"x\"}",
		"{\"dryRun\":\"false\"}",
		"{\"region\":{},\"source\":\"aws.kms\",\"detail-type\":\"x\"}",
	};
	struct world w;
	size_t i;

	(void)st;
	world_up(&w, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp r;
		struct lr_result out;
		enum fb_err rc = FB_E_IO;
		cJSON *ev = cJSON_Parse(bad[i]);

		lr_result_init(&out);
		assert_int_equal(kit_begin(&r, &(struct kit_handler){ "kg", &w.cfg, w.aws, 300 }, &ctx, ev, &out,
					   &rc), 0);
		assert_int_equal(rc, FB_OK);
		assert_true(out.is_error);
		assert_string_equal(out.error_type, "Firebreak.InvalidEvent");
		assert_non_null(strstr(out.error_message, "envelope fields have the wrong types"));
		assert_null(r.trigger);          /* not begun: nothing to clean up */
		lr_result_cleanup(&out);
		cJSON_Delete(ev);
	}
	world_down(&w);
}

/* The shared formatting of the printf-style wrappers: cut to the buffer,
 * never past it. */
static void test_kit__wrappers_format_and_cut(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *a;
	char longs[2000];

	(void)st;
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	world_up(&w, 0);
	rd = kit_round_new(&w.k);
	a = kit_add(rd, &(struct kit_spec){ .step = "s", .service = "kms", .op = "EnableKey", .target = KEY,
		.kind = RESP_WRITE, .in = key_in(KEY) });
	kit_fail(a, "%s/%d", longs, 7);
	assert_int_equal(kit_status(a), RESP_FAILED);
	assert_int_equal(strlen(line(&w, "s")->detail), 599);
	resp_warn(&w.r, "w %d %s", 1, "two");
	assert_string_equal(cJSON_GetArrayItem(w.r.warnings, 0)->valuestring, "w 1 two");
	resp_skip(&w.r, "%s", longs);
	assert_true(w.r.skipped);
	kit_round_free(rd);
	world_down(&w);
}

/* ---- issue 24 s2 (w3-rst2): the undo plan of a round, before it runs ---------------- */

static void test_kit__round_undo_plan_is_what_the_run_records(void **st)
{
	struct world w;
	struct kit_round *rd;
	struct kit_step *a, *b;
	cJSON *plan;

	(void)st;
	world_up(&w, 0);
	route("EnableKey", NULL, 200, "{}", 5, 0);
	route("TagResource", NULL, 200, "{}", 5, 0);
	rd = kit_round_new(&w.k);
	a = kit_add(rd, &(struct kit_spec){ .step = "enable-key", .service = "kms", .op = "EnableKey",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:DisableKey", key_in(KEY)) });
	b = kit_add(rd, &(struct kit_spec){ .step = "cancel-deletion", .service = "kms",
		.op = "CancelKeyDeletion", .target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:ScheduleKeyDeletion", key_in(KEY)) });
	kit_add(rd, &(struct kit_spec){ .step = "tag", .service = "kms", .op = "TagResource",
		.target = KEY, .kind = RESP_WRITE, .in = key_in(KEY),
		.restore = kit_undo("kms:UntagResource", key_in(KEY)) });
	kit_already(b, "no deletion pending");
	plan = kit_round_undo_plan(rd);
	/* nothing sent, nothing recorded yet; the plan: the writes to be sent, in order */
	assert_int_equal(F.nlog, 0);
	assert_int_equal(cJSON_GetArraySize(w.r.restore), 0);
	assert_int_equal(cJSON_GetArraySize(plan), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(plan, 0), "api")->valuestring, "kms:DisableKey");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(plan, 1), "api")->valuestring, "kms:UntagResource");
	kit_run(rd);
	assert_int_equal(kit_status(a), RESP_DONE);
	assert_true(cJSON_Compare(plan, w.r.restore, 1));   /* what the run recorded */
	cJSON_Delete(plan);
	plan = kit_round_undo_plan(rd);                      /* run: nothing left to plan */
	assert_int_equal(cJSON_GetArraySize(plan), 0);
	cJSON_Delete(plan);
	plan = kit_round_undo_plan(NULL);
	assert_int_equal(cJSON_GetArraySize(plan), 0);
	cJSON_Delete(plan);
	kit_round_free(rd);
	world_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kit__dry_run_plans_writes_and_makes_no_write),
		cmocka_unit_test(test_kit__begin_sets_deadline_report_and_trigger),
		cmocka_unit_test(test_kit__begin_refuses_wrongly_typed_envelope),
		cmocka_unit_test(test_kit__wrappers_format_and_cut),
		cmocka_unit_test(test_kit__restore_recorded_before_the_write_even_when_it_fails),
		cmocka_unit_test(test_kit__batched_quiet_writes),
		cmocka_unit_test(test_kit__already_codes_and_absent_codes),
		cmocka_unit_test(test_kit__optional_failure_does_not_fail_the_invocation),
		cmocka_unit_test(test_kit__a_round_runs_concurrently),
		cmocka_unit_test(test_kit__skip_and_already_before_the_run),
		cmocka_unit_test(test_kit__failed_by_decision_records_no_undo),
		cmocka_unit_test(test_kit__a_step_never_run_says_so),
		cmocka_unit_test(test_kit__pager_next_token),
		cmocka_unit_test(test_kit__pager_marker_is_truncated),
		cmocka_unit_test(test_kit__pager_cap_reached_is_incomplete),
		cmocka_unit_test(test_kit__pager_same_token_again_ends),
		cmocka_unit_test(test_kit__page_reader_sees_every_page_and_can_stop),
		cmocka_unit_test(test_kit__decide_makes_a_line_and_no_call),
		cmocka_unit_test(test_kit__own_account_partition_and_region_clients),
		cmocka_unit_test(test_kit__member_account_client),
		cmocka_unit_test(test_kit__revoke_sessions_first_time),
		cmocka_unit_test(test_kit__revoke_sessions_replay_is_already),
		cmocka_unit_test(test_kit__revoke_sessions_newer_incident_writes_again),
		cmocka_unit_test(test_kit__revoke_sessions_refusals),
		cmocka_unit_test(test_kit__revoke_undo_is_the_recorded_entry),
		cmocka_unit_test(test_kit__revocation_cut_only_for_the_exact_shape),
		cmocka_unit_test(test_kit__role_names),
		cmocka_unit_test(test_kit__demo_kms_guard_on_the_kit),
		cmocka_unit_test(test_kit__cloudtrail_step_page1_in_the_round_then_pages),
		cmocka_unit_test(test_kit__cloudtrail_step_throttled_page1_is_retried_by_the_pager),
		cmocka_unit_test(test_kit__cloudtrail_step_failure),
		cmocka_unit_test(test_kit__cloudtrail_step_deferred),
		cmocka_unit_test(test_kit__cloudtrail_step_misuse),
		cmocka_unit_test(test_kit__prov_history_step),
		cmocka_unit_test(test_kit__caller_arn_asked_once),
		cmocka_unit_test(test_kit__ipset_update_sends_lock_token_and_keeps_addresses),
		cmocka_unit_test(test_kit__ipset_update_retries_optimistic_lock),
		cmocka_unit_test(test_kit__ipset_update_already_unreadable_and_dry_run),
		cmocka_unit_test(test_kit__round_undo_plan_is_what_the_run_records),   /* w3-rst2 */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
