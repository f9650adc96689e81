/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TELEMETRY_H
#define HF_TELEMETRY_H

/*
 * Hydrofoil's counters over DPDK telemetry (dpdk-telemetry.py, the socket in
 * the EAL runtime directory): /hydrofoil/stats answers the counters of
 * dataplane/counters.def summed over the workers, those that are not zero, or
 * with a parameter those whose names start with it (/hydrofoil/stats,http.).
 * Telemetry names take only letters, digits, '_' and '/': a counter's dots
 * become slashes ("http.drop.bad_path" is "http/drop/bad_path"). An answer
 * holds at most 256 entries; what is left out is counted in
 * "hydrofoil/left_out". The callback runs on DPDK's telemetry
 * thread and reads the workers' counters as the agent does (relaxed loads).
 */
struct hf_worker;

/* Registers /hydrofoil/stats over @p n workers. Returns 0 or a negative errno. */
int hf_telemetry_init(struct hf_worker *const *workers, unsigned int n);

/* Stops answering from the workers (before they are freed): waits out a callback under way. */
void hf_telemetry_fini(void);

#endif
