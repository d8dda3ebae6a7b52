#include <troupe/remote/authentication.hpp>

#include <troupe/async/io_service.hpp>
#include <troupe/core/system.hpp>

#include "remote/connect.hpp"
#include "remote/connection.hpp"
#include "remote/listener.hpp"
#include "remote/proof.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "remote/remote_support.hpp"

// Connections that prove a shared secret: over TCP (where it is demanded when a secret is
// set), over socket pairs told to demand it (so that a raw peer can play every wrong move), and
// over Unix sockets (where it is not demanded). A refusal is one warning line on the refusing
// side, and touches no other connection.

namespace {

using namespace remote_test;
using troupe::remote::address;
using troupe::remote::authentication;
using troupe::remote::shared_secret;
using troupe::remote::detail::listener;
using troupe::remote::detail::proof;
using troupe::remote::detail::proof_demand;
using troupe_test::log_capture;
using troupe_test::small_system;
using lines = std::vector<std::string>;

const shared_secret right_secret("correct horse battery staple");
const shared_secret wrong_secret("incorrect horse battery staple");

connection_options with_secret(std::string name, std::string id, std::optional<shared_secret> secret,
                               proof_demand demand = proof_demand::tcp_with_secret) {
    auto o = options_for(std::move(name), std::move(id));
    o.secret = std::move(secret);
    o.demand = demand;
    return o;
}

/// The lines of `logs` at warning level that come from refusals.
lines refusals(const log_capture& logs) {
    return logs.lines_starting("warning troupe: connection ");
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

/// A TCP listener on loopback whose accepted sockets become connections with `options`, and a
/// client connection to it with its own.
struct tcp_pair {
    tcp_pair(troupe::io_service& io, connection_options server_options, connection_options client_options)
        : l(listener::open(io, address::parse("tcp:127.0.0.1:0"), [this, &io, server_options](connection::socket s) {
              auto o = server_options;
              o.accepted = true;
              auto c = connection::make(io, std::move(s), std::move(o), server_events);
              std::lock_guard lock(mutex);
              if (!server) {
                  server = c;
                  c->start();
                  accepted.open();
              }
          })) {
        client = connection::make(io, troupe::remote::detail::connect(io, l.local_address()), std::move(client_options),
                                  client_events);
        client->start();
        EXPECT_TRUE(accepted.wait());
    }
    std::shared_ptr<connection> accepted_one() {
        std::lock_guard lock(mutex);
        return server;
    }

    std::shared_ptr<recorder> server_events = std::make_shared<recorder>();
    std::shared_ptr<recorder> client_events = std::make_shared<recorder>();
    std::mutex mutex;
    std::shared_ptr<connection> server;
    std::shared_ptr<connection> client;
    troupe_test::gate accepted;
    listener l;
};

/// Sends one item each way and checks it arrives.
void exchange(connection& a, recorder& a_events, connection& b, recorder& b_events) {
    ASSERT_TRUE(a.send(1, item(11)));
    ASSERT_TRUE(b_events.wait_for_messages(1));
    EXPECT_EQ(number_of(b_events.messages().back()), 11u);
    ASSERT_TRUE(b.send(2, item(22)));
    ASSERT_TRUE(a_events.wait_for_messages(1));
    EXPECT_EQ(number_of(a_events.messages().back()), 22u);
}

TEST(authentication, from_environment_takes_the_secret_and_stays_secure) {
    ::setenv("TROUPE_SECRET", "correct horse battery staple", 1);
    ::unsetenv("TROUPE_SECRET_FILE");
    const authentication a = authentication::from_environment();
    ::unsetenv("TROUPE_SECRET");
    ASSERT_TRUE(a.secret.has_value());
    EXPECT_EQ(a.secret->reveal().size(), 28u);
    EXPECT_FALSE(a.insecure);
    EXPECT_FALSE(authentication::from_environment().secret.has_value());
}

TEST(authentication, the_same_secret_opens_a_tcp_connection) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    tcp_pair p(io, with_secret("server", "1", right_secret), with_secret("client", "2", right_secret));
    ASSERT_TRUE(p.client_events->opened.wait());
    ASSERT_TRUE(p.server_events->opened.wait());
    const auto server = p.accepted_one();
    EXPECT_TRUE(p.client->peer().auth);
    EXPECT_TRUE(server->peer().auth);
    exchange(*p.client, *p.client_events, *server, *p.server_events);
    EXPECT_EQ(p.client->stats().frames_sent, 4u);  // hello, challenge, response, one item
    EXPECT_TRUE(logs.lines_starting("warning ").empty());
}

TEST(authentication, sends_before_the_proof_wait_for_it_and_keep_their_order) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto [one, two] = socket_pair(io);
    auto a_events = std::make_shared<recorder>();
    auto b_events = std::make_shared<recorder>();
    auto a = connection::make(io, std::move(one), with_secret("a", "1", right_secret, proof_demand::always), a_events);
    auto b = connection::make(io, std::move(two), with_secret("b", "2", right_secret, proof_demand::always), b_events);
    for (std::uint64_t i = 0; i < 100; ++i) {
        ASSERT_TRUE(a->send(1, item(i)));
    }
    EXPECT_GT(a->stats().bytes_pending, 0u);
    a->start();
    b->start();
    ASSERT_TRUE(b_events->wait_for_messages(100));
    const auto got = b_events->messages();
    for (std::uint64_t i = 0; i < 100; ++i) {
        EXPECT_EQ(number_of(got[i]), i);
    }
    EXPECT_EQ(b_events->events(), lines{"open a"});
}

