// The stream-app rows of issue 8 that bench_events lacks, each next to a bare floor measured in
// the same run (scenario `stream_pipeline` of bench/run.sh):
//
//   group_by   a two-stage pipeline on the embedded broker, 4 partitions: the agent "users"
//              reads JSON withdrawals and repartitions them by user
//              (stream.group_by(&withdrawal::user) forwards each record, bytes as they are,
//              to the topic "bench-users-user-repartition" keyed by its user), and the stream
//              group_by gives, which reads that topic in a consumer group of its own, decodes
//              them again. Both stages are the agent's, so they take turns on its actor.
//   map, join  agent.map() and agent.join() over n values (replies.cpp).
//   agent_ask  one ask at a time, its latency (replies.cpp), with two floors: a round trip to a
//              bare thread through futex queues (both sleep when theirs is empty) and through
//              spinning ones (agent_ask_spin); agent_ask_1cpu (and ask_1cpu_spin), the same with
//              the process kept on one CPU, as when another program holds the other core.
//              spin_rounds=<k> gives the asked agent's workers that scheduler_options::spin_rounds.
//
//   bench_stream_pipeline [n=1000000] [rounds=5] [asks=20000] [partitions=4] [only=group_by,map,join,ask,ask_1cpu]
//                         [spin_rounds=<k>]
//
// group_by's rate is n / (the time from the first send until the second stage has finished
// all n values and the app has stopped, its commits made); the main thread sends with
// topic.send(). Its floor does the same work with three bare threads and two queues: the main
// thread encodes each withdrawal (with troupe's encoder, as topic.send() does) and queues the
// bytes; a first thread decodes each (simdjson on-demand by hand, as bench_events' floor),
// takes the user as the new key, picks its partition as the broker does and queues a copy of
// the bytes with it; a second thread decodes them again. No broker, offsets, commits or actors.
// Each rate is the median of `rounds` (min and max follow it); troupe and the floor alternate
// within a round. Every measurement runs in a child process of its own (see in_child()).

#include <troupe/streams/app.hpp>

#include "batch_queue.hpp"
#include "measure.hpp"
#include "replies.hpp"
#include "withdrawal.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace streams = troupe::streams;
using namespace bench_streams;

std::string_view text_of(const streams::bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// What group `group` has committed in `topic`, over all its partitions.
std::uint64_t committed_in(streams::broker& b, const std::string& group, const std::string& topic) {
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < b.partitions(topic).value_or(0); ++p) {
        total += b.committed(group, {topic, p}).value_or(0);
    }
    return total;
}

/// One run of n withdrawals through group_by: events per second.
double troupe_group_by(std::uint64_t n, std::uint32_t partitions) {
    streams::app app{"bench",
                     {.broker = "memory://bench-group-by", .topic_partitions = partitions, .fetch_batch = 1024}};
    auto& withdrawals = app.topic<std::string, withdrawal>("withdrawals");
    std::atomic<std::uint64_t> left{n};  // relaxed: a count; `done` publishes the end
    troupe::promise<void> done;
    std::int64_t total = 0;  // the agent's: read after stop()
    app.agent("users", withdrawals, [&](streams::stream<std::string, withdrawal>& s) -> troupe::task<void> {
        auto& by_user = s.group_by(&withdrawal::user);
        while (std::optional<withdrawal> w = co_await by_user.next()) {
            total += w->date;
            if (left.fetch_sub(1, std::memory_order_relaxed) == 1) {
                done.set_value();
            }
        }
    });
    app.start();
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        withdrawals.send(sample_withdrawal(i));
    }
    done.get_future().get();
    app.stop();
    const double seconds = seconds_since(start);

    // Both stages committed: the first all n (each is finished once the broker holds its
    // copy), the second all but the value it held when the app stopped (a value in flight at
    // the stop is read again after a restart).
    const std::uint64_t first = committed_in(app.broker(), "bench-users", "withdrawals");
    const std::string repartition = "bench-users-user-repartition";
    const std::uint64_t second = committed_in(app.broker(), "bench-users-" + repartition, repartition);
    if (first != n || second + 1 < n) {
        throw std::runtime_error("group_by: committed " + std::to_string(first) + " and " + std::to_string(second) +
                                 " of " + std::to_string(n));
    }
    sink += total;
    return static_cast<double>(n) / seconds;
}

/// A record on its way from the floor's first stage to its second.
struct repartitioned {
    std::uint32_t partition = 0;
    streams::bytes key;
    streams::bytes value;
};

