/*
 * scan.h: the interface of leak-rotate's scanner and awslogs decoder, the
 * parts of leak (leak.h includes this) that are the responder's own domain
 * and no AWS plumbing (issue 17: they stay where they are).
 *
 *  awslogs.c  base64 -> streaming inflate under caps -> the CloudWatch Logs
 *             subscription payload as a struct leak_batch
 *  scan.c     one Aho-Corasick pass over a message finds every watched
 *             secret value and every detector prefix (AKIA, ghp_, eyJ, ...);
 *             detectors then validate at the prefix; excerpts are redacted
 *
 * Both depend only on libc, zlib, OpenSSL's SHA-256, cJSON and runtime/
 * (buf, resp_*: pure helpers). Prefix leak_.
 */
#ifndef LEAK_SCAN_H
#define LEAK_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "fb_err.h"

/* ---- awslogs decoding ---------------------------------------------------------- */

/* CloudWatch Logs caps a PutLogEvents batch at 1,048,576 bytes (messages +
 * 26 bytes each) and one event at 1 MB; a subscription delivery carries at
 * most about that much message text. JSON escaping can grow a message
 * (control bytes become \u00XX, six times their size), so the inflated
 * payload is capped at 8 MiB: far above a real delivery, small enough that
 * a hostile one cannot exhaust a 128 MB function. */
#define LEAK_MAX_INFLATED (8u * 1024u * 1024u)
/* Log text deflates about 5-20:1, repetitive lines up to a few hundred.
 * Past LEAK_RATIO_FLOOR inflated bytes, more than LEAK_MAX_RATIO:1 is
 * treated as a decompression bomb (deflate's own ceiling is ~1032:1). */
#define LEAK_MAX_RATIO 250u
#define LEAK_RATIO_FLOOR (1024u * 1024u)
/* Events in one batch we look at (CloudWatch allows 10,000 per put). */
#define LEAK_MAX_EVENTS 20000u

/* Strict RFC 4648 base64 (standard alphabet, '=' padding optional at the
 * very end, no whitespace inside). Appends to `out` (capped by its max). */
enum fb_err leak_b64_decode(const char *s, size_t n, struct buf *out);

/* gzip or zlib (inflateInit2 15+32) into `out`, in a streaming loop: stops
 * with FB_E_TOO_LARGE past max_out or past max_ratio:1 (once the output
 * exceeds ratio_floor), FB_E_PARSE for corrupt, truncated or trailing data.
 * `err` gets a human message. */
enum fb_err leak_inflate(const void *in, size_t n, size_t max_out, unsigned max_ratio,
			 size_t ratio_floor, struct buf *out, char *err, size_t errlen);

struct leak_event {
	const char *id;         /* borrowed from batch->doc; "" when absent */
	int64_t timestamp_ms;
	const char *message;    /* borrowed; never NULL */
	size_t message_len;
	const char *stream;     /* borrowed; the batch's stream, or the event's own */
};

struct leak_batch {
	cJSON *doc;             /* owned */
	const char *message_type; /* borrowed: "DATA_MESSAGE", "CONTROL_MESSAGE" */
	const char *owner;
	const char *log_group;
	const char *log_stream;
	struct leak_event *events; /* owned array */
	size_t nevents;
};

/* Parses the decoded payload JSON; takes nothing, copies nothing: the batch
 * owns a cJSON tree. Required: messageType, logGroup, logStream (strings),
 * logEvents (array of {id?, timestamp, message}).
 * The payload is attacker-influenced: it gets resp_parse_event's checks
 * (UTF-8, control bytes, depth, trailing data, an object), and for a
 * DATA_MESSAGE owner must be an account id, logGroup and logStream valid
 * CloudWatch Logs names. A "\u0000" escape is NOT a reason to refuse: an
 * attacker who can log one must not be able to get a whole batch dropped
 * unscanned. cJSON would decode it to a NUL that cuts the C string (and
 * message_len, which is strlen) short, hiding what follows; so each
 * "\u0000" escape is read as "\ufffd" (U+FFFD, the replacement
 * character) and the whole message, after it included, is scanned. */
enum fb_err leak_batch_parse(const char *json, size_t len, struct leak_batch *b,
			     char *err, size_t errlen);
void leak_batch_cleanup(struct leak_batch *b);

/* CloudWatch Logs names (CreateLogGroup/CreateLogStream API reference):
 * a log group is 1..512 of [.-_/#A-Za-z0-9]; a log stream 1..512 bytes
 * without ':' or '*' (nor control characters). */
#define LEAK_NAME_MAX 512
int leak_log_group_ok(const char *s);
int leak_log_stream_ok(const char *s);

/* The whole of it: awslogs.data (base64) -> payload JSON in `json` (caller
 * frees with buf_cleanup; initialised here). */
enum fb_err leak_awslogs_decode(const char *b64, size_t n, struct buf *json,
				char *err, size_t errlen);

/* ---- scanning ----------------------------------------------------------------------- */

enum leak_kind {
	LEAK_SECRET = 0,   /* a watched secret value */
	LEAK_AWS_KEY_ID,   /* AKIA/ASIA + 16 base32 */
	LEAK_AWS_SECRET,   /* 40 chars base64-ish near a key id */
	LEAK_GITHUB,
	LEAK_SLACK,
	LEAK_STRIPE,
	LEAK_PEM,
	LEAK_JWT,
	LEAK_NKINDS
};
const char *leak_kind_name(enum leak_kind k);