TEST(authentication, a_different_secret_is_refused_on_both_sides_with_one_line_each) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    connected_pair healthy(io);
    ASSERT_TRUE(healthy.open());
    tcp_pair p(io, with_secret("server", "1", right_secret), with_secret("client", "2", wrong_secret));
    ASSERT_TRUE(p.client_events->closed.wait());
    ASSERT_TRUE(p.server_events->closed.wait());
    const std::string refused = "refused: it did not prove the shared secret (";
    ASSERT_EQ(p.server_events->events().size(), 1u) << "never opened";
    EXPECT_TRUE(starts_with(p.server_events->events()[0], "closed: " + refused)) << p.server_events->events()[0];
    ASSERT_EQ(p.client_events->events().size(), 1u) << "never opened";
    EXPECT_TRUE(starts_with(p.client_events->events()[0], "closed: " + refused)) << p.client_events->events()[0];
    // One line on each side: "from" the client's address on the server, "to" the server's on the client.
    const auto server = p.accepted_one();
    const std::string server_side = "warning troupe: connection from tcp:127.0.0.1:";
    const std::string client_side = "warning troupe: connection to " + p.l.local_address().to_string() + " refused: ";
    const auto lines_seen = refusals(logs);
    ASSERT_EQ(lines_seen.size(), 2u) << ::testing::PrintToString(logs.lines());
    EXPECT_EQ(std::count_if(lines_seen.begin(), lines_seen.end(),
                            [&](const std::string& l) { return starts_with(l, server_side); }),
              1);
    EXPECT_EQ(std::count_if(lines_seen.begin(), lines_seen.end(),
                            [&](const std::string& l) { return starts_with(l, client_side); }),
              1);
    EXPECT_EQ(logs.lines_starting("warning ").size(), 2u);
    // Nothing else is touched.
    exchange(*healthy.a, *healthy.a_events, *healthy.b, *healthy.b_events);
}

