/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receive side: in-order payload goes to the connection's receive queue
 * as it arrived (zero copy); out-of-order segments wait in a list sorted by
 * sequence number. Overlaps are resolved by trimming the newcomer against
 * what is already held — bytes at one sequence number are the same bytes
 * (RFC 9293 3.10.7.4, seventh step), so which copy is kept cannot change the
 * stream, and no byte already held is ever written over.
 *
 * Receive-queue entries are payload mbufs linked through m->next; only
 * per-segment data_len counts there. Out-of-order entries are single-segment
 * mbufs carrying their sequence number in m->hash.usr.
 *
 * No peer may pin the mbuf pool (a window of one-byte segments is 256 Ki
 * mbufs, more than the pool) nor make an insertion walk thousands of
 * segments (SegmentSmack, CVE-2018-5390). So:
 *  - a segment of at most HF_TCP_COLLAPSE_MAX bytes that continues the mbuf
 *    before it is copied into that mbuf's room and its own mbuf freed (as
 *    Linux's tcp_collapse, but as it arrives): a trickle of small segments
 *    holds one mbuf per ~2 KB, not one per segment, and a window of any
 *    segment size about rcv_buf / 1024 mbufs at most;
 *  - the two queues together are bounded in mbufs as well as bytes, for when
 *    copying cannot help (an mbuf someone else references, as a packet
 *    capture does): rcv_buf / 512 mbufs, at most half of them in the
 *    out-of-order queue, in at most HF_TCP_OOO_MAX_RUNS runs of contiguous
 *    data. What would pass a bound is refused and counted; the sender sends
 *    it again;
 *  - the out-of-order list is walked by runs, not segments: the first and the
 *    last segment of a run point at each other (an mbuf dynamic field), so an
 *    insertion steps over at most HF_TCP_OOO_MAX_RUNS runs, and one after the
 *    last segment (most of them, in a loss recovery) costs nothing;
 *  - the worker's connections together hold at most rx_mbufs_max mbufs in
 *    their receive queues: past it, out-of-order queues are pruned, the
 *    largest first; and a connection that keeps sending past its out-of-order
 *    budget without ever filling its hole is reset (tcp-int.h).
 * Runs are maximal: two runs always have a hole between them.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/tcp/tcp-int.h"

/* Offset of the run link in the mbuf's dynamic area; set once at start (tcp_reasm_init). */
static int run_off = -1;

int
tcp_reasm_init(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "hf_tcp_ooo_run",
		.size = sizeof(struct rte_mbuf *),
		.align = __alignof__(struct rte_mbuf *),
	};
	int off = rte_mbuf_dynfield_register(&desc);	/* the same offset for every caller */

	if (off < 0)
		return -rte_errno;
	run_off = off;
	return 0;
}

static inline uint32_t
oseq(const struct rte_mbuf *m)
{
	return m->hash.usr;
}

static inline uint32_t
oend(const struct rte_mbuf *m)
{
	return m->hash.usr + m->data_len;
}

/*
 * The run link: in a run's first segment it points at the last, in the last
 * at the first (a run of one points at itself); segments between hold stale
 * values, never read.
 */
static inline struct rte_mbuf *
run_other(const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, run_off, struct rte_mbuf *const *);
}

static inline void
run_set(struct rte_mbuf *first, struct rte_mbuf *last)
{
	*RTE_MBUF_DYNFIELD(first, run_off, struct rte_mbuf **) = last;
	*RTE_MBUF_DYNFIELD(last, run_off, struct rte_mbuf **) = first;
}

/* The out-of-order queue's share: half, so in-order data always finds room. */
static inline uint32_t
ooo_budget(const struct hf_tcp_conn *c)
{
	return RTE_MIN(tcp_rx_budget(c) / 2, (uint32_t)UINT16_MAX);
}

/* Adds @p n mbufs (negative: removes) to the receive queue's count and the worker's. */
static inline void
rcvq_count(struct hf_worker *w, struct hf_tcp_conn *c, int32_t n)
{
	c->rcvq_mbufs += (uint32_t)n;
	tcp_stack(w)->rx_mbufs += (uint32_t)n;
}

/*
 * The same for the out-of-order queue. A connection is on the worker's list of
 * out-of-order holders (what pruning looks through) exactly while it holds some.
 */
