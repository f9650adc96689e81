/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls/ without the network: the SNI parser and selection (tables), the
 * context builder's refusals, and real OpenSSL handshakes between a client
 * and a server that both run over our BIO (tls/bio.c) on mbufs, fed whole,
 * one byte per mbuf, and with nothing to read (WANT_READ, never an error).
 * The server side is set up as a worker sets it up (hf_tls_lctx_new, the
 * ClientHello callback picking the server by SNI), so the certificate a
 * client sees, the version, the cipher and ALPN are the ones a client of
 * the gateway gets.
 *
 * Also measured (figures, never asserted): the bytes OpenSSL holds per idle
 * server connection after a handshake and an exchange, with
 * SSL_MODE_RELEASE_BUFFERS, and server-side full handshakes per second.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "hf_test.h"
#include "tls/tls.h"

/* ---- OpenSSL's memory, counted by side: every block carries its size and owner ---- */

enum { SIDE_OTHER, SIDE_SERVER };
static int side = SIDE_OTHER;
static long long live[2];

struct blk {
	size_t size;
	int owner;
	int pad;
};

static void *
c_malloc(size_t n, const char *f, int l)
{
	struct blk *b = malloc(sizeof(*b) + n);

	(void)f;
	(void)l;
	if (b == NULL)
		return NULL;
	b->size = n;
	b->owner = side;
	live[side] += (long long)n;
	return b + 1;
}

static void
c_free(void *p, const char *f, int l)
{
	struct blk *b;

	(void)f;
	(void)l;
	if (p == NULL)
		return;
	b = (struct blk *)p - 1;
	live[b->owner] -= (long long)b->size;
	free(b);
}

static void *
c_realloc(void *p, size_t n, const char *f, int l)
{
	struct blk *b, *nb;

	if (p == NULL)
		return c_malloc(n, f, l);
	b = (struct blk *)p - 1;
	live[b->owner] -= (long long)b->size;
	nb = realloc(b, sizeof(*nb) + n);
	if (nb == NULL) {
		live[b->owner] += (long long)b->size;
		return NULL;
	}
	nb->size = n;
	live[nb->owner] += (long long)n;
	return nb + 1;
}

/* ---- test certificates, made in memory ---- */

struct pem {
	char cert[8192];
	uint32_t cert_len;
	char key[8192];
	uint32_t key_len;
	X509 *x;			/* for the client's trust store */
};

/* A self-signed certificate for @p name (CN and SAN), ECDSA P-256 or RSA 2048. */
static void
make_cert(struct pem *p, const char *name, bool rsa)
{
	EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[300];
	BIO *b;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0x7fffffff);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s", name);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	p->cert_len = (uint32_t)BIO_read(b, p->cert, sizeof(p->cert));
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	p->key_len = (uint32_t)BIO_read(b, p->key, sizeof(p->key));
	BIO_free(b);
	EVP_PKEY_free(k);
	p->x = x;
}

static struct pem cert_a, cert_org, cert_any;

static const char *names_a[] = {"a.example.com"};
static const char *names_org[] = {"*.example.org", "exact.example.org.test"};
static const char *names_any[] = {"*"};

static struct hf_tls_server_config servers[3];
static struct hf_tls_listener_config lcfg = {.id = 1, .n_servers = 3, .servers = servers};

static void
setup_servers(void)
{
	struct pem *p[] = {&cert_a, &cert_org, &cert_any};
	const char **n[] = {names_a, names_org, names_any};
	unsigned int nn[] = {1, 2, 1};

	for (int i = 0; i < 3; i++)
		servers[i] = (struct hf_tls_server_config){
			.n_names = nn[i], .names = n[i],
			.cert_pem = p[i]->cert, .cert_len = p[i]->cert_len,
			.key_pem = p[i]->key, .key_len = p[i]->key_len,
			.min_version = HF_TLS_V1_2, .max_version = HF_TLS_V1_3,
		};
}

/* ---- SNI ---- */

/* A server_name extension body holding @p name (host_name entry). */
static size_t
sni_ext(uint8_t *out, const char *name)
{
	size_t n = strlen(name);

	out[0] = (uint8_t)((n + 3) >> 8);
	out[1] = (uint8_t)(n + 3);
	out[2] = 0;
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + 5, name, n);
	return n + 5;
}

