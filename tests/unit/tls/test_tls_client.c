/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS origination's contexts (tls/client_ctx.c) over real handshakes: a
 * client SSL_CTX built by hf_tls_client_ctx_new() and set up per connection
 * by hf_tls_client_ssl_setup(), as a worker does, against plain OpenSSL
 * servers over a BIO pair. Each case checks the verdict and the failure
 * reason the verify callback leaves for the counters and the access log:
 * trust (CA), dates, subjectAltNames (DNS and SPIFFE URI SANs), the SNI
 * name when no SANs are given, insecureSkipVerify, a client certificate for
 * MUTUAL; TLS 1.2 and 1.3. And what hf_tls_client_ctx_new() refuses, the ALPN a
 * client offers (Istio's for ISTIO_MUTUAL), and that its sessions resume.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

/*
 * A certificate with CN @p cn, SANs @p san ("URI:x,DNS:y"; NULL: none), valid until @p until
 * seconds from now (expired an hour ago when negative), signed by @p ikey of @p issuer (NULL:
 * self-signed), a CA when @p ca. Its key goes to *@p key.
 */
static X509 *
mk(const char *cn, const char *san, bool ca, X509 *issuer, EVP_PKEY *ikey, EVP_PKEY **key,
   long until)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0x7fffffff);
	X509_gmtime_adj(X509_getm_notBefore(x), until < 0 ? -7200 : -60);
	X509_gmtime_adj(X509_getm_notAfter(x), until < 0 ? -3600 : until);
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
	*key = k;
	return x;
}

static uint32_t
pem_x509(X509 *x, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	PEM_write_bio_X509(b, x);
	n = BIO_read(b, buf, (int)cap - 1);
	BIO_free(b);
	assert_true(n > 0);
	buf[n] = '\0';
	return (uint32_t)n;
}

static uint32_t
pem_key(EVP_PKEY *k, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_read(b, buf, (int)cap - 1);
	BIO_free(b);
	assert_true(n > 0);
	buf[n] = '\0';
	return (uint32_t)n;
}

static EVP_PKEY *cak, *othk, *upk, *oldk, *spk, *cli_k;
static X509 *ca, *other, *up, *old, *spiffe, *cli;
static char ca_pem[4096], other_pem[4096], cli_pem[4096], cli_key[4096];
static uint32_t ca_len, other_len, cli_len, cli_key_len;

static int
setup(void **state)
{
	(void)state;
	ca = mk("Test root", NULL, true, NULL, NULL, &cak, 3600);
	other = mk("Other root", NULL, true, NULL, NULL, &othk, 3600);
	up = mk("up", "DNS:up.example.com,DNS:*.up.example.com", false, ca, cak, &upk, 3600);
	old = mk("old", "DNS:up.example.com", false, ca, cak, &oldk, -1);
	spiffe = mk("cart", "URI:spiffe://cluster.local/ns/shop/sa/cart", false, ca, cak, &spk,
		    3600);
	cli = mk("gateway-client", "DNS:gw.example.com", false, ca, cak, &cli_k, 3600);
	ca_len = pem_x509(ca, ca_pem, sizeof(ca_pem));
	other_len = pem_x509(other, other_pem, sizeof(other_pem));
	cli_len = pem_x509(cli, cli_pem, sizeof(cli_pem));
	cli_key_len = pem_key(cli_k, cli_key, sizeof(cli_key));
	return 0;
}

static int
teardown(void **state)
{
	X509 *x[] = {ca, other, up, old, spiffe, cli};
	EVP_PKEY *k[] = {cak, othk, upk, oldk, spk, cli_k};

	(void)state;
	for (unsigned int i = 0; i < 6; i++) {
		X509_free(x[i]);
		EVP_PKEY_free(k[i]);
	}
	return 0;
}

/* A server context: certificate @p x and key @p k, asking for a client certificate of `ca`. */
static SSL_CTX *
server_ctx(X509 *x, EVP_PKEY *k, bool want_client, int version)
{
	SSL_CTX *s = SSL_CTX_new(TLS_server_method());

	assert_non_null(s);
	assert_int_equal(SSL_CTX_use_certificate(s, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s, k), 1);
	SSL_CTX_set_min_proto_version(s, version);
	SSL_CTX_set_max_proto_version(s, version);
	if (want_client) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(s), ca);
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return s;
}

