/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client role: a fixed set of connection slots, each carrying at most one
 * request at a time (no pipelining), over keep-alive connections or one
 * connection per request.
 *
 * Closed loop: a slot sends its next request as soon as the previous answer
 * is complete, so the offered load is whatever the target sustains.
 * Open loop: an hf_sched hands out intended send times at the target rate;
 * they wait in a backlog until a slot is free, and every latency runs from
 * the intended time, so a stall is charged to the requests it delayed
 * (no coordinated omission, as wrk2).
 *
 * A request is measured when its intended time falls in [t_warm, t_end).
 * Everything runs on the worker that owns the slots: in the TCP callbacks and
 * in lg_client_poll(), once per loop. Nothing allocates after start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "bench/loadgen/loadgen.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

/* A slot whose connection failed waits this long before it connects again. */
#define RECONNECT_MS 10
/* Interval of the pass over every slot (timeouts, reconnections). */
#define SCAN_MS 10
/*
 * Slots one poll's scan looks at. A pass over a million idle slots at once held the
 * loop for tens of milliseconds: RX backed up and the connections opened at a
 * crawl (issue 16's idle phase). A pass now takes n_conns / SCAN_SLICE polls.
 */
#define SCAN_SLICE 2048
/*
 * Handshakes in flight per worker, and new ones started per poll. One worker
 * opening every slot at once (100,000 SYNs in one loop) overflows the ARP hold
 * queue (all wait for the first resolution), the memif ring (1024 slots) and
 * the TX buffer (128 frames): each lost SYN or ACK costs a 1 s retransmission.
 * Until the first handshake is done the window is 1 (ARP).
 */
#define CONNECT_WINDOW 512
#define CONNECT_BURST 64
/* Bytes taken from TCP per pull. */
#define PULL_MAX 65536

static const struct hf_tcp_ops client_ops;

static inline bool
measured(const struct lg_worker *lw, uint64_t t)
{
	return t >= lw->t_warm && t < lw->t_end;
}

static inline uint64_t
ticks_to_ns(const struct lg_worker *lw, uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * lw->ns_mult) >> 32);
}

static inline bool
has_request(const struct lg_conn *cn)
{
	return cn->state == LG_C_HEAD || cn->state == LG_C_BODY ||
	       ((cn->state == LG_C_CONNECTING || cn->state == LG_C_TLS) && cn->has_request);
}

/* A request that will not complete: counted under @p kind when it was measured. */
static void
request_failed(struct lg_worker *lw, uint64_t intended, enum lg_err kind)
{
	lw->outstanding--;
	if (measured(lw, intended))
		lw->st.err[kind]++;
}

/*
 * Lets go of the slot's TCP connection: an orderly close (FIN after what is
 * queued) when @p graceful, else a reset. The connection lives on without a
 * context: its callbacks drain and ignore it (orphan_*).
 */
static void
detach(struct lg_worker *lw, struct lg_conn *cn, bool graceful)
{
	struct hf_tcp_conn *c = cn->tcp;

	hf_http_rd_reset(&lw->heads, &cn->rd);
	if (cn->state == LG_C_CONNECTING)
		lw->connecting--;
	cn->state = LG_C_IDLE;
	if (c == NULL)
		return;
	if (cn->tls.ssl != NULL) {
		/* close_notify (when graceful) goes out ahead of the FIN. */
		if (graceful)
			lg_tls_close(lw, cn);
		else
			lg_tls_free(cn);
	}
	cn->tcp = NULL;
	lw->live--;
	c->ctx = NULL;
	if (graceful)
		hf_tcp_shutdown(lw->w, c);
	else
		hf_tcp_abort(lw->w, c);
}

/* The ready stack holds each slot once at most; a slot found there in the wrong state is skipped. */
static void
push_ready(struct lg_worker *lw, struct lg_conn *cn)
{
	if (cn->queued)
		return;
	cn->queued = true;
	lw->ready[lw->n_ready++] = cn->idx;
}

static struct lg_conn *
pop_ready(struct lg_worker *lw)
{
	struct lg_conn *cn = &lw->conns[lw->ready[--lw->n_ready]];

	cn->queued = false;
	return cn;
}

