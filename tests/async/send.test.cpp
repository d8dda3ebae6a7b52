#include <troupe/async/send.hpp>

#include <troupe/async/cancel_scope.hpp>
#include <troupe/core/system.hpp>
#include <troupe/testing/test_system.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/test_support.hpp"

namespace send_tests {

using namespace std::chrono_literals;
using troupe_test::bounded;
using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

/// A message that counts the instances holding a value (a moved-from one holds none), so that
/// a test sees every message destroyed exactly once.
struct item {
    item(int s, int q) : sender(s), seq(q) { live.fetch_add(1); }
    item(const item& o) : sender(o.sender), seq(o.seq), owns(o.owns) {
        if (owns) {
            live.fetch_add(1);
        }
    }
    item(item&& o) noexcept : sender(o.sender), seq(o.seq), owns(std::exchange(o.owns, false)) {}
    item& operator=(const item&) = delete;
    ~item() {
        if (owns) {
            live.fetch_sub(1);
        }
    }

    int sender;
    int seq;
    bool owns = true;
    static inline std::atomic<int> live{0};
};

std::string label(int sender, int seq) {
    return std::to_string(sender) + "." + std::to_string(seq);
}

/// Holds the sink: its coroutine handler sets `entered`, then waits for `release`. Under
/// reentrancy::none its mailbox waits meanwhile: messages that arrive are held back, and keep
/// their slots of a bounded mailbox, so nothing makes room until the release.
struct hold {
    troupe::promise<void> entered;
    troupe::future<void> release;
};

/// Records "got <sender>.<seq>" for every item it handles.
class sink : public troupe::actor {
public:
    explicit sink(journal& events) : events_(events) {}
    troupe::task<void> handle(hold h) {
        h.entered.set_value();
        troupe::future<void> release = std::move(h.release);
        try {
            co_await std::move(release);
        } catch (const troupe::cancelled&) {  // the sink stops or is killed while held
        }
    }
    void handle(item m) { events_.add("got " + label(m.sender, m.seq)); }

private:
    journal& events_;
};

/// Holds `s` (see hold) until `release` is set; returns once it holds.
void hold_sink(const troupe::ref<sink>& s, troupe::promise<void>& release) {
    troupe::promise<void> entered;
    auto in = entered.get_future();
    s.tell(hold{std::move(entered), release.get_future()});
    in.get(patience());
}

struct produce {
    int count;
};
struct produce_within {
    int count;
    std::chrono::milliseconds deadline;
};
struct progress {};

/// Sends items `<id>.0`, `<id>.1`, ... to a sink with `co_await send`, one at a time; records
/// "sent <id>.<seq>" in `events` (if given) after each. Under reentrancy::interleave, a
/// progress ask is answered while the producing coroutine is suspended: since the coroutine
/// runs without a break until it suspends, the answer says where it first waited.
template <troupe::reentrancy Policy>
class basic_producer : public troupe::actor {
public:
    static constexpr troupe::reentrancy reentrancy_policy = Policy;
    basic_producer(troupe::ref<sink> to, int id, journal* events) : to_(std::move(to)), id_(id), events_(events) {}

    troupe::task<std::string> handle(produce p) {
        std::string outcome = co_await send_all(p.count);
        co_return outcome;
    }
    troupe::task<std::string> handle(produce_within p) {
        troupe::task<std::string> all = send_all(p.count);
        std::optional<std::string> outcome = co_await troupe::move_on_after(p.deadline, std::move(all));
        co_return outcome ? *outcome : "gave up after " + std::to_string(sent_);
    }
    int handle(progress) { return sent_; }

private:
    troupe::task<std::string> send_all(int count) {
        for (int i = 0; i < count; ++i) {
            item m(id_, i);  // named first: GCC 12 mishandles temporaries inside a co_await
            try {
                co_await to_.send(std::move(m));
            } catch (const troupe::actor_dead&) {
                co_return "actor_dead after " + std::to_string(sent_);
            }
            ++sent_;
            if (events_ != nullptr) {
                events_->add("sent " + label(id_, i));
            }
        }
        co_return "sent " + std::to_string(sent_);
    }

    troupe::ref<sink> to_;
    int id_;
    journal* events_;
    int sent_ = 0;
};
using producer = basic_producer<troupe::reentrancy::interleave>;
using strict_producer = basic_producer<troupe::reentrancy::none>;

std::vector<std::string> got_items(int sender, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) {
        out.push_back("got " + label(sender, i));
    }
    return out;
}

