/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connections of one worker: the TCB pool (an array and a stack of free
 * indexes, sized at start), the 4-tuple table (chained through the TCBs,
 * used by this worker alone, so without locks), timers on a hashed wheel of 1 ms ticks, the flush
 * list, TIME_WAIT bookkeeping, and the API the layers above TCP use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_thash.h>

#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp-int.h"

#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999
/*
 * Local ports one active open examines before it gives up. Once the ports
 * toward one destination are all taken, a scan of the whole range costs the
 * worker about a millisecond per refused connect (28,232 lookups), each time.
 * The cursor moves on past what was examined, so successive attempts still
 * cover the whole range, in slices.
 */
#define EPHEMERAL_TRIES 1024
#define MAX_RETRIES 15		/* Linux tcp_retries2: about 15 minutes of backoff */
#define WHEEL_SLOTS 4096

void
hf_tcp_config_default(struct hf_tcp_config *cfg)
{
	*cfg = (struct hf_tcp_config){
		.max_connections = 16384,
		.rcv_buf = 256 * 1024,
		.snd_high = 256 * 1024,
		.snd_low = 128 * 1024,
		.syn_backlog = 1024,
		.time_wait_ms = 60000,
		.fin_wait_2_ms = 60000,
		.delack_ms = 40,
		.keepalive_idle_ms = 0,
		.keepalive_intvl_ms = 75000,
		.keepalive_probes = 9,
		.syn_retries = 6,
		.cc_algo = HF_TCP_CC_CUBIC,
	};
}

unsigned int
hf_tcp_clones_in_use(const struct hf_worker *w)
{
	const struct rte_mempool *mp = w->tcp != NULL ? w->tcp->clone_pool : NULL;

	return mp != NULL ? mp->size - rte_mempool_avail_count(mp) : 0;
}

size_t
hf_tcp_conn_footprint(void)
{
	/*
	 * The TCB (its table link included), its free-list slot and its table
	 * bucket (one per TCB, rounded up to a power of two).
	 */
	return sizeof(struct hf_tcp_conn) + sizeof(uint32_t) + sizeof(uint32_t);
}

/*
 * The 4-tuple table. Each bucket heads a chain of TCBs linked through hnext,
 * so a lookup reads the bucket and then the TCBs themselves, key and all: one
 * cache miss fewer than a table that keeps its keys apart, and an insert or a
 * removal is a link to set. The hash is keyed with a secret drawn at start
 * (as Linux's established hash): the tuples are the peers' to choose, and
 * without the key they cannot pile their connections into one chain.
 */
static inline uint32_t *
bucket_of(const struct hf_tcp_stack *st, uint32_t raddr, uint32_t laddr, uint16_t rport,
	  uint16_t lport)
{
	uint32_t h = rte_jhash_3words(raddr, laddr, ((uint32_t)rport << 16) | lport,
				      st->hash_seed);

	return &st->buckets[h & st->bucket_mask];
}

static void
table_add(struct hf_tcp_stack *st, struct hf_tcp_conn *c)
{
	uint32_t *b = bucket_of(st, c->raddr, c->laddr, c->rport, c->lport);

	c->hnext = *b;
	*b = c->id + 1;
}

static void
table_del(struct hf_tcp_stack *st, struct hf_tcp_conn *c)
{
	uint32_t *link = bucket_of(st, c->raddr, c->laddr, c->rport, c->lport);

	while (*link != 0) {
		struct hf_tcp_conn *e = &st->conns[*link - 1];

		if (e == c) {
			*link = c->hnext;
			c->hnext = 0;
			return;
		}
		link = &e->hnext;
	}
}

static inline struct hf_tcp_conn *
conn_of(struct hf_timer *t, size_t off)
{
	return (struct hf_tcp_conn *)((char *)t - off);
}

uint32_t
tcp_rto_ms(const struct hf_tcp_conn *c)
{
	uint64_t ms = hf_tcp_rto_get_us(&c->rto) / 1000;

	ms <<= RTE_MIN(c->rto_backoff, 16);
	return (uint32_t)RTE_MIN(ms, 60000u);
}

/*
 * RFC 8985 7 (tail loss probe): with data outstanding, no recovery under way
 * and no probe sent since the last ACK, the timer first fires after
 * PTO = 2 SRTT (plus a delayed-ACK allowance for a single segment in flight),
 * bounded by the RTO. A probe then draws the SACK that starts fast recovery,
 * where only a timeout would have found a lost tail.
 */
