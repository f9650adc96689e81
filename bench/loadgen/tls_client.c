/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client role over TLS (--tls 1.2|1.3): an OpenSSL client per connection
 * slot, over the loadgen's own TCP through tls/'s BIO (hf_tls_bio_new: the
 * same mbuf BIO the gateway's server side runs on), so the handshake and the
 * records cost the load generator what they cost the gateway, with no kernel
 * in between.
 *
 * A slot's life with TLS: TCP connects (client.c), lg_tls_start() sends the
 * ClientHello, each readable callback runs the handshake on until OpenSSL
 * says it is done, then the request is encrypted (lg_tls_send) and the
 * response decrypted into fresh mbufs of the port's pool, appended to the
 * slot's HTTP reader (lg_tls_pull), which client.c parses as in plaintext.
 *
 * Resumption (--tls-resume): the session of the worker's first connection
 * that can be resumed (taken when it closes, after its response: a TLS 1.3
 * NewSessionTicket has arrived by then; a TLS 1.2 ticket or session ID came
 * with the handshake) is kept and offered by every later connection of that
 * worker. The same ticket again and again: the client keeps no session
 * cache, so OpenSSL does not retire a TLS 1.3 ticket once used (it does, in
 * client cache mode, to keep tickets single-use), and a server that accepts
 * a ticket more than once (stateless tickets without early data: OpenSSL's,
 * nginx's) resumes every connection. Whether it did is OpenSSL's verdict
 * (SSL_session_reused), counted apart: a server that issues neither tickets
 * nor session IDs gives full handshakes only.
 *
 * The client's settings are the benchmark's, not a browser's: one version,
 * one cipher suite (AES-128-GCM), X25519 for the key exchange (P-256 listed
 * too, unless --tls-groups: a TLS 1.2 server needs its ECDSA certificate's
 * curve in the client's list), no certificate verification (the server's signature in
 * CertificateVerify or ServerKeyExchange is still checked: the protocol does
 * it). OpenSSL allocates per handshake (SSL_new, its buffers): that is the
 * one allocation of the client's run, as on the gateway's side.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rte_mbuf.h>

#include "bench/loadgen/loadgen.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "tls/tls.h"

/* RFC 7301 3.1 wire format: the only protocol the gateway speaks over TLS. */
static const unsigned char alpn_h11[] = "\x08http/1.1";

/* --tls-resume: the worker keeps @p ssl's session when it has none yet and this one resumes. */
static void
keep_session(struct lg_worker *lw, SSL *ssl)
{
	SSL_SESSION *sess;

	if (!lw->o->tls_resume || lw->tls_sess != NULL)
		return;
	sess = SSL_get1_session(ssl);
	if (sess != NULL && SSL_SESSION_is_resumable(sess))
		lw->tls_sess = sess;
	else
		SSL_SESSION_free(sess);
}

int
lg_tls_init(struct lg_worker *lw, char *err, size_t errlen)
{
	const struct lg_opts *o = lw->o;
	SSL_CTX *ctx;

	/* The worker's own library context, as each gateway worker has: no lock shared with others. */
	lw->tls_lib = OSSL_LIB_CTX_new();
	ctx = lw->tls_lib != NULL ? SSL_CTX_new_ex(lw->tls_lib, NULL, TLS_client_method()) : NULL;
	if (ctx == NULL) {
		snprintf(err, errlen, "OpenSSL: no client context");
		goto fail;
	}
	lw->tls_ctx = ctx;
	if (!SSL_CTX_set_min_proto_version(ctx, o->tls_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, o->tls_version)) {
		snprintf(err, errlen, "OpenSSL refused version 0x%04x", o->tls_version);
		goto fail;
	}
	if (o->tls_version == HF_TLS_V1_3 ? SSL_CTX_set_ciphersuites(ctx, o->tls_ciphers) != 1 :
					    SSL_CTX_set_cipher_list(ctx, o->tls_ciphers) != 1) {
		snprintf(err, errlen, "--tls-ciphers '%s' refused", o->tls_ciphers);
		goto fail;
	}
	if (SSL_CTX_set1_groups_list(ctx, o->tls_groups) != 1) {
		snprintf(err, errlen, "--tls-groups '%s' refused", o->tls_groups);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_alpn_protos(ctx, alpn_h11, sizeof(alpn_h11) - 1) != 0) {
		snprintf(err, errlen, "OpenSSL: ALPN refused");
		goto fail;
	}
	/* No client cache either way (keep_session() keeps the one session resumed). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* No ticket asked for in TLS 1.2 unless resuming (1.3 servers send theirs anyway). */
	if (!o->tls_resume)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	ERR_clear_error();
	return 0;
fail:
	ERR_clear_error();
	lg_tls_fini(lw);
	return -EINVAL;
}

void
lg_tls_fini(struct lg_worker *lw)
{
	SSL_SESSION_free(lw->tls_sess);
	lw->tls_sess = NULL;
	SSL_CTX_free(lw->tls_ctx);
	lw->tls_ctx = NULL;
	OSSL_LIB_CTX_free(lw->tls_lib);
	lw->tls_lib = NULL;
}

/* What OpenSSL wrote goes to TCP; 0, or -ENOMEM when a record lacks bytes (no mbuf). */
static int
flush(struct lg_worker *lw, struct lg_conn *cn)
{
	struct rte_mbuf *out = hf_tls_io_take(&cn->tls.io);

	if (cn->tls.io.nomem) {
		rte_pktmbuf_free(out);
		return -ENOMEM;
	}
	if (out != NULL && hf_tcp_send(lw->w, cn->tcp, out) < 0)
		return -EPIPE;
	return 0;
}

int
lg_tls_start(struct lg_worker *lw, struct lg_conn *cn)
{
	struct lg_tls_conn *t = &cn->tls;
	BIO *bio;

	memset(t, 0, sizeof(*t));
	t->io.w = lw->w;
	t->io.tcp = cn->tcp;
	t->io.mp = lw->w->ports[cn->tcp->port].pool;
	t->ssl = SSL_new(lw->tls_ctx);
	bio = t->ssl != NULL ? hf_tls_bio_new(&t->io) : NULL;
	if (bio == NULL) {
		lg_tls_free(cn);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_bio(t->ssl, bio, bio);
	SSL_set_connect_state(t->ssl);
	if (lw->o->tls_sni != NULL)
		SSL_set_tlsext_host_name(t->ssl, lw->o->tls_sni);
	if (lw->tls_sess != NULL)
		SSL_set_session(t->ssl, lw->tls_sess);
	t->t0 = lw->w->now;
	return lg_tls_handshake(lw, cn) < 0 ? -EPROTO : 0;
}

/* The first handshake of the worker: what was negotiated, for the report. */
static void
describe(struct lg_worker *lw, SSL *ssl)
{
	const char *g = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl));

	snprintf(lw->tls_desc, sizeof(lw->tls_desc), "%s %s %s", SSL_get_version(ssl),
		 SSL_get_cipher_name(ssl), g != NULL ? g : "?");
}

int
lg_tls_handshake(struct lg_worker *lw, struct lg_conn *cn)
{
	struct lg_tls_conn *t = &cn->tls;
	int rc, e;

	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		if (flush(lw, cn) < 0)
			return -1;
		t->done = true;
		lw->st.tls_handshakes_total++;
		if (SSL_session_reused(t->ssl))
			lw->st.tls_resumed_total++;
		if (lw->tls_desc[0] == '\0')
			describe(lw, t->ssl);
		if (lw->w->now >= lw->t_warm && lw->w->now < lw->t_end) {
			lw->st.tls_handshakes++;
			if (SSL_session_reused(t->ssl))
				lw->st.tls_resumed++;
			lw->st.tls_hs_cycles += lw->w->now - t->t0;
		}
		return 1;
	}
	e = SSL_get_error(t->ssl, rc);
	/* The server's flight is not whole yet: what we have to say goes out, the rest waits. */
	if (e == SSL_ERROR_WANT_READ && !t->io.nomem && flush(lw, cn) == 0 &&
	    !hf_tcp_peer_closed(cn->tcp))
		return 0;
	if (lw->tls_err[0] == '\0')
		snprintf(lw->tls_err, sizeof(lw->tls_err), "%s",
			 ERR_peek_last_error() != 0 ? ERR_reason_error_string(ERR_peek_last_error())
						    : "closed by the server");
	ERR_clear_error();
	return -1;
}

