/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ADS, incremental ("delta") variant, per Envoy's "xDS REST and gRPC
 * protocol" (section "Incremental xDS"): DeltaAggregatedResources.
 *  - A stream opens one subscription per type: listeners and clusters by
 *    wildcard (the first request names nothing: the legacy wildcard every
 *    server knows), route configurations and assignments by the names
 *    referenced. Every first request carries initial_resource_versions, the
 *    version of each resource held, so a server need only send what changed
 *    while the stream was down.
 *  - A response carries resources each with its own version, and
 *    removed_resources. It is taken whole or not at all, as in the state of
 *    the world: the ACK is a request with its nonce; the NACK adds
 *    error_detail (INVALID_ARGUMENT) naming the resource and the field, and
 *    nothing of the response is taken.
 *  - A name subscribed that the server lists in removed_resources does not
 *    exist ("Knowing when a requested resource does not exist"): the
 *    listener or cluster waiting for it stops waiting (build.c).
 *  - When the references change, one request subscribes to the new names
 *    and unsubscribes the old.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/ads-int.h"

/*
 * Sends a DeltaDiscoveryRequest of type @p t: names to (un)subscribe, with
 * initial_resource_versions when @p initial, an ACK or NACK when @p nonce is
 * given (with @p error for a NACK).
 */
static int
send_delta(struct hf_xds *x, enum hf_xds_type t, char **sub, unsigned int n_sub, char **unsub,
           unsigned int n_unsub, bool initial, const char *nonce, const char *error)
{
	Envoy__Service__Discovery__V3__DeltaDiscoveryRequest rq =
	        ENVOY__SERVICE__DISCOVERY__V3__DELTA_DISCOVERY_REQUEST__INIT;
	Envoy__Service__Discovery__V3__DeltaDiscoveryRequest__InitialResourceVersionsEntry
	        *ent = NULL,
	        **pent = NULL;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	const struct sub *s = &x->s[t];
	unsigned int n_ent = 0;
	uint8_t *buf = NULL;
	size_t n;
	int rc = -ENOMEM;

	if (!hf_grpc_is_open(x->g))
		return -ENOTCONN;
	rq.type_url = (char *)hf_xds_type_url[t];
	rq.resource_names_subscribe = sub;
	rq.n_resource_names_subscribe = n_sub;
	rq.resource_names_unsubscribe = unsub;
	rq.n_resource_names_unsubscribe = n_unsub;
	if (nonce != NULL)
		rq.response_nonce = (char *)nonce;
	if (!x->node_sent)
		rq.node = &x->node.node;
	if (error != NULL) {
		st.code = HF_XDS_CODE_INVALID_ARGUMENT;
		st.message = (char *)error;
		rq.error_detail = &st;
	}
	if (initial && s->n > 0) {
		ent = calloc(s->n, sizeof(*ent));
		pent = calloc(s->n, sizeof(*pent));
		if (ent == NULL || pent == NULL)
			goto out;
		for (unsigned int i = 0; i < s->n; i++) {
			envoy__service__discovery__v3__delta_discovery_request__initial_resource_versions_entry__init(
			        &ent[n_ent]);
			ent[n_ent].key = s->r[i].name;
			ent[n_ent].value = s->r[i].version;
			pent[n_ent] = &ent[n_ent];
			n_ent++;
		}
		rq.initial_resource_versions = pent;
		rq.n_initial_resource_versions = n_ent;
	}
	n = envoy__service__discovery__v3__delta_discovery_request__get_packed_size(&rq);
	buf = malloc(n == 0 ? 1 : n);
	if (buf == NULL)
		goto out;
	envoy__service__discovery__v3__delta_discovery_request__pack(&rq, buf);
	rc = hf_grpc_send(x->g, buf, n);
	if (rc == 0)
		x->node_sent = true;
out:
	free(buf);
	free(ent);
	free(pent);
	return rc;
}

void
hf_xds_delta_open(struct hf_xds *x)
{
	for (enum hf_xds_type t = 0; t < T__N; t++) {
		const struct sub *s = &x->s[t];

		if (t == T_CDS || t == T_LDS)
			send_delta(x, t, NULL, 0, NULL, 0, true, NULL, NULL);
		else if (s->n_names > 0)
			send_delta(x, t, s->names, s->n_names, NULL, 0, true, NULL, NULL);
	}
}

/* The names in @p a not in @p b (both sorted), in a new array of *@p n (pointers into @p a). */
static char **
minus(char **a, unsigned int na, char **b, unsigned int nb, unsigned int *n)
{
	char **v = calloc(na == 0 ? 1 : na, sizeof(*v));

	*n = 0;
	if (v == NULL)
		return NULL;
	for (unsigned int i = 0, j = 0; i < na; i++) {
		int c = 1;

		while (j < nb && (c = strcmp(b[j], a[i])) < 0)
			j++;
		if (j == nb || c != 0)
			v[(*n)++] = a[i];
	}
	return v;
}

