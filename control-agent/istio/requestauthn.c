/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RequestAuthentication (security.istio.io v1beta1 and v1): JWT rules for
 * this node, as Pilot selects and merges them for a workload. A policy
 * applies when it sits in the root namespace (istio-system) or in the
 * node's own (the namespace of its mesh identity, else istio-system), and
 * its selector.matchLabels are all among the node's labels (no selector:
 * every workload of that namespace; in the root namespace, of the mesh).
 * The jwtRules of every policy that applies are merged into one set, as
 * Pilot merges them into one jwt_authn filter.
 *
 * Keys are never fetched: `jwks` inline, or `jwksUri` of the form
 * file:///absolute/path (read at each load and watched, so a rotated JWKS
 * file reloads). An http(s) jwksUri, and a rule without either (Istio
 * would find the keys through the issuer's OpenID discovery), is refused
 * by field name. targetRef(s) are refused: a gateway here is selected by
 * labels. Every RequestAuthentication is checked, applying or not, as
 * Istio's validation checks them all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"
#include "control-agent/jwks.h"
#include "control-agent/watch.h"

/* A JWKS file larger than this is no key set (Google's has a handful of keys, ~2 KiB). */
#define JWKS_MAX (1 << 20)

static const char *const spec_keys[] = {"selector", "jwtRules", NULL};
static const char *const spec_later[] = {"targetRef", "targetRefs", NULL};
static const char *const rule_keys[] = {
        "issuer",
        "audiences",
        "jwksUri",
        "jwks",
        "fromHeaders",
        "fromParams",
        "fromCookies",
        "outputPayloadToHeader",
        "forwardOriginalToken",
        "outputClaimToHeaders",
        "timeout",
        NULL,
};
static const char *const header_keys[] = {"name", "prefix", NULL};
static const char *const claim_keys[] = {"header", "claim", NULL};
static const char *const sel_keys[] = {"matchLabels", NULL};

int
ist_security_kind(struct ist *st, const struct yn *root, const char *api, const char *kind,
                  enum ist_kind *out)
{
	static const char group[] = "security.istio.io/";
	const char *version;

	if (strncmp(api, group, sizeof(group) - 1) != 0 ||
	    strcmp(kind, "RequestAuthentication") != 0)
		return 0;
	version = api + sizeof(group) - 1;
	if (strcmp(version, "v1beta1") != 0 && strcmp(version, "v1") != 0)
		return ist_fail(st, ist_get(root, "apiVersion"), "apiVersion",
		                "version '%s' of "
		                "security.istio.io is not one of v1beta1, v1",
		                version);
	*out = IST_RA;
	return 1;
}

/* Reads a JWKS file named by a file:// URI (RFC 8089: file:///abs/path). */
static int
read_jwks(struct ist *st, const struct yn *at, const char *path, const char *uri, char **out,
          size_t *len)
{
	const char *file = uri + 7;
	FILE *f;
	char *buf;
	size_t n;

	if (strncmp(file, "localhost/", 10) == 0)
		file += 9;
	if (file[0] != '/')
		return ist_fail(st, at, path,
		                "'%s': a file URI names an absolute path "
		                "(file:///path/to/jwks.json)",
		                uri);
	f = fopen(file, "re");
	if (f == NULL) {
		int e = errno;

		hf_watch_note(file, NULL, 0, e);
		return ist_fail(st, at, path, "%s: cannot read: %s", file, strerror(e));
	}
	buf = ist_alloc(st, JWKS_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return ist_oom(st);
	}
	n = fread(buf, 1, JWKS_MAX + 1, f);
	if (ferror(f) || n > JWKS_MAX) {
		fclose(f);
		return ist_fail(st, at, path, "%s: %s", file,
		                n > JWKS_MAX ? "larger than 1 MiB" : "read error");
	}
	fclose(f);
	buf[n] = '\0';
	hf_watch_note(file, buf, n, 0);
	*out = buf;
	*len = n;
	return 0;
}

/* The keys of rule @p r: inline jwks or a file:// jwksUri. */
static int
rule_keys_of(struct ist *st, const struct yn *r, const char *path, struct hf_jwt_rule *out)
{
	const char *uri = NULL, *inline_jwks = NULL, *text;
	const struct yn *at;
	char p[IST_PATH], msg[256];
	char *file_text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ist_get_str(st, r, path, "jwksUri", false, &uri)) < 0 ||
	    (rc = ist_get_str(st, r, path, "jwks", false, &inline_jwks)) < 0)
		return rc;
	if (uri != NULL && inline_jwks != NULL)
		return ist_fail(st, ist_get(r, "jwks"), ist_path(p, path, "jwks"),
		                "give jwks or "
		                "jwksUri, not both");
	if (uri == NULL && inline_jwks == NULL)
		return ist_fail(
		        st, ist_get(r, "issuer"), path,
		        "no jwks nor jwksUri: Istio would "
		        "find the keys through the issuer's OpenID discovery, which needs a "
		        "fetch; Hydrofoil fetches nothing at run time: give jwks inline or "
		        "jwksUri file:///path/to/jwks.json");
	if (uri != NULL) {
		at = ist_get(r, "jwksUri");
		ist_path(p, path, "jwksUri");
		if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0)
			return ist_fail(st, at, p,
			                "'%s': Hydrofoil fetches no keys at run time: save "
			                "the JWKS to a file and give file:///path/to/jwks.json, or "
			                "give the keys inline in jwks",
			                uri);
		if (strncmp(uri, "file://", 7) != 0)
			return ist_fail(st, at, p, "'%s' is not a file:// URI", uri);
		if ((rc = read_jwks(st, at, p, uri, &file_text, &len)) < 0)
			return rc;
		text = file_text;
	} else {
		at = ist_get(r, "jwks");
		ist_path(p, path, "jwks");
		text = inline_jwks;
		len = strlen(inline_jwks);
	}
	rc = hf_jwks_parse(text, len, &out->keys, msg, sizeof(msg));
	if (rc == -ENOMEM)
		return ist_oom(st);
	if (rc < 0)
		return ist_fail(st, at, p, "%s", msg);
	out->n_keys = (unsigned int)rc;
	return 0;
}

