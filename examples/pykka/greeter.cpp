// Pykka's "A basic actor": a greeter that prints its greeting. It takes the greeting as a start
// argument, is stopped from outside, and can stop itself.

#include <troupe/troupe.hpp>

#include <iostream>
#include <string>
#include <syncstream>
#include <utility>

#include "../check.hpp"

/// A message: greet someone. Any type can be a message; this one carries nothing.
struct hello {};
/// A message that asks the greeter to stop itself.
struct goodbye {};

class greeter : public troupe::actor {
public:
    // Runs on the thread that calls spawn, like Pykka's __init__.
    explicit greeter(std::string greeting = "Hi there!") : greeting_(std::move(greeting)) {}

    // Handlers run on the actor's executor, one message at a time.
    std::string handle(hello) {
        std::osyncstream(std::cout) << self().name() << ": " << greeting_ << '\n';
        return greeting_;
    }
    void handle(goodbye) {
        std::osyncstream(std::cout) << self().name() << ": stopping myself\n";
        self().stop();  // Pykka: self.stop()
    }

protected:
    // Hooks run in the actor's own execution context.
    void on_start() override { std::osyncstream(std::cout) << self().name() << ": started\n"; }
    void on_stop() override { std::osyncstream(std::cout) << self().name() << ": stopped\n"; }

private:
    std::string greeting_;
};

using example::check;

int main() {
    troupe::system sys;

    auto plain = sys.spawn<greeter>();            // Greeter.start()
    auto custom = sys.spawn<greeter>("Hi you!");  // Greeter.start(greeting='Hi you!')

    plain.tell(hello{});
    check(custom.ask(hello{}).get() == "Hi you!", "the greeting given at start is used");

    // Pykka: actor_ref.stop(). The hello told above is handled first; stop() waits for on_stop.
    check(plain.stop(), "stop() from outside stops the actor");
    check(!plain.alive(), "a stopped actor is not alive");

    // Pykka: self.stop() inside the actor. terminated() completes once it has stopped.
    custom.tell(goodbye{});
    custom.terminated().get();
    check(!custom.alive(), "an actor can stop itself");

    // Once stopped, an actor cannot be restarted and takes no more messages.
    try {
        plain.tell(hello{});
        check(false, "a stopped actor refuses messages");
    } catch (const troupe::actor_dead& e) {
        check(true, "a stopped actor refuses messages");
        std::cout << "  (" << e.what() << ")\n";
    }
    return example::exit_status();
}
