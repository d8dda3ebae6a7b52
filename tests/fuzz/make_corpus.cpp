// Writes the seed corpus of the fuzz targets: `fuzz_make_corpus <dir>` creates <dir>/frames/,
// <dir>/records/ and <dir>/session/ (the files in tests/fuzz/corpus came from it). Seeds are valid inputs of
// every shape, plus the classic bad ones, so that a campaign starts from the interesting paths.

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace wire = troupe::wire;
namespace msg = troupe::wire::msg;

namespace {

void save(const std::filesystem::path& file, const std::vector<std::byte>& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::byte> of(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

/// A frames seed: the chunk-pattern byte, then the frames.
std::vector<std::byte> stream(std::uint8_t pattern, const wire::frame_writer& w) {
    std::vector<std::byte> out{static_cast<std::byte>(pattern)};
    out.insert(out.end(), w.pending().begin(), w.pending().end());
    return out;
}

void frames(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const std::vector<std::pair<std::string, std::function<void(wire::frame_writer&)>>> seeds{
        {"hello",
         [](auto& w) {
             wire::write_message(w, 0, msg::hello{1, 1, "worker", "id-1", 42, 4096});
         }},
        {"start",
         [](auto& w) {
             wire::write_message(w, 1, msg::start{"add", wire::encode(std::tuple(1, 2)), 8});
         }},
        {"started",
         [](auto& w) {
             wire::write_message(w, 1, msg::started{wire::encode(std::string("s")), 4});
         }},
        {"yield", [](auto& w) { wire::write_message(w, 1, msg::yield{wire::encode(7)}); }},
        {"stop", [](auto& w) { wire::write_message(w, 1, msg::stop{}); }},
        {"returned", [](auto& w) { wire::write_message(w, 1, msg::returned{wire::encode(3.5)}); }},
        {"cancel", [](auto& w) { wire::write_message(w, 2, msg::cancel{"deadline"}); }},
        {"cancel_ack", [](auto& w) { wire::write_message(w, 2, msg::cancel_ack{}); }},
        {"error",
         [](auto& w) {
             wire::write_message(w, 3, msg::error{"std::runtime_error", "boom", "#0 main"});
         }},
        {"credit", [](auto& w) { wire::write_message(w, 1ULL << 40, msg::credit{64}); }},
        {"dialog",
         [](auto& w) {
             wire::write_message(w, 0, msg::hello{});
             wire::write_message(w, 5, msg::start{"numbers", {}, 2});
             wire::write_message(w, 5, msg::started{});
             wire::write_message(w, 5, msg::yield{wire::encode(1)});
             wire::write_message(w, 5, msg::yield{wire::encode(2)});
             wire::write_message(w, 5, msg::credit{2});
             wire::write_message(w, 5, msg::stop{});
             wire::write_message(w, 5, msg::returned{});
         }},
        {"unknown_kind",
         [](auto& w) {
             w.write(of({0x93, 0x4d, 0x05, 0x81, 0xa1, 0x61, 0x01}));
         }},
        {"malformed_body",
         [](auto& w) {
             w.write(of({0x93, 0x02, 0x01, 0x91, 0x05}));
         }},
        {"empty_frame", [](auto& w) { w.write({}); }},
        {"oversized",
         [](auto& w) {
             w.write(of({0x00, 0x00, 0x10, 0x01, 0x00}));
         }},  // claims 4097 inside
    };
    std::uint8_t pattern = 0;
    for (const auto& [name, fill] : seeds) {
        wire::frame_writer w;
        fill(w);
        save(dir / name, stream(pattern, w));
        pattern = static_cast<std::uint8_t>(pattern + 37);
    }
    save(dir / "partial_header", of({0x00, 0x00, 0x00}));
    save(dir / "length_too_big", of({0x07, 0xff, 0xff, 0xff, 0xff, 0x90}));
}

/// Session seeds: a handshake and what may follow it, and each way the session closes.
void session(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const msg::hello peer{1, 1, "peer", "2", 4121, 4096};
    const auto unknown = of({0x93, 0x4d, 0x05, 0x81, 0xa1, 0x61, 0x01});
    const msg::hello demanding{1, 1, "peer", "2", 4121, 4096, true};
    const std::vector<std::byte> nonce(32, std::byte{0x5c});
    const std::vector<std::byte> mac(32, std::byte{0xa3});
    const std::vector<std::pair<std::string, std::function<void(wire::frame_writer&)>>> seeds{
        {"handshake_and_dialog",
         [&](auto& w) {
             wire::write_message(w, 0, peer);
             wire::write_message(w, 5, msg::start{"numbers", wire::encode(std::tuple(3)), 2});
             wire::write_message(w, 5, msg::started{});
             wire::write_message(w, 5, msg::yield{wire::encode(1)});
             wire::write_message(w, 5, msg::credit{2});
             wire::write_message(w, 6, msg::cancel{"enough"});
             wire::write_message(w, 6, msg::cancel_ack{});
             wire::write_message(w, 5, msg::stop{});
             wire::write_message(w, 5, msg::returned{});
             wire::write_message(w, 7, msg::error{"std::logic_error", "no", ""});
         }},
        {"newer_peer",
         [&](auto& w) {
             wire::write_message(w, 0, msg::hello{3, 1, "newer", "9", 1, 1u << 20});
             w.write(unknown);
             w.write(of({0x94, 0x4e, 0x00, 0x90, 0xc0}));  // an unknown kind on dialog 0, with an extra element
             wire::write_message(w, 1, msg::stop{});
         }},
        {"no_common_version",
         [](auto& w) {
             wire::write_message(w, 0, msg::hello{3, 2, "future", "", 0, 64});
         }},
        {"message_before_hello",
         [&](auto& w) {
             wire::write_message(w, 1, msg::stop{});
             wire::write_message(w, 0, peer);
         }},
        {"second_hello",
         [&](auto& w) {
             wire::write_message(w, 0, peer);
             wire::write_message(w, 0, peer);
         }},
        {"credit_on_dialog_0",
         [&](auto& w) {
             wire::write_message(w, 0, peer);
             wire::write_message(w, 0, msg::credit{1});
         }},
        {"malformed_after_hello",
         [&](auto& w) {
             wire::write_message(w, 0, peer);
             w.write(of({0x93, 0x04, 0x01, 0x91, 0xc1}));
         }},
        {"authenticated",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             wire::write_message(w, 0, msg::auth_challenge{nonce});
             wire::write_message(w, 0, msg::auth_response{mac});
             wire::write_message(w, 0, msg::spawn{"donny", {"math"}, {}, "info"});
             wire::write_message(w, 1, msg::start{"numbers", wire::encode(std::tuple(3)), 2});
             w.write(unknown);
             wire::write_message(w, 0, msg::cancel{"enough"});
         }},
        {"message_during_auth",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             wire::write_message(w, 0, msg::auth_challenge{nonce});
             wire::write_message(w, 1, msg::start{"numbers", {}, 0});
         }},
        {"unknown_during_auth",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             w.write(unknown);
         }},
        {"response_before_challenge",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             wire::write_message(w, 0, msg::auth_response{mac});
         }},
        {"second_challenge",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             wire::write_message(w, 0, msg::auth_challenge{nonce});
             wire::write_message(w, 0, msg::auth_challenge{nonce});
         }},
        {"challenge_undemanded",
         [&](auto& w) {
             wire::write_message(w, 0, peer);
             wire::write_message(w, 0, msg::auth_challenge{nonce});
         }},
        {"malformed_during_auth",
         [&](auto& w) {
             wire::write_message(w, 0, demanding);
             wire::write_message(w, 0, msg::auth_challenge{nonce});
             w.write(of({0x93, 0x0d, 0x00, 0x91, 0xc1}));
         }},
    };
    std::uint8_t pattern = 3;
    for (const auto& [name, fill] : seeds) {
        wire::frame_writer w;
        fill(w);
        save(dir / name, stream(pattern, w));
        pattern = static_cast<std::uint8_t>(pattern + 41);
    }
    wire::frame_writer w;
    wire::write_message(w, 0, peer);
    auto oversized = stream(8, w);
    for (int b : {0xff, 0xff, 0xff, 0xff, 0x90}) {
        oversized.push_back(static_cast<std::byte>(b));
    }
    save(dir / "oversized_after_hello", oversized);
    auto half = stream(9, w);
    half.resize(half.size() / 2);
    save(dir / "half_a_hello", half);
}

