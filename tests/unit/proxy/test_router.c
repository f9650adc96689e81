/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual host and route selection, Envoy's precedence, as a table. */
#include <errno.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/proxy/router.h"

static struct hf_route routes[] = {
	{.match = HF_ROUTE_PREFIX, .path = "/api/v1/", .cluster = 0},
	{.match = HF_ROUTE_EXACT, .path = "/health", .cluster = 1},
	{.match = HF_ROUTE_PREFIX, .path = "/", .cluster = 2},
};
static struct hf_route only_exact[] = {{.match = HF_ROUTE_EXACT, .path = "/x", .cluster = 3}};

static struct hf_vhost vh[] = {
	{.name = "exact", .n_domains = 1, .domains = {"api.example.com"}},
	{.name = "suffix-short", .n_domains = 1, .domains = {"*.example.com"}},
	{.name = "suffix-long", .n_domains = 1, .domains = {"*.api.example.com"}},
	{.name = "prefix", .n_domains = 1, .domains = {"api.*"}},
	{.name = "any", .n_domains = 1, .domains = {"*"}},
	{.name = "with-port", .n_domains = 2, .domains = {"reviews:9080", "reviews.default"}},
};

/* A 253-character name and ":8080" (258 characters) is a domain like any other: stored whole, matched. */
static void
test_long_domains(void **state)
{
	static struct hf_vhost lv[2];
	struct hf_route_table t = {.n_vhosts = 2, .vhosts = lv};
	char host[300];

	(void)state;
	memset(host, 'x', 253);
	host[253] = '\0';
	snprintf(lv[0].name, sizeof(lv[0].name), "long");
	lv[0].n_domains = 1;
	snprintf(lv[0].domains[0], sizeof(lv[0].domains[0]), "%.253s:8080", host);
	lv[1].n_domains = 1;
	snprintf(lv[1].name, sizeof(lv[1].name), "other");
	snprintf(lv[1].domains[0], sizeof(lv[1].domains[0]), "%.252sy", host);
	assert_int_equal(strlen(lv[0].domains[0]), 258);
	strcat(host, ":8080");
	assert_ptr_equal(hf_router_vhost(&t, host, strlen(host)), &lv[0]);
	/* The same name but its last byte: the other virtual host, port or not. */
	host[252] = 'y';
	assert_ptr_equal(hf_router_vhost(&t, host, strlen(host)), &lv[1]);
	assert_ptr_equal(hf_router_vhost(&t, host, 253), &lv[1]);
	host[252] = 'x';
	assert_null(hf_router_vhost(&t, host, 253));
}

static void
test_vhosts(void **state)
{
	static const struct {
		const char *host, *want;
	} cases[] = {
		{"api.example.com", "exact"},
		{"API.Example.COM", "exact"},			/* case-insensitive */
		{"api.example.com:8443", "prefix"},		/* as Envoy: the authority as sent, port too */
		{"x.example.com", "suffix-short"},
		{"a.b.api.example.com", "suffix-long"},		/* longest suffix wins */
		{"api.foo.example.com", "suffix-short"},	/* suffix beats prefix */
		{"api.internal", "prefix"},
		{"example.com", "any"},				/* "*." needs a label in front */
		{"other.org", "any"},
		{"reviews:9080", "with-port"},
		{"reviews.default", "with-port"},
	};
	struct hf_route_table t = {.n_vhosts = sizeof(vh) / sizeof(vh[0]), .vhosts = vh};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct hf_vhost *v = hf_router_vhost(&t, cases[k].host, strlen(cases[k].host));

		print_message("  %-24s → %s\n", cases[k].host, v ? v->name : "(none)");
		assert_non_null(v);
		assert_string_equal(v->name, cases[k].want);
	}
	/* Without a catch-all, an unknown authority has no virtual host: 404 NR. */
	t.n_vhosts = 3;
	assert_null(hf_router_vhost(&t, "other.org", 9));
	/* When nothing names the port, the bare host is tried. */
	assert_string_equal(hf_router_vhost(&t, "api.example.com:8443", 20)->name, "exact");
}

static void
test_routes(void **state)
{
	static const struct {
		const char *target;
		int cluster;
	} cases[] = {
		{"/api/v1/ratings/0", 0}, {"/api/v1/", 0}, {"/health", 1}, {"/health?probe=1", 1},
		{"/healthz", 2}, {"/api/v2", 2}, {"/", 2}, {"/API/v1/x", 2},	/* paths are case-sensitive */
	};
	struct hf_vhost v = {.n_routes = 3, .routes = routes};

	(void)state;
	for (unsigned int i = 0; i < 3; i++)
		routes[i].path_len = (uint16_t)strlen(routes[i].path);
	only_exact[0].path_len = 2;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct hf_route *r = hf_router_route(&v, cases[k].target, strlen(cases[k].target));

		assert_non_null(r);
		assert_int_equal(r->cluster, cases[k].cluster);
	}
	v.routes = only_exact;
	v.n_routes = 1;
	assert_null(hf_router_route(&v, "/y", 2));
	assert_null(hf_router_route(&v, "/x/", 3));
	assert_non_null(hf_router_route(&v, "/x?a", 4));
}

static void
test_domain_syntax(void **state)
{
	(void)state;
	assert_int_equal(hf_router_domain_valid("*"), 0);
	assert_int_equal(hf_router_domain_valid("*.example.com"), 0);
	assert_int_equal(hf_router_domain_valid("api.*"), 0);
	assert_int_equal(hf_router_domain_valid("bookinfo.example.com"), 0);
	assert_int_equal(hf_router_domain_valid("a*b"), -EINVAL);
	assert_int_equal(hf_router_domain_valid("**"), -EINVAL);
	assert_int_equal(hf_router_domain_valid("*a*"), -EINVAL);
	assert_int_equal(hf_router_domain_valid(""), -EINVAL);
	/* A DNS name at its longest (253 characters), with or without a port; not a byte more. */
	{
		char d[HF_ROUTER_DOMAIN + 16];

		memset(d, 'a', 253);
		for (int i = 63; i < 253; i += 64)
			d[i] = '.';
		d[253] = '\0';
		assert_int_equal(hf_router_domain_valid(d), 0);
		strcpy(d + 253, ":65535");
		assert_int_equal(hf_router_domain_valid(d), 0);
		strcpy(d + 253, ":80");
		assert_int_equal(hf_router_domain_valid(d), 0);
		strcpy(d + 253, ":655350");
		assert_int_equal(hf_router_domain_valid(d), -EINVAL);
		strcpy(d + 253, "b");
		assert_int_equal(hf_router_domain_valid(d), -EINVAL);
		strcpy(d + 253, "b:80");
		assert_int_equal(hf_router_domain_valid(d), -EINVAL);
		d[0] = '*';
		d[253] = '\0';
		assert_int_equal(hf_router_domain_valid(d), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhosts),
		cmocka_unit_test(test_long_domains),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_domain_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
