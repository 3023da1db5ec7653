/*
 * wire: AWS requests from JSON, AWS answers into JSON (wire.h). Pure: no
 * I/O, no clock; aws.c sends what is built here.
 */
#include "wire.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sigv4.h"
#include "xml.h"

/* ---- protocols ----------------------------------------------------------- */

/* awsJson services, from botocore's service-2.json metadata: targetPrefix
 * (X-Amz-Target is "<prefix>.<Operation>") and jsonVersion (the
 * Content-Type). */
struct json_svc {
	const char *service, *target, *content_type;
};

#define JSON_10 "application/x-amz-json-1.0"
#define JSON_11 "application/x-amz-json-1.1"

static const struct json_svc json_svcs[] = {
	{ "kms", "TrentService", JSON_11 },
	{ "secretsmanager", "secretsmanager", JSON_11 },
	{ "ecs", "AmazonEC2ContainerServiceV20141113", JSON_11 },
	{ "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", JSON_11 },
	{ "logs", "Logs_20140328", JSON_11 },
	{ "wafv2", "AWSWAF_20190729", JSON_11 },     /* issue 19: IP sets */
	{ "dynamodb", "DynamoDB_20120810", JSON_10 }, /* issue 22: the one awsJson 1.0 */
	{ "cognito-idp", "AWSCognitoIdentityProviderService", JSON_11 }, /* issue 23 */
	{ "events", "AWSEvents", JSON_11 }, /* issue 24: reports onto EventBridge */
};

/* The other services: protocol and apiVersion (the query Version). */
struct svc_proto {
	const char *service;
	enum wire_proto proto;
	const char *version;
};

static const struct svc_proto protos[] = {
	{ "ec2", WIRE_EC2, "2016-11-15" },
	{ "iam", WIRE_QUERY, "2010-05-08" },
	{ "sts", WIRE_QUERY, "2011-06-15" },
	{ "sns", WIRE_QUERY, "2010-03-31" },
	{ "autoscaling", WIRE_QUERY, "2011-01-01" },
	{ "monitoring", WIRE_QUERY, "2010-08-01" }, /* issue 22: CloudWatch GetMetricStatistics */
	{ "s3", WIRE_RESTXML, "2006-03-01" },
	{ "s3control", WIRE_RESTXML, "2018-08-20" },
	{ "codeartifact", WIRE_RESTJSON, "2018-09-22" }, /* issue 23: domain and repository policies */
	{ "securityhub", WIRE_RESTJSON, "2018-10-26" },  /* issue 24: findings */
};

/* The two names every operation table row starts with (op_find). */
struct op_name {
	const char *service, *op;
};

/* rest-json operations (issue 23), from botocore's codeartifact
 * service-2.json: http method, requestUri (none of these has a path
 * label), the input members sent in the query string as {member,
 * locationName} pairs in the model's order; every other input member goes
 * into the JSON body. `body`: the input shape has body members, so botocore
 * sends "{}" when none is given (RestJSONSerializer._requires_empty_body);
 * without any, the body is empty and there is no Content-Type. */
struct wire_rj {
	struct op_name id; /* first: op_find */
	const char *method, *path;
	const char *const *query;  /* NULL-terminated member, locationName pairs */
	int body;
};

static const char *const rj_q_domain[] = { "domain", "domain", "domainOwner", "domain-owner", NULL };
static const char *const rj_q_repo[] = { "domain", "domain", "domainOwner", "domain-owner",
					 "repository", "repository", NULL };
static const char *const rj_q_list[] = { "domain", "domain", "domainOwner", "domain-owner",
					 "administratorAccount", "administrator-account",
					 "repositoryPrefix", "repository-prefix", "maxResults", "max-results",
					 "nextToken", "next-token", NULL };
static const char *const rj_q_delpol[] = { "domain", "domain", "domainOwner", "domain-owner",
					   "policyRevision", "policy-revision", NULL };
static const char *const rj_q_delrepopol[] = { "domain", "domain", "domainOwner", "domain-owner",
					       "repository", "repository", "policyRevision",
					       "policy-revision", NULL };

static const struct wire_rj rj_ops[] = {
	{ { "codeartifact", "DescribeDomain" }, "GET", "/v1/domain", rj_q_domain, 0 },
	{ { "codeartifact", "GetDomainPermissionsPolicy" }, "GET", "/v1/domain/permissions/policy", rj_q_domain, 0 },
	{ { "codeartifact", "PutDomainPermissionsPolicy" }, "PUT", "/v1/domain/permissions/policy", NULL, 1 },
	{ { "codeartifact", "DeleteDomainPermissionsPolicy" }, "DELETE", "/v1/domain/permissions/policy",
	  rj_q_delpol, 0 },
	{ { "codeartifact", "ListRepositoriesInDomain" }, "POST", "/v1/domain/repositories", rj_q_list, 0 },
	{ { "codeartifact", "GetRepositoryPermissionsPolicy" }, "GET", "/v1/repository/permissions/policy",
	  rj_q_repo, 0 },
	{ { "codeartifact", "PutRepositoryPermissionsPolicy" }, "PUT", "/v1/repository/permissions/policy",
	  rj_q_repo, 1 },
	{ { "codeartifact", "DeleteRepositoryPermissionsPolicy" }, "DELETE", "/v1/repository/permissions/policies",
	  rj_q_delrepopol, 0 },
	/* issue 24 (runtime/outlet.c): botocore's securityhub service-2.json; the whole input is the body */
	{ { "securityhub", "BatchUpdateFindings" }, "PATCH", "/findings/batchupdate", NULL, 1 },
	{ { "securityhub", "BatchImportFindings" }, "POST", "/findings/import", NULL, 1 },
};

