#include <troupe/wire/codec.hpp>

#include <troupe/core/codec.hpp>
#include <troupe/core/message.hpp>

#include <msgpack.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::bytes;
using wire_test::decode_failure;
using wire_test::hex;
using wire_test::round_trip;

namespace geo {
struct point {
    std::int32_t x = 0;
    std::int32_t y = 0;
    bool operator==(const point&) const = default;
};
TROUPE_RECORD(point, x, y);

struct line {
    std::string name;
    std::vector<point> points;
    bool operator==(const line&) const = default;
};
TROUPE_RECORD(line, name, points);
}  // namespace geo

namespace {

enum class color : std::uint8_t { red = 1, green = 2, blue = 250 };
enum legacy { below = -3, above = 7 };

struct empty {
    bool operator==(const empty&) const = default;
};
TROUPE_RECORD(empty);

/// One field of every kind the codec knows.
struct everything {
    bool flag = false;
    std::int8_t i8 = 0;
    std::int16_t i16 = 0;
    std::int32_t i32 = 0;
    std::int64_t i64 = 0;
    std::uint8_t u8 = 0;
    std::uint16_t u16 = 0;
    std::uint32_t u32 = 0;
    std::uint64_t u64 = 0;
    char c = 0;
    float f = 0;
    double d = 0;
    std::string s;
    std::vector<int> v;
    std::array<int, 3> a{};
    std::map<std::string, int> m;
    std::unordered_map<int, std::string> um;
    std::optional<int> o;
    std::variant<std::monostate, int, std::string> var;
    std::tuple<int, std::string, bool> t;
    std::pair<int, double> p;
    std::vector<std::byte> bin;
    std::array<std::byte, 4> id{};
    color col = color::red;
    legacy leg = below;
    geo::point pt;
    std::vector<geo::point> pts;
    std::map<std::string, geo::point> named;
    std::optional<geo::point> maybe;
    empty e;
    std::monostate nothing;
    std::vector<bool> bits;
    bool operator==(const everything&) const = default;
};
TROUPE_RECORD(everything, flag, i8, i16, i32, i64, u8, u16, u32, u64, c, f, d, s, v, a, m, um, o, var, t, p, bin, id,
              col, leg, pt, pts, named, maybe, e, nothing, bits);

/// point as a newer peer has it: one field more, at the end.
struct point_v2 {
    std::int32_t x = 0;
    std::int32_t y = 0;
    std::int32_t z = 7;
    bool operator==(const point_v2&) const = default;
};
TROUPE_RECORD(point_v2, x, y, z);

struct small {
    std::int8_t x = 0;
};
TROUPE_RECORD(small, x);

/// Not a record: no TROUPE_RECORD.
struct plain {
    int x = 0;
};
/// A record with a field troupe::wire cannot carry.
struct with_pointer {
    int* p = nullptr;
};
TROUPE_RECORD(with_pointer, p);

everything sample() {
    everything e;
    e.flag = true;
    e.i8 = -128;
    e.i16 = -32768;
    e.i32 = std::numeric_limits<std::int32_t>::min();
    e.i64 = std::numeric_limits<std::int64_t>::min();
    e.u8 = 255;
    e.u16 = 65535;
    e.u32 = std::numeric_limits<std::uint32_t>::max();
    e.u64 = std::numeric_limits<std::uint64_t>::max();
    e.c = 'q';
    e.f = 1.5f;
    e.d = -2.25e300;
    e.s = "héllo";
    e.v = {1, -1, 1000000};
    e.a = {4, 5, 6};
    e.m = {{"cpu", 2}, {"mem", 512}};
    e.um = {{1, "one"}, {-2, "minus two"}};
    e.o = 42;
    e.var = std::string("alt");
    e.t = {7, "seven", true};
    e.p = {-1, 0.5};
    e.bin = bytes({0x00, 0xff, 0x10});
    e.id = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    e.col = color::blue;
    e.leg = above;
    e.pt = {3, -4};
    e.pts = {{1, 2}, {3, 4}};
    e.named = {{"origin", {0, 0}}, {"far", {1000, -1000}}};
    e.maybe = geo::point{9, 9};
    e.bits = {true, false, true};
    return e;
}

TEST(codec, every_standard_type_and_record_round_trips) {
    const everything e = sample();
    EXPECT_EQ(round_trip(e), e);
    EXPECT_EQ(round_trip(everything{}), everything{}) << "defaults, empty containers and nils";
}

TEST(codec, standard_types_round_trip_on_their_own) {
    EXPECT_EQ(round_trip(true), true);
    EXPECT_EQ(round_trip(std::int64_t{-1}), -1);
    EXPECT_EQ(round_trip(std::numeric_limits<std::uint64_t>::max()), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(round_trip(std::string(70000, 'x')), std::string(70000, 'x')) << "str 32";
    EXPECT_EQ(round_trip(std::vector<int>(70000, 3)), std::vector<int>(70000, 3)) << "array 32";
    EXPECT_EQ(round_trip(std::vector<std::byte>(70000, std::byte{9})), std::vector<std::byte>(70000, std::byte{9}));
    std::map<int, int> big;
    for (int i = 0; i < 70000; ++i) {
        big[i] = -i;
    }
    EXPECT_EQ(round_trip(big), big) << "map 32";
    EXPECT_EQ(round_trip(std::optional<std::string>()), std::nullopt);
    EXPECT_EQ(round_trip(std::variant<int, geo::point>(geo::point{1, 2})),
              (std::variant<int, geo::point>(geo::point{1, 2})));
    EXPECT_EQ(round_trip(std::pair<std::string, int>("a", 1)), (std::pair<std::string, int>("a", 1)));
    EXPECT_EQ(round_trip(std::tuple<>()), std::tuple<>());
    EXPECT_EQ(round_trip(empty{}), empty{});
    EXPECT_EQ(round_trip(std::monostate{}), std::monostate{});
    EXPECT_EQ(round_trip(color::green), color::green);
}

TEST(codec, floats_keep_their_sign_and_special_values) {
    EXPECT_TRUE(std::signbit(round_trip(-0.0)));
    EXPECT_TRUE(std::signbit(round_trip(-0.0f)));
    EXPECT_TRUE(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
    EXPECT_EQ(round_trip(std::numeric_limits<double>::infinity()), std::numeric_limits<double>::infinity());
    EXPECT_EQ(round_trip(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
    EXPECT_EQ(round_trip(18446744073709551616.0), 18446744073709551616.0) << "2^64";
    EXPECT_EQ(round_trip(std::numeric_limits<double>::denorm_min()), std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(hex(troupe::wire::encode(3.0)), "cb 40 08 00 00 00 00 00 00") << "a double stays a float 64";
    EXPECT_EQ(hex(troupe::wire::encode(1.5f)), "ca 3f c0 00 00");
}

TEST(codec, a_record_is_an_array_of_its_fields_in_declaration_order) {
    EXPECT_EQ(hex(troupe::wire::encode(geo::point{1, -2})), "92 01 fe");
    EXPECT_EQ(hex(troupe::wire::encode(geo::line{"ab", {{1, 2}}})), "92 a2 61 62 91 92 01 02");
    EXPECT_EQ(hex(troupe::wire::encode(empty{})), "90");
    EXPECT_EQ(hex(troupe::wire::encode(std::variant<int, std::string>(5))), "92 00 05") << "[index, value]";
    EXPECT_EQ(hex(troupe::wire::encode(std::optional<int>())), "c0");
    EXPECT_EQ(hex(troupe::wire::encode(color::blue)), "cc fa") << "an enum is its underlying integer";
    EXPECT_EQ(hex(troupe::wire::encode(bytes({1, 2}))), "c4 02 01 02") << "bytes are a binary";
}

TEST(codec, nested_records_and_records_in_containers_round_trip) {
    const geo::line l{"path", {{1, 2}, {-3, 4}, {5, -6}}};
    EXPECT_EQ(round_trip(l), l);
    const std::map<std::string, std::vector<geo::line>> lines{{"a", {l, l}}, {"b", {}}};
    EXPECT_EQ(round_trip(lines), lines);
    const std::vector<std::optional<geo::point>> holes{geo::point{1, 1}, std::nullopt, geo::point{2, 2}};
    EXPECT_EQ(round_trip(holes), holes);
    const std::unordered_map<std::int64_t, geo::point> by_id{{-1, {1, 2}}, {1LL << 40, {3, 4}}};
    EXPECT_EQ(round_trip(by_id), by_id);
}

TEST(codec, a_field_added_at_the_end_is_tolerated_both_ways) {
    // An older peer's point (2 fields) read as point_v2: the missing z keeps its default.
    const auto old_bytes = troupe::wire::encode(geo::point{1, 2});
    EXPECT_EQ(troupe::wire::decode<point_v2>(old_bytes), (point_v2{1, 2, 7}));
    // A newer peer's point_v2 read as point: the extra z is skipped.
    const auto new_bytes = troupe::wire::encode(point_v2{1, 2, 3});
    EXPECT_EQ(troupe::wire::decode<geo::point>(new_bytes), (geo::point{1, 2}));
    // Skipped does not mean unchecked: an extra element that is not msgpack is refused.
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x93, 0x01, 0x02, 0xc1})),
              "point[2]: 0xc1 is not a msgpack value (at byte 3)");
    EXPECT_EQ(troupe::wire::decode<geo::point>(bytes({0x90})), (geo::point{0, 0})) << "no field at all";
}

TEST(codec, wrong_types_are_refused_with_what_and_where) {
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x92, 0x01, 0xa1, 0x61})),
              "point.y: expected an integer, got a string (at byte 2)");
    EXPECT_EQ(decode_failure<geo::line>(bytes({0x92, 0xa1, 0x61, 0x92, 0x92, 0x01, 0x02, 0x92, 0x03, 0xc3})),
              "line.points[1].y: expected an integer, got a boolean (at byte 9)");
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x82})), "point: expected an array, got a map (at byte 0)");
    EXPECT_EQ(decode_failure<std::string>(bytes({0xc4, 0x00})), "value: expected a string, got a binary (at byte 0)");
    EXPECT_EQ(decode_failure<bool>(bytes({0x01})), "value: expected a boolean, got an integer (at byte 0)");
    EXPECT_EQ(decode_failure<int>(bytes({0xd4, 0x01, 0x02})),
              "value: expected an integer, got an extension (at byte 0)");
    EXPECT_EQ(decode_failure<double>(bytes({0xc0})), "value: expected a number, got nil (at byte 0)");
    EXPECT_EQ(decode_failure<std::monostate>(bytes({0x90})), "value: expected nil, got an array (at byte 0)");
    EXPECT_EQ(decode_failure<int>(bytes({0xc1})), "value: 0xc1 is not a msgpack value (at byte 0)");
    std::map<std::string, geo::point> named;
    EXPECT_EQ(decode_failure<decltype(named)>(bytes({0x81, 0xa3, 0x66, 0x61, 0x72, 0x92, 0x01, 0xc0})),
              "value[\"far\"].y: expected an integer, got nil (at byte 7)");
    EXPECT_EQ((decode_failure<std::map<int, int>>)(bytes({0x81, 0xa1, 0x61, 0x01})),
              "value[key #0]: expected an integer, got a string (at byte 1)");
    EXPECT_EQ((decode_failure<std::map<int, bool>>)(bytes({0x81, 0x01, 0x01})),
              "value[#0]: expected a boolean, got an integer (at byte 2)");
}

