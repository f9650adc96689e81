/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LOADGEN_STALLWAIT_H
#define HF_LOADGEN_STALLWAIT_H

/*
 * What a measured response waited through (issue 16), for the latency
 * "without loop stalls": a stall of the loadgen's own loop or of the target's,
 * each with its shadow (its end plus its length), or the open loop's backlog
 * that a stall left. What fell due while a loop stalled waits in that backlog
 * after the stall's end and drains at the rate to spare, at high load for
 * longer than the stall and its shadow: a backlog that a stall found or built
 * belongs to the stall until it first empties. Times are TSC ticks; a shadow's
 * end of 0 is no stall.
 */

#include <stdbool.h>
#include <stdint.h>

enum lg_wait {
	LG_WAIT_CLEAN,		/* none of these */
	LG_WAIT_OWN,		/* due before the end of the shadow of the loadgen's own last stall */
	LG_WAIT_PEER,		/* of the others: of the target's (its stall board) */
	LG_WAIT_QUEUE,		/* of the others: due while the backlog a stall left was there */
};

/* The backlog a stall left: its state, kept by the open loop's dispatcher. */
struct lg_qshadow {
	bool stalled;		/* the backlog now is one a stall found or built */
	uint64_t end;		/* when the last such backlog emptied */
};

/* After a dispatch pass at @p now: whether the backlog holds requests, and the two shadows' ends. */
static inline void
lg_qshadow_update(struct lg_qshadow *q, bool backlog, uint64_t now, uint64_t own_end,
		  uint64_t peer_end)
{
	if (backlog) {
		if (own_end > now || peer_end > now)
			q->stalled = true;
	} else if (q->stalled) {
		q->stalled = false;
		q->end = now;
	}
}

/* A response completed now, its request due at @p intended. */
static inline enum lg_wait
lg_wait_class(const struct lg_qshadow *q, uint64_t intended, uint64_t own_end, uint64_t peer_end)
{
	if (own_end > intended)
		return LG_WAIT_OWN;
	if (peer_end > intended)
		return LG_WAIT_PEER;
	if (q->stalled || q->end > intended)
		return LG_WAIT_QUEUE;
	return LG_WAIT_CLEAN;
}

#endif
