#pragma once
/// \file
/// Thin wrappers over Linux futexes: waiting on a 32-bit atomic with an optional deadline.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace troupe::detail {

/// Blocks while `word == expected`, until woken or until `deadline`. Returns false on timeout.
/// Spurious returns are possible; callers re-check their condition.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const std::chrono::steady_clock::time_point* deadline = nullptr) noexcept;

/// Wakes up to `count` threads blocked in futex_wait on `word`.
void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;

/// Wakes every thread blocked on `word`.
inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
    futex_wake(word, 0x7fffffff);
}

/// A hint to the CPU that we are spinning.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace troupe::detail
