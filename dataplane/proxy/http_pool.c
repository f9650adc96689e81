/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP proxy's upstream side: connections to endpoints, kept per worker
 * in an idle pool per endpoint (most recently used first) for keep-alive
 * reuse, and the choice of endpoint by the cluster's policy.
 *
 * TLS origination: a cluster whose DestinationRule asks for TLS opens its
 * connections through tls/client.c (the handshake runs before the proxy
 * sees the connection as connected) and they go back to the same idle
 * list, tagged with the client config they run: a pooled connection is
 * reused only by a cluster with the same TLS config id (0: plaintext), as
 * Envoy keeps a pool per cluster and transport socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb.h"
#include "tls/tls.h"

struct hf_http_up *
hf_http_up_alloc(struct hf_http_state *h)
{
	struct hf_http_up *u;
	uint32_t id;

	if (h->n_free_ups == 0)
		return NULL;
	id = h->free_ups[--h->n_free_ups];
	u = &h->ups[id];
	memset(u, 0, sizeof(*u));
	u->id = id;
	u->slot = -1;
	return u;
}

void
hf_http_up_free(struct hf_http_state *h, struct hf_http_up *u)
{
	hf_http_rd_reset(&h->heads, &u->rd);
	u->tcp = NULL;
	u->sess = NULL;
	if (u->slot >= 0) {
		h->slot_refs[u->slot]--;
		u->slot = -1;
	}
	h->free_ups[h->n_free_ups++] = u->id;
}

int32_t
hf_http_ep_slot(struct hf_http_state *h, uint32_t addr, uint16_t port)
{
	struct hf_http_ep_key k = {.addr = addr, .port = port};
	int32_t pos = rte_hash_lookup(h->endpoints, &k);

	if (pos >= 0)
		return pos;
	pos = rte_hash_add_key(h->endpoints, &k);
	if (pos < 0)
		HF_COUNT(h->w, HTTP_ENDPOINT_TABLE_FULL);
	else
		HF_COUNT(h->w, HTTP_ENDPOINT_SLOTS);	/* a gauge: hf_http_endpoints_sweep() takes back */
	return pos;
}

/*
 * TLS origination at snapshot pick-up: this worker's client contexts for the
 * clusters' TLS configs (tls/client.c builds the new ones, keeps the rest by
 * id). The TLS connection pool is the one HTTPS listeners share, made here
 * when no listener made it first.
 */
static void
tls_client_sync(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_http_state *h = w->http;
	const struct hf_tls_client_config **cfgs;
	unsigned int n = 0;

	for (unsigned int c = 0; c < snap->n_clusters; c++)
		n += snap->clusters[c].tls != NULL;
	if (n == 0 && h->tls_client == NULL)
		return;
	if (h->tls == NULL)
		h->tls = hf_tls_worker_new(w, h->n_conns);
	if (h->tls != NULL && h->tls_client == NULL)
		h->tls_client = hf_tls_client_new(h->tls, &hf_http_up_ops);
	cfgs = calloc(n > 0 ? n : 1, sizeof(*cfgs));
	if (h->tls_client == NULL || cfgs == NULL) {
		HF_COUNT(w, TLS_UP_CONTEXT_ERRORS);
		free(cfgs);
		return;
	}
	n = 0;
	for (unsigned int c = 0; c < snap->n_clusters; c++)
		if (snap->clusters[c].tls != NULL)
			cfgs[n++] = snap->clusters[c].tls;
	hf_tls_client_sync(h->tls_client, cfgs, n);
	free(cfgs);
}

void
hf_http_tls_client_free(struct hf_worker *w)
{
	hf_tls_client_free(w->http->tls_client);
	w->http->tls_client = NULL;
}

