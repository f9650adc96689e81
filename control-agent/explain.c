/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /explain: what the workers would do with one request, and why (foilctl
 * explain). The request is parsed, its target shaped and routed by the same
 * code the workers run (hf_h1_parse_request, hf_path_normalize,
 * hf_router_vhost, hf_http_route_select) on the snapshot they hold now, with
 * a Hyperscan scratch of the agent's own, so the answer cannot drift from
 * what a worker does. Before the route, as the workers' filters run: where
 * the JWT rules find a token (hf_jwt_find; the signature is the workers' to
 * check, with key contexts prepared per worker, so explain does not verify
 * it) and the AuthorizationPolicy verdict (hf_authz_check); after it, the
 * local rate limit that applies (hf_rl_pick).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <hs/hs.h>

#include "control-agent/admin.h"
#include "control-agent/explain.h"
#include "dataplane/http/h1.h"
#include "dataplane/http/path.h"
#include "dataplane/proxy/authz.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/proxy/jwt.h"
#include "dataplane/proxy/ratelimit.h"
#include "dataplane/snapshot.h"
#include "lb/lb-t.h"

#define HEAD_MAX 8192
#define FIELD_MAX 2048
#define MAX_HEADERS 32

static const char *const lb_name[] = {
	[HF_LB_ROUND_ROBIN] = "ROUND_ROBIN", [HF_LB_LEAST_REQUEST] = "LEAST_REQUEST",
	[HF_LB_RANDOM] = "RANDOM", [HF_LB_PASSTHROUGH] = "PASSTHROUGH",
	[HF_LB_CONSISTENT_HASH] = "CONSISTENT_HASH",
};

static const char *const tls_mode_name[] = {
	[0] = "DISABLE", [HF_TLS_ORIG_SIMPLE] = "SIMPLE", [HF_TLS_ORIG_MUTUAL] = "MUTUAL",
	[HF_TLS_ORIG_ISTIO_MUTUAL] = "ISTIO_MUTUAL",
};

static const char *const kind_name[] = {
	[HF_LISTENER_HTTP] = "http", [HF_LISTENER_TCP] = "tcp", [HF_LISTENER_TLS] = "tls passthrough",
};

/* The path normalization of the listener on @p port: its own, or the Istio listeners'. */
static enum hf_path_mode
path_mode(const struct hf_proxy_config *pc, uint16_t port)
{
	for (unsigned int i = 0; i < pc->n_listeners; i++)
		if (pc->listeners[i].port == port)
			return pc->listeners[i].http.path_normalization;
	return pc->dynamic_http != NULL ? pc->dynamic_http->path_normalization : HF_PATH_BASE;
}

/*
 * Splits "http://host[:port]/path?q" into authority and target, or takes an
 * origin-form "/path" as it is. Returns 0 or -EINVAL.
 */
static int
split_url(const char *url, char *authority, size_t acap, const char **target)
{
	const char *p = url, *slash;
	size_t n;

	if (url[0] == '/') {
		*target = url;
		return 0;
	}
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "https://", 8) == 0)
		p += 8;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= acap)
		return -EINVAL;
	memcpy(authority, p, n);
	authority[n] = '\0';
	*target = slash != NULL ? slash : "/";
	return 0;
}

/* The port of authority @p a ("host:port"), or @p dflt. */
static uint16_t
authority_port(const char *a, uint16_t dflt)
{
	const char *c = strrchr(a, ':');
	unsigned long v;
	char *end;

	if (c == NULL || strchr(a, ']') > c)
		return dflt;
	v = strtoul(c + 1, &end, 10);
	return *end == '\0' && v > 0 && v < 65536 ? (uint16_t)v : dflt;
}

static void
put_slice(struct hf_strbuf *b, const char *p, size_t n)
{
	hf_strbuf_printf(b, "%.*s", (int)n, p);
}

static void
put_endpoints(struct hf_strbuf *b, const struct hf_snap_cluster *cl)
{
	char ip[INET_ADDRSTRLEN];

	if (cl->n_endpoints == 0) {
		hf_strbuf_printf(b, "      endpoints: none: the request would get 503 UH "
				 "(no healthy upstream)\n");
		return;
	}
	hf_strbuf_printf(b, "      endpoints (%u, %s):", cl->n_endpoints,
			 cl->lb < sizeof(lb_name) / sizeof(lb_name[0]) ? lb_name[cl->lb] : "?");
	for (unsigned int i = 0; i < cl->n_endpoints && i < 16; i++) {
		struct in_addr a = {.s_addr = cl->endpoints[i].addr};

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		hf_strbuf_printf(b, " %s:%u", ip, ntohs(cl->endpoints[i].port));
		if (cl->endpoints[i].weight != 1)
			hf_strbuf_printf(b, " (weight %u)", cl->endpoints[i].weight);
	}
	hf_strbuf_printf(b, "%s\n", cl->n_endpoints > 16 ? " ..." : "");
}

