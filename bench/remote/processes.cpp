// bench_processes: process actors (troupe::remote) next to bare floors, measured in one run.
//   bench_processes <scenario> [n=<count>]
// Every line it prints is `<framework> <scenario> <metric> <value> <unit>`, framework `troupe`
// or `floor`: each scenario runs its troupe rounds and its floor's, interleaved, in the same
// process, so that both see the same load. Scenarios (docs/benchmarks.md says what each row
// includes and what it does not):
//   process_spawn     n rounds (30) of: run_in_actor of a trivial function until its result
//                     and until the nursery has ended (child reaped); posix_spawn + exec + exit
//                     of bench_exit (an empty main) and of this executable (exiting at once)
//   portal_run        n sequential portal.run round trips (10,000) to a daemon, in blocks
//                     alternating with a raw socket round trip of the same sizes to a floor child
//   process_stream    n ints (2,000,000) from a daemon's generator through portal.open_stream,
//                     3 rounds alternating with a floor child writing the same frames; then a
//                     consumer 10x slower than that rate, sampling both processes' RSS
//   context_pingpong  n round trips (10,000) over portal.open_context (send, then receive),
//                     in blocks alternating with a raw socket round trip of the same sizes
// Its main is troupe::run: troupe's children are this executable again (with bootstrap
// arguments), and so are the floor's (with --bench-floor, handled before troupe::run).

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "../common/measure.hpp"
#include "process_floor.hpp"
#include "round_trips.hpp"
#include "rss_sampler.hpp"

// What the children serve.
namespace served {
int echo(int x) {
    return x;
}
troupe::generator<int> count(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}
/// Sends back every int it receives until the caller stops; returns how many.
troupe::task<int> bounce(troupe::stream_context& ctx) {
    co_await ctx.started();
    int n = 0;
    while (std::optional<int> v = co_await ctx.receive<int>()) {
        co_await ctx.send(*v);
        ++n;
    }
    co_return n;
}
}  // namespace served
TROUPE_EXPOSE(served, echo);
TROUPE_EXPOSE(served, count);
TROUPE_EXPOSE(served, bounce);

namespace {

namespace floor = bench::process_floor;
namespace wire = troupe::wire;
using bench::clock_type;
using bench::seconds_since;

using bench::alternate;
using bench::round_trips;

void report(const char* framework, std::string_view scenario, std::string_view metric, double value,
            std::string_view unit) {
    bench::report_line(framework, scenario, metric, value, unit);
}

[[noreturn]] void wrong(const char* what, long long got, long long expected) {
    std::fprintf(stderr, "bench_processes: %s: got %lld, expected %lld\n", what, got, expected);
    std::abort();
}

double median(std::vector<double> v) {
    return bench::percentile(v, 0.5);
}

troupe::process_options serving() {
    troupe::process_options o;
    o.enable = {"served"};
    return o;
}

/// The pid in a portal's name ("echo#1@4121"); valid once a call has returned.
pid_t pid_of(const troupe::portal& p) {
    const std::string name = p.name();
    return static_cast<pid_t>(std::stol(name.substr(name.rfind('@') + 1)));
}

/// The size of the frame carrying `body` on `dialog`, as the connection writes it.
template <class M>
std::size_t frame_size(std::uint64_t dialog, const M& body) {
    wire::frame_writer w;
    wire::write_message(w, dialog, body);
    return w.pending().size();
}

/// A raw round trip to a floor echo server: `out` bytes written, `in` bytes read back.
void floor_round_trip(int fd, std::vector<std::byte>& buffer, std::size_t out, std::size_t in) {
    floor::write_all(fd, buffer.data(), out);
    if (!floor::read_exactly(fd, buffer.data(), in)) {
        wrong("the floor echo server closed", 0, 1);
    }
}

// --- process_spawn ------------------------------------------------------------------------

void process_spawn(troupe::system& sys, const bench::options& opts) {
    const auto rounds = opts.count_or(30);
    const std::string minimal = floor::own_directory() + "bench_exit";
    std::vector<double> called, result, reaped, exec_minimal, exec_main, exec_self;
    auto troupe_round = [&](bool keep) {
        clock_type::time_point start;
        double t_called = 0;
        double t_result = 0;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            start = clock_type::now();
            auto p = an.run_in_actor("spawned", &served::echo, 41);
            t_called = seconds_since(start);
            const int r = co_await p.result();
            t_result = seconds_since(start);
            if (r != 41) {
                wrong("the spawned child's result", r, 41);
            }
        });
        const double t_reaped = seconds_since(start);
        if (keep) {
            called.push_back(t_called * 1e3);
            result.push_back(t_result * 1e3);
            reaped.push_back(t_reaped * 1e3);
        }
    };
    auto minimal_round = [&](bool keep) {
        const double t = floor::spawn_and_reap(minimal);
        if (keep) {
            exec_minimal.push_back(t * 1e3);
        }
    };
    auto self_round = [&](bool keep) {
        const floor::exec_times t = floor::spawn_self_and_reap();
        if (keep) {
            exec_main.push_back(t.to_main * 1e3);
            exec_self.push_back(t.to_reaped * 1e3);
        }
    };
    // One unmeasured round of each first: page cache, the dynamic loader's first look.
    troupe_round(false);
    minimal_round(false);
    self_round(false);
    for (std::int64_t i = 0; i < rounds; ++i) {
        // Which one goes first rotates, so that none always runs right after another's exit.
        for (int k = 0; k < 3; ++k) {
            switch ((i + k) % 3) {
                case 0:
                    troupe_round(true);
                    break;
                case 1:
                    minimal_round(true);
                    break;
                default:
                    self_round(true);
                    break;
            }
        }
    }
    const char* s = "process_spawn";
    report("troupe", s, "result", median(result), "ms");
    report("troupe", s, "reaped", median(reaped), "ms");
    report("troupe", s, "run_in_actor_call", median(called), "ms");
    report("floor", s, "exec_minimal", median(exec_minimal), "ms");
    report("floor", s, "exec_self_to_main", median(exec_main), "ms");
    report("floor", s, "exec_self", median(exec_self), "ms");
    report("troupe", s, "exec_share", 100 * median(exec_self) / median(result), "%");
    report("troupe", s, "to_main_share", 100 * median(exec_main) / median(result), "%");
}

