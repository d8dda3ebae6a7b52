#pragma once
// Sequential round trips, timed one by one: their samples and CPU (round_trips), and blocks of
// troupe's round trips alternating with a floor's in the same run (alternate). Used by
// bench_processes (portal.run, contexts) and bench_remote_actors (asks of a remote actor).

#include <troupe/troupe.hpp>

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "../common/measure.hpp"

namespace bench {

/// Prints one result line with its framework first: `<framework> scenario metric value unit`.
inline void report_line(const char* framework, std::string_view scenario, std::string_view metric, double value,
                        std::string_view unit) {
    std::printf("%s ", framework);
    report(scenario, metric, value, unit);
}

/// Per-round-trip samples (µs) and the CPU they cost.
struct round_trips {
    std::vector<double> micros;
    double parent_cpu = 0;  // this process, all threads, over this side's blocks
    double child_cpu = 0;   // the other process, all threads, over the whole scenario

    /// Prints mean, p50, p99 and cpu_per_round_trip (all µs) as `framework`'s.
    void report_as(const char* framework, std::string_view scenario) {
        double total = 0;
        for (double m : micros) {
            total += m;
        }
        const auto n = static_cast<double>(micros.size());
        report_line(framework, scenario, "mean", total / n, "us");
        report_line(framework, scenario, "p50", percentile(micros, 0.50), "us");
        report_line(framework, scenario, "p99", percentile(micros, 0.99), "us");
        report_line(framework, scenario, "cpu_per_round_trip", (parent_cpu + child_cpu) * 1e6 / n, "us");
    }
};

/// Runs `blocks` blocks of `per_block` round trips on each side, alternating which goes first,
/// timing each round trip; `troupe_one(i)` (a coroutine, awaited) and `floor_one()` make one.
template <class TroupeOne, class FloorOne>
troupe::task<void> alternate(std::int64_t blocks, std::int64_t per_block, round_trips& t, round_trips& f,
                             TroupeOne troupe_one, FloorOne floor_one) {
    for (std::int64_t b = 0; b < blocks; ++b) {
        for (int k = 0; k < 2; ++k) {
            const bool troupe_side = ((b + k) % 2) == 0;
            const double cpu0 = process_cpu_seconds();
            for (std::int64_t i = 0; i < per_block; ++i) {
                const auto start = clock_type::now();
                if (troupe_side) {
                    co_await troupe_one(static_cast<int>(i & 63));
                } else {
                    floor_one();
                }
                (troupe_side ? t : f).micros.push_back(seconds_since(start) * 1e6);
            }
            (troupe_side ? t : f).parent_cpu += process_cpu_seconds() - cpu0;
        }
    }
}

}  // namespace bench
