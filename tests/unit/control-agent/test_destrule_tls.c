/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DestinationRule trafficPolicy.tls (TLS origination) as the Istio loader reads it: what
 * lands in each cluster's model (mode, SNI, subjectAltNames, the PEM bytes of the files
 * named), which block wins (a port's, a subset's), ISTIO_MUTUAL's identities taken from the
 * ServiceEntry and its endpoints, and what is refused with its file, line and field.
 * Certificates are made here with OpenSSL into a temporary folder.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "control-agent/istio/istio.h"
#include "control-agent/model/model.h"

static char dir[64];
static char ca_path[128], cert_path[128], key_path[128], other_key[128];
static const char *const node[] = {"istio=ingressgateway"};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A certificate (a CA when @p ca), SAN @p san, signed by @p ikey (NULL: self), into files. */
static void
make(const char *cpath, const char *kpath, const char *san, bool ca, EVP_PKEY *ikey, X509 *issuer,
     EVP_PKEY **kout, X509 **xout)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	FILE *f;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0x7fffffff);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (san != NULL) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (ca) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
							"critical,CA:TRUE");

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : k, EVP_sha256()) > 0);
	f = fopen(cpath, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(kpath, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	if (kout != NULL)
		*kout = k;
	else
		EVP_PKEY_free(k);
	if (xout != NULL)
		*xout = x;
	else
		X509_free(x);
}

static char mesh_chain[128], mesh_key[128];

static int
setup(void **state)
{
	char p[160], q[400];
	EVP_PKEY *cak;
	X509 *ca;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf-drtls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
	snprintf(p, sizeof(p), "%s/ca.key", dir);
	make(ca_path, p, NULL, true, NULL, NULL, &cak, &ca);
	snprintf(cert_path, sizeof(cert_path), "%s/client.crt", dir);
	snprintf(key_path, sizeof(key_path), "%s/client.key", dir);
	make(cert_path, key_path, "DNS:gw.example.com", false, cak, ca, NULL, NULL);
	snprintf(p, sizeof(p), "%s/other.crt", dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
	make(p, other_key, "DNS:other.example.com", false, cak, ca, NULL, NULL);
	/* a credential folder and the node's mesh identity, of the same root */
	snprintf(p, sizeof(p), "%s/gw-cred", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/gw-cred/tls.crt", dir);
	snprintf(q, sizeof(q), "%s/gw-cred/tls.key", dir);
	make(p, q, "DNS:gw.example.com", false, cak, ca, NULL, NULL);
	snprintf(p, sizeof(p), "%s/gw-cred/ca.crt", dir);
	snprintf(q, sizeof(q), "cp %s %s", ca_path, p);
	assert_int_equal(system(q), 0);
	snprintf(mesh_chain, sizeof(mesh_chain), "%s/cert-chain.pem", dir);
	snprintf(mesh_key, sizeof(mesh_key), "%s/key.pem", dir);
	make(mesh_chain, mesh_key, "critical,URI:spiffe://cluster.local/ns/istio-system/sa/gw",
	     false, cak, ca, NULL, NULL);
	EVP_PKEY_free(cak);
	X509_free(ca);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct hf_istio_identity mesh_id = {
	.spiffe = "spiffe://cluster.local/ns/istio-system/sa/gw",
	.trust_domain = "cluster.local",
	.cert_chain = mesh_chain,
	.key = mesh_key,
	.root_cert = ca_path,
};

/* The ServiceEntry of the tests: two ports, two endpoints of two service accounts. */
static const char se_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: up, namespace: shop}\n"
	"spec:\n"
	"  hosts: [up.example.com]\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 80, name: http, protocol: HTTP}\n"
	"  - {number: 443, name: https, protocol: HTTPS}\n"
	"  endpoints:\n"
	"  - {address: 192.0.2.10, serviceAccount: cart, labels: {v: a}}\n"
	"  - {address: 192.0.2.11, serviceAccount: pay, labels: {v: b}}\n"
	"  - {address: 192.0.2.12, serviceAccount: cart, labels: {v: b}}\n"
	"---\n";

/* Loads SE + @p dr; returns the loader's result, the message in @p err. */
static int
load(const char *dr, const struct hf_istio_identity *id, struct hf_model *m, char *err,
     size_t errlen)
{
	char path[160], *text;

	snprintf(path, sizeof(path), "%s/istio.yaml", dir);
	assert_true(asprintf(&text, "%s%s", se_yaml, dr) > 0);
	write_file(path, text);
	free(text);
	return hf_istio_load_mesh(path, node, 1, dir, id, m, err, errlen);
}

static const struct hf_model_cluster *
cluster(const struct hf_model *m, const char *name)
{
	int i = hf_model_find_cluster(m, name);

	if (i < 0)
		fail_msg("no cluster %s", name);
	return &m->clusters[i];
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void
test_simple_and_precedence(void **state)
{
	struct hf_model m;
	char dr[2048], err[512];
	const struct hf_model_cluster *c;
	char *ca = slurp(ca_path);

	(void)state;
	snprintf(dr, sizeof(dr),
		 "apiVersion: networking.istio.io/v1\n"
		 "kind: DestinationRule\n"
		 "metadata: {name: up, namespace: shop}\n"
		 "spec:\n"
		 "  host: up.example.com\n"
		 "  trafficPolicy:\n"
		 "    tls: {mode: DISABLE}\n"
		 "    portLevelSettings:\n"
		 "    - port: {number: 80}\n"
		 "      tls: {mode: SIMPLE, caCertificates: %s, sni: api.example.com,\n"
		 "            subjectAltNames: [a.example.com, spiffe://td/ns/x/sa/y]}\n"
		 "  subsets:\n"
		 "  - name: b\n"
		 "    labels: {v: b}\n"
		 "    trafficPolicy:\n"
		 "      tls: {mode: MUTUAL, clientCertificate: %s, privateKey: %s,\n"
		 "            caCertificates: %s}\n"
		 "  - name: cred\n"
		 "    labels: {v: a}\n"
		 "    trafficPolicy:\n"
		 "      tls: {mode: MUTUAL, credentialName: gw-cred}\n"
		 "  - name: skip\n"
		 "    labels: {v: a}\n"
		 "    trafficPolicy:\n"
		 "      tls: {mode: SIMPLE, insecureSkipVerify: true}\n",
		 ca_path, cert_path, key_path, ca_path);
	if (load(dr, NULL, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* port 80: the port's block over the rule's DISABLE */
	c = cluster(&m, "outbound|80||up.example.com");
	assert_int_equal(c->tls_mode, HF_TLS_SIMPLE);
	assert_non_null(c->up_tls);
	assert_string_equal(c->up_tls->sni, "api.example.com");
	assert_int_equal(c->up_tls->n_sans, 2);
	assert_string_equal(c->up_tls->sans[1], "spiffe://td/ns/x/sa/y");
	assert_int_equal(c->up_tls->ca_len, strlen(ca));
	assert_memory_equal(c->up_tls->ca_pem, ca, strlen(ca));
	assert_null(c->up_tls->cert_pem);
	assert_false(c->up_tls->insecure_skip_verify);
	/* port 443: the rule's DISABLE */
	c = cluster(&m, "outbound|443||up.example.com");
	assert_int_equal(c->tls_mode, HF_TLS_DISABLE);
	assert_null(c->up_tls);
	/* subset b: its own policy's tls replaces the whole group, on every port */
	c = cluster(&m, "outbound|80|b|up.example.com");
	assert_int_equal(c->up_tls->mode, HF_TLS_MUTUAL);
	assert_non_null(c->up_tls->cert_pem);
	assert_non_null(c->up_tls->key_pem);
	assert_null(c->up_tls->sni);		/* the service's name, chosen when compiled */
	assert_int_equal(c->up_tls->n_sans, 0);
	c = cluster(&m, "outbound|443|b|up.example.com");
	assert_int_equal(c->up_tls->mode, HF_TLS_MUTUAL);
	/* credentialName: tls.crt, tls.key, ca.crt of the folder */
	c = cluster(&m, "outbound|80|cred|up.example.com");
	assert_int_equal(c->up_tls->mode, HF_TLS_MUTUAL);
	assert_non_null(c->up_tls->cert_pem);
	assert_int_equal(c->up_tls->ca_len, strlen(ca));
	/* insecureSkipVerify: no CA at all */
	c = cluster(&m, "outbound|80|skip|up.example.com");
	assert_true(c->up_tls->insecure_skip_verify);
	assert_null(c->up_tls->ca_pem);
	hf_model_free(&m);
	free(ca);
}

static void
test_istio_mutual(void **state)
{
	static const char dr[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata: {name: up, namespace: shop}\n"
		"spec:\n"
		"  host: up.example.com\n"
		"  trafficPolicy:\n"
		"    tls: {mode: ISTIO_MUTUAL}\n"
		"  subsets:\n"
		"  - {name: a, labels: {v: a}}\n"
		"  - name: named\n"
		"    labels: {v: a}\n"
		"    trafficPolicy:\n"
		"      tls: {mode: ISTIO_MUTUAL,\n"
		"            subjectAltNames: [spiffe://cluster.local/ns/x/sa/y]}\n";
	struct hf_model m;
	char err[512];
	const struct hf_model_cluster *c;

	(void)state;
	if (load(dr, &mesh_id, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* the service's endpoints' accounts, each once */
	c = cluster(&m, "outbound|80||up.example.com");
	assert_int_equal(c->up_tls->mode, HF_TLS_ISTIO_MUTUAL);
	assert_non_null(c->up_tls->cert_pem);
	assert_non_null(c->up_tls->key_pem);
	assert_non_null(c->up_tls->ca_pem);
	assert_int_equal(c->up_tls->n_sans, 2);
	assert_string_equal(c->up_tls->sans[0], "spiffe://cluster.local/ns/shop/sa/cart");
	assert_string_equal(c->up_tls->sans[1], "spiffe://cluster.local/ns/shop/sa/pay");
	/* a subset: its endpoints' only */
	c = cluster(&m, "outbound|80|a|up.example.com");
	assert_int_equal(c->up_tls->n_sans, 1);
	assert_string_equal(c->up_tls->sans[0], "spiffe://cluster.local/ns/shop/sa/cart");
	/* the rule's own subjectAltNames win */
	c = cluster(&m, "outbound|80|named|up.example.com");
	assert_int_equal(c->up_tls->n_sans, 1);
	assert_string_equal(c->up_tls->sans[0], "spiffe://cluster.local/ns/x/sa/y");
	hf_model_free(&m);
	/* without an identity: refused */
	assert_int_equal(load(dr, NULL, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "istio.yaml:21: DestinationRule shop/up: "
				    "spec.trafficPolicy.tls.mode: ISTIO_MUTUAL needs the node's "
				    "mesh identity"));
}

/* @p in with @CA@, @CERT@ and @KEY@ replaced by the files' paths, into @p out. */
static void
expand(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	while (*in != '\0' && n + 1 < cap) {
		const char *v = strncmp(in, "@CA@", 4) == 0 ? ca_path :
				strncmp(in, "@CERT@", 6) == 0 ? cert_path :
				strncmp(in, "@KEY@", 5) == 0 ? other_key : NULL;

		if (v == NULL) {
			out[n++] = *in++;
			continue;
		}
		in += v == ca_path ? 4 : v == cert_path ? 6 : 5;
		n += (size_t)snprintf(out + n, cap - n, "%s", v);
	}
	out[n < cap ? n : cap - 1] = '\0';
}

static void
test_refusals(void **state)
{
	const struct {
		const char *tls;	/* @CA@ the CA, @CERT@ a certificate, @KEY@ another's key */
		const char *want;
	} t[] = {
		{"{mode: SIMPLE, caCertificates: @CERT@.nope}",
		 "spec.trafficPolicy.tls.caCertificates: cannot read"},
		{"{mode: SIMPLE, caCertificates: @CERT@}", "spec.trafficPolicy.tls.caCertificates: "
		 "caCertificates: certificate 1 ("},
		{"{mode: MUTUAL, clientCertificate: @CERT@, privateKey: @KEY@, "
		 "caCertificates: @CA@}",
		 "spec.trafficPolicy.tls.privateKey: privateKey: the private key does not match"},
		{"{mode: MUTUAL, caCertificates: @CA@}",
		 "spec.trafficPolicy.tls: mode MUTUAL needs clientCertificate and privateKey, or "
		 "credentialName"},
		{"{mode: MUTUAL, credentialName: gw-cred, caCertificates: @CA@}",
		 "spec.trafficPolicy.tls.credentialName: give credentialName"},
		{"{mode: SIMPLE, credentialName: gw-cred}",
		 "spec.trafficPolicy.tls.credentialName: mode SIMPLE sends no client certificate"},
		{"{mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [a.example.com]}",
		 "spec.trafficPolicy.tls.insecureSkipVerify: insecureSkipVerify: true checks "
		 "nothing"},
		{"{mode: SIMPLE, sni: '*.example.com', caCertificates: @CA@}",
		 "spec.trafficPolicy.tls.sni: '*.example.com' is not a server name"},
		{"{mode: MUTUAL, credentialName: ../etc}", "spec.trafficPolicy.tls.credentialName: "
		 "'../etc' is not a credential name"},
		{"{mode: ISTIO_MUTUAL, credentialName: gw-cred}", "spec.trafficPolicy.tls."
		 "credentialName: mode ISTIO_MUTUAL uses the node's mesh identity"},
		{"{mode: SIMPLE, caCrl: /x}", "spec.trafficPolicy.tls.caCrl: not supported yet"},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char tls[512], dr[1024], err[512];
		struct hf_model m;

		expand(tls, sizeof(tls), t[i].tls);
		snprintf(dr, sizeof(dr), "apiVersion: networking.istio.io/v1\n"
			 "kind: DestinationRule\n"
			 "metadata: {name: up, namespace: shop}\n"
			 "spec:\n"
			 "  host: up.example.com\n"
			 "  trafficPolicy:\n"
			 "    tls: %s\n", tls);
		if (load(dr, &mesh_id, &m, err, sizeof(err)) != -EINVAL ||
		    strstr(err, t[i].want) == NULL)
			fail_msg("case %u (%s): got '%s', want '%s'", i, t[i].tls, err, t[i].want);
		/* every message names the file and the line of the tls block */
		assert_non_null(strstr(err, "istio.yaml:21: DestinationRule shop/up: "));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_and_precedence),
		cmocka_unit_test(test_istio_mutual),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
