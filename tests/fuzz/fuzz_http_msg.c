/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HTTP message rewriter: the request head the proxy
 * sends upstream (hf_http_build_request), built from a request the parser
 * accepted and from what a route may carry: header operations, a uri rewrite
 * (prefix, whole path, or uriRegexRewrite, through hf_http_route_target) and
 * an authority rewrite; or as the mirror builds it (authority "<host>-shadow",
 * connection: close). Route strings are drawn from the input but only as the
 * configuration would let them through (values.c and http.c's checks: token
 * names outside the fields the proxy manages, field-value bytes, rooted
 * paths, host[:port] authorities), since nothing else can reach the builder.
 *
 * Input: a flags byte, the route's strings (each a length byte and its
 * bytes), then the request head.
 *
 * The head built must parse again with hf_h1_parse_request() as exactly one
 * request using every byte, with the same method, the target sent (the
 * rewritten one, in origin-form when the client's was), HTTP/1.0 when the client spoke it, exactly
 * one Host (the rewritten authority when there is one, else the client's)
 * when the client sent one or an authority is set, every field it carries
 * either the client's, an operation's or one the proxy adds (nothing
 * injected), and the same framing: the same Content-Length and
 * Transfer-Encoding fields in the same order, and nothing of one hop: no
 * TE, Trailer, Keep-Alive, Proxy-Connection, Upgrade (but an upgrade's), the
 * client's Connection, or a field it named (but those the proxy must keep
 * or writes itself). The head is also written piece by piece, as for
 * fields other code put in the message, and must be the same bytes as the
 * runs of received lines; a line over the listener's limit is refused,
 * one within it is not. The mbufs all go back to the pool. Anything else
 * aborts.
 * fuzzes: dataplane/proxy/http_msg.c dataplane/proxy/http_route.c dataplane/http/h1.c
 * fuzzes: dataplane/http/chunked.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $BUILD/dataplane/libhf_dataplane.a $BUILD/lb/libhf_lb.a
 * fuzz-flags: $(pkg-config --libs libdpdk libhs libpcre2-8) -lm
 * fuzz-flags: $BUILD/tls/libhf_tls.a $(pkg-config --libs openssl)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/proxy/http-int.h"
#include "dataplane/proxy/http_route.h"
#include "dataplane/proxy/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_OPS 8

static struct rte_mempool *pool;
static pcre2_match_data *md;
static struct hf_h1_limits lim, up_lim;
static struct hf_h1_message msg, back;

/* The EAL's run-time directory (/var/run/dpdk/PREFIX) goes with the process. */
static void
eal_done(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = {"fuzz_http_msg", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		       "--no-telemetry", "--log-level=error", "-l", "0", prefix};

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=hffuzz-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "fuzz_http_msg: EAL init failed\n");
		exit(1);
	}
	pool = rte_pktmbuf_pool_create("fuzz_http_msg", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	md = pcre2_match_data_create(32, NULL);
	if (pool == NULL || md == NULL)
		exit(1);
	hf_h1_limits_default(&lim);
	/*
	 * The upstream reads with room for what the proxy adds (a dozen fields at
	 * most): a head at the client limits stays readable; the limits are not
	 * what is checked here.
	 */
	up_lim = lim;
	up_lim.max_headers = HF_H1_MAX_HEADERS_CAP;
	up_lim.max_head = 2 * lim.max_head;
	up_lim.max_request_line = 2 * lim.max_request_line;
	atexit(eal_done);
	return 0;
}

/* ---- what the configuration lets through (control-agent/istio/values.c, http.c) ---- */

static bool
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
hexd(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* An op name: a token, lower case (the loader lowers it), not a field the proxy manages or Host. */
static bool
op_name_ok(const char *s, size_t n)
{
	static const char *const managed[] = {"content-length", "transfer-encoding", "connection",
					      "keep-alive", "proxy-connection", "te", "trailer",
					      "upgrade", "host", NULL};

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]) || (s[i] >= 'A' && s[i] <= 'Z'))
			return false;
	for (int i = 0; managed[i] != NULL; i++)
		if (strlen(managed[i]) == n && memcmp(managed[i], s, n) == 0)
			return false;
	return true;
}

static bool
field_value_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f)))
			return false;
	}
	return true;
}

