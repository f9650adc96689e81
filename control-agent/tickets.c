/* SPDX-License-Identifier: Apache-2.0 */
/* Session ticket keys: drawn, rotated, published by RCU (tickets.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <rte_rcu_qsbr.h>

#include "control-agent/tickets.h"
#include "tls/tls.h"

static void
wipe(struct hf_tls_tickets *t)
{
	if (t == NULL)
		return;
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* A new block: a fresh key, then the current one (if any). NULL when out of memory or entropy. */
static struct hf_tls_tickets *
draw(const struct hf_tls_tickets *cur)
{
	struct hf_tls_tickets *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (RAND_priv_bytes((unsigned char *)&t->key[0], sizeof(t->key[0])) != 1) {
		wipe(t);
		return NULL;
	}
	t->n = 1;
	if (cur != NULL) {
		t->key[1] = cur->key[0];
		t->n = 2;
		t->gen = cur->gen + 1;
	}
	return t;
}

static void
reclaim(struct hf_tickets *k, bool wait)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < k->n_retired; i++) {
		if (k->qsbr == NULL || rte_rcu_qsbr_check(k->qsbr, k->retired[i].token, wait) == 1)
			wipe(k->retired[i].t);
		else
			k->retired[kept++] = k->retired[i];
	}
	k->n_retired = kept;
}

int
hf_tickets_init(struct hf_tickets *k, bool enabled, uint32_t period_s, struct rte_rcu_qsbr *q,
		uint64_t now_ms)
{
	memset(k, 0, sizeof(*k));
	k->qsbr = q;
	k->period_ms = period_s * 1000u;
	k->next_ms = now_ms + k->period_ms;
	if (!enabled)
		return 0;
	k->cur = draw(NULL);
	if (k->cur == NULL)
		return -ENOMEM;
	/* Pairs with the acquire load in hf_tls_tickets_current(). */
	__atomic_store_n(&hf_tls_tickets_now, k->cur, __ATOMIC_RELEASE);
	return 0;
}

void
hf_tickets_poll(struct hf_tickets *k, uint64_t now_ms)
{
	struct hf_tls_tickets *t;

	if (k->n_retired > 0)
		reclaim(k, false);
	if (k->cur == NULL || now_ms < k->next_ms)
		return;
	/* Every slot still waits for a grace period (workers stalled): try at the next poll. */
	if (k->n_retired == HF_TICKETS_RETIRED_MAX || (t = draw(k->cur)) == NULL)
		return;
	/* Pairs with the acquire load in hf_tls_tickets_current(). */
	__atomic_store_n(&hf_tls_tickets_now, t, __ATOMIC_RELEASE);
	/* Workers that loaded the old block report quiescence after this token before it goes. */
	k->retired[k->n_retired].t = k->cur;
	k->retired[k->n_retired].token = k->qsbr != NULL ? rte_rcu_qsbr_start(k->qsbr) : 0;
	k->n_retired++;
	k->cur = t;
	k->rotations++;
	/* The period counts from now: a stalled agent does not rotate twice in a row. */
	k->next_ms = now_ms + k->period_ms;
}

void
hf_tickets_fini(struct hf_tickets *k)
{
	__atomic_store_n(&hf_tls_tickets_now, NULL, __ATOMIC_RELEASE);
	reclaim(k, true);
	wipe(k->cur);
	k->cur = NULL;
}