/* Starts a connection on slot @p cn; with @p with_request, a request intended at @p intended. */
static void
conn_open(struct lg_worker *lw, struct lg_conn *cn, bool with_request, uint64_t intended)
{
	const struct lg_opts *o = lw->o;
	struct hf_tcp_conn *c;

	/*
	 * One source address reaches one listener through ~28k local ports:
	 * more connections than that spread over target_ports listeners.
	 */
	c = hf_tcp_connect(lw->w, lw->port, o->target_addr,
			   rte_cpu_to_be_16((uint16_t)(o->target_port + cn->idx % o->target_ports)),
			   o->timeout_ms, &client_ops, cn);
	if (with_request)
		lw->outstanding++;
	if (c == NULL) {
		/* No TCB or no local port left: a failed connect like any other. */
		if (with_request)
			request_failed(lw, intended, LG_E_CONNECT);
		else if (measured(lw, lw->w->now))
			lw->st.err[LG_E_CONNECT]++;
		cn->retry_at = lw->w->now + lw->w->tsc_hz * RECONNECT_MS / 1000;
		if (lw->o->new_conn && lw->open_loop)
			push_ready(lw, cn);
		return;
	}
	cn->tcp = c;
	lw->live++;
	lw->connecting++;
	cn->state = LG_C_CONNECTING;
	cn->has_request = with_request;
	cn->intended = with_request ? intended : lw->w->now;
	cn->sent = lw->w->now;
	cn->deadline = cn->intended + lw->timeout_tsc;
}

/* Sends the prebuilt request on an established slot. */
static void
send_request(struct lg_worker *lw, struct lg_conn *cn, uint64_t intended)
{
	struct rte_mbuf *m;

	if (lw->o->tls_version != 0) {
		/* Encrypted from the prebuilt request's bytes: no clone needed. */
		if (!cn->has_request)
			lw->outstanding++;
		cn->has_request = false;
		cn->intended = intended;
		cn->sent = lw->w->now;
		cn->deadline = RTE_MAX(intended, lw->w->now) + lw->timeout_tsc;
		lw->st.requests_total++;
		cn->state = LG_C_HEAD;
		if (lg_tls_send(lw, cn, lw->request[lw->port]) < 0) {
			request_failed(lw, intended, LG_E_TLS);
			detach(lw, cn, false);
			cn->retry_at = lw->w->now;
		}
		return;
	}
	m = hf_http_chain_clone(lw->w, lw->requests[lw->port][0] == NULL ? lw->request[lw->port]
			: lw->requests[lw->port][lw->next_path++ % RTE_MAX(lw->o->n_paths, 1u)]);

	if (!cn->has_request)
		lw->outstanding++;
	cn->has_request = false;
	cn->intended = intended;
	cn->sent = lw->w->now;
	cn->deadline = RTE_MAX(intended, lw->w->now) + lw->timeout_tsc;
	if (m == NULL) {
		/* Out of indirect mbufs: the request never leaves. */
		request_failed(lw, intended, LG_E_BAD);
		detach(lw, cn, false);
		cn->retry_at = lw->w->now;
		return;
	}
	lw->st.requests_total++;
	cn->state = LG_C_HEAD;
	if (hf_tcp_send(lw->w, cn->tcp, m) < 0) {
		request_failed(lw, intended, LG_E_RESET);
		detach(lw, cn, false);
		cn->retry_at = lw->w->now;
	}
}

/*
 * Whether requests still go out of the open loop's backlog: until the end,
 * and in the first half of the drain after it (late, not void); the second
 * half only waits for their answers, so that a request still out when the
 * run ends was out for half the timeout at least, and the rest of the
 * backlog counts as never sent.
 */
static bool
backlog_sends(const struct lg_worker *lw)
{
	return !lw->stopping || lw->w->now < lw->t_send_end;
}

/* Gives a READY keep-alive slot its next request, or parks it. */
static void
next_request(struct lg_worker *lw, struct lg_conn *cn)
{
	/* After the end, open loop still sends what was due before it: those are late, not void. */
	if (lw->stopping && !lw->open_loop)
		return;
	if (!lw->open_loop) {
		send_request(lw, cn, rte_rdtsc());
		return;
	}
	if (lw->bl_head != lw->bl_tail && backlog_sends(lw)) {
		send_request(lw, cn, lw->backlog[lw->bl_head++ & lw->backlog_mask]);
		return;
	}
	push_ready(lw, cn);
}

