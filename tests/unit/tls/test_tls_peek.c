/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ClientHello peek of TLS passthrough (hf_tls_hello_peek, tls/sni.c):
 * real ClientHellos written by OpenSSL's client (with and without SNI, TLS
 * 1.2 and 1.3) fed whole, then grown from nothing by the byte counts the
 * parser asks for, then cut at every prefix; the same message fragmented over
 * records of 1, 7 and 100 bytes; what is refused: not TLS, another handshake
 * message, lengths that lie, a session id over 32 bytes, a record over
 * 2^14, a message over the cap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "hf_test.h"
#include "tls/tls.h"

static uint8_t scratch[HF_TLS_HELLO_MAX];

/* The first flight of an OpenSSL client (its ClientHello records) into @p out; returns its size. */
static size_t
client_hello(const char *sni, int max_version, uint8_t *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	BIO *rd, *wr;
	int n;

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
	ssl = SSL_new(ctx);
	rd = BIO_new(BIO_s_mem());
	wr = BIO_new(BIO_s_mem());
	assert_non_null(ssl);
	SSL_set_bio(ssl, rd, wr);
	if (sni != NULL)
		assert_int_equal(SSL_set_tlsext_host_name(ssl, sni), 1);
	assert_int_equal(SSL_connect(ssl), -1);		/* wants the server's answer */
	n = BIO_read(wr, out, (int)cap);
	assert_true(n > 9);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

/* Peeks @p p whole, expecting @p want (NULL: no SNI). */
static void
expect_name(const uint8_t *p, size_t len, const char *want)
{
	const char *name = NULL;
	size_t nl = 99, need = 0;

	assert_int_equal(hf_tls_hello_peek(p, len, scratch, &name, &nl, &need), 0);
	if (want == NULL) {
		assert_int_equal(nl, 0);
		return;
	}
	assert_int_equal(nl, strlen(want));
	assert_memory_equal(name, want, nl);
	/* the name lies in the input or in the scratch buffer */
	assert_true(((const uint8_t *)name >= p && (const uint8_t *)name + nl <= p + len) ||
		    ((const uint8_t *)name >= scratch &&
		     (const uint8_t *)name + nl <= scratch + sizeof(scratch)));
}

/*
 * Every prefix is "again", asking for more than it has and no more than the
 * whole; growing by what it asks for reaches the whole in few steps.
 */
static void
expect_prefixes(const uint8_t *p, size_t len, const char *want)
{
	size_t have = 0, steps = 0;

	for (size_t k = 0; k < len; k++) {
		const char *name;
		size_t nl, need = 0;

		if (hf_tls_hello_peek(p, k, scratch, &name, &nl, &need) != HF_TLS_PEEK_AGAIN)
			fail_msg("prefix %zu of %zu: not 'again'", k, len);
		assert_true(need > k && need <= len);
	}
	for (;;) {
		const char *name;
		size_t nl, need = 0;
		int rc = hf_tls_hello_peek(p, have, scratch, &name, &nl, &need);

		if (rc == 0)
			break;
		assert_int_equal(rc, HF_TLS_PEEK_AGAIN);
		have = need;
		assert_true(++steps < 3 * len);
	}
	assert_int_equal(have, len);
	expect_name(p, len, want);
}

/* The handshake message of one-record hello @p p cut into records of @p size bytes. */
static size_t
refragment(const uint8_t *p, size_t len, size_t size, uint8_t *out)
{
	size_t rlen = (size_t)p[3] << 8 | p[4], n = 0;

	assert_int_equal(rlen + 5, len);
	for (size_t off = 0; off < rlen; off += size) {
		size_t k = rlen - off < size ? rlen - off : size;

		out[n++] = 22;
		out[n++] = 3;
		out[n++] = 1;
		out[n++] = (uint8_t)(k >> 8);
		out[n++] = (uint8_t)k;
		memcpy(out + n, p + 5 + off, k);
		n += k;
	}
	return n;
}

static void
test_real_hellos(void **state)
{
	static const struct {
		const char *sni;
		int version;
	} cases[] = {
		{"a.example.com", TLS1_3_VERSION},
		{"b.example.org", TLS1_2_VERSION},
		{"UPPER.Example.Net", TLS1_3_VERSION},
		{NULL, TLS1_3_VERSION},
		{NULL, TLS1_2_VERSION},
	};
	static uint8_t hello[8192], frag[HF_TLS_PEEK_MAX];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = client_hello(cases[i].sni, cases[i].version, hello, sizeof(hello));

		expect_prefixes(hello, len, cases[i].sni);
		for (unsigned int k = 0; k < 3; k++) {
			size_t n = refragment(hello, len, (size_t[]){1, 7, 100}[k], frag);

			assert_true(n <= sizeof(frag));
			expect_prefixes(frag, n, cases[i].sni);
		}
	}
}

