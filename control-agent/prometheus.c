/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /stats/prometheus: the Prometheus text exposition format (0.0.4).
 *
 * Two parts. Every /stats line, as hydrofoil_<name> with '.' and other
 * characters Prometheus names refuse turned into '_', typed counter or gauge.
 * Then Istio's standard metrics, with Istio's names and labels, merged at
 * scrape time from every worker's series (dataplane/metrics.h): the workers
 * never wait for this, the agent only reads.
 *
 * Labels. A gateway reports as Istio's gateways do: reporter="source", the
 * source_* labels are the node's own (bootstrap node.id, node.cluster and
 * node.labels). The destination_* labels come from the cluster the request
 * went to: its service host (outbound|PORT|SUBSET|HOST), that host's first
 * two DNS labels as name and namespace when it is a Kubernetes service name
 * (NAME.NAMESPACE.svc.*). Istio learns the destination workload, app,
 * version and principal from the peer's metadata exchange, which Hydrofoil
 * does not do: those are "unknown", as Istio reports a peer without it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/access_log.h"
#include "control-agent/agent.h"
#include "dataplane/metrics.h"
#include "dataplane/snapshot.h"

#define PREFIX "hydrofoil_"
#define LABELS_MAX 1536

/* Appends @p name with every character outside [a-zA-Z0-9_:] as '_'. */
static void
metric_name(struct hf_strbuf *b, const char *name)
{
	char out[HF_STAT_NAME_MAX];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(out) - 1; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == ':';

		out[i] = ok ? ch : '_';
	}
	out[i] = '\0';
	hf_strbuf_printf(b, PREFIX "%s", out);
}

/* Appends HELP text with '\' and newlines escaped (the format's two escapes there). */
static void
help_text(struct hf_strbuf *b, const char *t)
{
	for (; *t != '\0'; t++) {
		if (*t == '\\')
			hf_strbuf_append(b, "\\\\", 2);
		else if (*t == '\n')
			hf_strbuf_append(b, "\\n", 2);
		else
			hf_strbuf_append(b, t, 1);
	}
}

/* Writes name="value" (with a leading comma unless first) into @p s, value escaped. */
static void
label(char *s, size_t cap, size_t *len, const char *name, const char *value)
{
	size_t n = *len;
	int w = snprintf(s + n, n < cap ? cap - n : 0, "%s%s=\"", n > 0 ? "," : "", name);

	n += w > 0 ? (size_t)w : 0;
	for (const char *v = value; *v != '\0' && n + 3 < cap; v++) {
		if (*v == '\\' || *v == '"') {
			s[n++] = '\\';
			s[n++] = *v;
		} else if (*v == '\n') {
			s[n++] = '\\';
			s[n++] = 'n';
		} else {
			s[n++] = *v;
		}
	}
	if (n + 1 < cap)
		s[n++] = '"';
	s[n < cap ? n : cap - 1] = '\0';
	*len = n;
}

/* The value of node label @p key ("key=value" in the bootstrap), or @p dflt. */
static const char *
node_label(const struct hf_bootstrap *b, const char *key, const char *dflt)
{
	size_t k = strlen(key);

	for (unsigned int i = 0; i < b->n_labels; i++)
		if (strncmp(b->labels[i], key, k) == 0 && b->labels[i][k] == '=')
			return b->labels[i] + k + 1;
	return dflt;
}

/*
 * The source_* labels, once per scrape. Istio's node id for a gateway is
 * router~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local: the namespace is its
 * last part's first label, the pod its third part's first label.
 */
