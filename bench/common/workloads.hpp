#pragma once
// The default size of each scenario, shared by both programs so that troupe and CAF always do
// the same amount of work. `n=` on the command line overrides the main count (for smaller
// profiling runs).

#include <cstdint>

namespace bench::workload {

inline constexpr std::int64_t pingpong_messages = 1'000'000;  ///< total, both directions
/// pairs: this many ping-pong pairs per worker thread, all bouncing at once (4 x workers pairs).
inline constexpr unsigned pairs_per_worker = 4;
inline constexpr std::int64_t pairs_messages = 2'000'000;  ///< total over all pairs
inline constexpr std::int64_t mailbox_per_sender = 2'000'000;
inline constexpr int mailbox_senders = 2;  ///< plain std::threads, not actors
inline constexpr int fanout_workers = 1'000;
inline constexpr std::int64_t fanout_rounds = 1'000;
inline constexpr std::int64_t spawn_actors = 1'000'000;
inline constexpr std::int64_t ask_round_trips = 100'000;
inline constexpr int ring_size = 503;
inline constexpr std::int64_t ring_hops = 1'000'000;
inline constexpr int idle_actors = 100;
inline constexpr std::int64_t idle_seconds = 5;
inline constexpr std::int64_t skynet_leaves = 1'000'000;  ///< a tree of 1,111,111 actors
inline constexpr int skynet_branching = 10;
inline constexpr std::int64_t coroutine_messages = 1'000'000;  ///< per handler style
inline constexpr std::int64_t restarts = 20'000;
/// remote_tell: ints told to an actor in another process (bench_remote_actors, bench_caf_remote).
inline constexpr std::int64_t remote_tell_messages = 1'000'000;
/// remote_ask: sequential asks of an actor in another process.
inline constexpr std::int64_t remote_ask_round_trips = 20'000;
/// bench_floor's blocking variants (ping-pong, ask) do this fraction of the count: every
/// message there costs a futex wake and a context switch, some microseconds each.
inline constexpr std::int64_t floor_blocking_divisor = 10;

}  // namespace bench::workload
