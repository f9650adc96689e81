/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request targets before routing: the request-target forms of RFC 9112 3.2
 * (hf_h1_target_parse) and path normalization in each of Istio's four modes
 * (hf_path_normalize). Both are whole-buffer functions (the head is complete
 * when they run), so there is nothing to cut: each case is one call. The
 * normalizer is also held to its output bound, to idempotence, and, over
 * random paths, to a slow reference that takes the path apart into segments
 * first (RFC 3986 5.2.4 on a list, not on a buffer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/http/h1.h"
#include "dataplane/http/path.h"

/* ---------------------------------------------------------------- target forms */

struct form_case {
	enum hf_h1_method method;
	const char *target;
	enum hf_h1_target_form form;
	const char *authority;		/* NULL: none */
	const char *path;		/* NULL: none */
};

static const struct form_case forms[] = {
	{HF_H1_M_GET, "/", HF_H1_TARGET_ORIGIN, NULL, "/"},
	{HF_H1_M_GET, "/a/b?c=d&e", HF_H1_TARGET_ORIGIN, NULL, "/a/b?c=d&e"},
	{HF_H1_M_GET, "//evil.test/x", HF_H1_TARGET_ORIGIN, NULL, "//evil.test/x"},
	{HF_H1_M_OPTIONS, "*", HF_H1_TARGET_ASTERISK, NULL, NULL},
	/* the form is syntax; that GET may not use it is the proxy's check (its own counter) */
	{HF_H1_M_GET, "*", HF_H1_TARGET_ASTERISK, NULL, NULL},
	{HF_H1_M_GET, "http://a.test/x?y=1", HF_H1_TARGET_ABSOLUTE, "a.test", "/x?y=1"},
	{HF_H1_M_POST, "HTTPS://A.Test:8443", HF_H1_TARGET_ABSOLUTE, "A.Test:8443", ""},
	{HF_H1_M_GET, "hTTp://a.test?q=/", HF_H1_TARGET_ABSOLUTE, "a.test", "?q=/"},
	{HF_H1_M_GET, "http://a.test:/p", HF_H1_TARGET_ABSOLUTE, "a.test", "/p"},
	{HF_H1_M_GET, "http://192.0.2.7:80/p", HF_H1_TARGET_ABSOLUTE, "192.0.2.7:80", "/p"},
	{HF_H1_M_GET, "http://[2001:db8::1]:8080/p", HF_H1_TARGET_ABSOLUTE, "[2001:db8::1]:8080", "/p"},
	{HF_H1_M_GET, "http://[2001:db8::1]", HF_H1_TARGET_ABSOLUTE, "[2001:db8::1]", ""},
	{HF_H1_M_GET, "http://a_b-c~d.test:65535/", HF_H1_TARGET_ABSOLUTE, "a_b-c~d.test:65535", "/"},
	{HF_H1_M_GET, "http://a.test/../x", HF_H1_TARGET_ABSOLUTE, "a.test", "/../x"},
	{HF_H1_M_CONNECT, "a.test:443", HF_H1_TARGET_AUTHORITY, "a.test:443", NULL},
	{HF_H1_M_CONNECT, "[::1]:443", HF_H1_TARGET_AUTHORITY, "[::1]:443", NULL},
	/* refused */
	{HF_H1_M_GET, "", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "foo", HF_H1_TARGET_INVALID, NULL, NULL},
	/* origin-form starts with '/': a path without it is no form, whatever the method */
	{HF_H1_M_GET, "Gpi/x", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_POST, "api/x?y=/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_OPTIONS, "Gpi/x", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "?q=/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "%2Fa", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "\\a", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "./a", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "*a", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "a.test:443", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "/a#frag", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a.test/a#frag", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://user@a.test/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://u:p@a.test:80/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a.test/@x", HF_H1_TARGET_ABSOLUTE, "a.test", "/@x"},
	{HF_H1_M_GET, "http:///p", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http:/a.test/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "ftp://a.test/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "httpx://a.test/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a.test:65536/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a.test:000080/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a.test:8a/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a!b.test/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://a%2eb/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://[::1/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://[]/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_GET, "http://[::1]x/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "a.test", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "a.test:", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "*", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "http://a.test:443/", HF_H1_TARGET_INVALID, NULL, NULL},
	{HF_H1_M_CONNECT, "u@a.test:443", HF_H1_TARGET_INVALID, NULL, NULL},
};

static void
check_slice(const struct hf_h1_slice *s, const char *want, const char *what, const char *target)
{
	if (want == NULL) {
		if (s->len != 0)
			fail_msg("%s: %s is '%.*s', wanted none", target, what, (int)s->len, s->p);
		return;
	}
	if (s->len != strlen(want) || memcmp(s->p, want, s->len) != 0)
		fail_msg("%s: %s is '%.*s', wanted '%s'", target, what, (int)s->len, s->p, want);
}

static void
test_target_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct form_case *c = &forms[i];
		struct hf_h1_slice tg = {c->target, (uint32_t)strlen(c->target)};
		struct hf_h1_target t;
		enum hf_h1_target_form f = hf_h1_target_parse(c->method, &tg, &t);

		if (f != c->form || t.form != f)
			fail_msg("'%s' (method %d): form %d, wanted %d", c->target, c->method, f, c->form);
		check_slice(&t.authority, c->authority, "authority", c->target);
		/* The path of an absolute-form target may be empty, which is not "none". */
		if (c->path != NULL && c->path[0] == '\0') {
			if (t.path.len != 0)
				fail_msg("%s: path not empty", c->target);
		} else {
			check_slice(&t.path, c->path, "path", c->target);
		}
	}
}

/* ---------------------------------------------------------------- normalization */

enum { SAME = 0 };	/* expected: unchanged, by the fast path (nothing written) */

struct norm_case {
	const char *in;
	/* per mode, in enum order (BASE, NONE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES): the
	 * output, NULL for SAME, or an error when the string starts with '!' */
	const char *out[4];
};

#define E_ESC "!escape"
#define E_NUL "!nul"

static const struct norm_case norms[] = {
	/* already normal: the fast path in every mode */
	{"/", {NULL, NULL, NULL, NULL}},
	{"/a/b/c.json?x=1&y=/../", {NULL, NULL, NULL, NULL}},
	{"/.well-known/acme", {NULL, NULL, NULL, NULL}},
	{"/a./b/.c/..d/...", {NULL, NULL, NULL, NULL}},
	{"/api/v1/items-_~:@!$&'()*+,;=", {NULL, NULL, NULL, NULL}},
	/* dot segments, never above the root */
	{"/a/../../b", {"/b", NULL, "/b", "/b"}},
	{"/./", {"/", NULL, "/", "/"}},
	{"/.", {"/", NULL, "/", "/"}},
	{"/..", {"/", NULL, "/", "/"}},
	{"/a/.", {"/a/", NULL, "/a/", "/a/"}},
	{"/a/..", {"/", NULL, "/", "/"}},
	{"/a/b/../c/./d", {"/a/c/d", NULL, "/a/c/d", "/a/c/d"}},
	{"/public/../admin", {"/admin", NULL, "/admin", "/admin"}},
	{"/%2e%2e/", {"/", "", "/", "/"}},
	{"/%2E./x", {"/x", "", "/x", "/x"}},
	{"/.%2e/x", {"/x", "", "/x", "/x"}},
	{"/a/%2e/b", {"/a/b", "", "/a/b", "/a/b"}},
	/* the query is never touched */
	{"/a/../b?x=/../", {"/b?x=/../", NULL, "/b?x=/../", "/b?x=/../"}},
	{"/a?%zz&%00&%41&//", {NULL, NULL, NULL, NULL}},
	{"/a/..?", {"/?", NULL, "/?", "/?"}},
	/* slashes */
	{"//a//b", {NULL, NULL, "/a/b", "/a/b"}},
	{"/a//b/", {NULL, NULL, "/a/b/", "/a/b/"}},
	/* merged after the dot segments, as Envoy: the empty segment is the one ".." removes */
	{"/a//..", {"/a/", NULL, "/a/", "/a/"}},
	{"/a//../b", {"/a/b", NULL, "/a/b", "/a/b"}},
	{"/a\\b", {"/a/b", NULL, "/a/b", "/a/b"}},
	{"/a\\..\\b", {"/b", NULL, "/b", "/b"}},
	/* encoded slashes: kept (upper-cased) unless DECODE_AND_MERGE_SLASHES */
	{"/a%2fb", {"/a%2Fb", NULL, "/a%2Fb", "/a/b"}},
	{"/a%2Fb", {"/a%2Fb", NULL, "/a%2Fb", "/a/b"}},
	{"/a%5cb", {"/a%5Cb", NULL, "/a%5Cb", "/a/b"}},
	{"/a%2F..%2Fb", {"/a%2F..%2Fb", NULL, "/a%2F..%2Fb", "/b"}},
	{"/%2F%2Fa", {"/%2F%2Fa", NULL, "/%2F%2Fa", "/a"}},
	{"/public%2f..%2fadmin", {"/public%2F..%2Fadmin", NULL, "/public%2F..%2Fadmin", "/admin"}},
	/* unreserved characters decoded, the rest upper-cased, decoded once only */
	{"/%7euser", {"/~user", NULL, "/~user", "/~user"}},
	{"/%41", {"/A", NULL, "/A", "/A"}},
	{"/%61%2d%5F%2E%30%7E", {"/a-_.0~", NULL, "/a-_.0~", "/a-_.0~"}},
	{"/%c3%a9", {"/%C3%A9", NULL, "/%C3%A9", "/%C3%A9"}},
	{"/%2541", {"/%2541", NULL, "/%2541", "/%2541"}},
	{"/a%3fb", {"/a%3Fb", NULL, "/a%3Fb", "/a%3Fb"}},
	{"/%23", {"/%23", NULL, "/%23", "/%23"}},
	/* bytes RFC 3986 allows in no path: escaped, as Envoy does */
	{"/a|b{c}", {"/a%7Cb%7Bc%7D", NULL, "/a%7Cb%7Bc%7D", "/a%7Cb%7Bc%7D"}},
	{"/\"<>^`", {"/%22%3C%3E%5E%60", NULL, "/%22%3C%3E%5E%60", "/%22%3C%3E%5E%60"}},
	{"/a#b", {"/a%23b", NULL, "/a%23b", "/a%23b"}},
	/* no normal form */
	{"/%zz", {E_ESC, NULL, E_ESC, E_ESC}},
	{"/%", {E_ESC, NULL, E_ESC, E_ESC}},
	{"/a%4", {E_ESC, NULL, E_ESC, E_ESC}},
	{"/a%4?x", {E_ESC, NULL, E_ESC, E_ESC}},
	{"/%%41", {E_ESC, NULL, E_ESC, E_ESC}},
	{"/%00", {E_NUL, E_NUL, E_NUL, E_NUL}},
	{"/a/%00/../b", {E_NUL, E_NUL, E_NUL, E_NUL}},
	/* the empty path of an absolute-form target ("http://h", "http://h?q") */
	{"", {"/", "/", "/", "/"}},
	{"?q=1", {"/?q=1", "/?q=1", "/?q=1", "/?q=1"}},
};

/* The NONE column's "" means: unchanged, though the input has a '%' (NONE never rewrites). */
static int
run(enum hf_path_mode mode, const char *in, size_t len, char *out, uint32_t cap)
{
	return hf_path_normalize(mode, in, (uint32_t)len, out, cap);
}

static void
test_normalize_table(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		const struct norm_case *c = &norms[i];

		for (int m = 0; m < 4; m++) {
			const char *want = c->out[m];
			int rc = run((enum hf_path_mode)m, c->in, strlen(c->in), out, sizeof(out));

			if (want == NULL || want[0] == '\0') {
				if (rc != SAME)
					fail_msg("%s '%s': %d ('%.*s'), wanted unchanged", hf_path_mode_name(m),
						 c->in, rc, rc > 0 ? rc : 0, out);
			} else if (want[0] == '!') {
				int e = strcmp(want, E_NUL) == 0 ? HF_PATH_E_NUL : HF_PATH_E_ESCAPE;

				if (rc != e)
					fail_msg("%s '%s': %d, wanted error %d", hf_path_mode_name(m), c->in, rc,
						 e);
			} else if (rc <= 0 || (size_t)rc != strlen(want) || memcmp(out, want, (size_t)rc) != 0) {
				fail_msg("%s '%s': %d '%.*s', wanted '%s'", hf_path_mode_name(m), c->in, rc,
					 rc > 0 ? rc : 0, out, want);
			}
		}
	}
}

