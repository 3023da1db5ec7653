/*
 * kms-guard: cancel an unauthorised KMS key deletion (or undo a DisableKey)
 * within seconds and restore the key's prior state. README.md next to this
 * file documents triggers, actions, IAM and settings.
 *
 * Stages: kg_parse() turns the event into items (one per key change; pure),
 * kg_handle_item() reads the key (DescribeKey, ListResourceTags and, when
 * the prior state must be learnt, CloudTrail LookupEvents, concurrently),
 * decides (kg_prior_from_history(), pure) and writes (CancelKeyDeletion,
 * then EnableKey and TagResource concurrently). resp_* keeps the contract.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "fb_err.h"
#include "log.h"
#include "lr.h"
#include "resp.h"

#define KG_FUNCTION "kms-guard"
#define KG_DEADLINE_MARGIN_MS 500
#define KG_REF_MAX 2048          /* KeyId: 1..2048 characters (KMS API) */
#define KG_MAX_ITEMS 25          /* key changes handled per alarm */
#define KG_MAX_PAGES 5           /* LookupEvents pages per query */
#define KG_PAGE_SIZE 50          /* LookupEvents MaxResults limit */
#define KG_DEFAULT_PENDING_DAYS 30
#define KG_TAG_INCIDENT "firebreak:incident"
#define KG_TAG_ALLOW "firebreak:allow-deletion"
#define KG_TAG_EXEMPT "firebreak:exempt"

enum kg_kind { KG_CALL, KG_MANUAL, KG_ALARM };
enum kg_prior { KG_PRIOR_UNKNOWN, KG_PRIOR_ENABLED, KG_PRIOR_DISABLED };

/* One key change to contain: from an EventBridge CloudTrail record, a
 * LookupEvents record, or the manual form. */
struct kg_item {
	char key_ref[KG_REF_MAX + 1];   /* what DescribeKey is called with */
	char account[16];
	char region[32];
	char event_name[32];            /* ScheduleKeyDeletion, DisableKey, manual */
	char event_id[128];
	char actor[512];                /* userIdentity.arn, "" if none */
	char error_code[128];           /* detail.errorCode, "" if the call succeeded */
	char note[320];                 /* e.g. the region mismatch */
	int64_t event_ms;
	int pending_days;               /* requestParameters.pendingWindowInDays, 0 if none */
};

struct kg_event {
	cJSON *root;                    /* owned */
	enum kg_kind kind;
	struct kg_item item;            /* KG_CALL, KG_MANUAL */
	int64_t window_start_s;         /* KG_ALARM: LookupEvents window */
	int64_t window_end_s;
	char alarm_arn[512];
};

struct kg_settings {
	char alarm_name[256];           /* FIREBREAK_KMS_ALARM_NAME */
	int64_t lookback_s;             /* FIREBREAK_KMS_ALARM_LOOKBACK_SECONDS */
};

struct kg_state {
	struct resp_config cfg;
	struct kg_settings set;
	struct aws_client *aws;
};

/* ---- small pure helpers ----------------------------------------------------- */

static void kg_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Key references are attacker data that ends up in KMS requests: accept
 * only the forms KMS documents for KeyId (DescribeKey, API reference):
 *   key id       1234abcd-12ab-34cd-56ef-1234567890ab (8-4-4-4-12 hex)
 *   mrk id       mrk- + 32 hex (multi-Region key)
 *   alias name   alias/ + [A-Za-z0-9/_-] (AliasName: 1..256 characters)
 *   key ARN      arn:<partition>:kms:<region>:<12 digits>:key/<key id>
 *   alias ARN    arn:<partition>:kms:<region>:<12 digits>:alias/<name>
 * Anything else (URLs, host:port, "../", spaces, control characters, a
 * name cut short by "\u0000") is refused before any AWS call. */
#define KG_ALIAS_MAX 256

static int kg_hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int kg_key_id_ok(const char *s, size_t n)
{
	static const size_t groups[] = { 8, 4, 4, 4, 12 };
	size_t g, at = 0;

	if (n != 36)
		return 0;
	if (!strncmp(s, "mrk-", 4))
		return kg_hex_run(s + 4, 32);
	for (g = 0; g < 5; g++) {
		if (!kg_hex_run(s + at, groups[g]))
			return 0;
		at += groups[g];
		if (g < 4 && s[at++] != '-')
			return 0;
	}
	return 1;
}