/* A slot lost its connection; it reconnects (keep-alive) or waits for a request (new-conn). */
static void
slot_lost(struct lg_worker *lw, struct lg_conn *cn, bool failed)
{
	cn->state = LG_C_IDLE;
	cn->retry_at = lw->w->now + (failed ? lw->w->tsc_hz * RECONNECT_MS / 1000 : 0);
	if (lw->o->new_conn && lw->open_loop)
		push_ready(lw, cn);
}

/*
 * The end of the shadow of this worker's last loop stall: its end plus its
 * length, as the queue it left drains in about that long at half load; 0: none.
 */
static inline uint64_t
own_shadow_end(const struct lg_worker *lw)
{
	return 2 * lw->w->loop.stall_end - lw->w->loop.stall_start;
}

/* The same for the target's stalls, from its stall board; 0: none, or no board. */
static inline uint64_t
peer_shadow_end(const struct lg_worker *lw)
{
	/* Pairs with the release CAS in the target's hf_stall_board_publish() (worker.c). */
	return lw->peer != NULL ? __atomic_load_n(&lw->peer->shadow_end, __ATOMIC_ACQUIRE) : 0;
}

/* The response on @p cn is complete. */
static void
complete(struct lg_worker *lw, struct lg_conn *cn)
{
	uint64_t t = rte_rdtsc();

	lw->outstanding--;
	lw->st.responses_total++;
	if (measured(lw, cn->intended)) {
		lw->st.responses++;
		if (cn->status >= 200 && cn->status < 300)
			lw->st.ok++;
		else
			lw->st.err[LG_E_NON2XX]++;
		hf_hist_record(lw->hist, ticks_to_ns(lw, t > cn->intended ? t - cn->intended : 0));
		hf_hist_record(lw->hist_sent, ticks_to_ns(lw, t > cn->sent ? t - cn->sent : 0));
		switch (lg_wait_class(&lw->qshadow, cn->intended, own_shadow_end(lw),
				      peer_shadow_end(lw))) {
		case LG_WAIT_OWN:
			lw->st.responses_stalled++;
			break;
		case LG_WAIT_PEER:
			lw->st.responses_peer_stalled++;
			break;
		case LG_WAIT_QUEUE:
			lw->st.responses_queue_stalled++;
			break;
		case LG_WAIT_CLEAN:
			hf_hist_record(lw->hist_clean,
				       ticks_to_ns(lw, t > cn->intended ? t - cn->intended : 0));
			break;
		}
	}
	if (lw->o->new_conn || !cn->keep_alive) {
		detach(lw, cn, true);
		slot_lost(lw, cn, false);
		if (lw->o->new_conn && !lw->open_loop && !lw->stopping)
			conn_open(lw, cn, true, rte_rdtsc());
		return;
	}
	cn->state = LG_C_READY;
	next_request(lw, cn);
}

/* Ends the exchange on @p cn with an error of kind @p kind and drops its connection. */
static void
fail(struct lg_worker *lw, struct lg_conn *cn, enum lg_err kind, bool graceful)
{
	if (has_request(cn))
		request_failed(lw, cn->intended, kind);
	else if (measured(lw, lw->w->now) && kind != LG_E_RESET)
		lw->st.err[kind]++;
	detach(lw, cn, graceful);
	slot_lost(lw, cn, true);
}

/* Plaintext for the slot's reader: decrypted here under --tls. */
static inline void
pull(struct lg_worker *lw, struct lg_conn *cn)
{
	if (cn->tls.ssl != NULL)
		lg_tls_pull(lw, cn, PULL_MAX);
	else
		hf_http_rd_pull(lw->w, &cn->rd, cn->tcp, PULL_MAX);
}

static inline bool
peer_closed(const struct lg_conn *cn)
{
	return cn->tls.ssl != NULL ? lg_tls_peer_closed(cn) : hf_tcp_peer_closed(cn->tcp);
}

/* The slot's connection is ready for requests (TCP connected, or its TLS handshake done). */
static void
established(struct lg_worker *lw, struct lg_conn *cn)
{
	cn->state = LG_C_READY;
	if (cn->has_request)
		send_request(lw, cn, cn->intended);
	else
		next_request(lw, cn);
}

