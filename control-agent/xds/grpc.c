/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC client stream over nghttp2 on a non-blocking socket (grpc.h). The
 * session is driven with nghttp2's memory interface (mem_recv / mem_send), so
 * every byte of I/O is a read() or write() here, bounded per poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "control-agent/xds/grpc.h"

/* Bytes read from the socket per poll at most: the agent has other work on its loop. */
#define READ_BUDGET (256u << 10)
#define READ_CHUNK  (16u << 10)
/* Stream and connection receive windows: a state of the world arrives without stalls. */
#define WINDOW (16u << 20)

enum grpc_state { G_DOWN, G_CONNECTING, G_HANDSHAKE, G_UP };

struct hf_grpc {
	uint32_t addr; /* network order */
	uint16_t port;
	char *authority, *path;
	const struct hf_grpc_ops *ops;
	void *ctx;
	enum grpc_state state;
	int fd;
	SSL *ssl; /* TLS channel: this connection's; NULL in plaintext */
	char *cert_file, *key_file, *ca_file, *san; /* TLS: set; else NULL */
	uint64_t cnt[HF_GRPC_CNT__N];
	nghttp2_session *h2;
	int32_t stream_id;    /* 0: no stream */
	uint64_t next_try_ms; /* G_DOWN: when to connect */
	uint32_t backoff_ms;  /* the next delay before jitter */
	uint64_t rng;
	/* framed messages waiting for nghttp2's data provider */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	bool deferred; /* the provider said DEFERRED: resume on new data */
	/* bytes nghttp2 produced that the socket did not take yet */
	uint8_t *wpend;
	size_t wpend_len, wpend_off, wpend_cap;
	/* the message being received */
	uint8_t *in;
	size_t in_len, in_cap;
	/* response head and trailers */
	int http_status;
	int grpc_status; /* -1: not seen */
	char grpc_message[160];
	char why[200]; /* set by the first reason to tear down */
};

static uint32_t
rnd(struct hf_grpc *g)
{
	/* xorshift64*: jitter only, no cryptographic need */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 2685821657736338717ull) >> 32);
}

static void
schedule_retry(struct hf_grpc *g, uint64_t now_ms)
{
	/* delay x [0.8, 1.2), then the next delay 1.6 times as long, capped */
	uint64_t d = g->backoff_ms * (800u + rnd(g) % 400u) / 1000u;

	g->next_try_ms = now_ms + d;
	g->backoff_ms = g->backoff_ms * 8u / 5u;
	if (g->backoff_ms > HF_GRPC_BACKOFF_MAX_MS)
		g->backoff_ms = HF_GRPC_BACKOFF_MAX_MS;
}

static void
teardown(struct hf_grpc *g, uint64_t now_ms)
{
	bool was_open = g->stream_id != 0;

	if (g->h2 != NULL)
		nghttp2_session_del(g->h2);
	g->h2 = NULL;
	SSL_free(g->ssl);
	g->ssl = NULL;
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->stream_id = 0;
	g->state = G_DOWN;
	g->out_len = g->out_off = 0;
	g->wpend_len = g->wpend_off = 0;
	g->in_len = 0;
	g->deferred = false;
	schedule_retry(g, now_ms);
	if (g->why[0] == '\0')
		snprintf(g->why, sizeof(g->why), "connection closed");
	if (was_open)
		g->ops->on_close(g->ctx, g->why);
	else if (g->ops->on_fail != NULL)
		g->ops->on_fail(g->ctx, g->why);
}

