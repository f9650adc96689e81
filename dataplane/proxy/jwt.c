/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request authentication in the worker (Envoy's jwt_authn filter as Istio
 * configures it for RequestAuthentication): after the overload shed, before
 * route selection, the request head is looked through for a token where the
 * snapshot's rules say (headers with a prefix, query parameters, cookies).
 * No token: the request passes with no principal (requires_any with
 * allow_missing; an AuthorizationPolicy with requestPrincipals decides). A
 * token that fails: 401 (403 for an audience), Envoy's body and
 * www-authenticate. A valid one: struct hf_authn filled for authorization,
 * the token's header dropped unless forwardOriginalToken, and
 * outputPayloadToHeader / outputClaimToHeaders added — edits of the parsed
 * head itself, so routing and the head sent upstream both see them, as they
 * see Envoy's filter's edits.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_branch_prediction.h>

#include "dataplane/proxy/http-t.h"
#include "dataplane/proxy/jwt.h"
#include "dataplane/snapshot-t.h"
#include "dataplane/worker-t.h"

/* One per worker, by id: what a validation decodes into. Never shared. */
static struct hf_jwt_scratch scratch[HF_MAX_WORKERS];
/* One per worker, by id: the tokens it verified lately (jwt.h). */
static struct hf_jwt_cache cache[HF_MAX_WORKERS];

static const enum hf_counter counter_of[HF_JWT__MAX] = {
        [HF_JWT_OK] = HF_CNT_JWT_ALLOWED,
        [HF_JWT_MISSING] = HF_CNT_JWT_NO_TOKEN,
        [HF_JWT_BAD_FORMAT] = HF_CNT_JWT_BAD_FORMAT,
        [HF_JWT_HEADER_BAD_B64] = HF_CNT_JWT_HEADER_BAD_B64,
        [HF_JWT_HEADER_BAD_JSON] = HF_CNT_JWT_HEADER_BAD_JSON,
        [HF_JWT_HEADER_BAD_ALG] = HF_CNT_JWT_HEADER_BAD_ALG,
        [HF_JWT_ALG_UNSUPPORTED] = HF_CNT_JWT_ALG_UNSUPPORTED,
        [HF_JWT_HEADER_BAD_KID] = HF_CNT_JWT_HEADER_BAD_KID,
        [HF_JWT_PAYLOAD_BAD_B64] = HF_CNT_JWT_PAYLOAD_BAD_B64,
        [HF_JWT_PAYLOAD_BAD_JSON] = HF_CNT_JWT_PAYLOAD_BAD_JSON,
        [HF_JWT_PAYLOAD_BAD_CLAIM] = HF_CNT_JWT_PAYLOAD_BAD_CLAIM,
        [HF_JWT_SIG_BAD_B64] = HF_CNT_JWT_SIG_BAD_B64,
        [HF_JWT_TOO_LARGE] = HF_CNT_JWT_TOO_LARGE,
        [HF_JWT_UNKNOWN_ISSUER] = HF_CNT_JWT_UNKNOWN_ISSUER,
        [HF_JWT_EXPIRED] = HF_CNT_JWT_EXPIRED,
        [HF_JWT_NOT_YET_VALID] = HF_CNT_JWT_NOT_YET_VALID,
        [HF_JWT_AUDIENCE] = HF_CNT_JWT_AUDIENCE,
        [HF_JWT_NO_KEY] = HF_CNT_JWT_NO_KEY,
        [HF_JWT_BAD_SIGNATURE] = HF_CNT_JWT_BAD_SIGNATURE,
        [HF_JWT_CLAIMS_FULL] = HF_CNT_JWT_CLAIMS_FULL,
};

