/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DestinationRules: checked whole when read, then applied to each cluster of
 * their host. A TrafficPolicy's groups (loadBalancer, connectionPool,
 * outlierDetection, tls) each replace the whole group they name: the
 * portLevelSettings entry of a port over the policy, a subset's policy over
 * the rule's, the subset's port-level entry last, as Pilot merges them.
 * What the model has no field for is refused by name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

#define ENVOY_CONSECUTIVE_5XX 5	/* Envoy's default when outlierDetection gives no count */

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

/* ---- DestinationRule ---- */

static int
apply_lb(struct ist *st, const struct yn *lb, const char *path, struct hf_model_cluster *c)
{
	static const char *const simple[] = {"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST",
					     "LEAST_CONN", "RANDOM", "PASSTHROUGH", NULL};
	static const enum hf_lb_policy map[] = {IST_DEFAULT_LB,	  HF_LB_ROUND_ROBIN,
						HF_LB_LEAST_REQUEST, HF_LB_LEAST_REQUEST,
						HF_LB_RANDOM,	  HF_LB_PASSTHROUGH};
	int rc, v = 0;

	if ((rc = ist_keys(st, lb, path, lb_keys, lb_later)) < 0 ||
	    (rc = ist_get_enum(st, lb, path, "simple", simple, "ROUND_ROBIN, LEAST_REQUEST, "
			   "LEAST_CONN, RANDOM, PASSTHROUGH", &v)) < 0)
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

	c->connect_timeout_ms = IST_CONNECT_TIMEOUT_MS;
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
	    (rc = ist_get_enum(st, tls, path, "mode", modes,
			       "DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL", &mode)) < 0 ||
	    (rc = set_path(st, tls, path, "clientCertificate", &c->tls_client_cert)) < 0 ||
	    (rc = set_path(st, tls, path, "privateKey", &c->tls_private_key)) < 0 ||
	    (rc = set_path(st, tls, path, "caCertificates", &c->tls_ca_certs)) < 0)
		return rc;
	c->tls_mode = (enum hf_tls_mode)mode;
	if (mode == HF_TLS_MUTUAL && (c->tls_client_cert == NULL || c->tls_private_key == NULL))
		return ist_fail(st, tls, path,
				"mode MUTUAL needs clientCertificate and privateKey");
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
int
ist_apply_policy(struct ist *st, const struct yn *tp, const char *path, uint32_t port,
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

const struct ist_dr *
ist_find_dr(const struct ist *st, const char *fqdn)
{
	const struct ist_dr *best = NULL;
	int exact = ist_index_find(&st->dr_by_host, fqdn);

	if (exact >= 0)
		return &st->dr[exact];
	for (unsigned int i = 0; i < st->n_dr; i++) {
		const struct ist_dr *d = &st->dr[i];

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
					"DestinationRule %s/%s (%s:%u); merging DestinationRules "
					"is not supported yet", dr->host, st->dr[i].res->ns,
					st->dr[i].res->name, st->dr[i].res->file,
					st->dr[i].res->line);
	if (dr->policy != NULL) {
		rc = ist_apply_policy(st, dr->policy, "spec.trafficPolicy", 0, &scratch);
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
			rc = ist_apply_policy(st, tp, ist_path(q, p, "trafficPolicy"), 0, &scratch);
			scratch_free(&scratch);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static const char *
dr_host(const struct ist *st, unsigned int i)
{
	return st->dr[i].host;
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
	return ist_index_build(st, &st->dr_by_host, st->n_dr, dr_host);
}

