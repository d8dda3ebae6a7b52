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
#include <exception>
#include <functional>
#include <memory>
#include <optional>
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
};

namespace detail {
/// What the app keeps of an agent, whatever its types.
class agent_base {
public:
    virtual ~agent_base() = default;
    /// Opens its consumer and starts its instances in a nursery of `sys`.
    virtual void start() = 0;
    /// Cancels the instances, waits for them, commits what they finished and leaves the group.
    virtual void stop() = 0;
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
    const std::string& name() const noexcept { return core_.name(); }
    /// The topic it reads.
    const topic<K, V>& source() const noexcept { return *source_; }
    /// The consumer group it reads in ("<app id>-<name>"): what it commits is the group's.
    const std::string& group() const noexcept { return core_.group(); }
    /// Values it has finished since it started (for tests and tools; any thread).
    std::uint64_t finished() const noexcept { return core_.acknowledged(); }

    /// Sends `value` to the agent and gives what it yields for it, or troupe::timeout if no
    /// reply comes within `timeout` (an ask always has one: a lost reply must not hang the
    /// caller). The reply travels through the app's reply topic with a correlation id.
    template <class U = R>
    requires(!std::is_void_v<U>) future<U> ask(const V& value, std::chrono::milliseconds timeout,
                                               send_options<K> o = {})
    const {
        auto [id, reply] = core_.app().expect_reply("streams: ask of agent '" + name() + "'", timeout);
        o.headers.push_back({std::string(detail::reply_to_header), bytes_of(core_.app().reply_topic())});
        o.headers.push_back({std::string(detail::correlation_header), bytes_of(id)});
        future<record_metadata> sent;
        try {
            sent = source_->send(value, std::move(o));
            if (sent.failed()) {
                sent.get();  // throws why
            }
        } catch (...) {
            core_.app().abandon_reply(id);  // no request went: no reply to wait for
            throw;
        }
        return reply.then_anywhere([](const bytes& b) { return decode_as<U>(serializer::automatic, b); });
    }
    /// Sends `value` to the agent without asking for a reply.
    future<record_metadata> cast(const V& value, send_options<K> o = {}) const {
        return source_->send(value, std::move(o));
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
    /// Adds a topic sink: what the agent yields is sent to `t`.
    template <class K2>
    requires(!std::is_void_v<R>) void sink(const topic<K2, R>& t) {
        function_sinks_.emplace_back([&t](const R& r) { (void)t.send(r); });
    }
    /// Adds an agent sink: what this agent yields is sent to `other`.
    template <class K2, class R2>
    requires(!std::is_void_v<R>) void sink(agent<K2, R, R2>& other) {
        function_sinks_.emplace_back([&other](const R& r) { (void)other.cast(r); });
    }

    /// For the app.
    agent(detail::app_core& app, detail::agent_settings settings, const topic<K, V>& source, function fn)
        : core_(app, std::move(settings)), source_(&source), fn_(std::move(fn)) {}

    void start() override {
        if (stop_) {
            return;
        }
        core_.open();
        stop_.emplace();
        future<void> stopped = stop_->get_future();
        run_ = troupe::start_nursery(core_.app().sys(), [this, stopped](troupe::nursery& n) -> task<void> {
            for (std::size_t i = 0; i < core_.concurrency(); ++i) {
                n.start(run_instance());
            }
            n.start(core_.commit_every_interval());
            co_await stopped;
            n.cancel();
        });
    }
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
    task<void> deliver(const record* from, const yielded& value) {
        if (from != nullptr) {
            core_.reply(*from, encode_as<R>(serializer::automatic, value));
        }
        for (auto& f : function_sinks_) {
            f(value);
        }
        for (auto& f : coroutine_sinks_) {
            co_await f(value);
        }
    }

    task<void> run_instance() {
        stream<K, V> s(core_, *source_);
        for (;;) {
            const std::uint64_t before = core_.acknowledged();
            std::exception_ptr failure;
            try {
                if constexpr (std::is_void_v<R>) {
                    co_await fn_(s);
                } else {
                    generator<R> results = fn_(s);
                    while (std::optional<R> r = co_await results.next()) {
                        const record* from = s.event();
                        co_await deliver(from, *r);
                    }
                }
            } catch (const troupe::cancelled&) {
                throw;  // the agent stops: what is in flight is not finished, and comes again
            } catch (...) {
                failure = std::current_exception();
            }
            const bool took_one = s.event() != nullptr || core_.acknowledged() != before;
            s.finish();
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
    const topic<K, V>* source_;
    function fn_;
    std::vector<std::function<void(const yielded&)>> function_sinks_;
    std::vector<std::function<task<void>(const yielded&)>> coroutine_sinks_;
    std::optional<promise<void>> stop_;
    future<void> run_;
};

}  // namespace troupe::streams
