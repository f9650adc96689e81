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
 *
 * Circuit breakers and outlier detection (lb/cb.h, each worker on its own
 * share): a request takes a place among its cluster's requests in flight
 * when it first asks for a connection, a new connection takes a connection
 * and a pending place (given back when it comes up), a retry a retry place;
 * what overflows is answered 503 UO by the caller. Responses and connection
 * failures are reported to the host's detectors, and picks pass over the
 * hosts they ejected.
 *
 * A request that finds its cluster's max_connections reached and no idle
 * connection waits, as in Envoy's HTTP/1.1 pool, while pending places are
 * left (max_pending_requests): queued oldest first on its cluster's entry,
 * its head (and any body) held back. It gets the next connection of its
 * cluster to go idle, handed over at once, or a new one when a connection
 * closes (hf_http_wake, once per loop pass while anything waits). Its route
 * timeout runs while it waits (504 UT), as Envoy's does.
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
#include "dataplane/proxy/http_cb.h"
#include "lb/cb.h"
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

/* The connection is done with its cluster's counts: its pending place, its connection. */
static void
cb_release(struct hf_http_up *u)
{
	if (u->cb == NULL)
		return;
	if (u->cb_pending && u->cb->pending > 0)
		u->cb->pending--;
	u->cb_pending = false;
	if (u->cb->cx > 0)
		u->cb->cx--;
	u->cb = NULL;
}

void
hf_http_up_free(struct hf_http_state *h, struct hf_http_up *u)
{
	cb_release(u);
	hf_http_rd_reset(&h->heads, &u->rd);
	u->tcp = NULL;
	u->sess = NULL;
	if (u->slot >= 0) {
		h->slot_refs[u->slot]--;
		u->slot = -1;
	}
	h->free_ups[h->n_free_ups++] = u->id;
}

/* ---- requests waiting for a connection ---- */

static struct hf_http_stream *
stream_of(struct hf_http_state *h, uint32_t id1)
{
	return id1 != 0 ? &h->streams[id1 - 1] : NULL;
}

/* Queues the stream of @p s (its pending place taken) at the end of its cluster's queue. */
static void
wait_push(struct hf_http_state *h, struct hf_http_session *s)
{
	struct hf_http_stream *x = s->x, *last;
	struct hf_cb_cluster *c = x->cb;

	x->wait_sess = s->id + 1;
	x->wait_next = 0;
	x->wait_prev = c->wait_last;
	last = stream_of(h, c->wait_last);
	if (last != NULL)
		last->wait_next = x->id + 1;
	else
		c->wait_first = x->id + 1;
	c->wait_last = x->id + 1;
	if (c->waiting++ == 0)
		h->waitq[h->n_waitq++] = c;
}

/* Takes stream @p x out of its cluster's queue and gives its pending place back; its session. */
static struct hf_http_session *
wait_unlink(struct hf_http_state *h, struct hf_http_stream *x)
{
	struct hf_cb_cluster *c = x->cb;
	struct hf_http_stream *prev = stream_of(h, x->wait_prev), *next = stream_of(h, x->wait_next);
	struct hf_http_session *s = &h->sessions[x->wait_sess - 1];

	if (prev != NULL)
		prev->wait_next = x->wait_next;
	else
		c->wait_first = x->wait_next;
	if (next != NULL)
		next->wait_prev = x->wait_prev;
	else
		c->wait_last = x->wait_prev;
	x->wait_prev = x->wait_next = x->wait_sess = 0;
	if (c->pending > 0)
		c->pending--;
	if (--c->waiting == 0)
		for (uint32_t i = 0; i < h->n_waitq; i++)
			if (h->waitq[i] == c) {
				h->waitq[i] = h->waitq[--h->n_waitq];
				break;
			}
	return s;
}

/*
 * The queued request of @p s has upstream @p u of its cluster (ACTIVE, from
 * the idle pool or handed over, or CONNECTING): what start_request() does for
 * a request that found one at once; then its held bytes go out, or wait in
 * x->pending for the connection to come up (up_connected).
 */
static void
wait_attach(struct hf_worker *w, struct hf_http_session *s, struct hf_http_up *u)
{
	struct hf_http_state *h = w->http;
	struct hf_http_stream *x = s->x;

	x->up = u;
	x->ep_slot = u->slot;
	if (u->slot >= 0)
		h->active[u->slot]++;
	x->log.up_addr = u->addr;
	x->log.up_port = u->port;
	x->log.up_laddr = u->tcp->laddr;
	x->log.up_lport = u->tcp->lport;
	HF_COUNT(w, HTTP_UPSTREAM_RQ);
	if (u->state != HF_HTTP_UP_ACTIVE)
		return;
	if (x->pending.head != NULL) {
		struct rte_mbuf *m = x->pending.head;

		x->pending.head = x->pending.tail = NULL;
		x->pending.bytes = 0;
		x->sent_tsc = w->now;
		hf_tls_send(w, u->tcp, m);
	}
	hf_http_resume(w, s);
}

