/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the bootstrap loader (libconfig): the input is written
 * to a file and loaded with hf_bootstrap_load(), as `hydrofoil -c FILE` does.
 * The verdict is 0, or -EINVAL with exactly one line
 * "FILE:LINE: KEY: message" in the error buffer: the file's own path, a line
 * number from 1 to the file's last line, a key, a non-empty message, and no
 * control byte anywhere (an operator's terminal or log gets it as it is).
 * A file that loads must hold what the loader promises: NUL-terminated
 * strings, counts within their arrays, workers within the lcores.
 * Anything else aborts; ASan and LSan watch the rest.
 *
 * Inputs with an @include directive are skipped: libconfig would read the
 * file it names, and the fuzzer must not read /dev/stdin or the disk at large.
 * fuzzes: control-agent/bootstrap.c control-agent/cfg.c control-agent/ratelimit.c dataplane/net/addr.c
 * fuzz-flags: $(pkg-config --cflags libdpdk | sed 's|-march=[^ ]*||') -DALLOW_EXPERIMENTAL_API
 * fuzz-flags: $BUILD/control-agent/libhf_agent.a $BUILD/dataplane/libhf_dataplane.a $BUILD/lb/libhf_lb.a
 * fuzz-flags: $(pkg-config --libs libdpdk libconfig libhs libpcre2-8) -lm
 * fuzz-flags: $BUILD/tls/libhf_tls.a $(pkg-config --libs openssl)
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control-agent/bootstrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian 12) loses the string its lexer was building when a
 * syntax error cuts it short (allocated in libconfig_yylex, or in its own
 * strbuf_append, which only the lexer calls): its leak, not ours, and
 * harmless to a daemon that exits on that error. Anchored, so that nothing of
 * ours (hf_strbuf_*) can hide behind these names.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:^libconfig_yylex$\nleak:^strbuf_append$\n";
}

static char path[64];
static struct hf_bootstrap boot;

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/hf-fuzz-boot-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	atexit(remove_file);
	return 0;
}

/* Every string of @p s (of @p cap bytes) ends inside it. */
static void
check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void
check_loaded(const struct hf_bootstrap *b)
{
	if (b->n_ports < 1 || b->n_ports > HF_MAX_PORTS || b->n_labels > HF_BOOT_MAX_LABELS ||
	    b->n_eal_args > HF_BOOT_MAX_ARGS || b->n_listeners > HF_BOOT_MAX_LISTENERS ||
	    b->n_clusters > HF_BOOT_MAX_CLUSTERS || b->n_vhosts > HF_BOOT_MAX_VHOSTS ||
	    b->n_routes > HF_BOOT_MAX_ROUTES || b->workers < 1 || b->workers > HF_MAX_WORKERS)
		abort();
	if (hf_bootstrap_count_lcores(b->lcores) < (int)b->workers + 1)
		abort();
	check_str(b->node_id, sizeof(b->node_id));
	check_str(b->node_cluster, sizeof(b->node_cluster));
	check_str(b->lcores, sizeof(b->lcores));
	check_str(b->admin_address, sizeof(b->admin_address));
	check_str(b->access_log, sizeof(b->access_log));
	check_str(b->istio_dir, sizeof(b->istio_dir));
	for (unsigned int i = 0; i < b->n_labels; i++) {
		check_str(b->labels[i], sizeof(b->labels[i]));
		if (strchr(b->labels[i], '=') == NULL || b->labels[i][0] == '=')
			abort();
	}
	for (unsigned int i = 0; i < b->n_clusters; i++) {
		const struct hf_boot_cluster *c = &b->clusters[i];

		check_str(c->name, sizeof(c->name));
		if (c->n_endpoints > HF_BOOT_MAX_ENDPOINTS)
			abort();
	}
	for (unsigned int i = 0; i < b->n_vhosts; i++) {
		const struct hf_boot_vhost *v = &b->vhosts[i];

		if (v->n_domains > HF_ROUTER_MAX_DOMAINS ||
		    (v->n_routes > 0 && (v->routes < b->routes ||
					 v->routes + v->n_routes > b->routes + b->n_routes)))
			abort();
		for (unsigned int k = 0; k < v->n_routes; k++) {
			int cl = v->routes[k].cluster;

			if (cl < 0 || (unsigned int)cl >= b->n_clusters)
				abort();
		}
	}
}

/* "FILE:LINE: KEY: message", one line, no control byte. */
static void
check_error(const char *err, size_t cap, int nlines)
{
	size_t plen = strlen(path), len;
	const char *p, *key;
	char *end;
	long line;

	if (memchr(err, '\0', cap) == NULL)
		abort();
	len = strlen(err);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			abort();
	if (len <= plen + 1 || strncmp(err, path, plen) != 0 || err[plen] != ':')
		abort();
	p = err + plen + 1;
	line = strtol(p, &end, 10);
	if (end == p || line < 1 || line > nlines || end[0] != ':' || end[1] != ' ')
		abort();
	key = end + 2;
	p = strstr(key, ": ");
	if (p == NULL || p == key || p[2] == '\0')
		abort();
	for (const char *k = key; k < p; k++)
		if (*k == ' ')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[HF_BOOT_ERR];
	FILE *f;
	int rc, nlines = 1;

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	memset(err, 'E', sizeof(err));
	rc = hf_bootstrap_load(&boot, path, err, sizeof(err));
	if (rc == 0)
		check_loaded(&boot);
	else if (rc == -EINVAL)
		check_error(err, sizeof(err), nlines);
	else
		abort();	/* the file is there and readable: nothing else may come back */
	return 0;
}
