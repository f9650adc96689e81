/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TEST_XDS_LISTENER_H
#define HF_TEST_XDS_LISTENER_H

/*
 * What the xDS unit tests share: packing a message into an Any, and an HTTP
 * listener (one filter chain, an HCM with RDS and the router) to vary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"

/* Packs @p m into @p any (type URL from its descriptor, in a ring of 64: a test packs fewer). */
static inline void
pack(Google__Protobuf__Any *any, const ProtobufCMessage *m)
{
	static char urls[64][200];
	static int n;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len + 1);

	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	google__protobuf__any__init(any);
	snprintf(urls[n % 64], sizeof(urls[0]), "type.googleapis.com/%s", m->descriptor->name);
	any->type_url = urls[n++ % 64];
	any->value.data = buf;
	any->value.len = len;
}

/* An HTTP listener on @p port with RDS @p rds; @p tweak may change the HCM before packing. */
struct http_listener {
	Envoy__Config__Listener__V3__Listener l;
	Envoy__Config__Core__V3__Address addr;
	Envoy__Config__Core__V3__SocketAddress sa;
	Envoy__Config__Listener__V3__FilterChain fc, *pfc[2];
	Envoy__Config__Listener__V3__Filter f, *pf[1];
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager h;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__Rds rds;
	Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter hf, *phf[1];
	Envoy__Extensions__Filters__Http__Router__V3__Router router;
	Google__Protobuf__Any hcm_any, router_any;
};

static inline void
http_listener(struct http_listener *x, uint32_t port, const char *rds)
{
	memset(x, 0, sizeof(*x));
	envoy__config__listener__v3__listener__init(&x->l);
	envoy__config__core__v3__address__init(&x->addr);
	envoy__config__core__v3__socket_address__init(&x->sa);
	envoy__config__listener__v3__filter_chain__init(&x->fc);
	envoy__config__listener__v3__filter__init(&x->f);
	envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__init(
	        &x->h);
	envoy__extensions__filters__network__http_connection_manager__v3__rds__init(&x->rds);
	envoy__extensions__filters__network__http_connection_manager__v3__http_filter__init(&x->hf);
	envoy__extensions__filters__http__router__v3__router__init(&x->router);
	x->l.name = "http_80";
	x->sa.address = "0.0.0.0";
	x->sa.port_specifier_case =
	        ENVOY__CONFIG__CORE__V3__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
	x->sa.port_value = port;
	x->addr.address_case = ENVOY__CONFIG__CORE__V3__ADDRESS__ADDRESS_SOCKET_ADDRESS;
	x->addr.socket_address = &x->sa;
	x->l.address = &x->addr;
	x->rds.route_config_name = (char *)rds;
	x->h.stat_prefix = "http";
	x->h.route_specifier_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__ROUTE_SPECIFIER_RDS;
	x->h.rds = &x->rds;
	pack(&x->router_any, &x->router.base);
	x->hf.name = "envoy.filters.http.router";
	x->hf.config_type_case =
	        ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_FILTER__CONFIG_TYPE_TYPED_CONFIG;
	x->hf.typed_config = &x->router_any;
	x->phf[0] = &x->hf;
	x->h.n_http_filters = 1;
	x->h.http_filters = x->phf;
	x->f.name = "envoy.filters.network.http_connection_manager";
	x->f.config_type_case = ENVOY__CONFIG__LISTENER__V3__FILTER__CONFIG_TYPE_TYPED_CONFIG;
	x->f.typed_config = &x->hcm_any;
	x->pf[0] = &x->f;
	x->fc.n_filters = 1;
	x->fc.filters = x->pf;
	x->pfc[0] = &x->fc;
	x->l.n_filter_chains = 1;
	x->l.filter_chains = x->pfc;
}

#endif
