#include <troupe/core/ref.hpp>

#include "test_support.hpp"

#include <troupe/core/registry.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <cstdio>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <vector>

// ref<A>: tell, ask, stop and their rules (Pykka TL-*, AS-*, TO-*, OR-01/02/04, LC-04..09,
// LC-12..15, the promise-taking handler), and self-deadlock detection.

namespace ref_tests {

using namespace std::chrono_literals;
using troupe_test::gate;
using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

struct note {
    std::string text;
};
struct ping {};
struct get_notes {};
struct fail_with {
    std::string what;
};
struct throw_int {};
/// Makes the handler signal `entered`, then wait until `release` opens.
struct hold {
    gate* entered;
    gate* release;
};
struct count {};
struct nothing {};

class recorder : public troupe::actor {
public:
    explicit recorder(journal* log = nullptr) : log_(log) {}

    void handle(note n) {
        if (log_ != nullptr) {
            log_->add(n.text);
        }
        notes_.push_back(std::move(n.text));
        ++count_;
    }
    std::vector<std::string> handle(get_notes) { return notes_; }
    std::string handle(ping) { return "pong"; }
    int handle(fail_with f) { throw std::runtime_error(f.what); }
    int handle(throw_int) { throw 42; }
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }
    long handle(count) { return count_; }
    void handle(nothing) {}

protected:
    void on_stop() override {
        if (log_ != nullptr) {
            log_->add("on_stop");
        }
    }

private:
    journal* log_;
    std::vector<std::string> notes_;
    long count_ = 0;
};

// ---- tell ----------------------------------------------------------------------------------

// TL-01
TEST(ref, tell_delivers_the_message) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(note{"a custom message"});
    EXPECT_EQ(r.ask(get_notes{}).get(patience()), std::vector<std::string>{"a custom message"});
}

// TL-03: tell returns at once even while the actor is busy; nothing is lost.
TEST(ref, tell_never_blocks) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    constexpr long n = 200'000;
    for (long i = 0; i < n; ++i) {
        r.tell(nothing{});
    }
    // Reached while the actor is still blocked in its handler: no tell waited for it.
    EXPECT_FALSE(release.is_open());
    for (long i = 0; i < 3; ++i) {
        r.tell(note{"n"});
    }
    release.open();
    EXPECT_EQ(r.ask(count{}).get(patience()), 3);
}

// TL-04: tell to a dead actor throws actor_dead at once.
TEST(ref, tell_to_a_dead_actor_throws_actor_dead) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>(troupe_test::named("rec"));
    ASSERT_TRUE(r.stop());
    try {
        r.tell(note{"late"});
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()), r.name() + " is not running: it did not take the ref_tests::note");
    }
}

// Inside an actor, a tell to an actor that has ended is a counted dead letter, not the sender's
// failure: one actor stopping must not make its peers fail (and their supervisors restart them).
struct tell_to {
    troupe::ref<recorder> target;
    troupe::address untyped;
};

class teller : public troupe::actor {
public:
    std::string handle(tell_to t) {
        t.target.tell(note{"late"});
        t.untyped.tell(note{"late"});
        return "still here";
    }
};

class addressable_recorder : public recorder {
public:
    using handles = troupe::handles<note>;
};

TEST(ref, a_tell_to_a_dead_actor_from_inside_an_actor_is_a_dead_letter) {
    troupe::system sys(small_system());
    auto dead = sys.spawn<recorder>();
    auto dead_untyped = sys.spawn<addressable_recorder>();
    ASSERT_TRUE(dead.stop());
    ASSERT_TRUE(dead_untyped.stop());
    auto sender = sys.spawn<teller>();
    const auto before = sys.dead_letters();
    EXPECT_EQ(sender.ask(tell_to{dead, dead_untyped}).get(patience()), "still here");
    EXPECT_TRUE(sender.alive());
    EXPECT_EQ(sys.dead_letters(), before + 2);
    EXPECT_THROW(dead.tell(note{"from outside"}), troupe::actor_dead) << "outside an actor it stays an error";
}

// A message is converted at the send, on the sender's thread: a C string for a handler that
// takes std::string is stored as a std::string, so changing the sender's buffer afterwards does
// not change the message (it used to store the char* and read it later). The untyped address
// stores it the same way.
class text_keeper : public troupe::actor {
public:
    using handles = troupe::handles<std::string, hold>;
    explicit text_keeper(journal& log) : log_(log) {}
    void handle(std::string text) { log_.add(text); }
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }

private:
    journal& log_;
};

