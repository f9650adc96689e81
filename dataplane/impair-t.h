/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_IMPAIR_T_H
#define HF_IMPAIR_T_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Port impairment for chaos testing (netem's job, done in the data plane):
 * applied to frames received and sent on a port. Probabilities are 0..1.
 * All zero (the default) means off, and costs one branch per burst.
 */
struct hf_impair_cfg {
	double loss;		/* drop the frame */
	double duplicate;	/* pass the frame twice */
	double reorder;		/* hold the frame back behind the next one(s) */
	uint32_t delay_us;	/* hold every frame this long */
	uint64_t seed;		/* PRNG seed: same seed, same decisions */
	bool enabled;		/* any of the above set */
};

#endif
