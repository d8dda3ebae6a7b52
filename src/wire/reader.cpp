// The msgpack reader. Decoding reads the bytes in place, one value at a time, instead of
// building msgpack-cxx's object tree first: that tree allocates an array header's element
// count times 24 bytes before a single element is read (bounded only by fixed unpack limits,
// not by the bytes that remain), and costs a zone and a second pass. Here every length is
// compared with the bytes left before it is used, so nothing allocates more than the input
// could hold. docs/design/wire.md has the format table this follows.

#include <troupe/wire/reader.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace troupe::wire {

std::string_view describe(value_kind k) noexcept {
    switch (k) {
        case value_kind::nil:
            return "nil";
        case value_kind::boolean:
            return "a boolean";
        case value_kind::integer:
            return "an integer";
        case value_kind::float32:
            return "a float 32";
        case value_kind::float64:
            return "a float 64";
        case value_kind::string:
            return "a string";
        case value_kind::binary:
            return "a binary";
        case value_kind::array:
            return "an array";
        case value_kind::map:
            return "a map";
        case value_kind::extension:
            return "an extension";
    }
    return "an unknown kind";
}

namespace {

/// The kind of a format byte; false for 0xc1, which msgpack never uses.
bool kind_of(std::uint8_t b, value_kind& k) noexcept {
    if (b <= 0x7f || b >= 0xe0) {
        k = value_kind::integer;  // positive and negative fixint
    } else if (b <= 0x8f) {
        k = value_kind::map;
    } else if (b <= 0x9f) {
        k = value_kind::array;
    } else if (b <= 0xbf) {
        k = value_kind::string;
    } else {
        switch (b) {
            case 0xc0:
                k = value_kind::nil;
                break;
            case 0xc2:
            case 0xc3:
                k = value_kind::boolean;
                break;
            case 0xc4:
            case 0xc5:
            case 0xc6:
                k = value_kind::binary;
                break;
            case 0xc7:
            case 0xc8:
            case 0xc9:
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:
                k = value_kind::extension;
                break;
            case 0xca:
                k = value_kind::float32;
                break;
            case 0xcb:
                k = value_kind::float64;
                break;
            case 0xd9:
            case 0xda:
            case 0xdb:
                k = value_kind::string;
                break;
            case 0xdc:
            case 0xdd:
                k = value_kind::array;
                break;
            case 0xde:
            case 0xdf:
                k = value_kind::map;
                break;
            default:
                if (b >= 0xcc && b <= 0xd3) {
                    k = value_kind::integer;
                    break;
                }
                return false;  // 0xc1
        }
    }
    return true;
}

/// The number of big-endian length bytes after a str/bin/array/map format byte: 1, 2 or 4.
std::size_t length_bytes(std::uint8_t b, std::uint8_t first_of_three) noexcept {
    return std::size_t{1} << (b - first_of_three);
}

/// "1 byte", "3 bytes".
std::string bytes(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

}  // namespace

reader::reader(std::span<const std::byte> in, decode_limits limits) noexcept
    : in_(in), max_depth_(std::min(limits.max_depth, decode_limits::max_depth_cap)) {}

std::uint8_t reader::format_byte() const {
    if (offset_ >= in_.size()) {
        fail("truncated: the input ends where a value was expected");
    }
    return static_cast<std::uint8_t>(in_[offset_]);
}

value_kind reader::peek() const {
    const std::uint8_t b = format_byte();
    value_kind k{};
    if (!kind_of(b, k)) {
        fail("0xc1 is not a msgpack value");
    }
    return k;
}

const std::byte* reader::take(std::size_t n, std::string_view what) {
    if (n > remaining()) {
        fail("truncated: " + std::string(what) + " needs " + bytes(n) + ", " + std::to_string(remaining()) + " remain");
    }
    const std::byte* p = in_.data() + offset_;
    offset_ += n;
    return p;
}

std::uint64_t reader::take_big_endian(std::size_t bytes, std::string_view what) {
    const std::byte* p = take(bytes, what);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        v = (v << 8) | static_cast<std::uint8_t>(p[i]);
    }
    return v;
}

