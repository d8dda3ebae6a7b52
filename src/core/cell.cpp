// The life of an actor: sending into its mailbox, running its turns, starting, stopping and
// failing, and the actor's view of it (actor, context).

#include <troupe/core/detail/cell.hpp>

#include <troupe/core/address.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "system_state.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace troupe {
namespace detail {

namespace {
thread_local cell_base* constructing = nullptr;
thread_local cell_base* running = nullptr;

/// "std::runtime_error: boom" for logs.
std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return type_name(typeid(x)) + ": " + x.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}
}  // namespace

cell_base*& constructing_cell() noexcept {
    return constructing;
}
cell_base* running_cell() noexcept {
    return running;
}

namespace {
/// Who waits for whom: an actor blocked on a future, and the actor that will complete it.
/// Entries exist only while their waiter is blocked, so every cell named here is alive.
struct wait_for_graph {
    std::mutex mutex;
    std::unordered_map<const cell_base*, const cell_base*> edges;
};
wait_for_graph& waits() {
    static wait_for_graph g;
    return g;
}
}  // namespace

void add_wait_edge(const cell_base& waiter, const cell_base* producer) {
    if (producer == nullptr) {
        return;
    }
    if (producer == &waiter) {
        throw deadlock(waiter.name() +
                       " would wait for ever: it is blocked on a reply (or a stop) that only it can give");
    }
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    std::string chain = waiter.name() + " -> " + producer->name();
    for (auto it = g.edges.find(producer); it != g.edges.end(); it = g.edges.find(it->second)) {
        chain += " -> " + it->second->name();
        if (it->second == &waiter) {
            throw deadlock("actors wait for each other in a cycle, each for the next: " + chain);
        }
    }
    g.edges[&waiter] = producer;
}

void remove_wait_edge(const cell_base& waiter) noexcept {
    auto& g = waits();
    std::lock_guard lock(g.mutex);
    g.edges.erase(&waiter);
}

blocking_wait::blocking_wait(const cell_base* producer) {
    if (producer != nullptr && running != nullptr) {
        add_wait_edge(*running, producer);
        waiter_ = running;
    }
    before_blocking();
}

blocking_wait::~blocking_wait() {
    if (waiter_ != nullptr) {
        remove_wait_edge(*waiter_);
    }
}

void log_returned_error(const std::type_info& message, const std::exception_ptr& e) noexcept {
    try {
        auto log = troupe::logger();
        if (log->should_log(spdlog::level::debug)) {
            log->debug("{}: handling {} threw, the asker gets it: {}", running ? running->name() : "?",
                       type_name(message), describe(e));
        }
    } catch (...) {}
}

/// The runtime's own messages: start (always first) and stop (always last).
class control final : public envelope {
public:
    control(cell_base& c, kind k) noexcept : cell_(c), kind_(k) {}

    void run(actor&) override {
        if (kind_ == kind::start) {
            cell_.do_start();
        } else {
            cell_.do_stop();
        }
    }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(control); }
    kind what() const noexcept override { return kind_; }

private:
    cell_base& cell_;
    kind kind_;
};

struct async_state {
    envelope* stash_head = nullptr;  // messages held back while a handler is suspended (none)
    envelope* stash_tail = nullptr;
    std::uint32_t live_tasks = 0;  // coroutine handlers started and not yet ended
    std::uint32_t paused = 0;      // of those, suspended under reentrancy::none (0 or 1)
    waiter* waiters = nullptr;     // suspended awaits, cancelled when the actor stops or fails
    bool cancelling = false;
    bool settling = false;  // an ending (stop or failure) waits for the live tasks
    std::uint8_t pending_how = 0;
    std::exception_ptr pending_error;

    envelope* take_stash() noexcept {
        envelope* e = stash_head;
        stash_head = e->next_;
        if (stash_head == nullptr) {
            stash_tail = nullptr;
        }
        return e;
    }
    void stash(envelope* e) noexcept {
        e->next_ = nullptr;
        if (stash_tail != nullptr) {
            stash_tail->next_ = e;
        } else {
            stash_head = e;
        }
        stash_tail = e;
    }
};

