#pragma once
/// \file
/// memory_broker: the embedded broker ("memory://"): partitioned logs in this process's
/// memory, consumer groups sharing partitions out among their members, committed offsets,
/// retention by interest (a log frees the records every group of its topic has committed past)
/// and a bound on each partition's backlog that holds producers back.

#include <troupe/core/detail/futex.hpp>
#include <troupe/streams/broker.hpp>

#include "streams/chunk_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace troupe::streams::detail {

class memory_consumer;

/// The broker's lock: a mutex that, when taken, is first tried for a short while before the
/// caller sleeps. Its critical sections are a few hundred instructions (an append, a poll), and
/// a producer and an agent on two cores would otherwise put each other to sleep in the kernel
/// at almost every collision.
class broker_lock {
public:
    void lock() noexcept {
        for (int i = 0; i < 128; ++i) {
            if (m_.try_lock()) {
                return;
            }
            troupe::detail::cpu_relax();
        }
        m_.lock();
    }
    bool try_lock() noexcept { return m_.try_lock(); }
    void unlock() noexcept { m_.unlock(); }

private:
    std::mutex m_;
};

class memory_broker final : public broker, public std::enable_shared_from_this<memory_broker> {
public:
    explicit memory_broker(embedded_broker_options o = {}) : options_(o) {}
    ~memory_broker() override;
    memory_broker(const memory_broker&) = delete;
    memory_broker& operator=(const memory_broker&) = delete;

    void create_topic(const std::string& topic, std::uint32_t partitions) override;
    std::optional<std::uint32_t> partitions(const std::string& topic) const override;
    std::vector<std::string> topics() const override;
    std::uint64_t end_offset(const topic_partition& tp) const override;
    std::uint64_t start_offset(const topic_partition& tp) const override;
    future<record_metadata> produce(outgoing r) override;
    void produce_soon(outgoing r) override;
    std::unique_ptr<consumer> subscribe(const std::string& group, std::vector<std::string> topics) override;
    std::optional<std::uint64_t> committed(const std::string& group, const topic_partition& tp) const override;
    std::optional<future<void>> when_caller_may_produce() override;

private:
    friend class memory_consumer;

    /// A partition's records, in chunks that never move once made. A record_ptr shares the
    /// chunk its record is in, so an append allocates once a chunk, not once a record, and a
    /// chunk the log drops lives on until the last record_ptr into it goes.
    class partition_log {
    public:
        /// The end: the offset the next record gets (under the lock).
        std::uint64_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
        /// The end as a reader without the lock sees it: every record before it is complete,
        /// and so is the `next` link of every chunk it has passed.
        std::uint64_t published_end() const noexcept { return size_.load(std::memory_order_acquire); }
        /// The first offset it still holds (a multiple of chunk_records; size() if it holds none).
        std::uint64_t start() const noexcept { return start_; }
        /// The slot of the record at offset size(), to fill (every field) before publish()
        /// counts it in; a new chunk comes from `pool`.
        record& next_slot(const std::shared_ptr<chunk_pool>& pool);
        void publish() noexcept { size_.store(size() + 1, std::memory_order_release); }
        /// The chunk holding `offset` (start() <= offset, and offset < the end of the last
        /// chunk made), and the offset of its first record.
        std::pair<std::shared_ptr<record_chunk>, std::uint64_t> chunk_of(std::uint64_t offset) const {
            return {chunks_[(offset - base_) / chunk_records], offset - offset % chunk_records};
        }
        /// Drops the chunks that end at or before `floor` (<= size()), moving start() up; they
        /// go to `freed`, to be released once the broker's lock is no longer held.
        void drop_before(std::uint64_t floor, std::vector<std::shared_ptr<const void>>& freed);

        /// The members waiting (a fetch or when_readable) that read this partition and have not
        /// paused it: the ones an append must wake. Empty most of the time a producer runs.
        std::vector<memory_consumer*> watchers;

