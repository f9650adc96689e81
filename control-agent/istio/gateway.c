/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateways into listeners, VirtualServices onto them, and the load itself.
 *
 * A Gateway is this node's when its selector's labels are all among the
 * node's; each port of its servers is one listener (servers of every such
 * Gateway on one port merge). A VirtualService binds to a listener through
 * spec.gateways ("name" in its own namespace, "ns/name"; none means the mesh
 * only), when it is exported to the Gateway's namespace, for each of its
 * hosts a server host on that port admits ("ns/host"; the narrower of the
 * two names becomes the virtual host).
 *
 * TLS servers: PASSTHROUGH ones (protocol TLS or HTTPS, no mode is
 * PASSTHROUGH) are listeners of kind TLS whose VirtualService tls routes are
 * picked by SNI, their sniHosts narrowed to the server hosts as Pilot does;
 * protocol TLS with mode SIMPLE or MUTUAL terminates TLS in front of the
 * port's tcp routes. A port is one or the other: passthrough and terminated
 * servers on one port are refused.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/clock.h"
#include "control-agent/istio/istio-int.h"
#include "dataplane/proxy/listener-t.h"

static const char *const gw_keys[] = {"selector", "servers", NULL};
static const char *const server_keys[] = {"port", "hosts", "tls", "name", NULL};
static const char *const server_later[] = {"bind", "defaultEndpoint", NULL};
static const char *const gport_keys[] = {"number", "name", "protocol", NULL};
static const char *const gport_later[] = {"targetPort", NULL};
/* an HTTP server's tls: httpsRedirect only */
static const char *const gtls_http_keys[] = {"httpsRedirect", NULL};
/* on a TCP server every ServerTLSSettings field waits (httpsRedirect included) */
static const char *const gtls_later[] = {
	"mode", "httpsRedirect", "serverCertificate", "privateKey", "caCertificates", "credentialName",
	"credentialNames", "subjectAltNames", "verifyCertificateSpki", "verifyCertificateHash",
	"minProtocolVersion", "maxProtocolVersion", "cipherSuites", "caCrl", NULL,
};
static const char *const vs_keys[] = {"hosts", "gateways", "http", "tcp", "tls", "exportTo", NULL};
static const char *const l4r_keys[] = {"match", "route", NULL};
static const char *const tcpm_keys[] = {"port", "gateways", NULL};
static const char *const tcpm_later[] = {"destinationSubnets", "sourceLabels", "sourceNamespace",
					 "sourceSubnet", NULL};
/* TLSMatchAttributes */
static const char *const tlsm_keys[] = {"sniHosts", "port", "gateways", NULL};
static const char *const tlsm_later[] = {"destinationSubnets", "sourceLabels", "sourceNamespace",
					 NULL};

/* A server of a selected Gateway, on the listener of its port. */
struct srv {
	const struct ist_res *gw;
	const struct yn *server;
	bool https_redirect;		/* HTTP server with tls.httpsRedirect: every request gets a 301 */
};

struct lsn {
	uint32_t port;
	enum hf_listener_kind kind;	/* TLS: passthrough */
	bool https;			/* TLS terminated in front (HTTP or TCP) */
	unsigned int n_srv;
	struct srv *srv;
	struct hf_model_tls *tls;	/* HTTPS: one server (certificate, read) per srv; moved to the model */
};

/*
 * A host becomes a virtual host's domain, matched against the request's
 * authority: a DNS name, so at most HF_ROUTER_HOST_MAX characters (RFC 1035
 * 2.3.4: 255 octets on the wire, 253 written out). Refused at @p at otherwise.
 */
static int
host_fits(struct ist *st, const struct yn *at, const char *path, const char *host)
{
	if (strlen(host) <= HF_ROUTER_HOST_MAX)
		return 0;
	return ist_fail(st, at, path, "'%.40s...' is %zu characters long: a host name has at most "
			"%d", host, strlen(host), HF_ROUTER_HOST_MAX);
}

static bool
node_has(const struct ist *st, const char *key, const char *value)
{
	size_t kl = strlen(key);

	for (unsigned int i = 0; i < st->n_labels; i++) {
		const char *l = st->labels[i];

		if (strncmp(l, key, kl) == 0 && l[kl] == '=' && strcmp(l + kl + 1, value) == 0)
			return true;
	}
	return false;
}

/* Checks one server; *kind is its listener's kind, *https whether TLS terminates in front. */
static int
check_server(struct ist *st, const struct yn *s, const char *path,
	     enum hf_listener_kind *kind, bool *https)
{
	const struct yn *port, *hosts, *tls = NULL;
	const char *proto, *name;
	char p[IST_PATH], q[IST_PATH];
	uint32_t number;
	int rc;

