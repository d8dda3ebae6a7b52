#include <troupe/core/inbox.hpp>

#include <troupe/core/detail/futex.hpp>
#include <troupe/core/system.hpp>

#include "system_state.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace troupe {
namespace detail {

/// The endpoint behind an inbox: a locked queue of messages and a condition variable.
class inbox_state final : public endpoint {
public:
    explicit inbox_state(std::uint64_t id) : id_(id) {}

    void deliver(untyped_send send) override {
        if (send.reply != nullptr) {
            // A closed inbox is dead, as an ended actor is; an open one never answers.
            send.reply->try_set_error(
                alive() ? std::make_exception_ptr(
                              unhandled_message(name() + " is an inbox: it takes messages but does not answer asks"))
                        : std::make_exception_ptr(
                              actor_dead(name() + " is closed: it did not take the " + send.msg.type_name())));
            return;
        }
        std::optional<promise<message>> taker;
        {
            std::lock_guard lock(mutex_);
            if (closed_) {
                if (cell_base* sender = running_cell()) {
                    // As for an actor that has ended: inside an actor, a dead letter (counted by
                    // the sender's system, which is alive for sure).
                    sender->owner().dead_letter(*this, send.msg.type(), "the inbox is closed");
                    return;
                }
                throw actor_dead(name() + " is closed: it did not take the " + send.msg.type_name());
            }
            // A waiting receive_async() of this type takes it straight away, oldest first.
            auto it = std::find_if(takers_.begin(), takers_.end(),
                                   [&](auto& t) { return t.type == nullptr || *t.type == send.msg.type(); });
            if (it == takers_.end()) {
                queue_.push_back(std::move(send.msg));
            } else {
                taker.emplace(std::move(it->reply));
                takers_.erase(it);
            }
        }
        if (taker) {
            taker->set_value(std::move(send.msg));  // outside the lock: continuations may run here
            return;
        }
        arrived_.notify_all();
    }
    future<message> take_async(const std::type_info* type) {
        promise<message> p;
        auto f = p.get_future();
        std::lock_guard lock(mutex_);
        if (message m = find(type); m) {
            p.set_value(std::move(m));
        } else if (closed_) {
            p.set_error(actor_dead(name() + " is closed"));
        } else {
            takers_.push_back({type, std::move(p)});
        }
        return f;
    }
    std::string name() const override { return "inbox#" + std::to_string(id_); }
    std::uint64_t id() const noexcept override { return id_; }
    bool alive() const noexcept override {
        std::lock_guard lock(mutex_);
        return !closed_;
    }

    void close() {
        std::vector<pending_take> orphans;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            queue_.clear();
            orphans.swap(takers_);
        }
        for (auto& t : orphans) {
            t.reply.set_error(actor_dead(name() + " was destroyed before a message arrived"));
        }
    }
    message take(const std::type_info* type, const std::chrono::steady_clock::time_point* deadline) {
        before_blocking();
        std::unique_lock lock(mutex_);
        for (;;) {
            if (message m = find(type); m) {
                return m;
            }
            if (deadline == nullptr) {
                arrived_.wait(lock);
            } else if (arrived_.wait_until(lock, *deadline) == std::cv_status::timeout && !has(type)) {
                throw timeout(name() + ": no " + (type ? type_name(*type) : std::string("message")) +
                              " arrived in time");
            }
        }
    }
    message try_take(const std::type_info* type) {
        std::lock_guard lock(mutex_);
        return find(type);
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }

private:
    bool has(const std::type_info* type) const {
        for (auto& m : queue_) {
            if (type == nullptr || m.type() == *type) {
                return true;
            }
        }
        return false;
    }
    message find(const std::type_info* type) {
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if (type == nullptr || it->type() == *type) {
                message m = std::move(*it);
                queue_.erase(it);
                return m;
            }
        }
        return {};
    }

    const std::uint64_t id_;
    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<message> queue_;
    struct pending_take {
        const std::type_info* type;  // null: any message
        promise<message> reply;
    };
    std::vector<pending_take> takers_;  // pending receive_async() calls, oldest first
    bool closed_ = false;
};

}  // namespace detail

inbox::inbox(system& sys)
    : state_(new detail::inbox_state(sys.state().next_id.fetch_add(1, std::memory_order_relaxed))) {}

inbox::~inbox() {
    state_->close();
    state_->release();
}

troupe::address inbox::address() const {
    return troupe::address(detail::counted_ptr<detail::endpoint>(state_));
}

message inbox::receive() {
    return state_->take(nullptr, nullptr);
}

message inbox::receive(std::chrono::steady_clock::duration d) {
    auto deadline = std::chrono::steady_clock::now() + d;
    return state_->take(nullptr, &deadline);
}

message inbox::take(const std::type_info* type, const std::chrono::steady_clock::time_point* deadline) {
    return state_->take(type, deadline);
}

message inbox::try_take(const std::type_info& type) {
    return state_->try_take(&type);
}

future<message> inbox::take_async(const std::type_info* type) {
    return state_->take_async(type);
}

std::size_t inbox::size() const {
    return state_->size();
}

}  // namespace troupe
