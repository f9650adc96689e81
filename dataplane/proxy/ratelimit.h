/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RATELIMIT_H
#define HF_RATELIMIT_H

/*
 * Local rate limits on the workers. Envoy keeps one bucket per limit shared
 * by its workers (atomics); here each worker keeps its own bucket holding its
 * share of the tokens, so a check is a few loads and stores in memory only
 * that worker touches: no atomics, no locks, no timer, no allocation.
 *
 * The share: max_tokens and tokens_per_fill are divided among the workers,
 * the remainder going one token each to the first workers (10 tokens over 3
 * workers: 4, 3, 3). The tokens a process grants over any interval are the
 * configured ones; what one client gets depends on the worker its connection
 * landed on (RSS), so a single keep-alive connection sees its worker's share.
 * With fewer tokens than workers, some workers hold none and refuse every
 * request of their connections: give a limit at least one token per worker.
 *
 * Refill is computed on use from the TSC: whole fill intervals since the last
 * fill each add tokens_per_fill, up to max_tokens (Envoy's discrete fills, so
 * x-ratelimit-reset is the time to the next one). A bucket's fill clock starts
 * when the worker first sees its limit.
 *
 * Across configuration changes: a limit whose scope and settings are the same
 * in the new snapshot keeps its bucket (tokens and fill clock); a new or
 * changed limit starts with a full bucket.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/counters.h"
#include "dataplane/proxy/ratelimit-t.h"

struct hf_snapshot;
struct hf_snap_listener;
struct hf_vhost;
struct hf_route;

/* A worker's bucket of one limit. */
struct hf_rl_bucket {
	uint64_t key;			/* the limit's key (hf_rl_limit.key) */
	uint64_t last_fill;		/* TSC of the last fill boundary */
	uint32_t tokens;
};

/* The share of @p total that worker @p id of @p n gets: even parts, the remainder to the first. */
static inline uint32_t
hf_rl_share(uint32_t total, unsigned int id, unsigned int n)
{
	if (n <= 1)
		return total;
	return total / n + (id < total % n ? 1 : 0);
}

/*
 * Brings bucket @p b to time @p now: each whole @p interval (TSC ticks, > 0)
 * since b->last_fill adds @p per_fill tokens, capped at @p max; last_fill
 * moves by whole intervals only, so partial progress towards the next fill is
 * kept. The TSC difference is taken modulo 2^64, which survives a wrap. No
 * product here can overflow: fills * interval <= now - last_fill, and
 * fills * per_fill is only formed below max + per_fill.
 */
static inline void
hf_rl_refill(struct hf_rl_bucket *b, uint64_t now, uint64_t interval, uint32_t per_fill,
	     uint32_t max)
{
	uint64_t elapsed = now - b->last_fill, fills;

	if (elapsed < interval)
		return;
	fills = elapsed / interval;
	b->last_fill += fills * interval;
	if (b->tokens >= max || per_fill == 0) {
		if (b->tokens > max)
			b->tokens = max;
		return;
	}
	if (fills >= ((uint64_t)(max - b->tokens) + per_fill - 1) / per_fill)
		b->tokens = max;
	else
		b->tokens += (uint32_t)(fills * per_fill);
}

/* Whole seconds, rounded up, until @p b's next fill (x-ratelimit-reset). */
static inline uint32_t
hf_rl_reset_s(const struct hf_rl_bucket *b, uint64_t now, uint64_t interval, uint64_t tsc_hz)
{
	uint64_t elapsed = now - b->last_fill, left = elapsed < interval ? interval - elapsed : 0;

	if (tsc_hz == 0)
		return 0;
	return (uint32_t)((left + tsc_hz - 1) / tsc_hz);
}

/* One worker's buckets and counters. Only that worker writes it; the agent reads the counters. */
struct hf_rl_state {
	uint64_t version;		/* snapshot whose limits `cur` follows; 0: none yet */
	uint32_t n;			/* buckets in cur, one per limit of that snapshot */
	struct hf_rl_bucket *cur;	/* by the snapshot's slot (its limits sorted by key) */
	struct hf_rl_bucket *spare;	/* the other array, the next resync's target */
	uint16_t id, n_workers;
	uint64_t tsc_hz;
	uint64_t rng;			/* xorshift64 state for filter_enabled / filter_enforced */
	uint64_t stats[HF_RL_MAX_STATS][HF_RL_STAT__N];
	struct hf_rl_bucket mem[2][HF_RL_MAX_LIMITS];
};

/* What a check decided. */
enum hf_rl_verdict {
	HF_RL_PASS,			/* no limit, or filter_enabled did not draw it: nothing done */
	HF_RL_OK,			/* a token was taken */
	HF_RL_NOT_ENFORCED,		/* no token, but filter_enforced did not draw it: forwarded */
	HF_RL_ENFORCE,			/* no token: answer with the limit's status */
};

/* What the answer carries: the verdict, and the fields to add to the response. */
struct hf_rl_result {
	uint8_t verdict;		/* enum hf_rl_verdict */
	uint16_t status;		/* HF_RL_ENFORCE: the status to answer with */
	bool x_headers;			/* add x-ratelimit-limit / -remaining / -reset */
	uint32_t limit, remaining, reset_s;
	/* HF_RL_ENFORCE: "name: value\r\n" fields for the local reply (x-ratelimit-*, headers to add) */
	char extra[512];
};

/*
 * Sets up @p st for worker @p id of @p n_workers, TSC at @p tsc_hz, random
 * draws seeded by @p seed. No snapshot is followed until the first check.
 */
void hf_rl_init(struct hf_rl_state *st, uint16_t id, uint16_t n_workers, uint64_t tsc_hz,
		uint64_t seed);

/* Worker @p id's state (one per worker, in static memory). */
struct hf_rl_state *hf_rl_worker(unsigned int id);

/*
 * The most specific limit of a request (Envoy's most specific per-filter
 * config): its route's, else its virtual host's, else its listener's. NULL:
 * none applies.
 */
const struct hf_rl_limit *hf_rl_pick(const struct hf_snap_listener *sl, const struct hf_vhost *vh,
				     const struct hf_route *r);

/*
 * Checks a request against limit @p lim of snapshot @p snap at TSC @p now
 * with worker state @p st: draws filter_enabled, refills and takes a token
 * from the worker's bucket, draws filter_enforced when none is left, counts
 * (the stat prefix's counters in @p st, the totals in the worker's counters
 * @p c), and fills @p out. @p lim NULL:
 * HF_RL_PASS. Follows a new snapshot first: buckets whose keys it still has
 * are kept, others start full (O(limits), once per snapshot). Returns
 * out->verdict.
 */
enum hf_rl_verdict hf_rl_check(struct hf_rl_state *st, struct hf_counters *c,
			       const struct hf_snapshot *snap, const struct hf_rl_limit *lim,
			       uint64_t now, struct hf_rl_result *out);

struct hf_worker;

/*
 * The proxy's call, before a routed request goes upstream: the limit that
 * applies to it (hf_rl_pick()) checked with worker @p w's state (set up on
 * first use) at w->now, the totals in w's counters. Returns out->verdict.
 */
enum hf_rl_verdict hf_rl_request(struct hf_worker *w, const struct hf_snap_listener *sl,
				 const struct hf_vhost *vh, const struct hf_route *r,
				 struct hf_rl_result *out);

/*
 * Adds the x-ratelimit-* fields of @p res (when it has them) to response
 * edit list @p e (@p len bytes used; http-int.h). Returns 0 or -ENOSPC.
 */
int hf_rl_edit_add(char *e, size_t *len, const struct hf_rl_result *res);

#endif