TEST(ref, a_c_string_is_copied_at_the_send) {
    journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<text_keeper>(log);
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    char buffer[16] = "original";
    r.tell(buffer);
    troupe::address a = r;
    a.tell(buffer);
    std::snprintf(buffer, sizeof buffer, "%s", "overwritten");
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"original", "original"}));
    EXPECT_EQ(sys.dead_letters(), 0u);
}

// TL-05 and LC-12 (fixed): once a stop is requested, a tell is refused at once, never dropped.
TEST(ref, tell_after_a_stop_request_is_refused_not_dropped) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    auto stopped = r.stop_async();
    EXPECT_THROW(r.tell(note{"x"}), troupe::actor_dead);
    auto asked = r.ask(ping{});
    EXPECT_TRUE(asked.ready()) << "an ask after the stop request fails at once";
    EXPECT_THROW((void)asked.get(0s), troupe::actor_dead);
    release.open();
    EXPECT_TRUE(stopped.get(patience()));
}

// TL-06: an lvalue message is copied; changing it after the tell changes nothing.
TEST(ref, a_message_is_copied_or_moved_never_shared) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    note n{"before"};
    r.tell(n);
    n.text = "after";
    r.tell(std::move(n));
    EXPECT_EQ(r.ask(get_notes{}).get(patience()), (std::vector<std::string>{"before", "after"}));
}

struct boxed {
    std::unique_ptr<int> value;
};

class unboxer : public troupe::actor {
public:
    int handle(boxed b) { return *b.value; }
};

TEST(ref, move_only_messages_can_be_told_and_asked) {
    troupe::system sys(small_system());
    auto r = sys.spawn<unboxer>();
    r.tell(boxed{std::make_unique<int>(1)});
    EXPECT_EQ(r.ask(boxed{std::make_unique<int>(2)}).get(patience()), 2);
}

// TL-02: any value type can be a message and arrives equal.
class echo : public troupe::actor {
public:
    int handle(int x) { return x; }
    double handle(double x) { return x; }
    std::map<std::string, int> handle(std::map<std::string, int> m) { return m; }
    std::tuple<int, std::string> handle(std::tuple<int, std::string> t) { return t; }
    std::vector<int> handle(std::vector<int> v) { return v; }
    std::string handle(std::runtime_error e) { return e.what(); }
};

TEST(ref, any_value_can_be_a_message) {
    troupe::system sys(small_system());
    auto r = sys.spawn<echo>();
    EXPECT_EQ(r.ask(7).get(patience()), 7);
    EXPECT_DOUBLE_EQ(r.ask(2.5).get(patience()), 2.5);
    const std::map<std::string, int> dict{{"k", 1}};
    EXPECT_EQ(r.ask(dict).get(patience()), dict);
    const std::tuple<int, std::string> tup{1, "a"};
    EXPECT_EQ(r.ask(tup).get(patience()), tup);
    EXPECT_EQ(r.ask(std::vector<int>{1, 2, 3}).get(patience()), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(r.ask(std::runtime_error("an exception as a message")).get(patience()), "an exception as a message");
}

// ---- ask -----------------------------------------------------------------------------------

// AS-01, AS-02: ask returns a future at once; get gives the handler's result.
TEST(ref, ask_returns_a_future_of_the_handlers_result) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    auto f = r.ask(ping{});
    static_assert(std::is_same_v<decltype(f), troupe::future<std::string>>);
    EXPECT_FALSE(f.ready());
    release.open();
    EXPECT_EQ(f.get(patience()), "pong");
    EXPECT_EQ(r.ask(ping{}).get(patience()), "pong");
}

// AS-01: a handler returning nothing answers with a completed future<void>.
TEST(ref, ask_of_a_void_handler_completes) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    auto f = r.ask(note{"x"});
    static_assert(std::is_same_v<decltype(f), troupe::future<void>>);
    EXPECT_NO_THROW(f.get(patience()));
    EXPECT_EQ(r.ask(get_notes{}).get(patience()), std::vector<std::string>{"x"});
}

// AS-03, AS-04, HK-06: the handler's exception reaches the asker; the actor goes on.
TEST(ref, a_handlers_exception_reaches_the_asker_and_the_actor_continues) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    auto f = r.ask(fail_with{"Oops"});
    const std::runtime_error* first = nullptr;
    try {
        (void)f.get(patience());
        FAIL() << "expected the handler's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "Oops");
        first = &e;
    }
    try {
        (void)f.get(0s);
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(&e, first) << "the same exception object every time";
    }
    EXPECT_TRUE(r.alive());
    EXPECT_EQ(r.ask(ping{}).get(patience()), "pong");
}