/* read() or SSL_read(): bytes, 0 at the end, -1 with errno (EAGAIN: nothing now). */
static ssize_t
io_read(struct hf_grpc *g, void *buf, size_t n)
{
	int r;

	if (g->ssl == NULL)
		return read(g->fd, buf, n);
	ERR_clear_error();
	r = SSL_read(g->ssl, buf, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(g->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
	case SSL_ERROR_ZERO_RETURN: return 0;
	default: errno = EPROTO; return -1;
	}
}

/* write() or SSL_write(): bytes taken, or -1 with errno (EAGAIN: none now). */
static ssize_t
io_write(struct hf_grpc *g, const void *buf, size_t n)
{
	int r;

	if (g->ssl == NULL)
		return write(g->fd, buf, n);
	ERR_clear_error();
	r = SSL_write(g->ssl, buf, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(g->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
	default: errno = EPROTO; return -1;
	}
}

/* Records the first reason the connection ends. */
static void
fail(struct hf_grpc *g, const char *fmt, const char *arg)
{
	if (g->why[0] == '\0')
		snprintf(g->why, sizeof(g->why), fmt, arg);
}

static int
append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap == 0 ? 4096 : *cap;
		uint8_t *nb;

		while (c < *len + n)
			c *= 2;
		nb = realloc(*buf, c);
		if (nb == NULL)
			return -ENOMEM;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

static ssize_t
data_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
          nghttp2_data_source *src, void *user)
{
	struct hf_grpc *g = user;
	size_t n = g->out_len - g->out_off;

	(void)s;
	(void)id;
	(void)src;
	(void)flags; /* never END_STREAM: the client half stays open for the stream's life */
	if (n == 0) {
		g->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > length)
		n = length;
	memcpy(buf, g->out + g->out_off, n);
	g->out_off += n;
	if (g->out_off == g->out_len)
		g->out_off = g->out_len = 0;
	return (ssize_t)n;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
          const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct hf_grpc *g = user;

	(void)s;
	(void)flags;
	if (f->hd.stream_id != g->stream_id)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		g->http_status = atoi((const char *)value);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		g->grpc_status = atoi((const char *)value);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(g->grpc_message, sizeof(g->grpc_message), "%.*s", (int)valuelen,
		         (const char *)value);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0 &&
	         (valuelen < 16 || memcmp(value, "application/grpc", 16) != 0))
		/* gRPC over HTTP/2: a response of another type is not a gRPC answer */
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	struct hf_grpc *g = user;

	(void)s;
	(void)flags;
	if (id != g->stream_id)
		return 0;
	if (append(&g->in, &g->in_len, &g->in_cap, data, len) != 0) {
		fail(g, "%s", "out of memory receiving a message");
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	/* Deliver every whole message: 1 byte flag, 4 bytes length, the message. */
	while (g->in_len >= 5) {
		uint32_t n = (uint32_t)g->in[1] << 24 | (uint32_t)g->in[2] << 16 |
		             (uint32_t)g->in[3] << 8 | g->in[4];

		if (g->in[0] != 0) {
			fail(g, "%s", "a compressed message (no grpc-encoding was offered)");
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		}
		if (n > HF_GRPC_MAX_MESSAGE) {
			fail(g, "%s", "a message over the 64 MiB limit");
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		}
		if (g->in_len < 5 + (size_t)n)
			break;
		g->ops->on_message(g->ctx, g->in + 5, n);
		if (g->h2 == NULL) /* the callback may not tear down; defensive */
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		memmove(g->in, g->in + 5 + n, g->in_len - 5 - n);
		g->in_len -= 5 + (size_t)n;
	}
	return 0;
}

static int
on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct hf_grpc *g = user;
	char why[200];

	(void)s;
	if (id != g->stream_id)
		return 0;
	if (g->grpc_status >= 0)
		snprintf(why, sizeof(why), "stream ended: grpc-status %d%s%s", g->grpc_status,
		         g->grpc_message[0] != '\0' ? ": " : "", g->grpc_message);
	else if (g->http_status != 200)
		snprintf(why, sizeof(why), "stream ended: HTTP status %d", g->http_status);
	else
		snprintf(why, sizeof(why), "stream reset: HTTP/2 error %s",
		         nghttp2_http2_strerror(code));
	fail(g, "%s", why);
	/* The connection goes too: one stream is all it carries. */
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct hf_grpc *g = user;

	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		fail(g, "%s", "the server sent GOAWAY");
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int
start_session(struct hf_grpc *g)
{
	nghttp2_session_callbacks *cb;
	nghttp2_settings_entry iv[] = {
	        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW},
	};
	nghttp2_nv hdr[] = {
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
	        NV(":method", "POST"),
	        NV(":scheme", g->ssl != NULL ? "https" : "http"),
	        NV(":path", g->path),
	        NV(":authority", g->authority),
	        NV("content-type", "application/grpc"),
	        NV("te", "trailers"),
	        NV("user-agent", "hydrofoil/" HF_VERSION),
#undef NV
	};
	nghttp2_data_provider prd = {.source.ptr = g, .read_callback = data_read};
	int rc;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -ENOMEM;
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	rc = nghttp2_session_client_new(&g->h2, cb, g);
	nghttp2_session_callbacks_del(cb);
	if (rc != 0)
		return -ENOMEM;
	/* RFC 9113 section 3.4: the client preface is the magic then SETTINGS (mem_send sends
	 * both). */
	if (nghttp2_submit_settings(g->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
	    nghttp2_session_set_local_window_size(g->h2, NGHTTP2_FLAG_NONE, 0, WINDOW) != 0)
		return -ENOMEM;
	g->http_status = 0;
	g->grpc_status = -1;
	g->grpc_message[0] = '\0';
	g->stream_id =
	        nghttp2_submit_request(g->h2, NULL, hdr, sizeof(hdr) / sizeof(hdr[0]), &prd, g);
	if (g->stream_id < 0) {
		g->stream_id = 0;
		return -ENOMEM;
	}
	return 0;
}

static void
try_connect(struct hf_grpc *g, uint64_t now_ms)
{
	struct sockaddr_in sa = {
	        .sin_family = AF_INET, .sin_port = htons(g->port), .sin_addr.s_addr = g->addr};
	int one = 1;

	g->why[0] = '\0';
	g->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0) {
		schedule_retry(g, now_ms);
		return;
	}
	setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(g->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		g->cnt[HF_GRPC_CNT_CONNECT_ERRORS]++;
		fail(g, "connect: %s", strerror(errno));
		teardown(g, now_ms);
		return;
	}
	g->state = G_CONNECTING;
}

