// Supervising actors that live in processes of their own: troupe::process_child makes a child
// spec whose every start is a new process actor (this executable again) with the actor in it.
// A crash takes down only that process: the ask in flight fails with troupe::actor_dead at
// once, and the supervisor restarts the actor from the same arguments, as it restarts a local
// child. (tractor cannot restart a subactor;
// Ray's max_restarts has no structured concurrency around it.)

#include <troupe/remote/process_child.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/supervision/supervisor.hpp>
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "../check.hpp"
#include "../tractor/processes.hpp"

namespace render {

struct job {
    std::string input;
};
TROUPE_RECORD(job, input);

/// Renders untrusted input. Some inputs crash it outright (here: "poison" kills its process, as
/// a segfault in a C library would); that is why it lives in a process of its own.
class renderer : public troupe::actor {
public:
    using handles = troupe::handles<job>;
    explicit renderer(std::string style) : style_(std::move(style)) {}
    std::string handle(job j) {
        if (j.input == "poison") {
            ::raise(SIGKILL);
        }
        return style_ + "(" + j.input + ") by " + std::to_string(::getpid());
    }

private:
    std::string style_;
};

}  // namespace render
TROUPE_EXPOSE_ACTOR(render::renderer, std::string);

using example::check;
using render::renderer;

/// Asks the supervisor's current renderer to render `input`.
std::string render_with(const troupe::ref<troupe::supervisor>& sup, const std::string& input) {
    troupe::ref<renderer> r = sup.ask(troupe::which_child<renderer>{"renderer"}).get(std::chrono::seconds(10));
    return r.ask(render::job{input}).get(std::chrono::seconds(10));
}

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        troupe::inbox restarts(sys);
        troupe::supervisor_spec spec;
        spec.children.push_back(troupe::process_child<renderer>("renderer", {}, std::string("bold")));
        spec.observer = [to = restarts.address()](const troupe::supervisor_event& e) {
            if (e.what == troupe::supervisor_event::kind::started) {
                to.tell(e.restarts);
            }
        };
        auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
        restarts.receive<std::uint32_t>(std::chrono::seconds(10));  // the first start

        const std::string first = render_with(sup, "hello");
        std::cout << first << '\n';
        std::string crashed;
        try {
            render_with(sup, "poison");  // kills its process
        } catch (const troupe::actor_dead& e) {
            crashed = e.what();
            std::cout << "poison: " << crashed << '\n';
        }
        const std::uint32_t restart = restarts.receive<std::uint32_t>(std::chrono::seconds(10));
        const std::string after = render_with(sup, "world");
        std::cout << "after restart " << restart << ": " << after << '\n';

        check(first.rfind("bold(hello) by ", 0) == 0, "the renderer answers from its own process");
        check(!crashed.empty(), "the ask whose process crashed failed with actor_dead, at once");
        check(restart == 1, "the supervisor restarted the renderer");
        check(after.rfind("bold(world) by ", 0) == 0, "the restarted renderer has its original style");
        check(after.substr(after.rfind(' ')) != first.substr(first.rfind(' ')), "in a new process");
        check(sup.stop(std::chrono::seconds(10)), "the supervisor stops its child and its process");
        check(example::no_child_left(), "no process is left behind");
        return example::exit_status();
    });
}
