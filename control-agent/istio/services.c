/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service registry and its clusters: ServiceEntries (hosts, ports,
 * endpoints, or WorkloadEntries picked by workloadSelector), the
 * DestinationRule of each host (policy, subsets), and the clusters Pilot
 * would send for them, one per service port and one per subset per port,
 * named outbound|<port>|<subset>|<fqdn>.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000	/* Istio's connectTimeout default */
#define DEFAULT_LB HF_LB_LEAST_REQUEST		/* Istio's default since 1.14 */
#define ENVOY_CONSECUTIVE_5XX 5			/* Envoy's default when the count is not given */

static const char *const se_keys[] = {"hosts", "addresses", "ports", "location", "resolution",
				      "endpoints", "workloadSelector", "exportTo", NULL};
static const char *const se_later[] = {"subjectAltNames", NULL};
static const char *const port_keys[] = {"number", "name", "protocol", "targetPort", NULL};
static const char *const ep_keys[] = {"address", "ports", "labels", "locality", "weight", NULL};
static const char *const ep_later[] = {"network", "serviceAccount", NULL};
static const char *const protocols[] = {"HTTP",	 "HTTPS", "GRPC",  "GRPC-WEB", "HTTP2", "MONGO",
					"REDIS", "MYSQL", "TCP",   "TLS",      "UDP",	NULL};

static const char *const dr_keys[] = {"host", "trafficPolicy", "subsets", "exportTo", NULL};
static const char *const dr_later[] = {"workloadSelector", NULL};
static const char *const tp_keys[] = {"loadBalancer", "connectionPool", "outlierDetection", "tls",
				      "portLevelSettings", NULL};
static const char *const tp_later[] = {"tunnel", "proxyProtocol", "retryBudget", NULL};
static const char *const plp_keys[] = {"port", "loadBalancer", "connectionPool",
				       "outlierDetection", "tls", NULL};
static const char *const lb_keys[] = {"simple", NULL};
static const char *const lb_later[] = {"consistentHash", "localityLbSetting", "warmupDurationSecs",
				       "warmup", NULL};
static const char *const pool_keys[] = {"tcp", "http", NULL};
static const char *const tcp_keys[] = {"maxConnections", "connectTimeout", NULL};
static const char *const tcp_later[] = {"tcpKeepalive", "maxConnectionDuration", "idleTimeout",
					NULL};
static const char *const http_keys[] = {"http1MaxPendingRequests", NULL};
static const char *const http_later[] = {"http2MaxRequests", "maxRequestsPerConnection",
					 "maxRetries", "idleTimeout", "h2UpgradePolicy",
					 "useClientProtocol", "maxConcurrentStreams", NULL};
static const char *const od_keys[] = {"consecutive5xxErrors", "consecutiveErrors", NULL};
static const char *const od_later[] = {"consecutiveGatewayErrors", "consecutiveLocalOriginFailures",
				       "splitExternalLocalOriginErrors", "interval",
				       "baseEjectionTime", "maxEjectionPercent", "minHealthPercent",
				       NULL};
static const char *const tls_keys[] = {"mode", "clientCertificate", "privateKey", "caCertificates",
				       NULL};
static const char *const tls_later[] = {"sni", "subjectAltNames", "credentialName",
					"insecureSkipVerify", "caCrl", NULL};
static const char *const subset_keys[] = {"name", "labels", "trafficPolicy", NULL};

