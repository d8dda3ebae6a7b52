#include <troupe/wire/record.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace shop {
struct order {
    std::uint64_t id = 0;
    std::string item;
    int quantity = 1;
};
TROUPE_RECORD(order, id, item, quantity);

namespace detail {
struct nested_namespace {
    bool on = false;
};
TROUPE_RECORD(nested_namespace, on);
}  // namespace detail
}  // namespace shop

namespace {

struct empty {};
TROUPE_RECORD(empty);

struct not_declared {
    int x = 0;
};

struct base {
    int inherited = 0;
};
struct derived : base {
    int own = 0;
};
TROUPE_RECORD(derived, inherited, own);

/// 40 fields: the macro's loop is not limited to a handful.
struct wide {
    int f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23,
        f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37, f38, f39;
};
TROUPE_RECORD(wide, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21,
              f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37, f38, f39);

TEST(record, gives_field_names_and_member_pointers_in_declaration_order) {
    constexpr auto info = troupe::wire::record_of<shop::order>;
    static_assert(info.name == "order");
    static_assert(troupe::wire::field_count<shop::order> == 3);
    static_assert(std::get<0>(info.fields).name == "id");
    static_assert(std::get<1>(info.fields).name == "item");
    static_assert(std::get<2>(info.fields).name == "quantity");
    static_assert(std::get<2>(info.fields).pointer == &shop::order::quantity);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(std::get<1>(info.fields))>::member_type, std::string>);

    shop::order o{7, "tea", 2};
    EXPECT_EQ(o.*(std::get<0>(info.fields).pointer), 7u);
    EXPECT_EQ(o.*(std::get<1>(info.fields).pointer), "tea");
    std::string names;
    std::apply([&](const auto&... f) { ((names += f.name, names += ' '), ...); }, info.fields);
    EXPECT_EQ(names, "id item quantity ");
}

TEST(record, is_known_only_for_declared_types) {
    static_assert(troupe::wire::record<shop::order>);
    static_assert(troupe::wire::record<shop::detail::nested_namespace>);
    static_assert(troupe::wire::record<empty>);
    static_assert(!troupe::wire::record<not_declared>);
    static_assert(!troupe::wire::record<int>);
    EXPECT_EQ(troupe::wire::field_count<empty>, 0u);
    EXPECT_EQ(troupe::wire::record_of<shop::detail::nested_namespace>.name, "nested_namespace");
}

TEST(record, fields_may_be_inherited_and_many) {
    derived d;
    d.inherited = 3;
    d.own = 4;
    constexpr auto& fields = troupe::wire::record_of<derived>.fields;
    EXPECT_EQ(d.*(std::get<0>(fields).pointer), 3);
    EXPECT_EQ(d.*(std::get<1>(fields).pointer), 4);
    EXPECT_EQ(troupe::wire::field_count<wide>, 40u);
    EXPECT_EQ(std::get<39>(troupe::wire::record_of<wide>.fields).name, "f39");
}

}  // namespace
