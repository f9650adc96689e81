/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootstrap file: the example loads as documented, and every mistake is
 * refused with one line naming the file, the line and the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "dataplane/net/addr.h"
#include "control-agent/snapshot.h"

static struct hf_bootstrap boot;

static void
test_example(void **state)
{
	const char *root = getenv("HF_SOURCE_ROOT");
	char path[512], err[HF_BOOT_ERR];

	(void)state;
	snprintf(path, sizeof(path), "%s/examples/hydrofoil.cfg", root ? root : ".");
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	assert_string_equal(boot.node_id, "gw-1");
	assert_string_equal(boot.node_cluster, "hydrofoil");
	assert_int_equal(boot.n_labels, 1);
	assert_string_equal(boot.labels[0], "istio=ingressgateway");
	assert_string_equal(boot.lcores, "0-1");
	/* no --in-memory: secondary processes (dpdk-dumpcap) may attach */
	assert_int_equal(boot.n_eal_args, 1);
	assert_string_equal(boot.eal_args[0], "--no-pci");
	assert_int_equal(boot.n_ports, 1);
	assert_string_equal(boot.ports[0].name, "p0");
	assert_string_equal(boot.ports[0].device, "net_tap0,iface=hf0");
	assert_int_equal(boot.ports[0].addr, hf_test_addr("198.51.100.2"));
	assert_int_equal(boot.ports[0].prefix_len, 24);
	assert_int_equal(boot.ports[0].gateway, hf_test_addr("198.51.100.1"));
	assert_int_equal(boot.ports[0].mtu, 1500);
	assert_int_equal(boot.ports[0].rx_descriptors, HF_PORT_DESCRIPTORS);
	assert_int_equal(boot.ports[0].tx_descriptors, HF_PORT_DESCRIPTORS);
	assert_false(boot.ports[0].impair.enabled);
	assert_int_equal(boot.workers, 1);
	assert_string_equal(boot.admin_address, "127.0.0.1");
	assert_int_equal(boot.admin_port, 15000);
}

/* A file with every HTTP setting: each lands where the workers and snapshots read it. */
static const char http_cfg[] =
	"ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\";\n"
	"            rx_descriptors = 4096; tx_descriptors = 512; } );\n"
	"static_resources = {\n"
	"  clusters = (\n"
	"    { name = \"productpage\"; connect_timeout_ms = 250;\n"
	"      endpoints = [ \"10.0.0.5:9080\", \"10.0.0.6:9080\" ]; },\n"
	"    { name = \"reviews\"; endpoints = [ \"10.0.0.7:9080\" ]; } );\n"
	"  listeners = (\n"
	"    { name = \"l4\"; port = 9000; filter = \"tcp_proxy\"; cluster = \"reviews\"; },\n"
	"    { name = \"ingress\"; port = 80; filter = \"http\";\n"
	"      request_headers_timeout_ms = 5000; idle_timeout_ms = 30000;\n"
	"      max_request_headers_kb = 32; max_headers_count = 50; max_request_line = 4096;\n"
	"      route_config = { virtual_hosts = (\n"
	"        { name = \"bookinfo\";\n"
	"          domains = [ \"Bookinfo.Example.COM\", \"*.bookinfo.example.com\" ];\n"
	"          routes = (\n"
	"            { name = \"api\"; match = { prefix = \"/api/v1/\"; };\n"
	"              route = { cluster = \"reviews\"; timeout_ms = 2000;\n"
	"                        max_request_bytes = 1048576; }; },\n"
	"            { match = { path = \"/health\"; };\n"
	"              route = { cluster = \"productpage\"; }; },\n"
	"            { name = \"default\"; match = { prefix = \"/\"; };\n"
	"              route = { cluster = \"productpage\"; timeout_ms = 0; }; } ); },\n"
	"        { name = \"catch-all\"; domains = [ \"*\" ];\n"
	"          routes = ( { name = \"all\"; match = { prefix = \"/\"; };\n"
	"                       route = { cluster = \"reviews\"; }; } ); }\n"
	"      ); }; },\n"
	"    { name = \"plain\"; port = 8080; filter = \"http\";\n"
	"      route_config = { virtual_hosts = (\n"
	"        { name = \"only\"; domains = [ \"plain.example.com:8080\" ];\n"
	"          routes = ( { match = { path = \"/\"; };\n"
	"                       route = { cluster = \"reviews\"; }; } );\n"
	"        } ); }; }\n"
	"  );\n"
	"};\n"
	"access_log = \"/var/log/hydrofoil/access.log\";\n"
	"http = { max_requests = 2048; };\n";

