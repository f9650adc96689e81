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
	assert_int_equal(boot.n_eal_args, 2);
	assert_string_equal(boot.eal_args[1], "--in-memory");
	assert_int_equal(boot.n_ports, 1);
	assert_string_equal(boot.ports[0].name, "p0");
	assert_string_equal(boot.ports[0].device, "net_tap0,iface=hf0");
	assert_int_equal(boot.ports[0].addr, hf_test_addr("198.51.100.2"));
	assert_int_equal(boot.ports[0].prefix_len, 24);
	assert_int_equal(boot.ports[0].gateway, hf_test_addr("198.51.100.1"));
	assert_int_equal(boot.ports[0].mtu, 1500);
	assert_false(boot.ports[0].impair.enabled);
	assert_int_equal(boot.workers, 1);
	assert_string_equal(boot.admin_address, "127.0.0.1");
	assert_int_equal(boot.admin_port, 15000);
}

#define PORT "ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\"; } );\n"

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
	{PORT "workers = 0;\n", 2, "workers", "out of range"},
	{PORT "dpdk = { lcores = \"0-1\"; };\nworkers = 2;\n", 3, "workers", "need 3 lcores"},
	{PORT "dpdk = { lcores = \"abc\"; };\n", 2, "dpdk.lcores", "not a core list"},
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
	{"ports = ( { name = \"p0\"; device = \"d\"; address = \"198.51.100.2/24\";\n"
	 " impair = { loss = 1.5; }; } );\n", 2, "ports.[0].impair.loss", "not a probability"},
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
		unlink(path);
	}
	rmdir(dir);
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
	assert_int_equal(hf_parse_ipv4("198.51.100.2/24", &a, &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(hf_parse_ipv4("198.51.100.2", &a, NULL), 0);
	assert_int_equal(hf_parse_ipv4("198.51.100.2/", &a, &len), -EINVAL);
	assert_int_equal(hf_parse_ipv4("198.51.100.2/0", &a, &len), -EINVAL);
	assert_int_equal(hf_parse_ipv4("198.51.100/24", &a, &len), -EINVAL);
	assert_int_equal(hf_parse_ipv4("198.51.100.2/24", &a, NULL), -EINVAL);
	assert_int_equal(hf_bootstrap_count_lcores("0-1"), 2);
	assert_int_equal(hf_bootstrap_count_lcores("0,2-5,7"), 6);
	assert_int_equal(hf_bootstrap_count_lcores("3"), 1);
	assert_int_equal(hf_bootstrap_count_lcores("2-1"), -1);
	assert_int_equal(hf_bootstrap_count_lcores("(0-1)@0"), -1);
	assert_int_equal(hf_bootstrap_count_lcores(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
