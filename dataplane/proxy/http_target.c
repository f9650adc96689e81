/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request target in the one shape routing and the upstream both see:
 * origin-form, absolute-form (its authority is the Host), asterisk-form and
 * CONNECT, and the path normalized as the listener says (dataplane/http/path.h).
 */
#include "dataplane/http/path.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/worker.h"

int
hf_http_shape_target(struct hf_worker *w, const struct hf_http_session *s, struct hf_h1_message *msg,
		     char *buf, uint32_t cap, struct hf_http_shaped *out)
{
	/* A delayed request (fault injection) comes back here: count it once. */
	bool first = !(s->flags & HF_HTTP_S_FAULT_DONE);
	struct hf_h1_target t;
	int n;

	*out = (struct hf_http_shaped){0};
	switch (hf_h1_target_parse(msg->method, &msg->target, &t)) {
	case HF_H1_TARGET_ORIGIN:
		break;
	case HF_H1_TARGET_ABSOLUTE:
		out->absolute = true;
		if (msg->method == HF_H1_M_OPTIONS && t.path.len == 0) {
			/* RFC 9112 3.2.4: the last proxy sends "OPTIONS http://h" as "OPTIONS *". */
			if (first)
				HF_COUNT(w, HTTP_ABSOLUTE_FORM);
			msg->host = t.authority;
			out->asterisk = true;
			msg->target = (struct hf_h1_slice){"/", 1};
			return 0;
		}
		break;
	case HF_H1_TARGET_ASTERISK:
		if (msg->method != HF_H1_M_OPTIONS) {
			HF_COUNT(w, HTTP_DROP_ASTERISK);
			out->why = "asterisk_form_not_options";
			return 400;
		}
		out->asterisk = true;
		msg->target = (struct hf_h1_slice){"/", 1};
		return 0;
	case HF_H1_TARGET_AUTHORITY:
		HF_COUNT(w, HTTP_DROP_CONNECT);
		out->why = "connect_not_allowed";
		return 405;
	default:
		HF_COUNT(w, HTTP_DROP_BAD_TARGET);
		out->why = "invalid_request_target";
		return 400;
	}
	n = hf_path_normalize(s->lst->cfg->path_normalization, t.path.p, t.path.len, buf, cap);
	if (n == HF_PATH_E_SPACE) {
		HF_COUNT(w, HTTP_DROP_PATH_TOO_LONG);
		out->why = "normalized_path_too_long";
		return 414;
	}
	if (n < 0) {
		HF_COUNT(w, HTTP_DROP_BAD_PATH);
		out->why = n == HF_PATH_E_NUL ? "path_has_nul" : "path_bad_percent_encoding";
		return 400;
	}
	if (first && out->absolute)
		HF_COUNT(w, HTTP_ABSOLUTE_FORM);
	if (n > 0) {
		if (first)
			HF_COUNT(w, HTTP_PATH_NORMALIZED);
		t.path = (struct hf_h1_slice){buf, (uint32_t)n};
	}
	msg->target = t.path;
	if (out->absolute)
		msg->host = t.authority;
	return 0;
}
