// Actorio's "Actor spawning actors": a Manager spawns one Worker per request and forwards the
// request to it; each Worker runs a blocking operation, tells the result to the request's
// sender and stops (one message, then done). main collects the answers through an inbox, and
// the Manager hears of each Worker's end (Actorio's handle_child_stopped).

#include <troupe/async/input.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <syncstream>
#include <thread>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

/// A request to do some computation or blocking call (Actorio's RequestMessage).
struct request_message {
    troupe::address sender;
    int job;
};
/// The result of a computation (Actorio's ResponseMessage).
struct response_message {
    int data;
    std::uint64_t worker;
};
/// Told to main by the manager when one of its workers has ended.
struct worker_ended {
    std::string name;
    std::string reason;
};

/// For the sake of this example, the blocking operation is a sleep (a few milliseconds here).
int blocking_operation(int job) {
    const int sleep_time = (job * 7) % 20;
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_time));
    return sleep_time;
}

class worker : public troupe::actor {
public:
    // A coroutine handler: the blocking operation runs on troupe's blocking pool, and the worker
    // handles nothing else until it is done (Actorio: sleep_time = await blocking_operation()).
    troupe::task<void> handle(request_message m) {
        troupe::future<int> pending = troupe::run_blocking([job = m.job] { return blocking_operation(job); });
        const int sleep_time = co_await std::move(pending);
        m.sender.tell(response_message{sleep_time, self().id()});
        // This actor only deals with one message then stops (Actorio: raise EndMainLoop()).
        self().stop();
    }
};

class manager : public troupe::actor {
public:
    explicit manager(troupe::address observer) : observer_(std::move(observer)) {}

    void handle(request_message m) {
        // We spawn a new child and get its reference back (Actorio: await self.register_child(Worker())).
        auto child = self().spawn<worker>();
        // We just transfer the message to the child, which answers the sender itself.
        child.tell(std::move(m));
    }

    // Actorio's handle_child_stopped: a child ended.
    void handle(troupe::child_stopped c) { observer_.tell(worker_ended{c.name, c.reason.describe()}); }

private:
    troupe::address observer_;
};

using example::check;

int main() {
    troupe::system sys;
    // An inbox for us: not an actor, just somewhere actors can send messages.
    troupe::inbox me(sys);
    auto m = sys.spawn<manager>(me.address());

    // We start 10 long computations...
    constexpr int requests = 10;
    for (int job = 0; job < requests; ++job) {
        m.tell(request_message{me.address(), job});
    }
    // ...then listen to our inbox to get the responses as they come by.
    std::set<std::uint64_t> workers;
    for (int i = 0; i < requests; ++i) {
        auto response = me.receive<response_message>(10s);
        std::cout << "Got a response with result " << response.data << '\n';
        workers.insert(response.worker);
    }
    check(workers.size() == requests, "each request was answered by a worker of its own");

    int normal = 0;
    for (int i = 0; i < requests; ++i) {
        auto ended = me.receive<worker_ended>(10s);
        normal += ended.reason == "normal" ? 1 : 0;
    }
    check(normal == requests, "the manager saw every worker stop itself after its one message");

    check(m.stop(), "the manager stops");
    return example::exit_status();
}
