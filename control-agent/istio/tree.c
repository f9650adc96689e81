/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's memory (one arena), its messages, and typed access to the
 * YAML tree's fields with the messages Istio's validation would give: the
 * file, the line, the resource, the field path, what is wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

#define CHUNK (1024 * 1024)	/* over malloc's mmap threshold: fresh zero pages */

struct ist_chunk {
	struct ist_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *
ist_alloc(struct ist *st, size_t n)
{
	struct ist_chunk *c = st->arena;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->cap - c->used < n) {
		size_t chunk = st->chunk != 0 ? st->chunk : CHUNK;
		size_t cap = n > chunk ? n : chunk;

		c = calloc(1, sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = st->arena;
		c->used = 0;
		c->cap = cap;
		st->arena = c;
	}
	/* zeroed: chunks come from calloc and are never reused */
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *
ist_strdup(struct ist *st, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ist_alloc(st, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

char *
ist_fmt(struct ist *st, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = ist_alloc(st, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
ist_arena_free(struct ist *st)
{
	while (st->arena != NULL) {
		struct ist_chunk *c = st->arena;

		st->arena = c->next;
		free(c);
	}
}

void
ist_arena_adopt(struct ist *st, struct ist_chunk *chunks)
{
	struct ist_chunk **tail = &st->arena;

	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = chunks;
}

size_t
ist_arena_size(const struct ist_chunk *chunks)
{
	size_t n = 0;

	for (; chunks != NULL; chunks = chunks->next)
		n += sizeof(*chunks) + chunks->cap;
	return n;
}

void *
ist_push(void *arr, unsigned int *n, size_t size)
{
	void **a = arr;
	char *p;

	/* The capacity is the power of two at or above n: full when n is 0 or a power of two. */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n == 0 ? 1 : (size_t)*n * 2;
		void *q = realloc(*a, cap * size);

		if (q == NULL)
			return NULL;
		*a = q;
	}
	p = (char *)*a + (size_t)*n * size;
	memset(p, 0, size);
	(*n)++;
	return p;
}

char *
ist_mdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

void
ist_set_cur(struct ist *st, const struct ist_res *r)
{
	static const char *const kinds[] = {
		[IST_GATEWAY] = "Gateway",
		[IST_VS] = "VirtualService",
		[IST_DR] = "DestinationRule",
		[IST_SE] = "ServiceEntry",
		[IST_WE] = "WorkloadEntry",
		[IST_EF] = "EnvoyFilter",
		[IST_AP] = "AuthorizationPolicy",
		[IST_RA] = "RequestAuthentication",
		[IST_TM] = "Telemetry",
	};

	st->cur_file = r->file;
	st->cur_kind = kinds[r->kind];
	st->cur_ns = r->ns;
	st->cur_name = r->name;
}

int
ist_fail(struct ist *st, const struct yn *at, const char *path, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int k;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		k = snprintf(st->err + n, n < st->errlen ? st->errlen - n : 0, __VA_ARGS__);       \
		n += k > 0 ? (size_t)k : 0;                                                        \
	} while (0)
	if (st->errlen == 0)
		return -EINVAL;
	st->err[0] = '\0';
	/* a mapping or a list is the field that holds it: its key's line */
	PUT("%s:%u: ", st->cur_file != NULL ? st->cur_file : st->path,
	    at == NULL ? 1 : at->kline != 0 ? at->kline : at->line);
	if (st->cur_kind != NULL && st->cur_name != NULL)
		PUT("%s %s/%s: ", st->cur_kind, st->cur_ns, st->cur_name);
	else if (st->cur_kind != NULL)
		PUT("%s: ", st->cur_kind);
	if (path != NULL && path[0] != '\0')
		PUT("%s: ", path);
#undef PUT
	if (n < st->errlen) {
		va_start(ap, fmt);
		vsnprintf(st->err + n, st->errlen - n, fmt, ap);
		va_end(ap);
	}
	/* one line whatever the configuration's strings hold: logs and --check print it whole */
	for (char *p = st->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return -EINVAL;
}

int
ist_oom(struct ist *st)
{
	snprintf(st->err, st->errlen, "%s: out of memory", st->path);
	return -ENOMEM;
}

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
ist_index_build(struct ist *st, struct ist_index *ix, unsigned int n,
		const char *(*name_of)(const struct ist *st, unsigned int i))
{
	unsigned int size = 8;

	while (size < 2 * n)
		size *= 2;
	ix->mask = size - 1;
	ix->slot = ist_alloc(st, sizeof(*ix->slot) * size);
	ix->key = ist_alloc(st, sizeof(*ix->key) * size);
	if (ix->slot == NULL || ix->key == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < n; i++) {
		const char *k = name_of(st, i);
		uint32_t h;

		if (k == NULL)
			continue;
		h = hash(k) & ix->mask;
		/* the first of equal names keeps its slot */
		while (ix->slot[h] != 0 && strcmp(ix->key[h], k) != 0)
			h = (h + 1) & ix->mask;
		if (ix->slot[h] == 0) {
			ix->slot[h] = i + 1;
			ix->key[h] = k;
		}
	}
	return 0;
}

int
ist_index_find(const struct ist_index *ix, const char *name)
{
	uint32_t h;

	if (ix->slot == NULL)
		return -1;
	for (h = hash(name) & ix->mask; ix->slot[h] != 0; h = (h + 1) & ix->mask)
		if (strcmp(ix->key[h], name) == 0)
			return (int)ix->slot[h] - 1;
	return -1;
}

/* ---- typed access ---- */

/* Paths are built for every object walked, so by hand: snprintf showed in profiles. */
static char *
put(char *p, char *end, const char *s)
{
	while (*s != '\0' && p < end)
		*p++ = *s++;
	return p;
}

const char *
ist_path(char *buf, const char *parent, const char *key)
{
	char *end = buf + IST_PATH - 1, *p = buf;

	if (buf != parent)
		p = put(p, end, parent);
	else
		p += strlen(buf);
	if (p != buf && p < end)
		*p++ = '.';
	p = put(p, end, key);
	*p = '\0';
	return buf;
}

const char *
ist_pathi(char *buf, const char *parent, unsigned int i)
{
	char *end = buf + IST_PATH - 1, *p = buf, digits[12];
	unsigned int n = 0;

	if (buf != parent)
		p = put(p, end, parent);
	else
		p += strlen(buf);
	do
		digits[n++] = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	if (p < end)
		*p++ = '[';
	while (n > 0 && p < end)
		*p++ = digits[--n];
	if (p < end)
		*p++ = ']';
	*p = '\0';
	return buf;
}

const char *
ist_type_name(enum yn_type t)
{
	switch (t) {
	case YN_NULL: return "null";
	case YN_STR: return "a string";
	case YN_INT: return "an integer";
	case YN_FLOAT: return "a number";
	case YN_BOOL: return "a boolean";
	case YN_MAP: return "a mapping";
	case YN_SEQ: return "a list";
	}
	return "a value";
}

const struct yn *
ist_key(const struct yn *map, const char *key)
{
	if (map == NULL || map->type != YN_MAP)
		return NULL;
	for (unsigned int i = 0; i < map->n; i++)
		if (strcmp(map->key[i]->s, key) == 0)
			return map->key[i];
	return NULL;
}

/* A key whose value is null (`key:` or `key: ~`) counts as absent, as in Kubernetes. */
const struct yn *
ist_get(const struct yn *map, const char *key)
{
	if (map == NULL || map->type != YN_MAP)
		return NULL;
	for (unsigned int i = 0; i < map->n; i++)
		if (map->key[i]->s[0] == key[0] && strcmp(map->key[i]->s, key) == 0)
			return map->val[i]->type == YN_NULL ? NULL : map->val[i];
	return NULL;
}

int
ist_keys(struct ist *st, const struct yn *map, const char *path, const char *const *known,
	 const char *const *unsupported)
{
	char p[IST_PATH];

	for (unsigned int i = 0; i < map->n; i++) {
		const char *k = map->key[i]->s;
		bool ok = false;

		for (unsigned int j = 0; known[j] != NULL && !ok; j++)
			ok = known[j][0] == k[0] && strcmp(known[j], k) == 0;
		if (ok)
			continue;
		for (unsigned int j = 0; unsupported != NULL && unsupported[j] != NULL; j++)
			if (strcmp(unsupported[j], k) == 0)
				return ist_fail(st, map->key[i], ist_path(p, path, k),
						"not supported yet");
		return ist_fail(st, map->key[i], ist_path(p, path, k), "unknown field");
	}
	return 0;
}

int
ist_want(struct ist *st, const struct yn *v, const char *path, enum yn_type t)
{
	if (v->type == t || (t == YN_FLOAT && v->type == YN_INT))
		return 0;
	return ist_fail(st, v, path, "must be %s, not %s", ist_type_name(t),
			ist_type_name(v->type));
}

/* The value of @p key with type @p t: 1 and *out, 0 when absent, or the error. */
static int
get_typed(struct ist *st, const struct yn *map, const char *path, const char *key, bool required,
	  enum yn_type t, const struct yn **out)
{
	const struct yn *v = ist_get(map, key);
	char p[IST_PATH];

	/* the path is only written out for a message: reads are the loader's hot loop */
	if (v == NULL) {
		if (required)
			return ist_fail(st, map, ist_path(p, path, key),
					"required field is missing");
		return 0;
	}
	if (v->type != t && !(t == YN_FLOAT && v->type == YN_INT))
		return ist_want(st, v, ist_path(p, path, key), t);
	*out = v;
	return 1;
}

int
ist_get_map(struct ist *st, const struct yn *map, const char *path, const char *key,
	    bool required, const struct yn **out)
{
	return get_typed(st, map, path, key, required, YN_MAP, out);
}

int
ist_get_seq(struct ist *st, const struct yn *map, const char *path, const char *key,
	    bool required, const struct yn **out)
{
	return get_typed(st, map, path, key, required, YN_SEQ, out);
}

int
ist_get_str(struct ist *st, const struct yn *map, const char *path, const char *key,
	    bool required, const char **out)
{
	const struct yn *v = NULL;
	char p[IST_PATH];
	int rc = get_typed(st, map, path, key, required, YN_STR, &v);

	if (rc <= 0)
		return rc;
	if (required && v->s[0] == '\0')
		return ist_fail(st, v, ist_path(p, path, key), "must not be empty");
	*out = v->s;
	return 1;
}

int
ist_get_u32(struct ist *st, const struct yn *map, const char *path, const char *key,
	    bool required, uint32_t lo, uint32_t hi, uint32_t *out)
{
	const struct yn *v = NULL;
	char p[IST_PATH];
	unsigned long long x;
	int rc = get_typed(st, map, path, key, required, YN_INT, &v);

	if (rc <= 0)
		return rc;
	errno = 0;
	x = strtoull(v->s + (v->s[0] == '+'), NULL, 10);
	if (v->s[0] == '-' || errno != 0 || x < lo || x > hi)
		return ist_fail(st, v, ist_path(p, path, key), "%s is out of range [%u, %u]", v->s,
				lo, hi);
	*out = (uint32_t)x;
	return 1;
}

int
ist_get_bool(struct ist *st, const struct yn *map, const char *path, const char *key, bool *out)
{
	const struct yn *v = NULL;
	int rc = get_typed(st, map, path, key, false, YN_BOOL, &v);

	if (rc <= 0)
		return rc;
	*out = v->s[0] == 't' || v->s[0] == 'T';
	return 1;
}

/*
 * Go's time.ParseDuration, which Istio's YAML takes ("1s", "250ms", "1m30s",
 * "0.5s"), to whole milliseconds. Returns 0, -EINVAL when malformed, -ERANGE
 * when over UINT32_MAX ms or when not zero but under 1 ms (Istio refuses
 * durations below 1 ms).
 */
int
ist_parse_ms(const char *s, uint32_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1}, {"s", 1e3},
		{"m", 60e3}, {"h", 3600e3},
	};
	double total = 0;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		const char *start = s;
		double v = 0, scale = 1;
		size_t best = 0;
		unsigned int u = 0;

		for (; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++) {
				scale /= 10;
				v += (*s - '0') * scale;
			}
		if (s == start || (s == start + 1 && *start == '.'))
			return -EINVAL;
		/* the longest unit that matches: "ms" before "m" */
		for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);

			if (n > best && strncmp(s, units[i].unit, n) == 0) {
				best = n;
				u = i;
			}
		}
		if (best == 0)
			return -EINVAL;
		s += best;
		total += v * units[u].ms;
	}
	if (total > (double)UINT32_MAX || (total > 0 && total < 1))
		return -ERANGE;
	*ms = (uint32_t)floor(total + 1e-6);
	return 0;
}

