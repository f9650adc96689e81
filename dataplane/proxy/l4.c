/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network filters over the TCP API: echo (Envoy's echo filter, our test
 * peer), discard (RFC 863) and tcp_proxy (Envoy's, which Istio's `tcp` routes
 * become). All three respect backpressure the same way: data is taken from a
 * connection only while the side it goes to is writable, so a slow reader
 * leaves bytes in the other side's receive queue, which closes that side's
 * TCP window. Memory stays bounded by the two windows and send queues.
 *
 * tcp_proxy's downstream side may run TLS: a Gateway TLS server with mode
 * SIMPLE or MUTUAL whose VirtualService has tcp routes terminates TLS in
 * front of it (tls/conn.c hands the connection over once its handshake is
 * done), and the plaintext moves through the hf_tls_* calls, which are the
 * hf_tcp_* ones on a connection without TLS.
 *
 * A TLS passthrough listener (tls.mode PASSTHROUGH) answers nothing at
 * first: it waits for the client's ClientHello in the downstream receive
 * queue (bounded: HF_TLS_PEEK_MAX bytes, HF_L4_HELLO_TIMEOUT_MS), reads its
 * SNI there with our own parser (tls/sni.c), picks the tls route and a
 * cluster, and only then connects upstream; the ClientHello is still in the
 * queue, so it goes out first and unchanged, like every byte after it.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/metrics.h"
#include "dataplane/proxy/drain.h"
#include "dataplane/proxy/l4.h"
#include "dataplane/proxy/l4_route.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb.h"
#include "tls/tls.h"

/* The ClientHello of a passthrough connection must be whole by then (as a TLS handshake's). */
#define HF_L4_HELLO_TIMEOUT_MS 10000

struct tcpp_listener {
	unsigned int cluster;		/* index in the snapshot's clusters (bootstrap listeners) */
	uint16_t port;			/* host order; with `dynamic`, the cluster is the snapshot's */
	bool dynamic;			/* opened for a TCP listener of the Istio configuration */
	uint8_t kind;			/* HF_LISTENER_TCP, or HF_LISTENER_TLS: passthrough by SNI */
	struct hf_tls_listener *tls;	/* TLS terminated in front of tcp_proxy; NULL: none */
	bool open;			/* listening (dynamic ones) */
	bool draining;			/* removed: its connections finish, bounded by the timeout */
	uint32_t drain_left;		/* its connections at the last count */
	uint64_t drain_deadline;	/* TCP wheel tick at which the rest are reset */
	struct hf_timer drain_timer;	/* recounts every HF_L4_DRAIN_POLL_MS until none is left */
	struct hf_worker *w;		/* the owner, for the timer */
};

/*
 * Upstream connections open per endpoint (address and port, network order),
 * for LEAST_CONN: open addressing, an entry kept once made (it counts 0 when
 * idle). Endpoints beyond the table are not counted and read as idle.
 */
#define CX_TABLE 1024			/* power of two */

struct cx_entry {
	uint32_t addr;
	uint16_t port;
	bool used;
	uint32_t open;
};

/* A passthrough connection waiting for its ClientHello: c->ctx points here. */
struct sni_wait {
	struct hf_timer timer;		/* HF_L4_HELLO_TIMEOUT_MS from the accept */
	struct hf_worker *w;
	struct hf_tcp_conn *c;
	uint16_t port;			/* the listener's (host order): its routes are the snapshot's */
	uint32_t need;			/* received bytes to wait for before parsing again */
	uint32_t id;			/* index in the pool */
};

/* A worker's L4 proxy, hung off hf_worker.l4: hf_l4_start() makes it, hf_l4_fini() frees it. */
struct hf_l4_state {
	struct hf_lb_state *lb;		/* endpoint picking, this worker's own */
	uint64_t seen_version;		/* snapshot whose TCP listeners are open */
	struct tcpp_listener boot[HF_MAX_LISTENERS];	/* the bootstrap's, by listener index */
	unsigned int n_dyn;
	struct tcpp_listener dyn[HF_MAX_LISTENERS];	/* the configuration's */
	uint32_t drain_timeout_ms;	/* http.drain_timeout_ms */
	uint32_t max_connections;	/* tcp.max_connections: sizes the pools below */
	struct hf_tls_worker *tls;	/* made with the first TLS-terminated tcp port */
	uint32_t n_waits;		/* made with the first passthrough port */
	struct sni_wait *waits;
	uint32_t *wait_free;
	uint32_t n_wait_free;
	struct cx_entry cx[CX_TABLE];
	uint8_t hello[HF_TLS_PEEK_MAX];	/* a ClientHello's records, gathered from mbufs */
	uint8_t scratch[HF_TLS_HELLO_MAX];	/* its message, when fragmented over records */
};

