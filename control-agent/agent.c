/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "control-agent/agent.h"
#include "control-agent/certs.h"
#include "control-agent/clock.h"
#include "control-agent/compile/authz_build.h"
#include "control-agent/config_dump.h"
#include "control-agent/explain.h"
#include "control-agent/ratelimit.h"
#include "dataplane/port.h"
#include "dataplane/proxy/http.h"
#include "dataplane/proxy/http_cb.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

#define LOOP_MS 50
/* With an access log, records are drained this often (a worker's ring holds 16384). */
#define LOG_LOOP_MS 5
/*
 * Once every link is up and nothing waits (no reload due, no snapshot in its
 * grace period), the agent sleeps this long between looks at the links. Each
 * wake-up costs this machine's kernel 30 to 100 us of CPU (issue 16: a bare
 * poll() timeout, measured), taken from whatever polls on the agent's core;
 * admin requests and signals wake it at once whatever the wait.
 */
#define IDLE_LOOP_MS 250

volatile sig_atomic_t hf_agent_stop_requested;
volatile sig_atomic_t hf_agent_reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hf_agent_reload_requested = 1;
	else
		hf_agent_stop_requested = 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct hf_stat_line *)a)->name, ((const struct hf_stat_line *)b)->name);
}

/* The /stats names of the pieces of a loop iteration (enum hf_loop_work). */
static const char *const loop_work_name[HF_LOOP__N] = {
	[HF_LOOP_SNAPSHOT] = "snapshot", [HF_LOOP_RX] = "rx", [HF_LOOP_ARP] = "arp",
	[HF_LOOP_TCP] = "tcp", [HF_LOOP_TX] = "tx", [HF_LOOP_OUTSIDE] = "outside",
};

#define LOOP_LINES (5 + 2 * HF_LOOP__N)

/*
 * The workers' loop timing since the last POST /reset_loop_stats (or start),
 * in ns: the gap between the starts of two iterations at p99, p99.99 and its
 * longest, over all workers' gaps together, and the longest single piece of
 * each kind on any worker. Appends LOOP_LINES lines at @p l + *@p n.
 */
static void
loop_lines(const struct hf_agent *a, struct hf_stat_line *l, size_t *n)
{
	static struct hf_loop_stats sum;	/* 2.5 KB: the agent thread's alone */
	uint64_t hz = a->n_workers > 0 ? a->workers[0]->tsc_hz : 0;
	const double pct[] = {99.0, 99.99};
	const char *const pname[] = {"p99", "p9999"};

#define NS(ticks) (hz != 0 ? (uint64_t)((double)(ticks) * 1e9 / (double)hz) : 0)
	memset(&sum, 0, sizeof(sum));
	for (uint16_t i = 0; i < a->n_workers; i++)
		hf_loop_stats_merge(&sum, &a->workers[i]->loop);
	for (size_t i = *n; i < *n + LOOP_LINES; i++)
		l[i].gauge = true;	/* windows: POST /reset_loop_stats starts them again */
	snprintf(l[*n].name, sizeof(l[*n].name), "worker.loop_gaps");
	l[(*n)++].value = sum.count;
	for (unsigned int i = 0; i < RTE_DIM(pct); i++) {
		snprintf(l[*n].name, sizeof(l[*n].name), "worker.loop_gap_%s_ns", pname[i]);
		l[(*n)++].value = NS(hf_loop_gap_at(&sum, pct[i]));
	}
	snprintf(l[*n].name, sizeof(l[*n].name), "worker.loop_gap_max_ns");
	l[(*n)++].value = NS(sum.max);
	snprintf(l[*n].name, sizeof(l[*n].name), "worker.loop_stall_unswitched_max_ns");
	l[(*n)++].value = NS(sum.max_unswitched);
	for (unsigned int k = 0; k < HF_LOOP__N; k++) {
		snprintf(l[*n].name, sizeof(l[*n].name), "worker.longest_%s_ns", loop_work_name[k]);
		l[(*n)++].value = NS(sum.longest[k]);
	}
	/* The same, in stalls the thread was never switched out of: our own work (or the machine's) */
	for (unsigned int k = 0; k < HF_LOOP__N; k++) {
		snprintf(l[*n].name, sizeof(l[*n].name), "worker.unswitched_longest_%s_ns",
			 loop_work_name[k]);
		l[(*n)++].value = NS(sum.unswitched_longest[k]);
	}
#undef NS
}

