#pragma once
/// \file
/// The actor mailbox: an intrusive lock-free multi-producer single-consumer queue that reports
/// when it goes from idle to non-empty (the signal that schedules its actor) and that can be
/// closed atomically, so that no message is ever accepted after an actor stops.

#include <troupe/core/detail/envelope.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace troupe {

/// What a bounded mailbox does with a message that finds it full.
enum class overflow {
    block,        ///< the sender waits for room (never an actor sending to itself: that fails)
    drop_newest,  ///< the new message goes to dead letters; an asker gets troupe::mailbox_full
    drop_oldest,  ///< the oldest queued message goes to dead letters to make room
    fail,         ///< tell throws troupe::mailbox_full; ask returns a failed future
};

/// Mailbox settings for spawn. capacity 0 means unbounded (the default).
struct mailbox_options {
    std::size_t capacity = 0;               ///< most messages queued at once; 0 = no bound
    overflow on_overflow = overflow::fail;  ///< what happens to a message that finds it full
};

namespace detail {

/// The queue itself. Producers push onto a lock-free LIFO stack (one CAS); the consumer takes
/// the whole stack at once and reverses it into a private FIFO list, so pops are atomic-free.
/// The head word also carries three flags: "idle" (empty and its actor not scheduled), "closed"
/// (refuses senders) and "sealed" (the actor finished: refuses everything).
class mailbox {
public:
    enum class push_result {
        queued,        ///< accepted; the actor is already scheduled or running
        became_ready,  ///< accepted into an idle mailbox: the caller must schedule the actor
        closed,        ///< refused: the mailbox is closed
    };

    /// An idle mailbox, or (scheduled = true) one whose actor counts as already scheduled: the
    /// first push does not report became_ready, because the owner schedules it itself.
    explicit mailbox(bool scheduled = false) noexcept : head_(scheduled ? 0 : idle_bit) {}
    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    /// Appends `e` unless the mailbox is closed. Wait-free except for CAS retries.
    push_result push(envelope* e) noexcept { return push_impl(e, closed_bit | sealed_bit, 0); }
    /// Appends `e` as the very last message and closes the mailbox in the same step.
    push_result push_and_close(envelope* e) noexcept { return push_impl(e, closed_bit | sealed_bit, closed_bit); }
    /// Appends a runtime message (a coroutine's resumption) that must get in even after the
    /// mailbox closed to senders; refused only once the actor has finished (sealed).
    push_result push_internal(envelope* e) noexcept { return push_impl(e, sealed_bit, 0); }

