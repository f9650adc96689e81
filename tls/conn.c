/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS connections of a worker: the handshake driven by TCP's callbacks, then
 * plaintext in and out for the application.
 *
 * A TLS listener's TCP callbacks come here first. At accept a connection gets
 * a slot of the worker's pool and an SSL; each segment that arrives runs
 * SSL_do_handshake() once more, which reads what there is through the BIO
 * and returns WANT_READ until the client's flight is whole, so a slow or
 * silent client costs its slot and nothing else, until the handshake timeout
 * resets it. A finished handshake hands the connection to the application
 * (its accepted() callback, as if TCP had just accepted it); a failed one is
 * counted by reason, its alert sent, and the connection closed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/port.h"
#include "dataplane/proxy/access_log-t.h"
#include "dataplane/worker.h"
#include "tls/tls-int.h"
#include "tls/tls.h"

/* The client's whole flight must be in by then (RFC 8446 leaves it to us; nginx waits 60 s). */
#define HANDSHAKE_MS 10000

/* ---- plaintext held for sealing ---- */

/* Appends chain @p m to @p q as single segments; small ones join the room of the last. */
static void
mq_append(struct hf_tcp_mq *q, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0 || (q->tail != NULL && hf_tcp_mbuf_absorb(q->tail, m))) {
			q->bytes += m->data_len;
			rte_pktmbuf_free_seg(m);
		} else {
			if (q->tail != NULL)
				q->tail->next = m;
			else
				q->head = m;
			q->tail = m;
			q->bytes += m->data_len;
		}
		m = next;
	}
}

/* Drops @p n bytes (at most the head mbuf's) from the front of @p q. */
static void
mq_consume(struct hf_tcp_mq *q, uint32_t n)
{
	struct rte_mbuf *m = q->head;

	q->bytes -= n;
	if (n < m->data_len) {
		rte_pktmbuf_adj(m, (uint16_t)n);
		return;
	}
	q->head = m->next;
	if (q->head == NULL)
		q->tail = NULL;
	rte_pktmbuf_free_seg(m);
}

/* Takes the first @p n bytes of @p q (it holds that many) into @p buf. */
static void
mq_gather(struct hf_tcp_mq *q, uint8_t *buf, uint32_t n)
{
	uint32_t off = 0;

	while (off < n) {
		uint32_t k = RTE_MIN((uint32_t)q->head->data_len, n - off);

		memcpy(buf + off, rte_pktmbuf_mtod(q->head, const void *), k);
		off += k;
		mq_consume(q, k);
	}
}

static void
mq_free(struct hf_tcp_mq *q)
{
	struct rte_mbuf *m = q->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		rte_pktmbuf_free_seg(m);
		m = next;
	}
	q->head = q->tail = NULL;
	q->bytes = 0;
}

/* ---- the pool ---- */

static struct hf_tls_conn *
conn_alloc(struct hf_tls_worker *tw)
{
	struct hf_tls_conn *t;
	uint32_t id;

	if (tw->n_free == 0)
		return NULL;
	id = tw->free[--tw->n_free];
	t = &tw->conns[id];
	memset(t, 0, sizeof(*t));
	t->id = id;
	return t;
}

/* Frees @p t and everything it holds; the TCP connection no longer points to it. */
static void
conn_free(struct hf_tls_worker *tw, struct hf_tls_conn *t)
{
	if (t->io.w != NULL && t->io.w->tcp != NULL)
		hf_timer_cancel(&t->io.w->tcp->wheel, &t->timer);
	SSL_free(t->ssl);		/* and the BIO with it */
	t->ssl = NULL;
	hf_tls_drop_peer(tw, t);
	hf_tls_io_reset(&t->io);
	mq_free(&t->plain);
	hf_tls_lctx_put(t->lctx);
	t->lctx = NULL;
	if (t->io.tcp != NULL && t->io.tcp->ctx == t)
		t->io.tcp->ctx = NULL;
	t->io.tcp = NULL;
	tw->free[tw->n_free++] = t->id;
}

