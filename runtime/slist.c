/* slist: owned string lists from comma-separated settings (slist.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit.h"
#include "slist.h"

enum fb_err slist_add(struct slist *l, const char *s)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (!nv)
		return FB_E_NOMEM;
	l->v = nv;
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return FB_E_NOMEM;
	l->n++;
	return FB_OK;
}

void slist_free(struct slist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

enum fb_err slist_parse(const char *s, struct slist *l)
{
	/* Lambda's environment holds 4 KB in all: no item reaches the cap */
	char item[4097];

	memset(l, 0, sizeof(*l));
	while (s && kit_list_next(&s, item, sizeof(item)) > 0)
		if (slist_add(l, item) != FB_OK)
			return FB_E_NOMEM;
	return FB_OK;
}

enum fb_err slist_env(const char *name, const char *dflt, struct slist *l)
{
	const char *v = getenv(name);

	return slist_parse(v ? v : dflt, l);
}

int slist_has_nocase(const struct slist *l, const char *s)
{
	size_t i;

	for (i = 0; s && l && i < l->n; i++)
		if (!strcasecmp(s, l->v[i]))
			return 1;
	return 0;
}
