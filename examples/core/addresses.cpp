// Typed refs and untyped addresses. A ref<A> checks messages at compile time; an address reaches
// any actor that lists its messages with troupe::handles, and checks them at run time. An inbox
// gives code that is not an actor (here main) an address to receive on.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <syncstream>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;

struct greet {
    std::string name;
};
struct shout {
    std::string text;
};
/// Asks an actor to greet `name` and send the greeting to `reply_to`.
struct greet_to {
    std::string name;
    troupe::address reply_to;
};

class greeter : public troupe::actor {
public:
    using handles = troupe::handles<greet, greet_to>;  // what an address may send it

    std::string handle(greet g) { return "Hello, " + g.name + "!"; }
    void handle(greet_to g) { g.reply_to.tell("Hello, " + g.name + "!"); }
};

class robot : public troupe::actor {
public:
    using handles = troupe::handles<greet_to>;

    void handle(greet_to g) { g.reply_to.tell("GREETINGS, " + g.name + "."); }
};

using example::check;

int main() {
    troupe::system sys;
    troupe::ref<greeter> polite = sys.spawn<greeter>();

    // Typed: polite.tell(shout{"hey"}) would not compile, as greeter has no handle(shout).
    check(polite.ask(greet{"Ann"}).get() == "Hello, Ann!", "a typed ask");

    // Untyped: actors of different classes behind one type. They answer to an inbox, an address
    // that main() receives on.
    troupe::inbox inbox(sys);
    std::vector<troupe::address> everyone{polite, sys.spawn<robot>()};
    for (const troupe::address& a : everyone) {
        a.tell(greet_to{"Bob", inbox.address()});
    }
    for (std::size_t i = 0; i < everyone.size(); ++i) {
        std::cout << inbox.receive<std::string>(5s) << '\n';
    }
    check(inbox.size() == 0, "every actor behind an address answered");

    // A message the target does not handle goes to dead letters; an asker gets unhandled_message.
    everyone[1].tell(shout{"hey"});
    check(sys.dead_letters() == 1, "an unhandled tell is counted as a dead letter");
    try {
        everyone[1].ask<std::string>(shout{"hey"}).get();
        check(false, "an unhandled ask fails");
    } catch (const troupe::unhandled_message&) {
        check(true, "an unhandled ask fails with unhandled_message");
    }
    // Asking for the wrong reply type fails too.
    try {
        everyone[0].ask<int>(greet{"Cy"}).get();
        check(false, "an ask with the wrong reply type fails");
    } catch (const troupe::error& e) {
        std::cout << "  (" << e.what() << ")\n";
        check(true, "an ask with the wrong reply type fails");
    }

    // Nothing more is coming: receive(timeout) throws troupe::timeout.
    try {
        inbox.receive<std::string>(10ms);
        check(false, "receive(timeout) gives up");
    } catch (const troupe::timeout&) {
        check(true, "receive(timeout) gives up when nothing comes");
    }
    return example::exit_status();
}