/* "alias/" + name; "alias/" alone or a name past 256 characters is not one. */
static int kg_alias_ok(const char *s, size_t n)
{
	size_t i;

	if (n <= 6 || n > KG_ALIAS_MAX || strncmp(s, "alias/", 6))
		return 0;
	for (i = 6; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '/' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Region syntax: two letters, one or more "-word" parts, "-digits"
 * (us-east-1, us-gov-west-1, cn-north-1, ap-southeast-4). The partition
 * must match: aws-cn regions start "cn-", aws-us-gov regions "us-gov-". */
static int kg_region_syntax(const char *s, size_t n, const char *partition)
{
	size_t i = 0, words = 0, digits = 0;

	if (n < 4 || n > 31 || !islower((unsigned char)s[0]) || !islower((unsigned char)s[1]) ||
	    s[2] != '-')
		return 0;
	i = 2;
	while (i < n && s[i] == '-') {
		size_t start = ++i;

		while (i < n && islower((unsigned char)s[i]))
			i++;
		if (i == start)
			break; /* "-digits" */
		words++;
	}
	while (i < n && isdigit((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (i != n || words == 0 || digits == 0 || digits > 2)
		return 0;
	if (!strcmp(partition, "aws-cn"))
		return !strncmp(s, "cn-", 3);
	if (!strcmp(partition, "aws-us-gov"))
		return n > 7 && !strncmp(s, "us-gov-", 7);
	return strncmp(s, "cn-", 3) && strncmp(s, "us-gov-", 7);
}

static int kg_arn_ok(const char *s)
{
	static const char *const partitions[] = { "aws", "aws-cn", "aws-us-gov" };
	const char *f[6], *p = s;
	char partition[16];
	size_t i, n;

	f[0] = s;
	for (i = 1; i < 6; i++) {
		p = strchr(p, ':');
		if (!p)
			return 0;
		f[i] = ++p;
	}
	if (strchr(f[5], ':') || strncmp(s, "arn:", 4))
		return 0;
	n = (size_t)(f[2] - f[1] - 1);
	if (n >= sizeof(partition))
		return 0;
	memcpy(partition, f[1], n);
	partition[n] = '\0';
	for (i = 0; i < 3; i++)
		if (!strcmp(partition, partitions[i]))
			break;
	if (i == 3 || strncmp(f[2], "kms:", 4) || f[3] != f[2] + 4)
		return 0;
	if (!kg_region_syntax(f[3], (size_t)(f[4] - f[3] - 1), partition))
		return 0;
	if (f[5] - f[4] - 1 != 12)
		return 0;
	for (p = f[4]; p < f[5] - 1; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	if (!strncmp(f[5], "key/", 4))
		return kg_key_id_ok(f[5] + 4, strlen(f[5] + 4));
	return kg_alias_ok(f[5], strlen(f[5]));
}

/* 1 when `s` is a key reference of one of the forms above. */
static int kg_ref_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > KG_REF_MAX)
		return 0;
	if (!strncmp(s, "arn:", 4))
		return kg_arn_ok(s);
	if (!strncmp(s, "alias/", 6))
		return kg_alias_ok(s, n);
	return kg_key_id_ok(s, n);
}

static int kg_region_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 31)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* arn:partition:kms:region:account:key/id or :alias/name. Fills region and
 * account (either may be NULL); returns 1 for a KMS ARN. */
static int kg_kms_arn(const char *arn, char *region, size_t rn, char *account, size_t an)
{
	const char *f[6];
	const char *p = arn;
	int i;

	if (!arn || strncmp(arn, "arn:", 4))
		return 0;
	f[0] = arn;
	for (i = 1; i < 6; i++) {
		p = strchr(p, ':');
		if (!p)
			return 0;
		f[i] = ++p;
	}
	if (strncmp(f[2], "kms:", 4) || f[4] - f[3] < 2 || f[5] - f[4] < 2)
		return 0;
	if (strncmp(f[5], "key/", 4) && strncmp(f[5], "alias/", 6))
		return 0;
	if (region)
		snprintf(region, rn, "%.*s", (int)(f[4] - f[3] - 1), f[3]);
	if (account)
		snprintf(account, an, "%.*s", (int)(f[5] - f[4] - 1), f[4]);
	return 1;
}

static int kg_is_trigger_name(const char *name)
{
	return !strcmp(name, "ScheduleKeyDeletion") || !strcmp(name, "DisableKey");
}

/* A present field must have the right type; absent or null is fine. */
static int kg_opt_str(const cJSON *root, const char *path, const char **out)
{
	const cJSON *it = resp_get(root, path);

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 1;
	if (!cJSON_IsString(it))
		return 0;
	*out = it->valuestring;
	return 1;
}

/* ---- parsing: CloudTrail record -> item ----------------------------------------- */

/* `rec` is a CloudTrail record (EventBridge detail, or a LookupEvents
 * CloudTrailEvent). `env_account`/`env_region` are the envelope's. */
static enum fb_err kg_item_from_record(const cJSON *rec, const char *env_account,
				       const char *env_region, struct kg_item *it,
				       char *why, size_t wn)
{
	const char *name, *err, *id, *etime, *actor, *key, *aws_region, *acct, *acct2, *res_arn = NULL;
	const cJSON *res, *el, *days, *rp;
	char arn_region[32] = "", arn_account[16] = "";

	memset(it, 0, sizeof(*it));
	if (!cJSON_IsObject(rec)) {
		snprintf(why, wn, "field 'detail' must be an object");
		return FB_E_INVALID;
	}
	if (!kg_opt_str(rec, "eventName", &name) || !kg_opt_str(rec, "errorCode", &err) ||
	    !kg_opt_str(rec, "eventID", &id) || !kg_opt_str(rec, "eventTime", &etime) ||
	    !kg_opt_str(rec, "userIdentity.arn", &actor) ||
	    !kg_opt_str(rec, "awsRegion", &aws_region) ||
	    !kg_opt_str(rec, "recipientAccountId", &acct) ||
	    !kg_opt_str(rec, "userIdentity.accountId", &acct2)) {
		snprintf(why, wn, "a CloudTrail field has the wrong type (want strings)");
		return FB_E_INVALID;
	}
	rp = cJSON_GetObjectItemCaseSensitive(rec, "requestParameters");
	if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp)) {
		snprintf(why, wn, "field 'detail.requestParameters' must be an object");
		return FB_E_INVALID;
	}
	if (!kg_opt_str(rec, "requestParameters.keyId", &key)) {
		snprintf(why, wn, "field 'detail.requestParameters.keyId' must be a string");
		return FB_E_INVALID;
	}
	if (!name) {
		snprintf(why, wn, "missing 'detail.eventName'");
		return FB_E_INVALID;
	}
	if (!kg_is_trigger_name(name)) {
		snprintf(why, wn, "not a kms-guard trigger: eventName '%.64s' "
			 "(want ScheduleKeyDeletion or DisableKey)", name);
		return FB_E_INVALID;
	}
	kg_copy(it->event_name, sizeof(it->event_name), name);
	kg_copy(it->error_code, sizeof(it->error_code), err);
	kg_copy(it->event_id, sizeof(it->event_id), id);
	kg_copy(it->actor, sizeof(it->actor), actor);
	it->event_ms = resp_parse_time_ms(etime);
	days = resp_get(rec, "requestParameters.pendingWindowInDays");
	if (cJSON_IsNumber(days) && days->valuedouble >= 7 && days->valuedouble <= 30)
		it->pending_days = (int)days->valuedouble;

	res = cJSON_GetObjectItemCaseSensitive(rec, "resources");
	cJSON_ArrayForEach(el, (cJSON_IsArray(res) ? res : NULL)) {
		const char *a = resp_get_str(el, "ARN");

		if (a && kg_ref_ok(a) && strstr(a, ":key/")) {
			res_arn = a;
			break;
		}
	}
	if (key && !kg_ref_ok(key)) {
		snprintf(why, wn, "field 'detail.requestParameters.keyId' is not a key id, alias or ARN");
		return FB_E_INVALID;
	}
	if (!key && !res_arn) {
		if (err)
			return FB_OK; /* a failed call: skipped before the key matters */
		snprintf(why, wn, "missing 'detail.requestParameters.keyId'");
		return FB_E_INVALID;
	}
	/* A full ARN says where the key lives; prefer it over a bare id.
	 * resources[].ARN is used when it names the same key. */
	if (key && kg_kms_arn(key, arn_region, sizeof(arn_region), arn_account, sizeof(arn_account))) {
		kg_copy(it->key_ref, sizeof(it->key_ref), key);
	} else if (res_arn && (!key || (strlen(res_arn) > strlen(key) &&
					!strcmp(res_arn + strlen(res_arn) - strlen(key), key) &&
					res_arn[strlen(res_arn) - strlen(key) - 1] == '/'))) {
		kg_copy(it->key_ref, sizeof(it->key_ref), res_arn);
		kg_kms_arn(res_arn, arn_region, sizeof(arn_region), arn_account, sizeof(arn_account));
	} else {
		kg_copy(it->key_ref, sizeof(it->key_ref), key);
	}
	if (!aws_region)
		aws_region = env_region;
	if (!acct)
		acct = env_account ? env_account : acct2;
	if (arn_region[0]) {
		kg_copy(it->region, sizeof(it->region), arn_region);
		kg_copy(it->account, sizeof(it->account), arn_account);
		if (aws_region && strcmp(aws_region, arn_region))
			snprintf(it->note, sizeof(it->note),
				 "region mismatch: the event says '%.31s', the key ARN says '%.31s'; "
				 "acting in the key ARN's region", aws_region, arn_region);
	} else {
		kg_copy(it->region, sizeof(it->region), aws_region);
		kg_copy(it->account, sizeof(it->account), acct);
	}
	if ((it->region[0] && !kg_region_ok(it->region))) {
		snprintf(why, wn, "region '%.40s' is not a region name", it->region);
		return FB_E_INVALID;
	}
	return FB_OK;
}

/* ---- parsing: alarm window ----------------------------------------------------- */

/* The CloudTrail window to search for an alarm: from the first datapoint
 * the alarm evaluated (state.reasonData.startDate) minus the lookback (the
 * CloudTrail -> CloudWatch Logs delivery delay), to the state change plus
 * a minute. Without reasonData (composite alarms): lookback plus the
 * largest metric period before the state change. */
static void kg_alarm_window(const cJSON *detail, int64_t event_ms, int64_t lookback_s,
			    int64_t *start_s, int64_t *end_s)
{
	const char *rd = resp_get_str(detail, "state.reasonData");
	int64_t end_ms = resp_parse_time_ms(resp_get_str(detail, "state.timestamp"));
	int64_t start_ms = 0, period_s = 0;
	const cJSON *metrics = resp_get(detail, "configuration.metrics"), *m;
	cJSON *reason = NULL;

	if (!end_ms)
		end_ms = event_ms;
	if (rd) {
		reason = cJSON_ParseWithLength(rd, strlen(rd));
		start_ms = resp_parse_time_ms(resp_get_str(reason, "startDate"));
		/* fuzz: range-checked, an out-of-range double -> int64 conversion is UB */
		if (cJSON_IsNumber(resp_get(reason, "period")) &&
		    resp_get(reason, "period")->valuedouble > 0 &&
		    resp_get(reason, "period")->valuedouble < 86400)
			period_s = (int64_t)resp_get(reason, "period")->valuedouble;
		cJSON_Delete(reason);
	}
	cJSON_ArrayForEach(m, (cJSON_IsArray(metrics) ? metrics : NULL)) {
		const cJSON *p = resp_get(m, "metricStat.period");

		if (cJSON_IsNumber(p) && p->valuedouble > (double)period_s && p->valuedouble < 86400)
			period_s = (int64_t)p->valuedouble;
	}
	*end_s = end_ms / 1000 + 60;
	if (start_ms && start_ms <= end_ms)
		*start_s = start_ms / 1000 - lookback_s;
	else
		*start_s = end_ms / 1000 - lookback_s - period_s;
}

/* ---- parsing: the event ------------------------------------------------------ */

static void kg_event_cleanup(struct kg_event *ev)
{
	cJSON_Delete(ev->root);
	ev->root = NULL;
}

static enum fb_err kg_parse_manual(struct kg_event *ev, char *why, size_t wn)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(ev->root, "keyId");
	const cJSON *region = cJSON_GetObjectItemCaseSensitive(ev->root, "region");
	struct kg_item *it = &ev->item;
	char arn_region[32] = "", arn_account[16] = "";

	if (!key) {
		snprintf(why, wn, "missing 'keyId' (manual form: {\"keyId\": \"<id, alias or ARN>\", "
			 "\"region\": \"<region>\"})");
		return FB_E_INVALID;
	}
	if (!cJSON_IsString(key) || !kg_ref_ok(key->valuestring)) {
		snprintf(why, wn, "field 'keyId' must be a key id, alias or ARN string");
		return FB_E_INVALID;
	}
	if (region && (!cJSON_IsString(region) || !kg_region_ok(region->valuestring))) {
		snprintf(why, wn, "field 'region' must be a region name string");
		return FB_E_INVALID;
	}
	ev->kind = KG_MANUAL;
	kg_copy(it->key_ref, sizeof(it->key_ref), key->valuestring);
	kg_copy(it->event_name, sizeof(it->event_name), "manual");
	if (region)
		kg_copy(it->region, sizeof(it->region), region->valuestring);
	if (kg_kms_arn(key->valuestring, arn_region, sizeof(arn_region), arn_account,
		       sizeof(arn_account))) {
		if (region && strcmp(region->valuestring, arn_region))
			snprintf(it->note, sizeof(it->note),
				 "region mismatch: the event says '%.31s', the key ARN says '%.31s'; "
				 "acting in the key ARN's region", region->valuestring, arn_region);
		kg_copy(it->region, sizeof(it->region), arn_region);
		kg_copy(it->account, sizeof(it->account), arn_account);
	}
	return FB_OK;
}