// HK-08 (fixed): even an exception not derived from std::exception completes the reply.
TEST(ref, any_thrown_value_reaches_the_asker) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    try {
        (void)r.ask(throw_int{}).get(patience());
        FAIL() << "expected the thrown int";
    } catch (int x) {
        EXPECT_EQ(x, 42);
    }
    EXPECT_EQ(r.ask(ping{}).get(patience()), "pong");
}

// AS-05, AS-06: asking a dead actor does not throw at the call; the future fails with actor_dead.
TEST(ref, asking_a_dead_actor_fails_the_future_with_actor_dead) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    ASSERT_TRUE(r.stop());
    troupe::future<std::string> f;
    ASSERT_NO_THROW(f = r.ask(ping{}));
    ASSERT_TRUE(f.ready());
    try {
        (void)f.get();
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_EQ(std::string(e.what()), r.name() + " is not running: it did not take the ref_tests::ping");
    }
}

// TO-01, TO-02: get with a timeout on a busy actor throws timeout; the message is still handled.
TEST(ref, a_timeout_on_an_ask_cancels_nothing) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    auto f = r.ask(note{"still handled"});
    EXPECT_THROW(f.get(0s), troupe::timeout);
    try {
        f.get(10ms);
        FAIL() << "expected troupe::timeout";
    } catch (const troupe::timeout& e) {
        EXPECT_STREQ(e.what(), "no result within 10 ms");
    }
    release.open();
    EXPECT_NO_THROW(f.get(patience()));
    EXPECT_EQ(r.ask(get_notes{}).get(patience()), std::vector<std::string>{"still handled"});
}

// A handler that takes a promise may answer later, from another message.
struct later {
    using reply_type = int;
    int value;
};
struct answer_all {};
struct drop_all {};
struct later_then_throw {
    using reply_type = int;
};
struct drop_while_caught {
    using reply_type = int;
};

class procrastinator : public troupe::actor {
public:
    void handle(later l, troupe::promise<int> p) { pending_.emplace_back(l.value, std::move(p)); }
    void handle(later_then_throw, troupe::promise<int> p) {
        (void)p;
        throw std::logic_error("gave up");
    }
    void handle(drop_while_caught, troupe::promise<int> p) {
        try {
            auto mine = std::move(p);  // dropped while the exception below unwinds...
            throw std::runtime_error("caught right here");
        } catch (const std::runtime_error&) {  // ...which the handler catches itself
        }
    }
    void handle(answer_all) {
        for (auto& [v, p] : pending_) {
            p.set_value(v * 2);
        }
        pending_.clear();
    }
    void handle(drop_all) { pending_.clear(); }

private:
    std::vector<std::pair<int, troupe::promise<int>>> pending_;
};

TEST(ref, a_promise_taking_handler_answers_later) {
    troupe::system sys(small_system());
    auto r = sys.spawn<procrastinator>();
    auto a = r.ask(later{1});
    auto b = r.ask(later{2});
    static_assert(std::is_same_v<decltype(a), troupe::future<int>>);
    EXPECT_THROW((void)a.get(0s), troupe::timeout);
    r.tell(answer_all{});
    EXPECT_EQ(a.get(patience()), 2);
    EXPECT_EQ(b.get(patience()), 4);
}

TEST(ref, a_dropped_reply_promise_breaks_the_askers_future) {
    troupe::system sys(small_system());
    auto r = sys.spawn<procrastinator>();
    auto a = r.ask(later{1});
    r.tell(drop_all{});
    EXPECT_THROW((void)a.get(patience()), troupe::broken_promise);
    // Pending promises of an actor that stops break too: no asker hangs.
    auto b = r.ask(later{2});
    ASSERT_TRUE(r.stop());
    EXPECT_THROW((void)b.get(patience()), troupe::broken_promise);
}

TEST(ref, a_promise_taking_handler_that_throws_gives_the_asker_its_exception) {
    troupe::system sys(small_system());
    auto r = sys.spawn<procrastinator>();
    try {
        (void)r.ask(later_then_throw{}).get(patience());
        FAIL() << "expected the handler's exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "gave up");
    }
    EXPECT_TRUE(r.alive());
}

// A promise dropped while an exception unwinds, the handler catching that exception itself:
// the handler returns normally and nobody will answer, so the asker gets broken_promise.
TEST(ref, a_promise_dropped_under_a_caught_exception_breaks_the_askers_future) {
    troupe::system sys(small_system());
    auto r = sys.spawn<procrastinator>();
    EXPECT_THROW((void)r.ask(drop_while_caught{}).get(patience()), troupe::broken_promise);
    EXPECT_TRUE(r.alive());
}

// ---- ordering ------------------------------------------------------------------------------

