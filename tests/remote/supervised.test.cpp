#include <troupe/remote/process_child.hpp>

#include <troupe/remote/run.hpp>
#include <troupe/supervision/supervisor.hpp>
#include <troupe/troupe.hpp>
#include <troupe/wire/codec.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "core/test_support.hpp"
#include "remote/processes.hpp"

// troupe::supervision's supervisors supervising actors that live in processes of their own
// (this executable started again), exactly as they supervise local ones.

namespace work {

struct whoami {};
struct add {
    int n = 0;
};
struct total {};
struct fail {};
TROUPE_RECORD(whoami);
TROUPE_RECORD(add, n);
TROUPE_RECORD(total);
TROUPE_RECORD(fail);

/// Says who it is (its label and its process's pid) and keeps a count from its start value.
class worker : public troupe::actor {
public:
    using handles = troupe::handles<whoami, add, total, fail>;
    worker(std::string label, int start) : label_(std::move(label)), n_(start) {}
    std::string handle(whoami) const { return label_ + " " + std::to_string(::getpid()); }
    void handle(add a) { n_ += a.n; }
    int handle(total) const { return n_; }
    void handle(fail) { throw std::runtime_error(label_ + " gave up"); }

private:
    std::string label_;
    int n_;
};

}  // namespace work
TROUPE_EXPOSE_ACTOR(work::worker, std::string, int);

