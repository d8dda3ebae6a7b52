#include <troupe/supervision/supervisor.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "supervision/supervision_support.hpp"

// Supervisors: strategies, restart policies, restart intensity and escalation, stop order, and
// reaching a child across restarts. Every wait is on an event the supervisor or a child logs.
namespace supervisor_tests {

using namespace std::chrono_literals;
using supervision_test::crash;
using supervision_test::current;
using supervision_test::event_log;
using supervision_test::observe;
using supervision_test::quit;
using supervision_test::whoami;
using supervision_test::worker;
using supervision_test::worker_child;
using troupe_test::patience;
using troupe_test::small_system;
using kind = troupe::exit_reason::kind;
using strings = std::vector<std::string>;

/// A spec with workers named `names`, logging into `log`, and an observer writing to `events`.
troupe::supervisor_spec spec_of(troupe::restart_strategy strategy, event_log& log, const strings& names,
                                event_log& events) {
    troupe::supervisor_spec spec;
    spec.strategy = strategy;
    spec.intensity = {10, 1h};
    for (const auto& n : names) {
        spec.children.push_back(worker_child(log, n));
    }
    spec.observer = observe(events);
    return spec;
}

/// The exception a failed actor ended with, rethrown as E (fails the test if it is not an E).
template <class E>
E error_of(const troupe::exit_reason& why) {
    try {
        std::rethrow_exception(why.error);
    } catch (const E& e) {
        return e;
    } catch (...) {
        ADD_FAILURE() << "the actor failed with something else: " << why.describe();
    }
    return E("", "");
}

TEST(supervisor, starts_its_children_in_order_and_its_stop_stops_them_in_reverse) {
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup =
        sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_one, log, {"a", "b", "c"}, events));
    auto kids = sup.ask(troupe::which_children{}).get(patience());
    ASSERT_EQ(kids.size(), 3u);
    for (std::size_t i = 0; i < kids.size(); ++i) {
        EXPECT_EQ(kids[i].name, strings({"a", "b", "c"})[i]);
        EXPECT_TRUE(kids[i].current.alive());
        EXPECT_EQ(kids[i].current.name(), kids[i].name + "#" + std::to_string(kids[i].current.id()))
            << "a child's actor is named after its spec";
        EXPECT_EQ(kids[i].restarts, 0u);
        EXPECT_EQ(kids[i].restart, troupe::restart_policy::permanent);
    }
    EXPECT_EQ(log.entries(), (strings{"a start", "b start", "c start"}));
    EXPECT_TRUE(sup.stop());
    EXPECT_EQ(log.entries_from(3), (strings{"c stop", "b stop", "a stop"}));
    for (auto& k : kids) {
        EXPECT_EQ(k.current.exited().get(patience()).what, kind::stopped);
    }
    EXPECT_EQ(sup.exited().get(patience()).what, kind::stopped);
    EXPECT_EQ(events.count("ended a: stopped -> stays down"), 1u) << "its own stop restarts nothing";
}

TEST(supervisor, one_for_one_restarts_only_the_child_that_failed) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup =
        sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_one, log, {"a", "b", "c"}, events));
    auto a = current(sup, "a");
    auto b = current(sup, "b");
    auto c = current(sup, "c");
    b.tell(crash{});
    log.wait_for("b start", 2);
    EXPECT_EQ(log.entries(), (strings{"a start", "b start", "c start", "b failed", "b start"}));
    auto b2 = current(sup, "b");
    EXPECT_NE(b2, b) << "a restart makes a new actor";
    EXPECT_FALSE(b.alive());
    EXPECT_EQ(b2.ask(whoami{}).get(patience()), "b");
    EXPECT_EQ(current(sup, "a"), a);
    EXPECT_EQ(current(sup, "c"), c);
    EXPECT_TRUE(a.alive() && c.alive());
    EXPECT_EQ(sup.ask(troupe::which_children{}).get(patience())[1].restarts, 1u);
    EXPECT_EQ(events.entries_from(3),
              (strings{"ended b: failed: std::runtime_error: b crashed -> restart", "started b"}));
}