/// The floor of troupe_group_by: the same coding and repartitioning, bare threads and queues.
double floor_group_by(std::uint64_t n, std::uint32_t partitions) {
    batch_queue<streams::bytes> sent;
    batch_queue<repartitioned> forwarded;
    std::int64_t total = 0;  // the second stage's: read after join()
    std::thread second([&] {
        by_hand_decoder decoder;
        std::vector<repartitioned> got;
        for (std::uint64_t seen = 0; seen < n;) {
            forwarded.take_all(got);
            for (const auto& r : got) {
                total += decoder.decode_withdrawal(text_of(r.value)).date + r.partition;
            }
            seen += got.size();
        }
    });
    std::thread first([&] {
        by_hand_decoder decoder;
        std::vector<streams::bytes> got;
        std::vector<repartitioned> out;
        for (std::uint64_t seen = 0; seen < n;) {
            sent.take_all(got);
            for (const auto& v : got) {
                const withdrawal w = decoder.decode_withdrawal(text_of(v));
                repartitioned r{0, streams::bytes_of(w.user), v};  // a copy: the input is not ours
                r.partition = streams::partition_for_key(r.key, partitions);
                out.push_back(std::move(r));
            }
            seen += got.size();
            forwarded.push_all(out);
        }
    });
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        sent.push(streams::encode_as(streams::serializer::json, sample_withdrawal(i)));
    }
    first.join();
    second.join();
    const double seconds = seconds_since(start);
    sink += total;
    return static_cast<double>(n) / seconds;
}

/// Keeps this process (and the threads it starts from now on) on the first CPU it may use.
void pin_to_one_cpu() {
    cpu_set_t allowed;
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
    }
    int first = 0;
    while (first < CPU_SETSIZE && !CPU_ISSET(first, &allowed)) {
        ++first;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) {
        throw std::system_error(errno, std::generic_category(), "sched_setaffinity");
    }
}

/// Runs `measure` in a child process and gives the figures it returned. So each measurement
/// starts in a fresh process, as bench/run.sh runs the other scenarios, and the embedded
/// brokers, which keep every record for the life of their process, end with it: a round of
/// 1,000,000 values holds about 2 GB of records, which would pile up round after round. The
/// parent starts no thread, so the child may start its own after the fork. With `one_cpu`, the
/// child runs on one CPU (pin_to_one_cpu).
std::vector<double> in_child(const std::function<std::vector<double>()>& measure, bool one_cpu = false) {
    int fds[2];
    if (::pipe(fds) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::system_error(errno, std::generic_category(), "fork");
    }
    if (pid == 0) {
        ::close(fds[0]);
        // A parent stopped by run.sh's timeout takes its measurement with it.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
            ::_exit(1);
        }
        int status = 0;
        try {
            if (one_cpu) {
                pin_to_one_cpu();
            }
            const std::vector<double> figures = measure();
            const char* p = reinterpret_cast<const char*>(figures.data());
            std::size_t left = figures.size() * sizeof(double);
            while (left > 0) {
                const ssize_t wrote = ::write(fds[1], p, left);
                if (wrote <= 0) {
                    throw std::system_error(errno, std::generic_category(), "write to the parent");
                }
                p += wrote;
                left -= static_cast<std::size_t>(wrote);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_stream_pipeline: %s\n", e.what());
            status = 1;
        }
        ::close(fds[1]);
        ::_exit(status);  // no destructors of the parent's copy: the child's work is done
    }
    ::close(fds[1]);
    std::vector<char> bytes;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        bytes.insert(bytes.end(), buffer, buffer + got);
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("a measurement failed (its process ended with " +
                                 (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                                    : "signal " + std::to_string(WTERMSIG(status))) +
                                 ")");
    }
    std::vector<double> figures(bytes.size() / sizeof(double));
    std::memcpy(figures.data(), bytes.data(), figures.size() * sizeof(double));
    return figures;
}

/// Round trips in µs: every round's together, and each round's own figures.
struct round_trips {
    std::vector<double> all;
    std::vector<latencies> rounds;
    void add(const std::vector<double>& round) {
        all.insert(all.end(), round.begin(), round.end());
        rounds.push_back(latencies_of(round));
    }
};
/// The asks of troupe and of the two floors (futex, spinning).
struct ask_figures {
    round_trips troupe, floor, spin;
};

