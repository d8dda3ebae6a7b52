#include <troupe/core/scheduler.hpp>

#include <troupe/core/detail/futex.hpp>

#include "one_cpu.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace troupe {

using detail::job;

namespace {

/// A worker's own run queue: a bounded ring the owner pushes to at the tail and anyone pops
/// from at the head (the owner for its next job, idle workers to steal).
class local_queue {
public:
    static constexpr std::uint32_t capacity = 256;

    /// Owner only. Returns false when full.
    bool push(job* j) noexcept {
        std::uint32_t t = tail_.load(std::memory_order_relaxed);  // only the owner writes it
        // acquire: a slot is reused only after the popper that read it has moved head on.
        std::uint32_t h = head_.load(std::memory_order_acquire);
        if (t - h >= capacity) {
            return false;
        }
        slots_[t % capacity].store(j, std::memory_order_relaxed);
        // release: the slot's contents happen before any pop that sees the new tail.
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }
    /// Anyone. Returns nullptr when empty.
    job* pop() noexcept {
        std::uint32_t h = head_.load(std::memory_order_acquire);
        for (;;) {
            // acquire: pairs with push's release, so the slot read below sees the job.
            std::uint32_t t = tail_.load(std::memory_order_acquire);
            if (h == t) {
                return nullptr;
            }
            job* j = slots_[h % capacity].load(std::memory_order_relaxed);
            // acq_rel: claims slot h; the owner reuses it only after seeing this increment.
            if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                return j;
            }
        }
    }
    bool empty() const noexcept {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }

private:
    alignas(64) std::atomic<std::uint32_t> head_{0};
    alignas(64) std::atomic<std::uint32_t> tail_{0};
    std::array<std::atomic<job*>, capacity> slots_{};
};

}  // namespace

struct scheduler::impl {
    struct worker {
        impl* owner = nullptr;
        unsigned index = 0;
        // The job scheduled last by this worker: it runs next, while the message chain is hot
        // in this core's cache. Atomic because a thief takes it when the owner is stuck in a
        // long turn (see steal()).
        std::atomic<job*> next{nullptr};
        unsigned next_streak = 0;  // jobs in a row taken from `next` (owner only)
        local_queue queue;
        // 0 = awake, 1 = parked, 2 = woken. The futex word a parked worker sleeps on.
        std::atomic<std::uint32_t> park{0};
        // Jobs this worker has started; thieves read it (relaxed: only compared for change) to
        // tell an owner that is stuck in one turn from one that moves on.
        std::atomic<std::uint64_t> ticks{0};
        // Per victim, as this worker last saw it while searching: its ticks with a job waiting
        // in its `next`, and since when.
        struct sighting {
            std::uint64_t ticks = ~std::uint64_t{0};
            std::chrono::steady_clock::time_point since{};
        };
        std::vector<sighting> seen;
        // Parks left during which this worker still watches next slots although it saw none
        // filled (owner only): see park().
        unsigned linger = 0;
        std::thread thread;
    };

    /// Jobs in a row a worker takes from its `next` slot while other work waits in its queue:
    /// two actors that keep messaging each other would otherwise hold the worker for ever.
    static constexpr unsigned next_budget = 16;
    /// How long a job may sit in the `next` slot of a worker stuck in one turn before an idle
    /// worker takes it.
    static constexpr std::chrono::microseconds stuck_after{20};
    /// How often a parked worker looks for such a job while one waits in a next slot.
    static constexpr std::chrono::milliseconds stuck_check_period{1};
    /// How many periods a watching worker goes on watching after it last saw a next slot
    /// filled: in an exchange the slot is empty for moments, and a worker that stopped watching
    /// in one of them would have to be woken by the next fill.
    static constexpr unsigned linger_periods = 8;

    explicit impl(scheduler_options o) : options(o) {
        if (options.workers == 0) {
            options.workers = std::max(1u, std::thread::hardware_concurrency());
        }
        if (options.batch == 0) {
            options.batch = 1;
        }
        for (unsigned i = 0; i < options.workers; ++i) {
            auto w = std::make_unique<worker>();
            w->owner = this;
            w->index = i;
            w->seen.resize(options.workers);
            workers.push_back(std::move(w));
        }
        for (auto& w : workers) {
            w->thread = std::thread([this, wp = w.get()] { run(*wp); });
        }
    }

    scheduler_options options;
    std::vector<std::unique_ptr<worker>> workers;

