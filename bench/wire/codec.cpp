// bench_wire: the cost of the wire layer's codec and framing, single-threaded.
//   bench_wire record [n]   encode + decode of a small record (3 fields), n times
//   bench_wire frame [n]    a frame of 100 small integers: encode into a frame_writer, feed the
//                           bytes to a frame_reader, decode the frame; n times
// Prints `scenario metric value unit` lines (ns per operation: the best of 5 rounds, and the
// bytes per operation). Also a fixed-work program for callgrind: with n given, it runs exactly
// n operations in one round, so two runs with different n give instructions per operation.

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../common/measure.hpp"

namespace {

struct reading {
    std::uint32_t sensor = 0;
    std::int32_t value = 0;
    std::string unit;
};
TROUPE_RECORD(reading, sensor, value, unit);

/// Encodes and decodes one reading; returns something that depends on the result.
std::uint64_t record_once(std::vector<std::byte>& buffer, std::uint32_t i) {
    buffer.clear();
    troupe::wire::encode(reading{i, static_cast<std::int32_t>(i % 1000) - 500, "degC"}, buffer);
    const reading back = troupe::wire::decode<reading>(buffer);
    return back.sensor + static_cast<std::uint64_t>(back.value) + back.unit.size();
}

/// Frames, feeds and decodes 100 small integers; returns something that depends on the result.
std::uint64_t frame_once(troupe::wire::frame_writer& out, troupe::wire::frame_reader& in,
                         const std::vector<std::int32_t>& numbers) {
    out.clear();
    out.write_with([&](std::vector<std::byte>& payload) { troupe::wire::encode(numbers, payload); });
    in.feed(out.pending());
    std::uint64_t sum = 0;
    while (auto frame = in.next()) {
        for (std::int32_t v : troupe::wire::decode<std::vector<std::int32_t>>(*frame)) {
            sum += static_cast<std::uint64_t>(v);
        }
    }
    return sum;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view what = argc > 1 ? argv[1] : "";
    const bool fixed = argc > 2;
    const long n = fixed ? std::atol(argv[2]) : 1'000'000;
    if ((what != "record" && what != "frame") || n <= 0) {
        std::fprintf(stderr, "usage: bench_wire record|frame [operations]\n");
        return 2;
    }
    std::vector<std::byte> buffer;
    troupe::wire::frame_writer out;
    troupe::wire::frame_reader in;
    std::vector<std::int32_t> numbers(100);
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        numbers[i] = static_cast<std::int32_t>(i % 128);  // one byte each on the wire
    }
    std::uint64_t check = 0;
    double best = 1e300;
    for (int round = 0; round < (fixed ? 1 : 5); ++round) {
        const auto start = bench::clock_type::now();
        for (long i = 0; i < n; ++i) {
            check +=
                what == "record" ? record_once(buffer, static_cast<std::uint32_t>(i)) : frame_once(out, in, numbers);
        }
        best = std::min(best, bench::seconds_since(start));
    }
    const double bytes =
        what == "record" ? static_cast<double>(buffer.size()) : static_cast<double>(out.pending().size());
    bench::report(what == "record" ? "wire_record" : "wire_frame100", "time", best / static_cast<double>(n) * 1e9,
                  "ns/op");
    bench::report(what == "record" ? "wire_record" : "wire_frame100", "size", bytes, "bytes");
    std::fprintf(stderr, "(check %llu)\n", static_cast<unsigned long long>(check));
    return 0;
}
