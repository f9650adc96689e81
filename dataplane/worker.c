/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker poll loop. Each iteration, top to bottom:
 *   RX burst on every port → hand each frame to the stack (prefetching ahead),
 *   or, on a software-steered port, to the sibling that owns its flow → frames
 *   siblings steered here → timers when due → sibling ARP news → TX flush →
 *   RCU quiescent report.
 * Nothing here blocks, sleeps, locks or allocates from the heap.
 *
 * Each iteration is also timed, piece by piece (enum hf_loop_work), for the
 * loop-gap histogram and the stall counters (issue 16): four TSC reads a loop,
 * two of which the cycle accounting needs anyway.
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "dataplane/net/arp.h"
#include "dataplane/impair.h"
#include "dataplane/overload.h"
#include "dataplane/proxy/http.h"
#include "dataplane/proxy/l4.h"
#include "dataplane/net/eth.h"
#include "dataplane/port.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

/* How far ahead of the frame being handled the next one's header is prefetched. */
#define PREFETCH_OFFSET 3
/* Interval of the timer pass. */
#define TICK_MS 10
/* Loops in a row the queue may refuse the frame at its head before it is dropped. */
#define TX_MAX_STALLS 64
/* Updates one worker may have in flight from its siblings. */
#define ARP_RING_SIZE 1024

/* A worker id is a slot of the port I/O gate. */
static_assert(HF_MAX_WORKERS <= HF_PORT_GATE_SLOTS, "the I/O gate tracks every worker");

/* Defined here, by its readers; the agent's publisher is its only writer (dataplane/snapshot.h). */
struct hf_snapshot *hf_snapshot_now;

volatile bool hf_worker_stop;

uint64_t hf_worker_loop_epoch;

static const enum hf_counter stall_counter[HF_LOOP__N] = {
	[HF_LOOP_SNAPSHOT] = HF_CNT_WORKER_STALL_SNAPSHOT,
	[HF_LOOP_RX] = HF_CNT_WORKER_STALL_RX,
	[HF_LOOP_ARP] = HF_CNT_WORKER_STALL_ARP,
	[HF_LOOP_TCP] = HF_CNT_WORKER_STALL_TCP,
	[HF_LOOP_TX] = HF_CNT_WORKER_STALL_TX,
	[HF_LOOP_OUTSIDE] = HF_CNT_WORKER_STALL_OUTSIDE,
};

/* The highest value of bucket @p i: the inverse of hf_loop_bucket(). */
static uint64_t
bucket_top(uint32_t i)
{
	uint32_t top = i >> HF_LOOP_SUB_BITS;
	unsigned int s = top == 0 ? 0 : top - 1;

	return ((uint64_t)(i - (s << HF_LOOP_SUB_BITS)) << s) + ((UINT64_C(1) << s) - 1);
}

