#pragma once
// The floor's blocking queue: an mpsc_queue whose consumer sleeps on a futex while the queue
// is empty, and whose producers wake it only when it sleeps (a load and a fence otherwise).

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "mpsc_queue.hpp"

namespace bench::floor_side {

/// An mpsc_queue plus a futex word for its one consumer.
class futex_inbox {
public:
    /// Appends `n` and wakes the consumer if it sleeps (any thread).
    void push(node* n) noexcept {
        queue_.push(n);
        // seq_cst fence, paired with the one in pop(): either this load sees the consumer's
        // `sleeping_ = 1`, or the consumer's re-check after its fence sees our node (Dekker).
        std::atomic_thread_fence(std::memory_order_seq_cst);
        // relaxed: the fences order these accesses; exchange so that one producer wakes it.
        if (sleeping_.load(std::memory_order_relaxed) != 0 && sleeping_.exchange(0, std::memory_order_relaxed) != 0) {
            syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&sleeping_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
                    0);
        }
    }

    /// Takes the front node, sleeping on the futex while there is none (consumer only). It
    /// never spins: each empty look goes straight to the kernel.
    node* pop() noexcept {
        for (;;) {
            if (node* n = queue_.try_pop()) {
                return n;
            }
            sleeping_.store(1, std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_seq_cst);  // see push()
            if (node* n = queue_.try_pop()) {
                sleeping_.store(0, std::memory_order_relaxed);
                return n;
            }
            // Sleeps only while the word is still 1: a producer's reset makes this return at once.
            syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&sleeping_), FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr,
                    0);
        }
    }

private:
    mpsc_queue queue_;
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "the futex word is the atomic");
    alignas(64) std::atomic<std::uint32_t> sleeping_{0};  // 1 while the consumer is (about to be) asleep
};

}  // namespace bench::floor_side