/* The entry counting connections to @p addr:@p port, made if needed; NULL when the table is full. */
static struct cx_entry *
cx_find(struct hf_l4_state *l4, uint32_t addr, uint16_t port, bool make)
{
	uint32_t h = (addr * 2654435761u) ^ port;

	for (uint32_t i = 0; i < CX_TABLE; i++) {
		struct cx_entry *e = &l4->cx[(h + i) & (CX_TABLE - 1)];

		if (e->used && e->addr == addr && e->port == port)
			return e;
		if (!e->used) {
			if (!make)
				return NULL;
			*e = (struct cx_entry){.addr = addr, .port = port, .used = true};
			return e;
		}
	}
	return NULL;
}

static uint32_t
cx_load(void *arg, const struct hf_snap_endpoint *ep, unsigned int index)
{
	const struct cx_entry *e = cx_find(arg, ep->addr, ep->port, false);

	(void)index;
	return e != NULL ? e->open : 0;
}

/*
 * The Istio TCP metrics series of upstream @p up (its tag) when metric @p m
 * is on (Telemetry), or NULL.
 */
static struct hf_metrics_tcp *
up_series(struct hf_worker *w, const struct hf_tcp_conn *up, enum hf_metric m)
{
	if (up->listener == 0 || (hf_metrics_off(w) & HF_METRIC_BIT(m)))
		return NULL;
	return &w->metrics.tcp[up->listener - 1];
}

/* Upstream @p up is no longer proxied: one connection fewer to its endpoint. */
static void
cx_done(struct hf_worker *w, const struct hf_tcp_conn *up)
{
	struct cx_entry *e = cx_find(w->l4, up->raddr, up->rport, false);
	struct hf_metrics_tcp *ms = up_series(w, up, HF_METRIC_TCP_CLOSED_CONNECTIONS);

	if (e != NULL && e->open > 0)
		e->open--;
	if (ms != NULL)
		ms->closed++;
}

/* Moves what @p to can take from @p from; propagates the peer's FIN. Returns bytes moved. */
static uint64_t
pump(struct hf_worker *w, struct hf_tcp_conn *from, struct hf_tcp_conn *to)
{
	const struct hf_tcp_stack *st = w->tcp;
	uint64_t moved = 0;

	/* hf_tls_*: plaintext on a TLS-terminated side, the hf_tcp_* calls on the others */
	while (hf_tcp_writable(st, to)) {
		struct rte_mbuf *m = hf_tls_recv(w, from, st->cfg.snd_high - hf_tcp_sndq_bytes(to));

		if (m == NULL)
			break;
		moved += rte_pktmbuf_pkt_len(m);
		if (hf_tls_send(w, to, m) < 0)
			break;
	}
	if (hf_tls_peer_closed(from))
		hf_tls_shutdown(w, to);
	return moved;
}

/* echo: every byte goes back on the connection it came from. */
static int
echo_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)c;
	(void)lctx;
	HF_COUNT(w, ECHO_CX);
	return 0;
}

static void
echo_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	HF_COUNT_N(w, ECHO_BYTES, pump(w, c, c));
}

static const struct hf_tcp_ops echo_ops = {
	.accepted = echo_accepted,
	.readable = echo_readable,
	.writable = echo_readable,
};

/* discard: read and drop; close our side when the peer closes. */
static int
discard_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	(void)c;
	(void)lctx;
	HF_COUNT(w, DISCARD_CX);
	return 0;
}

static void
discard_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL) {
		HF_COUNT_N(w, DISCARD_BYTES, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
	}
	if (hf_tcp_peer_closed(c))
		hf_tcp_shutdown(w, c);
}