TEST(codec, truncated_input_is_refused) {
    EXPECT_EQ(decode_failure<geo::point>({}),
              "point: truncated: the input ends where a value was expected (at byte 0)");
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x92, 0x01})),
              "point: an array of 2 elements claims more than the 1 byte that remain (at byte 0)");
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x92, 0x01, 0xcd, 0x01})),
              "point.y: truncated: an unsigned integer needs 2 bytes, 1 remain (at byte 2)");
    EXPECT_EQ(decode_failure<std::uint32_t>(bytes({0xce, 0x00, 0x01})),
              "value: truncated: an unsigned integer needs 4 bytes, 2 remain (at byte 0)");
    EXPECT_EQ(decode_failure<std::string>(bytes({0xa5, 0x61, 0x62})),
              "value: truncated: a string needs 5 bytes, 2 remain (at byte 0)");
    EXPECT_EQ(decode_failure<double>(bytes({0xcb, 0x00})),
              "value: truncated: a float 64 needs 8 bytes, 1 remain (at byte 0)");
    EXPECT_EQ(decode_failure<std::string>(bytes({0xda, 0x01})),
              "value: truncated: a string's length needs 2 bytes, 1 remain (at byte 0)");
}

TEST(codec, trailing_garbage_is_refused) {
    EXPECT_EQ(decode_failure<geo::point>(bytes({0x92, 0x01, 0x02, 0x00})),
              "point: 1 byte of trailing garbage after the value (at byte 3)");
    EXPECT_EQ(decode_failure<int>(bytes({0x01, 0x02, 0x03})),
              "value: 2 bytes of trailing garbage after the value (at byte 1)");
}

