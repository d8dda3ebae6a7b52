// memory_broker: one mutex guards the logs, the groups and their members' positions (a member's
// poll reads without it while nothing it reads changes: see memory_consumer.cpp). A change
// that lets a waiting fetch complete (a produce, a resume, a new assignment) takes that fetch's
// records under the lock and completes its promise after unlocking, so no continuation runs
// under the lock. A when_readable() wait is completed the same way but takes nothing: its
// member polls when it runs, and takes every record that came meanwhile in one go. Each
// partition lists the members waiting on it, so an append with nobody waiting (the usual case
// while a reader keeps up in batches) wakes nobody and looks at no group. A partition keeps its
// records in place in chunks of a few hundred that never move; the record_ptrs handed out share
// their chunk, so an append allocates nothing but the record's own bytes most of the time.
//
// Rebalancing is cooperative: a partition that sharing out gives to another member is first
// revoked from the one holding it, which gets no more of its records, finishes those it has,
// commits and releases it; only then does the new member read it, from the group's committed
// offset. A thread of the broker's, started with the first revocation, hands over what a member
// keeps past the rebalance timeout.
//
// Retention by interest (NATS JetStream's "interest" policy): a topic remembers every group that
// has subscribed to it, and a commit drops the chunks of its partition that all of them have
// committed past and no member of theirs still reads in. A group that has committed nothing in
// a partition holds all of it (it may still read it from the start); a topic no group has
// subscribed to keeps everything. Dropping happens on commit, not on append or read, so the
// hot paths only pay for one more offset in the index arithmetic. The log lets go of a chunk;
// record_ptrs still held keep it alive, and whoever drops the last one frees it.
//
// Back-pressure (the backlog bound, records held back, actors owing room): memory_backlog.cpp.

#include "streams/memory_broker.hpp"

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <algorithm>
#include <chrono>
#include <utility>

namespace troupe::streams::detail {

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// --- broker ----------------------------------------------------------------------------------

memory_broker::~memory_broker() {
    {
        const std::lock_guard guard(lock_);
        ending_ = true;
    }
    deadline_.notify_all();
    if (timer_.joinable()) {
        if (timer_.get_id() == std::this_thread::get_id()) {
            timer_.detach();  // its last reference went in a completion it ran; it returns at once
        } else {
            timer_.join();
        }
    }
}

void memory_broker::create_topic(const std::string& topic, std::uint32_t partitions) {
    if (topic.empty()) {
        throw error("memory broker: a topic needs a name");
    }
    if (partitions == 0) {
        throw error("memory broker: topic '" + topic + "' needs at least 1 partition");
    }
    const std::lock_guard guard(lock_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) {
        if (it->second.partitions.size() != partitions) {
            throw error("memory broker: topic '" + topic + "' exists with " +
                        std::to_string(it->second.partitions.size()) + " partitions, not " +
                        std::to_string(partitions));
        }
        return;
    }
    topics_[topic].partitions = std::vector<partition_log>(partitions);
}

std::optional<std::uint32_t> memory_broker::partitions(const std::string& topic) const {
    const std::lock_guard guard(lock_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(it->second.partitions.size());
}

std::vector<std::string> memory_broker::topics() const {
    const std::lock_guard guard(lock_);
    std::vector<std::string> names;
    for (const auto& [name, log] : topics_) {
        names.push_back(name);
    }
    return names;
}

const memory_broker::topic_log& memory_broker::topic_of(const std::string& topic) const {
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
        throw error("memory broker: no topic '" + topic + "'");
    }
    return it->second;
}

const memory_broker::partition_log& memory_broker::partition_of(const topic_partition& tp) const {
    const topic_log& log = topic_of(tp.topic);
    if (tp.partition >= log.partitions.size()) {
        throw error("memory broker: no partition " + to_string(tp) + " (the topic has " +
                    std::to_string(log.partitions.size()) + ")");
    }
    return log.partitions[tp.partition];
}

std::uint64_t memory_broker::end_offset(const topic_partition& tp) const {
    const std::lock_guard guard(lock_);
    return partition_of(tp).size();
}

std::uint64_t memory_broker::start_offset(const topic_partition& tp) const {
    const std::lock_guard guard(lock_);
    return partition_of(tp).start();
}

memory_broker::partition_log& memory_broker::log_of(const topic_partition& tp) {
    return topics_.find(tp.topic)->second.partitions[tp.partition];
}

// --- partitions ------------------------------------------------------------------------------

record& memory_broker::partition_log::next_slot(const std::shared_ptr<chunk_pool>& pool) {
    const std::uint64_t end = size();
    if (end == base_ + chunks_.size() * chunk_records) {
        std::shared_ptr<record_chunk> made = chunk_pool::take(pool);
        if (!chunks_.empty() && chunks_.back() != nullptr) {
            chunks_.back()->next = made;  // before the first record in it is published
        }
        chunks_.push_back(std::move(made));
    }
    return chunks_.back()->records[end % chunk_records];
}

void memory_broker::partition_log::drop_before(std::uint64_t floor, std::vector<std::shared_ptr<const void>>& freed) {
    if (floor <= start_) {
        return;
    }
    // Every chunk from start_ up to floor is full (floor <= size()), so it is there to drop.
    const std::uint64_t whole = (floor - start_) / chunk_records;
    for (std::uint64_t k = 0; k < whole; ++k) {
        freed.push_back(std::move(chunks_[first_++]));
    }
    start_ += whole * chunk_records;
    if (first_ > 0 && 2 * first_ >= chunks_.size()) {
        // The null slots are at least half: erasing them moves no more chunks than were dropped.
        chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(first_));
        first_ = 0;
        base_ = start_;
    }
}