cell_base::cell_base(system_state& sys, const spawn_options& options, reentrancy policy)
    : executor_(&sys.pool),
      system_(&sys),
      id_(sys.next_id.fetch_add(1, std::memory_order_relaxed)),
      dedicated_(options.dedicated_thread),
      policy_(policy) {
    if (!options.name.empty()) {
        custom_name_ = std::make_unique<std::string>(options.name);
    }
    if (options.mailbox.capacity != 0) {
        bound_ = std::make_unique<bound_state>();
        bound_->capacity = static_cast<std::uint32_t>(options.mailbox.capacity);
        bound_->policy = options.mailbox.on_overflow;
    }
}

cell_base::~cell_base() {
    std::uintptr_t t = termination_.load(std::memory_order_acquire);
    if (t != 0 && t != done_tag) {
        reinterpret_cast<shared_state<void>*>(t)->release();
    }
    // Messages can only be left here if the actor never started (spawn failed half-way).
    drain_rejected(mailbox_.seal(), false);
}

troupe::system& cell_base::system() const noexcept {
    return system_->owner;
}

std::string cell_base::name() const {
    return (custom_name_ ? *custom_name_ : type_label()) + "#" + std::to_string(id_);
}

void cell_base::start() {
    if (dedicated_) {
        executor_ = &system_->new_dedicated_thread();
    }
    // The start message goes in first, so that it precedes anything sent through a registry
    // lookup; the cell is scheduled only once it is registered, so on_start can find itself.
    mailbox_.push(new control(*this, envelope::kind::start));
    system_->actors.add(*this);  // the registry's reference keeps the cell alive while it runs
    executor_->schedule(this);
}

send_status cell_base::push(envelope* e) noexcept {
    switch (mailbox_.push(e)) {
        case mailbox::push_result::queued:
            return send_status::accepted;
        case mailbox::push_result::became_ready:
            executor_->schedule(this);
            return send_status::accepted;
        case mailbox::push_result::closed:
            break;
    }
    return send_status::dead;
}

send_status cell_base::try_send(envelope* e) noexcept {
    if (bound_ && !e->is_control()) {
        return send_bounded(e);
    }
    return push(e);
}

send_status cell_base::send_bounded(envelope* e) noexcept {
    bound_state& b = *bound_;
    if (b.policy == overflow::drop_oldest) {
        // Always accepted; the consumer drops the oldest while over capacity.
        b.size.fetch_add(1, std::memory_order_relaxed);
    } else {
        std::uint32_t s = b.size.load(std::memory_order_relaxed);
        for (;;) {
            if (s < b.capacity) {
                // relaxed: the count only gates admission; the mailbox orders the messages.
                if (b.size.compare_exchange_weak(s, s + 1, std::memory_order_relaxed)) {
                    break;
                }
                continue;
            }
            if (b.policy != overflow::block || running == this) {
                return send_status::full;
            }
            if (mailbox_.closed()) {
                return send_status::dead;
            }
            before_blocking();
            // seq_cst pair with after_pop(): either we see the room, or the consumer sees us.
            b.blocked.fetch_add(1, std::memory_order_seq_cst);
            s = b.size.load(std::memory_order_seq_cst);
            if (s >= b.capacity && !mailbox_.closed()) {
                futex_wait(b.size, s);
            }
            b.blocked.fetch_sub(1, std::memory_order_relaxed);
            s = b.size.load(std::memory_order_relaxed);
        }
    }
    send_status r = push(e);
    if (r != send_status::accepted) {
        b.size.fetch_sub(1, std::memory_order_relaxed);
    }
    return r;
}

bool cell_base::after_pop(envelope* e) noexcept {
    if (!bound_ || e->is_control()) {
        return true;
    }
    bound_state& b = *bound_;
    std::uint32_t before = b.size.fetch_sub(1, std::memory_order_seq_cst);
    if (b.blocked.load(std::memory_order_seq_cst) != 0) {
        futex_wake(b.size, 1);
    }
    if (b.policy == overflow::drop_oldest && before > b.capacity) {
        system_->dead_letter(name(), e->type(), "dropped as the oldest message of a full mailbox");
        e->reject(std::make_exception_ptr(mailbox_full(name() + ": mailbox full, the oldest message was dropped")));
        e->dispose();
        return false;
    }
    return true;
}

