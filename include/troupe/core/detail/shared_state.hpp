#pragma once
/// \file
/// The state a promise and its futures share: a value or an error, waiters, continuations.

#include <troupe/core/detail/futex.hpp>
#include <troupe/core/errors.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace troupe::detail {

class cell_base;
class state_base;

/// Brackets a blocking wait on `awaited`. Before the wait it throws troupe::deadlock if the
/// waiting thread runs an actor that the state's producer is, directly or through a chain of
/// actors waiting on each other, itself waiting for; and it lets a pool worker hand its pending
/// work to the other workers. Defined with the cells.
class blocking_wait {
public:
    explicit blocking_wait(const state_base& awaited);
    ~blocking_wait();
    blocking_wait(const blocking_wait&) = delete;
    blocking_wait& operator=(const blocking_wait&) = delete;

private:
    const cell_base* waiter_ = nullptr;
    const state_base* awaited_ = nullptr;
};

/// A value type for future<void>.
struct unit {};

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, unit, T>;

/// Work to run once a shared state completes. Deletes itself after running.
class continuation {
public:
    virtual ~continuation() = default;
    virtual void run() noexcept = 0;
    continuation* next_ = nullptr;
};

/// A continuation that runs as a turn of an actor (future::then inside an actor).
class actor_continuation : public continuation {
public:
    /// Called instead of run() when the actor ended before it could take the turn.
    virtual void discard(std::exception_ptr why) noexcept = 0;
};

/// The cell whose turn runs on this thread, or null (defined with the cells).
cell_base* running_cell() noexcept;

/// The type-independent part of a shared state. Reference counted: the promise and every
/// future hold one reference.
class state_base {
public:
    state_base(const state_base&) = delete;
    state_base& operator=(const state_base&) = delete;

    void add_ref() noexcept {
        // relaxed: a new reference is made from an existing one, which keeps the state alive.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: the last owner must see every write made through the other references.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }
    bool only_owner() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }

    /// True once a value or an error is stored.
    bool ready() const noexcept { return (status_.load(std::memory_order_acquire) & done_mask) != 0; }
    bool has_error() const noexcept { return (status_.load(std::memory_order_acquire) & error_bit) != 0; }

    /// Blocks until ready. Throws troupe::deadlock when waiting could never end.
    void wait() const;
    /// Blocks until ready or the deadline; returns ready().
    bool wait_until(std::chrono::steady_clock::time_point deadline) const;

    /// Stores an error; throws promise_already_satisfied if the state was already completed.
    void set_error(std::exception_ptr e) {
        claim();
        publish_error(std::move(e));
    }
    /// Stores an error unless the state is already completed; returns whether it did.
    bool try_set_error(std::exception_ptr e) noexcept {
        if (!try_claim()) {
            return false;
        }
        publish_error(std::move(e));
        return true;
    }
    /// Rethrows the stored error, if any. Only call once ready().
    void rethrow_if_error() const {
        if (has_error()) {
            std::rethrow_exception(error_);
        }
    }
    const std::exception_ptr& error() const noexcept { return error_; }

    /// Runs `c` once the state completes: now, on this thread, if it already has.
    void add_continuation(continuation* c) noexcept;

    /// The actor that will complete this state, if known; used to detect deadlocks. A promise
    /// that is handed on (moved) makes it unknown: whoever holds it now is not known.
    void set_producer(const cell_base* producer) noexcept {
        // relaxed: read under the wait-for graph's lock, or only compared; it orders nothing.
        producer_.store(producer, std::memory_order_relaxed);
    }
    const cell_base* producer() const noexcept { return producer_.load(std::memory_order_relaxed); }

    /// Marks the span in which a handler that took this state's promise runs (see promise).
    void enter_handler() noexcept { status_.fetch_or(handler_bit, std::memory_order_relaxed); }
    void leave_handler() noexcept { status_.fetch_and(~handler_bit, std::memory_order_relaxed); }
    bool in_handler() const noexcept { return (status_.load(std::memory_order_relaxed) & handler_bit) != 0; }
    /// A promise of this state was dropped unset while an exception unwound its handler: if the
    /// handler then returns normally (it caught the exception), nobody will answer.
    void mark_dropped_in_handler() noexcept { status_.fetch_or(dropped_bit, std::memory_order_relaxed); }
    bool dropped_in_handler() const noexcept { return (status_.load(std::memory_order_relaxed) & dropped_bit) != 0; }

protected:
    state_base() = default;
    /// A state complete with a value from the start (make_ready_future): no promise ever
    /// completes it, so nothing is claimed or published, and no atomic operation is made.
    struct ready_from_start {};
    explicit state_base(ready_from_start) noexcept : status_{claimed_bit | value_bit}, continuations_{closed} {}
    virtual ~state_base() = default;