struct hf_stall_board *
hf_stall_board_map(const char *path, bool create)
{
	struct hf_stall_board *b;
	int fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDONLY, 0644);
	int err;

	if (fd < 0)
		return NULL;
	if (create && ftruncate(fd, sizeof(*b)) != 0)
		goto fail;
	b = mmap(NULL, sizeof(*b), create ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		goto fail;
	close(fd);
	if (create) {
		b->n_slots = HF_MAX_WORKERS;
		b->magic = HF_STALL_BOARD_MAGIC;
	} else if (b->magic != HF_STALL_BOARD_MAGIC) {
		munmap(b, sizeof(*b));
		errno = EINVAL;
		return NULL;
	}
	return b;
fail:
	err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/* The board HF_STALL_BOARD names, mapped by the first hf_worker_init() of the process. */
static struct hf_stall_board *
env_board(void)
{
	static struct hf_stall_board *board;
	static bool tried;
	const char *path;

	if (!tried) {
		tried = true;
		path = getenv("HF_STALL_BOARD");
		if (path != NULL && *path != '\0')
			board = hf_stall_board_map(path, true);
	}
	return board;
}

void
hf_stall_board_publish(struct hf_stall_board *b, struct hf_stall_slot *slot, uint64_t start,
		       uint64_t end)
{
	uint64_t shadow = end + (end - start);
	uint64_t cur = __atomic_load_n(&b->shadow_end, __ATOMIC_RELAXED);

	slot->start = start;
	slot->count++;
	/* Pairs with the acquire loads of the reader (hf-loadgen's complete()). */
	__atomic_store_n(&slot->end, end, __ATOMIC_RELEASE);
	/* shadow_end: one word for a reader, whatever the workers */
	while (cur < shadow && !__atomic_compare_exchange_n(&b->shadow_end, &cur, shadow, true,
							    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

void
hf_worker_loop_reset(struct hf_worker *w)
{
	uint64_t epoch = __atomic_load_n(&hf_worker_loop_epoch, __ATOMIC_RELAXED);

	memset(&w->loop, 0, sizeof(w->loop));
	w->loop.epoch = epoch;
}

uint64_t
hf_loop_gap_at(const struct hf_loop_stats *s, double pct)
{
	uint64_t rank, cum = 0;

	if (s->count == 0)
		return 0;
	if (pct >= 100.0)
		return s->max;
	rank = (uint64_t)(pct / 100.0 * (double)s->count);
	if ((double)rank < pct / 100.0 * (double)s->count || rank == 0)
		rank++;
	for (uint32_t i = 0; i < HF_LOOP_BUCKETS; i++) {
		cum += s->bucket[i];
		if (cum >= rank)
			return RTE_MIN(bucket_top(i), s->max);
	}
	return s->max;
}

void
hf_loop_stats_merge(struct hf_loop_stats *dst, const struct hf_loop_stats *src)
{
	dst->count += src->count;
	dst->max = RTE_MAX(dst->max, src->max);
	dst->max_unswitched = RTE_MAX(dst->max_unswitched, src->max_unswitched);
	for (unsigned int k = 0; k < HF_LOOP__N; k++)
		dst->unswitched_longest[k] = RTE_MAX(dst->unswitched_longest[k],
						     src->unswitched_longest[k]);
	for (unsigned int k = 0; k < HF_LOOP__N; k++)
		dst->longest[k] = RTE_MAX(dst->longest[k], src->longest[k]);
	for (unsigned int i = 0; i < HF_LOOP_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

/*
 * Whether the thread was switched out during a stall of @p gap ticks: its
 * context switch counts rose since the previous stall (one getrusage() call,
 * only on a stall, which has already cost 50 us). A preemption is another
 * task on our CPU; a voluntary switch is a blocking call of ours; neither is
 * our own long work, an interrupt or the hypervisor, which the longest such
 * gap then bounds. A switch between two stalls is credited to the second:
 * a poller switched out always stalls, so that is rare and errs towards
 * calling a stall ours.
 */
static void
stall_switches(struct hf_worker *w, uint64_t gap)
{
	struct hf_loop_stats *ls = &w->loop;
	struct rusage ru;
	uint64_t all, inv;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return;
	inv = (uint64_t)ru.ru_nivcsw;
	all = inv + (uint64_t)ru.ru_nvcsw;
	if (inv != ls->preempt_seen)
		HF_COUNT(w, WORKER_STALL_PREEMPTED);
	else if (all != ls->switches_seen)
		HF_COUNT(w, WORKER_STALL_BLOCKED);
	else {
		HF_COUNT(w, WORKER_STALL_UNSWITCHED);
		if (gap > ls->max_unswitched)
			ls->max_unswitched = gap;
		for (unsigned int k = 0; k < HF_LOOP__N; k++)
			if (ls->cur[k] > ls->unswitched_longest[k])
				ls->unswitched_longest[k] = ls->cur[k];
	}
	ls->preempt_seen = inv;
	ls->switches_seen = all;
}

/*
 * The start of an iteration at @p start: the gap since the previous one goes
 * into the histogram and, past the stall bound, is blamed on the longest
 * piece of work it held (the time outside the loop included).
 */
static inline void
loop_begin(struct hf_worker *w, uint64_t start)
{
	struct hf_loop_stats *ls = &w->loop;
	uint64_t gap, longest;
	unsigned int blame;

	if (unlikely(__atomic_load_n(&hf_worker_loop_epoch, __ATOMIC_RELAXED) != ls->epoch))
		hf_worker_loop_reset(w);
	if (unlikely(ls->last_start == 0))
		goto first;
	gap = start - ls->last_start;
	ls->cur[HF_LOOP_OUTSIDE] = start - ls->last_end;
	hf_loop_record(ls, gap);
	for (unsigned int k = 0; k < HF_LOOP__N; k++)
		if (ls->cur[k] > ls->longest[k])
			ls->longest[k] = ls->cur[k];
	if (unlikely(gap > w->stall_tsc)) {
		HF_COUNT(w, WORKER_STALLS);
		HF_COUNT_N(w, WORKER_STALL_CYCLES, gap);
		if (gap > 10 * w->stall_tsc)
			HF_COUNT(w, WORKER_STALLS_500US);
		if (gap > 100 * w->stall_tsc)
			HF_COUNT(w, WORKER_STALLS_5MS);
		ls->stall_start = ls->last_start;
		ls->stall_end = start;
		if (w->stall_slot != NULL)
			hf_stall_board_publish(env_board(), w->stall_slot, ls->last_start, start);
		blame = HF_LOOP_OUTSIDE;
		longest = ls->cur[HF_LOOP_OUTSIDE];
		for (unsigned int k = 0; k < HF_LOOP_OUTSIDE; k++)
			if (ls->cur[k] > longest) {
				longest = ls->cur[k];
				blame = k;
			}
		w->cnt.v[stall_counter[blame]]++;
		stall_switches(w, gap);
	}
first:
	if (unlikely(ls->count == 0 && ls->switches_seen == 0)) {
		struct rusage ru;

		if (getrusage(RUSAGE_THREAD, &ru) == 0) {
			ls->preempt_seen = (uint64_t)ru.ru_nivcsw;
			ls->switches_seen = ls->preempt_seen + (uint64_t)ru.ru_nvcsw;
		}
	}
	ls->last_start = start;
	ls->cur[HF_LOOP_SNAPSHOT] = 0;
	ls->cur[HF_LOOP_ARP] = 0;
}

/* The worker's quiescent point for the I/O gate, at the top of each loop. */
static inline void
gate_pass(struct hf_worker *w)
{
	if (unlikely(!w->gate_online)) {
		hf_port_gate_online(w->id);
		w->gate_online = true;
	}
	w->gate_open = hf_port_gate_pass(w->id);
}

/* After the worker's last burst on a gated port (idempotent). */
static void
gate_offline(struct hf_worker *w)
{
	if (w->gate_online) {
		hf_port_gate_offline(w->id);
		w->gate_online = false;
		w->gate_open = false;
	}
}

struct rte_mbuf *
hf_mbuf_alloc_slow(struct hf_worker *w, const struct hf_port *p)
{
	struct hf_mbuf_stash *s = &w->stash[p->index];

	/* All or nothing: near the pool's end the mbufs still there go one at a time. */
	if (rte_pktmbuf_alloc_bulk(p->pool, s->m, RTE_DIM(s->m)) != 0)
		return rte_pktmbuf_alloc(p->pool);
	s->n = RTE_DIM(s->m);
	return s->m[--s->n];
}

void
hf_tx_flush(struct hf_worker *w, const struct hf_port *p)
{
	struct hf_txbuf *tb = &w->tx[p->index];
	struct hf_impair *im = w->impair[p->index][HF_IMPAIR_TX];
	uint16_t sent, i;
	uint64_t bytes = 0, t0;

	/* Frames after `ready` are new: they meet the impairment once, the retried ones never. */
	if (unlikely(im != NULL))
		tb->n = tb->ready + hf_impair_apply(im, &w->cnt, &tb->m[tb->ready], tb->n - tb->ready,
						    RTE_DIM(tb->m) - tb->ready, w->now);
	if (tb->n == 0)
		return;
	if (unlikely(!hf_worker_port_ready(w, p))) {
		/*
		 * Gate closed: the frames wait for the next pass. Link down: the
		 * peer is gone, and a new one would only answer them with resets.
		 */
		if (w->gate_open) {
			HF_COUNT_N(w, PORT_DROP_LINK_DOWN, tb->n);
			rte_pktmbuf_free_bulk(tb->m, tb->n);
			tb->n = 0;
			tb->ready = 0;
			tb->stalls = 0;
		}
		return;
	}
	/* Two clock reads a burst, not a frame: the device's share of the busy cycles (memif's copies). */
	t0 = rte_rdtsc();
	sent = rte_eth_tx_burst(p->port_id, w->id, tb->m, tb->n);
	HF_COUNT_N(w, WORKER_TX_IO_CYCLES, rte_rdtsc() - t0);
	for (i = 0; i < sent; i++)
		bytes += rte_pktmbuf_pkt_len(tb->m[i]);
	HF_COUNT_N(w, PORT_TX_PACKETS, sent);
	HF_COUNT_N(w, PORT_TX_BYTES, bytes);
	/*
	 * A queue that refused frames (a full ring, a busy kernel behind a tap)
	 * gets them again next loop; only frames that find the buffer full are
	 * dropped (hf_tx_enqueue). A burst loss here would cost TCP a timeout.
	 */
	if (sent < tb->n) {
		HF_COUNT_N(w, PORT_TX_RETRIED, tb->n - sent);
		/* A frame the device refuses loop after loop (too big, say) must not block the rest. */
		if (sent == 0 && ++tb->stalls >= TX_MAX_STALLS) {
			HF_COUNT(w, PORT_DROP_TX_REFUSED);
			rte_pktmbuf_free(tb->m[0]);
			sent = 1;
		}
		memmove(tb->m, &tb->m[sent], (tb->n - sent) * sizeof(tb->m[0]));
	}
	if (sent > 0)
		tb->stalls = 0;
	tb->n -= sent;
	tb->ready = tb->n;
}

/*
 * The worker that owns the flow of frame @p m, received on port @p p whose
 * device does not steer by our key (p->sw_steer): the port's table entry for
 * the Toeplitz hash of the frame's TCP 4-tuple, or of the one an ICMP error
 * quotes (the key is symmetric: a quoted outbound segment hashes as its
 * replies do). It is the computation active opens make to choose a local
 * port (steers_here() in tcp/conn.c), so replies find their connection.
 * Other frames, and any too short to tell, stay with the worker that has
 * them: ARP news reaches siblings its own way, and the stack counts the rest.
 */
static uint16_t
flow_owner(const struct hf_worker *w, const struct hf_port *p, const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off = sizeof(struct rte_ether_hdr), ihl;
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(d + off);
	const struct rte_icmp_hdr *ic;
	const rte_be16_t *l4;
	struct rte_ipv4_tuple t;
	uint16_t owner;

	if (len < off + sizeof(*ih) ||
	    ((const struct rte_ether_hdr *)d)->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return w->id;
	ihl = rte_ipv4_hdr_len(ih);
	if (ih->next_proto_id == IPPROTO_ICMP) {
		ic = (const struct rte_icmp_hdr *)(d + off + ihl);
		if (len < off + ihl + sizeof(*ic) + sizeof(*ih) ||
		    (ic->icmp_type != 3 && ic->icmp_type != 11))	/* unreachable, time exceeded */
			return w->id;
		off += ihl + sizeof(*ic);
		ih = (const struct rte_ipv4_hdr *)(d + off);
		ihl = rte_ipv4_hdr_len(ih);
	}
	if (ih->next_proto_id != IPPROTO_TCP || ihl < sizeof(*ih) || len < off + ihl + 4)
		return w->id;
	l4 = (const rte_be16_t *)(d + off + ihl);
	t.src_addr = rte_be_to_cpu_32(ih->src_addr);
	t.dst_addr = rte_be_to_cpu_32(ih->dst_addr);
	t.sport = rte_be_to_cpu_16(l4[0]);
	t.dport = rte_be_to_cpu_16(l4[1]);
	owner = p->reta[rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, p->rss_key) &
			(p->reta_size - 1)];
	return owner < w->n_workers ? owner : w->id;
}

/*
 * Hands frame @p m to the worker that owns its flow when that is not @p w.
 * Returns true when the frame is no longer @p w's (passed on, or dropped on a
 * full ring).
 */
static bool
steer(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	uint16_t owner = flow_owner(w, p, m);

	if (owner == w->id)
		return false;
	/* The port index travels in the mbuf: the owner passes the frame to that port's stack. */
	m->port = p->index;
	if (unlikely(rte_ring_mp_enqueue(w->siblings[owner]->steer_in, m) != 0)) {
		HF_COUNT(w, PORT_DROP_STEER_RING);
		rte_pktmbuf_free(m);
		return true;
	}
	HF_COUNT(w, PORT_STEERED);
	return true;
}

/*
 * Passes the frames siblings steered to @p w to its stack; returns how many.
 * They are this worker's stack packets (the sibling that received them did
 * not count them as its own), and their cycles its stack cycles: @p t0 is
 * the start of the stack's window, read here if the RX bursts brought none.
 */
static unsigned int
drain_steered(struct hf_worker *w, uint64_t *t0)
{
	struct rte_mbuf *pkts[HF_BURST];
	unsigned int n, total = 0;

	/* Bounded: a sibling that keeps the ring full must not keep this loop from its own RX. */
	for (int round = 0; round < 4; round++) {
		n = rte_ring_sc_dequeue_burst(w->steer_in, (void **)pkts, HF_BURST, NULL);
		if (n > 0 && *t0 == 0)
			*t0 = rte_rdtsc();
		hf_tcp_prefetch_burst(w, pkts, (uint16_t)n);
		for (unsigned int i = 0; i < n; i++) {
			if (i + PREFETCH_OFFSET < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET], void *));
			hf_eth_input(w, &w->ports[pkts[i]->port], pkts[i]);
		}
		total += n;
		if (n < HF_BURST)
			break;
	}
	HF_COUNT_N(w, WORKER_STACK_PACKETS, total);
	return total;
}

/* One RX burst of port @p p into @p pkts (room for 2 * HF_BURST); returns how many. */
static inline uint16_t
rx_burst(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf **pkts)
{
	struct hf_impair *im = w->impair[p->index][HF_IMPAIR_RX];
	uint16_t n = 0;

	if (likely(hf_worker_port_ready(w, p)))
		n = rte_eth_rx_burst(p->port_id, w->id, pkts, HF_BURST);
	if (unlikely(im != NULL))
		n = hf_impair_apply(im, &w->cnt, pkts, n, 2 * HF_BURST, w->now);
	return n;
}

/*
 * The @p n frames of one RX burst of port @p p into the stack, or to the
 * siblings that own the frames' flows. Only those this worker's stack took
 * count as its stack packets, so that a steered frame counts once, at the
 * worker that handles it.
 */
static inline void
rx_handle(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i, away = 0;

	for (i = 0; i < n && i < PREFETCH_OFFSET; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	hf_tcp_prefetch_burst(w, pkts, n);
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_OFFSET < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET], void *));
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (unlikely(p->sw_steer) && steer(w, p, pkts[i])) {
			away++;
			continue;
		}
		hf_eth_input(w, p, pkts[i]);
	}
	HF_COUNT_N(w, PORT_RX_PACKETS, n);
	HF_COUNT_N(w, PORT_RX_BYTES, bytes);
	HF_COUNT_N(w, WORKER_STACK_PACKETS, n - away);
}

/* Worker 0 announces each port whose link came up since it last looked. */
static void
announce_links(struct hf_worker *w)
{
	if (w->id != 0)
		return;
	for (uint16_t i = 0; i < w->n_ports; i++) {
		/* Pairs with the release store in the agent's link watch. */
		uint32_t gen = __atomic_load_n(&w->ports[i].link_gen, __ATOMIC_ACQUIRE);

		if (gen != w->announced[i]) {
			w->announced[i] = gen;
			hf_arp_announce(w, &w->ports[i]);
		}
	}
}

/* A share in [0, 1] of @p used out of @p total (0 when there is no pool). */
static float
share_of(uint64_t used, uint64_t total)
{
	return total == 0 ? 0.0f : used >= total ? 1.0f : (float)used / (float)total;
}

/*
 * Ends an overload window (overload.h): reads the pools, sets the actions'
 * levels and publishes the readings as gauges. Once per window (10 ms by
 * default): the mempool count walks the lcore caches, too slow per loop.
 */
static void
overload_window(struct hf_worker *w, uint64_t now)
{
	struct hf_overload *o = &w->ovl;
	float p[HF_OVM__N] = {0};
	uint64_t ring;
	static const int pct_cnt[HF_OVM__N] = {
		[HF_OVM_BACKLOG] = HF_CNT_OVERLOAD_PCT_BACKLOG,
		[HF_OVM_MBUFS] = HF_CNT_OVERLOAD_PCT_MBUFS,
		[HF_OVM_CONNECTIONS] = HF_CNT_OVERLOAD_PCT_CONNECTIONS,
		[HF_OVM_STREAMS] = HF_CNT_OVERLOAD_PCT_STREAMS,
		[HF_OVM_QUEUE_DELAY] = HF_CNT_OVERLOAD_PCT_QUEUE_DELAY,
	};
	static const int active_cnt[HF_OVA__N] = {
		[HF_OVA_REFUSE_CONNECTIONS] = HF_CNT_OVERLOAD_ACTIVE_REFUSE,
		[HF_OVA_DISABLE_KEEPALIVE] = HF_CNT_OVERLOAD_ACTIVE_KEEPALIVE,
		[HF_OVA_SHED_REQUESTS] = HF_CNT_OVERLOAD_ACTIVE_SHED,
	};

	for (uint16_t i = 0; i < w->n_ports; i++) {
		const struct rte_mempool *mp = w->ports[i].pool;
		float f;

		if (mp == NULL)
			continue;
		f = share_of(rte_mempool_in_use_count(mp), mp->size);
		if (f > p[HF_OVM_MBUFS])
			p[HF_OVM_MBUFS] = f;
	}
	if (w->tcp != NULL)
		p[HF_OVM_CONNECTIONS] = share_of(w->tcp->n_active, w->tcp->cfg.max_connections);
	if (w->http != NULL)
		p[HF_OVM_STREAMS] = share_of(w->http->n_streams - w->http->n_free_streams,
					     w->http->n_streams);
	/* At most a ring's worth, and about two frames a connection (a request and an ACK). */
	ring = 0;
	for (uint16_t i = 0; i < w->n_ports; i++)
		ring += w->ports[i].nb_rxd;
	if (w->tcp != NULL && 2 * (uint64_t)w->tcp->n_active < ring)
		ring = 2 * (uint64_t)w->tcp->n_active;
	hf_overload_delay(o, now, ring);
	hf_overload_update(o, share_of(o->backlog_tsc, now - o->window_start), p);
	w->cnt.v[HF_CNT_OVERLOAD_STANDING_US] = o->standing_tsc * 1000000 / w->tsc_hz;
	o->window_start = now;
	o->backlog_tsc = 0;
	for (int m = 0; m < HF_OVM__N; m++)
		w->cnt.v[pct_cnt[m]] = (uint64_t)(o->pressure[m] * 100.0f + 0.5f);
	for (int a = 0; a < HF_OVA__N; a++)
		w->cnt.v[active_cnt[a]] = o->threshold[a] != 0;
}

unsigned int
hf_worker_poll_once(struct hf_worker *w)
{
	uint64_t start = rte_rdtsc(), t_rx, t_tcp, end, t, t_stack = 0, prev = w->loop.last_start;
	struct rte_mbuf *pkts[HF_MAX_PORTS][2 * HF_BURST];
	uint16_t got[HF_MAX_PORTS];
	struct hf_loop_stats *ls = &w->loop;
	unsigned int n = 0;
	bool backlogged = false;

	loop_begin(w, start);
	w->now = start;
	/* timers armed while the burst is handled count from now (hf_tcp_clock()) */
	if (w->tcp != NULL)
		hf_tcp_clock(w);
	t_rx = start;
	/* Before any burst: what the previous iteration (and the caller between) did is over. */
	if (w->gated)
		gate_pass(w);
	w->snap = hf_snapshot_current();
	/* A new configuration may bring or drop listeners: opened or closed here, between bursts. */
	if (unlikely(w->snap != NULL && w->snap->version != w->seen_version)) {
		w->seen_version = w->snap->version;
		if (w->tcp != NULL) {
			/* What it lost first: a port that changed filters is closed before it reopens. */
			hf_l4_drain_removed(w, w->snap);
			hf_http_drain_removed(w, w->snap);
			hf_l4_sync(w, w->snap);
			if (w->http != NULL)
				hf_http_sync(w, w->snap);
		}
		t_rx = rte_rdtsc();
		ls->cur[HF_LOOP_SNAPSHOT] = t_rx - start;
	}
	/*
	 * Every port's burst first, then the stack on all of them: one clock
	 * read on each side of the stack's work, however many ports had frames
	 * (a read costs tens of cycles on a virtual machine).
	 */
	for (uint16_t i = 0; i < w->n_ports; i++) {
		got[i] = rx_burst(w, &w->ports[i], pkts[i]);
		n += got[i];
		/* A full burst: frames were left waiting in the queue (overload.h's backlog). */
		backlogged |= got[i] >= HF_BURST;
	}
	if (n > 0) {
		t_stack = rte_rdtsc();
		for (uint16_t i = 0; i < w->n_ports; i++)
			if (got[i] > 0)
				rx_handle(w, &w->ports[i], pkts[i], got[i]);
	}
	if (w->steer_in != NULL)
		n += drain_steered(w, &t_stack);

	t_tcp = rte_rdtsc();
	ls->cur[HF_LOOP_RX] = t_tcp - t_rx;
	if (t_stack != 0)
		HF_COUNT_N(w, WORKER_STACK_CYCLES, t_tcp - t_stack);
	if (unlikely(w->now >= w->next_tick)) {
		announce_links(w);
		hf_arp_tick(w);
		w->next_tick = w->now + hf_ms_to_tsc(w, TICK_MS);
		t = rte_rdtsc();
		ls->cur[HF_LOOP_ARP] = t - t_tcp;
		t_tcp = t;
	}
	hf_arp_drain_siblings(w);
	/* Requests queued at their cluster's max_connections, for the connections that closed. */
	if (unlikely(w->http != NULL && w->http->n_waitq != 0))
		hf_http_wake(w);
	if (w->tcp != NULL)
		hf_tcp_poll(w);
	t = rte_rdtsc();
	ls->cur[HF_LOOP_TCP] = t - t_tcp;
	for (uint16_t i = 0; i < w->n_ports; i++)
		hf_tx_flush(w, &w->ports[i]);
	/* No snapshot pointer survives this point: pairs with rte_rcu_qsbr_check() in the agent. */
	w->snap = NULL;
	if (w->qsbr != NULL)
		rte_rcu_qsbr_quiescent(w->qsbr, w->id);

	end = rte_rdtsc();
	ls->cur[HF_LOOP_TX] = end - t;
	ls->last_end = end;
	HF_COUNT(w, WORKER_LOOPS);
	/* A gap since the previous iteration's start past the stall bound: the thread did not run. */
	hf_overload_loop(&w->ovl, backlogged, n, start, end,
			 prev != 0 && start - prev > w->stall_tsc ? start - prev : 0);
	if (unlikely(end - w->ovl.window_start >= w->ovl.window_tsc))
		overload_window(w, end);
	if (n == 0) {
		HF_COUNT(w, WORKER_IDLE_LOOPS);
		HF_COUNT_N(w, WORKER_IDLE_CYCLES, end - start);
	} else {
		HF_COUNT_N(w, WORKER_BUSY_CYCLES, end - start);
		HF_COUNT_N(w, WORKER_RX_IO_CYCLES, t_stack - t_rx);
		HF_COUNT_N(w, WORKER_POLL_CYCLES, ls->cur[HF_LOOP_TCP]);
		/*
		 * The cost of the work itself on a shared machine: an iteration that
		 * took longer than the stall bound was, at any rate we reach, the
		 * thread not running for part of it (a stall), not frames.
		 */
		if (likely(end - start < w->stall_tsc)) {
			HF_COUNT_N(w, WORKER_BUSY_CYCLES_UNSTALLED, end - start);
			HF_COUNT_N(w, WORKER_BUSY_FRAMES_UNSTALLED, n);
		}
	}
	return n;
}

void
hf_worker_io_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGIO);
	/* net_tap in DPDK 22.11 asks for a real-time one (F_SETSIG): all of them, whichever. */
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(set, sig);
}

