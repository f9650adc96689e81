/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 head parser: tables of valid and invalid messages, each fed
 * whole, cut at every split point, and one byte at a time, with the same
 * verdict. Chunked bodies are test_chunked.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/http/h1.h"

static struct hf_h1_limits lim;
static struct hf_h1_message msg;

typedef int (*parse_fn)(const char *, size_t, struct hf_h1_scan *, const struct hf_h1_limits *,
			struct hf_h1_message *);

/*
 * The verdict for @p text fed whole, then in two pieces at every point, then
 * byte by byte: every way must agree (HF_AGAIN before the head is complete).
 */
static int
verdict(parse_fn parse, const char *text, size_t n)
{
	struct hf_h1_scan scan;
	int whole, rc = HF_AGAIN;

	hf_h1_scan_reset(&scan);
	whole = parse(text, n, &scan, &lim, &msg);
	for (size_t cut = 1; cut < n; cut++) {
		hf_h1_scan_reset(&scan);
		rc = parse(text, cut, &scan, &lim, &msg);
		if (rc == HF_AGAIN)
			rc = parse(text, n, &scan, &lim, &msg);
		if (rc != whole)
			fail_msg("cut at %zu of %zu: %d, whole: %d", cut, n, rc, whole);
	}
	hf_h1_scan_reset(&scan);
	for (size_t k = 1; k <= n; k++) {
		rc = parse(text, k, &scan, &lim, &msg);
		if (rc != HF_AGAIN)
			break;
	}
	if (rc != whole)
		fail_msg("byte by byte: %d, whole: %d", rc, whole);
	hf_h1_scan_reset(&scan);
	return parse(text, n, &scan, &lim, &msg);	/* leaves msg filled */
}

#define SMALL "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define BROWSER                                                                                    \
	"GET /productpage?u=normal HTTP/1.1\r\nHost: bookinfo.example.com\r\n"                    \
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\nAccept: text/html,*/*;q=0.8\r\n" \
	"Accept-Language: en-US,en;q=0.9\r\nCookie: session=abc123; theme=dark\r\n\r\n"

static void
test_valid_requests(void **state)
{
	int rc;

	(void)state;
	rc = verdict(hf_h1_parse_request, SMALL, strlen(SMALL));
	assert_int_equal(rc, strlen(SMALL));
	assert_int_equal(msg.method, HF_H1_M_GET);
	assert_int_equal(msg.target.len, 1);
	assert_int_equal(msg.minor, 1);
	assert_true(msg.flags & HF_H1_F_KEEP_ALIVE);
	assert_int_equal(msg.n_headers, 1);
	assert_memory_equal(msg.host.p, "a", 1);

	rc = verdict(hf_h1_parse_request, BROWSER, strlen(BROWSER));
	assert_int_equal(rc, strlen(BROWSER));
	assert_int_equal(msg.n_headers, 5);
	assert_memory_equal(msg.target.p, "/productpage?u=normal", msg.target.len);
	assert_string_equal(hf_h1_find(&msg, "cookie")->value.p[0] == 's' ? "ok" : "no", "ok");
	/* Names shorter than the parser's 4-byte compares are found too (TE, x-a). */
	{
		static const char shortn[] = "GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nX-A: 1\r\n\r\n";

		rc = verdict(hf_h1_parse_request, shortn, strlen(shortn));
		assert_int_equal(rc, strlen(shortn));
		assert_non_null(hf_h1_find(&msg, "te"));
		assert_memory_equal(hf_h1_find(&msg, "te")->value.p, "trailers", 8);
		assert_non_null(hf_h1_find(&msg, "x-a"));
		assert_null(hf_h1_find(&msg, "x-b"));
		assert_null(hf_h1_find(&msg, "t"));
	}

	static const char post[] = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
				   "Expect: 100-continue\r\nConnection: close\r\n\r\n0123456789";
	rc = verdict(hf_h1_parse_request, post, strlen(post));
	assert_int_equal(rc, strlen(post) - 10);
	assert_int_equal(msg.method, HF_H1_M_POST);
	assert_true(msg.flags & HF_H1_F_HAS_BODY_LENGTH);
	assert_int_equal(msg.content_length, 10);
	assert_true(msg.flags & HF_H1_F_EXPECT_CONTINUE);
	assert_false(msg.flags & HF_H1_F_KEEP_ALIVE);

	static const char chunked[] = "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
	rc = verdict(hf_h1_parse_request, chunked, strlen(chunked));
	assert_int_equal(rc, strlen(chunked));
	assert_true(msg.flags & HF_H1_F_CHUNKED);

	static const char ws[] = "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
				 "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
	rc = verdict(hf_h1_parse_request, ws, strlen(ws));
	assert_int_equal(rc, strlen(ws));
	assert_true(msg.flags & HF_H1_F_UPGRADE);

	static const char h10[] = "GET / HTTP/1.0\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_request, h10, strlen(h10)), strlen(h10));
	assert_int_equal(msg.minor, 0);
	assert_false(msg.flags & HF_H1_F_KEEP_ALIVE);
	static const char h10ka[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_request, h10ka, strlen(h10ka)), strlen(h10ka));
	assert_true(msg.flags & HF_H1_F_KEEP_ALIVE);

	/* Whitespace around a value is not part of it; obs-text is allowed in values. */
	static const char trim[] = "GET / HTTP/1.1\r\nHost:   a.b  \r\nX-Obs: caf\xc3\xa9\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_request, trim, strlen(trim)), strlen(trim));
	assert_int_equal(msg.host.len, 3);
	/* The same Content-Length twice is one length. */
	static const char cl2[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_request, cl2, strlen(cl2)), strlen(cl2));
	assert_int_equal(msg.content_length, 5);
}

