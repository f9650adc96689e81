/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_T_H
#define HF_HTTP_T_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/http/h1.h"
#include "dataplane/proxy/access_log-t.h"
#include "dataplane/proxy/authn-t.h"
#include "dataplane/proxy/listener-t.h"
#include "dataplane/tcp/tcp-t.h"
#include "lb/lb-t.h"

struct rte_hash;
struct rte_ring;
struct hf_tls_client;
struct hf_tls_listener;
struct hf_tls_worker;

/*
 * Bytes taken from one TCP connection and not yet used: single-segment mbufs
 * linked through ->next, the first byte of `q.head` being the next byte of the
 * stream. A message head that does not fit in the first segment is gathered
 * into `buf` (a pooled buffer) so that the parser sees it contiguous; nothing
 * else is ever copied.
 */
struct hf_http_reader {
	struct hf_tcp_mq q;
	char *buf;			/* gather buffer while a head spans segments; else NULL */
	uint32_t buf_len;		/* bytes of the stream copied into buf */
	struct hf_h1_scan scan;
};

/*
 * Buffers a head that spans segments is gathered into, all of one size (one
 * byte more than the largest head limit), handed out and back by readers.
 * The proxy keeps one pool per worker; the load generator has its own.
 */
struct hf_http_heads {
	char *bufs;			/* count buffers of size bytes */
	char **free;
	uint32_t n_free;
	uint32_t count;
	uint32_t size;
};

/* How a body ends (RFC 9112 6.3). */
enum hf_http_framing {
	HF_HTTP_BODY_NONE,		/* no body */
	HF_HTTP_BODY_LENGTH,		/* Content-Length: `remaining` bytes */
	HF_HTTP_BODY_CHUNKED,		/* chunked: passed through as it is, decoded to find its end */
	HF_HTTP_BODY_CLOSE,		/* response read until the upstream closes */
};

struct hf_http_body {
	uint8_t framing;		/* enum hf_http_framing */
	bool chunk_done;		/* chunked: the last chunk and trailers were decoded */
	uint64_t remaining;		/* HF_HTTP_BODY_LENGTH */
	uint64_t ahead;			/* chunked: bytes at the reader's front decoded, not yet moved */
	uint64_t total;			/* body bytes passed so far */
	struct hf_h1_chunked chunked;
};

/* Upstream connection states. */
enum hf_http_up_state {
	HF_HTTP_UP_CONNECTING,		/* SYN sent; the request waits in the session */
	HF_HTTP_UP_ACTIVE,		/* carries the request of `sess` */
	HF_HTTP_UP_IDLE,		/* in its endpoint's keep-alive pool */
	HF_HTTP_UP_CLOSING,		/* given up (FIN or RST sent); freed when TCP reports closed */
	HF_HTTP_UP_MIRROR,		/* carries a mirrored request: its answer is read and dropped */
};

struct hf_http_session;
struct hf_cb_cluster;

/* One upstream TCP connection, pooled per endpoint while idle. */
struct hf_http_up {
	struct hf_tcp_conn *tcp;
	struct hf_http_session *sess;	/* NULL unless ACTIVE or CONNECTING */
	uint8_t state;			/* enum hf_http_up_state */
	uint32_t addr;			/* endpoint, network order */
	uint16_t port;
	int32_t slot;			/* index of the endpoint's idle list */
	struct hf_http_up *idle_next;	/* that list, most recently used first */
	struct hf_http_up *idle_prev;
	uint64_t idle_tsc;		/* when it last went idle */
	struct hf_http_reader rd;	/* response bytes */
	uint32_t id;			/* index in the worker's array */
	uint64_t tls_id;		/* hf_tls_client_config.id of its TLS; 0: plaintext */
	struct hf_cb_cluster *cb;	/* the cluster whose connection count has it; NULL: none */
	bool cb_pending;		/* counted among the cluster's pending requests */
	uint32_t n_rq;			/* requests it was given */
	uint32_t max_rq;		/* then it closes (max_requests_per_connection); 0: never */
};

/* Where a session is in the request and the response it carries. */
enum hf_http_rq_state {
	HF_HTTP_RQ_HEAD,		/* waiting for (the rest of) a request head */
	HF_HTTP_RQ_BODY,		/* forwarding the request body */
	HF_HTTP_RQ_DONE,		/* request fully forwarded (or answered locally) */
	HF_HTTP_RQ_TUNNEL,		/* after 101: bytes both ways */
	HF_HTTP_RQ_CLOSING,		/* answered and closing: input is drained and dropped */
	HF_HTTP_RQ_DELAYED,		/* a fault delay holds the parsed head until its timer */
};

