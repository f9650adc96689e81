/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_OVERLOAD_H
#define HF_OVERLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/overload-t.h"

/* The defaults: request shedding and keep-alive off by backlog, connections refused by mbufs. */
void hf_overload_defaults(struct hf_overload_config *cfg);

/* Starts @p o with @p cfg (copied); @p seed varies the draws between workers. */
void hf_overload_init(struct hf_overload *o, const struct hf_overload_config *cfg, uint64_t tsc_hz,
		      uint64_t seed);

/*
 * Ends a window: @p backlog_share is the share of its cycles spent behind
 * the RX queues, @p pressure the other monitors' readings (its
 * HF_OVM_BACKLOG entry is ignored). Sets the actions' levels.
 */
void hf_overload_update(struct hf_overload *o, float backlog_share, const float pressure[HF_OVM__N]);

/* The level (0..1) that trigger @p t gives at pressure @p p. */
float hf_overload_scale(const struct hf_overload_trigger *t, float p);

/* Names as the bootstrap and /stats spell them ("backlog", "shed_requests"). */
const char *hf_overload_monitor_name(enum hf_overload_monitor m);
const char *hf_overload_action_name(enum hf_overload_action a);

/*
 * Full bursts in a row before the loop counts as lagging. A peer that sends
 * in batches (a loadgen, a NIC's interrupt moderation upstream, a burst of
 * pipelined requests) fills one or two bursts at a time at any load; a worker
 * that cannot keep up finds its queue full burst after burst. Four bursts are
 * 128 frames still waiting after 96 were taken.
 */
#define HF_OVERLOAD_LAG_BURSTS 4

/*
 * One loop iteration of @p cycles whose RX burst came back full (@p full) or
 * not: adds it to the window's lagging cycles when it continues a streak of
 * full bursts longer than HF_OVERLOAD_LAG_BURSTS.
 */
static inline void
hf_overload_loop(struct hf_overload *o, bool full, uint64_t cycles)
{
	if (!full) {
		o->full_streak = 0;
		return;
	}
	if (++o->full_streak > HF_OVERLOAD_LAG_BURSTS)
		o->backlog_tsc += cycles;
}

/* Whether action @p a takes this event: a draw against its level, no draw while off. */
static inline bool
hf_overload_act(struct hf_overload *o, enum hf_overload_action a)
{
	uint32_t t = o->threshold[a];

	if (__builtin_expect(t == 0, 1))
		return false;
	if (t == UINT32_MAX)
		return true;
	/* xorshift64: a per-worker stream, cheap and good enough for a share. */
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return (uint32_t)(o->rng >> 32) < t;
}

#endif
