/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_ISTIO_INT_H
#define HF_ISTIO_INT_H

/*
 * Inside the Istio loader: the YAML tree and the load state its files share.
 *   yaml.c       files into trees (libyaml events)
 *   filecache.c  trees kept between loads for files whose bytes did not change
 *   docs.c       a file split at its document markers; a long sequence's changed items re-parsed
 *   tree.c       arena, messages, typed field access, durations, name index
 *   resources.c  which files, what each document is, hosts, exportTo, labels
 *   services.c   ServiceEntry, WorkloadEntry, clusters, destinations
 *   destrule.c   DestinationRule: policies and subsets
 *   http.c       VirtualService http routes
 *   gateway.c    Gateways into listeners, binding, tcp routes, hf_istio_load()
 *   values.c     what goes onto the wire as written: header names and values, paths, authorities
 *   envoyfilter.c  EnvoyFilter: Envoy's local rate limit only
 *   authz.c      AuthorizationPolicy (security.istio.io) into the model's struct hf_authz
 *
 * Everything here lives in one arena freed when the load ends; only what
 * goes into the struct hf_model is malloc'ed on its own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control-agent/istio/istio.h"

#define IST_PATH 256		/* longest field path in a message */
#define IST_MAX_DEPTH 64	/* deeper YAML is refused */
#define IST_MAX_NODES 1000000	/* per file, aliases counted whole each time: bombs are refused */
#define IST_SPLICE_MIN 16	/* block sequences this long are indexed for re-parsing items alone */

/* A YAML node. Plain scalars are typed by YAML 1.2's core schema; quoted ones are strings. */
enum yn_type { YN_NULL, YN_STR, YN_INT, YN_FLOAT, YN_BOOL, YN_MAP, YN_SEQ };

struct yn {
	enum yn_type type;
	unsigned int line;		/* 1-based */
	unsigned int kline;		/* MAP and SEQ values of a key: the key's line, else 0 */
	unsigned long size;		/* nodes in this subtree, itself included */
	const char *s;			/* scalars: the text, quotes and escapes resolved */
	unsigned int n;			/* MAP: pairs; SEQ: items */
	struct yn **key;		/* MAP: the keys, scalars */
	struct yn **val;		/* MAP: the values; SEQ: the items */
};

enum ist_kind { IST_GATEWAY, IST_VS, IST_DR, IST_SE, IST_WE, IST_EF, IST_AP, IST_RA, IST_TM };

/* One resource (a YAML document) and where it came from. */
struct ist_res {
	enum ist_kind kind;
	const char *file;
	const char *ns, *name;
	const struct yn *root, *spec;
	unsigned int line;		/* of metadata.name, for "already defined at" */
	/*
	 * The parse its tree came from (filecache.c: a number no other parse
	 * had, kept while the file's bytes do not change); 0 without a cache.
	 * With root, it names the document across loads.
	 */
	uint64_t parse;
};

struct ist_port {
	uint32_t number, target;	/* target 0: none */
	const char *name, *protocol;	/* protocol upper case */
};

struct ist_ep {
	uint32_t addr;			/* IPv4, network order */
	uint32_t weight;
	const char *locality;		/* NULL: none */
	const struct yn *labels;	/* MAP of strings, or NULL */
	const struct yn *ports;		/* MAP port name -> number, or NULL */
	const char *sa;			/* serviceAccount (the ServiceEntry's namespace); NULL */
};

enum ist_resolution { IST_RES_NONE, IST_RES_STATIC, IST_RES_DNS };

struct ist_se {
	const struct ist_res *res;
	enum ist_resolution resolution;
	unsigned int n_ports;
	struct ist_port *ports;
	unsigned int n_eps;
	struct ist_ep *eps;
	const struct yn *export_to;	/* SEQ or NULL */
	const struct yn *sans;		/* subjectAltNames (SEQ) or NULL */
};