/*
 * One handshake of a client for @p cc against a server showing @p x: returns 1 when both
 * ends finished, 0 when either failed; *@p fail gets the client's reason and *@p sni what
 * the server saw.
 */
static int
handshake(const struct hf_tls_client_config *cc, X509 *x, EVP_PKEY *k, bool want_client,
	  int version, uint8_t *fail, char *sni, size_t sni_cap)
{
	char err[256];
	SSL_CTX *cctx = hf_tls_client_ctx_new(NULL, cc, err, sizeof(err));
	SSL_CTX *sctx = server_ctx(x, k, want_client, version);
	struct hf_tls_conn t = {0};
	SSL *c, *s;
	BIO *bc, *bs;
	bool cdone = false, sdone = false, cfailed = false, sfailed = false;
	const char *name;

	if (cctx == NULL)
		fail_msg("client context: %s", err);
	c = SSL_new(cctx);
	s = SSL_new(sctx);
	assert_int_equal(hf_tls_client_ssl_setup(c, cc), 0);
	SSL_set_app_data(c, &t);
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && !(cdone && sdone) && !cfailed && !sfailed; i++) {
		int rc;

		if (!cdone) {
			rc = SSL_do_handshake(c);
			cdone = rc == 1;
			cfailed = rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ;
		}
		if (!sdone) {
			rc = SSL_do_handshake(s);
			sdone = rc == 1;
			sfailed = rc <= 0 && SSL_get_error(s, rc) != SSL_ERROR_WANT_READ;
		}
	}
	/* TLS 1.3: the server's verdict on our certificate comes after our Finished */
	if (cdone && sdone) {
		char b[8];

		SSL_read(c, b, sizeof(b));
	}
	name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	snprintf(sni, sni_cap, "%s", name != NULL ? name : "");
	*fail = t.fail;
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	ERR_clear_error();
	return cdone && sdone && !sfailed;
}

