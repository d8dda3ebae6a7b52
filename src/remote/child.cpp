#include "remote/child.hpp"

#include <troupe/async/cancel_scope.hpp>
#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>
#include <troupe/remote/errors.hpp>

#include "remote/connection.hpp"
#include "remote/identity.hpp"
#include "remote/peer.hpp"
#include "remote/runtime.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/post.hpp>

#include <cerrno>
#include <cstring>
#include <utility>

namespace troupe::remote::detail {

namespace {
std::string describe_ms(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}
}  // namespace

child::child(process_runtime& runtime, std::string name, const actor_nursery_options& timeouts)
    : runtime_(runtime), expected_name_(std::move(name)), timeouts_(timeouts), timer_(runtime.io().context()) {}

std::shared_ptr<child> child::start(process_runtime& runtime, std::string name, const process_options& options,
                                    const actor_nursery_options& timeouts) {
    if (name.empty()) {
        throw error("actor_nursery: a process actor needs a name");
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw process_error("cannot start " + name + ": socketpair: " + std::strerror(errno));
    }
    const std::uint64_t number = runtime.next_child_number();
    auto c = std::make_shared<child>(runtime, name + "#" + std::to_string(number), timeouts);

    spawn_spec spec;
    spec.executable = "/proc/self/exe";  // this very program, even if its file was replaced since
    const std::string level = options.log_level.empty()
                                  ? std::string(spdlog::level::to_string_view(logger()->level()).data(),
                                                spdlog::level::to_string_view(logger()->level()).size())
                                  : options.log_level;
    spec.args = {"--troupe-child", name, std::to_string(number), std::to_string(::getpid()), level};
    spec.inherit_fd = fds[1];
    try {
        c->process_ = runtime.processes().spawn(spec);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);

    c->peer_ = std::make_shared<peer>(runtime, /*connected=*/false, /*from_parent=*/false);
    c->peer_->set_expected_name(c->expected_name_ + "@" + std::to_string(c->process_->pid()));
    connection_options copts;
    copts.hello = runtime.hello();
    auto conn = connection::adopt_fd(runtime.io(), fds[0], std::move(copts), c->peer_);
    c->peer_->attach(conn);
    conn->start();

    wire::msg::spawn spawn;
    spawn.name = name;
    spawn.enable = options.enable;
    spawn.state.insert(options.state.entries().begin(), options.state.entries().end());
    spawn.log_level = options.log_level;
    spawn.registrar = runtime.registrar_address().to_string();
    c->peer_->send(0, spawn);

    c->process_->on_exit([weak = std::weak_ptr<child>(c)](const exit_status& status) {
        if (auto self = weak.lock()) {
            self->on_exit(status);
        }
    });
    return c;
}

std::string child::name() const {
    std::string n = peer_ ? peer_->name() : std::string();
    return n.empty() ? expected_name_ : n;
}

bool child::stop_requested() const {
    const std::lock_guard guard(lock_);
    return stop_requested_;
}

future<void> child::stop() {
    bool first = false;
    {
        const std::lock_guard guard(lock_);
        first = !stop_requested_;
        stop_requested_ = true;
    }
    if (first) {
        asio::post(runtime_.io().context(), [self = shared_from_this()] { self->begin_stop(); });
    }
    return stopped_.get_future();
}

void child::begin_stop() {
    if (exited_) {
        return;
    }
    (void)peer_->cancel_actor();
    timer_.expires_after(timeouts_.cancel_timeout);
    timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
        auto self = weak.lock();
        if (!ec && self) {
            self->escalate();
        }
    });
}

void child::escalate() {
    if (exited_) {
        return;
    }
    if (!terminated_) {
        terminated_ = true;
        logger()->warn("troupe: {} did not end within {} of its cancel: sending SIGTERM", name(),
                       describe_ms(timeouts_.cancel_timeout));
        process_->terminate();
        timer_.expires_after(timeouts_.terminate_timeout);
        timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
            auto self = weak.lock();
            if (!ec && self) {
                self->escalate();
            }
        });
        return;
    }
    logger()->warn("troupe: {} did not end within {} of SIGTERM: sending SIGKILL", name(),
                   describe_ms(timeouts_.terminate_timeout));
    process_->kill();
}

void child::on_exit(const exit_status& status) {
    exited_ = true;
    timer_.cancel();
    peer_->close("the process has exited");
    reaped_.set_value(status);
    stopped_.set_value();
}

// --- the entry points of actor_nursery.hpp ---------------------------------------------------

std::shared_ptr<child> spawn_child(troupe::system& sys, std::string name, const process_options& options,
                                   const actor_nursery_options& timeouts) {
    return child::start(sys.service<process_runtime>(), std::move(name), options, timeouts);
}

std::shared_ptr<peer> peer_of(const child& c) {
    return c.connection();
}

namespace {
task<void> wait_until(future<void> f) {
    co_await f;
}
}  // namespace

task<void> tear_down(std::shared_ptr<child> c) {
    future<void> gone = c->stop();
    // Shielded from the nursery's cancellation: the block must not end before the child has.
    troupe::detail::cancel_scope shield(nullptr);
    try {
        co_await troupe::detail::in_scope<void>(wait_until(std::move(gone)), shield);
    } catch (const troupe::cancelled&) {
        // The actor itself is ending (its system shutting down): the ladder goes on without
        // us, and the process service kills and reaps whatever is left when it shuts down.
    }
}

task<void> watch_daemon(std::shared_ptr<child> c) {
    std::exception_ptr failure;
    try {
        const exit_status status = co_await c->reaped();
        if (!c->stop_requested()) {
            failure = std::make_exception_ptr(process_error(c->name() + " ended on its own: " + status.describe()));
        }
    } catch (const troupe::cancelled&) {
        // The nursery is being cancelled.
    }
    co_await tear_down(std::move(c));
    if (failure) {
        std::rethrow_exception(failure);
    }
}

void cancel_children(const std::vector<std::shared_ptr<child>>& children) noexcept {
    for (const auto& c : children) {
        try {
            (void)c->stop();
        } catch (...) {
            // stop() only allocates; nothing to do if it cannot
        }
    }
}

}  // namespace troupe::remote::detail
