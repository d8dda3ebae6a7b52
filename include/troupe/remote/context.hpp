#pragma once
/// \file
/// Bidirectional contexts (tractor's open_context): a call whose two sides both send and
/// receive while it runs, each within the credit the other grants (so neither can flood the
/// other, and nothing is dropped), and either of which may stop sending.
///
/// The callee is an exposed coroutine whose first parameter is `troupe::stream_context&`:
///
///     troupe::task<int> echo(troupe::stream_context& ctx, int limit) {
///         co_await ctx.started(std::string("ready"));            // the caller's open_context returns
///         int n = 0;
///         while (std::optional<std::string> s = co_await ctx.receive<std::string>()) {
///             co_await ctx.send(*s);
///             ++n;
///         }
///         co_return n;                                             // the caller's result()
///     }
///     TROUPE_EXPOSE(svc, echo);
///
/// The caller, inside an actor:
///
///     auto ctx = co_await portal.open_context(&svc::echo, 10);
///     std::string hello = ctx.first<std::string>();
///     co_await ctx.send(std::string("ping"));
///     std::optional<std::string> back = co_await ctx.receive<std::string>();
///     ctx.close();                                  // stop sending: the callee's receive() ends
///     int n = co_await ctx.result();

#include <troupe/async/task.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/remote/detail/call.hpp>
#include <troupe/remote/detail/channel.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace troupe {

/// How many items either side of a context may send ahead of the other's consumption.
inline constexpr std::uint32_t default_context_window = 256;

namespace remote::detail {
/// The callee's side of a context's dialog.
class callee_channel : public context_channel {
public:
    /// Sends the started message with `value` (once).
    virtual void send_started(std::vector<std::byte> value) = 0;
};
}  // namespace remote::detail

/// The callee's side of a context, given to an exposed coroutine as its first parameter.
class stream_context {
public:
    /// Tells the caller the context runs, with a first value: its open_context returns.
    /// Call it once, before sending.
    template <class T>
    requires wire::serialisable<T> task<void> started(T value) {
        started_check();
        channel_->send_started(wire::encode(value));
        co_return;
    }
    /// As above, without a value.
    task<void> started() {
        started_check();
        channel_->send_started({});
        co_return;
    }
    /// Sends `value` to the caller; suspends while the caller has no room for it.
    template <class T>
    requires wire::serialisable<T> task<void> send(T value) {
        if (!started_) {
            throw error("troupe::stream_context: send() before started()");
        }
        co_await channel_->send(wire::encode(value));
    }
    /// The caller's next item as a T, or nullopt once the caller has stopped sending.
    template <class T>
    requires wire::serialisable<T> task<std::optional<T>> receive() {
        std::optional<std::vector<std::byte>> item = co_await channel_->receive();
        if (!item) {
            co_return std::nullopt;
        }
        co_return wire::decode<T>(*item);
    }
    /// Sends nothing more: the caller's receive() ends once it has what was sent.
    void close() { channel_->close_sending(); }

    /// For the runtime.
    explicit stream_context(remote::detail::callee_channel& channel) noexcept : channel_(&channel) {}

private:
    void started_check() {
        if (started_) {
            throw error("troupe::stream_context: started() twice");
        }
        started_ = true;
    }
    remote::detail::callee_channel* channel_;
    bool started_ = false;
};

namespace remote::detail {

/// The caller's side of a context's dialog.
template <class R>
class context_sink final : public reply_sink, public context_channel {
public:
    context_sink(std::shared_ptr<peer> to, std::uint32_t window)
        : peer_(std::move(to)), in_(window, [this](std::uint32_t n) { grant_credit(*peer_, dialog_, n); }) {}

    void bound(std::uint64_t dialog) override { dialog_ = dialog; }
    void started(std::span<const std::byte> value, std::uint32_t credit) override {
        out_.add(credit);
        first_.assign(value.begin(), value.end());
        started_.set_value();
    }
    void credited(std::uint32_t items) override { out_.add(items); }
    void yielded(std::span<const std::byte> item) override {
        in_.push(std::vector<std::byte>(item.begin(), item.end()));
    }
    void stopped() override { in_.end(nullptr); }
    void returned(std::span<const std::byte> value) override {
        finish(nullptr);
        if constexpr (std::is_void_v<R>) {
            (void)value;
            result_.set_value();
        } else {
            result_.set_value(wire::decode<R>(value));
        }
    }
    void failed(std::exception_ptr e) noexcept override {
        finish(e);
        if (!result_.satisfied()) {
            result_.set_exception(e);
        }
    }

