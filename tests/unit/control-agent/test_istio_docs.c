/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A YAML file in pieces (control-agent/istio/docs.c): where the splitter
 * cuts and where it refuses to, and that pieces parsed alone, or a long
 * sequence rebuilt from its old tree with only the changed items parsed,
 * make the very trees (types, text, line numbers) the whole-file parse
 * makes. The rebuild is cross-checked against the whole parse over
 * thousands of random edits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/istio/istio-int.h"

static char err[HF_ISTIO_ERR];

static void
st_init(struct ist *st)
{
	memset(st, 0, sizeof(*st));
	st->err = err;
	st->errlen = sizeof(err);
	st->path = "t.yaml";
	err[0] = '\0';
}

/* ---- the splitter ---- */

struct split_case {
	const char *name, *text;
	int rc;			/* 0: split; 1: refused */
	unsigned int n;
	size_t off[4];
	unsigned int line0[4];
};

static const struct split_case split_cases[] = {
	{"one document", "a: 1\n", 0, 1, {0}, {0}},
	{"leading marker", "---\na: 1\n---\nb: 2\n", 0, 2, {0, 9}, {0, 2}},
	{"comment first", "# c\n---\na: 1\n", 0, 2, {0, 4}, {0, 1}},
	{"no newline at the end", "a: 1\n---", 0, 2, {0, 5}, {0, 1}},
	{"marker, comment", "a\n--- # x\nb\n", 0, 2, {0, 2}, {0, 1}},
	{"marker, tab", "a\n---\tb\n", 0, 2, {0, 2}, {0, 1}},
	{"marker, content", "a\n--- |\n  t\n", 0, 2, {0, 2}, {0, 1}},
	{"not markers", "a: |\n  ---\n  x\nb: ----\n---x: 1\n", 0, 1, {0}, {0}},
	{"four dashes", "a: 1\n----\n", 0, 1, {0}, {0}},
	{"indented marker in a block scalar", "a: |\n ---\n ...\n", 0, 1, {0}, {0}},
	{"empty documents", "---\n---\n---\na: 1\n", 0, 3, {0, 4, 8}, {0, 1, 2}},
	{"document end", "a: 1\n...\n---\nb: 2\n", 0, 2, {0, 9}, {0, 2}},
	{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", 0, 2, {0, 6}, {0, 1}},
	{"UTF-8 BOM", "\xef\xbb\xbf" "a: 1\n---\nb: 2\n", 0, 2, {0, 8}, {0, 1}},
	{"%YAML directive", "%YAML 1.2\n---\na: 1\n", 1, 0, {0}, {0}},
	{"%TAG directive later", "a: 1\n...\n%TAG ! tag:x,2024:\n---\nb: 2\n", 1, 0, {0}, {0}},
	{"CR alone", "a: 1\r---\rb: 2\r", 1, 0, {0}, {0}},
	{"NEL", "a: x\xc2\x85---\nb: 2\n", 1, 0, {0}, {0}},
	{"LS", "a: x\xe2\x80\xa8---\n", 1, 0, {0}, {0}},
	{"UTF-16 BOM", "\xff\xfe" "a\0:\0", 1, 0, {0}, {0}},
	{"empty file", "", 0, 1, {0}, {0}},
};

static void
test_split_table(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < sizeof(split_cases) / sizeof(split_cases[0]); c++) {
		const struct split_case *k = &split_cases[c];
		size_t len = strcmp(k->name, "UTF-16 BOM") == 0 ? 6 : strlen(k->text);
		struct ist_piece *p;
		unsigned int n;
		int rc = ist_yaml_split(k->text, len, &p, &n);

		if (rc != k->rc)
			fail_msg("%s: rc %d, not %d", k->name, rc, k->rc);
		if (rc != 0)
			continue;
		if (n != k->n)
			fail_msg("%s: %u pieces, not %u", k->name, n, k->n);
		for (unsigned int i = 0; i < n; i++) {
			size_t end = i + 1 < n ? p[i + 1].off : len;

			if (p[i].off != k->off[i] || p[i].line0 != k->line0[i] ||
			    p[i].len != end - p[i].off)
				fail_msg("%s: piece %u at %zu (line %u, %zu bytes)", k->name, i,
					 p[i].off, p[i].line0, p[i].len);
		}
		free(p);
	}
}

