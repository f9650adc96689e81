/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's model as Envoy v3 resources in JSON (config_dump.h), for the
 * configuration that did not come as Envoy resources: the bootstrap's
 * static_resources and what the Istio YAML path compiled. The shapes are the
 * ones istiod would have sent for the same configuration (an HTTP listener
 * with an HTTP connection manager fed by RDS, EDS clusters, routes with
 * Envoy's match and action fields), so the dump reads the same whichever
 * path configured the gateway. Private keys are never written.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "control-agent/config_dump.h"

#define T   "type.googleapis.com/"
#define HCM "envoy.filters.network.http_connection_manager"
#define HCM_TYPE                                                                                   \
	T "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
#define TCP_PROXY      "envoy.filters.network.tcp_proxy"
#define TCP_PROXY_TYPE T "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
#define TLS_SOCKET     "envoy.transport_sockets.tls"

static json_t *
typed(const char *type)
{
	json_t *o = json_object();

	json_object_set_new(o, "@type", json_string(type));
	return o;
}

static json_t *
duration_ms(uint64_t ms)
{
	char b[32];

	if (ms % 1000 == 0)
		snprintf(b, sizeof(b), "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(b, sizeof(b), "%llu.%03llus", (unsigned long long)(ms / 1000),
		         (unsigned long long)(ms % 1000));
	return json_string(b);
}

static json_t *
socket_address(uint32_t addr, uint16_t port)
{
	json_t *a = json_object(), *sa = json_object();
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	json_object_set_new(sa, "address", json_string(ip));
	json_object_set_new(sa, "port_value", json_integer(port));
	json_object_set_new(a, "socket_address", sa);
	return a;
}

static json_t *
ads_source(void)
{
	json_t *cs = json_object();

	json_object_set_new(cs, "ads", json_object());
	json_object_set_new(cs, "resource_api_version", json_string("V3"));
	return cs;
}

/* An Envoy StringMatcher (type.matcher.v3) of @p m; NULL for ANY and PRESENT. */
static json_t *
string_matcher(const struct hf_model_str_match *m)
{
	json_t *o = json_object(), *re;

	switch (m->kind) {
	case HF_MATCH_EXACT: json_object_set_new(o, "exact", json_string(m->value)); break;
	case HF_MATCH_PREFIX: json_object_set_new(o, "prefix", json_string(m->value)); break;
	case HF_MATCH_REGEX:
		re = json_object();
		json_object_set_new(re, "regex", json_string(m->value));
		json_object_set_new(o, "safe_regex", re);
		break;
	default: json_decref(o); return NULL;
	}
	if (m->ignore_case)
		json_object_set_new(o, "ignore_case", json_true());
	return o;
}

/* A HeaderMatcher (or QueryParameterMatcher when @p query) named @p name. */
static json_t *
kv_matcher(const char *name, const struct hf_model_str_match *m, bool absent, bool query)
{
	json_t *o = json_object(), *sm = string_matcher(m);

	json_object_set_new(o, "name", json_string(name));
	if (sm != NULL)
		json_object_set_new(o, "string_match", sm);
	else
		json_object_set_new(o, "present_match", json_true());
	if (absent && !query)
		json_object_set_new(o, "invert_match", json_true());
	return o;
}

static json_t *
route_match(const struct hf_model_route_match *mm)
{
	json_t *o = json_object(), *h, *q, *re;

	if (mm == NULL) {
		/* a route without a match block takes every request */
		json_object_set_new(o, "prefix", json_string("/"));
		return o;
	}
	const struct {
		const char *name;
		const struct hf_model_str_match *m;
	} pseudo[] = {
	        {":method", &mm->method}, {":authority", &mm->authority}, {":scheme", &mm->scheme}};

	h = json_array();
	q = json_array();
	switch (mm->uri.kind) {
	case HF_MATCH_EXACT: json_object_set_new(o, "path", json_string(mm->uri.value)); break;
	case HF_MATCH_PREFIX: json_object_set_new(o, "prefix", json_string(mm->uri.value)); break;
	case HF_MATCH_REGEX:
		re = json_object();
		json_object_set_new(re, "regex", json_string(mm->uri.value));
		json_object_set_new(o, "safe_regex", re);
		break;
	default: json_object_set_new(o, "prefix", json_string("/")); break;
	}
	if (mm->uri.ignore_case)
		json_object_set_new(o, "case_sensitive", json_false());
	for (unsigned int i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (pseudo[i].m->kind != HF_MATCH_ANY)
			json_array_append_new(
			        h, kv_matcher(pseudo[i].name, pseudo[i].m, false, false));
	for (unsigned int i = 0; i < mm->n_headers; i++)
		json_array_append_new(h, kv_matcher(mm->headers[i].name, &mm->headers[i].m,
		                                    mm->headers[i].absent, false));
	for (unsigned int i = 0; i < mm->n_query; i++)
		json_array_append_new(q, kv_matcher(mm->query[i].name, &mm->query[i].m,
		                                    mm->query[i].absent, true));
	if (json_array_size(h) > 0)
		json_object_set(o, "headers", h);
	if (json_array_size(q) > 0)
		json_object_set(o, "query_parameters", q);
	json_decref(h);
	json_decref(q);
	return o;
}

/* request_headers_to_add / _to_remove (or response_) of @p n operations into @p o. */
static void
header_ops(json_t *o, const char *dir, const struct hf_model_header_op *ops, unsigned int n)
{
	json_t *add = json_array(), *del = json_array();
	char key[48];

	for (unsigned int i = 0; i < n; i++) {
		json_t *hv, *h;

		if (ops[i].op == HF_HDR_REMOVE) {
			json_array_append_new(del, json_string(ops[i].name));
			continue;
		}
		hv = json_object();
		h = json_object();
		json_object_set_new(h, "key", json_string(ops[i].name));
		json_object_set_new(h, "value", json_string(ops[i].value ? ops[i].value : ""));
		json_object_set_new(hv, "header", h);
		json_object_set_new(hv, "append_action",
		                    json_string(ops[i].op == HF_HDR_ADD
		                                        ? "APPEND_IF_EXISTS_OR_ADD"
		                                        : "OVERWRITE_IF_EXISTS_OR_ADD"));
		json_array_append_new(add, hv);
	}
	snprintf(key, sizeof(key), "%s_headers_to_add", dir);
	if (json_array_size(add) > 0)
		json_object_set(o, key, add);
	snprintf(key, sizeof(key), "%s_headers_to_remove", dir);
	if (json_array_size(del) > 0)
		json_object_set(o, key, del);
	json_decref(add);
	json_decref(del);
}

/* A FractionalPercent of @p pct (0..100) in millionths. */
static json_t *
percent(double pct)
{
	json_t *o = json_object();

	json_object_set_new(o, "numerator", json_integer((json_int_t)(pct * 10000.0 + 0.5)));
	json_object_set_new(o, "denominator", json_string("MILLION"));
	return o;
}

static void
route_action(json_t *o, const struct hf_model_route *r)
{
	json_t *a = json_object();
	static const struct {
		uint32_t bit;
		const char *name;
	} on[] = {{HF_RETRY_5XX, "5xx"},
	          {HF_RETRY_GATEWAY_ERROR, "gateway-error"},
	          {HF_RETRY_CONNECT_FAILURE, "connect-failure"},
	          {HF_RETRY_RESET, "reset"},
	          {HF_RETRY_RETRIABLE_4XX, "retriable-4xx"},
	          {HF_RETRY_RETRIABLE_CODES, "retriable-status-codes"},
	          {HF_RETRY_REFUSED_STREAM, "refused-stream"}};

	if (r->n_clusters == 1) {
		json_object_set_new(a, "cluster", json_string(r->clusters[0].cluster));
	} else {
		json_t *wc = json_object(), *cl = json_array();

		for (unsigned int i = 0; i < r->n_clusters; i++) {
			json_t *c = json_object();

			json_object_set_new(c, "name", json_string(r->clusters[i].cluster));
			json_object_set_new(c, "weight", json_integer(r->clusters[i].weight));
			header_ops(c, "request", r->clusters[i].rq_ops, r->clusters[i].n_rq_ops);
			header_ops(c, "response", r->clusters[i].rs_ops, r->clusters[i].n_rs_ops);
			json_array_append_new(cl, c);
		}
		json_object_set_new(wc, "clusters", cl);
		json_object_set_new(a, "weighted_clusters", wc);
	}
	json_object_set_new(a, "timeout", duration_ms(r->timeout_ms));
	if (r->rewrite_uri != NULL)
		json_object_set_new(a, "prefix_rewrite", json_string(r->rewrite_uri));
	if (r->rewrite_regex != NULL) {
		json_t *rr = json_object(), *p = json_object();

		json_object_set_new(p, "regex", json_string(r->rewrite_regex));
		json_object_set_new(rr, "pattern", p);
		json_object_set_new(rr, "substitution",
		                    json_string(r->rewrite_regex_sub ? r->rewrite_regex_sub : ""));
		json_object_set_new(a, "regex_rewrite", rr);
	}
	if (r->rewrite_authority != NULL)
		json_object_set_new(a, "host_rewrite_literal", json_string(r->rewrite_authority));
	if (r->retry.attempts > 0) {
		json_t *rp = json_object(), *codes = json_array();
		char ons[160] = "";

		for (unsigned int i = 0; i < sizeof(on) / sizeof(on[0]); i++)
			if (r->retry.on & on[i].bit)
				snprintf(ons + strlen(ons), sizeof(ons) - strlen(ons), "%s%s",
				         ons[0] ? "," : "", on[i].name);
		json_object_set_new(rp, "retry_on", json_string(ons));
		json_object_set_new(rp, "num_retries", json_integer(r->retry.attempts));
		if (r->retry.per_try_timeout_ms > 0)
			json_object_set_new(rp, "per_try_timeout",
			                    duration_ms(r->retry.per_try_timeout_ms));
		for (unsigned int i = 0; i < r->retry.n_codes; i++)
			json_array_append_new(codes, json_integer(r->retry.codes[i]));
		if (r->retry.n_codes > 0)
			json_object_set(rp, "retriable_status_codes", codes);
		json_decref(codes);
		json_object_set_new(a, "retry_policy", rp);
	}
	if (r->mirror_cluster != NULL) {
		json_t *mp = json_array(), *m = json_object(), *rf = json_object();

		json_object_set_new(m, "cluster", json_string(r->mirror_cluster));
		json_object_set_new(rf, "default_value", percent(r->mirror_percent));
		json_object_set_new(m, "runtime_fraction", rf);
		json_array_append_new(mp, m);
		json_object_set_new(a, "request_mirror_policies", mp);
	}
	json_object_set_new(o, "route", a);
}

/* typed_per_filter_config of a route: its fault and CORS settings, as Istio sends them. */
static void
per_filter(json_t *o, const struct hf_model_route *r)
{
	json_t *pf = json_object();

	if (r->fault.abort_status != 0 || r->fault.delay_ms != 0) {
		json_t *f = typed(T "envoy.extensions.filters.http.fault.v3.HTTPFault");

		if (r->fault.delay_ms != 0) {
			json_t *d = json_object();

			json_object_set_new(d, "fixed_delay", duration_ms(r->fault.delay_ms));
			json_object_set_new(d, "percentage", percent(r->fault.delay_percent));
			json_object_set_new(f, "delay", d);
		}
		if (r->fault.abort_status != 0) {
			json_t *ab = json_object();

			json_object_set_new(ab, "http_status", json_integer(r->fault.abort_status));
			json_object_set_new(ab, "percentage", percent(r->fault.abort_percent));
			json_object_set_new(f, "abort", ab);
		}
		json_object_set_new(pf, "envoy.filters.http.fault", f);
	}
	if (r->max_request_bytes > 0) {
		/* a route's body limit, as Envoy sets one: the buffer filter's per-route config */
		json_t *b = typed(T "envoy.extensions.filters.http.buffer.v3.BufferPerRoute");
		json_t *bb = json_object();

		json_object_set_new(bb, "max_request_bytes",
		                    json_integer((json_int_t)r->max_request_bytes));
		json_object_set_new(b, "buffer", bb);
		json_object_set_new(pf, "envoy.filters.http.buffer", b);
	}
	if (r->cors.enabled) {
		json_t *c = typed(T "envoy.extensions.filters.http.cors.v3.CorsPolicy");
		json_t *origins = json_array();

		for (unsigned int i = 0; i < r->cors.n_origins; i++) {
			json_t *sm = string_matcher(&r->cors.origins[i]);

			if (sm != NULL)
				json_array_append_new(origins, sm);
		}
		json_object_set_new(c, "allow_origin_string_match", origins);
		if (r->cors.allow_methods)
			json_object_set_new(c, "allow_methods", json_string(r->cors.allow_methods));
		if (r->cors.allow_headers)
			json_object_set_new(c, "allow_headers", json_string(r->cors.allow_headers));
		if (r->cors.expose_headers)
			json_object_set_new(c, "expose_headers",
			                    json_string(r->cors.expose_headers));
		if (r->cors.max_age_s)
			json_object_set_new(c, "max_age", json_sprintf("%u", r->cors.max_age_s));
		if (r->cors.allow_credentials)
			json_object_set_new(c, "allow_credentials", json_true());
		json_object_set_new(pf, "envoy.filters.http.cors", c);
	}
	if (json_object_size(pf) > 0)
		json_object_set(o, "typed_per_filter_config", pf);
	json_decref(pf);
}

/* The Envoy routes of @p r: one per match (Istio makes one per HTTPMatchRequest too). */
static void
routes(json_t *arr, const struct hf_model_route *r)
{
	for (unsigned int k = 0; k < (r->n_matches > 0 ? r->n_matches : 1); k++) {
		json_t *o = json_object();

		if (r->name != NULL)
			json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "match",
		                    route_match(r->n_matches > 0 ? &r->matches[k] : NULL));
		if (r->action == HF_ACTION_ROUTE) {
			route_action(o, r);
		} else if (r->action == HF_ACTION_REDIRECT) {
			json_t *rd = json_object();
			const char *code = r->redirect_code == 302   ? "FOUND"
			                   : r->redirect_code == 303 ? "SEE_OTHER"
			                   : r->redirect_code == 307 ? "TEMPORARY_REDIRECT"
			                   : r->redirect_code == 308 ? "PERMANENT_REDIRECT"
			                                             : "MOVED_PERMANENTLY";

			if (r->redirect_uri)
				json_object_set_new(rd, "path_redirect",
				                    json_string(r->redirect_uri));
			if (r->redirect_authority)
				json_object_set_new(rd, "host_redirect",
				                    json_string(r->redirect_authority));
			if (r->redirect_scheme)
				json_object_set_new(rd, "scheme_redirect",
				                    json_string(r->redirect_scheme));
			if (r->redirect_port)
				json_object_set_new(rd, "port_redirect",
				                    json_integer(r->redirect_port));
			json_object_set_new(rd, "response_code", json_string(code));
			json_object_set_new(o, "redirect", rd);
		} else {
			json_t *dr = json_object(), *body = json_object();

			json_object_set_new(dr, "status", json_integer(r->direct_status));
			if (r->direct_body != NULL) {
				json_object_set_new(body, "inline_string",
				                    json_string(r->direct_body));
				json_object_set_new(dr, "body", body);
			} else {
				json_decref(body);
			}
			json_object_set_new(o, "direct_response", dr);
		}
		header_ops(o, "request", r->rq_ops, r->n_rq_ops);
		header_ops(o, "response", r->rs_ops, r->n_rs_ops);
		per_filter(o, r);
		json_array_append_new(arr, o);
	}
}

json_t *
hf_dump_route_config(const struct hf_model_route_config *rc)
{
	json_t *o = typed(T "envoy.config.route.v3.RouteConfiguration"), *vhs = json_array();

	json_object_set_new(o, "name", json_string(rc->name));
	for (unsigned int v = 0; v < rc->n_vhosts; v++) {
		const struct hf_model_vhost *vh = &rc->vhosts[v];
		json_t *j = json_object(), *d = json_array(), *rs = json_array();

		json_object_set_new(j, "name", json_string(vh->name ? vh->name : ""));
		for (unsigned int i = 0; i < vh->n_domains; i++)
			json_array_append_new(d, json_string(vh->domains[i]));
		json_object_set_new(j, "domains", d);
		for (unsigned int i = 0; i < vh->n_routes; i++)
			routes(rs, &vh->routes[i]);
		json_object_set_new(j, "routes", rs);
		json_array_append_new(vhs, j);
	}
	json_object_set_new(o, "virtual_hosts", vhs);
	return o;
}

/* The name a TLS server's certificate is shown under in the secrets. */
void
hf_dump_secret_name(char *b, size_t n, const struct hf_model_listener *l, unsigned int i)
{
	const struct hf_model_tls_server *s = &l->tls->servers[i];

	snprintf(b, n, "%s~%s", l->name, s->n_names > 0 ? s->names[0] : "default");
}

static json_t *
tcp_proxy(const char *stat, const struct hf_model_l4_route *r)
{
	json_t *tp = typed(TCP_PROXY_TYPE), *f = json_object();

	json_object_set_new(tp, "stat_prefix", json_string(stat));
	if (r->n_clusters == 1) {
		json_object_set_new(tp, "cluster", json_string(r->clusters[0].cluster));
	} else {
		json_t *wc = json_object(), *cl = json_array();

		for (unsigned int i = 0; i < r->n_clusters; i++) {
			json_t *c = json_object();

			json_object_set_new(c, "name", json_string(r->clusters[i].cluster));
			json_object_set_new(c, "weight", json_integer(r->clusters[i].weight));
			json_array_append_new(cl, c);
		}
		json_object_set_new(wc, "clusters", cl);
		json_object_set_new(tp, "weighted_clusters", wc);
	}
	json_object_set_new(f, "name", json_string(TCP_PROXY));
	json_object_set_new(f, "typed_config", tp);
	return f;
}

json_t *
hf_dump_listener(const struct hf_model *m, const struct hf_model_listener *l)
{
	json_t *o = typed(T "envoy.config.listener.v3.Listener"), *chains = json_array();
	uint32_t any = 0;

	json_object_set_new(o, "name", json_string(l->name));
	json_object_set_new(o, "address", socket_address(any, l->port));
	if (l->kind == HF_LISTENER_HTTP) {
		unsigned int n = l->tls != NULL ? l->tls->n_servers : 1;

		for (unsigned int i = 0; i < n; i++) {
			json_t *fc = json_object(), *fs = json_array(), *f = json_object();
			json_t *h = typed(HCM_TYPE), *rds = json_object(), *hf = json_array();
			json_t *router = json_object();

			json_object_set_new(h, "stat_prefix", json_string(l->name));
			json_object_set_new(rds, "config_source", ads_source());
			json_object_set_new(
			        rds, "route_config_name",
			        json_string(l->route_config >= 0
			                            ? m->route_configs[l->route_config].name
			                            : ""));
			json_object_set_new(h, "rds", rds);
			json_object_set_new(router, "name",
			                    json_string("envoy.filters.http.router"));
			json_object_set_new(
			        router, "typed_config",
			        typed(T "envoy.extensions.filters.http.router.v3.Router"));
			json_array_append_new(hf, router);
			json_object_set_new(h, "http_filters", hf);
			json_object_set_new(f, "name", json_string(HCM));
			json_object_set_new(f, "typed_config", h);
			json_array_append_new(fs, f);
			json_object_set_new(fc, "filters", fs);
			if (l->tls != NULL) {
				const struct hf_model_tls_server *s = &l->tls->servers[i];
				json_t *fcm = json_object(), *sn = json_array(),
				       *ts = json_object();
				json_t *ctx = typed(T "envoy.extensions.transport_sockets.tls.v3."
				                      "DownstreamTlsContext");
				json_t *common = json_object(), *sds = json_array(),
				       *sc = json_object();
				char name[512];

				for (unsigned int k = 0; k < s->n_names; k++)
					json_array_append_new(sn, json_string(s->names[k]));
				json_object_set_new(fcm, "server_names", sn);
				json_object_set_new(fc, "filter_chain_match", fcm);
				hf_dump_secret_name(name, sizeof(name), l, i);
				json_object_set_new(sc, "name", json_string(name));
				json_array_append_new(sds, sc);
				json_object_set_new(common, "tls_certificate_sds_secret_configs",
				                    sds);
				json_object_set_new(ctx, "common_tls_context", common);
				json_object_set_new(ctx, "require_client_certificate",
				                    json_boolean(s->ca_pem != NULL));
				json_object_set_new(ts, "name", json_string(TLS_SOCKET));
				json_object_set_new(ts, "typed_config", ctx);
				json_object_set_new(fc, "transport_socket", ts);
			}
			json_array_append_new(chains, fc);
		}
	} else {
		for (unsigned int i = 0; i < l->n_l4_routes; i++) {
			const struct hf_model_l4_route *r = &l->l4_routes[i];
			json_t *fc = json_object(), *fs = json_array();

			if (r->n_sni > 0) {
				json_t *fcm = json_object(), *sn = json_array();

				for (unsigned int k = 0; k < r->n_sni; k++)
					json_array_append_new(sn, json_string(r->sni[k]));
				json_object_set_new(fcm, "server_names", sn);
				json_object_set_new(fc, "filter_chain_match", fcm);
			}
			json_array_append_new(fs, tcp_proxy(l->name, r));
			json_object_set_new(fc, "filters", fs);
			json_array_append_new(chains, fc);
		}
		if (l->kind == HF_LISTENER_TLS) {
			json_t *lf = json_array(), *ti = json_object();

			json_object_set_new(ti, "name",
			                    json_string("envoy.filters.listener.tls_inspector"));
			json_array_append_new(lf, ti);
			json_object_set_new(o, "listener_filters", lf);
		}
	}
	json_object_set_new(o, "filter_chains", chains);
	return o;
}

static const char *
lb_name(enum hf_lb_policy lb)
{
	switch (lb) {
	case HF_LB_LEAST_REQUEST: return "LEAST_REQUEST";
	case HF_LB_RANDOM: return "RANDOM";
	case HF_LB_PASSTHROUGH: return "CLUSTER_PROVIDED";
	case HF_LB_CONSISTENT_HASH: return "RING_HASH";
	default: return "ROUND_ROBIN";
	}
}

json_t *
hf_dump_cla(const struct hf_model_cluster *c)
{
	json_t *o = typed(T "envoy.config.endpoint.v3.ClusterLoadAssignment"), *eps = json_array();

	json_object_set_new(o, "cluster_name", json_string(c->name));
	/* one LocalityLbEndpoints per locality, in the order they first appear */
	for (unsigned int i = 0; i < c->n_endpoints; i++) {
		const char *loc = c->endpoints[i].locality;
		json_t *group = NULL, *lbs;
		bool seen = false;

		for (unsigned int k = 0; k < i && !seen; k++)
			seen = (loc == NULL && c->endpoints[k].locality == NULL) ||
			       (loc != NULL && c->endpoints[k].locality != NULL &&
			        strcmp(loc, c->endpoints[k].locality) == 0);
		if (seen)
			continue;
		group = json_object();
		if (loc != NULL) {
			char region[128] = "", zone[128] = "", sub[128] = "";
			json_t *l = json_object();

			sscanf(loc, "%127[^/]/%127[^/]/%127s", region, zone, sub);
			json_object_set_new(l, "region", json_string(region));
			json_object_set_new(l, "zone", json_string(zone));
			json_object_set_new(l, "sub_zone", json_string(sub));
			json_object_set_new(group, "locality", l);
		}
		lbs = json_array();
		for (unsigned int k = i; k < c->n_endpoints; k++) {
			const struct hf_model_endpoint *e = &c->endpoints[k];
			json_t *lb, *ep;

			if ((loc == NULL) != (e->locality == NULL) ||
			    (loc != NULL && strcmp(loc, e->locality) != 0))
				continue;
			lb = json_object();
			ep = json_object();
			json_object_set_new(ep, "address", socket_address(e->addr, e->port));
			json_object_set_new(lb, "endpoint", ep);
			json_object_set_new(lb, "health_status", json_string("HEALTHY"));
			json_object_set_new(lb, "load_balancing_weight", json_integer(e->weight));
			json_array_append_new(lbs, lb);
		}
		json_object_set_new(group, "lb_endpoints", lbs);
		json_array_append_new(eps, group);
	}
	json_object_set_new(o, "endpoints", eps);
	return o;
}

json_t *
hf_dump_cluster(const struct hf_model_cluster *c, bool eds)
{
	json_t *o = typed(T "envoy.config.cluster.v3.Cluster");

	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "type", json_string(eds ? "EDS" : "STATIC"));
	if (eds) {
		json_t *ec = json_object();

		json_object_set_new(ec, "eds_config", ads_source());
		json_object_set_new(ec, "service_name", json_string(c->name));
		json_object_set_new(o, "eds_cluster_config", ec);
	}
	json_object_set_new(o, "connect_timeout", duration_ms(c->connect_timeout_ms));
	json_object_set_new(o, "lb_policy", json_string(lb_name(c->lb)));
	if (c->max_connections || c->max_pending_requests || c->max_requests || c->max_retries) {
		json_t *cb = json_object(), *th = json_array(), *t = json_object();

		if (c->max_connections)
			json_object_set_new(t, "max_connections", json_integer(c->max_connections));
		if (c->max_pending_requests)
			json_object_set_new(t, "max_pending_requests",
			                    json_integer(c->max_pending_requests));
		if (c->max_requests)
			json_object_set_new(t, "max_requests", json_integer(c->max_requests));
		if (c->max_retries)
			json_object_set_new(t, "max_retries", json_integer(c->max_retries));
		json_array_append_new(th, t);
		json_object_set_new(cb, "thresholds", th);
		json_object_set_new(o, "circuit_breakers", cb);
	}
	if (c->outlier) {
		json_t *od = json_object();

		json_object_set_new(od, "consecutive_5xx", json_integer(c->od.consecutive_5xx));
		json_object_set_new(od, "consecutive_gateway_failure",
		                    json_integer(c->od.consecutive_gateway));
		json_object_set_new(od, "interval", duration_ms(c->od.interval_ms));
		json_object_set_new(od, "base_ejection_time", duration_ms(c->od.base_ejection_ms));
		json_object_set_new(od, "max_ejection_time", duration_ms(c->od.max_ejection_ms));
		json_object_set_new(od, "max_ejection_percent",
		                    json_integer(c->od.max_ejection_percent));
		if (c->od.split_local) {
			json_object_set_new(od, "split_external_local_origin_errors", json_true());
			json_object_set_new(od, "consecutive_local_origin_failure",
			                    json_integer(c->od.consecutive_local));
		}
		json_object_set_new(o, "outlier_detection", od);
	}
	if (c->up_tls != NULL) {
		json_t *ts = json_object();
		json_t *ctx =
		        typed(T "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
		json_t *common = json_object();

		if (c->up_tls->sni != NULL)
			json_object_set_new(ctx, "sni", json_string(c->up_tls->sni));
		if (c->up_tls->cert_pem != NULL) {
			json_t *sds = json_array(), *sc = json_object();
			char name[512];

			snprintf(name, sizeof(name), "%s~client", c->name);
			json_object_set_new(sc, "name", json_string(name));
			json_array_append_new(sds, sc);
			json_object_set_new(common, "tls_certificate_sds_secret_configs", sds);
		}
		if (c->up_tls->n_sans > 0) {
			json_t *vc = json_object(), *sans = json_array();

			for (unsigned int i = 0; i < c->up_tls->n_sans; i++) {
				json_t *m = json_object(), *sm = json_object();

				json_object_set_new(sm, "exact", json_string(c->up_tls->sans[i]));
				json_object_set_new(m, "matcher", sm);
				json_object_set_new(m, "san_type", json_string("URI"));
				json_array_append_new(sans, m);
			}
			json_object_set_new(vc, "match_typed_subject_alt_names", sans);
			json_object_set_new(common, "validation_context", vc);
		}
		json_object_set_new(ctx, "common_tls_context", common);
		json_object_set_new(ts, "name", json_string(TLS_SOCKET));
		json_object_set_new(ts, "typed_config", ctx);
		json_object_set_new(o, "transport_socket", ts);
	}
	if (!eds)
		json_object_set_new(o, "load_assignment", hf_dump_cla(c));
	return o;
}

/* A Secret holding @p cert (and never the key: "[redacted]"), or a CA as validation_context. */
static json_t *
secret(const char *name, const char *cert, size_t cert_len, bool has_key, const char *ca,
       size_t ca_len)
{
	json_t *o = typed(T "envoy.extensions.transport_sockets.tls.v3.Secret");

	json_object_set_new(o, "name", json_string(name));
	if (cert != NULL) {
		json_t *tc = json_object(), *cc = json_object(), *pk = json_object();

		json_object_set_new(cc, "inline_string", json_stringn(cert, cert_len));
		json_object_set_new(tc, "certificate_chain", cc);
		if (has_key) {
			json_object_set_new(pk, "inline_string", json_string("[redacted]"));
			json_object_set_new(tc, "private_key", pk);
		} else {
			json_decref(pk);
		}
		json_object_set_new(o, "tls_certificate", tc);
	}
	if (ca != NULL) {
		json_t *vc = json_object(), *tca = json_object();

		json_object_set_new(tca, "inline_string", json_stringn(ca, ca_len));
		json_object_set_new(vc, "trusted_ca", tca);
		json_object_set_new(o, "validation_context", vc);
	}
	return o;
}

void
hf_dump_secrets(const struct hf_model *m, json_t *arr, const char *version, uint64_t ms)
{
	char name[512];

#define ADD(s)                                                                                     \
	do {                                                                                       \
		json_t *e = json_object();                                                         \
		json_object_set_new(e, "name", json_string(name));                                 \
		if (version != NULL)                                                               \
			json_object_set_new(e, "version_info", json_string(version));              \
		json_object_set_new(e, "last_updated", hf_json_time_ms(ms));                       \
		json_object_set_new(e, "secret", (s));                                             \
		json_array_append_new(arr, e);                                                     \
	} while (0)
	for (unsigned int i = 0; i < m->n_listeners; i++) {
		const struct hf_model_listener *l = &m->listeners[i];

		for (unsigned int k = 0; l->tls != NULL && k < l->tls->n_servers; k++) {
			const struct hf_model_tls_server *s = &l->tls->servers[k];

			hf_dump_secret_name(name, sizeof(name), l, k);
			ADD(secret(name, s->cert_pem, s->cert_len, s->key_pem != NULL, s->ca_pem,
			           s->ca_len));
		}
	}
	for (unsigned int i = 0; i < m->n_clusters; i++) {
		const struct hf_model_up_tls *t = m->clusters[i].up_tls;

		if (t == NULL || (t->cert_pem == NULL && t->ca_pem == NULL))
			continue;
		snprintf(name, sizeof(name), "%s~client", m->clusters[i].name);
		ADD(secret(name, t->cert_pem, t->cert_len, t->key_pem != NULL, t->ca_pem,
		           t->ca_len));
	}
#undef ADD
}
