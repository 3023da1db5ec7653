/*
 * fuzz_sigv4: SigV4 canonicalisation (runtime/sigv4.c) over fuzzed method,
 * path, query, headers and payload, in both the normalising (most services)
 * and the S3 mode, then the whole Authorization header.
 * Input: a flags byte, then '\n'-separated lines: method, path, query, then
 * "name:value" header lines; a NUL byte ends the lines and the rest is the
 * payload. Flag bit 0 adds Host and X-Amz-Date (else only what the input
 * gives), bit 1 picks S3 mode, bit 2 adds a session token.
 * Checks: success gives a canonical request with exactly 6 '\n' separated
 * parts before the payload hash at least, a signed-headers list in sorted
 * order without upper case, and an Authorization value that mentions it.
 */
#include <stdio.h>
#include "fuzz_common.h"
#include "sigv4.h"

#define MAXH 64

static int semicolon_in_names(const struct sigv4_header *hs, size_t nh)
{
	size_t i;

	for (i = 0; i < nh; i++)
		if (strchr(hs[i].name, ';'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_header hs[MAXH + 3];
	struct sigv4_request req;
	struct sigv4_params p;
	struct buf creq, sh, auth;
	const uint8_t *lines, *payload;
	size_t ll, pl, nh = 0, nlines = 0, i;
	char *text, *line[3 + MAXH], *save, *s;
	uint8_t flags;
	enum fb_err rc;

	if (size < 1)
		return 0;
	flags = data[0];
	fuzz_split(data + 1, size - 1, 0, &lines, &ll, &payload, &pl);
	if (ll == 0 && pl == size - 1) { /* no NUL: all lines, empty payload */
		lines = data + 1;
		ll = size - 1;
		payload = NULL;
		pl = 0;
	}
	text = fuzz_strndup(lines, ll);
	/* split on '\n' by hand (no strtok) */
	for (s = text, save = text; nlines < 3 + MAXH; s++) {
		if (*s == '\n' || *s == '\0') {
			int end = *s == '\0';

			*s = '\0';
			line[nlines++] = save;
			save = s + 1;
			if (end)
				break;
		}
	}
	for (i = nlines; i < 3; i++)
		line[i] = "";
	if (flags & 1) {
		hs[nh].name = "Host";
		hs[nh++].value = "kms.us-east-1.amazonaws.com";
		hs[nh].name = "X-Amz-Date";
		hs[nh++].value = "20150830T123600Z";
	}
	for (i = 3; i < nlines && nh < MAXH; i++) {
		char *c = strchr(line[i], ':');

		if (c) {
			*c = '\0';
			hs[nh].value = c + 1;
		} else {
			hs[nh].value = "";
		}
		hs[nh++].name = line[i];
	}
	memset(&req, 0, sizeof(req));
	req.method = line[0];
	req.path = line[1];
	req.query = (flags & 8) ? NULL : line[2];
	req.headers = hs;
	req.nheaders = nh;
	req.payload = payload;
	req.payload_len = pl;
	req.payload_hash = (flags & 16) ? "UNSIGNED-PAYLOAD" : NULL;
	memset(&p, 0, sizeof(p));
	p.access_key = "AKIDEXAMPLE";
	p.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	p.session_token = (flags & 4) ? "token" : NULL;
	p.region = "us-east-1";
	p.service = (flags & 2) ? "s3" : "kms";
	p.amz_date = "20150830T123600Z";
	p.normalize_path = (flags & 2) ? 0 : 1;
	p.double_encode = (flags & 2) ? 0 : 1;

	buf_init(&creq, SIGV4_CREQ_MAX);
	buf_init(&sh, SIGV4_CREQ_MAX);
	rc = sigv4_canonical_request(&req, &p, &creq, &sh);
	if (rc == FB_OK) {
		size_t nl = 0;

		for (i = 0; i < creq.len; i++)
			nl += creq.data[i] == '\n';
		if (nl < 5)
			abort(); /* method, path, query, headers..., blank, signed, hash */
		for (i = 0; i < sh.len; i++)
			if (sh.data[i] >= 'A' && sh.data[i] <= 'Z')
				abort(); /* signed header names are lower case */
		/* sorted, no duplicates; only meaningful when no name holds ';'
		 * (SigV4 has no escaping for it: the AWS layer only ever signs
		 * fixed header names, and aws.c refuses unsafe S3 header names) */
		if (!memchr(sh.data, ' ', sh.len) && !semicolon_in_names(hs, nh)) {
			const char *a = sh.data, *b;

			while (a && (b = strchr(a, ';')) != NULL) {
				const char *c = strchr(b + 1, ';');
				size_t la = (size_t)(b - a), lb = c ? (size_t)(c - b - 1) : strlen(b + 1);
				int cmp = memcmp(a, b + 1, la < lb ? la : lb);

				if (cmp > 0 || (cmp == 0 && la >= lb))
					abort();
				a = b + 1;
			}
		}
		buf_init(&auth, SIGV4_CREQ_MAX);
		if (sigv4_authorization(&req, &p, &auth) != FB_OK || !strstr(auth.data, sh.data))
			abort(); /* the same request must sign */
		buf_cleanup(&auth);
	}
	buf_cleanup(&creq);
	buf_cleanup(&sh);
	/* the URI encoder on the raw path, both modes */
	buf_init(&creq, 4 * 1024 * 1024);
	(void)sigv4_uri_encode(&creq, line[1], strlen(line[1]), 1);
	(void)sigv4_uri_encode(&creq, line[2], strlen(line[2]), 0);
	buf_cleanup(&creq);
	free(text);
	return 0;
}
