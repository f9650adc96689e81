/* SPDX-License-Identifier: Apache-2.0 */
/* Hugepage files and runtime directories of DPDK prefixes (eal_files.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "dataplane/eal_files.h"

#define PREFIX_STEM "hydrofoil-"

/* Removes the entries of @p dir whose names start with @p start; returns how many. */
static int
unlink_matching(const char *dir, const char *start)
{
	size_t n = strlen(start);
	struct dirent *e;
	char path[PATH_MAX];
	int removed = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, start, n) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* The directories that hold runtime directories: root's, then the user's. */
static int
runtime_parents(char out[2][PATH_MAX])
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = 0;

	snprintf(out[n++], PATH_MAX, "/var/run/dpdk");
	if (xdg != NULL && xdg[0] != '\0')
		snprintf(out[n++], PATH_MAX, "%s/dpdk", xdg);
	return n;
}

int
hf_eal_files_remove(const char *prefix)
{
	char parents[2][PATH_MAX], dir[PATH_MAX], start[NAME_MAX + 1];
	struct mntent *m;
	int removed = 0, np;
	FILE *f;

	if (prefix == NULL || prefix[0] == '\0' || strchr(prefix, '/') != NULL)
		return 0;
	/* <mount>/<prefix>map_<n>: one file per page, or per segment list with --single-file-segments */
	snprintf(start, sizeof(start), "%smap_", prefix);
	f = setmntent("/proc/mounts", "r");
	while (f != NULL && (m = getmntent(f)) != NULL)
		if (strcmp(m->mnt_type, "hugetlbfs") == 0)
			removed += unlink_matching(m->mnt_dir, start);
	if (f != NULL)
		endmntent(f);
	np = runtime_parents(parents);
	for (int i = 0; i < np; i++) {
		if (snprintf(dir, sizeof(dir), "%s/%s", parents[i], prefix) >= (int)sizeof(dir))
			continue;
		/* flat: config, fbarray_*, hugepage_info, mp_socket*, dpdk_telemetry.* */
		removed += unlink_matching(dir, "");
		if (rmdir(dir) == 0)
			removed++;
	}
	return removed;
}

/* The pid of a "hydrofoil-<pid>" prefix, or 0. */
static long
prefix_pid(const char *name, size_t *len)
{
	const char *p = name + strlen(PREFIX_STEM);
	char *end;
	long pid;

	if (strncmp(name, PREFIX_STEM, strlen(PREFIX_STEM)) != 0 || *p < '1' || *p > '9')
		return 0;
	pid = strtol(p, &end, 10);
	*len = (size_t)(end - name);
	return pid > 0 && pid <= INT_MAX ? pid : 0;
}

static bool
gone(long pid)
{
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Cleans the dead prefixes named in @p dir (hugepage files or runtime directories). */
static int
sweep_dir(const char *dir)
{
	struct dirent *e;
	int cleaned = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char prefix[64];
		size_t len = 0;
		long pid = prefix_pid(e->d_name, &len);

		if (pid == 0 || len >= sizeof(prefix) || !gone(pid))
			continue;
		memcpy(prefix, e->d_name, len);
		prefix[len] = '\0';
		/* the name must be exactly the prefix (a directory) or the prefix then "map_" */
		if (e->d_name[len] != '\0' && strncmp(e->d_name + len, "map_", 4) != 0)
			continue;
		if (hf_eal_files_remove(prefix) > 0)
			cleaned++;
		/* the listing changed under readdir: start over */
		rewinddir(d);
	}
	closedir(d);
	return cleaned;
}

int
hf_eal_files_sweep(void)
{
	char parents[2][PATH_MAX];
	struct mntent *m;
	int cleaned = 0, np = runtime_parents(parents);
	FILE *f = setmntent("/proc/mounts", "r");

	while (f != NULL && (m = getmntent(f)) != NULL)
		if (strcmp(m->mnt_type, "hugetlbfs") == 0)
			cleaned += sweep_dir(m->mnt_dir);
	if (f != NULL)
		endmntent(f);
	for (int i = 0; i < np; i++)
		cleaned += sweep_dir(parents[i]);
	return cleaned;
}

int
hf_eal_files_watch(const char *prefix)
{
	int fds[2], null;
	char buf[64];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (pid > 0) {
		/* the parent keeps the write end, open until it ends however it ends */
		close(fds[0]);
		return 0;
	}
	close(fds[1]);
	/* Its own session: a terminal's ^C, or a signal to the daemon's group, is not for it. */
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "hf-eal-files", 0, 0, 0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		/* whoever reads the daemon's output sees its end when the daemon ends */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	for (;;) {
		ssize_t r = read(fds[0], buf, sizeof(buf));

		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	hf_eal_files_remove(prefix);
	_exit(0);
}