/* Which of @p names (NULL-terminated) @p s is, or -1. */
static int
one_of(const char *s, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int
get_enum(struct ist *st, const struct yn *map, const char *path, const char *key,
	 const char *const *names, const char *list, int *out)
{
	const char *s;
	char p[IST_PATH];
	int rc = ist_get_str(st, map, path, key, false, &s);

	if (rc <= 0)
		return rc;
	*out = one_of(s, names);
	if (*out < 0)
		return ist_fail(st, ist_get(map, key), ist_path(p, path, key), "'%s' is not one of "
				"%s", s, list);
	return 1;
}

/* ---- ServiceEntry and WorkloadEntry ---- */

static int
parse_ports(struct ist *st, const struct yn *spec, const char *path, struct ist_se *se)
{
	const struct yn *l;
	char p[IST_PATH], q[IST_PATH], r[IST_PATH];
	int rc = ist_get_seq(st, spec, path, "ports", true, &l);

	if (rc < 0)
		return rc;
	ist_path(p, path, "ports");
	if (l->n == 0)
		return ist_fail(st, l, p, "a ServiceEntry needs at least one port");
	se->n_ports = l->n;
	se->ports = ist_alloc(st, sizeof(*se->ports) * l->n);
	if (se->ports == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < l->n; i++) {
		struct ist_port *pt = &se->ports[i];
		const struct yn *m = l->val[i];
		const char *proto = "TCP";
		char *up;

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, m, q, YN_MAP)) < 0 || (rc = ist_keys(st, m, q, port_keys, NULL)) < 0 ||
		    (rc = ist_get_u32(st, m, q, "number", true, 1, 65535, &pt->number)) < 0 ||
		    (rc = ist_get_str(st, m, q, "name", true, &pt->name)) < 0 ||
		    (rc = ist_get_str(st, m, q, "protocol", false, &proto)) < 0 ||
		    (rc = ist_get_u32(st, m, q, "targetPort", false, 1, 65535, &pt->target)) < 0)
			return rc;
		up = ist_strdup(st, proto);
		if (up == NULL)
			return ist_oom(st);
		for (char *c = up; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		if (one_of(up, protocols) < 0)
			return ist_fail(st, ist_get(m, "protocol"), ist_path(r, q, "protocol"),
					"'%s' is not a protocol Istio knows", proto);
		pt->protocol = up;
		for (unsigned int j = 0; j < i; j++) {
			if (se->ports[j].number == pt->number)
				return ist_fail(st, ist_get(m, "number"), ist_path(r, q, "number"),
						"port %u is listed twice", pt->number);
			if (strcmp(se->ports[j].name, pt->name) == 0)
				return ist_fail(st, ist_get(m, "name"), ist_path(r, q, "name"),
						"port name '%s' is used twice", pt->name);
		}
	}
	return 0;
}

/*
 * One endpoint: a ServiceEntry's endpoints[i] (@p se set, its ports known) or
 * a WorkloadEntry's spec. Only IPv4 addresses: names would need a resolver.
 */
static int
parse_ep(struct ist *st, const struct yn *m, const char *path, const struct ist_se *se,
	 struct ist_ep *ep)
{
	const char *addr;
	struct in_addr a;
	char p[IST_PATH], q[IST_PATH];
	int rc;

	if ((rc = ist_want(st, m, path, YN_MAP)) < 0 || (rc = ist_keys(st, m, path, ep_keys, ep_later)) < 0 ||
	    (rc = ist_get_str(st, m, path, "address", true, &addr)) < 0 ||
	    (rc = ist_get_strmap(st, m, path, "labels", &ep->labels)) < 0 ||
	    (rc = ist_get_str(st, m, path, "locality", false, &ep->locality)) < 0 ||
	    (rc = ist_get_u32(st, m, path, "weight", false, 0, UINT32_MAX, &ep->weight)) < 0 ||
	    (rc = ist_get_map(st, m, path, "ports", false, &ep->ports)) < 0)
		return rc;
	if (ep->weight == 0)
		ep->weight = 1;
	ist_path(p, path, "address");
	if (inet_pton(AF_INET, addr, &a) != 1) {
		if (strncmp(addr, "unix://", 7) == 0)
			return ist_fail(st, ist_get(m, "address"), p, "unix domain socket endpoints "
					"are not supported");
		if (strchr(addr, ':') != NULL)
			return ist_fail(st, ist_get(m, "address"), p, "'%s': IPv6 is not supported "
					"yet", addr);
		if (se != NULL && se->resolution != IST_RES_DNS)
			return ist_fail(st, ist_get(m, "address"), p, "'%s' is not an IPv4 address "
					"(resolution %s takes addresses)", addr,
					se->resolution == IST_RES_STATIC ? "STATIC" : "NONE");
		return ist_fail(st, ist_get(m, "address"), p, "'%s': DNS resolution of names is not "
				"supported yet", addr);
	}
	ep->addr = a.s_addr;
	ist_path(p, path, "ports");
	for (unsigned int i = 0; ep->ports != NULL && i < ep->ports->n; i++) {
		const char *name = ep->ports->key[i]->s;
		uint32_t v;
		bool known = se == NULL;

		if ((rc = ist_get_u32(st, ep->ports, p, name, true, 1, 65535, &v)) < 0)
			return rc;
		for (unsigned int k = 0; !known && k < se->n_ports; k++)
			known = strcmp(se->ports[k].name, name) == 0;
		if (!known)
			return ist_fail(st, ep->ports->key[i], ist_path(q, p, name), "'%s' is not "
					"the name of a port of this ServiceEntry", name);
	}
	return 0;
}

