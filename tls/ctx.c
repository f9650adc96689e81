/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server contexts: an SSL_CTX per certificate, built from the PEM bytes of a
 * listener's config, and a worker's set of them for one listener (struct
 * hf_tls_lctx) with the SNI table its ClientHello callback selects from.
 *
 * Where contexts are made: the agent builds one per server once, to refuse a
 * bad certificate, key or cipher list at load with the YAML's file and line,
 * and throws it away. Each worker then builds its own from the same bytes
 * when it picks the snapshot up (hf_tls_listener_new/update): nothing of
 * OpenSSL is shared between workers, so no handshake takes a lock another
 * core holds (OpenSSL 3.0 locks inside a shared SSL_CTX's session cache, a
 * shared EVP_PKEY's provider-key cache and the library context's method
 * store; each worker has its own library context as well). The cost is about
 * 1.5 ms of the worker's CPU per certificate (parsing, the key check) at each
 * snapshot that changes the listener; never per packet.
 *
 * Plain C over OpenSSL (no DPDK): the agent links it too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/tls-int.h"
#include "tls/tls.h"

struct hf_tls_tickets *hf_tls_tickets_now;

/* The only protocol we speak over TLS until HTTP/2 exists (RFC 7301 3.1 wire format). */
static const unsigned char alpn_ours[] = "\x08http/1.1";