static const struct hf_tcp_ops discard_ops = {
	.accepted = discard_accepted,
	.readable = discard_readable,
};

/*
 * tcp_proxy: each side's ctx points at the other side (a TLS-terminated
 * downstream's is the one TLS keeps for it: hf_tls_ctx); NULL once that side
 * is gone. Until the upstream connects, downstream bytes wait in the
 * downstream receive queue (its window bounds them).
 */
static const struct hf_tcp_ops tcpp_up_ops;

/* @p n bytes went up (from the downstream) or down through upstream @p up. */
static void
tcpp_count(struct hf_worker *w, const struct hf_tcp_conn *up, bool upward, uint64_t n)
{
	struct hf_metrics_tcp *ms = up_series(w, up, upward ? HF_METRIC_TCP_RECEIVED_BYTES :
							   HF_METRIC_TCP_SENT_BYTES);

	if (upward) {
		HF_COUNT_N(w, TCPP_TX_UP, n);
		if (ms != NULL)
			ms->received += n;
	} else {
		HF_COUNT_N(w, TCPP_TX_DOWN, n);
		if (ms != NULL)
			ms->sent += n;
	}
}

static void
tcpp_move(struct hf_worker *w, struct hf_tcp_conn *from, struct hf_tcp_conn *to, bool upward)
{
	uint64_t n;

	if (to == NULL || to->state == HF_TCP_SYN_SENT)
		return;
	n = pump(w, from, to);
	tcpp_count(w, upward ? to : from, upward, n);
}

static void
tcpp_down_readable(struct hf_worker *w, struct hf_tcp_conn *down)
{
	tcpp_move(w, down, hf_tls_ctx(down), true);
}

/* The upstream took data: pull more from downstream. */
static void
tcpp_up_writable(struct hf_worker *w, struct hf_tcp_conn *up)
{
	if (up->ctx != NULL)
		tcpp_move(w, up->ctx, up, true);
}

static void
tcpp_up_readable(struct hf_worker *w, struct hf_tcp_conn *up)
{
	tcpp_move(w, up, up->ctx, false);
}

static void
tcpp_down_writable(struct hf_worker *w, struct hf_tcp_conn *down)
{
	struct hf_tcp_conn *up = hf_tls_ctx(down);

	if (up != NULL)
		tcpp_move(w, up, down, false);
}

static void
tcpp_up_connected(struct hf_worker *w, struct hf_tcp_conn *up)
{
	HF_COUNT(w, TCPP_UPSTREAM_CX);
	if (up->ctx != NULL)
		tcpp_move(w, up->ctx, up, true);
}

/* One side ended: an orderly end was already passed on as a FIN; anything else resets the other. */
static void
tcpp_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_tcp_conn *other = hf_tls_ctx(c);

	if (other == NULL)
		return;
	/* The pair is unlinked once, whichever side ends first, however it ends. */
	cx_done(w, c->ops == &tcpp_up_ops ? c : other);
	hf_tls_set_ctx(other, NULL);
	hf_tls_set_ctx(c, NULL);
	if (err != 0) {
		if (c->ops == &tcpp_up_ops && !hf_tcp_was_established(c))
			HF_COUNT(w, TCPP_UPSTREAM_FAIL);
		HF_COUNT(w, TCPP_RESETS);
		hf_tls_abort(w, other);
		return;
	}
	/*
	 * Orderly: what the closed side received and the other could not take yet
	 * goes over now, past the watermark (one window at most), then the FIN.
	 */
	for (struct rte_mbuf *m; (m = hf_tls_recv(w, c, UINT32_MAX)) != NULL;) {
		bool from_up = c->ops == &tcpp_up_ops;

		tcpp_count(w, from_up ? c : other, !from_up, rte_pktmbuf_pkt_len(m));
		if (hf_tls_send(w, other, m) < 0)
			break;
	}
	hf_tls_shutdown(w, other);
}

/*
 * Connects @p down to an endpoint of cluster @p cluster (an index in the
 * current snapshot) picked by its load balancer. 0, or <0 counted
 * (tcp_proxy.drop.no_upstream): the caller resets @p down.
 */
