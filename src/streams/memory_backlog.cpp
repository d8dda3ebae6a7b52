// memory_broker's back-pressure: the bound on what a partition's readers have not committed,
// the records held back past it, and the actors that owe room (see memory_broker.cpp for the
// rest of the broker and its one lock, which everything here runs under unless it says not).
//
// A partition may hold max_backlog records that the slowest group with a member
// has not committed past (its limit, recomputed on commit, subscribe and leave: one compare on
// append). A record that would pass it is held back in the partition's queue, and every record
// after it too, so order is kept; a commit that makes room lets them in. produce()'s future
// completes then; produce_soon() waits for it, and so does produce() once the partition holds
// max_backlog records back, except on an actor's thread: there the actor is noted as owing
// room, and an agent waits for it before its next value (when_caller_may_produce()). A record
// held past the backlog timeout lets the partition overflow (with a warning) until its readers
// are back under the bound, so a reader stuck for good, or agents that wait on each other in a
// cycle, slow producers down without hanging them, and nothing is ever dropped.

#include "streams/memory_broker.hpp"

#include <troupe/core/detail/cell.hpp>

#include <chrono>
#include <limits>
#include <string>
#include <utility>

namespace troupe::streams::detail {

future<record_metadata> memory_broker::hold(topic_log& log, std::uint32_t p, outgoing r) {
    r.partition = p;
    auto& held = log.partitions[p].held;
    held.push_back(
        {std::move(r), promise<record_metadata>(), std::chrono::steady_clock::now() + options_.backlog_timeout});
    future<record_metadata> in = held.back().to.get_future();
    if (held.size() == 1) {
        wake_timer();  // a new earliest deadline of this partition
    }
    const void* actor = troupe::detail::running_cell();
    if (held.size() > options_.max_backlog && actor != nullptr && owing_.count(actor) == 0) {
        // An actor's thread is never blocked: its agent waits before its next value instead.
        promise<void> room;
        const std::uint64_t number = ++owing_numbers_;
        owing_.emplace(actor, owing_entry{number, room.get_future()});
        log.partitions[p].owed.push_back({actor, number, std::move(room)});
        actors_owing_room_.store(owing_.size(), std::memory_order_relaxed);
    }
    return in;
}

std::optional<future<void>> memory_broker::when_caller_may_produce() {
    if (!owes_room()) {
        return std::nullopt;
    }
    const void* actor = troupe::detail::running_cell();
    if (actor == nullptr) {
        return std::nullopt;
    }
    const std::lock_guard guard(lock_);
    auto it = owing_.find(actor);
    if (it == owing_.end()) {
        return std::nullopt;
    }
    future<void> room = std::move(it->second.room);
    owing_.erase(it);
    actors_owing_room_.store(owing_.size(), std::memory_order_relaxed);
    return room;
}

void memory_broker::set_limit(const std::string& name, topic_log& log, std::uint32_t p, completions& out) {
    partition_log& partition = log.partitions[p];
    if (options_.max_backlog == 0) {
        return;  // no bound: the limit stays at its maximum
    }
    const auto [slowest, floor] = slowest_reader(name, log, p);
    const std::uint64_t bound =
        slowest != nullptr ? floor + options_.max_backlog : std::numeric_limits<std::uint64_t>::max();
    if (partition.overflowing && partition.size() < bound) {
        partition.overflowing = false;  // the readers have caught up
    }
    partition.limit = partition.overflowing ? std::numeric_limits<std::uint64_t>::max() : bound;
    while (!partition.held.empty() && partition.size() < partition.limit) {
        auto& h = partition.held.front();
        const record& stored = append(log, p, h.r, out);
        out.produced.emplace_back(std::move(h.to),
                                  record_metadata{stored.topic, stored.partition, stored.offset, stored.timestamp_ms});
        partition.held.pop_front();
    }
    if (!partition.owed.empty() && partition.held.size() <= options_.max_backlog) {
        for (auto& o : partition.owed) {
            out.rooms.push_back(std::move(o.room));
            auto it = owing_.find(o.actor);
            if (it != owing_.end() && it->second.number == o.number) {
                owing_.erase(it);  // not taken: its actor need not wait any more
            }
        }
        partition.owed.clear();
        actors_owing_room_.store(owing_.size(), std::memory_order_relaxed);
    }
}

void memory_broker::set_limits(const std::string& name, completions& out) {
    topic_log& log = topics_.find(name)->second;
    for (std::uint32_t p = 0; p < log.partitions.size(); ++p) {
        set_limit(name, log, p, out);
    }
}

std::pair<const memory_broker::group_state*, std::uint64_t> memory_broker::slowest_reader(const std::string& name,
                                                                                          const topic_log& log,
                                                                                          std::uint32_t p) const {
    const topic_partition tp{name, p};
    const group_state* slowest = nullptr;
    std::uint64_t at = 0;
    for (const group_state* g : log.readers) {
        if (g->members.empty()) {
            continue;  // gone for good or not started: it holds nobody back
        }
        auto c = g->committed.find(tp);
        const std::uint64_t committed = c != g->committed.end() ? c->second : log.partitions[p].start();
        if (slowest == nullptr || committed < at) {
            slowest = g;
            at = committed;
        }
    }
    return {slowest, at};
}

std::string memory_broker::behind(const std::string& name, const topic_log& log, std::uint32_t p) const {
    const auto [slowest, at] = slowest_reader(name, log, p);
    for (const auto& [group, g] : groups_) {
        if (&g == slowest) {
            return "group '" + group + "' has committed up to offset " + std::to_string(at);
        }
    }
    return "no group reads it";
}

}  // namespace troupe::streams::detail
