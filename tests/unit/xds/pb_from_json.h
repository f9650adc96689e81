/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TEST_PB_FROM_JSON_H
#define HF_TEST_PB_FROM_JSON_H

/*
 * Envoy resources for the unit tests from the JSON files the integration
 * tests serve (tests/integration/xds/istiod/): protobuf's JSON mapping with
 * proto field names, read through the protobuf-c descriptors. What the
 * fixtures use, in the shape the test server's protobufjs encodes: messages
 * (wrappers, Duration, Struct as their fields), repeated fields, maps, enums
 * by name, strings, numbers, bools, bytes (base64), Any by "@type" (a type
 * this build lacks stays an empty value) or by type_url and value.
 * Everything is malloc'd: protobuf_c_message_free_unpacked(m, NULL) frees it.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"

static const ProtobufCMessageDescriptor *const pbj_known[] = {
        &envoy__config__listener__v3__listener__descriptor,
        &envoy__config__cluster__v3__cluster__descriptor,
        &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
        &envoy__config__route__v3__route_configuration__descriptor,
        &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor,
        &envoy__extensions__filters__http__router__v3__router__descriptor,
        &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor,
        &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor,
        &envoy__extensions__transport_sockets__raw_buffer__v3__raw_buffer__descriptor,
        &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor,
        &envoy__extensions__request_id__uuid__v3__uuid_request_id_config__descriptor,
};

static ProtobufCMessage *pbj_message(const ProtobufCMessageDescriptor *d, json_t *j);

static size_t
pbj_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE: return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	default: return 4;
	}
}

static ProtobufCMessage *
pbj_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);

	assert_non_null(m);
	d->message_init(m);
	return m;
}

/* A well-known type given its JSON shape, or NULL when @p d is not one. */
static ProtobufCMessage *
pbj_wkt(const ProtobufCMessageDescriptor *d, json_t *j)
{
	ProtobufCMessage *m;

	if (strncmp(d->name, "google.protobuf.", 16) != 0)
		return NULL;
	if (strcmp(d->name, "google.protobuf.Any") == 0 && json_object_get(j, "@type") != NULL) {
		Google__Protobuf__Any *a = (void *)pbj_new(d);
		const char *url = json_string_value(json_object_get(j, "@type"));
		const char *slash = strrchr(url, '/');

		a->type_url = strdup(url);
		for (size_t i = 0; i < sizeof(pbj_known) / sizeof(pbj_known[0]); i++) {
			json_t *body;

			if (strcmp(pbj_known[i]->name, slash + 1) != 0)
				continue;
			body = json_deep_copy(j);
			json_object_del(body, "@type");
			m = pbj_message(pbj_known[i], body);
			json_decref(body);
			a->value.len = protobuf_c_message_get_packed_size(m);
			a->value.data = malloc(a->value.len + 1);
			protobuf_c_message_pack(m, a->value.data);
			protobuf_c_message_free_unpacked(m, NULL);
			break;
		}
		return &a->base;
	}
	/* wrappers: the JSON scalar is the message's one field, "value" */
	if (!json_is_object(j) && d->n_fields == 1 && strcmp(d->fields[0].name, "value") == 0) {
		json_t *o = json_object();

		json_object_set(o, "value", j);
		m = pbj_message(d, o);
		json_decref(o);
		return m;
	}
	return NULL;
}

/* One value of field @p f from @p j into @p p. */
static void
pbj_value(const ProtobufCFieldDescriptor *f, json_t *j, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = pbj_message(f->descriptor, j);
		break;
	case PROTOBUF_C_TYPE_STRING: *(char **)p = strdup(json_string_value(j)); break;
	case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)p = json_is_true(j); break;
	case PROTOBUF_C_TYPE_DOUBLE: *(double *)p = json_number_value(j); break;
	case PROTOBUF_C_TYPE_FLOAT: *(float *)p = (float)json_number_value(j); break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
		        json_is_string(j) ? protobuf_c_enum_descriptor_get_value_by_name(
		                                    f->descriptor, json_string_value(j))
		                          : NULL;

		if (json_is_string(j) && v == NULL)
			fail_msg("pb_from_json: %s: no enum value %s", f->name,
			         json_string_value(j));
		*(int *)p = v != NULL ? v->value : (int)json_integer_value(j);
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(int64_t *)p = json_is_string(j) ? strtoll(json_string_value(j), NULL, 10)
		                                  : json_integer_value(j);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		static const char a[] =
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		ProtobufCBinaryData *b = p;
		const char *in = json_string_value(j);
		uint32_t acc = 0;
		int bits = 0;

		b->data = malloc(strlen(in) + 1);
		b->len = 0;
		for (; *in != '\0' && *in != '='; in++) {
			const char *c = strchr(a, *in);

			assert_non_null(c);
			acc = acc << 6 | (uint32_t)(c - a);
			if ((bits += 6) >= 8) {
				bits -= 8;
				b->data[b->len++] = (uint8_t)(acc >> bits);
			}
		}
		break;
	}
	default: *(int32_t *)p = (int32_t)json_integer_value(j); break;
	}
}

