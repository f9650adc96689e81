/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS in Envoy v3 resources into the model's TLS (translate.h), the same
 * structures the Istio YAML path fills for Gateway TLS servers
 * (struct hf_model_tls) and DestinationRule TLS (struct hf_model_up_tls), so
 * the snapshot compiler builds, and rotates, the contexts alike:
 *  - a filter chain's transport_socket envoy.transport_sockets.tls holding a
 *    DownstreamTlsContext: one certificate (inline tls_certificates or one
 *    tls_certificate_sds_secret_configs), optionally a validation context
 *    (inline, by SDS, or combined) with require_client_certificate: client
 *    certificates must chain to its trusted_ca (MUTUAL);
 *  - a cluster's transport_socket holding an UpstreamTlsContext: sni, the
 *    server verified against a validation context when there is one (else
 *    not verified, as Envoy), a client certificate when one is given;
 *  - Secret resources (SDS over the ADS stream): tls_certificate and
 *    validation_context with inline data, checked on arrival.
 * Secrets are looked up through struct hf_xds_sds; checking a resource alone
 * (find NULL) collects the names it references, which it waits for (build.c).
 */
#include <openssl/ssl.h>

#include "control-agent/xds/translate-int.h"
#include "tls/tls.h"

#define TLS_SOCKET_NAME "envoy.transport_sockets.tls"

typedef Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext common_t;
typedef Envoy__Extensions__TransportSockets__Tls__V3__CertificateValidationContext valctx_t;
typedef Envoy__Extensions__TransportSockets__Tls__V3__TlsCertificate cert_t;
typedef Envoy__Extensions__TransportSockets__Tls__V3__SdsSecretConfig sdsref_t;
typedef Envoy__Extensions__TransportSockets__Tls__V3__Secret secret_t;

/* What a context's certificate and validation come to, secrets resolved. */
struct tls_parts {
	char *cert, *key, *ca;
	size_t cert_len, key_len, ca_len;
	unsigned int n_sans;
	char **sans;
	bool has_cert, has_ca; /* named, even when not resolved (checking alone) */
	uint16_t min_version, max_version;
	char *ciphers;
};

static void
parts_free(struct tls_parts *p)
{
	free(p->cert);
	if (p->key != NULL)
		explicit_bzero(p->key, p->key_len);
	free(p->key);
	free(p->ca);
	for (unsigned int i = 0; i < p->n_sans; i++)
		free(p->sans[i]);
	free(p->sans);
	free(p->ciphers);
	memset(p, 0, sizeof(*p));
}

/* A DataSource: inline bytes or string only (files are the agent's own business). */
static int
data_source(struct tr *t, const Envoy__Config__Core__V3__DataSource *d, const char *at, char **out,
            size_t *len)
{
	const void *p;
	size_t n;

	if (d == NULL)
		return bad(t, at, "missing");
	switch (d->specifier_case) {
	case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES:
		p = d->inline_bytes.data;
		n = d->inline_bytes.len;
		break;
	case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_STRING:
		p = d->inline_string;
		n = strlen(d->inline_string);
		break;
	default:
		return bad(t, at,
		           "only inline_bytes and inline_string are supported (a control "
		           "plane sends the PEM itself)");
	}
	if (n == 0)
		return bad(t, at, "empty");
	if (out == NULL)
		return 0;
	free(*out);
	*out = malloc(n + 1);
	if (*out == NULL)
		return nomem(t);
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	*len = n;
	return 0;
}

/* Exact StringMatcher @p m (at field path @p p) appended to @p tp's SANs. */
static int
add_exact_san(struct tr *t, const Envoy__Type__Matcher__V3__StringMatcher *m, const char *p,
	      struct tls_parts *tp)
{
	char **nv;

