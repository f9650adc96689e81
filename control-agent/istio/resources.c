/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files and documents: which files a path names, what each YAML document is
 * (apiVersion, kind, metadata), and the host rules every kind shares (short
 * names, wildcards, exportTo, label selectors).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "control-agent/istio/istio-int.h"

#define GROUP "networking.istio.io"
#define SECURITY "security.istio.io"

static const struct {
	const char *name;
	enum ist_kind kind;
} kinds[] = {
	{"Gateway", IST_GATEWAY},
	{"VirtualService", IST_VS},
	{"DestinationRule", IST_DR},
	{"ServiceEntry", IST_SE},
	{"WorkloadEntry", IST_WE},
	{"EnvoyFilter", IST_EF},	/* its local rate limit patches only (envoyfilter.c) */
};

/* Kinds of the networking group this loader does not translate yet: refused by name. */
static const char *const later_kinds[] = {"Sidecar", "WorkloadGroup", "ProxyConfig", NULL};

static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};

/* ObjectMeta: what a person writes, and what `kubectl get -o yaml` adds (read, not used). */
static const char *const meta_keys[] = {
	"name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers",
	"ownerReferences", "managedFields", "generateName", "selfLink", NULL,
};

/* RFC 1123 labels ('.' false) or subdomains ('.' true), as Kubernetes checks object names. */
static bool
dns_name(const char *s, bool dots, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '-' || (dots && c == '.')))
			return false;
	}
	return true;
}

static int
add_namespace(struct ist *st, const char *ns)
{
	const char **slot;

	for (unsigned int i = 0; i < st->n_ns; i++)
		if (strcmp(st->namespaces[i], ns) == 0)
			return 0;
	slot = ist_push(&st->namespaces, &st->n_ns, sizeof(*slot));
	if (slot == NULL)
		return ist_oom(st);
	*slot = ns;
	return 0;
}

/* security.istio.io: AuthorizationPolicy (v1, v1beta1); its other kinds but RequestAuthentication are refused by name. */
static int
security_kind(struct ist *st, const struct yn *root, const char *version, const char *kind,
	      enum ist_kind *out)
{
	if (strcmp(version, "v1") != 0 && strcmp(version, "v1beta1") != 0)
		return ist_fail(st, ist_get(root, "apiVersion"), "apiVersion", "version '%s' of "
				SECURITY " is not one of v1beta1, v1", version);
	if (strcmp(kind, "AuthorizationPolicy") == 0) {
		*out = IST_AP;
		return 0;
	}
	/* RequestAuthentication was taken by ist_security_kind() before this */
	if (strcmp(kind, "PeerAuthentication") == 0)
		return ist_fail(st, ist_get(root, "kind"), "kind", "%s is not supported yet "
				"(AuthorizationPolicy and RequestAuthentication are)", kind);
	st->cur_kind = NULL;
	return ist_fail(st, ist_get(root, "kind"), "kind", "'%s' is not a kind of " SECURITY,
			kind);
}

