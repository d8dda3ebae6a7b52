#include <troupe/async/await.hpp>

#include <troupe/core/inbox.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "core/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using troupe_test::patience;

troupe::system_options two_workers() {
    return troupe::system_options{.scheduler = {.workers = 2}};
}

struct double_it {
    int v;
};
class doubler : public troupe::actor {
public:
    int handle(double_it m) { return m.v * 2; }
};

struct compute {
    int v;
};
struct record {
    std::string what;
};
struct history {};

/// Awaits another actor inside a handler; under reentrancy::none nothing else runs meanwhile.
class client : public troupe::actor {
public:
    explicit client(troupe::ref<doubler> d) : d_(std::move(d)) {}
    troupe::task<int> handle(compute m) {
        log_.push_back("start " + std::to_string(m.v));
        int r = co_await d_.ask(double_it{m.v});
        log_.push_back("got " + std::to_string(r));
        co_return r + 1;
    }
    void handle(record r) { log_.push_back(r.what); }
    std::vector<std::string> handle(history) { return log_; }

private:
    troupe::ref<doubler> d_;
    std::vector<std::string> log_;
};

TEST(await, a_coroutine_handler_awaits_an_ask_and_answers) {
    troupe::system sys(two_workers());
    auto c = sys.spawn<client>(sys.spawn<doubler>());
    EXPECT_EQ(c.ask(compute{20}).get(patience()), 41);
}

TEST(await, under_none_the_mailbox_waits_for_the_suspended_handler) {
    troupe::system sys(two_workers());
    auto c = sys.spawn<client>(sys.spawn<doubler>());
    auto f = c.ask(compute{1});
    c.tell(record{"later"});
    EXPECT_EQ(f.get(patience()), 3);
    EXPECT_EQ(c.ask(history{}).get(patience()), (std::vector<std::string>{"start 1", "got 2", "later"}));
}

struct nap {
    int ms;
};
class sleeper : public troupe::actor {
public:
    troupe::task<std::string> handle(nap n) {
        co_await troupe::sleep_for(std::chrono::milliseconds(n.ms));
        co_return "rested";
    }
};

TEST(await, sleep_for_resumes_on_the_actor) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sleeper>();
    EXPECT_EQ(s.ask(nap{1}).get(patience()), "rested");
}

TEST(await, stopping_cancels_a_suspended_handler) {
    troupe::system sys(two_workers());
    auto s = sys.spawn<sleeper>();
    auto f = s.ask(nap{60'000});
    EXPECT_TRUE(s.stop(patience()));
    EXPECT_THROW(f.get(patience()), troupe::cancelled);
}

struct ask_myself {};
class narcissus : public troupe::actor {
public:
    int handle(double_it m) { return m.v; }
    troupe::task<int> handle(ask_myself) { co_return co_await troupe::ref{this}.ask(double_it{1}); }
};

TEST(await, awaiting_its_own_ask_under_none_fails_fast) {
    troupe::system sys(two_workers());
    auto n = sys.spawn<narcissus>();
    EXPECT_THROW(n.ask(ask_myself{}).get(patience()), troupe::deadlock);
    EXPECT_EQ(n.ask(double_it{5}).get(patience()), 5) << "the actor goes on";
}

class echo_interleaved : public troupe::actor {
public:
    static constexpr troupe::reentrancy reentrancy_policy = troupe::reentrancy::interleave;
    int handle(double_it m) { return m.v; }
    troupe::task<int> handle(ask_myself) { co_return 1 + co_await troupe::ref{this}.ask(double_it{1}); }
};

TEST(await, under_interleave_an_actor_can_await_itself) {
    troupe::system sys(two_workers());
    auto e = sys.spawn<echo_interleaved>();
    EXPECT_EQ(e.ask(ask_myself{}).get(patience()), 2);
}

struct boom {};
class failing : public troupe::actor {
public:
    troupe::task<void> handle(boom) {
        co_await troupe::sleep_for(1ms);
        throw std::runtime_error("late boom");
    }
};

TEST(await, a_told_coroutine_that_throws_fails_the_actor) {
    troupe_test::log_capture quiet;
    troupe::system sys(two_workers());
    auto f = sys.spawn<failing>();
    f.tell(boom{});
    f.terminated().get(patience());
    EXPECT_FALSE(f.alive());
}

TEST(await, an_asked_coroutine_that_throws_answers_with_the_exception) {
    troupe::system sys(two_workers());
    auto f = sys.spawn<failing>();
    EXPECT_THROW(f.ask(boom{}).get(patience()), std::runtime_error);
    EXPECT_TRUE(f.alive());
}

}  // namespace

namespace {

struct wait_for_note {
    troupe::inbox* in;
};
struct note {
    std::string text;
};
class listener : public troupe::actor {
public:
    troupe::task<std::string> handle(wait_for_note w) {
        note n = co_await w.in->receive_async<note>();
        co_return "heard " + n.text;
    }
};

TEST(await, a_coroutine_awaits_an_inbox) {
    troupe::system sys(two_workers());
    troupe::inbox in(sys);
    auto l = sys.spawn<listener>();
    auto f = l.ask(wait_for_note{&in});
    in.address().tell(note{"hi"});
    EXPECT_EQ(f.get(patience()), "heard hi");
}

}  // namespace

namespace {

struct segment_work {
    int id;
};
struct overlaps_seen {};

/// Under interleave, many handlers are suspended at once; each stretch of code between two
/// awaits must still run alone, on a turn of this actor.
class interleaver : public troupe::actor {
public:
    static constexpr troupe::reentrancy reentrancy_policy = troupe::reentrancy::interleave;
    troupe::task<int> handle(segment_work w) {
        for (int step = 0; step < 3; ++step) {
            enter();
            leave();
            co_await troupe::sleep_for(std::chrono::microseconds(50 * (w.id % 4)));
        }
        co_return w.id;
    }
    int handle(overlaps_seen) { return overlaps_ + (outside_turn_ ? 1000 : 0); }

private:
    void enter() {
        if (running_.fetch_add(1) != 0) {
            ++overlaps_;
        }
        if (troupe::detail::running_cell() == nullptr) {
            outside_turn_ = true;
        }
    }
    void leave() { running_.fetch_sub(1); }

    std::atomic<int> running_{0};
    int overlaps_ = 0;
    bool outside_turn_ = false;
};

TEST(await, interleaved_coroutines_never_run_at_the_same_time) {
    troupe::system sys(two_workers());
    auto a = sys.spawn<interleaver>();
    std::vector<troupe::future<int>> answers;
    for (int i = 0; i < 200; ++i) {
        answers.push_back(a.ask(segment_work{i}));
    }
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(answers[static_cast<std::size_t>(i)].get(patience()), i);
    }
    EXPECT_EQ(a.ask(overlaps_seen{}).get(patience()), 0);
}

}  // namespace

