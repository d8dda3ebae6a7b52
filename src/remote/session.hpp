#pragma once
// session: the protocol of one connection as a state machine over bytes, with no socket, so
// that it can be tested exactly and fuzzed. The connection feeds it what it reads and acts on
// the events it yields.

#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace troupe::remote::detail {

/// The peer's hello arrived and its versions meet ours: the connection is open, or, if either
/// hello demands it, authenticating.
struct handshake_done {
    /// What the peer said.
    wire::msg::hello peer;
    /// The version both sides speak from now on.
    std::uint32_t version = 0;
    /// Either hello demands authentication: the session passes the peer's auth_challenge, then
    /// its auth_response, and closes on anything else until authenticated().
    bool authenticate = false;

    bool operator==(const handshake_done&) const = default;
};

/// The peer broke the protocol; the session yields nothing more and the socket is closed.
struct session_closed {
    /// What it did, for the log line and on_closed ("no common protocol version (here 1..1,
    /// peer 2..3)").
    std::string reason;

    bool operator==(const session_closed&) const = default;
};

/// What a session yields: the handshake, a message (on dialog 0 only the authentication's, and
/// spawn, cancel and cancel_ack once open), or the end.
using session_event = std::variant<handshake_done, wire::message, session_closed>;

/// The protocol of one connection, fed the bytes the peer sends. Rules (docs/design/remote.md):
/// the first frame is the peer's hello on dialog 0, and the versions must meet; if either hello
/// demands authentication, the peer's auth_challenge and then its auth_response come next, on
/// dialog 0, and nothing else until the connection has checked the answer (authenticated());
/// once open, dialog 0 carries only spawn, cancel and cancel_ack (a second hello, or an
/// authentication message, closes); a frame over the limit or a malformed one closes; a
/// message of a kind this version does not know is ignored and counted once open, never fatal.
/// A message is passed on whatever its dialog's state: that is the runtime's business. Not
/// thread-safe: one thread feeds it.
class session {
public:
    /// What this side is: `mine` is the hello it sent (for negotiation); frames the peer sends
    /// may be at most `max_frame` bytes.
    explicit session(wire::msg::hello mine, std::size_t max_frame = wire::default_max_frame);

    /// Adds bytes of the stream (split anywhere). After the session closed they are dropped.
    void feed(std::span<const std::byte> bytes);
    /// Room for the next `n` bytes, to read into directly; then commit() how many were read.
    /// Invalidates nothing an event holds (events own their data).
    std::span<std::byte> prepare(std::size_t n);
    /// Adds the first `n` bytes of the span prepare() gave.
    void commit(std::size_t n);

    /// The next event, or nullopt if more bytes are needed (or the session has closed: after
    /// session_closed there is nothing more, ever).
    std::optional<session_event> next();

    /// The peer's auth_response (yielded last) checked out: the session opens. Does nothing
    /// unless that response is what the session waits on.
    void authenticated() noexcept;

    /// True from handshake_done (or, with authentication, from authenticated()) until closed.
    bool is_open() const noexcept { return state_ == state::open; }
    /// True from a handshake_done that demands authentication until authenticated() or closed.
    bool authenticating() const noexcept { return state_ == state::authenticating; }
    /// True after session_closed was yielded.
    bool closed() const noexcept { return state_ == state::closed; }
    /// The hello this side sent.
    const wire::msg::hello& mine() const noexcept { return mine_; }
    /// The peer's hello (default until the handshake).
    const wire::msg::hello& peer() const noexcept { return peer_; }
    /// The negotiated version (0 until the handshake).
    std::uint32_t version() const noexcept { return version_; }
    /// Frames decoded, the ignored ones included.
    std::uint64_t frames() const noexcept { return frames_; }
    /// Messages of an unknown kind, ignored.
    std::uint64_t ignored() const noexcept { return ignored_; }

private:
    enum class state : std::uint8_t { awaiting_hello, authenticating, open, closed };

    /// Reads the peer's first message (the hello) and negotiates.
    session_event handshake(wire::message&& first);
    /// A message while authenticating: the challenge, then the response, else the end.
    session_event authentication(wire::message&& m);
    session_event close(std::string reason);

    wire::msg::hello mine_;
    wire::msg::hello peer_{};
    wire::frame_reader reader_;
    std::vector<std::byte> discard_;  // where prepare() points once closed
    state state_ = state::awaiting_hello;
    bool challenged_ = false;  // authenticating: the peer's auth_challenge came
    bool answered_ = false;    // authenticating: its auth_response came, and waits for authenticated()
    std::uint32_t version_ = 0;
    std::uint64_t frames_ = 0;
    std::uint64_t ignored_ = 0;
};

}  // namespace troupe::remote::detail
