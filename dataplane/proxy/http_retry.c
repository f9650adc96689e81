/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retries (Istio's HTTPRetry, Envoy's retry_policy: retry_on conditions,
 * attempts, per-try timeouts), what an upstream that failed before its
 * answer gets (a retry or Envoy's 503), and mirroring (a copy of the request to a
 * second cluster whose answer is dropped).
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_cb.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb-t.h"
#include "tls/tls.h"

/*
 * Mirrors request @p msg to cluster @p cl (Istio mirror, fire and forget): a
 * connection of its own that sends the request with the authority's host
 * suffixed "-shadow" (hf_http_shadow_host), as Envoy does, and
 * "connection: close", and drops the answer; a head the listener's limits
 * refuse is not mirrored.
 * Nothing of the mirror reaches the client or delays its request.
 */
void
hf_http_mirror(struct hf_worker *w, struct hf_http_session *s, const struct hf_h1_message *msg,
       const struct hf_snap_cluster *cl, int cluster)
{
	static const struct hf_route_hdr_op close_op = {
		.op = HF_HDR_SET, .name = "connection", .name_len = 10, .value = "close", .value_len = 5};
	struct hf_http_state *h = w->http;
	const struct hf_snap_endpoint *ep;
	char shadow[HF_ROUTER_DOMAIN + 8], rid[HF_UUID_LEN + 1], xff[64];
	struct hf_http_rq_extra x = {
		.client_addr = s->down->raddr,
		.https = hf_tls_of(s->down) != NULL,
		.http10 = false,
		.request_id = rid,
		.xff = xff,
		.xff_len = sizeof(xff),
		.ops = {&close_op},
		.n_ops = {1},
		.limits = &s->lst->cfg->limits,
	};
	struct hf_http_wr wr;
	struct hf_http_up *u;
	int32_t slot;
	size_t n;

	/* A Host longer than any DNS name names nothing a mirror could be told. */
	n = hf_http_shadow_host(shadow, sizeof(shadow), msg->host.p, msg->host.len);
	if (cl->n_endpoints == 0 || s->x->rq_body.framing != HF_HTTP_BODY_NONE || n == 0) {
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	x.authority = shadow;
	x.authority_len = (uint32_t)n;
	x.xfcc = hf_http_xfcc(s, hf_snapshot_listener(w->snap, s->lst->port), &x.xfcc_len);
	hf_http_wr_init_port(&wr, w, &w->ports[s->down->port]);
	u = hf_http_build_request(&wr, msg, &x) == 0 ? hf_http_up_alloc(h) : NULL;
	if (wr.failed || u == NULL) {
		hf_http_wr_discard(&wr);
		if (u != NULL)
			hf_http_up_free(h, u);
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	ep = hf_http_pick_endpoint(h, cl, cluster, &slot);
	u->tcp = hf_http_up_connect(w, u, cl, ep);
	if (u->tcp == NULL) {
		hf_http_wr_discard(&wr);
		hf_http_up_free(h, u);
		HF_COUNT(w, HTTP_MIRROR_SKIPPED);
		return;
	}
	u->state = HF_HTTP_UP_MIRROR;
	u->addr = ep->addr;
	u->port = ep->port;
	/* The request waits in the reader's queue until the connection is up. */
	hf_http_mq_append(&u->rd.q, wr.head);
	HF_COUNT(w, HTTP_MIRRORED);
}

/* Whether the retry policy of @p s covers a response of @p status (0: no response, @p on). */
bool
hf_http_retriable(const struct hf_http_session *s, int status, uint32_t on)
{
	if (s->x->retries_left == 0 || s->x->retry_head.head == NULL || (s->flags & HF_HTTP_S_RESPONDED))
		return false;
	if (status == 0)
		return (s->x->retry_on & on) != 0;
	if ((s->x->retry_on & HF_RETRY_5XX) && status >= 500)
		return true;
	if ((s->x->retry_on & HF_RETRY_GATEWAY_ERROR) && status >= 502 && status <= 504)
		return true;
	if ((s->x->retry_on & HF_RETRY_RETRIABLE_4XX) && status == 409)
		return true;
	if (s->x->retry_on & HF_RETRY_RETRIABLE_CODES)
		for (unsigned int i = 0; i < s->x->n_retry_codes; i++)
			if (s->x->retry_codes[i] == status)
				return true;
	return false;
}

/*
 * Sends the request again, on a new upstream connection of the same cluster
 * (by name in the current snapshot; a cluster that went away ends retrying).
 * Returns STEP_MORE when the new try is under way, else the local reply's
 * step for @p status / @p flag.
 */
int
hf_http_retry(struct hf_worker *w, struct hf_http_session *s, int status, enum hf_response_flag flag,
      const char *details, const char *body)
{
	struct hf_http_state *h = w->http;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_cluster *cl = NULL;
	const struct hf_snap_endpoint *ep;
	struct rte_mbuf *copy;
	struct hf_http_up *u;
	int cluster = -1;

	/* By identity: the log keeps a truncated name, and the snapshot may be a newer one. */
	for (unsigned int i = 0; snap != NULL && i < snap->n_clusters; i++)
		if (snap->clusters[i].id == s->x->cluster_id) {
			cl = &snap->clusters[i];
			cluster = (int)i;
			break;
		}
	/* max_retries: the failed attempt's answer stands (Envoy's upstream_rq_retry_overflow) */
	if (cl != NULL && hf_http_cb_retry(w, s, cl) != 0)
		return hf_http_local_reply(w, s, status, flag, details, body, true);
	copy = cl != NULL && cl->n_endpoints > 0 ? hf_http_chain_clone(w, s->x->retry_head.head) : NULL;
	if (copy == NULL)
		return hf_http_local_reply(w, s, status, flag, details, body, true);
	s->x->retries_left--;
	HF_COUNT(w, HTTP_RETRY);
	if (s->x->up != NULL) {
		hf_http_up_close(w, s->x->up, true);
		s->x->up = NULL;
	}
	if (s->x->ep_slot >= 0) {
		h->active[s->x->ep_slot]--;
		s->x->ep_slot = -1;
	}
	ep = hf_http_pick_endpoint(h, cl, cluster, &s->x->ep_slot);
	u = hf_http_upstream_for(w, s, cl, ep, s->x->ep_slot);
	if (u == NULL && s->x->cb_overflow == HF_CB_WAIT) {
		/* max_connections: the try waits in its cluster's queue (http_pool.c) */
		s->x->ep_slot = -1;
		s->rs = HF_HTTP_RS_WAIT;
		s->flags &= ~HF_HTTP_S_UP_REUSABLE;
		hf_http_mq_append(&s->x->pending, copy);
		hf_http_timer_set(w, s, s->x->per_try_ms != 0 ? s->x->per_try_ms : s->x->route_timeout_ms);
		return STEP_MORE;
	}
	if (u == NULL) {
		s->x->ep_slot = -1;
		rte_pktmbuf_free(copy);
		if (s->x->cb_overflow != 0)
			return hf_http_local_reply(w, s, 503, HF_RF_UO, HF_HTTP_UO_DETAILS,
						   HF_HTTP_UO_BODY, true);
		return hf_http_local_reply(w, s, status, flag, details, body, true);
	}
	if (s->x->ep_slot >= 0)
		h->active[s->x->ep_slot]++;
	s->x->up = u;
	s->rs = HF_HTTP_RS_WAIT;
	s->flags &= ~HF_HTTP_S_UP_REUSABLE;
	s->x->log.up_addr = ep->addr;
	s->x->log.up_port = ep->port;
	s->x->log.up_laddr = u->tcp->laddr;
	s->x->log.up_lport = u->tcp->lport;
	HF_COUNT(w, HTTP_UPSTREAM_RQ);
	s->x->sent_tsc = w->now;
	if (u->state == HF_HTTP_UP_ACTIVE)
		hf_tls_send(w, u->tcp, copy);
	else
		hf_http_mq_append(&s->x->pending, copy);
	hf_http_timer_set(w, s, s->x->per_try_ms != 0 ? s->x->per_try_ms : s->x->route_timeout_ms);
	return STEP_MORE;
}

int
hf_http_upstream_failed(struct hf_worker *w, struct hf_http_session *s, enum hf_response_flag flag)
{
	static const char uf[] = "upstream connect error or disconnect/reset before headers. "
				 "reset reason: connection failure";
	static const char uc[] = "upstream connect error or disconnect/reset before headers. "
				 "reset reason: connection termination";

	hf_http_outlier_report(w, s, HF_OD_LOCAL_FAILURE);
	if (flag == HF_RF_UF) {
		/* Envoy's words when TLS origination failed: the reason follows (local_reply copies it) */
		char body[256];
		const char *b = uf;

		if (s->x->log.transport_failure != NULL) {
			snprintf(body, sizeof(body), "%s, transport failure reason: %s", uf,
				 s->x->log.transport_failure);
			b = body;
		}
		HF_COUNT(w, HTTP_UPSTREAM_FAIL);
		if (hf_http_retriable(s, 0, HF_RETRY_CONNECT_FAILURE | HF_RETRY_REFUSED_STREAM))
			return hf_http_retry(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started", b);
		return hf_http_local_reply(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started", b,
				   true);
	}
	HF_COUNT(w, HTTP_UPSTREAM_GONE);
	if (s->flags & HF_HTTP_S_RESPONDED)
		return hf_http_sess_reset(w, s, HF_RF_UR);
	if (s->x->stale_retry && s->x->retry_head.head != NULL) {
		/* The pooled connection was dead: so, likely, are its siblings from the same time. */
		s->x->stale_retry = false;
		if (s->x->up != NULL && s->x->up->slot >= 0)
			hf_http_idle_drain(w, s->x->up->slot);
		HF_COUNT(w, HTTP_STALE_RETRY);
		s->x->retries_left++;
		return hf_http_retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc);
	}
	if (hf_http_retriable(s, 0, HF_RETRY_RESET | HF_RETRY_5XX | HF_RETRY_GATEWAY_ERROR))
		return hf_http_retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc);
	return hf_http_local_reply(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started", uc, true);
}
