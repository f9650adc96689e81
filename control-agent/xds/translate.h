/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_TRANSLATE_H
#define HF_XDS_TRANSLATE_H

/*
 * Envoy v3 resources (protobuf-c messages) into the agent's model, the same
 * model the Istio YAML path produces. Every field a resource sets must be one
 * this translation implements: anything else is refused with the field's
 * path, which the client sends back as the NACK's error_detail. Nothing is
 * silently ignored.
 *
 * Each function returns 0, -EINVAL with one line in @p err ("field.path: what
 * is wrong"), or -ENOMEM. On error, what was appended to the model stays there
 * and belongs to it (free the model).
 */
#include <stddef.h>

#include "control-agent/model/model.h"
#include "xds_pb.h"

/* Type URLs of the resources (the Any's type_url and the DiscoveryRequest's type_url). */
#define HF_XDS_TYPE_PREFIX "type.googleapis.com/"
#define HF_XDS_LDS         HF_XDS_TYPE_PREFIX "envoy.config.listener.v3.Listener"
#define HF_XDS_RDS         HF_XDS_TYPE_PREFIX "envoy.config.route.v3.RouteConfiguration"
#define HF_XDS_CDS         HF_XDS_TYPE_PREFIX "envoy.config.cluster.v3.Cluster"
#define HF_XDS_EDS         HF_XDS_TYPE_PREFIX "envoy.config.endpoint.v3.ClusterLoadAssignment"
#define HF_XDS_SDS         HF_XDS_TYPE_PREFIX "envoy.extensions.transport_sockets.tls.v3.Secret"

/*
 * The Secret resources a translation reads TLS certificates and validation
 * contexts from (SDS over the ADS stream), and the names it referenced.
 * With find NULL (a resource checked alone, before its secrets are known)
 * the TLS contexts are shaped but not filled; the names are collected still.
 */
struct hf_xds_sds {
	/* The secret named @p name, NULL when not held. */
	const Envoy__Extensions__TransportSockets__Tls__V3__Secret *(*find)(void *ctx,
	                                                                    const char *name);
	void *ctx;
	unsigned int n; /* out: the secrets referenced, each once; the caller frees them */
	char **names;
};

/*
 * Makes @p s one printable line in place: the names and strings of a resource
 * come from the control plane and end up in logs and error_detail; control
 * bytes become '?'.
 */
static inline void
hf_xds_one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * Appends listener @p l to @p m. An HTTP listener with RDS gets route_config
 * -1 and *@p rds the route configuration's name (owned by the caller's free()),
 * to be resolved once it is known; with an inline route_config the route
 * configuration is appended to @p m and *@p rds stays NULL.
 */
int hf_xds_tr_listener(const Envoy__Config__Listener__V3__Listener *l, struct hf_model *m,
                       char **rds, struct hf_xds_sds *sds, char *err, size_t errlen);

/* Appends route configuration @p rc to @p m. */
int hf_xds_tr_route_config(const Envoy__Config__Route__V3__RouteConfiguration *rc,
                           struct hf_model *m, char *err, size_t errlen);

/*
 * Appends cluster @p c to @p m, with the endpoints of its load_assignment for
 * STATIC; an EDS cluster gets none and *@p eds the name its endpoints come by
 * (eds_cluster_config.service_name, else the cluster's name; caller frees).
 */
int hf_xds_tr_cluster(const Envoy__Config__Cluster__V3__Cluster *c, struct hf_model *m, char **eds,
                      struct hf_xds_sds *sds, char *err, size_t errlen);

/*
 * Checks Secret @p s alone: a tls_certificate (inline certificate chain and
 * private key that match) or a validation_context (inline trusted_ca, exact
 * SANs). TLS of listeners (a filter chain's transport_socket) and clusters
 * is read with their translation, through struct hf_xds_sds.
 */
int hf_xds_tr_secret(const Envoy__Extensions__TransportSockets__Tls__V3__Secret *s, char *err,
                     size_t errlen);

/*
 * Sets the endpoints of @p mc from @p cla (replacing any). Endpoints whose
 * health_status is UNHEALTHY, DRAINING, TIMEOUT or DEGRADED are left out, as
 * Envoy routes to none of them while healthy ones exist.
 */
int hf_xds_tr_endpoints(const Envoy__Config__Endpoint__V3__ClusterLoadAssignment *cla,
                        struct hf_model_cluster *mc, char *err, size_t errlen);

/*
 * What this node's data plane applies to every listener the configuration
 * opens (the bootstrap's http.path_normalization, http.xff_num_trusted_hops
 * and the Istio listeners' idle timeout): one setting for all of them, so an
 * HttpConnectionManager asking for another value is NACKed by field rather
 * than taken and not applied. Until it is called (unit tests of the mapping)
 * any value is taken.
 */
void hf_xds_translate_node_http(enum hf_path_mode path, uint32_t xff_hops, uint32_t idle_ms);

#endif
