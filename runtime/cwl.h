/*
 * cwl: CloudWatch Logs streams kept as evidence (issue 17: out of
 * task-quarantine, where a compromised container's logs are the record of
 * what it did). Prefix cwl_.
 *
 * A stream is read from its head (logs:GetLogEvents, startFromHead, every
 * page through the kit's pager with a reader per page: nothing kept as
 * JSON), all streams of one fetch concurrently in one kit round, each as an
 * optional read step "fetch-logs" (a log that cannot be read does not undo
 * a containment). Each stream becomes one evidence object (runtime/
 * evidence.h) logs/<name>.log.gz: gzip (RFC 1952) of JSON lines
 * {"timestamp", "ingestionTime", "message"}, the message kept exactly.
 *
 * Bounds: the byte budget is shared evenly by the streams of one fetch
 * (whole lines only; the object's note says it was truncated); paging
 * stops when less than CWL_UPLOAD_RESERVE_MS of the invocation is left (the
 * uploads need it) or at CWL_MAX_PAGES pages; a fetch that would start with
 * less than that left is skipped. The step's detail says how many events,
 * pages and bytes were kept and why paging stopped early.
 *
 * Ownership: struct cwl is caller-placed (cwl_init / cwl_cleanup) and
 * borrows the kit (its default client reads the logs: the account the
 * workload runs in), the context and the evidence; names and log
 * references are copied.
 */
#ifndef FB_CWL_H
#define FB_CWL_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "evidence.h"
#include "fb_err.h"
#include "kit.h"
#include "lr.h"

/* Paging stops when less than this is left: the uploads need it. */
#define CWL_UPLOAD_RESERVE_MS 1500
/* Safety bound on pages per stream, far above what 50 MB needs. */
#define CWL_MAX_PAGES 20000
#define CWL_MAX_STREAMS 16

struct cwl;
struct cwl_stream {
	struct cwl *c;
	char name[256];           /* the object's name base (a container's name) */
	struct kit_step *step;
	struct buf log;
	size_t events, pages;
	const char *stop_note;    /* static: why paging ended early, NULL if it did not */
};
struct cwl {
	struct kit *k;
	const struct lr_context *ctx;
	struct kit_round *rd;
	size_t max_bytes;         /* across all streams */
	struct cwl_stream s[CWL_MAX_STREAMS];
	size_t n;
};

void cwl_init(struct cwl *c, struct kit *k, const struct lr_context *ctx, size_t max_bytes);
/* Declares a stream (its "fetch-logs" line starts now, target the stream
 * name). 0 when CWL_MAX_STREAMS are declared already or out of memory. */
int cwl_add(struct cwl *c, const char *name, const char *group, const char *stream);
/* Reads every declared stream and queues each read one as an evidence
 * object of e (evidence_add: written by the caller's evidence_put). A
 * missing stream (ResourceNotFoundException) is skipped "log stream missing
 * (never written, or expired)". */
void cwl_fetch(struct cwl *c, struct evidence *e);
void cwl_cleanup(struct cwl *c);

/* ---- the awslogs log driver (an ECS container's log configuration) ---------------- */

enum cwl_log { CWL_LOG_NONE, CWL_LOG_AWSLOGS, CWL_LOG_OTHER_DRIVER, CWL_LOG_UNKNOWN_STREAM };
struct cwl_awslogs {
	enum cwl_log state;
	char driver[64], group[512], stream[1024], region[32];
};
/* Where a container's log goes, from its container definition's
 * logConfiguration (borrowed, may be NULL): no driver (CWL_LOG_NONE),
 * another driver than awslogs (its name in driver), awslogs with its group,
 * stream (cwl_awslogs_stream) and region (awslogs-region, else
 * default_region), or awslogs without a group or a stream name that can be
 * known or fit (CWL_LOG_UNKNOWN_STREAM). */
void cwl_awslogs(const cJSON *log_configuration, const char *container, const char *task_id,
		 const char *runtime_id, const char *default_region, struct cwl_awslogs *out);
/* The stream the awslogs driver writes a container to:
 * <prefix>/<container name>/<task id>; with no prefix (EC2 launch type
 * only) the driver names it after the container's runtime id. 0 when
 * neither is known or it does not fit. */
int cwl_awslogs_stream(const char *prefix, const char *container, const char *task_id,
		       const char *runtime_id, char *out, size_t outlen);

/* Pure stages, for tests and other callers. */
/* The evidence object name of a stream: logs/<name>.log.gz under `prefix`,
 * the name reduced to [A-Za-z0-9._-] so it is one path segment; 0 when it
 * does not fit or is empty, "." or "..". */
int cwl_log_key(const char *prefix, const char *name, char *out, size_t outlen);
/* One GetLogEvents page's events appended to log as JSON lines.
 * FB_E_TOO_LARGE when the cap was reached: what fit is kept, whole lines. */
enum fb_err cwl_append_page(const cJSON *page, struct buf *log, size_t *nevents);
/* gzip (RFC 1952) of (p, n) into out, capped by out->max. */
enum fb_err cwl_gzip(const void *p, size_t n, struct buf *out);

/* ---- w4-kc-tq: a container's log, kept and reported ---------------------------- */

/* A container's log (`log`, from cwl_awslogs) in this fetch: an awslogs
 * stream is declared (cwl_add under `name`); any other is an optional
 * "fetch-logs" line skipped with the reason (no log configuration, another
 * driver, the stream unknown). Returns 1 with `key` its evidence object
 * name (cwl_log_key, no prefix: what an earlier attempt may have written)
 * for an awslogs stream, else 0. */
int cwl_add_log(struct cwl *c, const char *name, const struct cwl_awslogs *log, char *key, size_t keylen);
/* The report's view of it: {"driver": <driver or "none">, "group" and
 * "stream" when awslogs}. Caller's; NULL when out of memory. */
cJSON *cwl_awslogs_json(const struct cwl_awslogs *log);

#endif