TEST(authentication, a_client_without_the_secret_is_refused) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    tcp_pair p(io, with_secret("server", "1", right_secret), with_secret("client", "2", std::nullopt));
    ASSERT_TRUE(p.client_events->closed.wait());
    ASSERT_TRUE(p.server_events->closed.wait());
    EXPECT_EQ(p.client_events->events(), lines{"closed: refused: it demands the shared secret, and none is "
                                               "configured here"});
    ASSERT_EQ(p.server_events->events().size(), 1u);
    EXPECT_TRUE(starts_with(p.server_events->events()[0], "closed: refused: it did not prove the shared secret ("));
    const auto lines_seen = refusals(logs);
    ASSERT_EQ(lines_seen.size(), 2u) << ::testing::PrintToString(logs.lines());
    EXPECT_EQ(std::count(lines_seen.begin(), lines_seen.end(),
                         "warning troupe: connection to " + p.l.local_address().to_string() +
                             " refused: it demands the shared secret, and none is configured here"),
              1);
    EXPECT_EQ(logs.lines_starting("warning ").size(), 2u);
}

TEST(authentication, a_server_without_the_secret_refuses_a_client_that_demands_it) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    tcp_pair p(io, with_secret("server", "1", std::nullopt), with_secret("client", "2", right_secret));
    ASSERT_TRUE(p.client_events->closed.wait());
    ASSERT_TRUE(p.server_events->closed.wait());
    EXPECT_EQ(p.server_events->events(), lines{"closed: refused: it demands the shared secret, and none is "
                                               "configured here"});
    ASSERT_EQ(p.client_events->events().size(), 1u);
    EXPECT_TRUE(starts_with(p.client_events->events()[0], "closed: refused: it did not prove the shared secret ("));
    const auto from = logs.lines_starting("warning troupe: connection from tcp:127.0.0.1:");
    ASSERT_EQ(from.size(), 1u);
    EXPECT_NE(from[0].find(" refused: it demands the shared secret, and none is configured here"), std::string::npos);
    EXPECT_EQ(logs.lines_starting("warning ").size(), 2u);
}

TEST(authentication, tcp_without_secrets_demands_nothing) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    tcp_pair p(io, options_for("server", "1"), options_for("client", "2"));
    ASSERT_TRUE(p.client_events->opened.wait());
    ASSERT_TRUE(p.server_events->opened.wait());
    EXPECT_FALSE(p.client->peer().auth);
    EXPECT_EQ(p.client->stats().frames_sent, 1u);
}

TEST(authentication, unix_socket_connections_are_not_authenticated) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    // Both with the secret, and one with and one without: neither demands it on a Unix socket.
    for (const auto& other : {std::optional<shared_secret>(right_secret), std::optional<shared_secret>()}) {
        connected_pair p(io, with_secret("a", "1", right_secret), with_secret("b", "2", other));
        ASSERT_TRUE(p.open());
        EXPECT_FALSE(p.a->peer().auth);
        EXPECT_FALSE(p.b->peer().auth);
        exchange(*p.a, *p.a_events, *p.b, *p.b_events);
        EXPECT_EQ(p.b->stats().frames_received, 2u);  // the hello and the item: no challenge
    }
}

TEST(authentication, a_peer_that_never_answers_is_refused_when_the_handshake_times_out) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto options = with_secret("here", "1", right_secret, proof_demand::always);
    options.handshake_timeout = std::chrono::milliseconds(50);
    raw_pair r(io, options);
    r.peer->send(0, hello_of("older", "2"));  // a peer that knows nothing of authentication
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(),
              lines{"closed: refused: it did not prove the shared secret (no answer within 50 ms)"});
    const auto warnings = logs.lines_starting("warning ");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_TRUE(starts_with(warnings[0], "warning troupe: connection to descriptor ")) << warnings[0];
    EXPECT_NE(warnings[0].find(" refused: it did not prove the shared secret (no answer within 50 ms)"),
              std::string::npos);
}

TEST(authentication, a_peer_that_answers_with_something_else_is_refused) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", right_secret, proof_demand::always));
    r.peer->send(0, hello_of("older", "2"));
    r.peer->send(1, msg::start{"numbers", {}, 0});
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), lines{"closed: refused: it did not prove the shared secret (start on dialog 1 "
                                        "before the authentication was done)"});
    EXPECT_TRUE(r.events->messages().empty());
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

