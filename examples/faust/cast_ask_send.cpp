// Faust's "Actors" guide, "Cast or Ask?": cast sends a value and expects no reply, ask waits for
// the reply, and send with reply_to has the reply go to another agent's topic.

#include <troupe/streams/app.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

struct Add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(Add, a, b);

namespace streams = troupe::streams;
using example::check;
using namespace std::chrono_literals;

int main() {
    streams::app app{"cast-ask-send", {.broker = "memory://cast_ask_send", .topic_partitions = 1}};
    auto& adding = app.topic<std::string, Add>("adding");

    std::mutex lock;
    std::vector<int> sums;  // every sum the adder computed, replied to or not
    auto& adder = app.agent("adder", adding, [&](streams::stream<std::string, Add>& s) -> troupe::generator<int> {
        while (std::optional<Add> value = co_await s.next()) {
            const int sum = value->a + value->b;
            {
                const std::lock_guard guard(lock);
                sums.push_back(sum);
            }
            co_yield sum;
        }
    });

    // another_actor: where the reply of the send goes, with its correlation id in a header.
    troupe::promise<std::pair<int, std::string>> replied;
    auto& another_actor =
        app.agent<std::string, int>("another_actor", [&](streams::stream<std::string, int>& s) -> troupe::task<void> {
            auto events = s.events();
            while (std::optional<streams::event<std::string, int>> e = co_await events.next()) {
                const streams::bytes* id = e->header_value("troupe-correlation-id");
                std::string correlation = id ? std::string(reinterpret_cast<const char*>(id->data()), id->size()) : "";
                std::cout << "ANOTHER ACTOR RECEIVED: " << e->value() << " (" << correlation << ")\n";
                replied.set_value(e->value(), std::move(correlation));
            }
        });
    app.start();

    // cast: the adder receives the value, and sends no reply.
    adder.cast(Add{1, 1}).get();
    // ask: the reply comes back to this process.
    const int value = adder.ask(Add{2, 2}, 10s).get();
    std::cout << "ASKED: " << value << '\n';
    check(value == 4, "the ask was answered: 2 + 2 = 4");
    // send: the reply goes to another agent's topic.
    adder.send(Add{3, 3}, {.reply_to = another_actor.source().name(), .correlation_id = "add-3-3"}).get();
    const auto [reply, correlation] = replied.get_future().get();
    check(reply == 6 && correlation == "add-3-3", "the reply of the send went to another_actor, with its id");

    app.stop();
    check(sums == std::vector<int>{2, 4, 6}, "the adder received the cast, the ask and the send");
    // The app's reply topic ("cast-ask-send-reply-<pid>-<n>") holds the one reply of the ask.
    const auto topics = app.broker().topics();
    const auto reply_topic = std::find_if(topics.begin(), topics.end(),
                                          [](const std::string& t) { return t.starts_with("cast-ask-send-reply-"); });
    check(reply_topic != topics.end() && app.broker().end_offset({*reply_topic, 0}) == 1U,
          "only the ask was replied to in this process: the cast got no reply");
    return example::exit_status();
}
