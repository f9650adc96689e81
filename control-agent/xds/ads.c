/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ADS, state of the world (xds.h), per Envoy's "xDS REST and gRPC protocol":
 *  - one DiscoveryRequest per type opens its subscription: wildcard (no
 *    names) for listeners and clusters, the referenced names for route
 *    configurations and cluster load assignments; the first request of a
 *    stream carries the node; after a reconnect each carries the version
 *    held, so an up-to-date server need not resend;
 *  - a response is taken whole or not at all: every resource is decoded and
 *    translated on its own first; then the ACK repeats its version_info and
 *    nonce; a NACK repeats the version held and the nonce, with error_detail
 *    (google.rpc.Status INVALID_ARGUMENT) naming the resource and the field;
 *  - listeners and clusters absent from a response are removed (state of the
 *    world); route configurations and assignments are kept while subscribed;
 *  - warming: nothing is built while a listener's route configuration or an
 *    EDS cluster's assignment is missing; the previous snapshot serves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/grpc.h"
#include "control-agent/xds/node.h"
#include "control-agent/xds/translate.h"
#include "control-agent/xds/xds.h"

#define ADS_PATH "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
/* google.rpc.Code INVALID_ARGUMENT */
#define CODE_INVALID_ARGUMENT 3
#define ERR                   512

/* The order the subscriptions open in: clusters before listeners (make before break). */
enum xtype { T_CDS, T_EDS, T_LDS, T_RDS, T__N };

static const char *const type_url[T__N] = {
        [T_CDS] = HF_XDS_CDS,
        [T_EDS] = HF_XDS_EDS,
        [T_LDS] = HF_XDS_LDS,
        [T_RDS] = HF_XDS_RDS,
};
static const char *const type_name[T__N] = {
        [T_CDS] = "Cluster",
        [T_EDS] = "ClusterLoadAssignment",
        [T_LDS] = "Listener",
        [T_RDS] = "RouteConfiguration",
};
static const ProtobufCMessageDescriptor *const type_desc[T__N] = {
        [T_CDS] = &envoy__config__cluster__v3__cluster__descriptor,
        [T_EDS] = &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
        [T_LDS] = &envoy__config__listener__v3__listener__descriptor,
        [T_RDS] = &envoy__config__route__v3__route_configuration__descriptor,
};

struct res {
	char *name;
	ProtobufCMessage *msg;
	char *ref; /* LDS: its RDS name; CDS: its EDS name; else NULL */
};

struct sub {
	char *version; /* version_info of the last accepted response ("" none) */
	char *nonce;   /* of the last response on this stream */
	unsigned int n;
	struct res *r; /* accepted resources, by name */
	unsigned int n_names;
	char **names; /* RDS, EDS: the names subscribed; sorted */
	uint64_t acks, nacks;
};

struct hf_xds {
	const struct hf_bootstrap *boot;
	unsigned int n_workers;
	struct hf_grpc *g;
	struct hf_xds_node node;
	bool node_sent;
	bool dirty; /* accepted resources changed since the last build */
	bool warming_logged;
	struct sub s[T__N];
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One log line; what the control plane sent (names, versions) is made printable first. */
static void
logf_(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hf_xds_one_line(line);
	printf("hydrofoil: xds: %s\n", line);
	fflush(stdout);
}

static const char *
res_name(enum xtype t, const ProtobufCMessage *m)
{
	switch (t) {
	case T_CDS: return ((const Envoy__Config__Cluster__V3__Cluster *)m)->name;
	case T_EDS:
		return ((const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *)m)
		        ->cluster_name;
	case T_LDS: return ((const Envoy__Config__Listener__V3__Listener *)m)->name;
	default: return ((const Envoy__Config__Route__V3__RouteConfiguration *)m)->name;
	}
}

/* Frees what @p n resources hold, not the array. */
static void
res_clear(struct res *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].ref);
		if (r[i].msg != NULL)
			protobuf_c_message_free_unpacked(r[i].msg, NULL);
	}
}