static void
test_sni_parse(void **state)
{
	uint8_t b[600];
	const char *name;
	size_t len, n;
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{"", 0},
		{"\x00", 1},
		{"\x00\x00", 2},				/* empty list */
		{"\x00\x04\x00\x00\x02" "ab", 7},		/* list length one short of the entry */
		{"\x00\x06\x00\x00\x02" "ab", 7},		/* list length one past the bytes */
		{"\x00\x05\x00\x00\x04" "ab", 7},		/* name longer than what is left */
		{"\x00\x03\x00\x00\x00", 5},			/* empty name */
		{"\x00\x05\x01\x00\x02" "ab", 7},		/* no host_name entry */
		{"\x00\x05\x00\x00\x02" "a/", 7},		/* not a DNS name */
		{"\x00\x05\x00\x00\x02" "a\0", 7},		/* NUL */
		{"\x00\x05\x00\x00\x02" "a*", 7},		/* a wildcard is no name to ask for */
		{"\x00\x05\x00\x00\x02" "a\xc3", 7},		/* not ASCII */
	};

	(void)state;
	n = sni_ext(b, "a.Example.com");
	assert_int_equal(hf_tls_sni_parse(b, n, &name, &len), 0);
	assert_int_equal(len, 13);
	assert_memory_equal(name, "a.Example.com", 13);
	/* every proper prefix is malformed */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(hf_tls_sni_parse(b, k, &name, &len), -EINVAL);
	/* another name type first, then host_name */
	memcpy(b, "\x00\x0a\x07\x00\x02xy\x00\x00\x02ok", 12);
	assert_int_equal(hf_tls_sni_parse(b, 12, &name, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(name, "ok", 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hf_tls_sni_parse((const uint8_t *)bad[i].bytes, bad[i].len, &name,
						  &len), -EINVAL);
	/* 253 bytes is the longest DNS name; 254 is refused */
	memset(b + 5, 'a', 254);
	b[0] = 1, b[1] = 0, b[2] = 0, b[3] = 0, b[4] = 253;	/* list 256 = 253 + 3 */
	assert_int_equal(hf_tls_sni_parse(b, 253 + 5, &name, &len), 0);
	b[1] = 1, b[4] = 254;
	assert_int_equal(hf_tls_sni_parse(b, 254 + 5, &name, &len), -EINVAL);
}

static void
test_sni_select(void **state)
{
	static const struct hf_tls_sni_entry e[] = {
		{.name = ".example.com", .len = 12, .server = 1, .kind = 1},
		{.name = "a.example.com", .len = 13, .server = 0, .kind = 0},
		{.name = ".b.example.com", .len = 14, .server = 2, .kind = 1},
		{.name = "", .len = 0, .server = 3, .kind = 2},
	};
	static const struct {
		const char *name;
		int want;
	} cases[] = {
		{"a.example.com", 0},		/* exact beats an earlier wildcard */
		{"A.EXAMPLE.COM", 0},		/* any case */
		{"x.example.com", 1},
		{"x.y.example.com", 1},		/* a wildcard covers any depth, as Envoy's server_names */
		{"x.b.example.com", 2},		/* the longest wildcard wins */
		{"b.example.com", 1},		/* ".b.example.com" needs a label before it */
		{"example.com", 3},		/* "*.example.com" does not cover example.com: "*" does */
		{"other.test", 3},
		{"", 0},			/* no SNI: the first server */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(hf_tls_sni_select(e, 4, cases[i].name, strlen(cases[i].name)),
				 cases[i].want);
	/* without "*", a name nobody serves is refused */
	assert_int_equal(hf_tls_sni_select(e, 3, "other.test", 10), -1);
	assert_int_equal(hf_tls_sni_select(e, 3, "example.com", 11), -1);
	assert_int_equal(hf_tls_sni_select(e, 0, "", 0), 0);
}

/* ---- contexts ---- */

static void
test_ctx_refusals(void **state)
{
	struct hf_tls_server_config sc = servers[0];
	char err[256];
	SSL_CTX *ctx;

	(void)state;
	ctx = hf_tls_ctx_new(NULL, &sc, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	/* another certificate's key */
	sc.key_pem = cert_org.key;
	sc.key_len = cert_org.key_len;
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	assert_non_null(strstr(err, "does not match"));
	/* no PEM at all */
	sc = servers[0];
	sc.cert_pem = "not a certificate";
	sc.cert_len = 17;
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM certificate"));
	sc = servers[0];
	sc.key_len = 40;		/* a truncated key */
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	/* versions outside 1.2..1.3, or upside down */
	sc = servers[0];
	sc.min_version = 0x0301;
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	sc.min_version = HF_TLS_V1_3;
	sc.max_version = HF_TLS_V1_2;
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	/* a cipher list that selects nothing */
	sc = servers[0];
	sc.ciphers = "NO-SUCH-CIPHER";
	assert_null(hf_tls_ctx_new(NULL, &sc, err, sizeof(err)));
	assert_int_equal(hf_tls_cipher_known("ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
	assert_int_equal(hf_tls_cipher_known("ECDHE-RSA-CHACHA20-POLY1305"), 1);
	assert_int_equal(hf_tls_cipher_known("TLS_AES_128_GCM_SHA256"), -1);
	assert_int_equal(hf_tls_cipher_known("NO-SUCH-CIPHER"), 0);
	assert_int_equal(hf_tls_cipher_known("HIGH"), 0);	/* a keyword, not a suite */
	assert_int_equal(hf_tls_cipher_known(""), 0);
	ERR_clear_error();
}

/* ---- handshakes over the BIO ---- */

struct end {
	SSL *ssl;
	struct hf_tls_io io;
};

struct pair {
	struct end cli, srv;
	struct hf_tls_conn t;		/* the server's, as a worker's pool holds it */
	struct hf_tls_lctx *x;
	SSL_CTX *cctx;
};

/* Moves what @p from wrote to @p to's read side, one byte per mbuf when @p bytewise. */
static size_t
carry(struct end *from, struct end *to, bool bytewise)
{
	struct rte_mbuf *m = hf_tls_io_take(&from->io);
	size_t n = 0;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		n += m->data_len;
		if (bytewise) {
			for (uint16_t i = 0; i < m->data_len; i++)
				hf_tls_io_feed(&to->io, hf_test_mbuf(rte_pktmbuf_mtod_offset(m, char *, i), 1));
			rte_pktmbuf_free(m);
		} else {
			hf_tls_io_feed(&to->io, m);
		}
		m = next;
	}
	return n;
}

/* When set, pairs share these contexts (as a listener's connections do) instead of their own. */
static struct hf_tls_lctx *shared_x;

static void
pair_open(struct pair *p, const char *sni, int cli_min, int cli_max, const char *alpn,
	  size_t alpn_len, const char *cli_ciphers)
{
	char err[256];
	BIO *b;

	memset(p, 0, sizeof(*p));
	side = SIDE_SERVER;
	if (shared_x != NULL) {
		p->x = shared_x;
		p->x->refs++;
	} else {
		p->x = hf_tls_lctx_new(NULL, &lcfg, err, sizeof(err));
	}
	assert_non_null(p->x);
	p->t.lctx = p->x;
	p->srv.io.mp = hf_test_pool();
	p->srv.ssl = SSL_new(p->x->ctx[0]);
	b = hf_tls_bio_new(&p->srv.io);
	assert_non_null(b);
	SSL_set_bio(p->srv.ssl, b, b);
	SSL_set_accept_state(p->srv.ssl);
	SSL_set_app_data(p->srv.ssl, &p->t);
	side = SIDE_OTHER;

	p->cctx = SSL_CTX_new(TLS_client_method());
	X509_STORE_add_cert(SSL_CTX_get_cert_store(p->cctx), cert_a.x);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(p->cctx), cert_org.x);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(p->cctx), cert_any.x);
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(p->cctx, cli_min);
	SSL_CTX_set_max_proto_version(p->cctx, cli_max);
	if (cli_ciphers != NULL)
		assert_int_equal(SSL_CTX_set_cipher_list(p->cctx, cli_ciphers), 1);
	p->cli.io.mp = hf_test_pool();
	p->cli.ssl = SSL_new(p->cctx);
	b = hf_tls_bio_new(&p->cli.io);
	SSL_set_bio(p->cli.ssl, b, b);
	SSL_set_connect_state(p->cli.ssl);
	if (sni != NULL)
		SSL_set_tlsext_host_name(p->cli.ssl, sni);
	if (alpn != NULL)
		SSL_set_alpn_protos(p->cli.ssl, (const unsigned char *)alpn, (unsigned int)alpn_len);
}

static void
pair_close(struct pair *p)
{
	side = SIDE_SERVER;
	SSL_free(p->srv.ssl);
	hf_tls_io_reset(&p->srv.io);
	hf_tls_lctx_put(p->x);
	side = SIDE_OTHER;
	SSL_free(p->cli.ssl);
	hf_tls_io_reset(&p->cli.io);
	SSL_CTX_free(p->cctx);
	ERR_clear_error();
}

/* CPU time in the server's SSL calls (the machine may be shared), for the rate */
static double srv_ns;

static int
srv_step(struct pair *p)
{
	struct timespec a, b;
	int rc;

	side = SIDE_SERVER;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	rc = SSL_do_handshake(p->srv.ssl);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	side = SIDE_OTHER;
	srv_ns += (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	return rc;
}

/*
 * Runs the handshake to its end: 1 when both sides finished, 0 when one
 * failed. Every call that has nothing to read must say WANT_READ.
 */
static int
pair_handshake(struct pair *p, bool bytewise)
{
	int cdone = 0, sdone = 0;

	for (int round = 0; round < 64; round++) {
		if (!cdone) {
			int rc = SSL_do_handshake(p->cli.ssl);

			if (rc == 1)
				cdone = 1;
			else if (SSL_get_error(p->cli.ssl, rc) != SSL_ERROR_WANT_READ)
				return 0;
		}
		carry(&p->cli, &p->srv, bytewise);
		if (!sdone) {
			int rc = srv_step(p);

			if (rc == 1)
				sdone = 1;
			else if (SSL_get_error(p->srv.ssl, rc) != SSL_ERROR_WANT_READ)
				return 0;
		}
		carry(&p->srv, &p->cli, bytewise);
		if (cdone && sdone)
			return 1;
	}
	fail_msg("handshake did not end in 64 rounds");
	return 0;
}

static const char *
subject_cn(SSL *ssl, char *buf, size_t cap)
{
	X509 *x = SSL_get1_peer_certificate(ssl);

	buf[0] = '\0';
	if (x != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)cap);
	X509_free(x);
	return buf;
}

static void
test_handshake_sni(void **state)
{
	static const struct {
		const char *sni;
		const char *cn;
		int server;
		int version;
	} cases[] = {
		{"a.example.com", "a.example.com", 0, TLS1_3_VERSION},
		{"www.example.org", "*.example.org", 1, TLS1_3_VERSION},
		{"x.y.example.org", "*.example.org", 1, TLS1_2_VERSION},
		{"exact.example.org.test", "*.example.org", 1, TLS1_3_VERSION},
		{"anything.test", "*", 2, TLS1_2_VERSION},
		{NULL, "a.example.com", 0, TLS1_3_VERSION},	/* no SNI: the first server */
	};
	char cn[128];

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct pair p;

			pair_open(&p, cases[i].sni, cases[i].version, cases[i].version,
				  "\x02h2\x08http/1.1", 12, NULL);
			assert_int_equal(pair_handshake(&p, bytewise), 1);
			assert_true(p.t.hello_seen);
			assert_int_equal(p.t.server, cases[i].server);
			assert_string_equal(subject_cn(p.cli.ssl, cn, sizeof(cn)), cases[i].cn);
			assert_int_equal(SSL_version(p.srv.ssl), cases[i].version);
			{
				const unsigned char *a;
				unsigned int al;

				SSL_get0_alpn_selected(p.cli.ssl, &a, &al);
				assert_int_equal(al, 8);
				assert_memory_equal(a, "http/1.1", 8);
			}
			/* the ciphertext went through the BIO: OpenSSL read all of it */
			assert_int_equal(p.srv.io.in.bytes, 0);
			assert_true(p.srv.io.bytes_in > 0);
			pair_close(&p);
		}
}

static void
test_handshake_refusals(void **state)
{
	struct pair p;
	unsigned long e;

	(void)state;
	/* a name no server takes, with no "*" server: lcfg without its last server */
	lcfg.n_servers = 2;
	pair_open(&p, "nobody.test", TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 0);
	assert_int_equal(p.t.fail, HF_TLS_FAIL_UNKNOWN_SNI);
	/* the client was told why: unrecognized_name (RFC 6066 3) */
	ERR_clear_error();
	carry(&p.srv, &p.cli, false);
	assert_int_not_equal(SSL_do_handshake(p.cli.ssl), 1);
	e = ERR_peek_last_error();
	assert_int_equal(ERR_GET_REASON(e), SSL_R_TLSV1_UNRECOGNIZED_NAME);
	pair_close(&p);
	lcfg.n_servers = 3;

	/* a TLS 1.2-only client against a server whose minimum is 1.3 */
	servers[0].min_version = HF_TLS_V1_3;
	lcfg.id++;
	pair_open(&p, "a.example.com", TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 0);
	assert_int_equal(p.t.fail, HF_TLS_FAIL_NONE);
	pair_close(&p);
	servers[0].min_version = HF_TLS_V1_2;
	/* the same versions set on the server picked by SNI, not only the first */
	servers[1].max_version = HF_TLS_V1_2;
	servers[1].ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
	lcfg.id++;
	pair_open(&p, "www.example.org", TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 0);
	pair_close(&p);
	/* its cipher list: a 1.2 client without that suite is refused, one with it is served */
	pair_open(&p, "www.example.org", TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0,
		  "ECDHE-ECDSA-AES128-GCM-SHA256");
	assert_int_equal(pair_handshake(&p, false), 0);
	pair_close(&p);
	pair_open(&p, "www.example.org", TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 1);
	assert_string_equal(SSL_get_cipher_name(p.srv.ssl), "ECDHE-ECDSA-AES256-GCM-SHA384");
	pair_close(&p);
	servers[1].max_version = HF_TLS_V1_3;
	servers[1].ciphers = NULL;
	lcfg.id++;
}

static void
test_data(void **state)
{
	enum { N = 1 << 20 };
	unsigned char *src = malloc(N), *dst = malloc(N);
	size_t sent = 0, got = 0;
	struct rte_mempool *tiny;
	struct pair p;
	int rc;

	(void)state;
	for (size_t i = 0; i < N; i++)
		src[i] = (unsigned char)(i * 7 + (i >> 9));
	pair_open(&p, "a.example.com", TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 1);
	/* nothing to read: WANT_READ, and the connection is still good */
	rc = SSL_read(p.srv.ssl, dst, 100);
	assert_int_equal(SSL_get_error(p.srv.ssl, rc), SSL_ERROR_WANT_READ);
	/* 1 MB in writes of odd sizes, carried a piece at a time, read into mbuf-sized buffers */
	while (got < N) {
		size_t w = 0, k = sent < N ? RTE_MIN((size_t)(N - sent), 1000 + sent % 7777) : 0;

		if (k > 0) {
			assert_int_equal(SSL_write_ex(p.cli.ssl, src + sent, k, &w), 1);
			sent += w;
		}
		carry(&p.cli, &p.srv, false);
		for (;;) {
			size_t r = 0;

			if (SSL_read_ex(p.srv.ssl, dst + got, RTE_MIN((size_t)1920, (size_t)(N - got)), &r) != 1) {
				assert_int_equal(SSL_get_error(p.srv.ssl, 0), SSL_ERROR_WANT_READ);
				break;
			}
			got += r;
		}
	}
	assert_memory_equal(src, dst, N);
	/* and back, the server writing: the BIO packs records into full mbufs */
	assert_int_equal(SSL_write_ex(p.srv.ssl, src, 50000, &sent), 1);
	assert_true(p.srv.io.out_len > 50000);
	{
		struct rte_mbuf *m = p.srv.io.out_head;

		for (; m != NULL && m->next != NULL; m = m->next)
			assert_int_equal(rte_pktmbuf_tailroom(m), 0);
	}
	carry(&p.srv, &p.cli, true);
	got = 0;
	while (got < 50000) {
		size_t r = 0;

		assert_int_equal(SSL_read_ex(p.cli.ssl, dst + got, 50000 - got, &r), 1);
		got += r;
	}
	assert_memory_equal(src, dst, 50000);
	/* close_notify: the server reads the end of the stream, not an error */
	SSL_shutdown(p.cli.ssl);
	carry(&p.cli, &p.srv, false);
	rc = SSL_read(p.srv.ssl, dst, 100);
	assert_int_equal(SSL_get_error(p.srv.ssl, rc), SSL_ERROR_ZERO_RETURN);
	/* a write that finds no mbuf fails, and says so: no record goes out short and unnoticed */
	tiny = rte_pktmbuf_pool_create("tls_tiny", 4, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(tiny);
	p.srv.io.mp = tiny;
	assert_int_equal(SSL_write_ex(p.srv.ssl, src, 50000, &sent), 0);
	assert_true(p.srv.io.nomem);
	assert_true(p.srv.io.out_len < 50000);
	pair_close(&p);
	rte_mempool_free(tiny);
	free(src);
	free(dst);
}

/* Bytes OpenSSL holds per idle server connection, and server-side handshakes per second. */
static void
test_measure(void **state)
{
	enum { CONNS = 64 };
	static struct pair p[CONNS];
	long long before, after;
	char req[64], buf[256], err[256];
	struct timespec t0, t1;

	(void)state;

	side = SIDE_SERVER;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	shared_x = hf_tls_lctx_new(NULL, &lcfg, err, sizeof(err));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	side = SIDE_OTHER;
	assert_non_null(shared_x);
	/* what a worker spends at snapshot pick-up for a listener like this one */
	print_message("# contexts for 3 servers (2 ECDSA P-256, 1 RSA 2048): %.0f us of CPU, "
		      "%lld bytes\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
					(double)(t1.tv_nsec - t0.tv_nsec)) / 1e3, live[SIDE_SERVER]);
	for (int v = 0; v < 2; v++) {
		int ver = v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;

		before = live[SIDE_SERVER];
		srv_ns = 0;
		for (int i = 0; i < CONNS; i++) {
			size_t n;

			pair_open(&p[i], "a.example.com", ver, ver, "\x08http/1.1", 9, NULL);
			assert_int_equal(pair_handshake(&p[i], false), 1);
			/* one request each way, then idle: buffers given back (SSL_MODE_RELEASE_BUFFERS) */
			snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n\r\n");
			assert_int_equal(SSL_write_ex(p[i].cli.ssl, req, strlen(req), &n), 1);
			carry(&p[i].cli, &p[i].srv, false);
			side = SIDE_SERVER;
			assert_int_equal(SSL_read_ex(p[i].srv.ssl, buf, sizeof(buf), &n), 1);
			assert_int_equal(SSL_write_ex(p[i].srv.ssl, "HTTP/1.1 200 OK\r\n\r\n", 19, &n), 1);
			side = SIDE_OTHER;
			carry(&p[i].srv, &p[i].cli, false);
		}
		after = live[SIDE_SERVER];
		/* the lctx (contexts, certificates) is shared by all of a listener's connections */
		print_message("# TLS %s, ECDSA P-256: %lld bytes of OpenSSL memory per idle server "
			      "connection (+ %zu of ours), %.0f server-side full handshakes/s "
			      "on one core\n", v == 0 ? "1.3" : "1.2",
			      (after - before) / CONNS, hf_tls_conn_footprint(),
			      CONNS / (srv_ns / 1e9));
		for (int i = 0; i < CONNS; i++)
			pair_close(&p[i]);
		/* nothing of the server side leaks per connection (a few bytes of thread state may stay) */
		assert_true(live[SIDE_SERVER] - before < CONNS);
	}
	side = SIDE_SERVER;
	hf_tls_lctx_put(shared_x);
	side = SIDE_OTHER;
	shared_x = NULL;
}

/* ---- MUTUAL: client certificate SANs, CA bundles ---- */

/*
 * A certificate with CN @p cn, SANs @p san (openssl's "URI:x,DNS:y"; NULL: none), valid
 * until @p until seconds from now (an hour before now when negative: expired), signed by
 * @p issuer's key @p ikey (NULL: self-signed). Its key goes to *@p key when asked for.
 */
static X509 *
make_x509k(const char *cn, const char *san, bool ca, X509 *issuer, EVP_PKEY *ikey,
	   EVP_PKEY **key, long until)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0x7fffffff);
	X509_gmtime_adj(X509_getm_notBefore(x), until < 0 ? -3600 : -60);
	X509_gmtime_adj(X509_getm_notAfter(x), until);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (int i = 0; i < 2; i++) {
		const char *v = i == 0 ? san : ca ? "critical,CA:TRUE" : NULL;
		X509_EXTENSION *ext;

		if (v == NULL)
			continue;
		ext = X509V3_EXT_conf_nid(NULL, &v3, i == 0 ? NID_subject_alt_name :
					  NID_basic_constraints, v);
		assert_non_null(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : k, EVP_sha256()) > 0);
	if (key != NULL)
		*key = k;
	else
		EVP_PKEY_free(k);
	return x;
}

