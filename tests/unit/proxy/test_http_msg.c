/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the HTTP proxy writes and how it reads: the request head an upstream
 * receives and the response head a client receives (hop-by-hop fields
 * replaced, x-forwarded-*, x-request-id), local replies byte for byte, a head
 * read the same however TCP cut it into segments, and a stream cut at any byte
 * without copying or losing an mbuf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "hf_test.h"
#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/router.h"
#include "dataplane/tcp/tcp.h"

#define CLIENT "198.51.100.1"
#define UUID "<uuid>"	/* in an expected head: a generated x-request-id goes here */
#define OUT_MAX 16384

static struct hf_port port;
static struct hf_worker *W;
static struct hf_h1_limits lim;
static struct hf_h1_message msg, ref;
static char out[OUT_MAX];

/* Copies the bytes of chain @p m into out[] as a C string; returns their count. */
static size_t
chain_str(const struct rte_mbuf *m)
{
	size_t n = 0;

	for (; m != NULL; m = m->next) {
		assert_true(n + m->data_len < sizeof(out));
		memcpy(out + n, rte_pktmbuf_mtod(m, const char *), m->data_len);
		n += m->data_len;
	}
	out[n] = '\0';
	return n;
}

/* Frees a chain linked through ->next whatever its head's nb_segs says. */
static void
chain_free(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

/* Available mbufs of the packet pool and of the TCP stack's indirect pool: leaks show here. */
static unsigned int
avail(void)
{
	return rte_mempool_avail_count(hf_test_pool()) + hf_mbuf_stashed(W) +
	       rte_mempool_avail_count(W->tcp->clone_pool);
}

/* An 8-4-4-4-12 lowercase hex UUID, version 4, variant 10 (RFC 9562 5.4). */
static bool
is_uuid4(const char *s, size_t n)
{
	if (n != HF_UUID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static int
setup(void **state)
{
	struct hf_tcp_config cfg;

	(void)state;
	hf_h1_limits_default(&lim);
	hf_test_port(&port, 0, 0, "198.51.100.2/24", NULL);
	W = hf_test_worker(0, &port, 1);
	hf_tcp_config_default(&cfg);
	cfg.max_connections = 64;
	assert_int_equal(hf_tcp_init(W, &cfg), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_test_worker_free(W);
	return 0;
}

/* --- hf_http_build_request ------------------------------------------------------------------ */

static const struct {
	const char *what;
	const char *in;
	bool upgrade;		/* the session upgrades (HF_HTTP_S_UPGRADE) */
	const char *out;	/* the head the upstream gets */
	const char *xff;	/* x-forwarded-for as reported for the log */
	const char *rid;	/* x-request-id as reported; NULL: the generated one */
} rq[] = {
	{"plain GET: x-forwarded-for, x-forwarded-proto and a new x-request-id added",
	 "GET /productpage?u=normal HTTP/1.1\r\nHost: bookinfo.example.com\r\n"
	 "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
	 false,
	 "GET /productpage?u=normal HTTP/1.1\r\nHost: bookinfo.example.com\r\n"
	 "User-Agent: curl/8.5.0\r\nAccept: */*\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"hop-by-hop fields and the field Connection names are removed",
	 "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\n"
	 "Keep-Alive: timeout=5\r\n"
	 "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: Expires\r\nUpgrade: h2c\r\n"
	 "X-Secret: 1\r\nX-Secret-Not: 2\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Secret-Not: 2\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"field names in any case; several Connection fields; x-forwarded-proto replaced",
	 "GET / HTTP/1.1\r\nHost: a\r\nCONNECTION: close\r\nconnection: X-A ,\tx-b\r\n"
	 "KEEP-ALIVE: 1\r\n"
	 "x-a: 1\r\nX-B: 2\r\nX-C: 3\r\nX-FORWARDED-PROTO: https\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-C: 3\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"Host passes even when Connection names it: the upstream needs the authority routed by",
	 "GET / HTTP/1.1\r\nHost: a\r\nConnection: host, X-A\r\nX-A: 1\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"Expect removed (answered here); Content-Length passes even when Connection names it",
	 "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n"
	 "Connection: Content-Length\r\nX-Forwarded-Proto: https\r\n\r\n",
	 false,
	 "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"Transfer-Encoding passes as it came, TE does not",
	 "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nTE: trailers\r\n\r\n",
	 false,
	 "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
	 "x-forwarded-for: " CLIENT
	 "\r\nx-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"an existing x-forwarded-for gets the client appended",
	 "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.7, 192.0.2.9\r\nHost: a\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 203.0.113.7, 192.0.2.9, " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 "203.0.113.7, 192.0.2.9, " CLIENT, NULL},
	{"an empty x-forwarded-for is replaced by the client",
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: \r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: " CLIENT "\r\nx-forwarded-proto: http\r\n"
	 "x-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"the client's x-request-id is kept where it was, no other added",
	 "GET / HTTP/1.1\r\nX-Request-Id: 3f0c1f6e-trace-me\r\nHost: a\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nX-Request-Id: 3f0c1f6e-trace-me\r\nHost: a\r\nx-forwarded-for: " CLIENT
	 "\r\nx-forwarded-proto: http\r\n\r\n",
	 CLIENT, "3f0c1f6e-trace-me"},
	{"a long x-request-id passes whole; the log gets its first 36 characters",
	 "GET / HTTP/1.1\r\nHost: a\r\nx-request-id: 0123456789abcdef0123456789abcdef0123456789\r\n"
	 "\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-request-id: 0123456789abcdef0123456789abcdef0123456789\r\n"
	 "x-forwarded-for: " CLIENT "\r\nx-forwarded-proto: http\r\n\r\n",
	 CLIENT, "0123456789abcdef0123456789abcdef0123"},
	{"an empty x-request-id is replaced by a generated one, not sent beside it",
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: \r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: " CLIENT "\r\nx-forwarded-proto: http\r\n"
	 "x-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"an HTTP/1.0 client: a 1.0 request that asks the upstream to persist",
	 "GET /old HTTP/1.0\r\nConnection: keep-alive\r\nUser-Agent: ab/2.3\r\n\r\n",
	 false,
	 "GET /old HTTP/1.0\r\nUser-Agent: ab/2.3\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\nconnection: keep-alive\r\n\r\n",
	 CLIENT, NULL},
	{"an upgrade: Upgrade kept, connection: upgrade",
	 "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
	 "Upgrade: websocket\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	 true,
	 "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	 "x-forwarded-for: " CLIENT "\r\nx-forwarded-proto: http\r\nx-request-id: " UUID "\r\n"
	 "connection: upgrade\r\n\r\n",
	 CLIENT, NULL},
	{"lines not already \"name: value\" are rewritten so; the others pass as they came",
	 "GET /a HTTP/1.1\r\nHost:a\r\nX-Tab:\tv\r\nX-One: 1\r\nX-Two: 2\r\nX-Trail: t  \r\n"
	 "X-Empty:\r\nX-Sp-Empty: \r\nX-Three:   3\r\nX-Four: 4\r\n\r\n",
	 false,
	 "GET /a HTTP/1.1\r\nHost: a\r\nX-Tab: v\r\nX-One: 1\r\nX-Two: 2\r\nX-Trail: t\r\n"
	 "X-Empty: \r\nX-Sp-Empty: \r\nX-Three: 3\r\nX-Four: 4\r\nx-forwarded-for: " CLIENT
	 "\r\nx-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"Connection options in any case; a field one names is removed",
	 "GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\nclose: 1\r\nConnection: X-Gone\r\n"
	 "x-gone: 2\r\nX-Kept: 3\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nX-Kept: 3\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"Connection: close names a field called close as any option does: it is removed "
	 "(RFC 9110 7.6.1); without the option it passes",
	 "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nclose: 1\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"a field called close without Connection: close passes",
	 "GET / HTTP/1.1\r\nHost: a\r\nclose: 1\r\n\r\n",
	 false,
	 "GET / HTTP/1.1\r\nHost: a\r\nclose: 1\r\nx-forwarded-for: " CLIENT "\r\n"
	 "x-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
	{"the same request when not upgrading: Upgrade removed",
	 "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
	 "Upgrade: websocket\r\n"
	 "Sec-WebSocket-Version: 13\r\n\r\n",
	 false,
	 "GET /chat HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Version: 13\r\nx-forwarded-for: " CLIENT
	 "\r\nx-forwarded-proto: http\r\nx-request-id: " UUID "\r\n\r\n",
	 CLIENT, NULL},
};

/*
 * Compares out[] (@p n bytes) with @p want, where UUID in @p want stands for
 * 36 characters that must be a version 4 UUID equal to @p rid. Prints what
 * differs; returns whether all matched.
 */
static bool
head_matches(const char *want, size_t n, const char *rid, const char *what)
{
	const char *mark = strstr(want, UUID);
	size_t pre, post;

	if (mark == NULL) {
		if (strcmp(out, want) == 0)
			return true;
		print_error("%s:\n--- want\n%s--- got\n%s", what, want, out);
		return false;
	}
	pre = (size_t)(mark - want);
	post = strlen(mark + strlen(UUID));
	if (n != pre + HF_UUID_LEN + post || memcmp(out, want, pre) != 0 ||
	    strcmp(out + pre + HF_UUID_LEN, mark + strlen(UUID)) != 0) {
		print_error("%s:\n--- want\n%s--- got\n%s", what, want, out);
		return false;
	}
	if (!is_uuid4(out + pre, HF_UUID_LEN)) {
		print_error("%s: x-request-id %.36s is not a version 4 UUID\n", what, out + pre);
		return false;
	}
	if (rid != NULL && memcmp(out + pre, rid, HF_UUID_LEN) != 0) {
		print_error("%s: x-request-id sent %.36s, reported %s\n", what, out + pre, rid);
		return false;
	}
	return true;
}

static void
test_build_request(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(rq) / sizeof(rq[0]); k++) {
		struct hf_h1_scan scan;
		struct hf_http_wr wr;
		char rid[HF_UUID_LEN + 1], xff[64];
		struct hf_http_rq_extra x = {
			.client_addr = hf_test_addr(CLIENT),
			.upgrade = rq[k].upgrade,
			.request_id = rid,
			.xff = xff,
			.xff_len = sizeof(xff),
		};
		size_t n;
		int rc;

		print_message("  %s\n", rq[k].what);
		hf_h1_scan_reset(&scan);
		rc = hf_h1_parse_request(rq[k].in, strlen(rq[k].in), &scan, &lim, &msg);
		assert_int_equal(rc, strlen(rq[k].in));
		x.http10 = msg.minor == 0;	/* as the session decides */
		memset(rid, 'Z', sizeof(rid));
		hf_http_wr_init(&wr, hf_test_pool());
		hf_http_build_request(&wr, &msg, &x);
		assert_false(wr.failed);
		n = chain_str(wr.head);
		assert_int_equal(n, wr.len);
		assert_non_null(memchr(rid, '\0', sizeof(rid)));
		if (!head_matches(rq[k].out, n, rid, rq[k].what) ||
		    (rq[k].rid != NULL && strcmp(rid, rq[k].rid) != 0) ||
		    strcmp(xff, rq[k].xff) != 0) {
			print_error("%s: request id '%s', x-forwarded-for '%s'\n", rq[k].what, rid,
				    xff);
			failed++;
		}
		/* What the upstream gets is itself a valid request head. */
		hf_h1_scan_reset(&scan);
		assert_int_equal(hf_h1_parse_request(out, n, &scan, &lim, &ref), (int)n);
		hf_http_wr_discard(&wr);
	}
	assert_int_equal(failed, 0);
}

/* Every request gets an id of its own, always of the UUIDv4 form. */

/*
 * Parses the request head @p in and builds the head its mirror sends into out[]
 * (hf_http_build_request() as the shadow's: HTTP/1.1, its Host the shadow
 * host when @p shadow_host); returns its length.
 */
static size_t
mirror_head(const char *in, bool shadow_host)
{
	char rid[HF_UUID_LEN + 1], xff[64], sh[HF_ROUTER_DOMAIN + 8];
	struct hf_http_rq_extra x = {.client_addr = hf_test_addr(CLIENT), .request_id = rid,
				     .xff = xff, .xff_len = sizeof(xff)};
	struct hf_h1_scan scan;
	struct hf_http_wr wr;
	size_t n;

	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(in, strlen(in), &scan, &lim, &msg), (int)strlen(in));
	if (shadow_host) {
		x.authority = sh;
		x.authority_len =
			(uint32_t)hf_http_shadow_host(sh, sizeof(sh), msg.host.p, msg.host.len);
	}
	hf_http_wr_init(&wr, hf_test_pool());
	assert_int_equal(hf_http_build_request(&wr, &msg, &x), 0);
	n = chain_str(wr.head);
	hf_http_wr_discard(&wr);
	return n;
}

/* The mirror's Host: "-shadow" after the host, before the port, as Envoy's shadowAppend. */
static void
test_shadow_host(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ratings", "ratings-shadow"},
		{"host:80", "host-shadow:80"},
		{"bookinfo.example.com:8080", "bookinfo.example.com-shadow:8080"},
		{"198.51.100.2", "198.51.100.2-shadow"},
		{"198.51.100.2:80", "198.51.100.2-shadow:80"},
		{"[2001:db8::1]:443", "[2001:db8::1]-shadow:443"},
		{"[2001:db8::1]", "[2001:db8::1]-shadow"},
		{"a.test:", "a.test-shadow:"},
		{"8080", "8080-shadow"},
	};
	char sh[HF_ROUTER_DOMAIN + 8], host[300];
	struct hf_h1_scan scan;
	size_t n;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		n = hf_http_shadow_host(sh, sizeof(out), cases[k].in, strlen(cases[k].in));
		print_message("  %-26s → %s\n", cases[k].in, sh);
		assert_int_equal(n, strlen(cases[k].out));
		assert_string_equal(sh, cases[k].out);
	}
	/* The longest DNS name with the longest port fits; a byte more is refused, not cut. */
	memset(host, 'h', 253);
	memcpy(host + 253, ":65535", 7);
	assert_int_equal(hf_http_shadow_host(sh, sizeof(out), host, 259), 266);
	assert_memory_equal(sh + 253, "-shadow:65535", 14);
	assert_int_equal(hf_http_shadow_host(sh, 266, host, 259), 0);
	assert_int_equal(hf_http_shadow_host(sh, 267, host, 259), 266);

	/* The mirrored head carries it as its one Host, which parses back as sent. */
	n = mirror_head("GET /r HTTP/1.1\r\nHost: host:80\r\n\r\n", true);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(out, n, &scan, &lim, &ref), (int)n);
	assert_int_equal(ref.host.len, 14);
	assert_memory_equal(ref.host.p, "host-shadow:80", 14);
	assert_null(strstr(out, "Host: host:80"));
	/* A 1.0 client's request mirrored (x.http10 false) goes as 1.1, not as its line came. */
	mirror_head("GET /r HTTP/1.0\r\nHost: h\r\nX-A: 1\r\n\r\n", false);
	assert_memory_equal(out, "GET /r HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n", 34);
}