static void
test_http_listeners(void **state)
{
	char dir[] = "/tmp/hf-boot-XXXXXX", path[600], err[HF_BOOT_ERR] = "";
	const struct hf_http_listener_config *h, *p;
	const struct hf_boot_route_config *hr, *pr;
	const struct hf_boot_route *r;
	struct hf_snapshot *snap;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/http.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(http_cfg, f);
	fclose(f);
	if (hf_bootstrap_load(&boot, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	unlink(path);
	rmdir(dir);

	assert_int_equal(boot.ports[0].rx_descriptors, 4096);
	assert_int_equal(boot.ports[0].tx_descriptors, 512);
	assert_int_equal(boot.http_max_requests, 2048);
	assert_int_equal(boot.n_clusters, 2);
	assert_int_equal(boot.clusters[0].connect_timeout_ms, 250);
	assert_int_equal(boot.clusters[0].n_endpoints, 2);
	assert_int_equal(boot.n_listeners, 3);
	assert_int_equal(boot.listeners[0].filter, HF_FILTER_TCP_PROXY);
	assert_int_equal(boot.listeners[0].cluster, 1);
	assert_int_equal(boot.route_configs[0].n_vhosts, 0);

	/* The listener with every setting given. */
	assert_string_equal(boot.listeners[1].name, "ingress");
	assert_int_equal(boot.listeners[1].port, 80);
	assert_int_equal(boot.listeners[1].filter, HF_FILTER_HTTP);
	assert_int_equal(boot.listeners[1].cluster, -1);
	h = &boot.listeners[1].http;
	hr = &boot.route_configs[1];
	assert_int_equal(h->request_headers_timeout_ms, 5000);
	assert_int_equal(h->idle_timeout_ms, 30000);
	assert_int_equal(h->limits.max_head, 32 * 1024);
	assert_int_equal(h->limits.max_headers, 50);
	assert_int_equal(h->limits.max_request_line, 4096);
	assert_int_equal(hr->first_vhost, 0);
	assert_int_equal(hr->n_vhosts, 2);

	/* The one left to defaults: Envoy's HCM defaults. */
	p = &boot.listeners[2].http;
	pr = &boot.route_configs[2];
	assert_int_equal(boot.listeners[2].filter, HF_FILTER_HTTP);
	assert_int_equal(p->request_headers_timeout_ms, 10000);
	assert_int_equal(p->idle_timeout_ms, 60000);
	assert_int_equal(p->limits.max_head, 60 * 1024);
	assert_int_equal(p->limits.max_headers, 100);
	assert_int_equal(p->limits.max_request_line, 8192);
	assert_int_equal(pr->first_vhost, 2);
	assert_int_equal(pr->n_vhosts, 1);

	/* Virtual hosts in file order, domains lower-cased, routes in file order. */
	assert_int_equal(boot.n_vhosts, 3);
	assert_int_equal(boot.n_routes, 5);
	assert_string_equal(boot.vhosts[0].name, "bookinfo");
	assert_int_equal(boot.vhosts[0].n_domains, 2);
	assert_string_equal(boot.vhosts[0].domains[0], "bookinfo.example.com");
	assert_string_equal(boot.vhosts[0].domains[1], "*.bookinfo.example.com");
	assert_int_equal(boot.vhosts[0].n_routes, 3);
	assert_ptr_equal(boot.vhosts[0].routes, &boot.routes[0]);
	assert_string_equal(boot.vhosts[1].name, "catch-all");
	assert_string_equal(boot.vhosts[1].domains[0], "*");
	assert_int_equal(boot.vhosts[1].n_routes, 1);
	assert_ptr_equal(boot.vhosts[1].routes, &boot.routes[3]);
	assert_string_equal(boot.vhosts[2].name, "only");
	assert_string_equal(boot.vhosts[2].domains[0], "plain.example.com:8080");
	assert_ptr_equal(boot.vhosts[2].routes, &boot.routes[4]);

	r = &boot.vhosts[0].routes[0];
	assert_string_equal(r->name, "api");
	assert_int_equal(r->match, HF_ROUTE_PREFIX);
	assert_string_equal(r->path, "/api/v1/");
	assert_int_equal(r->cluster, 1);
	assert_int_equal(r->timeout_ms, 2000);
	assert_int_equal(r->max_request_bytes, 1048576);
	r = &boot.vhosts[0].routes[1];
	assert_string_equal(r->name, "");
	assert_int_equal(r->match, HF_ROUTE_EXACT);
	assert_string_equal(r->path, "/health");
	assert_int_equal(r->cluster, 0);
	assert_int_equal(r->timeout_ms, 15000);	/* Envoy's default route timeout */
	assert_int_equal(r->max_request_bytes, 0);
	r = &boot.vhosts[0].routes[2];
	assert_string_equal(r->name, "default");
	assert_int_equal(r->timeout_ms, 0);	/* 0: no timeout, as written */
	assert_int_equal(r->cluster, 0);
	assert_int_equal(boot.vhosts[1].routes[0].cluster, 1);
	assert_string_equal(boot.vhosts[1].routes[0].name, "all");
	assert_int_equal(boot.vhosts[2].routes[0].match, HF_ROUTE_EXACT);
	assert_string_equal(boot.access_log, "/var/log/hydrofoil/access.log");

	/* The tables, compiled into a snapshot, route as the file says. */
	snap = hf_snapshot_build(&boot, 1);
	assert_non_null(snap);
	{
		const struct hf_snap_listener *sl = hf_snapshot_listener(snap, 80);
		const struct hf_vhost *v;

		assert_non_null(sl);
		v = hf_router_vhost(&sl->table, "reviews.bookinfo.example.com", 28);
		assert_non_null(v);
		assert_string_equal(v->name, "bookinfo");
		assert_string_equal(hf_router_vhost(&sl->table, "other", 5)->name, "catch-all");
	}
	hf_snapshot_free(snap);
}

#define PORT "ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\"; } );\n"

/* Line 2: a cluster "c"; line 3: an http listener, its settings to follow. */
#define CLUSTER                                                                                    \
	"static_resources = { clusters = ( { name = \"c\"; endpoints = [ \"10.0.0.5:80\" ]; } );\n"
#define HTTP_L CLUSTER " listeners = ( { name = \"l\"; port = 80; filter = \"http\";\n"
/* Line 4: a virtual host whose routes follow on line 5; END closes it all. */
#define VHOST                                                                                      \
	" route_config = { virtual_hosts = ( { name = \"v\"; domains = [ \"*\" ];\n routes = ("
#define END " ); } ); }; } ); };\n"
/* The key of that first route. */
#define R0 "static_resources.listeners.[0].route_config.virtual_hosts.[0].routes.[0]"

static const struct {
	const char *text;
	int line;
	const char *key;	/* must appear in the message */
	const char *what;	/* and so must this */
} bad[] = {
	{"ports = ( { name = \"p0\" } ", 1, "syntax", "syntax error"},
	{PORT "colour = \"blue\";\n", 2, "colour", "unknown key"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\"; speed = 10; } );\n",
	 1, "ports.[0].speed", "unknown key"},
	{"workers = 1;\n", 1, "ports", "required"},
	{"ports = ( );\n", 1, "ports", "0 ports"},
	{"ports = ( { name = \"p0\"; device = \"d\"; } );\n", 1, "ports.[0].address", "missing"},
	{"ports = ( { name = \"p0\"; device = \"d\";\n address = \"198.51.100.2\"; } );\n", 2, "ports.[0]",
	 "not an IPv4 prefix"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/33\"; } );\n", 1, "ports.[0]",
	 "not an IPv4 prefix"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n gateway = \"1.2.3\"; } );\n",
	 2, "ports.[0]", "not an IPv4 address"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n gateway = \"203.0.113.1\"; } );\n",
	 2, "ports.[0]", "not another host"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n mtu = 50; } );\n", 2,
	 "ports.[0].mtu", "out of range"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n rx_descriptors = 32; } );\n",
	 2, "ports.[0].rx_descriptors", "out of range"},
	{PORT "workers = 0;\n", 2, "workers", "out of range"},
	{PORT "dpdk = { lcores = \"0-1\"; };\nworkers = 2;\n", 3, "workers", "need 3 lcores"},
	{PORT "dpdk = { lcores = \"abc\"; };\n", 2, "dpdk.lcores", "not a core list"},
	{PORT "dpdk = { lcores = \"(0-1)@0\"; };\nworkers = 2;\n", 3, "workers", "need 3 lcores"},
	{PORT "dpdk = { lcores = \"0@0,1@(0\"; };\n", 2, "dpdk.lcores", "nor an lcore map"},
	{PORT "node = { labels = [ \"istio\" ]; };\n", 2, "node.labels", "key=value"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\"; },\n"
	 "          { name = \"p0\"; device = \"e\"; address = \"198.51.100.3/24\"; } );\n", 2, "ports",
	 "used twice"},
	{PORT "workers = \"1\";\n", 2, "workers", "must be an integer"},
	{PORT "admin = { port = 70000; };\n", 2, "admin.port", "out of range"},
	{PORT "static_resources = { listeners = ( { name = \"l\"; port = 80; filter = \"http2\"; } ); };\n",
	 2, "static_resources.listeners.[0]", "not one of echo, discard, tcp_proxy"},
	{PORT "static_resources = { listeners = ( { name = \"l\"; port = 80; filter = \"tcp_proxy\";\n"
	 " cluster = \"nowhere\"; } ); };\n", 3, "static_resources.listeners.[0]", "no cluster named"},
	{PORT "static_resources = { clusters = ( { name = \"c\";\n endpoints = [ \"198.51.100.1\" ]; } ); };\n",
	 3, "static_resources.clusters.[0]", "not a.b.c.d:port"},
	{PORT "tcp = { congestion = \"bbr\"; };\n", 2, "tcp.congestion", "not one of cubic, newreno"},
	{PORT "ports2 = 1;\n", 2, "ports2", "unknown key"},
	{PORT "http = { max_requests = 8; };\n", 2, "http.max_requests", "out of range"},
	{PORT "http = { max_streams = 64; };\n", 2, "http.max_streams", "unknown key"},
	{PORT "http = {\n forward_client_cert = \"APPEND_FORWARD\"; };\n", 3, "http.forward_client_cert",
	 "'APPEND_FORWARD' is not one of SANITIZE_SET, SANITIZE"},
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n"
	 " impair = { loss = 1.5; }; } );\n", 2, "ports.[0].impair.loss", "not a probability"},
	/* HTTP listeners: their settings, route configurations and the routes' clusters. */
	{PORT HTTP_L " route_config = { virtual_hosts = ( );\n colour = 1; }; } ); };\n", 5,
	 "static_resources.listeners.[0].route_config.colour", "unknown key"},
	{PORT HTTP_L " route_config = { virtual_hosts = ( { name = \"v\"; domains = [ \"*\" ];\n"
	 " domain = \"x\"; routes = ( ); } ); }; } ); };\n", 5,
	 "static_resources.listeners.[0].route_config.virtual_hosts.[0].domain", "unknown key"},
	{PORT HTTP_L VHOST " { match = { prefix = \"/\"; }; route = { cluster = \"c\"; };\n"
	 " weight = 1; }" END, 6, R0 ".weight", "unknown key"},
	{PORT HTTP_L VHOST " { match = { prefix = \"/\";\n regex = \"x\"; };"
	 " route = { cluster = \"c\"; }; }" END, 6, R0 ".match.regex", "unknown key"},
	{PORT HTTP_L VHOST " { match = { prefix = \"/\"; }; route = { cluster = \"c\";\n"
	 " retries = 3; }; }" END, 6, R0 ".route.retries", "unknown key"},
	{PORT HTTP_L VHOST " {\n match = { prefix = \"/\"; path = \"/x\"; };"
	 " route = { cluster = \"c\"; }; }" END, 6, R0 ".match", "exactly one of prefix, path"},
	{PORT HTTP_L VHOST " {\n match = { }; route = { cluster = \"c\"; }; }" END, 6, R0 ".match",
	 "exactly one of prefix, path"},
	{PORT HTTP_L VHOST " {\n match = { path = \"health\"; };"
	 " route = { cluster = \"c\"; }; }" END, 6, R0 ".match", "must start with '/'"},
	{PORT HTTP_L VHOST " { match = { prefix = \"/\"; };\n route = { cluster = \"nowhere\"; }; }"
	 END, 6, R0 ".route", "no cluster named 'nowhere'"},
	{PORT HTTP_L VHOST " { match = { prefix = \"/\"; }; route = { timeout_ms = 5; }; }" END, 5,
	 R0 ".route.cluster", "required"},
	{PORT HTTP_L "\n cluster = \"c\";\n route_config = { virtual_hosts = ( ); }; } ); };\n", 5,
	 "static_resources.listeners.[0]", "takes no cluster"},
	{PORT CLUSTER " listeners = ( { name = \"l\"; port = 80; filter = \"tcp_proxy\";"
	 " cluster = \"c\";\n route_config = { virtual_hosts = ( ); }; } ); };\n", 4,
	 "static_resources.listeners.[0]", "route_config is for http listeners"},
	{PORT CLUSTER " listeners = ( { name = \"l\"; port = 80; filter = \"echo\";\n"
	 " idle_timeout_ms = 5; } ); };\n", 4, "static_resources.listeners.[0]",
	 "idle_timeout_ms is for http listeners"},
	{PORT HTTP_L " route_config = { virtual_hosts = ( { name = \"v\";\n"
	 " domains = [ \"a*b.com\" ]; routes = ( ); } ); }; } ); };\n", 5,
	 "static_resources.listeners.[0].route_config.virtual_hosts.[0]", "domain 'a*b.com'"},
	{PORT HTTP_L " route_config = { virtual_hosts = ( { name = \"v\";\n"
	 " domains = [ \"*.a.*\" ]; routes = ( ); } ); }; } ); };\n", 5,
	 "static_resources.listeners.[0].route_config.virtual_hosts.[0]", "domain '*.a.*'"},
	{PORT HTTP_L " route_config = { virtual_hosts = ( { name = \"v\"; domains = [ ];\n"
	 " routes = ( ); } ); }; } ); };\n", 4,
	 "static_resources.listeners.[0].route_config.virtual_hosts.[0]", "at least one domain"},
	{PORT HTTP_L "\n max_headers_count = 500;\n route_config = { virtual_hosts = ( ); };"
	 " } ); };\n", 5, "static_resources.listeners.[0].max_headers_count", "out of range"},
	{PORT HTTP_L "\n max_headers_count = 0;\n route_config = { virtual_hosts = ( ); };"
	 " } ); };\n", 5, "static_resources.listeners.[0].max_headers_count", "out of range"},
	{PORT HTTP_L "\n max_request_headers_kb = 97;\n route_config = { virtual_hosts = ( ); };"
	 " } ); };\n", 5, "static_resources.listeners.[0].max_request_headers_kb", "out of range"},
	{PORT HTTP_L " } ); };\n", 3, "static_resources.listeners.[0].route_config", "required"},
	/* Values quoted in a message keep it one line: control bytes come out as \xNN. */
	{"ports = ( { name = \"p0\"; device = \"d\";\n address = \"198.51.100.2\n/24\"; } );\n", 2,
	 "ports.[0]", "address '198.51.100.2\\x0a/24' is not"},
	{PORT "tcp = { congestion = \"\\x1b[2Jcubic\\r\"; };\n", 2, "tcp.congestion",
	 "'\\x1b[2Jcubic\\x0d' is not one of"},
	{PORT "\n\naccess_log = 1;\n", 4, "access_log", "must be a string"},
	{PORT "access_log = \"\";\n", 2, "access_log", "must not be empty"},
	/* overload = { }: triggers are [scaling, saturation] within [0, 1], on known monitors */
	{PORT "overload = {\n shed_requests = { backlog = [ 0.9 ]; }; };\n", 3,
	 "overload.shed_requests.backlog", "want [scaling, saturation]"},
	{PORT "overload = { shed_requests = {\n mbufs = [ 0.9, 1.5 ]; }; };\n", 3,
	 "overload.shed_requests.mbufs", "want 0 <= scaling <= saturation <= 1"},
	{PORT "overload = { shed_requests = {\n lag = [ 0.5, 0.6 ]; }; };\n", 3,
	 "overload.shed_requests.lag", "unknown key"},
	{PORT "overload = {\n window_ms = 0; };\n", 3, "overload.window_ms", "out of range"},
	{PORT "overload = {\n stop = { }; };\n", 3, "overload.stop", "unknown key"},
};

