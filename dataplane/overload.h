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
