/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AuthorizationPolicy mistakes, as the Istio loader refuses them: each
 * malformed policy is refused with its file, line, resource and field and a
 * message saying what is wrong (CUSTOM and targetRef by name, unknown `when`
 * keys by name), and leaves nothing allocated. Then a robustness pass: a valid
 * policy cut at every byte and with every scalar replaced by values of the
 * wrong shape loads or is refused with a message, never crashes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "control-agent/compile/authz_build.h"
#include "control-agent/istio/istio.h"
#include "control-agent/model/model.h"

static char dir[64];
static char err[HF_ISTIO_ERR];
static const char *const labels[] = {"istio=ingressgateway"};

static int
load_text(const char *yaml, size_t len, struct hf_model *m)
{
	const struct hf_istio_node node = {.labels = labels, .n_labels = 1, .ns = "istio-system"};

	return hf_test_istio_text(dir, "p.yaml", &node, yaml, len, m, err, sizeof(err));
}

#define HEAD "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n" \
	     "metadata:\n  name: pol\n  namespace: istio-system\nspec:\n"

static void
test_refused(void **state)
{
	static const struct {
		const char *spec;	/* after HEAD */
		const char *want;	/* in the message */
	} cases[] = {
		{"  action: CUSTOM\n  provider:\n    name: ext-authz\n",
		 "p.yaml:7: AuthorizationPolicy istio-system/pol: spec.action: CUSTOM (an external "
		 "authorizer, provider 'ext-authz') is not supported: ALLOW, DENY and AUDIT are"},
		{"  action: CUSTOM\n", "spec.action: CUSTOM (an external authorizer) is not supported"},
		{"  action: allow\n", "spec.action: 'allow' is not one of ALLOW, DENY, AUDIT, CUSTOM"},
		{"  provider:\n    name: x\n", "spec.provider: only the CUSTOM action takes a provider"},
		{"  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw\n",
		 "spec.targetRef: targetRef names Kubernetes Gateway API resources"},
		{"  targetRefs:\n  - kind: Gateway\n    name: gw\n",
		 "spec.targetRefs: targetRefs names Kubernetes Gateway API resources"},
		{"  selector:\n    labels:\n      a: b\n", "spec.selector.labels: unknown field"},
		{"  selector:\n    matchLabels:\n      a: [b]\n",
		 "spec.selector.matchLabels.a: must be a string, not a list"},
		{"  rules: {}\n", "spec.rules: must be a list, not a mapping"},
		{"  rules:\n  - foo: 1\n", "spec.rules[0].foo: unknown field"},
		{"  rules:\n  - from:\n    - source: {}\n",
		 "spec.rules[0].from[0].source: a source must not be empty"},
		{"  rules:\n  - from:\n    - {}\n",
		 "spec.rules[0].from[0].source: required field is missing"},
		{"  rules:\n  - to:\n    - operation:\n        paths: []\n",
		 "spec.rules[0].to[0].operation: an operation must not be empty"},
		{"  rules:\n  - from:\n    - source:\n        principal: [a]\n",
		 "spec.rules[0].from[0].source.principal: unknown field"},
		{"  rules:\n  - from:\n    - source:\n        serviceAccounts: [a]\n",
		 "source.serviceAccounts: not supported yet"},
		{"  rules:\n  - from:\n    - source:\n        ipBlocks: [\"10.0.0.0/33\"]\n",
		 "source.ipBlocks[0]: '10.0.0.0/33' is not an IP address or a CIDR block"},
		{"  rules:\n  - from:\n    - source:\n        remoteIpBlocks: [\"1.2.3\"]\n",
		 "source.remoteIpBlocks[0]: '1.2.3' is not an IP address"},
		{"  rules:\n  - from:\n    - source:\n        notIpBlocks: [\"fe80::/129\"]\n",
		 "source.notIpBlocks[0]: 'fe80::/129' is not an IP address"},
		{"  rules:\n  - from:\n    - source:\n        principals: [\"\"]\n",
		 "source.principals[0]: must not be empty"},
		{"  rules:\n  - from:\n    - source:\n        namespaces: [1]\n",
		 "source.namespaces[0]: must be a string, not an integer"},
		{"  rules:\n  - to:\n    - operation:\n        ports: [\"http\"]\n",
		 "operation.ports[0]: 'http' is not a port number"},
		{"  rules:\n  - to:\n    - operation:\n        notPorts: [\"70000\"]\n",
		 "operation.notPorts[0]: port 70000 is out of range [1, 65535]"},
		{"  rules:\n  - to:\n    - operation:\n        paths: [\"/a/*/b\"]\n",
		 "operation.paths[0]: '/a/*/b': '*' only at the start (suffix) or the end"},
		{"  rules:\n  - to:\n    - operation:\n        paths: [\"/a/{**}/b\"]\n",
		 "operation.paths[0]: '/a/{**}/b': {**} must be the last segment"},
		{"  rules:\n  - to:\n    - operation:\n        paths: [\"/a{*}\"]\n",
		 "'/a{*}': {*} and {**} must each be a whole path segment"},
		{"  rules:\n  - to:\n    - operation:\n        notPaths: [\"/a/{*}/{x}\"]\n",
		 "operation.notPaths[0]: '/a/{*}/{x}': '{' and '}' only as {*}"},
		{"  rules:\n  - to:\n    - operation:\n        paths: [\"/a/{*}/b*\"]\n",
		 "'*' cannot be mixed with {*} or {**} templates"},
		{"  rules:\n  - when:\n    - key: request.headers[x-a]\n",
		 "spec.rules[0].when[0]: condition request.headers[x-a] needs values or notValues"},
		{"  rules:\n  - when:\n    - values: [a]\n",
		 "spec.rules[0].when[0].key: required field is missing"},
		{"  rules:\n  - when:\n    - key: request.regex.headers[x]\n      values: [a]\n",
		 "spec.rules[0].when[0].key: 'request.regex.headers[x]' is not a condition key this "
		 "node reads"},
		{"  rules:\n  - when:\n    - key: experimental.envoy.filters.a[b]\n      values: [a]\n",
		 "'experimental.envoy.filters.a[b]': experimental keys are not supported"},
		{"  rules:\n  - when:\n    - key: request.headers[bad header]\n      values: [a]\n",
		 "'bad header' is not a valid header name"},
		{"  rules:\n  - when:\n    - key: request.auth.claims[]\n      values: [a]\n",
		 "'request.auth.claims[]' is not request.auth.claims[NAME]"},
		{"  rules:\n  - when:\n    - key: request.auth.claims[a]b\n      values: [a]\n",
		 "is not request.auth.claims[NAME]"},
		{"  rules:\n  - when:\n    - key: source.ip\n      values: [\"not-an-ip\"]\n",
		 "when[0].values[0]: 'not-an-ip' is not an IP address"},
		{"  rules:\n  - when:\n    - key: destination.port\n      notValues: [\"0\"]\n",
		 "when[0].notValues[0]: port 0 is out of range"},
		{"  rules:\n  - when:\n    - key: source.ip\n      values: a\n",
		 "when[0].values: must be a list, not a string"},
		{"  bogus: 1\n", "spec.bogus: unknown field"},
	};
	struct hf_model m;

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[2048];
		int n = snprintf(yaml, sizeof(yaml), HEAD "%s", cases[i].spec);

		memset(&m, 0x5a, sizeof(m));
		if (load_text(yaml, (size_t)n, &m) != -EINVAL)
			fail_msg("case %u loaded: %s", i, cases[i].spec);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' has no '%s'", i, err, cases[i].want);
		/* nothing is left to free */
		assert_null(m.authz);
		assert_int_equal(m.n_listeners, 0);
	}
}

