/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 reverse proxy (Envoy's http_connection_manager with its
 * router): one session per downstream connection carries one exchange at a
 * time — parse the head, route it through the current snapshot, take a
 * keep-alive connection to the endpoint from this worker's pool (or open
 * one), stream the request, stream the response — and then the next
 * pipelined or keep-alive request.
 *
 * Bodies stream: bytes are taken from one connection only while the other
 * can take them, so a slow reader leaves data in the writer's TCP receive
 * queue and closes its window; nothing holds a whole body. Requests queue in
 * TCP the same way while one is in flight (pipelining).
 *
 * Every step function returns STEP_WAIT (nothing more until an event),
 * STEP_MORE (state changed: look again) or STEP_GONE (the session was freed:
 * touch nothing). drive() runs the steps until one waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dataplane/http/path.h"
#include "dataplane/metrics.h"
#include "dataplane/overload.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http.h"
#include "dataplane/proxy/http_authz.h"
#include "dataplane/proxy/http_cb.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/proxy/ratelimit.h"
#include "dataplane/proxy/jwt.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "lb/lb-t.h"
#include "tls/tls.h"

/*
 * A pooled connection idle this long may be dead without our knowing (its
 * peer restarted without a FIN reaching us): a bodiless request sent on one
 * keeps a copy, and goes again once on a new connection if the old one is
 * reset or closed before any answer, as nginx and HAProxy do. Connections
 * reused sooner (the keep-alive hot path) take no copy.
 */
#define STALE_RISK_MS 100


static int drive(struct hf_worker *w, struct hf_http_session *s);

static inline uint32_t
now_ms(const struct hf_worker *w)
{
	return (uint32_t)w->tcp->now_tick;
}

/* ---- pools ---- */

static struct hf_http_session *
sess_alloc(struct hf_http_state *h)
{
	struct hf_http_session *s;
	uint32_t id;

	if (h->n_free_sessions == 0)
		return NULL;
	id = h->free_sessions[--h->n_free_sessions];
	s = &h->sessions[id];
	memset(s, 0, sizeof(*s));
	s->id = id;
	return s;
}

/* ---- timers ---- */

static void on_timer(struct hf_timer *t, void *arg);

void
hf_http_timer_set(struct hf_worker *w, struct hf_http_session *s, uint32_t ms)
{
	/*
	 * The wheel's clock is whole milliseconds, truncated: one tick more makes
	 * sure at least @p ms pass (a fault delay must not be shorter than asked).
	 * Armed lazily: a keep-alive session moves its timer twice a request (the
	 * route's timeout, then the idle one), and the timer seldom fires.
	 */
	if (ms == 0)
		hf_timer_cancel(&w->tcp->wheel, &s->timer);
	else
		hf_timer_arm_lazy(&w->tcp->wheel, &s->timer, w->tcp->now_tick + ms + 1);
}

void
hf_http_count_status(struct hf_worker *w, int status)
{
	HF_COUNT(w, HTTP_DOWNSTREAM_RQ);
	switch (status / 100) {
	case 1: HF_COUNT(w, HTTP_RQ_1XX); break;
	case 2: HF_COUNT(w, HTTP_RQ_2XX); break;
	case 3: HF_COUNT(w, HTTP_RQ_3XX); break;
	case 4: HF_COUNT(w, HTTP_RQ_4XX); break;
	default: HF_COUNT(w, HTTP_RQ_5XX); break;
	}
}

/* ---- the end of an exchange, of a session ---- */

/*
 * Returns the stream of @p s to its pool with what it holds: its endpoint's
 * in-flight count, its bytes, and its upstream unless hf_http_exchange_end() took it
 * (closed with a reset when @p reset_up).
 */
static void
stream_end(struct hf_worker *w, struct hf_http_session *s, bool reset_up)
{
	struct hf_http_state *h = w->http;
	struct hf_http_stream *x = s->x;

	if (x == NULL)
		return;
	if (x->ep_slot >= 0) {
		h->active[x->ep_slot]--;
		x->ep_slot = -1;
	}
	hf_http_cb_stream_end(h, x);
	if (x->up != NULL) {
		hf_http_up_close(w, x->up, reset_up);
		x->up = NULL;
	}
	/* Empty on the keep-alive path: no call for nothing. */
	if (x->pending.head != NULL)
		hf_http_mq_free(&x->pending);
	if (x->retry_head.head != NULL)
		hf_http_mq_free(&x->retry_head);
	s->x = NULL;
	h->free_streams[h->n_free_streams++] = x->id;
}

/* Frees the session: its timer, its bytes, its upstream (reset when it carried a request). */
static void
sess_free(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;

	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	stream_end(w, s, true);
	hf_http_rd_reset(&h->heads, &s->rd);
	if (s->lst != NULL)
		h->lst_sessions[s->lst - h->listeners]--;
	if (s->down != NULL)
		hf_tls_set_ctx(s->down, NULL);
	s->down = NULL;
	h->free_sessions[h->n_free_sessions++] = s->id;
}

/* Resets the downstream (and the upstream): the exchange cannot end cleanly. */
int
hf_http_sess_reset(struct hf_worker *w, struct hf_http_session *s, enum hf_response_flag flag)
{
	HF_COUNT(w, HTTP_RQ_RESET);
	if (s->x != NULL) {
		s->x->log.flag = (uint8_t)flag;
		hf_http_log_push(w, s);
	}
	hf_tls_abort(w, s->down);
	s->down = NULL;
	sess_free(w, s);
	return STEP_GONE;
}

void
hf_http_sess_close(struct hf_worker *w, struct hf_http_session *s)
{
	s->rq = HF_HTTP_RQ_CLOSING;
	hf_timer_cancel(&w->tcp->wheel, &s->timer);
	hf_http_rd_reset(&w->http->heads, &s->rd);
	hf_tls_shutdown(w, s->down);
}

