// Faust's "Actors" guide, "Sinks": what an agent yields also goes to its sinks, which are a
// function, a coroutine (awaited before the agent takes its next value), a topic, or another
// agent.

#include <troupe/async/await.hpp>
#include <troupe/streams/app.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;
using namespace std::chrono_literals;

int main() {
    streams::app app{"sinks-example", {.broker = "memory://sinks-example", .topic_partitions = 1}};
    auto& events = app.topic<std::string, std::string>("events");
    auto& actor_log_topic = app.topic<std::string, std::string>("actor_log");

    std::mutex lock;
    std::vector<std::string> printed;
    std::atomic<int> left{4 * 3};  // three values, each through the four sinks
    troupe::promise<void> all_delivered;
    auto arrived = [&](std::string line) {
        {
            const std::lock_guard guard(lock);
            std::cout << line << '\n';
            printed.push_back(std::move(line));
        }
        if (left.fetch_sub(1) == 1) {
            all_delivered.set_value();
        }
    };

    // actor_b: another agent, a sink of actor_a.
    auto& actor_b = app.agent<std::string, std::string>(
        "actor_b", [&](streams::stream<std::string, std::string>& s) -> troupe::task<void> {
            while (std::optional<std::string> event = co_await s.next()) {
                arrived("ACTOR B RECEIVED: " + *event);
            }
        });
    // A reader of the topic sink.
    app.agent("log_reader", actor_log_topic, [&](streams::stream<std::string, std::string>& s) -> troupe::task<void> {
        while (std::optional<std::string> event = co_await s.next()) {
            arrived("ACTOR LOG: " + *event);
        }
    });
    auto& actor_a = app.agent("actor_a", events,
                              [](streams::stream<std::string, std::string>& s) -> troupe::generator<std::string> {
                                  while (std::optional<std::string> event = co_await s.next()) {
                                      co_yield *event;
                                  }
                              });
    actor_a.sink([&](const std::string& value) { arrived("ACTOR YIELD: " + value); });  // a function
    actor_a.sink([&](const std::string& value) -> troupe::task<void> {                  // a coroutine
        co_await troupe::sleep_for(1ms);  // the instance that yielded waits for it
        arrived("ACTOR YIELD (awaited): " + value);
    });
    actor_a.sink(actor_log_topic);  // a topic
    actor_a.sink(actor_b);          // another agent

    app.start();
    for (const char* v : {"one", "two", "three"}) {
        events.send(v).get();
    }
    all_delivered.get_future().get();
    app.stop();

    auto count = [&](const std::string& prefix) {
        int n = 0;
        for (const auto& line : printed) {
            n += line.rfind(prefix, 0) == 0 ? 1 : 0;
        }
        return n;
    };
    check(count("ACTOR YIELD: ") == 3, "the function sink got every value");
    check(count("ACTOR YIELD (awaited): ") == 3, "the coroutine sink got every value");
    check(count("ACTOR LOG: ") == 3, "the topic sink got every value");
    check(count("ACTOR B RECEIVED: ") == 3, "the agent sink got every value");
    return example::exit_status();
}