static const struct {
	const char *text;
	int err;
	const char *what;
} bad[] = {
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	 HF_H1_E_SMUGGLING, "Content-Length with Transfer-Encoding"},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	 HF_H1_E_SMUGGLING, "differing Content-Lengths"},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", HF_H1_E_SMUGGLING,
	 "Content-Length list"},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", HF_H1_E_SMUGGLING, "signed length"},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", HF_H1_E_SMUGGLING, "hex length"},
	{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", HF_H1_E_SMUGGLING,
	 "overflowing length"},
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", HF_H1_E_SMUGGLING,
	 "final coding not chunked"},
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HF_H1_E_SMUGGLING,
	 "chunked twice"},
	{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", HF_H1_E_SMUGGLING,
	 "unknown coding only"},
	{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HF_H1_E_SMUGGLING,
	 "Transfer-Encoding in HTTP/1.0"},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", HF_H1_E_BAD, "obs-fold"},
	{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", HF_H1_E_BAD,
	 "whitespace before the colon"},
	{"GET / HTTP/1.1\r\nHost: a\r\nX (bad): 1\r\n\r\n", HF_H1_E_BAD, "invalid byte in a name"},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01z\r\n\r\n", HF_H1_E_BAD, "control byte in a value"},
	{"GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\rb\r\n\r\n", HF_H1_E_BAD, "bare CR in a value"},
	{"GET / HTTP/1.1\nHost: a\r\n\r\n", HF_H1_E_BAD, "bare LF ending the request line"},
	{"GET / HTTP/1.1\nHost: a\nX-A: b\n\n", HF_H1_E_BAD, "bare LF ending every line"},
	{"GET / HTTP/1.1\r\n: empty\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "empty name"},
	{"GET / HTTP/1.1\r\n\r\n", HF_H1_E_BAD, "HTTP/1.1 without Host"},
	{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HF_H1_E_BAD, "two Hosts"},
	{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "two spaces"},
	{"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "space in the target"},
	{"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "invalid method"},
	{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", HF_H1_E_VERSION, "HTTP/2.0 in an HTTP/1 head"},
	{"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "garbage after the version"},
	{"GET / FTP/1.1\r\nHost: a\r\n\r\n", HF_H1_E_BAD, "not HTTP"},
};

static void
test_invalid_requests(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int rc = verdict(hf_h1_parse_request, bad[k].text, strlen(bad[k].text));

		print_message("  %-40s → %d %s\n", bad[k].what, hf_h1_error_status(rc),
			      hf_h1_error_name(rc));
		assert_int_equal(rc, bad[k].err);
	}
}

static void
test_limits(void **state)
{
	char *buf = malloc(80 * 1024);
	struct hf_h1_scan scan;
	size_t n;

	(void)state;
	/* A request line over 8 KiB: 414, even before its end arrives. */
	n = (size_t)sprintf(buf, "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", 9000, 0);
	assert_int_equal(verdict(hf_h1_parse_request, buf, n), HF_H1_E_URI_TOO_LONG);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(buf, 8500, &scan, &lim, &msg), HF_H1_E_URI_TOO_LONG);
	/* Bare LF line ends: refused at the first one, not left waiting for a CRLF CRLF. */
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request("GET / HTTP/1.1\nHost: a\n", 23, &scan, &lim, &msg),
			 HF_H1_E_BAD);
	/* A header block over 60 KiB: 431. */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: %0*d\r\n\r\n", 62 * 1024, 0);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(buf, n, &scan, &lim, &msg), HF_H1_E_HEADERS_TOO_LARGE);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(buf, 61 * 1024, &scan, &lim, &msg),
			 HF_H1_E_HEADERS_TOO_LARGE);
	/* 101 fields: 431; 100 are fine. */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 99; i++)
		n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
	memcpy(buf + n, "\r\n", 3);
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(buf, n + 2, &scan, &lim, &msg), (int)(n + 2));
	n += (size_t)sprintf(buf + n, "X-last: v\r\n\r\n");
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(buf, n, &scan, &lim, &msg), HF_H1_E_HEADERS_TOO_LARGE);
	assert_int_equal(hf_h1_error_status(HF_H1_E_HEADERS_TOO_LARGE), 431);
	assert_int_equal(hf_h1_error_status(HF_H1_E_URI_TOO_LONG), 414);
	free(buf);
}