/*
 * Output is bounded by cap: every cap below the result's length fails without
 * writing past it; 3 * len + 1 is always enough; and without dot segments
 * (which are written before they are known to go) the result's own length is.
 */
static void
test_normalize_space(void **state)
{
	static const char *const ins[] = {"/a/../b?query", "/a|b?query", "?q", "", "/%7e/./x",
					  "/%2F%41|"};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		size_t len = strlen(ins[i]);
		int full = run(HF_PATH_BASE, ins[i], len, out, (uint32_t)(3 * len + 1));

		assert_true(full > 0);
		for (uint32_t cap = 0; cap < (uint32_t)full; cap++) {
			memset(out, 'Z', sizeof(out));
			assert_int_equal(run(HF_PATH_BASE, ins[i], len, out, cap), HF_PATH_E_SPACE);
			for (size_t k = cap; k < sizeof(out); k++)
				assert_int_equal(out[k], 'Z');
		}
		if (strstr(ins[i], "/.") == NULL)
			assert_int_equal(run(HF_PATH_BASE, ins[i], len, out, (uint32_t)full), full);
	}
	/* NONE writes only for an empty path */
	assert_int_equal(run(HF_PATH_NONE, "?q", 2, out, 2), HF_PATH_E_SPACE);
	assert_int_equal(run(HF_PATH_NONE, "?q", 2, out, 3), 3);
	assert_memory_equal(out, "/?q", 3);
}

