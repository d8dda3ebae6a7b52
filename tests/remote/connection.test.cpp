#include "remote/connection.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>
#include <troupe/wire/errors.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "remote/remote_support.hpp"

// A connection over a socket pair: the handshake, messages both ways and from many threads,
// coalesced writes, closing three ways, and bad input from a raw peer, which closes that
// connection only, with one warning line.

namespace {

using namespace remote_test;
using troupe_test::eventually;
using troupe_test::log_capture;
using troupe_test::small_system;

TEST(connection, the_handshake_opens_both_sides) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    ASSERT_TRUE(p.open());
    EXPECT_EQ(p.a->peer(), (hello_of("b", "2")));
    EXPECT_EQ(p.b->peer().name, "a");
    EXPECT_EQ(p.a->version(), 1u);
    EXPECT_TRUE(p.a->is_open());
    EXPECT_EQ(p.a->describe(), "connection to b#2@4121");
    EXPECT_EQ(p.b->describe(), "connection to a#1@4121");
    EXPECT_EQ(p.a_events->events(), std::vector<std::string>{"open b"});
}

TEST(connection, describes_the_peer_by_descriptor_before_its_hello) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto [one, two] = socket_pair(io);
    const int fd = one.native_handle();
    auto c = connection::make(io, std::move(one), options_for("a"), std::make_shared<recorder>());
    EXPECT_EQ(c->describe(), "connection on descriptor " + std::to_string(fd));
}

TEST(connection, messages_go_both_ways_in_order) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    for (std::uint64_t i = 0; i < 500; ++i) {
        ASSERT_TRUE(p.a->send(7, item(i)));
        ASSERT_TRUE(p.b->send(9, item(1000 + i)));
    }
    ASSERT_TRUE(p.b->send(3, msg::start{"f", {std::byte{1}}, 4}));
    ASSERT_TRUE(p.b_events->wait_for_messages(500));
    ASSERT_TRUE(p.a_events->wait_for_messages(501));
    const auto at_b = p.b_events->messages();
    const auto at_a = p.a_events->messages();
    for (std::uint64_t i = 0; i < 500; ++i) {
        EXPECT_EQ(at_b[i].dialog, 7u);
        EXPECT_EQ(number_of(at_b[i]), i);
        EXPECT_EQ(at_a[i].dialog, 9u);
        EXPECT_EQ(number_of(at_a[i]), 1000 + i);
    }
    EXPECT_EQ(at_a[500], (wire::message{3, msg::start{"f", {std::byte{1}}, 4}}));
}

TEST(connection, sends_from_four_threads_all_arrive_once_in_each_threads_order) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    constexpr std::uint64_t threads = 4;
    constexpr std::uint64_t each = 2500;
    std::vector<std::thread> senders;
    for (std::uint64_t t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {
            for (std::uint64_t i = 0; i < each; ++i) {
                EXPECT_TRUE(p.a->send(t + 1, item(i)));
            }
        });
    }
    for (auto& s : senders) {
        s.join();
    }
    ASSERT_TRUE(p.b_events->wait_for_messages(threads * each));
    std::map<std::uint64_t, std::uint64_t> next;
    for (const auto& m : p.b_events->messages()) {
        ASSERT_GE(m.dialog, 1u);
        ASSERT_LE(m.dialog, threads);
        ASSERT_EQ(number_of(m), next[m.dialog]++) << "dialog " << m.dialog;
    }
    for (std::uint64_t t = 1; t <= threads; ++t) {
        EXPECT_EQ(next[t], each);
    }
    const auto stats = p.a->stats();
    EXPECT_EQ(stats.frames_sent, threads * each + 1);  // and the hello
    EXPECT_EQ(p.b->stats().frames_received, threads * each + 1);
}

TEST(connection, frames_sent_while_a_write_is_pending_go_in_one_write) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    ASSERT_TRUE(p.open());
    const auto before = p.a->stats().writes;
    {
        io_hold hold(io);
        for (std::uint64_t i = 0; i < 1000; ++i) {
            ASSERT_TRUE(p.a->send(1, item(i)));
        }
        EXPECT_GT(p.a->stats().bytes_pending, 1000u);
    }
    ASSERT_TRUE(p.b_events->wait_for_messages(1000));
    // The first send wrote itself (the peer's hello had been heard); the 999 others, one write.
    EXPECT_EQ(p.a->stats().writes, before + 2);
    // The write's completion may run after b has read it all.
    EXPECT_TRUE(troupe_test::eventually([&] { return p.a->stats().bytes_pending == 0; }));
}

