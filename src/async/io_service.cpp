// The I/O service: one thread per system running its io_context.

#include <troupe/async/io_service.hpp>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include <exception>

namespace troupe {

// One thread runs the context: tell asio so (it may then skip some locking in the scheduler).
io_service::io_service(troupe::system& sys)
    : system_name_(sys.name()), context_(1), work_(asio::make_work_guard(context_)), thread_([this] { run(); }) {
    thread_id_ = thread_.get_id();
}

io_service::~io_service() {
    shutdown();
    if (thread_.joinable()) {
        // Shut down from a handler: that thread has returned from run() by now, unless it is
        // the one destroying the system (then it cannot wait for itself).
        if (on_io_thread()) {
            thread_.detach();
        } else {
            thread_.join();
        }
    }
}

void io_service::shutdown() {
    work_.reset();
    context_.stop();
    if (thread_.joinable() && !on_io_thread()) {
        thread_.join();
    }
}

void io_service::run() noexcept {
    // Completion handlers tell actors; one busy actor must not hold up every other socket.
    detail::runtime_thread_scope runtime;
    for (;;) {
        try {
            context_.run();
            return;  // stopped: the system is shutting down
        } catch (const std::exception& x) {
            try {
                troupe::logger()->error("system '{}': an I/O handler threw: {}", system_name_, x.what());
            } catch (...) {}
        } catch (...) {
            try {
                troupe::logger()->error("system '{}': an I/O handler threw an unknown exception", system_name_);
            } catch (...) {}
        }
    }
}

}  // namespace troupe
