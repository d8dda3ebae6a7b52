// Faust's "Actors" guide, "Under the Hood: The @actor decorator" (examples/noactor.py): a stream
// processor without an agent, a task of the app that iterates the stream of a topic.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"noactor", {.broker = "memory://noactor", .topic_partitions = 1}};
    // The topic has no value type in Faust, so its values are the raw bytes; std::string values
    // travel raw too.
    auto& topic = app.topic<std::string, std::string>("noactor");

    // topic.stream(): read in a consumer group of its own, "noactor-stream-1", from start() to
    // stop(), by the tasks of the app.
    auto& stream = app.stream(topic);
    std::mutex lock;
    std::vector<std::string> received;
    troupe::promise<void> all_received;
    app.task([&]() -> troupe::task<void> {
        while (std::optional<std::string> event = co_await stream.next()) {
            const std::lock_guard guard(lock);
            std::cout << "Received: " << *event << '\n';
            received.push_back(*event);
            if (received.size() == 3) {
                all_received.set_value();
            }
        }
    });

    app.start();
    for (const char* v : {"one", "two", "three"}) {
        topic.send(v).get();
    }
    all_received.get_future().get();
    app.stop();

    check(received == std::vector<std::string>{"one", "two", "three"}, "the task read every value, in order");
    check(app.broker().committed("noactor-stream-1", {"noactor", 0}) == 3U,
          "stopping committed the three values the stream finished");
    return example::exit_status();
}