namespace {

using troupe_test::patience;
using work::worker;
using kind = troupe::supervisor_event::kind;

/// A supervisor spec whose observer reports "started worker 0", "ended worker failed: ..."
/// lines to an inbox.
troupe::supervisor_spec reporting(troupe::inbox& events) {
    troupe::supervisor_spec spec;
    spec.observer = [to = events.address()](const troupe::supervisor_event& e) {
        std::string line;
        switch (e.what) {
            case kind::started:
                line = "started " + e.child + " " + std::to_string(e.restarts);
                break;
            case kind::ended:
                line = "ended " + e.child + " " + e.reason.error_type + (e.restart ? " restart" : "");
                break;
            case kind::start_failed:
                line = "start_failed " + e.child;
                break;
            case kind::gave_up:
                line = "gave_up " + e.child;
                break;
        }
        to.tell(line);
    };
    return spec;
}

/// The pid in a whoami answer ("label 4121").
pid_t pid_in(const std::string& whoami) {
    return static_cast<pid_t>(std::stol(whoami.substr(whoami.rfind(' ') + 1)));
}

class Supervised : public troupe_test::process_test {};

TEST_F(Supervised, AKilledProcessIsRestartedWithTheSameArguments) {
    troupe_test::log_capture quiet;
    troupe::inbox events(sys);
    troupe::supervisor_spec spec = reporting(events);
    spec.children.push_back(troupe::process_child<worker>("worker", {}, std::string("w"), 10));
    auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
    EXPECT_EQ(events.receive<std::string>(patience()), "started worker 0");

    troupe::ref<worker> first = sup.ask(troupe::which_child<worker>{"worker"}).get(patience());
    EXPECT_FALSE(first.is_local());
    first.tell(work::add{5});
    EXPECT_EQ(first.ask(work::total{}).get(patience()), 15);
    const std::string before = first.ask(work::whoami{}).get(patience());
    EXPECT_NE(pid_in(before), ::getpid()) << "it runs in a process of its own";

    ::kill(pid_in(before), SIGKILL);  // a crash
    EXPECT_EQ(events.receive<std::string>(patience()), "ended worker troupe::actor_dead restart");
    EXPECT_EQ(events.receive<std::string>(patience()), "started worker 1");
    EXPECT_EQ(first.exited().get(patience()).error_type, "troupe::actor_dead");

    troupe::ref<worker> second = sup.ask(troupe::which_child<worker>{"worker"}).get(patience());
    const std::string after = second.ask(work::whoami{}).get(patience());
    EXPECT_EQ(after.substr(0, 2), "w ") << "the same arguments";
    EXPECT_NE(pid_in(after), pid_in(before)) << "in a new process";
    EXPECT_EQ(second.ask(work::total{}).get(patience()), 10) << "a fresh actor: the count starts again";

    EXPECT_TRUE(sup.stop(patience()));
    EXPECT_EQ(events.receive<std::string>(patience()), "ended worker ");  // stopped: no error type
    EXPECT_EQ(second.exited().get(patience()).what, troupe::exit_reason::kind::stopped);
}

TEST_F(Supervised, AFailingHandlerRestartsItsProcess) {
    troupe_test::log_capture quiet;
    troupe::inbox events(sys);
    troupe::supervisor_spec spec = reporting(events);
    spec.children.push_back(troupe::process_child<worker>("worker", {}, std::string("w"), 1));
    auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
    EXPECT_EQ(events.receive<std::string>(patience()), "started worker 0");
    troupe::ref<worker> first = sup.ask(troupe::which_child<worker>{"worker"}).get(patience());
    const pid_t old_pid = pid_in(first.ask(work::whoami{}).get(patience()));
    first.tell(work::fail{});
    EXPECT_EQ(events.receive<std::string>(patience()), "ended worker std::runtime_error restart");
    EXPECT_EQ(events.receive<std::string>(patience()), "started worker 1");
    troupe::ref<worker> second = sup.ask(troupe::which_child<worker>{"worker"}).get(patience());
    EXPECT_NE(pid_in(second.ask(work::whoami{}).get(patience())), old_pid);
    EXPECT_TRUE(sup.stop(patience()));
}

TEST_F(Supervised, TooManyCrashesEscalate) {
    troupe_test::log_capture quiet;
    troupe::inbox events(sys);
    troupe::supervisor_spec spec = reporting(events);
    spec.intensity = {1, std::chrono::hours(1)};  // one restart, then give up
    spec.children.push_back(troupe::process_child<worker>("worker", {}, std::string("w"), 1));
    auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
    EXPECT_EQ(events.receive<std::string>(patience()), "started worker 0");
    for (int crash = 0; crash < 2; ++crash) {
        troupe::ref<worker> w = sup.ask(troupe::which_child<worker>{"worker"}).get(patience());
        w.tell(work::fail{});
        if (crash == 0) {
            EXPECT_EQ(events.receive<std::string>(patience()), "ended worker std::runtime_error restart");
            EXPECT_EQ(events.receive<std::string>(patience()), "started worker 1");
        }
    }
    EXPECT_EQ(events.receive<std::string>(patience()), "ended worker std::runtime_error");
    EXPECT_EQ(events.receive<std::string>(patience()), "gave_up worker");
    const troupe::exit_reason why = sup.exited().get(patience());
    EXPECT_EQ(why.what, troupe::exit_reason::kind::failed) << "the supervisor fails: its own parent decides";
    // The fixture checks that no process was left behind.
}

TEST_F(Supervised, OneForAllRestartsALocalSiblingWhenAProcessDies) {
    troupe_test::log_capture quiet;
    troupe::inbox events(sys);
    troupe::supervisor_spec spec = reporting(events);
    spec.strategy = troupe::restart_strategy::one_for_all;
    spec.children.push_back(troupe::child<worker>("local", std::string("l"), 0));
    spec.children.push_back(troupe::process_child<worker>("remote", {}, std::string("r"), 0));
    auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
    EXPECT_EQ(events.receive<std::string>(patience()), "started local 0");
    EXPECT_EQ(events.receive<std::string>(patience()), "started remote 0");
    troupe::ref<worker> local = sup.ask(troupe::which_child<worker>{"local"}).get(patience());
    troupe::ref<worker> remote = sup.ask(troupe::which_child<worker>{"remote"}).get(patience());
    EXPECT_TRUE(local.is_local());
    ::kill(pid_in(remote.ask(work::whoami{}).get(patience())), SIGKILL);
    EXPECT_EQ(events.receive<std::string>(patience()), "ended remote troupe::actor_dead restart");
    EXPECT_EQ(events.receive<std::string>(patience()), "ended local  restart");
    EXPECT_EQ(events.receive<std::string>(patience()), "started local 1");
    EXPECT_EQ(events.receive<std::string>(patience()), "started remote 1");
    EXPECT_FALSE(local.alive());
    troupe::ref<worker> again = sup.ask(troupe::which_child<worker>{"remote"}).get(patience());
    EXPECT_EQ(again.ask(work::total{}).get(patience()), 0);
    EXPECT_TRUE(sup.stop(patience()));
}

TEST_F(Supervised, ShutdownStopsAndReapsTheProcesses) {
    {
        troupe::system other(troupe_test::small_system());
        troupe::supervisor_spec spec;
        for (int i = 0; i < 3; ++i) {
            spec.children.push_back(
                troupe::process_child<worker>("worker" + std::to_string(i), {}, std::string("w"), i));
        }
        auto sup = other.spawn<troupe::supervisor>(std::move(spec));
        troupe::ref<worker> last = sup.ask(troupe::which_child<worker>{"worker2"}).get(patience());
        EXPECT_EQ(last.ask(work::total{}).get(patience()), 2);
    }  // the system's shutdown stops the supervisor, which stops its children and their processes
    // The fixture checks that every process was reaped.
}

}  // namespace

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
