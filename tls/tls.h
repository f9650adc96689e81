/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TLS_H
#define HF_TLS_H

/*
 * TLS termination in the worker, over Hydrofoil's TCP (see tls-t.h).
 *
 * A TLS listener sits between TCP and the application: TCP calls
 * hf_tls_tcp_ops, TLS runs the handshake (non-blocking: a ClientHello that
 * comes in pieces just waits for the next segment), and only a connection
 * whose handshake finished reaches the application's ops, as if TCP had just
 * accepted it. From then on the application reads and writes plaintext with
 * the hf_tls_* calls below, which take any TCP connection: on one that runs
 * no TLS they are the hf_tcp_* calls themselves (a pointer compare), so code
 * that serves both (the HTTP proxy) calls them everywhere.
 *
 * Hot path: no syscalls, no locks of ours; OpenSSL objects are per worker.
 * OpenSSL itself allocates (SSL_new, a handshake's buffers, a record's
 * buffers while a connection is busy: SSL_MODE_RELEASE_BUFFERS gives them back
 * when idle); that is OpenSSL's malloc, per handshake, not per packet of an
 * established connection once its buffers exist.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "dataplane/tcp/tcp.h"
#include "tls/tls-t.h"

struct ssl_ctx_st;
struct ossl_lib_ctx_st;
struct evp_cipher_st;

/* ---- building contexts (tls/ctx.c): no DPDK, also used by the agent to check a config ---- */

/*
 * A server SSL_CTX for @p sc in library context @p lib (NULL: the default):
 * its certificate chain and key (checked to match), versions, TLS 1.2
 * ciphers, ALPN offering only http/1.1, no renegotiation, no session cache,
 * SSL_MODE_RELEASE_BUFFERS; session tickets sealed with the shared keys of
 * hf_tls_tickets_now when keys are published as it is built (none: no
 * tickets), and a session id context that hashes what a resumed session
 * must still agree with (the names, the leaf's subject, MUTUAL's CAs and
 * SANs), so a ticket never resumes on another server, and does across a
 * rotation of the same server's certificate. With
 * sc->ca_pem (MUTUAL) a client certificate is required and verified against
 * those CAs (each must be a CA certificate). NULL with a message in @p err
 * when something is refused.
 */
struct ssl_ctx_st *hf_tls_ctx_new(struct ossl_lib_ctx_st *lib,
				  const struct hf_tls_server_config *sc, char *err, size_t errlen);

/*
 * Whether @p name is a TLS 1.2 (or older) cipher suite OpenSSL knows by that
 * name ("ECDHE-ECDSA-AES128-GCM-SHA256"). Returns 1, 0 for an unknown name,
 * or -1 for a TLS 1.3 suite name (not configurable, as in Envoy).
 */
int hf_tls_cipher_known(const char *name);

/*
 * Whether @p pem (@p len bytes) is a usable caCertificates bundle: one or
 * more PEM certificates, each a CA certificate. 0, or -EINVAL with the
 * reason in @p err (the agent checks a MUTUAL server's CA file with it).
 */
int hf_tls_ca_check(const char *pem, uint32_t len, char *err, size_t errlen);

struct x509_st;

/*
 * The session ticket keys all workers use (tls-t.h), or NULL: no tickets.
 * Written by the control agent only, with a release store; the old keys are
 * freed after an RCU grace period of the workers (they read them during a
 * handshake, within one loop iteration).
 */
extern struct hf_tls_tickets *hf_tls_tickets_now;

static inline const struct hf_tls_tickets *
hf_tls_tickets_current(void)
{
	/* Pairs with the release store of the agent's rotation (control-agent/tickets.c). */
	return __atomic_load_n(&hf_tls_tickets_now, __ATOMIC_ACQUIRE);
}

/*
 * Whether client certificate @p x carries one of @p names (@p n of them) as a
 * subjectAltName, as Envoy's match_subject_alt_names with exact matchers: a
 * URI SAN byte for byte ("spiffe://td/ns/a/sa/b"), a DNS SAN as a host name
 * (any case; a "*.example.com" SAN covers one label), never the subject CN.
 * Returns 1 or 0.
 */
