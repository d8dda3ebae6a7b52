// Input tasks on the services of their actor's system: blocking calls go to its blocking pool
// (blocking_pool.cpp); descriptor watches wait on its io_service, kept in a watch_table, a
// service of its own that ends each actor's watches when the actor ends.

#include <troupe/async/input.hpp>

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "blocking_pool.hpp"

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace troupe::detail {

class watch_table;

/// A watch's descriptor on the io_service. asio's I/O objects are not safe for concurrent use:
/// the lock serializes the actor's thread (re-arming), any thread (cancelling) and the I/O
/// thread (retrying).
struct watch_port {
    explicit watch_port(watch_table& t) noexcept : table(t) {}

    watch_table& table;
    std::mutex mutex;
    std::optional<asio::posix::stream_descriptor> descriptor;  // open while the watch is listed
    std::optional<asio::steady_timer> retry;                   // made when a mailbox is first full
    std::chrono::milliseconds backoff{0};                      // touched on the I/O thread only
};

/// The watches of one system, by actor. Made after the io_service (it asks for it), so shut
/// down before it: by then every actor has ended, and this closes whatever is left.
class watch_table final : public troupe::service {
public:
    explicit watch_table(troupe::system& sys) : io_(sys.service<io_service>()), system_name_(sys.name()) {}

    void add(const std::shared_ptr<watch_state>& w, int fd);
    /// Ends `w`: its duplicate is closed when this returns.
    void remove(watch_state& w) noexcept;
    /// Ends every watch of an actor that has ended.
    void end_owner(const cell_base* owner) noexcept;
    /// Waits for readability again.
    void rearm(watch_state& w) noexcept;

protected:
    void shutdown() override;

private:
    static constexpr std::chrono::milliseconds longest_backoff{64};

    /// Starts one wait for readability. With the port's lock held.
    static void wait(const std::shared_ptr<watch_state>& w);
    /// The wait's completion, on the I/O thread: one notification to the actor.
    static void ready(const std::shared_ptr<watch_state>& w, const asio::error_code& ec) noexcept;
    /// The actor's bounded mailbox is full: waits again a little later. On the I/O thread.
    void retry_later(const std::shared_ptr<watch_state>& w);
    /// Closes the duplicate and marks the watch ended. Idempotent.
    static void close(watch_state& w) noexcept;

    io_service& io_;
    std::string system_name_;
    std::mutex mutex_;
    bool stopped_ = false;
    std::unordered_map<const cell_base*, std::vector<std::shared_ptr<watch_state>>> owners_;
};

namespace {

std::string cannot_watch(int fd, const std::string& why) {
    return "troupe::watch_readable: file descriptor " + std::to_string(fd) + " cannot be watched: " + why;
}

void log_watch_error(const cell_base& owner, const std::string& why) noexcept {
    try {
        troupe::logger()->error("{}: a watch on a file descriptor ended: {}", owner.name(), why);
    } catch (...) {}
}

}  // namespace

void watch_table::add(const std::shared_ptr<watch_state>& w, int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        const int e = errno;
        throw error(cannot_watch(fd, std::strerror(e)));
    }
    struct ::stat st {};
    if (::fstat(copy, &st) == 0 && S_ISREG(st.st_mode)) {
        ::close(copy);
        throw error(cannot_watch(fd, "it is a regular file, which is always readable: read it directly"));
    }
    auto port = std::unique_ptr<watch_port>();
    try {
        port = std::make_unique<watch_port>(*this);
        port->descriptor.emplace(io_.context(), copy);  // takes the duplicate if it succeeds
    } catch (const std::system_error& x) {
        ::close(copy);
        throw error(cannot_watch(fd, x.code().message()));
    } catch (...) {
        ::close(copy);
        throw;
    }
    w->port_ = std::move(port);
    bool first_of_owner = false;
    try {
        std::lock_guard lock(mutex_);
        if (stopped_) {
            throw error("troupe::watch_readable: system '" + system_name_ + "' is shut down");
        }
        auto [entry, inserted] = owners_.try_emplace(&w->owner());
        entry->second.push_back(w);
        first_of_owner = inserted;
    } catch (...) {
        close(*w);
        throw;
    }
    std::exception_ptr failed;
    {
        std::lock_guard lock(w->port_->mutex);
        try {
            wait(w);
        } catch (...) {  // out of memory: no wait, no watch
            failed = std::current_exception();
        }
    }
    if (failed) {
        remove(*w);
        std::rethrow_exception(failed);
    }
    if (first_of_owner) {
        // One continuation per actor (not per watch) ends all its watches when it ends: at once
        // if it already has. It runs as the actor's termination completes, so a thread waiting
        // for that termination may go on a moment before it has run; system::shutdown() waits
        // for it (the stop futures it waits on complete after it), so it never outlives this.
        try {
            w->owner().termination().then_state(
                [this, owner = counted_ptr<cell_base>(&w->owner())](auto&) { end_owner(owner.get()); });
        } catch (...) {
            end_owner(&w->owner());
            throw;
        }
    }
}

void watch_table::remove(watch_state& w) noexcept {
    std::shared_ptr<watch_state> listed;  // dropped after the lock
    {
        std::lock_guard lock(mutex_);
        auto entry = owners_.find(&w.owner());
        if (entry != owners_.end()) {
            auto& list = entry->second;
            auto it = std::find_if(list.begin(), list.end(), [&](const auto& x) { return x.get() == &w; });
            if (it != list.end()) {
                listed = std::move(*it);
                list.erase(it);
            }
            // The entry stays, empty: the actor's continuation is registered already.
        }
    }
    close(w);
}

