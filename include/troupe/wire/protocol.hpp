#pragma once
/// \file
/// The protocol between troupe processes: the messages of the handshake and of the dialogs
/// multiplexed on one connection, as records, and the frame payload that carries each one.
///
/// A frame's payload is the msgpack array [kind, dialog, body]: `kind` a message_kind number,
/// `dialog` the id of the dialog it belongs to (0 for the connection itself: hello,
/// authentication, spawn), `body`
/// the message's record. docs/design/wire.md has the dialogs these messages make.

#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/reader.hpp>
#include <troupe/wire/record.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace troupe::wire {

/// The version of this protocol. A version adds message kinds or trailing fields; it never
/// changes the layout of what an earlier version sends.
inline constexpr std::uint32_t protocol_version = 1;

/// The kind number at the head of every frame payload.
enum class message_kind : std::uint8_t {
    hello = 1,
    start = 2,
    started = 3,
    yield = 4,
    stop = 5,
    returned = 6,
    cancel = 7,
    cancel_ack = 8,
    error = 9,
    credit = 10,
    spawn = 11,
    auth_challenge = 12,
    auth_response = 13,
    spawn_actor = 14,
    post = 15,
    stop_actor = 16,
    exit_signal = 17,
};

/// The protocol's messages. (Their own namespace: `error` here is a message, not troupe::error.)
namespace msg {

/// The first message each side sends on a new connection (dialog 0), before reading the
/// peer's.
struct hello {
    /// The newest protocol version this side speaks.
    std::uint32_t version = protocol_version;
    /// The oldest protocol version this side still speaks.
    std::uint32_t min_version = protocol_version;
    /// The process's name ("worker-3").
    std::string name{};
    /// The process's unique id, stable for its lifetime.
    std::string id{};
    /// Its operating-system process id (0 if none or unknown).
    std::int64_t pid = 0;
    /// The largest frame payload it accepts.
    std::uint32_t max_frame = static_cast<std::uint32_t>(default_max_frame);
    /// This side demands that both sides prove the shared secret (auth_challenge, auth_response)
    /// before anything else is said. An older peer's hello has no such field: false.
    bool auth = false;

    bool operator==(const hello&) const = default;
};

/// Opens a dialog: call the exposed function or actor `target` with `args`.
struct start {
    /// The name it is exposed under.
    std::string target{};
    /// Its arguments, encoded by their codec (a msgpack array of them, for the msgpack codec).
    std::vector<std::byte> args{};
    /// How many yield messages the caller accepts before its first credit message.
    std::uint32_t credit = 0;

    bool operator==(const start&) const = default;
};

/// The callee has started the call (and, for a context, the value it started with).
struct started {
    /// The first value, encoded (empty if the call has none).
    std::vector<std::byte> value{};
    /// How many yield messages the callee accepts from the caller (bidirectional streams).
    std::uint32_t credit = 0;

    bool operator==(const started&) const = default;
};

/// One item of a stream, in either direction; each uses one credit.
struct yield {
    /// The item, encoded.
    std::vector<std::byte> value{};

    bool operator==(const yield&) const = default;
};

/// The sender's side of the stream has ended; it sends no more yields.
struct stop {
    bool operator==(const stop&) const = default;
};

/// The call has ended with a value (the last message of its dialog from the callee).
struct returned {
    /// The result, encoded (empty for void).
    std::vector<std::byte> value{};

    bool operator==(const returned&) const = default;
};

/// The caller asks the callee to cancel the call.
struct cancel {
    /// Why, for logs.
    std::string reason{};

    bool operator==(const cancel&) const = default;
};

/// The callee has cancelled the call: nothing more comes on this dialog.
struct cancel_ack {
    bool operator==(const cancel_ack&) const = default;
};

/// The call has ended with an exception (the last message of its dialog from the callee).
struct error {
    /// The exception's type name where it was thrown ("std::invalid_argument").
    std::string type{};
    /// Its what().
    std::string message{};
    /// Where it was thrown, as text (empty if unknown).
    std::string backtrace{};

    bool operator==(const error&) const = default;
};

/// The receiver of a stream grants its sender `items` more yield messages.
struct credit {
    /// How many more (added to what is left).
    std::uint32_t items = 0;

    bool operator==(const credit&) const = default;
};

/// What a parent tells a child process actor it started, right after the hellos (dialog 0):
/// what it is and what it serves.
struct spawn {
    /// Its name, as its parent calls it ("donny").
    std::string name{};
    /// The namespaces of exposed functions it serves.
    std::vector<std::string> enable{};
    /// Its statespace: encoded values by name.
    std::map<std::string, std::vector<std::byte>> state{};
    /// Its log level ("info"); empty: unchanged.
    std::string log_level{};
    /// The registrar's address, to register with and to look others up ("unix:/path").
    std::string registrar{};

    bool operator==(const spawn&) const = default;
};

/// Authentication, on dialog 0 right after the hellos: a fresh random nonce for the peer to
/// answer (docs/design/wire.md, "Authentication").
struct auth_challenge {
    /// 32 random bytes, new for every connection.
    std::vector<std::byte> nonce{};

    bool operator==(const auth_challenge&) const = default;
};

/// The answer to the peer's auth_challenge: an HMAC-SHA256 under the shared secret that binds
/// both sides' ids, the direction and both nonces.
struct auth_response {
    /// The 32-byte MAC.
    std::vector<std::byte> mac{};

