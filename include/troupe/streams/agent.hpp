#pragma once
/// \file
/// agent: a coroutine over the stream of a topic, run by an app. Its function takes the
/// stream and either yields results (a troupe::generator<R>: each one answers the ask of the
/// value it was computed from, and goes to the agent's sinks) or only consumes (a
/// troupe::task<void>). `concurrency` instances share the stream, each value going to one.
///
///     auto& adding = app.agent("adding", topic, [](auto& s) -> troupe::generator<int> {
///         while (std::optional<add> v = co_await s.next()) {
///             co_yield v->a + v->b;
///         }
///     });
///     int five = adding.ask(add{2, 3}, 5s).get();
///
/// An exception from the function is logged; the value it was processing is finished (so it is
/// not taken again), and the instance starts the function again on the same stream, unless it
/// threw before taking any value (then the instance ends).

#include <troupe/async/generator.hpp>
#include <troupe/async/nursery.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/log.hpp>
#include <troupe/streams/codec.hpp>
#include <troupe/streams/detail/app_core.hpp>
#include <troupe/streams/stream.hpp>
#include <troupe/streams/topic.hpp>

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace troupe::streams {

/// How an agent runs.
struct agent_options {
    /// Instances of the function sharing its stream (Faust's concurrency).
    std::size_t concurrency = 1;
    /// What a value that does not decode does: skipped (the default), its partition stopped,
    /// or sent to a dead-letter topic.
    bad_value on_bad_value = bad_value::skip;
    /// For bad_value::dead_letter; empty: "<app id>-<agent name>-dead-letter".
    std::string dead_letter_topic{};
};

/// The optional parts of a value sent to an agent with agent.send().
template <class K>
struct agent_send_options {
    std::optional<K> key{};
    std::optional<std::uint32_t> partition{};
    std::vector<header> headers{};
    /// Where what the agent yields for the value goes: a topic's name (another agent's topic,
    /// agent.source().name()); empty: no reply.
    std::string reply_to{};
    /// Goes with the reply (a header), so the receiver can pair it with the request; empty
    /// with a reply_to: a fresh one.
    std::string correlation_id{};
};

namespace detail {

/// The replies of a map() as they complete (on any thread), for the generator that yields
/// them on its actor.
template <class U>
class reply_queue {
public:
    void push(future<U> done) {
        std::optional<promise<void>> wake;
        {
            const std::lock_guard guard(lock_);
            done_.push_back(std::move(done));
            wake.swap(waiter_);
        }
        if (wake) {
            wake->set_value();
        }
    }
    /// The next complete reply, if there is one.
    std::optional<future<U>> pop() {
        const std::lock_guard guard(lock_);
        if (done_.empty()) {
            return std::nullopt;
        }
        future<U> f = std::move(done_.front());
        done_.pop_front();
        return f;
    }
    /// Completes once a reply is there.
    future<void> wait() {
        const std::lock_guard guard(lock_);
        if (!done_.empty()) {
            return make_ready_future();
        }
        waiter_.emplace();
        return waiter_->get_future();
    }

private:
    std::mutex lock_;
    std::deque<future<U>> done_;
    std::optional<promise<void>> waiter_;
};

/// The values of `parts` in their order, once all are there; the first failure fails it.
template <class U>
future<std::vector<U>> all_of(std::vector<future<U>> parts) {
    struct gathering {
        std::mutex lock;
        std::vector<std::optional<U>> values;
        std::size_t left = 0;
        bool failed = false;
        promise<std::vector<U>> out;
    };
    auto g = std::make_shared<gathering>();
    g->values.resize(parts.size());
    g->left = parts.size();
    future<std::vector<U>> all = g->out.get_future();
    if (parts.empty()) {
        g->out.set_value();
        return all;
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        parts[i].then_state([g, i, part = parts[i]](auto&) {
            std::exception_ptr failure;
            bool last = false;
            try {
                U value = part.get();
                const std::lock_guard guard(g->lock);
                g->values[i].emplace(std::move(value));
                last = --g->left == 0 && !g->failed;
            } catch (...) {
                const std::lock_guard guard(g->lock);
                if (!g->failed) {
                    g->failed = true;
                    failure = std::current_exception();
                }
            }
            if (failure) {
                g->out.set_exception(failure);
            } else if (last) {
                std::vector<U> values;
                values.reserve(g->values.size());
                for (auto& v : g->values) {
                    values.push_back(std::move(*v));
                }
                g->out.set_value(std::move(values));
            }
        });
    }
    return all;
}

/// What the app keeps of an agent, whatever its types.
class agent_base {
public:
    virtual ~agent_base() = default;
    /// Opens its consumer and starts its instances in a nursery of `sys`.
    virtual void start() = 0;
    /// Cancels the instances, waits for them, commits what they finished and leaves the group.
    virtual void stop() = 0;
    /// What the worker's command line shows and waits for.
    virtual const agent_core& core() const noexcept = 0;
    /// Completes once the agent has finished `n` values since it started (any thread).
    virtual future<void> when_finished(std::uint64_t n) = 0;
};
}  // namespace detail

template <topic_value K, topic_value V, class R>
class agent final : public detail::agent_base {
    /// What sinks take: R (a function that yields nothing has no sinks).
    using yielded = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

public:
    /// What the function is.
    using function = std::conditional_t<std::is_void_v<R>, std::function<task<void>(stream<K, V>&)>,
                                        std::function<generator<R>(stream<K, V>&)>>;

    /// Its name.
    const std::string& name() const noexcept { return core_.agent_name(); }
    /// The topic it reads (the first, if it reads several).
    const topic<K, V>& source() const noexcept { return *sources_.front(); }
    /// The consumer group it reads in ("<app id>-<name>"): what it commits is the group's.
    const std::string& group() const noexcept { return core_.group(); }
    /// Values its function has finished since it started (for tests and tools; any thread):
    /// of the stream it iterates, the last one through() or group_by() gave if it used them.
    std::uint64_t finished() const noexcept { return core_.finished(); }

    /// Sends `value` to the agent and gives what it yields for it, or troupe::timeout if no
    /// reply comes within `timeout` (an ask always has one: a lost reply must not hang the
    /// caller). The reply travels through the app's reply topic with a correlation id.
    template <class U = R>
    requires(!std::is_void_v<U>) future<U> ask(const V& value, std::chrono::milliseconds timeout,
                                               send_options<K> o = {})
    const {
        auto [id, reply] = core_.app().expect_reply(core_.ask_what(), timeout);
        o.headers.reserve(o.headers.size() + 2);
        o.headers.push_back({std::string(detail::reply_to_header), bytes_of(core_.app().reply_topic())});
        o.headers.push_back({std::string(detail::correlation_header), bytes_of(std::to_string(id))});
        future<record_metadata> sent;
        try {
            sent = source().send(value, std::move(o));
            if (sent.failed()) {
                sent.get();  // throws why
            }
        } catch (...) {
            core_.app().abandon_reply(id);  // no request went: no reply to wait for
            throw;
        }
        return reply.then_anywhere([](const record_ptr& r) { return decode_as<U>(serializer::automatic, r->value); });
    }
    /// Sends `value` to the agent without asking for a reply.
    future<record_metadata> cast(const V& value, send_options<K> o = {}) const {
        return source().send(value, std::move(o));
    }
    /// Sends `value` to the agent; with `o.reply_to`, what it yields for the value goes to that
    /// topic (with `o.correlation_id` in a header), encoded as the topic's values are by
    /// default (JSON for records): how one agent answers into another's stream.
    future<record_metadata> send(const V& value, agent_send_options<K> o) const {
        send_options<K> plain{std::move(o.key), o.partition, std::move(o.headers)};
        if (!o.reply_to.empty()) {
            if (o.correlation_id.empty()) {
                o.correlation_id = core_.app().fresh_correlation_id();
            }
            plain.headers.push_back({std::string(detail::reply_to_header), bytes_of(o.reply_to)});
            plain.headers.push_back({std::string(detail::correlation_header), bytes_of(o.correlation_id)});
        }
        return source().send(value, std::move(plain));
    }

    /// Asks the agent about every value of `values` (any input range, endless ones too) and
    /// yields the replies as they come, in no particular order; at most `window` asks wait at
    /// once. Each reply must come within `timeout` (troupe::timeout otherwise, thrown by the
    /// generator). Inside a coroutine of an actor (an app's task, another agent).
    template <std::ranges::input_range Values, class U = R>
    requires(!std::is_void_v<U>) generator<U> map(Values values, std::chrono::milliseconds timeout,
                                                  std::size_t window = 1000)
    const {
        return map_requests(std::move(values), timeout, window, [](auto&& v) {
            return std::pair<std::optional<K>, V>(std::nullopt, std::forward<decltype(v)>(v));
        });
    }
    /// map() of (key, value) pairs: each key is the record's key.
    template <std::ranges::input_range Pairs, class U = R>
    requires(!std::is_void_v<U>) generator<U> kvmap(Pairs pairs, std::chrono::milliseconds timeout,
                                                    std::size_t window = 1000)
    const {
        return map_requests(std::move(pairs), timeout, window,
                            [](auto&& kv) { return std::pair<std::optional<K>, V>(std::get<0>(kv), std::get<1>(kv)); });
    }
    /// Asks the agent about every value of `values` at once and gives all the replies, in the
    /// order of the values; fails with the first failure (troupe::timeout after `timeout`).
    template <std::ranges::input_range Values, class U = R>
    requires(!std::is_void_v<U>) future<std::vector<U>> join(const Values& values, std::chrono::milliseconds timeout)
    const {
        std::vector<future<U>> replies;
        for (const auto& v : values) {
            replies.push_back(ask(v, timeout));
        }
        return detail::all_of(std::move(replies));
    }
    /// join() of (key, value) pairs: each key is the record's key.
    template <std::ranges::input_range Pairs, class U = R>
    requires(!std::is_void_v<U>) future<std::vector<U>> kvjoin(const Pairs& pairs, std::chrono::milliseconds timeout)
    const {
        std::vector<future<U>> replies;
        for (const auto& kv : pairs) {
            send_options<K> o;
            o.key = std::get<0>(kv);
            replies.push_back(ask(std::get<1>(kv), timeout, std::move(o)));
        }
        return detail::all_of(std::move(replies));
    }

    /// Adds a sink: what the agent yields also goes to `f`, a function of the value (called
    /// by the instance) or a coroutine returning troupe::task<void> (awaited by the instance
    /// before it takes its next value).
    template <class F>
    requires(!std::is_void_v<R> && std::is_invocable_v<F&, const R&>) void sink(F f) {
        using result = std::invoke_result_t<F&, const R&>;
        if constexpr (std::is_same_v<result, task<void>>) {
            coroutine_sinks_.emplace_back(std::move(f));
        } else {
            function_sinks_.emplace_back([f = std::move(f)](const R& r) mutable { (void)f(r); });
        }
    }
    /// Adds a topic sink: what the agent yields is sent to `t`. The instance takes its next
    /// value once the broker holds this one, so readers of `t` that fall behind hold this
    /// agent back too (the broker's backlog bound), and a send that fails is logged.
    template <class K2>
    requires(!std::is_void_v<R>) void sink(const topic<K2, R>& t) {
        coroutine_sinks_.emplace_back([this, &t](const R& r) { return sent(t.send(r), t.name()); });
    }
    /// Adds an agent sink: what this agent yields is sent to `other` (as a topic sink sends).
    template <class K2, class R2>
    requires(!std::is_void_v<R>) void sink(agent<K2, R, R2>& other) {
        coroutine_sinks_.emplace_back([this, &other](const R& r) { return sent(other.cast(r), other.name()); });
    }

    /// For the app.
    agent(detail::app_core& app, detail::agent_settings settings, std::vector<const topic<K, V>*> sources, function fn)
        : core_(app, std::move(settings)), sources_(std::move(sources)), fn_(std::move(fn)) {}

    void start() override {
        if (stop_) {
            return;
        }
        core_.open();  // in its group when start() returns
        stop_.emplace();
        future<void> stopped = stop_->get_future();
        run_ = troupe::start_nursery(core_.app().sys(), [this, stopped](troupe::nursery& n) -> task<void> {
            core_.run_in(n);
            for (std::size_t i = 0; i < core_.concurrency(); ++i) {
                n.start(run_instance());
            }
            co_await stopped;
            n.cancel();
        });
    }
    const detail::agent_core& core() const noexcept override { return core_; }
    /// Completes once finished() reaches `n` (any thread): for tests and tools that wait for
    /// the agent to finish what they sent.
    future<void> when_finished(std::uint64_t n) override { return core_.when_finished(n); }
    /// Its function (the test kit runs it elsewhere).
    const function& body() const noexcept { return fn_; }
    void stop() override {
        if (!stop_) {
            return;
        }
        stop_->set_value();
        stop_.reset();
        try {
            run_.get();
        } catch (const std::exception& e) {
            troupe::logger()->error("streams: agent '{}' ended with {}", name(), e.what());
        }
        core_.close();  // the nursery has ended: this thread may touch the agent's state again
    }

private:
    /// A topic or agent sink's send: done once the broker holds the value.
    task<void> sent(future<record_metadata> send, std::string to) const {
        try {
            co_await std::move(send);
        } catch (const std::exception& e) {
            troupe::logger()->error("streams: agent '{}': a value for its sink '{}' was not sent: {}", name(), to,
                                    e.what());
        }
    }

    task<void> deliver(const record* from, const yielded& value) {
        // The function sinks first: an ask answered has been through them (what the test kit's
        // results() relies on); the coroutine sinks, which may take a while, after the reply.
        for (auto& f : function_sinks_) {
            f(value);
        }
        if (from != nullptr) {
            core_.reply(*from, encode_as<R>(serializer::automatic, value));
        }
        for (auto& f : coroutine_sinks_) {
            co_await f(value);
        }
    }

    /// map() and kvmap(): `make(item)` gives the key and value of each request.
    template <class Items, class Make, class U = R>
    generator<U> map_requests(Items items, std::chrono::milliseconds timeout, std::size_t window, Make make) const {
        if (window == 0) {
            throw error("streams: map() of agent '" + name() + "' with a window of 0 asks");
        }
        auto arrived = std::make_shared<detail::reply_queue<U>>();
        std::size_t waiting = 0;
        auto it = std::ranges::begin(items);
        const auto end = std::ranges::end(items);
        for (;;) {
            // Send while the window has room, taking every reply already there in between.
            while (it != end && waiting < window) {
                auto [key, value] = make(*it);
                ++it;
                send_options<K> o;
                o.key = std::move(key);
                future<U> reply = ask(value, timeout, std::move(o));
                ++waiting;
                reply.then_state([arrived, reply](auto&) { arrived->push(reply); });
                while (std::optional<future<U>> r = arrived->pop()) {
                    --waiting;
                    U got = r->get();  // throws what the ask failed with
                    co_yield std::move(got);
                }
            }
            if (waiting == 0) {
                co_return;
            }
            future<void> more = arrived->wait();
            co_await std::move(more);
            while (std::optional<future<U>> r = arrived->pop()) {
                --waiting;
                U got = r->get();
                co_yield std::move(got);
            }
        }
    }

    task<void> run_instance() {
        stream<K, V> s(core_, core_.root(), sources_);
        for (;;) {
            const std::uint64_t before = core_.finished();
            std::exception_ptr failure;
            s.reset_operators();  // the function adds them again
            try {
                if constexpr (std::is_void_v<R>) {
                    co_await fn_(s);
                } else {
                    generator<R> results = fn_(s);
                    while (std::optional<R> r = co_await results.next()) {
                        const record* from = s.active().current();
                        co_await deliver(from, *r);
                    }
                }
            } catch (const troupe::cancelled&) {
                throw;  // the agent stops: what is in flight is not finished, and comes again
            } catch (...) {
                failure = std::current_exception();
            }
            const bool took_one = s.active().current() != nullptr || core_.finished() != before;
            s.active().finish();
            if (!failure) {
                co_return;  // the function ended of its own accord
            }
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                troupe::logger()->error("streams: agent '{}' threw: {}{}", name(), e.what(),
                                        took_one ? "; it starts again on the next value" : "; its instance ends");
            } catch (...) {
                troupe::logger()->error("streams: agent '{}' threw something that is not a std::exception{}", name(),
                                        took_one ? "; it starts again on the next value" : "; its instance ends");
            }
            if (!took_one) {
                co_return;
            }
        }
    }

    detail::agent_core core_;
    std::vector<const topic<K, V>*> sources_;
    function fn_;
    std::vector<std::function<void(const yielded&)>> function_sinks_;
    std::vector<std::function<task<void>(const yielded&)>> coroutine_sinks_;
    std::optional<promise<void>> stop_;
    future<void> run_;
};

}  // namespace troupe::streams