	if (ONLY(t, m, p, "exact") != 0)
		return t->rc;
	if (m->match_pattern_case != ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT)
		return bad(t, p, "only exact is supported");
	nv = realloc(tp->sans, (tp->n_sans + 1) * sizeof(*nv));
	if (nv == NULL)
		return nomem(t);
	tp->sans = nv;
	if ((tp->sans[tp->n_sans] = sdup(t, m->exact)) == NULL)
		return t->rc;
	tp->n_sans++;
	return 0;
}

/*
 * Exact DNS or URI SAN matchers into @p tp (the model matches SANs exactly,
 * as Istio's subjectAltNames, against DNS and URI SANs alike).
 */
static int
sans(struct tr *t, const valctx_t *v, const char *at, struct tls_parts *tp)
{
	char p[PATH];

	for (size_t i = 0; i < v->n_match_typed_subject_alt_names; i++) {
		const Envoy__Extensions__TransportSockets__Tls__V3__SubjectAltNameMatcher *sm =
		        v->match_typed_subject_alt_names[i];
		const Envoy__Type__Matcher__V3__StringMatcher *m = sm->matcher;

		path(p, sizeof(p), "%s.match_typed_subject_alt_names[%zu]", at, i);
		if (ONLY(t, sm, p, "san_type", "matcher") != 0)
			return t->rc;
		if (sm->san_type !=
		            ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SUBJECT_ALT_NAME_MATCHER__SAN_TYPE__DNS &&
		    sm->san_type !=
		            ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SUBJECT_ALT_NAME_MATCHER__SAN_TYPE__URI)
			return bad(t, p, "san_type: only DNS and URI are supported");
		if (m == NULL)
			return bad(t, p, "no matcher");
		path(p, sizeof(p), "%s.match_typed_subject_alt_names[%zu].matcher", at, i);
		if (add_exact_san(t, m, p, tp) != 0)
			return t->rc;
	}
	/* the deprecated untyped list istiod still writes: any SAN type, exact only */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	for (size_t i = 0; i < v->n_match_subject_alt_names; i++) {
		path(p, sizeof(p), "%s.match_subject_alt_names[%zu]", at, i);
		if (add_exact_san(t, v->match_subject_alt_names[i], p, tp) != 0)
			return t->rc;
	}
#pragma GCC diagnostic pop
	return 0;
}

/* A validation context: trusted_ca (PEM CA certificates) and exact SANs. */
static int
validation(struct tr *t, const valctx_t *v, const char *at, bool need_ca, struct tls_parts *tp)
{
	char p[PATH], err[200];

	if (ONLY(t, v, at, "trusted_ca", "match_typed_subject_alt_names",
	         "match_subject_alt_names") != 0)
		return t->rc;
	if (v->trusted_ca != NULL || need_ca) {
		path(p, sizeof(p), "%s.trusted_ca", at);
		if (data_source(t, v->trusted_ca, p, &tp->ca, &tp->ca_len) != 0)
			return t->rc;
		if (hf_tls_ca_check(tp->ca, (uint32_t)tp->ca_len, err, sizeof(err)) < 0)
			return bad(t, p, "%s", err);
		tp->has_ca = true;
	}
	return sans(t, v, at, tp);
}

/* A certificate and its key; checked to match (an SSL_CTX built as a worker builds it). */
static int
certificate(struct tr *t, const cert_t *c, const char *at, struct tls_parts *tp)
{
	char p[PATH], err[200];
	const char *star = "*";
	struct hf_tls_server_config sc = {0};
	SSL_CTX *ctx;

	if (ONLY(t, c, at, "certificate_chain", "private_key") != 0)
		return t->rc;
	path(p, sizeof(p), "%s.certificate_chain", at);
	if (data_source(t, c->certificate_chain, p, &tp->cert, &tp->cert_len) != 0)
		return t->rc;
	path(p, sizeof(p), "%s.private_key", at);
	if (data_source(t, c->private_key, p, &tp->key, &tp->key_len) != 0)
		return t->rc;
	tp->has_cert = true;
	sc = (struct hf_tls_server_config){
	        .n_names = 1,
	        .names = &star,
	        .cert_pem = tp->cert,
	        .cert_len = (uint32_t)tp->cert_len,
	        .key_pem = tp->key,
	        .key_len = (uint32_t)tp->key_len,
	        .min_version = HF_TLS_V1_2,
	        .max_version = HF_TLS_V1_3,
	};
	ctx = hf_tls_ctx_new(NULL, &sc, err, sizeof(err));
	if (ctx == NULL)
		return bad(t, at, "%s", err);
	SSL_CTX_free(ctx);
	return 0;
}

