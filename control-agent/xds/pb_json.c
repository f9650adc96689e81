/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobuf-c messages as JSON (pb_json.h), walking their descriptors: what
 * the control plane sent, shown back as it sent it, for GET /config_dump.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control-agent/xds/pb_json.h"
#include "control-agent/xds/translate-int.h"
#include "google/protobuf/timestamp.pb-c.h"

/* The message types an Any may hold that this build can decode (the ones it translates). */
static const ProtobufCMessageDescriptor *const known[] = {
        &envoy__config__listener__v3__listener__descriptor,
        &envoy__config__route__v3__route_configuration__descriptor,
        &envoy__config__cluster__v3__cluster__descriptor,
        &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
        &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
        &envoy__extensions__filters__http__router__v3__router__descriptor,
        &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
        &envoy__extensions__filters__http__fault__v3__httpfault__descriptor,
        &envoy__extensions__filters__http__cors__v3__cors__descriptor,
        &envoy__extensions__filters__http__cors__v3__cors_policy__descriptor,
        &envoy__config__route__v3__filter_config__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor,
        &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor,
        &envoy__extensions__transport_sockets__raw_buffer__v3__raw_buffer__descriptor,
        &envoy__extensions__filters__listener__tls_inspector__v3__tls_inspector__descriptor,
};