/// A rate measured in a child process.
double rate_in_child(const std::function<double()>& measure) {
    const std::vector<double> figures = in_child([&] { return std::vector<double>{measure()}; });
    if (figures.size() != 1) {
        throw std::runtime_error("a measurement gave no figure");
    }
    return figures.front();
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t n = 1'000'000;
    int rounds = 5;
    std::uint64_t asks = 20'000;
    std::uint32_t partitions = 4;
    std::string only;                     // empty: every row
    std::optional<unsigned> spin_rounds;  // none: the scheduler's default
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "n=", 2) == 0) {
            n = std::strtoull(argv[i] + 2, nullptr, 10);
        } else if (std::strncmp(argv[i], "rounds=", 7) == 0) {
            rounds = std::atoi(argv[i] + 7);
        } else if (std::strncmp(argv[i], "asks=", 5) == 0) {
            asks = std::strtoull(argv[i] + 5, nullptr, 10);
        } else if (std::strncmp(argv[i], "partitions=", 11) == 0) {
            partitions = static_cast<std::uint32_t>(std::strtoul(argv[i] + 11, nullptr, 10));
        } else if (std::strncmp(argv[i], "spin_rounds=", 12) == 0) {
            spin_rounds = static_cast<unsigned>(std::strtoul(argv[i] + 12, nullptr, 10));
        } else if (std::strncmp(argv[i], "only=", 5) == 0) {
            only = std::string(",") + (argv[i] + 5) + ",";
        } else {
            std::fprintf(stderr, "bench_stream_pipeline: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (n == 0 || rounds < 1 || asks < 100 || partitions == 0) {
        std::fprintf(stderr, "bench_stream_pipeline: needs n >= 1, rounds >= 1, asks >= 100, partitions >= 1\n");
        return 2;
    }
    const auto wanted = [&](const char* row) {
        return only.empty() || only.find(std::string(",") + row + ",") != std::string::npos;
    };

    try {
        std::vector<double> troupe_grouped, floor_grouped, troupe_mapped, floor_mapped, troupe_joined, floor_joined;
        ask_figures ask, ask_1cpu;
        const auto asks_of = [&](bool one_cpu, ask_figures& into) {
            into.troupe.add(in_child([&] { return troupe_asks(asks, spin_rounds); }, one_cpu));
            into.floor.add(in_child([&] { return floor_asks(asks, false); }, one_cpu));
            into.spin.add(in_child([&] { return floor_asks(asks, true); }, one_cpu));
        };
        for (int r = 0; r < rounds; ++r) {
            if (wanted("group_by")) {
                troupe_grouped.push_back(rate_in_child([&] { return troupe_group_by(n, partitions); }));
                floor_grouped.push_back(rate_in_child([&] { return floor_group_by(n, partitions); }));
            }
            if (wanted("map")) {
                troupe_mapped.push_back(rate_in_child([&] { return troupe_map(n); }));
                floor_mapped.push_back(rate_in_child([&] { return floor_map(n, map_window); }));
            }
            if (wanted("join")) {
                troupe_joined.push_back(rate_in_child([&] { return troupe_join(n); }));
                floor_joined.push_back(rate_in_child([&] { return floor_map(n, n); }));
            }
            if (wanted("ask")) {
                asks_of(false, ask);
            }
            if (wanted("ask_1cpu")) {
                asks_of(true, ask_1cpu);
            }
        }
        const auto rates = [](const char* row, const char* unit, const std::vector<double>& troupe,
                              const std::vector<double>& floor) {
            if (!troupe.empty()) {
                for (const auto& [side, rates_of] : {std::pair{"troupe", &troupe}, std::pair{"floor", &floor}}) {
                    report(side, row, "rate", median(*rates_of), unit);
                    report(side, row, "min", *std::min_element(rates_of->begin(), rates_of->end()), unit);
                    report(side, row, "max", *std::max_element(rates_of->begin(), rates_of->end()), unit);
                }
                report("ratio", row, "floor/troupe", median(floor) / median(troupe), "x");
            }
        };
        rates("group_by", "events/s", troupe_grouped, floor_grouped);
        rates("map", "values/s", troupe_mapped, floor_mapped);
        rates("join", "values/s", troupe_joined, floor_joined);
        const auto asked = [](const char* row, const char* spin_row, const ask_figures& f) {
            if (!f.troupe.all.empty()) {
                const latencies troupe_l = latencies_of(f.troupe.all);
                const latencies floor_l = latencies_of(f.floor.all);
                report("troupe", row, troupe_l, f.troupe.rounds);
                report("floor", row, floor_l, f.floor.rounds);
                report("floor", spin_row, latencies_of(f.spin.all), f.spin.rounds);
                report("ratio", row, "troupe/floor", troupe_l.mean / floor_l.mean, "x (means)");
                report("ratio", row, "p99", troupe_l.p99 / floor_l.p99, "x (p99s)");
            }
        };
        asked("agent_ask", "agent_ask_spin", ask);
        asked("agent_ask_1cpu", "ask_1cpu_spin", ask_1cpu);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_stream_pipeline: %s\n", e.what());
        return 1;
    }
    return 0;
}