/* A hand-made ClientHello: session id @p sid bytes, @p ext (or no extensions block). */
static size_t
make_hello(uint8_t *out, size_t sid, const uint8_t *ext, size_t ext_len, bool no_ext)
{
	uint8_t body[512];
	size_t n = 0;

	body[n++] = 3;
	body[n++] = 3;
	memset(body + n, 0xab, 32);
	n += 32;
	body[n++] = (uint8_t)sid;
	memset(body + n, 0x11, sid);
	n += sid;
	memcpy(body + n, "\x00\x02\xc0\x2b\x01\x00", 6);	/* one suite, null compression */
	n += 6;
	if (!no_ext) {
		body[n++] = (uint8_t)(ext_len >> 8);
		body[n++] = (uint8_t)ext_len;
		memcpy(body + n, ext, ext_len);
		n += ext_len;
	}
	out[0] = 22;
	out[1] = 3;
	out[2] = 1;
	out[3] = (uint8_t)((n + 4) >> 8);
	out[4] = (uint8_t)(n + 4);
	out[5] = 1;
	out[6] = 0;
	out[7] = (uint8_t)(n >> 8);
	out[8] = (uint8_t)n;
	memcpy(out + 9, body, n);
	return n + 9;
}

static int
peek(const uint8_t *p, size_t len)
{
	const char *name;
	size_t nl, need;

	return hf_tls_hello_peek(p, len, scratch, &name, &nl, &need);
}

static void
test_refused(void **state)
{
	/* server_name a.b: list 6, host_name 0, length 3 */
	static const uint8_t sni[] = {0, 0, 0, 8, 0, 6, 0, 0, 3, 'a', '.', 'b'};
	static const uint8_t lying[] = {0, 0, 0, 8, 0, 6, 0, 0, 5, 'a', '.', 'b'};
	static const uint8_t other[] = {0, 0x2b, 0, 3, 2, 3, 4};	/* supported_versions */
	uint8_t h[1024];
	static uint8_t big[HF_TLS_PEEK_MAX + 16];
	size_t n;

	(void)state;
	n = make_hello(h, 0, sni, sizeof(sni), false);
	expect_prefixes(h, n, "a.b");
	n = make_hello(h, 32, sni, sizeof(sni), false);
	expect_name(h, n, "a.b");
	n = make_hello(h, 0, other, sizeof(other), false);
	expect_name(h, n, NULL);
	n = make_hello(h, 0, NULL, 0, true);		/* TLS 1.2: no extensions at all */
	expect_name(h, n, NULL);

	assert_int_equal(peek((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18), -EINVAL);
	assert_int_equal(peek((const uint8_t *)"\x16\x02\x00\x00\x10", 5), -EINVAL);
	assert_int_equal(peek((const uint8_t *)"\x17\x03\x03\x00\x10", 5), -EINVAL);
	assert_int_equal(peek((const uint8_t *)"\x16\x03\x01\x00\x00", 5), -EINVAL);	/* empty */
	assert_int_equal(peek((const uint8_t *)"\x16\x03\x01\x40\x01", 5), -EINVAL);	/* 2^14+1 */
	n = make_hello(h, 33, sni, sizeof(sni), false);
	assert_int_equal(peek(h, n), -EINVAL);		/* session id over 32 */
	n = make_hello(h, 0, lying, sizeof(lying), false);
	assert_int_equal(peek(h, n), -EINVAL);		/* the name claims 5 bytes of 3 */
	n = make_hello(h, 0, sni, sizeof(sni), false);
	h[5] = 2;					/* a ServerHello */
	assert_int_equal(peek(h, n), -EINVAL);
	n = make_hello(h, 0, sni, sizeof(sni), false);
	h[n - sizeof(sni) - 1]++;			/* extensions' total one too many */
	assert_int_equal(peek(h, n), -EINVAL);

	/* a message of 64 KiB announced in a full first record: over the cap, not waited for */
	memset(big, 0, sizeof(big));
	memcpy(big, "\x16\x03\x01\x40\x00\x01\x01\x00\x00", 9);
	assert_int_equal(peek(big, 5), HF_TLS_PEEK_AGAIN);
	assert_int_equal(peek(big, 16384 + 5), -E2BIG);
	/* records of 1 byte whose headers pass the byte cap before the message is whole */
	n = 0;
	for (size_t i = 0; n + 6 <= sizeof(big); i++) {
		static const uint8_t msg[] = {1, 0, 0x30, 0x00};	/* 12 KiB announced */

		memcpy(big + n, "\x16\x03\x01\x00\x01", 5);
		big[n + 5] = i < 4 ? msg[i] : 0;
		n += 6;
	}
	assert_int_equal(peek(big, 600), HF_TLS_PEEK_AGAIN);
	assert_int_equal(peek(big, n), -E2BIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hellos),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