/*
 * The client's address in x-forwarded-for, as inet_ntop() writes it, for addresses whose bytes
 * have one, two and three digits and zeros in every place (0, 10, 100, 109, 200, 255, ...).
 */
static void
test_xff_address(void **state)
{
	static const uint8_t bytes[] = {0, 1, 9, 10, 19, 99, 100, 101, 109, 110, 199, 200, 250, 255};
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct hf_h1_message m;
	struct hf_h1_scan scan;

	(void)state;
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(in, sizeof(in) - 1, &scan, &lim, &m), (int)sizeof(in) - 1);
	for (size_t k = 0; k < 4 * RTE_DIM(bytes); k++) {
		uint8_t a[4] = {bytes[k % RTE_DIM(bytes)], bytes[(k * 3 + 1) % RTE_DIM(bytes)],
				bytes[(k * 5 + 2) % RTE_DIM(bytes)], bytes[(k * 7 + 3) % RTE_DIM(bytes)]};
		char rid[HF_UUID_LEN + 1], xff[64], want[INET_ADDRSTRLEN];
		struct hf_http_rq_extra x = {.request_id = rid, .xff = xff, .xff_len = sizeof(xff)};
		struct hf_http_wr wr;

		memcpy(&x.client_addr, a, 4);
		assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
		hf_http_wr_init(&wr, hf_test_pool());
		assert_int_equal(hf_http_build_request(&wr, &m, &x), 0);
		assert_string_equal(xff, want);
		hf_http_wr_discard(&wr);
	}
}

