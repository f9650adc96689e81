/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TLS_T_H
#define HF_TLS_T_H

/*
 * TLS termination over Hydrofoil's own TCP: the types the workers read.
 *
 * The configuration half (struct hf_tls_listener_config) is what the control
 * agent compiles a Gateway's HTTPS servers into and publishes in the snapshot:
 * certificates and keys as PEM bytes the agent has read and checked (file
 * reads are syscalls, never a worker's), names, versions, ciphers. Each worker
 * turns it into SSL_CTXs of its own when it picks the snapshot up (tls/lctx.c),
 * so no OpenSSL object is shared between workers.
 *
 * The connection half (struct hf_tls_conn) is a worker's: one per TLS
 * connection, from a pool sized at start, between TCP and the application
 * (the HTTP proxy, or tcp_proxy for tcp routes), with the BIO state that
 * moves ciphertext between OpenSSL and the connection's mbufs (tls/bio.c).
 */
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/tcp/tcp-t.h"

/* Protocol versions as on the wire (RFC 8446 4.1.2 legacy_version values). */
#define HF_TLS_V1_2 0x0303
#define HF_TLS_V1_3 0x0304

/* Servers (certificates) per TLS listener; names per server. */
#define HF_TLS_MAX_SERVERS 64
#define HF_TLS_MAX_NAMES 64
/* An SNI host name: RFC 6066 3 caps it at 2^16 - 1, DNS (RFC 1035 2.3.4) at 253. */
#define HF_TLS_NAME_MAX 253

/* One certificate and what it serves: a Gateway server with tls.mode SIMPLE or MUTUAL. */
struct hf_tls_server_config {
	unsigned int n_names;
	const char *const *names;	/* lower case: "a.example.com", "*.example.com", "*" */
	const char *cert_pem;		/* leaf first, then its chain */
	uint32_t cert_len;
	const char *key_pem;
	uint32_t key_len;
	uint16_t min_version;		/* HF_TLS_V1_2 or HF_TLS_V1_3 */
	uint16_t max_version;
	const char *ciphers;		/* OpenSSL cipher list for TLS <= 1.2; NULL: the default */
	/*
	 * MUTUAL: the CA certificates (PEM) a client certificate must chain to;
	 * NULL for SIMPLE (no certificate asked for). With it, a client that
	 * sends none, or one that does not verify, fails the handshake.
	 */
	const char *ca_pem;
	uint32_t ca_len;
	/* MUTUAL: the client certificate must carry one of these as a DNS or URI SAN; 0: any */
	unsigned int n_sans;
	const char *const *sans;
};

/* The servers of one HTTPS port, told apart by SNI; the first also answers without SNI. */
struct hf_tls_listener_config {
	uint64_t id;			/* content hash: a worker rebuilds only when it changes */
	unsigned int n_servers;
	const struct hf_tls_server_config *servers;
};

/*
 * The BIO's state (tls/bio.c): ciphertext received and not yet read by
 * OpenSSL, and ciphertext OpenSSL wrote and TCP has not taken yet.
 */
struct hf_tls_io {
	struct hf_worker *w;		/* NULL in tests: then only `in` is read */
	struct hf_tcp_conn *tcp;	/* topped up from its receive queue when `in` runs dry */
	struct hf_tcp_mq in;		/* single-segment mbufs; the first byte of in.head is next */
	struct rte_mbuf *out_head;	/* a chain of mbufs of `mp`, filled to the brim */
	struct rte_mbuf *out_tail;
	uint32_t out_len;
	struct rte_mempool *mp;		/* where the write side's mbufs come from */
	uint64_t bytes_in;		/* ciphertext read by OpenSSL */
	bool nomem;			/* a write found no mbuf: the chain lacks bytes, the conn is lost */
	bool eof;			/* tests: no more input will come (else the TCP conn says) */
};

