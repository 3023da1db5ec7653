/*
 * scan: one pass over a log message finds every watched secret value and
 * every well-known token prefix.
 *
 * Aho-Corasick (CACM 18(6), 1975) turned into a DFA: the goto function and
 * the failure links are folded into one transition table, indexed by byte
 * class (bytes that occur in no pattern share class 0), so the scan is a
 * single table load per input byte, independent of how many secrets are
 * watched. Detector prefixes (AKIA, ghp_, eyJ, ...) live in the same
 * automaton; a prefix hit is then validated at its position.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak.h"
#include "resp.h"

/* 64 MB of transition table at most (states x classes x 4 bytes). */
#define LEAK_AC_MAX_CELLS (16u * 1024u * 1024u)

struct ac_pat {
	unsigned char *p;   /* owned copy, wiped on free */
	size_t n;
	uint32_t tag;
};

struct ac_out {
	uint32_t tag;
	uint32_t len;
	int32_t next;       /* next output of the same state, -1 */
};

struct leak_ac {
	struct ac_pat *pats;
	size_t npats, cappats;
	size_t total;           /* pattern bytes */
	int built;
	unsigned char cls[256];
	size_t nclass;
	uint32_t *delta;        /* nstates * nclass */
	size_t nstates;
	int32_t *out_head;      /* first output of the state itself, -1 */
	int32_t *report;        /* nearest state (self or via failure) with output, -1 */
	int32_t *dict;          /* for a reporting state: next reporting state down its failure chain */
	struct ac_out *outs;
	size_t nouts;
};

struct leak_ac *leak_ac_new(void)
{
	return calloc(1, sizeof(struct leak_ac));
}

enum fb_err leak_ac_add(struct leak_ac *ac, const void *p, size_t n, uint32_t tag)
{
	struct ac_pat *np;

	if (ac->built || n == 0)
		return FB_E_INVALID;
	if (ac->npats >= LEAK_AC_MAX_PATTERNS || ac->total + n + 1 > LEAK_AC_MAX_STATES)
		return FB_E_TOO_LARGE;
	if (ac->npats == ac->cappats) {
		size_t cap = ac->cappats ? ac->cappats * 2 : 64;

		np = realloc(ac->pats, cap * sizeof(*np));
		if (!np)
			return FB_E_NOMEM;
		ac->pats = np;
		ac->cappats = cap;
	}
	np = &ac->pats[ac->npats];
	np->p = malloc(n);
	if (!np->p)
		return FB_E_NOMEM;
	memcpy(np->p, p, n);
	np->n = n;
	np->tag = tag;
	ac->npats++;
	ac->total += n;
	return FB_OK;
}

#define NONE UINT32_MAX
#define AC_OUT 0x80000000u

enum fb_err leak_ac_build(struct leak_ac *ac)
{
	size_t i, j, maxstates = ac->total + 1, head = 0, tail = 0;
	uint32_t *queue = NULL, *fail = NULL;
	enum fb_err rc = FB_E_NOMEM;

