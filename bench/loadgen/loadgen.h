/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LOADGEN_H
#define HF_LOADGEN_H

/*
 * hf-loadgen: an HTTP/1.1 load generator on Hydrofoil's own stack. Each worker
 * lcore runs the daemon's poll loop (hf_worker_poll_once) with its own TCP
 * stack; the client and server roles live in the TCP callbacks and in one
 * per-loop hook (lg_client_poll), the replay role in another (lg_replay_poll,
 * worker 0 only), all in this directory. Nothing is shared between workers
 * while they run: each keeps its own counters and histogram, merged by the
 * main lcore once they have stopped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/sched.h"
#include "bench/loadgen/stallwait.h"
#include "dataplane/http/h1.h"
#include "dataplane/proxy/http-t.h"
#include "dataplane/worker-t.h"
#include "tls/tls-t.h"

#define LG_MAX_HEADERS 32
/* --paths: distinct request targets a client sends in turn, at most. */
#define LG_MAX_PATHS 256
#define LG_GATHER_BUFS 64	/* per worker: heads that span segments (rare) */
#define LG_HIST_MAX_NS 60000000000ull
#define LG_HIST_SUB_BITS 7

/* The command line, validated; read-only once the workers run. */
struct lg_opts {
	/* client role */
	bool client;
	uint32_t target_addr;		/* network order */
	uint16_t target_port;		/* host order */
	uint16_t target_ports;		/* slot i connects to target_port + i % target_ports (1) */
	uint32_t connections;
	uint32_t tcbs;			/* TCB pool per worker; 0: from the connections */
	bool new_conn;
	double rate;			/* requests/s for the whole process; 0: closed loop */
	bool poisson;
	const char *method;
	const char *path;
	unsigned int n_paths;		/* --paths: 1, or N requests to PATH/0 .. PATH/N-1 in turn */
	const char *headers[LG_MAX_HEADERS];
	unsigned int n_headers;
	uint32_t body_size;		/* request body */
	double duration_s;
	double warmup_s;
	uint32_t timeout_ms;		/* connect and response */
	const char *stall_board;	/* --stall-board: the target's stall board (worker-t.h) */
	/* --tls: the client speaks TLS (tls_client.c) */
	uint16_t tls_version;		/* HF_TLS_V1_2 or HF_TLS_V1_3; 0: plaintext */
	bool tls_resume;		/* offer the worker's first session to every later connection */
	const char *tls_sni;		/* server_name; NULL: none */
	const char *tls_groups;		/* key-exchange groups (OpenSSL's list syntax) */
	const char *tls_ciphers;	/* the one suite offered (1.3: ciphersuites, 1.2: cipher list) */
	/* server role */
	bool server;
	uint16_t server_port;		/* host order */
	int status;
	uint32_t response_size;
	/* replay role (--replay): worker 0 sends the frames of a pcap file on the first port */
	const char *replay_file;
	double replay_rate;		/* frames/s; 0: as fast as the queue takes them */
	bool replay_rate_set;		/* else paced by the file's own timestamps */
	uint64_t replay_loops;		/* passes over the file; 0: until stopped */
	bool replay_dst_set;
	uint8_t replay_dst[6];		/* --replay-dst-mac, written into each frame once at load */
	/* process */
	unsigned int workers;
	bool json;
};

/* Errors by kind. */
enum lg_err {
	LG_E_CONNECT,			/* refused, timed out in SYN-SENT, no TCB or port */
	LG_E_RESET,			/* reset, or closed by the peer with a request outstanding */
	LG_E_TIMEOUT,			/* no complete response within timeout_ms */
	LG_E_BAD,			/* unparsable response, bad chunking, no head buffer */
	LG_E_NON2XX,			/* a complete response whose status is not 2xx */
	LG_E_TLS,			/* TLS handshake failed or timed out, or a record was bad */
	LG_E_UNSENT,			/* open loop: due, never sent (no connection was free for it) */
	LG_E__N
};