TEST(connection, a_send_after_hearing_from_the_peer_is_written_by_the_sender_and_a_burst_is_not) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    ASSERT_TRUE(p.open());  // a has read b's hello
    const auto before = p.a->stats().writes;
    {
        io_hold hold(io);  // the I/O thread can write nothing meanwhile
        ASSERT_TRUE(p.a->send(1, item(1)));
        EXPECT_EQ(p.a->stats().writes, before + 1);
        EXPECT_EQ(p.a->stats().bytes_pending, 0u);
        // Nothing heard since: this one waits for the I/O thread.
        ASSERT_TRUE(p.a->send(1, item(2)));
        EXPECT_EQ(p.a->stats().writes, before + 1);
        EXPECT_GT(p.a->stats().bytes_pending, 0u);
    }
    ASSERT_TRUE(p.b_events->wait_for_messages(2));
    EXPECT_EQ(p.a->stats().writes, before + 2);
    const auto got = p.b_events->messages();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(number_of(got[0]), 1u);
    EXPECT_EQ(number_of(got[1]), 2u);
}

TEST(connection, what_the_sender_could_not_write_itself_the_io_thread_writes_after_it) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    ASSERT_TRUE(p.open());
    // Larger than a socket pair's buffer: the sender's own write can only be partial.
    std::vector<std::byte> big(std::size_t{4} << 20);
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::byte>(i * 7 + i / 4096);
    }
    const auto before = p.a->stats();
    {
        io_hold hold(io);
        ASSERT_TRUE(p.a->send(1, msg::yield{big}));
        const auto now = p.a->stats();
        EXPECT_EQ(now.writes, before.writes + 1);
        EXPECT_GT(now.bytes_written, before.bytes_written);
        EXPECT_LT(now.bytes_written - before.bytes_written, big.size());
        ASSERT_TRUE(p.a->send(1, item(5)));  // behind the rest of the big one
    }
    ASSERT_TRUE(p.b_events->wait_for_messages(2));
    const auto got = p.b_events->messages();
    EXPECT_EQ(std::get<msg::yield>(got[0].body).value, big);
    EXPECT_EQ(number_of(got[1]), 5u);
}

TEST(connection, frames_sent_before_start_follow_the_hello_in_the_first_write) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto [one, two] = socket_pair(io);
    auto a_events = std::make_shared<recorder>();
    auto b_events = std::make_shared<recorder>();
    auto a = connection::make(io, std::move(one), options_for("a"), a_events);
    auto b = connection::make(io, std::move(two), options_for("b"), b_events);
    for (std::uint64_t i = 0; i < 100; ++i) {
        ASSERT_TRUE(a->send(1, item(i)));
    }
    a->start();
    b->start();
    ASSERT_TRUE(b_events->wait_for_messages(100));
    EXPECT_EQ(a->stats().writes, 1u);
    EXPECT_EQ(a->stats().frames_sent, 101u);
}

TEST(connection, a_graceful_close_delivers_everything_sent_before_it) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    for (std::uint64_t i = 0; i < 2000; ++i) {
        ASSERT_TRUE(p.a->send(1, item(i)));
    }
    p.a->close("done");
    EXPECT_FALSE(p.a->send(1, item(0)));
    ASSERT_TRUE(p.a_events->closed.wait());
    ASSERT_TRUE(p.b_events->closed.wait());
    EXPECT_EQ(p.a_events->closes(), std::vector<std::string>{"done"});
    EXPECT_EQ(p.b_events->closes(), std::vector<std::string>{"closed by the peer"});
    EXPECT_EQ(p.b_events->messages_when_closed(), 2000u);
    const auto got = p.b_events->messages();
    ASSERT_EQ(got.size(), 2000u);
    EXPECT_EQ(number_of(got.back()), 1999u);
    EXPECT_FALSE(p.a->is_open());
    EXPECT_FALSE(p.b->is_open());
    EXPECT_FALSE(p.b->send(1, item(0)));
}