static enum fb_err kg_parse(const char *text, size_t len, const struct kg_settings *set,
			    struct kg_event *ev, char *why, size_t wn)
{
	const char *source, *dtype, *acct, *region;
	const cJSON *detail;

	memset(ev, 0, sizeof(*ev));
	/* Size, UTF-8, control bytes, "\u0000", depth, trailing data, object:
	 * the shared check every responder makes before reading a field. */
	if (resp_parse_event(text, len, RESP_MAX_EVENT_BYTES, &ev->root, why, wn) != FB_OK)
		return FB_E_INVALID;
	if (cJSON_GetObjectItemCaseSensitive(ev->root, "dryRun") &&
	    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(ev->root, "dryRun"))) {
		snprintf(why, wn, "field 'dryRun' must be true or false");
		goto invalid;
	}
	if (!kg_opt_str(ev->root, "source", &source) || !kg_opt_str(ev->root, "detail-type", &dtype) ||
	    !kg_opt_str(ev->root, "account", &acct) || !kg_opt_str(ev->root, "region", &region)) {
		snprintf(why, wn, "fields 'source', 'detail-type', 'account', 'region' must be strings");
		goto invalid;
	}
	if (!source && !dtype) {
		if (kg_parse_manual(ev, why, wn) != FB_OK)
			goto invalid;
		return FB_OK;
	}
	if (!source || !dtype) {
		snprintf(why, wn, "an EventBridge event needs both 'source' and 'detail-type'");
		goto invalid;
	}
	detail = cJSON_GetObjectItemCaseSensitive(ev->root, "detail");
	if (!strcmp(source, "aws.kms") && !strcmp(dtype, "AWS API Call via CloudTrail")) {
		ev->kind = KG_CALL;
		if (kg_item_from_record(detail, acct, region, &ev->item, why, wn) != FB_OK)
			goto invalid;
		return FB_OK;
	}
	if (!strcmp(source, "aws.cloudwatch") && !strcmp(dtype, "CloudWatch Alarm State Change")) {
		const char *name, *state;

		if (!cJSON_IsObject(detail) || !kg_opt_str(detail, "alarmName", &name) ||
		    !kg_opt_str(detail, "state.value", &state) || !name || !state) {
			snprintf(why, wn, "alarm event needs string 'detail.alarmName' and "
				 "'detail.state.value'");
			goto invalid;
		}
		if (strcmp(name, set->alarm_name)) {
			snprintf(why, wn, "not a kms-guard trigger: alarm '%.128s' is not '%.128s' "
				 "(FIREBREAK_KMS_ALARM_NAME)", name, set->alarm_name);
			goto invalid;
		}
		if (strcmp(state, "ALARM")) {
			snprintf(why, wn, "not a kms-guard trigger: alarm state '%.32s' (only ALARM is)",
				 state);
			goto invalid;
		}
		ev->kind = KG_ALARM;
		kg_copy(ev->alarm_arn, sizeof(ev->alarm_arn), resp_get_str(ev->root, "resources.0"));
		kg_alarm_window(detail, resp_parse_time_ms(resp_get_str(ev->root, "time")),
				set->lookback_s, &ev->window_start_s, &ev->window_end_s);
		if (ev->window_end_s <= 60) {
			snprintf(why, wn, "alarm event has no usable 'time' or 'detail.state.timestamp'");
			goto invalid;
		}
		return FB_OK;
	}
	if (!strcmp(source, "aws.kms")) {
		/* Not errors in AWS, but nothing kms-guard can contain: the KMS CMK
		 * Deletion event and the DeleteKey service event both mean the key
		 * is already gone. An error result makes a mis-routed rule visible
		 * (Lambda Errors metric, DLQ) instead of silently succeeding. */
		snprintf(why, wn, "not a kms-guard trigger: source 'aws.kms' detail-type '%.64s'%s",
			 dtype, strcmp(dtype, "AWS API Call via CloudTrail") ?
			 " (a completed deletion cannot be cancelled)" : "");
		goto invalid;
	}
	snprintf(why, wn, "not a kms-guard trigger: source '%.64s' detail-type '%.64s'", source, dtype);
