/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DestinationRules: checked whole when read, then applied to each cluster of
 * their host. A TrafficPolicy's groups (loadBalancer, connectionPool, tls)
 * each replace the whole group they name: the portLevelSettings entry of a
 * port over the policy, a subset's policy over the rule's, the subset's
 * port-level entry last, as Pilot merges them. What the snapshot has no
 * place for is refused by name.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "control-agent/file.h"
#include "control-agent/istio/istio-int.h"
#include "tls/tls.h"

static const char *const dr_keys[] = {"host", "trafficPolicy", "subsets", "exportTo", NULL};
static const char *const dr_later[] = {"workloadSelector", NULL};
/*
 * What the snapshot has no place for is refused by name, not kept: an
 * operator who writes a setting the data plane does not enforce is told it
 * does not exist rather than left believing it does.
 */
static const char *const tp_keys[] = {"loadBalancer", "connectionPool", "outlierDetection", "tls",
				      "portLevelSettings", NULL};
static const char *const tp_later[] = {"tunnel", "proxyProtocol", "retryBudget", NULL};
static const char *const plp_keys[] = {"port", "loadBalancer", "connectionPool",
				       "outlierDetection", "tls", NULL};
static const char *const lb_keys[] = {"simple", NULL};
static const char *const lb_later[] = {"consistentHash", "localityLbSetting", "warmupDurationSecs",
				       "warmup", NULL};
static const char *const pool_keys[] = {"tcp", "http", NULL};
static const char *const tcp_keys[] = {"connectTimeout", "maxConnections", NULL};
static const char *const tcp_later[] = {"tcpKeepalive", "maxConnectionDuration", "idleTimeout",
					NULL};
static const char *const http_keys[] = {"http1MaxPendingRequests", "http2MaxRequests",
					"maxRequestsPerConnection", "maxRetries", NULL};
static const char *const http_later[] = {"idleTimeout", "h2UpgradePolicy", "useClientProtocol",
					 "maxConcurrentStreams", NULL};
static const char *const od_keys[] = {"consecutive5xxErrors", "consecutiveGatewayErrors",
				      "interval", "baseEjectionTime", "maxEjectionPercent",
				      "minHealthPercent", "splitExternalLocalOriginErrors",
				      "consecutiveLocalOriginFailures", NULL};
static const char *const od_later[] = {"consecutiveErrors", NULL};
static const char *const tls_keys[] = {"mode", "clientCertificate", "privateKey",
				       "caCertificates", "sni", "subjectAltNames", "credentialName",
				       "insecureSkipVerify", NULL};
static const char *const tls_later[] = {"caCrl", NULL};
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

/*
 * connectionPool: connectTimeout and the circuit breakers, as Pilot maps them
 * (Envoy's DEFAULT priority thresholds): tcp.maxConnections is
 * max_connections, http.http1MaxPendingRequests max_pending_requests,
 * http.http2MaxRequests max_requests, http.maxRetries max_retries, and
 * http.maxRequestsPerConnection closes a connection after that many requests.
 * Absent or 0 is unlimited (Pilot writes 2^32-1). The data plane enforces each
 * per worker share (lb/cb.h).
 */
static int
apply_pool(struct ist *st, const struct yn *pool, const char *path, struct hf_model_cluster *c)
{
	const struct yn *tcp = NULL, *http = NULL;
	char p[IST_PATH];
	int rc;

	c->connect_timeout_ms = IST_CONNECT_TIMEOUT_MS;
	c->max_connections = c->max_pending_requests = c->max_requests = c->max_retries = 0;
	c->max_rq_per_cx = 0;
	if ((rc = ist_keys(st, pool, path, pool_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "tcp", false, &tcp)) < 0 ||
	    (rc = ist_get_map(st, pool, path, "http", false, &http)) < 0)
		return rc;
	if (tcp != NULL) {
		ist_path(p, path, "tcp");
		if ((rc = ist_keys(st, tcp, p, tcp_keys, tcp_later)) < 0 ||
		    (rc = ist_get_ms(st, tcp, p, "connectTimeout", &c->connect_timeout_ms)) < 0 ||
		    (rc = ist_get_u32(st, tcp, p, "maxConnections", false, 0, INT32_MAX,
				      &c->max_connections)) < 0)
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
				      &c->max_pending_requests)) < 0 ||
		    (rc = ist_get_u32(st, http, p, "http2MaxRequests", false, 0, INT32_MAX,
				      &c->max_requests)) < 0 ||
		    (rc = ist_get_u32(st, http, p, "maxRetries", false, 0, INT32_MAX,
				      &c->max_retries)) < 0 ||
		    (rc = ist_get_u32(st, http, p, "maxRequestsPerConnection", false, 0,
				      INT32_MAX, &c->max_rq_per_cx)) < 0)
			return rc;
	}
	return 0;
}

