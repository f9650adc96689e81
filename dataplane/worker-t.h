/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_WORKER_T_H
#define HF_WORKER_T_H

#include <stdint.h>
#include <rte_common.h>

#include "dataplane/counters.h"
#include "dataplane/port-t.h"
#include "dataplane/net/arp-t.h"
#include "dataplane/metrics-t.h"
#include "dataplane/overload-t.h"

#define HF_BURST 32
#define HF_MAX_WORKERS 64
/* Frames one worker may have waiting from its siblings on a software-steered port. */
#define HF_STEER_RING_SIZE 1024

struct rte_mbuf;
struct rte_ring;
struct rte_rcu_qsbr;
struct hf_tcp_stack;
struct hf_http_state;
struct hf_l4_state;
struct hf_snapshot;

/*
 * Frames waiting to be sent on one port, flushed at HF_BURST new ones and once
 * per loop. The extra room holds frames the queue refused (sent again next
 * loop) and what the impairment adds (duplicates, frames coming due).
 */
struct hf_txbuf {
	uint16_t n;
	uint16_t ready;			/* m[0..ready) were refused once and wait to go again */
	uint16_t stalls;		/* flushes in a row that sent nothing */
	struct rte_mbuf *m[4 * HF_BURST];
};

/*
 * Mbufs of a port's pool taken HF_MBUF_STASH at a time (rte_pktmbuf_alloc_bulk(),
 * reset already) for the frames and heads a worker builds one by one: one
 * trip to the pool's cache for several instead of one each (hf_mbuf_alloc()).
 * A few only: the pool's cache gives back the mbufs freed last, still in the
 * CPU's cache, and a stash that held many would write into colder ones.
 */
#define HF_MBUF_STASH 8

struct hf_mbuf_stash {
	uint16_t n;
	struct rte_mbuf *m[HF_MBUF_STASH];
};

struct hf_impair;

/*
 * Loop-gap histogram: TSC ticks between the starts of two consecutive loop
 * iterations, log-linear as HdrHistogram lays one out (bench/loadgen/hist.h
 * explains the layout): values below 2^(k+1) have a bucket each, every power
 * of two above is cut into 2^k linear buckets, so a bucket's top is within
 * 2^-k (12.5%) of any value in it. Ticks up to 2^40 (minutes) are tracked;
 * longer gaps land in the last bucket.
 */
#define HF_LOOP_SUB_BITS 3
#define HF_LOOP_MAX_LOG2 40
#define HF_LOOP_BUCKETS (((HF_LOOP_MAX_LOG2 - HF_LOOP_SUB_BITS - 1) << HF_LOOP_SUB_BITS) + \
			 (2 << HF_LOOP_SUB_BITS))

/* The pieces of work of one iteration, timed one by one (worker.c has the order). */
enum hf_loop_work {
	HF_LOOP_SNAPSHOT,	/* a new snapshot picked up: listeners opened or closed */
	HF_LOOP_RX,		/* RX bursts, the stack on each frame (proxy, access-log hand-off) */
	HF_LOOP_ARP,		/* the 10 ms tick: link announcements, ARP ageing and requests */
	HF_LOOP_TCP,		/* sibling ARP news, hf_tcp_poll(): timer wheel (RTO, delayed
				   ACK, TIME-WAIT and FIN-WAIT-2 reaping, HTTP timeouts), output */
	HF_LOOP_TX,		/* TX flush and the RCU quiescent report */
	HF_LOOP_OUTSIDE,	/* end of one iteration to the start of the next: the caller's
				   hooks (the load generator's client), and any time the thread
				   did not run */
	HF_LOOP__N
};

/*
 * The stall board (issue 16, for benchmarks): a small file both processes of
 * a benchmark map, where each worker of one publishes the interval of its
 * latest loop stall, so the other can tell the requests that waited through
 * it (TSC values: one clock for every process of the machine). Hydrofoil
 * writes one when HF_STALL_BOARD names the file; hf-loadgen reads it with
 * --stall-board.
 */
#define HF_STALL_BOARD_MAGIC 0x68667374616c6c31ull	/* "hfstall1" */

struct hf_stall_slot {
	uint64_t start;			/* TSC at the start of the iteration before the gap */
	uint64_t end;			/* TSC at the start of the iteration after it (release) */
	uint64_t count;			/* stalls so far */
} __rte_cache_aligned;

