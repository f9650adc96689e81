/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /config_dump and GET /clusters (config_dump.h), in the shapes of
 * Envoy's admin API (envoy.admin.v3.*ConfigDump, envoy.admin.v3.Clusters)
 * so istioctl-style tools and scripts written for Envoy read them.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>
#include <rte_cycles.h>

#include "control-agent/config_dump.h"
#include "dataplane/proxy/http_cb.h"
#include "dataplane/snapshot-t.h"

#define ADMIN "type.googleapis.com/envoy.admin.v3."

static json_t *
dump_of(const char *type)
{
	json_t *o = json_object();
	char t[128];

	snprintf(t, sizeof(t), ADMIN "%s", type);
	json_object_set_new(o, "@type", json_string(t));
	return o;
}

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

/* {KEY: @p res, "last_updated"} with "version_info" first when @p version is given. */
static json_t *
entry(const char *key, json_t *res, const char *version, uint64_t ms)
{
	json_t *o = json_object();

	if (version != NULL)
		json_object_set_new(o, "version_info", json_string(version));
	json_object_set_new(o, key, res);
	json_object_set_new(o, "last_updated", hf_json_time_ms(ms));
	return o;
}

static json_t *
bootstrap(const struct hf_dump_in *in)
{
	const struct hf_bootstrap *b = in->boot;
	json_t *d = dump_of("BootstrapConfigDump"), *bs = json_object(), *node = json_object();
	json_t *sr = json_object(), *ls = json_array(), *cs = json_array(), *adm = json_object();
	json_t *sa = json_object(), *a = json_object();
	bool xds = b->xds.port != 0;

	json_object_set_new(node, "id", json_string(xds ? b->xds.node_id : b->node_id));
	json_object_set_new(node, "cluster", json_string(xds ? b->xds.cluster : b->node_cluster));
	if (xds && b->xds.n_meta > 0) {
		json_t *md = json_object();

		for (unsigned int i = 0; i < b->xds.n_meta; i++)
			json_object_set_new(md, b->xds.meta_key[i],
			                    json_string(b->xds.meta_val[i]));
		json_object_set_new(node, "metadata", md);
	}
	json_object_set_new(bs, "node", node);
	for (unsigned int i = 0; i < in->n_static[0] && i < in->m->n_listeners; i++)
		json_array_append_new(ls, hf_dump_listener(in->m, &in->m->listeners[i]));
	for (unsigned int i = 0; i < in->n_static[2] && i < in->m->n_clusters; i++)
		json_array_append_new(cs, hf_dump_cluster(&in->m->clusters[i], false));
	json_object_set_new(sr, "listeners", ls);
	json_object_set_new(sr, "clusters", cs);
	json_object_set_new(bs, "static_resources", sr);
	if (xds) {
		json_t *dr = json_object(), *ads = json_object(), *gs = json_array();
		json_t *g = json_object(), *gg = json_object(), *src = json_object();
		char target[HF_BOOT_STR + 8];

		snprintf(target, sizeof(target), "%s:%u", b->xds.address, b->xds.port);
		json_object_set_new(ads, "api_type",
		                    json_string(b->xds.delta ? "DELTA_GRPC" : "GRPC"));
		json_object_set_new(ads, "transport_api_version", json_string("V3"));
		json_object_set_new(gg, "target_uri", json_string(target));
		json_object_set_new(gg, "stat_prefix", json_string("xds-grpc"));
		json_object_set_new(g, "google_grpc", gg);
		json_array_append_new(gs, g);
		json_object_set_new(ads, "grpc_services", gs);
		json_object_set_new(dr, "ads_config", ads);
		json_object_set_new(src, "ads", json_object());
		json_object_set_new(src, "resource_api_version", json_string("V3"));
		json_object_set_new(dr, "lds_config", json_deep_copy(src));
		json_object_set_new(dr, "cds_config", src);
		json_object_set_new(bs, "dynamic_resources", dr);
	}
	json_object_set_new(sa, "address", json_string(b->admin_address));
	json_object_set_new(sa, "port_value", json_integer(b->admin_port));
	json_object_set_new(a, "socket_address", sa);
	json_object_set_new(adm, "address", a);
	json_object_set_new(bs, "admin", adm);
	json_object_set_new(d, "bootstrap", bs);
	json_object_set_new(d, "last_updated", hf_json_time_ms(in->start_ms));
	return d;
}

