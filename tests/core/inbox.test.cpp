#include <troupe/core/inbox.hpp>

#include "test_support.hpp"

#include <troupe/core/handles.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

// inbox: an address for code that is not an actor. receive, receive<T> (selective), timeouts,
// try_receive, and its refusal of asks.

namespace inbox_tests {

using namespace std::chrono_literals;
using troupe_test::patience;
using troupe_test::small_system;

struct a_msg {
    int n;
};
struct b_msg {
    std::string s;
};

TEST(inbox, receive_takes_messages_in_order) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto addr = box.address();
    addr.tell(a_msg{1});
    addr.tell(b_msg{"two"});
    EXPECT_EQ(box.size(), 2u);
    troupe::message first = box.receive();
    ASSERT_TRUE(first.is<a_msg>());
    EXPECT_EQ(first.get<a_msg>().n, 1);
    troupe::message second = box.receive(patience());
    ASSERT_TRUE(second.is<b_msg>());
    EXPECT_EQ(second.get<b_msg>().s, "two");
    EXPECT_EQ(box.size(), 0u);
}

// Selective receive: the first message of the asked type; others stay queued, in order.
TEST(inbox, receive_of_a_type_leaves_other_messages_queued) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto addr = box.address();
    addr.tell(a_msg{1});
    addr.tell(b_msg{"b"});
    addr.tell(a_msg{2});
    EXPECT_EQ(box.receive<b_msg>().s, "b");
    EXPECT_EQ(box.size(), 2u);
    EXPECT_EQ(box.receive<a_msg>(patience()).n, 1);
    EXPECT_EQ(box.receive().get<a_msg>().n, 2);
}

TEST(inbox, receive_with_a_timeout_throws_timeout) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    const std::string name = "inbox#" + std::to_string(box.address().id());
    try {
        (void)box.receive(10ms);
        FAIL() << "expected troupe::timeout";
    } catch (const troupe::timeout& e) {
        EXPECT_EQ(std::string(e.what()), name + ": no message arrived in time");
    }
    box.address().tell(a_msg{1});
    try {
        (void)box.receive<b_msg>(10ms);
        FAIL() << "expected troupe::timeout";
    } catch (const troupe::timeout& e) {
        EXPECT_EQ(std::string(e.what()), name + ": no inbox_tests::b_msg arrived in time");
    }
    EXPECT_EQ(box.size(), 1u) << "the other message is still there";
}

TEST(inbox, try_receive_never_waits) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    EXPECT_FALSE(box.try_receive<a_msg>().has_value());
    box.address().tell(b_msg{"b"});
    EXPECT_FALSE(box.try_receive<a_msg>().has_value());
    box.address().tell(a_msg{3});
    auto got = box.try_receive<a_msg>();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->n, 3);
    EXPECT_EQ(box.try_receive<b_msg>()->s, "b");
    EXPECT_EQ(box.size(), 0u);
}

// receive() waits for a message from another thread.
TEST(inbox, receive_waits_for_a_message) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto addr = box.address();
    std::thread sender([addr] { addr.tell(a_msg{7}); });
    EXPECT_EQ(box.receive<a_msg>(patience()).n, 7);
    sender.join();
}

TEST(inbox, an_inbox_refuses_asks) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto addr = box.address();
    auto f = addr.ask<int>(a_msg{1});
    ASSERT_TRUE(f.ready()) << "the ask fails at once";
    try {
        (void)f.get();
        FAIL() << "expected troupe::unhandled_message";
    } catch (const troupe::unhandled_message& e) {
        EXPECT_EQ(std::string(e.what()),
                  "inbox#" + std::to_string(addr.id()) + " is an inbox: it takes messages but does not answer asks");
    }
    EXPECT_EQ(box.size(), 0u);
}

TEST(inbox, a_destroyed_inbox_refuses_messages) {
    troupe::system sys(small_system());
    troupe::address addr;
    {
        troupe::inbox box(sys);
        addr = box.address();
        EXPECT_TRUE(addr.alive());
        EXPECT_EQ(addr.name(), "inbox#" + std::to_string(addr.id()));
    }
    EXPECT_FALSE(addr.alive());
    try {
        addr.tell(a_msg{1});
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()),
                  "inbox#" + std::to_string(addr.id()) + " is closed: it did not take the inbox_tests::a_msg");
    }
    // An ask of a closed inbox fails as an ask of an ended actor does.
    EXPECT_THROW((void)addr.ask<int>(a_msg{2}).get(patience()), troupe::actor_dead);
}

// Ids come from the system, like actors'.
struct noop {};
class nobody : public troupe::actor {
public:
    void handle(noop) {}
};

TEST(inbox, ids_are_unique_among_actors_and_inboxes) {
    troupe::system sys(small_system());
    troupe::inbox one(sys);
    auto actor = sys.spawn<nobody>();
    troupe::inbox two(sys);
    EXPECT_NE(one.address().id(), two.address().id());
    EXPECT_NE(one.address().id(), actor.id());
    EXPECT_NE(two.address().id(), actor.id());
}

// Actors answer an inbox by telling its address; many replies arrive in order.
struct report_to {
    troupe::address to;
    int count;
};

class reporter : public troupe::actor {
public:
    void handle(report_to r) {
        for (int i = 0; i < r.count; ++i) {
            r.to.tell(a_msg{i});
        }
        r.to.tell(b_msg{"done"});
    }
};

TEST(inbox, actors_reply_to_an_inbox) {
    troupe::system sys(small_system());
    troupe::inbox box(sys);
    auto r = sys.spawn<reporter>();
    r.tell(report_to{box.address(), 1000});
    EXPECT_EQ(box.receive<b_msg>(patience()).s, "done");
    for (int i = 0; i < 1000; ++i) {
        auto got = box.try_receive<a_msg>();
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->n, i);
    }
    EXPECT_EQ(box.size(), 0u);
}

}  // namespace inbox_tests

namespace inbox_async_tests {

struct note {
    int v;
};
struct other {};

TEST(inbox, receive_async_takes_a_queued_message_or_the_next_one_to_arrive) {
    troupe::system sys(troupe_test::small_system());
    troupe::inbox in(sys);
    in.address().tell(note{1});
    auto now = in.receive_async<note>();
    EXPECT_TRUE(now.ready());
    EXPECT_EQ(now.get().v, 1);
    auto later = in.receive_async<note>();
    EXPECT_FALSE(later.ready());
    in.address().tell(other{});  // not what it waits for: queued
    in.address().tell(note{2});
    EXPECT_EQ(later.get(troupe_test::patience()).v, 2);
    EXPECT_EQ(in.size(), 1u);
    EXPECT_TRUE(in.receive_async().get(troupe_test::patience()).is<other>());
}

TEST(inbox, a_pending_receive_async_fails_when_the_inbox_goes) {
    troupe::system sys(troupe_test::small_system());
    troupe::future<note> pending;
    {
        troupe::inbox in(sys);
        pending = in.receive_async<note>();
    }
    EXPECT_THROW(pending.get(troupe_test::patience()), troupe::actor_dead);
}

}  // namespace inbox_async_tests
