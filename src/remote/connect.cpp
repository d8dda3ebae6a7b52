// connect: one attempt object per connect, on the I/O thread, holding the socket, the timer
// and the endpoints still to try; each completion holds the attempt.

#include "connect.hpp"

#include <troupe/core/errors.hpp>

#include "endpoint.hpp"

#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <future>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace troupe::remote::detail {

namespace {

class attempt : public std::enable_shared_from_this<attempt> {
public:
    attempt(io_service& io, address where, connect_handler done)
        : context_(io.context()),
          where_(std::move(where)),
          done_(std::move(done)),
          socket_(context_),
          timer_(context_) {}

    /// On the I/O thread.
    void begin(std::chrono::milliseconds timeout) {
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
            if (!ec) {
                self->finish(asio::error::timed_out);
            }
        });
        if (auto e = numeric_endpoint(where_)) {
            candidates_.push_back(*e);
            try_next();
            return;
        }
        resolver_.emplace(context_);
        resolver_->async_resolve(
            where_.host(), std::to_string(where_.port()), asio::ip::tcp::resolver::numeric_service,
            [self = shared_from_this()](const std::error_code& ec, const asio::ip::tcp::resolver::results_type& found) {
                if (self->finished_) {
                    return;
                }
                if (ec) {
                    self->finish(ec);
                    return;
                }
                for (const auto& r : found) {
                    self->candidates_.emplace_back(r.endpoint());
                }
                self->try_next();
            });
    }

private:
    void try_next() {
        if (next_ == candidates_.size()) {
            finish(last_ ? last_ : asio::error::host_not_found);
            return;
        }
        const endpoint& target = candidates_[next_++];
        std::error_code ec;
        socket_.close(ec);
        socket_.open(target.protocol(), ec);
        if (ec) {
            last_ = ec;
            try_next();
            return;
        }
        socket_.async_connect(target, [self = shared_from_this()](const std::error_code& e) {
            if (self->finished_) {
                return;
            }
            if (e) {
                self->last_ = e;
                self->try_next();
                return;
            }
            self->finish({});
        });
    }

    void finish(const std::error_code& ec) {
        if (finished_) {
            return;
        }
        finished_ = true;
        timer_.cancel();
        if (resolver_) {
            resolver_->cancel();
        }
        if (ec) {
            std::error_code ignored;
            socket_.close(ignored);  // a connect in flight completes, aborted, and finds finished_
            done_(ec, connection::socket(context_));
            return;
        }
        done_(ec, std::move(socket_));
    }

    asio::io_context& context_;
    address where_;
    connect_handler done_;
    connection::socket socket_;
    asio::steady_timer timer_;
    std::optional<asio::ip::tcp::resolver> resolver_;
    std::vector<endpoint> candidates_;
    std::size_t next_ = 0;
    std::error_code last_;
    bool finished_ = false;
};

}  // namespace

void connect(io_service& io, const address& where, connect_handler done, std::chrono::milliseconds timeout) {
    auto a = std::make_shared<attempt>(io, where, std::move(done));
    asio::post(io.context(), [a, timeout] { a->begin(timeout); });
}

connection::socket connect(io_service& io, const address& where, std::chrono::milliseconds timeout) {
    if (io.on_io_thread()) {
        throw error("troupe::remote: a blocking connect on the I/O thread would never finish");
    }
    auto result = std::make_shared<std::promise<connection::socket>>();
    auto got = result->get_future();
    connect(
        io, where,
        [result, where](const std::error_code& ec, connection::socket s) {
            if (ec) {
                result->set_exception(
                    std::make_exception_ptr(error("cannot connect to " + where.to_string() + ": " + ec.message())));
            } else {
                result->set_value(std::move(s));
            }
        },
        timeout);
    // The attempt's own timer ends it; this margin only covers an io_service that has stopped.
    if (got.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready) {
        throw error("cannot connect to " + where.to_string() + ": the I/O loop is not running");
    }
    return got.get();
}

}  // namespace troupe::remote::detail
