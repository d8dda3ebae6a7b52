// Protocol messages: the envelope [kind, dialog, body] around the msgpack codec's records.

#include <troupe/wire/protocol.hpp>

#include <troupe/wire/codec.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace troupe::wire {

namespace {

/// The kind of each protocol message type: its index in message_body.
template <class M, std::size_t I = 0>
constexpr std::uint64_t kind_number() noexcept {
    if constexpr (std::is_same_v<M, std::variant_alternative_t<I, message_body>>) {
        return I;
    } else {
        return kind_number<M, I + 1>();
    }
}

/// Reads the body of kind I into `body` (kind 0, unknown, is never read this way).
template <std::size_t I>
bool read_body_as(reader& r, message_body& body, std::size_t kind) {
    if constexpr (I == 0) {
        return false;
    } else {
        if (kind != I) {
            return false;
        }
        auto& m = body.emplace<I>();
        const auto here = r.at_field(record_of<std::variant_alternative_t<I, message_body>>.name);
        detail::read_value(r, m);
        return true;
    }
}

template <std::size_t... I>
void read_body(reader& r, message_body& body, std::size_t kind, std::index_sequence<I...>) {
    (void)(read_body_as<I>(r, body, kind) || ...);
}

}  // namespace

template <protocol_message M>
void encode_message(std::uint64_t dialog, const M& body, std::vector<std::byte>& out) {
    const std::size_t before = out.size();
    try {
        writer w(out);
        w.array(3);
        w.integer(kind_number<M>());
        w.integer(dialog);
        detail::write_value(w, body);
    } catch (...) {
        out.resize(before);
        throw;
    }
}

template void encode_message(std::uint64_t, const msg::hello&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::start&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::started&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::yield&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::stop&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::returned&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::cancel&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::cancel_ack&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::error&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::credit&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::spawn&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::auth_challenge&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::auth_response&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::spawn_actor&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::post&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::stop_actor&, std::vector<std::byte>&);
template void encode_message(std::uint64_t, const msg::exit_signal&, std::vector<std::byte>&);

std::optional<message_kind> message::kind() const noexcept {
    if (body.index() == 0) {
        return std::nullopt;
    }
    return static_cast<message_kind>(body.index());
}

message decode_message(std::span<const std::byte> payload, decode_limits limits) {
    reader r(payload, limits);
    const auto root = r.at_root("message");
    message m;
    {
        const auto envelope = r.array();
        if (envelope.size() < 3) {
            r.fail("expected [kind, dialog, body], got an array of " + std::to_string(envelope.size()));
        }
        std::uint64_t kind = 0;
        {
            const auto here = r.at_field("kind");
            kind = r.integer<std::uint64_t>();
        }
        {
            const auto here = r.at_field("dialog");
            m.dialog = r.integer<std::uint64_t>();
        }
        constexpr std::size_t kinds = std::variant_size_v<message_body>;
        if (kind == 0 || kind >= kinds) {
            // A newer peer's message: well-formed msgpack, ignorable.
            const auto here = r.at_field("body");
            r.skip();
            m.body = msg::unknown{kind};
        } else {
            read_body(r, m.body, static_cast<std::size_t>(kind), std::make_index_sequence<kinds>{});
        }
        for (std::size_t i = 3; i < envelope.size(); ++i) {
            const auto here = r.at_index(i);  // a later version's additions to the envelope
            r.skip();
        }
    }
    r.finish();
    return m;
}

std::optional<std::uint32_t> negotiate(const msg::hello& mine, const msg::hello& theirs) noexcept {
    const std::uint32_t newest = std::min(mine.version, theirs.version);
    const std::uint32_t oldest = std::max(mine.min_version, theirs.min_version);
    if (newest < oldest) {
        return std::nullopt;
    }
    return newest;
}

}  // namespace troupe::wire
