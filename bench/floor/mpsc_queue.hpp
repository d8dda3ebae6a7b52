#pragma once
// The floor's queue: an intrusive, unbounded multi-producer single-consumer queue, with no
// framework around it. A producer pushes with one exchange and one store; the consumer pops
// without any read-modify-write unless it takes the last node. Written for bench_floor only.

#include <atomic>
#include <cstdint>
#include <thread>

namespace bench::floor_side {

/// Tells the CPU that this thread is spinning (x86 `pause`; nothing elsewhere).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// What the queue links: a next pointer and an 8-byte payload. The caller owns the storage.
struct node {
    std::atomic<node*> next{nullptr};
    std::int64_t value = 0;
};

/// An intrusive MPSC queue. Nodes go in at the back (any thread) and come out at the front
/// (one consumer thread). A node popped is the caller's again: the queue no longer touches it.
class mpsc_queue {
public:
    mpsc_queue() = default;
    mpsc_queue(const mpsc_queue&) = delete;
    mpsc_queue& operator=(const mpsc_queue&) = delete;

    /// Appends `n` (any thread).
    void push(node* n) noexcept {
        n->next.store(nullptr, std::memory_order_relaxed);
        // acq_rel: release hands n (payload and null link) to the next producer, which writes
        // n->next; acquire takes the previous producer's null link before we overwrite it.
        node* prev = back_.exchange(n, std::memory_order_acq_rel);
        // release: the consumer's acquire load of this link sees n's payload.
        prev->next.store(n, std::memory_order_release);
    }

    /// Takes the front node (consumer only); null when the queue is empty, or when a producer
    /// has swapped itself in at the back and not linked its node yet (it will, shortly).
    node* try_pop() noexcept {
        node* front = front_;
        // acquire: pairs with push's link store, so the node's payload is visible.
        node* next = front->next.load(std::memory_order_acquire);
        if (front == &stub_) {
            if (next == nullptr) {
                return nullptr;
            }
            front_ = next;
            front = next;
            next = next->next.load(std::memory_order_acquire);
        }
        if (next != nullptr) {
            front_ = next;
            return front;
        }
        // `front` is the only node left. It can leave only if a successor exists, so that the
        // front pointer has somewhere to go: put the stub behind it, unless a producer is
        // mid-push (back moved on, link not yet written).
        // acquire: pairs with the producers' exchange.
        if (front != back_.load(std::memory_order_acquire)) {
            return nullptr;
        }
        push(&stub_);
        next = front->next.load(std::memory_order_acquire);
        if (next != nullptr) {
            front_ = next;
            return front;
        }
        return nullptr;
    }

    /// Takes the front node, spinning until there is one (consumer only). After
    /// `patient_looks` empty looks in a row it also yields the CPU at each further look: on a
    /// quiet machine a handoff arrives long before that, and on a busy one a spinner must not
    /// sit for a whole time slice on the core its producer needs.
    node* pop() noexcept {
        for (unsigned looks = 0;; ++looks) {
            if (node* n = try_pop()) {
                return n;
            }
            if (looks < patient_looks) {
                cpu_relax();
            } else {
                std::this_thread::yield();
            }
        }
    }

    /// Empty looks pop() spins through before it starts yielding (about 25 µs at 24 ns a pause).
    static constexpr unsigned patient_looks = 1000;

private:
    node stub_;  // keeps the queue non-empty for the producers; the consumer skips it
    // Producers and the consumer write different words: keep them on different cache lines.
    alignas(64) std::atomic<node*> back_{&stub_};
    alignas(64) node* front_ = &stub_;
};

}  // namespace bench::floor_side
