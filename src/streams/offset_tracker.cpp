#include <troupe/streams/offset_tracker.hpp>

#include <troupe/core/errors.hpp>

#include <algorithm>
#include <string>

namespace troupe::streams {

void offset_tracker::read(std::uint64_t offset) {
    if (offset < next_read_) {
        throw error("offset_tracker: offset " + std::to_string(offset) + " read after offset " +
                    std::to_string(next_read_ - 1) + " (or below the start at " + std::to_string(committed_) +
                    "): a partition's records are read in order");
    }
    in_flight_.push_back({offset, false});
    ++unacked_;
    next_read_ = offset + 1;
}

void offset_tracker::ack(std::uint64_t offset) {
    if (!ack_if_in_flight(offset)) {
        throw error("offset_tracker: offset " + std::to_string(offset) +
                    " is not in flight (not read, or acknowledged already)");
    }
}

bool offset_tracker::ack_behind(std::uint64_t offset) noexcept {
    const auto it = std::lower_bound(in_flight_.begin(), in_flight_.end(), offset,
                                     [](const entry& e, std::uint64_t o) { return e.offset < o; });
    if (it == in_flight_.end() || it->offset != offset || it->acked) {
        return false;
    }
    it->acked = true;
    --unacked_;
    drop_acknowledged_front();  // the front is the oldest in flight: drop the acknowledged run it begins
    return true;
}

}  // namespace troupe::streams
