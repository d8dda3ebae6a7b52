// memory_consumer: a member of a consumer group of the embedded broker. What it keeps is under
// the broker's lock (see memory_broker.cpp for how waits are completed after unlocking), except
// what its reads go through: a poll takes records without the lock while the partitions it
// reads have not changed (a counter the broker bumps under the lock says so), reading each
// log's end as published and following its chunks' links, and takes the lock only to see a
// change, to find a chunk, or to wait.

#include "streams/memory_broker.hpp"

#include <troupe/core/errors.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace troupe::streams::detail {

bool memory_consumer::reads(const std::string& topic) const {
    return std::binary_search(topics_.begin(), topics_.end(), topic);
}

void memory_consumer::assign(const topic_partition& tp, std::uint64_t offset) {
    positions_[tp] = std::make_shared<cursor>(&broker_->log_of(tp), offset);
    changed();
}

void memory_consumer::unassign(const topic_partition& tp) {
    positions_.erase(tp);
    revoking_.erase(tp);
    paused_.erase(tp);
    changed();
}

void memory_consumer::sync() {
    const std::uint64_t now = changes_.load(std::memory_order_relaxed);
    if (now == seen_) {
        return;
    }
    view_.clear();
    for (const auto& [tp, at] : positions_) {
        view_.push_back({at, held_back(tp)});
    }
    first_ = 0;
    seen_ = now;
}

std::shared_ptr<record_chunk> memory_consumer::locate(cursor& c) {
    const memory_broker::partition_log& log = *c.log;
    // Below the start, the records are gone (a group new to the topic after they were freed):
    // it reads from the first there is.
    const std::uint64_t at = std::max(c.position.load(std::memory_order_relaxed), log.start());
    c.position.store(at, std::memory_order_release);
    std::shared_ptr<record_chunk> chunk;
    if (at < log.size()) {
        std::tie(chunk, c.base) = log.chunk_of(at);
    } else if (at > log.start()) {
        std::tie(chunk, c.base) = log.chunk_of(at - 1);  // the last chunk, ending at `at` or not full yet
    }                                                    // else it holds no chunk: found once a record comes
    c.chunk = chunk;
    return chunk;
}

bool memory_consumer::take(std::vector<record_ptr>& records, std::size_t max, bool locked) {
    constexpr std::uint64_t chunk_records = record_chunk::records_in_one;
    const std::size_t n = view_.size();
    bool complete = true;
    for (std::size_t k = 0; k < n && records.size() < max; ++k) {
        const viewed& v = view_[(first_ + k) % n];
        if (v.held_back) {
            continue;
        }
        cursor& c = *v.at;
        const std::uint64_t end = c.log->published_end();
        std::uint64_t position = c.position.load(std::memory_order_relaxed);
        if (position >= end) {
            continue;
        }
        std::shared_ptr<record_chunk> chunk = c.chunk.lock();
        if (chunk == nullptr || position < c.base || position > c.base + chunk_records) {
            if (!locked) {
                complete = false;
                continue;
            }
            chunk = locate(c);
            position = c.position.load(std::memory_order_relaxed);
        }
        records.reserve(records.size() + std::min<std::uint64_t>(max - records.size(), end - position));
        while (position < end && records.size() < max) {
            if (position == c.base + chunk_records) {
                // Past its chunk: the next one, which the log still holds unless the partition
                // was taken from this member meanwhile; then only the lock finds where to go on.
                std::shared_ptr<record_chunk> next = chunk->next.lock();
                if (next == nullptr) {
                    c.position.store(position, std::memory_order_release);
                    if (!locked) {
                        complete = false;
                        break;
                    }
                    chunk = locate(c);
                    position = c.position.load(std::memory_order_relaxed);
                    continue;
                }
                chunk = std::move(next);
                c.chunk = chunk;
                c.base = position;
            }
            records.emplace_back(chunk, &chunk->records[position - c.base]);
            ++position;
        }
        c.position.store(position, std::memory_order_release);
    }
    if (n != 0) {
        first_ = (first_ + 1) % n;  // the next take starts one partition further
    }
    return complete;
}

