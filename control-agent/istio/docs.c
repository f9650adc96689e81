/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A file in pieces, so that a reload parses only what changed in it
 * (filecache.c keeps a tree per piece): the file is cut before each
 * document start marker, and in a document whose longest block sequence
 * is long (a VirtualService's http routes), the items whose bytes changed
 * are parsed alone and the rest of the old tree is shared.
 *
 * Both rest on libyaml reading a piece alone as it reads it within the
 * whole, which holds only where the cut leaves the scanner in the state a
 * fresh start has. At a document marker it does: libyaml takes "---" at
 * column 0 followed by a blank as a document start wherever it is (its
 * block scalars need content indented by at least one column, plain
 * scalars stop there, quoted ones fail), which closes every block and
 * anchors do not cross documents. What could make a piece read otherwise
 * (directives, which apply to the next document; line breaks libyaml
 * knows and a cut at LF does not; a UTF-16 byte order mark) sends the file
 * to the whole-file parse. Between items of a block sequence the cut is
 * made only where the old parse showed each item's '-' starting its line
 * at the sequence's column, and the new bytes must read alone as items of
 * a block sequence at that column, with the lines after them unchanged in
 * bytes and number: otherwise the document is parsed whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

/* A marker line: "---" then a blank, a line break or the end of the bytes (YAML 1.2 [203]). */
static bool
marker(const char *p, const char *end)
{
	if (end - p < 3 || p[0] != '-' || p[1] != '-' || p[2] != '-')
		return false;
	return end - p == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' || p[3] == '\r';
}

/*
 * Whether byte @p i of @p u (@p len bytes) is NUL, or a line break libyaml
 * knows and a count of LF does not: CR alone, NEL, LS, PS (U+0085, U+2028,
 * U+2029).
 */
static bool
odd_break(const unsigned char *u, size_t len, size_t i)
{
	unsigned char c = u[i];

	return c == '\0' || (c == '\r' && (i + 1 == len || u[i + 1] != '\n')) ||
	       (c == 0xc2 && i + 1 < len && u[i + 1] == 0x85) ||
	       (c == 0xe2 && i + 2 < len && u[i + 1] == 0x80 &&
		(u[i + 2] == 0xa8 || u[i + 2] == 0xa9));
}

int
ist_yaml_split(const char *data, size_t len, struct ist_piece **out, unsigned int *n)
{
	const unsigned char *u = (const unsigned char *)data;
	const char *end = data + len;
	struct ist_piece *pc = NULL;
	unsigned int line = 0;
	size_t i;

	*out = NULL;
	*n = 0;
	/* libyaml reads UTF-16 after its byte order mark; pieces would not start with it */
	if (len >= 2 && ((u[0] == 0xfe && u[1] == 0xff) || (u[0] == 0xff && u[1] == 0xfe)))
		return 1;
	for (i = 0; i <= len;) {
		struct ist_piece *p;
		size_t eol;

		/* i starts a line */
		if (i < len && data[i] == '%')
			return free(pc), 1;	/* a directive, for the document after it */
		if (*n == 0 || marker(data + i, end)) {
			p = ist_push(&pc, n, sizeof(*p));
			if (p == NULL)
				return free(pc), -ENOMEM;
			p->off = i;
			p->line0 = line;
			if (*n > 1)
				pc[*n - 2].len = i - pc[*n - 2].off;
		}
		if (i == len)
			break;
		for (eol = i; eol < len && u[eol] != '\n'; eol++)
			if (odd_break(u, len, eol))
				return free(pc), 1;
		if (eol == len)
			break;
		i = eol + 1;
		line++;
	}
	pc[*n - 1].len = len - pc[*n - 1].off;
	*out = pc;
	return 0;
}

uint64_t
ist_bytes_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p + i, len - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

/* The node at @p ix's place in @p root. */
static const struct yn *
seq_of(const struct yn *root, const struct ist_seqix *ix)
{
	const struct yn *y = root;

	for (unsigned int d = 0; d < ix->depth; d++) {
		unsigned int k = ix->path[d];

		y = y->type == YN_MAP ? (k % 2 == 1 ? y->val[k / 2] : y->key[k / 2]) : y->val[k];
	}
	return y;
}

/* Whether the line at @p p is @p col spaces then '-' and a blank: a block sequence entry. */
static bool
entry_line(const char *p, const char *end, unsigned int col)
{
	if ((size_t)(end - p) < (size_t)col + 1)
		return false;
	for (unsigned int i = 0; i < col; i++)
		if (p[i] != ' ')
			return false;
	p += col;
	return p[0] == '-' &&
	       (p + 1 == end || p[1] == ' ' || p[1] == '\t' || p[1] == '\n' || p[1] == '\r');
}

/*
 * The offsets of the @p n items of @p seq (lines 1-based, absolute) in the
 * @p len bytes at @p data whose first line is @p line0 + 1, into @p off;
 * with @p end_line (not 0), its start into off[n] (@p len when it is on
 * the last item's line: the sequence ends with the bytes). false when an
 * item does not start an entry line.
 */
static bool
offsets(const char *data, size_t len, unsigned int line0, const struct yn *seq, unsigned int n,
	unsigned int col, unsigned int end_line, size_t *off)
{
	const char *end = data + len, *p = data;
	unsigned int line = line0 + 1, prev = 0;

	for (unsigned int i = 0; i < n || (i == n && end_line != 0); i++) {
		unsigned int want = i < n ? seq->val[i]->line : end_line;

		if (want <= prev || want < line)
			return false;
		while (line < want) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			if (nl == NULL)
				break;
			p = nl + 1;
			line++;
		}
		if (line < want) {
			if (i < n)
				return false;
			off[n] = len;
			return true;
		}
		if (i < n && !entry_line(p, end, col))
			return false;
		off[i] = (size_t)(p - data);
		prev = want;
	}
	return true;
}

