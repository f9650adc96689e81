/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route matcher, built by the agent (control-agent/compile/rmatch_build.c)
 * and looked up as a worker does (dataplane/proxy/rmatch.c): a precedence and
 * semantics table (each row a request and the route it must get), refused
 * regexes and their messages, the database cache, and a randomized
 * cross-check against a linear reference written here from Istio's and
 * Envoy's documentation, with PCRE2 for regexes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hf_test.h"
#include "control-agent/compile/rmatch_build.h"
#include "dataplane/proxy/rmatch.h"

/* ---- route tables from a compact notation ----
 *
 * A route is its blocks joined by " || "; "" is a route without blocks. A
 * block is conditions separated by spaces:
 *   uri=K:V method=K:V authority=K:V scheme=K:V   K: exact, prefix, regex
 *   icase                                         ignoreUriCase
 *   port=N
 *   h.NAME=K:V  !h.NAME=K:V  q.NAME=K:V           K also present; "={}" is {}
 */

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n == 0 ? 1 : n, sz);

	assert_non_null(p);
	return p;
}

static enum hf_match_kind
kind_of(const char *k, size_t n)
{
	if (n == 5 && strncmp(k, "exact", 5) == 0)
		return HF_MATCH_EXACT;
	if (n == 6 && strncmp(k, "prefix", 6) == 0)
		return HF_MATCH_PREFIX;
	if (n == 5 && strncmp(k, "regex", 5) == 0)
		return HF_MATCH_REGEX;
	fail_msg("bad kind %.*s", (int)n, k);
	return HF_MATCH_ANY;
}

static void
parse_str(const char *v, struct hf_model_str_match *s)
{
	const char *colon;

	if (strcmp(v, "{}") == 0) {
		s->kind = HF_MATCH_ANY;
		return;
	}
	if (strcmp(v, "present") == 0) {
		s->kind = HF_MATCH_PRESENT;
		return;
	}
	colon = strchr(v, ':');
	assert_non_null(colon);
	s->kind = kind_of(v, (size_t)(colon - v));
	s->value = strdup(colon + 1);
}

static void
parse_block(char *text, struct hf_model_route_match *mm)
{
	char *save = NULL;

	mm->headers = xcalloc(8, sizeof(*mm->headers));
	mm->query = xcalloc(8, sizeof(*mm->query));
	for (char *tok = strtok_r(text, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (strcmp(tok, "icase") == 0) {
			mm->uri.ignore_case = true;
			continue;
		}
		assert_non_null(eq);
		*eq = '\0';
		if (strcmp(tok, "uri") == 0)
			parse_str(eq + 1, &mm->uri);
		else if (strcmp(tok, "method") == 0)
			parse_str(eq + 1, &mm->method);
		else if (strcmp(tok, "authority") == 0)
			parse_str(eq + 1, &mm->authority);
		else if (strcmp(tok, "scheme") == 0)
			parse_str(eq + 1, &mm->scheme);
		else if (strcmp(tok, "port") == 0)
			mm->port = (uint32_t)atoi(eq + 1);
		else if (strncmp(tok, "h.", 2) == 0 || strncmp(tok, "!h.", 3) == 0) {
			struct hf_model_kv_match *kv = &mm->headers[mm->n_headers++];

			kv->absent = tok[0] == '!';
			kv->name = strdup(tok + (kv->absent ? 3 : 2));
			parse_str(eq + 1, &kv->m);
		} else if (strncmp(tok, "q.", 2) == 0) {
			struct hf_model_kv_match *kv = &mm->query[mm->n_query++];

			kv->name = strdup(tok + 2);
			parse_str(eq + 1, &kv->m);
		} else {
			fail_msg("bad condition %s", tok);
		}
	}
}

static void
parse_route(const char *spec, struct hf_model_route *r)
{
	char *copy = strdup(spec), *p = copy;

	memset(r, 0, sizeof(*r));
	if (spec[0] == '\0') {
		free(copy);
		return;
	}
	r->matches = xcalloc(8, sizeof(*r->matches));
	for (;;) {
		char *bar = strstr(p, " || ");

		if (bar != NULL)
			*bar = '\0';
		parse_block(p, &r->matches[r->n_matches++]);
		if (bar == NULL)
			break;
		p = bar + 4;
	}
	free(copy);
}

static void
free_str(struct hf_model_str_match *s)
{
	free(s->value);
}

static void
free_routes(struct hf_model_route *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int b = 0; b < r[i].n_matches; b++) {
			struct hf_model_route_match *mm = &r[i].matches[b];

			free_str(&mm->uri);
			free_str(&mm->method);
			free_str(&mm->authority);
			free_str(&mm->scheme);
			for (unsigned int k = 0; k < mm->n_headers; k++) {
				free(mm->headers[k].name);
				free_str(&mm->headers[k].m);
			}
			for (unsigned int k = 0; k < mm->n_query; k++) {
				free(mm->query[k].name);
				free_str(&mm->query[k].m);
			}
			free(mm->headers);
			free(mm->query);
		}
		free(r[i].matches);
		free(r[i].name);
	}
	free(r);
}

static struct hf_model_route *
parse_table(const char *const *specs, unsigned int n)
{
	struct hf_model_route *r = xcalloc(n, sizeof(*r));

	for (unsigned int i = 0; i < n; i++)
		parse_route(specs[i], &r[i]);
	return r;
}

/* ---- requests ---- */

struct request {
	char buf[4096];
	struct hf_h1_message msg;
};

/* "METHOD TARGET" and header lines joined by '\n'; no Host line → HTTP/1.0. */
static void
make_request(struct request *rq, const char *line, const char *headers)
{
	struct hf_h1_limits lim;
	struct hf_h1_scan scan;
	size_t n;
	int rc;

	n = (size_t)snprintf(rq->buf, sizeof(rq->buf), "%s HTTP/1.%c\r\n", line,
	                     headers != NULL && strcasestr(headers, "host:") != NULL ? '1' : '0');
	for (const char *h = headers; h != NULL && *h != '\0';) {
		const char *nl = strchr(h, '\n');
		size_t l = nl != NULL ? (size_t)(nl - h) : strlen(h);

		n += (size_t)snprintf(rq->buf + n, sizeof(rq->buf) - n, "%.*s\r\n", (int)l, h);
		h += l + (nl != NULL);
	}
	n += (size_t)snprintf(rq->buf + n, sizeof(rq->buf) - n, "\r\n");
	hf_h1_limits_default(&lim);
	hf_h1_scan_reset(&scan);
	rc = hf_h1_parse_request(rq->buf, n, &scan, &lim, &rq->msg);
	if (rc <= 0)
		fail_msg("request refused (%d): %s", rc, rq->buf);
}

