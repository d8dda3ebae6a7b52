// connection: the send path (any thread) appends to `pending_` under a short lock. When nothing
// is in flight, the sender writes it itself if the peer has been heard from since the last such
// write (write_now), else posts one flush; the I/O thread swaps `pending_` with `writing_` and
// writes it in one go, and on completion takes whatever piled up meanwhile. Reads go into the
// session's buffer; its events go to the handler.

#include "connection.hpp"

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/wire/errors.hpp>

#include "endpoint.hpp"

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

namespace troupe::remote::detail {

namespace {

/// What one read asks for: many small frames per system call under load.
constexpr std::size_t read_size = 64 * 1024;
/// A write buffer that grew past this (a burst, a large frame) is freed after its write.
constexpr std::size_t kept_capacity = std::size_t{4} << 20;

bool is_tcp(const connection::socket& s) {
    std::error_code ec;
    const auto local = s.local_endpoint(ec);
    return !ec && (local.protocol().family() == AF_INET || local.protocol().family() == AF_INET6);
}

/// The options as this connection uses them: the hello says the real max_frame, and whether
/// this side demands proof of the secret.
connection_options prepared(connection_options o, const connection::socket& s) {
    o.max_frame = std::min(o.max_frame, wire::max_frame_limit);
    o.hello.max_frame = static_cast<std::uint32_t>(o.max_frame);
    o.hello.auth = o.demand == proof_demand::always || (o.secret.has_value() && is_tcp(s));
    return o;
}

/// The peer's address as a refusal names it: "tcp:10.1.0.2:41234", else "descriptor 7".
std::string address_label(connection::socket& s) {
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (!ec) {
        if (const auto a = address_of(remote)) {
            return a->to_string();
        }
    }
    return "descriptor " + std::to_string(s.native_handle());
}

/// Appends every frame `from` holds to `to`, in order.
void append_frames(const wire::frame_writer& from, wire::frame_writer& to) {
    auto rest = from.pending();
    while (rest.size() >= wire::frame_header_size) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < wire::frame_header_size; ++i) {
            n = (n << 8) | std::to_integer<std::size_t>(rest[i]);
        }
        to.write(rest.subspan(wire::frame_header_size, n));
        rest = rest.subspan(wire::frame_header_size + n);
    }
}

/// The peer as logs name it before its hello: its address, else the descriptor.
std::string label_of(connection::socket& s) {
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (!ec) {
        if (const auto a = address_of(remote)) {
            return "connection to " + a->to_string();
        }
    }
    return "connection on descriptor " + std::to_string(s.native_handle());
}

/// The peer as its hello names it: "connection to donny#2@4121".
std::string label_of(const wire::msg::hello& h) {
    std::string out = "connection to " + (h.name.empty() ? std::string("an unnamed process") : h.name);
    if (!h.id.empty()) {
        out.append("#").append(h.id);
    }
    if (h.pid != 0) {
        out.append("@").append(std::to_string(h.pid));
    }
    return out;
}

bool closed_by_peer(const std::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

void log_line(spdlog::level::level_enum level, const std::string& who, const std::string& what) noexcept {
    try {
        troupe::logger()->log(level, "{} closed: {}", who, what);
    } catch (...) {}
}

void log_text(spdlog::level::level_enum level, const std::string& line) noexcept {
    try {
        troupe::logger()->log(level, "{}", line);
    } catch (...) {}
}

std::string what_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(std::move(e));
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

}  // namespace

std::shared_ptr<connection> connection::make(io_service& io, socket s, connection_options options,
                                             std::weak_ptr<connection_handler> handler) {
    return std::make_shared<connection>(private_tag{}, io, std::move(s), std::move(options), std::move(handler));
}

std::shared_ptr<connection> connection::adopt_fd(io_service& io, int fd, connection_options options,
                                                 std::weak_ptr<connection_handler> handler) {
    const auto refuse = [fd](const std::string& why) {
        ::close(fd);
        throw error("descriptor " + std::to_string(fd) + " cannot carry a connection: " + why);
    };
    int domain = 0;
    int type = 0;
    socklen_t length = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0) {
        refuse(std::strerror(errno));
    }
    length = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
        refuse("it is not a stream socket");
    }
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof(peer);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) {
        refuse(std::string("it is not connected: ") + std::strerror(errno));
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // this process's own children must not inherit it
    socket s(io.context());
    std::error_code ec;
    s.assign(asio::generic::stream_protocol(domain, SOCK_STREAM), fd, ec);
    if (ec) {
        refuse(ec.message());
    }
    return make(io, std::move(s), std::move(options), std::move(handler));
}

