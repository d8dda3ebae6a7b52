#include <troupe/remote/detail/channel.hpp>

#include <troupe/core/errors.hpp>

#include <utility>

namespace troupe::remote::detail {

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