static ProtobufCMessage *
pbj_message(const ProtobufCMessageDescriptor *d, json_t *j)
{
	ProtobufCMessage *m = pbj_wkt(d, j);
	const char *k;
	json_t *v;

	if (m != NULL)
		return m;
	m = pbj_new(d);
	json_object_foreach(j, k, v)
	{
		const ProtobufCFieldDescriptor *f =
		        protobuf_c_message_descriptor_get_field_by_name(d, k);
		char *base = (char *)m, snake[128];
		size_t o = 0;

		/* protobufjs's built-in well-known types (Value) take lowerCamelCase names */
		for (const char *c = k; f == NULL && *c != '\0' && o + 2 < sizeof(snake); c++) {
			if (*c >= 'A' && *c <= 'Z') {
				snake[o++] = '_';
				snake[o++] = (char)(*c - 'A' + 'a');
			} else {
				snake[o++] = *c;
			}
		}
		snake[o] = '\0';
		if (f == NULL)
			f = protobuf_c_message_descriptor_get_field_by_name(d, snake);

		if (strcmp(k, "@type") == 0)
			continue;
		if (f == NULL)
			fail_msg("pb_from_json: %s has no field %s", d->name, k);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
			char *arr = calloc(n + 1, pbj_size(f));
			size_t i = 0;

			if (json_is_array(v)) {
				json_t *e;

				json_array_foreach(v, i, e) pbj_value(f, e, arr + i * pbj_size(f));
			} else { /* a map: entries of key and value */
				const char *mk;
				json_t *mv;

				json_object_foreach(v, mk, mv)
				{
					const ProtobufCMessageDescriptor *ed = f->descriptor;
					ProtobufCMessage *e = pbj_new(ed);
					const ProtobufCFieldDescriptor *vf = &ed->fields[1];

					*(char **)((char *)e + ed->fields[0].offset) = strdup(mk);
					pbj_value(vf, mv, (char *)e + vf->offset);
					((ProtobufCMessage **)arr)[i++] = e;
				}
			}
			*(size_t *)(base + f->quantifier_offset) = n;
			*(void **)(base + f->offset) = arr;
			continue;
		}
		pbj_value(f, v, base + f->offset);
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)(base + f->quantifier_offset) = f->id;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
		         f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	}
	return m;
}

/*
 * The JSON text of a resource of @p file (under tests/integration/xds/istiod/):
 * the first in its "resources" named @p name (or cluster_name), the first
 * of all when @p name is NULL. Free it.
 */
static char *
pbj_text(const char *file, const char *name)
{
	const char *src = getenv("HF_SOURCE_ROOT");
	char path[512], *out;
	json_error_t je;
	json_t *root, *r = NULL, *e;
	size_t i;

	snprintf(path, sizeof(path), "%s/tests/integration/xds/istiod/%s", src != NULL ? src : HF_TEST_SOURCE_ROOT,
	         file);
	root = json_load_file(path, 0, &je);
	if (root == NULL)
		fail_msg("%s: %s (line %d)", path, je.text, je.line);
	json_array_foreach(json_object_get(root, "resources"), i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n == NULL)
			n = json_string_value(json_object_get(e, "cluster_name"));
		if (r == NULL && (name == NULL || (n != NULL && strcmp(n, name) == 0)))
			r = e;
	}
	if (r == NULL)
		fail_msg("%s: no resource %s", path, name != NULL ? name : "");
	out = json_dumps(r, JSON_COMPACT);
	json_decref(root);
	assert_non_null(out);
	return out;
}

/* @p text with every @p from replaced by @p to (in place: frees @p text). */
static char *
pbj_replace(char *text, const char *from, const char *to)
{
	size_t n = 0, lf = strlen(from), lt = strlen(to);
	char *o, *q;

	for (const char *p = strstr(text, from); p != NULL; p = strstr(p + lf, from))
		n++;
	if (n == 0)
		fail_msg("pbj_replace: '%s' is not in the resource", from);
	o = q = malloc(strlen(text) + n * lt + 1);
	for (const char *p = text, *h; (h = strstr(p, from)) != NULL || *p != '\0';) {
		if (h == NULL) {
			strcpy(q, p);
			q += strlen(p);
			break;
		}
		memcpy(q, p, (size_t)(h - p));
		q += h - p;
		memcpy(q, to, lt);
		q += lt;
		p = h + lf;
	}
	*q = '\0';
	free(text);
	return o;
}

/* @p text with its last @p from replaced by @p to (in place: frees @p text). */
static char *
pbj_replace_last(char *text, const char *from, const char *to)
{
	char *h = NULL, *o;

	for (char *p = strstr(text, from); p != NULL; p = strstr(p + 1, from))
		h = p;
	if (h == NULL)
		fail_msg("pbj_replace_last: '%s' is not in the resource", from);
	o = malloc(strlen(text) + strlen(to) + 1);
	memcpy(o, text, (size_t)(h - text));
	strcpy(o + (h - text), to);
	strcat(o, h + strlen(from));
	free(text);
	return o;
}

/* The message @p d of JSON @p text (freed). */
static ProtobufCMessage *
pbj_parse(const ProtobufCMessageDescriptor *d, char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	ProtobufCMessage *m;

	if (j == NULL)
		fail_msg("pbj_parse: %s in %s", je.text, text);
	free(text);
	m = pbj_message(d, j);
	json_decref(j);
	return m;
}

#endif
