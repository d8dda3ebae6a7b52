// t.await(f) runs turns until the future f is ready: an ask's answer without blocking. If the
// system goes idle first, nothing can ever complete it, and await throws
// troupe::testing::stuck at once, with the reason, instead of hanging the test.

#include <troupe/async/await.hpp>
#include <troupe/testing/test_system.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;
using example::check;
using troupe::testing::test_system;

struct later {
    using reply_type = int;
};
struct answer {
    int v;
};
/// Keeps the promise of each `later` until an `answer` comes.
class procrastinator : public troupe::actor {
public:
    void handle(later, troupe::promise<int> reply) { waiting_.push_back(std::move(reply)); }
    void handle(answer a) {
        for (auto& reply : waiting_) {
            reply.set_value(a.v);
        }
        waiting_.clear();
    }

private:
    std::vector<troupe::promise<int>> waiting_;
};

void await_of_a_future_nothing_will_complete_throws_stuck() {
    test_system t;
    auto p = t.spawn<procrastinator>();
    auto f = p.ask(later{});
    try {
        t.await(f);
        check(false, "await throws stuck");
    } catch (const troupe::testing::stuck& e) {
        std::cout << e.what() << '\n';
        check(std::string(e.what()).find("no timer is pending") != std::string::npos, "await throws stuck at once");
    }
    // The test can still go on: the answer comes, and the same future completes.
    p.tell(answer{7});
    check(t.await(f) == 7, "the same future completes later");
}

struct brew {};
/// Answers after a minute of (virtual) time.
class slow_kettle : public troupe::actor {
public:
    troupe::task<std::string> handle(brew) {
        co_await troupe::sleep_for(1min);
        co_return "tea";
    }
};

void the_reason_names_the_next_timer() {
    test_system t;
    t.advance(1500ms);
    auto tea = t.spawn<slow_kettle>().ask(brew{});
    try {
        t.await(tea);
        check(false, "await throws stuck");
    } catch (const troupe::testing::stuck& e) {
        std::cout << e.what() << '\n';
        check(std::string(e.what()).find("a timer is due at 61500 ms") != std::string::npos,
              "the reason says when the next timer is due");
    }
    t.advance(1min);
    check(t.await(tea) == "tea", "once the clock has moved, the answer is there");
}

int main() {
    try {
        await_of_a_future_nothing_will_complete_throws_stuck();
        the_reason_names_the_next_timer();
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
