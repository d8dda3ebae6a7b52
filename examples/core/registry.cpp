// The registry: every live actor of a system, by type, name and id; broadcast; stop all. And
// several systems in one process, each with its own workers and registry.

#include <troupe/troupe.hpp>

#include <iostream>
#include <syncstream>

#include "../check.hpp"

struct ping {};

class sensor : public troupe::actor {
public:
    void handle(ping) { ++pings; }
    int pings = 0;
};

class display : public troupe::actor {
public:
    void handle(ping) {}
};

using example::check;

int main() {
    troupe::system sys;
    auto first = sys.spawn<sensor>();
    sys.spawn<sensor>();
    troupe::spawn_options named;
    named.name = "kitchen";
    auto kitchen = sys.spawn<sensor>(named);
    sys.spawn<display>();

    troupe::registry& actors = sys.registry();
    check(actors.size() == 4, "size() counts the live actors");
    check(actors.by_type<sensor>().size() == 3, "by_type<A>() finds the actors of a class");
    check(actors.by_name("kitchen").size() == 1 && kitchen.name() == "kitchen#" + std::to_string(kitchen.id()),
          "by_name() finds an actor by the name given at spawn");
    check(actors.by_id<sensor>(first.id()) == first, "by_id<A>() finds an actor by id");

    check(actors.broadcast<sensor>(ping{}) == 3, "broadcast<A>() tells every actor of a class");
    check(first.get(&sensor::pings).get() == 1, "the broadcast arrived");

    // A second system: its own workers, its own registry.
    troupe::system_options options;
    options.name = "io";
    options.scheduler.workers = 1;
    troupe::system io(options);
    io.spawn<sensor>();
    check(io.registry().size() == 1 && sys.registry().size() == 4, "each system has its own registry");

    std::vector<bool> stopped = actors.stop_all();  // newest first; the io system is not touched
    check(stopped.size() == 4 && actors.size() == 0, "stop_all() stops every actor");
    check(io.registry().size() == 1, "the other system's actors live on");
    return example::exit_status();  // ~system stops io's actors, then joins its workers
}