int
hf_xds_tr_secret(const secret_t *s, char *err, size_t errlen)
{
	struct tr t = {.err = err, .errlen = errlen};
	struct tls_parts tp = {0};

	if (ONLY(&t, s, "Secret", "name", "tls_certificate", "validation_context") != 0)
		return t.rc;
	if (s->type_case ==
	    ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_TLS_CERTIFICATE)
		certificate(&t, s->tls_certificate, "tls_certificate", &tp);
	else if (s->type_case ==
	         ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_VALIDATION_CONTEXT)
		validation(&t, s->validation_context, "validation_context", true, &tp);
	else
		bad(&t, "Secret", "neither tls_certificate nor validation_context");
	parts_free(&tp);
	return t.rc;
}

/* Records @p name in @p sds's names once. */
static int
note(struct tr *t, struct hf_xds_sds *sds, const char *name)
{
	char **nv;

	for (unsigned int i = 0; i < sds->n; i++)
		if (strcmp(sds->names[i], name) == 0)
			return 0;
	nv = realloc(sds->names, (sds->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return nomem(t);
	sds->names = nv;
	if ((sds->names[sds->n] = sdup(t, name)) == NULL)
		return t->rc;
	sds->n++;
	return 0;
}

#define SDS_GRPC "sds-grpc"

/*
 * Where an SdsSecretConfig's secret comes from: ads, or istiod's own shape
 * for the node's identity and a gateway's kubernetes:// credentials, an
 * api_config_source of GRPC to the cluster sds-grpc (pilot-agent's SDS
 * server in a pod). Here that agent is the management server itself: the
 * secrets arrive on the ADS stream, so sds-grpc is taken as ADS; any other
 * source would be a stream this client does not open.
 */
static int
sds_source(struct tr *t, const Envoy__Config__Core__V3__ConfigSource *cs, const char *at)
{
	const Envoy__Config__Core__V3__ApiConfigSource *a;
	char p[PATH];

	if (cs->config_source_specifier_case !=
	    ENVOY__CONFIG__CORE__V3__CONFIG_SOURCE__CONFIG_SOURCE_SPECIFIER_API_CONFIG_SOURCE)
		return hf_xds_tr_config_source(t, cs, at);
	if (ONLY(t, cs, at, "api_config_source", "resource_api_version",
	         "initial_fetch_timeout") != 0)
		return t->rc;
	a = cs->api_config_source;
	path(p, sizeof(p), "%s.api_config_source", at);
	if (ONLY(t, a, p, "api_type", "transport_api_version", "grpc_services",
	         "set_node_on_first_message_only") != 0)
		return t->rc;
	if (a->api_type != ENVOY__CONFIG__CORE__V3__API_CONFIG_SOURCE__API_TYPE__GRPC)
		return bad(t, p, "api_type: only GRPC to " SDS_GRPC " is supported (as ADS)");
	if (a->n_grpc_services != 1)
		return bad(t, p,
		           "grpc_services: exactly one (envoy_grpc " SDS_GRPC ") is supported");
	path(p, sizeof(p), "%s.api_config_source.grpc_services[0]", at);
	if (ONLY(t, a->grpc_services[0], p, "envoy_grpc") != 0)
		return t->rc;
	if (a->grpc_services[0]->target_specifier_case !=
	    ENVOY__CONFIG__CORE__V3__GRPC_SERVICE__TARGET_SPECIFIER_ENVOY_GRPC)
		return bad(t, p, "only envoy_grpc is supported");
	path(p, sizeof(p), "%s.api_config_source.grpc_services[0].envoy_grpc", at);
	if (ONLY(t, a->grpc_services[0]->envoy_grpc, p, "cluster_name") != 0)
		return t->rc;
	if (strcmp(a->grpc_services[0]->envoy_grpc->cluster_name, SDS_GRPC) != 0)
		return bad(t, p,
		           "cluster_name '%s': secrets come over ADS (or istiod's " SDS_GRPC
		           ", taken as ADS), not from another server",
		           a->grpc_services[0]->envoy_grpc->cluster_name);
	return 0;
}

/*
 * An SdsSecretConfig: its name noted; when secrets are at hand, the secret
 * it names, of the @p cert kind (tls_certificate) or not (validation_context).
 */
static int
sds_ref(struct tr *t, const sdsref_t *r, const char *at, struct hf_xds_sds *sds, bool cert,
        struct tls_parts *tp)
{
	const secret_t *s;
	char p[PATH];

	if (ONLY(t, r, at, "name", "sds_config") != 0)
		return t->rc;
	if (r->name[0] == '\0')
		return bad(t, at, "no name (secrets come by name over ADS)");
	if (r->sds_config == NULL)
		return bad(t, at,
		           "no sds_config: the secret would be static (only ads is supported)");
	path(p, sizeof(p), "%s.sds_config", at);
	if (sds_source(t, r->sds_config, p) != 0 || note(t, sds, r->name) != 0)
		return t->rc;
	if (cert)
		tp->has_cert = true;
	else
		tp->has_ca = true;
	if (sds->find == NULL)
		return 0;
	s = sds->find(sds->ctx, r->name);
	if (s == NULL)
		return bad(t, at, "secret '%s' is not here", r->name);
	if (cert &&
	    s->type_case !=
	            ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_TLS_CERTIFICATE)
		return bad(t, at, "secret '%s' holds no tls_certificate", r->name);
	if (!cert &&
	    s->type_case !=
	            ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__SECRET__TYPE_VALIDATION_CONTEXT)
		return bad(t, at, "secret '%s' holds no validation_context", r->name);
	path(p, sizeof(p), "%s (secret '%s')", at, r->name);
	return cert ? certificate(t, s->tls_certificate, p, tp)
	            : validation(t, s->validation_context, p, true, tp);
}

static const uint16_t versions[] = {0, 0, 0, HF_TLS_V1_2, HF_TLS_V1_3};

static int
params(struct tr *t, const Envoy__Extensions__TransportSockets__Tls__V3__TlsParameters *tp,
       const char *at, struct tls_parts *out)
{
	size_t len = 1;
	int lo = tp->tls_minimum_protocol_version, hi = tp->tls_maximum_protocol_version;

	if (ONLY(t, tp, at, "tls_minimum_protocol_version", "tls_maximum_protocol_version",
	         "cipher_suites") != 0)
		return t->rc;
	if (lo == 1 || lo == 2 || hi == 1 || hi == 2)
		return bad(t, at, "TLS 1.0 and 1.1 are not served (TLS_AUTO, TLSv1_2, TLSv1_3)");
	if (lo < 0 || lo > 4 || hi < 0 || hi > 4)
		return bad(t, at, "unknown protocol version");
	if (lo != 0)
		out->min_version = versions[lo];
	if (hi != 0)
		out->max_version = versions[hi];
	if (out->min_version > out->max_version)
		return bad(t, at, "tls_minimum_protocol_version is above the maximum");
	for (size_t i = 0; i < tp->n_cipher_suites; i++) {
		int known = hf_tls_cipher_known(tp->cipher_suites[i]);

		if (known != 1)
			return bad(t, at, "cipher_suites[%zu]: '%s' %s", i, tp->cipher_suites[i],
			           known < 0 ? "is a TLS 1.3 suite (not configurable, as in Envoy)"
			                     : "is not a TLS 1.2 suite OpenSSL knows");
		len += strlen(tp->cipher_suites[i]) + 1;
	}
	if (tp->n_cipher_suites == 0)
		return 0;
	out->ciphers = calloc(1, len);
	if (out->ciphers == NULL)
		return nomem(t);
	for (size_t i = 0; i < tp->n_cipher_suites; i++) {
		if (i > 0)
			strcat(out->ciphers, ":");
		strcat(out->ciphers, tp->cipher_suites[i]);
	}
	return 0;
}

/* A CommonTlsContext into @p tp: at most one certificate, one validation context. */
static int
common(struct tr *t, const common_t *c, const char *at, bool down, struct hf_xds_sds *sds,
       struct tls_parts *tp)
{
	char p[PATH];

	tp->min_version = HF_TLS_V1_2;
	tp->max_version = HF_TLS_V1_3;
	if (c == NULL)
		return 0;
	if (ONLY(t, c, at, "tls_params", "tls_certificates", "tls_certificate_sds_secret_configs",
	         "validation_context", "validation_context_sds_secret_config",
	         "combined_validation_context", "alpn_protocols") != 0)
		return t->rc;
	/*
	 * Istio lists h2 and http/1.1 for a gateway's server: the handshake selects
	 * http/1.1 from the client's offer (tls/ctx.c), the one Hydrofoil speaks, so
	 * a list without it cannot be served.
	 */
	if (down && c->n_alpn_protocols > 0) {
		size_t i = 0;

		while (i < c->n_alpn_protocols && strcmp(c->alpn_protocols[i], "http/1.1") != 0)
			i++;
		if (i == c->n_alpn_protocols)
			return bad(t, at, "alpn_protocols without http/1.1: Hydrofoil speaks HTTP/1.1 "
			                  "only");
	}
	if (c->n_tls_certificates + c->n_tls_certificate_sds_secret_configs > 1)
		return bad(t, at, "one certificate per context is supported (got %zu)",
		           c->n_tls_certificates + c->n_tls_certificate_sds_secret_configs);
	if (c->tls_params != NULL) {
		path(p, sizeof(p), "%s.tls_params", at);
		if (params(t, c->tls_params, p, tp) != 0)
			return t->rc;
	}
	if (c->n_tls_certificates == 1) {
		path(p, sizeof(p), "%s.tls_certificates[0]", at);
		if (certificate(t, c->tls_certificates[0], p, tp) != 0)
			return t->rc;
	}
	if (c->n_tls_certificate_sds_secret_configs == 1) {
		path(p, sizeof(p), "%s.tls_certificate_sds_secret_configs[0]", at);
		if (sds_ref(t, c->tls_certificate_sds_secret_configs[0], p, sds, true, tp) != 0)
			return t->rc;
	}
	switch (c->validation_context_type_case) {
	case ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE_VALIDATION_CONTEXT:
		path(p, sizeof(p), "%s.validation_context", at);
		return validation(t, c->validation_context, p, false, tp);
	case ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE_VALIDATION_CONTEXT_SDS_SECRET_CONFIG:
		path(p, sizeof(p), "%s.validation_context_sds_secret_config", at);
		return sds_ref(t, c->validation_context_sds_secret_config, p, sds, false, tp);
	case ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE_COMBINED_VALIDATION_CONTEXT: {
		const Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext__CombinedCertificateValidationContext
		        *cv = c->combined_validation_context;
		char q[PATH];

		/* Istio's shape: SANs inline, the CA by SDS */
		path(p, sizeof(p), "%s.combined_validation_context", at);
		if (ONLY(t, cv, p, "default_validation_context",
		         "validation_context_sds_secret_config") != 0)
			return t->rc;
		if (cv->validation_context_sds_secret_config == NULL)
			return bad(t, p, "no validation_context_sds_secret_config");
		if (cv->default_validation_context != NULL) {
			path(q, sizeof(q), "%s.default_validation_context", p);
			if (validation(t, cv->default_validation_context, q, false, tp) != 0)
				return t->rc;
		}
		path(q, sizeof(q), "%s.validation_context_sds_secret_config", p);
		return sds_ref(t, cv->validation_context_sds_secret_config, q, sds, false, tp);
	}
	case ENVOY__EXTENSIONS__TRANSPORT_SOCKETS__TLS__V3__COMMON_TLS_CONTEXT__VALIDATION_CONTEXT_TYPE__NOT_SET:
		return 0;
	default: return bad(t, at, "certificate providers are not supported (SDS or inline)");
	}
}

/* The transport socket's TLS context message, of type @p d; NULL with the failure set. */
static ProtobufCMessage *
socket_ctx(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts, const char *at,
           const ProtobufCMessageDescriptor *d)
{
	char p[PATH];

	if (ONLY(t, ts, at, "name", "typed_config") != 0)
		return NULL;
	if (strcmp(ts->name, TLS_SOCKET_NAME) != 0) {
		bad(t, at, "transport socket '%s' is not supported (only " TLS_SOCKET_NAME ")",
		    ts->name);
		return NULL;
	}
	if (ts->config_type_case !=
	    ENVOY__CONFIG__CORE__V3__TRANSPORT_SOCKET__CONFIG_TYPE_TYPED_CONFIG) {
		bad(t, at, "no typed_config");
		return NULL;
	}
	path(p, sizeof(p), "%s.typed_config", at);
	return unpack_any(t, ts->typed_config, d, p);
}

int
hf_xds_tr_down_tls(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts, const char *at,
                   char **server_names, size_t n_names, struct hf_xds_sds *sds,
                   struct hf_model_listener *ml)
{
	Envoy__Extensions__TransportSockets__Tls__V3__DownstreamTlsContext *d;
	struct tls_parts tp = {0};
	struct hf_model_tls_server *ms;
	char p[PATH];
	bool require = false;

	d = (void *)socket_ctx(
	        t, ts, at,
	        &envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__descriptor);
	if (d == NULL)
		return t->rc;
	path(p, sizeof(p), "%s.typed_config", at);
	if (ONLY(t, d, p, "common_tls_context", "require_client_certificate") != 0)
		goto out;
	require = d->require_client_certificate != NULL && d->require_client_certificate->value;
	path(p, sizeof(p), "%s.typed_config.common_tls_context", at);
	if (common(t, d->common_tls_context, p, true, sds, &tp) != 0)
		goto out;
	if (!tp.has_cert) {
		bad(t, p,
		    "no certificate (tls_certificates or tls_certificate_sds_secret_configs)");
		goto out;
	}
	/* The data plane verifies client certificates when asked to, or not at all. */
	if (tp.has_ca != require || (tp.n_sans > 0 && !require)) {
		path(p, sizeof(p), "%s.typed_config.require_client_certificate", at);
		bad(t, p, "%s",
		    require ? "true needs a validation context with trusted_ca"
		            : "a validation context needs require_client_certificate "
		              "true (optional client certificates are not supported)");
		goto out;
	}
	/* a listener's filter chains are its servers, in order (translate.c) */
	if (ml->tls == NULL && (ml->tls = calloc(1, sizeof(*ml->tls))) == NULL) {
		nomem(t);
		goto out;
	}
	ms = grow(t, &ml->tls->servers, &ml->tls->n_servers, sizeof(*ms));
	if (ms == NULL)
		goto out;
	/* No server_names: the chain answers every name (and no SNI), as Envoy's lone chain. */
	ms->names = calloc(n_names == 0 ? 1 : n_names, sizeof(*ms->names));
	if (ms->names == NULL) {
		nomem(t);
		goto out;
	}
	for (size_t i = 0; i < (n_names == 0 ? 1 : n_names); i++)
		if ((ms->names[ms->n_names++] =
		             sdup_lower(t, n_names == 0 ? "*" : server_names[i])) == NULL)
			goto out;
	ms->cert_pem = tp.cert;
	ms->cert_len = tp.cert_len;
	ms->key_pem = tp.key;
	ms->key_len = tp.key_len;
	ms->ca_pem = tp.ca;
	ms->ca_len = tp.ca_len;
	ms->n_sans = tp.n_sans;
	ms->sans = tp.sans;
	ms->ciphers = tp.ciphers;
	ms->min_version = tp.min_version;
	ms->max_version = tp.max_version;
	memset(&tp, 0, sizeof(tp));
out:
	parts_free(&tp);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	return t->rc;
}

int
hf_xds_tr_up_tls(struct tr *t, const Envoy__Config__Core__V3__TransportSocket *ts, const char *at,
                 struct hf_xds_sds *sds, struct hf_model_cluster *mc)
{
	Envoy__Extensions__TransportSockets__Tls__V3__UpstreamTlsContext *u;
	struct tls_parts tp = {0};
	struct hf_model_up_tls *mt;
	char p[PATH];

	u = (void *)socket_ctx(
	        t, ts, at,
	        &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor);
	if (u == NULL)
		return t->rc;
	path(p, sizeof(p), "%s.typed_config", at);
	if (ONLY(t, u, p, "common_tls_context", "sni") != 0)
		goto out;
	path(p, sizeof(p), "%s.typed_config.common_tls_context", at);
	if (common(t, u->common_tls_context, p, false, sds, &tp) != 0)
		goto out;
	/*
	 * istiod's auto-mTLS offers istio-peer-exchange and istio: the first asks
	 * the upstream sidecar for the metadata exchange (skipped: translate_cluster.c),
	 * the second marks Istio mTLS for its protocol sniffing; a sidecar serves
	 * mTLS without them. Not sent; any other protocol is refused.
	 */
	for (size_t i = 0; u->common_tls_context != NULL &&
	                   i < u->common_tls_context->n_alpn_protocols;
	     i++) {
		const char *a = u->common_tls_context->alpn_protocols[i];

		if (strcmp(a, "istio-peer-exchange") != 0 && strcmp(a, "istio") != 0) {
			bad(t, p,
			    "alpn_protocols[%zu]: '%s': ALPN is not offered upstream (only "
			    "istiod's istio-peer-exchange and istio are taken, unsent)",
			    i, a);
			goto out;
		}
	}
	if (tp.ciphers != NULL || tp.min_version != HF_TLS_V1_2 || tp.max_version != HF_TLS_V1_3) {
		bad(t, p, "tls_params: not supported on upstream connections yet");
		goto out;
	}
	mt = mc->up_tls = calloc(1, sizeof(*mt));
	if (mt == NULL) {
		nomem(t);
		goto out;
	}
	mt->mode = tp.has_cert ? HF_TLS_MUTUAL : HF_TLS_SIMPLE;
	mc->tls_mode = mt->mode;
	if (u->sni[0] != '\0' && (mt->sni = sdup(t, u->sni)) == NULL)
		goto out;
	/* Without a validation context Envoy does not verify the server: neither does this. */
	mt->insecure_skip_verify = !tp.has_ca;
	mt->ca_pem = tp.ca;
	mt->ca_len = tp.ca_len;
	mt->n_sans = tp.n_sans;
	mt->sans = tp.sans;
	mt->cert_pem = tp.cert;
	mt->cert_len = tp.cert_len;
	mt->key_pem = tp.key;
	mt->key_len = tp.key_len;
	tp.ca = tp.cert = tp.key = NULL;
	tp.sans = NULL;
	tp.n_sans = 0;
out:
	parts_free(&tp);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	return t->rc;
}