	if ((rc = ist_want(st, s, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, s, path, server_keys, server_later)) < 0 ||
	    (rc = ist_get_map(st, s, path, "port", true, &port)) < 0 ||
	    (rc = ist_keys(st, port, ist_path(p, path, "port"), gport_keys, gport_later)) < 0 ||
	    (rc = ist_get_u32(st, port, p, "number", true, 1, 65535, &number)) < 0 ||
	    (rc = ist_get_str(st, port, p, "name", false, &name)) < 0 ||
	    (rc = ist_get_str(st, port, p, "protocol", true, &proto)) < 0 ||
	    (rc = ist_get_str(st, s, path, "name", false, &name)) < 0 ||
	    (rc = ist_get_strs(st, s, path, "hosts", true, &hosts)) < 0 ||
	    (rc = ist_get_map(st, s, path, "tls", false, &tls)) < 0)
		return rc;
	ist_path(q, p, "protocol");
	if (strcasecmp(proto, "HTTP") == 0) {
		*kind = HF_LISTENER_HTTP;
	} else if (strcasecmp(proto, "HTTPS") == 0) {
		*kind = HF_LISTENER_HTTP;
		*https = true;
	} else if (strcasecmp(proto, "TCP") == 0 || strcasecmp(proto, "MONGO") == 0 ||
		   strcasecmp(proto, "REDIS") == 0 || strcasecmp(proto, "MYSQL") == 0) {
		*kind = HF_LISTENER_TCP;
	} else if (strcasecmp(proto, "TLS") == 0) {
		/* passthrough by SNI, or (SIMPLE, MUTUAL) terminated in front of tcp routes */
		*kind = HF_LISTENER_TCP;
		*https = true;
	} else if (strcasecmp(proto, "HTTP2") == 0 || strcasecmp(proto, "GRPC") == 0 ||
		   strcasecmp(proto, "GRPC-WEB") == 0) {
		return ist_fail(st, ist_get(port, "protocol"), q, "%s is not supported yet "
				"(HTTP/1.1 only)", proto);
	} else {
		return ist_fail(st, ist_get(port, "protocol"), q, "'%s' is not a Gateway server "
				"protocol (HTTP, HTTPS, TCP, TLS, MONGO)", proto);
	}
	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *h = hosts->val[i]->s, *slash = strchr(h, '/');

		if (slash != NULL && (slash == h || slash[1] == '\0' || strchr(slash + 1, '/')))
			return ist_fail(st, hosts->val[i],
					ist_pathi(q, ist_path(p, path, "hosts"), i),
					"'%s' is not a host or namespace/host", h);
		if ((rc = host_fits(st, hosts->val[i], ist_pathi(q, ist_path(p, path, "hosts"), i),
				    slash != NULL ? slash + 1 : h)) < 0)
			return rc;
	}
	if (*https && tls == NULL && *kind == HF_LISTENER_TCP)
		return ist_fail(st, s, path, "a TLS server needs tls (mode PASSTHROUGH, or SIMPLE "
				"or MUTUAL with a certificate)");
	if (*https && hf_ist_passthrough(tls)) {
		*kind = HF_LISTENER_TLS;
		*https = false;
		return hf_ist_check_passthrough(st, tls, ist_path(p, path, "tls"));
	}
	if (*https)
		return hf_ist_check_https(st, s, tls, path);
	ist_path(p, path, "tls");
	if (tls != NULL) {
		bool redirect;

		if ((rc = ist_keys(st, tls, p, *kind == HF_LISTENER_HTTP ? gtls_http_keys :
					       (const char *const[]){NULL}, gtls_later)) < 0 ||
		    (rc = ist_get_bool(st, tls, p, "httpsRedirect", &redirect)) < 0)
			return rc;
	}
	return 0;
}

/* What a listener serves, for messages. */
static const char *
flavor(enum hf_listener_kind kind, bool https)
{
	if (kind == HF_LISTENER_TLS)
		return "TLS passthrough";
	if (kind == HF_LISTENER_TCP)
		return https ? "TLS terminated" : "TCP";
	return https ? "HTTPS" : "HTTP";
}

static int
add_server(struct ist *st, struct lsn **ls, unsigned int *n, const struct ist_res *gw,
	   const struct yn *s, const char *path, enum hf_listener_kind kind, bool https)
{
	uint32_t port = (uint32_t)strtoul(ist_get(ist_get(s, "port"), "number")->s, NULL, 10);
	struct lsn *l = NULL;
	struct srv *sv;

	for (unsigned int i = 0; i < *n && l == NULL; i++)
		if ((*ls)[i].port == port)
			l = &(*ls)[i];
	if (l == NULL && *n == HF_MAX_LISTENERS) {
		char p[IST_PATH];

		/*
		 * Each worker's listener table has HF_MAX_LISTENERS places: the port
		 * beyond them would not be opened (http.drop.listener_not_opened) while
		 * its routes looked loaded. Refused here, where the file and line say
		 * which server it is.
		 */
		return ist_fail(st, ist_get(ist_get(s, "port"), "number"),
				ist_path(p, path, "port.number"), "port %u would be listener %u: "
				"at most %u ports in all (a listener each)", port, *n + 1,
				HF_MAX_LISTENERS);
	}
	if (l == NULL) {
		l = ist_push(ls, n, sizeof(**ls));
		if (l == NULL)
			return ist_oom(st);
		l->port = port;
		l->kind = kind;
		l->https = https;
		if (https && (l->tls = calloc(1, sizeof(*l->tls))) == NULL)
			return ist_oom(st);
	} else if (l->kind != kind || l->https != https) {
		char p[IST_PATH];

		/*
		 * One filter per port: SNI does not choose between terminating and
		 * passing through (nor between HTTP and TCP behind TLS).
		 */
		return ist_fail(st, ist_get(ist_get(s, "port"), "protocol"),
				ist_path(p, path, "port.protocol"), "port %u already has a server "
				"of protocol %s (Gateway %s/%s); this one is %s: a port serves one "
				"of HTTP, HTTPS, TCP, TLS terminated, TLS passthrough", port,
				flavor(l->kind, l->https), l->srv[0].gw->ns, l->srv[0].gw->name,
				flavor(kind, https));
	}
	if (https) {
		int rc = hf_ist_load_https(st, s, path, l->tls);

		if (rc < 0)
			return rc;
	}
	sv = ist_push(&l->srv, &l->n_srv, sizeof(*sv));
	if (sv == NULL)
		return ist_oom(st);
	sv->gw = gw;
	sv->server = s;
	if (!https && kind == HF_LISTENER_HTTP) {
		char p[IST_PATH];

		ist_get_bool(st, ist_get(s, "tls"), ist_path(p, path, "tls"), "httpsRedirect",
			     &sv->https_redirect);
	}
	return 0;
}