// --- portal_run and context_pingpong: blocks of round trips, alternating --------------------

void portal_run(troupe::system& sys, const bench::options& opts) {
    const std::int64_t n = opts.count_or(10'000);
    const std::int64_t blocks = 20;
    const std::int64_t per_block = std::max<std::int64_t>(n / blocks, 1);
    // The frames of one call as troupe writes them (dialog ids pass 255 early on: 3 bytes).
    const std::size_t request =
        frame_size(20'000, wire::msg::start{"served.echo", wire::encode(std::tuple<int>(5)), 0});
    const std::size_t reply = frame_size(20'000, wire::msg::returned{wire::encode(5)});
    round_trips t;
    round_trips f;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("echo", serving());
        for (int i = 0; i < 200; ++i) {  // warm-up: the handshake, the first allocations
            co_await p.run(&served::echo, i);
        }
        floor::server echo({"echo", std::to_string(request), std::to_string(reply)});
        std::vector<std::byte> buffer(std::max(request, reply));
        for (int i = 0; i < 200; ++i) {
            floor_round_trip(echo.fd(), buffer, request, reply);
        }
        const pid_t child = pid_of(p);
        const double child_cpu0 = floor::cpu_seconds_of(child);
        const double floor_cpu0 = floor::cpu_seconds_of(echo.pid());
        co_await alternate(
            blocks, per_block, t, f,
            [&](int v) -> troupe::task<void> {
                const int r = co_await p.run(&served::echo, v);
                if (r != v) {
                    wrong("portal.run's echo", r, v);
                }
            },
            [&] { floor_round_trip(echo.fd(), buffer, request, reply); });
        t.child_cpu = floor::cpu_seconds_of(child) - child_cpu0;
        f.child_cpu = floor::cpu_seconds_of(echo.pid()) - floor_cpu0;
        echo.finish();
        co_await p.cancel_actor();
    });
    t.report_as("troupe", "portal_run");
    f.report_as("floor", "portal_run");
    report("floor", "portal_run", "request_bytes", static_cast<double>(request), "B");
    report("floor", "portal_run", "reply_bytes", static_cast<double>(reply), "B");
}

void context_pingpong(troupe::system& sys, const bench::options& opts) {
    const std::int64_t n = opts.count_or(10'000);
    const std::int64_t blocks = 20;
    const std::int64_t per_block = std::max<std::int64_t>(n / blocks, 1);
    const std::size_t item = frame_size(2, wire::msg::yield{wire::encode(5)});
    round_trips t;
    round_trips f;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("bouncer", serving());
        auto ctx = co_await p.open_context(&served::bounce);
        auto one = [&](int v) -> troupe::task<void> {
            co_await ctx.send(v);
            const std::optional<int> back = co_await ctx.receive<int>();
            if (!back || *back != v) {
                wrong("the context's echo", back.value_or(-1), v);
            }
        };
        for (int i = 0; i < 200; ++i) {
            co_await one(i & 63);
        }
        floor::server echo({"echo", std::to_string(item), std::to_string(item)});
        std::vector<std::byte> buffer(item);
        for (int i = 0; i < 200; ++i) {
            floor_round_trip(echo.fd(), buffer, item, item);
        }
        const pid_t child = pid_of(p);
        const double child_cpu0 = floor::cpu_seconds_of(child);
        const double floor_cpu0 = floor::cpu_seconds_of(echo.pid());
        co_await alternate(blocks, per_block, t, f, one, [&] { floor_round_trip(echo.fd(), buffer, item, item); });
        t.child_cpu = floor::cpu_seconds_of(child) - child_cpu0;
        f.child_cpu = floor::cpu_seconds_of(echo.pid()) - floor_cpu0;
        echo.finish();
        ctx.close();
        const int echoed = co_await ctx.result();
        if (echoed != 200 + blocks * per_block) {
            wrong("the context's count", echoed, 200 + blocks * per_block);
        }
        co_await p.cancel_actor();
    });
    t.report_as("troupe", "context_pingpong");
    f.report_as("floor", "context_pingpong");
    report("floor", "context_pingpong", "item_bytes", static_cast<double>(item), "B");
}