static void
test_mode_names(void **state)
{
	(void)state;
	assert_int_equal(hf_path_mode_parse("BASE"), HF_PATH_BASE);
	assert_int_equal(hf_path_mode_parse("DEFAULT"), HF_PATH_BASE);
	assert_int_equal(hf_path_mode_parse("NONE"), HF_PATH_NONE);
	assert_int_equal(hf_path_mode_parse("MERGE_SLASHES"), HF_PATH_MERGE_SLASHES);
	assert_int_equal(hf_path_mode_parse("DECODE_AND_MERGE_SLASHES"),
			 HF_PATH_DECODE_AND_MERGE_SLASHES);
	assert_int_equal(hf_path_mode_parse("base"), -1);
	assert_int_equal(hf_path_mode_parse("MERGE"), -1);
	assert_int_equal(hf_path_mode_parse(""), -1);
	for (int m = 0; m < 4; m++)
		assert_int_equal(hf_path_mode_parse(hf_path_mode_name((enum hf_path_mode)m)), m);
}

/* ---------------------------------------------------------------- the slow reference */

/*
 * The same normalization, the long way: the path is cut into units, the units
 * into a list of segments (decoded text), the list resolved by RFC 3986 5.2.4
 * as a stack of segments, then joined and merged. Returns the length or a
 * HF_PATH_E_* error (no E_SPACE: the buffer is large).
 */
