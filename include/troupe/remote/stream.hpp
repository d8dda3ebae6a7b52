#pragma once
/// \file
/// remote_stream<T>: the caller's end of a stream that a generator in another process actor
/// yields (portal::open_stream). Items arrive in order, none is dropped, and the producer never
/// runs further ahead than the stream's window: the caller grants credit as it consumes, so a
/// slow consumer slows its producer and memory stays flat, while other dialogs on the same
/// connection keep flowing.
///
///     auto s = portal.open_stream(&numbers::count, 100);
///     while (std::optional<int> n = co_await s.next()) { ... }   // inside an actor
///     for (int n : s) { ... }                                    // elsewhere: blocking

#include <troupe/core/errors.hpp>
#include <troupe/core/future.hpp>
#include <troupe/remote/detail/call.hpp>
#include <troupe/remote/detail/channel.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace troupe {

/// How many items a stream's producer may send ahead of its consumer, unless the stream is
/// opened with a troupe::stream_window. Small items are sent faster the larger it is (the
/// consumer grants credit every half window: a round trip between the processes); the consumer
/// buffers up to that many decoded items.
inline constexpr std::uint32_t default_stream_window = 4096;

/// The window of one stream (portal::open_stream): at most `items` items travel ahead of the
/// consumer, at least 1.
struct stream_window {
    std::uint32_t items = default_stream_window;
};

namespace remote::detail {

/// The caller's side of a stream dialog: items queue here (at most the window) until next()
/// takes them. next() runs on the consumer's thread, the rest on the I/O thread.
template <class T>
class stream_sink final : public reply_sink {
public:
    stream_sink(std::shared_ptr<peer> to, std::uint32_t window)
        : peer_(std::move(to)), in_(window, [this](std::uint32_t n) { grant_credit(*peer_, dialog_, n); }) {}

    void bound(std::uint64_t dialog) override { dialog_ = dialog; }
    /// Decoded here, on the I/O thread: an item that does not decode ends the dialog (the
    /// runtime cancels the producer and fails the stream with the decode error).
    void yielded(std::span<const std::byte> item) override { in_.push(wire::decode<T>(item)); }
    void returned(std::span<const std::byte>) override { in_.end(nullptr); }
    void failed(std::exception_ptr e) noexcept override { in_.end(std::move(e)); }

    future<std::optional<T>> next() { return in_.next(); }

    /// Cancels the producer if the stream has not ended.
    void close() {
        if (!in_.ended()) {
            cancel_call(*peer_, dialog_, "the consumer closed the stream");
        }
    }

private:
    std::shared_ptr<peer> peer_;
    std::uint64_t dialog_ = 0;
    inbound<T> in_;
};

}  // namespace remote::detail

/// The consumer's end of a stream from another process actor. Move-only; destroying (or
/// close()) it before the stream has ended cancels the producer.
template <class T>
class remote_stream {
public:
    remote_stream() = default;
    remote_stream(remote_stream&&) noexcept = default;
    remote_stream& operator=(remote_stream&& o) noexcept {
        if (this != &o) {
            close();
            sink_ = std::move(o.sink_);
        }
        return *this;
    }
    ~remote_stream() { close(); }

    /// The next item, or nullopt once the producer has ended; its error (a remote_actor_error,
    /// actor_dead if the process went away) once, in place of an item. `co_await` it inside an
    /// actor, get() it elsewhere. One next() at a time.
    future<std::optional<T>> next() { return sink().next(); }
    /// Stops the stream early: the producer is cancelled. Idempotent.
    void close() noexcept {
        if (sink_) {
            try {
                sink_->close();
            } catch (...) {
                // the connection is gone: so is the producer
            }
            sink_.reset();
        }
    }

    /// A blocking input iterator, for range-for outside actors.
    class iterator {
    public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(remote_stream* s) : stream_(s) { advance(); }
        const T& operator*() const { return *current_; }
        iterator& operator++() {
            advance();
            return *this;
        }
        void operator++(int) { advance(); }
        bool operator==(std::default_sentinel_t) const noexcept { return !current_; }

    private:
        void advance() { current_ = stream_->next().get(); }
        remote_stream* stream_ = nullptr;
        std::optional<T> current_;
    };
    /// Blocks for the first item.
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() const noexcept { return {}; }

    /// For the runtime.
    explicit remote_stream(std::shared_ptr<remote::detail::stream_sink<T>> sink) : sink_(std::move(sink)) {}

private:
    remote::detail::stream_sink<T>& sink() {
        if (!sink_) {
            throw error("this troupe::remote_stream is empty or closed");
        }
        return *sink_;
    }
    std::shared_ptr<remote::detail::stream_sink<T>> sink_;
};

}  // namespace troupe
