#pragma once
/// \file
/// The cell: the runtime's half of an actor. It owns the mailbox and the actor object, runs
/// its turns on an executor and carries it through start, stop and failure.

#include <troupe/core/actor.hpp>
#include <troupe/core/detail/endpoint.hpp>
#include <troupe/core/detail/envelope.hpp>
#include <troupe/core/detail/envelope_pool.hpp>
#include <troupe/core/detail/envelopes.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/mailbox.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/scheduler.hpp>
#include <troupe/core/spawn_options.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <typeinfo>
#include <utility>
#include <variant>

namespace troupe::detail {

class system_state;

/// The outcome of handing an envelope to a mailbox.
enum class send_status : std::uint8_t { accepted, dead, full };

/// A coroutine suspended in `co_await target.send(m)` until the target's bounded mailbox has
/// room (troupe::async implements it). The target links it into its bound_state, and touches
/// it only under bound_state::waiters_lock.
class send_waiter {
public:
    /// The target gives up on waiting for this sender: true if the sender's resumption is now
    /// posted (the target then sets outcome_), false if the sender's await is already being
    /// cancelled. Called under the target's waiters_lock: it may only post the resumption.
    virtual bool claim() noexcept = 0;

    envelope* message_ = nullptr;  // the message; the target queues it if it claims with room
    // Once claimed: accepted (queued by the target) or dead (the target closed). Read after
    // cell_base::remove_send_waiter(), which orders it.
    send_status outcome_ = send_status::full;
    send_waiter* next_sender_ = nullptr;
    send_waiter* prev_sender_ = nullptr;
    bool linked_ = false;

protected:
    ~send_waiter() = default;
};

/// State of a bounded mailbox (allocated only for bounded ones).
struct bound_state {
    /// Set in `size` once the mailbox is closed: senders waiting for room sleep on that word,
    /// so closing it wakes them, whatever moment they chose to sleep.
    static constexpr std::uint32_t closed_flag = 1u << 31;

    std::uint32_t capacity;
    overflow policy;
    // Messages taken and not yet handled or refused (in the mailbox, or held back while a
    // coroutine handler is suspended), plus closed_flag.
    std::atomic<std::uint32_t> size{0};
    std::atomic<std::uint32_t> blocked{0};  // senders waiting for room
    // Coroutines suspended in `co_await send` (oldest first), linked under waiters_lock, which
    // only the slow paths take. `suspended` counts them, so that release_slot() and
    // closed_to_senders() look for them without the lock (the seq_cst pair in cell.cpp).
    std::atomic<std::uint32_t> suspended{0};
    std::mutex waiters_lock;
    send_waiter* first_sender = nullptr;
    send_waiter* last_sender = nullptr;
    // drop_oldest only: a sender that makes room takes the consumer's side of the queue, so
    // the consumer holds this lock too while it touches its queue.
    std::mutex queue_lock;
};

/// A suspended coroutine of an actor, which the actor cancels when it begins to stop or fail.
/// Registered and cancelled only on the actor's executor.
class waiter {
public:
    /// Makes the coroutine resume (soon, through the mailbox) with troupe::cancelled.
    virtual void cancel() noexcept = 0;
    waiter* prev_waiter_ = nullptr;
    waiter* next_waiter_ = nullptr;

protected:
    ~waiter() = default;
};

/// What an actor keeps beyond the common case (coroutines, children, its failure), allocated
/// when first needed.
struct cell_extras;

/// A notice about another actor's end, delivered by the runtime.
using notice = end_notice;

/// The wait-for graph of actors: `waiter` waits (blocked, or suspended under
/// reentrancy::none) for `awaited`, a reply or a stop that the state's producer gives. Throws
/// troupe::deadlock, and adds nothing, if the producer is the waiter or (through other waits
/// that have not ended) waits for it. An actor may wait for several states at once (coroutines
/// of a nursery); each wait is an edge of its own.
void add_wait_edge(const cell_base& waiter, const state_base& awaited);
void remove_wait_edge(const cell_base& waiter, const state_base& awaited) noexcept;

/// The cell being constructed on this thread, so that actor's constructor can find it.
cell_base*& constructing_cell() noexcept;
/// The cell whose turn is running on this thread, or null.
cell_base* running_cell() noexcept;

class cell_base : public job, public actor_endpoint {
public:
    /// Cells come from the same per-thread pools as envelopes: spawned on one thread, they are
    /// usually freed on another (the worker that runs their last turn).
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { pool_deallocate(p, size); }
    /// Over-aligned actors (`alignas(64)`) skip the pools, whose blocks are 16-aligned.
    static void* operator new(std::size_t size, std::align_val_t al) { return ::operator new(size, al); }
    static void operator delete(void* p, std::size_t size, std::align_val_t al) noexcept {
        ::operator delete(p, size, al);
    }

