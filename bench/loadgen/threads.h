/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_LG_THREADS_H
#define HF_LG_THREADS_H

#include <stdint.h>
#include <stdio.h>

/*
 * What the scheduler did to each thread of a process, from /proc (issue 16):
 * the time it ran, the time it waited on a runqueue while runnable (run_delay:
 * another task had its CPU), its context switches, and the CPU it last ran
 * on. Two readings, before and after a run, tell a thread preempted by another
 * on its core from one whose own loop was long. Not for a hot path: a few
 * file reads per thread.
 */
struct lg_thread {
	int pid;
	int tid;
	int cpu;          /* the CPU it last ran on (/proc/.../stat field 39) */
	char name[16];    /* comm */
	uint64_t run_ns;  /* on a CPU (schedstat field 1) */
	uint64_t wait_ns; /* runnable, waiting for a CPU: run_delay (schedstat field 2) */
	uint64_t slices;  /* times it was given a CPU (schedstat field 3) */
	uint64_t vcsw;    /* voluntary context switches: it slept */
	uint64_t ivcsw;   /* involuntary ones: it was preempted */
};

/*
 * Reads every thread of process @p pid (0: this one) into @p t, at most @p max.
 * Returns how many, or a negative errno when the process cannot be read.
 */
int lg_threads_read(int pid, struct lg_thread *t, unsigned int max);

/*
 * Prints to @p f, as a JSON array, each thread of @p after with what changed
 * since @p before (matched by tid; a thread absent before counts from zero):
 * name, tid, cpu, run_ms, run_delay_us, timeslices, voluntary, involuntary.
 */
void lg_threads_json(FILE *f, const struct lg_thread *before, unsigned int nb,
                     const struct lg_thread *after, unsigned int na);

/*
 * Reads every thread of every process (/proc/[0-9]*) into @p t, at most
 * @p max: what else ran on the machine. Returns how many, or a negative errno.
 */
int lg_tasks_read_all(struct lg_thread *t, unsigned int max);

/*
 * Prints to @p f, as a JSON array, the @p k threads of @p after that ran the
 * longest since @p before, those of process @p self_pid left out: name, pid,
 * tid, cpu, run_ms, timeslices, mean_slice_us (how long each of its turns on
 * a CPU lasted: what a poller sharing that CPU lost per turn). Sorts @p before
 * by tid.
 */
void lg_tasks_top_json(FILE *f, struct lg_thread *before, unsigned int nb,
                       const struct lg_thread *after, unsigned int na, unsigned int k,
                       int self_pid);

#endif
