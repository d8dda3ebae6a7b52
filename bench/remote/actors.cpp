// bench_remote_actors: an actor in another process actor (portal.spawn<A>) told and asked
// through its ref, next to a bare floor measured in the same run.
//   bench_remote_actors <scenario> [n=<count>]
// Every line it prints is `<framework> <scenario> <metric> <value> <unit>`, framework `troupe`
// or `floor`; bench_caf_remote prints the same rows for CAF 0.17's remote actors (libcaf_io).
// Scenarios (docs/benchmarks.md says what each row includes):
//   remote_tell  the nursery body tells n ints (1,000,000) to a sink actor in a child process,
//                then asks it `done`, which returns how many arrived, in order, and how long
//                they took from the first to the last; the sending process's peak RSS growth
//                over the run. Then the floor: the same tell frames written 64 KiB at a time
//                over a socket pair to a child that reads, decodes and checks them.
//   remote_ask   n sequential asks (20,000) of an int that an echo actor in a child process
//                returns, in blocks alternating with a raw socket round trip of the same
//                frame sizes to a floor child (blocking write and read on both sides)
// A run that loses or reorders a message prints `lost` > 0 and fails (exit status 1).
// Its main is troupe::run: troupe's children are this executable again (with bootstrap
// arguments), and so are the floor's (with --bench-floor, handled before troupe::run).

#include <troupe/remote/actor.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "../common/measure.hpp"
#include "../common/workloads.hpp"
#include "proc_stats.hpp"
#include "process_floor.hpp"
#include "round_trips.hpp"

namespace remote_bench {

/// Starts a round: the sink forgets the last one and expects `n` ints, 0 to n-1.
struct expect {
    std::uint64_t n = 0;
};
/// Ends a round: the sink answers with its tally.
struct done {};
/// What the sink counted in one round.
struct tally {
    std::uint64_t count = 0;          ///< ints that arrived in order (each the one expected next)
    std::uint64_t out_of_order = 0;   ///< ints that arrived but not in order
    double seconds = 0;               ///< from the first int's arrival until the n-th's (0 if short)
    std::int64_t rss_growth_kib = 0;  ///< the sink process's peak RSS over the round minus before it
};
TROUPE_RECORD(expect, n);
TROUPE_RECORD(done);
TROUPE_RECORD(tally, count, out_of_order, seconds, rss_growth_kib);

/// Counts the ints it is told, timing the first and the n-th as they reach its handler.
class sink : public troupe::actor {
public:
    using handles = troupe::handles<expect, int, done>;

    void handle(expect e) {
        expected_ = e.n;
        t_ = tally{};
        rss_start_ = bench::proc::self_rss_kib();
        bench::proc::reset_self_peak();
    }
    void handle(int v) {
        if (static_cast<std::uint64_t>(v) != t_.count) {
            ++t_.out_of_order;
            return;
        }
        ++t_.count;
        if (t_.count == 1) {
            first_ = bench::clock_type::now();
        }
        if (t_.count == expected_) {
            t_.seconds = bench::seconds_since(first_);
        }
    }
    tally handle(done) {
        t_.rss_growth_kib = bench::proc::self_peak_kib() - rss_start_;
        return t_;
    }

private:
    std::uint64_t expected_ = 0;
    tally t_;
    std::int64_t rss_start_ = 0;
    bench::clock_type::time_point first_;
};

/// Returns what it is asked.
class echo : public troupe::actor {
public:
    using handles = troupe::handles<int>;
    int handle(int v) const { return v; }
};

}  // namespace remote_bench
TROUPE_EXPOSE_ACTOR(remote_bench::sink);
TROUPE_EXPOSE_ACTOR(remote_bench::echo);

