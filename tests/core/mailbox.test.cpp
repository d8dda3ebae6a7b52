#include <troupe/core/mailbox.hpp>

#include "test_support.hpp"

#include <troupe/core/ref.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include <memory>
#include <string>
#include <thread>
#include <vector>

// The mailbox queue itself (FIFO, idle/ready signal, atomic close) and bounded mailboxes with
// each overflow policy (Pykka TH-05: Pykka has only an unbounded inbox).

namespace mailbox_tests {

using troupe::detail::mailbox;
using troupe_test::bounded;
using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

class test_envelope final : public troupe::detail::envelope {
public:
    explicit test_envelope(int v) : value(v) {}
    void run(troupe::actor&) override {}
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(int); }
    int value;
};

/// Owns the envelopes of a test (the mailbox never deletes them).
struct envelopes {
    std::vector<std::unique_ptr<test_envelope>> all;
    test_envelope* make(int v) {
        all.push_back(std::make_unique<test_envelope>(v));
        return all.back().get();
    }
};

int value_of(troupe::detail::envelope* e) {
    return static_cast<test_envelope*>(e)->value;
}

// ---- the queue -------------------------------------------------------------------------

TEST(mailbox, the_first_push_into_an_idle_mailbox_makes_it_ready) {
    envelopes es;
    mailbox m;
    EXPECT_EQ(m.push(es.make(1)), mailbox::push_result::became_ready);
    EXPECT_EQ(m.push(es.make(2)), mailbox::push_result::queued);
    EXPECT_EQ(value_of(m.pop()), 1);
    EXPECT_EQ(value_of(m.pop()), 2);
    EXPECT_EQ(m.pop(), nullptr);
    EXPECT_TRUE(m.try_idle());
    EXPECT_EQ(m.push(es.make(3)), mailbox::push_result::became_ready);
    EXPECT_FALSE(m.try_idle()) << "a queued message keeps the consumer running";
    EXPECT_EQ(value_of(m.pop()), 3);
    EXPECT_TRUE(m.try_idle());
}

TEST(mailbox, pops_in_fifo_order_across_refills) {
    envelopes es;
    mailbox m;
    std::vector<int> got;
    for (int i = 0; i < 10; ++i) {
        (void)m.push(es.make(i));
    }
    for (int i = 0; i < 5; ++i) {
        got.push_back(value_of(m.pop()));
    }
    for (int i = 10; i < 15; ++i) {
        (void)m.push(es.make(i));
    }
    while (auto* e = m.pop()) {
        got.push_back(value_of(e));
    }
    std::vector<int> expected;
    for (int i = 0; i < 15; ++i) {
        expected.push_back(i);
    }
    EXPECT_EQ(got, expected);
}

TEST(mailbox, push_and_close_is_the_last_message) {
    envelopes es;
    mailbox m;
    (void)m.push(es.make(1));
    EXPECT_FALSE(m.closed());
    EXPECT_EQ(m.push_and_close(es.make(2)), mailbox::push_result::queued);
    EXPECT_TRUE(m.closed());
    EXPECT_EQ(m.push(es.make(3)), mailbox::push_result::closed);
    EXPECT_EQ(m.push_and_close(es.make(4)), mailbox::push_result::closed);
    EXPECT_EQ(value_of(m.pop()), 1);
    EXPECT_EQ(value_of(m.pop()), 2);
    EXPECT_EQ(m.pop(), nullptr);
    // Closed to senders, the actor may still wait (idle) for its coroutines' resumptions.
    EXPECT_TRUE(m.try_idle());
    EXPECT_EQ(m.push(es.make(5)), mailbox::push_result::closed);
    EXPECT_EQ(m.push_internal(es.make(6)), mailbox::push_result::became_ready);
    EXPECT_EQ(m.push_internal(es.make(7)), mailbox::push_result::queued);
    EXPECT_EQ(value_of(m.pop()), 6);
    EXPECT_EQ(value_of(m.pop()), 7);
    EXPECT_TRUE(m.closed());
}

