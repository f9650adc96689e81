/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_XDS_NODE_H
#define HF_XDS_NODE_H

#include "control-agent/bootstrap.h"
#include "xds_pb.h"

/*
 * The node identity sent in the stream's first request: id and cluster, and
 * the metadata istiod reads as a google.protobuf.Struct (the bootstrap's xds
 * metadata strings, LABELS from node.labels as a Struct). Points into the
 * bootstrap, which outlives it; no heap.
 */
struct hf_xds_node {
	Envoy__Config__Core__V3__Node node;
	Google__Protobuf__Struct meta, labels;
	Google__Protobuf__Struct__FieldsEntry ent[HF_BOOT_XDS_META + 1];
	Google__Protobuf__Struct__FieldsEntry *pent[HF_BOOT_XDS_META + 1];
	Google__Protobuf__Value val[HF_BOOT_XDS_META + 1];
	Google__Protobuf__Struct__FieldsEntry lent[HF_BOOT_MAX_LABELS];
	Google__Protobuf__Struct__FieldsEntry *plent[HF_BOOT_MAX_LABELS];
	Google__Protobuf__Value lval[HF_BOOT_MAX_LABELS];
	char lkey[HF_BOOT_MAX_LABELS][HF_BOOT_STR];
};

void hf_xds_node_init(struct hf_xds_node *n, const struct hf_bootstrap *b);

#endif
