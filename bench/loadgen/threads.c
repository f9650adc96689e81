/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	int self = pid != 0 ? pid : (int)getpid();
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
		t[n].pid = self;
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

int
lg_tasks_read_all(struct lg_thread *t, unsigned int max)
{
	struct dirent *e;
	unsigned int n = 0;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return -errno;
	while (n < max && (e = readdir(d)) != NULL) {
		int got;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		got = lg_threads_read(atoi(e->d_name), t + n, max - n);
		if (got > 0)
			n += (unsigned int)got;
	}
	closedir(d);
	return (int)n;
}

static int
by_tid(const void *a, const void *b)
{
	return ((const struct lg_thread *)a)->tid - ((const struct lg_thread *)b)->tid;
}

static uint64_t
ran(const struct lg_thread *a, const struct lg_thread *before, unsigned int nb)
{
	const struct lg_thread *b = bsearch(a, before, nb, sizeof(*before), by_tid);

	return b != NULL && b->run_ns <= a->run_ns ? a->run_ns - b->run_ns : a->run_ns;
}

struct ran_entry {
	uint64_t ns;
	const struct lg_thread *t;
};

static int
by_ns_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct ran_entry *)a)->ns, y = ((const struct ran_entry *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

void
lg_tasks_top_json(FILE *f, struct lg_thread *before, unsigned int nb, const struct lg_thread *after,
                  unsigned int na, unsigned int k, int self_pid)
{
	struct ran_entry *e = calloc(na + 1, sizeof(*e));
	unsigned int n = 0;

	fprintf(f, "[");
	if (e == NULL) {
		fprintf(f, "]");
		return;
	}
	qsort(before, nb, sizeof(*before), by_tid);
	for (unsigned int i = 0; i < na; i++)
		if (after[i].pid != self_pid)
			e[n++] = (struct ran_entry){ran(&after[i], before, nb), &after[i]};
	qsort(e, n, sizeof(*e), by_ns_desc);
	for (unsigned int r = 0; r < k && r < n && e[r].ns > 0; r++) {
		const struct lg_thread *t = e[r].t;
		const struct lg_thread *b = bsearch(t, before, nb, sizeof(*before), by_tid);
		uint64_t slices = t->slices - (b != NULL && b->slices <= t->slices ? b->slices : 0);

		fprintf(f, "%s{\"name\":\"", r ? "," : "");
		for (const char *c = t->name; *c != '\0'; c++)
			if (*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
				fputc(*c, f);
		fprintf(f,
		        "\",\"pid\":%d,\"tid\":%d,\"cpu\":%d,\"run_ms\":%.3f,\"timeslices\":"
		        "%" PRIu64 ",\"mean_slice_us\":%.1f}",
		        t->pid, t->tid, t->cpu, (double)e[r].ns / 1e6, slices,
		        slices != 0 ? (double)e[r].ns / 1e3 / (double)slices : 0.0);
	}
	fprintf(f, "]");
	free(e);
}
