// Pykka's "Replying to messages": a handler that takes a promise (Pykka's reply_to) answers the
// asker whenever it likes: at once, or later, from another message.

#include <troupe/troupe.hpp>

#include <iostream>
#include <string>
#include <syncstream>
#include <utility>
#include <vector>

#include "../check.hpp"

/// A message whose handler answers through a promise declares the answer's type.
struct hi {
    using reply_type = std::string;
};
/// Answered once a guest arrives.
struct wait_for_guest {
    using reply_type = std::string;
};
/// Told: a guest arrived.
struct guest_arrived {
    std::string name;
};

class greeter : public troupe::actor {
public:
    // Pykka: message['reply_to'].set('Hi there!')
    void handle(hi, troupe::promise<std::string> reply_to) { reply_to.set_value("Hi there!"); }

    // Keep the promise and answer later, when another message comes.
    void handle(wait_for_guest, troupe::promise<std::string> reply_to) { waiting_.push_back(std::move(reply_to)); }
    void handle(guest_arrived g) {
        for (auto& reply_to : waiting_) {
            reply_to.set_value(g.name + " is here");
        }
        waiting_.clear();
    }

private:
    std::vector<troupe::promise<std::string>> waiting_;
};

using example::check;

int main() {
    troupe::system sys;
    auto actor_ref = sys.spawn<greeter>();

    std::string answer = actor_ref.ask(hi{}).get();
    std::cout << answer << '\n';
    check(answer == "Hi there!", "the handler answered through its promise");

    auto first = actor_ref.ask(wait_for_guest{});
    auto second = actor_ref.ask(wait_for_guest{});
    check(!first.ready() && !second.ready(), "no answer before the guest arrives");
    actor_ref.tell(guest_arrived{"Ann"});
    check(first.get() == "Ann is here" && second.get() == "Ann is here", "both askers got the later answer");

    // A promise dropped without an answer fails its future: no asker waits for ever.
    auto never = actor_ref.ask(wait_for_guest{});
    actor_ref.stop();  // the actor and the promise it kept are destroyed
    try {
        never.get();
        check(false, "a dropped promise fails the asker with broken_promise");
    } catch (const troupe::broken_promise& e) {
        std::cout << "  (" << e.what() << ")\n";
        check(true, "a dropped promise fails the asker with broken_promise");
    }
    return example::exit_status();
}
