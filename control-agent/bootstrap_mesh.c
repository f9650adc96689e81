/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootstrap's mesh membership (bootstrap.c reads the rest): where the
 * dynamic configuration comes from and how the node presents itself there,
 *
 *   xds:      { address; port; node_id; cluster; api_type; initial_fetch_timeout_ms;
 *               tls; tls_san; metadata = { the keys istiod reads }; }
 *   identity: { trust_domain; namespace; service_account; cert_chain; key; root_cert; }
 *
 * and the node's SPIFFE identity, its files read and checked to match.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "control-agent/bootstrap-int.h"
#include "control-agent/file.h"
#include "control-agent/bootstrap.h"
#include "control-agent/cfg.h"
#include "dataplane/net/addr.h"
#include "tls/tls.h"

/* The node metadata istiod reads (pilot/pkg/model/context.go NodeMetadata); LABELS come from node.labels. */
static const char *const xds_meta_keys[] = {"ISTIO_VERSION", "CLUSTER_ID", "NAMESPACE", "INSTANCE_IPS",
					    "SERVICE_ACCOUNT", "WORKLOAD_NAME", "MESH_ID", "NAME", NULL};

static const char *
xds_meta(const struct hf_boot_xds *x, const char *key)
{
	for (unsigned int i = 0; i < x->n_meta; i++)
		if (strcmp(x->meta_key[i], key) == 0)
			return x->meta_val[i];
	return NULL;
}

/*
 * xds = { address = "IPv4"; port = N; node_id = "..."; cluster = "..."; metadata = { KEY = "value"; } }
 * See struct hf_boot_xds. The node id, when not given, is istiod's form built from the metadata.
 */
int
hf_boot_load_xds(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"address", "port", "node_id", "cluster", "metadata",
					   "api_type", "initial_fetch_timeout_ms", "tls", "tls_san",
					   "request_headers_timeout_ms", "idle_timeout_ms",
					   "max_request_headers_kb", "max_headers_count",
					   "max_request_line", NULL};
	char api[16] = "GRPC";
	long long fetch_ms = 15000;
	struct hf_boot_xds *x = &b->xds;
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "xds", CONFIG_TYPE_GROUP, 0, &rc), *md;
	long long port = 0;
	const char *ip, *name, *ns;

	if (g == NULL)
		return rc;
	if ((rc = hf_cfg_check_keys(c, g, "xds", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "xds", "address", x->address, sizeof(x->address), 1)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "xds", "port", 1, 65535, &port, 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "xds", "node_id", x->node_id, sizeof(x->node_id), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "xds", "cluster", x->cluster, sizeof(x->cluster), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "xds", "api_type", api, sizeof(api), 0)) != 0 ||
	    (rc = hf_cfg_get_int(c, g, "xds", "initial_fetch_timeout_ms", 0, 3600000, &fetch_ms,
				 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "xds", "tls_san", x->tls_san, sizeof(x->tls_san), 0)) != 0 ||
	    (rc = hf_boot_load_http_settings(c, g, "xds", &b->istio_http)) != 0)
		return rc;
	md = config_setting_get_member(g, "tls");
	if (md != NULL && config_setting_type(md) != CONFIG_TYPE_BOOL)
		return hf_cfg_fail(c, md, "xds.tls", "must be true or false (true: the channel runs "
			    "over TLS with the identity block's certificate, istiod's 15012 style)");
	x->tls = md != NULL && config_setting_get_bool(md);
	if (x->tls_san[0] != '\0' && !x->tls)
		return hf_cfg_fail(c, config_setting_get_member(g, "tls_san"), "xds.tls_san",
			    "set without xds.tls = true: the plaintext channel has no certificate "
			    "to check");
	/* Envoy's ApiConfigSource.api_type names: state of the world or incremental ADS */
	if (strcmp(api, "GRPC") != 0 && strcmp(api, "DELTA_GRPC") != 0)
		return hf_cfg_fail(c, config_setting_get_member(g, "api_type"), "xds.api_type",
			    "'%s': want GRPC (state of the world) or DELTA_GRPC (incremental)", api);
	x->delta = strcmp(api, "DELTA_GRPC") == 0;
	/* Envoy's ConfigSource.initial_fetch_timeout: 15 s by default, 0 waits forever */
	x->initial_fetch_timeout_ms = (uint32_t)fetch_ms;
	if (hf_addr_parse_ipv4(x->address, &x->addr, NULL) != 0)
		return hf_cfg_fail(c, config_setting_get_member(g, "address"), "xds.address",
			    "'%s' is not an IPv4 address", x->address);
	if (b->istio_dir[0] != '\0')
		return hf_cfg_fail(c, g, "xds", "config.istio_dir is set too: pick one source of "
			    "dynamic configuration (xDS or the Istio directory)");
	md = hf_cfg_member(c, g, "xds", "metadata", CONFIG_TYPE_GROUP, 0, &rc);
	if (rc != 0 || (md != NULL && (rc = hf_cfg_check_keys(c, md, "xds.metadata", xds_meta_keys)) != 0))
		return rc;
	for (int i = 0; md != NULL && i < config_setting_length(md); i++) {
		const config_setting_t *e = config_setting_get_elem(md, (unsigned int)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL || strlen(v) >= HF_BOOT_STR)
			return hf_cfg_fail(c, e, "xds.metadata", "%s: want a string shorter than %d",
				    config_setting_name(e), HF_BOOT_STR);
		snprintf(x->meta_key[x->n_meta], sizeof(x->meta_key[0]), "%s", config_setting_name(e));
		snprintf(x->meta_val[x->n_meta], sizeof(x->meta_val[0]), "%s", v);
		x->n_meta++;
	}
	if (x->cluster[0] == '\0')
		snprintf(x->cluster, sizeof(x->cluster), "%s", b->node_cluster);
	if (x->node_id[0] == '\0') {
		ip = xds_meta(x, "INSTANCE_IPS");
		name = xds_meta(x, "NAME");
		ns = xds_meta(x, "NAMESPACE");
		if (ip == NULL || name == NULL || ns == NULL)
			return hf_cfg_fail(c, g, "xds.node_id", "not given, and metadata lacks "
				    "INSTANCE_IPS, NAME or NAMESPACE to make istiod's "
				    "router~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local");
		snprintf(x->node_id, sizeof(x->node_id), "router~%.*s~%s.%s~%s.svc.cluster.local",
			 (int)strcspn(ip, ","), ip, name, ns, ns);
	}
	x->port = (uint16_t)port;
	return 0;
}