/* Checks every Gateway; the selected ones' servers go onto their listeners. */
static int
gateways(struct ist *st, struct lsn **ls, unsigned int *n)
{
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];
		const struct yn *sel = NULL, *servers;
		char p[IST_PATH];
		bool mine = true;
		int rc;

		if (r->kind != IST_GATEWAY)
			continue;
		ist_set_cur(st, r);
		if ((rc = ist_keys(st, r->spec, "spec", gw_keys, NULL)) < 0 ||
		    (rc = ist_get_strmap(st, r->spec, "spec", "selector", &sel)) < 0 ||
		    (rc = ist_get_seq(st, r->spec, "spec", "servers", true, &servers)) < 0)
			return rc;
		if (servers->n == 0)
			return ist_fail(st, servers, "spec.servers", "needs at least one server");
		for (unsigned int k = 0; sel != NULL && k < sel->n; k++)
			mine &= node_has(st, sel->key[k]->s, sel->val[k]->s);
		for (unsigned int k = 0; k < servers->n; k++) {
			enum hf_listener_kind kind = HF_LISTENER_HTTP;
			bool https = false;

			ist_pathi(p, "spec.servers", k);
			if ((rc = check_server(st, servers->val[k], p, &kind, &https)) < 0 ||
			    (mine && (rc = add_server(st, ls, n, r, servers->val[k], p, kind,
						      https)) < 0))
				return rc;
		}
	}
	return 0;
}

/* ---- tcp routes ---- */

static int
check_l4_block(struct ist *st, const struct yn *m, const char *path, uint32_t *port)
{
	const struct yn *gws;
	int rc;

	if ((rc = ist_want(st, m, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, m, path, tcpm_keys, tcpm_later)) < 0 ||
	    (rc = ist_get_u32(st, m, path, "port", false, 1, 65535, port)) < 0 ||
	    (rc = ist_get_strs(st, m, path, "gateways", false, &gws)) < 0)
		return rc;
	return 0;
}

/* Appends @p vs's tcp routes, as bound by @p b, to @p l: one per applying match block. */
static int
l4_routes(struct ist *st, const struct ist_res *vs, const struct ist_bind *b,
	  struct hf_model_listener *l)
{
	const struct yn *routes = NULL;
	char p[IST_PATH], q[IST_PATH], mp[IST_PATH];
	int rc = ist_get_seq(st, vs->spec, "spec", "tcp", false, &routes);

