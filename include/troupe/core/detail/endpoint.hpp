#pragma once
/// \file
/// endpoint: anything an untyped address can reach (an actor or an inbox), reference counted;
/// actor_endpoint: anything a typed ref<A> can reach (a local cell, or an actor elsewhere).

#include <troupe/core/future.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <typeinfo>
#include <utility>
#include <variant>

namespace troupe {
class message;
struct exit_reason;
struct down;
struct exit_signal;
struct child_stopped;
}  // namespace troupe

namespace troupe::detail {

class state_base;
struct message_codec;
struct reply_codec;

/// What a send through an untyped address asks of its target.
struct untyped_send {
    message& msg;                                ///< the message; moved from if accepted
    state_base* reply = nullptr;                 ///< the asker's shared state, or null for a tell
    const std::type_info* reply_type = nullptr;  ///< the type the asker expects
    /// How the message and the reply become bytes (troupe::codec), for a target in another
    /// process; null for a type without a codec (or a tell's reply). A local target ignores both.
    const message_codec* msg_codec = nullptr;
    const reply_codec* reply_coder = nullptr;
};

/// A notice about another actor's end, delivered by the runtime (detail::notice).
using end_notice = std::variant<down, exit_signal, child_stopped>;

/// Something messages can be sent to without knowing its type.
class endpoint {
public:
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    void add_ref() noexcept {
        // relaxed: a new reference is always made from an existing one.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: the last owner sees every write made through other references.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    /// Delivers an untyped message. Throws actor_dead, mailbox_full; an unhandled type goes to
    /// dead letters (and fails the asker, if any).
    virtual void deliver(untyped_send send) = 0;
    /// A name for logs: "greeter#3" or "inbox#7".
    virtual std::string name() const = 0;
    /// The unique id within its system.
    virtual std::uint64_t id() const noexcept = 0;
    /// False once it accepts no more messages.
    virtual bool alive() const noexcept = 0;

protected:
    endpoint() = default;
    virtual ~endpoint() = default;

private:
    std::atomic<std::uint32_t> refs_{1};
};

class cell_base;

/// What a typed ref<A> points at: an actor of this process (a cell: local() is not null, and
/// messages travel as typed envelopes) or an actor that something else stands for, such as an
/// actor in another process (local() is null: messages go through deliver(), with their codec).
/// Stops, kills, exit reasons, monitors and links work the same way for both.
class actor_endpoint : public endpoint {
public:
    /// The cell, if the actor lives in this process. Not virtual: the typed fast path.
    /// Defined with the cells.
    cell_base* local() noexcept;

    /// Requests a stop after the messages already queued. False if already stopping/stopped.
    virtual bool request_stop() = 0;
    /// Ends the actor at once. False if it had already ended.
    virtual bool kill() = 0;
    /// Completes once the actor has ended, for whatever reason.
    virtual future<void> termination() = 0;
    /// True once the actor has ended for good.
    virtual bool terminated() const noexcept = 0;
    /// Why the actor ended. Only once terminated().
    virtual exit_reason reason() const = 0;
    /// Tells the actor that another one ended (a link's exit_signal). Any thread. False once it
    /// takes no more notices.
    virtual bool post_notice(end_notice n) noexcept = 0;

protected:
    /// `is_cell`: true only for cell_base, which this endpoint then is.
    explicit actor_endpoint(bool is_cell = false) noexcept : is_cell_(is_cell) {}
    ~actor_endpoint() override = default;

private:
    const bool is_cell_;  // fits in the padding after the reference count
};

/// An owning pointer to a reference-counted T (an endpoint or a cell).
template <class T>
class counted_ptr {
public:
    counted_ptr() = default;
    /// Adopts one reference.
    static counted_ptr adopt(T* p) noexcept {
        counted_ptr c;
        c.p_ = p;
        return c;
    }
    /// Takes a new reference.
    explicit counted_ptr(T* p) noexcept : p_(p) {
        if (p_) {
            p_->add_ref();
        }
    }
    counted_ptr(const counted_ptr& o) noexcept : counted_ptr(o.p_) {}
    counted_ptr(counted_ptr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    template <class U>
    counted_ptr(const counted_ptr<U>& o) noexcept : counted_ptr(o.get()) {}
    template <class U>
    counted_ptr(counted_ptr<U>&& o) noexcept : p_(o.release_ownership()) {}
    counted_ptr& operator=(counted_ptr o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~counted_ptr() {
        if (p_) {
            p_->release();
        }
    }
    T* get() const noexcept { return p_; }
    /// Gives up the reference without releasing it.
    T* release_ownership() noexcept { return std::exchange(p_, nullptr); }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    friend bool operator==(const counted_ptr& a, const counted_ptr& b) noexcept { return a.p_ == b.p_; }

private:
    T* p_ = nullptr;
};

}  // namespace troupe::detail