// OR-01: messages from one sender are handled in the order sent.
TEST(ref, messages_from_one_sender_are_handled_in_order) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    std::vector<std::string> sent;
    for (int i = 0; i < 1000; ++i) {
        sent.push_back(std::to_string(i));
        r.tell(note{sent.back()});
    }
    EXPECT_EQ(r.ask(get_notes{}).get(patience()), sent);
}

// OR-02: handlers of one actor never overlap, whatever the number of senders.
struct enter {};
struct max_inside {};

class exclusive : public troupe::actor {
public:
    explicit exclusive(std::atomic<int>& inside) : inside_(inside) {}
    void handle(enter) {
        const int now = ++inside_;
        max_ = std::max(max_, now);
        volatile int spin = 0;
        for (int i = 0; i < 200; ++i) {
            spin = spin + i;
        }
        --inside_;
    }
    int handle(max_inside) { return max_; }

private:
    std::atomic<int>& inside_;
    int max_ = 0;
};

TEST(ref, one_message_at_a_time) {
    std::atomic<int> inside{0};
    troupe::system sys(small_system());
    auto r = sys.spawn<exclusive>(inside);
    auto send = [&] {
        for (int i = 0; i < 5000; ++i) {
            r.tell(enter{});
        }
    };
    std::thread a(send);
    std::thread b(send);
    a.join();
    b.join();
    EXPECT_EQ(r.ask(max_inside{}).get(patience()), 1);
}

// OR-04: a message an actor sends itself goes behind everything already queued.
struct kick {};

class self_sender : public troupe::actor {
public:
    self_sender(journal& log, gate& done) : log_(log), done_(done) {}
    void handle(kick) {
        log_.add("kick");
        troupe::ref{this}.tell(note{"to self"});
    }
    void handle(note n) {
        log_.add(n.text);
        if (n.text == "to self") {
            done_.open();
        }
    }
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }

private:
    journal& log_;
    gate& done_;
};

TEST(ref, a_message_to_self_goes_behind_the_queue) {
    journal log;
    gate entered;
    gate release;
    gate done;
    troupe::system sys(small_system());
    auto r = sys.spawn<self_sender>(log, done);
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    r.tell(kick{});
    r.tell(note{"queued 1"});
    r.tell(note{"queued 2"});
    release.open();
    ASSERT_TRUE(done.wait());
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"kick", "queued 1", "queued 2", "to self"}));
}

// ---- stop ----------------------------------------------------------------------------------

// LC-03, LC-04: stop returns true for a live actor, then false; alive follows.
TEST(ref, stop_is_idempotent) {
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    EXPECT_TRUE(r.alive());
    EXPECT_TRUE(r.stop());
    EXPECT_FALSE(r.alive());
    EXPECT_FALSE(r.stop());
    EXPECT_FALSE(r.stop(1s));
    EXPECT_FALSE(r.stop_async().get(0s));
    EXPECT_NO_THROW(r.terminated().get(0s));
    // A stopped actor is not restarted: a new spawn is a new actor.
    auto again = sys.spawn<recorder>();
    EXPECT_NE(again.id(), r.id());
    EXPECT_TRUE(again.alive());
}

// LC-06: stop is ordered after the messages already queued; on_stop runs last.
TEST(ref, stop_comes_after_the_queued_messages) {
    journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>(&log);
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    r.tell(note{"m1"});
    auto m2 = r.ask(note{"m2"});
    r.tell(note{"m3"});
    auto pong = r.ask(ping{});
    auto stopped = r.stop_async();
    release.open();
    EXPECT_TRUE(stopped.get(patience()));
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"m1", "m2", "m3", "on_stop"}));
    EXPECT_NO_THROW(m2.get(0s)) << "asks queued before the stop are answered";
    EXPECT_EQ(pong.get(0s), "pong");
}

// LC-07: a non-blocking stop returns a future of the same result.
TEST(ref, stop_async_returns_at_once) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>();
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    auto f = r.stop_async();
    EXPECT_FALSE(f.ready());
    EXPECT_FALSE(r.alive()) << "alive() is false from the moment a stop is requested";
    release.open();
    EXPECT_TRUE(f.get(patience()));
}

// LC-08: stop with a timeout throws timeout if the actor is busy; it still stops afterwards.
// LC-13: every stop request made while it was stopping answers true.
TEST(ref, stop_with_a_timeout_throws_timeout_and_the_actor_still_stops) {
    journal log;
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>(&log);
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    try {
        r.stop(10ms);
        FAIL() << "expected troupe::timeout";
    } catch (const troupe::timeout& e) {
        EXPECT_STREQ(e.what(), "no result within 10 ms");
    }
    EXPECT_FALSE(r.alive());
    auto second = r.stop_async();
    auto third = r.stop_async();
    release.open();
    EXPECT_TRUE(second.get(patience()));
    EXPECT_TRUE(third.get(patience()));
    EXPECT_EQ(log.entries(), std::vector<std::string>{"on_stop"});
    EXPECT_FALSE(r.stop());
}

