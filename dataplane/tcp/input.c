/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP segment arrival (RFC 9293 3.10.7), one handler per state.
 *
 * hf_tcp_input() validates the header once (length, data offset, checksum,
 * flag combinations, options) and finds the connection; the state's handler
 * then runs the checks of 3.10.7.4 in the RFC's order — sequence number
 * (with PAWS, RFC 7323 5), RST (RFC 5961 3), SYN (RFC 5961 4), ACK, data,
 * FIN — through the shared steps below. Output is not sent from here: the
 * connection goes on the worker's flush list, so a burst of segments gets one
 * ACK, as with GRO.
 */
#include <errno.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dataplane/net/cksum.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/overload.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp-int.h"

/* Result of a shared step: go on with the next check, or stop (segment done). */
enum step { NEXT, DONE };

/*
 * PAWS lets a timestamp one below the last one pass (Linux's TCP_PAWS_WINDOW):
 * a segment the network put behind one its sender stamped a tick later.
 */
#define PAWS_WINDOW 1

/*
 * How far above the end of a TIME_WAIT incarnation's sequence space the ISS
 * of the connection that reopens it starts: an unscaled window and the SYN
 * and FIN (as Linux), so none of the old segments still about can fall in.
 */
#define TW_ISS_GAP (65535u + 2)

/*
 * Replies to unacceptable segments go at most once in OOW_REPLY_UNITS to a
 * connection (RFC 5961 7; Linux's tcp_invalid_ratelimit, 500 ms): two ends
 * that disagree over a connection (forged segments, a middlebox's rewrite)
 * otherwise ACK each other's ACKs for as long as both live, and a forger
 * gets one segment of ours for each of its. The stamp counts 8 ms units in
 * 16 bits: after 524 s without a reply, one in a thousand is held back once.
 */
#define OOW_REPLY_SHIFT 3
#define OOW_REPLY_UNITS 63	/* 504 ms */

/* Whether the reply to an unacceptable segment may go now; if so, its time is taken. */
static bool
oow_reply_may_go(struct hf_worker *w, struct hf_tcp_conn *c)
{
	uint16_t now = (uint16_t)(tcp_stack(w)->now_ms >> OOW_REPLY_SHIFT);

	if (c->oow_reply_at != 0 && (uint16_t)(now - c->oow_reply_at) < OOW_REPLY_UNITS) {
		HF_COUNT(w, TCP_OOW_REPLIES_LIMITED);
		return false;
	}
	c->oow_reply_at = now != 0 ? now : 1;
	return true;
}

/*
 * The ACK for unacceptable segment @p s (RFC 9293 3.10.7.4). A segment with
 * data or a FIN is answered each time, as Linux does: it may be a
 * retransmission that only our ACK ends; the rest within the limit above.
 */
static void
oow_ack(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	bool data = (s->len != 0 || (s->flags & TH_FIN)) && !(s->flags & TH_SYN);

	if (data || oow_reply_may_go(w, c))
		tcp_send_ack(w, c);
}

/* A challenge ACK (RFC 5961 3.2, 4.2, 5.2), within the limit above whatever the segment held. */
static void
challenge_ack(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (!oow_reply_may_go(w, c))
		return;
	HF_COUNT(w, TCP_CHALLENGE_ACKS);
	tcp_send_ack(w, c);
}

/*
 * RFC 9293 3.10.7.4, first check, with PAWS (RFC 7323 5.3) before it.
 * An unacceptable segment that is not a RST is answered with an ACK.
 */