/*
 * RFC 7301 3.2: the server picks from the client's list; with no protocol
 * in common the handshake goes on without ALPN (NOACK) rather than failing,
 * as Envoy does when it has no h2 to offer an h2-only client.
 */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	    unsigned int inlen, void *arg)
{
	unsigned char *sel = NULL;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_ours, sizeof(alpn_ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * Runs before OpenSSL chooses a version or a cipher (statem_srvr.c calls it
 * first thing in tls_early_post_process_client_hello): reads SNI with our own
 * bounded parser, picks the server, and puts that server's certificate,
 * versions and ciphers on the connection. A connection whose name no server
 * takes fails with unrecognized_name (RFC 6066 3).
 */
static int
client_hello(SSL *ssl, int *al, void *arg)
{
	struct hf_tls_conn *t = SSL_get_app_data(ssl);
	struct hf_tls_lctx *x;
	const unsigned char *p;
	const char *name = "";
	size_t len, nlen = 0;
	int s;

	(void)arg;
	if (t == NULL || t->lctx == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	x = t->lctx;
	t->hello_seen = true;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) == 1 &&
	    hf_tls_sni_parse(p, len, &name, &nlen) < 0) {
		t->fail = HF_TLS_FAIL_MALFORMED_HELLO;
		*al = SSL_AD_DECODE_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	s = hf_tls_sni_select(x->sni, x->n_sni, name, nlen);
	if (s < 0 || (unsigned int)s >= x->n_servers) {
		t->fail = HF_TLS_FAIL_UNKNOWN_SNI;
		/* OpenSSL keeps no name it never accepted: the access log line takes it here. */
		if (t->lst != NULL && t->lst->tw != NULL) {
			struct hf_tls_worker *tw = t->lst->tw;
			size_t k = nlen < sizeof(tw->hello_sni) ? nlen : sizeof(tw->hello_sni) - 1;

			memcpy(tw->hello_sni, name, k);
			tw->hello_sni[k] = '\0';
			tw->hello_id = t->id;
		}
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	t->server = (uint16_t)s;
	if (s == 0)
		return SSL_CLIENT_HELLO_SUCCESS;	/* SSL_new() took server 0's settings */
	/*
	 * SSL_set_SSL_CTX() moves the certificate over, not the versions, the
	 * ciphers or whether a client certificate is asked for (the CA store and
	 * CA names it then uses are the new context's).
	 */
	if (SSL_set_SSL_CTX(ssl, x->ctx[s]) == NULL ||
	    !SSL_set_min_proto_version(ssl, x->min_version[s]) ||
	    !SSL_set_max_proto_version(ssl, x->max_version[s]) ||
	    (x->ciphers[s] != NULL && !SSL_set_cipher_list(ssl, x->ciphers[s]))) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(x->ctx[s]),
		       SSL_CTX_get_verify_callback(x->ctx[s]));
	return SSL_CLIENT_HELLO_SUCCESS;
}

int
hf_tls_san_match(X509 *x, const char *const *names, unsigned int n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int found = 0;

	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *u;

		if (g->type != GEN_URI)
			continue;
		u = g->d.uniformResourceIdentifier;
		for (unsigned int k = 0; k < n && !found; k++)
			found = strlen(names[k]) == (size_t)u->length &&
				memcmp(names[k], u->data, (size_t)u->length) == 0;
	}
	GENERAL_NAMES_free(gens);
	/*
	 * DNS SANs as RFC 6125 6.4 compares host names; never the CN, which
	 * Envoy does not look at either when SANs are to be matched.
	 */
	for (unsigned int k = 0; k < n && !found; k++)
		found = X509_check_host(x, names[k], 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	ERR_clear_error();
	return found;
}

/*
 * MUTUAL servers: OpenSSL's verdict on each certificate of the client's
 * chain, kept as the handshake's failure reason, and then, on the leaf that
 * verified, the server's subjectAltNames. Returning 0 fails the handshake
 * with the alert that matches the error (RFC 8446 6.2: bad_certificate,
 * certificate_expired, unknown_ca).
 */
static int
verify_client(int ok, X509_STORE_CTX *sx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct hf_tls_conn *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	const struct hf_tls_lctx *x;
	int e = X509_STORE_CTX_get_error(sx);

	if (!ok) {
		bool dates = e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID;

		if (t != NULL && t->fail == HF_TLS_FAIL_NONE)
			t->fail = dates ? HF_TLS_FAIL_EXPIRED_CLIENT_CERT
					: HF_TLS_FAIL_UNTRUSTED_CLIENT_CERT;
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(sx) != 0 || t == NULL || t->lctx == NULL)
		return 1;
	x = t->lctx;
	if (x->n_sans[t->server] == 0 ||
	    hf_tls_san_match(X509_STORE_CTX_get_current_cert(sx),
			     (const char *const *)x->sans[t->server], x->n_sans[t->server]))
		return 1;
	t->fail = HF_TLS_FAIL_CLIENT_SAN_MISMATCH;
	X509_STORE_CTX_set_error(sx, X509_V_ERR_HOSTNAME_MISMATCH);
	return 0;
}

int
hf_tls_no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return 0;
}

void
hf_tls_ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

int
hf_tls_use_chain(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = X509_new_ex(lib, NULL);
	int n = 0;

	if (b == NULL || x == NULL || PEM_read_bio_X509(b, &x, hf_tls_no_passphrase, NULL) == NULL) {
		X509_free(x);
		BIO_free(b);
		hf_tls_ssl_err(err, errlen, "no PEM certificate");
		return -EINVAL;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		X509_free(x);
		BIO_free(b);
		hf_tls_ssl_err(err, errlen, "certificate refused");
		return -EINVAL;
	}
	X509_free(x);
	for (;;) {
		x = X509_new_ex(lib, NULL);
		if (x == NULL || PEM_read_bio_X509(b, &x, hf_tls_no_passphrase, NULL) == NULL) {
			X509_free(x);
			break;
		}
		/* add0: the context owns it now */
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(b);
			hf_tls_ssl_err(err, errlen, "chain certificate refused");
			return -EINVAL;
		}
		n++;
	}
	/* The loop ends on "no start line": not an error. */
	ERR_clear_error();
	BIO_free(b);
	return n;
}

int
hf_tls_use_key(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey_ex(b, NULL, hf_tls_no_passphrase, NULL, lib, NULL)
			       : NULL;

	X509 *x = SSL_CTX_get0_certificate(ctx);

	BIO_free(b);
	if (k == NULL) {
		hf_tls_ssl_err(err, errlen, "no PEM private key (or an encrypted one)");
		return -EINVAL;
	}
	if (x != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		snprintf(err, errlen, "the private key does not match the certificate");
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey(ctx, k) != 1) {
		EVP_PKEY_free(k);
		hf_tls_ssl_err(err, errlen, "private key refused");
		return -EINVAL;
	}
	EVP_PKEY_free(k);
	if (SSL_CTX_check_private_key(ctx) != 1) {
		hf_tls_ssl_err(err, errlen, "the private key does not match the certificate");
		return -EINVAL;
	}
	return 0;
}

