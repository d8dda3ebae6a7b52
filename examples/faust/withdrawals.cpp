// Faust's Streams guide, "Basics": a Withdrawal record, and a task of the app that iterates the
// stream of the "withdrawals" topic; and a topic without a value type, whose values are the raw
// bytes of each message.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

struct Withdrawal {
    std::string account;
    double amount = 0;
};
TROUPE_RECORD(Withdrawal, account, amount);

namespace streams = troupe::streams;
using example::check;

int main() {
    streams::app app{"example-app", {.broker = "memory://withdrawals", .topic_partitions = 1}};
    auto& withdrawals_topic = app.topic<std::string, Withdrawal>("withdrawals");
    auto& messages_topic = app.topic<std::string, streams::bytes>("messages");

    // Streams are made before start(), and iterated by the app's tasks.
    auto& withdrawals = app.stream(withdrawals_topic);
    double total = 0;
    troupe::promise<void> three_withdrawals;
    app.task([&]() -> troupe::task<void> {
        int seen = 0;
        while (std::optional<Withdrawal> w = co_await withdrawals.next()) {
            std::cout << w->amount << '\n';
            total += w->amount;
            if (++seen == 3) {
                three_withdrawals.set_value();
            }
        }
    });

    // The topic's values are bytes: each message's value as it is.
    auto& messages = app.stream(messages_topic);
    std::vector<streams::bytes> raw;
    troupe::promise<void> two_messages;
    app.task([&]() -> troupe::task<void> {
        while (std::optional<streams::bytes> value = co_await messages.next()) {
            std::cout << std::string(reinterpret_cast<const char*>(value->data()), value->size()) << '\n';
            raw.push_back(std::move(*value));
            if (raw.size() == 2) {
                two_messages.set_value();
            }
        }
    });

    app.start();
    withdrawals_topic.send(Withdrawal{"alice", 12.5}).get();
    withdrawals_topic.send(Withdrawal{"bob", 30}).get();
    withdrawals_topic.send(Withdrawal{"alice", 7.25}).get();
    messages_topic.send(streams::bytes_of("hello")).get();
    messages_topic.send(streams::bytes_of(R"({"not":"decoded"})")).get();
    three_withdrawals.get_future().get();
    two_messages.get_future().get();
    app.stop();

    check(total == 49.75, "the task read the three withdrawals: 12.5 + 30 + 7.25");
    check(raw == std::vector<streams::bytes>{streams::bytes_of("hello"), streams::bytes_of(R"({"not":"decoded"})")},
          "the bytes topic gave each message's value as it was sent");
    check(app.broker().committed("example-app-stream-1", {"withdrawals", 0}) == 3U,
          "the withdrawals stream committed in its own group, example-app-stream-1");
    check(app.broker().committed("example-app-stream-2", {"messages", 0}) == 2U,
          "and the messages stream in example-app-stream-2");
    return example::exit_status();
}
