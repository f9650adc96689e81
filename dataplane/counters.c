/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>

#include "dataplane/counters.h"

static const char *const names[HF_CNT__MAX] = {
#define HF_CNT(id, name, help) [HF_CNT_##id] = name,
#include "dataplane/counters.def"
#undef HF_CNT
};

static const char *const helps[HF_CNT__MAX] = {
#define HF_CNT(id, name, help) [HF_CNT_##id] = help,
#include "dataplane/counters.def"
#undef HF_CNT
};

const char *
hf_counter_name(enum hf_counter c)
{
	return (unsigned int)c < HF_CNT__MAX ? names[c] : NULL;
}

const char *
hf_counter_help(enum hf_counter c)
{
	return (unsigned int)c < HF_CNT__MAX ? helps[c] : NULL;
}

void
hf_counters_add(struct hf_counters *dst, const struct hf_counters *src)
{
	for (unsigned int i = 0; i < HF_CNT__MAX; i++)
		dst->v[i] += __atomic_load_n(&src->v[i], __ATOMIC_RELAXED);
}
