#pragma once
/// \file
/// JSON for records and standard types: the default value codec of stream records.
///
///     struct add { int a = 0; int b = 0; };
///     TROUPE_RECORD(add, a, b);
///     std::string text = troupe::streams::to_json(add{2, 3});       // {"a":2,"b":3}
///     add back = troupe::streams::from_json<add>(text);
///
/// | C++ | JSON |
/// | --- | --- |
/// | bool | true, false |
/// | integers, enums (their underlying integer) | number (an integer; out of range is an error) |
/// | float, double | number (NaN and infinities cannot be written) |
/// | std::string | string |
/// | std::vector<T>, std::array<T, N>, std::tuple, std::pair | array |
/// | std::map, std::unordered_map with std::string keys | object |
/// | std::optional<T> | null or the T |
/// | a TROUPE_RECORD | object of its fields by name |
///
/// Reading a record takes its fields by name in any order and skips names it does not have
/// (a newer writer's fields); a field that is missing is an error unless it is a
/// std::optional (then it is empty). Errors are json_error and say where: "$.items[2].amount:
/// expected a number, got a string". Reading uses simdjson (Debian: libsimdjson-dev), chosen by
/// measurement (docs/benchmarks.md); writing is troupe's own (std::to_chars).

#include <troupe/core/errors.hpp>
#include <troupe/wire/detail/values.hpp>
#include <troupe/wire/record.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe::streams {

/// A JSON text that is not what was asked for, or a value JSON cannot carry.
class json_error : public error {
public:
    /// `where` is a path from the document's root ("$", "$.amount", "$.items[2]").
    json_error(std::string where, std::string what)
        : error(where + ": " + what), where_(std::move(where)), what_(std::move(what)) {}
    /// Where in the document.
    const std::string& where() const noexcept { return where_; }
    /// What is wrong there.
    const std::string& problem() const noexcept { return what_; }
    /// The same error one level down, for the reader of the enclosing value: `step` is
    /// ".name" or "[3]".
    json_error within(std::string_view step) const {
        return json_error("$" + std::string(step) + where_.substr(1), what_);
    }

private:
    std::string where_;
    std::string what_;
};

namespace json_detail {

using wire::detail::is_map;
using wire::detail::is_optional;
using wire::detail::is_std_array;
using wire::detail::is_tuple;
using wire::detail::is_vector;

/// A callable taken by reference through a function pointer: how the header's templates hand
/// what to do with each field or element to the reader in json.cpp.
template <class Signature>
class callback;
template <class R, class... Args>
class callback<R(Args...)> {
public:
    template <class F>
    callback(F& f) noexcept  // NOLINT(google-explicit-constructor): made where it is passed
        : object_(&f), call_([](void* o, Args... args) -> R { return (*static_cast<F*>(o))(args...); }) {}
    R operator()(Args... args) const { return call_(object_, args...); }

private:
    void* object_;
    R (*call_)(void*, Args...);
};

/// A JSON value being read: valid only inside the callback that was given it. Each value is
/// read once, by one of the get_ functions or by iterating it.
class value {
public:
    std::int64_t get_int64();
    std::uint64_t get_uint64();
    double get_double();
    bool get_bool();
    /// Valid until the document's parse ends.
    std::string_view get_string();
    /// True (and the null is read) if the value is null.
    bool is_null();
    /// Calls `f` with each field's name and value, in the document's order.
    void for_each_field(callback<void(std::string_view, value&)> f);
    /// Calls `f` with each element.
    void for_each_element(callback<void(value&)> f);

    // For json.cpp: the simdjson value (or the document, at the root) lives in here.
    alignas(8) unsigned char storage_[24];
    void* document_ = nullptr;  // set at the root: the value is then the document itself
};

/// Parses `text` and calls `f` with its root value; json_error if it is not JSON, if `f`
/// leaves something unread at the end, or from `f`.
void parse(std::string_view text, callback<void(value&)> f);

/// Appends `s` as a JSON string (quoted, escaped).
void write_string(std::string_view s, std::string& out);
/// Appends the shortest text that reads back as `d`; json_error for NaN and infinities.
void write_double(double d, std::string& out);

template <class T>
consteval bool is_json();

template <class T>
consteval bool fields_are_json() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (is_json<wire::detail::field_type_t<T, I>>() && ...);
    }
    (std::make_index_sequence<wire::field_count<T>>{});
}
template <class Tuple>
consteval bool elements_are_json() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (is_json<std::tuple_element_t<I, Tuple>>() && ...);
    }
    (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

template <class T>
consteval bool is_json() {
    if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T> || std::is_enum_v<T> ||
                  std::is_same_v<T, std::string>) {
        return true;
    } else if constexpr (is_vector<T>::value || is_std_array<T>::value || is_optional<T>::value) {
        return !std::is_same_v<typename T::value_type, std::byte> && is_json<typename T::value_type>();
    } else if constexpr (is_map<T>::value) {
        return std::is_same_v<typename T::key_type, std::string> && is_json<typename T::mapped_type>();
    } else if constexpr (is_tuple<T>::value) {
        return elements_are_json<T>();
    } else if constexpr (wire::record<T>) {
        return fields_are_json<T>();
    } else {
        return false;
    }
}

