/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service registry and its clusters: ServiceEntries (hosts, ports,
 * endpoints, or WorkloadEntries picked by workloadSelector), the
 * DestinationRule of each host (policy, subsets), and the clusters Pilot
 * would send for them, one per service port and one per subset per port,
 * named outbound|<port>|<subset>|<fqdn>.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/istio/istio-int.h"

static const char *const se_keys[] = {"hosts", "addresses", "ports", "location", "resolution",
				      "endpoints", "workloadSelector", "exportTo",
				      "subjectAltNames", NULL};
static const char *const se_later[] = {NULL};
static const char *const port_keys[] = {"number", "name", "protocol", "targetPort", NULL};
static const char *const ep_keys[] = {"address", "ports", "labels", "locality", "weight",
				      "serviceAccount", NULL};
static const char *const ep_later[] = {"network", NULL};
static const char *const protocols[] = {"HTTP",	 "HTTPS", "GRPC",  "GRPC-WEB", "HTTP2", "MONGO",
					"REDIS", "MYSQL", "TCP",   "TLS",      "UDP",	NULL};
static const char *const later_protocols[] = {"HTTP2", "GRPC", "GRPC-WEB", "UDP", NULL};

/* ---- ServiceEntry and WorkloadEntry ---- */

static int
parse_ports(struct ist *st, const struct yn *spec, const char *path, struct ist_se *se)
{
	const struct yn *l;
	char p[IST_PATH], q[IST_PATH], r[IST_PATH];
	int rc = ist_get_seq(st, spec, path, "ports", true, &l);

	if (rc < 0)
		return rc;
	ist_path(p, path, "ports");
	if (l->n == 0)
		return ist_fail(st, l, p, "a ServiceEntry needs at least one port");
	se->n_ports = l->n;
	se->ports = ist_alloc(st, sizeof(*se->ports) * l->n);
	if (se->ports == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < l->n; i++) {
		struct ist_port *pt = &se->ports[i];
		const struct yn *m = l->val[i];
		const char *proto = "TCP";
		char *up;

		ist_pathi(q, p, i);
		if ((rc = ist_want(st, m, q, YN_MAP)) < 0 ||
		    (rc = ist_keys(st, m, q, port_keys, NULL)) < 0 ||
		    (rc = ist_get_u32(st, m, q, "number", true, 1, 65535, &pt->number)) < 0 ||
		    (rc = ist_get_str(st, m, q, "name", true, &pt->name)) < 0 ||
		    (rc = ist_get_str(st, m, q, "protocol", false, &proto)) < 0 ||
		    (rc = ist_get_u32(st, m, q, "targetPort", false, 1, 65535, &pt->target)) < 0)
			return rc;
		up = ist_strdup(st, proto);
		if (up == NULL)
			return ist_oom(st);
		for (char *c = up; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		if (ist_one_of(up, protocols) < 0)
			return ist_fail(st, ist_get(m, "protocol"), ist_path(r, q, "protocol"),
					"'%s' is not a protocol Istio knows", proto);
		/*
		 * Upstream connections carry HTTP/1.1 or bytes: the others would
		 * have Pilot's cluster speak HTTP/2 (or UDP), and this one would not.
		 */
		if (ist_one_of(up, later_protocols) >= 0)
			return ist_fail(st, ist_get(m, "protocol"), ist_path(r, q, "protocol"),
					"%s is not supported yet (HTTP, HTTPS, TCP, TLS, MONGO, "
					"REDIS and MYSQL are)", up);
		pt->protocol = up;
		for (unsigned int j = 0; j < i; j++) {
			if (se->ports[j].number == pt->number)
				return ist_fail(st, ist_get(m, "number"), ist_path(r, q, "number"),
						"port %u is listed twice", pt->number);
			if (strcmp(se->ports[j].name, pt->name) == 0)
				return ist_fail(st, ist_get(m, "name"), ist_path(r, q, "name"),
						"port name '%s' is used twice", pt->name);
		}
	}
	return 0;
}

/*
 * One endpoint: a ServiceEntry's endpoints[i] (@p se set, its ports known) or
 * a WorkloadEntry's spec. Only IPv4 addresses: names would need a resolver.
 */
static int
parse_ep(struct ist *st, const struct yn *m, const char *path, const struct ist_se *se,
	 struct ist_ep *ep)
{
	const char *addr;
	struct in_addr a;
	char p[IST_PATH], q[IST_PATH];
	int rc;

	if ((rc = ist_want(st, m, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, m, path, ep_keys, ep_later)) < 0 ||
	    (rc = ist_get_str(st, m, path, "address", true, &addr)) < 0 ||
	    (rc = ist_get_strmap(st, m, path, "labels", &ep->labels)) < 0 ||
	    (rc = ist_get_str(st, m, path, "locality", false, &ep->locality)) < 0 ||
	    (rc = ist_get_u32(st, m, path, "weight", false, 0, UINT32_MAX, &ep->weight)) < 0 ||
	    (rc = ist_get_map(st, m, path, "ports", false, &ep->ports)) < 0 ||
	    (rc = ist_get_str(st, m, path, "serviceAccount", false, &ep->sa)) < 0)
		return rc;
	if (ep->weight == 0)
		ep->weight = 1;
	ist_path(p, path, "address");
	if (inet_pton(AF_INET, addr, &a) != 1) {
		if (strncmp(addr, "unix://", 7) == 0)
			return ist_fail(st, ist_get(m, "address"), p, "unix domain socket "
					"endpoints are not supported");
		if (strchr(addr, ':') != NULL)
			return ist_fail(st, ist_get(m, "address"), p, "'%s': IPv6 is not supported "
					"yet", addr);
		if (se != NULL && se->resolution != IST_RES_DNS)
			return ist_fail(st, ist_get(m, "address"), p, "'%s' is not an IPv4 address "
					"(resolution %s takes addresses)", addr,
					se->resolution == IST_RES_STATIC ? "STATIC" : "NONE");
		return ist_fail(st, ist_get(m, "address"), p, "'%s': DNS resolution of names is "
				"not supported yet", addr);
	}
	ep->addr = a.s_addr;
	ist_path(p, path, "ports");
	for (unsigned int i = 0; ep->ports != NULL && i < ep->ports->n; i++) {
		const char *name = ep->ports->key[i]->s;
		uint32_t v;
		bool known = se == NULL;

		if ((rc = ist_get_u32(st, ep->ports, p, name, true, 1, 65535, &v)) < 0)
			return rc;
		for (unsigned int k = 0; !known && k < se->n_ports; k++)
			known = strcmp(se->ports[k].name, name) == 0;
		if (!known)
			return ist_fail(st, ep->ports->key[i], ist_path(q, p, name), "'%s' is not "
					"the name of a port of this ServiceEntry", name);
	}
	return 0;
}

struct we {
	const struct ist_res *res;
	struct ist_ep ep;
};

static int
parse_addresses(struct ist *st, const struct yn *spec)
{
	const struct yn *l = NULL;
	char p[IST_PATH];
	int rc = ist_get_strs(st, spec, "spec", "addresses", false, &l);

	/* VIPs matter to sidecars capturing traffic; a gateway routes by host and port */
	for (unsigned int i = 0; rc > 0 && i < l->n; i++) {
		char a[64];
		const char *s = l->val[i]->s, *slash = strchr(s, '/');
		struct in_addr ia;
		char *end;

		snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
		if (inet_pton(AF_INET, a, &ia) != 1 ||
		    (slash != NULL && (strtoul(slash + 1, &end, 10) > 32 || *end != '\0' ||
				       end == slash + 1)))
			return ist_fail(st, l->val[i], ist_pathi(p, "spec.addresses", i), "'%s' is "
					"not an IPv4 address or CIDR block", s);
	}
	return rc < 0 ? rc : 0;
}

static int
parse_se(struct ist *st, const struct ist_res *r, struct ist_se *se, const struct we *wes,
	 unsigned int n_we)
{
	static const char *const res_names[] = {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", NULL};
	static const char *const locations[] = {"MESH_EXTERNAL", "MESH_INTERNAL", NULL};
	const struct yn *spec = r->spec, *hosts, *eps = NULL, *sel = NULL, *sel_labels = NULL;
	char p[IST_PATH];
	int rc, res = IST_RES_NONE, loc;

	se->res = r;
	if ((rc = ist_keys(st, spec, "spec", se_keys, se_later)) < 0 ||
	    (rc = ist_get_strs(st, spec, "spec", "hosts", true, &hosts)) < 0 ||
	    (rc = parse_addresses(st, spec)) < 0 ||
	    (rc = ist_get_enum(st, spec, "spec", "location", locations,
			       "MESH_EXTERNAL, MESH_INTERNAL", &loc)) < 0 ||
	    (rc = ist_get_enum(st, spec, "spec", "resolution", res_names, "NONE, STATIC, DNS",
			   &res)) < 0 ||
	    (rc = ist_check_export(st, spec, "spec")) < 0 ||
	    (rc = parse_ports(st, spec, "spec", se)) < 0 ||
	    (rc = ist_get_seq(st, spec, "spec", "endpoints", false, &eps)) < 0 ||
	    (rc = ist_get_map(st, spec, "spec", "workloadSelector", false, &sel)) < 0 ||
	    (rc = ist_get_strs(st, spec, "spec", "subjectAltNames", false, &se->sans)) < 0)
		return rc;
	if (res == 3)
		return ist_fail(st, ist_get(spec, "resolution"), "spec.resolution",
				"DNS_ROUND_ROBIN is not supported yet");
	se->resolution = (enum ist_resolution)res;
	se->export_to = ist_get(spec, "exportTo");
	if (sel != NULL) {
		static const char *const sel_keys[] = {"labels", NULL};

		if ((rc = ist_keys(st, sel, "spec.workloadSelector", sel_keys, NULL)) < 0 ||
		    (rc = ist_get_strmap(st, sel, "spec.workloadSelector", "labels",
					 &sel_labels)) < 0)
			return rc;
		if (eps != NULL)
			return ist_fail(st, ist_key(spec, "workloadSelector"),
					"spec.workloadSelector",
					"endpoints and workloadSelector cannot both be set");
	}
	if (eps != NULL) {
		se->n_eps = eps->n;
		se->eps = ist_alloc(st, sizeof(*se->eps) * (eps->n + 1));
		if (se->eps == NULL)
			return ist_oom(st);
		for (unsigned int i = 0; i < eps->n; i++)
			if ((rc = parse_ep(st, eps->val[i], ist_pathi(p, "spec.endpoints", i), se,
					   &se->eps[i])) < 0)
				return rc;
	} else if (sel != NULL) {
		se->eps = ist_alloc(st, sizeof(*se->eps) * (n_we + 1));
		if (se->eps == NULL)
			return ist_oom(st);
		/* Istio selects WorkloadEntries of the ServiceEntry's own namespace */
		for (unsigned int i = 0; i < n_we; i++)
			if (strcmp(wes[i].res->ns, r->ns) == 0 &&
			    ist_labels_match(sel_labels, wes[i].ep.labels))
				se->eps[se->n_eps++] = wes[i].ep;
	} else if (res == IST_RES_STATIC) {
		return ist_fail(st, spec, "spec.endpoints", "resolution STATIC needs endpoints or "
				"a workloadSelector");
	} else if (res == IST_RES_DNS) {
		return ist_fail(st, hosts->val[0], "spec.hosts[0]", "resolution DNS without "
				"endpoints resolves the hosts: DNS resolution of names is not "
				"supported yet");
	}
	for (unsigned int i = 0; i < hosts->n; i++) {
		const char *fqdn = ist_resolve_host(st, hosts->val[i]->s, r->ns);
		struct ist_svc *svc;

		if (fqdn == NULL)
			return ist_oom(st);
		ist_pathi(p, "spec.hosts", i);
		if (strcmp(fqdn, "*") == 0)
			return ist_fail(st, hosts->val[i], p, "'*' is not a host a ServiceEntry "
					"can declare");
		if (fqdn[0] == '*' && res != IST_RES_NONE)
			return ist_fail(st, hosts->val[i], p, "wildcard host '%s' needs resolution "
					"NONE", fqdn);
		for (unsigned int k = 0; k < st->n_svc; k++) {
			const struct ist_res *o = st->svc[k].se->res;

			if (strcmp(st->svc[k].fqdn, fqdn) == 0)
				return ist_fail(st, hosts->val[i], p, "'%s' is already a host of "
						"ServiceEntry %s/%s (%s:%u); merging "
						"ServiceEntries is not supported yet", fqdn, o->ns,
						o->name, o->file, o->line);
		}
		svc = ist_push(&st->svc, &st->n_svc, sizeof(*svc));
		if (svc == NULL)
			return ist_oom(st);
		svc->fqdn = fqdn;
		svc->se = se;
	}
	return 0;
}

static const char *
svc_host(const struct ist *st, unsigned int i)
{
	return st->svc[i].fqdn;
}

int
ist_services(struct ist *st)
{
	unsigned int n_we = 0, n_se = 0;
	struct we *wes;
	int rc;

	for (unsigned int i = 0; i < st->n_res; i++) {
		n_we += st->res[i].kind == IST_WE;
		n_se += st->res[i].kind == IST_SE;
	}
	wes = ist_alloc(st, sizeof(*wes) * (n_we + 1));
	st->se = ist_alloc(st, sizeof(*st->se) * (n_se + 1));
	if (wes == NULL || st->se == NULL)
		return ist_oom(st);
	n_we = 0;
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->kind != IST_WE)
			continue;
		ist_set_cur(st, r);
		wes[n_we].res = r;
		if ((rc = parse_ep(st, r->spec, "spec", NULL, &wes[n_we].ep)) < 0)
			return rc;
		n_we++;
	}
	for (unsigned int i = 0; i < st->n_res; i++) {
		const struct ist_res *r = &st->res[i];

		if (r->kind != IST_SE)
			continue;
		ist_set_cur(st, r);
		if ((rc = parse_se(st, r, &st->se[st->n_se++], wes, n_we)) < 0)
			return rc;
	}
	return ist_index_build(st, &st->svc_by_host, st->n_svc, svc_host);
}