TEST(supervisor, one_for_all_stops_the_others_in_reverse_order_then_starts_all_in_order) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup =
        sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_all, log, {"a", "b", "c"}, events));
    auto a = current(sup, "a");
    current(sup, "b").tell(crash{});
    log.wait_for("c start", 2);
    EXPECT_EQ(log.entries_from(3), (strings{"b failed", "c stop", "a stop", "a start", "b start", "c start"}));
    EXPECT_EQ(a.exited().get(patience()).what, kind::stopped);
    for (const auto& k : sup.ask(troupe::which_children{}).get(patience())) {
        EXPECT_TRUE(k.current.alive());
        EXPECT_EQ(k.restarts, 1u);
    }
    // The restarted children keep their start order, so the supervisor's stop still goes in reverse.
    EXPECT_TRUE(sup.stop());
    EXPECT_EQ(log.entries_from(9), (strings{"c stop", "b stop", "a stop"}));
}

TEST(supervisor, a_start_event_counts_the_restarts_so_far) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log starts;
    troupe::system sys(small_system());
    auto spec = spec_of(troupe::restart_strategy::one_for_one, log, {"a"}, starts);
    spec.observer = [&starts](const troupe::supervisor_event& e) {
        if (e.what == troupe::supervisor_event::kind::started) {
            starts.add(e.child + " " + std::to_string(e.restarts));
        }
    };
    auto sup = sys.spawn<troupe::supervisor>(std::move(spec));
    for (int i = 1; i <= 2; ++i) {
        current(sup, "a").tell(crash{});
        log.wait_for("a start", static_cast<std::size_t>(i) + 1);
    }
    starts.wait_for("a 2", 1);
    EXPECT_EQ(starts.entries(), (strings{"a 0", "a 1", "a 2"})) << "the first start, then each restart";
    EXPECT_EQ(sup.ask(troupe::which_children{}).get(patience())[0].restarts, 2u);
}

TEST(supervisor, rest_for_one_restarts_the_failed_child_and_those_started_after_it) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(
        spec_of(troupe::restart_strategy::rest_for_one, log, {"a", "b", "c", "d"}, events));
    auto a = current(sup, "a");
    current(sup, "b").tell(crash{});
    log.wait_for("d start", 2);
    EXPECT_EQ(log.entries_from(4), (strings{"b failed", "d stop", "c stop", "b start", "c start", "d start"}));
    EXPECT_EQ(current(sup, "a"), a) << "a was started before b: untouched";
    EXPECT_TRUE(sup.stop());
    EXPECT_EQ(log.entries_from(10), (strings{"d stop", "c stop", "b stop", "a stop"}));
}

/// Counts its constructions and remembers its configuration.
class counted : public troupe::actor {
public:
    counted(std::atomic<int>* constructions, std::string config) : config_(std::move(config)) { ++*constructions; }
    std::string handle(whoami) { return config_; }
    void handle(crash) { throw std::runtime_error("crashed"); }

private:
    std::string config_;
};

TEST(supervisor, a_restart_constructs_the_child_again_from_its_original_arguments) {
    troupe_test::log_capture quiet;
    event_log events;
    std::atomic<int> constructions{0};
    std::string config = "original";
    troupe::supervisor_spec spec;
    spec.children.push_back(troupe::child<counted>("counted", &constructions, config));
    spec.observer = observe(events);
    config = "changed after the spec was made";
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    for (std::size_t n = 1; n <= 3; ++n) {
        events.wait_for("started counted", n);
        auto c = sup.ask(troupe::which_child<counted>{"counted"}).get(patience());
        EXPECT_EQ(c.ask(whoami{}).get(patience()), "original");
        if (n < 3) {
            c.tell(crash{});
        }
    }
    EXPECT_EQ(constructions.load(), 3) << "the same counter, through the same pointer, each time";
}

TEST(supervisor, a_permanent_child_is_restarted_after_any_end) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_one, log, {"p"}, events));
    current(sup, "p").tell(quit{});
    events.wait_for("started p", 2);
    current(sup, "p").stop();
    events.wait_for("started p", 3);
    current(sup, "p").kill();
    events.wait_for("started p", 4);
    current(sup, "p").tell(crash{});
    events.wait_for("started p", 5);
    EXPECT_EQ(events.entries(),
              (strings{"started p", "ended p: normal -> restart", "started p", "ended p: stopped -> restart",
                       "started p", "ended p: killed -> restart", "started p",
                       "ended p: failed: std::runtime_error: p crashed -> restart", "started p"}));
}

