/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ADS client's store and its state of the world variant (xds.h), per
 * Envoy's "xDS REST and gRPC protocol"; delta.c holds the incremental one,
 * build.c turns what is held into snapshots.
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
 *  - each resource keeps its version and when it was taken (config_dump),
 *    and a replaced one that served stays until the new one is warm.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control-agent/xds/ads-int.h"

#define ADS_PATH "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
#define ADS_DELTA_PATH                                                                             \
	"/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
#define CODE_INVALID_ARGUMENT HF_XDS_CODE_INVALID_ARGUMENT
#define ERR                   HF_XDS_ERR

const char *const hf_xds_type_url[T__N] = {
        [T_CDS] = HF_XDS_CDS, [T_EDS] = HF_XDS_EDS, [T_LDS] = HF_XDS_LDS,
        [T_RDS] = HF_XDS_RDS, [T_SDS] = HF_XDS_SDS,
};
const char *const hf_xds_type_name[T__N] = {
        [T_CDS] = "Cluster",  [T_EDS] = "ClusterLoadAssignment",
        [T_LDS] = "Listener", [T_RDS] = "RouteConfiguration",
        [T_SDS] = "Secret",
};
static const ProtobufCMessageDescriptor *const type_desc[T__N] = {
        [T_CDS] = &envoy__config__cluster__v3__cluster__descriptor,
        [T_EDS] = &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
        [T_LDS] = &envoy__config__listener__v3__listener__descriptor,
        [T_RDS] = &envoy__config__route__v3__route_configuration__descriptor,
        [T_SDS] = &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
};

/* One log line; what the control plane sent (names, versions) is made printable first. */
void
hf_xds_log(const char *fmt, ...)
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
#define logf_ hf_xds_log

static const char *
res_name(enum hf_xds_type t, const ProtobufCMessage *m)
{
	switch (t) {
	case T_CDS: return ((const Envoy__Config__Cluster__V3__Cluster *)m)->name;
	case T_EDS:
		return ((const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *)m)
		        ->cluster_name;
	case T_LDS: return ((const Envoy__Config__Listener__V3__Listener *)m)->name;
	case T_SDS: return ((const Envoy__Extensions__TransportSockets__Tls__V3__Secret *)m)->name;
	default: return ((const Envoy__Config__Route__V3__RouteConfiguration *)m)->name;
	}
}

void
hf_xds_names_free(char **v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
#define names_free hf_xds_names_free

void
hf_xds_res_clear(struct res *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		names_free(r[i].sds, r[i].n_sds);
		names_free(r[i].old_sds, r[i].n_old_sds);
		free(r[i].name);
		free(r[i].version);
		free(r[i].ref);
		free(r[i].old_ref);
		free(r[i].old_version);
		if (r[i].msg != NULL)
			protobuf_c_message_free_unpacked(r[i].msg, NULL);
		if (r[i].old_msg != NULL)
			protobuf_c_message_free_unpacked(r[i].old_msg, NULL);
		hf_model_piece_unref(r[i].tr);
		memset(&r[i], 0, sizeof(r[i]));
	}
}
#define res_clear hf_xds_res_clear

static void
res_free(struct res *r, unsigned int n)
{
	res_clear(r, n);
	free(r);
}

static int
send_request(struct hf_xds *x, enum hf_xds_type t, const char *error)
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
	rq.type_url = (char *)hf_xds_type_url[t];
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