    void claim() {
        if (!try_claim()) {
            throw promise_already_satisfied("the promise already has a value or an error");
        }
    }
    bool try_claim() noexcept {
        // relaxed: the claim only decides which setter wins; publish() orders the value.
        return (status_.fetch_or(claimed_bit, std::memory_order_relaxed) & claimed_bit) == 0;
    }
    void publish(std::uint32_t kind) noexcept;

private:
    static constexpr std::uint32_t value_bit = 1;
    static constexpr std::uint32_t error_bit = 2;
    static constexpr std::uint32_t done_mask = value_bit | error_bit;
    static constexpr std::uint32_t claimed_bit = 4;
    static constexpr std::uint32_t waiters_bit = 8;
    static constexpr std::uint32_t handler_bit = 16;
    static constexpr std::uint32_t dropped_bit = 32;
    static constexpr std::uintptr_t closed = 1;

    std::atomic<std::uint32_t> refs_{1};
    mutable std::atomic<std::uint32_t> status_{0};
    std::atomic<std::uintptr_t> continuations_{0};
    std::exception_ptr error_;
    std::atomic<const cell_base*> producer_{nullptr};

protected:
    void mark_value() noexcept { publish(value_bit); }
    /// Stores the error of a state this thread has already claimed.
    void publish_error(std::exception_ptr e) noexcept {
        error_ = std::move(e);
        publish(error_bit);
    }
};

/// The state of a future<T>: state_base plus storage for one T.
template <class T>
class shared_state final : public state_base {
public:
    using value_type = stored_t<T>;

    shared_state() = default;
    explicit shared_state(ready_from_start r) noexcept : state_base(r) {}
    ~shared_state() override {
        if (has_value_) {
            std::launder(reinterpret_cast<value_type*>(&storage_))->~value_type();
        }
    }

    template <class... Args>
    void set_value(Args&&... args) {
        claim();
        emplace(std::forward<Args>(args)...);
    }
    template <class... Args>
    bool try_set_value(Args&&... args) noexcept(std::is_nothrow_constructible_v<value_type, Args...>) {
        if (!try_claim()) {
            return false;
        }
        emplace(std::forward<Args>(args)...);
        return true;
    }
    /// The stored value. Only call once ready() and without error.
    value_type& value() noexcept { return *std::launder(reinterpret_cast<value_type*>(&storage_)); }

    static shared_state* make() { return new shared_state(); }
    /// A state holding the value made of `args` from the start, with no promise (the one
    /// reference is the future's). Throws what making the value throws.
    template <class... Args>
    static shared_state* make_ready(Args&&... args) {
        auto* s = new shared_state(ready_from_start{});
        try {
            ::new (static_cast<void*>(&s->storage_)) value_type(std::forward<Args>(args)...);
        } catch (...) {
            delete s;  // nobody else has seen it; it holds no value to destroy
            throw;
        }
        s->has_value_ = true;
        return s;
    }

private:
    template <class... Args>
    void emplace(Args&&... args) {
        try {
            ::new (static_cast<void*>(&storage_)) value_type(std::forward<Args>(args)...);
        } catch (...) {
            publish_error(std::current_exception());
            return;
        }
        has_value_ = true;
        mark_value();
    }

    alignas(value_type) unsigned char storage_[sizeof(value_type)];
    bool has_value_ = false;
};

/// An owning pointer to a shared state.
template <class S>
class state_ptr {
public:
    state_ptr() = default;
    explicit state_ptr(S* s) noexcept : s_(s) {}  // adopts one reference
    state_ptr(const state_ptr& o) noexcept : s_(o.s_) {
        if (s_) {
            s_->add_ref();
        }
    }
    state_ptr(state_ptr&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    state_ptr& operator=(state_ptr o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~state_ptr() {
        if (s_) {
            s_->release();
        }
    }
    S* get() const noexcept { return s_; }
    S* operator->() const noexcept { return s_; }
    explicit operator bool() const noexcept { return s_ != nullptr; }
    S* release_ownership() noexcept { return std::exchange(s_, nullptr); }

private:
    S* s_ = nullptr;
};

/// Once `s` completes, posts `c` to `home`'s mailbox to run as a turn of its own (any thread);
/// `c` is discarded with actor_dead if home has ended by then. Keeps home alive meanwhile.
/// Defined with the cells.
void post_when_complete(state_base& s, cell_base& home, actor_continuation* c) noexcept;

}  // namespace troupe::detail
