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

/*
 * One allocation holds the snapshot and the virtual hosts and routes its
 * tables point to, so that retiring it is a single free() and a worker's
 * reads stay within memory that lives exactly as long as the snapshot.
 */
struct hf_snapshot *
hf_snapshot_build(const struct hf_bootstrap *b, uint64_t version)
{
	size_t vsz = sizeof(struct hf_vhost) * b->n_vhosts;
	size_t rsz = sizeof(struct hf_route) * b->n_routes;
	struct hf_snapshot *s = calloc(1, sizeof(*s) + vsz + rsz);

	if (s == NULL)
		return NULL;
	s->version = version;
	s->n_clusters = b->n_clusters;
	memcpy(s->clusters, b->clusters, sizeof(b->clusters[0]) * b->n_clusters);
	s->n_vhosts = b->n_vhosts;
	s->vhosts = (struct hf_vhost *)(s + 1);
	s->n_routes = b->n_routes;
	s->routes = (struct hf_route *)((char *)s->vhosts + vsz);
	memcpy(s->vhosts, b->vhosts, vsz);
	memcpy(s->routes, b->routes, rsz);
	/* Rebase each virtual host's routes from the bootstrap's array onto ours. */
	for (unsigned int i = 0; i < s->n_vhosts; i++)
		s->vhosts[i].routes = b->vhosts[i].n_routes > 0
					      ? s->routes + (b->vhosts[i].routes - b->routes)
					      : NULL;
	for (unsigned int i = 0; i < b->n_listeners; i++) {
		const struct hf_boot_listener *l = &b->listeners[i];

		if (l->filter != HF_FILTER_HTTP)
			continue;
		s->tables[i].n_vhosts = l->http.n_vhosts;
		s->tables[i].vhosts = s->vhosts + l->http.first_vhost;
	}
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
