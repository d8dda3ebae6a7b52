// The reader under every stream: a consumer of the stream's topics, a fetch loop keeping a
// bounded buffer filled, a tracker per partition of what is in flight, commits of what is
// finished, and the giving up of partitions a rebalance takes (release_loop).

#include <troupe/streams/detail/app_core.hpp>

#include <troupe/async/await.hpp>
#include <troupe/async/cancel_scope.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace troupe::streams::detail {

reader::reader(app_core& app, std::shared_ptr<broker> from, std::string group, std::vector<std::string> topics,
               std::string what, bad_value_policy on_bad)
    : app_(&app),
      from_(std::move(from)),
      group_(std::move(group)),
      topics_(std::move(topics)),
      what_(std::move(what)),
      batch_(app.options().fetch_batch),
      on_bad_(std::move(on_bad)) {
    if (on_bad_.action == bad_value::dead_letter && on_bad_.dead_letter_topic.empty()) {
        throw error("streams: " + what_ + ": bad values go to a dead-letter topic, but none is named");
    }
}

void reader::open() {
    last_tracker_ = nullptr;
    trackers_.clear();
    fetched_.clear();
    stopped_.clear();
    acknowledged_.store(0, std::memory_order_relaxed);
    finished_since_commit_ = 0;
    if (on_bad_.action == bad_value::dead_letter) {
        app_->brokerage().create_topic(on_bad_.dead_letter_topic, app_->options().topic_partitions);
    }
    consumer_ = from_->subscribe(group_, topics_);
}

void reader::close() {
    if (!consumer_) {
        return;
    }
    commit();
    consumer_->close();
    consumer_.reset();
    takers_.clear();
    room_.reset();
}

offset_tracker* reader::find_tracker(const record& r) {
    if (last_tracker_ != nullptr && r.partition == last_partition_ && r.topic == *last_topic_) {
        return last_tracker_;
    }
    auto it = trackers_.find(topic_partition{r.topic, r.partition});
    if (it == trackers_.end()) {
        return nullptr;
    }
    last_partition_ = it->first.partition;
    last_topic_ = &it->first.topic;
    last_tracker_ = &it->second;
    return last_tracker_;
}

offset_tracker& reader::tracker_of(const record& r) {
    if (last_tracker_ != nullptr && r.partition == last_partition_ && r.topic == *last_topic_) {
        return *last_tracker_;
    }
    const topic_partition tp{r.topic, r.partition};
    auto it = trackers_.find(tp);
    if (it == trackers_.end()) {
        // A partition read for the first time: from the group's committed offset (or, before
        // any commit, from the first record there).
        const auto committed = from_->committed(group_, tp);
        it = trackers_.emplace(tp, offset_tracker(committed.value_or(r.offset))).first;
    }
    last_partition_ = it->first.partition;
    last_topic_ = &it->first.topic;
    last_tracker_ = &it->second;
    return it->second;
}

void reader::wake_takers() {
    std::vector<promise<void>> woken;
    woken.swap(takers_);
    for (auto& p : woken) {
        p.set_value();
    }
}

void reader::make_room() {
    promise<void> p = std::move(*room_);
    room_.reset();
    p.set_value();
}

task<void> reader::fetch_loop() {
    for (;;) {
        if (fetched_.size() >= batch_) {
            room_.emplace();
            future<void> room = room_->get_future();
            co_await room;
            continue;
        }
        // Wait until something is there, then take all that is: the records that came while
        // this actor was being woken make one batch, where a fetch completed by the producer
        // would hold the one record that woke it.
        std::vector<record_ptr> got = consumer_->poll(batch_);
        while (got.empty()) {
            future<void> readable = consumer_->when_readable();
            co_await readable;
            got = consumer_->poll(batch_);
        }
        for (auto& r : got) {
            offset_tracker& t = tracker_of(*r);
            if (r->offset < t.next_to_read()) [[unlikely]] {
                // The partition went to another member without this one giving it up (it kept
                // it past the broker's rebalance timeout) and came back: read from here on.
                t = offset_tracker(from_->committed(group_, {r->topic, r->partition}).value_or(r->offset));
            }
            t.read(r->offset);
            if (stopped_.empty() || stopped_.count({r->topic, r->partition}) == 0) {
                fetched_.push_back(std::move(r));
            }  // else it stays in flight, unacknowledged, with the stopped partition
        }
        wake_takers();
    }
}

