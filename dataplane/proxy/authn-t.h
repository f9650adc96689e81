/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHN_T_H
#define HF_AUTHN_T_H

#include <stdint.h>

/*
 * What request authentication (a RequestAuthentication's JWT) established for
 * the request being checked, as authorization reads it: Istio's
 * request.auth.principal, request.auth.claims[...], requestPrincipals. One per
 * worker: it is filled and read while the same request head is processed, so
 * it never outlives a call into the worker's HTTP code.
 *
 * Claims are flattened once, when the token is validated: a nested claim is
 * named by its keys joined with '.' ("a.b"), a list of strings gives one entry
 * per element under the same name, and numbers and booleans are kept as their
 * JSON text. Strings are unescaped and NUL-terminated inside buf.
 */
#define HF_AUTHN_MAX_CLAIMS 48
#define HF_AUTHN_BUF 3072

struct hf_authn_claim {
	uint16_t name_off, name_len;	/* in buf */
	uint16_t val_off, val_len;	/* in buf */
};

struct hf_authn {
	uint16_t principal_len;		/* 0: no valid token on this request */
	uint16_t n_claims;
	uint16_t used;			/* bytes of buf in use */
	uint16_t principal_off;		/* "<iss>/<sub>", in buf */
	struct hf_authn_claim claims[HF_AUTHN_MAX_CLAIMS];
	char buf[HF_AUTHN_BUF];
};

#endif
