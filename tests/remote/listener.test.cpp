#include "remote/listener.hpp"

#include "remote/connect.hpp"

#include <troupe/async/io_service.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/remote_support.hpp"

// Listening on Unix sockets and TCP, connecting to them, and what goes wrong: a stale socket
// file, an address in use, nothing to connect to.

namespace {

using namespace remote_test;
using troupe::remote::address;
using troupe::remote::detail::listener;
using troupe_test::log_capture;
using troupe_test::small_system;

/// A fresh directory for socket files, removed after the test.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "troupe-remote-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    address socket(const std::string& name) const { return address::unix_socket((path_ / name).string()); }

private:
    std::filesystem::path path_;
};

/// The server side of a test: a listener whose accepted sockets become started connections,
/// each with a recorder of its own. (Listening on a Unix socket that is in use probes it with a
/// connect, so a server may accept sockets that never say hello.)
struct server {
    server(troupe::io_service& io, const address& where)
        : l(listener::open(io, where, [this, &io](connection::socket s) {
              auto events = std::make_shared<recorder>();
              events->then_on_open = [this, weak = std::weak_ptr<recorder>(events)](connection& c) {
                  std::lock_guard lock(mutex);
                  if (!first_open) {
                      first_open = c.shared_from_this();
                      first_open_events = weak.lock();
                      opened.open();
                  }
              };
              auto c = connection::make(io, std::move(s), options_for("server", "1"), events);
              c->start();
              std::lock_guard lock(mutex);
              accepted.emplace_back(std::move(c), std::move(events));  // the connection holds its handler weakly
          })) {}

    /// The first accepted connection to open, and its recorder (waits for it).
    std::pair<std::shared_ptr<connection>, std::shared_ptr<recorder>> open_one() {
        if (!opened.wait()) {
            return {};
        }
        std::lock_guard lock(mutex);
        return {first_open, first_open_events};
    }
    std::size_t accepted_count() {
        std::lock_guard lock(mutex);
        return accepted.size();
    }

    std::mutex mutex;
    std::vector<std::pair<std::shared_ptr<connection>, std::shared_ptr<recorder>>> accepted;
    std::shared_ptr<connection> first_open;
    std::shared_ptr<recorder> first_open_events;
    troupe_test::gate opened;
    listener l;
};

/// Connects to `where` (blocking), starts a client connection and exchanges a message each way.
void exchange(troupe::io_service& io, server& s, const address& where) {
    auto client_events = std::make_shared<recorder>();
    auto client =
        connection::make(io, troupe::remote::detail::connect(io, where), options_for("client", "2"), client_events);
    client->start();
    ASSERT_TRUE(client_events->opened.wait());
    EXPECT_EQ(client->peer().name, "server");
    auto [accepted, events] = s.open_one();
    ASSERT_NE(accepted, nullptr);
    EXPECT_EQ(accepted->peer().name, "client");
    ASSERT_TRUE(client->send(1, item(11)));
    ASSERT_TRUE(events->wait_for_messages(1));
    EXPECT_EQ(number_of(events->messages()[0]), 11u);
    ASSERT_TRUE(accepted->send(1, item(22)));
    ASSERT_TRUE(client_events->wait_for_messages(1));
    EXPECT_EQ(number_of(client_events->messages()[0]), 22u);
    client->close("bye");
    ASSERT_TRUE(events->closed.wait());
    EXPECT_EQ(events->events(), (std::vector<std::string>{"open client", "closed: closed by the peer"}));
    ASSERT_TRUE(client_events->closed.wait());
    EXPECT_EQ(client_events->closes(), std::vector<std::string>{"bye"});
}

std::string listen_failure(troupe::io_service& io, const address& where) {
    try {
        listener l = listener::open(io, where, [](connection::socket) {});
    } catch (const troupe::error& e) {
        return e.what();
    }
    return "no error";
}

TEST(listener, a_unix_socket_carries_connections_and_its_file_goes_with_it) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("a.sock");
    {
        server s(io, where);
        EXPECT_EQ(s.l.local_address(), where);
        EXPECT_TRUE(std::filesystem::is_socket(where.path()));
        exchange(io, s, where);
    }
    EXPECT_FALSE(std::filesystem::exists(where.path()));
}

TEST(listener, tcp_port_0_takes_a_free_port_and_says_which) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server s(io, address::parse("tcp:127.0.0.1:0"));
    const address real = s.l.local_address();
    EXPECT_EQ(real.host(), "127.0.0.1");
    EXPECT_NE(real.port(), 0);
    exchange(io, s, real);
    EXPECT_EQ(s.open_one().first->describe(), "connection to client#2@4121");
}

TEST(listener, tcp_connections_turn_nagle_off) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server s(io, address::parse("tcp:localhost:0"));
    EXPECT_EQ(s.l.local_address().host(), "127.0.0.1");
    auto socket = troupe::remote::detail::connect(io, s.l.local_address());
    const int fd = socket.native_handle();
    auto c = connection::make(io, std::move(socket), options_for("client"), std::make_shared<recorder>());
    int on = 0;
    socklen_t length = sizeof(on);
    ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &length), 0);
    EXPECT_NE(on, 0);
}

TEST(listener, a_stale_socket_file_is_replaced) {
    log_capture logs;
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("stale.sock");
    {
        // A process that bound the path and died: the file stays, nothing listens.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::copy(where.path().begin(), where.path().end(), sa.sun_path);
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)), 0);
        ::close(fd);
        ASSERT_TRUE(std::filesystem::is_socket(where.path()));
    }
    server s(io, where);
    exchange(io, s, where);
    EXPECT_EQ(logs.lines_starting("info troupe::remote: removed"),
              std::vector<std::string>{"info troupe::remote: removed the stale socket file " + where.path()});
}

