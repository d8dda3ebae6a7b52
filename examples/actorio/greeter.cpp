// Actorio's "Hello World": a Greeter answers any message by telling its sender "Hello World!",
// and main asks it, waiting for that answer. First as Actorio writes it (the reply is a message
// told to the sender, collected by an inbox), then as troupe would (the handler's return value
// answers an ask).

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <syncstream>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

/// Actorio's Message: it says who sent it, so that the receiver can answer.
struct message {
    troupe::address sender;
};
/// Actorio's DataMessage: some data, and who sent it.
struct data_message {
    std::string data;
    troupe::address sender;
};
/// The troupe way: a message whose handler's return value is the answer.
struct hello {};

class greeter : public troupe::actor {
public:
    using handles = troupe::handles<message>;  // what an address (a message's sender) may send it

    // Actorio: await message.sender.tell(DataMessage(data="Hello World!", sender=self))
    void handle(message m) { m.sender.tell(data_message{"Hello World!", self().address()}); }

    // troupe: the return value answers ref.ask(hello{}).
    std::string handle(hello) { return "Hello World!"; }
};

/// Actorio's ask(): send `m` with a fresh inbox as its sender and wait for the first answer.
data_message ask(troupe::system& sys, const troupe::ref<greeter>& to, message m) {
    troupe::inbox me(sys);
    m.sender = me.address();
    to.tell(std::move(m));
    return me.receive<data_message>(5s);
}

using example::check;

int main() {
    troupe::system sys;
    data_message reply;
    std::string answer;
    {
        // Actorio: async with Greeter() as greeter: the actor lives for this block.
        auto g = sys.spawn<greeter>();
        reply = ask(sys, g, message{});
        answer = g.ask(hello{}).get(5s);
        g.stop();  // the end of `async with`: waits until the greeter has stopped
    }
    std::cout << reply.data << '\n';
    check(reply.data == "Hello World!", "the greeter tells its answer to the sender");
    check(reply.sender.name().rfind("greeter#", 0) == 0, "the answer says who sent it");
    check(answer == "Hello World!", "ask() gives the handler's return value");
    return example::exit_status();
}