/* ---- trees compared ---- */

static bool
same_tree(const struct yn *a, const struct yn *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type || a->line != b->line || a->kline != b->kline ||
	    a->size != b->size || a->n != b->n) {
		print_message("  differ at line %u/%u: type %d/%d, %lu/%lu nodes, %u/%u children\n",
			      a->line, b->line, a->type, b->type, a->size, b->size, a->n, b->n);
		return false;
	}
	if ((a->s == NULL) != (b->s == NULL) || (a->s != NULL && strcmp(a->s, b->s) != 0))
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if ((a->type == YN_MAP && !same_tree(a->key[i], b->key[i])) ||
		    !same_tree(a->val[i], b->val[i]))
			return false;
	return true;
}

#define MAX_DOCS 16

struct whole {
	const struct yn *roots[MAX_DOCS];
	unsigned int n;
};

static struct whole *collecting;

static int
collect(struct ist *st, const char *file, const struct yn *root)
{
	(void)st;
	(void)file;
	assert_true(collecting->n < MAX_DOCS);
	collecting->roots[collecting->n++] = root;
	return 0;
}

static int
parse_whole(struct ist *st, const char *text, size_t len, struct whole *w)
{
	memset(w, 0, sizeof(*w));
	collecting = w;
	return ist_parse_yaml(st, "t.yaml", text, len, collect);
}

/* Pieces parsed alone give the whole parse's non-empty documents, lines included. */
static void
check_pieces(const char *text)
{
	struct ist st;
	struct whole w;
	struct ist_piece *p;
	unsigned int n, k = 0;

	st_init(&st);
	assert_int_equal(parse_whole(&st, text, strlen(text), &w), 0);
	assert_int_equal(ist_yaml_split(text, strlen(text), &p, &n), 0);
	for (unsigned int i = 0; i < n; i++) {
		struct ist_piece_parse pp;

		assert_int_equal(ist_parse_piece(&st, "t.yaml", text + p[i].off, p[i].len,
						 p[i].line0, &pp), 0);
		assert_true(pp.n_docs <= 1);
		if (pp.root == NULL)
			continue;
		assert_true(k < w.n);
		if (!same_tree(pp.root, w.roots[k]))
			fail_msg("piece %u differs from document %u in:\n%s", i, k, text);
		k++;
	}
	assert_int_equal(k, w.n);
	free(p);
	ist_arena_free(&st);
}

static void
test_pieces_match_whole(void **state)
{
	(void)state;
	check_pieces("# header\n"
		     "a: 1\n"
		     "b: |\n"
		     "  text\n"
		     "  ---\n"
		     "   --- more\n"
		     "---\n"
		     "---\n"
		     "c: [1, 2,\n"
		     "  3]\n"
		     "d: &x {k: v}\n"
		     "e: *x\n"
		     "...\n"
		     "# between\n"
		     "--- # marker with a comment\n"
		     "f: >\n"
		     "  folded\n"
		     "  lines\n"
		     "g: \"quoted\n"
		     "  on two lines\"\n"
		     "--- ~\n"
		     "--- plain\n"
		     "--- |\n"
		     " literal root\n"
		     "---\n"
		     "- x\n"
		     "- y\n");
	check_pieces("a: 1\r\n---\r\nb: |\r\n  x\r\n---\r\nc: 3\r\n");
	check_pieces("\xef\xbb\xbf" "a: 1\n---\nb: 2");
}

