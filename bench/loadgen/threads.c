/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/threads.h"

/* One thread's files under @p dir (/proc/PID/task/TID); -1 when it is gone meanwhile. */
static int
read_one(const char *dir, struct lg_thread *t)
{
	char path[128], line[1024], *p;
	FILE *f;
	int field = 3;

	snprintf(path, sizeof(path), "%s/comm", dir);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(t->name, sizeof(t->name), f) != NULL)
		t->name[strcspn(t->name, "\n")] = '\0';
	fclose(f);
	/* stat: "tid (comm) state ..." and comm may hold spaces: fields count from the last ')'. */
	snprintf(path, sizeof(path), "%s/stat", dir);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	t->cpu = -1;
	if (fgets(line, sizeof(line), f) != NULL && (p = strrchr(line, ')')) != NULL)
		for (p = strtok(p + 1, " "); p != NULL; p = strtok(NULL, " "))
			if (field++ == 39) {
				t->cpu = atoi(p);
				break;
			}
	fclose(f);
	snprintf(path, sizeof(path), "%s/schedstat", dir);
	if ((f = fopen(path, "re")) != NULL) {
		if (fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &t->run_ns, &t->wait_ns,
		           &t->slices) != 3)
			t->run_ns = t->wait_ns = t->slices = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/status", dir);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "voluntary_ctxt_switches: %" SCNu64, &t->vcsw);
		sscanf(line, "nonvoluntary_ctxt_switches: %" SCNu64, &t->ivcsw);
	}
	fclose(f);
	return 0;
}

int
lg_threads_read(int pid, struct lg_thread *t, unsigned int max)
{
	char dir[64], sub[96];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	if (pid == 0)
		snprintf(dir, sizeof(dir), "/proc/self/task");
	else
		snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	if ((d = opendir(dir)) == NULL)
		return -errno;
	while (n < max && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		memset(&t[n], 0, sizeof(t[n]));
		t[n].tid = atoi(e->d_name);
		snprintf(sub, sizeof(sub), "%s/%d", dir, t[n].tid);
		if (read_one(sub, &t[n]) == 0)
			n++;
	}
	closedir(d);
	return (int)n;
}

void
lg_threads_json(FILE *f, const struct lg_thread *before, unsigned int nb,
                const struct lg_thread *after, unsigned int na)
{
	static const struct lg_thread none;

	fprintf(f, "[");
	for (unsigned int i = 0; i < na; i++) {
		const struct lg_thread *a = &after[i], *b = &none;

		for (unsigned int k = 0; k < nb; k++)
			if (before[k].tid == a->tid)
				b = &before[k];
		/* The name is a comm: 15 bytes the thread chose; quotes and backslashes are
		 * dropped. */
		fprintf(f, "%s{\"name\":\"", i ? "," : "");
		for (const char *c = a->name; *c != '\0'; c++)
			if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
				fputc(*c, f);
		fprintf(f,
		        "\",\"tid\":%d,\"cpu\":%d,\"run_ms\":%.3f,\"run_delay_us\":%.1f,"
		        "\"timeslices\":%" PRIu64 ",\"voluntary\":%" PRIu64
		        ",\"involuntary\":%" PRIu64 "}",
		        a->tid, a->cpu, (double)(a->run_ns - b->run_ns) / 1e6,
		        (double)(a->wait_ns - b->wait_ns) / 1e3, a->slices - b->slices,
		        a->vcsw - b->vcsw, a->ivcsw - b->ivcsw);
	}
	fprintf(f, "]");
}