/*
 * outlierDetection, as Pilot writes it into Envoy's outlier_detection:
 * consecutive5xxErrors (default 5; 0 turns that detector off),
 * consecutiveGatewayErrors (default off), with splitExternalLocalOriginErrors
 * consecutiveLocalOriginFailures (default 5), interval (10s),
 * baseEjectionTime (30s), maxEjectionPercent (10) and minHealthPercent (0:
 * Envoy's healthy_panic_threshold; under it ejections are ignored). Envoy's
 * max_ejection_time, which Istio does not set, is 300 s. The deprecated
 * consecutiveErrors is refused by name.
 */
static int
apply_outlier(struct ist *st, const struct yn *od, const char *path, struct hf_model_cluster *c)
{
	struct hf_od_config *o = &c->od;
	uint32_t c5 = 5, cgw = 0, clo = 5, maxp = 10, minh = 0;
	bool split = false;
	int rc;

	if ((rc = ist_keys(st, od, path, od_keys, od_later)) < 0 ||
	    (rc = ist_get_u32(st, od, path, "consecutive5xxErrors", false, 0, INT32_MAX,
			      &c5)) < 0 ||
	    (rc = ist_get_u32(st, od, path, "consecutiveGatewayErrors", false, 0, INT32_MAX,
			      &cgw)) < 0 ||
	    (rc = ist_get_u32(st, od, path, "consecutiveLocalOriginFailures", false, 0, INT32_MAX,
			      &clo)) < 0 ||
	    (rc = ist_get_bool(st, od, path, "splitExternalLocalOriginErrors", &split)) < 0 ||
	    (rc = ist_get_u32(st, od, path, "maxEjectionPercent", false, 0, 100, &maxp)) < 0 ||
	    (rc = ist_get_u32(st, od, path, "minHealthPercent", false, 0, 100, &minh)) < 0)
		return rc;
	*o = (struct hf_od_config){
		.consecutive_5xx = c5,
		.consecutive_gateway = cgw,
		.consecutive_local = split ? clo : 0,
		.split_local = split,
		.max_ejection_percent = (uint8_t)maxp,
		.min_health_percent = (uint8_t)minh,
		.interval_ms = 10000,
		.base_ejection_ms = 30000,
		.max_ejection_ms = 300000,
	};
	if ((rc = ist_get_ms(st, od, path, "interval", &o->interval_ms)) < 0 ||
	    (rc = ist_get_ms(st, od, path, "baseEjectionTime", &o->base_ejection_ms)) < 0)
		return rc;
	c->outlier = true;
	return 0;
}

/* Reads @p file into *@p out for field @p key of @p tls; a failure names the field. */
static int
read_pem(struct ist *st, const struct yn *tls, const char *path, const char *key,
	 const char *file, char **out, size_t *len)
{
	char q[IST_PATH];
	int rc = hf_file_read(file, out, len);

	if (rc == -ENOMEM)
		return ist_oom(st);
	if (rc < 0)
		return ist_fail(st, ist_get(tls, key), ist_path(q, path, key),
				"cannot read '%s': %s", file, strerror(-rc));
	return 0;
}

/* A credentialName is a Kubernetes secret name: DNS-1123 (a-z, 0-9, '-', '.'), no path. */
static bool
credential_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 253 || strstr(s, "..") != NULL)
		return false;
	for (const char *c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '.'))
			return false;
	return true;
}

/*
 * The files of a tls block into @p t: our certificate and key (MUTUAL, from
 * clientCertificate/privateKey or the credential's tls.crt/tls.key), the
 * CAs the server must chain to (caCertificates, the credential's ca.crt or
 * Istio's <name>-cacert/ca.crt, else the system bundle, as Istio does since
 * 1.20 with VERIFY_CERTIFICATE_AT_CLIENT), unless insecureSkipVerify.
 */
