/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telemetry (telemetry.istio.io v1alpha1 and v1), its metrics part: which of
 * Istio's standard metrics this node records. What an operator writes to turn
 * metrics off mesh-wide, for a namespace or for one workload:
 *
 *   metrics:
 *   - providers: [{name: prometheus}]
 *     overrides:
 *     - match: {metric: REQUEST_DURATION, mode: CLIENT_AND_SERVER}
 *       disabled: true
 *
 * As in Istio, the resources that apply are layered: the root namespace's
 * without a selector, then the node's namespace's without one, then those
 * whose selector.matchLabels the node's labels hold (root namespace first);
 * within a layer in name order, and within a resource in the order written,
 * each override setting or clearing its metrics. A gateway reports as the
 * client side (reporter="source"), so an override whose mode is SERVER does
 * not concern it. The gRPC message metrics are not produced here: they can
 * be disabled (nothing changes) but not enabled. What the node does not do
 * (tracing, access logging through Telemetry, tag overrides, custom metrics,
 * providers other than prometheus, Gateway API targets) is refused by name.
 * reportingInterval is checked and taken as met: the agent reads the
 * workers' series at each scrape, so every figure is current.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"
#include "dataplane/metrics-t.h"

static const char *const spec_keys[] = {"selector", "metrics", NULL};
static const char *const spec_later[] = {"targetRef", "targetRefs", "tracing", "accessLogging",
					 NULL};
static const char *const sel_keys[] = {"matchLabels", NULL};
static const char *const metrics_keys[] = {"providers", "overrides", "reportingInterval", NULL};
static const char *const provider_keys[] = {"name", NULL};
static const char *const override_keys[] = {"match", "disabled", NULL};
static const char *const override_later[] = {"tagOverrides", NULL};
static const char *const match_keys[] = {"metric", "mode", NULL};
static const char *const match_later[] = {"customMetric", NULL};

/* Istio's MetricSelector.IstioMetric; ALL_METRICS first, then enum hf_metric's order. */
static const char *const metric_names[] = {
	"ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE",
	"TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES",
	"GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES", NULL,
};
#define METRIC_LIST                                                                                \
	"ALL_METRICS, REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE, "              \
	"TCP_OPENED_CONNECTIONS, TCP_CLOSED_CONNECTIONS, TCP_SENT_BYTES, TCP_RECEIVED_BYTES, "     \
	"GRPC_REQUEST_MESSAGES, GRPC_RESPONSE_MESSAGES"
#define FIRST_GRPC (HF_METRIC__N + 1)

static const char *const modes[] = {"CLIENT_AND_SERVER", "CLIENT", "SERVER", NULL};
enum { MODE_BOTH, MODE_CLIENT, MODE_SERVER };

int
ist_telemetry_kind(struct ist *st, const struct yn *root, const char *api, const char *kind,
		   enum ist_kind *out)
{
	static const char group[] = "telemetry.istio.io/";
	const char *version;

	if (strncmp(api, group, sizeof(group) - 1) != 0)
		return 0;
	version = api + sizeof(group) - 1;
	if (strcmp(kind, "Telemetry") != 0)
		return ist_fail(st, ist_get(root, "kind"), "kind",
				"'%s' is not a kind of telemetry.istio.io", kind);
	if (strcmp(version, "v1alpha1") != 0 && strcmp(version, "v1") != 0)
		return ist_fail(st, ist_get(root, "apiVersion"), "apiVersion", "version '%s' of "
				"telemetry.istio.io is not one of v1alpha1, v1", version);
	*out = IST_TM;
	return 1;
}

/* 1 when metrics[] entry @p e concerns Prometheus (no providers: the default one), 0, or an error. */
static int
for_prometheus(struct ist *st, const struct yn *e, const char *path)
{
	const struct yn *ps = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc, found = 0;

	if ((rc = ist_get_seq(st, e, path, "providers", false, &ps)) < 0)
		return rc;
	if (ps == NULL || ps->n == 0)
		return 1;
	ist_path(p, path, "providers");
	for (unsigned int i = 0; i < ps->n; i++) {
		const char *name;

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, ps->val[i], q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, ps->val[i], q, provider_keys, NULL)) < 0 ||
		    (rc = ist_get_str(st, ps->val[i], q, "name", true, &name)) < 0)
			return rc;
		if (strcmp(name, "prometheus") != 0)
			return ist_fail(st, ist_get(ps->val[i], "name"), ist_path(p, q, "name"),
					"provider '%s': this node's metrics go to Prometheus only "
					"(name: prometheus)", name);
		found = 1;
	}
	return found;
}

/* Checks override @p o and applies it to @p off when @p use. */
static int
override(struct ist *st, const struct yn *o, const char *path, bool use, uint32_t *off)
{
	const struct yn *m = NULL;
	char p[IST_PATH];
	int metric = 0, mode = MODE_BOTH, rc;
	bool disabled = false;
	uint32_t bits;

	if ((rc = ist_want(st, o, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, o, path, override_keys, override_later)) < 0 ||
	    (rc = ist_get_map(st, o, path, "match", false, &m)) < 0 ||
	    (rc = ist_get_bool(st, o, path, "disabled", &disabled)) < 0)
		return rc;
	if (m != NULL) {
		ist_path(p, path, "match");
		if ((rc = ist_keys(st, m, p, match_keys, match_later)) < 0 ||
		    (rc = ist_get_enum(st, m, p, "metric", metric_names, METRIC_LIST, &metric)) < 0 ||
		    (rc = ist_get_enum(st, m, p, "mode", modes, "CLIENT_AND_SERVER, CLIENT, SERVER",
				       &mode)) < 0)
			return rc;
	}
	if (metric >= FIRST_GRPC && !disabled)
		return ist_fail(st, ist_get(m, "metric"), ist_path(p, path, "match.metric"),
				"%s: this node does not produce gRPC message metrics, so they cannot "
				"be enabled", metric_names[metric]);
	bits = metric == 0 ? HF_METRICS_HTTP_ALL | HF_METRICS_TCP_ALL :
	       metric < FIRST_GRPC ? HF_METRIC_BIT(metric - 1) : 0;
	/* a gateway is the client side of what it reports (reporter="source") */
	if (!use || mode == MODE_SERVER)
		return 0;
	*off = disabled ? *off | bits : *off & ~bits;
	return 0;
}

