// When a supervisor gives up. More than R restarts within T make it stop its children and fail
// with troupe::restart_intensity_exceeded; the intensity is measured on a clock a program can
// replace, so here time moves only when main() says so. A child whose constructor throws while
// the supervisor starts its children makes it fail with troupe::child_start_failed.

#include <troupe/supervision/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
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

struct crash {};

/// A child that writes its start and stop to a journal.
class worker : public troupe::actor {
public:
    worker(journal* log, std::string name) : log_(log), name_(std::move(name)) { log_->add(name_ + " start"); }
    void handle(crash) { throw std::runtime_error(name_ + " crashed"); }

protected:
    void on_stop() override { log_->add(name_ + " stop"); }

private:
    journal* log_;
    std::string name_;
};

/// A child that cannot be constructed.
class broken : public troupe::actor {
public:
    explicit broken(std::string why) { throw std::runtime_error(why); }
};

/// The child named in a supervisor's failure, rethrown from its exit reason.
template <class Failure>
std::string culprit(const troupe::exit_reason& why) {
    try {
        std::rethrow_exception(why.error);
    } catch (const Failure& e) {
        return e.child();
    } catch (...) {}
    return "";
}

using example::check;

int main() {
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", std::make_shared<spdlog::sinks::null_sink_mt>()));
    journal log;  // before the system: actors write to it until the system has shut down
    troupe::system sys;

    std::cout << "intensity {1, 10s} on a clock that moves by hand\n";
    std::atomic<std::int64_t> fake_now{0};  // nanoseconds on a clock that moves only when main() says so
    troupe::supervisor_spec spec;
    spec.children = {troupe::child<worker>("x", &log, "x")};
    spec.intensity = {1, 10s};
    spec.clock = [&fake_now] {
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(fake_now.load()));
    };
    auto sup = sys.spawn<troupe::supervisor>(spec);
    auto x = [&sup] { return sup.ask(troupe::which_child<worker>{"x"}).get(5s); };

    x().tell(crash{});
    check(log.wait_for("x start", 2), "one restart within 10 s is allowed");
    fake_now += std::chrono::nanoseconds(11s).count();
    x().tell(crash{});
    check(log.wait_for("x start", 3), "11 s later the first restart no longer counts");
    x().tell(crash{});  // the second within 10 s: one too many
    troupe::exit_reason why = sup.exited().get(5s);
    std::cout << "  " << why.describe() << '\n';
    check(why.error_type == "troupe::restart_intensity_exceeded", "the supervisor gave up and failed");
    check(culprit<troupe::restart_intensity_exceeded>(why) == "x", "the exception names the child");

    std::cout << "a child that cannot start\n";
    troupe::supervisor_spec startup;
    startup.children = {
        troupe::child<worker>("a", &log, "a"),
        troupe::child<worker>("b", &log, "b"),
        troupe::child<broken>("c", "no disk"),
    };
    std::size_t mark = log.size();
    why = sys.spawn<troupe::supervisor>(startup).exited().get(5s);
    std::cout << "  " << why.describe() << '\n';
    check(log.since(mark) == std::vector<std::string>{"a start", "b start", "b stop", "a stop"},
          "the children already started are stopped, last first");
    check(why.error_type == "troupe::child_start_failed" && culprit<troupe::child_start_failed>(why) == "c",
          "then the supervisor fails with child_start_failed, naming the child");
    return example::exit_status();
}
