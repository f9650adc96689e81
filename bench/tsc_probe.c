/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hf-tscprobe: what the machine does to a busy-polling thread, with no
 * Hydrofoil in the picture. One thread, pinned to one CPU, reads the TSC in a
 * tight loop for a while; every gap between two reads longer than a threshold
 * is time the thread did not run. Each such gap is classified by whether the
 * thread's involuntary context switches rose across it (getrusage, called only
 * after a gap, so the loop itself never enters the kernel):
 *
 *   preempted   the guest kernel ran another task on this CPU (a process of
 *               the machine, a kernel thread): scheduling, visible in
 *               /proc/<pid>/task/<tid>/schedstat as run_delay;
 *   unseen      no switch: an interrupt handler, or the vCPU itself not
 *               running (the hypervisor), which no guest counter shows except
 *               the TSC.
 *
 * It prints, per class, the count, the time lost (as a share of the run), the
 * longest gap and a log2 histogram; then the thread's schedstat and context
 * switches, the CPU's interrupts and steal time over the run, and the threads
 * of the whole machine that ran longest meanwhile (with how long each of their
 * turns on a CPU lasted: who the preempters were).
 *
 * With --clock it measures instead how fast the CPU's core runs against the
 * TSC, and exits: a chain of dependent additions takes one core cycle each,
 * so TSC ticks over additions is the TSC's rate over the core's. The quickest
 * of many short chunks is kept (a chunk the thread was preempted in only
 * reads slower). The same work reads as more TSC cycles on a core that runs
 * slower (a host without boost at that moment, a busy sibling hyperthread):
 * this says which a run of the benchmarks had. It also times a chain of
 * dependent loads within 256 KB (the core's own cache) and across 64 MB (the
 * memory, shared with whatever else the host runs): the same work can read
 * slower with the clock unchanged when the memory is.
 *
 * usage: hf-tscprobe [--cpu N (1)] [--seconds S (10)] [--threshold-us U (5)] [--json]
 *        hf-tscprobe --clock [--cpu N (1)] [--json]
 * SIGTERM or SIGINT ends the run early, with its report (memif_bench.sh runs
 * it as the occupant of a core for as long as a baseline run lasts).
 * Exit status 0 after a run, 1 when the CPU cannot be had, 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench/loadgen/threads.h"

/* Threads of the machine read before and after the run, and how many of them are shown. */
#define MAX_TASKS 8192
#define TOP_TASKS 8

/* Bucket b holds gaps in [2^b, 2^(b+1)) ns; 2^40 ns is 18 minutes. */
#define BUCKETS 41

enum { C_PREEMPTED, C_UNSEEN, C__N };
static const char *const class_name[C__N] = {"preempted", "unseen"};

struct gap_class {
	uint64_t n;
	uint64_t lost_ns;
	uint64_t max_ns;
	uint64_t bucket[BUCKETS];
};