static enum step
check_seq(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	uint32_t wnd = c->rcv_adv - c->rcv_nxt;
	uint32_t space = seg_space(s);
	bool ok;

	if ((c->flags & HF_TCP_F_TS) && s->opts.ts_present && !(s->flags & TH_RST) &&
	    (int32_t)(c->ts_recent - s->opts.ts_val) > PAWS_WINDOW &&
	    tcp_stack(w)->now_ms - c->ts_recent_ms < 24u * 24 * 3600 * 1000) {
		HF_COUNT(w, TCP_DROP_PAWS);
		oow_ack(w, c, s);
		return DONE;
	}
	if ((int32_t)wnd < 0)
		wnd = 0;
	/*
	 * A segment without data may sit at the right edge itself, where RFC
	 * 9293 stops one short (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND): a peer
	 * that filled our window numbers its ACKs there, and while we hold a hole
	 * below it, the strict rule refused every ACK it sent until the hole was
	 * filled - together with our own ACKs refused (a timeout of ours), for
	 * good. Linux (tcp_sequence()) and BSD take it; with a zero window that is
	 * SEG.SEQ = RCV.NXT, as the RFC says.
	 */
	if (space == 0)
		ok = hf_seq_between(s->seq, c->rcv_nxt, c->rcv_nxt + wnd + 1);
	else
		ok = wnd != 0 && (hf_seq_between(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
				  hf_seq_between(s->seq + space - 1, c->rcv_nxt, c->rcv_nxt + wnd));
	/* A zero window still takes the segment's ACK and any RST/FIN at rcv_nxt. */
	if (!ok && wnd == 0 && s->seq == c->rcv_nxt)
		ok = true;
	if (!ok) {
		if (!(s->flags & TH_RST)) {
			HF_COUNT(w, TCP_DROP_OUT_OF_WINDOW);
			oow_ack(w, c, s);
		} else {
			HF_COUNT(w, TCP_DROP_RST_IGNORED);
		}
		return DONE;
	}
	return NEXT;
}

/* RFC 5961 3.2: reset only on an exact match, challenge the rest of the window. */
static enum step
check_rst(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	if (!(s->flags & TH_RST))
		return NEXT;
	if (s->seq != c->rcv_nxt) {
		challenge_ack(w, c);
		return DONE;
	}
	HF_COUNT(w, TCP_CX_RESET_RX);
	if (c->state == HF_TCP_SYN_RCVD && (c->flags & HF_TCP_F_PASSIVE))
		tcp_conn_close(w, c, 0);	/* back to LISTEN: nobody above knew it */
	else
		tcp_conn_close(w, c, c->state == HF_TCP_SYN_SENT ? -ECONNREFUSED : -ECONNRESET);
	return DONE;
}

/* RFC 5961 4.2: any SYN on a synchronized connection gets a challenge ACK. */
static enum step
check_syn(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	if (!(s->flags & TH_SYN))
		return NEXT;
	HF_COUNT(w, TCP_DROP_SYN_SYNCED);
	challenge_ack(w, c);
	return DONE;
}

/* Takes a timestamp for the next PAWS check and the echo (RFC 7323 4.3). */
static void
update_ts_recent(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	if ((c->flags & HF_TCP_F_TS) && s->opts.ts_present &&
	    hf_seq_leq(s->seq, c->rcv_nxt) && hf_seq_geq(s->opts.ts_val, c->ts_recent)) {
		c->ts_recent = s->opts.ts_val;
		c->ts_recent_ms = tcp_stack(w)->now_ms;
	}
}

/* Drops @p acked bytes from the front of the send queue. */
static void
sndq_drop(struct hf_tcp_conn *c, uint32_t acked)
{
	while (acked > 0 && c->sndq_head != NULL) {
		struct rte_mbuf *m = c->sndq_head;

		/* The cursor's mbuf goes, or its first byte moves: the next send looks from the head. */
		if (m == c->tx_seg)
			c->tx_seg = NULL;
		if (m->data_len <= acked) {
			acked -= m->data_len;
			c->sndq_bytes -= m->data_len;
			c->sndq_head = m->next;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
		} else {
			/* Later clones keep their own offsets: moving ours is safe. */
			m->data_off += acked;
			m->data_len -= acked;
			c->sndq_bytes -= acked;
			acked = 0;
		}
	}
	if (c->sndq_head == NULL)
		c->sndq_tail = NULL;
}

static void
rtt_sample(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint32_t rtt_ms;

	if ((c->flags & HF_TCP_F_TS) && s->opts.ts_present && s->opts.ts_ecr != 0) {
		rtt_ms = st->now_ms - s->opts.ts_ecr;
	} else if ((c->flags & HF_TCP_F_RTT_TIMING) && hf_seq_gt(s->ack, c->rtt_seq)) {
		/* Karn: rtt_seq timing is cancelled when that segment is retransmitted. */
		rtt_ms = st->now_ms - c->rtt_start_ms;
		c->flags &= ~HF_TCP_F_RTT_TIMING;
	} else {
		return;
	}
	if ((int32_t)rtt_ms < 0)
		return;
	hf_tcp_rto_sample(&c->rto, (uint64_t)rtt_ms * 1000);
}

/* Three duplicate ACKs, or SACK evidence of loss (RFC 6675 5): enter fast recovery. */
static void
on_dupack(struct hf_worker *w, struct hf_tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una, oseg, thresh, sacked_segs;
	bool unsent;

	if (c->flags & HF_TCP_F_RECOVERY) {
		/* NewReno inflation; with SACK the scoreboard drives what is sent. */
		if (!(c->flags & HF_TCP_F_SACK))
			c->cc.cwnd += c->mss;
		tcp_pending(w, c);
		return;
	}
	/*
	 * RFC 5827 early retransmit: with fewer than four segments out and
	 * nothing new to send, one duplicate ACK fewer than segments out is
	 * enough, since no more can come.
	 */
	oseg = (flight + c->mss - 1) / c->mss;
	unsent = hf_seq_gt(c->snd_una + c->sndq_bytes, c->snd_nxt);
	thresh = oseg < 4 && !unsent ? RTE_MAX(oseg - 1, 1u) : 3;
	sacked_segs = hf_tcp_sack_bytes(&c->sack) / c->mss;
	if (++c->dupacks < thresh && sacked_segs < thresh &&
	    !((c->flags & HF_TCP_F_SACK) && hf_tcp_sack_is_lost(&c->sack, c->snd_una, c->mss)))
		return;
	/*
	 * RFC 6582 3.2 step 2: after a timeout, no new recovery until recover is
	 * acknowledged. With SACK the scoreboard already tells new losses apart.
	 */
	if (!(c->flags & HF_TCP_F_SACK) && hf_seq_lt(c->snd_una, c->recover))
		return;
	c->recover = c->snd_max;
	c->rexmit_nxt = c->snd_una;
	c->flags |= HF_TCP_F_RECOVERY;
	hf_tcp_cc_on_enter_recovery(&c->cc, flight, (uint64_t)tcp_stack(w)->now_ms * 1000);
	HF_COUNT(w, TCP_FAST_RETRANSMITS);
	tcp_retransmit_head(w, c);
	if (!(c->flags & HF_TCP_F_SACK))
		c->cc.cwnd = c->cc.ssthresh + 3 * c->mss;
	tcp_pending(w, c);
}

/*
 * The ACK step of 3.10.7.4, its acceptability half, before the segment may
 * change any state (TS.Recent included: RFC 7323 4.3 takes it only from a
 * segment that is processed). RFC 5961 5.2 (RFC 9293 3.10.7.4, MAY-12): an
 * ACK is acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT] (our snd_max is
 * the RFC's SND.NXT: snd_nxt steps back to retransmit). Anything else is
 * discarded whole, data included, and answered with an ACK: a blind attacker
 * who got a sequence number into our window must also guess an ACK within
 * MAX.SND.WND of the truth to inject data.
 */
static enum step
check_ack(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	if (!(s->flags & TH_ACK)) {
		HF_COUNT(w, TCP_DROP_NO_ACK);
		return DONE;
	}
	if (hf_seq_gt(s->ack, c->snd_max)) {
		/* Acknowledges something never sent. */
		HF_COUNT(w, TCP_DROP_ACK_UNSENT);
		oow_ack(w, c, s);
		return DONE;
	}
	if (!hf_seq_geq(s->ack, c->snd_una - c->max_snd_wnd)) {
		HF_COUNT(w, TCP_DROP_ACK_TOO_OLD);
		challenge_ack(w, c);
		return DONE;
	}
	return NEXT;
}

/*
 * The rest of the ACK step for the synchronized states, on an acceptable ACK
 * (check_ack). Returns DONE when the connection went away or the segment
 * must not be processed further.
 */
static enum step
process_ack(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint32_t acked, wnd, sacked_before;
	bool advanced = hf_seq_gt(s->ack, c->snd_una);

	sacked_before = hf_tcp_sack_bytes(&c->sack);
	if ((c->flags & HF_TCP_F_SACK) && s->opts.sack_blocks > 0)
		hf_tcp_sack_update(&c->sack, c->snd_una, c->snd_max, s->opts.sack, s->opts.sack_blocks);

	wnd = s->wnd << c->snd_wscale;
	if (advanced) {
		acked = s->ack - c->snd_una;
		rtt_sample(w, c, s);
		/* Our FIN occupies the last sequence number once sent. */
		if ((c->flags & HF_TCP_F_FIN_SENT) && s->ack == c->snd_max)
			sndq_drop(c, acked - 1);
		else
			sndq_drop(c, acked);
		c->snd_una = s->ack;
		if (hf_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		/* An empty scoreboard (no SACK, or none lost: most ACKs) has nothing below snd_una. */
		if (c->sack.n > 0)
			hf_tcp_sack_ack(&c->sack, c->snd_una);
		c->rto_backoff = 0;
		c->flags &= ~HF_TCP_F_TLP_SENT;
		if (c->flags & HF_TCP_F_RECOVERY) {
			if (hf_seq_geq(s->ack, c->recover)) {
				/* Full acknowledgment (RFC 6582 3.2 step 3). */
				c->flags &= ~HF_TCP_F_RECOVERY;
				hf_tcp_cc_on_exit_recovery(&c->cc);
			} else {
				/* Partial: the next hole is lost too; resend it now. */
				tcp_retransmit_head(w, c);
			}
		} else {
			hf_tcp_cc_on_ack(&c->cc, acked, (uint64_t)st->now_ms * 1000,
					 hf_tcp_rto_srtt_us(&c->rto), c->snd_max - c->snd_una);
		}
		c->dupacks = 0;
		tcp_rtx_timer_update(w, c, true);
		/*
		 * The window slid: more may be sent. With nothing to send (a
		 * keep-alive connection's requests and responses ACK each other)
		 * the flush would find only the timer just updated above.
		 */
		if (tcp_output_due(c))
			tcp_pending(w, c);
		if ((c->flags & HF_TCP_F_NOT_WRITABLE) && c->sndq_bytes < st->cfg.snd_low) {
			c->flags &= ~HF_TCP_F_NOT_WRITABLE;
			if (c->ops != NULL && c->ops->writable != NULL)
				c->ops->writable(w, c);
			if (c->state == HF_TCP_CLOSED)
				return DONE;
		}
	} else if (s->ack == c->snd_una && c->snd_max != c->snd_una &&
		   ((s->len == 0 && !(s->flags & (TH_SYN | TH_FIN)) && wnd == c->snd_wnd) ||
		    hf_tcp_sack_bytes(&c->sack) > sacked_before)) {
		/*
		 * RFC 5681 2: a duplicate ACK; or, with SACK, any ACK that reports
		 * newly SACKed data (RFC 6675 2), which also counts when it carries
		 * data of its own, as every ACK of a two-way stream does.
		 */
		on_dupack(w, c);
	}

	/*
	 * Window update (3.10.7.4): only when SND.UNA =< SEG.ACK =< SND.NXT (snd_una
	 * has moved to an ACK that advanced it, so the test below reads the old
	 * one), and then only from a newer segment, or the same with a newer ACK
	 * (SND.WL1, SND.WL2), or one whose ACK advanced SND.UNA (Linux's
	 * tcp_may_update_window()): a retransmission carries an older sequence
	 * number than the peer's ACKs sent since (numbered at its SND.NXT), and
	 * its window is as new as its ACK. Kept, the old window would stand on the
	 * new SND.UNA, an edge further than the peer offers: we would send past
	 * it, and our ACKs, numbered there, would be refused. An old ACK (still
	 * inside MAX.SND.WND, so accepted above) never moves the window, whatever
	 * its sequence number: else an in-window segment with a stale or guessed
	 * ACK could close it, or open it past what the peer offers.
	 */
	if (hf_seq_geq(s->ack, c->snd_una) &&
	    (advanced || hf_seq_lt(c->snd_wl1, s->seq) ||
	     (c->snd_wl1 == s->seq && hf_seq_leq(c->snd_wl2, s->ack)))) {
		if (wnd > c->snd_wnd && tcp_output_due(c))
			tcp_pending(w, c);	/* a window opened: maybe more to send */
		c->snd_wnd = wnd;
		c->max_snd_wnd = RTE_MAX(c->max_snd_wnd, wnd);
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}

	/* Our FIN acknowledged? */
	if ((c->flags & HF_TCP_F_FIN_SENT) && c->snd_una == c->snd_max) {
		switch (c->state) {
		case HF_TCP_FIN_WAIT_1:
			c->state = HF_TCP_FIN_WAIT_2;
			/*
			 * Bound an orphan FIN_WAIT_2 the way Linux's tcp_fin_timeout does;
			 * unless this very segment is the peer's FIN in sequence with no
			 * data, which process_fin() takes below, moving on to TIME_WAIT.
			 */
			if (s->len != 0 || !(s->flags & TH_FIN) || s->seq != c->rcv_nxt)
				tcp_timer_arm(w, &c->life_timer, st->cfg.fin_wait_2_ms);
			break;
		case HF_TCP_CLOSING:
			tcp_enter_time_wait(w, c);
			return DONE;
		case HF_TCP_LAST_ACK:
			tcp_conn_close(w, c, 0);
			return DONE;
		default:
			break;
		}
	}
	return NEXT;
}

/* The FIN step: consumed only in sequence (possibly after out-of-order data filled in). */
static void
process_fin(struct hf_worker *w, struct hf_tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= HF_TCP_F_FIN_RCVD | HF_TCP_F_ACK_NOW;
	c->flags &= ~HF_TCP_F_OOO_FIN;
	/* Nothing lies beyond the FIN: out-of-order data held past it can never be delivered
	 * (Linux's tcp_fin purges it too). */
	if (c->ooo.head != NULL)
		tcp_ooo_free(w, c);
	tcp_pending(w, c);
	switch (c->state) {
	case HF_TCP_SYN_RCVD:
	case HF_TCP_ESTABLISHED:
		c->state = HF_TCP_CLOSE_WAIT;
		break;
	case HF_TCP_FIN_WAIT_1:
		/* Our FIN not yet acknowledged (else we would be in FIN_WAIT_2). */
		c->state = HF_TCP_CLOSING;
		break;
	case HF_TCP_FIN_WAIT_2:
		tcp_timer_stop(w, &c->life_timer);
		/* Tell the application of the EOF before the TCB leaves it. */
		if (c->ops != NULL && c->ops->readable != NULL)
			c->ops->readable(w, c);
		if (c->state == HF_TCP_FIN_WAIT_2)
			tcp_enter_time_wait(w, c);
		return;
	default:
		return;
	}
	if (c->ops != NULL && c->ops->readable != NULL)
		c->ops->readable(w, c);
}

/*
 * Data and FIN for ESTABLISHED, FIN_WAIT_1 and FIN_WAIT_2. Takes ownership of
 * @p m (payload-only after hf_tcp_input adjusted it).
 */
static void
process_data(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
	     const struct hf_tcp_seg *s)
{
	uint32_t before = c->rcv_nxt;
	bool fin = s->flags & TH_FIN;

	if (s->len > 0) {
		tcp_rcv_data(w, c, m, s);	/* consumes m */
		if (unlikely(tcp_rx_abusive(c))) {
			/* Past its budget again and again, never filling its hole (tcp-int.h). */
			HF_COUNT(w, TCP_CX_RESET_RX_ABUSE);
			tcp_send_segment(w, c, tcp_acceptable_seq(c), 0, TH_RST | TH_ACK);
			tcp_conn_close(w, c, -ECONNRESET);
			return;
		}
	} else {
		rte_pktmbuf_free(m);
	}
	if (fin) {
		uint32_t fin_seq = s->seq + s->len;

		if (fin_seq == c->rcv_nxt) {
			process_fin(w, c);
			return;
		}
		if (hf_seq_gt(fin_seq, c->rcv_nxt)) {
			c->ooo_fin = fin_seq;
			c->flags |= HF_TCP_F_OOO_FIN;
		}
	}
	if ((c->flags & HF_TCP_F_OOO_FIN) && c->ooo_fin == c->rcv_nxt) {
		process_fin(w, c);
		return;
	}
	if (c->rcv_nxt != before && c->ops != NULL && c->ops->readable != NULL)
		c->ops->readable(w, c);
}

/* Handlers for the states that share the whole of 3.10.7.4. */
static void
synchronized_input(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
		   const struct hf_tcp_seg *s)
{
	if (check_seq(w, c, s) == DONE || check_rst(w, c, s) == DONE ||
	    check_syn(w, c, s) == DONE || check_ack(w, c, s) == DONE)
		goto drop;
	update_ts_recent(w, c, s);
	if (process_ack(w, c, s) == DONE)
		goto drop;
	switch (c->state) {
	case HF_TCP_ESTABLISHED:
	case HF_TCP_FIN_WAIT_1:
	case HF_TCP_FIN_WAIT_2:
		if (s->len > 0 && (c->flags & HF_TCP_F_FIN_RCVD))
			goto drop;
		process_data(w, c, m, s);
		return;
	case HF_TCP_CLOSE_WAIT:
	case HF_TCP_CLOSING:
	case HF_TCP_LAST_ACK:
		/* The peer's FIN is in: anything new from it is a protocol error; re-ACK a FIN. */
		if (s->flags & TH_FIN) {
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
		}
		break;
	default:
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

static void
established_input(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
		  const struct hf_tcp_seg *s)
{
	synchronized_input(w, c, m, s);
}

/* SYN_RCVD: the handshake's last ACK makes the connection (3.10.7.4, fifth check). */
static void
syn_rcvd_input(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
	       const struct hf_tcp_seg *s)
{
	if (check_seq(w, c, s) == DONE || check_rst(w, c, s) == DONE)
		goto drop;
	if (s->flags & TH_SYN) {
		/* A retransmitted SYN of this very handshake: answer with the SYN-ACK again. */
		if (s->seq + 1 == c->rcv_nxt && !(s->flags & TH_ACK)) {
			tcp_send_syn(w, c);
			goto drop;
		}
		check_syn(w, c, s);
		goto drop;
	}
	if (!(s->flags & TH_ACK)) {
		HF_COUNT(w, TCP_DROP_NO_ACK);
		goto drop;
	}
	if (!hf_seq_gt(s->ack, c->snd_una) || hf_seq_gt(s->ack, c->snd_max)) {
		HF_COUNT(w, TCP_DROP_BAD_ACK);
		tcp_send_rst_for(w, c, s);
		goto drop;
	}
	update_ts_recent(w, c, s);
	c->snd_wnd = s->wnd << c->snd_wscale;
	c->max_snd_wnd = RTE_MAX(c->max_snd_wnd, c->snd_wnd);
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	tcp_established(w, c);
	if (c->state != HF_TCP_ESTABLISHED)
		goto drop;
	synchronized_input(w, c, m, s);
	return;
drop:
	rte_pktmbuf_free(m);
}

static void take_syn_options(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s);

/* SYN_SENT (3.10.7.3): our SYN is out; a SYN-ACK, a RST or a crossing SYN arrives. */
static void
syn_sent_input(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
	       const struct hf_tcp_seg *s)
{
	bool ack_ok = false;

	if (s->flags & TH_ACK) {
		if (!hf_seq_gt(s->ack, c->iss) || hf_seq_gt(s->ack, c->snd_max)) {
			if (!(s->flags & TH_RST)) {
				HF_COUNT(w, TCP_DROP_BAD_ACK);
				tcp_send_rst_for(w, c, s);
			}
			goto drop;
		}
		ack_ok = true;
	}
	if (s->flags & TH_RST) {
		/* RFC 5961 3.2 for SYN-SENT: only an RST acknowledging our SYN counts. */
		if (ack_ok) {
			HF_COUNT(w, TCP_CX_RESET_RX);
			tcp_conn_close(w, c, -ECONNREFUSED);
		}
		goto drop;
	}
	if (!(s->flags & TH_SYN))
		goto drop;

	take_syn_options(w, c, s);
	c->rcv_adv = c->rcv_nxt + tcp_rcv_window(c);
	c->snd_wl2 = s->ack;
	if (ack_ok) {
		if ((c->flags & HF_TCP_F_TS) && s->opts.ts_ecr != 0)
			hf_tcp_rto_sample(&c->rto,
					  (uint64_t)(tcp_stack(w)->now_ms - s->opts.ts_ecr) * 1000);
		c->snd_una = s->ack;
		c->flags |= HF_TCP_F_ACK_NOW;
		tcp_pending(w, c);
		tcp_established(w, c);
	} else {
		/* Simultaneous open (3.10.7.3, fourth step): SYN_RCVD, SYN-ACK with our ISS. */
		c->state = HF_TCP_SYN_RCVD;
		tcp_send_syn(w, c);
	}
drop:
	rte_pktmbuf_free(m);
}

/*
 * TIME_WAIT: a retransmitted FIN is acknowledged and restarts 2 MSL; a new SYN
 * with a higher sequence number (or newer timestamp) may reuse the 4-tuple
 * (RFC 6191), which the caller handles by closing this TCB first.
 */
static void
time_wait_input(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
		const struct hf_tcp_seg *s)
{
	if (s->flags & TH_RST) {
		/* RFC 1337: ignore RSTs in TIME_WAIT (TIME-WAIT assassination). */
		HF_COUNT(w, TCP_DROP_RST_IGNORED);
		goto drop;
	}
	if (check_seq(w, c, s) == DONE)
		goto drop;
	if (s->flags & TH_SYN) {
		check_syn(w, c, s);
		goto drop;
	}
	if (s->flags & TH_FIN) {
		c->flags |= HF_TCP_F_ACK_NOW;
		tcp_pending(w, c);
		tcp_timer_arm(w, &c->life_timer, tcp_stack(w)->cfg.time_wait_ms);
	}
drop:
	rte_pktmbuf_free(m);
}

typedef void (*state_input_fn)(struct hf_worker *, struct hf_tcp_conn *, struct rte_mbuf *,
			       const struct hf_tcp_seg *);

static const state_input_fn state_input[HF_TCP__STATES] = {
	[HF_TCP_SYN_SENT] = syn_sent_input,
	[HF_TCP_SYN_RCVD] = syn_rcvd_input,
	[HF_TCP_ESTABLISHED] = established_input,
	[HF_TCP_FIN_WAIT_1] = synchronized_input,
	[HF_TCP_FIN_WAIT_2] = synchronized_input,
	[HF_TCP_CLOSE_WAIT] = synchronized_input,
	[HF_TCP_CLOSING] = synchronized_input,
	[HF_TCP_LAST_ACK] = synchronized_input,
	[HF_TCP_TIME_WAIT] = time_wait_input,
};

static struct hf_tcp_listener *
find_listener(struct hf_tcp_stack *st, uint16_t lport)
{
	for (uint32_t i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].lport == lport)
			return &st->listeners[i];
	return NULL;
}

/*
 * Creates the TCB of a passive open from a SYN or a valid cookie. With none
 * left, refuses the segment in @p m with a RST (counted, m consumed) and
 * returns NULL.
 */
static struct hf_tcp_conn *
passive_conn(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
	     const struct rte_ipv4_hdr *ih, const struct rte_tcp_hdr *th, struct hf_tcp_listener *l,
	     const struct hf_tcp_seg *s)
{
	struct hf_tcp_conn *c = tcp_conn_alloc(w, p->index, ih->dst_addr, th->dst_port,
					       ih->src_addr, th->src_port);

	if (c == NULL) {
		HF_COUNT(w, TCP_DROP_NO_TCB);
		tcp_reply_rst(w, p, m, s);
		return NULL;
	}
	/*
	 * The application learns of the connection with accepted() once it is
	 * established; until then its ctx is the listener's, so a SYN-RECEIVED
	 * connection that is reset or times out must not be reported closed().
	 */
	c->flags |= HF_TCP_F_PASSIVE | HF_TCP_F_APP_CLOSED;
	c->listener = (uint16_t)(l - tcp_stack(w)->listeners);
	c->ops = l->ops;
	c->ctx = l->ctx;
	return c;
}

/* Negotiates options from the peer's SYN into @p c (RFC 7323, RFC 2018). */
static void
take_syn_options(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	tcp_conn_set_mss(w, c, &s->opts);
	if (s->opts.ts_present) {
		c->ts_recent = s->opts.ts_val;
		c->ts_recent_ms = tcp_stack(w)->now_ms;
	} else {
		c->flags &= ~HF_TCP_F_TS;
	}
	if (!s->opts.sack_permitted)
		c->flags &= ~HF_TCP_F_SACK;
	if (s->opts.ws_present) {
		c->snd_wscale = s->opts.ws_shift;
	} else {
		c->flags &= ~HF_TCP_F_WS;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->snd_wnd = s->wnd;	/* never scaled in a SYN (RFC 7323 2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
}

/*
 * A SYN for a listener (3.10.7.2). Below the backlog a TCB is made; above it
 * the SYN-ACK carries a SYN cookie and nothing is kept (RFC 4987 3.6).
 * @p iss_floor, when not NULL, is where the sequence space of a TIME_WAIT
 * incarnation this SYN reopens ended: the new ISS goes above it (RFC 9293
 * 3.6.1). A cookie cannot, and is sent as it is (as Linux does).
 */
static void
listen_syn(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
	   const struct rte_ipv4_hdr *ih, const struct rte_tcp_hdr *th, struct hf_tcp_listener *l,
	   const struct hf_tcp_seg *s, const uint32_t *iss_floor)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	struct hf_tcp_conn *c;

	if (unlikely(hf_overload_act(&w->ovl, HF_OVA_REFUSE_CONNECTIONS))) {
		/* Past saturation a new connection is refused at once rather than left to time out. */
		HF_COUNT(w, OVERLOAD_CX_REFUSED);
		tcp_reply_rst(w, p, m, s);
		return;
	}
	if (l->synrcvd >= st->cfg.syn_backlog) {
		st->cookies_active = true;
		st->cookies_until = st->now_tick + 2 * HF_SYNCOOKIE_PERIOD_MS;
		hf_tcp_send_syncookie(w, p, m, s);	/* consumes m */
		return;
	}
	c = passive_conn(w, p, m, ih, th, l, s);
	if (c == NULL)
		return;
	take_syn_options(w, c, s);
	c->state = HF_TCP_SYN_RCVD;
	l->synrcvd++;
	c->iss = tcp_isn(w, c);
	if (iss_floor != NULL && hf_seq_lt(c->iss, *iss_floor))
		c->iss = *iss_floor;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->snd_max = c->iss;
	c->recover = c->iss;
	c->rcv_adv = c->rcv_nxt + tcp_rcv_window(c);
	tcp_send_syn(w, c);
	rte_pktmbuf_free(m);
}

/*
 * No connection matched: a listener, a SYN cookie, or a RST (3.10.7.1).
 * @p iss_floor: see listen_syn(); NULL unless a TIME_WAIT TCB just made way.
 */
static void
no_conn(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ih, const struct rte_tcp_hdr *th, const struct hf_tcp_seg *s,
	const uint32_t *iss_floor)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	struct hf_tcp_listener *l = find_listener(st, th->dst_port);
	struct hf_tcp_conn *c;
	uint16_t mss;

	if (s->flags & TH_RST) {
		rte_pktmbuf_free(m);	/* never answer a RST */
		return;
	}
	if (l == NULL) {
		HF_COUNT(w, TCP_DROP_NO_LISTENER);
		tcp_reply_rst(w, p, m, s);
		return;
	}
	if ((s->flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		listen_syn(w, p, m, ih, th, l, s, iss_floor);
		return;
	}
	if ((s->flags & (TH_SYN | TH_ACK)) != TH_ACK) {
		HF_COUNT(w, TCP_DROP_NO_LISTENER);
		tcp_reply_rst(w, p, m, s);
		return;
	}
	/* A bare ACK to a listener: the third step of a handshake we answered with a cookie? */
	if (!st->cookies_active) {
		HF_COUNT(w, TCP_DROP_NO_CONN);
		tcp_reply_rst(w, p, m, s);
		return;
	}
	if (hf_tcp_syncookie_check(st->secret, ih->src_addr, ih->dst_addr, th->src_port,
				   th->dst_port, s->seq - 1, s->ack - 1, st->now_ms, &mss) != 0) {
		HF_COUNT(w, TCP_DROP_BAD_COOKIE);
		tcp_reply_rst(w, p, m, s);
		return;
	}
	c = passive_conn(w, p, m, ih, th, l, s);
	if (c == NULL)
		return;
	HF_COUNT(w, TCP_SYNCOOKIES_OK);
	rte_pktmbuf_adj(m, (uint16_t)(tcp_l4_off(m) + ((th->data_off >> 4) * 4)));
	/* The cookie kept the MSS only: no window scaling, SACK or timestamps (RFC 4987 3.6). */
	c->flags &= ~(HF_TCP_F_TS | HF_TCP_F_SACK | HF_TCP_F_WS);
	c->snd_wscale = 0;
	c->rcv_wscale = 0;
	c->mss = mss;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->iss = s->ack - 1;
	c->snd_una = s->ack;
	c->snd_nxt = s->ack;
	c->snd_max = s->ack;
	c->recover = c->iss;
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->rcv_adv = c->rcv_nxt + tcp_rcv_window(c);
	c->state = HF_TCP_SYN_RCVD;
	l->synrcvd++;
	tcp_established(w, c);
	if (c->state != HF_TCP_ESTABLISHED) {
		rte_pktmbuf_free(m);
		return;
	}
	synchronized_input(w, c, m, s);
}

/*
 * Whether SYN @p s may reopen TIME_WAIT connection @p c (RFC 6191 2). When
 * both incarnations carry timestamps the timestamp decides: a newer one, or
 * an equal one with a higher sequence number; an older one is a duplicate of
 * the past even with a higher sequence number. Without timestamps the
 * sequence number must be past the old incarnation's (RFC 1122 4.2.2.13).
 */
static bool
time_wait_reopens(const struct hf_tcp_conn *c, const struct hf_tcp_seg *s)
{
	if ((c->flags & HF_TCP_F_TS) && s->opts.ts_present)
		return hf_seq_gt(s->opts.ts_val, c->ts_recent) ||
		       (s->opts.ts_val == c->ts_recent && hf_seq_gt(s->seq, c->rcv_nxt));
	return hf_seq_gt(s->seq, c->rcv_nxt);
}

void
hf_tcp_input(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	const uint32_t off = tcp_l4_off(m);
	const uint32_t len = rte_pktmbuf_pkt_len(m) - off;
	struct rte_ipv4_hdr *ih;
	struct rte_tcp_hdr *th;
	struct hf_tcp_conn *c;
	struct hf_tcp_seg s;
	uint32_t doff, iss_floor;

	HF_COUNT(w, TCP_RX_SEGMENTS);
	if (unlikely(len < sizeof(*th) || rte_pktmbuf_data_len(m) < off + sizeof(*th))) {
		HF_COUNT(w, TCP_DROP_TRUNCATED);
		goto drop;
	}
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, off);
	doff = (uint32_t)(th->data_off >> 4) * 4;
	if (unlikely(doff < sizeof(*th) || doff > len || off + doff > rte_pktmbuf_data_len(m))) {
		HF_COUNT(w, TCP_DROP_OFFSET);
		goto drop;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    unlikely((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		     !hf_cksum_l4_ipv4_ok(m, ih, off))) {
		HF_COUNT(w, TCP_DROP_CHECKSUM);
		goto drop;
	}
	s.flags = th->tcp_flags & (TH_FIN | TH_SYN | TH_RST | TH_PSH | TH_ACK | RTE_TCP_URG_FLAG);
	if (unlikely(((s.flags & TH_SYN) && (s.flags & (TH_FIN | TH_RST))) ||
		     !(s.flags & (TH_SYN | TH_RST | TH_ACK | TH_FIN)))) {
		HF_COUNT(w, TCP_DROP_FLAGS);
		goto drop;
	}
	if (unlikely(hf_tcp_opts_parse((const uint8_t *)(th + 1), doff - sizeof(*th), &s.opts) != 0)) {
		HF_COUNT(w, TCP_DROP_OPTIONS);
		goto drop;
	}
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.wnd = rte_be_to_cpu_16(th->rx_win);
	s.len = len - doff;

	c = tcp_conn_lookup(w, ih->dst_addr, th->dst_port, ih->src_addr, th->src_port);
	if (c != NULL && c->state == HF_TCP_TIME_WAIT && (s.flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	    time_wait_reopens(c, &s) && find_listener(st, th->dst_port) != NULL) {
		/* RFC 6191: it takes over; RFC 9293 3.6.1 (1): its ISS above all the old one sent. */
		iss_floor = c->snd_max + TW_ISS_GAP;
		HF_COUNT(w, TCP_CX_TW_RECYCLED);
		tcp_conn_close(w, c, 0);
		no_conn(w, p, m, ih, th, &s, &iss_floor);
		return;
	}
	if (c == NULL) {
		no_conn(w, p, m, ih, th, &s, NULL);
		return;
	}
	/* From here on the mbuf is payload only: headers are decoded into s. */
	rte_pktmbuf_adj(m, (uint16_t)(off + doff));
	state_input[c->state](w, c, m, &s);
	return;
drop:
	rte_pktmbuf_free(m);
}

void
hf_tcp_icmp_error(struct hf_worker *w, uint8_t type, uint8_t code, uint16_t mtu,
		  const uint8_t *quote, uint32_t len)
{
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)quote;
	uint32_t ihl = (uint32_t)(ih->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	const struct rte_tcp_hdr *th;
	struct hf_tcp_conn *c;
	uint32_t seq;

	/* The quote holds at least the first 8 bytes of our TCP header: ports and sequence. */
	if (ihl < sizeof(*ih) || len < ihl + 8) {
		HF_COUNT(w, TCP_DROP_ICMP);
		return;
	}
	th = (const struct rte_tcp_hdr *)(quote + ihl);
	c = tcp_conn_lookup(w, ih->src_addr, th->src_port, ih->dst_addr, th->dst_port);
	seq = rte_be_to_cpu_32(th->sent_seq);
	/* RFC 5927 4.1: only a sequence number we have in flight makes it credible. */
	if (c == NULL || c->state == HF_TCP_TIME_WAIT || !hf_seq_geq(seq, c->snd_una) ||
	    !hf_seq_lt(seq, c->snd_max)) {
		HF_COUNT(w, TCP_DROP_ICMP);
		return;
	}
	if (type == 3 && code == 4) {
		/* RFC 1191 path MTU: the segment must fit the next hop's MTU. */
		uint32_t opt = (c->flags & HF_TCP_F_TS) ? 12 : 0;

		if (mtu >= 68 + 40 && mtu - 40 - opt < c->mss) {
			c->mss = (uint16_t)(mtu - 40 - opt);
			c->cc.smss = c->mss;
			HF_COUNT(w, TCP_ICMP_PMTU);
			/* What was lost for being too big goes again, cut to the new size. */
			c->snd_nxt = c->snd_una;
			tcp_pending(w, c);
		} else {
			HF_COUNT(w, TCP_ICMP_SOFT);
		}
		return;
	}
	if (type == 3 && (code == 2 || code == 3) && c->state == HF_TCP_SYN_SENT) {
		HF_COUNT(w, TCP_ICMP_REFUSED);
		HF_COUNT(w, TCP_CX_CONNECT_FAIL);
		tcp_conn_close(w, c, -ECONNREFUSED);
		return;
	}
	/* Soft errors: the retransmission timer decides (RFC 1122 4.2.3.9, RFC 5927 4.1). */
	HF_COUNT(w, TCP_ICMP_SOFT);
}
