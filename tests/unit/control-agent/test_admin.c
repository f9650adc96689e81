/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin server's defences, over a real loopback socket: a POST from a
 * web page (an Origin, or no x-hydrofoil-admin header) is refused with 403
 * before any handler runs while the proper one goes through; a /stats filter
 * is run by Hyperscan, refused with 400 when too long or not linear-time
 * (back-references, look-around), and applied to the handler's lines; a bind
 * outside loopback says so on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/admin.h"

/* What the handler saw; it answers /stats with these lines, anything else with "done". */
static struct {
	unsigned int calls;
	char method[8], path[64], query[256];
} seen;

static const char stats_body[] = "control_plane.snapshot_version: 3\n"
                                 "http.downstream_rq_total: 12\n"
                                 "http.drop.no_route: 1\n"
                                 "server.live: 1\n"
                                 "tcp.cx_active: 4\n";

static void
handler(void *ctx, const char *method, const char *path, const char *query,
        struct hf_admin_reply *r)
{
	(void)ctx;
	seen.calls++;
	snprintf(seen.method, sizeof(seen.method), "%s", method);
	snprintf(seen.path, sizeof(seen.path), "%s", path);
	snprintf(seen.query, sizeof(seen.query), "%s", query);
	if (strcmp(path, "/stats") == 0)
		hf_strbuf_printf(&r->body, "%s", stats_body);
	else
		hf_strbuf_printf(&r->body, "done\n");
}

static struct hf_admin *admin;
static uint16_t port;

