/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who the downstream peer is, for authorization: the SPIFFE ID of the client
 * certificate a MUTUAL server verified (Istio's source.principal, without
 * "spiffe://"), and the server_name the client asked for (connection.sni).
 * The principal is read once, when the handshake ends (a resumed session
 * carries the certificate it was made with), so a request's check reads a
 * string and makes no OpenSSL call. It is kept in the worker's table, once
 * per identity whatever the number of its connections (refcounted), so the
 * connection's slot holds an index, not 258 bytes that most connections (no
 * client certificate) would never use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

#define SPIFFE "spiffe://"

int
hf_tls_peers_init(struct hf_tls_peers *pt, uint32_t n)
{
	uint32_t nb = 1;

	memset(pt, 0, sizeof(*pt));
	while (nb < n)
		nb <<= 1;
	pt->bucket = calloc(nb, sizeof(*pt->bucket));
	pt->ent = calloc(n > 0 ? n : 1, sizeof(*pt->ent));
	if (pt->bucket == NULL || pt->ent == NULL) {
		hf_tls_peers_free(pt);
		return -ENOMEM;
	}
	pt->cap = n;
	pt->mask = nb - 1;
	/* Free entries chained through `next`, lowest first: the pages touched stay few. */
	for (uint32_t i = 0; i < n; i++)
		pt->ent[i].next = i + 1 < n ? i + 2 : 0;
	pt->free_head = n > 0 ? 1 : 0;
	return 0;
}

void
hf_tls_peers_free(struct hf_tls_peers *pt)
{
	free(pt->bucket);
	free(pt->ent);
	memset(pt, 0, sizeof(*pt));
}

/* FNV-1a: principals are short and few; any spread will do. */
static uint32_t
peer_hash(const unsigned char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

/*
 * 1 + the index of the entry holding @p s (@p n bytes, n < HF_TLS_PEER_MAX),
 * its count raised; a new entry when none does. 0 when the table is full,
 * which cannot happen while each connection holds at most one entry.
 */
static uint32_t
peer_intern(struct hf_tls_peers *pt, const unsigned char *s, size_t n)
{
	uint32_t h = peer_hash(s, n), *b = &pt->bucket[h & pt->mask], i;
	struct hf_tls_peer *e;

	for (i = *b; i != 0; i = pt->ent[i - 1].next) {
		e = &pt->ent[i - 1];
		if (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0) {
			e->refs++;
			return i;
		}
	}
	i = pt->free_head;
	if (i == 0)
		return 0;
	e = &pt->ent[i - 1];
	pt->free_head = e->next;
	e->refs = 1;
	e->hash = h;
	e->len = (uint16_t)n;
	memcpy(e->s, s, n);
	e->s[n] = '\0';
	e->next = *b;
	*b = i;
	pt->used++;
	return i;
}

void
hf_tls_drop_peer(struct hf_tls_worker *tw, struct hf_tls_conn *t)
{
	struct hf_tls_peers *pt = &tw->peers;
	uint32_t i = t->peer, *link;
	struct hf_tls_peer *e;

	t->peer = 0;
	if (i == 0)
		return;
	e = &pt->ent[i - 1];
	if (--e->refs > 0)
		return;
	/* The last holder: out of its chain, back on the free list. */
	for (link = &pt->bucket[e->hash & pt->mask]; *link != i; link = &pt->ent[*link - 1].next)
		;
	*link = e->next;
	e->next = pt->free_head;
	pt->free_head = i;
	pt->used--;
}

void
hf_tls_keep_peer(struct hf_tls_worker *tw, struct hf_tls_conn *t)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl);
	GENERAL_NAMES *names;

	hf_tls_drop_peer(tw, t);
	if (x == NULL)
		return;
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *u;
		int n;

		if (g->type != GEN_URI)
			continue;
		u = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
		/* the first spiffe:// URI is the identity (the SPIFFE X.509-SVID has exactly one) */
		if (n <= (int)strlen(SPIFFE) || memcmp(u, SPIFFE, strlen(SPIFFE)) != 0)
			continue;
		n -= (int)strlen(SPIFFE);
		if (n < HF_TLS_PEER_MAX && memchr(u + strlen(SPIFFE), '\0', (size_t)n) == NULL)
			t->peer = peer_intern(&tw->peers, u + strlen(SPIFFE), (size_t)n);
		break;
	}
	GENERAL_NAMES_free(names);
}

const char *
hf_tls_sni_of(const struct hf_tcp_conn *c)
{
	const struct hf_tls_conn *t = hf_tls_of(c);

	return t != NULL ? SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}
