// app_core, stream_home and agent_core (the reader is in reader.cpp): see
// include/troupe/streams/detail/app_core.hpp. An agent's state is touched only by its own actor
// while it runs (its instances interleave at their awaits, one at a time), and by the app's
// thread before and after; the replies waiting for asks are shared with every thread that asks,
// under a mutex.

#include <troupe/streams/detail/app_core.hpp>

#include <troupe/async/await.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <string>
#include <system_error>
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

std::pair<std::uint64_t, future<record_ptr>> app_core::expect_reply(std::shared_ptr<const std::string> what,
                                                                    std::chrono::milliseconds timeout) {
    std::uint64_t id = 0;
    future<record_ptr> reply;
    {
        const std::lock_guard guard(asks_->lock);
        id = ++asks_->next;
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
            std::optional<promise<record_ptr>> late;
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
                troupe::timeout(*what + ": no reply within " + std::to_string(timeout.count()) + " ms")));
        });
    {
        const std::lock_guard guard(asks_->lock);
        auto it = asks_->asks.find(id);
        if (it != asks_->asks.end()) {
            it->second.deadline = std::move(deadline);
        }
    }
    return {id, std::move(reply)};
}

std::string app_core::fresh_correlation_id() {
    const std::lock_guard guard(asks_->lock);
    return reply_topic_ + "-" + std::to_string(++asks_->next);
}

std::size_t app_core::pending_asks() const {
    const std::lock_guard guard(asks_->lock);
    return asks_->asks.size();
}

void app_core::abandon_reply(std::uint64_t id) {
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

void app_core::complete(record_ptr r) {
    const bytes* id = header_of(*r, correlation_header);
    if (id == nullptr) {
        troupe::logger()->warn("streams: app '{}': a record on its reply topic {} at offset {} has no correlation id",
                               id_, reply_topic_, r->offset);
        return;
    }
    // An ask's correlation id is its number; another one (a send() with its own) is no ask's.
    std::uint64_t number = 0;
    const char* text = reinterpret_cast<const char*>(id->data());
    if (const auto [end, failed] = std::from_chars(text, text + id->size(), number);
        failed != std::errc{} || end != text + id->size()) {
        return;
    }
    std::optional<waiting_ask> found;
    {
        const std::lock_guard guard(asks_->lock);
        auto it = asks_->asks.find(number);
        if (it == asks_->asks.end()) {
            return;  // timed out meanwhile
        }
        found.emplace(std::move(it->second));
        asks_->asks.erase(it);
    }
    found->deadline.cancel();
    found->reply.set_value(std::move(r));
}

task<void> app_core::read_replies() {
    std::size_t uncommitted = 0;
    for (;;) {
        std::vector<record_ptr> got = co_await replies_->fetch(options_.fetch_batch);
        if (got.empty()) {
            continue;
        }
        const std::uint64_t next = got.back()->offset + 1;
        for (auto& r : got) {
            complete(std::move(r));  // the ask's future gets the record itself
        }
        // Nobody reads a reply twice, but a broker that frees what its groups have committed
        // past (memory:// does) keeps every reply until this group commits: once a batch's worth.
        uncommitted += got.size();
        if (uncommitted >= options_.fetch_batch) {
            replies_->commit({{{reply_topic_, 0}, next}});
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
    decltype(ask_table::asks) left;
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

std::optional<future<void>> stream_home::ask_for_room() {
    if (std::optional<future<void>> room = app().brokerage().when_caller_may_produce()) {
        return room;
    }
    return app().in_process_ptr()->when_caller_may_produce();
}

// --- agent_core ------------------------------------------------------------------------------

agent_core::agent_core(app_core& app, agent_settings settings)
    : stream_home(app, settings.from, "agent '" + settings.name + "'", app.id() + "-" + settings.name, settings.topics,
                  settings.concurrency, settings.on_bad),
      agent_name_(std::move(settings.name)),
      ask_what_(std::make_shared<const std::string>("streams: ask of agent '" + agent_name_ + "'")) {}

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
