/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_ADS_INT_H
#define HF_XDS_ADS_INT_H

/*
 * What the ADS client's files share: the resources held per type (each with
 * its own version, as delta xDS needs and config_dump shows), the names
 * subscribed with when each was first asked for (the "does not exist"
 * timeout), and the client itself. ads.c holds the store and the state of
 * the world variant, delta.c the incremental one, build.c what turns the
 * store into a model (warming, make-before-break, missing clusters).
 */
#include <stdbool.h>
#include <stdint.h>

#include "control-agent/xds/grpc.h"
#include "control-agent/xds/node.h"
#include "control-agent/xds/translate.h"
#include "control-agent/xds/xds.h"

/* google.rpc.Code INVALID_ARGUMENT */
#define HF_XDS_CODE_INVALID_ARGUMENT 3
#define HF_XDS_ERR                   512

/*
 * The order the subscriptions open in: clusters before listeners (make
 * before break); secrets, named by both, last.
 */
enum hf_xds_type { T_CDS, T_EDS, T_LDS, T_RDS, T_SDS, T__N };

extern const char *const hf_xds_type_url[T__N];
extern const char *const hf_xds_type_name[T__N];

struct res {
	char *name;
	char *version; /* delta: the resource's own; state of the world: the response's */
	ProtobufCMessage *msg;
	char *ref;          /* LDS: its RDS name; CDS: its EDS name; else NULL */
	unsigned int n_sds; /* LDS, CDS: the Secrets its TLS names (it waits for them) */
	char **sds;
	uint64_t updated_ms; /* wall clock (ms since the epoch) when it was accepted */
	/*
	 * Make before break: the version that served before msg, kept while
	 * msg waits for what it references (a new route configuration or
	 * assignment name); freed once msg is served. NULL: none.
	 */
	ProtobufCMessage *old_msg;
	char *old_ref, *old_version;
	unsigned int n_old_sds;
	char **old_sds;
	uint64_t old_updated_ms;
	bool served; /* msg has been part of a snapshot */
	/*
	 * RDS: msg translated when it was checked, lent to every build while
	 * msg is held (build.c), so neither the push nor later rebuilds (new
	 * endpoints) translate it again; NULL: translate when building.
	 */
	struct hf_model_piece *tr;
};

/* A name subscribed (RDS, EDS), beside struct sub's names. */
struct want {
	uint64_t since_ms; /* first asked for (monotonic); a reconnect keeps it */
	bool absent;       /* the server said it does not exist (delta removed_resources) */
	bool timed_out;    /* logged as not existing after the initial fetch timeout */
	bool logged;       /* "warming: waiting for" logged */
};

struct sub {
	char *version; /* version_info / system_version_info of the last accepted response */
	char *nonce;   /* of the last response on this stream */
	unsigned int n;
	struct res *r; /* accepted resources */
	unsigned int n_names;
	char **names;      /* RDS, EDS: the names subscribed; sorted */
	struct want *want; /* one per name */
	uint64_t acks, nacks;
	char *last_error;   /* the last NACK's error_detail, NULL after an ACK */
	char *nack_name;    /* the resource it refused, NULL when unknown */
	char *nack_version; /* the version refused */
	uint64_t nack_ms;   /* when (wall clock, ms since the epoch) */
};

struct hf_xds {
	const struct hf_bootstrap *boot;
	unsigned int n_workers;
	bool delta; /* DeltaAggregatedResources (bootstrap api_type DELTA_GRPC) */
	struct hf_grpc *g;
	struct hf_xds_node node;
	bool node_sent;
	bool dirty; /* accepted resources changed since the last build */
	uint64_t now_ms;
	int n_missing; /* clusters named but not there, in the last build */
	/* The model of the last snapshot built (config_dump), its first n_static[] from the
	 * bootstrap: listeners, route configurations, clusters. */
	struct hf_model model;
	unsigned int n_static[3];
	struct sub s[T__N];
	uint64_t cnt[HF_XDS_CNT__N]; /* those grpc.c does not keep */
};

void hf_xds_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup into *@p dst (freed first): 0 or -ENOMEM. */
int hf_xds_set_str(char **dst, const char *src);

/* Frees what @p n resources hold, not the array. */
void hf_xds_res_clear(struct res *r, unsigned int n);

/* The resource named @p name of @p s, or NULL. */
struct res *hf_xds_find(const struct sub *s, const char *name);

/*
 * Decodes Any @p a of a type @p t response into @p r (name, message, what
 * it references), after checking it translates alone. 0, or -EINVAL with
 * one line in @p err naming the resource and the field; r->msg and r->name
 * are set whenever decoded (free with hf_xds_res_clear()).
 */
int hf_xds_decode(enum hf_xds_type t, const Google__Protobuf__Any *a, size_t i, struct res *r,
                  char *err, size_t errlen);

/*
 * Takes @p r into @p s (by name: replaces the one held, keeping the one that
 * served for make-before-break, or adds it). 0 or -ENOMEM (then @p r is
 * cleared).
 */
int hf_xds_store(struct sub *s, struct res *r);

/*
 * Records a NACK of @p s for config_dump's error_state: @p err, the resource
 * refused (@p name, NULL when unknown) and its @p version. An ACK clears it
 * (hf_xds_acked()).
 */
void hf_xds_nacked(struct sub *s, const char *name, const char *version, const char *err);
void hf_xds_acked(struct sub *s);

/* Removes the resource named @p name from @p s; true when there was one. */
bool hf_xds_remove(struct sub *s, const char *name);

/*
 * Recomputes the names type @p to must subscribe to from the references of
 * type @p from. When they changed: drops the resources no longer named,
 * sets *@p old / *@p n_old to the names before (the caller frees them with
 * hf_xds_names_free()) and returns true.
 */
bool hf_xds_resubscribe(struct hf_xds *x, enum hf_xds_type from, enum hf_xds_type to, char ***old,
                        unsigned int *n_old);

void hf_xds_names_free(char **v, unsigned int n);

/* The wanted entry of @p name in subscription @p t, or NULL when not subscribed by name. */
struct want *hf_xds_want(struct hf_xds *x, enum hf_xds_type t, const char *name);

/*
 * The references held changed (a response taken, a replaced version freed):
 * the RDS and EDS subscriptions follow, in the stream's variant.
 */
void hf_xds_refs_changed(struct hf_xds *x);

/* delta.c: the stream opened, a message arrived; the subscription of @p to follows @p from. */
void hf_xds_delta_open(struct hf_xds *x);
void hf_xds_delta_resubscribe(struct hf_xds *x, enum hf_xds_type from, enum hf_xds_type to);
void hf_xds_delta_message(struct hf_xds *x, const uint8_t *data, size_t len);

/* build.c: the model of what is held; a snapshot of it. */
struct hf_snapshot *hf_xds_build(struct hf_xds *x, uint64_t *version);

/* build.c: marks the names whose initial fetch timeout passed; true when one just did. */
bool hf_xds_timeouts(struct hf_xds *x);

#endif
