/* SPDX-License-Identifier: Apache-2.0 */
/* clang-format off: the fuzzes: and fuzz-flags: lines are read one by one by scripts/test.sh */
/*
 * libFuzzer target for the xDS translation: what a control plane sends is
 * untrusted. The first byte picks the resource type (Listener,
 * RouteConfiguration, Cluster, ClusterLoadAssignment), the rest is the
 * resource's protobuf encoding, unpacked as the client does and translated
 * into a model. The verdict is 0, or -EINVAL with one line (the NACK's
 * error_detail): non-empty, NUL-terminated within the buffer, no control
 * byte. A translated resource must hold what the model promises (names,
 * ports, endpoint counts); the model is freed (LSan watches).
 * fuzzes: control-agent/xds/translate.c control-agent/xds/translate_route.c
 * fuzzes: control-agent/model/model.c
 * fuzz-flags: -I$BUILD/control-agent/xds -I$BUILD/control-agent/xds/pb
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $BUILD/control-agent/xds/libhf_xds_pb.a $(pkg-config --libs libprotobuf-c)
 * fuzz-flags: $BUILD/control-agent/libhf_agent.a $BUILD/dataplane/libhf_dataplane.a $BUILD/lb/libhf_lb.a
 * fuzz-flags: $BUILD/tls/libhf_tls.a $(pkg-config --libs libdpdk libconfig libhs libpcre2-8 openssl) -lm
 */
/* clang-format on */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/xds/translate.h"

static const ProtobufCMessageDescriptor *const types[] = {
        &envoy__config__listener__v3__listener__descriptor,
        &envoy__config__route__v3__route_configuration__descriptor,
        &envoy__config__cluster__v3__cluster__descriptor,
        &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
        &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
};

static void
check_err(int rc, const char *err, size_t len)
{
	if (rc == 0)
		return;
	if (rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (memchr(err, '\0', len) == NULL || err[0] == '\0')
		abort();
	for (const char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	char err[512], *ref = NULL;
	ProtobufCMessage *msg;
	unsigned int t;
	int rc;

	if (size < 1)
		return 0;
	t = data[0] % 5;
	msg = protobuf_c_message_unpack(types[t], NULL, size - 1, data + 1);
	if (msg == NULL)
		return 0;
	memset(err, 0x7f, sizeof(err));
	switch (t) {
	case 0:
		rc = hf_xds_tr_listener((const void *)msg, &m, &ref, &sds, err, sizeof(err));
		if (rc == 0 && (m.n_listeners != 1 || m.listeners[0].port == 0 ||
		                (m.listeners[0].kind == HF_LISTENER_HTTP &&
		                 (ref == NULL) == (m.listeners[0].route_config < 0))))
			abort();
		break;
	case 1:
		rc = hf_xds_tr_route_config((const void *)msg, &m, err, sizeof(err));
		if (rc == 0 && m.n_route_configs != 1)
			abort();
		break;
	case 2:
		rc = hf_xds_tr_cluster((const void *)msg, &m, &ref, &sds, err, sizeof(err));
		if (rc == 0 && (m.n_clusters != 1 || m.clusters[0].name == NULL))
			abort();
		break;
	case 4: rc = hf_xds_tr_secret((const void *)msg, err, sizeof(err)); break;
	default:
		m.clusters = calloc(1, sizeof(*m.clusters));
		if (m.clusters == NULL)
			abort();
		m.n_clusters = 1;
		rc = hf_xds_tr_endpoints((const void *)msg, &m.clusters[0], err, sizeof(err));
		for (unsigned int i = 0; rc == 0 && i < m.clusters[0].n_endpoints; i++)
			if (m.clusters[0].endpoints[i].port == 0 ||
			    m.clusters[0].endpoints[i].weight == 0)
				abort();
		break;
	}
	check_err(rc, err, sizeof(err));
	free(ref);
	for (unsigned int i = 0; i < sds.n; i++)
		free(sds.names[i]);
	free(sds.names);
	hf_model_free(&m);
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}