TEST(supervisor, a_transient_child_is_restarted_only_after_an_abnormal_end) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::supervisor_spec spec;
    spec.intensity = {10, 1h};
    spec.children.push_back(worker_child(log, "t").restart(troupe::restart_policy::transient));
    spec.children.push_back(worker_child(log, "u").restart(troupe::restart_policy::transient));
    spec.observer = observe(events);
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    current(sup, "t").tell(crash{});
    log.wait_for("t start", 2);
    current(sup, "t").kill();
    log.wait_for("t start", 3);
    current(sup, "t").tell(quit{});
    events.wait_for("ended t: normal -> stays down");
    current(sup, "u").stop();
    events.wait_for("ended u: stopped -> stays down");
    EXPECT_FALSE(current(sup, "t")) << "not running: an empty ref";
    EXPECT_FALSE(current(sup, "u"));
    EXPECT_EQ(log.count("t start"), 3u);
    EXPECT_EQ(log.count("u start"), 1u);
    EXPECT_TRUE(sup.alive());
}

TEST(supervisor, a_temporary_child_is_never_restarted) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::supervisor_spec spec;
    spec.children.push_back(worker_child(log, "tmp").restart(troupe::restart_policy::temporary));
    spec.observer = observe(events);
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    current(sup, "tmp").tell(crash{});
    events.wait_for("ended tmp: failed: std::runtime_error: tmp crashed -> stays down");
    EXPECT_FALSE(current(sup, "tmp"));
    EXPECT_EQ(log.count("tmp start"), 1u);
}

TEST(supervisor, a_group_restart_stops_a_temporary_child_and_leaves_it_down) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    auto spec = spec_of(troupe::restart_strategy::one_for_all, log, {"a"}, events);
    spec.children.push_back(worker_child(log, "tmp").restart(troupe::restart_policy::temporary));
    spec.children.push_back(worker_child(log, "c"));
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    current(sup, "c").tell(crash{});
    log.wait_for("c start", 2);
    EXPECT_EQ(log.entries_from(3), (strings{"c failed", "tmp stop", "a stop", "a start", "c start"}));
    EXPECT_EQ(events.count("ended tmp: stopped -> stays down"), 1u);
    EXPECT_FALSE(current(sup, "tmp"));
}

TEST(supervisor, too_many_restarts_make_it_stop_its_children_in_reverse_order_and_fail) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    auto spec = spec_of(troupe::restart_strategy::one_for_one, log, {"a", "x", "c"}, events);
    spec.intensity = {2, 1h};
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    for (std::size_t n = 1; n <= 3; ++n) {
        current(sup, "x").tell(crash{});
        if (n < 3) {
            log.wait_for("x start", n + 1);
        }
    }
    auto why = sup.exited().get(patience());
    EXPECT_EQ(why.what, kind::failed);
    EXPECT_EQ(why.error_type, "troupe::restart_intensity_exceeded");
    EXPECT_EQ(error_of<troupe::restart_intensity_exceeded>(why).child(), "x");
    EXPECT_NE(why.message.find("3 restarts within 3600000 ms would be more than the 2 allowed"), std::string::npos)
        << why.message;
    // After the third failure: the others stop, last started first, and nothing starts again.
    EXPECT_EQ(log.entries_from(7), (strings{"x failed", "c stop", "a stop"}));
    EXPECT_EQ(events.entries_from(events.entries().size() - 4),
              (strings{"ended x: failed: std::runtime_error: x crashed -> stays down", "gave_up x",
                       "ended c: stopped -> stays down", "ended a: stopped -> stays down"}));
}

TEST(supervisor, restarts_older_than_the_window_do_not_count) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    std::atomic<std::int64_t> fake_now{0};  // nanoseconds on a clock that moves only when the test says so
    auto spec = spec_of(troupe::restart_strategy::one_for_one, log, {"x"}, events);
    spec.intensity = {1, 10s};
    spec.clock = [&fake_now] {
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(fake_now.load()));
    };
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    for (std::size_t n = 1; n <= 3; ++n) {
        current(sup, "x").tell(crash{});
        log.wait_for("x start", n + 1);
        fake_now += std::chrono::nanoseconds(11s).count();  // the previous restart leaves the window
    }
    EXPECT_TRUE(sup.alive()) << "three restarts, each alone in its window of 10 s";
    current(sup, "x").tell(crash{});
    log.wait_for("x start", 5);
    current(sup, "x").tell(crash{});  // the second within 10 s: more than 1
    auto why = sup.exited().get(patience());
    EXPECT_EQ(why.error_type, "troupe::restart_intensity_exceeded");
    EXPECT_EQ(log.count("x start"), 5u);
}