void memory_broker::drop_finished(const topic_partition& tp, std::vector<std::shared_ptr<const void>>& freed) {
    topic_log& topic = topics_.find(tp.topic)->second;
    partition_log& log = topic.partitions[tp.partition];
    if (topic.readers.empty()) {
        return;  // nobody has said it is done with anything
    }
    std::uint64_t floor = log.size();
    for (const group_state* g : topic.readers) {
        auto c = g->committed.find(tp);
        if (c == g->committed.end()) {
            return;  // a group that has committed nothing here may still read all of it
        }
        floor = std::min(floor, c->second);
        for (const memory_consumer* m : g->members) {
            // A member may read behind its group's commit (it committed ahead of its reads).
            auto p = m->positions_.find(tp);
            if (p != m->positions_.end()) {
                floor = std::min(floor, std::max(p->second->position.load(std::memory_order_acquire), log.start()));
            }
        }
    }
    log.drop_before(floor, freed);
}

std::pair<memory_broker::topic_log*, std::uint32_t> memory_broker::place(const outgoing& r) {
    if (last_name_ == nullptr || *last_name_ != r.topic) {
        auto it = topics_.find(r.topic);
        if (it == topics_.end()) {
            throw error("memory broker: cannot produce to '" + r.topic + "': no such topic");
        }
        last_name_ = &it->first;
        last_log_ = &it->second;
    }
    topic_log& log = *last_log_;
    const auto count = static_cast<std::uint32_t>(log.partitions.size());
    if (r.partition) {
        if (*r.partition >= count) {
            throw error("memory broker: cannot produce to partition " + std::to_string(*r.partition) + " of '" +
                        r.topic + "', which has " + std::to_string(count));
        }
        return {&log, *r.partition};
    }
    if (!r.key.empty()) {
        return {&log, partition_for_key(r.key, count)};
    }
    const std::uint32_t p = log.next_in_turn;
    log.next_in_turn = (log.next_in_turn + 1) % count;
    return {&log, p};
}

const record& memory_broker::append(topic_log& log, std::uint32_t p, outgoing& r, completions& out) {
    partition_log& partition = log.partitions[p];
    record& stored = partition.next_slot(chunks_);
    stored.topic = std::move(r.topic);
    stored.partition = p;
    stored.offset = partition.size();
    stored.timestamp_ms = r.timestamp_ms ? *r.timestamp_ms : now_ms();
    stored.key = std::move(r.key);
    stored.value = std::move(r.value);
    stored.headers = std::move(r.headers);
    stored.object = std::move(r.object);
    partition.publish();

    if (!partition.watchers.empty()) {
        // Serving a member takes it off every list it watches, this one included: a copy.
        const std::vector<memory_consumer*> woken = partition.watchers;
        for (memory_consumer* m : woken) {
            serve_waiting(*m, out);
        }
    }
    return stored;
}

memory_broker::put_result memory_broker::put(outgoing& r, completions& out, record_metadata* where) {
    if (!r.timestamp_ms) {
        r.timestamp_ms = now_ms();  // before locking: the producers' critical section stays short
    }
    const std::lock_guard guard(lock_);
    auto [log, p] = place(r);
    partition_log& partition = log->partitions[p];
    if (!partition.open()) {
        future<record_metadata> held = hold(*log, p, std::move(r));
        return {std::move(held), partition.held.size() > options_.max_backlog};
    }
    const record& stored = append(*log, p, r, out);
    if (where != nullptr) {
        where->partition = stored.partition;
        where->offset = stored.offset;
        where->timestamp_ms = stored.timestamp_ms;
        where->topic = stored.topic;
    }
    return {};
}

