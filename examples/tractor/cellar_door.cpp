// tractor's "Actor spawning and causality": run_in_actor starts a process actor that runs one
// function and ends. The actor nursery's block waits for it, like a trio nursery waits for its
// tasks; its result can still be read from the portal once the block has ended.

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <iostream>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace linguist {
/// Runs in the child process: a plain function is fine.
std::string cellar_door() {
    return "Dang that's beautiful";
}
}  // namespace linguist
TROUPE_EXPOSE(linguist, cellar_door);  // the allow-list: only exposed functions run remotely

using example::check;

int main(int argc, char** argv) {
    // The child is this very program started again: troupe::run then serves its parent instead
    // of running the lambda.
    return troupe::run(argc, argv, [](troupe::system& sys) {
        troupe::result_portal<std::string> portal;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            portal = an.run_in_actor("some_linguist", &linguist::cellar_door);
            co_return;
        });
        // The block has returned: 'some_linguist' has run cellar_door and its process has ended.
        const std::string line = portal.result().get();
        std::cout << line << '\n';

        check(line == "Dang that's beautiful", "the child's result comes through the portal");
        check(example::no_child_left(), "the nursery ended only once the child had ended");
        return example::exit_status();
    });
}
