#include <troupe/wire/reader.hpp>

#include <troupe/wire/writer.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "wire/wire_support.hpp"

using wire_test::bytes;

namespace {

/// What reading `in` with `read` throws, or "no error".
template <class Read>
std::string failure(const std::vector<std::byte>& in, Read read) {
    try {
        troupe::wire::reader r(in);
        read(r);
    } catch (const troupe::wire::decode_error& e) {
        return e.what();
    }
    return "no error";
}

TEST(reader, reads_every_integer_format) {
    const auto in = bytes({0x05, 0xe0, 0xcc, 0xff, 0xcd, 0xff, 0xff, 0xce, 0xff, 0xff, 0xff, 0xff, 0xcf, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd0, 0x80, 0xd1, 0x80, 0x00, 0xd2, 0x80,
                           0x00, 0x00, 0x00, 0xd3, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x7f});
    troupe::wire::reader r(in);
    EXPECT_EQ(r.peek(), troupe::wire::value_kind::integer);
    EXPECT_EQ(r.integer<int>(), 5);
    EXPECT_EQ(r.integer<int>(), -32);
    EXPECT_EQ(r.integer<std::uint8_t>(), 255);
    EXPECT_EQ(r.integer<std::uint16_t>(), 65535);
    EXPECT_EQ(r.integer<std::uint32_t>(), std::numeric_limits<std::uint32_t>::max());
    EXPECT_EQ(r.integer<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(r.integer<std::int8_t>(), -128);
    EXPECT_EQ(r.integer<std::int16_t>(), -32768);
    EXPECT_EQ(r.integer<std::int32_t>(), std::numeric_limits<std::int32_t>::min());
    EXPECT_EQ(r.integer<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(r.integer<std::uint8_t>(), 127) << "a positive value in a signed format";
    EXPECT_TRUE(r.at_end());
    r.finish();
}

TEST(reader, reads_strings_binaries_and_containers_of_every_width) {
    std::vector<std::byte> in;
    troupe::wire::writer w(in);
    w.string(std::string(300, 's'));
    w.binary(std::vector<std::byte>(70000, std::byte{1}));
    w.array(17);
    for (int i = 0; i < 17; ++i) {
        w.nil();
    }
    w.map(70000);
    for (int i = 0; i < 70000; ++i) {
        w.boolean(true);
        w.boolean(false);
    }
    troupe::wire::reader r(in);
    EXPECT_EQ(r.string(), std::string(300, 's'));
    EXPECT_EQ(r.binary().size(), 70000u);
    {
        const auto a = r.array();
        EXPECT_EQ(a.size(), 17u);
        for (std::size_t i = 0; i < a.size(); ++i) {
            r.nil();
        }
    }
    EXPECT_EQ(r.peek(), troupe::wire::value_kind::map);
    r.skip();
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(r.offset(), in.size());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(reader, skips_every_kind_including_extensions) {
    const auto in =
        bytes({0xc0, 0xc2, 0x01, 0xca, 0,    0,    0,    0,    0xcb, 0,    0,    0,    0,    0,    0,    0,    0,
               0xa1, 0x61, 0xc4, 0x01, 0x00, 0xd4, 0x01, 0x00, 0xd5, 0x01, 0,    0,    0xd6, 0x01, 0,    0,    0,
               0,    0xd7, 0x01, 0,    0,    0,    0,    0,    0,    0,    0,    0xd8, 0x01, 0,    0,    0,    0,
               0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0xc7, 0x02, 0x05, 0xaa, 0xbb,
               0xc8, 0x00, 0x01, 0x05, 0xaa, 0xc9, 0x00, 0x00, 0x00, 0x00, 0x05, 0x92, 0x81, 0x01, 0x90, 0x00});
    troupe::wire::reader r(in);
    int values = 0;
    while (!r.at_end()) {
        r.skip();
        ++values;
    }
    EXPECT_EQ(values, 16);
    EXPECT_EQ(failure(bytes({0xc7, 0x05, 0x01, 0x00}), [](auto& rd) { rd.skip(); }),
              "value: truncated: an extension needs 6 bytes, 2 remain (at byte 0)");
    EXPECT_EQ(failure(bytes({0xd8, 0x01}), [](auto& rd) { rd.skip(); }),
              "value: truncated: an extension needs 17 bytes, 1 remain (at byte 0)");
}

TEST(reader, numbers_read_floats_and_integers) {
    const auto in = bytes({0xca, 0x3f, 0xc0, 0x00, 0x00, 0x03, 0xff, 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0});
    troupe::wire::reader r(in);
    EXPECT_EQ(r.number(), 1.5);
    EXPECT_EQ(r.number(), 3.0);
    EXPECT_EQ(r.number_as_float(), -1.0f);
    EXPECT_EQ(r.number_as_float(), std::numeric_limits<float>::infinity()) << "infinity is not out of range";
}

TEST(reader, errors_name_the_path_that_was_being_read) {
    EXPECT_EQ(failure(bytes({0xa1, 0x61}),
                      [](auto& r) {
                          const auto root = r.at_root("config");
                          const auto f = r.at_field("limits");
                          const std::string key(50, 'k');
                          const auto k = r.at_key(key);
                          (void)r.boolean();
                      }),
              "config.limits[\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\"]: expected a boolean, got a string (at "
              "byte 0)");
    EXPECT_EQ(failure(bytes({0x91, 0xc1}),
                      [](auto& r) {
                          const auto a = r.array();
                          {
                              const auto i = r.at_index(0);
                              const auto k = r.at_map_key(3);
                              r.fail("made up");
                          }
                      }),
              "value[0][key #3]: made up (at byte 0)");
    // A place ends with its scope: the path is back to what it was.
    EXPECT_EQ(failure(bytes({0x01}),
                      [](auto& r) {
                          const auto root = r.at_root("outer");
                          { const auto f = r.at_field("inner"); }
                          (void)r.string();
                      }),
              "outer: expected a string, got an integer (at byte 0)");
}

TEST(reader, a_container_ends_its_nesting_level_when_it_goes_away) {
    // Ten arrays one after the other never nest deeper than one level.
    std::vector<std::byte> in(10, std::byte{0x90});
    troupe::wire::reader r(in, {.max_depth = 1});
    for (int i = 0; i < 10; ++i) {
        const auto a = r.array();
        EXPECT_EQ(a.size(), 0u);
    }
    EXPECT_TRUE(r.at_end());
    const auto nested = bytes({0x91, 0x90});
    troupe::wire::reader shallow(nested, {.max_depth = 1});
    try {
        shallow.skip();
        ADD_FAILURE() << "two levels were read with max_depth 1";
    } catch (const troupe::wire::decode_error& e) {
        EXPECT_STREQ(e.what(), "value: nesting deeper than 1 levels (at byte 1)");
    }
}

TEST(reader, describes_every_kind) {
    EXPECT_EQ(troupe::wire::describe(troupe::wire::value_kind::nil), "nil");
    EXPECT_EQ(troupe::wire::describe(troupe::wire::value_kind::float32), "a float 32");
    EXPECT_EQ(troupe::wire::describe(troupe::wire::value_kind::extension), "an extension");
}

}  // namespace
