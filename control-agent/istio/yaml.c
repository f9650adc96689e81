/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML files into the loader's tree (struct yn): libyaml's events, typed as
 * Kubernetes' decoder types plain scalars, with 1-based lines, one call of
 * the caller's function per non-empty document.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "control-agent/istio/istio-int.h"

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The type of a plain scalar under YAML 1.2's core schema (as Kubernetes' decoder reads it). */
static enum yn_type
plain_type(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE",
					    NULL};
	static const char *const specials[] = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF",
					       "+.inf", ".nan", ".NaN", ".NAN", NULL};
	const char *p = s, *e;
	bool digits = false;

	/* most scalars are names: only these first characters can start anything else */
	if (strchr("~nNtTfF.+-0123456789", s[0]) == NULL)
		return YN_STR;
	for (unsigned int i = 0; nulls[i] != NULL; i++)
		if (strcmp(s, nulls[i]) == 0)
			return YN_NULL;
	for (unsigned int i = 0; bools[i] != NULL; i++)
		if (strcmp(s, bools[i]) == 0)
			return YN_BOOL;
	for (unsigned int i = 0; specials[i] != NULL; i++)
		if (strcmp(s, specials[i]) == 0)
			return YN_FLOAT;
	if (*p == '-' || *p == '+')
		p++;
	if (all_digits(p))
		return YN_INT;
	/* [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?, at least one digit before the exponent */
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return YN_STR;
	if (*p == 'e' || *p == 'E') {
		e = ++p;
		if (*e == '-' || *e == '+')
			e++;
		return all_digits(e) ? YN_FLOAT : YN_STR;
	}
	return *p == '\0' ? YN_FLOAT : YN_STR;
}

/*
 * The tree is built straight from libyaml's events (its document loader
 * costs three times the parse). Children wait on one stack until their
 * parent ends; anchors are registered when their node is complete, so an
 * alias can only share a finished node: no cycles. Every alias counts the
 * size of what it stands for against IST_MAX_NODES, so an alias bomb is
 * refused rather than walked.
 */
struct frame {
	struct yn *node;
	unsigned int first;		/* its children: kids[first ..] */
	const char *anchor;		/* registered at the end, NULL: none */
	unsigned int col;		/* 0-based column of its start */
	bool block;			/* a block collection (not flow) */
};

struct anchor {
	const char *name;
	struct yn *node;
};

struct builder {
	struct ist *st;
	const char *file;
	struct frame frames[IST_MAX_DEPTH + 1];
	unsigned int depth;
	struct yn **kids;
	unsigned int n_kids, cap_kids;
	struct anchor *anchors;
	unsigned int n_anchors;
	struct yn *root;
	unsigned long nodes;		/* with what aliases stand for */
	unsigned int line0;		/* lines before the bytes parsed (a piece of a file) */
	/* ist_parse_piece() only (out == NULL otherwise) */
	struct ist_piece_parse *out;
	bool root_block;		/* the document's root is a block collection */
	unsigned int root_col;
	bool kid_seen;			/* the root's first child collection was noted */
};

static int
bfail(struct builder *b, unsigned int line, const char *fmt, const char *arg)
{
	struct yn at = {.line = line};

	b->st->cur_file = b->file;
	b->st->cur_kind = NULL;
	return ist_fail(b->st, &at, NULL, fmt, arg);
}

static int
count(struct builder *b, unsigned long n, unsigned int line)
{
	b->nodes += n;
	if (b->nodes > IST_MAX_NODES)
		return bfail(b, line, "YAML larger than %s nodes (aliases included)", "1000000");
	return 0;
}

static int
add(struct builder *b, struct yn *y)
{
	if (b->depth == 0) {
		b->root = y;
		return 0;
	}
	if (b->n_kids == b->cap_kids) {
		unsigned int cap = b->cap_kids == 0 ? 256 : b->cap_kids * 2;
		struct yn **k = realloc(b->kids, sizeof(*k) * cap);

		if (k == NULL)
			return ist_oom(b->st);
		b->kids = k;
		b->cap_kids = cap;
	}
	b->kids[b->n_kids++] = y;
	return 0;
}

static int
remember(struct builder *b, const char *anchor, struct yn *y)
{
	struct anchor *a;

	if (anchor == NULL)
		return 0;
	a = ist_push(&b->anchors, &b->n_anchors, sizeof(*a));
	if (a == NULL)
		return ist_oom(b->st);
	a->name = anchor;
	a->node = y;
	return 0;
}

static const char *
copy_anchor(struct builder *b, const yaml_char_t *a)
{
	return a != NULL ? ist_strdup(b->st, (const char *)a) : NULL;
}