/* The apiVersion and kind of a document: only the five kinds of networking.istio.io are read. */
static int
doc_kind(struct ist *st, const struct yn *root, enum ist_kind *out)
{
	const char *api, *kind, *slash, *version;
	const struct yn *at = ist_get(root, "apiVersion");
	int rc;

	rc = ist_get_str(st, root, "", "kind", true, &kind);
	if (rc < 0)
		return rc;
	st->cur_kind = kind;
	rc = ist_get_str(st, root, "", "apiVersion", true, &api);
	if (rc < 0)
		return rc;
	rc = ist_security_kind(st, root, api, kind, out);
	if (rc == 0)
		rc = ist_telemetry_kind(st, root, api, kind, out);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	slash = strchr(api, '/');
	if (slash == NULL)
		return ist_fail(st, at, "apiVersion", "the Kubernetes core API (%s) is not read "
				"here: only " GROUP " resources are", api);
	if ((size_t)(slash - api) == strlen(SECURITY) && strncmp(api, SECURITY, strlen(SECURITY)) == 0)
		return security_kind(st, root, slash + 1, kind, out);
	if ((size_t)(slash - api) != strlen(GROUP) || strncmp(api, GROUP, strlen(GROUP)) != 0)
		return ist_fail(st, at, "apiVersion", "API group %.*s (%s) is not read here: only "
				GROUP " resources are", (int)(slash - api), api, api);
	version = slash + 1;
	if (strcmp(version, "v1alpha3") != 0 && strcmp(version, "v1beta1") != 0 &&
	    strcmp(version, "v1") != 0)
		return ist_fail(st, at, "apiVersion", "version '%s' of " GROUP " is not one of "
				"v1alpha3, v1beta1, v1", version);
	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, kind) == 0) {
			*out = kinds[i].kind;
			return 0;
		}
	for (unsigned int i = 0; later_kinds[i] != NULL; i++)
		if (strcmp(later_kinds[i], kind) == 0)
			return ist_fail(st, ist_get(root, "kind"), "kind", "%s is not supported "
					"yet (Gateway, VirtualService, DestinationRule, "
					"ServiceEntry and WorkloadEntry are)", kind);
	st->cur_kind = NULL;
	return ist_fail(st, ist_get(root, "kind"), "kind", "'%s' is not a kind of " GROUP, kind);
}

static int
on_doc(struct ist *st, const char *file, const struct yn *root)
{
	const struct yn *meta, *spec, *dummy;
	struct ist_res r = {.file = file, .root = root, .ns = "default", .parse = st->cur_parse};
	struct ist_res *slot;
	const char *name;
	int rc;

	st->cur_file = file;
	st->cur_kind = NULL;
	st->cur_name = NULL;
	if (root->type != YN_MAP)
		return ist_fail(st, root, NULL, "a resource must be a mapping, not %s",
				ist_type_name(root->type));
	rc = doc_kind(st, root, &r.kind);
	if (rc < 0)
		return rc;
	if ((rc = ist_keys(st, root, "", top_keys, NULL)) < 0 ||
	    (rc = ist_get_map(st, root, "", "metadata", true, &meta)) < 0 ||
	    (rc = ist_keys(st, meta, "metadata", meta_keys, NULL)) < 0 ||
	    (rc = ist_get_str(st, meta, "metadata", "name", true, &name)) < 0 ||
	    (rc = ist_get_str(st, meta, "metadata", "namespace", false, &r.ns)) < 0 ||
	    (rc = ist_get_strmap(st, meta, "metadata", "labels", &dummy)) < 0 ||
	    (rc = ist_get_strmap(st, meta, "metadata", "annotations", &dummy)) < 0)
		return rc;
	if (!dns_name(name, true, 253))
		return ist_fail(st, ist_get(meta, "name"), "metadata.name", "'%s' is not a valid "
				"name (lower case letters, digits, '-' and '.')", name);
	if (!dns_name(r.ns, false, 63))
		return ist_fail(st, ist_get(meta, "namespace"), "metadata.namespace", "'%s' is not "
				"a valid namespace (lower case letters, digits and '-')", r.ns);
	r.name = name;
	r.line = ist_get(meta, "name")->line;
	ist_set_cur(st, &r);
	rc = ist_get_map(st, root, "", "spec", true, &spec);
	if (rc < 0)
		return rc;
	r.spec = spec;
	slot = ist_push(&st->res, &st->n_res, sizeof(*slot));
	if (slot == NULL)
		return ist_oom(st);
	*slot = r;
	return add_namespace(st, r.ns);
}

/* kind, namespace, name, then file order: equal names end up side by side, first one first */
static int
cmp_res(const void *a, const void *b, void *arg)
{
	const struct ist *st = arg;
	const struct ist_res *x = &st->res[*(const unsigned int *)a];
	const struct ist_res *y = &st->res[*(const unsigned int *)b];
	int c = (int)x->kind - (int)y->kind;

	if (c == 0)
		c = strcmp(x->ns, y->ns);
	if (c == 0)
		c = strcmp(x->name, y->name);
	if (c == 0)
		c = x < y ? -1 : x > y;
	return c;
}