uint32_t
tcp_probe_or_rto_ms(struct hf_tcp_conn *c)
{
	uint32_t rto = tcp_rto_ms(c), srtt_ms = hf_tcp_rto_srtt_us(&c->rto) / 1000, pto;

	if ((c->flags & (HF_TCP_F_RECOVERY | HF_TCP_F_TLP_SENT)) ||
	    hf_tcp_rto_srtt_us(&c->rto) == 0 || c->state != HF_TCP_ESTABLISHED)
		return rto;
	pto = 2 * srtt_ms;
	if (c->snd_max - c->snd_una <= c->mss)
		pto += 40;	/* the peer may hold its ACK for a lone segment (delayed ACK) */
	pto = RTE_MAX(pto, 10u);
	if (pto >= rto)
		return rto;
	c->flags |= HF_TCP_F_TLP_ARMED;
	return pto;
}

static void
on_rtx_timer(struct hf_timer *t, void *arg)
{
	struct hf_worker *w = arg;
	struct hf_tcp_conn *c = conn_of(t, offsetof(struct hf_tcp_conn, rtx_timer));
	struct hf_tcp_stack *st = tcp_stack(w);

	switch (c->state) {
	case HF_TCP_SYN_SENT:
	case HF_TCP_SYN_RCVD:
		if (++c->rto_backoff > st->cfg.syn_retries) {
			HF_COUNT(w, TCP_CX_TIMEOUT);
			if (c->state == HF_TCP_SYN_SENT)
				HF_COUNT(w, TCP_CX_CONNECT_FAIL);
			tcp_conn_close(w, c, -ETIMEDOUT);
			return;
		}
		HF_COUNT(w, TCP_RETRANSMITS);
		tcp_send_syn(w, c);
		return;
	case HF_TCP_CLOSED:
	case HF_TCP_LISTEN:
	case HF_TCP_TIME_WAIT:
	case HF_TCP_FIN_WAIT_2:
		return;
	default:
		break;
	}
	/* A closed window is no loss: probe it instead of collapsing cwnd (RFC 9293 3.8.6.1). */
	if (c->snd_wnd == 0)
		c->flags |= HF_TCP_F_PERSIST;
	if (c->flags & HF_TCP_F_PERSIST) {
		/* A probe at snd_una - 1 carries no data and draws an ACK with the window. */
		HF_COUNT(w, TCP_ZWP);
		tcp_send_segment(w, c, c->snd_una - 1, 0, TH_ACK);
		c->rto_backoff = (uint16_t)RTE_MIN(c->rto_backoff + 1, 16);
		tcp_timer_arm(w, &c->rtx_timer, tcp_rto_ms(c));
		return;
	}
	if (c->snd_max == c->snd_una)
		return;
	if (c->flags & HF_TCP_F_TLP_ARMED) {
		/* RFC 8985 7.3: new data if the window allows, else the last segment again. */
		uint32_t unsent = c->snd_una + c->sndq_bytes - c->snd_nxt;

		c->flags &= ~HF_TCP_F_TLP_ARMED;
		c->flags |= HF_TCP_F_TLP_SENT;
		HF_COUNT(w, TCP_TLP);
		if (hf_seq_gt(c->snd_una + c->sndq_bytes, c->snd_nxt) && unsent > 0 &&
		    hf_seq_leq(c->snd_nxt + RTE_MIN(unsent, (uint32_t)c->mss), c->snd_una + c->snd_wnd)) {
			tcp_output(w, c);
		} else {
			tcp_retransmit_tail(w, c);
		}
		tcp_timer_arm(w, &c->rtx_timer, tcp_rto_ms(c));
		return;
	}
	if (++c->rto_backoff > MAX_RETRIES) {
		HF_COUNT(w, TCP_CX_TIMEOUT);
		tcp_send_segment(w, c, tcp_acceptable_seq(c), 0, TH_RST);
		tcp_conn_close(w, c, -ETIMEDOUT);
		return;
	}
	/* RFC 6298 5.4-5.6 and RFC 5681 3.1: one segment from snd_una, cwnd to one segment. */
	HF_COUNT(w, TCP_RTO);
	hf_tcp_cc_on_rto(&c->cc, c->snd_max - c->snd_una);
	c->flags &= ~HF_TCP_F_RECOVERY;
	c->recover = c->snd_max;
	c->dupacks = 0;
	hf_tcp_sack_clear(&c->sack);
	/* Go back to snd_una; a FIN already sent goes again with the last data (or alone). */
	c->snd_nxt = c->snd_una;
	tcp_retransmit_head(w, c);
	tcp_timer_arm(w, &c->rtx_timer, tcp_rto_ms(c));
}