static void
test_kinds(void **state)
{
	struct hf_model m;
	static const char ra[] = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
				 "metadata:\n  name: x\nspec: {}\n";
	static const char v1a[] = "apiVersion: security.istio.io/v1alpha1\n"
				  "kind: AuthorizationPolicy\nmetadata:\n  name: x\nspec: {}\n";
	static const char other[] = "apiVersion: security.istio.io/v1\nkind: Policy\n"
				    "metadata:\n  name: x\nspec: {}\n";

	(void)state;
	assert_int_equal(load_text(ra, sizeof(ra) - 1, &m), -EINVAL);
	assert_non_null(strstr(err, "PeerAuthentication is not supported yet"));
	assert_int_equal(load_text(v1a, sizeof(v1a) - 1, &m), -EINVAL);
	assert_non_null(strstr(err, "version 'v1alpha1' of security.istio.io is not one of"));
	assert_int_equal(load_text(other, sizeof(other) - 1, &m), -EINVAL);
	assert_non_null(strstr(err, "'Policy' is not a kind of security.istio.io"));
}

/* A policy with every field: cut short at every byte, and with its scalars mangled. */
static const char full[] =
	HEAD
	"  selector:\n    matchLabels:\n      istio: ingressgateway\n"
	"  action: DENY\n"
	"  rules:\n"
	"  - from:\n"
	"    - source:\n"
	"        principals: [\"cluster.local/ns/a/sa/b\"]\n"
	"        notRequestPrincipals: [\"*\"]\n"
	"        namespaces: [\"a\"]\n"
	"        ipBlocks: [\"192.0.2.0/24\"]\n"
	"        notRemoteIpBlocks: [\"2001:db8::/32\"]\n"
	"    to:\n"
	"    - operation:\n"
	"        hosts: [\"*.example.com\"]\n"
	"        ports: [\"8080\"]\n"
	"        methods: [\"GET\"]\n"
	"        paths: [\"/a/{*}/b/{**}\", \"*.html\"]\n"
	"    when:\n"
	"    - key: request.auth.claims[groups]\n"
	"      values: [\"admin\"]\n"
	"    - key: request.headers[x-a]\n"
	"      notValues: [\"b*\"]\n";

