#pragma once
/// \file
/// The msgpack codec: encode and decode records and standard types, and troupe::codec filled
/// for all of them. Including this header makes every serialisable type troupe::encodable, so
/// a ref to an actor in another process can carry it.
///
/// On the wire:
///
/// | C++ | msgpack |
/// | --- | --- |
/// | bool | boolean |
/// | integers (every width, char types), enums (their underlying integer) | integer, shortest form |
/// | float, double | float 32, float 64 (an integer is accepted too) |
/// | std::string | string |
/// | std::vector<std::byte>, std::array<std::byte, N> | binary |
/// | std::vector<T>, std::array<T, N>, std::tuple, std::pair | array |
/// | std::map, std::unordered_map | map |
/// | std::optional<T> | nil or the T |
/// | std::variant<Ts...> | array [alternative index, value] |
/// | std::monostate | nil |
/// | a TROUPE_RECORD | array of its fields, in order |
///
/// A record is an array, not a map: compact (no field names on the wire), and a field added at
/// the end is tolerated both ways: decoding a shorter array leaves the missing trailing fields
/// at their defaults, and a longer array's extra elements are skipped. So fields may be added
/// at the end only; never removed, reordered or retyped.

#include <troupe/core/codec.hpp>
#include <troupe/wire/detail/values.hpp>
#include <troupe/wire/reader.hpp>
#include <troupe/wire/record.hpp>
#include <troupe/wire/writer.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace troupe::wire {

/// True if troupe::wire can encode and decode T: the standard types in the table above, and
/// records whose fields are all serialisable (a recursive record is not).
template <class T>
concept serialisable = detail::is_serialisable<T>();

/// Appends the msgpack encoding of `value` to `out`. Throws encode_error (leaving `out` as it
/// was) if a string, binary or container is too large for msgpack (2^32 elements or more).
template <serialisable T>
void encode(const T& value, std::vector<std::byte>& out) {
    const std::size_t before = out.size();
    try {
        writer w(out);
        detail::write_value(w, value);
    } catch (...) {
        out.resize(before);
        throw;
    }
}

/// The msgpack encoding of `value`, in a new vector.
template <serialisable T>
std::vector<std::byte> encode(const T& value) {
    std::vector<std::byte> out;
    encode(value, out);
    return out;
}

/// Reads one T from `in`, which must hold exactly one encoded value. Throws decode_error, with
/// what was wrong and where ("point.y: expected an integer, got a string (at byte 3)").
template <serialisable T>
T decode(std::span<const std::byte> in, decode_limits limits = {}) {
    reader r(in, limits);
    T value{};
    const auto root = r.at_root(detail::root_name<T>());
    detail::read_value(r, value);
    r.finish();
    return value;
}

/// Reads the next T from `r` (one value of a sequence, or a field of a custom layout).
template <serialisable T>
T read(reader& r) {
    T value{};
    detail::read_value(r, value);
    return value;
}

/// Writes `value` with `w`.
template <serialisable T>
void write(writer& w, const T& value) {
    detail::write_value(w, value);
}

}  // namespace troupe::wire

namespace troupe {

/// troupe's codec hook, filled with msgpack for every serialisable type. A program that
/// specialises troupe::codec for one of these types itself must do so in every translation
/// unit that uses it (or none), as for any specialisation.
template <class T>
requires wire::serialisable<T>
struct codec<T> {
    /// Appends `value`'s msgpack encoding to `out`.
    static void encode(const T& value, std::vector<std::byte>& out) { wire::encode(value, out); }
    /// Reads a T back; throws wire::decode_error on bad bytes.
    static T decode(std::span<const std::byte> in) { return wire::decode<T>(in); }
};

}  // namespace troupe
