#pragma once
// bench_stream_pipeline's rows of replies (replies.cpp): agent.map() and agent.join() over n
// values, and one agent.ask() at a time, each with its bare floor.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bench_streams {

/// map()'s default window: at most this many asks wait at once.
inline constexpr std::uint64_t map_window = 1000;

/// n values through agent.map() from an app task, until every reply is read: values/s.
double troupe_map(std::uint64_t n);
/// n values through agent.join() from the main thread, until the vector of replies is there.
double troupe_join(std::uint64_t n);
/// The floor of both: a requester and a worker thread, two queues, at most `window` requests
/// waiting at once; values/s.
double floor_map(std::uint64_t n, std::uint64_t window);

/// `asks` asks of an agent, one at a time, after 1,000 not timed: each round trip in µs. With
/// `spin_rounds`, the agent's workers spin that many rounds before parking (scheduler_options),
/// not the library's default.
std::vector<double> troupe_asks(std::uint64_t asks, std::optional<unsigned> spin_rounds);
/// The floor: one request at a time to a bare thread and back, both sleeping on a futex while
/// their queue is empty; with `spin`, both spinning on their queue instead (pause, and after
/// 1,000 empty looks sched_yield: bench/floor's mpsc_queue::pop).
std::vector<double> floor_asks(std::uint64_t asks, bool spin);

}  // namespace bench_streams
