/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The access log: each record becomes exactly the line Istio's default format
 * gives (what log pipelines parse), a truncated line still ends its record,
 * and records queued by workers reach the file whole and in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_ring.h>

#include "hf_test.h"
#include "control-agent/access_log.h"

#define LINE_MAX_LEN 2048

/* A request proxied to an upstream, every field filled, as a worker fills it. */
static void
rec_upstream(struct hf_access_log_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->start_us = 1700000000123456ull;	/* 2023-11-14T22:13:20.123456Z */
	r->bytes_rx = 42;
	r->bytes_tx = 5183;
	r->duration_ms = 12;
	r->service_ms = 10;
	r->status = 200;
	r->minor = 1;
	r->flag = HF_RF_NONE;
	r->up_addr = hf_test_addr("10.0.0.5");
	r->up_port = rte_cpu_to_be_16(9080);
	r->up_laddr = hf_test_addr("10.0.0.2");
	r->up_lport = rte_cpu_to_be_16(40001);
	r->d_laddr = hf_test_addr("198.51.100.2");
	r->d_lport = rte_cpu_to_be_16(80);
	r->d_raddr = hf_test_addr("198.51.100.1");
	r->d_rport = rte_cpu_to_be_16(51234);
	r->details = "via_upstream";
	strcpy(r->method, "POST");
	strcpy(r->path, "/api/v1/ratings?id=7");
	strcpy(r->authority, "bookinfo.example.com");
	strcpy(r->user_agent, "curl/8.5.0");
	strcpy(r->xff, "203.0.113.7, 198.51.100.1");
	strcpy(r->request_id, "84961386-6d84-429d-98bd-c5aee93b5c88");
	strcpy(r->cluster, "ratings");
	strcpy(r->route, "api");
}

#define UPSTREAM_LINE                                                                              \
	"[2023-11-14T22:13:20.123Z] \"POST /api/v1/ratings?id=7 HTTP/1.1\" 200 - via_upstream - "  \
	"\"-\" 42 5183 12 10 \"203.0.113.7, 198.51.100.1\" \"curl/8.5.0\" "                        \
	"\"84961386-6d84-429d-98bd-c5aee93b5c88\" \"bookinfo.example.com\" \"10.0.0.5:9080\" "     \
	"ratings 10.0.0.2:40001 198.51.100.2:80 198.51.100.1:51234 - api\n"

/* Local replies: no upstream, so its fields are "-". */
static void
rec_local(struct hf_access_log_rec *r, uint16_t status, uint8_t flag, const char *details)
{
	memset(r, 0, sizeof(*r));
	r->start_us = 86400000000ull + 5000;	/* 1970-01-02T00:00:00.005Z */
	r->bytes_tx = 0;
	r->duration_ms = 1;
	r->service_ms = -1;
	r->status = status;
	r->minor = 0;
	r->flag = flag;
	r->d_laddr = hf_test_addr("198.51.100.2");
	r->d_lport = rte_cpu_to_be_16(80);
	r->d_raddr = hf_test_addr("198.51.100.1");
	r->d_rport = rte_cpu_to_be_16(5);
	/* As the worker's set_result() fills it. */
	r->details = details;
	strcpy(r->method, "GET");
	strcpy(r->path, "/nope");
	strcpy(r->authority, "unknown.example.com");
	strcpy(r->xff, "198.51.100.1");
	strcpy(r->request_id, "0f6a3d6c-1d2b-4e0f-8a9b-0123456789ab");
}