size_t
hf_tls_conn_footprint(void)
{
	return sizeof(struct hf_tls_conn) + sizeof(uint32_t);
}

struct hf_tls_worker *
hf_tls_worker_new(struct hf_worker *w, uint32_t n)
{
	struct hf_tls_worker *tw = rte_zmalloc("hf_tls", sizeof(*tw), RTE_CACHE_LINE_SIZE);

	if (tw == NULL)
		return NULL;
	hf_tls_pid_init();
	tw->w = w;
	tw->n = n;
	tw->handshake_ms = HANDSHAKE_MS;
	tw->conns = rte_zmalloc("hf_tls_conns", sizeof(*tw->conns) * n, RTE_CACHE_LINE_SIZE);
	tw->free = rte_malloc("hf_tls_free", sizeof(uint32_t) * n, 0);
	tw->rec = rte_malloc("hf_tls_rec", HF_TLS_RECORD_MAX, RTE_CACHE_LINE_SIZE);
	/*
	 * The worker's own library context: algorithm fetches during a
	 * handshake look in its method store, which OpenSSL 3.0 guards with a
	 * lock per store; shared by every worker, that lock would be one more
	 * line bouncing between cores on each handshake.
	 */
	tw->lib = OSSL_LIB_CTX_new();
	if (tw->conns == NULL || tw->free == NULL || tw->rec == NULL || tw->lib == NULL ||
	    hf_tls_peers_init(&tw->peers, n) < 0) {
		hf_tls_worker_free(tw);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		tw->free[i] = n - 1 - i;
	tw->n_free = n;
	return tw;
}

void
hf_tls_worker_set_log(struct hf_tls_worker *tw, struct rte_ring *ring, uint64_t epoch_us,
		      uint64_t epoch_tsc, uint64_t tsc_hz)
{
	tw->log_ring = ring;
	tw->epoch_us = epoch_us;
	tw->epoch_tsc = epoch_tsc;
	tw->tsc_per_us = tsc_hz / 1000000 > 0 ? tsc_hz / 1000000 : 1;
	tw->tsc_per_ms = tsc_hz / 1000 > 0 ? tsc_hz / 1000 : 1;
}

void
hf_tls_worker_free(struct hf_tls_worker *tw)
{
	if (tw == NULL)
		return;
	/* Connections still in use lose their SSL and mbufs; TCP was torn down without callbacks. */
	if (tw->conns != NULL && tw->free != NULL && tw->n_free < tw->n) {
		bool *idle = calloc(tw->n, sizeof(*idle));

		for (uint32_t i = 0; idle != NULL && i < tw->n_free; i++)
			idle[tw->free[i]] = true;
		for (uint32_t i = 0; idle != NULL && i < tw->n; i++)
			if (!idle[i]) {
				SSL_free(tw->conns[i].ssl);
				hf_tls_io_reset(&tw->conns[i].io);
				mq_free(&tw->conns[i].plain);
				hf_tls_lctx_put(tw->conns[i].lctx);
			}
		free(idle);
	}
	OSSL_LIB_CTX_free(tw->lib);
	hf_tls_peers_free(&tw->peers);
	rte_free(tw->rec);
	rte_free(tw->free);
	rte_free(tw->conns);
	rte_free(tw);
}

/* ---- listeners ---- */

struct hf_tls_listener *
hf_tls_listener_new(struct hf_tls_worker *tw, const struct hf_tls_listener_config *cfg,
		    const struct hf_tcp_ops *app_ops, void *app_ctx)
{
	struct hf_tls_listener *l = rte_zmalloc("hf_tls_listener", sizeof(*l), 0);

	if (l == NULL)
		return NULL;
	l->tw = tw;
	l->app_ops = app_ops;
	l->app_ctx = app_ctx;
	hf_tls_listener_update(l, cfg);
	return l;
}

void
hf_tls_listener_update(struct hf_tls_listener *l, const struct hf_tls_listener_config *cfg)
{
	struct hf_tls_lctx *x;
	char err[256];

	if (cfg == NULL || (l->lctx != NULL && l->lctx->id == cfg->id))
		return;
	x = hf_tls_lctx_new(l->tw->lib, cfg, err, sizeof(err));
	if (x == NULL) {
		/* The agent built the same config before publishing it: only memory can fail here. */
		HF_COUNT(l->tw->w, TLS_CONTEXT_ERRORS);
		return;
	}
	HF_COUNT(l->tw->w, TLS_CONTEXTS_BUILT);
	hf_tls_lctx_put(l->lctx);
	l->lctx = x;
}

void
hf_tls_listener_free(struct hf_tls_listener *l)
{
	if (l == NULL)
		return;
	hf_tls_lctx_put(l->lctx);
	l->lctx = NULL;
	rte_free(l);
}

/* ---- handshakes ---- */

void
hf_tls_flush(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t)
{
	struct rte_mbuf *out = hf_tls_io_take(&t->io);

	if (t->io.nomem) {
		/* A record lacks bytes: the peer cannot decrypt what follows. */
		HF_COUNT(w, TLS_DROP_NO_MBUF);
		rte_pktmbuf_free(out);
		t->broken = true;
		return;
	}
	if (out != NULL)
		hf_tcp_send(w, c, out);
}

/* Why the handshake failed, from the ClientHello callback's verdict or OpenSSL's error queue. */
static enum hf_tls_fail
classify(const struct hf_tls_conn *t)
{
	unsigned long e = ERR_peek_last_error();

	if (t->fail != HF_TLS_FAIL_NONE)
		return t->fail;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
		switch (ERR_GET_REASON(e)) {
		case SSL_R_NO_SHARED_CIPHER:
		case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
		case SSL_R_NO_SUITABLE_KEY_SHARE:
			return HF_TLS_FAIL_NO_SHARED_CIPHER;
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_VERSION_TOO_LOW:
		case SSL_R_VERSION_TOO_HIGH:
			return HF_TLS_FAIL_BAD_VERSION;
		case SSL_R_HTTP_REQUEST:
		case SSL_R_HTTPS_PROXY_REQUEST:
			return HF_TLS_FAIL_PLAINTEXT;
		case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
			/* MUTUAL: an empty Certificate (RFC 8446 4.4.2.4: certificate_required) */
			return HF_TLS_FAIL_NO_CLIENT_CERT;
		default:
			break;
		}
	}
	/* Nothing OpenSSL could read as a ClientHello came: framing, lengths, garbage. */
	if (!t->hello_seen && t->io.bytes_in > 0)
		return HF_TLS_FAIL_MALFORMED_HELLO;
	return HF_TLS_FAIL_OTHER;
}