TEST(listener, an_address_in_use_is_refused_clearly) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("busy.sock");
    server first(io, where);
    EXPECT_EQ(listen_failure(io, where),
              "cannot listen on " + where.to_string() + ": the address is in use (another process listens on it)");
    EXPECT_TRUE(std::filesystem::is_socket(where.path())) << "the first listener's file stays";
    exchange(io, first, where);

    server tcp(io, address::parse("tcp:127.0.0.1:0"));
    EXPECT_EQ(listen_failure(io, tcp.l.local_address()),
              "cannot listen on " + tcp.l.local_address().to_string() + ": the address is in use");
}

TEST(listener, a_path_that_is_not_a_socket_is_left_alone) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("file");
    { std::ofstream(where.path()) << "mine"; }
    EXPECT_EQ(listen_failure(io, where),
              "cannot listen on " + where.to_string() + ": the path exists and is not a socket");
    EXPECT_TRUE(std::filesystem::is_regular_file(where.path()));
    EXPECT_EQ(listen_failure(io, address::unix_socket("/nonexistent-dir/x.sock")),
              "cannot listen on unix:/nonexistent-dir/x.sock: No such file or directory");
}

TEST(listener, a_unix_socket_file_is_private_to_this_user) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("private.sock");
    const mode_t old_mask = ::umask(0);  // the mode must not depend on the umask
    listener l = listener::open(io, where, [](connection::socket) {});
    ::umask(old_mask);
    struct ::stat st {};
    ASSERT_EQ(::lstat(where.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(listener, tcp_beyond_loopback_needs_a_secret_or_an_explicit_opt_in) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    const address anywhere = address::parse("tcp:0.0.0.0:0");
    EXPECT_EQ(listen_failure(io, anywhere),
              "cannot listen on tcp:0.0.0.0:0: TCP beyond loopback needs a shared secret (TROUPE_SECRET or "
              "TROUPE_SECRET_FILE), or an explicit insecure opt-in (authentication::insecure)");
    EXPECT_NE(listen_failure(io, address::parse("tcp:[::]:0")).find("needs a shared secret"), std::string::npos);
    troupe::remote::authentication with_secret;
    with_secret.secret.emplace("correct horse battery staple");
    EXPECT_NO_THROW(listener::open(
        io, anywhere, [](connection::socket) {}, with_secret));
    troupe::remote::authentication insecure;
    insecure.insecure = true;
    EXPECT_NO_THROW(listener::open(
        io, anywhere, [](connection::socket) {}, insecure));
    // Loopback, in any of its spellings, needs neither.
    for (const char* local : {"tcp:127.0.0.1:0", "tcp:127.9.8.7:0", "tcp:localhost:0", "tcp:[::1]:0"}) {
        try {
            listener l = listener::open(io, address::parse(local), [](connection::socket) {});
        } catch (const troupe::error& e) {
            // ::1 may be missing where IPv6 is off; the secret is never the reason.
            EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << local << ": " << e.what();
        }
    }
}

TEST(listener, close_does_not_remove_a_file_another_listener_made) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address where = dir.socket("x.sock");
    listener first = listener::open(io, where, [](connection::socket) {});
    std::filesystem::remove(where.path());  // someone removed it, and a new listener took the path
    listener second = listener::open(io, where, [](connection::socket) {});
    first.close();
    EXPECT_TRUE(std::filesystem::is_socket(where.path()));
    second.close();
    EXPECT_FALSE(std::filesystem::exists(where.path()));
}

TEST(listener, close_from_another_thread_stops_accepting) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    server s(io, address::parse("tcp:127.0.0.1:0"));
    const address where = s.l.local_address();
    std::thread([&] { s.l.close(); }).join();
    auto failed = std::make_shared<std::promise<std::error_code>>();
    auto result = failed->get_future();
    troupe::remote::detail::connect(io, where,
                                    [failed](const std::error_code& ec, connection::socket) { failed->set_value(ec); });
    ASSERT_EQ(result.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(result.get(), asio::error::connection_refused);
    EXPECT_EQ(s.accepted_count(), 0u);
}

TEST(connect, nothing_to_connect_to_is_an_error_code_or_a_clear_exception) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    scratch_dir dir;
    const address missing = dir.socket("missing.sock");
    auto failed = std::make_shared<std::promise<std::error_code>>();
    auto result = failed->get_future();
    troupe::remote::detail::connect(io, missing, [failed](const std::error_code& ec, connection::socket s) {
        EXPECT_FALSE(s.is_open());
        failed->set_value(ec);
    });
    ASSERT_EQ(result.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(result.get().value(), ENOENT);
    try {
        (void)troupe::remote::detail::connect(io, missing);
        ADD_FAILURE() << "connected to nothing";
    } catch (const troupe::error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot connect to " + missing.to_string() + ": No such file or directory");
    }
}

TEST(connect, a_blocking_connect_on_the_io_thread_is_refused) {
    troupe::system sys(small_system());
    auto& io = sys.service<troupe::io_service>();
    auto said = std::make_shared<std::promise<std::string>>();
    auto result = said->get_future();
    asio::post(io.context(), [&io, said] {
        try {
            (void)troupe::remote::detail::connect(io, address::parse("tcp:127.0.0.1:1"));
            said->set_value("connected");
        } catch (const troupe::error& e) {
            said->set_value(e.what());
        }
    });
    ASSERT_EQ(result.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(result.get(), "troupe::remote: a blocking connect on the I/O thread would never finish");
}

}  // namespace