    std::mutex global_mutex;
    job* global_head = nullptr;
    job* global_tail = nullptr;
    std::atomic<std::size_t> global_size{0};

    std::mutex idle_mutex;
    std::vector<worker*> sleepers;
    // Low 16 bits: workers searching for work; high 16 bits: workers parked. One word, so that
    // producers and workers going idle order themselves through read-modify-writes on it.
    std::atomic<std::uint32_t> idle{0};
    static constexpr std::uint32_t one_sleeper = 1u << 16;
    static constexpr std::uint32_t searching_mask = one_sleeper - 1;
    // Parked workers in a timed sleep, coming back to look at the next slots (see park()).
    std::atomic<std::uint32_t> watchers{0};
    std::atomic<bool> stopping{false};
    bool joined = false;

    static thread_local worker* current;

    void push_global(job* j) noexcept {
        std::lock_guard lock(global_mutex);
        j->next_job_ = nullptr;
        if (global_tail != nullptr) {
            global_tail->next_job_ = j;
        } else {
            global_head = j;
        }
        global_tail = j;
        // relaxed: a hint for lock-free emptiness checks; the mutex orders the list itself.
        global_size.fetch_add(1, std::memory_order_relaxed);
    }
    job* pop_global() noexcept {
        if (global_size.load(std::memory_order_relaxed) == 0) {
            return nullptr;
        }
        std::lock_guard lock(global_mutex);
        job* j = global_head;
        if (j != nullptr) {
            global_head = j->next_job_;
            if (global_head == nullptr) {
                global_tail = nullptr;
            }
            global_size.fetch_sub(1, std::memory_order_relaxed);
        }
        return j;
    }
    void push_local(worker& w, job* j) noexcept {
        if (!w.queue.push(j)) {
            push_global(j);
        }
    }

    bool work_visible() const noexcept {
        if (global_size.load(std::memory_order_relaxed) != 0) {
            return true;
        }
        return std::any_of(workers.begin(), workers.end(), [](auto& w) { return !w->queue.empty(); });
    }

    /// After making work stealable: wake a parked worker unless one is already looking.
    void notify() noexcept {
        // An RMW (not a load) so that it reads the latest counts: a worker that registers as
        // parked or stops searching after this reads our release and so sees the new work;
        // one that did so before is seen here.
        std::uint32_t s = idle.fetch_add(0, std::memory_order_acq_rel);
        if ((s & searching_mask) != 0 || (s >> 16) == 0) {
            return;
        }
        wake_one();
    }
    void wake_one() noexcept {
        worker* w = nullptr;
        {
            std::lock_guard lock(idle_mutex);
            if (sleepers.empty()) {
                return;
            }
            w = sleepers.back();
            sleepers.pop_back();
            idle.fetch_sub(one_sleeper, std::memory_order_acq_rel);
        }
        // release: the wakee sees what the waker published before.
        w->park.store(2, std::memory_order_release);
        detail::futex_wake(w->park, 1);
    }
    void wake_all() noexcept {
        std::vector<worker*> all;
        {
            std::lock_guard lock(idle_mutex);
            all.swap(sleepers);
            idle.fetch_sub(one_sleeper * static_cast<std::uint32_t>(all.size()), std::memory_order_acq_rel);
        }
        for (worker* w : all) {
            w->park.store(2, std::memory_order_release);
            detail::futex_wake(w->park, 1);
        }
    }

