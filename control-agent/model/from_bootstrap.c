/* SPDX-License-Identifier: Apache-2.0 */
/* The bootstrap's static_resources, already validated, as a model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "control-agent/bootstrap.h"
#include "control-agent/model/model.h"

/* Counts allocation failures so the whole conversion is checked once, at its end. */
struct mk {
	bool nomem;
};

static void *
mk_calloc(struct mk *k, size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		k->nomem = true;
	return p;
}

static char *
mk_str(struct mk *k, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		k->nomem = true;
	return p;
}

static void
route(struct mk *k, const struct hf_bootstrap *b, const struct hf_boot_route *br,
      struct hf_model_route *r)
{
	r->name = br->name[0] != '\0' ? mk_str(k, br->name) : NULL;
	r->n_matches = 1;
	r->matches = mk_calloc(k, 1, sizeof(*r->matches));
	if (r->matches != NULL) {
		r->matches[0].uri.kind = br->match == HF_ROUTE_EXACT ? HF_MATCH_EXACT : HF_MATCH_PREFIX;
		r->matches[0].uri.value = mk_str(k, br->path);
	}
	r->action = HF_ACTION_ROUTE;
	r->n_clusters = 1;
	r->clusters = mk_calloc(k, 1, sizeof(*r->clusters));
	if (r->clusters != NULL) {
		r->clusters[0].cluster = mk_str(k, b->clusters[br->cluster].name);
		r->clusters[0].weight = 100;
	}
	r->timeout_ms = br->timeout_ms;
	r->max_request_bytes = br->max_request_bytes;
}

int
hf_model_from_bootstrap(const struct hf_bootstrap *b, struct hf_model *m)
{
	struct mk k = {0};

	memset(m, 0, sizeof(*m));
	m->clusters = mk_calloc(&k, b->n_clusters, sizeof(*m->clusters));
	m->listeners = mk_calloc(&k, b->n_listeners, sizeof(*m->listeners));
	m->route_configs = mk_calloc(&k, b->n_listeners, sizeof(*m->route_configs));
	if (k.nomem)
		goto fail;
	for (unsigned int i = 0; i < b->n_clusters; i++) {
		const struct hf_boot_cluster *bc = &b->clusters[i];
		struct hf_model_cluster *c = &m->clusters[m->n_clusters++];

		c->name = mk_str(&k, bc->name);
		c->lb = HF_LB_ROUND_ROBIN;
		c->connect_timeout_ms = bc->connect_timeout_ms;
		c->endpoints = mk_calloc(&k, bc->n_endpoints, sizeof(*c->endpoints));
		if (c->endpoints == NULL)
			goto fail;
		for (unsigned int e = 0; e < bc->n_endpoints; e++) {
			c->endpoints[e].addr = bc->endpoints[e].addr;
			c->endpoints[e].port = rte_be_to_cpu_16(bc->endpoints[e].port);
			c->endpoints[e].weight = 1;
		}
		c->n_endpoints = bc->n_endpoints;
	}
	for (unsigned int i = 0; i < b->n_listeners; i++) {
		const struct hf_listener_config *bl = &b->listeners[i];
		const struct hf_boot_route_config *brc = &b->route_configs[i];
		struct hf_model_listener *l;
		struct hf_model_route_config *rc;
		char name[64];

		if (bl->filter != HF_FILTER_HTTP && bl->filter != HF_FILTER_TCP_PROXY)
			continue;
		l = &m->listeners[m->n_listeners++];
		l->name = mk_str(&k, bl->name);
		l->port = bl->port;
		l->route_config = -1;
		if (bl->filter == HF_FILTER_TCP_PROXY) {
			l->kind = HF_LISTENER_TCP;
			l->l4_routes = mk_calloc(&k, 1, sizeof(*l->l4_routes));
			if (l->l4_routes == NULL)
				goto fail;
			l->n_l4_routes = 1;
			l->l4_routes[0].clusters = mk_calloc(&k, 1, sizeof(*l->l4_routes[0].clusters));
			if (l->l4_routes[0].clusters == NULL)
				goto fail;
			l->l4_routes[0].n_clusters = 1;
			l->l4_routes[0].clusters[0].cluster = mk_str(&k, b->clusters[bl->cluster].name);
			l->l4_routes[0].clusters[0].weight = 100;
			continue;
		}
		l->kind = HF_LISTENER_HTTP;
		l->route_config = (int)m->n_route_configs;
		rc = &m->route_configs[m->n_route_configs++];
		snprintf(name, sizeof(name), "http.%u", bl->port);
		rc->name = mk_str(&k, name);
		rc->vhosts = mk_calloc(&k, brc->n_vhosts, sizeof(*rc->vhosts));
		if (rc->vhosts == NULL)
			goto fail;
		for (unsigned int v = 0; v < brc->n_vhosts; v++) {
			const struct hf_boot_vhost *bv = &b->vhosts[brc->first_vhost + v];
			struct hf_model_vhost *mv = &rc->vhosts[rc->n_vhosts++];

			mv->name = mk_str(&k, bv->name);
			mv->domains = mk_calloc(&k, bv->n_domains, sizeof(*mv->domains));
			mv->routes = mk_calloc(&k, bv->n_routes, sizeof(*mv->routes));
			if (mv->domains == NULL || mv->routes == NULL)
				goto fail;
			for (unsigned int d = 0; d < bv->n_domains; d++)
				mv->domains[mv->n_domains++] = mk_str(&k, bv->domains[d]);
			for (unsigned int r = 0; r < bv->n_routes; r++)
				route(&k, b, &bv->routes[r], &mv->routes[mv->n_routes++]);
		}
	}
	if (!k.nomem)
		return 0;
fail:
	hf_model_free(m);
	return -ENOMEM;
}
