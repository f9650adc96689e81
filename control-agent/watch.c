/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watched files of a configuration load (watch.h): recorded while the load
 * reads them, looked at again when inotify reports anything in their folders.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "control-agent/file.h"
#include "control-agent/watch.h"

/*
 * Events settle this long before the files are looked at: a tool that writes
 * a certificate and then its key, or kubelet's few renames, is one look.
 * A look that comes between the two writes finds a pair that does not match;
 * the load refuses it and the next write retries.
 */
#define SETTLE_MS 50

static struct hf_watch *recording;

void
hf_watch_init(struct hf_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

void
hf_watch_record(struct hf_watch *w)
{
	recording = w;
}

void
hf_watch_sum(const void *data, size_t len, uint8_t *sum)
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, sum, &n, EVP_sha256(), NULL) != 1)
		memset(sum, 0, HF_WATCH_SUM);
}

static struct hf_watch_file *
find_path(struct hf_watch *w, const char *path)
{
	for (unsigned int i = 0; i < w->n; i++)
		if (strcmp(w->files[i].path, path) == 0)
			return &w->files[i];
	return NULL;
}

/* A slot for @p path in @p w: its own, or a new one. NULL when out of memory. */
static struct hf_watch_file *
slot(struct hf_watch *w, const char *path)
{
	struct hf_watch_file *f = find_path(w, path);

	if (f != NULL)
		return f;
	if (w->n == w->cap) {
		unsigned int cap = w->cap > 0 ? w->cap * 2 : 16;
		struct hf_watch_file *nf = realloc(w->files, cap * sizeof(*nf));

		if (nf == NULL)
			return NULL;
		w->files = nf;
		w->cap = cap;
	}
	f = &w->files[w->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (f->path == NULL)
		return NULL;
	w->n++;
	return f;
}

void
hf_watch_note(const char *path, const void *data, size_t len, int err)
{
	struct hf_watch_file *f;

	if (recording == NULL || (f = slot(recording, path)) == NULL)
		return;
	f->err = err;
	f->have_sig = false;
	if (err == 0)
		hf_watch_sum(data, len, f->sum);
	else
		memset(f->sum, 0, sizeof(f->sum));
}

static void
watch_dir(int fd, const char *file)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", file);
	/* Errors are fine: a folder that is missing has nothing to report yet. */
	inotify_add_watch(fd, dirname(buf), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			  IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB);
}

/* inotify on the folder of each file and on that of its resolved path (a link elsewhere). */
static int
arm(struct hf_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->n == 0)
		return 0;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	for (unsigned int i = 0; i < w->n; i++) {
		char real[PATH_MAX];

		watch_dir(w->fd, w->files[i].path);
		if (realpath(w->files[i].path, real) != NULL && strcmp(real, w->files[i].path) != 0)
			watch_dir(w->fd, real);
	}
	return 0;
}

static void
clear(struct hf_watch *w)
{
	for (unsigned int i = 0; i < w->n; i++)
		free(w->files[i].path);
	free(w->files);
	w->files = NULL;
	w->n = w->cap = 0;
}

int
hf_watch_replace(struct hf_watch *w, struct hf_watch *from)
{
	clear(w);
	w->files = from->files;
	w->n = from->n;
	w->cap = from->cap;
	from->files = NULL;
	from->n = from->cap = 0;
	/* The files may have changed between their read and the watch: one look at once. */
	w->due = true;
	w->due_ms = 0;
	return arm(w);
}

int
hf_watch_merge(struct hf_watch *w, struct hf_watch *from)
{
	int rc = 0;

	for (unsigned int i = 0; i < from->n; i++) {
		struct hf_watch_file *f = slot(w, from->files[i].path);

		if (f == NULL) {
			rc = -ENOMEM;
			continue;
		}
		f->err = from->files[i].err;
		memcpy(f->sum, from->files[i].sum, sizeof(f->sum));
		f->have_sig = false;
	}
	clear(from);
	w->due = true;
	w->due_ms = 0;
	if (arm(w) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Reads @p path whole and hashes it. 0, or -errno. */
static int
sum_file(const char *path, uint8_t *sum)
{
	char *buf;
	size_t n;
	int rc = hf_file_read(path, &buf, &n);

	if (rc != 0)
		return rc;
	hf_watch_sum(buf, n, sum);
	/* a private key's bytes, maybe */
	explicit_bzero(buf, n);
	free(buf);
	return 0;
}

/*
 * Whether @p f is not what the load read any more. The stat() comes before
 * the read: a file replaced after the stat is read new and found changed now,
 * one replaced after the read shows a new stat() at the next look.
 */
static bool
changed(struct hf_watch_file *f)
{
	uint8_t sum[HF_WATCH_SUM];
	struct stat st;
	int rc;

	if (stat(f->path, &st) != 0)
		return f->err == 0;	/* gone (or unreadable): a change if it was there */
	if (f->have_sig && st.st_dev == f->dev && st.st_ino == f->ino && st.st_size == f->size &&
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == f->mtime_ns &&
	    (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec == f->ctime_ns)
		return false;
	rc = sum_file(f->path, sum);
	if (rc < 0)
		return f->err == 0;
	if (f->err != 0 || memcmp(sum, f->sum, sizeof(sum)) != 0)
		return true;
	f->have_sig = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	f->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	return false;
}

int
hf_watch_poll(struct hf_watch *w, uint64_t now_ms, char *out, size_t cap)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t len = 0;
	int n = 0;
	ssize_t r;

	if (cap > 0)
		out[0] = '\0';
	if (w->fd >= 0)
		while ((r = read(w->fd, buf, sizeof(buf))) > 0) {
			w->due = true;
			w->due_ms = now_ms + SETTLE_MS;
		}
	if (!w->due || now_ms < w->due_ms)
		return 0;
	w->due = false;
	for (unsigned int i = 0; i < w->n; i++) {
		if (!changed(&w->files[i]))
			continue;
		n++;
		if (len < cap) {
			int k = snprintf(out + len, cap - len, "%s%s", n > 1 ? ", " : "",
					 w->files[i].path);

			len = k > 0 ? len + (size_t)k : len;
		}
	}
	/* A change reloads, and the load's files are watched anew (hf_watch_replace or _merge). */
	return n;
}

const struct hf_watch_file *
hf_watch_find(const struct hf_watch *w, const uint8_t *sum)
{
	for (unsigned int i = 0; i < w->n; i++)
		if (w->files[i].err == 0 && memcmp(w->files[i].sum, sum, HF_WATCH_SUM) == 0)
			return &w->files[i];
	return NULL;
}

void
hf_watch_free(struct hf_watch *w)
{
	clear(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
