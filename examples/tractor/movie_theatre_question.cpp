// tractor's "Actor spawning and causality", second part: start_actor starts a daemon process
// actor that serves calls until it is cancelled. It serves only the namespaces it is started
// with (tractor's rpc_module_paths).

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <iostream>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace theatre {
/// A question asked in a dark theatre, in a different process.
std::string movie_theatre_question() {
    return "have you ever seen a portal?";
}
}  // namespace theatre
TROUPE_EXPOSE(theatre, movie_theatre_question);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        std::string first;
        std::string second;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            // Enable the actor to run the functions of this namespace; let it log at info level.
            troupe::portal frank = an.start_actor("frank", {.enable = {"theatre"}, .log_level = "info"});

            first = co_await frank.run(&theatre::movie_theatre_question);  // typed, by pointer
            std::cout << first << '\n';
            // Call the subactor a second time, by name this time.
            second = co_await frank.run<std::string>("theatre", "movie_theatre_question");
            std::cout << second << '\n';

            // The block would wait here for ever for frank, a daemon, to end: cancel it.
            co_await frank.cancel_actor();
        });

        check(first == "have you ever seen a portal?", "the daemon answers a call");
        check(second == first, "and a second one, by name");
        check(example::no_child_left(), "cancel_actor ended frank's process");
        return example::exit_status();
    });
}