static void
count_fail(struct hf_worker *w, enum hf_tls_fail f)
{
	switch (f) {
	case HF_TLS_FAIL_NO_SHARED_CIPHER: HF_COUNT(w, TLS_HS_NO_SHARED_CIPHER); break;
	case HF_TLS_FAIL_BAD_VERSION: HF_COUNT(w, TLS_HS_BAD_VERSION); break;
	case HF_TLS_FAIL_UNKNOWN_SNI: HF_COUNT(w, TLS_HS_UNKNOWN_SNI); break;
	case HF_TLS_FAIL_PLAINTEXT: HF_COUNT(w, TLS_HS_PLAINTEXT); break;
	case HF_TLS_FAIL_MALFORMED_HELLO: HF_COUNT(w, TLS_HS_MALFORMED_HELLO); break;
	case HF_TLS_FAIL_TIMEOUT: HF_COUNT(w, TLS_HS_TIMEOUT); break;
	case HF_TLS_FAIL_NO_CLIENT_CERT: HF_COUNT(w, TLS_HS_NO_CLIENT_CERT); break;
	case HF_TLS_FAIL_UNTRUSTED_CLIENT_CERT: HF_COUNT(w, TLS_HS_UNTRUSTED_CLIENT_CERT); break;
	case HF_TLS_FAIL_EXPIRED_CLIENT_CERT: HF_COUNT(w, TLS_HS_EXPIRED_CLIENT_CERT); break;
	case HF_TLS_FAIL_CLIENT_SAN_MISMATCH: HF_COUNT(w, TLS_HS_CLIENT_SAN_MISMATCH); break;
	default: HF_COUNT(w, TLS_HS_OTHER); break;
	}
}

