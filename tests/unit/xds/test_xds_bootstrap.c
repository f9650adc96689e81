/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootstrap's xds block and the node identity sent from it: istiod's
 * node id built from the metadata when not given, the metadata keys istiod
 * reads (others refused), one source of dynamic configuration only; the Node
 * message as the server decodes it (id, cluster, metadata strings, LABELS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/bootstrap.h"
#include "control-agent/xds/node.h"

static struct hf_bootstrap boot;
static char err[HF_BOOT_ERR];

static int
load(const char *text)
{
	char path[] = "/tmp/hf-xds-boot-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("ports = ( { name = \"p0\"; device = \"net_tap0\"; address = \"198.51.100.2/24\"; } "
	      ");\n",
	      f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	rc = hf_bootstrap_load(&boot, path, err, sizeof(err));
	unlink(path);
	return rc;
}

static const char meta[] =
        "metadata = { ISTIO_VERSION = \"1.24.0\"; NAMESPACE = \"istio-system\"; NAME = \"gw-0\";"
        " INSTANCE_IPS = \"198.51.100.2,198.51.100.3\"; MESH_ID = \"cluster.local\"; }; };\n";

static void
test_node_id(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
	         "node = { cluster = \"gw\"; labels = [ \"istio=ingressgateway\", "
	         "\"app=gw\" ]; };\nxds = { address = \"127.0.0.1\"; port = 15010; %s",
	         meta);
	assert_int_equal(load(text), 0);
	assert_int_equal(boot.xds.port, 15010);
	assert_int_equal(boot.xds.addr, hf_test_addr("127.0.0.1"));
	assert_string_equal(boot.xds.node_id,
	                    "router~198.51.100.2~gw-0.istio-system~istio-system.svc.cluster.local");
	assert_string_equal(boot.xds.cluster, "gw");
	assert_int_equal(boot.xds.n_meta, 5);

	/* given, it is taken as it is */
	snprintf(text, sizeof(text),
	         "xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n1\";"
	         " cluster = \"c1\"; };\n");
	assert_int_equal(load(text), 0);
	assert_string_equal(boot.xds.node_id, "n1");
	assert_string_equal(boot.xds.cluster, "c1");

	/* without the block: no xDS */
	assert_int_equal(load(""), 0);
	assert_int_equal(boot.xds.port, 0);
}

/* The variant (Envoy's api_type) and the initial fetch timeout: defaults and given. */
static void
test_variant(void **state)
{
	(void)state;
	assert_int_equal(
	        load("xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\"; };\n"), 0);
	assert_false(boot.xds.delta);
	assert_int_equal(boot.xds.initial_fetch_timeout_ms, 15000);
	assert_int_equal(load("xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\";"
	                      " api_type = \"DELTA_GRPC\"; initial_fetch_timeout_ms = 1000; };\n"),
	                 0);
	assert_true(boot.xds.delta);
	assert_int_equal(boot.xds.initial_fetch_timeout_ms, 1000);
	assert_int_equal(load("xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\";"
	                      " api_type = \"GRPC\"; initial_fetch_timeout_ms = 0; };\n"),
	                 0);
	assert_false(boot.xds.delta);
	assert_int_equal(boot.xds.initial_fetch_timeout_ms, 0);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	        {"xds = { address = \"127.0.0.1\"; port = 15010; };\n", "xds.node_id: not given"},
	        {"xds = { address = \"istiod\"; port = 15010; node_id = \"n\"; };\n",
	         "xds.address: 'istiod' is not an IPv4 address"},
	        {"xds = { address = \"127.0.0.1\"; node_id = \"n\"; };\n", "port"},
	        {"xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\"; metadata = "
	         "{ POD_NAME = \"x\"; }; };\n",
	         "POD_NAME"},
	        {"xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\"; tls = true; };\n",
	         "tls"},
	        {"config = { istio_dir = \"/tmp\"; };\n"
	         "xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\"; };\n",
	         "pick one"},
	        {"xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\";"
	         " api_type = \"REST\"; };\n",
	         "xds.api_type: 'REST': want GRPC (state of the world) or DELTA_GRPC"},
	        {"xds = { address = \"127.0.0.1\"; port = 15010; node_id = \"n\";"
	         " initial_fetch_timeout_ms = -1; };\n",
	         "initial_fetch_timeout_ms"},
	};
	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].text), -EINVAL);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, cases[i].want);
	}
}

static const Google__Protobuf__Value *
field(const Google__Protobuf__Struct *s, const char *key)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (strcmp(s->fields[i]->key, key) == 0)
			return s->fields[i]->value;
	return NULL;
}

static void
test_node_message(void **state)
{
	static struct hf_xds_node n;
	char text[1024];
	Envoy__Config__Core__V3__Node *d;
	const Google__Protobuf__Value *v;
	uint8_t *buf;
	size_t len;

	(void)state;
	snprintf(text, sizeof(text),
	         "node = { cluster = \"gw\"; labels = [ \"istio=ingressgateway\", "
	         "\"app=gw\" ]; };\nxds = { address = \"127.0.0.1\"; port = 15010; %s",
	         meta);
	assert_int_equal(load(text), 0);
	hf_xds_node_init(&n, &boot);
	len = envoy__config__core__v3__node__get_packed_size(&n.node);
	buf = malloc(len);
	assert_non_null(buf);
	envoy__config__core__v3__node__pack(&n.node, buf);
	d = envoy__config__core__v3__node__unpack(NULL, len, buf);
	assert_non_null(d);
	assert_string_equal(d->id, boot.xds.node_id);
	assert_string_equal(d->cluster, "gw");
	assert_string_equal(d->user_agent_name, "hydrofoil");
	assert_non_null(d->metadata);
	v = field(d->metadata, "NAMESPACE");
	assert_non_null(v);
	assert_int_equal(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	assert_string_equal(v->string_value, "istio-system");
	v = field(d->metadata, "INSTANCE_IPS");
	assert_non_null(v);
	assert_string_equal(v->string_value, "198.51.100.2,198.51.100.3");
	v = field(d->metadata, "LABELS");
	assert_non_null(v);
	assert_int_equal(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	assert_int_equal(v->struct_value->n_fields, 2);
	v = field(v->struct_value, "app");
	assert_non_null(v);
	assert_string_equal(v->string_value, "gw");
	envoy__config__core__v3__node__free_unpacked(d, NULL);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_node_id),
	        cmocka_unit_test(test_variant),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_node_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
