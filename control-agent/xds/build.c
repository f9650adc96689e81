/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resources held, into a model and a snapshot, one resource at a time
 * as Envoy warms them (Envoy's "xDS REST and gRPC protocol", "Resource
 * warming"):
 *  - a cluster whose endpoints come by EDS waits for its
 *    ClusterLoadAssignment, a listener with RDS for its RouteConfiguration;
 *    a resource waiting is left out while everything else is served, and
 *    when it replaces a version that served, that version keeps serving
 *    until the new one is complete (make before break);
 *  - a name the server says does not exist (delta removed_resources), or
 *    not received within the initial fetch timeout (15 s as Envoy's, the
 *    bootstrap's xds.initial_fetch_timeout_ms), stops the wait: the
 *    cluster serves with no endpoint (503 UH), the listener with an empty
 *    route configuration (404 NR);
 *  - a route naming a cluster that is not there (not sent, or warming) does
 *    not refuse the snapshot: the name becomes a cluster marked missing,
 *    which the data plane answers 503 with flag NC ("no cluster"), as
 *    Envoy does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/ads-int.h"

/* Envoy's Cluster.connect_timeout default, for the clusters that stand in for missing ones. */
#define MISSING_CONNECT_TIMEOUT_MS 5000

enum need { NEED_READY, NEED_GONE, NEED_WAIT };

/* Whether what @p ref names (of type @p t) is here, known not to exist, or awaited. */
static enum need
need(struct hf_xds *x, enum hf_xds_type t, const char *ref)
{
	const struct want *w;

	if (ref == NULL || hf_xds_find(&x->s[t], ref) != NULL)
		return NEED_READY;
	w = hf_xds_want(x, t, ref);
	return w != NULL && (w->absent || w->timed_out) ? NEED_GONE : NEED_WAIT;
}

bool
hf_xds_timeouts(struct hf_xds *x)
{
	uint32_t timeout = x->boot->xds.initial_fetch_timeout_ms;
	bool changed = false;

	if (timeout == 0)
		return false; /* as Envoy's 0: wait however long */
	for (enum hf_xds_type t = T_EDS; t < T__N; t++) {
		struct sub *s = &x->s[t];

		if (t != T_EDS && t != T_RDS)
			continue;
		for (unsigned int i = 0; i < s->n_names; i++) {
			struct want *w = &s->want[i];

			if (w->timed_out || w->absent || x->now_ms - w->since_ms < timeout ||
			    hf_xds_find(s, s->names[i]) != NULL)
				continue;
			w->timed_out = true;
			changed = true;
			hf_xds_log("%s '%s' does not exist: not received within %" PRIu32 " ms",
			           hf_xds_type_name[t], s->names[i], timeout);
		}
	}
	return changed;
}

/*
 * The message of resource @p r to serve and what it references: the newest
 * when what it needs is settled (then the version it replaced is freed), the
 * one that served before while the newest waits, else NULL (warming).
 */
/*
 * The first of secrets @p v not held, NULL when all are. A secret never
 * stops the wait: without its certificate a listener has nothing to serve
 * and a cluster nothing to originate with (the initial fetch timeout does
 * not apply, unlike route configurations and assignments).
 */
static const char *
secret_missing(struct hf_xds *x, char **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (hf_xds_find(&x->s[T_SDS], v[i]) == NULL)
			return v[i];
	return NULL;
}

static const ProtobufCMessage *
pick(struct hf_xds *x, struct res *r, enum hf_xds_type dep, const char **ref)
{
	enum need n = need(x, dep, r->ref);
	const char *sec = secret_missing(x, r->sds, r->n_sds);
	struct want *w;

	if (n != NEED_WAIT && sec == NULL) {
		if (r->old_msg != NULL) {
			protobuf_c_message_free_unpacked(r->old_msg, NULL);
			r->old_msg = NULL;
			free(r->old_ref);
			r->old_ref = NULL;
			free(r->old_version);
			r->old_version = NULL;
			hf_xds_names_free(r->old_sds, r->n_old_sds);
			r->old_sds = NULL;
			r->n_old_sds = 0;
		}
		r->served = true;
		*ref = r->ref;
		return r->msg;
	}
	w = n == NEED_WAIT ? hf_xds_want(x, dep, r->ref) : hf_xds_want(x, T_SDS, sec);
	if (w != NULL && !w->logged) {
		w->logged = true;
		hf_xds_log("warming: waiting for %s '%s'%s (%s '%s')",
		           hf_xds_type_name[n == NEED_WAIT ? dep : T_SDS],
		           n == NEED_WAIT ? r->ref : sec,
		           r->old_msg != NULL ? " (the previous version serves meanwhile)" : "",
		           dep == T_RDS ? "Listener" : "Cluster", r->name);
		if (n != NEED_WAIT)
			x->cnt[HF_XDS_CNT_SECRET_WAITS]++;
	}
	if (r->old_msg != NULL && need(x, dep, r->old_ref) != NEED_WAIT &&
	    secret_missing(x, r->old_sds, r->n_old_sds) == NULL) {
		*ref = r->old_ref;
		return r->old_msg;
	}
	return NULL;
}

static int
add_route_config(struct hf_model *m, const char *name)
{
	struct hf_model_route_config *rc =
	        realloc(m->route_configs, (m->n_route_configs + 1) * sizeof(*rc));

	if (rc == NULL)
		return -ENOMEM;
	m->route_configs = rc;
	rc = &m->route_configs[m->n_route_configs];
	memset(rc, 0, sizeof(*rc));
	rc->name = strdup(name);
	if (rc->name == NULL)
		return -ENOMEM;
	m->n_route_configs++;
	return 0;
}

static const Envoy__Extensions__TransportSockets__Tls__V3__Secret *
find_secret(void *ctx, const char *name)
{
	const struct res *r = hf_xds_find(&((struct hf_xds *)ctx)->s[T_SDS], name);

	return r != NULL ? (const void *)r->msg : NULL;
}

/*
 * The model of every resource ready to serve (checked on arrival: errors
 * here are ENOMEM, or a secret of the wrong kind for where it is named).
 */
static int
build_model(struct hf_xds *x, struct hf_model *m, char *err, size_t errlen)
{
	struct sub *cds = &x->s[T_CDS], *lds = &x->s[T_LDS], *rds = &x->s[T_RDS];
	struct hf_xds_sds sds = {.find = find_secret, .ctx = x};
	int rc;

	for (unsigned int i = 0; i < cds->n; i++) {
		const char *ref = NULL;
		const ProtobufCMessage *c = pick(x, &cds->r[i], T_EDS, &ref);
		const struct res *e;
		char *eds = NULL;

		if (c == NULL)
			continue;
		rc = hf_xds_tr_cluster((const void *)c, m, &eds, &sds, err, errlen);
		hf_xds_names_free(sds.names, sds.n);
		sds.names = NULL;
		sds.n = 0;
		if (rc == 0 && ref != NULL && (e = hf_xds_find(&x->s[T_EDS], ref)) != NULL)
			rc = hf_xds_tr_endpoints((const void *)e->msg,
			                         &m->clusters[m->n_clusters - 1], err, errlen);
		free(eds);
		if (rc != 0)
			return rc;
	}
	for (unsigned int i = 0; i < lds->n; i++) {
		const char *want = NULL;
		const ProtobufCMessage *l = pick(x, &lds->r[i], T_RDS, &want);
		char *ref = NULL;
		unsigned int j;

		if (l == NULL)
			continue;
		rc = hf_xds_tr_listener((const void *)l, m, &ref, &sds, err, errlen);
		hf_xds_names_free(sds.names, sds.n);
		sds.names = NULL;
		sds.n = 0;
		if (rc == 0 && ref != NULL) {
			for (j = 0;
			     j < m->n_route_configs && strcmp(m->route_configs[j].name, ref) != 0;
			     j++)
				;
			if (j == m->n_route_configs) {
				const struct res *rr = hf_xds_find(rds, ref);

				/* does not exist: served with no route (404 NR), as Envoy does */
				if (rr == NULL)
					rc = add_route_config(m, ref);
				else if (rr->tr != NULL)
					rc = hf_model_borrow_route_config(m, rr->tr, 0);
				else
					rc = hf_xds_tr_route_config((const void *)rr->msg, m, err,
					                            errlen);
			}
			/* the listener's index may have moved: it is the last one still */
			if (rc == 0)
				m->listeners[m->n_listeners - 1].route_config = (int)j;
		}
		free(ref);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Adds a cluster marked missing named @p name unless @p m has one: 0, 1 added, -ENOMEM. */
static int
missing(struct hf_model *m, const char *name)
{
	struct hf_model_cluster *c;

	if (name == NULL || hf_model_find_cluster(m, name) >= 0)
		return 0;
	c = realloc(m->clusters, (m->n_clusters + 1) * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	m->clusters = c;
	c = &m->clusters[m->n_clusters];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	c->service = strdup(name);
	m->n_clusters++;
	if (c->name == NULL || c->service == NULL)
		return -ENOMEM;
	c->lb = HF_LB_ROUND_ROBIN;
	c->connect_timeout_ms = MISSING_CONNECT_TIMEOUT_MS;
	c->missing = true;
	return 1;
}

/*
 * Every cluster a route or a TCP listener names that @p m lacks becomes one
 * marked missing. Returns how many, or -ENOMEM; *@p first is one of them.
 */
static int
add_missing(struct hf_model *m, unsigned int *first)
{
	int n = 0, rc;

#define MISSING(name)                                                                              \
	do {                                                                                       \
		if ((rc = missing(m, (name))) < 0)                                                 \
			return rc;                                                                 \
		if (rc > 0 && n++ == 0)                                                            \
			*first = m->n_clusters - 1;                                                \
	} while (0)
	for (unsigned int i = 0; i < m->n_route_configs; i++)
		for (unsigned int v = 0; v < m->route_configs[i].n_vhosts; v++) {
			const struct hf_model_vhost *vh = &m->route_configs[i].vhosts[v];

			for (unsigned int r = 0; r < vh->n_routes; r++) {
				const struct hf_model_route *mr = &vh->routes[r];

				if (mr->action != HF_ACTION_ROUTE)
					continue;
				for (unsigned int k = 0; k < mr->n_clusters; k++)
					MISSING(mr->clusters[k].cluster);
				MISSING(mr->mirror_cluster);
			}
		}
	for (unsigned int i = 0; i < m->n_listeners; i++)
		for (unsigned int r = 0; r < m->listeners[i].n_l4_routes; r++)
			for (unsigned int k = 0; k < m->listeners[i].l4_routes[r].n_clusters; k++)
				MISSING(m->listeners[i].l4_routes[r].clusters[k].cluster);
#undef MISSING
	return n;
}

struct hf_snapshot *
hf_xds_build(struct hf_xds *x, uint64_t *version)
{
	struct hf_model m = {0}, xm = {0};
	struct hf_snapshot *snap = NULL;
	unsigned int first = 0;
	char err[HF_XDS_ERR];
	int rc, n_missing = 0;
	unsigned int n_static[3];

	x->dirty = false;
	if (hf_model_from_bootstrap(x->boot, &m) != 0) {
		hf_xds_log("out of memory building the model");
		return NULL;
	}
	n_static[0] = m.n_listeners;
	n_static[1] = m.n_route_configs;
	n_static[2] = m.n_clusters;
	rc = build_model(x, &xm, err, sizeof(err));
	if (rc == 0)
		rc = hf_model_append(&m, &xm);
	if (rc == 0 && (n_missing = add_missing(&m, &first)) < 0)
		rc = n_missing;
	if (rc == -EADDRINUSE)
		snprintf(err, sizeof(err),
		         "a listener's port is also a static_resources listener's");
	else if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
	if (rc == 0 && n_missing != x->n_missing && n_missing > 0)
		hf_xds_log("%d cluster%s named by routes not there (e.g. '%s'): answered 503 NC",
		           n_missing, n_missing == 1 ? "" : "s", m.clusters[first].name);
	if (rc == 0)
		x->n_missing = n_missing;
	if (rc == 0)
		snap = hf_snapshot_compile(&m, *version + 1, x->n_workers, err, sizeof(err));
	if (snap == NULL)
		hf_xds_log("the resources do not compile, snapshot %" PRIu64 " keeps serving: %s",
		           *version, err);
	else {
		hf_model_free(&x->model);
		x->model = m;
		memset(&m, 0, sizeof(m));
		memcpy(x->n_static, n_static, sizeof(n_static));
		++*version;
		hf_xds_log("snapshot %" PRIu64
		           ": %u listeners, %u clusters (CDS %s, EDS %s, LDS %s, RDS %s)",
		           *version, snap->n_listeners, snap->n_clusters, x->s[T_CDS].version,
		           x->s[T_EDS].version, x->s[T_LDS].version, x->s[T_RDS].version);
	}
	hf_model_free(&xm);
	hf_model_free(&m);
	/* A version that served and is now replaced no longer needs what it referenced. */
	hf_xds_refs_changed(x);
	return snap;
}