/* The thread's scheduler view (ns) and context switches. */
struct sched_view {
	uint64_t run_ns, wait_ns, slices;
	uint64_t vcsw, ivcsw;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per second, against CLOCK_MONOTONIC over 200 ms. */
static double
tsc_hz(void)
{
	uint64_t n0 = mono_ns(), t0 = __rdtsc(), n1, t1;

	do
		n1 = mono_ns();
	while (n1 - n0 < 200000000u);
	t1 = __rdtsc();
	return (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
}

/* Chunks of CLOCK_ADDS dependent additions, for at least CLOCK_NS in all. */
#define CLOCK_ADDS 400000u
#define CLOCK_NS 300000000u

/* TSC ticks per core cycle on this thread's CPU: the quickest chunk of additions. */
static double
tsc_per_core_cycle(void)
{
	uint64_t best = UINT64_MAX, n0 = mono_ns();

	do {
		uint64_t x = 0, t0 = __rdtsc(), t;

		/* Four additions an iteration, each needing the one before: 4 cycles, the loop's
		 * own counter and branch running beside them. */
		for (uint32_t i = 0; i < CLOCK_ADDS / 4; i++)
			__asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
					 : "+r"(x));
		t = __rdtsc() - t0;
		if (t < best)
			best = t;
	} while (mono_ns() - n0 < CLOCK_NS);
	return (double)best / CLOCK_ADDS;
}

/*
 * TSC ticks per load of a random pointer chase through @p bytes (each load
 * needs the one before): the latency of the cache level or memory that size
 * lands in. The median of 9 passes of 200,000 loads. A core whose clock holds
 * still can run the same work slower when the memory under it is shared with
 * a busy neighbour; this tells that apart. 0 when the memory cannot be had.
 */
static double
chase_ticks(size_t bytes)
{
	size_t n = bytes / sizeof(size_t), i;
	size_t *next = malloc(n * sizeof(size_t)), *order = malloc(n * sizeof(size_t));
	double pass[9];
	uint64_t seed = 0x9e3779b97f4a7c15u;

	if (next == NULL || order == NULL) {
		free(next);
		free(order);
		return 0;
	}
	/* one random cycle through every slot (Sattolo's shuffle of the visiting order) */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t j, t;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		j = (size_t)(seed % i);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		next[order[i]] = order[(i + 1) % n];
	free(order);
	size_t at = 0;

	for (i = 0; i < n; i++)	/* once through: the pages are in */
		at = next[at];
	for (int p = 0; p < 9; p++) {
		uint64_t t0 = __rdtsc();

		for (int k = 0; k < 200000; k++)
			at = next[at];
		pass[p] = (double)(__rdtsc() - t0) / 200000.0;
	}
	__asm__ volatile("" : : "r"(at));
	free(next);
	for (int a = 1; a < 9; a++)	/* insertion sort: the median of 9 */
		for (int b = a; b > 0 && pass[b] < pass[b - 1]; b--) {
			double t = pass[b];

			pass[b] = pass[b - 1];
			pass[b - 1] = t;
		}
	return pass[4];
}

static void
sched_read(struct sched_view *v)
{
	char path[96], line[256];
	FILE *f;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64, &v->run_ns, &v->wait_ns,
		           &v->slices) != 3)
			v->run_ns = v->wait_ns = v->slices = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "voluntary_ctxt_switches: %" SCNu64, &v->vcsw);
		sscanf(line, "nonvoluntary_ctxt_switches: %" SCNu64, &v->ivcsw);
	}
	fclose(f);
}