// LC-05: a blocking stop returns only after on_stop has finished.
class slow_stopper : public troupe::actor {
public:
    explicit slow_stopper(std::atomic<bool>& done) : done_(done) {}
    void handle(ping) {}

protected:
    void on_stop() override {
        volatile long spin = 0;
        for (long i = 0; i < 2'000'000; ++i) {
            spin = spin + i;
        }
        done_ = true;
    }

private:
    std::atomic<bool>& done_;
};

TEST(ref, a_blocking_stop_waits_for_on_stop) {
    std::atomic<bool> done{false};
    troupe::system sys(small_system());
    auto r = sys.spawn<slow_stopper>(done);
    ASSERT_TRUE(r.stop());
    EXPECT_TRUE(done.load());
}

// LC-09: an actor can stop itself (twice is harmless): queued messages and the ones it sent itself
// first are handled; the asker of the stopping handler gets its reply.
struct greet {};
struct stop_self {};

class self_stopper : public troupe::actor {
public:
    explicit self_stopper(journal& log) : log_(log) {}
    void handle(greet) { log_.add("greet"); }
    std::string handle(stop_self) {
        troupe::ref{this}.tell(greet{});
        self().stop();
        self().stop();
        log_.add("stop requested");
        return "bye";
    }

protected:
    void on_stop() override { log_.add("on_stop"); }

private:
    journal& log_;
};

TEST(ref, an_actor_can_stop_itself) {
    journal log;
    troupe::system sys(small_system());
    auto r = sys.spawn<self_stopper>(log);
    EXPECT_EQ(r.ask(stop_self{}).get(patience()), "bye");
    EXPECT_NO_THROW(r.terminated().get(patience()));
    EXPECT_FALSE(r.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"stop requested", "greet", "on_stop"}));
    EXPECT_FALSE(r.stop());
}

// ---- deadlock detection (LC-14, AS-07) -----------------------------------------------------

struct ask_self_blocking {};
struct ask_self_with_timeout {};
struct stop_self_blocking {};
struct stop_self_with_timeout {};

std::string outcome(const std::function<void()>& f) {
    try {
        f();
        return "returned";
    } catch (const troupe::deadlock& e) {
        return std::string("deadlock: ") + e.what();
    } catch (const troupe::timeout& e) {
        return std::string("timeout: ") + e.what();
    } catch (const std::exception& e) {
        return std::string("other: ") + e.what();
    }
}

class self_waiter : public troupe::actor {
public:
    std::string handle(ping) { return "pong"; }
    std::string handle(ask_self_blocking) {
        return outcome([this] { (void)troupe::ref{this}.ask(ping{}).get(); });
    }
    std::string handle(ask_self_with_timeout) {
        return outcome([this] { (void)troupe::ref{this}.ask(ping{}).get(troupe_test::scaled(500ms)); });
    }
    std::string handle(stop_self_blocking) {
        return outcome([this] { (void)troupe::ref{this}.stop(); });
    }
    std::string handle(stop_self_with_timeout) {
        return outcome([this] { (void)troupe::ref{this}.stop(troupe_test::scaled(500ms)); });
    }
};

std::string deadlock_text(const troupe::ref<self_waiter>& r) {
    return "deadlock: " + r.name() + " would wait for ever: it is blocked on a reply (or a stop) that only it can give";
}

TEST(ref, a_blocking_self_ask_throws_deadlock) {
    troupe::system sys(small_system());
    auto r = sys.spawn<self_waiter>();
    EXPECT_EQ(r.ask(ask_self_blocking{}).get(patience()), deadlock_text(r));
    EXPECT_EQ(r.ask(ask_self_with_timeout{}).get(patience()), deadlock_text(r));
    EXPECT_EQ(r.ask(ping{}).get(patience()), "pong") << "the actor goes on";
}

// LC-14: a timed stop of itself from inside must fail fast with deadlock, not time out.
TEST(ref, a_timed_self_stop_from_inside_throws_deadlock) {
    troupe::system sys(small_system());
    auto r = sys.spawn<self_waiter>();
    EXPECT_EQ(r.ask(stop_self_with_timeout{}).get(patience()), deadlock_text(r));
    EXPECT_NO_THROW(r.terminated().get(patience())) << "the stop request itself still stands";
}