static struct hf_rmatch *
build(const struct hf_model_route *r, unsigned int n, hs_scratch_t **scratch)
{
	char err[512] = "";
	struct hf_rmatch *m = hf_rmatch_build(r, n, err, sizeof(err));

	if (m == NULL)
		fail_msg("build: %s", err);
	assert_int_equal(hf_rmatch_scratch_grow(m, scratch), 0);
	return m;
}

/* ---- the table ---- */

static const char *const kinds_table[] = {
        /* 0 */ "uri=exact:/health",
        /* 1 */ "uri=prefix:/api/v1/",
        /* 2 */ "uri=regex:/api/v[0-9]+/users/[0-9]+",
        /* 3 */ "uri=prefix:/api/",
        /* 4 */ "uri=exact:/Case icase",
        /* 5 */ "uri=prefix:/static/ icase",
        /* 6 */ "uri=regex:/img/[a-z]+\\.png icase",
        /* 7 */ "uri=regex:/part",
        /* 8 */ "uri=regex:.*\\.css",
        /* 9 */ "uri=regex:/(docs|help)/[a-z]+",
        /* 10 */ "uri=regex:/files/.*|/raw/[0-9]+",
        /* 11 */ "uri=exact:/Health",
        /* 12 */ "uri=prefix:/",
};

static const char *const cond_table[] = {
        /* 0 */ "uri=prefix:/r method=exact:POST",
        /* 1 */ "uri=prefix:/r h.end-user=exact:jason",
        /* 2 */ "uri=prefix:/r h.x-ver=prefix:v2",
        /* 3 */ "uri=prefix:/r h.x-id=regex:[0-9]{3}",
        /* 4 */ "uri=prefix:/r h.x-canary={}",
        /* 5 */ "uri=prefix:/r !h.x-block=present q.debug=exact:1",
        /* 6 */ "uri=prefix:/r q.tag=prefix:beta q.x=present",
        /* 7 */ "uri=prefix:/r q.id=regex:[a-f0-9]+",
        /* 8 */ "uri=prefix:/r authority=exact:shop.example.com",
        /* 9 */ "uri=prefix:/r authority=prefix:shop.example.com:",
        /* 10 */ "uri=prefix:/r port=8080",
        /* 11 */ "uri=prefix:/r scheme=exact:https",
        /* 12 */ "uri=exact:/and h.x-a=exact:1 h.x-b=exact:2",
        /* 13 */ "uri=exact:/or1 || uri=exact:/or2 method=exact:PUT",
        /* 14 */ "uri=prefix:/w !h.x-deny=exact:yes",
        /* 15 */ "method=regex:GET|HEAD authority=regex:[a-z]+\\.internal",
        /* 16 */ "uri=exact:/tags h.x-tags=exact:a,b",
        /* 17 */ "uri=exact:/tags h.x-tags=regex:[a-z](,[a-z])*",
        /* 18 */ "q.empty=exact: uri=exact:/q",
        /* 19 */ "",
        /* 20 */ "uri=prefix:/",
};

static const char *const nocatch_table[] = {
        /* 0 */ "uri=regex:/items/[0-9]+",
        /* 1 */ "uri=exact:/items/42",
        /* 2 */ "uri=prefix:/items/",
        /* 3 */ "h.x-any=present",
};

struct row {
	int table;
	const char *line;
	const char *headers;
	uint16_t port;
	const char *scheme;
	int want;
	const char *why;
};

