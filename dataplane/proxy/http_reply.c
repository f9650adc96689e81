/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Answers the HTTP proxy gives from here (Envoy's local replies): to a
 * request it refuses or cannot route, to one whose upstream failed, and to a
 * connection that sent no request it could read (a parse error, a header
 * timeout, no head buffer). Every one goes through the exchange's record, so
 * it is logged and counted as a proxied response is; one refused for want
 * of a stream has no record, and its counter is the trace.
 */
#include <string.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/worker.h"
#include "tls/tls.h"

/*
 * Answers the request from here. A request whose body was not read, or that
 * the parser refused, leaves the stream without a known next message: the
 * connection closes after the reply. Once a response head went downstream
 * only a reset can say something went wrong.
 */
int
hf_http_local_reply_x(struct hf_worker *w, struct hf_http_session *s, int status,
		      enum hf_response_flag flag, const char *details, const char *body, bool close,
		      const char *extra)
{
	struct hf_http_wr wr;

	if (s->flags & HF_HTTP_S_RESPONDED)
		return hf_http_sess_reset(w, s, flag);
	if (s->x->up != NULL) {
		hf_http_up_close(w, s->x->up, true);
		s->x->up = NULL;
	}
	hf_http_mq_free(&s->x->pending);
	/* The listener is draining: this answer says "connection: close" (Envoy's drain close). */
	if (s->rq == HF_HTTP_RQ_BODY || s->rq == HF_HTTP_RQ_HEAD || s->lst->draining)
		close = true;
	hf_http_wr_init_port(&wr, w, &w->ports[s->down->port]);
	hf_http_build_local(&wr, status, body, close, s->flags & HF_HTTP_S_HEAD, extra);
	if (wr.failed) {
		HF_COUNT(w, HTTP_DROP_NO_MBUF);
		hf_http_wr_discard(&wr);
		return hf_http_sess_reset(w, s, flag);
	}
	HF_COUNT(w, HTTP_LOCAL_REPLY);
	s->x->log.bytes_tx = strlen(body);
	hf_tls_send(w, s->down, wr.head);
	s->flags |= HF_HTTP_S_RESPONDED;
	hf_http_set_result(s, status, flag, details);
	s->rs = HF_HTTP_RS_DONE;
	return hf_http_exchange_end(w, s, close);
}

int
hf_http_local_reply(struct hf_worker *w, struct hf_http_session *s, int status,
		    enum hf_response_flag flag, const char *details, const char *body, bool close)
{
	return hf_http_local_reply_x(w, s, status, flag, details, body, close, NULL);
}

/*
 * Refuses a request for want of a stream (http.max_requests in flight): a
 * 503 and the connection closes. There is no stream to log it in; the
 * counter is the record.
 */
int
hf_http_no_stream(struct hf_worker *w, struct hf_http_session *s)
{
	struct hf_http_wr wr;

	HF_COUNT(w, HTTP_DROP_NO_STREAM);
	hf_http_count_status(w, 503);
	hf_http_wr_init_port(&wr, w, &w->ports[s->down->port]);
	hf_http_build_local(&wr, 503, "overloaded", true, false, NULL);
	if (wr.failed)
		hf_http_wr_discard(&wr);
	else
		hf_tls_send(w, s->down, wr.head);
	hf_http_sess_close(w, s);
	return STEP_WAIT;
}

int
hf_http_connection_reply(struct hf_worker *w, struct hf_http_session *s, int status,
			 enum hf_response_flag flag, const char *details, const char *body)
{
	if (hf_http_stream_get(w->http, s) == NULL)
		return hf_http_no_stream(w, s);
	hf_http_log_begin(s, 1);
	if (w->http->log_ring != NULL)
		s->flags |= HF_HTTP_S_LOG;
	return hf_http_local_reply(w, s, status, flag, details, body, true);
}

int
hf_http_parse_error(struct hf_worker *w, struct hf_http_session *s, int rc)
{
	switch (rc) {
	case HF_H1_E_URI_TOO_LONG: HF_COUNT(w, HTTP_DROP_URI_TOO_LONG); break;
	case HF_H1_E_HEADERS_TOO_LARGE: HF_COUNT(w, HTTP_DROP_HEADERS_TOO_LARGE); break;
	case HF_H1_E_SMUGGLING: HF_COUNT(w, HTTP_DROP_SMUGGLING); break;
	case HF_H1_E_VERSION: HF_COUNT(w, HTTP_DROP_VERSION); break;
	default: HF_COUNT(w, HTTP_DROP_BAD_REQUEST); break;
	}
	return hf_http_connection_reply(w, s, hf_h1_error_status(rc), HF_RF_DPE,
					hf_h1_error_name(rc), hf_h1_error_name(rc));
}
