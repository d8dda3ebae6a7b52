#pragma once
/// \file
/// The parts of an app and of its agents that do not depend on their types: the broker, the
/// replies to asks, and per agent its consumer, the records fetched and not yet taken, what is
/// in flight in each partition, and commits. The typed front ends (app.hpp, agent.hpp,
/// stream.hpp) sit on these.

#include <troupe/async/nursery.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/system.hpp>
#include <troupe/core/timers.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/offset_tracker.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::streams {

/// How an app runs (Faust's settings of the same meaning).
struct app_options {
    /// Where the records live: "memory://" (the process's embedded broker) or another URL
    /// open_broker knows.
    std::string broker = "memory://";
    /// Partitions of a topic that does not say (Faust's topic_partitions).
    std::uint32_t topic_partitions = 8;
    /// How often agents commit what they have finished (Faust's broker_commit_interval).
    std::chrono::milliseconds commit_interval{2800};
    /// An agent also commits each time it has finished this many records since its last
    /// commit (Faust's broker_commit_every), so a busy agent frees the broker's records, and
    /// lets producers held back by its backlog on, without waiting for the interval. 0: only
    /// by the interval.
    std::uint64_t commit_every = 10000;
    /// How many records one fetch takes at most.
    std::size_t fetch_batch = 256;
    /// How long an agent may take, when a rebalance gives one of its partitions to another
    /// instance of the app, to finish the records of it that it has begun (Faust's
    /// broker_rebalance_timeout). Then it commits and gives the partition up; past this it gives
    /// it up anyway, and what it had not finished is read again by the other instance.
    std::chrono::milliseconds rebalance_timeout{60000};
    /// The actor system the agents run in; none: the app makes its own.
    troupe::system* system = nullptr;
    /// A broker to use instead of opening `broker`'s URL (make_embedded_broker(), for tests).
    std::shared_ptr<streams::broker> broker_instance{};
};

/// What a stream does with a record whose value does not decode (always logged with its topic,
/// partition and offset).
enum class bad_value {
    /// Acknowledge it and go on (Faust's behaviour).
    skip,
    /// Stop reading its partition: nothing of it is acknowledged from there on, so the commit
    /// stays before it and it is read again once the agent starts again (after a fix). The
    /// other partitions go on.
    stop_partition,
    /// Send it, bytes as they are, to the dead-letter topic (headers troupe-error,
    /// troupe-topic, troupe-partition, troupe-offset say why and where from), then
    /// acknowledge it.
    dead_letter,
};

/// The policy for bad values, and where dead letters go.
struct bad_value_policy {
    bad_value action = bad_value::skip;
    std::string dead_letter_topic{};  ///< for bad_value::dead_letter
};

namespace detail {

/// The header of a request that wants a reply: the topic to send it to.
inline constexpr std::string_view reply_to_header = "troupe-reply-to";
/// The header that pairs a reply with its request.
inline constexpr std::string_view correlation_header = "troupe-correlation-id";

/// The value of header `name` of `r`, if it has one.
const bytes* header_of(const record& r, std::string_view name) noexcept;

class stream_home;

class app_core {
public:
    app_core(std::string id, app_options options);
    ~app_core();
    app_core(const app_core&) = delete;
    app_core& operator=(const app_core&) = delete;

    const std::string& id() const noexcept { return id_; }
    const app_options& options() const noexcept { return options_; }
    broker& brokerage() noexcept { return *broker_; }
    const std::shared_ptr<broker>& brokerage_ptr() const noexcept { return broker_; }
    /// The embedded broker of the app's channels: its own, in the process, whatever broker_ is.
    const std::shared_ptr<broker>& in_process_ptr() const noexcept { return in_process_; }
    troupe::system& sys() noexcept { return *system_; }
    /// The topic this app instance reads replies from.
    const std::string& reply_topic() const noexcept { return reply_topic_; }