    job* find_local(worker& w) noexcept {
        const std::uint64_t tick = w.ticks.load(std::memory_order_relaxed) + 1;
        w.ticks.store(tick, std::memory_order_relaxed);
        if (tick % 61 == 0) {
            // Now and then look at the global queue first, so outside work cannot starve.
            if (job* j = pop_global()) {
                return j;
            }
        }
        // acquire: pairs with schedule()'s exchange, so the job's state is visible.
        if (job* j = w.next.exchange(nullptr, std::memory_order_acquire)) {
            if (++w.next_streak <= next_budget) {
                return j;
            }
            w.next_streak = 0;
            if (w.queue.empty() && global_size.load(std::memory_order_relaxed) == 0) {
                return j;  // nothing else waits: no need to give the slot up
            }
            push_local(w, j);  // budget spent: behind the work that waited
        }
        w.next_streak = 0;
        if (job* j = w.queue.pop()) {
            return j;
        }
        return pop_global();
    }
    job* steal(worker& w) noexcept {
        const std::size_t n = workers.size();
        for (std::size_t k = 1; k < n; ++k) {
            worker& victim = *workers[(w.index + k) % n];
            if (job* j = victim.queue.pop()) {
                return j;
            }
        }
        if (job* j = pop_global()) {
            return j;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if (job* j = steal_stuck_next(w, *workers[(w.index + k) % n])) {
                return j;
            }
        }
        return nullptr;
    }
    /// Takes the job waiting in `victim`'s next slot if the victim has been inside one turn
    /// (its ticks unchanged) for stuck_after: a long handler must not hold a ready actor back.
    job* steal_stuck_next(worker& w, worker& victim) noexcept {
        auto& seen = w.seen[victim.index];
        if (victim.next.load(std::memory_order_relaxed) == nullptr) {
            seen.ticks = ~std::uint64_t{0};
            return nullptr;
        }
        const std::uint64_t ticks = victim.ticks.load(std::memory_order_relaxed);
        const auto now = std::chrono::steady_clock::now();
        if (seen.ticks != ticks) {
            seen = {ticks, now};
            return nullptr;
        }
        if (now - seen.since < stuck_after) {
            return nullptr;
        }
        seen.ticks = ~std::uint64_t{0};
        // acquire: pairs with schedule()'s exchange, so the job's state is visible.
        return victim.next.exchange(nullptr, std::memory_order_acquire);
    }
    job* search(worker& w) noexcept {
        // On one CPU the pauses only keep the thread that would make the work off the CPU:
        // the rounds yield it instead.
        const unsigned pausing = detail::one_cpu() ? 0 : options.spin_rounds / 2;
        for (unsigned round = 0; round < options.spin_rounds; ++round) {
            if (job* j = steal(w)) {
                return j;
            }
            if (stopping.load(std::memory_order_relaxed)) {
                return nullptr;
            }
            if (round < pausing) {
                detail::cpu_relax();
            } else {
                std::this_thread::yield();
            }
        }
        return nullptr;
    }

    void park(worker& w) noexcept {
        {
            std::lock_guard lock(idle_mutex);
            sleepers.push_back(&w);
            w.park.store(1, std::memory_order_relaxed);
            // acq_rel: mirror of notify(): either the producer sees us parked, or we see its work.
            // seq_cst: mirror of fill_next(): either it sees us parked, or we see its slot
            // filled (any_next_waiting below).
            idle.fetch_add(one_sleeper, std::memory_order_seq_cst);
        }
        if (work_visible() || stopping.load(std::memory_order_relaxed)) {
            std::lock_guard lock(idle_mutex);
            auto it = std::find(sleepers.begin(), sleepers.end(), &w);
            if (it != sleepers.end()) {
                sleepers.erase(it);
                idle.fetch_sub(one_sleeper, std::memory_order_acq_rel);
                w.park.store(0, std::memory_order_relaxed);
                return;
            }
            // Someone already took us off the list to wake us: wait for that below.
        }
        // A job waiting in another worker's next slot wakes nobody while a parked worker
        // watches (a wake per message of every exchange would cost too much): the watcher
        // sleeps lightly and comes back to look whether that worker is stuck in a long turn. It
        // goes on watching for a while after it last saw a slot filled; then it sleeps until
        // woken, and the next fill of an empty slot wakes it (fill_next). An idle system has no
        // watcher: no polling.
        bool watch = any_next_waiting();
        if (watch) {
            w.linger = linger_periods;
        } else if (w.linger > 0) {
            --w.linger;
            watch = true;
        }
        if (watch) {
            watchers.fetch_add(1, std::memory_order_seq_cst);
        }
        const auto deadline = std::chrono::steady_clock::now() + stuck_check_period;
        bool timed_out = false;
        // acquire: see the work published by whoever woke us.
        while (w.park.load(std::memory_order_acquire) == 1) {
            if (!watch) {
                detail::futex_wait(w.park, 1);
                continue;
            }
            if (detail::futex_wait(w.park, 1, &deadline) || w.park.load(std::memory_order_acquire) != 1) {
                continue;
            }
            std::lock_guard lock(idle_mutex);
            auto it = std::find(sleepers.begin(), sleepers.end(), &w);
            if (it != sleepers.end()) {
                sleepers.erase(it);
                idle.fetch_sub(one_sleeper, std::memory_order_acq_rel);
                timed_out = true;
                break;
            }
            // Someone took us off the list to wake us: its store of 2 is on its way.
        }
        if (watch) {
            // seq_cst: mirror of fill_next(). A fill that still counted us is looked at again:
            // by this worker when it parks next if it timed out (it searches first, and then
            // sees the slot filled); by another if this one was woken for other work, which may
            // hold it for long.
            if (watchers.fetch_sub(1, std::memory_order_seq_cst) == 1 && !timed_out && any_next_waiting()) {
                fill_next();  // as if filled now: wakes a parked worker if none watches
            }
        }
        w.park.store(0, std::memory_order_relaxed);
    }
    bool any_next_waiting() const noexcept {
        return std::any_of(workers.begin(), workers.end(),
                           [](auto& w) { return w->next.load(std::memory_order_seq_cst) != nullptr; });
    }
    /// After filling an empty next slot: if workers are parked and none of them watches the
    /// slots, wake one, or the job would wait for as long as this worker's turn lasts. The
    /// seq_cst operations order this against park(): a worker that parks after our fill sees
    /// the slot filled and watches; one parked before is counted here.
    void fill_next() noexcept {
        if (watchers.load(std::memory_order_seq_cst) != 0) {
            return;
        }
        if ((idle.load(std::memory_order_seq_cst) >> 16) == 0) {
            return;
        }
        wake_one();
    }

