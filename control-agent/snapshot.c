/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RCU publication of snapshots (rte_rcu_qsbr). The agent stores the new
 * pointer, takes a grace-period token, and frees the old snapshot once every
 * registered worker has reported a quiescent state after the token — which
 * workers do once per poll loop, after which they hold no snapshot pointer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_rcu_qsbr.h>

#include "control-agent/snapshot.h"

struct hf_snapshot *hf_snapshot_now;

struct hf_snapshot *
hf_snapshot_build(const struct hf_bootstrap *b, uint64_t version)
{
	struct hf_snapshot *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->version = version;
	s->n_clusters = b->n_clusters;
	memcpy(s->clusters, b->clusters, sizeof(b->clusters[0]) * b->n_clusters);
	return s;
}

int
hf_snapshot_publish(struct hf_snapshot_publisher *pub, struct hf_snapshot *s)
{
	struct hf_snapshot *old = hf_snapshot_now;

	if (old != NULL && pub->n_retired == HF_SNAPSHOT_RETIRED_MAX &&
	    hf_snapshot_reclaim(pub, false) == HF_SNAPSHOT_RETIRED_MAX)
		return -EBUSY;
	/* Pairs with the acquire load in hf_snapshot_current(). */
	__atomic_store_n(&hf_snapshot_now, s, __ATOMIC_RELEASE);
	pub->published++;
	if (old != NULL) {
		/* Readers that saw `old` report quiescence after this token before it goes. */
		pub->retired[pub->n_retired].snap = old;
		pub->retired[pub->n_retired].token = rte_rcu_qsbr_start(pub->qsbr);
		pub->n_retired++;
	}
	return 0;
}

unsigned int
hf_snapshot_reclaim(struct hf_snapshot_publisher *pub, bool wait)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < pub->n_retired; i++) {
		if (rte_rcu_qsbr_check(pub->qsbr, pub->retired[i].token, wait) == 1) {
			free(pub->retired[i].snap);
			pub->freed++;
		} else {
			pub->retired[kept++] = pub->retired[i];
		}
	}
	pub->n_retired = kept;
	return kept;
}