static const struct row rows[] = {
        {0, "GET /health", NULL, 80, "http", 0, "exact"},
        {0, "GET /health?probe=1", NULL, 80, "http", 0, "the query is not part of the path"},
        {0, "GET /healthz", NULL, 80, "http", 12, "exact needs the whole path"},
        {0, "GET /Health", NULL, 80, "http", 11, "exact is case-sensitive"},
        {0, "GET /api/v1/users/7", NULL, 80, "http", 1, "prefix before a regex that also matches"},
        {0, "GET /api/v2/users/7", NULL, 80, "http", 2, "regex"},
        {0, "GET /api/v2/users/7?x=1", NULL, 80, "http", 2, "regex on the path without the query"},
        {0, "GET /api/v2/users/7x", NULL, 80, "http", 3, "regex anchored at the end"},
        {0, "GET /x/api/v2/users/7", NULL, 80, "http", 12, "regex anchored at the start"},
        {0, "GET /api/v2/", NULL, 80, "http", 3, "prefix"},
        {0, "GET /case", NULL, 80, "http", 4, "ignoreUriCase exact"},
        {0, "GET /CASE", NULL, 80, "http", 4, "ignoreUriCase exact"},
        {0, "GET /Case/x", NULL, 80, "http", 12, "ignoreUriCase exact is still exact"},
        {0, "GET /STATIC/app.js", NULL, 80, "http", 5, "ignoreUriCase prefix"},
        {0, "GET /img/LOGO.PNG", NULL, 80, "http", 6, "ignoreUriCase regex"},
        {0, "GET /part", NULL, 80, "http", 7, "regex whole path"},
        {0, "GET /partial", NULL, 80, "http", 12,
         "a regex matching part of the path does not match"},
        {0, "GET /a/b/site.css", NULL, 80, "http", 8, "regex without a literal prefix"},
        {0, "GET /help/intro", NULL, 80, "http", 9, "regex with a group at the start"},
        {0, "GET /raw/12", NULL, 80, "http", 10, "regex with a top-level alternation"},
        {0, "GET /files/a/b", NULL, 80, "http", 10, "regex with a top-level alternation"},
        {0, "GET /raw/12x", NULL, 80, "http", 12, "alternation anchored as a whole"},
        {1, "POST /r", NULL, 80, "http", 0, "method"},
        {1, "GET /r", "End-User: jason", 80, "http", 1, "header name case-insensitive"},
        {1, "GET /r", "end-user: Jason", 80, "http", 19, "header value case-sensitive"},
        {1, "GET /r", "x-ver: v2.1", 80, "http", 2, "header prefix"},
        {1, "GET /r", "x-id: 123", 80, "http", 3, "header regex"},
        {1, "GET /r", "x-id: 1234", 80, "http", 19, "header regex is a full match"},
        {1, "GET /r", "X-Canary:", 80, "http", 4, "header {}: present, even empty"},
        {1, "GET /r?debug=1", NULL, 80, "http", 5, "withoutHeaders present, header missing"},
        {1, "GET /r?debug=1", "x-block: 0", 80, "http", 19, "withoutHeaders present, header there"},
        {1, "GET /r?tag=beta2&x", NULL, 80, "http", 6, "query prefix and presence without '='"},
        {1, "GET /r?x=&tag=beta", NULL, 80, "http", 6, "query order does not matter"},
        {1, "GET /r?tag=alpha&x", NULL, 80, "http", 19, "query prefix fails"},
        {1, "GET /r?id=abc123", NULL, 80, "http", 7, "query regex"},
        {1, "GET /r?id=abc&id=zzz", NULL, 80, "http", 7, "query: the first value counts"},
        {1, "GET /r?id=zzz&id=abc", NULL, 80, "http", 19, "query: the first value counts"},
        {1, "GET /r?ID=abc", NULL, 80, "http", 19, "query names are case-sensitive"},
        {1, "GET /r", "Host: shop.example.com", 80, "http", 8, "authority exact"},
        {1, "GET /r", "Host: shop.example.com:8443", 80, "http", 9, "authority as sent, with port"},
        {1, "GET /r", "Host: other", 8080, "http", 10, "port"},
        {1, "GET /r", "Host: other", 80, "https", 11, "scheme"},
        {1, "GET /and", "x-a: 1\nx-b: 2", 80, "http", 12, "AND within a block"},
        {1, "GET /and", "x-a: 1", 80, "http", 19, "AND within a block: one missing"},
        {1, "GET /or1", NULL, 80, "http", 13, "OR of blocks: first"},
        {1, "PUT /or2", NULL, 80, "http", 13, "OR of blocks: second"},
        {1, "GET /or2", NULL, 80, "http", 19, "OR of blocks: neither"},
        {1, "GET /w", NULL, 80, "http", 14, "withoutHeaders exact: header missing"},
        {1, "GET /w", "x-deny: no", 80, "http", 14, "withoutHeaders exact: other value"},
        {1, "GET /w", "x-deny: yes", 80, "http", 19, "withoutHeaders exact: matching value"},
        {1, "HEAD /zzz", "Host: db.internal", 80, "http", 15, "method and authority regexes"},
        {1, "GET /zzz", "Host: db.internal:80", 80, "http", 19, "authority regex is a full match"},
        {1, "GET /tags", "x-tags: a\nX-Tags: b", 80, "http", 16,
         "fields of one name joined by ','"},
        {1, "GET /tags", "x-tags: a\nx-tags: b\nx-tags: c", 80, "http", 17, "joined, regex"},
        {1, "GET /q?empty", NULL, 80, "http", 18, "?key has the value \"\""},
        {1, "GET /q?empty=", NULL, 80, "http", 18, "?key= has the value \"\""},
        {1, "GET /q?empty=1", NULL, 80, "http", 19, "exact \"\" needs an empty value"},
        {1, "DELETE /anything", NULL, 80, "http", 19, "a route without match takes everything"},
        {2, "GET /items/42", NULL, 80, "http", 0, "first match wins: regex before exact"},
        {2, "GET /items/abc", NULL, 80, "http", 2, "prefix"},
        {2, "GET /other", NULL, 80, "http", -1, "no route"},
        {2, "GET /other", "X-Any: 1", 80, "http", 3, "no path condition: a candidate always"},
        {2, "GET /items", NULL, 80, "http", -1, "prefix longer than the path"},
};

static void
test_table(void **state)
{
	const char *const *tables[] = {kinds_table, cond_table, nocatch_table};
	const unsigned int sizes[] = {sizeof(kinds_table) / sizeof(kinds_table[0]),
	                              sizeof(cond_table) / sizeof(cond_table[0]),
	                              sizeof(nocatch_table) / sizeof(nocatch_table[0])};
	struct hf_model_route *model[3];
	struct hf_rmatch *m[3];
	hs_scratch_t *scratch = NULL;
	struct request rq;
	unsigned int bad = 0;

	(void)state;
	for (int t = 0; t < 3; t++) {
		model[t] = parse_table(tables[t], sizes[t]);
		m[t] = build(model[t], sizes[t], &scratch);
		/* the matcher copies what it needs: the model may go */
		free_routes(model[t], sizes[t]);
	}
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		const struct row *r = &rows[k];
		int got;

		make_request(&rq, r->line, r->headers);
		got = hf_rmatch_find(m[r->table], scratch, &rq.msg, r->port, r->scheme);
		if (got != r->want) {
			print_error("  row %zu: %s [%s] → %d, want %d (%s)\n", k, r->line,
			            r->headers ? r->headers : "", got, r->want, r->why);
			bad++;
		}
	}
	print_message("  %zu rows\n", sizeof(rows) / sizeof(rows[0]));
	for (int t = 0; t < 3; t++)
		hf_rmatch_free(m[t]);
	hs_free_scratch(scratch);
	assert_int_equal(bad, 0);
}

static void
test_empty(void **state)
{
	hs_scratch_t *scratch = NULL;
	struct hf_rmatch *m = build(NULL, 0, &scratch);
	struct request rq;

	(void)state;
	make_request(&rq, "GET /", "Host: a");
	assert_int_equal(hf_rmatch_find(m, scratch, &rq.msg, 80, "http"), -1);
	assert_null(scratch); /* nothing to scan: no scratch needed */
	hf_rmatch_free(m);
	hf_rmatch_free(NULL);
}

/* ---- refusals ---- */