/* %CONNECTION_TERMINATION_DETAILS% of a failed handshake's line: the counter's reason. */
static const char *const fail_details[] = {
	[HF_TLS_FAIL_NONE] = "TLS_error:other",
	[HF_TLS_FAIL_NO_SHARED_CIPHER] = "TLS_error:no_shared_cipher",
	[HF_TLS_FAIL_BAD_VERSION] = "TLS_error:bad_version",
	[HF_TLS_FAIL_UNKNOWN_SNI] = "TLS_error:unknown_sni",
	[HF_TLS_FAIL_PLAINTEXT] = "TLS_error:plaintext_on_tls_port",
	[HF_TLS_FAIL_MALFORMED_HELLO] = "TLS_error:malformed_client_hello",
	[HF_TLS_FAIL_TIMEOUT] = "TLS_error:timeout",
	[HF_TLS_FAIL_NO_CLIENT_CERT] = "TLS_error:no_client_cert",
	[HF_TLS_FAIL_UNTRUSTED_CLIENT_CERT] = "TLS_error:untrusted_client_cert",
	[HF_TLS_FAIL_EXPIRED_CLIENT_CERT] = "TLS_error:expired_client_cert",
	[HF_TLS_FAIL_CLIENT_SAN_MISMATCH] = "TLS_error:client_san_mismatch",
	[HF_TLS_FAIL_OTHER] = "TLS_error:other",
};

/*
 * The access log line of a handshake that failed for @p f (the HTTP proxy's
 * ring, formatted by the agent): no request, code 0, the reason and the SNI.
 * Before the SSL is freed: the name it accepted is read from it.
 */
