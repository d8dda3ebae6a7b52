#pragma once
// What bench_stream_pipeline's parts share: its clock, medians and percentiles, the line it
// prints per figure (the format of bench_events), and a sink that keeps loops from being
// optimised away.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace bench_streams {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}
inline double micros_since(clock_type::time_point t) {
    return std::chrono::duration<double, std::micro>(clock_type::now() - t).count();
}

/// The median of `v` (the upper one of an even count).
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// One figure: `side` (troupe, floor, ratio), scenario, metric, value, unit.
inline void report(const char* side, const char* scenario, const char* metric, double value, const char* unit) {
    std::printf("%-7s %-16s %-10s %14.1f %s\n", side, scenario, metric, value, unit);
}

/// Mean, p50, p99 and p99.9 of round-trip times in µs, and how many there were.
struct latencies {
    double mean = 0;
    double p50 = 0;
    double p99 = 0;
    double p999 = 0;
    std::size_t samples = 0;
};
inline latencies latencies_of(std::vector<double> micros) {
    latencies l;
    if (micros.empty()) {
        return l;
    }
    double total = 0;
    for (double m : micros) {
        total += m;
    }
    std::sort(micros.begin(), micros.end());
    l.samples = micros.size();
    l.mean = total / static_cast<double>(micros.size());
    l.p50 = micros[micros.size() / 2];
    l.p99 = micros[micros.size() * 99 / 100];
    l.p999 = micros[micros.size() * 999 / 1000];
    return l;
}
/// `all` (every round's samples together), then the lowest and highest p50 and p99 of the
/// rounds apart: a round whose threads shared one core shows up there.
inline void report(const char* side, const char* scenario, const latencies& all, const std::vector<latencies>& rounds) {
    report(side, scenario, "mean", all.mean, "us");
    report(side, scenario, "p50", all.p50, "us");
    report(side, scenario, "p99", all.p99, "us");
    report(side, scenario, "p99.9", all.p999, "us");
    report(side, scenario, "samples", static_cast<double>(all.samples), "round trips");
    const auto [p50_lo, p50_hi] = std::minmax_element(
        rounds.begin(), rounds.end(), [](const latencies& a, const latencies& b) { return a.p50 < b.p50; });
    const auto [p99_lo, p99_hi] = std::minmax_element(
        rounds.begin(), rounds.end(), [](const latencies& a, const latencies& b) { return a.p99 < b.p99; });
    if (!rounds.empty()) {
        report(side, scenario, "p50_lo", p50_lo->p50, "us (lowest p50 of a round)");
        report(side, scenario, "p50_hi", p50_hi->p50, "us (highest)");
        report(side, scenario, "p99_lo", p99_lo->p99, "us (lowest p99 of a round)");
        report(side, scenario, "p99_hi", p99_hi->p99, "us (highest)");
    }
}

/// Printed at the end, so that no measured loop is optimised away.
inline std::int64_t sink = 0;

}  // namespace bench_streams
