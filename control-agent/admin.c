/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin HTTP server: a kernel socket on the control thread, never on a
 * worker. It speaks just enough HTTP/1.1 for curl, Prometheus and foilctl:
 * one request per connection, GET/POST without a body, replies with
 * Content-Length and "Connection: close". Sockets are non-blocking and
 * multiplexed with poll(), so a slow client cannot stall the agent.
 *
 * Two defences live here, before any handler runs. A POST changes state,
 * and a web page the operator visits can make the browser send one to a
 * loopback port (a "simple" cross-site request needs no CORS preflight):
 * so a POST with an Origin header is refused, and so is one without the
 * x-hydrofoil-admin header, which a page cannot add without a preflight
 * this server never grants. And the /stats filter is a regular expression
 * from the network: it is at most 256 bytes and runs on Hyperscan, whose
 * matching is linear in the input, so no pattern can make the agent
 * backtrack (RE2 semantics as Envoy's: a match anywhere in the name).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>

#include "control-agent/admin.h"
#include "control-agent/clock.h"
#include "dataplane/http/h1.h"

#define MAX_CLIENTS 32
#define REQ_MAX 8192
#define REQ_TIMEOUT_MS 5000

struct client {
	int fd;				/* -1 when the slot is free */
	size_t in_len;
	size_t out_off;
	struct hf_strbuf out;		/* the whole reply once the request is read */
	uint64_t deadline_ms;
	char in[REQ_MAX];
};

struct hf_admin {
	int listen_fd;
	hf_admin_handler handler;
	void *ctx;
	struct client c[MAX_CLIENTS];
};

static void
client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->in_len = 0;
	c->out_off = 0;
	hf_strbuf_free(&c->out);
}

/* Builds the whole reply into c->out; the connection then only writes. */
static void
respond(struct client *c, struct hf_admin_reply *r)
{
	hf_strbuf_printf(&c->out,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-cache, max-age=0\r\nConnection: close\r\n\r\n",
			 r->status, hf_h1_reason(r->status),
			 r->content_type ? r->content_type : "text/plain; charset=UTF-8", r->body.len);
	if (r->body.len > 0)
		hf_strbuf_append(&c->out, r->body.s, r->body.len);
	hf_strbuf_free(&r->body);
	if (c->out.failed)
		client_close(c);
}

static void
respond_error(struct client *c, int status, const char *msg)
{
	struct hf_admin_reply r = {.status = status};

	hf_strbuf_printf(&r.body, "%s\n", msg);
	respond(c, &r);
}

/*
 * The value of field @p name in header block @p h (the lines after the
 * request line, up to the empty one), its leading and trailing blanks
 * trimmed, with its length in *@p len; NULL when absent.
 */
static const char *
header(const char *h, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	while (h[0] != '\0' && !(h[0] == '\r' && h[1] == '\n')) {
		const char *end = strstr(h, "\r\n");

		if (end == NULL)
			return NULL;
		if ((size_t)(end - h) > nl && h[nl] == ':' && strncasecmp(h, name, nl) == 0) {
			const char *v = h + nl + 1;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			*len = (size_t)(end - v);
			while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
				(*len)--;
			return v;
		}
		h = end + 2;
	}
	return NULL;
}

/* Why the POST with header block @p h is refused (a 403), or NULL. */
static const char *
post_refused(const char *h)
{
	size_t len;

	if (header(h, "origin", &len) != NULL)
		return "a POST with an Origin header is refused: admin commands come from "
		       "scripts and tools, not from web pages";
	if (header(h, HF_ADMIN_POST_HEADER, &len) == NULL || len == 0)
		return "a POST needs the header '" HF_ADMIN_POST_HEADER ": 1' (a web page cannot "
		       "send it to another site without a CORS preflight, which this server "
		       "never grants)";
	return NULL;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(bool *)ctx = true;
	return 1;	/* one match is enough: stop */
}

/*
 * Keeps the "name: value" lines of @p body whose name @p db matches. Returns
 * 0, or -ENOMEM (then @p body is as it was).
 */
static int
filter_lines(struct hf_strbuf *body, const hs_database_t *db)
{
	struct hf_strbuf kept = {0};
	hs_scratch_t *scratch = NULL;
	const char *p = body->s, *end = body->s + body->len;

	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl + 1 : end;
		const char *colon = memchr(p, ':', (size_t)(line_end - p));
		bool hit = false;

		hs_scan(db, p, (unsigned int)((colon != NULL ? colon : line_end) - p), 0, scratch,
			on_match, &hit);
		if (hit)
			hf_strbuf_append(&kept, p, (size_t)(line_end - p));
		p = line_end;
	}
	hs_free_scratch(scratch);
	if (kept.failed) {
		hf_strbuf_free(&kept);
		return -ENOMEM;
	}
	hf_strbuf_free(body);
	*body = kept;
	return 0;
}

/*
 * The decoded value of @p key in query @p q, its length in *@p len (it may
 * hold a NUL, from %00); -ENOENT when absent, -E2BIG when over @p cap - 1.
 */
