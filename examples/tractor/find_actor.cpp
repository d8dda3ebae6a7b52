// tractor's "Service Discovery": the registrar (tractor's arbiter; here the root actor) maps
// names to addresses. registrar() gives a portal on it, find_actor(name) a portal on the actor
// registered under that name (or nothing), query_actor(name) its entry.

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/discovery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace service {
std::string ping() {
    return "pong from " + troupe::process_actor_full_name();
}
}  // namespace service
TROUPE_EXPOSE(service, ping);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        std::string answer;
        bool unknown_found = true;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal daemon = an.start_actor("some_actor_name", {.enable = {"service"}});

            troupe::portal arbiter = co_await troupe::registrar();
            std::cout << "the registrar is " << arbiter.name() << '\n';

            co_await troupe::wait_for_actor("some_actor_name");  // it registers as it starts
            std::optional<troupe::actor_entry> entry = co_await troupe::query_actor("some_actor_name");
            std::cout << "some_actor_name is found at " << (entry ? entry->address : "nowhere") << '\n';

            std::optional<troupe::portal> found = co_await troupe::find_actor("some_actor_name");
            if (found) {
                answer = co_await found->run(&service::ping);
                std::cout << answer << '\n';
            }
            unknown_found = (co_await troupe::find_actor("nobody")).has_value();
            co_await daemon.cancel_actor();
        });
        check(answer.rfind("pong from some_actor_name#", 0) == 0, "find_actor gave a portal on the daemon");
        check(!unknown_found, "a name nobody registered is not found");
        check(example::no_child_left(), "the daemon ended with the nursery");
        return example::exit_status();
    });
}