struct we {
	const struct ist_res *res;
	struct ist_ep ep;
};

static int
parse_addresses(struct ist *st, const struct yn *spec)
{
	const struct yn *l = NULL;
	char p[IST_PATH];
	int rc = ist_get_strs(st, spec, "spec", "addresses", false, &l);

	/* VIPs matter to sidecars capturing traffic; a gateway routes by host and port */
	for (unsigned int i = 0; rc > 0 && i < l->n; i++) {
		char a[64];
		const char *s = l->val[i]->s, *slash = strchr(s, '/');
		struct in_addr ia;
		char *end;

		snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
		if (inet_pton(AF_INET, a, &ia) != 1 ||
		    (slash != NULL && (strtoul(slash + 1, &end, 10) > 32 || *end != '\0' ||
				       end == slash + 1)))
			return ist_fail(st, l->val[i], ist_pathi(p, "spec.addresses", i), "'%s' is "
					"not an IPv4 address or CIDR block", s);
	}
	return rc < 0 ? rc : 0;
}

static int
parse_se(struct ist *st, const struct ist_res *r, struct ist_se *se, const struct we *wes,
	 unsigned int n_we)
{
	static const char *const res_names[] = {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", NULL};
	static const char *const locations[] = {"MESH_EXTERNAL", "MESH_INTERNAL", NULL};
	const struct yn *spec = r->spec, *hosts, *eps = NULL, *sel = NULL, *sel_labels = NULL;
	char p[IST_PATH];
	int rc, res = IST_RES_NONE, loc;

	se->res = r;
	if ((rc = ist_keys(st, spec, "spec", se_keys, se_later)) < 0 ||
	    (rc = ist_get_strs(st, spec, "spec", "hosts", true, &hosts)) < 0 ||
	    (rc = parse_addresses(st, spec)) < 0 ||
	    (rc = get_enum(st, spec, "spec", "location", locations, "MESH_EXTERNAL, MESH_INTERNAL",
			   &loc)) < 0 ||
	    (rc = get_enum(st, spec, "spec", "resolution", res_names, "NONE, STATIC, DNS",
			   &res)) < 0 ||
	    (rc = ist_check_export(st, spec, "spec")) < 0 ||
	    (rc = parse_ports(st, spec, "spec", se)) < 0 ||
	    (rc = ist_get_seq(st, spec, "spec", "endpoints", false, &eps)) < 0 ||
	    (rc = ist_get_map(st, spec, "spec", "workloadSelector", false, &sel)) < 0)
		return rc;
	if (res == 3)
		return ist_fail(st, ist_get(spec, "resolution"), "spec.resolution",
				"DNS_ROUND_ROBIN is not supported yet");
	se->resolution = (enum ist_resolution)res;
	se->export_to = ist_get(spec, "exportTo");
	if (sel != NULL) {
		static const char *const sel_keys[] = {"labels", NULL};

		if ((rc = ist_keys(st, sel, "spec.workloadSelector", sel_keys, NULL)) < 0 ||
		    (rc = ist_get_strmap(st, sel, "spec.workloadSelector", "labels",
					 &sel_labels)) < 0)
			return rc;
		if (eps != NULL)
			return ist_fail(st, ist_key(spec, "workloadSelector"), "spec.workloadSelector",
					"endpoints and workloadSelector cannot both be set");
	}
	if (eps != NULL) {
		se->n_eps = eps->n;
		se->eps = ist_alloc(st, sizeof(*se->eps) * (eps->n + 1));
		if (se->eps == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < eps->n; i++)
			if ((rc = parse_ep(st, eps->val[i], ist_pathi(p, "spec.endpoints", i), se,
					   &se->eps[i])) < 0)
				return rc;
	} else if (sel != NULL) {
		se->eps = ist_alloc(st, sizeof(*se->eps) * (n_we + 1));
		if (se->eps == NULL)
			return ist_oom(st);
		/* Istio selects WorkloadEntries of the ServiceEntry's own namespace */
		for (unsigned int i = 0; i < n_we; i++)
			if (strcmp(wes[i].res->ns, r->ns) == 0 &&
			    ist_labels_match(sel_labels, wes[i].ep.labels))
				se->eps[se->n_eps++] = wes[i].ep;
	} else if (res == IST_RES_STATIC) {
		return ist_fail(st, spec, "spec.endpoints", "resolution STATIC needs endpoints or a "
				"workloadSelector");
	} else if (res == IST_RES_DNS) {
		return ist_fail(st, hosts->val[0], "spec.hosts[0]", "resolution DNS without "
				"endpoints resolves the hosts: DNS resolution of names is not "
				"supported yet");
	}
	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *fqdn = ist_resolve_host(st, hosts->val[i]->s, r->ns);
		struct ist_svc *svc;

		if (fqdn == NULL)
			return ist_oom(st);
		ist_pathi(p, "spec.hosts", i);
		if (strcmp(fqdn, "*") == 0)
			return ist_fail(st, hosts->val[i], p, "'*' is not a host a ServiceEntry can "
					"declare");
		if (fqdn[0] == '*' && res != IST_RES_NONE)
			return ist_fail(st, hosts->val[i], p, "wildcard host '%s' needs resolution "
					"NONE", fqdn);
		for (unsigned int k = 0; k < st->n_svc; k++)
			if (strcmp(st->svc[k].fqdn, fqdn) == 0)
				return ist_fail(st, hosts->val[i], p, "'%s' is already a host of "
						"ServiceEntry %s/%s (%s:%u); merging ServiceEntries "
						"is not supported yet", fqdn, st->svc[k].se->res->ns,
						st->svc[k].se->res->name, st->svc[k].se->res->file,
						st->svc[k].se->res->line);
		svc = ist_push(&st->svc, &st->n_svc, sizeof(*svc));
		if (svc == NULL)
			return ist_oom(st);
		svc->fqdn = fqdn;
		svc->se = se;
	}
	return 0;
}

