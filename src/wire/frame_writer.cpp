// frame_writer: the 4-byte big-endian length is reserved before the payload is appended and
// filled in after, so that an encoder writes the payload in place.

#include <troupe/wire/frame_writer.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace troupe::wire {

frame_writer::frame_writer(std::size_t max_frame) noexcept : max_frame_(std::min(max_frame, max_frame_limit)) {}

std::size_t frame_writer::begin_frame() {
    const std::size_t start = buffer_.size();
    buffer_.resize(start + frame_header_size);
    return start;
}

void frame_writer::end_frame(std::size_t start) {
    const std::size_t length = buffer_.size() - start - frame_header_size;
    if (length > max_frame_) {
        buffer_.resize(start);
        throw frame_error("a frame of " + std::to_string(length) + " bytes is larger than the maximum of " +
                          std::to_string(max_frame_));
    }
    for (std::size_t i = 0; i < frame_header_size; ++i) {
        buffer_[start + i] = static_cast<std::byte>(length >> (8 * (frame_header_size - 1 - i)));
    }
    ++frames_;
}

void frame_writer::write(std::span<const std::byte> payload) {
    if (payload.size() > max_frame_) {
        throw frame_error("a frame of " + std::to_string(payload.size()) + " bytes is larger than the maximum of " +
                          std::to_string(max_frame_));
    }
    const std::size_t start = begin_frame();
    buffer_.insert(buffer_.end(), payload.begin(), payload.end());
    end_frame(start);
}

void frame_writer::clear() noexcept {
    buffer_.clear();
    frames_ = 0;
}

std::vector<std::byte> frame_writer::take() noexcept {
    frames_ = 0;
    return std::exchange(buffer_, {});
}

}  // namespace troupe::wire
