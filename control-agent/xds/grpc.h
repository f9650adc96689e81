/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_GRPC_H
#define HF_XDS_GRPC_H

/*
 * One bidirectional gRPC stream over HTTP/2 (nghttp2, cleartext h2c with
 * prior knowledge, RFC 9113 section 3.3, or over TLS with ALPN h2, RFC 9113
 * section 3.2, OpenSSL on the same socket) on a non-blocking kernel socket,
 * driven only by hf_grpc_poll() from the control agent's loop: no thread, no
 * blocking call, bounded work per call. When the stream or the connection
 * ends, it reconnects after an exponential backoff with jitter (gRPC's
 * connection-backoff rules: 1.6x per failure, +-20 %, capped).
 *
 * gRPC framing (gRPC's "PROTOCOL-HTTP2" document): each message is a 1-byte
 * compressed flag (always 0 here: no grpc-encoding is offered) and a 4-byte
 * big-endian length, then the bytes; the call ends with trailers carrying
 * grpc-status and grpc-message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hf_grpc;

struct hf_grpc_ops {
	/* The stream is open (request headers sent); the caller sends its first messages. */
	void (*on_open)(void *ctx);
	/* One whole message received; @p data is valid during the call only. */
	void (*on_message)(void *ctx, const uint8_t *data, size_t len);
	/* The stream or connection ended; @p why says how (grpc-status, errno, EOF). */
	void (*on_close)(void *ctx, const char *why);
	/* A connection attempt failed before a stream opened (TLS: @p why names the check). */
	void (*on_fail)(void *ctx, const char *why);
};

/*
 * TLS to the server (istiod's 15012 style): our certificate chain and key
 * presented (mTLS), the server's chain verified against the CA file and,
 * when @p san is not empty, carrying it as a DNS or URI SAN (a DNS name is
 * also the SNI). The files are read again at each connection, so a rotated
 * identity is what the next connection presents. ALPN offers h2 (gRPC).
 */
struct hf_grpc_tls {
	const char *cert_file, *key_file, *ca_file;
	const char *san;
};

enum hf_grpc_counter {
	HF_GRPC_CNT_CONNECT_ERRORS,    /* TCP connects that failed */
	HF_GRPC_CNT_TLS_ERRORS,        /* TLS handshakes that failed, whatever the cause */
	HF_GRPC_CNT_TLS_VERIFY_ERRORS, /* ... of them: the server's certificate refused */
	HF_GRPC_CNT__N
};

/* Backoff: the first retry after BASE, then x1.6 up to MAX, each +-20 % jitter. */
#define HF_GRPC_BACKOFF_BASE_MS 250
#define HF_GRPC_BACKOFF_MAX_MS  10000
/* The largest message accepted (a big state of the world); a larger one ends the stream. */
#define HF_GRPC_MAX_MESSAGE (64u << 20)

/*
 * A client for method @p path (e.g. "/pkg.Service/Method") at IPv4 @p addr
 * (network order), @p port (host order). Connects at the first poll. Returns
 * NULL on ENOMEM.
 */
struct hf_grpc *hf_grpc_new(uint32_t addr, uint16_t port, const char *authority, const char *path,
                            const struct hf_grpc_tls *tls, const struct hf_grpc_ops *ops,
                            void *ctx);

uint64_t hf_grpc_counter(const struct hf_grpc *g, enum hf_grpc_counter c);

/*
 * Connects when due, reads and writes what the socket allows (at most a
 * bounded number of bytes per call), delivers messages and closes through
 * the callbacks. Returns 0.
 */
int hf_grpc_poll(struct hf_grpc *g, uint64_t now_ms);

/*
 * Queues one message on the open stream. Returns 0, -ENOTCONN when no stream
 * is open (the message is dropped: on_open resends the state), -ENOMEM.
 */
int hf_grpc_send(struct hf_grpc *g, const uint8_t *data, size_t len);

/* The stream is open. */
bool hf_grpc_is_open(const struct hf_grpc *g);

/* Resets the backoff to its base (a response arrived: the server is healthy). */
void hf_grpc_backoff_reset(struct hf_grpc *g);

/* The socket to wait on (POLLIN), or -1. */
int hf_grpc_fd(const struct hf_grpc *g);

/* Closes the connection and frees @p g. NULL is a no-op. */
void hf_grpc_free(struct hf_grpc *g);

#endif
