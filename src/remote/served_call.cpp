#include "remote/served_call.hpp"

#include <troupe/async/await.hpp>
#include <troupe/async/io_service.hpp>
#include <troupe/core/actor.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/system.hpp>

#include "remote/peer.hpp"
#include "remote/thrown.hpp"

#include <asio/post.hpp>

#include <exception>
#include <utility>

namespace troupe::remote::detail {

namespace {

/// Runs one served call, then stops.
class call_actor final : public troupe::actor {
public:
    struct begin {};
    explicit call_actor(std::shared_ptr<served_call> call) : call_(std::move(call)) {}
    task<void> handle(begin) {
        co_await call_->run();
        self().stop();
    }

private:
    std::shared_ptr<served_call> call_;
};

}  // namespace

served_call::served_call(std::weak_ptr<peer> from, std::uint64_t dialog, const exposed_function& fn,
                         std::vector<std::byte> args, std::uint32_t credit)
    : from_(std::move(from)),
      dialog_(dialog),
      fn_(fn),
      args_(std::move(args)),
      credit_(credit),
      inbound_(default_context_window, [this](std::uint32_t n) {
          if (auto p = from_.lock()) {
              p->send(dialog_, wire::msg::credit{n});
          }
      }) {}

void served_call::send_started(std::vector<std::byte> value) {
    if (auto p = from_.lock()) {
        p->send(dialog_, wire::msg::started{std::move(value), default_context_window});
    }
}

void served_call::close_sending() {
    {
        const std::lock_guard guard(lock_);
        if (stopped_sending_) {
            return;
        }
        stopped_sending_ = true;
    }
    if (auto p = from_.lock()) {
        p->send(dialog_, wire::msg::stop{});
    }
}

void served_call::begin(troupe::system& sys) {
    io_ = &sys.service<troupe::io_service>();
    spawn_options options;
    options.name.append(fn_.ns).append(".").append(fn_.name);
    ref<call_actor> a = sys.spawn<call_actor>(options, shared_from_this());
    {
        const std::lock_guard guard(lock_);
        actor_ = a;
        if (cancelled_) {
            a.stop();  // the cancel came before the actor existed
        }
    }
    a.tell(call_actor::begin{});
}

void served_call::cancel() {
    ref<actor> a;
    {
        const std::lock_guard guard(lock_);
        cancelled_ = true;
        a = actor_;
    }
    if (a.valid()) {
        a.stop();
    }
}

void served_call::add_credit(std::uint32_t items) {
    std::optional<promise<void>> waiter;
    {
        const std::lock_guard guard(lock_);
        credit_ += items;
        waiter.swap(credit_waiter_);
    }
    if (waiter) {
        waiter->set_value();
    }
}

bool served_call::try_yield(std::vector<std::byte>& item) {
    {
        const std::lock_guard guard(lock_);
        if (credit_ == 0) {
            return false;
        }
        --credit_;
    }
    if (auto p = from_.lock()) {
        p->send(dialog_, wire::msg::yield{std::move(item)});
    }
    return true;
}

task<void> served_call::take_a_turn() {
    // Completed from the I/O thread, so the coroutine resumes in a later turn of the call's
    // actor, on a fresh stack. (A turn of its own actor cannot be waited for: its mailbox waits
    // for this coroutine.) If the system is shutting down the promise breaks, and the call ends.
    promise<void> turn;
    future<void> done = turn.get_future();
    asio::post(io_->context(), [turn = std::move(turn)]() mutable { turn.set_value(); });
    co_await done;
}

task<void> served_call::yield(std::vector<std::byte> item) {
    while (!try_yield(item)) {
        future<void> more;
        {
            const std::lock_guard guard(lock_);
            if (credit_ > 0) {
                continue;  // granted since try_yield looked
            }
            // Several tasks of one context may be waiting: they share the wait, and each takes
            // its credit again once the caller has granted more.
            if (!credit_waiter_) {
                credit_waiter_.emplace();
            }
            more = credit_waiter_->get_future();
        }
        co_await more;  // cancelled with the call
    }
}

task<void> served_call::run() {
    std::vector<std::byte> result;
    bool cancelled = false;
    std::optional<wire::msg::error> failure;
    try {
        result = co_await fn_.invoke(*this);
    } catch (const troupe::cancelled&) {
        cancelled = true;
    } catch (...) {
        auto [type, message, backtrace] = describe_current_exception();
        failure = wire::msg::error{std::move(type), std::move(message), std::move(backtrace)};
    }
    inbound_.end(std::make_exception_ptr(troupe::cancelled("the call has ended")));
    if (auto p = from_.lock()) {
        if (cancelled) {
            p->send(dialog_, wire::msg::cancel_ack{});
        } else if (failure) {
            p->send(dialog_, *failure);
        } else {
            if (fn_.kind == call_kind::stream) {
                p->send(dialog_, wire::msg::stop{});
            }
            p->send(dialog_, wire::msg::returned{std::move(result)});
        }
        p->served_ended(dialog_);
    }
}

}  // namespace troupe::remote::detail