void reader::wrong_kind(std::string_view expected) const {
    fail("expected " + std::string(expected) + ", got " + std::string(describe(peek())));
}

void reader::nil() {
    begin_value();
    if (format_byte() != 0xc0) {
        wrong_kind("nil");
    }
    ++offset_;
}

bool reader::boolean() {
    begin_value();
    const std::uint8_t b = format_byte();
    if (b != 0xc2 && b != 0xc3) {
        wrong_kind("a boolean");
    }
    ++offset_;
    return b == 0xc3;
}

reader::raw_integer reader::read_integer() {
    begin_value();
    const std::uint8_t b = format_byte();
    if (b <= 0x7f) {
        ++offset_;
        return {false, b, 0};
    }
    if (b >= 0xe0) {
        ++offset_;
        return {true, 0, static_cast<std::int8_t>(b)};
    }
    if (b >= 0xcc && b <= 0xcf) {  // uint 8, 16, 32, 64
        ++offset_;
        return {false, take_big_endian(std::size_t{1} << (b - 0xcc), "an unsigned integer"), 0};
    }
    if (b >= 0xd0 && b <= 0xd3) {  // int 8, 16, 32, 64: sign-extend from the width read
        ++offset_;
        const std::size_t bytes = std::size_t{1} << (b - 0xd0);
        const std::uint64_t bits = take_big_endian(bytes, "a signed integer");
        const unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
        const auto v = static_cast<std::int64_t>(bits << shift) >> shift;
        if (v < 0) {
            return {true, 0, v};
        }
        return {false, static_cast<std::uint64_t>(v), 0};
    }
    wrong_kind("an integer");
}

void reader::out_of_range(const raw_integer& v, std::size_t bytes, bool is_signed) const {
    const std::string value = v.negative ? std::to_string(v.value) : std::to_string(v.magnitude);
    const std::string type = (is_signed ? "int" : "uint") + std::to_string(bytes * 8);
    std::string range;
    if (is_signed) {
        const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) >> (64 - 8 * bytes);
        range = "-" + std::to_string(max + 1) + ".." + std::to_string(max);
    } else {
        range = "0.." + std::to_string(std::numeric_limits<std::uint64_t>::max() >> (64 - 8 * bytes));
    }
    fail("integer " + value + " out of range for " + type + " (" + range + ")");
}

double reader::number() {
    begin_value();
    const std::uint8_t b = format_byte();
    if (b == 0xca) {
        ++offset_;
        return std::bit_cast<float>(static_cast<std::uint32_t>(take_big_endian(4, "a float 32")));
    }
    if (b == 0xcb) {
        ++offset_;
        return std::bit_cast<double>(take_big_endian(8, "a float 64"));
    }
    value_kind k{};
    if (kind_of(b, k) && k == value_kind::integer) {
        const raw_integer v = read_integer();
        return v.negative ? static_cast<double>(v.value) : static_cast<double>(v.magnitude);
    }
    wrong_kind("a number");
}

float reader::number_as_float() {
    const double d = number();
    if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", d);
        fail("number " + std::string(text) + " out of range for float");
    }
    return static_cast<float>(d);
}

std::string_view reader::string() {
    begin_value();
    const std::uint8_t b = format_byte();
    std::size_t n = 0;
    if (b >= 0xa0 && b <= 0xbf) {
        ++offset_;
        n = b & 0x1f;
    } else if (b >= 0xd9 && b <= 0xdb) {
        ++offset_;
        n = take_big_endian(length_bytes(b, 0xd9), "a string's length");
    } else {
        wrong_kind("a string");
    }
    const auto* p = reinterpret_cast<const char*>(take(n, "a string"));
    return {p, n};
}

std::span<const std::byte> reader::binary() {
    begin_value();
    const std::uint8_t b = format_byte();
    if (b < 0xc4 || b > 0xc6) {
        wrong_kind("a binary");
    }
    ++offset_;
    const std::size_t n = take_big_endian(length_bytes(b, 0xc4), "a binary's length");
    return {take(n, "a binary"), n};
}