bool memory_consumer::has_records() const {
    for (const auto& [tp, at] : positions_) {
        if (held_back(tp)) {
            continue;
        }
        const auto& log = *at->log;
        // Below the start, take() reads from it.
        if (std::max(at->position.load(std::memory_order_relaxed), log.start()) < log.size()) {
            return true;
        }
    }
    return false;
}

void memory_consumer::watch() {
    for (const auto& [tp, at] : positions_) {
        if (!held_back(tp)) {
            at->log->watchers.push_back(this);
            watched_.push_back(at->log);
        }
    }
}

void memory_consumer::unwatch() {
    for (memory_broker::partition_log* log : watched_) {
        std::erase(log->watchers, this);
    }
    watched_.clear();
}

std::vector<topic_partition> memory_consumer::assignment() const {
    const std::lock_guard guard(broker_->lock_);
    std::vector<topic_partition> tps;
    for (const auto& [tp, position] : positions_) {
        tps.push_back(tp);
    }
    return tps;
}

std::uint64_t memory_consumer::generation() const {
    const std::lock_guard guard(broker_->lock_);
    return generation_;
}

std::vector<topic_partition> memory_consumer::revoking() const {
    const std::lock_guard guard(broker_->lock_);
    std::vector<topic_partition> tps;
    for (const auto& [tp, until] : revoking_) {
        tps.push_back(tp);
    }
    return tps;
}

future<void> memory_consumer::when_revoking() {
    const std::lock_guard guard(broker_->lock_);
    if (closed_) {
        return make_failed_future<void>(
            error("memory broker: a member of group '" + group_ + "' waited for revocations after leaving it"));
    }
    if (!revoking_.empty()) {
        return make_ready_future();
    }
    if (!revoke_wait_) {
        revoke_wait_.emplace();
    }
    return revoke_wait_->get_future();
}

void memory_consumer::release(const std::vector<topic_partition>& tps) {
    memory_broker::completions out;
    {
        const std::lock_guard guard(broker_->lock_);
        if (closed_) {
            return;
        }
        auto& g = broker_->groups_.at(group_);
        for (const auto& tp : tps) {
            if (revoking_.count(tp) != 0) {
                broker_->hand_over(g, *this, tp, out);
            }
        }
    }
    out.run();
}

future<std::vector<record_ptr>> memory_consumer::fetch(std::size_t max) {
    const std::lock_guard guard(broker_->lock_);
    if (max == 0) {
        return make_failed_future<std::vector<record_ptr>>(error("memory broker: a fetch of 0 records"));
    }
    if (closed_) {
        return make_failed_future<std::vector<record_ptr>>(
            error("memory broker: a member of group '" + group_ + "' fetched after leaving it"));
    }
    if (waiting_) {
        return make_failed_future<std::vector<record_ptr>>(
            error("memory broker: a member of group '" + group_ + "' fetched while its previous fetch still waits"));
    }
    if (readable_) {
        return make_failed_future<std::vector<record_ptr>>(error(
            "memory broker: a member of group '" + group_ + "' fetched while it waits for records to be readable"));
    }
    sync();
    std::vector<record_ptr> records;
    take(records, max, true);
    if (!records.empty()) {
        return make_ready_future(std::move(records));
    }
    waiting_.emplace();
    waiting_max_ = max;
    note_waits();
    watch();
    return waiting_->get_future();
}

std::vector<record_ptr> memory_consumer::poll(std::size_t max) {
    if (max == 0) {
        throw error("memory broker: a poll of 0 records");
    }
    std::vector<record_ptr> records;
    // Without the broker's lock while nothing this member reads has changed and it waits for
    // nothing: the lock stays with the producers, the logs' ends are read as published, and
    // their chunks are followed from one to the next.
    if (!waits_.load(std::memory_order_acquire) && changes_.load(std::memory_order_acquire) == seen_ &&
        take(records, max, false)) {
        return records;
    }
    const std::lock_guard guard(broker_->lock_);
    if (closed_) {
        throw error("memory broker: a member of group '" + group_ + "' polled after leaving it");
    }
    if (waiting_) {
        throw error("memory broker: a member of group '" + group_ + "' polled while its fetch waits");
    }
    sync();
    take(records, max, true);
    return records;
}

