/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TLS_INT_H
#define HF_TLS_INT_H

/*
 * What tls/'s server side (conn.c, ctx.c) and client side (client.c,
 * client_ctx.c) share: one piece of code each for writing OpenSSL's output
 * to TCP and for loading PEM certificates, keys and CAs into a context.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls/tls-t.h"

struct hf_worker;

/* Queues what OpenSSL wrote for @p t on TCP; a record short of mbufs breaks @p t (counted). */
void hf_tls_flush(struct hf_worker *w, struct hf_tcp_conn *c, struct hf_tls_conn *t);

/*
 * TCP's flush() of a TLS connection (server and client ops): seals the
 * plaintext the application sent in this loop pass into its last record.
 */
void hf_tls_seal_pass(struct hf_worker *w, struct hf_tcp_conn *c);

/* OpenSSL's passphrase callback that gives none: an encrypted key is refused, never prompted for. */
int hf_tls_no_passphrase(char *buf, int size, int rw, void *u);

/* "@p what: OpenSSL's last error" into @p err; clears OpenSSL's error queue. */
void hf_tls_ssl_err(char *err, size_t errlen, const char *what);

/* The leaf, then its chain, from @p pem into @p ctx. Returns the chain's length or -EINVAL. */
int hf_tls_use_chain(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, char *err,
		     size_t errlen);

/* The private key of @p ctx's certificate from @p pem, checked to match it. 0 or -EINVAL. */
int hf_tls_use_key(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, char *err,
		   size_t errlen);

/*
 * The CA certificates of @p pem (each must be a CA) into @p ctx's trust
 * store; with @p request, their names also into the CertificateRequest's
 * certificate_authorities (a server asking for client certificates). 0 or -EINVAL.
 */
int hf_tls_add_cas(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const char *pem, uint32_t len, bool request,
		   char *err, size_t errlen);

#endif