int
ist_get_ms(struct ist *st, const struct yn *map, const char *path, const char *key, uint32_t *out)
{
	const struct yn *v = ist_get(map, key);
	char p[IST_PATH];
	int rc;

	if (v == NULL)
		return 0;
	ist_path(p, path, key);
	if (v->type != YN_STR)
		return ist_fail(st, v, p, "must be a duration string like \"1s\" or \"250ms\", "
				"not %s", ist_type_name(v->type));
	rc = ist_parse_ms(v->s, out);
	if (rc == -ERANGE)
		return ist_fail(st, v, p, "duration '%s' is out of range [1ms, %ums]", v->s,
				UINT32_MAX);
	if (rc < 0)
		return ist_fail(st, v, p, "'%s' is not a duration (like \"1s\", \"250ms\", "
				"\"1m30s\")", v->s);
	return 1;
}

int
ist_get_percent(struct ist *st, const struct yn *map, const char *path, const char *key,
		double *out)
{
	const struct yn *v = NULL;
	char p[IST_PATH];
	double x;
	int rc = get_typed(st, map, path, key, false, YN_FLOAT, &v);

	if (rc <= 0)
		return rc;
	x = strtod(v->s, NULL);
	if (!(x >= 0 && x <= 100))
		return ist_fail(st, v, ist_path(p, path, key), "%s is not a percentage in [0, 100]",
				v->s);
	*out = x;
	return 1;
}