/*
 * The exchange is over on both sides: logs it, returns the upstream to its
 * pool when it can serve again, and either waits for the next request or
 * closes the downstream.
 */
int
hf_http_exchange_end(struct hf_worker *w, struct hf_http_session *s, bool close)
{
	struct hf_http_up *u = s->x->up;

	hf_http_count_status(w, s->x->log.status);
	hf_http_log_push(w, s);
	if (u != NULL) {
		s->x->up = NULL;
		if ((s->flags & HF_HTTP_S_UP_REUSABLE) && s->rq == HF_HTTP_RQ_DONE && u->tcp != NULL &&
		    u->slot >= 0 &&
		    u->state == HF_HTTP_UP_ACTIVE && u->rd.q.bytes == 0 &&
		    u->tcp->state == HF_TCP_ESTABLISHED && !hf_tls_peer_closed(u->tcp))
			hf_http_idle_push(w->http, u);
		else
			hf_http_up_close(w, u, s->rq != HF_HTTP_RQ_DONE || s->rs != HF_HTTP_RS_DONE);
	}
	stream_end(w, s, false);
	/*
	 * A listener removed after this response promised keep-alive: the client
	 * may send again before it sees the FIN, as with any idle close.
	 */
	if (unlikely(s->lst->draining) && !close && (s->flags & HF_HTTP_S_KEEP_ALIVE) &&
	    s->rq == HF_HTTP_RQ_DONE) {
		HF_COUNT(w, LISTENER_DRAIN_IDLE);
		close = true;
	}
	if (close || !(s->flags & HF_HTTP_S_KEEP_ALIVE) || s->rq != HF_HTTP_RQ_DONE) {
		hf_http_sess_close(w, s);
		return STEP_WAIT;
	}
	s->rq = HF_HTTP_RQ_HEAD;
	s->rs = HF_HTTP_RS_WAIT;
	s->flags = 0;
	hf_http_timer_set(w, s, s->lst->cfg->idle_timeout_ms);
	return STEP_MORE;
}

/* ---- the request ---- */

/* Answers the request whose head (@p head_len bytes) was read, before it went anywhere. */
static int
consume_and_reply(struct hf_worker *w, struct hf_http_session *s, int head_len, int status,
		  enum hf_response_flag flag, const char *details, const char *body, const char *extra)
{
	hf_http_rd_consume(&w->http->heads, &s->rd, (uint32_t)head_len);
	s->rq = s->x->rq_body.framing == HF_HTTP_BODY_NONE ? HF_HTTP_RQ_DONE : HF_HTTP_RQ_BODY;
	return hf_http_local_reply_x(w, s, status, flag, details, body, false, extra);
}

/* The route of request @p msg on @p s's listener (hf_http_route_find()). */
static const struct hf_route *
route_of(const struct hf_worker *w, const struct hf_http_session *s,
	 const struct hf_h1_message *msg, const struct hf_snap_listener **slp,
	 const struct hf_vhost **vhp)
{
	return hf_http_route_find(w->snap, w->snap->scratch[w->id], s->lst->port, msg, slp, vhp);
}

/*
 * The route and cluster a request refused by jwt_authn or RBAC would have
 * taken, for its access-log line and Istio's metrics only: Envoy's connection
 * manager resolves the route before those filters run, so their 401 and 403
 * name the destination. On the refusal path alone: a request that passes is
 * routed once, after them (a header jwt_authn wrote may change its route).
 */
static void
label_refused(struct hf_worker *w, struct hf_http_session *s, const struct hf_h1_message *msg)
{
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_listener *sl;
	const struct hf_vhost *vh;
	const struct hf_route *r = route_of(w, s, msg, &sl, &vh);
	const struct hf_snap_cluster *cl;

	if (r == NULL)
		return;
	hf_http_copy_str(s->x->log.route, sizeof(s->x->log.route), r->name, strlen(r->name));
	if (r->kind != HF_ROUTE_FORWARD)
		return;
	cl = &snap->clusters[hf_http_route_dest(r)->cluster];
	hf_http_copy_str(s->x->log.cluster, sizeof(s->x->log.cluster), cl->name, strlen(cl->name));
	s->x->cluster_id = cl->id;
}

/*
 * Routes the parsed request @p msg (@p head_len bytes) and sends it on its
 * way. @p norm and @p target: HF_HTTP_TARGET_MAX bytes each for its target
 * normalized and rewritten.
 */
