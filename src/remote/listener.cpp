// listener: the acceptor and its accept loop live in a shared state that the pending accept
// holds, so that closing from any thread and the I/O thread's completions never race on a freed
// acceptor. asio's I/O objects are not safe for concurrent use: the state's lock serializes
// close() (any thread) with re-arming the accept (the I/O thread), as watch_port does for
// descriptor watches.

#include "listener.hpp"

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>

#include "endpoint.hpp"

#include <asio/basic_socket_acceptor.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

namespace troupe::remote::detail {

namespace {

/// After an accept fails for want of resources (descriptors, memory), wait this long.
constexpr std::chrono::milliseconds accept_backoff{100};

[[noreturn]] void cannot_listen(const address& where, const std::string& why) {
    throw error("cannot listen on " + where.to_string() + ": " + why);
}

/// Whether something accepts connections on the Unix socket file at `path`: a non-blocking
/// connect succeeds or is queued (EAGAIN: a full backlog is still a listener).
bool someone_listens(const std::string& path) {
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return false;
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    const int r = ::connect(probe, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
    const int e = errno;
    ::close(probe);
    return r == 0 || e == EAGAIN || e == EINPROGRESS;
}

/// Makes room for a Unix socket file at `where`: nothing there, or a stale socket (removed).
void clear_stale_socket(const address& where) {
    struct ::stat st {};
    if (::lstat(where.path().c_str(), &st) != 0) {
        return;  // nothing there (or bind will say why not)
    }
    if (!S_ISSOCK(st.st_mode)) {
        cannot_listen(where, "the path exists and is not a socket");
    }
    if (someone_listens(where.path())) {
        cannot_listen(where, "the address is in use (another process listens on it)");
    }
    if (::unlink(where.path().c_str()) != 0 && errno != ENOENT) {
        const int e = errno;
        cannot_listen(where,
                      std::string("a stale socket file is in the way and cannot be removed: ") + std::strerror(e));
    }
    try {
        troupe::logger()->info("troupe::remote: removed the stale socket file {}", where.path());
    } catch (...) {}
}

/// Whether `e` is an IPv4 or IPv6 loopback address (127.0.0.0/8, ::1, or ::ffff:127.x.y.z).
bool is_loopback(const endpoint& e) {
    if (e.protocol().family() == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(e.data());
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (e.protocol().family() == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(e.data());
        const auto& a = in6->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) {
            return true;
        }
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

std::string bind_failure(const std::error_code& ec) {
    if (ec == asio::error::address_in_use) {
        return "the address is in use";
    }
    return ec.message();
}

}  // namespace

struct listener::state : std::enable_shared_from_this<listener::state> {
    state(io_service& service, address where, accept_handler f)
        : io(service),
          acceptor(service.context()),
          retry(service.context()),
          on_accept(std::move(f)),
          local(std::move(where)) {}

    /// Starts one accept. With the lock held.
    void accept();
    /// The accept's completion, on the I/O thread.
    void accepted(const std::error_code& ec, connection::socket s);
    void close() noexcept;

    io_service& io;
    std::mutex mutex;
    std::condition_variable idle;  // notified when a callback returns
    bool in_callback = false;      // on_accept is running (on the I/O thread)
    asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor;
    asio::steady_timer retry;  // after an accept that failed for want of resources
    accept_handler on_accept;
    address local;
    bool closed = false;
    std::optional<std::pair<dev_t, ino_t>> file;  // the socket file this listener made
};

void listener::state::accept() {
    acceptor.async_accept([self = shared_from_this()](const std::error_code& ec, connection::socket s) {
        self->accepted(ec, std::move(s));
    });
}

void listener::state::accepted(const std::error_code& ec, connection::socket s) {
    if (ec == asio::error::operation_aborted) {
        return;
    }
    if (ec) {
        const bool starved = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                             ec == asio::error::no_memory || ec == std::errc::too_many_files_open_in_system;
        if (!starved) {
            std::lock_guard lock(mutex);  // the peer gave up before it was accepted (ECONNABORTED...)
            if (!closed) {
                accept();
            }
            return;
        }
        try {
            troupe::logger()->warn("troupe::remote: listener on {} cannot accept ({}); retrying in {} ms",
                                   local.to_string(), ec.message(), accept_backoff.count());
        } catch (...) {}
        std::lock_guard lock(mutex);
        if (!closed) {
            retry.expires_after(accept_backoff);
            retry.async_wait([self = shared_from_this()](const std::error_code& e) {
                std::lock_guard again(self->mutex);
                if (!e && !self->closed) {
                    self->accept();
                }
            });
        }
        return;
    }
    {
        std::lock_guard lock(mutex);
        if (closed) {
            return;
        }
        in_callback = true;  // close() from another thread waits for it
    }
    try {
        on_accept(std::move(s));
    } catch (const std::exception& x) {
        try {
            troupe::logger()->error("troupe::remote: listener on {}: the accept callback threw: {}", local.to_string(),
                                    x.what());
        } catch (...) {}
    } catch (...) {
        try {
            troupe::logger()->error("troupe::remote: listener on {}: the accept callback threw", local.to_string());
        } catch (...) {}
    }
    std::lock_guard lock(mutex);
    in_callback = false;
    idle.notify_all();
    if (!closed) {
        accept();
    }
}

void listener::state::close() noexcept {
    std::unique_lock lock(mutex);
    if (!io.on_io_thread()) {
        // After close() returns no callback runs, so its owner may go. (On the I/O thread none
        // can be running but the caller itself.)
        idle.wait(lock, [this] { return !in_callback; });
    }
    if (closed) {
        return;
    }
    closed = true;
    std::error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    if (file) {
        // Only our own file: a later listener may have replaced it.
        struct ::stat st {};
        if (::lstat(local.path().c_str(), &st) == 0 && st.st_dev == file->first && st.st_ino == file->second) {
            ::unlink(local.path().c_str());
        }
    }
}

listener listener::open(io_service& io, const address& where, accept_handler on_accept, const authentication& auth) {
    auto s = std::make_shared<state>(io, where, std::move(on_accept));
    const bool unix_socket = where.kind() == address::transport::unix_socket;
    if (unix_socket) {
        clear_stale_socket(where);
    }
    const endpoint at = resolve(where).front();
    if (!unix_socket && !is_loopback(at) && !auth.secret && !auth.insecure) {
        cannot_listen(where,
                      "TCP beyond loopback needs a shared secret (TROUPE_SECRET or TROUPE_SECRET_FILE), or an "
                      "explicit insecure opt-in (authentication::insecure)");
    }
    std::error_code ec;
    s->acceptor.open(at.protocol(), ec);
    if (ec) {
        cannot_listen(where, ec.message());
    }
    if (!unix_socket) {
        s->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    s->acceptor.bind(at, ec);
    if (ec) {
        cannot_listen(where, bind_failure(ec));
    }
    if (unix_socket) {
        // Only this user may connect: a Unix socket is not authenticated, its mode guards it.
        // Nobody can connect before listen() below, so setting the mode after bind leaves no gap.
        struct ::stat st {};
        if (::lstat(where.path().c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            s->file.emplace(st.st_dev, st.st_ino);
        }
        if (!s->file || ::chmod(where.path().c_str(), S_IRUSR | S_IWUSR) != 0) {
            const int e = errno;
            s->close();
            cannot_listen(where, std::string("cannot make the socket file private (mode 0600): ") +
                                     (s->file ? std::strerror(e) : "it is gone"));
        }
    }
    s->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        s->close();
        cannot_listen(where, ec.message());
    }
    if (!unix_socket) {
        if (auto real = address_of(s->acceptor.local_endpoint(ec)); real && !ec) {
            s->local = *real;
        }
    }
    {
        std::lock_guard lock(s->mutex);
        s->accept();
    }
    return listener(std::move(s));
}

listener& listener::operator=(listener&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}

listener::~listener() {
    close();
}

const address& listener::local_address() const {
    if (!state_) {
        throw error("troupe::remote: local_address() of a listener that is not open");
    }
    return state_->local;
}

void listener::close() noexcept {
    if (state_) {
        state_->close();
    }
}

}  // namespace troupe::remote::detail
