#include <troupe/core/address.hpp>

#include "test_support.hpp"

#include <troupe/core/handles.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

// address: the untyped handle. Run-time checked sends, dead letters for unhandled types, the
// reply type check, dead targets (Pykka TL-07 made strict, AS-05/06 through an address).

namespace address_tests {

using namespace std::chrono_literals;
using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

struct greet {
    std::string name;
};
struct add {
    int a;
    int b;
};
struct unknown {};
/// The handler waits for the gate, so the reply comes well after ask() has returned.
struct slow_add {
    int a;
    int b;
    gate* go;
};
struct told {};
struct count {};

class greeter : public troupe::actor {
public:
    using handles = troupe::handles<greet, add, slow_add, told, count>;
    std::string handle(greet g) { return "Hello, " + g.name + "!"; }
    int handle(add x) { return x.a + x.b; }
    int handle(slow_add x) {
        x.go->wait();
        return x.a + x.b;
    }
    void handle(told) { ++told_; }
    int handle(count) { return told_; }

private:
    int told_ = 0;
};

TEST(address, an_empty_address_refuses_everything) {
    troupe::address a;
    EXPECT_FALSE(a);
    EXPECT_FALSE(a.alive());
    EXPECT_EQ(a.id(), 0u);
    EXPECT_EQ(a.name(), "nobody");
    try {
        a.tell(greet{"x"});
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_STREQ(e.what(), "cannot send through an empty address");
    }
    auto f = a.ask<int>(add{1, 2});
    ASSERT_TRUE(f.ready()) << "ask never throws: the future fails at once";
    EXPECT_THROW((void)f.get(), troupe::actor_dead);
}

TEST(address, a_ref_converts_to_an_address_of_the_same_actor) {
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    auto other = sys.spawn<greeter>();
    troupe::address a = r;
    EXPECT_TRUE(a);
    EXPECT_TRUE(a.alive());
    EXPECT_EQ(a.id(), r.id());
    EXPECT_EQ(a.name(), r.name());
    troupe::address same = r;
    troupe::address different = other;
    EXPECT_TRUE(a == same);
    EXPECT_FALSE(a == different);
    std::unordered_set<troupe::address> set{a, same, different};
    EXPECT_EQ(set.size(), 2u);
}

TEST(address, tell_through_an_address_is_handled) {
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    troupe::address a = r;
    a.tell(told{});
    a.tell(told{});
    EXPECT_EQ(r.ask(count{}).get(patience()), 2);
    EXPECT_EQ(sys.dead_letters(), 0u);
}

// An untyped ask gets the same reply a typed one would.
TEST(address, ask_through_an_address_gets_the_reply) {
    troupe::system sys(small_system());
    troupe::address a = sys.spawn<greeter>();
    EXPECT_EQ(a.ask<std::string>(greet{"Ann"}).get(patience()), "Hello, Ann!");
    EXPECT_EQ(a.ask<int>(add{2, 3}).get(patience()), 5);
}

// The reply comes after ask() has returned: the future must still get it.
TEST(address, ask_through_an_address_gets_a_late_reply) {
    gate go;
    troupe::system sys(small_system());
    troupe::address a = sys.spawn<greeter>();
    auto f = a.ask<int>(slow_add{2, 3, &go});
    go.open();
    EXPECT_EQ(f.get(patience()), 5);
}

// TL-07 made strict: a type the actor does not list goes to dead letters; an asker gets
// unhandled_message.
TEST(address, an_unhandled_tell_goes_to_dead_letters) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    troupe::address a = r;
    EXPECT_NO_THROW(a.tell(unknown{}));
    EXPECT_EQ(sys.dead_letters(), 1u);
    EXPECT_TRUE(r.alive()) << "an unhandled message does not hurt the actor";
    EXPECT_EQ(r.ask(add{1, 1}).get(patience()), 2);
}

TEST(address, an_unhandled_ask_fails_with_unhandled_message) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    troupe::address a = r;
    auto f = a.ask<int>(unknown{});
    try {
        (void)f.get(patience());
        FAIL() << "expected troupe::unhandled_message";
    } catch (const troupe::unhandled_message& e) {
        EXPECT_EQ(std::string(e.what()), r.name() + " does not handle address_tests::unknown");
    }
    EXPECT_EQ(sys.dead_letters(), 1u);
}

// Asking for the wrong reply type fails the future and leaves the actor alone.
TEST(address, asking_for_the_wrong_reply_type_fails_the_future) {
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    troupe::address a = r;
    auto f = a.ask<std::string>(add{1, 2});
    try {
        (void)f.get(patience());
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "the handler of address_tests::add replies with int, not std::string");
    }
    EXPECT_EQ(sys.dead_letters(), 0u);
    EXPECT_EQ(r.ask(add{1, 2}).get(patience()), 3);
}

// AS-05, AS-06, TL-04 through an address: a dead target refuses tells (throw) and asks (failed future).
TEST(address, a_dead_target_refuses_sends) {
    troupe::system sys(small_system());
    auto r = sys.spawn<greeter>();
    troupe::address a = r;
    ASSERT_TRUE(r.stop());
    EXPECT_FALSE(a.alive());
    try {
        a.tell(told{});
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()), r.name() + " is not running: it did not take the address_tests::told");
    }
    auto f = a.ask<int>(add{1, 2});
    ASSERT_TRUE(f.ready());
    EXPECT_THROW((void)f.get(), troupe::actor_dead);
    // Even a type it never handled: the actor is dead, so actor_dead, not a dead letter.
    EXPECT_THROW(a.tell(unknown{}), troupe::actor_dead);
    EXPECT_THROW((void)a.ask<int>(unknown{}).get(0s), troupe::actor_dead);
    EXPECT_EQ(sys.dead_letters(), 0u);
}

// An actor's own address, from self(), is the address of its ref.
struct my_address {};
class self_addresser : public troupe::actor {
public:
    using handles = troupe::handles<my_address>;
    troupe::address handle(my_address) { return self().address(); }
};

TEST(address, self_address_is_the_actors_address) {
    troupe::system sys(small_system());
    auto r = sys.spawn<self_addresser>();
    troupe::address outside = r;
    EXPECT_TRUE(r.ask(my_address{}).get(patience()) == outside);
}

// LC-14 through an address: a blocking self-ask fails fast with deadlock (the address records
// the producer of the reply, as ref::ask does).
struct ask_self {};
class self_asker : public troupe::actor {
public:
    using handles = troupe::handles<ask_self, add>;
    int handle(add x) { return x.a + x.b; }
    std::string handle(ask_self) {
        try {
            (void)self().address().ask<int>(add{1, 1}).get(troupe_test::scaled(std::chrono::milliseconds(500)));
            return "returned";
        } catch (const troupe::deadlock& e) {
            return e.what();
        } catch (const std::exception& e) {
            return std::string("other: ") + e.what();
        }
    }
};

TEST(address, a_blocking_self_ask_through_an_address_throws_deadlock) {
    troupe::system sys(small_system());
    auto r = sys.spawn<self_asker>();
    EXPECT_EQ(r.ask(ask_self{}).get(patience()),
              r.name() + " would wait for ever: it is blocked on a reply (or a stop) that only it can give");
}

}  // namespace address_tests
