/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the xDS client holds, in the shapes of Envoy's admin config_dump
 * (envoy.admin.v3.*ConfigDump): each dynamic resource as the server sent it,
 * with its version and when it was taken; a resource waiting for what it
 * references shows as warming, beside the version still serving.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control-agent/xds/ads-int.h"
#include "control-agent/xds/dump.h"
#include "control-agent/xds/pb_json.h"

json_t *
hf_json_time_ms(uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char b[64];

	gmtime_r(&s, &tm);
	snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned int)(ms % 1000));
	return json_string(b);
}

/* {"version_info", KEY: the resource, "last_updated"} */
static json_t *
entry(const char *key, const ProtobufCMessage *m, const char *version, uint64_t ms)
{
	json_t *o = json_object();

	json_object_set_new(o, "version_info", json_string(version != NULL ? version : ""));
	json_object_set_new(o, key, hf_pb_json_typed(m));
	json_object_set_new(o, "last_updated", hf_json_time_ms(ms));
	return o;
}

/* The array @p key of @p o, made when absent. */
static json_t *
array(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(o, key, a);
	}
	return a;
}

/* Envoy's UpdateFailureState of the last NACK of @p s (which holds one). */
static json_t *
error_state(const struct sub *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "last_update_attempt", hf_json_time_ms(s->nack_ms));
	json_object_set_new(o, "details", json_string(s->last_error));
	json_object_set_new(o, "version_info", json_string(s->nack_version ? s->nack_version : ""));
	return o;
}

/* The resource named @p name is the one the last NACK of @p s refused. */
static bool
refused(const struct sub *s, const char *name)
{
	return s->last_error != NULL && s->nack_name != NULL && strcmp(s->nack_name, name) == 0;
}

/*
 * The entries of type @p t into array @p key of @p dump (@p res: the key of
 * the resource in an entry); the last NACK as the error_state of the entry of
 * the resource it refused, or of an entry of its own (as Envoy shows a
 * resource refused before any version of it was taken).
 */
static void
plain(const struct sub *s, json_t *dump, const char *key, const char *res)
{
	bool shown = false;

	for (unsigned int i = 0; i < s->n; i++) {
		json_t *e = entry(res, s->r[i].msg, s->r[i].version, s->r[i].updated_ms);

		if (refused(s, s->r[i].name)) {
			json_object_set_new(e, "error_state", error_state(s));
			shown = true;
		}
		json_array_append_new(array(dump, key), e);
	}
	if (s->last_error != NULL && !shown) {
		json_t *e = json_object();

		json_object_set_new(e, "error_state", error_state(s));
		json_array_append_new(array(dump, key), e);
	}
}

void
hf_xds_dump(const struct hf_xds *x, json_t *clusters, json_t *listeners, json_t *routes,
            json_t *endpoints)
{
	const struct sub *s;
	bool shown = false;

	s = &x->s[T_CDS];
	json_object_set_new(clusters, "version_info", json_string(s->version));
	for (unsigned int i = 0; i < s->n; i++) {
		const struct res *r = &s->r[i];
		json_t *e = entry("cluster", r->msg, r->version, r->updated_ms);

		if (refused(s, r->name)) {
			json_object_set_new(e, "error_state", error_state(s));
			shown = true;
		}
		if (r->served) {
			json_array_append_new(array(clusters, "dynamic_active_clusters"), e);
			continue;
		}
		if (r->old_msg != NULL)
			json_array_append_new(
			        array(clusters, "dynamic_active_clusters"),
			        entry("cluster", r->old_msg, r->old_version, r->old_updated_ms));
		json_array_append_new(array(clusters, "dynamic_warming_clusters"), e);
	}
	if (s->last_error != NULL && !shown) {
		json_t *e = json_object();

		json_object_set_new(e, "error_state", error_state(s));
		json_array_append_new(array(clusters, "dynamic_active_clusters"), e);
	}
	s = &x->s[T_LDS];
	shown = false;
	json_object_set_new(listeners, "version_info", json_string(s->version));
	for (unsigned int i = 0; i < s->n; i++) {
		const struct res *r = &s->r[i];
		json_t *l = json_object();

		json_object_set_new(l, "name", json_string(r->name));
		if (r->served)
			json_object_set_new(l, "active_state",
			                    entry("listener", r->msg, r->version, r->updated_ms));
		else if (r->old_msg != NULL)
			json_object_set_new(
			        l, "active_state",
			        entry("listener", r->old_msg, r->old_version, r->old_updated_ms));
		if (!r->served)
			json_object_set_new(l, "warming_state",
			                    entry("listener", r->msg, r->version, r->updated_ms));
		if (refused(s, r->name)) {
			json_object_set_new(l, "error_state", error_state(s));
			shown = true;
		}
		json_array_append_new(array(listeners, "dynamic_listeners"), l);
	}
	if (s->last_error != NULL && !shown) {
		json_t *l = json_object();

		json_object_set_new(l, "name", json_string(s->nack_name ? s->nack_name : ""));
		json_object_set_new(l, "error_state", error_state(s));
		json_array_append_new(array(listeners, "dynamic_listeners"), l);
	}
	plain(&x->s[T_RDS], routes, "dynamic_route_configs", "route_config");
	if (endpoints != NULL)
		plain(&x->s[T_EDS], endpoints, "dynamic_endpoint_configs", "endpoint_config");
}

void
hf_xds_dump_secrets(const struct hf_xds *x, json_t *secrets)
{
	const struct sub *s = &x->s[T_SDS];

	for (unsigned int i = 0; i < s->n; i++) {
		/* Envoy's DynamicSecret: the name beside the resource */
		json_t *e = entry("secret", s->r[i].msg, s->r[i].version, s->r[i].updated_ms);

		json_object_set_new(e, "name", json_string(s->r[i].name));
		if (refused(s, s->r[i].name))
			json_object_set_new(e, "error_state", error_state(s));
		json_array_append_new(array(secrets, "dynamic_active_secrets"), e);
	}
	for (unsigned int i = 0; i < s->n_names; i++) {
		json_t *e;

		if (hf_xds_find(s, s->names[i]) != NULL)
			continue;
		e = json_object();
		json_object_set_new(e, "name", json_string(s->names[i]));
		json_array_append_new(array(secrets, "dynamic_warming_secrets"), e);
	}
	if (s->last_error != NULL &&
	    (s->nack_name == NULL || hf_xds_find(s, s->nack_name) == NULL)) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(s->nack_name ? s->nack_name : ""));
		json_object_set_new(e, "error_state", error_state(s));
		json_array_append_new(array(secrets, "dynamic_active_secrets"), e);
	}
}

const struct hf_model *
hf_xds_model(const struct hf_xds *x, unsigned int n_static[3], uint64_t *built_ms)
{
	const struct res *latest = NULL;

	memcpy(n_static, x->n_static, sizeof(x->n_static));
	for (enum hf_xds_type t = 0; t < T__N; t++)
		for (unsigned int i = 0; i < x->s[t].n; i++)
			if (latest == NULL || x->s[t].r[i].updated_ms > latest->updated_ms)
				latest = &x->s[t].r[i];
	*built_ms = latest != NULL ? latest->updated_ms : 0;
	return &x->model;
}