static void
test_format(void **state)
{
	static const struct {
		const char *what;
		uint16_t status;
		uint8_t flag;
		const char *details;
		bool has_cluster;
		const char *line;
	} local[] = {
		{"no route: 404 NR", 404, HF_RF_NR, "route_not_found", false,
		 "[1970-01-02T00:00:00.005Z] \"GET /nope HTTP/1.0\" 404 NR route_not_found - \"-\" "
		 "0 0 1 - "
		 "\"198.51.100.1\" \"-\" \"0f6a3d6c-1d2b-4e0f-8a9b-0123456789ab\" "
		 "\"unknown.example.com\" \"-\" - - 198.51.100.2:80 198.51.100.1:5 - -\n"},
		{"upstream connect failure: 503 UF", 503, HF_RF_UF,
		 "upstream_reset_before_response_started", true,
		 "[1970-01-02T00:00:00.005Z] \"GET /nope HTTP/1.0\" 503 UF "
		 "upstream_reset_before_response_started - \"-\" 0 0 1 - \"198.51.100.1\" \"-\" "
		 "\"0f6a3d6c-1d2b-4e0f-8a9b-0123456789ab\" \"unknown.example.com\" \"-\" ratings - "
		 "198.51.100.2:80 198.51.100.1:5 - -\n"},
		{"no healthy upstream: 503 UH", 503, HF_RF_UH, "no_healthy_upstream", true,
		 "[1970-01-02T00:00:00.005Z] \"GET /nope HTTP/1.0\" 503 UH no_healthy_upstream - "
		 "\"-\" 0 0 1 - \"198.51.100.1\" \"-\" \"0f6a3d6c-1d2b-4e0f-8a9b-0123456789ab\" "
		 "\"unknown.example.com\" \"-\" ratings - 198.51.100.2:80 198.51.100.1:5 - -\n"},
	};
	struct hf_access_log_rec r;
	char line[LINE_MAX_LEN];
	unsigned int failed = 0;
	size_t n;

	(void)state;
	rec_upstream(&r);
	n = hf_access_log_format(&r, line, sizeof(line));
	assert_string_equal(line, UPSTREAM_LINE);
	assert_int_equal(n, strlen(UPSTREAM_LINE));
	for (size_t k = 0; k < sizeof(local) / sizeof(local[0]); k++) {
		rec_local(&r, local[k].status, local[k].flag, local[k].details);
		if (local[k].has_cluster)
			strcpy(r.cluster, "ratings");
		n = hf_access_log_format(&r, line, sizeof(line));
		print_message("  %s\n", local[k].what);
		if (strcmp(line, local[k].line) != 0 || n != strlen(line)) {
			print_error("--- want\n%s--- got\n%s", local[k].line, line);
			failed++;
		}
	}
	/* A connection that never sent a request: no method, no protocol, status 0. */
	memset(&r, 0, sizeof(r));
	r.service_ms = -1;
	r.flag = HF_RF_DC;
	n = hf_access_log_format(&r, line, sizeof(line));
	assert_string_equal(line, "[1970-01-01T00:00:00.000Z] \"- - -\" 0 DC - - \"-\" 0 0 0 - "
				  "\"-\" \"-\" \"-\" \"-\" \"-\" - - - - - -\n");
	assert_int_equal(failed, 0);
}

/* However short the buffer, the line is NUL-terminated and ends with its newline. */
static void
test_format_truncated(void **state)
{
	static const size_t caps[] = {2, 16, 64, 200, 400};
	struct hf_access_log_rec r;
	char full[LINE_MAX_LEN], line[LINE_MAX_LEN];
	size_t len, n;

	(void)state;
	rec_upstream(&r);
	memset(r.path, 'p', sizeof(r.path) - 1);
	r.path[0] = '/';
	r.path[sizeof(r.path) - 1] = '\0';
	len = hf_access_log_format(&r, full, sizeof(full));
	assert_int_equal(len, strlen(full));
	assert_true(len > 400);
	assert_non_null(strstr(full, r.path));	/* the whole 255-byte path when there is room */
	assert_string_equal(full + len - 5, " api\n");
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		memset(line, 'Z', sizeof(line));
		n = hf_access_log_format(&r, line, caps[k]);
		assert_int_equal(n, caps[k] - 1);
		assert_int_equal(line[n], '\0');
		assert_int_equal(line[n - 1], '\n');
		assert_memory_equal(line, full, n - 1);	/* the start of the line, as it was */
		assert_int_equal(line[caps[k]], 'Z');	/* nothing written past the buffer */
	}
	/* One byte short of the whole line: the last character gives way to the newline. */
	n = hf_access_log_format(&r, line, len);
	assert_int_equal(n, len - 1);
	assert_string_equal(line + n - 4, " ap\n");
	/* Exactly enough: the whole line. */
	n = hf_access_log_format(&r, line, len + 1);
	assert_string_equal(line, full);
}

/*
 * What a client sends is escaped where it is quoted: a user agent with a '"'
 * cannot close its field and write the ones after it, a CR LF cannot start a
 * line, and a space in an unquoted field cannot split it.
 */