static void
ooo_count(struct hf_worker *w, struct hf_tcp_conn *c, int32_t n)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	bool held = c->ooo_mbufs != 0;

	c->ooo_mbufs = (uint16_t)(c->ooo_mbufs + n);
	st->rx_mbufs += (uint32_t)n;
	if (!held && c->ooo_mbufs != 0) {
		c->ooo_prev = NULL;
		c->ooo_next = st->ooo_conns;
		if (st->ooo_conns != NULL)
			st->ooo_conns->ooo_prev = c;
		st->ooo_conns = c;
	} else if (held && c->ooo_mbufs == 0) {
		if (c->ooo_prev != NULL)
			c->ooo_prev->ooo_next = c->ooo_next;
		else
			st->ooo_conns = c->ooo_next;
		if (c->ooo_next != NULL)
			c->ooo_next->ooo_prev = c->ooo_prev;
		c->ooo_next = NULL;
		c->ooo_prev = NULL;
	}
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

void
tcp_mq_free(struct hf_tcp_mq *q)
{
	rte_pktmbuf_free(q->head);
	q->head = NULL;
	q->tail = NULL;
	q->bytes = 0;
}

void
tcp_rcvq_free(struct hf_worker *w, struct hf_tcp_conn *c)
{
	tcp_mq_free(&c->rcvq);
	rcvq_count(w, c, -(int32_t)c->rcvq_mbufs);
}

void
tcp_ooo_free(struct hf_worker *w, struct hf_tcp_conn *c)
{
	tcp_mq_free(&c->ooo);
	ooo_count(w, c, -(int32_t)c->ooo_mbufs);
	c->ooo_runs = 0;
}

/*
 * Frees the out-of-order queue of @p c for the worker's cap: counted, and a
 * strike for each mbuf (the peer sent them past what the worker could hold).
 * Its SACK blocks leave the next ACK; the sender keeps what it sent until
 * it is acknowledged (RFC 2018 8) and sends it again.
 */
static void
ooo_prune(struct hf_worker *w, struct hf_tcp_conn *c)
{
	HF_COUNT_N(w, TCP_DROP_OOO_PRUNED, c->ooo_mbufs);
	/* Only a queue of small segments is held against its sender (tcp-int.h). */
	if (c->ooo.bytes < (uint64_t)c->ooo_mbufs * HF_TCP_RX_TRUESIZE)
		c->rx_strikes += c->ooo_mbufs;
	tcp_ooo_free(w, c);
}

/*
 * A refused out-of-order segment of @p len bytes: a strike only when it is
 * smaller than the budget's unit. A stream's segments are full-sized but for
 * the tail of a write, so a sender recovering from loss behind a long hole,
 * or one reordered and duplicated by the path, earns none (test_tcp_impaired);
 * one-byte segments (SegmentSmack) earn one each.
 */
static inline void
strike(struct hf_tcp_conn *c, uint32_t len)
{
	if (len < HF_TCP_RX_TRUESIZE)
		c->rx_strikes++;
}

/*
 * Over the worker's cap: prunes out-of-order queues down to 7/8 of it, so
 * that the next prune is a good many segments away. The largest first; in
 * the same walk every queue at least half as large, so a cap reached through
 * many small queues costs a walk per halving, not one per queue.
 */
static void
worker_prune(struct hf_worker *w)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint32_t low = st->rx_mbufs_max - st->rx_mbufs_max / 8;

	while (st->rx_mbufs > low && st->ooo_conns != NULL) {
		struct hf_tcp_conn *c, *next, *most = st->ooo_conns;
		uint32_t top;

		for (c = most->ooo_next; c != NULL; c = c->ooo_next)
			if (c->ooo_mbufs > most->ooo_mbufs)
				most = c;
		top = most->ooo_mbufs;
		ooo_prune(w, most);
		for (c = st->ooo_conns; c != NULL && st->rx_mbufs > low; c = next) {
			next = c->ooo_next;
			if (2u * c->ooo_mbufs >= top)
				ooo_prune(w, c);
		}
	}
}

/*
 * Whether the worker's receive queues have room for @p n more mbufs, after
 * pruning when they have not. Any connection's out-of-order queue may go,
 * the caller's included: callers hold no pointer into one.
 */
