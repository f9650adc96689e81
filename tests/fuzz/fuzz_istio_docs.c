/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Istio file cache's pieces (control-agent/istio/docs.c),
 * differential: the input is an old and a new YAML file, cut at the first
 * "\n@@\n" (no cut: the new file is the old one with its middle byte
 * changed). Both must read the same in pieces as whole: every piece the
 * splitter makes parsed alone gives the whole parse's document, lines
 * included, and where the whole parse fails a piece does. Each old
 * document's indexed sequence rebuilt into the new one's bytes
 * (ist_splice) must give the new whole parse's tree whenever it is taken.
 * No crash, no read out of bounds, no leak (ASan, LSan).
 * fuzzes: control-agent/istio/docs.c control-agent/istio/yaml.c control-agent/istio/tree.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $(pkg-config --libs yaml-0.1) -lm
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char err[HF_ISTIO_ERR];

static void
st_init(struct ist *st)
{
	memset(st, 0, sizeof(*st));
	st->err = err;
	st->errlen = sizeof(err);
	st->path = "f.yaml";
}

static bool
same_tree(const struct yn *a, const struct yn *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type || a->line != b->line || a->kline != b->kline ||
	    a->size != b->size || a->n != b->n)
		return false;
	if ((a->s == NULL) != (b->s == NULL) || (a->s != NULL && strcmp(a->s, b->s) != 0))
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if ((a->type == YN_MAP && !same_tree(a->key[i], b->key[i])) ||
		    !same_tree(a->val[i], b->val[i]))
			return false;
	return true;
}

#define MAX_DOCS 64

struct whole {
	const struct yn *roots[MAX_DOCS];
	unsigned int n;
	bool many;
};

static struct whole *collecting;

static int
collect(struct ist *st, const char *file, const struct yn *root)
{
	(void)st;
	(void)file;
	if (collecting->n == MAX_DOCS) {
		collecting->many = true;
		return 0;
	}
	collecting->roots[collecting->n++] = root;
	return 0;
}

/* One piece parsed alone, as the cache does it. */
struct piece {
	struct ist_piece at;
	struct ist_piece_parse pp;
	int rc;
	size_t *off;
};

/*
 * Parses @p text whole and in pieces into @p st (its arena): they must agree.
 * Returns the pieces (malloc'ed, *@p n), NULL when the text cannot be split
 * or the whole parse failed.
 */
static struct piece *
check_file(struct ist *st, const char *text, size_t len, unsigned int *n)
{
	struct ist_piece *at;
	struct piece *pc;
	struct whole w = {0};
	unsigned int k = 0;
	bool failed = false;
	int rc;

	collecting = &w;
	rc = ist_parse_yaml(st, "f.yaml", text, len, collect);
	if (ist_yaml_split(text, len, &at, n) != 0)
		return NULL;
	pc = calloc(*n, sizeof(*pc));
	if (pc == NULL)
		abort();
	for (unsigned int i = 0; i < *n; i++) {
		pc[i].at = at[i];
		pc[i].rc = ist_parse_piece(st, "f.yaml", text + at[i].off, at[i].len, at[i].line0,
					   &pc[i].pp);
		if (pc[i].rc != 0 || pc[i].pp.n_docs > 1) {
			failed = true;
			continue;
		}
		if (pc[i].pp.root != NULL && !pc[i].pp.aliases && pc[i].pp.seq.n > 0 &&
		    ist_seq_offsets(text + at[i].off, at[i].len, at[i].line0, pc[i].pp.root,
				    &pc[i].pp.seq, &pc[i].off) < 0)
			abort();
		if (rc == 0 && pc[i].pp.root != NULL && !w.many) {
			if (k >= w.n || !same_tree(pc[i].pp.root, w.roots[k])) {
				fprintf(stderr, "piece %u differs from the whole parse\n", i);
				abort();
			}
			k++;
		}
	}
	free(at);
	/* the loader falls back to the whole parse when a piece fails: it need not agree then */
	if (rc == 0 && !failed && !w.many && k != w.n) {
		fprintf(stderr, "%u documents in pieces, %u whole\n", k, w.n);
		abort();
	}
	if (rc != 0 && !failed) {
		/* a piece count over IST_MAX_NODES is the only whole-file failure pieces miss */
		unsigned long nodes = 0;

		for (unsigned int i = 0; i < *n; i++)
			nodes += pc[i].pp.nodes;
		if (nodes <= IST_MAX_NODES) {
			fprintf(stderr, "the whole parse fails (%s), every piece parses\n", err);
			abort();
		}
	}
	if (rc != 0 || failed) {
		for (unsigned int i = 0; i < *n; i++)
			free(pc[i].off);
		free(pc);
		return NULL;
	}
	return pc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *cut = memmem(in, size, "\n@@\n", 4);
	size_t ol = cut != NULL ? (size_t)(cut - in) + 1 : size, nl;
	char *ot = malloc(ol + 1), *nt;
	struct piece *op, *np;
	unsigned int on = 0, nn = 0;
	struct ist so, sn;

	if (ot == NULL)
		return 0;
	memcpy(ot, in, ol);
	if (cut != NULL) {
		nl = size - ol - 3;
		nt = malloc(nl + 1);
		if (nt == NULL)
			abort();
		memcpy(nt, cut + 4, nl);
	} else {
		nl = ol;
		nt = malloc(nl + 1);
		if (nt == NULL)
			abort();
		memcpy(nt, ot, nl);
		if (nl > 0)
			nt[nl / 2] = (char)(nt[nl / 2] ^ 0x20);
	}
	st_init(&so);
	st_init(&sn);
	op = check_file(&so, ot, ol, &on);
	np = check_file(&sn, nt, nl, &nn);
	/* the new file's pieces from the old ones at their place, as the cache tries them */
	for (unsigned int i = 0; op != NULL && np != NULL && i < on && i < nn; i++) {
		struct ist_piece_parse pp;
		size_t *no = NULL;
		struct ist st;
		int rc;

		if (op[i].off == NULL || op[i].at.line0 != np[i].at.line0)
			continue;
		st_init(&st);
		rc = ist_splice(&st, "f.yaml", ot + op[i].at.off, op[i].at.len,
				op[i].pp.root, &op[i].pp.seq, op[i].off, nt + np[i].at.off,
				np[i].at.len, &pp, &no);
		if (rc == 0 && !same_tree(pp.root, np[i].pp.root)) {
			fprintf(stderr, "piece %u spliced differs from its whole parse\n", i);
			abort();
		}
		if (rc < 0)
			abort();
		free(no);
		ist_arena_free(&st);
	}
	for (unsigned int i = 0; op != NULL && i < on; i++)
		free(op[i].off);
	for (unsigned int i = 0; np != NULL && i < nn; i++)
		free(np[i].off);
	free(op);
	free(np);
	ist_arena_free(&so);
	ist_arena_free(&sn);
	free(ot);
	free(nt);
	return 0;
}
