#include <troupe/core/proxy.hpp>

#include "test_support.hpp"

#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// Proxies: member calls, deferred calls, field reads and writes, and member objects reached at
// any depth (Pykka PX-*, TR-*, OR-03).

namespace proxy_tests {

using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

struct track {
    std::string title = "none";
    int plays = 0;
    void play_once() { ++plays; }
    int count() const { return plays; }
};

struct playback {
    track current;
    bool playing = false;
    bool play() {
        playing = true;
        current.play_once();
        return true;
    }
    void fail() { throw std::runtime_error("playback broke"); }
};

class calculator : public troupe::actor {
public:
    explicit calculator(journal* log = nullptr) : log_(log) {}

    int last_result = 0;
    std::string cat = "none";
    playback player;

    int add(int a, int b) { return last_result = a + b; }
    int add_to(int a) { return last_result += a; }
    int sub_from(int a) { return last_result -= a; }
    std::string hello(const std::string& who) const { return "Hello, " + who + "!"; }
    void set_cat(std::string c) { cat = std::move(c); }
    int raise_exception() { throw std::runtime_error("boom!"); }
    void raise_exception_void() { throw std::runtime_error("deferred boom"); }
    int take(std::unique_ptr<int> p) { return *p; }
    const std::string& cat_ref() const { return cat; }
    std::thread::id thread() const { return std::this_thread::get_id(); }
    std::thread::id start_thread() const { return started_on_; }
    troupe::future<std::string> talk_with_self() {
        return troupe::ref{this}.call(&calculator::hello, std::string("from the future"));
    }

protected:
    void on_start() override { started_on_ = std::this_thread::get_id(); }
    void on_stop() override {
        if (log_ != nullptr) {
            log_->add("on_stop");
        }
    }
    void on_failure(std::exception_ptr error) override {
        if (log_ == nullptr) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log_->add(std::string("on_failure: ") + e.what());
        }
    }

private:
    journal* log_;
    std::thread::id started_on_;
};

// PX-01, PX-03: a ref is the proxy of its actor; call returns a future of the method's result.
TEST(proxy, call_returns_a_future_of_the_result) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto f = calc.call(&calculator::add, 1, 3);
    static_assert(std::is_same_v<decltype(f), troupe::future<int>>);
    EXPECT_EQ(f.get(patience()), 4);
    EXPECT_EQ(calc.get(&calculator::last_result).get(patience()), 4);
    EXPECT_EQ(calc.call(&calculator::hello, std::string("world")).get(patience()), "Hello, world!");
    EXPECT_EQ(calc.call(&calculator::hello, std::string("again")).get(patience()), "Hello, again!");
}

// PX-03: a method returning nothing gives a future<void>; its effect is visible afterwards.
TEST(proxy, a_void_method_gives_a_void_future) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto f = calc.call(&calculator::set_cat, std::string("eagle"));
    static_assert(std::is_same_v<decltype(f), troupe::future<void>>);
    EXPECT_NO_THROW(f.get(patience()));
    EXPECT_EQ(calc.get(&calculator::cat).get(patience()), "eagle");
}

// A method returning a reference gives a future of a copy.
TEST(proxy, a_reference_result_is_copied) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto f = calc.call(&calculator::cat_ref);
    static_assert(std::is_same_v<decltype(f), troupe::future<std::string>>);
    EXPECT_EQ(f.get(patience()), "none");
}

// PX-04: defer calls with tell semantics; the effect is visible to a later read.
TEST(proxy, defer_calls_without_a_reply) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    static_assert(std::is_void_v<decltype(calc.defer(&calculator::set_cat, std::string("eagle")))>);
    calc.defer(&calculator::set_cat, std::string("eagle"));
    EXPECT_EQ(calc.get(&calculator::cat).get(patience()), "eagle");
}

