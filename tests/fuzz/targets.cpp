// The fuzz targets' bodies (see targets.hpp).

#include "targets.hpp"

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include "remote/session.hpp"

#include <msgpack.hpp>

#include <array>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

namespace troupe_fuzz {

namespace wire = troupe::wire;

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::logic_error(std::string("fuzz invariant broken: ") + what);
    }
}

/// Small, so that the fuzzer reaches the limit.
constexpr std::size_t max_frame = 4096;

/// Every frame `r` yields until it needs more bytes (or closes).
void drain(wire::frame_reader& r, std::vector<std::vector<std::byte>>& frames, bool& closed) {
    try {
        while (auto f = r.next()) {
            frames.emplace_back(f->begin(), f->end());
        }
    } catch (const wire::frame_error&) {
        closed = true;
    }
}

void check_message(std::span<const std::byte> payload) {
    wire::message m;
    try {
        m = wire::decode_message(payload);
    } catch (const wire::decode_error&) {
        return;
    }
    if (m.body.index() == 0) {
        return;  // an unknown kind: ignorable, nothing to re-encode
    }
    std::vector<std::byte> again;
    std::visit(
        [&](const auto& body) {
            if constexpr (wire::protocol_message<std::decay_t<decltype(body)>>) {
                wire::encode_message(m.dialog, body, again);
            }
        },
        m.body);
    const wire::message back = wire::decode_message(again);
    check(back == m, "a decoded message re-encodes to the same message");
}

enum class colour : std::uint8_t { red, green, blue };

struct leaf {
    std::int8_t small = 0;
    std::uint16_t medium = 0;
    std::int64_t big = 0;
    float f = 0;
    double d = 0;
    bool b = false;
};
TROUPE_RECORD(leaf, small, medium, big, f, d, b);

struct everything {
    std::string name;
    std::vector<leaf> leaves;
    std::map<std::string, std::int32_t> counts;
    std::unordered_map<std::uint32_t, std::string> names;
    std::optional<leaf> maybe;
    std::variant<std::monostate, std::int32_t, std::string, leaf> choice;
    std::tuple<bool, std::uint8_t, std::vector<std::byte>> triple;
    std::array<std::int16_t, 3> fixed{};
    std::array<std::byte, 4> id{};
    std::vector<std::vector<std::uint8_t>> nested;
    colour tint = colour::red;
    std::vector<bool> bits;
    std::pair<char, std::uint64_t> pair;
};
TROUPE_RECORD(everything, name, leaves, counts, names, maybe, choice, triple, fixed, id, nested, tint, bits, pair);

/// A msgpack-cxx visitor that checks nothing but how deep the value nests.
struct depth_visitor : msgpack::null_visitor {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool start_array(std::uint32_t) { return enter(); }
    bool end_array() { return leave(); }
    bool start_map(std::uint32_t) { return enter(); }
    bool end_map() { return leave(); }
    bool enter() {
        deepest = std::max(deepest, ++depth);
        return depth <= wire::decode_limits::max_depth_cap + 1;
    }
    bool leave() {
        --depth;
        return true;
    }
};

/// troupe's reader and msgpack-cxx's parser agree on whether `in` starts with one complete,
/// valid msgpack value, and where it ends.
void check_against_msgpack_cxx(std::span<const std::byte> in) {
    depth_visitor v;
    std::size_t theirs_end = 0;
    const bool theirs = msgpack::parse(reinterpret_cast<const char*>(in.data()), in.size(), theirs_end, v);
    if (v.deepest > wire::decode_limits::max_depth_cap) {
        return;  // troupe refuses this deep on purpose
    }
    wire::reader r(in, {.max_depth = wire::decode_limits::max_depth_cap});
    bool ours = true;
    try {
        r.skip();
    } catch (const wire::decode_error&) {
        ours = false;
    }
    check(ours == theirs, "troupe and msgpack-cxx agree on whether the input is msgpack");
    check(!ours || r.offset() == theirs_end, "troupe and msgpack-cxx agree on where the value ends");
}

/// Every event `s` yields until it needs more bytes. An auth_response is taken as the right
/// answer (the MAC is the connection's to check), so that what follows it is reached too.
void drain(troupe::remote::detail::session& s, std::vector<troupe::remote::detail::session_event>& events) {
    while (auto e = s.next()) {
        const auto* m = std::get_if<wire::message>(&*e);
        const bool answer = m != nullptr && std::holds_alternative<wire::msg::auth_response>(m->body);
        events.push_back(std::move(*e));
        if (answer) {
            s.authenticated();
        }
    }
}

bool is_authentication(const wire::message& m) {
    return std::holds_alternative<wire::msg::auth_challenge>(m.body) ||
           std::holds_alternative<wire::msg::auth_response>(m.body);
}

