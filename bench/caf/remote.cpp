// bench_caf_remote: CAF 0.17's remote actors (libcaf_io), the scenarios of bench_remote_actors.
//   bench_caf_remote <scenario> [n=<count>] [workers=<k>]
// Every line it prints is `caf <scenario> <metric> <value> <unit>`. The parent starts this
// executable again (`--serve <scenario> <workers>`, one end of a socket pair as fd 3); the
// child spawns the sink (remote_tell) or the echo (remote_ask), publishes it on a loopback
// port (io::publish, port 0: the kernel picks one), writes the port to fd 3 and serves until
// fd 3 reaches EOF. The parent gets a proxy with io::remote_actor and runs the scenario from an
// event-based actor that monitors the proxy: CAF 0.17 does not fail a pending request when its
// connection drops, so a lost link would hang the run; the down_msg ends it at once instead.
//   remote_tell  n ints (1,000,000) sent to the sink, then a request of `done`, answered with how
//                many arrived in order and the seconds from the first's arrival to the n-th's;
//                the sending process's peak RSS growth over the run
//   remote_ask   n sequential requests (20,000) of an int that the echo returns
// Both processes have `workers` scheduler threads (2) and CAF's defaults otherwise (work
// stealing, one middleman thread). A run that loses or reorders a message prints `lost` > 0 and
// fails (exit status 1).

#include "../common/workloads.hpp"
#include "../remote/proc_stats.hpp"
#include "scenarios.hpp"

#include <caf/io/all.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using namespace bench;

using expect_atom = caf::atom_constant<caf::atom("expect")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

void report_caf(std::string_view scenario, std::string_view metric, double value, std::string_view unit) {
    std::printf("caf ");
    report(scenario, metric, value, unit);
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "bench_caf_remote: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);  // not exit(): the actor systems' destructors could wait for what hangs
}

[[noreturn]] void fail_errno(const char* what) {
    fail(std::string(what) + ": " + std::strerror(errno));
}

void write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t w = ::write(fd, p, size);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fail_errno("write");
        }
        p += w;
        size -= static_cast<std::size_t>(w);
    }
}

/// Reads exactly `size` bytes; false at EOF before the first byte.
bool read_exactly(int fd, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    std::size_t got = 0;
    while (got < size) {
        const ssize_t r = ::read(fd, p + got, size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0 && got == 0) {
            return false;
        }
        if (r <= 0) {
            fail_errno("read");
        }
        got += static_cast<std::size_t>(r);
    }
    return true;
}

caf::actor_system_config& configured(caf::actor_system_config& cfg, unsigned workers) {
    cfg.load<caf::io::middleman>();
    options opts;
    opts.workers = workers;
    caf_side::configure(cfg, opts);
    return cfg;
}

// --- the child: the sink and the echo, published on a loopback port --------------------------

struct sink_state {
    std::uint64_t expected = 0;
    std::uint64_t count = 0;         // ints that arrived in order
    std::uint64_t out_of_order = 0;  // ints that arrived, not in order
    double seconds = 0;              // from the first's arrival until the n-th's
    std::int64_t rss_start = 0;
    clock_type::time_point first;
};

/// Counts the ints it is sent, timing the first and the n-th as they reach its handler.
caf::behavior sink(caf::stateful_actor<sink_state>* self) {
    return {
        [=](expect_atom, std::uint64_t n) {
            self->state = sink_state{};
            self->state.expected = n;
            self->state.rss_start = proc::self_rss_kib();
            proc::reset_self_peak();
        },
        [=](std::int32_t v) {
            auto& s = self->state;
            if (static_cast<std::uint64_t>(v) != s.count) {
                ++s.out_of_order;
                return;
            }
            ++s.count;
            if (s.count == 1) {
                s.first = clock_type::now();
            }
            if (s.count == s.expected) {
                s.seconds = seconds_since(s.first);
            }
        },
        [=](done_atom) -> caf::result<std::uint64_t, std::uint64_t, double, std::int64_t> {
            const auto& s = self->state;
            return {s.count, s.out_of_order, s.seconds, proc::self_peak_kib() - s.rss_start};
        },
    };
}

caf::behavior echo() {
    return {
        [](std::int32_t v) { return v; },
    };
}

int serve(std::string_view scenario, unsigned workers) {
    caf::actor_system_config cfg;
    caf::actor_system sys{configured(cfg, workers)};
    caf::actor served = scenario == "remote_tell" ? sys.spawn(sink) : sys.spawn(echo);
    auto port = sys.middleman().publish(served, 0, "127.0.0.1");
    if (!port) {
        fail("io::publish: " + sys.render(port.error()));
    }
    const std::uint16_t p = *port;
    write_all(3, &p, sizeof p);
    char rest = 0;
    while (read_exactly(3, &rest, 1)) {}
    caf::anon_send_exit(served, caf::exit_reason::user_shutdown);
    return 0;
}