/* One worker's counters (the measured window, except the *_total ones). */
struct lg_stats {
	uint64_t requests_total;	/* requests sent over the whole run, warm-up included */
	uint64_t responses_total;	/* complete responses over the whole run */
	uint64_t responses;		/* complete responses to measured requests */
	uint64_t ok;			/* of which 2xx */
	uint64_t connects;		/* connections established in the window */
	uint64_t err[LG_E__N];
	uint64_t rx_body_bytes;		/* response body bytes over the whole run */
	uint64_t body_bytes_measured;	/* of which those of measured requests */
	uint64_t server_requests;	/* requests answered by the server role */
	uint64_t server_conns;		/* connections it accepted */
	uint64_t server_bad;		/* requests it could not parse (connection reset) */
	uint64_t backlog_max;		/* open loop: most requests waiting for a connection */
	/* the loadgen's own stack over the whole run: frames it could not send, segments it resent */
	uint64_t tx_dropped;		/* port.drop.tx_full + tx_refused + link_down */
	uint64_t retransmits;		/* tcp.retransmits */
	/* the worker's own loop over the measured window (issue 16) */
	uint64_t responses_stalled;	/* measured responses whose wait held a stall of our loop */
	uint64_t responses_peer_stalled; /* of the others, those whose wait held a target stall */
	/* of the others, those due while the backlog a stall left had not emptied yet */
	uint64_t responses_queue_stalled;
	uint64_t loop_stalls;		/* worker.loop_stalls: loop gaps over HF_WORKER_STALL_US */
	uint64_t stall_blame[HF_LOOP__N];	/* of which blamed on each piece (counters.def) */
	uint64_t loop_stalls_500us;	/* of which over 500 us */
	uint64_t loop_stalls_5ms;	/* and over 5 ms */
	uint64_t loop_stalls_preempted;	/* of all stalls: the thread preempted in it */
	uint64_t loop_stalls_blocked;	/* the thread slept in it */
	uint64_t loop_stalls_unswitched;	/* neither: own work, an interrupt, the hypervisor */
	/* the measured window's TSC ticks, and those in loop iterations that received nothing */
	uint64_t window_cycles;
	uint64_t idle_cycles;
	uint64_t tls_handshakes_total;	/* --tls: handshakes finished over the whole run */
	uint64_t tls_resumed_total;	/* of which resumed */
	/* --tls, the measured window */
	uint64_t tls_handshakes;	/* completed (full and resumed) */
	uint64_t tls_resumed;		/* of which the server resumed (SSL_session_reused) */
	uint64_t tls_hs_cycles;		/* TSC from TCP's connect to the end of the handshake, summed */
};

/* Client connection slot states. */
enum lg_conn_state {
	LG_C_IDLE,			/* no TCP connection */
	LG_C_CONNECTING,		/* SYN sent */
	LG_C_TLS,			/* --tls: connected, handshake running */
	LG_C_READY,			/* established, nothing outstanding */
	LG_C_HEAD,			/* request sent, waiting for the response head */
	LG_C_BODY,			/* reading the response body */
};

struct lg_worker;
struct rte_mbuf;

/* How --replay paces its frames. */
enum lg_replay_pace {
	LG_PACE_FILE,			/* the file's timestamps, pass after pass */
	LG_PACE_RATE,			/* evenly at --replay-rate */
	LG_PACE_MAX,			/* as fast as the TX queue takes them */
};

/*
 * The replay: a pcap file loaded before the run into mbufs of the port's pool
 * (one chain per frame, which the replay holds a reference to), sent by worker
 * 0 on its own TX queue in bursts at the times the pacing gives, a reference
 * added per send (the device frees its own): nothing allocates, copies or
 * calls the kernel per frame. Written by worker 0 only while it runs.
 */
struct lg_replay {
	struct rte_mbuf **pkts;
	uint64_t *due;			/* LG_PACE_FILE: TSC offset of each frame in its pass */
	uint32_t n;			/* frames in the file (empty records skipped) */
	uint16_t port;			/* index into the worker's ports */
	uint8_t pace;			/* enum lg_replay_pace */
	uint64_t pass_tsc;		/* LG_PACE_FILE: one pass, the mean gap included once */
	double tsc_per_pkt;		/* LG_PACE_RATE */
	uint64_t total;			/* frames to send: loops * n; UINT64_MAX: until stopped */
	uint64_t file_bytes;		/* bytes of one pass */
	uint64_t cut;			/* frames captured shorter than they were on the wire */
	uint64_t empty;			/* records of no bytes, skipped at load */
	uint32_t mbufs;			/* taken from the pool for the frames */
	/* progress */
	uint64_t k;			/* frames handed to the queue or refused, all passes */
	uint32_t idx;			/* k % n */
	uint64_t pass;			/* k / n */
	uint64_t stall_since;		/* LG_PACE_MAX: TSC of the first of refusals in a row */
	uint64_t t0, t_end;		/* TSC: start of the schedule; its end, or the stop */
	uint64_t t_last;		/* TSC of the last burst the queue took */
	uint64_t sent, bytes;
	uint64_t refused;		/* frames the TX queue did not take in time: not sent */
	volatile bool done;		/* every pass sent (release by worker 0, acquire by main) */
};

