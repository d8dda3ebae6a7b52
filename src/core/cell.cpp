// The cell: construction, names, sending into the mailbox, termination, and the actor's view
// of it (actor, context). Turns are in cell_turn.cpp, start/stop/failure in cell_life.cpp.

#include <troupe/core/detail/cell.hpp>
#include <troupe/core/detail/runtime_thread.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/system.hpp>

#include "cell_internals.hpp"
#include "system_state.hpp"

#include <memory>
#include <string>
#include <utility>

namespace troupe {
namespace detail {

namespace {
thread_local cell_base* constructing = nullptr;
thread_local cell_base* running = nullptr;
thread_local bool runtime_thread = false;
}  // namespace

bool on_runtime_thread() noexcept {
    return runtime_thread;
}
runtime_thread_scope::runtime_thread_scope() noexcept : previous_(std::exchange(runtime_thread, true)) {}
runtime_thread_scope::~runtime_thread_scope() {
    runtime_thread = previous_;
}

cell_base*& running_slot() noexcept {
    return running;
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return type_name(typeid(x)) + ": " + x.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

cell_base*& constructing_cell() noexcept {
    return constructing;
}
cell_base* running_cell() noexcept {
    return running;
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

cell_base::cell_base(system_state& sys, const spawn_options& options, reentrancy policy)
    : actor_endpoint(true),
      mailbox_(true),
      executor_(sys.pooled),
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
    envelope* rest = nullptr;
    {
        auto lock = lock_queue();
        rest = mailbox_.seal();
    }
    drain_rejected(rest, false);
}

troupe::system& cell_base::system() const noexcept {
    return system_->owner;
}

std::string cell_base::name() const {
    return (custom_name_ ? *custom_name_ : type_label()) + "#" + std::to_string(id_);
}

bool cell_base::admitted(mailbox::push_result r) noexcept {
    if (r == mailbox::push_result::became_ready) {
        executor_->schedule(this);  // the push found the actor idle: it is ours to schedule
    }
    return r != mailbox::push_result::closed;
}

send_status cell_base::push(envelope* e) noexcept {
    return admitted(mailbox_.push(e)) ? send_status::accepted : send_status::dead;
}

send_status cell_base::try_send(envelope* e) noexcept {
    if (bound_ && !e->is_control()) {
        return send_bounded(e);
    }
    return push(e);
}

send_status cell_base::send_bounded(envelope* e) noexcept {
    bound_state& b = *bound_;
    std::uint32_t s = b.size.load(std::memory_order_relaxed);
    for (;;) {
        if ((s & bound_state::closed_flag) != 0) {
            return send_status::dead;
        }
        if (s < b.capacity) {
            // relaxed: the count only gates admission; the mailbox orders the messages.
            if (b.size.compare_exchange_weak(s, s + 1, std::memory_order_relaxed)) {
                break;
            }
            continue;
        }
        if (b.policy == overflow::drop_oldest) {
            return make_room(e);
        }
        if (b.policy != overflow::block || running == this || runtime_thread) {
            return send_status::full;  // a runtime thread never waits for room
        }
        before_blocking();
        // seq_cst pair with release_slot(): either we see the room, or the consumer sees us.
        // Closing sets closed_flag in the word we sleep on, so it always ends the wait.
        b.blocked.fetch_add(1, std::memory_order_seq_cst);
        s = b.size.load(std::memory_order_seq_cst);
        if ((s & bound_state::closed_flag) == 0 && s >= b.capacity) {
            futex_wait(b.size, s);
        }
        b.blocked.fetch_sub(1, std::memory_order_relaxed);
        s = b.size.load(std::memory_order_relaxed);
    }
    send_status r = push(e);
    if (r != send_status::accepted) {
        release_slot(*e);
    }
    return r;
}

send_status cell_base::make_room(envelope* e) noexcept {
    bound_state& b = *bound_;
    envelope* oldest = nullptr;
    {
        std::lock_guard lock(b.queue_lock);
        std::uint32_t s = b.size.load(std::memory_order_relaxed);
        if ((s & bound_state::closed_flag) != 0) {
            return send_status::dead;
        }
        auto droppable = [](envelope* m) { return m->what() == envelope::kind::message; };
        // Held-back messages (a suspended handler) are older than anything in the mailbox.
        if (async_ != nullptr) {
            oldest = async_->unstash_first(droppable);
        }
        if (oldest == nullptr) {
            oldest = mailbox_.remove_oldest(droppable);
        }
        if (oldest == nullptr) {
            // Every slot belongs to a send still on its way in: the new message is the one dropped.
            if (s < b.capacity) {
                b.size.fetch_add(1, std::memory_order_relaxed);
            } else {
                return send_status::full;
            }
        }
    }
    // The new message takes the dropped one's slot. Reported at once, outside the lock (the
    // asker's continuations run here).
    if (oldest != nullptr) {
        system_->dead_letter(*this, oldest->type(), "dropped as the oldest message of a full mailbox");
        try {
            oldest->reject(std::make_exception_ptr(
                mailbox_full(name() + "'s mailbox is full: the oldest message was dropped for a newer one")));
        } catch (...) {
            oldest->reject(std::current_exception());  // out of memory while building the error
        }
        oldest->dispose();
    }
    send_status r = push(e);
    if (r != send_status::accepted) {
        release_slot(*e);
    }
    return r;
}

std::unique_lock<std::mutex> cell_base::lock_queue() noexcept {
    if (bound_ && bound_->policy == overflow::drop_oldest) {
        return std::unique_lock(bound_->queue_lock);
    }
    return {};
}

void cell_base::release_slot(const envelope& e) noexcept {
    if (!bound_ || e.is_control()) {
        return;
    }
    bound_state& b = *bound_;
    b.size.fetch_sub(1, std::memory_order_seq_cst);
    if (b.blocked.load(std::memory_order_seq_cst) != 0) {
        futex_wake(b.size, 1);
    }
    // The same seq_cst pair for suspended senders: we free the slot, then look for them; a
    // sender registers, then looks for room (try_send_or_wait). One of the two sees the other.
    if (b.suspended.load(std::memory_order_seq_cst) != 0) {
        hand_off_slot();
    }
}

void cell_base::closed_to_senders() noexcept {
    if (bound_) {
        // seq_cst: a sender that reads the word after this sees the flag; one already asleep
        // on the old value is woken. Every blocked sender then gets troupe::actor_dead.
        bound_->size.fetch_or(bound_state::closed_flag, std::memory_order_seq_cst);
        futex_wake_all(bound_->size);
        // Paired as in release_slot(): a sender registering later sees the flag itself.
        if (bound_->suspended.load(std::memory_order_seq_cst) != 0) {
            wake_suspended_senders();
        }
    }
}

// Awaited sends (`co_await ref.send(m)`). A sender that finds no room registers a send_waiter;
// whoever frees a slot while senders are registered does not leave the slot for anyone to
// take: it takes it again at once, for the oldest registered sender, queues that sender's
// message and posts its resumption. So a woken sender never has to try again, and the message
// is queued by the time it resumes. All of it runs under waiters_lock, which is also what a
// resumed or cancelled sender takes to unregister: the target never touches a waiter after
// remove_send_waiter() returned.

send_status cell_base::take_slot() noexcept {
    bound_state& b = *bound_;
    // seq_cst: after a registration, this is the sender's read of the pair with release_slot()
    // and closed_to_senders(). Elsewhere it is merely stronger than needed.
    std::uint32_t s = b.size.load(std::memory_order_seq_cst);
    for (;;) {
        if ((s & bound_state::closed_flag) != 0) {
            return send_status::dead;
        }
        if (s >= b.capacity) {
            return send_status::full;
        }
        if (b.size.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst)) {
            return send_status::accepted;
        }
    }
}

send_status cell_base::try_send_or_wait(envelope* e, send_waiter* w) noexcept {
    if (!bound_) {
        return push(e);
    }
    bound_state& b = *bound_;
    send_status slot = take_slot();
    if (slot == send_status::full && w != nullptr) {
        std::lock_guard lock(b.waiters_lock);
        w->message_ = e;
        w->outcome_ = send_status::full;
        w->next_sender_ = nullptr;
        w->prev_sender_ = b.last_sender;
        (b.last_sender != nullptr ? b.last_sender->next_sender_ : b.first_sender) = w;
        b.last_sender = w;
        w->linked_ = true;
        // seq_cst: registered first, then look for room again: a slot freed since our first
        // look is seen here, or its release_slot() sees us (and waits for this lock).
        b.suspended.fetch_add(1, std::memory_order_seq_cst);
        slot = take_slot();
        if (slot == send_status::full) {
            return slot;  // registered
        }
        unlink_sender(b, *w);
    }
    if (slot != send_status::accepted) {
        return slot;
    }
    const send_status r = push(e);
    if (r != send_status::accepted) {
        release_slot(*e);
    }
    return r;
}

bool cell_base::remove_send_waiter(send_waiter& w) noexcept {
    if (!bound_) {
        return false;
    }
    std::lock_guard lock(bound_->waiters_lock);
    if (!w.linked_) {
        return false;  // claimed: outcome_ was written under this lock
    }
    unlink_sender(*bound_, w);
    return true;
}

std::size_t cell_base::suspended_senders() const noexcept {
    return bound_ ? bound_->suspended.load(std::memory_order_relaxed) : 0;
}

void cell_base::unlink_sender(bound_state& b, send_waiter& w) noexcept {
    (w.prev_sender_ != nullptr ? w.prev_sender_->next_sender_ : b.first_sender) = w.next_sender_;
    (w.next_sender_ != nullptr ? w.next_sender_->prev_sender_ : b.last_sender) = w.prev_sender_;
    w.next_sender_ = w.prev_sender_ = nullptr;
    w.linked_ = false;
    b.suspended.fetch_sub(1, std::memory_order_seq_cst);
}

void cell_base::hand_off_slot() noexcept {
    bound_state& b = *bound_;
    std::lock_guard lock(b.waiters_lock);
    bool holding = false;  // a slot taken for the oldest sender
    while (b.first_sender != nullptr) {
        if (!holding) {
            // Full: another sender took the room first, and its own release comes back here.
            // Dead: closed_to_senders() wakes every registered sender.
            if (take_slot() != send_status::accepted) {
                return;
            }
            holding = true;
        }
        send_waiter& w = *b.first_sender;
        unlink_sender(b, w);
        if (!w.claim()) {
            continue;  // its await is being cancelled: the slot goes to the next sender
        }
        // Claimed first, queued second: the sender resumes only once we let go of the lock,
        // and a message is never queued for a sender that was cancelled.
        w.outcome_ = push(w.message_);
        if (w.outcome_ == send_status::accepted) {
            return;  // the slot is the message's now
        }
        // The mailbox closed under us: that sender is told so; keep the slot for the next.
    }
    if (holding) {
        b.size.fetch_sub(1, std::memory_order_seq_cst);
        if (b.blocked.load(std::memory_order_seq_cst) != 0) {
            futex_wake(b.size, 1);
        }
    }
}

void cell_base::wake_suspended_senders() noexcept {
    bound_state& b = *bound_;
    std::lock_guard lock(b.waiters_lock);
    while (b.first_sender != nullptr) {
        send_waiter& w = *b.first_sender;
        unlink_sender(b, w);
        if (w.claim()) {
            w.outcome_ = send_status::dead;  // else it is being cancelled, and says so itself
        }
    }
}

void cell_base::send_or_throw(envelope* e) {
    send_status s = try_send(e);
    if (s == send_status::accepted) {
        return;
    }
    std::unique_ptr<envelope> owned(e);
    if (s == send_status::dead) {
        if (running != nullptr) {
            // Inside an actor a peer that has ended is a dead letter, not this actor's failure:
            // one actor stopping must not make the ones that talk to it fail in turn.
            system_->dead_letter(*this, e->type(), "it is not running");
            return;
        }
        throw actor_dead(name() + " is not running: it did not take the " + type_name(e->type()));
    }
    if (bound_->policy == overflow::drop_newest || bound_->policy == overflow::drop_oldest) {
        system_->dead_letter(*this, e->type(), "dropped: the mailbox is full");
        return;
    }
    if (bound_->policy == overflow::block && runtime_thread) {
        system_->dead_letter(*this, e->type(), "dropped: the mailbox is full and a runtime thread never waits");
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
        if (bound_->policy == overflow::drop_newest || bound_->policy == overflow::drop_oldest) {
            system_->dead_letter(*this, e->type(), "dropped: the mailbox is full");
        }
        e->reject(std::make_exception_ptr(
            mailbox_full(name() + "'s mailbox is full (capacity " + std::to_string(bound_->capacity) + ")")));
    } catch (...) {
        e->reject(std::current_exception());  // out of memory while building the error
    }
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
            if (send.reply == nullptr && running != nullptr) {
                system_->dead_letter(*this, send.msg.type(), "it is not running");
                return;
            }
            auto dead = actor_dead(name() + " is not running: it did not take the " + send.msg.type_name());
            if (send.reply == nullptr) {
                throw dead;
            }
            send.reply->try_set_error(std::make_exception_ptr(dead));
            return;
        }
        system_->dead_letter(*this, send.msg.type(), "it has no handler for it (see troupe::handles)");
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

namespace {
/// A continuation of future::then, on its way to run as a turn of the actor that called then.
class callback_envelope final : public envelope {
public:
    explicit callback_envelope(actor_continuation* c) noexcept : c_(c) {}
    void run(actor&) override { std::exchange(c_, nullptr)->run(); }
    bool reject(const std::exception_ptr&) noexcept override { return false; }
    const std::type_info& type() const noexcept override { return typeid(actor_continuation); }
    kind what() const noexcept override { return kind::callback; }
    void dispose() noexcept override {
        if (c_ != nullptr) {  // never ran: the actor ended first
            discard(*c_);
        }
        delete this;
    }
    static void discard(actor_continuation& c) noexcept {
        try {
            c.discard(std::make_exception_ptr(actor_dead("the actor ended before the continuation could run")));
        } catch (...) {
            c.discard(std::current_exception());
        }
    }

private:
    actor_continuation* c_;
};
}  // namespace

void post_when_complete(state_base& s, cell_base& home, actor_continuation* c) noexcept {
    struct post final : continuation {
        post(cell_base& h, actor_continuation* c) noexcept : home(&h), turn(c) {}
        void run() noexcept override {
            try {
                auto* e = new callback_envelope(turn);
                if (!home->post_internal(e)) {
                    e->dispose();  // discards the turn
                }
            } catch (...) {
                callback_envelope::discard(*turn);  // out of memory
            }
            delete this;
        }
        counted_ptr<cell_base> home;
        actor_continuation* turn;
    };
    post* p = nullptr;
    try {
        p = new post(home, c);
    } catch (...) {
        callback_envelope::discard(*c);
        return;
    }
    s.add_continuation(p);
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