// --- writing ---------------------------------------------------------------------------------

template <class T>
void write(const T& v, std::string& out);

template <class T>
void write_integer(T v, std::string& out) {
    char buffer[24];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, r.ptr);
}

template <class T>
void write(const T& v, std::string& out) {
    if constexpr (std::is_same_v<T, bool>) {
        out.append(v ? "true" : "false");
    } else if constexpr (std::is_enum_v<T>) {
        write_integer(static_cast<std::underlying_type_t<T>>(v), out);
    } else if constexpr (std::is_integral_v<T>) {
        write_integer(v, out);
    } else if constexpr (std::is_floating_point_v<T>) {
        write_double(static_cast<double>(v), out);
    } else if constexpr (std::is_same_v<T, std::string>) {
        write_string(v, out);
    } else if constexpr (is_optional<T>::value) {
        if (v) {
            write(*v, out);
        } else {
            out.append("null");
        }
    } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
        out += '[';
        bool first = true;
        for (const auto& e : v) {
            if (!first) {
                out += ',';
            }
            first = false;
            write(e, out);
        }
        out += ']';
    } else if constexpr (is_map<T>::value) {
        out += '{';
        bool first = true;
        for (const auto& [k, e] : v) {
            if (!first) {
                out += ',';
            }
            first = false;
            write_string(k, out);
            out += ':';
            write(e, out);
        }
        out += '}';
    } else if constexpr (is_tuple<T>::value) {
        out += '[';
        std::apply(
            [&](const auto&... e) {
                bool first = true;
                ((out.append(first ? "" : ","), first = false, write(e, out)), ...);
            },
            v);
        out += ']';
    } else {
        static_assert(wire::record<T>);
        out += '{';
        std::apply(
            [&](const auto&... f) {
                bool first = true;
                // A field's name is a C++ identifier: nothing in it needs an escape.
                ((out.append(first ? "\"" : ",\""), first = false, out.append(f.name), out.append("\":"),
                  write(v.*(f.pointer), out)),
                 ...);
            },
            wire::record_of<T>.fields);
        out += '}';
    }
}

// --- reading ---------------------------------------------------------------------------------

template <class T>
void read(value& in, T& out);

template <class T>
T checked_integer(value& in) {
    if constexpr (std::is_signed_v<T>) {
        const std::int64_t x = in.get_int64();
        if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            x > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
            throw json_error("$", "the integer " + std::to_string(x) + " does not fit");
        }
        return static_cast<T>(x);
    } else {
        const std::uint64_t x = in.get_uint64();
        if (x > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
            throw json_error("$", "the integer " + std::to_string(x) + " does not fit");
        }
        return static_cast<T>(x);
    }
}

/// Reads a record's fields by name; marks which were seen.
template <class T, std::size_t... I>
void read_record(value& in, T& out, std::index_sequence<I...>) {
    constexpr auto& fields = wire::record_of<T>.fields;
    std::array<bool, sizeof...(I)> seen{};
    auto each = [&](std::string_view key, value& v) {
        // The field of that name, if any: a fold over the fields, which stops at the first match.
        const bool known = ((key == std::get<I>(fields).name && (
                                                                    seen[I] = true,
                                                                    [&] {
                                                                        try {
                                                                            read(v, out.*(std::get<I>(fields).pointer));
                                                                        } catch (const json_error& e) {
                                                                            throw e.within("." + std::string(key));
                                                                        }
                                                                    }(),
                                                                    true)) ||
                            ...);
        (void)known;  // a name the record does not have: skipped
    };
    in.for_each_field(each);
    (
        [&] {
            using member = wire::detail::field_type_t<T, I>;
            if (!seen[I] && !is_optional<member>::value) {
                throw json_error("$", "the field \"" + std::string(std::get<I>(fields).name) + "\" of " +
                                          std::string(wire::record_of<T>.name) + " is missing");
            }
        }(),
        ...);
}

