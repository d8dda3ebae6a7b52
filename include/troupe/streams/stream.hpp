#pragma once
/// \file
/// stream<K, V>: what an agent (or a task of the app) iterates. Each next() gives the next value
/// of the stream's topics, decoded and passed through its processors; the value before it is
/// then finished (acknowledged), so commits never pass a value still being processed. A value
/// that does not decode is logged (with its topic, partition and offset), acknowledged and
/// skipped.
///
///     troupe::generator<int> adding(troupe::streams::stream<std::string, add>& s) {
///         while (std::optional<add> v = co_await s.next()) {
///             co_yield v->a + v->b;             // the reply to an ask of this value
///         }
///     }
///
/// Operators (Faust's): add_processor() and filter() change or drop values on their way;
/// items(), events(), enumerate() and take() give keys, whole events, counts and batches;
/// echo() copies every value to other topics; through() and group_by() forward every record
/// to another topic (group_by with a new key: repartitioning) and give the stream of that topic.
/// A stream is used by one coroutine at a time, on its actor.

#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/generator.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/log.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/detail/app_core.hpp>
#include <troupe/streams/event.hpp>
#include <troupe/streams/topic.hpp>
#include <troupe/wire/record.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe::streams {

namespace detail {

/// The name TROUPE_RECORD gives the member `m` of V, or empty.
template <class V, class M>
std::string field_name_of(M V::*m) {
    std::string name;
    if constexpr (wire::record<V>) {
        std::apply(
            [&](const auto&... f) {
                (
                    [&] {
                        if constexpr (std::is_same_v<typename std::decay_t<decltype(f)>::member_type, M>) {
                            if (f.pointer == m) {
                                name = f.name;
                            }
                        }
                    }(),
                    ...);
            },
            wire::record_of<V>.fields);
    }
    return name;
}

}  // namespace detail

template <topic_value K, topic_value V>
class stream : public detail::holder {
public:
    /// Awaiting next(): a value already fetched is taken without suspending (no coroutine
    /// frame); only when none is there, or when an asynchronous processor must run, does the
    /// awaiting coroutine wait.
    class next_awaiter {
    public:
        using troupe_awaitable = void;
        next_awaiter(stream& s, bool finish_first) noexcept : s_(&s), finish_first_(finish_first) {}
        bool await_ready() {
            if (finish_first_) {
                s_->finish();
            }
            room_ = s_->home_->room_owed();  // what this actor sent is held back past the bound
            return !room_ && !s_->any_async_ && s_->take_fetched(value_);
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> awaiting) {
            fetch_ = room_ ? s_->wait_for_room(std::move(*room_), value_) : s_->wait_for_value(value_);
            inner_.emplace(std::move(fetch_).operator co_await());
            return inner_->await_suspend(awaiting);
        }
        std::optional<V> await_resume() {
            if (inner_) {
                inner_->await_resume();  // rethrows what the wait ended with (troupe::cancelled)
            }
            return std::move(value_);
        }

    private:
        stream* s_;
        bool finish_first_;
        std::optional<V> value_;
        std::optional<future<void>> room_;
        task<void> fetch_;
        std::optional<typename task<void>::awaiter> inner_;
    };

    /// The next value. Never empty while the stream runs (a topic has no end); its stopping
    /// cancels the wait (troupe::cancelled).
    next_awaiter next() noexcept { return next_awaiter(*this, true); }

    /// The record the last value came from (the current event): its topic, partition, offset,
    /// timestamp, key, headers and raw bytes. Null before the first value and after finish().
    const record* event() const noexcept { return held_.empty() ? nullptr : held_.back().get(); }
    /// Its key, decoded.
    K key() const { return held_.empty() ? K{} : topic_for(*held_.back()).key_of(*held_.back()); }

    // --- operators -------------------------------------------------------------------------

