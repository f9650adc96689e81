/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 reverse proxy (Envoy's http_connection_manager with its
 * router): one session per downstream connection carries one exchange at a
 * time — parse the head, route it through the current snapshot, take a
 * keep-alive connection to the endpoint from this worker's pool (or open
 * one), stream the request, stream the response — and then the next
 * pipelined or keep-alive request.
 *
 * Bodies stream: bytes are taken from one connection only while the other
 * can take them, so a slow reader leaves data in the writer's TCP receive
 * queue and closes its window; nothing holds a whole body. Requests queue in
 * TCP the same way while one is in flight (pipelining).
 *
 * Every step function returns STEP_WAIT (nothing more until an event),
 * STEP_MORE (state changed: look again) or STEP_GONE (the session was freed:
 * touch nothing). drive() runs the steps until one waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb-t.h"

static_assert(HF_HTTP_MAX_LISTENERS == HF_MAX_LISTENERS, "one listener slot per static listener");

enum { STEP_WAIT, STEP_MORE, STEP_GONE };

/* Heads gathered at once per worker; more wait for a buffer with 503s (counted). */
#define GATHER_BUFFERS 256
/* Records a worker may have queued for the agent. */
#define LOG_RING_SIZE 16384
/*
 * A pooled connection idle this long may be dead without our knowing (its
 * peer restarted without a FIN reaching us): a bodiless request sent on one
 * keeps a copy, and goes again once on a new connection if the old one is
 * reset or closed before any answer, as nginx and HAProxy do. Connections
 * reused sooner (the keep-alive hot path) take no copy.
 */
#define STALE_RISK_MS 100
/* Distinct upstream endpoints with idle connections per worker. */
#define MAX_ENDPOINTS 4096
/* Slices the chunked decoder reports per call (their content is not needed). */
#define CHUNK_SLICES 16

static const struct hf_tcp_ops down_ops;
static const struct hf_tcp_ops up_ops;

static int drive(struct hf_worker *w, struct hf_http_session *s);

static inline uint32_t
now_ms(const struct hf_worker *w)
{
	return (uint32_t)w->tcp->now_tick;
}

/* ---- pools ---- */

static struct hf_http_session *
sess_alloc(struct hf_http_state *h)
{
	struct hf_http_session *s;
	uint32_t id;

	if (h->n_free_sessions == 0)
		return NULL;
	id = h->free_sessions[--h->n_free_sessions];
	s = &h->sessions[id];
	memset(s, 0, sizeof(*s));
	s->id = id;
	return s;
}

/*
 * The exchange of @p s: the one under way, or a fresh one from the pool.
 * NULL when the pool is empty (the caller refuses the request).
 */
static struct hf_http_stream *
stream_get(struct hf_http_state *h, struct hf_http_session *s)
{
	struct hf_http_stream *x;
	uint32_t id;

	if (s->x != NULL)
		return s->x;
	if (h->n_free_streams == 0)
		return NULL;
	id = h->free_streams[--h->n_free_streams];
	x = &h->streams[id];
	/* The log record is filled by log_request()/log_connection() when it is wanted. */
	memset(x, 0, offsetof(struct hf_http_stream, rs_edit));
	x->rs_edit[0] = '\0';
	x->log.status = 0;
	x->log.flag = HF_RF_NONE;
	x->log.details = NULL;
	x->log.bytes_rx = x->log.bytes_tx = 0;
	x->service_ms = -1;
	x->ep_slot = -1;
	x->id = id;
	s->x = x;
	return x;
}

static struct hf_http_up *
up_alloc(struct hf_http_state *h)
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

static void
up_free(struct hf_http_state *h, struct hf_http_up *u)
{
	hf_http_rd_reset(h, &u->rd);
	u->tcp = NULL;
	u->sess = NULL;
	h->free_ups[h->n_free_ups++] = u->id;
}

/* ---- the idle pool: per endpoint, most recently used first ---- */

struct ep_key {
	uint32_t addr;
	uint16_t port;
	uint16_t zero;
};

static int32_t
ep_slot(struct hf_http_state *h, uint32_t addr, uint16_t port)
{
	struct ep_key k = {.addr = addr, .port = port};
	int32_t pos = rte_hash_lookup(h->endpoints, &k);

	return pos >= 0 ? pos : rte_hash_add_key(h->endpoints, &k);
}

static void
idle_remove(struct hf_http_state *h, struct hf_http_up *u)
{
	if (u->idle_prev != NULL)
		u->idle_prev->idle_next = u->idle_next;
	else
		h->idle[u->slot] = u->idle_next;
	if (u->idle_next != NULL)
		u->idle_next->idle_prev = u->idle_prev;
	u->idle_next = u->idle_prev = NULL;
}

static void
idle_push(struct hf_http_state *h, struct hf_http_up *u)
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
static void
up_close(struct hf_worker *w, struct hf_http_up *u, bool reset)
{
	struct hf_http_state *h = w->http;

	if (u->tcp == NULL) {
		/* TCP already reported it closed: only the object is left. */
		up_free(h, u);
		return;
	}
	if (reset) {
		hf_tcp_abort(w, u->tcp);
		up_free(h, u);
		return;
	}
	u->state = HF_HTTP_UP_CLOSING;
	u->sess = NULL;
	hf_http_rd_reset(h, &u->rd);
	hf_tcp_shutdown(w, u->tcp);
}

/* Closes every idle connection to endpoint @p slot (their peer is gone). */
static void
idle_drain(struct hf_worker *w, int32_t slot)
{
	struct hf_http_up *u;

	while ((u = w->http->idle[slot]) != NULL) {
		idle_remove(w->http, u);
		up_close(w, u, true);
	}
}

/* ---- timers ---- */

static void on_timer(struct hf_timer *t, void *arg);

static void
timer_set(struct hf_worker *w, struct hf_http_session *s, uint32_t ms)
{
	/*
	 * The wheel's clock is whole milliseconds, truncated: one tick more makes
	 * sure at least @p ms pass (a fault delay must not be shorter than asked).
	 */
	if (ms == 0)
		hf_timer_cancel(&w->tcp->wheel, &s->timer);
	else
		hf_timer_arm(&w->tcp->wheel, &s->timer, w->tcp->now_tick + ms + 1);
}

/* ---- access log ---- */

static void
log_push(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_access_log_rec *r;

	/* HF_HTTP_S_LOG is set with a stream only (log_request(), log_connection()). */
	if (!(s->flags & HF_HTTP_S_LOG))
		return;
	s->flags &= ~HF_HTTP_S_LOG;
	r = &s->x->log;
	r->start_us = h->epoch_us + (s->start_tsc - h->epoch_tsc) / h->tsc_per_us;
	r->duration_ms = (uint32_t)((w->now - s->start_tsc) / h->tsc_per_ms);
	r->service_ms = s->x->service_ms;
	if (rte_ring_sp_enqueue_elem(h->log_ring, r, sizeof(*r)) != 0) {
		HF_COUNT(w, ACCESS_LOG_DROP_FULL);
		return;
	}
	HF_COUNT(w, ACCESS_LOG_RECORDS);
}

static void
count_status(struct hf_worker *w, int status)
{
	HF_COUNT(w, HTTP_DOWNSTREAM_RQ);
	switch (status / 100) {
	case 1: HF_COUNT(w, HTTP_RQ_1XX); break;
	case 2: HF_COUNT(w, HTTP_RQ_2XX); break;
	case 3: HF_COUNT(w, HTTP_RQ_3XX); break;
	case 4: HF_COUNT(w, HTTP_RQ_4XX); break;
	default: HF_COUNT(w, HTTP_RQ_5XX); break;
	}
}

static void
set_result(struct hf_http_session *s, int status, enum hf_response_flag flag, const char *details)
{
	s->x->log.status = (uint16_t)status;
	s->x->log.flag = (uint8_t)flag;
	s->x->log.details = details;
}

/* ---- the end of an exchange, of a session ---- */

/*
 * Returns the stream of @p s to its pool with what it holds: its endpoint's
 * in-flight count, its bytes, and its upstream unless exchange_end() took it
 * (closed with a reset when @p reset_up).
 */
