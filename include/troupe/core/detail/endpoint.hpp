#pragma once
/// \file
/// endpoint: anything an untyped address can reach (an actor or an inbox), reference counted.

#include <atomic>
#include <cstdint>
#include <string>
#include <typeinfo>
#include <utility>

namespace troupe {
class message;
}

namespace troupe::detail {

class state_base;

/// What a send through an untyped address asks of its target.
struct untyped_send {
    message& msg;                                ///< the message; moved from if accepted
    state_base* reply = nullptr;                 ///< the asker's shared state, or null for a tell
    const std::type_info* reply_type = nullptr;  ///< the type the asker expects
};

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
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    friend bool operator==(const counted_ptr& a, const counted_ptr& b) noexcept { return a.p_ == b.p_; }

private:
    T* p_ = nullptr;
};

}  // namespace troupe::detail