static X509 *
make_x509(const char *cn, const char *san, bool ca)
{
	return make_x509k(cn, san, ca, NULL, NULL, NULL, 3600);
}

static void
test_san_match(void **state)
{
	X509 *x = make_x509("cn.example.com", "URI:spiffe://td/ns/a/sa/b,DNS:client.example.com,"
			    "DNS:*.wild.example.com,IP:192.0.2.1", false);
	X509 *none = make_x509("client.example.com", NULL, false);
	static const struct {
		const char *names[2];
		unsigned int n;
		int want;
	} t[] = {
		{{"spiffe://td/ns/a/sa/b"}, 1, 1},
		{{"spiffe://td/ns/a/sa/B"}, 1, 0},		/* URIs compare byte for byte */
		{{"spiffe://td/ns/a/sa"}, 1, 0},		/* a prefix is not the name */
		{{"spiffe://td/ns/a/sa/bb"}, 1, 0},
		{{"client.example.com"}, 1, 1},
		{{"CLIENT.Example.com"}, 1, 1},			/* DNS names in any case */
		{{"x.wild.example.com"}, 1, 1},			/* the SAN's wildcard covers one label */
		{{"a.x.wild.example.com"}, 1, 0},
		{{"wild.example.com"}, 1, 0},
		{{"cn.example.com"}, 1, 0},			/* never the CN */
		{{"example.com"}, 1, 0},
		{{"192.0.2.1"}, 1, 0},				/* IP SANs are not DNS or URI */
		{{"nope.example.com", "spiffe://td/ns/a/sa/b"}, 2, 1},	/* any one of the names */
		{{"nope.example.com", "spiffe://td/ns/x/sa/b"}, 2, 0},
		{{NULL}, 0, 0},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got = hf_tls_san_match(x, t[i].names, t[i].n);

		if (got != t[i].want)
			fail_msg("case %u (%s): got %d, want %d", i, t[i].names[0], got, t[i].want);
	}
	/* a certificate without SANs carries none of them, whatever its CN says */
	assert_int_equal(hf_tls_san_match(none, (const char *const[]){"client.example.com"}, 1), 0);
	X509_free(x);
	X509_free(none);
}

