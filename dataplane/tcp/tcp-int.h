/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the TCP stack's files (conn.c, input.c, output.c,
 * reasm.c). Not for the layers above TCP: they use tcp.h.
 */
#ifndef HF_TCP_INT_H
#define HF_TCP_INT_H

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/tcp/options.h"
#include "dataplane/tcp/seq.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

/* TCP header flags (RFC 9293 3.1). */
#define TH_FIN RTE_TCP_FIN_FLAG
#define TH_SYN RTE_TCP_SYN_FLAG
#define TH_RST RTE_TCP_RST_FLAG
#define TH_PSH RTE_TCP_PSH_FLAG
#define TH_ACK RTE_TCP_ACK_FLAG

/* One received segment, decoded once. */
struct hf_tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;			/* payload bytes */
	uint32_t wnd;			/* raw window field */
	uint8_t flags;
	struct hf_tcp_opts opts;
};

static inline struct hf_tcp_stack *
tcp_stack(struct hf_worker *w)
{
	return w->tcp;
}

/* Sequence space a segment occupies: payload plus one each for SYN and FIN. */
static inline uint32_t
seg_space(const struct hf_tcp_seg *s)
{
	return s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
}

/* The window we advertise, in bytes, before scaling (in line: several calls a segment). */
static inline uint32_t
tcp_rcv_window(const struct hf_tcp_conn *c)
{
	uint32_t used = c->rcvq.bytes + c->ooo.bytes;

	return used >= c->rcv_buf ? 0 : c->rcv_buf - used;
}

/* Marks @p c for the flush at the end of this loop iteration. */
static inline void
tcp_pending(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tcp_stack *st = tcp_stack(w);

	if (c->flags & HF_TCP_F_PENDING)
		return;
	c->flags |= HF_TCP_F_PENDING;
	c->next_pending = st->pending;
	st->pending = c;
}