static bool
slice_eq(const struct hf_h1_slice *s, const char *lit, size_t n)
{
	return s->len == n && strncasecmp(s->p, lit, n) == 0;
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* A query parameter's value in @p target ("name=value", '&'-separated, not decoded). */
static bool
find_param(const struct hf_h1_slice *target, const struct hf_jwt_loc *l, struct hf_jwt_found *f)
{
	const char *q = memchr(target->p, '?', target->len), *end = target->p + target->len;

	while (q != NULL && q < end) {
		const char *b = q + 1, *amp = memchr(b, '&', (size_t)(end - b));
		const char *e = amp != NULL ? amp : end;

		if ((size_t)(e - b) > l->name_len && b[l->name_len] == '=' &&
		    memcmp(b, l->name, l->name_len) == 0) {
			f->tok = b + l->name_len + 1;
			f->len = (size_t)(e - f->tok);
			return f->len > 0;
		}
		q = amp;
	}
	return false;
}

/* A cookie's value among the Cookie fields ("a=b; c=d", RFC 6265 4.2.1). */
static bool
find_cookie(const struct hf_h1_message *msg, const struct hf_jwt_loc *l, struct hf_jwt_found *f)
{
	for (uint32_t i = 0; i < msg->n_headers; i++) {
		const struct hf_h1_header *h = &msg->headers[i];
		const char *p = h->value.p, *end = p + h->value.len;

		if (!slice_eq(&h->name, "cookie", 6))
			continue;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *e = semi != NULL ? semi : end;
			size_t n = (size_t)(e - p);

			trim(&p, &n);
			if (n > l->name_len && p[l->name_len] == '=' &&
			    memcmp(p, l->name, l->name_len) == 0) {
				f->tok = p + l->name_len + 1;
				f->len = n - l->name_len - 1;
				return f->len > 0;
			}
			p = semi != NULL ? semi + 1 : end;
		}
	}
	return false;
}

bool
hf_jwt_find(const struct hf_jwt_config *cfg, const struct hf_h1_message *msg,
            struct hf_jwt_found *f)
{
	for (unsigned int k = 0; k < cfg->n_locs; k++) {
		const struct hf_jwt_loc *l = &cfg->locs[k];

		f->loc = l;
		f->header = -1;
		switch (l->from) {
		case HF_JWT_FROM_HEADER:
			for (uint32_t i = 0; i < msg->n_headers; i++) {
				const struct hf_h1_header *h = &msg->headers[i];
				const char *p = h->value.p;
				size_t n = h->value.len;

				if (!slice_eq(&h->name, l->name, l->name_len))
					continue;
				/* RFC 9110 11.1: an authentication scheme is case-insensitive */
				if (n < l->prefix_len ||
				    strncasecmp(p, l->prefix, l->prefix_len) != 0)
					continue;
				p += l->prefix_len;
				n -= l->prefix_len;
				trim(&p, &n);
				if (n == 0)
					continue;
				f->tok = p;
				f->len = n;
				f->header = (int)i;
				return true;
			}
			break;
		case HF_JWT_FROM_PARAM:
			if (find_param(&msg->target, l, f))
				return true;
			break;
		case HF_JWT_FROM_COOKIE:
			if (find_cookie(msg, l, f))
				return true;
			break;
		default: break;
		}
	}
	return false;
}

/*
 * A Connection field came or went: HF_H1_F_CONN_NAMES, which the proxy reads
 * instead of the fields, is worked out again.
 */
static void
conn_names_sync(struct hf_h1_message *msg, const char *name, size_t n)
{
	if (hf_h1_field_of(name, n) != HF_H1_FLD_CONNECTION)
		return;
	msg->flags &= (uint8_t)~HF_H1_F_CONN_NAMES;
	if (hf_h1_conn_names(msg))
		msg->flags |= HF_H1_F_CONN_NAMES;
}

/* Drops every field named @p name (@p n bytes, lower case) from @p msg. */
static void
msg_remove(struct hf_h1_message *msg, const char *name, size_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < msg->n_headers; i++)
		if (!slice_eq(&msg->headers[i].name, name, n))
			msg->headers[k++] = msg->headers[i];
	msg->n_headers = k;
	conn_names_sync(msg, name, n);
}

/* Sets field @p name to @p value (both must live until the head is written). */
static bool
msg_set(struct hf_h1_message *msg, const char *name, size_t n, const char *value, size_t vn)
{
	struct hf_h1_header *h;

	msg_remove(msg, name, n);
	if (msg->n_headers >= HF_H1_MAX_HEADERS_CAP)
		return false;
	h = &msg->headers[msg->n_headers++];
	h->name.p = name;
	h->name.len = (uint32_t)n;
	h->value.p = value;
	h->value.len = (uint32_t)vn;
	h->field = HF_H1_FLD_UNKNOWN;	/* not a line of the head: see hf_h1_header */
	conn_names_sync(msg, name, n);
	return true;
}