static void
test_escape(void **state)
{
	struct hf_access_log_rec r;
	char line[LINE_MAX_LEN];

	(void)state;
	rec_upstream(&r);
	strcpy(r.user_agent, "curl\" 200 - \"forged\\");
	strcpy(r.path, "/a\"b\\c\r\nd\x7f\xff e");
	strcpy(r.authority, "h\tst\x01");
	strcpy(r.xff, "203.0.113.7\"");
	strcpy(r.route, "my route");
	strcpy(r.cluster, "c\"l");
	hf_access_log_format(&r, line, sizeof(line));
	assert_string_equal(line,
		"[2023-11-14T22:13:20.123Z] \"POST /a\\\"b\\\\c\\x0d\\x0ad\\x7f\\xff\\x20e HTTP/1.1\" 200 - "
		"via_upstream - \"-\" 42 5183 12 10 \"203.0.113.7\\\"\" \"curl\\\" 200 - \\\"forged\\\\\" "
		"\"84961386-6d84-429d-98bd-c5aee93b5c88\" \"h\\x09st\\x01\" \"10.0.0.5:9080\" "
		"c\\\"l 10.0.0.2:40001 198.51.100.2:80 198.51.100.1:51234 - my\\x20route\n");
}

/*
 * The fields of line @p s as a log parser splits them: quoted fields end at
 * the first '"' not escaped, others at a space. Returns how many; -1 when
 * the line is not one line of printable ASCII ending in its newline.
 */
static int
count_fields(const char *s)
{
	int n = 0;

	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c >= 0x7f || ((unsigned char)*c < 0x20 && c[1] != '\0'))
			return -1;
	if (strlen(s) == 0 || s[strlen(s) - 1] != '\n')
		return -1;
	while (*s != '\n') {
		if (*s == ' ') {
			s++;
			continue;
		}
		n++;
		if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (*s == '\n')
					return -1;
				if (*s == '\\')
					s++;
			}
			s++;
		} else {
			while (*s != ' ' && *s != '\n')
				s++;
		}
	}
	return n;
}

/* Random bytes in every field a request controls: always 22 fields on one line. */
static void
test_escape_random(void **state)
{
	struct hf_access_log_rec r;
	char line[4096];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	rec_upstream(&r);
	assert_int_equal(hf_access_log_format(&r, line, sizeof(line)), strlen(UPSTREAM_LINE));
	assert_int_equal(count_fields(line), 22);
	for (unsigned int round = 0; round < 2000; round++) {
		struct {
			char *p;
			size_t cap;
		} f[] = {
			{r.method, sizeof(r.method)}, {r.path, sizeof(r.path)},
			{r.authority, sizeof(r.authority)}, {r.user_agent, sizeof(r.user_agent)},
			{r.xff, sizeof(r.xff)}, {r.request_id, sizeof(r.request_id)},
			{r.cluster, sizeof(r.cluster)}, {r.route, sizeof(r.route)},
		};

		rec_upstream(&r);
		for (unsigned int k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			size_t len;

			/* splitmix64: the same bytes every run */
			x += 0x9e3779b97f4a7c15ull;
			len = (x >> 33) % f[k].cap;
			for (size_t i = 0; i < len; i++) {
				uint64_t z = (x += 0x9e3779b97f4a7c15ull);

				z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
				z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
				/* one byte in four a quote, a backslash, a space or a CR/LF */
				f[k].p[i] = (z & 3) == 0 ? "\"\\ \r\n"[(z >> 8) % 5] : (char)(1 + (z >> 16) % 255);
			}
			f[k].p[len] = '\0';
		}
		hf_access_log_format(&r, line, sizeof(line));
		if (count_fields(line) != 22)
			fail_msg("round %u: %d fields in %s", round, count_fields(line), line);
	}
}

/* Reads file @p path whole into a malloc'd string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static struct rte_ring *
log_ring(const char *name)
{
	struct rte_ring *r = rte_ring_create_elem(name, sizeof(struct hf_access_log_rec), 256,
						  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);

	assert_non_null(r);
	return r;
}

static void
enqueue(struct rte_ring *ring, unsigned int first, unsigned int n)
{
	struct hf_access_log_rec r;

	for (unsigned int i = first; i < first + n; i++) {
		rec_upstream(&r);
		snprintf(r.path, sizeof(r.path), "/req/%u", i);
		r.status = (uint16_t)(200 + i % 300);
		assert_int_equal(rte_ring_sp_enqueue_elem(ring, &r, sizeof(r)), 0);
	}
}

/* The lines a file must hold: requests first..first+n-1 of enqueue(), in order. */
static void
expect_lines(char *buf, size_t cap, unsigned int first, unsigned int n)
{
	struct hf_access_log_rec r;
	size_t at = 0;

	for (unsigned int i = first; i < first + n; i++) {
		rec_upstream(&r);
		snprintf(r.path, sizeof(r.path), "/req/%u", i);
		r.status = (uint16_t)(200 + i % 300);
		at += hf_access_log_format(&r, buf + at, cap - at);
	}
}

