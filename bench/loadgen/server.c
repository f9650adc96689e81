/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server role: an upstream that answers every request with one fixed
 * response (--status, --response-size) over keep-alive connections, so one
 * hf-loadgen process can play both the clients and the upstreams of the proxy
 * under test. Request heads are parsed in place (hf_http_rd_head), bodies
 * skipped by their framing, pipelined requests answered in order. Responses
 * are prebuilt once per port and sent as indirect clones: no copy per request.
 * A request that asks for it (Connection: close, HTTP/1.0 without keep-alive)
 * gets its answer and then a FIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "bench/loadgen/loadgen.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"

#define PULL_MAX 65536
#define NO_SLOT UINT32_MAX

static struct lg_sconn *
sconn_get(struct lg_worker *lw)
{
	struct lg_sconn *s;

	if (lw->sfree == NO_SLOT)
		return NULL;
	s = &lw->sconns[lw->sfree];
	lw->sfree = s->next_free;
	memset(s, 0, sizeof(*s));
	return s;
}

static void
sconn_put(struct lg_worker *lw, struct lg_sconn *s)
{
	hf_http_rd_reset(&lw->heads, &s->rd);
	s->next_free = lw->sfree;
	lw->sfree = (uint32_t)(s - lw->sconns);
}

static int
server_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct lg_worker *lw = lctx;
	struct lg_sconn *s = sconn_get(lw);

	(void)w;
	if (s == NULL)
		return -ENOMEM;
	c->ctx = s;
	lw->st.server_conns++;
	return 0;
}

/* Parses the next request head: 1 when one is complete, 0 for more, -1 when malformed. */
static int
read_request(struct lg_worker *lw, struct lg_sconn *s)
{
	struct hf_h1_message msg;
	int rc;

	if (s->rd.q.bytes == 0)
		return 0;
	rc = hf_http_rd_head(&lw->heads, &s->rd, true, &lw->lim, &msg);
	if (rc == HF_AGAIN)
		return 0;
	if (rc < 0)
		return -1;
	s->head_only = msg.method == HF_H1_M_HEAD;
	s->close = !(msg.flags & HF_H1_F_KEEP_ALIVE);
	if (msg.flags & HF_H1_F_CHUNKED) {
		s->body.framing = HF_HTTP_BODY_CHUNKED;
		hf_h1_chunked_init(&s->body.chunked);
	} else if ((msg.flags & HF_H1_F_HAS_BODY_LENGTH) && msg.content_length > 0) {
		s->body.framing = HF_HTTP_BODY_LENGTH;
		s->body.remaining = msg.content_length;
	} else
		s->body.framing = HF_HTTP_BODY_NONE;	/* a request has no body otherwise (9112 6.3) */
	hf_http_rd_consume(&lw->heads, &s->rd, (uint32_t)rc);
	s->in_body = true;
	return 1;
}

static void
server_readable(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct lg_sconn *s = c->ctx;
	struct lg_worker *lw;
	uint64_t skipped = 0;
	int rc;

	if (s == NULL) {
		struct rte_mbuf *m;

		while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL)
			rte_pktmbuf_free(m);
		return;
	}
	lw = (struct lg_worker *)w->tcp->listeners[c->listener].ctx;
	for (;;) {
		hf_http_rd_pull(w, &s->rd, c, PULL_MAX);
		if (!s->in_body) {
			rc = read_request(lw, s);
			if (rc == 0)
				break;
			if (rc < 0)
				goto bad;
		}
		rc = lg_body_skip(lw, &s->rd, &s->body, &skipped);
		if (rc < 0)
			goto bad;
		if (rc == 0)
			break;
		s->in_body = false;
		struct rte_mbuf *m = hf_http_chain_clone(w, lw->response[c->port][s->head_only]);

		if (m == NULL || hf_tcp_send(w, c, m) < 0)
			goto bad;
		lw->st.server_requests++;
		if (s->close) {
			hf_tcp_shutdown(w, c);
			break;
		}
	}
	if (hf_tcp_peer_closed(c))
		hf_tcp_shutdown(w, c);
	return;
bad:
	lw->st.server_bad++;
	c->ctx = NULL;
	sconn_put(lw, s);
	hf_tcp_abort(w, c);
}

static void
server_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct lg_sconn *s = c->ctx;

	(void)err;
	if (s == NULL)
		return;
	c->ctx = NULL;
	sconn_put(w->tcp->listeners[c->listener].ctx, s);
}

static const struct hf_tcp_ops server_ops = {
	.accepted = server_accepted,
	.readable = server_readable,
	.closed = server_closed,
};

int
lg_server_init(struct lg_worker *lw)
{
	const struct lg_opts *o = lw->o;
	struct hf_worker *w = lw->w;
	char head[256];
	int n, rc;

	lw->n_sconns = w->tcp->cfg.max_connections;
	lw->sconns = calloc(lw->n_sconns, sizeof(*lw->sconns));
	if (lw->sconns == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < lw->n_sconns; i++)
		lw->sconns[i].next_free = i + 1 < lw->n_sconns ? i + 1 : NO_SLOT;
	lw->sfree = 0;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\ncontent-type: application/octet-stream\r\n"
		     "content-length: %u\r\n\r\n",
		     o->status, hf_h1_reason(o->status), o->response_size);
	for (uint16_t p = 0; p < w->n_ports; p++) {
		lw->response[p][0] = lg_build(w->ports[p].pool, head, (size_t)n, o->response_size);
		lw->response[p][1] = lg_build(w->ports[p].pool, head, (size_t)n, 0);
		if (lw->response[p][0] == NULL || lw->response[p][1] == NULL)
			return -ENOMEM;
	}
	rc = hf_tcp_listen(w, o->server_port, &server_ops, lw);
	return rc < 0 ? rc : 0;
}

void
lg_server_fini(struct lg_worker *lw)
{
	for (uint16_t p = 0; p < HF_MAX_PORTS; p++)
		for (int k = 0; k < 2; k++) {
			rte_pktmbuf_free(lw->response[p][k]);
			lw->response[p][k] = NULL;
		}
	if (lw->sconns != NULL && lw->heads.bufs != NULL)
		for (uint32_t i = 0; i < lw->n_sconns; i++)
			hf_http_rd_reset(&lw->heads, &lw->sconns[i].rd);
	free(lw->sconns);
	lw->sconns = NULL;
}