int hf_tls_san_match(struct x509_st *x, const char *const *names, unsigned int n);

/* ---- SNI (tls/sni.c): pure C ---- */

struct hf_tls_sni_entry {
	const char *name;		/* lower case; a wildcard without its "*" (".example.com") */
	uint16_t len;
	uint16_t server;
	uint8_t kind;			/* 0 exact, 1 suffix wildcard, 2 "*" */
};

/*
 * The server for SNI @p name (@p len bytes, any case): an exact name first,
 * then the longest "*.suffix" that covers it (any depth, as Envoy's
 * server_names), then "*". -1 when none (the handshake fails: unknown_sni).
 * @p name of length 0 (no SNI) gets server 0.
 */
int hf_tls_sni_select(const struct hf_tls_sni_entry *e, unsigned int n, const char *name,
		      size_t len);

/*
 * The host name of a server_name extension body (RFC 6066 3) at @p p, @p len
 * bytes: *@p name and *@p name_len point into it. Returns 0, or -EINVAL when
 * it is malformed (lengths that do not add up, no host_name entry, an empty
 * or over-long name, bytes that no DNS name has).
 */
int hf_tls_sni_parse(const uint8_t *p, size_t len, const char **name, size_t *name_len);

/*
 * Passthrough (tls.mode PASSTHROUGH): the ClientHello is read, never
 * answered, to learn its SNI; the bytes go on unchanged. Its message may be
 * at most HF_TLS_HELLO_MAX bytes (Envoy's tls_inspector default), the
 * records carrying it at most HF_TLS_PEEK_MAX.
 */
#define HF_TLS_HELLO_MAX 16384
#define HF_TLS_PEEK_MAX (HF_TLS_HELLO_MAX + 1024)
#define HF_TLS_PEEK_AGAIN 1

/*
 * The SNI of the ClientHello that starts @p p (@p len bytes: what the client
 * sent so far). Returns 0 with *@p name and *@p name_len pointing into @p p
 * or @p scratch (*@p name_len 0: no server_name extension);
 * HF_TLS_PEEK_AGAIN with *@p need, the byte count to wait for before looking
 * again; -EINVAL when the bytes are no TLS handshake record holding a
 * well-formed ClientHello (RFC 8446 4.1.2, 5.1; the server_name as
 * hf_tls_sni_parse() takes it); -E2BIG past the caps above. @p scratch
 * (HF_TLS_HELLO_MAX bytes) joins a message fragmented over records. Pure C,
 * bounded: reads only the @p len bytes given.
 */
int hf_tls_hello_peek(const uint8_t *p, size_t len, uint8_t *scratch, const char **name,
		      size_t *name_len, size_t *need);

/* ---- the BIO (tls/bio.c) ---- */

struct bio_st;

/* A BIO over @p io (which must outlive it). NULL when OpenSSL has no memory. */
struct bio_st *hf_tls_bio_new(struct hf_tls_io *io);

/* Appends chain @p m to the read side of @p io (tests; the worker reads TCP itself). */
void hf_tls_io_feed(struct hf_tls_io *io, struct rte_mbuf *m);

/* Takes what OpenSSL wrote (a chain; NULL when nothing). */
struct rte_mbuf *hf_tls_io_take(struct hf_tls_io *io);

/* Frees both sides' mbufs. */
void hf_tls_io_reset(struct hf_tls_io *io);

/* ---- the worker (tls/conn.c) ---- */

/* A worker's TLS state: the connection pool and the OpenSSL library context. */
struct hf_tls_worker {
	struct hf_worker *w;
	struct ossl_lib_ctx_st *lib;	/* this worker's own (no shared method store) */
	struct hf_tls_conn *conns;
	uint32_t *free;
	uint32_t n_free;
	uint32_t n;
	uint32_t handshake_ms;		/* handshake timeout */
	/* access log lines of failed handshakes (hf_tls_worker_set_log); log_ring NULL: none */
	struct rte_ring *log_ring;
	uint64_t epoch_us, epoch_tsc, tsc_per_us, tsc_per_ms;
	/* an SNI no server took (ctx.c), for that connection's line: the SSL kept none */
	uint32_t hello_id;
	char hello_sni[64];
	/* HF_TLS_RECORD_MAX bytes: a record's plaintext gathered from its mbufs (conn.c) */
	uint8_t *rec;
	struct hf_tls_peers peers;	/* client certificates' principals (peer.c) */
};

