/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS origination in the worker: upstream connections that run a client
 * handshake over Hydrofoil's TCP, then carry the application's plaintext
 * through the same calls as accepted TLS connections (hf_tls_send() and
 * friends in tls.h, the BIO of bio.c, the pool of conn.c).
 *
 * hf_tls_connect() opens the TCP connection with this file's ops. When TCP
 * is up the ClientHello goes out; each segment that comes back runs
 * SSL_do_handshake() once more (WANT_READ until the server's flight is
 * whole), so nothing waits. A finished handshake calls the application's
 * connected(), as if TCP had just connected; a failed one is counted by
 * reason (tls.upstream.handshake.*), its alert sent with our FIN, and the
 * application hears closed() with hf_tls_failure_reason() telling why: the
 * HTTP proxy answers 503 UF with it in the access log, as Envoy does.
 *
 * Contexts: one client SSL_CTX per config id in the current snapshot, built
 * at pick-up (hf_tls_client_sync), kept in an array sorted by id that a new
 * connection searches. A connection's SSL holds a reference to its SSL_CTX,
 * so a context dropped by a newer snapshot lives until its last connection.
 *
 * Resumption: the session (TLS 1.3 ticket, TLS 1.2 ticket or id) an
 * upstream gives us is kept per worker, per endpoint and per config id
 * (never across configs: a resumed handshake skips the certificate check
 * that config asked for), and offered by the next connection to that
 * endpoint, which then costs the upstream no signature and us no chain
 * verification. Pooling keeps most requests off new connections; this is
 * for the ones that still open (upstreams that close after a response,
 * bursts beyond the pool).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "tls/tls-int.h"
#include "tls/tls.h"

/* ---- contexts ---- */

struct hf_tls_client *
hf_tls_client_new(struct hf_tls_worker *tw, const struct hf_tcp_ops *app_ops)
{
	struct hf_tls_client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	cl->sess = calloc(HF_TLS_SESS_SLOTS, sizeof(*cl->sess));
	if (cl->sess == NULL) {
		free(cl);
		return NULL;
	}
	cl->lst.tw = tw;
	cl->lst.app_ops = app_ops;
	return cl;
}

static void
ents_free(struct hf_tls_client_ent *e, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		SSL_CTX_free(e[i].ctx);
	free(e);
}

void
hf_tls_client_free(struct hf_tls_client *cl)
{
	if (cl == NULL)
		return;
	ents_free(cl->ents, cl->n_ents);
	for (unsigned int i = 0; i < HF_TLS_SESS_SLOTS; i++)
		SSL_SESSION_free(cl->sess[i].sess);
	free(cl->sess);
	free(cl);
}

/* ---- sessions ---- */

static struct hf_tls_sess_slot *
sess_slot(struct hf_tls_client *cl, uint64_t id, uint32_t addr, uint16_t port)
{
	uint64_t h = (id ^ ((uint64_t)addr << 16 | port)) * 0x9e3779b97f4a7c15ull;

	return &cl->sess[h >> 56 & (HF_TLS_SESS_SLOTS - 1)];
}

/*
 * OpenSSL's new-session callback (SSL_SESS_CACHE_CLIENT): a session the
 * upstream of @p ssl gave us, after the handshake (TLS 1.2) or in a
 * NewSessionTicket read with the response (TLS 1.3). Kept in the
 * connection's slot, replacing the one there; returns 1: the reference is ours.
 */
static int
sess_new(SSL *ssl, SSL_SESSION *sess)
{
	struct hf_tls_conn *t = SSL_get_app_data(ssl);
	struct hf_tls_client *cl;
	const struct hf_tls_client_ent *e = NULL;
	struct hf_tls_sess_slot *s;
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);

	if (t == NULL || t->lst == NULL || t->io.tcp == NULL || !SSL_SESSION_is_resumable(sess))
		return 0;
	cl = (struct hf_tls_client *)((char *)t->lst - offsetof(struct hf_tls_client, lst));
	/* The config the context was built for; none once a snapshot dropped it. */
	for (unsigned int i = 0; i < cl->n_ents && e == NULL; i++)
		if (cl->ents[i].ctx == ctx)
			e = &cl->ents[i];
	if (e == NULL)
		return 0;
	s = sess_slot(cl, e->id, t->io.tcp->raddr, t->io.tcp->rport);
	SSL_SESSION_free(s->sess);
	*s = (struct hf_tls_sess_slot){.id = e->id, .addr = t->io.tcp->raddr,
				       .port = t->io.tcp->rport, .sess = sess};
	HF_COUNT(t->io.w, TLS_UP_SESSIONS_KEPT);
	return 1;
}