	if (ac->built)
		return FB_E_INVALID;
	memset(ac->cls, 0, sizeof(ac->cls));
	ac->nclass = 1;
	for (i = 0; i < ac->npats; i++)
		for (j = 0; j < ac->pats[i].n; j++)
			if (!ac->cls[ac->pats[i].p[j]])
				ac->cls[ac->pats[i].p[j]] = (unsigned char)ac->nclass++;
	if (ac->nclass > 256)
		return FB_E_INVALID; /* cannot happen: 255 bytes + class 0 */
	if (maxstates * ac->nclass > LEAK_AC_MAX_CELLS || maxstates * ac->nclass >= AC_OUT)
		return FB_E_TOO_LARGE;
	ac->delta = malloc(maxstates * ac->nclass * sizeof(*ac->delta));
	ac->out_head = malloc(maxstates * sizeof(*ac->out_head));
	ac->report = malloc(maxstates * sizeof(*ac->report));
	ac->dict = malloc(maxstates * sizeof(*ac->dict));
	ac->outs = malloc((ac->npats ? ac->npats : 1) * sizeof(*ac->outs));
	fail = malloc(maxstates * sizeof(*fail));
	queue = malloc(maxstates * sizeof(*queue));
	if (!ac->delta || !ac->out_head || !ac->report || !ac->dict || !ac->outs || !fail || !queue)
		goto out;
	for (i = 0; i < maxstates * ac->nclass; i++)
		ac->delta[i] = NONE;
	ac->nstates = 1;
	ac->out_head[0] = -1;
	/* the trie (goto function) */
	for (i = 0; i < ac->npats; i++) {
		uint32_t s = 0;

		for (j = 0; j < ac->pats[i].n; j++) {
			uint32_t *t = &ac->delta[(size_t)s * ac->nclass + ac->cls[ac->pats[i].p[j]]];

			if (*t == NONE) {
				*t = (uint32_t)ac->nstates;
				ac->out_head[ac->nstates] = -1;
				ac->nstates++;
			}
			s = *t;
		}
		ac->outs[ac->nouts].tag = ac->pats[i].tag;
		ac->outs[ac->nouts].len = (uint32_t)ac->pats[i].n;
		ac->outs[ac->nouts].next = ac->out_head[s];
		ac->out_head[s] = (int32_t)ac->nouts++;
	}
	/* breadth first: failure links, then missing transitions borrowed from
	 * the failure state (already complete, being shallower) */
	fail[0] = 0;
	ac->report[0] = -1;
	ac->dict[0] = -1;
	for (j = 0; j < ac->nclass; j++) {
		uint32_t *t = &ac->delta[j];

		if (*t == NONE) {
			*t = 0;
		} else {
			fail[*t] = 0;
			queue[tail++] = *t;
		}
	}
	while (head < tail) {
		uint32_t s = queue[head++];

		ac->dict[s] = ac->report[fail[s]];
		ac->report[s] = ac->out_head[s] >= 0 ? (int32_t)s : ac->dict[s];
		for (j = 0; j < ac->nclass; j++) {
			uint32_t *t = &ac->delta[(size_t)s * ac->nclass + j];
			uint32_t f = ac->delta[(size_t)fail[s] * ac->nclass + j];

			if (*t == NONE) {
				*t = f;
			} else {
				fail[*t] = f;
				queue[tail++] = *t;
			}
		}
	}
	/* scan form: each cell holds the next state's row offset, with the top
	 * bit set when that state reports a match (one load per byte, no
	 * multiply, no second lookup on the common path) */
	for (i = 0; i < ac->nstates * ac->nclass; i++) {
		uint32_t t = ac->delta[i];

		ac->delta[i] = (uint32_t)(t * ac->nclass) | (ac->report[t] >= 0 ? AC_OUT : 0);
	}
	ac->built = 1;
	/* the DFA is all we need: the plain copies of the secrets go now */
	for (i = 0; i < ac->npats; i++) {
		explicit_bzero(ac->pats[i].p, ac->pats[i].n);
		free(ac->pats[i].p);
		ac->pats[i].p = NULL;
		ac->pats[i].n = 0;
	}
	rc = FB_OK;
out:
	free(fail);
	free(queue);
	return rc;
}

void leak_ac_scan(const struct leak_ac *ac, const char *s, size_t n, leak_ac_cb cb, void *ud)
{
	const uint32_t *delta = ac->delta;
	const unsigned char *cls = ac->cls;
	const unsigned char *p = (const unsigned char *)s;
	size_t i, nc = ac->nclass;
	uint32_t row = 0;

	if (!ac->built || !ac->npats)
		return;
	for (i = 0; i < n; i++) {
		uint32_t cell = delta[row + cls[p[i]]];

		row = cell & ~AC_OUT;
		if (cell & AC_OUT) {
			int32_t t = ac->report[row / nc];

			while (t >= 0) {
				int32_t o;

				for (o = ac->out_head[t]; o >= 0; o = ac->outs[o].next)
					if (cb(ud, ac->outs[o].tag, i + 1, ac->outs[o].len))
						return;
				t = ac->dict[t];
			}
		}
	}
}

size_t leak_ac_states(const struct leak_ac *ac)
{
	return ac ? ac->nstates : 0;
}