void
hf_jwt_edit_request(const struct hf_jwt_provider *p, const struct hf_jwt_found *f,
                    const struct hf_jwt_scratch *sc, const struct hf_authn *an,
                    struct hf_h1_message *msg, unsigned int *not_added,
                    unsigned int *bad_values)
{
	/*
	 * Envoy removes the whole header a token came in (forward: false); a
	 * query parameter or cookie stays, as there.
	 */
	if (!p->forward && f->header >= 0) {
		const struct hf_h1_slice name = msg->headers[f->header].name;

		msg_remove(msg, name.p, name.len);
	}
	if (p->payload_header != NULL && !msg_set(msg, p->payload_header, p->payload_header_len,
	                                          sc->payload_b64, sc->payload_b64_len))
		(*not_added)++;
	for (unsigned int i = 0; i < p->n_claim_hdrs; i++) {
		const struct hf_jwt_claim_hdr *ch = &p->claim_hdrs[i];
		const struct hf_authn_claim *c = hf_authn_find(an, ch->claim);

		/* Envoy writes strings, numbers and booleans; a missing claim adds nothing */
		if (c == NULL)
			continue;
		if (!hf_h1_value_ok(an->buf + c->val_off, c->val_len)) {
			/* a JSON string may hold "\r\n": never a line of the head */
			msg_remove(msg, ch->header, ch->header_len);
			(*bad_values)++;
			continue;
		}
		if (!msg_set(msg, ch->header, ch->header_len, an->buf + c->val_off, c->val_len))
			(*not_added)++;
	}
}

/*
 * Copies what @p src holds into @p dst: its claims in use and the bytes of
 * buf in use, not the whole claims array (48 entries, 392 bytes with the
 * counts) a token with a handful of claims leaves mostly empty.
 */
static void
authn_copy(struct hf_authn *dst, const struct hf_authn *src)
{
	uint16_t n = src->n_claims < HF_AUTHN_MAX_CLAIMS ? src->n_claims : HF_AUTHN_MAX_CLAIMS;

	memcpy(dst, src, offsetof(struct hf_authn, claims) + n * sizeof(src->claims[0]));
	memcpy(dst->buf, src->buf, src->used);
}

/* The slot of a token: its last 8 bytes, the signature's, which are random. */
static unsigned int
cache_slot(const char *tok, size_t len)
{
	uint64_t x = 0;

	memcpy(&x, tok + len - (len < 8 ? len : 8), len < 8 ? len : 8);
	x *= UINT64_C(0x9e3779b97f4a7c15);
	return (unsigned int)(x >> 61) % HF_JWT_CACHE_SLOTS;
}

const struct hf_jwt_provider *
hf_jwt_cache_get(const struct hf_jwt_cache *c, uint64_t gen, const struct hf_jwt_config *cfg,
                 const struct hf_jwt_loc *loc, const char *tok, size_t len, uint64_t now_s,
                 struct hf_authn *an, struct hf_jwt_scratch *sc)
{
	const struct hf_jwt_cache_ent *e;

	if (len == 0 || len > HF_JWT_CACHE_TOKEN)
		return NULL;
	e = &c->e[cache_slot(tok, len)];
	/*
	 * The exact bytes, under the same snapshot, not past exp and the skew:
	 * exp is checked again on every hit, as hf_jwt_verify() checks it
	 * (RFC 7519 4.1.4), so a token kept here expires here too.
	 */
	if (e->gen == 0 || e->gen != gen || e->cfg != cfg || e->loc != loc || e->len != len ||
	    now_s > e->until || memcmp(e->tok, tok, len) != 0)
		return NULL;
	authn_copy(an, &e->an);
	sc->payload_b64 = tok + e->payload_off;
	sc->payload_b64_len = e->payload_len;
	sc->exp = e->exp;
	return e->prov;
}

bool
hf_jwt_cache_put(struct hf_jwt_cache *c, uint64_t gen, const struct hf_jwt_config *cfg,
                 const struct hf_jwt_loc *loc, const char *tok, size_t len,
                 const struct hf_jwt_provider *prov, const struct hf_authn *an,
                 const struct hf_jwt_scratch *sc, uint32_t skew_s)
{
	struct hf_jwt_cache_ent *e;
	bool evicted;

	if (len == 0 || len > HF_JWT_CACHE_TOKEN || gen == 0 || sc->payload_b64 < tok ||
	    sc->payload_b64 + sc->payload_b64_len > tok + len)
		return false;
	e = &c->e[cache_slot(tok, len)];
	evicted = e->gen != 0 && (e->len != len || memcmp(e->tok, tok, len) != 0);
	e->gen = gen;
	e->cfg = cfg;
	e->loc = loc;
	e->prov = prov;
	e->exp = sc->exp;
	e->until = sc->exp > UINT64_MAX - skew_s ? UINT64_MAX : sc->exp + skew_s;
	e->len = (uint32_t)len;
	e->payload_off = (uint32_t)(sc->payload_b64 - tok);
	e->payload_len = (uint32_t)sc->payload_b64_len;
	memcpy(e->tok, tok, len);
	authn_copy(&e->an, an);
	return evicted;
}