    /// Registers an ask waiting for its reply: its number (in decimal, the correlation id for
    /// the request's header) and the future of the reply (the record, its bytes not copied),
    /// which fails with troupe::timeout after `timeout`, saying `what` timed out.
    std::pair<std::uint64_t, future<record_ptr>> expect_reply(std::shared_ptr<const std::string> what,
                                                              std::chrono::milliseconds timeout);
    /// A correlation id no other request of this app instance has.
    std::string fresh_correlation_id();
    /// Forgets the ask `id` (its request could not be sent): no reply is waited for any more.
    void abandon_reply(std::uint64_t id);
    /// How many asks wait for their replies.
    std::size_t pending_asks() const;

    /// Starts reading the reply topic; stop() ends it and fails the asks still waiting.
    void start();
    void stop();

    /// The app's own work (app.task, app.timer, and the loops of app.stream's streams), run in
    /// a nursery of its own between start_tasks() and stop_tasks(). Added before the start.
    void add_task(std::function<task<void>()> make);
    void add_stream(stream_home& home);
    void start_tasks();
    void stop_tasks();

private:
    struct waiting_ask {
        promise<record_ptr> reply;
        timer deadline;
    };
    /// The asks waiting for replies, shared with their deadlines' timers (which may run while
    /// the app ends: they hold this, not the app).
    struct ask_table {
        std::mutex lock;
        std::unordered_map<std::uint64_t, waiting_ask> asks;  // by number
        std::uint64_t next = 0;
    };
    task<void> read_replies();
    void complete(record_ptr r);

    const std::string id_;
    const app_options options_;
    std::unique_ptr<troupe::system> own_system_;
    troupe::system* system_;
    std::shared_ptr<broker> broker_;
    std::shared_ptr<broker> in_process_ = make_embedded_broker();
    std::string reply_topic_;
    std::unique_ptr<consumer> replies_;

    const std::shared_ptr<ask_table> asks_ = std::make_shared<ask_table>();

    std::optional<promise<void>> stop_;
    future<void> reader_;

    std::vector<std::function<task<void>()>> tasks_;
    std::vector<stream_home*> streams_;
    std::optional<promise<void>> stop_tasks_;
    future<void> tasks_run_;
};

/// One consumer of the topics a stream reads, and the records it has fetched and not yet
/// handed out. Its fetch loop (a task of the stream's actor) keeps a bounded buffer filled; the
/// stream's instances take records from it, each record going to one of them. What they finish
/// is acknowledged here, partition by partition, and committed up to the oldest record still
/// in flight. Touched only by the stream's actor while it runs (the instances and the loops
/// interleave at their awaits, one at a time), and by the owner's thread before and after.
class reader {
public:
    /// A reader of `topics` (in `from`: the app's broker, or its channels') in consumer group
    /// `group`; `what` names it in logs.
    reader(app_core& app, std::shared_ptr<broker> from, std::string group, std::vector<std::string> topics,
           std::string what, bad_value_policy on_bad = {});
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    const std::string& group() const noexcept { return group_; }
    const std::vector<std::string>& topics() const noexcept { return topics_; }
    const std::string& what() const noexcept { return what_; }
    app_core& app() const noexcept { return *app_; }

    /// Joins the group (before the run).
    void open();
    bool is_open() const noexcept { return consumer_ != nullptr; }
    /// After the run: the last commit, and the consumer leaves the group.
    void close();

    // On the stream's actor, while it runs:

