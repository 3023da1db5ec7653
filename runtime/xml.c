#include "xml.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The parse builds a small tree first: whether an element is a list, a
 * map or an object is only known once all its children have been seen. */
struct xnode {
	char *name;
	struct buf text;
	struct xnode *parent, *first, *last, *next;
	size_t nchildren;
};

struct xparse {
	XML_Parser p;
	struct xnode *root, *cur;
	int depth;
	size_t nodes;
	enum fb_err rc;
	char *err;
	size_t errlen;
};

/*
 * Expat copies the document into its own buffer (XML_Parse with context
 * bytes) and its name/attribute pools, and an STS AssumeRole answer holds a
 * session's SecretAccessKey and SessionToken. Its allocations go through
 * these: wiped before they are freed, and grown by malloc + copy + wipe
 * instead of realloc (a moved block is freed unwiped): buf's wiping
 * allocator.
 */
static const XML_Memory_Handling_Suite xml_mem = { malloc, buf_wipe_realloc, buf_wipe_free };

static void xnode_free(struct xnode *n)
{
	/* Iterative over siblings, recursive over depth (capped). */
	while (n) {
		struct xnode *next = n->next;

		xnode_free(n->first);
		free(n->name);
		buf_cleanup(&n->text);
		free(n);
		n = next;
	}
}

static void xfail(struct xparse *x, enum fb_err rc, const char *msg)
{
	if (x->rc == FB_OK) {
		x->rc = rc;
		if (x->err && x->errlen)
			snprintf(x->err, x->errlen, "%s", msg);
	}
	XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xparse *x = ud;
	struct xnode *n;

	(void)attrs;
	if (x->rc)
		return;
	if (x->depth >= XML_MAX_DEPTH) {
		xfail(x, FB_E_TOO_LARGE, "xml nesting deeper than the limit");
		return;
	}
	if (++x->nodes > XML_MAX_NODES) {
		xfail(x, FB_E_TOO_LARGE, "xml has more elements than the limit");
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		xfail(x, FB_E_NOMEM, "out of memory parsing xml");
		return;
	}
	/* Text is bounded by the input, which the caller already capped. */
	buf_init(&n->text, (size_t)-1 / 2);
	n->parent = x->cur;
	if (x->cur) {
		if (x->cur->last)
			x->cur->last->next = n;
		else
			x->cur->first = n;
		x->cur->last = n;
		x->cur->nchildren++;
	} else {
		x->root = n;
	}
	x->cur = n;
	x->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xparse *x = ud;

	(void)name;
	if (x->rc || !x->cur)
		return;
	x->cur = x->cur->parent;
	x->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xparse *x = ud;

	if (x->rc || !x->cur || len <= 0)
		return;
	if (buf_append(&x->cur->text, s, (size_t)len) != FB_OK)
		xfail(x, FB_E_NOMEM, "out of memory parsing xml");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	(void)name; (void)sysid; (void)pubid; (void)has_internal;
	/* AWS never sends a DOCTYPE; refusing it rules out entity tricks. */
	xfail(ud, FB_E_PARSE, "xml with a doctype refused");
}

static int all_children_named(const struct xnode *n, const char *name)
{
	const struct xnode *c;

	for (c = n->first; c; c = c->next)
		if (strcmp(c->name, name) != 0)
			return 0;
	return 1;
}

static const struct xnode *child(const struct xnode *n, const char *name)
{
	const struct xnode *c;

	for (c = n->first; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int is_map(const struct xnode *n)
{
	const struct xnode *c;

	if (!all_children_named(n, "entry"))
		return 0;
	for (c = n->first; c; c = c->next)
		if (!child(c, "key") || !child(c, "value") || child(c, "key")->first)
			return 0;
	return 1;
}

static cJSON *convert(const struct xnode *n);

/* Adds `v` under `name`, turning a repeated name into an array. */
static int add_member(cJSON *obj, const char *name, cJSON *v)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);
	cJSON *arr;

	if (!old)
		return cJSON_AddItemToObject(obj, name, v) ? 1 : 0;
	if (cJSON_IsArray(old))
		return cJSON_AddItemToArray(old, v) ? 1 : 0;
	arr = cJSON_CreateArray();
	if (!arr)
		return 0;
	cJSON_DetachItemViaPointer(obj, old);
	cJSON_AddItemToArray(arr, old);
	cJSON_AddItemToArray(arr, v);
	cJSON_AddItemToObject(obj, name, arr);
	return 1;
}

static cJSON *convert(const struct xnode *n)
{
	const struct xnode *c;
	cJSON *v, *item;

	if (!n->first)
		return cJSON_CreateString(n->text.data ? n->text.data : "");
	if (all_children_named(n, "member") || all_children_named(n, "item")) {
		v = cJSON_CreateArray();
		for (c = n->first; v && c; c = c->next) {
			item = convert(c);
			if (!item) {
				cJSON_Delete(v);
				return NULL;
			}
			cJSON_AddItemToArray(v, item);
		}
		return v;
	}
	v = cJSON_CreateObject();
	if (v && is_map(n)) {
		for (c = n->first; c; c = c->next) {
			const struct xnode *k = child(c, "key");

			item = convert(child(c, "value"));
			if (!item || !add_member(v, k->text.data ? k->text.data : "", item)) {
				cJSON_Delete(item);
				cJSON_Delete(v);
				return NULL;
			}
		}
		return v;
	}
	for (c = n->first; v && c; c = c->next) {
		item = convert(c);
		if (!item || !add_member(v, c->name, item)) {
			cJSON_Delete(item);
			cJSON_Delete(v);
			return NULL;
		}
	}
	return v;
}

enum fb_err xml_to_json(const char *xml, size_t len, cJSON **out,
			char *root_name, size_t root_len,
			char *err, size_t errlen)
{
	struct xparse x;
	enum fb_err rc;

	*out = NULL;
	if (root_name && root_len)
		root_name[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (len > (size_t)0x7fffffff)
		return FB_E_TOO_LARGE;
	memset(&x, 0, sizeof(x));
	x.err = err;
	x.errlen = errlen;
	x.p = XML_ParserCreate_MM("UTF-8", &xml_mem, NULL);
	if (!x.p)
		return FB_E_NOMEM;
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, on_start, on_end);
	XML_SetCharacterDataHandler(x.p, on_text);
	XML_SetStartDoctypeDeclHandler(x.p, on_doctype);
	if (XML_Parse(x.p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR && x.rc == FB_OK) {
		x.rc = FB_E_PARSE;
		if (err && errlen)
			snprintf(err, errlen, "cannot parse xml at line %lu: %s",
				 (unsigned long)XML_GetCurrentLineNumber(x.p),
				 XML_ErrorString(XML_GetErrorCode(x.p)));
	}
	rc = x.rc;
	if (rc == FB_OK && !x.root) {
		rc = FB_E_PARSE;
		if (err && errlen)
			snprintf(err, errlen, "xml has no root element");
	}
	if (rc == FB_OK) {
		*out = convert(x.root);
		if (!*out)
			rc = FB_E_NOMEM;
		else if (root_name && root_len)
			snprintf(root_name, root_len, "%s", x.root->name);
	}
	XML_ParserFree(x.p);
	xnode_free(x.root);
	return rc;
}