/* Writes what nghttp2 has to send until the socket is full. 0, or -1 when the connection failed. */
static int
flush(struct hf_grpc *g)
{
	for (;;) {
		const uint8_t *p;
		ssize_t n, w;

		if (g->wpend_off == g->wpend_len) {
			g->wpend_off = g->wpend_len = 0;
			n = nghttp2_session_mem_send(g->h2, &p);
			if (n < 0) {
				fail(g, "HTTP/2: %s", nghttp2_strerror((int)n));
				return -1;
			}
			if (n == 0)
				return 0;
			/* keep a copy only of what the socket refuses */
			w = io_write(g, p, (size_t)n);

			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				fail(g, "write: %s", strerror(errno));
				return -1;
			}
			if (w < 0)
				w = 0;
			if (w < n) {
				size_t rest = (size_t)(n - w);

				if (append(&g->wpend, &g->wpend_len, &g->wpend_cap, p + w, rest) !=
				    0) {
					fail(g, "%s", "out of memory sending");
					return -1;
				}
				return 0;
			}
			continue;
		}
		n = io_write(g, g->wpend + g->wpend_off, g->wpend_len - g->wpend_off);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			fail(g, "write: %s", strerror(errno));
			return -1;
		}
		if (n <= 0)
			return 0;
		g->wpend_off += (size_t)n;
	}
}

/* The first OpenSSL error queued, as text (the queue is cleared). */
static void
ssl_why(struct hf_grpc *g, const char *what)
{
	unsigned long e = ERR_get_error();
	char b[160];

	ERR_error_string_n(e, b, sizeof(b));
	fail(g, what, e != 0 ? b : "the connection ended");
	ERR_clear_error();
}

/*
 * A client context from the files, read now (a rotated identity is what the
 * next connection presents), and this connection's SSL on the socket.
 */
static int
tls_start(struct hf_grpc *g)
{
	SSL_CTX *ctx;
	static const unsigned char alpn[] = {2, 'h', '2'};

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_why(g, "TLS: %s");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, g->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, g->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_why(g, "TLS: the identity's certificate or key: %s");
		SSL_CTX_free(ctx);
		return -1;
	}
	if (SSL_CTX_load_verify_locations(ctx, g->ca_file, NULL) != 1) {
		ssl_why(g, "TLS: the root_cert: %s");
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* RFC 9113 section 3.2: HTTP/2 over TLS is negotiated with ALPN "h2" */
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn));
	g->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds its reference */
	if (g->ssl == NULL || SSL_set_fd(g->ssl, g->fd) != 1) {
		ssl_why(g, "TLS: %s");
		return -1;
	}
	/* A DNS name is the SNI too (istiod's certificate is served for its service name). */
	if (g->san != NULL && strstr(g->san, "://") == NULL)
		SSL_set_tlsext_host_name(g->ssl, g->san);
	SSL_set_connect_state(g->ssl);
	return 0;
}