/* Reads the response head: 1 when parsed, 0 for more, -1 after a failure (slot released). */
static int
read_head(struct lg_worker *lw, struct lg_conn *cn)
{
	struct hf_h1_message msg;
	int rc;

	for (;;) {
		if (cn->rd.q.bytes == 0)
			return 0;
		rc = hf_http_rd_head(&lw->heads, &cn->rd, false, &lw->lim, &msg);
		if (rc == HF_AGAIN)
			return 0;
		if (rc < 0 || msg.status == 101) {
			fail(lw, cn, LG_E_BAD, false);
			return -1;
		}
		if (msg.status >= 200)
			break;
		/* 100 Continue, 103: an interim answer, the real one follows. */
		hf_http_rd_consume(&lw->heads, &cn->rd, (uint32_t)rc);
	}
	cn->status = msg.status;
	if (lw->head_method || msg.status == 204 || msg.status == 304)
		cn->body.framing = HF_HTTP_BODY_NONE;
	else if (msg.flags & HF_H1_F_CHUNKED) {
		cn->body.framing = HF_HTTP_BODY_CHUNKED;
		hf_h1_chunked_init(&cn->body.chunked);
	} else if (msg.flags & HF_H1_F_HAS_BODY_LENGTH) {
		cn->body.framing = HF_HTTP_BODY_LENGTH;
		cn->body.remaining = msg.content_length;
	} else
		cn->body.framing = HF_HTTP_BODY_CLOSE;
	cn->keep_alive = (msg.flags & HF_H1_F_KEEP_ALIVE) && cn->body.framing != HF_HTTP_BODY_CLOSE;
	hf_http_rd_consume(&lw->heads, &cn->rd, (uint32_t)rc);
	cn->state = LG_C_BODY;
	return 1;
}

/* Everything that can be done with the bytes received on @p cn. */
static void
process(struct lg_worker *lw, struct lg_conn *cn)
{
	int rc;

	if (cn->state == LG_C_TLS) {
		rc = lg_tls_handshake(lw, cn);
		if (rc < 0) {
			fail(lw, cn, LG_E_TLS, false);
			return;
		}
		if (rc == 0)
			return;
		established(lw, cn);
	}
	while (cn->tcp != NULL) {
		pull(lw, cn);
		if (cn->state == LG_C_HEAD) {
			rc = read_head(lw, cn);
			if (rc <= 0)
				break;
		}
		if (cn->state == LG_C_BODY) {
			uint64_t got = 0;

			rc = lg_body_skip(lw, &cn->rd, &cn->body, &got);
			lw->st.rx_body_bytes += got;
			if (measured(lw, cn->intended))
				lw->st.body_bytes_measured += got;
			if (rc < 0) {
				fail(lw, cn, LG_E_BAD, false);
				return;
			}
			if (rc == 0)
				break;
			complete(lw, cn);
			continue;
		}
		if (cn->rd.q.bytes > 0 && cn->state != LG_C_CONNECTING && cn->state != LG_C_TLS) {
			/* Bytes nobody asked for. */
			fail(lw, cn, LG_E_BAD, false);
			return;
		}
		break;
	}
	if (cn->tcp == NULL || cn->state == LG_C_TLS || !peer_closed(cn))
		return;
	if (cn->state == LG_C_BODY && cn->body.framing == HF_HTTP_BODY_CLOSE) {
		/* The body ran until the close (RFC 9112 6.3, rule 8). */
		cn->keep_alive = false;
		complete(lw, cn);
	} else if (cn->state == LG_C_READY) {
		/* The server ended an idle keep-alive connection: not an error. */
		detach(lw, cn, true);
		slot_lost(lw, cn, false);
	} else
		fail(lw, cn, LG_E_RESET, true);
}

static void
orphan_drain(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
		rte_pktmbuf_free(m);
	if (hf_tcp_peer_closed(c))
		hf_tcp_shutdown(w, c);
}

