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

#include <rte_mbuf.h>

#include "dataplane/proxy/l4.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

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

/* The port whose subnet holds @p addr, else the first (its gateway routes). */
static uint16_t
route_port(const struct hf_worker *w, uint32_t addr)
{
	for (uint16_t i = 0; i < w->n_ports; i++)
		if ((addr & w->ports[i].mask) == (w->ports[i].addr & w->ports[i].mask))
			return i;
	return 0;
}

struct tcpp_listener {
	unsigned int cluster;		/* index in the snapshot's clusters (bootstrap listeners) */
	uint16_t port;			/* host order; with `dynamic`, the cluster is the snapshot's */
	bool dynamic;			/* opened for a TCP listener of the Istio configuration */
	uint32_t rr;			/* round-robin cursor, this worker's own */
};

/* Listeners opened for the configuration's TCP routes, per worker. */
static struct {
	unsigned int n;
	uint64_t seen_version;
	struct tcpp_listener l[HF_MAX_LISTENERS];
} dyn[HF_MAX_WORKERS];

static int
tcpp_accepted(struct hf_worker *w, struct hf_tcp_conn *down, void *lctx)
{
	struct tcpp_listener *l = lctx;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_cluster *cl;
	const struct hf_snap_endpoint *ep;
	struct hf_tcp_conn *up;

	const struct hf_snap_listener *sl;
	int cluster = (int)l->cluster;

	HF_COUNT(w, TCPP_DOWNSTREAM_CX);
	if (snap != NULL && l->dynamic) {
		/* A TCP route of the configuration: its cluster as the current snapshot says. */
		sl = hf_snapshot_listener(snap, l->port);
		cluster = sl != NULL && sl->kind == HF_LISTENER_TCP ? sl->cluster : -1;
	}
	if (snap == NULL || cluster < 0 || (unsigned int)cluster >= snap->n_clusters ||
	    snap->clusters[cluster].n_endpoints == 0) {
		HF_COUNT(w, TCPP_NO_UPSTREAM);
		return -ENOENT;
	}
	/* The endpoint is copied into the connection: nothing here outlives this iteration. */
	cl = &snap->clusters[cluster];
	ep = &cl->endpoints[l->rr++ % cl->n_endpoints];
	up = hf_tcp_connect(w, route_port(w, ep->addr), ep->addr, ep->port, cl->connect_timeout_ms,
			    &tcpp_up_ops, down);
	if (up == NULL) {
		HF_COUNT(w, TCPP_NO_UPSTREAM);
		return -ENOBUFS;
	}
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
	static struct tcpp_listener tl[HF_MAX_WORKERS][HF_MAX_LISTENERS];

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
			tl[w->id][i] = (struct tcpp_listener){.cluster = (unsigned int)l->cluster};
			rc = hf_tcp_listen(w, l->port, &tcpp_listen_ops, &tl[w->id][i]);
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

void
hf_l4_sync(struct hf_worker *w, const struct hf_snapshot *snap)
{
	typeof(dyn[0]) *d = &dyn[w->id];

	if (d->seen_version == snap->version)
		return;
	d->seen_version = snap->version;
	for (unsigned int i = 0; i < snap->n_listeners; i++) {
		const struct hf_snap_listener *sl = &snap->listeners[i];
		struct tcpp_listener *l;
		unsigned int k;

		if (sl->kind != HF_LISTENER_TCP)
			continue;
		for (k = 0; k < d->n; k++)
			if (d->l[k].port == sl->port)
				break;
		/* Bootstrap listeners are open already; hf_tcp_listen refuses their ports. */
		if (k < d->n || d->n == RTE_DIM(d->l))
			continue;
		l = &d->l[d->n];
		*l = (struct tcpp_listener){.port = sl->port, .dynamic = true};
		if (hf_tcp_listen(w, sl->port, &tcpp_listen_ops, l) >= 0)
			d->n++;
	}
}
