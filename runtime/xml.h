/*
 * xml: AWS XML answers (query, ec2, rest-xml) into cJSON with expat.
 *
 * No schema is available at run time, so the shape comes from the XML:
 *  - an element with only text (or nothing) becomes a string ("" if empty);
 *  - an element with child elements becomes an object; text between
 *    children is ignored, attributes (xmlns) are ignored;
 *  - an element whose children are all named "member" or "item" (the list
 *    wrappers of the query and EC2 protocols) becomes an array of them;
 *  - an element whose children are all "entry" elements holding "key" and
 *    "value" (the query protocol's map, e.g. IAM SummaryMap) becomes an
 *    object key -> value;
 *  - a child name that repeats in an object (a flattened list) turns that
 *    member into an array in document order.
 * The root element's own name is dropped: the result is the object (or
 * string) the root element became.
 *
 * An empty list wrapper (<groupSet/>) becomes "" because nothing says it
 * is a list; cJSON_ArrayForEach over a string visits nothing, so iterating
 * works either way.
 *
 * DOCTYPE declarations are refused (no entity expansion at all), depth is
 * capped at XML_MAX_DEPTH and the node count at XML_MAX_NODES, so a
 * hostile body cannot exhaust memory or the stack.
 */
#ifndef FB_XML_H
#define FB_XML_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "fb_err.h"

#define XML_MAX_DEPTH 64
#define XML_MAX_NODES 200000

/* Parses (xml, len). On success *out is owned by the caller
 * (cJSON_Delete). On failure returns FB_E_PARSE (or FB_E_TOO_LARGE,
 * FB_E_NOMEM) and, when err is non-NULL, a message in err. *root_name, if
 * non-NULL, receives the root element name (up to root_len - 1 bytes). */
enum fb_err xml_to_json(const char *xml, size_t len, cJSON **out,
			char *root_name, size_t root_len,
			char *err, size_t errlen);

#endif