    bool operator==(const auth_response&) const = default;
};

/// Opens a dialog that lasts as long as an actor: spawn an actor of an exposed class there.
/// The callee answers `started` (its id and name) or `error`; once started, the dialog carries
/// the caller's posts and stops, and ends with the callee's `returned` (the exit reason) when
/// the actor ends.
struct spawn_actor {
    /// The class's name on the wire (what TROUPE_EXPOSE_ACTOR registers it under).
    std::string type{};
    /// The actor's name ("counter"); empty: the class's.
    std::string name{};
    /// Its constructor's arguments, encoded as one msgpack array.
    std::vector<std::byte> args{};
    /// Its mailbox bound (0: none) and what a full mailbox does (troupe::overflow's number).
    std::uint64_t capacity = 0;
    std::uint8_t overflow = 0;
    /// Run it on a thread of its own.
    bool dedicated_thread = false;

    bool operator==(const spawn_actor&) const = default;
};

/// A message for the actor of a spawn_actor dialog, on that dialog.
struct post {
    /// The message's type name on the wire.
    std::string type{};
    /// The message, encoded by its codec.
    std::vector<std::byte> value{};
    /// 0 for a tell; for an ask, the dialog the caller opened for the reply, which the callee
    /// ends with `returned` (the reply, encoded) or `error`.
    std::uint64_t reply = 0;

    bool operator==(const post&) const = default;
};

/// Stops the actor of a spawn_actor dialog (after its queued messages), or kills it.
struct stop_actor {
    bool kill = false;

    bool operator==(const stop_actor&) const = default;
};

/// Tells the actor of a spawn_actor dialog that an actor linked to it ended abnormally.
struct exit_signal {
    /// The actor that ended: its id, in its own process, and its name.
    std::uint64_t id = 0;
    std::string name{};
    /// How it ended: 2 failed, 3 killed (troupe::exit_reason::kind's number).
    std::uint8_t what = 0;
    /// For a failure: the exception's type and message.
    std::string error_type{};
    std::string message{};

    bool operator==(const exit_signal&) const = default;
};

/// A message of a kind this version does not know (a newer peer's): ignorable.
struct unknown {
    /// Its kind number.
    std::uint64_t kind = 0;

    bool operator==(const unknown&) const = default;
};

TROUPE_RECORD(hello, version, min_version, name, id, pid, max_frame, auth);
TROUPE_RECORD(start, target, args, credit);
TROUPE_RECORD(started, value, credit);
TROUPE_RECORD(yield, value);
TROUPE_RECORD(stop);
TROUPE_RECORD(returned, value);
TROUPE_RECORD(cancel, reason);
TROUPE_RECORD(cancel_ack);
TROUPE_RECORD(error, type, message, backtrace);
TROUPE_RECORD(credit, items);
TROUPE_RECORD(spawn, name, enable, state, log_level, registrar);
TROUPE_RECORD(auth_challenge, nonce);
TROUPE_RECORD(auth_response, mac);
TROUPE_RECORD(spawn_actor, type, name, args, capacity, overflow, dedicated_thread);
TROUPE_RECORD(post, type, value, reply);
TROUPE_RECORD(stop_actor, kill);
TROUPE_RECORD(exit_signal, id, name, what, error_type, message);

}  // namespace msg

/// A message's body: alternative i is the message of kind i (0: a kind not known here).
using message_body =
    std::variant<msg::unknown, msg::hello, msg::start, msg::started, msg::yield, msg::stop, msg::returned, msg::cancel,
                 msg::cancel_ack, msg::error, msg::credit, msg::spawn, msg::auth_challenge, msg::auth_response,
                 msg::spawn_actor, msg::post, msg::stop_actor, msg::exit_signal>;

/// One decoded frame payload.
struct message {
    /// The dialog it belongs to (0: the connection).
    std::uint64_t dialog = 0;
    /// What it says.
    message_body body;

    /// Its kind, or nullopt for an unknown one.
    std::optional<message_kind> kind() const noexcept;

    bool operator==(const message&) const = default;
};

/// True for the message types that encode_message takes (every alternative but unknown).
template <class M>
concept protocol_message =
    std::is_same_v<M, msg::hello> || std::is_same_v<M, msg::start> || std::is_same_v<M, msg::started> ||
    std::is_same_v<M, msg::yield> || std::is_same_v<M, msg::stop> || std::is_same_v<M, msg::returned> ||
    std::is_same_v<M, msg::cancel> || std::is_same_v<M, msg::cancel_ack> || std::is_same_v<M, msg::error> ||
    std::is_same_v<M, msg::credit> || std::is_same_v<M, msg::spawn> || std::is_same_v<M, msg::auth_challenge> ||
    std::is_same_v<M, msg::auth_response> || std::is_same_v<M, msg::spawn_actor> || std::is_same_v<M, msg::post> ||
    std::is_same_v<M, msg::stop_actor> || std::is_same_v<M, msg::exit_signal>;

/// Appends the payload [kind, dialog, body] of `body` on `dialog` to `out`.
template <protocol_message M>
void encode_message(std::uint64_t dialog, const M& body, std::vector<std::byte>& out);

/// Appends one frame carrying `body` on `dialog` (frame_error if it exceeds the maximum).
template <protocol_message M>
void write_message(frame_writer& frames, std::uint64_t dialog, const M& body) {
    frames.write_with([&](std::vector<std::byte>& out) { encode_message(dialog, body, out); });
}

/// Reads one frame payload. A kind this version does not know gives a message whose body is
/// msg::unknown (its body is checked to be msgpack, then skipped): the caller ignores it.
/// Anything malformed (not an array of at least [kind, dialog, body], a negative kind, a
/// body that does not decode as its kind's record, trailing bytes) throws decode_error.
message decode_message(std::span<const std::byte> payload, decode_limits limits = {});

/// The protocol version two sides speak, given each one's hello: the newest both speak, or
/// nullopt if their ranges do not meet (the connection is closed).
std::optional<std::uint32_t> negotiate(const msg::hello& mine, const msg::hello& theirs) noexcept;

}  // namespace troupe::wire
