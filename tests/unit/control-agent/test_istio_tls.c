/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway TLS passthrough: PASSTHROUGH servers into a TLS listener, the
 * VirtualService's tls routes into SNI routes (sniHosts narrowed to the
 * server hosts, match.port and match.gateways applied), compiled into the
 * snapshot's SNI table, and the route and cluster the worker picks for a
 * name (dataplane/proxy/l4_route.h): exact, longest wildcard, case, no SNI,
 * unknown names, weights. A TLS server with mode SIMPLE: TLS in front of
 * its tcp route.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hf_test.h"
#include "control-agent/istio/istio.h"
#include "control-agent/snapshot.h"
#include "dataplane/proxy/l4_route.h"
#include "dataplane/snapshot.h"

#define DATA "tests/unit/control-agent/istio/"

static const char *const node[] = {"istio=ingressgateway"};
static char err[HF_ISTIO_ERR];

static const char *
data(const char *rel)
{
	static char path[1024];
	const char *root = getenv("HF_SOURCE_ROOT");

	snprintf(path, sizeof(path), "%s/" DATA "%s", root != NULL ? root : ".", rel);
	return path;
}

#define CA "outbound|8443||a.svc.local"
#define CB "outbound|8443||b.svc.local"
#define CORG "outbound|8443||org.svc.local"

static void
check_names(const struct hf_model_l4_route *r, unsigned int n, const char *const *names)
{
	assert_int_equal(r->n_sni, n);
	for (unsigned int i = 0; i < n; i++)
		assert_string_equal(r->sni[i], names[i]);
}

/* The model: one TLS listener on 443, its routes in order, names narrowed. */
static void
test_passthrough_model(void **state)
{
	struct hf_model m;
	const struct hf_model_listener *l;
	int rc;

	(void)state;
	rc = hf_istio_load(data("passthrough.yaml"), node, 1, &m, err, sizeof(err));
	if (rc != 0)
		fail_msg("%d: %s", rc, err);
	assert_int_equal(m.n_listeners, 1);
	l = &m.listeners[0];
	assert_string_equal(l->name, "0.0.0.0_443");
	assert_int_equal(l->kind, HF_LISTENER_TLS);
	assert_int_equal(l->route_config, -1);
	assert_null(l->tls);
	/* the port 8443 and gateway "other" blocks are not this listener's */
	assert_int_equal(l->n_l4_routes, 3);
	check_names(&l->l4_routes[0], 1, (const char *const[]){"a.example.com"});
	assert_int_equal(l->l4_routes[0].port, 443);
	assert_int_equal(l->l4_routes[0].n_clusters, 1);
	assert_string_equal(l->l4_routes[0].clusters[0].cluster, CA);
	assert_int_equal(l->l4_routes[0].clusters[0].weight, 100);
	/* "*.example.com" narrowed to the server hosts it covers */
	check_names(&l->l4_routes[1], 2, (const char *const[]){"a.example.com", "b.example.com"});
	assert_int_equal(l->l4_routes[1].n_clusters, 2);
	assert_string_equal(l->l4_routes[1].clusters[0].cluster, CB);
	assert_int_equal(l->l4_routes[1].clusters[0].weight, 75);
	assert_string_equal(l->l4_routes[1].clusters[1].cluster, CA);
	assert_int_equal(l->l4_routes[1].clusters[1].weight, 25);
	check_names(&l->l4_routes[2], 1, (const char *const[]){"*.example.org"});
	assert_string_equal(l->l4_routes[2].clusters[0].cluster, CORG);
	hf_model_free(&m);
}

static const char *
cluster_of(const struct hf_snapshot *s, int i)
{
	assert_true(i >= 0 && (unsigned int)i < s->n_clusters);
	return s->clusters[i].name;
}