static void
put_cluster(struct hf_strbuf *b, const struct hf_snapshot *s, int idx, uint32_t weight,
	    uint32_t total)
{
	const struct hf_snap_cluster *cl;

	if (idx < 0 || (unsigned int)idx >= s->n_clusters) {
		hf_strbuf_printf(b, "  cluster: none (index %d)\n", idx);
		return;
	}
	cl = &s->clusters[idx];
	hf_strbuf_printf(b, "  cluster: %s", cl->name);
	if (total != 0)
		hf_strbuf_printf(b, " (weight %u of %u: %.1f%% of requests)", weight, total,
				 100.0 * weight / total);
	hf_strbuf_printf(b, "\n      connect timeout %u ms; TLS origination %s", cl->connect_timeout_ms,
			 cl->tls == NULL ? "none (plaintext)" :
			 cl->tls->mode < sizeof(tls_mode_name) / sizeof(tls_mode_name[0]) ?
			 tls_mode_name[cl->tls->mode] : "?");
	if (cl->tls != NULL && cl->tls->sni != NULL)
		hf_strbuf_printf(b, ", SNI %s", cl->tls->sni);
	hf_strbuf_printf(b, "\n");
	put_endpoints(b, cl);
}

static void
put_route(struct hf_strbuf *b, const struct hf_snapshot *s, const struct hf_vhost *vh,
	  const struct hf_route *r)
{
	unsigned int idx = (unsigned int)(r - vh->routes);

	hf_strbuf_printf(b, "route: %s (route %u of %u in this virtual host, one per match "
			 "alternative: the first whose match holds", r->name[0] != '\0' ? r->name : "(unnamed)", idx + 1,
			 vh->n_routes);
	if (idx > 0)
		hf_strbuf_printf(b, "; the %u before it did not match", idx);
	hf_strbuf_printf(b, ")\n  path match: %s %.*s%s\n",
			 r->match == HF_ROUTE_EXACT ? "exact" : "prefix", (int)r->path_len, r->path,
			 vh->rm != NULL ? " (with its header, query and regex conditions)" : "");
	switch (r->kind) {
	case HF_ROUTE_DIRECT:
		hf_strbuf_printf(b, "  action: direct response %u%s%s\n", r->direct_status,
				 r->direct_body != NULL ? ", body: " : "",
				 r->direct_body != NULL ? r->direct_body : "");
		return;
	case HF_ROUTE_REDIRECT:
		hf_strbuf_printf(b, "  action: redirect %u to %s%s%s%s%s\n", r->redirect_code,
				 r->redirect_scheme ? r->redirect_scheme : "(same scheme)",
				 r->redirect_authority ? " host " : "",
				 r->redirect_authority ? r->redirect_authority : "",
				 r->redirect_uri ? " path " : "", r->redirect_uri ? r->redirect_uri : "");
		return;
	default:
		break;
	}
	hf_strbuf_printf(b, "  action: forward; timeout %s", r->timeout_ms ? "" : "none");
	if (r->timeout_ms)
		hf_strbuf_printf(b, "%u ms", r->timeout_ms);
	if (r->retry.attempts) {
		hf_strbuf_printf(b, "; retries %u", r->retry.attempts);
		if (r->retry.per_try_timeout_ms)
			hf_strbuf_printf(b, " (per try %u ms)", r->retry.per_try_timeout_ms);
	}
	if (r->fault.abort_ppm)
		hf_strbuf_printf(b, "; fault abort %u for %.4f%%", r->fault.abort_status,
				 r->fault.abort_ppm / 1e4);
	if (r->fault.delay_ppm)
		hf_strbuf_printf(b, "; fault delay %u ms for %.4f%%", r->fault.delay_ms,
				 r->fault.delay_ppm / 1e4);
	if (r->rewrite_uri != NULL)
		hf_strbuf_printf(b, "; path rewritten to %.*s", (int)r->rewrite_uri_len,
				 r->rewrite_uri);
	if (r->rewrite_authority != NULL)
		hf_strbuf_printf(b, "; authority rewritten to %s", r->rewrite_authority);
	if (r->mirror_cluster >= 0 && (unsigned int)r->mirror_cluster < s->n_clusters)
		hf_strbuf_printf(b, "; mirrored to %s for %.4f%%", s->clusters[r->mirror_cluster].name,
				 r->mirror_ppm / 1e4);
	hf_strbuf_printf(b, "\n");
	if (r->dests == NULL || r->n_dests == 0) {
		put_cluster(b, s, r->cluster, 0, 0);
		return;
	}
	for (unsigned int i = 0; i < r->n_dests; i++) {
		uint32_t prev = i > 0 ? r->dests[i - 1].weight_end : 0;

		put_cluster(b, s, r->dests[i].cluster, r->dests[i].weight_end - prev, r->total_weight);
	}
}