static int
query_value(const char *q, const char *key, char *out, size_t cap, size_t *len);

/*
 * A /stats filter, compiled before the handler runs: @p query without its
 * filter goes to the handler (in @p rest), the lines it answers are then
 * filtered here. Returns 0 with *@p db NULL (no filter) or set, or fills
 * @p r with the 400 that says why the filter is refused.
 */
static int
stats_filter(const char *query, char *rest, hs_database_t **db, struct hf_admin_reply *r)
{
	static char pattern[REQ_MAX];
	hs_compile_error_t *ce = NULL;
	const char *p = query;
	size_t len = 0, o = 0;
	int rc = query_value(query, "filter", pattern, sizeof(pattern), &len);

	*db = NULL;
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && len > HF_ADMIN_FILTER_MAX)
		rc = -E2BIG;
	if (rc == -E2BIG) {
		r->status = 400;
		hf_strbuf_printf(&r->body, "filter: longer than %d bytes\n", HF_ADMIN_FILTER_MAX);
		return -EINVAL;
	}
	if (strlen(pattern) != len) {
		r->status = 400;
		hf_strbuf_printf(&r->body, "filter: holds a NUL byte\n");
		return -EINVAL;
	}
	if (hs_compile(pattern, HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK, NULL, db,
		       &ce) != HS_SUCCESS) {
		r->status = 400;
		hf_strbuf_printf(&r->body, "filter: '%s' is refused: %s (Hyperscan runs it: no "
				 "back-references, no look-around)\n", pattern,
				 ce != NULL ? ce->message : "cannot be compiled");
		hs_free_compile_error(ce);
		*db = NULL;
		return -EINVAL;
	}
	/* the rest of the query, every filter parameter left out */
	while (*p != '\0') {
		size_t n = strcspn(p, "&");

		if (!(strncmp(p, "filter", 6) == 0 && (p[6] == '=' || p[6] == '&' || n == 6))) {
			if (o > 0)
				rest[o++] = '&';
			memcpy(rest + o, p, n);
			o += n;
		}
		p += n + (p[n] == '&');
	}
	rest[o] = '\0';
	return 0;
}

/* Parses the request line once the header block is complete and runs the handler. */
static void
dispatch(struct hf_admin *a, struct client *c)
{
	static char rest[REQ_MAX];
	char *sp1, *sp2, *q, *line_end, *headers;
	struct hf_admin_reply r = {.status = 200};
	hs_database_t *filter = NULL;
	const char *why;

	line_end = strstr(c->in, "\r\n");
	*line_end = '\0';
	headers = line_end + 2;
	sp1 = strchr(c->in, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1[1] != '/') {
		respond_error(c, 400, "malformed request line");
		return;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	q = strchr(sp1 + 1, '?');
	if (q != NULL)
		*q++ = '\0';
	if (strcmp(c->in, "GET") != 0 && strcmp(c->in, "POST") != 0 && strcmp(c->in, "HEAD") != 0) {
		respond_error(c, 405, "only GET, HEAD and POST are served");
		return;
	}
	if (strcmp(c->in, "POST") == 0 && (why = post_refused(headers)) != NULL) {
		respond_error(c, 403, why);
		return;
	}
	if (strcmp(sp1 + 1, "/stats") == 0 && q != NULL) {
		if (stats_filter(q, rest, &filter, &r) != 0) {
			respond(c, &r);
			return;
		}
		if (filter != NULL)
			q = rest;
	}
	a->handler(a->ctx, c->in, sp1 + 1, q ? q : "", &r);
	if (filter != NULL) {
		if (r.status == 200 && !r.body.failed && filter_lines(&r.body, filter) != 0) {
			hf_strbuf_free(&r.body);
			r = (struct hf_admin_reply){.status = 500};
			hf_strbuf_printf(&r.body, "out of memory filtering the counters\n");
		}
		hs_free_database(filter);
	}
	if (strcmp(c->in, "HEAD") == 0) {
		size_t len = r.body.len;

		/* Same headers as GET, no body: keep the length, drop the bytes. */
		hf_strbuf_free(&r.body);
		hf_strbuf_printf(&c->out,
				 "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
				 r.status, hf_h1_reason(r.status), len);
		return;
	}
	respond(c, &r);
}

static void
on_writable(struct client *c)
{
	ssize_t n = send(c->fd, c->out.s + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_close(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out.len)
		client_close(c);
}

static void
on_readable(struct hf_admin *a, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, REQ_MAX - 1 - c->in_len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	if (strstr(c->in, "\r\n\r\n") != NULL) {
		dispatch(a, c);
		/*
		 * Sent at once, not at the next poll: a reply fits the socket
		 * buffer, and POST /quitquitquit ends the agent's loop (and closes
		 * this connection) before another poll would come.
		 */
		if (c->fd >= 0 && c->out.len > 0)
			on_writable(c);
	}
	else if (c->in_len == REQ_MAX - 1)
		respond_error(c, 431, "request header block over 8 KiB");
}

static void
accept_all(struct hf_admin *a)
{
	for (;;) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (a->c[i].fd < 0) {
				c = &a->c[i];
				break;
			}
		if (c == NULL) {
			/* Full: refuse rather than queue; admin clients retry. */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->out_off = 0;
		c->deadline_ms = hf_clock_ms() + REQ_TIMEOUT_MS;
	}
}

int
hf_admin_poll(struct hf_admin *a, int timeout_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *who[MAX_CLIENTS + 1];
	int n = 0, rc;
	uint64_t now;

	pfd[n] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
	who[n++] = NULL;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &a->c[i];

		if (c->fd < 0)
			continue;
		pfd[n] = (struct pollfd){.fd = c->fd, .events = c->out.len ? POLLOUT : POLLIN};
		who[n++] = c;
	}
	rc = poll(pfd, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? -EINTR : -errno;
	for (int i = 1; i < n; i++) {
		if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL) && !(pfd[i].revents & POLLIN))
			client_close(who[i]);
		else if (pfd[i].revents & POLLOUT)
			on_writable(who[i]);
		else if (pfd[i].revents & POLLIN)
			on_readable(a, who[i]);
	}
	if (pfd[0].revents & POLLIN)
		accept_all(a);

	now = hf_clock_ms();
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &a->c[i];

		if (c->fd >= 0 && c->out.len == 0 && now >= c->deadline_ms)
			respond_error(c, 408, "request not received within 5 s");
	}
	return 0;
}

