/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hot reload of an Istio directory: a complete YAML file (closed, or renamed
 * into place) leads to a new snapshot after the settle time; a broken one is
 * refused with the file named and the version kept; files that are not YAML
 * change nothing; SIGHUP's request rebuilds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/config.h"

static const char gateway[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: Gateway\n"
	"metadata: {name: gw}\n"
	"spec:\n"
	"  selector: {istio: ingressgateway}\n"
	"  servers:\n"
	"  - port: {number: 80, name: http, protocol: HTTP}\n"
	"    hosts: [\"*\"]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: web}\n"
	"spec:\n"
	"  hosts: [web.example]\n"
	"  ports: [{number: 8080, name: http, protocol: HTTP}]\n"
	"  resolution: STATIC\n"
	"  endpoints: [{address: 198.51.100.1}]\n";

static const char vs_fmt[] =
	"apiVersion: networking.istio.io/v1beta1\n"
	"kind: VirtualService\n"
	"metadata: {name: web}\n"
	"spec:\n"
	"  hosts: [\"*\"]\n"
	"  gateways: [gw]\n"
	"  http:\n"
	"  - match: [{uri: {prefix: \"%s\"}}]\n"
	"    route: [{destination: {host: web.example}}]\n";

static char dir[] = "/tmp/hf-config-XXXXXX";
static const char *const files[] = {"gateway.yaml", "vs.yaml", "README.txt", ".vs.yaml.swp"};

static void
put(const char *name, const char *text, bool rename_into_place)
{
	char path[256], tmp[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(rename_into_place ? tmp : path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (rename_into_place)
		assert_int_equal(rename(tmp, path), 0);
}

static void
put_vs(const char *prefix)
{
	char text[1024];

	snprintf(text, sizeof(text), vs_fmt, prefix);
	put("vs.yaml", text, true);
}

/* Polls as the agent's loop does, at @p t ms, up to 200 ms later. */
static struct hf_snapshot *
poll_until(struct hf_config *c, uint64_t *t)
{
	struct hf_snapshot *s = NULL;

	for (int i = 0; i < 40 && s == NULL; i++, *t += 5) {
		s = hf_config_poll(c, *t);
		usleep(1000);
	}
	return s;
}

static void
test_reload(void **state)
{
	static struct hf_bootstrap boot;
	struct hf_config c;
	struct hf_snapshot *s;
	char err[HF_BOOT_ERR + 64];
	uint64_t t = 1000;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put("gateway.yaml", gateway, false);
	put_vs("/v1");
	memset(&boot, 0, sizeof(boot));
	snprintf(boot.istio_dir, sizeof(boot.istio_dir), "%s", dir);
	boot.n_labels = 1;
	strcpy(boot.labels[0], "istio=ingressgateway");
	boot.workers = 1;

	s = hf_config_build(&boot, 1, 1, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	assert_int_equal(s->n_listeners, 1);
	assert_int_equal(s->listeners[0].port, 80);
	assert_string_equal(s->listeners[0].table.vhosts[0].routes[0].path, "/v1");
	hf_snapshot_free(s);
	assert_int_equal(hf_config_open(&c, &boot, 1, err, sizeof(err)), 0);
	assert_null(hf_config_poll(&c, t));	/* nothing changed yet */

	/* A new VirtualService renamed into place: a new snapshot, version 2, with its route. */
	put_vs("/v2");
	s = poll_until(&c, &t);
	assert_non_null(s);
	assert_int_equal(s->version, 2);
	assert_string_equal(s->listeners[0].table.vhosts[0].routes[0].path, "/v2");
	hf_snapshot_free(s);

	/* Broken YAML: refused, the file named, the version kept. */
	put("vs.yaml", "apiVersion: networking.istio.io/v1beta1\nkind: [VirtualService\n", false);
	assert_null(poll_until(&c, &t));
	assert_int_equal(c.rejected, 1);
	assert_int_equal(c.version, 2);
	print_message("  refused: %s\n", c.last_error);
	assert_non_null(strstr(c.last_error, "vs.yaml"));

	/* A file that is not YAML changes nothing: no reload at all. */
	put("README.txt", "notes\n", false);
	put(".vs.yaml.swp", "x", false);
	assert_null(poll_until(&c, &t));
	assert_int_equal(c.rejected, 1);
	assert_int_equal(c.reloads, 1);

	/* Fixed again, and SIGHUP's request rebuilds even without a change. */
	put_vs("/v3");
	s = poll_until(&c, &t);
	assert_non_null(s);
	assert_int_equal(s->version, 3);
	hf_snapshot_free(s);
	hf_config_request_reload(&c, t);
	s = poll_until(&c, &t);
	assert_non_null(s);
	assert_int_equal(s->version, 4);
	assert_string_equal(s->listeners[0].table.vhosts[0].routes[0].path, "/v3");
	hf_snapshot_free(s);
	assert_int_equal(c.reloads, 3);
	hf_config_close(&c);

	/* A directory that cannot be watched is refused with its name. */
	snprintf(boot.istio_dir, sizeof(boot.istio_dir), "%s/missing", dir);
	assert_true(hf_config_open(&c, &boot, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload),
	};
	int rc;

	hf_test_eal(0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