    /// Adds a processor: `f(V) -> V` or `f(V) -> troupe::task<V>`, run on every value in the
    /// order added, before the value is given out. A processor that throws streams::skip drops
    /// the value (it is acknowledged).
    template <class F>
    stream& add_processor(F f) {
        if (may_add_operator()) {
            using result = std::invoke_result_t<F&, V>;
            if constexpr (std::is_same_v<result, task<V>>) {
                add_async([f = std::move(f)](V& v) mutable -> task<bool> {
                    task<V> t = f(std::move(v));
                    v = co_await std::move(t);
                    co_return true;
                });
            } else {
                static_assert(std::is_convertible_v<result, V>,
                              "add_processor: the function must take a V and return a V or a troupe::task<V>");
                processors_.push_back({[f = std::move(f)](V& v) mutable {
                                           v = f(std::move(v));
                                           return true;
                                       },
                                       {}});
            }
        }
        return *this;
    }
    /// Keeps only the values for which `p(value)` (a bool, or a troupe::task<bool>) is true;
    /// the others are acknowledged and dropped.
    template <class P>
    stream& filter(P p) {
        if (may_add_operator()) {
            using result = std::invoke_result_t<P&, const V&>;
            if constexpr (std::is_same_v<result, task<bool>>) {
                add_async([p = std::move(p)](V& v) mutable -> task<bool> {
                    task<bool> t = p(std::as_const(v));
                    const bool keep = co_await std::move(t);
                    co_return keep;
                });
            } else {
                processors_.push_back({[p = std::move(p)](V& v) mutable { return static_cast<bool>(p(v)); }, {}});
            }
        }
        return *this;
    }
    /// Sends every value also to each of `topics` (each with its own codec), and goes on once
    /// the broker holds the copy (so readers of `topics` that fall behind hold this stream back).
    /// A topic may be given by its name (Faust's echo("name")): one of this stream's types and
    /// codecs, in the broker of its first topic, made there if it does not exist (see
    /// through(name)).
    template <class... T>
    stream& echo(const T&... topics) {
        if (may_add_operator()) {
            (echo_to(topics), ...);
        }
        return *this;
    }

    /// The keys with the values.
    generator<std::pair<K, V>> items() {
        for (;;) {
            std::optional<V> v = co_await next();
            if (!v) {
                co_return;
            }
            std::pair<K, V> kv(key(), std::move(*v));
            co_yield std::move(kv);
        }
    }
    /// Whole events: key, value, and the record they came from. Each is acknowledged when the
    /// next is asked for, or earlier by event.ack().
    generator<streams::event<K, V>> events() {
        for (;;) {
            std::optional<V> v = co_await next();
            if (!v) {
                co_return;
            }
            streams::event<K, V> e(*this, held_.back(), key(), std::move(*v));
            co_yield std::move(e);
        }
    }
    /// The values, counted from `start`.
    generator<std::pair<std::size_t, V>> enumerate(std::size_t start = 0) {
        for (std::size_t i = start;; ++i) {
            std::optional<V> v = co_await next();
            if (!v) {
                co_return;
            }
            std::pair<std::size_t, V> iv(i, std::move(*v));
            co_yield std::move(iv);
        }
    }
    /// Batches of up to `max` values: a batch is given once it has `max` values or, if
    /// `within` is not zero, once `within` has passed since its first value (a period without
    /// values gives nothing). The values of a batch are acknowledged when the next batch is
    /// asked for.
    generator<std::vector<V>> take(std::size_t max, std::chrono::milliseconds within = std::chrono::milliseconds(0)) {
        if (max == 0) {
            throw error("streams: take() of batches of 0 values");
        }
        for (;;) {
            finish();  // the previous batch
            std::vector<V> batch;
            std::optional<V> first = co_await next_awaiter(*this, false);
            if (!first) {
                co_return;
            }
            batch.push_back(std::move(*first));
            const auto until = std::chrono::steady_clock::now() + within;
            while (batch.size() < max) {
                std::optional<V> v;
                if (!any_async_ && take_fetched(v)) {
                    batch.push_back(std::move(*v));
                    continue;
                }
                if (within.count() == 0) {
                    v = co_await next_awaiter(*this, false);
                } else {
                    const auto left = until - std::chrono::steady_clock::now();
                    if (left <= std::chrono::steady_clock::duration::zero()) {
                        break;
                    }
                    task<record_ptr> wait = reader_->next_record();
                    std::optional<record_ptr> got = co_await troupe::move_on_after(left, std::move(wait));
                    if (!got) {
                        break;
                    }
                    task<bool> accepted = accept_async(std::move(*got), v);
                    if (!co_await std::move(accepted)) {
                        continue;
                    }
                }
                if (!v) {
                    co_return;
                }
                batch.push_back(std::move(*v));
            }
            co_yield std::move(batch);
        }
    }

