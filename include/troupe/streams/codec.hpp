#pragma once
/// \file
/// How a topic's keys and values become bytes: JSON for records and standard types (the
/// default), msgpack (troupe::wire's codec), or raw bytes for `bytes` and std::string.

#include <troupe/core/errors.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/json.hpp>
#include <troupe/wire/codec.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace troupe::streams {

/// A codec by name, as a topic's options choose it.
enum class serializer : std::uint8_t {
    automatic,  ///< raw for bytes and std::string, else JSON, else msgpack
    json,
    msgpack,
    raw,  ///< the bytes as they are: for `bytes` and std::string only
};

/// "json", "msgpack", "raw", "automatic".
std::string_view name_of(serializer s) noexcept;

namespace codec_detail {
template <class T>
inline constexpr bool is_raw = std::is_same_v<T, bytes> || std::is_same_v<T, std::string>;
}  // namespace codec_detail

/// True if T can be a topic's key or value type under some serializer.
template <class T>
concept topic_value = codec_detail::is_raw<T> || json_serialisable<T> || wire::serialisable<T>;

/// What `automatic` means for T.
template <topic_value T>
constexpr serializer resolved(serializer s) noexcept {
    if (s != serializer::automatic) {
        return s;
    }
    if constexpr (codec_detail::is_raw<T>) {
        return serializer::raw;
    } else if constexpr (json_serialisable<T>) {
        return serializer::json;
    } else {
        return serializer::msgpack;
    }
}

/// True if `s` can carry a T.
template <topic_value T>
constexpr bool can_carry(serializer s) noexcept {
    switch (resolved<T>(s)) {
        case serializer::json:
            return json_serialisable<T>;
        case serializer::msgpack:
            return wire::serialisable<T>;
        case serializer::raw:
            return codec_detail::is_raw<T>;
        case serializer::automatic:
            break;
    }
    return false;
}

/// The bytes of `value` under `s` (which can carry a T: can_carry).
template <topic_value T>
bytes encode_as(serializer s, const T& value) {
    switch (resolved<T>(s)) {
        case serializer::json:
            if constexpr (json_serialisable<T>) {
                // Written into a buffer kept by the thread, then copied once: no growth of a
                // fresh string field by field.
                thread_local std::string text;
                text.clear();
                to_json(value, text);
                const auto* p = reinterpret_cast<const std::byte*>(text.data());
                return bytes(p, p + text.size());
            }
            break;
        case serializer::msgpack:
            if constexpr (wire::serialisable<T>) {
                return wire::encode(value);
            }
            break;
        case serializer::raw:
            if constexpr (std::is_same_v<T, bytes>) {
                return value;
            } else if constexpr (std::is_same_v<T, std::string>) {
                return bytes_of(value);
            }
            break;
        case serializer::automatic:
            break;
    }
    throw error("streams: the " + std::string(name_of(s)) + " serializer cannot carry this type");
}

/// The T in `in` under `s`. Throws json_error, wire::decode_error or troupe::error.
template <topic_value T>
T decode_as(serializer s, std::span<const std::byte> in) {
    switch (resolved<T>(s)) {
        case serializer::json:
            if constexpr (json_serialisable<T>) {
                return from_json<T>(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));
            }
            break;
        case serializer::msgpack:
            if constexpr (wire::serialisable<T>) {
                return wire::decode<T>(in);
            }
            break;
        case serializer::raw:
            if constexpr (std::is_same_v<T, bytes>) {
                return bytes(in.begin(), in.end());
            } else if constexpr (std::is_same_v<T, std::string>) {
                return std::string(reinterpret_cast<const char*>(in.data()), in.size());
            }
            break;
        case serializer::automatic:
            break;
    }
    throw error("streams: the " + std::string(name_of(s)) + " serializer cannot carry this type");
}

}  // namespace troupe::streams
