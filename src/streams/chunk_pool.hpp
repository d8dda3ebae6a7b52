#pragma once
/// \file
/// record_chunk and chunk_pool: the chunks of records the embedded broker's partition logs
/// keep their records in, and the pool that reuses the chunks the logs let go of.

#include <troupe/streams/broker.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace troupe::streams::detail {

/// The records of a partition's log, in place, 256 at a time (record_ptrs share the chunk
/// their record is in).
struct record_chunk {
    static constexpr std::size_t records_in_one = 256;
    std::array<record, records_in_one> records;
    /// The chunk the log made after this one: set (under the broker's lock) before the first
    /// record there is published, so a reader that sees the log's end past this chunk finds it
    /// here without the lock. Weak: a record kept long after its log dropped the chunks after
    /// it must not keep them.
    std::weak_ptr<record_chunk> next;
};

/// Chunks the logs have let go of, kept for the next ones the broker makes. A chunk is tens of
/// kilobytes: making one for every 256 appends and freeing it after the commit had the
/// allocator merge the small blocks freed meanwhile each time (a fifth of a pipeline's time).
/// A reused chunk's records keep their bytes until an append overwrites them, so the buffers
/// of a record are freed on the producer's thread, which made them. Chunks come back from
/// whichever thread drops the last record_ptr into them, possibly after the broker has gone:
/// the pool lives as long as its deleters.
class chunk_pool {
public:
    /// A spare chunk of `pool`, or a new one; it goes back to `pool` once the last record_ptr
    /// into it goes (or is freed, if `pool` has enough spares).
    static std::shared_ptr<record_chunk> take(const std::shared_ptr<chunk_pool>& pool);
    chunk_pool() { spares_.reserve(most_spares); }
    ~chunk_pool();
    chunk_pool(const chunk_pool&) = delete;
    chunk_pool& operator=(const chunk_pool&) = delete;

private:
    static constexpr std::size_t most_spares = 8;
    void give_back(record_chunk* c) noexcept;

    std::mutex lock_;
    std::vector<record_chunk*> spares_;
};

}  // namespace troupe::streams::detail