static int
ent_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct hf_tls_client_ent *)a)->id;
	uint64_t y = ((const struct hf_tls_client_ent *)b)->id;

	return x < y ? -1 : x > y;
}

static struct hf_tls_client_ent *
ent_find(struct hf_tls_client_ent *e, unsigned int n, uint64_t id)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (e[mid].id == id)
			return &e[mid];
		if (e[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
hf_tls_client_sync(struct hf_tls_client *cl, const struct hf_tls_client_config *const *cfgs,
		   unsigned int n)
{
	struct hf_worker *w = cl->lst.tw->w;
	struct hf_tls_client_ent *e = n > 0 ? calloc(n, sizeof(*e)) : NULL;
	unsigned int k = 0;
	char err[256];

	if (n > 0 && e == NULL) {
		/* Keep the old contexts: connections to new configs fail as no_context. */
		HF_COUNT(w, TLS_UP_CONTEXT_ERRORS);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct hf_tls_client_ent *old;
		bool dup = false;

		for (unsigned int j = 0; j < k && !dup; j++)
			dup = e[j].id == cfgs[i]->id;
		if (dup)
			continue;
		old = ent_find(cl->ents, cl->n_ents, cfgs[i]->id);
		if (old != NULL) {
			SSL_CTX_up_ref(old->ctx);
			e[k].ctx = old->ctx;
		} else {
			e[k].ctx = hf_tls_client_ctx_new(cl->lst.tw->lib, cfgs[i], err,
							 sizeof(err));
			if (e[k].ctx == NULL) {
				/* The agent built the same config before publishing it: memory. */
				HF_COUNT(w, TLS_UP_CONTEXT_ERRORS);
				continue;
			}
			SSL_CTX_sess_set_new_cb(e[k].ctx, sess_new);
			HF_COUNT(w, TLS_UP_CONTEXTS_BUILT);
		}
		e[k++].id = cfgs[i]->id;
	}
	qsort(e, k, sizeof(*e), ent_cmp);
	ents_free(cl->ents, cl->n_ents);
	cl->ents = e;
	cl->n_ents = k;
}

/* ---- failures ---- */

static const char *const reasons[] = {
	[HF_TLS_FAIL_NO_SHARED_CIPHER] = "TLS_error:no_shared_cipher",
	[HF_TLS_FAIL_BAD_VERSION] = "TLS_error:bad_version",
	[HF_TLS_FAIL_PLAINTEXT] = "TLS_error:not_tls",
	[HF_TLS_FAIL_TIMEOUT] = "TLS_error:handshake_timeout",
	[HF_TLS_FAIL_OTHER] = "TLS_error:other",
	[HF_TLS_FAIL_UNTRUSTED_SERVER_CERT] = "TLS_error:untrusted_server_cert",
	[HF_TLS_FAIL_EXPIRED_SERVER_CERT] = "TLS_error:expired_server_cert",
	[HF_TLS_FAIL_SERVER_SAN_MISMATCH] = "TLS_error:san_mismatch",
	[HF_TLS_FAIL_ALERT_RECEIVED] = "TLS_error:alert_received",
	[HF_TLS_FAIL_PEER_CLOSED] = "TLS_error:connection_closed",
};

const char *
hf_tls_failure_reason(const struct hf_tcp_conn *c)
{
	const struct hf_tls_conn *t;

	if (c == NULL || c->ops != &hf_tls_client_ops || (t = c->ctx) == NULL ||
	    t->fail == HF_TLS_FAIL_NONE || t->fail >= sizeof(reasons) / sizeof(reasons[0]))
		return NULL;
	return reasons[t->fail] != NULL ? reasons[t->fail] : reasons[HF_TLS_FAIL_OTHER];
}

static void
count_fail(struct hf_worker *w, enum hf_tls_fail f)
{
	switch (f) {
	case HF_TLS_FAIL_UNTRUSTED_SERVER_CERT: HF_COUNT(w, TLS_UP_HS_UNTRUSTED); break;
	case HF_TLS_FAIL_EXPIRED_SERVER_CERT: HF_COUNT(w, TLS_UP_HS_EXPIRED); break;
	case HF_TLS_FAIL_SERVER_SAN_MISMATCH: HF_COUNT(w, TLS_UP_HS_SAN_MISMATCH); break;
	case HF_TLS_FAIL_ALERT_RECEIVED: HF_COUNT(w, TLS_UP_HS_ALERT); break;
	case HF_TLS_FAIL_PLAINTEXT: HF_COUNT(w, TLS_UP_HS_NOT_TLS); break;
	case HF_TLS_FAIL_BAD_VERSION:
	case HF_TLS_FAIL_NO_SHARED_CIPHER: HF_COUNT(w, TLS_UP_HS_NEGOTIATION); break;
	case HF_TLS_FAIL_TIMEOUT: HF_COUNT(w, TLS_UP_HS_TIMEOUT); break;
	case HF_TLS_FAIL_PEER_CLOSED: HF_COUNT(w, TLS_UP_HS_CLOSED); break;
	default: HF_COUNT(w, TLS_UP_HS_OTHER); break;
	}
}

/* Why the handshake failed: the verify callback's verdict, else OpenSSL's error queue. */
static enum hf_tls_fail
classify(const struct hf_tls_conn *t)
{
	unsigned long e = ERR_peek_last_error();
	int r = ERR_GET_REASON(e);

	if (t->fail != HF_TLS_FAIL_NONE)
		return t->fail;
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return HF_TLS_FAIL_OTHER;
	/* An alert from the server: it refused us (our certificate, our versions, our name). */
	if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
		return HF_TLS_FAIL_ALERT_RECEIVED;
	switch (r) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_HTTP_REQUEST:
		/* What came back is no TLS record: a plaintext server on that port. */
		return HF_TLS_FAIL_PLAINTEXT;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_VERSION_TOO_HIGH:
	case SSL_R_UNKNOWN_PROTOCOL:
		return HF_TLS_FAIL_BAD_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_CIPHERS_AVAILABLE:
	case SSL_R_WRONG_CIPHER_RETURNED:
		return HF_TLS_FAIL_NO_SHARED_CIPHER;
	default:
		return HF_TLS_FAIL_OTHER;
	}
}

/* ---- handshakes ---- */

/* Tells the application its connection failed (once); it must not touch @p c after. */
static void
tell_closed(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t, int err)
{
	if (t->app_ctx == NULL)
		return;
	if (t->lst->app_ops->closed != NULL)
		t->lst->app_ops->closed(w, c, err);
	t->app_ctx = NULL;
}

/*
 * The handshake failed: counted, our alert (if OpenSSL wrote one) and FIN
 * go out, the SSL is freed now, the slot when TCP closes; the application
 * hears of it at once.
 */
static void
hs_fail(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t, enum hf_tls_fail f)
{
	struct rte_mbuf *m;

	count_fail(w, f);
	t->fail = (uint8_t)f;
	t->state = HF_TLS_FAILED;
	hf_timer_cancel(&w->tcp->wheel, &t->timer);
	if (f != HF_TLS_FAIL_PLAINTEXT)
		hf_tls_flush(w, c, t);
	SSL_free(t->ssl);
	t->ssl = NULL;
	hf_tls_io_reset(&t->io);
	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
		rte_pktmbuf_free(m);
	ERR_clear_error();
	hf_tcp_shutdown(w, c);
	tell_closed(w, c, t, -EPROTO);
}

static void
handshake(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t)
{
	int rc;

	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc != 1) {
		int e = SSL_get_error(t->ssl, rc);

		if (e == SSL_ERROR_WANT_READ && !t->io.nomem) {
			hf_tls_flush(w, c, t);
			if (!hf_tcp_peer_closed(c))
				return;
			hs_fail(w, c, t,
				t->fail != HF_TLS_FAIL_NONE ? t->fail : HF_TLS_FAIL_PEER_CLOSED);
			return;
		}
		hs_fail(w, c, t, t->io.nomem ? HF_TLS_FAIL_OTHER : classify(t));
		return;
	}
	hf_tls_flush(w, c, t);
	hf_timer_cancel(&w->tcp->wheel, &t->timer);
	t->state = HF_TLS_OPEN;
	HF_COUNT(w, TLS_UP_HANDSHAKES);
	if (SSL_version(t->ssl) == TLS1_3_VERSION)
		HF_COUNT(w, TLS_UP_HANDSHAKE_TLS13);
	if (SSL_session_reused(t->ssl))
		HF_COUNT(w, TLS_UP_RESUMED);
	/* The application may close the connection in there: nothing of it is touched after. */
	if (t->lst->app_ops->connected != NULL)
		t->lst->app_ops->connected(w, c);
}

