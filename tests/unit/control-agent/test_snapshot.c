/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot publication under RCU: a replaced snapshot stays readable until
 * every worker has reported a quiescent state after the swap, then goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "hf_test.h"
#include "control-agent/snapshot.h"

static struct hf_bootstrap boot;

static void
test_grace_period(void **state)
{
	struct hf_snapshot_publisher pub = {0};
	struct rte_rcu_qsbr *q = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE);
	const struct hf_snapshot *seen0, *seen1;

	(void)state;
	assert_non_null(q);
	assert_int_equal(rte_rcu_qsbr_init(q, 2), 0);
	pub.qsbr = q;
	/* Two workers, both online. */
	for (unsigned int t = 0; t < 2; t++) {
		rte_rcu_qsbr_thread_register(q, t);
		rte_rcu_qsbr_thread_online(q, t);
	}
	boot.n_clusters = 1;
	strcpy(boot.clusters[0].name, "v1");
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 1)), 0);
	seen0 = hf_snapshot_current();	/* worker 0 starts an iteration on version 1 */
	seen1 = hf_snapshot_current();	/* so does worker 1 */
	assert_int_equal(seen0->version, 1);

	strcpy(boot.clusters[0].name, "v2");
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 2)), 0);
	assert_int_equal(hf_snapshot_current()->version, 2);	/* new iterations see v2 */
	assert_string_equal(seen0->clusters[0].name, "v1");	/* in-flight ones keep v1 */
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 1);	/* nobody quiescent yet */
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 1);	/* worker 1 may still read v1 */
	assert_string_equal(seen1->clusters[0].name, "v1");
	rte_rcu_qsbr_quiescent(q, 1);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 0);	/* now v1 is gone */
	assert_int_equal(pub.freed, 1);
	assert_int_equal(pub.published, 2);

	/* An offline worker does not hold grace periods up. */
	rte_rcu_qsbr_thread_offline(q, 1);
	assert_int_equal(hf_snapshot_publish(&pub, hf_snapshot_build(&boot, 3)), 0);
	rte_rcu_qsbr_quiescent(q, 0);
	assert_int_equal(hf_snapshot_reclaim(&pub, false), 0);
	assert_int_equal(pub.freed, 2);
	hf_snapshot_free(hf_snapshot_now);
	hf_snapshot_now = NULL;
	rte_free(q);
}

static bool
in_bootstrap(const void *p)
{
	const char *c = p;

	return c >= (const char *)&boot && c < (const char *)(&boot + 1);
}

static void
route(struct hf_boot_route *r, enum hf_route_match m, const char *path, int cluster)
{
	r->match = m;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->cluster = cluster;
}

static void
vhost(unsigned int i, const char *name, const char *domain, unsigned int first_route,
      unsigned int n_routes)
{
	struct hf_boot_vhost *v = &boot.vhosts[i];

	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->domains[0], sizeof(v->domains[0]), "%s", domain);
	v->n_domains = 1;
	v->routes = &boot.routes[first_route];
	v->n_routes = n_routes;
}

/*
 * Two HTTP listeners (a tcp_proxy one between them): each listener of the
 * snapshot, found by its port, holds its own virtual hosts and routes, outside
 * the bootstrap, so routing by the snapshot goes on as built whatever becomes
 * of the bootstrap afterwards.
 */