// --- the parent ---------------------------------------------------------------------------

/// The child process: this executable with --serve, a socket pair as its fd 3, its port.
class child {
public:
    child(std::string_view scenario, unsigned workers) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            fail_errno("socketpair");
        }
        const int copy = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);  // dup2 onto 3 clears close-on-exec
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_adddup2(&actions, copy, 3);
        std::string text[] = {"/proc/self/exe", "--serve", std::string(scenario), std::to_string(workers)};
        char* argv[] = {text[0].data(), text[1].data(), text[2].data(), text[3].data(), nullptr};
        const int rc = ::posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv, environ);
        ::posix_spawn_file_actions_destroy(&actions);
        ::close(copy);
        ::close(fds[1]);
        if (rc != 0) {
            errno = rc;
            fail_errno("posix_spawn");
        }
        fd_ = fds[0];
        if (!read_exactly(fd_, &port_, sizeof port_)) {
            fail("the child ended before publishing its actor");
        }
    }
    ~child() {
        ::close(fd_);  // the child's EOF: it ends
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const noexcept { return pid_; }
    std::uint16_t port() const noexcept { return port_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

caf::actor connect(caf::actor_system& sys, std::uint16_t port) {
    auto proxy = sys.middleman().remote_actor("127.0.0.1", port);
    if (!proxy) {
        fail("io::remote_actor: " + sys.render(proxy.error()));
    }
    return *proxy;
}

/// Makes `self` monitor the proxy: a down_msg before `*ending` is set fails the run at once.
void watch(caf::event_based_actor* self, const caf::actor& proxy, const std::atomic<bool>* ending) {
    self->monitor(proxy);
    self->set_down_handler([=](caf::down_msg& d) {
        if (!ending->load(std::memory_order_acquire)) {
            fail("FAILED: the link to the remote actor was lost: " + self->system().render(d.reason));
        }
    });
}

// remote_tell

struct tally {
    std::uint64_t count = 0;
    std::uint64_t out_of_order = 0;
    double seconds = 0;
    std::int64_t rss_growth_kib = 0;
};

struct tell_run {
    std::uint64_t n = 0;
    std::uint64_t warm_up = 0;
    tally t;
    double loop = 0;
    double to_done = 0;
    std::int64_t growth = 0;
    std::int64_t end_growth = 0;
    std::atomic<bool> ending{false};
    done_flag finished;
};

/// Sends `count` ints and `done` to the proxy, then calls `then` with the sink's tally.
template <class Then>
void send_round(caf::event_based_actor* self, const caf::actor& proxy, std::uint64_t count, Then then) {
    self->send(proxy, expect_atom::value, count);
    for (std::uint64_t i = 0; i < count; ++i) {
        self->send(proxy, static_cast<std::int32_t>(i));
    }
    self->request(proxy, caf::infinite, done_atom::value)
        .then(
            [=](std::uint64_t c, std::uint64_t ooo, double secs, std::int64_t rss) {
                then(tally{c, ooo, secs, rss});
            },
            [=](caf::error& e) { fail("the request of done failed: " + self->system().render(e)); });
}

caf::behavior tell_driver(caf::event_based_actor* self, caf::actor proxy, tell_run* run) {
    watch(self, proxy, &run->ending);
    return {
        [=](go_atom) {
            // Warm-up: the connection's buffers, the sink's first turns.
            send_round(self, proxy, run->warm_up, [=](tally w) {
                if (w.count != run->warm_up) {
                    fail("the warm-up's messages that arrived: " + std::to_string(w.count));
                }
                const std::int64_t rss0 = proc::self_rss_kib();
                if (!proc::reset_self_peak()) {
                    fail("resetting VmHWM (/proc/self/clear_refs)");
                }
                const auto start = clock_type::now();
                send_round(self, proxy, run->n, [=](tally t) {
                    run->to_done = seconds_since(start);
                    run->growth = proc::self_peak_kib() - rss0;
                    run->end_growth = proc::self_rss_kib() - rss0;
                    run->t = t;
                    run->ending.store(true, std::memory_order_release);
                    self->quit();
                    run->finished.raise();
                });
                run->loop = seconds_since(start);
            });
        },
    };
}

int remote_tell(const options& opts) {
    tell_run run;
    run.n = static_cast<std::uint64_t>(opts.count_or(workload::remote_tell_messages));
    run.warm_up = 10'000;
    child c("remote_tell", opts.workers);
    {
        caf::actor_system_config cfg;
        caf::actor_system sys{configured(cfg, opts.workers)};
        caf::actor driver = sys.spawn(tell_driver, connect(sys, c.port()), &run);
        caf::anon_send(driver, go_atom::value);
        run.finished.wait();
    }
    const char* s = "remote_tell";
    const std::uint64_t n = run.n;
    const std::uint64_t lost = n - std::min(n, run.t.count);
    report_caf(s, "lost", static_cast<double>(lost + run.t.out_of_order), "msgs");
    if (lost != 0 || run.t.out_of_order != 0) {
        std::fprintf(stderr, "bench_caf_remote: remote_tell FAILED: %llu of %llu arrived in order, %llu out of order\n",
                     static_cast<unsigned long long>(run.t.count), static_cast<unsigned long long>(n),
                     static_cast<unsigned long long>(run.t.out_of_order));
        return 1;
    }
    report_caf(s, "receiver_rate", static_cast<double>(n - 1) / run.t.seconds, "msgs/s");
    report_caf(s, "to_done_rate", static_cast<double>(n) / run.to_done, "msgs/s");
    report_caf(s, "send_loop_rate", static_cast<double>(n) / run.loop, "msgs/s");
    report_caf(s, "sender_rss_growth", static_cast<double>(run.growth), "KiB");
    report_caf(s, "sender_rss_end_growth", static_cast<double>(run.end_growth), "KiB");
    report_caf(s, "receiver_rss_growth", static_cast<double>(run.t.rss_growth_kib), "KiB");
    return 0;
}

// remote_ask

struct ask_run {
    std::int64_t n = 0;
    std::int64_t warm_up = 0;
    std::int64_t next = 0;  // the round trip under way, warm-up included
    pid_t child = -1;
    std::vector<double> micros;
    double cpu0 = 0;  // this process's and the child's CPU when the timed round trips began
    double child_cpu0 = 0;
    double cpu = 0;  // both processes' CPU over the timed round trips
    std::atomic<bool> ending{false};
    done_flag finished;
};

/// Makes the next request, or ends the run after the last one.
void ask_next(caf::event_based_actor* self, const caf::actor& proxy, ask_run* run) {
    if (run->next == run->warm_up) {
        run->cpu0 = process_cpu_seconds();
        run->child_cpu0 = proc::cpu_seconds_of(run->child);
    }
    if (run->next == run->warm_up + run->n) {
        run->cpu = process_cpu_seconds() - run->cpu0 + proc::cpu_seconds_of(run->child) - run->child_cpu0;
        run->ending.store(true, std::memory_order_release);
        self->quit();
        run->finished.raise();
        return;
    }
    const auto v = static_cast<std::int32_t>(run->next & 63);
    const auto start = clock_type::now();
    self->request(proxy, caf::infinite, v)
        .then(
            [=](std::int32_t back) {
                const double us = seconds_since(start) * 1e6;
                if (back != v) {
                    fail("the remote echo returned " + std::to_string(back) + " for " + std::to_string(v));
                }
                if (run->next >= run->warm_up) {
                    run->micros.push_back(us);
                }
                ++run->next;
                ask_next(self, proxy, run);
            },
            [=](caf::error& e) { fail("a request failed: " + self->system().render(e)); });
}

caf::behavior ask_driver(caf::event_based_actor* self, caf::actor proxy, ask_run* run) {
    watch(self, proxy, &run->ending);
    return {
        [=](go_atom) { ask_next(self, proxy, run); },
    };
}

int remote_ask(const options& opts) {
    ask_run run;
    run.n = opts.count_or(workload::remote_ask_round_trips);
    run.warm_up = 200;
    run.micros.reserve(static_cast<std::size_t>(run.n));
    child c("remote_ask", opts.workers);
    run.child = c.pid();
    {
        caf::actor_system_config cfg;
        caf::actor_system sys{configured(cfg, opts.workers)};
        caf::actor driver = sys.spawn(ask_driver, connect(sys, c.port()), &run);
        caf::anon_send(driver, go_atom::value);
        run.finished.wait();
    }
    const char* s = "remote_ask";
    double total = 0;
    for (double m : run.micros) {
        total += m;
    }
    const auto n = static_cast<double>(run.micros.size());
    report_caf(s, "mean", total / n, "us");
    report_caf(s, "p50", percentile(run.micros, 0.50), "us");
    report_caf(s, "p99", percentile(run.micros, 0.99), "us");
    report_caf(s, "cpu_per_round_trip", run.cpu * 1e6 / n, "us");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string_view(argv[1]) == "--serve") {
        return serve(argv[2], static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10)));
    }
    options opts;
    if (parse_options(argc, argv, opts)) {
        if (opts.scenario == "remote_tell") {
            return remote_tell(opts);
        }
        if (opts.scenario == "remote_ask") {
            return remote_ask(opts);
        }
    }
    std::fprintf(stderr,
                 "usage: bench_caf_remote <scenario> [n=<count>] [workers=<k>]\nscenarios: remote_tell remote_ask\n");
    return 2;
}
