#include <troupe/remote/detail/channel.hpp>

#include <troupe/core/errors.hpp>

#include <utility>

namespace troupe::remote::detail {

inbound::inbound(std::uint32_t window, std::function<void(std::uint32_t)> grant)
    : window_(window), grant_(std::move(grant)) {}

void inbound::push(std::span<const std::byte> item) {
    std::optional<promise<std::optional<std::vector<std::byte>>>> waiting;
    {
        const std::lock_guard guard(lock_);
        if (!waiting_) {
            items_.emplace_back(item.begin(), item.end());
            return;
        }
        waiting.swap(waiting_);
    }
    consumed_one();
    waiting->set_value(std::vector<std::byte>(item.begin(), item.end()));
}

void inbound::end(std::exception_ptr e) noexcept {
    std::optional<promise<std::optional<std::vector<std::byte>>>> waiting;
    {
        const std::lock_guard guard(lock_);
        if (ended_) {
            return;
        }
        ended_ = true;
        error_ = e;
        waiting.swap(waiting_);
    }
    if (waiting) {
        if (e) {
            waiting->set_exception(std::move(e));
        } else {
            waiting->set_value(std::nullopt);
        }
    }
}

bool inbound::ended() const {
    const std::lock_guard guard(lock_);
    return ended_;
}

future<std::optional<std::vector<std::byte>>> inbound::next() {
    promise<std::optional<std::vector<std::byte>>> p;
    {
        const std::lock_guard guard(lock_);
        if (waiting_) {
            throw error("a context's receive() while another receive() is pending");
        }
        if (items_.empty()) {
            if (!ended_) {
                waiting_.emplace();
                return waiting_->get_future();
            }
            if (error_) {
                p.set_exception(error_);
            } else {
                p.set_value(std::nullopt);
            }
            return p.get_future();
        }
        p.set_value(std::move(items_.front()));
        items_.pop_front();
    }
    consumed_one();
    return p.get_future();
}

void inbound::consumed_one() {
    std::uint32_t grant = 0;
    {
        const std::lock_guard guard(lock_);
        if (++consumed_ >= (window_ + 1) / 2 && !ended_) {
            grant = consumed_;
            consumed_ = 0;
        }
    }
    if (grant != 0) {
        grant_(grant);
    }
}

void outbound_credit::add(std::uint32_t items) {
    std::optional<promise<void>> waiting;
    {
        const std::lock_guard guard(lock_);
        credit_ += items;
        waiting.swap(waiting_);
    }
    if (waiting) {
        waiting->set_value();
    }
}

std::optional<future<void>> outbound_credit::take() {
    const std::lock_guard guard(lock_);
    if (closed_) {
        std::rethrow_exception(closed_);
    }
    if (credit_ > 0) {
        --credit_;
        return std::nullopt;
    }
    if (!waiting_) {
        waiting_.emplace();
    }
    return waiting_->get_future();
}

void outbound_credit::close(std::exception_ptr e) noexcept {
    std::optional<promise<void>> waiting;
    {
        const std::lock_guard guard(lock_);
        closed_ = e;
        waiting.swap(waiting_);
    }
    if (waiting) {
        waiting->set_exception(std::move(e));
    }
}

}  // namespace troupe::remote::detail