namespace {

namespace floor = bench::process_floor;
namespace wire = troupe::wire;
using bench::clock_type;
using bench::report_line;
using bench::seconds_since;
using remote_bench::tally;

[[noreturn]] void wrong(const char* what, long long got, long long expected) {
    std::fprintf(stderr, "bench_remote_actors: %s: got %lld, expected %lld\n", what, got, expected);
    std::abort();
}

/// The pid in a portal's name ("sink#1@4121"); valid once a call has returned.
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

/// The dialog a remote actor's posts travel on, for the floor's frames: a small id (its
/// encoded size is all that matters, and every id below 128 takes one byte).
constexpr std::uint64_t actor_dialog = 3;

// --- remote_tell --------------------------------------------------------------------------

/// Prints the rows of one tell round; returns false if a message was lost or reordered.
bool report_tells(const char* framework, std::uint64_t n, const tally& t, double to_done, double loop,
                  std::int64_t sender_growth, std::int64_t sender_end_growth) {
    const char* s = "remote_tell";
    const std::uint64_t lost = n - std::min(n, t.count);
    report_line(framework, s, "lost", static_cast<double>(lost + t.out_of_order), "msgs");
    if (lost != 0 || t.out_of_order != 0) {
        std::fprintf(stderr,
                     "bench_remote_actors: remote_tell FAILED (%s): %llu of %llu arrived in order, %llu out of "
                     "order\n",
                     framework, static_cast<unsigned long long>(t.count), static_cast<unsigned long long>(n),
                     static_cast<unsigned long long>(t.out_of_order));
        return false;
    }
    report_line(framework, s, "receiver_rate", static_cast<double>(n - 1) / t.seconds, "msgs/s");
    report_line(framework, s, "to_done_rate", static_cast<double>(n) / to_done, "msgs/s");
    if (loop > 0) {
        report_line(framework, s, "send_loop_rate", static_cast<double>(n) / loop, "msgs/s");
    }
    report_line(framework, s, "sender_rss_growth", static_cast<double>(sender_growth), "KiB");
    report_line(framework, s, "sender_rss_end_growth", static_cast<double>(sender_end_growth), "KiB");
    report_line(framework, s, "receiver_rss_growth", static_cast<double>(t.rss_growth_kib), "KiB");
    return true;
}

int remote_tell(troupe::system& sys, const bench::options& opts) {
    const auto n = static_cast<std::uint64_t>(opts.count_or(bench::workload::remote_tell_messages));
    constexpr std::uint64_t warm_up = 10'000;
    bool ok = true;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("receiver");
        troupe::ref<remote_bench::sink> r = co_await p.spawn<remote_bench::sink>();
        // Warm-up: the handshake, the buffers' first growth, the sink's first turns.
        r.tell(remote_bench::expect{warm_up});
        for (std::uint64_t i = 0; i < warm_up; ++i) {
            r.tell(static_cast<int>(i));
        }
        const remote_bench::done done;  // named: GCC 12 and braced temporaries in co_await
        const tally w = co_await r.ask(done);
        if (w.count != warm_up) {
            wrong("the warm-up's tells that arrived", static_cast<long long>(w.count), warm_up);
        }

        r.tell(remote_bench::expect{n});
        const std::int64_t rss0 = bench::proc::self_rss_kib();
        if (!bench::proc::reset_self_peak()) {
            wrong("resetting VmHWM (/proc/self/clear_refs)", 0, 1);
        }
        const auto start = clock_type::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            r.tell(static_cast<int>(i));
        }
        const double loop = seconds_since(start);
        const tally t = co_await r.ask(done);
        const double to_done = seconds_since(start);
        const std::int64_t growth = bench::proc::self_peak_kib() - rss0;
        const std::int64_t end_growth = bench::proc::self_rss_kib() - rss0;
        ok = report_tells("troupe", n, t, to_done, loop, growth, end_growth) && ok;
        co_await p.cancel_actor();
    });

    // The floor: this thread writes the same frames, 64 KiB at a time, to a child that reads,
    // decodes and checks them (no actors, no I/O thread, no encoding of a message object).
    floor::server sink({"sink", std::to_string(n)});
    const std::int64_t rss0 = bench::proc::self_rss_kib();
    bench::proc::reset_self_peak();
    const auto start = clock_type::now();
    const floor::sink_tally f = floor::send_tells(sink.fd(), n, actor_dialog);
    const double to_done = seconds_since(start);
    const std::int64_t growth = bench::proc::self_peak_kib() - rss0;
    const std::int64_t end_growth = bench::proc::self_rss_kib() - rss0;
    sink.finish();
    ok = report_tells("floor", n, tally{f.count, 0, f.seconds, f.rss_growth_kib}, to_done, 0, growth, end_growth) && ok;
    report_line("floor", "remote_tell", "frame_bytes",
                static_cast<double>(frame_size(actor_dialog, wire::msg::post{typeid(int).name(), wire::encode(5), 0})),
                "B");
    return ok ? 0 : 1;
}

