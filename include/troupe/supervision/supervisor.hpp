#pragma once
/// \file
/// supervisor: an actor that starts its children from child specs, in order, and starts them
/// again when they end, Erlang-style: one_for_one, one_for_all or rest_for_one, at most
/// max_restarts restarts within a period, then it gives up: it stops its children and fails,
/// which its own supervisor (if any) sees as the failure of a child. Children are stopped in
/// the reverse of their start order, one at a time.

#include <troupe/core/actor.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/supervision/child_spec.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace troupe {

/// Which children a supervisor restarts when one ends and its restart policy asks for it.
enum class restart_strategy : unsigned char {
    one_for_one,   ///< only that child
    one_for_all,   ///< all: the others are stopped (last started first), then all start again in order
    rest_for_one,  ///< that child and those started after it: they are stopped, then all start in order
};

/// How many restarts a supervisor allows: more than `max_restarts` within any period of
/// `within` and it gives up (stops its children and fails with restart_intensity_exceeded).
struct restart_intensity {
    std::uint32_t max_restarts = 3;                                        ///< R: 0 gives up at the first
    std::chrono::steady_clock::duration within = std::chrono::seconds(5);  ///< T: the sliding window
};

/// What a supervisor tells its observer (supervisor_spec::observer), from its own executor.
struct supervisor_event {
    /// What happened.
    enum class kind : unsigned char {
        started,       ///< a child started: for the first time, or again (`restarts` > 0)
        ended,         ///< a child ended with `reason`; `restart` says whether it will start again
        start_failed,  ///< a child's constructor threw while restarting (`reason` holds the exception)
        gave_up,       ///< too many restarts: the supervisor stops its children and then fails
    };
    kind what = kind::started;  ///< what happened
    std::string child;          ///< the child's name in its spec (for gave_up: the one that went over)
    ref<actor> who;             ///< the incarnation concerned (started, ended)
    exit_reason reason;         ///< why it ended (ended, gave_up) or what its constructor threw (start_failed)
    bool restart = false;       ///< ended: it will be started again, alone or with its group
    std::uint32_t restarts =
        0;  ///< started: how many times the child has been restarted, this start included (0: the first)
};

/// A supervisor's configuration: its strategy, its restart intensity and its children, started
/// in this order. Copyable, so that a child_spec can start a supervisor again.
struct supervisor_spec {
    restart_strategy strategy = restart_strategy::one_for_one;  ///< which children a restart takes along
    restart_intensity intensity{};                              ///< how many restarts before giving up
    std::vector<child_spec> children{};                         ///< started in order, stopped in reverse
    /// The clock the intensity is measured with; null means std::chrono::steady_clock::now. A test
    /// (or a manual clock) plugs in here.
    std::function<std::chrono::steady_clock::time_point()> clock{};
    /// Called for every start, end and decision, on the supervisor's executor: keep it short and
    /// thread-safe. An exception from it is logged and ignored.
    std::function<void(const supervisor_event&)> observer{};
};

/// Asks a supervisor for the current incarnation of its child `name`, as a ref<A> (A is the
/// child's class, or troupe::actor for any child). The answer is empty while the child is not
/// running. A restart makes a new actor with a new ref: ask again after one. The ask fails with
/// troupe::error if there is no such child or it is not an A.
template <class A = actor>
struct which_child {
    std::string name;  ///< the name in the child's spec
};

/// One child of a supervisor, as which_children reports it.
struct child_info {
    std::string name;            ///< the name in its spec
    ref<actor> current;          ///< its current incarnation; empty while it is not running
    restart_policy restart{};    ///< its restart policy
    std::uint32_t restarts = 0;  ///< how many times it was restarted
};

/// Asks a supervisor for all its children, in start order (a std::vector<child_info>).
struct which_children {};

/// Why a supervisor gave up: its children needed more restarts than its intensity allows. It
/// is the supervisor's failure (exit_reason::error), which its own supervisor handles like any
/// failing child: restarts it, or gives up in turn (escalation).
class restart_intensity_exceeded : public error {
public:
    /// `what` is the message; `child` the child whose end (or failed start) went over the limit.
    restart_intensity_exceeded(const std::string& what, std::string child) : error(what), child_(std::move(child)) {}
    /// The name of the child whose end (or failed start) went over the limit.
    const std::string& child() const noexcept { return child_; }

private:
    std::string child_;
};

/// Why a supervisor failed to start: the constructor of one of its children threw while the
/// supervisor started them (the children already started are stopped, in reverse order).
class child_start_failed : public error {
public:
    /// `what` is the message; `child` the child that could not start.
    child_start_failed(const std::string& what, std::string child) : error(what), child_(std::move(child)) {}
    /// The name of the child that could not start.
    const std::string& child() const noexcept { return child_; }

private:
    std::string child_;
};

/// An Erlang-style supervisor. `sys.spawn<troupe::supervisor>(spec)` starts it; it starts the
/// children of the spec in order, as its own children, and restarts them by its strategy. It is
/// an actor like any other: a child_spec may start a supervisor (nested supervision), and its
/// stop stops its children first.
class supervisor final : public actor {
public:
    /// What an untyped address may send it.
    using handles = troupe::handles<which_child<>, which_children>;

    /// Checks the spec (names must be unique; throws troupe::error); the children start in on_start.
    explicit supervisor(supervisor_spec spec);

    /// A child ended: restart it (and its group) if its policy asks for it, or continue a group
    /// restart under way. The runtime sends it; do not send it yourself.
    void handle(child_stopped c);
    /// The current incarnation of a child (see which_child).
    template <class A>
    ref<A> handle(which_child<A> q) const {
        static_assert(std::is_base_of_v<actor, A>, "troupe::which_child<A>: A must derive from troupe::actor");
        return ref<A>(current_of(q.name, typeid(A)).endpoint_handle());
    }
    /// Every child, in start order.
    std::vector<child_info> handle(which_children) const;

protected:
    /// Starts the children in order. If a constructor throws, stops the children started so far
    /// (in reverse order) and then fails with child_start_failed.
    void on_start() override;

private:
    struct slot {
        child_spec spec;
        ref<actor> current;          // empty while not running
        std::uint32_t restarts = 0;  // restarts of this child so far
        bool in_group = false;       // to be stopped (if running) and started by the group restart under way
    };

    std::chrono::steady_clock::time_point now() const;
    bool closing() const;
    std::optional<std::size_t> running_slot(std::uint64_t id) const;
    ref<actor> current_of(const std::string& name, const std::type_info& wanted) const;
    bool record_restart();
    void keep_spec_order(std::size_t i);
    bool restart(std::size_t i);
    void continue_group();
    void give_up(const std::string& child, const exit_reason& last);
    void report(supervisor_event e) const;

    supervisor_spec spec_;                                      // without the children: they are in slots_
    std::vector<slot> slots_;                                   // in start order
    std::deque<std::chrono::steady_clock::time_point> recent_;  // times of the restarts within the window
    std::optional<std::size_t> stopping_;  // the child whose end the group restart (or giving up) waits for
    std::exception_ptr giving_up_;         // set once the intensity is exceeded: thrown once all are stopped
};

}  // namespace troupe
