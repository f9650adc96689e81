/* SPDX-License-Identifier: Apache-2.0 */
/*
 * istiod's HttpConnectionManager for a gateway listener
 * (tests/integration/xds/istiod/listener_hcm.json): taken whole, each
 * setting that changes what a request becomes recorded on the model's
 * listener, each one Hydrofoil cannot honour NACKed with the field's path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_test.h"
#include "control-agent/xds/translate.h"
#include "pb_from_json.h"

#define LN  "0.0.0.0_8080"
#define HCM "filter_chains[0].filters[0].typed_config"

static char err[512];

/* The fixture's listener with up to two edits, translated into @p m. */
static int
translate(struct hf_model *m, const char *from1, const char *to1, const char *from2,
          const char *to2)
{
	char *text = pbj_text("listener_hcm.json", LN), *rds = NULL;
	struct hf_xds_sds sds = {0};
	ProtobufCMessage *l;
	int rc;

	if (from1 != NULL)
		text = pbj_replace(text, from1, to1);
	if (from2 != NULL)
		text = pbj_replace(text, from2, to2);
	l = pbj_parse(&envoy__config__listener__v3__listener__descriptor, text);
	err[0] = '\0';
	rc = hf_xds_tr_listener((const void *)l, m, &rds, &sds, err, sizeof(err));
	protobuf_c_message_free_unpacked(l, NULL);
	for (unsigned int i = 0; i < sds.n; i++)
		free(sds.names[i]);
	free(sds.names);
	free(rds);
	return rc;
}