static int
tcpp_connect(struct hf_worker *w, struct hf_tcp_conn *down, int cluster)
{
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_cluster *cl;
	const struct hf_snap_endpoint *ep;
	struct hf_lb_ctx lb;
	struct hf_tcp_conn *up;
	struct cx_entry *cx;
	struct hf_metrics_tcp *ms;
	int e;

	if (snap == NULL || cluster < 0 || (unsigned int)cluster >= snap->n_clusters) {
		HF_COUNT(w, TCPP_NO_UPSTREAM);
		return -ENOENT;
	}
	cl = &snap->clusters[cluster];
	lb = (struct hf_lb_ctx){.st = w->l4->lb, .version = snap->version, .load = cx_load,
				.load_arg = w->l4};
	e = hf_lb_pick(&lb, cl, (unsigned int)cluster);
	if (e < 0) {
		HF_COUNT(w, TCPP_NO_UPSTREAM);
		return -ENOENT;
	}
	/* The endpoint is copied into the connection: nothing here outlives this iteration. */
	ep = &cl->endpoints[e];
	up = hf_tcp_connect(w, hf_worker_port_for(w, ep->addr), ep->addr, ep->port,
			    cl->connect_timeout_ms, &tcpp_up_ops, down);
	if (up == NULL) {
		HF_COUNT(w, TCPP_NO_UPSTREAM);
		return -ENOBUFS;
	}
	cx = cx_find(w->l4, ep->addr, ep->port, true);
	if (cx != NULL)
		cx->open++;
	/* a connection opened while every TCP metric is off (Telemetry) is not recorded */
	ms = (hf_metrics_off(w) & HF_METRICS_TCP_ALL) != HF_METRICS_TCP_ALL ?
		     hf_metrics_tcp_series(w, cl->id) : NULL;
	if (ms != NULL) {
		if (!(hf_metrics_off(w) & HF_METRIC_BIT(HF_METRIC_TCP_OPENED_CONNECTIONS)))
			ms->opened++;
		up->listener = (uint16_t)(ms - w->metrics.tcp + 1);
	}
	hf_tls_set_ctx(down, up);
	return 0;
}

static int
tcpp_accepted(struct hf_worker *w, struct hf_tcp_conn *down, void *lctx)
{
	struct tcpp_listener *l = lctx;
	const struct hf_snap_listener *sl;
	int cluster = (int)l->cluster;

	HF_COUNT(w, TCPP_DOWNSTREAM_CX);
	if (w->snap != NULL && l->dynamic) {
		/* A TCP route of the configuration: its cluster as the current snapshot says. */
		sl = hf_snapshot_listener(w->snap, l->port);
		cluster = sl != NULL && sl->kind == HF_LISTENER_TCP ? sl->cluster : -1;
	}
	return tcpp_connect(w, down, cluster);
}

static const struct hf_tcp_ops tcpp_listen_ops = {
	.accepted = tcpp_accepted,
	.readable = tcpp_down_readable,
	.writable = tcpp_down_writable,
	.closed = tcpp_closed,
};

static const struct hf_tcp_ops tcpp_up_ops = {
	.connected = tcpp_up_connected,
	.readable = tcpp_up_readable,
	.writable = tcpp_up_writable,
	.closed = tcpp_closed,
};

/*
 * A passthrough connection once routed: tcp_proxy's callbacks under their own
 * table, so a drain tells its connections from a tcp port's on the same port.
 */
static const struct hf_tcp_ops pt_ops = {
	.readable = tcpp_down_readable,
	.writable = tcpp_down_writable,
	.closed = tcpp_closed,
};

/* ---- TLS passthrough: waiting for the ClientHello ---- */

/* Makes the pool of connections waiting for a ClientHello (at snapshot pick-up). 0 or -ENOMEM. */
static int
waits_init(struct hf_l4_state *l4)
{
	uint32_t n = RTE_MAX(l4->max_connections / 2, 1u);

	if (l4->waits != NULL)
		return 0;
	l4->waits = rte_zmalloc("hf_l4_waits", sizeof(*l4->waits) * n, RTE_CACHE_LINE_SIZE);
	l4->wait_free = rte_malloc("hf_l4_wait_free", sizeof(uint32_t) * n, 0);
	if (l4->waits == NULL || l4->wait_free == NULL) {
		rte_free(l4->waits);
		rte_free(l4->wait_free);
		l4->waits = NULL;
		l4->wait_free = NULL;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		l4->waits[i].id = i;
		l4->wait_free[i] = n - 1 - i;
	}
	l4->n_waits = n;
	l4->n_wait_free = n;
	return 0;
}