static void
put_jwt(struct hf_strbuf *b, const struct hf_jwt_config *cfg, const struct hf_h1_message *msg)
{
	struct hf_jwt_found f;

	if (cfg == NULL) {
		hf_strbuf_printf(b, "jwt: no RequestAuthentication rules\n");
		return;
	}
	if (!hf_jwt_find(cfg, msg, &f)) {
		hf_strbuf_printf(b, "jwt: no token where the rules of %u provider%s look: the request "
				 "goes on without a principal (only an AuthorizationPolicy can "
				 "require one)\n", cfg->n_providers, cfg->n_providers == 1 ? "" : "s");
		return;
	}
	hf_strbuf_printf(b, "jwt: a token (%zu bytes) in %s %.*s: a worker verifies it against "
			 "%u provider%s (an invalid one is answered 401); explain does not check "
			 "signatures\n", f.len,
			 f.loc->from == HF_JWT_FROM_HEADER ? "header" :
			 f.loc->from == HF_JWT_FROM_PARAM ? "query parameter" : "cookie",
			 (int)f.loc->name_len, f.loc->name, cfg->n_providers,
			 cfg->n_providers == 1 ? "" : "s");
}

/* The AuthorizationPolicy verdict, the request's source being @p src (network order). */
static void
put_authz(struct hf_strbuf *b, const struct hf_authz *az, const struct hf_h1_message *msg,
	  uint32_t src, uint16_t port)
{
	static const char *const action[] = {"ALLOW", "DENY", "AUDIT"};
	struct hf_authz_result res;
	struct hf_authz_rq rq = {
		.msg = msg,
		.path = msg->target.p,
		.path_len = msg->target.len,
		.src_ip = src,
		.dst_port = port,
	};
	const char *q = memchr(msg->target.p, '?', msg->target.len);
	char ip[INET_ADDRSTRLEN];

	if (az == NULL) {
		hf_strbuf_printf(b, "authorization: no AuthorizationPolicy selects this gateway: "
				 "allowed\n");
		return;
	}
	if (q != NULL)
		rq.path_len = (uint32_t)(q - msg->target.p);
	inet_ntop(AF_INET, &src, ip, sizeof(ip));
	hf_authz_check(az, &rq, &res);
	if (!res.denied && res.allowed_by != NULL)
		hf_strbuf_printf(b, "authorization: allowed by %s %s/%s", action[HF_AUTHZ_ALLOW],
				 res.allowed_by->ns, res.allowed_by->name);
	else if (!res.denied)
		hf_strbuf_printf(b, "authorization: allowed (no DENY policy matched, no ALLOW "
				 "policy applies)");
	else if (res.policy != NULL)
		hf_strbuf_printf(b, "authorization: denied by %s %s/%s: a worker answers 403 "
				 "(RBAC: access denied)", action[res.policy->action < 3 ?
				 res.policy->action : 1], res.policy->ns, res.policy->name);
	else
		hf_strbuf_printf(b, "authorization: denied, no ALLOW policy matched: a worker "
				 "answers 403 (RBAC: access denied)");
	if (res.n_audited > 0)
		hf_strbuf_printf(b, "; %u AUDIT polic%s matched", res.n_audited,
				 res.n_audited == 1 ? "y" : "ies");
	/* what explain cannot know of a real connection, said rather than guessed */
	hf_strbuf_printf(b, " (as seen from source %s, without a TLS peer or a verified JWT)\n",
			 ip);
}