/*
 * The oldest queued request of @p c asks again now that a connection closed:
 * an endpoint by the cluster's policy, then an idle connection to it or a new
 * one. A cluster the snapshot no longer has, or no connection to be had,
 * ends it with the answer start_request() would give.
 */
static void
wait_connect(struct hf_worker *w, struct hf_cb_cluster *c)
{
	struct hf_http_state *h = w->http;
	struct hf_http_session *s = wait_unlink(h, stream_of(h, c->wait_first));
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_cluster *cl = NULL;
	const struct hf_snap_endpoint *ep;
	struct hf_http_up *u;
	int cluster = -1;
	int32_t slot;

	for (unsigned int i = 0; snap != NULL && i < snap->n_clusters; i++)
		if (snap->clusters[i].id == s->x->cluster_id) {
			cl = &snap->clusters[i];
			cluster = (int)i;
			break;
		}
	if (cl == NULL || cl->n_endpoints == 0) {
		HF_COUNT(w, HTTP_NO_HEALTHY);
		hf_http_local_reply(w, s, 503, HF_RF_UH, "no_healthy_upstream", "no healthy upstream",
				    true);
		return;
	}
	ep = hf_http_pick_endpoint(h, cl, cluster, &slot);
	u = hf_http_upstream_for(w, s, cl, ep, slot);
	if (u != NULL) {
		wait_attach(w, s, u);
		return;
	}
	if (s->x->cb_overflow == HF_CB_WAIT)
		return;		/* the limits changed under it: queued again, at the end */
	if (s->x->cb_overflow != HF_CB_OK) {
		hf_http_local_reply(w, s, 503, HF_RF_UO, HF_HTTP_UO_DETAILS, HF_HTTP_UO_BODY, true);
		return;
	}
	HF_COUNT(w, HTTP_UPSTREAM_FAIL);
	hf_http_local_reply(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started",
			    "upstream connect error or disconnect/reset before headers. "
			    "reset reason: local resource exhaustion", true);
}

void
hf_http_wake(struct hf_worker *w)
{
	struct hf_http_state *h = w->http;
	/* Bounded: a request queued again (its limits changed) is not retried in this pass. */
	uint32_t budget = 0;

	for (uint32_t i = 0; i < h->n_waitq; i++)
		budget += h->waitq[i]->waiting;
	for (uint32_t i = 0; i < h->n_waitq && budget > 0;) {
		struct hf_cb_cluster *c = h->waitq[i];
		uint32_t maxc = hf_cb_share(c->lim.max_connections, w->id, w->n_workers);

		if (maxc != 0 && c->cx >= maxc) {
			i++;
			continue;
		}
		budget--;
		/* May drop c from the queue list (the last one moves to i): i is looked at again. */
		wait_connect(w, c);
	}
}

