/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who the downstream peer is, for authorization and for the upstream: the
 * SPIFFE ID of the client certificate a MUTUAL server verified (Istio's
 * source.principal, without "spiffe://"), the x-forwarded-client-cert value
 * that describes it (Envoy's SANITIZE_SET with Istio's fields), and the
 * server_name the client asked for (connection.sni). Both are read once,
 * when the handshake ends (a resumed session carries the certificate it was
 * made with), so a request reads strings and makes no OpenSSL call. They
 * are kept in the worker's table, once per certificate whatever the number
 * of its connections (refcounted), so the connection's slot holds an index,
 * not the kilobyte that most connections (no client certificate) would
 * never use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
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
	pt->xfcc = calloc(n > 0 ? n : 1, sizeof(*pt->xfcc));
	if (pt->bucket == NULL || pt->ent == NULL || pt->xfcc == NULL) {
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
	free(pt->xfcc);
	memset(pt, 0, sizeof(*pt));
}

/*
 * The entry with key @p key (struct hf_tls_peer), its count raised: 1 + its
 * index, and *@p fresh set when it is new (the caller fills it). 0 when the
 * table is full, which cannot happen while each connection holds at most one
 * entry.
 */
static uint32_t
peer_intern(struct hf_tls_peers *pt, const unsigned char *key, bool *fresh)
{
	uint32_t h, *b, i;
	struct hf_tls_peer *e;

	/* The key is a digest already: its first bytes spread as well as any hash would. */
	memcpy(&h, key, sizeof(h));
	b = &pt->bucket[h & pt->mask];
	*fresh = false;
	for (i = *b; i != 0; i = pt->ent[i - 1].next) {
		e = &pt->ent[i - 1];
		if (e->hash == h && memcmp(e->key, key, 32) == 0) {
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
	memcpy(e->key, key, 32);
	e->len = 0;
	e->xlen = 0;
	e->next = *b;
	*b = i;
	pt->used++;
	*fresh = true;
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

/* The first URI SAN among @p names (any scheme), or NULL; *@p n its length. */
static const unsigned char *
first_uri(GENERAL_NAMES *names, int *n)
{
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type == GEN_URI) {
			*n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
			return ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		}
	}
	*n = 0;
	return NULL;
}

/*
 * Appends "KEY=VALUE;" to @p out (@p *len used of @p cap) if it fits whole:
 * VALUE double-quoted when @p quote or when it holds a ',', ';', '=' or '"'
 * (Envoy's x-forwarded-client-cert grammar), a '"' in it escaped. A value
 * with a NUL or a control byte is left out: no header may carry it.
 */
static bool
xfcc_put(char *out, size_t *len, size_t cap, const char *key, const unsigned char *v, size_t n,
	 bool quote)
{
	size_t at = *len, k = strlen(key);

	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x20 || v[i] == 0x7f)
			return false;
		quote |= v[i] == ',' || v[i] == ';' || v[i] == '=' || v[i] == '"';
	}
	if (at + k + 4 > cap)
		return false;
	memcpy(out + at, key, k);
	at += k;
	out[at++] = '=';
	if (quote)
		out[at++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (at + 3 > cap)
			return false;
		if (quote && (v[i] == '"' || v[i] == '\\'))
			out[at++] = '\\';
		out[at++] = (char)v[i];
	}
	if (at + 2 > cap)
		return false;
	if (quote)
		out[at++] = '"';
	out[at++] = ';';
	*len = at;
	return true;
}

/*
 * The x-forwarded-client-cert value for client certificate @p x (Envoy's
 * SANITIZE_SET with the fields Istio's gateways set: subject, uri, dns): By
 * (@p by, the server certificate's URI SAN, when it has one), Hash (SHA-256
 * of the DER, hex), Subject (RFC 2253), URI (the first URI SAN), one DNS per
 * DNS SAN while they fit. Its length.
 */
static size_t
xfcc_value(char *out, size_t cap, X509 *x, const unsigned char *by, int by_len,
	   const unsigned char *digest, GENERAL_NAMES *names)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[64];
	const unsigned char *u;
	size_t len = 0;
	int n;

	if (by != NULL)
		xfcc_put(out, &len, cap, "By", by, (size_t)by_len, false);
	for (int i = 0; i < 32; i++) {
		h[2 * i] = (unsigned char)hex[digest[i] >> 4];
		h[2 * i + 1] = (unsigned char)hex[digest[i] & 15];
	}
	xfcc_put(out, &len, cap, "Hash", h, sizeof(h), false);
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *p;
		long m;

		if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
			m = BIO_get_mem_data(b, &p);
			/* Envoy quotes the subject whatever it holds. */
			if (m > 0)
				xfcc_put(out, &len, cap, "Subject", (const unsigned char *)p, (size_t)m, true);
		}
		BIO_free(b);
	}
	u = first_uri(names, &n);
	if (u != NULL)
		xfcc_put(out, &len, cap, "URI", u, (size_t)n, false);
	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type == GEN_DNS &&
		    !xfcc_put(out, &len, cap, "DNS", ASN1_STRING_get0_data(g->d.dNSName),
			      (size_t)ASN1_STRING_length(g->d.dNSName), false))
			break;
	}
	/* Without its last ';'. */
	return len > 0 ? len - 1 : 0;
}

void
hf_tls_keep_peer(struct hf_tls_worker *tw, struct hf_tls_conn *t)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl), *local = SSL_get_certificate(t->ssl);
	unsigned char digest[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE], both[32 + HF_TLS_PEER_MAX + 16];
	const unsigned char *by = NULL;
	unsigned int dlen = 0, klen = 0;
	GENERAL_NAMES *names, *local_names = NULL;
	struct hf_tls_peer *e;
	int by_len = 0;
	bool fresh;

	hf_tls_drop_peer(tw, t);
	if (x == NULL || X509_digest(x, EVP_sha256(), digest, &dlen) != 1 || dlen != 32)
		return;
	/* One entry per certificate and server identity: the By of the value differs by the latter. */
	if (local != NULL) {
		local_names = X509_get_ext_d2i(local, NID_subject_alt_name, NULL, NULL);
		by = first_uri(local_names, &by_len);
		if (by_len > (int)sizeof(both) - 32)
			by = NULL;
	}
	memcpy(both, digest, 32);
	if (by != NULL)
		memcpy(both + 32, by, (size_t)by_len);
	if (EVP_Digest(both, 32 + (by != NULL ? (size_t)by_len : 0), key, &klen, EVP_sha256(),
		       NULL) != 1 || klen != 32) {
		GENERAL_NAMES_free(local_names);
		return;
	}
	t->peer = peer_intern(&tw->peers, key, &fresh);
	if (t->peer == 0 || !fresh) {
		GENERAL_NAMES_free(local_names);
		return;
	}
	e = &tw->peers.ent[t->peer - 1];
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
		if (n < HF_TLS_PEER_MAX && memchr(u + strlen(SPIFFE), '\0', (size_t)n) == NULL) {
			memcpy(e->s, u + strlen(SPIFFE), (size_t)n);
			e->s[n] = '\0';
			e->len = (uint16_t)n;
		}
		break;
	}
	e->xlen = (uint16_t)xfcc_value(tw->peers.xfcc[t->peer - 1], HF_TLS_XFCC_MAX, x, by, by_len,
				       digest, names);
	GENERAL_NAMES_free(names);
	GENERAL_NAMES_free(local_names);
}

const char *
hf_tls_sni_of(const struct hf_tcp_conn *c)
{
	const struct hf_tls_conn *t = hf_tls_of(c);

	return t != NULL ? SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
}