void watch_table::end_owner(const cell_base* owner) noexcept {
    std::vector<std::shared_ptr<watch_state>> gone;
    {
        std::lock_guard lock(mutex_);
        auto entry = owners_.find(owner);
        if (entry == owners_.end()) {
            return;
        }
        gone.swap(entry->second);
        owners_.erase(entry);
    }
    for (auto& w : gone) {
        close(*w);
    }
}

void watch_table::rearm(watch_state& w) noexcept {
    bool armed = true;
    {
        std::lock_guard lock(w.port_->mutex);
        try {
            wait(w.shared_from_this());
        } catch (...) {
            armed = false;  // out of memory
        }
    }
    if (!armed) {
        log_watch_error(w.owner(), "it could not wait again (out of memory)");
        remove(w);
    }
}

void watch_table::shutdown() {
    std::unordered_map<const cell_base*, std::vector<std::shared_ptr<watch_state>>> left;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        left.swap(owners_);
    }
    for (auto& [owner, watches] : left) {
        for (auto& w : watches) {
            close(*w);
        }
    }
}

void watch_table::wait(const std::shared_ptr<watch_state>& w) {
    watch_port& port = *w->port_;
    if (!port.descriptor) {
        return;  // ended meanwhile
    }
    // asio re-arms the descriptor in its epoll set for each wait, so a descriptor already
    // readable completes the wait at once: the watch is level-triggered.
    port.descriptor->async_wait(asio::posix::descriptor_base::wait_read,
                                [w](const asio::error_code& ec) { ready(w, ec); });
}

void watch_table::ready(const std::shared_ptr<watch_state>& w, const asio::error_code& ec) noexcept {
    if (ec == asio::error::operation_aborted || !w->active()) {
        return;  // ended
    }
    watch_table& table = w->port_->table;
    if (ec) {
        log_watch_error(w->owner(), ec.message());
        table.remove(*w);
        return;
    }
    switch (w->notify()) {
        case send_status::accepted:
            w->port_->backoff = std::chrono::milliseconds(0);
            return;  // the handler re-arms the watch once it has run
        case send_status::dead:
            table.remove(*w);  // the actor is stopping: dropped quietly
            return;
        case send_status::full:
            try {
                table.retry_later(w);
            } catch (...) {
                log_watch_error(w->owner(), "it could not wait for room in the mailbox (out of memory)");
                table.remove(*w);
            }
            return;
    }
}

void watch_table::retry_later(const std::shared_ptr<watch_state>& w) {
    watch_port& port = *w->port_;
    if (port.backoff.count() == 0) {
        log_refused_input(w->owner(), "a readiness notification waits for room (tried again every few ms)");
    }
    // Never a wait on the I/O thread: a timer, doubling up to longest_backoff while it stays full.
    port.backoff = std::clamp(port.backoff * 2, std::chrono::milliseconds(1), longest_backoff);
    std::lock_guard lock(port.mutex);
    if (!port.descriptor) {
        return;
    }
    if (!port.retry) {
        port.retry.emplace(io_.context());
    }
    port.retry->expires_after(port.backoff);
    port.retry->async_wait([w](const asio::error_code& ec) {
        if (ec || !w->active()) {
            return;
        }
        bool waiting = true;
        {
            std::lock_guard again(w->port_->mutex);
            try {
                wait(w);  // readable still? then the notification is tried again at once
            } catch (...) {
                waiting = false;  // out of memory
            }
        }
        if (!waiting) {
            log_watch_error(w->owner(), "it could not wait again (out of memory)");
            w->port_->table.remove(*w);
        }
    });
}

void watch_table::close(watch_state& w) noexcept {
    watch_port& port = *w.port_;
    std::lock_guard lock(port.mutex);
    if (port.descriptor) {
        asio::error_code ignored;
        port.retry.reset();  // its pending wait ends with operation_aborted
        // Deregisters the duplicate from the epoll set and closes it; the pending wait ends
        // with operation_aborted. The user's descriptor is not touched.
        port.descriptor->close(ignored);
        port.descriptor.reset();
    }
    w.ended_.store(true, std::memory_order_release);
}

// ---- entry points ----------------------------------------------------------------------------

watch_state::watch_state(counted_ptr<cell_base> owner) noexcept : owner_(std::move(owner)) {}

watch_state::~watch_state() = default;

void watch_state::cancel() noexcept {
    if (active() && port_) {
        port_->table.remove(*this);
    }
}

void watch_state::rearm() noexcept {
    if (active() && port_) {
        port_->table.rearm(*this);
    }
}

void start_watch(const std::shared_ptr<watch_state>& w, int fd) {
    w->owner().system().service<watch_table>().add(w, fd);
}

void submit_blocking(troupe::system& sys, std::unique_ptr<blocking_job> job) {
    sys.service<blocking_pool>().submit(std::move(job));
}

troupe::system& blocking_system() {
    if (cell_base* c = running_cell()) {
        return c->system();
    }
    if (troupe::system* s = blocking_pool::current()) {
        return *s;
    }
    throw error(
        "troupe::run_blocking(fn) was called outside an actor, where there is no system to run it: "
        "call troupe::run_blocking(sys, fn)");
}

void log_refused_input(const cell_base& target, const char* what) noexcept {
    try {
        troupe::logger()->warn("{}: its bounded mailbox is full: {}", target.name(), what);
    } catch (...) {}
}

}  // namespace troupe::detail