struct leaf {
    std::int8_t small = 0;
    std::uint16_t medium = 0;
    std::int64_t big = 0;
    float f = 0;
    double d = 0;
    bool b = false;
};
TROUPE_RECORD(leaf, small, medium, big, f, d, b);

void records(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    // The fields of the records target's record, in order (see targets.cpp), as a tuple.
    const leaf l{-5, 600, -(1LL << 40), 1.5f, -0.25, true};
    const auto full = std::make_tuple(
        std::string("name"), std::vector<leaf>{l, leaf{}}, std::map<std::string, std::int32_t>{{"a", 1}, {"b", -2}},
        std::map<std::uint32_t, std::string>{{7, "seven"}}, std::optional<leaf>(l),
        std::variant<std::monostate, std::int32_t, std::string, leaf>(l),
        std::make_tuple(true, std::uint8_t{200}, std::vector<std::byte>{std::byte{1}, std::byte{2}}),
        std::array<std::int16_t, 3>{1, -1, 300}, std::array<std::byte, 4>{},
        std::vector<std::vector<std::uint8_t>>{{1}, {}}, std::uint8_t{2}, std::vector<bool>{true, false},
        std::make_pair('c', std::uint64_t{1} << 63));
    save(dir / "full", wire::encode(full));
    save(dir / "empty_record", of({0x90}));
    save(dir / "first_fields", wire::encode(std::make_tuple(std::string("x"), std::vector<leaf>{l})));
    save(dir / "extra_fields",
         of({0x9e, 0xa0, 0x90, 0x80, 0x80, 0xc0, 0x92, 0x00, 0xc0, 0x93, 0xc2, 0x00, 0xc4, 0x00, 0x93, 0x00, 0x00,
             0x00, 0xc4, 0x04, 0,    0,    0,    0,    0x90, 0x00, 0x90, 0x92, 0x00, 0x00, 0xd4, 0x01, 0x02}));
    save(dir / "wrong_type", of({0x91, 0x05}));
    save(dir / "truncated", of({0x92, 0xa5, 0x61}));
    save(dir / "hostile_array", of({0x92, 0xa0, 0xdd, 0xff, 0xff, 0xff, 0xff}));
    save(dir / "hostile_string", of({0x91, 0xdb, 0x7f, 0xff, 0xff, 0xff}));
    save(dir / "variant_index", of({0x96, 0xa0, 0x90, 0x80, 0x80, 0xc0, 0x92, 0x09, 0xc0}));
    save(dir / "deep", std::vector<std::byte>(200, std::byte{0x91}));
    save(dir / "ext_and_floats", of({0x92, 0xa0, 0x91, 0x96, 0x01, 0x02, 0x03, 0xca, 0x7f, 0xc0, 0x00,
                                     0x00, 0xcb, 0x7f, 0xf8, 0,    0,    0,    0,    0,    1,    0xc3}));
    save(dir / "trailing", of({0x90, 0x00}));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir(argv[1]);
    frames(dir / "frames");
    records(dir / "records");
    session(dir / "session");
    return 0;
}
