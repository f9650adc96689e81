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
	struct hf_authz_result res;
	struct hf_authz_rq rq;

	/* field by field: the rest of rq (remote) is the check's to fill, when it reads it */
	rq.msg = msg;
	/* the path as the router reads it: Envoy's url_path leaves the query out */
	rq.path = msg->target.p;
	rq.path_len = hf_authz_path_len(msg->target.p, msg->target.len);
	rq.src_ip = s->down->raddr;
	rq.dst_ip = s->down->laddr;
	rq.dst_port = rte_be_to_cpu_16(s->down->lport);
	rq.peer = NULL;
	rq.peer_len = 0;
	rq.sni = NULL;
	rq.authn = &w->http->authn;
	rq.join = join_room[w->id];
	rq.join_cap = sizeof(join_room[0]);
	rq.memo = &memo[w->id];
	rq.remote_done = false;
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
