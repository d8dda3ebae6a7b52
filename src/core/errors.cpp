// Small pieces shared by the core: futexes, type names, durations, shared-state waiting.

#include <troupe/core/detail/futex.hpp>
#include <troupe/core/detail/shared_state.hpp>
#include <troupe/core/detail/untyped.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/proxy.hpp>
#include <troupe/core/scheduler.hpp>

#include "one_cpu.hpp"

#include <cxxabi.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>

namespace troupe::detail {

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const std::chrono::steady_clock::time_point* deadline) noexcept {
    timespec ts{};
    timespec* tsp = nullptr;
    if (deadline != nullptr) {
        auto left = *deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) {
            return false;
        }
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        tsp = &ts;
    }
    long r = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, tsp, nullptr, 0);
    return !(r == -1 && errno == ETIMEDOUT);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

std::string short_type_name(const std::type_info& t) {
    // The last component at template depth 0: "app::pinger" -> "pinger",
    // "ns::worker<ns::job>" -> "worker<ns::job>".
    std::string full = type_name(t);
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < full.size(); ++i) {
        char c = full[i];
        if (c == '<' || c == '(') {
            ++depth;
        } else if (c == '>' || c == ')') {
            --depth;
        } else if (depth == 0 && c == ':' && i + 1 < full.size() && full[i + 1] == ':') {
            start = i + 2;
            ++i;
        }
    }
    return full.substr(start);
}

std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    std::string out = (status == 0 && name) ? name.get() : t.name();
    // "std::__cxx11::basic_string<char, ...>" says nothing a user needs.
    if (out.rfind("std::__cxx11::basic_string<char", 0) == 0) {
        return "std::string";
    }
    return out;
}

std::string describe_duration(std::chrono::nanoseconds d) {
    using namespace std::chrono;
    auto n = d.count();
    if (n % 1'000'000'000 == 0) {
        return std::to_string(n / 1'000'000'000) + " s";
    }
    if (n % 1'000'000 == 0) {
        return std::to_string(n / 1'000'000) + " ms";
    }
    if (n % 1'000 == 0) {
        return std::to_string(n / 1'000) + " us";
    }
    return std::to_string(n) + " ns";
}

void state_base::publish(std::uint32_t kind) noexcept {
    // release: the value (or error) happens before every reader that sees the done bit.
    std::uint32_t old = status_.fetch_or(kind, std::memory_order_acq_rel);
    if ((old & waiters_bit) != 0) {
        futex_wake_all(status_);
    }
    // acq_rel: take the continuations registered so far and stop accepting new ones.
    std::uintptr_t list = continuations_.exchange(closed, std::memory_order_acq_rel);
    continuation* reversed = nullptr;
    for (auto* c = reinterpret_cast<continuation*>(list); c != nullptr;) {
        continuation* next = c->next_;
        c->next_ = reversed;
        reversed = c;
        c = next;
    }
    while (reversed != nullptr) {
        continuation* next = reversed->next_;
        reversed->run();
        reversed = next;
    }
}

void state_base::add_continuation(continuation* c) noexcept {
    std::uintptr_t head = continuations_.load(std::memory_order_acquire);
    for (;;) {
        if (head == closed) {
            c->run();
            return;
        }
        c->next_ = reinterpret_cast<continuation*>(head);
        // release: the node's contents happen before publish() runs it; acquire on failure
        // so that seeing `closed` also means seeing the value.
        if (continuations_.compare_exchange_weak(head, reinterpret_cast<std::uintptr_t>(c), std::memory_order_release,
                                                 std::memory_order_acquire)) {
            return;
        }
    }
}

namespace {

/// How many times a blocking wait polls (a pause between) before it sleeps: about 110 us here,
/// long enough to catch a reply from an actor running on another core without a futex round
/// trip. With a single CPU to run on (taskset, a cgroup's cpuset) nothing can answer while the
/// waiter spins: the spin only keeps the answerer off the CPU, so it goes straight to sleep.
int spin_before_sleep() noexcept {
    static const int rounds = one_cpu() ? 0 : 4000;
    return rounds;
}

}  // namespace

bool one_cpu() noexcept {
    static const bool one = [] {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        return sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) == 1;
    }();
    return one;
}

void state_base::wait() const {
    if (ready()) {
        return;
    }
    blocking_wait guard(*this);
    for (int i = 0, n = spin_before_sleep(); i < n; ++i) {
        if (ready()) {
            return;
        }
        cpu_relax();
    }
    for (;;) {
        std::uint32_t s = status_.load(std::memory_order_acquire);
        if ((s & done_mask) != 0) {
            return;
        }
        // relaxed is enough for the flag: publish() reads it with its acq_rel RMW.
        if ((s & waiters_bit) == 0 && !status_.compare_exchange_weak(s, s | waiters_bit, std::memory_order_relaxed)) {
            continue;
        }
        futex_wait(status_, s | waiters_bit);
    }
}

bool state_base::wait_until(std::chrono::steady_clock::time_point deadline) const {
    if (ready()) {
        return true;
    }
    blocking_wait guard(*this);
    for (int i = 0, n = spin_before_sleep(); i < n; ++i) {
        if (ready()) {
            return true;
        }
        cpu_relax();
    }
    for (;;) {
        std::uint32_t s = status_.load(std::memory_order_acquire);
        if ((s & done_mask) != 0) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        if ((s & waiters_bit) == 0 && !status_.compare_exchange_weak(s, s | waiters_bit, std::memory_order_relaxed)) {
            continue;
        }
        futex_wait(status_, s | waiters_bit, &deadline);
    }
}

void throw_empty_ref() {
    throw actor_dead("cannot send through an empty ref");
}

void throw_needs_local(const char* operation, const endpoint& target) {
    throw error(std::string(operation) + " needs an actor of this process, and " + target.name() + " is not one");
}

void throw_not_local(const endpoint& target) {
    throw error("proxy calls (call, defer, get, set, member) reach only actors in this process, and " + target.name() +
                " is not one: send it messages instead");
}

void throw_reply_mismatch(const std::type_info& message, const std::type_info& actual, const std::type_info& expected) {
    throw error("the handler of " + type_name(message) + " replies with " + type_name(actual) + ", not " +
                type_name(expected));
}

}  // namespace troupe::detail

namespace troupe {

std::string exit_reason::describe() const {
    switch (what) {
        case kind::normal:
            return "normal";
        case kind::stopped:
            return "stopped";
        case kind::killed:
            return "killed";
        case kind::failed:
            break;
    }
    if (error_type.empty()) {
        return "failed";
    }
    return "failed: " + error_type + ": " + message;
}

}  // namespace troupe