/* Bytes of data queued but never sent yet. */
static inline uint32_t
tcp_unsent_bytes(const struct hf_tcp_conn *c)
{
	uint32_t data_end = c->snd_una + c->sndq_bytes;

	return hf_seq_gt(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
}

/*
 * True when tcp_output() may have more to do for @p c than send an owed ACK
 * (which HF_TCP_F_ACK_NOW's setters flush themselves) and look at the
 * retransmission timer: data queued unsent, a FIN to send or send again, a
 * recovery to drive.
 */
static inline bool
tcp_output_due(const struct hf_tcp_conn *c)
{
	return tcp_unsent_bytes(c) != 0 || (c->flags & (HF_TCP_F_FIN_QUEUED | HF_TCP_F_RECOVERY));
}

/* Sends what the windows allow, the FIN when due, and an ACK when one is owed. */
void tcp_output(struct hf_worker *w, struct hf_tcp_conn *c);

/*
 * Builds and sends one segment of @p c: sequence @p seq, @p len payload
 * bytes taken by reference from the send queue, flags @p flags. Returns 0 or
 * -ENOBUFS (counted).
 */
int tcp_send_segment(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t seq, uint32_t len,
		     uint8_t flags);

/*
 * The sequence number of a segment with no data and no FIN (an ACK, a RST):
 * snd_max, RFC 9293's SND.NXT, where the peer's window starts once it holds
 * what we sent (BSD's pure ACKs, Linux's tcp_acceptable_seq()). Not snd_nxt:
 * after a timeout it steps back to snd_una, and a segment numbered there lies
 * below the window of a peer that already holds the rest, which discards it
 * whole, its ACK field with it (RFC 9293 3.10.7.4, first check; Linux's
 * tcp_sequence()), and answers with an ACK of its own. Were the peer's ACKs
 * refused by us meanwhile (its own timeout, a hole of ours it fills at the
 * window's edge), neither side would hear of the other's progress again: both
 * would retransmit old data forever. Past the end of the window the peer last
 * offered (it shrank under data we sent), that end, allowing for the rounding
 * of its window scale, as Linux does.
 */
static inline uint32_t
tcp_acceptable_seq(const struct hf_tcp_conn *c)
{
	uint32_t wnd_end = c->snd_una + c->snd_wnd;

	if (hf_seq_leq(c->snd_max, wnd_end) || c->snd_max - wnd_end < (1u << c->snd_wscale))
		return c->snd_max;
	return wnd_end;
}

/*
 * Sends an ACK now (challenge ACKs, out-of-window replies, window updates),
 * numbered tcp_acceptable_seq().
 */
void tcp_send_ack(struct hf_worker *w, struct hf_tcp_conn *c);

/*
 * Answers segment @p th of the packet in @p m with a RST built in place
 * (RFC 9293 3.10.7.1): consumes @p m.
 */
void tcp_reply_rst(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
		   const struct hf_tcp_seg *seg);

/*
 * Sends the RST that answers segment @p seg of connection @p c (3.10.7.3/4):
 * <SEQ=SEG.ACK><CTL=RST> when it carried an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
void tcp_send_rst_for(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *seg);

/*
 * Answers a SYN to a full listener with a SYN-ACK whose ISN is a SYN cookie,
 * built in place in @p m (headers intact); keeps no state. Consumes @p m.
 */
void hf_tcp_send_syncookie(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
			   const struct hf_tcp_seg *seg);

/* Retransmits from snd_una after a timeout or for fast retransmit. */
void tcp_retransmit_head(struct hf_worker *w, struct hf_tcp_conn *c);

/* Sends the last segment sent again: the tail loss probe (RFC 8985 7.3). */
void tcp_retransmit_tail(struct hf_worker *w, struct hf_tcp_conn *c);

/* Sends the SYN (SYN_SENT) or SYN-ACK (SYN_RCVD) again. */
void tcp_send_syn(struct hf_worker *w, struct hf_tcp_conn *c);

/*
 * A connection's timers, armed in milliseconds from now. Arming is lazy
 * (hf_timer_arm_lazy(): the retransmission and delayed-ACK timers move on
 * every request of a keep-alive connection), and so is tcp_timer_stop_lazy(),
 * for those two where the next request arms them again; tcp_timer_stop()
 * takes a timer off the wheel, as a TCB that is released must have them.
 */
static inline void
tcp_timer_arm(struct hf_worker *w, struct hf_timer *t, uint32_t ms)
{
	struct hf_tcp_stack *st = tcp_stack(w);

	hf_timer_arm_lazy(&st->wheel, t, st->now_tick + (ms ? ms : 1));
}

static inline void
tcp_timer_stop(struct hf_worker *w, struct hf_timer *t)
{
	hf_timer_cancel(&tcp_stack(w)->wheel, t);
}

static inline void
tcp_timer_stop_lazy(struct hf_timer *t)
{
	hf_timer_stop_lazy(t);
}

/* The retransmission timeout of @p c in milliseconds, backed off, at most 60 s. */
uint32_t tcp_rto_ms(const struct hf_tcp_conn *c);

/*
 * RFC 8985 7 (tail loss probe): with data outstanding, no recovery under way
 * and no probe sent since the last ACK, the timer first fires after
 * PTO = 2 SRTT (plus a delayed-ACK allowance for a single segment in flight),
 * bounded by the RTO; tcp_probe_or_rto_ms() returns that, marking the timer
 * a probe (HF_TCP_F_TLP_ARMED), or the RTO.
 */
uint32_t tcp_probe_or_rto_ms(struct hf_tcp_conn *c);

/*
 * Arms or stops the retransmission timer according to what is outstanding. A
 * running timer keeps running (RFC 6298 5.1) unless @p restart, which an ACK
 * of new data asks for (5.3). In line: most calls (every flush of a
 * connection, every ACK) find nothing to change, or only a lazy stop.
 */
static inline void
tcp_rtx_timer_update(struct hf_worker *w, struct hf_tcp_conn *c, bool restart)
{
	if (c->snd_max != c->snd_una) {
		/* RFC 6298 5.1: running stays running; it restarts only on new ACKs (5.3). */
		if (restart || !hf_timer_pending(&c->rtx_timer) || (c->flags & HF_TCP_F_PERSIST)) {
			c->flags &= ~(HF_TCP_F_PERSIST | HF_TCP_F_TLP_ARMED);
			tcp_timer_arm(w, &c->rtx_timer, tcp_probe_or_rto_ms(c));
		}
	} else if (c->snd_wnd == 0 && hf_seq_gt(c->snd_una + c->sndq_bytes, c->snd_nxt)) {
		/* Persist: probe the zero window (RFC 9293 3.8.6.1). */
		if (!hf_timer_pending(&c->rtx_timer)) {
			c->flags |= HF_TCP_F_PERSIST;
			tcp_timer_arm(w, &c->rtx_timer, tcp_rto_ms(c));
		}
	} else {
		c->flags &= ~HF_TCP_F_PERSIST;
		tcp_timer_stop_lazy(&c->rtx_timer);
	}
}

/* Allocates a TCB for the 4-tuple and inserts it in the table; NULL when none is left. */
struct hf_tcp_conn *tcp_conn_alloc(struct hf_worker *w, uint16_t port, uint32_t laddr,
				   uint16_t lport, uint32_t raddr, uint16_t rport);

/* Looks up the TCB of a 4-tuple (network order). */
struct hf_tcp_conn *tcp_conn_lookup(struct hf_worker *w, uint32_t laddr, uint16_t lport,
				    uint32_t raddr, uint16_t rport);

/*
 * Ends @p c: removes it from the table, stops its timers, frees its queues,
 * tells the application with @p err (unless it was told already), and returns
 * the TCB to the pool (at the next flush if it is on the flush list).
 */
void tcp_conn_close(struct hf_worker *w, struct hf_tcp_conn *c, int err);

/* Moves @p c to TIME_WAIT: 2 MSL timer, FIFO for recycling, application told. */
void tcp_enter_time_wait(struct hf_worker *w, struct hf_tcp_conn *c);

/* Passive and active open helpers in conn.c. */
uint32_t tcp_isn(struct hf_worker *w, const struct hf_tcp_conn *c);
void tcp_conn_set_mss(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_opts *o);
void tcp_established(struct hf_worker *w, struct hf_tcp_conn *c);

/*
 * Bounds on what a peer can make a connection hold (reasm.c): the receive
 * queues together hold at most rcv_buf / HF_TCP_RX_TRUESIZE mbufs (at least
 * HF_TCP_RX_MBUFS_MIN), the out-of-order queue half of that, in at most
 * HF_TCP_OOO_MAX_RUNS runs of contiguous data.
 */
#define HF_TCP_RX_TRUESIZE 512
#define HF_TCP_RX_MBUFS_MIN 64
#define HF_TCP_OOO_MAX_RUNS 32
/*
 * Those bounds hold per connection, and thousands of connections within
 * theirs would still pin the pool; so the receive queues of all of a worker's
 * connections together hold at most hf_tcp_stack.rx_mbufs_max mbufs. Past it
 * out-of-order queues are pruned, the largest first (out-of-order data is only
 * SACKed, never acknowledged: RFC 2018 8 lets the receiver discard it, as
 * Linux's tcp_prune_ofo_queue does), down to 7/8 of the cap.
 *
 * A connection whose small out-of-order segments (under HF_TCP_RX_TRUESIZE
 * bytes: full-sized ones never count, as a lossy, reordering path makes a
 * real stream send many beyond a hole) were refused or pruned
 * HF_TCP_RX_STRIKES times its mbuf budget while RCV.NXT never moved is reset
 * (tcp.cx_reset_rx_abuse): a sender recovering from loss fills the hole at
 * RCV.NXT within an RTO, and a window of full-sized segments is a fraction of
 * the budget; a peer that only ever sends beyond a hole it never fills is not
 * sending a stream.
 */
#define HF_TCP_RX_STRIKES 4
/* Receive side (reasm.c): in-order append and out-of-order queue. */
int tcp_reasm_init(void);
void tcp_rcv_data(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
		  const struct hf_tcp_seg *seg);
void tcp_mq_free(struct hf_tcp_mq *q);
/* Frees the receive queue, or the out-of-order queue, and zeroes its counts. */
void tcp_rcvq_free(struct hf_worker *w, struct hf_tcp_conn *c);
void tcp_ooo_free(struct hf_worker *w, struct hf_tcp_conn *c);
/* Mbufs both receive queues of a connection may hold together: rcv_buf / 512, at least 64. */
static inline uint32_t
tcp_rx_budget(const struct hf_tcp_conn *c)
{
	return RTE_MAX(c->rcv_buf / HF_TCP_RX_TRUESIZE, (uint32_t)HF_TCP_RX_MBUFS_MIN);
}

/* True once @p c earned its reset: see HF_TCP_RX_STRIKES. In line: every data segment asks. */
static inline bool
tcp_rx_abusive(const struct hf_tcp_conn *c)
{
	return c->rx_strikes >= HF_TCP_RX_STRIKES * tcp_rx_budget(c);
}
/*
 * Checks the receive queues of @p c against their counts and bounds, and the
 * out-of-order queue's order and runs. Returns 0, or a negative errno naming
 * the first broken rule (for tests).
 */
int tcp_rcv_check(const struct hf_tcp_conn *c);
/*
 * Checks the worker's count of receive-queue mbufs against its connections',
 * its list of out-of-order holders, and the cap. Returns 0 or a negative
 * errno (for tests).
 */
int tcp_rx_check(struct hf_worker *w);
/* Fills up to @p max SACK blocks (start, end pairs) describing the out-of-order queue. */
unsigned int tcp_ooo_sack_blocks(const struct hf_tcp_conn *c, uint32_t *blocks, unsigned int max);


/* Offset of the TCP header in a received frame. */
static inline uint32_t
tcp_l4_off(const struct rte_mbuf *m)
{
	return m->l2_len + m->l3_len;
}

#endif
