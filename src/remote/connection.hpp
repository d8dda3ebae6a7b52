#pragma once
// connection: one stream socket carrying the wire protocol between two troupe processes, with
// many dialogs multiplexed on it, on a system's I/O loop.
//
// Lifetime. A connection is always held by shared_ptr (make, adopt_fd). Its pending socket
// operations, timer waits and posted flushes each hold one too, so it lives while it has I/O
// in flight, and is freed when the last holder lets go: on the I/O thread after it ends, or
// when the io_service's context is destroyed with the handlers that never ran (at system
// destruction). So:
//   - the handler is held weakly: the runtime owns it (and may hold the connection from it, no
//     cycle). The connection calls it only on the I/O thread while a strong reference can be
//     had; once its owner lets go, the connection calls nothing more and aborts itself;
//   - on_closed is called exactly once (after on_open or instead of it) unless the io_service
//     shuts down first: then no handler runs again and on_closed never comes;
//   - every shared_ptr to a connection must be dropped before its system is destroyed (its
//     socket belongs to the system's io_context).

#include <troupe/async/io_service.hpp>
#include <troupe/remote/shared_secret.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include "proof.hpp"
#include "session.hpp"

#include <spdlog/common.h>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace troupe::remote::detail {

class connection;

/// What the runtime does with a connection's events. Every call is on the I/O thread, one at
/// a time, never re-entrant (close, abort and send called from a handler take effect after it
/// returns). A handler that throws is logged and its connection aborted.
class connection_handler {
public:
    virtual ~connection_handler() = default;
    /// The handshake (and the authentication, if there is one) is done: peer() and version()
    /// are valid.
    virtual void on_open(connection& c) = 0;
    /// A message, in the order the peer sent it: on a dialog, or on dialog 0 one that concerns
    /// the whole process actor (spawn, cancel, cancel_ack).
    virtual void on_message(connection& c, wire::message&& m) = 0;
    /// The connection has ended; nothing else is called after this, and sends are refused.
    virtual void on_closed(connection& c, const std::string& reason) = 0;
};

/// When a connection demands that its peer prove the shared secret.
enum class proof_demand : std::uint8_t {
    /// On TCP, when this side has a secret (the default). A Unix socket's file mode guards it.
    tcp_with_secret,
    /// On every transport (tests over socket pairs).
    always,
};

/// How a connection starts and what it accepts.
struct connection_options {
    /// What this side says first. Its max_frame is replaced by `max_frame` below, and its auth
    /// by whether this side demands proof of the secret.
    wire::msg::hello hello{};
    /// The largest frame payload accepted from the peer.
    std::size_t max_frame = wire::default_max_frame;
    /// A peer whose hello has not come after this long is closed; one whose proof of the secret
    /// (if either side demands it) has not come by then is refused.
    std::chrono::milliseconds handshake_timeout{5000};
    /// The secret this side proves when either side demands it (remote::authentication's). None:
    /// a peer that demands proof is refused.
    std::optional<remote::shared_secret> secret{};
    /// When this side demands proof (and so proves the secret itself, too).
    proof_demand demand = proof_demand::tcp_with_secret;
    /// This side accepted the connection (a listener's): a refusal's log line says "connection
    /// from <peer's address>", else "connection to <peer's address>".
    bool accepted = false;
    /// A graceful close waits this long for the peer to take what was queued (then it aborts),
    /// and as long again for the peer's end of the stream before closing the socket (so that
    /// the peer reads everything before it sees the close).
    std::chrono::milliseconds linger{5000};
};

/// Counters, for tests and benchmarks (a snapshot; each is exact, the set is not atomic).
struct connection_stats {
    /// Frames queued by send (the hello and the authentication's included).
    std::uint64_t frames_sent = 0;
    /// Socket writes started: fewer than frames_sent under load (coalescing).
    std::uint64_t writes = 0;
    /// Bytes the socket took.
    std::uint64_t bytes_written = 0;
    /// Bytes queued or being written.
    std::size_t bytes_pending = 0;
    /// Frames the peer sent, decoded (the ignored ones included).
    std::uint64_t frames_received = 0;
    /// Frames of a kind this version does not know, ignored.
    std::uint64_t ignored = 0;
};

/// One socket, many dialogs. Sends from any thread append to one buffer, and one socket write
/// carries everything appended while the previous write was in flight. Reads go straight into
/// the session's buffer; a protocol violation closes this connection only, with one warning
/// line naming it and why. When either side demands it, the connection opens only once the
/// peer has proved the shared secret (docs/design/wire.md, "Authentication"); a peer that does
/// not is refused with one warning line ("troupe: connection from tcp:10.1.0.2:41234 refused:
/// it did not prove the shared secret (...)"). Frames sent before then wait, and leave once it
/// opens (dropped if it never does).
class connection : public std::enable_shared_from_this<connection> {
    struct private_tag {};

public:
    /// A stream socket of any family (Unix, TCP).
    using socket = asio::generic::stream_protocol::socket;

