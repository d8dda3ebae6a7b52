#pragma once
/// \file
/// scoped<A>: an actor whose life is a C++ scope (Actorio's `async with actor`).

#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <utility>

namespace troupe {

/// Starts an actor and stops it when the scope ends: the destructor requests the stop and
/// waits until the actor has ended (on_stop has run). Move-only.
template <class A>
class scoped {
public:
    /// Takes charge of an actor already started.
    explicit scoped(ref<A> r) noexcept : ref_(std::move(r)) {}
    /// Starts an actor of class A in `sys`, as sys.spawn<A>(args...) does.
    template <class... Args>
    explicit scoped(system& sys, Args&&... args) : ref_(sys.template spawn<A>(std::forward<Args>(args)...)) {}

    scoped(scoped&& o) noexcept : ref_(std::exchange(o.ref_, {})) {}
    scoped& operator=(scoped&& o) noexcept {
        if (this != &o) {
            end();
            ref_ = std::exchange(o.ref_, {});
        }
        return *this;
    }
    scoped(const scoped&) = delete;
    scoped& operator=(const scoped&) = delete;
    ~scoped() { end(); }

    /// The actor.
    const ref<A>& get() const noexcept { return ref_; }
    const ref<A>* operator->() const noexcept { return &ref_; }
    /// Gives up the charge: the actor lives on, and this guard holds nothing.
    ref<A> release() noexcept { return std::exchange(ref_, {}); }

private:
    void end() noexcept {
        if (ref_) {
            try {
                ref_.stop();
            } catch (...) {  // from inside the actor itself: it was asked to stop, cannot wait
            }
            ref_ = {};
        }
    }

    ref<A> ref_;
};

}  // namespace troupe
