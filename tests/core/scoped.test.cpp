#include <troupe/core/scoped.hpp>

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace scoped_tests {

struct ping {};
class pinged : public troupe::actor {
public:
    explicit pinged(troupe_test::journal* log) : log_(log) {}
    int handle(ping) { return 7; }

protected:
    void on_stop() override { log_->add("on_stop"); }

private:
    troupe_test::journal* log_;
};

static_assert(!std::is_copy_constructible_v<troupe::scoped<pinged>>);

TEST(scoped, the_actor_lives_as_long_as_the_scope) {
    troupe_test::journal log;
    troupe::system sys(troupe_test::small_system());
    troupe::ref<pinged> seen;
    {
        troupe::scoped<pinged> a(sys, &log);
        seen = a.get();
        EXPECT_EQ(a->ask(ping{}).get(troupe_test::patience()), 7);
        EXPECT_TRUE(log.entries().empty());
    }
    EXPECT_EQ(log.entries(), std::vector<std::string>{"on_stop"}) << "stopped, on_stop done, at scope exit";
    EXPECT_FALSE(seen.alive());
}

TEST(scoped, release_hands_the_actor_back) {
    troupe_test::journal log;
    troupe::system sys(troupe_test::small_system());
    troupe::ref<pinged> kept;
    {
        troupe::scoped<pinged> a(sys.spawn<pinged>(&log));
        kept = a.release();
    }
    EXPECT_TRUE(kept.alive());
    EXPECT_TRUE(kept.stop());
}

}  // namespace scoped_tests
