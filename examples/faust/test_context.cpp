// Faust's "Testing" guide: an agent's function driven by agent.test_context(), with no broker
// and no worker. Here the context runs the agent's function on a broker of its own, with the
// same codecs, concurrency and bad-value policy, so a test sees what the app would do.

#include <troupe/streams/testing.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

struct Order {
    std::string account_id;
    std::string product_id;
    int amount = 0;
    double price = 0.0;
};
TROUPE_RECORD(Order, account_id, product_id, amount, price);

namespace streams = troupe::streams;
using example::check;

// The agent under test: the value of each order, in cents.
troupe::generator<long> order_value(streams::stream<std::string, Order>& orders) {
    while (std::optional<Order> order = co_await orders.next()) {
        co_yield static_cast<long>(order->amount * order->price * 100.0 + 0.5);
    }
}

int main() {
    // The app as production defines it; it is never started here, and its broker never sees a
    // value.
    streams::app app{"orders", {.broker = "memory://"}};
    auto& topic = app.topic<std::string, Order>("orders", {.partitions = 1});  // one order for all
    auto& values = app.agent("order-value", topic, order_value);

    streams::test_context tc(values);
    const long cents = tc.put(Order{"acc-1", "apple", 3, 0.5}, std::chrono::seconds(10));
    std::cout << "3 apples at 0.50 cost " << cents << " cents\n";
    check(cents == 150, "put() gave what the agent yielded for the order");

    tc.put_nowait(Order{"acc-2", "pear", 2, 1.25});
    tc.put_nowait(Order{"acc-1", "plum", 1, 0.99}, {.key = "acc-1"});
    tc.drain();  // every value sent has been finished
    check(tc.results() == std::vector<long>{150, 250, 99}, "results() is all it yielded, in order");
    check(tc.finished() == 3, "the agent finished three orders");
    return example::exit_status();
}
