// Faust's Streams guide, "Message Lifecycle" ("Acknowledgment") and "events() -- Access raw
// messages": whole events with their message's metadata and bytes, acknowledged by hand with
// event.ack(), or when a block ends with ack_at_exit() (Faust's `async with event:`).

#include <troupe/streams/app.hpp>

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"
#include "../collected.hpp"

namespace streams = troupe::streams;
using example::check;

struct Order {
    std::string account_id;
    int amount = 0;
};
TROUPE_RECORD(Order, account_id, amount);

/// What a reader saw of one event.
struct seen {
    std::string topic;
    std::uint32_t partition = 0;
    std::uint64_t offset = 0;
    std::string key_bytes;
    std::string value_bytes;
    std::string key;
    int amount = 0;
    bool acked_before = false;
    bool acked_after = false;
};

std::string text_of(const streams::bytes& b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

int main() {
    streams::app app{"events", {.broker = "memory://events", .topic_partitions = 1}};
    auto& orders = app.topic<std::string, Order>("orders");
    using order_stream = streams::stream<std::string, Order>;

    // Each agent reads in a group of its own: both see every order, and each commits for itself.
    example::collected<seen> acked_by_hand(3);
    app.agent("process_a", orders, [&](order_stream& stream) -> troupe::task<void> {
        auto events = stream.events();
        while (std::optional<streams::event<std::string, Order>> event = co_await events.next()) {
            std::cout << "A: " << event->value().amount << '\n';
            seen s;
            s.amount = event->value().amount;
            s.acked_before = event->acked();
            event->ack();
            s.acked_after = event->acked();
            acked_by_hand.add(std::move(s));
        }
    });

    example::collected<seen> acked_at_exit(3);
    app.agent("process_b", orders, [&](order_stream& stream) -> troupe::task<void> {
        auto events = stream.events();
        while (std::optional<streams::event<std::string, Order>> event = co_await events.next()) {
            seen s;
            {
                const streams::ack_guard done = event->ack_at_exit();  // acked when this block ends
                const streams::record& message = event->message();
                s.topic = message.topic;
                s.partition = message.partition;
                s.offset = message.offset;
                s.key_bytes = text_of(message.key);
                s.value_bytes = text_of(message.value);
                s.key = event->key();
                s.amount = event->value().amount;
                s.acked_before = event->acked();
            }
            s.acked_after = event->acked();
            std::cout << "B: " << s.topic << '/' << s.partition << '@' << s.offset << " key " << s.key_bytes
                      << " value " << s.value_bytes << '\n';
            acked_at_exit.add(std::move(s));
        }
    });

    app.start();
    for (int i = 1; i <= 3; ++i) {
        const std::string account = "account-" + std::to_string(i);
        orders.send(Order{account, i * 10}, {.key = account}).get();
    }
    const auto& a = acked_by_hand.get();
    const auto& b = acked_at_exit.get();
    app.stop();

    bool by_hand = a.size() == 3;
    for (std::size_t i = 0; i < a.size(); ++i) {
        by_hand = by_hand && a[i].amount == static_cast<int>(i + 1) * 10 && !a[i].acked_before && a[i].acked_after;
    }
    check(by_hand, "process_a saw every order, unacknowledged until event.ack()");
    bool at_exit = b.size() == 3;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const std::string account = "account-" + std::to_string(i + 1);
        at_exit = at_exit && b[i].topic == "orders" && b[i].partition == 0 && b[i].offset == i &&
                  b[i].key_bytes == account && b[i].key == account &&
                  b[i].value_bytes == streams::to_json(Order{account, static_cast<int>(i + 1) * 10}) &&
                  !b[i].acked_before && b[i].acked_after;
    }
    check(at_exit, "process_b saw every message's metadata and bytes, acknowledged when its block ended");
    check(app.broker().committed("events-process_a", {"orders", 0}) == 3U &&
              app.broker().committed("events-process_b", {"orders", 0}) == 3U,
          "each agent committed the three orders in its own group");
    return example::exit_status();
}
