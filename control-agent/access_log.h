/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AGENT_ACCESS_LOG_H
#define HF_AGENT_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/proxy/access_log-t.h"
#include "dataplane/worker-t.h"

struct rte_ring;

/*
 * The agent's side of the access log: it drains the workers' record rings
 * and writes one line per request in Istio's default text format
 * (proxyConfig accessLogFormat unset):
 *
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
 * %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%
 * %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
 * %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"
 * "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER%
 * %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
 * %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 *
 * A TLS handshake that failed is a line too, with no request: "- - -",
 * code 0, %CONNECTION_TERMINATION_DETAILS% "TLS_error:<reason>" (the reason
 * of its tls.handshake.* counter, in the place Envoy's
 * %DOWNSTREAM_TRANSPORT_FAILURE_REASON% would have) and the client's SNI as
 * %REQUESTED_SERVER_NAME%, as a request over TLS has it ("-" without SNI).
 *
 * What the request or the configuration controls is escaped so that it
 * cannot forge a field or a line: '"' and '\' get a backslash, control
 * bytes, DEL and bytes 0x80-0xff become \xNN, and so does a space in the
 * method, the path and the unquoted fields (cluster, route).
 */
struct hf_access_log {
	FILE *f;
	unsigned int n_rings;
	struct rte_ring *rings[HF_MAX_WORKERS];
	uint64_t written;
};

/*
 * Opens @p path for appending ("/dev/stdout" writes to standard output).
 * Returns 0, or a negative errno with a message in @p err.
 */
int hf_access_log_open(struct hf_access_log *al, const char *path, char *err, size_t errlen);

/* Writes every queued record, then flushes. Returns how many were written. */
unsigned int hf_access_log_drain(struct hf_access_log *al);

/* Drains and closes. */
void hf_access_log_close(struct hf_access_log *al);

/*
 * Formats @p r as one line (newline included) into @p buf of @p cap bytes.
 * Returns the line's length, truncated to cap - 1.
 */
size_t hf_access_log_format(const struct hf_access_log_rec *r, char *buf, size_t cap);

/* Envoy's short name of response flag @p flag (enum hf_response_flag): "UF"; "-" for none. */
const char *hf_response_flag_name(unsigned int flag);

#endif