static int
start_request(struct hf_worker *w, struct hf_http_session *s, struct hf_h1_message *msg,
	      int head_len, char *norm, char *target)
{
	static const char allow[] = "allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH\r\n";
	struct hf_http_state *h = w->http;
	const struct hf_snapshot *snap = w->snap;
	const struct hf_snap_listener *sl;
	const struct hf_vhost *vh;
	const struct hf_route *r;
	const struct hf_route_dest *d = NULL;
	const struct hf_snap_cluster *cl;
	const struct hf_snap_endpoint *ep;
	struct hf_http_rq_extra x;
	struct hf_http_wr wr;
	struct hf_http_up *u;
	struct hf_http_shaped shape;
	struct hf_rl_result rlr;
	struct hf_jwt_reply jwt;
	char extra[512];
	size_t tlen = 0;
	bool expect, preflight;
	int cors, refuse, built;
	const char *denied;

	if (hf_http_stream_get(h, s) == NULL)
		return hf_http_no_stream(w, s);
	s->minor = msg->minor;
	s->x->service_ms = -1;
	if (msg->flags & HF_H1_F_KEEP_ALIVE) {
		/* Under pressure some connections end after this exchange (overload.h). */
		if (unlikely(hf_overload_act(&w->ovl, HF_OVA_DISABLE_KEEPALIVE)))
			HF_COUNT(w, OVERLOAD_KEEPALIVE_OFF);
		else
			s->flags |= HF_HTTP_S_KEEP_ALIVE;
	}
	s->flags |= msg->method == HF_H1_M_HEAD ? HF_HTTP_S_HEAD : 0;
	s->flags |= (msg->flags & HF_H1_F_UPGRADE) ? HF_HTTP_S_UPGRADE : 0;
	refuse = hf_http_shape_target(w, s, msg, norm, HF_HTTP_TARGET_MAX, &shape);
	if (h->log_ring != NULL) {
		/* The path and authority logged are the ones routed, as Envoy logs :path after normalizing. */
		s->flags |= HF_HTTP_S_LOG;
		hf_http_log_request(s, msg);
		if (shape.asterisk)
			hf_http_copy_str(s->x->log.path, sizeof(s->x->log.path), "*", 1);
	}
	hf_http_set_framing(&s->x->rq_body, msg);
	/* Stopped lazily (timer.h): the route's timeout is most often armed again below. */
	hf_timer_stop_lazy(&s->timer);
	if (refuse != 0) {
		/*
		 * The connection closes after the answer: a refused CONNECT's client may
		 * already be sending the tunnel's bytes, which are no next request.
		 */
		hf_http_rd_consume(&h->heads, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return hf_http_local_reply_x(w, s, refuse, refuse == 405 ? HF_RF_NONE : HF_RF_DPE, shape.why,
				     shape.why, true, refuse == 405 ? allow : NULL);
	}
	if (unlikely(hf_overload_act(&w->ovl, HF_OVA_SHED_REQUESTS))) {
		/* Shed before routing spends anything on it (Envoy's stop_accepting_requests). */
		HF_COUNT(w, OVERLOAD_RQ_SHED);
		return consume_and_reply(w, s, head_len, 503, HF_RF_OM, "overload", "envoy overloaded",
					 NULL);
	}
	/* RequestAuthentication before routing, as Envoy's jwt_authn runs before the router */
	refuse = hf_jwt_request(w, msg, hf_tls_of(s->down) != NULL, &jwt);
	if (unlikely(refuse != 0)) {
		label_refused(w, s, msg);
		return consume_and_reply(w, s, head_len, refuse, HF_RF_NONE, jwt.details, jwt.body,
					 jwt.extra);
	}
	/* AuthorizationPolicy before the route (Envoy's RBAC filter); a delayed request passed it */
	if (snap->authz != NULL && !(s->flags & HF_HTTP_S_FAULT_DONE) &&
	    (denied = hf_http_authz(w, s, msg)) != NULL) {
		label_refused(w, s, msg);
		return consume_and_reply(w, s, head_len, 403, HF_RF_RBAC, denied,
					 "RBAC: access denied", NULL);
	}
	r = route_of(w, s, msg, &sl, &vh);
	if (r == NULL) {
		HF_COUNT(w, HTTP_NO_ROUTE);
		return consume_and_reply(w, s, head_len, 404, HF_RF_NR, "route_not_found", "", NULL);
	}
	/*
	 * A route's name is a NUL-terminated array longer than the record's: its
	 * first bytes are copied whole, without strlen(), and the last one ends
	 * the string as hf_http_copy_str() would cut it.
	 */
	static_assert(sizeof(r->name) >= sizeof(s->x->log.route), "the copy reads inside the name");
	memcpy(s->x->log.route, r->name, sizeof(s->x->log.route) - 1);
	s->x->log.route[sizeof(s->x->log.route) - 1] = '\0';
	cors = hf_http_route_cors(r, msg, extra, sizeof(extra), &preflight);
	if (cors > 0 && preflight) {
		HF_COUNT(w, HTTP_CORS_PREFLIGHT);
		return consume_and_reply(w, s, head_len, 200, HF_RF_NONE, "cors_response", "", extra);
	}
	if (r->kind == HF_ROUTE_DIRECT) {
		HF_COUNT(w, HTTP_DIRECT_RESPONSE);
		return consume_and_reply(w, s, head_len, r->direct_status, HF_RF_NONE,
					 "direct_response", r->direct_body ? r->direct_body : "", NULL);
	}
	if (r->kind == HF_ROUTE_REDIRECT) {
		HF_COUNT(w, HTTP_REDIRECT);
		if (hf_http_route_location(r, msg, extra, sizeof(extra)) == 0)
			return consume_and_reply(w, s, head_len, 500, HF_RF_NONE, "redirect_too_long",
						 "redirect location too long", NULL);
		return consume_and_reply(w, s, head_len, r->redirect_code, HF_RF_NONE,
					 "direct_response", "", extra);
	}
	/*
	 * The destination before the filters that may answer for it (fault, rate limit):
	 * their answers are reported against the route's cluster, as Envoy's are.
	 */
	d = hf_http_route_dest(r);
	cl = &snap->clusters[d->cluster];
	hf_http_copy_str(s->x->log.cluster, sizeof(s->x->log.cluster), cl->name, strlen(cl->name));
	s->x->cluster_id = cl->id;
	if (!(s->flags & HF_HTTP_S_FAULT_DONE)) {
		/* Faults are drawn once per request; a delayed one comes back here after its timer. */
		s->flags |= HF_HTTP_S_FAULT_DONE;
		if (hf_http_chance(r->fault.abort_ppm)) {
			HF_COUNT(w, HTTP_FAULT_ABORT);
			return consume_and_reply(w, s, head_len, r->fault.abort_status, HF_RF_FI,
						 "fault_filter_abort", "fault filter abort", NULL);
		}
		if (hf_http_chance(r->fault.delay_ppm)) {
			HF_COUNT(w, HTTP_FAULT_DELAY);
			s->rq = HF_HTTP_RQ_DELAYED;
			hf_h1_scan_reset(&s->rd.scan);
			hf_http_timer_set(w, s, r->fault.delay_ms);
			return STEP_WAIT;
		}
	}
	/* Local rate limit: Istio inserts envoy.filters.http.local_ratelimit just before the router. */
	if (hf_rl_request(w, sl, vh, r, &rlr) == HF_RL_ENFORCE)
		return consume_and_reply(w, s, head_len, rlr.status, HF_RF_RL, "local_rate_limited",
					 "local_rate_limited", rlr.extra);
	s->x->route_timeout_ms = r->timeout_ms;
	s->x->connect_timeout_ms = cl->connect_timeout_ms;
	s->x->max_body = r->max_request_bytes;
	if (cl->missing) {
		/* Envoy's answer to a route whose cluster does not exist (xDS) */
		HF_COUNT(w, HTTP_NO_CLUSTER);
		hf_http_rd_consume(&h->heads, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return hf_http_local_reply(w, s, 503, HF_RF_NC, "cluster_not_found", "", true);
	}
	if (cl->n_endpoints == 0) {
		HF_COUNT(w, HTTP_NO_HEALTHY);
		hf_http_rd_consume(&h->heads, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return hf_http_local_reply(w, s, 503, HF_RF_UH, "no_healthy_upstream", "no healthy upstream",
				   true);
	}
	if (s->x->max_body != 0 && s->x->rq_body.framing == HF_HTTP_BODY_LENGTH &&
	    s->x->rq_body.remaining > s->x->max_body) {
		HF_COUNT(w, HTTP_DROP_BODY_TOO_LARGE);
		hf_http_rd_consume(&h->heads, &s->rd, (uint32_t)head_len);
		s->rq = HF_HTTP_RQ_BODY;
		return hf_http_local_reply(w, s, 413, HF_RF_NONE, "request_payload_too_large",
				   "Payload Too Large", true);
	}
	/* What the response will need of the route, copied: the route may be gone by then. */
	s->x->rs_edit[0] = '\0';
	{
		size_t elen = 0;

		/* Most routes edit nothing: the calls are for those that do. */
		if ((r->n_rs_ops != 0 && hf_http_edit_add(s->x->rs_edit, &elen, r->rs_ops,
							  r->n_rs_ops) != 0) ||
		    (d->n_rs_ops != 0 && hf_http_edit_add(s->x->rs_edit, &elen, d->rs_ops,
							  d->n_rs_ops) != 0) ||
		    (rlr.x_headers && hf_rl_edit_add(s->x->rs_edit, &elen, &rlr) != 0))
			HF_COUNT(w, HTTP_DROP_EDIT_FULL);
		/* A CORS answer's fields ride along as additions. */
		for (const char *p = cors > 0 ? extra : NULL; p != NULL && *p != '\0';) {
			const char *colon = strchr(p, ':'), *eol = strstr(p, "\r\n");
			char name[64];

			if (colon == NULL || eol == NULL || (size_t)(colon - p) >= sizeof(name))
				break;
			memcpy(name, p, (size_t)(colon - p));
			name[colon - p] = '\0';
			if (hf_http_edit_add_one(s->x->rs_edit, &elen, 'a', name, colon + 2,
						 (size_t)(eol - colon - 2)) != 0) {
				HF_COUNT(w, HTTP_DROP_EDIT_FULL);
				break;
			}
			p = eol + 2;
		}
		s->x->rs_edit_len = (uint16_t)elen;
	}
	if (!shape.asterisk && (r->rewrite_uri != NULL || r->rewrite_re != NULL)) {
		tlen = hf_http_route_target(r, snap->re_match[w->id], msg->target.p, msg->target.len,
					    target, HF_HTTP_TARGET_MAX);
		if (tlen == 0) {
			HF_COUNT(w, HTTP_DROP_REWRITE_TOO_LONG);
			return consume_and_reply(w, s, head_len, 414, HF_RF_NONE,
						 "rewritten_uri_too_long", "rewritten URI too long",
						 NULL);
		}
	}

	/* The head to forward is written now: msg's slices die with the consume below. */
	x = (struct hf_http_rq_extra){
		.client_addr = s->down->raddr,
		.https = hf_tls_of(s->down) != NULL,
		.http10 = msg->minor == 0,
		.upgrade = (s->flags & HF_HTTP_S_UPGRADE) != 0,
		.request_id = s->x->log.request_id,
		.xff = s->x->log.xff,
		.xff_len = sizeof(s->x->log.xff),
		.target = tlen > 0 ? target : NULL,
		.target_len = (uint32_t)tlen,
		.asterisk = shape.asterisk,
		.authority = r->rewrite_authority,
		.authority_len = r->rewrite_authority != NULL ? (uint32_t)strlen(r->rewrite_authority) : 0,
		.ops = {r->rq_ops, d->rq_ops},
		.n_ops = {r->n_rq_ops, d->n_rq_ops},
		.limits = &s->lst->cfg->limits,
	};
	/* Plaintext: no certificate to describe, whatever the listener's mode. */
	if (hf_tls_runs(s->down))
		x.xfcc = hf_http_xfcc(s, sl, &x.xfcc_len);
	if (x.authority == NULL && shape.absolute) {
		/* The authority routed on is the one the upstream gets. */
		x.authority = msg->host.p;
		x.authority_len = msg->host.len;
	}
	hf_http_wr_init_port(&wr, w, &w->ports[s->down->port]);
	built = hf_http_build_request(&wr, msg, &x);
	if (built < 0) {
		/*
		 * The route made the head too long for the limits the client's had to
		 * keep (a rewrite, header operations, the fields added): refused here,
		 * as Envoy refuses a header map its filters grew past them.
		 */
		hf_http_wr_discard(&wr);
		HF_COUNT(w, HTTP_DROP_REWRITE_TOO_LONG);
		if (built == -ENAMETOOLONG)
			return consume_and_reply(w, s, head_len, 414, HF_RF_NONE,
						 "rewritten_uri_too_long", "rewritten URI too long",
						 NULL);
		return consume_and_reply(w, s, head_len, 431, HF_RF_NONE,
					 "rewritten_headers_too_large",
					 "rewritten request headers too large", NULL);
	}
	expect = msg->flags & HF_H1_F_EXPECT_CONTINUE;
	/* A mirror would send "OPTIONS /": the asterisk stays with the route's own upstream. */
	if (r->mirror_cluster >= 0 && !shape.asterisk && hf_http_chance(r->mirror_ppm))
		hf_http_mirror(w, s, msg, &snap->clusters[r->mirror_cluster], r->mirror_cluster);

	hf_http_rd_consume(&h->heads, &s->rd, (uint32_t)head_len);
	s->rq = s->x->rq_body.framing == HF_HTTP_BODY_NONE ? HF_HTTP_RQ_DONE : HF_HTTP_RQ_BODY;
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return hf_http_local_reply(w, s, 503, HF_RF_NONE, "no_mbuf", "out of buffers", true);
	}
	ep = hf_http_pick_endpoint(h, cl, d->cluster, &s->x->ep_slot);
	u = hf_http_upstream_for(w, s, cl, ep, s->x->ep_slot);
	if (u == NULL) {
		s->x->ep_slot = -1;
		if (s->x->cb_overflow == HF_CB_WAIT)
			goto queued;	/* its cluster's next connection takes it (http_pool.c) */
		hf_http_wr_discard(&wr);
		if (s->x->cb_overflow != 0)
			return hf_http_local_reply(w, s, 503, HF_RF_UO, HF_HTTP_UO_DETAILS,
						   HF_HTTP_UO_BODY, true);
		HF_COUNT(w, HTTP_UPSTREAM_FAIL);
		return hf_http_local_reply(w, s, 503, HF_RF_UF, "upstream_reset_before_response_started",
				   "upstream connect error or disconnect/reset before headers. "
				   "reset reason: local resource exhaustion", true);
	}
	if (s->x->ep_slot >= 0)
		h->active[s->x->ep_slot]++;
	s->x->up = u;
	s->x->log.up_addr = ep->addr;
	s->x->log.up_port = ep->port;
	s->x->log.up_laddr = u->tcp->laddr;
	s->x->log.up_lport = u->tcp->lport;
	HF_COUNT(w, HTTP_UPSTREAM_RQ);
queued:
	s->rs = HF_HTTP_RS_WAIT;
	if (expect && s->rq == HF_HTTP_RQ_BODY) {
		struct hf_http_wr cont;
		static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";

		hf_http_wr_init_port(&cont, w, &w->ports[s->down->port]);
		hf_http_wr_put(&cont, line, sizeof(line) - 1);
		if (!cont.failed) {
			hf_tls_send(w, s->down, cont.head);
			HF_COUNT(w, HTTP_CONTINUE);
		} else {
			hf_http_wr_discard(&cont);
		}
	}
	/* A bodiless request can be sent again: keep a copy while its policy allows retries. */
	if (r->retry.attempts > 0 && s->rq == HF_HTTP_RQ_DONE) {
		struct rte_mbuf *copy = hf_http_chain_clone(w, wr.head);

		if (copy != NULL) {
			hf_http_mq_append(&s->x->retry_head, copy);
			s->x->retries_left = (uint8_t)RTE_MIN(r->retry.attempts, 255u);
			s->x->retry_on = r->retry.on;
			s->x->per_try_ms = r->retry.per_try_timeout_ms;
			s->x->n_retry_codes = (uint8_t)RTE_MIN(r->retry.n_codes, RTE_DIM(s->x->retry_codes));
			memcpy(s->x->retry_codes, r->retry.codes,
			       sizeof(s->x->retry_codes[0]) * s->x->n_retry_codes);
		} else {
			HF_COUNT(w, HTTP_DROP_NO_MBUF);
		}
	} else if (s->rq == HF_HTTP_RQ_DONE && u != NULL && u->state == HF_HTTP_UP_ACTIVE &&
		   w->now - u->idle_tsc >= STALE_RISK_MS * h->tsc_per_ms) {
		struct rte_mbuf *copy = hf_http_chain_clone(w, wr.head);

		if (copy != NULL) {
			hf_http_mq_append(&s->x->retry_head, copy);
			s->x->stale_retry = true;
		}
	}
	s->x->sent_tsc = w->now;
	if (u != NULL && u->state == HF_HTTP_UP_ACTIVE)
		hf_tls_send(w, u->tcp, wr.head);
	else
		hf_http_mq_append(&s->x->pending, wr.head);
	/* A queued request's route timeout runs while it waits, its body or not (504 UT). */
	if (s->rq == HF_HTTP_RQ_DONE || u == NULL)
		hf_http_timer_set(w, s, s->x->per_try_ms != 0 ? s->x->per_try_ms : s->x->route_timeout_ms);
	return STEP_MORE;
}

void
hf_http_resume(struct hf_worker *w, struct hf_http_session *s)
{
	drive(w, s);
}

/*
 * start_request() with buffers on its own stack, for a routing that would
 * start while another holds the worker's (a callback of the first reaching a
 * second session's head): none is known to, and this keeps one correct if it
 * ever does.
 */
static __attribute__((noinline)) int
start_request_nested(struct hf_worker *w, struct hf_http_session *s, struct hf_h1_message *msg,
		     int head_len)
{
	char norm[HF_HTTP_TARGET_MAX], target[HF_HTTP_TARGET_MAX];

	return start_request(w, s, msg, head_len, norm, target);
}

/* RQ_HEAD: reads and parses a request head. */
static int
read_request(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_h1_message msg;
	int rc;

	/* The next request waits until the answers before it have room to go (pipelining). */
	if (!hf_tcp_writable(w->tcp, s->down))
		return STEP_WAIT;
	hf_http_rd_pull(w, &s->rd, s->down, h->heads.size);
	if (s->rd.q.bytes == 0) {
		if (hf_tls_peer_closed(s->down)) {
			hf_http_sess_close(w, s);
			return STEP_WAIT;
		}
		return STEP_WAIT;
	}
	rc = hf_http_rd_head(&h->heads, &s->rd, true, &s->lst->cfg->limits, &msg);
	if (!(s->flags & HF_HTTP_S_GOT_BYTES)) {
		s->flags |= HF_HTTP_S_GOT_BYTES;
		s->start_tsc = w->now;
		/*
		 * The header timeout runs only for a head still to come: one read
		 * whole is routed at once, and start_request() (or the answer to a
		 * bad one) cancels the idle timer, still the one set.
		 */
		if (rc == HF_AGAIN)
			hf_http_timer_set(w, s, s->lst->cfg->request_headers_timeout_ms);
	}
	if (rc == HF_AGAIN) {
		if (hf_tls_peer_closed(s->down)) {
			/* The client gave up in the middle of a head: nothing to answer. */
			hf_http_sess_close(w, s);
		}
		return STEP_WAIT;
	}
	if (rc == -ENOBUFS) {
		HF_COUNT(w, HTTP_DROP_NO_BUFFER);
		return hf_http_connection_reply(w, s, 503, HF_RF_NONE, "no_head_buffer",
						"out of head buffers");
	}
	if (rc < 0)
		return hf_http_parse_error(w, s, rc);
	if (unlikely(h->route_buf.in_use))
		return start_request_nested(w, s, &msg, rc);
	h->route_buf.in_use = true;
	rc = start_request(w, s, &msg, rc, h->route_buf.norm, h->route_buf.target);
	h->route_buf.in_use = false;
	return rc;
}

/* ---- the response ---- */

/* RS_WAIT: reads the upstream's response head and sends ours downstream. */
static int
read_response(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_state *h = w->http;
	struct hf_http_up *u = s->x->up;
	struct hf_h1_message msg;
	struct hf_http_wr wr;
	bool keep;
	int rc;

	if (u->tcp != NULL)
		hf_http_rd_pull(w, &u->rd, u->tcp, h->heads.size);
	if (u->rd.q.bytes == 0) {
		if (u->tcp == NULL || hf_tls_peer_closed(u->tcp))
			return hf_http_upstream_failed(w, s, HF_RF_UC);
		return STEP_WAIT;
	}
	rc = hf_http_rd_head(&h->heads, &u->rd, false, &h->up_limits, &msg);
	if (rc == HF_AGAIN) {
		if (u->tcp == NULL || hf_tls_peer_closed(u->tcp))
			return hf_http_upstream_failed(w, s, HF_RF_UC);
		return STEP_WAIT;
	}
	if (rc == -ENOBUFS) {
		HF_COUNT(w, HTTP_DROP_NO_BUFFER);
		return hf_http_local_reply(w, s, 503, HF_RF_NONE, "no_head_buffer", "out of head buffers",
				   true);
	}
	if (rc < 0 || (msg.status == 101 && !(s->flags & HF_HTTP_S_UPGRADE))) {
		HF_COUNT(w, HTTP_DROP_UPSTREAM_PROTOCOL);
		return hf_http_local_reply(w, s, 502, HF_RF_UPE, "upstream_protocol_error",
				   "upstream protocol error", true);
	}
	if (msg.status < 200 && msg.status != 101) {
		/* An interim answer (100 Continue, 103): ours was sent already; drop it. */
		hf_http_rd_consume(&h->heads, &u->rd, (uint32_t)rc);
		return STEP_MORE;
	}
	hf_http_outlier_report(w, s, hf_od_classify(msg.status));
	if (hf_http_retriable(s, msg.status, 0)) {
		/* This answer is dropped with its connection; the request goes again. */
		hf_http_rd_consume(&h->heads, &u->rd, (uint32_t)rc);
		return hf_http_retry(w, s, 503, HF_RF_UC, "upstream_reset_before_response_started",
			     "retries exhausted");
	}
	s->x->service_ms = (int32_t)((w->now - s->x->sent_tsc) / h->tsc_per_ms);
	hf_http_set_framing(&s->x->rs_body, &msg);
	if ((s->flags & HF_HTTP_S_HEAD) || msg.status == 204 || msg.status == 304 ||
	    msg.status == 101)
		s->x->rs_body.framing = HF_HTTP_BODY_NONE;
	else if (!(msg.flags & (HF_H1_F_CHUNKED | HF_H1_F_HAS_BODY_LENGTH)))
		s->x->rs_body.framing = HF_HTTP_BODY_CLOSE;
	if ((msg.flags & HF_H1_F_KEEP_ALIVE) && s->x->rs_body.framing != HF_HTTP_BODY_CLOSE)
		s->flags |= HF_HTTP_S_UP_REUSABLE;
	/*
	 * A body that ends with the connection ends the downstream connection too;
	 * so does a listener the configuration removed: its response in flight
	 * says "connection: close" and the connection ends after it.
	 */
	if (s->x->rs_body.framing == HF_HTTP_BODY_CLOSE || hf_tls_peer_closed(s->down) ||
	    s->lst->draining)
		s->flags &= ~HF_HTTP_S_KEEP_ALIVE;
	keep = s->flags & HF_HTTP_S_KEEP_ALIVE;
	hf_http_wr_init_port(&wr, w, &w->ports[s->down->port]);
	hf_http_build_response(&wr, &msg, keep, s->minor == 0, s->x->service_ms,
			       s->x->rs_edit_len > 0 ? s->x->rs_edit : NULL);
	hf_http_rd_consume(&h->heads, &u->rd, (uint32_t)rc);
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return hf_http_local_reply(w, s, 503, HF_RF_NONE, "no_mbuf", "out of buffers", true);
	}
	hf_tls_send(w, s->down, wr.head);
	s->flags |= HF_HTTP_S_RESPONDED;
	hf_http_set_result(s, msg.status, HF_RF_NONE, "via_upstream");
	if (msg.status == 101)
		return hf_http_start_tunnel(w, s);
	s->rs = HF_HTTP_RS_BODY;
	return STEP_MORE;
}

/* ---- upgrades: a byte tunnel both ways ---- */

/* ---- driving a session ---- */

static int
drive(struct hf_worker *w, struct hf_http_session *s)
{
	for (;;) {
		bool progress = false;
		int rc = STEP_WAIT;

		switch (s->rq) {
		case HF_HTTP_RQ_HEAD:
			rc = read_request(w, s);
			if (rc != STEP_MORE)
				return rc;
			continue;
		case HF_HTTP_RQ_TUNNEL:
			return hf_http_pump_tunnel(w, s);
		case HF_HTTP_RQ_CLOSING: {
			struct rte_mbuf *m;

			/* Answered and closing: whatever else the client sends is dropped. */
			while ((m = hf_tcp_recv(w, s->down, UINT32_MAX)) != NULL)
				rte_pktmbuf_free(m);
			return STEP_WAIT;
		}
		case HF_HTTP_RQ_BODY:
			rc = hf_http_pump_request(w, s);
			if (rc == STEP_GONE)
				return rc;
			progress = rc == STEP_MORE;
			break;
		case HF_HTTP_RQ_DELAYED:
			return STEP_WAIT;
		default:
			break;
		}
		/* A local reply may have ended the exchange. */
		if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
			continue;
		if (s->x->up != NULL && s->x->up->state == HF_HTTP_UP_ACTIVE && s->rs == HF_HTTP_RS_WAIT) {
			rc = read_response(w, s);
			if (rc == STEP_GONE)
				return rc;
			if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
				continue;
			progress = progress || rc == STEP_MORE;
		}
		if (s->x->up != NULL && s->rs == HF_HTTP_RS_BODY) {
			rc = hf_http_pump_response(w, s);
			if (rc == STEP_GONE)
				return rc;
			if (s->rq != HF_HTTP_RQ_BODY && s->rq != HF_HTTP_RQ_DONE)
				continue;
			progress = progress || rc == STEP_MORE;
		}
		if (s->rs == HF_HTTP_RS_DONE) {
			/* Answered before the request body ended: the stream has no known next message. */
			hf_http_exchange_end(w, s, s->rq == HF_HTTP_RQ_BODY);
			continue;
		}
		if (!progress)
			return STEP_WAIT;
	}
}

/* ---- timers ---- */

static void
on_timer(struct hf_timer *t, void *arg)
{
	struct hf_http_session *s = arg;
	struct hf_worker *w = s->lst->http->w;

	(void)t;
	switch (s->rq) {
	case HF_HTTP_RQ_HEAD:
		if (!(s->flags & HF_HTTP_S_GOT_BYTES)) {
			HF_COUNT(w, HTTP_IDLE_TIMEOUT);
			hf_http_sess_close(w, s);
			return;
		}
		HF_COUNT(w, HTTP_DROP_HEADER_TIMEOUT);
		hf_http_connection_reply(w, s, 408, HF_RF_NONE, "request_header_timeout",
					 "request header timeout");
		return;
	case HF_HTTP_RQ_DELAYED:
		/* The fault delay is over: the head, still buffered, is read again and routed. */
		s->rq = HF_HTTP_RQ_HEAD;
		drive(w, s);
		return;
	case HF_HTTP_RQ_BODY:
	case HF_HTTP_RQ_DONE:
		HF_COUNT(w, HTTP_UPSTREAM_TIMEOUT);
		if (s->x->per_try_ms != 0 && hf_http_retriable(s, 0, HF_RETRY_5XX | HF_RETRY_GATEWAY_ERROR |
							  HF_RETRY_RESET)) {
			hf_http_retry(w, s, 504, HF_RF_UT, "upstream_per_try_timeout", "upstream request timeout");
			return;
		}
		if (s->flags & HF_HTTP_S_RESPONDED) {
			hf_http_sess_reset(w, s, HF_RF_UT);
			return;
		}
		hf_http_local_reply(w, s, 504, HF_RF_UT, "upstream_response_timeout", "upstream request timeout",
			    true);
		return;
	default:
		return;
	}
}

/* ---- TCP callbacks: downstream ---- */

static int
down_accepted(struct hf_worker *w, struct hf_tcp_conn *c, void *lctx)
{
	struct hf_http_listener *l = lctx;
	struct hf_http_session *s = sess_alloc(w->http);

	HF_COUNT(w, HTTP_DOWNSTREAM_CX);
	if (s == NULL) {
		HF_COUNT(w, HTTP_DROP_NO_SESSION);
		return -ENOBUFS;
	}
	s->down = c;
	s->lst = l;
	w->http->lst_sessions[l - w->http->listeners]++;
	hf_timer_init(&s->timer, on_timer, s);
	hf_tls_set_ctx(c, s);
	hf_http_timer_set(w, s, l->cfg->idle_timeout_ms);
	return 0;
}

static void
down_event(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_session *s = hf_tls_ctx(c);

	if (s != NULL)
		drive(w, s);
}

static void
down_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_http_session *s = hf_tls_ctx(c);

	if (s == NULL)
		return;
	if (s->x != NULL && !s->x->reported) {
		/* The client went away with its request unanswered. */
		s->x->log.flag = HF_RF_DC;
		hf_http_log_push(w, s);
	}
	s->down = NULL;
	hf_tls_set_ctx(c, NULL);
	if (s->x != NULL && s->x->up != NULL && s->rq == HF_HTTP_RQ_TUNNEL && err == 0) {
		/* A tunnel ended cleanly from the client's side: let the upstream finish too. */
		hf_http_up_close(w, s->x->up, false);
		s->x->up = NULL;
	}
	sess_free(w, s);
}

