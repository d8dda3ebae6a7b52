#include <troupe/core/system.hpp>

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

// system: options, several systems in one process, shutdown (stops every actor, runs on_stop,
// idempotent), spawning after shutdown (Pykka RG-10: isolated systems instead of one registry).

namespace system_tests {

using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

struct note {
    std::string text;
};
struct ping {};
struct shut_down_from_inside {};

class member : public troupe::actor {
public:
    member(std::string label, journal& log) : label_(std::move(label)), log_(log) {}
    void handle(note n) { log_.add(label_ + " " + n.text); }
    std::string handle(ping) { return label_; }
    std::string handle(shut_down_from_inside) {
        try {
            self().system().shutdown();
            return "returned";
        } catch (const troupe::error& e) {
            return e.what();
        }
    }

protected:
    void on_stop() override { log_.add(label_ + " on_stop"); }

private:
    std::string label_;
    journal& log_;
};

TEST(system, options_have_sensible_defaults) {
    troupe::system_options defaults;
    EXPECT_EQ(defaults.name, "troupe");
    EXPECT_EQ(defaults.scheduler.workers, 0u);
    troupe::system sys;
    EXPECT_EQ(sys.name(), "troupe");
    EXPECT_EQ(sys.scheduler().workers(), std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_TRUE(sys.running());
    EXPECT_EQ(sys.dead_letters(), 0u);
}

TEST(system, options_are_applied) {
    troupe::system_options o = small_system();
    o.name = "backend";
    troupe::system sys(o);
    EXPECT_EQ(sys.name(), "backend");
    EXPECT_EQ(sys.scheduler().workers(), 2u);
}

// Shutdown stops every actor after its queued messages, runs each on_stop, and empties the registry.
TEST(system, shutdown_stops_every_actor_and_runs_on_stop) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<member>("a", log);
    auto b = sys.spawn<member>("b", log);
    for (int i = 0; i < 3; ++i) {
        a.tell(note{std::to_string(i)});
    }
    sys.shutdown();
    EXPECT_FALSE(sys.running());
    EXPECT_FALSE(a.alive());
    EXPECT_FALSE(b.alive());
    EXPECT_EQ(sys.registry().size(), 0u);
    auto entries = log.entries();
    std::vector<std::string> of_a;
    std::copy_if(entries.begin(), entries.end(), std::back_inserter(of_a),
                 [](const std::string& e) { return e[0] == 'a'; });
    EXPECT_EQ(of_a, (std::vector<std::string>{"a 0", "a 1", "a 2", "a on_stop"}));
    EXPECT_EQ(std::count(entries.begin(), entries.end(), "b on_stop"), 1);
}

TEST(system, shutdown_is_idempotent_and_refuses_new_actors) {
    journal log;
    troupe::system_options o = small_system();
    o.name = "closing";
    troupe::system sys(o);
    auto a = sys.spawn<member>("a", log);
    sys.shutdown();
    EXPECT_NO_THROW(sys.shutdown());
    EXPECT_EQ(log.entries(), std::vector<std::string>{"a on_stop"});
    try {
        (void)sys.spawn<member>("late", log);
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "system 'closing' is shut down: it starts no more actors");
    }
    EXPECT_THROW(a.tell(note{"x"}), troupe::actor_dead);
    EXPECT_THROW((void)a.ask(ping{}).get(patience()), troupe::actor_dead);
    EXPECT_FALSE(a.stop());
}

// The destructor shuts down: on_stop runs for every actor, dedicated-thread ones included.
TEST(system, destroying_a_system_stops_its_actors) {
    journal log;
    {
        troupe::system sys(small_system());
        (void)sys.spawn<member>("pooled", log);
        (void)sys.spawn<member>(troupe_test::dedicated(), "dedicated", log);
    }
    auto entries = log.entries();
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"dedicated on_stop", "pooled on_stop"}));
}