/* ist_check_path: visible ASCII, no '#', '%' before two hex digits; @p rooted: starts with '/'. */
static bool
path_ok(const char *s, size_t n, bool rooted)
{
	if (rooted && (n == 0 || s[0] != '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return false;
		if (c == '%' && (i + 2 >= n || !hexd((unsigned char)s[i + 1]) ||
				 !hexd((unsigned char)s[i + 2])))
			return false;
	}
	return true;
}

/* ist_check_authority, reg-name form: unreserved, sub-delims, %XX; then an optional :port. */
static bool
authority_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hlen = colon != NULL ? (size_t)(colon - s) : n;
	unsigned long port = 0;

	if (hlen == 0)
		return false;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < hlen && hexd((unsigned char)s[i + 1]) &&
		    hexd((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL)))
			return false;
	}
	if (colon == NULL)
		return true;
	if (n - hlen - 1 == 0 || n - hlen - 1 > 5)
		return false;
	for (size_t i = hlen + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

/* ---- input decoding ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

/* A length byte and that many bytes; false when the input is short. */
static bool
take(struct rd *r, char *dst, size_t cap, size_t *len)
{
	size_t k;

	if (r->n < 1)
		return false;
	k = r->p[0];
	if (k >= cap || r->n < 1 + k)
		return false;
	memcpy(dst, r->p + 1, k);
	dst[k] = '\0';
	*len = k;
	r->p += 1 + k;
	r->n -= 1 + k;
	return true;
}

/* Names the proxy itself writes or reads: a length byte of 0x80 + i takes names[i] instead. */
static bool
take_name(struct rd *r, char *dst, size_t cap, size_t *len)
{
	static const char *const names[] = {"x-forwarded-for", "x-request-id", "x-forwarded-proto",
					    "x-envoy-original-path", "expect", "host", "connection",
					    "content-length"};

	if (r->n >= 1 && r->p[0] >= 0x80) {
		const char *nm = names[r->p[0] % 8];

		snprintf(dst, cap, "%s", nm);
		*len = strlen(nm);
		r->p++;
		r->n--;
		return true;
	}
	return take(r, dst, cap, len);
}

static bool
slice_is(const struct hf_h1_slice *s, const char *name)
{
	return s->len == strlen(name) && strncasecmp(s->p, name, s->len) == 0;
}

static bool
slice_eq(const struct hf_h1_slice *s, const char *p, size_t n)
{
	return s->len == n && memcmp(s->p, p, n) == 0;
}

/* The fields named @p name of @p m, in order, as one string "v1\nv2\n...". */
static size_t
collect(const struct hf_h1_message *m, const char *name, char *out, size_t cap)
{
	size_t o = 0;

	for (uint32_t i = 0; i < m->n_headers; i++) {
		const struct hf_h1_header *f = &m->headers[i];

		if (!slice_is(&f->name, name))
			continue;
		if (o + f->value.len + 1 >= cap)
			abort();
		memcpy(out + o, f->value.p, f->value.len);
		o += f->value.len;
		out[o++] = '\n';
	}
	out[o] = '\0';
	return o;
}

static unsigned int
count(const struct hf_h1_message *m, const char *name)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < m->n_headers; i++)
		n += slice_is(&m->headers[i].name, name);
	return n;
}

/* Whether @p name (@p n bytes) is an option of a Connection field of @p m, trimmed, any case. */
static bool
conn_option(const struct hf_h1_message *m, const char *name, size_t n)
{
	for (uint32_t i = 0; i < m->n_headers; i++) {
		const char *p = m->headers[i].value.p, *end = p + m->headers[i].value.len;

		if (!slice_is(&m->headers[i].name, "connection"))
			continue;
		while (p < end) {
			const char *c = memchr(p, ',', (size_t)(end - p)), *e = c != NULL ? c : end;

			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if ((size_t)(e - p) == n && strncasecmp(p, name, n) == 0)
				return true;
			p = c != NULL ? c + 1 : end;
		}
	}
	return false;
}

/* The head @p wr holds, gathered into one malloc'ed buffer (@p *n bytes); the mbufs freed. */
static char *
gather(struct hf_http_wr *wr, size_t *n)
{
	char *out = malloc(wr->len ? wr->len : 1);

	*n = 0;
	for (struct rte_mbuf *m = wr->head; m != NULL; m = m->next) {
		if (*n + m->data_len > wr->len)
			abort();
		memcpy(out + *n, rte_pktmbuf_mtod(m, const char *), m->data_len);
		*n += m->data_len;
	}
	if (*n != wr->len)
		abort();
	hf_http_wr_discard(wr);
	return out;
}