/* Two workers' rings drained into a file: every record, each ring in order, appended. */
static void
test_drain(void **state)
{
	char dir[] = "/tmp/hf-alog-XXXXXX", path[64], err[256];
	static char want[200 * LINE_MAX_LEN];
	struct hf_access_log al = {0};
	char *got;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/access.log", dir);
	assert_int_equal(hf_access_log_open(&al, path, err, sizeof(err)), 0);
	al.n_rings = 2;
	al.rings[0] = log_ring("alog_t0");
	al.rings[1] = log_ring("alog_t1");
	assert_int_equal(hf_access_log_drain(&al), 0);
	enqueue(al.rings[0], 0, 100);	/* more than one burst */
	enqueue(al.rings[1], 100, 3);
	assert_int_equal(hf_access_log_drain(&al), 103);
	assert_int_equal(al.written, 103);
	assert_int_equal(rte_ring_count(al.rings[0]), 0);
	/* Written and flushed by the time drain returns: a tail -f sees it. */
	got = slurp(path);
	expect_lines(want, sizeof(want), 0, 103);
	assert_string_equal(got, want);
	free(got);
	/* What close drains goes after it. */
	enqueue(al.rings[1], 103, 2);
	hf_access_log_close(&al);
	assert_null(al.f);
	got = slurp(path);
	expect_lines(want, sizeof(want), 0, 105);
	assert_string_equal(got, want);
	free(got);
	/* Opening again appends: a restart keeps the old lines. */
	assert_int_equal(hf_access_log_open(&al, path, err, sizeof(err)), 0);
	enqueue(al.rings[0], 105, 1);
	assert_int_equal(hf_access_log_drain(&al), 1);
	hf_access_log_close(&al);
	got = slurp(path);
	n = strlen(got);
	expect_lines(want, sizeof(want), 0, 106);
	assert_string_equal(got, want);
	assert_int_equal(got[n - 1], '\n');
	free(got);
	rte_ring_free(al.rings[0]);
	rte_ring_free(al.rings[1]);
	unlink(path);
	rmdir(dir);
}

static void
test_open_fails(void **state)
{
	struct hf_access_log al = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(hf_access_log_open(&al, "/nonexistent/dir/access.log", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/access.log"));
	assert_null(al.f);
	assert_int_equal(hf_access_log_drain(&al), 0);
}

/*
 * A failed TLS handshake (tls/conn.c's record): no request, code 0, the reason
 * as %CONNECTION_TERMINATION_DETAILS%, the client's SNI as %REQUESTED_SERVER_NAME%,
 * which is escaped like any unquoted field the client controls.
 */
static void
test_format_tls_failure(void **state)
{
	static const char want[] =
		"[1970-01-02T00:00:00.005Z] \"- - -\" 0 - - TLS_error:unknown_sni \"-\" 0 0 3 - "
		"\"-\" \"-\" \"-\" \"-\" \"-\" - - 198.51.100.2:443 198.51.100.1:40001 "
		"nobody.example.com -\n";
	struct hf_access_log_rec r;
	char line[LINE_MAX_LEN];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.start_us = 86400000000ull + 5000;
	r.duration_ms = 3;
	r.service_ms = -1;
	r.minor = 1;
	r.d_laddr = hf_test_addr("198.51.100.2");
	r.d_lport = rte_cpu_to_be_16(443);
	r.d_raddr = hf_test_addr("198.51.100.1");
	r.d_rport = rte_cpu_to_be_16(40001);
	r.conn_details = "TLS_error:unknown_sni";
	strcpy(r.sni, "nobody.example.com");
	assert_int_equal(hf_access_log_format(&r, line, sizeof(line)), strlen(want));
	assert_string_equal(line, want);
	/* no SNI: "-"; one with a space or a quote cannot forge a field */
	r.sni[0] = '\0';
	hf_access_log_format(&r, line, sizeof(line));
	assert_non_null(strstr(line, " 198.51.100.1:40001 - -\n"));
	strcpy(r.sni, "a b\"c");
	hf_access_log_format(&r, line, sizeof(line));
	assert_non_null(strstr(line, " 198.51.100.1:40001 a\\x20b\\\"c -\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncated),
		cmocka_unit_test(test_format_tls_failure),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_open_fails),
	};

	hf_test_eal(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