int
ist_services(struct ist *st)
{
	unsigned int n_we = 0, n_se = 0;
	struct we *wes;
	int rc;

	for (unsigned int i = 0; i < st->n_res; i++) {
		n_we += st->res[i].kind == IST_WE;
		n_se += st->res[i].kind == IST_SE;
	}
	wes = ist_alloc(st, sizeof(*wes) * (n_we + 1));
	st->se = ist_alloc(st, sizeof(*st->se) * (n_se + 1));
	if (wes == NULL || st->se == NULL)
		return ist_oom(st);
	n_we = 0;
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->kind != IST_WE)
			continue;
		ist_set_cur(st, r);
		wes[n_we].res = r;
		if ((rc = parse_ep(st, r->spec, "spec", NULL, &wes[n_we].ep)) < 0)
			return rc;
		n_we++;
	}
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->kind != IST_SE)
			continue;
		ist_set_cur(st, r);
		if ((rc = parse_se(st, r, &st->se[st->n_se++], wes, n_we)) < 0)
			return rc;
	}
	return 0;
}

/* ---- DestinationRule ---- */

static int
apply_lb(struct ist *st, const struct yn *lb, const char *path, struct hf_model_cluster *c)
{
	static const char *const simple[] = {"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST",
					     "LEAST_CONN", "RANDOM", "PASSTHROUGH", NULL};
	static const enum hf_lb_policy map[] = {DEFAULT_LB, HF_LB_ROUND_ROBIN, HF_LB_LEAST_REQUEST,
						HF_LB_LEAST_REQUEST, HF_LB_RANDOM, HF_LB_PASSTHROUGH};
	int rc, v = 0;

	if ((rc = ist_keys(st, lb, path, lb_keys, lb_later)) < 0 ||
	    (rc = get_enum(st, lb, path, "simple", simple, "ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, "
			   "RANDOM, PASSTHROUGH", &v)) < 0)
		return rc;
	c->lb = map[v];
	return 0;
}

static int
apply_pool(struct ist *st, const struct yn *pool, const char *path, struct hf_model_cluster *c)
{
	const struct yn *tcp = NULL, *http = NULL;
	char p[IST_PATH];
	int rc;

	c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	c->max_connections = 0;
	c->max_pending_requests = 0;
	if ((rc = ist_keys(st, pool, path, pool_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "tcp", false, &tcp)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "http", false, &http)) < 0)
		return rc;
	if (tcp != NULL) {
		ist_path(p, path, "tcp");
		if ((rc = ist_keys(st, tcp, p, tcp_keys, tcp_later)) < 0 ||
		    (rc = ist_get_u32(st, tcp, p, "maxConnections", false, 1, INT32_MAX,
				      &c->max_connections)) < 0 ||
		    (rc = ist_get_ms(st, tcp, p, "connectTimeout", &c->connect_timeout_ms)) < 0)
			return rc;
		if (c->connect_timeout_ms == 0) {
			char q[IST_PATH];

			return ist_fail(st, ist_get(tcp, "connectTimeout"),
					ist_path(q, p, "connectTimeout"), "must be at least 1ms");
		}
	}
	if (http != NULL) {
		ist_path(p, path, "http");
		if ((rc = ist_keys(st, http, p, http_keys, http_later)) < 0 ||
		    (rc = ist_get_u32(st, http, p, "http1MaxPendingRequests", false, 0, INT32_MAX,
				      &c->max_pending_requests)) < 0)
			return rc;
	}
	return 0;
}