TEST(connection, a_graceful_close_shuts_the_send_side_after_the_last_frame) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->send(0, hello_of("raw"));
    ASSERT_TRUE(r.events->opened.wait());
    for (std::uint64_t i = 0; i < 100; ++i) {
        ASSERT_TRUE(r.c->send(1, item(i)));
    }
    r.c->close("done");
    const auto bytes = r.peer->read_to_end();  // ends when the connection shuts its side down
    troupe::remote::detail::session s(hello_of("raw"));
    s.feed(bytes);
    std::vector<wire::message> got;
    while (auto e = s.next()) {
        if (auto* m = std::get_if<wire::message>(&*e)) {
            got.push_back(std::move(*m));
        }
    }
    ASSERT_EQ(got.size(), 100u);
    EXPECT_EQ(number_of(got.back()), 99u);
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->closes(), std::vector<std::string>{"done"});
}

TEST(connection, a_graceful_close_gives_up_on_a_peer_that_does_not_read) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto options = options_for("here");
    options.linger = std::chrono::milliseconds(50);
    raw_pair r(io, options);
    r.peer->send(0, hello_of("raw"));
    ASSERT_TRUE(r.events->opened.wait());
    const msg::yield big{std::vector<std::byte>(1 << 20)};
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(r.c->send(1, big));  // far more than the socket buffers hold
    }
    r.c->close("done");
    ASSERT_TRUE(r.events->closed.wait());
    const auto closes = r.events->closes();
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_EQ(closes[0].rfind("the peer did not take the last ", 0), 0u) << closes[0];
    EXPECT_NE(closes[0].find(" bytes within 50 ms of the close"), std::string::npos) << closes[0];
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

TEST(connection, a_sender_that_waits_for_room_stays_within_the_bound) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->send(0, hello_of("raw"));
    ASSERT_TRUE(r.events->opened.wait());
    // The peer never reads: once the socket buffers are full, the queue only grows, and the
    // sender must end up waiting in wait_queued_below, with at most the bound (plus one frame)
    // queued.
    constexpr std::size_t bound = 64 * 1024;
    const msg::yield frame{std::vector<std::byte>(1000)};
    std::atomic<std::size_t> most{0};
    std::atomic<bool> waiting{false};
    std::size_t sent = 0;
    std::thread sender([&] {
        while (r.c->send(1, frame)) {
            ++sent;
            most.store(std::max(most.load(), r.c->queued()));
            if (r.c->queued() > bound) {
                waiting.store(true);
                if (!r.c->wait_queued_below(bound / 2)) {
                    return;  // ended while waiting
                }
                waiting.store(false);
            }
        }
    });
    EXPECT_TRUE(eventually([&] { return waiting.load() && r.c->queued() > bound; }));
    r.c->abort("enough");
    sender.join();
    EXPECT_GT(sent, 0u);
    EXPECT_LE(most.load(), bound + 1100) << "the queue never held more than the bound and one frame";
}

TEST(connection, abort_ends_at_once_and_the_peer_sees_the_end) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    ASSERT_TRUE(p.open());
    p.a->abort("enough");
    p.a->abort("again");
    p.a->close("and again");
    ASSERT_TRUE(p.a_events->closed.wait());
    ASSERT_TRUE(p.b_events->closed.wait());
    EXPECT_EQ(p.a_events->events(), (std::vector<std::string>{"open b", "closed: enough"}));
    EXPECT_EQ(p.b_events->events(), (std::vector<std::string>{"open a", "closed: closed by the peer"}));
    EXPECT_FALSE(p.a->send(1, item(1)));
}

TEST(connection, abort_before_the_handshake_calls_on_closed_instead_of_on_open) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.c->abort("not now");
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), std::vector<std::string>{"closed: not now"});
}

TEST(connection, the_peer_closing_is_one_on_closed_and_no_warning) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->send(0, hello_of("raw"));
    ASSERT_TRUE(r.events->opened.wait());
    r.peer->close();
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), (std::vector<std::string>{"open raw", "closed: closed by the peer"}));
    EXPECT_EQ(logs.lines_starting("info "),
              std::vector<std::string>{"info connection to raw#1@4121 closed: closed by the peer"});
    EXPECT_TRUE(logs.lines_starting("warning ").empty());
}

TEST(connection, the_peer_closing_before_its_hello_is_on_closed_alone) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->close();
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), std::vector<std::string>{"closed: closed by the peer"});
}

