// Back-pressure: a producer that outruns its agent is held back by the embedded broker instead
// of filling memory. The broker here takes at most 1,000 records that the agent has not
// committed; the agent does not read at all until a gate opens, so of 2,000 values sent, 1,000
// go in and the other 1,000 wait, in order, in the broker. A second producer's send()s then
// wait on its thread (the broker holds back no more than the bound again), and so do its
// send_soon()s. Once the agent reads and commits (every 100 values), the waiting values go in
// as room is made, and every one arrives.
//
// An agent is a producer too, and its thread is never blocked: a relay agent that forwards
// with send_soon() into a topic whose reader is shut out has its records held back, and once
// as many as the bound are held it waits before its next value instead (another agent runs
// meanwhile). It goes on, losing nothing, once the reader reads.

#include <troupe/streams/app.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "../check.hpp"

using example::check;
namespace streams = troupe::streams;
using namespace std::chrono_literals;

// A relay agent forwards every value with send_soon() into "totals", bounded at 100 and read
// by an agent that waits at a gate. The broker takes 100 and holds the next ones back; with 100
// held, the relay waits before its next value. 1,000 values sent, it has forwarded 201 (100 in
// the log, 101 held) when the gate opens; then all 1,000 arrive.
void relay_into_a_shut_topic() {
    constexpr std::uint64_t bound = 100;
    constexpr int n = 1000;
    auto broker = streams::make_embedded_broker({.max_backlog = bound});
    streams::app app{"relaying", {.commit_every = 10, .broker_instance = broker}};
    auto& readings = app.topic<std::string, int>("readings", {.partitions = 1});
    auto& totals = app.topic<std::string, int>("totals", {.partitions = 1});
    auto& relay = app.agent("relay", readings, [&](streams::stream<std::string, int>& s) -> troupe::task<void> {
        while (std::optional<int> v = co_await s.next()) {
            totals.send_soon(*v);  // never blocks this agent's thread
        }
    });
    troupe::promise<void> gate;
    std::atomic<long> sum{0};
    auto& adding = app.agent("adding", totals, [&](streams::stream<std::string, int>& s) -> troupe::task<void> {
        troupe::future<void> opened = gate.get_future();
        co_await opened;
        while (std::optional<int> v = co_await s.next()) {
            sum += *v;
        }
    });
    app.start();
    std::thread producer([&] {
        for (int i = 1; i <= n; ++i) {
            readings.send_soon(i);  // waits on this thread while "readings" is full
        }
    });
    check(relay.when_finished(2 * bound + 1).wait_for(60s), "the relay forwards up to the bound and as many held");
    std::cout << "the relay waits: " << relay.finished() << " of " << n << " values forwarded, "
              << broker->end_offset({"totals", 0}) << " in the log\n";
    check(relay.finished() == 2 * bound + 1, "the relay waits for room before its next value");
    gate.set_value();
    producer.join();
    check(adding.when_finished(n).wait_for(60s), "the reader got every value the relay forwarded");
    app.stop();
    check(sum.load() == static_cast<long>(n) * (n + 1) / 2, "nothing the relay forwarded was lost");
}

int main() {
    constexpr std::uint64_t bound = 1000;
    constexpr int n = 2000;
    auto broker = streams::make_embedded_broker({.max_backlog = bound});
    streams::app app{"backpressure", {.commit_every = 100, .broker_instance = broker}};
    auto& readings = app.topic<std::string, int>("readings", {.partitions = 1});

    troupe::promise<void> gate;
    std::atomic<long> sum{0};
    std::atomic<std::uint64_t> most_in_log{0};  // the most records the log held at once
    auto& summing = app.agent("summing", readings, [&](streams::stream<std::string, int>& s) -> troupe::task<void> {
        troupe::future<void> opened = gate.get_future();
        co_await opened;
        while (std::optional<int> v = co_await s.next()) {
            sum += *v;
            const std::uint64_t in_log = broker->end_offset({"readings", 0}) - broker->start_offset({"readings", 0});
            most_in_log = std::max(most_in_log.load(), in_log);
        }
    });
    app.start();

    // send() returns at once here: its future completes once the broker has taken the record.
    // The first 1,000 are taken at once; the other 1,000 wait for the agent to commit.
    std::vector<troupe::future<streams::record_metadata>> sent;
    for (int i = 1; i <= n; ++i) {
        sent.push_back(readings.send(i));
    }
    const auto taken = std::count_if(sent.begin(), sent.end(), [](const auto& f) { return f.ready(); });
    std::cout << "before the agent reads: " << taken << " of " << n << " values in the log, " << n - taken
              << " held back\n";
    check(taken == static_cast<long>(bound), "the broker takes values up to its bound and holds the rest back");

    // A second producer: with 1,000 records held back, its send()s wait on its own thread until
    // their records are in (it drops the futures, and memory stays flat all the same), and its
    // send_soon()s wait while the log is full.
    std::thread more([&] {
        for (int i = n + 1; i <= 2 * n; ++i) {
            readings.send(i);
        }
        for (int i = 2 * n + 1; i <= 3 * n; ++i) {
            readings.send_soon(i);
        }
    });

    gate.set_value();  // the agent starts reading, committing every 100 values
    bool in_order = true;
    for (int i = 0; i < n; ++i) {
        in_order = in_order && sent[i].get(60s).offset == static_cast<std::uint64_t>(i);
    }
    more.join();
    check(in_order, "the values held back went in in the order they were sent");
    check(summing.when_finished(3 * n).wait_for(60s), "the agent read every value of both producers");
    app.stop();

    constexpr long expected = static_cast<long>(3 * n) * (3 * n + 1) / 2;
    std::cout << "sum " << sum.load() << ", at most " << most_in_log.load() << " records in the log at once\n";
    check(sum.load() == expected, "nothing was lost");
    // A commit frees records a chunk (256 records) at a time, so the log may hold up to one
    // chunk more than the bound.
    check(most_in_log.load() <= bound + 256, "the log never held much more than the bound");

    relay_into_a_shut_topic();
    return example::exit_status();
}