invalid:
	kg_event_cleanup(ev);
	return FB_E_INVALID;
}

/* ---- decision: the prior state from CloudTrail history ---------------------------- */

static int kg_is_key_use(const char *name)
{
	static const char *const uses[] = {
		"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify",
		"GenerateMac", "VerifyMac", "DeriveSharedSecret",
	};
	size_t i;

	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (!strcmp(name, uses[i]))
			return 1;
	return 0;
}

static void kg_source(char *src, size_t n, const char *name, int64_t ms, const char *why)
{
	char iso[RESP_TIME_LEN];

	resp_format_time_ms(ms, iso);
	snprintf(src, n, "cloudtrail:%s@%s%s", name, iso, why);
}

/* `events` is a LookupEvents "Events" array for this key, newest first.
 * Walks back from the triggering change (its event id, else its time; for
 * a manual invoke, the newest successful ScheduleKeyDeletion/DisableKey)
 * to the newest event that shows the state before it:
 *  - EnableKey, CreateKey, or a successful use of the key -> Enabled
 *    (only an Enabled key can encrypt/decrypt);
 *  - CancelKeyDeletion -> Disabled (KMS leaves a cancelled key Disabled);
 *  - DisableKey by the same actor as the trigger -> part of the incident,
 *    so Enabled before it; by anyone else -> Disabled;
 *  - failed calls and unrelated events are ignored.
 * Returns KG_PRIOR_UNKNOWN when nothing decides; src says why. */
static enum kg_prior kg_prior_from_history(const cJSON *events, const struct kg_item *it,
					   char *src, size_t n)
{
	const char *trig_id = it->event_id[0] ? it->event_id : NULL;
	const char *trig_actor = it->actor;
	int64_t trig_ms = it->event_ms;
	int manual = !strcmp(it->event_name, "manual"), seen = 0;
	char manual_actor[512] = "";
	const cJSON *e;

	/* Is the trigger in the list? Then everything after it is older. */
	if (trig_id) {
		cJSON_ArrayForEach(e, events) {
			if (resp_get_str(e, "EventId") && !strcmp(resp_get_str(e, "EventId"), trig_id))
				seen = 1;
		}
	}
	src[0] = '\0';
	cJSON_ArrayForEach(e, events) {
		const char *name = resp_get_str(e, "EventName"), *id = resp_get_str(e, "EventId");
		const char *ct = resp_get_str(e, "CloudTrailEvent"), *actor = NULL;
		const cJSON *t = resp_get(e, "EventTime");
		/* fuzz (tests/fuzz/regressions/kms_guard): an out-of-range double -> int64
		 * conversion is undefined behaviour; such a time becomes 0 */
		int64_t ms = (cJSON_IsNumber(t) && t->valuedouble > -9.2e15 && t->valuedouble < 9.2e15)
			     ? (int64_t)(t->valuedouble * 1000.0) : 0;
		cJSON *rec = NULL;
		int failed = 0;

		if (!name)
			continue;
		if (trig_id && seen) {
			if (id && !strcmp(id, trig_id)) {
				seen = 2; /* from here on: before the trigger */
				continue;
			}
			if (seen != 2)
				continue;
		} else if (!manual && trig_ms && ms >= trig_ms) {
			continue;
		}
		if (ct) {
			rec = cJSON_ParseWithLength(ct, strlen(ct));
			failed = resp_get_str(rec, "errorCode") != NULL;
			actor = resp_get_str(rec, "userIdentity.arn");
		}
		if (failed) {
			cJSON_Delete(rec);
			continue;
		}
		if (manual && !trig_ms) {
			/* The newest successful change is the one being reverted. */
			if (kg_is_trigger_name(name)) {
				trig_ms = ms ? ms : 1;
				kg_copy(manual_actor, sizeof(manual_actor), actor);
				trig_actor = manual_actor;
				if (!strcmp(name, "DisableKey")) {
					kg_source(src, n, name, ms, " (the change being reverted: "
						  "the key was Enabled before it)");
					cJSON_Delete(rec);
					return KG_PRIOR_ENABLED;
				}
			}
			cJSON_Delete(rec);
			continue;
		}
		if (!strcmp(name, "EnableKey") || !strcmp(name, "CreateKey") || kg_is_key_use(name)) {
			kg_source(src, n, name, ms, kg_is_key_use(name) ? " (key in use)" : "");
			cJSON_Delete(rec);
			return KG_PRIOR_ENABLED;
		}
		if (!strcmp(name, "CancelKeyDeletion")) {
			kg_source(src, n, name, ms, " (a cancelled key is Disabled)");
			cJSON_Delete(rec);
			return KG_PRIOR_DISABLED;
		}
		if (!strcmp(name, "DisableKey")) {
			int same = actor && trig_actor && trig_actor[0] && !strcmp(actor, trig_actor);

			kg_source(src, n, name, ms, same ? " by the same actor (part of the incident: "
				  "Enabled before it)" : " (disabled by someone else before the incident)");
			cJSON_Delete(rec);
			return same ? KG_PRIOR_ENABLED : KG_PRIOR_DISABLED;
		}
		cJSON_Delete(rec);
	}
	return KG_PRIOR_UNKNOWN;
}

static const char *kg_prior_name(enum kg_prior p)
{
	return p == KG_PRIOR_ENABLED ? "Enabled" : p == KG_PRIOR_DISABLED ? "Disabled" : "unknown";
}

static const char *kg_tag(const cJSON *tags, const char *key)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, (cJSON_IsArray(tags) ? tags : NULL)) {
		const char *k = resp_get_str(t, "TagKey");

		if (k && !strcmp(k, key))
			return resp_get_str(t, "TagValue");
	}
	return NULL;
}

/* ---- acting ------------------------------------------------------------------------ */

struct kg_run {
	struct kg_state *st;
	struct resp *r;
	cJSON *sections;        /* borrowed: r->extra["keys"] */
	int nskipped, ncontained, nfailed;
};

static cJSON *kg_key_json(const char *key)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "KeyId", key);
	return o;
}