void cell_base::send_or_throw(envelope* e) {
    send_status s = try_send(e);
    if (s == send_status::accepted) {
        return;
    }
    std::unique_ptr<envelope> owned(e);
    if (s == send_status::dead) {
        throw actor_dead(name() + " is not running: it did not take the " + type_name(e->type()));
    }
    if (bound_->policy == overflow::drop_newest) {
        system_->dead_letter(name(), e->type(), "dropped: the mailbox is full");
        return;
    }
    throw mailbox_full(name() + "'s mailbox is full (capacity " + std::to_string(bound_->capacity) +
                       "): it did not take the " + type_name(e->type()));
}

void cell_base::send_or_reject(envelope* e) noexcept {
    send_status s = try_send(e);
    if (s == send_status::accepted) {
        return;
    }
    std::unique_ptr<envelope> owned(e);
    try {
        if (s == send_status::dead) {
            e->reject(std::make_exception_ptr(
                actor_dead(name() + " is not running: it did not take the " + type_name(e->type()))));
            return;
        }
        if (bound_->policy == overflow::drop_newest) {
            system_->dead_letter(name(), e->type(), "dropped: the mailbox is full");
        }
        e->reject(std::make_exception_ptr(
            mailbox_full(name() + "'s mailbox is full (capacity " + std::to_string(bound_->capacity) + ")")));
    } catch (...) {
        e->reject(std::current_exception());  // out of memory while building the error
    }
}

bool cell_base::request_stop() {
    auto* pill = new control(*this, envelope::kind::stop);
    switch (mailbox_.push_and_close(pill)) {
        case mailbox::push_result::queued:
            return true;
        case mailbox::push_result::became_ready:
            executor_->schedule(this);
            return true;
        case mailbox::push_result::closed:
            break;
    }
    pill->dispose();
    return false;
}

