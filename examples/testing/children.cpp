// Children in a test system: a foreman starts workers as its children and forwards the news of
// their end. Notices arrive in turns like any message, so the test follows them one by one.

#include <troupe/testing/probe.hpp>
#include <troupe/testing/test_system.hpp>

#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"

using example::check;
using troupe::testing::probe;
using troupe::testing::test_system;

struct hire {};
struct hired {
    std::string name;
};
struct assign {
    std::size_t worker;
};
struct work {
    troupe::address report;
};
struct done {
    std::string by;
};

/// Does one piece of work, reports it, and stops.
class worker : public troupe::actor {
public:
    void handle(work w) {
        w.report.tell(done{self().name()});
        self().stop();
    }
};

/// Starts workers as its children and forwards the news of their end to the report address.
class foreman : public troupe::actor {
public:
    explicit foreman(troupe::address report) : report_(std::move(report)) {}
    void handle(hire) {
        crew_.push_back(self().spawn<worker>());
        report_.tell(hired{crew_.back().name()});
    }
    void handle(assign a) { crew_.at(a.worker).tell(work{report_}); }
    void handle(troupe::child_stopped c) { report_.tell(std::move(c)); }

private:
    troupe::address report_;
    std::vector<troupe::ref<worker>> crew_;
};

void children_and_their_ends_are_observed_step_by_step() {
    test_system t;
    probe<hired, done, troupe::child_stopped> p(t);
    auto boss = t.spawn<foreman>(p.address());

    boss.tell(hire{});
    const std::string first = p.expect<hired>().name;
    boss.tell(hire{});
    const std::string second = p.expect<hired>().name;
    check(t.sys().registry().size() == 4, "probe, foreman, two workers");

    boss.tell(assign{1});
    check(p.expect<done>().by == second, "the second worker did the work");
    auto gone = p.expect<troupe::child_stopped>();
    check(gone.name == second && gone.reason.what == troupe::exit_reason::kind::normal, "then it stopped itself");
    p.expect_nothing();

    // Stopping the foreman stops its remaining child first; it tells of that child too.
    check(t.stop(boss), "the foreman stops");
    auto last = p.expect<troupe::child_stopped>();
    check(last.name == first && last.reason.what == troupe::exit_reason::kind::stopped,
          "its remaining child was stopped with it");
    p.expect_nothing();
}

int main() {
    try {
        children_and_their_ends_are_observed_step_by_step();
    } catch (const std::exception& e) {
        check(false, e.what());
    }
    return example::exit_status();
}
