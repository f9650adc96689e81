/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_DP_SNAPSHOT_H
#define HF_DP_SNAPSHOT_H

/*
 * The workers' side of the snapshot: where the current one is and how a
 * worker finds a listener in it. The control agent compiles and publishes
 * snapshots (control-agent/snapshot.h); workers only read them.
 */
#include <stddef.h>
#include <stdint.h>

#include "dataplane/snapshot-t.h"

/*
 * The snapshot workers see now. Written by the agent's publisher only (a
 * release store), read by workers with hf_snapshot_current() (acquire).
 */
extern struct hf_snapshot *hf_snapshot_now;

static inline const struct hf_snapshot *
hf_snapshot_current(void)
{
	/* Pairs with the release store in hf_snapshot_publish() (control-agent/snapshot.c). */
	return __atomic_load_n(&hf_snapshot_now, __ATOMIC_ACQUIRE);
}

/* The listener of snapshot @p s on TCP port @p port (host order), or NULL. */
static inline const struct hf_snap_listener *
hf_snapshot_listener(const struct hf_snapshot *s, uint16_t port)
{
	for (unsigned int i = 0; i < s->n_listeners; i++)
		if (s->listeners[i].port == port)
			return &s->listeners[i];
	return NULL;
}

#endif
