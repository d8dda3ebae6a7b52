// app_core and agent_core: see include/troupe/streams/detail/app_core.hpp. An agent's state is
// touched only by its own actor while it runs (its instances interleave at their awaits, one at
// a time), and by the app's thread before and after; the replies waiting for asks are shared
// with every thread that asks, under a mutex.

#include <troupe/streams/detail/app_core.hpp>

#include <troupe/async/await.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <unistd.h>
#include <atomic>
#include <string>
#include <utility>

namespace troupe::streams::detail {

const bytes* header_of(const record& r, std::string_view name) noexcept {
    for (const auto& h : r.headers) {
        if (h.name == name) {
            return &h.value;
        }
    }
    return nullptr;
}

namespace {

std::string text_of(const bytes& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// A reply topic no other app instance in this broker uses: Faust's "f-reply-<uuid>".
std::string fresh_reply_topic(const std::string& id) {
    static std::atomic<std::uint64_t> instances{0};
    return id + "-reply-" + std::to_string(::getpid()) + "-" + std::to_string(instances.fetch_add(1) + 1);
}

}  // namespace

// --- app_core --------------------------------------------------------------------------------

app_core::app_core(std::string id, app_options options)
    : id_(std::move(id)), options_(std::move(options)), system_(options_.system) {
    if (id_.empty()) {
        throw error("streams: an app needs an id (its consumer group and the prefix of its topics)");
    }
    if (options_.fetch_batch == 0) {
        throw error("streams: app '" + id_ + "': fetch_batch must be at least 1");
    }
    broker_ = open_broker(options_.broker);
    if (system_ == nullptr) {
        own_system_ = std::make_unique<troupe::system>();
        system_ = own_system_.get();
    }
    reply_topic_ = fresh_reply_topic(id_);
    broker_->create_topic(reply_topic_, 1);
}

app_core::~app_core() {
    stop();
}

std::pair<std::string, future<bytes>> app_core::expect_reply(std::string what, std::chrono::milliseconds timeout) {
    std::string id;
    future<bytes> reply;
    {
        const std::lock_guard guard(asks_->lock);
        id = std::to_string(++asks_->next);
        reply = asks_->asks[id].reply.get_future();
    }
    // The deadline fails the ask unless the reply came first; whichever comes second finds the
    // entry gone.
    timer deadline = system_->timers().after(
        timeout, [table = std::weak_ptr<ask_table>(asks_), id, what = std::move(what), timeout] {
            const auto asks = table.lock();
            if (!asks) {
                return;
            }
            std::optional<promise<bytes>> late;
            {
                const std::lock_guard guard(asks->lock);
                auto it = asks->asks.find(id);
                if (it == asks->asks.end()) {
                    return;
                }
                late.emplace(std::move(it->second.reply));
                asks->asks.erase(it);
            }
            late->set_exception(std::make_exception_ptr(
                troupe::timeout(what + ": no reply within " + std::to_string(timeout.count()) + " ms")));
        });
    {
        const std::lock_guard guard(asks_->lock);
        auto it = asks_->asks.find(id);
        if (it != asks_->asks.end()) {
            it->second.deadline = std::move(deadline);
        }
    }
    return {std::move(id), std::move(reply)};
}

std::size_t app_core::pending_asks() const {
    const std::lock_guard guard(asks_->lock);
    return asks_->asks.size();
}

void app_core::abandon_reply(const std::string& id) {
    std::optional<waiting_ask> found;
    {
        const std::lock_guard guard(asks_->lock);
        auto it = asks_->asks.find(id);
        if (it == asks_->asks.end()) {
            return;
        }
        found.emplace(std::move(it->second));
        asks_->asks.erase(it);
    }
    found->deadline.cancel();
}

void app_core::complete(const record& r) {
    const bytes* id = header_of(r, correlation_header);
    if (id == nullptr) {
        troupe::logger()->warn("streams: app '{}': a record on its reply topic {} at offset {} has no correlation id",
                               id_, reply_topic_, r.offset);
        return;
    }
    std::optional<waiting_ask> found;
    {
        const std::lock_guard guard(asks_->lock);
        auto it = asks_->asks.find(text_of(*id));
        if (it == asks_->asks.end()) {
            return;  // timed out meanwhile
        }
        found.emplace(std::move(it->second));
        asks_->asks.erase(it);
    }
    found->deadline.cancel();
    found->reply.set_value(r.value);
}

task<void> app_core::read_replies() {
    for (;;) {
        std::vector<record_ptr> got = co_await replies_->fetch(options_.fetch_batch);
        for (const auto& r : got) {
            complete(*r);
        }
    }
}

void app_core::start() {
    if (stop_) {
        return;
    }
    replies_ = broker_->subscribe(reply_topic_, {reply_topic_});
    stop_.emplace();
    future<void> stopped = stop_->get_future();
    reader_ = troupe::start_nursery(*system_, [this, stopped](troupe::nursery& n) -> task<void> {
        n.start(read_replies());
        co_await stopped;
        n.cancel();
    });
}

void app_core::stop() {
    if (stop_) {
        stop_->set_value();
        stop_.reset();
        try {
            reader_.get();
        } catch (const std::exception& e) {
            troupe::logger()->error("streams: app '{}': its reply reader ended with {}", id_, e.what());
        }
        replies_->close();
    }
    std::map<std::string, waiting_ask, std::less<>> left;
    {
        const std::lock_guard guard(asks_->lock);
        left.swap(asks_->asks);
    }
    for (auto& [id, ask] : left) {
        ask.deadline.cancel();
        ask.reply.set_exception(
            std::make_exception_ptr(troupe::error("streams: app '" + id_ + "' stopped before the reply came")));
    }
}

// --- agent_core ------------------------------------------------------------------------------

agent_core::agent_core(app_core& app, agent_settings settings)
    : app_(&app), settings_(std::move(settings)), group_(app.id() + "-" + settings_.name) {
    if (settings_.concurrency == 0) {
        throw error("streams: agent '" + settings_.name + "': concurrency must be at least 1");
    }
}

void agent_core::open() {
    last_tracker_ = nullptr;
    trackers_.clear();
    fetched_.clear();
    acknowledged_.store(0, std::memory_order_relaxed);
    consumer_ = app_->brokerage().subscribe(group_, {settings_.topic});
}

void agent_core::close() {
    commit();
    consumer_->close();
}

offset_tracker& agent_core::tracker_of(const record& r) {
    if (last_tracker_ != nullptr && r.partition == last_partition_ && r.topic == *last_topic_) {
        return *last_tracker_;
    }
    const topic_partition tp{r.topic, r.partition};
    auto it = trackers_.find(tp);
    if (it == trackers_.end()) {
        // A partition read for the first time: from the group's committed offset (or, before
        // any commit, from the first record there).
        const auto committed = app_->brokerage().committed(group_, tp);
        it = trackers_.emplace(tp, offset_tracker(committed.value_or(r.offset))).first;
    }
    last_partition_ = it->first.partition;
    last_topic_ = &it->first.topic;
    last_tracker_ = &it->second;
    return it->second;
}

void agent_core::wake_waiting() {
    std::vector<promise<void>> woken;
    woken.swap(waiting_);
    for (auto& p : woken) {
        p.set_value();
    }
}

task<record_ptr> agent_core::next_record() {
    while (fetched_.empty()) {
        if (fetching_) {
            promise<void> turn;
            future<void> fetched = turn.get_future();
            waiting_.push_back(std::move(turn));
            co_await fetched;
            continue;
        }
        fetching_ = true;
        std::vector<record_ptr> got;
        std::exception_ptr failed;
        try {
            // Wait until something is there, then take all that is: the records that came while
            // this actor was being woken make one batch, where a fetch completed by the producer
            // would hold the one record that woke it.
            got = consumer_->poll(app_->options().fetch_batch);
            while (got.empty()) {
                future<void> readable = consumer_->when_readable();
                co_await readable;
                got = consumer_->poll(app_->options().fetch_batch);
            }
        } catch (...) {
            failed = std::current_exception();
        }
        fetching_ = false;
        for (auto& r : got) {
            tracker_of(*r).read(r->offset);
            fetched_.push_back(std::move(r));
        }
        wake_waiting();  // another instance takes the fetch on if this one was cancelled
        if (failed) {
            std::rethrow_exception(failed);
        }
    }
    record_ptr r = std::move(fetched_.front());
    fetched_.pop_front();
    co_return r;
}

void agent_core::ack(const record& r) {
    tracker_of(r).ack(r.offset);
    acknowledged_.store(acknowledged_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void agent_core::skip_bad(const record& r, std::string_view why) {
    troupe::logger()->error("streams: agent '{}': skipped the record at offset {} of {}: {}", settings_.name, r.offset,
                            to_string({r.topic, r.partition}), why);
    ack(r);
}

void agent_core::reply(const record& request, bytes value) {
    const bytes* to = header_of(request, reply_to_header);
    const bytes* id = header_of(request, correlation_header);
    if (to == nullptr || id == nullptr) {
        return;
    }
    outgoing answer;
    answer.topic = text_of(*to);
    answer.value = std::move(value);
    answer.headers.push_back({std::string(correlation_header), *id});
    try {
        app_->brokerage().produce_soon(std::move(answer));
    } catch (const std::exception& e) {
        troupe::logger()->warn("streams: agent '{}': the reply to the record at offset {} of {} was not sent: {}",
                               settings_.name, request.offset, to_string({request.topic, request.partition}), e.what());
    }
}

void agent_core::commit() {
    if (!consumer_) {
        return;
    }
    const std::vector<topic_partition> mine = consumer_->assignment();
    std::vector<std::pair<topic_partition, std::uint64_t>> offsets;
    for (auto& [tp, t] : trackers_) {
        if (t.commit_due() && std::binary_search(mine.begin(), mine.end(), tp)) {
            offsets.emplace_back(tp, t.committable());
        }
    }
    if (offsets.empty()) {
        return;
    }
    try {
        consumer_->commit(offsets);
        for (const auto& [tp, offset] : offsets) {
            trackers_.at(tp).mark_committed(offset);
        }
    } catch (const std::exception& e) {
        troupe::logger()->warn("streams: agent '{}': a commit failed: {}", settings_.name, e.what());
    }
}

task<void> agent_core::commit_every_interval() {
    for (;;) {
        co_await troupe::sleep_for(app_->options().commit_interval);
        commit();
    }
}

}  // namespace troupe::streams::detail
