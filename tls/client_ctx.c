/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client contexts for TLS origination: an SSL_CTX per DestinationRule tls
 * block (struct hf_tls_client_config), built from the PEM bytes the agent
 * carried in the snapshot, and the check of the server's certificate.
 *
 * Like the server side (ctx.c), the agent builds one once to refuse a bad
 * configuration at load and each worker builds its own in its own library
 * context at snapshot pick-up: nothing of OpenSSL is shared between cores.
 *
 * What is checked of the server, in this order (OpenSSL's chain check calls
 * verify_server() for each certificate): the chain must end at one of the
 * configured CAs and every certificate be within its dates; then the leaf
 * must carry one of subjectAltNames (a DNS SAN as a host name, a URI SAN
 * byte for byte: hf_tls_san_match(), the same rule as for client
 * certificates), or, with none given, be valid for the SNI name (OpenSSL's
 * host check, RFC 6125 6.4), as Istio's auto SAN validation does. The SANs
 * live beside the SSL_CTX (ex_data), so a handshake that outlives the
 * snapshot it started with still has them.
 *
 * Plain C over OpenSSL (no DPDK): the agent links it too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/tls-int.h"
#include "tls/tls.h"

static const unsigned char alpn_http11[] = "\x08http/1.1";
/*
 * ISTIO_MUTUAL: what an Istio sidecar offers for HTTP/1.1 in the mesh (its
 * istio.alpn filter's override): "istio-http/1.1" and "istio" let a
 * sidecar's inbound listener pick its mTLS HTTP filter chain, "http/1.1"
 * keeps a server outside the mesh (nginx) answering.
 */
static const unsigned char alpn_istio[] = "\x0eistio-http/1.1\x05istio\x08http/1.1";

/* What the verify callback needs of the config, owned by the SSL_CTX (freed with it). */
struct cdata {
	unsigned int n_sans;
	char **sans;
};

static int cdata_idx = -1;
static pthread_once_t cdata_once = PTHREAD_ONCE_INIT;

static void
cdata_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct cdata *d = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (d == NULL)
		return;
	for (unsigned int i = 0; i < d->n_sans; i++)
		free(d->sans[i]);
	free(d->sans);
	free(d);
}

static void
cdata_init(void)
{
	cdata_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cdata_free);
}

/*
 * The server's certificates as OpenSSL checks them: its verdict kept as the
 * failure reason, then the leaf's SANs. Returning 0 fails the handshake
 * with the matching alert (bad_certificate, certificate_expired, unknown_ca).
 */
static int
verify_server(int ok, X509_STORE_CTX *sx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct hf_tls_conn *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	const struct cdata *d;
	int e = X509_STORE_CTX_get_error(sx);

	if (!ok) {
		uint8_t f = HF_TLS_FAIL_UNTRUSTED_SERVER_CERT;

		if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
			f = HF_TLS_FAIL_EXPIRED_SERVER_CERT;
		else if (e == X509_V_ERR_HOSTNAME_MISMATCH)
			f = HF_TLS_FAIL_SERVER_SAN_MISMATCH;
		if (t != NULL && t->fail == HF_TLS_FAIL_NONE)
			t->fail = f;
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(sx) != 0 || ssl == NULL)
		return 1;
	d = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), cdata_idx);
	if (d == NULL || d->n_sans == 0 ||
	    hf_tls_san_match(X509_STORE_CTX_get_current_cert(sx), (const char *const *)d->sans,
			     d->n_sans))
		return 1;
	if (t != NULL)
		t->fail = HF_TLS_FAIL_SERVER_SAN_MISMATCH;
	X509_STORE_CTX_set_error(sx, X509_V_ERR_HOSTNAME_MISMATCH);
	return 0;
}

/* Our certificate (the leaf first, then its chain) and its key, checked to match. */
static int
identity(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const struct hf_tls_client_config *cc, char *err,
	 size_t errlen)
{
	char why[256];

	if (hf_tls_use_chain(ctx, lib, cc->cert_pem, cc->cert_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "clientCertificate: %s", why);
		return -EINVAL;
	}
	if (hf_tls_use_key(ctx, lib, cc->key_pem, cc->key_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "privateKey: %s", why);
		return -EINVAL;
	}
	return 0;
}

int
hf_tls_client_ssl_setup(SSL *ssl, const struct hf_tls_client_config *cc)
{
	if (cc->sni != NULL && SSL_set_tlsext_host_name(ssl, cc->sni) != 1)
		return -ENOMEM;
	/* X509_check_host() rules: a "*.x" SAN covers one label, the CN is never looked at */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
			  X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	if (cc->ca_pem != NULL && cc->n_sans == 0 && cc->verify_host && cc->sni != NULL &&
	    SSL_set1_host(ssl, cc->sni) != 1)
		return -ENOMEM;
	return 0;
}