static void
test_refused(void **state)
{
	static const struct {
		const char *spec, *want[3];
	} cases[] = {
	        {"uri=regex:/a/(b", {"route 1 ", "uri", "\"/a/(b\""}},
	        {"uri=regex:/(x)\\1", {"route 1 ", "uri", "Back-references"}},
	        {"uri=prefix:/ || uri=regex:(?=a)b", {"match 1", "uri", "\"(?=a)b\""}},
	        {"uri=regex:/xa++", {"route 1 ", "uri", "Possessive"}},
	        {"h.x-a=regex:a{2,1}", {"route 1 ", "headers \"x-a\"", "\"a{2,1}\""}},
	        {"!h.x-b=regex:(?>a)", {"route 1 ", "withoutHeaders \"x-b\"", "Atomic"}},
	        {"q.k=regex:(?<=a)b", {"route 1 ", "queryParams \"k\"", "\"(?<=a)b\""}},
	        {"method=regex:(", {"route 1 ", "method", "\"(\""}},
	        {"authority=regex:[", {"route 1 ", "authority", "\"[\""}},
	        {"uri=regex:/a icase || uri=regex:/b/((", {"match 1", "uri", "\"/b/((\""}},
	        {"port=70000", {"route 1 ", "port", "70000"}},
	        /* would be valid once wrapped as ^(?:...)\z, and mean something else */
	        {"uri=regex:/a)|(/b", {"route 1 ", "uri", "Unmatched parentheses"}},
	        {"h.x=regex:a)(b", {"route 1 ", "headers \"x\"", "\"a)(b\""}},
	        {"h.x=present uri=regex:/ok method=exact:GET h.y=regex:)",
	         {"route 1 ", "headers \"y\"", "\")\""}},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *specs[] = {"uri=regex:/fine/[0-9]+", cases[k].spec, "uri=prefix:/"};
		struct hf_model_route *r = parse_table(specs, 3);
		char err[512] = "";
		struct hf_rmatch *m;

		r[1].name = strdup("bad-route");
		m = hf_rmatch_build(r, 3, err, sizeof(err));
		print_message("  %s\n", err);
		assert_null(m);
		for (int w = 0; w < 3; w++)
			if (strstr(err, cases[k].want[w]) == NULL)
				fail_msg("'%s' lacks '%s'", err, cases[k].want[w]);
		assert_non_null(strstr(err, "bad-route"));
		free_routes(r, 3);
	}
}

/* ---- the database cache ---- */

static void
test_cache(void **state)
{
	const char *specs[] = {
	        "uri=regex:/a/[0-9]+",   "uri=regex:/a/[a-z]+",
	        "uri=regex:/b/.*",       "h.x=regex:[0-9]+ uri=prefix:/c",
	        "uri=regex:/A/x+ icase",
	};
	struct hf_model_route *r = parse_table(specs, 5);
	struct hf_rmatch_stats s1, s2, s3;
	struct hf_rmatch *m1, *m2, *m3;
	hs_scratch_t *scratch = NULL;
	char err[256];

	(void)state;
	m1 = hf_rmatch_build(r, 5, err, sizeof(err));
	assert_non_null(m1);
	hf_rmatch_stats(m1, &s1);
	assert_int_equal(s1.n_routes, 5);
	assert_int_equal(s1.n_regexes, 5);
	assert_true(s1.n_databases >= 3);
	/* The same table again: every database is shared, none compiled. */
	m2 = hf_rmatch_build(r, 5, err, sizeof(err));
	assert_non_null(m2);
	hf_rmatch_stats(m2, &s2);
	assert_int_equal(s2.n_compiled, 0);
	assert_int_equal(s2.n_reused, s1.n_databases);
	/* Gone with their last matcher: compiled again. */
	hf_rmatch_free(m1);
	hf_rmatch_free(m2);
	m3 = hf_rmatch_build(r, 5, err, sizeof(err));
	assert_non_null(m3);
	hf_rmatch_stats(m3, &s3);
	assert_int_equal(s3.n_compiled, s1.n_databases);
	assert_int_equal(hf_rmatch_scratch_grow(m3, &scratch), 0);
	assert_non_null(scratch);
	print_message("  %u databases, %zu bytes, built in %.2f ms\n", s3.n_databases, s3.bytes,
	              s3.build_ns / 1e6);
	hf_rmatch_free(m3);
	hs_free_scratch(scratch);
	free_routes(r, 5);
}

/* ---- the reference: linear, PCRE2 ---- */

struct pc {
	struct pc *next;
	char *re;
	bool icase;
	pcre2_code *code;
};

static struct pc *pcs;

static pcre2_code *
pcre_of(const char *re, bool icase)
{
	struct pc *p;
	int errcode;
	PCRE2_SIZE off;
	char *w;

	for (p = pcs; p != NULL; p = p->next)
		if (p->icase == icase && strcmp(p->re, re) == 0)
			return p->code;
	p = xcalloc(1, sizeof(*p));
	assert_true(asprintf(&w, "^(?:%s)\\z", re) > 0);
	p->code = pcre2_compile((PCRE2_SPTR)w, PCRE2_ZERO_TERMINATED, icase ? PCRE2_CASELESS : 0,
	                        &errcode, &off, NULL);
	free(w);
	if (p->code == NULL)
		fail_msg("pcre2 refuses %s", re);
	pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	p->re = strdup(re);
	p->icase = icase;
	p->next = pcs;
	pcs = p;
	return p->code;
}

static void
pcre_free_all(void)
{
	while (pcs != NULL) {
		struct pc *n = pcs->next;

		pcre2_code_free(pcs->code);
		free(pcs->re);
		free(pcs);
		pcs = n;
	}
}

static bool
ref_str(const struct hf_model_str_match *s, const char *v, size_t len)
{
	const char *want = s->value != NULL ? s->value : "";
	size_t wl = strlen(want);

	switch (s->kind) {
	case HF_MATCH_ANY:
	case HF_MATCH_PRESENT: return true;
	case HF_MATCH_EXACT:
		return len == wl &&
		       (s->ignore_case ? strncasecmp(v, want, wl) : memcmp(v, want, wl)) == 0;
	case HF_MATCH_PREFIX:
		return len >= wl &&
		       (s->ignore_case ? strncasecmp(v, want, wl) : memcmp(v, want, wl)) == 0;
	case HF_MATCH_REGEX: {
		pcre2_code *c = pcre_of(want, s->ignore_case);
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
		int rc = pcre2_match(c, (PCRE2_SPTR)v, len, 0, 0, md, NULL);

		pcre2_match_data_free(md);
		return rc >= 0;
	}
	}
	return false;
}