void reader::enter(std::size_t elements, std::size_t bytes_each, std::string_view what) {
    // Each element takes at least one byte: a count the rest of the input cannot hold is
    // refused here, before anything is sized from it.
    if (elements > remaining() / bytes_each) {
        fail(std::string(what) + " of " + std::to_string(elements) + (bytes_each == 1 ? " elements" : " pairs") +
             " claims more than the " + bytes(remaining()) + " that remain");
    }
    if (depth_ >= max_depth_) {
        fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
    }
    ++depth_;
}

reader::container reader::array() {
    begin_value();
    const std::uint8_t b = format_byte();
    std::size_t n = 0;
    if (b >= 0x90 && b <= 0x9f) {
        ++offset_;
        n = b & 0x0f;
    } else if (b == 0xdc || b == 0xdd) {
        ++offset_;
        n = take_big_endian(b == 0xdc ? 2 : 4, "an array's length");
    } else {
        wrong_kind("an array");
    }
    enter(n, 1, "an array");
    return {*this, n};
}

reader::container reader::map() {
    begin_value();
    const std::uint8_t b = format_byte();
    std::size_t n = 0;
    if (b >= 0x80 && b <= 0x8f) {
        ++offset_;
        n = b & 0x0f;
    } else if (b == 0xde || b == 0xdf) {
        ++offset_;
        n = take_big_endian(b == 0xde ? 2 : 4, "a map's length");
    } else {
        wrong_kind("a map");
    }
    enter(n, 2, "a map");
    return {*this, n};
}

// Recursion is bounded: array() and map() refuse a level past max_depth (at most
// decode_limits::max_depth_cap).
void reader::skip() {
    begin_value();
    switch (peek()) {
        case value_kind::nil:
            nil();
            return;
        case value_kind::boolean:
            (void)boolean();
            return;
        case value_kind::integer:
            (void)read_integer();
            return;
        case value_kind::float32:
        case value_kind::float64:
            (void)number();
            return;
        case value_kind::string:
            (void)string();
            return;
        case value_kind::binary:
            (void)binary();
            return;
        case value_kind::extension: {
            const std::uint8_t b = format_byte();
            ++offset_;
            std::size_t n = 0;
            if (b >= 0xd4 && b <= 0xd8) {
                n = std::size_t{1} << (b - 0xd4);  // fixext 1, 2, 4, 8, 16
            } else {
                n = take_big_endian(length_bytes(b, 0xc7), "an extension's length");
            }
            take(1 + n, "an extension");  // the type byte, then the data
            return;
        }
        case value_kind::array: {
            const container a = array();
            for (std::size_t i = 0; i < a.size(); ++i) {
                skip();
            }
            return;
        }
        case value_kind::map: {
            const container m = map();
            for (std::size_t i = 0; i < 2 * m.size(); ++i) {
                skip();
            }
            return;
        }
    }
}

void reader::finish() {
    if (!at_end()) {
        begin_value();  // the error is about the bytes after the value: report their offset
        fail(bytes(remaining()) + " of trailing garbage after the value");
    }
}

std::string reader::path() const {
    // The places form a chain from the innermost to the root: collect, then print outward.
    std::vector<const place*> chain;
    for (const place* p = top_; p != nullptr; p = p->parent_) {
        chain.push_back(p);
    }
    std::string out;
    if (chain.empty() || chain.back()->step_ != place::step::root) {
        out = "value";
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const place& p = **it;
        switch (p.step_) {
            case place::step::root:
                out += p.name_;
                break;
            case place::step::field:
                out += '.';
                out += p.name_;
                break;
            case place::step::index:
                out += '[' + std::to_string(p.index_) + ']';
                break;
            case place::step::key: {
                constexpr std::size_t shown = 40;
                out += "[\"";
                out += p.name_.substr(0, shown);
                out += p.name_.size() > shown ? "...\"]" : "\"]";
                break;
            }
            case place::step::map_key:
                out += "[key #" + std::to_string(p.index_) + ']';
                break;
            case place::step::map_value:
                out += "[#" + std::to_string(p.index_) + ']';
                break;
        }
    }
    return out;
}

void reader::fail(std::string_view what) const {
    throw decode_error(path() + ": " + std::string(what) + " (at byte " + std::to_string(value_start_) + ")");
}

}  // namespace troupe::wire