static void
stream_end(struct hf_worker *w, struct hf_http_session *s, bool reset_up)
{
	struct hf_http_state *h = w->http;
	struct hf_http_stream *x = s->x;

	if (x == NULL)
		return;
	if (x->ep_slot >= 0) {
		h->active[x->ep_slot]--;
		x->ep_slot = -1;
	}
	if (x->up != NULL) {
		up_close(w, x->up, reset_up);
		x->up = NULL;
	}
	hf_http_mq_free(&x->pending);
	hf_http_mq_free(&x->retry_head);
	s->x = NULL;
	h->free_streams[h->n_free_streams++] = x->id;
}

/* Frees the session: its timer, its bytes, its upstream (reset when it carried a request). */
static void
sess_free(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;

	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	stream_end(w, s, true);
	hf_http_rd_reset(h, &s->rd);
	if (s->down != NULL)
		s->down->ctx = NULL;
	s->down = NULL;
	h->free_sessions[h->n_free_sessions++] = s->id;
}

/* Resets the downstream (and the upstream): the exchange cannot end cleanly. */
static int
sess_reset(struct hf_worker *w, struct hf_http_session *s, enum hf_response_flag flag)
{
	HF_COUNT(w, HTTP_RQ_RESET);
	if (s->flags & HF_HTTP_S_LOG) {
		s->x->log.flag = (uint8_t)flag;
		log_push(w, s);
	}
	hf_tcp_abort(w, s->down);
	s->down = NULL;
	sess_free(w, s);
	return STEP_GONE;
}

/* Stops reading requests: FIN after what is queued; later input is dropped. */
static void
sess_close(struct hf_worker *w, struct hf_http_session *s)
{
	s->rq = HF_HTTP_RQ_CLOSING;
	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	hf_http_rd_reset(w->http, &s->rd);
	hf_tcp_shutdown(w, s->down);
}

/*
 * The exchange is over on both sides: logs it, returns the upstream to its
 * pool when it can serve again, and either waits for the next request or
 * closes the downstream.
 */
static int
exchange_end(struct hf_worker *w, struct hf_http_session *s, bool close)
{
	struct hf_http_up *u = s->x->up;

	count_status(w, s->x->log.status);
	log_push(w, s);
	if (u != NULL) {
		s->x->up = NULL;
		if ((s->flags & HF_HTTP_S_UP_REUSABLE) && s->rq == HF_HTTP_RQ_DONE && u->tcp != NULL &&
		    u->slot >= 0 &&
		    u->state == HF_HTTP_UP_ACTIVE && u->rd.q.bytes == 0 &&
		    u->tcp->state == HF_TCP_ESTABLISHED && !hf_tcp_peer_closed(u->tcp))
			idle_push(w->http, u);
		else
			up_close(w, u, s->rq != HF_HTTP_RQ_DONE || s->rs != HF_HTTP_RS_DONE);
	}
	stream_end(w, s, false);
	if (close || !(s->flags & HF_HTTP_S_KEEP_ALIVE) || s->rq != HF_HTTP_RQ_DONE) {
		sess_close(w, s);
		return STEP_WAIT;
	}
	s->rq = HF_HTTP_RQ_HEAD;
	s->rs = HF_HTTP_RS_WAIT;
	s->flags = 0;
	timer_set(w, s, s->lst->cfg->idle_timeout_ms);
	return STEP_MORE;
}

/*
 * Answers the request from here. A request whose body was not read, or that
 * the parser refused, leaves the stream without a known next message: the
 * connection closes after the reply. Once a response head went downstream
 * only a reset can say something went wrong.
 */
static int
local_reply_x(struct hf_worker *w, struct hf_http_session *s, int status,
	      enum hf_response_flag flag, const char *details, const char *body, bool close,
	      const char *extra)
{
	struct hf_http_wr wr;

	if (s->flags & HF_HTTP_S_RESPONDED)
		return sess_reset(w, s, flag);
	if (s->x->up != NULL) {
		up_close(w, s->x->up, true);
		s->x->up = NULL;
	}
	hf_http_mq_free(&s->x->pending);
	if (s->rq == HF_HTTP_RQ_BODY || s->rq == HF_HTTP_RQ_HEAD)
		close = true;
	hf_http_wr_init(&wr, w->ports[s->down->port].pool);
	hf_http_build_local(&wr, status, body, close, s->flags & HF_HTTP_S_HEAD, extra);
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return sess_reset(w, s, flag);
	}
	HF_COUNT(w, HTTP_LOCAL_REPLY);
	s->x->log.bytes_tx = strlen(body);
	hf_tcp_send(w, s->down, wr.head);
	s->flags |= HF_HTTP_S_RESPONDED;
	set_result(s, status, flag, details);
	s->rs = HF_HTTP_RS_DONE;
	return exchange_end(w, s, close);
}

static int
local_reply(struct hf_worker *w, struct hf_http_session *s, int status, enum hf_response_flag flag,
	    const char *details, const char *body, bool close)
{
	return local_reply_x(w, s, status, flag, details, body, close, NULL);
}

/* ---- moving bytes ---- */

/*
 * Moves up to @p limit bytes from reader @p rd (topped up from @p src, NULL
 * when that connection is gone) to @p dst while @p dst has room. Returns the
 * bytes moved; *@p nomem when the stream could not be cut.
 */
static uint64_t
move(struct hf_worker *w, struct hf_http_reader *rd, struct hf_tcp_conn *src,
     struct hf_tcp_conn *dst, uint64_t limit, bool *nomem)
{
	const struct hf_tcp_stack *st = w->tcp;
	uint64_t moved = 0;

	*nomem = false;
	while (moved < limit && hf_tcp_writable(st, dst)) {
		struct rte_mbuf *m;
		uint32_t got;

		if (rd->q.head == NULL && (src == NULL ||
		    hf_http_rd_pull(w, rd, src, st->cfg.snd_high - hf_tcp_sndq_bytes(dst)) == 0))
			break;
		m = hf_http_mq_take(w, &rd->q, limit - moved, &got, nomem);
		if (m != NULL)
			hf_tcp_send(w, dst, m);
		moved += got;
		if (*nomem)
			break;
	}
	return moved;
}

/*
 * Decodes the chunked framing of the bytes of @p rd after the first @p skip
 * (already decoded), stopping at the body's end (b->chunk_done). The bytes
 * themselves pass unchanged. Returns how many were decoded, or
 * HF_H1_E_BAD_CHUNK.
 */
static int64_t
chunked_span(struct hf_http_body *b, const struct hf_http_reader *rd, uint64_t skip)
{
	struct hf_h1_slice data[CHUNK_SLICES];
	int64_t span = 0;

	for (const struct rte_mbuf *seg = rd->q.head; seg != NULL && !b->chunk_done; seg = seg->next) {
		const char *p = rte_pktmbuf_mtod(seg, const char *);
		size_t left = seg->data_len;

		if (skip >= left) {
			skip -= left;
			continue;
		}
		p += skip;
		left -= skip;
		skip = 0;
		while (left > 0 && !b->chunk_done) {
			unsigned int n;
			int rc = hf_h1_chunked_decode(&b->chunked, p, left, data, CHUNK_SLICES, &n,
						      &b->chunk_done);

			if (rc < 0)
				return rc;
			p += rc;
			left -= (size_t)rc;
			span += rc;
		}
	}
	return span;
}

/*
 * Moves body @p b from @p rd/@p src to @p dst with its framing, counting the
 * bytes in worker counter @p cnt and *@p total. Returns STEP_MORE when the
 * body is complete, STEP_WAIT when it waits for bytes or room, or a negative
 * error: HF_H1_E_BAD_CHUNK, -ENOMEM, -EPIPE (the source closed before the
 * body's end), -EFBIG (past @p max; 0: no limit).
 */