struct hf_stall_board {
	uint64_t magic;
	uint64_t n_slots;		/* HF_MAX_WORKERS */
	/*
	 * The latest end of a stall's shadow over all slots (a CAS max,
	 * release): its end plus its length, as the queue a stall leaves takes
	 * about that long to drain at half load.
	 */
	uint64_t shadow_end;
	struct hf_stall_slot slot[HF_MAX_WORKERS] __rte_cache_aligned;	/* by worker id */
};

/*
 * One worker's loop timing since its last reset (start, or a change of
 * hf_worker_loop_epoch). Written by the worker only; the agent reads it as it
 * reads the counters (aligned 64-bit words, a view that may be one loop old).
 */
struct hf_loop_stats {
	uint64_t epoch;			/* hf_worker_loop_epoch this window belongs to */
	uint64_t last_start;		/* TSC at the start of the previous iteration; 0: none yet */
	uint64_t last_end;		/* TSC at its end */
	uint64_t count;			/* gaps recorded */
	uint64_t max;			/* longest gap, ticks */
	uint64_t stall_start;		/* TSC: start of the iteration before the last stall */
	uint64_t stall_end;		/* TSC: start of the iteration that ended the last stall */
	uint64_t switches_seen;		/* the thread's context switches (both kinds) at the last stall */
	uint64_t preempt_seen;		/* of which involuntary */
	uint64_t max_unswitched;	/* longest stall the thread was not switched out in, ticks */
	uint64_t unswitched_longest[HF_LOOP__N];	/* longest piece of each kind in such stalls */
	uint64_t longest[HF_LOOP__N];	/* longest single piece of each kind, ticks */
	uint64_t cur[HF_LOOP__N];	/* the pieces of the iteration in progress */
	uint64_t bucket[HF_LOOP_BUCKETS];
};

/*
 * Everything one worker lcore owns. It is the first argument of every
 * per-packet function. Nothing in here is written by any other thread except
 * the sibling rings, which are multi-producer by construction.
 */
struct hf_worker {
	uint16_t id;			/* 0 .. n_workers-1; also the RX/TX queue index */
	uint16_t n_workers;
	unsigned int lcore;
	uint16_t n_ports;
	const struct hf_port *ports;	/* shared, read-only */
	uint64_t now;			/* TSC at the start of this loop iteration */
	const struct hf_snapshot *snap;	/* current snapshot, valid for this iteration only */
	uint64_t seen_version;		/* snapshot whose listeners this worker has opened */
	uint64_t tsc_hz;
	uint64_t next_tick;		/* TSC of the next timer pass */
	struct rte_rcu_qsbr *qsbr;	/* NULL in unit tests */
	struct rte_ring *arp_in;	/* struct hf_arp_update from siblings (MP/SC) */
	struct rte_ring *steer_in;	/* frames of this worker's flows, from siblings (MP/SC) */
	struct hf_worker *const *siblings; /* all workers, this one included */
	struct hf_txbuf tx[HF_MAX_PORTS];
	struct hf_mbuf_stash stash[HF_MAX_PORTS];	/* per port: hf_mbuf_alloc() */
	uint32_t announced[HF_MAX_PORTS];	/* link_gen of the last gratuitous ARP per port */
	struct hf_impair *impair[HF_MAX_PORTS][2];	/* [port][enum hf_impair_dir]; NULL: off */
	bool gated;			/* some port is behind the I/O gate (port.h) */
	bool gate_online;		/* registered: the gate waits for this worker's passes */
	bool gate_open;			/* the last pass found the gate open: gated ports usable */
	struct hf_tcp_stack *tcp;	/* NULL until hf_tcp_init() */
	struct hf_http_state *http;	/* NULL without HTTP listeners */
	struct hf_l4_state *l4;		/* NULL until hf_l4_start() */
	struct hf_counters cnt;
	struct hf_arp_table arp;
	uint64_t stall_tsc;		/* a gap this long is a stall (HF_WORKER_STALL_US) */
	struct hf_stall_slot *stall_slot;	/* on the stall board (HF_STALL_BOARD); NULL: none */
	struct hf_loop_stats loop;
	struct hf_overload ovl;		/* pressure and the actions it sets (overload.h) */
	struct hf_metrics metrics;	/* Istio's standard metrics, this worker's series (metrics.h) */
} __rte_cache_aligned;

#endif
