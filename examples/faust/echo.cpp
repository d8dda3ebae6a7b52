// Faust's Streams guide, "echo() -- Repeat to one or more topics": every value of the stream is
// also sent to other topics, and the agent goes on iterating the stream itself.

#include <troupe/streams/app.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;

/// The values some agents got, by topic, and a future of the moment they have them all.
class by_topic {
public:
    explicit by_topic(std::size_t expected) : left_(expected) {}
    void add(const std::string& topic, std::string value) {
        const std::lock_guard guard(lock_);
        values_[topic].push_back(std::move(value));
        if (--left_ == 0) {
            done_.set_value();
        }
    }
    std::map<std::string, std::vector<std::string>> get() {
        done_.get_future().get();
        const std::lock_guard guard(lock_);
        return values_;
    }

private:
    std::mutex lock_;
    std::size_t left_;
    std::map<std::string, std::vector<std::string>> values_;
    troupe::promise<void> done_;
};

int main() {
    streams::app app{"echo", {.broker = "memory://echo", .topic_partitions = 1}};
    auto& source_topic = app.topic<std::string, std::string>("sourcetopic");
    auto& echo_topic1 = app.topic<std::string, std::string>("source-copy-1");
    // Each topic keeps its own codec: this copy is msgpack.
    auto& echo_topic2 =
        app.topic<std::string, std::string>("source-copy-2", {.value_serializer = streams::serializer::msgpack});
    using text_stream = streams::stream<std::string, std::string>;

    by_topic seen(3);
    app.agent("process", source_topic, [&](text_stream& stream) -> troupe::task<void> {
        stream.echo(echo_topic1, echo_topic2);
        while (std::optional<std::string> event = co_await stream.next()) {
            std::cout << "process: " << *event << '\n';
            seen.add(stream.event()->topic, *event);
        }
    });

    by_topic copies(6);
    app.agent("read_copies", echo_topic1 & echo_topic2, [&](text_stream& stream) -> troupe::task<void> {
        while (std::optional<std::string> copy = co_await stream.next()) {
            copies.add(stream.event()->topic, *copy);
        }
    });

    app.start();
    for (const char* v : {"one", "two", "three"}) {
        source_topic.send(v).get();
    }
    const auto got = seen.get();
    const auto copied = copies.get();
    app.stop();

    const std::vector<std::string> sent{"one", "two", "three"};
    check(got == std::map<std::string, std::vector<std::string>>{{"sourcetopic", sent}},
          "the agent went on iterating its own stream");
    check(copied == std::map<std::string, std::vector<std::string>>{{"source-copy-1", sent}, {"source-copy-2", sent}},
          "and every value was repeated to both topics, in order");
    return example::exit_status();
}