/*
 * Every piece the proxy adds to a forwarded head, in order, with those of unbounded length
 * (a prior x-forwarded-for, the client's certificate, the original path, an operation's
 * value) written between the gathered ones: nothing lost, moved or doubled around them.
 */
static void
test_added_fields(void **state)
{
	static const char in[] =
		"GET /old HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n";
	static const char want[] =
		"GET /new HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 203.0.113.7, " CLIENT "\r\n"
		"x-forwarded-proto: https\r\nx-forwarded-client-cert: By=spiffe://a/b;Hash=1f\r\n"
		"x-request-id: " UUID "\r\nx-envoy-original-path: /old\r\nx-op: v1\r\n"
		"connection: upgrade\r\n\r\n";
	static const char xfcc[] = "By=spiffe://a/b;Hash=1f";
	const struct hf_route_hdr_op op = {.op = HF_HDR_ADD, .name = "x-op", .name_len = 4,
					   .value = "v1", .value_len = 2};
	char rid[HF_UUID_LEN + 1], xff[64];
	struct hf_http_rq_extra x = {
		.client_addr = hf_test_addr(CLIENT),
		.https = true,
		.upgrade = true,
		.xfcc = xfcc,
		.xfcc_len = sizeof(xfcc) - 1,
		.request_id = rid,
		.xff = xff,
		.xff_len = sizeof(xff),
		.target = "/new",
		.target_len = 4,
		.ops = {&op, NULL},
		.n_ops = {1, 0},
	};
	struct hf_h1_scan scan;
	struct hf_http_wr wr;
	size_t n;

	(void)state;
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(in, sizeof(in) - 1, &scan, &lim, &msg),
			 (int)sizeof(in) - 1);
	hf_http_wr_init(&wr, hf_test_pool());
	assert_int_equal(hf_http_build_request(&wr, &msg, &x), 0);
	assert_false(wr.failed);
	n = chain_str(wr.head);
	assert_true(head_matches(want, n, rid, "added fields"));
	assert_string_equal(xff, "203.0.113.7, " CLIENT);
	hf_http_wr_discard(&wr);
}