static void
test_bad_files(void **state)
{
	char dir[] = "/tmp/hf-boot-XXXXXX", path[600], err[HF_BOOT_ERR], want[640];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/bad%zu.cfg", dir, k);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[k].text, f);
		fclose(f);
		err[0] = '\0';
		assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), -EINVAL);
		print_message("  %s\n", err);
		snprintf(want, sizeof(want), "%s:%d: ", path, bad[k].line);
		assert_non_null(strstr(err, want));
		assert_non_null(strstr(err, bad[k].key));
		assert_non_null(strstr(err, bad[k].what));
		for (const char *e = err; *e != '\0'; e++)
			assert_true((unsigned char)*e >= 0x20 && *e != 0x7f);
		unlink(path);
	}
	rmdir(dir);
}

/* overload = { }: an action's group replaces its default triggers; enabled = false stops all. */
static void
test_overload(void **state)
{
	char path[] = "/tmp/hf-boot-ovl-XXXXXX", err[HF_BOOT_ERR];
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(PORT "overload = { window_ms = 2; queue_delay_us = 300;\n"
		   " shed_requests = { streams = [ 0.5, 0.75 ]; connections = [ 1, 1 ];\n"
		   "  queue_delay = [ 0, 1 ]; }; };\n", f);
	fclose(f);
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	assert_int_equal(boot.overload.window_us, 2000);
	assert_int_equal(boot.overload.queue_delay_us, 300);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_QUEUE_DELAY].scaling == 0.0f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_QUEUE_DELAY].saturation == 1.0f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_STREAMS].scaling == 0.5f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_STREAMS].saturation == 0.75f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_CONNECTIONS].scaling == 1.0f);
	/* The mbufs default of shed_requests is gone with its group; the others' stay. */
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_MBUFS].scaling > 1.0f);
	assert_true(boot.overload.trigger[HF_OVA_DISABLE_KEEPALIVE][HF_OVM_MBUFS].scaling < 1.0f);

	f = fopen(path, "w");
	fputs(PORT "overload = { enabled = false; };\n", f);
	fclose(f);
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	for (int a = 0; a < HF_OVA__N; a++)
		for (int m = 0; m < HF_OVM__N; m++)
			assert_true(boot.overload.trigger[a][m].scaling > 1.0f);

	/* Without the group: the defaults (overload.c). */
	f = fopen(path, "w");
	fputs(PORT, f);
	fclose(f);
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	assert_int_equal(boot.overload.window_us, 10000);
	assert_int_equal(boot.overload.queue_delay_us, 500);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_QUEUE_DELAY].scaling > 1.0f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_MBUFS].scaling < 1.0f);
	assert_true(boot.overload.trigger[HF_OVA_SHED_REQUESTS][HF_OVM_BACKLOG].scaling > 1.0f);
	unlink(path);
}