TEST(mailbox, seal_returns_every_message_not_yet_popped_in_order) {
    envelopes es;
    mailbox m;
    for (int i = 1; i <= 3; ++i) {
        (void)m.push(es.make(i));
    }
    EXPECT_EQ(value_of(m.pop()), 1);  // 2 and 3 now sit in the consumer's private list
    (void)m.push(es.make(4));
    std::vector<int> rest;
    for (auto* e = m.seal(); e != nullptr; e = e->next_) {
        rest.push_back(value_of(e));
    }
    EXPECT_EQ(rest, (std::vector<int>{2, 3, 4}));
    EXPECT_TRUE(m.closed());
    EXPECT_EQ(m.push(es.make(5)), mailbox::push_result::closed);
    EXPECT_EQ(m.push_internal(es.make(6)), mailbox::push_result::closed) << "sealed refuses everything";
}

TEST(mailbox, an_idle_mailbox_seals_empty) {
    mailbox m;
    EXPECT_EQ(m.seal(), nullptr);
    EXPECT_TRUE(m.closed());
}

// Several producers: nothing lost, each producer's messages stay in order.
TEST(mailbox, concurrent_producers_keep_their_own_order) {
    constexpr int per_producer = 20'000;
    envelopes es;
    for (int p = 0; p < 2; ++p) {
        for (int i = 0; i < per_producer; ++i) {
            (void)es.make(p * per_producer + i);
        }
    }
    mailbox m;
    std::atomic<int> ready_signals{0};
    auto produce = [&](int p) {
        for (int i = 0; i < per_producer; ++i) {
            if (m.push(es.all[p * per_producer + i].get()) == mailbox::push_result::became_ready) {
                ++ready_signals;
            }
        }
    };
    std::thread a(produce, 0);
    std::thread b(produce, 1);
    std::vector<int> last{-1, -1};
    int received = 0;
    const auto deadline = std::chrono::steady_clock::now() + patience();
    while (received < 2 * per_producer && std::chrono::steady_clock::now() < deadline) {
        if (auto* e = m.pop()) {
            const int v = value_of(e);
            const int p = v / per_producer;
            EXPECT_GT(v, last[p]);
            last[p] = v;
            ++received;
        }
    }
    a.join();
    b.join();
    EXPECT_EQ(received, 2 * per_producer);
    EXPECT_EQ(ready_signals.load(), 1) << "the consumer never went idle, so only the first push signals";
}

// ---- bounded mailboxes -------------------------------------------------------------------

TEST(mailbox, the_default_is_unbounded) {
    troupe::mailbox_options defaults;
    EXPECT_EQ(defaults.capacity, 0u);
    EXPECT_EQ(defaults.on_overflow, troupe::overflow::fail);
    EXPECT_EQ(troupe::spawn_options{}.mailbox.capacity, 0u);
}

struct item {
    int n;
};
struct hold {
    gate* entered;
    gate* release;
};
struct fill_self {};

/// Records the items it handles in a journal the test reads once the actor has stopped (a stop is
/// never refused for lack of room, and comes after every queued message).
class sink : public troupe::actor {
public:
    explicit sink(troupe_test::journal& log) : log_(log) {}
    void handle(item i) { log_.add(std::to_string(i.n)); }
    int handle(hold h) {
        h.entered->open();
        h.release->wait();
        return 0;
    }
    std::string handle(fill_self) {
        troupe::ref<sink> me{this};
        me.tell(item{100});
        try {
            me.tell(item{101});
            return "accepted";
        } catch (const troupe::mailbox_full& e) {
            return e.what();
        }
    }

private:
    troupe_test::journal& log_;
};

/// Spawns a sink with `options` and blocks it in a handler until the test opens `release`.
troupe::ref<sink> blocked_sink(troupe::system& sys, const troupe::spawn_options& options, troupe_test::journal& log,
                               gate& entered, gate& release) {
    auto r = sys.spawn<sink>(options, log);
    r.tell(hold{&entered, &release});
    EXPECT_TRUE(entered.wait());
    return r;
}