/*
 * One worker's contexts for one listener config: an SSL_CTX per server and
 * the SNI table, with copies of everything they need (the snapshot they came
 * from may go). Reference-counted: the listener holds one, every handshake
 * in progress one.
 */
struct hf_tls_lctx {
	uint32_t refs;
	uint64_t id;			/* hf_tls_listener_config.id it was built from */
	unsigned int n_servers;
	struct ssl_ctx_st *ctx[HF_TLS_MAX_SERVERS];
	uint16_t min_version[HF_TLS_MAX_SERVERS];
	uint16_t max_version[HF_TLS_MAX_SERVERS];
	char *ciphers[HF_TLS_MAX_SERVERS];	/* NULL: the default */
	unsigned int n_sans[HF_TLS_MAX_SERVERS];	/* MUTUAL: subjectAltNames; 0: any */
	char **sans[HF_TLS_MAX_SERVERS];
	unsigned int n_sni;
	struct hf_tls_sni_entry *sni;
	char *names;			/* the entries' strings */
	struct evp_cipher_st *ticket_aes;	/* AES-256-CBC, fetched in this worker's library */
};

/*
 * Builds @p cfg's contexts in library context @p lib (malloc: at snapshot
 * pick-up or in the agent, never per packet), one reference held. NULL with
 * a message in @p err.
 */
struct hf_tls_lctx *hf_tls_lctx_new(struct ossl_lib_ctx_st *lib,
				    const struct hf_tls_listener_config *cfg, char *err, size_t errlen);

/* Drops a reference; the last frees the contexts. NULL is fine. */
void hf_tls_lctx_put(struct hf_tls_lctx *x);

/* A TLS listener of a worker, between TCP (its ops) and the application's. */
struct hf_tls_listener {
	struct hf_tls_worker *tw;
	struct hf_tls_lctx *lctx;	/* current; NULL when its config failed to build */
	const struct hf_tcp_ops *app_ops;
	void *app_ctx;			/* the application's listener context */
};

/* The TCP callbacks of a TLS listener: hf_tcp_listen(w, port, &hf_tls_tcp_ops, listener). */
extern const struct hf_tcp_ops hf_tls_tcp_ops;

/*
 * Makes getpid() answer from a cache that fork() refreshes (tls/pid.c):
 * OpenSSL 3.0 calls it before every random draw. Idempotent; called by
 * hf_tls_worker_new.
 */
void hf_tls_pid_init(void);

/* Sets up TLS for worker @p w: @p n connections (rte_malloc). NULL when out of memory. */
struct hf_tls_worker *hf_tls_worker_new(struct hf_worker *w, uint32_t n);

/*
 * Failed handshakes get an access log line (control-agent/access_log.h), queued
 * on @p ring (the HTTP proxy's ring of this worker; NULL: none), their times
 * from the TSC as the proxy's: wall clock @p epoch_us at TSC @p epoch_tsc.
 */
void hf_tls_worker_set_log(struct hf_tls_worker *tw, struct rte_ring *ring, uint64_t epoch_us,
			   uint64_t epoch_tsc, uint64_t tsc_hz);

/* Frees @p tw; every connection must be gone (the TCP stack is torn down first). */
void hf_tls_worker_free(struct hf_tls_worker *tw);

/*
 * A TLS listener for @p cfg, handing established connections to @p app_ops
 * with listener context @p app_ctx. Builds this worker's SSL_CTXs (at snapshot
 * pick-up: about 1.5 ms of CPU per certificate, never per packet).
 * NULL when out of memory or when @p cfg does not build (counted).
 */
struct hf_tls_listener *hf_tls_listener_new(struct hf_tls_worker *tw,
					    const struct hf_tls_listener_config *cfg,
					    const struct hf_tcp_ops *app_ops, void *app_ctx);