/* Whether the server's certificate carries @p want as a DNS or URI SAN. */
static bool
has_san(X509 *x, const char *want)
{
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	bool hit = false;

	for (int i = 0; gn != NULL && i < sk_GENERAL_NAME_num(gn) && !hit; i++) {
		const GENERAL_NAME *n = sk_GENERAL_NAME_value(gn, i);
		const ASN1_IA5STRING *v = n->type == GEN_DNS   ? n->d.dNSName
		                          : n->type == GEN_URI ? n->d.uniformResourceIdentifier
		                                               : NULL;

		hit = v != NULL && (size_t)v->length == strlen(want) &&
		      memcmp(v->data, want, (size_t)v->length) == 0;
	}
	GENERAL_NAMES_free(gn);
	return hit;
}

/* One step of the handshake: 1 done (and checked), 0 more to do, -1 failed (counted). */
static int
tls_handshake(struct hf_grpc *g)
{
	const unsigned char *proto = NULL;
	unsigned int plen = 0;
	long v;
	int r;
	X509 *peer;

	if (g->ssl == NULL)
		return 1; /* plaintext: nothing to negotiate */
	ERR_clear_error();
	r = SSL_connect(g->ssl);
	if (r != 1) {
		int e = SSL_get_error(g->ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		g->cnt[HF_GRPC_CNT_TLS_ERRORS]++;
		v = SSL_get_verify_result(g->ssl);
		if (v != X509_V_OK) {
			g->cnt[HF_GRPC_CNT_TLS_VERIFY_ERRORS]++;
			fail(g, "TLS: the server's certificate is refused: %s",
			     X509_verify_cert_error_string(v));
		} else {
			ssl_why(g, "TLS handshake failed: %s");
		}
		return -1;
	}
	SSL_get0_alpn_selected(g->ssl, &proto, &plen);
	if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
		g->cnt[HF_GRPC_CNT_TLS_ERRORS]++;
		fail(g, "%s", "TLS: the server did not select ALPN h2 (RFC 9113 section 3.2)");
		return -1;
	}
	if (g->san != NULL) {
		peer = SSL_get1_peer_certificate(g->ssl);
		if (peer == NULL || !has_san(peer, g->san)) {
			X509_free(peer);
			g->cnt[HF_GRPC_CNT_TLS_ERRORS]++;
			g->cnt[HF_GRPC_CNT_TLS_VERIFY_ERRORS]++;
			fail(g,
			     "TLS: the server's certificate does not carry the SAN '%s' "
			     "(xds.tls_san)",
			     g->san);
			return -1;
		}
		X509_free(peer);
	}
	return 1;
}

