/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The access-log record of an exchange (access_log-t.h): filled as the
 * exchange runs, handed to the agent through the worker's ring when it ends,
 * with the exchange's Istio metrics recorded once beside it.
 */
#include <string.h>

#include <rte_ring.h>

#include "dataplane/metrics.h"
#include "dataplane/proxy/http-int.h"
#include "tls/tls.h"

void
hf_http_log_begin(struct hf_http_session *s, uint8_t minor)
{
	struct hf_access_log_rec *r = &s->x->log;

	memset(r, 0, sizeof(*r));
	r->minor = minor;
	r->service_ms = -1;
	r->d_laddr = s->down->laddr;
	r->d_lport = s->down->lport;
	r->d_raddr = s->down->raddr;
	r->d_rport = s->down->rport;
}

void
hf_http_log_request(struct hf_http_session *s, const struct hf_h1_message *msg)
{
	struct hf_access_log_rec *r = &s->x->log;
	const struct hf_h1_header *f;

	hf_http_log_begin(s, msg->minor);
	hf_http_copy_str(r->method, sizeof(r->method), msg->method_name.p, msg->method_name.len);
	hf_http_copy_str(r->path, sizeof(r->path), msg->target.p, msg->target.len);
	hf_http_copy_str(r->authority, sizeof(r->authority), msg->host.p, msg->host.len);
	f = hf_h1_find(msg, "user-agent");
	if (f != NULL)
		hf_http_copy_str(r->user_agent, sizeof(r->user_agent), f->value.p, f->value.len);
	hf_tls_sni_get(s->down, r->sni, sizeof(r->sni));
}

void
hf_http_log_push(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_access_log_rec *r;
	struct hf_http_stream *x = s->x;

	/* Every exchange that ends is reported once, logged or not. */
	if (x != NULL && !x->reported) {
		x->reported = true;
		hf_metrics_http_done(w, x->cluster_id, x->log.status, x->log.flag,
				     (w->now - s->start_tsc) / h->tsc_per_us, x->log.bytes_rx,
				     x->log.bytes_tx);
	}
	/* HF_HTTP_S_LOG is set with a stream only (hf_http_log_request() and the connection-level answers). */
	if (!(s->flags & HF_HTTP_S_LOG))
		return;
	s->flags &= ~HF_HTTP_S_LOG;
	r = &s->x->log;
	r->start_us = h->epoch_us + (s->start_tsc - h->epoch_tsc) / h->tsc_per_us;
	r->duration_ms = (uint32_t)((w->now - s->start_tsc) / h->tsc_per_ms);
	r->service_ms = s->x->service_ms;
	if (rte_ring_sp_enqueue_elem(h->log_ring, r, sizeof(*r)) != 0) {
		HF_COUNT(w, ACCESS_LOG_DROP_FULL);
		return;
	}
	HF_COUNT(w, ACCESS_LOG_RECORDS);
}