static int
move_body(struct hf_worker *w, struct hf_http_body *b, struct hf_http_reader *rd,
	  struct hf_tcp_conn *src, struct hf_tcp_conn *dst, uint64_t max, enum hf_counter cnt,
	  uint64_t *total)
{
	bool nomem = false, done = false;
	uint64_t n;

	for (;;) {
		switch (b->framing) {
		case HF_HTTP_BODY_NONE:
			return STEP_MORE;
		case HF_HTTP_BODY_LENGTH:
			n = move(w, rd, src, dst, b->remaining, &nomem);
			b->remaining -= n;
			done = b->remaining == 0;
			break;
		case HF_HTTP_BODY_CLOSE:
			n = move(w, rd, src, dst, UINT64_MAX, &nomem);
			done = rd->q.head == NULL && (src == NULL || hf_tcp_peer_closed(src));
			break;
		default: {
			/* Chunked: forward exactly the bytes decoded as the body's. */
			int64_t fresh = 0;

			if (src != NULL && !b->chunk_done && hf_tcp_writable(w->tcp, dst))
				hf_http_rd_pull(w, rd, src, w->tcp->cfg.snd_high);
			if (!b->chunk_done)
				fresh = chunked_span(b, rd, b->ahead);
			if (fresh < 0)
				return (int)fresh;
			b->ahead += (uint64_t)fresh;
			n = move(w, rd, NULL, dst, b->ahead, &nomem);
			b->ahead -= n;
			done = b->chunk_done && b->ahead == 0;
			break;
		}
		}
		b->total += n;
		*total += n;
		w->cnt.v[cnt] += n;
		if (nomem)
			return -ENOMEM;
		if (max != 0 && b->total > max)
			return -EFBIG;
		if (done) {
			b->framing = HF_HTTP_BODY_NONE;
			return STEP_MORE;
		}
		if (n == 0) {
			if (rd->q.head == NULL && (src == NULL || hf_tcp_peer_closed(src)))
				return -EPIPE;
			return STEP_WAIT;
		}
	}
}

/* ---- the request ---- */

static void
log_request(struct hf_http_session *s, const struct hf_h1_message *msg)
{
	struct hf_access_log_rec *r = &s->x->log;
	const struct hf_h1_header *f;

	memset(r, 0, sizeof(*r));
	r->minor = msg->minor;
	r->service_ms = -1;
	r->d_laddr = s->down->laddr;
	r->d_lport = s->down->lport;
	r->d_raddr = s->down->raddr;
	r->d_rport = s->down->rport;
	hf_http_copy_str(r->method, sizeof(r->method), msg->method_name.p, msg->method_name.len);
	hf_http_copy_str(r->path, sizeof(r->path), msg->target.p, msg->target.len);
	hf_http_copy_str(r->authority, sizeof(r->authority), msg->host.p, msg->host.len);
	f = hf_h1_find(msg, "user-agent");
	if (f != NULL)
		hf_http_copy_str(r->user_agent, sizeof(r->user_agent), f->value.p, f->value.len);
}

static void
set_framing(struct hf_http_body *b, const struct hf_h1_message *msg)
{
	memset(b, 0, sizeof(*b));
	if (msg->flags & HF_H1_F_CHUNKED) {
		b->framing = HF_HTTP_BODY_CHUNKED;
		hf_h1_chunked_init(&b->chunked);
	} else if ((msg->flags & HF_H1_F_HAS_BODY_LENGTH) && msg->content_length > 0) {
		b->framing = HF_HTTP_BODY_LENGTH;
		b->remaining = msg->content_length;
	}
}

/*
 * Refuses a request for want of a stream (http.max_requests in flight): a
 * 503 and the connection closes. There is no stream to log it in; the
 * counter is the record.
 */
static int
no_stream(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_wr wr;

	HF_COUNT(w, HTTP_DROP_NO_STREAM);
	count_status(w, 503);
	hf_http_wr_init(&wr, w->ports[s->down->port].pool);
	hf_http_build_local(&wr, 503, "overloaded", true, false, NULL);
	if (wr.failed)
		hf_http_wr_discard(&wr);
	else
		hf_tcp_send(w, s->down, wr.head);
	sess_close(w, s);
	return STEP_WAIT;
}

/*
 * A stream and its record for an answer given before any request head could
 * be read. False when no stream can be had.
 */
static bool
log_connection(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_access_log_rec *r;

	if (stream_get(w->http, s) == NULL)
		return false;
	r = &s->x->log;
	memset(r, 0, sizeof(*r));
	r->service_ms = -1;
	r->d_laddr = s->down->laddr;
	r->d_lport = s->down->lport;
	r->d_raddr = s->down->raddr;
	r->d_rport = s->down->rport;
	r->minor = 1;
	if (w->http->log_ring != NULL)
		s->flags |= HF_HTTP_S_LOG;
	return true;
}

static int
parse_error(struct hf_worker *w, struct hf_http_session *s, int rc)
{
	switch (rc) {
	case HF_H1_E_URI_TOO_LONG: HF_COUNT(w, HTTP_DROP_URI_TOO_LONG); break;
	case HF_H1_E_HEADERS_TOO_LARGE: HF_COUNT(w, HTTP_DROP_HEADERS_TOO_LARGE); break;
	case HF_H1_E_SMUGGLING: HF_COUNT(w, HTTP_DROP_SMUGGLING); break;
	case HF_H1_E_VERSION: HF_COUNT(w, HTTP_DROP_VERSION); break;
	default: HF_COUNT(w, HTTP_DROP_BAD_REQUEST); break;
	}
	if (!log_connection(w, s))
		return no_stream(w, s);
	return local_reply(w, s, hf_h1_error_status(rc), HF_RF_DPE, hf_h1_error_name(rc),
			   hf_h1_error_name(rc), true);
}

/* Picks the endpoint and an upstream connection to it: pooled, or a new one. */
static struct hf_http_up *
upstream_for(struct hf_worker *w, struct hf_http_session *s, const struct hf_snap_endpoint *ep)
{
	struct hf_http_state *h = w->http;
	int32_t slot = ep_slot(h, ep->addr, ep->port);
	struct hf_http_up *u;
	uint16_t port = 0;

	if (slot >= 0 && h->idle[slot] != NULL) {
		u = h->idle[slot];
		idle_remove(h, u);
		u->state = HF_HTTP_UP_ACTIVE;
		u->sess = s;
		HF_COUNT(w, HTTP_UPSTREAM_REUSED);
		return u;
	}
	u = up_alloc(h);
	if (u == NULL)
		return NULL;
	/* The port whose subnet holds the endpoint, else the first (its gateway routes). */
	for (uint16_t i = 0; i < w->n_ports; i++)
		if ((ep->addr & w->ports[i].mask) == (w->ports[i].addr & w->ports[i].mask)) {
			port = i;
			break;
		}
	u->tcp = hf_tcp_connect(w, port, ep->addr, ep->port, s->x->connect_timeout_ms, &up_ops, u);
	if (u->tcp == NULL) {
		up_free(h, u);
		return NULL;
	}
	u->state = HF_HTTP_UP_CONNECTING;
	u->sess = s;
	u->addr = ep->addr;
	u->port = ep->port;
	u->slot = slot;
	HF_COUNT(w, HTTP_UPSTREAM_CX);
	return u;
}

/*
 * The endpoint of cluster @p cl by its policy: round robin (per worker),
 * random, or least request (the fewer in-flight requests of two random
 * picks, Envoy's default choice count). *@p slot gets the endpoint's idle-pool
 * slot (-1 when the table is full).
 */
static const struct hf_snap_endpoint *
pick_endpoint(struct hf_http_state *h, const struct hf_snap_cluster *cl, int cluster, int32_t *slot)
{
	const struct hf_snap_endpoint *ep, *other;

	switch (cl->lb) {
	case HF_LB_RANDOM:
		ep = &cl->endpoints[rte_rand() % cl->n_endpoints];
		break;
	case HF_LB_LEAST_REQUEST: {
		int32_t s2;

		ep = &cl->endpoints[rte_rand() % cl->n_endpoints];
		other = &cl->endpoints[rte_rand() % cl->n_endpoints];
		*slot = ep_slot(h, ep->addr, ep->port);
		s2 = ep_slot(h, other->addr, other->port);
		if (s2 >= 0 && (*slot < 0 || h->active[s2] < h->active[*slot])) {
			*slot = s2;
			ep = other;
		}
		return ep;
	}
	default:
		ep = &cl->endpoints[h->rr[(unsigned int)cluster % HF_HTTP_RR_SLOTS]++ % cl->n_endpoints];
		break;
	}
	*slot = ep_slot(h, ep->addr, ep->port);
	return ep;
}

static int
consume_and_reply(struct hf_worker *w, struct hf_http_session *s, int head_len, int status,
		  enum hf_response_flag flag, const char *details, const char *body, const char *extra)
{
	hf_http_rd_consume(w->http, &s->rd, (uint32_t)head_len);
	s->rq = s->x->rq_body.framing == HF_HTTP_BODY_NONE ? HF_HTTP_RQ_DONE : HF_HTTP_RQ_BODY;
	return local_reply_x(w, s, status, flag, details, body, false, extra);
}

/*
 * Mirrors request @p msg to cluster @p cl (Istio mirror, fire and forget): a
 * connection of its own that sends the request with the authority suffixed
 * "-shadow", as Envoy does, and "connection: close", and drops the answer.
 * Nothing of the mirror reaches the client or delays its request.
 */
