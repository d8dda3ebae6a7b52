#include <troupe/wire/writer.hpp>

#include <troupe/wire/errors.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::hex;

namespace {

std::string written(auto write) {
    std::vector<std::byte> out;
    troupe::wire::writer w(out);
    write(w);
    return hex(out);
}

TEST(writer, integers_take_their_shortest_form) {
    auto i = [](std::int64_t v) { return written([v](auto& w) { w.integer(v); }); };
    auto u = [](std::uint64_t v) { return written([v](auto& w) { w.integer(v); }); };
    EXPECT_EQ(i(0), "00");
    EXPECT_EQ(i(127), "7f");
    EXPECT_EQ(i(128), "cc 80");
    EXPECT_EQ(i(256), "cd 01 00");
    EXPECT_EQ(i(65536), "ce 00 01 00 00");
    EXPECT_EQ(i(std::int64_t{1} << 32), "cf 00 00 00 01 00 00 00 00");
    EXPECT_EQ(i(-1), "ff");
    EXPECT_EQ(i(-32), "e0");
    EXPECT_EQ(i(-33), "d0 df");
    EXPECT_EQ(i(-129), "d1 ff 7f");
    EXPECT_EQ(i(-32769), "d2 ff ff 7f ff");
    EXPECT_EQ(i(std::numeric_limits<std::int64_t>::min()), "d3 80 00 00 00 00 00 00 00");
    EXPECT_EQ(u(std::numeric_limits<std::uint64_t>::max()), "cf ff ff ff ff ff ff ff ff");
}

TEST(writer, every_other_kind_has_its_msgpack_form) {
    EXPECT_EQ(written([](auto& w) { w.nil(); }), "c0");
    EXPECT_EQ(written([](auto& w) { w.boolean(false); }), "c2");
    EXPECT_EQ(written([](auto& w) { w.boolean(true); }), "c3");
    EXPECT_EQ(written([](auto& w) { w.float32(-0.0f); }), "ca 80 00 00 00");
    EXPECT_EQ(written([](auto& w) { w.float64(1.0); }), "cb 3f f0 00 00 00 00 00 00");
    EXPECT_EQ(written([](auto& w) { w.string("abc"); }), "a3 61 62 63");
    EXPECT_EQ(written([](auto& w) { w.string(std::string(32, 'a')); }).substr(0, 5), "d9 20");
    EXPECT_EQ(written([](auto& w) { w.string(std::string(256, 'a')); }).substr(0, 8), "da 01 00");
    EXPECT_EQ(written([](auto& w) { w.string(std::string(65536, 'a')); }).substr(0, 14), "db 00 01 00 00");
    EXPECT_EQ(written([](auto& w) { w.binary(wire_test::bytes({1})); }), "c4 01 01");
    EXPECT_EQ(written([](auto& w) { w.binary(std::vector<std::byte>(256)); }).substr(0, 8), "c5 01 00");
    EXPECT_EQ(written([](auto& w) { w.array(3); }), "93");
    EXPECT_EQ(written([](auto& w) { w.array(16); }), "dc 00 10");
    EXPECT_EQ(written([](auto& w) { w.array(65536); }), "dd 00 01 00 00");
    EXPECT_EQ(written([](auto& w) { w.map(1); }), "81");
    EXPECT_EQ(written([](auto& w) { w.map(16); }), "de 00 10");
}

TEST(writer, a_size_msgpack_cannot_carry_is_an_encode_error) {
    std::vector<std::byte> out;
    troupe::wire::writer w(out);
    EXPECT_THROW(w.array(std::size_t{1} << 32), troupe::wire::encode_error);
    EXPECT_THROW(w.map(std::size_t{1} << 32), troupe::wire::encode_error);
    w.array(std::numeric_limits<std::uint32_t>::max());
    EXPECT_EQ(hex(out), "dd ff ff ff ff") << "the largest size is written; nothing before it was";
    EXPECT_EQ(&w.buffer(), &out);
}

}  // namespace
