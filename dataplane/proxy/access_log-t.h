/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ACCESS_LOG_T_H
#define HF_ACCESS_LOG_T_H

#include <stdint.h>

/*
 * One request as the access log reports it, in Istio's default format. A
 * worker fills it while the exchange runs and copies it whole into its ring to
 * the control agent, which formats and writes it: the worker never does I/O
 * for the log. Strings are NUL-terminated and truncated to their field.
 */
enum hf_response_flag {
	HF_RF_NONE = 0,			/* "-" */
	HF_RF_NR,			/* no route */
	HF_RF_UF,			/* upstream connection failure */
	HF_RF_UH,			/* no healthy upstream */
	HF_RF_UT,			/* upstream request timeout */
	HF_RF_UC,			/* upstream connection termination */
	HF_RF_UPE,			/* upstream protocol error */
	HF_RF_DPE,			/* downstream protocol error */
	HF_RF_UR,			/* upstream remote reset (mid-response) */
	HF_RF_DC,			/* downstream connection termination */
	HF_RF_FI,			/* fault injected (abort) */
	HF_RF_OM,			/* shed by the overload manager */
	HF_RF_RBAC,			/* denied by an AuthorizationPolicy ("RBAC") */
	HF_RF_RL,			/* local rate limit ("RL") */
	HF_RF_NC,			/* the route's cluster does not exist ("NC") */
	HF_RF_UO,			/* upstream overflow: a circuit breaker refused it ("UO") */
	HF_RF__MAX
};

struct hf_access_log_rec {
	uint64_t start_us;		/* wall clock, microseconds since the epoch */
	uint64_t bytes_rx;		/* request body bytes */
	uint64_t bytes_tx;		/* response body bytes */
	uint32_t duration_ms;
	int32_t service_ms;		/* x-envoy-upstream-service-time; -1: none */
	uint16_t status;		/* 0: no response */
	uint8_t minor;			/* HTTP/1.<minor> */
	uint8_t flag;			/* enum hf_response_flag */
	uint32_t up_addr, up_laddr;	/* network order; 0: no upstream */
	uint16_t up_port, up_lport;
	uint32_t d_laddr, d_raddr;
	uint16_t d_lport, d_rport;
	const char *details;		/* %RESPONSE_CODE_DETAILS%: a string literal (static storage, so the
					 * agent may read it after the worker moved on); NULL: none */
	const char *transport_failure;	/* %UPSTREAM_TRANSPORT_FAILURE_REASON% (static); NULL */
	char method[16];
	char path[256];
	char authority[128];
	char user_agent[128];
	char xff[64];
	char request_id[40];
	char cluster[64];
	char route[64];
	/*
	 * A connection's line with no request (a failed TLS handshake): its
	 * %CONNECTION_TERMINATION_DETAILS%, a string literal, e.g.
	 * "TLS_error:unknown_sni" (what Envoy's %DOWNSTREAM_TRANSPORT_FAILURE_REASON%
	 * holds); NULL: "-". And %REQUESTED_SERVER_NAME%, the client's SNI.
	 */
	const char *conn_details;
	char sni[64];
};

#endif