future<void> cell_base::termination() {
    std::uintptr_t t = termination_.load(std::memory_order_acquire);
    for (;;) {
        if (t == done_tag) {
            return make_ready_future();
        }
        if (t != 0) {
            // The cell holds one reference until it dies, and our caller holds the cell.
            auto* s = reinterpret_cast<shared_state<void>*>(t);
            s->add_ref();
            return make_future(state_ptr<shared_state<void>>(s));
        }
        auto* s = shared_state<void>::make();
        s->set_producer(this);
        // acq_rel: publish the new state, or see the one (or the end) that won.
        if (termination_.compare_exchange_strong(t, reinterpret_cast<std::uintptr_t>(s), std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
            s->add_ref();
            return make_future(state_ptr<shared_state<void>>(s));
        }
        s->release();
    }
}

bool cell_base::terminated() const noexcept {
    std::uintptr_t t = termination_.load(std::memory_order_acquire);
    return t == done_tag || (t != 0 && reinterpret_cast<shared_state<void>*>(t)->ready());
}

void cell_base::deliver(untyped_send send) {
    envelope* e = nullptr;
    try {
        e = make_untyped(send);
    } catch (...) {
        if (send.reply == nullptr) {
            throw;
        }
        send.reply->try_set_error(std::current_exception());
        return;
    }
    if (e == nullptr) {
        if (!alive()) {
            auto dead = actor_dead(name() + " is not running: it did not take the " + send.msg.type_name());
            if (send.reply == nullptr) {
                throw dead;
            }
            send.reply->try_set_error(std::make_exception_ptr(dead));
            return;
        }
        system_->dead_letter(name(), send.msg.type(), "it has no handler for it (see troupe::handles)");
        if (send.reply != nullptr) {
            send.reply->try_set_error(
                std::make_exception_ptr(unhandled_message(name() + " does not handle " + send.msg.type_name())));
        }
        return;
    }
    if (send.reply != nullptr) {
        send.reply->set_producer(this);
        send_or_reject(e);
    } else {
        send_or_throw(e);
    }
}

void cell_base::run_job() noexcept {
    cell_base* previous = std::exchange(running, this);
    const unsigned batch = system_->options.scheduler.batch;
    for (unsigned n = 0; n < batch; ++n) {
        envelope* e = next_envelope();
        if (e == nullptr) {
            if (mailbox_.try_idle()) {
                // From here on another worker may run this cell: touch nothing.
                running = previous;
                return;
            }
            continue;
        }
        if (hold_back(e)) {
            continue;
        }
        dispatch(e);
        if (phase_ == phase::finished) {
            running = previous;
            release();  // the registry's reference, handed over by finish()
            return;
        }
    }
    running = previous;
    executor_->yield(this);
}

envelope* cell_base::next_envelope() noexcept {
    if (async_ && async_->paused == 0 && async_->stash_head != nullptr) {
        return async_->take_stash();  // older than anything still in the mailbox
    }
    return mailbox_.pop();
}

bool cell_base::hold_back(envelope* e) noexcept {
    if (!async_ || e->what() == envelope::kind::resume) {
        return false;
    }
    if (async_->paused != 0) {
        // A handler is suspended (reentrancy::none): keep the message for later, in order. A
        // stop request cancels the suspended handler's awaits now, so it cannot wait for ever.
        if (e->what() == envelope::kind::stop) {
            begin_cancelling();
        }
        async_->stash(e);
        return true;
    }
    if (async_->settling && e->what() == envelope::kind::message) {
        // The actor failed and only waits for its coroutines to unwind.
        try {
            e->reject(std::make_exception_ptr(actor_dead(name() + " failed before handling the message")));
        } catch (...) {}
        e->dispose();
        return true;
    }
    return false;
}

void cell_base::dispatch(envelope* e) noexcept {
    if (!after_pop(e)) {
        return;
    }
    try {
        e->run(object());
    } catch (...) {
        fail(std::current_exception(), e->type());
    }
    e->dispose();
}

void cell_base::task_started() {
    if (!async_) {
        async_ = std::make_unique<async_state>();
    }
    ++async_->live_tasks;
    if (policy_ == reentrancy::none) {
        ++async_->paused;
    }
}

void cell_base::task_finished(std::exception_ptr error, const std::type_info& message) noexcept {
    --async_->live_tasks;
    if (policy_ == reentrancy::none) {
        --async_->paused;
    }
    if (error) {
        fail(std::move(error), message);
    } else if (async_->settling && async_->live_tasks == 0) {
        finish(static_cast<ending>(async_->pending_how), std::move(async_->pending_error));
    }
}

bool cell_base::cancelling() const noexcept {
    return async_ && async_->cancelling;
}

void cell_base::add_waiter(waiter& w) noexcept {
    w.prev_waiter_ = nullptr;
    w.next_waiter_ = async_->waiters;
    if (async_->waiters != nullptr) {
        async_->waiters->prev_waiter_ = &w;
    }
    async_->waiters = &w;
}

void cell_base::remove_waiter(waiter& w) noexcept {
    if (w.prev_waiter_ != nullptr) {
        w.prev_waiter_->next_waiter_ = w.next_waiter_;
    } else if (async_->waiters == &w) {
        async_->waiters = w.next_waiter_;
    }
    if (w.next_waiter_ != nullptr) {
        w.next_waiter_->prev_waiter_ = w.prev_waiter_;
    }
    w.prev_waiter_ = w.next_waiter_ = nullptr;
}

void cell_base::begin_cancelling() noexcept {
    if (!async_ || async_->cancelling) {
        return;
    }
    async_->cancelling = true;
    // cancel() only posts a resumption, so the list does not change under us.
    for (waiter* w = async_->waiters; w != nullptr; w = w->next_waiter_) {
        w->cancel();
    }
}

bool cell_base::post_internal(envelope* e) noexcept {
    switch (mailbox_.push_internal(e)) {
        case mailbox::push_result::queued:
            return true;
        case mailbox::push_result::became_ready:
            executor_->schedule(this);
            return true;
        case mailbox::push_result::closed:
            break;
    }
    return false;
}

void cell_base::settle(ending how, std::exception_ptr error) noexcept {
    if (async_ && async_->live_tasks != 0) {
        // Coroutine handlers are still suspended: cancel them and end once the last one has.
        if (!async_->settling) {
            async_->settling = true;
            async_->pending_how = static_cast<std::uint8_t>(how);
            async_->pending_error = std::move(error);
        }
        mailbox_.close_to_senders();
        begin_cancelling();
        return;
    }
    finish(how, std::move(error));
}

void cell_base::do_start() noexcept {
    try {
        object().on_start();
        phase_ = phase::running;
    } catch (...) {
        troupe::logger()->error("{}: on_start threw, the actor stops: {}", name(), describe(std::current_exception()));
        finish(ending::start_failed, nullptr);
    }
}

void cell_base::do_stop() noexcept {
    settle(ending::stopped, nullptr);
}

void cell_base::fail(std::exception_ptr error, const std::type_info& culprit) noexcept {
    try {
        troupe::logger()->error("{}: unhandled exception while handling {}, the actor stops: {}", name(),
                                type_name(culprit), describe(error));
    } catch (...) {}
    settle(ending::failed, std::move(error));
}

void cell_base::finish(ending how, std::exception_ptr error) noexcept {
    phase_ = phase::finished;
    // Refuse every later message, and tell the senders of queued ones that they were not handled.
    envelope* rest = mailbox_.seal();
    if (async_ && async_->stash_head != nullptr) {
        async_->stash_tail->next_ = rest;  // the held-back messages are the older ones
        rest = async_->stash_head;
        async_->stash_head = async_->stash_tail = nullptr;
    }
    drain_rejected(rest, true);
    // Leave the registry; its reference passes to run_job, which releases it last.
    system_->actors.remove(*this);
    try {
        if (how == ending::stopped) {
            object().on_stop();
        } else if (how == ending::failed) {
            object().on_failure(std::move(error));
        }
    } catch (...) {
        troupe::logger()->error("{}: {} threw: {}", name(), how == ending::stopped ? "on_stop" : "on_failure",
                                describe(std::current_exception()));
    }
    destroy_object();
    if (bound_) {
        futex_wake_all(bound_->size);  // senders blocked on a full mailbox now see it closed
    }
    if (dedicated_) {
        static_cast<dedicated_thread*>(executor_)->retire();
    }
    std::uintptr_t t = 0;
    // acq_rel: either no one waits yet (the tag tells later callers), or complete their state.
    if (!termination_.compare_exchange_strong(t, done_tag, std::memory_order_acq_rel, std::memory_order_acquire)) {
        reinterpret_cast<shared_state<void>*>(t)->try_set_value();
    }
}

void cell_base::drain_rejected(envelope* rest, bool log) noexcept {
    std::size_t tells = 0;
    std::exception_ptr why;
    while (rest != nullptr) {
        envelope* next = rest->next_;
        if (!rest->is_control()) {
            if (!why) {
                try {
                    why = std::make_exception_ptr(actor_dead(name() + " stopped before handling the message"));
                } catch (...) {
                    why = std::current_exception();
                }
            }
            if (!rest->reject(why)) {
                ++tells;
            }
        }
        rest->dispose();
        rest = next;
    }
    if (tells != 0 && log) {
        system_->dead_letter_count.fetch_add(tells, std::memory_order_relaxed);
        troupe::logger()->warn("{}: stopped with {} message(s) not handled; they went to dead letters", name(), tells);
    }
}

}  // namespace detail

actor::actor() : cell_(detail::constructing_cell()) {
    if (cell_ == nullptr) {
        throw error("actors are created with system::spawn<A>(...) or self().spawn<A>(...), not directly");
    }
    detail::constructing_cell() = nullptr;
}

void context::stop() const {
    cell_->request_stop();
}
std::uint64_t context::id() const noexcept {
    return cell_->id();
}
std::string context::name() const {
    return cell_->name();
}
troupe::system& context::system() const noexcept {
    return cell_->owner().owner;
}
troupe::address context::address() const {
    return troupe::address(detail::counted_ptr<detail::endpoint>(cell_));
}

}  // namespace troupe
