/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-memory handshakes for the shared-context benchmark (bench_tls_ctx.h).
 *
 * The server side is tls/ctx.c's hf_tls_ctx_new(), the function a worker
 * builds its contexts with, so the locks a handshake takes are the ones the
 * gateway's handshakes take: OpenSSL 3.0's inside the SSL_CTX, inside its
 * EVP_PKEY (the provider-key cache, for every signature) and in the library
 * context's method store (algorithm fetches). Its ClientHello callback finds
 * no Hydrofoil connection on these SSLs and lets the handshake go on as is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench/tls/bench_tls_ctx.h"
#include "tls/tls.h"

static char *cert_pem, *key_pem;
static uint32_t cert_len, key_len;
static pthread_once_t cert_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;	/* shared[] */
static SSL_CTX *shared[2];	/* [v == TLS 1.3] */

/* The bytes of memory BIO @p b as a malloc'd string. */
static char *
bio_string(BIO *b, uint32_t *len)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);

	s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (s == NULL)
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	*len = (uint32_t)n;
	return s;
}

static void
make_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());

	if (pk == NULL || x == NULL || cb == NULL || kb == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"bench.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_set_pubkey(x, pk) || !X509_sign(x, pk, EVP_sha256()) ||
	    !PEM_write_bio_X509(cb, x) || !PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL))
		goto out;
	cert_pem = bio_string(cb, &cert_len);
	key_pem = bio_string(kb, &key_len);
out:
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(pk);
}

int
bench_tls_cert_init(void)
{
	pthread_once(&cert_once, make_cert);
	if (cert_pem == NULL || key_pem == NULL) {
		fprintf(stderr, "bench_tls_ctx: cannot make a certificate\n");
		return -1;
	}
	return 0;
}

SSL_CTX *
bench_tls_server_ctx(OSSL_LIB_CTX *lib, uint16_t v)
{
	static const char *const names[] = {"*"};
	struct hf_tls_server_config sc = {
		.n_names = 1, .names = names, .min_version = v, .max_version = v,
		.ciphers = v == HF_TLS_V1_2 ? "ECDHE-ECDSA-AES128-GCM-SHA256" : NULL,
	};
	char err[256];
	SSL_CTX *ctx;

	if (bench_tls_cert_init() != 0)
		return NULL;
	sc.cert_pem = cert_pem;
	sc.cert_len = cert_len;
	sc.key_pem = key_pem;
	sc.key_len = key_len;
	ctx = hf_tls_ctx_new(lib, &sc, err, sizeof(err));
	if (ctx == NULL)
		fprintf(stderr, "bench_tls_ctx: hf_tls_ctx_new: %s\n", err);
	return ctx;
}

SSL_CTX *
bench_tls_client_ctx(OSSL_LIB_CTX *lib, uint16_t v)
{
	SSL_CTX *ctx = SSL_CTX_new_ex(lib, NULL, TLS_client_method());

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v) ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;
}

SSL_CTX *
bench_tls_shared_server_ctx(uint16_t v)
{
	int i = v == HF_TLS_V1_3;
	SSL_CTX *ctx;

	if (bench_tls_cert_init() != 0)
		return NULL;
	pthread_mutex_lock(&lock);
	if (shared[i] == NULL)
		shared[i] = bench_tls_server_ctx(NULL, v);
	ctx = shared[i];
	pthread_mutex_unlock(&lock);
	return ctx;
}

int
bench_tls_handshake(SSL_CTX *server, SSL_CTX *client)
{
	SSL *s = SSL_new(server), *c = SSL_new(client);
	BIO *sb = NULL, *cb = NULL;
	int rc = -1, cd = 0, sd = 0;

	if (s == NULL || c == NULL || !BIO_new_bio_pair(&sb, 0, &cb, 0))
		goto out;
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	/* Each side runs until it waits for the other's flight; a few rounds at most. */
	for (int round = 0; round < 16 && !(cd == 1 && sd == 1); round++) {
		if (cd != 1) {
			cd = SSL_do_handshake(c);
			if (cd != 1 && SSL_get_error(c, cd) != SSL_ERROR_WANT_READ)
				goto out;
		}
		if (sd != 1) {
			sd = SSL_do_handshake(s);
			if (sd != 1 && SSL_get_error(s, sd) != SSL_ERROR_WANT_READ)
				goto out;
		}
	}
	rc = cd == 1 && sd == 1 ? 0 : -1;
out:
	ERR_clear_error();
	SSL_free(s);		/* and its end of the pair */
	SSL_free(c);
	return rc;
}

uint64_t
bench_tls_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
