/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HTTP_INT_H
#define HF_HTTP_INT_H

/*
 * Between the parts of the HTTP proxy: the stream reader and message
 * building (http_msg.c) and the sessions and upstream pool (http.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "dataplane/proxy/http-t.h"
#include "dataplane/worker.h"
#include "tls/tls.h"

struct rte_mbuf;
struct rte_mempool;

/* Appends the segments of chain @p m to @p q, each made a packet of its own. */
void hf_http_mq_append(struct hf_tcp_mq *q, struct rte_mbuf *m);

/* Frees every segment of @p q. */
void hf_http_mq_free(struct hf_tcp_mq *q);

/*
 * A zero-copy copy of chain @p m (indirect mbufs from the worker's clone
 * pool, one per segment), for sending the same bytes again. NULL when the
 * pool is empty (nothing is left allocated).
 */
struct rte_mbuf *hf_http_chain_clone(struct hf_worker *w, struct rte_mbuf *m);

/*
 * Takes up to @p n bytes off the front of @p q as a chain; a segment cut in
 * two stays zero copy (its first part becomes an indirect mbuf). Returns the
 * chain (NULL when @p q is empty or @p n is 0) and the bytes in *@p taken,
 * which is less than asked only when @p q runs out or no mbuf was left for a
 * cut (then *@p nomem is set).
 */
struct rte_mbuf *hf_http_mq_take(struct hf_worker *w, struct hf_tcp_mq *q, uint64_t n,
				 uint32_t *taken, bool *nomem);

/* hf_http_rd_pull() when there may be something to move. */
uint32_t hf_http_rd_pull_slow(struct hf_worker *w, struct hf_http_reader *rd,
			      struct hf_tcp_conn *c, uint32_t max);

/*
 * Moves what TCP holds for @p c into @p rd until it has @p max bytes. Returns
 * bytes moved. In line, the tests that find nothing to move: drive() looks at
 * both sides in each pass, and once more after every exchange.
 */
static inline uint32_t
hf_http_rd_pull(struct hf_worker *w, struct hf_http_reader *rd, struct hf_tcp_conn *c,
		uint32_t max)
{
	if (rd->q.bytes >= max)
		return 0;
	/*
	 * Nothing in TCP's queue of a plaintext connection: hf_tcp_recv() would
	 * find none (TLS may hold decrypted bytes of its own, so it is always asked).
	 */
	if (c->rcvq.head == NULL && !hf_tls_runs(c))
		return 0;
	return hf_http_rd_pull_slow(w, rd, c, max);
}

/*
 * Sets up @p hp with @p count buffers of @p size bytes (hugepage memory,
 * rte_malloc: call after rte_eal_init()). Returns 0 or -ENOMEM (nothing held).
 */
int hf_http_heads_init(struct hf_http_heads *hp, uint32_t size, uint32_t count);

/* Frees the buffers of @p hp (all must be back); a zeroed @p hp is fine. */
void hf_http_heads_fini(struct hf_http_heads *hp);

/*
 * Parses the head at the front of @p rd (a request when @p request), gathering
 * it into a pooled buffer once it spans segments. Returns the head length, as
 * hf_h1_parse_request(), or -ENOBUFS when no gather buffer is free. The
 * slices of @p msg stay valid until hf_http_rd_consume().
 */
int hf_http_rd_head(struct hf_http_heads *hp, struct hf_http_reader *rd, bool request,
		    const struct hf_h1_limits *lim, struct hf_h1_message *msg);

/* Drops the first @p n bytes of @p rd (a parsed head) and gives its buffer back. */
void hf_http_rd_consume(struct hf_http_heads *hp, struct hf_http_reader *rd, uint32_t n);

/* Empties @p rd: segments freed, buffer returned, scan reset. */
void hf_http_rd_reset(struct hf_http_heads *hp, struct hf_http_reader *rd);

/* Builds bytes into a chain of fresh mbufs from one pool. */
struct hf_http_wr {
	struct rte_mempool *mp;
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	uint32_t len;
	bool failed;			/* an mbuf could not be had: the chain is incomplete */
};

/*
 * Sets @p wr up with its first segment @p m, fresh from @p mp (NULL: there was
 * none, wr->failed), later ones from @p mp; hf_http_wr_discard() gives them
 * back if the head is not sent. Every writer writes: its first segment is
 * taken at the start, so that the first put, like the rest, finds room in
 * the tail instead of going the slow way to allocate it.
 */