/* rest-xml operations besides PutObject/HeadObject (issue 19), from
 * botocore's s3 / s3control service-2.json: http method, requestUri (s3:
 * "/{Bucket}?<query>"; s3control: a fixed path, the account in the
 * x-amz-account-id header and the host), the payload member sent as the
 * XML body (its locationName is the root element, with the shape's
 * xmlNamespace), and Content-MD5 where botocore 1.29 adds it (S3's
 * PutPublicAccessBlock: httpChecksumRequired). */
struct wire_rx {
	struct op_name id; /* first: op_find */
	const char *method;
	const char *path;     /* s3control: the path; s3: NULL ("/{Bucket}") */
	const char *query;    /* s3 subresource: "policyStatus"; NULL none */
	const char *payload;  /* the input member sent as the body; NULL none */
	const char *xmlns;
	int md5;
};

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3C_XMLNS "http://awss3control.amazonaws.com/doc/2018-08-20/"
#define S3C_PAB "/v20180820/configuration/publicAccessBlock"

static const struct wire_rx rx_ops[] = {
	{ { "s3", "GetBucketPolicyStatus" }, "GET", NULL, "policyStatus", NULL, NULL, 0 },
	{ { "s3", "GetBucketAcl" }, "GET", NULL, "acl", NULL, NULL, 0 },
	{ { "s3", "GetBucketTagging" }, "GET", NULL, "tagging", NULL, NULL, 0 },
	{ { "s3", "GetPublicAccessBlock" }, "GET", NULL, "publicAccessBlock", NULL, NULL, 0 },
	{ { "s3", "PutPublicAccessBlock" }, "PUT", NULL, "publicAccessBlock",
	  "PublicAccessBlockConfiguration", S3_XMLNS, 1 },
	{ { "s3", "DeletePublicAccessBlock" }, "DELETE", NULL, "publicAccessBlock", NULL, NULL, 0 },
	/* runtime/evidence.c: does the bucket have Object Lock, with which default */
	{ { "s3", "GetObjectLockConfiguration" }, "GET", NULL, "object-lock", NULL, NULL, 0 },
	{ { "s3control", "GetPublicAccessBlock" }, "GET", S3C_PAB, NULL, NULL, NULL, 0 },
	{ { "s3control", "PutPublicAccessBlock" }, "PUT", S3C_PAB, NULL,
	  "PublicAccessBlockConfiguration", S3C_XMLNS, 0 },
	{ { "s3control", "DeletePublicAccessBlock" }, "DELETE", S3C_PAB, NULL, NULL, NULL, 0 },
};

/* The row for service and op in a table of n rows of `size` bytes, each
 * starting with its struct op_name: rj_ops and rx_ops. */
static const void *op_find(const void *table, size_t n, size_t size, const char *service,
			   const char *op)
{
	const char *row = table;
	size_t i;

	for (i = 0; service && op && i < n; i++, row += size) {
		const struct op_name *k = (const void *)row; /* a row's first member */

		if (strcmp(k->service, service) == 0 && strcmp(k->op, op) == 0)
			return row;
	}
	return NULL;
}

#define OP_FIND(table, service, op) \
	op_find(table, sizeof(table) / sizeof(table[0]), sizeof(table[0]), service, op)

/* The service's protocol and its table row's values into w; 0 when the
 * service is not one firebreak knows. */
static int proto_find(const char *service, struct wire_req *w)
{
	size_t i;

	for (i = 0; service && i < sizeof(json_svcs) / sizeof(json_svcs[0]); i++)
		if (strcmp(json_svcs[i].service, service) == 0) {
			w->proto = WIRE_JSON;
			w->version = json_svcs[i].target;
			w->json_type = json_svcs[i].content_type;
			return 1;
		}
	for (i = 0; service && i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(protos[i].service, service) == 0) {
			w->proto = protos[i].proto;
			w->version = protos[i].version;
			return 1;
		}
	return 0;
}

const char *wire_protocol(const char *service)
{
	struct wire_req w;

	memset(&w, 0, sizeof(w));
	if (!proto_find(service, &w))
		return NULL;
	switch (w.proto) {
	case WIRE_JSON: return "json";
	case WIRE_QUERY: return "query";
	case WIRE_EC2: return "ec2";
	case WIRE_RESTXML: return "rest-xml";
	case WIRE_RESTJSON: return "rest-json";
	}
	return NULL;
}

/* ---- error parsing (pure) ------------------------------------------------------ */

/* "ns#Code:http://..." -> "Code" */
static void set_code(struct aws_error *err, const char *v)
{
	const char *h = strrchr(v, '#');
	size_t n;

	if (h)
		v = h + 1;
	n = strcspn(v, ":");
	if (n >= sizeof(err->code))
		n = sizeof(err->code) - 1;
	memcpy(err->code, v, n);
	err->code[n] = '\0';
}

