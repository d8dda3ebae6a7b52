#pragma once
/// \file
/// frame_reader: cuts a byte stream, fed in chunks split anywhere, into the frames that
/// frame_writer wrote (a 4-byte big-endian payload length, then the payload).

#include <troupe/wire/errors.hpp>
#include <troupe/wire/frame_writer.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace troupe::wire {

/// Reassembles frames from a stream. Holds at most the bytes fed and not yet returned; a
/// length above max_frame() is never allocated: it closes the reader with frame_error.
class frame_reader {
public:
    /// Accepts frames of at most `max_frame` payload bytes (clamped to max_frame_limit).
    explicit frame_reader(std::size_t max_frame = default_max_frame) noexcept;

    /// Adds the next bytes of the stream. Invalidates the frames next() returned. Throws
    /// frame_error if the reader is closed.
    void feed(std::span<const std::byte> chunk);
    /// Room for the next `n` bytes of the stream, to read into directly (instead of feed());
    /// then commit() how many were read. Invalidates the frames next() returned. Throws
    /// frame_error if the reader is closed.
    std::span<std::byte> prepare(std::size_t n);
    /// Adds the first `n` bytes of the span prepare() gave (n is at most its size).
    void commit(std::size_t n);

    /// The next complete frame's payload, or nullopt if more bytes are needed. The span stays
    /// valid until the next feed() or prepare(). Throws frame_error, and closes the reader, if
    /// the next frame's length is above max_frame().
    std::optional<std::span<const std::byte>> next();

    /// Bytes held: fed, and not yet returned as frames.
    std::size_t buffered() const noexcept { return end_ - start_; }
    /// True after a frame_error: the stream cannot be resynchronised.
    bool closed() const noexcept { return !error_.empty(); }
    /// The largest payload this reader accepts.
    std::size_t max_frame() const noexcept { return max_frame_; }

private:
    void check_open() const;
    /// Moves the bytes not yet returned to the front of the buffer.
    void compact() noexcept;

    std::vector<std::byte> buffer_;
    std::size_t start_ = 0;  // the first byte not yet returned
    std::size_t end_ = 0;    // one past the last byte fed (buffer_ may be larger after prepare())
    std::size_t max_frame_;
    std::string error_;  // why the reader closed
};

}  // namespace troupe::wire