int
hf_grpc_poll(struct hf_grpc *g, uint64_t now_ms)
{
	uint8_t buf[READ_CHUNK];
	size_t budget = READ_BUDGET;

	if (g->state == G_DOWN) {
		if (now_ms < g->next_try_ms)
			return 0;
		try_connect(g, now_ms);
		if (g->state != G_CONNECTING)
			return 0;
	}
	if (g->state == G_CONNECTING) {
		struct pollfd p = {.fd = g->fd, .events = POLLOUT};
		int err = 0;
		socklen_t l = sizeof(err);

		if (poll(&p, 1, 0) <= 0)
			return 0; /* still connecting */
		if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
			g->cnt[HF_GRPC_CNT_CONNECT_ERRORS]++;
			fail(g, "connect: %s", strerror(err != 0 ? err : errno));
			teardown(g, now_ms);
			return 0;
		}
		if (g->ca_file != NULL) {
			if (tls_start(g) != 0) {
				g->cnt[HF_GRPC_CNT_TLS_ERRORS]++;
				teardown(g, now_ms);
				return 0;
			}
		}
		g->state = G_HANDSHAKE;
	}
	if (g->state == G_HANDSHAKE) {
		int r = tls_handshake(g);

		if (r < 0) {
			teardown(g, now_ms);
			return 0;
		}
		if (r == 0)
			return 0; /* more round trips */
		if (start_session(g) != 0) {
			fail(g, "%s", "out of memory starting the session");
			teardown(g, now_ms);
			return 0;
		}
		g->state = G_UP;
		g->ops->on_open(g->ctx);
	}
	if (g->state != G_UP)
		return 0;
	/* Read a bounded amount, feed it to nghttp2, which calls back per frame. */
	while (budget > 0 && g->h2 != NULL) {
		ssize_t n = io_read(g, buf, sizeof(buf));
		ssize_t used;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			fail(g, n == 0 ? "%s" : "read: %s",
			     n == 0 ? "the server closed the connection" : strerror(errno));
			teardown(g, now_ms);
			return 0;
		}
		used = nghttp2_session_mem_recv(g->h2, buf, (size_t)n);
		if (used < 0) {
			fail(g, "HTTP/2: %s", nghttp2_strerror((int)used));
			teardown(g, now_ms);
			return 0;
		}
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
	if (g->h2 != NULL && flush(g) != 0)
		teardown(g, now_ms);
	return 0;
}

int
hf_grpc_send(struct hf_grpc *g, const uint8_t *data, size_t len)
{
	uint8_t hdr[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};

	if (g->state != G_UP || g->stream_id == 0)
		return -ENOTCONN;
	if (append(&g->out, &g->out_len, &g->out_cap, hdr, 5) != 0 ||
	    append(&g->out, &g->out_len, &g->out_cap, data, len) != 0)
		return -ENOMEM;
	if (g->deferred) {
		g->deferred = false;
		nghttp2_session_resume_data(g->h2, g->stream_id);
	}
	return 0;
}

bool
hf_grpc_is_open(const struct hf_grpc *g)
{
	return g->state == G_UP && g->stream_id != 0;
}

void
hf_grpc_backoff_reset(struct hf_grpc *g)
{
	g->backoff_ms = HF_GRPC_BACKOFF_BASE_MS;
}

int
hf_grpc_fd(const struct hf_grpc *g)
{
	return g->fd;
}

uint64_t
hf_grpc_counter(const struct hf_grpc *g, enum hf_grpc_counter c)
{
	return g->cnt[c];
}

struct hf_grpc *
hf_grpc_new(uint32_t addr, uint16_t port, const char *authority, const char *path,
            const struct hf_grpc_tls *tls, const struct hf_grpc_ops *ops, void *ctx)
{
	struct hf_grpc *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if (tls != NULL) {
		g->cert_file = strdup(tls->cert_file);
		g->key_file = strdup(tls->key_file);
		g->ca_file = strdup(tls->ca_file);
		if (tls->san != NULL && tls->san[0] != '\0')
			g->san = strdup(tls->san);
		if (g->cert_file == NULL || g->key_file == NULL || g->ca_file == NULL) {
			hf_grpc_free(g);
			return NULL;
		}
	}
	g->addr = addr;
	g->port = port;
	g->authority = strdup(authority);
	g->path = strdup(path);
	g->ops = ops;
	g->ctx = ctx;
	g->fd = -1;
	g->state = G_DOWN;
	g->backoff_ms = HF_GRPC_BACKOFF_BASE_MS;
	g->rng = (uint64_t)(uintptr_t)g ^ 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 32);
	if (g->authority == NULL || g->path == NULL) {
		hf_grpc_free(g);
		return NULL;
	}
	return g;
}

void
hf_grpc_free(struct hf_grpc *g)
{
	if (g == NULL)
		return;
	if (g->h2 != NULL)
		nghttp2_session_del(g->h2);
	SSL_free(g->ssl);
	if (g->fd >= 0)
		close(g->fd);
	free(g->cert_file);
	free(g->key_file);
	free(g->ca_file);
	free(g->san);
	free(g->authority);
	free(g->path);
	free(g->out);
	free(g->wpend);
	free(g->in);
	free(g);
}