connection::connection(private_tag, io_service& io, socket s, connection_options options,
                       std::weak_ptr<connection_handler> handler)
    : context_(io.context()),
      socket_(std::move(s)),
      timer_(context_),
      options_(prepared(std::move(options), socket_)),
      handler_(std::move(handler)),
      session_(options_.hello, options_.max_frame),
      writing_(wire::max_frame_limit),
      proof_(options_.secret ? std::make_unique<proof>(*options_.secret) : nullptr),
      peer_address_(address_label(socket_)),
      fd_(socket_.native_handle()),
      pending_(wire::max_frame_limit),
      held_(wire::max_frame_limit),
      send_limit_(options_.max_frame),
      label_(label_of(socket_)) {
    if (&asio::query(socket_.get_executor(), asio::execution::context_as<asio::execution_context&>) != &context_) {
        throw error("troupe::remote: a connection's socket must belong to the system's io_service");
    }
    std::error_code ec;
    const auto local = socket_.local_endpoint(ec);
    if (ec) {
        throw error("troupe::remote: a connection needs an open, connected socket: " + ec.message());
    }
    if (local.protocol().family() == AF_INET || local.protocol().family() == AF_INET6) {
        // Coalescing is done here: Nagle's algorithm would only add latency.
        socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    }
    wire::write_message(pending_, 0, options_.hello);
    frames_sent_ = 1;
    // Whenever the peer may have to prove the secret (we demand it, or it may), what is sent
    // before the connection opens waits: a demanding peer reads nothing but the proof first.
    holding_ = proof_ != nullptr || options_.hello.auth;
    if (options_.hello.auth && proof_) {
        // Our challenge goes with our hello; the peer's hello says whether it demands one too.
        wire::write_message(pending_, 0, wire::msg::auth_challenge{proof_->nonce()});
        ++frames_sent_;
        challenged_ = true;
    }
}

connection::~connection() = default;

void connection::start() {
    asio::post(context_, [self = shared_from_this()] { self->begin(); });
}

bool connection::send_payload(std::span<const std::byte> payload) {
    return send_with([&](std::vector<std::byte>& out) { out.insert(out.end(), payload.begin(), payload.end()); });
}

void connection::too_large(std::size_t size, std::size_t limit) {
    throw wire::frame_error("a frame of " + std::to_string(size) + " bytes is larger than the peer's maximum of " +
                            std::to_string(limit));
}

void connection::post_flush() {
    asio::post(context_, [self = shared_from_this()] { self->flush(); });
}

void connection::write_now(std::unique_lock<std::mutex>& lock) {
    // The request or the reply of an exchange leaves from the thread that made it, without a
    // hop to the I/O thread (a wake-up and a context switch, which on a busy machine is most of
    // a round trip). Only when the peer has been heard from since this side last wrote so: a
    // burst of sends with nothing heard in between goes through the I/O thread, which gathers
    // it into few writes, and the sending thread makes no system call per message.
    //
    // Writing to the descriptor from here is safe because nothing else writes while no flush
    // is in flight (flushing_ is false, under the lock), and the descriptor is closed only
    // after the phase has left `running` under this lock (end, finish_close, linger_read).
    if (heard_.load(std::memory_order_relaxed)) {
        heard_.store(false, std::memory_order_relaxed);
        const std::span<const std::byte> out = pending_.pending();
        const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            writes_.fetch_add(1, std::memory_order_relaxed);
            bytes_written_.fetch_add(static_cast<std::size_t>(n), std::memory_order_relaxed);
            if (static_cast<std::size_t>(n) == out.size()) {
                pending_.clear();
                queued_.store(0, std::memory_order_relaxed);
                return;
            }
            written_ahead_ = static_cast<std::size_t>(n);  // the flush writes the rest
        }
        // Nothing written (the socket is full, or broken): the flush's write waits for room, or
        // meets the error and reports it.
    }
    flushing_ = true;
    lock.unlock();
    post_flush();
}