void leak_ac_free(struct leak_ac *ac)
{
	size_t i;

	if (!ac)
		return;
	for (i = 0; i < ac->npats; i++) {
		if (ac->pats[i].p)
			explicit_bzero(ac->pats[i].p, ac->pats[i].n);
		free(ac->pats[i].p);
	}
	free(ac->pats);
	if (ac->delta)
		explicit_bzero(ac->delta, ac->nstates * ac->nclass * sizeof(*ac->delta));
	free(ac->delta);
	free(ac->out_head);
	free(ac->report);
	free(ac->dict);
	free(ac->outs);
	explicit_bzero(ac, sizeof(*ac));
	free(ac);
}

/* ---- the scanner -------------------------------------------------------------------- */

const char *leak_kind_name(enum leak_kind k)
{
	switch (k) {
	case LEAK_SECRET: return "watched-secret";
	case LEAK_AWS_KEY_ID: return "aws-access-key-id";
	case LEAK_AWS_SECRET: return "aws-secret-access-key";
	case LEAK_GITHUB: return "github-token";
	case LEAK_SLACK: return "slack-token";
	case LEAK_STRIPE: return "stripe-key";
	case LEAK_PEM: return "pem-private-key";
	case LEAK_JWT: return "jwt";
	case LEAK_NKINDS: break;
	}
	return "unknown";
}

static const struct {
	const char *prefix;
	enum leak_kind kind;
} detectors[] = {
	{ "AKIA", LEAK_AWS_KEY_ID }, { "ASIA", LEAK_AWS_KEY_ID },
	{ "ghp_", LEAK_GITHUB }, { "gho_", LEAK_GITHUB }, { "ghu_", LEAK_GITHUB },
	{ "ghs_", LEAK_GITHUB }, { "ghr_", LEAK_GITHUB }, { "github_pat_", LEAK_GITHUB },
	{ "xoxb-", LEAK_SLACK }, { "xoxp-", LEAK_SLACK }, { "xoxa-", LEAK_SLACK },
	{ "xoxr-", LEAK_SLACK }, { "xoxs-", LEAK_SLACK },
	{ "sk_live_", LEAK_STRIPE }, { "rk_live_", LEAK_STRIPE },
	{ "-----BEGIN ", LEAK_PEM },
	{ "eyJ", LEAK_JWT },
};

enum fb_err leak_scanner_init(struct leak_scanner *sc)
{
	size_t i;
	enum fb_err rc;

	memset(sc, 0, sizeof(*sc));
	sc->ac = leak_ac_new();
	if (!sc->ac)
		return FB_E_NOMEM;
	for (i = 0; i < sizeof(detectors) / sizeof(detectors[0]); i++) {
		rc = leak_ac_add(sc->ac, detectors[i].prefix, strlen(detectors[i].prefix),
				 LEAK_TAG_DETECTOR | (uint32_t)detectors[i].kind);
		if (rc != FB_OK)
			return rc;
	}
	return FB_OK;
}

enum fb_err leak_scanner_add_value(struct leak_scanner *sc, const char *v, size_t n,
				   uint32_t value_index)
{
	enum fb_err rc;

	if (n < LEAK_MIN_SECRET)
		return FB_OK;
	if (value_index >= LEAK_TAG_DETECTOR)
		return FB_E_INVALID;
	rc = leak_ac_add(sc->ac, v, n, value_index);
	if (rc == FB_OK)
		sc->nvalues++;
	return rc;
}

enum fb_err leak_scanner_build(struct leak_scanner *sc)
{
	return leak_ac_build(sc->ac);
}

void leak_scanner_cleanup(struct leak_scanner *sc)
{
	leak_ac_free(sc->ac);
	memset(sc, 0, sizeof(*sc));
}

/* ---- detectors ------------------------------------------------------------------------ */