TEST(supervisor, giving_up_escalates_to_the_parent_supervisor) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::supervisor_spec inner;
    inner.intensity = {0, 1h};  // the first failure is one too many
    inner.children.push_back(worker_child(log, "w"));
    auto outer = spec_of(troupe::restart_strategy::one_for_one, log, {"first"}, events);
    outer.children.push_back(troupe::child<troupe::supervisor>("inner", inner));
    outer.children.push_back(worker_child(log, "last"));
    troupe::system sys(small_system());
    auto root = sys.spawn<troupe::supervisor>(outer);
    auto inner1 = root.ask(troupe::which_child<troupe::supervisor>{"inner"}).get(patience());
    current(inner1, "w").tell(crash{});
    log.wait_for("w start", 2);
    auto why = inner1.exited().get(patience());
    EXPECT_EQ(why.what, kind::failed);
    EXPECT_EQ(error_of<troupe::restart_intensity_exceeded>(why).child(), "w");
    events.wait_for("started inner", 2);
    EXPECT_EQ(events.count("ended inner: " + why.describe() + " -> restart"), 1u);
    auto inner2 = root.ask(troupe::which_child<troupe::supervisor>{"inner"}).get(patience());
    EXPECT_NE(inner2, inner1);
    EXPECT_EQ(current(inner2, "w").ask(whoami{}).get(patience()), "w");
    EXPECT_EQ(log.count("first start") + log.count("last start"), 2u) << "the siblings were not touched";
    EXPECT_TRUE(root.alive());
}

TEST(supervisor, escalation_goes_up_until_a_supervisor_can_absorb_it) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::supervisor_spec inner;
    inner.intensity = {0, 1h};
    inner.children.push_back(worker_child(log, "w"));
    auto outer = spec_of(troupe::restart_strategy::one_for_one, log, {"first"}, events);
    outer.intensity = {0, 1h};  // the root gives up too
    outer.children.push_back(troupe::child<troupe::supervisor>("inner", inner));
    outer.children.push_back(worker_child(log, "last"));
    troupe::system sys(small_system());
    auto root = sys.spawn<troupe::supervisor>(outer);
    auto inner1 = root.ask(troupe::which_child<troupe::supervisor>{"inner"}).get(patience());
    current(inner1, "w").tell(crash{});
    auto why = root.exited().get(patience());
    EXPECT_EQ(why.what, kind::failed);
    EXPECT_EQ(error_of<troupe::restart_intensity_exceeded>(why).child(), "inner");
    auto entries = log.entries_from(3);  // the first three are the starts, in an order between supervisors
    EXPECT_EQ(entries, (strings{"w failed", "last stop", "first stop"}));
}

/// Refuses to be constructed while `*refuse` is true.
class fragile : public troupe::actor {
public:
    fragile(event_log* log, std::string tag, const std::atomic<bool>* refuse) : tag_(std::move(tag)) {
        if (refuse->load()) {
            throw std::runtime_error(tag_ + " refused to start");
        }
        log->add(tag_ + " start");
    }
    void handle(crash) { throw std::runtime_error(tag_ + " crashed"); }

private:
    std::string tag_;
};

TEST(supervisor, a_child_that_cannot_start_fails_the_supervisor_and_stops_the_others) {
    troupe_test::log_capture quiet;
    event_log log;
    std::atomic<bool> refuse{true};
    troupe::supervisor_spec spec;
    spec.children.push_back(worker_child(log, "a"));
    spec.children.push_back(troupe::child<fragile>("b", &log, std::string("b"), &refuse));
    spec.children.push_back(worker_child(log, "c"));
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    auto why = sup.exited().get(patience());
    EXPECT_EQ(why.what, kind::failed);
    EXPECT_EQ(why.error_type, "troupe::child_start_failed");
    EXPECT_EQ(error_of<troupe::child_start_failed>(why).child(), "b");
    EXPECT_EQ(why.message, sup.name() + " could not start its child 'b': std::runtime_error: b refused to start");
    EXPECT_EQ(log.entries(), (strings{"a start", "a stop"}));
}

TEST(supervisor, a_restart_whose_constructor_throws_counts_toward_the_intensity) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    std::atomic<bool> refuse{false};
    auto spec = spec_of(troupe::restart_strategy::one_for_one, log, {"a"}, events);
    spec.intensity = {2, 1h};
    spec.children.push_back(troupe::child<fragile>("b", &log, std::string("b"), &refuse));
    spec.children.push_back(worker_child(log, "c"));
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    auto b = sup.ask(troupe::which_child<fragile>{"b"}).get(patience());
    refuse = true;
    b.tell(crash{});
    auto why = sup.exited().get(patience());
    EXPECT_EQ(error_of<troupe::restart_intensity_exceeded>(why).child(), "b");
    const std::string refused = "start_failed b: failed: std::runtime_error: b refused to start";
    EXPECT_EQ(events.entries_from(3),
              (strings{"ended b: failed: std::runtime_error: b crashed -> restart", refused, refused, "gave_up b",
                       "ended c: stopped -> stays down", "ended a: stopped -> stays down"}));
}

