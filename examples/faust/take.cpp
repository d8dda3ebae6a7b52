// Faust's Streams guide, "take() -- Buffer up values in the stream": batches of 100 values, and
// batches of up to 100 given once `within` has passed, so the last values are not held forever.

#include <troupe/streams/app.hpp>

#include <chrono>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

namespace streams = troupe::streams;
using example::check;
using namespace std::chrono_literals;

/// from, from + 1, ..., to - 1.
std::vector<int> range(int from, int to) {
    std::vector<int> v(static_cast<std::size_t>(to - from));
    std::iota(v.begin(), v.end(), from);
    return v;
}

int main() {
    streams::app app{"take", {.broker = "memory://take", .topic_partitions = 1}};
    auto& topic = app.topic<std::string, int>("numbers");
    using int_stream = streams::stream<std::string, int>;

    example::collected<std::vector<int>> full(2);
    app.agent("process", topic, [&](int_stream& stream) -> troupe::task<void> {
        auto hundreds = stream.take(100);
        while (std::optional<std::vector<int>> values = co_await hundreds.next()) {
            std::cout << "RECEIVED 100 VALUES: " << values->front() << ".." << values->back() << '\n';
            full.add(std::move(*values));
        }
    });

    // Faust's example waits 10 seconds; 20 ms here.
    example::collected<std::vector<int>> within(3);
    app.agent("process_within", topic, [&](int_stream& stream) -> troupe::task<void> {
        auto up_to_hundreds = stream.take(100, 20ms);
        while (std::optional<std::vector<int>> values = co_await up_to_hundreds.next()) {
            std::cout << "RECEIVED " << values->size() << ": " << values->front() << ".." << values->back() << '\n';
            within.add(std::move(*values));
        }
    });

    // 250 values, there before the agents start.
    for (int i = 0; i < 250; ++i) {
        topic.send(i).get();
    }
    app.start();
    const auto got = full.get();
    const auto got_within = within.get();
    app.stop();

    // take(100) holds the last 50 until 50 more come: it gave two batches.
    check(got == std::vector<std::vector<int>>{range(0, 100), range(100, 200)}, "take(100) gave batches of 100");
    check(got_within == std::vector<std::vector<int>>{range(0, 100), range(100, 200), range(200, 250)},
          "take(100, 20ms) gave two batches of 100, and the last 50 once 20 ms had passed");
    return example::exit_status();
}