static void
source_labels(const struct hf_bootstrap *b, char *s, size_t cap, size_t *len)
{
	char pod[HF_BOOT_STR] = "unknown", ns[HF_BOOT_STR] = "unknown";
	const char *p = b->node_id, *parts[4];
	int n = 0;

	for (const char *q = p; n < 4; q++)
		if (q == p || q[-1] == '~') {
			parts[n++] = q;
			q = strchr(q, '~');
			if (q == NULL)
				break;
		}
	if (n == 4) {
		snprintf(pod, sizeof(pod), "%.*s", (int)strcspn(parts[2], ".~"), parts[2]);
		snprintf(ns, sizeof(ns), "%.*s", (int)strcspn(parts[3], ".~"), parts[3]);
	}
	const char *app = node_label(b, "app", "unknown");
	const char *version = node_label(b, "version", "unknown");
	const char *workload = strcmp(app, "unknown") != 0 ? app : pod;

	label(s, cap, len, "reporter", "source");
	label(s, cap, len, "source_workload", workload);
	label(s, cap, len, "source_workload_namespace", ns);
	label(s, cap, len, "source_principal", "unknown");
	label(s, cap, len, "source_app", app);
	label(s, cap, len, "source_version", version);
	label(s, cap, len, "source_canonical_service",
	      node_label(b, "service.istio.io/canonical-name", workload));
	label(s, cap, len, "source_canonical_revision",
	      node_label(b, "service.istio.io/canonical-revision",
			 strcmp(version, "unknown") != 0 ? version : "latest"));
	label(s, cap, len, "source_cluster", b->node_cluster[0] != '\0' ? b->node_cluster : "unknown");
}

/* The destination_* labels of the cluster whose id is @p id in the current snapshot. */
static void
destination_labels(uint64_t id, char *s, size_t cap, size_t *len)
{
	const struct hf_snapshot *snap = hf_snapshot_current();
	const char *cname = NULL;
	char host[256] = "unknown", name[128] = "unknown", ns[128] = "unknown";

	for (unsigned int i = 0; id != 0 && snap != NULL && i < snap->n_clusters; i++)
		if (snap->clusters[i].id == id) {
			cname = snap->clusters[i].name;
			break;
		}
	if (cname != NULL) {
		/* outbound|PORT|SUBSET|HOST (Istio) or a bootstrap cluster's own name */
		const char *h = cname;

		for (int bars = 0; bars < 3 && strchr(h, '|') != NULL; bars++)
			h = strchr(h, '|') + 1;
		snprintf(host, sizeof(host), "%s", h);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(host, "."), host);
		const char *dot = strchr(host, '.');

		if (dot != NULL && strncmp(dot + 1 + strcspn(dot + 1, "."), ".svc.", 5) == 0)
			snprintf(ns, sizeof(ns), "%.*s", (int)strcspn(dot + 1, "."), dot + 1);
		else
			snprintf(name, sizeof(name), "%s", host);
	}
	label(s, cap, len, "destination_workload", "unknown");
	label(s, cap, len, "destination_workload_namespace", ns);
	label(s, cap, len, "destination_principal", "unknown");
	label(s, cap, len, "destination_app", "unknown");
	label(s, cap, len, "destination_version", "unknown");
	label(s, cap, len, "destination_service", host);
	label(s, cap, len, "destination_service_name", name);
	label(s, cap, len, "destination_service_namespace", ns);
	label(s, cap, len, "destination_canonical_service", name);
	label(s, cap, len, "destination_canonical_revision", "latest");
	label(s, cap, len, "destination_cluster", "unknown");
}

/* A merged series: its label set (without le) and what the workers counted. */
struct series {
	char *labels;
	uint64_t requests;
	struct hf_metrics_hist h[3];	/* duration, request bytes, response bytes */
	uint64_t tcp[4];		/* opened, closed, sent, received */
};

static int
by_labels(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->labels, ((const struct series *)b)->labels);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
hist_add(struct hf_metrics_hist *dst, const struct hf_metrics_hist *src)
{
	for (unsigned int i = 0; i <= HF_METRICS_BUCKETS; i++)
		dst->n[i] += ld(&src->n[i]);
	dst->sum += ld(&src->sum);
}

/* Sorts @p v by label set and merges equal ones; returns the count left. */
static size_t
merge(struct series *v, size_t n)
{
	size_t k = 0;

	qsort(v, n, sizeof(*v), by_labels);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1].labels, v[i].labels) == 0) {
			v[k - 1].requests += v[i].requests;
			for (int j = 0; j < 3; j++)
				hist_add(&v[k - 1].h[j], &v[i].h[j]);
			for (int j = 0; j < 4; j++)
				v[k - 1].tcp[j] += v[i].tcp[j];
			free(v[i].labels);
		} else {
			v[k++] = v[i];
		}
	}
	return k;
}