task<record_ptr> reader::next_record() {
    for (;;) {
        if (record_ptr r = take_fetched()) {
            co_return r;
        }
        promise<void> turn;
        future<void> fetched = turn.get_future();
        takers_.push_back(std::move(turn));
        co_await fetched;
    }
}

void reader::ack(const record& r) {
    offset_tracker* t = find_tracker(r);
    // No tracker, or the record not in flight: its partition was given up meanwhile (past the
    // rebalance timeout). It is finished all the same: counted, and nothing else to do.
    if (t != nullptr && t->ack_if_in_flight(r.offset) && drained_) [[unlikely]] {
        // release_loop waits: this may be the last of what it waits for (it checks again).
        auto d = draining_.find(topic_partition{r.topic, r.partition});
        if (d != draining_.end() && t->committable() >= d->second) {
            promise<void> p = std::move(*drained_);
            drained_.reset();
            p.set_value();
        }
    }
    if (++finished_since_commit_ == app_->options().commit_every) [[unlikely]] {
        commit();
    }
    const std::uint64_t n = acknowledged_.load(std::memory_order_relaxed) + 1;
    // Sequentially consistent, with watched_: either this ack sees a waiter registered, or the
    // waiter's load of the count sees this ack (a store and a load of two variables each side).
    acknowledged_.store(n, std::memory_order_seq_cst);
    if (watched_.load(std::memory_order_seq_cst)) {
        std::vector<promise<void>> reached;
        {
            const std::lock_guard guard(watch_lock_);
            std::erase_if(watchers_, [&](auto& w) {
                if (w.first > n) {
                    return false;
                }
                reached.push_back(std::move(w.second));
                return true;
            });
            watched_.store(!watchers_.empty(), std::memory_order_seq_cst);
        }
        for (auto& p : reached) {
            p.set_value();
        }
    }
}

future<void> reader::when_acknowledged(std::uint64_t n) {
    const std::lock_guard guard(watch_lock_);
    future<void> reached = watchers_.emplace_back(n, promise<void>()).second.get_future();
    watched_.store(true, std::memory_order_seq_cst);
    if (acknowledged_.load(std::memory_order_seq_cst) >= n) {
        promise<void> done = std::move(watchers_.back().second);
        watchers_.pop_back();
        watched_.store(!watchers_.empty(), std::memory_order_seq_cst);
        done.set_value();
    }
    return reached;
}

void reader::skip_bad(const record& r, std::string_view why) {
    const topic_partition tp{r.topic, r.partition};
    switch (on_bad_.action) {
        case bad_value::skip:
            troupe::logger()->error("streams: {}: skipped the record at offset {} of {}: {}", what_, r.offset,
                                    to_string(tp), why);
            ack(r);
            return;
        case bad_value::dead_letter: {
            outgoing letter;
            letter.topic = on_bad_.dead_letter_topic;
            letter.key = r.key;
            letter.value = r.value;
            letter.headers = r.headers;
            letter.headers.push_back({"troupe-error", bytes_of(why)});
            letter.headers.push_back({"troupe-topic", bytes_of(r.topic)});
            letter.headers.push_back({"troupe-partition", bytes_of(std::to_string(r.partition))});
            letter.headers.push_back({"troupe-offset", bytes_of(std::to_string(r.offset))});
            try {
                // Bad values are rare: waiting here for the broker to hold the letter keeps it
                // from being acknowledged before it is safe.
                app_->brokerage().produce(std::move(letter)).get();
            } catch (const std::exception& e) {
                troupe::logger()->error(
                    "streams: {}: the record at offset {} of {} ({}) could not go to the dead-letter topic '{}': {}; "
                    "its partition stops",
                    what_, r.offset, to_string(tp), why, on_bad_.dead_letter_topic, e.what());
                stop_partition(tp);
                return;
            }
            troupe::logger()->warn("streams: {}: sent the record at offset {} of {} to the dead-letter topic '{}': {}",
                                   what_, r.offset, to_string(tp), on_bad_.dead_letter_topic, why);
            ack(r);
            return;
        }
        case bad_value::stop_partition:
            troupe::logger()->error(
                "streams: {}: stopped reading {} at offset {}: {}; it is read again from there when the agent "
                "starts again",
                what_, to_string(tp), r.offset, why);
            stop_partition(tp);
            return;
    }
}