int
ist_get_strs(struct ist *st, const struct yn *map, const char *path, const char *key,
	     bool required, const struct yn **out)
{
	const struct yn *v = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc = get_typed(st, map, path, key, required, YN_SEQ, &v);

	if (rc <= 0)
		return rc;
	ist_path(p, path, key);
	if (required && v->n == 0)
		return ist_fail(st, v, p, "must not be empty");
	for (unsigned int i = 0; i < v->n; i++) {
		if (ist_want(st, v->val[i], ist_pathi(q, p, i), YN_STR) < 0)
			return -EINVAL;
		if (v->val[i]->s[0] == '\0')
			return ist_fail(st, v->val[i], q, "must not be empty");
	}
	*out = v;
	return 1;
}

int
ist_get_strmap(struct ist *st, const struct yn *map, const char *path, const char *key,
	       const struct yn **out)
{
	const struct yn *v = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc = get_typed(st, map, path, key, false, YN_MAP, &v);

	if (rc <= 0)
		return rc;
	ist_path(p, path, key);
	for (unsigned int i = 0; i < v->n; i++)
		if (ist_want(st, v->val[i], ist_path(q, p, v->key[i]->s), YN_STR) < 0)
			return -EINVAL;
	*out = v;
	return 1;
}

/* Which of @p names (NULL-terminated) @p s is, or -1. */
int
ist_one_of(const char *s, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int
ist_get_enum(struct ist *st, const struct yn *map, const char *path, const char *key,
	 const char *const *names, const char *list, int *out)
{
	const char *s;
	char p[IST_PATH];
	int rc = ist_get_str(st, map, path, key, false, &s);

	if (rc <= 0)
		return rc;
	*out = ist_one_of(s, names);
	if (*out < 0)
		return ist_fail(st, ist_get(map, key), ist_path(p, path, key), "'%s' is not one of "
				"%s", s, list);
	return 1;
}