TEST(authentication, garbage_during_the_authentication_closes) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", right_secret, proof_demand::always));
    auto h = hello_of("raw", "2");
    h.auth = true;
    r.peer->send(0, h);
    const std::string http = "GET / HTTP/1.1\r\n\r\n";
    r.peer->write(std::vector<std::byte>(reinterpret_cast<const std::byte*>(http.data()),
                                         reinterpret_cast<const std::byte*>(http.data()) + http.size()));
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(), lines{"closed: refused: it did not prove the shared secret (a frame of 1195725856 "
                                        "bytes is larger than the maximum of 16777216)"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

/// A raw peer that plays the protocol by hand: reads the connection's hello and challenge.
struct handshake_seen {
    msg::hello hello;
    std::vector<std::byte> nonce;
};

handshake_seen read_hello_and_challenge(raw_peer& peer) {
    handshake_seen seen;
    const auto first = peer.next_message();
    const auto second = peer.next_message();
    EXPECT_TRUE(first && std::holds_alternative<msg::hello>(first->body));
    EXPECT_TRUE(second && std::holds_alternative<msg::auth_challenge>(second->body));
    if (first && second && std::holds_alternative<msg::hello>(first->body) &&
        std::holds_alternative<msg::auth_challenge>(second->body)) {
        seen.hello = std::get<msg::hello>(first->body);
        seen.nonce = std::get<msg::auth_challenge>(second->body).nonce;
    }
    return seen;
}

msg::hello demanding_hello(std::string name, std::string id) {
    auto h = hello_of(std::move(name), std::move(id));
    h.auth = true;
    return h;
}

TEST(authentication, a_raw_peer_that_knows_the_secret_gets_in) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", right_secret, proof_demand::always));
    const auto seen = read_hello_and_challenge(*r.peer);
    EXPECT_TRUE(seen.hello.auth);
    const proof mine(right_secret);
    r.peer->send(0, demanding_hello("mallory", "9"));
    r.peer->send(0, msg::auth_challenge{mine.nonce()});
    r.peer->send(0, msg::auth_response{mine.answer("9", "1", seen.nonce)});
    ASSERT_TRUE(r.events->opened.wait());
    const auto answer = r.peer->next_message();
    ASSERT_TRUE(answer && std::holds_alternative<msg::auth_response>(answer->body));
    EXPECT_TRUE(mine.check("9", "1", seen.nonce, std::get<msg::auth_response>(answer->body).mac));
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, and the port it connected from.
std::pair<int, std::uint16_t> tcp_connect(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);
    sockaddr_in from{};
    socklen_t length = sizeof(from);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&from), &length);
    return {fd, ntohs(from.sin_port)};
}

TEST(authentication, a_wrong_answer_over_tcp_is_one_line_naming_the_peers_address) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto events = std::make_shared<recorder>();
    std::mutex mutex;
    std::shared_ptr<connection> accepted;
    listener l = listener::open(io, address::parse("tcp:127.0.0.1:0"), [&](connection::socket s) {
        auto o = with_secret("here", "1", right_secret);
        o.accepted = true;
        auto c = connection::make(io, std::move(s), std::move(o), events);
        c->start();
        std::lock_guard lock(mutex);
        accepted = std::move(c);
    });
    const auto [fd, port] = tcp_connect(l.local_address().port());
    raw_peer peer(fd);
    const auto seen = read_hello_and_challenge(peer);
    const proof wrong(wrong_secret);
    peer.send(0, demanding_hello("mallory", "9"));
    peer.send(0, msg::auth_challenge{wrong.nonce()});
    peer.send(0, msg::auth_response{wrong.answer("9", "1", seen.nonce)});
    ASSERT_TRUE(events->closed.wait());
    EXPECT_EQ(logs.lines_starting("warning "),
              lines{"warning troupe: connection from tcp:127.0.0.1:" + std::to_string(port) +
                    " refused: it did not prove the shared secret (a wrong answer to the challenge)"});
    EXPECT_EQ(events->events(),
              lines{"closed: refused: it did not prove the shared secret (a wrong answer to the challenge)"});
    // The refused peer may have the answer to its own challenge (each side answers as soon as
    // it is challenged), and nothing more: then the end.
    auto next = peer.next_message();
    if (next.has_value()) {
        EXPECT_TRUE(std::holds_alternative<msg::auth_response>(next->body));
        next = peer.next_message();
    }
    EXPECT_FALSE(next.has_value());
}