    /// Takes a connected socket, which must belong to `io`'s context. Nothing happens until
    /// start(). The handler is held weakly (see the lifetime rule above).
    static std::shared_ptr<connection> make(io_service& io, socket s, connection_options options,
                                            std::weak_ptr<connection_handler> handler);
    /// Takes a connected stream socket's descriptor (a socketpair end a subprocess inherited),
    /// marking it close-on-exec. Throws troupe::error if it is not a connected stream socket;
    /// the descriptor is closed either way.
    static std::shared_ptr<connection> adopt_fd(io_service& io, int fd, connection_options options,
                                                std::weak_ptr<connection_handler> handler);

    connection(private_tag, io_service& io, socket s, connection_options options,
               std::weak_ptr<connection_handler> handler);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Sends the hello (and whatever was sent before), then reads the peer's, then its messages
    /// until the connection ends. Any thread; once.
    void start();

    /// Queues `m` on `dialog`. Any thread. False if the connection is closing or closed (the
    /// message is dropped). Throws wire::frame_error (queuing nothing) if the frame is larger
    /// than the peer accepts (before the handshake: than this side's max_frame).
    template <wire::protocol_message M>
    bool send(std::uint64_t dialog, const M& m) {
        return send_with([&](std::vector<std::byte>& out) { wire::encode_message(dialog, m, out); });
    }
    /// Queues one frame carrying `payload`, a message [kind, dialog, body] encoded elsewhere.
    /// As send().
    bool send_payload(std::span<const std::byte> payload);
    /// Queues one frame whose payload `fill(std::vector<std::byte>& out)` appends to `out` in
    /// place (an encoder for a message [kind, dialog, body]). As send(); if fill throws,
    /// nothing is queued and the exception propagates. fill runs under the send lock: keep it
    /// to encoding.
    template <class Fill>
    bool send_with(Fill&& fill);

    /// Bytes queued by sends and not yet handed to a write (a relaxed reading).
    std::size_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
    /// Blocks while more than `limit` bytes are queued and not yet handed to a write, or until
    /// the connection ends. Not on the I/O thread (which does the writing): there it returns at
    /// once. True if the connection still runs.
    bool wait_queued_below(std::size_t limit);

    /// Ends the connection gracefully: refuses new sends, writes what was queued, then shuts
    /// the socket down and calls on_closed(reason). Any thread; later calls do nothing.
    void close(std::string reason);
    /// Ends the connection at once: drops what was queued, closes the socket, calls
    /// on_closed(reason). Any thread; does nothing once the connection is ending.
    void abort(std::string reason);

    /// The peer's hello. Valid from on_open (on the I/O thread, or after on_open was seen).
    const wire::msg::hello& peer() const noexcept { return session_.peer(); }
    /// The negotiated protocol version (0 before on_open).
    std::uint32_t version() const noexcept { return version_.load(std::memory_order_acquire); }
    /// True from on_open until the connection starts to end.
    bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
    /// "connection to donny#2@4121" (the peer's name, id and pid once known; before the
    /// handshake, the peer's address or the descriptor). Any thread.
    std::string describe() const;
    /// The counters. Any thread.
    connection_stats stats() const;

private:
    enum class phase : std::uint8_t {
        running,   // sending and receiving
        closing,   // close() was called: flushing, still receiving
        aborting,  // abort() was called: on_closed is posted
        ended,     // on_closed was called (or is being): nothing more is dispatched
    };

    /// The flush, or a send's frame that is too large (out of line: the send path stays small).
    [[noreturn]] static void too_large(std::size_t size, std::size_t limit);
    /// Posts flush() to the I/O thread (from a sender that found nothing in flight).
    void post_flush();
    /// A sender found nothing in flight: writes what is queued from this thread if it may (see
    /// connection.cpp), and posts a flush for what is left. Unlocks `lock`.
    void write_now(std::unique_lock<std::mutex>& lock);