/*
 * Points @p l at @p cfg from now on, rebuilding this worker's contexts when
 * its id changed. Handshakes in progress finish on the contexts they
 * started with; established connections keep theirs.
 */
void hf_tls_listener_update(struct hf_tls_listener *l, const struct hf_tls_listener_config *cfg);

/* Frees @p l (its connections hold their own references to the contexts). */
void hf_tls_listener_free(struct hf_tls_listener *l);

/*
 * Bytes of Hydrofoil's own state per TLS connection (the pool slot). OpenSSL's
 * SSL object comes on top: tests/unit/tls/test_tls measures it per idle
 * connection (README).
 */
size_t hf_tls_conn_footprint(void);

/* ---- TLS origination (tls/client.c): the client side, for upstream connections ---- */

/*
 * A client SSL_CTX for @p cc in library context @p lib (NULL: the default):
 * TLS 1.2 and 1.3, ALPN http/1.1 (ISTIO_MUTUAL: istio-http/1.1, istio,
 * http/1.1, as Istio's sidecars), no renegotiation, sessions kept by the
 * caller (SSL_SESS_CACHE_CLIENT with no internal store); the
 * server verified against cc->ca_pem (each a CA certificate) unless it is
 * NULL, then its SANs (cc->sans) or its name (cc->sni); with cc->cert_pem our
 * certificate chain and key (checked to match). NULL with a message in
 * @p err. The agent builds one to refuse a bad configuration at load.
 */
struct ssl_ctx_st *hf_tls_client_ctx_new(struct ossl_lib_ctx_st *lib,
					 const struct hf_tls_client_config *cc, char *err,
					 size_t errlen);

struct ssl_st;

/*
 * What a client connection of @p cc sets on its own SSL @p ssl: the SNI, and
 * the name a verified server must be valid for when no subjectAltNames are
 * given (cc->verify_host). Returns 0, or -ENOMEM (OpenSSL's).
 */
int hf_tls_client_ssl_setup(struct ssl_st *ssl, const struct hf_tls_client_config *cc);

/*
 * A worker's client side: its contexts, one per client config of the current
 * snapshot (by id, sorted), and the application's ops its connections report
 * to once their handshake is done.
 */
struct hf_tls_client_ent {
	uint64_t id;
	struct ssl_ctx_st *ctx;
};

/*
 * Client sessions for resumption, one per upstream endpoint and client
 * config: a direct-mapped table of HF_TLS_SESS_SLOTS (a collision replaces
 * the older session: a full handshake next time, nothing worse).
 */
#define HF_TLS_SESS_SLOTS 256
struct ssl_session_st;
struct hf_tls_sess_slot {
	uint64_t id;			/* hf_tls_client_config.id; 0: empty */
	uint32_t addr;			/* network order */
	uint16_t port;
	struct ssl_session_st *sess;	/* a reference held */
};

struct hf_tls_client {
	struct hf_tls_listener lst;	/* what conn.c's calls read of a connection's owner */
	struct hf_tls_client_ent *ents;
	unsigned int n_ents;
	struct hf_tls_sess_slot *sess;	/* HF_TLS_SESS_SLOTS */
};

/* The client side of worker TLS state @p tw for application @p app_ops. NULL: no memory. */
struct hf_tls_client *hf_tls_client_new(struct hf_tls_worker *tw, const struct hf_tcp_ops *app_ops);

/* Frees @p cl (connections keep their SSL_CTX: OpenSSL counts references). NULL is fine. */
void hf_tls_client_free(struct hf_tls_client *cl);

/*
 * Snapshot pick-up: contexts for the @p n configs of @p cfgs (duplicates
 * allowed), reusing those whose id it already has and building the others
 * (malloc, about a millisecond each; never per packet); the rest are dropped.
 */
void hf_tls_client_sync(struct hf_tls_client *cl, const struct hf_tls_client_config *const *cfgs,
			unsigned int n);