        /// True if a record may go in now: none waits before it, and the backlog is under its
        /// bound (or the partition overflows).
        bool open() const noexcept { return held.empty() && size_ < limit; }
        /// The end the backlog bound lets the log grow to: the slowest group with a member has
        /// committed up to limit - max_backlog. No limit while no group with a member reads the
        /// topic, or while the partition overflows.
        std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
        /// Set when a producer has waited past the backlog timeout: records go in over the
        /// bound until the readers are back under it.
        bool overflowing = false;
        /// Records held back by the bound, in the order they were produced.
        struct held_record {
            outgoing r;
            promise<record_metadata> to;
            std::chrono::steady_clock::time_point deadline;  // when it goes in anyway
        };
        std::list<held_record> held;
        /// The actors that have had a record held back past max_backlog here, each with the
        /// wait that ends once fewer are held (by when_caller_may_produce()).
        struct owed_room {
            const void* actor;
            std::uint64_t number;  // of its entry in owing_
            promise<void> room;
        };
        std::vector<owed_room> owed;

    private:
        static constexpr std::size_t chunk_records = record_chunk::records_in_one;
        // chunks_[first_] on hold the records from start_ on; the slots before first_ are
        // dropped ones (null), erased once they are half of the vector, so a drop costs O(1)
        // amortised and at() stays one index. base_ is the offset of chunks_[0]'s first record.
        std::vector<std::shared_ptr<record_chunk>> chunks_;
        std::size_t first_ = 0;
        std::uint64_t base_ = 0;
        std::uint64_t start_ = 0;
        // Written by the producers under the lock, read by readers without it: a line of its own,
        // so their reads do not take the rest of the partition from the producers' cache.
        alignas(64) std::atomic<std::uint64_t> size_ = 0;
    };
    struct group_state;
    struct topic_log {
        std::vector<partition_log> partitions;  // made once, never resized: readers keep pointers to them
        std::uint32_t next_in_turn = 0;         // for records with neither key nor partition
        /// Every group that has ever subscribed to the topic (groups_'s nodes never move and are
        /// never removed): together they hold its records until each has committed past them.
        std::vector<const group_state*> readers;
    };
    struct group_state {
        std::vector<memory_consumer*> members;  // in the order they joined
        std::map<topic_partition, std::uint64_t> committed;
        // Who each partition goes to by the last sharing out. The member holding it now (its
        // positions_ have it) is that one, or is being asked to give it up.
        std::map<topic_partition, memory_consumer*> target;
        std::uint64_t generation = 0;
    };
    /// A fetch completed by a change made under the lock, to be completed after it.
    struct delivery {
        promise<std::vector<record_ptr>> to;
        std::vector<record_ptr> records;
    };
    /// The waits a change under the lock ended, completed after unlocking.
    struct completions {
        std::vector<delivery> fetches;
        std::vector<promise<void>> readable;  // when_readable() and when_revoking() waits
        std::vector<std::pair<promise<record_metadata>, record_metadata>> produced;  // held records now in
        std::vector<promise<void>> rooms;  // actors' waits for room (when_caller_may_produce())
        void run();
    };