/* The whole HCM istiod writes (tracing, access log, websocket, request ids, XFCC) is taken. */
static void
test_hcm_istiod_accepted(void **state)
{
	struct hf_model m = {0};
	const struct hf_model_listener *l;

	(void)state;
	assert_int_equal(translate(&m, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(m.n_listeners, 1);
	l = &m.listeners[0];
	assert_int_equal(l->kind, HF_LISTENER_HTTP);
	assert_true(l->hcm_set);
	assert_int_equal(l->path_normalization, HF_PATH_MERGE_SLASHES);
	assert_int_equal(l->xff_num_trusted_hops, 1);
	assert_true(l->idle_timeout_set);
	assert_int_equal(l->idle_timeout_ms, 3600000);
	hf_model_free(&m);
}

static const struct {
	const char *from1, *to1, *from2, *to2;
	enum hf_path_mode path;
	uint32_t hops, idle_ms;
	bool idle_set;
} mapped[] = {
        /* normalize_path and merge_slashes off: Istio's pathNormalization NONE */
        {"\"normalize_path\":{\"value\":true}", "\"normalize_path\":{\"value\":false}",
         "\"merge_slashes\":true", "\"merge_slashes\":false", HF_PATH_NONE, 1, 3600000, true},
        /* normalize_path alone: BASE (RFC 3986 6) */
        {"\"merge_slashes\":true", "\"merge_slashes\":false", NULL, NULL, HF_PATH_BASE, 1, 3600000,
         true},
        /* %2F and %5C unescaped: DECODE_AND_MERGE_SLASHES */
        {"KEEP_UNCHANGED", "UNESCAPE_AND_FORWARD", NULL, NULL, HF_PATH_DECODE_AND_MERGE_SLASHES, 1,
         3600000, true},
        /* numTrustedProxies 3; use_remote_address unset (the edge regardless) */
        {"\"xff_num_trusted_hops\":1", "\"xff_num_trusted_hops\":3",
         "\"use_remote_address\":{\"value\":true},", "", HF_PATH_MERGE_SLASHES, 3, 3600000, true},
        /* no trusted hop (the field unset) */
        {",\"xff_num_trusted_hops\":1", "", NULL, NULL, HF_PATH_MERGE_SLASHES, 0, 3600000, true},
        /* idle_timeout 0: never; 90 s */
        {"\"idle_timeout\":{\"seconds\":3600}", "\"idle_timeout\":{}", NULL, NULL,
         HF_PATH_MERGE_SLASHES, 1, 0, true},
        {"\"idle_timeout\":{\"seconds\":3600}", "\"idle_timeout\":{\"seconds\":90}", NULL, NULL,
         HF_PATH_MERGE_SLASHES, 1, 90000, true},
        /* no common_http_protocol_options: Envoy's default */
        {"\"common_http_protocol_options\":{\"idle_timeout\":{\"seconds\":3600}},", "", NULL, NULL,
         HF_PATH_MERGE_SLASHES, 1, 0, false},
};

/* Each behaviour-changing setting lands on the model's listener as Envoy reads it. */
static void
test_hcm_mapped(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		struct hf_model m = {0};
		const struct hf_model_listener *l;

		if (translate(&m, mapped[i].from1, mapped[i].to1, mapped[i].from2, mapped[i].to2) !=
		    0)
			fail_msg("case %u: refused: %s", i, err);
		l = &m.listeners[0];
		if (!l->hcm_set || l->path_normalization != mapped[i].path ||
		    l->xff_num_trusted_hops != mapped[i].hops ||
		    l->idle_timeout_set != mapped[i].idle_set ||
		    l->idle_timeout_ms != mapped[i].idle_ms)
			fail_msg("case %u: path %d hops %u idle %u/%d", i,
			         (int)l->path_normalization, l->xff_num_trusted_hops,
			         l->idle_timeout_ms, l->idle_timeout_set);
		hf_model_free(&m);
	}
}

static const struct {
	const char *from1, *to1, *from2, *to2, *want;
} refused[] = {
        {"\"use_remote_address\":{\"value\":true}", "\"use_remote_address\":{\"value\":false}",
         NULL, NULL, HCM ": use_remote_address: false is not supported"},
        {"\"generate_request_id\":{\"value\":true}", "\"generate_request_id\":{\"value\":false}",
         NULL, NULL, HCM ": generate_request_id: false is not supported"},
        {"\"normalize_path\":{\"value\":true}", "\"normalize_path\":{\"value\":false}", NULL, NULL,
         HCM ": merge_slashes without normalize_path"},
        {"KEEP_UNCHANGED", "REJECT_REQUEST", NULL, NULL,
         HCM ": path_with_escaped_slashes_action: only KEEP_UNCHANGED and UNESCAPE_AND_FORWARD"},
        {"KEEP_UNCHANGED", "UNESCAPE_AND_REDIRECT", NULL, NULL,
         HCM ": path_with_escaped_slashes_action: only"},
        {"KEEP_UNCHANGED", "UNESCAPE_AND_FORWARD", "\"merge_slashes\":true",
         "\"merge_slashes\":false",
         HCM ": path_with_escaped_slashes_action UNESCAPE_AND_FORWARD "
             "without merge_slashes"},
        {"\"upgrade_type\":\"websocket\"", "\"upgrade_type\":\"CONNECT\"", NULL, NULL,
         HCM ".upgrade_configs[0]: upgrade_type 'CONNECT': Hydrofoil tunnels websocket only"},
        {"\"upgrade_type\":\"websocket\"",
         "\"upgrade_type\":\"websocket\",\"enabled\":{\"value\":false}", NULL, NULL,
         HCM ".upgrade_configs[0]: enabled false"},
        {"\"path\":\"/dev/stdout\"", "\"path\":\"/var/log/gw.log\"", NULL, NULL,
         HCM ".access_log[0].typed_config: path '/var/log/gw.log': only /dev/stdout"},
        {"\"name\":\"envoy.access_loggers.file\",",
         "\"name\":\"envoy.access_loggers.file\",\"filter\":{\"not_health_check_filter\":{}},",
         NULL, NULL, HCM ".access_log[0]: field 'filter' is not supported"},
        {"\"tracing\":{", "\"tracing\":{\"provider\":{\"name\":\"envoy.tracers.zipkin\"},", NULL,
         NULL, HCM ".tracing: provider: Hydrofoil has no tracer"},
        {"\"idle_timeout\":{\"seconds\":3600}",
         "\"idle_timeout\":{\"seconds\":3600},\"headers_with_underscores_action\":"
         "\"REJECT_REQUEST\"",
         NULL, NULL,
         HCM ".common_http_protocol_options: headers_with_underscores_action: only ALLOW"},
        {"\"idle_timeout\":{\"seconds\":3600}",
         "\"idle_timeout\":{\"seconds\":3600},\"max_headers_count\":{\"value\":50}", NULL, NULL,
         HCM ".common_http_protocol_options: field 'max_headers_count' is not supported"},
        {"\"stream_idle_timeout\":{}", "\"stream_idle_timeout\":{\"seconds\":300}", NULL, NULL,
         HCM ": stream_idle_timeout: only 0"},
        {"SANITIZE_SET", "APPEND_FORWARD", NULL, NULL,
         HCM ": forward_client_cert_details: only SANITIZE and SANITIZE_SET"},
        {"\"uri\":true", "\"uri\":false", NULL, NULL,
         HCM ".set_current_client_cert_details: Hydrofoil sets By, Hash, Subject, URI and DNS"},
        {"\"dns\":true", "\"dns\":true,\"cert\":true", NULL, NULL,
         HCM ".set_current_client_cert_details: Hydrofoil sets By, Hash, Subject, URI and DNS"},
        /* a control: SANITIZE alone is taken (before the node's settings are known) */
        {"\"SANITIZE_SET\"", "\"SANITIZE\"", NULL, NULL, NULL},
        {"\"xff_num_trusted_hops\":1", "\"xff_num_trusted_hops\":65", NULL, NULL,
         HCM ": xff_num_trusted_hops: 65 is over 64"},
        {"\"xff_num_trusted_hops\":1",
         "\"xff_num_trusted_hops\":1,\"add_user_agent\":{\"value\":true}", NULL, NULL,
         HCM ": add_user_agent"},
        {"\"xff_num_trusted_hops\":1",
         "\"xff_num_trusted_hops\":1,\"internal_address_config\":{\"unix_sockets\":true}", NULL,
         NULL, HCM ": field 'internal_address_config' is not supported"},
        {"\"http_protocol_options\":{}",
         "\"http_protocol_options\":{\"default_host_for_http_10\":\"a\"}", NULL, NULL,
         HCM ".http_protocol_options: field 'default_host_for_http_10' is not supported"},
        {"\"use_request_id_for_trace_sampling\":{\"value\":true}",
         "\"use_request_id_for_trace_sampling\":{\"value\":true},\"pack_trace_reason\":{\"value\":"
         "true}",
         NULL, NULL, NULL},
};

/* Each setting Hydrofoil cannot honour is NACKed, the error naming its field. */
static void
test_hcm_refused(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct hf_model m = {0};
		int rc = translate(&m, refused[i].from1, refused[i].to1, refused[i].from2,
		                   refused[i].to2);

		/* want NULL: a control, the edit is one Hydrofoil takes */
		if (refused[i].want == NULL ? rc != 0
		                            : rc != -EINVAL || strstr(err, refused[i].want) == NULL)
			fail_msg("case %u: rc %d, '%s' does not say '%s'", i, rc, err,
			         refused[i].want != NULL ? refused[i].want : "(accepted)");
		hf_model_free(&m);
	}
}

