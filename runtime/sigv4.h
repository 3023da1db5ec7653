/*
 * sigv4: AWS Signature Version 4 as pure stages (aws-c-auth aws_signing.h
 * habit): canonical request -> string to sign -> signature. Time and
 * credentials are parameters, never read inside, so every stage is
 * testable against the published vectors (../shared/sigv4-test-suite).
 */
#ifndef FB_SIGV4_H
#define FB_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "fb_err.h"

struct sigv4_header {
	const char *name;   /* borrowed; any case, trimmed and lowercased when canonicalised */
	const char *value;  /* borrowed; trimmed, inner whitespace runs folded to one space */
};

/* The request as it will be sent. */
struct sigv4_request {
	const char *method;          /* "GET", "POST", ... */
	const char *path;            /* raw path as sent, e.g. "/", "/a%20b"; never NULL */
	const char *query;           /* raw query without '?', may be NULL or "" */
	const struct sigv4_header *headers; /* must include host and x-amz-date */
	size_t nheaders;
	const void *payload;         /* used when payload_hash is NULL */
	size_t payload_len;
	const char *payload_hash;    /* lowercase hex SHA-256, or "UNSIGNED-PAYLOAD", or NULL */
};

struct sigv4_params {
	const char *access_key;
	const char *secret_key;      /* never logged */
	const char *session_token;   /* NULL if none; the caller sends X-Amz-Security-Token */
	const char *region;
	const char *service;         /* signing name, e.g. "kms", "s3" */
	const char *amz_date;        /* "20150830T123600Z" */
	/* S3 differs from every other service: no path normalisation and no
	 * double URI-encoding of the path. 0 for S3, 1 otherwise. */
	int normalize_path;
	int double_encode;
};

/* Cap on the canonical request and string to sign that
 * sigv4_authorization() builds internally: far above AWS's own URL and
 * header limits, low enough that hostile input cannot exhaust memory. */
#define SIGV4_CREQ_MAX (1024 * 1024)

/* Stage 1. Appends the canonical request to `out` and the signed-headers
 * list ("host;x-amz-date") to `signed_headers`.
 * - path is the path exactly as on the wire (already percent-encoded);
 *   double_encode encodes it once more ("/a%20b" signs as "/a%2520b"),
 *   S3 mode signs it verbatim, so encode S3 keys once with
 *   sigv4_uri_encode(keep_slash=1) and send that. Normalisation is
 *   botocore's remove_dot_segments (dot segments and empty segments go).
 * - query names and values are percent-decoded and re-encoded, sorted by
 *   name then value; "k" signs as "k="; empty pieces are skipped.
 * - every header is signed except Authorization, User-Agent, Expect and
 *   X-Amzn-Trace-Id (botocore's list); repeated names are joined with ','
 *   in the order given.
 * FB_E_INVALID: no Host header, amz_date not "YYYYMMDDTHHMMSSZ", an
 * X-Amz-Date header that differs from amz_date, a session_token the
 * request does not carry (header or X-Amz-Security-Token query field),
 * an empty header name or one containing ':'. FB_E_TOO_LARGE: a cap. */
enum fb_err sigv4_canonical_request(const struct sigv4_request *req,
				    const struct sigv4_params *p,
				    struct buf *out, struct buf *signed_headers);

/* "20150830/us-east-1/service/aws4_request" into out. */
enum fb_err sigv4_scope(const struct sigv4_params *p, struct buf *out);

/* Stage 2. "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(creq)>" */
enum fb_err sigv4_string_to_sign(const struct sigv4_params *p,
				 const char *creq, size_t creq_len, struct buf *out);

/* Stage 3. kSigning = HMAC chain over date, region, service, "aws4_request". */
void sigv4_signing_key(const char *secret_key, const char *date8,
		       const char *region, const char *service, uint8_t out[32]);
/* Lowercase hex HMAC-SHA256(key, sts) into hex[65]. */
void sigv4_signature(const uint8_t key[32], const char *sts, size_t sts_len, char hex[65]);

/* All three stages: the Authorization header value into `out`. */
enum fb_err sigv4_authorization(const struct sigv4_request *req,
				const struct sigv4_params *p, struct buf *out);

/* Helpers shared with the AWS layer. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);
/* RFC 3986 encoding as SigV4 wants it (unreserved kept; '/' kept when
 * keep_slash). Appends to out. */
enum fb_err sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash);

#endif