	if (rc <= 0)
		return rc;
	for (unsigned int i = 0; i < routes->n; i++) {
		const struct yn *r = routes->val[i], *match = NULL, *dests;
		unsigned int blocks;

		ist_pathi(p, "spec.tcp", i);
		if ((rc = ist_want(st, r, p, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, r, p, l4r_keys, NULL)) < 0 ||
		    (rc = ist_get_seq(st, r, p, "match", false, &match)) < 0 ||
		    (rc = ist_get_seq(st, r, p, "route", true, &dests)) < 0)
			return rc;
		/* a TCP listener sends every connection to its first route's first destination */
		if (dests->n > 1)
			return ist_fail(st, dests->val[1], ist_pathi(q, ist_path(mp, p, "route"), 1),
					"weighted tcp routes (%u destinations) are not supported "
					"yet: one destination per route", dests->n);
		blocks = match != NULL && match->n > 0 ? match->n : 1;
		for (unsigned int k = 0; k < blocks; k++) {
			const struct yn *m = match != NULL && match->n > 0 ? match->val[k] : NULL;
			struct hf_model_l4_route *lr;
			uint32_t port = 0;

			if (m != NULL) {
				ist_pathi(mp, ist_path(q, p, "match"), k);
				if ((rc = check_l4_block(st, m, mp, &port)) < 0)
					return rc;
				if (!ist_block_applies(st, vs, m, b))
					continue;
			}
			lr = ist_push(&l->l4_routes, &l->n_l4_routes, sizeof(*lr));
			if (lr == NULL)
				return ist_oom(st);
			lr->port = port;
			if ((rc = ist_destinations(st, vs, dests, ist_path(q, p, "route"), false,
						   &lr->n_clusters, &lr->clusters)) < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- VirtualServices ---- */

static int tls_routes(struct ist *st, const struct ist_res *vs, const struct ist_bind *b,
		      const struct lsn *l, struct hf_model_listener *ml);

/*
 * Checks a VirtualService whole, bound or not, by translating it with every
 * match block kept: its http routes wait in @p keep for the first binding
 * that would make the same ones (what none takes is freed with the stash).
 */
/*
 * What a VirtualService's http routes may depend on besides its own tree:
 * every other resource (ServiceEntries and WorkloadEntries for
 * destinations, DestinationRules for subsets, Gateways; the rest counted
 * too, to be safe) by the parse and tree it came from, in order, and the
 * namespaces that make "name.namespace" a service host. 0 (nothing kept)
 * when a resource came from no cached parse.
 */
static uint64_t
vs_context(const struct ist *st)
{
	uint64_t h = 0xcbf29ce484222325ull;

#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3ull)
	if (st->cache == NULL)
		return 0;
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->parse == 0)
			return 0;
		if (r->kind == IST_VS)
			continue;
		MIX(r->kind);
		MIX(r->parse);
		MIX((uintptr_t)r->root);
	}
	for (unsigned int i = 0; i < st->n_ns; i++) {
		for (const char *p = st->namespaces[i]; *p != '\0'; p++)
			MIX((unsigned char)*p);
		MIX('/');
	}
#undef MIX
	return h != 0 ? h : 1;
}

/* Room for @p n routes as ist_push() counts it (the power of two at or above), so it can grow. */
static struct hf_model_route *
routes_alloc(unsigned int n)
{
	size_t cap = 1;

	while (cap < n)
		cap *= 2;
	return malloc(cap * sizeof(struct hf_model_route));
}

/*
 * The http routes of VirtualService @p vs as an earlier load translated
 * them, lent to @p keep (shallow copies marked borrowed; the model holds the
 * piece): its tree and everything it depends on are those of that load, so
 * every check passed then passes now and the routes are the same.
 */
static int
reuse_vs(struct ist *st, const struct ist_res *vs, struct hf_model_piece *p,
	 struct hf_model_vhost *keep)
{
	const struct hf_model_vhost *from = &p->m.route_configs[0].vhosts[0];
	struct hf_model_route *r = routes_alloc(from->n_routes);

	(void)vs;
	if (r == NULL || hf_model_hold_piece(&st->m, p) != 0) {
		free(r);
		return ist_oom(st);
	}
	memcpy(r, from->routes, from->n_routes * sizeof(*r));
	for (unsigned int i = 0; i < from->n_routes; i++)
		r[i].borrowed = true;
	keep->routes = r;
	keep->n_routes = from->n_routes;
	st->vs_reused++;
	return 0;
}

/*
 * Keeps the http routes VirtualService @p vs became in @p keep for the
 * loads to come: they move into a piece of the cache and @p keep borrows
 * them, as a later load will. Out of memory, they simply stay @p keep's.
 */
static void
keep_vs(struct ist *st, const struct ist_res *vs, struct hf_model_vhost *keep)
{
	struct hf_model_route_config *rc;
	struct hf_model_route *lent;
	struct hf_model_piece *p;
	struct hf_model pm = {0};

	if (st->vs_context == 0 || vs->parse == 0)
		return;
	for (unsigned int i = 0; i < keep->n_routes; i++)
		if (keep->routes[i].ratelimit != NULL || keep->routes[i].borrowed)
			return; /* not the translation's alone */
	rc = calloc(1, sizeof(*rc));
	lent = routes_alloc(keep->n_routes);
	if (rc == NULL || lent == NULL || (rc->vhosts = calloc(1, sizeof(*rc->vhosts))) == NULL) {
		free(rc);
		free(lent);
		return;
	}
	pm.route_configs = rc;
	pm.n_route_configs = 1;
	rc->n_vhosts = 1;
	p = hf_model_piece_new(&pm);
	if (p == NULL || hf_model_hold_piece(&st->m, p) != 0) {
		hf_model_piece_unref(p);
		hf_model_free(&pm);
		free(lent);
		return;
	}
	memcpy(lent, keep->routes, keep->n_routes * sizeof(*lent));
	for (unsigned int i = 0; i < keep->n_routes; i++)
		lent[i].borrowed = true;
	rc->vhosts[0].routes = keep->routes;
	rc->vhosts[0].n_routes = keep->n_routes;
	keep->routes = lent;
	ist_cache_vs_put(st, vs, p);
	hf_model_piece_unref(p);
}

static int
check_vs(struct ist *st, const struct ist_res *vs, struct hf_model_vhost *keep)
{
	const struct yn *hosts, *gws = NULL, *http = NULL, *tcp = NULL, *tls = NULL;
	const struct ist_bind none = {0};
	struct hf_model scratch = {0};
	struct hf_model_piece *kept = ist_cache_vs_find(st, vs);
	char p[IST_PATH];
	int rc;

	/* its tcp and tls routes are checked (and made) where it binds, as always */
	if (kept != NULL)
		return reuse_vs(st, vs, kept, keep);
	if ((rc = ist_keys(st, vs->spec, "spec", vs_keys, NULL)) < 0 ||
	    (rc = ist_get_strs(st, vs->spec, "spec", "hosts", true, &hosts)) < 0 ||
	    (rc = ist_get_strs(st, vs->spec, "spec", "gateways", false, &gws)) < 0 ||
	    (rc = ist_check_export(st, vs->spec, "spec")) < 0 ||
	    (rc = ist_get_seq(st, vs->spec, "spec", "http", false, &http)) < 0 ||
	    (rc = ist_get_seq(st, vs->spec, "spec", "tcp", false, &tcp)) < 0 ||
	    (rc = ist_get_seq(st, vs->spec, "spec", "tls", false, &tls)) < 0)
		return rc;
	for (unsigned int i = 0; i < hosts->n; i++) {
		if (strchr(hosts->val[i]->s, '/') != NULL)
			return ist_fail(st, hosts->val[i], ist_pathi(p, "spec.hosts", i), "'%s' is "
					"not a host", hosts->val[i]->s);
		if ((rc = host_fits(st, hosts->val[i], ist_pathi(p, "spec.hosts", i),
				    hosts->val[i]->s)) < 0)
			return rc;
	}
	for (unsigned int i = 0; gws != NULL && i < gws->n; i++) {
		const char *g = gws->val[i]->s, *slash = strchr(g, '/');

		if (slash != NULL && (slash == g || slash[1] == '\0' || strchr(slash + 1, '/')))
			return ist_fail(st, gws->val[i], ist_pathi(p, "spec.gateways", i), "'%s' "
					"is not a gateway name or namespace/name", g);
	}
	if ((http == NULL || http->n == 0) && (tcp == NULL || tcp->n == 0) &&
	    (tls == NULL || tls->n == 0))
		return ist_fail(st, vs->spec, "spec", "needs http, tls or tcp routes");
	/* tcp and tls routes are cheap to make again: thrown away */
	scratch.listeners = calloc(1, sizeof(*scratch.listeners));
	if (scratch.listeners == NULL)
		return ist_oom(st);
	scratch.n_listeners = 1;
	if ((rc = ist_http_routes(st, vs, &none, keep)) == 0 &&
	    (rc = l4_routes(st, vs, &none, &scratch.listeners[0])) == 0)
		rc = tls_routes(st, vs, &none, NULL, &scratch.listeners[0]);
	hf_model_free(&scratch);
	if (rc == 0)
		keep_vs(st, vs, keep);
	return rc;
}

static const char *
lower(struct ist *st, const char *s)
{
	char *d = ist_strdup(st, s);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* The Gateways of listener @p l that @p vs binds to, into @p gws (room for l->n_srv). */
static unsigned int
bound_gateways(struct ist *st, const struct ist_res *vs, const struct lsn *l,
	       const struct ist_res **gws)
{
	const struct yn *names = ist_get(vs->spec, "gateways");
	const struct yn *export_to = ist_get(vs->spec, "exportTo");
	unsigned int n = 0;

	for (unsigned int i = 0; i < l->n_srv; i++) {
		const struct ist_res *gw = l->srv[i].gw;
		const struct ist_bind one = {.n_gws = 1, .gws = &gw};
		bool seen = false;

		for (unsigned int k = 0; k < n && !seen; k++)
			seen = gws[k] == gw;
		if (!seen && ist_exported(export_to, vs->ns, gw->ns) &&
		    ist_match_gateways(st, vs, names, &one))
			gws[n++] = gw;
	}
	return n;
}

/*
 * The names host @p h (a VirtualService host or sniHost) gets on @p l,
 * appended to *@p out without duplicates: for each host of a server of a
 * Gateway @p vs binds to (@p b) that admits the VirtualService's namespace,
 * the narrower of the two when one covers the other.
 */
static int
narrow(struct ist *st, const struct ist_res *vs, const struct lsn *l, const struct ist_bind *b,
       const char *h, const char ***out, unsigned int *n)
{
	for (unsigned int s = 0; s < l->n_srv; s++) {
		const struct yn *sh = ist_get(l->srv[s].server, "hosts");
		bool bound = false;

		for (unsigned int g = 0; g < b->n_gws && !bound; g++)
			bound = b->gws[g] == l->srv[s].gw;
		for (unsigned int k = 0; bound && k < sh->n; k++) {
			const char *full = sh->val[k]->s, *slash = strchr(full, '/');
			const char *host = slash != NULL ? slash + 1 : full, *d = NULL;
			char ns[256];
			const char **slot;
			bool dup = false;

			snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - full) : 1,
				 slash ? full : "*");
			if (strcmp(ns, ".") == 0)
				snprintf(ns, sizeof(ns), "%s", l->srv[s].gw->ns);
			if (strcmp(ns, "*") != 0 && strcmp(ns, vs->ns) != 0)
				continue;
			/* server hosts are names as written (no short names), any case */
			host = lower(st, host);
			if (host == NULL)
				return ist_oom(st);
			if (ist_host_covers(host, h))
				d = h;
			else if (ist_host_covers(h, host))
				d = host;
			for (unsigned int x = 0; d != NULL && x < *n && !dup; x++)
				dup = strcmp((*out)[x], d) == 0;
			if (d == NULL || dup)
				continue;
			slot = ist_push(out, n, sizeof(**out));
			if (slot == NULL)
				return ist_oom(st);
			*slot = d;
		}
	}
	return 0;
}

/* The virtual host names @p vs gets on @p l: narrow() of each of its hosts. */
static int
vs_domains(struct ist *st, const struct ist_res *vs, const struct lsn *l,
	   const struct ist_bind *b, const char ***out, unsigned int *n)
{
	const struct yn *hosts = ist_get(vs->spec, "hosts");

	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *h = ist_resolve_host(st, hosts->val[i]->s, vs->ns);
		char p[IST_PATH];
		int rc;

		if (h == NULL)
			return ist_oom(st);
		/* A short name grows by its namespace's suffix ("reviews.default.svc.cluster.local"). */
		if ((rc = host_fits(st, hosts->val[i], ist_pathi(p, "spec.hosts", i), h)) < 0 ||
		    (rc = narrow(st, vs, l, b, h, out, n)) < 0)
			return rc;
	}
	return 0;
}

