/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS in Envoy resources (control-agent/xds/translate_tls.c): Secrets
 * checked alone; a listener's DownstreamTlsContext and a cluster's
 * UpstreamTlsContext into the model's TLS, their SDS names collected when
 * checked alone and the secrets' PEM filled when at hand; the NACK reason
 * of what is not supported names the field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"
#include "xds_listener.h"

typedef Envoy__Extensions__TransportSockets__Tls__V3__Secret secret_t;

static char err[512];
static char *cert_pem, *key_pem, *key2_pem;

/* A self-signed CA certificate for gw.example.com (it serves as CA and as leaf here). */
static void
make_pems(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	const char *exts[][2] = {{"subjectAltName", "DNS:gw.example.com"},
	                         {"basicConstraints", "critical,CA:TRUE"},
	                         {"keyUsage", "critical,keyCertSign,digitalSignature"}};
	char *p;
	BIO *b;
	long n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1111aaaa);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"gw.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	for (unsigned int i = 0; i < 3; i++) {
		X509_EXTENSION *e = X509V3_EXT_conf(NULL, &v3, exts[i][0], exts[i][1]);

		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	cert_pem = strndup(p, (size_t)n);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	key_pem = strndup(p, (size_t)n);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k2, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	key2_pem = strndup(p, (size_t)n);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* Secrets as a control plane sends them: inline strings. */
struct sec {
	secret_t s;
	Envoy__Extensions__TransportSockets__Tls__V3__TlsCertificate tc;
	Envoy__Extensions__TransportSockets__Tls__V3__CertificateValidationContext vc;
	Envoy__Config__Core__V3__DataSource chain, key, ca;
	Envoy__Extensions__TransportSockets__Tls__V3__SubjectAltNameMatcher san, *psan[1];
	Envoy__Type__Matcher__V3__StringMatcher sm;
};

static void
inline_str(Envoy__Config__Core__V3__DataSource *d, const char *v)
{
	envoy__config__core__v3__data_source__init(d);
	d->specifier_case = ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_STRING;
	d->inline_string = (char *)v;
}

static void
cert_secret(struct sec *x, const char *name, const char *key)
{
	memset(x, 0, sizeof(*x));
	envoy__extensions__transport_sockets__tls__v3__secret__init(&x->s);
	envoy__extensions__transport_sockets__tls__v3__tls_certificate__init(&x->tc);
	inline_str(&x->chain, cert_pem);
	inline_str(&x->key, key);
	x->tc.certificate_chain = &x->chain;
	x->tc.private_key = &x->key;
	x->s.name = (char *)name;
	x->s.type_case =
	        ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_TLS_CERTIFICATE;
	x->s.tls_certificate = &x->tc;
}

static void
ca_secret(struct sec *x, const char *name)
{
	memset(x, 0, sizeof(*x));
	envoy__extensions__transport_sockets__tls__v3__secret__init(&x->s);
	envoy__extensions__transport_sockets__tls__v3__certificate_validation_context__init(&x->vc);
	inline_str(&x->ca, cert_pem);
	x->vc.trusted_ca = &x->ca;
	x->s.name = (char *)name;
	x->s.type_case =
	        ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_VALIDATION_CONTEXT;
	x->s.validation_context = &x->vc;
}

