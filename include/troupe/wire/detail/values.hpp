#pragma once
/// \file
/// How each serialisable type is written to and read from msgpack (codec.hpp has the rules;
/// docs/design/wire.md the table).

#include <troupe/wire/reader.hpp>
#include <troupe/wire/record.hpp>
#include <troupe/wire/writer.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace troupe::wire::detail {

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};

template <class T>
struct is_tuple : std::false_type {};
template <class... Ts>
struct is_tuple<std::tuple<Ts...>> : std::true_type {};
template <class A, class B>
struct is_tuple<std::pair<A, B>> : std::true_type {};

template <class T>
struct is_map : std::false_type {};
template <class K, class V, class C, class A>
struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A>
struct is_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};

template <class T>
struct is_unordered_map : std::false_type {};
template <class K, class V, class H, class E, class A>
struct is_unordered_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};

template <class T>
struct is_byte_array : std::false_type {};
template <std::size_t N>
struct is_byte_array<std::array<std::byte, N>> : std::true_type {};

/// Bytes as one msgpack binary: std::vector<std::byte> and std::array<std::byte, N>.
template <class T>
inline constexpr bool is_bytes = std::is_same_v<T, std::vector<std::byte>> || is_byte_array<T>::value;

/// The type of a record's I-th field.
template <class T, std::size_t I>
using field_type_t = typename std::remove_cvref_t<decltype(std::get<I>(record_of<T>.fields))>::member_type;

template <class T>
consteval bool is_serialisable();

template <class T, std::size_t... I>
consteval bool fields_serialisable(std::index_sequence<I...>) {
    return ((!std::is_const_v<field_type_t<T, I>> && is_serialisable<field_type_t<T, I>>()) && ...);
}

template <class... Ts>
consteval bool all_serialisable(const std::tuple<Ts...>*) {
    return (is_serialisable<Ts>() && ...);
}
template <class... Ts>
consteval bool all_serialisable(const std::variant<Ts...>*) {
    return ((is_serialisable<Ts>() && std::is_default_constructible_v<Ts>)&&...);
}
template <class A, class B>
consteval bool all_serialisable(const std::pair<A, B>*) {
    return is_serialisable<A>() && is_serialisable<B>();
}

/// The rule behind wire::serialisable.
template <class T>
consteval bool is_serialisable() {
    if constexpr (!std::is_same_v<T, std::remove_cvref_t<T>>) {
        return false;
    } else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T> || std::is_enum_v<T> ||
                         std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::string> ||
                         std::is_same_v<T, std::monostate> || is_bytes<T>) {
        return true;
    } else if constexpr (is_vector<T>::value || is_std_array<T>::value || is_optional<T>::value) {
        return is_serialisable<typename T::value_type>();
    } else if constexpr (is_map<T>::value) {
        return is_serialisable<typename T::key_type>() && is_serialisable<typename T::mapped_type>();
    } else if constexpr (is_tuple<T>::value || is_variant<T>::value) {
        return all_serialisable(static_cast<const T*>(nullptr));
    } else if constexpr (record<T>) {
        return fields_serialisable<T>(std::make_index_sequence<field_count<T>>{});
    } else {
        return false;
    }
}

/// How error paths name the root value: a record's name, else "value".
template <class T>
constexpr std::string_view root_name() noexcept {
    if constexpr (record<T>) {
        return record_of<T>.name;
    } else {
        return "value";
    }
}

template <class T>
void write_value(writer& w, const T& v);
template <class T>
void read_value(reader& r, T& v);

template <class T>
void write_value(writer& w, const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        w.boolean(v);
    } else if constexpr (std::is_enum_v<T>) {
        write_value(w, static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        w.integer(static_cast<std::int64_t>(v));
    } else if constexpr (std::is_integral_v<T>) {
        w.integer(static_cast<std::uint64_t>(v));
    } else if constexpr (std::is_same_v<T, float>) {
        w.float32(v);
    } else if constexpr (std::is_same_v<T, double>) {
        w.float64(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
        w.string(v);
    } else if constexpr (std::is_same_v<T, std::monostate>) {
        w.nil();
    } else if constexpr (is_bytes<T>) {
        w.binary(std::span<const std::byte>(v.data(), v.size()));
    } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
        w.array(v.size());
        for (const auto& e : v) {  // a vector<bool>'s const elements are plain bools
            write_value(w, e);
        }
    } else if constexpr (is_optional<T>::value) {
        if (v) {
            write_value(w, *v);
        } else {
            w.nil();
        }
    } else if constexpr (is_variant<T>::value) {
        w.array(2);
        w.integer(static_cast<std::uint64_t>(v.index()));
        std::visit([&w](const auto& alternative) { write_value(w, alternative); }, v);
    } else if constexpr (is_tuple<T>::value) {
        w.array(std::tuple_size_v<T>);
        std::apply([&w](const auto&... element) { (write_value(w, element), ...); }, v);
    } else if constexpr (is_map<T>::value) {
        w.map(v.size());
        for (const auto& [key, value] : v) {
            write_value(w, key);
            write_value(w, value);
        }
    } else {
        static_assert(record<T>);
        w.array(field_count<T>);
        std::apply([&](const auto&... f) { (write_value(w, v.*(f.pointer)), ...); }, record_of<T>.fields);
    }
}

/// Reads element `i` of an array into `e`, under "[i]" in error paths.
template <class T>
void read_element(reader& r, std::size_t i, T& e) {
    const auto here = r.at_index(i);
    read_value(r, e);
}