/* ---- clusters ---- */

/* Istio's endpoint port: the endpoint's own for the port's name, else targetPort, else the port. */
static uint16_t
ep_port(const struct ist_ep *ep, const struct ist_port *pt)
{
	const struct yn *v = ist_get(ep->ports, pt->name);

	if (v != NULL)
		return (uint16_t)strtoul(v->s, NULL, 10);
	return (uint16_t)(pt->target != 0 ? pt->target : pt->number);
}

static int
add_cluster(struct ist *st, const struct ist_svc *svc, const struct ist_port *pt,
	    const struct ist_dr *dr, const struct yn *subset)
{
	const struct ist_se *se = svc->se;
	const struct yn *sel = ist_get(subset, "labels"), *stp = ist_get(subset, "trafficPolicy");
	const char *sname = subset != NULL ? ist_get(subset, "name")->s : NULL;
	bool passthrough = se->resolution == IST_RES_NONE && se->n_eps == 0;
	struct hf_model_cluster *c;
	int rc;

	c = ist_push(&st->m.clusters, &st->m.n_clusters, sizeof(*c));
	if (c == NULL)
		return ist_oom(st);
	if (asprintf(&c->name, "outbound|%u|%s|%s", pt->number, sname != NULL ? sname : "",
		     svc->fqdn) < 0) {
		c->name = NULL;
		return ist_oom(st);
	}
	c->service = ist_mdup(svc->fqdn);
	c->subset = sname != NULL ? ist_mdup(sname) : NULL;
	if (c->service == NULL || (sname != NULL && c->subset == NULL))
		return ist_oom(st);
	c->service_port = (uint16_t)pt->number;
	c->lb = IST_DEFAULT_LB;
	c->connect_timeout_ms = IST_CONNECT_TIMEOUT_MS;
	/* already checked: these only apply */
	if (dr != NULL && dr->policy != NULL) {
		ist_set_cur(st, dr->res);
		rc = ist_apply_policy(st, dr->policy, "spec.trafficPolicy", pt->number, c);
		if (rc < 0)
			return rc;
	}
	if (stp != NULL && (rc = ist_apply_policy(st, stp, "trafficPolicy", pt->number, c)) < 0)
		return rc;
	/* ISTIO_MUTUAL: the identities the service's workloads may show */
	if ((rc = ist_mesh_sans(st, se, sel, c)) < 0)
		return rc;
	/* resolution NONE without endpoints: the caller's own destination (ORIGINAL_DST) */
	if (passthrough)
		c->lb = HF_LB_PASSTHROUGH;
	c->endpoints = calloc(se->n_eps + 1, sizeof(*c->endpoints));
	if (c->endpoints == NULL)
		return ist_oom(st);
	for (unsigned int i = 0; i < se->n_eps; i++) {
		const struct ist_ep *ep = &se->eps[i];
		struct hf_model_endpoint *e;
		unsigned int nl = ep->labels != NULL ? ep->labels->n : 0;

		if (!ist_labels_match(sel, ep->labels))
			continue;
		e = &c->endpoints[c->n_endpoints++];
		e->addr = ep->addr;
		e->port = ep_port(ep, pt);
		e->weight = ep->weight;
		if (ep->locality != NULL && (e->locality = ist_mdup(ep->locality)) == NULL)
			return ist_oom(st);
		e->labels = calloc(nl + 1, sizeof(*e->labels));
		if (e->labels == NULL)
			return ist_oom(st);
		for (unsigned int k = 0; k < nl; k++) {
			if (asprintf(&e->labels[k], "%s=%s", ep->labels->key[k]->s,
				     ep->labels->val[k]->s) < 0)
				return ist_oom(st);
			e->n_labels++;
		}
	}
	return 0;
}