static bool
ref_kv(const struct hf_model_kv_match *kv, bool query, const struct hf_h1_message *msg)
{
	struct hf_model_str_match s = kv->m;
	char joined[4096];
	size_t jl = 0;
	bool found = false;

	if (s.kind == HF_MATCH_ANY)
		s.kind = HF_MATCH_PRESENT;
	if (query) {
		const char *q = memchr(msg->target.p, '?', msg->target.len);
		const char *end = msg->target.p + msg->target.len;

		/* split on '&', name up to the first '=', the first occurrence counts */
		for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && !found;) {
			const char *amp = memchr(p, '&', (size_t)(end - p)), *pe = amp ? amp : end;
			const char *eq = memchr(p, '=', (size_t)(pe - p)), *ne = eq ? eq : pe;

			if ((size_t)(ne - p) == strlen(kv->name) &&
			    memcmp(p, kv->name, (size_t)(ne - p)) == 0) {
				found = true;
				jl = eq ? (size_t)(pe - eq - 1) : 0;
				memcpy(joined, eq ? eq + 1 : pe, jl);
			}
			p = amp ? amp + 1 : NULL;
		}
	} else {
		for (uint32_t i = 0; i < msg->n_headers; i++) {
			const struct hf_h1_header *h = &msg->headers[i];

			if (h->name.len != strlen(kv->name) ||
			    strncasecmp(h->name.p, kv->name, h->name.len) != 0)
				continue;
			if (found)
				joined[jl++] = ',';
			memcpy(joined + jl, h->value.p, h->value.len);
			jl += h->value.len;
			found = true;
		}
	}
	if (!found)
		return kv->absent;
	return ref_str(&s, joined, jl) != kv->absent;
}

static bool
ref_block(const struct hf_model_route_match *mm, const struct hf_h1_message *msg, uint16_t port,
          const char *scheme)
{
	const char *q = memchr(msg->target.p, '?', msg->target.len);
	size_t plen = q ? (size_t)(q - msg->target.p) : msg->target.len;

	if (!ref_str(&mm->uri, msg->target.p, plen))
		return false;
	if (!ref_str(&mm->method, msg->method_name.p, msg->method_name.len))
		return false;
	if (!ref_str(&mm->authority, msg->host.p, msg->host.len))
		return false;
	if (!ref_str(&mm->scheme, scheme, strlen(scheme)))
		return false;
	if (mm->port != 0 && mm->port != port)
		return false;
	for (unsigned int i = 0; i < mm->n_headers; i++)
		if (!ref_kv(&mm->headers[i], false, msg))
			return false;
	for (unsigned int i = 0; i < mm->n_query; i++)
		if (!ref_kv(&mm->query[i], true, msg))
			return false;
	return true;
}

static int
ref_find(const struct hf_model_route *r, unsigned int n, const struct hf_h1_message *msg,
         uint16_t port, const char *scheme)
{
	for (unsigned int i = 0; i < n; i++) {
		if (r[i].n_matches == 0)
			return (int)i;
		for (unsigned int b = 0; b < r[i].n_matches; b++)
			if (ref_block(&r[i].matches[b], msg, port, scheme))
				return (int)i;
	}
	return -1;
}

/* ---- random tables and requests ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

static const char *const words[] = {"api",     "v1",     "v2",  "users",  "orders",
                                    "items",   "static", "img", "health", "Reviews",
                                    "ratings", "x",      "a.b", "cart"};
/* regex templates (every %s the same word) and a path each matches */
static const struct {
	const char *re, *example;
} templates[] = {
        {"/%s/[0-9]+", "/%s/123"},
        {"/%s/v[0-9]+/.*", "/%s/v2/any/thing"},
        {"/%s/(foo|bar)/[a-z]+", "/%s/bar/abc"},
        {".*/%s\\.(css|js)", "/a/b/%s.css"},
        {"/%s/[a-z]{2,4}", "/%s/abc"},
        {"/(%s|other)/x", "/%s/x"},
        {"/%s|/alt/%s", "/alt/%s"},
        {"/%s/item[0-9]?", "/%s/item"},
        {"/%s\\.json", "/%s.json"},
        {"/%s/[^/]+/edit", "/%s/42/edit"},
        {"[/a-z]+/%s", "/q/%s"},
        {"/%s/\\d+/[A-Z]+", "/%s/7/AB"},
};
static const char *const hnames[] = {"x-user", "x-ver", "x-canary", "x-ids", "end-user"};
static const char *const hvalues[] = {"jason", "v2", "v2.1", "123", "abc", "", "beta", "a,b"};
static const char *const qnames[] = {"debug", "tag", "id", "x"};
static const char *const qvalues[] = {"1", "beta", "abc123", "", "beta2"};
static const char *const hosts[] = {"shop.example.com", "shop.example.com:8080", "db.internal",
                                    "api", "API.example.com"};
static const char *const methods[] = {"GET", "POST", "PUT", "HEAD", "DELETE"};
static const char *const vregex[] = {"[a-z]+", "v[0-9]+(\\.[0-9]+)?", "[0-9]{3}", ".*b.*",
                                     "(jason|beta)"};

static void
rand_path(char *out, size_t len)
{
	size_t n = 0;
	uint32_t segs = 1 + rnd(4);

	for (uint32_t i = 0; i < segs && n < len - 16; i++)
		n += (size_t)snprintf(out + n, len - n, "/%s", PICK(words));
	if (rnd(4) == 0)
		snprintf(out + n, len - n, "/%u", rnd(1000));
}

static char *
fmt_word(const char *fmt, const char *w)
{
	char *s;

	/* every template has one or two %s, always the same word */
	assert_true(asprintf(&s, fmt, w, w) > 0);
	return s;
}

static void
rand_str(struct hf_model_str_match *s, const char *const *vals, unsigned int nvals, bool present)
{
	uint32_t k = rnd(present ? 5 : 4);

	s->kind = k == 0   ? HF_MATCH_EXACT
	          : k == 1 ? HF_MATCH_PREFIX
	          : k == 2 ? HF_MATCH_REGEX
	          : k == 3 ? HF_MATCH_EXACT
	                   : HF_MATCH_PRESENT;
	if (s->kind == HF_MATCH_REGEX)
		s->value = strdup(PICK(vregex));
	else if (s->kind != HF_MATCH_PRESENT)
		s->value = strdup(vals[rnd(nvals)]);
	if (s->kind == HF_MATCH_PREFIX && s->value[0] != '\0' && rnd(2) == 0)
		s->value[strlen(s->value) - 1] = '\0';
}