static void
on_ack_timer(struct hf_timer *t, void *arg)
{
	struct hf_worker *w = arg;
	struct hf_tcp_conn *c = conn_of(t, offsetof(struct hf_tcp_conn, ack_timer));

	c->flags |= HF_TCP_F_ACK_NOW;
	tcp_pending(w, c);
}

static void
on_life_timer(struct hf_timer *t, void *arg)
{
	struct hf_worker *w = arg;
	struct hf_tcp_conn *c = conn_of(t, offsetof(struct hf_tcp_conn, life_timer));
	struct hf_tcp_stack *st = tcp_stack(w);

	switch (c->state) {
	case HF_TCP_SYN_SENT:
		/* The connect timeout of the layer above (Envoy's connect_timeout). */
		HF_COUNT(w, TCP_CX_CONNECT_FAIL);
		tcp_conn_close(w, c, -ETIMEDOUT);
		return;
	case HF_TCP_TIME_WAIT:
	case HF_TCP_FIN_WAIT_2:
		tcp_conn_close(w, c, 0);
		return;
	case HF_TCP_ESTABLISHED:
	case HF_TCP_CLOSE_WAIT:
		if (st->cfg.keepalive_idle_ms == 0)
			return;
		if (c->rto_backoff >= st->cfg.keepalive_probes) {
			HF_COUNT(w, TCP_CX_TIMEOUT);
			tcp_conn_close(w, c, -ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.4: a segment at snd_una - 1 with no data. */
		HF_COUNT(w, TCP_KEEPALIVES);
		c->rto_backoff++;
		tcp_send_segment(w, c, c->snd_una - 1, 0, TH_ACK);
		tcp_timer_arm(w, &c->life_timer, st->cfg.keepalive_intvl_ms);
		return;
	default:
		return;
	}
}

/*
 * Takes @p c out of the TIME_WAIT FIFO. Under connection churn most new SYNs
 * reopen a TIME_WAIT tuple (RFC 6191), from anywhere in a FIFO as long as a
 * second of connections: the unlink must not walk it.
 */
static void
tw_unlink(struct hf_tcp_stack *st, struct hf_tcp_conn *c)
{
	if (c->tw_prev != NULL)
		c->tw_prev->tw_next = c->tw_next;
	else if (st->tw_head == c)
		st->tw_head = c->tw_next;
	else
		return;		/* not linked */
	if (c->tw_next != NULL)
		c->tw_next->tw_prev = c->tw_prev;
	else
		st->tw_tail = c->tw_prev;
	c->tw_next = NULL;
	c->tw_prev = NULL;
}

static void
release_id(struct hf_tcp_stack *st, struct hf_tcp_conn *c)
{
	st->free_ids[st->n_free++] = c->id;
}

/*
 * Frees what @p c still holds to send and out of order. Most connections end
 * with both queues empty: those cost a test each, not calls into the mbuf
 * library and the receive-side counts for nothing.
 */
static void
queues_free(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (c->sndq_head != NULL)
		rte_pktmbuf_free(c->sndq_head);
	c->sndq_head = NULL;
	c->tx_seg = NULL;
	c->sndq_tail = NULL;
	c->sndq_bytes = 0;
	if (c->ooo.head != NULL)
		tcp_ooo_free(w, c);
}

/* The application is done with @p c: closed() unless it was told already, then its bytes go. */
static void
app_done(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	/* Received bytes stay readable during closed(): an orderly end loses nothing. */
	if (!(c->flags & HF_TCP_F_APP_CLOSED)) {
		c->flags |= HF_TCP_F_APP_CLOSED;
		if (c->ops != NULL && c->ops->closed != NULL)
			c->ops->closed(w, c, err);
	}
	if (c->rcvq.head != NULL)
		tcp_rcvq_free(w, c);
	c->ops = NULL;
	c->ctx = NULL;
}

void
tcp_conn_close(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	bool time_wait = c->state == HF_TCP_TIME_WAIT;

	if (c->state == HF_TCP_CLOSED)
		return;
	if (time_wait) {
		tw_unlink(st, c);
		HF_COUNT_N(w, TCP_CX_TIME_WAIT, -1);
	}
	if (c->state == HF_TCP_SYN_RCVD && (c->flags & HF_TCP_F_PASSIVE))
		st->listeners[c->listener].synrcvd--;
	table_del(st, c);
	tcp_timer_stop(w, &c->life_timer);
	/*
	 * A TIME_WAIT TCB holds nothing else: tcp_enter_time_wait() stopped its
	 * other timers, emptied its queues and told the application, and nothing
	 * in TIME_WAIT arms or fills them again.
	 */
	if (!time_wait) {
		tcp_timer_stop(w, &c->rtx_timer);
		tcp_timer_stop(w, &c->ack_timer);
		queues_free(w, c);
	}
	c->state = HF_TCP_CLOSED;
	st->n_active--;
	HF_COUNT_N(w, TCP_CX_ACTIVE, -1);
	if (!time_wait)
		app_done(w, c, err);
	if (c->flags & HF_TCP_F_PENDING)
		c->flags |= HF_TCP_F_DEAD;	/* the flush frees it */
	else
		release_id(st, c);
}

void
tcp_enter_time_wait(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tcp_stack *st = tcp_stack(w);

	c->state = HF_TCP_TIME_WAIT;
	tcp_timer_stop(w, &c->rtx_timer);
	tcp_timer_stop(w, &c->ack_timer);
	queues_free(w, c);
	tcp_timer_arm(w, &c->life_timer, st->cfg.time_wait_ms);
	c->tw_next = NULL;
	c->tw_prev = st->tw_tail;
	if (st->tw_tail != NULL)
		st->tw_tail->tw_next = c;
	else
		st->tw_head = c;
	st->tw_tail = c;
	HF_COUNT(w, TCP_CX_TIME_WAIT);
	/* The application is done with it; the TCB only guards the 4-tuple now. */
	app_done(w, c, 0);
}

/* Smallest shift that fits @p buf in the 16-bit window field (RFC 7323 2.3, at most 14). */
static uint8_t
wscale_for(uint32_t buf)
{
	uint8_t s = 0;

	while (s < 14 && (buf >> s) > 65535)
		s++;
	return s;
}

struct hf_tcp_conn *
tcp_conn_alloc(struct hf_worker *w, uint16_t port, uint32_t laddr, uint16_t lport,
	       uint32_t raddr, uint16_t rport)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	struct hf_tcp_conn *c;
	uint32_t id;

	/* Out of TCBs: the oldest TIME_WAIT gives its own up before anyone is refused. */
	if (st->n_free == 0 && st->tw_head != NULL) {
		HF_COUNT(w, TCP_CX_TW_RECYCLED);
		tcp_conn_close(w, st->tw_head, 0);
	}
	if (st->n_free == 0)
		return NULL;
	id = st->free_ids[--st->n_free];
	c = &st->conns[id];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->raddr = raddr;
	c->laddr = laddr;
	c->rport = rport;
	c->lport = lport;
	c->port = port;
	table_add(st, c);
	c->rcv_buf = st->cfg.rcv_buf;
	c->rcv_wscale = st->rcv_wscale;
	c->mss = 536;	/* RFC 9293 3.7.1 default until the peer says otherwise */
	/* Offered in our SYN or SYN-ACK; cleared when the peer does not offer them too. */
	c->flags = HF_TCP_F_TS | HF_TCP_F_SACK | HF_TCP_F_WS;
	hf_timer_init(&c->rtx_timer, on_rtx_timer, w);
	hf_timer_init(&c->ack_timer, on_ack_timer, w);
	hf_timer_init(&c->life_timer, on_life_timer, w);
	hf_tcp_rto_init(&c->rto);
	hf_tcp_sack_init(&c->sack);
	st->n_active++;
	HF_COUNT(w, TCP_CX_ACTIVE);
	/* Any state but CLOSED, so tcp_conn_close() undoes the above; the caller sets the real one. */
	c->state = HF_TCP_SYN_SENT;
	return c;
}

void
hf_tcp_prefetch_burst(struct hf_worker *w, struct rte_mbuf *const *pkts, uint16_t n)
{
	const struct hf_tcp_stack *st = w->tcp;
	const uint32_t *b[2 * HF_BURST];
	uint16_t k = 0;

	if (st == NULL || n < 2)
		return;
	n = RTE_MIN(n, (uint16_t)RTE_DIM(b));
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;
		const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
		const struct rte_tcp_hdr *th;
		uint32_t ihl;

		/* A frame this does not read right is only not warmed: the stack checks it all. */
		if (m->data_len < sizeof(*eh) + sizeof(*ih) + 4 ||
		    eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    ih->next_proto_id != IPPROTO_TCP)
			continue;
		ihl = (uint32_t)(ih->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
		if (ihl < sizeof(*ih) || m->data_len < sizeof(*eh) + ihl + 4)
			continue;
		th = (const struct rte_tcp_hdr *)((const uint8_t *)ih + ihl);
		b[k] = bucket_of(st, ih->src_addr, ih->dst_addr, th->src_port, th->dst_port);
		rte_prefetch0(b[k]);
		k++;
	}
	/* The buckets' loads overlap one another, and so do the TCBs' behind them. */
	for (uint16_t i = 0; i < k; i++) {
		uint32_t id = *b[i];

		if (id != 0) {
			const char *c = (const char *)&st->conns[id - 1];

			rte_prefetch0(c);
			rte_prefetch0(c + RTE_CACHE_LINE_SIZE);
		}
	}
}

struct hf_tcp_conn *
tcp_conn_lookup(struct hf_worker *w, uint32_t laddr, uint16_t lport, uint32_t raddr,
		uint16_t rport)
{
	const struct hf_tcp_stack *st = tcp_stack(w);

	for (uint32_t id = *bucket_of(st, raddr, laddr, rport, lport); id != 0;) {
		struct hf_tcp_conn *c = &st->conns[id - 1];

		if (c->raddr == raddr && c->laddr == laddr && c->rport == rport &&
		    c->lport == lport)
			return c;
		id = c->hnext;
	}
	return NULL;
}

uint32_t
tcp_isn(struct hf_worker *w, const struct hf_tcp_conn *c)
{
	/* RFC 6528: a 4 µs clock plus a keyed hash of the 4-tuple. */
	uint64_t us = rte_rdtsc() / (w->tsc_hz / 1000000 ? w->tsc_hz / 1000000 : 1);
	/* The bytes of (raddr, laddr, rport, lport) as they lie in the TCB, as before. */
	uint32_t ports = (uint32_t)c->rport | (uint32_t)c->lport << 16;

	return (uint32_t)(us >> 2) +
	       (uint32_t)hf_siphash24_3u32(tcp_stack(w)->secret, c->raddr, c->laddr, ports);
}

void
tcp_conn_set_mss(struct hf_worker *w, struct hf_tcp_conn *c, const struct hf_tcp_opts *o)
{
	(void)w;
	c->mss = o->mss_present && o->mss >= 64 ? o->mss : 536;
}

void
tcp_established(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	const struct hf_port *p = &w->ports[c->port];
	bool passive = c->flags & HF_TCP_F_PASSIVE;

	if (c->state == HF_TCP_SYN_RCVD && passive)
		st->listeners[c->listener].synrcvd--;
	c->state = HF_TCP_ESTABLISHED;
	c->flags |= HF_TCP_F_SYNCED;
	c->rto_backoff = 0;
	tcp_timer_stop(w, &c->rtx_timer);
	tcp_timer_stop(w, &c->life_timer);
	/* Sending MSS: the peer's, bounded by our MTU, less the options every segment carries. */
	c->mss = (uint16_t)RTE_MIN(c->mss, (uint16_t)(p->mtu - 40));
	if (c->flags & HF_TCP_F_TS)
		c->mss -= 12;
	hf_tcp_cc_init(&c->cc, st->cfg.cc_algo, c->mss);
	c->recover = c->snd_una;
	if (st->cfg.keepalive_idle_ms != 0)
		tcp_timer_arm(w, &c->life_timer, st->cfg.keepalive_idle_ms);
	if (passive) {
		HF_COUNT(w, TCP_CX_PASSIVE);
		c->flags &= ~HF_TCP_F_APP_CLOSED;
		if (c->ops != NULL && c->ops->accepted != NULL &&
		    c->ops->accepted(w, c, st->listeners[c->listener].ctx) < 0) {
			c->flags |= HF_TCP_F_APP_CLOSED;
			hf_tcp_abort(w, c);
		}
	} else {
		HF_COUNT(w, TCP_CX_ACTIVE_OPENS);
		if (c->ops != NULL && c->ops->connected != NULL)
			c->ops->connected(w, c);
	}
}

int
hf_tcp_listen(struct hf_worker *w, uint16_t lport, const struct hf_tcp_ops *ops, void *ctx)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint16_t be = rte_cpu_to_be_16(lport);

	for (uint32_t i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].lport == be)
			return -EADDRINUSE;
	if (st->n_listeners == HF_TCP_MAX_LISTENERS)
		return -ENOSPC;
	st->listeners[st->n_listeners] = (struct hf_tcp_listener){
		.lport = be, .ops = ops, .ctx = ctx};
	return (int)st->n_listeners++;
}