/* A slot's TLS client (tls_client.c); ssl is NULL when none runs. */
struct lg_tls_conn {
	struct ssl_st *ssl;
	struct hf_tls_io io;		/* tls/bio.c's state over the slot's TCP connection */
	uint64_t t0;			/* TSC when the handshake started */
	bool done;			/* handshake finished */
	bool broken;			/* a record failed: the connection is lost */
	bool peer_done;			/* close_notify, or the FIN after whole records */
};

/* How the body being read ends (RFC 9112 6.3). */
struct lg_body {
	uint8_t framing;		/* enum hf_http_framing */
	uint64_t remaining;
	struct hf_h1_chunked chunked;
};

struct lg_conn {
	struct lg_worker *lw;
	struct hf_tcp_conn *tcp;	/* NULL when IDLE */
	uint8_t state;			/* enum lg_conn_state */
	bool keep_alive;		/* the response lets the connection carry another request */
	bool has_request;		/* CONNECTING with a request to send once established */
	bool queued;			/* on the worker's ready stack */
	int status;			/* of the response being read */
	uint32_t idx;
	uint32_t next_ready;		/* ready stack link */
	uint64_t intended;		/* TSC the outstanding request was meant to leave */
	uint64_t sent;			/* TSC it left (its connect began, for a new connection) */
	uint64_t deadline;		/* TSC after which it times out */
	uint64_t retry_at;		/* IDLE: no connect before this TSC (after a failure) */
	struct hf_http_reader rd;
	struct lg_body body;
	struct lg_tls_conn tls;
};

/* A connection accepted by the server role. */
struct lg_sconn {
	struct hf_http_reader rd;
	struct lg_body body;
	bool in_body;			/* skipping a request body */
	bool head_only;			/* the request was HEAD */
	bool close;			/* close after this response */
	uint32_t next_free;
};

/* Everything one worker lcore owns besides its struct hf_worker. */
struct lg_worker {
	struct hf_worker *w;
	const struct lg_opts *o;
	struct hf_http_heads heads;	/* gather buffers of the HTTP readers */
	struct hf_h1_limits lim;
	uint64_t ns_mult;		/* ns per TSC tick, Q32 */
	/* client */
	uint16_t port;			/* port index the target is reached through */
	struct lg_conn *conns;
	uint32_t n_conns;
	uint32_t *ready;		/* LIFO of READY (keep-alive) or IDLE (new-conn) slots */
	uint32_t n_ready;
	struct rte_mbuf *request[HF_MAX_PORTS];	/* prebuilt, cloned per request */
	/* --paths N: the N requests each port sends in turn (request[p] is the first); else NULL */
	struct rte_mbuf *requests[HF_MAX_PORTS][LG_MAX_PATHS];
	uint32_t next_path;
	struct hf_sched sched;
	bool open_loop;
	bool head_method;		/* the request is HEAD: responses have no body */
	uint64_t *backlog;		/* open loop: intended times waiting for a connection */
	uint32_t backlog_mask;
	uint64_t bl_head, bl_tail;
	uint64_t t_start, t_warm, t_end, t_drain_end;
	uint64_t t_send_end;		/* open loop: the backlog's requests go out until then */
	uint64_t next_scan;
	uint32_t scan_pos;		/* the next slot scan() looks at: a pass is spread over polls */
	uint64_t timeout_tsc;
	uint32_t outstanding;		/* requests sent or connecting, not yet answered */
	uint32_t live;			/* slots with a TCP connection */
	uint32_t connecting;		/* slots in LG_C_CONNECTING (SYN out, no answer yet) */
	uint32_t open_next;		/* keep-alive ramp: next slot lg_client_poll() may open */
	bool any_connected;		/* one handshake done: the target's MAC is known */
	bool stopping;			/* past t_end: no new requests */
	volatile bool done;		/* client finished (written by this worker, read by main) */
	struct hf_hist *hist;
	/* measured responses whose wait held no loop stall, ours or the target's (issue 16) */
	struct hf_hist *hist_clean;
	/* latencies from the send instead of the intended time: the loadgen's own queue left out */
	struct hf_hist *hist_sent;
	const struct hf_stall_board *peer;	/* the target's stall board; NULL: none */
	/* loop timing from the start of the measured window (t_warm) */
	bool loop_window;		/* the worker's loop statistics were reset at t_warm */
	uint64_t stalls0[7 + HF_LOOP__N];	/* WORKER_STALLS, _CYCLES, _<kind>, _500US, _5MS, _PREEMPTED,
						   _BLOCKED, _UNSWITCHED */
	uint64_t longest_client;	/* longest lg_client_poll() since then, TSC ticks */
	struct lg_qshadow qshadow;	/* the open loop's backlog a stall left (stallwait.h) */
	uint64_t idle0, idle_t0;	/* worker.idle_cycles and the TSC at t_warm */
	bool window_closed;		/* window_cycles and idle_cycles taken, at t_end */
	/* server */
	struct lg_sconn *sconns;
	uint32_t n_sconns;
	uint32_t sfree;			/* free list head, UINT32_MAX when empty */
	struct rte_mbuf *response[HF_MAX_PORTS][2];	/* [port][head_only] */
	/* --tls: the client's context in the worker's own library context; the kept session */
	struct ossl_lib_ctx_st *tls_lib;
	struct ssl_ctx_st *tls_ctx;
	struct ssl_session_st *tls_sess;
	char tls_desc[96];		/* version, cipher, group of the first handshake */
	char tls_err[128];		/* why the first failed handshake failed */
	/* replay: worker 0 only, NULL elsewhere */
	struct lg_replay *replay;
	struct lg_stats st;
};

