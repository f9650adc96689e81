/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TICKETS_H
#define HF_TICKETS_H

/*
 * The session ticket keys (tls/tls-t.h struct hf_tls_tickets): drawn by the
 * agent from OpenSSL's CSPRNG at start and at every rotation (the bootstrap's
 * tls.ticket_key_rotation_s), published by RCU beside the snapshot: one
 * release store of hf_tls_tickets_now, the block before it freed (and wiped)
 * once every worker has passed a quiescent state. A rotation is a new block
 * {new key, the current one}: a ticket sealed with the current key opens for
 * one more period (and is then replaced by one under the new key), one two
 * rotations old does not open any more (a full handshake).
 *
 * They live outside the snapshot so that a rotation does not rebuild the
 * configuration, and happens on time even while a change of the
 * configuration is being refused. Agent thread only.
 */
#include <stdbool.h>
#include <stdint.h>

#include "tls/tls-t.h"

struct rte_rcu_qsbr;

#define HF_TICKETS_RETIRED_MAX 8

struct hf_tickets {
	struct rte_rcu_qsbr *qsbr;	/* the workers' (the snapshot publisher's) */
	uint32_t period_ms;
	uint64_t next_ms;		/* when the next rotation is due */
	uint64_t rotations;
	struct hf_tls_tickets *cur;	/* published; NULL: tickets are off */
	unsigned int n_retired;
	struct {
		struct hf_tls_tickets *t;
		uint64_t token;
	} retired[HF_TICKETS_RETIRED_MAX];
};

/*
 * Publishes the first keys (with @p enabled; without, none: no tickets),
 * to rotate every @p period_s seconds from @p now_ms. Before the first
 * snapshot: workers build their contexts for tickets only when keys exist.
 * Returns 0 or -ENOMEM.
 */
int hf_tickets_init(struct hf_tickets *k, bool enabled, uint32_t period_s, struct rte_rcu_qsbr *q,
		    uint64_t now_ms);

/* Rotates when due; frees retired keys no worker can still read. */
void hf_tickets_poll(struct hf_tickets *k, uint64_t now_ms);

/* With the workers stopped: unpublishes and frees every block. */
void hf_tickets_fini(struct hf_tickets *k);

#endif
