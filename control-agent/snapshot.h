/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_SNAPSHOT_H
#define HF_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "control-agent/bootstrap.h"
#include "control-agent/model/model.h"
#include "dataplane/snapshot.h"

struct rte_rcu_qsbr;

#define HF_SNAPSHOT_RETIRED_MAX 64

/* The agent's side: snapshots replaced but maybe still read, with their grace tokens. */
struct hf_snapshot_publisher {
	struct rte_rcu_qsbr *qsbr;
	unsigned int n_retired;
	struct {
		struct hf_snapshot *snap;
		uint64_t token;
	} retired[HF_SNAPSHOT_RETIRED_MAX];
	uint64_t published;
	uint64_t freed;
};

/*
 * Compiles model @p m into a snapshot for @p n_workers workers (control
 * thread; heap): clusters with their endpoints, one listener per model
 * listener with its virtual hosts, one route per match block of each model
 * route, the route matchers and their per-worker scratch. Nothing in it
 * points into @p m. Returns NULL with a message in @p err (an unknown
 * cluster, a regex the matcher refuses, too many domains, ENOMEM).
 */
struct hf_snapshot *hf_snapshot_compile(const struct hf_model *m, uint64_t version,
					unsigned int n_workers, char *err, size_t errlen);

/* The bootstrap's static_resources as a snapshot (one worker's scratch). NULL on error. */
struct hf_snapshot *hf_snapshot_build(const struct hf_bootstrap *b, uint64_t version);

/* Frees @p s and all it owns. NULL is a no-op. */
void hf_snapshot_free(struct hf_snapshot *s);

/*
 * Makes @p s current with one pointer store and retires the previous one
 * until a grace period of @p pub->qsbr has passed. Returns 0, or -EBUSY when
 * too many are still waiting (then nothing changed; reclaim and retry).
 */
int hf_snapshot_publish(struct hf_snapshot_publisher *pub, struct hf_snapshot *s);

/*
 * Frees the retired snapshots no worker can still be reading (non-blocking).
 * With @p wait, blocks until all are freed (shutdown). Returns how many remain.
 */
unsigned int hf_snapshot_reclaim(struct hf_snapshot_publisher *pub, bool wait);

#endif