/*
 * Endpoints leave the configuration: after a new snapshot, the slots of
 * endpoints it no longer lists are given back once no connection is bound
 * to them. Idle connections to such endpoints are closed (nothing will pick
 * them again); a slot still held by a connection in use is tried again at the
 * next snapshot. Without this, churning endpoints would fill the table and
 * end keep-alive pooling for every endpoint met afterwards. A slot is
 * reused only when nothing refers to it (slot_refs and active both 0), so a
 * connection never lands in another endpoint's idle list. Reload path: one
 * lookup per endpoint of the snapshot and one pass over the table.
 */
void
hf_http_endpoints_sweep(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_http_state *h = w->http;

	tls_client_sync(w, snap);

	for (unsigned int c = 0; c < snap->n_clusters; c++)
		for (unsigned int e = 0; e < snap->clusters[c].n_endpoints; e++) {
			const struct hf_snap_endpoint *ep = &snap->clusters[c].endpoints[e];
			struct hf_http_ep_key k = {.addr = ep->addr, .port = ep->port};
			int32_t pos = rte_hash_lookup(h->endpoints, &k);

			if (pos >= 0)
				h->slot_seen[pos] = snap->version;
		}
	for (int32_t pos = 0; pos < (int32_t)HF_HTTP_ENDPOINT_SLOTS; pos++) {
		void *key;

		if (rte_hash_get_key_with_position(h->endpoints, pos, &key) != 0)
			continue;
		if (h->slot_seen[pos] != snap->version) {
			hf_http_idle_drain(w, pos);
			if (h->slot_refs[pos] == 0 && h->active[pos] == 0) {
				rte_hash_del_key(h->endpoints, key);
				h->slot_seen[pos] = 0;
				HF_COUNT(w, HTTP_ENDPOINT_SLOTS_FREED);
				/* A gauge kept in a counter: the agent's sum over workers is the total. */
				w->cnt.v[HF_CNT_HTTP_ENDPOINT_SLOTS]--;
			}
		}
	}
}

void
hf_http_idle_remove(struct hf_http_state *h, struct hf_http_up *u)
{
	if (u->idle_prev != NULL)
		u->idle_prev->idle_next = u->idle_next;
	else
		h->idle[u->slot] = u->idle_next;
	if (u->idle_next != NULL)
		u->idle_next->idle_prev = u->idle_prev;
	u->idle_next = u->idle_prev = NULL;
}

void
hf_http_idle_push(struct hf_http_state *h, struct hf_http_up *u)
{
	u->state = HF_HTTP_UP_IDLE;
	u->sess = NULL;
	u->idle_tsc = h->w->now;
	u->idle_prev = NULL;
	u->idle_next = h->idle[u->slot];
	if (u->idle_next != NULL)
		u->idle_next->idle_prev = u;
	h->idle[u->slot] = u;
}

/* Gives up an upstream connection: FIN when it is clean, RST when a request was cut. */
void
hf_http_up_close(struct hf_worker *w, struct hf_http_up *u, bool reset)
{
	struct hf_http_state *h = w->http;

	if (u->tcp == NULL) {
		/* TCP already reported it closed: only the object is left. */
		hf_http_up_free(h, u);
		return;
	}
	if (reset) {
		hf_tls_abort(w, u->tcp);
		hf_http_up_free(h, u);
		return;
	}
	u->state = HF_HTTP_UP_CLOSING;
	u->sess = NULL;
	hf_http_rd_reset(&h->heads, &u->rd);
	/* TLS: our close_notify first (RFC 8446 6.1), then the FIN */
	hf_tls_shutdown(w, u->tcp);
}

/* Closes every idle connection to endpoint @p slot (their peer is gone). */
void
hf_http_idle_drain(struct hf_worker *w, int32_t slot)
{
	struct hf_http_up *u;

	while ((u = w->http->idle[slot]) != NULL) {
		hf_http_idle_remove(w->http, u);
		hf_http_up_close(w, u, true);
	}
}