static int
load_files(struct ist *st, const struct yn *tls, const char *path, struct hf_model_up_tls *t)
{
	const char *cert = NULL, *key = NULL, *ca = NULL, *cred = NULL;
	char q[IST_PATH], f[4096];
	int rc;

	ist_get_str(st, tls, path, "clientCertificate", false, &cert);
	ist_get_str(st, tls, path, "privateKey", false, &key);
	ist_get_str(st, tls, path, "caCertificates", false, &ca);
	ist_get_str(st, tls, path, "credentialName", false, &cred);
	if (cred != NULL) {
		const struct yn *at = ist_get(tls, "credentialName");

		ist_path(q, path, "credentialName");
		if (st->creds_dir == NULL || st->creds_dir[0] == '\0')
			return ist_fail(st, at, q, "credentialName '%s' needs "
					"config.credentials_dir in the bootstrap (a folder per "
					"name with tls.crt, tls.key and ca.crt)", cred);
		if (!credential_ok(cred))
			return ist_fail(st, at, q, "'%s' is not a credential name (a Kubernetes "
					"secret name: a-z, 0-9, '-', '.')", cred);
		snprintf(f, sizeof(f), "%s/%s/tls.crt", st->creds_dir, cred);
		if ((rc = read_pem(st, tls, path, "credentialName", f, &t->cert_pem,
				   &t->cert_len)) < 0)
			return rc;
		snprintf(f, sizeof(f), "%s/%s/tls.key", st->creds_dir, cred);
		if ((rc = read_pem(st, tls, path, "credentialName", f, &t->key_pem,
				   &t->key_len)) < 0)
			return rc;
		if (!t->insecure_skip_verify) {
			snprintf(f, sizeof(f), "%s/%s/ca.crt", st->creds_dir, cred);
			rc = hf_file_read(f, &t->ca_pem, &t->ca_len);
			if (rc == -ENOENT) {
				snprintf(f, sizeof(f), "%s/%s-cacert/ca.crt", st->creds_dir, cred);
				rc = hf_file_read(f, &t->ca_pem, &t->ca_len);
			}
			if (rc < 0 && rc != -ENOENT)
				return rc == -ENOMEM ? ist_oom(st) :
				       ist_fail(st, at, q, "cannot read '%s': %s", f,
						strerror(-rc));
		}
	} else if (cert != NULL) {
		if ((rc = read_pem(st, tls, path, "clientCertificate", cert, &t->cert_pem,
				   &t->cert_len)) < 0 ||
		    (rc = read_pem(st, tls, path, "privateKey", key, &t->key_pem, &t->key_len)) < 0)
			return rc;
	}
	if (t->insecure_skip_verify || t->ca_pem != NULL)
		return 0;
	if (ca != NULL)
		return read_pem(st, tls, path, "caCertificates", ca, &t->ca_pem, &t->ca_len);
	snprintf(f, sizeof(f), "%s", X509_get_default_cert_file());
	rc = hf_file_read(f, &t->ca_pem, &t->ca_len);
	if (rc == -ENOMEM)
		return ist_oom(st);
	if (rc < 0)
		return ist_fail(st, tls, path, "no caCertificates, and the system CA bundle '%s' "
				"cannot be read (%s): give caCertificates, or insecureSkipVerify: "
				"true", f, strerror(-rc));
	return 0;
}

/*
 * tls: DISABLE, SIMPLE, MUTUAL (Istio's ClientTLSSettings). Checked whole
 * and its files read and built into a client SSL_CTX here, so what a worker
 * would refuse is refused at load with the field that named it; the result
 * replaces the cluster's previous TLS settings (a port's or a subset's
 * policy over the rule's).
 */
