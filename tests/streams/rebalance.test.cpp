#include <troupe/streams/app.hpp>

#include <troupe/core/future.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Several instances of one app (the same id, on the same embedded broker) in one process: they
// share the partitions of their agents' topics, and a rebalance hands a partition over only
// once the instance giving it up has finished what it began of it and committed. So a value is
// processed once, neither lost nor repeated, when instances come and go; and an instance that
// takes too long gives the partition up anyway, the value then read again.

namespace {

using namespace std::chrono_literals;
using namespace troupe::streams;

/// What every instance processed: how often each value, and by whom.
class ledger {
public:
    void record(const std::string& who, int value) {
        std::vector<troupe::promise<void>> reached;
        {
            const std::lock_guard guard(lock_);
            ++seen_[value];
            ++by_[who];
            ++total_;
            std::erase_if(waiters_, [&](auto& w) {
                const bool done = w.first.has_value() ? seen_.count(*w.first) != 0 : false;
                const bool counted = !w.first.has_value() && total_ >= w.second.first;
                if (!done && !counted) {
                    return false;
                }
                reached.push_back(std::move(w.second.second));
                return true;
            });
        }
        for (auto& p : reached) {
            p.set_value();
        }
    }
    /// Completes once `n` values (repeats included) have been processed.
    troupe::future<void> when_total(int n) { return wait(std::nullopt, n); }
    /// Completes once `value` has been processed.
    troupe::future<void> when_seen(int value) { return wait(value, 0); }

    std::map<int, int> seen() const {
        const std::lock_guard guard(lock_);
        return seen_;
    }
    int by(const std::string& who) const {
        const std::lock_guard guard(lock_);
        auto it = by_.find(who);
        return it == by_.end() ? 0 : it->second;
    }

private:
    troupe::future<void> wait(std::optional<int> value, int n) {
        const std::lock_guard guard(lock_);
        troupe::promise<void> p;
        troupe::future<void> f = p.get_future();
        if (value ? seen_.count(*value) != 0 : total_ >= n) {
            p.set_value();
        } else {
            waiters_.emplace_back(value, std::pair<int, troupe::promise<void>>(n, std::move(p)));
        }
        return f;
    }

