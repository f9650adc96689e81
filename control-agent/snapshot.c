/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots: compiled from a model (control thread, off the hot path) and
 * published under RCU (rte_rcu_qsbr). The agent stores the new pointer, takes
 * a grace-period token, and frees the old snapshot once every registered
 * worker has reported a quiescent state after the token — which workers do
 * once per poll loop, after which they hold no snapshot pointer.
 *
 * Everything a snapshot points to lives in its own arena, so a model (or a
 * bootstrap) can be freed or reloaded while workers still read the snapshot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "control-agent/snapshot.h"
#include "control-agent/compile/authz_build.h"
#include "control-agent/compile/rmatch_build.h"
#include "control-agent/ratelimit.h"
#include "control-agent/jwks.h"
#include "tls/tls.h"

/* A cluster's identity across snapshots: FNV-1a over its whole name (hf_snap_cluster.id). */
static uint64_t
cluster_id(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

/* ---- the arena: bump allocation in chunks, freed all at once ---- */

#define ARENA_CHUNK (64 * 1024)

struct hf_snap_arena {
	struct hf_snap_arena *next;
	size_t used, cap;
	max_align_t data[];
};

static void *
arena_alloc(struct hf_snap_arena **a, size_t n)
{
	struct hf_snap_arena *c = *a;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = calloc(1, sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->next = *a;
		*a = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void
arena_free(struct hf_snap_arena *a)
{
	while (a != NULL) {
		struct hf_snap_arena *next = a->next;

		free(a);
		a = next;
	}
}

/* ---- compiling ---- */

struct cc {
	struct hf_snapshot *s;
	const struct hf_model *m;
	char *err;
	size_t errlen;
	bool nomem;
	/* the local rate limits compiled so far, sorted and numbered at the end (cc_rl_table) */
	struct hf_rl_limit **rls;
	unsigned int n_rls;
};

static int __attribute__((format(printf, 2, 3)))
cc_fail(struct cc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void *
cc_alloc(struct cc *c, size_t n)
{
	void *p = arena_alloc(&c->s->arena, n == 0 ? 1 : n);

	if (p == NULL)
		c->nomem = true;
	return p;
}

static const char *
cc_str(struct cc *c, const char *src)
{
	size_t n;
	char *p;

	if (src == NULL)
		return NULL;
	n = strlen(src);
	p = cc_alloc(c, n + 1);
	if (p != NULL)
		memcpy(p, src, n + 1);
	return p;
}

static int
cc_cluster(struct cc *c, const char *name, const char *what)
{
	int i = hf_model_find_cluster(c->m, name);

	if (i < 0)
		cc_fail(c, "%s: no cluster '%s'", what, name);
	return i;
}

static const struct hf_route_hdr_op *
cc_ops(struct cc *c, const struct hf_model_header_op *ops, unsigned int n)
{
	struct hf_route_hdr_op *o = cc_alloc(c, sizeof(*o) * n);

	for (unsigned int i = 0; o != NULL && i < n; i++) {
		o[i].op = (uint8_t)ops[i].op;
		o[i].name = cc_str(c, ops[i].name);
		o[i].name_len = (uint16_t)strlen(ops[i].name);
		o[i].value = cc_str(c, ops[i].value != NULL ? ops[i].value : "");
		o[i].value_len = (uint16_t)(ops[i].value != NULL ? strlen(ops[i].value) : 0);
	}
	return o;
}

static uint32_t
ppm(double percent)
{
	if (percent <= 0)
		return 0;
	if (percent >= 100)
		return 1000000;
	return (uint32_t)(percent * 10000.0 + 0.5);
}

/*
 * Where a route is, for messages: formatted only when one is written (or a
 * rate limit's scope needs it), not for each of 10,000 routes that compile.
 */
struct route_at {
	const char *lname, *vname, *rname;
	unsigned int i;
	char buf[256];
};

static const char *
route_at(struct route_at *at)
{
	if (at->buf[0] == '\0')
		snprintf(at->buf, sizeof(at->buf), "listener %s: virtual host %s: route %u%s%s",
			 at->lname, at->vname, at->i, at->rname != NULL ? " " : "",
			 at->rname != NULL ? at->rname : "");
	return at->buf;
}

/* The index of cluster @p name, or -1 with a message naming the route at @p at. */
static int
cc_route_cluster(struct cc *c, const char *name, struct route_at *at)
{
	int i = hf_model_find_cluster(c->m, name);

	if (i < 0)
		cc_fail(c, "%s: no cluster '%s'", route_at(at), name);
	return i;
}

/* @p src into @p dst of @p cap bytes, cut to fit (as snprintf("%s") would, without its cost). */
static size_t
cc_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/*
 * uriRegexRewrite: the pattern compiled (with JIT) into the snapshot, the
 * substitution turned from RE2's \\1 into PCRE2's $1 ($ itself doubled).
 */
static int
cc_regex_rewrite(struct cc *c, const struct hf_model_route *mr, struct hf_route *r,
		 struct route_at *at)
{
	const char *in = mr->rewrite_regex_sub != NULL ? mr->rewrite_regex_sub : "";
	size_t n = strlen(in);
	char *sub = cc_alloc(c, 2 * n + 1), *o = sub;
	void **grown;
	PCRE2_SIZE eo;
	pcre2_code *re;
	int ec;

	if (sub == NULL)
		return -ENOMEM;
	re = pcre2_compile((PCRE2_SPTR)mr->rewrite_regex, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (re == NULL)
		return cc_fail(c, "%s: uriRegexRewrite.match '%s' does not compile", route_at(at),
			       mr->rewrite_regex);
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	grown = realloc(c->s->regexes, sizeof(*grown) * (c->s->n_regexes + 1));
	if (grown == NULL) {
		pcre2_code_free(re);
		return -ENOMEM;
	}
	c->s->regexes = grown;
	c->s->regexes[c->s->n_regexes++] = re;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
			*o++ = '$';
			*o++ = *++p;
		} else if (*p == '$') {
			*o++ = '$';
			*o++ = '$';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	r->rewrite_re = re;
	r->rewrite_sub = sub;
	r->rewrite_sub_len = (uint16_t)(o - sub);
	return 0;
}

/* FNV-1a over @p n bytes, continuing @p h. */
static uint64_t
rl_fnv(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n-- > 0; b++)
		h = (h ^ *b) * 0x100000001b3ull;
	return h;
}

/*
 * Local rate limit @p ml (NULL: none) of the scope named @p scope into the
 * arena. Its key hashes the scope and every setting, so that a worker keeps
 * the bucket of a limit that a new snapshot carries unchanged (ratelimit.h).
 */
static const struct hf_rl_limit *
cc_rl(struct cc *c, const struct hf_model_ratelimit *ml, const char *scope)
{
	struct hf_rl_limit *l, **grown;
	uint64_t h = 0xcbf29ce484222325ull;

	if (ml == NULL)
		return NULL;
	if (c->n_rls == HF_RL_MAX_LIMITS) {
		cc_fail(c, "%s: more than %d local rate limits", scope, HF_RL_MAX_LIMITS);
		return NULL;
	}
	l = cc_alloc(c, sizeof(*l));
	grown = realloc(c->rls, sizeof(*grown) * (c->n_rls + 1));
	if (l == NULL || grown == NULL) {
		c->nomem = true;
		if (grown != NULL)
			c->rls = grown;
		return NULL;
	}
	c->rls = grown;
	*l = (struct hf_rl_limit){
		.max_tokens = ml->max_tokens,
		.tokens_per_fill = ml->tokens_per_fill,
		.fill_interval_ms = ml->fill_interval_ms,
		.enabled_ppm = ml->enabled_ppm,
		.enforced_ppm = ml->enforced_ppm,
		.status = ml->status >= 400 ? ml->status : 429,
		.stat = hf_rl_stat_index(ml->stat_prefix != NULL ? ml->stat_prefix : ""),
		.x_headers = ml->x_headers,
		.n_headers = (uint16_t)ml->n_headers,
		.headers = cc_ops(c, ml->headers, ml->n_headers),
	};
	h = rl_fnv(h, scope, strlen(scope) + 1);
	h = rl_fnv(h, &l->max_tokens, sizeof(l->max_tokens));
	h = rl_fnv(h, &l->tokens_per_fill, sizeof(l->tokens_per_fill));
	h = rl_fnv(h, &l->fill_interval_ms, sizeof(l->fill_interval_ms));
	l->key = h != 0 ? h : 1;
	c->rls[c->n_rls++] = l;
	return l;
}

static int
rl_by_key(const void *a, const void *b)
{
	uint64_t x = (*(struct hf_rl_limit *const *)a)->key, y = (*(struct hf_rl_limit *const *)b)->key;

	return x < y ? -1 : x > y;
}

/*
 * The snapshot's table of limits, sorted by key, each numbered by its place
 * (the worker's bucket index). Two keys alike (two scopes hashing the same)
 * would merge two buckets: the later one is moved to the next free key.
 */
static int
cc_rl_table(struct cc *c)
{
	const struct hf_rl_limit **t;

	if (c->n_rls == 0)
		return 0;
	qsort(c->rls, c->n_rls, sizeof(*c->rls), rl_by_key);
	for (unsigned int i = 1; i < c->n_rls; i++)
		if (c->rls[i]->key <= c->rls[i - 1]->key)
			c->rls[i]->key = c->rls[i - 1]->key + 1;
	t = cc_alloc(c, sizeof(*t) * c->n_rls);
	if (t == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->n_rls; i++) {
		c->rls[i]->slot = i;
		t[i] = c->rls[i];
	}
	c->s->rl = t;
	c->s->n_rl = c->n_rls;
	return 0;
}

/* One snapshot route from match block @p b (NULL: none) of model route @p mr. */
static int
cc_route(struct cc *c, const struct hf_model_route *mr, const struct hf_model_route_match *b,
	 struct hf_route *r, struct route_at *at)
{
	struct hf_route_dest *d;
	uint32_t cum = 0;

	/* @p r comes zeroed from the arena (calloc): no second pass over 640 bytes a route */
	cc_copy(r->name, sizeof(r->name), mr->name != NULL ? mr->name : "");
	r->match = HF_ROUTE_PREFIX;
	if (b != NULL && (b->uri.kind == HF_MATCH_EXACT || b->uri.kind == HF_MATCH_PREFIX)) {
		if (strlen(b->uri.value) >= sizeof(r->path))
			return cc_fail(c, "%s: path '%.40s...' longer than %zu bytes", route_at(at),
				       b->uri.value, sizeof(r->path) - 1);
		r->match = b->uri.kind == HF_MATCH_EXACT ? HF_ROUTE_EXACT : HF_ROUTE_PREFIX;
		r->path_len = (uint16_t)cc_copy(r->path, sizeof(r->path), b->uri.value);
	} else {
		strcpy(r->path, "/");
		r->path_len = 1;
	}
	r->kind = mr->action == HF_ACTION_REDIRECT ? HF_ROUTE_REDIRECT
		  : mr->action == HF_ACTION_DIRECT ? HF_ROUTE_DIRECT : HF_ROUTE_FORWARD;
	r->cluster = -1;
	r->mirror_cluster = -1;
	if (r->kind == HF_ROUTE_FORWARD) {
		if (mr->n_clusters == 0)
			return cc_fail(c, "%s: a route needs a destination", route_at(at));
		d = cc_alloc(c, sizeof(*d) * mr->n_clusters);
		if (d == NULL)
			return -ENOMEM;
		for (unsigned int i = 0; i < mr->n_clusters; i++) {
			const struct hf_model_weighted *mw = &mr->clusters[i];

			d[i].cluster = cc_route_cluster(c, mw->cluster, at);
			if (d[i].cluster < 0)
				return -EINVAL;
			cum += mw->weight;
			d[i].weight_end = cum;
			d[i].n_rq_ops = (uint16_t)mw->n_rq_ops;
			d[i].n_rs_ops = (uint16_t)mw->n_rs_ops;
			d[i].rq_ops = cc_ops(c, mw->rq_ops, mw->n_rq_ops);
			d[i].rs_ops = cc_ops(c, mw->rs_ops, mw->n_rs_ops);
		}
		if (cum == 0)
			return cc_fail(c, "%s: destination weights add up to 0", route_at(at));
		r->dests = d;
		r->n_dests = (uint16_t)mr->n_clusters;
		r->total_weight = cum;
		r->cluster = d[0].cluster;
	}
	if (mr->rewrite_uri != NULL) {
		r->rewrite_uri = cc_str(c, mr->rewrite_uri);
		r->rewrite_uri_len = (uint16_t)strlen(mr->rewrite_uri);
		r->rewrite_whole = b == NULL || b->uri.kind != HF_MATCH_PREFIX;
		r->strip = r->rewrite_whole ? 0 : r->path_len;
	}
	if (mr->rewrite_regex != NULL && cc_regex_rewrite(c, mr, r, at) != 0)
		return -EINVAL;
	r->rewrite_authority = cc_str(c, mr->rewrite_authority);
	r->timeout_ms = mr->timeout_ms;
	r->max_request_bytes = mr->max_request_bytes;
	r->retry.attempts = mr->retry.attempts;
	r->retry.per_try_timeout_ms = mr->retry.per_try_timeout_ms;
	r->retry.on = mr->retry.on;
	r->retry.n_codes = mr->retry.n_codes;
	if (mr->retry.n_codes > 0) {
		uint16_t *codes = cc_alloc(c, sizeof(uint16_t) * mr->retry.n_codes);

		if (codes != NULL)
			memcpy(codes, mr->retry.codes, sizeof(uint16_t) * mr->retry.n_codes);
		r->retry.codes = codes;
	}
	r->fault.delay_ms = mr->fault.delay_ms;
	r->fault.delay_ppm = mr->fault.delay_ms > 0 ? ppm(mr->fault.delay_percent) : 0;
	r->fault.abort_status = mr->fault.abort_status;
	r->fault.abort_ppm = mr->fault.abort_status > 0 ? ppm(mr->fault.abort_percent) : 0;
	if (mr->mirror_cluster != NULL) {
		r->mirror_cluster = cc_route_cluster(c, mr->mirror_cluster, at);
		if (r->mirror_cluster < 0)
			return -EINVAL;
		r->mirror_ppm = ppm(mr->mirror_percent);
	}
	r->redirect_uri = cc_str(c, mr->redirect_uri);
	r->redirect_authority = cc_str(c, mr->redirect_authority);
	r->redirect_scheme = cc_str(c, mr->redirect_scheme);
	r->redirect_port = mr->redirect_port;
	r->redirect_code = mr->redirect_code != 0 ? mr->redirect_code : 301;
	r->direct_status = mr->direct_status;
	r->direct_body = cc_str(c, mr->direct_body);
	if (mr->cors.enabled) {
		struct hf_route_origin *o = cc_alloc(c, sizeof(*o) * mr->cors.n_origins);

		r->cors.enabled = true;
		r->cors.allow_credentials = mr->cors.allow_credentials;
		r->cors.max_age_s = mr->cors.max_age_s;
		r->cors.n_origins = mr->cors.n_origins;
		for (unsigned int i = 0; o != NULL && i < mr->cors.n_origins; i++) {
			o[i].kind = (uint8_t)mr->cors.origins[i].kind;
			o[i].value = cc_str(c, mr->cors.origins[i].value != NULL
						       ? mr->cors.origins[i].value : "");
			o[i].len = (uint16_t)strlen(o[i].value != NULL ? o[i].value : "");
		}
		r->cors.origins = o;
		r->cors.allow_methods = cc_str(c, mr->cors.allow_methods);
		r->cors.allow_headers = cc_str(c, mr->cors.allow_headers);
		r->cors.expose_headers = cc_str(c, mr->cors.expose_headers);
	}
	r->n_rq_ops = (uint16_t)mr->n_rq_ops;
	r->n_rs_ops = (uint16_t)mr->n_rs_ops;
	r->rq_ops = cc_ops(c, mr->rq_ops, mr->n_rq_ops);
	r->rs_ops = cc_ops(c, mr->rs_ops, mr->n_rs_ops);
	/* Each Envoy route (one per match block) has a bucket of its own, as Envoy's per-route config. */
	if (mr->ratelimit != NULL) {
		char scope[400];

		snprintf(scope, sizeof(scope), "%s: match %ld", route_at(at),
			 b != NULL ? (long)(b - mr->matches) : -1L);
		if ((r->ratelimit = cc_rl(c, mr->ratelimit, scope)) == NULL)
			return c->nomem ? -ENOMEM : -EINVAL;
	}
	return c->nomem ? -ENOMEM : 0;
}

/* True when the only condition of block @p b is a case-sensitive exact or prefix path. */
static bool
simple_block(const struct hf_model_route_match *b)
{
	return (b->uri.kind == HF_MATCH_ANY ||
		((b->uri.kind == HF_MATCH_EXACT || b->uri.kind == HF_MATCH_PREFIX) &&
		 !b->uri.ignore_case)) &&
	       b->scheme.kind == HF_MATCH_ANY && b->method.kind == HF_MATCH_ANY &&
	       b->authority.kind == HF_MATCH_ANY && b->n_headers == 0 && b->n_query == 0 &&
	       b->port == 0;
}

/*
 * Builds the matcher of virtual host @p v from its single-block routes
 * @p flat (Hyperscan for every regex; see rmatch.h), owned by the snapshot.
 */
static int
cc_build_matcher(struct cc *c, struct hf_vhost *v, const struct hf_model_route *flat,
		 unsigned int n)
{
	struct hf_rmatch *rm = hf_rmatch_build(flat, n, c->err, c->errlen);
	struct hf_rmatch **grown;

	if (rm == NULL)
		return -EINVAL;
	grown = realloc(c->s->matchers, sizeof(*grown) * (c->s->n_matchers + 1));
	if (grown == NULL) {
		hf_rmatch_free(rm);
		return -ENOMEM;
	}
	c->s->matchers = grown;
	c->s->matchers[c->s->n_matchers++] = rm;
	v->rm = rm;
	return 0;
}

static int
cc_vhost(struct cc *c, const struct hf_model_vhost *mv, struct hf_vhost *v, const char *lname)
{
	unsigned int n = 0, k = 0;
	struct route_at at = {.lname = lname, .vname = mv->name};
	struct hf_model_route *flat;
	struct hf_route *routes;
	bool simple = true;
	char where[256];
	int rc = 0;

	snprintf(v->name, sizeof(v->name), "%s", mv->name);
	if (mv->n_domains > HF_ROUTER_MAX_DOMAINS)
		return cc_fail(c, "listener %s: virtual host %s: %u domains, at most %d", lname,
			       mv->name, mv->n_domains, HF_ROUTER_MAX_DOMAINS);
	for (unsigned int i = 0; i < mv->n_domains; i++) {
		if (hf_router_domain_valid(mv->domains[i]) != 0)
			return cc_fail(c, "listener %s: virtual host %s: domain '%.40s...' is not "
				       "a name of at most %d characters, maybe with ':port'", lname,
				       mv->name, mv->domains[i], HF_ROUTER_HOST_MAX);
		snprintf(v->domains[i], sizeof(v->domains[i]), "%s", mv->domains[i]);
	}
	v->n_domains = mv->n_domains;
	for (unsigned int i = 0; i < mv->n_routes; i++)
		n += mv->routes[i].n_matches > 0 ? mv->routes[i].n_matches : 1;
	routes = cc_alloc(c, sizeof(*routes) * n);
	/* One single-block model route per snapshot route: the matcher's input. */
	flat = calloc(n == 0 ? 1 : n, sizeof(*flat));
	if (routes == NULL || flat == NULL) {
		free(flat);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < mv->n_routes && rc == 0; i++) {
		const struct hf_model_route *mr = &mv->routes[i];
		unsigned int nb = mr->n_matches > 0 ? mr->n_matches : 1;

		for (unsigned int b = 0; b < nb && rc == 0; b++, k++) {
			const struct hf_model_route_match *blk = mr->n_matches > 0 ? &mr->matches[b] : NULL;

			at.rname = mr->name;
			at.i = i;
			at.buf[0] = '\0';
			rc = cc_route(c, mr, blk, &routes[k], &at);
			flat[k] = *mr;
			flat[k].n_matches = blk != NULL ? 1 : 0;
			flat[k].matches = (struct hf_model_route_match *)blk;
			if (blk != NULL && !simple_block(blk))
				simple = false;
		}
	}
	v->routes = routes;
	v->n_routes = n;
	v->rm = NULL;
	if (rc == 0 && mv->ratelimit != NULL) {
		snprintf(where, sizeof(where), "listener %s: virtual host %s", lname, mv->name);
		if ((v->ratelimit = cc_rl(c, mv->ratelimit, where)) == NULL)
			rc = c->nomem ? -ENOMEM : -EINVAL;
	}
	if (rc == 0 && !simple)
		rc = cc_build_matcher(c, v, flat, n);
	free(flat);
	return rc;
}

/* FNV-1a over @p n bytes, continuing @p h. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n-- > 0; b++)
		h = (h ^ *b) * 0x100000001b3ull;
	return h;
}

/*
 * An HTTPS listener's servers into the arena, as tls/ reads them. The id
 * hashes everything, so a worker rebuilds its contexts only for a listener
 * whose certificates or settings changed.
 */
static const struct hf_tls_listener_config *
cc_tls(struct cc *c, const struct hf_model_tls *mt)
{
	struct hf_tls_listener_config *t = cc_alloc(c, sizeof(*t));
	struct hf_tls_server_config *sv = cc_alloc(c, sizeof(*sv) * mt->n_servers);
	uint64_t h = 0xcbf29ce484222325ull;

	if (t == NULL || sv == NULL)
		return NULL;
	for (unsigned int i = 0; i < mt->n_servers; i++) {
		const struct hf_model_tls_server *ms = &mt->servers[i];
		const char **names = cc_alloc(c, sizeof(*names) * ms->n_names);
		char *cert = cc_alloc(c, ms->cert_len), *key = cc_alloc(c, ms->key_len);

		if (names == NULL || cert == NULL || key == NULL)
			return NULL;
		for (unsigned int k = 0; k < ms->n_names; k++) {
			if ((names[k] = cc_str(c, ms->names[k])) == NULL)
				return NULL;
			h = fnv(h, ms->names[k], strlen(ms->names[k]) + 1);
		}
		memcpy(cert, ms->cert_pem, ms->cert_len);
		memcpy(key, ms->key_pem, ms->key_len);
		sv[i] = (struct hf_tls_server_config){
			.n_names = ms->n_names,
			.names = names,
			.cert_pem = cert,
			.cert_len = (uint32_t)ms->cert_len,
			.key_pem = key,
			.key_len = (uint32_t)ms->key_len,
			.min_version = ms->min_version,
			.max_version = ms->max_version,
			.ciphers = ms->ciphers != NULL ? cc_str(c, ms->ciphers) : NULL,
		};
		if (ms->ciphers != NULL && sv[i].ciphers == NULL)
			return NULL;
		if (ms->ca_pem != NULL) {
			char *ca = cc_alloc(c, ms->ca_len);
			const char **sans = cc_alloc(c, sizeof(*sans) * (ms->n_sans + 1));

			if (ca == NULL || sans == NULL)
				return NULL;
			memcpy(ca, ms->ca_pem, ms->ca_len);
			sv[i].ca_pem = ca;
			sv[i].ca_len = (uint32_t)ms->ca_len;
			h = fnv(h, "ca", 2);
			h = fnv(h, ca, ms->ca_len);
			for (unsigned int k = 0; k < ms->n_sans; k++) {
				if ((sans[k] = cc_str(c, ms->sans[k])) == NULL)
					return NULL;
				h = fnv(h, ms->sans[k], strlen(ms->sans[k]) + 1);
			}
			sv[i].n_sans = ms->n_sans;
			sv[i].sans = sans;
		}
		h = fnv(h, cert, ms->cert_len);
		h = fnv(h, key, ms->key_len);
		h = fnv(h, &ms->min_version, sizeof(ms->min_version));
		h = fnv(h, &ms->max_version, sizeof(ms->max_version));
		if (ms->ciphers != NULL)
			h = fnv(h, ms->ciphers, strlen(ms->ciphers));
		h = fnv(h, "|", 1);
	}
	t->n_servers = mt->n_servers;
	t->servers = sv;
	t->id = h;
	return t;
}

/*
 * A passthrough listener's tls routes with their weighted clusters, and the
 * SNI table that picks one (tls/sni.c: an exact name, else the longest
 * "*.suffix", else "*"). A name an earlier route already has is left out:
 * Istio keeps the first filter chain of a duplicated server name.
 */
static int
cc_sni_routes(struct cc *c, const struct hf_model_listener *ml, struct hf_snap_listener *l)
{
	struct hf_snap_l4_route *r = cc_alloc(c, sizeof(*r) * ml->n_l4_routes);
	struct hf_tls_sni_entry *e;
	unsigned int names = 0, n = 0;

	for (unsigned int i = 0; i < ml->n_l4_routes; i++)
		names += ml->l4_routes[i].n_sni;
	e = cc_alloc(c, sizeof(*e) * names);
	if (r == NULL || e == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < ml->n_l4_routes; i++) {
		const struct hf_model_l4_route *mr = &ml->l4_routes[i];
		struct hf_snap_l4_dest *d = cc_alloc(c, sizeof(*d) * mr->n_clusters);

		if (d == NULL)
			return -ENOMEM;
		for (unsigned int k = 0; k < mr->n_clusters; k++) {
			d[k].cluster = cc_cluster(c, mr->clusters[k].cluster, ml->name);
			if (d[k].cluster < 0)
				return -EINVAL;
			d[k].weight = mr->clusters[k].weight;
			r[i].total += d[k].weight;
		}
		r[i].dests = d;
		r[i].n_dests = mr->n_clusters;
		for (unsigned int k = 0; k < mr->n_sni; k++) {
			const char *s = mr->sni[k];
			uint8_t kind = strcmp(s, "*") == 0 ? 2 : s[0] == '*' ? 1 : 0;
			const char *name = kind == 0 ? s : kind == 1 ? s + 1 : "";
			bool dup = false;

			if (strlen(name) > HF_TLS_NAME_MAX + 1)
				return cc_fail(c, "listener %s: sniHost '%.40s...' is too long",
					       ml->name, s);
			for (unsigned int j = 0; j < n && !dup; j++)
				dup = e[j].kind == kind && strcmp(e[j].name, name) == 0;
			if (dup)
				continue;
			e[n] = (struct hf_tls_sni_entry){.name = cc_str(c, name),
				.len = (uint16_t)strlen(name), .server = (uint16_t)i, .kind = kind};
			if (e[n++].name == NULL)
				return -ENOMEM;
		}
	}
	l->l4_routes = r;
	l->n_l4_routes = ml->n_l4_routes;
	l->sni = e;
	l->n_sni = n;
	return 0;
}

static int
cc_listener(struct cc *c, const struct hf_model_listener *ml, struct hf_snap_listener *l)
{
	const struct hf_model_route_config *rc;
	struct hf_vhost *vh;
	int err;

	l->port = ml->port;
	l->kind = (uint8_t)ml->kind;
	l->xfcc = ml->xfcc;
	l->cluster = -1;
	if (ml->kind != HF_LISTENER_HTTP) {
		if (ml->n_l4_routes > 0 && ml->l4_routes[0].n_clusters > 0) {
			l->cluster = cc_cluster(c, ml->l4_routes[0].clusters[0].cluster, ml->name);
			if (l->cluster < 0)
				return -EINVAL;
		}
		/* tcp routes over terminated TLS (Gateway TLS servers with mode SIMPLE, MUTUAL) */
		if (ml->tls != NULL && (l->tls = cc_tls(c, ml->tls)) == NULL)
			return -ENOMEM;
		return ml->kind == HF_LISTENER_TLS ? cc_sni_routes(c, ml, l) : 0;
	}
	if (ml->route_config < 0 || (unsigned int)ml->route_config >= c->m->n_route_configs)
		return cc_fail(c, "listener %s: no route configuration", ml->name);
	rc = &c->m->route_configs[ml->route_config];
	vh = cc_alloc(c, sizeof(*vh) * rc->n_vhosts);
	if (vh == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < rc->n_vhosts; i++)
		if ((err = cc_vhost(c, &rc->vhosts[i], &vh[i], ml->name)) != 0)
			return err;
	l->table.vhosts = vh;
	l->table.n_vhosts = rc->n_vhosts;
	if (ml->ratelimit != NULL) {
		char scope[128];

		snprintf(scope, sizeof(scope), "listener %s", ml->name);
		if ((l->ratelimit = cc_rl(c, ml->ratelimit, scope)) == NULL)
			return c->nomem ? -ENOMEM : -EINVAL;
	}
	l->tls = NULL;
	if (ml->tls != NULL && (l->tls = cc_tls(c, ml->tls)) == NULL)
		return -ENOMEM;
	return 0;
}

/* Whether @p s names a host an SNI may carry: a DNS name, no wildcard, not an IPv4 literal. */
static bool
sni_name(const char *s)
{
	bool alpha = false;

	if (s == NULL || s[0] == '\0' || strlen(s) > 253)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '*' || *p == ':' || *p == '/')
			return false;
		alpha |= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
	}
	return alpha;
}

/*
 * A cluster's TLS origination into the arena, as tls/client.c reads it. The
 * SNI is the DestinationRule's sni, else the service's host name (Envoy's
 * auto SNI takes the request's Host, which for a ServiceEntry host is the
 * same name; a per-cluster name keeps one pool per cluster); ISTIO_MUTUAL's
 * is Istio's own default, the cluster's DNS SRV key
 * "outbound_.<port>_.<subset>_.<host>" (BuildDNSSrvSubsetKey). Without
 * subjectAltNames a verified server must be valid for that name (Istio's
 * auto SAN validation). The id hashes everything; a CA bundle the previous
 * cluster had (the system bundle, most often) is shared, not copied again.
 */
static const struct hf_tls_client_config *
cc_up_tls(struct cc *c, const struct hf_model_cluster *mc, const struct hf_tls_client_config *prev)
{
	const struct hf_model_up_tls *mt = mc->up_tls;
	struct hf_tls_client_config *t = cc_alloc(c, sizeof(*t));
	const char **sans = cc_alloc(c, sizeof(*sans) * (mt->n_sans + 1));
	const char *sni = mt->sni != NULL ? mt->sni : sni_name(mc->service) ? mc->service : NULL;
	uint64_t h = 0xcbf29ce484222325ull;
	char mesh_sni[256];

	if (t == NULL || sans == NULL)
		return NULL;
	if (mt->mode == HF_TLS_ISTIO_MUTUAL && mt->sni == NULL && mc->service != NULL) {
		int n = snprintf(mesh_sni, sizeof(mesh_sni), "outbound_.%u_.%s_.%s",
				 (unsigned int)mc->service_port,
				 mc->subset != NULL ? mc->subset : "", mc->service);

		/* A name past DNS's 253 bytes (RFC 1035 2.3.4) cannot be sent: the host's then. */
		if (n > 0 && n <= 253)
			sni = mesh_sni;
	}
	*t = (struct hf_tls_client_config){
		.mode = (uint8_t)(mt->mode == HF_TLS_SIMPLE ? HF_TLS_ORIG_SIMPLE :
				  mt->mode == HF_TLS_MUTUAL ? HF_TLS_ORIG_MUTUAL :
				  HF_TLS_ORIG_ISTIO_MUTUAL),
		.n_sans = mt->n_sans,
		.sans = sans,
		/* workload certificates carry no DNS name: ISTIO_MUTUAL checks SPIFFE IDs only */
		.verify_host = mt->ca_pem != NULL && mt->n_sans == 0 && sni != NULL &&
			       mt->mode != HF_TLS_ISTIO_MUTUAL,
	};
	h = fnv(h, &t->mode, 1);
	h = fnv(h, &t->verify_host, 1);
	if (sni != NULL) {
		if ((t->sni = cc_str(c, sni)) == NULL)
			return NULL;
		h = fnv(h, sni, strlen(sni) + 1);
	}
	for (unsigned int k = 0; k < mt->n_sans; k++) {
		if ((sans[k] = cc_str(c, mt->sans[k])) == NULL)
			return NULL;
		h = fnv(h, mt->sans[k], strlen(mt->sans[k]) + 1);
	}
	if (mt->ca_pem != NULL) {
		if (prev != NULL && prev->ca_len == mt->ca_len &&
		    memcmp(prev->ca_pem, mt->ca_pem, mt->ca_len) == 0) {
			t->ca_pem = prev->ca_pem;
		} else {
			char *ca = cc_alloc(c, mt->ca_len);

			if (ca == NULL)
				return NULL;
			memcpy(ca, mt->ca_pem, mt->ca_len);
			t->ca_pem = ca;
		}
		t->ca_len = (uint32_t)mt->ca_len;
		h = fnv(h, "ca", 2);
		h = fnv(h, mt->ca_pem, mt->ca_len);
	}
	if (mt->cert_pem != NULL && mt->key_pem != NULL) {
		char *cert = cc_alloc(c, mt->cert_len), *key = cc_alloc(c, mt->key_len);

		if (cert == NULL || key == NULL)
			return NULL;
		memcpy(cert, mt->cert_pem, mt->cert_len);
		memcpy(key, mt->key_pem, mt->key_len);
		t->cert_pem = cert;
		t->cert_len = (uint32_t)mt->cert_len;
		t->key_pem = key;
		t->key_len = (uint32_t)mt->key_len;
		h = fnv(h, "id", 2);
		h = fnv(h, cert, mt->cert_len);
		h = fnv(h, key, mt->key_len);
	}
	t->id = h != 0 ? h : 1;
	return t;
}

struct hf_snapshot *
hf_snapshot_compile(const struct hf_model *m, uint64_t version, unsigned int n_workers, char *err,
		    size_t errlen)
{
	struct cc c = {.m = m, .err = err, .errlen = errlen};
	const struct hf_tls_client_config *prev_tls = NULL;
	struct hf_snap_cluster *cl;
	struct hf_snap_listener *ls;
	hs_scratch_t *proto = NULL;
	int rc = 0;

	c.s = calloc(1, sizeof(*c.s));
	if (c.s == NULL)
		goto nomem;
	c.s->version = version;
	cl = cc_alloc(&c, sizeof(*cl) * m->n_clusters);
	ls = cc_alloc(&c, sizeof(*ls) * m->n_listeners);
	if (cl == NULL || ls == NULL)
		goto nomem;
	for (unsigned int i = 0; i < m->n_clusters; i++) {
		const struct hf_model_cluster *mc = &m->clusters[i];
		struct hf_snap_endpoint *ep = cc_alloc(&c, sizeof(*ep) * mc->n_endpoints);

		if (ep == NULL)
			goto nomem;
		cl[i].name = cc_str(&c, mc->name);
		cl[i].id = cluster_id(mc->name);
		cl[i].lb = (uint8_t)mc->lb;
		cl[i].connect_timeout_ms = mc->connect_timeout_ms;
		cl[i].n_endpoints = mc->n_endpoints;
		cl[i].missing = mc->missing;
		cl[i].cb = (struct hf_cb_limits){
			.max_connections = mc->max_connections,
			.max_pending = mc->max_pending_requests,
			.max_requests = mc->max_requests,
			.max_retries = mc->max_retries,
			.max_rq_per_cx = mc->max_rq_per_cx,
		};
		cl[i].od = mc->od;
		for (unsigned int e = 0; e < mc->n_endpoints; e++) {
			ep[e].addr = mc->endpoints[e].addr;
			ep[e].port = rte_cpu_to_be_16(mc->endpoints[e].port);
			ep[e].weight = mc->endpoints[e].weight > 0 ? mc->endpoints[e].weight : 1;
		}
		cl[i].endpoints = ep;
		cl[i].tls = NULL;
		if (mc->up_tls != NULL) {
			cl[i].tls = cc_up_tls(&c, mc, prev_tls);
			if (cl[i].tls == NULL)
				goto nomem;
			if (cl[i].tls->ca_pem != NULL)
				prev_tls = cl[i].tls;
		}
	}
	c.s->clusters = cl;
	c.s->n_clusters = m->n_clusters;
	c.s->listeners = ls;
	c.s->n_listeners = m->n_listeners;
	c.s->jwt = hf_jwt_config_ref(m->jwt);
	/* before it is published; short of memory, keys verify the slower way */
	hf_jwt_config_prepare(c.s->jwt, n_workers < HF_MAX_WORKERS ? n_workers : HF_MAX_WORKERS);
	for (unsigned int i = 0; i < m->n_listeners && rc == 0; i++) {
		for (unsigned int k = 0; k < i; k++)
			if (m->listeners[k].port == m->listeners[i].port)
				rc = cc_fail(&c, "listeners %s and %s share port %u", m->listeners[k].name,
					     m->listeners[i].name, m->listeners[i].port);
		if (rc == 0)
			rc = cc_listener(&c, &m->listeners[i], &ls[i]);
	}
	if (rc == 0)
		rc = cc_rl_table(&c);
	free(c.rls);
	c.rls = NULL;
	if (rc == -ENOMEM || c.nomem)
		goto nomem;
	if (rc != 0)
		goto fail;
	/* One scratch fits every matcher; each worker gets its own copy. */
	for (unsigned int i = 0; i < c.s->n_matchers; i++)
		if (hf_rmatch_scratch_grow(c.s->matchers[i], &proto) != 0)
			goto nomem;
	for (unsigned int w = 0; proto != NULL && w < n_workers && w < HF_MAX_WORKERS; w++)
		if (hs_clone_scratch(proto, (hs_scratch_t **)&c.s->scratch[w]) != HS_SUCCESS)
			goto nomem;
	hs_free_scratch(proto);
	if (m->authz != NULL && (c.s->authz = hf_authz_compile(m->authz)) == NULL)
		goto nomem;
	c.s->metrics_off = m->metrics_off;
	for (unsigned int w = 0; c.s->n_regexes > 0 && w < n_workers && w < HF_MAX_WORKERS; w++) {
		c.s->re_match[w] = pcre2_match_data_create(32, NULL);
		if (c.s->re_match[w] == NULL)
			goto nomem;
	}
	return c.s;
nomem:
	snprintf(err, errlen, "out of memory compiling the snapshot");
fail:
	hs_free_scratch(proto);
	hf_snapshot_free(c.s);
	return NULL;
}

void
hf_snapshot_free(struct hf_snapshot *s)
{
	if (s == NULL)
		return;
	for (unsigned int i = 0; i < HF_MAX_WORKERS; i++) {
		hs_free_scratch(s->scratch[i]);
		pcre2_match_data_free(s->re_match[i]);
	}
	/* Private keys do not outlive their snapshot in freed memory. */
	for (unsigned int i = 0; s->listeners != NULL && i < s->n_listeners; i++)
		for (unsigned int k = 0; s->listeners[i].tls != NULL &&
		     k < s->listeners[i].tls->n_servers; k++)
			explicit_bzero((char *)s->listeners[i].tls->servers[k].key_pem,
				       s->listeners[i].tls->servers[k].key_len);
	for (unsigned int i = 0; s->clusters != NULL && i < s->n_clusters; i++)
		if (s->clusters[i].tls != NULL && s->clusters[i].tls->key_pem != NULL)
			explicit_bzero((char *)s->clusters[i].tls->key_pem,
				       s->clusters[i].tls->key_len);
	for (unsigned int i = 0; i < s->n_regexes; i++)
		pcre2_code_free(s->regexes[i]);
	free(s->regexes);
	for (unsigned int i = 0; i < s->n_matchers; i++)
		hf_rmatch_free(s->matchers[i]);
	free(s->matchers);
	hf_authz_free((struct hf_authz *)s->authz);
	arena_free(s->arena);
	hf_jwt_config_unref(s->jwt);
	free(s);
}

struct hf_snapshot *
hf_snapshot_build(const struct hf_bootstrap *b, uint64_t version)
{
	struct hf_model m = {0};
	struct hf_snapshot *s = NULL;
	char err[256];

	if (hf_model_from_bootstrap(b, &m) == 0)
		s = hf_snapshot_compile(&m, version, b->workers > 0 ? b->workers : 1, err, sizeof(err));
	hf_model_free(&m);
	return s;
}

int
hf_snapshot_publish(struct hf_snapshot_publisher *pub, struct hf_snapshot *s)
{
	struct hf_snapshot *old = hf_snapshot_now;

	if (old != NULL && pub->n_retired == HF_SNAPSHOT_RETIRED_MAX &&
	    hf_snapshot_reclaim(pub, false) == HF_SNAPSHOT_RETIRED_MAX)
		return -EBUSY;
	/* Pairs with the acquire load in hf_snapshot_current(). */
	__atomic_store_n(&hf_snapshot_now, s, __ATOMIC_RELEASE);
	pub->published++;
	if (old != NULL) {
		/* Readers that saw `old` report quiescence after this token before it goes. */
		pub->retired[pub->n_retired].snap = old;
		pub->retired[pub->n_retired].token = rte_rcu_qsbr_start(pub->qsbr);
		pub->n_retired++;
	}
	return 0;
}

unsigned int
hf_snapshot_reclaim(struct hf_snapshot_publisher *pub, bool wait)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < pub->n_retired; i++) {
		if (rte_rcu_qsbr_check(pub->qsbr, pub->retired[i].token, wait) == 1) {
			hf_snapshot_free(pub->retired[i].snap);
			pub->freed++;
		} else {
			pub->retired[kept++] = pub->retired[i];
		}
	}
	pub->n_retired = kept;
	return kept;
}
