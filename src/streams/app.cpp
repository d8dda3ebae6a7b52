// app_core and agent_core: see include/troupe/streams/detail/app_core.hpp. An agent's state is
// touched only by its own actor while it runs (its instances interleave at their awaits, one at
// a time), and by the app's thread before and after; the replies waiting for asks are shared
// with every thread that asks, under a mutex.

#include <troupe/streams/detail/app_core.hpp>

#include <troupe/async/await.hpp>
#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <unistd.h>
#include <algorithm>
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
    broker_ = options_.broker_instance ? options_.broker_instance : open_broker(options_.broker);
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

std::string app_core::fresh_correlation_id() {
    const std::lock_guard guard(asks_->lock);
    return reply_topic_ + "-" + std::to_string(++asks_->next);
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
    std::size_t uncommitted = 0;
    for (;;) {
        std::vector<record_ptr> got = co_await replies_->fetch(options_.fetch_batch);
        for (const auto& r : got) {
            complete(*r);
        }
        // Nobody reads a reply twice, but a broker that frees what its groups have committed
        // past (memory:// does) keeps every reply until this group commits: once a batch's worth.
        uncommitted += got.size();
        if (uncommitted >= options_.fetch_batch) {
            replies_->commit({{{reply_topic_, 0}, got.back()->offset + 1}});
            uncommitted = 0;
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
    stop_tasks();
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

// --- the app's own tasks --------------------------------------------------------------------

void app_core::add_task(std::function<task<void>()> make) {
    tasks_.push_back(std::move(make));
}

void app_core::add_stream(stream_home& home) {
    streams_.push_back(&home);
}

void app_core::start_tasks() {
    if (stop_tasks_ || (tasks_.empty() && streams_.empty())) {
        return;
    }
    for (stream_home* home : streams_) {
        home->open();
    }
    stop_tasks_.emplace();
    future<void> stopped = stop_tasks_->get_future();
    tasks_run_ = troupe::start_nursery(*system_, [this, stopped](troupe::nursery& n) -> task<void> {
        for (stream_home* home : streams_) {
            home->run_in(n);
        }
        for (auto& make : tasks_) {
            n.start(make());
        }
        co_await stopped;
        n.cancel();
    });
}

void app_core::stop_tasks() {
    if (!stop_tasks_) {
        return;
    }
    stop_tasks_->set_value();
    stop_tasks_.reset();
    try {
        tasks_run_.get();
    } catch (const std::exception& e) {
        troupe::logger()->error("streams: app '{}': its tasks ended with {}", id_, e.what());
    }
    for (stream_home* home : streams_) {
        home->close();
    }
}

// --- reader ----------------------------------------------------------------------------------

reader::reader(app_core& app, std::shared_ptr<broker> from, std::string group, std::vector<std::string> topics,
               std::string what, bad_value_policy on_bad)
    : app_(&app),
      from_(std::move(from)),
      group_(std::move(group)),
      topics_(std::move(topics)),
      what_(std::move(what)),
      batch_(app.options().fetch_batch),
      on_bad_(std::move(on_bad)) {
    if (on_bad_.action == bad_value::dead_letter && on_bad_.dead_letter_topic.empty()) {
        throw error("streams: " + what_ + ": bad values go to a dead-letter topic, but none is named");
    }
}

void reader::open() {
    last_tracker_ = nullptr;
    trackers_.clear();
    fetched_.clear();
    stopped_.clear();
    acknowledged_.store(0, std::memory_order_relaxed);
    if (on_bad_.action == bad_value::dead_letter) {
        app_->brokerage().create_topic(on_bad_.dead_letter_topic, app_->options().topic_partitions);
    }
    consumer_ = from_->subscribe(group_, topics_);
}

void reader::close() {
    if (!consumer_) {
        return;
    }
    commit();
    consumer_->close();
    consumer_.reset();
    takers_.clear();
    room_.reset();
}

offset_tracker* reader::find_tracker(const record& r) {
    if (last_tracker_ != nullptr && r.partition == last_partition_ && r.topic == *last_topic_) {
        return last_tracker_;
    }
    auto it = trackers_.find(topic_partition{r.topic, r.partition});
    if (it == trackers_.end()) {
        return nullptr;
    }
    last_partition_ = it->first.partition;
    last_topic_ = &it->first.topic;
    last_tracker_ = &it->second;
    return last_tracker_;
}

offset_tracker& reader::tracker_of(const record& r) {
    if (last_tracker_ != nullptr && r.partition == last_partition_ && r.topic == *last_topic_) {
        return *last_tracker_;
    }
    const topic_partition tp{r.topic, r.partition};
    auto it = trackers_.find(tp);
    if (it == trackers_.end()) {
        // A partition read for the first time: from the group's committed offset (or, before
        // any commit, from the first record there).
        const auto committed = from_->committed(group_, tp);
        it = trackers_.emplace(tp, offset_tracker(committed.value_or(r.offset))).first;
    }
    last_partition_ = it->first.partition;
    last_topic_ = &it->first.topic;
    last_tracker_ = &it->second;
    return it->second;
}

void reader::wake_takers() {
    std::vector<promise<void>> woken;
    woken.swap(takers_);
    for (auto& p : woken) {
        p.set_value();
    }
}

void reader::make_room() {
    promise<void> p = std::move(*room_);
    room_.reset();
    p.set_value();
}

task<void> reader::fetch_loop() {
    for (;;) {
        if (fetched_.size() >= batch_) {
            room_.emplace();
            future<void> room = room_->get_future();
            co_await room;
            continue;
        }
        // Wait until something is there, then take all that is: the records that came while
        // this actor was being woken make one batch, where a fetch completed by the producer
        // would hold the one record that woke it.
        std::vector<record_ptr> got = consumer_->poll(batch_);
        while (got.empty()) {
            future<void> readable = consumer_->when_readable();
            co_await readable;
            got = consumer_->poll(batch_);
        }
        for (auto& r : got) {
            offset_tracker& t = tracker_of(*r);
            if (r->offset < t.next_to_read()) [[unlikely]] {
                // The partition went to another member without this one giving it up (it kept
                // it past the broker's rebalance timeout) and came back: read from here on.
                t = offset_tracker(from_->committed(group_, {r->topic, r->partition}).value_or(r->offset));
            }
            t.read(r->offset);
            if (stopped_.empty() || stopped_.count({r->topic, r->partition}) == 0) {
                fetched_.push_back(std::move(r));
            }  // else it stays in flight, unacknowledged, with the stopped partition
        }
        wake_takers();
    }
}

task<record_ptr> reader::next_record() {
    for (;;) {
        if (record_ptr r = take_fetched()) {
            co_return r;
        }
        promise<void> turn;
        future<void> fetched = turn.get_future();
        takers_.push_back(std::move(turn));
        co_await fetched;
    }
}

void reader::ack(const record& r) {
    offset_tracker* t = find_tracker(r);
    // No tracker, or the record not in flight: its partition was given up meanwhile (past the
    // rebalance timeout). It is finished all the same: counted, and nothing else to do.
    if (t != nullptr && t->ack_if_in_flight(r.offset) && drained_) [[unlikely]] {
        // release_loop waits: this may be the last of what it waits for (it checks again).
        auto d = draining_.find(topic_partition{r.topic, r.partition});
        if (d != draining_.end() && t->committable() >= d->second) {
            promise<void> p = std::move(*drained_);
            drained_.reset();
            p.set_value();
        }
    }
    const std::uint64_t n = acknowledged_.load(std::memory_order_relaxed) + 1;
    // Sequentially consistent, with watched_: either this ack sees a waiter registered, or the
    // waiter's load of the count sees this ack (a store and a load of two variables each side).
    acknowledged_.store(n, std::memory_order_seq_cst);
    if (watched_.load(std::memory_order_seq_cst)) {
        std::vector<promise<void>> reached;
        {
            const std::lock_guard guard(watch_lock_);
            std::erase_if(watchers_, [&](auto& w) {
                if (w.first > n) {
                    return false;
                }
                reached.push_back(std::move(w.second));
                return true;
            });
            watched_.store(!watchers_.empty(), std::memory_order_seq_cst);
        }
        for (auto& p : reached) {
            p.set_value();
        }
    }
}

future<void> reader::when_acknowledged(std::uint64_t n) {
    const std::lock_guard guard(watch_lock_);
    future<void> reached = watchers_.emplace_back(n, promise<void>()).second.get_future();
    watched_.store(true, std::memory_order_seq_cst);
    if (acknowledged_.load(std::memory_order_seq_cst) >= n) {
        promise<void> done = std::move(watchers_.back().second);
        watchers_.pop_back();
        watched_.store(!watchers_.empty(), std::memory_order_seq_cst);
        done.set_value();
    }
    return reached;
}

void reader::skip_bad(const record& r, std::string_view why) {
    const topic_partition tp{r.topic, r.partition};
    switch (on_bad_.action) {
        case bad_value::skip:
            troupe::logger()->error("streams: {}: skipped the record at offset {} of {}: {}", what_, r.offset,
                                    to_string(tp), why);
            ack(r);
            return;
        case bad_value::dead_letter: {
            outgoing letter;
            letter.topic = on_bad_.dead_letter_topic;
            letter.key = r.key;
            letter.value = r.value;
            letter.headers = r.headers;
            letter.headers.push_back({"troupe-error", bytes_of(why)});
            letter.headers.push_back({"troupe-topic", bytes_of(r.topic)});
            letter.headers.push_back({"troupe-partition", bytes_of(std::to_string(r.partition))});
            letter.headers.push_back({"troupe-offset", bytes_of(std::to_string(r.offset))});
            try {
                // Bad values are rare: waiting here for the broker to hold the letter keeps it
                // from being acknowledged before it is safe.
                app_->brokerage().produce(std::move(letter)).get();
            } catch (const std::exception& e) {
                troupe::logger()->error(
                    "streams: {}: the record at offset {} of {} ({}) could not go to the dead-letter topic '{}': {}; "
                    "its partition stops",
                    what_, r.offset, to_string(tp), why, on_bad_.dead_letter_topic, e.what());
                stop_partition(tp);
                return;
            }
            troupe::logger()->warn("streams: {}: sent the record at offset {} of {} to the dead-letter topic '{}': {}",
                                   what_, r.offset, to_string(tp), on_bad_.dead_letter_topic, why);
            ack(r);
            return;
        }
        case bad_value::stop_partition:
            troupe::logger()->error(
                "streams: {}: stopped reading {} at offset {}: {}; it is read again from there when the agent "
                "starts again",
                what_, to_string(tp), r.offset, why);
            stop_partition(tp);
            return;
    }
}

void reader::stop_partition(const topic_partition& tp) {
    stopped_.insert(tp);
    consumer_->pause(tp);
    // What was fetched after it stays unacknowledged: in flight, so no commit passes it.
    std::erase_if(fetched_, [&](const record_ptr& r) { return r->partition == tp.partition && r->topic == tp.topic; });
}

void reader::commit() {
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
        troupe::logger()->warn("streams: {}: a commit failed: {}", what_, e.what());
    }
}

bool reader::drained() const {
    for (const auto& [tp, mark] : draining_) {
        auto it = trackers_.find(tp);
        if (it != trackers_.end() && stopped_.count(tp) == 0 && it->second.committable() < mark) {
            return false;
        }
    }
    return true;
}

task<void> reader::drain() {
    while (!drained()) {
        drained_.emplace();
        future<void> finished = drained_->get_future();
        co_await finished;
    }
}

task<void> reader::release_loop() {
    for (;;) {
        future<void> asked = consumer_->when_revoking();
        co_await asked;
        const std::vector<topic_partition> revoked = consumer_->revoking();
        if (revoked.empty()) {
            continue;
        }
        // What was read of them is finished first, the records still in the buffer too (at
        // most a fetch batch): dropping those instead would lose them if the revocation were
        // called off meanwhile, the broker's position being past them. No more of them comes
        // while they are being revoked, so each is finished once all it has read up to now is.
        for (const auto& tp : revoked) {
            auto it = trackers_.find(tp);
            if (it != trackers_.end()) {
                draining_.emplace(tp, it->second.next_to_read());
            }
        }
        if (!drained()) {
            task<void> waited = drain();
            const bool finished = co_await troupe::move_on_after(app_->options().rebalance_timeout, std::move(waited));
            if (!finished) {
                std::size_t left = 0;
                for (const auto& [tp, mark] : draining_) {
                    left += trackers_.at(tp).in_flight();
                }
                troupe::logger()->warn(
                    "streams: {}: gave up partitions after the rebalance timeout ({} ms) with {} records unfinished; "
                    "the next member reads them again",
                    what_, app_->options().rebalance_timeout.count(), left);
            }
        }
        draining_.clear();
        drained_.reset();
        commit();
        consumer_->release(revoked);
        // Those it no longer reads are forgotten: one that comes back is read from the group's
        // commit, with a new tracker. (A revocation called off meanwhile leaves it reading.)
        const std::vector<topic_partition> mine = consumer_->assignment();
        std::string given_up;
        for (const auto& tp : revoked) {
            if (!std::binary_search(mine.begin(), mine.end(), tp)) {
                trackers_.erase(tp);
                stopped_.erase(tp);
                given_up += (given_up.empty() ? "" : ", ") + to_string(tp);
            }
        }
        last_tracker_ = nullptr;
        if (!given_up.empty()) {
            troupe::logger()->info("streams: {}: gave up {} (a rebalance)", what_, given_up);
        }
    }
}

task<void> reader::commit_every_interval() {
    for (;;) {
        co_await troupe::sleep_for(app_->options().commit_interval);
        commit();
    }
}

// --- stream_home -----------------------------------------------------------------------------

stream_home::stream_home(app_core& app, std::shared_ptr<broker> from, std::string name, std::string group,
                         std::vector<std::string> topics, std::size_t concurrency, bad_value_policy on_bad)
    : name_(std::move(name)),
      concurrency_(concurrency),
      on_bad_(std::move(on_bad)),
      root_(app, std::move(from), std::move(group), std::move(topics), name_, on_bad_) {
    if (concurrency_ == 0) {
        throw error("streams: " + name_ + ": concurrency must be at least 1");
    }
}

void stream_home::open() {
    root_.open();
    counted_.store(&root_, std::memory_order_release);
}

void stream_home::run_in(troupe::nursery& n) {
    running_ = &n;
    n.start(root_.fetch_loop());
    n.start(root_.commit_every_interval());
    n.start(root_.release_loop());
}

reader& stream_home::derive(const std::string& topic, const std::shared_ptr<broker>& from) {
    if (running_ == nullptr) {
        throw error("streams: " + name_ + ": a stream reads another topic only while it runs");
    }
    reader* found = nullptr;
    for (auto& r : derived_) {
        if (r->topics().front() == topic) {
            found = r.get();
        }
    }
    if (found == nullptr) {
        // Kept for the life of the home (a run after a stop opens it again), so finished() may
        // read it from any thread.
        found = derived_
                    .emplace_back(std::make_unique<reader>(app(), from, group() + "-" + topic,
                                                           std::vector<std::string>{topic}, name_, on_bad_))
                    .get();
    }
    if (!found->is_open()) {
        found->open();
        running_->start(found->fetch_loop());
        running_->start(found->commit_every_interval());
        running_->start(found->release_loop());
    }
    counted_.store(found, std::memory_order_release);
    return *found;
}

void stream_home::start(task<void> t) {
    if (running_ == nullptr) {
        throw error("streams: " + name_ + ": a stream starts work only while it runs");
    }
    running_->start(std::move(t));
}

void stream_home::close() {
    running_ = nullptr;
    root_.close();
    for (auto& r : derived_) {
        r->close();
    }
}

// --- agent_core ------------------------------------------------------------------------------

agent_core::agent_core(app_core& app, agent_settings settings)
    : stream_home(app, settings.from, "agent '" + settings.name + "'", app.id() + "-" + settings.name, settings.topics,
                  settings.concurrency, settings.on_bad),
      agent_name_(std::move(settings.name)) {}

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
        app().brokerage().produce_soon(std::move(answer));
    } catch (const std::exception& e) {
        troupe::logger()->warn("streams: {}: the reply to the record at offset {} of {} was not sent: {}", name(),
                               request.offset, to_string({request.topic, request.partition}), e.what());
    }
}

}  // namespace troupe::streams::detail