static void
test_verify(void **state)
{
	static const char *const nope[] = {"nope.example.com"};
	static const char *const dns[] = {"nope.example.com", "x.up.example.com"};
	static const char *const cart[] = {"spiffe://cluster.local/ns/shop/sa/cart"};
	static const char *const pay[] = {"spiffe://cluster.local/ns/shop/sa/payment"};
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	const struct {
		const char *what;
		struct hf_tls_client_config cc;
		X509 **x;
		EVP_PKEY **k;
		bool want_client;
		int ok;
		enum hf_tls_fail fail;
		const char *sni;
	} t[] = {
		{"CA, name from sni",
		 {.ca_pem = ca_pem, .sni = "up.example.com", .verify_host = true},
		 &up, &upk, false, 1, HF_TLS_FAIL_NONE, "up.example.com"},
		{"the SAN's wildcard covers the sni",
		 {.ca_pem = ca_pem, .sni = "a.up.example.com", .verify_host = true},
		 &up, &upk, false, 1, HF_TLS_FAIL_NONE, "a.up.example.com"},
		{"another CA", {.ca_pem = other_pem, .sni = "up.example.com", .verify_host = true},
		 &up, &upk, false, 0, HF_TLS_FAIL_UNTRUSTED_SERVER_CERT, "up.example.com"},
		{"expired", {.ca_pem = ca_pem, .sni = "up.example.com", .verify_host = true},
		 &old, &oldk, false, 0, HF_TLS_FAIL_EXPIRED_SERVER_CERT, "up.example.com"},
		{"sni the certificate is not for",
		 {.ca_pem = ca_pem, .sni = "evil.example.net", .verify_host = true},
		 &up, &upk, false, 0, HF_TLS_FAIL_SERVER_SAN_MISMATCH, "evil.example.net"},
		{"subjectAltNames it lacks", {.ca_pem = ca_pem, .sni = "up.example.com",
					       .n_sans = 1, .sans = nope},
		 &up, &upk, false, 0, HF_TLS_FAIL_SERVER_SAN_MISMATCH, "up.example.com"},
		{"subjectAltNames, one matches (and the sni is not checked then)",
		 {.ca_pem = ca_pem, .sni = "elsewhere.example.net", .n_sans = 2, .sans = dns},
		 &up, &upk, false, 1, HF_TLS_FAIL_NONE, "elsewhere.example.net"},
		{"SPIFFE URI SAN", {.ca_pem = ca_pem, .n_sans = 1, .sans = cart},
		 &spiffe, &spk, false, 1, HF_TLS_FAIL_NONE, ""},
		{"another service account's SPIFFE ID",
		 {.ca_pem = ca_pem, .n_sans = 1, .sans = pay},
		 &spiffe, &spk, false, 0, HF_TLS_FAIL_SERVER_SAN_MISMATCH, ""},
		{"insecureSkipVerify: another CA's certificate goes",
		 {.ca_pem = NULL, .sni = "up.example.com"},
		 &up, &upk, false, 1, HF_TLS_FAIL_NONE, "up.example.com"},
		{"MUTUAL: our certificate verified by the server",
		 {.ca_pem = ca_pem, .sni = "up.example.com", .verify_host = true,
		  .cert_pem = cli_pem, .key_pem = cli_key},
		 &up, &upk, true, 1, HF_TLS_FAIL_NONE, "up.example.com"},
		{"no certificate where the server wants one",
		 {.ca_pem = ca_pem, .sni = "up.example.com", .verify_host = true},
		 &up, &upk, true, 0, HF_TLS_FAIL_NONE, "up.example.com"},
	};

	(void)state;
	for (unsigned int v = 0; v < 2; v++)
		for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			struct hf_tls_client_config cc = t[i].cc;
			char sni[256];
			uint8_t fail;
			int ok;

			cc.id = i + 1;
			cc.ca_len = cc.ca_pem == ca_pem	  ? ca_len :
				    cc.ca_pem != NULL ? other_len : 0;
			cc.cert_len = cc.cert_pem != NULL ? cli_len : 0;
			cc.key_len = cc.key_pem != NULL ? cli_key_len : 0;
			ok = handshake(&cc, *t[i].x, *t[i].k, t[i].want_client, versions[v], &fail,
				       sni, sizeof(sni));
			if (ok != t[i].ok || fail != t[i].fail || strcmp(sni, t[i].sni) != 0)
				fail_msg("TLS 1.%u, %s: handshake %d fail %u sni '%s', "
					 "want %d %d '%s'",
					 v + 2, t[i].what, ok, fail, sni, t[i].ok, t[i].fail,
					 t[i].sni);
		}
}

static void
test_ctx_refusals(void **state)
{
	char err[256], up_key[4096];
	uint32_t up_key_len = pem_key(upk, up_key, sizeof(up_key));
	struct hf_tls_client_config cc = {.id = 1, .ca_pem = ca_pem, .ca_len = ca_len};
	SSL_CTX *ctx;

	(void)state;
	ctx = hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	/* a leaf where the CAs go */
	cc.ca_pem = cli_pem;
	cc.ca_len = cli_len;
	assert_null(hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err)));
	assert_non_null(strstr(err, "caCertificates: certificate 1 (") && strstr(err, ") is not a CA certificate"));
	/* a key where the CAs go */
	cc.ca_pem = cli_key;
	cc.ca_len = cli_key_len;
	assert_null(hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM certificate"));
	/* our certificate with another one's key */
	cc = (struct hf_tls_client_config){.id = 1, .ca_pem = ca_pem, .ca_len = ca_len,
					   .cert_pem = cli_pem, .cert_len = cli_len,
					   .key_pem = up_key, .key_len = up_key_len};
	assert_null(hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err)));
	assert_non_null(strstr(err, "privateKey: the private key does not match the certificate"));
	/* a key where our certificate goes */
	cc.cert_pem = cli_key;
	cc.cert_len = cli_key_len;
	assert_null(hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err)));
	assert_non_null(strstr(err, "clientCertificate: no PEM certificate"));
	/* with the right key: built */
	cc.cert_pem = cli_pem;
	cc.cert_len = cli_len;
	cc.key_pem = cli_key;
	cc.key_len = cli_key_len;
	ctx = hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	explicit_bzero(up_key, sizeof(up_key));
}

/* The server's ALPN callback: keeps the client's offer (wire format), picks "istio" if offered. */
static unsigned char offered[64];
static unsigned int offered_len;

