// troupe side of the messaging scenarios: ping-pong, mailbox throughput and backlog, fan-out/in
// and the thread ring. Actors keep typed refs to their peers and answer with tell; every
// scenario signals its end to main through a bench::done_flag.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <atomic>
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

/// A ping-pong player or a ring node: passes the token to `next_` until it runs out.
class relay : public troupe::actor {
public:
    struct link {
        troupe::ref<relay> next;
    };

    explicit relay(done_flag& done) : done_(done) {}

    void handle(link l) { next_ = std::move(l.next); }
    void handle(token t) {
        if (t.left == 0) {
            done_.raise();
            return;
        }
        next_.tell(token{t.left - 1});
    }

private:
    done_flag& done_;
    troupe::ref<relay> next_;
};

/// Spawns `size` relays linked in a circle and times `hops` passes of one token.
double time_circle(const options& opts, int size, std::int64_t hops) {
    troupe::system sys(system_options_for(opts));
    done_flag done;
    std::vector<troupe::ref<relay>> nodes;
    nodes.reserve(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) {
        nodes.push_back(sys.spawn<relay>(done));
    }
    for (int i = 0; i < size; ++i) {
        nodes[static_cast<std::size_t>(i)].tell(relay::link{nodes[static_cast<std::size_t>((i + 1) % size)]});
    }
    // The links are queued before the token in every mailbox, so each node knows its successor.
    const auto start = clock_type::now();
    nodes[0].tell(token{hops - 1});  // main's tell is the first of the `hops` messages
    done.wait();
    return seconds_since(start);
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
