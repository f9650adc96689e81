/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ISTIO_H
#define HF_ISTIO_H

/*
 * Istio YAML in, model out: the loader reads networking.istio.io v1alpha3,
 * v1beta1 and v1 resources (Gateway, VirtualService, DestinationRule,
 * ServiceEntry, WorkloadEntry) as `kubectl apply` would take them, validates
 * them as Istio's validation would, and translates them as Pilot does for a
 * gateway proxy whose labels are the node's labels.
 *
 * What Pilot would do and this does too: short hosts resolved in the
 * resource's namespace (reviews -> reviews.<ns>.svc.cluster.local, and
 * "reviews.ns" when ns is a namespace of the configuration); clusters
 * outbound|<port>|<subset>|<fqdn>, one per service port and per subset;
 * listeners 0.0.0.0_<port> with route configurations http.<port>; routes
 * without `retries` get Istio's default policy (2 retries on connect
 * failure, refused stream and 503); clusters without a load balancer get
 * Istio's default, LEAST_REQUEST.
 * Where it differs: ServiceEntry short hosts are resolved like every other
 * host (Istio takes them as written, so a VirtualService's "reviews" would
 * not find them); resolution NONE without endpoints is a PASSTHROUGH cluster.
 * HTTPS servers with tls.mode SIMPLE become HTTP listeners with TLS in front
 * (credentialName or serverCertificate/privateKey; min/maxProtocolVersion;
 * cipherSuites), several on one port told apart by SNI; TLS servers with
 * SIMPLE or MUTUAL put TLS in front of their tcp routes; PASSTHROUGH servers
 * (TLS or HTTPS; no mode is PASSTHROUGH) become TLS listeners whose
 * VirtualService tls routes are picked by SNI.
 * Refused, each by field name: other tls modes, passthrough and terminated
 * servers on one port, names to
 * resolve by DNS, IPv6, and every Istio field the snapshot has no place for
 * (DestinationRule tls modes but DISABLE, outlierDetection, connection pool
 * limits, consistentHash, delegate, mirrors, sourceLabels, ...). Values that
 * go onto the wire as written (header operations, rewrites, redirects, CORS)
 * are checked against the grammar of where they go (values.c).
 *
 * Agent side only (allocates, reads files); never called by a worker.
 */
#include <stddef.h>
#include <stdint.h>

#include "control-agent/model/model.h"

/* Room enough for one error line with a long field path. */
#define HF_ISTIO_ERR 512

/*
 * Loads @p path: a directory (every *.yaml and *.yml file directly in it, in
 * name order; sub-directories are not read) or one file. Files may hold
 * several documents separated by `---`; empty documents are skipped.
 * @p node_labels are the gateway's own labels, "key=value" each; Gateways
 * whose selector they satisfy become listeners.
 *
 * Returns 0 with @p m filled (its previous content is overwritten, not
 * freed; release it with hf_model_free()), or a negative errno with @p m
 * zeroed (nothing allocated) and one line in @p err:
 *   -EINVAL  "FILE:LINE: Kind namespace/name: field.path: what is wrong"
 *   -ENOENT  "PATH: cannot read: <strerror>" (missing or unreadable path)
 *   -ENOMEM  "PATH: out of memory"
 */
int hf_istio_load(const char *path, const char *const *node_labels, unsigned int n_labels,
		  struct hf_model *m, char *err, size_t errlen);

/*
 * hf_istio_load() with the credentials directory of the bootstrap
 * (config.credentials_dir; NULL or "": none), where a Gateway server's
 * tls.credentialName NAME is the folder NAME holding tls.crt and tls.key, as
 * a Kubernetes TLS secret is mounted. Certificates and keys are read and
 * checked here (agent side): a missing file, a key that does not match, an
 * unknown cipher suite is refused with the YAML's file and line.
 */
int hf_istio_load_creds(const char *path, const char *const *node_labels, unsigned int n_labels,
			const char *credentials_dir, struct hf_model *m, char *err, size_t errlen);

/* The node's mesh identity (the bootstrap's identity block): files in Istio's layout. */
struct hf_istio_identity {
	const char *spiffe;		/* spiffe://<trust domain>/ns/<ns>/sa/<sa> */
	const char *trust_domain;
	const char *cert_chain;		/* PEM files, read at each load */
	const char *key;
	const char *root_cert;
};

/*
 * hf_istio_load_creds() with the node's mesh identity @p id (NULL: none), which
 * DestinationRule tls.mode ISTIO_MUTUAL presents to upstreams and Gateway
 * servers with tls.mode ISTIO_MUTUAL serve, trusting its root_cert.
 */
int hf_istio_load_mesh(const char *path, const char *const *node_labels, unsigned int n_labels,
		       const char *credentials_dir, const struct hf_istio_identity *id,
		       struct hf_model *m, char *err, size_t errlen);

/*
 * What the loader keeps between loads of one directory (agent side): the
 * parsed YAML of each file, keyed by its path and its bytes, so a reload
 * parses only the files that changed, and in those only the documents that
 * changed (in a long list of routes, only the routes that changed); and the http routes each
 * VirtualService became, reused while its document and everything else it
 * may depend on (every other resource, the namespaces) are unchanged, so a
 * change to one VirtualService among many translates that one. A file that
 * is gone, or was not read by the last load, is forgotten, and so is a
 * translation the last load did not use.
 */
struct hf_istio_cache;

/* NULL when out of memory. */
struct hf_istio_cache *hf_istio_cache_new(void);
void hf_istio_cache_free(struct hf_istio_cache *c);

/* Where one load spent its time, and how much it could reuse. */
struct hf_istio_stats {
	uint64_t read_us;		/* reading and comparing the files' bytes */
	uint64_t parse_us;		/* YAML into trees (files not in the cache) */
	uint64_t translate_us;		/* trees into the model: checks, binding, clusters */
	unsigned int files;		/* YAML files read */
	unsigned int files_parsed;	/* of those, parsed (the others came from the cache) */
	/*
	 * Documents of the files parsed: parsed whole, and rebuilt from their
	 * earlier tree by re-parsing only the items of a long list whose bytes
	 * changed (the others came from the cache unparsed). A file read
	 * whole (one the loader cannot split safely) counts no document.
	 */
	unsigned int docs_parsed;
	unsigned int docs_spliced;
	unsigned int vs_reused;		/* VirtualServices whose http routes came from the cache */
};

/* Who the node is, for what selects it (Gateways, AuthorizationPolicies). */
struct hf_istio_node {
	const char *const *labels;	/* "key=value" each */
	unsigned int n_labels;
	const char *credentials_dir;	/* NULL or "": none */
	const struct hf_istio_identity *identity;	/* NULL: none */
	const char *ns;			/* the node's namespace; NULL or "": "default" */
	const char *root_ns;		/* meshConfig.rootNamespace; NULL or "": "istio-system" */
	uint32_t xff_trusted_hops;	/* x-forwarded-for hops trusted for remote.ip (struct hf_authz) */
	struct hf_istio_cache *cache;	/* parsed files kept from load to load; NULL: none */
	struct hf_istio_stats *stats;	/* filled when not NULL */
};

/*
 * hf_istio_load_mesh() for node @p node, with security.istio.io
 * AuthorizationPolicies (v1, v1beta1) too: every one is checked, and those
 * selecting the node (control-agent/istio/authz.c) become m->authz (NULL
 * when none does).
 */
int hf_istio_load_node(const char *path, const struct hf_istio_node *node, struct hf_model *m,
		       char *err, size_t errlen);

#endif
