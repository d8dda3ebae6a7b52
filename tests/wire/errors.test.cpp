#include <troupe/wire/errors.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

TEST(errors, every_wire_error_is_a_troupe_error) {
    static_assert(std::is_base_of_v<troupe::error, troupe::wire::decode_error>);
    static_assert(std::is_base_of_v<troupe::error, troupe::wire::encode_error>);
    static_assert(std::is_base_of_v<troupe::error, troupe::wire::frame_error>);
    try {
        throw troupe::wire::decode_error("point.y: expected an integer, got a string (at byte 3)");
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "point.y: expected an integer, got a string (at byte 3)");
    }
}

}  // namespace
