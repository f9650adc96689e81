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

/* The client's counters, shown in /stats as xds.<name>. */
enum hf_xds_counter {
	HF_XDS_CNT_NACKS,             /* responses refused (NACK sent) */
	HF_XDS_CNT_SECRETS,           /* Secret resources taken (new or updated) */
	HF_XDS_CNT_SECRET_WAITS,      /* listeners and clusters that waited for a Secret */
	HF_XDS_CNT_CONNECT_ERRORS,    /* connections to the server that failed before a stream */
	HF_XDS_CNT_TLS_ERRORS,        /* TLS handshakes with the server that failed */
	HF_XDS_CNT_TLS_VERIFY_ERRORS, /* ... of them: the server's certificate refused */
	HF_XDS_CNT__N
};

/* The value of counter @p c; *@p name its name after "xds.". */
uint64_t hf_xds_counter(const struct hf_xds *x, enum hf_xds_counter c, const char **name);

#endif