static int
pem_of(X509 *x, char *buf, int cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	PEM_write_bio_X509(b, x);
	n = BIO_read(b, buf, cap);
	BIO_free(b);
	return n;
}

static void
test_ca_check(void **state)
{
	X509 *ca = make_x509("Test root", NULL, true), *ca2 = make_x509("Other root", NULL, true);
	X509 *leaf = make_x509("leaf", "DNS:leaf.example.com", false);
	char pem[16384], err[256];
	int n;

	(void)state;
	n = pem_of(ca, pem, sizeof(pem));
	assert_int_equal(hf_tls_ca_check(pem, (uint32_t)n, err, sizeof(err)), 0);
	n += pem_of(ca2, pem + n, (int)sizeof(pem) - n);
	assert_int_equal(hf_tls_ca_check(pem, (uint32_t)n, err, sizeof(err)), 0);
	/* a bundle with a leaf in it: refused, and the message names which certificate */
	n += pem_of(leaf, pem + n, (int)sizeof(pem) - n);
	assert_int_equal(hf_tls_ca_check(pem, (uint32_t)n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "certificate 3 (/CN=leaf) is not a CA certificate"));
	assert_int_equal(hf_tls_ca_check(cert_a.key, cert_a.key_len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no PEM certificate"));
	assert_int_equal(hf_tls_ca_check("", 0, err, sizeof(err)), -EINVAL);
	X509_free(ca);
	X509_free(ca2);
	X509_free(leaf);
}

/*
 * MUTUAL over real handshakes, as a worker runs them: the server SNI picks
 * asks for a client certificate and verifies it, the verdict kept as the
 * handshake's failure reason; a SIMPLE server on the same listener asks for
 * none, whether it comes before or after the MUTUAL one. TLS 1.2 and 1.3.
 */
static void
test_handshake_mutual(void **state)
{
	static const char *const sans[] = {"spiffe://td/ns/a/sa/b"};
	EVP_PKEY *cak, *othk, *gk, *ek, *sk, *wk;
	X509 *ca = make_x509k("Test root", NULL, true, NULL, NULL, &cak, 3600);
	X509 *other = make_x509k("Other root", NULL, true, NULL, NULL, &othk, 3600);
	X509 *good = make_x509k("good", "URI:spiffe://td/ns/a/sa/b", false, ca, cak, &gk, 3600);
	X509 *old = make_x509k("old", "URI:spiffe://td/ns/a/sa/b", false, ca, cak, &ek, -60);
	X509 *stranger = make_x509k("stranger", "URI:spiffe://td/ns/a/sa/b", false, other, othk,
				    &sk, 3600);
	X509 *wrong = make_x509k("wrong", "URI:spiffe://td/ns/a/sa/c", false, ca, cak, &wk, 3600);
	const struct {
		X509 *cert;
		EVP_PKEY *key;
		int ok;
		enum hf_tls_fail fail;
	} t[] = {
		{good, gk, 1, HF_TLS_FAIL_NONE},
		{NULL, NULL, 0, HF_TLS_FAIL_NONE},	/* conn.c reads OpenSSL's reason: below */
		{old, ek, 0, HF_TLS_FAIL_EXPIRED_CLIENT_CERT},
		{stranger, sk, 0, HF_TLS_FAIL_UNTRUSTED_CLIENT_CERT},
		{wrong, wk, 0, HF_TLS_FAIL_CLIENT_SAN_MISMATCH},
	};
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	X509 *all[] = {ca, other, good, old, stranger, wrong};
	EVP_PKEY *keys[] = {cak, othk, gk, ek, sk, wk};
	char ca_pem[8192];
	struct pair p;

	(void)state;
	servers[1].ca_pem = ca_pem;
	servers[1].ca_len = (uint32_t)pem_of(ca, ca_pem, sizeof(ca_pem));
	servers[1].n_sans = 1;
	servers[1].sans = sans;
	lcfg.id++;
	for (unsigned int v = 0; v < 2; v++) {
		for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			int rc;

			pair_open(&p, "www.example.org", versions[v], versions[v], NULL, 0, NULL);
			if (t[i].cert != NULL) {
				assert_int_equal(SSL_use_certificate(p.cli.ssl, t[i].cert), 1);
				assert_int_equal(SSL_use_PrivateKey(p.cli.ssl, t[i].key), 1);
			}
			ERR_clear_error();
			rc = pair_handshake(&p, false);
			if (rc != t[i].ok || p.t.fail != t[i].fail)
				fail_msg("TLS 1.%d case %u: handshake %d fail %d, want %d %d",
					 v + 2, i, rc, p.t.fail, t[i].ok, t[i].fail);
			if (t[i].cert == NULL)
				assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()),
						 SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE);
			pair_close(&p);
		}
		/* the SIMPLE server before it asks for nothing */
		pair_open(&p, "a.example.com", versions[v], versions[v], NULL, 0, NULL);
		assert_int_equal(pair_handshake(&p, false), 1);
		pair_close(&p);
	}
	/*
	 * The principals the handshakes leave for authorization: one entry of
	 * the worker's table per identity, shared by its connections and
	 * freed with the last; none for a connection without a certificate.
	 */
	{
		struct hf_tls_worker tw;
		struct hf_tls_listener l = {.tw = &tw};
		struct pair q[3];
		struct hf_tcp_conn c[3];
		X509 *certs[3] = {good, good, NULL};
		EVP_PKEY *ks[3] = {gk, gk, NULL};
		const char *pr;
		uint16_t len;

		memset(&tw, 0, sizeof(tw));
		assert_int_equal(hf_tls_peers_init(&tw.peers, 3), 0);
		for (int i = 0; i < 3; i++) {
			pair_open(&q[i], i < 2 ? "www.example.org" : "a.example.com", TLS1_3_VERSION,
				  TLS1_3_VERSION, NULL, 0, NULL);
			if (certs[i] != NULL) {
				assert_int_equal(SSL_use_certificate(q[i].cli.ssl, certs[i]), 1);
				assert_int_equal(SSL_use_PrivateKey(q[i].cli.ssl, ks[i]), 1);
			}
			assert_int_equal(pair_handshake(&q[i], false), 1);
			q[i].t.ssl = q[i].srv.ssl;
			q[i].t.lst = &l;
			side = SIDE_SERVER;
			hf_tls_keep_peer(&tw, &q[i].t);
			side = SIDE_OTHER;
			memset(&c[i], 0, sizeof(c[i]));
			c[i].ops = &hf_tls_tcp_ops;
			c[i].ctx = &q[i].t;
		}
		for (int i = 0; i < 2; i++) {
			pr = hf_tls_peer_principal(&c[i], &len);
			assert_non_null(pr);
			assert_int_equal(len, strlen("td/ns/a/sa/b"));
			assert_memory_equal(pr, "td/ns/a/sa/b", len);
		}
		assert_null(hf_tls_peer_principal(&c[2], &len));
		assert_int_equal(len, 0);
		assert_int_equal(q[0].t.peer, q[1].t.peer);
		assert_int_equal(tw.peers.used, 1);
		hf_tls_drop_peer(&tw, &q[0].t);
		assert_int_equal(tw.peers.used, 1);
		assert_null(hf_tls_peer_principal(&c[0], &len));
		pr = hf_tls_peer_principal(&c[1], &len);
		assert_non_null(pr);
		assert_memory_equal(pr, "td/ns/a/sa/b", len);
		hf_tls_drop_peer(&tw, &q[1].t);
		assert_int_equal(tw.peers.used, 0);
		for (int i = 0; i < 3; i++) {
			q[i].t.ssl = NULL;
			pair_close(&q[i]);
		}
		hf_tls_peers_free(&tw.peers);
	}
	/* MUTUAL first, SIMPLE picked by SNI after it: no certificate asked for */
	servers[0].ca_pem = servers[1].ca_pem;
	servers[0].ca_len = servers[1].ca_len;
	servers[1].ca_pem = NULL;
	servers[1].n_sans = 0;
	lcfg.id++;
	pair_open(&p, "www.example.org", TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 1);
	pair_close(&p);
	pair_open(&p, "a.example.com", TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	assert_int_equal(pair_handshake(&p, false), 0);
	pair_close(&p);
	servers[0].ca_pem = NULL;
	servers[0].ca_len = 0;
	lcfg.id++;
	for (unsigned int i = 0; i < 6; i++) {
		X509_free(all[i]);
		EVP_PKEY_free(keys[i]);
	}
}

