// Pykka's "Sending messages": tell, ask that blocks, ask with a timeout, and ask that returns a
// future to get() later.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <syncstream>
#include <thread>

#include "../check.hpp"

using namespace std::chrono_literals;

/// Told: nothing answers it.
struct note {
    std::string text;
};
/// Asked: the handler's return value is the answer.
struct question {
    std::string text;
};
/// Asked, and the answer takes a while.
struct hard_question {
    std::string text;
    std::chrono::milliseconds thinking;
};

class oracle : public troupe::actor {
public:
    void handle(note n) { std::osyncstream(std::cout) << self().name() << " got a note: " << n.text << '\n'; }
    std::string handle(question q) { return "You asked: " + q.text; }
    std::string handle(hard_question q) {
        std::this_thread::sleep_for(q.thinking);  // blocking is fine: this actor has its own thread
        return "After some thought: " + q.text;
    }
};

using example::check;

int main() {
    troupe::system sys;
    troupe::spawn_options own_thread;
    own_thread.dedicated_thread = true;  // its handlers block, so keep them off the shared workers
    auto ref = sys.spawn<oracle>(own_thread);

    // Returns nothing. Never blocks.
    ref.tell(note{"Hi!"});

    // May block forever waiting for an answer.
    std::string answer = ref.ask(question{"Hi?"}).get();
    std::cout << answer << '\n';
    check(answer == "You asked: Hi?", "ask().get() returns the handler's result");

    // May wait 50 ms for an answer, then throws troupe::timeout.
    try {
        ref.ask(hard_question{"Hi?", 300ms}).get(50ms);
        check(false, "get(timeout) gives up when the answer is late");
    } catch (const troupe::timeout& e) {
        std::cout << "timed out: " << e.what() << '\n';
        check(true, "get(timeout) gives up when the answer is late");
    }

    // Returns a future at once; get() it when the answer is needed.
    troupe::future<std::string> future = ref.ask(hard_question{"Still there?", 100ms});
    check(!future.ready(), "ask() returns before the answer is there");
    try {
        future.get(10ms);  // may wait 10 ms, then throws
        check(false, "the answer is not there within 10 ms");
    } catch (const troupe::timeout&) {
        check(true, "the answer is not there within 10 ms");
    }
    answer = future.get(10s);  // a timeout does not spoil the future: wait again
    std::cout << answer << '\n';
    check(answer == "After some thought: Still there?", "future.get() returns the answer once it is there");
    return example::exit_status();
}