/* Interrupts delivered to @p cpu (every line of /proc/interrupts, that CPU's column). */
static uint64_t
cpu_interrupts(int cpu)
{
	char line[4096];
	uint64_t sum = 0;
	FILE *f = fopen("/proc/interrupts", "re");

	if (f == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL) { /* the header: CPU0 CPU1 ... */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, ':'), *end;

		if (p == NULL)
			continue;
		p++;
		for (int c = 0; c <= cpu; c++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			if (c == cpu)
				sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

/* Steal time of @p cpu in ns (/proc/stat, USER_HZ ticks), 0 where the hypervisor reports none. */
static uint64_t
cpu_steal_ns(int cpu)
{
	char line[512], want[16];
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "re");
	uint64_t ns = 0;

	if (f == NULL)
		return 0;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0 &&
		    sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		           &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			ns = (uint64_t)v[7] * (1000000000u / (uint64_t)sysconf(_SC_CLK_TCK));
	fclose(f);
	return ns;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: hf-tscprobe [--cpu N (1)] [--seconds S (10)] [--threshold-us U (5)] "
	           "[--json]\n       hf-tscprobe --clock [--cpu N (1)] [--json]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"cpu", required_argument, NULL, 'c'},
	        {"seconds", required_argument, NULL, 's'},
	        {"threshold-us", required_argument, NULL, 't'},
	        {"json", no_argument, NULL, 'j'},
	        {"clock", no_argument, NULL, 'k'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	static struct lg_thread tasks0[MAX_TASKS], tasks1[MAX_TASKS];
	struct gap_class cls[C__N] = {0};
	int n_tasks0, n_tasks1;
	struct sched_view s0, s1;
	struct rusage ru;
	double secs = 10, thr_us = 5, hz, ns_per_tick;
	uint64_t thr_tick, t_end, prev, loops = 0, irq0, irq1, steal0, steal1, n0, n1;
	long ivcsw;
	bool json = false, clock_only = false;
	cpu_set_t set;
	int cpu = 1, opt;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		end = NULL;
		switch (opt) {
		case 'c':
			cpu = (int)strtol(optarg, &end, 10);
			if (*end || cpu < 0 || cpu >= CPU_SETSIZE)
				goto bad;
			break;
		case 's':
			secs = strtod(optarg, &end);
			if (*end || !(secs > 0) || secs > 86400)
				goto bad;
			break;
		case 't':
			thr_us = strtod(optarg, &end);
			if (*end || !(thr_us > 0) || thr_us > 1e6)
				goto bad;
			break;
		case 'j': json = true; break;
		case 'k': clock_only = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("hf-tscprobe: sched_setaffinity");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	hz = tsc_hz();
	if (clock_only) {
		double r = tsc_per_core_cycle();
		double l2 = chase_ticks(256u << 10), mem = chase_ticks(64u << 20);

		if (json)
			printf("{\"cpu\": %d, \"tsc_hz\": %.0f, \"core_hz\": %.0f, "
			       "\"tsc_per_core_cycle\": %.3f, \"load_ns_256k\": %.1f, "
			       "\"load_ns_64m\": %.1f}\n", cpu, hz, hz / r, r, l2 * 1e9 / hz,
			       mem * 1e9 / hz);
		else
			printf("cpu %d: core %.2f GHz, TSC %.2f GHz: %.3f TSC ticks per core cycle; a "
			       "dependent load %.1f ns within 256 KB, %.1f ns across 64 MB\n",
			       cpu, hz / r / 1e9, hz / 1e9, r, l2 * 1e9 / hz, mem * 1e9 / hz);
		return 0;
	}
	ns_per_tick = 1e9 / hz;
	thr_tick = (uint64_t)(thr_us * 1e3 / ns_per_tick);
	getrusage(RUSAGE_THREAD, &ru);
	ivcsw = ru.ru_nivcsw;
	n_tasks0 = lg_tasks_read_all(tasks0, MAX_TASKS);
	sched_read(&s0);
	irq0 = cpu_interrupts(cpu);
	steal0 = cpu_steal_ns(cpu);
	n0 = mono_ns();
	prev = __rdtsc();
	t_end = prev + (uint64_t)(secs * hz);
	for (;;) {
		uint64_t now = __rdtsc(), gap = now - prev;

		loops++;
		if (__builtin_expect(gap > thr_tick, 0)) {
			uint64_t ns = (uint64_t)((double)gap * ns_per_tick);
			struct gap_class *g;
			int b = 63 - __builtin_clzll(ns | 1);

			/* The switch, if any, happened in the gap: the count rose since the last
			 * look. */
			getrusage(RUSAGE_THREAD, &ru);
			g = &cls[ru.ru_nivcsw != ivcsw ? C_PREEMPTED : C_UNSEEN];
			ivcsw = ru.ru_nivcsw;
			g->n++;
			g->lost_ns += ns;
			g->max_ns = ns > g->max_ns ? ns : g->max_ns;
			g->bucket[b < BUCKETS ? b : BUCKETS - 1]++;
			/* The look itself is not a gap of the machine's. */
			now = __rdtsc();
		}
		if (now >= t_end || stop)
			break;
		prev = now;
	}
	n1 = mono_ns();
	sched_read(&s1);
	irq1 = cpu_interrupts(cpu);
	steal1 = cpu_steal_ns(cpu);
	n_tasks1 = lg_tasks_read_all(tasks1, MAX_TASKS);

	double run_ns = (double)(n1 - n0);

	if (json) {
		printf("{\"cpu\":%d,\"seconds\":%.3f,\"threshold_us\":%.1f,\"tsc_mhz\":%.1f,"
		       "\"loops\":%" PRIu64,
		       cpu, run_ns / 1e9, thr_us, hz / 1e6, loops);
		for (int c = 0; c < C__N; c++) {
			printf(",\"%s\":{\"gaps\":%" PRIu64 ",\"lost_us\":%.1f,\"lost_share\":%.6f,"
			       "\"max_us\":%.1f,\"log2_ns_buckets\":{",
			       class_name[c], cls[c].n, cls[c].lost_ns / 1e3,
			       cls[c].lost_ns / run_ns, cls[c].max_ns / 1e3);
			for (int b = 0, first = 1; b < BUCKETS; b++)
				if (cls[c].bucket[b] != 0) {
					printf("%s\"%d\":%" PRIu64, first ? "" : ",", b,
					       cls[c].bucket[b]);
					first = 0;
				}
			printf("}}");
		}
		printf(",\"run_delay_us\":%.1f,\"voluntary_switches\":%" PRIu64
		       ",\"involuntary_switches\":%" PRIu64 ",\"interrupts\":%" PRIu64
		       ",\"steal_us\":%.1f",
		       (s1.wait_ns - s0.wait_ns) / 1e3, s1.vcsw - s0.vcsw, s1.ivcsw - s0.ivcsw,
		       irq1 - irq0, (steal1 - steal0) / 1e3);
		printf(",\"others\":");
		if (n_tasks0 >= 0 && n_tasks1 >= 0)
			lg_tasks_top_json(stdout, tasks0, (unsigned int)n_tasks0, tasks1,
			                  (unsigned int)n_tasks1, TOP_TASKS, (int)getpid());
		else
			printf("[]");
		printf("}\n");
		return 0;
	}
	printf("hf-tscprobe: CPU %d, %.3f s, TSC %.1f MHz, %" PRIu64 " reads, gaps over %.1f us:\n",
	       cpu, run_ns / 1e9, hz / 1e6, loops, thr_us);
	for (int c = 0; c < C__N; c++) {
		printf("  %-10s %8" PRIu64
		       " gaps, %10.1f us lost (%.4f%% of the run), longest %.1f us\n",
		       class_name[c], cls[c].n, cls[c].lost_ns / 1e3,
		       100.0 * cls[c].lost_ns / run_ns, cls[c].max_ns / 1e3);
		for (int b = 0; b < BUCKETS; b++)
			if (cls[c].bucket[b] != 0)
				printf("    [%9.1f, %9.1f) us %8" PRIu64 "\n", ldexp(1.0, b) / 1e3,
				       ldexp(1.0, b + 1) / 1e3, cls[c].bucket[b]);
	}
	printf("  schedstat: run_delay %.1f us over %" PRIu64 " timeslices; context switches: "
	       "%" PRIu64 " voluntary, %" PRIu64 " involuntary\n",
	       (s1.wait_ns - s0.wait_ns) / 1e3, s1.slices - s0.slices, s1.vcsw - s0.vcsw,
	       s1.ivcsw - s0.ivcsw);
	printf("  CPU %d: %" PRIu64 " interrupts, steal %.1f us (0 where the hypervisor reports "
	       "none)\n",
	       cpu, irq1 - irq0, (steal1 - steal0) / 1e3);
	printf("  the machine's threads that ran longest meanwhile (mean_slice_us: one turn on a "
	       "CPU):\n  ");
	if (n_tasks0 >= 0 && n_tasks1 >= 0)
		lg_tasks_top_json(stdout, tasks0, (unsigned int)n_tasks0, tasks1,
		                  (unsigned int)n_tasks1, TOP_TASKS, (int)getpid());
	printf("\n");
	return 0;
bad:
	fprintf(stderr, "hf-tscprobe: bad value for an option: '%s'\n", optarg);
	usage(stderr);
	return 2;
}