static void kg_restore(struct resp *r, const char *api, cJSON *args)
{
	cJSON *e = cJSON_CreateObject();

	if (!e) {
		cJSON_Delete(args);
		return;
	}
	cJSON_AddStringToObject(e, "api", api);
	cJSON_AddItemToObject(e, "args", args);
	resp_restore_add(r, e);
}

static cJSON *kg_lookup_in(const char *attr, const char *value, int64_t start_s, int64_t end_s,
			   const char *token)
{
	cJSON *in = cJSON_CreateObject(), *attrs, *a;

	if (!in)
		return NULL;
	attrs = cJSON_AddArrayToObject(in, "LookupAttributes");
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "AttributeKey", attr);
	cJSON_AddStringToObject(a, "AttributeValue", value);
	cJSON_AddItemToArray(attrs, a);
	if (start_s)
		cJSON_AddNumberToObject(in, "StartTime", (double)start_s);
	if (end_s)
		cJSON_AddNumberToObject(in, "EndTime", (double)end_s);
	cJSON_AddNumberToObject(in, "MaxResults", KG_PAGE_SIZE);
	if (token)
		cJSON_AddStringToObject(in, "NextToken", token);
	return in;
}

/* One LookupEvents query, all pages up to KG_MAX_PAGES (bounded: a busy key
 * has many events, and the newest ones decide), appended to `into`. With
 * first_done, `last` already holds page 1 (run concurrently by the caller,
 * with the same query). Returns the rc of the first failed page. */
static enum fb_err kg_lookup(struct aws_client *c, const char *attr, const char *value,
			     int64_t start_s, int64_t end_s, cJSON *into, struct aws_call *last,
			     int first_done)
{
	char *token = NULL;
	enum fb_err rc = FB_OK;
	int page;

	for (page = 0; page < KG_MAX_PAGES; page++) {
		const cJSON *ev;
		const char *next;

		if (page > 0 || !first_done) {
			cJSON *in = kg_lookup_in(attr, value, start_s, end_s, token);

			aws_call_cleanup(last);
			memset(last, 0, sizeof(*last));
			last->service = "cloudtrail";
			last->op = "LookupEvents";
			last->in = in;
			if (in)
				aws_call_run(c, last);
			else
				last->rc = FB_E_NOMEM;
			last->in = NULL;
			cJSON_Delete(in);
		}
		free(token);
		token = NULL;
		rc = last->rc;
		if (rc != FB_OK)
			break;
		ev = resp_get(last->out, "Events");
		for (ev = cJSON_IsArray(ev) ? ev->child : NULL; ev; ev = ev->next)
			cJSON_AddItemToArray(into, cJSON_Duplicate(ev, 1));
		next = resp_get_str(last->out, "NextToken");
		if (!next || !*next)
			break;
		token = strdup(next);
		if (!token)
			return FB_E_NOMEM;
	}
	free(token);
	return rc;
}

