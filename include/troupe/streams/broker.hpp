#pragma once
/// \file
/// broker: where a stream app's records live. Topics are divided into partitions; a partition
/// is an ordered log in which every record has an offset. Consumers join consumer groups: the
/// members of a group share the partitions of the topics they read, each partition read by
/// one member, and the group stores how far it has come in each partition (its committed
/// offset: the next offset to read). A broker may free the records that every group reading a
/// topic has committed past; start_offset() says where a partition's log begins now. This is
/// the shape of Kafka and of NATS JetStream, so an app's code does not change with the broker.
///
///     auto b = troupe::streams::open_broker("memory://");   // the process's embedded broker
///     b->create_topic("orders", 4);
///     auto where = b->produce({.topic = "orders", .key = bytes_of("alice"), .value = bytes_of("1")}).get();
///     auto c = b->subscribe("billing", {"orders"});          // a member of the group "billing"
///     for (const auto& r : c->fetch(100).get()) { ...; }     // waits until there is a record
///     c->when_readable().get();                               // or: wait, then take what is there
///     for (const auto& r : c->poll(100)) { ...; }
///     c->commit({{{"orders", where.partition}, where.offset + 1}});

#include <troupe/core/future.hpp>

#include <atomic>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::streams {

/// A record's key, value or header value: bytes, encoded by a codec.
using bytes = std::vector<std::byte>;

/// The bytes of `text`, for keys and values in tests and tools.
bytes bytes_of(std::string_view text);

/// One partition of one topic.
struct topic_partition {
    std::string topic;
    std::uint32_t partition = 0;
    auto operator<=>(const topic_partition&) const = default;
};

/// "orders/3", as logs and errors name a partition.
std::string to_string(const topic_partition& tp);

/// A named value travelling with a record.
struct header {
    std::string name;
    bytes value;
    bool operator==(const header&) const = default;
};

/// A record as a partition stores it and a consumer reads it.
struct record {
    std::string topic;
    std::uint32_t partition = 0;
    std::uint64_t offset = 0;
    std::int64_t timestamp_ms = 0;  ///< milliseconds since the epoch (given, or the time of produce)
    bytes key;
    bytes value;
    std::vector<header> headers;
    /// A value kept as an object instead of bytes (a channel's: its type is the channel's
    /// value type); only brokers in the process (memory://) carry it.
    std::shared_ptr<const void> object{};
};
/// Records are shared between the log and every consumer that reads them, never copied.
using record_ptr = std::shared_ptr<const record>;

/// A record to append.
struct outgoing {
    std::string topic;
    /// The partition; if none, the key's hash picks one, and a record without a key goes to the
    /// partitions in turn.
    std::optional<std::uint32_t> partition{};
    bytes key{};
    bytes value{};
    std::vector<header> headers{};
    std::optional<std::int64_t> timestamp_ms{};  ///< if none, the time of produce
    std::shared_ptr<const void> object{};        ///< see record::object
};

/// Where a produced record went.
struct record_metadata {
    std::string topic;
    std::uint32_t partition = 0;
    std::uint64_t offset = 0;
    std::int64_t timestamp_ms = 0;
};

/// The partition a key goes to among `partitions`: a hash of its bytes (32-bit FNV-1a) that
/// every process and every broker computes alike.
std::uint32_t partition_for_key(const bytes& key, std::uint32_t partitions) noexcept;

class consumer;

/// A broker: topics, producing into them, and consumer groups reading them. Thread-safe.
class broker {
public:
    virtual ~broker() = default;

    /// Creates `topic` with `partitions` partitions (at least 1). Creating it again with the
    /// same count does nothing; with another count it is a troupe::error.
    virtual void create_topic(const std::string& topic, std::uint32_t partitions) = 0;
    /// The partition count of `topic`; none if it does not exist.
    virtual std::optional<std::uint32_t> partitions(const std::string& topic) const = 0;
    /// The names of all topics, sorted.
    virtual std::vector<std::string> topics() const = 0;
    /// The offset the next record of `tp` will get (its log's end); troupe::error if no such
    /// partition.
    virtual std::uint64_t end_offset(const topic_partition& tp) const = 0;
    /// The offset of the first record `tp` still holds (its log's start): 0 until the broker
    /// frees records that every group reading the topic has committed past, end_offset() if it
    /// holds none. end_offset() - start_offset() records are held. troupe::error if no such
    /// partition.
    virtual std::uint64_t start_offset(const topic_partition& tp) const = 0;