/* A syntax error in document 3 names its line in the file, as the whole parse does. */
static void
test_error_line(void **state)
{
	static const char text[] = "a: 1\n"		/* 1 */
				   "---\n"		/* 2 */
				   "b: 2\n"		/* 3 */
				   "---\n"		/* 4 */
				   "c: 3\n"		/* 5 */
				   "d: e: 5\n"		/* 6 */
				   "---\n"		/* 7 */
				   "f: 6\n";		/* 8 */
	char whole[HF_ISTIO_ERR];
	struct ist_piece *p;
	struct ist_piece_parse pp;
	struct whole w;
	struct ist st;
	unsigned int n;

	(void)state;
	st_init(&st);
	assert_int_equal(parse_whole(&st, text, strlen(text), &w), -EINVAL);
	snprintf(whole, sizeof(whole), "%s", err);
	print_message("  whole: %s\n", whole);
	assert_non_null(strstr(whole, "t.yaml:6:"));
	assert_int_equal(ist_yaml_split(text, strlen(text), &p, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(ist_parse_piece(&st, "t.yaml", text + p[2].off, p[2].len, p[2].line0,
					 &pp), -EINVAL);
	assert_string_equal(err, whole);
	free(p);
	ist_arena_free(&st);
}

/* ---- a long sequence rebuilt from its old tree ---- */

/* Item forms the routes of a VirtualService take, and some YAML ones they could. */
static const char *const item_forms[] = {
	"  - match: [{uri: {exact: \"/r/%u\"}}]\n    route: [{destination: {host: a}}]\n",
	"  - name: r%u\n    route:\n    - destination: {host: b, port: {number: 80}}\n",
	"  - plain %u\n",
	"  - |\n    block %u\n    ---\n\n",
	"  - {flow: %u,\n     more: [1, 2]}\n",
	"  # a comment\n  - \"quoted %u\"\n",
	"  - key: value %u\n    continued: plain\n      on two lines\n",
	"  - - nested %u\n    - seq\n",
};

/* @p n items under "http:": at the column of a mapping's keys (indentless) or deeper. */
static char *
doc_text(unsigned int n, unsigned int seed)
{
	bool indentless = seed % 2 == 0;
	size_t cap = 256 + (size_t)n * 128, len;
	char *t = malloc(cap);

	assert_non_null(t);
	len = (size_t)snprintf(t, cap, indentless ? "kind: VirtualService\nmetadata: {name: x}\n"
						    "spec:\n  hosts: [\"*\"]\n  http:\n"
						  : "kind: VirtualService\nhttp:\n");
	for (unsigned int i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len,
					item_forms[(i * 7 + seed) % (sizeof(item_forms) /
								      sizeof(item_forms[0]))], i);
	snprintf(t + len, cap - len, indentless ? "  tcp: []\n" : "tcp: []\n");
	return t;
}

struct old_doc {
	struct ist st;
	const struct yn *root;
	struct ist_seqix ix;
	size_t *off;
};

static void
old_parse(struct old_doc *o, const char *text)
{
	struct ist_piece_parse pp;

	st_init(&o->st);
	assert_int_equal(ist_parse_piece(&o->st, "t.yaml", text, strlen(text), 0, &pp), 0);
	assert_false(pp.aliases);
	assert_int_equal(pp.seq.n >= IST_SPLICE_MIN, 1);
	o->root = pp.root;
	o->ix = pp.seq;
	assert_int_equal(ist_seq_offsets(text, strlen(text), 0, pp.root, &pp.seq, &o->off), 0);
}

/*
 * Splices @p nt from @p o (text @p ot): when it can, the tree must be the
 * whole parse's; when the whole parse fails, it must not. Returns rc.
 */
static int
splice_check(struct old_doc *o, const char *ot, const char *nt, size_t **no)
{
	struct ist_piece_parse pp, full;
	struct ist st, fs;
	int rc, frc;

	st_init(&st);
	rc = ist_splice(&st, "t.yaml", ot, strlen(ot), o->root, &o->ix, o->off, nt, strlen(nt),
			&pp, no);
	assert_true(rc == 0 || rc == 1);
	st_init(&fs);
	frc = ist_parse_piece(&fs, "t.yaml", nt, strlen(nt), 0, &full);
	if (rc == 0) {
		if (frc != 0 || full.n_docs != 1)
			fail_msg("spliced, but the whole parse fails (%s):\n%s", err, nt);
		if (!same_tree(pp.root, full.root))
			fail_msg("spliced tree differs from the whole parse's:\n%s", nt);
		assert_int_equal(pp.nodes, full.nodes);
		/* the new offsets are those an index of the new text has (same sequence noted) */
		if (*no != NULL && pp.seq.n == full.seq.n && pp.seq.depth == full.seq.depth &&
		    memcmp(pp.seq.path, full.seq.path,
			   sizeof(pp.seq.path[0]) * pp.seq.depth) == 0) {
			size_t *fo;

			assert_int_equal(ist_seq_offsets(nt, strlen(nt), 0, full.root, &full.seq,
							 &fo), 0);
			assert_memory_equal(*no, fo, sizeof(*fo) * (full.seq.n + 1));
			free(fo);
		}
	}
	ist_arena_free(&fs);
	/* the spliced tree shares the old one's nodes: o->st's arena outlives it here */
	ist_arena_free(&st);
	return rc;
}

/* One item changed in place: spliced; one more line: parsed whole. */
static void
test_splice_one_item(void **state)
{
	char *ot = doc_text(40, 0), *nt = strdup(ot), *p;
	struct old_doc o;
	size_t *no = NULL;

	(void)state;
	old_parse(&o, ot);
	p = strstr(nt, "\"/r/16\"");
	assert_non_null(p);
	p[4] = '9';
	assert_int_equal(splice_check(&o, ot, nt, &no), 0);
	assert_non_null(no);
	free(no);
	free(nt);
	/* a line more: the items after it would keep wrong line numbers */
	nt = malloc(strlen(ot) + 64);
	p = strstr(ot, "  - plain 22\n");
	assert_non_null(p);
	sprintf(nt, "%.*s  - added\n%s", (int)(p - ot), ot, p);
	assert_int_equal(splice_check(&o, ot, nt, &no), 1);
	free(nt);
	/* a change outside the sequence */
	nt = strdup(ot);
	nt[strlen(nt) - 3] = '{';
	nt[strlen(nt) - 2] = '}';
	assert_int_equal(splice_check(&o, ot, nt, &no), 1);
	free(nt);
	free(o.off);
	ist_arena_free(&o.st);
	free(ot);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned int
rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/*
 * Random edits inside and around the sequence: bytes that matter to YAML
 * (indicators, blanks, line breaks, quotes, '#', '&', '*', "---"), lines
 * duplicated or removed. Every splice the loader would take must equal the
 * whole parse.
 */
static void
test_splice_random(void **state)
{
	static const char *const bits[] = {
		"-", " ", "  ", "\n", ":", "- ", "  - ", "\"", "'", "#", "[", "]", "{", "}", ",",
		"|", ">", "&a ", "*a", "---\n", "...\n", "\t", "x", "\r\n", "  - y\n",
		"\n  - z: 1\n",
		"? ", "!!str ", "%", "\xef\xbb\xbf", "\n    ", "\n      k: v\n",
	};
	const char *env = getenv("HF_SPLICE_ROUNDS");	/* more, for a longer search */
	unsigned int spliced = 0, whole = 0, rounds = env != NULL ? (unsigned int)atoi(env) : 40;

	(void)state;
	if (env != NULL)
		rng ^= (uint64_t)rounds * 0x9e3779b97f4a7c15ull;
	for (unsigned int round = 0; round < rounds; round++) {
		char *ot = doc_text(IST_SPLICE_MIN + round % 24, round);
		size_t ol = strlen(ot);
		struct old_doc o;

		old_parse(&o, ot);
		for (unsigned int e = 0; e < 150; e++) {
			char *nt = malloc(ol + 256);
			size_t at = rnd((unsigned int)ol), cut = rnd(4) == 0 ? rnd(12) : 0, len;
			size_t *no = NULL;
			const char *b = bits[rnd(sizeof(bits) / sizeof(bits[0]))];

			if (at + cut > ol)
				cut = ol - at;
			len = (size_t)sprintf(nt, "%.*s%s%s", (int)at, ot, rnd(3) == 0 ? "" : b,
					      ot + at + cut);
			if (rnd(8) == 0) {
				/* two changes far apart */
				size_t at2 = rnd((unsigned int)len);

				memmove(nt + at2 + 1, nt + at2, len - at2 + 1);
				nt[at2] = bits[rnd(sizeof(bits) / sizeof(bits[0]))][0];
			}
			if (splice_check(&o, ot, nt, &no) == 0)
				spliced++;
			else
				whole++;
			free(no);
			free(nt);
		}
		free(o.off);
		ist_arena_free(&o.st);
		free(ot);
	}
	print_message("  %u edits spliced, %u parsed whole\n", spliced, whole);
	/* the test is only worth something if both happen often */
	assert_true(spliced > 500 && whole > 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_pieces_match_whole),
		cmocka_unit_test(test_error_line),
		cmocka_unit_test(test_splice_one_item),
		cmocka_unit_test(test_splice_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