future<record_metadata> memory_broker::produce(outgoing r) {
    completions out;
    record_metadata where;
    put_result put_in;
    try {
        put_in = put(r, out, &where);
    } catch (...) {
        return make_failed_future<record_metadata>(std::current_exception());
    }
    if (put_in.held) {
        // A partition already holding max_backlog records back holds their producer too, on a
        // thread of its own (never an actor's): one that drops its futures cannot fill memory.
        if (put_in.hold_is_full && troupe::detail::running_cell() == nullptr) {
            put_in.held->wait();
        }
        return std::move(*put_in.held);
    }
    out.run();
    return make_ready_future(std::move(where));  // its state allocated after unlocking
}

void memory_broker::produce_soon(outgoing r) {
    completions out;
    put_result put_in = put(r, out, nullptr);
    out.run();
    if (put_in.held && troupe::detail::running_cell() == nullptr) {
        put_in.held->get();  // the producer waits with its record: back-pressure (an actor is never blocked)
    }
}

std::unique_ptr<consumer> memory_broker::subscribe(const std::string& group, std::vector<std::string> topics) {
    if (group.empty()) {
        throw error("memory broker: a consumer group needs a name");
    }
    if (topics.empty()) {
        throw error("memory broker: a member of group '" + group + "' must read at least one topic");
    }
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    std::unique_ptr<memory_consumer> member;
    completions out;
    {
        const std::lock_guard guard(lock_);
        for (const auto& t : topics) {
            (void)topic_of(t);  // throws for a topic that does not exist
        }
        member = std::make_unique<memory_consumer>(shared_from_this(), group, std::move(topics));
        group_state& g = groups_[group];
        for (const auto& t : member->topics_) {
            auto& readers = topics_.find(t)->second.readers;  // the group's interest holds the topic's records
            if (std::find(readers.begin(), readers.end(), &g) == readers.end()) {
                readers.push_back(&g);
            }
        }
        g.members.push_back(member.get());
        share_out(g, out);
        for (const auto& t : member->topics_) {
            set_limits(t, out);  // a group with a member now holds producers back
        }
    }
    out.run();
    return member;
}

std::optional<std::uint64_t> memory_broker::committed(const std::string& group, const topic_partition& tp) const {
    const std::lock_guard guard(lock_);
    auto g = groups_.find(group);
    if (g == groups_.end()) {
        return std::nullopt;
    }
    auto it = g->second.committed.find(tp);
    if (it == g->second.committed.end()) {
        return std::nullopt;
    }
    return it->second;
}

void memory_broker::share_out(group_state& g, completions& out) {
    // Partition p of every topic goes to the p-th (modulo) of the members reading that topic,
    // in the order they joined: topics with the same partition count are read partition by
    // partition by the same member (what joins of co-partitioned topics need). A partition that
    // another member holds is revoked from it: it goes on when that member releases it.
    ++g.generation;
    std::set<std::string> read;
    std::map<topic_partition, memory_consumer*> holder;
    for (memory_consumer* m : g.members) {
        read.insert(m->topics_.begin(), m->topics_.end());
        for (const auto& [tp, position] : m->positions_) {
            holder[tp] = m;
        }
    }
    g.target.clear();
    const auto deadline = std::chrono::steady_clock::now() + options_.rebalance_timeout;
    bool revoked = false;
    for (const std::string& topic : read) {
        std::vector<memory_consumer*> readers;
        std::copy_if(g.members.begin(), g.members.end(), std::back_inserter(readers),
                     [&](memory_consumer* m) { return m->reads(topic); });
        const auto count = static_cast<std::uint32_t>(topic_of(topic).partitions.size());
        for (std::uint32_t p = 0; p < count; ++p) {
            memory_consumer* owner = readers[p % readers.size()];
            const topic_partition tp{topic, p};
            g.target[tp] = owner;
            auto held = holder.find(tp);
            if (held == holder.end()) {
                auto c = g.committed.find(tp);
                owner->assign(tp, c != g.committed.end() ? c->second : 0);
            } else if (held->second == owner) {
                owner->revoking_.erase(tp);  // it keeps it (and where it was); a revocation under way is called off
            } else if (held->second->revoking_.emplace(tp, deadline).second) {
                revoked = true;  // a revocation already under way keeps its deadline
            }
        }
    }
    for (memory_consumer* m : g.members) {
        m->generation_ = g.generation;
        m->changed();  // its partitions, or those being revoked
        if (!m->revoking_.empty() && m->revoke_wait_) {
            out.readable.push_back(std::move(*m->revoke_wait_));
            m->revoke_wait_.reset();
        }
        if (m->waits()) {
            serve_waiting(*m, out);  // on its partitions now, without those being revoked
        }
    }
    if (revoked) {
        wake_timer();
    }
}