/* fromHeaders, fromParams, fromCookies into locations. */
static int
rule_locs(struct ist *st, const struct yn *r, const char *path, struct hf_jwt_rule *out)
{
	const struct yn *hs = NULL, *ps = NULL, *cs = NULL;
	struct hf_jwt_loc *locs;
	char p[IST_PATH], q[IST_PATH], f[IST_PATH];
	unsigned int n = 0;
	int rc;

	if ((rc = ist_get_seq(st, r, path, "fromHeaders", false, &hs)) < 0 ||
	    (rc = ist_get_strs(st, r, path, "fromParams", false, &ps)) < 0 ||
	    (rc = ist_get_strs(st, r, path, "fromCookies", false, &cs)) < 0)
		return rc;
	locs = ist_alloc(st, sizeof(*locs) *
	                             ((hs ? hs->n : 0) + (ps ? ps->n : 0) + (cs ? cs->n : 0) + 1));
	if (locs == NULL)
		return ist_oom(st);
	ist_path(p, path, "fromHeaders");
	for (unsigned int i = 0; hs != NULL && i < hs->n; i++) {
		const struct yn *h = hs->val[i];
		const char *name, *prefix = "";

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, h, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, h, q, header_keys, NULL)) < 0 ||
		    (rc = ist_get_str(st, h, q, "name", true, &name)) < 0 ||
		    (rc = ist_get_str(st, h, q, "prefix", false, &prefix)) < 0 ||
		    (rc = ist_check_token(st, ist_get(h, "name"), ist_path(f, q, "name"),
		                          "header name", name)) < 0)
			return rc;
		if (prefix == NULL)
			prefix = "";
		if ((rc = ist_check_field_value(st, ist_get(h, "prefix"), ist_path(f, q, "prefix"),
		                                prefix)) < 0)
			return rc;
		locs[n++] = (struct hf_jwt_loc){
		        .from = HF_JWT_FROM_HEADER, .name = name, .prefix = prefix};
	}
	for (unsigned int i = 0; ps != NULL && i < ps->n; i++)
		locs[n++] = (struct hf_jwt_loc){
		        .from = HF_JWT_FROM_PARAM, .name = ps->val[i]->s, .prefix = ""};
	for (unsigned int i = 0; cs != NULL && i < cs->n; i++)
		locs[n++] = (struct hf_jwt_loc){
		        .from = HF_JWT_FROM_COOKIE, .name = cs->val[i]->s, .prefix = ""};
	out->locs = locs;
	out->n_locs = n;
	return 0;
}

static int
rule_outputs(struct ist *st, const struct yn *r, const char *path, struct hf_jwt_rule *out)
{
	const struct yn *cl = NULL;
	struct hf_jwt_claim_hdr *ch;
	char p[IST_PATH], q[IST_PATH], f[IST_PATH];
	int rc;

	if ((rc = ist_get_str(st, r, path, "outputPayloadToHeader", false, &out->payload_header)) <
	            0 ||
	    (rc = ist_get_bool(st, r, path, "forwardOriginalToken", &out->forward)) < 0 ||
	    (rc = ist_get_seq(st, r, path, "outputClaimToHeaders", false, &cl)) < 0)
		return rc;
	if (out->payload_header != NULL &&
	    (rc = ist_check_token(st, ist_get(r, "outputPayloadToHeader"),
	                          ist_path(p, path, "outputPayloadToHeader"), "header name",
	                          out->payload_header)) < 0)
		return rc;
	if (cl == NULL)
		return 0;
	ch = ist_alloc(st, sizeof(*ch) * (cl->n + 1));
	if (ch == NULL)
		return ist_oom(st);
	ist_path(p, path, "outputClaimToHeaders");
	for (unsigned int i = 0; i < cl->n; i++) {
		const struct yn *c = cl->val[i];

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, c, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, c, q, claim_keys, NULL)) < 0 ||
		    (rc = ist_get_str(st, c, q, "header", true, &ch[i].header)) < 0 ||
		    (rc = ist_get_str(st, c, q, "claim", true, &ch[i].claim)) < 0 ||
		    (rc = ist_check_token(st, ist_get(c, "header"), ist_path(f, q, "header"),
		                          "header name", ch[i].header)) < 0)
			return rc;
	}
	out->claim_hdrs = ch;
	out->n_claim_hdrs = cl->n;
	return 0;
}