TEST(system, shutdown_from_inside_an_actor_is_refused) {
    journal log;
    troupe::system sys(small_system());
    auto a = sys.spawn<member>("a", log);
    EXPECT_EQ(a.ask(shut_down_from_inside{}).get(patience()),
              "system::shutdown() was called from inside an actor, where it would wait for itself; call it from "
              "outside the system");
    EXPECT_TRUE(sys.running());
    EXPECT_EQ(a.ask(ping{}).get(patience()), "a");
}

// Several systems live side by side: own workers, own registries; actors may talk across them;
// shutting one down leaves the other running.
struct forward {
    troupe::ref<member> to;
    std::string text;
};
class forwarder : public troupe::actor {
public:
    std::string handle(forward f) { return f.to.ask(ping{}).get(patience()) + " via " + self().system().name(); }
};

TEST(system, several_systems_live_in_one_process) {
    journal log;
    troupe::system_options o1 = small_system(1);
    o1.name = "one";
    troupe::system_options o2 = small_system(1);
    o2.name = "two";
    troupe::system one(o1);
    troupe::system two(o2);
    auto a = one.spawn<member>("a", log);
    auto b = two.spawn<member>("b", log);
    auto f = one.spawn<forwarder>();
    EXPECT_EQ(one.registry().size(), 2u);
    EXPECT_EQ(two.registry().size(), 1u);
    EXPECT_EQ(f.ask(forward{b, "x"}).get(patience()), "b via one");
    two.shutdown();
    EXPECT_FALSE(b.alive());
    EXPECT_TRUE(a.alive());
    EXPECT_EQ(a.ask(ping{}).get(patience()), "a");
    EXPECT_EQ(log.entries(), std::vector<std::string>{"b on_stop"});
}

TEST(system, shutdown_stops_actors_spawned_by_actors) {
    journal log;
    struct spawner : troupe::actor {
        explicit spawner(journal& l) : log(l) {}
        troupe::ref<member> handle(note n) { return self().spawn<member>(n.text, log); }
        journal& log;
    };
    troupe::system sys(small_system());
    auto s = sys.spawn<spawner>(log);
    auto child = s.ask(note{"child"}).get(patience());
    EXPECT_TRUE(child.alive());
    sys.shutdown();
    EXPECT_FALSE(child.alive());
    EXPECT_EQ(log.entries(), std::vector<std::string>{"child on_stop"});
}

// shutdown() returns only once every on_stop has finished: the registry (which shutdown waits
// to empty) still counts an actor running its on_stop, though lookups no longer find it.
class lingering : public troupe::actor {
public:
    lingering(std::atomic<bool>& emptied_early, std::future<void>& emptied)
        : emptied_early_(emptied_early), emptied_(emptied) {}
    void handle(ping) {}

protected:
    void on_stop() override {
        auto& registry = self().system().registry();
        EXPECT_FALSE(registry.by_id(self().id()).has_value()) << "lookups find an actor that is ending";
        emptied_ = std::async(std::launch::async, [&registry] { registry.wait_until_empty(); });
        // The property under test is that this wait does NOT end: a bounded look, not a sync.
        if (emptied_.wait_for(troupe_test::scaled(std::chrono::milliseconds(100))) == std::future_status::ready) {
            emptied_early_ = true;
        }
        // Timers are shut down after the actors: on_stop may still start one.
        self().system().timers().after(std::chrono::hours(1), [] {}).cancel();
    }

private:
    std::atomic<bool>& emptied_early_;
    std::future<void>& emptied_;  // outlives the actor: its wait ends once the actor has ended
};

TEST(system, shutdown_returns_after_every_on_stop) {
    std::atomic<bool> emptied_early{false};
    std::future<void> emptied;
    troupe::system sys(small_system());
    sys.spawn<lingering>(emptied_early, emptied);
    sys.shutdown();
    EXPECT_FALSE(emptied_early.load()) << "the registry counted an actor as gone while its on_stop ran";
    emptied.get();
}

}  // namespace system_tests