/* ---- TCP callbacks: upstream ---- */

static void
up_connected(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_up *u = hf_tls_ctx(c);
	struct hf_http_session *s = u->sess;

	if (u->state == HF_HTTP_UP_MIRROR) {
		struct rte_mbuf *m = u->rd.q.head;

		u->rd.q.head = u->rd.q.tail = NULL;
		u->rd.q.bytes = 0;
		if (m != NULL)
			hf_tls_send(w, c, m);
		return;
	}
	if (u->state != HF_HTTP_UP_CONNECTING || s == NULL)
		return;
	u->state = HF_HTTP_UP_ACTIVE;
	u->tcp = c;
	hf_http_cb_connected(w, u);
	s->x->log.transport_failure = NULL;	/* a retry got through: no failure to report */
	s->x->log.up_laddr = c->laddr;
	s->x->log.up_lport = c->lport;
	if (s->x->pending.head != NULL) {
		struct rte_mbuf *m = s->x->pending.head;

		s->x->pending.head = s->x->pending.tail = NULL;
		s->x->pending.bytes = 0;
		s->x->sent_tsc = w->now;
		hf_tls_send(w, c, m);
	}
	drive(w, s);
}

static void
up_event(struct hf_worker *w, struct hf_tcp_conn *c)
{
	struct hf_http_up *u = hf_tls_ctx(c);
	struct rte_mbuf *m;

	switch (u->state) {
	case HF_HTTP_UP_ACTIVE:
		drive(w, u->sess);
		return;
	case HF_HTTP_UP_IDLE:
		/*
		 * Nothing was asked: an idle upstream that talks cannot be trusted with a
		 * request. Over TLS only application data counts: a TLS 1.3 server's
		 * NewSessionTicket after the handshake is taken by OpenSSL in there.
		 */
		if ((m = hf_tls_recv(w, c, UINT32_MAX)) != NULL) {
			rte_pktmbuf_free(m);
			HF_COUNT(w, HTTP_DROP_UNSOLICITED);
			hf_http_idle_remove(w->http, u);
			hf_http_up_close(w, u, true);
		} else if (hf_tls_peer_closed(c)) {
			HF_COUNT(w, HTTP_UPSTREAM_IDLE_CLOSED);
			hf_http_idle_remove(w->http, u);
			hf_http_up_close(w, u, false);
		}
		return;
	case HF_HTTP_UP_CLOSING:
	case HF_HTTP_UP_MIRROR:
		/* Nobody waits for these bytes; the upstream closes after its answer. */
		while ((m = hf_tls_recv(w, c, UINT32_MAX)) != NULL)
			rte_pktmbuf_free(m);
		if (u->state == HF_HTTP_UP_MIRROR && hf_tls_peer_closed(c)) {
			u->state = HF_HTTP_UP_CLOSING;
			hf_tls_shutdown(w, c);
		}
		return;
	default:
		return;
	}
}