template <class V, std::size_t... I>
void read_alternative(reader& r, V& v, std::size_t index, std::index_sequence<I...>) {
    (void)((index == I ? (read_value(r, v.template emplace<I>()), true) : false) || ...);
}

template <class T, std::size_t... I>
void read_fields(reader& r, T& v, std::size_t present, std::index_sequence<I...>) {
    constexpr auto& fields = record_of<T>.fields;
    (void)((I < present ? (
                              [&] {
                                  const auto here = r.at_field(std::get<I>(fields).name);
                                  read_value(r, v.*(std::get<I>(fields).pointer));
                              }(),
                              true)
                        : false) &&
           ...);
}

template <class M>
void read_map(reader& r, M& v) {
    const auto m = r.map();
    v.clear();
    if constexpr (is_unordered_map<M>::value) {
        v.reserve(m.size());  // m.size() <= the bytes that remain / 2
    }
    for (std::size_t i = 0; i < m.size(); ++i) {
        typename M::key_type key{};
        {
            const auto here = r.at_map_key(i);
            read_value(r, key);
        }
        auto [it, fresh] = v.try_emplace(std::move(key));
        if (!fresh) {
            const auto here = r.at_map_key(i);
            r.fail("duplicate key in a map");
        }
        if constexpr (std::is_same_v<typename M::key_type, std::string>) {
            const auto here = r.at_key(it->first);  // a map's keys stay put while it grows
            read_value(r, it->second);
        } else {
            const auto here = r.at_map_value(i);
            read_value(r, it->second);
        }
    }
}

template <class T>
void read_value(reader& r, T& v) {
    if constexpr (std::is_same_v<T, bool>) {
        v = r.boolean();
    } else if constexpr (std::is_enum_v<T>) {
        std::underlying_type_t<T> u{};
        read_value(r, u);
        v = static_cast<T>(u);
    } else if constexpr (std::is_integral_v<T>) {
        v = r.integer<T>();
    } else if constexpr (std::is_same_v<T, float>) {
        v = r.number_as_float();
    } else if constexpr (std::is_same_v<T, double>) {
        v = r.number();
    } else if constexpr (std::is_same_v<T, std::string>) {
        v.assign(r.string());
    } else if constexpr (std::is_same_v<T, std::monostate>) {
        r.nil();
    } else if constexpr (is_bytes<T>) {
        const std::span<const std::byte> b = r.binary();
        if constexpr (is_vector<T>::value) {
            v.assign(b.begin(), b.end());
        } else {
            if (b.size() != v.size()) {
                r.fail("expected a binary of " + std::to_string(v.size()) + " bytes, got " + std::to_string(b.size()));
            }
            std::copy(b.begin(), b.end(), v.begin());
        }
    } else if constexpr (is_vector<T>::value) {
        const auto a = r.array();
        v.clear();
        v.reserve(a.size());  // a.size() <= the bytes that remain
        auto here = r.at_index(0);
        for (std::size_t i = 0; i < a.size(); ++i) {
            here.index(i);
            if constexpr (std::is_same_v<typename T::value_type, bool>) {
                bool e = false;
                read_value(r, e);
                v.push_back(e);
            } else {
                read_value(r, v.emplace_back());
            }
        }
    } else if constexpr (is_std_array<T>::value) {
        const auto a = r.array();
        if (a.size() != v.size()) {
            r.fail("expected an array of " + std::to_string(v.size()) + " elements, got " + std::to_string(a.size()));
        }
        auto here = r.at_index(0);
        for (std::size_t i = 0; i < v.size(); ++i) {
            here.index(i);
            read_value(r, v[i]);
        }
    } else if constexpr (is_optional<T>::value) {
        if (r.peek() == value_kind::nil) {
            r.nil();
            v.reset();
        } else {
            read_value(r, v.emplace());
        }
    } else if constexpr (is_variant<T>::value) {
        const auto a = r.array();
        if (a.size() != 2) {
            r.fail("expected a variant as [index, value], got an array of " + std::to_string(a.size()));
        }
        const auto index = r.integer<std::uint64_t>();
        if (index >= std::variant_size_v<T>) {
            r.fail("variant index " + std::to_string(index) + " out of range (" +
                   std::to_string(std::variant_size_v<T>) + " alternatives)");
        }
        read_alternative(r, v, static_cast<std::size_t>(index), std::make_index_sequence<std::variant_size_v<T>>{});
    } else if constexpr (is_tuple<T>::value) {
        const auto a = r.array();
        constexpr std::size_t n = std::tuple_size_v<T>;
        if (a.size() != n) {
            r.fail("expected an array of " + std::to_string(n) + " elements, got " + std::to_string(a.size()));
        }
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (read_element(r, I, std::get<I>(v)), ...);
        }
        (std::make_index_sequence<n>{});
    } else if constexpr (is_map<T>::value) {
        read_map(r, v);
    } else {
        static_assert(record<T>);
        // Fields in order; a shorter array leaves the missing trailing fields as they are
        // (default), a longer one's extra elements are skipped (fields added by a newer peer).
        const auto a = r.array();
        constexpr std::size_t known = field_count<T>;
        read_fields(r, v, a.size(), std::make_index_sequence<known>{});
        for (std::size_t i = known; i < a.size(); ++i) {
            const auto here = r.at_index(i);
            r.skip();
        }
    }
}

}  // namespace troupe::wire::detail
