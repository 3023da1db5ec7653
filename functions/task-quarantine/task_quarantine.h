/*
 * task-quarantine: the pure stages (stages.c) shared by the handler
 * (main.c) and the unit tests. Prefix tq_. Every struct here is plain data
 * filled from an AWS answer or the event; nothing here does I/O.
 */
#ifndef FB_TASK_QUARANTINE_H
#define FB_TASK_QUARANTINE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "fb_err.h"
#include "lr.h"

#define TQ_DEFAULT_MIN_SEVERITY 7.0
/* Evidence logs kept in memory before gzip: 50 MB by default, settable up
 * to 256 MB (the function's memory bounds it in practice). */
#define TQ_DEFAULT_LOG_MAX_BYTES (50u * 1024u * 1024u)
#define TQ_LOG_MAX_BYTES_CAP (256u * 1024u * 1024u)
#define TQ_SG_PREFIX "firebreak-quarantine-"
#define TQ_TAG_EXEMPT "firebreak:exempt"

struct tq_settings {
	double min_severity;     /* FIREBREAK_MIN_SEVERITY, default 7.0 */
	int revoke_egress;       /* FIREBREAK_ISOLATION=revoke-egress */
	size_t log_max_bytes;    /* FIREBREAK_LOG_MAX_BYTES, across all containers */
	int allow_shared_revoke; /* FIREBREAK_ALLOW_SHARED_SG_REVOKE=true (default false) */
};
enum fb_err tq_settings_from_env(struct tq_settings *s, char *err, size_t errlen);

/* What the event asks for. */
struct tq_target {
	char cluster[512];       /* name or ARN */
	char task[512];          /* id or ARN */
	char reason[256];
	char finding_id[128];
	char finding_type[128];
	double severity;
	int is_finding;
};
enum tq_parse { TQ_PARSE_OK, TQ_PARSE_INVALID, TQ_PARSE_IGNORE };
/* INVALID: malformed (why says what); IGNORE: well-formed but not ours
 * (not an ECS task finding, or below min_sev). */
enum tq_parse tq_parse_event(const cJSON *ev, double min_sev, struct tq_target *t,
			     char *why, size_t whylen);

/* firebreak:exempt on a DescribeTasks element (include TAGS) with a true
 * value (prov_value_true): 1 with `value` the value as read. Whether it is
 * honoured is its provenance's (main.c, kit_prov_sources over
 * ecs_tag_sources: every source's history must allow it; README.md, Safety). */
int tq_exempt(const cJSON *task, char *value, size_t valuelen);

int tq_will_replace(const cJSON *service, const char *taskdef_arn);

/* Whether the revoke-egress fallback may revoke the task's security
 * groups. `sharing_known` is 0 when ec2:DescribeNetworkInterfaces (Filter
 * group-id) could not be read: then the groups count as shared (fail
 * safe). `others` is how many other network interfaces carry any of them.
 * A shared group is revoked only with FIREBREAK_ALLOW_SHARED_SG_REVOKE. */
enum tq_share {
	TQ_SHARE_ALONE,           /* only the task's ENI: revoke */
	TQ_SHARE_ALLOWED,         /* shared or unknown, opt-in set: revoke, report the blast radius */
	TQ_SHARE_REFUSED,         /* shared, no opt-in: revoke nothing */
	TQ_SHARE_UNKNOWN_REFUSED  /* sharing unreadable, no opt-in: revoke nothing */
};
enum tq_share tq_share_decide(int sharing_known, size_t others, int allow_shared);

/* The cluster to act in. GuardDuty (or a person) names the cluster and the
 * task separately; a task ARN of the new format carries its own cluster,
 * and that one is the truth (the task cannot be in another). `out` gets the
 * event's cluster when they agree or the ARN names none, else the cluster
 * ARN built from the task ARN. Returns 1 on a mismatch, else 0. */
int tq_cluster_resolve(const char *event_cluster, const char *task, char *out, size_t outlen);

/* The handler (main.c; its init is fn_main's). */
enum fb_err tq_handle(void *state, const char *event, size_t len,
		      const struct lr_context *ctx, struct lr_result *out);

#endif