/* istiod's port with two TLS servers: their HCMs must agree on what the listener records. */
static void
test_hcm_chains(void **state)
{
	const char *sp = "\"stat_prefix\":\"outbound_0.0.0.0_443\"";
	const char *hops = "\"stat_prefix\":\"outbound_0.0.0.0_443\",\"xff_num_trusted_hops\":2";
	struct hf_model m = {0};
	struct hf_xds_sds sds = {0};
	char *rds = NULL;
	ProtobufCMessage *l;

	(void)state;
	for (int both = 0; both < 2; both++) {
		char *text = pbj_text("listeners.json", "0.0.0.0_443");

		text = both ? pbj_replace(text, sp, hops) : pbj_replace_last(text, sp, hops);
		l = pbj_parse(&envoy__config__listener__v3__listener__descriptor, text);
		err[0] = '\0';
		if (both) {
			assert_int_equal(hf_xds_tr_listener((const void *)l, &m, &rds, &sds, err,
			                                    sizeof(err)),
			                 0);
			assert_int_equal(m.listeners[0].xff_num_trusted_hops, 2);
		} else {
			assert_int_equal(hf_xds_tr_listener((const void *)l, &m, &rds, &sds, err,
			                                    sizeof(err)),
			                 -EINVAL);
			assert_non_null(
			        strstr(err, "filter_chains[1].filters[0].typed_config: path "
			                    "normalization, xff_num_trusted_hops, "
			                    "forward_client_cert_details or idle_timeout differ from "
			                    "filter_chains[0]'s"));
		}
		protobuf_c_message_free_unpacked(l, NULL);
		for (unsigned int i = 0; i < sds.n; i++)
			free(sds.names[i]);
		free(sds.names);
		memset(&sds, 0, sizeof(sds));
		free(rds);
		rds = NULL;
		hf_model_free(&m);
	}
}

/*
 * Once the node's settings are known, an HCM is taken only where it asks for
 * what the data plane applies to every listener: another path mode, trusted
 * hop count or idle timeout is NACKed naming the field, not taken and ignored.
 */
static void
test_hcm_node(void **state)
{
	struct hf_model m = {0};
	enum hf_path_mode path, other;
	uint32_t hops, idle;

	(void)state;
	assert_int_equal(translate(&m, NULL, NULL, NULL, NULL), 0);
	path = m.listeners[0].path_normalization;
	hops = m.listeners[0].xff_num_trusted_hops;
	idle = m.listeners[0].idle_timeout_set ? m.listeners[0].idle_timeout_ms : 60000;
	hf_model_free(&m);
	other = path == HF_PATH_BASE ? HF_PATH_MERGE_SLASHES : HF_PATH_BASE;

	hf_xds_translate_node_http(path, hops, idle);
	assert_int_equal(translate(&m, NULL, NULL, NULL, NULL), 0);
	hf_model_free(&m);

	hf_xds_translate_node_http(other, hops, idle);
	assert_int_equal(translate(&m, NULL, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "normalize_path/merge_slashes/path_with_escaped_slashes_action"));
	assert_non_null(strstr(err, "to every listener"));
	hf_model_free(&m);

	hf_xds_translate_node_http(path, hops + 1, idle);
	assert_int_equal(translate(&m, NULL, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "xff_num_trusted_hops"));
	hf_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hcm_istiod_accepted),
	        cmocka_unit_test(test_hcm_mapped),
	        cmocka_unit_test(test_hcm_refused),
	        cmocka_unit_test(test_hcm_chains),
	        /* last: it tells the translator the node's settings, for the rest of the process */
	        cmocka_unit_test(test_hcm_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
