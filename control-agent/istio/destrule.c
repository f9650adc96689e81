/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DestinationRules: checked whole when read, then applied to each cluster of
 * their host. A TrafficPolicy's groups (loadBalancer, connectionPool, tls)
 * each replace the whole group they name: the portLevelSettings entry of a
 * port over the policy, a subset's policy over the rule's, the subset's
 * port-level entry last, as Pilot merges them. What the snapshot has no
 * place for is refused by name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

static const char *const dr_keys[] = {"host", "trafficPolicy", "subsets", "exportTo", NULL};
static const char *const dr_later[] = {"workloadSelector", NULL};
/*
 * What the snapshot has no place for is refused by name, not kept: an
 * operator who writes a circuit breaker, an outlier detector or TLS
 * origination is told it does not exist rather than left believing it does.
 */
static const char *const tp_keys[] = {"loadBalancer", "connectionPool", "tls", "portLevelSettings",
				      NULL};
static const char *const tp_later[] = {"outlierDetection", "tunnel", "proxyProtocol",
				       "retryBudget", NULL};
static const char *const plp_keys[] = {"port", "loadBalancer", "connectionPool", "tls", NULL};
static const char *const plp_later[] = {"outlierDetection", NULL};
static const char *const lb_keys[] = {"simple", NULL};
static const char *const lb_later[] = {"consistentHash", "localityLbSetting", "warmupDurationSecs",
				       "warmup", NULL};
static const char *const pool_keys[] = {"tcp", "http", NULL};
static const char *const tcp_keys[] = {"connectTimeout", NULL};
static const char *const tcp_later[] = {"maxConnections", "tcpKeepalive", "maxConnectionDuration",
					"idleTimeout", NULL};
static const char *const http_later[] = {"http1MaxPendingRequests", "http2MaxRequests",
					 "maxRequestsPerConnection", "maxRetries", "idleTimeout",
					 "h2UpgradePolicy", "useClientProtocol",
					 "maxConcurrentStreams", NULL};
static const char *const tls_keys[] = {"mode", NULL};
static const char *const tls_later[] = {"clientCertificate", "privateKey", "caCertificates", "sni",
					"subjectAltNames", "credentialName", "insecureSkipVerify",
					"caCrl", NULL};
static const char *const subset_keys[] = {"name", "labels", "trafficPolicy", NULL};

/* ---- DestinationRule ---- */

static int
apply_lb(struct ist *st, const struct yn *lb, const char *path, struct hf_model_cluster *c)
{
	static const char *const simple[] = {"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST",
					     "LEAST_CONN", "RANDOM", "PASSTHROUGH", NULL};
	static const enum hf_lb_policy map[] = {IST_DEFAULT_LB, HF_LB_ROUND_ROBIN,
						HF_LB_LEAST_REQUEST, HF_LB_LEAST_REQUEST,
						HF_LB_RANDOM};
	char p[IST_PATH];
	int rc, v = 0;

	if ((rc = ist_keys(st, lb, path, lb_keys, lb_later)) < 0 ||
	    (rc = ist_get_enum(st, lb, path, "simple", simple, "ROUND_ROBIN, LEAST_REQUEST, "
			   "LEAST_CONN, RANDOM, PASSTHROUGH", &v)) < 0)
		return rc;
	/* the caller's original destination: for a gateway, itself; the data plane has no such pick */
	if (v == 5)
		return ist_fail(st, ist_get(lb, "simple"), ist_path(p, path, "simple"),
				"PASSTHROUGH is not supported yet (ROUND_ROBIN, LEAST_REQUEST, "
				"LEAST_CONN and RANDOM are)");
	c->lb = map[v];
	return 0;
}

/* connectionPool: connectTimeout only; the limits (circuit breaking) are refused by name. */
static int
apply_pool(struct ist *st, const struct yn *pool, const char *path, struct hf_model_cluster *c)
{
	const struct yn *tcp = NULL, *http = NULL;
	char p[IST_PATH];
	int rc;

	c->connect_timeout_ms = IST_CONNECT_TIMEOUT_MS;
	if ((rc = ist_keys(st, pool, path, pool_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "tcp", false, &tcp)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "http", false, &http)) < 0)
		return rc;
	if (tcp != NULL) {
		ist_path(p, path, "tcp");
		if ((rc = ist_keys(st, tcp, p, tcp_keys, tcp_later)) < 0 ||
		    (rc = ist_get_ms(st, tcp, p, "connectTimeout", &c->connect_timeout_ms)) < 0)
			return rc;
		if (c->connect_timeout_ms == 0) {
			char q[IST_PATH];

			return ist_fail(st, ist_get(tcp, "connectTimeout"),
					ist_path(q, p, "connectTimeout"), "must be at least 1ms");
		}
	}
	if (http != NULL &&
	    (rc = ist_keys(st, http, ist_path(p, path, "http"), (const char *const[]){NULL},
			   http_later)) < 0)
		return rc;
	return 0;
}

/*
 * tls: DISABLE only. Until TLS origination exists, SIMPLE, MUTUAL and
 * ISTIO_MUTUAL would send in plaintext what the operator asked to encrypt.
 */
static int
apply_tls(struct ist *st, const struct yn *tls, const char *path, struct hf_model_cluster *c)
{
	static const char *const modes[] = {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL};
	char p[IST_PATH];
	int rc, mode = HF_TLS_DISABLE;

	/* the mode first: it says why the certificate fields that come with it are refused too */
	if ((rc = ist_get_enum(st, tls, path, "mode", modes,
			       "DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL", &mode)) < 0)
		return rc;
	if (mode != HF_TLS_DISABLE)
		return ist_fail(st, ist_get(tls, "mode"), ist_path(p, path, "mode"), "%s is not "
				"supported yet: there is no TLS origination, the upstream traffic "
				"would be plaintext (DISABLE is)", modes[mode]);
	if ((rc = ist_keys(st, tls, path, tls_keys, tls_later)) < 0)
		return rc;
	c->tls_mode = HF_TLS_DISABLE;
	return 0;
}

/* The groups of a TrafficPolicy or a PortTrafficPolicy: each replaces what it names whole. */
static int
apply_groups(struct ist *st, const struct yn *tp, const char *path, struct hf_model_cluster *c)
{
	static const char *const names[] = {"loadBalancer", "connectionPool", "tls"};
	static int (*const fns[])(struct ist *, const struct yn *, const char *,
				  struct hf_model_cluster *) = {apply_lb, apply_pool, apply_tls};
	char p[IST_PATH];

	for (unsigned int i = 0; i < 3; i++) {
		const struct yn *g = NULL;
		int rc = ist_get_map(st, tp, path, names[i], false, &g);

		if (rc > 0)
			rc = fns[i](st, g, ist_path(p, path, names[i]), c);
		if (rc < 0)
			return rc;
	}
	return 0;
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
		    (rc = ist_keys(st, e, q, plp_keys, plp_later)) < 0 ||
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
		if ((rc = apply_groups(st, e, q, number == port ? c : &scratch)) < 0)
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

