#pragma once
/// \file
/// The two halves of a bidirectional context, as each side's code sees them: a channel that
/// sends (within the credit the other side granted) and receives (granting credit back as it
/// consumes). The runtime implements it on both sides of the dialog.

#include <troupe/async/task.hpp>
#include <troupe/core/future.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
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
/// consumer.
class inbound {
public:
    /// `grant(n)` sends the producer n more credits.
    inbound(std::uint32_t window, std::function<void(std::uint32_t)> grant);

    /// An item arrived.
    void push(std::span<const std::byte> item);
    /// The producer has stopped (null) or failed (`e`): once the items queued are taken, next()
    /// gives nullopt or throws `e`.
    void end(std::exception_ptr e) noexcept;
    /// The next item, nullopt at the end. One next() at a time.
    future<std::optional<std::vector<std::byte>>> next();
    /// True once end() was called.
    bool ended() const;

private:
    void consumed_one();

    const std::uint32_t window_;
    std::function<void(std::uint32_t)> grant_;
    mutable std::mutex lock_;
    std::deque<std::vector<std::byte>> items_;
    std::optional<promise<std::optional<std::vector<std::byte>>>> waiting_;
    std::uint32_t consumed_ = 0;
    bool ended_ = false;
    std::exception_ptr error_;
};

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