/*
 * A server also names its CAs in the CertificateRequest's certificate_authorities
 * (RFC 8446 4.2.4), which lets a client holding several certificates pick the right one.
 */
int
hf_tls_add_cas(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, bool request,
	       char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	int n = 0, rc = 0;

	while (b != NULL && rc == 0) {
		X509 *x = X509_new_ex(lib, NULL);

		if (x == NULL || PEM_read_bio_X509(b, &x, hf_tls_no_passphrase, NULL) == NULL) {
			X509_free(x);
			break;
		}
		if (X509_check_ca(x) == 0) {
			char cn[256] = "";

			X509_NAME_oneline(X509_get_subject_name(x), cn, sizeof(cn));
			snprintf(err, errlen, "caCertificates: certificate %d (%s) is not a CA "
				 "certificate", n + 1, cn);
			rc = -EINVAL;
		} else if (X509_STORE_add_cert(store, x) != 1 ||
			   (request && SSL_CTX_add_client_CA(ctx, x) != 1)) {
			hf_tls_ssl_err(err, errlen, "CA certificate refused");
			rc = -EINVAL;
		}
		X509_free(x);
		n++;
	}
	BIO_free(b);
	if (rc == 0 && n == 0) {
		hf_tls_ssl_err(err, errlen, "caCertificates: no PEM certificate");
		return -EINVAL;
	}
	ERR_clear_error();
	return rc;
}

int
hf_tls_ca_check(const char *pem, uint32_t len, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc;

	if (ctx == NULL) {
		hf_tls_ssl_err(err, errlen, "SSL_CTX_new");
		return -ENOMEM;
	}
	rc = hf_tls_add_cas(ctx, NULL, pem, len, true, err, errlen);
	SSL_CTX_free(ctx);
	return rc;
}

/*
 * Seals (@p enc) or opens a session ticket with the shared keys (RFC 5077 4's
 * recommended construction, which OpenSSL applies: key_name, IV, AES-256-CBC,
 * HMAC-SHA256). Opening: 1 with the current key, 2 with the previous one
 * (OpenSSL then issues a fresh ticket under the current key), 0 for a name we
 * do not hold any more (a full handshake, and a new ticket). Runs in a
 * handshake, so the connection's contexts are held (t->lctx).
 */
static int
ticket_key(SSL *ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
	   EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	const struct hf_tls_tickets *tk = hf_tls_tickets_current();
	const struct hf_tls_conn *t = SSL_get_app_data(ssl);
	const struct hf_tls_ticket_key *k = NULL;
	OSSL_PARAM params[2];
	int rc = 1;

	if (tk == NULL || tk->n == 0 || t == NULL || t->lctx == NULL || t->lctx->ticket_aes == NULL)
		return 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (enc) {
		k = &tk->key[0];
		if (RAND_bytes(iv, 16) != 1)
			return -1;
		memcpy(name, k->name, HF_TLS_TICKET_NAME);
		if (EVP_EncryptInit_ex(cctx, t->lctx->ticket_aes, NULL, k->aes, iv) != 1 ||
		    EVP_MAC_init(hctx, k->hmac, sizeof(k->hmac), params) != 1)
			return -1;
		return 1;
	}
	for (unsigned int i = 0; i < tk->n && i < 2 && k == NULL; i++)
		if (memcmp(name, tk->key[i].name, HF_TLS_TICKET_NAME) == 0) {
			k = &tk->key[i];
			rc = i == 0 ? 1 : 2;
		}
	if (k == NULL)
		return 0;
	if (EVP_MAC_init(hctx, k->hmac, sizeof(k->hmac), params) != 1 ||
	    EVP_DecryptInit_ex(cctx, t->lctx->ticket_aes, NULL, k->aes, iv) != 1)
		return -1;
	return rc;
}

/*
 * The session id context of @p sc's server: a session (a ticket) resumes
 * only on a server with the same one (OpenSSL compares it, RFC 5077 3.4's
 * "the server must not resume a session it would not accept"). It hashes
 * the SNI names, the leaf certificate's subject and what MUTUAL checks (CA
 * bundle, SANs): not the certificate's bytes, so sessions survive its
 * rotation (as Envoy's context id does), never a move to another server or
 * to other client checks.
 */
