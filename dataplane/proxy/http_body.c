/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP proxy's body pump: request and response bodies (Content-Length,
 * chunked, or until close, RFC 9112 6.3) and upgraded tunnels move between
 * the two TCP connections without copying, and only while the receiving side
 * has room, so a slow reader closes the writer's window instead of filling
 * memory.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb-t.h"
#include "tls/tls.h"

/* Slices the chunked decoder reports per call (their content is not needed). */
#define CHUNK_SLICES 16

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
			hf_tls_send(w, dst, m);
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
			done = rd->q.head == NULL && (src == NULL || hf_tls_peer_closed(src));
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
			if (rd->q.head == NULL && (src == NULL || hf_tls_peer_closed(src)))
				return -EPIPE;
			return STEP_WAIT;
		}
	}
}

void
hf_http_set_framing(struct hf_http_body *b, const struct hf_h1_message *msg)
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

/* RQ_BODY: the request body, downstream to upstream. */
int
hf_http_pump_request(struct hf_worker *w, struct hf_http_session *s)
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
			hf_http_timer_set(w, s, s->x->route_timeout_ms);
		return STEP_MORE;
	case -EFBIG:
		HF_COUNT(w, HTTP_DROP_BODY_TOO_LARGE);
		return hf_http_local_reply(w, s, 413, HF_RF_NONE, "request_payload_too_large",
				   "Payload Too Large", true);
	case HF_H1_E_BAD_CHUNK:
		HF_COUNT(w, HTTP_DROP_BAD_CHUNK);
		return hf_http_local_reply(w, s, 400, HF_RF_DPE, "bad_chunk", "bad_chunk", true);
	case -EPIPE:
		/* The client closed in the middle of its body. */
		return hf_http_sess_reset(w, s, HF_RF_DC);
	default:
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return hf_http_sess_reset(w, s, HF_RF_NONE);
	}
}

/* RS_BODY: the response body, upstream to downstream. */
int
hf_http_pump_response(struct hf_worker *w, struct hf_http_session *s)
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
		return hf_http_upstream_failed(w, s, HF_RF_UR);
	case HF_H1_E_BAD_CHUNK:
		HF_COUNT(w, HTTP_DROP_UPSTREAM_PROTOCOL);
		return hf_http_sess_reset(w, s, HF_RF_UPE);
	default:
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return hf_http_sess_reset(w, s, HF_RF_NONE);
	}
}

int
hf_http_start_tunnel(struct hf_worker *w, struct hf_http_session *s)
{
	HF_COUNT(w, HTTP_UPGRADES);
	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	s->rq = HF_HTTP_RQ_TUNNEL;
	s->rs = HF_HTTP_RS_DONE;
	hf_http_count_status(w, 101);
	hf_http_log_push(w, s);
	return STEP_MORE;
}

int
hf_http_pump_tunnel(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_up *u = s->x->up;
	bool nomem = false, nomem2 = false;

	if (u->tcp != NULL) {
		HF_COUNT_N(w, HTTP_DOWNSTREAM_RX_BODY,
			   move(w, &s->rd, s->down, u->tcp, UINT64_MAX, &nomem));
		if (s->rd.q.head == NULL && hf_tls_peer_closed(s->down))
			hf_tls_shutdown(w, u->tcp);
	}
	HF_COUNT_N(w, HTTP_DOWNSTREAM_TX_BODY,
		   move(w, &u->rd, u->tcp, s->down, UINT64_MAX, &nomem2));
	if (nomem || nomem2) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		return hf_http_sess_reset(w, s, HF_RF_NONE);
	}
	if (u->rd.q.head == NULL && (u->tcp == NULL || hf_tls_peer_closed(u->tcp)))
		hf_tls_shutdown(w, s->down);
	return STEP_WAIT;
}