static void
mirror(struct hf_worker *w, struct hf_http_session *s, const struct hf_h1_message *msg,
       const struct hf_snap_cluster *cl, int cluster)
{
	static const struct hf_route_hdr_op close_op = {
		.op = HF_HDR_SET, .name = "connection", .name_len = 10, .value = "close", .value_len = 5};
	struct hf_http_state *h = w->http;
	const struct hf_snap_endpoint *ep;
	char shadow[HF_ROUTER_NAME + 8], rid[HF_UUID_LEN + 1], xff[64];
	struct hf_http_rq_extra x = {
		.client_addr = s->down->raddr,
		.http10 = false,
		.request_id = rid,
		.xff = xff,
		.xff_len = sizeof(xff),
		.ops = {&close_op},
		.n_ops = {1},
	};
	struct hf_http_wr wr;
	struct hf_http_up *u;
	uint16_t port = 0;
	int32_t slot;
	int n;

	if (cl->n_endpoints == 0 || s->x->rq_body.framing != HF_HTTP_BODY_NONE) {
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	n = snprintf(shadow, sizeof(shadow), "%.*s-shadow", (int)RTE_MIN(msg->host.len, 128u),
		     msg->host.p);
	x.authority = shadow;
	x.authority_len = (uint32_t)n;
	hf_http_wr_init(&wr, w->ports[s->down->port].pool);
	hf_http_build_request(&wr, msg, &x);
	u = up_alloc(h);
	if (wr.failed || u == NULL) {
		hf_http_wr_discard(&wr);
		if (u != NULL)
			up_free(h, u);
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	ep = pick_endpoint(h, cl, cluster, &slot);
	for (uint16_t i = 0; i < w->n_ports; i++)
		if ((ep->addr & w->ports[i].mask) == (w->ports[i].addr & w->ports[i].mask)) {
			port = i;
			break;
		}
	u->tcp = hf_tcp_connect(w, port, ep->addr, ep->port, cl->connect_timeout_ms, &up_ops, u);
	if (u->tcp == NULL) {
		hf_http_wr_discard(&wr);
		up_free(h, u);
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	u->state = HF_HTTP_UP_MIRROR;
	u->addr = ep->addr;
	u->port = ep->port;
	/* The request waits in the reader's queue until the connection is up. */
	hf_http_mq_append(&u->rd.q, wr.head);
	HF_COUNT(w, HTTP_MIRRORED);
}

/* Routes the parsed request @p msg (@p head_len bytes) and sends it on its way. */
static int
start_request(struct hf_worker *w, struct hf_http_session *s, const struct hf_h1_message *msg,
	      int head_len)
{
	struct hf_http_state *h = w->http;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_listener *sl = hf_snapshot_listener(snap, s->lst->port);
	const struct hf_vhost *vh =
		sl != NULL ? hf_router_vhost(&sl->table, msg->host.p, msg->host.len) : NULL;
	const struct hf_route *r =
		vh != NULL ? hf_http_route_select(vh, snap->scratch[w->id], msg, s->lst->port) : NULL;
	const struct hf_route_dest *d = NULL;
	const struct hf_snap_cluster *cl;
	const struct hf_snap_endpoint *ep;
	struct hf_http_rq_extra x;
	struct hf_http_wr wr;
	struct hf_http_up *u;
	char target[HF_ROUTER_PATH + 2048], extra[512];
	size_t tlen = 0;
	bool expect, preflight;
	int cors;

	if (stream_get(h, s) == NULL)
		return no_stream(w, s);
	s->minor = msg->minor;
	s->x->service_ms = -1;
	s->flags |= (msg->flags & HF_H1_F_KEEP_ALIVE) ? HF_HTTP_S_KEEP_ALIVE : 0;
	s->flags |= msg->method == HF_H1_M_HEAD ? HF_HTTP_S_HEAD : 0;
	s->flags |= (msg->flags & HF_H1_F_UPGRADE) ? HF_HTTP_S_UPGRADE : 0;
	if (h->log_ring != NULL) {
		s->flags |= HF_HTTP_S_LOG;
		log_request(s, msg);
	}
	set_framing(&s->x->rq_body, msg);
	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	if (r == NULL) {
		HF_COUNT(w, HTTP_NO_ROUTE);
		return consume_and_reply(w, s, head_len, 404, HF_RF_NR, "route_not_found", "", NULL);
	}
	hf_http_copy_str(s->x->log.route, sizeof(s->x->log.route), r->name, strlen(r->name));
	cors = hf_http_route_cors(r, msg, extra, sizeof(extra), &preflight);
	if (cors > 0 && preflight) {
		HF_COUNT(w, HTTP_CORS_PREFLIGHT);
		return consume_and_reply(w, s, head_len, 200, HF_RF_NONE, "cors_response", "", extra);
	}
	if (r->kind == HF_ROUTE_DIRECT) {
		HF_COUNT(w, HTTP_DIRECT_RESPONSE);
		return consume_and_reply(w, s, head_len, r->direct_status, HF_RF_NONE,
					 "direct_response", r->direct_body ? r->direct_body : "", NULL);
	}
	if (r->kind == HF_ROUTE_REDIRECT) {
		HF_COUNT(w, HTTP_REDIRECT);
		if (hf_http_route_location(r, msg, extra, sizeof(extra)) == 0)
			return consume_and_reply(w, s, head_len, 500, HF_RF_NONE, "redirect_too_long",
						 "redirect location too long", NULL);
		return consume_and_reply(w, s, head_len, r->redirect_code, HF_RF_NONE,
					 "direct_response", "", extra);
	}
	if (!(s->flags & HF_HTTP_S_FAULT_DONE)) {
		/* Faults are drawn once per request; a delayed one comes back here after its timer. */
		s->flags |= HF_HTTP_S_FAULT_DONE;
		if (hf_http_chance(r->fault.abort_ppm)) {
			HF_COUNT(w, HTTP_FAULT_ABORT);
			return consume_and_reply(w, s, head_len, r->fault.abort_status, HF_RF_FI,
						 "fault_filter_abort", "fault filter abort", NULL);
		}
		if (hf_http_chance(r->fault.delay_ppm)) {
			HF_COUNT(w, HTTP_FAULT_DELAY);
			s->rq = HF_HTTP_RQ_DELAYED;
			hf_h1_scan_reset(&s->rd.scan);
			timer_set(w, s, r->fault.delay_ms);
			return STEP_WAIT;
		}
	}
	d = hf_http_route_dest(r);
	cl = &snap->clusters[d->cluster];
	hf_http_copy_str(s->x->log.cluster, sizeof(s->x->log.cluster), cl->name, strlen(cl->name));
	s->x->route_timeout_ms = r->timeout_ms;
	s->x->connect_timeout_ms = cl->connect_timeout_ms;
	s->x->max_body = r->max_request_bytes;
	if (cl->n_endpoints == 0) {
		HF_COUNT(w, HTTP_NO_HEALTHY);
		hf_http_rd_consume(h, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return local_reply(w, s, 503, HF_RF_UH, "no_healthy_upstream", "no healthy upstream",
				   true);
	}
	if (s->x->max_body != 0 && s->x->rq_body.framing == HF_HTTP_BODY_LENGTH &&
	    s->x->rq_body.remaining > s->x->max_body) {
		HF_COUNT(w, HTTP_DROP_BODY_TOO_LARGE);
		hf_http_rd_consume(h, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return local_reply(w, s, 413, HF_RF_NONE, "request_payload_too_large",
				   "Payload Too Large", true);
	}
	/* What the response will need of the route, copied: the route may be gone by then. */
	s->x->rs_edit[0] = '\0';
	{
		size_t elen = 0;

		if (hf_http_edit_add(s->x->rs_edit, &elen, r->rs_ops, r->n_rs_ops) != 0 ||
		    hf_http_edit_add(s->x->rs_edit, &elen, d->rs_ops, d->n_rs_ops) != 0)
			HF_COUNT(w, HTTP_DROP_EDIT_FULL);
		/* A CORS answer's fields ride along as additions. */
		for (const char *p = cors > 0 ? extra : NULL; p != NULL && *p != '\0';) {
			const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
			char name[64];

			if (colon == NULL || eol == NULL || (size_t)(colon - p) >= sizeof(name))
				break;
			memcpy(name, p, (size_t)(colon - p));
			name[colon - p] = '\0';
			if (hf_http_edit_add_one(s->x->rs_edit, &elen, 'a', name, colon + 2,
						 (size_t)(eol - colon - 2)) != 0) {
				HF_COUNT(w, HTTP_DROP_EDIT_FULL);
				break;
			}
			p = eol + 2;
		}
		s->x->rs_edit_len = (uint16_t)elen;
	}
	if (r->rewrite_uri != NULL || r->rewrite_re != NULL) {
		tlen = hf_http_route_target(r, snap->re_match[w->id], msg->target.p, msg->target.len,
					    target, sizeof(target));
		if (tlen == 0)
			return consume_and_reply(w, s, head_len, 414, HF_RF_NONE, "rewrite_too_long",
						 "rewritten path too long", NULL);
	}

	/* The head to forward is written now: msg's slices die with the consume below. */
	x = (struct hf_http_rq_extra){
		.client_addr = s->down->raddr,
		.http10 = msg->minor == 0,
		.upgrade = (s->flags & HF_HTTP_S_UPGRADE) != 0,
		.request_id = s->x->log.request_id,
		.xff = s->x->log.xff,
		.xff_len = sizeof(s->x->log.xff),
		.target = tlen > 0 ? target : NULL,
		.target_len = (uint32_t)tlen,
		.authority = r->rewrite_authority,
		.authority_len = r->rewrite_authority != NULL ? (uint32_t)strlen(r->rewrite_authority) : 0,
		.ops = {r->rq_ops, d->rq_ops},
		.n_ops = {r->n_rq_ops, d->n_rq_ops},
	};
	hf_http_wr_init(&wr, w->ports[s->down->port].pool);
	hf_http_build_request(&wr, msg, &x);
	expect = msg->flags & HF_H1_F_EXPECT_CONTINUE;
	if (r->mirror_cluster >= 0 && hf_http_chance(r->mirror_ppm))
		mirror(w, s, msg, &snap->clusters[r->mirror_cluster], r->mirror_cluster);

	hf_http_rd_consume(h, &s->rd, (uint32_t)head_len);
	s->rq = s->x->rq_body.framing == HF_HTTP_BODY_NONE ? HF_HTTP_RQ_DONE : HF_HTTP_RQ_BODY;
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return local_reply(w, s, 503, HF_RF_NONE, "no_mbuf", "out of buffers", true);
	}
	ep = pick_endpoint(h, cl, d->cluster, &s->x->ep_slot);
	u = upstream_for(w, s, ep);
	if (u == NULL) {
		s->x->ep_slot = -1;
		hf_http_wr_discard(&wr);
		HF_COUNT(w, HTTP_UPSTREAM_FAIL);
		return local_reply(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started",
				   "upstream connect error or disconnect/reset before headers. "
				   "reset reason: local resource exhaustion", true);
	}
	if (s->x->ep_slot >= 0)
		h->active[s->x->ep_slot]++;
	s->x->up = u;
	s->rs = HF_HTTP_RS_WAIT;
	s->x->log.up_addr = ep->addr;
	s->x->log.up_port = ep->port;
	s->x->log.up_laddr = u->tcp->laddr;
	s->x->log.up_lport = u->tcp->lport;
	HF_COUNT(w, HTTP_UPSTREAM_RQ);
	if (expect && s->rq == HF_HTTP_RQ_BODY) {
		struct hf_http_wr cont;
		static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";

		hf_http_wr_init(&cont, w->ports[s->down->port].pool);
		hf_http_wr_put(&cont, line, sizeof(line) - 1);
		if (!cont.failed) {
			hf_tcp_send(w, s->down, cont.head);
			HF_COUNT(w, HTTP_CONTINUE);
		} else {
			hf_http_wr_discard(&cont);
		}
	}
	/* A bodiless request can be sent again: keep a copy while its policy allows retries. */
	if (r->retry.attempts > 0 && s->rq == HF_HTTP_RQ_DONE) {
		struct rte_mbuf *copy = hf_http_chain_clone(w, wr.head);

		if (copy != NULL) {
			hf_http_mq_append(&s->x->retry_head, copy);
			s->x->retries_left = (uint8_t)RTE_MIN(r->retry.attempts, 255u);
			s->x->retry_on = r->retry.on;
			s->x->per_try_ms = r->retry.per_try_timeout_ms;
			s->x->n_retry_codes = (uint8_t)RTE_MIN(r->retry.n_codes, RTE_DIM(s->x->retry_codes));
			memcpy(s->x->retry_codes, r->retry.codes,
			       sizeof(s->x->retry_codes[0]) * s->x->n_retry_codes);
		} else {
			HF_COUNT(w, HTTP_DROP_NO_MBUF);
		}
	} else if (s->rq == HF_HTTP_RQ_DONE && u->state == HF_HTTP_UP_ACTIVE &&
		   w->now - u->idle_tsc >= STALE_RISK_MS * h->tsc_per_ms) {
		struct rte_mbuf *copy = hf_http_chain_clone(w, wr.head);

		if (copy != NULL) {
			hf_http_mq_append(&s->x->retry_head, copy);
			s->x->stale_retry = true;
		}
	}
	s->x->sent_tsc = w->now;
	if (u->state == HF_HTTP_UP_ACTIVE)
		hf_tcp_send(w, u->tcp, wr.head);
	else
		hf_http_mq_append(&s->x->pending, wr.head);
	if (s->rq == HF_HTTP_RQ_DONE)
		timer_set(w, s, s->x->per_try_ms != 0 ? s->x->per_try_ms : s->x->route_timeout_ms);
	return STEP_MORE;
}

/* Whether the retry policy of @p s covers a response of @p status (0: no response, @p on). */
static bool
retriable(const struct hf_http_session *s, int status, uint32_t on)
{
	if (s->x->retries_left == 0 || s->x->retry_head.head == NULL || (s->flags & HF_HTTP_S_RESPONDED))
		return false;
	if (status == 0)
		return (s->x->retry_on & on) != 0;
	if ((s->x->retry_on & HF_RETRY_5XX) && status >= 500)
		return true;
	if ((s->x->retry_on & HF_RETRY_GATEWAY_ERROR) && status >= 502 && status <= 504)
		return true;
	if ((s->x->retry_on & HF_RETRY_RETRIABLE_4XX) && status == 409)
		return true;
	if (s->x->retry_on & HF_RETRY_RETRIABLE_CODES)
		for (unsigned int i = 0; i < s->x->n_retry_codes; i++)
			if (s->x->retry_codes[i] == status)
				return true;
	return false;
}

/*
 * Sends the request again, on a new upstream connection of the same cluster
 * (by name in the current snapshot; a cluster that went away ends retrying).
 * Returns STEP_MORE when the new try is under way, else the local reply's
 * step for @p status / @p flag.
 */
static int
retry(struct hf_worker *w, struct hf_http_session *s, int status, enum hf_response_flag flag,
      const char *details, const char *body)
{
	struct hf_http_state *h = w->http;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_cluster *cl = NULL;
	const struct hf_snap_endpoint *ep;
	struct rte_mbuf *copy;
	struct hf_http_up *u;
	int cluster = -1;

	for (unsigned int i = 0; snap != NULL && i < snap->n_clusters; i++)
		if (strcmp(snap->clusters[i].name, s->x->log.cluster) == 0) {
			cl = &snap->clusters[i];
			cluster = (int)i;
			break;
		}
	copy = cl != NULL && cl->n_endpoints > 0 ? hf_http_chain_clone(w, s->x->retry_head.head) : NULL;
	if (copy == NULL)
		return local_reply(w, s, status, flag, details, body, true);
	s->x->retries_left--;
	HF_COUNT(w, HTTP_RETRY);
	if (s->x->up != NULL) {
		up_close(w, s->x->up, true);
		s->x->up = NULL;
	}
	if (s->x->ep_slot >= 0) {
		h->active[s->x->ep_slot]--;
		s->x->ep_slot = -1;
	}
	ep = pick_endpoint(h, cl, cluster, &s->x->ep_slot);
	u = upstream_for(w, s, ep);
	if (u == NULL) {
		s->x->ep_slot = -1;
		rte_pktmbuf_free(copy);
		return local_reply(w, s, status, flag, details, body, true);
	}
	if (s->x->ep_slot >= 0)
		h->active[s->x->ep_slot]++;
	s->x->up = u;
	s->rs = HF_HTTP_RS_WAIT;
	s->flags &= ~HF_HTTP_S_UP_REUSABLE;
	s->x->log.up_addr = ep->addr;
	s->x->log.up_port = ep->port;
	s->x->log.up_laddr = u->tcp->laddr;
	s->x->log.up_lport = u->tcp->lport;
	HF_COUNT(w, HTTP_UPSTREAM_RQ);
	s->x->sent_tsc = w->now;
	if (u->state == HF_HTTP_UP_ACTIVE)
		hf_tcp_send(w, u->tcp, copy);
	else
		hf_http_mq_append(&s->x->pending, copy);
	timer_set(w, s, s->x->per_try_ms != 0 ? s->x->per_try_ms : s->x->route_timeout_ms);
	return STEP_MORE;
}

/* RQ_HEAD: reads and parses a request head. */
static int
read_request(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_h1_message msg;
	int rc;

	/* The next request waits until the answers before it have room to go (pipelining). */
	if (!hf_tcp_writable(w->tcp, s->down))
		return STEP_WAIT;
	hf_http_rd_pull(w, &s->rd, s->down, h->buf_size);
	if (s->rd.q.bytes == 0) {
		if (hf_tcp_peer_closed(s->down)) {
			sess_close(w, s);
			return STEP_WAIT;
		}
		return STEP_WAIT;
	}
	if (!(s->flags & HF_HTTP_S_GOT_BYTES)) {
		s->flags |= HF_HTTP_S_GOT_BYTES;
		s->start_tsc = w->now;
		timer_set(w, s, s->lst->cfg->request_headers_timeout_ms);
	}
	rc = hf_http_rd_head(h, &s->rd, true, &s->lst->cfg->limits, &msg);
	if (rc == HF_AGAIN) {
		if (hf_tcp_peer_closed(s->down)) {
			/* The client gave up in the middle of a head: nothing to answer. */
			sess_close(w, s);
		}
		return STEP_WAIT;
	}
	if (rc == -ENOBUFS) {
		HF_COUNT(w, HTTP_DROP_NO_BUFFER);
		if (!log_connection(w, s))
			return no_stream(w, s);
		return local_reply(w, s, 503, HF_RF_NONE, "no_head_buffer", "out of head buffers",
				   true);
	}
	if (rc < 0)
		return parse_error(w, s, rc);
	return start_request(w, s, &msg, rc);
}

/* RQ_BODY: the request body, downstream to upstream. */
static int
pump_request(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_up *u = s->x->up;
	int rc;

	if (u == NULL || u->state != HF_HTTP_UP_ACTIVE || u->tcp == NULL)
		return STEP_WAIT;
	rc = move_body(w, &s->x->rq_body, &s->rd, s->down, u->tcp, s->x->max_body,
		       HF_CNT_HTTP_DOWNSTREAM_RX_BODY, &s->x->log.bytes_rx);
	switch (rc) {
	case STEP_WAIT:
		return STEP_WAIT;
	case STEP_MORE:
		s->rq = HF_HTTP_RQ_DONE;
		if (s->rs != HF_HTTP_RS_DONE)
			timer_set(w, s, s->x->route_timeout_ms);
		return STEP_MORE;
	case -EFBIG:
		HF_COUNT(w, HTTP_DROP_BODY_TOO_LARGE);
		return local_reply(w, s, 413, HF_RF_NONE, "request_payload_too_large",
				   "Payload Too Large", true);
	case HF_H1_E_BAD_CHUNK:
		HF_COUNT(w, HTTP_DROP_BAD_CHUNK);
		return local_reply(w, s, 400, HF_RF_DPE, "bad_chunk", "bad_chunk", true);
	case -EPIPE:
		/* The client closed in the middle of its body. */
		return sess_reset(w, s, HF_RF_DC);
	default:
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return sess_reset(w, s, HF_RF_NONE);
	}
}

/* ---- the response ---- */

static int
upstream_failed(struct hf_worker *w, struct hf_http_session *s, enum hf_response_flag flag)
{
	static const char uf[] = "upstream connect error or disconnect/reset before headers. "
				 "reset reason: connection failure";
	static const char uc[] = "upstream connect error or disconnect/reset before headers. "
				 "reset reason: connection termination";

	if (flag == HF_RF_UF) {
		HF_COUNT(w, HTTP_UPSTREAM_FAIL);
		if (retriable(s, 0, HF_RETRY_CONNECT_FAILURE | HF_RETRY_REFUSED_STREAM))
			return retry(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started", uf);
		return local_reply(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started", uf,
				   true);
	}
	HF_COUNT(w, HTTP_UPSTREAM_GONE);
	if (s->flags & HF_HTTP_S_RESPONDED)
		return sess_reset(w, s, HF_RF_UR);
	if (s->x->stale_retry && s->x->retry_head.head != NULL) {
		/* The pooled connection was dead: so, likely, are its siblings from the same time. */
		s->x->stale_retry = false;
		if (s->x->up != NULL && s->x->up->slot >= 0)
			idle_drain(w, s->x->up->slot);
		HF_COUNT(w, HTTP_STALE_RETRY);
		s->x->retries_left++;
		return retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc);
	}
	if (retriable(s, 0, HF_RETRY_RESET | HF_RETRY_5XX | HF_RETRY_GATEWAY_ERROR))
		return retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc);
	return local_reply(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc, true);
}

static int
start_tunnel(struct hf_worker *w, struct hf_http_session *s);

/* RS_WAIT: reads the upstream's response head and sends ours downstream. */
static int
read_response(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_http_up *u = s->x->up;
	struct hf_h1_message msg;
	struct hf_http_wr wr;
	bool keep;
	int rc;

	if (u->tcp != NULL)
		hf_http_rd_pull(w, &u->rd, u->tcp, h->buf_size);
	if (u->rd.q.bytes == 0) {
		if (u->tcp == NULL || hf_tcp_peer_closed(u->tcp))
			return upstream_failed(w, s, HF_RF_UC);
		return STEP_WAIT;
	}
	rc = hf_http_rd_head(h, &u->rd, false, &h->up_limits, &msg);
	if (rc == HF_AGAIN) {
		if (u->tcp == NULL || hf_tcp_peer_closed(u->tcp))
			return upstream_failed(w, s, HF_RF_UC);
		return STEP_WAIT;
	}
	if (rc == -ENOBUFS) {
		HF_COUNT(w, HTTP_DROP_NO_BUFFER);
		return local_reply(w, s, 503, HF_RF_NONE, "no_head_buffer", "out of head buffers",
				   true);
	}
	if (rc < 0 || (msg.status == 101 && !(s->flags & HF_HTTP_S_UPGRADE))) {
		HF_COUNT(w, HTTP_DROP_UPSTREAM_PROTOCOL);
		return local_reply(w, s, 502, HF_RF_UPE, "upstream_protocol_error",
				   "upstream protocol error", true);
	}
	if (msg.status < 200 && msg.status != 101) {
		/* An interim answer (100 Continue, 103): ours was sent already; drop it. */
		hf_http_rd_consume(h, &u->rd, (uint32_t)rc);
		return STEP_MORE;
	}
	if (retriable(s, msg.status, 0)) {
		/* This answer is dropped with its connection; the request goes again. */
		hf_http_rd_consume(h, &u->rd, (uint32_t)rc);
		return retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started",
			     "retries exhausted");
	}
	s->x->service_ms = (int32_t)((w->now - s->x->sent_tsc) / h->tsc_per_ms);
	set_framing(&s->x->rs_body, &msg);
	if ((s->flags & HF_HTTP_S_HEAD) || msg.status == 204 || msg.status == 304 ||
	    msg.status == 101)
		s->x->rs_body.framing = HF_HTTP_BODY_NONE;
	else if (!(msg.flags & (HF_H1_F_CHUNKED | HF_H1_F_HAS_BODY_LENGTH)))
		s->x->rs_body.framing = HF_HTTP_BODY_CLOSE;
	if ((msg.flags & HF_H1_F_KEEP_ALIVE) && s->x->rs_body.framing != HF_HTTP_BODY_CLOSE)
		s->flags |= HF_HTTP_S_UP_REUSABLE;
	/* A body that ends with the connection ends the downstream connection too. */
	if (s->x->rs_body.framing == HF_HTTP_BODY_CLOSE || hf_tcp_peer_closed(s->down))
		s->flags &= ~HF_HTTP_S_KEEP_ALIVE;
	keep = s->flags & HF_HTTP_S_KEEP_ALIVE;
	hf_http_wr_init(&wr, w->ports[s->down->port].pool);
	hf_http_build_response(&wr, &msg, keep, s->minor == 0, s->x->service_ms,
			       s->x->rs_edit_len > 0 ? s->x->rs_edit : NULL);
	hf_http_rd_consume(h, &u->rd, (uint32_t)rc);
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return local_reply(w, s, 503, HF_RF_NONE, "no_mbuf", "out of buffers", true);
	}
	hf_tcp_send(w, s->down, wr.head);
	s->flags |= HF_HTTP_S_RESPONDED;
	set_result(s, msg.status, HF_RF_NONE, "via_upstream");
	if (msg.status == 101)
		return start_tunnel(w, s);
	s->rs = HF_HTTP_RS_BODY;
	return STEP_MORE;
}

/* RS_BODY: the response body, upstream to downstream. */
static int
pump_response(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_up *u = s->x->up;
	int rc = move_body(w, &s->x->rs_body, &u->rd, u->tcp, s->down, 0, HF_CNT_HTTP_DOWNSTREAM_TX_BODY,
			   &s->x->log.bytes_tx);

	switch (rc) {
	case STEP_WAIT:
		return STEP_WAIT;
	case STEP_MORE:
		s->rs = HF_HTTP_RS_DONE;
		return STEP_MORE;
	case -EPIPE:
		return upstream_failed(w, s, HF_RF_UR);
	case HF_H1_E_BAD_CHUNK:
		HF_COUNT(w, HTTP_DROP_UPSTREAM_PROTOCOL);
		return sess_reset(w, s, HF_RF_UPE);
	default:
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return sess_reset(w, s, HF_RF_NONE);
	}
}

/* ---- upgrades: a byte tunnel both ways ---- */

static int
start_tunnel(struct hf_worker *w, struct hf_http_session *s)
{
	HF_COUNT(w, HTTP_UPGRADES);
	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	s->rq = HF_HTTP_RQ_TUNNEL;
	s->rs = HF_HTTP_RS_DONE;
	count_status(w, 101);
	log_push(w, s);
	return STEP_MORE;
}

static int
pump_tunnel(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_up *u = s->x->up;
	bool nomem = false, nomem2 = false;

	if (u->tcp != NULL) {
		HF_COUNT_N(w, HTTP_DOWNSTREAM_RX_BODY,
			   move(w, &s->rd, s->down, u->tcp, UINT64_MAX, &nomem));
		if (s->rd.q.head == NULL && hf_tcp_peer_closed(s->down))
			hf_tcp_shutdown(w, u->tcp);
	}
	HF_COUNT_N(w, HTTP_DOWNSTREAM_TX_BODY,
		   move(w, &u->rd, u->tcp, s->down, UINT64_MAX, &nomem2));
	if (nomem || nomem2) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return sess_reset(w, s, HF_RF_NONE);
	}
	if (u->rd.q.head == NULL && (u->tcp == NULL || hf_tcp_peer_closed(u->tcp)))
		hf_tcp_shutdown(w, s->down);
	return STEP_WAIT;
}

