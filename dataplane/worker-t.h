/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_WORKER_T_H
#define HF_WORKER_T_H

#include <stdint.h>
#include <rte_common.h>

#include "dataplane/counters.h"
#include "dataplane/port-t.h"
#include "dataplane/net/arp-t.h"

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

struct hf_impair;

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
} __rte_cache_aligned;

#endif
