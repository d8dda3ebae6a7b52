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
    // Most acks are of the oldest record in flight (one instance, or instances finishing in
    // turn): that one needs no search, and nothing behind it can be acknowledged yet unless a
    // later record was finished first.
    if (!in_flight_.empty() && in_flight_.front().offset == offset) {
        in_flight_.pop_front();
        --unacked_;
        while (!in_flight_.empty() && in_flight_.front().acked) {
            in_flight_.pop_front();
        }
        return;
    }
    const auto it = std::lower_bound(in_flight_.begin(), in_flight_.end(), offset,
                                     [](const entry& e, std::uint64_t o) { return e.offset < o; });
    if (it == in_flight_.end() || it->offset != offset || it->acked) {
        throw error("offset_tracker: offset " + std::to_string(offset) +
                    " is not in flight (not read, or acknowledged already)");
    }
    it->acked = true;
    --unacked_;
    // The front is the oldest in flight: drop the acknowledged run it begins.
    while (!in_flight_.empty() && in_flight_.front().acked) {
        in_flight_.pop_front();
    }
}

}  // namespace troupe::streams