static int is_b32(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

static int is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

static int is_b64(unsigned char c)
{
	return isalnum(c) || c == '/' || c == '+';
}

static int is_b64url(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static size_t run(const char *s, size_t n, size_t at, int (*cls)(unsigned char))
{
	size_t i = at;

	while (i < n && cls((unsigned char)s[i]))
		i++;
	return i - at;
}

static int alnum_only(unsigned char c)
{
	return isalnum(c);
}

static int slack_char(unsigned char c)
{
	return isalnum(c) || c == '-';
}

/* AKIA/ASIA + exactly 16 of [A-Z2-7], not inside a longer word. */
int leak_is_key_id(const char *s, size_t n, size_t at)
{
	size_t i;

	if (at + 20 > n || (at > 0 && isalnum((unsigned char)s[at - 1])))
		return 0;
	if (memcmp(s + at, "AKIA", 4) && memcmp(s + at, "ASIA", 4))
		return 0;
	for (i = at + 4; i < at + 20; i++)
		if (!is_b32((unsigned char)s[i]))
			return 0;
	return at + 20 == n || !isalnum((unsigned char)s[at + 20]);
}

/* What counts as an AWS secret access key next to a key id (README "What
 * it looks for"). A secret access key is 40 characters of base64's
 * alphabet [A-Za-z0-9/+] drawn at random, so a candidate must be:
 *  - a run of exactly 40 of those characters, not a slice of a longer
 *    token: the byte before it is not one of [_%-] (base64url, a URL
 *    escape), the byte after it not one of [_%=-] ('=' is base64 padding:
 *    the run is then the tail of a longer encoded blob);
 *  - upper case, lower case and a digit or '/' or '+' (a hex digest such as
 *    SigV4's Signature= is one case and 64 long; a camel-case word has no
 *    digit);
 *  - at least LEAK_SECRET_MIN_DISTINCT different characters: 40 random
 *    draws from 64 give about 30 (fewer than 20 is > 4 standard deviations
 *    out), while a path such as com/amazonaws/services/s3/AmazonS3Client
 *    repeats its letters (19).
 * A URL-encoded session token (%2F, %2B) is cut at each escape, so its
 * pieces are refused by the '%' rule. */
#define LEAK_SECRET_MIN_DISTINCT 20

static int token_cont(unsigned char c, int right)
{
	return c == '_' || c == '-' || c == '%' || (right && c == '=');
}

int leak_is_secret_key(const char *s, size_t n, size_t at)
{
	unsigned char seen[256] = { 0 };
	int up = 0, lo = 0, dig = 0;
	size_t k, distinct = 0;

	if (at + 40 > n || run(s, n, at, is_b64) != 40)
		return 0;
	if (at > 0 && (is_b64((unsigned char)s[at - 1]) || token_cont((unsigned char)s[at - 1], 0)))
		return 0;
	if (at + 40 < n && token_cont((unsigned char)s[at + 40], 1))
		return 0;
	for (k = at; k < at + 40; k++) {
		unsigned char c = (unsigned char)s[k];

		up |= isupper(c) != 0;
		lo |= islower(c) != 0;
		dig |= isdigit(c) || c == '/' || c == '+';
		if (!seen[c]++)
			distinct++;
	}
	return up && lo && dig && distinct >= LEAK_SECRET_MIN_DISTINCT;
}

/* The first secret access key candidate starting in [from, to). */
static int find_secret_key(const char *s, size_t n, size_t from, size_t to, size_t *off)
{
	size_t i = from;

	/* a run that starts before the window is not cut into one */
	while (i > 0 && i < n && is_b64((unsigned char)s[i]) && is_b64((unsigned char)s[i - 1]))
		i++;
	while (i < to) {
		size_t r;

		if (!is_b64((unsigned char)s[i])) {
			i++;
			continue;
		}
		r = run(s, n, i, is_b64);
		if (leak_is_secret_key(s, n, i)) {
			*off = i;
			return 1;
		}
		i += r;
	}
	return 0;
}

static const char *memfind(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);

	if (nn > hn)
		return NULL;
	return memmem(h, hn, needle, nn);
}

/* Validates a detector prefix found at `at`; sets the token's length. */
static int detect(enum leak_kind k, const char *s, size_t n, size_t at, size_t plen, size_t *len)
{
	size_t r;

	if (k != LEAK_PEM && at > 0 && is_word((unsigned char)s[at - 1]))
		return 0;
	switch (k) {
	case LEAK_AWS_KEY_ID:
		*len = 20;
		return leak_is_key_id(s, n, at);
	case LEAK_GITHUB:
		if (plen == 4) {
			r = run(s, n, at + plen, alnum_only);
			*len = plen + r;
			return r >= 36 && r <= 251;
		}
		r = run(s, n, at + plen, is_word);
		*len = plen + r;
		return r >= 22;
	case LEAK_SLACK:
		r = run(s, n, at + plen, slack_char);
		*len = plen + r;
		return r >= 10;
	case LEAK_STRIPE:
		r = run(s, n, at + plen, alnum_only);
		*len = plen + r;
		return r >= 16;
	case LEAK_PEM: {
		/* "-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED ]PRIVATE KEY-----" on one
		 * line; the hit runs to the matching END line, or to the end of the
		 * message (the key body follows the header) */
		size_t lim = n - at < 80 ? n - at : 80;
		const char *hdr = memfind(s + at, lim, "PRIVATE KEY-----");
		const char *nl = memchr(s + at, '\n', lim);
		const char *end;

		if (!hdr || (nl && nl < hdr))
			return 0;
		end = memfind(hdr + 16, n - (size_t)(hdr + 16 - s), "PRIVATE KEY-----");
		*len = end ? (size_t)(end + 16 - (s + at)) : n - at;
		return 1;
	}
	case LEAK_JWT: {
		size_t p = at + 3;

		r = run(s, n, p, is_b64url);
		if (r < 8 || p + r + 4 > n || s[p + r] != '.' || memcmp(s + p + r + 1, "eyJ", 3))
			return 0;
		p += r + 1;
		r = run(s, n, p, is_b64url);
		if (r < 8 || p + r >= n || s[p + r] != '.')
			return 0;
		p += r + 1;
		p += run(s, n, p, is_b64url);
		*len = p - at;
		return 1;
	}
	case LEAK_SECRET:
	case LEAK_AWS_SECRET:
	case LEAK_NKINDS:
		break;
	}
	return 0;
}

struct scan_ctx {
	const char *msg;
	size_t n;
	struct leak_hit *hits;
	size_t nhits, max;
	const char (*skip)[21];  /* key ids that are not hits here */
	size_t nskip;
};

static int skipped_id(const struct scan_ctx *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nskip; i++)
		if (!memcmp(c->skip[i], id, 20))
			return 1;
	return 0;
}

