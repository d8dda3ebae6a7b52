#include <troupe/core/errors.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <type_traits>

// The error hierarchy: every error troupe throws is a troupe::error, hence a std::runtime_error,
// and keeps its text.

namespace errors_tests {

static_assert(std::is_base_of_v<std::runtime_error, troupe::error>);
static_assert(std::is_base_of_v<troupe::error, troupe::actor_dead>);
static_assert(std::is_base_of_v<troupe::error, troupe::timeout>);
static_assert(std::is_base_of_v<troupe::error, troupe::deadlock>);
static_assert(std::is_base_of_v<troupe::error, troupe::mailbox_full>);
static_assert(std::is_base_of_v<troupe::error, troupe::unhandled_message>);
static_assert(std::is_base_of_v<troupe::error, troupe::broken_promise>);
static_assert(std::is_base_of_v<troupe::error, troupe::promise_already_satisfied>);
static_assert(std::is_base_of_v<troupe::error, troupe::no_state>);

template <class E>
void expect_caught_as_troupe_error() {
    // Built with append, not operator+: GCC 12 at -O1 warns a false -Warray-bounds on the latter.
    std::string text = "text of ";
    text.append(typeid(E).name());
    try {
        throw E(text);
    } catch (const troupe::error& e) {
        EXPECT_EQ(e.what(), text);
        EXPECT_NE(dynamic_cast<const E*>(&e), nullptr);
    }
}

TEST(errors, every_kind_is_caught_as_troupe_error_with_its_text) {
    expect_caught_as_troupe_error<troupe::error>();
    expect_caught_as_troupe_error<troupe::actor_dead>();
    expect_caught_as_troupe_error<troupe::timeout>();
    expect_caught_as_troupe_error<troupe::deadlock>();
    expect_caught_as_troupe_error<troupe::mailbox_full>();
    expect_caught_as_troupe_error<troupe::unhandled_message>();
    expect_caught_as_troupe_error<troupe::broken_promise>();
    expect_caught_as_troupe_error<troupe::promise_already_satisfied>();
    expect_caught_as_troupe_error<troupe::no_state>();
}

TEST(errors, the_kinds_are_distinct) {
    EXPECT_THROW(
        {
            try {
                throw troupe::timeout("t");
            } catch (const troupe::actor_dead&) {
                FAIL() << "a timeout is not an actor_dead";
            }
        },
        troupe::timeout);
    static_assert(!std::is_base_of_v<troupe::timeout, troupe::deadlock>);
    static_assert(!std::is_base_of_v<troupe::actor_dead, troupe::mailbox_full>);
}

}  // namespace errors_tests