static void
test_responses(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: nginx\r\n\r\nhi";
	static const char noreason[] = "HTTP/1.1 204\r\n\r\n";
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char until_close[] = "HTTP/1.0 200 OK\r\n\r\n";

	(void)state;
	assert_int_equal(verdict(hf_h1_parse_response, ok, strlen(ok)), strlen(ok) - 2);
	assert_int_equal(msg.status, 200);
	assert_int_equal(msg.content_length, 2);
	assert_int_equal(verdict(hf_h1_parse_response, noreason, strlen(noreason)), strlen(noreason));
	assert_int_equal(msg.status, 204);
	assert_int_equal(verdict(hf_h1_parse_response, chunked, strlen(chunked)), strlen(chunked));
	assert_true(msg.flags & HF_H1_F_CHUNKED);
	assert_int_equal(verdict(hf_h1_parse_response, until_close, strlen(until_close)),
			 strlen(until_close));
	assert_false(msg.flags & (HF_H1_F_CHUNKED | HF_H1_F_HAS_BODY_LENGTH | HF_H1_F_KEEP_ALIVE));
	static const char badstatus[] = "HTTP/1.1 2x0 OK\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_response, badstatus, strlen(badstatus)), HF_H1_E_BAD);
	static const char both[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(verdict(hf_h1_parse_response, both, strlen(both)), HF_H1_E_SMUGGLING);
}

/* Every field is named once, by the parser, as hf_h1_field_of() names it; the start line kept. */
static void
test_fields(void **state)
{
	static const struct {
		const char *name;
		enum hf_h1_field field;
	} names[] = {
		{"Host", HF_H1_FLD_HOST},
		{"content-LENGTH", HF_H1_FLD_CONTENT_LENGTH},
		{"Transfer-Encoding", HF_H1_FLD_TRANSFER_ENCODING},
		{"Connection", HF_H1_FLD_CONNECTION},
		{"Upgrade", HF_H1_FLD_UPGRADE},
		{"Expect", HF_H1_FLD_EXPECT},
		{"TE", HF_H1_FLD_TE},
		{"Trailer", HF_H1_FLD_TRAILER},
		{"Keep-Alive", HF_H1_FLD_KEEP_ALIVE},
		{"Proxy-Connection", HF_H1_FLD_PROXY_CONNECTION},
		{"X-Forwarded-For", HF_H1_FLD_X_FORWARDED_FOR},
		{"X-Forwarded-Proto", HF_H1_FLD_X_FORWARDED_PROTO},
		{"X-Request-Id", HF_H1_FLD_X_REQUEST_ID},
		{"x-envoy-original-path", HF_H1_FLD_X_ENVOY_ORIGINAL_PATH},
		{"X-Forwarded-Client-Cert", HF_H1_FLD_X_FORWARDED_CLIENT_CERT},
		{"x-envoy-upstream-service-time", HF_H1_FLD_X_ENVOY_UPSTREAM_SERVICE_TIME},
		{"Close", HF_H1_FLD_CLOSE},
		/* same lengths as those, other names */
		{"Hose", HF_H1_FLD_OTHER},
		{"Upgradf", HF_H1_FLD_OTHER},
		{"Trailers", HF_H1_FLD_OTHER},
		{"Keep-Alivf", HF_H1_FLD_OTHER},
		{"tf", HF_H1_FLD_OTHER},
		{"x-forwarded-prot0", HF_H1_FLD_OTHER},
		{"Content-Type", HF_H1_FLD_OTHER},
		{"", HF_H1_FLD_OTHER},
	};
	char head[256];
	struct hf_h1_scan scan;
	int n;

	(void)state;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		enum hf_h1_field want = names[k].field;

		assert_int_equal(hf_h1_field_of(names[k].name, strlen(names[k].name)), want);
		/* not those whose value "v" the parser refuses, nor a second Host */
		if (names[k].name[0] == '\0' || want == HF_H1_FLD_HOST ||
		    want == HF_H1_FLD_CONTENT_LENGTH || want == HF_H1_FLD_TRANSFER_ENCODING ||
		    want == HF_H1_FLD_TE)
			continue;
		n = snprintf(head, sizeof(head), "GET /x HTTP/1.1\r\nHost: a\r\n%s: v\r\n\r\n",
			     names[k].name);
		hf_h1_scan_reset(&scan);
		assert_int_equal(hf_h1_parse_request(head, (size_t)n, &scan, &lim, &msg), n);
		assert_int_equal(msg.n_headers, 2);
		assert_int_equal(msg.headers[0].field, HF_H1_FLD_HOST);
		assert_int_equal(msg.headers[1].field, want);
		assert_int_equal(msg.line.len, strlen("GET /x HTTP/1.1"));
		assert_ptr_equal(msg.line.p, head);
	}
	/* CR | 0x20 is '-': no token holds a CR, but a name from elsewhere may. */
	assert_int_equal(hf_h1_field_of("x\rforwarded-for", 15), HF_H1_FLD_OTHER);
	assert_int_equal(hf_h1_field_of("x-forwarded-for", 15), HF_H1_FLD_X_FORWARDED_FOR);

	/* HF_H1_F_CONN_NAMES: an option besides close, keep-alive and upgrade, in any field. */
	static const struct {
		const char *conn;
		bool names;
	} opts[] = {
		{"close", false}, {"Keep-Alive, UPGRADE", false}, {" , close ,", false},
		{"close, x-a", true}, {"X-Secret", true}, {"keep-alive\r\nConnection: te", true},
	};
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		n = snprintf(head, sizeof(head),
			     "GET / HTTP/1.1\r\nHost: a\r\nConnection: %s\r\n\r\n", opts[k].conn);
		hf_h1_scan_reset(&scan);
		assert_int_equal(hf_h1_parse_request(head, (size_t)n, &scan, &lim, &msg), n);
		assert_int_equal((msg.flags & HF_H1_F_CONN_NAMES) != 0, opts[k].names);
		assert_int_equal(hf_h1_conn_names(&msg), opts[k].names);
	}
	/* hf_h1_conn_option(): an option of any Connection field, trimmed, in any case. */
	static const char two[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-A\r\n"
				  "connection: \tx-b ,,\r\nX-C: c\r\n\r\n";
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_request(two, strlen(two), &scan, &lim, &msg), strlen(two));
	assert_true(hf_h1_conn_option(&msg, "x-a", 3));
	assert_true(hf_h1_conn_option(&msg, "X-B", 3));
	assert_true(hf_h1_conn_option(&msg, "CLOSE", 5));
	assert_false(hf_h1_conn_option(&msg, "x-c", 3));
	assert_false(hf_h1_conn_option(&msg, "x-", 2));
	assert_false(hf_h1_conn_option(&msg, "", 0));
	/* The status line, its CRLF after it. */
	static const char rs[] = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n";
	hf_h1_scan_reset(&scan);
	assert_int_equal(hf_h1_parse_response(rs, strlen(rs), &scan, &lim, &msg), strlen(rs));
	assert_int_equal(msg.line.len, strlen("HTTP/1.1 200 OK"));
	assert_memory_equal(msg.line.p + msg.line.len, "\r\n", 2);
	assert_int_equal(msg.headers[0].field, HF_H1_FLD_OTHER);
}

