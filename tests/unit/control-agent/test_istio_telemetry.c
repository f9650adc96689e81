/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telemetry (telemetry.istio.io), its metrics part: which of Istio's standard
 * metrics the Istio loader turns off (hf_model.metrics_off). Mistakes are
 * refused with file, line, resource, field and what is wrong, what the node
 * does not do by name; the layers apply in Istio's order (root namespace,
 * node namespace, then selectors), each override in the order written; a
 * resource of another namespace or whose selector the node's labels do not
 * hold changes nothing; a cut or mangled resource loads or is refused with a
 * message, never crashes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/istio/istio.h"
#include "control-agent/model/model.h"
#include "dataplane/metrics-t.h"

static char dir[64];
static char err[HF_ISTIO_ERR];
static const char *const labels[] = {"istio=ingressgateway", "app=gw"};

static int
load_text(const char *yaml, size_t len, struct hf_model *m)
{
	const struct hf_istio_node node = {.labels = labels, .n_labels = 2, .ns = "gateways"};

	return hf_test_istio_text(dir, "t.yaml", &node, yaml, len, m, err, sizeof(err));
}

/* metrics_off of @p yaml, which must load */
static uint32_t
off_of(const char *yaml)
{
	struct hf_model m;
	uint32_t off;

	if (load_text(yaml, strlen(yaml), &m) != 0)
		fail_msg("refused: %s\n%s", err, yaml);
	off = m.metrics_off;
	hf_model_free(&m);
	return off;
}

#define TM(ns, name)                                                                               \
	"---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: " name        \
	"\n  namespace: " ns "\nspec:\n"
#define ALL (HF_METRICS_HTTP_ALL | HF_METRICS_TCP_ALL)
#define BIT(m) HF_METRIC_BIT(HF_METRIC_##m)

static void
test_refused(void **state)
{
	static const struct {
		const char *doc;
		const char *want;	/* in the message */
	} cases[] = {
		{"---\napiVersion: telemetry.istio.io/v2\nkind: Telemetry\nmetadata: {name: a, "
		 "namespace: istio-system}\nspec: {}\n",
		 "t.yaml:2: Telemetry: apiVersion: version 'v2' of telemetry.istio.io is not one of "
		 "v1alpha1, v1"},
		{"---\napiVersion: telemetry.istio.io/v1\nkind: Metrics\nmetadata: {name: a, "
		 "namespace: istio-system}\nspec: {}\n",
		 "kind: 'Metrics' is not a kind of telemetry.istio.io"},
		{TM("istio-system", "a") "  tracing:\n  - randomSamplingPercentage: 10\n",
		 "t.yaml:8: Telemetry istio-system/a: spec.tracing: not supported yet"},
		{TM("istio-system", "a") "  accessLogging:\n  - providers: [{name: envoy}]\n",
		 "spec.accessLogging: not supported yet"},
		{TM("istio-system", "a") "  targetRefs:\n  - kind: Gateway\n    name: gw\n",
		 "spec.targetRefs: not supported yet"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - tagOverrides:\n"
		 "        request_protocol: {operation: REMOVE}\n",
		 "spec.metrics[0].overrides[0].tagOverrides: not supported yet"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - match: {customMetric: "
		 "my_metric}\n      disabled: true\n",
		 "spec.metrics[0].overrides[0].match.customMetric: not supported yet"},
		{TM("istio-system", "a") "  metrics:\n  - providers: [{name: stackdriver}]\n",
		 "spec.metrics[0].providers[0].name: provider 'stackdriver': this node's metrics go "
		 "to Prometheus only (name: prometheus)"},
		{TM("istio-system", "a") "  metrics:\n  - providers: [prometheus]\n",
		 "spec.metrics[0].providers[0]: must be a mapping, not a string"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - match: {metric: "
		 "REQUEST_COUNTS}\n      disabled: true\n",
		 "spec.metrics[0].overrides[0].match.metric: 'REQUEST_COUNTS' is not one of "
		 "ALL_METRICS, REQUEST_COUNT"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - match: {mode: BOTH}\n",
		 "match.mode: 'BOTH' is not one of CLIENT_AND_SERVER, CLIENT, SERVER"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - match: {metric: "
		 "GRPC_REQUEST_MESSAGES}\n      disabled: false\n",
		 "match.metric: GRPC_REQUEST_MESSAGES: this node does not produce gRPC message "
		 "metrics, so they cannot be enabled"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - disabled: \"yes\"\n",
		 "spec.metrics[0].overrides[0].disabled: must be a boolean"},
		{TM("istio-system", "a") "  metrics:\n  - reportingInterval: 5\n",
		 "spec.metrics[0].reportingInterval: must be a duration string"},
		{TM("istio-system", "a") "  metrics:\n  - overrides: {disabled: true}\n",
		 "spec.metrics[0].overrides: must be a list, not a mapping"},
		{TM("istio-system", "a") "  metrics:\n  - overrides:\n    - disable: true\n",
		 "spec.metrics[0].overrides[0].disable: unknown field"},
		/* checked whether it applies or not */
		{TM("elsewhere", "a") "  selector:\n    matchLabels: {app: other}\n"
		 "  metrics:\n  - overrides:\n    - match: {metric: NOPE}\n",
		 "Telemetry elsewhere/a: spec.metrics[0].overrides[0].match.metric: 'NOPE'"},
		{TM("istio-system", "a") "  selector:\n    labels: {app: gw}\n",
		 "spec.selector.labels: unknown field"},
	};
	struct hf_model m;

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = load_text(cases[i].doc, strlen(cases[i].doc), &m);

		if (rc == 0) {
			hf_model_free(&m);
			fail_msg("case %u loaded; wanted '%s'", i, cases[i].want);
		}
		assert_int_equal(rc, -EINVAL);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' has no '%s'", i, err, cases[i].want);
	}
}

static void
test_overrides(void **state)
{
	(void)state;
	/* nothing said: everything on */
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - providers: "
				"[{name: prometheus}]\n"), 0);
	/* no match: all metrics; the default provider is Prometheus */
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - overrides:\n"
				"    - disabled: true\n"), ALL);
	/* one by one, in the order written: the last word on a metric wins */
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - overrides:\n"
				"    - match: {metric: REQUEST_DURATION}\n      disabled: true\n"
				"    - match: {metric: TCP_SENT_BYTES, mode: CLIENT}\n"
				"      disabled: true\n"
				"    - match: {metric: GRPC_RESPONSE_MESSAGES}\n      disabled: true\n"),
			 BIT(REQUEST_DURATION) | BIT(TCP_SENT_BYTES));
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - overrides:\n"
				"    - match: {metric: ALL_METRICS}\n      disabled: true\n"
				"    - match: {metric: REQUEST_COUNT}\n      disabled: false\n"
				"  - reportingInterval: 10s\n    overrides:\n"
				"    - match: {metric: TCP_OPENED_CONNECTIONS}\n      disabled: false\n"),
			 ALL & ~(BIT(REQUEST_COUNT) | BIT(TCP_OPENED_CONNECTIONS)));
	/* a gateway reports as the client: SERVER overrides do not concern it */
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - overrides:\n"
				"    - match: {mode: SERVER}\n      disabled: true\n"), 0);
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - overrides:\n"
				"    - match: {metric: REQUEST_SIZE, mode: CLIENT_AND_SERVER}\n"
				"      disabled: true\n"), BIT(REQUEST_SIZE));
	/* another provider's entry beside Prometheus: Prometheus's part applies */
	assert_int_equal(off_of(TM("istio-system", "a") "  metrics:\n  - providers: "
				"[{name: prometheus}]\n    overrides:\n    - match: {metric: "
				"RESPONSE_SIZE}\n      disabled: true\n"), BIT(RESPONSE_SIZE));
	/* v1alpha1 is read too */
	assert_int_equal(off_of("apiVersion: telemetry.istio.io/v1alpha1\nkind: Telemetry\n"
				"metadata: {name: a, namespace: istio-system}\nspec:\n  metrics:\n"
				"  - overrides:\n    - disabled: true\n"), ALL);
}