TEST(codec, integers_out_of_range_for_the_target_are_refused) {
    EXPECT_EQ(decode_failure<small>(bytes({0x91, 0xcd, 0x01, 0x2c})),
              "small.x: integer 300 out of range for int8 (-128..127) (at byte 1)");
    EXPECT_EQ(decode_failure<std::uint8_t>(bytes({0xff})),
              "value: integer -1 out of range for uint8 (0..255) (at byte 0)");
    EXPECT_EQ(
        decode_failure<std::int64_t>(bytes({0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0})),
        "value: integer 9223372036854775808 out of range for int64 (-9223372036854775808..9223372036854775807) (at "
        "byte 0)");
    EXPECT_EQ(decode_failure<std::uint16_t>(bytes({0xd2, 0x00, 0x01, 0x00, 0x00})),
              "value: integer 65536 out of range for uint16 (0..65535) (at byte 0)");
    EXPECT_EQ(decode_failure<color>(bytes({0xcd, 0x01, 0x00})),
              "value: integer 256 out of range for uint8 (0..255) (at byte 0)");
    EXPECT_EQ(decode_failure<float>(bytes({0xcb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})),
              "value: number 1.79769e+308 out of range for float (at byte 0)");
    // Positive values written in a signed format, and the widest values, still read.
    EXPECT_EQ(troupe::wire::decode<std::uint8_t>(bytes({0xd0, 0x05})), 5);
    EXPECT_EQ(troupe::wire::decode<std::int8_t>(bytes({0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80})), -128);
}