int
lg_tls_send(struct lg_worker *lw, struct lg_conn *cn, const struct rte_mbuf *m)
{
	struct lg_tls_conn *t = &cn->tls;

	ERR_clear_error();
	for (; m != NULL; m = m->next) {
		size_t put;

		if (m->data_len > 0 &&
		    SSL_write_ex(t->ssl, rte_pktmbuf_mtod(m, const void *), m->data_len, &put) != 1) {
			ERR_clear_error();
			t->broken = true;
			return -EPIPE;
		}
	}
	return flush(lw, cn);
}

uint32_t
lg_tls_pull(struct lg_worker *lw, struct lg_conn *cn, uint32_t max)
{
	struct lg_tls_conn *t = &cn->tls;
	struct hf_tcp_mq *q = &cn->rd.q;
	uint32_t before = q->bytes;

	if (t->ssl == NULL || !t->done || t->broken || t->peer_done)
		return 0;
	ERR_clear_error();
	while (q->bytes < max) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(t->io.mp);
		size_t got = 0;
		int e;

		if (m == NULL)
			break;
		/* Decrypted straight into the mbuf: SSL_read's copy is the only one. */
		if (SSL_read_ex(t->ssl, rte_pktmbuf_mtod(m, void *), rte_pktmbuf_tailroom(m), &got)) {
			m->data_len = (uint16_t)got;
			m->pkt_len = (uint32_t)got;
			if (q->tail != NULL && hf_tcp_mbuf_absorb(q->tail, m)) {
				q->bytes += (uint32_t)got;
				rte_pktmbuf_free(m);
			} else {
				hf_http_mq_append(q, m);
			}
			continue;
		}
		rte_pktmbuf_free(m);
		e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN)
			t->peer_done = true;		/* close_notify */
		else if (e != SSL_ERROR_WANT_READ && hf_tcp_peer_closed(cn->tcp) &&
			 t->io.in.head == NULL)
			t->peer_done = true;		/* a FIN between whole records, as browsers take it */
		else if (e != SSL_ERROR_WANT_READ)
			t->broken = true;
		break;
	}
	/* A KeyUpdate answer or an alert may have been written. */
	if (flush(lw, cn) < 0)
		t->broken = true;
	ERR_clear_error();
	return q->bytes - before;
}

bool
lg_tls_peer_closed(const struct lg_conn *cn)
{
	const struct lg_tls_conn *t = &cn->tls;

	if (t->ssl == NULL || t->broken || t->peer_done)
		return true;
	return hf_tcp_peer_closed(cn->tcp) && t->io.in.head == NULL && !SSL_has_pending(t->ssl);
}

void
lg_tls_close(struct lg_worker *lw, struct lg_conn *cn)
{
	struct lg_tls_conn *t = &cn->tls;

	if (t->ssl != NULL && t->done && !t->broken)
		keep_session(lw, t->ssl);
	if (t->ssl != NULL && t->done && !t->broken && cn->tcp != NULL) {
		/* Our close_notify (RFC 8446 6.1) ahead of the FIN; the server's is not waited for. */
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		ERR_clear_error();
		flush(lw, cn);
	}
	lg_tls_free(cn);
}

void
lg_tls_free(struct lg_conn *cn)
{
	struct lg_tls_conn *t = &cn->tls;

	SSL_free(t->ssl);		/* and the BIO with it */
	t->ssl = NULL;
	hf_tls_io_reset(&t->io);
	t->io.tcp = NULL;
	t->done = t->broken = t->peer_done = false;
}