/* Checks metrics[] entry @p e; when @p use and it concerns Prometheus, its overrides go into @p off. */
static int
metrics_entry(struct ist *st, const struct yn *e, const char *path, bool use, uint32_t *off)
{
	const struct yn *os = NULL;
	char p[IST_PATH], q[IST_PATH];
	uint32_t interval;
	int prom, rc;

	if ((rc = ist_want(st, e, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, e, path, metrics_keys, NULL)) < 0 ||
	    (rc = ist_get_ms(st, e, path, "reportingInterval", &interval)) < 0 ||
	    (prom = for_prometheus(st, e, path)) < 0)
		return rc < 0 ? rc : prom;
	if ((rc = ist_get_seq(st, e, path, "overrides", false, &os)) < 0)
		return rc;
	ist_path(p, path, "overrides");
	for (unsigned int k = 0; os != NULL && k < os->n; k++)
		if ((rc = override(st, os->val[k], ist_pathi(q, p, k), use && prom == 1, off)) < 0)
			return rc;
	return 0;
}

/*
 * Checks Telemetry @p r. Returns its layer for this node (0: the root
 * namespace's, 1: the node namespace's, 2: the root namespace's with a
 * selector, 3: the node namespace's with one), or -1 when it does not apply
 * to the node or is wrong (then *@p err holds ist_fail's negative errno).
 */
static int
layer_of(struct ist *st, const struct ist_res *r, const char *root, const char *own, int *err)
{
	const struct yn *sel = NULL, *labels = NULL, *ms = NULL;
	char p[IST_PATH];
	int rc;

	*err = 0;
	ist_set_cur(st, r);
	if ((rc = ist_keys(st, r->spec, "spec", spec_keys, spec_later)) < 0 ||
	    (rc = ist_get_map(st, r->spec, "spec", "selector", false, &sel)) < 0 ||
	    (sel != NULL &&
	     ((rc = ist_keys(st, sel, "spec.selector", sel_keys, NULL)) < 0 ||
	      (rc = ist_get_strmap(st, sel, "spec.selector", "matchLabels", &labels)) < 0)) ||
	    (rc = ist_get_seq(st, r->spec, "spec", "metrics", false, &ms)) < 0) {
		*err = rc;
		return -1;
	}
	for (unsigned int i = 0; ms != NULL && i < ms->n; i++) {
		uint32_t scratch = 0;

		/* checked here whether it applies or not; applied in its layer's turn */
		if ((rc = metrics_entry(st, ms->val[i], ist_pathi(p, "spec.metrics", i), false,
					&scratch)) < 0) {
			*err = rc;
			return -1;
		}
	}
	if (strcmp(r->ns, root) != 0 && strcmp(r->ns, own) != 0)
		return -1;
	if (!ist_node_has_labels(st, labels))
		return -1;
	return (sel != NULL ? 2 : 0) + (strcmp(r->ns, root) != 0);
}

struct applied {
	int layer;
	const struct ist_res *r;
};

/* layer, then name: a layer's resources come from one namespace */
static int
cmp_applied(const void *a, const void *b)
{
	const struct applied *x = a, *y = b;

	if (x->layer != y->layer)
		return x->layer - y->layer;
	return strcmp(x->r->name, y->r->name);
}

int
ist_telemetry(struct ist *st)
{
	const char *root = ist_root_ns(st);
	const char *own = ist_node_ns(st);
	struct applied *ap = NULL;
	unsigned int n = 0;
	uint32_t off = 0;
	int rc = 0;

	if (own == NULL)
		return ist_oom(st);
	/* every Telemetry is checked; those that apply are applied layer by layer */
	for (unsigned int i = 0; i < st->n_res && rc == 0; i++) {
		struct applied a = {.r = &st->res[i]};

		if (a.r->kind != IST_TM || (a.layer = layer_of(st, a.r, root, own, &rc)) < 0)
			continue;
		if (ist_push(&ap, &n, sizeof(*ap)) == NULL)
			rc = ist_oom(st);
		else
			ap[n - 1] = a;
	}
	if (rc == 0 && n > 0)
		qsort(ap, n, sizeof(*ap), cmp_applied);
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		const struct yn *ms = NULL;
		char p[IST_PATH];

		ist_set_cur(st, ap[i].r);
		ist_get_seq(st, ap[i].r->spec, "spec", "metrics", false, &ms);
		for (unsigned int k = 0; ms != NULL && k < ms->n && rc == 0; k++)
			rc = metrics_entry(st, ms->val[k], ist_pathi(p, "spec.metrics", k), true, &off);
	}
	free(ap);
	if (rc == 0)
		st->m.metrics_off = off;
	return rc;
}