TEST(connection, a_silent_peer_is_closed_after_the_handshake_timeout) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto options = options_for("here");
    options.handshake_timeout = std::chrono::milliseconds(50);
    raw_pair r(io, options);
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), std::vector<std::string>{"closed: no hello from the peer within 50 ms"});
    const auto warnings = logs.lines_starting("warning ");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0].rfind("warning connection on descriptor ", 0), 0u) << warnings[0];
    EXPECT_NE(warnings[0].find(" closed: no hello from the peer within 50 ms"), std::string::npos) << warnings[0];
}

TEST(connection, garbage_closes_that_connection_only_with_one_warning) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair healthy(io);
    ASSERT_TRUE(healthy.open());
    raw_pair r(io);
    const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    r.peer->write(std::vector<std::byte>(reinterpret_cast<const std::byte*>(http.data()),
                                         reinterpret_cast<const std::byte*>(http.data()) + http.size()));
    ASSERT_TRUE(r.events->closed.wait());
    const std::string why = "a frame of 1195725856 bytes is larger than the maximum of 16777216";
    EXPECT_EQ(r.events->events(), std::vector<std::string>{"closed: " + why});
    const auto warnings = logs.lines_starting("warning ");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find(" closed: " + why), std::string::npos) << warnings[0];
    EXPECT_TRUE(r.peer->read_to_end().size() > 0);  // the hello came, then the end

    ASSERT_TRUE(healthy.a->send(1, item(42)));
    ASSERT_TRUE(healthy.b_events->wait_for_messages(1));
    EXPECT_EQ(number_of(healthy.b_events->messages()[0]), 42u);
    EXPECT_TRUE(healthy.a->is_open());
}

TEST(connection, an_oversized_length_after_the_hello_closes_with_the_limit) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto options = options_for("here");
    options.max_frame = 1024;
    raw_pair r(io, options);
    r.peer->send(0, hello_of("donny", "2"));
    r.peer->write({std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0x90}});
    ASSERT_TRUE(r.events->closed.wait());
    const std::string line =
        "warning connection to donny#2@4121 closed: a frame of 4294967295 bytes is larger than the maximum of 1024";
    EXPECT_EQ(logs.lines_starting("warning "), std::vector<std::string>{line});
    EXPECT_EQ(r.events->events(),
              (std::vector<std::string>{"open donny",
                                        "closed: a frame of 4294967295 bytes is larger than the maximum of 1024"}));
}

TEST(connection, versions_that_do_not_meet_close_before_on_open) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    auto newer = hello_of("newer");
    newer.min_version = 2;
    newer.version = 3;
    r.peer->send(0, newer);
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(),
              std::vector<std::string>{"closed: no common protocol version (here 1..1, peer 2..3)"});
}

TEST(connection, unknown_kinds_are_ignored) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->send(0, hello_of("newer"));
    wire::frame_writer w;
    w.write(std::vector<std::byte>{std::byte{0x93}, std::byte{0x4d}, std::byte{0x05}, std::byte{0x90}});
    r.peer->write(std::vector<std::byte>(w.pending().begin(), w.pending().end()));
    r.peer->send(5, msg::stop{});
    ASSERT_TRUE(r.events->wait_for_messages(1));
    EXPECT_EQ(r.events->messages()[0], (wire::message{5, msg::stop{}}));
    EXPECT_EQ(r.c->stats().ignored, 1u);
    EXPECT_TRUE(r.c->is_open());
}

TEST(connection, a_frame_larger_than_the_peer_accepts_is_refused_and_nothing_else_changes) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto small = options_for("b", "2");
    small.max_frame = 64;
    connected_pair p(io, options_for("a"), small);
    ASSERT_TRUE(p.open());
    EXPECT_THROW((void)p.a->send(1, msg::yield{std::vector<std::byte>(100)}), troupe::wire::frame_error);
    ASSERT_TRUE(p.a->send(1, item(5)));
    ASSERT_TRUE(p.b_events->wait_for_messages(1));
    EXPECT_EQ(number_of(p.b_events->messages()[0]), 5u);
}