/* ---- session tickets: shared keys, rotation ---- */

/* The client's session after the handshake, tickets read (TLS 1.3 sends them after it). */
static SSL_SESSION *
client_session(struct pair *p)
{
	char b[16];

	carry(&p->srv, &p->cli, false);
	assert_int_equal(SSL_get_error(p->cli.ssl, SSL_read(p->cli.ssl, b, sizeof(b))),
			 SSL_ERROR_WANT_READ);
	return SSL_get1_session(p->cli.ssl);
}

/*
 * A handshake on contexts @p x offering @p sess (NULL: none): whether the server
 * resumed it; the client's new session in *@p out (when asked for).
 */
static bool
resume(struct hf_tls_lctx *x, int ver, SSL_SESSION *sess, SSL_SESSION **out)
{
	struct pair p;
	bool reused;

	shared_x = x;
	pair_open(&p, "a.example.com", ver, ver, NULL, 0, NULL);
	shared_x = NULL;
	if (sess != NULL)
		assert_int_equal(SSL_set_session(p.cli.ssl, sess), 1);
	assert_int_equal(pair_handshake(&p, false), 1);
	reused = SSL_session_reused(p.srv.ssl) == 1;
	if (out != NULL)
		*out = client_session(&p);
	/* a client that leaves without close_notify has its session marked not resumable */
	SSL_shutdown(p.cli.ssl);
	pair_close(&p);
	return reused;
}