/*
 * An sniHost (TLSMatchAttributes): a host name, "*", or one with a "*."
 * prefix, within one of the VirtualService's hosts as written (Istio: "must
 * be a subset of the corresponding virtual service's hosts").
 */
static int
check_sni_host(struct ist *st, const struct ist_res *vs, const struct yn *at, const char *path,
	       const char *sni)
{
	const struct yn *hosts = ist_get(vs->spec, "hosts");
	const char *star = strchr(sni, '*');
	int rc;

	if (sni[0] == '\0' || strchr(sni, '/') != NULL || strchr(sni, ':') != NULL ||
	    (star != NULL && (star != sni || (sni[1] != '\0' && sni[1] != '.') ||
			      strchr(sni + 1, '*') != NULL)))
		return ist_fail(st, at, path, "'%s' is not an SNI host (a DNS name, \"*\", or "
				"\"*.\" and a domain)", sni);
	if ((rc = host_fits(st, at, path, sni)) < 0)
		return rc;
	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *h = lower(st, hosts->val[i]->s);

		if (h == NULL)
			return ist_oom(st);
		if (ist_host_covers(h, sni))
			return 0;
	}
	return ist_fail(st, at, path, "'%s' is not within any of the VirtualService's hosts "
			"(an sniHost must be one of them or under one)", sni);
}