int
ist_seq_offsets(const char *data, size_t len, unsigned int line0, const struct yn *root,
		const struct ist_seqix *ix, size_t **off)
{
	size_t *o;

	*off = NULL;
	if (ix->n == 0)
		return 1;
	o = malloc(sizeof(*o) * (ix->n + 1));
	if (o == NULL)
		return -ENOMEM;
	if (!offsets(data, len, line0, seq_of(root, ix), ix->n, ix->col, ix->end_line, o)) {
		free(o);
		return 1;
	}
	*off = o;
	return 0;
}

/* The lines @p n bytes at @p p end (LF), or -1 when they hold another line break or NUL. */
static long
lines_in(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	long k = 0;

	for (size_t i = 0; i < n; i++)
		if (u[i] == '\n')
			k++;
		else if (u[i] < 0x20 || u[i] >= 0xc2)
			if (odd_break(u, n, i))
				return -1;
	return k;
}

/*
 * Whether every line of the @p n bytes at @p p holding more than blanks or
 * a comment is indented by @p col spaces at least: then no token in them
 * reaches the indentation levels below the sequence's, the only part of
 * libyaml's state a parse of them alone does not have.
 */
static bool
indented(const char *p, size_t n, unsigned int col)
{
	const char *end = p + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;

		if (eol == NULL)
			eol = end;
		while (q < eol && q - p < col && *q == ' ')
			q++;
		if (q - p < col) {
			while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q < eol && *q != '#')
				return false;
		}
		p = eol + 1;
	}
	return true;
}

/* A copy of @p y in st's arena whose child at kid position @p k is @p child. */
static struct yn *
copy_with(struct ist *st, const struct yn *y, unsigned int k, struct yn *child)
{
	struct yn *c = ist_alloc(st, sizeof(*c));
	unsigned int n = y->n;

	if (c == NULL)
		return NULL;
	*c = *y;
	/* keys are shared: only the value array differs */
	c->val = ist_alloc(st, sizeof(*c->val) * (n + 1));
	if (c->val == NULL)
		return NULL;
	memcpy(c->val, y->val, sizeof(*c->val) * n);
	c->val[y->type == YN_MAP ? k / 2 : k] = child;
	return c;
}