#define REF_MAX 512

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
ref_normalize(enum hf_path_mode mode, const char *in, size_t len, char *out)
{
	static char segs[REF_MAX][REF_MAX];
	static size_t seglen[REF_MAX];
	size_t nseg = 1, plen = len, n = 0, i;
	const char *q = memchr(in, '?', len);

	if (q != NULL)
		plen = (size_t)(q - in);
	/* NONE: as it came, unless a %00 */
	if (mode == HF_PATH_NONE) {
		for (i = 0; i < plen; i++)
			if (in[i] == '\0' ||
			    (in[i] == '%' && plen - i >= 3 && in[i + 1] == '0' && in[i + 2] == '0'))
				return HF_PATH_E_NUL;
		if (plen == 0) {
			out[0] = '/';
			memcpy(out + 1, in, len);
			return (int)len + 1;
		}
		memcpy(out, in, len);
		return (int)len;
	}
	/* units into segments: segs[0] is the one after the root's slash */
	seglen[0] = 0;
	i = (plen > 0 && (in[0] == '/' || in[0] == '\\')) ? 1 : 0;
	for (; i < plen; i++) {
		unsigned char c = (unsigned char)in[i];
		char *s = segs[nseg - 1];
		size_t *sl = &seglen[nseg - 1];
		int slash = c == '/' || c == '\\';
		char piece[4];
		size_t pn = 0;

		if (c == '%') {
			int h = i + 1 < plen ? hexval(in[i + 1]) : -1, l = i + 2 < plen ? hexval(in[i + 2]) : -1;
			int v;

			if (h < 0 || l < 0)
				return HF_PATH_E_ESCAPE;
			v = h * 16 + l;
			i += 2;
			if (v == 0)
				return HF_PATH_E_NUL;
			if (mode == HF_PATH_DECODE_AND_MERGE_SLASHES && (v == '/' || v == '\\')) {
				slash = 1;
			} else if ((v >= 'A' && v <= 'Z') || (v >= 'a' && v <= 'z') ||
				   (v >= '0' && v <= '9') || v == '-' || v == '.' || v == '_' || v == '~') {
				piece[pn++] = (char)v;
			} else {
				pn = (size_t)snprintf(piece, sizeof(piece), "%%%02X", v);
			}
		} else if (c == 0) {
			return HF_PATH_E_NUL;
		} else if (!slash) {
			if (c <= 0x20 || c >= 0x7f || strchr("\"#<>^`{|}", c) != NULL)
				pn = (size_t)snprintf(piece, sizeof(piece), "%%%02X", c);
			else
				piece[pn++] = (char)c;
		}
		if (slash) {
			seglen[nseg] = 0;
			nseg++;
			continue;
		}
		memcpy(s + *sl, piece, pn);
		*sl += pn;
	}
	/*
	 * Resolve: a
	 * "." or ".." segment goes (".." with the one before it, not below the
	 * root), and when it was the last segment the path ends in a slash.
	 */
	{
		static char stk[REF_MAX][REF_MAX];
		static size_t stl[REF_MAX];
		size_t top = 0;
		int trailing = 0;

		for (size_t k = 0; k < nseg; k++) {
			int dot = seglen[k] == 1 && segs[k][0] == '.';
			int dotdot = seglen[k] == 2 && segs[k][0] == '.' && segs[k][1] == '.';

			trailing = 0;
			if (dot || dotdot) {
				if (dotdot && top > 0)
					top--;
				trailing = 1;
				continue;
			}
			memcpy(stk[top], segs[k], seglen[k]);
			stl[top++] = seglen[k];
		}
		out[n++] = '/';
		for (size_t k = 0; k < top; k++) {
			memcpy(out + n, stk[k], stl[k]);
			n += stl[k];
			if (k + 1 < top)
				out[n++] = '/';
		}
		if (trailing && top > 0)
			out[n++] = '/';
	}
	if (mode != HF_PATH_BASE) {
		size_t k = 1;

		for (size_t j = 1; j < n; j++)
			if (out[j] != '/' || out[k - 1] != '/')
				out[k++] = out[j];
		n = k;
	}
	memcpy(out + n, in + plen, len - plen);
	return (int)(n + len - plen);
}

