#include <troupe/core/spawn_options.hpp>

#include "test_support.hpp"

#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

// spawn_options: a name, a mailbox bound, a dedicated thread for handlers that block
// (Pykka ID-02, TH-01, TH-04: thread actors are an explicit option here).

namespace spawn_options_tests {

using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

struct ping {};
struct where {};
struct hold {
    gate* entered;
    gate* release;
};
struct ask_other {
    troupe::ref<class helper> other;
};

class helper : public troupe::actor {
public:
    explicit helper(std::string greeting = "hi") : greeting_(std::move(greeting)) {}
    std::string handle(ping) { return greeting_ + " from " + self().name(); }
    std::thread::id handle(where) { return std::this_thread::get_id(); }
    std::string handle(hold h) {
        h.entered->open();
        h.release->wait();
        return "released";
    }
    std::string handle(ask_other a) { return a.other.ask(ping{}).get(patience()); }

protected:
    void on_start() override { started_on_ = std::this_thread::get_id(); }

public:
    std::thread::id started_on() const { return started_on_; }

private:
    std::string greeting_;
    std::thread::id started_on_;
};

TEST(spawn_options, defaults_are_a_pooled_unbounded_actor_named_after_its_class) {
    troupe::spawn_options o;
    EXPECT_TRUE(o.name.empty());
    EXPECT_EQ(o.mailbox.capacity, 0u);
    EXPECT_FALSE(o.dedicated_thread);
    troupe::system sys(small_system());
    auto r = sys.spawn<helper>(o);
    EXPECT_EQ(r.name(), "helper#" + std::to_string(r.id()));
}

// The options come first; the remaining arguments go to the constructor.
TEST(spawn_options, a_name_replaces_the_class_name) {
    troupe::system sys(small_system());
    auto r = sys.spawn<helper>(troupe_test::named("greeter"), "hello");
    EXPECT_EQ(r.name(), "greeter#" + std::to_string(r.id()));
    EXPECT_EQ(r.ask(ping{}).get(patience()), "hello from " + r.name());
    auto found = sys.registry().by_name("greeter");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id(), r.id());
}

TEST(spawn_options, a_mailbox_bound_applies) {
    gate entered;
    gate release;
    troupe::system sys(small_system());
    auto r = sys.spawn<helper>(troupe_test::bounded(1, troupe::overflow::fail));
    auto held = r.ask(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    auto queued = r.ask(ping{});
    EXPECT_THROW((void)r.ask(ping{}).get(patience()), troupe::mailbox_full);
    release.open();
    EXPECT_EQ(held.get(patience()), "released");
    EXPECT_EQ(queued.get(patience()), "hi from " + r.name());
}

// A dedicated-thread actor runs on_start and every handler on one thread of its own.
TEST(spawn_options, a_dedicated_actor_runs_on_its_own_thread) {
    troupe::system sys(small_system());
    auto a = sys.spawn<helper>(troupe_test::dedicated());
    auto b = sys.spawn<helper>(troupe_test::dedicated());
    const auto a_thread = a.ask(where{}).get(patience());
    EXPECT_EQ(a.call(&helper::started_on).get(patience()), a_thread);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(a.ask(where{}).get(patience()), a_thread);
    }
    EXPECT_NE(a_thread, std::this_thread::get_id());
    EXPECT_NE(b.ask(where{}).get(patience()), a_thread);
}

// Handlers of dedicated actors may block: more blocked actors than workers, and the pool still
// serves the others.
TEST(spawn_options, blocking_dedicated_actors_do_not_starve_the_pool) {
    constexpr int blockers = 3;  // more than the two workers
    std::vector<gate> entered(blockers);
    gate release;
    troupe::system sys(small_system());
    std::vector<troupe::ref<helper>> blocked;
    std::vector<troupe::future<std::string>> results;
    for (int i = 0; i < blockers; ++i) {
        blocked.push_back(sys.spawn<helper>(troupe_test::dedicated()));
        results.push_back(blocked.back().ask(hold{&entered[i], &release}));
    }
    for (auto& g : entered) {
        ASSERT_TRUE(g.wait());
    }
    auto pooled = sys.spawn<helper>();
    EXPECT_EQ(pooled.ask(ping{}).get(patience()), "hi from " + pooled.name());
    release.open();
    for (auto& r : results) {
        EXPECT_EQ(r.get(patience()), "released");
    }
}

// A dedicated actor may wait for a pooled one, even with a single worker.
TEST(spawn_options, a_dedicated_actor_can_wait_for_a_pooled_one) {
    troupe::system sys(small_system(1));
    auto pooled = sys.spawn<helper>("pooled");
    auto waiter = sys.spawn<helper>(troupe_test::dedicated());
    EXPECT_EQ(waiter.ask(ask_other{pooled}).get(patience()), "pooled from " + pooled.name());
}

// Dedicated actors stop like any other: on stop, by failure, and at shutdown.
TEST(spawn_options, dedicated_actors_stop_like_any_other) {
    troupe::system sys(small_system());
    std::vector<troupe::ref<helper>> refs;
    for (int i = 0; i < 4; ++i) {
        refs.push_back(sys.spawn<helper>(troupe_test::dedicated()));
    }
    EXPECT_TRUE(refs[0].stop());
    EXPECT_FALSE(refs[0].alive());
    EXPECT_TRUE(refs[1].stop_async().get(patience()));
    sys.shutdown();
    for (auto& r : refs) {
        EXPECT_FALSE(r.alive());
    }
}

}  // namespace spawn_options_tests