/* The certificate expiry gauges: one per certificate, and Envoy's soonest. */
struct expiry_lines {
	struct hf_stat_line *l;
	size_t *n;
	size_t cap;
	int64_t first;
};

static void
expiry_line(void *arg, const char *name, int64_t days)
{
	struct expiry_lines *e = arg;

	if (*e->n == e->cap)
		return;
	snprintf(e->l[*e->n].name, sizeof(e->l[*e->n].name), "tls.cert_expiry_days.%s", name);
	e->l[*e->n].gauge = true;
	/* An expired certificate reads 0, as Envoy's days_until_expiration does. */
	e->l[(*e->n)++].value = days > 0 ? (uint64_t)days : 0;
	if (e->first < 0 || days < e->first)
		e->first = days > 0 ? days : 0;
}

struct hf_stat_line *
hf_agent_stat_lines(struct hf_agent *a, size_t *count)
{
	enum { CLUSTER_LINES = 7, PORT_LINES = 9, AGENT_LINES = 32 + HF_XDS_CNT__N,
	       CERT_LINES = 257 };
	struct hf_counters sum = {0};
	size_t cap = HF_CNT__MAX + AGENT_LINES + CERT_LINES + LOOP_LINES +
		     (size_t)a->n_ports * PORT_LINES + HF_RL_MAX_STATS * HF_RL_STAT__N +
		     HF_AUTHZ_SLOTS, n = 0;
	const struct hf_snapshot *snap = hf_snapshot_now;
	struct hf_stat_line *l;

	/* Envoy's cluster.<name>.* circuit-breaker and outlier stats, per snapshot cluster */
	if (snap != NULL)
		cap += (size_t)snap->n_clusters * CLUSTER_LINES;
	l = calloc(cap, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (uint16_t i = 0; i < a->n_workers; i++)
		hf_counters_add(&sum, &a->workers[i]->cnt);
	for (unsigned int i = 0; i < HF_CNT__MAX; i++) {
		const char *help = hf_counter_help(i);

		snprintf(l[n].name, sizeof(l[n].name), "%s", hf_counter_name(i));
		l[n].help = help;
		/* counters.def marks its gauges in their descriptions */
		l[n].gauge = strncmp(help, "gauge", 5) == 0 || strstr(help, "(gauge)") != NULL;
		l[n++].value = sum.v[i];
	}
#define LINE(g, v, ...)                                                \
	do {                                                           \
		snprintf(l[n].name, sizeof(l[n].name), __VA_ARGS__);   \
		l[n].gauge = (g);                                      \
		l[n++].value = (v);                                    \
	} while (0)
#define GAUGE(v, ...) LINE(true, v, __VA_ARGS__)
#define COUNTER(v, ...) LINE(false, v, __VA_ARGS__)
	GAUGE(a->live, "server.live");
	GAUGE((hf_clock_ms() - a->start_ms) / 1000, "server.uptime");
	GAUGE(a->n_workers, "server.concurrency");
	GAUGE(hf_snapshot_now != NULL ? hf_snapshot_now->version : 0, "control_plane.snapshot_version");
	COUNTER(a->pub.published, "control_plane.snapshots_published");
	GAUGE(a->pub.n_retired, "control_plane.snapshots_awaiting_grace");
	COUNTER(a->config.reloads, "control_plane.config_reloads");
	COUNTER(a->config.rejected, "control_plane.config_rejected");
	GAUGE(a->config.last_build_us, "control_plane.last_build_us");
	GAUGE(a->config.watch.n, "control_plane.watched_files");
	COUNTER(a->config.cert_changes, "control_plane.cert_changes");
	COUNTER(a->config.cert_rejected, "control_plane.cert_rejected");
	COUNTER(a->tickets.rotations, "tls.ticket_key_rotations");
	for (unsigned int i = 0; a->xds != NULL && i < HF_XDS_CNT__N; i++) {
		const char *name;
		uint64_t v = hf_xds_counter(a->xds, (enum hf_xds_counter)i, &name);

		COUNTER(v, "xds.%s", name);
	}
	GAUGE(a->tickets.cur != NULL ? a->tickets.cur->n : 0, "tls.ticket_keys");
	for (uint16_t i = 0; i < a->n_ports; i++) {
		const struct hf_port *p = &a->ports[i];
		struct rte_eth_stats st = {0};
		uint64_t free_mbufs = rte_mempool_avail_count(p->pool);

		rte_eth_stats_get(p->port_id, &st);
		/* Device-level drops: frames lost before any worker saw them. */
		GAUGE(a->link_up[i], "port.%s.link_up", p->name);
		COUNTER(st.ipackets, "port.%s.hw.rx_packets", p->name);
		COUNTER(st.opackets, "port.%s.hw.tx_packets", p->name);
		COUNTER(st.imissed, "port.%s.hw.drop.rx_missed", p->name);
		COUNTER(st.ierrors, "port.%s.hw.drop.rx_errors", p->name);
		COUNTER(st.rx_nombuf, "port.%s.hw.drop.rx_no_mbuf", p->name);
		COUNTER(st.oerrors, "port.%s.hw.drop.tx_errors", p->name);
		GAUGE(p->pool->size, "port.%s.mbufs_total", p->name);
		/* Free: in the pool, or fresh in a worker's stash (hf_mbuf_alloc()), in use by none. */
		for (uint16_t j = 0; j < a->n_workers; j++)
			free_mbufs += __atomic_load_n(&a->workers[j]->stash[i].n, __ATOMIC_RELAXED);
		GAUGE(free_mbufs, "port.%s.mbufs_free", p->name);
	}
	/* Indirect mbufs in use: payload referenced by segments in flight. */
	uint64_t clones_used = 0;

	for (uint16_t i = 0; i < a->n_workers; i++)
		clones_used += hf_tcp_clones_in_use(a->workers[i]);
	GAUGE(clones_used, "tcp.clone_mbufs_in_use");
	GAUGE(hf_tcp_conn_footprint(), "tcp.bytes_per_idle_connection");
	GAUGE(hf_http_conn_footprint(), "http.bytes_per_idle_connection");
	GAUGE(hf_http_stream_footprint(), "http.bytes_per_request_in_flight");
	loop_lines(a, l, &n);
	hf_authz_stat_lines(a->n_workers, l, &n, n + HF_AUTHZ_SLOTS);
	{
		/* Envoy's <stat_prefix>.http_local_rate_limit.*, one set per prefix registered */
		uint64_t rl[HF_RL_MAX_STATS][HF_RL_STAT__N] = {{0}};

		hf_rl_stats_sum(a->n_workers, rl);
		for (unsigned int i = 0; i < hf_rl_stat_count(); i++)
			for (unsigned int k = 0; k < HF_RL_STAT__N; k++)
				COUNTER(rl[i][k], "%s.http_local_rate_limit.%s", hf_rl_stat_name(i),
					hf_rl_stat_suffix(k));
	}
	{
		struct expiry_lines e = {.l = l, .n = &n, .cap = n + CERT_LINES - 1, .first = -1};

		hf_certs_expiry(hf_snapshot_now, &a->config.watch, a->boot->credentials_dir,
				(int64_t)time(NULL), expiry_line, &e);
		if (e.first >= 0)
			GAUGE((uint64_t)e.first, "server.days_until_first_cert_expiring");
	}
	for (unsigned int c = 0; snap != NULL && c < snap->n_clusters; c++) {
		const struct hf_snap_cluster *cl = &snap->clusters[c];
		uint64_t v[HF_HTTP_CB_STAT__N] = {0};

		if (cl->missing)
			continue;
		for (uint16_t i = 0; i < a->n_workers; i++)
			hf_http_cb_stats(a->workers[i], cl->id, v);
		COUNTER(v[HF_HTTP_CB_CX_OVERFLOW], "cluster.%s.upstream_cx_overflow", cl->name);
		COUNTER(v[HF_HTTP_CB_PENDING_OVERFLOW], "cluster.%s.upstream_rq_pending_overflow",
			cl->name);
		COUNTER(v[HF_HTTP_CB_RETRY_OVERFLOW], "cluster.%s.upstream_rq_retry_overflow",
			cl->name);
		COUNTER(v[HF_HTTP_CB_EJECTIONS],
			"cluster.%s.outlier_detection.ejections_enforced_total", cl->name);
		GAUGE(v[HF_HTTP_CB_CX_ACTIVE], "cluster.%s.upstream_cx_active", cl->name);
		GAUGE(v[HF_HTTP_CB_RQ_ACTIVE], "cluster.%s.upstream_rq_active", cl->name);
		GAUGE(v[HF_HTTP_CB_RQ_PENDING_ACTIVE], "cluster.%s.upstream_rq_pending_active",
		      cl->name);
	}
#undef COUNTER
#undef GAUGE
#undef LINE
	qsort(l, n, sizeof(*l), by_name);
	*count = n;
	return l;
}

void
hf_agent_stats(struct hf_agent *a, struct hf_strbuf *out)
{
	size_t n;
	struct hf_stat_line *l = hf_agent_stat_lines(a, &n);

	if (l == NULL) {
		out->failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		hf_strbuf_printf(out, "%s: %" PRIu64 "\n", l[i].name, l[i].value);
	free(l);
}

/* Appends @p v as a JSON string literal (RFC 8259 section 7). */
static void
json_str(struct hf_strbuf *b, const char *v)
{
	hf_strbuf_append(b, "\"", 1);
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '"' || ch == '\\')
			hf_strbuf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			hf_strbuf_printf(b, "\\u%04x", ch);
		else
			hf_strbuf_append(b, v, 1);
	}
	hf_strbuf_append(b, "\"", 1);
}