static void
print_hist(struct hf_strbuf *b, const char *name, const char *labels,
	   const struct hf_metrics_hist *h, bool ms)
{
	uint64_t cum = 0;

	for (unsigned int i = 0; i < HF_METRICS_BUCKETS; i++) {
		uint64_t bound = hf_metrics_bounds_milli[i];

		cum += h->n[i];
		hf_strbuf_printf(b, "%s_bucket{%s,le=\"%" PRIu64 "%s\"} %" PRIu64 "\n", name, labels,
				 bound / 1000, bound % 1000 ? ".5" : "", cum);
	}
	cum += h->n[HF_METRICS_BUCKETS];
	hf_strbuf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
	if (ms)
		hf_strbuf_printf(b, "%s_sum{%s} %" PRIu64 ".%03" PRIu64 "\n", name, labels,
				 h->sum / 1000, h->sum % 1000);
	else
		hf_strbuf_printf(b, "%s_sum{%s} %" PRIu64 "\n", name, labels, h->sum);
	hf_strbuf_printf(b, "%s_count{%s} %" PRIu64 "\n", name, labels, cum);
}

/* The labels after the source's of HTTP slot @p e (@p tcp false) or TCP slot @p e. */
static void
slot_labels(const void *e, bool tcp, char *l, size_t cap, size_t *len)
{
	const struct hf_metrics_http *h = e;
	const struct hf_metrics_tcp *t = e;
	char code[8];

	destination_labels(tcp ? t->cluster_id : h->cluster_id, l, cap, len);
	label(l, cap, len, "request_protocol", tcp ? "tcp" : "http");
	if (!tcp) {
		snprintf(code, sizeof(code), "%u", h->code);
		label(l, cap, len, "response_code", code);
		label(l, cap, len, "grpc_response_status", "");
	}
	label(l, cap, len, "response_flags", tcp ? "-" : hf_response_flag_name(h->flag));
	label(l, cap, len, "connection_security_policy", "unknown");
}

/*
 * Istio's HTTP (@p tcp false) or TCP series of every worker, labelled and
 * merged; NULL when out of memory.
 */
static struct series *
collect(struct hf_agent *a, const char *src, bool tcp, size_t *count)
{
	size_t cap = 0, n = 0;
	struct series *v;

	for (uint16_t w = 0; w < a->n_workers; w++) {
		const struct hf_metrics *m = &a->workers[w]->metrics;

		cap += tcp ? (m->tcp != NULL ? m->tcp_mask + 1 : 0) : (m->http != NULL ? m->http_mask + 1 : 0);
	}
	v = calloc(cap + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (uint16_t w = 0; w < a->n_workers; w++) {
		const struct hf_metrics *m = &a->workers[w]->metrics;
		uint32_t slots = tcp ? (m->tcp != NULL ? m->tcp_mask + 1 : 0)
				     : (m->http != NULL ? m->http_mask + 1 : 0);

		for (uint32_t i = 0; i < slots; i++) {
			const struct hf_metrics_http *h = tcp ? NULL : &m->http[i];
			const struct hf_metrics_tcp *t = tcp ? &m->tcp[i] : NULL;
			char l[LABELS_MAX];
			size_t len = strlen(src);

			/* Pairs with the worker's release: the key is whole. */
			if (!__atomic_load_n(tcp ? &t->used : &h->used, __ATOMIC_ACQUIRE))
				continue;
			memcpy(l, src, len + 1);
			slot_labels(tcp ? (const void *)t : (const void *)h, tcp, l, sizeof(l), &len);
			v[n].labels = strdup(l);
			if (v[n].labels == NULL) {
				for (size_t k = 0; k < n; k++)
					free(v[k].labels);
				free(v);
				return NULL;
			}
			if (tcp) {
				v[n].tcp[0] = ld(&t->opened);
				v[n].tcp[1] = ld(&t->closed);
				v[n].tcp[2] = ld(&t->sent);
				v[n].tcp[3] = ld(&t->received);
			} else {
				v[n].requests = ld(&h->requests);
				hist_add(&v[n].h[0], &h->duration);
				hist_add(&v[n].h[1], &h->rq_bytes);
				hist_add(&v[n].h[2], &h->rs_bytes);
			}
			n++;
		}
	}
	*count = merge(v, n);
	return v;
}

static void
free_series(struct series *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].labels);
	free(v);
}

