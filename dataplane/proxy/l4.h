/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_L4_H
#define HF_L4_H

#include "dataplane/proxy/listener-t.h"
#include "dataplane/worker-t.h"

/*
 * Opens the bootstrap's L4 listeners (echo, discard, tcp_proxy) on worker
 * @p w, whose TCP stack must be up. @p pc stays valid and unchanged for the
 * worker's life. Returns 0 or the first listen error (negative errno).
 */
int hf_l4_start(struct hf_worker *w, const struct hf_proxy_config *pc);

struct hf_snapshot;

/*
 * Opens tcp_proxy listeners for the TCP listeners snapshot @p snap has and
 * worker @p w has not opened (an Istio Gateway's TCP servers, whose `tcp`
 * routes pick the cluster at each accept). Called by the poll loop when the
 * snapshot's version changes.
 */
void hf_l4_sync(struct hf_worker *w, const struct hf_snapshot *snap);

#endif
