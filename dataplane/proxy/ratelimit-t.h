/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RATELIMIT_T_H
#define HF_RATELIMIT_T_H

/*
 * Local rate limits (Envoy's envoy.filters.http.local_ratelimit): a token
 * bucket per listener, virtual host or route, as the snapshot carries it.
 * The control agent compiles them (from the bootstrap's local_ratelimits and
 * from Istio EnvoyFilters); the workers keep the buckets (ratelimit.h).
 */
#include <stdbool.h>
#include <stdint.h>

/* Token buckets one snapshot may hold; more is refused when compiling. */
#define HF_RL_MAX_LIMITS 1024
/* Stat prefixes with counters of their own in /stats; later ones count only in the totals. */
#define HF_RL_MAX_STATS 64
/* Longest stat_prefix. */
#define HF_RL_STAT_NAME 60
/* response_headers_to_add entries one limit may carry. */
#define HF_RL_MAX_HEADERS 8
/* Envoy's floor for fill_interval ("must be >= 50ms to avoid too aggressive refills"). */
#define HF_RL_MIN_FILL_MS 50
/* Our ceiling: 30 days, so that interval ticks and their sums stay far from 2^64. */
#define HF_RL_MAX_FILL_MS (30u * 24 * 3600 * 1000)

/* A stat prefix's counters, Envoy's names under <stat_prefix>.http_local_rate_limit. */
enum hf_rl_stat {
	HF_RL_STAT_ENABLED,		/* the limit was consulted (filter_enabled drew it) */
	HF_RL_STAT_ENFORCED,		/* answered 429 */
	HF_RL_STAT_RATE_LIMITED,	/* found no token (enforced or not) */
	HF_RL_STAT_OK,			/* took a token */
	HF_RL_STAT__N
};

struct hf_route_hdr_op;

/*
 * One token bucket's settings, immutable in a snapshot. The totals are the
 * configured ones; each worker holds its share (hf_rl_share()).
 */
struct hf_rl_limit {
	/*
	 * Identity across snapshots: its scope (port, virtual host, route) and
	 * every setting hashed. A worker's bucket whose key the next snapshot
	 * still has keeps its tokens; any other starts full.
	 */
	uint64_t key;
	uint32_t max_tokens;
	uint32_t tokens_per_fill;
	uint32_t fill_interval_ms;	/* HF_RL_MIN_FILL_MS .. HF_RL_MAX_FILL_MS */
	uint32_t enabled_ppm;		/* filter_enabled, parts per million */
	uint32_t enforced_ppm;		/* filter_enforced, of the enabled ones */
	uint16_t status;		/* the answer when limited: 429 unless configured (>= 400) */
	uint16_t stat;			/* index of its stat prefix; HF_RL_MAX_STATS: totals only */
	bool x_headers;			/* enable_x_ratelimit_headers: DRAFT_VERSION_03 */
	uint16_t n_headers;
	const struct hf_route_hdr_op *headers;	/* response_headers_to_add (on the 429 only) */
	uint32_t slot;			/* its index in the snapshot's sorted limits */
};

#endif