static const cJSON *find_key(const cJSON *j, const char *key, int depth)
{
	const cJSON *c, *f;

	if (!j || depth > 8)
		return NULL;
	for (c = j->child; c; c = c->next) {
		if (c->string && strcmp(c->string, key) == 0 && cJSON_IsString(c))
			return c;
	}
	for (c = j->child; c; c = c->next) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			f = find_key(c, key, depth + 1);
			if (f)
				return f;
		}
	}
	return NULL;
}

static const char *str_of(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void wire_parse_error(const struct http_response *r, struct aws_error *err)
{
	const char *body = r->body.data ? r->body.data : "";
	size_t len = r->body.len, i = 0;
	char hv[256];
	cJSON *j = NULL;
	const cJSON *v;

	err->http_status = r->status;
	err->code[0] = err->message[0] = err->request_id[0] = '\0';
	if (http_response_header(r, "x-amzn-RequestId", hv, sizeof(hv)) ||
	    http_response_header(r, "x-amz-request-id", hv, sizeof(hv)))
		buf_copy_str(err->request_id, sizeof(err->request_id), hv);
	if (http_response_header(r, "x-amzn-ErrorType", hv, sizeof(hv)) && hv[0])
		set_code(err, hv);

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == '{') {
		j = cJSON_ParseWithLength(body, len);
		if (j) {
			const char *t = str_of(j, "__type");

			if (!t)
				t = str_of(j, "code");
			if (!t)
				t = str_of(j, "Code");
			if (t && !err->code[0])
				set_code(err, t);
			if ((t = str_of(j, "message")) || (t = str_of(j, "Message")) ||
			    (t = str_of(j, "errorMessage")))
				buf_copy_str(err->message, sizeof(err->message), t);
		}
	} else if (i < len && body[i] == '<') {
		xml_to_json(body, len, &j, NULL, 0, NULL, 0);
		if (j) {
			if (!err->code[0] && (v = find_key(j, "Code", 0)))
				set_code(err, v->valuestring);
			if ((v = find_key(j, "Message", 0)))
				buf_copy_str(err->message, sizeof(err->message), v->valuestring);
			if (!err->request_id[0] &&
			    ((v = find_key(j, "RequestId", 0)) || (v = find_key(j, "RequestID", 0))))
				buf_copy_str(err->request_id, sizeof(err->request_id), v->valuestring);
		}
	}
	cJSON_Delete(j);
	if (!err->message[0]) {
		if (err->code[0])
			buf_copy_str(err->message, sizeof(err->message), err->code);
		else
			snprintf(err->message, sizeof(err->message), "http status %ld", r->status);
	}
}

/* application/x-www-form-urlencoded, byte for byte as botocore sends a
 * query-protocol body (urllib's urlencode: quote_plus with "-_.~" safe):
 * unreserved bytes as they are, a space as '+', everything else %XX with
 * uppercase hex. Real AWS hashes the bytes we send either way, but
 * emulators (moto, LocalStack) decode the form and re-encode it the
 * botocore way before checking the signature, so %20 for a space fails
 * there. The SigV4 canonical query (sigv4.c) still uses %20, as it must. */
static enum fb_err form_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	enum fb_err rc = FB_OK;

	for (; !rc && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			rc = buf_putc(b, (char)ch);
		} else if (ch == ' ') {
			rc = buf_putc(b, '+');
		} else {
			char esc[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			rc = buf_append(b, esc, 3);
		}
	}
	return rc;
}

static enum fb_err query_append(struct buf *b, const char *k, const char *v)
{
	enum fb_err rc = FB_OK;

	if (b->len)
		rc = buf_putc(b, '&');
	if (!rc)
		rc = form_encode(b, k);
	if (!rc)
		rc = buf_putc(b, '=');
	if (!rc)
		rc = form_encode(b, v);
	return rc;
}

/* Query-protocol parameter names are bounded by what AWS accepts (the
 * longest real ones are well under 200 bytes); nesting past this depth is a
 * bug in the caller, not a request. */
#define QUERY_NAME_MAX 512
#define QUERY_DEPTH_MAX 16

/* One leaf value as botocore writes it: strings as they are, booleans
 * "true"/"false", integers without a fraction. NULL *v: nothing to send. */
static enum fb_err query_leaf(const cJSON *it, char num[64], const char **v)
{
	*v = NULL;
	if (cJSON_IsString(it)) {
		*v = it->valuestring;
	} else if (cJSON_IsBool(it)) {
		*v = cJSON_IsTrue(it) ? "true" : "false";
	} else if (cJSON_IsNumber(it)) {
		/* fuzz: range-checked first, (long long) of an out-of-range double is UB */
		if (it->valuedouble > -9.2e18 && it->valuedouble < 9.2e18 &&
		    it->valuedouble == (double)(long long)it->valuedouble)
			snprintf(num, 64, "%lld", (long long)it->valuedouble);
		else
			snprintf(num, 64, "%.17g", it->valuedouble);
		*v = num;
	} else if (!cJSON_IsNull(it)) {
		return FB_E_INVALID;
	}
	return FB_OK;
}