TEST(codec, containers_of_the_wrong_size_and_bad_variant_indexes_are_refused) {
    using shape = std::variant<int, std::string, geo::point>;
    EXPECT_EQ(decode_failure<shape>(bytes({0x92, 0x03, 0x00})),
              "value: variant index 3 out of range (3 alternatives) (at byte 1)");
    EXPECT_EQ(decode_failure<shape>(bytes({0x93, 0x00, 0x00, 0x00})),
              "value: expected a variant as [index, value], got an array of 3 (at byte 0)");
    EXPECT_EQ((decode_failure<std::array<int, 3>>)(bytes({0x92, 0x01, 0x02})),
              "value: expected an array of 3 elements, got 2 (at byte 0)");
    EXPECT_EQ((decode_failure<std::pair<int, int>>)(bytes({0x91, 0x01})),
              "value: expected an array of 2 elements, got 1 (at byte 0)");
    EXPECT_EQ((decode_failure<std::array<std::byte, 4>>)(bytes({0xc4, 0x01, 0x00})),
              "value: expected a binary of 4 bytes, got 1 (at byte 0)");
    EXPECT_EQ((decode_failure<std::map<int, int>>)(bytes({0x82, 0x01, 0x01, 0x01, 0x02})),
              "value[key #1]: duplicate key in a map (at byte 3)");
}