/// The rules a session's events keep, whatever the bytes.
void check_events(const std::vector<troupe::remote::detail::session_event>& events) {
    namespace remote = troupe::remote::detail;
    bool authenticate = false;
    int step = 0;  // of the authentication: 1 after the challenge, 2 after the response
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        if (const auto* h = std::get_if<remote::handshake_done>(&e)) {
            check(i == 0, "the handshake is the first event");
            authenticate = h->authenticate;
            check(authenticate == h->peer.auth, "authentication is demanded by a hello (here: the peer's)");
        } else if (const auto* m = std::get_if<wire::message>(&e)) {
            check(i > 0 && std::holds_alternative<remote::handshake_done>(events[0]), "messages follow the handshake");
            check(m->body.index() != 0, "no unknown kind is passed on");
            check(!std::holds_alternative<wire::msg::hello>(m->body), "no hello is passed on");
            if (is_authentication(*m)) {
                check(authenticate && m->dialog == 0, "authentication only when demanded, on dialog 0");
                const bool challenge = std::holds_alternative<wire::msg::auth_challenge>(m->body);
                check(step == (challenge ? 0 : 1), "one challenge, then one response");
                ++step;
            } else {
                check(!authenticate || step == 2, "nothing is passed on before the authentication is done");
                check(m->dialog != 0 || std::holds_alternative<wire::msg::spawn>(m->body) ||
                          std::holds_alternative<wire::msg::cancel>(m->body) ||
                          std::holds_alternative<wire::msg::cancel_ack>(m->body),
                      "dialog 0 carries only spawn and cancel once open");
            }
        } else {
            check(i + 1 == events.size(), "nothing follows the close");
            check(!std::get<remote::session_closed>(e).reason.empty(), "the close says why");
        }
    }
}

}  // namespace

void frames(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return;
    }
    const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    // The stream at once...
    std::vector<std::vector<std::byte>> whole;
    bool whole_closed = false;
    {
        wire::frame_reader r(max_frame);
        r.feed(stream);
        drain(r, whole, whole_closed);
    }
    // ...and in chunks of 1 to 16 bytes, in a pattern the first byte picks.
    std::vector<std::vector<std::byte>> chunked;
    bool chunked_closed = false;
    {
        wire::frame_reader r(max_frame);
        std::uint32_t pattern = data[0] * 2654435761u + 1;
        for (std::size_t at = 0; at < stream.size() && !chunked_closed;) {
            pattern = pattern * 1103515245u + 12345u;
            const std::size_t n = std::min<std::size_t>(1 + (pattern >> 16) % 16, stream.size() - at);
            r.feed(stream.subspan(at, n));
            at += n;
            drain(r, chunked, chunked_closed);
        }
    }
    check(whole == chunked, "chunking does not change the frames");
    check(whole_closed == chunked_closed, "chunking does not change whether the stream is closed");
    for (const auto& f : whole) {
        check(f.size() <= max_frame, "no frame is larger than the maximum");
        check_message(f);
    }
}

void records(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    check_against_msgpack_cxx(in);
    everything value;
    try {
        value = wire::decode<everything>(in);
    } catch (const wire::decode_error&) {
        return;
    }
    // Compared as bytes: a NaN is not equal to itself, its encoding is.
    const std::vector<std::byte> once = wire::encode(value);
    const std::vector<std::byte> twice = wire::encode(wire::decode<everything>(once));
    check(once == twice, "a decoded record re-encodes stably");
}

void session(const std::uint8_t* data, std::size_t size) {
    namespace remote = troupe::remote::detail;
    if (size == 0) {
        return;
    }
    const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    const wire::msg::hello mine{1, 1, "fuzz", "1", 1, max_frame, false};
    std::vector<remote::session_event> whole;
    remote::session at_once(mine, max_frame);
    at_once.feed(stream);
    drain(at_once, whole);
    check_events(whole);

    std::vector<remote::session_event> chunked;
    remote::session in_chunks(mine, max_frame);
    std::uint32_t pattern = data[0] * 2246822519u + 7;
    bool in_place = (data[0] & 1) != 0;
    for (std::size_t at = 0; at < stream.size();) {
        pattern = pattern * 1103515245u + 12345u;
        const std::size_t n = std::min<std::size_t>(1 + (pattern >> 16) % 64, stream.size() - at);
        if (in_place) {
            const auto room = in_chunks.prepare(n + (pattern & 7));
            std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, room.begin());
            in_chunks.commit(n);
        } else {
            in_chunks.feed(stream.subspan(at, n));
        }
        in_place = !in_place;
        at += n;
        drain(in_chunks, chunked);
    }
    check(whole == chunked, "chunking does not change the events");
    check(at_once.ignored() == in_chunks.ignored(), "chunking does not change what is ignored");
    check(at_once.closed() == in_chunks.closed(), "chunking does not change whether the session closed");
    check(at_once.frames() <= stream.size() / wire::frame_header_size, "every frame took at least its header");
}

}  // namespace troupe_fuzz