static int
alpn_keep(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	  unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x05istio\x08http/1.1";
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	offered_len = inlen < sizeof(offered) ? inlen : 0;
	memcpy(offered, in, offered_len);
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * Client @p c and server @p s (fresh SSLs) over a BIO pair until both finished, then the
 * client reads once (TLS 1.3: the server's tickets). Returns 1 when both finished.
 */
static int
run(SSL *c, SSL *s)
{
	BIO *bc, *bs;
	bool cdone = false, sdone = false;
	char b[8];

	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && !(cdone && sdone); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(c) == 1;
		if (!sdone)
			sdone = SSL_do_handshake(s) == 1;
	}
	if (cdone && sdone)
		SSL_read(c, b, sizeof(b));
	ERR_clear_error();
	return cdone && sdone;
}

/*
 * What the client offers in ALPN: http/1.1 for SIMPLE; for ISTIO_MUTUAL what an Istio
 * sidecar offers for HTTP/1.1 (istio-http/1.1, istio, http/1.1), so a sidecar's server picks
 * "istio". And the client takes a ticket and resumes with it (no SSL_OP_NO_TICKET), TLS 1.2
 * and 1.3: what the worker's session cache per endpoint keeps (tls/client.c).
 */
static void
test_alpn_and_resumption(void **state)
{
	static const unsigned char simple[] = "\x08http/1.1";
	static const unsigned char istio[] = "\x0eistio-http/1.1\x05istio\x08http/1.1";
	static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
	char err[256];

	(void)state;
	for (unsigned int v = 0; v < 2; v++)
		for (int mode = HF_TLS_ORIG_SIMPLE; mode <= HF_TLS_ORIG_ISTIO_MUTUAL; mode += 2) {
			struct hf_tls_client_config cc = {
				.id = 1, .mode = (uint8_t)mode, .ca_pem = ca_pem, .ca_len = ca_len,
				.sni = "up.example.com", .verify_host = true,
			};
			SSL_CTX *cctx = hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err));
			SSL_CTX *sctx = server_ctx(up, upk, false, versions[v]);
			const unsigned char *want = mode == HF_TLS_ORIG_SIMPLE ? simple : istio;
			size_t want_len = mode == HF_TLS_ORIG_SIMPLE ? sizeof(simple) - 1
								     : sizeof(istio) - 1;
			const unsigned char *sel;
			unsigned int sel_len;
			SSL_SESSION *sess;
			SSL *c, *s;

			if (cctx == NULL)
				fail_msg("client context: %s", err);
			SSL_CTX_set_alpn_select_cb(sctx, alpn_keep, NULL);
			offered_len = 0;
			c = SSL_new(cctx);
			s = SSL_new(sctx);
			assert_int_equal(hf_tls_client_ssl_setup(c, &cc), 0);
			assert_int_equal(run(c, s), 1);
			assert_int_equal(offered_len, want_len);
			assert_memory_equal(offered, want, want_len);
			SSL_get0_alpn_selected(c, &sel, &sel_len);
			if (mode == HF_TLS_ORIG_SIMPLE)
				assert_true(sel_len == 8 && memcmp(sel, "http/1.1", 8) == 0);
			else
				assert_true(sel_len == 5 && memcmp(sel, "istio", 5) == 0);
			assert_false(SSL_session_reused(c));
			sess = SSL_get1_session(c);
			assert_non_null(sess);
			assert_true(SSL_SESSION_is_resumable(sess));
			/* a connection closed without close_notify leaves its session unresumable */
			SSL_shutdown(c);
			SSL_free(c);
			SSL_free(s);
			/* the next connection offers it: resumed, no certificate check again */
			c = SSL_new(cctx);
			s = SSL_new(sctx);
			assert_int_equal(hf_tls_client_ssl_setup(c, &cc), 0);
			assert_int_equal(SSL_set_session(c, sess), 1);
			assert_int_equal(run(c, s), 1);
			if (!SSL_session_reused(c) || !SSL_session_reused(s))
				fail_msg("TLS 1.%u, mode %d: the session was not resumed", v + 2, mode);
			SSL_SESSION_free(sess);
			SSL_free(c);
			SSL_free(s);
			SSL_CTX_free(cctx);
			SSL_CTX_free(sctx);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_ctx_refusals),
		cmocka_unit_test(test_alpn_and_resumption),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
