/* SPDX-License-Identifier: Apache-2.0 */
/*
 * getpid() without a system call, for OpenSSL 3.0's random generator.
 *
 * OpenSSL 3.0 checks for a fork before every random draw of its DRBGs
 * (drbg.c: openssl_get_fork_id(), which is getpid()), so that a child never
 * repeats its parent's random bytes. glibc stopped caching the PID in 2.25,
 * so each draw is a system call: about three per full server handshake (the
 * server random, the key share, the ECDSA nonce, the ticket's IV), on this
 * paravirtualized machine 4% of the worker's handshake time in a profile and
 * 10% of bench_tls_hs's server CPU (see README, "TLS per worker core").
 *
 * This definition interposes glibc's for the whole process (libcrypto's
 * call binds to the executable's symbol first) and answers from a cache
 * that fork() refreshes in the child (pthread_atfork: its child handler runs
 * before fork() returns there, before any code of the child can draw), so
 * the check still sees every fork and OpenSSL still reseeds in a child.
 * What bypasses fork()'s handlers (a raw clone() system call) would keep the
 * parent's value in its child; nothing in Hydrofoil does that, and
 * posix_spawn()'s child only execs.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "tls/tls.h"

static pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void
pid_refresh(void)
{
	__atomic_store_n(&cached_pid, (pid_t)syscall(SYS_getpid), __ATOMIC_RELAXED);
}

static void
pid_init(void)
{
	pthread_atfork(NULL, NULL, pid_refresh);
	pid_refresh();
}

void
hf_tls_pid_init(void)
{
	pthread_once(&pid_once, pid_init);
}

pid_t
getpid(void)
{
	pid_t p = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);

	/* Before hf_tls_pid_init (no fork handler yet): the system call, uncached. */
	return p != 0 ? p : (pid_t)syscall(SYS_getpid);
}
