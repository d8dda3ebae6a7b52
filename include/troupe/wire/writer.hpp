#pragma once
/// \file
/// writer: appends msgpack values to a byte vector, one call per value (msgpack-cxx's packer
/// does the encoding, in src/wire/writer.cpp, so this header does not include msgpack-cxx).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace troupe::wire {

/// Appends msgpack values to a byte vector, each in its shortest form. Containers are written
/// as a header (array(n), map(n)) followed by their n elements (2n for a map: key, value, ...).
class writer {
public:
    /// Appends to `out`, which must outlive the writer.
    explicit writer(std::vector<std::byte>& out) noexcept : out_(&out) {}

    /// nil.
    void nil();
    /// true or false.
    void boolean(bool v);
    /// A signed integer.
    void integer(std::int64_t v) {
        if (v >= -32 && v <= 127) {
            out_->push_back(static_cast<std::byte>(v));  // a positive or negative fixint: the byte itself
        } else {
            wide_integer(v);
        }
    }
    /// An unsigned integer.
    void integer(std::uint64_t v) {
        if (v <= 127) {
            out_->push_back(static_cast<std::byte>(v));
        } else {
            wide_integer(v);
        }
    }
    /// A float 32 (always 5 bytes: -0.0, NaN and integral values keep their type and sign).
    void float32(float v);
    /// A float 64 (always 9 bytes, for the same reason).
    void float64(double v);
    /// A UTF-8 string (not checked). Throws encode_error past 2^32 - 1 bytes.
    void string(std::string_view v);
    /// Binary bytes. Throws encode_error past 2^32 - 1 bytes.
    void binary(std::span<const std::byte> v);
    /// An array header: the n elements follow. Throws encode_error past 2^32 - 1.
    void array(std::size_t n);
    /// A map header: n key/value pairs follow. Throws encode_error past 2^32 - 1.
    void map(std::size_t n);

    /// The vector written to.
    std::vector<std::byte>& buffer() noexcept { return *out_; }

private:
    void wide_integer(std::int64_t v);
    void wide_integer(std::uint64_t v);

    std::vector<std::byte>* out_;
};

}  // namespace troupe::wire