static inline void
hf_http_wr_start(struct hf_http_wr *wr, struct rte_mempool *mp, struct rte_mbuf *m)
{
	wr->mp = mp;
	wr->head = wr->tail = m;
	wr->len = 0;
	wr->failed = m == NULL;
}

/* hf_http_wr_start() with the first segment from @p mp. */
void hf_http_wr_init(struct hf_http_wr *wr, struct rte_mempool *mp);

/* hf_http_wr_start() for a head sent on port @p p: its first segment from the worker's stash. */
static inline void
hf_http_wr_init_port(struct hf_http_wr *wr, struct hf_worker *w, const struct hf_port *p)
{
	hf_http_wr_start(wr, p->pool, hf_mbuf_alloc(w, p));
}
/* Appends @p n bytes where the tail segment has no room: new segments as needed. */
void hf_http_wr_put_slow(struct hf_http_wr *wr, const void *p, size_t n);

/*
 * Appends @p n bytes. A head is built from dozens of small pieces, nearly all
 * of which fit the segment being filled: that case is a copy and two stores.
 */
static inline void
hf_http_wr_put(struct hf_http_wr *wr, const void *p, size_t n)
{
	struct rte_mbuf *t = wr->tail;

	if (likely(t != NULL && n <= rte_pktmbuf_tailroom(t))) {
		memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len), p, n);
		t->data_len = (uint16_t)(t->data_len + n);
		t->pkt_len = t->data_len;
		wr->len += (uint32_t)n;
		return;
	}
	hf_http_wr_put_slow(wr, p, n);
}

/* Frees what was built (after a failure). */
void hf_http_wr_discard(struct hf_http_wr *wr);

/* What the proxy adds to a request it forwards. */
struct hf_route_hdr_op;

struct hf_http_rq_extra {
	uint32_t client_addr;		/* network order: appended to x-forwarded-for */
	bool https;			/* the client spoke TLS to us: x-forwarded-proto https */
	bool http10;			/* the client spoke 1.0: so does the upstream request */
	bool upgrade;			/* keep Upgrade and say "connection: upgrade" */
	/* x-forwarded-client-cert to set (the client's certificate, SANITIZE_SET); NULL: none */
	const char *xfcc;
	uint16_t xfcc_len;
	char *request_id;		/* out: the x-request-id sent (HF_UUID_LEN + 1 bytes) */
	char *xff;			/* out: x-forwarded-for as sent, truncated to xff_len */
	size_t xff_len;
	const char *target;		/* the request target to send (a rewrite); NULL: as received */
	uint32_t target_len;
	bool asterisk;			/* send the target "*" (OPTIONS *, routed as "/") */
	const char *authority;		/* the Host to send (a rewrite); NULL: as received */
	uint32_t authority_len;
	/* header operations, applied in order: the route's, then the destination's */
	const struct hf_route_hdr_op *ops[2];
	uint16_t n_ops[2];
	/*
	 * The limits the head sent may not pass (NULL: none): the listener's own,
	 * which an upstream of the same kind holds it to (Envoy's defaults are
	 * ours), so that what a rewrite or the fields added make too long is
	 * refused here, saying why, instead of by the upstream.
	 */
	const struct hf_h1_limits *limits;
};

/*
 * A compact list of response header edits, copied into the session when the
 * request is routed (the route itself may be gone when the response comes):
 * entries of an op byte ('s' set, 'a' add, 'r' remove), the name and the
 * value, each NUL-terminated; an op byte of 0 ends the list.
 */
#define HF_HTTP_EDIT_MAX 256

/*
 * Appends @p n operations to the edit list @p e (@p len bytes used, ending in
 * its terminator). Returns 0, or -ENOSPC when they do not fit (nothing added).
 */
int hf_http_edit_add(char *e, size_t *len, const struct hf_route_hdr_op *ops, unsigned int n);

/* Appends one "add" entry. Returns 0 or -ENOSPC. */
int hf_http_edit_add_one(char *e, size_t *len, char op, const char *name, const char *value,
			 size_t value_len);

struct hf_snap_listener;

/*
 * The x-forwarded-client-cert @p s's upstream requests carry: the client's
 * certificate described (tls/peer.c) where listener @p sl (NULL: the node's
 * choice) is SANITIZE_SET, else NULL (*@p len 0).
 */
const char *hf_http_xfcc(const struct hf_http_session *s, const struct hf_snap_listener *sl,
			 uint16_t *len);

#define HF_UUID_LEN 36

