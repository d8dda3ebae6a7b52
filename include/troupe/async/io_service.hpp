#pragma once
/// \file
/// io_service: a system's I/O event loop, an asio::io_context run by one thread of the system.
/// Sockets, descriptor watches (troupe::watch_readable), I/O timers and the transports of other
/// layers share it. Get it with `sys.service<troupe::io_service>()`; link troupe::async.

#include <troupe/core/service.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <string>
#include <thread>

namespace troupe {

class system;

/// The I/O loop of one system. Its thread starts when the service is made and is a runtime
/// thread: a tell from a completion handler that finds a `block` mailbox full is a dead letter,
/// never a wait. Handlers run on that thread, not on an actor: keep them short, never block in
/// them, and reach an actor's state by telling it a message. An exception from a handler is
/// logged and the loop goes on. The service is shut down after every actor of the system has
/// ended (and after the services made later, such as transports built on it): the loop stops,
/// its thread is joined, and handlers that have not run are destroyed with the service.
class io_service final : public service {
public:
    /// Starts the I/O thread of `sys`.
    explicit io_service(troupe::system& sys);
    /// Shuts down (if the system has not) and destroys what is left in the context.
    ~io_service() override;

    /// The context the I/O thread runs, for I/O objects (sockets, timers, descriptors) and
    /// asio::post. Do not run(), stop() or restart() it: its thread does. After shutdown its
    /// handlers no longer run.
    asio::io_context& context() noexcept { return context_; }
    /// True on the I/O thread (in a completion handler).
    bool on_io_thread() const noexcept { return std::this_thread::get_id() == thread_id_; }

protected:
    /// Stops the loop and joins the I/O thread.
    void shutdown() override;

private:
    void run() noexcept;

    std::string system_name_;  // for logs
    asio::io_context context_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;  // keeps run() going when idle
    std::thread thread_;
    std::thread::id thread_id_;
};

}  // namespace troupe
