/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AGENT_RATELIMIT_H
#define HF_AGENT_RATELIMIT_H

/*
 * Local rate limits, agent side: the bootstrap's local_ratelimits list (read
 * with the bootstrap, applied to the model the sources built), the checks
 * every source's limits pass, and the registry of stat prefixes the workers
 * count under (dataplane/proxy/ratelimit.h has the buckets).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "control-agent/cfg.h"
#include "control-agent/model/model.h"
#include "dataplane/proxy/ratelimit-t.h"
#include "dataplane/proxy/router.h"

#define HF_BOOT_MAX_RATELIMITS 64

/* One header of response_headers_to_add. */
struct hf_boot_rl_header {
	char key[64];
	char value[128];
};

/* One entry of the bootstrap's local_ratelimits: where it applies, and the bucket. */
struct hf_boot_ratelimit {
	unsigned int line;		/* in the bootstrap, for messages */
	uint16_t port;			/* the HTTP listener (static or Gateway port) */
	char vhost[HF_ROUTER_NAME];	/* "": every virtual host (or the listener itself) */
	char route[HF_ROUTER_NAME];	/* "": the virtual host (or listener) itself */
	char stat_prefix[HF_RL_STAT_NAME];
	uint32_t max_tokens, tokens_per_fill, fill_interval_ms;
	uint32_t enabled_ppm, enforced_ppm;
	uint16_t status;
	bool x_headers;
	unsigned int n_headers;
	struct hf_boot_rl_header headers[4];
};

struct hf_boot_ratelimits {
	unsigned int n;
	struct hf_boot_ratelimit rl[HF_BOOT_MAX_RATELIMITS];
};

/*
 * Reads local_ratelimits = ( { port; virtual_host; route; stat_prefix;
 * max_tokens; tokens_per_fill; fill_interval_ms; filter_enabled;
 * filter_enforced; status; x_ratelimit_headers; response_headers_to_add; } )
 * of @p root into @p out (zeroed first). Returns 0 or -EINVAL with @p c's message.
 */
int hf_rl_boot_load(struct hf_cfg *c, const config_setting_t *root, struct hf_boot_ratelimits *out);

/*
 * Puts the bootstrap's limits @p rls on model @p m: an entry with only a port
 * on that HTTP listener, with a virtual_host on that virtual host, with a
 * route on every route of that name (of that virtual host when one is named).
 * What matches nothing has no effect (a Gateway may come later). A scope that
 * already has a limit (from an EnvoyFilter) is refused. Returns 0, -ENOMEM,
 * or -EINVAL with one line in @p err.
 */
int hf_rl_boot_apply(const struct hf_boot_ratelimits *rls, const char *path, struct hf_model *m,
		     char *err, size_t errlen);

/* Whether @p s is a stat prefix we take: 1..63 of [A-Za-z0-9_.-]. */
bool hf_rl_stat_prefix_ok(const char *s);

/*
 * The index of stat prefix @p name in the registry, added when new; the
 * registry keeps HF_RL_MAX_STATS names for the life of the process (counters
 * only grow, as Envoy's). HF_RL_MAX_STATS when full: that limit counts in the
 * totals only. Agent thread only.
 */
uint16_t hf_rl_stat_index(const char *name);

/* Names registered so far, and the name of index @p i. */
unsigned int hf_rl_stat_count(void);
const char *hf_rl_stat_name(unsigned int i);

/* Adds the per-prefix counters of workers 0..@p n_workers-1 into @p sum (relaxed reads). */
void hf_rl_stats_sum(unsigned int n_workers, uint64_t sum[HF_RL_MAX_STATS][HF_RL_STAT__N]);

/* Envoy's name of counter @p k: "enabled", "enforced", "rate_limited", "ok". */
const char *hf_rl_stat_suffix(unsigned int k);

#endif