/*
 * Writes the request head to send upstream: the request line, every field
 * but the hop-by-hop ones (RFC 9110 7.6.1: Connection and what it names,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade), Expect (answered by
 * us) and x-forwarded-proto, then x-forwarded-for, x-forwarded-proto and
 * x-request-id. Transfer-Encoding and Content-Length pass as they are: the
 * body is forwarded with its own framing.
 * Returns 0 (check wr->failed for want of mbufs), or, with x->limits, what
 * the head would pass measured as the parser measures a received one:
 * -ENAMETOOLONG, the request line (its CR included) over max_request_line;
 * -EMSGSIZE, the whole head over max_head. @p wr then holds the bytes
 * written so far, for the caller to discard.
 */
int hf_http_build_request(struct hf_http_wr *wr, const struct hf_h1_message *msg,
			  struct hf_http_rq_extra *x);

/*
 * Writes the response head to send downstream: HTTP/1.1 status line, every
 * field but the hop-by-hop ones, x-envoy-upstream-service-time (when
 * @p service_ms >= 0), and the connection field the downstream needs:
 * "close" when it will not persist, "keep-alive" for a persisting 1.0
 * client, "upgrade" after 101.
 */
void hf_http_build_response(struct hf_http_wr *wr, const struct hf_h1_message *msg,
			    bool keep_alive, bool http10, int32_t service_ms, const char *edit);

/*
 * Writes a whole local reply (status, a text body unless @p head_only) that
 * closes the connection after it when @p close; @p extra (NULL: none) is a
 * block of "name: value\r\n" fields to add (Location, CORS).
 */
void hf_http_build_local(struct hf_http_wr *wr, int status, const char *body, bool close,
			 bool head_only, const char *extra);


/*
 * The Host a mirrored request carries, as Envoy writes it (shadowAppend):
 * "-shadow" after the host, before any port ("a.test:80" → "a.test-shadow:80",
 * not "a.test:80-shadow", which names no host and a port that is no number),
 * so that the mirror's upstream can tell shadow traffic by name and still
 * see the port. A bracketed IPv6 address
 * keeps its brackets ("[::1]:80" → "[::1]-shadow:80"). Writes it into @p out
 * (@p cap bytes, NUL-terminated) and returns its length, or 0 when it does
 * not fit (nothing sensible to send).
 */
size_t hf_http_shadow_host(char *out, size_t cap, const char *host, size_t len);

/* Writes a random (version 4) UUID, HF_UUID_LEN characters and a NUL, into @p out. */
void hf_http_uuid4(char *out);

/* Copies slice @p p (@p n bytes) into @p dst of @p cap bytes as a C string, truncated. */
void hf_http_copy_str(char *dst, size_t cap, const char *p, size_t n);


/* ---- between the session machine (http.c), the upstream pool (http_pool.c), the body
 * pump (http_body.c) and retries and mirroring (http_retry.c) ---- */

/*
 * What a step of the session machine returns: nothing more until an event,
 * state changed (look again), or the session was freed (touch nothing).
 */
enum { STEP_WAIT, STEP_MORE, STEP_GONE };

struct hf_snap_cluster;
struct hf_snap_endpoint;

/* The key of the endpoint table: an upstream address and port (network order). */
struct hf_http_ep_key {
	uint32_t addr;
	uint16_t port;
	uint16_t zero;
};

/* The connection ops (http.c): downstream and upstream TCP events drive the session. */
extern const struct hf_tcp_ops hf_http_down_ops;
extern const struct hf_tcp_ops hf_http_up_ops;

struct hf_http_up *hf_http_up_alloc(struct hf_http_state *h);
void hf_http_up_free(struct hf_http_state *h, struct hf_http_up *u);
/* The idle-pool slot of endpoint (@p addr, @p port), added when new; -1 when the table is full. */
int32_t hf_http_ep_slot(struct hf_http_state *h, uint32_t addr, uint16_t port);
void hf_http_idle_remove(struct hf_http_state *h, struct hf_http_up *u);
/* Gives back the slots of endpoints snapshot @p snap no longer lists (http_pool.c). */
void hf_http_endpoints_sweep(struct hf_worker *w, const struct hf_snapshot *snap);
void hf_http_idle_push(struct hf_http_state *h, struct hf_http_up *u);
/* Closes upstream connection @p u (with a reset when @p reset) and frees it. */
void hf_http_up_close(struct hf_worker *w, struct hf_http_up *u, bool reset);
/* Closes every idle connection of endpoint slot @p slot. */
void hf_http_idle_drain(struct hf_worker *w, int32_t slot);
/*
 * An upstream connection to @p ep for session @p s: pooled, or a new one. NULL: none to be had.
 * @p slot: @p ep's idle-pool slot, as hf_http_pick_endpoint() gave it (-1: the table is full).
 */
