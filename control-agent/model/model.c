/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/jwks.h"
#include "control-agent/model/model.h"
#include "control-agent/compile/authz_build.h"

static void
free_strs(char **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_kv(struct hf_model_kv_match *kv, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].m.value);
	}
	free(kv);
}

static void
free_ops(struct hf_model_header_op *ops, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(ops[i].name);
		free(ops[i].value);
	}
	free(ops);
}

static void
free_weighted(struct hf_model_weighted *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(w[i].cluster);
		free_ops(w[i].rq_ops, w[i].n_rq_ops);
		free_ops(w[i].rs_ops, w[i].n_rs_ops);
	}
	free(w);
}

void
hf_model_ratelimit_free(struct hf_model_ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->stat_prefix);
	free_ops(rl->headers, rl->n_headers);
	free(rl);
}

void
hf_model_cors_free(struct hf_model_cors *c)
{
	for (unsigned int i = 0; i < c->n_origins; i++)
		free(c->origins[i].value);
	free(c->origins);
	free(c->allow_methods);
	free(c->allow_headers);
	free(c->expose_headers);
	memset(c, 0, sizeof(*c));
}

static void
free_route(struct hf_model_route *r)
{
	if (r->borrowed) {
		hf_model_ratelimit_free(r->ratelimit);
		return;
	}
	for (unsigned int i = 0; i < r->n_matches; i++) {
		struct hf_model_route_match *m = &r->matches[i];

		free(m->name);
		free(m->uri.value);
		free(m->scheme.value);
		free(m->method.value);
		free(m->authority.value);
		free_kv(m->headers, m->n_headers);
		free_kv(m->query, m->n_query);
	}
	free(r->matches);
	free(r->name);
	free_weighted(r->clusters, r->n_clusters);
	free(r->rewrite_uri);
	free(r->rewrite_regex);
	free(r->rewrite_regex_sub);
	free(r->rewrite_authority);
	free(r->retry.codes);
	free(r->mirror_cluster);
	free(r->redirect_uri);
	free(r->redirect_authority);
	free(r->redirect_scheme);
	free(r->direct_body);
	hf_model_cors_free(&r->cors);
	free_ops(r->rq_ops, r->n_rq_ops);
	free_ops(r->rs_ops, r->n_rs_ops);
	hf_model_ratelimit_free(r->ratelimit);
}

void
hf_model_free(struct hf_model *m)
{
	for (unsigned int i = 0; i < m->n_listeners; i++) {
		struct hf_model_listener *l = &m->listeners[i];

		free(l->name);
		for (unsigned int k = 0; k < l->n_l4_routes; k++) {
			free_strs(l->l4_routes[k].sni, l->l4_routes[k].n_sni);
			free_weighted(l->l4_routes[k].clusters, l->l4_routes[k].n_clusters);
		}
		free(l->l4_routes);
		hf_model_tls_free(l->tls);
		hf_model_ratelimit_free(l->ratelimit);
	}
	free(m->listeners);
	for (unsigned int i = 0; i < m->n_route_configs; i++) {
		struct hf_model_route_config *rc = &m->route_configs[i];

		free(rc->name);
		for (unsigned int v = 0; v < rc->n_vhosts; v++) {
			struct hf_model_vhost *vh = &rc->vhosts[v];

			if (vh->borrowed)
				continue;
			free(vh->name);
			free_strs(vh->domains, vh->n_domains);
			for (unsigned int r = 0; r < vh->n_routes; r++)
				free_route(&vh->routes[r]);
			free(vh->routes);
			hf_model_ratelimit_free(vh->ratelimit);
		}
		free(rc->vhosts);
	}
	free(m->route_configs);
	for (unsigned int i = 0; i < m->n_clusters; i++) {
		struct hf_model_cluster *c = &m->clusters[i];

		free(c->name);
		free(c->service);
		free(c->subset);
		free(c->tls_client_cert);
		free(c->tls_private_key);
		free(c->tls_ca_certs);
		hf_model_up_tls_free(c->up_tls);
		for (unsigned int e = 0; e < c->n_endpoints; e++) {
			free(c->endpoints[e].locality);
			free_strs(c->endpoints[e].labels, c->endpoints[e].n_labels);
		}
		free(c->endpoints);
	}
	free(m->clusters);
	hf_authz_free(m->authz);
	hf_jwt_config_unref(m->jwt);
	/* after the virtual hosts that borrowed from them */
	for (unsigned int i = 0; i < m->n_pieces; i++)
		hf_model_piece_unref(m->pieces[i]);
	free(m->pieces);
	memset(m, 0, sizeof(*m));
}

struct hf_model_piece *
hf_model_piece_new(struct hf_model *m)
{
	struct hf_model_piece *p = malloc(sizeof(*p));

	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->m = *m;
	memset(m, 0, sizeof(*m));
	return p;
}

