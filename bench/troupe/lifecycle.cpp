// troupe side of the lifecycle scenarios: spawning many actors, ask from main, and an idle
// system's CPU use.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace bench::troupe_side {

namespace {

/// An actor that only reports its first activation.
class starter : public troupe::actor {
public:
    explicit starter(countdown& started) : started_(started) {}

protected:
    void on_start() override { started_.hit(); }

private:
    countdown& started_;
};

struct echo_request {
    std::int64_t value;
};

class echo : public troupe::actor {
public:
    std::int64_t handle(echo_request r) { return r.value; }
};

}  // namespace

void spawn(const options& opts) {
    const std::int64_t n = opts.count_or(workload::spawn_actors);
    troupe::system sys(system_options_for(opts));
    // Empty refs written up front, so that the handle array is not counted as actor memory.
    std::vector<troupe::ref<starter>> refs(static_cast<std::size_t>(n));
    countdown started(n);
    const std::int64_t rss_before = rss_bytes();
    const auto start = clock_type::now();
    for (auto& r : refs) {
        r = sys.spawn<starter>(started);
    }
    started.wait();
    const double spawn_secs = seconds_since(start);
    const std::int64_t rss_after = rss_bytes();
    report("spawn", "per_actor", spawn_secs * 1e9 / static_cast<double>(n), "ns");
    report("spawn", "rss_per_actor", static_cast<double>(rss_after - rss_before) / static_cast<double>(n), "B");

    // Teardown: drop the handles and stop every actor (troupe keeps actors alive without refs).
    const auto stop_start = clock_type::now();
    refs = {};
    sys.shutdown();
    report("spawn", "teardown_per_actor", seconds_since(stop_start) * 1e9 / static_cast<double>(n), "ns");
}

void ask(const options& opts) {
    const std::int64_t n = opts.count_or(workload::ask_round_trips);
    troupe::system sys(system_options_for(opts));
    auto target = sys.spawn<echo>();
    std::vector<double> micros;
    micros.reserve(static_cast<std::size_t>(n));
    std::int64_t sum = 0;
    // CPU time of every thread over the loop: main's waits and the workers' spins show up here.
    const double cpu_before = process_cpu_seconds();
    for (std::int64_t i = 0; i < n; ++i) {
        const auto start = clock_type::now();
        sum += target.ask(echo_request{i}).get();
        micros.push_back(seconds_since(start) * 1e6);
    }
    const double cpu = process_cpu_seconds() - cpu_before;
    report_round_trips("ask", "", micros, cpu);
    if (sum != n * (n - 1) / 2) {
        report("ask", "wrong_replies", 1, "error");
    }
}

void idle(const options& opts) {
    const std::int64_t secs = opts.count_or(workload::idle_seconds);
    troupe::system sys(system_options_for(opts));
    countdown started(workload::idle_actors);
    std::vector<troupe::ref<starter>> refs;
    for (int i = 0; i < workload::idle_actors; ++i) {
        refs.push_back(sys.spawn<starter>(started));
    }
    started.wait();
    // The window starts right after the last on_start, so it includes the workers' spin-down.
    const double cpu_before = cpu_seconds();
    const auto start = clock_type::now();
    std::this_thread::sleep_for(std::chrono::seconds(secs));
    const double used = cpu_seconds() - cpu_before;
    report("idle", "cpu", used / seconds_since(start) * 100.0, "%core");
}

}  // namespace bench::troupe_side