    /// Sends `e`; on failure `e` still belongs to the caller. Any thread.
    send_status try_send(envelope* e) noexcept;
    /// Sends `e` or throws (actor_dead, mailbox_full); takes ownership of `e` in every case.
    void send_or_throw(envelope* e);
    /// Sends `e`; on failure tells its asker why and deletes it. Never throws.
    void send_or_reject(envelope* e) noexcept;
    /// For `co_await ref.send(m)`: queues `e` if the mailbox has room (or no bound), whatever
    /// its overflow policy, and never blocks. accepted: queued. dead: the actor no longer takes
    /// messages. full: no room; with a `w`, w is then registered until the target claims it
    /// (room was given to it, or the actor closed; see send_waiter) or remove_send_waiter().
    /// On anything but accepted `e` is still the caller's. Any thread.
    send_status try_send_or_wait(envelope* e, send_waiter* w) noexcept;
    /// Unregisters `w` if the target has not claimed it yet (true). Either way, once this
    /// returns the target no longer touches `w`, and w.outcome_ is final. Any thread.
    bool remove_send_waiter(send_waiter& w) noexcept;
    /// How many coroutines wait in `co_await send` for room in this mailbox (for tests).
    std::size_t suspended_senders() const noexcept;

    /// Requests a stop after the messages already queued. False if already stopping/stopped.
    bool request_stop() override;
    /// Stops at once: queued messages are refused, coroutines cancelled, children killed.
    /// False if the actor had already ended.
    bool kill() override;
    /// Why the actor ended. Only once terminated().
    exit_reason reason() const override;
    /// Completes once the actor has stopped (normally, by failure, or failing to start).
    future<void> termination() override;
    /// True once the actor has stopped for good.
    bool terminated() const noexcept override;

    bool alive() const noexcept override { return !mailbox_.closed(); }
    std::uint64_t id() const noexcept override { return id_; }
    std::string name() const override;
    void deliver(untyped_send send) override;

    /// The system this actor lives in (valid while the actor is alive).
    system_state& owner() const noexcept { return *system_; }
    troupe::system& system() const noexcept;
    /// The actor object. Only on the actor's executor while it runs, or under the registry lock.
    virtual actor& object() noexcept = 0;
    /// The actor's class.
    virtual const std::type_info& actor_type() const noexcept = 0;

    void run_job() noexcept override;

    /// Called once by spawn after construction: registers the cell and schedules its first turn.
    void start();

    /// The registry's links through its cells (touched only under the registry's lock).
    struct registry_hook {
        cell_base* older = nullptr;
        cell_base* newer = nullptr;
    } registry_hook_;

    // For troupe::async: coroutine handlers. All of these run on the actor's executor.

    /// The actor's reentrancy policy (from its class's `reentrancy_policy`).
    reentrancy policy() const noexcept { return policy_; }
    /// A coroutine handler was started: under reentrancy::none the mailbox waits until it ends.
    void task_started();
    /// A coroutine handler ended. `error` is an exception nobody else will see (a tell's
    /// handler threw): the actor fails with it, as for a plain handler.
    void task_finished(std::exception_ptr error, const std::type_info& message) noexcept;
    /// True once the actor began to stop or fail: awaits fail at once with troupe::cancelled.
    bool cancelling() const noexcept;
    /// Registers a suspended await, cancelled if the actor begins to stop or fail.
    void add_waiter(waiter& w) noexcept;
    void remove_waiter(waiter& w) noexcept;
    /// Posts a resumption (any thread). False once the actor has finished.
    bool post_internal(envelope* e) noexcept;