struct hf_tcp_conn *
hf_http_up_connect(struct hf_worker *w, struct hf_http_up *u, const struct hf_snap_cluster *cl,
		   const struct hf_snap_endpoint *ep)
{
	uint16_t port = hf_worker_port_for(w, ep->addr);

	u->tls_id = cl->tls != NULL ? cl->tls->id : 0;
	if (cl->tls == NULL)
		return hf_tcp_connect(w, port, ep->addr, ep->port, cl->connect_timeout_ms,
				      &hf_http_up_ops, u);
	if (w->http->tls_client == NULL) {
		/* hf_http_endpoints_sweep() sets it up with the first cluster that asks */
		HF_COUNT(w, TLS_UP_DROP_NO_CONTEXT);
		return NULL;
	}
	return hf_tls_connect(w, w->http->tls_client, cl->tls, port, ep->addr, ep->port,
			      cl->connect_timeout_ms, u);
}

/*
 * Picks an upstream connection to @p ep of @p cl: pooled (the most recently
 * used idle one that runs the cluster's TLS config, or plaintext like it), or
 * a new one.
 */
struct hf_http_up *
hf_http_upstream_for(struct hf_worker *w, struct hf_http_session *s,
		     const struct hf_snap_cluster *cl, const struct hf_snap_endpoint *ep)
{
	struct hf_http_state *h = w->http;
	int32_t slot = hf_http_ep_slot(h, ep->addr, ep->port);
	uint64_t tls_id = cl->tls != NULL ? cl->tls->id : 0;
	struct hf_http_up *u;

	for (u = slot >= 0 ? h->idle[slot] : NULL; u != NULL && u->tls_id != tls_id;)
		u = u->idle_next;
	if (u != NULL) {
		hf_http_idle_remove(h, u);
		u->state = HF_HTTP_UP_ACTIVE;
		u->sess = s;
		HF_COUNT(w, HTTP_UPSTREAM_REUSED);
		return u;
	}
	u = hf_http_up_alloc(h);
	if (u == NULL) {
		/* hf_tcp_connect() counts its own refusals (tcp.drop.no_tcb, no_local_port). */
		HF_COUNT(w, HTTP_DROP_NO_UPSTREAM_CONN);
		return NULL;
	}
	u->tcp = hf_http_up_connect(w, u, cl, ep);
	if (u->tcp == NULL) {
		hf_http_up_free(h, u);
		return NULL;
	}
	u->state = HF_HTTP_UP_CONNECTING;
	u->sess = s;
	u->addr = ep->addr;
	u->port = ep->port;
	u->slot = slot;
	if (slot >= 0)
		h->slot_refs[slot]++;
	HF_COUNT(w, HTTP_UPSTREAM_CX);
	return u;
}

/* LEAST_REQUEST's load: requests in flight to @p ep; without an idle-pool slot, the most there is. */
static uint32_t
ep_load(void *arg, const struct hf_snap_endpoint *ep, unsigned int index)
{
	struct hf_http_state *h = arg;
	int32_t slot = hf_http_ep_slot(h, ep->addr, ep->port);

	(void)index;
	return slot >= 0 ? h->active[slot] : UINT32_MAX;
}

/*
 * The endpoint of cluster @p cl (index @p cluster of the worker's current
 * snapshot) by its policy and its endpoints' weights (lb/lb.h: weighted
 * round robin, weighted random, or least request over the requests in
 * flight). *@p slot gets the endpoint's idle-pool slot (-1 when the table is
 * full). NULL when the cluster has no endpoint, which callers rule out first.
 */
const struct hf_snap_endpoint *
hf_http_pick_endpoint(struct hf_http_state *h, const struct hf_snap_cluster *cl, int cluster, int32_t *slot)
{
	struct hf_lb_ctx lb = {
		.st = h->lb,
		.version = h->w->snap->version,
		.load = ep_load,
		.load_arg = h,
	};
	const struct hf_snap_endpoint *ep;
	int e = hf_lb_pick(&lb, cl, (unsigned int)cluster);

	if (unlikely(e < 0)) {
		/* No endpoint: the callers answer UH before they get here. */
		*slot = -1;
		return NULL;
	}
	ep = &cl->endpoints[e];
	*slot = hf_http_ep_slot(h, ep->addr, ep->port);
	return ep;
}