// overflow::fail: tell throws mailbox_full, ask gets a failed future; nothing is queued.
TEST(mailbox, fail_refuses_the_sender) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(2, troupe::overflow::fail), log, entered, release);
    r.tell(item{1});
    r.tell(item{2});
    try {
        r.tell(item{3});
        FAIL() << "expected troupe::mailbox_full";
    } catch (const troupe::mailbox_full& e) {
        EXPECT_EQ(std::string(e.what()),
                  r.name() + "'s mailbox is full (capacity 2): it did not take the mailbox_tests::item");
    }
    auto asked = r.ask(item{4});
    ASSERT_TRUE(asked.ready());
    try {
        asked.get();
        FAIL() << "expected troupe::mailbox_full";
    } catch (const troupe::mailbox_full& e) {
        EXPECT_EQ(std::string(e.what()), r.name() + "'s mailbox is full (capacity 2)");
    }
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(sys.dead_letters(), 0u) << "a refused sender knows: nothing went to dead letters";
}

// overflow::drop_newest: the new message goes to dead letters; an asker gets mailbox_full.
TEST(mailbox, drop_newest_drops_the_new_message) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(2, troupe::overflow::drop_newest), log, entered, release);
    r.tell(item{1});
    r.tell(item{2});
    EXPECT_NO_THROW(r.tell(item{3}));
    EXPECT_EQ(sys.dead_letters(), 1u);
    auto asked = r.ask(item{4});
    ASSERT_TRUE(asked.ready());
    EXPECT_THROW(asked.get(), troupe::mailbox_full);
    EXPECT_EQ(sys.dead_letters(), 2u);
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"1", "2"}));
}

// overflow::drop_oldest: sends always succeed; the oldest messages go to dead letters at once,
// while the consumer is still busy.
TEST(mailbox, drop_oldest_keeps_the_newest_messages) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(2, troupe::overflow::drop_oldest), log, entered, release);
    for (int i = 1; i <= 5; ++i) {
        EXPECT_NO_THROW(r.tell(item{i}));
    }
    EXPECT_EQ(sys.dead_letters(), 3u) << "a drop is counted when it happens, not when the consumer comes back";
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"4", "5"}));
    EXPECT_EQ(sys.dead_letters(), 3u);
}

// overflow::drop_oldest: an asker whose message is dropped gets mailbox_full, at once.
TEST(mailbox, drop_oldest_fails_a_dropped_ask) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(2, troupe::overflow::drop_oldest), log, entered, release);
    auto dropped = r.ask(item{1});
    r.tell(item{2});
    r.tell(item{3});
    ASSERT_TRUE(dropped.ready()) << "the asker learns while the consumer is still busy";
    try {
        dropped.get();
        FAIL() << "expected troupe::mailbox_full";
    } catch (const troupe::mailbox_full& e) {
        EXPECT_EQ(std::string(e.what()),
                  r.name() + "'s mailbox is full: the oldest message was dropped for a newer one");
    }
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"2", "3"}));
}

// A dropped ask is a dead letter like a dropped tell, whichever end of the mailbox it is dropped from.
TEST(mailbox, drop_oldest_counts_a_dropped_ask_as_a_dead_letter) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(2, troupe::overflow::drop_oldest), log, entered, release);
    auto dropped = r.ask(item{1});
    r.tell(item{2});
    r.tell(item{3});
    release.open();
    EXPECT_THROW(dropped.get(patience()), troupe::mailbox_full);
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"2", "3"}));
    EXPECT_EQ(sys.dead_letters(), 1u);
}

/// A message that counts how many of it are alive, to see what a mailbox keeps.
struct counted {
    static inline std::atomic<long> alive{0};
    counted() { ++alive; }
    counted(counted&&) noexcept { ++alive; }
    counted& operator=(counted&&) = default;
    ~counted() { --alive; }
};

class counted_sink : public sink {
public:
    using sink::handle;
    using sink::sink;
    void handle(counted) {}
};

// A bound bounds memory, whatever the policy: a stuck consumer with a drop_oldest mailbox of 8
// holds 8 messages, not every message sent since it got stuck.
TEST(mailbox, drop_oldest_bounds_memory_while_the_consumer_is_stuck) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = sys.spawn<counted_sink>(bounded(8, troupe::overflow::drop_oldest), log);
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    for (int i = 0; i < 100'000; ++i) {
        r.tell(counted{});
    }
    EXPECT_LE(counted::alive.load(), 8) << "the queue grew past its bound";
    EXPECT_EQ(sys.dead_letters(), 100'000u - 8u);
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(counted::alive.load(), 0);
}

