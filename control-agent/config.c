/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration sources of the agent: bootstrap and Istio directory,
 * merged into one model and compiled into a snapshot; inotify and SIGHUP
 * for hot reload. Runs on the agent's thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "control-agent/clock.h"
#include "control-agent/config.h"
#include "control-agent/istio/istio.h"

/* A change settles this long before it is read: editors and tools write files in several steps. */
#define SETTLE_MS 10

/* *.yaml and *.yml, as the loader reads them. */
static bool
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/*
 * The node's namespace, where its namespace-wide AuthorizationPolicies live:
 * node.namespace, else the identity's, else the one istiod's node id names
 * (router~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local), else "default".
 */
static const char *
node_namespace(const struct hf_bootstrap *b, char *buf, size_t cap)
{
	const char *p = b->node_id, *last = NULL;
	unsigned int tildes = 0;

	if (b->node_ns[0] != '\0')
		return b->node_ns;
	if (b->identity.ns[0] != '\0')
		return b->identity.ns;
	for (const char *q = p; *q != '\0'; q++)
		if (*q == '~') {
			tildes++;
			last = q + 1;
		}
	if (tildes == 3 && last[0] != '\0') {
		snprintf(buf, cap, "%.*s", (int)strcspn(last, "."), last);
		return buf;
	}
	return "default";
}

/*
 * hf_config_build(), keeping the model in @p keep (its previous one freed)
 * when the snapshot builds and @p keep is not NULL.
 */
static struct hf_snapshot *
build_keep(const struct hf_bootstrap *b, uint64_t version, unsigned int n_workers,
	   struct hf_config *keep, char *err, size_t errlen)
{
	struct hf_model m = {0}, im = {0};
	const char *labels[HF_BOOT_MAX_LABELS];
	struct hf_istio_stats is = {0};
	struct hf_config_phases ph = {0};
	struct hf_snapshot *s = NULL;
	uint64_t t0 = hf_clock_us();
	int rc;

	unsigned int n_l, n_rc, n_c;
	struct timespec ts;