/* the loader as hf_test_yaml_mangle() calls it */
static int
load_free(const char *yaml, size_t len)
{
	struct hf_model m;
	int rc = load_text(yaml, len, &m);

	if (rc == 0)
		hf_model_free(&m);
	return rc;
}

static void
test_robust(void **state)
{
	struct hf_model m;

	(void)state;
	assert_int_equal(load_text(full, sizeof(full) - 1, &m), 0);
	assert_non_null(m.authz);
	assert_int_equal(m.authz->n_deny, 1);
	hf_model_free(&m);
	assert_true(hf_test_yaml_mangle(full, sizeof(full) - 1, load_free, err) > 100);
}

/* The bootstrap keys of authorization: node.namespace, config.root_namespace, xff hops. */
static void
test_bootstrap_keys(void **state)
{
	static const struct {
		const char *extra;
		const char *want;	/* NULL: accepted */
	} cases[] = {
		{"node: { namespace = \"gateways\"; };\nconfig: { istio_dir = \"/tmp\"; "
		 "root_namespace = \"mesh-root\"; };\nhttp: { xff_num_trusted_hops = 2; };\n", NULL},
		{"node: { namespace = \"Gateways\"; };\n", "node.namespace: 'Gateways' is not a namespace"},
		{"config: { istio_dir = \"/tmp\"; root_namespace = \"a.b\"; };\n",
		 "config.root_namespace: 'a.b' is not a namespace"},
		{"http: { xff_num_trusted_hops = 65; };\n", "http.xff_num_trusted_hops"},
		{"http: { xff_num_trusted_hops = -1; };\n", "http.xff_num_trusted_hops"},
	};
	static struct hf_bootstrap b;
	char path[128], berr[HF_BOOT_ERR];

	(void)state;
	snprintf(path, sizeof(path), "%s/boot.cfg", dir);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");
		int rc;

		assert_non_null(f);
		fprintf(f, "ports = ( { name = \"p0\"; device = \"net_tap0\"; "
			   "address = \"198.51.100.2/24\"; } );\n%s", cases[i].extra);
		fclose(f);
		rc = hf_bootstrap_load(&b, path, berr, sizeof(berr));
		if (cases[i].want == NULL) {
			if (rc != 0)
				fail_msg("case %u: %s", i, berr);
			assert_string_equal(b.node_ns, "gateways");
			assert_string_equal(b.root_ns, "mesh-root");
			assert_int_equal(b.http_xff_trusted_hops, 2);
		} else if (rc == 0 || strstr(berr, cases[i].want) == NULL) {
			fail_msg("case %u: rc %d, '%s' has no '%s'", i, rc, berr, cases[i].want);
		}
	}
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf_authz_yaml_XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_robust),
		cmocka_unit_test(test_bootstrap_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
