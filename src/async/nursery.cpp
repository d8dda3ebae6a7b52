// The nursery: errors, cancellation and the join.

#include <troupe/async/nursery.hpp>

#include <string>

namespace troupe {

namespace {
std::string describe_all(const std::vector<std::exception_ptr>& errors) {
    std::string out = std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors") + " in a nursery";
    const char* sep = ": ";
    for (const auto& e : errors) {
        out += sep;
        sep = "; ";
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            out += detail::type_name(typeid(x)) + ": " + x.what();
        } catch (...) {
            out += "an exception not derived from std::exception";
        }
    }
    return out;
}
}  // namespace

error_group::error_group(std::vector<std::exception_ptr> errors)
    : error(describe_all(errors)), errors_(std::move(errors)) {}

void nursery::cancel() noexcept {
    scope_.cancel();
    for (auto& a : actors_) {
        try {
            a.stop_async();
        } catch (...) {}
    }
}

void nursery::fail(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const troupe::cancelled&) {
        return;  // the consequence of a cancellation, not an error of its own
    } catch (...) {}
    try {
        errors_.push_back(std::move(e));
    } catch (...) {}
    if (errors_.size() == 1) {
        cancel();  // the first error cancels the rest
    }
}

void nursery::finish(const detail::cancel_scope* outer) {
    if (!errors_.empty()) {
        throw error_group(std::move(errors_));
    }
    if (detail::cancelled_from_above(outer)) {
        throw troupe::cancelled(cell_->name() + ": the nursery was cancelled from outside");
    }
}

task<void> nursery::watch(ref<actor> child) {
    exit_reason why = co_await child.exited();
    if (why.abnormal()) {
        throw actor_failed(child.name() + " ended: " + why.describe());
    }
}

void nursery::child_ended() noexcept {
    if (--running_ == 0 && joiner_ != nullptr) {
        std::exchange(joiner_, nullptr)->complete();
    }
}

namespace detail {

void finish_detached(std::coroutine_handle<> frame) noexcept {
    frame.destroy();
}

bool nursery_join::await_ready() const noexcept {
    return n.running_ == 0;
}

void nursery_join::await_suspend(std::coroutine_handle<> h) {
    // Not registered with the actor or a scope: a nursery always waits for its tasks, cancelled
    // or not, since they live in its frame.
    r = new resumer(h, *n.cell_);
    n.joiner_ = r;
}

void nursery_join::await_resume() noexcept {
    if (r != nullptr) {
        r->release();  // ours; the mailbox's went when it resumed us
    }
}

}  // namespace detail
}  // namespace troupe
