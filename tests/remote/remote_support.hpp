#pragma once
// Helpers shared by the connection and listener tests: a handler that records what it is told,
// socket pairs, and a raw peer that writes whatever bytes a test wants. Nothing here sleeps:
// every wait has a deadline scaled by TROUPE_TEST_TIMEFACTOR (core/test_support.hpp).

#include "remote/connection.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>
#include <troupe/wire/protocol.hpp>

#include <asio/post.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/test_support.hpp"

namespace remote_test {

namespace wire = troupe::wire;
namespace msg = troupe::wire::msg;
using troupe::remote::detail::connection;
using troupe::remote::detail::connection_handler;
using troupe::remote::detail::connection_options;
using troupe_test::patience;

inline msg::hello hello_of(std::string name, std::string id = "1", std::int64_t pid = 4121) {
    msg::hello h;
    h.name = std::move(name);
    h.id = std::move(id);
    h.pid = pid;
    return h;
}

inline connection_options options_for(std::string name, std::string id = "1") {
    connection_options o;
    o.hello = hello_of(std::move(name), std::move(id));
    o.handshake_timeout = troupe_test::scaled(std::chrono::seconds(10));
    return o;
}

/// A yield carrying `n`, encoded.
inline msg::yield item(std::uint64_t n) {
    return msg::yield{wire::encode(n)};
}

/// The number a yield from item() carries.
inline std::uint64_t number_of(const wire::message& m) {
    return wire::decode<std::uint64_t>(std::get<msg::yield>(m.body).value);
}

/// Records every call; waits for them with deadlines.
class recorder final : public connection_handler {
public:
    void on_open(connection& c) override {
        {
            std::lock_guard lock(mutex_);
            events_.push_back("open " + c.peer().name);
            if (c.peer().name.empty()) {
                events_.back().pop_back();
            }
        }
        if (then_on_open) {
            then_on_open(c);
        }
        opened.open();
    }
    void on_message(connection&, wire::message&& m) override {
        std::lock_guard lock(mutex_);
        messages_.push_back(std::move(m));
        changed_.notify_all();
    }
    void on_closed(connection&, const std::string& reason) override {
        {
            std::lock_guard lock(mutex_);
            events_.push_back("closed: " + reason);
            closes_.push_back(reason);
            messages_when_closed_ = messages_.size();
        }
        closed.open();
    }

    /// Waits until `n` messages have come; false (and a failure) if they do not in time.
    bool wait_for_messages(std::size_t n) {
        std::unique_lock lock(mutex_);
        if (changed_.wait_for(lock, patience(), [&] { return messages_.size() >= n; })) {
            return true;
        }
        ADD_FAILURE() << "only " << messages_.size() << " of " << n << " messages came in time";
        return false;
    }
    std::vector<wire::message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    /// "open <peer name>" and "closed: <reason>", in order.
    std::vector<std::string> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::vector<std::string> closes() const {
        std::lock_guard lock(mutex_);
        return closes_;
    }
    /// How many messages had come when on_closed was called.
    std::size_t messages_when_closed() const {
        std::lock_guard lock(mutex_);
        return messages_when_closed_;
    }

    troupe_test::gate opened;
    troupe_test::gate closed;
    /// Called at the end of on_open, if set (before the connection is started).
    std::function<void(connection&)> then_on_open;

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<wire::message> messages_;
    std::vector<std::string> events_;
    std::vector<std::string> closes_;
    std::size_t messages_when_closed_ = 0;
};

/// Two connected Unix stream sockets, on `io`'s context.
inline std::pair<connection::socket, connection::socket> socket_pair(troupe::io_service& io) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::runtime_error("socketpair failed");
    }
    const asio::generic::stream_protocol unix_stream(AF_UNIX, SOCK_STREAM);
    return {connection::socket(io.context(), unix_stream, fds[0]),
            connection::socket(io.context(), unix_stream, fds[1])};
}