// overflow::block: the sender waits for room; nothing is lost or reordered.
TEST(mailbox, block_makes_the_sender_wait_for_room) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(1, troupe::overflow::block), log, entered, release);
    r.tell(item{1});
    bool room_came_after_release = false;
    std::thread sender([&] {
        r.tell(item{2});  // no room until the blocked handler returns and item 1 is taken
        room_came_after_release = release.is_open();
        r.tell(item{3});
    });
    release.open();
    sender.join();
    EXPECT_TRUE(room_came_after_release);
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"1", "2", "3"}));
}

// overflow::block never blocks an actor sending to itself: that would wait for ever.
TEST(mailbox, block_fails_an_actor_sending_to_its_own_full_mailbox) {
    troupe_test::journal log;
    troupe::system sys(small_system());
    auto r = sys.spawn<sink>(bounded(1, troupe::overflow::block), log);
    EXPECT_EQ(r.ask(fill_self{}).get(patience()),
              r.name() + "'s mailbox is full (capacity 1): it did not take the mailbox_tests::item");
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), std::vector<std::string>{"100"});
}

// A sender blocked on a full mailbox is released with actor_dead when the actor stops; the stop
// request itself is never refused for lack of room.
TEST(mailbox, a_blocked_sender_gets_actor_dead_when_the_actor_stops) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(1, troupe::overflow::block), log, entered, release);
    r.tell(item{1});
    std::promise<std::string> outcome;
    std::thread sender([&] {
        try {
            r.tell(item{2});
            outcome.set_value("accepted");
        } catch (const troupe::actor_dead&) {
            outcome.set_value("actor_dead");
        }
    });
    auto stopped = r.stop_async();
    release.open();
    auto result = outcome.get_future();
    ASSERT_EQ(result.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(result.get(), "actor_dead");
    sender.join();
    EXPECT_TRUE(stopped.get(patience()));
    EXPECT_EQ(log.entries(), std::vector<std::string>{"1"});
}

// A stop request closes the mailbox: a sender blocked on it is released at once with actor_dead,
// while the handler is still busy, not once the actor has ended.
TEST(mailbox, a_stop_request_releases_a_blocked_sender_at_once) {
    troupe_test::journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = blocked_sink(sys, bounded(1, troupe::overflow::block), log, entered, release);
    r.tell(item{1});
    std::promise<std::string> outcome;
    std::thread sender([&] {
        try {
            r.tell(item{2});
            outcome.set_value("accepted");
        } catch (const troupe::actor_dead&) {
            outcome.set_value("actor_dead");
        }
    });
    auto stopped = r.stop_async();
    auto result = outcome.get_future();
    EXPECT_EQ(result.wait_for(patience()), std::future_status::ready) << "still blocked behind the busy handler";
    release.open();
    sender.join();
    EXPECT_EQ(result.get(), "actor_dead");
    EXPECT_TRUE(stopped.get(patience()));
    EXPECT_EQ(log.entries(), std::vector<std::string>{"1"});
}

// Senders blocked on a full mailbox all wake when the actor is killed, whenever the kill comes
// relative to their going to sleep (a kill between a sender's check and its wait used to leave
// it asleep for ever).
TEST(mailbox, a_kill_wakes_every_blocked_sender) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    for (int round = 0; round < 200; ++round) {
        troupe_test::journal log;
        gate entered;
        gate release;
        auto r = blocked_sink(sys, bounded(1, troupe::overflow::block), log, entered, release);
        r.tell(item{0});
        std::vector<std::future<void>> senders;
        for (int s = 0; s < 2; ++s) {
            senders.push_back(std::async(std::launch::async, [r] {
                try {
                    r.tell(item{1});
                } catch (const troupe::actor_dead&) {}
            }));
        }
        r.kill();
        for (auto& s : senders) {
            ASSERT_EQ(s.wait_for(patience()), std::future_status::ready) << "a sender slept through the kill";
        }
        release.open();
        ASSERT_NO_THROW(r.terminated().get(patience()));
    }
}

}  // namespace mailbox_tests