enum hf_http_rs_state {
	HF_HTTP_RS_WAIT,		/* no response head yet */
	HF_HTTP_RS_BODY,		/* forwarding the response body */
	HF_HTTP_RS_DONE,		/* response complete */
};

/* Session flags. */
enum {
	HF_HTTP_S_KEEP_ALIVE = 0x01,	/* the downstream connection persists after this exchange */
	HF_HTTP_S_HEAD = 0x02,		/* a HEAD request: the response has no body */
	HF_HTTP_S_UPGRADE = 0x04,	/* the request asks for an upgrade */
	HF_HTTP_S_UP_REUSABLE = 0x08,	/* the upstream may serve another request after this one */
	HF_HTTP_S_GOT_BYTES = 0x10,	/* bytes of a head arrived: the header timeout runs */
	HF_HTTP_S_RESPONDED = 0x20,	/* a response head went downstream */
	HF_HTTP_S_LOG = 0x40,		/* this request is logged */
	HF_HTTP_S_FAULT_DONE = 0x80,	/* the route's faults were drawn for this request */
};

/*
 * An HTTP listener of one worker. A dynamic one the configuration drops is
 * closed (its port refuses) and drains: its sessions finish their exchange
 * with "connection: close", idle ones are closed, and what is left when the
 * drain timeout ends is reset. Its slot is free again once no session points
 * at it (sessions keep `lst` for its settings).
 */
struct hf_http_listener {
	unsigned int index;		/* in the static listeners; UINT32_MAX: dynamic */
	uint16_t port;			/* host order: its routes are the snapshot's listener on it */
	const struct hf_http_listener_config *cfg;
	struct hf_http_state *http;
	bool dynamic;			/* opened for a listener of the Istio configuration */
	struct hf_tls_listener *tls;	/* an HTTPS port: TLS between TCP and this listener; else NULL */
	bool open;			/* listening on its port */
	bool draining;			/* removed: its sessions close after their exchange */
	uint32_t drain_left;		/* sessions still on it at the last count */
	uint64_t drain_deadline;	/* TCP wheel tick at which the rest are reset */
	struct hf_timer drain_timer;	/* recounts every HF_DRAIN_POLL_MS until none is left */
};

/*
 * One exchange (a request and its response) on a session, from its first
 * parsed head (or the local answer to a bad one) to its end: everything the
 * proxy needs only while a request is in flight. Streams come from their own
 * pool, smaller than the sessions' (http.max_requests), so an idle keep-alive
 * connection holds only its session (Envoy's connection / stream split).
 */
struct hf_http_stream {
	struct hf_http_up *up;
	struct hf_http_body rq_body;
	struct hf_http_body rs_body;
	struct hf_tcp_mq pending;	/* request bytes for an upstream still connecting */
	uint32_t connect_timeout_ms;
	uint32_t route_timeout_ms;
	uint64_t max_body;		/* 0: no limit */
	uint64_t sent_tsc;		/* request head handed to the upstream */
	int32_t service_ms;		/* x-envoy-upstream-service-time; -1: none */
	int32_t ep_slot;		/* the endpoint's slot (LEAST_REQUEST counts); -1: none */
	/* retries (bodiless requests): a copy of the forwarded head and the route's policy */
	struct hf_tcp_mq retry_head;
	uint8_t retries_left;
	bool stale_retry;		/* sent on a long-idle pooled connection: once more if it was dead */
	uint8_t n_retry_codes;
	uint16_t retry_codes[6];
	uint32_t retry_on;		/* HF_RETRY_* */
	uint64_t cluster_id;		/* hf_snap_cluster.id of the route's destination */
	uint32_t per_try_ms;
	bool reported;			/* counted in Istio's metrics (hf_http_log_push) */
	struct hf_cb_cluster *cb;	/* its cluster's circuit breakers (lb/cb.h); NULL: none */
	bool cb_retry;			/* counted among the cluster's retries in flight */
	uint8_t cb_overflow;		/* why a circuit breaker refused it (enum hf_cb_overflow) */
	/* queued for a connection of its cluster (cb->wait_first): neighbours' ids + 1, 0: none */
	uint32_t wait_prev;
	uint32_t wait_next;
	uint32_t wait_sess;		/* its session's id + 1 while queued; 0: not queued */
	uint16_t rs_edit_len;
	char rs_edit[256];		/* response header edits (HF_HTTP_EDIT_MAX), copied from the route */
	struct hf_access_log_rec log;	/* filled as the exchange goes, queued at its end */
	uint32_t id;
};

