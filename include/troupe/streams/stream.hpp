#pragma once
/// \file
/// stream<V>: what an agent iterates. Each next() gives the next value of the agent's topic,
/// decoded; the value before it is then finished (acknowledged), so the agent's commits never
/// pass a value still being processed. A value that does not decode is logged (with its topic,
/// partition and offset), acknowledged and skipped.
///
///     troupe::generator<int> adding(troupe::streams::stream<add>& s) {
///         while (std::optional<add> v = co_await s.next()) {
///             co_yield v->a + v->b;             // the reply to an ask of this value
///         }
///     }

#include <troupe/async/task.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/detail/app_core.hpp>
#include <troupe/streams/topic.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace troupe::streams {

template <topic_value K, topic_value V>
class stream {
public:
    /// Awaiting next(): a value already fetched is taken without suspending (no coroutine
    /// frame); only when none is there does the awaiting coroutine wait for a fetch.
    class next_awaiter {
    public:
        using troupe_awaitable = void;
        explicit next_awaiter(stream& s) noexcept : s_(&s) {}
        bool await_ready() {
            s_->finish();
            return s_->take_fetched(value_);
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> awaiting) {
            fetch_ = s_->wait_for_value(value_);
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
        std::optional<V> value_;
        task<void> fetch_;
        std::optional<typename task<void>::awaiter> inner_;
    };

    /// The next value. Never empty while the agent runs (a topic has no end); the agent's
    /// stopping cancels the wait (troupe::cancelled).
    next_awaiter next() noexcept { return next_awaiter(*this); }

    /// The record the last value came from: its topic, partition, offset, timestamp, key and
    /// headers, and its raw bytes. Null before the first value and after finish().
    const record* event() const noexcept { return current_.get(); }
    /// Its key, decoded.
    K key() const { return current_ ? topic_->key_of(*current_) : K{}; }
    /// Finishes the current value now (next() does it too): acknowledged, so it may be committed.
    void finish() {
        if (current_) {
            core_->ack(*current_);
            current_.reset();
        }
    }

    /// For the agent.
    stream(detail::agent_core& core, const topic<K, V>& t) noexcept : core_(&core), topic_(&t) {}
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

private:
    /// Decodes `r` into `out` and makes it the current record; a bad value is skipped.
    bool accept(record_ptr r, std::optional<V>& out) {
        try {
            out.emplace(topic_->value_of(*r));
        } catch (const std::exception& e) {
            core_->skip_bad(*r, e.what());
            return false;
        }
        current_ = std::move(r);
        return true;
    }
    /// Takes the next value among the records already fetched, if there is one.
    bool take_fetched(std::optional<V>& out) {
        while (record_ptr r = core_->take_fetched()) {
            if (accept(std::move(r), out)) {
                return true;
            }
        }
        return false;
    }
    /// Waits for fetches until a value decodes.
    task<void> wait_for_value(std::optional<V>& out) {
        for (;;) {
            record_ptr r = co_await core_->next_record();
            if (accept(std::move(r), out)) {
                co_return;
            }
        }
    }

    detail::agent_core* core_;
    const topic<K, V>* topic_;
    record_ptr current_;
};

}  // namespace troupe::streams
