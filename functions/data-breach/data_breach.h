/*
 * data-breach: a suspected DynamoDB breach is preserved, measured and put
 * on the GDPR clock (issue 22). The pure stages (stages.c, unit-tested in
 * tests/unit/test_data_breach.c without AWS); main.c runs them around the
 * kit's rounds. README.md has the decisions.
 *
 * Prefix db_. The event only says which table to look at (and, manual, who
 * is suspected); every decision about what to write reads the table's real
 * state (DescribeTable, DescribeContinuousBackups, ListBackups).
 */
#ifndef FB_DATA_BREACH_H
#define FB_DATA_BREACH_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fb_err.h"

#define DB_GDPR_HOURS 72               /* GDPR Art. 33(1): "not later than 72 hours" */
#define DB_DEFAULT_ALARM_PREFIX "firebreak-data-breach"
#define DB_DEFAULT_SPIKE_FACTOR 5.0    /* peak hour / baseline hour that names a bulk read */

#define DB_DEFAULT_MIN_SEVERITY 5.0    /* GuardDuty Medium and up: preserving is harmless */

enum db_source { DB_SRC_ALARM, DB_SRC_MANUAL, DB_SRC_RESTORE, DB_SRC_GUARDDUTY };

/* What a GuardDuty finding says (DB_SRC_GUARDDUTY): claims, never a
 * decision. The table is confirmed by DescribeTable, the principal by
 * CloudTrail (db_ct_access) before anything is contained. */
struct db_finding {
	char id[128], type[128];
	double severity;
	char access_key[129];      /* resource.accessKeyDetails.accessKeyId */
	char principal_id[129];    /* .principalId ("" when absent) */
	char user_type[32];        /* .userType: IAMUser, AssumedRole, Root, ... */
	char user_name[129];       /* .userName (report only) */
	char apis[256];            /* the DynamoDB data-access APIs it names, comma list */
	int64_t first_seen_ms;     /* service.eventFirstSeen; 0 unknown */
};

struct db_event {
	cJSON *root;               /* owned: the parsed event */
	enum db_source source;
	char table[256];           /* the table's name (DynamoDB: 3-255 of [A-Za-z0-9_.-]) */
	char account[16];          /* envelope / ARN account; "" = the function's own */
	char region[32];           /* envelope / ARN region; "" = the function's own */
	char alarm[256];           /* alarm name (alarm trigger) */
	char reason[256];          /* manual "reason" (printable ASCII kept, rest '?') */
	char principal[512];       /* manual "principal" ARN; "" none */
	int64_t detected_ms;       /* the alarm's state time / event time / 0 (main: now) */
	char target[256];          /* restore form: the new table (never the source) */
	struct db_finding gd;      /* GuardDuty trigger; ev->table "" when the finding names none */
	int64_t restore_ms;        /* restore form: the point in time */
	/* Nothing to do, decided from the event alone (zero calls): why. */
	char skip[240];
};

/* Parses the trigger: a "GuardDuty Finding" about an access key
 * (resource.accessKeyDetails) whose API activity is DynamoDB data access
 * (service.action.awsApiCallAction on dynamodb.amazonaws.com, or
 * additionalInfo.anomalies.anomalousAPIs naming dynamodb.amazonaws.com,
 * with one of the APIs db_data_api() names), at or above min_severity
 * (below it, or about other APIs: FB_OK with ev->skip set); the table is
 * the one affectedResources names (AWS::DynamoDB::Table), else "" (main
 * reads it from CloudTrail); account = detail.accountId. Or an EventBridge
 * "CloudWatch Alarm State Change"
 * (source aws.cloudwatch) whose alarm name starts with `alarm_prefix` and
 * whose metric is in AWS/DynamoDB with a TableName dimension, or the manual
 * form {"table": "<name or ARN>", "reason": "...", "principal": "<ARN>"},
 * or the recovery form {"restore": {"table": "<name>", "to": "<ISO time>",
 * "target": "<new table>"}} (target must differ from table).
 * FB_E_INVALID with `why` for anything else (zero calls follow). An alarm
 * that is not ours (prefix), or a state other than ALARM, is FB_OK with
 * ev->skip set. Caller cleans up with db_event_cleanup. */