static void
test_uuid4(void **state)
{
	char prev[HF_UUID_LEN + 1] = "", id[HF_UUID_LEN + 1];
	/* Per hex digit, the values it took: every random digit takes all 16. */
	uint16_t seen[HF_UUID_LEN] = {0};

	(void)state;
	for (int i = 0; i < 10000; i++) {
		hf_http_uuid4(id);
		assert_int_equal(strlen(id), HF_UUID_LEN);
		if (!is_uuid4(id, HF_UUID_LEN))
			fail_msg("%s is not a version 4 UUID", id);
		assert_string_not_equal(id, prev);
		memcpy(prev, id, sizeof(id));
		for (int k = 0; k < HF_UUID_LEN; k++)
			if (id[k] != '-')
				seen[k] |= (uint16_t)(1u << (id[k] <= '9' ? id[k] - '0' : id[k] - 'a' + 10));
	}
	for (int k = 0; k < HF_UUID_LEN; k++) {
		if (k == 8 || k == 13 || k == 18 || k == 23)
			continue;
		if (k == 14)
			assert_int_equal(seen[k], 1u << 4);		/* the version */
		else if (k == 19)
			assert_int_equal(seen[k], 0xf00);		/* variant 10: 8, 9, a, b */
		else
			assert_int_equal(seen[k], 0xffff);
	}
}

/* --- hf_http_build_response ----------------------------------------------------------------- */

static const struct {
	const char *what;
	const char *in;
	bool keep_alive, http10;
	int32_t service_ms;
	const char *out;
} rs[] = {
	{"persisting 1.1: hop-by-hop removed, the upstream's service time replaced by ours",
	 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n"
	 "Connection: keep-alive\r\n"
	 "Keep-Alive: timeout=5\r\nx-envoy-upstream-service-time: 99\r\n\r\n",
	 true, false, 12,
	 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n"
	 "x-envoy-upstream-service-time: 12\r\n\r\n"},
	{"not persisting: connection: close",
	 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false, false, 3,
	 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nx-envoy-upstream-service-time: 3\r\n"
	 "connection: close\r\n\r\n"},
	{"persisting 1.0 client: connection: keep-alive",
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true, true, 0,
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-envoy-upstream-service-time: 0\r\n"
	 "connection: keep-alive\r\n\r\n"},
	{"closing 1.0 client: connection: close",
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", false, true, 4,
	 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-envoy-upstream-service-time: 4\r\n"
	 "connection: close\r\n\r\n"},
	{"101 keeps Upgrade and says connection: upgrade",
	 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	 true, false, 1,
	 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	 "x-envoy-upstream-service-time: 1\r\n"
	 "connection: upgrade\r\n\r\n"},
	{"a 1.0 upstream answers 1.1; Upgrade outside 101 and named fields removed",
	 "HTTP/1.0 200 OK\r\nServer: old\r\nConnection: close, X-Backend\r\nX-Backend: b1\r\n"
	 "Trailer: Expires\r\nUpgrade: h2c\r\n\r\n",
	 false, false, 8, "HTTP/1.1 200 OK\r\nServer: old\r\nx-envoy-upstream-service-time: 8\r\n"
	 "connection: close\r\n\r\n"},
	{"chunked passes; TE and Proxy-Connection do not",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTE: x\r\n"
	 "Proxy-Connection: keep-alive\r\n\r\n",
	 true, false, 7,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-envoy-upstream-service-time: 7\r\n\r\n"
	 ""},
	{"a status line without a reason gets its space; fields rewritten as in requests",
	 "HTTP/1.1 204\r\nX-A:1\r\nX-B: 2\r\nX-C: 3 \r\n\r\n", true, false, -1,
	 "HTTP/1.1 204 \r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n"},
	{"an empty reason after its space passes as it came",
	 "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", true, false, -1,
	 "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"},
	{"no service time: none sent, the upstream's dropped; reason phrase as sent",
	 "HTTP/1.1 503 Try Later\r\nX-Envoy-Upstream-Service-Time: 5\r\nContent-Length: 0\r\n\r\n",
	 true, false, -1, "HTTP/1.1 503 Try Later\r\nContent-Length: 0\r\n\r\n"},
};

static void
test_build_response(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(rs) / sizeof(rs[0]); k++) {
		struct hf_h1_scan scan;
		struct hf_http_wr wr;
		size_t n;

		print_message("  %s\n", rs[k].what);
		hf_h1_scan_reset(&scan);
		assert_int_equal(hf_h1_parse_response(rs[k].in, strlen(rs[k].in), &scan, &lim,
						      &msg),
				 strlen(rs[k].in));
		hf_http_wr_init(&wr, hf_test_pool());
		hf_http_build_response(&wr, &msg, rs[k].keep_alive, rs[k].http10, rs[k].service_ms,
				       NULL);
		assert_false(wr.failed);
		n = chain_str(wr.head);
		assert_int_equal(n, wr.len);
		failed += !head_matches(rs[k].out, n, NULL, rs[k].what);
		hf_http_wr_discard(&wr);
		/*
		 * Written piece by piece, as for a status line and fields other code
		 * put in the message: the same bytes as the runs of received lines.
		 */
		ref = msg;
		ref.line.len = 0;
		for (uint32_t i = 0; i < ref.n_headers; i++)
			ref.headers[i].field = HF_H1_FLD_UNKNOWN;
		hf_http_wr_init(&wr, hf_test_pool());
		hf_http_build_response(&wr, &ref, rs[k].keep_alive, rs[k].http10, rs[k].service_ms,
				       NULL);
		assert_false(wr.failed);
		failed += !head_matches(rs[k].out, chain_str(wr.head), NULL, rs[k].what);
		hf_http_wr_discard(&wr);
	}
	assert_int_equal(failed, 0);
}