// LC-14: the blocking form must throw deadlock too (a bug here hangs the actor for ever, so this
// test runs only when the timed form above passes).
TEST(ref, a_blocking_self_stop_from_inside_throws_deadlock) {
    troupe::system sys(small_system());
    auto probe = sys.spawn<self_waiter>();
    if (probe.ask(stop_self_with_timeout{}).get(patience()) != deadlock_text(probe)) {
        GTEST_SKIP() << "a timed self-stop does not detect the deadlock; the blocking form would hang";
    }
    auto r = sys.spawn<self_waiter>();
    EXPECT_EQ(r.ask(stop_self_blocking{}).get(patience()), deadlock_text(r));
    EXPECT_NO_THROW(r.terminated().get(patience()));
}

// AS-07 (hazard): A asks B, and B's handler asks A back while A waits: each would wait for the
// other for ever. troupe must detect the cycle; both sides use timeouts so that a miss cannot hang.
struct relay {
    bool ask_back;
};

class partner : public troupe::actor {
public:
    void set_peer(troupe::ref<partner> peer) { peer_ = std::move(peer); }
    std::string handle(ping) { return wait_for_peer(true); }
    std::string handle(relay r) { return r.ask_back ? wait_for_peer(false) : "leaf"; }

private:
    std::string wait_for_peer(bool ask_back) {
        try {
            return "peer said: " + peer_.ask(relay{ask_back}).get(troupe_test::scaled(500ms));
        } catch (const troupe::deadlock& e) {
            return std::string("deadlock: ") + e.what();
        } catch (const troupe::timeout&) {
            return "timeout";
        }
    }
    troupe::ref<partner> peer_;
};

TEST(ref, an_ask_cycle_between_two_actors_is_detected) {
    troupe::system sys(small_system());
    auto a = sys.spawn<partner>();
    auto b = sys.spawn<partner>();
    a.call(&partner::set_peer, b).get(patience());
    b.call(&partner::set_peer, a).get(patience());
    // a waits for b, and b (asked to ask back) waits for a. Whichever of the two starts waiting
    // second closes the cycle and gets the deadlock; usually b, but a if b got there first.
    const std::string result = a.ask(ping{}).get(patience());
    const std::string cycle = "deadlock: actors wait for each other in a cycle, each for the next: ";
    const std::string b_detects = "peer said: " + cycle + b.name() + " -> " + a.name() + " -> " + b.name();
    const std::string a_detects = cycle + a.name() + " -> " + b.name() + " -> " + a.name();
    EXPECT_TRUE(result == b_detects || result == a_detects) << result;
}

// No false positive: a wait whose reply has come is not a wait any more, even before the
// waiting thread has woken and taken its edge out of the graph.
TEST(ref, a_wait_whose_reply_has_come_closes_no_cycle) {
    troupe::system sys(small_system());
    auto a = sys.spawn<partner>();
    auto b = sys.spawn<partner>();
    const auto& cell_a = *a.local_cell();
    const auto& cell_b = *b.local_cell();
    troupe::promise<int> reply_from_b;
    reply_from_b.shared()->set_producer(&cell_b);
    troupe::detail::add_wait_edge(cell_a, *reply_from_b.shared().get());  // a waits for b...
    reply_from_b.set_value(1);                                            // ...b answers...
    troupe::promise<int> reply_from_a;
    reply_from_a.shared()->set_producer(&cell_a);
    // ...and b, in its next handler, waits for a before a's thread has woken.
    EXPECT_NO_THROW(troupe::detail::add_wait_edge(cell_b, *reply_from_a.shared().get()));
    troupe::detail::remove_wait_edge(cell_b, *reply_from_a.shared().get());
    troupe::detail::remove_wait_edge(cell_a, *reply_from_b.shared().get());
    // A real cycle is still one.
    troupe::promise<int> again_from_b;
    again_from_b.shared()->set_producer(&cell_b);
    troupe::detail::add_wait_edge(cell_a, *again_from_b.shared().get());
    EXPECT_THROW(troupe::detail::add_wait_edge(cell_b, *reply_from_a.shared().get()), troupe::deadlock);
    troupe::detail::remove_wait_edge(cell_a, *again_from_b.shared().get());
}