int
hf_tcp_unlisten(struct hf_worker *w, uint16_t lport)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	uint16_t be = rte_cpu_to_be_16(lport);
	uint32_t i, last, left;

	for (i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].lport == be)
			break;
	if (i == st->n_listeners)
		return -ENOENT;
	/*
	 * The last slot moves into the freed one, so find_listener() keeps a dense
	 * array. Only SYN-RECEIVED TCBs refer to their listener's slot (backlog count,
	 * accepted() context): the removed listener's are reset, as Linux resets the
	 * handshakes of a listening socket it closes, and the moved one's follow it.
	 * Established connections never look at the slot again and stay.
	 */
	last = st->n_listeners - 1;
	left = st->listeners[i].synrcvd + (i != last ? st->listeners[last].synrcvd : 0);
	for (uint32_t k = 0; k < st->cfg.max_connections && left > 0; k++) {
		struct hf_tcp_conn *c = &st->conns[k];

		if (c->state != HF_TCP_SYN_RCVD || !(c->flags & HF_TCP_F_PASSIVE))
			continue;
		if (c->listener == i) {
			left--;
			hf_tcp_abort(w, c);
		} else if (c->listener == last) {
			left--;
			c->listener = (uint16_t)i;
		}
	}
	st->listeners[i] = st->listeners[last];
	st->listeners[last] = (struct hf_tcp_listener){0};
	st->n_listeners--;
	return 0;
}