// PX-05: an exception in a called method reaches the future; no on_failure, the actor goes on.
TEST(proxy, an_exception_in_a_call_reaches_the_future) {
    journal log;
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>(&log);
    try {
        (void)calc.call(&calculator::raise_exception).get(patience());
        FAIL() << "expected the method's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom!");
    }
    EXPECT_EQ(calc.call(&calculator::add, 2, 2).get(patience()), 4);
    EXPECT_TRUE(log.entries().empty());
}

// PX-06: an exception in a deferred call is the actor's failure: on_failure, not on_stop.
TEST(proxy, an_exception_in_a_deferred_call_fails_the_actor) {
    journal log;
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>(&log);
    calc.defer(&calculator::raise_exception_void);
    EXPECT_NO_THROW(calc.terminated().get(patience()));
    EXPECT_FALSE(calc.alive());
    EXPECT_EQ(log.entries(), std::vector<std::string>{"on_failure: deferred boom"});
}

// PX-08, PX-09: get reads a field; set writes it, and its future completes once it is written.
TEST(proxy, get_and_set_read_and_write_fields) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto written = calc.set(&calculator::last_result, 17);
    static_assert(std::is_same_v<decltype(written), troupe::future<void>>);
    EXPECT_NO_THROW(written.get(patience()));
    auto read = calc.get(&calculator::last_result);
    static_assert(std::is_same_v<decltype(read), troupe::future<int>>);
    EXPECT_EQ(read.get(patience()), 17);
    const char* text = "tiger";
    EXPECT_NO_THROW(calc.set(&calculator::cat, text).get(patience()));
    EXPECT_EQ(calc.get(&calculator::cat).get(patience()), "tiger");
}

// OR-03: proxy calls and writes from one caller take effect in order, without waiting.
TEST(proxy, calls_from_one_caller_run_in_order) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    (void)calc.call(&calculator::add, 1, 3);
    (void)calc.call(&calculator::sub_from, 5);
    (void)calc.call(&calculator::add_to, 3);
    EXPECT_EQ(calc.get(&calculator::last_result).get(patience()), 2);
    (void)calc.set(&calculator::last_result, 17);
    calc.defer(&calculator::add_to, 1);
    EXPECT_EQ(calc.get(&calculator::last_result).get(patience()), 18);
}

// Arguments are copied or moved into the message: later changes to the caller's copy do not show.
TEST(proxy, arguments_are_copied_or_moved) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    std::string who = "Ann";
    auto f = calc.call(&calculator::hello, who);
    who = "Bob";
    EXPECT_EQ(f.get(patience()), "Hello, Ann!");
    EXPECT_EQ(calc.call(&calculator::take, std::make_unique<int>(3)).get(patience()), 3);
}

// PX-15, OR-04: an actor can call itself through a ref; the call queues behind its current work,
// so the outer result is a future of a future.
TEST(proxy, an_actor_can_call_itself_through_a_proxy) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto outer = calc.call(&calculator::talk_with_self);
    static_assert(std::is_same_v<decltype(outer), troupe::future<troupe::future<std::string>>>);
    troupe::future<std::string> inner = outer.get(patience());
    EXPECT_EQ(inner.get(patience()), "Hello, from the future!");
}

// PX-21: proxied calls run on the actor's executor, like its other messages.
TEST(proxy, calls_run_on_the_actors_executor) {
    troupe::system sys(small_system());
    auto pooled = sys.spawn<calculator>();
    EXPECT_NE(pooled.call(&calculator::thread).get(patience()), std::this_thread::get_id());
    auto own = sys.spawn<calculator>(troupe_test::dedicated());
    const auto start = own.call(&calculator::start_thread).get(patience());
    EXPECT_EQ(own.call(&calculator::thread).get(patience()), start);
    EXPECT_NE(start, std::this_thread::get_id());
}

