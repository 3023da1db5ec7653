/*
 * fuzz_xml: runtime/xml.c, the expat-based reader of every query/EC2/S3 XML
 * answer (hostile bodies: DOCTYPE, deep nesting, node floods, bad UTF-8).
 * Checks beyond "no crash": a success gives a tree that prints, and the
 * root name is NUL-terminated within its buffer.
 */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "fuzz_common.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *out = NULL;
	char root[64], err[200];
	enum fb_err rc;

	memset(root, 'x', sizeof(root));
	rc = xml_to_json((const char *)data, size, &out, root, sizeof(root), err, sizeof(err));
	if (rc == FB_OK) {
		char *s;

		if (!out)
			abort(); /* success must give a tree */
		if (!memchr(root, '\0', sizeof(root)))
			abort();
		s = cJSON_PrintUnformatted(out);
		free(s);
		cJSON_Delete(out);
	} else {
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		cJSON_Delete(out);
	}
	/* and without the optional outputs */
	out = NULL;
	if (xml_to_json((const char *)data, size, &out, NULL, 0, NULL, 0) == FB_OK)
		cJSON_Delete(out);
	return 0;
}
