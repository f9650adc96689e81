/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TCP_T_H
#define HF_TCP_T_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/tcp/cc.h"
#include "dataplane/tcp/rto.h"
#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/timer.h"

struct rte_mbuf;
struct rte_mempool;
struct hf_worker;
struct hf_tcp_conn;

/* RFC 9293 3.3.2 states; the values index the per-state input handlers. */
enum hf_tcp_state {
	HF_TCP_CLOSED = 0,
	HF_TCP_LISTEN,		/* listeners only; a connection is never in it */
	HF_TCP_SYN_SENT,
	HF_TCP_SYN_RCVD,
	HF_TCP_ESTABLISHED,
	HF_TCP_FIN_WAIT_1,
	HF_TCP_FIN_WAIT_2,
	HF_TCP_CLOSE_WAIT,
	HF_TCP_CLOSING,
	HF_TCP_LAST_ACK,
	HF_TCP_TIME_WAIT,
	HF_TCP__STATES
};

/* Connection flags (struct hf_tcp_conn.flags). */
enum {
	HF_TCP_F_SACK = 0x0001,		/* both sides sent SACK-permitted */
	HF_TCP_F_TS = 0x0002,		/* both sides sent timestamps */
	HF_TCP_F_WS = 0x0004,		/* both sides sent window scale */
	HF_TCP_F_ACK_NOW = 0x0008,	/* send an ACK at the next flush */
	HF_TCP_F_FIN_QUEUED = 0x0010,	/* the application closed its side: FIN after the data */
	HF_TCP_F_FIN_SENT = 0x0020,	/* our FIN has a sequence number (snd_max covers it) */
	HF_TCP_F_FIN_RCVD = 0x0040,	/* the peer's FIN was consumed in sequence */
	HF_TCP_F_PENDING = 0x0080,	/* on the worker's flush list */
	HF_TCP_F_DEAD = 0x0100,		/* released while on the flush list: free at flush */
	HF_TCP_F_RECOVERY = 0x0200,	/* in fast recovery (RFC 6582) */
	HF_TCP_F_NOT_WRITABLE = 0x0400,	/* send queue went over the high watermark */
	HF_TCP_F_PASSIVE = 0x0800,	/* opened by a listener */
	HF_TCP_F_APP_CLOSED = 0x1000,	/* closed() delivered: no more callbacks */
	HF_TCP_F_RTT_TIMING = 0x2000,	/* rtt_seq is being timed (no timestamps) */
	HF_TCP_F_PERSIST = 0x4000,	/* the retransmit timer runs as the persist timer */
	HF_TCP_F_OOO_FIN = 0x8000,	/* the peer's FIN waits at ooo_fin behind a hole */
	HF_TCP_F_SYNCED = 0x10000,	/* reached ESTABLISHED once */
	HF_TCP_F_TLP_ARMED = 0x20000,	/* the retransmit timer runs as the tail loss probe */
	HF_TCP_F_TLP_SENT = 0x40000,	/* a probe went out; none again until an ACK moves */
};

/*
 * What the layer above TCP (echo, discard, tcp_proxy, HTTP, TLS, loadgen)
 * is told. Every callback runs on the worker that owns the connection. After
 * closed() returns, the connection is gone and must not be touched.
 */
struct hf_tcp_ops {
	/* A passive open reached ESTABLISHED. Return 0 to keep it, <0 to reset it. */
	int (*accepted)(struct hf_worker *w, struct hf_tcp_conn *c, void *listener_ctx);
	/* An active open finished: err 0, or closed() follows with the error. */
	void (*connected)(struct hf_worker *w, struct hf_tcp_conn *c);
	/* New in-order data can be taken with hf_tcp_recv(), or the peer's FIN arrived. */
	void (*readable)(struct hf_worker *w, struct hf_tcp_conn *c);
	/* The send queue fell below the low watermark after hf_tcp_send() refused more. */
	void (*writable)(struct hf_worker *w, struct hf_tcp_conn *c);
	/*
	 * The connection ends: 0 after an orderly close, -ECONNRESET, -ETIMEDOUT,
	 * -ECONNREFUSED. After an orderly close, bytes not yet taken can still be
	 * taken with hf_tcp_recv() during the call; they are dropped after it.
	 */
	void (*closed)(struct hf_worker *w, struct hf_tcp_conn *c, int err);
	/*
	 * Optional: asked for with hf_tcp_flush_later(), called once in the
	 * worker loop's TCP pass, just before the connection's output is sent,
	 * for a layer that batches what it was given during the pass (TLS seals
	 * it into full-sized records). It may call hf_tcp_send(), never close.
	 */
	void (*flush)(struct hf_worker *w, struct hf_tcp_conn *c);
};

/* A receive-side list of payload mbufs (single segments linked through m->next). */
struct hf_tcp_mq {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	uint32_t bytes;
};