    // Families, links and monitors. Called on this actor's executor.

    /// Throws troupe::error if this actor is ending (stopping its children, or in on_stop or
    /// on_failure): a child it spawned then would outlive it, or keep it waiting for ever.
    /// Called before the child is spawned.
    void check_may_adopt() const;
    /// Makes `child` (just spawned from this actor's handler: a cell, or an actor elsewhere) a
    /// child of this actor: stopped with it, and told to it as a child_stopped when it ends.
    void adopt(actor_endpoint& child);
    /// Moves a live child to `position` in the start order (0 = oldest; clamped to the end).
    void place_child(actor_endpoint& child, std::size_t position);
    /// This actor gets a troupe::down when `target` ends. Throws if the actor has no handler.
    /// The target may be an endpoint that is not a cell (an actor in another process).
    void monitor(actor_endpoint& target);
    /// This actor and `other` get a troupe::exit_signal when the other ends abnormally.
    void link(actor_endpoint& other);
    /// Posts a notice about another actor's end (any thread). False once this one has finished.
    bool post_notice(notice n) noexcept override;
    /// Handles a notice on this actor's executor (runs the user's handler, if any).
    void take_notice(notice& n);

protected:
    cell_base(system_state& sys, const spawn_options& options, reentrancy policy);
    ~cell_base() override;

    /// The class name used in names and logs.
    virtual const std::string& type_label() const noexcept = 0;
    /// Destroys the actor object (after on_stop/on_failure). Idempotent.
    virtual void destroy_object() noexcept = 0;
    /// Finds the handler for an untyped message; null if the actor does not handle it.
    virtual envelope* make_untyped(untyped_send& send) = 0;
    /// Runs the actor's handler for a notice; false if it has none for that kind.
    virtual bool dispatch_notice(notice& n) = 0;
    /// True if the actor has a handler for notices of the variant's alternative `index`.
    virtual bool handles_notice(std::size_t index) const noexcept = 0;

private:
    friend class control;
    enum class phase : std::uint8_t { starting, running, finished };
    enum class ending : std::uint8_t { normal, stopped, failed, start_failed, killed };
    static constexpr std::uintptr_t done_tag = 1;

    envelope* next_envelope() noexcept;
    bool linger() noexcept;
    bool hold_back(envelope* e) noexcept;
    void refuse(envelope* e, const char* why) noexcept;
    void begin_cancelling() noexcept;
    void settle(ending how, std::exception_ptr error) noexcept;
    void dispatch(envelope* e) noexcept;
    send_status send_bounded(envelope* e) noexcept;
    send_status make_room(envelope* e) noexcept;
    std::unique_lock<std::mutex> lock_queue() noexcept;
    void release_slot(const envelope& e) noexcept;
    void closed_to_senders() noexcept;
    send_status take_slot() noexcept;
    static void unlink_sender(bound_state& b, send_waiter& w) noexcept;
    void hand_off_slot() noexcept;
    void wake_suspended_senders() noexcept;
    send_status push(envelope* e) noexcept;
    bool admitted(mailbox::push_result r) noexcept;
    void do_start() noexcept;
    void do_stop(bool by_itself) noexcept;
    void do_kill() noexcept;
    void try_finish_settled() noexcept;
    void stop_youngest_child() noexcept;
    cell_extras& extras();
    void fail(std::exception_ptr error, const std::type_info& culprit) noexcept;
    void finish(ending how, std::exception_ptr error) noexcept;
    void drain_rejected(envelope* rest, bool log) noexcept;

