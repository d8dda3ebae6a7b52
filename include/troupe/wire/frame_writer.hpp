#pragma once
/// \file
/// frame_writer: length-prefixed frames (a 4-byte big-endian payload length, then the payload),
/// appended to one buffer so that several small frames go out in one write.

#include <troupe/wire/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace troupe::wire {

/// The size of a frame's length prefix.
inline constexpr std::size_t frame_header_size = 4;
/// The largest payload a frame reader or writer accepts unless told otherwise (16 MiB).
inline constexpr std::size_t default_max_frame = std::size_t{16} << 20;
/// The largest payload a 4-byte length can describe.
inline constexpr std::size_t max_frame_limit = 0xffff'ffff;

/// Appends frames to a buffer; the buffer is what a transport writes, then clears.
class frame_writer {
public:
    /// Writes frames of at most `max_frame` payload bytes (clamped to max_frame_limit).
    explicit frame_writer(std::size_t max_frame = default_max_frame) noexcept;

    /// Appends one frame carrying `payload`. Throws frame_error (and appends nothing) if it is
    /// larger than max_frame(): the peer would close the connection on it.
    void write(std::span<const std::byte> payload);
    /// Appends one frame whose payload `fill(std::vector<std::byte>& out)` appends to `out` (an
    /// encoder writing in place: no copy). If `fill` throws or the payload is too large
    /// (frame_error), nothing is appended.
    template <class Fill>
    void write_with(Fill&& fill);

    /// The frames written since the last clear(), back to back.
    std::span<const std::byte> pending() const noexcept { return buffer_; }
    /// How many frames pending() holds.
    std::size_t frames() const noexcept { return frames_; }
    /// True if nothing is pending.
    bool empty() const noexcept { return buffer_.empty(); }
    /// Forgets the pending frames (after they were written), keeping the buffer's capacity.
    void clear() noexcept;
    /// Moves the pending frames out; the writer starts empty.
    std::vector<std::byte> take() noexcept;
    /// The largest payload this writer writes.
    std::size_t max_frame() const noexcept { return max_frame_; }

private:
    /// Reserves room for a header; returns where the frame starts.
    std::size_t begin_frame();
    /// Fills in the header of the frame at `start`, or drops the frame if it is too large.
    void end_frame(std::size_t start);

    std::vector<std::byte> buffer_;
    std::size_t frames_ = 0;
    std::size_t max_frame_;
};

template <class Fill>
void frame_writer::write_with(Fill&& fill) {
    const std::size_t start = begin_frame();
    try {
        fill(buffer_);
    } catch (...) {
        buffer_.resize(start);
        throw;
    }
    end_frame(start);
}

}  // namespace troupe::wire
