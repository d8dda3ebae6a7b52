// bench_remote: streaming small items over a connection, against a bare floor.
//   bench_remote [n]   n yields (a uint64 each, 12 to 20 bytes a frame) one way over a socket pair
// Scenarios, each the best of 3 rounds:
//   remote_stream      troupe: connection A (one system) sends from the main thread, connection
//                      B (a second system, its own I/O thread) receives, decodes and checks
//                      each item; the sender pauses while more than 1 MiB is queued (as credit
//                      would make it)
//   floor_batched      no framework: a thread encodes the same frames into a frame_writer and
//                      write()s them 64 KiB at a time; another read()s into a frame_reader and
//                      decodes each message and item
//   floor_per_frame    the same, one write() per frame (what coalescing avoids), n/10 items
// Prints `scenario metric value unit` lines: items/s, and for remote_stream writes per frame.

#include "remote/connection.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/system.hpp>
#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../common/measure.hpp"

namespace {

namespace wire = troupe::wire;
namespace msg = troupe::wire::msg;
using troupe::remote::detail::connection;
using troupe::remote::detail::connection_handler;
using troupe::remote::detail::connection_options;

std::pair<int, int> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::runtime_error("socketpair failed");
    }
    return {fds[0], fds[1]};
}

/// The item i as the sender encodes it: reusing the yield's buffer, so no allocation per item.
void set_item(msg::yield& y, std::uint64_t i) {
    y.value.clear();
    wire::encode(i, y.value);
}

/// Checks that items come in order and says when the last one came.
class counter final : public connection_handler {
public:
    explicit counter(std::uint64_t n) : n_(n) {}
    void on_open(connection&) override { opened_.set_value(); }
    void on_message(connection&, wire::message&& m) override {
        const auto* y = std::get_if<msg::yield>(&m.body);
        if (y == nullptr || wire::decode<std::uint64_t>(y->value) != next_) {
            std::fprintf(stderr, "bench_remote: item %llu out of order\n", static_cast<unsigned long long>(next_));
            std::abort();
        }
        if (++next_ == n_) {
            done_.set_value();
        }
    }
    void on_closed(connection&, const std::string&) override {}
    std::future<void> opened() { return opened_.get_future(); }
    std::future<void> done() { return done_.get_future(); }

private:
    std::uint64_t n_;
    std::uint64_t next_ = 0;
    std::promise<void> opened_;
    std::promise<void> done_;
};

struct quiet final : connection_handler {
    void on_open(connection&) override {}
    void on_message(connection&, wire::message&&) override {}
    void on_closed(connection&, const std::string&) override {}
};

troupe::system_options one_worker() {
    troupe::system_options o;
    o.scheduler.workers = 1;
    return o;
}

void remote_stream(std::uint64_t n) {
    double best = 1e300;
    double writes_per_frame = 0;
    for (int round = 0; round < 3; ++round) {
        troupe::system sender_sys(one_worker());
        troupe::system receiver_sys(one_worker());
        auto& sender_io = sender_sys.service<troupe::io_service>();
        auto& receiver_io = receiver_sys.service<troupe::io_service>();
        const auto [one, two] = socket_pair();
        const asio::generic::stream_protocol unix_stream(AF_UNIX, SOCK_STREAM);
        auto sender_events = std::make_shared<quiet>();
        auto receiver_events = std::make_shared<counter>(n);
        connection_options options;
        options.hello.name = "bench";
        auto a = connection::make(sender_io, connection::socket(sender_io.context(), unix_stream, one), options,
                                  sender_events);
        auto b = connection::make(receiver_io, connection::socket(receiver_io.context(), unix_stream, two), options,
                                  receiver_events);
        auto opened = receiver_events->opened();
        auto done = receiver_events->done();
        a->start();
        b->start();
        opened.wait();
        const auto before = a->stats();
        msg::yield y;
        const auto start = bench::clock_type::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            set_item(y, i);
            a->send(1, y);
            if ((i & 255) == 255 && a->stats().bytes_pending > (1u << 20)) {
                while (a->stats().bytes_pending > (256u << 10)) {
                    std::this_thread::yield();
                }
            }
        }
        done.wait();
        const double t = bench::seconds_since(start);
        const auto after = a->stats();
        if (t < best) {
            best = t;
            writes_per_frame = static_cast<double>(after.writes - before.writes) /
                               static_cast<double>(after.frames_sent - before.frames_sent);
        }
        a->abort("done");
        b->abort("done");
    }
    bench::report("remote_stream", "rate", static_cast<double>(n) / best, "items/s");
    bench::report("remote_stream", "writes", writes_per_frame, "writes/frame");
}

/// Writes all of `bytes` to a blocking descriptor.
void write_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const auto w = ::write(fd, bytes.data(), bytes.size());
        if (w <= 0) {
            throw std::runtime_error("write failed");
        }
        bytes = bytes.subspan(static_cast<std::size_t>(w));
    }
}

/// Reads and decodes n items from `fd`, checking their order.
void receive_floor(int fd, std::uint64_t n) {
    wire::frame_reader in;
    std::uint64_t next = 0;
    while (next < n) {
        const auto room = in.prepare(64 * 1024);
        const auto r = ::read(fd, room.data(), room.size());
        if (r <= 0) {
            throw std::runtime_error("read failed");
        }
        in.commit(static_cast<std::size_t>(r));
        while (auto frame = in.next()) {
            const wire::message m = wire::decode_message(*frame);
            if (wire::decode<std::uint64_t>(std::get<msg::yield>(m.body).value) != next) {
                throw std::runtime_error("out of order");
            }
            ++next;
        }
    }
}

void floor(std::uint64_t n, bool per_frame) {
    double best = 1e300;
    for (int round = 0; round < 3; ++round) {
        const auto [one, two] = socket_pair();
        const auto start = bench::clock_type::now();
        std::thread receiver([fd = two, n] { receive_floor(fd, n); });
        wire::frame_writer out;
        msg::yield y;
        for (std::uint64_t i = 0; i < n; ++i) {
            set_item(y, i);
            wire::write_message(out, 1, y);
            if (per_frame || out.pending().size() >= 64 * 1024) {
                write_all(one, out.pending());
                out.clear();
            }
        }
        write_all(one, out.pending());
        receiver.join();
        best = std::min(best, bench::seconds_since(start));
        ::close(one);
        ::close(two);
    }
    bench::report(per_frame ? "floor_per_frame" : "floor_batched", "rate", static_cast<double>(n) / best, "items/s");
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 2'000'000;
    if (n <= 0) {
        std::fprintf(stderr, "usage: bench_remote [items]\n");
        return 2;
    }
    const auto items = static_cast<std::uint64_t>(n);
    remote_stream(items);
    floor(items, false);
    floor(std::max<std::uint64_t>(items / 10, 1), true);
    return 0;
}
