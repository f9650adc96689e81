/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootstrap file (libconfig). Its keys, every one optional unless noted:
 *
 *   node:   { id; cluster; labels = [ "key=value", ... ]; namespace; }
 *   dpdk:   { lcores = "0-1" (-l) or "0@0,(1-2)@1" (--lcores); args = [ EAL options ]; }
 *   ports = ( { name; device; address = "a.b.c.d/len"; gateway; mtu;
 *               impair = { loss; duplicate; reorder; delay_us; seed; }; } )      required
 *   workers = N;
 *   admin:  { address; port; }
 *   tcp:    { max_connections; rcv_buf; snd_buf; syn_backlog; time_wait_ms;
 *             fin_wait_2_ms; delack_ms; keepalive_idle_ms; keepalive_intvl_ms;
 *             keepalive_probes; syn_retries; congestion = "cubic" | "newreno"; }
 *   http:   { max_requests;      exchanges in flight per worker (default max_connections / 4)
 *             path_normalization = "BASE" | "DEFAULT" | "NONE" | "MERGE_SLASHES" |
 *                                  "DECODE_AND_MERGE_SLASHES";     Istio's meshConfig, every listener
 *             drain_timeout_ms;    a removed listener's connections reset after it (600000)
 *             xff_num_trusted_hops;  proxies in front trusted in x-forwarded-for (0)
 *             forward_client_cert = "SANITIZE_SET" | "SANITIZE"; }  x-forwarded-client-cert
 *   static_resources: {
 *     listeners = ( { name; port; filter = "echo" | "discard" | "tcp_proxy" | "http"; cluster;
 *                     (http:) request_headers_timeout_ms; idle_timeout_ms; max_request_headers_kb;
 *                     max_headers_count; max_request_line;
 *                     route_config = { virtual_hosts = ( { name; domains = [ ... ];
 *                       routes = ( { name; match = { prefix | path; };
 *                                    route = { cluster; timeout_ms; max_request_bytes; };
 *                                  } ); } ); }; } );
 *     clusters = ( { name; connect_timeout_ms; endpoints = [ "a.b.c.d:port" ]; } ); }
 *   access_log = "FILE";
 *   overload: { enabled; window_ms; queue_delay_us; refuse_connections | disable_keepalive |
 *               shed_requests = { backlog | mbufs | connections | streams | queue_delay =
 *               [ scaling, saturation ]; }; }
 *   metrics: { enabled; max_series; }  Istio's metrics (on): HTTP series per worker (1024)
 *
 * Everything is checked before anything starts: a typo in a key is refused
 * with its line rather than ignored, as Envoy refuses unknown fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <rte_config.h>

#include "control-agent/bootstrap.h"
#include "control-agent/bootstrap-int.h"
#include "control-agent/cfg.h"
#include "dataplane/net/addr.h"
#include "dataplane/overload.h"
#include "dataplane/worker-t.h"
#include "tls/tls.h"

/* CPU ids EAL can pin a thread to: glibc's CPU_SETSIZE, which EAL's parser bounds them by. */
#define MAX_CPUS 1024

/*
 * One member of a core set: a number below @p max or a range "a-b" with
 * a <= b < max. Returns the text after it, NULL when it is not one.
 */
static const char *
core_range(const char *p, long max, long *a, long *b)
{
	char *end;

	if (*p < '0' || *p > '9')
		return NULL;
	*a = strtol(p, &end, 10);
	if (*a >= max)
		return NULL;
	*b = *a;
	if (*end == '-') {
		p = end + 1;
		if (*p < '0' || *p > '9')
			return NULL;
		*b = strtol(p, &end, 10);
		if (*b < *a || *b >= max)
			return NULL;
	}
	return end;
}

/*
 * One core set of DPDK's --lcores grammar: a member (core_range()) or a
 * parenthesised, comma-separated list of members. With @p seen, the members
 * are lcore ids: each is counted in @p count, and one named twice makes the
 * set invalid (EAL would start one thread where the count says two). Returns
 * the text after the set, NULL when it is not one.
 */
static const char *
core_set(const char *p, long max, bool *seen, int *count)
{
	bool group = *p == '(';
	long a, b;

	if (group)
		p++;
	for (;;) {
		p = core_range(p, max, &a, &b);
		if (p == NULL)
			return NULL;
		for (long i = a; seen != NULL && i <= b; i++) {
			if (seen[i])
				return NULL;
			seen[i] = true;
			(*count)++;
		}
		if (!group || *p != ',')
			break;
		p++;
	}
	if (group && *p++ != ')')
		return NULL;
	return p;
}

int
hf_bootstrap_count_lcores(const char *list)
{
	bool seen[RTE_MAX_LCORE] = {false};
	const char *p = list;
	int count = 0;

	/* Elements "LCORES[@CPUS]", comma-separated; a plain -l list is the case without '@'. */
	do {
		p = core_set(p, RTE_MAX_LCORE, seen, &count);
		if (p != NULL && *p == '@')
			p = core_set(p + 1, MAX_CPUS, NULL, NULL);
		if (p == NULL)
			return -1;
	} while (*p++ == ',');
	return p[-1] == '\0' && count > 0 ? count : -1;
}

