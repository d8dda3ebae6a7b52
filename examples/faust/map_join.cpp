// Faust's "Actors" guide, "Streaming Map/Reduce": map and kvmap stream the replies of an agent
// as they come (unordered), join and kvjoin give them all at once, in the order of the values.

#include <troupe/streams/app.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;
using namespace std::chrono_literals;

troupe::generator<int> squaring(streams::stream<std::string, int>& numbers) {
    while (std::optional<int> n = co_await numbers.next()) {
        co_yield *n** n;
    }
}

int main() {
    streams::app app{"map-join", {.broker = "memory://map_join", .topic_partitions = 4}};
    auto& numbers = app.topic<std::string, int>("numbers");
    auto& pow2 = app.agent("pow2", numbers, squaring, {.concurrency = 2});

    // map and kvmap are iterated inside a coroutine of an actor: here a task of the app.
    troupe::promise<std::vector<int>> mapped;
    troupe::promise<std::vector<int>> kvmapped;
    app.task([&]() -> troupe::task<void> {
        std::vector<int> got;
        auto replies = pow2.map(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}, 10s);
        while (std::optional<int> reply = co_await replies.next()) {
            std::cout << "RECEIVED REPLY: " << *reply << '\n';
            got.push_back(*reply);
        }
        mapped.set_value(std::move(got));

        // Each key is the record's key: it picks the partition.
        const std::vector<std::pair<std::string, int>> items{{"a", 9}, {"b", 10}};
        std::vector<int> keyed;
        auto keyed_replies = pow2.kvmap(items, 10s);
        while (std::optional<int> reply = co_await keyed_replies.next()) {
            keyed.push_back(*reply);
        }
        kvmapped.set_value(std::move(keyed));
    });
    app.start();

    std::vector<int> got = mapped.get_future().get();
    std::sort(got.begin(), got.end());  // map gives the replies as they come
    check(got == std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64}, "map gave the square of every value");
    got = kvmapped.get_future().get();
    std::sort(got.begin(), got.end());
    check(got == std::vector<int>{81, 100}, "kvmap gave the square of every keyed value");

    const std::vector<int> results = pow2.join(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}, 10s).get();
    check(results == std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64}, "join gave the squares in the order of the values");
    const std::vector<std::pair<std::string, int>> pairs{{"x", 11}, {"y", 12}};
    check(pow2.kvjoin(pairs, 10s).get() == std::vector<int>{121, 144}, "kvjoin gave them in order too");

    app.stop();
    check(app.pending_asks() == 0, "no ask is left waiting");
    return example::exit_status();
}