/* @p c waits no more: its timer stops, its slot goes back. */
static void
wait_end(struct hf_worker *w, struct hf_tcp_conn *c, struct sni_wait *sw)
{
	hf_timer_cancel(&w->tcp->wheel, &sw->timer);
	sw->c = NULL;
	c->ctx = NULL;
	w->l4->wait_free[w->l4->n_wait_free++] = sw->id;
}

static void
on_hello_timeout(struct hf_timer *t, void *arg)
{
	struct sni_wait *sw = arg;
	struct hf_worker *w = sw->w;
	struct hf_tcp_conn *c = sw->c;

	(void)t;
	HF_COUNT(w, TLS_PT_DROP_TIMEOUT);
	wait_end(w, c, sw);
	hf_tcp_abort(w, c);
}

static int
sni_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	const struct tcpp_listener *l = lctx;
	struct hf_l4_state *l4 = w->l4;
	struct sni_wait *sw;

	HF_COUNT(w, TCPP_DOWNSTREAM_CX);
	HF_COUNT(w, TLS_PT_CX);
	if (l4->n_wait_free == 0) {
		HF_COUNT(w, TLS_PT_DROP_NO_SLOT);
		return -ENOBUFS;
	}
	sw = &l4->waits[l4->wait_free[--l4->n_wait_free]];
	sw->w = w;
	sw->c = c;
	sw->port = l->port;
	sw->need = 5;			/* a record header */
	c->ctx = sw;
	hf_timer_init(&sw->timer, on_hello_timeout, sw);
	hf_timer_arm(&w->tcp->wheel, &sw->timer, w->tcp->now_tick + HF_L4_HELLO_TIMEOUT_MS);
	return 0;
}

/* Copies the first bytes of @p c's receive queue (at most @p cap) into @p buf; returns how many. */
static size_t
gather(const struct hf_tcp_conn *c, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	for (const struct rte_mbuf *m = c->rcvq.head; m != NULL && n < cap; m = m->next) {
		size_t k = RTE_MIN((size_t)m->data_len, cap - n);

		memcpy(buf + n, rte_pktmbuf_mtod(m, const uint8_t *), k);
		n += k;
	}
	return n;
}

/*
 * Looks at what @p c sent so far once there is enough to (sw->need bytes):
 * a whole ClientHello is routed by its SNI, anything else is counted and the
 * connection reset. Nothing is taken from the receive queue.
 */
static void
sni_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_l4_state *l4 = w->l4;
	struct sni_wait *sw = c->ctx;
	const struct hf_snap_listener *sl;
	const char *name = NULL;
	size_t len = 0, need = 0;
	bool fin = (c->flags & HF_TCP_F_FIN_RCVD) != 0;
	int rc, route, cluster;

	if (sw == NULL)
		return;
	if (c->rcvq.bytes < sw->need && !fin)
		return;
	rc = hf_tls_hello_peek(l4->hello, gather(c, l4->hello, sizeof(l4->hello)), l4->scratch,
			       &name, &len, &need);
	if (rc == HF_TLS_PEEK_AGAIN && !fin) {
		sw->need = (uint32_t)need;
		return;
	}
	if (rc == HF_TLS_PEEK_AGAIN)
		HF_COUNT(w, TLS_PT_DROP_INCOMPLETE);	/* the client's FIN came first */
	else if (rc == -E2BIG)
		HF_COUNT(w, TLS_PT_DROP_TOO_BIG);
	else if (rc < 0)
		HF_COUNT(w, TLS_PT_DROP_NOT_TLS);
	else if (len == 0)
		HF_COUNT(w, TLS_PT_DROP_NO_SNI);
	if (rc != 0 || len == 0)
		goto drop;
	sl = w->snap != NULL ? hf_snapshot_listener(w->snap, sw->port) : NULL;
	route = sl != NULL && sl->kind == HF_LISTENER_TLS ? hf_l4_sni_route(sl, name, len) : -1;
	if (route < 0) {
		HF_COUNT(w, TLS_PT_DROP_NO_ROUTE);
		goto drop;
	}
	cluster = hf_l4_route_cluster(&sl->l4_routes[route], rte_rand());
	wait_end(w, c, sw);
	c->ops = &pt_ops;
	if (tcpp_connect(w, c, cluster) < 0) {
		hf_tcp_abort(w, c);
		return;
	}
	HF_COUNT(w, TLS_PT_ROUTED);
	return;
