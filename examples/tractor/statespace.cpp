// tractor's "Actor local variables": a parent gives a process actor named values when it starts
// it, and the child reads them with troupe::statespace::current(). Nothing flows back: the
// child is another process.

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/remote/statespace.hpp>

#include <iostream>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace checker {
/// Runs in the new process: its statespace is what the parent gave.
bool check_statespace() {
    const troupe::statespace& state = troupe::statespace::current();
    return state.size() == 1 && state.get<int>("doggy") == 10;
}
}  // namespace checker
TROUPE_EXPOSE(checker, check_statespace);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        bool as_given = false;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::process_options options;
            options.state.set("doggy", 10);
            auto portal = an.run_in_actor("checker", options, &checker::check_statespace);
            as_given = co_await portal.result();
        });
        std::cout << "the checker " << (as_given ? "found" : "did not find") << " doggy = 10\n";

        check(as_given, "the child read the statespace it was started with");
        check(troupe::statespace::current().size() == 0, "the root process has none");
        check(example::no_child_left(), "the checker's process has ended");
        return example::exit_status();
    });
}