/* Set by the main lcore to end every worker's loop. */
extern volatile bool lg_stop;

/* Client role. lg_client_init allocates (0 or -ENOMEM); lg_client_start opens the connections. */
int lg_client_init(struct lg_worker *lw);
void lg_client_start(struct lg_worker *lw);
/* The per-loop hook: schedule, dispatch, timeouts, the end of the run. */
void lg_client_poll(struct lg_worker *lw);
void lg_client_fini(struct lg_worker *lw);

/*
 * The client over TLS (tls_client.c). lg_tls_init builds the worker's client
 * context from the options (0, or -EINVAL with why in @p err). lg_tls_start
 * (TCP just connected) sends the ClientHello: 0 or a negative errno.
 * lg_tls_handshake runs the handshake on: 1 done, 0 for more, -1 failed.
 * lg_tls_send encrypts the bytes of chain @p m (not freed) and queues them
 * on TCP: 0 or a negative errno. lg_tls_pull decrypts into the slot's reader
 * until it holds @p max bytes: the bytes added. lg_tls_close sends
 * close_notify after a finished handshake, then frees the TLS state, which
 * lg_tls_free does alone (the TCP connection is gone).
 */
struct ssl_st;
int lg_tls_init(struct lg_worker *lw, char *err, size_t errlen);
void lg_tls_fini(struct lg_worker *lw);
int lg_tls_start(struct lg_worker *lw, struct lg_conn *cn);
int lg_tls_handshake(struct lg_worker *lw, struct lg_conn *cn);
int lg_tls_send(struct lg_worker *lw, struct lg_conn *cn, const struct rte_mbuf *m);
uint32_t lg_tls_pull(struct lg_worker *lw, struct lg_conn *cn, uint32_t max);
bool lg_tls_peer_closed(const struct lg_conn *cn);
void lg_tls_close(struct lg_worker *lw, struct lg_conn *cn);
void lg_tls_free(struct lg_conn *cn);

/* Server role: opens the listener; 0 or a negative errno. */
int lg_server_init(struct lg_worker *lw);
void lg_server_fini(struct lg_worker *lw);

struct hf_port;

/*
 * Replay: lg_replay_load reads o->replay_file into mbufs of @p port's pool
 * (port index @p index); 0, or a negative errno with @p err saying why (the
 * file, the record, the pool). lg_replay_poll is worker 0's per-loop hook;
 * lg_replay_stop records when a run cut short ended; lg_replay_report prints
 * the table lines, or with @p json the value of a "replay" member.
 */
int lg_replay_load(struct lg_replay *r, const struct lg_opts *o, const struct hf_port *port,
		   uint16_t index, char *err, size_t errlen);
void lg_replay_poll(struct lg_worker *lw);
void lg_replay_stop(struct lg_replay *r);
void lg_replay_report(const struct lg_replay *r, const struct lg_opts *o, bool json);
void lg_replay_free(struct lg_replay *r);

/* Skips body bytes at the front of @p rd; returns 1 when the body ended, 0 for more, <0 bad. */
int lg_body_skip(struct lg_worker *lw, struct hf_http_reader *rd, struct lg_body *b,
		 uint64_t *counted);

/* Builds @p len bytes of @p s, then @p pad bytes of 'x', into one chain from @p mp (NULL: no mbuf). */
struct rte_mbuf *lg_build(struct rte_mempool *mp, const char *s, size_t len, uint32_t pad);

#endif