void memory_broker::hand_over(group_state& g, memory_consumer& m, const topic_partition& tp, completions& out) {
    m.unassign(tp);
    auto t = g.target.find(tp);
    if (t == g.target.end() || t->second == &m) {
        return;
    }
    memory_consumer& to = *t->second;
    auto c = g.committed.find(tp);
    to.assign(tp, c != g.committed.end() ? c->second : 0);
    if (to.waits()) {
        serve_waiting(to, out);
    }
}

void memory_broker::wake_timer() {
    if (!timer_.joinable()) {
        timer_ = std::thread([this] { keep_deadlines(); });
    }
    deadline_.notify_one();
}

void memory_broker::keep_deadlines() {
    std::unique_lock guard(lock_);
    while (!ending_) {
        const auto now = std::chrono::steady_clock::now();
        auto next = std::chrono::steady_clock::time_point::max();
        completions out;
        std::vector<std::string> overdue;
        for (auto& [name, g] : groups_) {
            for (memory_consumer* m : g.members) {
                std::vector<topic_partition> late;
                for (const auto& [tp, until] : m->revoking_) {
                    if (until <= now) {
                        late.push_back(tp);
                    } else {
                        next = std::min(next, until);
                    }
                }
                for (const auto& tp : late) {
                    overdue.push_back("memory broker: a member of group '" + name + "' kept " + to_string(tp) +
                                      " past the rebalance timeout (" +
                                      std::to_string(options_.rebalance_timeout.count()) +
                                      " ms); it goes to its new member, which may read again what the old one had");
                    hand_over(g, *m, tp, out);
                }
            }
        }
        for (auto& [name, log] : topics_) {
            for (std::uint32_t p = 0; p < log.partitions.size(); ++p) {
                partition_log& partition = log.partitions[p];
                if (partition.held.empty()) {
                    continue;
                }
                if (partition.held.front().deadline > now) {
                    next = std::min(next, partition.held.front().deadline);
                    continue;
                }
                overdue.push_back("memory broker: a record for " + to_string({name, p}) + " waited " +
                                  std::to_string(options_.backlog_timeout.count()) + " ms for room (the bound is " +
                                  std::to_string(options_.max_backlog) + " records not committed; " +
                                  behind(name, log, p) + ", the log's end is " + std::to_string(partition.size()) +
                                  "); records go in over the bound until its readers catch up");
                partition.overflowing = true;
                set_limit(name, log, p, out);  // lets every held record in
            }
        }
        if (overdue.empty()) {
            if (next == std::chrono::steady_clock::time_point::max()) {
                deadline_.wait(guard);
            } else {
                deadline_.wait_until(guard, next);
            }
            continue;
        }
        // A completion may drop the last reference to this broker: then its destructor, run
        // here, has detached this thread, which must not touch the broker again.
        std::weak_ptr<memory_broker> alive = weak_from_this();
        guard.unlock();
        out.run();
        for (const auto& note : overdue) {
            troupe::logger()->warn("{}", note);
        }
        if (alive.expired()) {
            return;
        }
        guard.lock();
    }
}

void memory_broker::serve_waiting(memory_consumer& m, completions& out) {
    m.unwatch();
    if (m.waiting_) {
        // The member waits, so its reads are not running: this one reads for it.
        m.sync();
        std::vector<record_ptr> records;
        m.take(records, m.waiting_max_, true);
        if (!records.empty()) {
            out.fetches.push_back({std::move(*m.waiting_), std::move(records)});
            m.waiting_.reset();
        }
    } else if (m.readable_ && m.has_records()) {
        out.readable.push_back(std::move(*m.readable_));
        m.readable_.reset();
    }
    m.note_waits();
    if (m.waits()) {
        m.watch();  // still nothing to read: wait on the partitions it reads now
    }
}

void memory_broker::completions::run() {
    for (auto& [to, where] : produced) {
        to.set_value(std::move(where));
    }
    for (auto& d : fetches) {
        d.to.set_value(std::move(d.records));
    }
    for (auto& p : readable) {
        p.set_value();
    }
    for (auto& p : rooms) {
        p.set_value();
    }
}

}  // namespace troupe::streams::detail