static void
up_closed(struct hf_worker *w, struct hf_tcp_conn *c, int err)
{
	struct hf_http_up *u = hf_tls_ctx(c);
	struct hf_http_session *s = u->sess;

	switch (u->state) {
	case HF_HTTP_UP_IDLE:
		HF_COUNT(w, HTTP_UPSTREAM_IDLE_CLOSED);
		hf_http_idle_remove(w->http, u);
		hf_http_up_free(w->http, u);
		return;
	case HF_HTTP_UP_CLOSING:
	case HF_HTTP_UP_MIRROR:
		hf_http_up_free(w->http, u);
		return;
	case HF_HTTP_UP_CONNECTING:
		u->tcp = NULL;
		s->x->up = NULL;
		hf_http_up_free(w->http, u);
		hf_http_mq_free(&s->x->pending);
		/* %UPSTREAM_TRANSPORT_FAILURE_REASON%: why TLS origination failed, if it did */
		s->x->log.transport_failure = hf_tls_failure_reason(c);
		hf_http_upstream_failed(w, s, HF_RF_UF);
		return;
	default:
		break;
	}
	/* ACTIVE: keep what it sent; the connection itself is gone after this call. */
	if (err == 0)
		hf_http_rd_pull(w, &u->rd, c, UINT32_MAX);
	u->tcp = NULL;
	if (err != 0) {
		if (s->rq == HF_HTTP_RQ_TUNNEL) {
			hf_http_sess_reset(w, s, HF_RF_UR);
			return;
		}
		hf_http_upstream_failed(w, s, HF_RF_UC);
		return;
	}
	drive(w, s);
}

const struct hf_tcp_ops hf_http_down_ops = {
	.accepted = down_accepted,
	.readable = down_event,
	.writable = down_event,
	.closed = down_closed,
};

const struct hf_tcp_ops hf_http_up_ops = {
	.connected = up_connected,
	.readable = up_event,
	.writable = up_event,
	.closed = up_closed,
};
