/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_TRANSLATE_INT_H
#define HF_XDS_TRANSLATE_INT_H

/*
 * What translate.c (listeners, clusters, endpoints) and translate_route.c
 * (route configurations) share: the failure being built (the first one
 * wins), field paths, and only(): the check that a message sets no field
 * outside the list the translation implements.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/translate.h"

/* Envoy's defaults (Envoy's API docs: RouteAction.timeout, Cluster.connect_timeout, num_retries).
 */
#define ROUTE_TIMEOUT_MS   15000
#define CONNECT_TIMEOUT_MS 5000
#define NUM_RETRIES        1

#define PATH 256

struct tr {
	char *err;
	size_t errlen;
	int rc; /* first failure: -EINVAL or -ENOMEM */
};

static inline int __attribute__((format(printf, 3, 4)))
bad(struct tr *t, const char *at, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (t->rc != 0)
		return t->rc;
	n = (size_t)snprintf(t->err, t->errlen, "%s: ", at);
	va_start(ap, fmt);
	if (n < t->errlen)
		vsnprintf(t->err + n, t->errlen - n, fmt, ap);
	va_end(ap);
	hf_xds_one_line(t->err);
	t->rc = -EINVAL;
	return t->rc;
}

/* A field path: "at.child". Truncation is harmless (an error message's path). */
static inline void __attribute__((format(printf, 3, 4)))
path(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

static inline int
nomem(struct tr *t)
{
	if (t->rc == 0) {
		snprintf(t->err, t->errlen, "out of memory");
		t->rc = -ENOMEM;
	}
	return t->rc;
}

static inline char *
sdup(struct tr *t, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		nomem(t);
	return p;
}

static inline char *
sdup_lower(struct tr *t, const char *s)
{
	char *p = sdup(t, s);

	for (char *q = p; q != NULL && *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

/* Grows array *@p v of *@p n elements by one zeroed element; returns it or NULL (ENOMEM). */
static inline void *
grow(struct tr *t, void *v, unsigned int *n, size_t size)
{
	char **pv = v;
	char *nv = realloc(*pv, (*n + 1) * size);

	if (nv == NULL) {
		nomem(t);
		return NULL;
	}
	*pv = nv;
	memset(nv + *n * size, 0, size);
	return nv + (*n)++ * size;
}

/* Whether field @p f of @p m holds anything (proto3: a value other than the default). */
static inline bool
field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	static const uint8_t zero[16];
	const char *base = (const char *)m;
	const void *v = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) != 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)v != NULL;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)v;

		return s != NULL && *s != '\0';
	}
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)v)->len != 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return memcmp(v, zero, 8) != 0;
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)v != 0;
	default: /* 32-bit integers, enums, float */ return memcmp(v, zero, 4) != 0;
	}
}

/*
 * Refuses @p m when it sets a field not named in @p ok (NULL-terminated) or
 * carries fields unknown to these protos. @p at is the message's path.
 */
static inline int
only(struct tr *t, const ProtobufCMessage *m, const char *at, const char *const *ok)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool allowed = false;

		if (!field_set(m, f))
			continue;
		for (const char *const *k = ok; *k != NULL && !allowed; k++)
			allowed = strcmp(*k, f->name) == 0;
		if (!allowed)
			return bad(t, at, "field '%s' is not supported by Hydrofoil (yet)",
			           f->name);
	}
	if (m->n_unknown_fields > 0)
		return bad(t, at, "unknown field number %u", m->unknown_fields[0].tag);
	return 0;
}

#define ONLY(t, m, at, ...) only((t), &(m)->base, (at), (const char *const[]){__VA_ARGS__, NULL})

/* Unpacks Any @p a as a @p d message; NULL with the failure set. Free with
 * protobuf_c_message_free_unpacked. */
static inline ProtobufCMessage *
unpack_any(struct tr *t, const Google__Protobuf__Any *a, const ProtobufCMessageDescriptor *d,
           const char *at)
{
	const char *slash = strrchr(a->type_url, '/');
	const char *name = slash != NULL ? slash + 1 : a->type_url;
	ProtobufCMessage *m;

	if (strcmp(name, d->name) != 0) {
		bad(t, at, "type '%s' is not supported here (want %s)", a->type_url, d->name);
		return NULL;
	}
	m = protobuf_c_message_unpack(d, NULL, a->value.len, a->value.data);
	if (m == NULL)
		bad(t, at, "not a valid %s message", d->name);
	return m;
}

static inline uint32_t
duration_ms(const Google__Protobuf__Duration *d)
{
	int64_t ms = d->seconds * 1000 + d->nanos / 1000000;

	return ms < 0 ? 0 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* translate_route.c: a StringMatcher (suffix and contains become regexes). */
int hf_xds_tr_string_matcher(struct tr *t, const Envoy__Type__Matcher__V3__StringMatcher *s,
                             const char *at, struct hf_model_str_match *sm);
/* translate_filter.c: a FractionalPercent as 0..100. */
double hf_xds_tr_percent(const Envoy__Type__V3__FractionalPercent *f);
/*
 * translate_filter.c: an HTTP filter other than the router; 0 taken, 1 skipped
 * (optional and unknown), negative refused.
 */
int hf_xds_tr_http_filter(
        struct tr *t,
        const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter *f,
        const char *at);
/* translate_filter.c: one typed_per_filter_config entry into @p r (fault, CORS). */
int hf_xds_tr_per_filter(struct tr *t, const char *key, const Google__Protobuf__Any *any,
                         const char *at, struct hf_model_route *r);

/* translate.c: an RDS, EDS or SDS config source: ADS only. */
int hf_xds_tr_config_source(struct tr *t, const Envoy__Config__Core__V3__ConfigSource *cs,
                            const char *at);

/*
 * translate_tls.c: a filter chain's transport socket (DownstreamTlsContext)
 * into @p ml->tls, one server answering @p server_names (none: every name);
 * a cluster's (UpstreamTlsContext) into @p mc->up_tls.
 */
int hf_xds_tr_down_tls(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts,
                       const char *at, char **server_names, size_t n_names, struct hf_xds_sds *sds,
                       struct hf_model_listener *ml);
int hf_xds_tr_up_tls(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts,
                     const char *at, struct hf_xds_sds *sds, struct hf_model_cluster *mc);

/* The endpoint metadata transport_socket_matches read (Envoy's filter_metadata key). */
#define HF_XDS_SOCKET_MATCH "envoy.transport_socket_match"

/*
 * translate_cluster.c: what a cluster sets beside discovery and LB policy
 * (circuit breakers, outlier detection, protocol options, common_lb_config,
 * filters, transport_socket and transport_socket_matches) into @p mc.
 */
int hf_xds_tr_cluster_extras(struct tr *t, const Envoy__Config__Cluster__V3__Cluster *c,
                             struct hf_xds_sds *sds, struct hf_model_cluster *mc);
/* translate_cluster.c: an endpoint's tlsMode (HF_XDS_SOCKET_MATCH), "" when none. */
const char *hf_xds_tr_tls_mode(const Envoy__Config__Core__V3__Metadata *md);

#endif