std::size_t suspended_senders(const troupe::ref<sink>& s) {
    return s.local_cell()->suspended_senders();
}

class send_test : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(item::live.load(), 0) << "an earlier test leaked items"; }
    void TearDown() override { EXPECT_EQ(item::live.load(), 0) << "every message is destroyed once"; }
};

// (1) and (6): whatever the policy, a full mailbox makes the awaited send wait, then every
// message arrives, in order, and none is dropped or refused.
class send_policy : public send_test, public ::testing::WithParamInterface<troupe::overflow> {};

TEST_P(send_policy, a_full_mailbox_suspends_the_sender_until_there_is_room) {
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(1, GetParam()), got);
    troupe::promise<void> release;
    hold_sink(s, release);

    auto p = sys.spawn<producer>(s, 1, nullptr);
    auto done = p.ask(produce{20});
    // The sink is held, its one slot taken by item 1.0: the producer waits, and its worker is
    // free (it answers the progress ask). A send that blocked its thread, failed or dropped the
    // message would answer something else, or nothing.
    EXPECT_EQ(p.ask(progress{}).get(patience()), 1);
    EXPECT_EQ(suspended_senders(s), 1u);
    EXPECT_FALSE(done.ready());
    EXPECT_EQ(item::live.load(), 2) << "1.0 held back by the sink, 1.1 in the suspended send";

    release.set_value();
    EXPECT_EQ(done.get(patience()), "sent 20");
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_EQ(got.entries(), got_items(1, 0, 20));
    EXPECT_EQ(suspended_senders(s), 0u);
    EXPECT_EQ(sys.dead_letters(), 0u);
}

INSTANTIATE_TEST_SUITE_P(every_policy, send_policy,
                         ::testing::Values(troupe::overflow::block, troupe::overflow::drop_newest,
                                           troupe::overflow::drop_oldest, troupe::overflow::fail),
                         [](const auto& param_info) {
                             switch (param_info.param) {
                                 case troupe::overflow::block:
                                     return std::string("block");
                                 case troupe::overflow::drop_newest:
                                     return std::string("drop_newest");
                                 case troupe::overflow::drop_oldest:
                                     return std::string("drop_oldest");
                                 default:
                                     return std::string("fail");
                             }
                         });

// (1), exactly: on a test system every turn runs in a known order, so the journal shows the
// producer waiting for each message to be taken before the next one gets in.
TEST_F(send_test, with_room_for_one_each_send_waits_for_the_previous_message_to_be_taken) {
    journal events;
    troupe::testing::test_system ts;
    auto s = ts.spawn<sink>(bounded(1, troupe::overflow::fail), events);
    auto p = ts.spawn<producer>(s, 1, &events);
    EXPECT_EQ(ts.await(p.ask(produce{3})), "sent 3");
    ts.run();
    EXPECT_EQ(events.entries(),
              (std::vector<std::string>{"sent 1.0", "got 1.0", "sent 1.1", "got 1.1", "sent 1.2", "got 1.2"}));
}

// (5)
TEST_F(send_test, an_unbounded_mailbox_never_makes_the_sender_wait) {
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(got);
    troupe::promise<void> release;
    hold_sink(s, release);
    auto p = sys.spawn<producer>(s, 1, nullptr);
    // All of them while the sink is held: a send that waited for room would never end here.
    EXPECT_EQ(p.ask(produce{100}).get(patience()), "sent 100");
    EXPECT_EQ(item::live.load(), 100);
    release.set_value();
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_EQ(got.entries(), got_items(1, 0, 100));
}

// (2)
class send_target_ends : public send_test, public ::testing::WithParamInterface<bool> {};