struct hf_http_up *hf_http_upstream_for(struct hf_worker *w, struct hf_http_session *s,
					const struct hf_snap_cluster *cl,
					const struct hf_snap_endpoint *ep, int32_t slot);
/*
 * Opens @p u's connection to @p ep of cluster @p cl: plain TCP, or TLS when the
 * cluster originates it (tls/client.c). Returns it, or NULL (counted).
 */
struct hf_tcp_conn *hf_http_up_connect(struct hf_worker *w, struct hf_http_up *u,
				       const struct hf_snap_cluster *cl,
				       const struct hf_snap_endpoint *ep);
/* Frees the worker's TLS origination state (http_start.c's teardown). */
void hf_http_tls_client_free(struct hf_worker *w);
const struct hf_snap_endpoint *hf_http_pick_endpoint(struct hf_http_state *h,
						     const struct hf_snap_cluster *cl, int cluster,
						     int32_t *slot);

/* http_log.c: the record's fields every answer has (the connection, HTTP/1.<minor>) */
void hf_http_log_begin(struct hf_http_session *s, uint8_t minor);
/* ... and a request's: method, path, authority, user-agent, SNI */
void hf_http_log_request(struct hf_http_session *s, const struct hf_h1_message *msg);
/* ... and, once the exchange ends, its metrics recorded and the record handed to the agent */
void hf_http_log_push(struct hf_worker *w, struct hf_http_session *s);

/*
 * The exchange of @p s: the one under way, or a fresh one from the pool.
 * NULL when the pool is empty (the caller refuses the request).
 */
static inline struct hf_http_stream *
hf_http_stream_get(struct hf_http_state *h, struct hf_http_session *s)
{
	struct hf_http_stream *x;
	uint32_t id;

	if (s->x != NULL)
		return s->x;
	if (h->n_free_streams == 0)
		return NULL;
	id = h->free_streams[--h->n_free_streams];
	x = &h->streams[id];
	/* The log record is filled when it is wanted (hf_http_log_begin() and its callers). */
	memset(x, 0, offsetof(struct hf_http_stream, rs_edit));
	x->rs_edit[0] = '\0';
	x->log.status = 0;
	x->log.flag = HF_RF_NONE;
	x->log.details = NULL;
	x->log.transport_failure = NULL;
	x->log.bytes_rx = x->log.bytes_tx = 0;
	x->service_ms = -1;
	x->ep_slot = -1;
	x->id = id;
	s->x = x;
	return x;
}

/* The status, response flag and details of the exchange of @p s, for its log and metrics. */
static inline void
hf_http_set_result(struct hf_http_session *s, int status, enum hf_response_flag flag, const char *details)
{
	s->x->log.status = (uint16_t)status;
	s->x->log.flag = (uint8_t)flag;
	s->x->log.details = details;
}

/* From the session machine (http.c) to the body pump and the retries. */
void hf_http_timer_set(struct hf_worker *w, struct hf_http_session *s, uint32_t ms);
void hf_http_count_status(struct hf_worker *w, int status);
/* Resets the downstream (and the upstream): the exchange cannot end cleanly. STEP_GONE. */
int hf_http_sess_reset(struct hf_worker *w, struct hf_http_session *s, enum hf_response_flag flag);
/*
 * The exchange is over on both sides: logs it, returns the upstream to its
 * pool when it can serve again, and either waits for the next request
 * (STEP_MORE) or closes the downstream (STEP_WAIT).
 */
int hf_http_exchange_end(struct hf_worker *w, struct hf_http_session *s, bool close);

/* Local replies (http_reply.c). They return the session machine's STEP_*. */
/* Answers the request of @p s locally with @p status and @p body (closing after it with @p close). */
int hf_http_local_reply(struct hf_worker *w, struct hf_http_session *s, int status,
			enum hf_response_flag flag, const char *details, const char *body, bool close);
/* ... with @p extra header lines (each ending in CRLF) in the head, or NULL. */
int hf_http_local_reply_x(struct hf_worker *w, struct hf_http_session *s, int status,
			  enum hf_response_flag flag, const char *details, const char *body,
			  bool close, const char *extra);