    /// Forwards every record (its bytes as they are) to `t`, and gives the stream of `t`, read
    /// in a consumer group of its own. Only with concurrency 1. Calling it again with the same
    /// topic gives the same stream.
    stream& through(const topic<K, V>& t) {
        return forward_into<K>(t, [](const V&, const record& r) { return r.key; });
    }
    /// As through(topic), to the topic named `name` (Faust's through("name")): a topic of this
    /// stream's types and codecs, in the broker of the stream's first topic. One that does not
    /// exist there is made, with the app's topic_partitions; one that does keeps its partitions.
    stream& through(const std::string& name) {
        if (const derived* found = find_derived(name)) {
            replaying_ = false;
            return *static_cast<stream*>(found->stream);
        }
        check_may_forward(name);  // before the topic is made
        std::shared_ptr<topic<K, V>> made = topic_named(name);
        const topic<K, V>& t = *made;
        return forward_into<K>(
            t, [](const V&, const record& r) { return r.key; }, std::move(made));
    }
    /// Repartitions: forwards every record to an intermediate topic, keyed by `by(value)` (a
    /// function, or a member pointer such as &withdrawal::user), and gives that topic's stream,
    /// so each key's values reach one reader. The topic is "<group>-<name>-repartition"; `name`
    /// may be left out for a member of a TROUPE_RECORD (the field's name is taken).
    /// `partitions` 0: as many as the stream's first topic. Only with concurrency 1.
    template <class F>
    auto& group_by(F by, std::string name = {}, std::uint32_t partitions = 0) {
        using K2 = std::decay_t<std::invoke_result_t<F&, const V&>>;
        if constexpr (std::is_member_object_pointer_v<F>) {
            if (name.empty()) {
                name = detail::field_name_of(by);
            }
        }
        if (name.empty()) {
            throw error("streams: " + home_->name() +
                        ": group_by() with a function needs a name (it names the intermediate topic)");
        }
        const std::string topic_name = home_->group() + "-" + name + "-repartition";
        if (auto* found = find_derived(topic_name)) {
            replaying_ = false;
            return *static_cast<stream<K2, V>*>(found->stream);
        }
        check_may_forward(topic_name);
        topic_options o;
        o.partitions = partitions != 0 ? partitions : sources_.front()->partitions();
        o.value_serializer = sources_.front()->value_serializer();
        // Beside the stream's topics: in the app's broker, or with them in the process.
        const auto& first = *sources_.front();
        auto made = std::make_shared<topic<K2, V>>(first.broker_ptr(), topic_name, o,
                                                   home_->app().options().topic_partitions, first.in_process());
        auto& t = *made;
        auto& next_stream = forward_into<K2>(
            t,
            [by = std::move(by), &t](const V& v, const record&) {
                return encode_as<K2>(t.key_serializer(), std::invoke(by, v));
            },
            made);
        return next_stream;
    }

    /// For agents and apps: a stream of `sources` (one or more topics of these types), read by
    /// `r`, living in `home`.
    stream(detail::stream_home& home, detail::reader& r, std::vector<const topic<K, V>*> sources)
        : holder(r), home_(&home), sources_(std::move(sources)) {
        if (sources_.empty()) {
            throw error("streams: a stream needs at least one topic");
        }
    }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

private:
    template <topic_value, topic_value>
    friend class stream;

    struct processor {
        std::function<bool(V&)> sync;         // false: drop the value
        std::function<task<bool>(V&)> async;  // the same, awaited
    };
    /// A stream this one forwards into: its topic's name, and what keeps it alive.
    struct derived {
        std::string topic;
        std::shared_ptr<void> owner;  // the stream (and the topic it made, if any)
        void* stream;
    };

