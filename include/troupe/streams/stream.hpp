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

#include <exception>
#include <optional>
#include <utility>

namespace troupe::streams {

template <topic_value K, topic_value V>
class stream {
public:
    /// The next value. Never empty while the agent runs (a topic has no end); the agent's
    /// stopping cancels the wait (troupe::cancelled).
    task<std::optional<V>> next() {
        finish();
        for (;;) {
            record_ptr r = co_await core_->next_record();
            std::optional<V> value;
            try {
                value.emplace(topic_->value_of(*r));
            } catch (const std::exception& e) {
                core_->skip_bad(*r, e.what());
                continue;
            }
            current_ = std::move(r);
            co_return value;
        }
    }

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
    /// For the agent: the record being processed, for the reply to it.
    const record_ptr& current() const noexcept { return current_; }

private:
    detail::agent_core* core_;
    const topic<K, V>* topic_;
    record_ptr current_;
};

}  // namespace troupe::streams
