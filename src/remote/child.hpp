#pragma once
/// \file
/// child: the parent's side of one child process actor: its process, its connection, and the
/// ladder that ends it (cancel, wait for it to exit, SIGTERM, wait, SIGKILL, reap).

#include <troupe/core/future.hpp>
#include <troupe/remote/actor_nursery.hpp>

#include "remote/process.hpp"

#include <asio/steady_timer.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace troupe::remote::detail {

class peer;
class process_runtime;

class child final : public std::enable_shared_from_this<child> {
public:
    /// Starts the process and its connection (see spawn_child).
    static std::shared_ptr<child> start(process_runtime& runtime, std::string name, const process_options& options,
                                        const actor_nursery_options& timeouts);

    child(process_runtime& runtime, std::string name, const actor_nursery_options& timeouts);

    const std::shared_ptr<peer>& connection() const noexcept { return peer_; }
    /// "donny#1@4121" once the handshake is done; "donny#1" before.
    std::string name() const;

    /// Ends the child (idempotent, from any thread); the future completes once it is reaped.
    future<void> stop();
    /// Completes once the process has been reaped, with how it ended.
    future<exit_status> reaped() const { return reaped_.get_future(); }
    /// True once stop() was called: its end is then expected.
    bool stop_requested() const;

private:
    void begin_stop();  // on the I/O thread
    void escalate();    // on the I/O thread: the cancel timed out
    void on_exit(const exit_status& status);

    process_runtime& runtime_;
    std::string expected_name_;  // "donny#1"
    actor_nursery_options timeouts_;
    std::shared_ptr<peer> peer_;
    std::shared_ptr<child_process> process_;
    asio::steady_timer timer_;

    mutable std::mutex lock_;
    bool stop_requested_ = false;
    bool terminated_ = false;
    bool exited_ = false;
    promise<void> stopped_;
    promise<exit_status> reaped_;
};

}  // namespace troupe::remote::detail