/* A Kubernetes namespace name: an RFC 1123 label. */
static bool
k8s_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int
load_node(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"id", "cluster", "labels", "namespace", NULL};
	int rc = 0, n;
	const config_setting_t *g = hf_cfg_member(c, root, "", "node", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "node", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "node", "id", b->node_id, sizeof(b->node_id), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "node", "cluster", b->node_cluster, sizeof(b->node_cluster), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "node", "namespace", b->node_ns, sizeof(b->node_ns), 0)) != 0)
		return rc;
	if (b->node_ns[0] != '\0' && !k8s_name(b->node_ns))
		return hf_cfg_fail(c, config_setting_get_member(g, "namespace"), "node.namespace",
				   "'%s' is not a namespace (a-z, 0-9 and '-', at most 63)", b->node_ns);
	n = hf_cfg_get_strings(c, g, "node", "labels", &b->labels[0][0], HF_BOOT_STR, HF_BOOT_MAX_LABELS);
	if (n < 0)
		return n;
	b->n_labels = (unsigned int)n;
	for (unsigned int i = 0; i < b->n_labels; i++) {
		const char *eq = strchr(b->labels[i], '=');

		if (eq == NULL || eq == b->labels[i])
			return hf_cfg_fail(c, config_setting_get_member(g, "labels"), "node.labels",
				    "'%s' is not of the form key=value", b->labels[i]);
	}
	return 0;
}

static int
load_dpdk(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"lcores", "args", NULL};
	int rc = 0, n;
	const config_setting_t *g = hf_cfg_member(c, root, "", "dpdk", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "dpdk", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "dpdk", "lcores", b->lcores, sizeof(b->lcores), 0)) != 0)
		return rc;
	n = hf_cfg_get_strings(c, g, "dpdk", "args", &b->eal_args[0][0], HF_BOOT_DEVICE, HF_BOOT_MAX_ARGS);
	if (n < 0)
		return n;
	b->n_eal_args = (unsigned int)n;
	return 0;
}

static int
load_impair(struct hf_cfg *c, const config_setting_t *port, const char *pwhere,
	    struct hf_impair_cfg *im)
{
	static const char *const keys[] = {"loss", "duplicate", "reorder", "delay_us", "seed", NULL};
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, port, pwhere, "impair", CONFIG_TYPE_GROUP, 0, &rc);
	long long delay = 0, seed = 1;
	char where[48];

	if (g == NULL)
		return rc;
	snprintf(where, sizeof(where), "%s.impair", pwhere);
	if ((rc = hf_cfg_check_keys(c, g, where, keys)) != 0 ||
	    (rc = hf_cfg_get_prob(c, g, where, "loss", &im->loss)) != 0 ||
	    (rc = hf_cfg_get_prob(c, g, where, "duplicate", &im->duplicate)) != 0 ||
	    (rc = hf_cfg_get_prob(c, g, where, "reorder", &im->reorder)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "delay_us", 0, 1000000, &delay, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, where, "seed", 0, INT64_MAX, &seed, 0)) != 0)
		return rc;
	im->delay_us = (uint32_t)delay;
	im->seed = (uint64_t)seed;
	im->enabled = im->loss > 0 || im->duplicate > 0 || im->reorder > 0 || im->delay_us > 0;
	return 0;
}

static int
load_port(struct hf_cfg *c, const config_setting_t *s, unsigned int i, struct hf_port_config *p)
{
	static const char *const keys[] = {"name", "device", "address", "gateway", "mtu", "impair",
					   "rx_descriptors", "tx_descriptors", NULL};
	char where[32], addr[HF_BOOT_STR] = "", gw[HF_BOOT_STR] = "";
	long long mtu = 1500, rxd = HF_PORT_DESCRIPTORS, txd = HF_PORT_DESCRIPTORS;
	int rc;

	snprintf(where, sizeof(where), "ports.[%u]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, s, where, "must be a group { }, not %s",
			    hf_cfg_type_name(config_setting_type(s)));
	if ((rc = hf_cfg_check_keys(c, s, where, keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "name", p->name, sizeof(p->name), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "device", p->device, sizeof(p->device), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "address", addr, sizeof(addr), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "gateway", gw, sizeof(gw), 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "mtu", 68, 9000, &mtu, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "rx_descriptors", 64, 32768, &rxd, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "tx_descriptors", 64, 32768, &txd, 0)) != 0 ||
	    (rc = load_impair(c, s, where, &p->impair)) != 0)
		return rc;
	p->mtu = (uint16_t)mtu;
	p->rx_descriptors = (uint16_t)rxd;
	p->tx_descriptors = (uint16_t)txd;
	if (hf_addr_parse_ipv4(addr, &p->addr, &p->prefix_len) != 0 || p->prefix_len > 30)
		return hf_cfg_fail(c, config_setting_get_member(s, "address"), where,
			    "address '%s' is not an IPv4 prefix a.b.c.d/len with len 1..30", addr);
	if (gw[0] != '\0') {
		uint32_t mask = htonl(~0u << (32 - p->prefix_len));

		if (hf_addr_parse_ipv4(gw, &p->gateway, NULL) != 0)
			return hf_cfg_fail(c, config_setting_get_member(s, "gateway"), where,
				    "gateway '%s' is not an IPv4 address", gw);
		if ((p->gateway & mask) != (p->addr & mask) || p->gateway == p->addr)
			return hf_cfg_fail(c, config_setting_get_member(s, "gateway"), where,
				    "gateway %s is not another host of %s", gw, addr);
	}
	return 0;
}

static int
load_ports(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	int rc = 0;
	const config_setting_t *l = hf_cfg_member(c, root, "", "ports", CONFIG_TYPE_LIST, 1, &rc);
	int n;

	if (l == NULL)
		return rc;
	n = config_setting_length(l);
	if (n == 0 || n > HF_MAX_PORTS)
		return hf_cfg_fail(c, l, "ports", "%d ports given, 1..%d allowed", n, HF_MAX_PORTS);
	for (int i = 0; i < n; i++) {
		if ((rc = load_port(c, config_setting_get_elem(l, i), (unsigned int)i, &b->ports[i])) != 0)
			return rc;
		for (int j = 0; j < i; j++)
			if (strcmp(b->ports[i].name, b->ports[j].name) == 0)
				return hf_cfg_fail(c, config_setting_get_elem(l, i), "ports",
					    "port name '%s' used twice", b->ports[i].name);
	}
	b->n_ports = (unsigned int)n;
	return 0;
}

