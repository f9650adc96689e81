/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHZ_T_H
#define HF_AUTHZ_T_H

/*
 * Istio's AuthorizationPolicies in force on this node, compiled as the
 * workers read them (Envoy's RBAC filter, in Istio's shape). The control agent
 * builds it (control-agent/compile/authz_build.c) from the policies that
 * select the node, and hangs it on the snapshot; nobody writes it once it is
 * published. Everything it points to lives in its own memory (`mem`), freed
 * with the snapshot after its grace period.
 *
 * A policy is an OR of rules; a rule holds when one of its `from` clauses
 * (none: any source), one of its `to` clauses (none: any operation) and every
 * `when` condition hold; a clause holds when all its conditions do; a
 * condition holds when the attribute it reads matches one of its values (a
 * negated one, notX/notValues: when it matches none, an absent attribute
 * included). Istio's order: DENY policies first, then, when there is any
 * ALLOW policy, one of them must match. AUDIT policies change nothing but a
 * count.
 */
#include <stdbool.h>
#include <stdint.h>

/* Policies counted by name on /stats, over every snapshot of the process; slot 0 is "the rest". */
#define HF_AUTHZ_SLOTS 256

enum hf_authz_action { HF_AUTHZ_ALLOW, HF_AUTHZ_DENY, HF_AUTHZ_AUDIT };

/* What a condition reads from the request. */
enum hf_authz_attr {
	HF_AZ_PRINCIPAL,		/* the mTLS peer's URI SAN without "spiffe://"; absent: no TLS peer */
	HF_AZ_NAMESPACE,		/* the principal's "/ns/<ns>/" part */
	HF_AZ_REQ_PRINCIPAL,		/* the JWT's "<iss>/<sub>" (struct hf_authn) */
	HF_AZ_SOURCE_IP,		/* the TCP peer's address */
	HF_AZ_REMOTE_IP,		/* the client x-forwarded-for names, past the trusted hops */
	HF_AZ_HOST,			/* the Host (authority), matched without regard to case */
	HF_AZ_PORT,			/* the local port the request came to */
	HF_AZ_METHOD,
	HF_AZ_PATH,			/* the normalized path the router used, without the query */
	HF_AZ_HEADER,			/* request.headers[name]: its first field */
	HF_AZ_DEST_IP,			/* the local address the request came to */
	HF_AZ_SNI,			/* connection.sni: the client's TLS server_name */
	HF_AZ_CLAIM,			/* request.auth.claims[a][b] ("a.b"), audiences ("aud"), presenter ("azp") */
	HF_AZ__MAX
};

/* How a value matches. Strings are Istio's: "v" exact, "v*" prefix, "*v" suffix, "*" present. */
enum hf_authz_match {
	HF_AZM_EXACT,
	HF_AZM_PREFIX,
	HF_AZM_SUFFIX,
	HF_AZM_PRESENT,			/* any value, as long as there is one */
	HF_AZM_CIDR,			/* ipBlocks, source.ip ...: IPv4 or IPv6 address/prefix length */
	HF_AZM_PORT,			/* ports, destination.port */
	HF_AZM_TEMPLATE,		/* paths with {*} (one segment) and {**} (the rest, last) */
};

struct hf_authz_value {
	uint8_t kind;			/* enum hf_authz_match */
	uint8_t v6;			/* CIDR: addr is IPv6 */
	uint8_t plen;			/* CIDR: prefix length */
	uint16_t len;			/* strings: bytes of s */
	uint16_t port;			/* PORT */
	uint8_t addr[16];		/* CIDR: network order, IPv4 in the first 4 bytes */
	const char *s;			/* EXACT, PREFIX, SUFFIX (hosts lower case); TEMPLATE: the template */
};

/* One field of a source or an operation, or one `when` condition. */
struct hf_authz_cond {
	uint8_t attr;			/* enum hf_authz_attr */
	bool negated;			/* notX / notValues: the attribute matches none of the values */
	uint16_t n_values;
	uint16_t name_len;
	const char *name;		/* HEADER: the field name, lower case; CLAIM: "a.b" */
	const struct hf_authz_value *values;
};

/* A `from` (source) or `to` (operation) entry: all its conditions hold. */
struct hf_authz_clause {
	uint16_t n_conds;
	const struct hf_authz_cond *conds;
};

struct hf_authz_rule {
	uint16_t n_from, n_to, n_when;
	const struct hf_authz_clause *from;	/* one must hold; none: any source */
	const struct hf_authz_clause *to;	/* one must hold; none: any operation */
	const struct hf_authz_cond *when;	/* all must hold */
	/*
	 * Envoy's %RESPONSE_CODE_DETAILS% of a denial by this rule,
	 * "rbac_access_denied_matched_policy[ns[NS]-policy[NAME]-rule[I]]": in
	 * memory the agent never frees (the access log reads it after the
	 * snapshot is gone).
	 */
	const char *details;
	/*
	 * Prefilters the agent computes (hf_authz_compile): a request whose first
	 * path segment's bit, or whose Host's bit (hf_authz_bit), is not set here
	 * cannot match this rule, which is then passed over without a look at its
	 * conditions. ~0: no filter.
	 */
	uint64_t seg_mask, host_mask;
};

struct hf_authz_policy {
	const char *ns, *name;
	uint8_t action;			/* enum hf_authz_action */
	uint16_t slot;			/* its per-policy counter (hf_authz_hits); 0: the rest */
	uint16_t n_rules;		/* 0: matches nothing (an ALLOW without rules allows nothing) */
	const struct hf_authz_rule *rules;
};

struct hf_authz_mem;

struct hf_authz {
	/*
	 * x-forwarded-for entries, from its right end, that trusted proxies in
	 * front of this node appended (Envoy's xff_num_trusted_hops, Istio's
	 * numTrustedProxies): remote.ip is the Nth from the right; 0 or too few
	 * entries: the TCP peer.
	 */
	uint32_t xff_trusted_hops;
	/* by action, each in the order the agent read them (namespace, name) */
	uint16_t n_deny, n_allow, n_audit;
	bool filter_seg, filter_host;	/* some rule has such a prefilter (not ~0) */
	const struct hf_authz_policy *deny, *allow, *audit;
	struct hf_authz_mem *mem;	/* owned: every allocation above */
};

#endif
