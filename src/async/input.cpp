// Input tasks: the blocking pool and the readiness reactor, one of each per process.
//
// Both are process-wide because a system has no slot for services of other layers (see
// docs/guide/async.md, "Input tasks"). Each is created on first use and never destroyed, so
// that an actor ending late (in a static system destroyed after them) still finds them; a
// static guard constructed with each stops and joins its threads at process exit.

#include <troupe/async/input.hpp>

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace troupe::detail {

namespace {

std::string errno_text(int e) {
    return std::strerror(e);
}

/// Threads apart from every system's workers, for functions that block. Elastic: a thread is
/// started when a job waits and none is idle (up to blocking_pool_threads); a thread idle for
/// `linger` ends.
class blocking_pool {
public:
    static blocking_pool& instance() {
        static auto* pool = new blocking_pool();  // immortal: see the file comment
        static struct guard {
            ~guard() { pool->shutdown(); }
        } at_exit;
        return *pool;
    }

    void submit(std::unique_ptr<blocking_job> job) {
        std::vector<std::thread> finished;
        {
            std::lock_guard lock(mutex_);
            if (stopped_) {
                throw error("troupe::run_blocking: the blocking pool has shut down (the process is exiting)");
            }
            queue_.push_back(std::move(job));
            if (queue_.size() > idle_ && threads_.size() < blocking_pool_threads) {
                start_thread();
            } else {
                wake_.notify_one();
            }
            finished.swap(retired_);
        }
        for (auto& t : finished) {
            t.join();  // it has left its loop: this waits only for it to return
        }
    }

    void shutdown() noexcept {
        std::deque<std::unique_ptr<blocking_job>> dropped;
        std::unordered_map<std::thread::id, std::thread> running;
        std::vector<std::thread> finished;
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
            dropped.swap(queue_);
            running.swap(threads_);
            finished.swap(retired_);
            wake_.notify_all();
        }
        dropped.clear();  // jobs never run: their results are dropped, their futures broken
        for (auto& [id, t] : running) {
            join_unless_self(t);  // a function still running is waited for
        }
        for (auto& t : finished) {
            join_unless_self(t);
        }
    }

private:
    static constexpr std::chrono::seconds linger{2};

    static void join_unless_self(std::thread& t) {
        if (t.get_id() == std::this_thread::get_id()) {
            t.detach();  // exit() called from a blocking function
        } else {
            t.join();
        }
    }

    /// Called with the lock held.
    void start_thread() {
        try {
            std::thread t([this] { work(); });
            const auto id = t.get_id();
            threads_.emplace(id, std::move(t));
        } catch (...) {
            if (threads_.empty()) {
                queue_.pop_back();  // nobody would ever run it
                throw;
            }
            wake_.notify_one();  // the threads already there will get to it
        }
    }

    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (!queue_.empty()) {
                std::unique_ptr<blocking_job> job = std::move(queue_.front());
                queue_.pop_front();
                lock.unlock();
                job->run();
                job.reset();  // the job's captures (refs, handlers) die outside the lock
                lock.lock();
                continue;
            }
            if (stopped_) {
                return;  // shutdown() joins it
            }
            ++idle_;
            const bool woken = wake_.wait_for(lock, linger, [this] { return !queue_.empty() || stopped_; });
            --idle_;
            if (!woken) {
                // Idle for too long: leave. The next submit (or shutdown) joins this thread.
                auto self = threads_.find(std::this_thread::get_id());
                if (self != threads_.end()) {
                    retired_.push_back(std::move(self->second));
                    threads_.erase(self);
                }
                return;
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<blocking_job>> queue_;
    std::unordered_map<std::thread::id, std::thread> threads_;  // running their loop
    std::vector<std::thread> retired_;                          // left their loop, not joined yet
    std::size_t idle_ = 0;                                      // threads waiting for a job
    bool stopped_ = false;
};

}  // namespace

/// One thread that waits (epoll) for watched descriptors to become readable and sends each
/// notification to the watch's actor. Watches are keyed by an id that is never reused, so a
/// late event of an ended watch finds nothing.
class reactor {
public:
    static reactor& instance() {
        static auto* r = new reactor();  // immortal: see the file comment
        static struct guard {
            ~guard() { r->shutdown(); }
        } at_exit;
        return *r;
    }

    void add(const std::shared_ptr<watch_state>& w, int fd) {
        const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0) {
            const int e = errno;
            throw error("troupe::watch_readable: file descriptor " + std::to_string(fd) +
                        " cannot be watched: " + errno_text(e));
        }
        bool first_of_owner = false;
        {
            std::lock_guard lock(mutex_);
            try {
                if (stopped_) {
                    throw error("troupe::watch_readable: the reactor has shut down (the process is exiting)");
                }
                start_thread();
                const std::uint64_t id = next_id_++;
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLONESHOT;
                ev.data.u64 = id;
                if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, copy, &ev) < 0) {
                    const int e = errno;
                    throw error("troupe::watch_readable: file descriptor " + std::to_string(fd) +
                                " cannot be watched: " + errno_text(e) +
                                (e == EPERM ? " (a regular file is always readable: read it directly)" : ""));
                }
                w->id_ = id;
                w->fd_ = copy;
                watches_.emplace(id, w);
                auto [owner, inserted] = owners_.try_emplace(&w->owner());
                owner->second.push_back(id);
                first_of_owner = inserted;
            } catch (...) {
                if (w->fd_ < 0) {
                    ::close(copy);
                }
                throw;
            }
        }
        if (first_of_owner) {
            // One continuation per actor (not per watch) ends all its watches when it ends: at
            // once if it already has. It runs as the actor's termination completes, so a thread
            // waiting for that termination may go on a moment before it has run (no core hook
            // runs earlier); the system's shutdown joins the thread that runs it.
            try {
                w->owner().termination().then_state(
                    [owner = counted_ptr<cell_base>(&w->owner())](auto&) { instance().end_owner(owner.get()); });
            } catch (...) {
                end_owner(&w->owner());
                throw;
            }
        }
    }

    void cancel(watch_state& w) noexcept {
        std::shared_ptr<watch_state> gone;
        {
            std::lock_guard lock(mutex_);
            if (w.fd_ < 0) {
                return;
            }
            auto owner = owners_.find(&w.owner());
            if (owner != owners_.end()) {
                std::erase(owner->second, w.id_);
            }
            gone = remove_locked(w);
        }
    }

    void rearm(watch_state& w) noexcept {
        std::shared_ptr<watch_state> gone;
        std::lock_guard lock(mutex_);
        if (w.fd_ < 0) {
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.u64 = w.id_;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, w.fd_, &ev) < 0) {
            const int e = errno;
            try {
                troupe::logger()->error("{}: a watch on a file descriptor ended: it could not be re-armed: {}",
                                        w.owner().name(), errno_text(e));
            } catch (...) {}
            auto owner = owners_.find(&w.owner());
            if (owner != owners_.end()) {
                std::erase(owner->second, w.id_);
            }
            gone = remove_locked(w);
        }
    }

    /// Ends every watch of an actor that has ended.
    void end_owner(const cell_base* owner) noexcept {
        std::vector<std::shared_ptr<watch_state>> gone;
        std::lock_guard lock(mutex_);
        auto entry = owners_.find(owner);
        if (entry == owners_.end()) {
            return;
        }
        for (std::uint64_t id : entry->second) {
            auto w = watches_.find(id);
            if (w != watches_.end()) {
                try {
                    gone.push_back(remove_locked(*w->second));
                } catch (...) {}  // out of memory: the state dies here, under the lock; harmless
            }
        }
        owners_.erase(entry);
    }

    void shutdown() noexcept {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) {
                return;
            }
            stopped_ = true;
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
        if (thread_.joinable()) {
            if (thread_.get_id() == std::this_thread::get_id()) {
                thread_.detach();
            } else {
                thread_.join();
            }
        }
        // Close what is still watched (actors of systems that outlive main, say).
        std::unordered_map<std::uint64_t, std::shared_ptr<watch_state>> gone;
        std::lock_guard lock(mutex_);
        for (auto& [id, w] : watches_) {
            close_locked(*w);
        }
        gone.swap(watches_);
        owners_.clear();
    }