/* Writes @p p (@p n bytes) into the realm, '"' and '\' escaped so the quoted-string holds. */
static size_t
put_realm(char *o, size_t room, const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 3 < room; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			o[k++] = '%';
			o[k++] = p[i] == '"' ? '2' : '5';
			o[k++] = p[i] == '"' ? '2' : 'C';
		} else {
			o[k++] = p[i];
		}
	}
	return k;
}

int
hf_jwt_request(struct hf_worker *w, struct hf_h1_message *msg, bool https, struct hf_jwt_reply *r)
{
	const struct hf_snapshot *snap = w->snap;
	struct hf_http_state *h = w->http;
	struct hf_jwt_scratch *sc = &scratch[w->id];
	const struct hf_jwt_provider *p;
	struct hf_jwt_found f;
	enum hf_jwt_status st;
	unsigned int not_added = 0, bad_values = 0;
	uint64_t now_s;
	size_t k;

	hf_authn_reset(&h->authn);
	if (likely(snap == NULL || snap->jwt == NULL))
		return 0;
	/*
	 * A CORS preflight carries no credentials (Fetch standard, CORS-preflight
	 * request): Istio sets jwt_authn's bypass_cors_preflight, so it passes.
	 */
	if (msg->method == HF_H1_M_OPTIONS && hf_h1_find(msg, "origin") != NULL &&
	    hf_h1_find(msg, "access-control-request-method") != NULL) {
		w->cnt.v[HF_CNT_JWT_CORS_PREFLIGHT]++;
		return 0;
	}
	if (!hf_jwt_find(snap->jwt, msg, &f)) {
		w->cnt.v[HF_CNT_JWT_NO_TOKEN]++;
		return 0;
	}
	sc->worker = w->id;
	now_s = (h->epoch_us + (w->now - h->epoch_tsc) / h->tsc_per_us) / 1000000;
	p = hf_jwt_cache_get(&cache[w->id], snap->version, snap->jwt, f.loc, f.tok, f.len, now_s,
	                     &h->authn, sc);
	if (p != NULL) {
		w->cnt.v[HF_CNT_JWT_CACHE_HIT]++;
		st = HF_JWT_OK;
	} else {
		st = hf_jwt_verify(snap->jwt, f.loc, f.tok, f.len, now_s, sc, &h->authn, &p);
		if (st == HF_JWT_OK &&
		    hf_jwt_cache_put(&cache[w->id], snap->version, snap->jwt, f.loc, f.tok, f.len, p,
		                     &h->authn, sc, snap->jwt->clock_skew_s))
			w->cnt.v[HF_CNT_JWT_CACHE_EVICTED]++;
	}
	w->cnt.v[counter_of[st]]++;
	if (st == HF_JWT_OK) {
		hf_jwt_edit_request(p, &f, sc, &h->authn, msg, &not_added, &bad_values);
		w->cnt.v[HF_CNT_JWT_HEADER_FULL] += not_added;
		w->cnt.v[HF_CNT_JWT_CLAIM_NOT_FIELD] += bad_values;
		return 0;
	}
	/* Envoy: www-authenticate: Bearer realm="<scheme>://<host><path>", error="invalid_token" */
	r->body = hf_jwt_status_text(st);
	r->details = hf_jwt_status_details(st);
	k = (size_t)snprintf(r->extra, sizeof(r->extra), "www-authenticate: Bearer realm=\"%s://",
	                     https ? "https" : "http");
	k += put_realm(r->extra + k, sizeof(r->extra) - k - 64, msg->host.p, msg->host.len);
	k += put_realm(r->extra + k, sizeof(r->extra) - k - 64, msg->target.p,
	               msg->target.len < HF_JWT_REALM_PATH ? msg->target.len : HF_JWT_REALM_PATH);
	snprintf(r->extra + k, sizeof(r->extra) - k, "\", error=\"invalid_token\"\r\n");
	return hf_jwt_status_code(st);
}