/*
 * One downstream connection: what it needs between requests. The exchange
 * under way, if any, is `x`; it is NULL while the connection waits for (the
 * rest of) a request head.
 */
struct hf_http_session {
	struct hf_tcp_conn *down;
	const struct hf_http_listener *lst;
	struct hf_http_stream *x;
	uint64_t start_tsc;		/* first byte of the request head */
	struct hf_http_reader rd;	/* request bytes */
	struct hf_timer timer;		/* idle, header read, fault delay or route timeout */
	uint8_t rq;			/* enum hf_http_rq_state */
	uint8_t rs;			/* enum hf_http_rs_state */
	uint8_t flags;			/* HF_HTTP_S_* */
	uint8_t minor;			/* the client's HTTP/1.<minor> */
	uint32_t id;
};

#define HF_HTTP_MAX_LISTENERS HF_MAX_LISTENERS
/* Distinct upstream endpoints with a pool slot (idle list, load) per worker. */
#define HF_HTTP_ENDPOINT_SLOTS 4096

/* hf_http_ep_slot()'s memo of the endpoint table: 2^bits entries, direct-mapped. */
#define HF_HTTP_EP_MEMO_BITS 8

struct hf_http_ep_memo {
	uint32_t addr;			/* network order */
	uint16_t port;
	uint16_t used;
	int32_t slot;
};

/* Room for a target whose normalization or rewrite changed it: longer than this is a 414. */
#define HF_HTTP_TARGET_MAX 16384

/* A worker's HTTP state: pools sized at start-up, never grown. */
struct hf_http_state {
	struct hf_worker *w;		/* the owner: timer callbacks get only their session */
	unsigned int n_listeners;
	struct hf_http_listener listeners[HF_HTTP_MAX_LISTENERS];
	struct hf_lb_state *lb;		/* endpoint picking, this worker's own */
	struct hf_http_session *sessions;
	uint32_t *free_sessions;
	uint32_t n_free_sessions;
	struct hf_http_stream *streams;
	uint32_t *free_streams;
	uint32_t n_free_streams;
	uint32_t n_streams;
	struct hf_http_up *ups;
	uint32_t *free_ups;
	uint32_t n_free_ups;
	uint32_t n_conns;		/* sessions and upstreams each */
	struct hf_http_heads heads;	/* gather buffers for heads that span segments */
	struct rte_hash *endpoints;	/* (addr, port) → idle list slot */
	struct hf_http_up **idle;	/* idle list heads, by slot */
	uint32_t *active;		/* requests in flight, by endpoint slot (LEAST_REQUEST) */
	uint32_t *slot_refs;		/* upstream connections bound to each endpoint slot */
	uint64_t *slot_seen;		/* snapshot version that last listed each slot's endpoint */
	/*
	 * The slots of the endpoints met lately: the table's lookup (a hash and
	 * a probe, 158 instructions under callgrind) was paid by every request.
	 */
	struct hf_http_ep_memo ep_memo[1u << HF_HTTP_EP_MEMO_BITS];
	struct hf_h1_limits up_limits;	/* what an upstream response head may be */
	struct rte_ring *log_ring;	/* records to the agent (SP/SC); NULL: no access log */
	uint64_t epoch_us;		/* wall clock at epoch_tsc, for %START_TIME% */
	uint64_t epoch_tsc;
	uint64_t tsc_per_ms;
	uint64_t tsc_per_us;
	const struct hf_http_listener_config *istio_http;	/* settings of Istio listeners; NULL: none */
	struct hf_tls_worker *tls;	/* TLS connections, set up with the first HTTPS port; else NULL */
	struct hf_tls_client *tls_client;	/* TLS origination, from the first cluster asking */
	struct hf_authn authn;		/* the request being checked: its JWT's principal and claims */
	uint32_t drain_timeout_ms;	/* http.drain_timeout_ms */
	/* clusters with requests queued for a connection (hf_http_wake), HF_CB_CLUSTERS at most */
	struct hf_cb_cluster **waitq;
	uint32_t n_waitq;
	/* sessions alive per listener slot: a drain's recount without a walk of the sessions */
	uint32_t lst_sessions[HF_HTTP_MAX_LISTENERS];
	/*
	 * The request being routed: room for its normalized and its rewritten
	 * target (proxy/http.c). Here rather than on the router's stack, where
	 * their 32 KB put every other local of the request's path, and the frames
	 * of what it calls, 39 KB down the stack, in lines and pages nothing else
	 * touches between requests. in_use: a routing under way holds them.
	 */
	struct {
		bool in_use;
		char norm[HF_HTTP_TARGET_MAX];
		char target[HF_HTTP_TARGET_MAX];
	} route_buf;
};

#endif