static void
route_server_info(struct hf_agent *a, struct hf_admin_reply *r)
{
	struct hf_strbuf *b = &r->body;

	r->content_type = "application/json";
	hf_strbuf_printf(b, "{\n \"version\": \"hydrofoil/%s\",\n \"state\": \"%s\",\n"
			 " \"uptime_current_epoch\": \"%" PRIu64 "s\",\n \"node\": {\"id\": ",
			 HF_VERSION, a->live ? "LIVE" : "PRE_INITIALIZING",
			 (hf_clock_ms() - a->start_ms) / 1000);
	json_str(b, a->boot->node_id);
	hf_strbuf_printf(b, ", \"cluster\": ");
	json_str(b, a->boot->node_cluster);
	hf_strbuf_printf(b, "},\n \"command_line_options\": {\"concurrency\": %u, \"config_path\": ",
			 a->n_workers);
	json_str(b, a->boot->path);
	hf_strbuf_printf(b, "}\n}\n");
}

/* What /config_dump and /clusters show: the model of the snapshot serving, and where from. */
static void
dump_in(const struct hf_agent *a, struct hf_dump_in *in)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	memset(in, 0, sizeof(*in));
	in->boot = a->boot;
	in->start_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 -
		       (hf_clock_ms() - a->start_ms);
	in->version = hf_snapshot_now != NULL ? hf_snapshot_now->version : 0;
	in->xds = a->xds;
	in->snap = hf_snapshot_now;
	in->workers = a->workers;
	in->n_workers = a->n_workers;
	/* Until xDS built one, the bootstrap's snapshot serves (hf_config_first). */
	if (a->xds != NULL && a->config.version > 1) {
		in->m = hf_xds_model(a->xds, in->n_static, &in->built_ms);
		return;
	}
	in->m = &a->config.model;
	in->n_static[0] = a->config.n_static_listeners;
	in->n_static[1] = a->config.n_static_route_configs;
	in->n_static[2] = a->config.n_static_clusters;
	in->built_ms = a->config.model_ms;
}

