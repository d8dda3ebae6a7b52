#include <troupe/testing/errors.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(testing_errors, both_are_troupe_errors_with_their_message) {
    try {
        throw troupe::testing::expectation_failed("probe#1 expected a pong");
    } catch (const troupe::error& e) {
        EXPECT_EQ(std::string(e.what()), "probe#1 expected a pong");
    }
    try {
        throw troupe::testing::stuck("idle");
    } catch (const troupe::error& e) {
        EXPECT_EQ(std::string(e.what()), "idle");
    }
}

}  // namespace
