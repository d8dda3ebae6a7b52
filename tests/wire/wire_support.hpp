#pragma once
// Helpers shared by the wire tests: byte literals and the text of a decode error.

#include <troupe/wire/codec.hpp>
#include <troupe/wire/errors.hpp>

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace wire_test {

/// Bytes from small integers: bytes({0x92, 0x01, 0x02}).
inline std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

/// `a` followed by `b`.
inline std::vector<std::byte> join(std::vector<std::byte> a, std::span<const std::byte> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// The bytes of `text`.
inline std::vector<std::byte> text_bytes(std::string_view text) {
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    return {p, p + text.size()};
}

/// "92 01 02": for failure messages.
inline std::string hex(std::span<const std::byte> in) {
    std::string out;
    char b[4];
    for (std::byte x : in) {
        std::snprintf(b, sizeof b, "%02x ", static_cast<unsigned>(x));
        out += b;
    }
    if (!out.empty()) {
        out.pop_back();
    }
    return out;
}

/// The message of the decode_error that decoding `in` as a T throws, or "no error".
template <class T>
std::string decode_failure(std::span<const std::byte> in, troupe::wire::decode_limits limits = {}) {
    try {
        (void)troupe::wire::decode<T>(in, limits);
    } catch (const troupe::wire::decode_error& e) {
        return e.what();
    }
    return "no error";
}

/// `value` encoded, then decoded back.
template <class T>
T round_trip(const T& value) {
    return troupe::wire::decode<T>(troupe::wire::encode(value));
}

}  // namespace wire_test