/* Random paths from pieces chosen to meet each other: dots, slashes, escapes, the query. */
static void
test_normalize_reference(void **state)
{
	static const char *const pieces[] = {
		"/", "/", "/", "//", "\\", ".", "..", "...", "a", "bc", "%2e", "%2E", "%2f", "%2F",
		"%5c", "%5C", "%41", "%7e", "%25", "%zz", "%4", "%", "%00", "|", "~", "-", "?", "?/../",
		"%c3%a9", ";x=1", "@", "#",
	};
	char in[256], got[1024], want[1024];
	unsigned long long seed = 0x9e3779b97f4a7c15ull;
	unsigned int changed = 0, refused = 0;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = 0;
		int np;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		np = (int)((seed >> 33) % 9);
		if ((seed >> 20) % 8 != 0)
			in[len++] = '/';
		for (int k = 0; k < np; k++) {
			const char *p;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			p = pieces[(seed >> 33) % (sizeof(pieces) / sizeof(pieces[0]))];
			memcpy(in + len, p, strlen(p));
			len += strlen(p);
		}
		/* The contract: an empty path or one that starts with '/'. */
		if (len > 0 && in[0] != '/' && in[0] != '?')
			continue;
		for (int m = 0; m < 4; m++) {
			int r = hf_path_normalize((enum hf_path_mode)m, in, (uint32_t)len, got, sizeof(got));
			int e = ref_normalize((enum hf_path_mode)m, in, len, want);

			if (r == 0) {
				memcpy(got, in, len);
				r = (int)len;
			}
			if (r != e || (r > 0 && memcmp(got, want, (size_t)r) != 0))
				fail_msg("%s '%.*s': %d '%.*s', reference %d '%.*s'", hf_path_mode_name(m),
					 (int)len, in, r, r > 0 ? r : 0, got, e, e > 0 ? e : 0, want);
			if (r < 0) {
				refused++;
				continue;
			}
			changed += (size_t)r != len || memcmp(got, in, len) != 0;
			/* normal form is a fixed point: normalizing it again changes nothing */
			if (m != HF_PATH_NONE) {
				char again[1024];
				int r2 = hf_path_normalize((enum hf_path_mode)m, got, (uint32_t)r, again,
							   sizeof(again));

				if (r2 != 0 && (r2 != r || memcmp(again, got, (size_t)r) != 0))
					fail_msg("%s '%.*s' -> '%.*s' -> %d '%.*s'", hf_path_mode_name(m),
						 (int)len, in, r, got, r2, r2 > 0 ? r2 : 0, again);
			}
		}
	}
	/* the random paths reach both branches, or this test proves little */
	assert_true(changed > 10000);
	assert_true(refused > 10000);
}