// No false positive: B hands A's promise to C (the reply_to pattern) and then waits for A. C
// answers A, A's handler returns, A answers B: nobody waits for ever.
struct answer_for_me {
    troupe::promise<std::string> reply;
};
struct forwarded {
    using reply_type = std::string;
};
class answerer : public troupe::actor {
public:
    void handle(answer_for_me m) { m.reply.set_value("answered by C"); }
};
class forwarder;
struct ask_forwarder {
    troupe::ref<forwarder> b;
};
class first_asker : public troupe::actor {
public:
    std::string handle(ask_forwarder m);
    std::string handle(ping) { return "pong from A"; }
};
class forwarder : public troupe::actor {
public:
    forwarder(troupe::ref<answerer> c) : c_(std::move(c)) {}
    void set_a(troupe::ref<first_asker> a) { a_ = std::move(a); }
    void handle(forwarded, troupe::promise<std::string> p) {
        c_.tell(answer_for_me{std::move(p)});
        result_ = outcome([this] { last_ = a_.ask(ping{}).get(patience()); });
    }
    std::string handle(get_notes) { return result_ + " / " + last_; }

private:
    troupe::ref<answerer> c_;
    troupe::ref<first_asker> a_;
    std::string result_;
    std::string last_;
};
std::string first_asker::handle(ask_forwarder m) {
    return m.b.ask(forwarded{}).get(patience());
}

TEST(ref, waiting_after_handing_a_promise_on_is_no_deadlock) {
    troupe::system sys(troupe_test::small_system(3));
    auto c = sys.spawn<answerer>();
    auto b = sys.spawn<forwarder>(c);
    auto a = sys.spawn<first_asker>();
    b.call(&forwarder::set_a, a).get(patience());
    EXPECT_EQ(a.ask(ask_forwarder{b}).get(patience()), "answered by C");
    EXPECT_EQ(b.ask(get_notes{}).get(patience()), "returned / pong from A");
}

// ---- future::then inside an actor ---------------------------------------------------------

// Inside an actor, a continuation runs as a turn of the asking actor, never inside the turn of
// the actor that answered (where touching the asker's state would be a data race).
struct add_via_then {
    troupe::ref<recorder> other;
};
struct total_so_far {};
struct then_on_dead {
    troupe::ref<recorder> other;
};

class accumulator : public troupe::actor {
public:
    void handle(add_via_then m) {
        pending_.push_back(m.other.ask(count{}).then([this](long n) {
            // The continuation's thread is running this actor, not the one that answered.
            ran_as_own_turn_ =
                troupe::detail::running_cell() != nullptr && troupe::detail::running_cell()->id() == self().id();
            total_ += n + 1;
        }));
    }
    std::pair<long, bool> handle(total_so_far) { return {total_, ran_as_own_turn_}; }
    std::string handle(then_on_dead m) {
        auto f = m.other.ask(count{}).then([](long n) { return n; });
        return outcome([&] { (void)f.get(troupe_test::scaled(500ms)); });  // it waits for this very turn
    }

private:
    long total_ = 0;
    bool ran_as_own_turn_ = false;
    std::vector<troupe::future<void>> pending_;
};

TEST(ref, then_inside_an_actor_runs_as_a_turn_of_that_actor) {
    troupe::system sys(small_system());
    auto other = sys.spawn<recorder>();
    auto acc = sys.spawn<accumulator>();
    acc.tell(add_via_then{other});
    acc.tell(add_via_then{other});
    // Each continuation is a turn queued after the reply: poll with asks until both have run.
    std::pair<long, bool> seen{0, false};
    for (int i = 0; i < 10'000 && seen.first != 2; ++i) {
        seen = acc.ask(total_so_far{}).get(patience());
    }
    EXPECT_EQ(seen.first, 2);
    EXPECT_TRUE(seen.second) << "the continuation ran inside another actor's turn";
}

TEST(ref, waiting_inside_an_actor_for_its_own_continuation_throws_deadlock) {
    troupe::system sys(small_system());
    auto other = sys.spawn<recorder>();
    auto acc = sys.spawn<accumulator>();
    const std::string result = acc.ask(then_on_dead{other}).get(patience());
    EXPECT_EQ(result.rfind("deadlock: ", 0), 0u) << result;
}

// ---- handles and identity ------------------------------------------------------------------

class base_actor : public troupe::actor {
public:
    std::string handle(ping) { return "base"; }
};
class derived_actor : public base_actor {
public:
    using base_actor::handle;
    int handle(count) { return 1; }
};

TEST(ref, refs_compare_hash_and_convert_to_a_base) {
    troupe::system sys(small_system());
    auto d = sys.spawn<derived_actor>();
    auto other = sys.spawn<derived_actor>();
    troupe::ref<base_actor> b = d;
    EXPECT_EQ(b.id(), d.id());
    EXPECT_EQ(b.ask(ping{}).get(patience()), "base");
    auto copy = d;
    EXPECT_TRUE(copy == d);
    EXPECT_FALSE(other == d);
    std::unordered_set<troupe::ref<derived_actor>> set{d, copy, other};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_TRUE(static_cast<bool>(d));
}

