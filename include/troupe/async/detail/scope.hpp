#pragma once
/// \file
/// cancel_scope: a node in the tree of cancellation inside one actor. Tasks run in a scope
/// (the actor's own, when none is given); cancelling a scope ends the suspended awaits of every
/// task in it and in the scopes below it with troupe::cancelled, and makes later awaits there
/// fail at once. Lives on, and is used from, its actor's executor only.

#include <troupe/core/detail/cell.hpp>

#include <algorithm>
#include <vector>

namespace troupe::detail {

class cancel_scope {
public:
    /// A scope below `parent` (null: directly below the actor).
    explicit cancel_scope(cancel_scope* parent) : parent_(parent) {
        if (parent_ != nullptr) {
            parent_->children_.push_back(this);
        }
    }
    ~cancel_scope() {
        if (parent_ != nullptr) {
            std::erase(parent_->children_, this);
        }
    }
    cancel_scope(const cancel_scope&) = delete;
    cancel_scope& operator=(const cancel_scope&) = delete;

    /// True if this scope or one above it was cancelled.
    bool cancelled() const noexcept {
        for (const cancel_scope* s = this; s != nullptr; s = s->parent_) {
            if (s->cancelled_) {
                return true;
            }
        }
        return false;
    }
    /// True if this very scope was cancelled (not only one above it).
    bool cancelled_here() const noexcept { return cancelled_; }
    /// Cancels this scope and everything below it. Idempotent.
    void cancel() noexcept {
        if (!cancelled_) {
            cancelled_ = true;
            cancel_below();
        }
    }

    void add(waiter& w) { waiters_.push_back(&w); }
    void remove(waiter& w) noexcept { std::erase(waiters_, &w); }

private:
    void cancel_below() noexcept {
        // cancel() only posts a resumption, so neither list changes under us.
        for (waiter* w : waiters_) {
            w->cancel();
        }
        for (cancel_scope* c : children_) {
            c->cancel_below();
        }
    }

    cancel_scope* parent_;
    std::vector<cancel_scope*> children_;
    std::vector<waiter*> waiters_;
    bool cancelled_ = false;
};

}  // namespace troupe::detail