/* One JWTRule at @p path. */
static int
one_rule(struct ist *st, const struct yn *r, const char *path, struct hf_jwt_rule *out)
{
	const struct yn *aud = NULL;
	const char **auds;
	uint32_t timeout;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ist_want(st, r, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, r, path, rule_keys, NULL)) < 0 ||
	    (rc = ist_get_str(st, r, path, "issuer", true, &out->issuer)) < 0 ||
	    (rc = ist_get_strs(st, r, path, "audiences", false, &aud)) < 0 ||
	    /* timeout bounds a JWKS fetch: none happens here; checked, kept by nothing */
	    (rc = ist_get_ms(st, r, path, "timeout", &timeout)) < 0)
		return rc;
	if (out->issuer[0] == '\0') {
		char p[IST_PATH];

		return ist_fail(st, ist_get(r, "issuer"), ist_path(p, path, "issuer"),
		                "must not be empty");
	}
	if (aud != NULL) {
		auds = ist_alloc(st, sizeof(*auds) * (aud->n + 1));
		if (auds == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < aud->n; i++)
			auds[i] = aud->val[i]->s;
		out->aud = auds;
		out->n_aud = aud->n;
	}
	if ((rc = rule_locs(st, r, path, out)) < 0 || (rc = rule_outputs(st, r, path, out)) < 0)
		return rc;
	return rule_keys_of(st, r, path, out);
}

/* Whether policy @p res (selector @p sel, a MAP or NULL) applies to this node. */
static bool
applies(struct ist *st, const struct ist_res *res, const struct yn *sel, const char *node_ns)
{
	const struct yn *ml = ist_get(sel, "matchLabels");

	if (strcmp(res->ns, ist_root_ns(st)) != 0 && strcmp(res->ns, node_ns) != 0)
		return false;
	return ist_node_has_labels(st, ml);
}

int
ist_request_authn(struct ist *st)
{
	const char *node_ns = ist_node_ns(st);
	struct hf_jwt_rule *rules = NULL;
	unsigned int n = 0;
	int rc = 0;

	if (node_ns == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; rc == 0 && i < st->n_res; i++) {
		const struct ist_res *res = &st->res[i];
		const struct yn *sel = NULL, *ml = NULL, *rs = NULL;
		char p[IST_PATH];
		bool use;
		unsigned int first = n;

		if (res->kind != IST_RA)
			continue;
		ist_set_cur(st, res);
		if ((rc = ist_keys(st, res->spec, "spec", spec_keys, spec_later)) < 0 ||
		    (rc = ist_get_map(st, res->spec, "spec", "selector", false, &sel)) < 0)
			break;
		if (sel != NULL &&
		    ((rc = ist_keys(st, sel, "spec.selector", sel_keys, NULL)) < 0 ||
		     (rc = ist_get_strmap(st, sel, "spec.selector", "matchLabels", &ml)) < 0))
			break;
		if ((rc = ist_get_seq(st, res->spec, "spec", "jwtRules", false, &rs)) < 0)
			break;
		rc = 0;
		use = applies(st, res, sel, node_ns);
		for (unsigned int k = 0; rs != NULL && k < rs->n && rc == 0; k++) {
			struct hf_jwt_rule *r = ist_push(&rules, &n, sizeof(*r));

			if (r == NULL) {
				rc = ist_oom(st);
				break;
			}
			rc = one_rule(st, rs->val[k], ist_pathi(p, "spec.jwtRules", k), r);
		}
		if (!use && rc == 0) {
			/* checked, not this node's: its keys go */
			for (unsigned int k = first; k < n; k++)
				hf_jwks_free(rules[k].keys, rules[k].n_keys);
			n = first;
		}
	}
	if (rc == 0 && n > 0) {
		st->m.jwt = hf_jwt_config_build(rules, n, HF_JWT_CLOCK_SKEW_S);
		if (st->m.jwt == NULL)
			rc = ist_oom(st);
	}
	for (unsigned int k = 0; k < n; k++)
		hf_jwks_free(rules[k].keys, rules[k].n_keys);
	free(rules);
	return rc;
}
