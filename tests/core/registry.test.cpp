#include <troupe/core/registry.hpp>

#include "test_support.hpp"

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

// The registry: who is listed when, lookups by type, name and id, broadcast, stop_all
// (Pykka RG-01, RG-04..09).

namespace registry_tests {

using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

struct hello {};
struct heard {};
struct explode {};

class animal : public troupe::actor {
public:
    void handle(hello) { ++heard_; }
    int handle(heard) { return heard_; }
    void handle(explode) { throw std::runtime_error("boom"); }

private:
    int heard_ = 0;
};
class dog : public animal {};
class rock : public troupe::actor {
public:
    void handle(hello) { ++heard_; }
    int handle(heard) { return heard_; }

private:
    int heard_ = 0;
};

std::vector<std::uint64_t> ids_of(const std::vector<troupe::address>& as) {
    std::vector<std::uint64_t> out;
    for (auto& a : as) {
        out.push_back(a.id());
    }
    return out;
}

// RG-01: spawn lists an actor; stop and failure unlist it.
TEST(registry, actors_are_listed_from_spawn_until_they_stop) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto& reg = sys.registry();
    EXPECT_EQ(reg.size(), 0u);
    auto a = sys.spawn<animal>();
    auto b = sys.spawn<animal>();
    EXPECT_EQ(reg.size(), 2u);
    EXPECT_EQ(ids_of(reg.all()), (std::vector<std::uint64_t>{a.id(), b.id()}));
    ASSERT_TRUE(a.stop());
    EXPECT_EQ(ids_of(reg.all()), std::vector<std::uint64_t>{b.id()});
    b.tell(explode{});
    EXPECT_NO_THROW(b.terminated().get(patience()));
    EXPECT_EQ(reg.size(), 0u);
    EXPECT_TRUE(reg.all().empty());
}

// RG-04: all() is a snapshot, oldest first.
TEST(registry, all_lists_the_oldest_first) {
    troupe::system sys(small_system());
    std::vector<std::uint64_t> spawned;
    for (int i = 0; i < 8; ++i) {
        spawned.push_back(sys.spawn<animal>().id());
    }
    auto snapshot = sys.registry().all();
    EXPECT_EQ(ids_of(snapshot), spawned);
    (void)sys.spawn<rock>();
    EXPECT_EQ(snapshot.size(), 8u) << "a snapshot does not change";
    EXPECT_EQ(sys.registry().size(), 9u);
}

// RG-05: by_type finds the class and its subclasses.
TEST(registry, by_type_finds_subclasses_too) {
    troupe::system sys(small_system());
    auto a = sys.spawn<animal>();
    auto d = sys.spawn<dog>();
    auto r = sys.spawn<rock>();
    auto animals = sys.registry().by_type<animal>();
    ASSERT_EQ(animals.size(), 2u);
    EXPECT_EQ(animals[0].id(), a.id());
    EXPECT_EQ(animals[1].id(), d.id());
    auto dogs = sys.registry().by_type<dog>();
    ASSERT_EQ(dogs.size(), 1u);
    EXPECT_TRUE(dogs[0] == d);
    EXPECT_EQ(sys.registry().by_type<rock>().size(), 1u);
    EXPECT_EQ(sys.registry().by_type<troupe::actor>().size(), 3u);
    // The refs it returns work.
    EXPECT_EQ(animals[1].ask(heard{}).get(patience()), 0);
}

// RG-05: by_name matches the exact class or given name: no subclasses, no prefixes.
TEST(registry, by_name_matches_the_exact_name) {
    troupe::system sys(small_system());
    auto a = sys.spawn<animal>();
    (void)sys.spawn<dog>();
    auto w1 = sys.spawn<rock>(troupe_test::named("worker"));
    auto w2 = sys.spawn<rock>(troupe_test::named("worker"));
    (void)sys.spawn<rock>(troupe_test::named("boss"));
    EXPECT_EQ(ids_of(sys.registry().by_name("animal")), std::vector<std::uint64_t>{a.id()});
    EXPECT_EQ(ids_of(sys.registry().by_name("worker")), (std::vector<std::uint64_t>{w1.id(), w2.id()}));
    EXPECT_TRUE(sys.registry().by_name("work").empty());
    EXPECT_TRUE(sys.registry().by_name("rock").empty()) << "a given name replaces the class name";
}

