#pragma once
/// \file
/// peer: this process's side of one connection to another process actor. It keeps the dialogs
/// on the connection: the calls this side started (each with a reply_sink) and the calls it
/// serves (each run by a call actor). Dialog ids are split by parity so that the two sides never
/// pick the same one: the side that accepted or spawned uses even ids, the side that connected
/// odd ones; dialog 0 is the connection itself (hello, spawn, actor cancel).

#include <troupe/core/detail/endpoint.hpp>
#include <troupe/core/future.hpp>
#include <troupe/remote/actor.hpp>
#include <troupe/remote/detail/call.hpp>
#include <troupe/remote/detail/invoke.hpp>
#include <troupe/wire/protocol.hpp>

#include "remote/connection.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace troupe::remote::detail {

class process_runtime;
class served_call;

class peer final : public connection_handler, public std::enable_shared_from_this<peer> {
public:
    /// `connected`: this side opened the connection (odd dialog ids); `from_parent`: the peer is
    /// this process's parent (it may cancel this process actor, and its leaving ends it).
    peer(process_runtime& runtime, bool connected, bool from_parent);
    ~peer() override;

    /// Binds the connection (once, before it starts).
    void attach(std::shared_ptr<connection> c) { connection_ = std::move(c); }
    /// Sends a message on `dialog`; false if the connection has closed.
    template <wire::protocol_message M>
    bool send(std::uint64_t dialog, const M& m) {
        return connection_->send(dialog, m);
    }
    /// The most bytes the connection queues for writing before a sender that can wait does:
    /// what keeps a fast sender's memory flat (see make_room).
    static constexpr std::size_t queue_bound = std::size_t{256} << 10;
    /// Blocks the calling thread while the connection has more than queue_bound bytes queued
    /// for writing, until a write has taken them (or the connection ended). Never on the I/O
    /// thread, which does the writing. Cheap when there is room.
    void make_room() {
        if (connection_->queued() > queue_bound) [[unlikely]] {
            connection_->wait_queued_below(queue_bound / 2);
        }
    }
    /// Closes the connection once what was sent has been written.
    void close(std::string reason) { connection_->close(std::move(reason)); }

    /// Starts a call on a fresh dialog (see start_call in call.hpp).
    std::uint64_t start_call(std::string target, std::vector<std::byte> args, std::shared_ptr<reply_sink> sink,
                             std::uint32_t credit);
    /// Starts the spawn of an actor there (troupe/remote/actor.hpp): a dialog that lasts as long
    /// as the actor.
    std::uint64_t start_spawn(wire::msg::spawn_actor s, std::shared_ptr<reply_sink> sink);
    /// Opens a dialog that only receives (the reply to an ask of an actor there). Returns its
    /// id, or 0 if the connection has closed (then `sink` has failed with troupe::actor_dead).
    std::uint64_t open_dialog(std::shared_ptr<reply_sink> sink);
    /// Ends an outgoing dialog from this side: its sink fails with `e` (unless it has ended).
    void abandon_dialog(std::uint64_t dialog, std::exception_ptr e);
    void cancel_call(std::uint64_t dialog, std::string reason);
    void grant_credit(std::uint64_t dialog, std::uint32_t items);

    /// Asks the peer process actor to end (dialog 0 cancel). The future completes on its
    /// acknowledgement or when the connection closes. Idempotent.
    future<void> cancel_actor();
    /// Completes once the handshake is done (or fails with why the connection closed first).
    future<void> opened() const { return opened_.get_future(); }
    /// Completes once the connection has closed.
    future<void> closed() const { return closed_.get_future(); }
    /// The peer's full name once the handshake is done ("donny#2@4121"), else `fallback_`.
    std::string name() const;
    /// Sets the name to use before the handshake (a child's expected name).
    void set_expected_name(std::string name);
    /// Why the connection closed (empty while it is open).
    std::string close_reason() const;

    /// Cancels every call this side serves on the connection, and stops every actor spawned
    /// over it (the process actor is ending, or the connection has closed).
    void cancel_served(const std::string& why);
    /// How many calls this side serves on the connection, and actors it hosts for the peer.
    std::size_t served() const;
    /// A served call has ended (its final message is sent): forget it.
    void served_ended(std::uint64_t dialog);

    void on_open(connection& c) override;
    void on_message(connection& c, wire::message&& m) override;
    void on_closed(connection& c, const std::string& reason) override;

private:
    bool mine(std::uint64_t dialog) const noexcept { return (dialog & 1U) == (connected_ ? 1U : 0U); }
    void on_connection_message(wire::message&& m);
    void on_reply(wire::message&& m);
    void on_request(wire::message&& m);
    void serve(std::uint64_t dialog, wire::msg::start&& s);
    /// Reserves a dialog id for `sink` (calling its bound()); 0 if the connection has closed
    /// (then `sink` has failed with troupe::actor_dead, saying it could not `what`).
    std::uint64_t open(const std::shared_ptr<reply_sink>& sink, const std::string& what);
    /// An actor spawned here from the other side, on its spawn dialog.
    struct hosted_actor {
        troupe::detail::counted_ptr<troupe::detail::actor_endpoint> actor;
        const exposed_actor* type = nullptr;
    };
    /// The callee's side of an actor spawned from there (remote_actor.cpp).
    void host(std::uint64_t dialog, wire::msg::spawn_actor&& s);
    void on_hosted(wire::message&& m);
    void deliver_post(const hosted_actor& hosted, wire::msg::post&& p);
    /// Stops every actor spawned over this connection.
    void stop_hosted();
    /// Ends an outgoing dialog: removes and returns its sink (null if unknown).
    std::shared_ptr<reply_sink> take_call(std::uint64_t dialog);
    /// Completes cancel_actor()'s future (once).
    void acknowledge_cancel();

    process_runtime& runtime_;
    const bool connected_;
    const bool from_parent_;
    std::shared_ptr<connection> connection_;

    mutable std::mutex lock_;
    std::uint64_t next_dialog_;
    std::unordered_map<std::uint64_t, std::shared_ptr<reply_sink>> calls_;
    std::unordered_map<std::uint64_t, std::shared_ptr<served_call>> served_;
    std::unordered_map<std::uint64_t, hosted_actor> hosted_;
    std::string name_;
    std::string close_reason_;
    bool closed_flag_ = false;
    bool cancel_sent_ = false;
    bool cancel_done_ = false;

    promise<void> opened_;
    promise<void> closed_;
    promise<void> cancel_acked_;
};

}  // namespace troupe::remote::detail