TEST_P(send_target_ends, every_suspended_sender_gets_actor_dead_and_nothing_of_theirs_arrives) {
    const bool kill = GetParam();
    troupe_test::log_capture quiet;  // a kill refuses 1.0: a dead letter, logged
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(1, troupe::overflow::block), got);
    troupe::promise<void> release;
    hold_sink(s, release);
    auto p1 = sys.spawn<producer>(s, 1, nullptr);
    auto p2 = sys.spawn<producer>(s, 2, nullptr);
    auto done1 = p1.ask(produce{5});
    EXPECT_EQ(p1.ask(progress{}).get(patience()), 1) << "1.0 got in, 1.1 waits";
    auto done2 = p2.ask(produce{5});
    EXPECT_EQ(p2.ask(progress{}).get(patience()), 0) << "2.0 waits";
    EXPECT_EQ(suspended_senders(s), 2u);

    std::optional<troupe::future<bool>> stopping;
    if (kill) {
        EXPECT_TRUE(s.kill());
    } else {
        stopping = s.stop_async();
    }
    EXPECT_EQ(done1.get(patience()), "actor_dead after 1");
    EXPECT_EQ(done2.get(patience()), "actor_dead after 0");
    s.terminated().get(patience());
    if (stopping) {
        EXPECT_TRUE(stopping->get(patience()));
    }
    EXPECT_EQ(suspended_senders(s), 0u);
    // A stop handles what was queued before it (1.0); a kill refuses it. Never 1.1 nor 2.0.
    EXPECT_EQ(got.entries(), kill ? std::vector<std::string>{} : got_items(1, 0, 1));
    release.set_value();
}

INSTANTIATE_TEST_SUITE_P(stop_or_kill, send_target_ends, ::testing::Values(false, true),
                         [](const auto& param_info) { return std::string(param_info.param ? "killed" : "stopped"); });

TEST_F(send_test, a_target_already_dead_makes_the_send_throw_actor_dead) {
    journal got;
    troupe::system sys(small_system());
    auto bounded_sink = sys.spawn<sink>(bounded(4, troupe::overflow::fail), got);
    auto unbounded_sink = sys.spawn<sink>(got);
    EXPECT_TRUE(bounded_sink.stop(patience()));
    EXPECT_TRUE(unbounded_sink.stop(patience()));
    // Unlike a tell from inside an actor (a dead letter), the awaited send throws.
    auto p1 = sys.spawn<producer>(bounded_sink, 1, nullptr);
    auto p2 = sys.spawn<producer>(unbounded_sink, 2, nullptr);
    EXPECT_EQ(p1.ask(produce{3}).get(patience()), "actor_dead after 0");
    EXPECT_EQ(p2.ask(produce{3}).get(patience()), "actor_dead after 0");
    EXPECT_EQ(sys.dead_letters(), 0u);
    EXPECT_TRUE(got.entries().empty());
}

// (3)
TEST_F(send_test, stopping_the_sender_cancels_its_send_and_the_target_forgets_it) {
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(1, troupe::overflow::fail), got);
    troupe::promise<void> release;
    hold_sink(s, release);
    auto p = sys.spawn<producer>(s, 1, nullptr);
    auto done = p.ask(produce{3});
    EXPECT_EQ(p.ask(progress{}).get(patience()), 1);
    EXPECT_EQ(suspended_senders(s), 1u);
    EXPECT_EQ(item::live.load(), 2);

    EXPECT_TRUE(p.stop(patience()));
    EXPECT_THROW(done.get(patience()), troupe::cancelled);
    EXPECT_EQ(suspended_senders(s), 0u) << "the sender unregistered";
    EXPECT_EQ(item::live.load(), 1) << "1.1 was destroyed; 1.0 is still held by the sink";

    // The slot 1.0 frees finds no sender to hand itself to, and touches none.
    release.set_value();
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_EQ(got.entries(), got_items(1, 0, 1));
}

TEST_F(send_test, under_reentrancy_none_stopping_the_suspended_sender_cancels_its_send) {
    journal got;
    troupe::testing::test_system ts;
    auto s = ts.spawn<sink>(bounded(1, troupe::overflow::drop_newest), got);
    troupe::promise<void> release;
    troupe::promise<void> entered;
    s.tell(hold{std::move(entered), release.get_future()});
    auto p = ts.spawn<strict_producer>(s, 1, nullptr);
    auto done = p.ask(produce{3});
    ts.run();  // nothing more can run: the producer waits for room, the sink for the release
    EXPECT_FALSE(done.ready());
    EXPECT_EQ(suspended_senders(s), 1u);
    EXPECT_EQ(item::live.load(), 2);

    EXPECT_TRUE(ts.stop(p));
    EXPECT_THROW(ts.await(std::move(done)), troupe::cancelled);
    EXPECT_EQ(suspended_senders(s), 0u);
    EXPECT_EQ(item::live.load(), 1);
    release.set_value();
    ts.run();
    EXPECT_EQ(got.entries(), got_items(1, 0, 1));
}