/* The dynamic entries of the Istio YAML path: its compiled model, at the snapshot's version. */
static void
yaml_dynamic(const struct hf_dump_in *in, json_t *cl, json_t *ep, json_t *ls, json_t *rt)
{
	const struct hf_model *m = in->m;
	char v[24];

	snprintf(v, sizeof(v), "%" PRIu64, in->version);
	json_object_set_new(cl, "version_info", json_string(v));
	json_object_set_new(ls, "version_info", json_string(v));
	for (unsigned int i = in->n_static[2]; i < m->n_clusters; i++) {
		if (m->clusters[i].missing)
			continue;
		json_array_append_new(
		        array(cl, "dynamic_active_clusters"),
		        entry("cluster", hf_dump_cluster(&m->clusters[i], true), v, in->built_ms));
		if (ep != NULL)
			json_array_append_new(array(ep, "dynamic_endpoint_configs"),
			                      entry("endpoint_config", hf_dump_cla(&m->clusters[i]),
			                            v, in->built_ms));
	}
	for (unsigned int i = in->n_static[0]; i < m->n_listeners; i++) {
		json_t *l = json_object();

		json_object_set_new(l, "name", json_string(m->listeners[i].name));
		json_object_set_new(
		        l, "active_state",
		        entry("listener", hf_dump_listener(m, &m->listeners[i]), v, in->built_ms));
		json_array_append_new(array(ls, "dynamic_listeners"), l);
	}
	for (unsigned int i = in->n_static[1]; i < m->n_route_configs; i++)
		json_array_append_new(array(rt, "dynamic_route_configs"),
		                      entry("route_config",
		                            hf_dump_route_config(&m->route_configs[i]), v,
		                            in->built_ms));
}

/* The name of a dump entry's resource, or NULL when it has none. */
static const char *
entry_name(json_t *e)
{
	static const char *const keys[] = {"cluster", "listener", "route_config", "secret"};
	json_t *n = json_object_get(e, "name"), *r;

	if (json_is_string(n))
		return json_string_value(n);
	for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((r = json_object_get(e, keys[i])) != NULL &&
		    json_is_string(n = json_object_get(r, "name")))
			return json_string_value(n);
	if ((r = json_object_get(e, "endpoint_config")) != NULL &&
	    json_is_string(n = json_object_get(r, "cluster_name")))
		return json_string_value(n);
	return NULL;
}

static int
on_hit(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
       void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(bool *)ctx = true;
	return 1;
}

/* Keeps the entries of every array of @p dump whose name @p db matches (anywhere, as RE2's). */
static void
keep_names(json_t *dump, const hs_database_t *db, hs_scratch_t *scratch)
{
	const char *key;
	json_t *v;

	json_object_foreach(dump, key, v)
	{
		if (!json_is_array(v))
			continue;
		for (size_t i = 0; i < json_array_size(v);) {
			const char *name = entry_name(json_array_get(v, i));
			bool hit = false;

			if (name != NULL)
				hs_scan(db, name, (unsigned int)strlen(name), 0, scratch, on_hit,
				        &hit);
			if (hit)
				i++;
			else
				json_array_remove(v, i);
		}
	}
}

/* The admin type of an entry of repeated field @p field, for ?resource=. */
static const char *
entry_type(const char *field)
{
	static const struct {
		const char *field, *type;
	} t[] = {
	        {"static_clusters", "ClustersConfigDump.StaticCluster"},
	        {"dynamic_active_clusters", "ClustersConfigDump.DynamicCluster"},
	        {"dynamic_warming_clusters", "ClustersConfigDump.DynamicCluster"},
	        {"static_listeners", "ListenersConfigDump.StaticListener"},
	        {"dynamic_listeners", "ListenersConfigDump.DynamicListener"},
	        {"static_route_configs", "RoutesConfigDump.StaticRouteConfig"},
	        {"dynamic_route_configs", "RoutesConfigDump.DynamicRouteConfig"},
	        {"static_secrets", "SecretsConfigDump.StaticSecret"},
	        {"dynamic_active_secrets", "SecretsConfigDump.DynamicSecret"},
	        {"dynamic_warming_secrets", "SecretsConfigDump.DynamicSecret"},
	        {"static_endpoint_configs", "EndpointsConfigDump.StaticEndpointConfig"},
	        {"dynamic_endpoint_configs", "EndpointsConfigDump.DynamicEndpointConfig"},
	};

	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].field, field) == 0)
			return t[i].type;
	return NULL;
}