// --- process_stream -----------------------------------------------------------------------

/// Consumes the stream of 0..n-1, checking every item; spins `per_item` after each one.
troupe::task<void> consume(troupe::remote_stream<int>& s, int n, std::chrono::nanoseconds per_item) {
    int expected = 0;
    while (std::optional<int> v = co_await s.next()) {
        if (*v != expected) {
            wrong("stream item", *v, expected);
        }
        ++expected;
        if (per_item.count() > 0) {
            const auto until = clock_type::now() + per_item;
            while (clock_type::now() < until) {}
        }
    }
    if (expected != n) {
        wrong("stream items received", expected, n);
    }
}

void process_stream(troupe::system& sys, const bench::options& opts) {
    const int n = static_cast<int>(opts.count_or(2'000'000));
    std::vector<double> troupe_rates;
    std::vector<double> floor_rates;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("producer", serving());
        {
            auto warm = p.open_stream(&served::count, 10'000);
            co_await consume(warm, 10'000, {});
        }
        for (int round = 0; round < 6; ++round) {
            if (round % 2 == 0) {
                const auto start = clock_type::now();
                auto s = p.open_stream(&served::count, n);
                co_await consume(s, n, {});
                troupe_rates.push_back(n / seconds_since(start));
            } else {
                floor::server writer({"stream", std::to_string(n)});
                char go = 0;
                if (!floor::read_exactly(writer.fd(), &go, 1)) {  // it runs: its exec is not timed
                    wrong("the floor stream server closed", 0, 1);
                }
                const auto start = clock_type::now();
                floor::write_all(writer.fd(), &go, 1);
                floor::receive_stream(writer.fd(), static_cast<std::uint64_t>(n));
                floor_rates.push_back(n / seconds_since(start));
            }
        }
        // A consumer 10x slower than the producer, for about 3 s.
        const double rate = median(troupe_rates);
        const auto per_item = std::chrono::nanoseconds(static_cast<std::int64_t>(10e9 / rate));
        const int slow_n = std::max(1000, static_cast<int>(3.0 * rate / 10));
        bench::rss_sampler rss({::getpid(), pid_of(p)}, std::chrono::milliseconds(10));
        const auto start = clock_type::now();
        {
            auto s = p.open_stream(&served::count, slow_n);
            co_await consume(s, slow_n, per_item);
            rss.stop();
        }
        const double slow_rate = slow_n / seconds_since(start);
        const auto parent = rss.series_of(0);
        const auto child = rss.series_of(1);
        const char* sc = "process_stream";
        report("troupe", sc, "slow_consumer_rate", slow_rate, "items/s");
        report("troupe", sc, "slow_consumer_items", slow_n, "items");
        report("troupe", sc, "rss_parent_start", static_cast<double>(parent.start), "KiB");
        report("troupe", sc, "rss_parent_peak", static_cast<double>(parent.peak), "KiB");
        report("troupe", sc, "rss_parent_end", static_cast<double>(parent.end), "KiB");
        report("troupe", sc, "rss_child_start", static_cast<double>(child.start), "KiB");
        report("troupe", sc, "rss_child_peak", static_cast<double>(child.peak), "KiB");
        report("troupe", sc, "rss_child_end", static_cast<double>(child.end), "KiB");
        report("troupe", sc, "rss_growth",
               static_cast<double>(std::max(parent.peak - parent.start, child.peak - child.start)), "KiB");
        co_await p.cancel_actor();
    });
    report("troupe", "process_stream", "rate", median(troupe_rates), "items/s");
    report("floor", "process_stream", "rate", median(floor_rates), "items/s");
}

struct scenario {
    const char* name;
    void (*run)(troupe::system&, const bench::options&);
};
constexpr scenario scenarios[] = {
    {"process_spawn", process_spawn},
    {"portal_run", portal_run},
    {"process_stream", process_stream},
    {"context_pingpong", context_pingpong},
};

int run_scenario(troupe::system& sys, int argc, char** argv) {
    bench::options opts;
    if (bench::parse_options(argc, argv, opts)) {
        for (const auto& s : scenarios) {
            if (opts.scenario == s.name) {
                s.run(sys, opts);
                return 0;
            }
        }
    }
    std::fprintf(stderr, "usage: bench_processes <scenario> [n=<count>]\nscenarios:");
    for (const auto& s : scenarios) {
        std::fprintf(stderr, " %s", s.name);
    }
    std::fprintf(stderr, "\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (const int code = floor::serve_if_asked(argc, argv); code >= 0) {
        return code;
    }
    return troupe::run(argc, argv, [&](troupe::system& sys) { return run_scenario(sys, argc, argv); });
}