static void
on_timeout(struct hf_timer *tm, void *arg)
{
	struct hf_tls_conn *t = arg;
	struct hf_worker *w = t->io.w;
	struct hf_tcp_conn *c = t->io.tcp;
	struct hf_tls_worker *tw = t->lst->tw;

	(void)tm;
	count_fail(w, HF_TLS_FAIL_TIMEOUT);
	t->fail = HF_TLS_FAIL_TIMEOUT;
	tell_closed(w, c, t, -ETIMEDOUT);
	hf_tls_conn_put(tw, t);
	hf_tcp_abort(w, c);
}

struct hf_tcp_conn *
hf_tls_connect(struct hf_worker *w, struct hf_tls_client *cl,
	       const struct hf_tls_client_config *cfg, uint16_t p, uint32_t raddr, uint16_t rport,
	       uint32_t timeout_ms, void *app_ctx)
{
	const struct hf_tls_client_ent *e = ent_find(cl->ents, cl->n_ents, cfg->id);
	const struct hf_tls_sess_slot *s = sess_slot(cl, cfg->id, raddr, rport);
	struct hf_tls_conn *t;
	struct hf_tcp_conn *c;
	BIO *bio;

	if (e == NULL) {
		HF_COUNT(w, TLS_UP_DROP_NO_CONTEXT);
		return NULL;
	}
	t = hf_tls_conn_get(cl->lst.tw);
	if (t == NULL) {
		HF_COUNT(w, TLS_UP_DROP_NO_CONN);
		return NULL;
	}
	t->lst = &cl->lst;
	t->app_ctx = app_ctx;
	t->io.w = w;
	ERR_clear_error();
	t->ssl = SSL_new(e->ctx);
	bio = t->ssl != NULL ? hf_tls_bio_new(&t->io) : NULL;
	if (bio == NULL || hf_tls_client_ssl_setup(t->ssl, cfg) < 0) {
		HF_COUNT(w, TLS_UP_DROP_OPENSSL);
		BIO_free(bio);
		hf_tls_conn_put(cl->lst.tw, t);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_bio(t->ssl, bio, bio);
	/* A session this endpoint gave for this config: offered (the server may decline). */
	if (s->sess != NULL && s->id == cfg->id && s->addr == raddr && s->port == rport &&
	    SSL_set_session(t->ssl, s->sess) != 1)
		ERR_clear_error();
	SSL_set_connect_state(t->ssl);
	SSL_set_app_data(t->ssl, t);
	t->state = HF_TLS_HANDSHAKE;
	hf_timer_init(&t->timer, on_timeout, t);
	c = hf_tcp_connect(w, p, raddr, rport, timeout_ms, &hf_tls_client_ops, t);
	if (c == NULL) {
		hf_tls_conn_put(cl->lst.tw, t);
		return NULL;
	}
	t->io.tcp = c;
	t->io.mp = w->ports[c->port].pool;
	return c;
}

/* ---- TCP's callbacks ---- */

static void
cl_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	if (t == NULL || t->state != HF_TLS_HANDSHAKE)
		return;
	t->hello_seen = true;		/* client side: TCP is up, the ClientHello went out */
	hf_timer_arm(&w->tcp->wheel, &t->timer, w->tcp->now_tick + t->lst->tw->handshake_ms);
	handshake(w, c, t);
}

