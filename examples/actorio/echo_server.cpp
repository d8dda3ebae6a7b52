// Actorio's "Handling external blocking events": an echo server whose client actors read their
// connection through an input task. Actorio uses an aiohttp websocket; here it is TCP on
// 127.0.0.1 with asio's sockets. An acceptor actor watches the listening socket and starts one
// client actor per connection; each client watches its socket (troupe::watch_readable) and
// echoes what it reads. Its handler runs only when the actor is not busy with anything else.
// main connects a few clients, checks the echoes, and shuts everything down.
//
// asio provides the sockets; troupe's reactor does the waiting (the io_context is never run):
// an actor's input must arrive as one of its messages, which asio's completion handlers, run
// on the io_context's threads, would not be.

#include <asio.hpp>
#include <troupe/async/input.hpp>
#include <troupe/troupe.hpp>

#include <array>
#include <chrono>
#include <iostream>
#include <string>
#include <syncstream>
#include <utility>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;
using asio::ip::tcp;

/// Told to main: the acceptor started a client actor for a new connection.
struct connection_accepted {
    std::string client;
};
/// Told to main: a client actor ended.
struct client_ended {
    std::string client;
    std::string reason;
};

/// One connection (Actorio's Client): echoes what it reads; stops at the end of the stream.
class client : public troupe::actor {
public:
    explicit client(tcp::socket socket) : socket_(std::move(socket)) {}

    // The input task's handler: called each time the socket is readable, never while another
    // handler of this actor runs. One read per call: if more is waiting, it is called again.
    void on_readable() {
        std::array<char, 1024> buffer;
        asio::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);  // readable: no wait
        if (ec) {
            self().stop();  // end of stream, or an error (Actorio: raise EndMainLoop())
            return;
        }
        asio::write(socket_, asio::buffer(buffer.data(), n), ec);  // if we receive text, send it back
        if (ec) {
            self().stop();
        }
    }

protected:
    void on_start() override {
        // Actorio: self.register_input_task(self.websocket.receive, self.handle_websocket_event)
        troupe::watch_readable(troupe::ref{this}, socket_.native_handle(), &client::on_readable);
    }

private:
    tcp::socket socket_;
};

/// Accepts connections and starts a client actor for each; hears of their ends as their parent.
class acceptor : public troupe::actor {
public:
    acceptor(tcp::acceptor listener, troupe::address observer)
        : listener_(std::move(listener)), observer_(std::move(observer)) {}

    void on_connection() {
        asio::error_code ec;
        tcp::socket socket = listener_.accept(ec);  // would_block if the peer gave up meanwhile
        if (!ec) {
            auto c = self().spawn<client>(std::move(socket));
            observer_.tell(connection_accepted{c.name()});
        }
    }
    void handle(troupe::child_stopped c) { observer_.tell(client_ended{c.name, c.reason.describe()}); }

protected:
    void on_start() override {
        listener_.non_blocking(true);
        troupe::watch_readable(troupe::ref{this}, listener_.native_handle(), &acceptor::on_connection);
    }

private:
    tcp::acceptor listener_;
    troupe::address observer_;
};

using example::check;

int main() {
    asio::io_context io;  // gives sockets an executor; outlives the system and so the actors
    troupe::system sys;
    troupe::inbox events(sys);

    const auto loopback = asio::ip::make_address("127.0.0.1");
    tcp::acceptor listener(io, tcp::endpoint(loopback, 0));  // port 0: the system picks a free one
    const tcp::endpoint server_at(loopback, listener.local_endpoint().port());
    auto server = sys.spawn<acceptor>(std::move(listener), events.address());
    std::cout << "echo server on " << server_at << '\n';

    constexpr int clients = 3;
    std::vector<tcp::socket> connections;
    for (int i = 0; i < clients; ++i) {
        connections.emplace_back(io).connect(server_at);
    }
    // Interleave the clients' lines, so that several client actors are busy at once.
    for (int line = 0; line < 2; ++line) {
        for (int i = 0; i < clients; ++i) {
            const std::string text = "client " + std::to_string(i) + " line " + std::to_string(line) + "\n";
            asio::write(connections[i], asio::buffer(text));
            std::string echo(text.size(), '\0');
            asio::read(connections[i], asio::buffer(echo));
            std::cout << "echoed: " << echo;
            check(echo == text, "the echo of client " + std::to_string(i) + " matches");
        }
    }
    for (auto& c : connections) {
        c.shutdown(tcp::socket::shutdown_both);
        c.close();
    }

    int accepted = 0;
    int ended_normally = 0;
    for (int i = 0; i < clients; ++i) {
        events.receive<connection_accepted>(10s);
        ++accepted;
        ended_normally += events.receive<client_ended>(10s).reason == "normal" ? 1 : 0;
    }
    check(accepted == clients, "the acceptor started one client actor per connection");
    check(ended_normally == clients, "each client actor stopped itself at the end of its stream");

    check(server.stop(), "the acceptor stops (its input task ends with it)");
    return example::exit_status();
}