void reader::stop_partition(const topic_partition& tp) {
    stopped_.insert(tp);
    consumer_->pause(tp);
    // What was fetched after it stays unacknowledged: in flight, so no commit passes it.
    std::erase_if(fetched_, [&](const record_ptr& r) { return r->partition == tp.partition && r->topic == tp.topic; });
}

void reader::commit() {
    finished_since_commit_ = 0;
    if (!consumer_) {
        return;
    }
    const std::vector<topic_partition> mine = consumer_->assignment();
    std::vector<std::pair<topic_partition, std::uint64_t>> offsets;
    for (auto& [tp, t] : trackers_) {
        if (t.commit_due() && std::binary_search(mine.begin(), mine.end(), tp)) {
            offsets.emplace_back(tp, t.committable());
        }
    }
    if (offsets.empty()) {
        return;
    }
    try {
        consumer_->commit(offsets);
        for (const auto& [tp, offset] : offsets) {
            trackers_.at(tp).mark_committed(offset);
        }
    } catch (const std::exception& e) {
        troupe::logger()->warn("streams: {}: a commit failed: {}", what_, e.what());
    }
}

bool reader::drained() const {
    for (const auto& [tp, mark] : draining_) {
        auto it = trackers_.find(tp);
        if (it != trackers_.end() && stopped_.count(tp) == 0 && it->second.committable() < mark) {
            return false;
        }
    }
    return true;
}

task<void> reader::drain() {
    while (!drained()) {
        drained_.emplace();
        future<void> finished = drained_->get_future();
        co_await finished;
    }
}

task<void> reader::release_loop() {
    for (;;) {
        future<void> asked = consumer_->when_revoking();
        co_await asked;
        const std::vector<topic_partition> revoked = consumer_->revoking();
        if (revoked.empty()) {
            continue;
        }
        // What was read of them is finished first, the records still in the buffer too (at
        // most a fetch batch): dropping those instead would lose them if the revocation were
        // called off meanwhile, the broker's position being past them. No more of them comes
        // while they are being revoked, so each is finished once all it has read up to now is.
        for (const auto& tp : revoked) {
            auto it = trackers_.find(tp);
            if (it != trackers_.end()) {
                draining_.emplace(tp, it->second.next_to_read());
            }
        }
        if (!drained()) {
            task<void> waited = drain();
            const bool finished = co_await troupe::move_on_after(app_->options().rebalance_timeout, std::move(waited));
            if (!finished) {
                std::size_t left = 0;
                for (const auto& [tp, mark] : draining_) {
                    left += trackers_.at(tp).in_flight();
                }
                troupe::logger()->warn(
                    "streams: {}: gave up partitions after the rebalance timeout ({} ms) with {} records unfinished; "
                    "the next member reads them again",
                    what_, app_->options().rebalance_timeout.count(), left);
            }
        }
        draining_.clear();
        drained_.reset();
        commit();
        consumer_->release(revoked);
        // Those it no longer reads are forgotten: one that comes back is read from the group's
        // commit, with a new tracker. (A revocation called off meanwhile leaves it reading.)
        const std::vector<topic_partition> mine = consumer_->assignment();
        std::string given_up;
        for (const auto& tp : revoked) {
            if (!std::binary_search(mine.begin(), mine.end(), tp)) {
                trackers_.erase(tp);
                stopped_.erase(tp);
                given_up += (given_up.empty() ? "" : ", ") + to_string(tp);
            }
        }
        last_tracker_ = nullptr;
        if (!given_up.empty()) {
            troupe::logger()->info("streams: {}: gave up {} (a rebalance)", what_, given_up);
        }
    }
}

task<void> reader::commit_every_interval() {
    for (;;) {
        co_await troupe::sleep_for(app_->options().commit_interval);
        commit();
    }
}

}  // namespace troupe::streams::detail
