/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP proxy's upstream side: connections to endpoints, kept per worker
 * in an idle pool per endpoint (most recently used first) for keep-alive
 * reuse, and the choice of endpoint by the cluster's policy.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb.h"

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
		hf_tcp_abort(w, u->tcp);
		hf_http_up_free(h, u);
		return;
	}
	u->state = HF_HTTP_UP_CLOSING;
	u->sess = NULL;
	hf_http_rd_reset(&h->heads, &u->rd);
	hf_tcp_shutdown(w, u->tcp);
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

/* Picks the endpoint and an upstream connection to it: pooled, or a new one. */
struct hf_http_up *
hf_http_upstream_for(struct hf_worker *w, struct hf_http_session *s, const struct hf_snap_endpoint *ep)
{
	struct hf_http_state *h = w->http;
	int32_t slot = hf_http_ep_slot(h, ep->addr, ep->port);
	struct hf_http_up *u;

	if (slot >= 0 && h->idle[slot] != NULL) {
		u = h->idle[slot];
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
	u->tcp = hf_tcp_connect(w, hf_worker_port_for(w, ep->addr), ep->addr, ep->port, s->x->connect_timeout_ms, &hf_http_up_ops, u);
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