private:
    reactor() {
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (epoll_fd_ < 0 || wake_fd_ < 0) {
            throw error("troupe: the input reactor could not start: " + errno_text(errno));
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = 0;  // watch ids start at 1
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
            throw error("troupe: the input reactor could not start: " + errno_text(errno));
        }
    }

    /// Called with the lock held.
    void start_thread() {
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { loop(); });
        }
    }

    /// Closes the duplicate; its epoll registration goes with it (no other copy exists).
    void close_locked(watch_state& w) noexcept {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w.fd_, nullptr);
        ::close(w.fd_);
        w.fd_ = -1;
        w.ended_.store(true, std::memory_order_release);
    }

    /// Ends `w` and returns the reactor's reference to it, to be dropped after the lock.
    std::shared_ptr<watch_state> remove_locked(watch_state& w) noexcept {
        close_locked(w);
        std::shared_ptr<watch_state> out;
        auto it = watches_.find(w.id_);
        if (it != watches_.end()) {
            out = std::move(it->second);
            watches_.erase(it);
        }
        return out;
    }

    void loop() noexcept {
        constexpr int batch = 64;
        epoll_event events[batch];
        for (;;) {
            const int n = ::epoll_wait(epoll_fd_, events, batch, -1);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                try {
                    troupe::logger()->error("troupe: the input reactor stopped: epoll_wait: {}", errno_text(errno));
                } catch (...) {}
                return;
            }
            for (int i = 0; i < n; ++i) {
                const std::uint64_t id = events[i].data.u64;
                if (id == 0) {
                    std::uint64_t count = 0;
                    [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
                    std::lock_guard lock(mutex_);
                    if (stopped_) {
                        return;
                    }
                    continue;
                }
                notify(id);
            }
        }
    }

    void notify(std::uint64_t id) noexcept {
        std::shared_ptr<watch_state> w;
        {
            std::lock_guard lock(mutex_);
            auto it = watches_.find(id);
            if (it == watches_.end()) {
                return;  // ended after epoll reported it
            }
            w = it->second;
        }
        // Outside the lock: the send may schedule the actor, whose handler re-arms.
        const send_status s = w->notify();
        if (s == send_status::full) {
            log_refused_input(w->owner(), "a readiness notification (the watch ends)");
        }
        if (s != send_status::accepted) {
            cancel(*w);
        }
    }

    std::mutex mutex_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;  // an eventfd that wakes the thread to stop
    std::thread thread_;
    bool stopped_ = false;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, std::shared_ptr<watch_state>> watches_;
    std::unordered_map<const cell_base*, std::vector<std::uint64_t>> owners_;  // each actor's watch ids
};

void submit_blocking(std::unique_ptr<blocking_job> job) {
    blocking_pool::instance().submit(std::move(job));
}

void log_refused_input(const cell_base& target, const char* what) noexcept {
    try {
        troupe::logger()->warn("{}: its bounded mailbox is full: {} was dropped", target.name(), what);
    } catch (...) {}
}

void watch_state::cancel() noexcept {
    if (active()) {
        reactor::instance().cancel(*this);
    }
}

void watch_state::rearm() noexcept {
    if (active()) {
        reactor::instance().rearm(*this);
    }
}

void start_watch(const std::shared_ptr<watch_state>& w, int fd) {
    reactor::instance().add(w, fd);
}

}  // namespace troupe::detail
