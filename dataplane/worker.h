/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_WORKER_H
#define HF_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dataplane/worker-t.h"

/*
 * Initialises @p w for queue @p id of every port in @p ports. @p tsc_hz sets
 * the timer scales. Returns 0, or -ENOMEM when the sibling ring cannot be
 * created (rte_errno is left as the ring library set it).
 */
int hf_worker_init(struct hf_worker *w, uint16_t id, uint16_t n_workers,
		   const struct hf_port *ports, uint16_t n_ports, uint64_t tsc_hz);

struct hf_impair_cfg;
struct hf_overload_config;

/* Sets @p w's overload manager to @p cfg (hf_worker_init() starts it with the defaults). */
void hf_worker_overload(struct hf_worker *w, const struct hf_overload_config *cfg);

/*
 * Turns on impairment of both directions of port @p port for this worker.
 * Returns 0, -ENOMEM or -EINVAL.
 */
int hf_worker_impair(struct hf_worker *w, uint16_t port, const struct hf_impair_cfg *cfg);

/** Frees what hf_worker_init() allocated and any frame still queued. */
void hf_worker_fini(struct hf_worker *w);

/*
 * Fills @p set with the signals a PMD may raise per packet (SIGIO and the
 * real-time ones): the daemon blocks them in every thread but the workers.
 */
void hf_worker_io_signals(sigset_t *set);

/** The lcore body: polls until hf_worker_stop is set. @p arg is the struct hf_worker. */
int hf_worker_main(void *arg);

/** Runs one iteration of the poll loop; returns how many frames it received. */
unsigned int hf_worker_poll_once(struct hf_worker *w);

/* A gap between the starts of two loop iterations longer than this is a stall (counters.def). */
#define HF_WORKER_STALL_US 50

/*
 * Loop timing (struct hf_loop_stats in worker-t.h). Every worker starts its
 * window again at its next iteration when this changes: the agent increments
 * it (relaxed: a window that starts one loop late is no worse) for POST
 * /reset_loop_stats.
 */
extern uint64_t hf_worker_loop_epoch;

/*
 * Maps the stall board at @p path (worker-t.h): created (zeroed, sized) with
 * @p create, else an existing one, read-only. NULL with errno set when it
 * cannot be. Not for a hot path. hf_worker_init() maps the one named by the
 * environment variable HF_STALL_BOARD, once per process, and gives each
 * worker its slot.
 */
struct hf_stall_board *hf_stall_board_map(const char *path, bool create);

/*
 * Publishes on board @p b, in @p slot, a loop stall from TSC @p start to
 * @p end, and raises the board's shadow_end to its end plus its length.
 * hf-wire, the bench's bare forwarder, publishes its own the same way.
 */
void hf_stall_board_publish(struct hf_stall_board *b, struct hf_stall_slot *slot, uint64_t start,
			    uint64_t end);

/* Empties @p w's loop statistics now (its own thread, or before it runs). */
void hf_worker_loop_reset(struct hf_worker *w);

/* The histogram bucket of a gap of @p ticks: one clz, two shifts, an add (as hf_hist_index()). */
static inline uint32_t
hf_loop_bucket(uint64_t ticks)
{
	int s;

	if (unlikely(ticks >> HF_LOOP_MAX_LOG2 != 0))
		ticks = (UINT64_C(1) << HF_LOOP_MAX_LOG2) - 1;
	s = 63 - __builtin_clzll(ticks | 1) - HF_LOOP_SUB_BITS;
	s = s < 0 ? 0 : s;
	return ((uint32_t)s << HF_LOOP_SUB_BITS) + (uint32_t)(ticks >> s);
}

/* Records one gap of @p ticks in @p s. */
static inline void
hf_loop_record(struct hf_loop_stats *s, uint64_t ticks)
{
	s->bucket[hf_loop_bucket(ticks)]++;
	s->count++;
	if (unlikely(ticks > s->max))
		s->max = ticks;
}

/*
 * The gap at percentile @p pct (0..100] of @p s, in TSC ticks: the top of the
 * bucket holding that rank, capped at the longest gap (so within 12.5% above
 * the true value); 0 while empty.
 */
uint64_t hf_loop_gap_at(const struct hf_loop_stats *s, double pct);

/* Adds @p src's gaps to @p dst (counts, buckets, the longest of each). */
void hf_loop_stats_merge(struct hf_loop_stats *dst, const struct hf_loop_stats *src);

/** Set (release) by the control agent to end every worker's loop. */
extern volatile bool hf_worker_stop;

/*
 * Whether @p w may call a burst function on port @p p now. A gated port
 * (memif, port.h) is used only between a pass through the I/O gate that found
 * it open and the next pass (hf_worker_poll_once() makes them), and only while
 * its link is up: with the link down its driver has no rings. Code that bursts
 * on a port itself, outside hf_tx_flush(), asks this first.
 */
static inline bool
hf_worker_port_ready(const struct hf_worker *w, const struct hf_port *p)
{
	return !p->gated || (w->gate_open && __atomic_load_n(&p->io_up, __ATOMIC_RELAXED));
}

/*
 * The port an upstream connection to @p addr (network order) leaves by: the
 * first whose subnet holds it, else port 0, whose gateway routes it.
 */
static inline uint16_t
hf_worker_port_for(const struct hf_worker *w, uint32_t addr)
{
	for (uint16_t i = 0; i < w->n_ports; i++)
		if ((addr & w->ports[i].mask) == (w->ports[i].addr & w->ports[i].mask))
			return i;
	return 0;
}

/* hf_mbuf_alloc() with its stash empty: refills it, or takes one mbuf when a burst is not there. */
struct rte_mbuf *hf_mbuf_alloc_slow(struct hf_worker *w, const struct hf_port *p);

/*
 * A fresh mbuf of @p p's pool, as rte_pktmbuf_alloc() gives, from the
 * worker's stash (struct hf_mbuf_stash); NULL when the pool is empty (the
 * caller counts it, as for rte_pktmbuf_alloc()).
 */
static inline struct rte_mbuf *
hf_mbuf_alloc(struct hf_worker *w, const struct hf_port *p)
{
	struct hf_mbuf_stash *s = &w->stash[p->index];

	if (likely(s->n > 0))
		return s->m[--s->n];
	return hf_mbuf_alloc_slow(w, p);
}

/* The mbufs @p w holds in its stashes: free, though not in their pools (the worker's own view). */
static inline unsigned int
hf_mbuf_stashed(const struct hf_worker *w)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < HF_MAX_PORTS; i++)
		n += w->stash[i].n;
	return n;
}

/** Sends every frame queued on port @p p now. */
void hf_tx_flush(struct hf_worker *w, const struct hf_port *p);

/*
 * Queues frame @p m (data at the Ethernet header, all headers final) for
 * port @p p. Ownership passes to the TX path: the frame is sent or counted as
 * dropped, never leaked.
 */
static inline void
hf_tx_enqueue(struct hf_worker *w, const struct hf_port *p, struct rte_mbuf *m)
{
	struct hf_txbuf *tb = &w->tx[p->index];

	if (unlikely(tb->n == RTE_DIM(tb->m))) {
		/* Still full of frames the queue refused: this one is lost. */
		HF_COUNT(w, PORT_DROP_TX_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	tb->m[tb->n++] = m;
	if (tb->n - tb->ready >= HF_BURST)
		hf_tx_flush(w, p);
}

/* Converts milliseconds to TSC ticks with the worker's calibrated rate. */
static inline uint64_t
hf_ms_to_tsc(const struct hf_worker *w, uint64_t ms)
{
	return ms * w->tsc_hz / 1000;
}

#endif
