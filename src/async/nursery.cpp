// The nursery: errors, cancellation and the join.

#include <troupe/async/nursery.hpp>

#include <algorithm>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/spawn_options.hpp>

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
    if (std::find(errors_.begin(), errors_.end(), e) != errors_.end()) {
        return;  // the same exception again (a task that awaited another's result and rethrew it)
    }
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

/// What a nursery host is asked to do: run one nursery block.
struct run_nursery_block {
    std::unique_ptr<nursery_block> block;
};

/// The actor in which a nursery opened from outside any actor runs. Its one handler opens the
/// nursery, so every task of it resumes on this actor's executor only; then it stops.
class nursery_host final : public actor {
public:
    task<void> handle(run_nursery_block m) {
        std::unique_ptr<nursery_block> block = std::move(m.block);
        std::exception_ptr failure;
        try {
            // Named first (GCC 12 and temporaries in a co_await expression). The lambda refers
            // to `block`, which lives in this frame until the nursery has ended.
            task<void> opened = troupe::open_nursery([&block](nursery& n) { return block->run(n); });
            co_await std::move(opened);
        } catch (...) {
            failure = std::current_exception();
        }
        self().stop();  // its one job is done, however it ended
        if (failure) {
            std::rethrow_exception(failure);  // to the asker: the thread that opened the nursery
        }
    }
};

namespace {

struct hosted {
    future<void> ended;      // the nursery's outcome
    future<void> host_gone;  // the host actor has stopped (after answering)
};

void refuse_inside_actor(const char* entry) {
    if (running_cell() != nullptr) {
        throw error(std::string(entry) +
                    " is for threads that are not an actor's; inside an actor's coroutine handler, co_await "
                    "troupe::open_nursery(body) instead");
    }
}

hosted start_host(troupe::system& sys, std::unique_ptr<nursery_block> block) {
    ref<nursery_host> host = sys.spawn<nursery_host>(spawn_options{.name = "nursery"});
    return hosted{host.ask(run_nursery_block{std::move(block)}), host.terminated()};
}

bool has_worker_pool(troupe::system& sys) {
    try {
        sys.scheduler();  // throws for a system on an executor of its own (a test system's)
        return true;
    } catch (const error&) {
        return false;
    }
}

}  // namespace

future<void> start_nursery(troupe::system& sys, std::unique_ptr<nursery_block> block) {
    refuse_inside_actor("troupe::start_nursery(sys, body)");
    return start_host(sys, std::move(block)).ended;
}

void open_nursery(troupe::system& sys, std::unique_ptr<nursery_block> block) {
    const std::string entry = "troupe::open_nursery(sys, body)";
    refuse_inside_actor(entry.c_str());  // it would block a worker
    if (on_runtime_thread()) {
        throw error(entry + " would block a runtime thread (timers, I/O) until the nursery ends");
    }
    if (!has_worker_pool(sys)) {
        throw error(entry + " blocks until the nursery ends, and system '" + sys.name() +
                    "' runs its actors only when its own thread runs them (a test system): use "
                    "troupe::start_nursery(sys, body) and await its future");
    }
    hosted h = start_host(sys, std::move(block));
    h.host_gone.wait();  // it answers first, then stops
    h.ended.get();
}

}  // namespace detail
}  // namespace troupe