static void
log_fail(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t, enum hf_tls_fail f)
{
	struct hf_tls_worker *tw = t->lst->tw;
	struct hf_access_log_rec r;
	const char *sni = NULL;

	if (tw->log_ring == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.start_us = tw->epoch_us + (t->start_tsc - tw->epoch_tsc) / tw->tsc_per_us;
	r.duration_ms = (uint32_t)((w->now - t->start_tsc) / tw->tsc_per_ms);
	r.service_ms = -1;
	r.minor = 1;
	r.d_laddr = c->laddr;
	r.d_lport = c->lport;
	r.d_raddr = c->raddr;
	r.d_rport = c->rport;
	r.conn_details = (unsigned int)f < sizeof(fail_details) / sizeof(fail_details[0])
			 ? fail_details[f] : fail_details[HF_TLS_FAIL_OTHER];
	if (t->ssl != NULL)
		sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	if (sni == NULL && f == HF_TLS_FAIL_UNKNOWN_SNI && tw->hello_id == t->id)
		sni = tw->hello_sni;
	if (sni != NULL)
		snprintf(r.sni, sizeof(r.sni), "%s", sni);
	if (rte_ring_sp_enqueue_elem(tw->log_ring, &r, sizeof(r)) != 0) {
		HF_COUNT(w, ACCESS_LOG_DROP_FULL);
		return;
	}
	HF_COUNT(w, ACCESS_LOG_RECORDS);
}

/*
 * The handshake failed: its alert (if OpenSSL wrote one) goes out, then our
 * FIN; the SSL and its buffers are freed now, the slot when TCP closes.
 */
static void
hs_fail(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t, enum hf_tls_fail f)
{
	struct rte_mbuf *m;

	count_fail(w, f);
	log_fail(w, c, t, f);
	t->fail = (uint8_t)f;
	t->state = HF_TLS_FAILED;
	hf_timer_cancel(&w->tcp->wheel, &t->timer);
	if (f != HF_TLS_FAIL_PLAINTEXT)
		hf_tls_flush(w, c, t);
	SSL_free(t->ssl);
	t->ssl = NULL;
	hf_tls_io_reset(&t->io);
	hf_tls_lctx_put(t->lctx);
	t->lctx = NULL;
	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
		rte_pktmbuf_free(m);
	hf_tcp_shutdown(w, c);
	ERR_clear_error();
}

/*
 * True when the first byte the client sent cannot start a TLS record and
 * reads as the start of an HTTP method (RFC 9110 9: tokens, in practice
 * upper-case letters): plaintext sent to a TLS port. Looked at before
 * OpenSSL reads anything, in TCP's receive queue.
 */
static bool
plaintext(const struct hf_tcp_conn *c, const struct hf_tls_conn *t)
{
	uint8_t b;

	if (t->io.bytes_in > 0 || t->io.in.head != NULL || c->rcvq.head == NULL)
		return false;
	b = *rte_pktmbuf_mtod(c->rcvq.head, const uint8_t *);
	return b >= 'A' && b <= 'Z';
}

static void
handshake(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t)
{
	const struct hf_tls_listener *l = t->lst;
	const unsigned char *alpn;
	unsigned int alpn_len;
	int rc;

	if (plaintext(c, t)) {
		hs_fail(w, c, t, HF_TLS_FAIL_PLAINTEXT);
		return;
	}
	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc != 1) {
		int e = SSL_get_error(t->ssl, rc);

		if (e == SSL_ERROR_WANT_READ && !t->io.nomem) {
			/* More of the client's flight to come; answer what there is (HelloRetryRequest). */
			hf_tls_flush(w, c, t);
			if (!hf_tcp_peer_closed(c))
				return;
		}
		hs_fail(w, c, t, t->io.nomem ? HF_TLS_FAIL_OTHER : classify(t));
		return;
	}
	hf_tls_flush(w, c, t);
	hf_timer_cancel(&w->tcp->wheel, &t->timer);
	t->state = HF_TLS_OPEN;
	hf_tls_keep_peer(t->lst->tw, t);
	hf_tls_lctx_put(t->lctx);
	t->lctx = NULL;
	HF_COUNT(w, TLS_HANDSHAKES);
	if (SSL_version(t->ssl) == TLS1_3_VERSION)
		HF_COUNT(w, TLS_HANDSHAKE_TLS13);
	else
		HF_COUNT(w, TLS_HANDSHAKE_TLS12);
	if (SSL_session_reused(t->ssl)) {
		HF_COUNT(w, TLS_RESUMED);
		if (SSL_version(t->ssl) == TLS1_3_VERSION)
			HF_COUNT(w, TLS_RESUMED_TLS13);
		else
			HF_COUNT(w, TLS_RESUMED_TLS12);
	}
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
	if (alpn_len > 0)
		HF_COUNT(w, TLS_ALPN_HTTP11);
	if (l->app_ops->accepted != NULL && l->app_ops->accepted(w, c, l->app_ctx) < 0) {
		hf_tls_abort_slow(w, c);
		return;
	}
	/* Data that came with the client's Finished (a request right behind it) is read now. */
	if (t->io.in.head != NULL || c->rcvq.head != NULL || SSL_has_pending(t->ssl) ||
	    hf_tcp_peer_closed(c))
		l->app_ops->readable(w, c);
}

static void
on_timeout(struct hf_timer *tm, void *arg)
{
	struct hf_tls_conn *t = arg;
	struct hf_worker *w = t->io.w;
	struct hf_tcp_conn *c = t->io.tcp;

	(void)tm;
	count_fail(w, HF_TLS_FAIL_TIMEOUT);
	log_fail(w, c, t, HF_TLS_FAIL_TIMEOUT);
	conn_free(t->lst->tw, t);
	hf_tcp_abort(w, c);
}

/* ---- TCP's callbacks ---- */

