// bench_floor's messaging scenarios: ping-pong between two threads (spinning, and sleeping on
// a futex), the same token passed by one thread, and two producer threads flooding one
// consumer. Every scenario is written once over the queue type: mpsc_queue's pop() spins,
// futex_inbox's pop() sleeps.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "../common/workloads.hpp"
#include "futex_inbox.hpp"
#include "mpsc_queue.hpp"
#include "scenarios.hpp"

namespace bench::floor_side {

namespace {

/// Forwards the token from `in` to `out` until it carries 0; the thread that forwards the 0
/// stops too, as it will receive nothing more.
template <class Queue>
void play(Queue& in, Queue& out) {
    for (;;) {
        node* t = in.pop();
        const std::int64_t left = t->value;
        if (left > 0) {
            t->value = left - 1;
            out.push(t);
        }
        if (left <= 1) {
            return;
        }
    }
}

/// Times `messages` passes of one token between main and a second thread.
template <class Queue>
double bounce(std::int64_t messages) {
    Queue to_main;
    Queue to_peer;
    node token;
    std::atomic<bool> ready{false};
    std::thread peer([&] {
        // release: main starts the clock only once this thread runs.
        ready.store(true, std::memory_order_release);
        play(to_peer, to_main);
    });
    while (!ready.load(std::memory_order_acquire)) {
        cpu_relax();
    }
    const auto start = clock_type::now();
    token.value = messages - 1;  // main's push is the first of the `messages`
    to_peer.push(&token);
    if (messages > 1) {
        play(to_main, to_peer);
    }
    peer.join();
    return seconds_since(start);
}

/// Times 2 threads pushing `per_sender` nodes each into one queue, which main drains.
template <class Queue>
double flood(std::int64_t per_sender) {
    const std::int64_t total = per_sender * workload::mailbox_senders;
    Queue inbox;
    // Value-initialised up front: the pages are touched before the clock starts.
    auto nodes = std::make_unique<node[]>(static_cast<std::size_t>(total));
    std::atomic<bool> go{false};
    std::vector<std::thread> senders;
    for (int s = 0; s < workload::mailbox_senders; ++s) {
        node* mine = nodes.get() + s * per_sender;
        senders.emplace_back([&inbox, &go, mine, per_sender] {
            // acquire: pairs with main's release; nothing else is shared before the pushes.
            while (!go.load(std::memory_order_acquire)) {
                cpu_relax();
            }
            for (std::int64_t i = 0; i < per_sender; ++i) {
                mine[i].value = i;
                inbox.push(&mine[i]);
            }
        });
    }
    const auto start = clock_type::now();
    go.store(true, std::memory_order_release);
    std::int64_t sum = 0;
    for (std::int64_t k = 0; k < total; ++k) {
        sum += inbox.pop()->value;
    }
    const double secs = seconds_since(start);
    for (auto& t : senders) {
        t.join();
    }
    if (sum != workload::mailbox_senders * (per_sender * (per_sender - 1) / 2)) {
        report("mailbox", "wrong_sum", 1, "error");
    }
    return secs;
}

}  // namespace

void pingpong(const options& opts) {
    const std::int64_t n = opts.count_or(workload::pingpong_messages);
    report("pingpong", "per_msg", bounce<mpsc_queue>(n) * 1e9 / static_cast<double>(n), "ns");
    const std::int64_t blocking = std::max<std::int64_t>(2, n / workload::floor_blocking_divisor);
    report("pingpong", "block_per_msg", bounce<futex_inbox>(blocking) * 1e9 / static_cast<double>(blocking), "ns");
}

void pingpong1(const options& opts) {
    const std::int64_t n = opts.count_or(workload::pingpong_messages);
    mpsc_queue queues[2];
    node token;
    token.value = n;
    node* t = &token;
    const auto start = clock_type::now();
    for (std::int64_t i = 0; i < n; ++i) {
        // What one worker does per message at best: push into the receiver's queue, pop it there.
        mpsc_queue& q = queues[i & 1];
        t->value -= 1;
        q.push(t);
        t = q.pop();
    }
    const double secs = seconds_since(start);
    report("pingpong1", "per_msg", secs * 1e9 / static_cast<double>(n), "ns");
    if (t->value != 0) {
        report("pingpong1", "wrong_count", 1, "error");
    }
}

void mailbox(const options& opts) {
    const std::int64_t per_sender = opts.count_or(workload::mailbox_per_sender);
    const auto total = static_cast<double>(per_sender * workload::mailbox_senders);
    report("mailbox", "throughput", total / flood<mpsc_queue>(per_sender), "msg/s");
    report("mailbox", "throughput_block", total / flood<futex_inbox>(per_sender), "msg/s");
}

}  // namespace bench::floor_side