static void
test_secrets(void **state)
{
	struct sec x;

	(void)state;
	cert_secret(&x, "gw-cert", key_pem);
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), 0);
	/* a key that is not the certificate's */
	cert_secret(&x, "gw-cert", key2_pem);
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tls_certificate: "));
	/* a file name: the agent reads no file a control plane names */
	cert_secret(&x, "gw-cert", key_pem);
	x.chain.specifier_case = ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_FILENAME;
	x.chain.filename = "/etc/passwd";
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tls_certificate.certificate_chain: only inline_bytes and "
	                         "inline_string are supported (a control plane sends the PEM "
	                         "itself)");
	ca_secret(&x, "root");
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), 0);
	/* SANs: exact DNS or URI only */
	envoy__extensions__transport_sockets__tls__v3__subject_alt_name_matcher__init(&x.san);
	envoy__type__matcher__v3__string_matcher__init(&x.sm);
	x.san.san_type =
	        ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SUBJECT_ALT_NAME_MATCHER__SAN_TYPE__URI;
	x.san.matcher = &x.sm;
	x.sm.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX;
	x.sm.prefix = "spiffe://cluster.local/";
	x.psan[0] = &x.san;
	x.vc.n_match_typed_subject_alt_names = 1;
	x.vc.match_typed_subject_alt_names = x.psan;
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "validation_context.match_typed_subject_alt_names[0].matcher: "
	                         "field 'prefix' is not supported by Hydrofoil (yet)");
	x.sm.match_pattern_case = ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT;
	x.sm.exact = "spiffe://cluster.local/ns/a/sa/b";
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), 0);
	/* neither kind */
	x.s.type_case = ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE__NOT_SET;
	assert_int_equal(hf_xds_tr_secret(&x.s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Secret: neither tls_certificate nor validation_context");
}

/* ------------------------------------------------------------------ a TLS listener */

/* An HTTP listener whose filter chain terminates TLS: a DownstreamTlsContext naming "gw-cert". */
struct lis {
	struct http_listener b;
	Envoy__Config__Listener__V3__FilterChainMatch fcm;
	char *server_names[1];
	Envoy__Config__Core__V3__TransportSocket ts;
	Envoy__Extensions__TransportSockets__Tls__V3__DownstreamTlsContext d;
	Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext c;
	Envoy__Extensions__TransportSockets__Tls__V3__SdsSecretConfig ref, *pref[1];
	Envoy__Config__Core__V3__ConfigSource ads_cs;
	Envoy__Config__Core__V3__AggregatedConfigSource ads;
	Google__Protobuf__BoolValue require;
	Google__Protobuf__Any d_any;
};

static void
tls_listener(struct lis *x)
{
	memset(x, 0, sizeof(*x));
	http_listener(&x->b, 443, "http.80");
	pack(&x->b.hcm_any, &x->b.h.base);
	envoy__config__listener__v3__filter_chain_match__init(&x->fcm);
	envoy__config__core__v3__transport_socket__init(&x->ts);
	envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__init(&x->d);
	envoy__extensions__transport_sockets__tls__v3__common_tls_context__init(&x->c);
	envoy__extensions__transport_sockets__tls__v3__sds_secret_config__init(&x->ref);
	envoy__config__core__v3__config_source__init(&x->ads_cs);
	envoy__config__core__v3__aggregated_config_source__init(&x->ads);
	google__protobuf__bool_value__init(&x->require);
	x->server_names[0] = "GW.example.com";
	x->fcm.n_server_names = 1;
	x->fcm.server_names = x->server_names;
	x->b.fc.filter_chain_match = &x->fcm;
	x->ads_cs.config_source_specifier_case =
	        ENVOY__CONFIG__CORE__V3__CONFIG_SOURCE__CONFIG_SOURCE_SPECIFIER_ADS;
	x->ads_cs.ads = &x->ads;
	x->ref.name = "gw-cert";
	x->ref.sds_config = &x->ads_cs;
	x->pref[0] = &x->ref;
	x->c.n_tls_certificate_sds_secret_configs = 1;
	x->c.tls_certificate_sds_secret_configs = x->pref;
	x->d.common_tls_context = &x->c;
	x->ts.name = "envoy.transport_sockets.tls";
	x->ts.config_type_case =
	        ENVOY__CONFIG__CORE__V3__TRANSPORT_SOCKET__CONFIG_TYPE_TYPED_CONFIG;
	x->ts.typed_config = &x->d_any;
	x->b.fc.transport_socket = &x->ts;
}

static struct sec held;
static Google__Protobuf__Any u_any;

static const secret_t *
find(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, held.s.name) == 0 ? &held.s : NULL;
}

static int
tr(struct lis *x, struct hf_model *m, struct hf_xds_sds *sds)
{
	char *rds = NULL;
	int rc;

	pack(&x->d_any, &x->d.base);
	memset(m, 0, sizeof(*m));
	rc = hf_xds_tr_listener(&x->b.l, m, &rds, sds, err, sizeof(err));
	free(x->d_any.value.data);
	free(rds);
	return rc;
}

static void
sds_free(struct hf_xds_sds *sds)
{
	for (unsigned int i = 0; i < sds->n; i++)
		free(sds->names[i]);
	free(sds->names);
	sds->names = NULL;
	sds->n = 0;
}