/* A 503 without a record: no stream is left (http.max_requests in flight). The connection closes. */
int hf_http_no_stream(struct hf_worker *w, struct hf_http_session *s);
/*
 * Answers a connection that sent no request that could be read (a parse
 * error, a header timeout, no head buffer) and closes it: the exchange's
 * record is the connection's; hf_http_no_stream() when no stream is left.
 */
int hf_http_connection_reply(struct hf_worker *w, struct hf_http_session *s, int status,
			     enum hf_response_flag flag, const char *details, const char *body);
/* The parser refused the request head with @p rc (HF_H1_E_*): counted by reason, answered. */
int hf_http_parse_error(struct hf_worker *w, struct hf_http_session *s, int rc);
/* Drives session @p s again: its queued request got an upstream connection (http_pool.c). */
void hf_http_resume(struct hf_worker *w, struct hf_http_session *s);
/* The upstream connection failed (@p flag UF) or closed (UC) before a response: retry or 503. */
int hf_http_upstream_failed(struct hf_worker *w, struct hf_http_session *s,
			    enum hf_response_flag flag);

/* Reads the body framing of @p msg into @p b (RFC 9112 6.3). */
void hf_http_set_framing(struct hf_http_body *b, const struct hf_h1_message *msg);
/* The body pump's steps (STEP_*). */
int hf_http_pump_request(struct hf_worker *w, struct hf_http_session *s);
int hf_http_pump_response(struct hf_worker *w, struct hf_http_session *s);
int hf_http_start_tunnel(struct hf_worker *w, struct hf_http_session *s);
int hf_http_pump_tunnel(struct hf_worker *w, struct hf_http_session *s);

/* Stops reading requests on @p s: FIN after what is queued; later input is dropped. */
void hf_http_sess_close(struct hf_worker *w, struct hf_http_session *s);

/* What hf_http_drain_scan() does to each session of a removed listener. */
enum hf_http_drain_op {
	HF_HTTP_DRAIN_COUNT,		/* nothing: counts them */
	HF_HTTP_DRAIN_START,		/* closes the idle ones (FIN), counted */
	HF_HTTP_DRAIN_RESET,		/* resets every one (the drain timed out), counted */
};

/*
 * Walks the sessions of listener @p l of worker @p w, doing @p op to each.
 * Returns how many there were (reset ones included). O(sessions) for a drain's
 * start and its timeout; a count (the 100 ms recount) is the slot's tally, O(1).
 */
uint32_t hf_http_drain_scan(struct hf_worker *w, const struct hf_http_listener *l,
			    enum hf_http_drain_op op);

/* Sends a copy of the request head of @p s to cluster @p cl (index @p cluster); its answer is dropped. */
void hf_http_mirror(struct hf_worker *w, struct hf_http_session *s, const struct hf_h1_message *msg,
		    const struct hf_snap_cluster *cl, int cluster);
/* Whether the route of @p s retries on @p status or on one of the @p on conditions. */
bool hf_http_retriable(const struct hf_http_session *s, int status, uint32_t on);
/* Sends the request of @p s again (a retry), or answers with @p status when none is left. */
int hf_http_retry(struct hf_worker *w, struct hf_http_session *s, int status,
		  enum hf_response_flag flag, const char *details, const char *body);

/* What hf_http_shape_target() made of a request's target. */
struct hf_http_shaped {
	bool absolute;			/* absolute-form: msg->host is its authority, the Host to send */
	bool asterisk;			/* OPTIONS *: routed as "/", sent as "*" */
	const char *why;		/* a refusal's details */
};

/*
 * Puts @p msg in the one shape that routing and the upstream both see (RFC
 * 9112 3.2): msg->target becomes the origin-form target to route and to send,
 * its path normalized as the listener says (path.h) into @p buf when that
 * changes it; an absolute-form target gives its path and query, and its
 * authority becomes msg->host, which a Host field may not contradict (RFC
 * 9112 3.2.2: the recipient ignores Host then). An asterisk-form OPTIONS is
 * about the server as a whole (RFC 9110 9.3.7): it is routed as "/" and
 * forwarded as "*", as RFC 9112 3.2.4 has proxies do, and so is an OPTIONS
 * whose absolute-form target has neither path nor query. CONNECT (authority-form)
 * is refused: no route here can allow a tunnel. Returns 0, or the status to
 * refuse the request with, counted, with @p msg untouched.
 */
int hf_http_shape_target(struct hf_worker *w, const struct hf_http_session *s,
			 struct hf_h1_message *msg, char *buf, uint32_t cap,
			 struct hf_http_shaped *out);

#endif