static int
apply_tls(struct ist *st, const struct yn *tls, const char *path, struct hf_model_cluster *c)
{
	static const char *const modes[] = {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL};
	const char *cert = NULL, *key = NULL, *ca = NULL, *cred = NULL, *sni = NULL;
	const struct yn *sans = NULL;
	struct hf_model_up_tls *t;
	struct hf_tls_client_config cc;
	char p[IST_PATH], err[256];
	bool skip = false;
	int rc, mode = HF_TLS_DISABLE;
	SSL_CTX *ctx;

	if ((rc = ist_get_enum(st, tls, path, "mode", modes,
			       "DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL", &mode)) < 0 ||
	    (rc = ist_keys(st, tls, path, tls_keys, tls_later)) < 0 ||
	    (rc = ist_get_str(st, tls, path, "clientCertificate", false, &cert)) < 0 ||
	    (rc = ist_get_str(st, tls, path, "privateKey", false, &key)) < 0 ||
	    (rc = ist_get_str(st, tls, path, "caCertificates", false, &ca)) < 0 ||
	    (rc = ist_get_str(st, tls, path, "credentialName", false, &cred)) < 0 ||
	    (rc = ist_get_str(st, tls, path, "sni", false, &sni)) < 0 ||
	    (rc = ist_get_strs(st, tls, path, "subjectAltNames", false, &sans)) < 0 ||
	    (rc = ist_get_bool(st, tls, path, "insecureSkipVerify", &skip)) < 0)
		return rc;
	hf_model_up_tls_free(c->up_tls);
	c->up_tls = NULL;
	c->tls_mode = (enum hf_tls_mode)mode;
	if (mode == HF_TLS_DISABLE)
		return 0;
	if (mode == HF_TLS_ISTIO_MUTUAL && st->identity == NULL)
		return ist_fail(st, ist_get(tls, "mode"), ist_path(p, path, "mode"), "ISTIO_MUTUAL "
				"needs the node's mesh identity: an identity block in the "
				"bootstrap (cert_chain, key, root_cert; scripts/meshca.sh makes "
				"them)");
	if (mode == HF_TLS_ISTIO_MUTUAL && (cert != NULL || key != NULL || ca != NULL ||
					    cred != NULL || skip)) {
		const char *k = cert != NULL ? "clientCertificate" : key != NULL ? "privateKey" :
				ca != NULL ? "caCertificates" : cred != NULL ? "credentialName" :
				"insecureSkipVerify";

		return ist_fail(st, ist_get(tls, k), ist_path(p, path, k), "mode ISTIO_MUTUAL uses "
				"the node's mesh identity and root (the bootstrap's identity "
				"block): %s does not go with it", k);
	}
	if (mode == HF_TLS_SIMPLE && (cert != NULL || key != NULL))
		return ist_fail(st, ist_get(tls, cert != NULL ? "clientCertificate" : "privateKey"),
				ist_path(p, path,
					 cert != NULL ? "clientCertificate" : "privateKey"),
				"mode SIMPLE sends no client certificate: clientCertificate and "
				"privateKey go with mode MUTUAL");
	if (mode == HF_TLS_SIMPLE && cred != NULL)
		return ist_fail(st, ist_get(tls, "credentialName"),
				ist_path(p, path, "credentialName"), "mode SIMPLE sends no client "
				"certificate: credentialName goes with mode MUTUAL (give "
				"caCertificates for the CA)");
	if (mode == HF_TLS_MUTUAL && cred != NULL && (cert != NULL || key != NULL || ca != NULL))
		return ist_fail(st, ist_get(tls, "credentialName"),
				ist_path(p, path, "credentialName"), "give credentialName (tls.crt, "
				"tls.key, ca.crt) or the file fields (clientCertificate, privateKey, "
				"caCertificates), not both");
	if (mode == HF_TLS_MUTUAL && cred == NULL && (cert == NULL || key == NULL))
		return ist_fail(st, tls, path, "mode MUTUAL needs clientCertificate and "
				"privateKey, or credentialName");
	if (skip && (ca != NULL || (sans != NULL && sans->n > 0)))
		return ist_fail(st, ist_get(tls, "insecureSkipVerify"),
				ist_path(p, path, "insecureSkipVerify"), "insecureSkipVerify: true "
				"checks nothing of the server: caCertificates and subjectAltNames "
				"would be ignored");
	if (sni != NULL && (sni[0] == '\0' || strlen(sni) > 253 || strchr(sni, '*') != NULL))
		return ist_fail(st, ist_get(tls, "sni"), ist_path(p, path, "sni"), "'%s' is not a "
				"server name (a DNS name without '*', at most 253 characters)",
				sni);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return ist_oom(st);
	c->up_tls = t;
	t->mode = (enum hf_tls_mode)mode;
	t->insecure_skip_verify = skip;
	if (sni != NULL && (t->sni = ist_mdup(sni)) == NULL)
		return ist_oom(st);
	if (sans != NULL && sans->n > 0) {
		if ((t->sans = calloc(sans->n, sizeof(*t->sans))) == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < sans->n; i++) {
			if ((t->sans[i] = ist_mdup(sans->val[i]->s)) == NULL)
				return ist_oom(st);
			t->n_sans = i + 1;
		}
	}
	if (mode == HF_TLS_ISTIO_MUTUAL) {
		/* re-read at each load: a rotated identity is picked up with the next config */
		const struct hf_istio_identity *id = st->identity;

		if ((rc = read_pem(st, tls, path, "mode", id->cert_chain, &t->cert_pem,
				   &t->cert_len)) < 0 ||
		    (rc = read_pem(st, tls, path, "mode", id->key, &t->key_pem, &t->key_len)) < 0 ||
		    (rc = read_pem(st, tls, path, "mode", id->root_cert, &t->ca_pem,
				   &t->ca_len)) < 0)
			return rc;
	} else if ((rc = load_files(st, tls, path, t)) < 0) {
		return rc;
	}
	/* What a worker will build, built once here: a bad file is refused with its field. */
	cc = (struct hf_tls_client_config){
		.id = 1, .mode = (uint8_t)mode, .sni = t->sni,
		.ca_pem = t->ca_pem, .ca_len = (uint32_t)t->ca_len,
		.n_sans = t->n_sans, .sans = (const char *const *)t->sans,
		.cert_pem = t->cert_pem, .cert_len = (uint32_t)t->cert_len,
		.key_pem = t->key_pem, .key_len = (uint32_t)t->key_len,
	};
	ctx = hf_tls_client_ctx_new(NULL, &cc, err, sizeof(err));
	if (ctx == NULL) {
		const char *k = strstr(err, "privateKey") == err ? "privateKey" :
				strstr(err, "clientCertificate") == err ? "clientCertificate" :
				"caCertificates";

		if (cred != NULL)
			k = "credentialName";
		else if (ist_get(tls, k) == NULL)
			k = "mode";
		return ist_fail(st, ist_get(tls, k), ist_path(p, path, k), "%s", err);
	}
	SSL_CTX_free(ctx);
	return 0;
}