static int
load_admin(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"address", "port", NULL};
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "admin", CONFIG_TYPE_GROUP, 0, &rc);
	long long port = b->admin_port;
	uint32_t a;

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "admin", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "admin", "address", b->admin_address,
			     sizeof(b->admin_address), 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "admin", "port", 1, 65535, &port, 0)) != 0)
		return rc;
	if (hf_addr_parse_ipv4(b->admin_address, &a, NULL) != 0)
		return hf_cfg_fail(c, config_setting_get_member(g, "address"), "admin.address",
			    "'%s' is not an IPv4 address", b->admin_address);
	b->admin_port = (uint16_t)port;
	return 0;
}

static int
load_tcp(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"max_connections", "rcv_buf", "snd_buf", "syn_backlog",
					   "time_wait_ms", "fin_wait_2_ms", "delack_ms",
					   "keepalive_idle_ms", "keepalive_intvl_ms",
					   "keepalive_probes", "syn_retries", "congestion", NULL};
	struct hf_tcp_config *t = &b->tcp;
	long long maxc = t->max_connections, rcv = t->rcv_buf, snd = t->snd_high;
	long long backlog = t->syn_backlog, tw = t->time_wait_ms, fw2 = t->fin_wait_2_ms;
	long long delack = t->delack_ms, ka = t->keepalive_idle_ms, kai = t->keepalive_intvl_ms;
	long long kap = t->keepalive_probes, synr = t->syn_retries;
	char cc[HF_BOOT_STR] = "";
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "tcp", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "tcp", keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "max_connections", 16, 4 << 20, &maxc, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "rcv_buf", 4096, 64 << 20, &rcv, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "snd_buf", 4096, 64 << 20, &snd, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "syn_backlog", 1, 1 << 20, &backlog, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "time_wait_ms", 1, 240000, &tw, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "fin_wait_2_ms", 1, 3600000, &fw2, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "delack_ms", 1, 500, &delack, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "keepalive_idle_ms", 0, 86400000, &ka, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "keepalive_intvl_ms", 1, 3600000, &kai, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "keepalive_probes", 1, 127, &kap, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tcp", "syn_retries", 1, 127, &synr, 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "tcp", "congestion", cc, sizeof(cc), 0)) != 0)
		return rc;
	if (cc[0] != '\0') {
		if (strcmp(cc, "cubic") == 0)
			t->cc_algo = HF_TCP_CC_CUBIC;
		else if (strcmp(cc, "newreno") == 0)
			t->cc_algo = HF_TCP_CC_NEWRENO;
		else
			return hf_cfg_fail(c, config_setting_get_member(g, "congestion"), "tcp.congestion",
				    "'%s' is not one of cubic, newreno", cc);
	}
	t->max_connections = (uint32_t)maxc;
	t->rcv_buf = (uint32_t)rcv;
	t->snd_high = (uint32_t)snd;
	t->snd_low = (uint32_t)snd / 2;
	t->syn_backlog = (uint32_t)backlog;
	t->time_wait_ms = (uint32_t)tw;
	t->fin_wait_2_ms = (uint32_t)fw2;
	t->delack_ms = (uint32_t)delack;
	t->keepalive_idle_ms = (uint32_t)ka;
	t->keepalive_intvl_ms = (uint32_t)kai;
	t->keepalive_probes = (uint32_t)kap;
	t->syn_retries = (uint32_t)synr;
	return 0;
}

/*
 * http.max_requests: the worker's pool of exchanges in flight. An idle
 * keep-alive connection holds none, so it is sized apart from the sessions.
 * http.path_normalization: Istio's meshConfig.pathNormalization, mesh-wide
 * there, so here one choice for every HTTP listener (see dataplane/http/path.h).
 * http.drain_timeout_ms: Envoy's --drain-time-s, for every listener (HTTP and
 * TCP) a configuration removes.
 * http.xff_num_trusted_hops: Envoy's xff_num_trusted_hops (Istio's
 * gatewayTopology.numTrustedProxies): the proxies in front whose
 * x-forwarded-for entries are believed; AuthorizationPolicy's remote.ip and
 * remoteIpBlocks read the client address there.
 * http.forward_client_cert: Envoy's forward_client_cert_details (Istio's
 * gatewayTopology.forwardClientCertDetails), SANITIZE_SET by default as on
 * Istio's gateways, for every HTTP listener.
 */
static int
load_http_pools(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"max_requests", "path_normalization", "drain_timeout_ms",
					   "xff_num_trusted_hops", "forward_client_cert", NULL};
	long long maxr = 0, drain = HF_DRAIN_TIMEOUT_DEFAULT_MS, hops = 0;
	char norm[HF_BOOT_STR] = "", fcc[HF_BOOT_STR] = "";
	int rc = 0, mode;
	const config_setting_t *g = hf_cfg_member(c, root, "", "http", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "http", keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "http", "max_requests", 16, 4 << 20, &maxr, 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "http", "path_normalization", norm, sizeof(norm), 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "http", "drain_timeout_ms", 1, 86400000, &drain,
				 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "http", "xff_num_trusted_hops", 0, 64, &hops, 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "http", "forward_client_cert", fcc, sizeof(fcc), 0)) != 0)
		return rc;
	b->http_xff_trusted_hops = (uint32_t)hops;
	if (strcmp(fcc, "SANITIZE") == 0)
		b->http_xfcc_sanitize_only = true;
	else if (fcc[0] != '\0' && strcmp(fcc, "SANITIZE_SET") != 0)
		return hf_cfg_fail(c, config_setting_get_member(g, "forward_client_cert"),
				   "http.forward_client_cert",
				   "'%s' is not one of SANITIZE_SET, SANITIZE (Envoy's FORWARD_ONLY, "
				   "APPEND_FORWARD and ALWAYS_FORWARD_ONLY would pass on what a client "
				   "claims)", fcc);
	b->http_max_requests = (uint32_t)maxr;
	b->http_drain_timeout_ms = (uint32_t)drain;
	if (norm[0] != '\0') {
		mode = hf_path_mode_parse(norm);
		if (mode < 0)
			return hf_cfg_fail(c, config_setting_get_member(g, "path_normalization"),
				    "http.path_normalization",
				    "'%s' is not one of NONE, BASE, DEFAULT, MERGE_SLASHES, "
				    "DECODE_AND_MERGE_SLASHES", norm);
		b->http_path_normalization = (enum hf_path_mode)mode;
	}
	return 0;
}

