/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_H
#define HF_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/tcp/tcp-t.h"
#include "dataplane/worker-t.h"

#define HF_TCP_MAX_LISTENERS 64

/* Stack-wide settings; one copy per worker. */
struct hf_tcp_config {
	uint32_t max_connections;	/* TCBs per worker */
	uint32_t rcv_buf;		/* receive window per connection, bytes */
	uint32_t snd_high;		/* send queue high watermark, bytes */
	uint32_t snd_low;		/* writable() again below this */
	uint32_t syn_backlog;		/* SYN_RCVD per listener before SYN cookies */
	uint32_t time_wait_ms;		/* 2 MSL */
	uint32_t fin_wait_2_ms;		/* orphaned FIN_WAIT_2 bound */
	uint32_t delack_ms;		/* delayed ACK timer */
	uint32_t keepalive_idle_ms;	/* 0: off */
	uint32_t keepalive_intvl_ms;
	uint32_t keepalive_probes;
	uint32_t syn_retries;
	enum hf_tcp_cc_algo cc_algo;
	uint32_t rx_mbufs_max;		/* receive queues of all connections; 0: half the
					   worker's share of its ports' pools (reasm.c) */
};

/* A listening port: every port's address, one TCP port. */
struct hf_tcp_listener {
	uint16_t lport;			/* network order; 0: slot unused */
	uint32_t synrcvd;		/* connections of this listener in SYN_RCVD */
	const struct hf_tcp_ops *ops;
	void *ctx;
};

/* A worker's TCP stack. Owned by that worker alone. */
struct hf_tcp_stack {
	struct hf_tcp_config cfg;
	struct hf_tcp_conn *conns;	/* cfg.max_connections TCBs */
	uint32_t *free_ids;		/* stack of free TCB indexes */
	uint32_t n_free;
	uint32_t n_active;
	/*
	 * The 4-tuple table: chains through the TCBs (hnext), heads by keyed hash
	 * (TCB id + 1, 0 for an empty bucket), at least one bucket per TCB.
	 */
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t hash_seed;
	uint8_t rcv_wscale;		/* our window scale for cfg.rcv_buf, set once at start */
	struct rte_mempool *clone_pool;	/* indirect mbufs: retransmission by reference */
	struct hf_timer_wheel wheel;	/* 1 ms ticks */
	uint64_t tsc_per_ms;
	uint64_t now_tick;		/* milliseconds, the wheel's clock */
	uint64_t tick_start;		/* the TSC at which now_tick began */
	uint32_t now_ms;		/* the same, truncated: timestamps and RTTs */
	uint32_t n_listeners;
	struct hf_tcp_listener listeners[HF_TCP_MAX_LISTENERS];
	struct hf_tcp_conn *pending;	/* connections with output to flush */
	struct hf_tcp_conn *tw_head;	/* TIME_WAIT FIFO, for recycling under pressure */
	struct hf_tcp_conn *tw_tail;
	uint16_t next_ephemeral;
	uint8_t secret[16];		/* ISN (RFC 6528) and SYN cookie key */
	bool cookies_active;		/* a SYN cookie went out less than two periods ago */
	uint64_t cookies_until;		/* now_tick until which cookies are checked */
	uint32_t rx_mbufs;		/* mbufs in every connection's two receive queues */
	uint32_t rx_mbufs_max;		/* their cap: past it out-of-order queues are pruned */
	struct hf_tcp_conn *ooo_conns;	/* connections holding out-of-order data */
};

/*
 * Warms what the stack will read first of the connections of TCP frames
 * @p pkts (an RX burst, Ethernet headers first): their table buckets, then
 * the TCBs those lead to, all the burst's loads in flight at once rather than
 * one cold miss after the other as each frame's lookup comes. A burst of one
 * is left alone.
 */
void hf_tcp_prefetch_burst(struct hf_worker *w, struct rte_mbuf *const *pkts, uint16_t n);

/** Fills @p cfg with the defaults (Linux-like). */
void hf_tcp_config_default(struct hf_tcp_config *cfg);

/*
 * Sets up the TCP stack of worker @p w: the TCB array, the 4-tuple table and
 * the clone pool, sized from @p cfg. Returns 0 or -ENOMEM.
 */
int hf_tcp_init(struct hf_worker *w, const struct hf_tcp_config *cfg);

/** Releases the stack; every connection is dropped without callbacks. */
void hf_tcp_fini(struct hf_worker *w);

/*
 * Opens TCP port @p lport (host order) on every address of the worker.
 * Returns the listener index, -EADDRINUSE or -ENOSPC.
 */
int hf_tcp_listen(struct hf_worker *w, uint16_t lport, const struct hf_tcp_ops *ops, void *ctx);

/*
 * Closes the listener on TCP port @p lport (host order): from now on a SYN to
 * it is answered with a RST and counted as tcp.drop.no_listener, as for any
 * closed port. Connections it accepted stay, with their ops and contexts: the
 * layer above drains them. Its handshakes not yet complete (SYN-RECEIVED) are
 * reset. The port may be listened on again at once. Returns 0 or -ENOENT.
 */
int hf_tcp_unlisten(struct hf_worker *w, uint16_t lport);

/*
 * Starts an active open from port @p p to @p raddr:@p rport (network order)
 * with a local port whose return traffic RSS steers to this worker.
 * ops->connected() or ops->closed() reports the outcome; the connection gives
 * up after @p timeout_ms. Returns the connection or NULL (no TCB, no port).
 */
struct hf_tcp_conn *hf_tcp_connect(struct hf_worker *w, uint16_t p, uint32_t raddr,
				   uint16_t rport, uint32_t timeout_ms,
				   const struct hf_tcp_ops *ops, void *ctx);

