/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receive side: in-order payload goes to the connection's receive queue
 * as it arrived (zero copy); out-of-order segments wait in a list sorted by
 * sequence number. Overlaps are resolved by trimming the newcomer against
 * what is already held — bytes at one sequence number are the same bytes
 * (RFC 9293 3.10.7.4, seventh step), so which copy is kept cannot change the
 * stream, and nothing is ever written into a payload.
 *
 * Receive-queue entries are payload mbufs linked through m->next; only
 * per-segment data_len counts there. Out-of-order entries are single-segment
 * mbufs carrying their sequence number in m->hash.usr.
 */
#include <rte_mbuf.h>

#include "dataplane/tcp/tcp-int.h"

static inline uint32_t
oseq(const struct rte_mbuf *m)
{
	return m->hash.usr;
}

/* Drops the first @p n bytes of chain @p m; returns the new head (NULL if nothing is left). */
static struct rte_mbuf *
trim_front(struct rte_mbuf *m, uint32_t n)
{
	while (m != NULL && n >= m->data_len) {
		struct rte_mbuf *next = m->next;

		n -= m->data_len;
		if (next != NULL) {
			next->nb_segs = (uint16_t)(m->nb_segs - 1);
			next->pkt_len = m->pkt_len - m->data_len;
		}
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	if (m != NULL && n > 0) {
		m->data_off = (uint16_t)(m->data_off + n);
		m->data_len = (uint16_t)(m->data_len - n);
		m->pkt_len -= n;
	}
	return m;
}

/* Keeps the first @p keep bytes of chain @p m (keep > 0). */
static void
trim_back(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *seg = m;
	uint32_t left = keep;
	uint16_t nb = 1;

	while (left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		nb++;
	}
	seg->data_len = (uint16_t)left;
	rte_pktmbuf_free(seg->next);
	seg->next = NULL;
	m->nb_segs = nb;
	m->pkt_len = keep;
}

static void
mq_append(struct hf_tcp_mq *q, struct rte_mbuf *m, uint32_t len)
{
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = rte_pktmbuf_lastseg(m);
	q->bytes += len;
}

void
tcp_mq_free(struct hf_tcp_mq *q)
{
	rte_pktmbuf_free(q->head);
	q->head = NULL;
	q->tail = NULL;
	q->bytes = 0;
}

/* Moves out-of-order segments that became contiguous into the receive queue. */
static void
ooo_drain(struct hf_worker *w, struct hf_tcp_conn *c)
{
	while (c->ooo.head != NULL && hf_seq_leq(oseq(c->ooo.head), c->rcv_nxt)) {
		struct rte_mbuf *o = c->ooo.head;
		uint32_t end = oseq(o) + o->data_len;

		c->ooo.head = o->next;
		if (c->ooo.head == NULL)
			c->ooo.tail = NULL;
		o->next = NULL;
		c->ooo.bytes -= o->data_len;
		if (hf_seq_leq(end, c->rcv_nxt)) {
			HF_COUNT_N(w, TCP_DUP_BYTES, o->data_len);
			rte_pktmbuf_free(o);
			continue;
		}
		o = trim_front(o, c->rcv_nxt - oseq(o));
		mq_append(&c->rcvq, o, end - c->rcv_nxt);
		HF_COUNT_N(w, TCP_RX_BYTES, end - c->rcv_nxt);
		c->rcv_nxt = end;
	}
}

/*
 * Inserts the single-segment @p m covering [s, s + len) into the sorted
 * out-of-order list. Held segments wholly inside the newcomer are replaced by
 * it; otherwise the newcomer is trimmed to the gap it fills.
 */
static void
ooo_insert(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m, uint32_t s,
	   uint32_t len)
{
	struct rte_mbuf **link = &c->ooo.head;
	uint32_t e = s + len;

	while (*link != NULL) {
		struct rte_mbuf *cur = *link;
		uint32_t cs = oseq(cur), ce = cs + cur->data_len;

		if (hf_seq_leq(ce, s)) {		/* wholly before: keep walking */
			link = &cur->next;
			continue;
		}
		if (hf_seq_geq(cs, e))			/* wholly after: insert here */
			break;
		if (hf_seq_leq(cs, s) && hf_seq_geq(ce, e)) {	/* we bring nothing new */
			HF_COUNT_N(w, TCP_DUP_BYTES, len);
			rte_pktmbuf_free(m);
			return;
		}
		if (hf_seq_geq(cs, s) && hf_seq_leq(ce, e)) {	/* it is inside us: replace it */
			*link = cur->next;
			cur->next = NULL;
			c->ooo.bytes -= cur->data_len;
			HF_COUNT_N(w, TCP_DUP_BYTES, cur->data_len);
			rte_pktmbuf_free(cur);
			continue;
		}
		if (hf_seq_lt(cs, s)) {			/* it covers our front: trim ours */
			HF_COUNT_N(w, TCP_DUP_BYTES, ce - s);
			m = trim_front(m, ce - s);
			len -= ce - s;
			s = ce;
			link = &cur->next;
			continue;
		}
		/* It covers our tail: keep our part before it. */
		HF_COUNT_N(w, TCP_DUP_BYTES, e - cs);
		len = cs - s;
		trim_back(m, len);
		e = cs;
		break;
	}
	m->hash.usr = s;
	m->next = *link;
	*link = m;
	if (m->next == NULL)
		c->ooo.tail = m;
	c->ooo.bytes += len;
	HF_COUNT(w, TCP_OOO_SEGMENTS);
}

void
tcp_rcv_data(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m,
	     const struct hf_tcp_seg *seg)
{
	uint32_t s = seg->seq, len = seg->len;
	bool had_ooo = c->ooo.head != NULL;

	if (hf_seq_lt(s, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - s;

		if (d >= len) {
			/* Entirely old: the peer missed our ACK; repeat it (RFC 5681 4.2). */
			HF_COUNT_N(w, TCP_DUP_BYTES, len);
			rte_pktmbuf_free(m);
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
			return;
		}
		HF_COUNT_N(w, TCP_DUP_BYTES, d);
		m = trim_front(m, d);
		s = c->rcv_nxt;
		len -= d;
	}
	/* Never keep bytes beyond the window we advertised. */
	if (hf_seq_gt(s + len, c->rcv_adv)) {
		uint32_t cut = s + len - c->rcv_adv;

		if (cut >= len) {
			HF_COUNT(w, TCP_DROP_OOO_FULL);
			rte_pktmbuf_free(m);
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
			return;
		}
		trim_back(m, len - cut);
		len -= cut;
	}

	if (s == c->rcv_nxt) {
		mq_append(&c->rcvq, m, len);
		c->rcv_nxt += len;
		HF_COUNT_N(w, TCP_RX_BYTES, len);
		ooo_drain(w, c);
		/* RFC 5681 4.2: ACK at least every second full segment, at once when a hole filled. */
		if (had_ooo || ++c->segs_unacked >= 2) {
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
		} else if (!hf_timer_pending(&c->ack_timer)) {
			tcp_timer_arm(w, &c->ack_timer, tcp_stack(w)->cfg.delack_ms);
		}
		return;
	}

	/* Out of order: hold it and send a duplicate ACK with SACK at once (RFC 5681 4.2). */
	c->flags |= HF_TCP_F_ACK_NOW;
	tcp_pending(w, c);
	if (m->nb_segs > 1) {
		HF_COUNT(w, TCP_DROP_OOO_MULTISEG);
		rte_pktmbuf_free(m);
		return;
	}
	ooo_insert(w, c, m, s, len);
}

unsigned int
tcp_ooo_sack_blocks(const struct hf_tcp_conn *c, uint32_t *blocks, unsigned int max)
{
	const struct rte_mbuf *o = c->ooo.head;
	unsigned int n = 0;

	while (o != NULL && n < max) {
		uint32_t start = oseq(o), end = start + o->data_len;

		/* Coalesce contiguous segments into one block. */
		for (o = o->next; o != NULL && oseq(o) == end; o = o->next)
			end += o->data_len;
		blocks[2 * n] = start;
		blocks[2 * n + 1] = end;
		n++;
	}
	return n;
}