/*
 * True when a reply to (laddr:lport ← raddr:rport) would reach worker @p w:
 * the port hashes the reverse 4-tuple with the symmetric key and looks the
 * result up in its redirection table.
 */
static bool
steers_here(struct hf_worker *w, const struct hf_port *p, uint32_t laddr, uint16_t lport,
	    uint32_t raddr, uint16_t rport)
{
	struct rte_ipv4_tuple t;
	uint32_t h;

	if (w->n_workers == 1 || p->reta_size == 0)
		return true;
	t.src_addr = rte_be_to_cpu_32(raddr);
	t.dst_addr = rte_be_to_cpu_32(laddr);
	t.sport = rte_be_to_cpu_16(rport);
	t.dport = rte_be_to_cpu_16(lport);
	h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, p->rss_key);
	return p->reta[h & (p->reta_size - 1)] == w->id;
}

struct hf_tcp_conn *
hf_tcp_connect(struct hf_worker *w, uint16_t port, uint32_t raddr, uint16_t rport,
	       uint32_t timeout_ms, const struct hf_tcp_ops *ops, void *ctx)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	const struct hf_port *p = &w->ports[port];
	struct hf_tcp_conn *c = NULL;
	unsigned int tries = 0, looked = 0;

	/* Ports that steer to a sibling cost a hash, not a lookup: the bound counts lookups. */
	while (tries < EPHEMERAL_TRIES && looked++ < EPHEMERAL_HI - EPHEMERAL_LO + 1) {
		uint16_t lp = st->next_ephemeral;

		st->next_ephemeral = lp == EPHEMERAL_HI ? EPHEMERAL_LO : lp + 1;
		lp = rte_cpu_to_be_16(lp);
		if (!steers_here(w, p, p->addr, lp, raddr, rport))
			continue;
		tries++;
		if (tcp_conn_lookup(w, p->addr, lp, raddr, rport) != NULL)
			continue;
		c = tcp_conn_alloc(w, port, p->addr, lp, raddr, rport);
		if (c == NULL) {
			HF_COUNT(w, TCP_DROP_NO_TCB);
			return NULL;
		}
		break;
	}
	if (c == NULL) {
		HF_COUNT(w, TCP_DROP_NO_LOCAL_PORT);
		return NULL;
	}
	c->ops = ops;
	c->ctx = ctx;
	c->state = HF_TCP_SYN_SENT;
	c->iss = tcp_isn(w, c);
	c->snd_una = c->iss;
	c->recover = c->iss;
	tcp_send_syn(w, c);
	tcp_timer_arm(w, &c->life_timer, timeout_ms);
	return c;
}