/* The key name a session's ticket was sealed under. */
static const unsigned char *
ticket_name(const SSL_SESSION *s)
{
	const unsigned char *tick = NULL;
	size_t len = 0;

	SSL_SESSION_get0_ticket(s, &tick, &len);
	assert_true(len > HF_TLS_TICKET_NAME);
	return tick;
}

static void
rotate(struct hf_tls_tickets *t)
{
	t->key[1] = t->key[0];
	assert_int_equal(RAND_bytes((unsigned char *)&t->key[0], sizeof(t->key[0])), 1);
	t->n = 2;
	t->gen++;
}

static void
test_tickets(void **state)
{
	static struct hf_tls_tickets keys, other;
	OSSL_LIB_CTX *lib_a = OSSL_LIB_CTX_new(), *lib_b = OSSL_LIB_CTX_new();
	struct hf_tls_lctx *xa, *xb;
	char err[256];

	(void)state;
	assert_non_null(lib_a);
	assert_non_null(lib_b);
	for (int v = 0; v < 2; v++) {
		int ver = v == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
		SSL_SESSION *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

		memset(&keys, 0, sizeof(keys));
		assert_int_equal(RAND_bytes((unsigned char *)&keys.key[0], sizeof(keys.key[0])), 1);
		keys.n = 1;
		assert_int_equal(RAND_bytes((unsigned char *)&other.key[0], sizeof(other.key[0])),
				 1);
		other.n = 1;
		/* two workers: each its own library context and contexts, the same keys */
		hf_tls_tickets_now = &keys;
		side = SIDE_SERVER;
		xa = hf_tls_lctx_new(lib_a, &lcfg, err, sizeof(err));
		xb = hf_tls_lctx_new(lib_b, &lcfg, err, sizeof(err));
		side = SIDE_OTHER;
		assert_non_null(xa);
		assert_non_null(xb);

		/* a full handshake on one worker gives a ticket under the current key */
		assert_false(resume(xa, ver, NULL, &s1));
		assert_non_null(s1);
		assert_memory_equal(ticket_name(s1), keys.key[0].name, HF_TLS_TICKET_NAME);
		/* which resumes on the other worker */
		assert_true(resume(xb, ver, s1, NULL));
		assert_true(resume(xa, ver, s1, NULL));
		/* keys that are not these do not open it: a full handshake */
		hf_tls_tickets_now = &other;
		assert_false(resume(xb, ver, s1, NULL));
		hf_tls_tickets_now = &keys;

		/* one rotation: the previous key still opens it, and the ticket is renewed */
		rotate(&keys);
		assert_true(resume(xb, ver, s1, &s2));
		assert_memory_equal(ticket_name(s2), keys.key[0].name, HF_TLS_TICKET_NAME);
		/* a ticket issued now is under the new key */
		assert_false(resume(xa, ver, NULL, &s3));
		assert_memory_equal(ticket_name(s3), keys.key[0].name, HF_TLS_TICKET_NAME);

		/* two rotations: s1's key is gone (a full handshake, a new ticket); s2 resumes */
		rotate(&keys);
		assert_false(resume(xa, ver, s1, &s4));
		assert_memory_equal(ticket_name(s4), keys.key[0].name, HF_TLS_TICKET_NAME);
		assert_true(resume(xb, ver, s2, NULL));
		assert_true(resume(xa, ver, s4, NULL));

		/*
		 * The session id context: a rotated certificate for the same name (another
		 * key, same subject) still resumes; a server with another subject does not.
		 */
		{
			static struct pem rot;
			struct hf_tls_server_config keep = servers[0];
			struct hf_tls_lctx *xc;

			make_cert(&rot, "a.example.com", false);
			servers[0].cert_pem = rot.cert;
			servers[0].cert_len = rot.cert_len;
			servers[0].key_pem = rot.key;
			servers[0].key_len = rot.key_len;
			side = SIDE_SERVER;
			xc = hf_tls_lctx_new(lib_b, &lcfg, err, sizeof(err));
			side = SIDE_OTHER;
			assert_non_null(xc);
			assert_true(resume(xc, ver, s2, NULL));
			side = SIDE_SERVER;
			hf_tls_lctx_put(xc);
			servers[0].cert_pem = cert_any.cert;
			servers[0].cert_len = cert_any.cert_len;
			servers[0].key_pem = cert_any.key;
			servers[0].key_len = cert_any.key_len;
			xc = hf_tls_lctx_new(lib_b, &lcfg, err, sizeof(err));
			side = SIDE_OTHER;
			assert_non_null(xc);
			assert_false(resume(xc, ver, s2, NULL));
			side = SIDE_SERVER;
			hf_tls_lctx_put(xc);
			side = SIDE_OTHER;
			servers[0] = keep;
			X509_free(rot.x);
		}
		SSL_SESSION_free(s1);

		/* CPU of the server: a full handshake against a resumed one */
		{
			enum { N = 32 };
			double full, resumed;

			srv_ns = 0;
			for (int i = 0; i < N; i++)
				assert_false(resume(xa, ver, NULL, NULL));
			full = srv_ns / N;
			srv_ns = 0;
			for (int i = 0; i < N; i++)
				assert_true(resume(xb, ver, s2, NULL));
			resumed = srv_ns / N;
			print_message("# TLS %s, ECDSA P-256: server CPU per full handshake "
				      "%.0f us, per resumed one %.0f us\n", v == 0 ? "1.3" : "1.2",
				      full / 1e3, resumed / 1e3);
		}
		SSL_SESSION_free(s2);
		SSL_SESSION_free(s3);
		SSL_SESSION_free(s4);
		side = SIDE_SERVER;
		hf_tls_lctx_put(xa);
		hf_tls_lctx_put(xb);
		side = SIDE_OTHER;
	}
	hf_tls_tickets_now = NULL;
	OSSL_LIB_CTX_free(lib_a);
	OSSL_LIB_CTX_free(lib_b);
}