// RG-06: by_id finds a live actor, or nothing; the typed form also checks the class.
TEST(registry, by_id_finds_a_live_actor) {
    troupe::system sys(small_system());
    auto a = sys.spawn<animal>();
    auto d = sys.spawn<dog>();
    auto found = sys.registry().by_id(a.id());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id(), a.id());
    EXPECT_EQ(found->name(), a.name());
    EXPECT_TRUE(found->alive());
    EXPECT_FALSE(sys.registry().by_id(999'999).has_value());
    EXPECT_TRUE(sys.registry().by_id<animal>(d.id()).has_value());
    EXPECT_FALSE(sys.registry().by_id<dog>(a.id()).has_value());
    EXPECT_FALSE(sys.registry().by_id<rock>(a.id()).has_value());
    auto typed = sys.registry().by_id<dog>(d.id());
    ASSERT_TRUE(typed.has_value());
    EXPECT_TRUE(*typed == d);
    ASSERT_TRUE(a.stop());
    EXPECT_FALSE(sys.registry().by_id(a.id()).has_value());
    EXPECT_FALSE(sys.registry().by_id<animal>(a.id()).has_value());
}

// RG-07: broadcast tells every actor of a class and its subclasses, and no one else.
TEST(registry, broadcast_reaches_a_class_and_its_subclasses) {
    troupe::system sys(small_system());
    std::vector<troupe::ref<animal>> animals{sys.spawn<animal>(), sys.spawn<animal>(), sys.spawn<dog>()};
    std::vector<troupe::ref<rock>> rocks{sys.spawn<rock>(), sys.spawn<rock>()};
    EXPECT_EQ(sys.registry().broadcast<animal>(hello{}), 3u);
    EXPECT_EQ(sys.registry().broadcast<dog>(hello{}), 1u);
    EXPECT_EQ(animals[0].ask(heard{}).get(patience()), 1);
    EXPECT_EQ(animals[1].ask(heard{}).get(patience()), 1);
    EXPECT_EQ(animals[2].ask(heard{}).get(patience()), 2);
    for (auto& r : rocks) {
        EXPECT_EQ(r.ask(heard{}).get(patience()), 0);
    }
    ASSERT_TRUE(animals[0].stop());
    EXPECT_EQ(sys.registry().broadcast<animal>(hello{}), 2u) << "a stopped actor is not counted";
}

// RG-08: stop_all stops every actor, newest first, each stop finished before the next begins.
class ordered : public troupe::actor {
public:
    ordered(int index, journal& log, std::atomic<int>& stopping) : index_(index), log_(log), stopping_(stopping) {}
    void handle(hello) {}

protected:
    void on_stop() override {
        if (++stopping_ != 1) {
            log_.add("overlap");
        }
        log_.add(std::to_string(index_));
        volatile long spin = 0;
        for (long i = 0; i < 100'000; ++i) {
            spin = spin + i;
        }
        --stopping_;
    }

private:
    int index_;
    journal& log_;
    std::atomic<int>& stopping_;
};

TEST(registry, stop_all_stops_the_newest_first_one_after_another) {
    journal log;
    std::atomic<int> stopping{0};
    troupe::system sys(small_system());
    for (int i = 0; i < 5; ++i) {
        (void)sys.spawn<ordered>(i, log, stopping);
    }
    EXPECT_EQ(sys.registry().stop_all(), std::vector<bool>(5, true));
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"4", "3", "2", "1", "0"}));
    EXPECT_EQ(sys.registry().size(), 0u);
    EXPECT_TRUE(sys.registry().stop_all().empty());
}

// RG-09: stop_all_async requests every stop at once; each future gives true.
TEST(registry, stop_all_async_returns_a_future_per_actor) {
    journal log;
    std::atomic<int> stopping{0};
    troupe::system sys(small_system());
    std::vector<troupe::ref<ordered>> refs;
    for (int i = 0; i < 5; ++i) {
        refs.push_back(sys.spawn<ordered>(i, log, stopping));
    }
    auto futures = sys.registry().stop_all_async();
    ASSERT_EQ(futures.size(), 5u);
    for (auto& f : futures) {
        EXPECT_TRUE(f.get(patience()));
    }
    for (auto& r : refs) {
        EXPECT_FALSE(r.alive());
    }
    EXPECT_EQ(sys.registry().size(), 0u);
    auto entries = log.entries();
    std::sort(entries.begin(), entries.end());
    entries.erase(std::remove(entries.begin(), entries.end(), "overlap"), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

// RG-10: each system has its own registry.
TEST(registry, each_system_has_its_own_registry) {
    troupe::system one(small_system());
    troupe::system two(small_system());
    (void)one.spawn<animal>();
    (void)one.spawn<animal>();
    (void)two.spawn<rock>();
    EXPECT_EQ(one.registry().size(), 2u);
    EXPECT_EQ(two.registry().size(), 1u);
    EXPECT_TRUE(two.registry().by_type<animal>().empty());
    EXPECT_EQ(one.registry().stop_all().size(), 2u);
    EXPECT_EQ(two.registry().size(), 1u);
}

}  // namespace registry_tests