/*
 * The TCB. Kept small (the target is 1 KB per idle established connection,
 * queued data excluded); fields read on every segment come first.
 */
struct hf_tcp_conn {
	/* lookup key, network byte order: the table hashes these 12 bytes */
	uint32_t raddr;
	uint32_t laddr;
	uint16_t rport;
	uint16_t lport;

	uint8_t state;			/* enum hf_tcp_state */
	uint8_t snd_wscale;		/* shift applied to the peer's window */
	uint8_t rcv_wscale;		/* shift the peer applies to ours */
	uint8_t dupacks;
	uint16_t port;			/* hf_port.index */
	uint16_t mss;			/* effective send MSS, options excluded */
	/*
	 * Passive opens: the listener's index. Active opens: the opener's own tag
	 * (tcp_proxy: its Istio metrics series + 1, 0 for none).
	 */
	uint16_t listener;
	/* When the last reply to an unacceptable segment went, in 8 ms units; 0: never (input.c). */
	uint16_t oow_reply_at;
	uint32_t id;			/* index in the worker's TCB array */
	uint32_t flags;			/* HF_TCP_F_* */
	uint32_t hnext;			/* next TCB in its table bucket: id + 1, 0 for none */
	/*
	 * The ARP cache slot of the next hop (arp_ip, network order; 0: none
	 * yet), for hf_arp_slot_mac(): a segment skips the route and the cache
	 * lookup while the slot still holds that address, confirmed.
	 */
	uint32_t arp_ip;
	uint32_t arp_slot;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;		/* next new or retransmitted byte to send */
	uint32_t snd_max;		/* highest sequence number sent + 1 */
	uint32_t snd_wnd;		/* peer window, scaled */
	uint32_t max_snd_wnd;		/* largest snd_wnd ever offered (RFC 5961 MAX.SND.WND) */
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t recover;		/* RFC 6582 "recover" */
	uint32_t rexmit_nxt;		/* SACK recovery: next hole to look for from here */
	uint32_t rtt_seq;		/* segment being timed without timestamps */
	uint32_t rtt_start_ms;

	/* receive sequence space */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;		/* right edge of the window we advertised */
	uint32_t rcv_buf;		/* receive buffer size */
	uint32_t ts_recent;		/* RFC 7323 4.3 */
	uint32_t ts_recent_ms;		/* when ts_recent was taken (PAWS 24-day rule) */
	uint16_t segs_unacked;		/* full segments received since our last ACK */
	uint16_t rto_backoff;		/* consecutive timeouts of the retransmit timer */

	/* data */
	struct rte_mbuf *sndq_head;	/* unacknowledged and unsent bytes from snd_una */
	struct rte_mbuf *sndq_tail;
	uint32_t sndq_bytes;
	uint32_t tx_seq;		/* sequence number of tx_seg's first byte */
	/*
	 * Where the last segment's payload was found in the send queue (NULL:
	 * nowhere yet): the next one, in order, starts looking there instead of
	 * at the head, so sending a queue of n mbufs is O(n), not O(n^2).
	 */
	struct rte_mbuf *tx_seg;
	struct hf_tcp_mq rcvq;		/* in-order bytes not yet taken by the application */
	struct hf_tcp_mq ooo;		/* out-of-order segments, sorted, seq in m->hash.usr */
	uint32_t rcvq_mbufs;		/* mbufs in rcvq: both queues are bounded in count, */
	uint16_t ooo_mbufs;		/* not only in bytes (reasm.c) */
	uint16_t ooo_runs;		/* runs of contiguous segments in ooo */
	uint32_t rx_strikes;		/* out-of-order mbufs refused or pruned since rcv_nxt moved */
	uint32_t ooo_fin;		/* sequence of an out-of-order FIN (HF_TCP_F_OOO_FIN) */
	struct hf_tcp_conn *ooo_next;	/* the worker's connections holding out-of-order data */
	struct hf_tcp_conn *ooo_prev;	/* (doubly linked: one that drains leaves in O(1)) */

	struct hf_tcp_cc cc;
	struct hf_tcp_rto rto;
	struct hf_tcp_sack_board sack;

	struct hf_timer rtx_timer;	/* retransmission, SYN, persist */
	struct hf_timer ack_timer;	/* delayed ACK */
	struct hf_timer life_timer;	/* connect timeout, keepalive, FIN_WAIT_2, TIME_WAIT */

	const struct hf_tcp_ops *ops;
	void *ctx;			/* the application's, untouched by TCP */
	struct hf_tcp_conn *next_pending; /* worker flush list */
	struct hf_tcp_conn *tw_next;	/* TIME_WAIT FIFO, oldest first */
	struct hf_tcp_conn *tw_prev;	/* (doubly linked: a SYN that reopens one unlinks it in O(1)) */
};

#endif