	if (hf_model_from_bootstrap(b, &m) != 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n_l = m.n_listeners;
	n_rc = m.n_route_configs;
	n_c = m.n_clusters;
	if (b->istio_dir[0] != '\0') {
		const struct hf_istio_identity id = {
			.spiffe = b->identity.spiffe,
			.trust_domain = b->identity.trust_domain,
			.cert_chain = b->identity.cert_chain,
			.key = b->identity.key,
			.root_cert = b->identity.root_cert,
		};
		char ns[HF_BOOT_STR];
		const struct hf_istio_node node = {
			.labels = labels,
			.n_labels = b->n_labels,
			.credentials_dir = b->credentials_dir,
			.identity = &id,
			.ns = node_namespace(b, ns, sizeof(ns)),
			.root_ns = b->root_ns,
			.xff_trusted_hops = b->http_xff_trusted_hops,
			.cache = keep != NULL ? keep->istio_cache : NULL,
			.stats = &is,
		};

		for (unsigned int i = 0; i < b->n_labels; i++)
			labels[i] = b->labels[i];
		rc = hf_istio_load_node(b->istio_dir, &node, &im, err, errlen);
		if (rc != 0)
			goto out;
		ph.read_us = is.read_us;
		ph.parse_us = is.parse_us;
		ph.translate_us = is.translate_us;
		ph.files = is.files;
		ph.files_parsed = is.files_parsed;
		ph.vs_reused = is.vs_reused;
		rc = hf_model_append(&m, &im);
		if (rc == -EADDRINUSE) {
			snprintf(err, errlen, "%s: a Gateway port is also a static_resources listener",
				 b->istio_dir);
			goto out;
		}
		if (rc != 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	rc = hf_rl_boot_apply(&b->ratelimits, b->path, &m, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc != 0)
		goto out;
	ph.merge_us = hf_clock_us() - t0 - ph.read_us - ph.parse_us - ph.translate_us;
	t0 = hf_clock_us();
	s = hf_snapshot_compile(&m, version, n_workers, err, errlen);
	ph.compile_us = hf_clock_us() - t0;
	if (s != NULL && keep != NULL) {
		keep->last = ph;
		hf_model_free(&keep->model);
		keep->model = m;
		memset(&m, 0, sizeof(m));
		keep->n_static_listeners = n_l;
		keep->n_static_route_configs = n_rc;
		keep->n_static_clusters = n_c;
		clock_gettime(CLOCK_REALTIME, &ts);
		keep->model_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
out:
	hf_model_free(&im);
	hf_model_free(&m);
	return s;
}

struct hf_snapshot *
hf_config_build(const struct hf_bootstrap *b, uint64_t version, unsigned int n_workers, char *err,
		size_t errlen)
{
	return build_keep(b, version, n_workers, NULL, err, errlen);
}

/*
 * A build allocates tens of MB (YAML trees, the model, the snapshot's arena)
 * and frees about as much of the one before. Left to glibc, blocks over the
 * mmap threshold are mapped and unmapped each time and the heap's top is
 * trimmed, so every reload faults all of it in again, page by page: a third
 * of a 10,000-route build on a virtual machine. Kept instead (the agent's
 * heap stays at its peak, which each build reaches anyway), a reload reuses
 * pages already there. Process wide: the only other allocations are
 * OpenSSL's on the workers (small, per TLS connection), whose freed memory
 * is then also kept rather than trimmed back to the kernel.
 */
static void
keep_heap(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);	/* glibc's largest */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int
hf_config_open(struct hf_config *c, const struct hf_bootstrap *b, unsigned int n_workers,
	       char *err, size_t errlen)
{
	keep_heap();
	memset(c, 0, sizeof(*c));
	c->boot = b;
	c->n_workers = n_workers;
	c->version = 1;
	c->inotify_fd = -1;
	hf_watch_init(&c->watch);
	if (b->istio_dir[0] == '\0')
		return 0;
	c->istio_cache = hf_istio_cache_new();
	if (c->istio_cache == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->inotify_fd < 0 ||
	    inotify_add_watch(c->inotify_fd, b->istio_dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		int e = errno;

		snprintf(err, errlen, "config.istio_dir: cannot watch '%s': %s", b->istio_dir,
			 strerror(e));
		hf_config_close(c);
		return -e;
	}
	return 0;
}

/*
 * Builds version @p version, recording the files the load reads: the watch
 * takes them when the build succeeds, or their state now when it fails (so
 * the next change retries).
 */
static struct hf_snapshot *
build(struct hf_config *c, uint64_t version, char *err, size_t errlen)
{
	struct hf_watch next;
	struct hf_snapshot *s;
	int rc;

	hf_watch_init(&next);
	hf_watch_record(&next);
	s = build_keep(c->boot, version, c->n_workers, c, err, errlen);
	hf_watch_record(NULL);
	rc = s != NULL ? hf_watch_replace(&c->watch, &next) : hf_watch_merge(&c->watch, &next);
	if (rc < 0)
		printf("hydrofoil: config: cannot watch the certificate files: %s\n",
		       strerror(-rc));
	hf_watch_free(&next);
	return s;
}

struct hf_snapshot *
hf_config_first(struct hf_config *c, char *err, size_t errlen)
{
	return build(c, 1, err, errlen);
}

void
hf_config_request_reload(struct hf_config *c, uint64_t now_ms)
{
	c->pending = true;
	c->due_ms = now_ms;
}

struct hf_snapshot *
hf_config_poll(struct hf_config *c, uint64_t now_ms)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char files[1024];
	struct hf_snapshot *s;
	uint64_t t0;

	if (c->inotify_fd >= 0) {
		ssize_t n;

		/*
		 * A file counts once it is complete: written and closed, or renamed
		 * into place, or gone. Files that are not YAML (an editor's swap
		 * file, a README) change nothing. Each burst of events pushes the
		 * reload back until the directory is quiet.
		 */
		while ((n = read(c->inotify_fd, buf, sizeof(buf))) > 0)
			for (char *p = buf; p < buf + n;) {
				const struct inotify_event *ev = (const struct inotify_event *)p;

				if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && is_yaml(ev->name))) {
					c->pending = true;
					c->due_ms = now_ms + SETTLE_MS;
				}
				p += sizeof(*ev) + ev->len;
			}
	}
	if (hf_watch_poll(&c->watch, now_ms, files, sizeof(files)) > 0) {
		printf("hydrofoil: config: changed: %s\n", files);
		fflush(stdout);
		c->cert_changes++;
		c->by_files = true;
		c->pending = true;
		c->due_ms = now_ms;
	}
	if (!c->pending || now_ms < c->due_ms)
		return NULL;
	c->pending = false;
	t0 = hf_clock_us();
	s = build(c, c->version + 1, c->last_error, sizeof(c->last_error));
	if (s == NULL && c->by_files)
		c->cert_rejected++;
	c->by_files = false;
	if (s == NULL) {
		c->rejected++;
		printf("hydrofoil: config: change refused, snapshot %" PRIu64 " keeps serving: %s\n",
		       c->version, c->last_error);
		fflush(stdout);
		return NULL;
	}
	c->version++;
	c->reloads++;
	c->last_build_us = hf_clock_us() - t0;
	printf("hydrofoil: config: snapshot %" PRIu64 " built in %" PRIu64 " us (read %" PRIu64
	       " us, parse %" PRIu64 " us for %u of %u files, translate %" PRIu64 " us, merge %"
	       PRIu64 " us, compile %" PRIu64 " us; %u listeners, %u clusters; the http routes of %u "
	       "VirtualServices reused)\n", c->version,
	       c->last_build_us, c->last.read_us, c->last.parse_us, c->last.files_parsed,
	       c->last.files, c->last.translate_us, c->last.merge_us, c->last.compile_us,
	       s->n_listeners, s->n_clusters, c->last.vs_reused);
	fflush(stdout);
	return s;
}

void
hf_config_close(struct hf_config *c)
{
	if (c->inotify_fd >= 0)
		close(c->inotify_fd);
	c->inotify_fd = -1;
	hf_watch_free(&c->watch);
	hf_model_free(&c->model);
	hf_istio_cache_free(c->istio_cache);
	c->istio_cache = NULL;
}
