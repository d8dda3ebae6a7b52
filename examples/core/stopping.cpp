// Stopping: a stop comes after the messages already queued and refuses later ones; stop() waits,
// stop_async() does not, stop(timeout) gives up waiting; an actor that waits for itself is told.
// kill() ends an actor without on_stop, and returns before it has ended.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <syncstream>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

struct work {};
/// Handled by waiting until `gate` completes; `started` says that the handler runs.
struct wait_for {
    troupe::future<void> gate;
    troupe::promise<void> started{};
};
/// Asks the actor to wait for its own stop (a mistake troupe reports).
struct stop_and_wait {};

class worker : public troupe::actor {
public:
    explicit worker(int& handled_when_stopped) : handled_when_stopped_(handled_when_stopped) {}

    void handle(work) { ++handled_; }
    void handle(wait_for w) {
        w.started.set_value();
        w.gate.wait();
    }
    bool handle(stop_and_wait) {
        try {
            troupe::ref{this}.stop();  // waits for this very handler to end: never
        } catch (const troupe::deadlock& e) {
            std::osyncstream(std::cout) << "  (" << e.what() << ")\n";
            return true;  // the stop was requested all the same; only the wait was refused
        }
        return false;
    }

protected:
    void on_stop() override { handled_when_stopped_ = handled_; }

private:
    int handled_ = 0;
    int& handled_when_stopped_;
};

using example::check;

int main() {
    troupe::system sys;

    // The stop is queued behind the messages sent before it; stop() returns once on_stop ran.
    int handled = 0;
    auto w = sys.spawn<worker>(handled);
    for (int i = 0; i < 1000; ++i) {
        w.tell(work{});
    }
    check(w.stop(), "stop() returns true when it stopped the actor");
    check(handled == 1000, "every message sent before the stop was handled");
    check(!w.stop(), "stop() returns false when the actor was already stopped");

    // Later sends are refused: tell throws, ask fails its future.
    try {
        w.tell(work{});
        check(false, "tell to a stopped actor throws actor_dead");
    } catch (const troupe::actor_dead&) {
        check(true, "tell to a stopped actor throws actor_dead");
    }
    check(w.ask(work{}).failed(), "ask to a stopped actor returns a failed future");

    // stop_async() returns at once; alive() is false from the moment the stop is requested.
    // stop(timeout) throws troupe::timeout if the actor is still busy; the stop still happens.
    int unused = 0;
    troupe::spawn_options own_thread;
    own_thread.dedicated_thread = true;  // its handler blocks
    auto busy = sys.spawn<worker>(own_thread, unused);
    troupe::promise<void> gate;
    busy.tell(wait_for{gate.get_future()});
    troupe::future<bool> stopped = busy.stop_async();
    check(!busy.alive(), "alive() is false once a stop is requested");
    try {
        busy.stop(20ms);
        check(false, "stop(timeout) gives up while the actor is busy");
    } catch (const troupe::timeout&) {
        check(true, "stop(timeout) gives up while the actor is busy");
    }
    gate.set_value();
    check(stopped.get(), "the stop completes once the actor is free");

    // An actor that waits for its own stop (or its own reply) would wait for ever: deadlock.
    auto self_stopper = sys.spawn<worker>(unused);
    check(self_stopper.ask(stop_and_wait{}).get(), "waiting for oneself throws troupe::deadlock");
    self_stopper.terminated().get();
    check(!self_stopper.alive(), "the actor stopped anyway");

    // kill() refuses what is queued and skips on_stop. It returns at once, before the actor has
    // ended (a handler that is running finishes first): wait with terminated() or exited().
    int untouched = -1;
    auto doomed = sys.spawn<worker>(own_thread, untouched);
    troupe::promise<void> release;
    troupe::promise<void> running;
    troupe::future<void> is_running = running.get_future();
    doomed.tell(wait_for{release.get_future(), std::move(running)});
    is_running.wait();
    troupe::future<void> queued = doomed.ask(work{});
    check(doomed.kill(), "kill() returns true for an actor that had not ended");
    check(!doomed.alive() && !doomed.terminated().ready(), "kill() returned before the actor ended");
    release.set_value();
    troupe::exit_reason why = doomed.exited().get();
    check(why.what == troupe::exit_reason::kind::killed, "exited() completes once it has ended: killed");
    check(queued.failed() && untouched == -1, "the queued ask was refused, and on_stop did not run");
    return example::exit_status();
}