TEST(codec, nesting_deeper_than_the_limit_is_refused) {
    using nested = std::vector<std::vector<std::vector<int>>>;
    const auto three = bytes({0x91, 0x91, 0x91, 0x01});
    EXPECT_EQ(troupe::wire::decode<nested>(three, {.max_depth = 3}), (nested{{{1}}}));
    EXPECT_EQ(decode_failure<nested>(three, {.max_depth = 2}), "value[0][0]: nesting deeper than 2 levels (at byte 2)");
    // An extra field that nests too deep is refused while it is skipped (no recursion past it).
    std::vector<std::byte> deep = bytes({0x93, 0x01, 0x02});
    deep.insert(deep.end(), 100, std::byte{0x91});
    deep.push_back(std::byte{0x00});
    EXPECT_EQ(decode_failure<geo::point>(deep), "point[2]: nesting deeper than 64 levels (at byte 66)");
    EXPECT_EQ(decode_failure<geo::point>(deep, {.max_depth = 1'000'000}), "no error")
        << "max_depth is capped at decode_limits::max_depth_cap (1024), and 101 levels fit";
}

/// Counts what a container allocates, to show that a hostile length costs nothing.
inline std::size_t allocated_bytes = 0;
template <class T>
struct counting_allocator {
    using value_type = T;
    counting_allocator() = default;
    template <class U>
    counting_allocator(const counting_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        allocated_bytes += n * sizeof(T);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    bool operator==(const counting_allocator&) const = default;
};

TEST(codec, a_length_that_claims_more_than_the_bytes_that_remain_is_refused_before_allocating) {
    using counted = std::vector<std::int64_t, counting_allocator<std::int64_t>>;
    allocated_bytes = 0;
    EXPECT_EQ(decode_failure<counted>(bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})),
              "value: an array of 4294967295 elements claims more than the 1 byte that remain (at byte 0)");
    EXPECT_EQ(allocated_bytes, 0u);
    EXPECT_EQ((decode_failure<std::map<int, int>>)(bytes({0xdf, 0x00, 0x01, 0x00, 0x00, 0x01, 0x01})),
              "value: a map of 65536 pairs claims more than the 2 bytes that remain (at byte 0)");
    EXPECT_EQ(decode_failure<std::string>(bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 0x61})),
              "value: truncated: a string needs 4294967295 bytes, 1 remain (at byte 0)");
    EXPECT_EQ(decode_failure<std::vector<std::byte>>(bytes({0xc6, 0x7f, 0xff, 0xff, 0xff})),
              "value: truncated: a binary needs 2147483647 bytes, 0 remain (at byte 0)");
    // A count the input can hold is reserved, and no more: at most one element per byte left.
    std::vector<std::byte> garbage = bytes({0xdc, 0x00, 0x64});
    garbage.insert(garbage.end(), 100, std::byte{0xc0});
    allocated_bytes = 0;
    EXPECT_EQ(decode_failure<counted>(garbage), "value[0]: expected an integer, got nil (at byte 3)");
    EXPECT_LE(allocated_bytes, 100 * sizeof(std::int64_t));
}