/* The snapshot: the SNI table the worker reads, and what it picks for each name. */
static void
test_passthrough_select(void **state)
{
	static const struct {
		const char *sni;
		int route;
	} cases[] = {
		{"a.example.com", 0},		/* exact: the first route (not the second's copy) */
		{"A.Example.COM", 0},		/* any case */
		{"b.example.com", 1},
		{"www.example.org", 2},		/* wildcard */
		{"x.y.example.org", 2},		/* any depth */
		{"example.org", -1},		/* "*.example.org" needs a label before */
		{"c.example.com", -1},		/* route for port 8443 only */
		{"d.example.com", -1},		/* route for another gateway */
		{"nobody.example.net", -1},
		{"", -1},			/* no SNI */
	};
	struct hf_model m;
	struct hf_snapshot *s;
	const struct hf_snap_listener *sl;
	unsigned int hits[2] = {0, 0};
	int rc, cb = -1;

	(void)state;
	rc = hf_istio_load(data("passthrough.yaml"), node, 1, &m, err, sizeof(err));
	if (rc != 0)
		fail_msg("%d: %s", rc, err);
	s = hf_snapshot_compile(&m, 1, 1, err, sizeof(err));
	if (s == NULL)
		fail_msg("compile: %s", err);
	sl = hf_snapshot_listener(s, 443);
	assert_non_null(sl);
	assert_int_equal(sl->kind, HF_LISTENER_TLS);
	assert_null(sl->tls);
	assert_int_equal(sl->n_l4_routes, 3);
	/* a.example.com, b.example.com, .example.org: the duplicate a.example.com left out */
	assert_int_equal(sl->n_sni, 3);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = hf_l4_sni_route(sl, cases[i].sni, strlen(cases[i].sni));

		if (r != cases[i].route)
			fail_msg("SNI '%s': route %d, want %d", cases[i].sni, r, cases[i].route);
	}
	assert_string_equal(cluster_of(s, hf_l4_route_cluster(&sl->l4_routes[0], 12345)), CA);
	assert_string_equal(cluster_of(s, hf_l4_route_cluster(&sl->l4_routes[2], 0)), CORG);
	/* weights 75/25 over every draw modulo 100: exactly 75 and 25 */
	for (uint64_t d = 0; d < 100; d++) {
		int c = hf_l4_route_cluster(&sl->l4_routes[1], d + 100 * 7919);
		const char *name = cluster_of(s, c);

		if (strcmp(name, CB) == 0) {
			hits[0]++;
			cb = c;
		} else {
			assert_string_equal(name, CA);
			hits[1]++;
		}
	}
	assert_int_equal(hits[0], 75);
	assert_int_equal(hits[1], 25);
	assert_true(cb >= 0);
	hf_snapshot_free(s);
	hf_model_free(&m);
}

/* All weights 0 is no cluster (the translator refuses it; the picker must not loop or pick). */
static void
test_zero_weights(void **state)
{
	const struct hf_snap_l4_dest d[2] = {{.cluster = 3, .weight = 0},
					     {.cluster = 4, .weight = 0}};
	const struct hf_snap_l4_route r = {.total = 0, .n_dests = 2, .dests = d};
	const struct hf_snap_l4_route one = {.total = 5, .n_dests = 2,
		.dests = (const struct hf_snap_l4_dest[]){{.cluster = 3, .weight = 0},
							  {.cluster = 4, .weight = 5}}};

	(void)state;
	assert_int_equal(hf_l4_route_cluster(&r, 42), -1);
	/* a zero-weight destination is never picked */
	for (uint64_t x = 0; x < 50; x++)
		assert_int_equal(hf_l4_route_cluster(&one, x), 4);
}

/*
 * Loads @p yaml (written to a file of its own) and expects a refusal whose
 * message holds @p says.
 */
static void
refused(const char *yaml, const char *says)
{
	char path[] = "/tmp/hf-istio-tls-XXXXXX.yaml";
	struct hf_model m;
	int fd = mkstemps(path, 5), rc;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	rc = hf_istio_load(path, node, 1, &m, err, sizeof(err));
	unlink(path);
	if (rc != -EINVAL || strstr(err, says) == NULL)
		fail_msg("rc %d: got '%s', want '...%s...'", rc, err, says);
}

#define GW "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n" \
	   "  servers:\n"