int32_t
hf_http_ep_slot(struct hf_http_state *h, uint32_t addr, uint16_t port)
{
	struct hf_http_ep_key k = {.addr = addr, .port = port};
	struct hf_http_ep_memo *m =
		&h->ep_memo[((addr ^ port) * 2654435761u) >> (32 - HF_HTTP_EP_MEMO_BITS)];
	int32_t pos;

	/* A slot stays its endpoint's until the sweep deletes the key, which empties the memo. */
	if (m->used && m->addr == addr && m->port == port)
		return m->slot;
	pos = rte_hash_lookup(h->endpoints, &k);
	if (pos < 0) {
		pos = rte_hash_add_key(h->endpoints, &k);
		if (pos < 0) {
			HF_COUNT(h->w, HTTP_ENDPOINT_TABLE_FULL);
			return pos;	/* not remembered: the sweep may make room */
		}
		HF_COUNT(h->w, HTTP_ENDPOINT_SLOTS);	/* a gauge: hf_http_endpoints_sweep() takes back */
	}
	*m = (struct hf_http_ep_memo){.addr = addr, .port = port, .used = 1, .slot = pos};
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
				/* The slot may go to another endpoint now: forgotten. */
				memset(h->ep_memo, 0, sizeof(h->ep_memo));
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
	if (u->max_rq != 0 && u->n_rq >= u->max_rq) {
		/* max_requests_per_connection: this one has served its last (a FIN, not a reset) */
		HF_COUNT(h->w, HTTP_RQ_PER_CX_CLOSE);
		hf_http_up_close(h->w, u, false);
		return;
	}
	if (u->cb != NULL && u->cb->wait_first != 0) {
		/* a request of its cluster waits for a connection: this one, now */
		struct hf_http_session *s = wait_unlink(h, stream_of(h, u->cb->wait_first));

		u->state = HF_HTTP_UP_ACTIVE;
		u->sess = s;
		u->n_rq++;
		HF_COUNT(h->w, HTTP_UPSTREAM_REUSED);
		wait_attach(h->w, s, u);
		return;
	}
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
	if (u->cb_pending && u->cb->pending > 0)
		u->cb->pending--;
	u->cb_pending = false;
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
 * The circuit-breaker entry of cluster @p cl on this worker, its settings
 * brought to the snapshot's. NULL when the table is full (unlimited).
 */
static struct hf_cb_cluster *
cb_entry(struct hf_http_state *h, const struct hf_snap_cluster *cl)
{
	struct hf_cb_cluster *c = hf_cb_cluster(h->lb, cl->id);

	if (c != NULL) {
		c->od = cl->od;
		c->lim = cl->cb;
		c->n_hosts = cl->n_endpoints;
	}
	return c;
}

/*
 * Picks an upstream connection to @p ep of @p cl for the stream of @p s:
 * pooled (the most recently used idle one that runs the cluster's TLS config,
 * or plaintext like it), or a new one. The stream's first ask takes its place
 * among the cluster's requests in flight; a new connection must fit the
 * cluster's connection and pending limits. NULL when no connection is to be
 * had; s->x->cb_overflow then says whether a circuit breaker refused it
 * (counted; the caller answers 503 UO).
 */
struct hf_http_up *
hf_http_upstream_for(struct hf_worker *w, struct hf_http_session *s,
		     const struct hf_snap_cluster *cl, const struct hf_snap_endpoint *ep, int32_t slot)
{
	struct hf_http_state *h = w->http;
	uint64_t tls_id = cl->tls != NULL ? cl->tls->id : 0;
	struct hf_cb_cluster *c;
	enum hf_cb_overflow why;
	struct hf_http_up *u;

	s->x->cb_overflow = HF_CB_OK;
	if (s->x->cb == NULL && (c = cb_entry(h, cl)) != NULL) {
		if (hf_cb_admit_rq(c, &cl->cb, w->id, w->n_workers) != 0) {
			HF_COUNT(w, HTTP_DROP_PENDING_OVERFLOW);
			s->x->cb_overflow = HF_CB_RQ;
			return NULL;
		}
		s->x->cb = c;
	}
	c = s->x->cb;
	for (u = slot >= 0 ? h->idle[slot] : NULL; u != NULL && u->tls_id != tls_id;)
		u = u->idle_next;
	if (u != NULL) {
		hf_http_idle_remove(h, u);
		u->state = HF_HTTP_UP_ACTIVE;
		u->sess = s;
		u->n_rq++;
		HF_COUNT(w, HTTP_UPSTREAM_REUSED);
		return u;
	}
	if (c != NULL && hf_cb_admit_cx(c, &cl->cb, w->id, w->n_workers, &why) != 0) {
		if (why == HF_CB_CX && hf_cb_admit_wait(c, &cl->cb, w->id, w->n_workers) == 0) {
			/* max_connections: it waits for a connection of its cluster (the caller holds it) */
			wait_push(h, s);
			HF_COUNT(w, HTTP_UPSTREAM_RQ_QUEUED);
			s->x->cb_overflow = HF_CB_WAIT;
			return NULL;
		}
		if (why == HF_CB_CX)
			HF_COUNT(w, HTTP_DROP_CX_OVERFLOW);
		else
			HF_COUNT(w, HTTP_DROP_PENDING_OVERFLOW);
		s->x->cb_overflow = (uint8_t)why;
		return NULL;
	}
	u = hf_http_up_alloc(h);
	if (u == NULL) {
		/* hf_tcp_connect() counts its own refusals (tcp.drop.no_tcb, no_local_port). */
		HF_COUNT(w, HTTP_DROP_NO_UPSTREAM_CONN);
		if (c != NULL) {
			c->cx--;
			c->pending--;
		}
		return NULL;
	}
	/* From here the connection holds its places: hf_http_up_free() gives them back. */
	u->cb = c;
	u->cb_pending = c != NULL;
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
	u->n_rq = 1;
	u->max_rq = cl->cb.max_rq_per_cx;
	if (slot >= 0)
		h->slot_refs[slot]++;
	HF_COUNT(w, HTTP_UPSTREAM_CX);
	return u;
}

void
hf_http_cb_connected(struct hf_worker *w, struct hf_http_up *u)
{
	if (u->cb_pending && u->cb->pending > 0)
		u->cb->pending--;
	u->cb_pending = false;
	if (u->sess != NULL && u->sess->x != NULL)
		hf_http_outlier_report(w, u->sess, HF_OD_LOCAL_SUCCESS);
}

void
hf_http_cb_stream_end(struct hf_http_state *h, struct hf_http_stream *x)
{
	if (x->cb == NULL)
		return;
	if (x->wait_sess != 0)
		wait_unlink(h, x);
	if (x->cb->rq > 0)
		x->cb->rq--;
	if (x->cb_retry && x->cb->retries > 0)
		x->cb->retries--;
	x->cb_retry = false;
	x->cb = NULL;
}

int
hf_http_cb_retry(struct hf_worker *w, struct hf_http_session *s, const struct hf_snap_cluster *cl)
{
	struct hf_http_stream *x = s->x;

	if (x->cb == NULL || x->cb_retry)
		return 0;
	if (hf_cb_admit_retry(x->cb, &cl->cb, w->id, w->n_workers) != 0) {
		HF_COUNT(w, HTTP_DROP_RETRY_OVERFLOW);
		return -EBUSY;
	}
	x->cb_retry = true;
	return 0;
}

void
hf_http_outlier_report(struct hf_worker *w, struct hf_http_session *s, enum hf_od_result r)
{
	struct hf_http_state *h = w->http;
	struct hf_cb_cluster *c = s->x->cb;
	struct hf_od_host *o;

	if (c == NULL || !hf_od_enabled(&c->od) || s->x->log.up_port == 0)
		return;
	o = hf_od_host(h->lb, c->id, s->x->log.up_addr, s->x->log.up_port, true);
	if (o != NULL && hf_od_report(c, o, r, w->now / h->tsc_per_ms))
		HF_COUNT(w, HTTP_OUTLIER_EJECTED);
}

/* What ctx.skip needs: whose hosts, of which cluster, at what time. */
struct skip_arg {
	struct hf_http_state *h;
	struct hf_cb_cluster *c;
	uint64_t now_ms;
};

static bool
ep_ejected(void *arg, const struct hf_snap_endpoint *ep, unsigned int index)
{
	struct skip_arg *a = arg;
	struct hf_od_host *o = hf_od_host(a->h->lb, a->c->id, ep->addr, ep->port, false);

	(void)index;
	return o != NULL && hf_od_ejected(a->c, o, a->now_ms);
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
 * flight), passing over the hosts outlier detection ejected. *@p slot gets
 * the endpoint's idle-pool slot (-1 when the table is
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
	struct skip_arg sa = {.h = h};
	const struct hf_snap_endpoint *ep;
	int e;

	/* Ejected hosts are passed over, unless too few are left (panic: every host is in). */
	if (hf_od_enabled(&cl->od) && (sa.c = cb_entry(h, cl)) != NULL && sa.c->n_ejected > 0 &&
	    !hf_od_panic(sa.c)) {
		sa.now_ms = h->w->now / h->tsc_per_ms;
		lb.skip = ep_ejected;
		lb.skip_arg = &sa;
	}
	e = hf_lb_pick(&lb, cl, (unsigned int)cluster);

	if (unlikely(e < 0)) {
		/* No endpoint: the callers answer UH before they get here. */
		*slot = -1;
		return NULL;
	}
	ep = &cl->endpoints[e];
	*slot = hf_http_ep_slot(h, ep->addr, ep->port);
	return ep;
}