/*
 * tls/pid.c: getpid() answers from its cache, and a fork()ed child gets its
 * own PID from it, not its parent's, so OpenSSL's fork check (a PID change)
 * still fires in a child; and random bytes drawn there differ from the
 * parent's next draw, which a stale PID would make equal.
 */
static void
test_pid_fork(void **state)
{
	unsigned char a[32], b[32];
	int fds[2], st = 0;
	pid_t parent, child;

	(void)state;
	hf_tls_pid_init();
	parent = getpid();
	assert_int_equal(parent, (pid_t)syscall(SYS_getpid));
	assert_int_equal(RAND_bytes(a, sizeof(a)), 1);	/* the parent's DRBG is seeded and used */
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* the child: its PID, and its own random bytes, sent to the parent */
		int ok = getpid() == (pid_t)syscall(SYS_getpid) && getpid() != parent &&
			 RAND_bytes(b, sizeof(b)) == 1 && write(fds[1], b, sizeof(b)) == sizeof(b);

		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], b, sizeof(b)), (ssize_t)sizeof(b));
	close(fds[0]);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(getpid(), parent);
	assert_int_equal(RAND_bytes(a, sizeof(a)), 1);
	assert_memory_not_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_parse),
		cmocka_unit_test(test_sni_select),
		cmocka_unit_test(test_ctx_refusals),
		cmocka_unit_test(test_handshake_sni),
		cmocka_unit_test(test_handshake_refusals),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_san_match),
		cmocka_unit_test(test_ca_check),
		cmocka_unit_test(test_handshake_mutual),
		cmocka_unit_test(test_tickets),
		cmocka_unit_test(test_pid_fork),
	};

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free))
		return 1;
	hf_test_eal(0);
	make_cert(&cert_a, "a.example.com", false);
	make_cert(&cert_org, "*.example.org", false);
	make_cert(&cert_any, "*", true);
	setup_servers();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