/*
 * Opens a TCP connection from port @p p to @p raddr:@p rport (network order)
 * that runs a client handshake for @p cfg as soon as TCP is up. The
 * application's connected() is called once the handshake is done; before
 * that, closed() reports a TCP or a handshake failure (then
 * hf_tls_failure_reason() says which). Its context is @p app_ctx
 * (hf_tls_ctx()). NULL when no connection can be had (counted).
 */
struct hf_tcp_conn *hf_tls_connect(struct hf_worker *w, struct hf_tls_client *cl,
				   const struct hf_tls_client_config *cfg, uint16_t p,
				   uint32_t raddr, uint16_t rport, uint32_t timeout_ms,
				   void *app_ctx);

/*
 * Why the handshake of client connection @p c failed, as the access log's
 * %UPSTREAM_TRANSPORT_FAILURE_REASON% gives it ("TLS_error:untrusted_server_cert"),
 * a string of static storage; NULL when it did not fail (or runs no TLS).
 */
const char *hf_tls_failure_reason(const struct hf_tcp_conn *c);

/*
 * Whether a mesh identity holds together (the bootstrap's identity block):
 * the first certificate of @p cert_pem carries @p spiffe as a URI SAN, @p key_pem
 * is its key, and it verifies to one of @p root_pem's certificates with the
 * rest of @p cert_pem as intermediates (dates included). 0, or -EINVAL with
 * the reason in @p err.
 */
int hf_tls_identity_check(const char *cert_pem, uint32_t cert_len, const char *key_pem,
			  uint32_t key_len, const char *root_pem, uint32_t root_len,
			  const char *spiffe, char *err, size_t errlen);

/* conn.c's pool, for the client side: a zeroed connection (NULL when empty), and back. */
struct hf_tls_conn *hf_tls_conn_get(struct hf_tls_worker *tw);
void hf_tls_conn_put(struct hf_tls_worker *tw, struct hf_tls_conn *t);

/* ---- connection I/O: TLS when @p c runs it, plain TCP otherwise ---- */

/* The TCP callbacks of an upstream connection that originates TLS (tls/client.c). */
extern const struct hf_tcp_ops hf_tls_client_ops;

/* Whether @p c runs TLS: accepted by a TLS listener or opened by hf_tls_connect(). */
static inline bool
hf_tls_runs(const struct hf_tcp_conn *c)
{
	return c->ops == &hf_tls_tcp_ops || c->ops == &hf_tls_client_ops;
}

static inline struct hf_tls_conn *
hf_tls_of(const struct hf_tcp_conn *c)
{
	return hf_tls_runs(c) ? (struct hf_tls_conn *)c->ctx : NULL;
}

/* The application's context of @p c (TCP's ctx, or the one TLS keeps for it). */
static inline void *
hf_tls_ctx(const struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = hf_tls_of(c);

	return t != NULL ? t->app_ctx : c->ctx;
}

static inline void
hf_tls_set_ctx(struct hf_tcp_conn *c, void *ctx)
{
	struct hf_tls_conn *t = hf_tls_of(c);

	if (t != NULL)
		t->app_ctx = ctx;
	else
		c->ctx = ctx;
}

/*
 * The principal of the client certificate of @p c (its SPIFFE ID without
 * "spiffe://", as Istio names peers), kept when the handshake ended; NULL
 * (*@p len 0) when @p c is no TLS connection or its client showed none.
 */
static inline const char *
hf_tls_peer_principal(const struct hf_tcp_conn *c, uint16_t *len)
{
	const struct hf_tls_conn *t = hf_tls_of(c);
	const struct hf_tls_peer *p;

	if (t == NULL || t->peer == 0 || (p = &t->lst->tw->peers.ent[t->peer - 1])->len == 0) {
		*len = 0;
		return NULL;
	}
	*len = p->len;
	return p->s;
}

/*
 * The x-forwarded-client-cert value describing the client certificate of
 * @p c (tls/peer.c), kept when the handshake ended; NULL (*@p len 0) when
 * @p c is no TLS connection or its client showed none.
 */
