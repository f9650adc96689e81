/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_L4_H
#define HF_L4_H

#include "dataplane/proxy/listener-t.h"
#include "dataplane/worker-t.h"

/*
 * Sets up worker @p w's L4 proxy state (w->l4: its listeners, its endpoint
 * picking) and opens the bootstrap's L4 listeners (echo, discard, tcp_proxy)
 * on it; its TCP stack must be up. @p pc stays valid and unchanged for the
 * worker's life. Returns 0, -ENOMEM or the first listen error (negative
 * errno); on error hf_l4_fini() still frees what was made.
 */
int hf_l4_start(struct hf_worker *w, const struct hf_proxy_config *pc);

/* Frees what hf_l4_start() made; w->l4 becomes NULL. Safe without a start. */
void hf_l4_fini(struct hf_worker *w);

struct hf_snapshot;

/*
 * Opens tcp_proxy listeners for the TCP listeners snapshot @p snap has and
 * worker @p w has not opened (an Istio Gateway's TCP servers, whose `tcp`
 * routes pick the cluster at each accept). Called by the poll loop when the
 * snapshot's version changes.
 */
void hf_l4_sync(struct hf_worker *w, const struct hf_snapshot *snap);

/*
 * Closes on worker @p w the configuration's tcp_proxy listeners that snapshot
 * @p snap no longer has as TCP on their port: the port refuses new
 * connections, the proxied ones go on until they end or until
 * http.drain_timeout_ms, when they are reset (listener.drain_timeouts). Called
 * by the poll loop when the snapshot's version changes, before the syncs.
 */
void hf_l4_drain_removed(struct hf_worker *w, const struct hf_snapshot *snap);

#endif