static bool
worker_room(struct hf_worker *w, uint32_t n)
{
	struct hf_tcp_stack *st = tcp_stack(w);

	if (likely(st->rx_mbufs + n <= st->rx_mbufs_max))
		return true;
	worker_prune(w);
	return st->rx_mbufs + n <= st->rx_mbufs_max;
}

/*
 * Appends @p m (@p len payload bytes, possibly a chain) to the receive
 * queue: copied into the last mbuf's room when it is small enough, else
 * linked on. With @p budget, refuses (false, counted, m untouched) what would
 * pass the connection's mbuf budget or the worker's cap; segments moved from
 * the out-of-order queue are already counted and pass without.
 */
static bool
rcvq_add(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m, uint32_t len, bool budget)
{
	struct hf_tcp_mq *q = &c->rcvq;

	if (q->tail != NULL && hf_tcp_mbuf_absorb(q->tail, m)) {
		HF_COUNT(w, TCP_RX_COLLAPSED);
		rte_pktmbuf_free(m);
		q->bytes += len;
		return true;
	}
	if (budget && c->rcvq_mbufs + c->ooo_mbufs + m->nb_segs > tcp_rx_budget(c)) {
		HF_COUNT(w, TCP_DROP_RCVQ_MBUF_BUDGET);
		return false;
	}
	if (budget && !worker_room(w, m->nb_segs)) {
		HF_COUNT(w, TCP_DROP_RX_WORKER_CAP);
		return false;
	}
	rcvq_count(w, c, m->nb_segs);
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = rte_pktmbuf_lastseg(m);
	q->bytes += len;
	return true;
}

/*
 * Moves out-of-order segments that became contiguous into the receive queue.
 * A run whose first byte is in sequence drains whole (it has no hole), so the
 * run links need no repair on the way: only the count of runs changes.
 */
static void
ooo_drain(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct rte_mbuf *last = c->ooo.head != NULL ? run_other(c->ooo.head) : NULL;

	while (c->ooo.head != NULL && hf_seq_leq(oseq(c->ooo.head), c->rcv_nxt)) {
		struct rte_mbuf *o = c->ooo.head;
		uint32_t end = oend(o);

		c->ooo.head = o->next;
		if (c->ooo.head == NULL)
			c->ooo.tail = NULL;
		o->next = NULL;
		c->ooo.bytes -= o->data_len;
		ooo_count(w, c, -1);
		if (o == last) {
			c->ooo_runs--;
			last = c->ooo.head != NULL ? run_other(c->ooo.head) : NULL;
		}
		if (hf_seq_leq(end, c->rcv_nxt)) {
			HF_COUNT_N(w, TCP_DUP_BYTES, o->data_len);
			rte_pktmbuf_free(o);
			continue;
		}
		o = trim_front(o, c->rcv_nxt - oseq(o));
		rcvq_add(w, c, o, end - c->rcv_nxt, false);
		HF_COUNT_N(w, TCP_RX_BYTES, end - c->rcv_nxt);
		c->rcv_nxt = end;
	}
}

/* Unlinks run @p first..@p last (after @p prev, NULL at the head) and frees it. */
static void
ooo_drop_run(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *prev,
	     struct rte_mbuf *first, struct rte_mbuf *last)
{
	struct rte_mbuf *next = last->next;

	if (prev != NULL)
		prev->next = next;
	else
		c->ooo.head = next;
	if (next == NULL)
		c->ooo.tail = prev;
	last->next = NULL;
	for (struct rte_mbuf *o = first; o != NULL; o = o->next) {
		HF_COUNT_N(w, TCP_DUP_BYTES, o->data_len);
		c->ooo.bytes -= o->data_len;
		ooo_count(w, c, -1);
	}
	c->ooo_runs--;
	rte_pktmbuf_free(first);
}

/*
 * Inserts the single-segment @p m covering [s, s + len) into the sorted
 * out-of-order list. Runs wholly inside the newcomer are replaced by it;
 * otherwise the newcomer is trimmed to the hole it fills. Steps over at most
 * HF_TCP_OOO_MAX_RUNS runs (plus the runs it replaces, each once).
 */
