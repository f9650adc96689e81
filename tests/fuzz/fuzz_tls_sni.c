/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for SNI (tls/sni.c): any bytes as the body of a
 * ClientHello's server_name extension (hf_tls_sni_parse), and the name it
 * yields (or the input's bytes themselves, as a name) selected against a
 * table of exact, wildcard and "*" entries (hf_tls_sni_select). Asserted: a
 * parsed name lies inside the input, is 1..253 bytes of letters, digits,
 * '-', '.', '_', and its list length adds up; the server selected is the one
 * a slow reference (every entry scored, exact over longest suffix over "*")
 * picks, for the name as given and in upper case; the parser's input buffer
 * is an exact-size heap block, so ASan sees any read past it.
 *
 * The same bytes as what a passthrough client sent so far
 * (hf_tls_hello_peek): a name found lies in the input or the scratch buffer
 * and passes the same checks; "again" asks for more bytes than it has, within
 * the cap; and growing a prefix by the counts it asks for, from nothing,
 * reaches the same verdict and name at or before the whole input (the
 * worker's wait for a ClientHello in pieces).
 * fuzzes: tls/sni.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct hf_tls_sni_entry table[] = {
	{.name = ".example.com", .len = 12, .server = 1, .kind = 1},
	{.name = "a.example.com", .len = 13, .server = 0, .kind = 0},
	{.name = ".b.example.com", .len = 14, .server = 2, .kind = 1},
	{.name = "x", .len = 1, .server = 4, .kind = 0},
	{.name = ".x", .len = 2, .server = 5, .kind = 1},
	{.name = "", .len = 0, .server = 3, .kind = 2},
};

/* The slow way: look at every entry, keep the best by kind and suffix length. */
static int
reference(unsigned int n, const char *name, size_t len)
{
	int best = -1, rank = -1;
	size_t best_len = 0;

	if (len == 0)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct hf_tls_sni_entry *e = &table[i];

		if (e->kind == 0 && e->len == len && strncasecmp(name, e->name, len) == 0) {
			if (rank < 3)
				best = e->server, rank = 3;
		} else if (e->kind == 1 && len > e->len &&
			   strncasecmp(name + len - e->len, e->name, e->len) == 0) {
			if (rank < 2 || (rank == 2 && e->len > best_len))
				best = e->server, rank = 2, best_len = e->len;
		} else if (e->kind == 2 && rank < 1) {
			best = e->server, rank = 1;
		}
	}
	return best;
}

static void
check_select(const char *name, size_t len)
{
	char *up = malloc(len + 1);
	unsigned int n = sizeof(table) / sizeof(table[0]);

	if (up == NULL)
		return;
	for (size_t i = 0; i < len; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	for (unsigned int k = n; k + 1 > 0 && k >= n - 1; k--) {
		/* with "*" last in the table and without it */
		if (hf_tls_sni_select(table, k, name, len) != reference(k, name, len) ||
		    hf_tls_sni_select(table, k, up, len) != reference(k, name, len))
			abort();
		if (k == 0)
			break;
	}
	free(up);
}

static uint8_t scratch[HF_TLS_HELLO_MAX];
static uint8_t scratch2[HF_TLS_HELLO_MAX];

static void
check_name(const uint8_t *buf, size_t size, const uint8_t *sc, const char *name, size_t len)
{
	const uint8_t *n = (const uint8_t *)name;

	if (len == 0)
		return;
	if (!((n >= buf && n + len <= buf + size) || (n >= sc && n + len <= sc + HF_TLS_HELLO_MAX)))
		abort();
	if (len > HF_TLS_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (!isalnum(n[i]) && n[i] != '-' && n[i] != '.' && n[i] != '_')
			abort();
}

static void
check_peek(const uint8_t *buf, size_t size)
{
	const char *name = NULL, *name2 = NULL;
	size_t len = 0, len2 = 0, need = 0, have = 0;
	int rc = hf_tls_hello_peek(buf, size, scratch, &name, &len, &need), rc2;

	if (rc == HF_TLS_PEEK_AGAIN && (need <= size || need > HF_TLS_PEEK_MAX))
		abort();
	if (rc != 0 && rc != HF_TLS_PEEK_AGAIN && rc != -EINVAL && rc != -E2BIG)
		abort();
	if (rc == 0)
		check_name(buf, size, scratch, name, len);
	/* the worker's way: look again only once the bytes asked for are there */
	for (;;) {
		rc2 = hf_tls_hello_peek(buf, have, scratch2, &name2, &len2, &need);
		if (rc2 != HF_TLS_PEEK_AGAIN || need > size)
			break;
		if (need <= have)
			abort();
		have = need;
	}
	if (rc2 == HF_TLS_PEEK_AGAIN)
		rc2 = hf_tls_hello_peek(buf, size, scratch2, &name2, &len2, &need);
	if (rc2 != rc || len2 != len || (len > 0 && memcmp(name, name2, len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	const char *name = NULL;
	size_t len = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (hf_tls_sni_parse(buf, size, &name, &len) == 0) {
		size_t list = size >= 2 ? ((size_t)buf[0] << 8 | buf[1]) : 0;

		if (list + 2 != size || name < (const char *)buf + 5 ||
		    name + len > (const char *)buf + size || len == 0 || len > HF_TLS_NAME_MAX)
			abort();
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '.' &&
			    name[i] != '_')
				abort();
		check_select(name, len);
	}
	check_peek(buf, size);
	/* the input as a name, whatever it holds */
	check_select((const char *)buf, size > 300 ? 300 : size);
	free(buf);
	return 0;
}
