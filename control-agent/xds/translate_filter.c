/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP filters an HttpConnectionManager may list besides the router, and
 * their per-route configurations (typed_per_filter_config), into the model:
 * envoy.filters.http.fault (HTTPFault: a fixed delay and an HTTP abort, each
 * with its percentage) and envoy.filters.http.cors (CorsPolicy), the two Istio
 * writes for a VirtualService's fault and corsPolicy. A filter or per-route
 * configuration of any other name is skipped when it is marked optional and
 * refused otherwise, naming it.
 */
#include "control-agent/xds/translate-int.h"

#define FAULT "envoy.filters.http.fault"
#define CORS  "envoy.filters.http.cors"

double
hf_xds_tr_percent(const Envoy__Type__V3__FractionalPercent *f)
{
	double d = 100, p;

	if (f == NULL)
		return 0;
	if (f->denominator == ENVOY__TYPE__V3__FRACTIONAL_PERCENT__DENOMINATOR_TYPE__TEN_THOUSAND)
		d = 10000;
	else if (f->denominator == ENVOY__TYPE__V3__FRACTIONAL_PERCENT__DENOMINATOR_TYPE__MILLION)
		d = 1000000;
	/* A numerator above the denominator means always (Envoy's FractionalPercent). */
	p = f->numerator * 100.0 / d;
	return p > 100 ? 100 : p;
}

int
hf_xds_tr_http_filter(struct tr *t,
                      const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter
                              *f,
                      const char *at)
{
	ProtobufCMessage *m;
	char p[PATH];

	path(p, sizeof(p), "%s.typed_config", at);
	if ((strcmp(f->name, FAULT) == 0 || strcmp(f->name, CORS) == 0) && f->typed_config == NULL)
		return bad(t, at, "HTTP filter '%s' has no typed_config", f->name);
	if (strcmp(f->name, FAULT) == 0) {
		/*
		 * The filter's own configuration would fault every route; Istio leaves it
		 * empty and configures each route. Only that is taken.
		 */
		m = unpack_any(t, f->typed_config,
		               &envoy__extensions__filters__http__fault__v3__httpfault__descriptor, p);
		if (m != NULL && only(t, m, p, (const char *const[]){NULL}) != 0)
			bad(t, p, "a fault on every route is not supported: configure it per route "
			          "(typed_per_filter_config)");
	} else if (strcmp(f->name, CORS) == 0) {
		m = unpack_any(t, f->typed_config,
		               &envoy__extensions__filters__http__cors__v3__cors__descriptor, p);
		if (m != NULL)
			only(t, m, p, (const char *const[]){NULL});
	} else {
		return f->is_optional ? 1
		                      : bad(t, at,
		                            "HTTP filter '%s' is not supported (mark it is_optional to "
		                            "skip it)",
		                            f->name);
	}
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	return t->rc;
}

static int
fault(struct tr *t, const Envoy__Extensions__Filters__Http__Fault__V3__HTTPFault *hf,
      const char *at, struct hf_model_route *r)
{
	char p[PATH];

	if (ONLY(t, hf, at, "delay", "abort") != 0)
		return t->rc;
	if (hf->delay == NULL && hf->abort == NULL)
		return bad(t, at, "needs delay or abort");
	if (hf->delay != NULL) {
		path(p, sizeof(p), "%s.delay", at);
		if (ONLY(t, hf->delay, p, "fixed_delay", "percentage") != 0)
			return t->rc;
		if (hf->delay->fault_delay_secifier_case !=
		    ENVOY__EXTENSIONS__FILTERS__COMMON__FAULT__V3__FAULT_DELAY__FAULT_DELAY_SECIFIER_FIXED_DELAY)
			return bad(t, p, "needs fixed_delay");
		r->fault.delay_ms = duration_ms(hf->delay->fixed_delay);
		/* No percentage: no request is delayed (the message's default, 0%). */
		r->fault.delay_percent = hf_xds_tr_percent(hf->delay->percentage);
	}
	if (hf->abort != NULL) {
		path(p, sizeof(p), "%s.abort", at);
		if (ONLY(t, hf->abort, p, "http_status", "percentage") != 0)
			return t->rc;
		if (hf->abort->error_type_case !=
		            ENVOY__EXTENSIONS__FILTERS__HTTP__FAULT__V3__FAULT_ABORT__ERROR_TYPE_HTTP_STATUS ||
		    hf->abort->http_status < 200 || hf->abort->http_status > 599)
			return bad(t, p, "needs an http_status between 200 and 599");
		r->fault.abort_status = (uint16_t)hf->abort->http_status;
		r->fault.abort_percent = hf_xds_tr_percent(hf->abort->percentage);
	}
	return t->rc;
}

