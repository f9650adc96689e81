/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS connections over two whole TCP stacks (tls/conn.c, tls/client.c): a
 * TLS listener on worker B, TLS origination from worker A, joined by a wire
 * this test carries frames over (as tests/unit/tcp/test_tcp_unlisten.c).
 *
 * What it asserts, by the counters a user reads in /stats and the bytes the
 * peers get: what the application sends within one loop pass is sealed into
 * records of up to 16 KiB (45 sends of one segment's payload each are 4
 * records, not 45), in both directions; a small send still leaves in the
 * same pass; data sent before hf_tls_shutdown() arrives whole before the
 * end; and origination keeps the session an endpoint gave and resumes it on
 * the next connection (tls.upstream.resumed), which the server counts as
 * resumed too.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <rte_cycles.h>

#include "hf_test.h"
#include "dataplane/net/eth.h"
#include "dataplane/tcp/tcp.h"
#include "tls/tls.h"

static struct hf_port pa, pb;
static struct hf_worker *A, *B;	/* A: 198.51.100.2 (TLS client), B: 198.51.100.1 (TLS server) */
static struct hf_tls_worker *twa, *twb;
static struct hf_tls_client *cl;
static struct hf_tls_listener *lst;

/* One end's application: what it read, and what it does with a request. */
struct app {
	struct hf_tcp_conn *c;
	bool up, closed, eof;
	size_t got;
	uint8_t buf[256 << 10];
};

static struct app sa, ca;	/* server side (on B), client side (on A) */

/* The server's answer to a request: @p resp_len bytes in pieces of @p resp_piece, then maybe close. */
static size_t req_len, resp_len, resp_piece;
static bool resp_close, responded;

/* Heap bytes OpenSSL holds, both ends together (as glibc sizes its blocks). */
static long long ossl_live;

static void *
c_malloc(size_t n, const char *f, int l)
{
	void *p = malloc(n);

	(void)f;
	(void)l;
	if (p != NULL)
		ossl_live += (long long)malloc_usable_size(p);
	return p;
}

static void
c_free(void *p, const char *f, int l)
{
	(void)f;
	(void)l;
	if (p != NULL)
		ossl_live -= (long long)malloc_usable_size(p);
	free(p);
}

static void *
c_realloc(void *p, size_t n, const char *f, int l)
{
	long long old = p != NULL ? (long long)malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	(void)f;
	(void)l;
	if (q != NULL)
		ossl_live += (long long)malloc_usable_size(q) - old;
	return q;
}

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static struct rte_mbuf *
piece(size_t off, size_t n)
{
	uint8_t tmp[2048];

	assert_true(n <= sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		tmp[i] = pattern(off + i);
	return hf_test_mbuf(tmp, n);
}

static void
read_all(struct hf_worker *w, struct hf_tcp_conn *c, struct app *a)
{
	struct rte_mbuf *m;

	while ((m = hf_tls_recv(w, c, UINT32_MAX)) != NULL) {
		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			if (a->got + s->data_len <= sizeof(a->buf))
				memcpy(a->buf + a->got, rte_pktmbuf_mtod(s, void *), s->data_len);
			a->got += s->data_len;
		}
		rte_pktmbuf_free(m);
	}
	if (hf_tls_peer_closed(c))
		a->eof = true;
}

static int
s_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)w;
	(void)lctx;
	memset(&sa, 0, sizeof(sa));
	sa.c = c;
	sa.up = true;
	hf_tls_set_ctx(c, &sa);
	return 0;
}

/* Reads; once the whole request is in, answers in one go: every piece within this callback. */
static void
s_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct app *a = hf_tls_ctx(c);

	read_all(w, c, a);
	if (!responded && req_len > 0 && a->got >= req_len) {
		responded = true;
		for (size_t off = 0; off < resp_len; off += resp_piece)
			hf_tls_send(w, c, piece(off, RTE_MIN(resp_piece, resp_len - off)));
		if (resp_close)
			hf_tls_shutdown(w, c);
	}
	if (a->eof && !resp_close)
		hf_tls_shutdown(w, c);
}

static void
app_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct app *a = hf_tls_ctx(c);

	(void)w;
	(void)err;
	if (a != NULL) {
		a->closed = true;
		a->c = NULL;
	}
}

static void
c_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	(void)w;
	((struct app *)hf_tls_ctx(c))->up = true;
}

static void
c_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	read_all(w, c, hf_tls_ctx(c));
}

static const struct hf_tcp_ops srv_app = {
	.accepted = s_accepted,
	.readable = s_readable,
	.closed = app_closed,
};

static const struct hf_tcp_ops cli_app = {
	.connected = c_connected,
	.readable = c_readable,
	.closed = app_closed,
};

/* ---- the wire and the loop ---- */

static void
carry(struct hf_worker *from, struct hf_worker *to)
{
	struct rte_mbuf *m[64];
	unsigned int n = hf_test_sent(from, m, 64);

	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(rte_pktmbuf_linearize(m[i]), 0);
		hf_eth_input(to, &to->ports[0], m[i]);
	}
}