/*
 * Appends @p vs's tls routes, as bound by @p b, to passthrough listener @p
 * ml: one per applying match block, its sniHosts narrowed to the hosts of
 * the servers on @p l (NULL: checking only, kept as written), as Pilot
 * narrows a passthrough filter chain's server_names. A block left with no
 * name is no route of this listener.
 */
static int
tls_routes(struct ist *st, const struct ist_res *vs, const struct ist_bind *b, const struct lsn *l,
	   struct hf_model_listener *ml)
{
	const struct yn *routes = NULL;
	char p[IST_PATH], q[IST_PATH], mp[IST_PATH], sp[IST_PATH];
	int rc = ist_get_seq(st, vs->spec, "spec", "tls", false, &routes);

	if (rc <= 0)
		return rc;
	for (unsigned int i = 0; i < routes->n; i++) {
		const struct yn *r = routes->val[i], *match, *dests;

		ist_pathi(p, "spec.tls", i);
		if ((rc = ist_want(st, r, p, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, r, p, l4r_keys, NULL)) < 0 ||
		    (rc = ist_get_seq(st, r, p, "match", true, &match)) < 0 ||
		    (rc = ist_get_seq(st, r, p, "route", true, &dests)) < 0)
			return rc;
		if (match->n == 0)
			return ist_fail(st, match, ist_path(q, p, "match"), "a tls route needs at "
					"least one match (with sniHosts)");
		for (unsigned int k = 0; k < match->n; k++) {
			const struct yn *m = match->val[k], *sni, *gws;
			const char **names = NULL;
			unsigned int n = 0;
			struct hf_model_l4_route *lr;
			uint32_t port = 0;

			ist_pathi(mp, ist_path(q, p, "match"), k);
			if ((rc = ist_want(st, m, mp, YN_MAP)) < 0 ||
			    (rc = ist_keys(st, m, mp, tlsm_keys, tlsm_later)) < 0 ||
			    (rc = ist_get_strs(st, m, mp, "sniHosts", true, &sni)) < 0 ||
			    (rc = ist_get_u32(st, m, mp, "port", false, 1, 65535, &port)) < 0 ||
			    (rc = ist_get_strs(st, m, mp, "gateways", false, &gws)) < 0)
				return rc;
			for (unsigned int j = 0; j < sni->n; j++) {
				const char *h = lower(st, sni->val[j]->s);

				if (h == NULL)
					return ist_oom(st);
				ist_pathi(sp, ist_path(sp, mp, "sniHosts"), j);
				if ((rc = check_sni_host(st, vs, sni->val[j], sp, h)) < 0)
					return rc;
				if (l == NULL) {
					const char **slot = ist_push(&names, &n, sizeof(*names));

					if (slot == NULL) {
						free(names);
						return ist_oom(st);
					}
					*slot = h;
				} else if ((rc = narrow(st, vs, l, b, h, &names, &n)) < 0) {
					free(names);
					return rc;
				}
			}
			if (!ist_block_applies(st, vs, m, b) || n == 0) {
				free(names);
				continue;
			}
			lr = ist_push(&ml->l4_routes, &ml->n_l4_routes, sizeof(*lr));
			if (lr == NULL || (lr->sni = calloc(n, sizeof(*lr->sni))) == NULL) {
				free(names);
				return ist_oom(st);
			}
			for (unsigned int j = 0; j < n; j++) {
				if ((lr->sni[j] = ist_mdup(names[j])) == NULL) {
					free(names);
					return ist_oom(st);
				}
				lr->n_sni = j + 1;
			}
			free(names);
			lr->port = port;
			if ((rc = ist_destinations(st, vs, dests, ist_path(q, p, "route"), false,
						   &lr->n_clusters, &lr->clusters)) < 0)
				return rc;
		}
	}
	return 0;
}

static struct hf_model_vhost *
vhost_for(struct hf_model_route_config *rc, const char *d, uint32_t port)
{
	struct hf_model_vhost *vh;
	char name[512];

	snprintf(name, sizeof(name), "%s:%u", d, port);
	for (unsigned int i = 0; i < rc->n_vhosts; i++)
		if (strcmp(rc->vhosts[i].name, name) == 0)
			return &rc->vhosts[i];
	vh = ist_push(&rc->vhosts, &rc->n_vhosts, sizeof(*vh));
	if (vh == NULL || (vh->name = strdup(name)) == NULL)
		return NULL;
	vh->domains = calloc(2, sizeof(*vh->domains));
	if (vh->domains == NULL || (vh->domains[vh->n_domains++] = strdup(d)) == NULL)
		return NULL;
	/* "*" already matches every Host, with or without a port */
	if (strcmp(d, "*") != 0 && (vh->domains[vh->n_domains++] = strdup(name)) == NULL)
		return NULL;
	return vh;
}