int
hf_xds_set_str(char **dst, const char *src)
{
	char *p = strdup(src);

	if (p == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}
#define set_str hf_xds_set_str

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct want *
hf_xds_want(struct hf_xds *x, enum hf_xds_type t, const char *name)
{
	struct sub *s = &x->s[t];
	char **hit;

	if (s->n_names == 0)
		return NULL;
	hit = bsearch(&name, s->names, s->n_names, sizeof(char *), cmp_str);
	return hit != NULL ? &s->want[hit - s->names] : NULL;
}

bool
hf_xds_resubscribe(struct hf_xds *x, enum hf_xds_type from, enum hf_xds_type to, char ***old,
                   unsigned int *n_old)
{
	struct sub *s = &x->s[to];
	/* secrets are named by listeners and clusters both */
	const enum hf_xds_type froms[2] = {to == T_SDS ? T_LDS : from, T_CDS};
	unsigned int n_from = to == T_SDS ? 2 : 1, cap = 1, n = 0, k = 0;
	char **names;
	struct want *want;
	bool same;

	/* a resource names its own references and its served version's */
	for (unsigned int fi = 0; fi < n_from; fi++)
		for (unsigned int i = 0; i < x->s[froms[fi]].n; i++) {
			const struct res *r = &x->s[froms[fi]].r[i];

			cap += to == T_SDS ? r->n_sds + r->n_old_sds : 2;
		}
	names = calloc(cap, sizeof(char *));
	want = calloc(cap, sizeof(*want));
	if (names == NULL || want == NULL) {
		free(names);
		free(want);
		return false;
	}
	for (unsigned int fi = 0; fi < n_from; fi++)
		for (unsigned int i = 0; i < x->s[froms[fi]].n; i++) {
			const struct res *r = &x->s[froms[fi]].r[i];
			/* a resource warming keeps what its served version references too */
			const char *two[2] = {r->ref, r->old_ref};
			const char *const *refs = two;
			unsigned int nr = 2;

			for (unsigned int pass = 0; pass < (to == T_SDS ? 2u : 1u); pass++) {
				if (to == T_SDS) {
					refs = (const char *const *)(pass == 0 ? r->sds
					                                       : r->old_sds);
					nr = pass == 0 ? r->n_sds : r->n_old_sds;
				}
				for (unsigned int q = 0; q < nr; q++) {
					bool seen = false;

					if (refs[q] == NULL)
						continue;
					for (unsigned int j = 0; j < n && !seen; j++)
						seen = strcmp(names[j], refs[q]) == 0;
					if (!seen && (names[n] = strdup(refs[q])) != NULL)
						n++;
				}
			}
		}
	qsort(names, n, sizeof(char *), cmp_str);
	same = n == s->n_names;
	for (unsigned int i = 0; same && i < n; i++)
		same = strcmp(names[i], s->names[i]) == 0;
	if (same) {
		names_free(names, n);
		free(want);
		return false;
	}
	/* A name subscribed before keeps when it was first asked for (its fetch timeout). */
	for (unsigned int i = 0; i < n; i++) {
		const struct want *w = hf_xds_want(x, to, names[i]);

		if (w != NULL)
			want[i] = *w;
		else
			want[i].since_ms = x->now_ms;
	}
	*old = s->names;
	*n_old = s->n_names;
	free(s->want);
	s->names = names;
	s->n_names = n;
	s->want = want;
	/* Resources no longer subscribed go (the protocol's unsubscribe). */
	for (unsigned int i = 0; i < s->n; i++) {
		if (n > 0 && bsearch(&s->r[i].name, names, n, sizeof(char *), cmp_str) != NULL) {
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
check(enum hf_xds_type t, const ProtobufCMessage *m, struct res *r, char *err, size_t errlen)
{
	struct hf_model scratch = {0};
	struct hf_xds_sds sds = {0};
	char **ref = &r->ref;
	int rc;

	*ref = NULL;
	switch (t) {
	case T_LDS:
		rc = hf_xds_tr_listener((const void *)m, &scratch, ref, &sds, err, errlen);
		break;
	case T_RDS: rc = hf_xds_tr_route_config((const void *)m, &scratch, err, errlen); break;
	case T_CDS:
		rc = hf_xds_tr_cluster((const void *)m, &scratch, ref, &sds, err, errlen);
		break;
	case T_SDS: rc = hf_xds_tr_secret((const void *)m, err, errlen); break;
	default:
		/* hf_model_free frees the cluster with its endpoints */
		scratch.clusters = calloc(1, sizeof(*scratch.clusters));
		if (scratch.clusters == NULL)
			return -ENOMEM;
		scratch.n_clusters = 1;
		rc = hf_xds_tr_endpoints((const void *)m, &scratch.clusters[0], err, errlen);
		break;
	}
	/* A route configuration is kept as translated: build.c lends it to each snapshot's model. */
	if (rc == 0 && t == T_RDS && scratch.n_route_configs == 1)
		r->tr = hf_model_piece_new(&scratch);
	hf_model_free(&scratch);
	if (rc != 0) {
		free(*ref);
		*ref = NULL;
		names_free(sds.names, sds.n);
		return rc;
	}
	r->sds = sds.names;
	r->n_sds = sds.n;
	return 0;
}

int
hf_xds_decode(enum hf_xds_type t, const Google__Protobuf__Any *a, size_t i, struct res *r,
              char *err, size_t errlen)
{
	char e2[ERR - 160];
	const char *name;

	if (strcmp(a->type_url, hf_xds_type_url[t]) != 0) {
		snprintf(err, errlen, "resources[%zu]: type %s in a %s response", i, a->type_url,
		         hf_xds_type_name[t]);
		return -EINVAL;
	}
	r->msg = protobuf_c_message_unpack(type_desc[t], NULL, a->value.len, a->value.data);
	if (r->msg == NULL) {
		snprintf(err, errlen, "resources[%zu]: not a valid %s message", i,
		         hf_xds_type_name[t]);
		return -EINVAL;
	}
	name = res_name(t, r->msg);
	if (set_str(&r->name, name) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (name[0] == '\0') {
		snprintf(err, errlen, "resources[%zu]: %s without a name", i, hf_xds_type_name[t]);
		return -EINVAL;
	}
	if (check(t, r->msg, r, e2, sizeof(e2)) != 0) {
		snprintf(err, errlen, "%s '%s': %s", hf_xds_type_name[t], name, e2);
		return -EINVAL;
	}
	return 0;
}

struct res *
hf_xds_find(const struct sub *s, const char *name)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (strcmp(s->r[i].name, name) == 0)
			return &s->r[i];
	return NULL;
}

int
hf_xds_store(struct sub *s, struct res *r)
{
	struct res *have = hf_xds_find(s, r->name), *nr;

	r->updated_ms = (uint64_t)time(NULL) * 1000;
	{
		struct timespec ts;

		if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
			r->updated_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	if (have != NULL) {
		/*
		 * Make before break: the version that served stays beside the new
		 * one until the new one's references are here (build.c).
		 */
		if (have->served) {
			r->old_msg = have->msg;
			r->old_ref = have->ref;
			r->old_sds = have->sds;
			r->n_old_sds = have->n_sds;
			r->old_version = have->version;
			r->old_updated_ms = have->updated_ms;
			have->msg = NULL;
			have->ref = NULL;
			have->sds = NULL;
			have->n_sds = 0;
			have->version = NULL;
		} else {
			r->old_msg = have->old_msg;
			r->old_ref = have->old_ref;
			r->old_sds = have->old_sds;
			r->n_old_sds = have->n_old_sds;
			r->old_version = have->old_version;
			r->old_updated_ms = have->old_updated_ms;
			have->old_msg = NULL;
			have->old_ref = NULL;
			have->old_sds = NULL;
			have->n_old_sds = 0;
			have->old_version = NULL;
		}
		res_clear(have, 1);
		*have = *r;
		memset(r, 0, sizeof(*r));
		return 0;
	}
	nr = realloc(s->r, (s->n + 1) * sizeof(*nr));
	if (nr == NULL) {
		res_clear(r, 1);
		return -ENOMEM;
	}
	s->r = nr;
	s->r[s->n++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

bool
hf_xds_remove(struct sub *s, const char *name)
{
	struct res *r = hf_xds_find(s, name);

	if (r == NULL)
		return false;
	res_clear(r, 1);
	*r = s->r[--s->n];
	return true;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
hf_xds_nacked(struct sub *s, const char *name, const char *version, const char *err)
{
	s->nacks++;
	set_str(&s->last_error, err);
	free(s->nack_name);
	s->nack_name = name != NULL ? strdup(name) : NULL;
	set_str(&s->nack_version, version != NULL ? version : "");
	s->nack_ms = wall_ms();
}

void
hf_xds_acked(struct sub *s)
{
	s->acks++;
	free(s->last_error);
	s->last_error = NULL;
	free(s->nack_name);
	s->nack_name = NULL;
}

/* A NACK: logged, kept for config_dump, then sent. */
static void
nacked(struct sub *s, enum hf_xds_type t, const char *name, const char *version, char *err)
{
	hf_xds_one_line(err);
	hf_xds_nacked(s, name, version, err);
	logf_("NACK %s version %s (keeping %s): %s", hf_xds_type_name[t], version,
	      s->version[0] != '\0' ? s->version : "none", err);
}

static void
on_response(struct hf_xds *x, const Envoy__Service__Discovery__V3__DiscoveryResponse *rs)
{
	char err[ERR] = "";
	struct res *r = NULL;
	unsigned int n = 0;
	enum hf_xds_type t;
	struct sub *s;

	for (t = 0; t < T__N; t++)
		if (strcmp(rs->type_url, hf_xds_type_url[t]) == 0)
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
		n++;
		if (hf_xds_decode(t, rs->resources[i], i, &r[n - 1], err, sizeof(err)) != 0)
			break;
		for (unsigned int j = 0; j + 1 < n; j++)
			if (strcmp(r[j].name, r[n - 1].name) == 0)
				snprintf(err, sizeof(err), "%s '%s': sent twice",
				         hf_xds_type_name[t], r[n - 1].name);
	}
	if (err[0] != '\0') {
		nacked(s, t, n > 0 ? r[n - 1].name : NULL, rs->version_info, err);
		res_free(r, n);
		send_request(x, t, err);
		return;
	}
	if (t == T_LDS || t == T_CDS) {
		/* state of the world: the response is the whole set; what it lacks goes */
		for (unsigned int i = 0; i < s->n;) {
			bool kept = false;

			for (unsigned int j = 0; j < n && !kept; j++)
				kept = strcmp(r[j].name, s->r[i].name) == 0;
			if (kept || !hf_xds_remove(s, s->r[i].name))
				i++;
		}
	}
	/* by name: replace or add each, keep the others (RDS, EDS: still subscribed) */
	for (unsigned int i = 0; i < n; i++)
		if (set_str(&r[i].version, rs->version_info) != 0 || hf_xds_store(s, &r[i]) != 0) {
			res_free(r, n);
			return;
		}
	free(r);
	if (t == T_SDS)
		x->cnt[HF_XDS_CNT_SECRETS] += n;
	set_str(&s->version, rs->version_info);
	hf_xds_acked(s);
	x->dirty = true;
	logf_("ACK %s version %s (%u resources)", hf_xds_type_name[t], s->version, s->n);
	send_request(x, t, NULL);
	/* New references open or close the dependent subscriptions. */
	hf_xds_refs_changed(x);
}

void
hf_xds_refs_changed(struct hf_xds *x)
{
	/* secrets follow listeners and clusters both (hf_xds_resubscribe) */
	static const enum hf_xds_type dep[][2] = {{T_LDS, T_RDS}, {T_CDS, T_EDS}, {T_LDS, T_SDS}};
	char **old = NULL;
	unsigned int n_old = 0;

	for (unsigned int i = 0; i < 3; i++) {
		if (x->delta) {
			hf_xds_delta_resubscribe(x, dep[i][0], dep[i][1]);
		} else if (hf_xds_resubscribe(x, dep[i][0], dep[i][1], &old, &n_old)) {
			names_free(old, n_old);
			send_request(x, dep[i][1], NULL);
		}
	}
}

static void
on_open(void *ctx)
{
	struct hf_xds *x = ctx;

	x->node_sent = false;
	logf_("connected to %s:%u (%s%s), node %s", x->boot->xds.address, x->boot->xds.port,
	      x->delta ? "delta" : "state of the world", x->boot->xds.tls ? ", TLS" : "",
	      x->boot->xds.node_id);
	for (enum hf_xds_type t = 0; t < T__N; t++)
		/* A new stream: no nonce yet. */
		set_str(&x->s[t].nonce, "");
	if (x->delta) {
		hf_xds_delta_open(x);
		return;
	}
	/* The versions held are resent. */
	for (enum hf_xds_type t = 0; t < T__N; t++)
		if (t == T_CDS || t == T_LDS || x->s[t].n_names > 0)
			send_request(x, t, NULL);
}

static void
on_message(void *ctx, const uint8_t *data, size_t len)
{
	struct hf_xds *x = ctx;
	Envoy__Service__Discovery__V3__DiscoveryResponse *rs;

	if (x->delta) {
		hf_xds_delta_message(x, data, len);
		return;
	}
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

/* A connection that failed before its stream: logged (the backoff spaces the lines out). */
static void
on_fail(void *ctx, const char *why)
{
	struct hf_xds *x = ctx;

	logf_("cannot reach %s:%u (%s); the last configuration keeps serving, retrying",
	      x->boot->xds.address, x->boot->xds.port, why);
}

static const struct hf_grpc_ops ops = {
        .on_open = on_open,
        .on_message = on_message,
        .on_close = on_close,
        .on_fail = on_fail,
};

struct hf_snapshot *
hf_xds_poll(struct hf_xds *x, uint64_t now_ms, uint64_t *version)
{
	x->now_ms = now_ms;
	hf_grpc_poll(x->g, now_ms);
	if (hf_xds_timeouts(x))
		x->dirty = true;
	return x->dirty ? hf_xds_build(x, version) : NULL;
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
	struct hf_grpc_tls tls;

	if (x == NULL)
		goto fail;
	x->boot = b;
	x->n_workers = n_workers;
	hf_xds_translate_node_http(b->istio_http.path_normalization, b->http_xff_trusted_hops,
				   b->istio_http.idle_timeout_ms);
	x->delta = b->xds.delta;
	hf_xds_node_init(&x->node, b);
	for (enum hf_xds_type t = 0; t < T__N; t++)
		if (set_str(&x->s[t].version, "") != 0 || set_str(&x->s[t].nonce, "") != 0)
			goto fail;
	snprintf(authority, sizeof(authority), "%s:%u", b->xds.address, b->xds.port);
	/* istiod's 15012 style: the node's mesh identity both ways */
	tls = (struct hf_grpc_tls){.cert_file = b->identity.cert_chain,
	                           .key_file = b->identity.key,
	                           .ca_file = b->identity.root_cert,
	                           .san = b->xds.tls_san};
	x->g = hf_grpc_new(b->xds.addr, b->xds.port, authority,
	                   x->delta ? ADS_DELTA_PATH : ADS_PATH, b->xds.tls ? &tls : NULL, &ops, x);
	if (x->g == NULL)
		goto fail;
	return x;
fail:
	hf_xds_close(x);
	snprintf(err, errlen, "xds: out of memory");
	return NULL;
}

uint64_t
hf_xds_counter(const struct hf_xds *x, enum hf_xds_counter c, const char **name)
{
	static const char *const names[HF_XDS_CNT__N] = {
	        [HF_XDS_CNT_NACKS] = "nacks",
	        [HF_XDS_CNT_SECRETS] = "secrets_received",
	        [HF_XDS_CNT_SECRET_WAITS] = "secret_waits",
	        [HF_XDS_CNT_CONNECT_ERRORS] = "connect_errors",
	        [HF_XDS_CNT_TLS_ERRORS] = "tls.handshake_errors",
	        [HF_XDS_CNT_TLS_VERIFY_ERRORS] = "tls.verify_errors",
	};
	uint64_t v = 0;

	*name = names[c];
	switch (c) {
	case HF_XDS_CNT_NACKS:
		for (enum hf_xds_type t = 0; t < T__N; t++)
			v += x->s[t].nacks;
		return v;
	case HF_XDS_CNT_CONNECT_ERRORS: return hf_grpc_counter(x->g, HF_GRPC_CNT_CONNECT_ERRORS);
	case HF_XDS_CNT_TLS_ERRORS: return hf_grpc_counter(x->g, HF_GRPC_CNT_TLS_ERRORS);
	case HF_XDS_CNT_TLS_VERIFY_ERRORS:
		return hf_grpc_counter(x->g, HF_GRPC_CNT_TLS_VERIFY_ERRORS);
	default: return x->cnt[c];
	}
}

void
hf_xds_close(struct hf_xds *x)
{
	if (x == NULL)
		return;
	hf_grpc_free(x->g);
	for (enum hf_xds_type t = 0; t < T__N; t++) {
		free(x->s[t].version);
		free(x->s[t].nonce);
		free(x->s[t].last_error);
		free(x->s[t].nack_name);
		free(x->s[t].nack_version);
		res_free(x->s[t].r, x->s[t].n);
		names_free(x->s[t].names, x->s[t].n_names);
		free(x->s[t].want);
	}
	hf_model_free(&x->model);
	free(x);
}
