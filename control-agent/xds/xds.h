/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_H
#define HF_XDS_H

/*
 * The xDS client of the control agent: one ADS stream to the bootstrap's xds
 * server, on the agent's thread, in either variant of Envoy's "xDS REST and
 * gRPC protocol": state of the world (StreamAggregatedResources) or
 * incremental (DeltaAggregatedResources, bootstrap api_type = "DELTA_GRPC").
 * Listeners and clusters are subscribed by wildcard, route configurations
 * and endpoints by the names the listeners and clusters reference. Each
 * response is ACKed or NACKed (error_detail naming the resource and the
 * field). Each resource warms on its own: a cluster waits for its
 * assignment, a listener for its route configuration, the rest serves
 * meanwhile; a name not received within the initial fetch timeout (or that
 * the server says does not exist) stops the wait; a route to a cluster that
 * is not there answers 503 NC. While the server is away the last good
 * snapshot keeps serving; the client reconnects with backoff and resends the
 * versions it holds.
 */
#include <stdint.h>

#include "control-agent/bootstrap.h"
#include "control-agent/snapshot.h"

struct hf_xds;

/* A client for @p b's xds block (b->xds.port != 0). NULL with @p err on ENOMEM. */
struct hf_xds *hf_xds_open(const struct hf_bootstrap *b, unsigned int n_workers, char *err,
                           size_t errlen);

/*
 * Does the stream's I/O (bounded) and, when the accepted resources changed
 * and none is warming, builds their snapshot with version *@p version + 1
 * (then stored in *@p version) and returns it for the caller to publish.
 * NULL otherwise.
 */
struct hf_snapshot *hf_xds_poll(struct hf_xds *x, uint64_t now_ms, uint64_t *version);

/* Builds the snapshot again at the next poll (SIGHUP, or a publish that had to wait). */
void hf_xds_request_rebuild(struct hf_xds *x);

void hf_xds_close(struct hf_xds *x);

#endif