/* --- hf_http_build_local -------------------------------------------------------------------- */

static void
test_build_local(void **state)
{
	static const struct {
		int status;
		const char *body;
		bool close, head_only;
		const char *out;
	} lr[] = {
		{404, "", false, false,
		 "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n"
		 "server: hydrofoil\r\n\r\n"},
		{503, "no healthy upstream", true, false,
		 "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 19\r\n"
		 "content-type: text/plain\r\n"
		 "server: hydrofoil\r\nconnection: close\r\n\r\nno healthy upstream"},
		{503, "no healthy upstream", false, true,	/* HEAD: the length, not the body */
		 "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 19\r\n"
		 "content-type: text/plain\r\n"
		 "server: hydrofoil\r\n\r\n"},
		{431, "Request Header Fields Too Large", true, false,
		 "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 31\r\n"
		 "content-type: text/plain\r\nserver: hydrofoil\r\nconnection: close\r\n\r\n"
		 "Request Header Fields Too Large"},
		{504, "upstream request timeout", false, false,
		 "HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 24\r\n"
		 "content-type: text/plain\r\n"
		 "server: hydrofoil\r\n\r\nupstream request timeout"},
		{408, "request header timeout", true, true,
		 "HTTP/1.1 408 Request Timeout\r\ncontent-length: 22\r\n"
		 "content-type: text/plain\r\n"
		 "server: hydrofoil\r\nconnection: close\r\n\r\n"},
	};
	static char big[5000];
	struct hf_http_wr wr;
	size_t n;

	(void)state;
	for (size_t k = 0; k < sizeof(lr) / sizeof(lr[0]); k++) {
		hf_http_wr_init(&wr, hf_test_pool());
		hf_http_build_local(&wr, lr[k].status, lr[k].body, lr[k].close, lr[k].head_only, NULL);
		assert_false(wr.failed);
		n = chain_str(wr.head);
		assert_int_equal(n, wr.len);
		assert_string_equal(out, lr[k].out);
		hf_http_wr_discard(&wr);
	}
	/* A body larger than an mbuf spans a chain and arrives whole. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	hf_http_wr_init(&wr, hf_test_pool());
	hf_http_build_local(&wr, 200, big, false, false, NULL);
	assert_false(wr.failed);
	assert_non_null(wr.head->next);
	n = chain_str(wr.head);
	assert_non_null(strstr(out, "content-length: 4999\r\n"));
	assert_string_equal(strstr(out, "\r\n\r\n") + 4, big);
	hf_http_wr_discard(&wr);
}

/* A writer that runs out of mbufs says so, and discarding gives back what it had. */
static void
test_writer_out_of_mbufs(void **state)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create("hf_http_tiny", 2, 0, 0, 256, 0);
	static char body[2000];
	struct hf_http_wr wr;

	(void)state;
	assert_non_null(tiny);
	memset(body, 'x', sizeof(body) - 1);
	hf_http_wr_init(&wr, tiny);
	hf_http_build_local(&wr, 200, body, false, false, NULL);
	assert_true(wr.failed);
	assert_int_equal(rte_mempool_avail_count(tiny), 0);
	hf_http_wr_discard(&wr);
	assert_int_equal(rte_mempool_avail_count(tiny), 2);
	assert_null(wr.head);
	rte_mempool_free(tiny);
}

/* --- the reader ----------------------------------------------------------------------------- */

#define N_BUFS 4

static struct hf_http_heads hs;

/* Gather buffers as a worker has them: N_BUFS of @p size bytes. */
static void
bufs_init(uint32_t size)
{
	hf_http_heads_fini(&hs);
	assert_int_equal(hf_http_heads_init(&hs, size, N_BUFS), 0);
}

/*
 * Fills @p rd with @p text cut at @p cuts (ascending, inside the text) into one
 * mbuf per piece; with @p as_chain, the pieces come as one chain, as
 * hf_tcp_recv() hands them.
 */
static void
fill(struct hf_http_reader *rd, const char *text, size_t len, const size_t *cuts,
     unsigned int n_cuts, bool as_chain)
{
	struct rte_mbuf *head = NULL;
	size_t from = 0;

	memset(rd, 0, sizeof(*rd));
	hf_h1_scan_reset(&rd->scan);
	for (unsigned int i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;
		struct rte_mbuf *m = hf_test_mbuf(text + from, to - from);

		if (!as_chain) {
			hf_http_mq_append(&rd->q, m);
		} else if (head == NULL) {
			head = m;
		} else {
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		}
		from = to;
	}
	if (as_chain)
		hf_http_mq_append(&rd->q, head);
	assert_int_equal(rd->q.bytes, len);
}