/* A SPIFFE path segment: a Kubernetes name (RFC 1123 label characters). */
static bool
spiffe_segment_ok(const char *s, bool dots)
{
	if (s[0] == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      (dots && *p == '.')))
			return false;
	return true;
}

/*
 * identity = { trust_domain; namespace; service_account; cert_chain; key; root_cert; }:
 * the SPIFFE ID spiffe://<trust_domain>/ns/<namespace>/sa/<service_account>, and the files
 * read and checked now (the chain's leaf carries that ID as a URI SAN, the key is its own,
 * the chain verifies to root_cert), so a node never starts with an identity its peers refuse.
 */
int
hf_boot_load_identity(struct hf_cfg *c, const config_setting_t *root, struct hf_bootstrap *b)
{
	static const char *const keys[] = {"trust_domain", "namespace", "service_account",
					   "cert_chain", "key", "root_cert", NULL};
	struct hf_boot_identity *id = &b->identity;
	char *pem[3] = {NULL, NULL, NULL}, msg[256];
	const char *files[3] = {id->cert_chain, id->key, id->root_cert};
	static const char *const names[3] = {"identity.cert_chain", "identity.key",
					     "identity.root_cert"};
	size_t len[3] = {0, 0, 0};
	int rc = 0;
	const config_setting_t *g = hf_cfg_member(c, root, "", "identity", CONFIG_TYPE_GROUP, 0, &rc);

	if (g == NULL)
		return rc;
	snprintf(id->trust_domain, sizeof(id->trust_domain), "cluster.local");
	if ((rc = hf_cfg_check_keys(c, g, "identity", keys)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "trust_domain", id->trust_domain,
				    sizeof(id->trust_domain), 0)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "namespace", id->ns, sizeof(id->ns), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "service_account", id->service_account,
				    sizeof(id->service_account), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "cert_chain", id->cert_chain,
				    sizeof(id->cert_chain), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "key", id->key, sizeof(id->key), 1)) != 0 ||
	    (rc = hf_cfg_get_string(c, g, "identity", "root_cert", id->root_cert,
				    sizeof(id->root_cert), 1)) != 0)
		return rc;
	if (!spiffe_segment_ok(id->trust_domain, true))
		return hf_cfg_fail(c, config_setting_get_member(g, "trust_domain"),
				   "identity.trust_domain", "'%s' is not a trust domain (lower-case "
				   "DNS name)", id->trust_domain);
	if (!spiffe_segment_ok(id->ns, false) || !spiffe_segment_ok(id->service_account, true))
		return hf_cfg_fail(c, g, "identity", "namespace '%s' and service_account '%s' must "
				   "be Kubernetes names (a-z, 0-9, '-')", id->ns, id->service_account);
	snprintf(id->spiffe, sizeof(id->spiffe), "spiffe://%s/ns/%s/sa/%s", id->trust_domain, id->ns,
		 id->service_account);
	for (int i = 0; i < 3 && rc == 0; i++) {
		rc = hf_file_read(files[i], &pem[i], &len[i]);
		if (rc < 0)
			rc = hf_cfg_fail(c, config_setting_get_member(g, names[i] + 9), names[i],
					 "cannot read '%s': %s", files[i], strerror(-rc));
	}
	if (rc == 0 && hf_tls_identity_check(pem[0], (uint32_t)len[0], pem[1], (uint32_t)len[1],
					     pem[2], (uint32_t)len[2], id->spiffe, msg,
					     sizeof(msg)) != 0)
		rc = hf_cfg_fail(c, g, "identity", "%s", msg);
	for (int i = 0; i < 3; i++) {
		if (pem[i] != NULL)
			explicit_bzero(pem[i], len[i]);
		free(pem[i]);
	}
	if (rc != 0)
		id->spiffe[0] = '\0';
	return rc;
}