static void
handle(void *ctx, const char *method, const char *path, const char *query,
       struct hf_admin_reply *r)
{
	struct hf_agent *a = ctx;

	/* /stats?filter= is applied by admin.c */
	if (strcmp(path, "/config_dump") == 0 || strcmp(path, "/clusters") == 0) {
		struct hf_dump_in in;

		dump_in(a, &in);
		if (strcmp(path, "/config_dump") == 0)
			hf_config_dump(&in, query, r);
		else
			hf_clusters_dump(&in, query, r);
	} else if (strcmp(path, "/ready") == 0) {
		r->status = a->live ? 200 : 503;
		hf_strbuf_printf(&r->body, "%s\n", a->live ? "LIVE" : "PRE_INITIALIZING");
	} else if (strcmp(path, "/stats") == 0) {
		hf_agent_stats(a, &r->body);
	} else if (strcmp(path, "/stats/prometheus") == 0) {
		r->content_type = "text/plain; version=0.0.4";
		hf_agent_prometheus(a, &r->body);
	} else if (strcmp(path, "/server_info") == 0) {
		route_server_info(a, r);
	} else if (strcmp(path, "/certs") == 0) {
		r->content_type = "application/json";
		hf_certs_json(hf_snapshot_now, &a->config.watch, (int64_t)time(NULL), &r->body);
	} else if (strcmp(path, "/explain") == 0) {
		struct hf_proxy_config pc;

		hf_bootstrap_proxy_config(a->boot, &pc);
		hf_explain(hf_snapshot_now, &pc, query, r);
	} else if (strcmp(path, "/reset_loop_stats") == 0) {
		if (strcmp(method, "POST") != 0) {
			r->status = 405;
			hf_strbuf_printf(&r->body, "use POST\n");
			return;
		}
		/* Each worker starts a new window at its next iteration (worker.h). */
		__atomic_fetch_add(&hf_worker_loop_epoch, 1, __ATOMIC_RELAXED);
		hf_strbuf_printf(&r->body, "OK\n");
	} else if (strcmp(path, "/quitquitquit") == 0) {
		if (strcmp(method, "POST") != 0) {
			r->status = 405;
			hf_strbuf_printf(&r->body, "use POST\n");
			return;
		}
		hf_agent_stop_requested = 1;
		hf_strbuf_printf(&r->body, "OK\n");
	} else if (strcmp(path, "/") == 0 || strcmp(path, "/help") == 0) {
		hf_strbuf_printf(&r->body,
				 "admin commands are:\n"
				 "  /ready: 200 LIVE once every port's link is up, else 503\n"
				 "  /stats: counters, one 'name: value' per line; ?filter=REGEX\n"
				 "  /stats/prometheus: the counters and Istio's metrics, Prometheus format\n"
				 "  /server_info: version, state, uptime, node\n"
				 "  /certs: the certificates served, as JSON (Envoy's)\n"
				 "  /explain?method=&url=&header=name:value: the route a request gets, and why\n"
				 "  /config_dump: the configuration loaded, as Envoy's; ?include_eds,"
				 " ?resource=FIELD, ?name_regex=REGEX\n"
				 "  /clusters: clusters and hosts, Envoy's text lines; ?format=json\n"
				 "  /reset_loop_stats (POST): a new window for the loop gaps\n"
				 "  /quitquitquit (POST): stop the server\n");
	} else {
		r->status = 404;
		hf_strbuf_printf(&r->body, "no admin endpoint %s; see /help\n", path);
	}
}