    task<void> send(std::vector<std::byte> item) override {
        while (std::optional<future<void>> more = out_.take()) {
            co_await *more;
        }
        send_item(std::move(item));
    }
    future<std::optional<std::vector<std::byte>>> receive() override { return in_.next(); }
    void close_sending() override {
        bool first = false;
        {
            const std::lock_guard guard(lock_);
            first = !closed_;
            closed_ = true;
        }
        if (first) {
            send_stop();
        }
    }

    future<void> started_future() const { return started_.get_future(); }
    future<R> result() const { return result_.get_future(); }
    std::span<const std::byte> first() const noexcept { return first_; }
    void cancel() { cancel_call(*peer_, dialog_, "the caller cancelled the context"); }
    bool done() const { return result_.satisfied(); }

private:
    void finish(std::exception_ptr e) noexcept {
        in_.end(e);
        out_.close(e ? e : std::make_exception_ptr(error("the context has ended: nothing more can be sent")));
        if (!started_.satisfied()) {
            started_.set_exception(e ? e : std::make_exception_ptr(error("the context ended before it started")));
        }
    }
    void send_item(std::vector<std::byte> item);
    void send_stop();

    std::shared_ptr<peer> peer_;
    std::uint64_t dialog_ = 0;
    encoded_inbound in_;
    outbound_credit out_;
    std::mutex lock_;
    bool closed_ = false;
    std::vector<std::byte> first_;
    promise<void> started_;
    promise<R> result_;
};

/// Sends a yield / a stop on the caller's dialog (peer.cpp).
void send_yield(peer& to, std::uint64_t dialog, std::vector<std::byte> item);
void send_stop(peer& to, std::uint64_t dialog);

template <class R>
void context_sink<R>::send_item(std::vector<std::byte> item) {
    send_yield(*peer_, dialog_, std::move(item));
}
template <class R>
void context_sink<R>::send_stop() {
    remote::detail::send_stop(*peer_, dialog_);
}

}  // namespace remote::detail

/// The caller's side of a context (portal::open_context), once the callee has started. Move-only;
/// destroying it before the callee's result has come cancels the callee.
template <class R>
class remote_context {
public:
    remote_context() = default;
    remote_context(remote_context&&) noexcept = default;
    remote_context& operator=(remote_context&&) noexcept = default;
    ~remote_context() {
        if (sink_ && !sink_->done()) {
            try {
                sink_->cancel();
            } catch (...) {
                // the connection is gone: so is the callee
            }
        }
    }

    /// The value the callee started with, as a T.
    template <class T>
    T first() const {
        return wire::decode<T>(sink().first());
    }
    /// Sends `value` to the callee; suspends while the callee has no room for it.
    template <class T>
    requires wire::serialisable<T> task<void> send(T value) { co_await sink().send(wire::encode(value)); }
    /// The callee's next item as a T, or nullopt once it has stopped sending (or returned).
    template <class T>
    requires wire::serialisable<T> task<std::optional<T>> receive() {
        std::optional<std::vector<std::byte>> item = co_await sink().receive();
        if (!item) {
            co_return std::nullopt;
        }
        co_return wire::decode<T>(*item);
    }
    /// Sends nothing more: the callee's receive() ends once it has what was sent.
    void close() { sink().close_sending(); }
    /// The callee's result (its error as a remote_actor_error).
    future<R> result() const { return sink().result(); }
    /// Cancels the callee: result() then fails with troupe::cancelled (unless it had ended).
    void cancel() { sink().cancel(); }

    /// For the runtime.
    explicit remote_context(std::shared_ptr<remote::detail::context_sink<R>> sink) : sink_(std::move(sink)) {}

private:
    remote::detail::context_sink<R>& sink() const {
        if (!sink_) {
            throw error("this troupe::remote_context is empty");
        }
        return *sink_;
    }
    std::shared_ptr<remote::detail::context_sink<R>> sink_;
};

}  // namespace troupe
