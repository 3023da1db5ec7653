/*
 * sigv4_sign: signs requests with runtime/sigv4 for differential tests
 * (tests/integration/20-sigv4-botocore.py compares it with botocore).
 *
 * stdin: one JSON object per line
 *   {"method","path","query"?, "headers":[[name,value],...],
 *    "body_hex"? | "body_b64"?, "payload_hash"?, "access_key","secret_key",
 *    "session_token"?, "region","service","amz_date","s3"?: bool}
 * stdout: one JSON object per input line, in order
 *   {"creq","sts","authorization"} or {"error": "..."}
 * Exit status 0 unless stdin cannot be read; per-request failures are
 * reported in their line so the caller sees which request failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "sigv4.h"

#define MAX_HEADERS 256

static const char *str_field(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes body_hex or body_b64 into *out (caller frees). */
static const char *decode_body(const cJSON *o, unsigned char **out, size_t *len)
{
	const char *hex = str_field(o, "body_hex"), *b64 = str_field(o, "body_b64");
	size_t n, i;

	*out = NULL;
	*len = 0;
	if (hex) {
		n = strlen(hex);
		if (n % 2)
			return "odd body_hex";
		*out = malloc(n / 2 + 1);
		if (!*out)
			return "out of memory";
		for (i = 0; i < n / 2; i++) {
			int hi = hexval((unsigned char)hex[2 * i]);
			int lo = hexval((unsigned char)hex[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return "bad body_hex";
			(*out)[i] = (unsigned char)(hi * 16 + lo);
		}
		*len = n / 2;
	} else if (b64) {
		int r;

		n = strlen(b64);
		if (n % 4 || n > 0x3fffffff)
			return "bad body_b64";
		*out = malloc(n / 4 * 3 + 1);
		if (!*out)
			return "out of memory";
		r = EVP_DecodeBlock(*out, (const unsigned char *)b64, (int)n);
		if (r < 0)
			return "bad body_b64";
		/* EVP_DecodeBlock counts the '=' padding as zero bytes */
		*len = (size_t)r;
		if (n && b64[n - 1] == '=')
			(*len)--;
		if (n > 1 && b64[n - 2] == '=')
			(*len)--;
	}
	return NULL;
}

static cJSON *sign_one(const cJSON *in)
{
	struct sigv4_header h[MAX_HEADERS];
	struct sigv4_request req;
	struct sigv4_params p;
	struct buf creq, sh, sts, az;
	const cJSON *hs, *it;
	unsigned char *body = NULL;
	size_t blen = 0, nh = 0;
	const char *err = NULL;
	enum fb_err rc;
	cJSON *res = cJSON_CreateObject();

	buf_init(&creq, SIGV4_CREQ_MAX);
	buf_init(&sh, SIGV4_CREQ_MAX);
	buf_init(&sts, SIGV4_CREQ_MAX);
	buf_init(&az, SIGV4_CREQ_MAX);
	memset(&req, 0, sizeof(req));
	memset(&p, 0, sizeof(p));
	hs = cJSON_GetObjectItemCaseSensitive(in, "headers");
	cJSON_ArrayForEach(it, hs) {
		if (nh == MAX_HEADERS || cJSON_GetArraySize(it) != 2) {
			err = "bad headers";
			goto out;
		}
		h[nh].name = cJSON_GetStringValue(cJSON_GetArrayItem(it, 0));
		h[nh].value = cJSON_GetStringValue(cJSON_GetArrayItem(it, 1));
		if (!h[nh].name || !h[nh].value) {
			err = "bad headers";
			goto out;
		}
		nh++;
	}
	err = decode_body(in, &body, &blen);
	if (err)
		goto out;
	req.method = str_field(in, "method");
	req.path = str_field(in, "path");
	req.query = str_field(in, "query");
	req.headers = h;
	req.nheaders = nh;
	req.payload = body;
	req.payload_len = blen;
	req.payload_hash = str_field(in, "payload_hash");
	p.access_key = str_field(in, "access_key");
	p.secret_key = str_field(in, "secret_key");
	p.session_token = str_field(in, "session_token");
	p.region = str_field(in, "region");
	p.service = str_field(in, "service");
	p.amz_date = str_field(in, "amz_date");
	p.normalize_path = p.double_encode =
		!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "s3"));
	if (!req.method || !req.path || !p.access_key || !p.secret_key) {
		err = "missing method, path or credentials";
		goto out;
	}
	rc = sigv4_canonical_request(&req, &p, &creq, &sh);
	if (!rc)
		rc = sigv4_string_to_sign(&p, creq.data, creq.len, &sts);
	if (!rc)
		rc = sigv4_authorization(&req, &p, &az);
	if (rc) {
		err = fb_strerror(rc);
		goto out;
	}
	cJSON_AddStringToObject(res, "creq", creq.data);
	cJSON_AddStringToObject(res, "sts", sts.data);
	cJSON_AddStringToObject(res, "authorization", az.data);
out:
	if (err)
		cJSON_AddStringToObject(res, "error", err);
	free(body);
	buf_cleanup(&creq);
	buf_cleanup(&sh);
	buf_cleanup(&sts);
	buf_cleanup(&az);
	return res;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		cJSON *in, *out;
		char *text;

		if (n == 1 && line[0] == '\n')
			continue;
		in = cJSON_ParseWithLength(line, (size_t)n);
		if (in)
			out = sign_one(in);
		else {
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "error", "bad json");
		}
		text = cJSON_PrintUnformatted(out);
		if (!text) {
			fputs("sigv4_sign: out of memory\n", stderr);
			return 1;
		}
		puts(text);
		free(text);
		cJSON_Delete(out);
		cJSON_Delete(in);
	}
	free(line);
	if (ferror(stdin)) {
		fputs("sigv4_sign: cannot read stdin\n", stderr);
		return 1;
	}
	return 0;
}
