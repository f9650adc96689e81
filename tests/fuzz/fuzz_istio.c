/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Istio configuration path as `hydrofoil --check`
 * runs it: the input is the one YAML file of the bootstrap's config.istio_dir,
 * loaded, translated and compiled by hf_config_build() (YAML reader, resource
 * validation, translation to the model, snapshot compiler with its Hyperscan
 * and PCRE2 matchers). The verdict is a snapshot, which must be coherent
 * (listener routes point at clusters it has) and free cleanly, or NULL with
 * one error line: non-empty, no control byte, no line break. No crash, no
 * read out of bounds, no leak (ASan, LSan).
 * fuzzes: control-agent/istio/[a-z]*.c control-agent/model/[a-z]*.c control-agent/compile/[a-z]*.c
 * fuzzes: control-agent/snapshot.c control-agent/config.c control-agent/strbuf.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $BUILD/control-agent/libhf_agent.a $BUILD/dataplane/libhf_dataplane.a
 * fuzz-flags: $BUILD/lb/libhf_lb.a
 * fuzz-flags: $(pkg-config --libs libdpdk libconfig libhs libpcre2-8 yaml-0.1) -lm
 * fuzz-flags: $BUILD/tls/libhf_tls.a $(pkg-config --libs openssl)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control-agent/config.h"
#include "dataplane/proxy/router.h"
#include "dataplane/snapshot-t.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[64], yaml[96];
static struct hf_bootstrap boot;

static void
remove_dir(void)
{
	unlink(yaml);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cfg[96], err[HF_BOOT_ERR];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/hf-fuzz-istio-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(yaml, sizeof(yaml), "%s/in.yaml", dir);
	/* The bootstrap sits beside the directory: the loader reads only *.yaml and *.yml. */
	snprintf(cfg, sizeof(cfg), "%s/boot.cfg", dir);
	f = fopen(cfg, "w");
	if (f == NULL)
		exit(1);
	fprintf(f, "node: { labels = [ \"istio=ingressgateway\", \"zone=a\", \"app=gw\" ]; };\n"
		   "ports = ( { name = \"p0\"; device = \"net_tap0\";\n"
		   "            address = \"198.51.100.2/24\"; } );\n"
		   "config: { istio_dir = \"%s\"; };\n", dir);
	fclose(f);
	if (hf_bootstrap_load(&boot, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_istio: %s\n", err);
		exit(1);
	}
	unlink(cfg);
	atexit(remove_dir);
	return 0;
}

/* RFC 9110 5.6.2 tchar */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A string that goes into a field value or a request line as it is: no CR, LF, NUL, control. */
static void
wire_safe(const char *v, size_t len, int allow_space)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			abort();
		if (!allow_space && (c == ' ' || c == '\t'))
			abort();
	}
}

static void
check_ops(const struct hf_route_hdr_op *ops, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct hf_route_hdr_op *o = &ops[i];

		if (o->op > HF_HDR_REMOVE || o->name_len == 0 || strlen(o->name) != o->name_len)
			abort();
		for (unsigned int k = 0; k < o->name_len; k++)
			if (!tchar((unsigned char)o->name[k]))
				abort();
		if (o->op != HF_HDR_REMOVE)
			wire_safe(o->value, o->value_len, 1);
	}
}

static void
check_cluster(const struct hf_snapshot *s, int k, int none_ok)
{
	if (!(k >= 0 && (unsigned int)k < s->n_clusters) && !(none_ok && k == -1))
		abort();
}

static void
check_route(const struct hf_snapshot *s, const struct hf_route *r)
{
	uint32_t w = 0;

	if (r->kind == HF_ROUTE_FORWARD)
		check_cluster(s, r->cluster, r->dests != NULL);
	for (unsigned int d = 0; r->dests != NULL && d < r->n_dests; d++) {
		check_cluster(s, r->dests[d].cluster, 0);
		if (r->dests[d].weight_end < w)
			abort();
		w = r->dests[d].weight_end;
		check_ops(r->dests[d].rq_ops, r->dests[d].n_rq_ops);
		check_ops(r->dests[d].rs_ops, r->dests[d].n_rs_ops);
	}
	if (r->dests != NULL && r->n_dests > 0 && w != r->total_weight)
		abort();
	check_cluster(s, r->mirror_cluster, 1);
	check_ops(r->rq_ops, r->n_rq_ops);
	check_ops(r->rs_ops, r->n_rs_ops);
	if (r->rewrite_uri != NULL)
		wire_safe(r->rewrite_uri, r->rewrite_uri_len, 0);
	if (r->rewrite_sub != NULL)
		wire_safe(r->rewrite_sub, r->rewrite_sub_len, 0);
	if (r->rewrite_authority != NULL)
		wire_safe(r->rewrite_authority, strlen(r->rewrite_authority), 0);
	if (r->redirect_uri != NULL)
		wire_safe(r->redirect_uri, strlen(r->redirect_uri), 0);
	if (r->redirect_authority != NULL)
		wire_safe(r->redirect_authority, strlen(r->redirect_authority), 0);
	if (r->redirect_scheme != NULL)
		wire_safe(r->redirect_scheme, strlen(r->redirect_scheme), 0);
	if (r->cors.allow_methods != NULL)
		wire_safe(r->cors.allow_methods, strlen(r->cors.allow_methods), 1);
	if (r->cors.allow_headers != NULL)
		wire_safe(r->cors.allow_headers, strlen(r->cors.allow_headers), 1);
	if (r->cors.expose_headers != NULL)
		wire_safe(r->cors.expose_headers, strlen(r->cors.expose_headers), 1);
}

/*
 * A compiled snapshot is coherent: every cluster index inside it, weights
 * cumulative, and every configured string that goes onto the wire as written
 * (header operations, rewrites, redirects, CORS answers) free of the bytes
 * that would start a field or a message of the configuration's making.
 */
static void
check_snapshot(const struct hf_snapshot *s)
{
	if (s->version != 7 || (s->n_clusters > 0 && s->clusters == NULL) ||
	    (s->n_listeners > 0 && s->listeners == NULL))
		abort();
	for (unsigned int i = 0; i < s->n_clusters; i++)
		if (s->clusters[i].n_endpoints > 0 && s->clusters[i].endpoints == NULL)
			abort();
	for (unsigned int i = 0; i < s->n_listeners; i++) {
		const struct hf_route_table *t = &s->listeners[i].table;

		for (unsigned int v = 0; v < t->n_vhosts; v++) {
			const struct hf_vhost *vh = &t->vhosts[v];

			if (vh->n_domains > HF_ROUTER_MAX_DOMAINS)
				abort();
			for (unsigned int k = 0; k < vh->n_routes; k++)
				check_route(s, &vh->routes[k]);
		}
	}
}

static void
check_error(const char *err, size_t cap)
{
	size_t len;

	if (memchr(err, '\0', cap) == NULL)
		abort();
	len = strlen(err);
	if (len == 0)
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f) {
			fprintf(stderr, "fuzz_istio: control byte 0x%02x at %zu in: %s\n",
				(unsigned char)err[i], i, err);
			abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[HF_BOOT_ERR + 64];
	struct hf_snapshot *s;
	FILE *f;

	f = fopen(yaml, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	memset(err, 'E', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	err[0] = '\0';
	s = hf_config_build(&boot, 7, boot.workers, err, sizeof(err));
	if (s != NULL) {
		check_snapshot(s);
		hf_snapshot_free(s);
	} else {
		check_error(err, sizeof(err));
	}
	return 0;
}
