// CAF side of the messaging scenarios: ping-pong (on 2 workers, on 1, and 4 x workers pairs at
// once), mailbox throughput and backlog, fan-out/in and the thread ring (on 2 workers and on 1).
// Same workloads as bench/troupe/messaging.cpp, in CAF 0.17's own idioms: stateful event-based
// actors, send to a stored handle, and a handler's return value as reply.

#include "../common/workloads.hpp"
#include "scenarios.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace bench::caf_side {

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;
using hold_atom = caf::atom_constant<caf::atom("hold")>;

// ---- ping-pong and ring: an int64 token that counts the hops still to go --------------------

struct relay_state {
    caf::actor next;
};

/// A ping-pong player or a ring node: passes the token to its successor until it runs out, then
/// crosses its lane's finish line.
caf::behavior relay(caf::stateful_actor<relay_state>* self, finish_line* done) {
    return {
        [=](caf::actor next) { self->state.next = std::move(next); },
        [=](std::int64_t left) {
            if (left == 0) {
                done->cross();
                return;
            }
            self->send(self->state.next, left - 1);
        },
    };
}

/// Spawns `circles` circles of `size` relays each and times `hops` passes of one token in
/// every circle, all circles at once; returns the seconds until the last circle finished and
/// until the first one did.
std::pair<double, double> time_circles(const options& opts, int circles, int size, std::int64_t hops) {
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    finish_line done(circles);
    std::vector<caf::actor> nodes;
    nodes.reserve(static_cast<std::size_t>(circles * size));
    for (int i = 0; i < circles * size; ++i) {
        nodes.push_back(sys.spawn(relay, &done));
    }
    for (int c = 0; c < circles; ++c) {
        for (int i = 0; i < size; ++i) {
            caf::anon_send(nodes[static_cast<std::size_t>(c * size + i)],
                           nodes[static_cast<std::size_t>(c * size + (i + 1) % size)]);
        }
    }
    const auto start = clock_type::now();
    for (int c = 0; c < circles; ++c) {
        // main's send is the first of the circle's `hops` messages
        caf::anon_send(nodes[static_cast<std::size_t>(c * size)], std::int64_t{hops - 1});
    }
    done.wait();
    const double all = seconds_since(start);
    // The relays reference each other in a circle: they must be told to quit.
    for (auto& n : nodes) {
        caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
    }
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

struct sink_state {
    std::int64_t received = 0;
    std::int64_t sum = 0;
};

/// Counts int64 messages; on `hold` blocks its worker until `gate` opens.
caf::behavior sink(caf::stateful_actor<sink_state>* self, std::int64_t expected, done_flag* done,
                   std::atomic<bool>* gate, done_flag* holding) {
    return {
        [=](hold_atom) {
            holding->raise();
            gate->wait(false, std::memory_order_acquire);  // blocks this worker on purpose
        },
        [=](std::int64_t value) {
            self->state.sum += value;
            if (++self->state.received == expected) {
                done->raise();
            }
        },
    };
}

/// Runs the senders (plain threads) against `target`; returns once all of them have sent.
void send_from_threads(const caf::actor& target, std::int64_t per_sender) {
    std::vector<std::thread> senders;
    for (int s = 0; s < workload::mailbox_senders; ++s) {
        senders.emplace_back([&target, per_sender] {
            for (std::int64_t i = 0; i < per_sender; ++i) {
                caf::anon_send(target, i);
            }
        });
    }
    for (auto& t : senders) {
        t.join();
    }
}

// ---- fan-out/in -----------------------------------------------------------------------------

caf::behavior worker(caf::event_based_actor*) {
    return {
        [](std::int64_t round) { return round; },  // the return value goes back to the sender
    };
}

struct coordinator_state {
    std::vector<caf::actor> workers;
    std::size_t pending = 0;
    std::int64_t round = 0;
};

void next_round(caf::stateful_actor<coordinator_state>* self) {
    self->state.pending = self->state.workers.size();
    for (auto& w : self->state.workers) {
        self->send(w, self->state.round);
    }
}

caf::behavior coordinator(caf::stateful_actor<coordinator_state>* self, std::vector<caf::actor> workers,
                          std::int64_t rounds, done_flag* done) {
    self->state.workers = std::move(workers);
    return {
        [=](go_atom) { next_round(self); },
        [=](std::int64_t) {
            if (--self->state.pending != 0) {
                return;
            }
            if (++self->state.round == rounds) {
                done->raise();
                return;
            }
            next_round(self);
        },
    };
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
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};

    // Phase 1, backlog: the sink is held while the senders fill its mailbox.
    {
        done_flag drained;
        done_flag holding;
        std::atomic<bool> gate{false};
        auto target = sys.spawn(sink, total, &drained, &gate, &holding);
        caf::anon_send(target, hold_atom::value);
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
    }
    // Phase 2, throughput: the sink consumes while the senders send.
    {
        done_flag drained;
        auto target = sys.spawn(sink, total, &drained, nullptr, nullptr);
        const auto start = clock_type::now();
        send_from_threads(target, per_sender);
        drained.wait();
        report("mailbox", "throughput", total / seconds_since(start), "msg/s");
    }
}

void fanout(const options& opts) {
    const std::int64_t rounds = opts.count_or(workload::fanout_rounds);
    caf::actor_system_config cfg;
    configure(cfg, opts);
    caf::actor_system sys{cfg};
    done_flag done;
    std::vector<caf::actor> workers;
    workers.reserve(workload::fanout_workers);
    for (int i = 0; i < workload::fanout_workers; ++i) {
        workers.push_back(sys.spawn(worker));
    }
    auto boss = sys.spawn(coordinator, std::move(workers), rounds, &done);
    const auto start = clock_type::now();
    caf::anon_send(boss, go_atom::value);
    done.wait();
    report("fanout", "rounds", static_cast<double>(rounds) / seconds_since(start), "rounds/s");
    caf::anon_send_exit(boss, caf::exit_reason::user_shutdown);
}

}  // namespace bench::caf_side
