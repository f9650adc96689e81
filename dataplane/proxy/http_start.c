/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker's HTTP state: its pools (sessions, streams, upstream connections,
 * head buffers, the endpoint table) sized once at start from the connection
 * limit, the static listeners opened at start and the configuration's opened
 * as snapshots bring them, and the access-log ring the agent drains.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dataplane/proxy/drain.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/cb.h"
#include "lb/lb.h"
#include "tls/tls.h"

static_assert(HF_HTTP_MAX_LISTENERS == HF_MAX_LISTENERS, "one listener slot per static listener");

/* Heads gathered at once per worker; more wait for a buffer with 503s (counted). */
#define GATHER_BUFFERS 256
/* Records a worker may have queued for the agent. */
#define LOG_RING_SIZE 16384

struct rte_ring *
hf_http_log_ring(const struct hf_worker *w)
{
	return w->http != NULL ? w->http->log_ring : NULL;
}

size_t
hf_http_conn_footprint(void)
{
	/* An idle downstream: its session and free-list slot. Streams and upstreams are apart. */
	return sizeof(struct hf_http_session) + sizeof(uint32_t);
}

size_t
hf_http_stream_footprint(void)
{
	return sizeof(struct hf_http_stream) + sizeof(uint32_t);
}

/* The stream pool of a worker: http.max_requests, else a quarter of the connections. */
static uint32_t
stream_pool_size(const struct hf_proxy_config *pc)
{
	uint32_t n = pc->max_connections;

	if (pc->max_requests != 0)
		return pc->max_requests;
	return RTE_MIN(n, RTE_MAX(n / 4, 256u));
}

