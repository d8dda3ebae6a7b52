#pragma once
/// \file
/// offset_tracker: how far a consumer may commit in one partition. Records are read in offset
/// order and acknowledged in any order; the committable offset is the next offset to read after
/// the longest run of read records that are all acknowledged, so a commit never passes a record
/// still being processed.
///
///     troupe::streams::offset_tracker t(committed);   // the group's position: next offset to read
///     t.read(10); t.read(11); t.read(14);             // 12 and 13 do not exist (compacted)
///     t.ack(11); t.ack(14);
///     t.committable();                                 // 10: record 10 is still in flight
///     t.ack(10);
///     t.committable();                                 // 15
///
/// Offsets between two records read one after the other are records the partition does not
/// have: a partition's records reach its consumer in order, none left out. So there is no
/// guessing about gaps: an offset is either read (and then in flight until acknowledged) or
/// absent. Not thread-safe: one owner per partition.

#include <cstddef>
#include <cstdint>
#include <deque>

namespace troupe::streams {

class offset_tracker {
public:
    /// A tracker for a partition whose group position is `committed` (the next offset to read).
    explicit offset_tracker(std::uint64_t committed = 0) noexcept : committed_(committed), next_read_(committed) {}

    /// Record `offset` has been read and is in flight. Offsets must increase (troupe::error
    /// otherwise: a partition's records arrive in order); those skipped do not exist.
    void read(std::uint64_t offset);
    /// Record `offset` has been processed. troupe::error if it is not in flight (never read,
    /// or acknowledged before).
    void ack(std::uint64_t offset);
    /// As ack(), but false instead of an error for an offset not in flight.
    bool ack_if_in_flight(std::uint64_t offset) noexcept {
        // Most acks are of the oldest record in flight (one instance, or instances finishing in
        // turn): that one needs no search, and nothing behind it can be acknowledged yet unless
        // a later record was finished first.
        if (!in_flight_.empty() && in_flight_.front().offset == offset) {
            in_flight_.pop_front();
            --unacked_;
            drop_acknowledged_front();
            return true;
        }
        return ack_behind(offset);
    }

    /// The offset a commit may store now: the smallest one in flight, or the next to read if
    /// nothing is in flight. Never less than committed().
    std::uint64_t committable() const noexcept { return in_flight_.empty() ? next_read_ : in_flight_.front().offset; }
    /// True if committable() is past what was committed last.
    bool commit_due() const noexcept { return committable() > committed_; }
    /// The last offset committed (or the one it started from).
    std::uint64_t committed() const noexcept { return committed_; }
    /// Notes that `offset` was committed (a value committable() gave; an older one is ignored).
    void mark_committed(std::uint64_t offset) noexcept {
        if (offset > committed_) {
            committed_ = offset;
        }
    }

    /// The next offset to read: one past the last record read.
    std::uint64_t next_to_read() const noexcept { return next_read_; }
    /// How many records are read but not yet acknowledged.
    std::size_t in_flight() const noexcept { return unacked_; }

private:
    /// ack_if_in_flight() of an offset behind the oldest in flight: a search.
    bool ack_behind(std::uint64_t offset) noexcept;
    void drop_acknowledged_front() noexcept {
        while (!in_flight_.empty() && in_flight_.front().acked) {
            in_flight_.pop_front();
        }
    }

    struct entry {
        std::uint64_t offset;
        bool acked;
    };
    std::uint64_t committed_;
    std::uint64_t next_read_;
    std::deque<entry> in_flight_;  // offset order; the front is never acked
    std::size_t unacked_ = 0;
};

}  // namespace troupe::streams