    /// Consumer: the next message in FIFO order, or nullptr if there is none right now.
    envelope* pop() noexcept {
        if (cache_ == nullptr) {
            refill();
        }
        envelope* e = cache_;
        if (e != nullptr) {
            cache_ = e->next_;
        }
        return e;
    }
    /// Consumer: marks the mailbox idle if it is empty. Returns false if a message arrived
    /// meanwhile (keep running).
    bool try_idle() noexcept {
        if (cache_ != nullptr) {
            return false;
        }
        // Empty means no nodes; the closed bit may be set (an actor waiting for its coroutines).
        std::uintptr_t expected = head_.load(std::memory_order_relaxed) & closed_bit;
        // release: what the consumer did so far happens before whoever schedules it next;
        // acquire on failure: see the messages that made it fail.
        return head_.compare_exchange_strong(expected, expected | idle_bit, std::memory_order_acq_rel,
                                             std::memory_order_acquire);
    }
    /// Consumer: refuses senders from now on (runtime messages still get in).
    void close_to_senders() noexcept { head_.fetch_or(closed_bit, std::memory_order_acq_rel); }
    /// Consumer: seals the mailbox (it refuses everything) and returns every message not yet
    /// popped, in FIFO order.
    envelope* seal() noexcept {
        // acq_rel: take ownership of the pushed nodes and publish the sealed state.
        std::uintptr_t h = head_.exchange(closed_bit | sealed_bit, std::memory_order_acq_rel);
        envelope* rest = reverse(as_envelope(h));
        if (cache_ == nullptr) {
            return rest;
        }
        envelope* last = cache_;
        while (last->next_ != nullptr) {
            last = last->next_;
        }
        last->next_ = rest;
        return std::exchange(cache_, nullptr);
    }
    /// Consumer (or whoever holds the consumer's lock): unlinks and returns the oldest message
    /// for which `pred` holds, or nullptr. Used by drop_oldest mailboxes, whose senders make room.
    template <class Pred>
    envelope* remove_oldest(Pred pred) noexcept {
        if (envelope* e = unlink_first(pred)) {
            return e;  // the private list holds the older messages
        }
        // relaxed pre-check, acquire take: as in refill(). The pushed ones go behind the list.
        if ((head_.load(std::memory_order_relaxed) & ~flag_mask) == 0) {
            return nullptr;
        }
        envelope* pushed = reverse(as_envelope(head_.fetch_and(flag_mask, std::memory_order_acquire)));
        if (cache_ == nullptr) {
            cache_ = pushed;
        } else {
            envelope* last = cache_;
            while (last->next_ != nullptr) {
                last = last->next_;
            }
            last->next_ = pushed;
        }
        return unlink_first(pred);
    }
    /// Consumer: true if producers have pushed messages not yet taken (a hint: relaxed).
    bool has_pushed() const noexcept { return (head_.load(std::memory_order_relaxed) & ~flag_mask) != 0; }
    /// True once closed to senders (by push_and_close, close_to_senders or seal).
    bool closed() const noexcept { return (head_.load(std::memory_order_acquire) & closed_bit) != 0; }

private:
    // The head word: the newest node's address (envelopes are 8-aligned) or-ed with three flags.
    static constexpr std::uintptr_t closed_bit = 1;  // senders are refused
    static constexpr std::uintptr_t idle_bit = 2;    // empty, and the actor is not scheduled
    static constexpr std::uintptr_t sealed_bit = 4;  // the actor finished: everything is refused
    static constexpr std::uintptr_t flag_mask = 7;

    static envelope* as_envelope(std::uintptr_t h) noexcept { return reinterpret_cast<envelope*>(h & ~flag_mask); }

    push_result push_impl(envelope* e, std::uintptr_t refused_if, std::uintptr_t also_set) noexcept {
        // relaxed: the CAS below re-reads the value.
        std::uintptr_t h = head_.load(std::memory_order_relaxed);
        for (;;) {
            if ((h & refused_if) != 0) {
                return push_result::closed;
            }
            e->next_ = as_envelope(h);
            const std::uintptr_t next = reinterpret_cast<std::uintptr_t>(e) | (h & closed_bit) | also_set;
            // release: the message's contents happen before the consumer takes it. acquire: when
            // the mailbox was idle, the consumer's last turn happens before we schedule it again.
            // A failed CAS only re-reads the head word.
            if (head_.compare_exchange_weak(h, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
                return (h & idle_bit) != 0 ? push_result::became_ready : push_result::queued;
            }
        }
    }

    void refill() noexcept {
        // relaxed pre-check keeps pops of an empty mailbox free of atomic RMWs.
        std::uintptr_t h = head_.load(std::memory_order_relaxed);
        if ((h & ~flag_mask) == 0) {
            return;
        }
        // acquire: see the contents of every message taken. The flags stay (idle is never set
        // while the consumer runs).
        h = head_.fetch_and(flag_mask, std::memory_order_acquire);
        cache_ = reverse(as_envelope(h));
    }

    template <class Pred>
    envelope* unlink_first(Pred& pred) noexcept {
        for (envelope** link = &cache_; *link != nullptr; link = &(*link)->next_) {
            if (pred(*link)) {
                envelope* e = *link;
                *link = e->next_;
                e->next_ = nullptr;
                return e;
            }
        }
        return nullptr;
    }

    static envelope* reverse(envelope* e) noexcept {
        envelope* out = nullptr;
        while (e != nullptr) {
            envelope* next = e->next_;
            e->next_ = out;
            out = e;
            e = next;
        }
        return out;
    }

    std::atomic<std::uintptr_t> head_;
    envelope* cache_ = nullptr;  // consumer-only, FIFO order
};

}  // namespace detail
}  // namespace troupe