/* ---- driving a session ---- */

static int
drive(struct hf_worker *w, struct hf_http_session *s)
{
	for (;;) {
		bool progress = false;
		int rc = STEP_WAIT;

		switch (s->rq) {
		case HF_HTTP_RQ_HEAD:
			rc = read_request(w, s);
			if (rc != STEP_MORE)
				return rc;
			continue;
		case HF_HTTP_RQ_TUNNEL:
			return pump_tunnel(w, s);
		case HF_HTTP_RQ_CLOSING: {
			struct rte_mbuf *m;

			/* Answered and closing: whatever else the client sends is dropped. */
			while ((m = hf_tcp_recv(w, s->down, UINT32_MAX)) != NULL)
				rte_pktmbuf_free(m);
			return STEP_WAIT;
		}
		case HF_HTTP_RQ_BODY:
			rc = pump_request(w, s);
			if (rc == STEP_GONE)
				return rc;
			progress = rc == STEP_MORE;
			break;
		case HF_HTTP_RQ_DELAYED:
			return STEP_WAIT;
		default:
			break;
		}
		/* A local reply may have ended the exchange. */
		if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
			continue;
		if (s->x->up != NULL && s->x->up->state == HF_HTTP_UP_ACTIVE && s->rs == HF_HTTP_RS_WAIT) {
			rc = read_response(w, s);
			if (rc == STEP_GONE)
				return rc;
			if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
				continue;
			progress = progress || rc == STEP_MORE;
		}
		if (s->x->up != NULL && s->rs == HF_HTTP_RS_BODY) {
			rc = pump_response(w, s);
			if (rc == STEP_GONE)
				return rc;
			if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
				continue;
			progress = progress || rc == STEP_MORE;
		}
		if (s->rs == HF_HTTP_RS_DONE) {
			/* Answered before the request body ended: the stream has no known next message. */
			exchange_end(w, s, s->rq == HF_HTTP_RQ_BODY);
			continue;
		}
		if (!progress)
			return STEP_WAIT;
	}
}

