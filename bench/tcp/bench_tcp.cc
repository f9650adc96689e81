// SPDX-License-Identifier: Apache-2.0
// The TCP stack's per-segment and per-connection cost, stack only (no device,
// no copies but the test frames', which are built outside the timed region).
#include <algorithm>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/bench_peer.h"

static bench_env env;
static bool ready;

static void
setup()
{
	if (ready)
		return;
	if (bench_env_init(&env, 65536) != 0 || bench_tcp_data_setup(&env) != 0)
		abort();
	ready = true;
}

// Cycles per in-order 1448-byte segment received: checksum, lookup, state
// machine, reassembly queue, the reader taking it, and the ACK decision (an
// ACK every second segment).
static void
BM_tcp_rx_inorder_segment(benchmark::State &state)
{
	uint64_t cycles = 0, n = 0;

	setup();
	for (auto _ : state) {
		uint64_t c = bench_tcp_data_segment(&env, (int)state.range(0));
		cycles += c;
		n++;
		state.SetIterationTime((double)c / (double)bench_tsc_hz());
	}
	state.counters["cycles_per_segment"] = (double)cycles / (double)n;
	state.SetBytesProcessed((int64_t)n * 1448);
}
// Arg 0: checksums in software (net_tap, memif); arg 1: in the device (NICs).
BENCHMARK(BM_tcp_rx_inorder_segment)->Arg(0)->Arg(1)->UseManualTime()->MinTime(1.0);

// Times @p one (a whole connection, its cycles returned) once per iteration: the mean and,
// as a preempted iteration on a shared machine moves the mean, the median.
template <typename F>
static void
per_connection(benchmark::State &state, F one)
{
	uint64_t cycles = 0, n = 0;
	std::vector<uint64_t> each;

	for (auto _ : state) {
		uint64_t c = one(&env);
		cycles += c;
		n++;
		each.push_back(c);
		state.SetIterationTime((double)c / (double)bench_tsc_hz());
	}
	std::nth_element(each.begin(), each.begin() + each.size() / 2, each.end());
	state.counters["cycles_per_connection"] = (double)cycles / (double)n;
	state.counters["cycles_median"] = (double)each[each.size() / 2];
}

// Cycles for a whole passive connection: SYN in / SYN-ACK out, ACK in
// (accept), FIN in / our FIN out, last ACK in → CLOSED and the TCB back.
static void
BM_tcp_passive_connection_life(benchmark::State &state)
{
	setup();
	per_connection(state, bench_tcp_conn_life);
	state.counters["bytes_per_idle_connection"] = (double)bench_tcp_footprint();
}
BENCHMARK(BM_tcp_passive_connection_life)->UseManualTime()->MinTime(1.0);

// Cycles for a whole connection as memif_bench.sh's phase 2 makes them: SYN in
// (reopening the tuple's TIME_WAIT TCB once the 28,232 ports went round),
// request in, answer and our FIN out, the peer's FIN in → TIME_WAIT.
static void
BM_tcp_passive_connection_time_wait(benchmark::State &state)
{
	static bool tw_ready;

	setup();
	if (!tw_ready && bench_tcp_tw_setup(&env) != 0)
		abort();
	tw_ready = true;
	per_connection(state, bench_tcp_conn_tw_reopen);
	state.counters["time_wait"] = (double)bench_tcp_time_wait(&env);
}
BENCHMARK(BM_tcp_passive_connection_time_wait)->UseManualTime()->MinTime(1.0);

// The same, 16 connections at a time: each step's 16 frames as one RX burst,
// without (arg 0) and with (arg 1) the worker's warming of their buckets and
// TCBs (hf_tcp_prefetch_burst) before the stack takes them.
static void
BM_tcp_passive_connection_time_wait_burst(benchmark::State &state)
{
	static bool tw_ready;
	uint64_t cycles = 0, n = 0;
	std::vector<uint64_t> each;

	setup();
	if (!tw_ready && bench_tcp_tw_setup(&env) != 0)
		abort();
	tw_ready = true;
	for (auto _ : state) {
		uint64_t c = bench_tcp_conn_tw_burst(&env, 16, (int)state.range(0));
		cycles += c;
		n += 16;
		each.push_back(c / 16);
		state.SetIterationTime((double)c / (double)bench_tsc_hz());
	}
	std::nth_element(each.begin(), each.begin() + each.size() / 2, each.end());
	state.counters["cycles_per_connection"] = (double)cycles / (double)n;
	state.counters["cycles_median"] = (double)each[each.size() / 2];
}
BENCHMARK(BM_tcp_passive_connection_time_wait_burst)->Arg(0)->Arg(1)->UseManualTime()->MinTime(1.0);

// Cycles to turn one ICMP echo request into its reply (Ethernet to TX buffer).
static void
BM_icmp_echo(benchmark::State &state)
{
	uint64_t cycles = 0, n = 0;

	setup();
	for (auto _ : state) {
		uint64_t c = bench_icmp_echo(&env, (uint16_t)state.range(0));
		cycles += c;
		n++;
		state.SetIterationTime((double)c / (double)bench_tsc_hz());
	}
	state.counters["cycles_per_packet"] = (double)cycles / (double)n;
}
BENCHMARK(BM_icmp_echo)->Arg(56)->Arg(1472)->UseManualTime()->MinTime(0.5);

BENCHMARK_MAIN();
