/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_WATCH_H
#define HF_WATCH_H

/*
 * The files a configuration load read besides its YAML (certificates, keys,
 * CA bundles; whatever a loader hands to hf_watch_note()), and whether any of
 * them changed since: the agent's certificate rotation.
 *
 * A load records every file it reads, with a SHA-256 of the bytes it read (or
 * the errno when the file was missing). After the load the folders holding
 * those files, and the folders their symbolic links resolve to, are watched
 * with inotify; an event there makes the agent look at each file again: a
 * stat() that matches what it saw last time settles it, otherwise the file is
 * read and hashed, and only a different hash (or a file that came or went)
 * counts as a change. So a `touch`, an unrelated file in the same folder or a
 * Kubernetes secret update that rewrote the same bytes reloads nothing, while
 * the atomic swap of a mounted secret (kubelet writes a new ..2026_* folder
 * and renames the ..data symbolic link over the old one, in the secret's
 * folder) is one event and one change.
 *
 * Agent thread only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HF_WATCH_SUM 32			/* SHA-256 */

struct hf_watch_file {
	char *path;			/* as the loader named it */
	int err;			/* 0: read; else the errno the read failed with */
	uint8_t sum[HF_WATCH_SUM];	/* of the bytes read (err 0) */
	bool have_sig;			/* the stat() below came before a read that matched */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns, ctime_ns;
};

struct hf_watch {
	unsigned int n, cap;
	struct hf_watch_file *files;
	int fd;				/* inotify on the files' folders; -1: not armed */
	bool due;			/* an event was seen: look at the files at due_ms */
	uint64_t due_ms;
};

/* An empty list, not armed. */
void hf_watch_init(struct hf_watch *w);

/*
 * From now on hf_watch_note() records into @p w (NULL: stop recording). The
 * agent sets it around a configuration load; other callers of the loaders
 * (--check, tests) record nothing.
 */
void hf_watch_record(struct hf_watch *w);

/*
 * A loader read @p path: @p data, @p len bytes, or failed with errno @p err
 * (a file that may appear later, like an optional CA). The last note of a
 * path wins. A no-op when nothing records.
 */
void hf_watch_note(const char *path, const void *data, size_t len, int err);

/*
 * @p w takes the files of @p from (which is left empty) and watches their
 * folders from now on; the next hf_watch_poll() looks at every file once,
 * since one may have changed between its read and the watch. Returns 0 or
 * -errno (inotify could not be had: nothing is watched, counted by the caller).
 */
int hf_watch_replace(struct hf_watch *w, struct hf_watch *from);

/*
 * A load that read @p from failed: its notes replace those of @p w for the
 * same paths (so the files as they are now, half-written or not, are the
 * reference: the next change to any of them is what retries), the rest of
 * @p w stays. @p from is left empty. Returns 0 or -ENOMEM.
 */
int hf_watch_merge(struct hf_watch *w, struct hf_watch *from);

/*
 * Reads inotify events and, once they have settled for a moment, looks at
 * the files. Returns how many changed (their paths, comma-separated, in
 * @p changed), 0 when none did or it is not time yet.
 */
int hf_watch_poll(struct hf_watch *w, uint64_t now_ms, char *changed, size_t cap);

/* The recorded file whose bytes hash to @p sum, or NULL. */
const struct hf_watch_file *hf_watch_find(const struct hf_watch *w, const uint8_t *sum);

/* SHA-256 of @p len bytes at @p data into @p sum. */
void hf_watch_sum(const void *data, size_t len, uint8_t *sum);

void hf_watch_free(struct hf_watch *w);

#endif
