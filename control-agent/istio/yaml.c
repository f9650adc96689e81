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
start(struct builder *b, enum yn_type t, const yaml_event_t *e, const yaml_char_t *anchor)
{
	struct frame *f;
	struct yn *y;

	if (b->depth == IST_MAX_DEPTH)
		return bfail(b, (unsigned int)e->start_mark.line + 1, "YAML nested deeper than %s "
			     "levels", "64");
	y = ist_alloc(b->st, sizeof(*y));
	if (y == NULL)
		return ist_oom(b->st);
	y->type = t;
	y->line = (unsigned int)e->start_mark.line + 1;
	f = &b->frames[b->depth++];
	f->node = y;
	f->first = b->n_kids;
	f->anchor = copy_anchor(b, anchor);
	return anchor != NULL && f->anchor == NULL ? ist_oom(b->st) : count(b, 1, y->line);
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
end(struct builder *b)
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
	unsigned int line = (unsigned int)e->start_mark.line + 1;
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
			const char *a = copy_anchor(b, e->data.scalar.anchor);

			if (a == NULL || remember(b, a, y) < 0)
				return ist_oom(b->st);
		}
		return add(b, y);
	case YAML_ALIAS_EVENT:
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
		return start(b, YN_SEQ, e, e->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return start(b, YN_MAP, e, e->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return end(b);
	default:
		return 0;
	}
}

int
ist_parse_yaml(struct ist *st, const char *file, const void *data, size_t len,
	       int (*doc)(struct ist *st, const char *file, const struct yn *root))
{
	struct builder b = {.st = st, .file = file};
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
			snprintf(st->err, st->errlen, "%s:%zu: YAML syntax error: %s%s%s", file,
				 p.problem_mark.line + 1,
				 p.problem != NULL ? p.problem : "malformed",
				 p.context != NULL ? " " : "", p.context != NULL ? p.context : "");
			rc = -EINVAL;
			break;
		}
		t = e.type;
		if (t == YAML_DOCUMENT_START_EVENT) {
			b.root = NULL;
			b.n_anchors = 0;	/* anchors do not cross documents */
		}
		rc = event(&b, &e);
		yaml_event_delete(&e);
		/* an empty document between two `---` is a null scalar: skipped */
		if (rc == 0 && t == YAML_DOCUMENT_END_EVENT && b.root != NULL &&
		    b.root->type != YN_NULL) {
			st->cur_file = file;
			st->cur_kind = NULL;
			rc = doc(st, file, b.root);
		}
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	free(b.kids);
	free(b.anchors);
	yaml_parser_delete(&p);
	return rc;
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