drop:
	wait_end(w, c, sw);
	hf_tcp_abort(w, c);
}

/* The client reset (or TCP gave up) before its ClientHello was whole. */
static void
sni_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct sni_wait *sw = c->ctx;

	(void)err;
	if (sw == NULL)
		return;
	HF_COUNT(w, TLS_PT_DROP_INCOMPLETE);
	wait_end(w, c, sw);
}

static const struct hf_tcp_ops sni_ops = {
	.accepted = sni_accepted,
	.readable = sni_readable,
	.closed = sni_closed,
};

int
hf_l4_start(struct hf_worker *w, const struct hf_proxy_config *pc)
{
	struct hf_l4_state *l4;

	l4 = rte_zmalloc("hf_l4", sizeof(*l4), RTE_CACHE_LINE_SIZE);
	if (l4 == NULL)
		return -ENOMEM;
	w->l4 = l4;
	l4->lb = rte_malloc("hf_l4_lb", hf_lb_state_size(HF_LB_SLOTS, HF_LB_ARENA),
			    RTE_CACHE_LINE_SIZE);
	if (l4->lb == NULL) {
		hf_l4_fini(w);
		return -ENOMEM;
	}
	/* Each worker its own draws, and its own start in every round-robin cycle. */
	hf_lb_state_init(l4->lb, HF_LB_SLOTS, HF_LB_ARENA, rte_rand());
	l4->max_connections = pc->max_connections;
	l4->drain_timeout_ms = pc->drain_timeout_ms != 0 ? pc->drain_timeout_ms
							 : HF_DRAIN_TIMEOUT_DEFAULT_MS;
	for (unsigned int i = 0; i < pc->n_listeners; i++) {
		const struct hf_listener_config *l = &pc->listeners[i];
		int rc;

		switch (l->filter) {
		case HF_FILTER_ECHO:
			rc = hf_tcp_listen(w, l->port, &echo_ops, NULL);
			break;
		case HF_FILTER_DISCARD:
			rc = hf_tcp_listen(w, l->port, &discard_ops, NULL);
			break;
		case HF_FILTER_TCP_PROXY:
			l4->boot[i] = (struct tcpp_listener){.cluster = (unsigned int)l->cluster};
			rc = hf_tcp_listen(w, l->port, &tcpp_listen_ops, &l4->boot[i]);
			break;
		default:
			/* Not a network filter of ours (http has its own start). */
			rc = 0;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Whether downstream connection @p c is one listener @p l accepted: by its
 * ops (a passive open keeps its listener's until it ends, a passthrough one
 * gets pt_ops once routed; TIME-WAIT ones have none) and port; over TLS, by
 * the TLS listener it came through.
 */
static bool
conn_of(const struct tcpp_listener *l, const struct hf_tcp_conn *c, uint16_t be)
{
	const struct hf_tls_conn *t;

	if (c->state == HF_TCP_CLOSED || c->lport != be || (c->flags & HF_TCP_F_APP_CLOSED))
		return false;
	if (l->tls != NULL)
		return (t = hf_tls_of(c)) != NULL && t->lst == l->tls;
	if (l->kind == HF_LISTENER_TLS)
		return c->ops == &sni_ops || c->ops == &pt_ops;
	return c->ops == &tcpp_listen_ops;
}

/*
 * Walks the downstream connections that listener @p l accepted. With @p
 * reset, each is reset with its upstream. Returns how many there were.
 * O(TCBs): for the drain's recount (HF_L4_DRAIN_POLL_MS), not per packet.
 */
static uint32_t
drain_scan(struct hf_worker *w, const struct tcpp_listener *l, bool reset)
{
	struct hf_tcp_stack *st = w->tcp;
	uint16_t be = rte_cpu_to_be_16(l->port);
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		struct hf_tcp_conn *c = &st->conns[i];

		if (!conn_of(l, c, be))
			continue;
		n++;
		if (!reset)
			continue;
		HF_COUNT(w, LISTENER_DRAIN_TIMEOUTS);
		if (c->ops == &sni_ops) {
			if (c->ctx != NULL)
				wait_end(w, c, c->ctx);
			hf_tcp_abort(w, c);
			continue;
		}
		/* The upstream is reset as tcpp_closed() does for any reset; then this side. */
		tcpp_closed(w, c, -ECONNABORTED);
		hf_tls_abort(w, c);
	}
	return n;
}

/* Recounts a drain (drain.h): ends it, or resets what is left at the deadline. */
static void
drain_check(struct hf_worker *w, struct tcpp_listener *l)
{
	uint64_t now = w->tcp->now_tick;

	if (hf_drain_recount(w, &l->drain_left, drain_scan(w, l, false), now >= l->drain_deadline))
		drain_scan(w, l, true);
	if (l->drain_left == 0) {
		hf_timer_cancel(&w->tcp->wheel, &l->drain_timer);
		l->draining = false;
		return;
	}
	hf_timer_arm(&w->tcp->wheel, &l->drain_timer,
		     RTE_MIN(now + HF_L4_DRAIN_POLL_MS, l->drain_deadline));
}

static void
on_drain_timer(struct hf_timer *t, void *arg)
{
	struct tcpp_listener *l = arg;

	(void)t;
	drain_check(l->w, l);
}

/* Whether listener @p l serves what @p sl is: plain TCP, TCP over terminated TLS, passthrough. */
static bool
same_kind(const struct tcpp_listener *l, const struct hf_snap_listener *sl)
{
	if (sl->kind != HF_LISTENER_TCP && sl->kind != HF_LISTENER_TLS)
		return false;
	return l->kind == sl->kind && (l->tls != NULL) == (sl->tls != NULL);
}

/*
 * Opens @p sl's port for @p l: tcp_proxy, with TLS terminated in front when
 * @p sl has certificates, or the passthrough's SNI wait. Pools are made with
 * the first port that needs them. 0, or <0 (counted).
 */
static int
l4_listen(struct hf_worker *w, struct tcpp_listener *l, const struct hf_snap_listener *sl)
{
	struct hf_l4_state *l4 = w->l4;
	int rc;

	if (sl->kind == HF_LISTENER_TLS) {
		if (waits_init(l4) < 0) {
			HF_COUNT(w, L4_DROP_LISTENER_NOT_OPENED);
			return -ENOMEM;
		}
		rc = hf_tcp_listen(w, sl->port, &sni_ops, l);
	} else if (sl->tls != NULL) {
		if (l->tls == NULL) {
			if (l4->tls == NULL)
				l4->tls = hf_tls_worker_new(w, RTE_MAX(l4->max_connections / 2, 1u));
			if (l4->tls != NULL)
				l->tls = hf_tls_listener_new(l4->tls, sl->tls, &tcpp_listen_ops, l);
			if (l->tls == NULL) {
				HF_COUNT(w, TLS_CONTEXT_ERRORS);
				return -ENOMEM;
			}
		}
		hf_tls_listener_update(l->tls, sl->tls);
		rc = hf_tcp_listen(w, sl->port, &hf_tls_tcp_ops, l->tls);
	} else {
		rc = hf_tcp_listen(w, sl->port, &tcpp_listen_ops, l);
	}
	/* A bootstrap listener's port (EADDRINUSE) is no failure: it is open already. */
	if (rc == -ENOSPC)
		HF_COUNT(w, L4_DROP_LISTENER_NOT_OPENED);
	return rc;
}

void
hf_l4_drain_removed(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_l4_state *l4 = w->l4;

	if (l4 == NULL)
		return;
	for (unsigned int k = 0; k < l4->n_dyn; k++) {
		struct tcpp_listener *l = &l4->dyn[k];
		const struct hf_snap_listener *sl;

		if (!l->open)
			continue;
		sl = hf_snapshot_listener(snap, l->port);
		if (sl != NULL && same_kind(l, sl)) {
			/* New certificates or settings for a TLS-terminated port. */
			if (l->tls != NULL)
				hf_tls_listener_update(l->tls, sl->tls);
			continue;
		}
		/*
		 * Gone (or now HTTP, or TLS where it was not): the port refuses new
		 * connections; the proxied ones go on, as Envoy's tcp_proxy does
		 * through a drain, until they end or the drain timeout resets them.
		 */
		hf_tcp_unlisten(w, l->port);
		l->open = false;
		l->draining = true;
		HF_COUNT(w, LISTENER_REMOVED);
		l->drain_left = drain_scan(w, l, false);
		HF_COUNT_N(w, LISTENER_DRAINING_CX, l->drain_left);
		l->drain_deadline = w->tcp->now_tick + l4->drain_timeout_ms;
		l->w = w;
		hf_timer_init(&l->drain_timer, on_drain_timer, l);
		drain_check(w, l);
	}
}

void
hf_l4_sync(struct hf_worker *w, const struct hf_snapshot *snap)
{
	struct hf_l4_state *l4 = w->l4;

	if (l4 == NULL || l4->seen_version == snap->version)
		return;
	l4->seen_version = snap->version;
	for (unsigned int i = 0; i < snap->n_listeners; i++) {
		const struct hf_snap_listener *sl = &snap->listeners[i];
		struct tcpp_listener *l = NULL, *spare = NULL;
		unsigned int k;
		int rc;

		if (sl->kind != HF_LISTENER_TCP && sl->kind != HF_LISTENER_TLS)
			continue;
		/* Its own slot: open, or draining and of the same kind; else a free one. */
		for (k = 0; k < l4->n_dyn && l == NULL; k++) {
			struct tcpp_listener *d = &l4->dyn[k];

			if (d->port == sl->port && (d->open || (d->draining && same_kind(d, sl))))
				l = d;
			else if (spare == NULL && !d->open && !d->draining)
				spare = d;
		}
		if (l != NULL && l->open)
			continue;
		if (l != NULL && l->draining) {
			/* Back before its drain ended: accepting again, its connections kept. */
			if (l4_listen(w, l, sl) < 0)
				continue;
			hf_timer_cancel(&w->tcp->wheel, &l->drain_timer);
			HF_COUNT_N(w, LISTENER_DRAINING_CX, -(uint64_t)l->drain_left);
			l->drain_left = 0;
			l->draining = false;
			l->open = true;
			HF_COUNT(w, LISTENER_REOPENED);
			continue;
		}
		if (l == NULL)
			l = spare;
		if (l == NULL) {
			/* Bootstrap listeners are open already; hf_tcp_listen refuses their ports. */
			if (l4->n_dyn == RTE_DIM(l4->dyn)) {
				HF_COUNT(w, L4_DROP_LISTENER_NOT_OPENED);
				continue;
			}
			l = &l4->dyn[l4->n_dyn++];
		}
		/* A drained TLS port's: none of its connections is left to point at it. */
		hf_tls_listener_free(l->tls);
		*l = (struct tcpp_listener){.port = sl->port, .dynamic = true, .kind = sl->kind};
		rc = l4_listen(w, l, sl);
		l->open = rc >= 0;
	}
}

void
hf_l4_fini(struct hf_worker *w)
{
	struct hf_l4_state *l4 = w->l4;

	if (l4 == NULL)
		return;
	/* The TCP stack (hf_tcp_fini) drops the connections whose ctx point in here. */
	if (w->tcp != NULL) {
		for (unsigned int k = 0; k < l4->n_dyn; k++)
			hf_timer_cancel(&w->tcp->wheel, &l4->dyn[k].drain_timer);
		for (uint32_t i = 0; l4->waits != NULL && i < l4->n_waits; i++)
			if (l4->waits[i].c != NULL)
				hf_timer_cancel(&w->tcp->wheel, &l4->waits[i].timer);
	}
	for (unsigned int k = 0; k < l4->n_dyn; k++) {
		hf_tls_listener_free(l4->dyn[k].tls);
		l4->dyn[k].tls = NULL;
	}
	hf_tls_worker_free(l4->tls);
	l4->tls = NULL;
	rte_free(l4->waits);
	rte_free(l4->wait_free);
	w->l4 = NULL;
	rte_free(l4->lb);
	l4->lb = NULL;
	rte_free(l4);
}
