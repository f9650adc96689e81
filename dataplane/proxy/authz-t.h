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
	HF_AZ_HEADER,			/* request.headers[name]: its fields joined with "," */
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
};

struct hf_authz_policy {
	const char *ns, *name;
	uint8_t action;			/* enum hf_authz_action */
	uint16_t slot;			/* its per-policy counter (hf_authz_hits); 0: the rest */
	uint16_t n_rules;		/* 0: matches nothing (an ALLOW without rules allows nothing) */
	const struct hf_authz_rule *rules;
};

struct hf_authz_mem;

/*
 * The index the agent compiles the policies into (hf_authz_compile), so a
 * request reads each attribute once and decides every rule with bit
 * operations. A rule is an OR of terms, one per (from, to) clause pair, each
 * term the AND of that pair's conditions and the rule's `when` ones; the
 * terms are numbered in the order a tree walk would meet them (DENY, ALLOW,
 * AUDIT; policy; rule), so the first set bit of a range is the first rule
 * that holds. A request starts with every term alive; per attribute ("dim":
 * an attribute, a header name, a claim name) it gathers P, the terms one of
 * whose positive conditions a request value matches, and N, those with a
 * negated condition it matches, and keeps (dflt | P) & ~N: a term with a
 * positive condition on the attribute needs a match, a negated one must see
 * none (an absent attribute matches nothing); a dim no live term has a
 * condition on ("touch") would keep them all, and is not read. That is exact
 * when a term has at most one positive condition per attribute (any number
 * of negated ones): a rule with more, or with more than HF_AUTHZ_IX_PAIRS
 * clause pairs, is one "slow" term the tree walk decides.
 */
#define HF_AUTHZ_IX_WORDS 64		/* at most 64 x 64 terms; more: no index, the tree walk */
#define HF_AUTHZ_IX_PAIRS 16

struct hf_authz_term {
	const struct hf_authz_policy *policy;
	const struct hf_authz_rule *rule;
	uint16_t slot;			/* the policy's: counted without reading the policy */
};

/*
 * One attribute the index reads; the lengths say where to look up prefixes
 * and suffixes. 64 bytes, on a line of its own: what a request reads of the
 * dims it looks at is one line each (the names, which only HEADER and CLAIM
 * dims read, are in ix->names).
 */
struct hf_authz_dim {
	uint8_t attr;			/* enum hf_authz_attr */
	bool nocase;			/* HOST, SNI: the request's bytes compared lower case */
	bool exact;			/* some value is an exact one */
	uint16_t n_pre, n_suf, n_plen;
	int32_t present;		/* the entry of "*" (any value), -1: none */
	/*
	 * n_pre prefix lengths, ascending (a template's literal start too), then
	 * n_suf suffix lengths, ascending, then n_plen CIDR prefix lengths
	 * (| 0x100 for IPv6)
	 */
	const uint16_t *lens;
	uint32_t dflt;			/* set: the terms without a positive condition on it */
	uint32_t touch;			/* set: terms with a condition on it (not dflt; negated) */
	/*
	 * Bit hf_authz_filter_bit() of each of its entries' (class, length, one
	 * byte of the key): a request's prefix, suffix, exact value or address
	 * block whose bit is clear has no entry, and is neither hashed nor
	 * looked up (most are not: a path is checked against many prefix and
	 * suffix lengths, few of which start or end with its bytes).
	 */
	uint64_t filter[4];
};

/* A dim's name: HEADER, the field name, lower case; CLAIM, "a.b"; else none. */
struct hf_authz_name {
	const char *s;
	uint16_t len;
};

/* How an entry is keyed in the index's hash table. */
enum hf_authz_cls { HF_AZC_EXACT, HF_AZC_PREFIX, HF_AZC_SUFFIX, HF_AZC_ADDR, HF_AZC_HDR };

/* One distinct value of a dim, or (HF_AZC_HDR) a header name the index reads. */
struct hf_authz_ent {
	uint8_t kind;			/* enum hf_authz_match */
	uint8_t cls;			/* enum hf_authz_cls */
	uint16_t dim;
	uint16_t len;			/* bytes of the key */
	uint16_t tlen;			/* TEMPLATE: bytes of the template (s) */
	int32_t next;			/* another entry under the same key (templates), -1 */
	const char *s;			/* the key's bytes (a template's literal start) */
	uint32_t pos, neg;		/* sets: terms with a positive / negated condition it matches */
};

/*
 * A slot of the index's hash table holds the first entry under its key
 * whole (the rest of its chain, templates, in ents): a lookup that finds
 * its key reads one line of the table, not a slot and then an entry.
 */
#define HF_AZC_EMPTY 0xff		/* cls of an empty slot */

struct hf_authz_slot {
	uint32_t h;
	int32_t next;			/* the entry's next, as in ents */
	uint8_t cls;			/* enum hf_authz_cls; HF_AZC_EMPTY: an empty slot */
	uint8_t kind;
	uint16_t dim;
	uint16_t len, tlen;
	const char *s;
	uint32_t pos, neg;
};

struct hf_authz_ix {
	uint32_t n_terms, nw;		/* terms, and 64-bit words of a set */
	uint32_t deny_end, allow_end;	/* DENY [0, deny_end), ALLOW up to allow_end, then AUDIT */
	const struct hf_authz_term *terms;
	uint16_t n_dims, n_main;	/* dims; the HEADER ones come after the first n_main */
	bool any_hdr;
	const struct hf_authz_dim *dims;
	const struct hf_authz_name *names;	/* by dim */
	uint32_t mask;			/* slots - 1 (a power of two) */
	const struct hf_authz_slot *slots;
	const struct hf_authz_ent *ents;
	const uint64_t *sets;		/* every set, nw words each, at the offsets above */
	uint64_t hdr_lens;		/* bit n: a header name of n bytes is read (63: 63 or more) */
	uint32_t hdr_dflt;		/* set: AND of the header dims' dflt (no such field sent) */
	uint32_t hdr_touch;		/* set: OR of the header dims' touch */
	/*
	 * What every request reads, whatever it holds, in one run the check
	 * prefetches at its start (its misses overlap, not one after another):
	 * run_len bytes from run, the main dims' attributes (main_attr, a byte
	 * each, in words of the sets), then from set offset dim_sets the main
	 * dims' touch and dflt sets side by side, then hdr_touch and hdr_dflt
	 * (the header dims' pairs follow, outside the run). A request whose
	 * values its worker's memo holds reads nothing else of the dims; the
	 * dims themselves and their lengths are read when a value is looked
	 * up.
	 */
	const void *run;
	uint32_t run_len;
	const uint8_t *main_attr;
	uint32_t dim_sets;
	uint32_t n_slow;
	const uint32_t *slow;		/* terms that are whole rules the tree walk decides */
	/*
	 * The METHOD dim's answer for each method the parser names (enum
	 * hf_h1_method, OTHER left out), nw words from method * nw: the terms it
	 * lets live, (dflt | P) & ~N, worked out by the agent with the worker's
	 * own matching (hf_authz_dim_keep), so a request's method costs one load
	 * instead of a lookup. NULL: no METHOD dim; a method the parser does not
	 * name is looked up.
	 */
	const uint64_t *method_keep;
	uint16_t method_dim;
	/* this index's number, each the agent builds its own (a worker's hf_authz_memo) */
	uint64_t serial;
};

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
	const struct hf_authz_policy *deny, *allow, *audit;
	const struct hf_authz_ix *ix;	/* NULL: the tree walk decides (a model, too many terms) */
	struct hf_authz_mem *mem;	/* owned: every allocation above */
};

#endif
