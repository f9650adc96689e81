/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHZ_INT_H
#define HF_AUTHZ_INT_H

/*
 * Between the two ways to an authorization verdict: the tree walk (authz.c)
 * and the index (authz_index.c) read a request's attributes alike.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/proxy/authz.h"

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* @p n bytes of @p a (the request's, any case) against @p b (the policy's, lower case). */
static inline bool
eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != (unsigned char)b[i])
			return false;
	return true;
}

/* Byte equality of short strings, 8 bytes at a time: no call (values are mostly short). */
static inline bool
same(const char *a, const char *b, size_t n)
{
	uint64_t x, y;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return false;
	return true;
}

static inline bool
eq(const char *a, const char *b, size_t n, bool nocase)
{
	return nocase ? eq_nocase(a, b, n) : same(a, b, n);
}

/*
 * The value of header @p name (@p n bytes, lower case), its fields looked for
 * from field @p from on, every field of the name joined as Envoy's RBAC reads
 * it; false when absent or too long to join (authz.c).
 */
bool hf_authz_field_value(struct hf_authz_rq *rq, const char *name, size_t n, uint32_t from,
			  const char **v, size_t *vn);

/* The namespace of principal @p p ("td/ns/NS/sa/SA"), or false. */
bool hf_authz_principal_ns(const char *p, size_t n, const char **ns, size_t *ns_len);

/* Whether rule @p r holds for @p rq, condition by condition (the tree walk's). */
bool hf_authz_rule_holds(const struct hf_authz *az, const struct hf_authz_rule *r,
			 struct hf_authz_rq *rq);

/* @p res as a check that matched nothing sets it. */
void hf_authz_result_clear(struct hf_authz_result *res);

#endif /* HF_AUTHZ_INT_H */