static void
client_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct lg_conn *cn = c->ctx;
	struct lg_worker *lw;

	if (cn == NULL)
		return;
	lw = cn->lw;
	if (measured(lw, w->now))
		lw->st.connects++;
	lw->connecting--;
	lw->any_connected = true;
	if (lw->o->tls_version != 0) {
		/* The ClientHello goes out; the request waits for the end of the handshake. */
		cn->state = LG_C_TLS;
		if (lg_tls_start(lw, cn) < 0)
			fail(lw, cn, LG_E_TLS, false);
		return;
	}
	established(lw, cn);
}

static void
client_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct lg_conn *cn = c->ctx;

	if (cn == NULL) {
		orphan_drain(w, c);
		return;
	}
	process(cn->lw, cn);
}

static void
client_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct lg_conn *cn = c->ctx;
	struct lg_worker *lw;

	(void)w;
	if (cn == NULL)
		return;
	lw = cn->lw;
	if (cn->state == LG_C_CONNECTING) {
		c->ctx = NULL;
		cn->tcp = NULL;
		lw->live--;
		fail(lw, cn, LG_E_CONNECT, false);
		return;
	}
	/* What arrived before the close still counts (an orderly end keeps it readable). */
	if (err == 0)
		process(lw, cn);
	if (cn->tcp != c)
		return;
	lg_tls_free(cn);
	c->ctx = NULL;
	cn->tcp = NULL;
	lw->live--;
	if (cn->state == LG_C_TLS) {
		fail(lw, cn, LG_E_TLS, false);
		return;
	}
	if (cn->state == LG_C_BODY && cn->body.framing == HF_HTTP_BODY_CLOSE && err == 0) {
		cn->keep_alive = false;
		complete(lw, cn);
	} else if (cn->state == LG_C_READY) {
		hf_http_rd_reset(&lw->heads, &cn->rd);
		slot_lost(lw, cn, false);
	} else
		fail(lw, cn, LG_E_RESET, false);
}

static const struct hf_tcp_ops client_ops = {
	.connected = client_connected,
	.readable = client_readable,
	.closed = client_closed,
};

int
lg_body_skip(struct lg_worker *lw, struct hf_http_reader *rd, struct lg_body *b,
	     uint64_t *counted)
{
	struct hf_h1_slice data[16];
	uint32_t consumed = 0, n;
	bool done = false;

	switch (b->framing) {
	case HF_HTTP_BODY_NONE:
		return 1;
	case HF_HTTP_BODY_LENGTH:
		n = (uint32_t)RTE_MIN(b->remaining, (uint64_t)rd->q.bytes);
		hf_http_rd_consume(&lw->heads, rd, n);
		b->remaining -= n;
		*counted += n;
		return b->remaining == 0;
	case HF_HTTP_BODY_CLOSE:
		*counted += rd->q.bytes;
		hf_http_rd_consume(&lw->heads, rd, rd->q.bytes);
		return 0;
	default:
		break;
	}
	/* Chunked: decoded in place, segment by segment, to find where the body ends. */
	for (const struct rte_mbuf *seg = rd->q.head; seg != NULL && !done; seg = seg->next) {
		const char *p = rte_pktmbuf_mtod(seg, const char *);
		uint32_t left = seg->data_len;

		while (left > 0 && !done) {
			unsigned int nd = 0;
			int rc = hf_h1_chunked_decode(&b->chunked, p, left, data, RTE_DIM(data), &nd,
						      &done);

			if (rc < 0)
				return -1;
			for (unsigned int i = 0; i < nd; i++)
				*counted += data[i].len;
			p += rc;
			left -= (uint32_t)rc;
			consumed += (uint32_t)rc;
			if (rc == 0 && !done)
				break;
		}
	}
	hf_http_rd_consume(&lw->heads, rd, consumed);
	return done;
}

