// The parts of a test system on their own: a manual scheduler is an executor that only queues
// the actors that have work; a system built on it runs actors only in the turns the program runs.

#include <troupe/testing/manual_scheduler.hpp>
#include <troupe/troupe.hpp>

#include <exception>

#include "../check.hpp"

using example::check;
using troupe::testing::manual_scheduler;

struct hello {};
struct count {};
class counter : public troupe::actor {
public:
    void handle(hello) { ++n_; }
    int handle(count) const { return n_; }

private:
    int n_ = 0;
};

void a_system_on_it_runs_actors_only_in_the_turns_the_program_runs() {
    manual_scheduler s;
    troupe::system_options options;
    options.executor = &s;
    options.scheduler.batch = 1;
    troupe::system sys(options);
    auto c = sys.spawn<counter>();
    c.tell(hello{});
    c.tell(hello{});
    auto n = c.ask(count{});
    check(s.pending() == 1, "one actor waits for a turn, however many messages it has");

    s.run_one();  // on_start and the first hello
    check(!n.ready(), "one turn, one message");
    s.run_one();  // the second hello
    s.run_one();  // the count
    check(n.ready() && n.get() == 2, "the third turn answered");

    // system::shutdown() waits for the stops: run them first, here.
    sys.registry().request_stop_all();
    s.run_until_idle();
    check(sys.registry().size() == 0, "every actor has stopped before the system is destroyed");
}

int main() {
    try {
        a_system_on_it_runs_actors_only_in_the_turns_the_program_runs();
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
