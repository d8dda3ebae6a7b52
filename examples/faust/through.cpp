// Faust's Streams guide, "through() -- Forward through another topic": every value goes on to a
// new topic, and the agent iterates the stream of that topic instead; and the plain recipe of
// sending each value to another topic by hand.

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
    streams::app app{"through", {.broker = "memory://through", .topic_partitions = 1}};
    auto& source_topic = app.topic<std::string, std::string>("source-topic");
    auto& destination_topic = app.topic<std::string, std::string>("destination-topic");
    auto& other_topic = app.topic<std::string, std::string>("other-topic");
    using text_stream = streams::stream<std::string, std::string>;

    example::collected<std::pair<std::string, std::string>> through(3);
    auto& process = app.agent("process", source_topic, [&](text_stream& stream) -> troupe::task<void> {
        // We are now iterating over the stream of destination-topic.
        auto& forwarded = stream.through(destination_topic);
        while (std::optional<std::string> value = co_await forwarded.next()) {
            std::cout << *value << " (from " << forwarded.event()->topic << ")\n";
            through.add({forwarded.event()->topic, *value});
        }
    });

    // Forwarding by hand: the agent sends each value on, and waits until the broker holds it.
    app.agent("forward", source_topic, [&](text_stream& stream) -> troupe::task<void> {
        while (std::optional<std::string> value = co_await stream.next()) {
            troupe::future<streams::record_metadata> sent = other_topic.send(*value);
            co_await std::move(sent);
        }
    });
    example::collected<std::pair<std::string, std::string>> by_hand(3);
    app.agent("read_other", other_topic, [&](text_stream& stream) -> troupe::task<void> {
        while (std::optional<std::string> value = co_await stream.next()) {
            by_hand.add({stream.event()->topic, *value});
        }
    });

    app.start();
    for (const char* v : {"one", "two", "three"}) {
        source_topic.send(v).get();
    }
    const auto got = through.get();
    const auto got_by_hand = by_hand.get();
    app.stop();

    using seen = std::vector<std::pair<std::string, std::string>>;
    check(got == seen{{"destination-topic", "one"}, {"destination-topic", "two"}, {"destination-topic", "three"}},
          "through() gave the values back from destination-topic");
    check(app.broker().end_offset({"destination-topic", 0}) == 3U, "where every value was forwarded");
    check(app.broker().committed(process.group(), {"source-topic", 0}) == 3U &&
              app.broker().committed(process.group() + "-destination-topic", {"destination-topic", 0}) == 3U,
          "the agent committed source-topic in its group, and destination-topic in <group>-destination-topic");
    check(got_by_hand == seen{{"other-topic", "one"}, {"other-topic", "two"}, {"other-topic", "three"}},
          "sending by hand forwarded every value to other-topic");
    return example::exit_status();
}