int
hf_http_start(struct hf_worker *w, const struct hf_proxy_config *pc)
{
	struct hf_http_state *h;
	uint32_t n = pc->max_connections, max_head = 0;
	char name[RTE_HASH_NAMESIZE];
	struct timeval tv;
	int rc = -ENOMEM;

	for (unsigned int i = 0; i < pc->n_listeners; i++)
		if (pc->listeners[i].filter == HF_FILTER_HTTP)
			max_head = RTE_MAX(max_head, pc->listeners[i].http.limits.max_head);
	if (pc->dynamic_http != NULL)
		max_head = RTE_MAX(max_head, pc->dynamic_http->limits.max_head);
	if (max_head == 0)
		return 0;
	h = rte_zmalloc("hf_http", sizeof(*h), RTE_CACHE_LINE_SIZE);
	if (h == NULL)
		return -ENOMEM;
	w->http = h;
	h->w = w;
	h->n_conns = n;
	hf_h1_limits_default(&h->up_limits);
	h->up_limits.max_head = RTE_MAX(h->up_limits.max_head, max_head);
	h->sessions = rte_zmalloc("hf_http_sessions", sizeof(*h->sessions) * n, RTE_CACHE_LINE_SIZE);
	h->free_sessions = rte_malloc("hf_http_free_s", sizeof(uint32_t) * n, 0);
	h->n_streams = stream_pool_size(pc);
	h->streams = rte_zmalloc("hf_http_streams", sizeof(*h->streams) * h->n_streams,
				 RTE_CACHE_LINE_SIZE);
	h->free_streams = rte_malloc("hf_http_free_x", sizeof(uint32_t) * h->n_streams, 0);
	h->ups = rte_zmalloc("hf_http_ups", sizeof(*h->ups) * n, RTE_CACHE_LINE_SIZE);
	h->free_ups = rte_malloc("hf_http_free_u", sizeof(uint32_t) * n, 0);
	h->idle = rte_zmalloc("hf_http_idle", sizeof(*h->idle) * HF_HTTP_ENDPOINT_SLOTS, 0);
	h->active = rte_zmalloc("hf_http_active", sizeof(*h->active) * HF_HTTP_ENDPOINT_SLOTS, 0);
	h->slot_refs = rte_zmalloc("hf_http_slot_refs", sizeof(*h->slot_refs) * HF_HTTP_ENDPOINT_SLOTS, 0);
	h->slot_seen = rte_zmalloc("hf_http_slot_seen", sizeof(*h->slot_seen) * HF_HTTP_ENDPOINT_SLOTS, 0);
	h->lb = rte_malloc("hf_http_lb", hf_lb_state_size(HF_LB_SLOTS, HF_LB_ARENA), RTE_CACHE_LINE_SIZE);
	h->waitq = rte_malloc("hf_http_waitq", sizeof(*h->waitq) * HF_CB_CLUSTERS, 0);
	snprintf(name, sizeof(name), "hf_http_ep_%u", w->id);
	h->endpoints = rte_hash_create(&(struct rte_hash_parameters){
		.name = name,
		.entries = HF_HTTP_ENDPOINT_SLOTS,
		.key_len = sizeof(struct hf_http_ep_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	});
	/* One byte past the largest limit: a full buffer is a head over it. */
	if (hf_http_heads_init(&h->heads, h->up_limits.max_head + 1, GATHER_BUFFERS) != 0 ||
	    h->sessions == NULL || h->free_sessions == NULL || h->streams == NULL ||
	    h->free_streams == NULL || h->ups == NULL ||
	    h->free_ups == NULL || h->idle == NULL ||
	    h->active == NULL || h->slot_refs == NULL || h->slot_seen == NULL || h->lb == NULL ||
	    h->waitq == NULL || h->endpoints == NULL)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		h->free_sessions[i] = n - 1 - i;
		h->free_ups[i] = n - 1 - i;
	}
	h->n_free_sessions = h->n_free_ups = n;
	for (uint32_t i = 0; i < h->n_streams; i++)
		h->free_streams[i] = h->n_streams - 1 - i;
	h->n_free_streams = h->n_streams;
	/* Each worker its own draws, and its own start in every round-robin cycle. */
	hf_lb_state_init(h->lb, HF_LB_SLOTS, HF_LB_ARENA, rte_rand());
	h->tsc_per_ms = RTE_MAX(w->tsc_hz / 1000, 1u);
	h->tsc_per_us = RTE_MAX(w->tsc_hz / 1000000, 1u);
	gettimeofday(&tv, NULL);
	h->epoch_tsc = rte_rdtsc();
	h->epoch_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	if (pc->access_log) {
		snprintf(name, sizeof(name), "hf_alog_%u", w->id);
		h->log_ring = rte_ring_create_elem(name, sizeof(struct hf_access_log_rec),
						   LOG_RING_SIZE, (int)rte_socket_id(),
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (h->log_ring == NULL)
			goto fail;
	}
	for (unsigned int i = 0; i < pc->n_listeners; i++) {
		struct hf_http_listener *l;

		if (pc->listeners[i].filter != HF_FILTER_HTTP)
			continue;
		l = &h->listeners[h->n_listeners++];
		l->index = i;
		l->port = pc->listeners[i].port;
		l->dynamic = false;
		l->cfg = &pc->listeners[i].http;
		l->http = h;
		rc = hf_tcp_listen(w, pc->listeners[i].port, &hf_http_down_ops, l);
		if (rc < 0)
			goto fail;
		l->open = true;
	}
	h->istio_http = pc->dynamic_http;
	h->drain_timeout_ms = pc->drain_timeout_ms != 0 ? pc->drain_timeout_ms
							: HF_DRAIN_TIMEOUT_DEFAULT_MS;
	return 0;
fail:
	hf_http_fini(w);
	return rc;
}

/*
 * Opens HTTPS port @p l: TLS between TCP and the listener, with this worker's
 * own contexts built from @p cfg now (snapshot pick-up, tls/ctx.c). The
 * worker's TLS pool is made with its first HTTPS port. Returns 0 or <0 (counted).
 */
static int
listen_tls(struct hf_worker *w, struct hf_http_listener *l,
	   const struct hf_tls_listener_config *cfg)
{
	struct hf_http_state *h = w->http;

	if (h->tls == NULL && (h->tls = hf_tls_worker_new(w, h->n_conns)) != NULL)
		hf_tls_worker_set_log(h->tls, h->log_ring, h->epoch_us, h->epoch_tsc, w->tsc_hz);
	l->tls = h->tls != NULL ? hf_tls_listener_new(h->tls, cfg, &hf_http_down_ops, l) : NULL;
	if (l->tls == NULL) {
		HF_COUNT(w, TLS_CONTEXT_ERRORS);
		return -ENOMEM;
	}
	if (hf_tcp_listen(w, l->port, &hf_tls_tcp_ops, l->tls) < 0) {
		HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
		hf_tls_listener_free(l->tls);
		l->tls = NULL;
		return -ENOSPC;
	}
	return 0;
}

/*
 * Recounts the sessions of draining listener @p l: those gone since the last
 * count drained; with none left the drain is over and the slot free; past the
 * deadline the rest are reset. Else looks again in HF_DRAIN_POLL_MS.
 */
static void
drain_check(struct hf_worker *w, struct hf_http_listener *l)
{
	uint64_t now = w->tcp->now_tick;

	if (hf_drain_recount(w, &l->drain_left, hf_http_drain_scan(w, l, HF_HTTP_DRAIN_COUNT),
			     now >= l->drain_deadline))
		hf_http_drain_scan(w, l, HF_HTTP_DRAIN_RESET);
	if (l->drain_left == 0) {
		hf_timer_cancel(&w->tcp->wheel, &l->drain_timer);
		l->draining = false;
		return;
	}
	hf_timer_arm(&w->tcp->wheel, &l->drain_timer,
		     RTE_MIN(now + HF_DRAIN_POLL_MS, l->drain_deadline));
}

static void
on_drain_timer(struct hf_timer *t, void *arg)
{
	struct hf_http_listener *l = arg;

	(void)t;
	drain_check(l->http->w, l);
}

/*
 * Listener @p l is not in the configuration any more (by its port; a change
 * of its routes keeps it): its port closes, so new connections are refused,
 * and its sessions drain as Envoy's do. Idle keep-alive ones are closed now;
 * one with an exchange in flight finishes it, its response saying
 * "connection: close"; whatever is left after the drain timeout is reset.
 */
static void
listener_remove(struct hf_worker *w, struct hf_http_listener *l)
{
	struct hf_http_state *h = w->http;

	hf_tcp_unlisten(w, l->port);
	l->open = false;
	l->draining = true;
	HF_COUNT(w, LISTENER_REMOVED);
	l->drain_left = hf_http_drain_scan(w, l, HF_HTTP_DRAIN_START);
	HF_COUNT_N(w, LISTENER_DRAINING_CX, l->drain_left);
	l->drain_deadline = w->tcp->now_tick + h->drain_timeout_ms;
	hf_timer_init(&l->drain_timer, on_drain_timer, l);
	drain_check(w, l);
}

void
hf_http_drain_removed(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_http_state *h = w->http;

	if (h == NULL)
		return;
	for (unsigned int k = 0; k < h->n_listeners; k++) {
		struct hf_http_listener *l = &h->listeners[k];
		const struct hf_snap_listener *sl;

		/* The bootstrap's listeners are not the configuration's to remove. */
		if (!l->dynamic || !l->open)
			continue;
		sl = hf_snapshot_listener(snap, l->port);
		/* A port that became a TCP listener changes filters: this one drains too. */
		if (sl == NULL || sl->kind != HF_LISTENER_HTTP)
			listener_remove(w, l);
	}
}

/*
 * The slot for a listener on @p port: its own (open, draining or free), else
 * a free one (closed, no session left on it), else a new one; NULL when all
 * are taken.
 */
static struct hf_http_listener *
listener_slot(struct hf_http_state *h, uint16_t port)
{
	struct hf_http_listener *spare = NULL;

	for (unsigned int k = 0; k < h->n_listeners; k++) {
		struct hf_http_listener *l = &h->listeners[k];

		if (l->port == port && l->dynamic)
			return l;
		if (spare == NULL && l->dynamic && !l->open && !l->draining)
			spare = l;
	}
	if (spare != NULL)
		return spare;
	if (h->n_listeners == HF_HTTP_MAX_LISTENERS)
		return NULL;
	return &h->listeners[h->n_listeners++];
}

void
hf_http_sync(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_http_state *h = w->http;

	hf_http_endpoints_sweep(w, snap);
	if (h->istio_http == NULL)
		return;
	for (unsigned int i = 0; i < snap->n_listeners; i++) {
		const struct hf_snap_listener *sl = &snap->listeners[i];
		struct hf_http_listener *l;
		unsigned int k;

		if (sl->kind != HF_LISTENER_HTTP)
			continue;
		for (k = 0; k < h->n_listeners; k++)
			if (h->listeners[k].port == sl->port && h->listeners[k].open)
				break;
		if (k < h->n_listeners) {
			/* New certificates or settings for an HTTPS port (a port keeps its protocol). */
			if (h->listeners[k].tls != NULL)
				hf_tls_listener_update(h->listeners[k].tls, sl->tls);
			continue;
		}
		/*
		 * A port the configuration gained, or got back: opened now, on this
		 * worker's own stack. One it lost was closed by
		 * hf_http_drain_removed().
		 */
		l = listener_slot(h, sl->port);
		if (l == NULL) {
			HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
			continue;
		}
		if (l->draining) {
			int rc = -EPROTO;

			/*
			 * Back before its drain ended: it serves as before, sessions and all.
			 * A port that turned HTTP <-> HTTPS meanwhile is not reopened (counted).
			 */
			if (l->tls != NULL && sl->tls != NULL) {
				hf_tls_listener_update(l->tls, sl->tls);
				rc = hf_tcp_listen(w, sl->port, &hf_tls_tcp_ops, l->tls);
			} else if (l->tls == NULL && sl->tls == NULL) {
				rc = hf_tcp_listen(w, sl->port, &hf_http_down_ops, l);
			}
			if (rc < 0) {
				HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
				continue;
			}
			hf_timer_cancel(&w->tcp->wheel, &l->drain_timer);
			HF_COUNT_N(w, LISTENER_DRAINING_CX, -(uint64_t)l->drain_left);
			l->drain_left = 0;
			l->draining = false;
			l->open = true;
			HF_COUNT(w, LISTENER_REOPENED);
			HF_COUNT(w, HTTP_LISTENERS_OPENED);
			continue;
		}
		l->index = UINT32_MAX;
		l->port = sl->port;
		l->cfg = h->istio_http;
		l->http = h;
		l->dynamic = true;
		if (l->tls != NULL) {
			/* A drained HTTPS port's: its connections hold their own contexts. */
			hf_tls_listener_free(l->tls);
		}
		l->tls = NULL;
		l->open = false;
		if (sl->tls != NULL && listen_tls(w, l, sl->tls) < 0)
			continue;
		if (l->tls == NULL && hf_tcp_listen(w, sl->port, &hf_http_down_ops, l) < 0) {
			/* A slot taken above stays free (closed, not draining) for the next one. */
			HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
			continue;
		}
		l->open = true;
		HF_COUNT(w, HTTP_LISTENERS_OPENED);
	}
}

void
hf_http_fini(struct hf_worker *w)
{
	struct hf_http_state *h = w->http;

	if (h == NULL)
		return;
	if (w->tcp != NULL)
		for (unsigned int k = 0; k < h->n_listeners; k++)
			hf_timer_cancel(&w->tcp->wheel, &h->listeners[k].drain_timer);
	if (h->sessions != NULL && w->tcp != NULL)
		for (uint32_t i = 0; i < h->n_conns; i++) {
			hf_timer_cancel(&w->tcp->wheel, &h->sessions[i].timer);
			hf_http_mq_free(&h->sessions[i].rd.q);
		}
	if (h->streams != NULL)
		for (uint32_t i = 0; i < h->n_streams; i++) {
			hf_http_mq_free(&h->streams[i].pending);
			hf_http_mq_free(&h->streams[i].retry_head);
		}
	if (h->ups != NULL)
		for (uint32_t i = 0; i < h->n_conns; i++)
			hf_http_mq_free(&h->ups[i].rd.q);
	for (unsigned int i = 0; i < h->n_listeners; i++) {
		hf_tls_listener_free(h->listeners[i].tls);
		h->listeners[i].tls = NULL;
	}
	hf_http_tls_client_free(w);
	hf_tls_worker_free(h->tls);
	h->tls = NULL;
	rte_ring_free(h->log_ring);
	rte_hash_free(h->endpoints);
	rte_free(h->idle);
	rte_free(h->active);
	rte_free(h->slot_refs);
	rte_free(h->slot_seen);
	rte_free(h->lb);
	rte_free(h->waitq);
	hf_http_heads_fini(&h->heads);
	rte_free(h->free_ups);
	rte_free(h->ups);
	rte_free(h->free_streams);
	rte_free(h->streams);
	rte_free(h->free_sessions);
	rte_free(h->sessions);
	rte_free(h);
	w->http = NULL;
}

/* ---- a removed listener's sessions ---- */

uint32_t
hf_http_drain_scan(struct hf_worker *w, const struct hf_http_listener *l, enum hf_http_drain_op op)
{
	struct hf_http_state *h = w->http;
	uint32_t n = 0;

	if (op == HF_HTTP_DRAIN_COUNT)
		return h->lst_sessions[l - h->listeners];
	for (uint32_t i = 0; i < h->n_conns; i++) {
		struct hf_http_session *s = &h->sessions[i];

		/* A session in use has its connection; a free one has none (sess_free). */
		if (s->down == NULL || s->lst != l)
			continue;
		n++;
		switch (op) {
		case HF_HTTP_DRAIN_START:
			/*
			 * Idle: between requests, with no byte of the next one here,
			 * neither taken nor waiting in TCP. Closed now (FIN); the others
			 * close after their exchange (read_response, exchange_end).
			 */
			if (s->rq == HF_HTTP_RQ_HEAD && s->x == NULL && s->rd.q.bytes == 0 &&
			    s->down->rcvq.bytes == 0) {
				HF_COUNT(w, LISTENER_DRAIN_IDLE);
				hf_http_sess_close(w, s);
			}
			break;
		case HF_HTTP_DRAIN_RESET:
			HF_COUNT(w, LISTENER_DRAIN_TIMEOUTS);
			hf_http_sess_reset(w, s, HF_RF_NONE);
			break;
		default:
			break;
		}
	}
	return n;
}