namespace {

struct ping_peer {};
struct peer_is {
    troupe::address who;
};
struct answer_back {};

/// Two actors whose coroutine handlers await each other's asks under reentrancy::none.
class ring_half : public troupe::actor {
public:
    using handles = troupe::handles<peer_is, ping_peer, answer_back, nap>;
    void handle(peer_is p) { peer_ = p.who; }
    troupe::task<std::string> handle(nap n) {
        co_await troupe::sleep_for(std::chrono::milliseconds(n.ms));
        co_return "rested";
    }
    troupe::task<int> handle(ping_peer) { co_return co_await peer_.ask<int>(answer_back{}); }
    troupe::task<int> handle(answer_back) { co_return co_await peer_.ask<int>(answer_back{}); }

private:
    troupe::address peer_;
};

TEST(await, a_refused_await_leaves_nothing_registered) {
    troupe_test::log_capture quiet;
    troupe::system sys(two_workers());
    auto a = sys.spawn<ring_half>();
    auto b = sys.spawn<ring_half>();
    a.tell(peer_is{b});
    b.tell(peer_is{a});
    // a awaits b, whose handler awaits a: the second await closes a cycle and is refused.
    EXPECT_THROW(a.ask(ping_peer{}).get(patience()), troupe::deadlock);
    // Stopping b while a handler of it is suspended cancels every await registered with it; the
    // refused one must not be among them.
    auto napping = b.ask(nap{60'000});
    EXPECT_TRUE(b.stop(patience()));
    EXPECT_THROW(napping.get(patience()), troupe::cancelled);
    EXPECT_TRUE(a.stop(patience()));
}

// A coroutine handler that takes its message by reference reads the message, not freed memory,
// after it suspends: the message lives as long as the coroutine.
struct long_text {
    std::string text;
};
class by_reference : public troupe::actor {
public:
    explicit by_reference(troupe::ref<doubler> d) : d_(std::move(d)) {}
    troupe::task<std::string> handle(const long_text& m) {
        auto reply = d_.ask(double_it{1});
        (void)co_await std::move(reply);  // the envelope that held `m` is no longer being run
        co_return m.text;
    }

private:
    troupe::ref<doubler> d_;
};

TEST(await, a_handler_taking_its_message_by_reference_reads_it_after_suspending) {
    troupe::system sys(two_workers());
    auto d = sys.spawn<doubler>();
    auto r = sys.spawn<by_reference>(d);
    std::vector<troupe::future<std::string>> replies;
    for (int i = 0; i < 100; ++i) {
        replies.push_back(r.ask(long_text{"message number " + std::to_string(i) + " with a long tail of text"}));
        d.tell(double_it{i});  // fresh envelopes that would reuse a freed one's memory
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(replies[i].get(patience()), "message number " + std::to_string(i) + " with a long tail of text");
    }
}

}  // namespace
