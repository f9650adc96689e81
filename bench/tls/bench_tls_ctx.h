/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-memory TLS handshakes for bench_tls_ctx.cc (issue 13): a server context
 * built by tls/ctx.c exactly as a worker builds its own (hf_tls_ctx_new: an
 * ECDSA P-256 certificate, no session cache, no tickets), a client context
 * with the benchmark's settings, and one full handshake between them over a
 * BIO pair, no network. Plain C over OpenSSL; the harness is C++.
 */
#ifndef HF_BENCH_TLS_CTX_H
#define HF_BENCH_TLS_CTX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
struct ssl_ctx_st;
struct ossl_lib_ctx_st;

/*
 * Makes the process's certificate: a P-256 key and a self-signed
 * certificate, as PEM, once (later calls return at once). 0 or -1.
 */
int bench_tls_cert_init(void);

/*
 * A server context in @p lib (NULL: the default library context) for
 * version @p v (0x0303 or 0x0304, the only one it accepts), from tls/ctx.c.
 * NULL on failure (the reason on stderr).
 */
struct ssl_ctx_st *bench_tls_server_ctx(struct ossl_lib_ctx_st *lib, uint16_t v);

/*
 * A client context in @p lib for version @p v: AES-128-GCM, X25519 (P-256 offered too: in
 * TLS 1.2 the server's ECDSA P-256 certificate needs its curve in the client's list, RFC 8422
 * 5.1), no verification.
 */
struct ssl_ctx_st *bench_tls_client_ctx(struct ossl_lib_ctx_st *lib, uint16_t v);

/*
 * The server context every thread of a "shared" run uses: built on the
 * first call for version @p v (under a lock; outside any timed region),
 * the same one after.
 */
struct ssl_ctx_st *bench_tls_shared_server_ctx(uint16_t v);

/*
 * One full handshake between a new client SSL of @p client and a new
 * server SSL of @p server over a BIO pair; both freed after. 0, or -1 when
 * it failed.
 */
int bench_tls_handshake(struct ssl_ctx_st *server, struct ssl_ctx_st *client);

/* CPU time of the calling thread, ns. */
uint64_t bench_tls_thread_cpu_ns(void);
#ifdef __cplusplus
}
#endif
#endif
