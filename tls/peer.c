/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who the downstream peer is, for authorization: the SPIFFE ID of the client
 * certificate a MUTUAL server verified (Istio's source.principal, without
 * "spiffe://"), and the server_name the client asked for (connection.sni).
 * The principal is read once, when the handshake ends (a resumed session
 * carries the certificate it was made with), so a request's check reads a
 * string and makes no OpenSSL call.
 */
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

#define SPIFFE "spiffe://"

void
hf_tls_keep_peer(struct hf_tls_conn *t)
{
	X509 *x = SSL_get0_peer_certificate(t->ssl);
	GENERAL_NAMES *names;

	t->peer_len = 0;
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
		if (n < HF_TLS_PEER_MAX && memchr(u + strlen(SPIFFE), '\0', (size_t)n) == NULL) {
			memcpy(t->peer, u + strlen(SPIFFE), (size_t)n);
			t->peer[n] = '\0';
			t->peer_len = (uint16_t)n;
		}
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
