/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a route decides for a request: rewritten targets, redirect
 * locations, CORS answers, weighted destinations and fault chances within
 * statistical bounds, and the header operations a forwarded request and its
 * response carry.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hf_test.h"
#include "control-agent/model/model.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_route.h"

static struct hf_h1_message msg;

static void
parse(const char *head)
{
	struct hf_h1_scan scan;
	struct hf_h1_limits lim;

	hf_h1_limits_default(&lim);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(head, strlen(head), &scan, &lim, &msg), (int)strlen(head));
}

static void
test_rewrite(void **state)
{
	static const struct {
		const char *uri;	/* rewrite.uri */
		bool whole;		/* exact or regex match */
		const char *prefix;	/* the matched prefix */
		const char *in, *out;
	} cases[] = {
		{"/newcatalog", false, "/wpcatalog", "/wpcatalog", "/newcatalog"},
		{"/newcatalog", false, "/wpcatalog", "/wpcatalog/item/7?x=1", "/newcatalog/item/7?x=1"},
		{"/newcatalog", false, "/consumercatalog", "/consumercatalog?a", "/newcatalog?a"},
		{"/", false, "/api/", "/api/users", "/users"},
		{"/v2/ratings", true, "", "/ratings/0?u=jason", "/v2/ratings?u=jason"},
		{"/x", true, "", "/anything/at/all", "/x"},
	};
	char out[256];

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct hf_route r = {0};
		size_t n;

		r.rewrite_uri = cases[k].uri;
		r.rewrite_uri_len = (uint16_t)strlen(cases[k].uri);
		r.rewrite_whole = cases[k].whole;
		r.strip = (uint16_t)strlen(cases[k].prefix);
		n = hf_http_route_target(&r, NULL, cases[k].in, strlen(cases[k].in), out, sizeof(out));
		print_message("  %-26s → %.*s\n", cases[k].in, (int)n, out);
		assert_int_equal(n, strlen(cases[k].out));
		assert_memory_equal(out, cases[k].out, n);
	}
	/* A rewrite that does not fit is refused, not cut. */
	{
		struct hf_route r = {.rewrite_uri = "/long/replacement", .rewrite_uri_len = 17,
				     .rewrite_whole = true};

		assert_int_equal(hf_http_route_target(&r, NULL, "/a", 2, out, 10), 0);
	}
}

/* uriRegexRewrite: every match of the pattern in the path, groups as $1, the query kept. */
static void
test_regex_rewrite(void **state)
{
	static const struct {
		const char *re, *sub, *in, *out;
	} cases[] = {
		{"^/service/([^/]+)(/.*)$", "$2/instance/$1", "/service/foo/v1/api?x=1",
		 "/v1/api/instance/foo?x=1"},
		{"/v[0-9]+/", "/latest/", "/api/v1/users/v22/x", "/api/latest/users/latest/x"},
		{"^/nomatch$", "/x", "/stays/as/is", "/stays/as/is"},
		/* A result not rooted is taken from the root: the target stays origin-form. */
		{"^/api/([a-z]+)/(.*)$", "$2/$1", "/api/users/42?x=1", "/42/users?x=1"},
		{"^/.*$", "", "/anything?q", "/?q"},
		{"^/api/([a-z]+)/(.*)$", "?/$2", "/api/users/42", "/?/42"},
	};
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	char out[256];

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)cases[k].re, PCRE2_ZERO_TERMINATED, 0, &ec,
					       &eo, NULL);
		struct hf_route r = {.rewrite_re = re, .rewrite_sub = cases[k].sub,
				     .rewrite_sub_len = (uint16_t)strlen(cases[k].sub)};
		size_t n;

		assert_non_null(re);
		n = hf_http_route_target(&r, md, cases[k].in, strlen(cases[k].in), out, sizeof(out));
		print_message("  %-26s → %.*s\n", cases[k].in, (int)n, out);
		assert_int_equal(n, strlen(cases[k].out));
		assert_memory_equal(out, cases[k].out, n);
		pcre2_code_free(re);
	}
	pcre2_match_data_free(md);
}