/* The references of @p from changed the subscription of @p to: one request says how. */
void
hf_xds_delta_resubscribe(struct hf_xds *x, enum hf_xds_type from, enum hf_xds_type to)
{
	struct sub *s = &x->s[to];
	char **old = NULL, **add, **del;
	unsigned int n_old = 0, n_add, n_del;

	if (!hf_xds_resubscribe(x, from, to, &old, &n_old))
		return;
	add = minus(s->names, s->n_names, old, n_old, &n_add);
	del = minus(old, n_old, s->names, s->n_names, &n_del);
	if (add != NULL && del != NULL && (n_add > 0 || n_del > 0))
		send_delta(x, to, add, n_add, del, n_del, false, NULL, NULL);
	free(add);
	free(del);
	hf_xds_names_free(old, n_old);
}

static void
on_delta(struct hf_xds *x, const Envoy__Service__Discovery__V3__DeltaDiscoveryResponse *rs)
{
	char err[HF_XDS_ERR] = "";
	struct res *r;
	unsigned int n = 0, removed = 0;
	size_t fail = 0; /* the resource being read when the response was refused */
	enum hf_xds_type t;
	struct sub *s;

	for (t = 0; t < T__N; t++)
		if (strcmp(rs->type_url, hf_xds_type_url[t]) == 0)
			break;
	if (t == T__N) {
		hf_xds_log("delta response of type %s ignored: not subscribed", rs->type_url);
		return;
	}
	s = &x->s[t];
	r = calloc(rs->n_resources == 0 ? 1 : rs->n_resources, sizeof(*r));
	if (r == NULL)
		return;
	for (size_t i = 0; i < rs->n_resources && err[0] == '\0'; i++) {
		const Envoy__Service__Discovery__V3__Resource *dr = rs->resources[i];

		fail = i;
		/* A resource without a body refreshes its TTL only (a heartbeat): nothing changes.
		 */
		if (dr->resource == NULL)
			continue;
		n++;
		if (hf_xds_decode(t, dr->resource, i, &r[n - 1], err, sizeof(err)) != 0)
			break;
		if (dr->name[0] != '\0' && strcmp(dr->name, r[n - 1].name) != 0)
			snprintf(err, sizeof(err), "resources[%zu]: named '%s' but holds %s '%s'",
			         i, dr->name, hf_xds_type_name[t], r[n - 1].name);
		else if (hf_xds_set_str(&r[n - 1].version, dr->version) != 0)
			snprintf(err, sizeof(err), "out of memory");
		for (unsigned int j = 0; j + 1 < n && err[0] == '\0'; j++)
			if (strcmp(r[j].name, r[n - 1].name) == 0)
				snprintf(err, sizeof(err), "%s '%s': sent twice",
				         hf_xds_type_name[t], r[n - 1].name);
	}
	if (err[0] != '\0') {
		hf_xds_one_line(err);
		hf_xds_nacked(s, n > 0 ? r[n - 1].name : NULL,
		              n > 0 ? rs->resources[fail]->version : NULL, err);
		hf_xds_res_clear(r, n);
		free(r);
		hf_xds_log("NACK %s (delta, nonce %s): %s", hf_xds_type_name[t], rs->nonce, err);
		send_delta(x, t, NULL, 0, NULL, 0, false, rs->nonce, err);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		if (hf_xds_store(s, &r[i]) != 0) {
			hf_xds_res_clear(r, n);
			free(r);
			return;
		}
	free(r);
	if (t == T_SDS)
		x->cnt[HF_XDS_CNT_SECRETS] += n;
	for (size_t i = 0; i < rs->n_removed_resources; i++) {
		struct want *w = hf_xds_want(x, t, rs->removed_resources[i]);

		removed += hf_xds_remove(s, rs->removed_resources[i]);
		if (w != NULL && !w->absent)
			hf_xds_log("%s '%s' does not exist: the server says so",
			           hf_xds_type_name[t], rs->removed_resources[i]);
		if (w != NULL)
			w->absent = true;
	}
	hf_xds_set_str(&s->version, rs->system_version_info);
	hf_xds_acked(s);
	x->dirty = true;
	hf_xds_log("ACK %s (delta, nonce %s): %u updated, %u removed, %u held", hf_xds_type_name[t],
	           rs->nonce, n, removed, s->n);
	send_delta(x, t, NULL, 0, NULL, 0, false, rs->nonce, NULL);
	hf_xds_refs_changed(x);
}

void
hf_xds_delta_message(struct hf_xds *x, const uint8_t *data, size_t len)
{
	Envoy__Service__Discovery__V3__DeltaDiscoveryResponse *rs;

	rs = envoy__service__discovery__v3__delta_discovery_response__unpack(NULL, len, data);
	if (rs == NULL) {
		hf_xds_log("a message that is not a DeltaDiscoveryResponse (%zu bytes) ignored",
		           len);
		return;
	}
	hf_grpc_backoff_reset(x->g);
	on_delta(x, rs);
	envoy__service__discovery__v3__delta_discovery_response__free_unpacked(rs, NULL);
}
