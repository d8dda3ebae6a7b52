#pragma once
/// \file
/// reader: reads msgpack values one at a time from a byte span, checking every length against
/// the bytes that remain before trusting it, so that hostile input costs at most its own size.

#include <troupe/wire/errors.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::wire {

/// The type of a msgpack value, as the reader sees it before reading it.
enum class value_kind : std::uint8_t { nil, boolean, integer, float32, float64, string, binary, array, map, extension };

/// "nil", "a boolean", "an integer", ...: how error messages name a kind.
std::string_view describe(value_kind k) noexcept;

/// Bounds on what one decode accepts, beyond the size of its input.
struct decode_limits {
    /// Containers nested deeper than this are refused (decode_error). At most max_depth_cap.
    std::size_t max_depth = 64;
    /// The largest max_depth a reader accepts (skip() recurses once per level).
    static constexpr std::size_t max_depth_cap = 1024;
};

/// Reads msgpack values from `in`, in order. Every read checks the kind of the next value and
/// throws decode_error ("<where>: expected an integer, got a string (at byte 3)") if it is not
/// the one asked for, or if the input is too short for it. "Where" is the path pushed with
/// at(): "point.y", "line.points[2].x".
class reader {
public:
    /// Reads from `in`, which must outlive the reader (strings and binaries are views into it).
    explicit reader(std::span<const std::byte> in, decode_limits limits = {}) noexcept;
    /// Not from a temporary vector: the views read() hands out would dangle.
    explicit reader(std::vector<std::byte>&&, decode_limits = {}) = delete;

    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    /// The kind of the next value; throws decode_error if the input ends or the byte is not
    /// msgpack (0xc1).
    value_kind peek() const;
    /// True if every byte has been read.
    bool at_end() const noexcept { return offset_ == in_.size(); }
    /// How many bytes have been read.
    std::size_t offset() const noexcept { return offset_; }
    /// How many bytes are left.
    std::size_t remaining() const noexcept { return in_.size() - offset_; }

    /// Reads a nil.
    void nil();
    /// Reads a boolean.
    bool boolean();
    /// Reads an integer that fits in I (decode_error "integer 300 out of range for int8").
    template <std::integral I>
    requires(!std::same_as<I, bool>) I integer();
    /// Reads a number as a double: a float 32, a float 64 or an integer (msgpack-cxx, and other
    /// encoders, write integral floats as integers).
    double number();
    /// Reads a number as a float: as number(), and a finite value beyond float's range is
    /// refused (converting it would be undefined behaviour).
    float number_as_float();
    /// Reads a string; the view points into the input.
    std::string_view string();
    /// Reads binary bytes; the span points into the input.
    std::span<const std::byte> binary();

    /// An array or map being read: its element count (pairs for a map), which is never more
    /// than the bytes that remain could hold. Ends the nesting level when it goes away.
    class container {
    public:
        container(const container&) = delete;
        container& operator=(const container&) = delete;
        ~container() { --reader_->depth_; }
        /// Elements (arrays) or key/value pairs (maps).
        std::size_t size() const noexcept { return size_; }

    private:
        friend class reader;
        container(reader& r, std::size_t n) noexcept : reader_(&r), size_(n) {}
        reader* reader_;
        std::size_t size_;
    };
    /// Reads an array header; its elements follow.
    [[nodiscard]] container array();
    /// Reads a map header; its keys and values follow, alternating.
    [[nodiscard]] container map();

    /// Skips one complete value of any kind, checking it as thoroughly as a read would.
    void skip();
    /// Throws decode_error if bytes are left after the last value read.
    void finish();

    /// One step of the path that error messages show, current while it lives.
    class place {
    public:
        place(const place&) = delete;
        place& operator=(const place&) = delete;
        ~place() { reader_->top_ = parent_; }
        /// Moves an element's place to element `i` (one place per container, not per element).
        void index(std::size_t i) noexcept { index_ = i; }

    private:
        friend class reader;
        enum class step : std::uint8_t { root, field, index, key, map_key, map_value };
        place(reader& r, step s, std::string_view name, std::size_t index) noexcept
            : reader_(&r), parent_(r.top_), step_(s), name_(name), index_(index) {
            r.top_ = this;
        }
        reader* reader_;
        const place* parent_;
        step step_;
        std::string_view name_;
        std::size_t index_;
    };
    /// The root of the path: the decoded type's name ("point").
    [[nodiscard]] place at_root(std::string_view name) noexcept { return {*this, place::step::root, name, 0}; }
    /// A record's field: ".y".
    [[nodiscard]] place at_field(std::string_view name) noexcept { return {*this, place::step::field, name, 0}; }
    /// An element of an array: "[2]".
    [[nodiscard]] place at_index(std::size_t i) noexcept { return {*this, place::step::index, {}, i}; }
    /// The value under a string key of a map: "[\"cpu\"]" (`key` must outlive the place).
    [[nodiscard]] place at_key(std::string_view key) noexcept { return {*this, place::step::key, key, 0}; }
    place at_key(std::string&&) = delete;
    /// The key of a map's entry i: "[key #2]".
    [[nodiscard]] place at_map_key(std::size_t i) noexcept { return {*this, place::step::map_key, {}, i}; }
    /// The value of a map's entry i whose key is not a string: "[#2]".
    [[nodiscard]] place at_map_value(std::size_t i) noexcept { return {*this, place::step::map_value, {}, i}; }

    /// Throws decode_error: "<path>: <what> (at byte <start of the value being read>)".
    [[noreturn]] void fail(std::string_view what) const;

private:
    /// An integer as msgpack holds it: negative values as int64, others as uint64.
    struct raw_integer {
        bool negative;
        std::uint64_t magnitude;  // the value if !negative
        std::int64_t value;       // the value if negative
    };
    raw_integer read_integer();
    [[noreturn]] void out_of_range(const raw_integer& v, std::size_t bytes, bool is_signed) const;
    /// The next value's format byte, with a decode_error at the end of the input.
    std::uint8_t format_byte() const;
    /// Reads `n` bytes of header or body, or fails ("truncated").
    const std::byte* take(std::size_t n, std::string_view what);
    std::uint64_t take_big_endian(std::size_t bytes, std::string_view what);
    /// Starts reading a value: records where it starts, for error messages.
    void begin_value() noexcept { value_start_ = offset_; }
    [[noreturn]] void wrong_kind(std::string_view expected) const;
    void enter(std::size_t elements, std::size_t bytes_each, std::string_view what);
    std::string path() const;

    std::span<const std::byte> in_;
    std::size_t offset_ = 0;
    std::size_t value_start_ = 0;
    std::size_t depth_ = 0;
    std::size_t max_depth_;
    const place* top_ = nullptr;
};

template <std::integral I>
requires(!std::same_as<I, bool>) I reader::integer() {
    if (offset_ < in_.size() && static_cast<std::uint8_t>(in_[offset_]) <= 0x7f) {
        // A positive fixint, the most common integer on the wire: the byte is the value, and
        // 0..127 fits every integer type.
        value_start_ = offset_;
        return static_cast<I>(in_[offset_++]);
    }
    const raw_integer v = read_integer();
    if (v.negative) {
        if constexpr (std::is_signed_v<I>) {
            if (v.value >= static_cast<std::int64_t>(std::numeric_limits<I>::min())) {
                return static_cast<I>(v.value);
            }
        }
    } else if (v.magnitude <= static_cast<std::uint64_t>(std::numeric_limits<I>::max())) {
        return static_cast<I>(v.magnitude);
    }
    out_of_range(v, sizeof(I), std::is_signed_v<I>);
}

}  // namespace troupe::wire