static void
test_redirect_location(void **state)
{
	static const struct {
		const char *uri, *authority, *scheme;
		uint32_t port;
		const char *head, *want;
	} cases[] = {
		{"/v1/bookinfo", NULL, NULL, 0, "GET /old?q=1 HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
		 "location: http://a.example/v1/bookinfo?q=1\r\n"},
		{NULL, "new.example", "https", 8443, "GET /keep/me HTTP/1.1\r\nHost: a.example\r\n\r\n",
		 "location: https://new.example:8443/keep/me\r\n"},
		{"/", "b.example", NULL, 0, "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n",
		 "location: http://b.example/\r\n"},
	};
	char out[256];

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct hf_route r = {0};
		size_t n;

		r.redirect_uri = cases[k].uri;
		r.redirect_authority = cases[k].authority;
		r.redirect_scheme = cases[k].scheme;
		r.redirect_port = cases[k].port;
		parse(cases[k].head);
		n = hf_http_route_location(&r, &msg, out, sizeof(out));
		print_message("  %s", out);
		assert_int_equal(n, strlen(cases[k].want));
		assert_string_equal(out, cases[k].want);
	}
}

static void
test_cors(void **state)
{
	static const struct hf_route_origin origins[] = {
		{.kind = HF_MATCH_EXACT, .value = "https://bookinfo.example", .len = 24},
		{.kind = HF_MATCH_PREFIX, .value = "https://dev.", .len = 12},
	};
	struct hf_route r = {0};
	char out[512];
	bool pre;
	int n;

	(void)state;
	r.cors.enabled = true;
	r.cors.n_origins = 2;
	r.cors.origins = origins;
	r.cors.allow_methods = "GET, POST";
	r.cors.allow_headers = "x-user";
	r.cors.expose_headers = "x-trace";
	r.cors.max_age_s = 600;
	r.cors.allow_credentials = true;
	/* A preflight from an allowed origin: answered here, with the policy. */
	parse("OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://bookinfo.example\r\n"
	      "Access-Control-Request-Method: POST\r\n\r\n");
	n = hf_http_route_cors(&r, &msg, out, sizeof(out), &pre);
	assert_true(n > 0);
	assert_true(pre);
	assert_non_null(strstr(out, "access-control-allow-origin: https://bookinfo.example\r\n"));
	assert_non_null(strstr(out, "access-control-allow-methods: GET, POST\r\n"));
	assert_non_null(strstr(out, "access-control-allow-headers: x-user\r\n"));
	assert_non_null(strstr(out, "access-control-max-age: 600\r\n"));
	assert_non_null(strstr(out, "access-control-allow-credentials: true\r\n"));
	/* A plain request from a prefix-allowed origin: forwarded, the answer gains the fields. */
	parse("GET /api HTTP/1.1\r\nHost: a\r\nOrigin: https://dev.bookinfo.example\r\n\r\n");
	n = hf_http_route_cors(&r, &msg, out, sizeof(out), &pre);
	assert_true(n > 0);
	assert_false(pre);
	assert_non_null(strstr(out, "access-control-expose-headers: x-trace\r\n"));
	assert_null(strstr(out, "allow-methods"));
	/* Another origin, or none: no CORS fields at all. */
	parse("OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\n"
	      "Access-Control-Request-Method: POST\r\n\r\n");
	assert_int_equal(hf_http_route_cors(&r, &msg, out, sizeof(out), &pre), 0);
	assert_false(pre);
	parse("GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(hf_http_route_cors(&r, &msg, out, sizeof(out), &pre), 0);
	/* Fields that do not fit are refused rather than cut. */
	parse("OPTIONS /api HTTP/1.1\r\nHost: a\r\nOrigin: https://bookinfo.example\r\n"
	      "Access-Control-Request-Method: POST\r\n\r\n");
	assert_int_equal(hf_http_route_cors(&r, &msg, out, 40, &pre), -1);
}

/* Weighted picks and fault chances stay within 5 standard deviations of their share. */
static void
test_weights_and_chances(void **state)
{
	static const struct hf_route_dest d[] = {
		{.cluster = 0, .weight_end = 10}, {.cluster = 1, .weight_end = 40},
		{.cluster = 2, .weight_end = 100},
	};
	const struct hf_route r = {.n_dests = 3, .total_weight = 100, .dests = d};
	enum { N = 100000 };
	unsigned int got[3] = {0}, hits = 0;
	const double share[3] = {0.1, 0.3, 0.6};

	(void)state;
	for (int i = 0; i < N; i++)
		got[hf_http_route_dest(&r)->cluster]++;
	for (int k = 0; k < 3; k++) {
		double mean = N * share[k], sd = sqrt(N * share[k] * (1 - share[k]));

		print_message("  destination %d: %u of %d (want %.0f ± %.0f)\n", k, got[k], N, mean,
			      5 * sd);
		assert_true(fabs(got[k] - mean) < 5 * sd);
	}
	for (int i = 0; i < N; i++)
		hits += hf_http_chance(250000);
	print_message("  25%% chance: %u of %d\n", hits, N);
	assert_true(fabs(hits - N * 0.25) < 5 * sqrt(N * 0.25 * 0.75));
	for (int i = 0; i < 1000; i++) {
		assert_false(hf_http_chance(0));
		assert_true(hf_http_chance(1000000));
	}
}

/* Reads a chain back into a string. */
static void
chain_str(const struct hf_http_wr *wr, char *out, size_t cap)
{
	size_t n = 0;

	for (const struct rte_mbuf *m = wr->head; m != NULL; m = m->next) {
		assert_true(n + m->data_len < cap);
		memcpy(out + n, rte_pktmbuf_mtod(m, const char *), m->data_len);
		n += m->data_len;
	}
	out[n] = '\0';
}

static void
test_header_operations(void **state)
{
	static const struct hf_route_hdr_op rq[] = {
		{.op = HF_HDR_SET, .name = "x-route", .name_len = 7, .value = "reviews", .value_len = 7},
		{.op = HF_HDR_REMOVE, .name = "x-secret", .name_len = 8, .value = "", .value_len = 0},
	};
	static const struct hf_route_hdr_op dest[] = {
		{.op = HF_HDR_ADD, .name = "x-version", .name_len = 9, .value = "v2", .value_len = 2},
	};
	static const struct hf_route_hdr_op rs[] = {
		{.op = HF_HDR_SET, .name = "cache-control", .name_len = 13, .value = "no-store",
		 .value_len = 8},
		{.op = HF_HDR_REMOVE, .name = "server", .name_len = 6, .value = "", .value_len = 0},
		{.op = HF_HDR_ADD, .name = "x-gw", .name_len = 4, .value = "hydrofoil", .value_len = 9},
	};
	char rid[HF_UUID_LEN + 1], xff[64], out[2048], edit[HF_HTTP_EDIT_MAX];
	struct hf_http_rq_extra x = {
		.client_addr = hf_test_addr("198.51.100.1"),
		.request_id = rid,
		.xff = xff,
		.xff_len = sizeof(xff),
		.target = "/newcatalog/1",
		.target_len = 13,
		.authority = "reviews.default",
		.authority_len = 15,
		.ops = {rq, dest},
		.n_ops = {2, 1},
	};
	struct hf_h1_scan scan;
	struct hf_h1_limits lim;
	struct hf_http_wr wr;
	size_t elen = 0;

	(void)state;
	parse("GET /wpcatalog/1 HTTP/1.1\r\nHost: reviews\r\nX-Route: old\r\nX-Secret: s\r\n"
	      "X-Version: v0\r\n\r\n");
	hf_http_wr_init(&wr, hf_test_pool());
	hf_http_build_request(&wr, &msg, &x);
	assert_false(wr.failed);
	chain_str(&wr, out, sizeof(out));
	print_message("%s", out);
	assert_non_null(strstr(out, "GET /newcatalog/1 HTTP/1.1\r\nhost: reviews.default\r\n"));
	assert_non_null(strstr(out, "x-envoy-original-path: /wpcatalog/1\r\n"));
	assert_null(strstr(out, "Host: reviews\r\n"));
	assert_null(strstr(out, "X-Route: old"));
	assert_non_null(strstr(out, "x-route: reviews\r\n"));
	assert_null(strstr(out, "X-Secret"));
	assert_non_null(strstr(out, "X-Version: v0\r\n"));	/* add keeps what was there */
	assert_non_null(strstr(out, "x-version: v2\r\n"));
	hf_http_wr_discard(&wr);

	/* The response's operations travel as an edit list, applied to the upstream's head. */
	assert_int_equal(hf_http_edit_add(edit, &elen, rs, 3), 0);
	hf_h1_limits_default(&lim);
	hf_h1_scan_reset(&scan);
	{
		static const char head[] = "HTTP/1.1 200 OK\r\nServer: nginx\r\nCache-Control: max-age=9\r\n"
					   "Content-Length: 0\r\n\r\n";

		assert_int_equal(hf_h1_parse_response(head, sizeof(head) - 1, &scan, &lim, &msg),
				 (int)sizeof(head) - 1);
	}
	hf_http_wr_init(&wr, hf_test_pool());
	hf_http_build_response(&wr, &msg, true, false, 3, edit);
	chain_str(&wr, out, sizeof(out));
	print_message("%s", out);
	assert_null(strstr(out, "Server: nginx"));
	assert_null(strstr(out, "max-age=9"));
	assert_non_null(strstr(out, "cache-control: no-store\r\n"));
	assert_non_null(strstr(out, "x-gw: hydrofoil\r\n"));
	assert_non_null(strstr(out, "Content-Length: 0\r\n"));
	hf_http_wr_discard(&wr);
	/* An edit list that would overflow is refused whole. */
	{
		struct hf_route_hdr_op big = {.op = HF_HDR_ADD, .name = "x-big", .name_len = 5,
					      .value_len = 300};
		char v[301];

		memset(v, 'v', 300);
		v[300] = '\0';
		big.value = v;
		elen = 0;
		assert_int_equal(hf_http_edit_add(edit, &elen, &big, 1), -ENOSPC);
		assert_int_equal(elen, 0);
		assert_int_equal(edit[0], '\0');
	}
}

/*
 * What a route makes of a request may not pass the limits the client's
 * request had to keep: the head sent upstream is refused exactly when the
 * listener's own parser, with the same limits, would refuse it (an upstream
 * of our kind would), never cut. Checked around each limit, for a prefix
 * rewrite that lengthens the line, an authority rewrite and header
 * operations that lengthen the head.
 */
static void
test_rewrite_limits(void **state)
{
	enum { LINE = 96, HEAD = 600 };
	static const char tail[] = " HTTP/1.1\r";	/* what the line holds after the target */
	struct hf_h1_limits lim = {.max_request_line = LINE, .max_head = HEAD, .max_headers = 100};
	char rid[HF_UUID_LEN + 1], xff[64], out[4096], head[1024], target[512], value[1024];
	struct hf_route_hdr_op op = {.op = HF_HDR_SET, .name = "x-grown", .name_len = 7};
	struct hf_route r = {.rewrite_uri = "/longer/prefix/", .rewrite_uri_len = 15, .strip = 3};
	unsigned int refused_line = 0, refused_head = 0, sent = 0;

	(void)state;
	/* Request lines of LINE - 12 .. LINE bytes: all pass the listener; the rewrite adds 12. */
	for (int plen = LINE - 12 - 4 - (int)strlen(tail); plen <= LINE - 4 - (int)strlen(tail);
	     plen++) {
		struct hf_http_rq_extra x = {.client_addr = hf_test_addr("198.51.100.1"),
					     .request_id = rid, .xff = xff, .xff_len = sizeof(xff),
					     .limits = &lim};
		struct hf_h1_scan scan;
		struct hf_h1_message up;
		struct hf_http_wr wr;
		size_t tlen;
		int rc, prc;

		memset(target, 'p', sizeof(target));
		memcpy(target, "/a/", 3);
		snprintf(head, sizeof(head), "GET %.*s HTTP/1.1\r\nHost: a\r\n\r\n", plen, target);
		parse(head);
		tlen = hf_http_route_target(&r, NULL, msg.target.p, msg.target.len, out, sizeof(out));
		assert_int_equal(tlen, (size_t)plen + 12);
		x.target = out;
		x.target_len = (uint32_t)tlen;
		hf_http_wr_init(&wr, hf_test_pool());
		rc = hf_http_build_request(&wr, &msg, &x);
		assert_false(wr.failed);
		if (rc == 0) {
			char sent_head[4096];

			chain_str(&wr, sent_head, sizeof(sent_head));
			hf_h1_scan_reset(&scan);
			prc = hf_h1_parse_request(sent_head, strlen(sent_head), &scan, &lim, &up);
			assert_int_equal(prc, (int)strlen(sent_head));
			sent++;
		} else {
			/* The line alone, as sent, is what the parser would refuse. */
			snprintf(head, sizeof(head), "GET %.*s HTTP/1.1\r\n", (int)tlen, out);
			hf_h1_scan_reset(&scan);
			assert_int_equal(rc, -ENAMETOOLONG);
			assert_int_equal(hf_h1_parse_request(head, strlen(head), &scan, &lim, &up),
					 HF_H1_E_URI_TOO_LONG);
			refused_line++;
		}
		hf_http_wr_discard(&wr);
	}
	print_message("  prefix rewrite +12 bytes over 13 line lengths: %u sent, %u refused (414)\n",
		      sent, refused_line);
	assert_int_equal(sent, 1);
	assert_int_equal(refused_line, 12);

	/* A set operation whose value grows the head a byte a step across max_head. */
	parse("GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n");
	sent = 0;
	for (unsigned int vlen = 300; vlen < 500; vlen++) {
		struct hf_http_rq_extra x = {.client_addr = hf_test_addr("198.51.100.1"),
					     .request_id = rid, .xff = xff, .xff_len = sizeof(xff),
					     .ops = {&op}, .n_ops = {1}, .limits = &lim};
		struct hf_h1_scan scan;
		struct hf_h1_message up;
		struct hf_http_wr wr, free_wr;
		char sent_head[4096];
		int rc;

		memset(value, 'v', vlen);
		op.value = value;
		op.value_len = (uint16_t)vlen;
		hf_http_wr_init(&wr, hf_test_pool());
		rc = hf_http_build_request(&wr, &msg, &x);
		/* The same head built without limits, for the parser to judge. */
		x.limits = NULL;
		hf_http_wr_init(&free_wr, hf_test_pool());
		assert_int_equal(hf_http_build_request(&free_wr, &msg, &x), 0);
		chain_str(&free_wr, sent_head, sizeof(sent_head));
		hf_h1_scan_reset(&scan);
		if (rc == 0) {
			assert_int_equal(hf_h1_parse_request(sent_head, strlen(sent_head), &scan, &lim,
							     &up),
					 (int)strlen(sent_head));
			assert_true(strlen(sent_head) <= HEAD);
			sent++;
		} else {
			assert_int_equal(rc, -EMSGSIZE);
			assert_int_equal(hf_h1_parse_request(sent_head, strlen(sent_head), &scan, &lim,
							     &up),
					 HF_H1_E_HEADERS_TOO_LARGE);
			assert_int_equal(strlen(sent_head), HEAD + refused_head + 1);
			refused_head++;
		}
		hf_http_wr_discard(&wr);
		hf_http_wr_discard(&free_wr);
	}
	print_message("  header operation 300..499 bytes: %u sent, %u refused (431)\n", sent,
		      refused_head);
	assert_true(sent > 0 && refused_head > 0);
	assert_int_equal(sent + refused_head, 200);

	/* An authority rewrite alone can pass max_head too; without limits nothing is refused. */
	{
		struct hf_http_rq_extra x = {.client_addr = hf_test_addr("198.51.100.1"),
					     .request_id = rid, .xff = xff, .xff_len = sizeof(xff),
					     .authority = value, .authority_len = HEAD,
					     .limits = &lim};
		struct hf_http_wr wr;

		memset(value, 'h', HEAD);
		hf_http_wr_init(&wr, hf_test_pool());
		assert_int_equal(hf_http_build_request(&wr, &msg, &x), -EMSGSIZE);
		hf_http_wr_discard(&wr);
		x.limits = NULL;
		hf_http_wr_init(&wr, hf_test_pool());
		assert_int_equal(hf_http_build_request(&wr, &msg, &x), 0);
		assert_true(wr.len > HEAD);
		hf_http_wr_discard(&wr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_regex_rewrite),
		cmocka_unit_test(test_redirect_location),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_weights_and_chances),
		cmocka_unit_test(test_header_operations),
		cmocka_unit_test(test_rewrite_limits),
	};

	hf_test_eal(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