static inline const char *
hf_tls_peer_xfcc(const struct hf_tcp_conn *c, uint16_t *len)
{
	const struct hf_tls_conn *t = hf_tls_of(c);
	const struct hf_tls_peers *pt;

	if (t == NULL || t->peer == 0 || (pt = &t->lst->tw->peers)->ent[t->peer - 1].xlen == 0) {
		*len = 0;
		return NULL;
	}
	*len = pt->ent[t->peer - 1].xlen;
	return pt->xfcc[t->peer - 1];
}

/* The server_name the client of @p c asked for (NUL-terminated), or NULL. */
const char *hf_tls_sni_of(const struct hf_tcp_conn *c);

/*
 * Keeps the principal and the x-forwarded-client-cert value of the client
 * certificate of @p t (tls/peer.c; handshake end) in @p tw's table, shared
 * with connections of the same certificate.
 */
void hf_tls_keep_peer(struct hf_tls_worker *tw, struct hf_tls_conn *t);

/* Lets go of @p t's client certificate (the last connection frees its entry). */
void hf_tls_drop_peer(struct hf_tls_worker *tw, struct hf_tls_conn *t);

/* The table for @p n connections (calloc). 0 or -ENOMEM; free with hf_tls_peers_free. */
int hf_tls_peers_init(struct hf_tls_peers *pt, uint32_t n);
void hf_tls_peers_free(struct hf_tls_peers *pt);

struct rte_mbuf *hf_tls_recv_slow(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max);
int hf_tls_send_slow(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m);
bool hf_tls_peer_closed_slow(const struct hf_tcp_conn *c);
void hf_tls_shutdown_slow(struct hf_worker *w, struct hf_tcp_conn *c);
void hf_tls_abort_slow(struct hf_worker *w, struct hf_tcp_conn *c);

/*
 * hf_tcp_recv() in plaintext: decrypted records as a chain of fresh mbufs of
 * the connection's port pool, taken while fewer than @p max bytes are.
 * Decryption reads the ciphertext left in TCP's receive queue only as far as
 * it needs, so an application that stops reading closes the TCP window.
 */
static inline struct rte_mbuf *
hf_tls_recv(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max)
{
	if (!hf_tls_runs(c))
		return hf_tcp_recv(w, c, max);
	return hf_tls_recv_slow(w, c, max);
}

/*
 * hf_tcp_send() in plaintext; @p m is taken. What the application sends in
 * one loop pass is sealed into records of HF_TLS_RECORD_MAX bytes as soon as
 * that much is held, and the rest into one last record at the end of the
 * pass (TCP's flush(), before its output goes out): a bulk transfer gets
 * full-sized records, a small response no added delay. At most one record's
 * worth of plaintext is held back, so hf_tcp_writable() and
 * hf_tcp_sndq_bytes() keep their meaning within a record.
 */
static inline int
hf_tls_send(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m)
{
	if (!hf_tls_runs(c))
		return hf_tcp_send(w, c, m);
	return hf_tls_send_slow(w, c, m);
}

/*
 * The SNI name the client of accepted TLS connection @p c sent, into @p buf
 * (@p cap bytes, truncated, NUL-terminated; "" when none, or when @p c runs
 * no TLS or is an upstream connection): the access log's
 * %REQUESTED_SERVER_NAME%.
 */
void hf_tls_sni_get(const struct hf_tcp_conn *c, char *buf, size_t cap);

/* True once the peer's close_notify (or TCP FIN) came and every plaintext byte was taken. */
static inline bool
hf_tls_peer_closed(const struct hf_tcp_conn *c)
{
	if (!hf_tls_runs(c))
		return hf_tcp_peer_closed(c);
	return hf_tls_peer_closed_slow(c);
}

/* close_notify (RFC 8446 6.1), then TCP's FIN after the queued data. */
static inline void
hf_tls_shutdown(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (!hf_tls_runs(c))
		hf_tcp_shutdown(w, c);
	else
		hf_tls_shutdown_slow(w, c);
}

/* Resets the connection; its TLS state is freed and no callback follows. */
static inline void
hf_tls_abort(struct hf_worker *w, struct hf_tcp_conn *c)
{
	if (!hf_tls_runs(c))
		hf_tcp_abort(w, c);
	else
		hf_tls_abort_slow(w, c);
}

#endif