    // On the I/O thread:
    void begin();
    void read();
    void on_read(const std::error_code& ec, std::size_t n);
    /// Hands the session's events to the handler; false if the connection ended meanwhile.
    bool dispatch();
    void on_handshake(connection_handler& handler);
    /// Either hello demands authentication: challenges the peer (unless the hello did already).
    void authenticate();
    /// The peer's auth_challenge (answered) or auth_response (checked: the connection opens).
    void on_authentication(connection_handler& handler, const wire::message& m);
    /// Queues an authentication message ahead of the frames held until the connection opens.
    template <class M>
    void send_ahead(const M& m);
    /// Ends the connection, refusing the peer: one warning line, "troupe: connection from
    /// <address> refused: <why>".
    void refuse(const std::string& why);
    /// The peer ended the stream, or it broke: refused while authenticating, else the end.
    void lost(const std::string& reason, spdlog::level::level_enum level);
    void opened(connection_handler& handler);
    /// Moves the frames sent before the connection opened behind what is queued, and flushes.
    void release_held();
    void on_handshake_timeout(const std::error_code& ec);
    void flush();
    void on_written(const std::error_code& ec, std::size_t n);
    /// close() was called: the queue must drain within the linger.
    void arm_close_deadline();
    void on_close_deadline(const std::error_code& ec);
    /// Everything queued before close() is written: shut the send side down, report, linger.
    void finish_close();
    /// A read while lingering completed: read on, discarding, until `ec` (the end).
    void linger_read(const std::error_code& ec);
    /// Ends the connection: one log line at `level` (`line`, or "<describe()> closed: <reason>"),
    /// the socket closed (unless lingering), the handler told. Idempotent.
    void end(const std::string& reason, spdlog::level::level_enum level, bool close_socket = true,
             const std::string& line = {});

    asio::io_context& context_;
    socket socket_;
    asio::steady_timer timer_;  // the handshake timeout, or the close's deadline, then the linger
    const connection_options options_;
    const std::weak_ptr<connection_handler> handler_;
    session session_;                     // I/O thread only (peer() after the handshake: immutable)
    wire::frame_writer writing_;          // I/O thread only: the frames of the write in flight
    std::vector<std::byte> drain_;        // I/O thread only: where reads go while lingering
    bool started_ = false;                // I/O thread only
    bool lingering_ = false;              // I/O thread only: closed gracefully, waiting for the peer's end
    const std::unique_ptr<proof> proof_;  // this side's key and nonce, if it has a secret
    const std::string peer_address_;      // "tcp:10.1.0.2:41234", or "descriptor 7": for a refusal
    bool challenged_ = false;             // I/O thread only (after construction): our challenge is queued
    bool authenticating_ = false;         // I/O thread only: from a handshake that demands proof until open
    std::vector<std::byte> peer_nonce_;   // I/O thread only: the peer's challenge, once answered
    const int fd_;                        // the socket's descriptor (see write_now)

    mutable std::mutex mutex_;  // guards what follows, up to the atomics
    wire::frame_writer pending_;
    wire::frame_writer held_;  // sent while holding_: they leave once the connection opens
    bool holding_ = false;     // authentication may come first: sends wait in held_
    bool flushing_ = true;     // a flush is posted or a write in flight (or not started): a send just appends
    std::size_t send_limit_;   // the largest payload the peer accepts
    std::size_t in_flight_ = 0;
    std::size_t written_ahead_ = 0;  // bytes at pending_'s front a sender wrote itself (write_now)
    std::uint64_t frames_sent_ = 0;
    std::condition_variable drained_;  // a flush took the queue, or the connection ended
    std::size_t drain_waiters_ = 0;
    std::string reason_;  // why close() or abort() was called
    std::string label_;   // for describe()

    // phase_ changes under mutex_ only, and is read without it on the I/O thread (to stop
    // dispatching once the connection ends: a stale `running` only delays that by a message).
    // open_ and version_ are written on the I/O thread, read anywhere: release/acquire, so
    // that whoever sees them set sees the peer's hello written before.
    std::atomic<phase> phase_{phase::running};
    std::atomic<bool> open_{false};
    std::atomic<std::uint32_t> version_{0};
    // Counters only: relaxed.
    std::atomic<std::uint64_t> writes_{0};
    std::atomic<std::uint64_t> bytes_written_{0};
    std::atomic<std::uint64_t> frames_received_{0};
    std::atomic<std::uint64_t> ignored_{0};
    std::atomic<std::size_t> queued_{0};  // pending_'s size, for queued()
    // Set by each read, cleared by a sender that writes itself: a hint only (write_now).
    std::atomic<bool> heard_{false};
};

template <class Fill>
bool connection::send_with(Fill&& fill) {
    std::unique_lock lock(mutex_);
    if (phase_.load(std::memory_order_relaxed) != phase::running) {
        return false;
    }
    const std::size_t limit = send_limit_;
    (holding_ ? held_ : pending_).write_with([&](std::vector<std::byte>& out) {
        const std::size_t start = out.size();
        fill(out);
        if (out.size() - start > limit) {
            too_large(out.size() - start, limit);
        }
    });
    ++frames_sent_;
    queued_.store(pending_.pending().size() + held_.pending().size(), std::memory_order_relaxed);
    if (flushing_ || holding_) {
        return true;  // the flush in flight takes this frame too, or the opening will
    }
    write_now(lock);
    return true;
}

}  // namespace troupe::remote::detail