int
lg_client_init(struct lg_worker *lw)
{
	const struct lg_opts *o = lw->o;
	uint32_t n = lw->n_conns, bl = 1024;

	lw->conns = calloc(n, sizeof(*lw->conns));
	lw->ready = calloc(n, sizeof(*lw->ready));
	lw->hist = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	lw->hist_clean = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	lw->hist_sent = hf_hist_create(LG_HIST_MAX_NS, LG_HIST_SUB_BITS);
	lw->open_loop = o->rate > 0;
	lw->head_method = strcasecmp(o->method, "HEAD") == 0;
	if (lw->open_loop) {
		/* Room for every request of a timeout's worth of stall, twice over. */
		double want = o->rate / o->workers * (o->timeout_ms / 1000.0) * 2;

		while (bl < want && bl < (1u << 22))
			bl <<= 1;
	}
	lw->backlog = calloc(bl, sizeof(*lw->backlog));
	lw->backlog_mask = bl - 1;
	if (lw->conns == NULL || lw->ready == NULL || lw->hist == NULL || lw->hist_clean == NULL ||
	    lw->hist_sent == NULL || lw->backlog == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		lw->conns[i].lw = lw;
		lw->conns[i].idx = i;
	}
	return 0;
}

void
lg_client_start(struct lg_worker *lw)
{
	struct hf_worker *w = lw->w;

	w->now = rte_rdtsc();
	lw->next_scan = lw->t_start;
	lw->scan_pos = 0;
	if (lw->open_loop)
		hf_sched_init(&lw->sched, lw->o->rate / lw->o->workers, w->tsc_hz,
			      lw->o->poisson ? HF_SCHED_POISSON : HF_SCHED_CONSTANT, w->id + 1,
			      lw->t_start);
	for (uint32_t i = 0; i < lw->n_conns; i++) {
		struct lg_conn *cn = &lw->conns[i];

		if (!lw->o->new_conn)
			continue;	/* opened by ramp(), a window at a time */
		else if (lw->open_loop)
			push_ready(lw, cn);
		else
			conn_open(lw, cn, true, w->now);
	}
}

/*
 * Open loop: moves the requests now due into the backlog and hands them to
 * free slots. Past t_end it still takes the requests intended before t_end:
 * a worker that was late to its last polls (descheduled) still owes them to
 * the run, with their latency charged from their intended times.
 */
static void
dispatch(struct lg_worker *lw)
{
	uint64_t due[HF_BURST], upto = RTE_MIN(lw->w->now, lw->t_end - 1);
	unsigned int n = 0;

	while ((n = hf_sched_poll(&lw->sched, upto, due, RTE_DIM(due))) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (lw->bl_tail - lw->bl_head > lw->backlog_mask) {
				/*
				 * Further behind than any answer could still come in time:
				 * the loadgen's own shortfall, not the target's timeout.
				 */
				if (measured(lw, due[i]))
					lw->st.err[LG_E_UNSENT]++;
				continue;
			}
			lw->backlog[lw->bl_tail++ & lw->backlog_mask] = due[i];
		}
		if (n < RTE_DIM(due))
			break;
	}
	if (lw->bl_tail - lw->bl_head > lw->st.backlog_max)
		lw->st.backlog_max = lw->bl_tail - lw->bl_head;
	while (lw->bl_head != lw->bl_tail && lw->n_ready > 0 && backlog_sends(lw)) {
		struct lg_conn *cn = pop_ready(lw);
		uint64_t t = lw->backlog[lw->bl_head & lw->backlog_mask];

		if (lw->o->new_conn && cn->state == LG_C_IDLE)
			conn_open(lw, cn, true, t);
		else if (!lw->o->new_conn && cn->state == LG_C_READY)
			send_request(lw, cn, t);
		else
			continue;	/* stale: the slot changed state since it was pushed */
		lw->bl_head++;
	}
	lg_qshadow_update(&lw->qshadow, lw->bl_head != lw->bl_tail, lw->w->now, own_shadow_end(lw),
			  peer_shadow_end(lw));
}

/* Whether a keep-alive slot may start a handshake now (CONNECT_WINDOW). */
static inline bool
may_connect(const struct lg_worker *lw)
{
	return lw->connecting < (lw->any_connected ? CONNECT_WINDOW : 1u);
}

/* Keep-alive: opens the slots not opened yet, CONNECT_BURST a poll within the window. */
static void
ramp(struct lg_worker *lw)
{
	for (unsigned int k = 0; k < CONNECT_BURST && lw->open_next < lw->n_conns && may_connect(lw);
	     k++)
		conn_open(lw, &lw->conns[lw->open_next++], false, 0);
}

/*
 * Requests past their deadline, slots to reconnect: SCAN_SLICE slots a poll,
 * a new pass every SCAN_MS. Returns whether this pass is over.
 */