    /// Fetches into the buffer whenever it has room, until cancelled.
    task<void> fetch_loop();
    /// Commits every commit interval, until cancelled.
    task<void> commit_every_interval();
    /// Gives up the partitions a rebalance takes from this reader, until cancelled: the records
    /// read of them are finished (for up to the app's rebalance_timeout), then it commits and
    /// releases them.
    task<void> release_loop();
    /// The next record already fetched, or null.
    record_ptr take_fetched() {
        if (fetched_.empty()) {
            return nullptr;
        }
        record_ptr r = std::move(fetched_.front());
        fetched_.pop_front();
        if (room_ && fetched_.size() < batch_) {
            make_room();
        }
        return r;
    }
    /// The next record, waiting for the fetch loop if none is there. Cancelling the wait loses
    /// nothing: the record stays for the next taker.
    task<record_ptr> next_record();
    /// `r` is finished (moved past, thrown on, skipped or acknowledged by hand).
    void ack(const record& r);
    /// A record whose value did not decode: logged with where it is, and then skipped, sent
    /// to the dead-letter topic or its partition stopped, as the policy says.
    void skip_bad(const record& r, std::string_view why);
    /// Commits, in every partition, what is finished.
    void commit();

    /// Records acknowledged since open(). Any thread (relaxed: a count, nothing is published
    /// through it).
    std::uint64_t acknowledged() const noexcept { return acknowledged_.load(std::memory_order_relaxed); }
    /// Completes once acknowledged() reaches `n` (any thread): how tests and tools wait for
    /// an agent to finish what they sent.
    future<void> when_acknowledged(std::uint64_t n);

private:
    /// The tracker of `r`'s partition, made on its first record (from the group's commit).
    offset_tracker& tracker_of(const record& r);
    /// The same, or null if this reader has none (it gave the partition up).
    offset_tracker* find_tracker(const record& r);
    void stop_partition(const topic_partition& tp);
    /// True once every partition of draining_ has finished what it had read when its
    /// revocation began (stopped partitions left out: they never finish).
    bool drained() const;
    task<void> drain();
    void wake_takers();
    void make_room();

    app_core* app_;
    std::shared_ptr<broker> from_;
    std::string group_;
    std::vector<std::string> topics_;
    std::string what_;
    std::size_t batch_;
    bad_value_policy on_bad_;
    std::unique_ptr<consumer> consumer_;
    std::map<topic_partition, offset_tracker> trackers_;
    // The partition of the last record looked up, and its tracker (map nodes do not move): a
    // run of records of one partition finds it without a lookup.
    std::uint32_t last_partition_ = 0;
    const std::string* last_topic_ = nullptr;
    offset_tracker* last_tracker_ = nullptr;
    std::deque<record_ptr> fetched_;
    std::uint64_t finished_since_commit_ = 0;  // acks since the last commit(), for commit_every
    std::set<topic_partition> stopped_;        // by bad_value::stop_partition
    std::vector<promise<void>> takers_;        // instances waiting for records
    std::optional<promise<void>> room_;        // the fetch loop waiting for room in the buffer
    // Partitions being given up, while release_loop waits, each with the offset it had read up
    // to; and release_loop's wait for them to finish that.
    std::map<topic_partition, std::uint64_t> draining_;
    std::optional<promise<void>> drained_;
    std::atomic<std::uint64_t> acknowledged_{0};  // written by the stream's actor only
    std::atomic<bool> watched_{false};            // someone waits in when_acknowledged()
    std::mutex watch_lock_;
    std::vector<std::pair<std::uint64_t, promise<void>>> watchers_;
};

/// Where a stream lives: its root reader, the readers derived from it (through() and
/// group_by() read other topics, each in a group of its own), and the nursery that runs their
/// loops. An agent's, or one of the app's streams.
class stream_home {
public:
    /// A home for a stream named `name` of `topics` (in `from`), reading in group `group`;
    /// `concurrency` instances take its records.
    stream_home(app_core& app, std::shared_ptr<broker> from, std::string name, std::string group,
                std::vector<std::string> topics, std::size_t concurrency, bad_value_policy on_bad = {});
    stream_home(const stream_home&) = delete;
    stream_home& operator=(const stream_home&) = delete;

