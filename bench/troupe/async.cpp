// troupe side of the asynchronous-actor scenarios: skynet (a tree of a million actors), the cost
// of a coroutine handler next to a plain one, and supervisor restarts per second.

#include <troupe/async/await.hpp>
#include <troupe/supervision/supervisor.hpp>

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <cstdint>
#include <stdexcept>

namespace bench::troupe_side {

namespace {

// ---- skynet: each node spawns 10 children until the leaves, which answer their number -------

struct sum {
    std::int64_t value;
};
class skynet_node;
struct count {
    std::int64_t num;
    std::int64_t size;
    troupe::ref<skynet_node> parent;
};

class skynet_node : public troupe::actor {
public:
    explicit skynet_node(done_flag* done, std::int64_t* result) : done_(done), result_(result) {}
    void handle(count c) {
        parent_ = std::move(c.parent);
        if (c.size == 1) {
            finish(c.num);
            return;
        }
        const std::int64_t child_size = c.size / workload::skynet_branching;
        for (int i = 0; i < workload::skynet_branching; ++i) {
            self()
                .system()
                .spawn<skynet_node>(done_, result_)
                .tell(count{c.num + i * child_size, child_size, troupe::ref{this}});
        }
    }
    void handle(sum s) {
        total_ += s.value;
        if (++answers_ == workload::skynet_branching) {
            finish(total_);
        }
    }

private:
    void finish(std::int64_t value) {
        if (parent_) {
            parent_.tell(sum{value});
        } else {
            *result_ = value;
            done_->raise();
        }
        self().stop();
    }

    done_flag* done_;
    std::int64_t* result_;
    troupe::ref<skynet_node> parent_;
    std::int64_t total_ = 0;
    int answers_ = 0;
};

// ---- coroutine handlers against plain ones: a ping-pong in each style ----------------------

struct ball {
    std::int64_t left;
};
template <bool coroutine>
class player : public troupe::actor {
public:
    struct peer {
        troupe::ref<player> other;
    };
    explicit player(done_flag& done) : done_(done) {}
    void handle(peer p) { other_ = std::move(p.other); }
    auto handle(ball b) {
        if constexpr (coroutine) {
            return play_async(b);
        } else {
            play(b);
        }
    }

private:
    void play(ball b) {
        if (b.left == 0) {
            done_.raise();
        } else {
            other_.tell(ball{b.left - 1});
        }
    }
    troupe::task<void> play_async(ball b) {
        play(b);
        co_return;
    }

    done_flag& done_;
    troupe::ref<player> other_;
};

template <bool coroutine>
double per_message(const options& opts, std::int64_t messages) {
    troupe::system sys(system_options_for(opts));
    done_flag done;
    auto a = sys.spawn<player<coroutine>>(done);
    auto b = sys.spawn<player<coroutine>>(done);
    a.tell(typename player<coroutine>::peer{b});
    b.tell(typename player<coroutine>::peer{a});
    const auto start = clock_type::now();
    a.tell(ball{messages});
    done.wait();
    return seconds_since(start) * 1e9 / static_cast<double>(messages);
}

/// Awaits an ask of another actor, `n` times in a row, from a coroutine handler.
struct echo_value {
    std::int64_t v;
};
class echo : public troupe::actor {
public:
    std::int64_t handle(echo_value e) { return e.v; }
};
struct run_asks {
    std::int64_t n;
    troupe::ref<echo> target;
};
class asker : public troupe::actor {
public:
    troupe::task<std::int64_t> handle(run_asks r) {
        std::int64_t total = 0;
        for (std::int64_t i = 0; i < r.n; ++i) {
            total += co_await r.target.ask(echo_value{1});
        }
        co_return total;
    }
};

// ---- supervisor restarts: a child that fails on every message, restarted at once -----------

struct crash {};
class fragile : public troupe::actor {
public:
    void handle(crash) { throw std::runtime_error("crash"); }
};

}  // namespace

void skynet(const options& opts) {
    const std::int64_t leaves = opts.n > 0 ? opts.n : workload::skynet_leaves;
    troupe::system sys(system_options_for(opts));
    done_flag done;
    std::int64_t result = 0;
    const auto start = clock_type::now();
    sys.spawn<skynet_node>(&done, &result).tell(count{0, leaves, {}});
    done.wait();
    const double seconds = seconds_since(start);
    // Every node stops itself after answering; the last ones may still be running now.
    sys.registry().wait_until_empty();
    const double ended = seconds_since(start);
    sys.shutdown();
    const double joined = seconds_since(start);
    report("skynet", "total", seconds, "s");
    report("skynet", "all_ended", ended, "s");
    report("skynet", "shutdown_returned", joined, "s");
    report("skynet", "sum_ok", result == leaves * (leaves - 1) / 2 ? 1 : 0, "bool");
}

void coroutine(const options& opts) {
    const std::int64_t n = opts.n > 0 ? opts.n : workload::coroutine_messages;
    report("coroutine", "plain_per_msg", per_message<false>(opts, n), "ns");
    report("coroutine", "task_per_msg", per_message<true>(opts, n), "ns");
    troupe::system sys(system_options_for(opts));
    auto target = sys.spawn<echo>();
    auto a = sys.spawn<asker>();
    const std::int64_t asks = n / 10;
    const auto start = clock_type::now();
    (void)a.ask(run_asks{asks, target}).get();
    report("coroutine", "awaited_ask_round_trip", seconds_since(start) * 1e9 / static_cast<double>(asks), "ns");
}

void restart(const options& opts) {
    const std::int64_t n = opts.n > 0 ? opts.n : workload::restarts;
    countdown restarted(n);
    troupe::supervisor_spec spec;
    spec.intensity = {static_cast<std::uint32_t>(n + 10), std::chrono::hours(1)};
    spec.children.push_back(troupe::child<fragile>("fragile"));
    // Every start of the child (the first and each restart) sends it the message that fails it.
    spec.observer = [&](const troupe::supervisor_event& e) {
        if (e.what != troupe::supervisor_event::kind::started) {
            return;
        }
        if (e.restarts > 0) {
            restarted.hit();
        }
        if (e.restarts < static_cast<std::uint32_t>(n)) {
            (void)troupe::ref<fragile>(e.who.endpoint_handle()).try_tell(crash{});
        }
    };
    troupe::system sys(system_options_for(opts));
    troupe::set_logger(std::make_shared<spdlog::logger>("quiet"));  // n failures would log n lines
    const auto start = clock_type::now();
    auto sup = sys.spawn<troupe::supervisor>(spec);
    restarted.wait();
    report("restart", "restarts", static_cast<double>(n) / seconds_since(start), "restarts/s");
    sup.stop();
}

}  // namespace bench::troupe_side