/* ---- what the agent reads (http_cb.h) ---- */

void
hf_http_cb_stats(const struct hf_worker *w, uint64_t cluster_id, uint64_t out[HF_HTTP_CB_STAT__N])
{
	const struct hf_lb_state *st = w->http != NULL ? w->http->lb : NULL;

	for (unsigned int i = 0; st != NULL && i < HF_CB_CLUSTERS; i++) {
		const struct hf_cb_cluster *c = &st->cb[i];

		if (c->id != cluster_id)
			continue;
		out[HF_HTTP_CB_CX_OVERFLOW] += c->cx_overflow;
		out[HF_HTTP_CB_PENDING_OVERFLOW] += c->rq_pending_overflow;
		out[HF_HTTP_CB_RETRY_OVERFLOW] += c->rq_retry_overflow;
		out[HF_HTTP_CB_EJECTIONS] += c->ejections;
		out[HF_HTTP_CB_CX_ACTIVE] += c->cx;
		out[HF_HTTP_CB_RQ_ACTIVE] += c->rq;
		out[HF_HTTP_CB_RQ_PENDING_ACTIVE] += c->pending;
		return;
	}
}

bool
hf_http_od_failed(const struct hf_worker *w, uint64_t cluster_id, uint32_t addr, uint16_t port,
		  uint64_t now_tsc)
{
	const struct hf_lb_state *st = w->http != NULL ? w->http->lb : NULL;

	for (unsigned int i = 0; st != NULL && i < HF_OD_HOSTS; i++) {
		const struct hf_od_host *o = &st->od[i];

		if (o->cluster == cluster_id && o->addr == addr && o->port == port)
			return o->ejected && now_tsc / w->http->tsc_per_ms < o->until_ms;
	}
	return false;
}