/* Worker loop passes (TCP's pass seals what TLS holds) and the wire, until *@p done or @p ms. */
static void
run(unsigned int ms, const bool *done)
{
	uint64_t end = rte_rdtsc() + ms * rte_get_tsc_hz() / 1000;

	while (rte_rdtsc() < end && (done == NULL || !*done)) {
		A->now = B->now = rte_rdtsc();
		hf_tcp_poll(A);
		hf_tcp_poll(B);
		carry(A, B);
		carry(B, A);
	}
}

/* ---- certificate, contexts ---- */

static char cert_pem[4096], key_pem[4096];
static uint32_t cert_len, key_len;
static struct hf_tls_tickets tickets;

static void
make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	BIO *b;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"up.test", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	cert_len = (uint32_t)BIO_read(b, cert_pem, sizeof(cert_pem));
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	key_len = (uint32_t)BIO_read(b, key_pem, sizeof(key_pem));
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

static const char *const any[] = {"*"};
/* insecureSkipVerify: what is checked of a server is test_tls_client's; here, the bytes */
static const struct hf_tls_client_config ccfg = {.id = 7, .mode = HF_TLS_ORIG_SIMPLE,
						  .sni = "up.test"};

static int
tcp_up(struct hf_worker *w, uint16_t name_id)
{
	struct hf_tcp_config cfg;
	int rc;

	hf_tcp_config_default(&cfg);
	cfg.max_connections = 64;
	cfg.time_wait_ms = 500;
	w->id = name_id;	/* names its table and pools */
	rc = hf_tcp_init(w, &cfg);
	w->id = 0;
	return rc;
}

static int
setup(void **state)
{
	static uint16_t generation;
	const struct hf_tls_client_config *cfgs[] = {&ccfg};
	struct hf_tls_server_config sc = {
		.n_names = 1, .names = any, .cert_pem = cert_pem, .cert_len = cert_len,
		.key_pem = key_pem, .key_len = key_len,
		.min_version = HF_TLS_V1_2, .max_version = HF_TLS_V1_3,
	};
	struct hf_tls_listener_config lc = {.id = 1, .n_servers = 1, .servers = &sc};

	(void)state;
	hf_test_port(&pa, 0, 0, "198.51.100.2/24", NULL);
	hf_test_port(&pb, 0, 1, "198.51.100.1/24", NULL);
	A = hf_test_worker(0, &pa, 1);
	B = hf_test_worker(1, &pb, 1);
	assert_int_equal(tcp_up(A, (uint16_t)(60 + 2 * generation)), 0);
	assert_int_equal(tcp_up(B, (uint16_t)(61 + 2 * generation)), 0);
	generation++;
	/* tickets sealed with shared keys, as the agent publishes them */
	tickets.gen = 1;
	tickets.n = 1;
	assert_int_equal(RAND_bytes((unsigned char *)&tickets.key[0], sizeof(tickets.key[0])), 1);
	hf_tls_tickets_now = &tickets;
	twa = hf_tls_worker_new(A, 16);
	twb = hf_tls_worker_new(B, 16);
	assert_non_null(twa);
	assert_non_null(twb);
	cl = hf_tls_client_new(twa, &cli_app);
	assert_non_null(cl);
	hf_tls_client_sync(cl, cfgs, 1);
	lst = hf_tls_listener_new(twb, &lc, &srv_app, NULL);
	assert_non_null(lst);
	assert_non_null(lst->lctx);
	assert_true(hf_tcp_listen(B, 443, &hf_tls_tcp_ops, lst) >= 0);
	memset(&sa, 0, sizeof(sa));
	memset(&ca, 0, sizeof(ca));
	req_len = resp_len = 0;
	resp_piece = 1448;
	resp_close = responded = false;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_test_worker_free(A);
	hf_test_worker_free(B);
	hf_tls_client_free(cl);
	hf_tls_listener_free(lst);
	hf_tls_worker_free(twa);
	hf_tls_worker_free(twb);
	hf_tls_tickets_now = NULL;
	return 0;
}

/* Opens a TLS connection from A to B's listener and runs until both ends have it. */
static void
connect_up(void)
{
	memset(&ca, 0, sizeof(ca));
	sa.up = false;
	ca.c = hf_tls_connect(A, cl, &ccfg, 0, pb.addr, rte_cpu_to_be_16(443), 1000, &ca);
	assert_non_null(ca.c);
	run(5000, &ca.up);
	run(5000, &sa.up);
	assert_true(ca.up && sa.up);
}

/* Both ends close (the client first) and run until both heard it. */
static void
close_down(void)
{
	hf_tls_shutdown(A, ca.c);
	run(5000, &sa.closed);
	run(5000, &ca.closed);
	assert_true(sa.closed && ca.closed);
}

static uint64_t
cnt(const struct hf_worker *w, enum hf_counter id)
{
	return w->cnt.v[id];
}

