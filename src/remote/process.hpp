#pragma once
// The process service: starts a system's child processes (posix_spawn, on the I/O thread) and
// reaps them through pidfds watched by the I/O loop. No SIGCHLD handler and no waitpid(-1):
// those may belong to the user's code.

#include <troupe/core/service.hpp>

#include <asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe {
class system;
class io_service;
}  // namespace troupe

namespace troupe::remote::detail {

/// How a child process ended.
struct exit_status {
    int code = 0;    ///< its exit code, if it exited; -1 if someone else reaped it (status lost)
    int signal = 0;  ///< the signal that killed it, or 0

    /// True if it exited rather than being killed by a signal.
    bool exited() const noexcept { return signal == 0; }
    /// True if it exited with code 0.
    bool success() const noexcept { return exited() && code == 0; }
    /// "exited with code 3", "killed by SIGKILL".
    std::string describe() const;
};

/// What to start.
struct spawn_spec {
    std::string executable;         ///< the program's path, taken as is (no PATH search; "/proc/self/exe" works)
    std::vector<std::string> args;  ///< argv[1..]
    std::string argv0;              ///< argv[0], what ps shows (empty: the executable)
    std::vector<std::string> env;   ///< "K=V" entries set on top of this process's environment, later ones winning
    int inherit_fd = -1;            ///< if >= 0, this descriptor becomes fd 3 in the child
};

/// The I/O loop a child's on_exit functions run on; cleared when its process service is destroyed.
struct io_link {
    std::mutex mutex;                  ///< guards io
    troupe::io_service* io = nullptr;  ///< null once the service is gone
    std::string system_name;           ///< for logs
};

/// A child process; shared by whoever watches it. Thread-safe.
class child_process {
public:
    /// Its process id (which the system may reuse once it is reaped).
    pid_t pid() const noexcept { return pid_; }
    /// True once it has ended and been reaped.
    bool reaped() const noexcept;
    /// How it ended, once reaped.
    std::optional<exit_status> status() const;
    /// Calls f once, on the I/O thread, once the process has been reaped (posted at once if it
    /// already was); never once the system has shut down. What f throws is logged.
    void on_exit(std::function<void(const exit_status&)> f);
    /// Blocks until reaped or the timeout; true if reaped. Throws troupe::deadlock on the I/O
    /// thread, which is the one that reaps.
    bool wait_for(std::chrono::nanoseconds timeout);
    /// Sends SIGTERM, unless it has been reaped (never signals a reused pid).
    void terminate() noexcept;
    /// Sends SIGKILL, unless it has been reaped (never signals a reused pid).
    void kill() noexcept;

private:
    friend class process_service;

    child_process(pid_t pid, int pidfd, std::shared_ptr<io_link> link);
    void send(int sig) noexcept;
    /// True once collect() has succeeded.
    bool collected() const;
    /// Waits for the process with waitid (blocking or not) unless someone did; the status if
    /// this call collected it.
    std::optional<exit_status> collect(bool block);
    /// Records the status, wakes the waiters and runs (on the I/O thread) or posts the
    /// functions registered so far.
    void publish(const exit_status& s);
    /// Blocks until publish() has run.
    void wait_published();

    const pid_t pid_;
    // Valid until collected_ (closed by the service after that); used only under mutex_ and
    // while !collected_, so it never names another process, nor a reused descriptor.
    const int pidfd_;
    const std::shared_ptr<io_link> link_;
    mutable std::mutex mutex_;
    std::condition_variable published_;
    bool collected_ = false;  // waitid has succeeded: the pid is free for reuse
    std::optional<exit_status> status_;
    std::vector<std::function<void(const exit_status&)>> on_exit_;
};

/// Spawns and reaps a system's child processes; `sys.service<process_service>()`. A child is
/// started on the I/O thread, which lives until the system shuts down after this service, so a
/// child's PR_SET_PDEATHSIG (tied to the thread that started it) fires only when the parent
/// process dies.
class process_service final : public troupe::service {
public:
    /// Uses (and so is shut down before) the system's io_service.
    explicit process_service(troupe::system& sys);
    /// Shuts down, if the system has not.
    ~process_service() override;

    /// Starts a child; throws troupe::process_error ("cannot start /x/y: No such file or
    /// directory") if it cannot, leaving nothing behind. Blocks until the I/O thread has
    /// started it.
    std::shared_ptr<child_process> spawn(const spawn_spec& spec);
    /// Children not yet reaped.
    std::size_t running() const;

protected:
    /// SIGKILLs and reaps every child still running (no zombie), runs their on_exit functions,
    /// then refuses spawns.
    void shutdown() override;

private:
    /// On the I/O thread.
    std::shared_ptr<child_process> start(const spawn_spec& spec);
    /// On the I/O thread: waits for the child's pidfd to become readable, then reaps it.
    void watch(const std::shared_ptr<child_process>& c);
    /// The child was collected with status s: no longer running, logged, published.
    void finish(const std::shared_ptr<child_process>& c, const exit_status& s);
    /// Why a spawn is refused after shutdown.
    std::string shut_down() const;

    troupe::io_service& io_;
    std::shared_ptr<io_link> link_;
    mutable std::mutex mutex_;
    bool closed_ = false;
    std::unordered_map<pid_t, std::shared_ptr<child_process>> children_;  // not reaped yet
    // The pidfd watches, touched only on the I/O thread (or once it has stopped). A watch is
    // dropped, closing its pidfd, only after its child was collected.
    std::unordered_map<pid_t, asio::posix::stream_descriptor> watches_;
};

/// In a child: die (SIGKILL) when the parent process dies; if the parent is already gone
/// (getppid() != expected_parent), _exit(1) at once. Async-signal-safe; call it first in main.
void die_with_parent(pid_t expected_parent);

}  // namespace troupe::remote::detail
