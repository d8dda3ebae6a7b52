#pragma once
/// \file
/// The two halves of a bidirectional context, as each side's code sees them: a channel that
/// sends (within the credit the other side granted) and receives (granting credit back as it
/// consumes). The runtime implements it on both sides of the dialog.

#include <troupe/async/task.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace troupe::remote::detail {

/// One side of a context's dialog.
class context_channel {
public:
    virtual ~context_channel() = default;
    /// Sends an encoded item; suspends while the other side has granted no credit.
    virtual task<void> send(std::vector<std::byte> item) = 0;
    /// The next encoded item from the other side, or nullopt once it has stopped sending.
    virtual future<std::optional<std::vector<std::byte>>> receive() = 0;
    /// This side sends nothing more (a stop message). Idempotent.
    virtual void close_sending() = 0;
};

/// Items received on a dialog, waiting for their consumer; credit is granted back every half
/// window consumed. Thread-safe: push() and end() come from the I/O thread, next() from the
/// consumer. Item is what the consumer takes: a decoded value (streams) or the encoded bytes
/// (contexts, whose receive<T> decodes).
template <class Item>
class inbound {
public:
    /// `grant(n)` sends the producer n more credits.
    inbound(std::uint32_t window, std::function<void(std::uint32_t)> grant)
        : window_(window), grant_(std::move(grant)) {}

    /// An item arrived.
    void push(Item item) {
        std::optional<promise<std::optional<Item>>> waiting;
        std::uint32_t grant = 0;
        {
            const std::lock_guard guard(lock_);
            if (!waiting_) {
                items_.push_back(std::move(item));
                return;
            }
            waiting.swap(waiting_);
            grant = consumed_one();
        }
        if (grant != 0) {
            grant_(grant);
        }
        waiting->set_value(std::move(item));
    }
    /// The producer has stopped (null) or failed (`e`): once the items queued are taken, next()
    /// gives nullopt or throws `e`. Later calls do nothing.
    void end(std::exception_ptr e) noexcept {
        std::optional<promise<std::optional<Item>>> waiting;
        {
            const std::lock_guard guard(lock_);
            if (ended_) {
                return;
            }
            ended_ = true;
            error_ = e;
            waiting.swap(waiting_);
        }
        if (waiting) {
            if (e) {
                waiting->set_exception(std::move(e));
            } else {
                waiting->set_value(std::nullopt);
            }
        }
    }
    /// The next item, nullopt at the end. One next() at a time.
    future<std::optional<Item>> next() {
        promise<std::optional<Item>> p;
        std::uint32_t grant = 0;
        {
            const std::lock_guard guard(lock_);
            if (waiting_) {
                throw error("next() while another next() of the same stream is pending");
            }
            if (items_.empty()) {
                if (!ended_) {
                    waiting_.emplace();
                    return waiting_->get_future();
                }
                if (error_) {
                    p.set_exception(error_);
                } else {
                    p.set_value(std::nullopt);
                }
                return p.get_future();
            }
            p.set_value(std::move(items_.front()));
            items_.pop_front();
            grant = consumed_one();
        }
        if (grant != 0) {
            grant_(grant);
        }
        return p.get_future();
    }
    /// True once end() was called.
    bool ended() const {
        const std::lock_guard guard(lock_);
        return ended_;
    }

private:
    /// Counts an item taken (under lock_); the credit to grant back now, if any (granted by
    /// the caller once the lock is let go).
    std::uint32_t consumed_one() {
        if (++consumed_ < (window_ + 1) / 2 || ended_) {
            return 0;
        }
        return std::exchange(consumed_, 0);
    }

    const std::uint32_t window_;
    std::function<void(std::uint32_t)> grant_;
    mutable std::mutex lock_;
    std::deque<Item> items_;
    std::optional<promise<std::optional<Item>>> waiting_;
    std::uint32_t consumed_ = 0;
    bool ended_ = false;
    std::exception_ptr error_;
};

/// What a context's side receives: encoded items.
using encoded_inbound = inbound<std::vector<std::byte>>;

/// Credit this side may spend sending, and a wait for more. Thread-safe.
class outbound_credit {
public:
    explicit outbound_credit(std::uint32_t initial = 0) : credit_(initial) {}
    /// Adds `items` (a credit message, or the initial grant).
    void add(std::uint32_t items);
    /// Takes one credit, or gives a future that completes when there is more (then try again).
    std::optional<future<void>> take();
    /// Fails every wait (the dialog ended).
    void close(std::exception_ptr e) noexcept;

private:
    std::mutex lock_;
    std::uint32_t credit_;
    std::optional<promise<void>> waiting_;
    std::exception_ptr closed_;
};

}  // namespace troupe::remote::detail