/* A service: one host of a ServiceEntry. */
struct ist_svc {
	const char *fqdn;
	const struct ist_se *se;
};

struct ist_dr {
	const struct ist_res *res;
	const char *host;		/* resolved */
	const struct yn *policy;	/* trafficPolicy, or NULL */
	const struct yn *subsets;	/* SEQ, or NULL */
	const struct yn *export_to;
};

/* How a VirtualService is being translated: for one listener, or only checked. */
struct ist_bind {
	uint32_t port;			/* the listener's; 0: checking only, all blocks kept */
	unsigned int n_gws;
	const struct ist_res *const *gws;	/* Gateways on it the VirtualService binds to */
};

struct ist_chunk;
struct ist_recording;

/* Open-addressing index of names to array positions (+1; 0 is empty), in the arena. */
struct ist_index {
	unsigned int mask;
	unsigned int *slot;
	const char **key;
};

struct ist {
	char *err;
	size_t errlen;
	const char *path;		/* as given to hf_istio_load */
	const char *creds_dir;		/* config.credentials_dir; NULL: none */
	const struct hf_istio_identity *identity;	/* the node's mesh identity; NULL: none */
	struct ist_chunk *arena;
	size_t chunk;			/* size of the arena's next chunk; 0: the default */
	struct hf_istio_cache *cache;	/* parsed files kept between loads; NULL: none */
	struct hf_istio_stats *stats;	/* where the load's times and counts go; NULL: nowhere */
	struct ist_recording *recording;	/* filecache.c: the file being parsed into the cache */
	uint64_t cur_parse;		/* the parse of the documents being handed out (ist_res.parse) */
	/*
	 * What a VirtualService's http routes depend on besides its own tree
	 * (gateway.c: every other resource's parse and tree, the namespaces);
	 * 0: its translation is not kept.
	 */
	uint64_t vs_context;
	unsigned int vs_reused;		/* VirtualServices whose routes came from the cache */

	/* the resource being looked at, for messages */
	const char *cur_file;
	const char *cur_kind;
	const char *cur_ns, *cur_name;

	const char *const *labels;
	unsigned int n_labels;
	/* AuthorizationPolicy selection (authz.c): NULL for "default" and "istio-system" */
	const char *node_ns, *root_ns;
	uint32_t xff_trusted_hops;	/* copied into the policies (struct hf_authz) */

	unsigned int n_res;
	struct ist_res *res;
	unsigned int n_ns;
	const char **namespaces;	/* every metadata.namespace seen, for "name.ns" hosts */
	unsigned int n_se;
	struct ist_se *se;
	unsigned int n_svc;
	struct ist_svc *svc;
	unsigned int n_dr;
	struct ist_dr *dr;
	/* exact hosts; DestinationRules with wildcard hosts are scanned */
	struct ist_index svc_by_host, dr_by_host;

	/* per resource: the http routes a VirtualService's check made, for its first binding */
	struct hf_model_vhost *stash;	/* = stash_m.route_configs[0].vhosts, freed with it */
	struct hf_model stash_m;

	struct hf_model m;		/* being built */
};

