/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TEST_TCP_APP_H
#define HF_TEST_TCP_APP_H

/*
 * The application side of the TCP stack tests (test_tcp_stack.c,
 * test_tcp_harden.c): a connection's reader that copies what arrives into an
 * optional buffer and counts it, and the connected and closed callbacks. Each
 * test keeps its own accept callback and its own struct tcp_app instances.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/tcp/tcp.h"

struct tcp_app {
	struct hf_tcp_conn *c;
	bool connected, closed, read_paused, eof;
	int err;
	size_t got;			/* bytes read; copied into buf while they fit in cap */
	uint8_t *buf;
	size_t cap;
};

static void
app_read(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct tcp_app *a = c->ctx;
	struct rte_mbuf *m;

	if (a == NULL || a->read_paused)
		return;
	while ((m = hf_tcp_recv(w, c, UINT32_MAX)) != NULL) {
		for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
			if (a->buf != NULL && a->got + s->data_len <= a->cap)
				memcpy(a->buf + a->got, rte_pktmbuf_mtod(s, void *), s->data_len);
			a->got += s->data_len;
		}
		rte_pktmbuf_free(m);
	}
	if (hf_tcp_peer_closed(c))
		a->eof = true;
}

static void
app_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct tcp_app *a = c->ctx;

	(void)w;
	if (a == NULL)
		return;
	a->closed = true;
	a->err = err;
	a->c = NULL;
}

static void
app_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	(void)w;
	((struct tcp_app *)c->ctx)->connected = true;
}

#endif