    const topic_log& topic_of(const std::string& topic) const;           // under lock_; throws if absent
    const partition_log& partition_of(const topic_partition& tp) const;  // under lock_; throws if absent
    partition_log& log_of(const topic_partition& tp);                    // under lock_; tp exists
    /// The topic and partition `r` goes to (picking one if it names none); throws for a topic
    /// or partition that does not exist. Under lock_.
    std::pair<topic_log*, std::uint32_t> place(const outgoing& r);
    /// Appends `r` (its parts moved out) to partition `p` of `log` and serves the members
    /// waiting for it. Under lock_.
    const record& append(topic_log& log, std::uint32_t p, outgoing& r, completions& out);
    /// What put() did with a record: nothing held if it went in, else the future of the record
    /// held back, and whether its partition's hold is past max_backlog.
    struct put_result {
        std::optional<future<record_metadata>> held;
        bool hold_is_full = false;
    };
    /// Takes the lock and appends `r` (its metadata into `where`, if given) or holds it back:
    /// the two produce calls. Throws for a topic or partition that does not exist.
    put_result put(outgoing& r, completions& out, record_metadata* where);
    /// Holds `r` back until partition `p` of `log` has room (or the backlog timeout passes):
    /// the future completes once it is in. Under lock_.
    future<record_metadata> hold(topic_log& log, std::uint32_t p, outgoing r);
    /// Sets the backlog limit of partition `p` of the topic `name` from its groups' commits,
    /// and appends the records held back that now fit. Under lock_.
    void set_limit(const std::string& name, topic_log& log, std::uint32_t p, completions& out);
    void set_limits(const std::string& name, completions& out);  // every partition of the topic
    /// The slowest group with a member that reads partition `p` of `log`, and the offset it has
    /// committed up to there (a group without a commit there reads from the start); null if no
    /// group with a member reads it. Under lock_.
    std::pair<const group_state*, std::uint64_t> slowest_reader(const std::string& name, const topic_log& log,
                                                                std::uint32_t p) const;
    /// "group 'g' has committed up to offset n": the slowest group with a member that holds
    /// partition `p` back (for warnings). Under lock_.
    std::string behind(const std::string& name, const topic_log& log, std::uint32_t p) const;
    void share_out(group_state& g, completions& out);  // under lock_
    /// Drops the chunks of `tp` that every group reading its topic has committed past and no
    /// member of them still reads in (under lock_; `freed` is released after it).
    void drop_finished(const topic_partition& tp, std::vector<std::shared_ptr<const void>>& freed);
    void serve_waiting(memory_consumer& m, completions& out);  // under lock_
    /// `m` gives up `tp` (released, left, or too slow to): it goes to its target, if another
    /// member, from the group's committed offset. Under lock_.
    void hand_over(group_state& g, memory_consumer& m, const topic_partition& tp, completions& out);
    /// Hands over every partition whose member kept it past the rebalance timeout, and lets in
    /// the records held back past the backlog timeout: the loop of timer_, started with the
    /// first revocation or the first record held back.
    void keep_deadlines();
    /// Starts timer_ if it has not started, and has it look at the deadlines again. Under lock_.
    void wake_timer();

    const embedded_broker_options options_;
    const std::shared_ptr<chunk_pool> chunks_ = std::make_shared<chunk_pool>();
    mutable broker_lock lock_;
    std::map<std::string, topic_log, std::less<>> topics_;
    std::map<std::string, group_state, std::less<>> groups_;
    // The topic the last append went to (map nodes never move, topics are never removed): a
    // producer sending to one topic finds it without a lookup.
    const std::string* last_name_ = nullptr;
    topic_log* last_log_ = nullptr;
    // Revocations and held records past their deadlines: timer_ waits on deadline_ for the next
    // one (or for a new one), under lock_, until the broker goes.
    std::condition_variable_any deadline_;
    // The actors (by cell) that have had a record held back past max_backlog, and the wait
    // for room there, until they take it or the room comes; actors_owing_room_ is its size,
    // read without the lock (an agent asks before every value, and nearly always nobody owes).
    struct owing_entry {
        std::uint64_t number;
        future<void> room;
    };
    std::map<const void*, owing_entry> owing_;
    std::uint64_t owing_numbers_ = 0;
    std::thread timer_;
    bool ending_ = false;
};

class memory_consumer final : public consumer {
public:
    memory_consumer(std::shared_ptr<memory_broker> b, std::string group, std::vector<std::string> topics)
        : broker_(std::move(b)), group_(std::move(group)), topics_(std::move(topics)) {}
    ~memory_consumer() override { close(); }
    memory_consumer(const memory_consumer&) = delete;
    memory_consumer& operator=(const memory_consumer&) = delete;

    std::vector<topic_partition> assignment() const override;
    std::uint64_t generation() const override;
    std::vector<topic_partition> revoking() const override;
    future<void> when_revoking() override;
    void release(const std::vector<topic_partition>& tps) override;
    future<std::vector<record_ptr>> fetch(std::size_t max) override;
    std::vector<record_ptr> poll(std::size_t max) override;
    future<void> when_readable() override;
    void commit(const std::vector<std::pair<topic_partition, std::uint64_t>>& offsets) override;
    void pause(const topic_partition& tp) override;
    void resume(const topic_partition& tp) override;
    void close() override;

private:
    friend class memory_broker;

