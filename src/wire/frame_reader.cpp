// frame_reader: one buffer holds the bytes not yet returned; the frames next() returns are
// views into it, which is why only feed() and prepare() (never next()) move or grow it.

#include <troupe/wire/frame_reader.hpp>

#include <algorithm>
#include <cstring>

namespace troupe::wire {

frame_reader::frame_reader(std::size_t max_frame) noexcept : max_frame_(std::min(max_frame, max_frame_limit)) {}

void frame_reader::check_open() const {
    if (closed()) {
        throw frame_error("the frame stream is closed: " + error_);
    }
}

void frame_reader::compact() noexcept {
    if (start_ == 0) {
        return;
    }
    const std::size_t held = end_ - start_;
    if (held > 0) {
        std::memmove(buffer_.data(), buffer_.data() + start_, held);
    }
    start_ = 0;
    end_ = held;
}

void frame_reader::feed(std::span<const std::byte> chunk) {
    check_open();
    compact();
    buffer_.resize(end_);
    buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
    end_ = buffer_.size();
}

std::span<std::byte> frame_reader::prepare(std::size_t n) {
    check_open();
    compact();
    buffer_.resize(end_ + n);
    return {buffer_.data() + end_, n};
}

void frame_reader::commit(std::size_t n) {
    end_ = std::min(end_ + n, buffer_.size());
}

std::optional<std::span<const std::byte>> frame_reader::next() {
    check_open();
    if (buffered() < frame_header_size) {
        return std::nullopt;
    }
    std::size_t length = 0;
    for (std::size_t i = 0; i < frame_header_size; ++i) {
        length = (length << 8) | static_cast<std::uint8_t>(buffer_[start_ + i]);
    }
    if (length > max_frame_) {
        error_ = "a frame of " + std::to_string(length) + " bytes is larger than the maximum of " +
                 std::to_string(max_frame_);
        buffer_.clear();
        buffer_.shrink_to_fit();
        start_ = end_ = 0;
        throw frame_error(error_);
    }
    if (buffered() - frame_header_size < length) {
        return std::nullopt;
    }
    const std::span<const std::byte> payload(buffer_.data() + start_ + frame_header_size, length);
    start_ += frame_header_size + length;
    return payload;
}

}  // namespace troupe::wire