int
ist_splice(struct ist *st, const char *file, const char *ob, size_t ol,
	   const struct yn *old_root, const struct ist_seqix *ix, const size_t *off,
	   const char *nb, size_t nl, struct ist_piece_parse *out, size_t **new_off)
{
	const struct yn *anc[IST_MAX_DEPTH], *s, *items;
	size_t pre = 0, suf = 0, oe, span;
	struct ist_piece_parse pp;
	char *buf = NULL;
	bool ok;
	unsigned int i, j, k, n = ix->n, m, first;
	struct yn *ns, *y;
	size_t *no = NULL;
	long delta, dsize;
	int rc;

	*new_off = NULL;
	memset(out, 0, sizeof(*out));
	if (n == 0 || off == NULL)
		return 1;
	while (pre < ol && pre < nl && ob[pre] == nb[pre])
		pre++;
	while (suf < ol - pre && suf < nl - pre && ob[ol - 1 - suf] == nb[nl - 1 - suf])
		suf++;
	oe = ol - suf;
	/* the old bytes [off[i], off[j + 1]) hold the change: items i..j are parsed again */
	if (pre < off[0] || oe > off[n])
		return 1;
	for (i = 0; i + 1 < n && off[i + 1] <= pre; i++)
		;
	for (j = i; j + 1 < n && off[j + 1] < oe; j++)
		;
	delta = (long)nl - (long)ol;
	if ((long)off[j + 1] + delta < (long)off[i])
		return 1;
	span = (size_t)((long)off[j + 1] + delta) - off[i];
	/* what follows is the old bytes from a line start on: it must start a line still */
	if (off[i] + span < nl && nb[off[i] + span - 1] != '\n')
		return 1;
	/* the items after keep their lines, as numbered in the old tree */
	if (lines_in(nb + off[i], span) < 0 ||
	    lines_in(nb + off[i], span) != lines_in(ob + off[i], off[j + 1] - off[i]) ||
	    !entry_line(nb + off[i], nb + nl, ix->col) || !indented(nb + off[i], span, ix->col))
		return 1;
	s = old_root;
	for (unsigned int d = 0; d < ix->depth; d++) {
		unsigned int p = ix->path[d];

		anc[d] = s;
		s = s->type == YN_MAP ? s->val[p / 2] : s->val[p];
	}
	first = s->val[i]->line;
	if (!ix->indentless) {
		rc = ist_parse_piece(st, file, nb + off[i], span, first - 1, &pp);
	} else {
		/* under a mapping at its column, as within the document: "k:" the line before */
		buf = malloc(ix->col + 3 + span);
		if (buf == NULL)
			return ist_oom(st);
		memset(buf, ' ', ix->col);
		memcpy(buf + ix->col, "k:\n", 3);
		memcpy(buf + ix->col + 3, nb + off[i], span);
		rc = ist_parse_piece(st, file, buf, ix->col + 3 + span, first - 2, &pp);
		free(buf);
	}
	if (rc == -ENOMEM)
		return rc;
	/* alone, they must read as items of a block sequence at the column of the old one */
	items = pp.root;
	if (rc == 0 && ix->indentless)
		ok = items != NULL && items->type == YN_MAP && items->n == 1 && pp.root_block &&
		     pp.root_col == ix->col && (items = items->val[0])->type == YN_SEQ &&
		     pp.kid_block && pp.kid_col == ix->col && pp.max_depth - 1 + ix->depth <=
		     IST_MAX_DEPTH;
	else
		ok = rc == 0 && items != NULL && items->type == YN_SEQ && pp.root_block &&
		     pp.root_col == ix->col && pp.max_depth + ix->depth <= IST_MAX_DEPTH;
	if (!ok || pp.n_docs != 1 || pp.aliases) {
		if (st->errlen > 0)
			st->err[0] = '\0';
		return 1;
	}
	k = items->n;
	m = n - (j - i + 1) + k;
	no = malloc(sizeof(*no) * (m + 1));
	ns = ist_alloc(st, sizeof(*ns));
	if (no == NULL || ns == NULL)
		goto oom;
	*ns = *s;
	ns->n = m;
	ns->val = ist_alloc(st, sizeof(*ns->val) * (m + 1));
	if (ns->val == NULL)
		goto oom;
	memcpy(ns->val, s->val, sizeof(*ns->val) * i);
	memcpy(ns->val + i, items->val, sizeof(*ns->val) * k);
	memcpy(ns->val + i + k, s->val + j + 1, sizeof(*ns->val) * (n - j - 1));
	ns->size = 1;
	for (unsigned int q = 0; q < m; q++)
		ns->size += ns->val[q]->size;
	dsize = (long)ns->size - (long)s->size;
	/* where the new items start, for the next change: as the old ones, each starts its line */
	memcpy(no, off, sizeof(*no) * i);
	if (offsets(nb + off[i], span, first - 1, items, k, ix->col, 0, no + i)) {
		for (unsigned int q = i; q < i + k; q++)
			no[q] += off[i];
		for (unsigned int q = j + 1; q <= n; q++)
			no[q - (j + 1) + i + k] = (size_t)((long)off[q] + delta);
	} else {
		free(no);
		no = NULL;
	}
	/* the path from the root down to the sequence, copied with the one child changed */
	y = ns;
	for (unsigned int d = ix->depth; d-- > 0;) {
		struct yn *c = copy_with(st, anc[d], ix->path[d], y);

		if (c == NULL)
			goto oom;
		c->size = (unsigned long)((long)anc[d]->size + dsize);
		y = c;
	}
	out->root = y;
	out->n_docs = 1;
	out->nodes = y->size;
	out->seq = *ix;
	out->seq.n = m;
	if (out->nodes > IST_MAX_NODES) {
		free(no);
		return 1;
	}
	*new_off = no;
	return 0;
oom:
	free(no);
	return ist_oom(st);
}