static int
apply_outlier(struct ist *st, const struct yn *od, const char *path, struct hf_model_cluster *c)
{
	int rc, a = 0, b = 0;

	c->outlier_consecutive_5xx = ENVOY_CONSECUTIVE_5XX;
	if ((rc = ist_keys(st, od, path, od_keys, od_later)) < 0 ||
	    (a = rc = ist_get_u32(st, od, path, "consecutive5xxErrors", false, 0, INT32_MAX,
				  &c->outlier_consecutive_5xx)) < 0 ||
	    (b = rc = ist_get_u32(st, od, path, "consecutiveErrors", false, 0, INT32_MAX,
				  &c->outlier_consecutive_5xx)) < 0)
		return rc;
	if (a > 0 && b > 0)
		return ist_fail(st, ist_key(od, "consecutiveErrors"), path, "consecutive5xxErrors "
				"and the deprecated consecutiveErrors cannot both be set");
	return 0;
}

static int
set_path(struct ist *st, const struct yn *tls, const char *path, const char *key, char **dst)
{
	const char *s;
	int rc = ist_get_str(st, tls, path, key, false, &s);

	if (rc <= 0)
		return rc;
	free(*dst);
	*dst = ist_mdup(s);
	return *dst == NULL ? ist_oom(st) : 0;
}

static int
apply_tls(struct ist *st, const struct yn *tls, const char *path, struct hf_model_cluster *c)
{
	static const char *const modes[] = {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL};
	int rc, mode = HF_TLS_DISABLE;

	free(c->tls_client_cert);
	free(c->tls_private_key);
	free(c->tls_ca_certs);
	c->tls_client_cert = c->tls_private_key = c->tls_ca_certs = NULL;
	if ((rc = ist_keys(st, tls, path, tls_keys, tls_later)) < 0 ||
	    (rc = get_enum(st, tls, path, "mode", modes, "DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL",
			   &mode)) < 0 ||
	    (rc = set_path(st, tls, path, "clientCertificate", &c->tls_client_cert)) < 0 ||
	    (rc = set_path(st, tls, path, "privateKey", &c->tls_private_key)) < 0 ||
	    (rc = set_path(st, tls, path, "caCertificates", &c->tls_ca_certs)) < 0)
		return rc;
	c->tls_mode = (enum hf_tls_mode)mode;
	if (mode == HF_TLS_MUTUAL && (c->tls_client_cert == NULL || c->tls_private_key == NULL))
		return ist_fail(st, tls, path, "mode MUTUAL needs clientCertificate and privateKey");
	return 0;
}