static int
set_sid_ctx(SSL_CTX *ctx, const struct hf_tls_server_config *sc)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	char subj[512] = "";
	int ok;

	if (leaf != NULL)
		X509_NAME_oneline(X509_get_subject_name(leaf), subj, sizeof(subj));
	ok = h != NULL && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1;
	for (unsigned int i = 0; ok && i < sc->n_names; i++)
		ok = EVP_DigestUpdate(h, sc->names[i], strlen(sc->names[i]) + 1) == 1;
	ok = ok && EVP_DigestUpdate(h, subj, strlen(subj) + 1) == 1;
	if (ok && sc->ca_pem != NULL)
		ok = EVP_DigestUpdate(h, sc->ca_pem, sc->ca_len) == 1;
	for (unsigned int i = 0; ok && i < sc->n_sans; i++)
		ok = EVP_DigestUpdate(h, sc->sans[i], strlen(sc->sans[i]) + 1) == 1;
	ok = ok && EVP_DigestFinal_ex(h, md, &mdlen) == 1 &&
	     SSL_CTX_set_session_id_context(ctx, md, mdlen < SSL_MAX_SID_CTX_LENGTH ? mdlen
							      : SSL_MAX_SID_CTX_LENGTH) == 1;
	EVP_MD_CTX_free(h);
	return ok ? 0 : -ENOMEM;
}

SSL_CTX *
hf_tls_ctx_new(OSSL_LIB_CTX *lib, const struct hf_tls_server_config *sc, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new_ex(lib, NULL, TLS_server_method());
	if (ctx == NULL) {
		hf_tls_ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (sc->min_version < HF_TLS_V1_2 || sc->max_version > HF_TLS_V1_3 ||
	    sc->min_version > sc->max_version) {
		snprintf(err, errlen, "versions 0x%04x..0x%04x: TLS 1.2 and 1.3 only, min <= max",
			 sc->min_version, sc->max_version);
		goto fail;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, sc->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, sc->max_version)) {
		hf_tls_ssl_err(err, errlen, "protocol versions refused");
		goto fail;
	}
	if (sc->ciphers != NULL && SSL_CTX_set_cipher_list(ctx, sc->ciphers) != 1) {
		hf_tls_ssl_err(err, errlen, "cipher list refused");
		goto fail;
	}
	/*
	 * No renegotiation (a client could make us do handshakes at will), our
	 * cipher order, and no session cache (whose lock a shared context would
	 * take per handshake, and which one worker's sessions would not reach
	 * another's): resumption is by stateless tickets only, sealed with the
	 * keys every worker shares, when the agent publishes them.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (hf_tls_tickets_current() != NULL) {
		/*
		 * TLS 1.3: one ticket after each handshake, full or resumed, where
		 * OpenSSL and BoringSSL send two. Each costs the server about 20 us
		 * (the session encoded, sealed and MACed: 8% of a full handshake,
		 * bench/tls/bench_tls_hs); a client that resumes gets a fresh one
		 * each time, so only a client opening two connections at once from
		 * one ticket makes a full handshake for the second (RFC 8446 C.4:
		 * a ticket is for one use).
		 */
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key);
		SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
	}
	/*
	 * An idle connection gives its 16 KB read and write buffers back. The
	 * chain goes out as the certificate file gives it, as Envoy sends it:
	 * without SSL_MODE_NO_AUTO_CHAIN, a leaf with no chain in its file has
	 * OpenSSL build one from the trust store in every handshake
	 * (X509_STORE_CTX_new, X509_verify_cert: ssl_add_cert_chain()).
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_client_hello_cb(ctx, client_hello, NULL);
	if (hf_tls_use_chain(ctx, lib, sc->cert_pem, sc->cert_len, err, errlen) < 0 ||
	    hf_tls_use_key(ctx, lib, sc->key_pem, sc->key_len, err, errlen) < 0)
		goto fail;
	if (set_sid_ctx(ctx, sc) < 0) {
		hf_tls_ssl_err(err, errlen, "session id context");
		goto fail;
	}
	if (sc->ca_pem != NULL) {
		if (hf_tls_add_cas(ctx, lib, sc->ca_pem, sc->ca_len, true, err, errlen) < 0)
			goto fail;
		/* MUTUAL: no certificate, or one that does not verify, ends the handshake. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   verify_client);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
hf_tls_cipher_known(const char *name)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(SSL_CIPHER) *sk;
	int rc = 0;

	if (ctx == NULL)
		return 0;
	/* Every suite this OpenSSL has, whatever the security level would allow. */
	SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL") != 1) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return 0;
	}
	sk = SSL_CTX_get_ciphers(ctx);
	for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk) && rc == 0; i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);

		if (strcmp(SSL_CIPHER_get_name(c), name) == 0 ||
		    strcmp(SSL_CIPHER_standard_name(c), name) == 0)
			rc = strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0 ? -1 : 1;
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* ---- a worker's contexts for one listener ---- */