/* Moves the routes the check made (the same a binding would make) to the end of @p vh. */
static int
take(struct ist *st, struct hf_model_vhost *from, struct hf_model_vhost *vh)
{
	/* the common case, one VirtualService per host: the whole array changes hands */
	if (vh->n_routes == 0) {
		free(vh->routes);
		vh->routes = from->routes;
		vh->n_routes = from->n_routes;
		from->routes = NULL;
		from->n_routes = 0;
		return 0;
	}
	/* one growth to the capacity ist_push() would have reached (a power of two), one copy */
	if (from->n_routes > 0) {
		unsigned int n = vh->n_routes + from->n_routes;
		size_t cap = 1;
		struct hf_model_route *r;

		while (cap < n)
			cap *= 2;
		r = realloc(vh->routes, cap * sizeof(*r));
		if (r == NULL)
			return ist_oom(st); /* what is left stays in @p from, freed with the stash */
		memcpy(r + vh->n_routes, from->routes, from->n_routes * sizeof(*r));
		vh->routes = r;
		vh->n_routes = n;
	}
	free(from->routes);
	from->routes = NULL;
	from->n_routes = 0;
	return 0;
}

/* Puts @p vh's https redirect first (once): Envoy checks require_tls before any route. */
static int
redirect_first(struct ist *st, struct hf_model_vhost *vh)
{
	struct hf_model_route *r;

	if (vh->n_routes > 0 && vh->routes[0].name != NULL &&
	    strcmp(vh->routes[0].name, "https_redirect") == 0)
		return 0;
	r = ist_push(&vh->routes, &vh->n_routes, sizeof(*r));
	if (r == NULL)
		return ist_oom(st);
	memmove(vh->routes + 1, vh->routes, sizeof(*r) * (vh->n_routes - 1));
	r = &vh->routes[0];
	memset(r, 0, sizeof(*r));
	r->action = HF_ACTION_REDIRECT;
	r->redirect_code = 301;
	if ((r->name = ist_mdup("https_redirect")) == NULL ||
	    (r->redirect_scheme = ist_mdup("https")) == NULL)
		return ist_oom(st);
	return 0;
}

/*
 * httpsRedirect on HTTP servers (Istio sets require_tls ALL on their
 * virtual hosts): the virtual hosts of @p l whose names a redirecting
 * server's hosts cover answer every request with a 301 to https, the host
 * without its port, the path and query kept (http_route.c writes the
 * Location). A host no VirtualService bound gets a virtual host of its own,
 * so the redirect needs no route behind it, as in Istio.
 */
static int
https_redirects(struct ist *st, const struct lsn *l, struct hf_model_route_config *rc)
{
	for (unsigned int s = 0; s < l->n_srv; s++) {
		const struct yn *sh = ist_get(l->srv[s].server, "hosts");

		if (!l->srv[s].https_redirect)
			continue;
		for (unsigned int k = 0; k < sh->n; k++) {
			const char *full = sh->val[k]->s, *slash = strchr(full, '/');
			const char *host = lower(st, slash != NULL ? slash + 1 : full);
			struct hf_model_vhost *vh;
			int err;

			if (host == NULL)
				return ist_oom(st);
			for (unsigned int v = 0; v < rc->n_vhosts; v++)
				if (ist_host_covers(host, rc->vhosts[v].domains[0]) &&
				    (err = redirect_first(st, &rc->vhosts[v])) < 0)
					return err;
			vh = vhost_for(rc, host, l->port);
			if (vh == NULL)
				return ist_oom(st);
			if ((err = redirect_first(st, vh)) < 0)
				return err;
		}
	}
	return 0;
}

static int
bind_listener(struct ist *st, const struct lsn *l, struct hf_model_listener *ml)
{
	const struct ist_res **gws = calloc(l->n_srv, sizeof(*gws));
	const char **domains = NULL;
	int rc = 0;

	if (gws == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; rc == 0 && i < st->n_res; i++) {
		const struct ist_res *vs = &st->res[i];
		struct ist_bind b = {.port = l->port, .gws = gws};
		unsigned int nd = 0;

		if (vs->kind != IST_VS)
			continue;
		ist_set_cur(st, vs);
		b.n_gws = bound_gateways(st, vs, l, gws);
		if (b.n_gws == 0)
			continue;
		free(domains);
		domains = NULL;
		if ((rc = vs_domains(st, vs, l, &b, &domains, &nd)) < 0 || nd == 0)
			continue;
		if (l->kind == HF_LISTENER_TLS) {
			rc = tls_routes(st, vs, &b, l, ml);
			continue;
		}
		if (l->kind != HF_LISTENER_HTTP) {
			rc = l4_routes(st, vs, &b, ml);
			continue;
		}
		if (ist_get(vs->spec, "http") == NULL)
			continue;
		for (unsigned int d = 0; rc == 0 && d < nd; d++) {
			struct hf_model_vhost *vh;

			vh = vhost_for(&st->m.route_configs[ml->route_config], domains[d],
				       l->port);
			if (vh == NULL)
				rc = ist_oom(st);
			else if (st->stash[i].routes != NULL && ist_http_all_apply(st, vs, &b))
				rc = take(st, &st->stash[i], vh);
			else
				rc = ist_http_routes(st, vs, &b, vh);
		}
	}
	if (rc == 0 && l->kind == HF_LISTENER_HTTP && l->tls == NULL)
		rc = https_redirects(st, l, &st->m.route_configs[ml->route_config]);
	free(domains);
	free(gws);
	return rc;
}