/* Structured input -> flat query parameters, as botocore's QuerySerializer
 * and EC2Serializer flatten it (botocore/serialize.py). Names are wire
 * names: the caller writes the member's locationName/queryName as the wire
 * wants it ("SecurityGroupId" for ModifyNetworkInterfaceAttribute's Groups,
 * "Filter" and "Value" for DescribeNetworkInterfaces' Filters). Rules:
 *  - object member "Name" under prefix P: P.Name (P empty at the top);
 *  - array: query protocol P.member.N, EC2 P.N (1-based); an empty array
 *    is "P=" in query and nothing in EC2, as botocore sends them;
 *  - map: an object whose only member is "entry", an array of objects:
 *    P.entry.N.<member> (the members are the map's key and value wire
 *    names: "key"/"value" by default, "Name"/"Value" for SNS
 *    MessageAttributes);
 *  - a name with dots at the top ("IpPermissions.1.IpProtocol") is used as
 *    it stands, so flat input keeps working. */
static enum fb_err query_flatten(struct buf *b, char *name, size_t len, const cJSON *v, int ec2,
				 int depth, char *err, size_t errlen)
{
	const cJSON *it;
	enum fb_err rc = FB_OK;
	size_t i = 0;

	if (depth > QUERY_DEPTH_MAX) {
		snprintf(err, errlen, "query parameter '%.64s' nests too deep", name);
		return FB_E_INVALID;
	}
	if (cJSON_IsObject(v)) {
		const cJSON *entry = v->child;
		int is_map = entry && !entry->next && entry->string &&
			     !strcmp(entry->string, "entry") && cJSON_IsArray(entry);

		for (it = v->child; !rc && it; it = it->next) {
			int n;

			if (!it->string)
				continue;
			n = len ? snprintf(name + len, QUERY_NAME_MAX - len, ".%s", it->string)
				: snprintf(name, QUERY_NAME_MAX, "%s", it->string);
			if (n < 0 || len + (size_t)n >= QUERY_NAME_MAX) {
				snprintf(err, errlen, "query parameter name too long");
				return FB_E_INVALID;
			}
			if (is_map) {
				/* entry.N, never entry.member.N: a map is not a list */
				i = 0;
				cJSON_ArrayForEach(entry, it) {
					int m = snprintf(name + len + (size_t)n, QUERY_NAME_MAX - len - (size_t)n,
							 ".%zu", ++i);

					if (m < 0 || len + (size_t)n + (size_t)m >= QUERY_NAME_MAX) {
						snprintf(err, errlen, "query parameter name too long");
						return FB_E_INVALID;
					}
					rc = query_flatten(b, name, len + (size_t)n + (size_t)m, entry, ec2,
							   depth + 1, err, errlen);
					if (rc)
						break;
				}
			} else {
				rc = query_flatten(b, name, len + (size_t)n, it, ec2, depth + 1, err, errlen);
			}
		}
		name[len] = '\0';
		return rc;
	}
	if (cJSON_IsArray(v)) {
		if (!v->child) {
			name[len] = '\0';
			return ec2 ? FB_OK : query_append(b, name, "");
		}
		cJSON_ArrayForEach(it, v) {
			int n = snprintf(name + len, QUERY_NAME_MAX - len, ec2 ? ".%zu" : ".member.%zu", ++i);

			if (n < 0 || len + (size_t)n >= QUERY_NAME_MAX) {
				snprintf(err, errlen, "query parameter name too long");
				return FB_E_INVALID;
			}
			rc = query_flatten(b, name, len + (size_t)n, it, ec2, depth + 1, err, errlen);
			if (rc)
				break;
		}
		name[len] = '\0';
		return rc;
	}
	{
		char num[64];
		const char *val;

		name[len] = '\0';
		if (query_leaf(v, num, &val) != FB_OK) {
			snprintf(err, errlen, "query parameter '%.64s' must be a string", name);
			return FB_E_INVALID;
		}
		return val ? query_append(b, name, val) : FB_OK;
	}
}

static enum fb_err build_query_body(struct wire_req *w, const struct aws_call *call, char *err,
				    size_t errlen)
{
	char name[QUERY_NAME_MAX];
	enum fb_err rc;

	rc = query_append(&w->body, "Action", call->op);
	if (!rc)
		rc = query_append(&w->body, "Version", w->version);
	name[0] = '\0';
	if (!rc && call->in)
		rc = query_flatten(&w->body, name, 0, call->in, w->proto == WIRE_EC2, 0, err, errlen);
	return rc;
}

/* ---- rest-xml bodies (issue 19) ----------------------------------------------- */

/* Text as ElementTree.tostring writes it: & < > escaped (and " in
 * attributes, which we only write as constants). */
static enum fb_err xml_text(struct buf *b, const char *t)
{
	enum fb_err rc = FB_OK;

	for (; !rc && *t; t++) {
		if (*t == '&')
			rc = buf_puts(b, "&amp;");
		else if (*t == '<')
			rc = buf_puts(b, "&lt;");
		else if (*t == '>')
			rc = buf_puts(b, "&gt;");
		else
			rc = buf_putc(b, *t);
	}
	return rc;
}

/* An element name is an XML name made of what model member names use. */
static int xml_name_ok(const char *n)
{
	if (!n || !*n || !(isalpha((unsigned char)*n) || *n == '_'))
		return 0;
	for (; *n; n++)
		if (!(isalnum((unsigned char)*n) || *n == '_' || *n == '-' || *n == '.'))
			return 0;
	return 1;
}