    bool chained() const noexcept { return !derived_.empty(); }
    /// True if an operator may be added now; false while the function runs again up to its
    /// through() or group_by() (the stream has it already); troupe::error for one added after
    /// them, which would never see a value.
    bool may_add_operator() const {
        if (!chained()) {
            return true;
        }
        if (replaying_) {
            return false;
        }
        throw error("streams: " + home_->name() +
                    ": add processors, filters and echoes before through() or group_by(): " +
                    "this stream forwards to '" + derived_.front().topic + "', and its values go there");
    }
    void check_may_forward(const std::string& topic) const {
        if (!derived_.empty()) {
            throw error("streams: " + home_->name() + ": a stream forwards to one topic only ('" +
                        derived_.front().topic + "'); to read '" + topic + "' too, forward the stream it gave");
        }
        if (home_->concurrency() != 1) {
            throw error("streams: " + home_->name() +
                        ": through() and group_by() need concurrency 1 (the forwarded order would be lost)");
        }
    }
    void clear_processors() noexcept override {
        processors_.clear();
        any_async_ = false;
    }
    void add_async(std::function<task<bool>(V&)> f) {
        processors_.push_back({{}, std::move(f)});
        any_async_ = true;
    }
    /// A topic named `name` of this stream's types and codecs, beside its first topic (made in
    /// the broker if it is not there, with the app's topic_partitions).
    std::shared_ptr<topic<K, V>> topic_named(const std::string& name) const {
        const auto& first = *sources_.front();
        topic_options o;
        o.key_serializer = first.key_serializer();
        o.value_serializer = first.value_serializer();
        o.partitions = first.broker_ptr()->partitions(name).value_or(0);
        return std::make_shared<topic<K, V>>(first.broker_ptr(), name, o, home_->app().options().topic_partitions,
                                             first.in_process());
    }
    /// One echo: to a topic, or to the topic of a name (kept by the stream).
    template <class T>
    void echo_to(const T& to) {
        if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            echo_topics_.push_back(topic_named(std::string(std::string_view(to))));
            const topic<K, V>& t = *echo_topics_.back();
            add_async([&t, this](V& v) { return echoed(t.send(v), t.name()); });
        } else {
            add_async([&to, this](V& v) { return echoed(to.send(v), to.name()); });
        }
    }
    const derived* find_derived(const std::string& topic) const {
        for (const auto& d : derived_) {
            if (d.topic == topic) {
                return &d;
            }
        }
        return nullptr;
    }
    const topic<K, V>& topic_for(const record& r) const {
        if (sources_.size() == 1) {
            return *sources_.front();
        }
        for (const auto* t : sources_) {
            if (t->name() == r.topic) {
                return *t;
            }
        }
        return *sources_.front();
    }

    /// The stream of `t`, fed by a forwarder of this stream that sends each record's value and
    /// headers there with the key `key_of(value, record)` gives (bytes). `keep` keeps `t` alive.
    template <class K2, class KeyOf>
    stream<K2, V>& forward_into(const topic<K2, V>& t, KeyOf key_of, std::shared_ptr<void> keep = {}) {
        if (const derived* found = find_derived(t.name())) {
            replaying_ = false;
            return *static_cast<stream<K2, V>*>(found->stream);
        }
        check_may_forward(t.name());
        detail::reader& r = home_->derive(t.name(), t.broker_ptr());
        auto next = std::make_shared<stream<K2, V>>(*home_, r, std::vector<const topic<K2, V>*>{&t});
        auto* raw = next.get();
        derived_.push_back(
            {t.name(),
             std::shared_ptr<void>(
                 new std::pair(next, std::move(keep)),
                 [](void* p) {
                     delete static_cast<std::pair<std::shared_ptr<stream<K2, V>>, std::shared_ptr<void>>*>(p);
                 }),
             raw});
        forwards_to_ = raw;
        home_->start(forward(&t, std::function<bytes(const V&, const record&)>(std::move(key_of))));
        return *raw;
    }
    /// The forwarder: each value of this stream goes to `to` (its record's bytes as they are,
    /// where the two topics code values alike), with a new key; the value is finished once the
    /// broker holds the copy.
    template <class K2>
    task<void> forward(const topic<K2, V>* to, std::function<bytes(const V&, const record&)> key_of) {
        for (;;) {
            std::optional<V> v = co_await next();
            if (!v) {
                co_return;
            }
            const record& from = *held_.back();
            bytes key;
            try {
                key = key_of(*v, from);
            } catch (const std::exception& e) {
                reader_->skip_bad(from, std::string("its new key: ") + e.what());
                held_.pop_back();
                continue;
            }
            outgoing copy = to->forward_of(*v, from, topic_for(from).value_serializer(), std::move(key));
            future<record_metadata> sent = to->broker_ptr()->produce(std::move(copy));
            co_await std::move(sent);
        }
    }

    /// An echo's send: done (the value goes on) once the broker holds the copy.
    task<bool> echoed(future<record_metadata> sent, std::string to) const {
        try {
            co_await std::move(sent);
        } catch (const std::exception& e) {
            troupe::logger()->error("streams: {}: a value echoed to '{}' was not sent: {}", home_->name(), to,
                                    e.what());
        }
        co_return true;
    }

    /// Runs the synchronous processors on `v`: false if one dropped it.
    bool process(V& v) {
        for (auto& p : processors_) {
            try {
                if (!p.sync(v)) {
                    return false;
                }
            } catch (const skip&) {
                return false;
            }
        }
        return true;
    }
    /// Decodes `r` into `out` (false, and acknowledged, if it does not decode or a processor
    /// drops it) and holds it. Synchronous processors only.
    bool accept(record_ptr r, std::optional<V>& out) {
        try {
            out.emplace(topic_for(*r).value_of(*r));
        } catch (const std::exception& e) {
            reader_->skip_bad(*r, e.what());
            return false;
        }
        if (!processors_.empty() && !process(*out)) {
            out.reset();
            reader_->ack(*r);
            return false;
        }
        held_.push_back(std::move(r));
        return true;
    }
    /// accept() with asynchronous processors too. The record is held while they run, so a
    /// cancelled processor leaves it in flight (read again after a restart), never lost.
    task<bool> accept_async(record_ptr r, std::optional<V>& out) {
        if (!any_async_) {
            co_return accept(std::move(r), out);
        }
        try {
            out.emplace(topic_for(*r).value_of(*r));
        } catch (const std::exception& e) {
            reader_->skip_bad(*r, e.what());
            co_return false;
        }
        const record& held = *held_.emplace_back(std::move(r));
        bool keep = true;
        for (auto& p : processors_) {
            try {
                if (p.sync) {
                    keep = p.sync(*out);
                } else {
                    task<bool> t = p.async(*out);
                    keep = co_await std::move(t);
                }
            } catch (const skip&) {
                keep = false;
            }
            if (!keep) {
                break;
            }
        }
        if (!keep) {
            out.reset();
            ack(held);
        }
        co_return keep;
    }
    /// Takes the next value among the records already fetched, if there is one (synchronous
    /// processors only).
    bool take_fetched(std::optional<V>& out) {
        while (record_ptr r = reader_->take_fetched()) {
            if (accept(std::move(r), out)) {
                return true;
            }
        }
        return false;
    }
    /// Waits for `room` (a broker's, for what this actor sent), then for a value.
    task<void> wait_for_room(future<void> room, std::optional<V>& out) {
        co_await std::move(room);
        if (!any_async_ && take_fetched(out)) {
            co_return;
        }
        task<void> value = wait_for_value(out);
        co_await std::move(value);
    }
    /// Waits for records until one gives a value.
    task<void> wait_for_value(std::optional<V>& out) {
        for (;;) {
            record_ptr r = co_await reader_->next_record();
            task<bool> accepted = accept_async(std::move(r), out);
            if (co_await std::move(accepted)) {
                co_return;
            }
        }
    }

    detail::stream_home* home_;
    std::vector<const topic<K, V>*> sources_;
    std::vector<processor> processors_;
    bool any_async_ = false;
    std::vector<derived> derived_;
    std::vector<std::shared_ptr<topic<K, V>>> echo_topics_;  // the topics echo() was given by name
};

}  // namespace troupe::streams