/* Multi-pattern automaton over bytes: a DFA (goto + failure folded into a
 * full transition table over byte classes), so scanning is one table load
 * per byte whatever the number of patterns. */
struct leak_ac;

/* Caps: total pattern bytes (states) and patterns. 100 watched secrets of
 * a few fields each are a few KB; these leave ample room. */
#define LEAK_AC_MAX_STATES 200000u
#define LEAK_AC_MAX_PATTERNS 20000u
/* Shortest watched value (shorter ones would match everywhere). */
#define LEAK_MIN_SECRET 8u

struct leak_ac *leak_ac_new(void);
/* Adds a pattern (copied into the trie only). `tag` comes back on a match. */
enum fb_err leak_ac_add(struct leak_ac *ac, const void *p, size_t n, uint32_t tag);
/* Builds the DFA; no adds after. */
enum fb_err leak_ac_build(struct leak_ac *ac);
/* Calls cb(ud, tag, end, len) for every occurrence (end = offset one past
 * the match). cb returns non-zero to stop. */
typedef int (*leak_ac_cb)(void *ud, uint32_t tag, size_t end, size_t len);
void leak_ac_scan(const struct leak_ac *ac, const char *s, size_t n, leak_ac_cb cb, void *ud);
size_t leak_ac_states(const struct leak_ac *ac);
/* Wipes the tables (they spell the secrets) and frees. NULL is fine. */
void leak_ac_free(struct leak_ac *ac);

/* A scanner: watched values + detector prefixes in one automaton. */
struct leak_scanner {
	struct leak_ac *ac;     /* owned */
	size_t nvalues;         /* watched values added */
};

/* tags: detector prefixes use LEAK_TAG_DETECTOR | kind; watched values
 * use the caller's value index (< LEAK_TAG_DETECTOR). */
#define LEAK_TAG_DETECTOR 0x80000000u

enum fb_err leak_scanner_init(struct leak_scanner *sc);
/* Adds one watched value; values shorter than LEAK_MIN_SECRET are ignored
 * (returns FB_OK). `value_index` comes back as hit->value. */
enum fb_err leak_scanner_add_value(struct leak_scanner *sc, const char *v, size_t n,
				   uint32_t value_index);
enum fb_err leak_scanner_build(struct leak_scanner *sc);
void leak_scanner_cleanup(struct leak_scanner *sc);

struct leak_hit {
	enum leak_kind kind;
	size_t off, len;        /* within the message */
	uint32_t value;         /* LEAK_SECRET: the value index */
	int near_secret;        /* LEAK_AWS_KEY_ID: a LEAK_AWS_SECRET hit is near (one
				 * for every candidate within LEAK_KEY_SECRET_WINDOW) */
};

#define LEAK_MAX_HITS_PER_MESSAGE 256u
/* Bytes around a key id searched for a 40-char secret access key. */
#define LEAK_KEY_SECRET_WINDOW 200u

/* Scans one message; fills hits (sorted by offset), returns how many
 * (at most max). */
size_t leak_scan(const struct leak_scanner *sc, const char *msg, size_t n,
		 struct leak_hit *hits, size_t max);
/* The same, with the access key ids in skip[0..nskip) (20 characters each)
 * not reported and not paired with a secret access key: the ids a
 * CloudTrail record names in its own accessKeyId fields. */
size_t leak_scan_skip(const struct leak_scanner *sc, const char *msg, size_t n,
		      struct leak_hit *hits, size_t max, const char (*skip)[21], size_t nskip);

/* The redacted excerpt of hit `h` of msg: up to LEAK_EXCERPT_CONTEXT bytes
 * each side, every hit inside the window replaced by its fingerprint,
 * control and non-ASCII bytes shown as '?'. Appends to out. */
#define LEAK_EXCERPT_CONTEXT 32u
enum fb_err leak_excerpt(const char *msg, size_t n, const struct leak_hit *hits, size_t nhits,
			 size_t which, struct buf *out);

/* AKIA/ASIA + 16 of [A-Z2-7] at `at`, not inside a longer word. */
int leak_is_key_id(const char *s, size_t n, size_t at);
/* 1 when the 40 bytes at `at` look like an AWS secret access key: a whole
 * run of [A-Za-z0-9/+] that is not a slice of a longer token, with upper,
 * lower, a digit or symbol, and 20+ distinct characters (scan.c says why). */
int leak_is_secret_key(const char *s, size_t n, size_t at);

/* ---- secret values ------------------------------------------------------------------- */

/* Calls cb for each value to watch in a secret string: each top-level string
 * field of a JSON object, else the whole string; values < LEAK_MIN_SECRET
 * skipped. The pointers passed to cb may point into a temporary parse that
 * is wiped afterwards: copy what you keep. Returns the number passed. */
typedef enum fb_err (*leak_value_cb)(void *ud, const char *v, size_t n, const char *field);
enum fb_err leak_secret_values(const char *secret, size_t n, leak_value_cb cb, void *ud,
			       size_t *count);

#endif