/* One member as botocore's RestXMLSerializer writes it (no declaration,
 * no white space): an object is <name>members in order</name>, an array
 * repeats <name> (a flattened list: a wrapped list is an object holding
 * the array under its member name), booleans true/false, numbers as the
 * query protocol writes them, null is left out. */
static enum fb_err xml_member(struct buf *b, const char *name, const cJSON *v, const char *xmlns,
			      int depth, char *err, size_t errlen)
{
	const cJSON *it;
	enum fb_err rc;

	if (depth > QUERY_DEPTH_MAX || !xml_name_ok(name)) {
		snprintf(err, errlen, "xml member '%.64s' is not a name or nests too deep", name ? name : "");
		return FB_E_INVALID;
	}
	if (cJSON_IsNull(v))
		return FB_OK;
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v) {
			rc = xml_member(b, name, it, NULL, depth + 1, err, errlen);
			if (rc)
				return rc;
		}
		return FB_OK;
	}
	rc = xmlns ? buf_printf(b, "<%s xmlns=\"%s\">", name, xmlns) : buf_printf(b, "<%s>", name);
	if (rc)
		return rc;
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(it, v) {
			rc = xml_member(b, it->string, it, NULL, depth + 1, err, errlen);
			if (rc)
				return rc;
		}
	} else {
		char num[64];
		const char *val;

		if (query_leaf(v, num, &val) != FB_OK || !val) {
			snprintf(err, errlen, "xml member '%.64s' must be a scalar or an object", name);
			return FB_E_INVALID;
		}
		rc = xml_text(b, val);
		if (rc)
			return rc;
	}
	return buf_printf(b, "</%s>", name);
}

/* The s3control account: the input's AccountId, 12 digits. */
static int rx_account(const struct aws_call *call, char out[16])
{
	const cJSON *a = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, "AccountId") : NULL;
	size_t i;

	if (!cJSON_IsString(a) || strlen(a->valuestring) != 12)
		return 0;
	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)a->valuestring[i]))
			return 0;
	memcpy(out, a->valuestring, 13);
	return 1;
}

/* Path, query and body of a generic rest-xml operation. */
static enum fb_err rx_prepare(struct wire_req *w, const struct aws_call *call, int path_style,
			      struct buf *p, char *err, size_t errlen)
{
	const struct wire_rx *rx = w->rx;
	enum fb_err rc = FB_OK;

	if (rx->path) {
		rc = buf_puts(p, rx->path);
	} else {
		if (path_style) {
			rc = buf_putc(p, '/');
			if (!rc)
				rc = sigv4_uri_encode(p, call->bucket, strlen(call->bucket), 0);
		}
		if (!rc && (!p->len || p->data[p->len - 1] != '/') && !path_style)
			rc = buf_putc(p, '/');
	}
	if (!rc && rx->query && !(w->query = strdup(rx->query)))
		rc = FB_E_NOMEM;
	if (!rc && rx->payload) {
		const cJSON *v = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, rx->payload) : NULL;

		if (!cJSON_IsObject(v)) {
			snprintf(err, errlen, "%.32s %.40s needs %.40s (an object)", call->service, call->op,
				 rx->payload);
			return FB_E_INVALID;
		}
		rc = xml_member(&w->body, rx->payload, v, rx->xmlns, 0, err, errlen);
	}
	if (!rc && rx->md5) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (!EVP_Digest(w->body.data ? w->body.data : "", w->body.len, md, &mdlen, EVP_md5(), NULL))
			return FB_E_NOMEM;
		EVP_EncodeBlock((unsigned char *)w->md5_b64, md, (int)mdlen);
	}
	return rc;
}

/* rest-json (issue 23): the query string from the query members (values
 * percent-encoded as botocore's percent_encode, "-_.~" unreserved; numbers
 * and booleans as their text), the JSON body from the others. A query
 * member that is not a string, number or boolean is refused. */
static enum fb_err rj_prepare(struct wire_req *w, const struct aws_call *call, struct buf *p,
			      char *err, size_t errlen)
{
	const struct wire_rj *rj = w->rj;
	cJSON *body = NULL;
	const cJSON *it;
	struct buf q;
	enum fb_err rc;
	size_t i;

	rc = buf_puts(p, rj->path);
	buf_init(&q, 4096);
	for (i = 0; !rc && rj->query && rj->query[i]; i += 2) {
		const cJSON *v = call->in ? cJSON_GetObjectItemCaseSensitive(call->in, rj->query[i]) : NULL;
		char num[64];
		const char *t;

		if (!v || cJSON_IsNull(v))
			continue;
		if (cJSON_IsString(v))
			t = v->valuestring;
		else if (cJSON_IsBool(v))
			t = cJSON_IsTrue(v) ? "true" : "false";
		else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
			snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
			t = num;
		} else {
			snprintf(err, errlen, "%.32s %.40s: '%.40s' must be a string or an integer", call->service,
				 call->op, rj->query[i]);
			rc = FB_E_INVALID;
			break;
		}
		if (q.len)
			rc = buf_putc(&q, '&');
		if (!rc)
			rc = buf_printf(&q, "%s=", rj->query[i + 1]);
		if (!rc)
			rc = sigv4_uri_encode(&q, t, strlen(t), 0);
	}
	if (!rc && q.len && !(w->query = buf_detach(&q, NULL)))
		rc = FB_E_NOMEM;
	buf_cleanup(&q);
	/* The body: every input member not in the query. */
	for (it = rc || !call->in ? NULL : call->in->child; it; it = it->next) {
		int in_query = 0;

		for (i = 0; rj->query && rj->query[i]; i += 2)
			if (it->string && strcmp(it->string, rj->query[i]) == 0)
				in_query = 1;
		if (in_query || cJSON_IsNull(it))
			continue;
		if (!rj->body) {
			snprintf(err, errlen, "%.32s %.40s has no member '%.40s'", call->service, call->op,
				 it->string ? it->string : "");
			rc = FB_E_INVALID;
			break;
		}
		if (!body && !(body = cJSON_CreateObject()))
			rc = FB_E_NOMEM;
		if (!rc && !cJSON_AddItemReferenceToObject(body, it->string, (cJSON *)it))
			rc = FB_E_NOMEM;
		if (rc)
			break;
	}
	if (!rc && body) {
		char *json = cJSON_PrintUnformatted(body);

		rc = json ? buf_puts(&w->body, json) : FB_E_NOMEM;
		buf_wipe_free(json); /* as the awsJson body: whatever a caller sends */
	} else if (!rc && rj->body) {
		rc = buf_puts(&w->body, "{}");
	}
	cJSON_Delete(body);
	return rc;
}


