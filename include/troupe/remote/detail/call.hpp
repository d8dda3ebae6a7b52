#pragma once
/// \file
/// The caller's side of a dialog, for the typed templates of portal.hpp: a sink that the
/// connection's messages for the dialog go to, and the few calls of the runtime that start,
/// cancel and feed one.

#include <troupe/core/future.hpp>
#include <troupe/remote/errors.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace troupe::remote::detail {

class peer;

/// Where the messages of one outgoing dialog go. Every call comes from the I/O thread, one at a
/// time; after returned() or failed(), none comes.
class reply_sink {
public:
    virtual ~reply_sink() = default;
    /// The dialog's id, before its start message is sent.
    virtual void bound(std::uint64_t dialog) { (void)dialog; }
    /// The callee has started (a context), with its first value and the credit it grants the
    /// caller's own yields.
    virtual void started(std::span<const std::byte> value, std::uint32_t credit) {
        (void)value;
        (void)credit;
    }
    /// The callee grants the caller `items` more yields (a context).
    virtual void credited(std::uint32_t items) { (void)items; }
    /// A stream item (yield). Throwing (the item does not decode) ends the dialog: the runtime
    /// cancels the call and the sink gets failed().
    virtual void yielded(std::span<const std::byte> item) { (void)item; }
    /// The callee's side of the stream has ended (stop); returned() follows.
    virtual void stopped() {}
    /// The call ended with a value (empty for void). Throwing (it does not decode) makes the
    /// runtime call failed() with that error.
    virtual void returned(std::span<const std::byte> value) = 0;
    /// The call ended without a value: a remote_actor_error, troupe::cancelled (after a cancel
    /// it asked for), troupe::actor_dead (the connection closed first), a decode error.
    virtual void failed(std::exception_ptr e) noexcept = 0;
    /// What the caller waited for, for the error when the connection closes first
    /// ("... closed before <this>").
    virtual const char* awaited() const noexcept { return "the call ended"; }
    /// The callee's error reply, from the process actor `who`: by default failed() with a
    /// remote_actor_error.
    virtual void failed_there(const std::string& who, std::string type, std::string message,
                              std::string backtrace) noexcept {
        try {
            failed(std::make_exception_ptr(
                remote_actor_error(who, std::move(type), std::move(message), std::move(backtrace))));
        } catch (...) {  // out of memory making the error
            failed(std::current_exception());
        }
    }
};

/// A call that completes a promise<R> with its decoded value.
template <class R>
class value_sink final : public reply_sink {
public:
    explicit value_sink(std::string what) : what_(std::move(what)) {}
    future<R> get_future() const { return promise_.get_future(); }
    void returned(std::span<const std::byte> value) override {
        if constexpr (std::is_void_v<R>) {
            (void)value;
            promise_.set_value();
        } else {
            promise_.set_value(wire::decode<R>(value));
        }
    }
    void failed(std::exception_ptr e) noexcept override {
        if (!promise_.satisfied()) {
            promise_.set_exception(std::move(e));
        }
    }

private:
    std::string what_;
    promise<R> promise_;
};

/// Starts the call of `target` ("ns.name") on `to` with encoded `args`: its messages go to
/// `sink`. Returns the dialog's id. If the connection has closed, `sink` fails at once with
/// troupe::actor_dead.
std::uint64_t start_call(peer& to, std::string target, std::vector<std::byte> args, std::shared_ptr<reply_sink> sink,
                         std::uint32_t credit = 0);
/// Asks the callee to cancel the call on `dialog` (its sink then ends with troupe::cancelled,
/// or with what the call ended with first).
void cancel_call(peer& to, std::uint64_t dialog, std::string reason);
/// Grants the callee `items` more stream items on `dialog`.
void grant_credit(peer& to, std::uint64_t dialog, std::uint32_t items);
/// The full name of the process actor at the other end ("donny#2@4121"), once known.
std::string peer_name(const peer& p);

}  // namespace troupe::remote::detail