int
hf_tcp_send(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	struct rte_mbuf *seg, *next;

	if ((c->flags & HF_TCP_F_FIN_QUEUED) ||
	    (c->state != HF_TCP_ESTABLISHED && c->state != HF_TCP_CLOSE_WAIT)) {
		rte_pktmbuf_free(m);
		return -EPIPE;
	}
	for (seg = m; seg != NULL; seg = next) {
		next = seg->next;
		seg->next = NULL;
		seg->nb_segs = 1;
		if (seg->data_len == 0) {
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		/*
		 * A small mbuf goes into the room of the last one: a peer that
		 * trickles bytes to an echo, or a slow reader behind a proxy, would
		 * else pin one mbuf per byte for as long as its ACKs take (up to
		 * snd_high of them), and each segment sent would walk them all.
		 */
		if (c->sndq_tail != NULL && hf_tcp_mbuf_absorb(c->sndq_tail, seg)) {
			HF_COUNT(w, TCP_TX_COLLAPSED);
			c->sndq_bytes += seg->data_len;
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		if (c->sndq_tail != NULL)
			c->sndq_tail->next = seg;
		else
			c->sndq_head = seg;
		c->sndq_tail = seg;
		c->sndq_bytes += seg->data_len;
	}
	tcp_pending(w, c);
	if (c->sndq_bytes >= st->cfg.snd_high) {
		c->flags |= HF_TCP_F_NOT_WRITABLE;
		return 0;
	}
	return 1;
}

struct rte_mbuf *
hf_tcp_recv(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max)
{
	struct rte_mbuf *head = c->rcvq.head, *last = NULL, *seg = head;
	uint32_t total = 0, before = tcp_rcv_window(c);
	uint16_t nb = 0;

	/* Whole segments only; the last may pass max, so a small max never starves the reader. */
	while (seg != NULL && total < max) {
		total += seg->data_len;
		nb++;
		last = seg;
		seg = seg->next;
	}
	if (last == NULL)
		return NULL;
	c->rcvq.head = seg;
	if (seg == NULL)
		c->rcvq.tail = NULL;
	c->rcvq.bytes -= total;
	c->rcvq_mbufs -= nb;
	tcp_stack(w)->rx_mbufs -= nb;
	last->next = NULL;
	head->nb_segs = nb;
	head->pkt_len = total;
	/* A window that reopens by a worthwhile amount is announced at once (3.8.6.2.2). */
	if (c->state == HF_TCP_ESTABLISHED || c->state == HF_TCP_FIN_WAIT_1 ||
	    c->state == HF_TCP_FIN_WAIT_2) {
		uint32_t after = tcp_rcv_window(c);

		if (before < c->rcv_buf / 2 && after - before >= RTE_MIN(c->rcv_buf / 2, 2u * c->mss)) {
			c->flags |= HF_TCP_F_ACK_NOW;
			tcp_pending(w, c);
		}
	}
	return head;
}

bool
hf_tcp_peer_closed(const struct hf_tcp_conn *c)
{
	return (c->flags & HF_TCP_F_FIN_RCVD) && c->rcvq.head == NULL;
}

void
hf_tcp_flush_later(struct hf_worker *w, struct hf_tcp_conn *c)
{
	tcp_pending(w, c);
}

void
hf_tcp_shutdown(struct hf_worker *w, struct hf_tcp_conn *c)
{
	switch (c->state) {
	case HF_TCP_SYN_SENT:
		tcp_conn_close(w, c, 0);
		return;
	case HF_TCP_SYN_RCVD:
	case HF_TCP_ESTABLISHED:
	case HF_TCP_CLOSE_WAIT:
		c->flags |= HF_TCP_F_FIN_QUEUED;
		tcp_pending(w, c);
		return;
	default:
		return;
	}
}

void
hf_tcp_abort(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (c->state == HF_TCP_CLOSED)
		return;
	if (c->state != HF_TCP_SYN_SENT && c->state != HF_TCP_TIME_WAIT)
		tcp_send_segment(w, c, tcp_acceptable_seq(c), 0, TH_RST | TH_ACK);
	c->flags |= HF_TCP_F_APP_CLOSED;
	tcp_conn_close(w, c, -ECONNABORTED);
}

void
hf_tcp_poll(struct hf_worker *w)
{
	struct hf_tcp_stack *st = tcp_stack(w);
	struct hf_tcp_conn *c, *next;

	/*
	 * The clock moves in 1 ms ticks (hf_tcp_clock(), also called by the loop
	 * before its RX burst): within the current one, most loop iterations,
	 * there is no timer to fire.
	 */
	hf_tcp_clock(w);
	if (unlikely(st->wheel.now < st->now_tick)) {
		hf_timer_wheel_advance(&st->wheel, st->now_tick);
		/* Cookies are checked for as long as one sent may still come back (two periods). */
		if (st->cookies_active && st->now_tick >= st->cookies_until)
			st->cookies_active = false;
	}
	c = st->pending;
	st->pending = NULL;
	for (; c != NULL; c = next) {
		next = c->next_pending;
		/* Still marked pending: what flush() sends joins this output, not the next pass. */
		if (!(c->flags & HF_TCP_F_DEAD) && c->ops != NULL && c->ops->flush != NULL)
			c->ops->flush(w, c);
		c->next_pending = NULL;
		c->flags &= ~HF_TCP_F_PENDING;
		if (c->flags & HF_TCP_F_DEAD) {
			c->flags &= ~HF_TCP_F_DEAD;
			release_id(st, c);
			continue;
		}
		tcp_output(w, c);
	}
}

/*
 * The default cap on the mbufs all of @p w's receive queues hold (reasm.c):
 * half its share of its ports' pools, so that the rest (RX rings, send
 * queues, the frames it builds) never finds the pool empty.
 */
static uint32_t
rx_mbufs_share(const struct hf_worker *w)
{
	uint64_t sum = 0;

	for (uint16_t i = 0; i < w->n_ports; i++)
		if (w->ports[i].pool != NULL)
			sum += w->ports[i].pool->size;
	sum /= 2u * RTE_MAX(w->n_workers, (uint16_t)1);
	return sum != 0 ? (uint32_t)RTE_MIN(sum, (uint64_t)UINT32_MAX / 2) : UINT32_MAX / 2;
}

int
hf_tcp_init(struct hf_worker *w, const struct hf_tcp_config *cfg)
{
	struct hf_tcp_stack *st;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t n_buckets = rte_align32pow2(RTE_MAX(cfg->max_connections, 64u));
	unsigned int n_clones;

	st = rte_zmalloc("hf_tcp_stack", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (st == NULL)
		return -ENOMEM;
	st->cfg = *cfg;
	st->conns = rte_zmalloc("hf_tcp_conns", sizeof(*st->conns) * cfg->max_connections,
				RTE_CACHE_LINE_SIZE);
	st->free_ids = rte_malloc("hf_tcp_free", sizeof(uint32_t) * cfg->max_connections, 0);
	st->buckets = rte_zmalloc("hf_tcp_buckets", sizeof(uint32_t) * n_buckets,
				  RTE_CACHE_LINE_SIZE);
	st->bucket_mask = n_buckets - 1;
	st->hash_seed = (uint32_t)rte_rand();
	st->rcv_wscale = wscale_for(cfg->rcv_buf);
	/* Clones reference in-flight data: a window's worth for a good share of connections. */
	n_clones = rte_align32pow2(RTE_MAX(cfg->max_connections * 4u, 65536u)) - 1;
	snprintf(name, sizeof(name), "hf_clone_%u", w->id);
	st->clone_pool = rte_pktmbuf_pool_create(name, n_clones, 256, 0, 0, (int)rte_socket_id());
	st->rx_mbufs_max = cfg->rx_mbufs_max != 0 ? cfg->rx_mbufs_max : rx_mbufs_share(w);
	st->tsc_per_ms = RTE_MAX(w->tsc_hz / 1000, 1u);
	st->now_tick = rte_rdtsc() / st->tsc_per_ms;
	st->now_ms = (uint32_t)st->now_tick;
	st->tick_start = st->now_tick * st->tsc_per_ms;
	if (st->conns == NULL || st->free_ids == NULL || st->buckets == NULL ||
	    st->clone_pool == NULL || tcp_reasm_init() != 0 ||
	    hf_timer_wheel_init(&st->wheel, WHEEL_SLOTS, st->now_tick) != 0)
		goto fail;
	for (uint32_t i = 0; i < cfg->max_connections; i++)
		st->free_ids[i] = cfg->max_connections - 1 - i;
	st->n_free = cfg->max_connections;
	for (unsigned int i = 0; i < sizeof(st->secret); i += 8) {
		uint64_t r = rte_rand();

		memcpy(st->secret + i, &r, 8);
	}
	st->next_ephemeral = (uint16_t)(EPHEMERAL_LO + rte_rand_max(EPHEMERAL_HI - EPHEMERAL_LO));
	w->tcp = st;
	return 0;
fail:
	rte_mempool_free(st->clone_pool);
	rte_free(st->buckets);
	rte_free(st->free_ids);
	rte_free(st->conns);
	rte_free(st);
	return -ENOMEM;
}

void
hf_tcp_fini(struct hf_worker *w)
{
	struct hf_tcp_stack *st = w->tcp;

	if (st == NULL)
		return;
	for (uint32_t i = 0; i < st->cfg.max_connections; i++) {
		struct hf_tcp_conn *c = &st->conns[i];

		if (c->state == HF_TCP_CLOSED)
			continue;
		c->flags |= HF_TCP_F_APP_CLOSED;
		rte_pktmbuf_free(c->sndq_head);
		tcp_rcvq_free(w, c);
		tcp_ooo_free(w, c);
		c->sndq_head = NULL;
		c->tx_seg = NULL;
		c->state = HF_TCP_CLOSED;
	}
	hf_timer_wheel_fini(&st->wheel);
	rte_mempool_free(st->clone_pool);
	rte_free(st->buckets);
	rte_free(st->free_ids);
	rte_free(st->conns);
	rte_free(st);
	w->tcp = NULL;
}