/* ---- the request ------------------------------------------------------------- */

enum fb_err wire_resolve(struct wire_req *w, const struct aws_call *call, const char **label,
			 char *err, size_t errlen)
{
	buf_init(&w->body, WIRE_MAX_REQUEST_BYTES);
	*label = NULL;
	if (!call->service || !call->op || !*call->op) {
		snprintf(err, errlen, "call has no service or operation");
		return FB_E_INVALID;
	}
	if (!proto_find(call->service, w)) {
		snprintf(err, errlen, "unknown service '%.32s'", call->service);
		return FB_E_INVALID;
	}
	if (call->in && !cJSON_IsObject(call->in)) {
		snprintf(err, errlen, "call input must be a json object");
		return FB_E_INVALID;
	}
	if (w->proto == WIRE_RESTXML) {
		int s3c = strcmp(call->service, "s3control") == 0;

		w->rx = OP_FIND(rx_ops, call->service, call->op);
		if (s3c && (!w->rx || !rx_account(call, w->account))) {
			snprintf(err, errlen, w->rx ? "s3control %.40s needs AccountId (12 digits)"
						    : "unsupported s3control operation '%.40s'", call->op);
			return FB_E_INVALID;
		}
		if (w->rx && !w->rx->path && (!call->bucket || !*call->bucket)) {
			snprintf(err, errlen, "s3 %.40s needs a bucket", call->op);
			return FB_E_INVALID;
		}
		*label = s3c ? w->account : call->bucket;
	}
	if (w->proto == WIRE_RESTJSON && !(w->rj = OP_FIND(rj_ops, call->service, call->op))) {
		snprintf(err, errlen, "unsupported %.32s operation '%.40s'", call->service, call->op);
		return FB_E_INVALID;
	}
	return FB_OK;
}

/* S3 PutObject, HeadObject, GetObject: /[bucket/]key, the caller's body. */
static enum fb_err s3_object_prepare(struct wire_req *w, const struct aws_call *call, int path_style,
				     struct buf *p, char *err, size_t errlen)
{
	enum fb_err rc = FB_OK;

	w->s3_head = strcmp(call->op, "HeadObject") == 0;
	w->s3_get = strcmp(call->op, "GetObject") == 0;
	if (strcmp(call->op, "PutObject") != 0 && !w->s3_head && !w->s3_get) {
		snprintf(err, errlen, "unsupported s3 operation '%.32s'", call->op);
		return FB_E_INVALID;
	}
	if (!call->bucket || !*call->bucket || !call->key || !*call->key) {
		snprintf(err, errlen, "s3 %s needs a bucket and a key", call->op);
		return FB_E_INVALID;
	}
	if (path_style) {
		rc = buf_putc(p, '/');
		if (!rc)
			rc = sigv4_uri_encode(p, call->bucket, strlen(call->bucket), 0);
	}
	if (!rc)
		rc = buf_putc(p, '/');
	if (!rc)
		rc = sigv4_uri_encode(p, call->key, strlen(call->key), 1);
	/* HEAD and GET send no body, whatever the caller left in the call. */
	w->method = w->s3_head ? "HEAD" : w->s3_get ? "GET" : "PUT";
	w->payload = w->s3_head || w->s3_get ? "" : call->body;
	w->payload_len = w->s3_head || w->s3_get ? 0 : call->body_len;
	return rc;
}

enum fb_err wire_build(struct wire_req *w, const struct aws_call *call, int s3_path_style,
		       struct buf *p, char *err, size_t errlen)
{
	enum fb_err rc = FB_OK;
	char *json;

