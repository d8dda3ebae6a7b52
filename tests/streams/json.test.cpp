#include <troupe/streams/json.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace json_test {

struct add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(add, a, b);

enum class colour : std::uint8_t { red = 1, green = 2 };

struct withdrawal {
    std::string user;
    std::string country;
    double amount = 0;
    std::int64_t date = 0;
    std::optional<std::string> note;
};
TROUPE_RECORD(withdrawal, user, country, amount, date, note);

struct order {
    std::string id;
    std::vector<withdrawal> items;
    std::map<std::string, int> counts;
    colour tint = colour::red;
    std::tuple<int, std::string> pair;
    bool paid = false;
};
TROUPE_RECORD(order, id, items, counts, tint, pair, paid);

}  // namespace json_test

namespace {

using namespace json_test;
using troupe::streams::from_json;
using troupe::streams::json_error;
using troupe::streams::to_json;

template <class T>
std::string error_of(std::string_view text) {
    try {
        (void)from_json<T>(text);
    } catch (const json_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Json, ARecordIsAnObjectOfItsFieldsByName) {
    EXPECT_EQ(to_json(add{2, 3}), R"({"a":2,"b":3})");
    const add back = from_json<add>(R"({"b": 3, "a": 2})");  // any order, any spacing
    EXPECT_EQ(back.a, 2);
    EXPECT_EQ(back.b, 3);
}

TEST(Json, NestedValuesGoThereAndBack) {
    order o;
    o.id = "o-1";
    o.items = {{"alice", "FR", 12.5, 1700000000, std::nullopt}, {"bob", "NO", 3.0, 1700000001, "late"}};
    o.counts = {{"x", 1}, {"y", 2}};
    o.tint = colour::green;
    o.pair = {7, "seven"};
    o.paid = true;
    const std::string text = to_json(o);
    EXPECT_EQ(text,
              R"({"id":"o-1","items":[{"user":"alice","country":"FR","amount":12.5,"date":1700000000,"note":null},)"
              R"({"user":"bob","country":"NO","amount":3,"date":1700000001,"note":"late"}],)"
              R"("counts":{"x":1,"y":2},"tint":2,"pair":[7,"seven"],"paid":true})");
    const order back = from_json<order>(text);
    EXPECT_EQ(to_json(back), text);
}

TEST(Json, StandardTypesWorkWithoutDeclaringAnything) {
    EXPECT_EQ(to_json(std::vector<int>{1, 2, 3}), "[1,2,3]");
    EXPECT_EQ(from_json<std::vector<int>>("[1, 2, 3]"), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(from_json<int>("42"), 42);
    EXPECT_EQ(from_json<std::string>(R"("hi")"), "hi");
    EXPECT_EQ(from_json<std::optional<int>>("null"), std::nullopt);
    EXPECT_EQ(from_json<double>("2"), 2.0);
    EXPECT_EQ(to_json(0.1), "0.1");
}

TEST(Json, StringsAreEscapedBothWays) {
    const std::string tricky = "quote \" backslash \\ newline \n tab \t bell \a";
    const std::string text = to_json(tricky);
    EXPECT_EQ(text, R"("quote \" backslash \\ newline \n tab \t bell \u0007")");
    EXPECT_EQ(from_json<std::string>(text), tricky);
    EXPECT_EQ(from_json<std::string>(R"("caf\u00e9")"), "caf\xc3\xa9");
}

TEST(Json, FieldsInAnyOrderAmongUnknownOnesAreFound) {
    const withdrawal w =
        from_json<withdrawal>(R"({"x":[1,{"y":2}],"date":9,"note":"n","amount":2.5,"z":"","country":"NO","user":"u"})");
    EXPECT_EQ(w.user, "u");
    EXPECT_EQ(w.country, "NO");
    EXPECT_EQ(w.amount, 2.5);
    EXPECT_EQ(w.date, 9);
    EXPECT_EQ(w.note, "n");
    const std::vector<add> adds = from_json<std::vector<add>>(R"([{"b":2,"a":1},{"c":0,"a":3,"b":4}])");
    ASSERT_EQ(adds.size(), 2U);
    EXPECT_EQ(adds[1].a, 3);
    EXPECT_EQ(adds[1].b, 4);
}

TEST(Json, UnknownFieldsAreSkippedAndAMissingOptionalIsEmpty) {
    const withdrawal w =
        from_json<withdrawal>(R"({"user":"a","country":"DE","amount":1,"date":5,"added_later":{"x":[1,2]}})");
    EXPECT_EQ(w.user, "a");
    EXPECT_EQ(w.date, 5);
    EXPECT_EQ(w.note, std::nullopt);
}

TEST(Json, ErrorsSayWhereAndWhat) {
    EXPECT_EQ(error_of<add>(R"({"a":1})"), R"($: the field "b" of add is missing)");
    EXPECT_EQ(error_of<add>(R"({"a":"one","b":2})"), "$.a: expected an integer, got a string");
    EXPECT_EQ(error_of<order>(R"({"id":"x","items":[{"user":"u","country":"c","amount":"lots","date":1}],)"
                              R"("counts":{},"tint":1,"pair":[1,"a"],"paid":false})"),
              "$.items[0].amount: expected a number, got a string");
    EXPECT_EQ(error_of<std::uint8_t>("300"), "$: the integer 300 does not fit");
    EXPECT_EQ(error_of<unsigned>("-1"), "$: expected a non-negative integer, got a number");
    EXPECT_EQ((error_of<std::tuple<int, int>>("[1]")), "$: 1 elements, not 2");
    EXPECT_EQ(error_of<add>(R"({"a":1,"b":2} trailing)"),
              "$: malformed JSON where an object should be (JSON document ended early in the middle of an object or "
              "array.)");
    EXPECT_EQ(error_of<int>("5 6"), "$: more after the value");
    EXPECT_EQ(error_of<add>(R"({"a":1,"b":2} {"a":3,"b":4})"), "$: more after the value");
    EXPECT_EQ(error_of<std::vector<int>>("[1] [2]"), "$: more after the value");
    EXPECT_EQ(error_of<add>("[1,2]"), "$: expected an object, got an array");
    EXPECT_NE(error_of<add>(R"({"a":1,)").find("$: "), std::string::npos);
    EXPECT_EQ(error_of<add>(""), "$: not JSON: Empty: no JSON found");
    // The first letter alone would make these null and a boolean.
    EXPECT_EQ(error_of<add>("not json"), "$: expected an object, got something that is not JSON");
    EXPECT_EQ(error_of<add>("tru"), "$: expected an object, got something that is not JSON");
    EXPECT_EQ(error_of<add>("null"), "$: expected an object, got null");
    EXPECT_EQ(error_of<add>("false"), "$: expected an object, got a boolean");
    EXPECT_EQ(error_of<std::string>("nope"), "$: expected a string, got something that is not JSON");
}

TEST(Json, AnIntegerAloneReadsAsTheParserReadsIt) {
    // A bare integer skips simdjson's parser; anything that is not a plain one in range still
    // goes through it, with the parser's result or error.
    EXPECT_EQ(from_json<long>("42"), 42);
    EXPECT_EQ(from_json<long>("-42"), -42);
    EXPECT_EQ(from_json<int>("0"), 0);
    EXPECT_EQ(from_json<int>("-0"), 0);
    EXPECT_EQ(from_json<std::int64_t>("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(from_json<std::uint64_t>("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(from_json<int>(" 7\n"), 7);  // whitespace around it: the parser's
    EXPECT_EQ(error_of<std::int8_t>("128"), "$: the integer 128 does not fit");
    EXPECT_EQ(error_of<std::int8_t>("-129"), "$: the integer -129 does not fit");
    EXPECT_EQ(error_of<unsigned>("-0"), "$: expected a non-negative integer, got a number");
    EXPECT_NE(error_of<int>("007"), "(no error)");  // JSON has no leading zeros
    EXPECT_NE(error_of<int>("+7"), "(no error)");
    EXPECT_NE(error_of<int>("-"), "(no error)");
    EXPECT_NE(error_of<int>("1.5"), "(no error)");
    EXPECT_EQ(error_of<int>("7 8"), "$: more after the value");
    EXPECT_EQ(error_of<int>("7x"), "$: malformed JSON where an integer should be (Problem while parsing a number)");
}

TEST(Json, NaNCannotBeWritten) {
    try {
        (void)to_json(std::numeric_limits<double>::quiet_NaN());
        FAIL() << "a NaN was written";
    } catch (const json_error& e) {
        EXPECT_EQ(e.where(), "$");
    }
}

static_assert(troupe::streams::json_serialisable<order>);
static_assert(!troupe::streams::json_serialisable<std::vector<std::byte>>);  // bytes: the raw codec
static_assert(!troupe::streams::json_serialisable<std::map<int, int>>);      // JSON keys are strings

}  // namespace
