/*
 * aws_call: one AWS API call from the command line through runtime/aws.h,
 * for integration tests and benchmarks.
 *
 *   aws_call [options] SERVICE OP ['JSON-IN']
 *
 * Prints the JSON answer on stdout and exits 0; on failure prints
 * {"error": {...}} on stdout, a one-line message on stderr and exits 1
 * (2 for a usage error). Secret-bearing members of the answer
 * (SecretAccessKey, SessionToken, SecretString, SecretBinary, Plaintext)
 * are printed as "redacted:<sha256 prefix>", never as values.
 *
 * Options:
 *   --region R            client region (default: AWS_REGION)
 *   --deadline-ms N       every attempt ends within N ms from now
 *   --assume-role ARN     make the call with STS AssumeRole credentials
 *   --session-name S      role session name (default firebreak)
 *   --bucket B --key K    s3 PutObject target
 *   --body STR | --body-file F   s3 object body
 *   --header 'Name: value'       extra s3 header (repeatable; an empty value
 *                                for x-amz-checksum-sha256 means "compute")
 *   --report              print {"rc","attempts","elapsed_ms","http_status",
 *                         "code","message","request_id","out"} instead
 *   --repeat N            run N copies of the call concurrently
 *                         (aws_call_run_all) and print a summary
 *   --sequential          with --repeat: one after another instead
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "buf.h"
#include "http.h"
#include "sigv4.h"

#define MAX_HEADERS 16

static const char *const secret_keys[] = {
	"SecretAccessKey", "SessionToken", "SecretString", "SecretBinary", "Plaintext",
};

static void redact(cJSON *j)
{
	cJSON *c;
	size_t i;

	for (c = j ? j->child : NULL; c; c = c->next) {
		int hit = 0;

		for (i = 0; c->string && i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
			if (strcmp(c->string, secret_keys[i]) == 0)
				hit = 1;
		if (hit && cJSON_IsString(c)) {
			char hex[65], v[64];

			sigv4_sha256_hex(c->valuestring, strlen(c->valuestring), hex);
			snprintf(v, sizeof(v), "redacted:%.12s", hex);
			cJSON_SetValuestring(c, v);
		} else {
			redact(c);
		}
	}
}

static const char *rc_name(enum fb_err rc)
{
	switch (rc) {
	case FB_OK: return "FB_OK";
	case FB_E_NOMEM: return "FB_E_NOMEM";
	case FB_E_TOO_LARGE: return "FB_E_TOO_LARGE";
	case FB_E_INVALID: return "FB_E_INVALID";
	case FB_E_PARSE: return "FB_E_PARSE";
	case FB_E_IO: return "FB_E_IO";
	case FB_E_HTTP: return "FB_E_HTTP";
	case FB_E_TIMEOUT: return "FB_E_TIMEOUT";
	case FB_E_AWS: return "FB_E_AWS";
	case FB_E_AUTH: return "FB_E_AUTH";
	case FB_E_NOTFOUND: return "FB_E_NOTFOUND";
	case FB_E_CONFIG: return "FB_E_CONFIG";
	case FB_E_STATE: return "FB_E_STATE";
	}
	return "?";
}

static cJSON *error_json(enum fb_err rc, const struct aws_error *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "rc", rc_name(rc));
	cJSON_AddStringToObject(o, "rc_text", fb_strerror(rc));
	cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
	cJSON_AddStringToObject(o, "code", e->code);
	cJSON_AddStringToObject(o, "message", e->message);
	cJSON_AddStringToObject(o, "request_id", e->request_id);
	cJSON_AddNumberToObject(o, "attempts", e->attempts);
	return o;
}

static void print_json(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s)
		printf("%s\n", s);
	free(s);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 64u * 1024u * 1024u);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n)) {
			fclose(f);
			buf_cleanup(&b);
			return NULL;
		}
	fclose(f);
	return buf_detach(&b, len);
}

static int usage(void)
{
	fprintf(stderr, "usage: aws_call [--region R] [--deadline-ms N] [--assume-role ARN] "
			"[--session-name S] [--bucket B --key K --body S|--body-file F] "
			"[--header 'N: v'] [--report] [--repeat N [--sequential]] SERVICE OP ['JSON']\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *region = NULL, *role = NULL, *session = NULL, *bucket = NULL, *key = NULL;
	const char *service = NULL, *op = NULL, *json_in = NULL;
	char *body = NULL, *hdr_store[MAX_HEADERS];
	size_t body_len = 0, nh = 0, i, n = 1;
	struct aws_header hdrs[MAX_HEADERS];
	long deadline_ms = 0;
	int report = 0, sequential = 0, repeat_mode = 0, pos = 0, status = 1;
	struct aws_client *base = NULL, *c = NULL, *assumed = NULL;
	struct aws_call *calls = NULL;
	cJSON *in = NULL;
	char err[256];
	enum fb_err rc;
	int64_t t0;

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--report") == 0) {
			report = 1;
		} else if (strcmp(a, "--sequential") == 0) {
			sequential = 1;
		} else if (a[0] == '-' && a[1] == '-') {
			if (!v)
				return usage();
			i++;
			if (strcmp(a, "--region") == 0)
				region = v;
			else if (strcmp(a, "--deadline-ms") == 0)
				deadline_ms = strtol(v, NULL, 10);
			else if (strcmp(a, "--assume-role") == 0)
				role = v;
			else if (strcmp(a, "--session-name") == 0)
				session = v;
			else if (strcmp(a, "--bucket") == 0)
				bucket = v;
			else if (strcmp(a, "--key") == 0)
				key = v;
			else if (strcmp(a, "--body") == 0) {
				free(body);
				body = strdup(v);
				body_len = strlen(v);
			} else if (strcmp(a, "--body-file") == 0) {
				free(body);
				body = slurp(v, &body_len);
				if (!body) {
					fprintf(stderr, "aws_call: cannot read '%s'\n", v);
					return 2;
				}
			} else if (strcmp(a, "--header") == 0) {
				char *h, *colon;

				if (nh >= MAX_HEADERS || !(h = strdup(v)) || !(colon = strchr(h, ':')))
					return usage();
				*colon = '\0';
				colon++;
				while (*colon == ' ')
					colon++;
				hdr_store[nh] = h;
				hdrs[nh].name = h;
				hdrs[nh].value = colon;
				nh++;
			} else if (strcmp(a, "--repeat") == 0) {
				long r = strtol(v, NULL, 10);

				if (r < 1 || r > 10000)
					return usage();
				n = (size_t)r;
				repeat_mode = 1;
			} else {
				return usage();
			}
		} else if (pos == 0) {
			service = a;
			pos++;
		} else if (pos == 1) {
			op = a;
			pos++;
		} else if (pos == 2) {
			json_in = a;
			pos++;
		} else {
			return usage();
		}
	}
	if (!service || !op)
		return usage();
	if (json_in) {
		in = cJSON_Parse(json_in);
		if (!in || !cJSON_IsObject(in)) {
			fprintf(stderr, "aws_call: JSON-IN must be a JSON object\n");
			return 2;
		}
	}

	rc = aws_client_new(&base, region, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aws_call: %s: %s\n", fb_strerror(rc), err);
		goto out;
	}
	if (deadline_ms > 0)
		aws_client_set_deadline(base, http_now_ms() + deadline_ms);
	c = base;
	if (role) {
		struct aws_error e;

		rc = aws_client_assume_role(base, role, session, &assumed, &e);
		if (rc) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddItemToObject(o, "error", error_json(rc, &e));
			print_json(o);
			cJSON_Delete(o);
			fprintf(stderr, "aws_call: sts AssumeRole: %s: %s %s\n", fb_strerror(rc), e.code,
				e.message);
			goto out;
		}
		c = assumed;
	}

	calls = calloc(n, sizeof(*calls));
	if (!calls)
		goto out;
	for (i = 0; i < n; i++) {
		calls[i].service = service;
		calls[i].op = op;
		calls[i].in = in;
		calls[i].bucket = bucket;
		calls[i].key = key;
		calls[i].body = body;
		calls[i].body_len = body_len;
		calls[i].headers = hdrs;
		calls[i].nheaders = nh;
	}
	t0 = http_now_ms();
	if (sequential) {
		rc = FB_OK;
		for (i = 0; i < n; i++)
			if (aws_call_run(c, &calls[i]) && rc == FB_OK)
				rc = calls[i].rc;
	} else {
		rc = aws_call_run_all(c, calls, n);
	}

	if (repeat_mode) {
		cJSON *o = cJSON_CreateObject(), *rcs = cJSON_CreateArray(), *att = cJSON_CreateArray();
		size_t ok = 0;

		for (i = 0; i < n; i++) {
			ok += calls[i].rc == FB_OK;
			cJSON_AddItemToArray(rcs, cJSON_CreateString(rc_name(calls[i].rc)));
			cJSON_AddItemToArray(att, cJSON_CreateNumber(calls[i].err.attempts));
		}
		cJSON_AddNumberToObject(o, "n", (double)n);
		cJSON_AddNumberToObject(o, "ok", (double)ok);
		cJSON_AddNumberToObject(o, "elapsed_ms", (double)(http_now_ms() - t0));
		cJSON_AddStringToObject(o, "mode", sequential ? "sequential" : "concurrent");
		cJSON_AddItemToObject(o, "rcs", rcs);
		cJSON_AddItemToObject(o, "attempts", att);
		if (rc)
			cJSON_AddItemToObject(o, "first_error", error_json(rc, &calls[0].err));
		print_json(o);
		cJSON_Delete(o);
	} else if (report) {
		cJSON *o = error_json(calls[0].rc, &calls[0].err);

		cJSON_AddNumberToObject(o, "elapsed_ms", (double)calls[0].elapsed_ms);
		redact(calls[0].out);
		if (calls[0].out) {
			cJSON_AddItemToObject(o, "out", calls[0].out);
			calls[0].out = NULL;
		}
		print_json(o);
		cJSON_Delete(o);
	} else if (rc == FB_OK) {
		redact(calls[0].out);
		print_json(calls[0].out);
	} else {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "error", error_json(rc, &calls[0].err));
		print_json(o);
		cJSON_Delete(o);
	}
	if (rc)
		fprintf(stderr, "aws_call: %s %s: %s: %s%s%s\n", service, op, fb_strerror(rc),
			calls[0].err.code, calls[0].err.code[0] ? ": " : "", calls[0].err.message);
	status = rc == FB_OK ? 0 : 1;
out:
	for (i = 0; calls && i < n; i++)
		aws_call_cleanup(&calls[i]);
	free(calls);
	for (i = 0; i < nh; i++)
		free(hdr_store[i]);
	free(body);
	cJSON_Delete(in);
	aws_client_free(assumed);
	aws_client_free(base);
	return status;
}