TEST_F(send_test, a_cancel_scope_deadline_ends_a_suspended_send) {
    journal got;
    troupe::testing::test_system ts;
    auto s = ts.spawn<sink>(bounded(1, troupe::overflow::fail), got);
    troupe::promise<void> release;
    troupe::promise<void> entered;
    s.tell(hold{std::move(entered), release.get_future()});
    auto p = ts.spawn<producer>(s, 1, nullptr);
    auto done = p.ask(produce_within{3, 50ms});
    ts.run();
    EXPECT_EQ(suspended_senders(s), 1u);
    ts.advance(49ms);
    EXPECT_FALSE(done.ready());
    ts.advance(1ms);
    EXPECT_EQ(ts.await(std::move(done)), "gave up after 1");
    EXPECT_EQ(suspended_senders(s), 0u);
    EXPECT_EQ(item::live.load(), 1);
    release.set_value();
    ts.run();
    EXPECT_EQ(got.entries(), got_items(1, 0, 1));
    EXPECT_TRUE(p.alive()) << "only the scope was cancelled, not the actor";
}

// (4)
TEST_F(send_test, many_senders_into_a_small_mailbox_deliver_everything_in_each_senders_order) {
    constexpr int senders = 4;
    constexpr int each = 1000;
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(8, troupe::overflow::fail), got);
    troupe::promise<void> release;
    hold_sink(s, release);
    std::vector<troupe::ref<producer>> producers;
    std::vector<troupe::future<std::string>> done;
    for (int id = 1; id <= senders; ++id) {
        producers.push_back(sys.spawn<producer>(s, id, nullptr));
        done.push_back(producers.back().ask(produce{each}));
    }
    // Each answers once its coroutine first waits: all of them start suspended, the slow path.
    int first_in = 0;
    for (auto& p : producers) {
        first_in += p.ask(progress{}).get(patience());
    }
    EXPECT_EQ(first_in, 8) << "exactly the capacity got in while the sink was held";
    EXPECT_EQ(suspended_senders(s), static_cast<std::size_t>(senders));

    release.set_value();
    for (auto& d : done) {
        EXPECT_EQ(d.get(patience()), "sent " + std::to_string(each));
    }
    EXPECT_TRUE(s.stop(patience()));
    std::array<int, senders + 1> next{};
    int total = 0;
    for (const std::string& e : got.entries()) {
        int sender = 0;
        int seq = 0;
        ASSERT_EQ(std::sscanf(e.c_str(), "got %d.%d", &sender, &seq), 2) << e;
        ASSERT_TRUE(sender >= 1 && sender <= senders) << e;
        ASSERT_EQ(seq, next[sender]) << "sender " << sender << " out of order";
        ++next[sender];
        ++total;
    }
    EXPECT_EQ(total, senders * each);
    EXPECT_EQ(suspended_senders(s), 0u);
}

/// Checks that `entries` holds, for each sender 1..senders, the items 0, 1, ... in order with
/// no gap, and returns how many of each.
std::vector<int> count_in_order(const std::vector<std::string>& entries, int senders) {
    std::vector<int> next(static_cast<std::size_t>(senders) + 1, 0);
    for (const std::string& e : entries) {
        int sender = 0;
        int seq = 0;
        EXPECT_EQ(std::sscanf(e.c_str(), "got %d.%d", &sender, &seq), 2) << e;
        if (sender < 1 || sender > senders) {
            ADD_FAILURE() << "unexpected " << e;
            continue;
        }
        EXPECT_EQ(seq, next[static_cast<std::size_t>(sender)]) << "sender " << sender << ": a gap or a reordering";
        next[static_cast<std::size_t>(sender)] = seq + 1;
    }
    return next;
}