static bool
slice_eq(const struct hf_h1_slice *a, const struct hf_h1_slice *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* What the session acts on is the same as the contiguous parse gave (ref). */
static void
assert_same_message(const char *where)
{
	bool same = msg.method == ref.method && slice_eq(&msg.method_name, &ref.method_name) &&
		    slice_eq(&msg.target, &ref.target) && slice_eq(&msg.host, &ref.host) &&
		    msg.minor == ref.minor && msg.flags == ref.flags &&
		    msg.content_length == ref.content_length && msg.n_headers == ref.n_headers;

	for (uint32_t i = 0; same && i < ref.n_headers; i++)
		same = slice_eq(&msg.headers[i].name, &ref.headers[i].name) &&
		       slice_eq(&msg.headers[i].value, &ref.headers[i].value);
	if (!same)
		fail_msg("%s: the message differs from the contiguous parse", where);
}

/* Bytes left in @p rd equal @p want. */
static void
assert_rest(const struct hf_http_reader *rd, const char *want, size_t n, const char *where)
{
	if (rd->q.bytes != n || chain_str(rd->q.head) != n || memcmp(out, want, n) != 0)
		fail_msg("%s: %u bytes left, want %zu", where, rd->q.bytes, n);
}

#define RQ_HEAD                                                                                    \
	"POST /api/v1/ratings?id=7 HTTP/1.1\r\nHost: bookinfo.example.com\r\n"                     \
	"User-Agent: curl/8.5.0\r\nContent-Type: application/json\r\nX-Request-Id: 5f1c\r\n"      \
	"Content-Length: 13\r\n\r\n"
#define RQ_BODY "{\"stars\": 5}\n"

/*
 * Reads RQ_HEAD + RQ_BODY cut as @p cuts says, all at once or (@p incremental)
 * one segment arriving at a time; checks the head, then that consuming it
 * leaves the body, that the gather buffer went back and no mbuf was lost.
 */
static void
read_cut(const size_t *cuts, unsigned int n_cuts, bool incremental)
{
	static const char text[] = RQ_HEAD RQ_BODY;
	const size_t len = sizeof(text) - 1, head = sizeof(RQ_HEAD) - 1;
	unsigned int before = avail();
	struct hf_http_reader rd;
	char where[64];
	int rc;

	snprintf(where, sizeof(where), "cut at %zu,%zu%s", n_cuts > 0 ? cuts[0] : 0,
		 n_cuts > 1 ? cuts[1] : 0, incremental ? " arriving piecewise" : "");
	if (!incremental) {
		fill(&rd, text, len, cuts, n_cuts, n_cuts == 2);
		rc = hf_http_rd_head(&hs, &rd, true, &lim, &msg);
	} else {
		struct hf_http_reader one;
		size_t from = 0;

		memset(&rd, 0, sizeof(rd));
		hf_h1_scan_reset(&rd.scan);
		rc = HF_AGAIN;
		for (unsigned int i = 0; i <= n_cuts; i++) {
			size_t to = i < n_cuts ? cuts[i] : len;

			fill(&one, text + from, to - from, NULL, 0, false);
			hf_http_mq_append(&rd.q, one.q.head);
			rc = hf_http_rd_head(&hs, &rd, true, &lim, &msg);
			if (to < head && rc != HF_AGAIN)
				fail_msg("%s: %d with %zu of %zu head bytes", where, rc, to, head);
			from = to;
			if (rc != HF_AGAIN)
				break;
		}
		/* The rest of the stream arrives after the head was read. */
		if (from < len) {
			fill(&one, text + from, len - from, NULL, 0, false);
			hf_http_mq_append(&rd.q, one.q.head);
		}
	}
	if (rc != (int)head)
		fail_msg("%s: %d, want %zu", where, rc, head);
	assert_same_message(where);
	hf_http_rd_consume(&hs, &rd, (uint32_t)rc);
	assert_rest(&rd, RQ_BODY, sizeof(RQ_BODY) - 1, where);
	if (hs.n_free != N_BUFS || rd.buf != NULL)
		fail_msg("%s: gather buffer not given back", where);
	hf_http_rd_reset(&hs, &rd);
	assert_null(rd.q.head);
	if (avail() != before)
		fail_msg("%s: %d mbufs lost", where, (int)(before - avail()));
}

/* Cut into 1, 2 and 3 segments at every point, all at once and piecewise: the same head. */
static void
test_reader_every_cut(void **state)
{
	const size_t len = sizeof(RQ_HEAD RQ_BODY) - 1;
	struct hf_h1_scan scan;
	size_t cuts[2];
	unsigned int cases = 0;

	(void)state;
	bufs_init(lim.max_head + 1);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(RQ_HEAD RQ_BODY, len, &scan, &lim, &ref),
			 sizeof(RQ_HEAD) - 1);
	read_cut(NULL, 0, false);
	for (cuts[0] = 1; cuts[0] < len; cuts[0]++) {
		read_cut(cuts, 1, false);
		read_cut(cuts, 1, true);
		cases += 2;
		for (cuts[1] = cuts[0] + 1; cuts[1] < len; cuts[1]++) {
			read_cut(cuts, 2, false);
			read_cut(cuts, 2, true);
			cases += 2;
		}
	}
	print_message("  %u ways of cutting %zu bytes read the same head\n", cases + 1, len);
}