static int
load_cluster(struct hf_cfg *c, const config_setting_t *s, unsigned int i, struct hf_boot_cluster *cl)
{
	static const char *const keys[] = {"name", "connect_timeout_ms", "endpoints", NULL};
	char where[48];
	long long timeout = 1000;
	int rc, n;
	char eps[HF_BOOT_MAX_ENDPOINTS][HF_BOOT_STR];

	snprintf(where, sizeof(where), "static_resources.clusters.[%u]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, s, where, "must be a group { }");
	if ((rc = hf_cfg_check_keys(c, s, where, keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "name", cl->name, sizeof(cl->name), 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "connect_timeout_ms", 1, 600000, &timeout, 0)) != 0)
		return rc;
	cl->connect_timeout_ms = (uint32_t)timeout;
	n = hf_cfg_get_strings(c, s, where, "endpoints", &eps[0][0], HF_BOOT_STR, HF_BOOT_MAX_ENDPOINTS);
	if (n < 0)
		return n;
	if (n == 0)
		return hf_cfg_fail(c, s, where, "cluster '%s' needs at least one endpoint", cl->name);
	for (int k = 0; k < n; k++)
		if (hf_addr_parse_endpoint(eps[k], &cl->endpoints[k].addr, &cl->endpoints[k].port) != 0)
			return hf_cfg_fail(c, config_setting_get_member(s, "endpoints"), where,
				    "endpoint '%s' is not a.b.c.d:port", eps[k]);
	cl->n_endpoints = (unsigned int)n;
	return 0;
}

/* Index of the cluster named @p name, or -1. */
static int
find_cluster(const struct hf_bootstrap *b, const char *name)
{
	for (unsigned int k = 0; k < b->n_clusters; k++)
		if (strcmp(b->clusters[k].name, name) == 0)
			return (int)k;
	return -1;
}

/* One route: match = { prefix | path }; route = { cluster; timeout_ms; max_request_bytes; } */
static int
load_route(struct hf_cfg *c, const config_setting_t *s, const char *where, struct hf_bootstrap *b,
	   struct hf_boot_route *r)
{
	static const char *const keys[] = {"name", "match", "route", NULL};
	static const char *const match_keys[] = {"prefix", "path", NULL};
	static const char *const route_keys[] = {"cluster", "timeout_ms", "max_request_bytes", NULL};
	char mwhere[2 * HF_BOOT_STR], rwhere[2 * HF_BOOT_STR], prefix[HF_ROUTER_PATH] = "";
	char path[HF_ROUTER_PATH] = "", cluster[HF_BOOT_NAME] = "";
	const config_setting_t *m, *a;
	long long timeout = 15000, max_body = 0;
	int rc = 0;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, s, where, "must be a group { }");
	snprintf(mwhere, sizeof(mwhere), "%s.match", where);
	snprintf(rwhere, sizeof(rwhere), "%s.route", where);
	if ((rc = hf_cfg_check_keys(c, s, where, keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "name", r->name, sizeof(r->name), 0)) != 0)
		return rc;
	m = hf_cfg_member(c, s, where, "match", CONFIG_TYPE_GROUP, 1, &rc);
	if (m == NULL)
		return rc;
	a = hf_cfg_member(c, s, where, "route", CONFIG_TYPE_GROUP, 1, &rc);
	if (a == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, m, mwhere, match_keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, m, mwhere, "prefix", prefix, sizeof(prefix), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, m, mwhere, "path", path, sizeof(path), 0)) != 0 ||
	    (rc = hf_cfg_check_keys(c, a, rwhere, route_keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, a, rwhere, "cluster", cluster, sizeof(cluster), 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, a, rwhere, "timeout_ms", 0, 86400000, &timeout, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, a, rwhere, "max_request_bytes", 0, INT64_MAX, &max_body, 0)) != 0)
		return rc;
	if ((prefix[0] != '\0') == (path[0] != '\0'))
		return hf_cfg_fail(c, m, mwhere, "needs exactly one of prefix, path");
	r->match = prefix[0] != '\0' ? HF_ROUTE_PREFIX : HF_ROUTE_EXACT;
	snprintf(r->path, sizeof(r->path), "%s", prefix[0] != '\0' ? prefix : path);
	if (r->path[0] != '/')
		return hf_cfg_fail(c, m, mwhere, "'%s' must start with '/'", r->path);
	r->cluster = find_cluster(b, cluster);
	if (r->cluster < 0)
		return hf_cfg_fail(c, config_setting_get_member(a, "cluster"), rwhere,
			    "no cluster named '%s' in static_resources.clusters", cluster);
	r->timeout_ms = (uint32_t)timeout;
	r->max_request_bytes = (uint64_t)max_body;
	return 0;
}

