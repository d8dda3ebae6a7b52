#pragma once
// Measuring helpers shared by bench_troupe and bench_caf, so that both sides time, sample
// memory and report in exactly the same way. Nothing here knows about either framework.

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

/// Seconds elapsed since `start`.
inline double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Resident set size in bytes, from the second field of /proc/self/statm.
inline std::int64_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) {
        return 0;
    }
    long size = 0;
    long resident = 0;
    const int fields = std::fscanf(f, "%ld %ld", &size, &resident);
    std::fclose(f);
    return fields == 2 ? static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE) : 0;
}

/// User plus system CPU time of the whole process (every thread), in seconds.
inline double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

/// CPU time of the whole process (every thread) in seconds, at the kernel's full resolution
/// (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)); for short windows such as an ask loop.
inline double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

/// Prints one result line: `scenario metric value unit`, the format run.sh collects.
inline void report(std::string_view scenario, std::string_view metric, double value, std::string_view unit) {
    std::printf("%.*s %.*s %.6g %.*s\n", static_cast<int>(scenario.size()), scenario.data(),
                static_cast<int>(metric.size()), metric.data(), value, static_cast<int>(unit.size()), unit.data());
    std::fflush(stdout);
}

/// The value below which a fraction `q` of `samples` lies (nearest rank; sorts `samples`).
inline double percentile(std::vector<double>& samples, double q) {
    if (samples.empty()) {
        return 0;
    }
    std::sort(samples.begin(), samples.end());
    auto rank = static_cast<std::size_t>(q * static_cast<double>(samples.size()));
    return samples[std::min(rank, samples.size() - 1)];
}

/// A one-shot flag one thread raises and another waits for (futex-backed std::atomic wait),
/// used by both frameworks to tell main that a scenario finished.
class done_flag {
public:
    void raise() noexcept {
        // release: everything the finishing actor did happens before main's wake-up.
        done_.store(true, std::memory_order_release);
        done_.notify_all();
    }
    void wait() const noexcept { done_.wait(false, std::memory_order_acquire); }
    bool raised() const noexcept { return done_.load(std::memory_order_acquire); }

private:
    std::atomic<bool> done_{false};
};

/// A countdown that raises a done_flag when it reaches zero (from any thread).
class countdown {
public:
    explicit countdown(std::int64_t n) : left_(n) {}
    void hit() noexcept {
        // acq_rel: the last hit sees every earlier one's work before raising the flag.
        if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            done_.raise();
        }
    }
    void wait() const noexcept { done_.wait(); }

private:
    std::atomic<std::int64_t> left_;
    done_flag done_;
};

/// Several independent lanes (ping-pong pairs) that each cross once: raises a done_flag when
/// the last has crossed, and remembers when the first did, to show whether the lanes
/// progressed together or one after another.
class finish_line {
public:
    explicit finish_line(std::int64_t lanes) : left_(lanes) {}
    void cross() noexcept {
        std::int64_t none = 0;
        // relaxed: only the value matters; main reads it after wait(), which orders it.
        first_ns_.compare_exchange_strong(none, clock_type::now().time_since_epoch().count(),
                                          std::memory_order_relaxed);
        // acq_rel: the last crossing sees the others' work before raising the flag.
        if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            done_.raise();
        }
    }
    void wait() const noexcept { done_.wait(); }
    /// When the first lane crossed (valid after wait()).
    clock_type::time_point first_crossing() const noexcept {
        return clock_type::time_point(clock_type::duration(first_ns_.load(std::memory_order_relaxed)));
    }

private:
    std::atomic<std::int64_t> left_;
    std::atomic<clock_type::rep> first_ns_{0};
    done_flag done_;
};

/// Reports a sequence of round trips: `<prefix>mean`, `<prefix>p50`, `<prefix>p99` (µs, from the
/// per-round-trip `micros`, which this sorts) and `<prefix>cpu_per_round_trip` (µs: the process
/// CPU time `cpu_secs` spent over the whole loop, all threads, divided by the round trips).
inline void report_round_trips(std::string_view scenario, const std::string& prefix, std::vector<double>& micros,
                               double cpu_secs) {
    if (micros.empty()) {
        return;
    }
    double total = 0;
    for (double m : micros) {
        total += m;
    }
    const auto n = static_cast<double>(micros.size());
    report(scenario, prefix + "mean", total / n, "us");
    report(scenario, prefix + "p50", percentile(micros, 0.50), "us");
    report(scenario, prefix + "p99", percentile(micros, 0.99), "us");
    report(scenario, prefix + "cpu_per_round_trip", cpu_secs * 1e6 / n, "us");
}

/// Command-line settings: `bench_x <scenario> [n=<count>] [workers=<k>]`.
struct options {
    std::string scenario;
    std::int64_t n = 0;    ///< the scenario's main count; 0 = its default
    unsigned workers = 2;  ///< worker threads of the actor system

    /// `n` if given, else `fallback`.
    std::int64_t count_or(std::int64_t fallback) const { return n > 0 ? n : fallback; }
};

/// Parses argv; returns false (after printing usage) when the arguments make no sense.
inline bool parse_options(int argc, char** argv, options& out) {
    if (argc < 2) {
        return false;
    }
    out.scenario = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.rfind("n=", 0) == 0) {
            out.n = std::strtoll(arg.data() + 2, nullptr, 10);
        } else if (arg.rfind("workers=", 0) == 0) {
            out.workers = static_cast<unsigned>(std::strtoul(arg.data() + 8, nullptr, 10));
        } else {
            return false;
        }
    }
    return out.workers > 0;
}

/// One named scenario of a benchmark program.
struct scenario {
    const char* name;
    void (*run)(const options&);
};

/// The main() of both programs: picks the scenario named on the command line and runs it.
template <std::size_t N>
int run_main(int argc, char** argv, const char* program, const scenario (&table)[N]) {
    options opts;
    if (parse_options(argc, argv, opts)) {
        for (const auto& s : table) {
            if (opts.scenario == s.name) {
                s.run(opts);
                return 0;
            }
        }
    }
    std::fprintf(stderr, "usage: %s <scenario> [n=<count>] [workers=<k>]\nscenarios:", program);
    for (const auto& s : table) {
        std::fprintf(stderr, " %s", s.name);
    }
    std::fprintf(stderr, "\n");
    return 2;
}

}  // namespace bench