int
ist_clusters(struct ist *st)
{
	int rc;

	for (unsigned int i = 0; i < st->n_svc; i++) {
		const struct ist_svc *svc = &st->svc[i];
		const struct ist_dr *dr = ist_find_dr(st, svc->fqdn);
		const struct yn *subsets = dr != NULL ? dr->subsets : NULL;

		for (unsigned int p = 0; p < svc->se->n_ports; p++) {
			const struct ist_port *pt = &svc->se->ports[p];

			if ((rc = add_cluster(st, svc, pt, dr, NULL)) < 0)
				return rc;
			for (unsigned int s = 0; subsets != NULL && s < subsets->n; s++)
				if ((rc = add_cluster(st, svc, pt, dr, subsets->val[s])) < 0)
					return rc;
		}
	}
	return 0;
}

/* ---- references from VirtualServices ---- */

int
ist_destination(struct ist *st, const struct ist_res *vs, const struct yn *dest, const char *path,
		char **out)
{
	static const char *const dest_keys[] = {"host", "subset", "port", NULL};
	const struct yn *port = NULL;
	const struct ist_svc *svc = NULL;
	const struct ist_port *pt = NULL;
	const char *host, *fqdn, *subset = NULL;
	char p[IST_PATH], q[IST_PATH];
	uint32_t number = 0;
	int rc;

	if ((rc = ist_want(st, dest, path, YN_MAP)) < 0 ||
	    (rc = ist_keys(st, dest, path, dest_keys, NULL)) < 0 ||
	    (rc = ist_get_str(st, dest, path, "host", true, &host)) < 0 ||
	    (rc = ist_get_str(st, dest, path, "subset", false, &subset)) < 0 ||
	    (rc = ist_get_map(st, dest, path, "port", false, &port)) < 0)
		return rc;
	if (port != NULL) {
		ist_path(q, path, "port");
		if ((rc = ist_keys(st, port, q, (const char *const[]){"number", NULL}, NULL)) < 0 ||
		    (rc = ist_get_u32(st, port, q, "number", true, 1, 65535, &number)) < 0)
			return rc;
	}
	fqdn = ist_resolve_host(st, host, vs->ns);
	if (fqdn == NULL)
		return ist_oom(st);
	ist_path(p, path, "host");
	rc = ist_index_find(&st->svc_by_host, fqdn);
	svc = rc >= 0 ? &st->svc[rc] : NULL;
	if (svc == NULL)
		return ist_fail(st, ist_get(dest, "host"), p, "'%s' is not a known service", host);
	if (!ist_exported(svc->se->export_to, svc->se->res->ns, vs->ns))
		return ist_fail(st, ist_get(dest, "host"), p, "'%s' is not a known service "
				"(ServiceEntry %s/%s is not exported to namespace %s)", host,
				svc->se->res->ns, svc->se->res->name, vs->ns);
	for (unsigned int i = 0; i < svc->se->n_ports; i++)
		if (number == 0 ? svc->se->n_ports == 1 : svc->se->ports[i].number == number)
			pt = &svc->se->ports[i];
	if (pt == NULL && number == 0)
		return ist_fail(st, dest, path, "service %s has %u ports: port.number is required",
				svc->fqdn, svc->se->n_ports);
	if (pt == NULL)
		return ist_fail(st, ist_get(port, "number"), ist_path(p, q, "number"), "%u is not "
				"a port of service %s", number, svc->fqdn);
	if (subset != NULL) {
		const struct ist_dr *dr = ist_find_dr(st, svc->fqdn);
		bool found = false;

		if (dr != NULL && ist_exported(dr->export_to, dr->res->ns, vs->ns))
			for (unsigned int i = 0; dr->subsets != NULL && i < dr->subsets->n; i++)
				found |= strcmp(ist_get(dr->subsets->val[i], "name")->s,
						subset) == 0;
		if (!found)
			return ist_fail(st, ist_get(dest, "subset"), ist_path(p, path, "subset"),
					"subset '%s' is not defined by a DestinationRule for %s",
					subset, svc->fqdn);
	}
	if (asprintf(out, "outbound|%u|%s|%s", pt->number, subset != NULL ? subset : "",
		     svc->fqdn) < 0) {
		*out = NULL;
		return ist_oom(st);
	}
	return 0;
}