/* One virtual host: { name; domains = [ ... ]; routes = ( ... ); } */
static int
load_vhost(struct hf_cfg *c, const config_setting_t *s, const char *where, struct hf_bootstrap *b,
	   struct hf_boot_vhost *v)
{
	static const char *const keys[] = {"name", "domains", "routes", NULL};
	char rwhere[HF_BOOT_STR];
	const config_setting_t *l;
	int rc = 0, n;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, s, where, "must be a group { }");
	if ((rc = hf_cfg_check_keys(c, s, where, keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "name", v->name, sizeof(v->name), 1)) != 0)
		return rc;
	n = hf_cfg_get_strings(c, s, where, "domains", &v->domains[0][0], HF_ROUTER_DOMAIN,
			HF_ROUTER_MAX_DOMAINS);
	if (n < 0)
		return n;
	if (n == 0)
		return hf_cfg_fail(c, s, where, "virtual host '%s' needs at least one domain", v->name);
	v->n_domains = (unsigned int)n;
	for (unsigned int d = 0; d < v->n_domains; d++) {
		for (char *p = v->domains[d]; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		if (hf_router_domain_valid(v->domains[d]) != 0)
			return hf_cfg_fail(c, config_setting_get_member(s, "domains"), where,
				    "domain '%s': a wildcard '*' may only stand alone or at one end, "
				    "the name be at most %d characters, then maybe ':port'",
				    v->domains[d], HF_ROUTER_HOST_MAX);
	}
	l = hf_cfg_member(c, s, where, "routes", CONFIG_TYPE_LIST, 1, &rc);
	if (l == NULL)
		return rc;
	n = config_setting_length(l);
	if (b->n_routes + (unsigned int)n > HF_BOOT_MAX_ROUTES)
		return hf_cfg_fail(c, l, where, "more than %d routes in all", HF_BOOT_MAX_ROUTES);
	v->routes = &b->routes[b->n_routes];
	for (int i = 0; i < n; i++) {
		snprintf(rwhere, sizeof(rwhere), "%s.routes.[%d]", where, i);
		rc = load_route(c, config_setting_get_elem(l, i), rwhere, b, &b->routes[b->n_routes]);
		if (rc != 0)
			return rc;
		b->n_routes++;
		v->n_routes++;
	}
	return 0;
}

/*
 * The HTTP connection manager's limits and timeouts (also config's and xds's,
 * for the listeners the configuration opens).
 */
int
hf_boot_load_http_settings(struct hf_cfg *c, const config_setting_t *s, const char *where,
		   struct hf_http_listener_config *h)
{
	long long hto = 10000, ito = 60000, kb = 60, count = 100, line = 8192;
	int rc = 0;

	if ((rc = hf_cfg_get_int(c, s, where, "request_headers_timeout_ms", 0, 3600000, &hto, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "idle_timeout_ms", 0, 86400000, &ito, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "max_request_headers_kb", 1, 96, &kb, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "max_headers_count", 1, HF_H1_MAX_HEADERS_CAP, &count, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "max_request_line", 64, 65536, &line, 0)) != 0)
		return rc;
	hf_h1_limits_default(&h->limits);
	h->limits.max_head = (uint32_t)kb * 1024;
	h->limits.max_headers = (uint32_t)count;
	h->limits.max_request_line = (uint32_t)line;
	h->request_headers_timeout_ms = (uint32_t)hto;
	h->idle_timeout_ms = (uint32_t)ito;
	return 0;
}

/* The HTTP connection manager's settings and route_config = { virtual_hosts = ( ... ); } */
static int
load_http(struct hf_cfg *c, const config_setting_t *s, const char *where, struct hf_bootstrap *b,
	  struct hf_listener_config *l, struct hf_boot_route_config *h)
{
	const config_setting_t *rc_set, *vl;
	char rwhere[64], vwhere[96];
	int rc = 0, n;

	if ((rc = hf_boot_load_http_settings(c, s, where, &l->http)) != 0)
		return rc;
	snprintf(rwhere, sizeof(rwhere), "%s.route_config", where);
	rc_set = hf_cfg_member(c, s, where, "route_config", CONFIG_TYPE_GROUP, 1, &rc);
	if (rc_set == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, rc_set, rwhere, (const char *const[]){"virtual_hosts", NULL})) != 0)
		return rc;
	vl = hf_cfg_member(c, rc_set, rwhere, "virtual_hosts", CONFIG_TYPE_LIST, 1, &rc);
	if (vl == NULL)
		return rc;
	n = config_setting_length(vl);
	if (b->n_vhosts + (unsigned int)n > HF_BOOT_MAX_VHOSTS)
		return hf_cfg_fail(c, vl, rwhere, "more than %d virtual hosts in all", HF_BOOT_MAX_VHOSTS);
	h->first_vhost = b->n_vhosts;
	for (int i = 0; i < n; i++) {
		snprintf(vwhere, sizeof(vwhere), "%s.virtual_hosts.[%d]", rwhere, i);
		rc = load_vhost(c, config_setting_get_elem(vl, i), vwhere, b, &b->vhosts[b->n_vhosts]);
		if (rc != 0)
			return rc;
		b->n_vhosts++;
		h->n_vhosts++;
	}
	return 0;
}