static void
ooo_insert(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m, uint32_t s,
	   uint32_t len)
{
	struct rte_mbuf *prev = NULL;	/* the segment the newcomer goes after (NULL: first) */
	struct rte_mbuf *next;		/* the segment it goes before (NULL: last) */
	struct rte_mbuf *a = NULL;	/* first segment of the run it continues (ending at s) */
	struct rte_mbuf *b = NULL;	/* first segment of the run that continues it (from e) */
	struct rte_mbuf *run_last;	/* last segment of the run it ends up in */
	uint32_t e = s + len;

	/* Before the walk: pruning may take this very queue. */
	if (!worker_room(w, 1)) {
		HF_COUNT(w, TCP_DROP_RX_WORKER_CAP);
		strike(c, len);
		rte_pktmbuf_free(m);
		return;
	}
	if (c->ooo.tail != NULL && hf_seq_geq(s, oend(c->ooo.tail))) {
		/* After everything held: the usual case while a hole waits to be filled. */
		prev = c->ooo.tail;
		next = NULL;
		if (s == oend(prev))
			a = run_other(prev);
	} else {
		next = c->ooo.head;
		while (next != NULL) {
			struct rte_mbuf *last = run_other(next);
			uint32_t rs = oseq(next), re = oend(last);

			if (hf_seq_lt(re, s)) {			/* before us, a hole between */
				prev = last;
				next = last->next;
				continue;
			}
			if (hf_seq_gt(rs, e))			/* after us, a hole between */
				break;
			if (hf_seq_leq(rs, s) && hf_seq_geq(re, e)) {	/* we bring nothing new */
				HF_COUNT_N(w, TCP_DUP_BYTES, len);
				rte_pktmbuf_free(m);
				return;
			}
			if (hf_seq_geq(rs, s) && hf_seq_leq(re, e)) {	/* inside us: replace it */
				ooo_drop_run(w, c, prev, next, last);
				next = prev != NULL ? prev->next : c->ooo.head;
				continue;
			}
			if (hf_seq_lt(rs, s)) {		/* it covers or touches our front */
				HF_COUNT_N(w, TCP_DUP_BYTES, re - s);
				m = trim_front(m, re - s);
				len -= re - s;
				s = re;
				a = next;
				prev = last;
				next = last->next;
				continue;
			}
			/* It covers or touches our tail: keep our part before it. */
			HF_COUNT_N(w, TCP_DUP_BYTES, e - rs);
			len = rs - s;
			trim_back(m, len);
			e = rs;
			b = next;
			break;
		}
	}
	m->hash.usr = s;

	/* Collapse: our bytes into the room of the run's last mbuf... */
	if (a != NULL && hf_tcp_mbuf_absorb(prev, m)) {
		HF_COUNT(w, TCP_RX_COLLAPSED);
		rte_pktmbuf_free(m);
		c->ooo.bytes += len;
		HF_COUNT(w, TCP_OOO_SEGMENTS);
		if (b == NULL)
			return;
		/* The hole between a and b is filled: one run; b's first mbuf may fold in too. */
		c->ooo_runs--;
		if (hf_tcp_mbuf_absorb(prev, b)) {
			HF_COUNT(w, TCP_RX_COLLAPSED);
			run_set(a, run_other(b) == b ? prev : run_other(b));
			prev->next = b->next;
			if (prev->next == NULL)
				c->ooo.tail = prev;
			ooo_count(w, c, -1);
			b->next = NULL;
			rte_pktmbuf_free(b);
		} else {
			run_set(a, run_other(b));
		}
		return;
	}
	if (b != NULL && hf_tcp_mbuf_absorb(m, b)) {
		/* ...or the first mbuf of the run after us into ours, which takes its place. */
		HF_COUNT(w, TCP_RX_COLLAPSED);
		run_last = run_other(b) == b ? m : run_other(b);
		next = b->next;
		c->ooo.bytes -= b->data_len;
		len = m->data_len;
		ooo_count(w, c, -1);
		b->next = NULL;
		rte_pktmbuf_free(b);
	} else {
		/* An mbuf of its own: within the budget, and a new run only if one more fits. */
		if (c->ooo_mbufs >= ooo_budget(c) ||
		    c->rcvq_mbufs + c->ooo_mbufs >= tcp_rx_budget(c)) {
			HF_COUNT(w, TCP_DROP_OOO_MBUF_BUDGET);
			strike(c, len);
			rte_pktmbuf_free(m);
			return;
		}
		if (a == NULL && b == NULL && c->ooo_runs >= HF_TCP_OOO_MAX_RUNS) {
			HF_COUNT(w, TCP_DROP_OOO_RUNS);
			strike(c, len);
			rte_pktmbuf_free(m);
			return;
		}
		run_last = b != NULL ? run_other(b) : m;
	}
	m->next = next;
	if (next == NULL)
		c->ooo.tail = m;
	if (prev != NULL)
		prev->next = m;
	else
		c->ooo.head = m;
	ooo_count(w, c, 1);
	c->ooo.bytes += len;
	if (a != NULL) {
		run_set(a, run_last);
		if (b != NULL)
			c->ooo_runs--;		/* we filled the hole between two runs */
	} else {
		run_set(m, run_last);
		if (b == NULL)
			c->ooo_runs++;
	}
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
		if (!rcvq_add(w, c, m, len, true)) {
			/* The window took the bytes, the budget not the mbufs: sent again. */
			rte_pktmbuf_free(m);
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
			return;
		}
		c->rcv_nxt += len;
		c->rx_strikes = 0;
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

	/* Runs are maximal: each is one block. */
	for (; o != NULL && n < max; o = run_other(o)->next, n++) {
		blocks[2 * n] = oseq(o);
		blocks[2 * n + 1] = oend(run_other(o));
	}
	return n;
}

