// Structured concurrency from main: troupe::open_nursery(sys, body) opens a nursery from a
// thread that is not an actor's and blocks until everything started in it has ended. The body
// runs as the coroutine handler of a small actor of the system, so its tasks resume on that
// actor only; inside an actor's own handler, co_await troupe::open_nursery(body) instead.

#include <troupe/async/nursery.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <syncstream>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

struct fetch {
    int id;
};

/// A slow service: answers an id with a value, fails for 13.
class service : public troupe::actor {
public:
    int handle(fetch f) {
        if (f.id == 13) {
            throw std::runtime_error("no record 13");
        }
        return f.id * 10;
    }
};

struct sweep {};
/// A child actor with one job; it stops once done, and the nursery waits for that.
class sweeper : public troupe::actor {
public:
    void handle(sweep) {
        std::osyncstream(std::cout) << "  the sweeper swept and stops\n";
        self().stop();
    }
};

/// One task of the nursery: asks the service and stores the answer.
troupe::task<void> fetch_into(troupe::ref<service> svc, int id, std::map<int, int>& results) {
    troupe::future<int> reply = svc.ask(fetch{id});
    results[id] = co_await std::move(reply);
    std::osyncstream(std::cout) << "  fetched " << id << " -> " << results[id] << '\n';
}

troupe::task<int> slow_answer() {
    co_await troupe::sleep_for(10s);
    co_return 42;
}

troupe::task<void> wait_for_ever(std::string& outcome) {
    try {
        co_await troupe::sleep_for(1h);
    } catch (const troupe::cancelled&) {
        outcome = "cancelled";  // the first error cancelled this task; it unwinds and ends
        throw;
    }
}

using example::check;

int main() {
    troupe::system sys;
    auto svc = sys.spawn<service>();

    std::cout << "tasks and a child actor:\n";
    std::map<int, int> results;  // written by the nursery's tasks, read once it has ended
    troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
        for (int id : {1, 2, 3}) {
            n.start(fetch_into(svc, id, results));  // concurrent, on the nursery's actor
        }
        n.spawn<sweeper>().tell(sweep{});  // a child actor the nursery waits for
        co_return;
    });
    check(results == std::map<int, int>{{1, 10}, {2, 20}, {3, 30}}, "open_nursery returns once every task has ended");
    check(sys.registry().by_type<sweeper>().empty(), "and once every actor it spawned has ended");

    std::cout << "a deadline inside the nursery:\n";
    std::optional<int> answer = 0;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        answer = co_await troupe::move_on_after(10ms, slow_answer());
    });
    std::cout << "  " << (answer ? "got an answer" : "gave up after 10 ms") << '\n';
    check(!answer, "move_on_after gives up on a slow task");

    std::cout << "an error cancels the rest:\n";
    std::string outcome = "still waiting";
    try {
        troupe::open_nursery(sys, [&](troupe::nursery& n) -> troupe::task<void> {
            n.start(wait_for_ever(outcome));
            n.start(fetch_into(svc, 13, results));
            co_return;
        });
        check(false, "the error reaches main");
    } catch (const troupe::error_group& g) {
        std::cout << "  " << g.what() << '\n';
        check(g.errors().size() == 1, "the error reaches main as an error_group");
    }
    check(outcome == "cancelled", "the other task was cancelled, and had ended before open_nursery returned");
    return example::exit_status();
}
