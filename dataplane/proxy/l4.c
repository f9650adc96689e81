/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network filters over the TCP API: echo (Envoy's echo filter, our test
 * peer), discard (RFC 863) and tcp_proxy (Envoy's, which Istio's `tcp` routes
 * become). All three respect backpressure the same way: data is taken from a
 * connection only while the side it goes to is writable, so a slow reader
 * leaves bytes in the other side's receive queue, which closes that side's
 * TCP window. Memory stays bounded by the two windows and send queues.
 */
#include <errno.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/proxy/drain.h"
#include "dataplane/proxy/l4.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb.h"

struct tcpp_listener {
	unsigned int cluster;		/* index in the snapshot's clusters (bootstrap listeners) */
	uint16_t port;			/* host order; with `dynamic`, the cluster is the snapshot's */
	bool dynamic;			/* opened for a TCP listener of the Istio configuration */
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

/* A worker's L4 proxy, hung off hf_worker.l4: hf_l4_start() makes it, hf_l4_fini() frees it. */
struct hf_l4_state {
	struct hf_lb_state *lb;		/* endpoint picking, this worker's own */
	uint64_t seen_version;		/* snapshot whose TCP listeners are open */
	struct tcpp_listener boot[HF_MAX_LISTENERS];	/* the bootstrap's, by listener index */
	unsigned int n_dyn;
	struct tcpp_listener dyn[HF_MAX_LISTENERS];	/* the configuration's */
	uint32_t drain_timeout_ms;	/* http.drain_timeout_ms */
	struct cx_entry cx[CX_TABLE];
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

/* Upstream @p up is no longer proxied: one connection fewer to its endpoint. */
static void
cx_done(struct hf_worker *w, const struct hf_tcp_conn *up)
{
	struct cx_entry *e = cx_find(w->l4, up->raddr, up->rport, false);

	if (e != NULL && e->open > 0)
		e->open--;
}

/* Moves what @p to can take from @p from; propagates the peer's FIN. Returns bytes moved. */
static uint64_t
pump(struct hf_worker *w, struct hf_tcp_conn *from, struct hf_tcp_conn *to)
{
	const struct hf_tcp_stack *st = w->tcp;
	uint64_t moved = 0;

	while (hf_tcp_writable(st, to)) {
		struct rte_mbuf *m = hf_tcp_recv(w, from, st->cfg.snd_high - hf_tcp_sndq_bytes(to));

		if (m == NULL)
			break;
		moved += rte_pktmbuf_pkt_len(m);
		if (hf_tcp_send(w, to, m) < 0)
			break;
	}
	if (hf_tcp_peer_closed(from))
		hf_tcp_shutdown(w, to);
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
 * tcp_proxy: each side's ctx points at the other side; NULL once that side is
 * gone. Until the upstream connects, downstream bytes wait in the downstream
 * receive queue (its window bounds them).
 */
static const struct hf_tcp_ops tcpp_up_ops;

static void
tcpp_move(struct hf_worker *w, struct hf_tcp_conn *from, struct hf_tcp_conn *to, bool upward)
{
	uint64_t n;

	if (to == NULL || to->state == HF_TCP_SYN_SENT)
		return;
	n = pump(w, from, to);
	if (upward)
		HF_COUNT_N(w, TCPP_TX_UP, n);
	else
		HF_COUNT_N(w, TCPP_TX_DOWN, n);
}

static void
tcpp_down_readable(struct hf_worker *w, struct hf_tcp_conn *down)
{
	tcpp_move(w, down, down->ctx, true);
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
	if (down->ctx != NULL)
		tcpp_move(w, down->ctx, down, false);
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
	struct hf_tcp_conn *other = c->ctx;

	if (other == NULL)
		return;
	/* The pair is unlinked once, whichever side ends first, however it ends. */
	cx_done(w, c->ops == &tcpp_up_ops ? c : other);
	other->ctx = NULL;
	c->ctx = NULL;
	if (err != 0) {
		if (c->ops == &tcpp_up_ops && !hf_tcp_was_established(c))
			HF_COUNT(w, TCPP_UPSTREAM_FAIL);
		HF_COUNT(w, TCPP_RESETS);
		hf_tcp_abort(w, other);
		return;
	}
	/*
	 * Orderly: what the closed side received and the other could not take yet
	 * goes over now, past the watermark (one window at most), then the FIN.
	 */
	for (struct rte_mbuf *m; (m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL;) {
		if (c->ops == &tcpp_up_ops)
			HF_COUNT_N(w, TCPP_TX_DOWN, rte_pktmbuf_pkt_len(m));
		else
			HF_COUNT_N(w, TCPP_TX_UP, rte_pktmbuf_pkt_len(m));
		if (hf_tcp_send(w, other, m) < 0)
			break;
	}
	hf_tcp_shutdown(w, other);
}

static int
tcpp_accepted(struct hf_worker *w, struct hf_tcp_conn *down, void *lctx)
{
	struct tcpp_listener *l = lctx;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_listener *sl;
	const struct hf_snap_cluster *cl;
	const struct hf_snap_endpoint *ep;
	struct hf_lb_ctx lb;
	struct hf_tcp_conn *up;
	struct cx_entry *cx;
	int cluster = (int)l->cluster, e;

	HF_COUNT(w, TCPP_DOWNSTREAM_CX);
	if (snap != NULL && l->dynamic) {
		/* A TCP route of the configuration: its cluster as the current snapshot says. */
		sl = hf_snapshot_listener(snap, l->port);
		cluster = sl != NULL && sl->kind == HF_LISTENER_TCP ? sl->cluster : -1;
	}
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
	down->ctx = up;
	return 0;
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
 * Walks the downstream connections that listener @p l accepted: tcp_proxy's
 * on its port (a passive open keeps the listener's ops until it ends; TIME-WAIT
 * ones have none). With @p reset, each is reset with its upstream. Returns how
 * many there were. O(TCBs): for the drain's recount (HF_L4_DRAIN_POLL_MS), not per packet.
 */
static uint32_t
drain_scan(struct hf_worker *w, const struct tcpp_listener *l, bool reset)
{
	struct hf_tcp_stack *st = w->tcp;
	uint16_t be = rte_cpu_to_be_16(l->port);
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		struct hf_tcp_conn *c = &st->conns[i];

		if (c->state == HF_TCP_CLOSED || c->ops != &tcpp_listen_ops || c->lport != be ||
		    (c->flags & HF_TCP_F_APP_CLOSED))
			continue;
		n++;
		if (reset) {
			HF_COUNT(w, LISTENER_DRAIN_TIMEOUTS);
			/* The upstream is reset as tcpp_closed() does for any reset; then this side. */
			tcpp_closed(w, c, -ECONNABORTED);
			hf_tcp_abort(w, c);
		}
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
		if (sl != NULL && sl->kind == HF_LISTENER_TCP)
			continue;
		/*
		 * Gone (or now HTTP): the port refuses new connections; the proxied
		 * ones go on, as Envoy's tcp_proxy does through a drain, until they
		 * end or the drain timeout resets them.
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

		if (sl->kind != HF_LISTENER_TCP)
			continue;
		for (k = 0; k < l4->n_dyn && l == NULL; k++) {
			if (l4->dyn[k].port == sl->port)
				l = &l4->dyn[k];
			else if (spare == NULL && !l4->dyn[k].open && !l4->dyn[k].draining)
				spare = &l4->dyn[k];
		}
		if (l != NULL && l->open)
			continue;
		if (l != NULL && l->draining) {
			/* Back before its drain ended: accepting again, its connections kept. */
			if (hf_tcp_listen(w, sl->port, &tcpp_listen_ops, l) < 0)
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
		*l = (struct tcpp_listener){.port = sl->port, .dynamic = true};
		rc = hf_tcp_listen(w, sl->port, &tcpp_listen_ops, l);
		l->open = rc >= 0;
		/* A bootstrap listener's port (EADDRINUSE) is no failure: it is open already. */
		if (rc == -ENOSPC)
			HF_COUNT(w, L4_DROP_LISTENER_NOT_OPENED);
	}
}

void
hf_l4_fini(struct hf_worker *w)
{
	struct hf_l4_state *l4 = w->l4;

	if (l4 == NULL)
		return;
	/* The TCP stack (hf_tcp_fini) drops the connections whose ctx point in here. */
	if (w->tcp != NULL)
		for (unsigned int k = 0; k < l4->n_dyn; k++)
			hf_timer_cancel(&w->tcp->wheel, &l4->dyn[k].drain_timer);
	w->l4 = NULL;
	rte_free(l4->lb);
	l4->lb = NULL;
	rte_free(l4);
}