TEST(ref, an_empty_ref_refuses_everything) {
    troupe::ref<recorder> r;
    EXPECT_FALSE(r);
    EXPECT_FALSE(r.alive());
    EXPECT_EQ(r.id(), 0u);
    EXPECT_EQ(r.name(), "nobody");
    try {
        r.tell(ping{});
        FAIL() << "expected troupe::actor_dead";
    } catch (const troupe::actor_dead& e) {
        EXPECT_STREQ(e.what(), "cannot send through an empty ref");
    }
    EXPECT_THROW((void)r.ask(ping{}), troupe::actor_dead);
    EXPECT_THROW((void)r.stop(), troupe::actor_dead);
}

// try_tell reports a refusal by returning false instead of throwing.
TEST(ref, try_tell_returns_false_instead_of_throwing) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<recorder>(troupe_test::bounded(1, troupe::overflow::fail));
    r.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    EXPECT_TRUE(r.try_tell(note{"fits"}));
    EXPECT_FALSE(r.try_tell(note{"full"}));
    release.open();
    ASSERT_TRUE(r.stop());
    EXPECT_FALSE(r.try_tell(note{"dead"}));
    EXPECT_FALSE(troupe::ref<recorder>().try_tell(note{"nobody"}));
}

// ---- LC-15 (hazard): nothing sent to a stopping actor is lost silently ---------------------

struct told {};
struct asked {
    int n;
};

class target : public troupe::actor {
public:
    target(std::atomic<long>& handled, gate& enough, long stop_after, bool self_stop)
        : handled_(handled), enough_(enough), stop_after_(stop_after), self_stop_(self_stop) {}
    void handle(told) {
        if (++handled_ == stop_after_) {
            if (self_stop_) {
                self().stop();
            }
            enough_.open();
        }
    }
    int handle(asked a) { return a.n; }

private:
    std::atomic<long>& handled_;
    gate& enough_;
    long stop_after_;
    bool self_stop_;
};

struct sender_report {
    long tells_accepted = 0;
    long tells_refused = 0;
    std::vector<troupe::future<int>> asks;
};

void race_sends_with_a_stop(const troupe::spawn_options& options, bool self_stop) {
    constexpr long sends_per_thread = 10'000;
    constexpr long stop_after = 1'000;
    for (int round = 0; round < 3; ++round) {
        std::atomic<long> handled{0};
        gate enough;
        troupe::system sys(small_system());
        auto r = sys.spawn<target>(options, handled, enough, stop_after, self_stop);
        std::vector<sender_report> reports(2);
        auto send = [&](sender_report& out) {
            out.asks.reserve(sends_per_thread);
            for (long i = 0; i < sends_per_thread; ++i) {
                try {
                    r.tell(told{});
                    ++out.tells_accepted;
                } catch (const troupe::actor_dead&) {
                    ++out.tells_refused;
                }
                out.asks.push_back(r.ask(asked{static_cast<int>(i)}));
            }
        };
        std::thread a(send, std::ref(reports[0]));
        std::thread b(send, std::ref(reports[1]));
        ASSERT_TRUE(enough.wait());
        if (!self_stop) {
            (void)r.stop_async();
        }
        a.join();
        b.join();
        ASSERT_NO_THROW(r.terminated().get(patience()));
        long accepted = 0;
        long answered = 0;
        long refused_asks = 0;
        for (auto& rep : reports) {
            accepted += rep.tells_accepted;
            EXPECT_EQ(rep.tells_accepted + rep.tells_refused, sends_per_thread);
            for (std::size_t i = 0; i < rep.asks.size(); ++i) {
                auto& f = rep.asks[i];
                ASSERT_TRUE(f.wait_for(patience())) << "an ask was never completed";
                try {
                    EXPECT_EQ(f.get(), static_cast<int>(i));
                    ++answered;
                } catch (const troupe::actor_dead&) {
                    ++refused_asks;
                }
            }
        }
        EXPECT_EQ(handled.load(), accepted) << "every accepted tell is handled";
        EXPECT_EQ(answered + refused_asks, 2 * sends_per_thread);
        EXPECT_GE(handled.load(), stop_after);
    }
}

TEST(ref_stress, sends_racing_a_stop_are_handled_or_refused) {
    race_sends_with_a_stop({}, false);
}

TEST(ref_stress, sends_racing_a_self_stop_are_handled_or_refused) {
    race_sends_with_a_stop({}, true);
}

TEST(ref_stress, sends_racing_a_stop_of_a_dedicated_thread_actor_are_handled_or_refused) {
    race_sends_with_a_stop(troupe_test::dedicated(), false);
}

TEST(ref_stress, sends_racing_a_stop_of_a_bounded_blocking_mailbox_are_handled_or_refused) {
    race_sends_with_a_stop(troupe_test::bounded(64, troupe::overflow::block), false);
}

}  // namespace ref_tests
