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

namespace streams = troupe::streams;
using example::check;

/// The counted values an agent got, and a future of the moment it has them all.
class counted {
public:
    explicit counted(std::size_t expected) : expected_(expected) {}
    void add(std::pair<std::size_t, std::string> value) {
        const std::lock_guard guard(lock_);
        got_.push_back(std::move(value));
        if (got_.size() == expected_) {
            done_.set_value();
        }
    }
    std::vector<std::pair<std::size_t, std::string>> get() {
        done_.get_future().get();
        const std::lock_guard guard(lock_);
        return got_;
    }

private:
    std::size_t expected_;
    std::mutex lock_;
    std::vector<std::pair<std::size_t, std::string>> got_;
    troupe::promise<void> done_;
};

int main() {
    streams::app app{"enumerate", {.broker = "memory://enumerate", .topic_partitions = 1}};
    auto& topic = app.topic<std::string, std::string>("words");
    using word_stream = streams::stream<std::string, std::string>;

    counted from_zero(3);
    app.agent("process", topic, [&](word_stream& stream) -> troupe::task<void> {
        auto values = stream.enumerate();
        while (std::optional<std::pair<std::size_t, std::string>> iv = co_await values.next()) {
            std::cout << iv->first << ": " << iv->second << '\n';
            from_zero.add(std::move(*iv));
        }
    });
    counted from_one(3);
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
