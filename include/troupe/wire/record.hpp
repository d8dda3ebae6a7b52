#pragma once
/// \file
/// TROUPE_RECORD: compile-time field names and member pointers for a plain struct, so that
/// troupe::wire can encode it without hand-written code:
///
///     struct point { int x = 0; int y = 0; };
///     TROUPE_RECORD(point, x, y);   // at namespace scope, in point's namespace, after the struct
///
/// A record encodes as the array of its fields in the order the macro lists them (see
/// codec.hpp). Fields are public data members; the struct must be default-constructible
/// (decoding fills a default-constructed value).

#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace troupe::wire {

/// One field of a record: its name and its member pointer.
template <class Record, class Member>
struct field {
    /// The record type the member belongs to.
    using record_type = Record;
    /// The member's type.
    using member_type = Member;

    /// Builds the descriptor of `Record::*pointer`, named `field_name`.
    constexpr field(std::string_view field_name, Member Record::*member) noexcept : name(field_name), pointer(member) {}

    /// The field's name, as written in TROUPE_RECORD.
    std::string_view name;
    /// The member it stands for.
    Member Record::*pointer;
};
template <class Record, class Member>
field(std::string_view, Member Record::*) -> field<Record, Member>;

/// What TROUPE_RECORD says about a type: its name and a tuple of field<...>, in order.
template <class Fields>
struct record_info {
    /// The type's name, as written in TROUPE_RECORD ("point", "geo::point").
    std::string_view name;
    /// The fields, in declaration (and wire) order.
    Fields fields;
};
template <class Fields>
record_info(std::string_view, Fields) -> record_info<Fields>;

namespace detail {
/// The argument through which TROUPE_RECORD's function is found (by argument-dependent lookup,
/// in the record's own namespace).
template <class T>
struct record_tag {};

/// Checks TROUPE_RECORD's type when the macro is expanded, with a readable message.
template <class T>
constexpr bool check_record() noexcept {
    static_assert(std::is_class_v<T>, "TROUPE_RECORD(Type, ...): Type must be a struct or a class");
    static_assert(std::is_default_constructible_v<T>,
                  "TROUPE_RECORD(Type, ...): Type must be default-constructible (decoding fills a default value)");
    return true;
}
}  // namespace detail

/// True if T was declared with TROUPE_RECORD.
template <class T>
concept record = requires {
    troupe_record(detail::record_tag<T>{});
};

/// The record_info of T: `record_of<point>.name`, `std::get<0>(record_of<point>.fields).pointer`.
template <record T>
inline constexpr auto record_of = troupe_record(detail::record_tag<T>{});

/// The number of fields of the record T.
template <record T>
inline constexpr std::size_t field_count = std::tuple_size_v<decltype(record_of<T>.fields)>;

}  // namespace troupe::wire

// The preprocessor loop behind TROUPE_RECORD: applies TROUPE_DETAIL_RECORD_FIELD to each field
// name. __VA_OPT__ stops it after the last name; each level of TROUPE_DETAIL_RECORD_EXPAND
// rescans the text again, which is what lets the deferred TROUPE_DETAIL_RECORD_AGAIN run
// once more (4^4 rescans at the innermost level: at least 256 fields).
#define TROUPE_DETAIL_RECORD_EXPAND(...) \
    TROUPE_DETAIL_RECORD_EXPAND4(        \
        TROUPE_DETAIL_RECORD_EXPAND4(TROUPE_DETAIL_RECORD_EXPAND4(TROUPE_DETAIL_RECORD_EXPAND4(__VA_ARGS__))))
#define TROUPE_DETAIL_RECORD_EXPAND4(...) \
    TROUPE_DETAIL_RECORD_EXPAND3(         \
        TROUPE_DETAIL_RECORD_EXPAND3(TROUPE_DETAIL_RECORD_EXPAND3(TROUPE_DETAIL_RECORD_EXPAND3(__VA_ARGS__))))
#define TROUPE_DETAIL_RECORD_EXPAND3(...) \
    TROUPE_DETAIL_RECORD_EXPAND2(         \
        TROUPE_DETAIL_RECORD_EXPAND2(TROUPE_DETAIL_RECORD_EXPAND2(TROUPE_DETAIL_RECORD_EXPAND2(__VA_ARGS__))))
#define TROUPE_DETAIL_RECORD_EXPAND2(...) \
    TROUPE_DETAIL_RECORD_EXPAND1(         \
        TROUPE_DETAIL_RECORD_EXPAND1(TROUPE_DETAIL_RECORD_EXPAND1(TROUPE_DETAIL_RECORD_EXPAND1(__VA_ARGS__))))
#define TROUPE_DETAIL_RECORD_EXPAND1(...) __VA_ARGS__
#define TROUPE_DETAIL_RECORD_PARENS ()
#define TROUPE_DETAIL_RECORD_FIELD(Type, name) ::troupe::wire::field{#name, &Type::name},
#define TROUPE_DETAIL_RECORD_EACH(Type, name, ...) \
    TROUPE_DETAIL_RECORD_FIELD(Type, name)         \
    __VA_OPT__(TROUPE_DETAIL_RECORD_AGAIN TROUPE_DETAIL_RECORD_PARENS(Type, __VA_ARGS__))
#define TROUPE_DETAIL_RECORD_AGAIN() TROUPE_DETAIL_RECORD_EACH
#define TROUPE_DETAIL_RECORD_FIELDS(Type, ...) \
    __VA_OPT__(TROUPE_DETAIL_RECORD_EXPAND(TROUPE_DETAIL_RECORD_EACH(Type, __VA_ARGS__)))

/// Declares `Type` a record with the listed fields, in wire order. Use it at namespace scope,
/// in the namespace of Type, after its definition, and end it with a semicolon. With no field
/// names it declares an empty record (it encodes as an empty array).
#define TROUPE_RECORD(Type, ...)                                                                                 \
    [[maybe_unused]] constexpr auto troupe_record(::troupe::wire::detail::record_tag<Type>) noexcept {           \
        return ::troupe::wire::record_info{#Type, ::std::tuple{TROUPE_DETAIL_RECORD_FIELDS(Type, __VA_ARGS__)}}; \
    }                                                                                                            \
    static_assert(::troupe::wire::detail::check_record<Type>())