/*
 * Queues the payload chain @p m for sending; ownership passes to TCP. Always
 * accepts the data (the caller bounds itself); returns true while the send
 * queue is under the high watermark, false when the caller should wait for
 * writable(). Refused (m freed, -EPIPE) after shutdown or in a closing state.
 */
int hf_tcp_send(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m);

/*
 * Takes in-order received data as a chain of whole payload mbufs (NULL when
 * none): segments are taken while fewer than @p max bytes are, so the chain
 * may pass @p max by less than one segment. The window reopens as data is
 * taken.
 */
struct rte_mbuf *hf_tcp_recv(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max);

/** True once the peer's FIN was received and every byte before it taken. */
bool hf_tcp_peer_closed(const struct hf_tcp_conn *c);

/** Bytes queued to send (unacknowledged included). */
static inline uint32_t
hf_tcp_sndq_bytes(const struct hf_tcp_conn *c)
{
	return c->sndq_bytes;
}

/** True once the connection reached ESTABLISHED (an active open that failed never did). */
static inline bool
hf_tcp_was_established(const struct hf_tcp_conn *c)
{
	return c->flags & HF_TCP_F_SYNCED;
}

/** True when hf_tcp_send() would report room. */
static inline bool
hf_tcp_writable(const struct hf_tcp_stack *s, const struct hf_tcp_conn *c)
{
	return c->sndq_bytes < s->cfg.snd_high;
}

/*
 * Payload up to this size is copied into the room of the mbuf before it
 * rather than kept alone. A full-sized segment (1448 bytes) is not, so bulk
 * transfer stays zero-copy; anything smaller leaves each mbuf of a queue
 * holding about 1 KB, so a window's worth stays inside the receive queues'
 * mbuf budget (rcv_buf / 512, tcp-int.h).
 */
#define HF_TCP_COLLAPSE_MAX 1024

/*
 * Copies the payload of single-segment @p src behind the payload of @p dst
 * when it is small (HF_TCP_COLLAPSE_MAX) and fits in @p dst's room; the caller
 * then frees @p src. Only into a direct mbuf nobody else references: the
 * room of a shared buffer may hold bytes a clone still reads. Bytes already
 * in @p dst stay where they are (slices into them remain valid). Returns
 * whether it copied. TCP collapses its queues with it; a layer above that
 * queues what hf_tcp_recv() returns should too, or a peer sending one byte
 * per segment makes it hold one mbuf per byte.
 */
static inline bool
hf_tcp_mbuf_absorb(struct rte_mbuf *dst, const struct rte_mbuf *src)
{
	uint16_t n = src->data_len;

	if (n > HF_TCP_COLLAPSE_MAX || src->nb_segs != 1 || !RTE_MBUF_DIRECT(dst) ||
	    rte_mbuf_refcnt_read(dst) != 1 || rte_pktmbuf_tailroom(dst) < n)
		return false;
	memcpy(rte_pktmbuf_mtod_offset(dst, char *, dst->data_len),
	       rte_pktmbuf_mtod(src, const char *), n);
	dst->data_len = (uint16_t)(dst->data_len + n);
	dst->pkt_len += n;
	return true;
}

/*
 * Puts @p c on this loop pass's flush list: its ops' flush() runs before its
 * output goes out (for a layer above that holds data back to batch it).
 */
void hf_tcp_flush_later(struct hf_worker *w, struct hf_tcp_conn *c);

/* Half-close: FIN after the queued data (RFC 9293 3.10.4). */
void hf_tcp_shutdown(struct hf_worker *w, struct hf_tcp_conn *c);

/* Aborts with RST; closed() is not called for a connection the caller aborts. */
void hf_tcp_abort(struct hf_worker *w, struct hf_tcp_conn *c);

/* Handles one TCP segment (m->l2_len and l3_len set, IP validated). Consumes @p m. */
void hf_tcp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m);

/*
 * Applies an ICMP error (RFC 1122 4.2.3.9, RFC 5927) whose message quotes
 * the IP header and first bytes of one of our segments (@p quote, @p len
 * bytes). Only a quote matching a connection and a sequence number in flight
 * counts. Fragmentation-needed lowers the MSS to @p mtu; port or protocol
 * unreachable fails a connect in SYN-SENT; everything else is a soft error.
 */
void hf_tcp_icmp_error(struct hf_worker *w, uint8_t type, uint8_t code, uint16_t mtu,
		       const uint8_t *quote, uint32_t len);

/*
 * Sets the stack's clock (now_tick, now_ms) to the loop's w->now without
 * running a timer: call it before the RX burst, so that timers armed and
 * timestamps taken while frames are handled count from now, not from the
 * previous iteration's hf_tcp_poll() (a worker switched out between the two
 * armed fault delays and retransmission timers that many ms short). Due
 * timers still fire in hf_tcp_poll(), after the frames that may cancel them.
 */
static inline void
hf_tcp_clock(struct hf_worker *w)
{
	struct hf_tcp_stack *st = w->tcp;

	/* Within the current 1 ms tick (most iterations): one unsigned comparison, no
	 * division; it also catches a clock set back (tests). */
	if (__builtin_expect(w->now - st->tick_start >= st->tsc_per_ms, 0)) {
		st->now_tick = w->now / st->tsc_per_ms;
		st->now_ms = (uint32_t)st->now_tick;
		st->tick_start = st->now_tick * st->tsc_per_ms;
	}
}

/* Runs due timers and sends what connections have queued. Call once per loop. */
void hf_tcp_poll(struct hf_worker *w);

/* Bytes of state per idle established connection (TCB + table entry). */
size_t hf_tcp_conn_footprint(void);

/* Indirect mbufs of worker @p w in use (payload referenced by queued segments); any thread. */
unsigned int hf_tcp_clones_in_use(const struct hf_worker *w);

#endif