    /// Appends a record to its topic. The future gives where it went once the broker holds it;
    /// it fails with troupe::error for a topic that does not exist or a partition out of range.
    /// A broker that bounds what its readers may fall behind holds the record back while its
    /// partition is full: the future completes once it is in (a producer that waits for it is
    /// held back with it), and records keep their order. The embedded broker holds back at most
    /// as many records again as its bound: past that, a call on a thread of its own (not an
    /// actor's) waits until its record is in, so a producer that drops its futures cannot fill
    /// memory (Kafka's send() blocks when its buffer is full).
    virtual future<record_metadata> produce(outgoing r) = 0;
    /// Appends a record as produce() does, without a future of where it went (a producer of
    /// many records that need not know each one's offset saves making one per record). Throws
    /// troupe::error at once for a topic that does not exist or a partition out of range. A
    /// broker that appends over a network may still be sending the record when this returns;
    /// a failure it meets after that is not reported to the caller: use produce() where that
    /// matters. Where a broker holds the record back (see produce()), this waits until it is
    /// in, except on an actor's thread (an agent's), which it never blocks: there the record is
    /// held back as produce() holds it (and the agent waits before its next value: see
    /// when_caller_may_produce()). The default calls produce() and throws its error if it
    /// failed at once.
    virtual void produce_soon(outgoing r);
    /// For a producer on an actor's thread, which produce() and produce_soon() never block: if
    /// the calling actor has had a record held back with max_backlog records already held
    /// before it in that partition, the wait until that partition holds fewer again (taken
    /// once: the next call gives nothing, until another such record); else nothing. An agent
    /// awaits it before it takes its next value, so an agent that drops send()'s futures, or
    /// calls send_soon(), in a loop cannot fill memory either. The default gives nothing (a
    /// broker that holds nothing back).
    virtual std::optional<future<void>> when_caller_may_produce();
    /// False while no actor owes room (when_caller_may_produce() would give nothing to any):
    /// what an agent reads before every value, one relaxed load.
    bool owes_room() const noexcept { return actors_owing_room_.load(std::memory_order_relaxed) != 0; }

    /// A new member of consumer group `group`, reading `topics` (which must exist). The group's
    /// partitions are shared out again among its members, this one included.
    virtual std::unique_ptr<consumer> subscribe(const std::string& group, std::vector<std::string> topics) = 0;
    /// What `group` has committed for `tp`: the next offset it will read; none before its
    /// first commit.
    virtual std::optional<std::uint64_t> committed(const std::string& group, const topic_partition& tp) const = 0;

protected:
    /// How many actors owe room: kept by a broker that holds records back (see
    /// when_caller_may_produce()); an actor reads its own change, its turns being ordered.
    std::atomic<std::size_t> actors_owing_room_{0};
};

/// One member of a consumer group. Its methods may be called from any thread, one fetch at a
/// time.
class consumer {
public:
    virtual ~consumer() = default;

    /// The partitions this member reads now, sorted (those being revoked included).
    virtual std::vector<topic_partition> assignment() const = 0;
    /// How often the group's partitions have been shared out (grows with every change).
    virtual std::uint64_t generation() const = 0;

    /// Up to `max` records (at least 1) of this member's partitions, each partition's in
    /// order, from where it has read: on being given a partition, from the group's committed
    /// offset, or the partition's start (broker::start_offset) if there is none. The future
    /// completes once at least one record is there. It fails with troupe::error if this member leaves the group
    /// meanwhile, or if another fetch of it is still waiting.
    virtual future<std::vector<record_ptr>> fetch(std::size_t max) = 0;

