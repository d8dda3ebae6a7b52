// session: frames in, protocol events out. Every way bad bytes can end (frame_error from the
// reader, decode_error from the decoder, a message in the wrong place) becomes one
// session_closed, and nothing after it.

#include "session.hpp"

#include <troupe/wire/errors.hpp>
#include <troupe/wire/record.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace troupe::remote::detail {

namespace {

/// A message's kind as the log line names it ("start", "unknown kind 77").
std::string kind_name(const wire::message& m) {
    return std::visit(
        [](const auto& body) -> std::string {
            using body_type = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<body_type, wire::msg::unknown>) {
                return "unknown kind " + std::to_string(body.kind);
            } else {
                return std::string(wire::record_of<body_type>.name);
            }
        },
        m.body);
}

bool is_authentication(const wire::message& m) {
    return std::holds_alternative<wire::msg::auth_challenge>(m.body) ||
           std::holds_alternative<wire::msg::auth_response>(m.body);
}

std::string range(const wire::msg::hello& h) {
    return std::to_string(h.min_version) + ".." + std::to_string(h.version);
}

}  // namespace

session::session(wire::msg::hello mine, std::size_t max_frame) : mine_(std::move(mine)), reader_(max_frame) {}

void session::feed(std::span<const std::byte> bytes) {
    if (state_ != state::closed) {
        reader_.feed(bytes);
    }
}

std::span<std::byte> session::prepare(std::size_t n) {
    if (state_ != state::closed) {
        return reader_.prepare(n);
    }
    discard_.resize(n);
    return discard_;
}

void session::commit(std::size_t n) {
    if (state_ != state::closed) {
        reader_.commit(n);
    }
}

std::optional<session_event> session::next() {
    while (state_ != state::closed) {
        wire::message m;
        try {
            const auto frame = reader_.next();
            if (!frame) {
                return std::nullopt;
            }
            m = wire::decode_message(*frame);
        } catch (const wire::frame_error& e) {
            return close(e.what());
        } catch (const wire::decode_error& e) {
            return close(e.what());
        }
        ++frames_;
        if (state_ == state::awaiting_hello) {
            return handshake(std::move(m));
        }
        if (std::holds_alternative<wire::msg::hello>(m.body)) {
            return close("a second hello from the peer, on dialog " + std::to_string(m.dialog));
        }
        if (state_ == state::authenticating) {
            return authentication(std::move(m));
        }
        if (m.body.index() == 0) {
            ++ignored_;  // a newer peer's kind: it knows we may not speak it
            continue;
        }
        if (is_authentication(m)) {
            return close(kind_name(m) + " on dialog " + std::to_string(m.dialog) +
                         " outside the authentication (which comes right after the hellos, if at all)");
        }
        if (m.dialog == 0 && !std::holds_alternative<wire::msg::spawn>(m.body) &&
            !std::holds_alternative<wire::msg::cancel>(m.body) &&
            !std::holds_alternative<wire::msg::cancel_ack>(m.body)) {
            // After the hello (and the authentication), dialog 0 carries only what concerns the
            // whole process actor: its spawn message and its cancel (docs/design/wire.md).
            return close(kind_name(m) + " on dialog 0, which carries only the handshake, spawn and cancel");
        }
        return session_event(std::move(m));
    }
    return std::nullopt;
}

session_event session::handshake(wire::message&& first) {
    auto* hello = std::get_if<wire::msg::hello>(&first.body);
    if (hello == nullptr || first.dialog != 0) {
        return close("expected the peer's hello on dialog 0 first, got " + kind_name(first) + " on dialog " +
                     std::to_string(first.dialog));
    }
    const auto version = wire::negotiate(mine_, *hello);
    if (!version) {
        return close("no common protocol version (here " + range(mine_) + ", peer " + range(*hello) + ")");
    }
    peer_ = std::move(*hello);
    version_ = *version;
    const bool authenticate = mine_.auth || peer_.auth;
    state_ = authenticate ? state::authenticating : state::open;
    return handshake_done{peer_, version_, authenticate};
}

session_event session::authentication(wire::message&& m) {
    // Until the answer is checked nothing else gets through, not even an unknown kind: a peer
    // that has proved nothing is given nothing to read its way around.
    const bool challenge = std::holds_alternative<wire::msg::auth_challenge>(m.body);
    const bool response = std::holds_alternative<wire::msg::auth_response>(m.body);
    if (answered_) {
        return close(kind_name(m) + " on dialog " + std::to_string(m.dialog) + " before its auth_response was checked");
    }
    if (m.dialog != 0 || (!challenge && !response)) {
        return close(kind_name(m) + " on dialog " + std::to_string(m.dialog) + " before the authentication was done");
    }
    if (challenge) {
        if (challenged_) {
            return close("a second auth_challenge from the peer");
        }
        challenged_ = true;
        return session_event(std::move(m));
    }
    if (!challenged_) {
        return close("an auth_response before the peer's auth_challenge");
    }
    answered_ = true;
    return session_event(std::move(m));
}

void session::authenticated() noexcept {
    if (state_ == state::authenticating && answered_) {
        state_ = state::open;
    }
}

session_event session::close(std::string reason) {
    state_ = state::closed;
    reader_ = wire::frame_reader(0);  // frees what the peer sent
    return session_closed{std::move(reason)};
}

}  // namespace troupe::remote::detail