static void
put_ratelimit(struct hf_strbuf *b, const struct hf_snap_listener *sl, const struct hf_vhost *vh,
	      const struct hf_route *r)
{
	const struct hf_rl_limit *l = hf_rl_pick(sl, vh, r);

	if (l == NULL) {
		hf_strbuf_printf(b, "rate limit: none applies\n");
		return;
	}
	hf_strbuf_printf(b, "rate limit: the %s's bucket: %u tokens, %u every %u ms (split "
			 "among the workers' buckets), enabled for %.4f%%, enforced for "
			 "%.4f%%; when empty a worker answers %u\n",
			 r != NULL && r->ratelimit == l ? "route" :
			 vh != NULL && vh->ratelimit == l ? "virtual host" : "listener",
			 l->max_tokens, l->tokens_per_fill, l->fill_interval_ms,
			 l->enabled_ppm / 1e4, l->enforced_ppm / 1e4, l->status);
}

/* Builds the request head from the query; returns its length or 0 with the reason in @p b. */
static size_t
build_head(const char *query, char *head, size_t cap, uint16_t *port, struct hf_strbuf *b)
{
	static char url[FIELD_MAX], field[FIELD_MAX], method[64], authority[300], pbuf[16];
	const char *target;
	size_t o;
	int n;

	if (hf_admin_query_get(query, "url", url, sizeof(url)) != 0 || url[0] == '\0') {
		hf_strbuf_printf(b, "url: missing; e.g. /explain?method=GET&url=http://host/path"
				 "&header=name:value\n");
		return 0;
	}
	if (hf_admin_query_get(query, "method", method, sizeof(method)) != 0 || method[0] == '\0')
		snprintf(method, sizeof(method), "GET");
	authority[0] = '\0';
	if (split_url(url, authority, sizeof(authority), &target) != 0) {
		hf_strbuf_printf(b, "url: '%s' is neither http://authority/path nor /path\n", url);
		return 0;
	}
	if (authority[0] == '\0' && hf_admin_query_get(query, "host", authority,
						       sizeof(authority)) != 0) {
		hf_strbuf_printf(b, "url: an origin-form target needs host=\n");
		return 0;
	}
	*port = authority_port(authority, 80);
	if (hf_admin_query_get(query, "port", pbuf, sizeof(pbuf)) == 0)
		*port = (uint16_t)strtoul(pbuf, NULL, 10);
	n = snprintf(head, cap, "%s %s HTTP/1.1\r\nhost: %s\r\n", method, target, authority);
	if (n < 0 || (size_t)n >= cap)
		goto too_long;
	o = (size_t)n;
	for (unsigned int i = 0; i < MAX_HEADERS &&
	     hf_admin_query_nth(query, "header", i, field, sizeof(field)) == 0; i++) {
		char *colon = strchr(field, ':');

		if (colon == NULL) {
			hf_strbuf_printf(b, "header: '%s' is not name:value\n", field);
			return 0;
		}
		n = snprintf(head + o, cap - o, "%s\r\n", field);
		if (n < 0 || (size_t)n >= cap - o)
			goto too_long;
		o += (size_t)n;
	}
	if (o + 2 >= cap)
		goto too_long;
	memcpy(head + o, "\r\n", 3);
	return o + 2;
too_long:
	hf_strbuf_printf(b, "the request is longer than %d bytes\n", HEAD_MAX);
	return 0;
}

void
hf_explain(const struct hf_snapshot *s, const struct hf_proxy_config *pc, const char *query,
	   struct hf_admin_reply *r)
{
	static char head[HEAD_MAX], norm[HF_ROUTER_PATH * 4];
	static struct hf_h1_message msg;
	struct hf_strbuf *b = &r->body;
	const struct hf_snap_listener *sl;
	const struct hf_vhost *vh;
	const struct hf_route *route;
	struct hf_h1_limits lim;
	struct hf_h1_scan scan;
	struct hf_h1_target t;
	enum hf_h1_target_form form;
	hs_scratch_t *scratch = NULL;
	uint16_t port = 80;
	uint32_t src = 0;	/* source= (network order); 0.0.0.0 unless given */
	char field[64];
	size_t len;
	int rc;

