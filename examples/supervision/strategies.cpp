// Supervisor strategies and restart policies. one_for_all restarts every child when one fails,
// rest_for_one the failed child and those started after it; children are stopped last started
// first and started again in order. A permanent child always starts again, a transient one only
// after an abnormal end, a temporary one never. A supervisor waiting for a slow child to stop
// keeps answering questions.

#include <troupe/supervision/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <spdlog/sinks/null_sink.h>

#include <chrono>
#include <exception>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../check.hpp"
#include "journal.hpp"

using namespace std::chrono_literals;
using example::journal;
using strings = std::vector<std::string>;

struct crash {};
struct quit {};

/// A child that writes its start, stop and failure to a journal.
class worker : public troupe::actor {
public:
    worker(journal* log, std::string name) : log_(log), name_(std::move(name)) { log_->add(name_ + " start"); }
    void handle(crash) { throw std::runtime_error(name_ + " crashed"); }
    void handle(quit) { self().stop(); }

protected:
    void on_stop() override { log_->add(name_ + " stop"); }
    void on_failure(std::exception_ptr) override { log_->add(name_ + " failed"); }

private:
    journal* log_;
    std::string name_;
};

/// A child whose on_stop waits until `gate` completes. It runs on a thread of its own.
class slow_to_stop : public troupe::actor {
public:
    slow_to_stop(journal* log, troupe::future<void> gate) : log_(log), gate_(std::move(gate)) {
        log_->add("slow start");
    }

protected:
    void on_stop() override {
        log_->add("slow stopping");
        gate_.wait();
        log_->add("slow stop");
    }

private:
    journal* log_;
    troupe::future<void> gate_;
};

/// A supervisor spec with one worker per name.
troupe::supervisor_spec spec_of(troupe::restart_strategy strategy, journal& log,
                                std::initializer_list<const char*> names) {
    troupe::supervisor_spec spec;
    spec.strategy = strategy;
    for (const char* name : names) {
        spec.children.push_back(troupe::child<worker>(name, &log, name));
    }
    return spec;
}

/// The current incarnation of a supervisor's child (empty while it is not running).
troupe::ref<worker> current(const troupe::ref<troupe::supervisor>& sup, const std::string& name) {
    return sup.ask(troupe::which_child<worker>{name}).get(5s);
}

/// One line per supervisor event.
std::string describe(const troupe::supervisor_event& e) {
    using kind = troupe::supervisor_event::kind;
    switch (e.what) {
        case kind::started:
            return "started " + e.child;
        case kind::ended:
            return "ended " + e.child + ": " + e.reason.describe() + (e.restart ? " -> restart" : " -> stays down");
        case kind::start_failed:
            return "could not start " + e.child + ": " + e.reason.describe();
        case kind::gave_up:
            return "gave up on " + e.child;
    }
    return "?";
}

using example::check;

int main() {
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", std::make_shared<spdlog::sinks::null_sink_mt>()));
    journal log;  // before the system: actors write to it until the system has shut down
    journal events;
    troupe::system sys;

    std::cout << "one_for_all: b fails; c and a are stopped, then all three start again\n";
    auto sup = sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_all, log, {"a", "b", "c"}));
    log.wait_for("c start");
    std::size_t mark = log.size();
    current(sup, "b").tell(crash{});
    log.wait_for("c start", 2);
    check(log.since(mark) == strings{"b failed", "c stop", "a stop", "a start", "b start", "c start"},
          "one_for_all: stopped last started first, started again in order");
    sup.stop();

    std::cout << "rest_for_one: b fails; c and d, started after it, go with it\n";
    sup = sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::rest_for_one, log, {"a", "b", "c", "d"}));
    log.wait_for("d start");
    mark = log.size();
    current(sup, "b").tell(crash{});
    log.wait_for("d start", 2);
    check(log.since(mark) == strings{"b failed", "d stop", "c stop", "b start", "c start", "d start"},
          "rest_for_one: the failed child and those after it");
    sup.stop();

    std::cout << "restart policies\n";
    troupe::supervisor_spec spec;
    spec.children.push_back(troupe::child<worker>("p", &log, "p"));
    spec.children.push_back(troupe::child<worker>("t", &log, "t").restart(troupe::restart_policy::transient));
    spec.children.push_back(troupe::child<worker>("tmp", &log, "tmp").restart(troupe::restart_policy::temporary));
    spec.observer = [&events](const troupe::supervisor_event& e) { events.add(describe(e)); };
    sup = sys.spawn<troupe::supervisor>(spec);
    events.wait_for("started tmp");

    current(sup, "t").tell(quit{});
    check(events.wait_for("ended t: normal -> stays down"), "a transient child that stops itself stays down");
    check(!current(sup, "t"), "a child that stays down is an empty ref");
    current(sup, "tmp").tell(crash{});
    check(events.wait_for("ended tmp: failed: std::runtime_error: tmp crashed -> stays down"),
          "a temporary child stays down even after a failure");
    current(sup, "p").tell(quit{});
    check(events.wait_for("ended p: normal -> restart") && events.wait_for("started p", 2),
          "a permanent child starts again whatever its reason");
    sup.stop();

    std::cout << "a group restart waits for a slow child, and the supervisor keeps answering\n";
    troupe::promise<void> release;
    troupe::spawn_options own_thread;
    own_thread.dedicated_thread = true;  // its on_stop blocks
    troupe::supervisor_spec group;
    group.strategy = troupe::restart_strategy::one_for_all;
    group.children.push_back(troupe::child<worker>("a", &log, "a"));
    group.children.push_back(troupe::child<slow_to_stop>("slow", &log, release.get_future()).options(own_thread));
    sup = sys.spawn<troupe::supervisor>(group);
    log.wait_for("slow start");
    current(sup, "a").tell(crash{});
    log.wait_for("slow stopping");
    std::vector<troupe::child_info> children = sup.ask(troupe::which_children{}).get(5s);
    check(children.size() == 2 && !children[0].current && children[1].current,
          "while slow stops, the supervisor answers: a has ended, slow is being stopped");
    release.set_value();
    check(log.wait_for("slow start", 2), "once slow has stopped, the group starts again");
    return example::exit_status();
}