/* ---- timers ---- */

static void
on_timer(struct hf_timer *t, void *arg)
{
	struct hf_http_session *s = arg;
	struct hf_worker *w = s->lst->http->w;

	(void)t;
	switch (s->rq) {
	case HF_HTTP_RQ_HEAD:
		if (!(s->flags & HF_HTTP_S_GOT_BYTES)) {
			HF_COUNT(w, HTTP_IDLE_TIMEOUT);
			sess_close(w, s);
			return;
		}
		HF_COUNT(w, HTTP_DROP_HEADER_TIMEOUT);
		if (!log_connection(w, s)) {
			no_stream(w, s);
			return;
		}
		local_reply(w, s, 408, HF_RF_NONE, "request_header_timeout", "request header timeout",
			    true);
		return;
	case HF_HTTP_RQ_DELAYED:
		/* The fault delay is over: the head, still buffered, is read again and routed. */
		s->rq = HF_HTTP_RQ_HEAD;
		drive(w, s);
		return;
	case HF_HTTP_RQ_BODY:
	case HF_HTTP_RQ_DONE:
		HF_COUNT(w, HTTP_UPSTREAM_TIMEOUT);
		if (s->x->per_try_ms != 0 && retriable(s, 0, HF_RETRY_5XX | HF_RETRY_GATEWAY_ERROR |
							  HF_RETRY_RESET)) {
			retry(w, s, 504, HF_RF_UT, "upstream_per_try_timeout", "upstream request timeout");
			return;
		}
		if (s->flags & HF_HTTP_S_RESPONDED) {
			sess_reset(w, s, HF_RF_UT);
			return;
		}
		local_reply(w, s, 504, HF_RF_UT, "upstream_response_timeout", "upstream request timeout",
			    true);
		return;
	default:
		return;
	}
}