/*
 * A route; @p example gets a path its first block's path condition takes.
 * @p last: the table's last route, a catch-all one time in four (anywhere
 * else one would leave the routes after it unreachable).
 */
static void
rand_route(struct hf_model_route *r, char *example, size_t exlen, bool last)
{
	memset(r, 0, sizeof(*r));
	example[0] = '\0';
	if (last && rnd(4) == 0)
		return;
	r->n_matches = rnd(10) == 0 ? 2 : 1;
	r->matches = xcalloc(r->n_matches, sizeof(*r->matches));
	for (unsigned int b = 0; b < r->n_matches; b++) {
		struct hf_model_route_match *mm = &r->matches[b];
		uint32_t k = rnd(100);
		char path[128], ex[192];

		rand_path(path, sizeof(path));
		snprintf(ex, sizeof(ex), "%s", path);
		mm->uri.ignore_case = rnd(10) == 0;
		if (k < 42) {
			mm->uri.kind = HF_MATCH_EXACT;
			mm->uri.value = strdup(path);
		} else if (k < 84) {
			mm->uri.kind = HF_MATCH_PREFIX;
			mm->uri.value = strdup(path);
			snprintf(ex, sizeof(ex), "%s%s", path, rnd(2) ? "/tail" : "");
		} else if (k < 96) {
			const char *w = PICK(words);
			uint32_t t = rnd(sizeof(templates) / sizeof(templates[0]));
			char *e = fmt_word(templates[t].example, w);

			mm->uri.kind = HF_MATCH_REGEX;
			mm->uri.value = fmt_word(templates[t].re, w);
			snprintf(ex, sizeof(ex), "%s", e);
			free(e);
		}
		if (mm->uri.ignore_case)
			for (char *c = ex; *c; c++)
				if (rnd(3) == 0)
					*c = (char)(rnd(2) ? toupper((unsigned char)*c)
					                   : tolower((unsigned char)*c));
		if (b == 0)
			snprintf(example, exlen, "%s", ex);
		/* a block without a path condition gets another one (or it takes everything) */
		if (rnd(10) == 0 || mm->uri.kind == HF_MATCH_ANY)
			rand_str(&mm->method, methods, 5, false);
		if (rnd(20) == 0)
			rand_str(&mm->authority, hosts, 5, false);
		if (rnd(30) == 0) {
			mm->scheme.kind = HF_MATCH_EXACT;
			mm->scheme.value = strdup(rnd(2) ? "https" : "http");
		}
		if (rnd(20) == 0)
			mm->port = rnd(2) ? 8080 : 80;
		mm->headers = xcalloc(3, sizeof(*mm->headers));
		mm->query = xcalloc(2, sizeof(*mm->query));
		for (uint32_t h = rnd(6) == 0 || mm->uri.kind == HF_MATCH_ANY ? 1 + rnd(3) : 0;
		     h > 0; h--) {
			struct hf_model_kv_match *kv = &mm->headers[mm->n_headers++];

			kv->name = strdup(PICK(hnames));
			kv->absent = rnd(4) == 0;
			if (rnd(8) == 0)
				kv->m.kind = HF_MATCH_ANY;
			else
				rand_str(&kv->m, hvalues, 8, true);
		}
		for (uint32_t q = rnd(8) == 0 ? 1 + rnd(2) : 0; q > 0; q--) {
			struct hf_model_kv_match *kv = &mm->query[mm->n_query++];

			kv->name = strdup(PICK(qnames));
			rand_str(&kv->m, qvalues, 5, true);
		}
	}
}

static void
rand_request(struct request *rq, const char *const *examples, unsigned int n, uint16_t *port,
             const char **scheme)
{
	char line[512], hdrs[1024], path[256];
	size_t hl = 0, ll;

	if (rnd(4) == 0 || examples[0] == NULL)
		rand_path(path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", examples[rnd(n)]);
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/");
	ll = (size_t)snprintf(line, sizeof(line), "%s %s", rnd(3) ? "GET" : PICK(methods), path);
	for (uint32_t q = rnd(3) == 0 ? 1 + rnd(3) : 0; q > 0; q--) {
		const char *v = PICK(qvalues);

		ll += (size_t)snprintf(line + ll, sizeof(line) - ll, "%c%s%s%s",
		                       strchr(line, '?') == NULL ? '?' : '&', PICK(qnames),
		                       rnd(4) == 0 && v[0] == '\0' ? "" : "=", v);
	}
	if (rnd(8) != 0)
		hl += (size_t)snprintf(hdrs + hl, sizeof(hdrs) - hl, "Host: %s\n", PICK(hosts));
	for (uint32_t h = rnd(4); h > 0; h--) {
		char name[32];

		snprintf(name, sizeof(name), "%s", PICK(hnames));
		if (rnd(3) == 0)
			name[0] = (char)toupper((unsigned char)name[0]);
		hl += (size_t)snprintf(hdrs + hl, sizeof(hdrs) - hl, "%s: %s\n", name,
		                       PICK(hvalues));
	}
	if (hl > 0)
		hdrs[hl - 1] = '\0';
	else
		hdrs[0] = '\0';
	make_request(rq, line, hdrs);
	*port = rnd(3) == 0 ? 8080 : 80;
	*scheme = rnd(3) == 0 ? "https" : "http";
}

static void
test_random(void **state)
{
	static const unsigned int sizes[] = {100,  250, 500,  1000, 2000, 137,
	                                     1500, 700, 2000, 333,  1200, 100};
	hs_scratch_t *scratch = NULL;
	unsigned long checked = 0, wins[6] = {0};
	struct request *rq = xcalloc(1, sizeof(*rq));

	(void)state;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		unsigned int n = sizes[t];
		struct hf_model_route *r = xcalloc(n, sizeof(*r));
		char **ex = xcalloc(n + 1, sizeof(*ex));
		struct hf_rmatch_stats st;
		struct hf_rmatch *m;
		char buf[256];

		for (unsigned int i = 0; i < n; i++) {
			rand_route(&r[i], buf, sizeof(buf), i == n - 1);
			ex[i] = strdup(buf[0] != '\0' ? buf : "/");
		}
		m = build(r, n, &scratch);
		hf_rmatch_stats(m, &st);
		print_message("  %u routes: %u blocks, %u regexes (%u screened), %u databases, "
		              "%u trie nodes, %.1f ms\n",
		              n, st.n_blocks, st.n_regexes, st.n_screened, st.n_databases,
		              st.n_trie_nodes, st.build_ns / 1e6);
		for (unsigned int k = 0; k < 20000; k++) {
			uint16_t port;
			const char *scheme;
			int want, got;

			rand_request(rq, (const char *const *)ex, n, &port, &scheme);
			want = ref_find(r, n, &rq->msg, port, scheme);
			got = hf_rmatch_find(m, scratch, &rq->msg, port, scheme);
			checked++;
			/* what won: by the route's first path condition (ANY..REGEX), none,
			 * catch-all */
			wins[want < 0                 ? 4
			     : r[want].n_matches == 0 ? 5
			                              : r[want].matches[0].uri.kind]++;
			if (want != got)
				fail_msg("table %zu (%u routes): %.*s (port %u, %s) → %d, "
				         "reference %d",
				         t, n, (int)strcspn(rq->buf, "\r"), rq->buf, port, scheme,
				         got, want);
		}
		hf_rmatch_free(m);
		free_routes(r, n);
		for (unsigned int i = 0; i < n; i++)
			free(ex[i]);
		free(ex);
	}
	print_message("  %lu lookups identical to the reference; winners: %lu exact, %lu prefix, "
	              "%lu regex, %lu without path, %lu catch-all, %lu none\n",
	              checked, wins[1], wins[2], wins[3], wins[0], wins[5], wins[4]);
	hs_free_scratch(scratch);
	pcre_free_all();
	free(rq);
}