    void run(worker& w) noexcept {
        current = &w;
        bool is_searching = false;
        for (;;) {
            job* j = find_local(w);
            if (j == nullptr) {
                if (!is_searching) {
                    is_searching = true;
                    idle.fetch_add(1, std::memory_order_acq_rel);
                }
                j = search(w);
            }
            if (is_searching) {
                is_searching = false;
                // The last searcher to find work wakes another, which may find more.
                const std::uint32_t before = idle.fetch_sub(1, std::memory_order_acq_rel);
                if ((before & searching_mask) == 1 && j != nullptr && work_visible()) {
                    notify();
                }
            }
            if (j != nullptr) {
                j->run_job();
                continue;
            }
            if (stopping.load(std::memory_order_acquire)) {
                break;
            }
            park(w);
        }
        current = nullptr;
    }

    void schedule(job* j) noexcept {
        worker* w = current;
        if (w != nullptr && w->owner == this) {
            // Run it next on this worker: the message chain stays hot in this core's cache.
            // acq_rel: publishes the job to a thief that takes it; sees the displaced one's state.
            // seq_cst: ordered against park() (see fill_next).
            job* displaced = w->next.exchange(j, std::memory_order_seq_cst);
            if (displaced != nullptr) {
                push_local(*w, displaced);
                notify();
            } else {
                fill_next();
            }
            return;
        }
        push_global(j);
        notify();
    }
    void yield(job* j) noexcept {
        worker* w = current;
        if (w != nullptr && w->owner == this) {
            push_local(*w, j);
        } else {
            push_global(j);
        }
        notify();
    }
    void shutdown() {
        if (joined) {
            return;
        }
        stopping.store(true, std::memory_order_release);
        wake_all();
        for (auto& w : workers) {
            // Workers parked between our wake_all and their own park see `stopping`.
            w->park.store(2, std::memory_order_release);
            detail::futex_wake(w->park, 1);
            if (w->thread.joinable()) {
                w->thread.join();
            }
        }
        joined = true;
    }
};

thread_local scheduler::impl::worker* scheduler::impl::current = nullptr;

scheduler::scheduler(scheduler_options options) : impl_(std::make_unique<impl>(options)) {}
scheduler::~scheduler() {
    shutdown();
}

void scheduler::schedule(job* j) noexcept {
    impl_->schedule(j);
}
void scheduler::yield(job* j) noexcept {
    impl_->yield(j);
}
bool scheduler::others_waiting() const noexcept {
    impl::worker* w = impl::current;
    // Only the worker's own queues and the global one: work in other workers' queues has a
    // worker of its own.
    return w == nullptr || w->owner != impl_.get() || w->next.load(std::memory_order_relaxed) != nullptr ||
           !w->queue.empty() || impl_->global_size.load(std::memory_order_relaxed) != 0;
}
unsigned scheduler::workers() const noexcept {
    return impl_->options.workers;
}
unsigned scheduler::batch() const noexcept {
    return impl_->options.batch;
}
void scheduler::shutdown() {
    impl_->shutdown();
}

void detail::before_blocking() noexcept {
    scheduler::impl::worker* w = scheduler::impl::current;
    if (w == nullptr) {
        return;
    }
    if (job* j = w->next.exchange(nullptr, std::memory_order_acquire)) {
        w->owner->push_local(*w, j);
        w->owner->notify();
    }
}

}  // namespace troupe
