// CAF side of the lifecycle scenarios: spawning many actors, request/receive from main through
// a scoped_actor, and an idle system's CPU use. Same workloads as bench/troupe/lifecycle.cpp.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace bench::caf_side {

namespace {

/// Reports its first activation (CAF runs this function there), then waits for messages.
caf::behavior starter(caf::event_based_actor*, countdown* started) {
    started->hit();
    return {
        [](std::int64_t) {},  // an actor with an empty behavior would quit at once
    };
}

caf::behavior echo(caf::event_based_actor*) {
    return {
        [](std::int64_t value) { return value; },
    };
}

}  // namespace

void spawn(const options& opts) {
    const std::int64_t n = opts.count_or(workload::spawn_actors);
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    // Empty handles written up front, so that the handle array is not counted as actor memory.
    std::vector<caf::actor> refs(static_cast<std::size_t>(n));
    countdown started(n);
    const std::int64_t rss_before = rss_bytes();
    const auto start = clock_type::now();
    for (auto& r : refs) {
        r = sys.spawn(starter, &started);
    }
    started.wait();
    const double spawn_secs = seconds_since(start);
    const std::int64_t rss_after = rss_bytes();
    report("spawn", "per_actor", spawn_secs * 1e9 / static_cast<double>(n), "ns");
    report("spawn", "rss_per_actor", static_cast<double>(rss_after - rss_before) / static_cast<double>(n), "B");

    // Teardown: dropping the last handle of an event-based actor ends it.
    const auto stop_start = clock_type::now();
    refs = {};
    sys.await_all_actors_done();
    report("spawn", "teardown_per_actor", seconds_since(stop_start) * 1e9 / static_cast<double>(n), "ns");
}

void ask(const options& opts) {
    const std::int64_t n = opts.count_or(workload::ask_round_trips);
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    auto target = sys.spawn(echo);
    std::vector<double> micros;
    micros.reserve(static_cast<std::size_t>(n));
    std::int64_t sum = 0;
    bool failed = false;
    double cpu = 0;
    {
        caf::scoped_actor self{sys};
        // CPU time of every thread over the loop: main's waits and the workers' polling.
        const double cpu_before = process_cpu_seconds();
        for (std::int64_t i = 0; i < n; ++i) {
            const auto start = clock_type::now();
            self->request(target, caf::infinite, i)
                .receive([&](std::int64_t value) { sum += value; }, [&](caf::error&) { failed = true; });
            micros.push_back(seconds_since(start) * 1e6);
        }
        cpu = process_cpu_seconds() - cpu_before;
    }
    report_round_trips("ask", "", micros, cpu);
    if (failed || sum != n * (n - 1) / 2) {
        report("ask", "wrong_replies", 1, "error");
    }
}

void idle(const options& opts) {
    const std::int64_t secs = opts.count_or(workload::idle_seconds);
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    countdown started(workload::idle_actors);
    std::vector<caf::actor> refs;
    for (int i = 0; i < workload::idle_actors; ++i) {
        refs.push_back(sys.spawn(starter, &started));
    }
    started.wait();
    // The window starts right after the last activation, so it includes the workers' spin-down.
    const double cpu_before = cpu_seconds();
    const auto start = clock_type::now();
    std::this_thread::sleep_for(std::chrono::seconds(secs));
    const double used = cpu_seconds() - cpu_before;
    report("idle", "cpu", used / seconds_since(start) * 100.0, "%core");
}

}  // namespace bench::caf_side
