/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_COUNTERS_H
#define HF_COUNTERS_H

#include <stdint.h>

/*
 * Per-worker counters. Each worker is the only writer of its own block; the
 * control agent sums the blocks of all workers when it reports. A plain
 * aligned 64-bit store cannot tear on the targets we build for, so the writer
 * uses ordinary increments and the reader relaxed atomic loads.
 */
enum hf_counter {
#define HF_CNT(id, name, help) HF_CNT_##id,
#include "dataplane/counters.def"
#undef HF_CNT
	HF_CNT__MAX
};

struct hf_counters {
	uint64_t v[HF_CNT__MAX];
};

/** Name of counter @p c as /stats prints it; NULL when out of range. */
const char *hf_counter_name(enum hf_counter c);

/** One-line description of counter @p c; NULL when out of range. */
const char *hf_counter_help(enum hf_counter c);

/** Adds every counter of @p src into @p dst, reading @p src with relaxed loads. */
void hf_counters_add(struct hf_counters *dst, const struct hf_counters *src);

#define HF_COUNT(w, id) ((w)->cnt.v[HF_CNT_##id]++)
#define HF_COUNT_N(w, id, n) ((w)->cnt.v[HF_CNT_##id] += (n))

#endif