	if (hf_admin_query_get(query, "source", field, sizeof(field)) == 0 &&
	    inet_pton(AF_INET, field, &src) != 1) {
		r->status = 400;
		hf_strbuf_printf(b, "source: '%s' is not an IPv4 address\n", field);
		return;
	}
	len = build_head(query, head, sizeof(head), &port, b);
	if (len == 0) {
		r->status = 400;
		return;
	}
	if (s == NULL) {
		r->status = 503;
		hf_strbuf_printf(b, "no configuration loaded yet\n");
		return;
	}
	hf_h1_limits_default(&lim);
	hf_h1_scan_reset(&scan);
	rc = hf_h1_parse_request(head, len, &scan, &lim, &msg);
	if (rc < 0) {
		hf_strbuf_printf(b, "request: refused by the parser (%s): a worker answers %d\n",
				 hf_h1_error_name(rc), hf_h1_error_status(rc));
		return;
	}
	hf_strbuf_printf(b, "request: ");
	put_slice(b, msg.method_name.p, msg.method_name.len);
	hf_strbuf_printf(b, " ");
	put_slice(b, msg.target.p, msg.target.len);
	hf_strbuf_printf(b, " host ");
	put_slice(b, msg.host.p, msg.host.len);
	hf_strbuf_printf(b, ", %u header%s; snapshot version %" PRIu64 "\n", msg.n_headers,
			 msg.n_headers == 1 ? "" : "s", s->version);
	sl = hf_snapshot_listener(s, port);
	if (sl == NULL) {
		hf_strbuf_printf(b, "listener: none on port %u: the connection is refused (RST)\n",
				 port);
		return;
	}
	hf_strbuf_printf(b, "listener: port %u, %s%s\n", port,
			 sl->kind < sizeof(kind_name) / sizeof(kind_name[0]) ? kind_name[sl->kind] : "?",
			 sl->tls != NULL ? ", TLS terminated in front" : "");
	if (sl->kind != HF_LISTENER_HTTP) {
		hf_strbuf_printf(b, "  not an HTTP listener: bytes are proxied to ");
		if (sl->cluster >= 0)
			put_cluster(b, s, sl->cluster, 0, 0);
		else
			hf_strbuf_printf(b, "the cluster the SNI picks (tls routes: %u)\n",
					 sl->n_l4_routes);
		return;
	}
	form = hf_h1_target_parse(msg.method, &msg.target, &t);
	if (form != HF_H1_TARGET_ORIGIN && form != HF_H1_TARGET_ABSOLUTE) {
		hf_strbuf_printf(b, "target: not routable (CONNECT, or not a valid origin- or "
				 "absolute-form target): a worker answers 400 or 405\n");
		return;
	}
	rc = hf_path_normalize(path_mode(pc, port), t.path.p, t.path.len, norm, sizeof(norm));
	if (rc < 0) {
		hf_strbuf_printf(b, "path: refused by normalization (%s): a worker answers %d\n",
				 rc == HF_PATH_E_SPACE ? "too long" : "bad encoding or NUL",
				 rc == HF_PATH_E_SPACE ? 414 : 400);
		return;
	}
	if (rc > 0) {
		hf_strbuf_printf(b, "path: ");
		put_slice(b, t.path.p, t.path.len);
		hf_strbuf_printf(b, " normalized to %.*s\n", rc, norm);
		t.path = (struct hf_h1_slice){norm, (uint32_t)rc};
	}
	msg.target = t.path;
	if (form == HF_H1_TARGET_ABSOLUTE)
		msg.host = t.authority;
	put_jwt(b, s->jwt, &msg);
	put_authz(b, s->authz, &msg, src, port);
	vh = hf_router_vhost(&sl->table, msg.host.p, msg.host.len);
	if (vh == NULL) {
		hf_strbuf_printf(b, "virtual host: none of the %u matches authority ",
				 sl->table.n_vhosts);
		put_slice(b, msg.host.p, msg.host.len);
		hf_strbuf_printf(b, ": 404 NR (route_not_found)\n");
		return;
	}
	hf_strbuf_printf(b, "virtual host: %s (domains:", vh->name);
	for (unsigned int i = 0; i < vh->n_domains; i++)
		hf_strbuf_printf(b, " %s", vh->domains[i]);
	hf_strbuf_printf(b, ")\n");
	if (s->scratch[0] != NULL && hs_clone_scratch(s->scratch[0], &scratch) != HS_SUCCESS) {
		r->status = 500;
		hf_strbuf_printf(b, "out of memory for a Hyperscan scratch\n");
		return;
	}
	route = hf_http_route_select(vh, scratch, &msg, port);
	hs_free_scratch(scratch);
	if (route == NULL) {
		hf_strbuf_printf(b, "route: none of its %u routes matches: 404 NR "
				 "(route_not_found)\n", vh->n_routes);
		return;
	}
	put_route(b, s, vh, route);
	put_ratelimit(b, sl, vh, route);
}