    mailbox mailbox_;
    executor* executor_;
    system_state* system_;
    std::uint64_t id_;
    std::unique_ptr<std::string> custom_name_;
    std::unique_ptr<bound_state> bound_;
    std::atomic<std::uintptr_t> termination_{0};  // 0, done_tag or a shared_state<void>*
    std::unique_ptr<cell_extras> async_;
    phase phase_ = phase::starting;
    bool dedicated_ = false;
    reentrancy policy_ = reentrancy::none;
    ending end_ = ending::normal;  // written before termination is published
    std::atomic<bool> kill_requested_{false};
};

inline cell_base* actor_endpoint::local() noexcept {
    return is_cell_ ? static_cast<cell_base*>(this) : nullptr;
}

/// An actor class's `static constexpr troupe::reentrancy reentrancy_policy`, or none.
template <class A>
constexpr reentrancy reentrancy_of() {
    if constexpr (requires { A::reentrancy_policy; }) {
        return A::reentrancy_policy;
    } else {
        return reentrancy::none;
    }
}

/// Detects `using handles = troupe::handles<...>` in an actor class.
template <class A, class = void>
struct has_handles_list : std::false_type {};
template <class A>
struct has_handles_list<A, std::void_t<typename A::handles>> : std::true_type {};

template <class A>
envelope* make_untyped_envelope(untyped_send& send);

/// The cell of an actor of class A; the actor object lives inside it.
template <class A>
class cell final : public cell_base {
public:
    template <class... Args>
    cell(system_state& sys, const spawn_options& options, Args&&... args)
        : cell_base(sys, options, reentrancy_of<A>()) {
        constructing_cell() = this;
        struct reset {
            ~reset() { constructing_cell() = nullptr; }
        } guard;
        ::new (static_cast<void*>(&storage_)) A(std::forward<Args>(args)...);
        alive_object_ = true;
    }
    ~cell() override { destroy_object(); }

    actor& object() noexcept override { return *ptr(); }
    A& typed() noexcept { return *ptr(); }
    const std::type_info& actor_type() const noexcept override { return typeid(A); }

protected:
    const std::string& type_label() const noexcept override {
        static const std::string label = short_type_name(typeid(A));
        return label;
    }
    void destroy_object() noexcept override {
        if (alive_object_) {
            alive_object_ = false;
            ptr()->~A();
        }
    }
    envelope* make_untyped(untyped_send& send) override { return make_untyped_envelope<A>(send); }
    bool dispatch_notice(notice& n) override {
        return std::visit(
            [this](auto& m) {
                using M = std::decay_t<decltype(m)>;
                if constexpr (handles_v<A, M>) {
                    // Run it as a tell would run: a coroutine handler is started the same way.
                    run_told(static_cast<A&>(object()), std::move(m));
                    return true;
                } else {
                    return false;
                }
            },
            n);
    }
    bool handles_notice(std::size_t index) const noexcept override {
        switch (index) {
            case 0:
                return handles_v<A, down>;
            case 1:
                return handles_v<A, exit_signal>;
            default:
                return handles_v<A, child_stopped>;
        }
    }

private:
    A* ptr() noexcept { return std::launder(reinterpret_cast<A*>(&storage_)); }

    alignas(A) unsigned char storage_[sizeof(A)];
    bool alive_object_ = false;
};

/// What `ref<A>::send(m)` returns: a send that may wait for room, for troupe::async's
/// `co_await` (see troupe/async/send.hpp). Owns the message, in its envelope, and a reference
/// to the target. Destroyed without being awaited, it sends nothing and destroys the message.
class [[nodiscard]] pending_send {
public:
    /// Takes ownership of `message`, for the actor of `target`.
    pending_send(counted_ptr<cell_base> target, envelope* message) noexcept
        : target_(std::move(target)), message_(message) {}
    pending_send(pending_send&& o) noexcept
        : target_(std::move(o.target_)), message_(std::exchange(o.message_, nullptr)) {}
    pending_send& operator=(pending_send&&) = delete;
    ~pending_send() {
        if (message_ != nullptr) {
            message_->dispose();
        }
    }

    /// For the awaiter: takes the target and the message (null once taken).
    counted_ptr<cell_base> take_target() noexcept { return std::move(target_); }
    envelope* take_message() noexcept { return std::exchange(message_, nullptr); }

private:
    counted_ptr<cell_base> target_;
    envelope* message_;
};

}  // namespace troupe::detail