    const std::string& name() const noexcept { return name_; }
    const std::string& group() const noexcept { return root_.group(); }
    const std::vector<std::string>& topics() const noexcept { return root_.topics(); }
    std::size_t concurrency() const noexcept { return concurrency_; }
    const bad_value_policy& bad_values() const noexcept { return on_bad_; }
    app_core& app() const noexcept { return root_.app(); }
    reader& root() noexcept { return root_; }

    /// Joins the stream's consumer group (on the owner's thread, before run_in): once this
    /// has returned, a rebalance counts this stream among the group's members.
    void open();
    /// Starts the readers' loops in `n` (a nursery on the stream's actor), after open().
    void run_in(troupe::nursery& n);
    /// After the nursery has ended: every reader commits and leaves its group.
    void close();

    /// The reader of `topic` (in `from`) derived from this stream (made, opened and started at
    /// the first call; group "<group>-<topic>"). On the stream's actor, while it runs.
    reader& derive(const std::string& topic, const std::shared_ptr<broker>& from);

    /// Starts `t` in the nursery the stream runs in (a forwarder of through() or group_by()).
    void start(task<void> t);

    /// The wait for room, if the calling actor (the stream's) has had a record held back past
    /// its broker's bound (the app's broker or its channels', broker::when_caller_may_produce()):
    /// the stream awaits it before it gives its next value.
    std::optional<future<void>> room_owed() {
        if (!app().brokerage().owes_room() && !app().in_process_ptr()->owes_room()) [[likely]] {
            return std::nullopt;
        }
        return ask_for_room();
    }

    /// Values finished by the readers the stream's function iterates (the last derived one,
    /// or the root).
    std::uint64_t finished() const noexcept { return counted_.load(std::memory_order_acquire)->acknowledged(); }
    /// Completes once finished() reaches `n` (any thread).
    future<void> when_finished(std::uint64_t n) {
        return counted_.load(std::memory_order_acquire)->when_acknowledged(n);
    }

private:
    std::optional<future<void>> ask_for_room();

    std::string name_;
    std::size_t concurrency_;
    bad_value_policy on_bad_;
    reader root_;
    std::deque<std::unique_ptr<reader>> derived_;  // never shrinks
    std::atomic<reader*> counted_{&root_};         // the one finished() counts
    troupe::nursery* running_ = nullptr;
};

/// What an agent needs to run besides its function: see the file's comment.
struct agent_settings {
    std::string name;
    std::shared_ptr<broker> from;  ///< where its topics are: the app's broker, or its channels'
    std::vector<std::string> topics;
    std::size_t concurrency = 1;
    bad_value_policy on_bad{};
};

/// What the worker's command line knows of a topic, whatever its types.
struct topic_entry {
    std::string name;
    std::uint32_t partitions = 0;
    std::string key_serializer;
    std::string value_serializer;
    /// Sends a value given as text (JSON, or the text itself for a raw type), with a key given
    /// the same way; throws json_error (with where) for text that does not decode.
    std::function<future<record_metadata>(std::string_view value, const std::optional<std::string>& key,
                                          std::optional<std::uint32_t> partition)>
        send_text;
    /// Decodes the same without sending: throws what send_text would.
    std::function<void(std::string_view value, const std::optional<std::string>& key)> check_text;
};

/// An agent's home: its stream's, plus the replies to what asked.
class agent_core : public stream_home {
public:
    agent_core(app_core& app, agent_settings settings);

    /// The agent's name (name() is how logs name it: "agent 'adding'").
    const std::string& agent_name() const noexcept { return agent_name_; }
    /// "streams: ask of agent '<name>'": what an ask of it that times out says, made once.
    const std::shared_ptr<const std::string>& ask_what() const noexcept { return ask_what_; }

    /// If `request` asked for a reply, sends `value` to where it said.
    void reply(const record& request, bytes value);

private:
    std::string agent_name_;
    std::shared_ptr<const std::string> ask_what_;
};

}  // namespace detail
}  // namespace troupe::streams
