#pragma once
/// \file
/// What a stream hands out besides values: events (a record with its key and value decoded,
/// acknowledged by hand or by an ack_guard at the end of a scope), the records a stream holds
/// until they are acknowledged, and streams::skip, which a processor throws to drop a value.
/// stream.hpp makes them; include that.

#include <troupe/streams/broker.hpp>
#include <troupe/streams/detail/app_core.hpp>
#include <troupe/streams/topic.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::streams {

/// Thrown by a processor to drop the value it was given: the value is acknowledged, and the
/// stream goes on with the next one.
class skip : public std::exception {
public:
    const char* what() const noexcept override { return "streams: a processor skipped the value"; }
};

namespace detail {

/// The records a stream has handed out and not yet finished, and their acknowledgement.
class holder {
public:
    explicit holder(reader& r) noexcept : reader_(&r) {}
    virtual ~holder() = default;
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;

    /// The stream at the end of the chain through() and group_by() make from this one: the one
    /// the function iterates.
    holder& active() noexcept {
        holder* h = this;
        while (h->forwards_to_ != nullptr) {
            h = h->forwards_to_;
        }
        return *h;
    }
    /// The record the last value came from, or null.
    const record* current() const noexcept { return held_.empty() ? nullptr : held_.back().get(); }
    /// Forgets the processors, before the function starts again (it adds them again): those of
    /// the end of the chain only, since the streams that forward keep theirs (their forwarders
    /// run on).
    void reset_operators() {
        for (holder* h = this; h->forwards_to_ != nullptr; h = h->forwards_to_) {
            h->replaying_ = true;  // its function adds its operators again: they are there
        }
        active().clear_processors();
    }

    /// Acknowledges `r` now if it is held; false if it was finished before.
    bool ack(const record& r) {
        for (auto it = held_.begin(); it != held_.end(); ++it) {
            if (it->get() == &r) {
                record_ptr done = std::move(*it);
                held_.erase(it);
                reader_->ack(*done);
                return true;
            }
        }
        return false;
    }
    bool holds(const record& r) const noexcept {
        for (const auto& h : held_) {
            if (h.get() == &r) {
                return true;
            }
        }
        return false;
    }
    /// Acknowledges every record held.
    void finish() {
        for (const auto& r : held_) {
            reader_->ack(*r);
        }
        held_.clear();
    }

protected:
    virtual void clear_processors() noexcept = 0;

    reader* reader_;
    std::vector<record_ptr> held_;  // in the order taken; the last is the current event
    holder* forwards_to_ = nullptr;
    bool replaying_ = false;  // the function runs again, up to its through() or group_by()
};

}  // namespace detail

/// Acknowledges an event when it goes out of scope (Faust's `async with event:`).
class ack_guard {
public:
    ack_guard(detail::holder& h, record_ptr r) noexcept : holder_(&h), record_(std::move(r)) {}
    ack_guard(ack_guard&& o) noexcept : holder_(o.holder_), record_(std::move(o.record_)) {}
    ack_guard(const ack_guard&) = delete;
    ack_guard& operator=(const ack_guard&) = delete;
    ack_guard& operator=(ack_guard&&) = delete;
    ~ack_guard() {
        if (record_) {
            holder_->ack(*record_);
        }
    }

private:
    detail::holder* holder_;
    record_ptr record_;
};

/// One record of a stream, its key and value decoded: what stream.events() gives. Acknowledged
/// when the stream moves past it, or earlier by ack() or an ack_guard.
template <topic_value K, topic_value V>
class event {
public:
    event(detail::holder& h, record_ptr r, K key, V value)
        : holder_(&h), record_(std::move(r)), key_(std::move(key)), value_(std::move(value)) {}

    const K& key() const noexcept { return key_; }
    const V& value() const noexcept { return value_; }
    V& value() noexcept { return value_; }
    const std::string& topic() const noexcept { return record_->topic; }
    std::uint32_t partition() const noexcept { return record_->partition; }
    std::uint64_t offset() const noexcept { return record_->offset; }
    /// Milliseconds since the epoch.
    std::int64_t timestamp_ms() const noexcept { return record_->timestamp_ms; }
    const std::vector<header>& headers() const noexcept { return record_->headers; }
    /// The value of header `name`, or null.
    const bytes* header_value(std::string_view name) const noexcept { return detail::header_of(*record_, name); }
    /// The record as the broker stores it: its raw key and value bytes.
    const record& message() const noexcept { return *record_; }

    /// Acknowledges the event now: it may be committed. Idempotent; on the stream's actor.
    void ack() { holder_->ack(*record_); }
    /// True once acknowledged.
    bool acked() const noexcept { return !holder_->holds(*record_); }
    /// A guard that acknowledges the event when it goes out of scope.
    [[nodiscard]] ack_guard ack_at_exit() const noexcept { return ack_guard(*holder_, record_); }

private:
    detail::holder* holder_;
    record_ptr record_;
    K key_;
    V value_;
};

}  // namespace troupe::streams