static void
fail(const char *why, const char *head, size_t n)
{
	fprintf(stderr, "fuzz_http_msg: %s\n--- head sent upstream (%zu bytes)\n", why, n);
	fwrite(head, 1, n, stderr);
	fprintf(stderr, "---\n");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char names[MAX_OPS][256], values[MAX_OPS][256], authority[256], uri[256], re[256];
	static char target[HF_ROUTER_PATH * 8], fw_cl[8192], fw_te[8192], bk_cl[8192], bk_te[8192];
	struct hf_route_hdr_op ops[MAX_OPS];
	struct hf_route route = {0};
	struct rd r = {data, size};
	struct hf_http_rq_extra x = {0};
	struct hf_h1_scan scan;
	struct hf_http_wr wr;
	static struct hf_h1_message plain;
	struct hf_http_rq_extra x2;
	char rid[HF_UUID_LEN + 1], xff[64], shadow[HF_ROUTER_DOMAIN + 8], *req, *head, *head2, *at;
	char rid2[HF_UUID_LEN + 1], xff2[64];
	unsigned int n_ops, avail, hosts;
	size_t alen = 0, ulen = 0, relen = 0, tlen = 0, n, n2;
	int built;
	uint8_t flags, mode;
	bool mirror;
	int rc;

	if (r.n < 2)
		return 0;
	flags = r.p[0];
	n_ops = r.p[1] % (MAX_OPS + 1);
	r.p += 2;
	r.n -= 2;
	mirror = flags & 0x04;
	mode = (flags >> 3) & 3;	/* 0: no rewrite, 1: prefix, 2: whole path, 3: regex */
	for (unsigned int i = 0; i < n_ops; i++) {
		size_t nl, vl;

		if (r.n < 1)
			return 0;
		ops[i].op = r.p[0] % 3;
		r.p++;
		r.n--;
		if (!take_name(&r, names[i], sizeof(names[i]), &nl) ||
		    !take(&r, values[i], sizeof(values[i]), &vl) || !op_name_ok(names[i], nl) ||
		    !field_value_ok(values[i], vl))
			return 0;
		ops[i].name = names[i];
		ops[i].name_len = (uint16_t)nl;
		ops[i].value = values[i];
		ops[i].value_len = ops[i].op == HF_HDR_REMOVE ? 0 : (uint16_t)vl;
	}
	if ((flags & 0x02) && (!take(&r, authority, sizeof(authority), &alen) ||
			       !authority_ok(authority, alen)))
		return 0;
	if (mode == 1 || mode == 2) {
		if (!take(&r, uri, sizeof(uri), &ulen) || !path_ok(uri, ulen, true) || r.n < 1)
			return 0;
		route.rewrite_uri = uri;
		route.rewrite_uri_len = (uint16_t)ulen;
		route.rewrite_whole = mode == 2;
		route.strip = r.p[0];
		r.p++;
		r.n--;
	} else if (mode == 3) {
		int ec;
		PCRE2_SIZE eo;

		if (!take(&r, re, sizeof(re), &relen) || !take(&r, uri, sizeof(uri), &ulen) ||
		    memchr(re, '\0', relen) != NULL || !path_ok(uri, ulen, false))
			return 0;
		route.rewrite_re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo,
						 NULL);
		if (route.rewrite_re == NULL)
			return 0;
		route.rewrite_sub = uri;
		route.rewrite_sub_len = (uint16_t)ulen;
	}

	/* The request, in a buffer of its exact size (ASan sees any overread). */
	req = malloc(r.n ? r.n : 1);
	memcpy(req, r.p, r.n);
	hf_h1_scan_reset(&scan);
	rc = hf_h1_parse_request(req, r.n, &scan, &lim, &msg);
	if (rc <= 0)
		goto out;

	if (mode != 0) {
		tlen = hf_http_route_target(&route, md, msg.target.p, msg.target.len, target,
					    sizeof(target));
		if (tlen == 0)
			goto out;	/* refused with 414 by the session */
	}
	x.client_addr = 0x0100000a;
	x.http10 = msg.minor == 0;
	x.upgrade = (flags & 0x01) && (msg.flags & HF_H1_F_UPGRADE);
	x.request_id = rid;
	x.xff = xff;
	x.xff_len = sizeof(xff);
	x.target = tlen > 0 ? target : NULL;
	x.target_len = (uint32_t)tlen;
	x.limits = &lim;
	if (mirror) {
		/* As http_retry.c's hf_http_mirror() builds it. */
		static const struct hf_route_hdr_op close_op = {
			.op = HF_HDR_SET, .name = "connection", .name_len = 10, .value = "close",
			.value_len = 5};
		size_t k = hf_http_shadow_host(shadow, sizeof(shadow), msg.host.p, msg.host.len);

		/* No DNS name is that long: the mirror is skipped, nothing is built. */
		if (k == 0)
			goto out;
		x.http10 = false;
		x.upgrade = false;
		x.authority = shadow;
		x.authority_len = (uint32_t)k;
		x.ops[0] = &close_op;
		x.n_ops[0] = 1;
	} else {
		if (flags & 0x02) {
			x.authority = authority;
			x.authority_len = (uint32_t)alen;
		}
		/* The route's operations, then the destination's: split where the input says. */
		x.ops[0] = ops;
		x.n_ops[0] = (uint16_t)(n_ops / 2);
		x.ops[1] = ops + n_ops / 2;
		x.n_ops[1] = (uint16_t)(n_ops - n_ops / 2);
	}

	avail = rte_mempool_avail_count(pool);
	hf_http_wr_init(&wr, pool);
	built = hf_http_build_request(&wr, &msg, &x);
	if (wr.failed)
		abort();	/* 1023 mbufs: always enough for one head */
	head = gather(&wr, &n);
	if (rte_mempool_avail_count(pool) != avail)
		abort();
	if (memchr(rid, '\0', sizeof(rid)) == NULL || memchr(xff, '\0', sizeof(xff)) == NULL)
		abort();

	/*
	 * The same head written piece by piece: the request line and every field
	 * as if other code had put them there (no received line to copy). The
	 * bytes must be those of the runs of received lines, the x-request-id
	 * drawn aside.
	 */
	plain = msg;
	plain.line = (struct hf_h1_slice){0};
	for (uint32_t i = 0; i < plain.n_headers; i++)
		plain.headers[i].field = HF_H1_FLD_UNKNOWN;
	x2 = x;
	x2.request_id = rid2;
	x2.xff = xff2;
	hf_http_wr_init(&wr, pool);
	if (hf_http_build_request(&wr, &plain, &x2) != built || wr.failed)
		abort();
	head2 = gather(&wr, &n2);
	if (strlen(rid2) == HF_UUID_LEN && (at = memmem(head2, n2, rid2, HF_UUID_LEN)) != NULL)
		memcpy(at, rid, HF_UUID_LEN);
	if (n2 != n || memcmp(head, head2, n) != 0)
		fail("the runs of received lines differ from the head written piece by piece", head2,
		     n2);
	free(head2);
	/* The request line sent, counted as h1.c counts a received one: up to its LF. */
	at = memchr(head, '\n', n);
	if (at == NULL || (built == -ENAMETOOLONG) != ((size_t)(at - head) > lim.max_request_line))
		fail("request line limit misjudged", head, n);
	if (built == -EMSGSIZE && n <= lim.max_head)
		fail("head limit misjudged", head, n);
	if (built != 0)
		goto done;	/* refused by the session with 414 or 431: nothing is sent */

	/* What the upstream reads. */
	hf_h1_scan_reset(&scan);
	rc = hf_h1_parse_request(head, n, &scan, &up_lim, &back);
	if (rc != (int)n)
		fail(rc > 0 ? "more than one request" : hf_h1_error_name(rc), head, n);
	if (!slice_eq(&back.method_name, msg.method_name.p, msg.method_name.len))
		fail("method changed", head, n);
	if (x.target != NULL ? !slice_eq(&back.target, x.target, x.target_len)
			     : !slice_eq(&back.target, msg.target.p, msg.target.len))
		fail("target is not the one sent", head, n);
	/* A rewrite keeps an origin-form target in origin-form (RFC 9112 3.2.1). */
	if (x.target != NULL && msg.target.len > 0 && msg.target.p[0] == '/' && x.target[0] != '/')
		fail("rewritten target not in origin-form", head, n);
	if (back.minor != (x.http10 ? 0 : 1))
		fail("HTTP version changed", head, n);
	hosts = count(&back, "host");
	if ((x.authority != NULL || msg.host.len > 0 || count(&msg, "host") > 0) ? hosts != 1
										   : hosts != 0)
		fail("not exactly one Host", head, n);
	if (x.authority != NULL && !slice_eq(&back.host, x.authority, x.authority_len))
		fail("Host is not the rewritten authority", head, n);
	if (x.authority == NULL && hosts == 1 && !slice_eq(&back.host, msg.host.p, msg.host.len))
		fail("Host is not the client's", head, n);
	/* Framing: the same fields, in the same order; the same reading of them. */
	collect(&msg, "content-length", fw_cl, sizeof(fw_cl));
	collect(&back, "content-length", bk_cl, sizeof(bk_cl));
	collect(&msg, "transfer-encoding", fw_te, sizeof(fw_te));
	collect(&back, "transfer-encoding", bk_te, sizeof(bk_te));
	if (strcmp(fw_cl, bk_cl) != 0 || strcmp(fw_te, bk_te) != 0 ||
	    (back.flags & (HF_H1_F_CHUNKED | HF_H1_F_HAS_BODY_LENGTH)) !=
		    (msg.flags & (HF_H1_F_CHUNKED | HF_H1_F_HAS_BODY_LENGTH)) ||
	    ((msg.flags & HF_H1_F_HAS_BODY_LENGTH) && back.content_length != msg.content_length))
		fail("framing changed", head, n);
	/* Every field sent: the client's, an operation's, or one the proxy writes. */
	for (uint32_t i = 0; i < back.n_headers; i++) {
		const struct hf_h1_header *f = &back.headers[i];
		bool known = slice_is(&f->name, "host") || slice_is(&f->name, "x-forwarded-for") ||
			     slice_is(&f->name, "x-forwarded-proto") ||
			     slice_is(&f->name, "x-request-id") ||
			     slice_is(&f->name, "x-envoy-original-path") ||
			     slice_is(&f->name, "connection");

		for (uint32_t k = 0; !known && k < msg.n_headers; k++) {
			const struct hf_h1_header *h = &msg.headers[k];

			known = slice_eq(&f->name, h->name.p, h->name.len) &&
				slice_eq(&f->value, h->value.p, h->value.len);
		}
		for (int s = 0; !known && s < 2; s++)
			for (unsigned int k = 0; !known && k < x.n_ops[s]; k++)
				known = x.ops[s][k].op != HF_HDR_REMOVE &&
					slice_eq(&f->name, x.ops[s][k].name, x.ops[s][k].name_len);
		if (!known)
			fail("a field nobody sent", head, n);
		/*
		 * RFC 9110 7.6.1: nothing of one hop goes on, neither a field the
		 * client's Connection named (but the framing fields and Host, and the
		 * fields the proxy writes itself or an operation sets).
		 */
		if (slice_is(&f->name, "te") || slice_is(&f->name, "trailer") ||
		    slice_is(&f->name, "keep-alive") || slice_is(&f->name, "proxy-connection") ||
		    (slice_is(&f->name, "upgrade") && !x.upgrade))
			fail("a hop-by-hop field went on", head, n);
		if (slice_is(&f->name, "connection") && !slice_is(&f->value, "close") &&
		    !slice_is(&f->value, "keep-alive") && !slice_is(&f->value, "upgrade"))
			fail("the client's Connection went on", head, n);
		known = slice_is(&f->name, "host") || slice_is(&f->name, "content-length") ||
			slice_is(&f->name, "transfer-encoding") ||
			slice_is(&f->name, "x-forwarded-for") ||
			slice_is(&f->name, "x-forwarded-proto") ||
			slice_is(&f->name, "x-request-id") ||
			slice_is(&f->name, "x-envoy-original-path") ||
			slice_is(&f->name, "connection") || slice_is(&f->name, "upgrade");
		for (int s = 0; !known && s < 2; s++)
			for (unsigned int k = 0; !known && k < x.n_ops[s]; k++)
				known = x.ops[s][k].op != HF_HDR_REMOVE &&
					slice_eq(&f->name, x.ops[s][k].name, x.ops[s][k].name_len);
		if (!known && conn_option(&msg, f->name.p, f->name.len))
			fail("a field the client's Connection named went on", head, n);
	}
done:
	free(head);
out:
	free(req);
	pcre2_code_free((pcre2_code *)(uintptr_t)route.rewrite_re);
	return 0;
}