static void kg_section_outcome(cJSON *sec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void kg_section_outcome(cJSON *sec, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cJSON_DeleteItemFromObjectCaseSensitive(sec, "outcome");
	cJSON_AddStringToObject(sec, "outcome", buf);
}

static cJSON *kg_section_new(const struct kg_item *it)
{
	cJSON *sec = cJSON_CreateObject();
	char iso[RESP_TIME_LEN];

	if (!sec)
		return NULL;
	cJSON_AddStringToObject(sec, "key", it->key_ref);
	cJSON_AddItemToObject(sec, "key_arn", cJSON_CreateNull());
	cJSON_AddStringToObject(sec, "account", it->account);
	cJSON_AddStringToObject(sec, "region", it->region);
	cJSON_AddStringToObject(sec, "event_name", it->event_name);
	cJSON_AddItemToObject(sec, "event_id", it->event_id[0] ? cJSON_CreateString(it->event_id)
							       : cJSON_CreateNull());
	if (it->event_ms) {
		resp_format_time_ms(it->event_ms, iso);
		cJSON_AddStringToObject(sec, "event_time", iso);
	}
	cJSON_AddItemToObject(sec, "actor", it->actor[0] ? cJSON_CreateString(it->actor)
							 : cJSON_CreateNull());
	if (it->note[0])
		cJSON_AddStringToObject(sec, "note", it->note);
	return sec;
}

static void kg_set(cJSON *sec, const char *k, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(sec, k);
	cJSON_AddItemToObject(sec, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

/* Handles one key change. Returns 0 normally, -1 when a required step failed. */
static int kg_handle_item(struct kg_run *run, const struct kg_item *it)
{
	struct resp *r = run->r;
	struct aws_client *c = NULL;
	struct aws_call calls[3], wcalls[2];
	struct aws_error aerr;
	cJSON *sec = kg_section_new(it), *din = NULL, *tin = NULL, *hin = NULL, *history = NULL;
	cJSON *win[2] = { NULL, NULL };
	const cJSON *meta, *tags;
	const char *state, *arn, *manager, *mrtype, *incident_tag;
	char prior_src[600] = "", detail[700];
	enum kg_prior prior = KG_PRIOR_UNKNOWN;
	int owned = 0, rc = 0, i, idx_d, idx_t, idx_h = -1, pending, have_hist = 0;
	int cur_enabled, nw = 0, widx[2], hist_early;
	int64_t hist_end = it->event_ms ? it->event_ms / 1000 + 1 : 0;
	size_t k;

	memset(calls, 0, sizeof(calls));
	memset(wcalls, 0, sizeof(wcalls));
	if (!sec)
		return -1;
	cJSON_AddItemToArray(run->sections, sec);

	/* Decisions that need no AWS call. */
	if (it->error_code[0]) {
		kg_section_outcome(sec, "skipped: the call failed (errorCode %s); nothing changed in AWS",
				   it->error_code);
		run->nskipped++;
		return 0;
	}
	if (resp_is_trusted(&run->st->cfg, it->actor)) {
		kg_section_outcome(sec, "skipped: trusted actor '%s' (FIREBREAK_TRUSTED_PRINCIPALS); "
				   "reported, not reverted", it->actor);
		run->nskipped++;
		return 0;
	}

	memset(&aerr, 0, sizeof(aerr));
	if (resp_client_for(r, run->st->aws, it->account[0] ? it->account : NULL,
			    it->region[0] ? it->region : NULL, &c, &owned, &aerr) != FB_OK) {
		i = resp_step_begin(r, "client", "sts:AssumeRole", it->account, RESP_READ);
		resp_step_end(r, i, RESP_FAILED, aerr.message[0] ? aerr.message :
			      "cannot get a client for the key's account", &aerr);
		kg_section_outcome(sec, "failed: no client for account '%s'", it->account);
		run->nfailed++;
		return -1;
	}

	/* Round 1, concurrently: DescribeKey, ListResourceTags and, for a
	 * deletion whose prior state matters, the key's CloudTrail history. */
	din = kg_key_json(it->key_ref);
	calls[0].service = "kms";
	calls[0].op = "DescribeKey";
	calls[0].in = din;
	idx_d = resp_step_begin(r, "describe-key", "kms:DescribeKey", it->key_ref, RESP_READ);
	/* ListResourceTags takes a key id or key ARN, not an alias. */
	int tags_now = strncmp(it->key_ref, "alias/", 6) && !strstr(it->key_ref, ":alias/");
	tin = kg_key_json(it->key_ref);
	calls[1].service = "kms";
	calls[1].op = "ListResourceTags";
	calls[1].in = tin;
	/* A deletion by key ARN: the history will most likely be needed, so
	 * its first page joins this round (one dependent round trip less). */
	hist_early = tags_now && strcmp(it->event_name, "DisableKey") &&
		     kg_kms_arn(it->key_ref, NULL, 0, NULL, 0) && strstr(it->key_ref, ":key/");
	if (tags_now) {
		idx_t = resp_step_begin(r, "list-tags", "kms:ListResourceTags", it->key_ref, RESP_READ);
		if (hist_early) {
			hin = kg_lookup_in("ResourceName", it->key_ref, 0, hist_end, NULL);
			calls[2].service = "cloudtrail";
			calls[2].op = "LookupEvents";
			calls[2].in = hin;
			idx_h = resp_step_begin(r, "key-history", "cloudtrail:LookupEvents",
						it->key_ref, RESP_READ);
			resp_step_optional(r, idx_h);
		}
		aws_call_run_all(c, calls, hist_early ? 3 : 2);
		if (hist_early)
			resp_step_from_call(r, idx_h, &calls[2], "first page");
	} else {
		aws_call_run(c, &calls[0]);
		idx_t = -1;
	}
	resp_step_from_call(r, idx_d, &calls[0], NULL);
	if (calls[0].rc != FB_OK) {
		kg_section_outcome(sec, "failed: cannot describe key '%s'", it->key_ref);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	meta = resp_get(calls[0].out, "KeyMetadata");
	state = resp_get_str(meta, "KeyState");
	arn = resp_get_str(meta, "Arn");
	manager = resp_get_str(meta, "KeyManager");
	mrtype = resp_get_str(meta, "MultiRegionConfiguration.MultiRegionKeyType");
	if (!state || !arn) {
		resp_step_end(r, idx_d, RESP_FAILED, "DescribeKey answer lacks KeyState or Arn", NULL);
		kg_section_outcome(sec, "failed: cannot describe key '%s'", it->key_ref);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	snprintf(detail, sizeof(detail), "KeyState %s, KeyManager %s%s%s", state,
		 manager ? manager : "?", mrtype ? ", multi-Region " : "", mrtype ? mrtype : "");
	resp_step_end(r, idx_d, RESP_DONE, detail, NULL);
	kg_set(sec, "key_arn", arn);
	kg_set(sec, "key_state", state);
	kg_set(sec, "key_manager", manager);
	if (mrtype)
		kg_set(sec, "multi_region_key_type", mrtype);
	if (idx_t < 0) {
		cJSON_Delete(tin);
		tin = kg_key_json(arn);
		calls[1].in = tin;
		idx_t = resp_step_begin(r, "list-tags", "kms:ListResourceTags", arn, RESP_READ);
		aws_call_run(c, &calls[1]);
	}
	resp_step_from_call(r, idx_t, &calls[1], NULL);

	if (manager && !strcmp(manager, "AWS")) {
		resp_step_optional(r, idx_t); /* its tags do not matter */
		kg_section_outcome(sec, "skipped: '%s' is an AWS managed key (KeyManager AWS); "
				   "AWS manages its lifecycle", arn);
		run->nskipped++;
		goto out;
	}
	if (calls[1].rc != FB_OK) {
		kg_section_outcome(sec, "failed: cannot read the tags of '%s' (exemptions unknown)", arn);
		run->nfailed++;
		rc = -1;
		goto out;
	}
	tags = resp_get(calls[1].out, "Tags");
	if (kg_tag(tags, KG_TAG_EXEMPT) && !strcmp(kg_tag(tags, KG_TAG_EXEMPT), "true")) {
		kg_section_outcome(sec, "skipped: key tagged %s=true", KG_TAG_EXEMPT);
		run->nskipped++;
		goto out;
	}
	if (kg_tag(tags, KG_TAG_ALLOW) && !strcmp(kg_tag(tags, KG_TAG_ALLOW), "true")) {
		kg_section_outcome(sec, "skipped: key tagged %s=true (deletion allowed; notified)",
				   KG_TAG_ALLOW);
		run->nskipped++;
		goto out;
	}
	pending = !strcmp(state, "PendingDeletion") || !strcmp(state, "PendingReplicaDeletion");
	if (!pending && strcmp(state, "Enabled") && strcmp(state, "Disabled")) {
		kg_section_outcome(sec, "skipped: key state %s is not one kms-guard acts on", state);
		run->nskipped++;
		goto out;
	}

	/* Prior state: a DisableKey event says it (the key was Enabled); else
	 * the key's CloudTrail history, when the key is not already Enabled. */
	cur_enabled = !strcmp(state, "Enabled");
	if (!strcmp(it->event_name, "DisableKey")) {
		prior = KG_PRIOR_ENABLED;
		snprintf(prior_src, sizeof(prior_src), "event:DisableKey");
	} else if (cur_enabled) {
		prior = KG_PRIOR_ENABLED;
		snprintf(prior_src, sizeof(prior_src), "current:Enabled (no deletion pending)");
	} else {
		history = cJSON_CreateArray();
		if (idx_h < 0) {
			idx_h = resp_step_begin(r, "key-history", "cloudtrail:LookupEvents", arn,
						RESP_READ);
			/* History is evidence, not a requirement: without it the
			 * safe default applies. */
			resp_step_optional(r, idx_h);
		}
		if (kg_lookup(c, "ResourceName", hist_early ? it->key_ref : arn, 0, hist_end, history,
			      &calls[2], hist_early) == FB_OK) {
			have_hist = 1;
			snprintf(detail, sizeof(detail), "%d events", cJSON_GetArraySize(history));
			resp_step_from_call(r, idx_h, &calls[2], detail);
			prior = kg_prior_from_history(history, it, prior_src, sizeof(prior_src));
		} else {
			resp_step_from_call(r, idx_h, &calls[2], "history unavailable");
		}
		if (prior == KG_PRIOR_UNKNOWN) {
			/* See README "Prior state": an Enabled key in use leaves
			 * Encrypt/Decrypt events; none in 90 days of history most
			 * likely means a key disabled long ago. Enabling a key its
			 * owner disabled could make things worse; leaving it
			 * Disabled loses nothing (deletion is cancelled). */
			prior = KG_PRIOR_DISABLED;
			snprintf(prior_src, sizeof(prior_src), "default:Disabled (%s; not re-enabling a "
				 "key that may have been disabled on purpose)",
				 have_hist ? "no state change or key use in CloudTrail history before the event"
					   : "CloudTrail history unavailable");
		}
	}
	kg_set(sec, "prior_state", kg_prior_name(prior));
	kg_set(sec, "prior_state_source", prior_src);

	/* Write 1: cancel the deletion. */
	i = resp_step_begin(r, "cancel-deletion", "kms:CancelKeyDeletion", arn, RESP_WRITE);
	if (!pending) {
		snprintf(detail, sizeof(detail), "no deletion pending (KeyState %s)", state);
		resp_step_end(r, i, RESP_ALREADY, detail, NULL);
	} else {
		const cJSON *pd = resp_get(meta, "PendingDeletionWindowInDays");
		cJSON *args = kg_key_json(arn);
		int days = it->pending_days ? it->pending_days :
			   /* fuzz: range-checked, an out-of-range double -> int conversion is UB */
			   (cJSON_IsNumber(pd) && pd->valuedouble >= 7 && pd->valuedouble <= 30)
			   ? (int)pd->valuedouble : KG_DEFAULT_PENDING_DAYS;

		cJSON_AddNumberToObject(args, "PendingWindowInDays", days);
		kg_restore(r, "kms:ScheduleKeyDeletion", args);
		if (!resp_step_dry(r, i)) {
			struct aws_call cc;
			cJSON *cin = kg_key_json(arn);

			memset(&cc, 0, sizeof(cc));
			cc.service = "kms";
			cc.op = "CancelKeyDeletion";
			cc.in = cin;
			aws_call_run(c, &cc);
			snprintf(detail, sizeof(detail), "deletion cancelled (was %s); KMS leaves the key "
				 "Disabled", state);
			resp_step_from_call(r, i, &cc, cc.rc == FB_OK ? detail : "deletion still pending");
			aws_call_cleanup(&cc);
			cJSON_Delete(cin);
			if (r->steps[i].status == RESP_FAILED) {
				kg_section_outcome(sec, "failed: deletion of '%s' still pending", arn);
				run->nfailed++;
				rc = -1;
				goto out;
			}
		}
		cur_enabled = 0; /* a cancelled key is Disabled */
	}

	/* Writes 2 and 3, concurrently: enable (when it was Enabled) and tag. */
	i = resp_step_begin(r, "enable-key", "kms:EnableKey", arn, RESP_WRITE);
	if (prior != KG_PRIOR_ENABLED || cur_enabled) {
		resp_step_end(r, i, RESP_ALREADY, cur_enabled ? "key is Enabled" :
			      "key stays Disabled (prior state Disabled)", NULL);
	} else {
		kg_restore(r, "kms:DisableKey", kg_key_json(arn));
		if (!resp_step_dry(r, i)) {
			win[0] = kg_key_json(arn);
			wcalls[nw].service = "kms";
			wcalls[nw].op = "EnableKey";
			wcalls[nw].in = win[0];
			widx[nw++] = i;
		}
	}
	incident_tag = kg_tag(tags, KG_TAG_INCIDENT);
	i = resp_step_begin(r, "tag-incident", "kms:TagResource", arn, RESP_WRITE);
	resp_step_optional(r, i); /* the key is safe without the tag */
	if (incident_tag && !strcmp(incident_tag, r->incident_id)) {
		resp_step_end(r, i, RESP_ALREADY, "tag " KG_TAG_INCIDENT " present", NULL);
	} else {
		cJSON *undo = kg_key_json(arn);

		if (incident_tag) {
			cJSON *ts = cJSON_AddArrayToObject(undo, "Tags"), *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "TagKey", KG_TAG_INCIDENT);
			cJSON_AddStringToObject(t, "TagValue", incident_tag);
			cJSON_AddItemToArray(ts, t);
			kg_restore(r, "kms:TagResource", undo);
		} else {
			cJSON *keys = cJSON_AddArrayToObject(undo, "TagKeys");

			cJSON_AddItemToArray(keys, cJSON_CreateString(KG_TAG_INCIDENT));
			kg_restore(r, "kms:UntagResource", undo);
		}
		if (!resp_step_dry(r, i)) {
			cJSON *ts, *t;

			win[1] = kg_key_json(arn);
			ts = cJSON_AddArrayToObject(win[1], "Tags");
			t = cJSON_CreateObject();
			cJSON_AddStringToObject(t, "TagKey", KG_TAG_INCIDENT);
			cJSON_AddStringToObject(t, "TagValue", r->incident_id);
			cJSON_AddItemToArray(ts, t);
			wcalls[nw].service = "kms";
			wcalls[nw].op = "TagResource";
			wcalls[nw].in = win[1];
			widx[nw++] = i;
		}
	}
	if (nw)
		aws_call_run_all(c, wcalls, (size_t)nw);
	for (k = 0; k < (size_t)nw; k++) {
		int en = !strcmp(wcalls[k].op, "EnableKey");

		resp_step_from_call(r, widx[k], &wcalls[k],
				    wcalls[k].rc != FB_OK ? NULL :
				    en ? "key Enabled again (prior state Enabled)" :
				    "tagged " KG_TAG_INCIDENT);
		if (en && wcalls[k].rc != FB_OK) {
			kg_section_outcome(sec, "failed: '%s' is still Disabled", arn);
			run->nfailed++;
			rc = -1;
			goto out;
		}
	}
	if (r->dry_run) {
		kg_section_outcome(sec, "planned (dry run): see actions for '%s'", arn);
	} else if (!pending && (prior != KG_PRIOR_ENABLED || cur_enabled)) {
		kg_section_outcome(sec, "already: '%s' needs no change", arn);
	} else {
		resp_contained(r);
		kg_section_outcome(sec, "contained: '%s'", arn);
	}
	run->ncontained++;
out:
	for (k = 0; k < 3; k++) {
		calls[k].in = NULL;
		aws_call_cleanup(&calls[k]);
	}
	for (k = 0; k < 2; k++) {
		wcalls[k].in = NULL;
		aws_call_cleanup(&wcalls[k]);
		cJSON_Delete(win[k]);
	}
	cJSON_Delete(din);
	cJSON_Delete(tin);
	cJSON_Delete(hin);
	cJSON_Delete(history);
	if (owned)
		aws_client_free(c);
	return rc;
}

/* The alarm: every ScheduleKeyDeletion/DisableKey in the window, one item
 * per key (the earliest untrusted successful change decides the item). */
static int kg_alarm_items(struct kg_run *run, const struct kg_event *ev, struct kg_item *items,
			  size_t *nitems)
{
	static const char *const names[] = { "ScheduleKeyDeletion", "DisableKey" };
	struct resp *r = run->r;
	cJSON *found = cJSON_CreateArray(), *e;
	struct aws_call last;
	char detail[128];
	size_t n;
	int i, idx, rc = 0;

	*nitems = 0;
	for (n = 0; n < 2; n++) {
		memset(&last, 0, sizeof(last));
		idx = resp_step_begin(r, "lookup-events", "cloudtrail:LookupEvents", names[n], RESP_READ);
		kg_lookup(run->st->aws, "EventName", names[n], ev->window_start_s, ev->window_end_s,
			  found, &last, 0);
		snprintf(detail, sizeof(detail), "EventName=%s", names[n]);
		resp_step_from_call(r, idx, &last, detail);
		if (last.rc != FB_OK)
			rc = -1;
		last.in = NULL;
		aws_call_cleanup(&last);
	}
	/* LookupEvents lists newest first; handle changes oldest first. */
	for (i = cJSON_GetArraySize(found) - 1; i >= 0; i--) {
		const char *ct;
		cJSON *rec;
		struct kg_item it;
		char why[256];
		size_t j;

		e = cJSON_GetArrayItem(found, i);
		ct = resp_get_str(e, "CloudTrailEvent");
		/* The record quotes the caller's request: same checks as an event. */
		rec = NULL;
		if (ct && resp_parse_event(ct, strlen(ct), RESP_MAX_EVENT_BYTES, &rec, why,
					   sizeof(why)) != FB_OK)
			log_warn("CloudTrail event '%s': %s",
				 resp_get_str(e, "EventId") ? resp_get_str(e, "EventId") : "?", why);
		if (kg_item_from_record(rec, NULL, resp_get_str(ev->root, "region"), &it, why,
					sizeof(why)) != FB_OK) {
			log_warn("ignoring CloudTrail event '%s': %s",
				 resp_get_str(e, "EventId") ? resp_get_str(e, "EventId") : "?", why);
			cJSON_Delete(rec);
			continue;
		}
		cJSON_Delete(rec);
		/* Failed or trusted changes get their own (skipped) section. */
		if (it.error_code[0] || resp_is_trusted(&run->st->cfg, it.actor)) {
			if (*nitems < KG_MAX_ITEMS)
				items[(*nitems)++] = it;
			continue;
		}
		for (j = 0; j < *nitems; j++)
			if (!items[j].error_code[0] && !resp_is_trusted(&run->st->cfg, items[j].actor) &&
			    !strcmp(items[j].key_ref, it.key_ref))
				break;
		if (j < *nitems)
			continue; /* this key is already handled from an earlier change */
		if (*nitems < KG_MAX_ITEMS)
			items[(*nitems)++] = it;
		else
			log_warn("more than %d key changes in the alarm window; the rest are not handled",
				 KG_MAX_ITEMS);
	}
	cJSON_Delete(found);
	return rc;
}

/* ---- the handler --------------------------------------------------------------- */

static enum fb_err kg_init(void **state, char *err, size_t errlen)
{
	struct kg_state *st = calloc(1, sizeof(*st));
	const char *name = getenv("FIREBREAK_KMS_ALARM_NAME");
	const char *lb = getenv("FIREBREAK_KMS_ALARM_LOOKBACK_SECONDS");
	enum fb_err rc;

	if (!st)
		return FB_E_NOMEM;
	rc = resp_config_from_env(&st->cfg, err, errlen);
	if (rc != FB_OK)
		goto fail;
	kg_copy(st->set.alarm_name, sizeof(st->set.alarm_name),
		name && *name ? name : "kms-key-changes");
	st->set.lookback_s = 900;
	if (lb && *lb) {
		char *end;
		long v = strtol(lb, &end, 10);

		if (*end || v < 0 || v > 86400) {
			snprintf(err, errlen, "cannot parse 'FIREBREAK_KMS_ALARM_LOOKBACK_SECONDS' "
				 "(want 0..86400)");
			rc = FB_E_CONFIG;
			goto fail;
		}
		st->set.lookback_s = v;
	}
	rc = aws_client_new(&st->aws, NULL, err, errlen);
	if (rc != FB_OK)
		goto fail;
	*state = st;
	return FB_OK;
fail:
	resp_config_cleanup(&st->cfg);
	free(st);
	return rc;
}

static enum fb_err kg_handle(void *state, const char *event, size_t len,
			     const struct lr_context *ctx, struct lr_result *out)
{
	struct kg_state *st = state;
	struct kg_event ev;
	struct kg_run run;
	struct resp r;
	struct kg_item *items = NULL;
	size_t nitems = 0, k;
	char why[512];
	enum fb_err rc;

	if (ctx->deadline_ms > 0)
		aws_client_set_deadline(st->aws, ctx->deadline_ms - KG_DEADLINE_MARGIN_MS);
	if (kg_parse(event, len, &st->set, &ev, why, sizeof(why)) != FB_OK)
		return resp_invalid(out, "%s", why);
	rc = resp_begin(&r, &st->cfg, KG_FUNCTION, ctx);
	if (rc != FB_OK) {
		kg_event_cleanup(&ev);
		return rc;
	}
	if (resp_trigger_from_event(&r, ev.root) != FB_OK) {
		resp_cleanup(&r);
		kg_event_cleanup(&ev);
		return resp_invalid(out, "envelope fields have the wrong types (or 'dryRun' is not a boolean)");
	}
	resp_set_severity(&r, "P1");
	memset(&run, 0, sizeof(run));
	run.st = st;
	run.r = &r;
	run.sections = cJSON_AddArrayToObject(r.extra, "keys");

	if (ev.kind == KG_ALARM) {
		char a[RESP_TIME_LEN], b[RESP_TIME_LEN];
		cJSON *w = cJSON_AddObjectToObject(r.extra, "alarm_window");

		resp_format_time_ms(ev.window_start_s * 1000, a);
		resp_format_time_ms(ev.window_end_s * 1000, b);
		cJSON_AddStringToObject(w, "start", a);
		cJSON_AddStringToObject(w, "end", b);
		if (ev.alarm_arn[0])
			resp_set_resource(&r, ev.alarm_arn, NULL, NULL);
		items = calloc(KG_MAX_ITEMS, sizeof(*items));
		if (!items) {
			rc = FB_E_NOMEM;
			goto done;
		}
		kg_alarm_items(&run, &ev, items, &nitems);
		for (k = 0; k < nitems; k++)
			kg_handle_item(&run, &items[k]);
		if (!resp_failed(&r) && nitems == 0)
			resp_set_verdict(&r, "no action: no ScheduleKeyDeletion or DisableKey in the "
					 "alarm window");
	} else {
		struct kg_item *it = &ev.item;

		resp_set_resource(&r, it->key_ref[0] ? it->key_ref : NULL,
				  it->account[0] ? it->account : NULL, it->region[0] ? it->region : NULL);
		kg_handle_item(&run, it);
		/* One key: its decision fields at the top level too. */
		cJSON *sec = cJSON_GetArrayItem(run.sections, 0);
		const char *ps = resp_get_str(sec, "prior_state");

		if (resp_get_str(sec, "key_arn"))
			resp_set_resource(&r, resp_get_str(sec, "key_arn"), NULL, NULL);
		if (ps) {
			cJSON_AddStringToObject(r.extra, "prior_state", ps);
			cJSON_AddStringToObject(r.extra, "prior_state_source",
						resp_get_str(sec, "prior_state_source"));
		}
		if (it->note[0])
			cJSON_AddStringToObject(r.extra, "note", it->note);
	}
	if (!resp_failed(&r) && run.nskipped && !run.ncontained) {
		const char *o = resp_get_str(cJSON_GetArrayItem(run.sections, 0), "outcome");

		if (run.nskipped == 1 && o && !strncmp(o, "skipped: ", 9))
			resp_skip(&r, "%s", o + 9);
		else
			resp_skip(&r, "all %d key changes were skipped (see keys[])", run.nskipped);
	}
	rc = resp_finish(&r, st->aws, out);
done:
	free(items);
	resp_cleanup(&r);
	kg_event_cleanup(&ev);
	return rc;
}

int main(void) { return lr_main(kg_init, kg_handle); }