/*
 * A request in three sends from outside any callback is one record at A's
 * next pass; a 64 KiB answer of 46 sends in one callback is four records
 * of 16 KiB (and one for the rest), byte-exact; a 100-byte answer is one
 * record that leaves without anything after it.
 */
static void
test_records_coalesced(void **state)
{
	uint64_t up0, r0, b0;

	long long idle;

	(void)state;
	connect_up();
	idle = ossl_live;
	req_len = 300;
	resp_len = 65536 + 100;
	up0 = cnt(A, HF_CNT_TLS_UP_RECORDS_SENT);
	r0 = cnt(B, HF_CNT_TLS_RECORDS_SENT);
	b0 = cnt(B, HF_CNT_TLS_RECORD_BYTES_SENT);
	for (int i = 0; i < 3; i++)
		assert_true(hf_tls_send(A, ca.c, piece(0, 100)) >= 0);
	run(5000, &responded);
	assert_true(responded);
	assert_int_equal(sa.got, 300);
	assert_int_equal(cnt(A, HF_CNT_TLS_UP_RECORDS_SENT) - up0, 1);
	assert_int_equal(cnt(A, HF_CNT_TLS_UP_RECORD_BYTES_SENT), 300);
	while (ca.got < resp_len && ca.c != NULL)
		run(50, NULL);
	assert_int_equal(ca.got, resp_len);
	for (size_t i = 0; i < resp_len; i++)
		if (ca.buf[i] != pattern(i))
			fail_msg("byte %zu of the answer is %u, want %u", i, ca.buf[i], pattern(i));
	/* 4 × 16,384 + 100: five records, not one per send (46) */
	assert_int_equal(cnt(B, HF_CNT_TLS_RECORDS_SENT) - r0, 5);
	assert_int_equal(cnt(B, HF_CNT_TLS_RECORD_BYTES_SENT) - b0, resp_len);
	/*
	 * Idle again: the write buffer OpenSSL kept from record to record
	 * (tls/conn.c seal) was given back with the last one, and the read
	 * buffers at the end of the reads (hf_tls_recv_slow; before, the
	 * client's stayed: 16,584 bytes): not 16 KiB more than before.
	 */
	if (ossl_live - idle >= HF_TLS_RECORD_MAX)
		fail_msg("OpenSSL holds %lld bytes more once idle again", ossl_live - idle);
	/* a small answer: one record, sealed at the end of the pass */
	ca.got = 0;
	responded = false;
	sa.got = 0;
	resp_len = 100;
	r0 = cnt(B, HF_CNT_TLS_RECORDS_SENT);
	assert_true(hf_tls_send(A, ca.c, piece(0, 300)) >= 0);
	run(5000, &responded);
	while (ca.got < resp_len && ca.c != NULL)
		run(50, NULL);
	assert_int_equal(ca.got, 100);
	assert_int_equal(cnt(B, HF_CNT_TLS_RECORDS_SENT) - r0, 1);
	close_down();
}

/* An answer and the server's close in one callback: every byte arrives, then the end. */
static void
test_shutdown_after_send(void **state)
{
	(void)state;
	connect_up();
	req_len = 10;
	resp_len = 40000;
	resp_piece = 1000;
	resp_close = true;
	assert_true(hf_tls_send(A, ca.c, piece(0, 10)) >= 0);
	run(5000, &ca.eof);
	assert_true(ca.eof);
	assert_int_equal(ca.got, resp_len);
	for (size_t i = 0; i < resp_len; i++)
		if (ca.buf[i] != pattern(i))
			fail_msg("byte %zu of the answer is %u, want %u", i, ca.buf[i], pattern(i));
	hf_tls_shutdown(A, ca.c);
	run(5000, &ca.closed);
	run(5000, &sa.closed);
	assert_true(ca.closed && sa.closed);
}

/*
 * The first connection's handshake is full; the session (a TLS 1.3 ticket)
 * it got is kept for that endpoint and config, and the second connection
 * resumes it: tls.upstream.resumed on A, tls.resumed on B.
 */
static void
test_client_resumption(void **state)
{
	(void)state;
	connect_up();
	assert_int_equal(cnt(A, HF_CNT_TLS_UP_RESUMED), 0);
	/* the tickets come right after the handshake; the client reads them */
	run(200, NULL);
	assert_true(cnt(A, HF_CNT_TLS_UP_SESSIONS_KEPT) >= 1);
	close_down();
	memset(&sa, 0, sizeof(sa));
	connect_up();
	assert_int_equal(cnt(A, HF_CNT_TLS_UP_HANDSHAKES), 2);
	assert_int_equal(cnt(A, HF_CNT_TLS_UP_RESUMED), 1);
	assert_int_equal(cnt(B, HF_CNT_TLS_RESUMED), 1);
	close_down();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_after_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_resumption, setup, teardown),
	};

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free))
		return 1;
	hf_test_eal(2);
	make_cert();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