/* Two pipelined requests cut anywhere: each read in turn, nothing of the second lost. */
static void
test_reader_pipelined(void **state)
{
	static const char a[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char b[] = "GET /second HTTP/1.1\r\nHost: y\r\nAccept: */*\r\n\r\n";
	char text[sizeof(a) + sizeof(b)];
	size_t la = sizeof(a) - 1, lb = sizeof(b) - 1, len = la + lb;
	unsigned int before = avail();

	(void)state;
	bufs_init(lim.max_head + 1);
	memcpy(text, a, la);
	memcpy(text + la, b, lb);
	for (size_t cut = 1; cut < len; cut++) {
		struct hf_http_reader rd;

		fill(&rd, text, len, &cut, 1, false);
		assert_int_equal(hf_http_rd_head(&hs, &rd, true, &lim, &msg), la);
		assert_memory_equal(msg.target.p, "/a", 2);
		hf_http_rd_consume(&hs, &rd, (uint32_t)la);
		assert_int_equal(hf_http_rd_head(&hs, &rd, true, &lim, &msg), lb);
		assert_int_equal(msg.target.len, 7);
		assert_memory_equal(msg.target.p, "/second", 7);
		assert_memory_equal(msg.host.p, "y", 1);
		assert_int_equal(msg.n_headers, 2);
		hf_http_rd_consume(&hs, &rd, (uint32_t)lb);
		assert_int_equal(rd.q.bytes, 0);
		assert_null(rd.q.head);
		assert_int_equal(hs.n_free, N_BUFS);
	}
	assert_int_equal(avail(), before);
}

/* Reads @p text cut into @p pieces equal segments (1..3); returns the verdict and resets. */
static int
read_pieces(const char *text, size_t len, unsigned int pieces, const struct hf_h1_limits *l)
{
	struct hf_http_reader rd;
	size_t cuts[2] = {len / 3, 2 * len / 3};
	uint32_t free_before = hs.n_free;
	int rc;

	if (pieces == 2)
		cuts[0] = len / 2;
	fill(&rd, text, len, cuts, pieces - 1, false);
	rc = hf_http_rd_head(&hs, &rd, true, l, &msg);
	hf_http_rd_reset(&hs, &rd);
	assert_int_equal(hs.n_free, free_before);
	return rc;
}

/* A head over max_head is 431 however it is cut, complete or not, whatever the buffer size. */
static void
test_reader_head_too_large(void **state)
{
	static const uint32_t sizes[] = {129, 4097};	/* this listener's limit + 1; another's */
	char big[600], at_limit[160];
	struct hf_h1_limits small = lim;
	size_t n;

	(void)state;
	small.max_head = 128;
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n < 300)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad-%zu: 0123456789\r\n", n);
	memcpy(big + n, "\r\n", 2);
	for (unsigned int s = 0; s < 2; s++) {
		bufs_init(sizes[s]);
		for (unsigned int p = 1; p <= 3; p++) {
			int done = read_pieces(big, n + 2, p, &small);
			/* The same without its blank line: the client still sending. */
			int part = read_pieces(big, n, p, &small);

			print_message("  buffer %u, %u segments: complete %d, incomplete %d\n",
				      sizes[s], p, done, part);
			assert_int_equal(done, HF_H1_E_HEADERS_TOO_LARGE);
			assert_int_equal(part, HF_H1_E_HEADERS_TOO_LARGE);
		}
	}
	/* A head of exactly max_head bytes is read, in any number of segments. */
	n = (size_t)snprintf(at_limit, sizeof(at_limit), "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
	memset(at_limit + n, 'p', 124 - n);
	memcpy(at_limit + 124, "\r\n\r\nBODY", 8);
	bufs_init(129);
	for (unsigned int p = 1; p <= 3; p++) {
		assert_int_equal(read_pieces(at_limit, 128, p, &small), 128);
		assert_int_equal(read_pieces(at_limit, 132, p, &small), 128);
	}
}

/* With no gather buffer free, a head spanning segments is -ENOBUFS; one in one segment is read. */
static void
test_reader_no_buffer(void **state)
{
	static const char text[] = RQ_HEAD;
	const size_t len = sizeof(text) - 1;

	(void)state;
	bufs_init(lim.max_head + 1);
	hs.n_free = 0;
	assert_int_equal(read_pieces(text, len, 1, &lim), len);
	hs.n_free = 0;
	assert_int_equal(read_pieces(text, len, 2, &lim), -ENOBUFS);
	hs.n_free = N_BUFS;
}

/* --- hf_http_mq_take ------------------------------------------------------------------------ */

#define STREAM 3000
static const uint16_t seg_sizes[] = {700, 1, 1200, 99, 1000};
static uint8_t stream[STREAM];
static const uint8_t *seg_data[5];	/* where each original segment's bytes lie */

static void
stream_fill(struct hf_tcp_mq *q)
{
	size_t off = 0;

	for (size_t i = 0; i < STREAM; i++)
		stream[i] = (uint8_t)(i * 131 + 7);

	memset(q, 0, sizeof(*q));
	for (unsigned int i = 0; i < 5; i++) {
		struct rte_mbuf *m = hf_test_mbuf(stream + off, seg_sizes[i]);

		seg_data[i] = rte_pktmbuf_mtod(m, const uint8_t *);
		hf_http_mq_append(q, m);
		off += seg_sizes[i];
	}
	assert_int_equal(q->bytes, STREAM);
}

/* Every byte of @p m lies in one of the original segments' buffers: nothing was copied. */
static bool
zero_copy(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		bool in = false;

		for (unsigned int i = 0; i < 5 && !in; i++)
			in = p >= seg_data[i] && p + m->data_len <= seg_data[i] + seg_sizes[i];
		if (!in)
			return false;
	}
	return true;
}

/* Appends the bytes of @p m to @p dst at *@p at; returns the bytes of the chain. */
static uint32_t
collect(const struct rte_mbuf *m, uint8_t *dst, size_t *at)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next) {
		assert_true(*at + m->data_len <= STREAM);
		memcpy(dst + *at, rte_pktmbuf_mtod(m, const void *), m->data_len);
		*at += m->data_len;
		n += m->data_len;
	}
	return n;
}

/* True when the last segment of @p m shares its buffer with another mbuf (a cut's first part). */
static bool
last_is_clone(const struct rte_mbuf *m)
{
	while (m->next != NULL)
		m = m->next;
	return RTE_MBUF_CLONED(m);
}

/* Whether @p off falls strictly inside an original segment (a cut there splits one). */
static bool
mid_segment(size_t off)
{
	size_t end = 0;

	for (unsigned int i = 0; i < 5; i++) {
		if (off > end && off < end + seg_sizes[i])
			return true;
		end += seg_sizes[i];
	}
	return false;
}

/*
 * Takes @p n1 then @p n2 bytes: the two chains and what is left, put end to
 * end, are the stream; cut segments stay zero copy; freeing everything gives
 * every mbuf back.
 */
static void
take_twice(uint64_t n1, uint64_t n2)
{
	static uint8_t got[STREAM];
	unsigned int before = avail();
	struct hf_tcp_mq q;
	struct rte_mbuf *a, *b;
	uint32_t ta, tb;
	size_t at = 0;
	char what[64];
	bool nomem;

	snprintf(what, sizeof(what), "%" PRIu64 " then %" PRIu64, n1, n2);
	stream_fill(&q);
	a = hf_http_mq_take(W, &q, n1, &ta, &nomem);
	assert_false(nomem);
	b = hf_http_mq_take(W, &q, n2, &tb, &nomem);
	assert_false(nomem);
	if (ta != RTE_MIN(n1, (uint64_t)STREAM) || tb != RTE_MIN(n2, (uint64_t)STREAM - ta) ||
	    q.bytes != STREAM - ta - tb)
		fail_msg("take %s: took %u and %u, %u left", what, ta, tb, q.bytes);
	if ((a == NULL) != (ta == 0) || (b == NULL) != (tb == 0))
		fail_msg("take %s: a chain without bytes", what);
	if (collect(a, got, &at) != ta || collect(b, got, &at) != tb ||
	    collect(q.head, got, &at) != q.bytes || at != STREAM ||
	    memcmp(got, stream, STREAM) != 0)
		fail_msg("take %s: the bytes differ from the stream", what);
	if (!zero_copy(a) || !zero_copy(b) || !zero_copy(q.head))
		fail_msg("take %s: bytes were copied", what);
	if ((a != NULL && mid_segment(ta) && !last_is_clone(a)) ||
	    (b != NULL && mid_segment(ta + tb) && !last_is_clone(b)))
		fail_msg("take %s: a cut part is not an indirect mbuf", what);
	chain_free(a);
	chain_free(b);
	hf_http_mq_free(&q);
	assert_null(q.head);
	assert_null(q.tail);
	if (avail() != before)
		fail_msg("take %s: %d mbufs never came back", what, (int)(before - avail()));
}

