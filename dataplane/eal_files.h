/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_EAL_FILES_H
#define HF_EAL_FILES_H

/*
 * The files a DPDK primary process leaves on the host: its hugepage files
 * (<hugetlbfs mount>/<prefix>map_*) and its runtime directory
 * (/var/run/dpdk/<prefix>/, or $XDG_RUNTIME_DIR/dpdk/<prefix>/ when not root:
 * config, memory maps, multi-process and telemetry sockets). Hydrofoil keeps
 * them while it runs, since secondary processes (dpdk-dumpcap, dpdk-proc-info)
 * map that memory through them, and removes them whatever way it ends: at a
 * clean exit itself, after a crash or a SIGKILL through a small watcher
 * process forked before the EAL starts (it holds no hugepage, waits for its
 * parent's end on a pipe, removes the files, exits). A start also removes what
 * earlier instances whose process is gone left (hydrofoil-<pid> prefixes).
 * Not for the worker hot path: start and exit only.
 */
#include <stdbool.h>

/*
 * Removes the hugepage files and runtime directory of every
 * "hydrofoil-<pid>" prefix whose process no longer exists. Returns how many
 * prefixes it cleaned.
 */
int hf_eal_files_sweep(void);

/* Removes the hugepage files and runtime directory of @p prefix. Returns files removed. */
int hf_eal_files_remove(const char *prefix);

/*
 * Forks the watcher for @p prefix: when this process ends (the pipe's last
 * writer gone) it removes the prefix's files. Call before rte_eal_init(), so
 * the child holds no hugepage mapping and no EAL thread. Returns 0 or a
 * negative errno (then nothing was forked).
 */
int hf_eal_files_watch(const char *prefix);

#endif
