// Faust's Streams guide, "enumerate() -- Count values": each value with its count, from zero or
// from a starting point.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"enumerate", {.broker = "memory://enumerate", .topic_partitions = 1}};
    auto& topic = app.topic<std::string, std::string>("words");
    using word_stream = streams::stream<std::string, std::string>;

    example::collected<std::pair<std::size_t, std::string>> from_zero(3);
    app.agent("process", topic, [&](word_stream& stream) -> troupe::task<void> {
        auto values = stream.enumerate();
        while (std::optional<std::pair<std::size_t, std::string>> iv = co_await values.next()) {
            std::cout << iv->first << ": " << iv->second << '\n';
            from_zero.add(std::move(*iv));
        }
    });
    example::collected<std::pair<std::size_t, std::string>> from_one(3);
    app.agent("process_from_one", topic, [&](word_stream& stream) -> troupe::task<void> {
        auto values = stream.enumerate(1);
        while (std::optional<std::pair<std::size_t, std::string>> iv = co_await values.next()) {
            from_one.add(std::move(*iv));
        }
    });

    app.start();
    for (const char* word : {"alpha", "beta", "gamma"}) {
        topic.send(word).get();
    }
    const auto zero = from_zero.get();
    const auto one = from_one.get();
    app.stop();

    using counts = std::vector<std::pair<std::size_t, std::string>>;
    check(zero == counts{{0, "alpha"}, {1, "beta"}, {2, "gamma"}}, "enumerate() counted from zero");
    check(one == counts{{1, "alpha"}, {2, "beta"}, {3, "gamma"}}, "enumerate(1) counted from one");
    return example::exit_status();
}
