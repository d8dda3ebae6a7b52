#pragma once
/// \file
/// The parts of an app and of its agents that do not depend on their types: the broker, the
/// replies to asks, and per agent its consumer, the records fetched and not yet taken, what is
/// in flight in each partition, and commits. The typed front ends (app.hpp, agent.hpp,
/// stream.hpp) sit on these.

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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
    /// How many records one fetch takes at most.
    std::size_t fetch_batch = 256;
    /// The actor system the agents run in; none: the app makes its own.
    troupe::system* system = nullptr;
};

namespace detail {

/// The header of a request that wants a reply: the topic to send it to.
inline constexpr std::string_view reply_to_header = "troupe-reply-to";
/// The header that pairs a reply with its request.
inline constexpr std::string_view correlation_header = "troupe-correlation-id";

/// The value of header `name` of `r`, if it has one.
const bytes* header_of(const record& r, std::string_view name) noexcept;

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
    troupe::system& sys() noexcept { return *system_; }
    /// The topic this app instance reads replies from.
    const std::string& reply_topic() const noexcept { return reply_topic_; }

    /// Registers an ask waiting for its reply: a correlation id for the request's header and
    /// the future of the reply's bytes, which fails with troupe::timeout after `timeout`.
    std::pair<std::string, future<bytes>> expect_reply(std::string what, std::chrono::milliseconds timeout);
    /// Forgets the ask `id` (its request could not be sent): no reply is waited for any more.
    void abandon_reply(const std::string& id);
    /// How many asks wait for their replies.
    std::size_t pending_asks() const;

    /// Starts reading the reply topic; stop() ends it and fails the asks still waiting.
    void start();
    void stop();

private:
    struct waiting_ask {
        promise<bytes> reply;
        timer deadline;
    };
    /// The asks waiting for replies, shared with their deadlines' timers (which may run while
    /// the app ends: they hold this, not the app).
    struct ask_table {
        std::mutex lock;
        std::map<std::string, waiting_ask, std::less<>> asks;
        std::uint64_t next = 0;
    };
    task<void> read_replies();
    void complete(const record& r);

    const std::string id_;
    const app_options options_;
    std::unique_ptr<troupe::system> own_system_;
    troupe::system* system_;
    std::shared_ptr<broker> broker_;
    std::string reply_topic_;
    std::unique_ptr<consumer> replies_;

    const std::shared_ptr<ask_table> asks_ = std::make_shared<ask_table>();

    std::optional<promise<void>> stop_;
    future<void> reader_;
};

/// What an agent needs to run besides its function: see the file's comment.
struct agent_settings {
    std::string name;
    std::string topic;
    std::size_t concurrency = 1;
};

class agent_core {
public:
    agent_core(app_core& app, agent_settings settings);

    const std::string& name() const noexcept { return settings_.name; }
    const std::string& topic() const noexcept { return settings_.topic; }
    /// The consumer group it reads in: "<app id>-<agent name>". Every agent sees every record
    /// of its topic; instances of the app share the partitions agent by agent.
    const std::string& group() const noexcept { return group_; }
    std::size_t concurrency() const noexcept { return settings_.concurrency; }
    app_core& app() const noexcept { return *app_; }

    // On the agent's actor (its nursery), while it runs:

    /// The next record of the agent's topic for one of its instances, waiting for a fetch if
    /// none is there; each record goes to one instance.
    task<record_ptr> next_record();
    /// The next record already fetched, or null: next_record() without the wait.
    record_ptr take_fetched() {
        if (fetched_.empty()) {
            return nullptr;
        }
        record_ptr r = std::move(fetched_.front());
        fetched_.pop_front();
        return r;
    }
    /// An instance is done with `r` (it moved past it, threw on it, or it was skipped).
    void ack(const record& r);
    /// A record whose value did not decode: logged with where it is, and acknowledged.
    void skip_bad(const record& r, std::string_view why);
    /// If `request` asked for a reply, sends `value` to where it said.
    void reply(const record& request, bytes value);
    /// Commits, in every partition, what is finished.
    void commit();
    /// Commits every commit interval, until cancelled.
    task<void> commit_every_interval();

    // From the app, around a run:
    void open();
    /// After the run's nursery has ended: the last commit, and the consumer leaves the group.
    void close();

    /// Records taken by instances and acknowledged, since open(). Any thread (relaxed: a count,
    /// nothing is published through it).
    std::uint64_t acknowledged() const noexcept { return acknowledged_.load(std::memory_order_relaxed); }

private:
    offset_tracker& tracker_of(const record& r);
    void wake_waiting();

    app_core* app_;
    agent_settings settings_;
    std::string group_;
    std::unique_ptr<consumer> consumer_;
    std::map<topic_partition, offset_tracker> trackers_;
    // The partition of the last record looked up, and its tracker (map nodes do not move): a
    // run of records of one partition finds it without a lookup.
    std::uint32_t last_partition_ = 0;
    const std::string* last_topic_ = nullptr;
    offset_tracker* last_tracker_ = nullptr;
    std::deque<record_ptr> fetched_;
    bool fetching_ = false;
    std::vector<promise<void>> waiting_;          // instances waiting for the fetch another one made
    std::atomic<std::uint64_t> acknowledged_{0};  // written by the agent's actor only
};

}  // namespace detail
}  // namespace troupe::streams
