#pragma once
/// \file
/// served_call: a call this process serves for another process actor. It runs in an actor of
/// its own (a call actor), so that a coroutine may await, a stream may wait for credit, and a
/// cancel is a stop of that actor.

#include <troupe/core/future.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/remote/detail/channel.hpp>
#include <troupe/remote/detail/invoke.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace troupe {
class io_service;
class system;
}  // namespace troupe

namespace troupe::remote::detail {

class peer;

class served_call final : public call_context, public callee_channel, public std::enable_shared_from_this<served_call> {
public:
    served_call(std::weak_ptr<peer> from, std::uint64_t dialog, const exposed_function& fn, std::vector<std::byte> args,
                std::uint32_t credit);

    /// Runs the call in a call actor of `sys`.
    void begin(troupe::system& sys);
    /// Asks it to end: its actor stops, cancelling its awaits.
    void cancel();
    /// Adds stream credit (from the caller).
    void add_credit(std::uint32_t items);

    /// A context's item from the caller, or its stop.
    void received(std::span<const std::byte> item) { inbound_.push(std::vector<std::byte>(item.begin(), item.end())); }
    void caller_stopped() { inbound_.end(nullptr); }

    std::span<const std::byte> arguments() const noexcept override { return args_; }
    task<void> yield(std::vector<std::byte> item) override;
    bool try_yield(std::vector<std::byte>& item) override;
    task<void> take_a_turn() override;
    callee_channel& channel() noexcept override { return *this; }

    void send_started(std::vector<std::byte> value) override;
    task<void> send(std::vector<std::byte> item) override { return yield(std::move(item)); }
    future<std::optional<std::vector<std::byte>>> receive() override { return inbound_.next(); }
    void close_sending() override;

    /// The call actor's work: invoke, then send the dialog's final message.
    task<void> run();
    std::uint64_t dialog() const noexcept { return dialog_; }

private:
    std::weak_ptr<peer> from_;
    const std::uint64_t dialog_;
    const exposed_function& fn_;
    std::vector<std::byte> args_;

    std::mutex lock_;
    std::uint32_t credit_;
    std::optional<promise<void>> credit_waiter_;  // shared by every task waiting for credit
    bool cancelled_ = false;
    bool stopped_sending_ = false;
    ref<actor> actor_;
    encoded_inbound inbound_;           // a context's items from the caller
    troupe::io_service* io_ = nullptr;  // set by begin(): completes take_a_turn()
};

}  // namespace troupe::remote::detail
