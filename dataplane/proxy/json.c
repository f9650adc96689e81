/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON reader of json.h: recursive descent with the depth bounded by
 * HF_JSON_MAX_DEPTH (so the stack is too), every byte looked at once.
 */
#include <string.h>

#include "dataplane/proxy/json.h"

struct jp {
	const char *s;
	size_t len, i;
	struct hf_json_tok *t;
	unsigned int cap, n;
};

static int value(struct jp *p, unsigned int depth);

static void
ws(struct jp *p)
{
	while (p->i < p->len) {
		char c = p->s[p->i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->i++;
	}
}

static int
hex4(const char *s, uint32_t *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[k];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/*
 * Length of the UTF-8 sequence at @p s (@p n bytes left) whose first byte is
 * >= 0x80, or 0 when it is not well formed (RFC 3629 4: no overlong forms, no
 * surrogates, nothing past U+10FFFF).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		                       (s[3] & 0xc0) == 0x80
		               ? 4
		               : 0;
	}
	return 0;
}

static struct hf_json_tok *
tok(struct jp *p, uint8_t type)
{
	struct hf_json_tok *t;

	if (p->n == p->cap)
		return NULL;
	t = &p->t[p->n++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->off = (uint32_t)p->i;
	return t;
}

/* At the opening quote. RFC 8259 7: no control byte unescaped; \u surrogates in pairs. */
static int
string(struct jp *p)
{
	struct hf_json_tok *t = tok(p, HF_JSON_STRING);
	const unsigned char *s = (const unsigned char *)p->s;

	if (t == NULL)
		return HF_JSON_E_TOKENS;
	p->i++;
	t->off = (uint32_t)p->i;
	while (p->i < p->len) {
		unsigned char c = s[p->i];
		uint32_t u, lo;

		if (c == '"') {
			t->len = (uint32_t)(p->i - t->off);
			p->i++;
			t->next = p->n;
			return 0;
		}
		if (c < 0x20)
			return HF_JSON_E_SYNTAX;
		if (c >= 0x80) {
			size_t k = utf8_len(s + p->i, p->len - p->i);

			if (k == 0)
				return HF_JSON_E_SYNTAX;
			p->i += k;
			continue;
		}
		if (c != '\\') {
			p->i++;
			continue;
		}
		t->esc = 1;
		if (p->i + 1 >= p->len)
			return HF_JSON_E_SYNTAX;
		c = s[p->i + 1];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			p->i += 2;
			continue;
		}
		if (c != 'u' || p->len - p->i < 6 || hex4(p->s + p->i + 2, &u) != 0)
			return HF_JSON_E_SYNTAX;
		p->i += 6;
		if (u >= 0xdc00 && u <= 0xdfff)
			return HF_JSON_E_SYNTAX; /* a low surrogate alone */
		if (u >= 0xd800 && u <= 0xdbff) {
			if (p->len - p->i < 6 || s[p->i] != '\\' || s[p->i + 1] != 'u' ||
			    hex4(p->s + p->i + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
				return HF_JSON_E_SYNTAX;
			p->i += 6;
		}
	}
	return HF_JSON_E_SYNTAX;
}

static bool
digit(const struct jp *p)
{
	return p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

/* RFC 8259 6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? — any length, kept as text. */
static int
number(struct jp *p)
{
	struct hf_json_tok *t = tok(p, HF_JSON_NUMBER);

	if (t == NULL)
		return HF_JSON_E_TOKENS;
	if (p->s[p->i] == '-')
		p->i++;
	if (!digit(p))
		return HF_JSON_E_SYNTAX;
	if (p->s[p->i] == '0')
		p->i++;
	else
		while (digit(p))
			p->i++;
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		if (!digit(p))
			return HF_JSON_E_SYNTAX;
		while (digit(p))
			p->i++;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!digit(p))
			return HF_JSON_E_SYNTAX;
		while (digit(p))
			p->i++;
	}
	t->len = (uint32_t)(p->i - t->off);
	t->next = p->n;
	return 0;
}

static int
literal(struct jp *p, const char *lit, size_t n, uint8_t type)
{
	struct hf_json_tok *t;

	if (p->len - p->i < n || memcmp(p->s + p->i, lit, n) != 0)
		return HF_JSON_E_SYNTAX;
	if ((t = tok(p, type)) == NULL)
		return HF_JSON_E_TOKENS;
	p->i += n;
	t->len = (uint32_t)n;
	t->next = p->n;
	return 0;
}

/* At '{' or '['. Its token is written before its children: its index is fixed, its n grows. */
static int
container(struct jp *p, unsigned int depth, bool object)
{
	unsigned int me = p->n;
	char close = object ? '}' : ']';
	int rc;

	if (depth >= HF_JSON_MAX_DEPTH)
		return HF_JSON_E_DEPTH;
	if (tok(p, object ? HF_JSON_OBJECT : HF_JSON_ARRAY) == NULL)
		return HF_JSON_E_TOKENS;
	p->i++;
	ws(p);
	if (p->i < p->len && p->s[p->i] == close) {
		p->i++;
		goto done;
	}
	for (;;) {
		if (object) {
			ws(p);
			if (p->i >= p->len || p->s[p->i] != '"')
				return HF_JSON_E_SYNTAX;
			if ((rc = string(p)) != 0)
				return rc;
			ws(p);
			if (p->i >= p->len || p->s[p->i] != ':')
				return HF_JSON_E_SYNTAX;
			p->i++;
		}
		if ((rc = value(p, depth + 1)) != 0)
			return rc;
		if (p->t[me].n == UINT16_MAX)
			return HF_JSON_E_TOKENS;
		p->t[me].n++;
		ws(p);
		if (p->i >= p->len)
			return HF_JSON_E_SYNTAX;
		if (p->s[p->i] == close) {
			p->i++;
			break;
		}
		if (p->s[p->i] != ',')
			return HF_JSON_E_SYNTAX;
		p->i++;
	}
done:
	p->t[me].len = (uint32_t)(p->i - p->t[me].off);
	p->t[me].next = p->n;
	return 0;
}

static int
value(struct jp *p, unsigned int depth)
{
	ws(p);
	if (p->i >= p->len)
		return HF_JSON_E_SYNTAX;
	switch (p->s[p->i]) {
	case '{': return container(p, depth, true);
	case '[': return container(p, depth, false);
	case '"': return string(p);
	case 't': return literal(p, "true", 4, HF_JSON_TRUE);
	case 'f': return literal(p, "false", 5, HF_JSON_FALSE);
	case 'n': return literal(p, "null", 4, HF_JSON_NULL);
	default: return number(p);
	}
}

int
hf_json_parse(const char *s, size_t len, struct hf_json_tok *t, unsigned int cap)
{
	struct jp p = {.s = s, .len = len, .t = t, .cap = cap};
	int rc;

	/* Offsets are 32 bits: longer texts are no JWT nor any JWKS we read. */
	if (len > UINT32_MAX / 2)
		return HF_JSON_E_SYNTAX;
	rc = value(&p, 0);
	if (rc != 0)
		return rc;
	ws(&p);
	return p.i == len ? (int)p.n : HF_JSON_E_SYNTAX;
}

/* Writes code point @p u as UTF-8 at @p o (room checked by the caller: 4 bytes). */
static size_t
put_utf8(char *o, uint32_t u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | u >> 6);
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | u >> 12);
		o[1] = (char)(0x80 | (u >> 6 & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | u >> 18);
	o[1] = (char)(0x80 | (u >> 12 & 0x3f));
	o[2] = (char)(0x80 | (u >> 6 & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

int
hf_json_str(const char *s, const struct hf_json_tok *k, char *out, size_t cap)
{
	const char *p = s + k->off, *end = p + k->len;
	size_t o = 0;

	if (cap == 0)
		return -1;
	if (!k->esc) {
		if (k->len >= cap)
			return -1;
		memcpy(out, p, k->len);
		out[k->len] = '\0';
		return (int)k->len;
	}
	/* The parser checked every escape: what is read here is well formed. */
	while (p < end) {
		uint32_t u, lo;
		char c = *p;

		if (o + 4 >= cap)
			return -1;
		if (c != '\\') {
			out[o++] = c;
			p++;
			continue;
		}
		c = p[1];
		p += 2;
		switch (c) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			hex4(p, &u);
			p += 4;
			if (u >= 0xd800 && u <= 0xdbff) {
				hex4(p + 2, &lo);
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(out + o, u);
			break;
		default: out[o++] = c; break;
		}
	}
	out[o] = '\0';
	return (int)o;
}

bool
hf_json_str_eq(const char *s, const struct hf_json_tok *k, const char *lit, size_t n)
{
	char buf[256];
	int len;

	if (k->type != HF_JSON_STRING)
		return false;
	if (!k->esc)
		return k->len == n && memcmp(s + k->off, lit, n) == 0;
	if (n >= sizeof(buf))
		return false;
	len = hf_json_str(s, k, buf, sizeof(buf));
	return len == (int)n && memcmp(buf, lit, n) == 0;
}

int
hf_json_find(const char *s, const struct hf_json_tok *t, int obj, const char *key)
{
	size_t kl = strlen(key);
	uint32_t i;

	if (obj < 0 || t[obj].type != HF_JSON_OBJECT)
		return -1;
	i = (uint32_t)obj + 1;
	for (unsigned int m = 0; m < t[obj].n; m++) {
		if (hf_json_str_eq(s, &t[i], key, kl))
			return (int)i + 1;
		i = t[i + 1].next;
	}
	return -1;
}

int
hf_json_u64(const char *s, const struct hf_json_tok *k, uint64_t *out)
{
	const char *p = s + k->off, *end = p + k->len;
	uint64_t v = 0;

	if (k->type != HF_JSON_NUMBER || p == end || *p == '-')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > (1ull << 53))
			return -1;
	}
	if (p < end && *p == '.')
		for (p++; p < end && *p == '0'; p++)
			;
	if (p != end)
		return -1;
	*out = v;
	return 0;
}