TEST(authentication, a_reflected_challenge_is_refused) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", right_secret, proof_demand::always));
    const auto seen = read_hello_and_challenge(*r.peer);
    r.peer->send(0, demanding_hello("mallory", "9"));
    r.peer->send(0, msg::auth_challenge{seen.nonce});  // its own challenge, sent back
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(),
              lines{"closed: refused: it did not prove the shared secret (it sent this side's own challenge back)"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

TEST(authentication, a_peer_with_this_sides_own_id_is_refused) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", right_secret, proof_demand::always));
    r.peer->send(0, demanding_hello("impostor", "1"));
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(),
              lines{"closed: refused: it did not prove the shared secret (it claims this process's own id)"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

TEST(authentication, an_answer_taken_from_another_connection_is_refused) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    // Mallory, without the secret, opens two connections to a victim and makes the victim
    // answer, on the second, the challenge the victim posed on the first.
    raw_pair first(io, with_secret("victim", "1", right_secret, proof_demand::always));
    raw_pair second(io, with_secret("victim", "1", right_secret, proof_demand::always));
    const auto first_seen = read_hello_and_challenge(*first.peer);
    const auto second_seen = read_hello_and_challenge(*second.peer);
    second.peer->send(0, demanding_hello("mallory", "9"));
    second.peer->send(0, msg::auth_challenge{first_seen.nonce});
    const auto victims_answer = second.peer->next_message();
    ASSERT_TRUE(victims_answer && std::holds_alternative<msg::auth_response>(victims_answer->body));
    first.peer->send(0, demanding_hello("mallory", "9"));
    first.peer->send(0, msg::auth_challenge{std::vector<std::byte>(32, std::byte{7})});
    first.peer->send(0, *std::get_if<msg::auth_response>(&victims_answer->body));
    ASSERT_TRUE(first.events->closed.wait());
    EXPECT_EQ(first.events->events(),
              lines{"closed: refused: it did not prove the shared secret (a wrong answer to the challenge)"});
    // And an answer replayed from a connection that did open is worth nothing on a new one.
    const proof knows(right_secret);
    const auto replayed = knows.answer("9", "1", second_seen.nonce);
    raw_pair third(io, with_secret("victim", "1", right_secret, proof_demand::always));
    (void)read_hello_and_challenge(*third.peer);
    third.peer->send(0, demanding_hello("mallory", "9"));
    third.peer->send(0, msg::auth_challenge{knows.nonce()});
    third.peer->send(0, msg::auth_response{replayed});
    ASSERT_TRUE(third.events->closed.wait());
    EXPECT_EQ(third.events->events(),
              lines{"closed: refused: it did not prove the shared secret (a wrong answer to the challenge)"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 2u);
}

TEST(authentication, authentication_messages_after_the_open_close_the_connection) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io);
    r.peer->send(0, hello_of("raw", "2"));
    ASSERT_TRUE(r.events->opened.wait());
    r.peer->send(0, msg::auth_challenge{std::vector<std::byte>(32)});
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->closes(),
              lines{"auth_challenge on dialog 0 outside the authentication (which comes right after the hellos, if "
                    "at all)"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

TEST(authentication, a_side_that_demands_proof_without_a_secret_refuses_everyone) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    raw_pair r(io, with_secret("here", "1", std::nullopt, proof_demand::always));
    r.peer->send(0, hello_of("raw", "2"));
    ASSERT_TRUE(r.events->closed.wait());
    EXPECT_EQ(r.events->events(),
              lines{"closed: refused: this side demands the shared secret, and none is configured here"});
    EXPECT_EQ(logs.lines_starting("warning ").size(), 1u);
}

}  // namespace