static bool
scan(struct lg_worker *lw)
{
	uint64_t now = lw->w->now;
	unsigned int reopens = 0;
	uint32_t end = RTE_MIN(lw->scan_pos + SCAN_SLICE, lw->n_conns);

	for (uint32_t i = lw->scan_pos; i < end; i++) {
		struct lg_conn *cn = &lw->conns[i];

		if ((has_request(cn) || cn->state == LG_C_CONNECTING || cn->state == LG_C_TLS) &&
		    now > cn->deadline) {
			fail(lw, cn, cn->state == LG_C_CONNECTING ? LG_E_CONNECT :
				     cn->state == LG_C_TLS ? LG_E_TLS : LG_E_TIMEOUT, false);
		}
		if (cn->state == LG_C_IDLE && !lw->stopping && now >= cn->retry_at) {
			if (!lw->o->new_conn) {
				/* Bounded too: slots that fail at once (no port left) retry a few a scan. */
				if (i < lw->open_next && may_connect(lw) && reopens++ < CONNECT_BURST)
					conn_open(lw, cn, false, 0);
			} else if (!lw->open_loop) {
				conn_open(lw, cn, true, now);
			}
		}
	}
	lw->scan_pos = end < lw->n_conns ? end : 0;
	return lw->scan_pos == 0;
}

/* The run is over: requests still out time out, every connection closes. */
static void
finish(struct lg_worker *lw)
{
	while (lw->bl_head != lw->bl_tail) {
		/*
		 * Due, never sent: every connection still waited for an answer
		 * (the target, or the loadgen itself, could not keep up).
		 */
		if (measured(lw, lw->backlog[lw->bl_head & lw->backlog_mask]))
			lw->st.err[LG_E_UNSENT]++;
		lw->bl_head++;
	}
	for (uint32_t i = 0; i < lw->n_conns; i++) {
		struct lg_conn *cn = &lw->conns[i];

		if (has_request(cn)) {
			request_failed(lw, cn->intended, LG_E_TIMEOUT);
			detach(lw, cn, false);
		} else
			detach(lw, cn, true);
	}
	while (lw->n_ready > 0)
		pop_ready(lw);
	/* Pairs with the acquire load in the main lcore's wait loop. */
	__atomic_store_n(&lw->done, true, __ATOMIC_RELEASE);
}

void
lg_client_poll(struct lg_worker *lw)
{
	uint64_t now = lw->w->now;

	if (lw->done || now < lw->t_start)
		return;
	if (!lw->stopping && now >= lw->t_end) {
		lw->stopping = true;
		lw->t_drain_end = now + lw->timeout_tsc;
		lw->t_send_end = now + lw->timeout_tsc / 2;
		/* Before the test for the end below: what was due before t_end is not polled yet. */
		if (lw->open_loop)
			dispatch(lw);
	}
	if (lw->stopping &&
	    ((lw->outstanding == 0 && (lw->bl_head == lw->bl_tail || !backlog_sends(lw))) ||
	     now >= lw->t_drain_end || lg_stop)) {
		finish(lw);
		return;
	}
	if (lw->open_loop)
		dispatch(lw);
	if (!lw->o->new_conn && !lw->stopping)
		ramp(lw);
	if (now >= lw->next_scan && scan(lw))
		lw->next_scan = now + lw->w->tsc_hz * SCAN_MS / 1000;
}

void
lg_client_fini(struct lg_worker *lw)
{
	if (lw->conns != NULL && lw->heads.bufs != NULL)
		for (uint32_t i = 0; i < lw->n_conns; i++)
			hf_http_rd_reset(&lw->heads, &lw->conns[i].rd);
	for (uint32_t i = 0; lw->conns != NULL && i < lw->n_conns; i++)
		lg_tls_free(&lw->conns[i]);
	lg_tls_fini(lw);
	free(lw->conns);
	free(lw->ready);
	free(lw->backlog);
	hf_hist_free(lw->hist);
	hf_hist_free(lw->hist_clean);
	lw->hist_clean = NULL;
	hf_hist_free(lw->hist_sent);
	lw->hist_sent = NULL;
	lw->conns = NULL;
	lw->ready = NULL;
	lw->backlog = NULL;
	lw->hist = NULL;
}