/* One empty virtual host per resource, where each VirtualService's check leaves its routes. */
static int
alloc_stash(struct ist *st)
{
	struct hf_model_route_config *rc = calloc(1, sizeof(*rc));

	st->stash_m.route_configs = rc;
	if (rc == NULL)
		return ist_oom(st);
	st->stash_m.n_route_configs = 1;
	rc->vhosts = calloc(st->n_res + 1, sizeof(*rc->vhosts));
	if (rc->vhosts == NULL)
		return ist_oom(st);
	rc->n_vhosts = st->n_res;
	st->stash = rc->vhosts;
	return 0;
}

/* What no binding took: the routes of unbound VirtualServices, or of partly bound ones. */
static void
free_stash(struct ist *st)
{
	hf_model_free(&st->stash_m);
	st->stash = NULL;
}

static int
listeners(struct ist *st)
{
	struct lsn *ls = NULL;
	unsigned int n = 0;
	int rc;

	rc = alloc_stash(st);
	st->vs_context = vs_context(st);
	if (rc == 0)
		rc = gateways(st, &ls, &n);
	for (unsigned int i = 0; rc == 0 && i < st->n_res; i++)
		if (st->res[i].kind == IST_VS) {
			ist_set_cur(st, &st->res[i]);
			rc = check_vs(st, &st->res[i], &st->stash[i]);
		}
	if (rc == 0)
		rc = ist_clusters(st);
	for (unsigned int i = 0; rc == 0 && i < n; i++) {
		struct hf_model_listener *ml = ist_push(&st->m.listeners, &st->m.n_listeners,
							sizeof(*ml));

		if (ml == NULL || asprintf(&ml->name, "0.0.0.0_%u", ls[i].port) < 0) {
			if (ml != NULL)
				ml->name = NULL;
			rc = ist_oom(st);
			break;
		}
		ml->port = (uint16_t)ls[i].port;
		ml->kind = ls[i].kind;
		ml->route_config = -1;
		/* the servers in the order their Gateways came: the first answers a client without SNI */
		ml->tls = ls[i].tls;
		ls[i].tls = NULL;
		if (ls[i].kind == HF_LISTENER_HTTP) {
			struct hf_model_route_config *rcfg;

			rcfg = ist_push(&st->m.route_configs, &st->m.n_route_configs,
					sizeof(*rcfg));
			if (rcfg == NULL || asprintf(&rcfg->name, "http.%u", ls[i].port) < 0) {
				if (rcfg != NULL)
					rcfg->name = NULL;
				rc = ist_oom(st);
				break;
			}
			ml->route_config = (int)st->m.n_route_configs - 1;
		}
		rc = bind_listener(st, &ls[i], ml);
	}
	for (unsigned int i = 0; i < n; i++) {
		free(ls[i].srv);
		hf_model_tls_free(ls[i].tls);
	}
	free(ls);
	free_stash(st);
	return rc;
}

int
hf_istio_load(const char *path, const char *const *node_labels, unsigned int n_labels,
	      struct hf_model *m, char *err, size_t errlen)
{
	return hf_istio_load_creds(path, node_labels, n_labels, NULL, m, err, errlen);
}

int
hf_istio_load_creds(const char *path, const char *const *node_labels, unsigned int n_labels,
		    const char *credentials_dir, struct hf_model *m, char *err, size_t errlen)
{
	return hf_istio_load_mesh(path, node_labels, n_labels, credentials_dir, NULL, m, err,
				  errlen);
}

int
hf_istio_load_mesh(const char *path, const char *const *node_labels, unsigned int n_labels,
		   const char *credentials_dir, const struct hf_istio_identity *id,
		   struct hf_model *m, char *err, size_t errlen)
{
	const struct hf_istio_node node = {
		.labels = node_labels,
		.n_labels = n_labels,
		.credentials_dir = credentials_dir,
		.identity = id,
	};

	return hf_istio_load_node(path, &node, m, err, errlen);
}

int
hf_istio_load_node(const char *path, const struct hf_istio_node *node, struct hf_model *m,
		   char *err, size_t errlen)
{
	const struct hf_istio_identity *id = node->identity;
	struct ist st = {
		.err = err,
		.errlen = errlen,
		.path = path,
		.creds_dir = node->credentials_dir,
		.identity = id != NULL && id->spiffe != NULL && id->spiffe[0] != '\0' ? id : NULL,
		.labels = node->labels,
		.n_labels = node->n_labels,
		.node_ns = node->ns != NULL && node->ns[0] != '\0' ? node->ns : NULL,
		.root_ns = node->root_ns != NULL && node->root_ns[0] != '\0' ? node->root_ns : NULL,
		.xff_trusted_hops = node->xff_trusted_hops,
		.cache = node->cache,
		.stats = node->stats,
	};
	uint64_t t0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if (node->stats != NULL)
		memset(node->stats, 0, sizeof(*node->stats));
	rc = ist_collect(&st, path);
	/* the files this load did not read are forgotten, whatever became of the load */
	ist_cache_sweep(&st);
	t0 = hf_clock_us();
	if (rc < 0 || (rc = ist_services(&st)) < 0 ||
	    (rc = ist_dest_rules(&st)) < 0 || (rc = listeners(&st)) < 0 ||
	    (rc = ist_envoy_filters(&st)) < 0 || (rc = ist_authz(&st)) < 0 ||
	    (rc = ist_request_authn(&st)) < 0 || (rc = ist_telemetry(&st)) < 0)
		hf_model_free(&st.m);
	else
		*m = st.m;
	if (node->stats != NULL) {
		node->stats->translate_us = hf_clock_us() - t0;
		node->stats->vs_reused = st.vs_reused;
	}
	free(st.res);
	free(st.namespaces);
	free(st.svc);
	ist_arena_free(&st);
	return rc;
}
