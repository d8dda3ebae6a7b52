#include <troupe/core/message.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

// The type-erased message an inbox hands out (Pykka TL-02: any value can be a message).

namespace message_tests {

struct point {
    int x = 0;
    int y = 0;
    friend bool operator==(const point&, const point&) = default;
};

TEST(message, an_empty_message_holds_void) {
    troupe::message m;
    EXPECT_FALSE(m);
    EXPECT_EQ(m.type(), typeid(void));
    EXPECT_EQ(m.type_name(), "void");
    EXPECT_FALSE(m.is<int>());
}

TEST(message, boxes_a_value_and_gives_it_back) {
    troupe::message m(point{1, 2});
    EXPECT_TRUE(m);
    EXPECT_TRUE(m.is<point>());
    EXPECT_FALSE(m.is<int>());
    EXPECT_EQ(m.type(), typeid(point));
    EXPECT_EQ(m.type_name(), "message_tests::point");
    EXPECT_EQ(m.get<point>(), (point{1, 2}));
    m.get<point>().x = 5;
    const troupe::message& c = m;
    EXPECT_EQ(c.get<point>().x, 5);
}

TEST(message, get_of_the_wrong_type_throws) {
    troupe::message m(42);
    try {
        (void)m.get<std::string>();
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "message holds a int, not a std::string");
    }
    troupe::message empty;
    EXPECT_THROW((void)empty.get<int>(), troupe::error);
}

TEST(message, strings_are_named_plainly) {
    troupe::message m(std::string("hi"));
    EXPECT_EQ(m.type_name(), "std::string");
    EXPECT_EQ(m.get<std::string>(), "hi");
}

// TL-02: ints, floats, maps, tuples, vectors and exception objects arrive equal.
TEST(message, any_value_round_trips) {
    EXPECT_EQ(troupe::message(7).get<int>(), 7);
    EXPECT_DOUBLE_EQ(troupe::message(3.5).get<double>(), 3.5);
    const std::map<std::string, int> dict{{"a", 1}, {"b", 2}};
    EXPECT_EQ((troupe::message(dict).get<std::map<std::string, int>>()), dict);
    const std::tuple<int, std::string> tup{1, "one"};
    EXPECT_EQ((troupe::message(tup).get<std::tuple<int, std::string>>()), tup);
    const std::vector<int> list{1, 2, 3};
    EXPECT_EQ(troupe::message(list).get<std::vector<int>>(), list);
    troupe::message err(std::runtime_error("as a message"));
    EXPECT_STREQ(err.get<std::runtime_error>().what(), "as a message");
}

TEST(message, move_only_values_are_moved_in_and_out) {
    troupe::message m(std::make_unique<int>(9));
    auto out = std::move(m.get<std::unique_ptr<int>>());
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(*out, 9);
    troupe::message moved(std::move(m));
    EXPECT_TRUE(moved.is<std::unique_ptr<int>>());
}

// TL-06: a message holds its own copy; changing the original afterwards changes nothing.
TEST(message, boxing_copies_an_lvalue) {
    std::vector<int> original{1};
    troupe::message m(original);
    original.push_back(2);
    EXPECT_EQ(m.get<std::vector<int>>(), std::vector<int>{1});
}

}  // namespace message_tests