TEST(connection, send_payload_and_send_with_carry_messages_encoded_elsewhere) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair p(io);
    std::vector<std::byte> payload;
    wire::encode_message(4, msg::credit{16}, payload);
    ASSERT_TRUE(p.a->send_payload(payload));
    ASSERT_TRUE(p.a->send_with([](std::vector<std::byte>& out) { wire::encode_message(4, msg::stop{}, out); }));
    EXPECT_THROW((void)p.a->send_with([](std::vector<std::byte>&) { throw std::runtime_error("encoder failed"); }),
                 std::runtime_error);
    ASSERT_TRUE(p.b_events->wait_for_messages(2));
    EXPECT_EQ(p.b_events->messages(), (std::vector<wire::message>{{4, msg::credit{16}}, {4, msg::stop{}}}));
}

TEST(connection, a_handler_that_throws_aborts_its_connection) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    struct thrower final : connection_handler {
        void on_open(connection&) override {}
        void on_message(connection&, wire::message&&) override { throw std::runtime_error("bad handler"); }
        void on_closed(connection&, const std::string& reason) override {
            why = reason;
            closed.open();
        }
        std::string why;
        troupe_test::gate closed;
    };
    auto h = std::make_shared<thrower>();
    auto [one, two] = socket_pair(io);
    auto a = connection::make(io, std::move(one), options_for("a"), h);
    auto b_events = std::make_shared<recorder>();
    auto b = connection::make(io, std::move(two), options_for("b"), b_events);
    a->start();
    b->start();
    ASSERT_TRUE(b->send(1, msg::stop{}));
    ASSERT_TRUE(h->closed.wait());
    EXPECT_EQ(h->why, "its handler threw: bad handler");
    EXPECT_EQ(logs.lines_starting("error ").size(), 1u);
    ASSERT_TRUE(b_events->closed.wait());
}

TEST(connection, a_connection_whose_handler_is_gone_ends_without_calling_it) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto [one, two] = socket_pair(io);
    auto gone = std::make_shared<recorder>();
    auto a = connection::make(io, std::move(one), options_for("a"), gone);
    auto b_events = std::make_shared<recorder>();
    auto b = connection::make(io, std::move(two), options_for("b"), b_events);
    gone.reset();
    a->start();
    b->start();
    ASSERT_TRUE(b_events->closed.wait());
    EXPECT_EQ(b_events->events(), (std::vector<std::string>{"open a", "closed: closed by the peer"}));
}

TEST(connection, adopt_fd_takes_a_socketpair_end) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    auto a_events = std::make_shared<recorder>();
    auto b_events = std::make_shared<recorder>();
    auto a = connection::adopt_fd(io, fds[0], options_for("a"), a_events);
    auto b = connection::adopt_fd(io, fds[1], options_for("b"), b_events);
    EXPECT_EQ(::fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    a->start();
    b->start();
    ASSERT_TRUE(a->send(2, item(3)));
    ASSERT_TRUE(b_events->wait_for_messages(1));
    EXPECT_EQ(number_of(b_events->messages()[0]), 3u);
}

TEST(connection, adopt_fd_refuses_what_is_not_a_connected_stream_socket) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    ::close(pipe_fds[1]);
    try {
        (void)connection::adopt_fd(io, pipe_fds[0], options_for("a"), std::make_shared<recorder>());
        ADD_FAILURE() << "a pipe was adopted";
    } catch (const troupe::error& e) {
        EXPECT_EQ(std::string(e.what()), "descriptor " + std::to_string(pipe_fds[0]) +
                                             " cannot carry a connection: Socket operation on non-socket");
    }
    EXPECT_EQ(::fcntl(pipe_fds[0], F_GETFD), -1) << "the descriptor was closed";
    const int unconnected = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_THROW((void)connection::adopt_fd(io, unconnected, options_for("a"), std::make_shared<recorder>()),
                 troupe::error);
}

TEST(connection, live_connections_are_freed_when_their_system_ends) {
    std::weak_ptr<connection> a;
    std::weak_ptr<connection> b;
    auto a_events = std::make_shared<recorder>();
    {
        troupe::system sys(small_system());
        auto& io = sys.service<troupe::io_service>();
        connected_pair p(io);
        ASSERT_TRUE(p.open());
        a_events = p.a_events;
        a = p.a;
        b = p.b;
        EXPECT_TRUE(p.a->send(1, item(1)));
    }
    EXPECT_TRUE(a.expired());
    EXPECT_TRUE(b.expired());
}

}  // namespace
