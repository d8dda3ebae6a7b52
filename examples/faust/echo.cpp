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
#include "../collected.hpp"

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"echo", {.broker = "memory://echo", .topic_partitions = 1}};
    auto& source_topic = app.topic<std::string, std::string>("sourcetopic");
    auto& echo_topic1 = app.topic<std::string, std::string>("source-copy-1");
    // Each topic keeps its own codec: this copy is msgpack.
    auto& echo_topic2 =
        app.topic<std::string, std::string>("source-copy-2", {.value_serializer = streams::serializer::msgpack});
    using text_stream = streams::stream<std::string, std::string>;

    example::by_topic<std::string> seen(3);
    app.agent("process", source_topic, [&](text_stream& stream) -> troupe::task<void> {
        stream.echo(echo_topic1, echo_topic2);
        while (std::optional<std::string> event = co_await stream.next()) {
            std::cout << "process: " << *event << '\n';
            seen.add(stream.event()->topic, *event);
        }
    });

    example::by_topic<std::string> copies(6);
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