static int
load_listener(struct hf_cfg *c, const config_setting_t *s, unsigned int i, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"name", "port", "filter", "cluster", "route_config",
					   "request_headers_timeout_ms", "idle_timeout_ms",
					   "max_request_headers_kb", "max_headers_count",
					   "max_request_line", NULL};
	static const char *const http_only[] = {"route_config", "request_headers_timeout_ms",
						"idle_timeout_ms", "max_request_headers_kb",
						"max_headers_count", "max_request_line", NULL};
	struct hf_listener_config *l = &b->listeners[i];
	char where[48], filter[HF_BOOT_STR] = "", cluster[HF_BOOT_NAME] = "";
	long long port = 0;
	int rc;

	snprintf(where, sizeof(where), "static_resources.listeners.[%u]", i);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hf_cfg_fail(c, s, where, "must be a group { }");
	if ((rc = hf_cfg_check_keys(c, s, where, keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "name", l->name, sizeof(l->name), 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, s, where, "port", 1, 65535, &port, 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "filter", filter, sizeof(filter), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, s, where, "cluster", cluster, sizeof(cluster), 0)) != 0)
		return rc;
	l->port = (uint16_t)port;
	l->cluster = -1;
	if (strcmp(filter, "echo") == 0)
		l->filter = HF_FILTER_ECHO;
	else if (strcmp(filter, "discard") == 0)
		l->filter = HF_FILTER_DISCARD;
	else if (strcmp(filter, "tcp_proxy") == 0)
		l->filter = HF_FILTER_TCP_PROXY;
	else if (strcmp(filter, "http") == 0)
		l->filter = HF_FILTER_HTTP;
	else
		return hf_cfg_fail(c, config_setting_get_member(s, "filter"), where,
			    "filter '%s' is not one of echo, discard, tcp_proxy, http", filter);
	if (l->filter == HF_FILTER_TCP_PROXY && cluster[0] == '\0')
		return hf_cfg_fail(c, s, where, "tcp_proxy listener '%s' needs a cluster", l->name);
	if (l->filter != HF_FILTER_TCP_PROXY && cluster[0] != '\0')
		return hf_cfg_fail(c, config_setting_get_member(s, "cluster"), where,
			    "a %s listener takes no cluster%s", filter,
			    l->filter == HF_FILTER_HTTP ? " (its routes name clusters)" : "");
	if (cluster[0] != '\0') {
		l->cluster = find_cluster(b, cluster);
		if (l->cluster < 0)
			return hf_cfg_fail(c, config_setting_get_member(s, "cluster"), where,
				    "no cluster named '%s' in static_resources.clusters", cluster);
	}
	if (l->filter == HF_FILTER_HTTP) {
		if ((rc = load_http(c, s, where, b, l, &b->route_configs[i])) != 0)
			return rc;
	} else {
		for (const char *const *k = http_only; *k != NULL; k++)
			if (config_setting_get_member(s, *k) != NULL)
				return hf_cfg_fail(c, config_setting_get_member(s, *k), where,
					    "%s is for http listeners, not %s", *k, filter);
	}
	for (unsigned int k = 0; k < i; k++)
		if (b->listeners[k].port == l->port || strcmp(b->listeners[k].name, l->name) == 0)
			return hf_cfg_fail(c, s, where, "listener '%s' (port %u) clashes with '%s' (port %u)",
				    l->name, l->port, b->listeners[k].name, b->listeners[k].port);
	return 0;
}

static int
load_static_resources(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"listeners", "clusters", NULL};
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "static_resources", CONFIG_TYPE_GROUP, 0, &rc);
	const config_setting_t *l;
	int n;

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "static_resources", keys)) != 0)
		return rc;
	/* Clusters first: listeners refer to them by name. */
	l = hf_cfg_member(c, g, "static_resources", "clusters", CONFIG_TYPE_LIST, 0, &rc);
	if (rc != 0)
		return rc;
	n = l != NULL ? config_setting_length(l) : 0;
	if (n > HF_BOOT_MAX_CLUSTERS)
		return hf_cfg_fail(c, l, "static_resources.clusters", "%d clusters, at most %d", n,
			    HF_BOOT_MAX_CLUSTERS);
	for (int i = 0; i < n; i++) {
		if ((rc = load_cluster(c, config_setting_get_elem(l, i), (unsigned int)i,
				       &b->clusters[i])) != 0)
			return rc;
		for (int k = 0; k < i; k++)
			if (strcmp(b->clusters[k].name, b->clusters[i].name) == 0)
				return hf_cfg_fail(c, config_setting_get_elem(l, i), "static_resources.clusters",
					    "cluster name '%s' used twice", b->clusters[i].name);
		b->n_clusters = (unsigned int)i + 1;
	}
	l = hf_cfg_member(c, g, "static_resources", "listeners", CONFIG_TYPE_LIST, 0, &rc);
	if (rc != 0)
		return rc;
	n = l != NULL ? config_setting_length(l) : 0;
	if (n > HF_BOOT_MAX_LISTENERS)
		return hf_cfg_fail(c, l, "static_resources.listeners", "%d listeners, at most %d", n,
			    HF_BOOT_MAX_LISTENERS);
	for (int i = 0; i < n; i++) {
		if ((rc = load_listener(c, config_setting_get_elem(l, i), (unsigned int)i, b)) != 0)
			return rc;
		b->n_listeners = (unsigned int)i + 1;
	}
	return 0;
}

/*
 * config: { istio_dir = "DIR"; credentials_dir = "DIR"; request_headers_timeout_ms; idle_timeout_ms;
 *           max_request_headers_kb; max_headers_count; max_request_line; root_namespace; }
 * The directory's Gateways become listeners with these settings. root_namespace is
 * meshConfig.rootNamespace (istio-system): its AuthorizationPolicies apply mesh-wide.
 */
static int
load_config(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"istio_dir", "credentials_dir", "request_headers_timeout_ms",
					   "idle_timeout_ms", "max_request_headers_kb",
					   "max_headers_count", "max_request_line", "root_namespace",
					   NULL};
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "config", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "config", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "config", "istio_dir", b->istio_dir, sizeof(b->istio_dir), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "config", "credentials_dir", b->credentials_dir,
				    sizeof(b->credentials_dir), 0)) != 0 ||
	    (rc = hf_boot_load_http_settings(c, g, "config", &b->istio_http)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "config", "root_namespace", b->root_ns,
				    sizeof(b->root_ns), 0)) != 0)
		return rc;
	if (b->root_ns[0] != '\0' && !k8s_name(b->root_ns))
		return hf_cfg_fail(c, config_setting_get_member(g, "root_namespace"),
				   "config.root_namespace", "'%s' is not a namespace (a-z, 0-9 and "
				   "'-', at most 63)", b->root_ns);
	return 0;
}