future<void> memory_consumer::when_readable() {
    const std::lock_guard guard(broker_->lock_);
    if (closed_) {
        return make_failed_future<void>(
            error("memory broker: a member of group '" + group_ + "' waited for records after leaving it"));
    }
    if (waiting_) {
        return make_failed_future<void>(
            error("memory broker: a member of group '" + group_ + "' waited for records while its fetch waits"));
    }
    if (readable_) {
        return readable_->get_future();  // the wait already pending
    }
    if (has_records()) {
        return make_ready_future();
    }
    readable_.emplace();
    note_waits();
    watch();
    return readable_->get_future();
}

void memory_consumer::commit(const std::vector<std::pair<topic_partition, std::uint64_t>>& offsets) {
    // The chunks a commit drops are released after unlocking (declared before the guard): the
    // last reference frees a few hundred records, which the producers need not wait for.
    std::vector<std::shared_ptr<const void>> freed;
    memory_broker::completions out;  // held records let in: their futures complete after unlocking
    std::unique_lock guard(broker_->lock_);
    if (closed_) {
        throw error("memory broker: a member of group '" + group_ + "' committed after leaving it");
    }
    for (const auto& [tp, offset] : offsets) {
        if (positions_.count(tp) == 0) {
            throw error("memory broker: a member of group '" + group_ + "' committed " + to_string(tp) +
                        ", which it does not read");
        }
        const std::uint64_t end = broker_->log_of(tp).size();
        if (offset > end) {
            throw error("memory broker: a commit of " + to_string(tp) + " at offset " + std::to_string(offset) +
                        ", past its end (" + std::to_string(end) + ")");
        }
    }
    auto& g = broker_->groups_.at(group_);
    for (const auto& [tp, offset] : offsets) {
        // Below the start, the records are gone: the group reads again from the first there is.
        g.committed[tp] = std::max(offset, broker_->log_of(tp).start());
    }
    for (const auto& [tp, offset] : offsets) {
        broker_->drop_finished(tp, freed);
        auto& log = *broker_->topics_.find(tp.topic);
        broker_->set_limit(log.first, log.second, tp.partition, out);
    }
    guard.unlock();
    out.run();
}

void memory_consumer::pause(const topic_partition& tp) {
    const std::lock_guard guard(broker_->lock_);
    if (positions_.count(tp) != 0 && paused_.insert(tp).second) {
        changed();
        if (waits()) {
            unwatch();
            watch();  // no longer woken by that partition
        }
    }
}

void memory_consumer::resume(const topic_partition& tp) {
    memory_broker::completions out;
    {
        const std::lock_guard guard(broker_->lock_);
        if (paused_.erase(tp) != 0) {
            changed();
            if (waits()) {
                broker_->serve_waiting(*this, out);
            }
        }
    }
    out.run();
}

void memory_consumer::close() {
    std::optional<promise<std::vector<record_ptr>>> abandoned;
    std::optional<promise<void>> abandoned_wait;
    std::optional<promise<void>> abandoned_revoke_wait;
    memory_broker::completions out;
    {
        const std::lock_guard guard(broker_->lock_);
        if (closed_) {
            return;
        }
        closed_ = true;
        changed();
        unwatch();
        abandoned.swap(waiting_);
        abandoned_wait.swap(readable_);
        note_waits();
        abandoned_revoke_wait.swap(revoke_wait_);
        positions_.clear();  // free: sharing out gives them on at once (its commits are made)
        paused_.clear();
        revoking_.clear();
        auto& g = broker_->groups_.at(group_);  // it joined when it was made
        std::erase(g.members, this);
        if (!g.members.empty()) {
            broker_->share_out(g, out);
        }
        for (const auto& t : topics_) {
            broker_->set_limits(t, out);  // a group without members holds nobody back
        }
    }
    if (abandoned) {
        abandoned->set_exception(std::make_exception_ptr(
            error("memory broker: the member of group '" + group_ + "' left the group while its fetch waited")));
    }
    if (abandoned_wait) {
        abandoned_wait->set_exception(std::make_exception_ptr(
            error("memory broker: the member of group '" + group_ + "' left the group while it waited for records")));
    }
    if (abandoned_revoke_wait) {
        abandoned_revoke_wait->set_exception(std::make_exception_ptr(error(
            "memory broker: the member of group '" + group_ + "' left the group while it waited for revocations")));
    }
    out.run();
}

}  // namespace troupe::streams::detail