/* Notices links coming up; each rise tells worker 0 to announce the port. */
static void
watch_links(struct hf_agent *a)
{
	bool all = true;

	for (uint16_t i = 0; i < a->n_ports; i++) {
		bool up = hf_port_link_up(&a->ports[i]);

		if (up && !a->link_up[i])
			/* Pairs with the acquire load in the worker's announce_links(). */
			__atomic_fetch_add(&a->ports[i].link_gen, 1, __ATOMIC_RELEASE);
		a->link_up[i] = up;
		all = all && up;
	}
	if (all && !a->live) {
		a->live = true;
		printf("hydrofoil: LIVE (%u port%s up)\n", a->n_ports, a->n_ports == 1 ? "" : "s");
		fflush(stdout);
	}
}

int
hf_agent_init(struct hf_agent *a, char *err, size_t errlen)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct hf_snapshot *s;
	int rc;

	a->start_ms = hf_clock_ms();
	rc = hf_config_open(&a->config, a->boot, a->n_workers, err, errlen);
	if (rc != 0)
		return rc;
	/* Before the first snapshot: workers make their contexts issue tickets when keys exist. */
	if (hf_tickets_init(&a->tickets, a->boot->tls_session_tickets != 0,
			    a->boot->tls_ticket_rotation_s, a->pub.qsbr, a->start_ms) != 0) {
		snprintf(err, errlen, "tls: no session ticket keys (out of memory or entropy)");
		return -ENOMEM;
	}
	s = hf_config_first(&a->config, err, errlen);
	if (s == NULL)
		return -EINVAL;
	if (hf_snapshot_publish(&a->pub, s) != 0) {
		hf_snapshot_free(s);
		snprintf(err, errlen, "cannot publish the first snapshot");
		return -ENOMEM;
	}
	if (a->boot->access_log[0] != '\0') {
		int rc = hf_access_log_open(&a->alog, a->boot->access_log, err, errlen);

		if (rc != 0)
			return rc;
		for (uint16_t i = 0; i < a->n_workers; i++)
			if (hf_http_log_ring(a->workers[i]) != NULL)
				a->alog.rings[a->alog.n_rings++] = hf_http_log_ring(a->workers[i]);
	}
	if (a->boot->xds.port != 0) {
		a->xds = hf_xds_open(a->boot, a->n_workers, err, errlen);
		if (a->xds == NULL)
			return -ENOMEM;
	}
	a->admin = hf_admin_open(a->boot->admin_address, a->boot->admin_port, handle, a, err, errlen);
	if (a->admin == NULL)
		return -EADDRNOTAVAIL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* How long the agent's loop may sleep (admin requests and signals end the wait early). */