static void
istio_metrics(struct hf_agent *a, struct hf_strbuf *b)
{
	static const char *const hist_name[3] = {
		"istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes",
	};
	static const char *const hist_help[3] = {
		"Time from the request's first byte to the end of the exchange",
		"Size of the request body in bytes",
		"Size of the response body in bytes",
	};
	static const char *const tcp_name[4] = {
		"istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
		"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total",
	};
	const struct hf_snapshot *snap = hf_snapshot_current();
	/* what Telemetry disabled is not shown: its series keep what they held, for when it returns */
	uint32_t off = snap != NULL ? snap->metrics_off : 0;
	char src[LABELS_MAX];
	size_t len = 0, n_http = 0, n_tcp = 0;
	struct series *http, *tcp;

	source_labels(a->boot, src, sizeof(src), &len);
	http = collect(a, src, false, &n_http);
	tcp = collect(a, src, true, &n_tcp);
	if (http == NULL || tcp == NULL) {
		b->failed = 1;
		if (http != NULL)
			free_series(http, n_http);
		if (tcp != NULL)
			free_series(tcp, n_tcp);
		return;
	}
	if (!(off & HF_METRIC_BIT(HF_METRIC_REQUEST_COUNT))) {
		hf_strbuf_printf(b, "# HELP istio_requests_total Requests the gateway answered or "
				 "that ended\n# TYPE istio_requests_total counter\n");
		for (size_t i = 0; i < n_http; i++)
			hf_strbuf_printf(b, "istio_requests_total{%s} %" PRIu64 "\n",
					 http[i].labels, http[i].requests);
	}
	for (int k = 0; k < 3; k++) {
		if (off & HF_METRIC_BIT(HF_METRIC_REQUEST_DURATION + k))
			continue;
		hf_strbuf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", hist_name[k], hist_help[k],
				 hist_name[k]);
		for (size_t i = 0; i < n_http; i++)
			print_hist(b, hist_name[k], http[i].labels, &http[i].h[k], k == 0);
	}
	for (int k = 0; k < 4; k++) {
		if (off & HF_METRIC_BIT(HF_METRIC_TCP_OPENED_CONNECTIONS + k))
			continue;
		hf_strbuf_printf(b, "# TYPE %s counter\n", tcp_name[k]);
		for (size_t i = 0; i < n_tcp; i++)
			hf_strbuf_printf(b, "%s{%s} %" PRIu64 "\n", tcp_name[k], tcp[i].labels,
					 tcp[i].tcp[k]);
	}
	free_series(http, n_http);
	free_series(tcp, n_tcp);
}

void
hf_agent_prometheus(struct hf_agent *a, struct hf_strbuf *b)
{
	size_t n;
	struct hf_stat_line *l = hf_agent_stat_lines(a, &n);

	if (l == NULL) {
		b->failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (l[i].help != NULL) {
			hf_strbuf_printf(b, "# HELP ");
			metric_name(b, l[i].name);
			hf_strbuf_append(b, " ", 1);
			help_text(b, l[i].help);
			hf_strbuf_append(b, "\n", 1);
		}
		hf_strbuf_printf(b, "# TYPE ");
		metric_name(b, l[i].name);
		hf_strbuf_printf(b, " %s\n", l[i].gauge ? "gauge" : "counter");
		metric_name(b, l[i].name);
		hf_strbuf_printf(b, " %" PRIu64 "\n", l[i].value);
	}
	free(l);
	hf_strbuf_printf(b, "# HELP istio_build Istio component build info\n"
			 "# TYPE istio_build gauge\n"
			 "istio_build{component=\"proxy\",tag=\"hydrofoil-%s\"} 1\n", HF_VERSION);
	istio_metrics(a, b);
}
