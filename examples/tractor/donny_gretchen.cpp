// tractor's first example: two actors, donny and gretchen, find each other through the
// registrar (the root actor) and say their lines. Each waits for the other by name
// (wait_for_actor), then runs the other's hi() through a portal.
//
// They are daemons here, started with start_actor and given say_hello through their portals:
// a run_in_actor child ends as soon as its function returns, so the first to hear its partner
// could be gone before the partner calls it back.

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/discovery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <iostream>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace movie {
std::string hi() {
    return "Hi my name is " + troupe::process_actor_name();
}
/// Finds `other` by name and asks it to say hi.
troupe::task<std::string> say_hello(std::string other) {
    troupe::portal partner = co_await troupe::wait_for_actor(other);
    co_return co_await partner.run(&movie::hi);
}
}  // namespace movie
TROUPE_EXPOSE(movie, hi);
TROUPE_EXPOSE(movie, say_hello);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        std::string from_donny;
        std::string from_gretchen;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            std::cout << "Alright... Action!\n";
            troupe::portal donny = an.start_actor("donny", {.enable = {"movie"}});
            troupe::portal gretchen = an.start_actor("gretchen", {.enable = {"movie"}});
            troupe::future<std::string> donny_line = donny.run(&movie::say_hello, std::string("gretchen"));
            troupe::future<std::string> gretchen_line = gretchen.run(&movie::say_hello, std::string("donny"));
            from_gretchen = co_await gretchen_line;
            from_donny = co_await donny_line;
            std::cout << from_gretchen << '\n' << from_donny << '\n';
            std::cout << "CUTTTT CUUTT CUT!!! Donny!! You're supposed to say...\n";
            an.cancel();
        });
        check(from_gretchen == "Hi my name is donny", "gretchen found donny and heard his line");
        check(from_donny == "Hi my name is gretchen", "donny found gretchen and heard hers");
        check(example::no_child_left(), "both actors ended with the nursery");
        return example::exit_status();
    });
}