/* ---- TCP callbacks: downstream ---- */

static int
down_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct hf_http_listener *l = lctx;
	struct hf_http_session *s = sess_alloc(w->http);

	HF_COUNT(w, HTTP_DOWNSTREAM_CX);
	if (s == NULL) {
		HF_COUNT(w, HTTP_DROP_NO_SESSION);
		return -ENOBUFS;
	}
	s->down = c;
	s->lst = l;
	hf_timer_init(&s->timer, on_timer, s);
	c->ctx = s;
	timer_set(w, s, l->cfg->idle_timeout_ms);
	return 0;
}

static void
down_event(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_session *s = c->ctx;

	if (s != NULL)
		drive(w, s);
}

static void
down_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_http_session *s = c->ctx;

	if (s == NULL)
		return;
	if (s->flags & HF_HTTP_S_LOG) {
		/* The client went away with its request unanswered. */
		s->x->log.flag = HF_RF_DC;
		log_push(w, s);
	}
	s->down = NULL;
	c->ctx = NULL;
	if (s->x != NULL && s->x->up != NULL && s->rq == HF_HTTP_RQ_TUNNEL && err == 0) {
		/* A tunnel ended cleanly from the client's side: let the upstream finish too. */
		up_close(w, s->x->up, false);
		s->x->up = NULL;
	}
	sess_free(w, s);
}

/* ---- TCP callbacks: upstream ---- */