static void
test_passthrough_refusals(void **state)
{
	(void)state;
	refused(GW "  - port: {number: 443, name: t, protocol: TLS}\n    hosts: ['*']\n"
		"    tls: {mode: PASSTHROUGH, credentialName: x}\n",
		":8: Gateway default/gw: spec.servers[0].tls.credentialName: not used with mode "
		"PASSTHROUGH");
	refused(GW "  - port: {number: 443, name: t, protocol: TLS}\n    hosts: ['*']\n"
		"    tls: {mode: AUTO_PASSTHROUGH}\n",
		":8: Gateway default/gw: spec.servers[0].tls.mode: AUTO_PASSTHROUGH is not "
		"supported yet");
	refused(GW "  - port: {number: 443, name: t, protocol: TLS}\n    hosts: ['*']\n"
		"    tls: {mode: PASSTHROUGH}\n"
		"  - port: {number: 443, name: u, protocol: TCP}\n    hosts: ['*']\n",
		":9: Gateway default/gw: spec.servers[1].port.protocol: port 443 already has a "
		"server of protocol TLS passthrough");
	refused("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
		"spec:\n  hosts: [a.example.com]\n  tls:\n  - match:\n    - sniHosts: []\n"
		"    route: [{destination: {host: a}}]\n",
		":8: VirtualService default/v: spec.tls[0].match[0].sniHosts: must not be empty");
	refused("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
		"spec:\n  hosts: [a.example.com]\n  tls:\n  - match:\n"
		"    - sniHosts: [b.example.com]\n    route: [{destination: {host: a}}]\n",
		":8: VirtualService default/v: spec.tls[0].match[0].sniHosts[0]: 'b.example.com' "
		"is not within any of the VirtualService's hosts");
	refused("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\n"
		"spec:\n  hosts: [a.svc.local]\n  ports: [{number: 1, name: t, protocol: TLS}]\n"
		"  resolution: STATIC\n  endpoints: [{address: 198.51.100.1}]\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
		"spec:\n  hosts: ['*.example.com']\n  tls:\n  - match:\n"
		"    - sniHosts: [a.example.com]\n"
		"    route: [{destination: {host: a.svc.local}, weight: 60},\n"
		"            {destination: {host: a.svc.local}, weight: 30}]\n",
		":18: VirtualService default/v: spec.tls[0].route: weights sum to 90, not 100");
}

/* A self-signed ECDSA certificate for @p cn and its key, PEM, into @p dir/tls.crt and tls.key. */
static void
write_cert(const char *dir, const char *cn)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	char path[512];
	FILE *f;

	assert_non_null(key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/tls.crt", dir);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/tls.key", dir);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/*
 * A Gateway TLS server with mode SIMPLE: a TCP listener with TLS in front,
 * its VirtualService's tcp route behind it; the snapshot carries both.
 */
static void
test_tcp_over_tls(void **state)
{
	char dir[] = "/tmp/hf-istio-tcptls-XXXXXX", yaml[1200], path[600];
	const struct hf_snap_listener *sl;
	struct hf_snapshot *s;
	struct hf_model m;
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_cert(dir, "echo.example.net");
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
		 "spec:\n  servers:\n  - port: {number: 9443, name: t, protocol: TLS}\n"
		 "    hosts: ['*']\n    tls: {mode: SIMPLE, serverCertificate: %s/tls.crt, "
		 "privateKey: %s/tls.key}\n---\n"
		 "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: e}\n"
		 "spec:\n  hosts: [echo.svc.local]\n  ports: [{number: 7, name: t, protocol: TCP}]\n"
		 "  resolution: STATIC\n  endpoints: [{address: 198.51.100.7}]\n---\n"
		 "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"
		 "spec:\n  hosts: ['*']\n  gateways: [gw]\n"
		 "  tcp: [{route: [{destination: {host: echo.svc.local}}]}]\n", dir, dir);
	snprintf(path, sizeof(path), "%s/gw.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(yaml, f);
	fclose(f);
	rc = hf_istio_load(path, node, 1, &m, err, sizeof(err));
	if (rc != 0)
		fail_msg("%d: %s", rc, err);
	assert_int_equal(m.n_listeners, 1);
	assert_int_equal(m.listeners[0].kind, HF_LISTENER_TCP);
	assert_non_null(m.listeners[0].tls);
	assert_int_equal(m.listeners[0].tls->n_servers, 1);
	assert_int_equal(m.listeners[0].n_l4_routes, 1);
	assert_string_equal(m.listeners[0].l4_routes[0].clusters[0].cluster,
			    "outbound|7||echo.svc.local");
	s = hf_snapshot_compile(&m, 1, 1, err, sizeof(err));
	if (s == NULL)
		fail_msg("compile: %s", err);
	sl = hf_snapshot_listener(s, 9443);
	assert_non_null(sl);
	assert_int_equal(sl->kind, HF_LISTENER_TCP);
	assert_non_null(sl->tls);
	assert_int_equal(sl->tls->n_servers, 1);
	assert_string_equal(s->clusters[sl->cluster].name, "outbound|7||echo.svc.local");
	hf_snapshot_free(s);
	hf_model_free(&m);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough_model),
		cmocka_unit_test(test_passthrough_select),
		cmocka_unit_test(test_zero_weights),
		cmocka_unit_test(test_passthrough_refusals),
		cmocka_unit_test(test_tcp_over_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
