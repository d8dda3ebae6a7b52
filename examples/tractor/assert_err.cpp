// tractor's "Remote error propagation": an exception in a process actor comes back to its
// parent, where the nursery throws it (as a troupe::remote_actor_error, in a troupe::error_group)
// once it has cancelled every other child: one-cancels-all, exactly like a trio nursery.

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/errors.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace faulty {
/// Python's `assert 0`.
void assert_err() {
    throw std::logic_error("assert 0");
}
}  // namespace faulty
TROUPE_EXPOSE(faulty, assert_err);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        std::string failed_actor;
        std::string failure;
        std::string thrown_at;
        try {
            troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
                for (int i = 0; i < 3; ++i) {
                    an.start_actor("actor_" + std::to_string(i), {.enable = {"faulty"}});  // daemons
                }
                // Start one actor that will fail immediately.
                an.run_in_actor("extra", &faulty::assert_err);
                co_return;
            });
            // The block ends with the error, once the three daemons have been cancelled.
        } catch (const troupe::error_group& group) {
            try {
                std::rethrow_exception(group.errors().at(0));
            } catch (const troupe::remote_actor_error& e) {
                std::cout << "Look Maa that actor failed hard, hehhh!\n";
                std::cout << "  " << e.what() << '\n';
                failed_actor = e.actor();
                failure = e.type() + ": " + e.message();
                thrown_at = e.backtrace().substr(0, e.backtrace().find('\n'));  // its first frame
                std::cout << "  thrown at " << thrown_at << '\n';
            }
            check(group.errors().size() == 1, "one error: the daemons' cancellation is not an error");
        }

        check(failed_actor.rfind("extra#", 0) == 0, "the error names the actor it was raised in");
        check(failure == "std::logic_error: assert 0", "and carries the exception's type and message");
        // The examples are linked with -rdynamic (ENABLE_EXPORTS), so the frame has a name.
        check(thrown_at.rfind("#0 faulty::assert_err()", 0) == 0, "and where it was thrown");
        check(example::no_child_left(), "the three daemons were cancelled: no child is left");
        return example::exit_status();
    });
}