static int
start(struct builder *b, enum yn_type t, const yaml_event_t *e, const yaml_char_t *anchor,
      bool block)
{
	struct frame *f;
	struct yn *y;

	if (b->depth == IST_MAX_DEPTH)
		return bfail(b, b->line0 + (unsigned int)e->start_mark.line + 1,
			     "YAML nested deeper than %s levels", "64");
	y = ist_alloc(b->st, sizeof(*y));
	if (y == NULL)
		return ist_oom(b->st);
	y->type = t;
	y->line = b->line0 + (unsigned int)e->start_mark.line + 1;
	if (b->depth == 0) {
		b->root_block = block;
		b->root_col = (unsigned int)e->start_mark.column;
		b->kid_seen = false;
	} else if (b->depth == 1 && !b->kid_seen && b->out != NULL) {
		b->kid_seen = true;
		b->out->kid_block = block;
		b->out->kid_col = (unsigned int)e->start_mark.column;
	}
	f = &b->frames[b->depth++];
	f->node = y;
	f->first = b->n_kids;
	f->anchor = copy_anchor(b, anchor);
	f->col = (unsigned int)e->start_mark.column;
	f->block = block;
	if (b->out != NULL && b->depth > b->out->max_depth)
		b->out->max_depth = b->depth;
	if (anchor != NULL && b->out != NULL)
		b->out->aliases = true;
	return anchor != NULL && f->anchor == NULL ? ist_oom(b->st) : count(b, 1, y->line);
}

/*
 * Notes block sequence @p f (just ended at @p end_line, its @p n items in
 * kids[f->first ..]) when it is the longest of the document so far: where a
 * later load may re-parse some of its items alone (docs.c).
 */
static void
note_seq(struct builder *b, const struct frame *f, unsigned int n, unsigned int end_line)
{
	struct ist_seqix *x = &b->out->seq;
	unsigned int d = (unsigned int)(f - b->frames);

	if (!f->block || n < IST_SPLICE_MIN || n <= x->n)
		return;
	x->n = n;
	x->col = f->col;
	x->depth = d;
	x->end_line = end_line;
	/* libyaml keeps the mapping's indentation for it: no level of its own */
	x->indentless = d > 0 && b->frames[d - 1].node->type == YN_MAP &&
			b->frames[d - 1].block && b->frames[d - 1].col == f->col;
	/* a child's node lands in its parent's kids where its own kids began */
	for (unsigned int i = 0; i < d; i++)
		x->path[i] = b->frames[i + 1].first - b->frames[i].first;
}

static int
twice(struct builder *b, const struct yn *key, const struct yn *first)
{
	b->st->cur_file = b->file;
	b->st->cur_kind = NULL;
	return ist_fail(b->st, key, NULL, "key '%s' appears twice (first at line %u)", key->s,
			first->line);
}

static int
end(struct builder *b, const yaml_event_t *e)
{
	struct frame *f = &b->frames[--b->depth];
	/* no kids array yet when the document's first collection is empty ("{}") */
	struct yn *y = f->node, **k = b->kids != NULL ? b->kids + f->first : NULL;
	unsigned int n = b->n_kids - f->first;

	y->size = 1;
	for (unsigned int i = 0; i < n; i++)
		y->size += k[i]->size;
	if (y->type == YN_SEQ) {
		y->n = n;
		y->val = ist_alloc(b->st, sizeof(*y->val) * (n + 1));
		if (y->val == NULL)
			return ist_oom(b->st);
		if (n > 0)
			memcpy(y->val, k, sizeof(*k) * n);
		if (b->out != NULL)
			note_seq(b, f, n, b->line0 + (unsigned int)e->start_mark.line + 1);
	} else {
		y->n = n / 2;
		y->key = ist_alloc(b->st, sizeof(*y->key) * (y->n + 1));
		y->val = ist_alloc(b->st, sizeof(*y->val) * (y->n + 1));
		if (y->key == NULL || y->val == NULL)
			return ist_oom(b->st);
		for (unsigned int i = 0; i < y->n; i++) {
			struct yn *key = k[2 * i], *v = k[2 * i + 1];

			if (key->type == YN_MAP || key->type == YN_SEQ)
				return bfail(b, key->line, "a mapping key must be a %s", "string");
			for (unsigned int j = 0; j < i; j++)
				if (strcmp(y->key[j]->s, key->s) == 0)
					return twice(b, key, y->key[j]);
			y->key[i] = key;
			y->val[i] = v;
			/* a shared (aliased) node keeps the key it was first written under */
			if ((v->type == YN_MAP || v->type == YN_SEQ) && v->kline == 0)
				v->kline = key->line;
		}
	}
	b->n_kids = f->first;
	if (remember(b, f->anchor, y) < 0)
		return -ENOMEM;
	return add(b, y);
}