void
hf_tls_lctx_put(struct hf_tls_lctx *x)
{
	if (x == NULL || --x->refs > 0)
		return;
	for (unsigned int i = 0; i < x->n_servers; i++) {
		SSL_CTX_free(x->ctx[i]);
		free(x->ciphers[i]);
		for (unsigned int k = 0; k < x->n_sans[i]; k++)
			free(x->sans[i][k]);
		free(x->sans[i]);
	}
	free(x->sni);
	free(x->names);
	EVP_CIPHER_free(x->ticket_aes);
	free(x);
}

struct hf_tls_lctx *
hf_tls_lctx_new(OSSL_LIB_CTX *lib, const struct hf_tls_listener_config *cfg, char *err,
		size_t errlen)
{
	struct hf_tls_lctx *x;
	size_t bytes = 0, off = 0;
	unsigned int n = 0;

	if (cfg->n_servers == 0 || cfg->n_servers > HF_TLS_MAX_SERVERS) {
		snprintf(err, errlen, "%u servers (1 to %d)", cfg->n_servers, HF_TLS_MAX_SERVERS);
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		goto nomem;
	x->refs = 1;
	x->id = cfg->id;
	/* Fetched once here: a fetch per ticket would search the library's method store. */
	x->ticket_aes = EVP_CIPHER_fetch(lib, "AES-256-CBC", NULL);
	if (x->ticket_aes == NULL)
		goto nomem;
	for (unsigned int s = 0; s < cfg->n_servers; s++) {
		n += cfg->servers[s].n_names;
		for (unsigned int k = 0; k < cfg->servers[s].n_names; k++)
			bytes += strlen(cfg->servers[s].names[k]) + 1;
	}
	x->sni = calloc(n > 0 ? n : 1, sizeof(*x->sni));
	x->names = malloc(bytes > 0 ? bytes : 1);
	if (x->sni == NULL || x->names == NULL)
		goto nomem;
	for (unsigned int s = 0; s < cfg->n_servers; s++) {
		const struct hf_tls_server_config *sc = &cfg->servers[s];

		x->ctx[s] = hf_tls_ctx_new(lib, sc, err, errlen);
		x->n_servers = s + 1;
		if (x->ctx[s] == NULL)
			goto fail;
		x->min_version[s] = sc->min_version;
		x->max_version[s] = sc->max_version;
		if (sc->ciphers != NULL && (x->ciphers[s] = strdup(sc->ciphers)) == NULL)
			goto nomem;
		if (sc->n_sans > 0 && (x->sans[s] = calloc(sc->n_sans, sizeof(char *))) == NULL)
			goto nomem;
		for (unsigned int k = 0; k < sc->n_sans; k++) {
			if ((x->sans[s][k] = strdup(sc->sans[k])) == NULL)
				goto nomem;
			x->n_sans[s] = k + 1;
		}
		for (unsigned int k = 0; k < sc->n_names; k++) {
			const char *nm = sc->names[k];
			struct hf_tls_sni_entry *e = &x->sni[x->n_sni++];
			size_t l = strlen(nm);

			memcpy(x->names + off, nm, l + 1);
			e->server = (uint16_t)s;
			if (strcmp(nm, "*") == 0) {
				e->kind = 2;
				e->name = x->names + off;
				e->len = 0;
			} else if (nm[0] == '*' && nm[1] == '.') {
				e->kind = 1;
				e->name = x->names + off + 1;	/* ".example.com" */
				e->len = (uint16_t)(l - 1);
			} else {
				e->kind = 0;
				e->name = x->names + off;
				e->len = (uint16_t)l;
			}
			off += l + 1;
		}
	}
	return x;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	hf_tls_lctx_put(x);
	return NULL;
}