/* Literal prefixes must never hide a regex from a path it matches. */
static void
test_regex_prefixes(void **state)
{
	static const struct {
		const char *re, *path;
	} cases[] = {
	        {"/ab?c", "/ac"},       {"/ab*c", "/ac"},
	        {"/ab{0,1}c", "/ac"},   {"/ab{1,}c", "/abbc"},
	        {"/a\\.b", "/a.b"},     {"/a\\/b", "/a/b"},
	        {"/a(b|c)d", "/acd"},   {"/x|/y", "/y"},
	        {"/p[|]q|/r", "/r"},    {"/p[[:alpha:]|]|/r", "/r"},
	        {"/p\\Q|\\E|/r", "/r"}, {"^/anchored$", "/anchored"},
	        {"/(?i)abc", "/ABC"},   {"/a\\d", "/a7"},
	        {"(?i)/CI", "/ci"},     {"/v[12]/x", "/v2/x"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char spec[128];
		const char *specs[1] = {spec};
		struct hf_model_route *r;
		hs_scratch_t *scratch = NULL;
		struct hf_rmatch *m;
		struct request rq;

		snprintf(spec, sizeof(spec), "uri=regex:%s", cases[k].re);
		r = parse_table(specs, 1);
		m = build(r, 1, &scratch);
		snprintf(spec, sizeof(spec), "GET %s", cases[k].path);
		make_request(&rq, spec, NULL);
		if (hf_rmatch_find(m, scratch, &rq.msg, 80, "http") != 0)
			fail_msg("%s does not take %s", cases[k].re, cases[k].path);
		hf_rmatch_free(m);
		hs_free_scratch(scratch);
		free_routes(r, 1);
	}
}

/*
 * Random regexes with strings they match, built together from one random
 * syntax tree: literals (escaped or not), classes, groups, alternations,
 * quantifiers. Whatever the matcher infers about a regex (its literal prefix,
 * its required literal) must never keep it from a string it matches.
 */
struct gen {
	char re[512], *r;
	char s[512], *w;
};

static void gen_alt(struct gen *g, int depth);

static void
gen_put(char **p, const char *text)
{
	size_t n = strlen(text);

	memcpy(*p, text, n);
	*p += n;
}

/* One atom (maybe quantified); writes its regex and one string it matches. */
static void
gen_atom(struct gen *g, int depth)
{
	static const char lits[] = "abcxyz/-019";
	static const char metas[] = ".()[]{}?*+|^$";
	/* deep or long enough: plain atoms only, so Hyperscan takes every pattern */
	bool small = depth >= 2 || g->r - g->re > 60;
	uint32_t k = rnd(small ? 5 : 8);
	char *r0 = g->r, *w0 = g->w;
	uint32_t reps = 1;
	char one[2] = {0, 0};

	switch (k) {
	case 0:
	case 1:
	case 2: /* a plain literal */
		one[0] = lits[rnd(sizeof(lits) - 1)];
		gen_put(&g->r, one);
		gen_put(&g->w, one);
		break;
	case 3: /* an escaped metacharacter */
		one[0] = metas[rnd(sizeof(metas) - 1)];
		gen_put(&g->r, "\\");
		gen_put(&g->r, one);
		gen_put(&g->w, one);
		break;
	case 4: /* a class */
		switch (rnd(5)) {
		case 0:
			gen_put(&g->r, "[a-c]");
			one[0] = (char)('a' + rnd(3));
			break;
		case 1:
			gen_put(&g->r, "\\d");
			one[0] = (char)('0' + rnd(10));
			break;
		case 2:
			gen_put(&g->r, "[^/]");
			one[0] = 'q';
			break;
		case 3:
			gen_put(&g->r, ".");
			one[0] = '~';
			break;
		default:
			gen_put(&g->r, "[[:alpha:]|/]");
			one[0] = rnd(2) ? '|' : 'k';
			break;
		}
		gen_put(&g->w, one);
		break;
	default: /* a group */
		gen_put(&g->r, rnd(2) ? "(" : "(?:");
		gen_alt(g, depth + 1);
		gen_put(&g->r, ")");
		break;
	}
	/* a quantifier, now and then: the sample repeats what the atom matched */
	if (rnd(4) == 0 && !small) {
		static const char *const q[] = {"?", "*", "+", "{1,3}", "{2}", "??"};
		uint32_t qi = rnd(6);
		char piece[256];
		size_t pl = (size_t)(g->w - w0);

		memcpy(piece, w0, pl);
		gen_put(&g->r, q[qi]);
		reps = qi == 0 || qi == 5 ? rnd(2)
		       : qi == 1          ? rnd(3)
		       : qi == 2          ? 1 + rnd(2)
		       : qi == 3          ? 1 + rnd(3)
		                          : 2;
		g->w = w0;
		for (uint32_t i = 0; i < reps; i++) {
			memcpy(g->w, piece, pl);
			g->w += pl;
		}
	}
	(void)r0;
}

static void
gen_concat(struct gen *g, int depth)
{
	for (uint32_t n = 1 + rnd(4); n > 0; n--)
		gen_atom(g, depth);
}

/* Alternatives: the sample follows one of them. */
static void
gen_alt(struct gen *g, int depth)
{
	uint32_t n = rnd(3) == 0 ? 2 + rnd(2) : 1, pick = rnd(n);

	for (uint32_t i = 0; i < n; i++) {
		char *w0 = g->w;

		if (i > 0)
			gen_put(&g->r, "|");
		gen_concat(g, depth);
		if (i != pick)
			g->w = w0; /* only the chosen branch's text stays in the sample */
	}
}

/* A regex, maybe with alternatives at the top level, each behind a literal head. */
static void
gen_regex(struct gen *g)
{
	/* literal heads, shared so groups under one prefix grow large, or none worth a trie key */
	static const char *const heads[][2] = {
	        {"/api/", "/api/"},
	        {"/api/v", "/api/v"},
	        {"/a", "/a"},
	        {"/", "/"},
	        {"", ""},
	        {"/(?:v|w)", "/w"},
	        {"/[a-c]", "/b"},
	        {"/x\\d+", "/x42"},
	        {"/[a-c]/users", "/c/users"},
	        {"/(?:v1|v2)/items/", "/v1/items/"},
	        {".*/cart", "/a/cart"},
	};
	uint32_t n = rnd(4) == 0 ? 2 : 1, pick = rnd(n);

	g->r = g->re;
	g->w = g->s;
	for (uint32_t i = 0; i < n; i++) {
		const char *const *head = heads[rnd(sizeof(heads) / sizeof(heads[0]))];
		char *w0 = g->w;

		if (i > 0)
			gen_put(&g->r, "|");
		gen_put(&g->r, head[0]);
		gen_put(&g->w, head[1]);
		gen_concat(g, 0);
		if (i != pick)
			g->w = w0;
	}
	*g->r = '\0';
	*g->w = '\0';
}

static void
test_regex_fuzz(void **state)
{
	enum { TABLES = 20, N = 120 };
	hs_scratch_t *scratch = NULL;
	unsigned long checked = 0, screened = 0;

	(void)state;
	for (int t = 0; t < TABLES; t++) {
		struct hf_model_route *r = xcalloc(N, sizeof(*r));
		char(*samples)[512] = xcalloc(N, sizeof(*samples));
		struct hf_rmatch_stats st;
		struct hf_rmatch *m;
		struct request *rq = xcalloc(1, sizeof(*rq));

		for (int i = 0; i < N; i++) {
			struct gen g;

			gen_regex(&g);
			r[i].n_matches = 1;
			r[i].matches = xcalloc(1, sizeof(*r[i].matches));
			r[i].matches[0].uri.kind = HF_MATCH_REGEX;
			r[i].matches[0].uri.value = strdup(g.re);
			r[i].matches[0].uri.ignore_case = rnd(8) == 0;
			/* every sample must be a path: a slash in front when the regex allows none
			 */
			snprintf(samples[i], sizeof(samples[i]), "%s", g.s);
		}
		m = build(r, N, &scratch);
		hf_rmatch_stats(m, &st);
		screened += st.n_screened;
		for (int i = 0; i < N; i++) {
			char line[600];
			int want, got;

			if (samples[i][0] != '/' || strpbrk(samples[i], " ?#%") != NULL)
				continue; /* not a request target as the parser takes it */
			snprintf(line, sizeof(line), "GET %s", samples[i]);
			make_request(rq, line, NULL);
			want = ref_find(r, N, &rq->msg, 80, "http");
			got = hf_rmatch_find(m, scratch, &rq->msg, 80, "http");
			if (want < 0 || want > i)
				fail_msg("PCRE2 says /%s/ does not match its own sample %s",
				         r[i].matches[0].uri.value, samples[i]);
			if (got != want)
				fail_msg("%s → %d, reference %d (/%s/)", samples[i], got, want,
				         r[want].matches[0].uri.value);
			checked++;
		}
		hf_rmatch_free(m);
		free_routes(r, N);
		free(samples);
		free(rq);
	}
	print_message("  %lu samples of random regexes found; %lu regexes were screened\n", checked,
	              screened);
	hs_free_scratch(scratch);
	pcre_free_all();
}

/* More regexes under one literal prefix than one database holds: every chunk is reached. */
static void
test_big_group(void **state)
{
	enum { N = 300 };
	struct hf_model_route *r = xcalloc(N, sizeof(*r));
	hs_scratch_t *scratch = NULL;
	struct hf_rmatch_stats st;
	struct hf_rmatch *m;
	struct request rq;

	(void)state;
	for (unsigned int i = 0; i < N; i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "uri=regex:/g/[a-z]+/%u", i);
		parse_route(spec, &r[i]);
	}
	m = build(r, N, &scratch);
	hf_rmatch_stats(m, &st);
	assert_true(st.n_databases > N / 16);
	for (unsigned int i = 0; i < N; i += 7) {
		char line[64];

		snprintf(line, sizeof(line), "GET /g/abc/%u", i);
		make_request(&rq, line, NULL);
		assert_int_equal(hf_rmatch_find(m, scratch, &rq.msg, 80, "http"), (int)i);
	}
	make_request(&rq, "GET /g/abc/300", NULL);
	assert_int_equal(hf_rmatch_find(m, scratch, &rq.msg, 80, "http"), -1);
	make_request(&rq, "GET /g/ABC/3", NULL);
	assert_int_equal(hf_rmatch_find(m, scratch, &rq.msg, 80, "http"), -1);
	assert_true(st.n_screened > 200);
	print_message("  %u regexes under \"/g/\": %u databases, %u screened\n", N, st.n_databases,
	              st.n_screened);
	hf_rmatch_free(m);
	hs_free_scratch(scratch);
	free_routes(r, N);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table),          cmocka_unit_test(test_empty),
	        cmocka_unit_test(test_refused),        cmocka_unit_test(test_cache),
	        cmocka_unit_test(test_regex_prefixes), cmocka_unit_test(test_big_group),
	        cmocka_unit_test(test_regex_fuzz),     cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