// --- remote_ask ---------------------------------------------------------------------------

/// A raw round trip to a floor echo server: `out` bytes written, `in` bytes read back.
void floor_round_trip(int fd, std::vector<std::byte>& buffer, std::size_t out, std::size_t in) {
    floor::write_all(fd, buffer.data(), out);
    if (!floor::read_exactly(fd, buffer.data(), in)) {
        wrong("the floor echo server closed", 0, 1);
    }
}

int remote_ask(troupe::system& sys, const bench::options& opts) {
    const std::int64_t n = opts.count_or(bench::workload::remote_ask_round_trips);
    const std::int64_t blocks = 20;
    const std::int64_t per_block = std::max<std::int64_t>(n / blocks, 1);
    // The frames of one ask as troupe writes them: a post with a reply dialog (ids pass 255
    // early on: 3 bytes), and the returned frame on that dialog.
    const std::size_t request = frame_size(actor_dialog, wire::msg::post{typeid(int).name(), wire::encode(5), 20'000});
    const std::size_t reply = frame_size(20'000, wire::msg::returned{wire::encode(5)});
    bench::round_trips t;
    bench::round_trips f;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal p = an.start_actor("echo");
        troupe::ref<remote_bench::echo> e = co_await p.spawn<remote_bench::echo>();
        for (int i = 0; i < 200; ++i) {  // warm-up: the first allocations, the first turns
            const int back = co_await e.ask(i);
            if (back != i) {
                wrong("the remote echo", back, i);
            }
        }
        floor::server echo({"echo", std::to_string(request), std::to_string(reply)});
        std::vector<std::byte> buffer(std::max(request, reply));
        for (int i = 0; i < 200; ++i) {
            floor_round_trip(echo.fd(), buffer, request, reply);
        }
        const pid_t child = pid_of(p);
        const double child_cpu0 = bench::proc::cpu_seconds_of(child);
        const double floor_cpu0 = bench::proc::cpu_seconds_of(echo.pid());
        co_await bench::alternate(
            blocks, per_block, t, f,
            [&](int v) -> troupe::task<void> {
                const int back = co_await e.ask(v);
                if (back != v) {
                    wrong("the remote echo", back, v);
                }
            },
            [&] { floor_round_trip(echo.fd(), buffer, request, reply); });
        t.child_cpu = bench::proc::cpu_seconds_of(child) - child_cpu0;
        f.child_cpu = bench::proc::cpu_seconds_of(echo.pid()) - floor_cpu0;
        echo.finish();
        co_await p.cancel_actor();
    });
    t.report_as("troupe", "remote_ask");
    f.report_as("floor", "remote_ask");
    report_line("floor", "remote_ask", "request_bytes", static_cast<double>(request), "B");
    report_line("floor", "remote_ask", "reply_bytes", static_cast<double>(reply), "B");
    return 0;
}

struct scenario {
    const char* name;
    int (*run)(troupe::system&, const bench::options&);
};
constexpr scenario scenarios[] = {
    {"remote_tell", remote_tell},
    {"remote_ask", remote_ask},
};

int run_scenario(troupe::system& sys, int argc, char** argv) {
    bench::options opts;
    if (bench::parse_options(argc, argv, opts)) {
        for (const auto& s : scenarios) {
            if (opts.scenario != s.name) {
                continue;
            }
            try {
                return s.run(sys, opts);
            } catch (const std::exception& e) {  // e.g. actor_dead: the child's process ended
                std::fprintf(stderr, "bench_remote_actors: %s FAILED: %s\n", s.name, e.what());
                return 1;
            }
        }
    }
    std::fprintf(stderr, "usage: bench_remote_actors <scenario> [n=<count>]\nscenarios:");
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
