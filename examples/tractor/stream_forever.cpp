// tractor's "Asynchronous generators": a generator in a daemon process actor streams values to
// its parent, which reads them as they come. A deadline above the actor nursery (trio's
// move_on_after) cuts the stream after a second: it cancels the nursery, which cancels the
// stream and the daemon, and the block ends cleanly.

#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

using namespace std::chrono_literals;

namespace bubbles {
/// Each yielded value travels over the connection to the parent.
troupe::generator<std::string> stream_forever() {
    for (;;) {
        co_yield std::string("I can see these little future bubble things");
        co_await troupe::sleep_for(10ms);
    }
}
}  // namespace bubbles
TROUPE_EXPOSE(bubbles, stream_forever);

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        int received = 0;
        bool finished = true;
        // move_on_after runs inside an actor: open_nursery(sys, ...) gives main one.
        troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
            // Stream for at most one second.
            finished = co_await troupe::move_on_after(
                1s, troupe::open_actor_nursery([&](troupe::actor_nursery& an) -> troupe::task<void> {
                    troupe::portal donny = an.start_actor("donny", {.enable = {"bubbles"}});
                    // This loop reads the values of the generator running in the other process.
                    auto letters = donny.open_stream(&bubbles::stream_forever);
                    while (std::optional<std::string> letter = co_await letters.next()) {
                        std::cout << *letter << '\n';
                        ++received;
                    }
                }));
        });

        std::cout << received << " bubbles in a second\n";
        check(!finished, "the deadline cut the endless stream");
        check(received > 0, "values streamed until then");
        check(example::no_child_left(), "the cancelled nursery ended donny's process");
        return example::exit_status();
    });
}