/* Two resources of one kind with one namespace/name: the later (in file order) is refused. */
static int
check_duplicates(struct ist *st)
{
	unsigned int *ix = malloc(sizeof(*ix) * (st->n_res + 1)), later = UINT32_MAX, first = 0;
	const struct ist_res *r, *o;

	if (ix == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < st->n_res; i++)
		ix[i] = i;
	qsort_r(ix, st->n_res, sizeof(*ix), cmp_res, st);
	for (unsigned int i = 1; i < st->n_res; i++) {
		r = &st->res[ix[i]];
		o = &st->res[ix[i - 1]];
		if (r->kind == o->kind && strcmp(r->ns, o->ns) == 0 &&
		    strcmp(r->name, o->name) == 0 && ix[i] < later) {
			later = ix[i];
			first = ix[i - 1];
		}
	}
	free(ix);
	if (later == UINT32_MAX)
		return 0;
	r = &st->res[later];
	o = &st->res[first];
	ist_set_cur(st, r);
	return ist_fail(st, ist_get(ist_get(r->root, "metadata"), "name"), "metadata.name",
			"%s %s/%s is already defined at %s:%u", st->cur_kind, r->ns, r->name,
			o->file, o->line);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
yaml_name(const char *n)
{
	size_t len = strlen(n);

	/* hidden files are editors' and atomic writers' temporaries */
	if (n[0] == '.')
		return false;
	return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

int
ist_collect(struct ist *st, const char *path)
{
	struct stat sb;
	struct dirent *e;
	char **files = NULL;
	unsigned int n = 0;
	size_t plen = strlen(path);
	DIR *d;
	int rc = 0;

	if (stat(path, &sb) < 0) {
		snprintf(st->err, st->errlen, "%s: cannot read: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = ist_read_cached(st, path, on_doc);
		return rc < 0 ? rc : check_duplicates(st);
	}
	d = opendir(path);
	if (d == NULL) {
		snprintf(st->err, st->errlen, "%s: cannot read: %s", path, strerror(errno));
		return -ENOENT;
	}
	while ((e = readdir(d)) != NULL) {
		char **slot;
		char *f;

		if (!yaml_name(e->d_name))
			continue;
		f = ist_fmt(st, "%s%s%s", path, plen > 0 && path[plen - 1] == '/' ? "" : "/",
			    e->d_name);
		if (f == NULL || (slot = ist_push(&files, &n, sizeof(*slot))) == NULL) {
			rc = ist_oom(st);
			break;
		}
		*slot = f;
	}
	closedir(d);
	if (rc == 0)
		qsort(files, n, sizeof(*files), cmp_name);
	for (unsigned int i = 0; rc == 0 && i < n; i++) {
		/* what is not a regular file (a directory named x.yaml) is not read */
		if (stat(files[i], &sb) == 0 && !S_ISREG(sb.st_mode))
			continue;
		rc = ist_read_cached(st, files[i], on_doc);
	}
	free(files);
	return rc < 0 ? rc : check_duplicates(st);
}

/*
 * Pilot's short names: "reviews" in namespace ns is reviews.ns.svc.cluster.local,
 * and so is "reviews.ns" when ns is a namespace of this configuration (or
 * "default"); other names with dots and wildcards are taken as written.
 * Hosts are case-insensitive: the result is lower case. NULL when out of memory.
 */
const char *
ist_resolve_host(struct ist *st, const char *host, const char *ns)
{
	char *h = ist_strdup(st, host), *dot;

	if (h == NULL)
		return NULL;
	for (char *p = h; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (h[0] == '*')
		return h;
	dot = strchr(h, '.');
	if (dot == NULL)
		return ist_fmt(st, "%s.%s.svc.cluster.local", h, ns);
	if (strchr(dot + 1, '.') == NULL) {
		bool known = strcmp(dot + 1, "default") == 0;

		for (unsigned int i = 0; i < st->n_ns && !known; i++)
			known = strcmp(st->namespaces[i], dot + 1) == 0;
		if (known)
			return ist_fmt(st, "%s.svc.cluster.local", h);
	}
	return h;
}

/* Whether @p pattern covers every name @p host stands for ("*.a.com" covers "*.b.a.com"). */
bool
ist_host_covers(const char *pattern, const char *host)
{
	size_t pl = strlen(pattern), hl = strlen(host);

	if (strcmp(pattern, "*") == 0 || strcmp(pattern, host) == 0)
		return true;
	if (pattern[0] != '*' || strcmp(host, "*") == 0)
		return false;
	/* "*.a.com" (or Istio's "*a.com") covers what ends in ".a.com" ("a.com") and is longer */
	return hl > pl - 1 && strcmp(host + hl - (pl - 1), pattern + 1) == 0;
}

bool
ist_exported(const struct yn *export_to, const char *own_ns, const char *to_ns)
{
	if (export_to == NULL || export_to->n == 0)
		return true;
	for (unsigned int i = 0; i < export_to->n; i++) {
		const char *e = export_to->val[i]->s;

		if (strcmp(e, "*") == 0 || strcmp(e, to_ns) == 0 ||
		    (strcmp(e, ".") == 0 && strcmp(own_ns, to_ns) == 0))
			return true;
	}
	return false;
}

/* spec.exportTo: ".", "*", "~" (nowhere) or namespace names. */
int
ist_check_export(struct ist *st, const struct yn *spec, const char *path)
{
	const struct yn *e = NULL;
	char p[IST_PATH], q[IST_PATH];
	int rc = ist_get_strs(st, spec, path, "exportTo", false, &e);

	if (rc <= 0)
		return rc;
	ist_path(p, path, "exportTo");
	for (unsigned int i = 0; i < e->n; i++) {
		const char *s = e->val[i]->s;

		if (strcmp(s, ".") != 0 && strcmp(s, "*") != 0 && strcmp(s, "~") != 0 &&
		    !dns_name(s, false, 63))
			return ist_fail(st, e->val[i], ist_pathi(q, p, i), "'%s' is not '.', '*', "
					"'~' or a namespace", s);
	}
	return 0;
}

/* Whether @p labels (a MAP of strings, or NULL) holds every key=value of @p selector. */
bool
ist_labels_match(const struct yn *selector, const struct yn *labels)
{
	for (unsigned int i = 0; selector != NULL && i < selector->n; i++) {
		const struct yn *v = ist_get(labels, selector->key[i]->s);

		if (v == NULL || strcmp(v->s, selector->val[i]->s) != 0)
			return false;
	}
	return true;
}

/* The node's labels are "k=v" strings (the bootstrap's node.labels). */
bool
ist_node_has_labels(const struct ist *st, const struct yn *sel)
{
	for (unsigned int i = 0; sel != NULL && i < sel->n; i++) {
		const char *k = sel->key[i]->s, *v = sel->val[i]->s;
		size_t kl = strlen(k);
		bool found = false;

		for (unsigned int j = 0; j < st->n_labels && !found; j++)
			found = strncmp(st->labels[j], k, kl) == 0 && st->labels[j][kl] == '=' &&
				strcmp(st->labels[j] + kl + 1, v) == 0;
		if (!found)
			return false;
	}
	return true;
}

const char *
ist_root_ns(const struct ist *st)
{
	return st->root_ns != NULL ? st->root_ns : "istio-system";
}

/* node.namespace (the daemon resolves it: configured, the identity's, the node id's) first */
const char *
ist_node_ns(struct ist *st)
{
	const char *ns, *end;

	if (st->node_ns != NULL)
		return st->node_ns;
	if (st->identity != NULL && (ns = strstr(st->identity->spiffe, "/ns/")) != NULL) {
		ns += 4;
		end = strchr(ns, '/');
		return end != NULL ? ist_fmt(st, "%.*s", (int)(end - ns), ns) : ns;
	}
	return "default";
}
