// A test system's shutdown (its destructor, or t.shutdown()) runs what is queued, then stops
// every actor, newest first, running their last turns on the test's own thread: on_stop runs
// for each, suspended coroutines are cancelled, pending timers are dropped.

#include <troupe/async/await.hpp>
#include <troupe/testing/test_system.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;
using example::check;
using troupe::testing::test_system;

struct tick {};
/// Writes its ticks and its stop to a journal, and whether it stopped on the test's thread.
class stopper : public troupe::actor {
public:
    stopper(std::string name, std::vector<std::string>& journal) : name_(std::move(name)), journal_(journal) {}
    void handle(tick) { journal_.push_back(name_ + " tick"); }

protected:
    void on_stop() override {
        const bool here = std::this_thread::get_id() == test_thread_;
        journal_.push_back(name_ + (here ? " stopped" : " stopped on another thread"));
    }

private:
    std::string name_;
    std::vector<std::string>& journal_;                         // a plain vector: every turn runs on the test's thread
    std::thread::id test_thread_ = std::this_thread::get_id();  // the constructor runs there too
};

struct nap {
    std::chrono::milliseconds length;
};
class sleeper : public troupe::actor {
public:
    troupe::task<void> handle(nap n) { co_await troupe::sleep_for(n.length); }
};

void the_destructor_stops_every_actor_newest_first_on_the_test_thread() {
    std::vector<std::string> journal;
    troupe::future<void> napping;
    {
        test_system t;
        auto a = t.spawn<stopper>("a", journal);
        t.spawn<stopper>("b", journal);
        t.spawn<stopper>("c", journal);
        a.tell(tick{});                               // queued before the stops: handled first
        t.sys().timers().send_every(a, 1ms, tick{});  // never fires: time does not move
        napping = t.spawn<sleeper>().ask(nap{1h});    // a suspended coroutine, cancelled
    }
    check(journal == std::vector<std::string>{"a tick", "c stopped", "b stopped", "a stopped"},
          "the queued tick ran first, then the stops, newest first, on this thread");
    check(napping.failed(), "the sleeping coroutine was cancelled");
}

int main() {
    try {
        the_destructor_stops_every_actor_newest_first_on_the_test_thread();
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