/*
 * A stream cut inside a segment and then freed gives every mbuf back to its
 * pool, whether segments follow the cut one or not: a worker that leaks here
 * runs out of mbufs after enough requests.
 */
static void
test_take_gives_mbufs_back(void **state)
{
	static const struct {
		uint64_t n;
		const char *what;
	} cuts[] = {
		{2999, "a cut in the last segment"},
		{1, "a cut in the first of five segments"},
		{1000, "a cut in the third of five segments"},
	};
	unsigned int failed = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		unsigned int pkt = rte_mempool_avail_count(hf_test_pool()) + hf_mbuf_stashed(W);
		unsigned int ind = rte_mempool_avail_count(W->tcp->clone_pool);
		struct hf_tcp_mq q;
		struct rte_mbuf *m;
		uint32_t taken;
		bool nomem;

		stream_fill(&q);
		m = hf_http_mq_take(W, &q, cuts[k].n, &taken, &nomem);
		assert_int_equal(taken, cuts[k].n);
		chain_free(m);
		hf_http_mq_free(&q);
		pkt -= rte_mempool_avail_count(hf_test_pool()) + hf_mbuf_stashed(W);
		ind -= rte_mempool_avail_count(W->tcp->clone_pool);
		print_message("  %s: %u packet and %u indirect mbufs not returned\n", cuts[k].what,
			      pkt, ind);
		failed += pkt != 0 || ind != 0;
	}
	assert_int_equal(failed, 0);
}

static void
test_take_every_cut(void **state)
{
	static const uint64_t second[] = {0, 1, 99, 700, 1201, UINT64_MAX};

	(void)state;
	for (uint64_t n1 = 0; n1 <= STREAM + 1; n1++)
		for (unsigned int k = 0; k < sizeof(second) / sizeof(second[0]); k++)
			take_twice(n1, second[k]);
}

/* An empty queue or a zero count gives nothing. */
static void
test_take_nothing(void **state)
{
	struct hf_tcp_mq q = {0};
	uint32_t taken = 99;
	bool nomem = true;

	(void)state;
	assert_null(hf_http_mq_take(W, &q, 100, &taken, &nomem));
	assert_int_equal(taken, 0);
	assert_false(nomem);
	stream_fill(&q);
	assert_null(hf_http_mq_take(W, &q, 0, &taken, &nomem));
	assert_int_equal(taken, 0);
	assert_int_equal(q.bytes, STREAM);
	hf_http_mq_free(&q);
}

/*
 * Out of indirect mbufs, a cut copies its part and the stream goes on; out of
 * packet mbufs too, the take stops short at the segment it could not cut,
 * says nomem, and loses no byte.
 */
static void
test_take_out_of_mbufs(void **state)
{
	enum { MAX_HELD = 200000 };
	struct rte_mbuf **held = malloc(sizeof(*held) * MAX_HELD);
	unsigned int n_held = 0, before;
	static uint8_t got[STREAM];
	struct hf_tcp_mq q;
	struct rte_mbuf *a, *m;
	uint32_t taken;
	size_t at = 0;
	bool nomem;

	(void)state;
	assert_non_null(held);
	before = avail();
	stream_fill(&q);
	while (n_held < MAX_HELD && (m = rte_pktmbuf_alloc(W->tcp->clone_pool)) != NULL)
		held[n_held++] = m;
	a = hf_http_mq_take(W, &q, 1000, &taken, &nomem);
	assert_false(nomem);
	assert_int_equal(taken, 1000);
	assert_int_equal(collect(a, got, &at), 1000);
	assert_memory_equal(got, stream, 1000);
	assert_false(last_is_clone(a));		/* a copy, since no clone could be had */
	/* Now no packet mbuf either. */
	while (n_held < MAX_HELD && (m = rte_pktmbuf_alloc(hf_test_pool())) != NULL)
		held[n_held++] = m;
	/* 901 + 99 whole, then 200 of the last segment: that cut has no mbuf. */
	m = hf_http_mq_take(W, &q, 1200, &taken, &nomem);
	assert_true(nomem);
	assert_int_equal(taken, 1000);
	assert_int_equal(collect(m, got, &at), 1000);
	assert_int_equal(q.bytes, STREAM - 2000);
	assert_int_equal(collect(q.head, got, &at), STREAM - 2000);
	assert_memory_equal(got, stream, STREAM);
	for (unsigned int i = 0; i < n_held; i++)
		rte_pktmbuf_free(held[i]);
	chain_free(a);
	chain_free(m);
	hf_http_mq_free(&q);
	assert_int_equal(avail(), before);
	free(held);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_uuid4),
		cmocka_unit_test(test_xff_address),
		cmocka_unit_test(test_added_fields),
		cmocka_unit_test(test_shadow_host),
		cmocka_unit_test(test_build_response),
		cmocka_unit_test(test_build_local),
		cmocka_unit_test(test_writer_out_of_mbufs),
		cmocka_unit_test(test_reader_every_cut),
		cmocka_unit_test(test_reader_pipelined),
		cmocka_unit_test(test_reader_head_too_large),
		cmocka_unit_test(test_reader_no_buffer),
		cmocka_unit_test(test_take_nothing),
		cmocka_unit_test(test_take_gives_mbufs_back),
		cmocka_unit_test(test_take_every_cut),
		cmocka_unit_test(test_take_out_of_mbufs),
	};
	int rc;

	hf_test_eal(1);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	hf_http_heads_fini(&hs);
	return rc;
}