TEST(codec, records_and_standard_types_are_troupe_encodable) {
    static_assert(troupe::wire::serialisable<geo::point>);
    static_assert(troupe::wire::serialisable<everything>);
    static_assert(!troupe::wire::serialisable<plain>, "not a record");
    static_assert(!troupe::wire::serialisable<with_pointer>, "a field it cannot carry");
    static_assert(!troupe::wire::serialisable<long double>);
    static_assert(!troupe::wire::serialisable<std::vector<plain>>);
    EXPECT_TRUE(troupe::encodable<geo::point>);
    EXPECT_TRUE(troupe::encodable<everything>);
    EXPECT_TRUE(troupe::encodable<std::string>);
    EXPECT_TRUE((troupe::encodable<std::vector<std::map<std::string, int>>>));
    EXPECT_TRUE((troupe::encodable<std::variant<std::monostate, int>>));
    EXPECT_TRUE(troupe::encodable<empty>);
    EXPECT_FALSE(troupe::encodable<plain>);
    EXPECT_FALSE(troupe::encodable<with_pointer>);

    // What an endpoint to an actor elsewhere does with a message: the hook's codec, erased.
    const troupe::detail::message_codec* c = troupe::detail::message_codec_for<geo::line>();
    ASSERT_NE(c, nullptr);
    std::vector<std::byte> out;
    c->encode(troupe::message(geo::line{"l", {{1, 2}}}), out);
    EXPECT_EQ(out, troupe::wire::encode(geo::line{"l", {{1, 2}}}));
    EXPECT_EQ(c->decode(out).get<geo::line>(), (geo::line{"l", {{1, 2}}}));
    EXPECT_THROW(c->decode(bytes({0x01})), troupe::wire::decode_error);
    EXPECT_EQ(troupe::detail::message_codec_for<plain>(), nullptr);
}

TEST(codec, encode_appends_to_the_buffer) {
    std::vector<std::byte> out = bytes({0xaa});
    troupe::wire::encode(geo::point{1, 2}, out);
    EXPECT_EQ(hex(out), "aa 92 01 02") << "encode appends";
}

TEST(codec, msgpack_cxx_reads_what_troupe_writes) {
    const auto encoded = troupe::wire::encode(geo::line{"ab", {{1, -2}}});
    const msgpack::object_handle h = msgpack::unpack(reinterpret_cast<const char*>(encoded.data()), encoded.size());
    const msgpack::object& o = h.get();
    ASSERT_EQ(o.type, msgpack::type::ARRAY);
    ASSERT_EQ(o.via.array.size, 2u);
    EXPECT_EQ(o.via.array.ptr[0].as<std::string>(), "ab");
    const msgpack::object& points = o.via.array.ptr[1];
    ASSERT_EQ(points.type, msgpack::type::ARRAY);
    EXPECT_EQ((points.via.array.ptr[0].as<std::tuple<int, int>>()), std::make_tuple(1, -2));

    const auto all = troupe::wire::encode(sample());
    EXPECT_NO_THROW((void)msgpack::unpack(reinterpret_cast<const char*>(all.data()), all.size()));
}

TEST(codec, troupe_reads_what_msgpack_cxx_writes) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, std::make_tuple(std::string("ab"), std::vector<std::tuple<int, int>>{{1, -2}, {3, 4}}));
    const std::span<const std::byte> packed(reinterpret_cast<const std::byte*>(buffer.data()), buffer.size());
    EXPECT_EQ(troupe::wire::decode<geo::line>(packed), (geo::line{"ab", {{1, -2}, {3, 4}}}));

    // msgpack-cxx writes an integral double as an integer; a double field still reads it.
    msgpack::sbuffer doubles;
    msgpack::pack(doubles, std::vector<double>{3.0, 0.5, -1.0});
    const std::span<const std::byte> d(reinterpret_cast<const std::byte*>(doubles.data()), doubles.size());
    EXPECT_EQ(hex(d), "93 03 cb 3f e0 00 00 00 00 00 00 ff");
    EXPECT_EQ(troupe::wire::decode<std::vector<double>>(d), (std::vector<double>{3.0, 0.5, -1.0}));
}

}  // namespace
