// memory_consumer: a member of a consumer group of the embedded broker. Everything it keeps is
// under the broker's lock (see memory_broker.cpp for how waits are completed after unlocking).

#include "streams/memory_broker.hpp"

#include <troupe/core/errors.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace troupe::streams::detail {

bool memory_consumer::reads(const std::string& topic) const {
    return std::binary_search(topics_.begin(), topics_.end(), topic);
}

std::vector<record_ptr> memory_consumer::take(std::size_t max) {
    std::vector<record_ptr> records;
    if (positions_.empty()) {
        return records;
    }
    const std::size_t n = positions_.size();
    auto it = std::next(positions_.begin(), static_cast<std::ptrdiff_t>(first_ % n));
    for (std::size_t k = 0; k < n && records.size() < max; ++k) {
        auto& [tp, position] = *it;
        if (!held_back(tp)) {
            const auto& log = broker_->log_of(tp);
            if (position < log.start()) {
                position = log.start();  // a group new to the topic, after records were freed: the first there is
            }
            if (position < log.size()) {
                records.reserve(records.size() + std::min<std::uint64_t>(max - records.size(), log.size() - position));
            }
            while (position < log.size() && records.size() < max) {
                records.push_back(log.at(position));
                ++position;
            }
        }
        if (++it == positions_.end()) {
            it = positions_.begin();
        }
    }
    first_ = (first_ + 1) % n;  // the next take starts one partition further
    return records;
}

bool memory_consumer::has_records() const {
    for (const auto& [tp, position] : positions_) {
        if (held_back(tp)) {
            continue;
        }
        const auto& log = broker_->log_of(tp);
        if (std::max(position, log.start()) < log.size()) {  // below the start, take() reads from it
            return true;
        }
    }
    return false;
}

void memory_consumer::watch() {
    for (const auto& [tp, position] : positions_) {
        if (!held_back(tp)) {
            memory_broker::partition_log& log = broker_->log_of(tp);
            log.watchers.push_back(this);
            watched_.push_back(&log);
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
    std::vector<record_ptr> records = take(max);
    if (!records.empty()) {
        return make_ready_future(std::move(records));
    }
    waiting_.emplace();
    waiting_max_ = max;
    watch();
    return waiting_->get_future();
}

std::vector<record_ptr> memory_consumer::poll(std::size_t max) {
    const std::lock_guard guard(broker_->lock_);
    if (max == 0) {
        throw error("memory broker: a poll of 0 records");
    }
    if (closed_) {
        throw error("memory broker: a member of group '" + group_ + "' polled after leaving it");
    }
    if (waiting_) {
        throw error("memory broker: a member of group '" + group_ + "' polled while its fetch waits");
    }
    return take(max);
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
    if (positions_.count(tp) != 0 && paused_.insert(tp).second && waits()) {
        unwatch();
        watch();  // no longer woken by that partition
    }
}

void memory_consumer::resume(const topic_partition& tp) {
    memory_broker::completions out;
    {
        const std::lock_guard guard(broker_->lock_);
        if (paused_.erase(tp) != 0 && waits()) {
            broker_->serve_waiting(*this, out);
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
        unwatch();
        abandoned.swap(waiting_);
        abandoned_wait.swap(readable_);
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
