/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "control-agent/xds/node.h"

static void
str_value(Google__Protobuf__Value *v, const char *s)
{
	google__protobuf__value__init(v);
	v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
	v->string_value = (char *)s;
}

void
hf_xds_node_init(struct hf_xds_node *n, const struct hf_bootstrap *b)
{
	const struct hf_boot_xds *x = &b->xds;
	unsigned int i;

	memset(n, 0, sizeof(*n));
	envoy__config__core__v3__node__init(&n->node);
	google__protobuf__struct__init(&n->meta);
	google__protobuf__struct__init(&n->labels);
	n->node.id = (char *)x->node_id;
	n->node.cluster = (char *)x->cluster;
	n->node.user_agent_name = (char *)"hydrofoil";
	n->node.user_agent_version_type_case =
	        ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_VERSION;
	n->node.user_agent_version = (char *)HF_VERSION;
	for (i = 0; i < x->n_meta; i++) {
		google__protobuf__struct__fields_entry__init(&n->ent[i]);
		n->ent[i].key = (char *)x->meta_key[i];
		str_value(&n->val[i], x->meta_val[i]);
		n->ent[i].value = &n->val[i];
		n->pent[i] = &n->ent[i];
	}
	/* LABELS: the node's labels, key=value each, as a Struct of strings */
	for (unsigned int j = 0; j < b->n_labels; j++) {
		const char *eq = strchr(b->labels[j], '=');

		snprintf(n->lkey[j], sizeof(n->lkey[j]), "%.*s", (int)(eq - b->labels[j]),
		         b->labels[j]);
		google__protobuf__struct__fields_entry__init(&n->lent[j]);
		n->lent[j].key = n->lkey[j];
		str_value(&n->lval[j], eq + 1);
		n->lent[j].value = &n->lval[j];
		n->plent[j] = &n->lent[j];
	}
	n->labels.n_fields = b->n_labels;
	n->labels.fields = n->plent;
	google__protobuf__struct__fields_entry__init(&n->ent[i]);
	n->ent[i].key = (char *)"LABELS";
	google__protobuf__value__init(&n->val[i]);
	n->val[i].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
	n->val[i].struct_value = &n->labels;
	n->ent[i].value = &n->val[i];
	n->pent[i] = &n->ent[i];
	n->meta.n_fields = i + 1;
	n->meta.fields = n->pent;
	n->node.metadata = &n->meta;
}