/*
 * Every byte position of every path length up to 140 (the scan's vector steps
 * change at 10, 17, 33 and every 32 bytes): an otherwise normal path with one
 * byte replaced, or "/." or "//" put there, against the reference, in BASE
 * and MERGE_SLASHES. A lane the vector masks misplace shows here.
 */
static void
test_normalize_positions(void **state)
{
	static const char subst[] = {'?', '\\', '|', '%', '.', '/', '#', '~', '\x7f', '\x80', ' '};
	static const char *const inserts[] = {"/.", "//", "/..", "/./", "%2e", "?/../"};
	char in[160], got[1024], want[1024];
	unsigned int cases = 0;

	(void)state;
	for (uint32_t len = 1; len <= 140; len++) {
		for (uint32_t k = 1; k < len; k++) {
			for (size_t v = 0; v < sizeof(subst) + sizeof(inserts) / sizeof(inserts[0]); v++) {
				uint32_t n = len;

				for (uint32_t i = 0; i < len; i++)
					in[i] = i == 0 || i % 7 == 0 ? '/' : (char)('a' + i % 7);
				if (v < sizeof(subst)) {
					in[k] = subst[v];
				} else {
					const char *ins = inserts[v - sizeof(subst)];
					size_t il = strlen(ins);

					if (k + il > len)
						continue;
					memcpy(in + k, ins, il);
				}
				for (int m = 0; m < 4; m += 2) {
					int r = hf_path_normalize((enum hf_path_mode)m, in, n, got, sizeof(got));
					int e = ref_normalize((enum hf_path_mode)m, in, n, want);

					if (r == 0) {
						memcpy(got, in, n);
						r = (int)n;
					}
					if (r != e || (r > 0 && memcmp(got, want, (size_t)r) != 0))
						fail_msg("%s len %u at %u: '%.*s': %d '%.*s', reference %d '%.*s'",
							 hf_path_mode_name(m), len, k, (int)n, in, r, r > 0 ? r : 0,
							 got, e, e > 0 ? e : 0, want);
					cases++;
				}
			}
		}
	}
	assert_true(cases > 100000);
}

/*
 * A mutation check: the reference is not the function under test made twice.
 * A deliberately wrong answer (merging before the dot segments) must differ
 * from it on a case the table names.
 */
static void
test_reference_can_fail(void **state)
{
	char want[64];
	int e;

	(void)state;
	e = ref_normalize(HF_PATH_MERGE_SLASHES, "/a//..", 6, want);
	assert_int_equal(e, 3);
	assert_memory_equal(want, "/a/", 3);
	assert_false(e == 1 && memcmp(want, "/", 1) == 0);
	e = ref_normalize(HF_PATH_BASE, "/%2e%2e/x%2f", 12, want);
	assert_int_equal(e, 5);
	assert_memory_equal(want, "/x%2F", 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_forms),
		cmocka_unit_test(test_normalize_table),
		cmocka_unit_test(test_normalize_space),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_normalize_reference),
		cmocka_unit_test(test_normalize_positions),
		cmocka_unit_test(test_reference_can_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
