/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The watched files of a configuration load (control-agent/watch.c), on real
 * files in a temporary folder: what counts as a change (other bytes, a file
 * that came or went, a Kubernetes secret's ..data swap) and what does not (a
 * touch, the same bytes written again, an unrelated file beside them), the
 * settle delay, and a failed load's notes becoming the reference.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf_test.h"
#include "control-agent/watch.h"

static char dir[64];
static uint64_t now_ms = 1000;

static void
put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What a loader does: read the file whole, note it. */
static void
load(const char *name)
{
	char p[256], buf[256];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	if (f == NULL) {
		hf_watch_note(p, NULL, 0, ENOENT);
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	hf_watch_note(p, buf, n, 0);
}

/* Polls past the settle delay; returns how many files changed, their names in @p out. */
static int
look(struct hf_watch *w, char *out, size_t cap)
{
	int n = hf_watch_poll(w, now_ms, out, cap);

	now_ms += 1000;
	return n + hf_watch_poll(w, now_ms, out, cap);
}

static void
test_changes(void **state)
{
	struct hf_watch w, next;
	char out[512], p[256];
	uint8_t sum[HF_WATCH_SUM];

	(void)state;
	hf_watch_init(&w);
	hf_watch_init(&next);
	put("tls.crt", "cert one");
	put("tls.key", "key one");
	/* nothing records outside a load */
	load("tls.crt");
	assert_int_equal(next.n, 0);
	hf_watch_record(&next);
	load("tls.crt");
	load("tls.key");
	load("ca.crt");			/* missing: watched for its coming */
	load("tls.crt");		/* read twice, noted once */
	hf_watch_record(NULL);
	assert_int_equal(next.n, 3);
	assert_int_equal(hf_watch_replace(&w, &next), 0);
	assert_int_equal(next.n, 0);
	assert_true(w.fd >= 0);
	/* the first look after the load finds nothing changed */
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	hf_watch_sum("cert one", 8, sum);
	assert_non_null(hf_watch_find(&w, sum));
	assert_string_equal(strrchr(hf_watch_find(&w, sum)->path, '/'), "/tls.crt");

	/* a touch, the same bytes again, another file in the folder: no change */
	snprintf(p, sizeof(p), "%s/tls.crt", dir);
	assert_int_equal(utimensat(AT_FDCWD, p, NULL, 0), 0);
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	put("tls.key", "key one");
	put("README", "not watched");
	assert_int_equal(look(&w, out, sizeof(out)), 0);

	/* other bytes: a change, named, once the events have settled */
	put("tls.key", "key two");
	assert_int_equal(hf_watch_poll(&w, now_ms, out, sizeof(out)), 0);
	now_ms += 10;
	assert_int_equal(hf_watch_poll(&w, now_ms, out, sizeof(out)), 0);	/* settling */
	now_ms += 1000;
	assert_int_equal(hf_watch_poll(&w, now_ms, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "/tls.key"));
	/* the reload that follows failed: its notes become the reference (no change any more) */
	hf_watch_record(&next);
	load("tls.crt");
	load("tls.key");
	hf_watch_record(NULL);
	assert_int_equal(hf_watch_merge(&w, &next), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	/* a file that was missing comes: a change; one that was there goes: a change */
	put("ca.crt", "ca");
	assert_int_equal(look(&w, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "/ca.crt"));
	snprintf(p, sizeof(p), "%s/tls.crt", dir);
	unlink(p);
	assert_int_equal(look(&w, out, sizeof(out)), 2);
	hf_watch_free(&w);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/tls.key", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/README", dir);
	unlink(p);
}

/* A mounted secret: NAME/tls.crt -> ..data/tls.crt, ..data -> ..vN; kubelet renames ..data. */
static void
swap(const char *sec, int v, const char *text)
{
	char p[256], q[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/..v%d", sec, v);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/..v%d/tls.crt", sec, v);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(p, sizeof(p), "..v%d", v);
	snprintf(q, sizeof(q), "%s/..data_tmp", sec);
	assert_int_equal(symlink(p, q), 0);
	snprintf(p, sizeof(p), "%s/..data", sec);
	assert_int_equal(rename(q, p), 0);
}

static void
test_secret_swap(void **state)
{
	struct hf_watch w, next;
	char sec[128], p[256], out[512];

	(void)state;
	snprintf(sec, sizeof(sec), "%s/cred", dir);
	assert_int_equal(mkdir(sec, 0700), 0);
	swap(sec, 1, "cert v1");
	snprintf(p, sizeof(p), "%s/tls.crt", sec);
	assert_int_equal(symlink("..data/tls.crt", p), 0);
	hf_watch_init(&w);
	hf_watch_init(&next);
	hf_watch_record(&next);
	load("cred/tls.crt");
	hf_watch_record(NULL);
	assert_int_equal(hf_watch_replace(&w, &next), 0);
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	/* the swap is seen through the link, as one change */
	swap(sec, 2, "cert v2");
	assert_int_equal(look(&w, out, sizeof(out)), 1);
	assert_string_equal(out, p);
	/* reloaded: the new bytes are the reference; a swap to the same bytes is no change */
	hf_watch_record(&next);
	load("cred/tls.crt");
	hf_watch_record(NULL);
	assert_int_equal(hf_watch_replace(&w, &next), 0);
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	swap(sec, 3, "cert v2");
	assert_int_equal(look(&w, out, sizeof(out)), 0);
	swap(sec, 4, "cert v4");
	assert_int_equal(look(&w, out, sizeof(out)), 1);
	hf_watch_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_secret_swap),
	};
	char cmd[128];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/hf-watch.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = rc != 0 ? rc : 1;
	return rc;
}