	w->method = "POST";
	switch (w->proto) {
	case WIRE_JSON:
		rc = buf_putc(p, '/');
		json = call->in ? cJSON_PrintUnformatted(call->in) : strdup("{}");
		if (!json)
			return FB_E_NOMEM;
		if (!rc)
			rc = buf_puts(&w->body, json);
		buf_wipe_free(json); /* a PutSecretValue's SecretString */
		if (!rc && snprintf(w->target, sizeof(w->target), "%s.%s", w->version, call->op) >=
			   (int)sizeof(w->target))
			rc = FB_E_INVALID;
		break;
	case WIRE_QUERY:
	case WIRE_EC2:
		rc = buf_putc(p, '/');
		if (!rc)
			rc = build_query_body(w, call, err, errlen);
		break;
	case WIRE_RESTJSON:
		w->method = w->rj->method;
		rc = rj_prepare(w, call, p, err, errlen);
		break;
	case WIRE_RESTXML:
		if (!w->rx)
			return s3_object_prepare(w, call, s3_path_style, p, err, errlen);
		w->method = w->rx->method;
		rc = rx_prepare(w, call, s3_path_style, p, err, errlen);
		break;
	}
	w->payload = w->body.data ? w->body.data : "";
	w->payload_len = w->body.len;
	return rc;
}

size_t wire_headers(const struct wire_req *w, struct http_header *h, size_t max)
{
	struct http_header all[2];
	size_t n = 0, i;

	switch (w->proto) {
	case WIRE_JSON:
		all[n++] = (struct http_header){ "Content-Type", w->json_type };
		all[n++] = (struct http_header){ "X-Amz-Target", w->target };
		break;
	case WIRE_QUERY:
	case WIRE_EC2:
		all[n++] = (struct http_header){ "Content-Type",
						 "application/x-www-form-urlencoded; charset=utf-8" };
		break;
	case WIRE_RESTJSON:
		/* botocore: application/json when there is a body at all */
		if (w->payload_len)
			all[n++] = (struct http_header){ "Content-Type", "application/json" };
		break;
	case WIRE_RESTXML:
		if (w->rx && w->rx->md5)
			all[n++] = (struct http_header){ "Content-MD5", w->md5_b64 };
		if (w->rx && w->rx->path)
			all[n++] = (struct http_header){ "x-amz-account-id", w->account };
		break;
	}
	for (i = 0; i < n && i < max; i++)
		h[i] = all[i];
	return i;
}

void wire_cleanup(struct wire_req *w)
{
	free(w->query);
	w->query = NULL;
	buf_cleanup(&w->body);
}

/* ---- the answer -------------------------------------------------------------- */

/* Rewrites every "\u0000" escape in a JSON text to "\ufffd" in place (same
 * length): cJSON would end the string at the NUL and lose its tail (aws.h).
 * A backslash starts an escape; the escaped character is skipped whole, so
 * "\\u0000" (an escaped backslash, then text) is left alone. */
static void json_nul_to_fffd(char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
			memcpy(p + i + 2, "fffd", 4);
		i++; /* the escaped character */
	}
}

/* A 2xx from S3 counts only when it is S3's confirmation (aws.h): an ETag,
 * the checksum echoed as sent, no <Error> document. FB_E_AWS with
 * call->err filled otherwise. */
static enum fb_err s3_check_answer(const char *sent_sum, const struct http_response *r,
				   struct aws_call *call)
{
	char v[512];

	if (r->body.len) {
		struct aws_error e;

		memset(&e, 0, sizeof(e));
		wire_parse_error(r, &e);
		if (e.code[0]) {
			buf_copy_str(call->err.code, sizeof(call->err.code), e.code);
			snprintf(call->err.message, sizeof(call->err.message),
				 "s3 answered %s with status %ld and an error document: %.400s", call->op,
				 r->status, e.message);
			return FB_E_AWS;
		}
	}
	if (!http_response_header(r, "ETag", v, sizeof(v)) || !v[0]) {
		buf_copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_INCOMPLETE_ANSWER);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s with status %ld but no ETag: not a confirmation", call->op,
			 r->status);
		return FB_E_AWS;
	}
	if (!sent_sum)
		return FB_OK;
	if (!http_response_header(r, "x-amz-checksum-sha256", v, sizeof(v)) || !v[0]) {
		buf_copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_INCOMPLETE_ANSWER);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s without x-amz-checksum-sha256 (sent '%.64s'): the stored "
			 "object's checksum is not confirmed", call->op, sent_sum);
		return FB_E_AWS;
	}
	if (strcmp(v, sent_sum) != 0) {
		buf_copy_str(call->err.code, sizeof(call->err.code), AWS_CODE_CHECKSUM_MISMATCH);
		snprintf(call->err.message, sizeof(call->err.message),
			 "s3 answered %s with x-amz-checksum-sha256 '%.64s', sent '%.64s'", call->op, v,
			 sent_sum);
		return FB_E_AWS;
	}
	return FB_OK;
}

enum fb_err wire_answer(const struct wire_req *w, struct http_response *r, const char *sent_sum,
			struct aws_call *call)
{
	char err[200];
	enum fb_err rc = FB_OK;