static void
res_free(struct res *r, unsigned int n)
{
	res_clear(r, n);
	free(r);
}

static void
names_free(char **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
send_request(struct hf_xds *x, enum xtype t, const char *error)
{
	Envoy__Service__Discovery__V3__DiscoveryRequest rq =
	        ENVOY__SERVICE__DISCOVERY__V3__DISCOVERY_REQUEST__INIT;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	struct sub *s = &x->s[t];
	uint8_t *buf;
	size_t n;
	int rc;

	if (!hf_grpc_is_open(x->g))
		return -ENOTCONN;
	rq.version_info = s->version;
	rq.type_url = (char *)type_url[t];
	rq.response_nonce = s->nonce;
	rq.n_resource_names = s->n_names;
	rq.resource_names = s->names;
	if (!x->node_sent)
		rq.node = &x->node.node;
	if (error != NULL) {
		st.code = CODE_INVALID_ARGUMENT;
		st.message = (char *)error;
		rq.error_detail = &st;
	}
	n = envoy__service__discovery__v3__discovery_request__get_packed_size(&rq);
	buf = malloc(n == 0 ? 1 : n);
	if (buf == NULL)
		return -ENOMEM;
	envoy__service__discovery__v3__discovery_request__pack(&rq, buf);
	rc = hf_grpc_send(x->g, buf, n);
	free(buf);
	if (rc == 0)
		x->node_sent = true;
	return rc;
}

static int
set_str(char **dst, const char *src)
{
	char *p = strdup(src);

	if (p == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The RDS (from listeners) or EDS (from clusters) names referenced now; when
 * they differ from the subscription, subscribes to them, drops the resources
 * no longer named and returns true.
 */
static bool
resubscribe(struct hf_xds *x, enum xtype from, enum xtype to)
{
	struct sub *f = &x->s[from], *s = &x->s[to];
	char **names = calloc(f->n == 0 ? 1 : f->n, sizeof(char *));
	unsigned int n = 0, k = 0;
	bool same;

	if (names == NULL)
		return false;
	for (unsigned int i = 0; i < f->n; i++) {
		bool seen = false;

		if (f->r[i].ref == NULL)
			continue;
		for (unsigned int j = 0; j < n && !seen; j++)
			seen = strcmp(names[j], f->r[i].ref) == 0;
		if (!seen && (names[n] = strdup(f->r[i].ref)) != NULL)
			n++;
	}
	qsort(names, n, sizeof(char *), cmp_str);
	same = n == s->n_names;
	for (unsigned int i = 0; same && i < n; i++)
		same = strcmp(names[i], s->names[i]) == 0;
	if (same) {
		names_free(names, n);
		return false;
	}
	names_free(s->names, s->n_names);
	s->names = names;
	s->n_names = n;
	/* Resources no longer subscribed go (the protocol's unsubscribe). */
	for (unsigned int i = 0; i < s->n; i++) {
		if (bsearch(&s->r[i].name, names, n, sizeof(char *), cmp_str) != NULL) {
			s->r[k++] = s->r[i];
			continue;
		}
		res_clear(&s->r[i], 1);
	}
	s->n = k;
	return true;
}

/*
 * Translates resource @p m of type @p t alone, to check it: 0, or -EINVAL
 * with @p err. Sets *@p ref to what it references (LDS: RDS name; CDS: EDS).
 */
static int
check(enum xtype t, const ProtobufCMessage *m, char **ref, char *err, size_t errlen)
{
	struct hf_model scratch = {0};
	int rc;

	*ref = NULL;
	switch (t) {
	case T_LDS: rc = hf_xds_tr_listener((const void *)m, &scratch, ref, err, errlen); break;
	case T_RDS: rc = hf_xds_tr_route_config((const void *)m, &scratch, err, errlen); break;
	case T_CDS: rc = hf_xds_tr_cluster((const void *)m, &scratch, ref, err, errlen); break;
	default:
		/* hf_model_free frees the cluster with its endpoints */
		scratch.clusters = calloc(1, sizeof(*scratch.clusters));
		if (scratch.clusters == NULL)
			return -ENOMEM;
		scratch.n_clusters = 1;
		rc = hf_xds_tr_endpoints((const void *)m, &scratch.clusters[0], err, errlen);
		break;
	}
	hf_model_free(&scratch);
	if (rc != 0) {
		free(*ref);
		*ref = NULL;
	}
	return rc;
}

static void
on_response(struct hf_xds *x, const Envoy__Service__Discovery__V3__DiscoveryResponse *rs)
{
	char err[ERR] = "", e2[ERR - 160];
	struct res *r = NULL;
	unsigned int n = 0;
	enum xtype t;
	struct sub *s;

	for (t = 0; t < T__N; t++)
		if (strcmp(rs->type_url, type_url[t]) == 0)
			break;
	if (t == T__N) {
		/* A type never asked for: nothing to ACK or NACK on a stream of ours. */
		logf_("response of type %s ignored: not subscribed", rs->type_url);
		return;
	}
	s = &x->s[t];
	if (set_str(&s->nonce, rs->nonce) != 0)
		return;
	r = calloc(rs->n_resources == 0 ? 1 : rs->n_resources, sizeof(*r));
	if (r == NULL)
		return;
	for (size_t i = 0; i < rs->n_resources && err[0] == '\0'; i++) {
		const Google__Protobuf__Any *a = rs->resources[i];
		ProtobufCMessage *m;
		const char *name;

		if (strcmp(a->type_url, type_url[t]) != 0) {
			snprintf(err, sizeof(err), "resources[%zu]: type %s in a %s response", i,
			         a->type_url, type_name[t]);
			break;
		}
		m = protobuf_c_message_unpack(type_desc[t], NULL, a->value.len, a->value.data);
		if (m == NULL) {
			snprintf(err, sizeof(err), "resources[%zu]: not a valid %s message", i,
			         type_name[t]);
			break;
		}
		r[n].msg = m;
		name = res_name(t, m);
		if (set_str(&r[n].name, name) != 0) {
			n++;
			snprintf(err, sizeof(err), "out of memory");
			break;
		}
		n++;
		if (name[0] == '\0') {
			snprintf(err, sizeof(err), "resources[%zu]: %s without a name", i,
			         type_name[t]);
			break;
		}
		for (unsigned int j = 0; j + 1 < n; j++)
			if (strcmp(r[j].name, name) == 0)
				snprintf(err, sizeof(err), "%s '%s': sent twice", type_name[t],
				         name);
		if (err[0] == '\0' && check(t, m, &r[n - 1].ref, e2, sizeof(e2)) != 0)
			snprintf(err, sizeof(err), "%s '%s': %s", type_name[t], name, e2);
	}
	if (err[0] != '\0') {
		hf_xds_one_line(err);
		res_free(r, n);
		s->nacks++;
		logf_("NACK %s version %s (keeping %s): %s", type_name[t], rs->version_info,
		      s->version[0] != '\0' ? s->version : "none", err);
		send_request(x, t, err);
		return;
	}
	if (t == T_LDS || t == T_CDS) {
		/* state of the world: the response is the whole set */
		res_free(s->r, s->n);
		s->r = r;
		s->n = n;
	} else {
		/* by name: replace or add each, keep the others still subscribed */
		for (unsigned int i = 0; i < n; i++) {
			unsigned int j;

			for (j = 0; j < s->n && strcmp(s->r[j].name, r[i].name) != 0; j++)
				;
			if (j == s->n) {
				struct res *nr = realloc(s->r, (s->n + 1) * sizeof(*nr));

				if (nr == NULL) {
					res_clear(r + i, n - i);
					free(r);
					return;
				}
				s->r = nr;
				s->r[s->n++] = r[i];
				continue;
			}
			res_clear(&s->r[j], 1);
			s->r[j] = r[i];
		}
		free(r);
	}
	set_str(&s->version, rs->version_info);
	s->acks++;
	x->dirty = true;
	logf_("ACK %s version %s (%u resources)", type_name[t], s->version, s->n);
	send_request(x, t, NULL);
	/* New references open or close the dependent subscriptions. */
	if (t == T_LDS && resubscribe(x, T_LDS, T_RDS))
		send_request(x, T_RDS, NULL);
	if (t == T_CDS && resubscribe(x, T_CDS, T_EDS))
		send_request(x, T_EDS, NULL);
}

static void
on_open(void *ctx)
{
	struct hf_xds *x = ctx;

	x->node_sent = false;
	logf_("connected to %s:%u, node %s", x->boot->xds.address, x->boot->xds.port,
	      x->boot->xds.node_id);
	for (enum xtype t = 0; t < T__N; t++) {
		/* A new stream: no nonce yet; the versions held are resent. */
		set_str(&x->s[t].nonce, "");
		if (t == T_CDS || t == T_LDS || x->s[t].n_names > 0)
			send_request(x, t, NULL);
	}
}

static void
on_message(void *ctx, const uint8_t *data, size_t len)
{
	struct hf_xds *x = ctx;
	Envoy__Service__Discovery__V3__DiscoveryResponse *rs;

	rs = envoy__service__discovery__v3__discovery_response__unpack(NULL, len, data);
	if (rs == NULL) {
		logf_("a message that is not a DiscoveryResponse (%zu bytes) ignored", len);
		return;
	}
	hf_grpc_backoff_reset(x->g);
	on_response(x, rs);
	envoy__service__discovery__v3__discovery_response__free_unpacked(rs, NULL);
}

static void
on_close(void *ctx, const char *why)
{
	struct hf_xds *x = ctx;

	(void)x;
	logf_("stream closed (%s); the last configuration keeps serving, reconnecting", why);
}

static const struct hf_grpc_ops ops = {
        .on_open = on_open,
        .on_message = on_message,
        .on_close = on_close,
};

static const struct res *
find(const struct sub *s, const char *name)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (strcmp(s->r[i].name, name) == 0)
			return &s->r[i];
	return NULL;
}

/* A reference still missing (warming), or NULL when everything referenced is here. */
static const char *
warming(const struct hf_xds *x, enum xtype *t)
{
	for (unsigned int i = 0; i < x->s[T_LDS].n; i++) {
		const char *ref = x->s[T_LDS].r[i].ref;

		if (ref != NULL && find(&x->s[T_RDS], ref) == NULL) {
			*t = T_RDS;
			return ref;
		}
	}
	for (unsigned int i = 0; i < x->s[T_CDS].n; i++) {
		const char *ref = x->s[T_CDS].r[i].ref;

		if (ref != NULL && find(&x->s[T_EDS], ref) == NULL) {
			*t = T_EDS;
			return ref;
		}
	}
	return NULL;
}

/* The model of every accepted resource (checked on arrival, so errors here are ENOMEM or
 * references). */
static int
build_model(struct hf_xds *x, struct hf_model *m, char *err, size_t errlen)
{
	const struct sub *cds = &x->s[T_CDS], *lds = &x->s[T_LDS], *rds = &x->s[T_RDS];
	int rc;

	for (unsigned int i = 0; i < cds->n; i++) {
		char *eds = NULL;
		const struct res *e;

		rc = hf_xds_tr_cluster((const void *)cds->r[i].msg, m, &eds, err, errlen);
		if (rc == 0 && eds != NULL && (e = find(&x->s[T_EDS], eds)) != NULL)
			rc = hf_xds_tr_endpoints((const void *)e->msg,
			                         &m->clusters[m->n_clusters - 1], err, errlen);
		free(eds);
		if (rc != 0)
			return rc;
	}
	for (unsigned int i = 0; i < lds->n; i++) {
		char *ref = NULL;
		struct hf_model_listener *ml;

		rc = hf_xds_tr_listener((const void *)lds->r[i].msg, m, &ref, err, errlen);
		if (rc == 0 && ref != NULL) {
			unsigned int j;

			ml = &m->listeners[m->n_listeners - 1];
			for (j = 0;
			     j < m->n_route_configs && strcmp(m->route_configs[j].name, ref) != 0;
			     j++)
				;
			if (j == m->n_route_configs) {
				const struct res *rr = find(rds, ref);

				if (rr == NULL) {
					snprintf(err, errlen, "no route configuration '%s'", ref);
					rc = -ENOENT;
				} else {
					rc = hf_xds_tr_route_config((const void *)rr->msg, m, err,
					                            errlen);
				}
			}
			/* the listener's index may have moved: it is the last one still */
			ml = &m->listeners[m->n_listeners - 1];
			if (rc == 0)
				ml->route_config = (int)j;
		}
		free(ref);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static struct hf_snapshot *
build(struct hf_xds *x, uint64_t *version)
{
	struct hf_model m = {0}, xm = {0};
	struct hf_snapshot *snap = NULL;
	char err[ERR];
	enum xtype wt;
	const char *w = warming(x, &wt);
	int rc;

	if (w != NULL) {
		if (!x->warming_logged)
			logf_("warming: waiting for %s '%s'", type_name[wt], w);
		x->warming_logged = true;
		return NULL;
	}
	x->warming_logged = false;
	x->dirty = false;
	if (hf_model_from_bootstrap(x->boot, &m) != 0) {
		logf_("out of memory building the model");
		return NULL;
	}
	rc = build_model(x, &xm, err, sizeof(err));
	if (rc == 0)
		rc = hf_model_append(&m, &xm);
	if (rc == -EADDRINUSE)
		snprintf(err, sizeof(err),
		         "a listener's port is also a static_resources listener's");
	else if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
	if (rc == 0)
		snap = hf_snapshot_compile(&m, *version + 1, x->n_workers, err, sizeof(err));
	if (snap == NULL)
		logf_("the resources do not compile, snapshot %" PRIu64 " keeps serving: %s",
		      *version, err);
	else {
		++*version;
		logf_("snapshot %" PRIu64
		      ": %u listeners, %u clusters (CDS %s, EDS %s, LDS %s, RDS %s)",
		      *version, snap->n_listeners, snap->n_clusters, x->s[T_CDS].version,
		      x->s[T_EDS].version, x->s[T_LDS].version, x->s[T_RDS].version);
	}
	hf_model_free(&xm);
	hf_model_free(&m);
	return snap;
}

struct hf_snapshot *
hf_xds_poll(struct hf_xds *x, uint64_t now_ms, uint64_t *version)
{
	hf_grpc_poll(x->g, now_ms);
	return x->dirty ? build(x, version) : NULL;
}

void
hf_xds_request_rebuild(struct hf_xds *x)
{
	x->dirty = true;
}

struct hf_xds *
hf_xds_open(const struct hf_bootstrap *b, unsigned int n_workers, char *err, size_t errlen)
{
	struct hf_xds *x = calloc(1, sizeof(*x));
	char authority[HF_BOOT_STR + 8];

	if (x == NULL)
		goto fail;
	x->boot = b;
	x->n_workers = n_workers;
	hf_xds_node_init(&x->node, b);
	for (enum xtype t = 0; t < T__N; t++)
		if (set_str(&x->s[t].version, "") != 0 || set_str(&x->s[t].nonce, "") != 0)
			goto fail;
	snprintf(authority, sizeof(authority), "%s:%u", b->xds.address, b->xds.port);
	x->g = hf_grpc_new(b->xds.addr, b->xds.port, authority, ADS_PATH, &ops, x);
	if (x->g == NULL)
		goto fail;
	return x;
fail:
	hf_xds_close(x);
	snprintf(err, errlen, "xds: out of memory");
	return NULL;
}

void
hf_xds_close(struct hf_xds *x)
{
	if (x == NULL)
		return;
	hf_grpc_free(x->g);
	for (enum xtype t = 0; t < T__N; t++) {
		free(x->s[t].version);
		free(x->s[t].nonce);
		res_free(x->s[t].r, x->s[t].n);
		names_free(x->s[t].names, x->s[t].n_names);
	}
	free(x);
}
