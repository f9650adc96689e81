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

void
hf_xds_dump(const struct hf_xds *x, json_t *clusters, json_t *listeners, json_t *routes,
            json_t *endpoints)
{
	const struct sub *s;

	s = &x->s[T_CDS];
	json_object_set_new(clusters, "version_info", json_string(s->version));
	for (unsigned int i = 0; i < s->n; i++) {
		const struct res *r = &s->r[i];

		if (r->served) {
			json_array_append_new(array(clusters, "dynamic_active_clusters"),
			                      entry("cluster", r->msg, r->version, r->updated_ms));
			continue;
		}
		if (r->old_msg != NULL)
			json_array_append_new(
			        array(clusters, "dynamic_active_clusters"),
			        entry("cluster", r->old_msg, r->old_version, r->old_updated_ms));
		json_array_append_new(array(clusters, "dynamic_warming_clusters"),
		                      entry("cluster", r->msg, r->version, r->updated_ms));
	}
	s = &x->s[T_LDS];
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
		json_array_append_new(array(listeners, "dynamic_listeners"), l);
	}
	s = &x->s[T_RDS];
	for (unsigned int i = 0; i < s->n; i++)
		json_array_append_new(
		        array(routes, "dynamic_route_configs"),
		        entry("route_config", s->r[i].msg, s->r[i].version, s->r[i].updated_ms));
	s = &x->s[T_EDS];
	for (unsigned int i = 0; endpoints != NULL && i < s->n; i++)
		json_array_append_new(
		        array(endpoints, "dynamic_endpoint_configs"),
		        entry("endpoint_config", s->r[i].msg, s->r[i].version, s->r[i].updated_ms));
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