	switch (w->proto) {
	case WIRE_JSON:
	case WIRE_RESTJSON:
		if (r->body.len == 0) {
			call->out = cJSON_CreateObject();
		} else {
			json_nul_to_fffd(r->body.data, r->body.len);
			call->out = cJSON_ParseWithLength(r->body.data, r->body.len);
		}
		if (!call->out) {
			buf_copy_str(call->err.message, sizeof(call->err.message), "cannot parse json answer");
			rc = FB_E_PARSE;
		}
		break;
	case WIRE_QUERY:
	case WIRE_EC2:
		rc = xml_to_json(r->body.data ? r->body.data : "", r->body.len, &call->out, NULL, 0,
				 err, sizeof(err));
		if (rc)
			snprintf(call->err.message, sizeof(call->err.message), "cannot parse xml answer: %s", err);
		break;
	case WIRE_RESTXML: {
		static const char *const map[][2] = {
			{ "ETag", "ETag" },
			{ "x-amz-version-id", "VersionId" },
			{ "x-amz-checksum-sha256", "ChecksumSHA256" },
			{ "x-amz-server-side-encryption", "ServerSideEncryption" },
			{ "x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId" },
		};
		char v[512];
		size_t i;

		if (w->rx) {
			/* The answer is the XML payload, as the query protocol's
			 * (xml.h); no body (Put/Delete) is {}. */
			if (!r->body.len) {
				call->out = cJSON_CreateObject();
				rc = call->out ? FB_OK : FB_E_NOMEM;
			} else {
				rc = xml_to_json(r->body.data, r->body.len, &call->out, NULL, 0, err, sizeof(err));
				if (rc)
					snprintf(call->err.message, sizeof(call->err.message),
						 "cannot parse xml answer: %s", err);
				else if (!cJSON_IsObject(call->out)) {
					/* <PolicyStatus/>: an element with nothing in it */
					cJSON_Delete(call->out);
					call->out = cJSON_CreateObject();
					rc = call->out ? FB_OK : FB_E_NOMEM;
				}
			}
			break;
		}
		rc = s3_check_answer(sent_sum, r, call);
		if (rc) {
			http_response_header(r, "x-amz-request-id", call->err.request_id,
					     sizeof(call->err.request_id));
			return rc;
		}
		call->out = cJSON_CreateObject();
		if (!call->out)
			return FB_E_NOMEM;
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (http_response_header(r, map[i][0], v, sizeof(v)))
				cJSON_AddStringToObject(call->out, map[i][1], v);
		/* HeadObject: the object's size (a HEAD answer has no body, its
		 * Content-Length is the object's). */
		/* GetObject: the object's bytes as a string (text objects: restore.json) */
		if (w->s3_get) {
			char *b = strndup(r->body.data ? r->body.data : "", r->body.len);

			if (!b || memchr(r->body.data ? r->body.data : "", '\0', r->body.len)) {
				free(b);
				buf_copy_str(call->err.message, sizeof(call->err.message),
					 "GetObject: the object is not text");
				return b ? FB_E_PARSE : FB_E_NOMEM;
			}
			cJSON_AddStringToObject(call->out, "Body", b);
			free(b);
		}
		if (w->s3_head && http_response_header(r, "Content-Length", v, sizeof(v))) {
			char *end = NULL;
			unsigned long long n = strtoull(v, &end, 10);

			if (end != v && !*end)
				cJSON_AddNumberToObject(call->out, "ContentLength", (double)n);
		}
		break;
	}
	}
	if (rc == FB_OK &&
	    !http_response_header(r, w->proto == WIRE_RESTXML ? "x-amz-request-id"
								  : "x-amzn-RequestId",
				  call->err.request_id, sizeof(call->err.request_id))) {
		/* query answers carry it in the body (EC2: requestId) */
		const cJSON *v = find_key(call->out, "RequestId", 0);

		if (!v)
			v = find_key(call->out, "requestId", 0);
		if (v)
			buf_copy_str(call->err.request_id, sizeof(call->err.request_id), v->valuestring);
	}
	return rc;
}

void wire_s3_head_error(const struct http_response *r, const char *bucket, const char *region,
			struct aws_error *err)
{
	static const struct {
		long status;
		const char *code, *reason;
	} names[] = {
		{ 301, "PermanentRedirect", "Moved Permanently" },
		{ 307, "TemporaryRedirect", "Temporary Redirect" },
		{ 400, "BadRequest", "Bad Request" },
		{ 403, "AccessDenied", "Forbidden (access denied; also a missing key without s3:ListBucket)" },
		{ 404, "NotFound", "Not Found" },
		{ 405, "MethodNotAllowed", "Method Not Allowed" },
		{ 408, "RequestTimeout", "Request Timeout" },
		{ 409, "Conflict", "Conflict" },
		{ 412, "PreconditionFailed", "Precondition Failed" },
		{ 500, "InternalError", "Internal Server Error" },
		{ 501, "NotImplemented", "Not Implemented" },
		{ 503, "SlowDown", "Service Unavailable (slow down)" },
	};
	const char *reason = NULL;
	char at[64];
	size_t i;

	snprintf(err->code, sizeof(err->code), "%ld", r->status);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == r->status) {
			buf_copy_str(err->code, sizeof(err->code), names[i].code);
			reason = names[i].reason;
		}
	if (reason)
		buf_copy_str(err->message, sizeof(err->message), reason);
	else
		snprintf(err->message, sizeof(err->message), "http status %ld", r->status);
	/* A wrong-region answer names the bucket's region (S3 sends it on
	 * 301 and 400 HEAD answers). */
	if (http_response_header(r, "x-amz-bucket-region", at, sizeof(at)) && at[0] &&
	    strcmp(at, region) != 0)
		snprintf(err->message, sizeof(err->message),
			 "%.40s: bucket '%.63s' is in region '%.63s', not '%.31s'",
			 reason ? reason : "wrong region", bucket, at, region);
}