// PX-02, PX-20: through the proxy of a dead actor, calls, reads and writes fail with actor_dead;
// defer throws at once.
TEST(proxy, a_dead_actors_proxy_fails_every_operation) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto nested = calc.member(&calculator::player);
    ASSERT_TRUE(calc.stop());
    EXPECT_FALSE(calc.alive());
    auto call = calc.call(&calculator::add, 1, 2);
    ASSERT_TRUE(call.ready());
    try {
        (void)call.get();
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()).rfind(calc.name() + " is not running: it did not take the ", 0), 0u)
            << e.what();
    }
    EXPECT_THROW((void)calc.get(&calculator::cat).get(patience()), troupe::actor_dead);
    EXPECT_THROW(calc.set(&calculator::cat, std::string("x")).get(patience()), troupe::actor_dead);
    EXPECT_THROW((void)nested.call(&playback::play).get(patience()), troupe::actor_dead);
    EXPECT_THROW(calc.defer(&calculator::set_cat, std::string("x")), troupe::actor_dead);
    EXPECT_THROW(nested.defer(&playback::play), troupe::actor_dead);
}

TEST(proxy, an_empty_proxy_refuses_everything) {
    troupe::ref<calculator> none;
    try {
        (void)none.call(&calculator::add, 1, 2);
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_STREQ(e.what(), "cannot send through an empty ref");
    }
    EXPECT_THROW(none.defer(&calculator::add_to, 1), troupe::actor_dead);
    EXPECT_THROW((void)none.get(&calculator::cat), troupe::actor_dead);
    troupe::proxy<calculator, playback, troupe::detail::member_path<troupe::detail::self_path, playback calculator::*>>
        nested_none;
    EXPECT_THROW((void)nested_none.call(&playback::play), troupe::actor_dead);
}

// ---- member objects (Pykka's traversable attributes) -------------------------------------

// TR-02, TR-05: a member object's methods and fields are reached through member(); calls run
// on the actor.
TEST(proxy, member_reaches_a_member_objects_methods_and_fields) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto player = calc.member(&calculator::player);
    EXPECT_FALSE(player.get(&playback::playing).get(patience()));
    EXPECT_TRUE(player.call(&playback::play).get(patience()));
    EXPECT_TRUE(player.get(&playback::playing).get(patience()));
    EXPECT_NO_THROW(player.set(&playback::playing, false).get(patience()));
    EXPECT_FALSE(calc.get(&calculator::player).get(patience()).playing);
}

// TR-05: two levels deep: calls, deferred calls, reads and writes.
TEST(proxy, member_nests_two_levels_deep) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto current = calc.member(&calculator::player).member(&playback::current);
    EXPECT_EQ(current.get(&track::title).get(patience()), "none");
    EXPECT_NO_THROW(current.set(&track::title, std::string("Blue Train")).get(patience()));
    EXPECT_EQ(current.get(&track::title).get(patience()), "Blue Train");
    current.defer(&track::play_once);
    EXPECT_NO_THROW(current.call(&track::play_once).get(patience()));
    EXPECT_TRUE(calc.member(&calculator::player).call(&playback::play).get(patience()));
    EXPECT_EQ(current.call(&track::count).get(patience()), 3);
    EXPECT_EQ(calc.get(&calculator::player).get(patience()).current.title, "Blue Train");
}

// TR-01: reading a member object itself gives a future of a copy of it.
TEST(proxy, reading_a_member_object_gives_a_copy) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    auto copy = calc.get(&calculator::player).get(patience());
    copy.current.title = "changed locally";
    EXPECT_EQ(calc.member(&calculator::player).member(&playback::current).get(&track::title).get(patience()), "none");
}

// PX-05 for member objects: an exception reaches the future and the actor goes on.
TEST(proxy, an_exception_in_a_member_call_reaches_the_future) {
    troupe::system sys(small_system());
    auto calc = sys.spawn<calculator>();
    try {
        calc.member(&calculator::player).call(&playback::fail).get(patience());
        FAIL() << "expected the method's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "playback broke");
    }
    EXPECT_TRUE(calc.alive());
    EXPECT_EQ(calc.call(&calculator::add, 1, 1).get(patience()), 2);
}

}  // namespace proxy_tests