static int
tls_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct hf_tls_listener *l = lctx;
	struct hf_tls_conn *t;
	BIO *bio;

	if (l->lctx == NULL) {
		HF_COUNT(w, TLS_DROP_NO_CONTEXT);
		return -EINVAL;
	}
	t = conn_alloc(l->tw);
	if (t == NULL) {
		HF_COUNT(w, TLS_DROP_NO_CONN);
		return -ENOBUFS;
	}
	t->io.w = w;
	t->io.tcp = c;
	t->io.mp = w->ports[c->port].pool;
	t->lst = l;
	t->start_tsc = w->now;
	t->ssl = SSL_new(l->lctx->ctx[0]);
	bio = t->ssl != NULL ? hf_tls_bio_new(&t->io) : NULL;
	if (bio == NULL) {
		HF_COUNT(w, TLS_DROP_OPENSSL);
		conn_free(l->tw, t);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_bio(t->ssl, bio, bio);
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, t);
	t->lctx = l->lctx;
	t->lctx->refs++;
	t->state = HF_TLS_HANDSHAKE;
	c->ctx = t;
	hf_timer_init(&t->timer, on_timeout, t);
	hf_timer_arm(&w->tcp->wheel, &t->timer, w->tcp->now_tick + l->tw->handshake_ms);
	return 0;
}

static void
tls_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;
	struct rte_mbuf *m;

	if (t == NULL)
		return;
	switch (t->state) {
	case HF_TLS_HANDSHAKE:
		handshake(w, c, t);
		return;
	case HF_TLS_OPEN:
		t->lst->app_ops->readable(w, c);
		return;
	default:
		while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
			rte_pktmbuf_free(m);
		return;
	}
}

static void
tls_writable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	if (t != NULL && t->state == HF_TLS_OPEN && t->lst->app_ops->writable != NULL)
		t->lst->app_ops->writable(w, c);
}

static void
tls_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_tls_conn *t = c->ctx;

	if (t == NULL)
		return;
	if (t->state == HF_TLS_HANDSHAKE && err == 0) {
		count_fail(w, HF_TLS_FAIL_OTHER);	/* the client closed in the middle */
		log_fail(w, c, t, HF_TLS_FAIL_OTHER);
	}
	/* The application's closed() may still read what the peer sent before its FIN. */
	if (t->state == HF_TLS_OPEN && t->lst->app_ops->closed != NULL)
		t->lst->app_ops->closed(w, c, err);
	conn_free(t->lst->tw, t);
}

const struct hf_tcp_ops hf_tls_tcp_ops = {
	.accepted = tls_accepted,
	.readable = tls_readable,
	.writable = tls_writable,
	.closed = tls_closed,
	.flush = hf_tls_seal_pass,
};

/* ---- plaintext I/O for the application ---- */