    mutable std::mutex lock_;
    std::map<int, int> seen_;
    std::map<std::string, int> by_;
    int total_ = 0;
    std::vector<std::pair<std::optional<int>, std::pair<int, troupe::promise<void>>>> waiters_;
};

/// A broker URL no other test (nor another repeat of this one) has used: named embedded brokers
/// live as long as the process.
std::string fresh(const std::string& name) {
    static std::atomic<int> runs{0};
    return "memory://" + name + "-" + std::to_string(++runs);
}

/// Gives each of `values` its own key ("k<value>"), so they spread over the partitions.
void send_keyed(const topic<std::string, int>& t, int from, int to) {
    for (int v = from; v < to; ++v) {
        t.send(v, {.key = "k" + std::to_string(v)}).get();
    }
}

/// One instance of the app "workers": an agent "work" over the topic "work" that records each
/// value in `l` as processed by `name`. A long commit interval: the only commits are the ones a
/// rebalance or a stop makes.
struct instance {
    instance(const std::string& url, ledger& l, std::string name, app_options o = {})
        : a("workers", with(url, o)), t(a.topic<std::string, int>("work", {.partitions = 4})) {
        a.agent("work", t, [&l, name = std::move(name)](stream<std::string, int>& s) -> troupe::task<void> {
            while (std::optional<int> v = co_await s.next()) {
                l.record(name, *v);
            }
        });
    }
    static app_options with(const std::string& url, app_options o) {
        o.broker = url;
        o.commit_interval = std::chrono::hours(1);
        return o;
    }
    app a;
    const topic<std::string, int>& t;
};

void expect_each_once(const ledger& l, int n) {
    const std::map<int, int> seen = l.seen();
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
    for (int v = 0; v < n; ++v) {
        auto it = seen.find(v);
        ASSERT_NE(it, seen.end()) << "value " << v << " was lost";
        EXPECT_EQ(it->second, 1) << "value " << v << " was processed " << it->second << " times";
    }
}

TEST(Rebalance, AnInstanceThatJoinsTakesPartitionsAndNothingIsProcessedTwice) {
    const std::string url = fresh("rebalance-join");
    ledger l;
    instance first(url, l, "first");
    first.a.start();
    send_keyed(first.t, 0, 200);
    ASSERT_TRUE(l.when_total(200).wait_for(60s));

    instance second(url, l, "second");
    second.a.start();  // a member of the group now: two of the four partitions are its
    send_keyed(first.t, 200, 400);
    ASSERT_TRUE(l.when_total(400).wait_for(60s));
    second.a.stop();
    first.a.stop();

    expect_each_once(l, 400);
    EXPECT_GT(l.by("second"), 0);  // the values of its partitions sent after it joined
    std::uint64_t committed = 0;
    for (std::uint32_t p = 0; p < 4; ++p) {
        committed += first.a.broker().committed("workers-work", {"work", p}).value_or(0);
    }
    EXPECT_EQ(committed, 400U);
}

TEST(Rebalance, PartitionsGoBackWhenAnInstanceStopsAndAreReadFromItsCommits) {
    const std::string url = fresh("rebalance-leave");
    ledger l;
    instance first(url, l, "first");
    first.a.start();
    send_keyed(first.t, 0, 100);
    ASSERT_TRUE(l.when_total(100).wait_for(60s));
    {
        instance second(url, l, "second");
        second.a.start();
        send_keyed(first.t, 100, 200);
        ASSERT_TRUE(l.when_total(200).wait_for(60s));
        EXPECT_GT(l.by("second"), 0);
        second.a.stop();  // commits what it finished, and leaves: its partitions come back
    }
    send_keyed(first.t, 200, 300);
    ASSERT_TRUE(l.when_total(300).wait_for(60s));
    first.a.stop();
    expect_each_once(l, 300);
}

/// An instance whose agent stops at the value 1000 until `gate` opens (after saying so).
struct holding_instance {
    holding_instance(const std::string& url, ledger& l, troupe::promise<void>& entered, troupe::promise<void>& gate,
                     app_options o = {})
        : a("holders", instance::with(url, o)), t(a.topic<std::string, int>("held", {.partitions = 2})) {
        a.agent("work", t, [&l, &entered, &gate](stream<std::string, int>& s) -> troupe::task<void> {
            while (std::optional<int> v = co_await s.next()) {
                if (*v == 1000) {
                    entered.set_value();
                    troupe::future<void> opened = gate.get_future();
                    co_await opened;
                }
                l.record("holder", *v);
            }
        });
    }
    app a;
    const topic<std::string, int>& t;
};

/// Another instance of the holders' app, whose agent holds nothing: it records each value as
/// processed by "second".
struct plain_holder {
    plain_holder(const std::string& url, ledger& l)
        : a("holders", instance::with(url, {})), t(a.topic<std::string, int>("held", {.partitions = 2})) {
        a.agent("work", t, [&l](stream<std::string, int>& s) -> troupe::task<void> {
            while (std::optional<int> v = co_await s.next()) {
                l.record("second", *v);
            }
        });
    }
    app a;
    const topic<std::string, int>& t;
};

TEST(Rebalance, AValueBeingProcessedHoldsTheHandoverUntilItIsFinished) {
    const std::string url = fresh("rebalance-hold");
    ledger l;
    troupe::promise<void> entered;
    troupe::promise<void> gate;
    holding_instance first(url, l, entered, gate);
    first.a.start();
    first.t.send(1000, {.partition = 1}).get();
    ASSERT_TRUE(entered.get_future().wait_for(60s));  // the first holds 1000 of held/1

    plain_holder second(url, l);
    second.a.start();  // held/1 is the second's, once the first has finished 1000
    second.t.send(1001, {.partition = 1}).get();
    gate.set_value();
    ASSERT_TRUE(l.when_seen(1001).wait_for(60s));
    second.a.stop();
    first.a.stop();

    const std::map<int, int> seen = l.seen();
    EXPECT_EQ(seen.at(1000), 1);  // the first finished it and committed past it before handing over
    EXPECT_EQ(seen.at(1001), 1);
    EXPECT_EQ(l.by("second"), 1);  // 1001, read from the first's commit
}

TEST(Rebalance, AHandoverCalledOffLeavesThePartitionWithItsInstanceAndLosesNothing) {
    const std::string url = fresh("rebalance-off");
    ledger l;
    troupe::promise<void> entered;
    troupe::promise<void> gate;
    holding_instance first(url, l, entered, gate);
    first.a.start();
    for (int v : {1000, 1001, 1002}) {
        first.t.send(v, {.partition = 1}).get();
    }
    ASSERT_TRUE(entered.get_future().wait_for(60s));  // 1000 held, 1001 and 1002 read behind it
    {
        plain_holder second(url, l);
        second.a.start();  // held/1 is being revoked from the first...
        second.a.stop();   // ...and stays with it: the second left before it was handed over
    }
    gate.set_value();
    first.t.send(1003, {.partition = 1}).get();
    ASSERT_TRUE(l.when_seen(1003).wait_for(60s));
    first.a.stop();
    const std::map<int, int> seen = l.seen();
    for (int v : {1000, 1001, 1002, 1003}) {
        EXPECT_EQ(seen.count(v) != 0 ? seen.at(v) : 0, 1) << v;
    }
    EXPECT_EQ(l.by("second"), 0);
}

TEST(Rebalance, AnInstanceThatTakesTooLongGivesThePartitionUpAndTheValueIsReadAgain) {
    const std::string url = fresh("rebalance-slow");
    ledger l;
    troupe::promise<void> entered;
    troupe::promise<void> gate;
    holding_instance first(url, l, entered, gate, {.rebalance_timeout = 50ms});
    first.a.start();
    first.t.send(1000, {.partition = 1}).get();
    ASSERT_TRUE(entered.get_future().wait_for(60s));

    plain_holder second(url, l);
    second.a.start();
    second.t.send(1001, {.partition = 1}).get();
    // The first never finishes 1000 while the second waits: past its rebalance timeout it gives
    // held/1 up unfinished, and the second reads 1000 again, then 1001. Nothing is lost.
    ASSERT_TRUE(l.when_seen(1001).wait_for(60s));
    EXPECT_EQ(l.seen().at(1000), 1);  // by the second: the first still holds it
    gate.set_value();                 // the first may finish it now (its ack finds no partition)
    second.a.stop();
    first.a.stop();
    EXPECT_GE(l.seen().at(1000), 1);
    EXPECT_EQ(l.seen().at(1001), 1);
}

}  // namespace
