/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_H
#define HF_HTTP_H

#include "dataplane/proxy/listener-t.h"
#include "dataplane/proxy/http-t.h"
#include "dataplane/worker-t.h"

/*
 * Opens the bootstrap's HTTP listeners on worker @p w (its TCP stack up) and
 * sizes its session, upstream and buffer pools from the TCP connection limit.
 * With an access log configured, creates the worker's record ring, which the
 * agent drains. @p pc stays valid for the worker's life. Does nothing when
 * there is no HTTP listener. Returns 0, -ENOMEM, or a listen error.
 */
int hf_http_start(struct hf_worker *w, const struct hf_proxy_config *pc);

struct hf_snapshot;

/*
 * Opens on worker @p w the HTTP listeners snapshot @p snap has and the
 * worker does not (an Istio configuration gained a Gateway port, or got one
 * back: a listener still draining then serves again, its drain cancelled).
 * The poll loop calls it when the snapshot's version changes.
 */
void hf_http_sync(struct hf_worker *w, const struct hf_snapshot *snap);

/*
 * Closes on worker @p w the configuration's HTTP listeners that snapshot
 * @p snap no longer has on their port (or has as TCP): their ports refuse new
 * connections and their sessions drain (idle ones closed, the others after
 * their exchange, the rest reset after http.drain_timeout_ms). The poll loop
 * calls it when the snapshot's version changes, before hf_l4_sync() and
 * hf_http_sync() open what it gained. Safe without HTTP state.
 */
void hf_http_drain_removed(struct hf_worker *w, const struct hf_snapshot *snap);

/* Frees the worker's HTTP state; call before hf_tcp_fini(). */
void hf_http_fini(struct hf_worker *w);

/*
 * Gives requests queued for a connection (their cluster's max_connections was
 * reached) the connections that closed since: called once per loop pass while
 * any waits (w->http->n_waitq), before the TCP output pass.
 */
void hf_http_wake(struct hf_worker *w);

/*
 * The ring of access-log records worker @p w fills (single producer: the
 * worker; single consumer: the agent), or NULL without an access log.
 */
struct rte_ring *hf_http_log_ring(const struct hf_worker *w);

/* Bytes of HTTP state an idle downstream connection holds (its session). */
size_t hf_http_conn_footprint(void);

/* Bytes of HTTP state per request in flight (a stream, from http.max_requests). */
size_t hf_http_stream_footprint(void);

#endif