enum fb_err db_parse(const char *event, size_t len, const char *alarm_prefix, double min_severity,
		     struct db_event *ev, char *why, size_t whylen);

/* 1 when `api` (an operation name) reads items or copies a table's data
 * out: Scan, Query, GetItem, BatchGetItem, TransactGetItems, the PartiQL
 * ones, ExportTableToPointInTime, RestoreTableToPointInTime,
 * RestoreTableFromBackup. */
int db_data_api(const char *api);

/* One CloudTrail record (LookupEvents' CloudTrailEvent, parsed) checked
 * against the finding: 1 when it is a DynamoDB call (eventSource
 * dynamodb.amazonaws.com) made with the finding's access key (and its
 * principalId when the finding has one) in `account`, naming a table
 * (requestParameters.tableName / tableArn, or resources[] of type
 * AWS::DynamoDB::Table); then out has the table, the event name and the
 * principal to contain: the user's ARN (IAMUser), the role's ARN
 * (AssumedRole: sessionContext.sessionIssuer.arn, path included), "" for
 * anything else (root, federated: reported, not contained). 0 otherwise. */
struct db_access {
	char table[256];
	char event[64];
	char principal[512];
	int is_role;
};
int db_ct_access(const cJSON *record, const struct db_finding *f, const char *account,
		 struct db_access *out);
void db_event_cleanup(struct db_event *ev);

/* 1 when `name` is a table name DynamoDB accepts. */
int db_table_name_ok(const char *name);
/* 1 when `arn` is an IAM principal ARN (arn:<partition>:iam::<12 digits>:
 * (user|role)/...) or an assumed-role session ARN (sts). */
int db_principal_ok(const char *arn);

/* The read spike: datapoints (GetMetricStatistics' Datapoints, each with
 * "Timestamp" and "Sum") ordered by time; the peak hour against the median
 * of the other hours (the table's own baseline). Returns 1 when there are
 * at least 3 datapoints (else 0: no baseline, nothing named). A baseline of
 * 0 with a peak above 0 gives an infinite factor (reported as such). */
struct db_spike {
	double peak, baseline, factor;
	char peak_at[32];          /* the peak datapoint's Timestamp */
	int n;                     /* datapoints read */
};
int db_spike_measure(const cJSON *datapoints, struct db_spike *out);

/* Preserve decisions from DescribeTable's / DescribeContinuousBackups'
 * answers. 1: already in the wanted state; 0: the write is needed;
 * -1: the answer lacks the member (the step fails, no write). */
int db_pitr_on(const cJSON *describe_continuous_backups);
/* Streams: 1 already NEW_AND_OLD_IMAGES; 0 off (enable); 2 on with another
 * view type (changing it needs disabling the stream first, which loses its
 * records: never done; reported skipped); -1 answer lacks Table. */
int db_stream_state(const cJSON *describe_table);
/* The backup name for an incident id: "firebreak-<id>" with every byte
 * outside [A-Za-z0-9_.-] made '-', cut to 255 (CreateBackup's pattern). */
void db_backup_name(const char *incident, char *out, size_t outlen);
/* 1 when ListBackups' BackupSummaries holds a backup named `name` that is
 * not DELETED (the incident's backup was already made). */
int db_backup_exists(const cJSON *summaries, const char *name);

/* Bulk copies out of the table in the window, from what AWS answers:
 * ListExports' ExportSummaries (an export ARN ".../export/<epoch ms>-<id>"
 * carries its start time) since `since_ms`, and the CloudTrail events read
 * for the table (LookupEvents Events, CloudTrailEvent inside) named
 * ExportTableToPointInTime or Scan (Scan only shows when a trail's data
 * events reach LookupEvents: they normally do not). Appends to `out` (an
 * array) one object per export / call: {"kind": "export" | "scan",
 * "arn"?, "status"?, "time"?, "by"?, "s3Bucket"?}. Returns how many. */
int db_bulk_reads(const cJSON *export_summaries, const cJSON *ct_events, int64_t since_ms, cJSON *out);