// (2) and (4) racing: the stop lands anywhere among hand-offs and fast sends. A stop handles
// what was queued before it, so what each sender was told got in is exactly what was handled.
TEST_F(send_test, a_stop_racing_the_senders_delivers_exactly_what_each_was_told_got_in) {
    constexpr int senders = 4;
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(8, troupe::overflow::fail), got);
    std::vector<troupe::ref<producer>> producers;
    std::vector<troupe::future<std::string>> done;
    for (int id = 1; id <= senders; ++id) {
        producers.push_back(sys.spawn<producer>(s, id, nullptr));
        done.push_back(producers.back().ask(produce{1000}));
    }
    // Once the first sender has waited for room, stop the sink while they all go on sending.
    static_cast<void>(producers[0].ask(progress{}).get(patience()));
    EXPECT_TRUE(s.stop(patience()));
    const std::vector<int> received = count_in_order(got.entries(), senders);
    for (int id = 1; id <= senders; ++id) {
        const std::string outcome = done[static_cast<std::size_t>(id - 1)].get(patience());
        const int n = received[static_cast<std::size_t>(id)];
        EXPECT_TRUE(outcome == "actor_dead after " + std::to_string(n) || (n == 1000 && outcome == "sent 1000"))
            << "sender " << id << ": " << outcome << ", but " << n << " were handled";
    }
    EXPECT_EQ(suspended_senders(s), 0u);
}

// (3) racing: senders stopped while they send, suspended or not. The claims of the target and
// of the cancellations race; each message is delivered once or destroyed, never both.
TEST_F(send_test, stopping_senders_while_they_send_leaves_no_gap_and_no_waiter) {
    constexpr int senders = 4;
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(2, troupe::overflow::fail), got);
    std::vector<troupe::ref<producer>> producers;
    std::vector<troupe::future<std::string>> done;
    for (int id = 1; id <= senders; ++id) {
        producers.push_back(sys.spawn<producer>(s, id, nullptr));
        done.push_back(producers.back().ask(produce{100000}));
    }
    for (auto& p : producers) {
        EXPECT_TRUE(p.stop(patience()));
    }
    for (auto& d : done) {
        try {
            EXPECT_EQ(d.get(patience()), "sent 100000") << "finished before its stop, or cancelled";
        } catch (const troupe::cancelled&) {  // the usual outcome
        }
    }
    EXPECT_EQ(suspended_senders(s), 0u) << "every cancelled sender unregistered";
    EXPECT_TRUE(s.stop(patience()));
    count_in_order(got.entries(), senders);
}

// Misuse, and sends outside actors.

TEST_F(send_test, awaiting_a_send_outside_an_actor_is_an_error) {
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(bounded(2, troupe::overflow::fail), got);
    {
        troupe::detail::send_awaiter outside(s.send(item(0, 0)));
        EXPECT_THROW(static_cast<void>(outside.await_ready()), troupe::error);
    }
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_TRUE(got.entries().empty());
}

TEST_F(send_test, a_send_that_is_never_awaited_sends_nothing) {
    journal got;
    troupe::system sys(small_system());
    auto s = sys.spawn<sink>(got);
    {
        auto unsent = s.send(item(0, 0));
        EXPECT_EQ(item::live.load(), 1);
    }
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_TRUE(got.entries().empty());
}

TEST_F(send_test, an_empty_ref_throws_at_the_send) {
    troupe::ref<sink> nobody;
    EXPECT_THROW(static_cast<void>(nobody.send(item(0, 0))), troupe::actor_dead);
}

struct flood {
    int count;
};
/// Sends to itself, with room for one message.
class loopback : public troupe::actor {
public:
    explicit loopback(journal& events) : events_(events) {}
    troupe::task<std::string> handle(flood f) {
        troupe::ref self{this};
        for (int i = 0; i < f.count; ++i) {
            item m(0, i);
            co_await self.send(std::move(m));
        }
        co_return "sent";
    }
    void handle(item m) { events_.add("got " + label(m.sender, m.seq)); }

private:
    journal& events_;
};

TEST_F(send_test, under_reentrancy_none_waiting_for_room_in_its_own_mailbox_fails_fast) {
    journal got;
    troupe::system sys(small_system());
    auto l = sys.spawn<loopback>(bounded(1, troupe::overflow::block), got);
    // The first fits (the flood's own slot was freed as it was handled); the second could only
    // get in once this very coroutine ended.
    EXPECT_EQ(l.ask(flood{1}).get(patience()), "sent");
    EXPECT_THROW(l.ask(flood{2}).get(patience()), troupe::deadlock);
    EXPECT_TRUE(l.stop(patience()));
    EXPECT_EQ(got.entries(), (std::vector<std::string>{"got 0.0", "got 0.0"}));
}

}  // namespace send_tests