static int
wait_ms(const struct hf_agent *a)
{
	/* Short waits while records or configuration changes may be coming. */
	if (a->alog.f != NULL || a->config.inotify_fd >= 0 || a->xds != NULL ||
	    a->config.watch.fd >= 0)
		return LOG_LOOP_MS;
	if (!a->live || a->config.pending || a->pub.n_retired > 0)
		return LOOP_MS;
	for (uint16_t i = 0; i < a->n_ports; i++)
		if (!a->link_up[i])
			return LOOP_MS;
	return IDLE_LOOP_MS;
}

int
hf_agent_run(struct hf_agent *a)
{
	while (!hf_agent_stop_requested) {
		struct hf_snapshot *s;

		watch_links(a);
		if (hf_agent_reload_requested) {
			hf_agent_reload_requested = 0;
			if (a->xds != NULL)
				hf_xds_request_rebuild(a->xds);
			else
				hf_config_request_reload(&a->config, hf_clock_ms());
		}
		/* With an xds block, the xDS client is the source (the Istio directory is refused). */
		if (a->xds != NULL)
			s = hf_xds_poll(a->xds, hf_clock_ms(), &a->config.version);
		else
			s = hf_config_poll(&a->config, hf_clock_ms());
		if (s != NULL && hf_snapshot_publish(&a->pub, s) != 0) {
			/* Too many still in their grace period: try this one again shortly. */
			hf_snapshot_free(s);
			if (a->xds != NULL)
				hf_xds_request_rebuild(a->xds);
			else
				hf_config_request_reload(&a->config, hf_clock_ms() + 10);
		}
		hf_snapshot_reclaim(&a->pub, false);
		hf_tickets_poll(&a->tickets, hf_clock_ms());
		hf_access_log_drain(&a->alog);
		hf_admin_poll(a->admin, wait_ms(a));
	}
	return 0;
}

void
hf_agent_fini(struct hf_agent *a)
{
	hf_access_log_close(&a->alog);
	hf_admin_close(a->admin);
	a->admin = NULL;
	hf_config_close(&a->config);
	hf_xds_close(a->xds);
	a->xds = NULL;
	hf_snapshot_reclaim(&a->pub, true);
	hf_tickets_fini(&a->tickets);
	hf_snapshot_free(hf_snapshot_now);
	__atomic_store_n(&hf_snapshot_now, NULL, __ATOMIC_RELEASE);
}