SSL_CTX *
hf_tls_client_ctx_new(OSSL_LIB_CTX *lib, const struct hf_tls_client_config *cc, char *err,
		      size_t errlen)
{
	struct cdata *d = NULL;
	SSL_CTX *ctx;

	pthread_once(&cdata_once, cdata_init);
	ERR_clear_error();
	if (cdata_idx < 0) {
		snprintf(err, errlen, "SSL_CTX_get_ex_new_index");
		return NULL;
	}
	ctx = SSL_CTX_new_ex(lib, NULL, TLS_client_method());
	if (ctx == NULL) {
		hf_tls_ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		hf_tls_ssl_err(err, errlen, "protocol versions refused");
		goto fail;
	}
	/*
	 * No renegotiation, no compression. Sessions (tickets) are asked for, and
	 * handed to the worker's own cache per upstream endpoint (tls/client.c,
	 * SSL_CTX_sess_set_new_cb there), never OpenSSL's internal one, whose
	 * lock and list a worker does not need. A chain is sent as the file
	 * gives it (SSL_MODE_NO_AUTO_CHAIN): OpenSSL would else try to build one
	 * from the trust store in each handshake.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
					    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	if (cc->mode == HF_TLS_ORIG_ISTIO_MUTUAL
	    ? SSL_CTX_set_alpn_protos(ctx, alpn_istio, sizeof(alpn_istio) - 1) != 0
	    : SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof(alpn_http11) - 1) != 0) {
		hf_tls_ssl_err(err, errlen, "ALPN refused");
		goto fail;
	}
	if (cc->ca_pem != NULL) {
		if (hf_tls_add_cas(ctx, lib, cc->ca_pem, cc->ca_len, false, err, errlen) < 0)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_server);
	} else {
		/* insecureSkipVerify: the server's certificate is taken as it comes */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (cc->cert_pem != NULL && identity(ctx, lib, cc, err, errlen) < 0)
		goto fail;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		goto nomem;
	if (cc->n_sans > 0 && (d->sans = calloc(cc->n_sans, sizeof(char *))) == NULL)
		goto nomem;
	for (unsigned int i = 0; i < cc->n_sans; i++) {
		if ((d->sans[i] = strdup(cc->sans[i])) == NULL)
			goto nomem;
		d->n_sans = i + 1;
	}
	if (SSL_CTX_set_ex_data(ctx, cdata_idx, d) != 1)
		goto nomem;
	return ctx;
nomem:
	snprintf(err, errlen, "out of memory");
	cdata_free(NULL, d, NULL, 0, 0, NULL);
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
hf_tls_identity_check(const char *cert_pem, uint32_t cert_len, const char *key_pem,
		      uint32_t key_len, const char *root_pem, uint32_t root_len, const char *spiffe,
		      char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(cert_pem, (int)cert_len);
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sx = X509_STORE_CTX_new();
	X509 *leaf = NULL, *x;
	EVP_PKEY *k = NULL;
	int rc = -EINVAL, n = 0;

	ERR_clear_error();
	if (b == NULL || chain == NULL || store == NULL || sx == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	leaf = PEM_read_bio_X509(b, NULL, hf_tls_no_passphrase, NULL);
	if (leaf == NULL) {
		hf_tls_ssl_err(err, errlen, "cert_chain: no PEM certificate");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, hf_tls_no_passphrase, NULL)) != NULL)
		sk_X509_push(chain, x);
	ERR_clear_error();
	BIO_free(b);
	b = BIO_new_mem_buf(key_pem, (int)key_len);
	k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, hf_tls_no_passphrase, NULL) : NULL;
	if (k == NULL) {
		hf_tls_ssl_err(err, errlen, "key: no PEM private key (or an encrypted one)");
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), k) != 1) {
		snprintf(err, errlen, "key: not the key of cert_chain's certificate");
		goto out;
	}
	if (!hf_tls_san_match(leaf, &spiffe, 1)) {
		snprintf(err, errlen, "cert_chain: the certificate does not carry %s as a URI SAN",
			 spiffe);
		goto out;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(root_pem, (int)root_len);
	while (b != NULL && (x = PEM_read_bio_X509(b, NULL, hf_tls_no_passphrase, NULL)) != NULL) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		snprintf(err, errlen, "root_cert: no PEM certificate");
		goto out;
	}
	if (X509_STORE_CTX_init(sx, store, leaf, chain) != 1 || X509_verify_cert(sx) != 1) {
		snprintf(err, errlen, "cert_chain does not verify to root_cert: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sx)));
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(sx);
	X509_STORE_free(store);
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(k);
	BIO_free(b);
	return rc;
}
