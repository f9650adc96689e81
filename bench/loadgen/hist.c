/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log-linear histogram: layout, merge, percentiles and printing. Recording
 * is inline in hist.h; nothing here runs per request.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

size_t
hf_hist_memsize(uint64_t max_value, unsigned int sub_bits)
{
	if (sub_bits < 1 || sub_bits > HF_HIST_SUB_BITS_MAX)
		return 0;
	return sizeof(struct hf_hist) +
	       ((size_t)hf_hist_index(sub_bits, max_value) + 1) * sizeof(uint64_t);
}

int
hf_hist_init(struct hf_hist *h, size_t size, uint64_t max_value, unsigned int sub_bits)
{
	size_t need = hf_hist_memsize(max_value, sub_bits);

	if (h == NULL || need == 0)
		return -EINVAL;
	if (size < need)
		return -ENOSPC;
	h->max_value = max_value;
	h->sub_bits = sub_bits;
	h->n_buckets = hf_hist_index(sub_bits, max_value) + 1;
	hf_hist_reset(h);
	return 0;
}

struct hf_hist *
hf_hist_create(uint64_t max_value, unsigned int sub_bits)
{
	size_t size = hf_hist_memsize(max_value, sub_bits);
	struct hf_hist *h;

	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	h = malloc(size);
	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	hf_hist_init(h, size, max_value, sub_bits);
	return h;
}

void
hf_hist_free(struct hf_hist *h)
{
	free(h);
}

void
hf_hist_reset(struct hf_hist *h)
{
	h->count = 0;
	h->sum = 0;
	h->min = UINT64_MAX;
	h->max = 0;
	h->saturated = 0;
	memset(h->counts, 0, (size_t)h->n_buckets * sizeof(h->counts[0]));
}

/* The bucket width is 2^s with s = max(0, (index >> k) - 1): the inverse of hf_hist_index(). */
static unsigned int
bucket_shift(const struct hf_hist *h, uint32_t index)
{
	uint32_t top = index >> h->sub_bits;

	return top == 0 ? 0 : top - 1;
}

static uint64_t
bucket_lo(const struct hf_hist *h, uint32_t index)
{
	unsigned int s = bucket_shift(h, index);

	return (uint64_t)(index - ((uint32_t)s << h->sub_bits)) << s;
}

static uint64_t
bucket_hi(const struct hf_hist *h, uint32_t index)
{
	return bucket_lo(h, index) + ((UINT64_C(1) << bucket_shift(h, index)) - 1);
}

uint64_t
hf_hist_lowest_equivalent(const struct hf_hist *h, uint64_t v)
{
	return bucket_lo(h, hf_hist_index(h->sub_bits, v));
}

uint64_t
hf_hist_highest_equivalent(const struct hf_hist *h, uint64_t v)
{
	return bucket_hi(h, hf_hist_index(h->sub_bits, v));
}

int
hf_hist_merge(struct hf_hist *dst, const struct hf_hist *src)
{
	if (dst->sub_bits != src->sub_bits)
		return -EINVAL;
	/* Same sub_bits, same index of a value: only the length of the arrays may differ. */
	if (src->count != 0 && src->max > dst->max_value)
		return -ERANGE;
	for (uint32_t i = 0; i < src->n_buckets && i < dst->n_buckets; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->saturated += src->saturated;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

uint64_t
hf_hist_min(const struct hf_hist *h)
{
	return h->count == 0 ? 0 : h->min;
}

uint64_t
hf_hist_max(const struct hf_hist *h)
{
	return h->max;
}

double
hf_hist_mean(const struct hf_hist *h)
{
	return h->count == 0 ? 0.0 : (double)h->sum / (double)h->count;
}

uint64_t
hf_hist_value_at(const struct hf_hist *h, double p)
{
	uint64_t rank, cum = 0;
	double x, r;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0)) /* also NaN */
		return h->min;
	if (p >= 100.0)
		return h->max;
	/*
	 * The rank is ceil(p/100 * count), but p/100 is inexact: p99.9 of 1000
	 * values may come out as 999.0000000000001, which ceil() would make rank
	 * 1000. A product within a few ulps of an integer is that integer.
	 */
	x = p / 100.0 * (double)h->count;
	r = nearbyint(x);
	rank = (uint64_t)(fabs(x - r) <= 4.0 * DBL_EPSILON * x ? r : ceil(x));
	if (rank == 0)
		rank = 1;
	for (uint32_t i = 0; i < h->n_buckets; i++) {
		cum += h->counts[i];
		if (cum >= rank) {
			uint64_t hi = bucket_hi(h, i);

			return hi < h->max ? hi : h->max;
		}
	}
	return h->max; /* not reached: the counts add up to count */
}

void
hf_hist_iter_init(struct hf_hist_iter *it)
{
	it->index = 0;
	it->cumulative = 0;
}

bool
hf_hist_iter_next(const struct hf_hist *h, struct hf_hist_iter *it, struct hf_hist_bucket *b)
{
	while (it->index < h->n_buckets) {
		uint32_t i = it->index++;

		if (h->counts[i] == 0)
			continue;
		it->cumulative += h->counts[i];
		b->lo = bucket_lo(h, i);
		b->hi = bucket_hi(h, i);
		b->count = h->counts[i];
		b->cumulative = it->cumulative;
		return true;
	}
	return false;
}

int
hf_hist_print(const struct hf_hist *h, FILE *f, double unit)
{
	static const double pct[] = {50.0, 90.0, 99.0, 99.9, 99.99, 100.0};
	struct hf_hist_iter it;
	struct hf_hist_bucket b;

	if (!(unit > 0.0))
		unit = 1.0;
	fprintf(f, "count %llu  min %.3f  mean %.3f  max %.3f  saturated %llu\n",
	        (unsigned long long)h->count, (double)hf_hist_min(h) / unit, hf_hist_mean(h) / unit,
	        (double)hf_hist_max(h) / unit, (unsigned long long)h->saturated);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		fprintf(f, "p%-6g %14.3f\n", pct[i], (double)hf_hist_value_at(h, pct[i]) / unit);
	fprintf(f, "%14s %12s %10s\n", "value", "count", "cumulative");
	hf_hist_iter_init(&it);
	while (hf_hist_iter_next(h, &it, &b))
		fprintf(f, "%14.3f %12llu %10.6f\n", (double)b.hi / unit,
		        (unsigned long long)b.count, (double)b.cumulative / (double)h->count);
	return ferror(f) ? -EIO : 0;
}