    /// Where the member reads a partition it holds. The broker makes one when it gives the
    /// member the partition and drops it when it takes it away, under its lock; the member
    /// reads through it without the lock (see poll()).
    struct cursor {
        explicit cursor(memory_broker::partition_log* l, std::uint64_t at) : log(l), position(at) {}
        memory_broker::partition_log* const log;
        /// The next offset to read: written by the member's reads, read by the broker's drops
        /// (a chunk the member still reads in is not dropped).
        std::atomic<std::uint64_t> position;
        /// The chunk holding `position`, or the one that ends at it (expired: not found yet, or
        /// dropped since), and the offset of its first record. Weak: the member's place keeps
        /// no chunk (nor the objects in its records) past the commits that drop it. Only the
        /// member's reads touch these (a fetch served by a producer reads for the member while
        /// it waits).
        std::weak_ptr<record_chunk> chunk;
        std::uint64_t base = 0;
    };
    /// The partitions as the member's reads see them: taken from positions_ and the partitions
    /// held back under the broker's lock, when changes_ says they have changed.
    struct viewed {
        std::shared_ptr<cursor> at;
        bool held_back = false;
    };

    /// Gives the member `tp`, to read from `offset`, or takes it away; pause, resume and
    /// revocations count as changes too (changed()). Under the broker's lock.
    void assign(const topic_partition& tp, std::uint64_t offset);
    void unassign(const topic_partition& tp);
    void changed() noexcept { changes_.fetch_add(1, std::memory_order_release); }
    /// Makes view_ what positions_ and the partitions held back are now (under the broker's lock).
    void sync();
    /// Moves `c` up to its log's start if it is below it, and finds its chunk, which it
    /// returns (null if the log holds none yet). Under the broker's lock.
    static std::shared_ptr<record_chunk> locate(cursor& c);
    /// Adds up to `max` records (in all) to `records` from where this member reads,
    /// partitions taken in turn. Without the broker's lock (`locked` false) it reads only
    /// through chunks it has found and returns false if a partition needs the lock to go on.
    bool take(std::vector<record_ptr>& records, std::size_t max, bool locked);
    /// True if take() would find a record (under the broker's lock).
    bool has_records() const;
    /// True if take() skips `tp`: paused, or being revoked (under the broker's lock).
    bool held_back(const topic_partition& tp) const {
        return (!paused_.empty() && paused_.count(tp) != 0) || (!revoking_.empty() && revoking_.count(tp) != 0);
    }
    /// True while a fetch or a when_readable() of it waits.
    bool waits() const noexcept { return waiting_.has_value() || readable_.has_value(); }
    /// Sets waits_ from waits(), after waiting_ or readable_ changed (under the broker's lock).
    void note_waits() noexcept { waits_.store(waits(), std::memory_order_release); }
    /// Puts it among the watchers of its partitions that are not paused, or takes it off all it
    /// watches (under the broker's lock).
    void watch();
    void unwatch();
    bool reads(const std::string& topic) const;

    const std::shared_ptr<memory_broker> broker_;
    const std::string group_;
    const std::vector<std::string> topics_;
    // Under the broker's lock:
    std::map<topic_partition, std::shared_ptr<cursor>> positions_;  // the assignment, and where it reads each
    std::set<topic_partition> paused_;
    // Partitions of positions_ being revoked, each with when it goes anyway.
    std::map<topic_partition, std::chrono::steady_clock::time_point> revoking_;
    std::optional<promise<void>> revoke_wait_;                 // a when_revoking()
    std::optional<promise<std::vector<record_ptr>>> waiting_;  // a fetch
    std::size_t waiting_max_ = 0;
    std::optional<promise<void>> readable_;  // a when_readable()
    std::vector<memory_broker::partition_log*> watched_;
    std::uint64_t generation_ = 0;
    bool closed_ = false;
    // Bumped under the lock by every change to positions_'s partitions, paused_, revoking_ or
    // closed_; and waits() as the member's own thread may read it without the lock.
    std::atomic<std::uint64_t> changes_ = 0;
    std::atomic<bool> waits_ = false;
    // The member's reads' own (or, while it waits, under the lock):
    std::vector<viewed> view_;
    std::uint64_t seen_ = std::numeric_limits<std::uint64_t>::max();  // the changes_ view_ is of
    std::size_t first_ = 0;                                           // the partition of view_ the next take starts at
};

}  // namespace troupe::streams::detail
