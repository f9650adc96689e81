/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP proxy's side of authorization: what a request is made of, as the
 * check (authz.h) reads it, and the counters of its verdict.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "dataplane/proxy/authz.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_authz.h"
#include "dataplane/snapshot.h"
#include "dataplane/worker.h"
#include "tls/tls.h"

/* Each worker's room for a header a policy reads that came in several fields (authz.h). */
static char join_room[HF_MAX_WORKERS][HF_AUTHZ_JOIN_ROOM];
/* Each worker's memory of its last requests' values (authz.h). */
static struct hf_authz_memo memo[HF_MAX_WORKERS];

const char *
hf_http_authz(struct hf_worker *w, const struct hf_http_session *s,
	      const struct hf_h1_message *msg)
{
	const struct hf_authz *az = w->snap->authz;
	const char *q;
	struct hf_authz_result res;
	struct hf_authz_rq rq = {
		.msg = msg,
		.path = msg->target.p,
		.path_len = msg->target.len,
		.src_ip = s->down->raddr,
		.dst_ip = s->down->laddr,
		.dst_port = rte_be_to_cpu_16(s->down->lport),
		.authn = &w->http->authn,
		.join = join_room[w->id],
		.join_cap = sizeof(join_room[0]),
		.memo = &memo[w->id],
	};

	/*
	 * The path as the router reads it: Envoy's url_path leaves the query
	 * out. A short target is scanned in place: memchr()'s call costs more.
	 */
	if (msg->target.len <= 32) {
		for (q = msg->target.p; q < msg->target.p + msg->target.len && *q != '?'; q++)
			;
	} else {
		q = memchr(msg->target.p, '?', msg->target.len);
		if (q == NULL)
			q = msg->target.p + msg->target.len;
	}
	rq.path_len = (uint32_t)(q - msg->target.p);
	if (hf_tls_runs(s->down)) {
		rq.peer = hf_tls_peer_principal(s->down, &rq.peer_len);
		rq.sni = hf_tls_sni_of(s->down);
	}
	hf_authz_check(az, &rq, &res);
	for (uint16_t i = 0; i < res.n_audited && i < RTE_DIM(res.audited); i++)
		hf_authz_hits[w->id].n[res.audited[i]]++;
	if (res.n_audited > 0)
		HF_COUNT(w, RBAC_AUDITED);
	if (!res.denied) {
		if (res.allowed_by != NULL)
			hf_authz_hits[w->id].n[res.slot]++;
		HF_COUNT(w, RBAC_ALLOWED);
		return NULL;
	}
	HF_COUNT(w, RBAC_DENIED);
	if (res.policy == NULL) {
		HF_COUNT(w, RBAC_DENIED_NO_ALLOW);
		return "rbac_access_denied_matched_policy[none]";
	}
	HF_COUNT(w, RBAC_DENIED_DENY);
	hf_authz_hits[w->id].n[res.slot]++;
	return res.rule->details != NULL ? res.rule->details : "rbac_access_denied_matched_policy";
}
