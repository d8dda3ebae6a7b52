// tractor's "Running actors standalone": a process actor started on its own (by hand, by a
// service manager) joins a running tree by the registrar's address, run_options::registrar,
// and is found by name like any other.
//
// This program plays both parts: run plainly, it is the root (and so the registrar) and starts
// itself again with --join <address>, as you would in another terminal.

#include <troupe/remote/discovery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <future>
#include <iostream>
#include <string>

#include "../check.hpp"

namespace lone {
std::promise<void>& done() {
    static std::promise<void> p;
    return p;
}
std::string hello() {
    return "hello from " + troupe::process_actor_name() + ", started on my own";
}
void quit() {
    done().set_value();
}
}  // namespace lone
TROUPE_EXPOSE(lone, hello);
TROUPE_EXPOSE(lone, quit);

using example::check;

extern char** environ;

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--join") == 0) {
        // The standalone actor: it joins the registrar at argv[2] and serves until told to quit.
        troupe::run_options options;
        options.name = "lone";
        options.registrar = argv[2];
        options.enable = {"lone"};
        return troupe::run(
            1, argv,
            [](troupe::system&) {
                lone::done().get_future().wait();
                return 0;
            },
            options);
    }
    return troupe::run(argc, argv, [&](troupe::system& sys) {
        const std::string address = troupe::start_registrar(sys);
        std::cout << "the registrar listens on " << address << '\n';

        // Start the standalone actor, as one would by hand: `standalone --join <address>`.
        std::string join = "--join";
        std::string where = address;
        char* child_argv[] = {argv[0], join.data(), where.data(), nullptr};
        pid_t pid = 0;
        check(::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, child_argv, environ) == 0,
              "the standalone process started");

        std::string greeting;
        troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
            troupe::portal p = co_await troupe::wait_for_actor("lone");
            greeting = co_await p.run(&lone::hello);
            std::cout << greeting << '\n';
            co_await p.run(&lone::quit);
        });
        int status = 0;
        ::waitpid(pid, &status, 0);
        check(greeting == "hello from lone, started on my own", "the standalone actor was found by name");
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and it exited cleanly when told to");
        return example::exit_status();
    });
}