/// Its on_stop waits until the test opens a gate.
class slow_to_stop : public troupe::actor {
public:
    slow_to_stop(event_log* log, troupe_test::gate* gate) : log_(log), gate_(gate) { log_->add("slow start"); }

protected:
    void on_stop() override {
        log_->add("slow stopping");
        gate_->wait();
    }

private:
    event_log* log_;
    troupe_test::gate* gate_;
};

TEST(supervisor, it_keeps_answering_while_a_group_restart_waits_for_a_slow_child) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe_test::gate release;
    auto spec = spec_of(troupe::restart_strategy::one_for_all, log, {}, events);
    spec.children.push_back(troupe::child<slow_to_stop>("slow", &log, &release).options(troupe_test::dedicated()));
    spec.children.push_back(worker_child(log, "b"));
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec);
    current(sup, "b").tell(crash{});
    log.wait_for("slow stopping");
    auto kids = sup.ask(troupe::which_children{}).get(patience());  // answered in the middle of the restart
    ASSERT_EQ(kids.size(), 2u);
    EXPECT_TRUE(kids[0].current) << "still being stopped";
    EXPECT_FALSE(kids[0].current.alive());
    EXPECT_FALSE(kids[1].current) << "b has ended and waits for its group";
    release.open();
    log.wait_for("b start", 2);
    EXPECT_EQ(log.entries(), (strings{"slow start", "b start", "b failed", "slow stopping", "slow start", "b start"}));
}

TEST(supervisor, which_child_refuses_an_unknown_name_or_a_wrong_class) {
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_one, log, {"a"}, events));
    EXPECT_THROW(sup.ask(troupe::which_child<>{"nobody"}).get(patience()), troupe::error);
    EXPECT_THROW(sup.ask(troupe::which_child<troupe::supervisor>{"a"}).get(patience()), troupe::error);
    troupe::ref<troupe::actor> any = sup.ask(troupe::which_child{"a"}).get(patience());
    EXPECT_EQ(any.id(), current(sup, "a").id());
    // Through an untyped address, as a registry lookup gives it.
    troupe::address untyped = sup;
    EXPECT_EQ(untyped.ask<troupe::ref<troupe::actor>>(troupe::which_child<>{"a"}).get(patience()), any);
}

TEST(supervisor, a_spec_with_two_children_of_the_same_name_is_refused) {
    event_log log;
    troupe::supervisor_spec spec;
    spec.children.push_back(worker_child(log, "a"));
    spec.children.push_back(worker_child(log, "a"));
    troupe::system sys(small_system());
    EXPECT_THROW(sys.spawn<troupe::supervisor>(spec), troupe::error);
}

TEST(supervisor, a_system_shutdown_restarts_nothing) {
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup = sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_all, log, {"a", "b"}, events));
    auto kids = sup.ask(troupe::which_children{}).get(patience());
    sys.shutdown();  // stops every actor, the children possibly before their supervisor
    EXPECT_EQ(log.count("a start") + log.count("b start"), 2u);
    EXPECT_EQ(log.count("a stop") + log.count("b stop"), 2u);
    EXPECT_TRUE(sup.exited().get(patience()).what == kind::stopped);
}

// After a one_for_one restart the restarted child is moved back to its place in the spec order
// (context::place_child), so the supervisor's stop still goes in reverse spec order, as in Erlang.
TEST(supervisor, its_stop_keeps_the_spec_order_after_a_one_for_one_restart) {
    troupe_test::log_capture quiet;
    event_log log;
    event_log events;
    troupe::system sys(small_system());
    auto sup =
        sys.spawn<troupe::supervisor>(spec_of(troupe::restart_strategy::one_for_one, log, {"a", "b", "c"}, events));
    current(sup, "a").tell(crash{});
    log.wait_for("a start", 2);
    EXPECT_TRUE(sup.stop());
    EXPECT_EQ(log.entries_from(5), (strings{"c stop", "b stop", "a stop"}));
}

}  // namespace supervisor_tests
