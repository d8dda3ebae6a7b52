// The msgpack writer: msgpack-cxx's packer writes headers, integers and bodies; floats are
// written here (see float64).

#include <troupe/wire/writer.hpp>

#include <troupe/wire/errors.hpp>

#include <msgpack/pack.hpp>

#include <bit>
#include <cstring>
#include <limits>
#include <string>

namespace troupe::wire {

namespace {

/// What msgpack-cxx's packer writes to: the writer's vector.
struct vector_stream {
    std::vector<std::byte>* out;
    void write(const char* bytes, std::size_t n) {
        const auto* b = reinterpret_cast<const std::byte*>(bytes);
        out->insert(out->end(), b, b + n);
    }
};
using packer = msgpack::packer<vector_stream>;

std::uint32_t checked_length(std::size_t n, const char* what) {
    if (n > std::numeric_limits<std::uint32_t>::max()) {
        throw encode_error(std::string("msgpack cannot carry ") + what + " of " + std::to_string(n) +
                           " elements or bytes (the limit is 2^32 - 1)");
    }
    return static_cast<std::uint32_t>(n);
}

/// Appends the format byte and the big-endian bits of a float.
template <class Bits>
void put_float(std::vector<std::byte>& out, std::uint8_t format, Bits bits) {
    std::byte b[1 + sizeof(Bits)];
    b[0] = static_cast<std::byte>(format);
    for (std::size_t i = 0; i < sizeof(Bits); ++i) {
        b[1 + i] = static_cast<std::byte>(bits >> (8 * (sizeof(Bits) - 1 - i)));
    }
    out.insert(out.end(), b, b + sizeof b);
}

}  // namespace

void writer::nil() {
    vector_stream s{out_};
    packer(s).pack_nil();
}

void writer::boolean(bool v) {
    vector_stream s{out_};
    v ? packer(s).pack_true() : packer(s).pack_false();
}

void writer::wide_integer(std::int64_t v) {
    vector_stream s{out_};
    packer(s).pack_int64(v);
}

void writer::wide_integer(std::uint64_t v) {
    vector_stream s{out_};
    packer(s).pack_uint64(v);
}

// msgpack-cxx 4.1's pack_float and pack_double write a float that holds an integral value as
// an integer: -0.0 comes back as 0, and 2^64 is converted to uint64_t (undefined behaviour).
// A float is therefore always written as itself.
void writer::float32(float v) {
    put_float(*out_, 0xca, std::bit_cast<std::uint32_t>(v));
}

void writer::float64(double v) {
    put_float(*out_, 0xcb, std::bit_cast<std::uint64_t>(v));
}

void writer::string(std::string_view v) {
    const std::uint32_t n = checked_length(v.size(), "a string");
    vector_stream s{out_};
    packer(s).pack_str(n).pack_str_body(v.data(), n);
}

void writer::binary(std::span<const std::byte> v) {
    const std::uint32_t n = checked_length(v.size(), "a binary");
    vector_stream s{out_};
    packer(s).pack_bin(n).pack_bin_body(reinterpret_cast<const char*>(v.data()), n);
}

void writer::array(std::size_t n) {
    vector_stream s{out_};
    packer(s).pack_array(checked_length(n, "an array"));
}

void writer::map(std::size_t n) {
    vector_stream s{out_};
    packer(s).pack_map(checked_length(n, "a map"));
}

}  // namespace troupe::wire