template <class T>
void read(value& in, T& out) {
    if constexpr (std::is_same_v<T, bool>) {
        out = in.get_bool();
    } else if constexpr (std::is_enum_v<T>) {
        out = static_cast<T>(checked_integer<std::underlying_type_t<T>>(in));
    } else if constexpr (std::is_integral_v<T>) {
        out = checked_integer<T>(in);
    } else if constexpr (std::is_floating_point_v<T>) {
        out = static_cast<T>(in.get_double());
    } else if constexpr (std::is_same_v<T, std::string>) {
        out = std::string(in.get_string());
    } else if constexpr (is_optional<T>::value) {
        if (in.is_null()) {
            out.reset();
        } else {
            read(in, out.emplace());
        }
    } else if constexpr (is_vector<T>::value) {
        out.clear();
        auto each = [&](value& e) {
            try {
                read(e, out.emplace_back());
            } catch (const json_error& x) {
                throw x.within("[" + std::to_string(out.size() - 1) + "]");
            }
        };
        in.for_each_element(each);
    } else if constexpr (is_std_array<T>::value) {
        std::size_t n = 0;
        auto each = [&](value& e) {
            if (n == out.size()) {
                throw json_error("$", "more than " + std::to_string(out.size()) + " elements");
            }
            try {
                read(e, out[n]);
            } catch (const json_error& x) {
                throw x.within("[" + std::to_string(n) + "]");
            }
            ++n;
        };
        in.for_each_element(each);
        if (n != out.size()) {
            throw json_error("$", std::to_string(n) + " elements, not " + std::to_string(out.size()));
        }
    } else if constexpr (is_map<T>::value) {
        out.clear();
        auto each = [&](std::string_view key, value& e) {
            try {
                read(e, out[std::string(key)]);
            } catch (const json_error& x) {
                throw x.within("." + std::string(key));
            }
        };
        in.for_each_field(each);
    } else if constexpr (is_tuple<T>::value) {
        std::size_t n = 0;
        auto each = [&](value& e) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                const bool placed = ((n == I && (read(e, std::get<I>(out)), true)) || ...);
                if (!placed) {
                    throw json_error("$", "more than " + std::to_string(sizeof...(I)) + " elements");
                }
            }
            (std::make_index_sequence<std::tuple_size_v<T>>{});
            ++n;
        };
        in.for_each_element(each);
        if (n != std::tuple_size_v<T>) {
            throw json_error("$", std::to_string(n) + " elements, not " + std::to_string(std::tuple_size_v<T>));
        }
    } else {
        static_assert(wire::record<T>);
        read_record(in, out, std::make_index_sequence<wire::field_count<T>>{});
    }
}

/// Reads `text` as an integer if it is one in JSON's plain form (-?(0|[1-9][0-9]*), nothing
/// around it) that fits T: simdjson's parser costs a few hundred instructions more for it.
/// False for anything else, which the parser then reads, or reports as it would anyway.
template <class T>
bool read_plain_integer(std::string_view text, T& out) noexcept {
    const std::size_t first_digit = !text.empty() && text.front() == '-' ? 1 : 0;
    if (text.size() > first_digit + 1 && text[first_digit] == '0') {
        return false;  // a leading zero, which JSON does not allow
    }
    const char* end = text.data() + text.size();
    const auto [stop, failed] = std::from_chars(text.data(), end, out);
    return failed == std::errc{} && stop == end;
}

}  // namespace json_detail

/// True if T can be written and read as JSON (the table above).
template <class T>
concept json_serialisable = json_detail::is_json<T>();

/// Appends the JSON text of `value` to `out`. json_error for a NaN or an infinity.
template <json_serialisable T>
void to_json(const T& value, std::string& out) {
    json_detail::write(value, out);
}
/// The JSON text of `value`.
template <json_serialisable T>
std::string to_json(const T& value) {
    std::string out;
    json_detail::write(value, out);
    return out;
}
/// The T that `text` holds. json_error (saying where) if it does not hold one.
template <json_serialisable T>
T from_json(std::string_view text) {
    T out{};
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (json_detail::read_plain_integer(text, out)) {
            return out;
        }
    }
    auto root = [&](json_detail::value& v) { json_detail::read(v, out); };
    json_detail::parse(text, root);
    return out;
}

}  // namespace troupe::streams