/* ---- containment of a known principal ---------------------------------- */

#define DB_DENY_SID "FirebreakDataBreachDeny"
#define DB_POLICY_MAX 20480            /* DynamoDB: a resource policy is at most 20 KB */

/* The aws:PrincipalArn patterns that name `principal` (an IAM user or role
 * ARN, or an assumed-role session ARN) into out (a new array the caller
 * owns): a user's ARN as is; a role as "arn:..:role/<name>" and
 * "arn:..:role/ * /<name>" (role names are unique in an account whatever
 * the path; a session ARN does not carry the path). NULL for a principal
 * with '*' or '?' (a pattern would match others). */
cJSON *db_principal_patterns(const char *principal);

/* The table's resource policy with a Deny for `principal` merged in.
 * prior: the policy now (GetResourcePolicy's Policy), NULL when the table
 * has none. Every other statement is kept as it is. Firebreak's statement
 * (Sid DB_DENY_SID, Effect Deny, Principal {"AWS": "*"}, Action
 * dynamodb:*, Resource the table and its indexes, Condition ArnLike
 * aws:PrincipalArn [patterns]) gets the principal's patterns added; only a
 * statement of exactly that shape counts as ours (a look-alike with our
 * Sid is left alone and ours gets another Sid). Returns 1 with *out (the
 * new document, caller frees), 0 when every pattern is already denied, -1
 * (why) when prior is not a policy document, or the result would pass
 * DB_POLICY_MAX: no write. */
int db_policy_merge(const char *prior, const char *table_arn, const char *principal, char **out,
		    char *why, size_t whylen);

/* 1 (why) when `principal` must never be denied: the function's own role
 * (caller_arn, the assumed-role ARN it runs as) or the member role
 * firebreak acts through in any account (member_role, a role name). */
int db_principal_protected(const char *principal, const char *caller_arn, const char *member_role,
			   char *why, size_t whylen);

/* Further regimes' clocks (FIREBREAK_DB_DEADLINES): a comma list of
 * "<regime>=<hours>", e.g. "NIS2 Art. 23 early warning=24,NIS2 Art. 23
 * incident notification=72"; regime 1-80 printable characters (no ',' or
 * '='), hours 1..8760. FB_E_CONFIG with err on anything else. */
#define DB_MAX_DEADLINES 8
struct db_deadline {
	char regime[81];
	int hours;
};
enum fb_err db_deadlines_parse(const char *setting, struct db_deadline *out, size_t cap, size_t *n,
			       char *err, size_t errlen);

/* The GDPR record draft (Art. 33(3)), a new object the caller owns. The
 * fields are filled from what was read; what was not is "unknown". The
 * object says it is a draft for a human to complete and send. */
struct db_record_in {
	const char *table_arn;
	const char *incident;
	const char *source;        /* "cloudwatch-alarm: <name>" / "manual: <reason>" */
	int64_t aware_ms;          /* awareness (detection) time */
	long item_count;           /* DescribeTable ItemCount, -1 unknown */
	long size_bytes;           /* DescribeTable TableSizeBytes, -1 unknown */
	const char *categories;    /* tag firebreak:data-categories, NULL unknown */
	const char *subjects;      /* tag firebreak:data-subjects, NULL unknown */
	const struct db_spike *spike; /* NULL: not measured */
	double spike_threshold;
	const cJSON *measures;     /* the steps done (report lines), borrowed */
	const struct db_deadline *deadlines; /* further regimes, n_deadlines of them */
	size_t n_deadlines;
	const char *dpo;           /* FIREBREAK_DB_DPO_CONTACT; NULL unknown */
	const char *principal;     /* contained / suspected principal; NULL none known */
};
cJSON *db_gdpr_record(const struct db_record_in *in);
/* The plain-text rendering for the DPO (caller frees): every Art. 33(3)
 * field on its line, "unknown" where the record has nothing, then the
 * deadlines and the measures. NULL on allocation failure. */
char *db_gdpr_text(const cJSON *record);
/* The Art. 33 deadline: awareness + 72 h (epoch ms). */
int64_t db_gdpr_deadline_ms(int64_t aware_ms);

#endif