static void
reply_json(struct hf_admin_reply *r, json_t *root)
{
	char *s = json_dumps(root, JSON_INDENT(1));

	r->content_type = "application/json";
	if (s == NULL) {
		r->status = 500;
		hf_strbuf_printf(&r->body, "out of memory\n");
		return;
	}
	hf_strbuf_printf(&r->body, "%s\n", s);
	free(s);
}

void
hf_config_dump(const struct hf_dump_in *in, const char *query, struct hf_admin_reply *r)
{
	char resource[128], re[HF_ADMIN_FILTER_MAX + 2], flag[8];
	bool eds = hf_admin_query_get(query, "include_eds", flag, sizeof(flag)) == 0;
	bool by_res = hf_admin_query_get(query, "resource", resource, sizeof(resource)) == 0;
	bool by_name = hf_admin_query_get(query, "name_regex", re, sizeof(re)) == 0;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *ce = NULL;
	json_t *root, *configs, *cl, *ep, *ls, *rt, *sc;
	const char *etype = NULL;

	if (by_name && strlen(re) > HF_ADMIN_FILTER_MAX) {
		r->status = 400;
		hf_strbuf_printf(&r->body, "name_regex: longer than %d bytes\n",
		                 HF_ADMIN_FILTER_MAX);
		return;
	}
	if (by_name && (hs_compile(re, HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK,
	                           NULL, &db, &ce) != HS_SUCCESS ||
	                hs_alloc_scratch(db, &scratch) != HS_SUCCESS)) {
		r->status = 400;
		hf_strbuf_printf(&r->body, "name_regex: '%s' is refused: %s\n", re,
		                 ce != NULL ? ce->message : "cannot be compiled");
		hs_free_compile_error(ce);
		hs_free_database(db);
		return;
	}
	if (by_res && (etype = entry_type(resource)) == NULL) {
		r->status = 404;
		hf_strbuf_printf(&r->body,
		                 "resource '%s' not found: it names a repeated field of a "
		                 "config dump (e.g. dynamic_active_clusters)\n",
		                 resource);
		hs_free_scratch(scratch);
		hs_free_database(db);
		return;
	}
	cl = dump_of("ClustersConfigDump");
	ep = eds || (by_res && strstr(resource, "endpoint") != NULL)
	             ? dump_of("EndpointsConfigDump")
	             : NULL;
	ls = dump_of("ListenersConfigDump");
	rt = dump_of("RoutesConfigDump");
	sc = dump_of("SecretsConfigDump");
	for (unsigned int i = 0; i < in->n_static[2] && i < in->m->n_clusters; i++) {
		json_array_append_new(array(cl, "static_clusters"),
		                      entry("cluster", hf_dump_cluster(&in->m->clusters[i], false),
		                            NULL, in->start_ms));
		if (ep != NULL)
			json_array_append_new(array(ep, "static_endpoint_configs"),
			                      entry("endpoint_config",
			                            hf_dump_cla(&in->m->clusters[i]), NULL,
			                            in->start_ms));
	}
	for (unsigned int i = 0; i < in->n_static[0] && i < in->m->n_listeners; i++)
		json_array_append_new(array(ls, "static_listeners"),
		                      entry("listener",
		                            hf_dump_listener(in->m, &in->m->listeners[i]), NULL,
		                            in->start_ms));
	for (unsigned int i = 0; i < in->n_static[1] && i < in->m->n_route_configs; i++)
		json_array_append_new(array(rt, "static_route_configs"),
		                      entry("route_config",
		                            hf_dump_route_config(&in->m->route_configs[i]), NULL,
		                            in->start_ms));
	if (in->xds != NULL) {
		/* the bootstrap's listeners and clusters alone: the rest came by xDS */
		struct hf_model st = *in->m;

		if (st.n_listeners > in->n_static[0])
			st.n_listeners = in->n_static[0];
		if (st.n_clusters > in->n_static[2])
			st.n_clusters = in->n_static[2];
		hf_xds_dump(in->xds, cl, ls, rt, ep);
		hf_xds_dump_secrets(in->xds, sc);
		hf_dump_secrets(&st, array(sc, "static_secrets"), NULL, in->start_ms);
	} else {
		char v[24];

		snprintf(v, sizeof(v), "%" PRIu64, in->version);
		yaml_dynamic(in, cl, ep, ls, rt);
		hf_dump_secrets(in->m, array(sc, "dynamic_active_secrets"), v, in->built_ms);
	}
	configs = json_array();
	json_array_append_new(configs, bootstrap(in));
	json_array_append_new(configs, cl);
	if (ep != NULL)
		json_array_append_new(configs, ep);
	json_array_append_new(configs, ls);
	json_array_append_new(configs, rt);
	json_array_append_new(configs, sc);
	if (db != NULL)
		for (size_t i = 0; i < json_array_size(configs); i++)
			keep_names(json_array_get(configs, i), db, scratch);
	if (by_res) {
		/* the entries of that field alone, each with its own type (Envoy's ?resource=) */
		json_t *only = json_array(), *c;
		size_t i;
		char t[128];

		snprintf(t, sizeof(t), ADMIN "%s", etype);
		json_array_foreach(configs, i, c)
		{
			json_t *a = json_object_get(c, resource), *e;
			size_t k;

			json_array_foreach(a, k, e)
			{
				json_t *te = json_object();

				json_object_set_new(te, "@type", json_string(t));
				json_object_update(te, e);
				json_array_append_new(only, te);
			}
		}
		json_decref(configs);
		configs = only;
	}
	root = json_object();
	json_object_set_new(root, "configs", configs);
	reply_json(r, root);
	json_decref(root);
	hs_free_scratch(scratch);
	hs_free_database(db);
}