void connection::close(std::string reason) {
    std::unique_lock lock(mutex_);
    if (phase_.load(std::memory_order_relaxed) != phase::running) {
        return;
    }
    phase_.store(phase::closing, std::memory_order_relaxed);
    reason_ = std::move(reason);
    const bool idle = !flushing_;
    flushing_ = true;
    lock.unlock();
    asio::post(context_, [self = shared_from_this()] { self->arm_close_deadline(); });
    if (idle) {
        post_flush();  // else the flush in flight (or start()) finds the phase when the queue is empty
    }
}

void connection::abort(std::string reason) {
    {
        std::lock_guard lock(mutex_);
        const phase p = phase_.load(std::memory_order_relaxed);
        if (p == phase::aborting || p == phase::ended) {
            return;
        }
        phase_.store(phase::aborting, std::memory_order_relaxed);
        pending_.clear();
        written_ahead_ = 0;
        queued_.store(held_.pending().size(), std::memory_order_relaxed);
    }
    drained_.notify_all();
    asio::post(context_,
               [self = shared_from_this(), reason = std::move(reason)] { self->end(reason, spdlog::level::info); });
}

bool connection::wait_queued_below(std::size_t limit) {
    if (context_.get_executor().running_in_this_thread()) {
        return phase_.load(std::memory_order_acquire) == phase::running;  // the writer itself: never wait
    }
    std::unique_lock lock(mutex_);
    ++drain_waiters_;
    drained_.wait(lock, [&] {
        const phase p = phase_.load(std::memory_order_relaxed);
        return (p != phase::running && p != phase::closing) ||
               pending_.pending().size() + held_.pending().size() <= limit;
    });
    --drain_waiters_;
    return phase_.load(std::memory_order_relaxed) == phase::running;
}

std::string connection::describe() const {
    std::lock_guard lock(mutex_);
    return label_;
}

connection_stats connection::stats() const {
    connection_stats s;
    s.writes = writes_.load(std::memory_order_relaxed);
    s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
    s.frames_received = frames_received_.load(std::memory_order_relaxed);
    s.ignored = ignored_.load(std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    s.frames_sent = frames_sent_;
    s.bytes_pending = pending_.pending().size() + held_.pending().size() + in_flight_;
    return s;
}

// The I/O thread from here on.

void connection::begin() {
    if (started_) {
        return;
    }
    started_ = true;
    const phase p = phase_.load(std::memory_order_relaxed);
    if (p == phase::aborting || p == phase::ended) {
        return;  // abort() came first: its end() is posted
    }
    if (p == phase::closing) {
        arm_close_deadline();
    } else {
        timer_.expires_after(options_.handshake_timeout);
        timer_.async_wait([self = shared_from_this()](const std::error_code& ec) { self->on_handshake_timeout(ec); });
    }
    read();
    flush();
}

void connection::arm_close_deadline() {
    if (!started_ || phase_.load(std::memory_order_relaxed) != phase::closing) {
        return;  // begin() arms it, or the close is done
    }
    timer_.expires_after(options_.linger);  // replaces the handshake's timeout: the close decides now
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) { self->on_close_deadline(ec); });
}

void connection::on_close_deadline(const std::error_code& ec) {
    if (ec || phase_.load(std::memory_order_relaxed) != phase::closing) {
        return;
    }
    const std::size_t left = stats().bytes_pending;
    end("the peer did not take the last " + std::to_string(left) + " bytes within " +
            std::to_string(options_.linger.count()) + " ms of the close",
        spdlog::level::warn);
}

void connection::on_handshake_timeout(const std::error_code& ec) {
    if (ec || session_.is_open() || phase_.load(std::memory_order_relaxed) == phase::ended) {
        return;  // cancelled, or the hello (and the proof) came first
    }
    const std::string limit = std::to_string(options_.handshake_timeout.count()) + " ms";
    if (authenticating_) {
        refuse("it did not prove the shared secret (no answer within " + limit + ")");
        return;
    }
    end("no hello from the peer within " + limit, spdlog::level::warn);
}