/* tree.c: memory */
void *ist_alloc(struct ist *st, size_t n);
char *ist_strdup(struct ist *st, const char *s);
char *ist_fmt(struct ist *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ist_arena_free(struct ist *st);
/* hands the chunks of another arena to @p st's, freed with it */
void ist_arena_adopt(struct ist *st, struct ist_chunk *chunks);
/* grows @p *arr (n elements of @p size, capacity the next power of two) by one zeroed element */
void *ist_push(void *arr, unsigned int *n, size_t size);
char *ist_mdup(const char *s);		/* malloc'ed copy for the model; NULL: out of memory */

/* tree.c: name -> position; build with @p n names from @p name_of(ctx, i) */
int ist_index_build(struct ist *st, struct ist_index *ix, unsigned int n,
		    const char *(*name_of)(const struct ist *st, unsigned int i));
/* the position of @p name, or -1 */
int ist_index_find(const struct ist_index *ix, const char *name);

/* tree.c: messages. Each returns the negative errno to pass up. */
int ist_fail(struct ist *st, const struct yn *at, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int ist_oom(struct ist *st);
void ist_set_cur(struct ist *st, const struct ist_res *r);

/*
 * A document's longest block sequence (at least IST_SPLICE_MIN items), noted
 * by its parse so that a later load may re-parse only the items whose
 * bytes changed (docs.c).
 */
struct ist_seqix {
	unsigned int n;			/* items; 0: none noted */
	unsigned int col;		/* 0-based column of its '-' indicators */
	unsigned int end_line;		/* 1-based line of what ends it (next token, or the end) */
	unsigned int depth;		/* its ancestors; 0: it is the document's root */
	bool indentless;		/* a block mapping's value at the mapping's column */
	/* its place in each ancestor, from the root: kids as the parse stacks them (key, value, ...) */
	unsigned int path[IST_MAX_DEPTH];
};

/* What ist_parse_piece() found in its bytes. */
struct ist_piece_parse {
	const struct yn *root;		/* the non-empty document; NULL: none */
	unsigned int n_docs;		/* documents, empty ones included */
	unsigned long nodes;		/* as IST_MAX_NODES counts them */
	unsigned int max_depth;		/* the deepest nesting of collections */
	bool aliases;			/* an anchor or alias was seen: nodes may be shared */
	bool root_block;		/* the root is a block collection */
	unsigned int root_col;		/* the 0-based column where the root starts */
	bool kid_block;			/* the same for the root's first child collection */
	unsigned int kid_col;
	struct ist_seqix seq;
};

/* yaml.c: reading one file into documents, each handed to @p doc */
int ist_read_yaml(struct ist *st, const char *file,
		  int (*doc)(struct ist *st, const char *file, const struct yn *root));
/* yaml.c: ist_read_yaml() over @p len bytes at @p data, named @p file in messages */
int ist_parse_yaml(struct ist *st, const char *file, const void *data, size_t len,
		   int (*doc)(struct ist *st, const char *file, const struct yn *root));
/*
 * yaml.c: parses @p len bytes at @p data, a piece of @p file after its first
 * @p line0 lines (lines in trees and messages count from the file's start),
 * into st's arena without handing documents out: what it found goes to
 * @p out. 0, or a negative errno with the message in st->err.
 */
int ist_parse_piece(struct ist *st, const char *file, const void *data, size_t len,
		    unsigned int line0, struct ist_piece_parse *out);

/* A piece of a file: a document and what precedes its end (docs.c). */
struct ist_piece {
	size_t off, len;		/* its bytes in the file's */
	unsigned int line0;		/* the file's lines before it */
};

/*
 * docs.c: cuts @p len bytes at @p data before each document start marker
 * (a line starting with "---" and a blank or its end: YAML 1.2 section
 * 9.1.2; libyaml takes one at column 0 wherever it is, and no scalar runs
 * across one), each piece holding at most one document, parsed alone as
 * it is within the whole. Returns 0 with *@p out (malloc'ed, *@p n
 * pieces, the first at 0), 1 when the bytes hold what a piece parsed
 * alone might read otherwise (directives, line breaks other than LF and
 * CRLF, a UTF-16 byte order mark, NUL bytes): the file is parsed whole;
 * or -ENOMEM.
 */
int ist_yaml_split(const char *data, size_t len, struct ist_piece **out, unsigned int *n);

/* docs.c: a hash of @p len bytes (not for adversaries: equal hashes are compared byte by byte) */
uint64_t ist_bytes_hash(const void *data, size_t len);

/*
 * docs.c: the byte offsets, within the @p len bytes at @p data of a piece
 * after @p line0 lines of its file, of the items of sequence @p ix in @p root
 * (@p ix->n + 1: each item's line start, then where the sequence's bytes
 * end). 0 with *@p off malloc'ed; 1 when an item does not start its line
 * ('-' at the sequence's column after spaces only): not indexed; -ENOMEM.
 */
int ist_seq_offsets(const char *data, size_t len, unsigned int line0, const struct yn *root,
		    const struct ist_seqix *ix, size_t **off);

/*
 * docs.c: the tree of document @p nb (@p nl bytes of @p file) made from
 * the tree @p old_root of document @p ob (@p ol bytes, starting on the same
 * line of the file) by re-parsing alone only the items of its indexed sequence
 * (@p ix, item offsets @p off) that hold changed bytes; what does not change
 * is shared with the old tree. 0 with @p out (root, nodes, seq) and
 * *@p new_off (malloc'ed, or NULL when the new items cannot be indexed);
 * 1 when the change cannot be made so (it crosses the sequence's bounds,
 * changes the number of lines, the re-parsed items do not read as items of
 * that sequence, ...): parse the document whole; or -ENOMEM. The new nodes
 * go to st's arena.
 */
int ist_splice(struct ist *st, const char *file, const char *ob, size_t ol,
	       const struct yn *old_root, const struct ist_seqix *ix, const size_t *off,
	       const char *nb, size_t nl, struct ist_piece_parse *out, size_t **new_off);

/* tree.c: the bytes held by the chunks of an arena */
size_t ist_arena_size(const struct ist_chunk *chunks);

/* yaml.c: the bytes of @p file, malloc'ed into *@p data; 0, -ENOENT or -ENOMEM with st->err */
int ist_slurp(struct ist *st, const char *file, char **data, size_t *len);
/*
 * filecache.c: ist_read_yaml() through st->cache: a file whose bytes are those
 * of an earlier load hands @p doc the trees that load parsed (documents
 * checked again, not parsed again); other files are parsed into trees the
 * cache keeps. Without a cache, ist_read_yaml().
 */
int ist_read_cached(struct ist *st, const char *file,
		    int (*doc)(struct ist *st, const char *file, const struct yn *root));
/* filecache.c: forgets the files this load did not read (removed, renamed, or after an error) */
void ist_cache_sweep(struct ist *st);
/*
 * filecache.c: whether Hyperscan took regex @p re in an earlier check (false
 * without a cache), and remembering that it did: the check costs tens of µs
 * a regex, which thousands of routes add up to on every reload.
 */
bool ist_cache_regex_known(const struct ist *st, const char *re);
void ist_cache_regex_add(struct ist *st, const char *re);
/*
 * filecache.c: the http routes VirtualService @p vs became in an earlier
 * load with the same st->vs_context (its tree unchanged, and everything
 * else it may depend on), NULL when none; and keeping them (one reference
 * taken). A translation kept and not asked for in a load is forgotten at
 * the next.
 */
struct hf_model_piece *ist_cache_vs_find(struct ist *st, const struct ist_res *vs);
void ist_cache_vs_put(struct ist *st, const struct ist_res *vs, struct hf_model_piece *p);

/* tree.c: typed access. Getters return 1 (present), 0 (absent or null) or a negative errno. */
const char *ist_path(char *buf, const char *parent, const char *key);
const char *ist_pathi(char *buf, const char *parent, unsigned int i);
const char *ist_type_name(enum yn_type t);
const struct yn *ist_get(const struct yn *map, const char *key);
const struct yn *ist_key(const struct yn *map, const char *key);
int ist_keys(struct ist *st, const struct yn *map, const char *path, const char *const *known,
	     const char *const *unsupported);
int ist_want(struct ist *st, const struct yn *v, const char *path, enum yn_type t);
int ist_get_map(struct ist *st, const struct yn *map, const char *path, const char *key,
		bool required, const struct yn **out);
int ist_get_seq(struct ist *st, const struct yn *map, const char *path, const char *key,
		bool required, const struct yn **out);
int ist_get_str(struct ist *st, const struct yn *map, const char *path, const char *key,
		bool required, const char **out);
int ist_get_u32(struct ist *st, const struct yn *map, const char *path, const char *key,
		bool required, uint32_t lo, uint32_t hi, uint32_t *out);
int ist_get_bool(struct ist *st, const struct yn *map, const char *path, const char *key,
		 bool *out);
int ist_get_ms(struct ist *st, const struct yn *map, const char *path, const char *key,
	       uint32_t *out);
int ist_get_percent(struct ist *st, const struct yn *map, const char *path, const char *key,
		    double *out);
int ist_get_strs(struct ist *st, const struct yn *map, const char *path, const char *key,
		 bool required, const struct yn **out);
int ist_get_strmap(struct ist *st, const struct yn *map, const char *path, const char *key,
		   const struct yn **out);
int ist_parse_ms(const char *s, uint32_t *ms);
int ist_one_of(const char *s, const char *const *names);
int ist_get_enum(struct ist *st, const struct yn *map, const char *path, const char *key,
		 const char *const *names, const char *list, int *out);

/*
 * values.c: what goes onto the wire as written. Each returns 0, or the
 * negative errno of ist_fail() naming @p at and @p path.
 */
/* @p s as a message may show it: control, non-ASCII, '\\' and '\'' bytes as \xNN, cut to @p cap */
const char *ist_shown(char *buf, size_t cap, const char *s);
/* an RFC 9110 token (a field name, a method); @p what names it in the message */
int ist_check_token(struct ist *st, const struct yn *at, const char *path, const char *what,
		    const char *s);
/* a field value: no CR, LF, NUL or other control byte (HTAB is allowed) */
int ist_check_field_value(struct ist *st, const struct yn *at, const char *path, const char *s);
/* origin-form: visible ASCII, '%' before two hex digits; '/' first when @p rooted */
int ist_check_path(struct ist *st, const struct yn *at, const char *path, const char *s,
		   bool rooted, bool fragment);
/* host[:port]: reg-name, IPv4 or [IPv6], port 1..65535; *@p has_port says whether one is there */
int ist_check_authority(struct ist *st, const struct yn *at, const char *path, const char *s,
			bool *has_port);

/* resources.c */
int ist_collect(struct ist *st, const char *path);
const char *ist_resolve_host(struct ist *st, const char *host, const char *ns);
bool ist_host_covers(const char *pattern, const char *host);
bool ist_exported(const struct yn *export_to, const char *own_ns, const char *to_ns);
int ist_check_export(struct ist *st, const struct yn *spec, const char *path);
bool ist_labels_match(const struct yn *selector, const struct yn *labels);
/* Whether the node's labels ("k=v" each) hold every pair of @p sel (a MAP, or NULL: yes). */
bool ist_node_has_labels(const struct ist *st, const struct yn *sel);
/* The mesh's root namespace (meshConfig.rootNamespace; "istio-system"). */
const char *ist_root_ns(const struct ist *st);
/* The node's namespace: node.namespace, else its mesh identity's (spiffe://td/ns/NS/sa/SA), else "default"; NULL: out of memory. */
const char *ist_node_ns(struct ist *st);

#define IST_CONNECT_TIMEOUT_MS 10000	/* Istio's connectTimeout default */
#define IST_DEFAULT_LB HF_LB_LEAST_REQUEST	/* Istio's default since 1.14 */

/* destrule.c */
int ist_dest_rules(struct ist *st);
/* The DestinationRule of @p fqdn: its own host, else the longest wildcard covering it. */
const struct ist_dr *ist_find_dr(const struct ist *st, const char *fqdn);
/*
 * destrule.c: an ISTIO_MUTUAL cluster @p c of ServiceEntry @p se (its endpoints
 * selected by @p sel) without subjectAltNames of its own gets those the server
 * may show: the ServiceEntry's subjectAltNames, else the SPIFFE IDs of its
 * endpoints' service accounts. 0 or -ENOMEM.
 */
int ist_mesh_sans(struct ist *st, const struct ist_se *se, const struct yn *sel,
		  struct hf_model_cluster *c);
int ist_apply_policy(struct ist *st, const struct yn *tp, const char *path, uint32_t port,
		     struct hf_model_cluster *c);

/* services.c */
int ist_services(struct ist *st);
int ist_clusters(struct ist *st);
/* Resolves a Destination {host, subset, port} of @p vs into a cluster name (malloc'ed in *out). */
int ist_destination(struct ist *st, const struct ist_res *vs, const struct yn *dest,
		    const char *path, char **out);

/* http.c: appends @p vs's http routes, as bound by @p b, to @p vh */
int ist_http_routes(struct ist *st, const struct ist_res *vs, const struct ist_bind *b,
		    struct hf_model_vhost *vh);
/* Weighted destinations (HTTPRouteDestination when @p http, else RouteDestination): sum 100. */
int ist_destinations(struct ist *st, const struct ist_res *vs, const struct yn *seq,
		     const char *path, bool http, unsigned int *n, struct hf_model_weighted **out);
int ist_header_ops(struct ist *st, const struct yn *map, const char *path, const char *key,
		   unsigned int *n_rq, struct hf_model_header_op **rq, unsigned int *n_rs,
		   struct hf_model_header_op **rs);
/* whether binding @p b keeps every match block of @p vs's http routes (then it changes nothing) */
bool ist_http_all_apply(struct ist *st, const struct ist_res *vs, const struct ist_bind *b);
bool ist_match_gateways(struct ist *st, const struct ist_res *vs, const struct yn *gws,
			const struct ist_bind *b);

/* whether match block @p m (http or tcp) applies to @p b's listener: gateways, port */
bool ist_block_applies(struct ist *st, const struct ist_res *vs, const struct yn *m,
		       const struct ist_bind *b);


/* envoyfilter.c: EnvoyFilters' local rate limits onto the listeners, virtual hosts and routes built */
int ist_envoy_filters(struct ist *st);
/* authz.c: checks every AuthorizationPolicy, and puts those selecting the node into st->m.authz */
int ist_authz(struct ist *st);
/* requestauthn.c: RequestAuthentication (security.istio.io) */
/* 1 with *@p out when @p api / @p kind is a RequestAuthentication, 0 when not, or an error. */
int ist_security_kind(struct ist *st, const struct yn *root, const char *api, const char *kind,
		      enum ist_kind *out);
/* Checks every RequestAuthentication; the jwtRules of those that apply become st->m.jwt. */
int ist_request_authn(struct ist *st);

/* telemetry.c: Telemetry (telemetry.istio.io), its metrics part */
/* 1 with *@p out when @p api / @p kind is a Telemetry, 0 when not of that group, or an error. */
int ist_telemetry_kind(struct ist *st, const struct yn *root, const char *api, const char *kind,
		       enum ist_kind *out);
/* Checks every Telemetry; the metrics those that apply disable become st->m.metrics_off. */
int ist_telemetry(struct ist *st);

/* A Gateway server's TLS settings (gateway_tls.c) */
/* Whether server tls block @p tls passes TLS through: mode PASSTHROUGH, or none (its default). */
bool hf_ist_passthrough(const struct yn *tls);
/* Checks a passthrough server's tls block: mode only. */
int hf_ist_check_passthrough(struct ist *st, const struct yn *tls, const char *path);
/* Checks an HTTPS or terminated TLS server's tls block @p tls of server @p s. */
int hf_ist_check_https(struct ist *st, const struct yn *s, const struct yn *tls, const char *path);
/* Reads the certificates, keys and CAs server @p s names into @p t. */
int hf_ist_load_https(struct ist *st, const struct yn *s, const char *path, struct hf_model_tls *t);

#endif