    /// Up to `max` records (at least 1) of this member's partitions that are there now, taken
    /// as fetch() takes them, without waiting: none if there is none. With when_readable(), a
    /// reader that takes its records when it runs rather than when they arrive, so those that
    /// came meanwhile make one batch. troupe::error if this member has left the group, or while
    /// a fetch of it waits.
    virtual std::vector<record_ptr> poll(std::size_t max) = 0;
    /// A future that completes (with nothing: it takes no record) once poll() would find a
    /// record, at once if it would now. By the time poll() runs there may be none after all
    /// (the partition went to another member, or was paused): wait again. While one wait is
    /// pending, another call gives the same wait. It fails with troupe::error if this member
    /// leaves the group meanwhile, or while a fetch of it waits. A broker wakes the waiter once
    /// per wait, not once per record.
    virtual future<void> when_readable() = 0;

    /// Stores the group's position in these partitions (each the next offset to read), which
    /// must be partitions of this member, and not past their end. troupe::error otherwise. An
    /// offset below the partition's start (records already freed) is stored as the start:
    /// the group reads again from the first record there is, as Kafka's "earliest" would.
    virtual void commit(const std::vector<std::pair<topic_partition, std::uint64_t>>& offsets) = 0;

    /// The partitions the group is taking from this member to give to another (a rebalance),
    /// sorted. The member gets no more records of them; it finishes those it has, commits, and
    /// gives the partitions up with release(). Until then the member they go to waits for them,
    /// so no record is read by two members at once and none is read again for want of a commit.
    /// A member that does not release them within the broker's rebalance timeout loses them
    /// anyway (the memory broker's: embedded_broker_options::rebalance_timeout).
    virtual std::vector<topic_partition> revoking() const = 0;
    /// A future that completes once revoking() is not empty, at once if it is not now. While
    /// one wait is pending, another call gives the same wait. It fails with troupe::error if
    /// this member leaves the group meanwhile.
    virtual future<void> when_revoking() = 0;
    /// Gives up `tps`, partitions of revoking() (others are ignored): each goes to the member
    /// the group gave it to, which reads it from the group's committed offset.
    virtual void release(const std::vector<topic_partition>& tps) = 0;

    /// Stops fetching from `tp` until resume(): a slow reader of one partition holds back only
    /// that partition. Both do nothing for a partition this member does not read.
    virtual void pause(const topic_partition& tp) = 0;
    virtual void resume(const topic_partition& tp) = 0;

    /// Leaves the group (its partitions go to the other members); a waiting fetch fails.
    /// Idempotent; the destructor does it too.
    virtual void close() = 0;
};

/// The broker at `url`: "memory://" is this process's embedded broker (every call gives the
/// same one), "memory://name" another embedded broker of that name. troupe::error for any other
/// URL, naming the schemes there are. An embedded broker keeps a topic's records until every
/// group that has subscribed to it has committed past them (freeing them 256 at a time), and
/// all of them while no group has: records wait for an agent that starts later. It holds
/// producers back while a partition's readers are embedded_broker_options::max_backlog records
/// behind.
std::shared_ptr<broker> open_broker(std::string_view url);
/// How an embedded broker runs.
struct embedded_broker_options {
    /// How long a member of a group may keep partitions being revoked from it (consumer::
    /// revoking()) before they go to their new member anyway (Faust's broker_rebalance_timeout).
    std::chrono::milliseconds rebalance_timeout{60000};
    /// How many records a partition may hold that a group with a member has not committed
    /// past: a record that would make more waits (produce()'s future completes once it is in;
    /// produce_soon() waits, and so does produce() once as many records again are held back,
    /// except on an actor's thread), so memory stays flat when producers outrun the agents. The
    /// slowest group sets the pace; groups without a member (gone for good, or not started)
    /// hold nobody back, nor does a topic no group reads. 0: no bound.
    std::uint64_t max_backlog = 65536;
    /// How long a record may wait for room. Past it the broker stops holding the partition's
    /// producers back, with a warning naming the group that is behind, until its readers are
    /// back under the bound: a reader that is stuck for good (or a cycle of agents each waiting
    /// for the other) slows producers down, but neither hangs them nor loses a record.
    std::chrono::milliseconds backlog_timeout{60000};
};

/// A new embedded broker of its own, reachable only through what this gives (no URL opens it),
/// and gone with the last reference: for tests and the test kit.
std::shared_ptr<broker> make_embedded_broker(embedded_broker_options o = {});

}  // namespace troupe::streams