void
hf_clusters_dump(const struct hf_dump_in *in, const char *query, struct hf_admin_reply *r)
{
	const struct hf_model *m = in->m;
	char fmt[16] = "";
	bool json = hf_admin_query_get(query, "format", fmt, sizeof(fmt)) == 0 &&
	            strcmp(fmt, "json") == 0;
	json_t *statuses = json_array();

	for (unsigned int i = 0; i < m->n_clusters; i++) {
		const struct hf_model_cluster *c = &m->clusters[i];
		bool api = i >= in->n_static[2];
		/* Istio's "unlimited" (0 in the model) is the largest uint32, as Envoy prints it */
		uint64_t maxc = c->max_connections ? c->max_connections : UINT32_MAX;
		uint64_t maxp = c->max_pending_requests ? c->max_pending_requests : UINT32_MAX;
		uint64_t maxr = c->max_requests ? c->max_requests : UINT32_MAX;
		uint64_t maxt = c->max_retries ? c->max_retries : UINT32_MAX;
		json_t *cs, *hs;
		const struct hf_snap_cluster *sc = NULL;
		uint64_t cbv[HF_HTTP_CB_STAT__N] = {0};
		uint64_t now_tsc = rte_rdtsc();

		if (c->missing)
			continue;
		for (unsigned int k = 0; in->snap != NULL && k < in->snap->n_clusters; k++)
			if (strcmp(in->snap->clusters[k].name, c->name) == 0)
				sc = &in->snap->clusters[k];
		for (uint16_t w = 0; sc != NULL && w < in->n_workers; w++)
			hf_http_cb_stats(in->workers[w], sc->id, cbv);
		if (!json) {
			hf_strbuf_printf(&r->body, "%s::observability_name::%s\n", c->name,
			                 c->name);
			hf_strbuf_printf(&r->body,
			                 "%s::default_priority::max_connections::%" PRIu64 "\n",
			                 c->name, maxc);
			hf_strbuf_printf(&r->body,
			                 "%s::default_priority::max_pending_requests::%" PRIu64
			                 "\n",
			                 c->name, maxp);
			hf_strbuf_printf(&r->body,
			                 "%s::default_priority::max_requests::%" PRIu64 "\n",
			                 c->name, maxr);
			hf_strbuf_printf(&r->body,
			                 "%s::default_priority::max_retries::%" PRIu64 "\n",
			                 c->name, maxt);
			hf_strbuf_printf(&r->body, "%s::added_via_api::%s\n", c->name,
			                 api ? "true" : "false");
			/* the workers' overflows and ejections, Envoy's stat names, summed */
			hf_strbuf_printf(&r->body, "%s::upstream_cx_overflow::%" PRIu64 "\n",
			                 c->name, cbv[HF_HTTP_CB_CX_OVERFLOW]);
			hf_strbuf_printf(&r->body,
			                 "%s::upstream_rq_pending_overflow::%" PRIu64 "\n",
			                 c->name, cbv[HF_HTTP_CB_PENDING_OVERFLOW]);
			hf_strbuf_printf(&r->body, "%s::upstream_rq_retry_overflow::%" PRIu64 "\n",
			                 c->name, cbv[HF_HTTP_CB_RETRY_OVERFLOW]);
			hf_strbuf_printf(&r->body,
			                 "%s::outlier_detection.ejections_enforced_total::%" PRIu64
			                 "\n", c->name, cbv[HF_HTTP_CB_EJECTIONS]);
		}
		cs = json_object();
		hs = json_array();
		json_object_set_new(cs, "name", json_string(c->name));
		json_object_set_new(cs, "observability_name", json_string(c->name));
		json_object_set_new(cs, "added_via_api", json_boolean(api));
		{
			json_t *cb = json_object(), *ths = json_array(), *th = json_object();

			json_object_set_new(th, "max_connections", json_integer((json_int_t)maxc));
			json_object_set_new(th, "max_pending_requests", json_integer((json_int_t)maxp));
			json_object_set_new(th, "max_requests", json_integer((json_int_t)maxr));
			json_object_set_new(th, "max_retries", json_integer((json_int_t)maxt));
			json_array_append_new(ths, th);
			json_object_set_new(cb, "thresholds", ths);
			json_object_set_new(cs, "circuit_breakers", cb);
		}
		for (unsigned int k = 0; k < c->n_endpoints; k++) {
			const struct hf_model_endpoint *e = &c->endpoints[k];
			char ip[INET_ADDRSTRLEN], region[128] = "", zone[128] = "", sub[128] = "";
			json_t *h = json_object(), *a = json_object(), *sa = json_object();
			json_t *hst = json_object(), *loc = json_object();

			bool failed = false;

			/* ejected by any worker (each ejects on its own: lb/cb.h) */
			for (uint16_t w = 0; sc != NULL && w < in->n_workers && !failed; w++)
				failed = hf_http_od_failed(in->workers[w], sc->id, e->addr,
				                           htons(e->port), now_tsc);
			inet_ntop(AF_INET, &e->addr, ip, sizeof(ip));
			if (e->locality != NULL)
				sscanf(e->locality, "%127[^/]/%127[^/]/%127s", region, zone, sub);
			if (!json) {
				/* the endpoints the model holds are the ones Envoy counts healthy
				 */
				hf_strbuf_printf(&r->body, "%s::%s:%u::health_flags::%s\n",
				                 c->name, ip, e->port,
				                 failed ? "/failed_outlier_check" : "healthy");
				hf_strbuf_printf(&r->body, "%s::%s:%u::weight::%u\n", c->name, ip,
				                 e->port, e->weight);
				hf_strbuf_printf(&r->body, "%s::%s:%u::region::%s\n", c->name, ip,
				                 e->port, region);
				hf_strbuf_printf(&r->body, "%s::%s:%u::zone::%s\n", c->name, ip,
				                 e->port, zone);
				hf_strbuf_printf(&r->body, "%s::%s:%u::sub_zone::%s\n", c->name, ip,
				                 e->port, sub);
				hf_strbuf_printf(&r->body, "%s::%s:%u::priority::0\n", c->name, ip,
				                 e->port);
			}
			json_object_set_new(sa, "address", json_string(ip));
			json_object_set_new(sa, "port_value", json_integer(e->port));
			json_object_set_new(a, "socket_address", sa);
			json_object_set_new(h, "address", a);
			json_object_set_new(hst, "eds_health_status", json_string("HEALTHY"));
			if (failed)
				json_object_set_new(hst, "failed_outlier_check", json_true());
			json_object_set_new(h, "health_status", hst);
			json_object_set_new(h, "weight", json_integer(e->weight));
			json_object_set_new(loc, "region", json_string(region));
			json_object_set_new(loc, "zone", json_string(zone));
			json_object_set_new(loc, "sub_zone", json_string(sub));
			json_object_set_new(h, "locality", loc);
			json_array_append_new(hs, h);
		}
		json_object_set_new(cs, "host_statuses", hs);
		json_array_append_new(statuses, cs);
	}
	if (json) {
		json_t *root = json_object();

		json_object_set_new(root, "cluster_statuses", statuses);
		reply_json(r, root);
		json_decref(root);
		return;
	}
	json_decref(statuses);
}