/* Handshake failures by reason (counters tls.handshake.*). */
enum hf_tls_fail {
	HF_TLS_FAIL_NONE = 0,
	HF_TLS_FAIL_NO_SHARED_CIPHER,
	HF_TLS_FAIL_BAD_VERSION,
	HF_TLS_FAIL_UNKNOWN_SNI,
	HF_TLS_FAIL_PLAINTEXT,
	HF_TLS_FAIL_MALFORMED_HELLO,
	HF_TLS_FAIL_TIMEOUT,
	HF_TLS_FAIL_NO_CLIENT_CERT,
	HF_TLS_FAIL_UNTRUSTED_CLIENT_CERT,
	HF_TLS_FAIL_EXPIRED_CLIENT_CERT,
	HF_TLS_FAIL_CLIENT_SAN_MISMATCH,
	HF_TLS_FAIL_OTHER,
	/* TLS origination (tls/client.c): why a handshake with an upstream failed */
	HF_TLS_FAIL_UNTRUSTED_SERVER_CERT,
	HF_TLS_FAIL_EXPIRED_SERVER_CERT,
	HF_TLS_FAIL_SERVER_SAN_MISMATCH,
	HF_TLS_FAIL_ALERT_RECEIVED,
	HF_TLS_FAIL_PEER_CLOSED,
};

enum hf_tls_state {
	HF_TLS_HANDSHAKE,		/* waiting for (the rest of) the client's flight */
	HF_TLS_OPEN,			/* handshake done: the application has the connection */
	HF_TLS_FAILED,			/* alert sent, FIN queued: input is dropped until TCP closes */
};

struct hf_tls_lctx;
struct hf_tls_listener;
struct ssl_st;

#define HF_TLS_PEER_MAX 256		/* a principal longer than this is not kept */

/* One TLS connection of a worker: c->ctx of its TCP connection points here. */
struct hf_tls_conn {
	struct ssl_st *ssl;
	struct hf_tls_io io;
	void *app_ctx;			/* the application's context for the TCP connection */
	struct hf_tls_listener *lst;
	struct hf_tls_lctx *lctx;	/* held (a reference) while the handshake runs */
	struct hf_timer timer;		/* handshake timeout */
	uint8_t state;			/* enum hf_tls_state */
	uint8_t fail;			/* enum hf_tls_fail: set by the ClientHello callback */
	bool hello_seen;		/* the ClientHello callback ran */
	bool broken;			/* a record failed after the handshake: reads see the end */
	bool peer_done;			/* close_notify received, or the peer's FIN after whole records */
	uint16_t server;		/* index of the server SNI chose */
	uint32_t id;			/* index in the worker's pool */
	uint64_t start_tsc;		/* the accept: a failed handshake's access log line */
	/*
	 * Plaintext the application sent in this loop pass and not yet sealed:
	 * single-segment mbufs, sealed into records of up to HF_TLS_RECORD_MAX
	 * bytes as they fill, the rest at the end of the pass (tls/conn.c).
	 */
	struct hf_tcp_mq plain;
	/*
	 * The client certificate a server verified, kept when the handshake
	 * ends (tls/peer.c): 1 + its index in the worker's table of peers,
	 * which connections of one certificate share (its SPIFFE ID, Istio's
	 * principal; its x-forwarded-client-cert value); 0: none. Outside the
	 * slot, an idle connection without a client certificate (the most of
	 * them) holds 4 bytes for it.
	 */
	uint32_t peer;
};

/* x-forwarded-client-cert's value for a certificate: By, Hash, Subject, URI, the DNS that fit */
#define HF_TLS_XFCC_MAX 1024

/*
 * A client certificate in a worker's table (tls/peer.c): held by `refs`
 * connections, chained from its hash bucket by `next` (1 + index; 0 ends
 * the chain), found by a SHA-256 of its own SHA-256 and the URI of the
 * server certificate it was shown to (the By of its x-forwarded-client-cert).
 */
