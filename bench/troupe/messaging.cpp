// troupe side of the messaging scenarios: ping-pong (on 2 workers, on 1, and 4 x workers pairs
// at once), mailbox throughput and backlog, fan-out/in and the thread ring (on 2 workers and on
// 1). Actors keep typed refs to their peers and answer with tell; every scenario signals its end
// to main through a bench::done_flag or bench::finish_line.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace bench::troupe_side {

namespace {

// ---- ping-pong and ring: a token that counts the hops still to go -------------------------

struct token {
    std::int64_t left;
};

/// A ping-pong player or a ring node: passes the token to `next_` until it runs out, then
/// crosses its lane's finish line.
class relay : public troupe::actor {
public:
    struct link {
        troupe::ref<relay> next;
    };

    explicit relay(finish_line& done) : done_(done) {}

    void handle(link l) { next_ = std::move(l.next); }
    void handle(token t) {
        if (t.left == 0) {
            done_.cross();
            return;
        }
        next_.tell(token{t.left - 1});
    }

private:
    finish_line& done_;
    troupe::ref<relay> next_;
};

/// Spawns `circles` circles of `size` relays each and times `hops` passes of one token in
/// every circle, all circles at once; returns the seconds until the last circle finished and
/// until the first one did.
std::pair<double, double> time_circles(const options& opts, int circles, int size, std::int64_t hops) {
    troupe::system sys(system_options_for(opts));
    finish_line done(circles);
    std::vector<troupe::ref<relay>> nodes;
    nodes.reserve(static_cast<std::size_t>(circles * size));
    for (int i = 0; i < circles * size; ++i) {
        nodes.push_back(sys.spawn<relay>(done));
    }
    for (int c = 0; c < circles; ++c) {
        for (int i = 0; i < size; ++i) {
            nodes[static_cast<std::size_t>(c * size + i)].tell(
                relay::link{nodes[static_cast<std::size_t>(c * size + (i + 1) % size)]});
        }
    }
    // The links are queued before the token in every mailbox, so each node knows its successor.
    const auto start = clock_type::now();
    for (int c = 0; c < circles; ++c) {
        // main's tell is the first of the circle's `hops` messages
        nodes[static_cast<std::size_t>(c * size)].tell(token{hops - 1});
    }
    done.wait();
    const double all = seconds_since(start);
    return {all, std::chrono::duration<double>(done.first_crossing() - start).count()};
}

double time_circle(const options& opts, int size, std::int64_t hops) {
    return time_circles(opts, 1, size, hops).first;
}

/// The same options with a single worker thread.
options one_worker(const options& opts) {
    options one = opts;
    one.workers = 1;
    return one;
}

// ---- mailbox: 2 sender threads into one actor ---------------------------------------------

struct item {
    std::int64_t value;
};
/// Makes the sink block in its handler until `gate` opens, so that later messages pile up.
struct hold {
    std::atomic<bool>* gate;
    done_flag* holding;
};

class sink : public troupe::actor {
public:
    sink(std::int64_t expected, done_flag& done) : expected_(expected), done_(done) {}

    void handle(hold h) {
        h.holding->raise();
        h.gate->wait(false, std::memory_order_acquire);  // blocks this pool worker on purpose
    }
    void handle(item i) {
        sum_ += i.value;
        if (++received_ == expected_) {
            done_.raise();
        }
    }

private:
    std::int64_t expected_;
    std::int64_t received_ = 0;
    std::int64_t sum_ = 0;
    done_flag& done_;
};

/// Runs the senders (plain threads) against `target`; returns once all of them have sent.
void send_from_threads(const troupe::ref<sink>& target, std::int64_t per_sender) {
    std::vector<std::thread> senders;
    for (int s = 0; s < workload::mailbox_senders; ++s) {
        senders.emplace_back([&target, per_sender] {
            for (std::int64_t i = 0; i < per_sender; ++i) {
                target.tell(item{i});
            }
        });
    }
    for (auto& t : senders) {
        t.join();
    }
}

// ---- fan-out/in -----------------------------------------------------------------------------

struct work {
    std::int64_t round;
};
struct work_done {
    std::int64_t round;
};
class coordinator;

class worker : public troupe::actor {
public:
    explicit worker(troupe::ref<coordinator> boss) : boss_(std::move(boss)) {}
    void handle(work w);

private:
    troupe::ref<coordinator> boss_;
};

class coordinator : public troupe::actor {
public:
    struct go {
        std::vector<troupe::ref<worker>> workers;
        std::int64_t rounds;
    };

    explicit coordinator(done_flag& done) : done_(done) {}

