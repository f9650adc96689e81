/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ADMIN_H
#define HF_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "control-agent/strbuf.h"

/* What a route handler fills in; the body is sent with Content-Length. */
struct hf_admin_reply {
	int status;			/* 200 unless the handler says otherwise */
	const char *content_type;	/* "text/plain; charset=UTF-8" unless set */
	struct hf_strbuf body;
};

/*
 * Called once per request on the control thread. @p path excludes the query
 * string, which is in @p query ("" when absent), still percent-encoded.
 */
typedef void (*hf_admin_handler)(void *ctx, const char *method, const char *path,
				 const char *query, struct hf_admin_reply *r);

struct hf_admin;

/*
 * The header a POST must carry (any non-empty value); a POST with an Origin
 * header is refused whatever it carries. Both get a 403 before any handler.
 */
#define HF_ADMIN_POST_HEADER "x-hydrofoil-admin"

/* The longest /stats filter, in bytes once percent-decoded. */
#define HF_ADMIN_FILTER_MAX 256

/*
 * Listens on @p address:@p port (kernel TCP; port 0: one the kernel picks).
 * An address outside 127.0.0.0/8 is served too, with a warning on stderr.
 * Returns the server, or NULL with a message in @p err (bind failures name
 * the address).
 */
struct hf_admin *hf_admin_open(const char *address, uint16_t port, hf_admin_handler h, void *ctx,
			       char *err, size_t errlen);

/*
 * Waits up to @p timeout_ms for admin traffic and serves what arrived. A
 * request must arrive whole within 5 s and 8 KiB, or the connection is closed
 * with 408 or 431. One request per connection (Connection: close). A POST
 * without HF_ADMIN_POST_HEADER, or with an Origin, gets a 403. GET
 * /stats?filter=REGEX is filtered here: the handler sees the query without
 * the filter and answers every "name: value" line, and the lines whose name
 * the regex (Hyperscan, at most HF_ADMIN_FILTER_MAX bytes) matches anywhere
 * are kept; a refused regex gets a 400 saying why. Returns 0, or -EINTR when
 * a signal cut the wait short.
 */
int hf_admin_poll(struct hf_admin *a, int timeout_ms);

/** Closes the listener and every open connection. */
void hf_admin_close(struct hf_admin *a);

/** Decodes the value of @p key in query string @p q into @p out; returns 0 or -ENOENT. */
int hf_admin_query_get(const char *q, const char *key, char *out, size_t outlen);

/** The same for the @p n th (from 0) occurrence of @p key: repeated keys (header=...). */
int hf_admin_query_nth(const char *q, const char *key, unsigned int n, char *out, size_t outlen);

/** The port @p a listens on (what port 0 became). */
uint16_t hf_admin_port(const struct hf_admin *a);

#endif