struct hf_model_piece *
hf_model_piece_ref(struct hf_model_piece *p)
{
	/* atomic: unit tests and benchmarks build on several threads; the agent on one */
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void
hf_model_piece_unref(struct hf_model_piece *p)
{
	if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	hf_model_free(&p->m);
	free(p);
}

int
hf_model_hold_piece(struct hf_model *m, struct hf_model_piece *p)
{
	struct hf_model_piece **pieces = realloc(m->pieces, (m->n_pieces + 1) * sizeof(*pieces));

	if (pieces == NULL)
		return -ENOMEM;
	m->pieces = pieces;
	m->pieces[m->n_pieces++] = hf_model_piece_ref(p);
	return 0;
}

int
hf_model_borrow_route_config(struct hf_model *m, struct hf_model_piece *p, unsigned int i)
{
	const struct hf_model_route_config *src = &p->m.route_configs[i];
	struct hf_model_route_config *rc;
	struct hf_model_piece **pieces;
	struct hf_model_vhost *vh;
	char *name;

	pieces = realloc(m->pieces, (m->n_pieces + 1) * sizeof(*pieces));
	if (pieces == NULL)
		return -ENOMEM;
	m->pieces = pieces;
	rc = realloc(m->route_configs, (m->n_route_configs + 1) * sizeof(*rc));
	if (rc == NULL)
		return -ENOMEM;
	m->route_configs = rc;
	vh = malloc((src->n_vhosts == 0 ? 1 : src->n_vhosts) * sizeof(*vh));
	name = strdup(src->name != NULL ? src->name : "");
	if (vh == NULL || name == NULL) {
		free(vh);
		free(name);
		return -ENOMEM;
	}
	memcpy(vh, src->vhosts, src->n_vhosts * sizeof(*vh));
	for (unsigned int v = 0; v < src->n_vhosts; v++)
		vh[v].borrowed = true;
	rc[m->n_route_configs++] = (struct hf_model_route_config){
		.name = name,
		.n_vhosts = src->n_vhosts,
		.vhosts = vh,
	};
	m->pieces[m->n_pieces++] = hf_model_piece_ref(p);
	return 0;
}

int
hf_model_find_cluster(const struct hf_model *m, const char *name)
{
	for (unsigned int i = 0; i < m->n_clusters; i++)
		if (strcmp(m->clusters[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Grows array *@p a of *@p n elements by the @p k of @p b; returns 0 or -ENOMEM. */
static int
append(void **a, unsigned int n, const void *b, unsigned int k, size_t size)
{
	void *p;

	if (k == 0)
		return 0;
	p = realloc(*a, (n + k) * size);
	if (p == NULL)
		return -ENOMEM;
	memcpy((char *)p + n * size, b, k * size);
	*a = p;
	return 0;
}

int
hf_model_append(struct hf_model *dst, struct hf_model *src)
{
	unsigned int rc0 = dst->n_route_configs, l0 = dst->n_listeners;

	for (unsigned int i = 0; i < src->n_listeners; i++)
		for (unsigned int k = 0; k < dst->n_listeners; k++)
			if (dst->listeners[k].port == src->listeners[i].port)
				return -EADDRINUSE;
	if (append((void **)&dst->clusters, dst->n_clusters, src->clusters, src->n_clusters,
		   sizeof(*src->clusters)) != 0 ||
	    append((void **)&dst->route_configs, dst->n_route_configs, src->route_configs,
		   src->n_route_configs, sizeof(*src->route_configs)) != 0)
		return -ENOMEM;
	dst->n_clusters += src->n_clusters;
	dst->n_route_configs += src->n_route_configs;
	free(src->clusters);
	free(src->route_configs);
	src->clusters = NULL;
	src->route_configs = NULL;
	src->n_clusters = src->n_route_configs = 0;
	if (append((void **)&dst->listeners, dst->n_listeners, src->listeners, src->n_listeners,
		   sizeof(*src->listeners)) != 0)
		return -ENOMEM;
	dst->n_listeners += src->n_listeners;
	for (unsigned int i = l0; i < dst->n_listeners; i++)
		if (dst->listeners[i].route_config >= 0)
			dst->listeners[i].route_config += (int)rc0;
	free(src->listeners);
	/* one source has policies (the Istio directory): the bootstrap has none */
	if (dst->authz == NULL) {
		dst->authz = src->authz;
		src->authz = NULL;
	}
	hf_authz_free(src->authz);
	/* JWT rules come from one source (Istio's RequestAuthentication): taken when dst has none */
	if (dst->jwt == NULL) {
		dst->jwt = src->jwt;
		src->jwt = NULL;
	}
	hf_jwt_config_unref(src->jwt);
	/* Telemetry comes from one source too (the Istio directory); the bootstrap disables nothing */
	dst->metrics_off |= src->metrics_off;
	/* the references go with the virtual hosts that borrow from them */
	if (append((void **)&dst->pieces, dst->n_pieces, src->pieces, src->n_pieces,
		   sizeof(*src->pieces)) != 0) {
		for (unsigned int i = 0; i < src->n_pieces; i++)
			hf_model_piece_unref(src->pieces[i]);
		free(src->pieces);
		memset(src, 0, sizeof(*src));
		return -ENOMEM;
	}
	dst->n_pieces += src->n_pieces;
	free(src->pieces);
	memset(src, 0, sizeof(*src));
	return 0;
}

void
hf_model_up_tls_free(struct hf_model_up_tls *t)
{
	if (t == NULL)
		return;
	free(t->sni);
	free_strs(t->sans, t->n_sans);
	free(t->ca_pem);
	free(t->cert_pem);
	if (t->key_pem != NULL)
		explicit_bzero(t->key_pem, t->key_len);
	free(t->key_pem);
	free(t);
}

void
hf_model_tls_free(struct hf_model_tls *t)
{
	if (t == NULL)
		return;
	for (unsigned int i = 0; i < t->n_servers; i++) {
		struct hf_model_tls_server *s = &t->servers[i];

		free_strs(s->names, s->n_names);
		free(s->cert_pem);
		if (s->key_pem != NULL)
			explicit_bzero(s->key_pem, s->key_len);
		free(s->key_pem);
		free(s->ciphers);
		free(s->ca_pem);
		free_strs(s->sans, s->n_sans);
	}
	free(t->servers);
	free(t);
}
