/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load generator's /proc thread reader (issue 16): every thread of the
 * process is found with its name, the CPU time a thread burnt shows in its
 * run time, a thread that sleeps counts voluntary switches, and the JSON
 * gives the change between two readings. Bounds are from below only (a
 * thread that ran 30 ms of CPU has run_ns >= 30 ms whatever the machine does).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "bench/loadgen/threads.h"

#define MAX 64

static pthread_barrier_t go, done;
static volatile int spinner_tid;

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Burns 30 ms of CPU, sleeps 10 times, then waits to be read. */
static void *
spinner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lg\"spin\\1");
	spinner_tid = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&go);
	for (uint64_t t0 = cpu_ns(); cpu_ns() - t0 < 30000000u;)
		;
	for (int i = 0; i < 10; i++)
		usleep(1000);
	pthread_barrier_wait(&done);
	pthread_barrier_wait(&done);
	return NULL;
}

static const struct lg_thread *
find(const struct lg_thread *t, int n, int tid)
{
	for (int i = 0; i < n; i++)
		if (t[i].tid == tid)
			return &t[i];
	return NULL;
}

static void
test_read_and_delta(void **state)
{
	static struct lg_thread a[MAX], b[MAX];
	const struct lg_thread *sa, *sb, *me;
	char *json = NULL;
	size_t len = 0;
	pthread_t th;
	FILE *f;
	int na, nb;

	(void)state;
	pthread_barrier_init(&go, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, spinner, NULL), 0);
	pthread_barrier_wait(&go);
	na = lg_threads_read(0, a, MAX);
	assert_int_equal(na, 2);
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&done);
	nb = lg_threads_read(0, b, MAX);
	pthread_barrier_wait(&done);
	pthread_join(th, NULL);

	assert_int_equal(nb, 2);
	me = find(b, nb, (int)syscall(SYS_gettid));
	assert_non_null(me);
	assert_string_equal(me->name, "test_threads");
	sa = find(a, na, spinner_tid);
	sb = find(b, nb, spinner_tid);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_string_equal(sb->name, "lg\"spin\\1");
	assert_int_equal(sb->pid, getpid());
	assert_true(sb->cpu >= 0);
	assert_true(sb->run_ns - sa->run_ns >= 30000000u);
	assert_true(sb->slices > sa->slices);
	assert_true(sb->vcsw - sa->vcsw >= 10); /* each usleep is a voluntary switch */

	f = open_memstream(&json, &len);
	lg_threads_json(f, a, (unsigned int)na, b, (unsigned int)nb);
	fclose(f);
	print_message("  %s\n", json);
	/* Quotes and backslashes of a name are dropped: the line stays JSON. */
	assert_non_null(strstr(json, "{\"name\":\"lgspin1\",\"tid\":"));
	assert_non_null(strstr(json, "\"name\":\"test_threads\""));
	assert_true(json[0] == '[' && json[len - 1] == ']');
	free(json);
}

/* Burns 20 ms of CPU. */
static void *
burner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lg-burn");
	for (uint64_t t0 = cpu_ns(); cpu_ns() - t0 < 20000000u;)
		;
	return NULL;
}

/* The machine's threads: ours among them, listed by CPU time, or left out as asked. */
static void
test_tasks_top(void **state)
{
	enum { N = 8192 };
	struct lg_thread *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	char *json = NULL;
	size_t len = 0;
	pthread_t th;
	FILE *f;
	int na, nb;

	(void)state;
	na = lg_tasks_read_all(a, N);
	assert_true(na >= 2); /* init and this thread at least */
	assert_int_equal(pthread_create(&th, NULL, burner, NULL), 0);
	pthread_join(th, NULL);
	nb = lg_tasks_read_all(b, N);
	assert_true(nb >= 2);
	/* The burner is gone by now: it ran, but only threads alive at the second reading count. */
	f = open_memstream(&json, &len);
	lg_tasks_top_json(f, a, (unsigned int)na, b, (unsigned int)nb, N, 0);
	fclose(f);
	assert_non_null(strstr(json, "\"name\":\"test_threads\""));
	assert_non_null(strstr(json, "\"mean_slice_us\":"));
	free(json);
	json = NULL;
	/* This process left out: none of its threads. */
	f = open_memstream(&json, &len);
	lg_tasks_top_json(f, a, (unsigned int)na, b, (unsigned int)nb, N, (int)getpid());
	fclose(f);
	assert_null(strstr(json, "\"name\":\"test_threads\""));
	assert_true(json[0] == '[' && json[len - 1] == ']');
	free(json);
	/* k = 0: an empty list. */
	json = NULL;
	f = open_memstream(&json, &len);
	lg_tasks_top_json(f, a, (unsigned int)na, b, (unsigned int)nb, 0, 0);
	fclose(f);
	assert_string_equal(json, "[]");
	free(json);
	free(a);
	free(b);
}

/* Another process's threads; one that does not exist is an error, not an empty list. */
static void
test_other_process(void **state)
{
	static struct lg_thread t[MAX];

	(void)state;
	assert_true(lg_threads_read(1, t, MAX) >= 1);
	assert_true(lg_threads_read(0x7ffffff0, t, MAX) < 0);
	/* At most max threads are read. */
	assert_int_equal(lg_threads_read(0, t, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_read_and_delta),
	        cmocka_unit_test(test_other_process),
	        cmocka_unit_test(test_tasks_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