void connection::read() {
    const auto room = session_.prepare(read_size);
    socket_.async_read_some(
        asio::buffer(room.data(), room.size()),
        [self = shared_from_this()](const std::error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void connection::on_read(const std::error_code& ec, std::size_t n) {
    if (phase_.load(std::memory_order_acquire) == phase::ended) {
        if (lingering_) {
            linger_read(ec);
        }
        return;
    }
    if (ec) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (closed_by_peer(ec)) {
            lost("closed by the peer", spdlog::level::info);
        } else {
            lost("cannot read: " + ec.message(), spdlog::level::warn);
        }
        return;
    }
    session_.commit(n);
    heard_.store(true, std::memory_order_relaxed);
    if (dispatch()) {
        read();
    }
}

bool connection::dispatch() {
    const auto handler = handler_.lock();
    if (!handler) {
        end("its handler is gone", spdlog::level::debug);
        return false;
    }
    const auto going = [this] {
        const phase p = phase_.load(std::memory_order_acquire);
        return p == phase::running || p == phase::closing;
    };
    try {
        while (going()) {
            auto event = session_.next();
            frames_received_.store(session_.frames(), std::memory_order_relaxed);
            ignored_.store(session_.ignored(), std::memory_order_relaxed);
            if (!event) {
                return true;
            }
            if (auto* m = std::get_if<wire::message>(&*event)) {
                if (authenticating_) {
                    on_authentication(*handler, *m);  // the session passes nothing else meanwhile
                } else {
                    handler->on_message(*this, std::move(*m));
                }
            } else if (std::holds_alternative<detail::handshake_done>(*event)) {
                on_handshake(*handler);
            } else if (authenticating_) {
                refuse("it did not prove the shared secret (" + std::get<session_closed>(*event).reason + ")");
                return false;
            } else {
                end(std::get<session_closed>(*event).reason, spdlog::level::warn);
                return false;
            }
        }
    } catch (...) {
        end("its handler threw: " + what_of(std::current_exception()), spdlog::level::err);
    }
    return false;
}

template <class M>
void connection::send_ahead(const M& m) {
    std::unique_lock lock(mutex_);
    if (phase_.load(std::memory_order_relaxed) != phase::running) {
        return;
    }
    wire::write_message(pending_, 0, m);
    ++frames_sent_;
    if (flushing_) {
        return;
    }
    flushing_ = true;
    lock.unlock();
    post_flush();
}

void connection::on_handshake(connection_handler& handler) {
    {
        std::lock_guard lock(mutex_);
        send_limit_ = std::min<std::size_t>(session_.peer().max_frame, wire::max_frame_limit);
        label_ = label_of(session_.peer());
    }
    version_.store(session_.version(), std::memory_order_release);
    if (session_.authenticating()) {
        authenticate();  // the handshake's timer runs on: it bounds the proof too
        return;
    }
    timer_.cancel();
    opened(handler);
}

void connection::authenticate() {
    authenticating_ = true;
    if (!proof_) {
        refuse(options_.hello.auth ? "this side demands the shared secret, and none is configured here"
                                   : "it demands the shared secret, and none is configured here");
        return;
    }
    if (session_.peer().id == options_.hello.id) {
        // Answers are bound to the two ids in order; a peer with our own id could reflect them.
        refuse("it did not prove the shared secret (it claims this process's own id)");
        return;
    }
    if (!challenged_) {
        send_ahead(wire::msg::auth_challenge{proof_->nonce()});
        challenged_ = true;
    }
}

void connection::on_authentication(connection_handler& handler, const wire::message& m) {
    if (const auto* challenge = std::get_if<wire::msg::auth_challenge>(&m.body)) {
        if (const auto why = proof_->refusal(challenge->nonce)) {
            refuse("it did not prove the shared secret (" + *why + ")");
            return;
        }
        peer_nonce_ = challenge->nonce;
        send_ahead(wire::msg::auth_response{proof_->answer(options_.hello.id, session_.peer().id, peer_nonce_)});
        return;
    }
    const auto& response = std::get<wire::msg::auth_response>(m.body);
    if (!proof_->check(options_.hello.id, session_.peer().id, peer_nonce_, response.mac)) {
        refuse("it did not prove the shared secret (a wrong answer to the challenge)");
        return;
    }
    authenticating_ = false;
    session_.authenticated();
    timer_.cancel();
    opened(handler);
}

void connection::refuse(const std::string& why) {
    const std::string line =
        std::string("troupe: connection ") + (options_.accepted ? "from " : "to ") + peer_address_ + " refused: " + why;
    end("refused: " + why, spdlog::level::warn, true, line);
}

void connection::lost(const std::string& reason, spdlog::level::level_enum level) {
    if (authenticating_ && phase_.load(std::memory_order_relaxed) == phase::running) {
        refuse("it did not prove the shared secret (" + reason + ")");
    } else {
        end(reason, level);
    }
}

void connection::opened(connection_handler& handler) {
    release_held();
    open_.store(true, std::memory_order_release);
    handler.on_open(*this);
}

void connection::release_held() {
    std::unique_lock lock(mutex_);
    if (!holding_) {
        return;
    }
    holding_ = false;
    if (pending_.empty()) {
        std::swap(pending_, held_);
    } else {
        append_frames(held_, pending_);
    }
    held_.clear();
    if (pending_.empty() || flushing_ || phase_.load(std::memory_order_relaxed) != phase::running) {
        return;  // nothing to send, or the flush in flight (or the close) takes it
    }
    flushing_ = true;
    lock.unlock();
    post_flush();
}

void connection::flush() {
    std::unique_lock lock(mutex_);
    in_flight_ = 0;
    const phase p = phase_.load(std::memory_order_relaxed);
    if (p == phase::aborting || p == phase::ended) {
        return;  // flushing_ stays set: nothing is posted again
    }
    if (pending_.empty()) {
        flushing_ = false;
        lock.unlock();
        if (p == phase::closing) {
            finish_close();
        }
        return;
    }
    std::swap(pending_, writing_);
    const std::size_t skip = std::exchange(written_ahead_, 0);
    in_flight_ = writing_.pending().size() - skip;
    queued_.store(held_.pending().size(), std::memory_order_relaxed);
    const bool wake = drain_waiters_ != 0;
    lock.unlock();
    if (wake) {
        drained_.notify_all();
    }
    writes_.fetch_add(1, std::memory_order_relaxed);
    asio::async_write(
        socket_, asio::buffer(writing_.pending().data() + skip, writing_.pending().size() - skip),
        [self = shared_from_this()](const std::error_code& ec, std::size_t n) { self->on_written(ec, n); });
}

void connection::on_written(const std::error_code& ec, std::size_t n) {
    bytes_written_.fetch_add(n, std::memory_order_relaxed);
    if (ec) {
        if (ec != asio::error::operation_aborted) {
            if (closed_by_peer(ec)) {
                lost("closed by the peer", spdlog::level::info);
            } else {
                lost("cannot write: " + ec.message(), spdlog::level::warn);
            }
        }
        return;
    }
    if (writing_.pending().size() > kept_capacity) {
        writing_ = wire::frame_writer(wire::max_frame_limit);
    } else {
        writing_.clear();
    }
    flush();
}

void connection::finish_close() {
    std::string reason;
    {
        std::lock_guard lock(mutex_);
        reason = reason_;
    }
    std::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
    end(reason, spdlog::level::debug, false);
    // The peer reads everything, then sees the end of the stream and closes its side; closing
    // ours before that could reset the connection under data it has not read yet (TCP). The
    // read in flight goes on, discarding, until then (or until the linger runs out).
    lingering_ = true;
    timer_.expires_after(options_.linger);
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (!ec) {
            self->linger_read(asio::error::timed_out);
        }
    });
}