int
ist_mesh_sans(struct ist *st, const struct ist_se *se, const struct yn *sel,
	      struct hf_model_cluster *c)
{
	struct hf_model_up_tls *t = c->up_tls;
	unsigned int n = 0;

	if (t == NULL || t->mode != HF_TLS_ISTIO_MUTUAL || t->n_sans > 0 || st->identity == NULL)
		return 0;
	t->sans = calloc((se->sans != NULL ? se->sans->n : 0) + se->n_eps + 1, sizeof(*t->sans));
	if (t->sans == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; se->sans != NULL && i < se->sans->n; i++)
		if ((t->sans[n++] = ist_mdup(se->sans->val[i]->s)) == NULL)
			goto nomem;
	/* the ServiceEntry's subjectAltNames say it all; else its workloads' accounts */
	for (unsigned int i = 0, from_se = n; from_se == 0 && i < se->n_eps; i++) {
		char *id;
		bool dup = false;

		if (se->eps[i].sa == NULL || !ist_labels_match(sel, se->eps[i].labels))
			continue;
		if (asprintf(&id, "spiffe://%s/ns/%s/sa/%s", st->identity->trust_domain,
			     se->res->ns, se->eps[i].sa) < 0)
			goto nomem;
		for (unsigned int k = 0; k < n && !dup; k++)
			dup = strcmp(t->sans[k], id) == 0;
		if (dup)
			free(id);
		else
			t->sans[n++] = id;
	}
	/* without any: Istio checks only that the peer is of the mesh (its root), so do we */
	t->n_sans = n;
	return 0;
nomem:
	t->n_sans = n;
	return ist_oom(st);
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
		/* an entry for another port is only checked: what it read goes */
		hf_model_up_tls_free(scratch.up_tls);
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
		hf_model_up_tls_free(scratch.up_tls);
		scratch.up_tls = NULL;
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
			hf_model_up_tls_free(scratch.up_tls);
			scratch.up_tls = NULL;
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