static void
test_layers(void **state)
{
	static const char disable_all[] = "  metrics:\n  - overrides:\n    - disabled: true\n";
	static const char enable_count[] = "  metrics:\n  - overrides:\n    - match: {metric: "
					   "REQUEST_COUNT}\n      disabled: false\n";
	static const char enable_all[] = "  metrics:\n  - overrides:\n    - disabled: false\n";
	static const char gw[] = "  selector:\n    matchLabels: {app: gw}\n";
	static const char other[] = "  selector:\n    matchLabels: {app: other}\n";
	char y[4096];

	(void)state;
	/* the node's namespace enables what the root disabled, whatever their file order */
	snprintf(y, sizeof(y), TM("gateways", "a") "%s" TM("istio-system", "z") "%s",
		 enable_count, disable_all);
	assert_int_equal(off_of(y), ALL & ~BIT(REQUEST_COUNT));
	/* a selector beats the namespace's */
	snprintf(y, sizeof(y), TM("gateways", "b") "%s%s" TM("gateways", "a") "%s", gw,
		 enable_all, disable_all);
	assert_int_equal(off_of(y), 0);
	/* a selector the node's labels do not hold changes nothing */
	snprintf(y, sizeof(y), TM("gateways", "a") "%s" TM("gateways", "b") "%s%s",
		 disable_all, other, enable_all);
	assert_int_equal(off_of(y), ALL);
	/* another namespace's changes nothing; the root's with a selector does */
	snprintf(y, sizeof(y), TM("bookinfo", "a") "%s", disable_all);
	assert_int_equal(off_of(y), 0);
	snprintf(y, sizeof(y), TM("istio-system", "a") "%s%s", gw, disable_all);
	assert_int_equal(off_of(y), ALL);
	/* within a layer, name order: b's word comes after a's */
	snprintf(y, sizeof(y), TM("istio-system", "b") "%s" TM("istio-system", "a") "%s",
		 enable_all, disable_all);
	assert_int_equal(off_of(y), 0);
}

static const char full[] = "apiVersion: telemetry.istio.io/v1\n"
			   "kind: Telemetry\n"
			   "metadata:\n"
			   "  name: mesh-default\n"
			   "  namespace: istio-system\n"
			   "spec:\n"
			   "  selector:\n"
			   "    matchLabels:\n"
			   "      app: gw\n"
			   "  metrics:\n"
			   "  - providers:\n"
			   "    - name: prometheus\n"
			   "    reportingInterval: 15s\n"
			   "    overrides:\n"
			   "    - match:\n"
			   "        metric: REQUEST_DURATION\n"
			   "        mode: CLIENT\n"
			   "      disabled: true\n"
			   "    - match: {metric: TCP_SENT_BYTES}\n"
			   "      disabled: false\n";

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
	(void)state;
	assert_int_equal(off_of(full), BIT(REQUEST_DURATION));
	assert_true(hf_test_yaml_mangle(full, sizeof(full) - 1, load_free, err) > 50);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hf_telemetry_XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/t.yaml", dir);
	unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_robust),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