struct hf_admin *
hf_admin_open(const char *address, uint16_t port, hf_admin_handler h, void *ctx, char *err,
	      size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct hf_admin *a;
	int one = 1;

	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "admin: '%s' is not an IPv4 address", address);
		return NULL;
	}
	/* 127.0.0.0/8 (RFC 1122 3.2.1.3): anything else is reachable from elsewhere */
	if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		fprintf(stderr, "hydrofoil: admin: warning: listening on %s:%u, not a loopback "
			"address: whoever reaches it reads every counter and can stop the server "
			"(POST /quitquitquit)\n", address, port);
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "admin: out of memory");
		return NULL;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		a->c[i].fd = -1;
	a->handler = h;
	a->ctx = ctx;
	a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		goto fail;
	setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(a->listen_fd, 64) != 0)
		goto fail;
	return a;
fail:
	snprintf(err, errlen, "admin: cannot listen on %s:%u: %s", address, port, strerror(errno));
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	free(a);
	return NULL;
}

void
hf_admin_close(struct hf_admin *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (a->c[i].fd >= 0)
			client_close(&a->c[i]);
	close(a->listen_fd);
	free(a);
}

static int
query_value(const char *q, const char *key, char *out, size_t cap, size_t *len)
{
	size_t klen = strlen(key);

	while (*q != '\0') {
		const char *end = q + strcspn(q, "&");

		if ((size_t)(end - q) >= klen && strncmp(q, key, klen) == 0 &&
		    (q[klen] == '=' || q + klen == end)) {
			const char *v = q[klen] == '=' ? q + klen + 1 : end;
			size_t o = 0;

			while (v < end) {
				if (o + 1 >= cap) {
					out[o] = '\0';
					*len = o;
					return -E2BIG;
				}
				if (*v == '%' && end - v >= 3 && hf_h1_hexval(v[1]) >= 0 && hf_h1_hexval(v[2]) >= 0) {
					out[o++] = (char)(hf_h1_hexval(v[1]) * 16 + hf_h1_hexval(v[2]));
					v += 3;
				} else {
					out[o++] = *v == '+' ? ' ' : *v;
					v++;
				}
			}
			out[o] = '\0';
			*len = o;
			return 0;
		}
		q = *end ? end + 1 : end;
	}
	return -ENOENT;
}

int
hf_admin_query_get(const char *q, const char *key, char *out, size_t outlen)
{
	size_t len;

	/* a value too long for @p out is cut, as it always was */
	return query_value(q, key, out, outlen, &len) == -ENOENT ? -ENOENT : 0;
}

int
hf_admin_query_nth(const char *q, const char *key, unsigned int n, char *out, size_t outlen)
{
	size_t klen = strlen(key), len;

	while (*q != '\0') {
		size_t seg = strcspn(q, "&");

		if (seg >= klen && strncmp(q, key, klen) == 0 && (q[klen] == '=' || seg == klen) &&
		    n-- == 0)
			/* query_value finds this occurrence first: it starts here */
			return query_value(q, key, out, outlen, &len) == -ENOENT ? -ENOENT : 0;
		q += seg + (q[seg] == '&');
	}
	return -ENOENT;
}

uint16_t
hf_admin_port(const struct hf_admin *a)
{
	struct sockaddr_in sa;
	socklen_t n = sizeof(sa);

	if (getsockname(a->listen_fd, (struct sockaddr *)&sa, &n) != 0)
		return 0;
	return ntohs(sa.sin_port);
}
