/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_HIST_H
#define HF_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A log-linear latency histogram, as HdrHistogram lays one out. Values are
 * unsigned integers (the load generator records nanoseconds). With k sub-bucket
 * bits, values below 2^(k+1) have a bucket each; above, every power of two
 * [2^e, 2^(e+1)) is cut into 2^k linear buckets 2^(e-k) wide. A value v sits in
 * bucket
 *
 *	s = max(0, floor(log2 v) - k),  index = (s << k) + (v >> s)
 *
 * which is one count-leading-zeros, two shifts and an add: no division, no
 * loop, no branch but the clamp. Every value of a bucket is "equivalent"; what
 * the histogram reports for a bucket is its highest equivalent value, so a
 * reported value r for a true value v obeys  v <= r < v * (1 + 2^-k)  (k = 5:
 * within 3.2%, k = 7: within 0.8%). Reported values are also capped at the
 * largest value recorded, so a histogram of one constant reports it exactly and
 * the 100th percentile is the exact maximum.
 *
 * Memory is one block, sized at init for the largest trackable value (about
 * (log2(max) - k + 2) * 2^k counts of 8 bytes: 10 KB for k = 5 and one hour in
 * ns); recording never allocates. A histogram belongs to one thread: each
 * worker records into its own and they are merged at the end.
 */

#define HF_HIST_SUB_BITS_MAX 16

struct hf_hist {
	uint64_t count;     /* values recorded */
	uint64_t sum;       /* their sum: the mean is exact while it stays below 2^64 */
	uint64_t min;       /* smallest value recorded, UINT64_MAX while empty */
	uint64_t max;       /* largest value recorded, 0 while empty */
	uint64_t saturated; /* values above max_value, recorded as max_value */
	uint64_t max_value; /* largest trackable value, as given to init */
	uint32_t sub_bits;  /* k: 2^k linear buckets per power of two */
	uint32_t n_buckets; /* bucket_index(max_value) + 1 */
	uint64_t counts[];  /* n_buckets counts, by bucket index */
};

/* One non-empty bucket, as the iterator yields them, lowest first. */
struct hf_hist_bucket {
	uint64_t lo;         /* lowest value equivalent to the bucket */
	uint64_t hi;         /* highest value equivalent to the bucket */
	uint64_t count;      /* values recorded in it */
	uint64_t cumulative; /* values recorded in it and in every bucket below */
};

struct hf_hist_iter {
	uint32_t index; /* next bucket to look at */
	uint64_t cumulative;
};

/*
 * Bytes a histogram tracking values 0..@p max_value with 2^@p sub_bits buckets
 * per power of two needs, header included; 0 if @p sub_bits is not within
 * 1..HF_HIST_SUB_BITS_MAX.
 */
size_t hf_hist_memsize(uint64_t max_value, unsigned int sub_bits);

/*
 * Lays out an empty histogram in @p h, a block of @p size bytes the caller
 * allocated (per-socket memory, a static buffer), at least hf_hist_memsize().
 * Returns 0, -EINVAL for a layout memsize refuses, or -ENOSPC if @p size is too small.
 */
int hf_hist_init(struct hf_hist *h, size_t size, uint64_t max_value, unsigned int sub_bits);

/*
 * An empty histogram from malloc() (not a hot-path call), or NULL with errno
 * EINVAL (layout refused) or ENOMEM. Freed with hf_hist_free().
 */
struct hf_hist *hf_hist_create(uint64_t max_value, unsigned int sub_bits);
void hf_hist_free(struct hf_hist *h);

/* Empties @p h, keeping its layout. */
void hf_hist_reset(struct hf_hist *h);

/* The bucket index of @p v, which must be at most the histogram's max_value. */
static inline uint32_t
hf_hist_index(unsigned int sub_bits, uint64_t v)
{
	/* v | 1: clz(0) is undefined, and 0 and 1 share s = 0 anyway. */
	int s = 63 - __builtin_clzll(v | 1) - (int)sub_bits;

	s = s < 0 ? 0 : s;
	return ((uint32_t)s << sub_bits) + (uint32_t)(v >> s);
}

/*
 * Records @p n occurrences of @p v. A value above max_value is recorded as
 * max_value and counted in saturated, so it still weighs on every percentile
 * (dropping it would hide exactly the outliers a latency histogram is for).
 * O(1), no allocation, no division.
 */
static inline void
hf_hist_record_n(struct hf_hist *h, uint64_t v, uint64_t n)
{
	if (n == 0) /* nothing recorded: min and max stay as they are */
		return;
	if (__builtin_expect(v > h->max_value, 0)) {
		v = h->max_value;
		h->saturated += n;
	}
	h->counts[hf_hist_index(h->sub_bits, v)] += n;
	h->count += n;
	h->sum += v * n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline void
hf_hist_record(struct hf_hist *h, uint64_t v)
{
	hf_hist_record_n(h, v, 1);
}

/*
 * Adds everything recorded in @p src to @p dst, as if it had been recorded
 * there. Both must have the same sub_bits (else -EINVAL); @p src may track a
 * different range, but a value it holds beyond @p dst's max_value gives -ERANGE.
 * On an error @p dst is unchanged. Returns 0 otherwise.
 */
int hf_hist_merge(struct hf_hist *dst, const struct hf_hist *src);

/* Smallest and largest values recorded (exact), 0 while empty. */
uint64_t hf_hist_min(const struct hf_hist *h);
uint64_t hf_hist_max(const struct hf_hist *h);

/* The exact mean of the values recorded, 0 while empty. */
double hf_hist_mean(const struct hf_hist *h);

/*
 * The value at percentile @p p (0..100, clamped): the highest value equivalent
 * to the bucket holding the ceil(p/100 * count)-th smallest value (the smallest
 * for p = 0), capped at the largest value recorded. So for the true value v at
 * that rank, v <= result < v * (1 + 2^-sub_bits). 0 while empty. O(n_buckets).
 */
uint64_t hf_hist_value_at(const struct hf_hist *h, double p);

/* The lowest and highest values equivalent to @p v's bucket (v <= max_value). */
uint64_t hf_hist_lowest_equivalent(const struct hf_hist *h, uint64_t v);
uint64_t hf_hist_highest_equivalent(const struct hf_hist *h, uint64_t v);

/* Starts @p it at the lowest bucket. */
void hf_hist_iter_init(struct hf_hist_iter *it);

/* Fills @p b with the next non-empty bucket and returns true, or returns false past the last. */
bool hf_hist_iter_next(const struct hf_hist *h, struct hf_hist_iter *it, struct hf_hist_bucket *b);

/*
 * Prints @p h to @p f: a summary line (count, min, mean, max, saturated), the
 * percentiles 50, 90, 99, 99.9, 99.99 and 100, then one line per non-empty
 * bucket (highest equivalent value, count, cumulative fraction). Values are
 * divided by @p unit (1 for the recorded unit, 1000 for ns shown as µs).
 * Returns 0, or -EIO if writing failed.
 */
int hf_hist_print(const struct hf_hist *h, FILE *f, double unit);

#endif
