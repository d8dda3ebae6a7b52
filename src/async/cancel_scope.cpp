// Deadlines for cancel scopes, and running a function on an actor's executor.

#include <troupe/async/cancel_scope.hpp>

#include <troupe/core/system.hpp>

namespace troupe::detail {

namespace {
/// A function to run on the actor, travelling as a resumption (it gets past a paused mailbox).
class actor_call final : public envelope {
public:
    explicit actor_call(std::function<void()> fn) : fn_(std::move(fn)) {}
    void run(actor&) override { fn_(); }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(actor_call); }
    kind what() const noexcept override { return kind::resume; }

private:
    std::function<void()> fn_;
};
}  // namespace

bool post_to_actor(cell_base& cell, std::function<void()> fn) {
    auto* e = new actor_call(std::move(fn));
    if (cell.post_internal(e)) {
        return true;
    }
    e->dispose();
    return false;
}

deadline::deadline(cell_base& cell, cancel_scope& scope, std::chrono::steady_clock::duration d)
    : token_(std::make_shared<token>(token{&scope})) {
    timer_ = cell.system().timers().after(d, [c = counted_ptr<cell_base>(&cell), t = token_] {
        // On the timer thread: hand the cancellation to the actor, which owns the scope.
        post_to_actor(*c, [t] {
            if (t->scope != nullptr) {
                t->expired = true;
                t->scope->cancel();
            }
        });
    });
}

deadline::~deadline() {
    token_->scope = nullptr;
    timer_.cancel();
}

bool cancelled_from_above(const cancel_scope* outer) {
    cell_base* cell = running_cell();
    return (cell != nullptr && cell->cancelling()) || (outer != nullptr && outer->cancelled());
}

}  // namespace troupe::detail