/* A float or an integer setting as a double; false for anything else. */
static bool
number(const config_setting_t *s, double *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: *v = config_setting_get_float(s); return true;
	case CONFIG_TYPE_INT: *v = config_setting_get_int(s); return true;
	default: return false;
	}
}

/*
 * overload = { enabled; window_ms; queue_delay_us; ACTION = { MONITOR = [scaling, saturation]; ... }; }
 * (dataplane/overload.h). An action's group replaces that action's default
 * triggers: "shed_requests = {};" turns it off. enabled = false turns all off.
 */
static int
load_overload(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"enabled", "window_ms", "queue_delay_us",
					   "refuse_connections", "disable_keepalive", "shed_requests",
					   NULL};
	const char *monitors[HF_OVM__N + 1] = {NULL};
	static const struct hf_overload_trigger off = {2.0f, 2.0f};
	struct hf_overload_config *o = &b->overload;
	long long window_ms = o->window_us / 1000, delay_us = o->queue_delay_us;
	char key[HF_CFG_KEY];
	int rc = 0, enabled = 1;
	const config_setting_t *g = hf_cfg_member(c, root, "", "overload", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	for (int m = 0; m < HF_OVM__N; m++)
		monitors[m] = hf_overload_monitor_name((enum hf_overload_monitor)m);
	if ((rc = hf_cfg_check_keys(c, g, "overload", keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "overload", "window_ms", 1, 1000, &window_ms, 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "overload", "queue_delay_us", 1, 1000000, &delay_us, 0)) != 0)
		return rc;
	o->window_us = (uint32_t)window_ms * 1000;
	o->queue_delay_us = (uint32_t)delay_us;
	if (config_setting_lookup_bool(g, "enabled", &enabled) == CONFIG_FALSE &&
	    config_setting_get_member(g, "enabled") != NULL)
		return hf_cfg_fail(c, config_setting_get_member(g, "enabled"), "overload.enabled",
				   "must be true or false");
	for (int a = 0; a < HF_OVA__N; a++) {
		const char *an = hf_overload_action_name((enum hf_overload_action)a);
		const config_setting_t *ag;

		if (!enabled) {
			for (int m = 0; m < HF_OVM__N; m++)
				o->trigger[a][m] = off;
			continue;
		}
		snprintf(key, sizeof(key), "overload.%s", an);
		ag = hf_cfg_member(c, g, "overload", an, CONFIG_TYPE_GROUP, 0, &rc);
		if (ag == NULL) {
			if (rc != 0)
				return rc;
			continue;
		}
		if ((rc = hf_cfg_check_keys(c, ag, key, monitors)) != 0)
			return rc;
		for (int m = 0; m < HF_OVM__N; m++) {
			const char *mn = hf_overload_monitor_name((enum hf_overload_monitor)m);
			const config_setting_t *t = config_setting_get_member(ag, mn);
			double lo, hi;

			o->trigger[a][m] = off;
			if (t == NULL)
				continue;
			snprintf(key, sizeof(key), "overload.%s.%s", an, mn);
			if (!config_setting_is_array(t) || config_setting_length(t) != 2 ||
			    !number(config_setting_get_elem(t, 0), &lo) ||
			    !number(config_setting_get_elem(t, 1), &hi))
				return hf_cfg_fail(c, t, key,
						   "want [scaling, saturation], two numbers like [0.9, 0.99]");
			if (!(lo >= 0.0 && lo <= hi && hi <= 1.0))
				return hf_cfg_fail(c, t, key,
						   "[%g, %g]: want 0 <= scaling <= saturation <= 1", lo, hi);
			o->trigger[a][m] = (struct hf_overload_trigger){(float)lo, (float)hi};
		}
	}
	return 0;
}

/*
 * tls = { session_tickets = true; ticket_key_rotation_s = 3600; }: stateless
 * session resumption (RFC 5077, RFC 8446 4.6.1) with keys the agent draws
 * and every worker shares, rotated on that period (control-agent/tickets.h).
 */
static int
load_tls(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"session_tickets", "ticket_key_rotation_s", NULL};
	long long period = b->tls_ticket_rotation_s;
	const config_setting_t *t;
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "tls", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	/* A week at most: RFC 8446 4.6.1 caps a ticket's lifetime there. */
	if ((rc = hf_cfg_check_keys(c, g, "tls", keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "tls", "ticket_key_rotation_s", 1, 604800, &period, 0)) != 0)
		return rc;
	b->tls_ticket_rotation_s = (uint32_t)period;
	t = config_setting_get_member(g, "session_tickets");
	if (t != NULL && config_setting_type(t) != CONFIG_TYPE_BOOL)
		return hf_cfg_fail(c, t, "tls.session_tickets", "must be true or false");
	if (t != NULL)
		b->tls_session_tickets = config_setting_get_bool(t);
	return 0;
}

static void
defaults(struct hf_bootstrap *b)
{
	memset(b, 0, sizeof(*b));
	strcpy(b->node_id, "hydrofoil");
	strcpy(b->node_cluster, "hydrofoil");
	strcpy(b->lcores, "0-1");
	b->workers = 1;
	strcpy(b->admin_address, "127.0.0.1");
	b->admin_port = 15000;
	hf_tcp_config_default(&b->tcp);
	hf_h1_limits_default(&b->istio_http.limits);
	b->istio_http.request_headers_timeout_ms = 10000;
	b->istio_http.idle_timeout_ms = 60000;
	hf_overload_defaults(&b->overload);
	b->metrics_max_series = HF_METRICS_MAX_SERIES_DEFAULT;
	b->metrics_enabled = true;
	b->tls_session_tickets = 1;
	b->tls_ticket_rotation_s = 3600;
}