void connection::linger_read(const std::error_code& ec) {
    if (!lingering_) {
        return;
    }
    if (ec) {
        lingering_ = false;
        std::error_code ignored;
        timer_.cancel();
        socket_.close(ignored);
        return;
    }
    drain_.resize(4096);
    socket_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](const std::error_code& e, std::size_t) {
        self->on_read(e, 0);
    });
}

void connection::end(const std::string& reason, spdlog::level::level_enum level, bool close_socket,
                     const std::string& line) {
    {
        std::lock_guard lock(mutex_);
        if (phase_.load(std::memory_order_relaxed) == phase::ended) {
            return;
        }
        phase_.store(phase::ended, std::memory_order_release);
        flushing_ = true;  // nothing is posted again
        pending_.clear();
        written_ahead_ = 0;
        held_.clear();
        holding_ = false;
        queued_.store(0, std::memory_order_relaxed);
    }
    drained_.notify_all();
    open_.store(false, std::memory_order_release);
    timer_.cancel();
    if (close_socket) {
        std::error_code ignored;
        socket_.close(ignored);
    }
    if (line.empty()) {
        log_line(level, describe(), reason);
    } else {
        log_text(level, line);
    }
    if (const auto handler = handler_.lock()) {
        try {
            handler->on_closed(*this, reason);
        } catch (...) {
            log_line(spdlog::level::err, describe(),
                     "and its handler's on_closed threw: " + what_of(std::current_exception()));
        }
    }
}

}  // namespace troupe::remote::detail