/* The groups of a TrafficPolicy or a PortTrafficPolicy: each replaces what it names whole. */
static int
apply_groups(struct ist *st, const struct yn *tp, const char *path, struct hf_model_cluster *c)
{
	static const char *const names[] = {"loadBalancer", "connectionPool", "outlierDetection",
					    "tls"};
	static int (*const fns[])(struct ist *, const struct yn *, const char *,
				  struct hf_model_cluster *) = {apply_lb, apply_pool, apply_outlier,
								apply_tls};
	char p[IST_PATH];

	for (unsigned int i = 0; i < 4; i++) {
		const struct yn *g = NULL;
		int rc = ist_get_map(st, tp, path, names[i], false, &g);

		if (rc > 0)
			rc = fns[i](st, g, ist_path(p, path, names[i]), c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void
scratch_free(struct hf_model_cluster *c)
{
	free(c->tls_client_cert);
	free(c->tls_private_key);
	free(c->tls_ca_certs);
}

/*
 * Applies TrafficPolicy @p tp to @p c for service port @p port: its own
 * groups, then the portLevelSettings entry for @p port. Every entry is
 * checked, whichever port it names. Port 0 only checks.
 */
static int
apply_policy(struct ist *st, const struct yn *tp, const char *path, uint32_t port,
	     struct hf_model_cluster *c)
{
	const struct yn *pls = NULL;
	char p[IST_PATH], q[IST_PATH], r[IST_PATH];
	int rc;

	if ((rc = ist_keys(st, tp, path, tp_keys, tp_later)) < 0 ||
	    (rc = apply_groups(st, tp, path, c)) < 0 ||
	    (rc = ist_get_seq(st, tp, path, "portLevelSettings", false, &pls)) < 0)
		return rc;
	ist_path(p, path, "portLevelSettings");
	for (unsigned int i = 0; pls != NULL && i < pls->n; i++) {
		const struct yn *e = pls->val[i], *ps;
		struct hf_model_cluster scratch = {0};
		uint32_t number;

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, e, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, e, q, plp_keys, NULL)) < 0 ||
		    (rc = ist_get_map(st, e, q, "port", true, &ps)) < 0 ||
		    (rc = ist_keys(st, ps, ist_path(r, q, "port"), (const char *const[]){"number",
				   NULL}, NULL)) < 0 ||
		    (rc = ist_get_u32(st, ps, r, "number", true, 1, 65535, &number)) < 0)
			return rc;
		for (unsigned int k = 0; k < i; k++)
			if (ist_get(ist_get(pls->val[k], "port"), "number") != NULL &&
			    strcmp(ist_get(ist_get(pls->val[k], "port"), "number")->s,
				   ist_get(ps, "number")->s) == 0)
				return ist_fail(st, ist_get(ps, "number"), ist_path(q, r, "number"),
						"port %u has settings twice", number);
		rc = apply_groups(st, e, q, number == port ? c : &scratch);
		scratch_free(&scratch);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const struct ist_dr *
find_dr(const struct ist *st, const char *fqdn)
{
	const struct ist_dr *best = NULL;

	for (unsigned int i = 0; i < st->n_dr; i++) {
		const struct ist_dr *d = &st->dr[i];

		if (strcmp(d->host, fqdn) == 0)
			return d;
		/* the most specific wildcard: the longest pattern */
		if (d->host[0] == '*' && ist_host_covers(d->host, fqdn) &&
		    (best == NULL || strlen(d->host) > strlen(best->host)))
			best = d;
	}
	return best;
}

static int
parse_dr(struct ist *st, const struct ist_res *r, struct ist_dr *dr)
{
	const struct yn *spec = r->spec;
	struct hf_model_cluster scratch = {0};
	char p[IST_PATH], q[IST_PATH];
	const char *host;
	int rc;

	dr->res = r;
	if ((rc = ist_keys(st, spec, "spec", dr_keys, dr_later)) < 0 ||
	    (rc = ist_get_str(st, spec, "spec", "host", true, &host)) < 0 ||
	    (rc = ist_get_map(st, spec, "spec", "trafficPolicy", false, &dr->policy)) < 0 ||
	    (rc = ist_get_seq(st, spec, "spec", "subsets", false, &dr->subsets)) < 0 ||
	    (rc = ist_check_export(st, spec, "spec")) < 0)
		return rc;
	dr->export_to = ist_get(spec, "exportTo");
	dr->host = ist_resolve_host(st, host, r->ns);
	if (dr->host == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < st->n_dr; i++)
		if (strcmp(st->dr[i].host, dr->host) == 0)
			return ist_fail(st, ist_get(spec, "host"), "spec.host", "'%s' already has "
					"DestinationRule %s/%s (%s:%u); merging DestinationRules is "
					"not supported yet", dr->host, st->dr[i].res->ns,
					st->dr[i].res->name, st->dr[i].res->file,
					st->dr[i].res->line);
	if (dr->policy != NULL) {
		rc = apply_policy(st, dr->policy, "spec.trafficPolicy", 0, &scratch);
		scratch_free(&scratch);
		if (rc < 0)
			return rc;
	}
	for (unsigned int i = 0; dr->subsets != NULL && i < dr->subsets->n; i++) {
		const struct yn *s = dr->subsets->val[i], *tp = NULL, *labels;
		const char *name;

		ist_pathi(p, "spec.subsets", i);
		if ((rc = ist_want(st, s, p, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, s, p, subset_keys, NULL)) < 0 ||
		    (rc = ist_get_str(st, s, p, "name", true, &name)) < 0 ||
		    (rc = ist_get_strmap(st, s, p, "labels", &labels)) < 0 ||
		    (rc = ist_get_map(st, s, p, "trafficPolicy", false, &tp)) < 0)
			return rc;
		/* the name goes into cluster names between '|': keep it a DNS label */
		for (const char *c = name; *c != '\0'; c++)
			if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
				return ist_fail(st, ist_get(s, "name"), ist_path(q, p, "name"),
						"'%s' is not a valid subset name", name);
		for (unsigned int k = 0; k < i; k++)
			if (strcmp(ist_get(dr->subsets->val[k], "name")->s, name) == 0)
				return ist_fail(st, ist_get(s, "name"), ist_path(q, p, "name"),
						"subset '%s' is defined twice", name);
		if (tp != NULL) {
			rc = apply_policy(st, tp, ist_path(q, p, "trafficPolicy"), 0, &scratch);
			scratch_free(&scratch);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int
ist_dest_rules(struct ist *st)
{
	unsigned int n = 0;
	int rc;

	for (unsigned int i = 0; i < st->n_res; i++)
		n += st->res[i].kind == IST_DR;
	st->dr = ist_alloc(st, sizeof(*st->dr) * (n + 1));
	if (st->dr == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->kind != IST_DR)
			continue;
		ist_set_cur(st, r);
		if ((rc = parse_dr(st, r, &st->dr[st->n_dr])) < 0)
			return rc;
		st->n_dr++;
	}
	return 0;
}

/* ---- clusters ---- */

/* Istio's endpoint port: the endpoint's own for the port's name, else targetPort, else the port. */
static uint16_t
ep_port(const struct ist_ep *ep, const struct ist_port *pt)
{
	const struct yn *v = ist_get(ep->ports, pt->name);

	if (v != NULL)
		return (uint16_t)strtoul(v->s, NULL, 10);
	return (uint16_t)(pt->target != 0 ? pt->target : pt->number);
}

static int
add_cluster(struct ist *st, const struct ist_svc *svc, const struct ist_port *pt,
	    const struct ist_dr *dr, const struct yn *subset)
{
	const struct ist_se *se = svc->se;
	const struct yn *sel = ist_get(subset, "labels"), *stp = ist_get(subset, "trafficPolicy");
	const char *sname = subset != NULL ? ist_get(subset, "name")->s : NULL;
	bool passthrough = se->resolution == IST_RES_NONE && se->n_eps == 0;
	struct hf_model_cluster *c;
	int rc;

	c = ist_push(&st->m.clusters, &st->m.n_clusters, sizeof(*c));
	if (c == NULL)
		return ist_oom(st);
	if (asprintf(&c->name, "outbound|%u|%s|%s", pt->number, sname ? sname : "", svc->fqdn) < 0) {
		c->name = NULL;
		return ist_oom(st);
	}
	c->service = ist_mdup(svc->fqdn);
	c->subset = sname != NULL ? ist_mdup(sname) : NULL;
	if (c->service == NULL || (sname != NULL && c->subset == NULL))
		return ist_oom(st);
	c->service_port = (uint16_t)pt->number;
	c->lb = DEFAULT_LB;
	c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	/* already checked: these only apply */
	if (dr != NULL && dr->policy != NULL) {
		ist_set_cur(st, dr->res);
		if ((rc = apply_policy(st, dr->policy, "spec.trafficPolicy", pt->number, c)) < 0)
			return rc;
	}
	if (stp != NULL && (rc = apply_policy(st, stp, "trafficPolicy", pt->number, c)) < 0)
		return rc;
	/* resolution NONE without endpoints: the caller's own destination (ORIGINAL_DST) */
	if (passthrough)
		c->lb = HF_LB_PASSTHROUGH;
	c->endpoints = calloc(se->n_eps + 1, sizeof(*c->endpoints));
	if (c->endpoints == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < se->n_eps; i++) {
		const struct ist_ep *ep = &se->eps[i];
		struct hf_model_endpoint *e;
		unsigned int nl = ep->labels != NULL ? ep->labels->n : 0;

		if (!ist_labels_match(sel, ep->labels))
			continue;
		e = &c->endpoints[c->n_endpoints++];
		e->addr = ep->addr;
		e->port = ep_port(ep, pt);
		e->weight = ep->weight;
		if (ep->locality != NULL && (e->locality = ist_mdup(ep->locality)) == NULL)
			return ist_oom(st);
		e->labels = calloc(nl + 1, sizeof(*e->labels));
		if (e->labels == NULL)
			return ist_oom(st);
		for (unsigned int k = 0; k < nl; k++) {
			if (asprintf(&e->labels[k], "%s=%s", ep->labels->key[k]->s,
				     ep->labels->val[k]->s) < 0)
				return ist_oom(st);
			e->n_labels++;
		}
	}
	return 0;
}

int
ist_clusters(struct ist *st)
{
	int rc;

	for (unsigned int i = 0; i < st->n_svc; i++) {
		const struct ist_svc *svc = &st->svc[i];
		const struct ist_dr *dr = find_dr(st, svc->fqdn);
		const struct yn *subsets = dr != NULL ? dr->subsets : NULL;

		for (unsigned int p = 0; p < svc->se->n_ports; p++) {
			const struct ist_port *pt = &svc->se->ports[p];

			if ((rc = add_cluster(st, svc, pt, dr, NULL)) < 0)
				return rc;
			for (unsigned int s = 0; subsets != NULL && s < subsets->n; s++)
				if ((rc = add_cluster(st, svc, pt, dr, subsets->val[s])) < 0)
					return rc;
		}
	}
	return 0;
}

/* ---- references from VirtualServices ---- */

int
ist_destination(struct ist *st, const struct ist_res *vs, const struct yn *dest, const char *path,
		char **out)
{
	static const char *const dest_keys[] = {"host", "subset", "port", NULL};
	const struct yn *port = NULL;
	const struct ist_svc *svc = NULL;
	const struct ist_port *pt = NULL;
	const char *host, *fqdn, *subset = NULL;
	char p[IST_PATH], q[IST_PATH];
	uint32_t number = 0;
	int rc;

	if ((rc = ist_want(st, dest, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, dest, path, dest_keys, NULL)) < 0 ||
	    (rc = ist_get_str(st, dest, path, "host", true, &host)) < 0 ||
	    (rc = ist_get_str(st, dest, path, "subset", false, &subset)) < 0 ||
	    (rc = ist_get_map(st, dest, path, "port", false, &port)) < 0)
		return rc;
	if (port != NULL) {
		ist_path(q, path, "port");
		if ((rc = ist_keys(st, port, q, (const char *const[]){"number", NULL}, NULL)) < 0 ||
		    (rc = ist_get_u32(st, port, q, "number", true, 1, 65535, &number)) < 0)
			return rc;
	}
	fqdn = ist_resolve_host(st, host, vs->ns);
	if (fqdn == NULL)
		return ist_oom(st);
	ist_path(p, path, "host");
	for (unsigned int i = 0; i < st->n_svc && svc == NULL; i++)
		if (strcmp(st->svc[i].fqdn, fqdn) == 0)
			svc = &st->svc[i];
	if (svc == NULL)
		return ist_fail(st, ist_get(dest, "host"), p, "'%s' is not a known service", host);
	if (!ist_exported(svc->se->export_to, svc->se->res->ns, vs->ns))
		return ist_fail(st, ist_get(dest, "host"), p, "'%s' is not a known service "
				"(ServiceEntry %s/%s is not exported to namespace %s)", host,
				svc->se->res->ns, svc->se->res->name, vs->ns);
	for (unsigned int i = 0; i < svc->se->n_ports; i++)
		if (number == 0 ? svc->se->n_ports == 1 : svc->se->ports[i].number == number)
			pt = &svc->se->ports[i];
	if (pt == NULL && number == 0)
		return ist_fail(st, dest, path, "service %s has %u ports: port.number is required",
				svc->fqdn, svc->se->n_ports);
	if (pt == NULL)
		return ist_fail(st, ist_get(port, "number"), ist_path(p, q, "number"), "%u is not a "
				"port of service %s", number, svc->fqdn);
	if (subset != NULL) {
		const struct ist_dr *dr = find_dr(st, svc->fqdn);
		bool found = false;

		if (dr != NULL && ist_exported(dr->export_to, dr->res->ns, vs->ns))
			for (unsigned int i = 0; dr->subsets != NULL && i < dr->subsets->n; i++)
				found |= strcmp(ist_get(dr->subsets->val[i], "name")->s, subset) == 0;
		if (!found)
			return ist_fail(st, ist_get(dest, "subset"), ist_path(p, path, "subset"),
					"subset '%s' is not defined by a DestinationRule for %s",
					subset, svc->fqdn);
	}
	if (asprintf(out, "outbound|%u|%s|%s", pt->number, subset != NULL ? subset : "",
		     svc->fqdn) < 0) {
		*out = NULL;
		return ist_oom(st);
	}
	return 0;
}