int
hf_worker_main(void *arg)
{
	struct hf_worker *w = arg;
	sigset_t sigio;

	/* The daemon blocks these everywhere else: net_tap's RX wakeups land here (main.c). */
	hf_worker_io_signals(&sigio);
	pthread_sigmask(SIG_UNBLOCK, &sigio, NULL);
	if (w->qsbr != NULL) {
		rte_rcu_qsbr_thread_register(w->qsbr, w->id);
		rte_rcu_qsbr_thread_online(w->qsbr, w->id);
	}
	/* Pairs with the release store in the agent's stop path. */
	while (!__atomic_load_n(&hf_worker_stop, __ATOMIC_ACQUIRE))
		hf_worker_poll_once(w);

	for (uint16_t i = 0; i < w->n_ports; i++)
		hf_tx_flush(w, &w->ports[i]);
	gate_offline(w);
	if (w->qsbr != NULL) {
		rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
		rte_rcu_qsbr_thread_unregister(w->qsbr, w->id);
	}
	return 0;
}

int
hf_worker_init(struct hf_worker *w, uint16_t id, uint16_t n_workers,
	       const struct hf_port *ports, uint16_t n_ports, uint64_t tsc_hz)
{
	struct hf_overload_config ovl;
	char name[RTE_RING_NAMESIZE];

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->n_workers = n_workers;
	w->ports = ports;
	w->n_ports = n_ports;
	w->tsc_hz = tsc_hz;
	w->stall_tsc = tsc_hz * HF_WORKER_STALL_US / 1000000;
	if (env_board() != NULL && id < HF_MAX_WORKERS)
		w->stall_slot = &env_board()->slot[id];
	hf_worker_loop_reset(w);
	hf_overload_defaults(&ovl);
	hf_overload_init(&w->ovl, &ovl, tsc_hz, id + 1u);
	w->ovl.window_start = rte_rdtsc();
	for (uint16_t i = 0; i < n_ports; i++)
		w->gated = w->gated || ports[i].gated;
	hf_arp_init(w);
	if (n_workers > 1) {
		snprintf(name, sizeof(name), "hf_arp_w%u", id);
		w->arp_in = rte_ring_create_elem(name, sizeof(struct hf_arp_update), ARP_RING_SIZE,
						 rte_socket_id(), RING_F_SC_DEQ);
		if (w->arp_in == NULL)
			return -ENOMEM;
		snprintf(name, sizeof(name), "hf_steer_w%u", id);
		w->steer_in = rte_ring_create(name, HF_STEER_RING_SIZE, rte_socket_id(), RING_F_SC_DEQ);
		if (w->steer_in == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
hf_worker_overload(struct hf_worker *w, const struct hf_overload_config *cfg)
{
	hf_overload_init(&w->ovl, cfg, w->tsc_hz, w->id + 1u);
	w->ovl.window_start = rte_rdtsc();
}

int
hf_worker_impair(struct hf_worker *w, uint16_t port, const struct hf_impair_cfg *cfg)
{
	for (int d = HF_IMPAIR_RX; d <= HF_IMPAIR_TX; d++) {
		struct hf_impair *im = rte_zmalloc("hf_impair", sizeof(*im), RTE_CACHE_LINE_SIZE);

		if (im == NULL)
			return -ENOMEM;
		if (hf_impair_init(im, cfg, d, w->tsc_hz, (uint64_t)w->id << 8 | port) != 0) {
			rte_free(im);
			return -EINVAL;
		}
		w->impair[port][d] = im;
	}
	return 0;
}

void
hf_worker_fini(struct hf_worker *w)
{
	/* The caller has stopped this worker's loop: the gate need not wait for it any more. */
	gate_offline(w);
	for (uint16_t i = 0; i < w->n_ports; i++) {
		struct hf_txbuf *tb = &w->tx[i];

		rte_pktmbuf_free_bulk(tb->m, tb->n);
		tb->n = 0;
		tb->ready = 0;
		rte_pktmbuf_free_bulk(w->stash[i].m, w->stash[i].n);
		w->stash[i].n = 0;
	}
	hf_http_fini(w);
	hf_l4_fini(w);
	hf_tcp_fini(w);
	hf_arp_fini(w);
	for (uint16_t i = 0; i < w->n_ports; i++)
		for (int d = 0; d < 2; d++) {
			if (w->impair[i][d] == NULL)
				continue;
			hf_impair_fini(w->impair[i][d]);
			rte_free(w->impair[i][d]);
			w->impair[i][d] = NULL;
		}
	rte_ring_free(w->arp_in);
	w->arp_in = NULL;
	if (w->steer_in != NULL) {
		struct rte_mbuf *m;

		/* Frames a sibling steered here after this worker's last loop. */
		while (rte_ring_sc_dequeue(w->steer_in, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->steer_in);
		w->steer_in = NULL;
	}
}
