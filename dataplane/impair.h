/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_IMPAIR_H
#define HF_IMPAIR_H

#include <stdint.h>

#include "dataplane/counters.h"
#include "dataplane/impair-t.h"

struct rte_mbuf;

/* Frames one direction of one port may hold for delay or reordering. */
#define HF_IMPAIR_QLEN 8192
/* A frame held for reordering goes out behind the next one, or after this long. */
#define HF_IMPAIR_REORDER_HOLD_US 1000

enum hf_impair_dir { HF_IMPAIR_RX, HF_IMPAIR_TX };

/*
 * The impairment of one direction of one port on one worker: its own PRNG
 * (xorshift64*, seeded from the configured seed and the stream id, so a run
 * repeats exactly) and a FIFO of held frames (the delay is constant, so due
 * times are in FIFO order).
 */
struct hf_impair {
	uint64_t rng;
	uint64_t delay_tsc;
	uint64_t hold_tsc;
	uint32_t loss;			/* thresholds on a 32-bit draw */
	uint32_t duplicate;
	uint32_t reorder;
	uint8_t dir;			/* enum hf_impair_dir */
	struct rte_mbuf *held;		/* frame waiting to be reordered */
	uint64_t held_due;
	uint32_t head;			/* next to release */
	uint32_t n;			/* frames queued */
	struct {
		struct rte_mbuf *m;
		uint64_t due;
	} q[HF_IMPAIR_QLEN];
};

/*
 * Prepares @p im from @p cfg. @p stream_id tells apart the directions, ports
 * and workers that share one seed. Returns 0 or -EINVAL.
 */
int hf_impair_init(struct hf_impair *im, const struct hf_impair_cfg *cfg, enum hf_impair_dir dir,
		   uint64_t tsc_hz, uint64_t stream_id);

/*
 * Applies the impairment to the @p n frames in @p pkts (room for @p cap) at
 * time @p now and writes back, in their new order, the frames to pass on now
 * — including frames held from earlier calls that are due. Returns how many.
 * Call it with n = 0 every loop so held frames leave on time. Every frame is
 * passed, held or freed and counted: none is lost unaccounted.
 *
 * RX: right after rte_eth_rx_burst(), with an array of 2*HF_BURST.
 * TX: in the flush, before rte_eth_tx_burst().
 */
uint16_t hf_impair_apply(struct hf_impair *im, struct hf_counters *cnt, struct rte_mbuf **pkts,
			 uint16_t n, uint16_t cap, uint64_t now);

/** True when frames are held (the caller must keep calling hf_impair_apply). */
static inline int
hf_impair_holding(const struct hf_impair *im)
{
	return im->n != 0 || im->held != NULL;
}

/** Frees every held frame. */
void hf_impair_fini(struct hf_impair *im);

#endif