static int
cors(struct tr *t, const Envoy__Extensions__Filters__Http__Cors__V3__CorsPolicy *c,
     const char *at, struct hf_model_cors *o)
{
	char p[PATH], *end;
	unsigned long age;

	if (ONLY(t, c, at, "allow_origin_string_match", "allow_methods", "allow_headers",
	         "expose_headers", "max_age", "allow_credentials") != 0)
		return t->rc;
	o->enabled = true;
	o->origins = calloc(c->n_allow_origin_string_match + 1, sizeof(*o->origins));
	if (o->origins == NULL)
		return nomem(t);
	for (size_t i = 0; i < c->n_allow_origin_string_match && t->rc == 0; i++) {
		path(p, sizeof(p), "%s.allow_origin_string_match[%zu]", at, i);
		o->n_origins++;
		hf_xds_tr_string_matcher(t, c->allow_origin_string_match[i], p,
		                         &o->origins[i]);
	}
	if (c->allow_methods[0] != '\0')
		o->allow_methods = sdup(t, c->allow_methods);
	if (c->allow_headers[0] != '\0')
		o->allow_headers = sdup(t, c->allow_headers);
	if (c->expose_headers[0] != '\0')
		o->expose_headers = sdup(t, c->expose_headers);
	if (c->max_age[0] != '\0') {
		/* Envoy's max_age: seconds, as the access-control-max-age value (RFC 9110 digits). */
		errno = 0;
		age = strtoul(c->max_age, &end, 10);
		if (*end != '\0' || c->max_age[0] < '0' || c->max_age[0] > '9' || errno != 0 ||
		    age > UINT32_MAX)
			return bad(t, at, "max_age '%s' is not a number of seconds", c->max_age);
		o->max_age_s = (uint32_t)age;
	}
	o->allow_credentials = c->allow_credentials != NULL && c->allow_credentials->value;
	return t->rc;
}

int
hf_xds_tr_per_filter(struct tr *t, const char *key, const Google__Protobuf__Any *any,
                     const char *at, struct hf_model_route *r)
{
	const Google__Protobuf__Any *cfg = any;
	Envoy__Config__Route__V3__FilterConfig *fc = NULL;
	ProtobufCMessage *m = NULL;
	const char *slash;
	char p[PATH];

	if (any == NULL)
		return bad(t, at, "no configuration");
	/* A FilterConfig wrapper says whether the filter may be missing (is_optional). */
	slash = strrchr(any->type_url, '/');
	if (strcmp(slash != NULL ? slash + 1 : any->type_url,
	           envoy__config__route__v3__filter_config__descriptor.name) == 0) {
		fc = (void *)unpack_any(t, any, &envoy__config__route__v3__filter_config__descriptor,
		                        at);
		if (fc == NULL || ONLY(t, fc, at, "config", "is_optional") != 0)
			goto out;
		cfg = fc->config;
		if (cfg == NULL) {
			bad(t, at, "FilterConfig without config");
			goto out;
		}
	}
	path(p, sizeof(p), "%s.typed_config", at);
	if (strcmp(key, FAULT) == 0) {
		m = unpack_any(t, cfg, &envoy__extensions__filters__http__fault__v3__httpfault__descriptor,
		               p);
		if (m != NULL)
			fault(t, (void *)m, p, r);
	} else if (strcmp(key, CORS) == 0) {
		m = unpack_any(t, cfg,
		               &envoy__extensions__filters__http__cors__v3__cors_policy__descriptor, p);
		if (m != NULL) {
			/* A route's own policy replaces its virtual host's (Envoy: most specific). */
			hf_model_cors_free(&r->cors);
			cors(t, (void *)m, p, &r->cors);
		}
	} else if (fc == NULL || !fc->is_optional) {
		bad(t, at,
		    "per-route configuration of HTTP filter '%s' is not supported (wrap it in an "
		    "optional FilterConfig to skip it)",
		    key);
	}
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	if (fc != NULL)
		protobuf_c_message_free_unpacked(&fc->base, NULL);
	return t->rc;
}
