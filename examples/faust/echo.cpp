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
    // The topic the echo below names (Faust's stream.echo('other_topic')), declared to read it.
    auto& other_topic = app.topic<std::string, std::string>("other_topic");
    using text_stream = streams::stream<std::string, std::string>;

    example::by_topic<std::string> seen(3);
    app.agent("process", source_topic, [&](text_stream& stream) -> troupe::task<void> {
        // A topic by name has the stream's types and codecs (made if it does not exist).
        stream.echo(echo_topic1, echo_topic2, "other_topic");
        while (std::optional<std::string> event = co_await stream.next()) {
            std::cout << "process: " << *event << '\n';
            seen.add(stream.event()->topic, *event);
        }
    });

    example::by_topic<std::string> copies(9);
    app.agent("read_copies", echo_topic1 & echo_topic2 & other_topic, [&](text_stream& stream) -> troupe::task<void> {
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
    check(copied == std::map<std::string, std::vector<std::string>>{{"other_topic", sent},
                                                                    {"source-copy-1", sent},
                                                                    {"source-copy-2", sent}},
          "and every value was repeated to the three topics, in order");
    return example::exit_status();
}