static int
setup(void **state)
{
	char err[256];

	(void)state;
	admin = hf_admin_open("127.0.0.1", 0, handler, NULL, err, sizeof(err));
	if (admin == NULL)
		fail_msg("%s", err);
	port = hf_admin_port(admin);
	assert_true(port != 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hf_admin_close(admin);
	admin = NULL;
	return 0;
}

/*
 * Sends @p raw on a new connection and serves it; returns the whole reply
 * (static). The server closes after replying; the loop's bound only keeps a
 * broken server from hanging the test.
 */
static const char *
ask(const char *raw)
{
	static char reply[16384];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&seen, 0, sizeof(seen));
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, raw, strlen(raw), 0), (ssize_t)strlen(raw));
	for (unsigned int i = 0; i < 2000; i++) {
		ssize_t n;

		hf_admin_poll(admin, 5);
		n = recv(fd, reply + got, sizeof(reply) - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	reply[got] = '\0';
	close(fd);
	return reply;
}

static int
status_of(const char *reply)
{
	int st = 0;

	assert_int_equal(sscanf(reply, "HTTP/1.1 %d ", &st), 1);
	return st;
}

static const char *
body_of(const char *reply)
{
	const char *b = strstr(reply, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

/* A web page's POST: with an Origin (cross-site form or fetch), or without the header. */
static void
test_post_refused(void **state)
{
	static const char *const refused[] = {
	        /* a cross-site form post: simple request, Origin set by the browser */
	        "POST /quitquitquit HTTP/1.1\r\nHost: 127.0.0.1:15000\r\n"
	        "Origin: https://evil.example\r\nContent-Type: "
	        "application/x-www-form-urlencoded\r\n"
	        "Content-Length: 0\r\n\r\n",
	        /* the header is no pass when an Origin says a page sent it */
	        "POST /quitquitquit HTTP/1.1\r\nHost: localhost\r\nx-hydrofoil-admin: 1\r\n"
	        "origin: null\r\n\r\n",
	        /* no Origin (an older browser, a redirect), but no header either */
	        "POST /quitquitquit HTTP/1.1\r\nHost: localhost\r\n\r\n",
	        /* the header with no value */
	        "POST /quitquitquit HTTP/1.1\r\nHost: localhost\r\nx-hydrofoil-admin:  \r\n\r\n",
	        /* any POST, not only /quitquitquit */
	        "POST /anything HTTP/1.1\r\nHost: localhost\r\n\r\n",
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *reply = ask(refused[i]);

		if (status_of(reply) != 403)
			fail_msg("case %u: %s", i, reply);
		assert_int_equal(seen.calls, 0);
	}
	assert_non_null(strstr(body_of(ask(refused[0])), "Origin header is refused"));
	assert_non_null(strstr(body_of(ask(refused[2])), "x-hydrofoil-admin: 1"));
}

static void
test_post_allowed(void **state)
{
	const char *reply;

	(void)state;
	reply = ask(
	        "POST /quitquitquit HTTP/1.1\r\nHost: localhost\r\nx-hydrofoil-admin: 1\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.method, "POST");
	assert_string_equal(seen.path, "/quitquitquit");
	/* field names are case-insensitive (RFC 9110 5.1), any value will do */
	reply = ask("POST /quitquitquit HTTP/1.1\r\nX-Hydrofoil-Admin:yes\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_int_equal(seen.calls, 1);
	/* reads are not state changes: a GET with an Origin is answered */
	reply = ask("GET /ready HTTP/1.1\r\nOrigin: https://evil.example\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_int_equal(seen.calls, 1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_stats_filter(void **state)
{
	const char *reply;
	double t0;

	(void)state;
	/* the handler sees no filter, other parameters stay; the lines are filtered here */
	reply = ask("GET /stats?usedonly&filter=%5Ehttp%5C.&x=1 HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_string_equal(seen.query, "usedonly&x=1");
	assert_string_equal(body_of(reply),
	                    "http.downstream_rq_total: 12\nhttp.drop.no_route: 1\n");
	assert_non_null(strstr(reply, "Content-Length: 51\r\n"));
	/* a match anywhere in the name, as Envoy's (RE2 partial match) */
	reply = ask("GET /stats?filter=drop|live HTTP/1.1\r\n\r\n");
	assert_string_equal(body_of(reply), "http.drop.no_route: 1\nserver.live: 1\n");
	/* the value is not searched */
	reply = ask("GET /stats?filter=12 HTTP/1.1\r\n\r\n");
	assert_string_equal(body_of(reply), "");
	/* empty, or matching the empty string: every line */
	reply = ask("GET /stats?filter= HTTP/1.1\r\n\r\n");
	assert_string_equal(body_of(reply), stats_body);
	reply = ask("GET /stats?filter=x* HTTP/1.1\r\n\r\n");
	assert_string_equal(body_of(reply), stats_body);
	/* HEAD: the filtered length */
	reply = ask("HEAD /stats?filter=live HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(reply, "Content-Length: 15\r\n"));

	/* a pattern that backtracks exponentially elsewhere runs in linear time here */
	t0 = now_ms();
	reply = ask("GET /stats?filter=%28%5Ba-z._%5D%2B%29%2B%21 HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_string_equal(body_of(reply), "");
	print_message("  ([a-z._]+)+!: 200 in %.1f ms\n", now_ms() - t0);
	/* nested counted repeats: glibc's regcomp() takes seconds and a GiB over these 28 bytes */
	t0 = now_ms();
	reply = ask("GET /stats?filter=%28%28%28a%7B1%2C100%7D%29%7B1%2C100%7D%29%7B1%2C100%7D%29 "
	            "HTTP/1.1\r\n\r\n");
	assert_int_equal(status_of(reply), 200);
	assert_string_equal(body_of(reply), "control_plane.snapshot_version: 3\n"
	                                    "http.downstream_rq_total: 12\ntcp.cx_active: 4\n");
	print_message("  (((a{1,100}){1,100}){1,100}): 200 in %.1f ms\n", now_ms() - t0);
}

static void
test_stats_filter_refused(void **state)
{
	static const struct {
		const char *query, *says;
	} refused[] = {
	        /* (a*)*\1: a back-reference, exponential in a backtracking engine */
	        {"filter=%28a*%29*%5C1", "is refused: Back-references are unsupported"},
	        {"filter=%28%3F%3Dhttp%29h", "is refused: Zero-width assertions are not supported"},
	        {"filter=%28http", "is refused:"},
	        {"filter=a%00b", "holds a NUL byte"},
	        {"filter=x%7B1%2C60000%7D", "is refused: Bounded repeat is too large"},
	};
	static char raw[2048];
	const char *reply;
	double t0;

	(void)state;
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		t0 = now_ms();
		snprintf(raw, sizeof(raw), "GET /stats?%s HTTP/1.1\r\n\r\n", refused[i].query);
		reply = ask(raw);
		if (status_of(reply) != 400 || strstr(body_of(reply), refused[i].says) == NULL)
			fail_msg("%s: %s", refused[i].query, reply);
		assert_int_equal(seen.calls, 0);
		print_message("  %s: 400 in %.2f ms\n", refused[i].query, now_ms() - t0);
	}
	/* 256 bytes is the limit, once decoded */
	strcpy(raw, "GET /stats?filter=");
	for (unsigned int i = 0; i < HF_ADMIN_FILTER_MAX; i++)
		strcat(raw, i % 2 ? "%61" : "a");
	strcat(raw, " HTTP/1.1\r\n\r\n");
	reply = ask(raw);
	assert_int_equal(status_of(reply), 200);
	strcpy(strstr(raw, " HTTP/1.1"), "a HTTP/1.1\r\n\r\n");
	reply = ask(raw);
	assert_int_equal(status_of(reply), 400);
	assert_string_equal(body_of(reply), "filter: longer than 256 bytes\n");
	assert_int_equal(seen.calls, 0);
}

/* Captures what hf_admin_open() writes on stderr for @p address. */
static void
open_capturing(const char *address, char *out, size_t cap)
{
	char path[] = "/tmp/hf-admin-stderr-XXXXXX", err[256];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct hf_admin *a;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	a = hf_admin_open(address, 0, handler, NULL, err, sizeof(err));
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (a == NULL)
		fail_msg("%s", err);
	hf_admin_close(a);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

static void
test_bind_warning(void **state)
{
	char out[512];

	(void)state;
	open_capturing("127.0.0.1", out, sizeof(out));
	assert_string_equal(out, "");
	open_capturing("127.0.0.2", out, sizeof(out));
	assert_string_equal(out, "");
	/* every address: a listening socket for a moment, no traffic */
	open_capturing("0.0.0.0", out, sizeof(out));
	assert_non_null(strstr(out, "hydrofoil: admin: warning: listening on 0.0.0.0:0, not a "
	                            "loopback address"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_post_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_post_allowed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stats_filter, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stats_filter_refused, setup, teardown),
	        cmocka_unit_test(test_bind_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
