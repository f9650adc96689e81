/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PROXY_DRAIN_H
#define HF_PROXY_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/counters.h"
#include "dataplane/worker-t.h"

/*
 * One recount of a removed listener's drain, shared by the HTTP and tcp_proxy
 * listeners: @p n of its connections are still open (*@p left at the last
 * count). Counts those that ended and moves the listener.draining_connections
 * gauge. Past the deadline (@p expired) with some left, the gauge drops them,
 * *@p left becomes 0 and true says: reset them now.
 */
static inline bool
hf_drain_recount(struct hf_worker *w, uint32_t *left, uint32_t n, bool expired)
{
	if (n < *left)
		HF_COUNT_N(w, LISTENER_DRAINED_CX, *left - n);
	HF_COUNT_N(w, LISTENER_DRAINING_CX, (uint64_t)n - *left);
	*left = n;
	if (n == 0 || !expired)
		return false;
	HF_COUNT_N(w, LISTENER_DRAINING_CX, -(uint64_t)n);
	*left = 0;
	return true;
}

#endif