static void
cl_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;
	struct rte_mbuf *m;

	if (t == NULL)
		return;
	switch (t->state) {
	case HF_TLS_HANDSHAKE:
		if (t->hello_seen)
			handshake(w, c, t);
		return;
	case HF_TLS_OPEN:
		if (t->app_ctx != NULL)
			t->lst->app_ops->readable(w, c);
		return;
	default:
		while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
			rte_pktmbuf_free(m);
		return;
	}
}

static void
cl_writable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	if (t != NULL && t->state == HF_TLS_OPEN && t->app_ctx != NULL &&
	    t->lst->app_ops->writable != NULL)
		t->lst->app_ops->writable(w, c);
}

static void
cl_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_tls_conn *t = c->ctx;

	if (t == NULL)
		return;
	if (t->state == HF_TLS_HANDSHAKE && t->hello_seen) {
		/* The server went away in the middle of the handshake. */
		t->fail = HF_TLS_FAIL_PEER_CLOSED;
		count_fail(w, HF_TLS_FAIL_PEER_CLOSED);
		if (err == 0)
			err = -ECONNRESET;
	}
	/* Before TCP was up (refused, timed out) it is TCP's failure alone: no reason is given. */
	tell_closed(w, c, t, err);
	hf_tls_conn_put(t->lst->tw, t);
}

const struct hf_tcp_ops hf_tls_client_ops = {
	.connected = cl_connected,
	.readable = cl_readable,
	.writable = cl_writable,
	.closed = cl_closed,
	.flush = hf_tls_seal_pass,
};