static void
test_http_tables(void **state)
{
	struct hf_snapshot *s;
	const struct hf_snap_listener *l80, *l81, *l9000;
	const struct hf_vhost *v;

	(void)state;
	memset(&boot, 0, sizeof(boot));
	boot.n_clusters = 3;
	strcpy(boot.clusters[0].name, "productpage");
	strcpy(boot.clusters[1].name, "reviews");
	strcpy(boot.clusters[2].name, "admin");
	boot.n_listeners = 3;
	boot.listeners[0].filter = HF_FILTER_HTTP;
	boot.listeners[0].port = 80;
	boot.route_configs[0].first_vhost = 0;
	boot.route_configs[0].n_vhosts = 2;
	boot.listeners[1].filter = HF_FILTER_TCP_PROXY;
	boot.listeners[1].port = 9000;
	boot.listeners[1].cluster = 1;
	boot.listeners[2].filter = HF_FILTER_HTTP;
	boot.listeners[2].port = 81;
	boot.route_configs[2].first_vhost = 2;
	boot.route_configs[2].n_vhosts = 1;
	boot.n_routes = 4;
	route(&boot.routes[0], HF_ROUTE_PREFIX, "/api/", 1);
	route(&boot.routes[1], HF_ROUTE_PREFIX, "/", 0);
	route(&boot.routes[2], HF_ROUTE_PREFIX, "/", 1);
	route(&boot.routes[3], HF_ROUTE_EXACT, "/stats", 2);
	boot.n_vhosts = 3;
	vhost(0, "bookinfo", "bookinfo.example.com", 0, 2);
	vhost(1, "any", "*", 2, 1);
	vhost(2, "admin", "admin.example.com", 3, 1);

	s = hf_snapshot_build(&boot, 7);
	assert_non_null(s);
	assert_int_equal(s->n_listeners, 3);
	l80 = hf_snapshot_listener(s, 80);
	l81 = hf_snapshot_listener(s, 81);
	l9000 = hf_snapshot_listener(s, 9000);
	assert_non_null(l80);
	assert_non_null(l81);
	assert_non_null(l9000);
	assert_null(hf_snapshot_listener(s, 82));
	assert_int_equal(l80->table.n_vhosts, 2);
	assert_int_equal(l81->table.n_vhosts, 1);
	assert_int_equal(l9000->kind, HF_LISTENER_TCP);
	assert_int_equal(l9000->cluster, 1);
	assert_int_equal(l9000->table.n_vhosts, 0);
	for (unsigned int i = 0; i < l80->table.n_vhosts; i++) {
		assert_false(in_bootstrap(l80->table.vhosts[i].routes));
		assert_int_equal(l80->table.vhosts[i].n_routes, boot.vhosts[i].n_routes);
	}

	/* The bootstrap is overwritten (a reload, or freed): the snapshot does not change. */
	memset(&boot, 0xa5, sizeof(boot));
	assert_string_equal(l80->table.vhosts[0].name, "bookinfo");
	assert_string_equal(s->clusters[1].name, "reviews");
	v = hf_router_vhost(&l80->table, "bookinfo.example.com", 20);
	assert_non_null(v);
	assert_string_equal(v->name, "bookinfo");
	assert_int_equal(hf_router_route(v, "/api/v1/reviews", 15)->cluster, 1);
	assert_int_equal(hf_router_route(v, "/productpage", 12)->cluster, 0);
	v = hf_router_vhost(&l80->table, "elsewhere.org", 13);
	assert_non_null(v);
	assert_string_equal(v->name, "any");
	assert_int_equal(hf_router_route(v, "/", 1)->cluster, 1);
	/* The second listener sees only its own virtual host. */
	assert_null(hf_router_vhost(&l81->table, "bookinfo.example.com", 20));
	v = hf_router_vhost(&l81->table, "admin.example.com", 17);
	assert_non_null(v);
	assert_int_equal(hf_router_route(v, "/stats", 6)->cluster, 2);
	assert_null(hf_router_route(v, "/", 1));
	hf_snapshot_free(s);
	memset(&boot, 0, sizeof(boot));
}

/*
 * Nothing in a snapshot points outside it, not even the routes of a virtual
 * host that has none: the bootstrap it came from may be reloaded or freed
 * while workers still read the snapshot.
 */
static void
test_no_pointer_into_bootstrap(void **state)
{
	static const char cfg[] =
		"ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\"; "
		 "} );\n"
		"static_resources = {\n"
		"  clusters = ( { name = \"c\"; endpoints = [ \"10.0.0.5:80\" ]; } );\n"
		"  listeners = ( { name = \"web\"; port = 80; filter = \"http\";\n"
		"    route_config = { virtual_hosts = (\n"
		"      { name = \"maintenance\"; domains = [ \"old.example.com\" ]; routes = ( ); "
		 "},\n"
		"      { name = \"web\"; domains = [ \"*\" ];\n"
		"        routes = ( { match = { prefix = \"/\"; }; route = { cluster = \"c\"; }; "
		 "} ); }\n"
		"    ); }; } );\n"
		"};\n";
	char dir[] = "/tmp/hf-snap-XXXXXX", path[64], err[HF_BOOT_ERR] = "";
	struct hf_snapshot *s;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(cfg, f);
	fclose(f);
	if (hf_bootstrap_load(&boot, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	unlink(path);
	rmdir(dir);
	s = hf_snapshot_build(&boot, 1);
	assert_non_null(s);
	assert_int_equal(s->listeners[0].table.n_vhosts, 2);
	assert_int_equal(s->listeners[0].table.vhosts[0].n_routes, 0);
	for (unsigned int i = 0; i < s->listeners[0].table.n_vhosts; i++) {
		const struct hf_vhost *v = &s->listeners[0].table.vhosts[i];

		print_message("  vhost %s: routes at %p; bootstrap %p..%p\n", v->name,
			      (const void *)v->routes, (void *)&boot, (void *)(&boot + 1));
		assert_false(in_bootstrap(v->routes));
		assert_false(in_bootstrap(v));
	}
	/* What a worker does with it: an old.example.com request finds no route (404 NR). */
	assert_null(hf_router_route(hf_router_vhost(&s->listeners[0].table, "old.example.com", 15),
				    "/", 1));
	hf_snapshot_free(s);
	memset(&boot, 0, sizeof(boot));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_http_tables),
		cmocka_unit_test(test_no_pointer_into_bootstrap),
	};

	hf_test_eal(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