static void
test_listener(void **state)
{
	static struct lis x;
	struct hf_xds_sds sds = {0};
	struct hf_model m;
	const struct hf_model_tls_server *s;

	(void)state;
	tls_listener(&x);
	/* checked alone: shaped, the name collected, nothing filled */
	assert_int_equal(tr(&x, &m, &sds), 0);
	assert_int_equal(sds.n, 1);
	assert_string_equal(sds.names[0], "gw-cert");
	assert_non_null(m.listeners[0].tls);
	s = &m.listeners[0].tls->servers[0];
	assert_int_equal(s->n_names, 1);
	assert_string_equal(s->names[0], "gw.example.com");
	assert_null(s->cert_pem);
	hf_model_free(&m);
	sds_free(&sds);
	/* built: the secret's certificate and key */
	cert_secret(&held, "gw-cert", key_pem);
	sds.find = find;
	assert_int_equal(tr(&x, &m, &sds), 0);
	s = &m.listeners[0].tls->servers[0];
	assert_string_equal(s->cert_pem, cert_pem);
	assert_string_equal(s->key_pem, key_pem);
	assert_null(s->ca_pem);
	hf_model_free(&m);
	sds_free(&sds);
	/* a secret of the other kind */
	ca_secret(&held, "gw-cert");
	assert_int_equal(tr(&x, &m, &sds), -EINVAL);
	assert_string_equal(err,
	                    "filter_chains[0].transport_socket.typed_config.common_tls_context."
	                    "tls_certificate_sds_secret_configs[0]: secret 'gw-cert' holds "
	                    "no tls_certificate");
	hf_model_free(&m);
	sds_free(&sds);
	/* client certificates required, no CA to check them with */
	sds.find = NULL;
	x.require.value = true;
	x.d.require_client_certificate = &x.require;
	assert_int_equal(tr(&x, &m, &sds), -EINVAL);
	assert_string_equal(err, "filter_chains[0].transport_socket.typed_config."
	                         "require_client_certificate: true needs a validation context "
	                         "with trusted_ca");
	hf_model_free(&m);
	sds_free(&sds);
	/* ... with one by SDS: MUTUAL, both names collected */
	x.c.validation_context_type_case =
	        ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE_VALIDATION_CONTEXT_SDS_SECRET_CONFIG;
	x.c.validation_context_sds_secret_config = &x.ref;
	assert_int_equal(tr(&x, &m, &sds), 0);
	assert_int_equal(sds.n, 1); /* the same name twice is one subscription */
	hf_model_free(&m);
	sds_free(&sds);
	/* Istio's ALPN list for a gateway server (h2, http/1.1): taken; one without http/1.1 not */
	{
		static char *istio_alpn[] = {"h2", "http/1.1"}, *h2_only[] = {"h2"};

		x.c.n_alpn_protocols = 2;
		x.c.alpn_protocols = istio_alpn;
		assert_int_equal(tr(&x, &m, &sds), 0);
		hf_model_free(&m);
		sds_free(&sds);
		x.c.n_alpn_protocols = 1;
		x.c.alpn_protocols = h2_only;
		assert_int_equal(tr(&x, &m, &sds), -EINVAL);
		assert_string_equal(err, "filter_chains[0].transport_socket.typed_config."
		                         "common_tls_context: alpn_protocols without http/1.1: "
		                         "Hydrofoil speaks HTTP/1.1 only");
		hf_model_free(&m);
		sds_free(&sds);
		x.c.n_alpn_protocols = 0;
	}
	/* an unsupported field, by its path */
	x.d.require_sni = &x.require;
	assert_int_equal(tr(&x, &m, &sds), -EINVAL);
	assert_string_equal(err, "filter_chains[0].transport_socket.typed_config: field "
	                         "'require_sni' is not supported by Hydrofoil (yet)");
	hf_model_free(&m);
	sds_free(&sds);
	/* another transport socket */
	x.d.require_sni = NULL;
	x.ts.name = "envoy.transport_sockets.alts";
	assert_int_equal(tr(&x, &m, &sds), -EINVAL);
	assert_string_equal(err, "filter_chains[0].transport_socket: transport socket "
	                         "'envoy.transport_sockets.alts' is not supported (only "
	                         "envoy.transport_sockets.tls)");
	hf_model_free(&m);
	sds_free(&sds);
	free(x.b.hcm_any.value.data);
	free(x.b.router_any.value.data);
}