static void
up_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_up *u = c->ctx;
	struct hf_http_session *s = u->sess;

	if (u->state == HF_HTTP_UP_MIRROR) {
		struct rte_mbuf *m = u->rd.q.head;

		u->rd.q.head = u->rd.q.tail = NULL;
		u->rd.q.bytes = 0;
		if (m != NULL)
			hf_tcp_send(w, c, m);
		return;
	}
	if (u->state != HF_HTTP_UP_CONNECTING || s == NULL)
		return;
	u->state = HF_HTTP_UP_ACTIVE;
	u->tcp = c;
	s->x->log.up_laddr = c->laddr;
	s->x->log.up_lport = c->lport;
	if (s->x->pending.head != NULL) {
		struct rte_mbuf *m = s->x->pending.head;

		s->x->pending.head = s->x->pending.tail = NULL;
		s->x->pending.bytes = 0;
		s->x->sent_tsc = w->now;
		hf_tcp_send(w, c, m);
	}
	drive(w, s);
}

static void
up_event(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_up *u = c->ctx;
	struct rte_mbuf *m;

	switch (u->state) {
	case HF_HTTP_UP_ACTIVE:
		drive(w, u->sess);
		return;
	case HF_HTTP_UP_IDLE:
		/* Nothing was asked: an idle upstream that talks cannot be trusted with a request. */
		if ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL) {
			rte_pktmbuf_free(m);
			HF_COUNT(w, HTTP_DROP_UNSOLICITED);
			idle_remove(w->http, u);
			up_close(w, u, true);
		} else if (hf_tcp_peer_closed(c)) {
			HF_COUNT(w, HTTP_UPSTREAM_IDLE_CLOSED);
			idle_remove(w->http, u);
			up_close(w, u, false);
		}
		return;
	case HF_HTTP_UP_CLOSING:
	case HF_HTTP_UP_MIRROR:
		/* Nobody waits for these bytes; the upstream closes after its answer. */
		while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
			rte_pktmbuf_free(m);
		if (u->state == HF_HTTP_UP_MIRROR && hf_tcp_peer_closed(c)) {
			u->state = HF_HTTP_UP_CLOSING;
			hf_tcp_shutdown(w, c);
		}
		return;
	default:
		return;
	}
}

static void
up_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_http_up *u = c->ctx;
	struct hf_http_session *s = u->sess;

	switch (u->state) {
	case HF_HTTP_UP_IDLE:
		HF_COUNT(w, HTTP_UPSTREAM_IDLE_CLOSED);
		idle_remove(w->http, u);
		up_free(w->http, u);
		return;
	case HF_HTTP_UP_CLOSING:
	case HF_HTTP_UP_MIRROR:
		up_free(w->http, u);
		return;
	case HF_HTTP_UP_CONNECTING:
		u->tcp = NULL;
		s->x->up = NULL;
		up_free(w->http, u);
		hf_http_mq_free(&s->x->pending);
		upstream_failed(w, s, HF_RF_UF);
		return;
	default:
		break;
	}
	/* ACTIVE: keep what it sent; the connection itself is gone after this call. */
	if (err == 0)
		hf_http_rd_pull(w, &u->rd, c, UINT32_MAX);
	u->tcp = NULL;
	if (err != 0) {
		if (s->rq == HF_HTTP_RQ_TUNNEL) {
			sess_reset(w, s, HF_RF_UR);
			return;
		}
		upstream_failed(w, s, HF_RF_UC);
		return;
	}
	drive(w, s);
}

static const struct hf_tcp_ops down_ops = {
	.accepted = down_accepted,
	.readable = down_event,
	.writable = down_event,
	.closed = down_closed,
};

static const struct hf_tcp_ops up_ops = {
	.connected = up_connected,
	.readable = up_event,
	.writable = up_event,
	.closed = up_closed,
};

/* ---- set-up ---- */

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
	/* One byte past the largest limit: a full buffer is a head over it. */
	h->buf_size = h->up_limits.max_head + 1;
	h->sessions = rte_zmalloc("hf_http_sessions", sizeof(*h->sessions) * n, RTE_CACHE_LINE_SIZE);
	h->free_sessions = rte_malloc("hf_http_free_s", sizeof(uint32_t) * n, 0);
	h->n_streams = stream_pool_size(pc);
	h->streams = rte_zmalloc("hf_http_streams", sizeof(*h->streams) * h->n_streams,
				 RTE_CACHE_LINE_SIZE);
	h->free_streams = rte_malloc("hf_http_free_x", sizeof(uint32_t) * h->n_streams, 0);
	h->ups = rte_zmalloc("hf_http_ups", sizeof(*h->ups) * n, RTE_CACHE_LINE_SIZE);
	h->free_ups = rte_malloc("hf_http_free_u", sizeof(uint32_t) * n, 0);
	h->bufs = rte_malloc("hf_http_bufs", (size_t)h->buf_size * GATHER_BUFFERS, RTE_CACHE_LINE_SIZE);
	h->free_bufs = rte_malloc("hf_http_free_b", sizeof(char *) * GATHER_BUFFERS, 0);
	h->idle = rte_zmalloc("hf_http_idle", sizeof(*h->idle) * MAX_ENDPOINTS, 0);
	h->active = rte_zmalloc("hf_http_active", sizeof(*h->active) * MAX_ENDPOINTS, 0);
	snprintf(name, sizeof(name), "hf_http_ep_%u", w->id);
	h->endpoints = rte_hash_create(&(struct rte_hash_parameters){
		.name = name,
		.entries = MAX_ENDPOINTS,
		.key_len = sizeof(struct ep_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	});
	if (h->sessions == NULL || h->free_sessions == NULL || h->streams == NULL ||
	    h->free_streams == NULL || h->ups == NULL ||
	    h->free_ups == NULL || h->bufs == NULL || h->free_bufs == NULL || h->idle == NULL ||
	    h->active == NULL ||
	    h->endpoints == NULL)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		h->free_sessions[i] = n - 1 - i;
		h->free_ups[i] = n - 1 - i;
	}
	h->n_free_sessions = h->n_free_ups = n;
	for (uint32_t i = 0; i < h->n_streams; i++)
		h->free_streams[i] = h->n_streams - 1 - i;
	h->n_free_streams = h->n_streams;
	for (uint32_t i = 0; i < GATHER_BUFFERS; i++)
		h->free_bufs[i] = h->bufs + (size_t)i * h->buf_size;
	h->n_free_bufs = GATHER_BUFFERS;
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
		rc = hf_tcp_listen(w, pc->listeners[i].port, &down_ops, l);
		if (rc < 0)
			goto fail;
	}
	h->istio_http = pc->dynamic_http;
	return 0;
fail:
	hf_http_fini(w);
	return rc;
}

void
hf_http_sync(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_http_state *h = w->http;

	if (h->istio_http == NULL)
		return;
	for (unsigned int i = 0; i < snap->n_listeners; i++) {
		const struct hf_snap_listener *sl = &snap->listeners[i];
		struct hf_http_listener *l = NULL;
		unsigned int k;

		if (sl->kind != HF_LISTENER_HTTP)
			continue;
		for (k = 0; k < h->n_listeners; k++)
			if (h->listeners[k].port == sl->port)
				break;
		if (k < h->n_listeners)
			continue;
		/*
		 * A port the configuration gained: opened now, on this worker's own
		 * stack. One it lost stays open and answers 404 NR (no listener in the
		 * snapshot), as a draining Envoy listener would.
		 */
		if (h->n_listeners == HF_HTTP_MAX_LISTENERS) {
			HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
			continue;
		}
		l = &h->listeners[h->n_listeners];
		l->index = UINT32_MAX;
		l->port = sl->port;
		l->cfg = h->istio_http;
		l->http = h;
		l->dynamic = true;
		if (hf_tcp_listen(w, sl->port, &down_ops, l) < 0) {
			HF_COUNT(w, HTTP_DROP_LISTENERS_FULL);
			continue;
		}
		h->n_listeners++;
		HF_COUNT(w, HTTP_LISTENERS_OPENED);
	}
}

void
hf_http_fini(struct hf_worker *w)
{
	struct hf_http_state *h = w->http;

	if (h == NULL)
		return;
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
	rte_ring_free(h->log_ring);
	rte_hash_free(h->endpoints);
	rte_free(h->idle);
	rte_free(h->active);
	rte_free(h->free_bufs);
	rte_free(h->bufs);
	rte_free(h->free_ups);
	rte_free(h->ups);
	rte_free(h->free_streams);
	rte_free(h->streams);
	rte_free(h->free_sessions);
	rte_free(h->sessions);
	rte_free(h);
	w->http = NULL;
}
