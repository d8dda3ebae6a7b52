// Faust's "Actors" guide, "The Stream" (examples/groupby.py), and the Streams guide's
// "group_by() -- Repartition the stream": an agent repartitions its stream by a field of the
// record, or by a function of the value, so the values of one key always reach the same reader.

#include <troupe/streams/app.hpp>

#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../check.hpp"

struct BankTransfer {
    std::string account_id;
    double amount = 0;
};
TROUPE_RECORD(BankTransfer, account_id, amount);

struct Order {
    std::string account_id;
    std::string product_id;
    double amount = 0;
    double price = 0;
};
TROUPE_RECORD(Order, account_id, product_id, amount, price);

namespace streams = troupe::streams;
using example::check;

/// What each reader saw: the partitions each key was read in, and the topic it came from.
class seen {
public:
    explicit seen(std::size_t expected) : left_(expected) {}
    void add(const std::string& key, const streams::record& from) {
        const std::lock_guard guard(lock_);
        partitions_[key].insert(from.partition);
        topics_.insert(from.topic);
        if (--left_ == 0) {
            done_.set_value();
        }
    }
    /// Waits until every value has been seen.
    void wait() { done_.get_future().get(); }
    bool each_key_in_one_partition() const {
        for (const auto& [key, partitions] : partitions_) {
            if (partitions.size() != 1) {
                return false;
            }
        }
        return true;
    }
    std::size_t keys() const { return partitions_.size(); }
    const std::set<std::string>& topics() const { return topics_; }

private:
    std::mutex lock_;
    std::size_t left_;
    std::map<std::string, std::set<std::uint32_t>> partitions_;
    std::set<std::string> topics_;
    troupe::promise<void> done_;
};

// The function form: the values are JSON text, not records, and the key is taken out by hand.
struct AccountOnly {
    std::string account_id;
};
TROUPE_RECORD(AccountOnly, account_id);
std::string get_order_account_id(const std::string& order) {
    return streams::from_json<AccountOnly>(order).account_id;  // the other fields are skipped
}

int main() {
    streams::app app{"groupby", {.broker = "memory://groupby", .topic_partitions = 4}};
    auto& topic = app.topic<std::string, BankTransfer>("groupby");
    auto& orders_topic = app.topic<std::string, Order>("orders");
    auto& order_text_topic = app.topic<std::string, std::string>("order");
    const std::vector<std::string> accounts{"alice", "bob", "carol", "dave", "erin"};
    const std::size_t n = 20;

    seen transfers(n);
    app.agent("stream", topic, [&](streams::stream<std::string, BankTransfer>& s) -> troupe::task<void> {
        // Transfers are now distributed such that transfers with the same account_id always
        // arrive at the same reader: the stream of "groupby-stream-account_id-repartition",
        // keyed by account_id.
        auto& by_account = s.group_by(&BankTransfer::account_id);
        while (std::optional<BankTransfer> transfer = co_await by_account.next()) {
            transfers.add(by_account.key(), *by_account.event());
        }
    });

    seen orders(n);
    app.agent("process", orders_topic, [&](streams::stream<std::string, Order>& s) -> troupe::task<void> {
        auto& by_account = s.group_by(&Order::account_id);
        while (std::optional<Order> order = co_await by_account.next()) {
            orders.add(order->account_id, *by_account.event());
        }
    });

    seen order_texts(n);
    app.agent("process_text", order_text_topic,
              [&](streams::stream<std::string, std::string>& s) -> troupe::task<void> {
                  // A function needs a name: it names the intermediate topic.
                  auto& by_account = s.group_by(get_order_account_id, "account_id");
                  while (std::optional<std::string> order = co_await by_account.next()) {
                      order_texts.add(by_account.key(), *by_account.event());
                  }
              });

    app.start();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& account = accounts[i % accounts.size()];
        const auto amount = static_cast<double>(i + 1);
        // No key: the records go to the partitions in turn, each account's spread over all four.
        topic.send(BankTransfer{account, amount}).get();
        orders_topic.send(Order{account, "p" + std::to_string(i % 3), amount, 9.5}).get();
        std::string text = streams::to_json(Order{account, "p" + std::to_string(i % 3), amount, 9.5});
        order_text_topic.send(text).get();
    }
    transfers.wait();
    orders.wait();
    order_texts.wait();
    app.stop();

    check(transfers.keys() == accounts.size() && transfers.each_key_in_one_partition(),
          "group_by(&BankTransfer::account_id): each account was read in one partition");
    check(transfers.topics() == std::set<std::string>{"groupby-stream-account_id-repartition"},
          "from the intermediate topic <app id>-<agent name>-<field>-repartition");
    check(orders.keys() == accounts.size() && orders.each_key_in_one_partition(),
          "group_by(&Order::account_id): each account's orders were read in one partition");
    check(order_texts.keys() == accounts.size() && order_texts.each_key_in_one_partition(),
          "group_by(get_order_account_id, name): the same with a function");
    check(order_texts.topics() == std::set<std::string>{"groupby-process_text-account_id-repartition"},
          "whose name names the intermediate topic");
    std::cout << "repartitioned through " << *transfers.topics().begin() << ", " << *orders.topics().begin() << " and "
              << *order_texts.topics().begin() << '\n';
    return example::exit_status();
}