/* A cluster's UpstreamTlsContext: SIMPLE unverified, verified by an SDS CA, MUTUAL inline. */
static void
test_cluster(void **state)
{
	Envoy__Config__Cluster__V3__Cluster c;
	Envoy__Config__Core__V3__TransportSocket ts;
	Envoy__Extensions__TransportSockets__Tls__V3__UpstreamTlsContext u;
	Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext ctx;
	Envoy__Extensions__TransportSockets__Tls__V3__SdsSecretConfig ref;
	Envoy__Config__Core__V3__ConfigSource cs;
	Envoy__Config__Core__V3__AggregatedConfigSource ads;
	Envoy__Extensions__TransportSockets__Tls__V3__TlsCertificate *pc[1];
	struct hf_xds_sds sds = {0};
	struct hf_model m = {0};
	const struct hf_model_up_tls *t;
	struct sec mine;
	char *eds = NULL;

	(void)state;
	envoy__config__cluster__v3__cluster__init(&c);
	envoy__config__core__v3__transport_socket__init(&ts);
	envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__init(&u);
	envoy__extensions__transport_sockets__tls__v3__common_tls_context__init(&ctx);
	envoy__extensions__transport_sockets__tls__v3__sds_secret_config__init(&ref);
	envoy__config__core__v3__config_source__init(&cs);
	envoy__config__core__v3__aggregated_config_source__init(&ads);
	c.name = "web-tls";
	c.cluster_discovery_type_case =
	        ENVOY__CONFIG__CLUSTER__V3__CLUSTER__CLUSTER_DISCOVERY_TYPE_TYPE;
	c.type = ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS;
	c.transport_socket = &ts;
	ts.name = "envoy.transport_sockets.tls";
	ts.config_type_case = ENVOY__CONFIG__CORE__V3__TRANSPORT_SOCKET__CONFIG_TYPE_TYPED_CONFIG;
	u.sni = "up.example.com";
	/* no common context: SIMPLE, the server not verified (as Envoy) */
	pack(&u_any, &u.base);
	ts.typed_config = &u_any;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &eds, &sds, err, sizeof(err)), 0);
	t = m.clusters[0].up_tls;
	assert_non_null(t);
	assert_int_equal(t->mode, HF_TLS_SIMPLE);
	assert_true(t->insecure_skip_verify);
	assert_string_equal(t->sni, "up.example.com");
	free(u_any.value.data);
	free(eds);
	eds = NULL;
	hf_model_free(&m);
	/* the CA by SDS: checked alone, the name; built, the PEM */
	cs.config_source_specifier_case =
	        ENVOY__CONFIG__CORE__V3__CONFIG_SOURCE__CONFIG_SOURCE_SPECIFIER_ADS;
	cs.ads = &ads;
	ref.name = "mesh-root";
	ref.sds_config = &cs;
	ctx.validation_context_type_case =
	        ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE_VALIDATION_CONTEXT_SDS_SECRET_CONFIG;
	ctx.validation_context_sds_secret_config = &ref;
	u.common_tls_context = &ctx;
	/* and our certificate inline: MUTUAL */
	cert_secret(&mine, "unused", key_pem);
	pc[0] = &mine.tc;
	ctx.n_tls_certificates = 1;
	ctx.tls_certificates = pc;
	pack(&u_any, &u.base);
	ts.typed_config = &u_any;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &eds, &sds, err, sizeof(err)), 0);
	assert_int_equal(sds.n, 1);
	assert_string_equal(sds.names[0], "mesh-root");
	assert_null(m.clusters[0].up_tls->ca_pem);
	free(eds);
	eds = NULL;
	hf_model_free(&m);
	sds_free(&sds);
	ca_secret(&held, "mesh-root");
	sds.find = find;
	assert_int_equal(hf_xds_tr_cluster(&c, &m, &eds, &sds, err, sizeof(err)), 0);
	t = m.clusters[0].up_tls;
	assert_int_equal(t->mode, HF_TLS_MUTUAL);
	assert_false(t->insecure_skip_verify);
	assert_string_equal(t->ca_pem, cert_pem);
	assert_string_equal(t->cert_pem, cert_pem);
	assert_string_equal(t->key_pem, key_pem);
	free(u_any.value.data);
	free(eds);
	hf_model_free(&m);
	sds_free(&sds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_secrets),
	        cmocka_unit_test(test_listener),
	        cmocka_unit_test(test_cluster),
	};
	int rc;

	make_pems();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(cert_pem);
	free(key_pem);
	free(key2_pem);
	return rc;
}
