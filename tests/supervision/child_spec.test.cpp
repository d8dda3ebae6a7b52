#include <troupe/supervision/child_spec.hpp>

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "core/test_support.hpp"

// child_spec and troupe::child<A>: what a spec holds, and what each start does.
namespace child_spec_tests {

using troupe_test::patience;
using troupe_test::small_system;

/// Answers the configuration it was constructed with.
struct config_please {};

/// Counts its constructions; refuses to start with the configuration "refuse".
class configured : public troupe::actor {
public:
    configured(std::string config, std::atomic<int>* constructions) : config_(std::move(config)) {
        ++*constructions;
        if (config_ == "refuse") {
            throw std::runtime_error("refused");
        }
    }
    std::string handle(config_please) { return config_; }

private:
    std::string config_;
};

/// Starts the spec it is given as its own child, as a supervisor does.
struct start_it {
    troupe::child_spec spec;
};
class host : public troupe::actor {
public:
    troupe::ref<troupe::actor> handle(start_it s) { return s.spec.start(self()); }
};

/// A ref<configured> from the ref<actor> a start returns.
troupe::ref<configured> typed(const troupe::ref<troupe::actor>& r) {
    return troupe::ref<configured>(r.endpoint_handle());
}

TEST(child_spec, holds_a_name_a_class_and_a_permanent_policy_by_default) {
    std::atomic<int> constructions{0};
    auto spec = troupe::child<configured>("db", std::string("x"), &constructions);
    EXPECT_EQ(spec.name(), "db");
    EXPECT_EQ(spec.type(), typeid(configured));
    EXPECT_EQ(spec.restart(), troupe::restart_policy::permanent);
    EXPECT_TRUE(spec.options().name.empty());
    spec.restart(troupe::restart_policy::temporary);
    EXPECT_EQ(spec.restart(), troupe::restart_policy::temporary);
    auto chained = troupe::child<configured>("db", std::string("x"), &constructions)
                       .restart(troupe::restart_policy::transient)
                       .options(troupe_test::named("custom"));
    EXPECT_EQ(chained.restart(), troupe::restart_policy::transient);
    EXPECT_EQ(chained.options().name, "custom");
    EXPECT_EQ(constructions.load(), 0) << "making a spec starts nothing";
}

TEST(child_spec, every_start_constructs_from_copies_of_the_arguments_taken_when_the_spec_was_made) {
    std::atomic<int> constructions{0};
    std::string config = "original";
    auto spec = troupe::child<configured>("c", config, &constructions);
    config = "changed";
    auto copy = spec;  // copies share the saved arguments
    troupe::system sys(small_system());
    auto h = sys.spawn<host>();
    auto first = typed(h.ask(start_it{spec}).get(patience()));
    auto second = typed(h.ask(start_it{copy}).get(patience()));
    EXPECT_NE(first, second);
    EXPECT_EQ(first.ask(config_please{}).get(patience()), "original");
    EXPECT_EQ(second.ask(config_please{}).get(patience()), "original");
    EXPECT_EQ(constructions.load(), 2) << "the pointer argument points at the same counter";
}

TEST(child_spec, the_actor_is_named_after_the_spec_unless_the_options_name_it) {
    std::atomic<int> constructions{0};
    troupe::system sys(small_system());
    auto h = sys.spawn<host>();
    auto plain = h.ask(start_it{troupe::child<configured>("db", std::string("x"), &constructions)}).get(patience());
    EXPECT_EQ(plain.name(), "db#" + std::to_string(plain.id()));
    auto named = h.ask(start_it{troupe::child<configured>("db", std::string("x"), &constructions)
                                    .options(troupe_test::named("primary"))})
                     .get(patience());
    EXPECT_EQ(named.name(), "primary#" + std::to_string(named.id()));
}

TEST(child_spec, a_start_makes_a_child_of_the_starting_actor) {
    std::atomic<int> constructions{0};
    troupe::system sys(small_system());
    auto h = sys.spawn<host>();
    auto child = h.ask(start_it{troupe::child<configured>("c", std::string("x"), &constructions)}).get(patience());
    EXPECT_TRUE(h.stop());
    EXPECT_EQ(child.exited().get(patience()).what, troupe::exit_reason::kind::stopped)
        << "the parent's stop stopped it first";
}

TEST(child_spec, a_constructor_exception_reaches_the_starter_and_nothing_starts) {
    std::atomic<int> constructions{0};
    troupe::system sys(small_system());
    auto h = sys.spawn<host>();
    auto refused = h.ask(start_it{troupe::child<configured>("c", std::string("refuse"), &constructions)});
    EXPECT_THROW(refused.get(patience()), std::runtime_error);
    EXPECT_EQ(constructions.load(), 1);
    EXPECT_TRUE(sys.registry().by_type<configured>().empty());
}

}  // namespace child_spec_tests