    void handle(go g) {
        workers_ = std::move(g.workers);
        rounds_ = g.rounds;
        next_round();
    }
    void handle(work_done) {
        if (--pending_ != 0) {
            return;
        }
        if (++round_ == rounds_) {
            done_.raise();
            return;
        }
        next_round();
    }

private:
    void next_round() {
        pending_ = workers_.size();
        for (auto& w : workers_) {
            w.tell(work{round_});
        }
    }

    done_flag& done_;
    std::vector<troupe::ref<worker>> workers_;
    std::size_t pending_ = 0;
    std::int64_t round_ = 0;
    std::int64_t rounds_ = 0;
};

void worker::handle(work w) {
    boss_.tell(work_done{w.round});
}

}  // namespace

void pingpong(const options& opts) {
    const std::int64_t n = opts.count_or(workload::pingpong_messages);
    const double secs = time_circle(opts, 2, n);
    report("pingpong", "per_msg", secs * 1e9 / static_cast<double>(n), "ns");
}

void ring(const options& opts) {
    const std::int64_t hops = opts.count_or(workload::ring_hops);
    const double secs = time_circle(opts, workload::ring_size, hops);
    report("ring", "per_hop", secs * 1e9 / static_cast<double>(hops), "ns");
}

void pingpong1(const options& opts) {
    const std::int64_t n = opts.count_or(workload::pingpong_messages);
    const double secs = time_circle(one_worker(opts), 2, n);
    report("pingpong1", "per_msg", secs * 1e9 / static_cast<double>(n), "ns");
}

void ring1(const options& opts) {
    const std::int64_t hops = opts.count_or(workload::ring_hops);
    const double secs = time_circle(one_worker(opts), workload::ring_size, hops);
    report("ring1", "per_hop", secs * 1e9 / static_cast<double>(hops), "ns");
}

void pairs(const options& opts) {
    const int n_pairs = static_cast<int>(workload::pairs_per_worker * opts.workers);
    const std::int64_t per_pair = opts.count_or(workload::pairs_messages) / n_pairs;
    const auto [all, first] = time_circles(opts, n_pairs, 2, per_pair);
    report("pairs", "per_msg", all * 1e9 / static_cast<double>(per_pair * n_pairs), "ns");
    report("pairs", "first_done_at", first / all * 100.0, "%wall");
}

void mailbox(const options& opts) {
    const std::int64_t per_sender = opts.count_or(workload::mailbox_per_sender);
    const std::int64_t total = per_sender * workload::mailbox_senders;
    troupe::system sys(system_options_for(opts));

    // Phase 1, backlog: the sink is held while the senders fill its mailbox.
    {
        done_flag drained;
        done_flag holding;
        std::atomic<bool> gate{false};
        auto target = sys.spawn<sink>(total, drained);
        target.tell(hold{&gate, &holding});
        holding.wait();
        const std::int64_t rss_before = rss_bytes();
        const auto start = clock_type::now();
        send_from_threads(target, per_sender);
        const double send_secs = seconds_since(start);
        const std::int64_t rss_after = rss_bytes();
        const auto drain_start = clock_type::now();
        gate.store(true, std::memory_order_release);
        gate.notify_all();
        drained.wait();
        const double drain_secs = seconds_since(drain_start);
        report("mailbox", "bytes_per_queued_msg", static_cast<double>(rss_after - rss_before) / total, "B");
        report("mailbox", "enqueue_rate", total / send_secs, "msg/s");
        report("mailbox", "drain_rate", total / drain_secs, "msg/s");
        target.stop();
    }
    // Phase 2, throughput: the sink consumes while the senders send.
    {
        done_flag drained;
        auto target = sys.spawn<sink>(total, drained);
        const auto start = clock_type::now();
        send_from_threads(target, per_sender);
        drained.wait();
        report("mailbox", "throughput", total / seconds_since(start), "msg/s");
    }
}

void fanout(const options& opts) {
    const std::int64_t rounds = opts.count_or(workload::fanout_rounds);
    troupe::system sys(system_options_for(opts));
    done_flag done;
    auto boss = sys.spawn<coordinator>(done);
    coordinator::go g{{}, rounds};
    g.workers.reserve(workload::fanout_workers);
    for (int i = 0; i < workload::fanout_workers; ++i) {
        g.workers.push_back(sys.spawn<worker>(boss));
    }
    const auto start = clock_type::now();
    boss.tell(std::move(g));
    done.wait();
    report("fanout", "rounds", static_cast<double>(rounds) / seconds_since(start), "rounds/s");
}

}  // namespace bench::troupe_side