json_t *
hf_json_base64(const uint8_t *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	char *s = malloc((n + 2) / 3 * 4 + 1);
	json_t *j;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		             (i + 2 < n ? p[i + 2] : 0);

		s[o++] = a[v >> 18 & 63];
		s[o++] = a[v >> 12 & 63];
		s[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		s[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	s[o] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *message(const ProtobufCMessage *m);

/* google.protobuf.Duration as protobuf's JSON mapping writes it: "1.500s". */
static json_t *
duration(const Google__Protobuf__Duration *d)
{
	char b[48];
	int64_t ns = d->nanos < 0 ? -(int64_t)d->nanos : d->nanos;
	int n = snprintf(b, sizeof(b), "%s%" PRId64, d->seconds < 0 || d->nanos < 0 ? "-" : "",
	                 d->seconds < 0 ? -d->seconds : d->seconds);

	if (ns != 0) {
		n += snprintf(b + n, sizeof(b) - (size_t)n, ".%09" PRId64, ns);
		while (b[n - 1] == '0')
			b[--n] = '\0';
	}
	snprintf(b + n, sizeof(b) - (size_t)n, "s");
	return json_string(b);
}

static json_t *
timestamp(const Google__Protobuf__Timestamp *t)
{
	time_t s = (time_t)t->seconds;
	struct tm tm;
	char b[64];

	gmtime_r(&s, &tm);
	snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t->nanos / 1000000);
	return json_string(b);
}

static json_t *
any(const Google__Protobuf__Any *a)
{
	const char *slash = strrchr(a->type_url, '/');
	const char *name = slash != NULL ? slash + 1 : a->type_url;
	json_t *o;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		ProtobufCMessage *m;

		if (strcmp(known[i]->name, name) != 0)
			continue;
		m = protobuf_c_message_unpack(known[i], NULL, a->value.len, a->value.data);
		if (m == NULL)
			break;
		o = message(m);
		protobuf_c_message_free_unpacked(m, NULL);
		if (o != NULL && json_is_object(o)) {
			json_t *typed = json_object();

			json_object_set_new(typed, "@type", json_string(a->type_url));
			json_object_update(typed, o);
			json_decref(o);
			return typed;
		}
		json_decref(o);
		break;
	}
	o = json_object();
	json_object_set_new(o, "@type", json_string(a->type_url));
	json_object_set_new(o, "value", hf_json_base64(a->value.data, a->value.len));
	return o;
}

static json_t *value(const Google__Protobuf__Value *v);

static json_t *
pstruct(const Google__Protobuf__Struct *s)
{
	json_t *o = json_object();

	for (size_t i = 0; i < s->n_fields; i++)
		json_object_set_new(o, s->fields[i]->key, value(s->fields[i]->value));
	return o;
}

static json_t *
value(const Google__Protobuf__Value *v)
{
	json_t *a;

	if (v == NULL)
		return json_null();
	switch (v->kind_case) {
	case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: return json_real(v->number_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: return json_string(v->string_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE: return json_boolean(v->bool_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE: return pstruct(v->struct_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
		a = json_array();
		for (size_t i = 0; i < v->list_value->n_values; i++)
			json_array_append_new(a, value(v->list_value->values[i]));
		return a;
	default: return json_null();
	}
}

/* One value of field @p f at @p p (a scalar's storage, or a pointer for strings and messages). */
static json_t *
scalar(const ProtobufCFieldDescriptor *f, const void *p)
{
	char b[32];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		/* protobuf's JSON mapping: 64-bit integers are strings */
		snprintf(b, sizeof(b), "%" PRId64, *(const int64_t *)p);
		return json_string(b);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(b, sizeof(b), "%" PRIu64, *(const uint64_t *)p);
		return json_string(b);
	case PROTOBUF_C_TYPE_FLOAT: return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		        protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);

		return ev != NULL ? json_string(ev->name) : json_integer(*(const int *)p);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;

		return json_string(s != NULL ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *d = p;

		return hf_json_base64(d->data, d->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: return message(*(const ProtobufCMessage *const *)p);
	}
	return json_null();
}

static size_t
elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
	default: return 4;
	}
}

/* A map field's entry type: protoc's XxxEntry with key (1) and value (2). */
static bool
is_map_entry(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n;

	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED ||
	    d->n_fields != 2 || strcmp(d->fields[0].name, "key") != 0)
		return false;
	n = strlen(d->name);
	return n > 5 && strcmp(d->name + n - 5, "Entry") == 0;
}

static json_t *
message(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;
	const char *base = (const char *)m;
	json_t *o;

	if (m == NULL)
		return json_null();
	d = m->descriptor;
	if (strcmp(d->name, "google.protobuf.Duration") == 0)
		return duration((const void *)m);
	if (strcmp(d->name, "google.protobuf.Timestamp") == 0)
		return timestamp((const void *)m);
	if (strcmp(d->name, "google.protobuf.Any") == 0)
		return any((const void *)m);
	if (strcmp(d->name, "google.protobuf.Struct") == 0)
		return pstruct((const void *)m);
	if (strcmp(d->name, "google.protobuf.Value") == 0)
		return value((const void *)m);
	/* the wrappers (UInt32Value, BoolValue...): their value alone */
	if (strncmp(d->name, "google.protobuf.", 16) == 0 && d->n_fields == 1 &&
	    strcmp(d->fields[0].name, "value") == 0)
		return scalar(&d->fields[0], base + d->fields[0].offset);
	o = json_object();
	if (o == NULL)
		return NULL;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *v = base + f->offset;

		if (!field_set(m, f))
			continue;
		/* never shown, wherever a resource carries one (Envoy's dump redacts them too) */
		if (strcmp(f->name, "private_key") == 0) {
			/* a DataSource still (the dump stays a valid message), as Envoy's */
			json_t *r = json_string("[redacted]");

			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				json_t *ds = json_object();

				json_object_set_new(ds, "inline_string", r);
				r = ds;
			}
			json_object_set_new(o, f->name, r);
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(const char *const *)v;
			bool map = is_map_entry(f);
			json_t *a = map ? json_object() : json_array();

			for (size_t k = 0; k < n; k++) {
				const void *e = arr + k * elem_size(f);

				if (map) {
					const ProtobufCMessage *ent =
					        *(const ProtobufCMessage *const *)e;
					const ProtobufCMessageDescriptor *ed = f->descriptor;
					const ProtobufCFieldDescriptor *kf = &ed->fields[0],
					                               *vf = &ed->fields[1];
					json_t *key = scalar(kf, (const char *)ent + kf->offset);

					if (json_is_string(key))
						json_object_set_new(
						        a, json_string_value(key),
						        scalar(vf, (const char *)ent + vf->offset));
					json_decref(key);
				} else {
					json_array_append_new(a, scalar(f, e));
				}
			}
			json_object_set_new(o, f->name, a);
			continue;
		}
		json_object_set_new(o, f->name, scalar(f, v));
	}
	return o;
}

json_t *
hf_pb_json(const ProtobufCMessage *m)
{
	return message(m);
}

json_t *
hf_pb_json_typed(const ProtobufCMessage *m)
{
	json_t *o = json_object(), *body = message(m);
	char url[256];

	snprintf(url, sizeof(url), HF_XDS_TYPE_PREFIX "%s", m->descriptor->name);
	json_object_set_new(o, "@type", json_string(url));
	if (json_is_object(body))
		json_object_update(o, body);
	json_decref(body);
	return o;
}