static int scan_cb(void *ud, uint32_t tag, size_t end, size_t len)
{
	struct scan_ctx *c = ud;
	struct leak_hit h;

	memset(&h, 0, sizeof(h));
	h.off = end - len;
	if (tag & LEAK_TAG_DETECTOR) {
		h.kind = (enum leak_kind)(tag & ~LEAK_TAG_DETECTOR);
		if (!detect(h.kind, c->msg, c->n, h.off, len, &h.len))
			return 0;
		if (h.kind == LEAK_AWS_KEY_ID && skipped_id(c, c->msg + h.off))
			return 0;
	} else {
		h.kind = LEAK_SECRET;
		h.value = tag;
		h.len = len;
	}
	if (c->nhits == c->max)
		return 1;
	c->hits[c->nhits++] = h;
	return 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct leak_hit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

size_t leak_scan(const struct leak_scanner *sc, const char *msg, size_t n,
		 struct leak_hit *hits, size_t max)
{
	return leak_scan_skip(sc, msg, n, hits, max, NULL, 0);
}

size_t leak_scan_skip(const struct leak_scanner *sc, const char *msg, size_t n,
		      struct leak_hit *hits, size_t max, const char (*skip)[21], size_t nskip)
{
	struct scan_ctx c = { msg, n, hits, 0, max, skip, nskip };
	size_t i, nkeys, w;

	leak_ac_scan(sc->ac, msg, n, scan_cb, &c);
	/* a secret access key near each key id */
	nkeys = c.nhits;
	for (i = 0; i < nkeys && c.nhits < max; i++) {
		struct leak_hit *k = &c.hits[i];
		size_t from, to, off;

		if (k->kind != LEAK_AWS_KEY_ID)
			continue;
		from = k->off > LEAK_KEY_SECRET_WINDOW ? k->off - LEAK_KEY_SECRET_WINDOW : 0;
		to = k->off + k->len + LEAK_KEY_SECRET_WINDOW;
		if (to > n)
			to = n;
		/* every candidate in the window: each is redacted in excerpts,
		 * and each is tried as the key's secret (a fake one beside the
		 * real one must not shadow it) */
		while (c.nhits < max && find_secret_key(msg, n, from, to, &off)) {
			struct leak_hit h;
			size_t j;
			int dup = 0;

			k->near_secret = 1;
			from = off + 40;
			for (j = nkeys; j < c.nhits; j++)
				dup |= c.hits[j].off == off;
			if (dup)
				continue;
			memset(&h, 0, sizeof(h));
			h.kind = LEAK_AWS_SECRET;
			h.off = off;
			h.len = 40;
			c.hits[c.nhits++] = h;
		}
	}
	qsort(c.hits, c.nhits, sizeof(*c.hits), hit_cmp);
	/* a detector hit inside an earlier hit of the same kind is the same
	 * token (a JWT's payload also starts with eyJ) */
	for (i = 0, w = 0; i < c.nhits; i++) {
		size_t j;
		int inside = 0;

		for (j = 0; j < w && !inside; j++)
			inside = c.hits[i].kind != LEAK_SECRET && hits[j].kind == c.hits[i].kind &&
				 c.hits[i].off >= hits[j].off &&
				 c.hits[i].off + c.hits[i].len <= hits[j].off + hits[j].len;
		if (!inside)
			hits[w++] = c.hits[i];
	}
	return w;
}

/* ---- excerpts ---------------------------------------------------------------------------- */

static enum fb_err put_plain(struct buf *out, const char *s, size_t n)
{
	size_t i;
	enum fb_err rc = FB_OK;

	for (i = 0; i < n && rc == FB_OK; i++) {
		unsigned char c = (unsigned char)s[i];

		rc = buf_putc(out, (c < 0x20 || c > 0x7e) ? '?' : (char)c);
	}
	return rc;
}

enum fb_err leak_excerpt(const char *msg, size_t n, const struct leak_hit *hits, size_t nhits,
			 size_t which, struct buf *out)
{
	const struct leak_hit *h = &hits[which];
	size_t start = h->off > LEAK_EXCERPT_CONTEXT ? h->off - LEAK_EXCERPT_CONTEXT : 0;
	size_t end = h->off + h->len + LEAK_EXCERPT_CONTEXT, pos, i;
	enum fb_err rc = FB_OK;

	if (end > n)
		end = n;
	/* a hit straddling the window's start is redacted whole, from its start */
	for (i = 0; i < nhits; i++)
		if (hits[i].off < start && hits[i].off + hits[i].len > start)
			start = hits[i].off;
	if (start > 0)
		rc = buf_puts(out, "...");
	pos = start;
	for (i = 0; i < nhits && rc == FB_OK; i++) {
		char fp[RESP_FP_LEN];
		size_t hend = hits[i].off + hits[i].len;

		if (hend <= pos)
			continue;
		if (hits[i].off >= end)
			break;
		if (hits[i].off > pos)
			rc = put_plain(out, msg + pos, hits[i].off - pos);
		resp_fingerprint(msg + hits[i].off, hits[i].len, fp);
		if (rc == FB_OK)
			rc = buf_printf(out, "[%s:%s]", leak_kind_name(hits[i].kind), fp);
		pos = hend > pos ? hend : pos;
		if (pos > end)
			end = pos;
	}
	if (rc == FB_OK && end > pos)
		rc = put_plain(out, msg + pos, end - pos);
	if (rc == FB_OK && end < n)
		rc = buf_puts(out, "...");
	return rc;
}

/* ---- secret values ------------------------------------------------------------------------- */

enum fb_err leak_secret_values(const char *secret, size_t n, leak_value_cb cb, void *ud,
			       size_t *count)
{
	cJSON *doc = cJSON_ParseWithLength(secret, n), *it;
	enum fb_err rc = FB_OK;

	*count = 0;
	if (cJSON_IsObject(doc)) {
		cJSON_ArrayForEach(it, doc) {
			size_t len;

			if (!cJSON_IsString(it) || !it->valuestring)
				continue;
			len = strlen(it->valuestring);
			if (len < LEAK_MIN_SECRET)
				continue;
			rc = cb(ud, it->valuestring, len, it->string);
			if (rc != FB_OK)
				break;
			(*count)++;
		}
	} else if (n >= LEAK_MIN_SECRET) {
		rc = cb(ud, secret, n, NULL);
		if (rc == FB_OK)
			(*count)++;
	}
	if (doc) {
		buf_cjson_wipe(doc);
		cJSON_Delete(doc);
	}
	return rc;
}