struct rte_mbuf *
hf_tls_recv_slow(struct hf_worker *w, struct hf_tcp_conn *c, uint32_t max)
{
	struct hf_tls_conn *t = c->ctx;
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t total = 0;
	uint16_t nb = 0;

	if (t == NULL || t->state != HF_TLS_OPEN || t->broken || t->peer_done)
		return NULL;
	ERR_clear_error();
	while (total < max) {
		struct rte_mbuf *m;
		size_t got = 0;
		int e;

		/*
		 * Nothing to read, no plaintext left in OpenSSL, no FIN: an
		 * SSL_read would only say WANT_READ, after allocating its 16 KiB
		 * read buffer (OpenSSL 3.0 sets it up before it asks the BIO),
		 * which SSL_MODE_RELEASE_BUFFERS gives back only once a record
		 * has been read from it: every idle connection would hold one.
		 */
		if (t->io.in.head == NULL && c->rcvq.head == NULL && !SSL_has_pending(t->ssl) &&
		    !hf_tcp_peer_closed(c))
			break;
		m = rte_pktmbuf_alloc(t->io.mp);
		if (m == NULL) {
			HF_COUNT(w, TLS_DROP_NO_MBUF);
			break;
		}
		/* Decrypted straight into the mbuf's room: SSL_read's copy is the only one. */
		if (SSL_read_ex(t->ssl, rte_pktmbuf_mtod(m, void *), rte_pktmbuf_tailroom(m), &got) == 1) {
			m->data_len = (uint16_t)got;
			m->pkt_len = (uint32_t)got;
			if (tail != NULL)
				tail->next = m;
			else
				head = m;
			tail = m;
			total += (uint32_t)got;
			nb++;
			continue;
		}
		rte_pktmbuf_free(m);
		e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN) {
			t->peer_done = true;		/* close_notify */
		} else if (e != SSL_ERROR_WANT_READ) {
			/* A FIN between whole records is the end of the stream, as browsers take it. */
			if (hf_tcp_peer_closed(c) && t->io.in.head == NULL && !t->io.nomem) {
				t->peer_done = true;
			} else {
				HF_COUNT(w, TLS_RECORD_ERRORS);
				t->broken = true;
			}
		}
		break;
	}
	/* A KeyUpdate answer or an alert may have been written. */
	hf_tls_flush(w, c, t);
	/*
	 * All read: OpenSSL's read buffer goes back now. SSL_MODE_RELEASE_BUFFERS
	 * frees it only when an SSL_read empties a record of application data;
	 * one that ended on a post-handshake message (a session ticket) or on
	 * WANT_READ keeps its 16 KiB on an idle connection (test_tls_conn saw
	 * 16,584 bytes so held). It refuses (returns 0) while part of a record
	 * is in it.
	 */
	if (t->io.in.head == NULL && !SSL_has_pending(t->ssl))
		SSL_free_buffers(t->ssl);
	ERR_clear_error();
	if (head != NULL) {
		head->nb_segs = nb;
		head->pkt_len = total;
	}
	return head;
}

/*
 * Seals the plaintext held for @p t into records, the full ones only or,
 * with @p all, the rest as well, and queues their ciphertext on TCP. A
 * record whose bytes one mbuf holds (a small response) is encrypted straight
 * from it; a larger one is gathered into the worker's buffer first: that
 * memcpy of the plaintext buys one record per 16 KiB instead of one per TCP
 * segment, each with its header, tag, nonce setup and SSL_write()/SSL_read()
 * call on both ends (OpenSSL 3.0 has no writev: a record is one buffer).
 */
static void
seal(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t, bool all)
{
	struct hf_tcp_mq *q = &t->plain;
	bool up = c->ops == &hf_tls_client_ops;
	bool wrote = false;
	/*
	 * Several records in this call: OpenSSL keeps its write buffer (16 KiB
	 * and the record's overhead) from one to the next instead of freeing it
	 * after each SSL_write (SSL_MODE_RELEASE_BUFFERS) and allocating it
	 * again; the mode is back on for the pass's last record, which gives
	 * it back, so an idle connection still holds none.
	 */
	bool hold = q->bytes > HF_TLS_RECORD_MAX;

	ERR_clear_error();
	if (hold)
		SSL_clear_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
	while (!t->broken && !t->io.nomem &&
	       (q->bytes >= HF_TLS_RECORD_MAX || (all && q->bytes > 0))) {
		uint32_t n = RTE_MIN(q->bytes, (uint32_t)HF_TLS_RECORD_MAX);
		bool direct = q->head->data_len >= n;
		const void *p = rte_pktmbuf_mtod(q->head, const void *);
		size_t put = 0;

		/*
		 * Nothing left behind this record: it gives the buffer back. Else
		 * the rest goes at the end of the pass (seal(all)), with the mode
		 * on, in the buffer still held.
		 */
		if (hold && q->bytes == n)
			SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
		if (!direct) {
			mq_gather(q, t->lst->tw->rec, n);
			p = t->lst->tw->rec;
		}
		if (SSL_write_ex(t->ssl, p, n, &put) != 1) {
			/* Out of mbufs: hf_tls_flush() counts it; else OpenSSL refused the record. */
			if (!t->io.nomem)
				HF_COUNT(w, TLS_RECORD_ERRORS);
			t->broken = true;
			break;
		}
		if (direct)
			mq_consume(q, n);
		wrote = true;
		if (up) {
			HF_COUNT(w, TLS_UP_RECORDS_SENT);
			HF_COUNT_N(w, TLS_UP_RECORD_BYTES_SENT, n);
		} else {
			HF_COUNT(w, TLS_RECORDS_SENT);
			HF_COUNT_N(w, TLS_RECORD_BYTES_SENT, n);
		}
	}
	if (hold)
		SSL_set_mode(t->ssl, SSL_MODE_RELEASE_BUFFERS);
	ERR_clear_error();
	if (wrote || t->io.nomem)
		hf_tls_flush(w, c, t);
	if (t->broken) {
		/* What was written went out; the peer cannot have the rest. */
		mq_free(q);
		rte_pktmbuf_free(hf_tls_io_take(&t->io));
	}
}