int
tcp_rcv_check(const struct hf_tcp_conn *c)
{
	const struct rte_mbuf *o, *first = NULL, *prev = NULL;
	uint32_t bytes = 0, mbufs = 0, runs = 0;

	for (o = c->rcvq.head; o != NULL; prev = o, o = o->next) {
		bytes += o->data_len;
		mbufs++;
	}
	if (bytes != c->rcvq.bytes || mbufs != c->rcvq_mbufs || prev != c->rcvq.tail)
		return -EBADMSG;
	bytes = mbufs = 0;
	prev = NULL;
	for (o = c->ooo.head; o != NULL; prev = o, o = o->next) {
		if (o->nb_segs != 1 || o->pkt_len != o->data_len || o->data_len == 0)
			return -EBADMSG;
		if (!hf_seq_gt(oseq(o), c->rcv_nxt) || !hf_seq_leq(oend(o), c->rcv_adv))
			return -ERANGE;
		if (prev != NULL && hf_seq_gt(oend(prev), oseq(o)))
			return -EILSEQ;		/* unsorted or overlapping */
		if (first == NULL) {
			/* A run starts here: it ended before with a hole, or this is the first. */
			if (prev != NULL && oend(prev) == oseq(o))
				return -EILSEQ;	/* two runs touch: not maximal */
			first = o;
			runs++;
		} else if (oend(prev) != oseq(o)) {
			return -EILSEQ;		/* a hole inside a run */
		}
		if (o->next == NULL || oend(o) != oseq(o->next)) {
			/* The run ends here: its ends must point at each other. */
			if (run_other(first) != o || run_other(o) != first)
				return -EFAULT;
			first = NULL;
		}
		bytes += o->data_len;
		mbufs++;
	}
	if (bytes != c->ooo.bytes || mbufs != c->ooo_mbufs || runs != c->ooo_runs ||
	    prev != c->ooo.tail)
		return -EBADMSG;
	if (mbufs > ooo_budget(c) || runs > HF_TCP_OOO_MAX_RUNS ||
	    c->rcvq_mbufs + mbufs > tcp_rx_budget(c))
		return -E2BIG;
	return 0;
}

int
tcp_rx_check(struct hf_worker *w)
{
	const struct hf_tcp_stack *st = tcp_stack(w);
	const struct hf_tcp_conn *c, *prev = NULL;
	uint32_t mbufs = 0, holders = 0, listed = 0;

	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		c = &st->conns[i];
		mbufs += c->rcvq_mbufs + c->ooo_mbufs;
		holders += c->ooo_mbufs != 0;
	}
	for (c = st->ooo_conns; c != NULL; prev = c, c = c->ooo_next) {
		if (c->ooo_mbufs == 0 || c->ooo_prev != prev)
			return -EFAULT;
		if (++listed > holders)
			return -ELOOP;
	}
	if (listed != holders || mbufs != st->rx_mbufs)
		return -EBADMSG;
	return st->rx_mbufs > st->rx_mbufs_max ? -E2BIG : 0;
}
