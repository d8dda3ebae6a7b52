// Coroutine handlers: a handler that returns troupe::task<R> may co_await an ask, a sleep or
// another task without holding a thread. Under reentrancy::none (the default) the actor handles
// nothing else meanwhile; under reentrancy::interleave other messages run at each suspension.
// A stop cancels suspended awaits with troupe::cancelled.

#include <troupe/async/await.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

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
class client : public troupe::actor {
public:
    explicit client(troupe::ref<doubler> d) : d_(std::move(d)) {}
    troupe::task<int> handle(compute m) {
        int twice = co_await d_.ask(double_it{m.v});  // suspends; no thread is blocked
        co_await troupe::sleep_for(std::chrono::milliseconds(10));
        co_return twice + 1;
    }

private:
    troupe::ref<doubler> d_;
};

/// Asks the actor to await an ask of itself.
struct ask_myself {
    int v;
};

/// reentrancy::none: while a handler is suspended, the mailbox waits.
class loner : public troupe::actor {
public:
    int handle(double_it m) { return m.v * 2; }
    troupe::task<std::string> handle(ask_myself m) {
        troupe::future<int> mine = troupe::ref{this}.ask(double_it{m.v});
        try {
            co_await std::move(mine);  // it would wait for ever: its own mailbox waits for it
        } catch (const troupe::deadlock& e) {
            co_return e.what();
        }
        co_return "answered";
    }
};

/// reentrancy::interleave: other messages run at every suspension point.
class chatty : public troupe::actor {
public:
    static constexpr troupe::reentrancy reentrancy_policy = troupe::reentrancy::interleave;

    int handle(double_it m) { return m.v * 2; }
    troupe::task<int> handle(ask_myself m) {
        troupe::future<int> mine = troupe::ref{this}.ask(double_it{m.v});
        const int twice = co_await std::move(mine);  // handled while this handler is suspended
        co_return twice + 1;
    }
};

/// Sleeps as long as asked, and counts the sleeps that were cut short.
struct nap {
    std::chrono::milliseconds length;
};
class sleeper : public troupe::actor {
public:
    explicit sleeper(int& cancelled) : cancelled_(cancelled) {}
    troupe::task<std::string> handle(nap n) {
        try {
            co_await troupe::sleep_for(n.length);
        } catch (const troupe::cancelled&) {
            ++cancelled_;  // the coroutine unwinds; the exception goes on to the asker
            throw;
        }
        co_return "rested";
    }

private:
    int& cancelled_;
};

using example::check;

int main() {
    troupe::system sys;

    auto d = sys.spawn<doubler>();
    auto c = sys.spawn<client>(d);
    const int answer = c.ask(compute{20}).get();
    std::cout << "compute{20} = " << answer << '\n';
    check(answer == 41, "a coroutine handler awaits an ask and a sleep, then answers");

    // Under reentrancy::none an await of one's own ask can never end: troupe::deadlock at once.
    auto l = sys.spawn<loner>();
    const std::string refused = l.ask(ask_myself{1}).get();
    std::cout << "  (" << refused << ")\n";
    check(refused.find("would wait for ever") != std::string::npos, "awaiting one's own ask throws deadlock");

    // Under reentrancy::interleave the actor handles its own ask while the handler waits.
    auto ch = sys.spawn<chatty>();
    check(ch.ask(ask_myself{4}).get() == 9, "an interleaving actor may await its own asks");

    // A stop reaches a suspended handler: its await ends with troupe::cancelled. Under none, the
    // messages held back behind it are handled next, and their awaits fail at once.
    int cancelled = 0;
    auto s = sys.spawn<sleeper>(cancelled);
    troupe::future<std::string> first = s.ask(nap{1h});   // suspends
    troupe::future<std::string> second = s.ask(nap{1h});  // held back: the mailbox waits
    s.stop();
    try {
        first.get();
        check(false, "the suspended nap is cancelled");
    } catch (const troupe::cancelled& e) {
        std::cout << "  (" << e.what() << ")\n";
        check(true, "the suspended nap is cancelled");
    }
    try {
        second.get();
        check(false, "the held-back nap fails at once");
    } catch (const troupe::cancelled&) {
        check(true, "the held-back nap fails at once");
    }
    check(cancelled == 2, "both coroutines unwound through their catch before the actor ended");
    return example::exit_status();
}