static void
test_missing_file(void **state)
{
	char err[HF_BOOT_ERR];

	(void)state;
	assert_int_equal(hf_bootstrap_load(&boot, "/nonexistent/x.cfg", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.cfg"));
}

static void
test_parsers(void **state)
{
	uint32_t a;
	uint8_t len;

	(void)state;
	assert_int_equal(hf_addr_parse_ipv4("198.51.100.2/24", &a, &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(hf_addr_parse_ipv4("198.51.100.2", &a, NULL), 0);
	assert_int_equal(hf_addr_parse_ipv4("198.51.100.2/", &a, &len), -EINVAL);
	assert_int_equal(hf_addr_parse_ipv4("198.51.100.2/0", &a, &len), -EINVAL);
	assert_int_equal(hf_addr_parse_ipv4("198.51.100/24", &a, &len), -EINVAL);
	assert_int_equal(hf_addr_parse_ipv4("198.51.100.2/24", &a, NULL), -EINVAL);
	assert_int_equal(hf_bootstrap_count_lcores("0-1"), 2);
	assert_int_equal(hf_bootstrap_count_lcores("0,2-5,7"), 6);
	assert_int_equal(hf_bootstrap_count_lcores("3"), 1);
	assert_int_equal(hf_bootstrap_count_lcores("2-1"), -1);
	assert_int_equal(hf_bootstrap_count_lcores(""), -1);
}

/*
 * dpdk.lcores as DPDK's --lcores map: several lcores on fewer CPUs, so that N
 * workers run on a machine with fewer cores. Each string is counted as EAL
 * would start threads for it, or refused as EAL would refuse it.
 */
static const struct {
	const char *list;
	int count;
} lcore_lists[] = {
	{"0@0,1@1,2@1", 3},
	{"(0-3)@(0-1)", 4},
	{"0@0,(1-3)@1", 4},
	{"0,(1,2)@1", 3},
	{"(0,2-3,5)@(0,1)", 4},
	{"1-3@0", 3},		/* a bare range before '@': lcores 1..3 all on CPU 0 */
	{"0-1,2@(0-1)", 3},
	{"0@1023", 1},		/* a CPU id may be past the lcore bound, not past the cpuset's */
	/* Refused: malformed, empty, reversed, out of range, or an lcore named twice. */
	{"(0-1)@", -1},
	{"@0", -1},
	{"(0-1", -1},
	{"(0-1))@0", -1},
	{"()@0", -1},
	{"(1-0)@0", -1},
	{"0@(1-0)", -1},
	{"0@0@1", -1},
	{"0@0,", -1},
	{",0", -1},
	{"0@1024", -1},
	{"0, 1", -1},
	{"(0-1)@0,1@1", -1},
	{"0,0", -1},
	{"99999999999999999999", -1},
	{"-1@0", -1},
};

static void
test_lcore_map(void **state)
{
	char dir[] = "/tmp/hf-boot-XXXXXX", path[600], err[HF_BOOT_ERR] = "";
	FILE *f;

	(void)state;
	for (size_t k = 0; k < sizeof(lcore_lists) / sizeof(lcore_lists[0]); k++) {
		print_message("  %s\n", lcore_lists[k].list);
		assert_int_equal(hf_bootstrap_count_lcores(lcore_lists[k].list), lcore_lists[k].count);
	}
	/* lcores at the bound: the last valid id, then one past it */
	snprintf(path, sizeof(path), "0@0,%d@1", RTE_MAX_LCORE - 1);
	assert_int_equal(hf_bootstrap_count_lcores(path), 2);
	snprintf(path, sizeof(path), "0@0,%d@1", RTE_MAX_LCORE);
	assert_int_equal(hf_bootstrap_count_lcores(path), -1);

	/* Three workers and the agent on two CPUs: the bootstrap takes it. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/map.cfg", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\"; } );\n"
	      "dpdk = { lcores = \"0@0,1@1,(2-3)@(0-1)\"; };\nworkers = 3;\n", f);
	fclose(f);
	assert_int_equal(hf_bootstrap_load(&boot, path, err, sizeof(err)), 0);
	assert_string_equal(boot.lcores, "0@0,1@1,(2-3)@(0-1)");
	assert_int_equal(boot.workers, 3);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_http_listeners),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_lcore_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