/* ASCII case folding, and nothing else: the reading RFC 9110 5.1 and 5.6.1 give names and options. */
static bool
ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

/* @p pre, @p len bytes of @p mid (NUL among them), @p post at @p out; returns the length. */
static int
build(char *out, size_t cap, const char *pre, const char *mid, size_t len, const char *post)
{
	size_t a = strlen(pre), c = strlen(post);

	assert_true(a + len + c <= cap);
	memmove(out, pre, a);
	memcpy(out + a, mid, len);
	memcpy(out + a + len, post, c);
	return (int)(a + len + c);
}

/*
 * The word-at-a-time folding (OR 0x20) must never make a byte that is not a
 * letter's other case match: every name the parser knows, and every option
 * and coding it acts on, with each of its bytes replaced by each of the 256
 * values in turn. A variant the parser accepts is named, or flagged, exactly
 * when ASCII case folding says it is that name ('-' is CR | 0x20, '@' and
 * '`', '[' and '{', '^' and '~' differ in that bit only).
 */
static void
test_field_variants(void **state)
{
	static const char *const known[] = {
		"host", "content-length", "transfer-encoding", "connection", "upgrade", "expect",
		"te", "trailer", "keep-alive", "proxy-connection", "x-forwarded-for",
		"x-forwarded-proto", "x-request-id", "x-envoy-original-path",
		"x-forwarded-client-cert", "x-envoy-upstream-service-time",
	};
	static const struct {
		const char *field, *word;
		uint8_t flag;
	} values[] = {
		{"Transfer-Encoding", "chunked", HF_H1_F_CHUNKED},
		{"Expect", "100-continue", HF_H1_F_EXPECT_CONTINUE},
		{"Connection", "keep-alive", HF_H1_F_CONN_NAMES},
		{"Connection", "close", HF_H1_F_CONN_NAMES},
		{"Connection", "upgrade", HF_H1_F_CONN_NAMES},
	};
	char name[64], head[256];
	struct hf_h1_scan scan;
	int n, rc;

	(void)state;
	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		size_t len = strlen(known[k]);
		enum hf_h1_field want = hf_h1_field_of(known[k], len);

		assert_int_not_equal(want, HF_H1_FLD_OTHER);
		for (size_t i = 0; i < len; i++)
			for (int b = 0; b < 256; b++) {
				bool same;

				memcpy(name, known[k], len);
				name[i] = (char)b;
				same = ascii_ieq(name, known[k], len);
				if (hf_h1_field_of(name, len) != (same ? want : HF_H1_FLD_OTHER))
					fail_msg("hf_h1_field_of(%s with byte %zu = 0x%02x)", known[k],
						 i, b);
				/* "Host" twice is refused; the value "1" suits every other name. */
				n = build(head, sizeof(head),
					  want == HF_H1_FLD_HOST ? "GET / HTTP/1.1\r\n"
								 : "GET / HTTP/1.1\r\nHost: a\r\n",
					  name, len, ": 1\r\n\r\n");
				hf_h1_scan_reset(&scan);
				rc = hf_h1_parse_request(head, (size_t)n, &scan, &lim, &msg);
				if (rc != n)
					continue;	/* not a token: refused */
				if (msg.headers[msg.n_headers - 1].field !=
				    (same ? want : HF_H1_FLD_OTHER))
					fail_msg("parsed %s with byte %zu = 0x%02x as field %d",
						 known[k], i, b, msg.headers[msg.n_headers - 1].field);
			}
	}
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
		size_t len = strlen(values[k].word);
		bool conn = values[k].flag == HF_H1_F_CONN_NAMES;

		for (size_t i = 0; i < len; i++)
			for (int b = 0; b < 256; b++) {
				bool same, got;

				memcpy(name, values[k].word, len);
				name[i] = (char)b;
				same = ascii_ieq(name, values[k].word, len);
				n = snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nHost: a\r\n%s: ",
					     values[k].field);
				n = build(head, sizeof(head), head, name, len, "\r\n\r\n");
				hf_h1_scan_reset(&scan);
				rc = hf_h1_parse_request(head, (size_t)n, &scan, &lim, &msg);
				if (values[k].flag == HF_H1_F_CHUNKED) {
					/* a request's last coding must be chunked */
					if (rc != (same ? n : HF_H1_E_SMUGGLING) && rc != HF_H1_E_BAD)
						fail_msg("chunked with byte %zu = 0x%02x: %d", i, b, rc);
					continue;
				}
				if (rc != n)
					continue;	/* a byte no value holds: refused */
				got = (msg.flags & values[k].flag) != 0;
				/* an option other than close, keep-alive and upgrade names a field */
				if (conn ? got == same : got != same)
					fail_msg("%s: %s with byte %zu = 0x%02x: flags 0x%x",
						 values[k].field, values[k].word, i, b, msg.flags);
			}
	}
}

static int
setup(void **state)
{
	(void)state;
	hf_h1_limits_default(&lim);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_requests),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_field_variants),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