void
hf_tls_seal_pass(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	if (t != NULL && t->state == HF_TLS_OPEN && t->plain.bytes > 0)
		seal(w, c, t, true);
}

int
hf_tls_send_slow(struct hf_worker *w, struct hf_tcp_conn *c, struct rte_mbuf *m)
{
	struct hf_tls_conn *t = c->ctx;

	if (t == NULL || t->state != HF_TLS_OPEN || t->broken) {
		rte_pktmbuf_free(m);
		return -EPIPE;
	}
	mq_append(&t->plain, m);
	if (t->plain.bytes >= HF_TLS_RECORD_MAX)
		seal(w, c, t, false);
	if (t->broken)
		return t->io.nomem ? -ENOMEM : -EPIPE;
	/* The rest waits for the end of this loop pass: what else the pass sends joins it. */
	if (t->plain.bytes > 0)
		hf_tcp_flush_later(w, c);
	return hf_tcp_writable(w->tcp, c) ? 1 : 0;
}

void
hf_tls_sni_get(const struct hf_tcp_conn *c, char *buf, size_t cap)
{
	const struct hf_tls_conn *t = c->ops == &hf_tls_tcp_ops ? c->ctx : NULL;
	const char *name;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (t == NULL || t->ssl == NULL)
		return;
	name = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	if (name != NULL)
		snprintf(buf, cap, "%s", name);
}

bool
hf_tls_peer_closed_slow(const struct hf_tcp_conn *c)
{
	const struct hf_tls_conn *t = c->ctx;

	if (t == NULL || t->state != HF_TLS_OPEN || t->broken || t->peer_done)
		return t == NULL ? hf_tcp_peer_closed(c) : true;
	return hf_tcp_peer_closed(c) && t->io.in.head == NULL && !SSL_has_pending(t->ssl);
}

void
hf_tls_shutdown_slow(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	/* What the application sent before goes out before the close_notify. */
	if (t != NULL && t->state == HF_TLS_OPEN && !t->broken)
		seal(w, c, t, true);
	if (t != NULL && t->state == HF_TLS_OPEN && !t->broken) {
		ERR_clear_error();
		/* Our close_notify; the peer's is not waited for (RFC 8446 6.1 allows it). */
		SSL_shutdown(t->ssl);
		ERR_clear_error();
		hf_tls_flush(w, c, t);
	}
	hf_tcp_shutdown(w, c);
}

void
hf_tls_abort_slow(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_tls_conn *t = c->ctx;

	if (t != NULL)
		conn_free(t->lst->tw, t);
	hf_tcp_abort(w, c);
}

/* ---- the pool, for the client side (tls/client.c) ---- */

struct hf_tls_conn *
hf_tls_conn_get(struct hf_tls_worker *tw)
{
	return conn_alloc(tw);
}

void
hf_tls_conn_put(struct hf_tls_worker *tw, struct hf_tls_conn *t)
{
	conn_free(tw, t);
}