/// Two connections on the two ends of a socket pair, each with a recorder, started.
struct connected_pair {
    connected_pair(troupe::io_service& io, connection_options a_options = options_for("a", "1"),
                   connection_options b_options = options_for("b", "2")) {
        auto [one, two] = socket_pair(io);
        a = connection::make(io, std::move(one), std::move(a_options), a_events);
        b = connection::make(io, std::move(two), std::move(b_options), b_events);
        a->start();
        b->start();
    }
    /// True once both sides are open.
    bool open() const { return a_events->opened.wait() && b_events->opened.wait(); }

    std::shared_ptr<recorder> a_events = std::make_shared<recorder>();
    std::shared_ptr<recorder> b_events = std::make_shared<recorder>();
    std::shared_ptr<connection> a;
    std::shared_ptr<connection> b;
};

/// The peer of a connection that a test drives by hand: a blocking socket end that writes raw
/// bytes and reads what the connection sent.
class raw_peer {
public:
    explicit raw_peer(int fd) : fd_(fd) {}
    ~raw_peer() { close(); }
    raw_peer(const raw_peer&) = delete;
    raw_peer& operator=(const raw_peer&) = delete;

    void write(const std::vector<std::byte>& bytes) const {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                return;  // the connection closed: what it does then is what the test checks
            }
            done += static_cast<std::size_t>(n);
        }
    }
    template <class M>
    void send(std::uint64_t dialog, const M& m) const {
        wire::frame_writer w;
        wire::write_message(w, dialog, m);
        write(std::vector<std::byte>(w.pending().begin(), w.pending().end()));
    }
    /// The next message the connection sent, or nullopt once it closed its end (or the deadline
    /// passed).
    std::optional<wire::message> next_message() {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(patience().count() / 1000);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (;;) {
            if (const auto frame = reader_.next()) {
                return wire::decode_message(*frame);
            }
            std::byte buffer[4096];
            const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (n <= 0) {
                return std::nullopt;
            }
            reader_.feed(std::span<const std::byte>(buffer, static_cast<std::size_t>(n)));
        }
    }
    /// Reads until the connection closes its end (or the deadline passes); returns the bytes.
    std::vector<std::byte> read_to_end() const {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(patience().count() / 1000);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        std::vector<std::byte> out;
        std::byte buffer[4096];
        for (;;) {
            const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (n <= 0) {
                return out;
            }
            out.insert(out.end(), buffer, buffer + n);
        }
    }
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
    wire::frame_reader reader_;  // what next_message() read ahead
};

/// A connection started on one end of a socket pair, and a raw peer on the other.
struct raw_pair {
    explicit raw_pair(troupe::io_service& io, connection_options options = options_for("here")) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            throw std::runtime_error("socketpair failed");
        }
        peer = std::make_unique<raw_peer>(fds[1]);
        c = connection::make(
            io, connection::socket(io.context(), asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]),
            std::move(options), events);
        c->start();
    }

    std::shared_ptr<recorder> events = std::make_shared<recorder>();
    std::unique_ptr<raw_peer> peer;
    std::shared_ptr<connection> c;
};

/// Holds the I/O thread in a handler until release() (or the deadline): whatever is posted
/// meanwhile runs after, in one go.
class io_hold {
public:
    explicit io_hold(troupe::io_service& io) {
        auto held = std::make_shared<std::promise<void>>();
        auto entered = held->get_future();
        asio::post(io.context(), [held, go = release_.get_future().share()] {
            held->set_value();
            (void)go.wait_for(patience());
        });
        EXPECT_EQ(entered.wait_for(patience()), std::future_status::ready);
    }
    ~io_hold() { release(); }
    io_hold(const io_hold&) = delete;
    io_hold& operator=(const io_hold&) = delete;
    void release() {
        std::call_once(once_, [this] { release_.set_value(); });
    }

private:
    std::promise<void> release_;
    std::once_flag once_;
};

}  // namespace remote_test
