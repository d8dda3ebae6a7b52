// Exit reasons: every actor ends normal (it stopped itself), stopped (from outside), failed (a
// tell's handler threw) or killed. ref.exited() is a future of the reason: block on it from
// outside, or co_await it in a coroutine handler.

#include <troupe/async/await.hpp>
#include <troupe/troupe.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "../check.hpp"

struct quit {};
struct crash {};
class subject : public troupe::actor {
public:
    void handle(quit) { self().stop(); }
    void handle(crash) { throw std::runtime_error("boom"); }
};

/// Asks an undertaker to wait for `who` to end.
struct bury {
    troupe::ref<troupe::actor> who;
};
class undertaker : public troupe::actor {
public:
    troupe::task<std::string> handle(bury b) {
        troupe::future<troupe::exit_reason> ended = b.who.exited();
        troupe::exit_reason why = co_await std::move(ended);  // Actorio: await actor
        co_return b.who.name() + " ended: " + why.describe();
    }
};

using example::check;

int main() {
    troupe::system sys;
    auto a = sys.spawn<subject>();
    auto b = sys.spawn<subject>();
    auto c = sys.spawn<subject>();
    auto d = sys.spawn<subject>();

    a.tell(quit{});   // normal: it stopped itself
    b.stop();         // stopped: from outside
    c.tell(crash{});  // failed: a tell's handler threw
    d.kill();         // killed

    troupe::exit_reason normal = a.exited().get();
    troupe::exit_reason stopped = b.exited().get();
    troupe::exit_reason failed = c.exited().get();
    troupe::exit_reason killed = d.exited().get();
    for (const auto& why : {normal, stopped, failed, killed}) {
        std::cout << "  " << why.describe() << (why.abnormal() ? " (abnormal)" : "") << '\n';
    }
    check(normal.what == troupe::exit_reason::kind::normal && !normal.abnormal(), "self().stop() is normal");
    check(stopped.what == troupe::exit_reason::kind::stopped && !stopped.abnormal(), "ref.stop() is stopped");
    check(failed.describe() == "failed: std::runtime_error: boom" && failed.abnormal(),
          "a throwing tell is failed, with the exception");
    check(killed.what == troupe::exit_reason::kind::killed && killed.abnormal(), "ref.kill() is killed");

    // A coroutine handler waits for another actor's end without holding a thread.
    auto u = sys.spawn<undertaker>();
    auto e = sys.spawn<subject>();
    troupe::future<std::string> buried = u.ask(bury{e});
    e.tell(crash{});
    const std::string news = buried.get();
    std::cout << "  " << news << '\n';
    check(news == e.name() + " ended: failed: std::runtime_error: boom", "co_await ref.exited() gives the reason");
    return example::exit_status();
}