struct hf_tls_peer {
	uint32_t refs;
	uint32_t next;
	uint32_t hash;
	uint16_t len;			/* of the principal; 0: no SPIFFE ID (or too long) */
	uint16_t xlen;			/* of its x-forwarded-client-cert value */
	unsigned char key[32];		/* SHA-256(SHA-256 of the DER, the server's URI) */
	char s[HF_TLS_PEER_MAX];	/* the principal: SPIFFE ID without "spiffe://" */
};

/*
 * A worker's client certificates: as many entries as the worker has TLS
 * connections, so that every connection can hold one and a handshake never
 * fails for want of an entry; calloc'd, so only the pages of entries ever
 * used (one per certificate seen at once, not per connection) take memory.
 * The x-forwarded-client-cert values are an array of their own, touched
 * only when an entry is filled.
 */
struct hf_tls_peers {
	uint32_t cap;			/* entries */
	uint32_t mask;			/* buckets - 1 (a power of two >= cap) */
	uint32_t free_head;		/* 1 + index of a free entry; 0: none */
	uint32_t used;
	uint32_t *bucket;		/* 1 + index of the chain's first entry */
	struct hf_tls_peer *ent;
	char (*xfcc)[HF_TLS_XFCC_MAX];	/* per entry */
};

/* The largest record plaintext (RFC 8446 5.1: 2^14 bytes). */
#define HF_TLS_RECORD_MAX 16384

/*
 * Session tickets (RFC 5077; RFC 8446 4.6.1): the keys every worker seals and
 * opens tickets with, so a ticket one worker issued resumes on any other. The
 * control agent draws them at random, rotates them on a period and publishes
 * them by RCU (hf_tls_tickets_now, tls.h): key[0] seals, key[0] and key[1]
 * (the one before) open, and a ticket opened with key[1] is replaced by a new
 * one. 80 bytes a key, as nginx's ssl_session_ticket_key files hold them.
 */
#define HF_TLS_TICKET_NAME 16
struct hf_tls_ticket_key {
	uint8_t name[HF_TLS_TICKET_NAME];	/* in the clear: which key sealed the ticket */
	uint8_t aes[32];		/* AES-256-CBC */
	uint8_t hmac[32];		/* HMAC-SHA256 over the sealed ticket */
};

struct hf_tls_tickets {
	uint64_t gen;			/* rotations since start */
	unsigned int n;			/* keys in use: 1 at start, then 2 */
	struct hf_tls_ticket_key key[2];	/* current, previous */
};

/*
 * TLS origination: what a cluster with a DestinationRule tls mode SIMPLE,
 * MUTUAL or ISTIO_MUTUAL asks of its upstream connections (tls/client.c),
 * compiled by the agent into the snapshot with PEM bytes it has read and
 * checked. Each worker builds a client SSL_CTX of its own from it.
 */
enum hf_tls_origination {
	HF_TLS_ORIG_SIMPLE = 1,
	HF_TLS_ORIG_MUTUAL,
	HF_TLS_ORIG_ISTIO_MUTUAL,
};

struct hf_tls_client_config {
	uint64_t id;			/* content hash, never 0: workers rebuild when it changes */
	uint8_t mode;			/* enum hf_tls_origination */
	const char *sni;		/* server_name sent; NULL: none */
	/*
	 * The CAs the server certificate must chain to (caCertificates, the
	 * system bundle, or the mesh root); NULL: not verified (insecureSkipVerify).
	 */
	const char *ca_pem;
	uint32_t ca_len;
	/* the server certificate must carry one of these as a DNS or URI SAN; 0: see verify_host */
	unsigned int n_sans;
	const char *const *sans;
	bool verify_host;		/* no sans: the server must be valid for `sni` (RFC 6125) */
	/* MUTUAL, ISTIO_MUTUAL: our certificate chain and key; NULL: none sent */
	const char *cert_pem;
	uint32_t cert_len;
	const char *key_pem;
	uint32_t key_len;
};

#endif
