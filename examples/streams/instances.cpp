// Two instances of one app share the partitions of its agent's topic, as worker processes
// would: the second's start is a rebalance, and its stop another. A partition changes hands
// only once the instance giving it up has finished what it read of it and committed, so every
// order is billed once while instances come and go.

#include <troupe/streams/app.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;

/// What both instances billed: how often each order, and by which instance.
struct billing_book {
    std::mutex lock;
    std::map<int, int> times;
    std::map<std::string, int> by;
    int total = 0;
    troupe::promise<void> reached;
    int wanted = 0;

    troupe::future<void> when(int n) {
        const std::lock_guard guard(lock);
        reached = troupe::promise<void>();
        wanted = n;
        if (total >= n) {
            reached.set_value();
        }
        return reached.get_future();
    }
    int billed_by(const std::string& instance) {
        const std::lock_guard guard(lock);
        return by[instance];
    }
    void bill(const std::string& instance, int order) {
        const std::lock_guard guard(lock);
        ++times[order];
        ++by[instance];
        if (++total == wanted) {
            reached.set_value();
        }
    }
};

/// One instance of the app "billing": an agent over "orders" (4 partitions).
struct instance {
    instance(billing_book& book, const std::string& name)
        : app("billing", {.broker = "memory://instances"}),
          orders(app.topic<std::string, int>("orders", {.partitions = 4})) {
        app.agent("bill", orders, [&book, name](streams::stream<std::string, int>& s) -> troupe::task<void> {
            while (std::optional<int> order = co_await s.next()) {
                book.bill(name, *order);
            }
        });
    }
    streams::app app;
    const streams::topic<std::string, int>& orders;
};

void send_orders(const streams::topic<std::string, int>& orders, int from, int to) {
    for (int i = from; i < to; ++i) {
        orders.send(i, {.key = "customer-" + std::to_string(i % 10)}).get();
    }
}

int main() {
    using namespace std::chrono_literals;
    billing_book book;
    instance one(book, "one");
    one.app.start();
    send_orders(one.orders, 0, 100);
    check(book.when(100).wait_for(30s), "instance one billed the first 100 orders");

    auto two = std::make_unique<instance>(book, "two");
    two->app.start();  // two of the four partitions go over to it, once one has let go of them
    send_orders(one.orders, 100, 200);
    check(book.when(200).wait_for(30s), "the next 100 were billed, by both");
    std::cout << "instance two billed " << book.billed_by("two") << " of orders 100 to 199\n";
    check(book.billed_by("two") > 0, "instance two took its share");

    two->app.stop();  // it commits and leaves: its partitions go back to one
    two.reset();
    send_orders(one.orders, 200, 300);
    check(book.when(300).wait_for(30s), "instance one billed the last 100 alone");
    one.app.stop();

    bool once = book.times.size() == 300;
    for (const auto& [order, times] : book.times) {
        once = once && times == 1;
    }
    check(once, "every order was billed exactly once");
    return example::exit_status();
}