/*
 * metrics.max_series: the series of Istio's HTTP metrics one worker keeps
 * (destination cluster, response code and flag); a quarter as many TCP
 * ones. The table is allocated at start; beyond it exchanges are counted in
 * metrics.drop.series_overflow, not recorded.
 */
static int
load_metrics(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"enabled", "max_series", NULL};
	long long n = HF_METRICS_MAX_SERIES_DEFAULT;
	int rc = 0, enabled = 1;
	const config_setting_t *g = hf_cfg_member(c, root, "", "metrics", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "metrics", keys)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "metrics", "max_series", 16, 1 << 20, &n, 0)) != 0)
		return rc;
	if (config_setting_lookup_bool(g, "enabled", &enabled) == CONFIG_FALSE &&
	    config_setting_get_member(g, "enabled") != NULL)
		return hf_cfg_fail(c, config_setting_get_member(g, "enabled"), "metrics.enabled",
				   "must be true or false");
	b->metrics_max_series = (uint32_t)n;
	/* Off, the workers have no tables: recording returns at once (what it costs, measured). */
	b->metrics_enabled = enabled != 0;
	return 0;
}

int
hf_bootstrap_load(struct hf_bootstrap *b, const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = {"node", "dpdk", "ports", "workers", "admin", "tcp",
					   "http", "static_resources", "access_log", "config", "overload",
					   "metrics", "xds", "tls", "identity", "local_ratelimits", NULL};
	struct hf_cfg c = {.path = path, .err = err, .errlen = errlen};
	const config_setting_t *root;
	long long workers = 1;
	FILE *f;
	config_t cfg;
	int rc, lcores;

	defaults(b);
	snprintf(b->path, sizeof(b->path), "%s", path);
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	config_init(&cfg);
	if (config_read(&cfg, f) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: syntax: %s", path, config_error_line(&cfg),
			 config_error_text(&cfg));
		rc = -EINVAL;
		goto out;
	}
	root = config_root_setting(&cfg);
	if ((rc = hf_cfg_check_keys(&c, root, "", keys)) != 0 || (rc = load_node(&c, root, b)) != 0 ||
	    (rc = load_dpdk(&c, root, b)) != 0 || (rc = load_ports(&c, root, b)) != 0 ||
	    (rc = hf_cfg_get_int(&c, root, "", "workers", 1, HF_MAX_WORKERS, &workers, 0)) != 0 ||
	    (rc = load_admin(&c, root, b)) != 0 || (rc = load_tcp(&c, root, b)) != 0 ||
	    (rc = load_http_pools(&c, root, b)) != 0 ||
	    (rc = load_static_resources(&c, root, b)) != 0 ||
	    (rc = hf_cfg_get_string(&c, root, "", "access_log", b->access_log, sizeof(b->access_log), 0)) != 0 ||
	    (rc = load_config(&c, root, b)) != 0 || (rc = load_overload(&c, root, b)) != 0 ||
	    (rc = load_metrics(&c, root, b)) != 0 || (rc = load_tls(&c, root, b)) != 0 ||
	    (rc = hf_boot_load_xds(&c, root, b)) != 0 || (rc = hf_boot_load_identity(&c, root, b)) != 0 ||
	    (rc = hf_rl_boot_load(&c, root, &b->ratelimits)) != 0)
		goto out;
	/* The TLS channel presents the node's mesh identity: it needs one. */
	if (b->xds.tls && b->identity.spiffe[0] == '\0') {
		rc = hf_cfg_fail(&c, config_setting_lookup((config_setting_t *)root, "xds.tls"), "xds.tls",
				 "true needs the node's mesh identity: an identity block "
				 "(cert_chain, key, root_cert), whose certificate the channel "
				 "presents and whose root_cert verifies the server");
		goto out;
	}
	b->workers = (unsigned int)workers;
	/* One mesh-wide choice: every HTTP listener takes it, and those Istio opens. */
	for (unsigned int i = 0; i < b->n_listeners; i++)
		b->listeners[i].http.path_normalization = b->http_path_normalization;
	b->istio_http.path_normalization = b->http_path_normalization;
	for (unsigned int i = 0; i < b->n_listeners; i++)
		b->listeners[i].http.xfcc_sanitize_only = b->http_xfcc_sanitize_only;
	b->istio_http.xfcc_sanitize_only = b->http_xfcc_sanitize_only;
	lcores = hf_bootstrap_count_lcores(b->lcores);
	if (lcores < 0) {
		const config_setting_t *d = config_setting_get_member(root, "dpdk");

		rc = hf_cfg_fail(&c, d != NULL ? config_setting_get_member(d, "lcores") : root, "dpdk.lcores",
			  "'%s' is not a core list like \"0-1\" or \"0,2-3\", nor an lcore "
			  "map like \"0@0,(1-3)@1\"", b->lcores);
		goto out;
	}
	if ((unsigned int)lcores < b->workers + 1) {
		const config_setting_t *wk = config_setting_get_member(root, "workers");

		rc = hf_cfg_fail(&c, wk != NULL ? wk : root, "workers",
			  "%u workers need %u lcores (one more runs the control agent); "
			  "dpdk.lcores \"%s\" has %d", b->workers, b->workers + 1, b->lcores, lcores);
		goto out;
	}
out:
	config_destroy(&cfg);
	fclose(f);
	return rc;
}

void
hf_bootstrap_proxy_config(const struct hf_bootstrap *b, struct hf_proxy_config *pc)
{
	*pc = (struct hf_proxy_config){
		.n_listeners = b->n_listeners,
		.listeners = b->listeners,
		.max_connections = b->tcp.max_connections,
		.max_requests = b->http_max_requests,
		.access_log = b->access_log[0] != '\0',
		.dynamic_http = b->istio_dir[0] != '\0' || b->xds.port != 0 ? &b->istio_http : NULL,
		.drain_timeout_ms = b->http_drain_timeout_ms,
	};
}
