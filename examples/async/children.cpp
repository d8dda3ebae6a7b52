// Children: an actor that spawns from its handlers (self().spawn) starts children. It hears of
// each child's end through troupe::child_stopped, and its own end stops its children first, one
// at a time, newest first; a killed parent kills its children.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;

struct job {
    int n;
    troupe::address report;
};
class worker : public troupe::actor {
public:
    void handle(job j) {
        j.report.tell(self().name() + " did job " + std::to_string(j.n));
        self().stop();  // one job, then done
    }
};
class manager : public troupe::actor {
public:
    explicit manager(troupe::address report) : report_(std::move(report)) {}
    void handle(job j) { self().spawn<worker>().tell(std::move(j)); }
    void handle(troupe::child_stopped c) { report_.tell(c.name + " ended: " + c.reason.describe()); }

private:
    troupe::address report_;
};

/// A long-lived child that says when it stops.
class member : public troupe::actor {
public:
    explicit member(troupe::address report) : report_(std::move(report)) {}

protected:
    void on_stop() override { report_.tell(self().name() + " stopped"); }

private:
    troupe::address report_;
};

struct hire {};
/// A parent of long-lived children.
class crew : public troupe::actor {
public:
    explicit crew(troupe::address report) : report_(std::move(report)) {}
    std::string handle(hire) { return self().spawn<member>(report_).name(); }

protected:
    void on_stop() override { report_.tell(self().name() + " stopped"); }

private:
    troupe::address report_;
};

using example::check;

int main() {
    troupe::system sys;
    troupe::inbox inbox(sys);

    // One worker per job; the manager hears of each worker's end.
    auto boss = sys.spawn<manager>(inbox.address());
    for (int n = 1; n <= 2; ++n) {
        boss.tell(job{n, inbox.address()});
        const std::string done = inbox.receive<std::string>(5s);
        const std::string ended = inbox.receive<std::string>(5s);
        std::cout << "  " << done << "; " << ended << '\n';
        check(ended.find("ended: normal") != std::string::npos, "the parent hears that its child stopped itself");
    }

    // A parent's stop stops its children first, newest first, each before the next; then its own
    // on_stop runs.
    auto parent = sys.spawn<crew>(inbox.address());
    const std::string first = parent.ask(hire{}).get();
    const std::string second = parent.ask(hire{}).get();
    const std::string third = parent.ask(hire{}).get();
    parent.stop();
    std::vector<std::string> order;
    for (int i = 0; i < 4; ++i) {
        order.push_back(inbox.receive<std::string>(5s));
        std::cout << "  " << order.back() << '\n';
    }
    check(order == std::vector<std::string>{third + " stopped", second + " stopped", first + " stopped",
                                            parent.name() + " stopped"},
          "the children stopped newest first, then the parent");

    // A killed parent kills its children: no on_stop runs anywhere.
    auto doomed = sys.spawn<crew>(inbox.address());
    doomed.ask(hire{}).get();
    doomed.kill();
    check(doomed.exited().get().what == troupe::exit_reason::kind::killed, "the killed parent ended");
    check(inbox.size() == 0, "neither the parent nor its child ran on_stop");
    check(sys.registry().size() == 1, "the child ended with it (only the manager is left)");
    return example::exit_status();
}