static int
event(struct builder *b, const yaml_event_t *e)
{
	unsigned int line = b->line0 + (unsigned int)e->start_mark.line + 1;
	struct yn *y;
	int rc;

	switch (e->type) {
	case YAML_SCALAR_EVENT:
		/* a "\0" escape would cut the string where C reads it: what follows would vanish */
		if (memchr(e->data.scalar.value, '\0', e->data.scalar.length) != NULL)
			return bfail(b, line, "a string holds a NUL byte (%s escape)", "\\0");
		y = ist_alloc(b->st, sizeof(*y));
		if (y == NULL || (y->s = ist_alloc(b->st, e->data.scalar.length + 1)) == NULL)
			return ist_oom(b->st);
		memcpy((char *)y->s, e->data.scalar.value, e->data.scalar.length);
		y->type = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_type(y->s)
									  : YN_STR;
		y->line = line;
		y->size = 1;
		if ((rc = count(b, 1, line)) < 0)
			return rc;
		if (e->data.scalar.anchor != NULL) {
			const char *a;

			if (b->out != NULL)
				b->out->aliases = true;
			a = copy_anchor(b, e->data.scalar.anchor);
			if (a == NULL || remember(b, a, y) < 0)
				return ist_oom(b->st);
		}
		return add(b, y);
	case YAML_ALIAS_EVENT:
		if (b->out != NULL)
			b->out->aliases = true;
		for (unsigned int i = b->n_anchors; i-- > 0;)
			if (strcmp(b->anchors[i].name, (const char *)e->data.alias.anchor) == 0) {
				/* a whole subtree, counted once per use */
				y = b->anchors[i].node;
				if ((rc = count(b, y->size, line)) < 0)
					return rc;
				return add(b, y);
			}
		return bfail(b, line, "alias *%s names no complete node before it",
			     (const char *)e->data.alias.anchor);
	case YAML_SEQUENCE_START_EVENT:
		return start(b, YN_SEQ, e, e->data.sequence_start.anchor,
			     e->data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE);
	case YAML_MAPPING_START_EVENT:
		return start(b, YN_MAP, e, e->data.mapping_start.anchor,
			     e->data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return end(b, e);
	default:
		return 0;
	}
}

/* The parse of @p len bytes at @p data: each non-empty document to @p doc, or noted in b->out. */
static int
run(struct builder *b, const void *data, size_t len,
    int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct ist *st = b->st;
	yaml_parser_t p;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return ist_oom(st);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (rc == 0) {
		yaml_event_t e;
		yaml_event_type_t t;

		if (!yaml_parser_parse(&p, &e)) {
			if (p.error == YAML_MEMORY_ERROR) {
				rc = ist_oom(st);
				break;
			}
			snprintf(st->err, st->errlen, "%s:%zu: YAML syntax error: %s%s%s", b->file,
				 b->line0 + p.problem_mark.line + 1,
				 p.problem != NULL ? p.problem : "malformed",
				 p.context != NULL ? " " : "", p.context != NULL ? p.context : "");
			rc = -EINVAL;
			break;
		}
		t = e.type;
		if (t == YAML_DOCUMENT_START_EVENT) {
			b->root = NULL;
			b->n_anchors = 0;	/* anchors do not cross documents */
			if (b->out != NULL)
				b->out->n_docs++;
		}
		rc = event(b, &e);
		yaml_event_delete(&e);
		/* an empty document between two `---` is a null scalar: skipped */
		if (rc == 0 && t == YAML_DOCUMENT_END_EVENT && b->root != NULL &&
		    b->root->type != YN_NULL) {
			if (b->out != NULL) {
				b->out->root = b->root;
				b->out->root_block = b->root_block;
				b->out->root_col = b->root_col;
			} else {
				st->cur_file = b->file;
				st->cur_kind = NULL;
				rc = doc(st, b->file, b->root);
			}
		}
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	if (b->out != NULL)
		b->out->nodes = b->nodes;
	free(b->kids);
	free(b->anchors);
	yaml_parser_delete(&p);
	return rc;
}

int
ist_parse_yaml(struct ist *st, const char *file, const void *data, size_t len,
	       int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct builder b = {.st = st, .file = file};

	return run(&b, data, len, doc);
}

int
ist_parse_piece(struct ist *st, const char *file, const void *data, size_t len,
		unsigned int line0, struct ist_piece_parse *out)
{
	struct builder b = {.st = st, .file = file, .line0 = line0, .out = out};

	memset(out, 0, sizeof(*out));
	return run(&b, data, len, NULL);
}

int
ist_slurp(struct ist *st, const char *file, char **data, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int fd, e;

	*data = NULL;
	*len = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (;;) {
		ssize_t k;

		if (n == cap) {
			struct stat sb;
			size_t want = cap == 0 && fstat(fd, &sb) == 0 && sb.st_size > 0
					      ? (size_t)sb.st_size + 1 : cap * 2 + 4096;
			char *q = realloc(buf, want);

			if (q == NULL) {
				free(buf);
				close(fd);
				return ist_oom(st);
			}
			buf = q;
			cap = want;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			goto fail;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	*data = buf;
	*len = n;
	return 0;
fail:
	snprintf(st->err, st->errlen, "%s: cannot read: %s", file, strerror(errno));
	return -ENOENT;
}

int
ist_read_yaml(struct ist *st, const char *file,
	      int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	char *data;
	size_t len;
	int rc = ist_slurp(st, file, &data, &len);

	if (rc < 0)
		return rc;
	rc = ist_parse_yaml(st, file, data, len, doc);
	free(data);
	return rc;
}
