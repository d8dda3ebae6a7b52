// The supervisor's decisions. Everything here runs on the supervisor's executor, one message
// at a time, so its state needs no locks.
//
// A group restart (one_for_all, rest_for_one) and giving up are sequences spread over several
// child_stopped messages: stop the last running child of the group, wait for its
// child_stopped, stop the next one, and so on; once none is left, start the group in order
// (or, giving up, fail). The supervisor is not a coroutine while it waits, so it keeps
// answering which_child, never deadlocks with a child that asks it something while it is being
// stopped, and folds a failure that arrives in the middle into the group under way.

#include <troupe/supervision/supervisor.hpp>

#include <troupe/core/log.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/system.hpp>

#include <set>
#include <utility>

namespace troupe {

namespace {

const char* strategy_name(restart_strategy s) {
    switch (s) {
        case restart_strategy::one_for_one:
            return "one_for_one";
        case restart_strategy::one_for_all:
            return "one_for_all";
        default:
            return "rest_for_one";
    }
}

/// Whether a child that ended with `reason` should start again, by its policy alone.
bool wants_restart(restart_policy policy, const exit_reason& reason) {
    switch (policy) {
        case restart_policy::permanent:
            return true;
        case restart_policy::transient:
            return reason.abnormal();
        default:
            return false;
    }
}

/// The exit reason of a constructor that threw `error`.
exit_reason failure_of(const std::exception_ptr& error) {
    exit_reason r;
    r.what = exit_reason::kind::failed;
    r.error = error;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& x) {
        r.error_type = detail::type_name(typeid(x));
        r.message = x.what();
    } catch (...) {
        r.error_type = "unknown";
    }
    return r;
}

std::string milliseconds(std::chrono::steady_clock::duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

supervisor::supervisor(supervisor_spec spec) : spec_(std::move(spec)) {
    std::set<std::string> names;
    slots_.reserve(spec_.children.size());
    for (child_spec& c : spec_.children) {
        if (!names.insert(c.name()).second) {
            throw error("supervisor_spec: two children are named '" + c.name() + "'; names must be unique");
        }
        slots_.push_back(slot{std::move(c), {}, 0, false});
    }
    spec_.children.clear();
}

void supervisor::on_start() {
    for (slot& s : slots_) {
        try {
            s.current = s.spec.start(self());
        } catch (...) {
            const exit_reason failure = failure_of(std::current_exception());
            report({supervisor_event::kind::start_failed, s.spec.name(), {}, failure, false, 0});
            const std::string what = self().name() + " could not start its child '" + s.spec.name() +
                                     "': " + failure.error_type + ": " + failure.message;
            troupe::logger()->error("{}; it stops the children it started and fails", what);
            // Not thrown from here: the children started so far are stopped first, in reverse
            // start order and one at a time, as when giving up; the last child_stopped throws.
            giving_up_ = std::make_exception_ptr(child_start_failed(what, s.spec.name()));
            continue_group();
            return;
        }
        report({supervisor_event::kind::started, s.spec.name(), s.current, {}, false, 0});
    }
}

void supervisor::handle(child_stopped c) {
    const std::optional<std::size_t> found = running_slot(c.id);
    if (!found) {
        return;  // not one of ours, or an incarnation already replaced
    }
    slot& s = slots_[*found];
    ref<actor> gone = std::exchange(s.current, {});
    const bool awaited = stopping_ == found;
    if (awaited) {
        stopping_.reset();
    }
    if (closing()) {
        // The supervisor is stopping (or the system is shutting down): nothing starts again.
        report({supervisor_event::kind::ended, s.spec.name(), gone, c.reason, false, 0});
        return;
    }
    if (giving_up_ || awaited || s.in_group) {
        // Part of a sequence under way: a group restart takes it along (unless it is temporary).
        const bool again = !giving_up_ && s.spec.restart() != restart_policy::temporary;
        report({supervisor_event::kind::ended, s.spec.name(), gone, c.reason, again, 0});
        continue_group();
        return;
    }
    if (!wants_restart(s.spec.restart(), c.reason)) {
        report({supervisor_event::kind::ended, s.spec.name(), gone, c.reason, false, 0});
        return;
    }
    if (!record_restart()) {
        report({supervisor_event::kind::ended, s.spec.name(), gone, c.reason, false, 0});
        give_up(s.spec.name(), c.reason);
        continue_group();
        return;
    }
    report({supervisor_event::kind::ended, s.spec.name(), gone, c.reason, true, 0});
    troupe::logger()->info("{}: its child '{}' ({}) ended: {}; restarting ({})", self().name(), s.spec.name(), c.name,
                           c.reason.describe(), strategy_name(spec_.strategy));
    switch (spec_.strategy) {
        case restart_strategy::one_for_one:
            if (!restart(*found)) {
                continue_group();  // the restart failed too often: stop the others and fail
            }
            return;
        case restart_strategy::one_for_all:
            for (slot& member : slots_) {
                member.in_group = true;
            }
            break;
        case restart_strategy::rest_for_one:
            for (std::size_t j = *found; j < slots_.size(); ++j) {
                slots_[j].in_group = true;
            }
            break;
    }
    continue_group();
}

void supervisor::continue_group() {
    if (stopping_) {
        return;  // one stop at a time: its child_stopped calls again
    }
    // Stop the last running child of the group (of all children, when giving up).
    for (std::size_t j = slots_.size(); j-- > 0;) {
        slot& s = slots_[j];
        if (s.current && (giving_up_ || s.in_group)) {
            stopping_ = j;
            (void)s.current.stop_async();  // its child_stopped continues the sequence
            return;
        }
    }
    if (giving_up_) {
        std::rethrow_exception(giving_up_);  // every child has ended: the supervisor fails
    }
    // Start the group again, in start order.
    for (std::size_t j = 0; j < slots_.size(); ++j) {
        slot& s = slots_[j];
        if (!s.in_group) {
            continue;
        }
        s.in_group = false;
        if (s.spec.restart() != restart_policy::temporary && !restart(j)) {
            continue_group();  // giving up: stop what this group started so far
            return;
        }
    }
}

void supervisor::keep_spec_order(std::size_t i) {
    // A restarted child is the newest troupe child; move it back to its place in the spec, so
    // that the supervisor's own stop (newest first) keeps the reverse spec order.
    std::size_t position = 0;
    for (std::size_t j = 0; j < i; ++j) {
        if (slots_[j].current) {
            ++position;
        }
    }
    self().place_child(slots_[i].current, position);
}

bool supervisor::restart(std::size_t i) {
    slot& s = slots_[i];
    while (!closing()) {
        try {
            s.current = s.spec.start(self());
            keep_spec_order(i);
            ++s.restarts;
            report({supervisor_event::kind::started, s.spec.name(), s.current, {}, false, s.restarts});
            return true;
        } catch (...) {
            if (closing()) {
                return true;  // the system began to shut down: spawn refused, and nothing should start
            }
            const exit_reason failure = failure_of(std::current_exception());
            troupe::logger()->error("{}: could not restart its child '{}': {}", self().name(), s.spec.name(),
                                    failure.describe());
            report({supervisor_event::kind::start_failed, s.spec.name(), {}, failure, false, s.restarts});
            if (!record_restart()) {
                give_up(s.spec.name(), failure);
                return false;
            }
        }
    }
    return true;  // stopping: nothing starts again
}

bool supervisor::record_restart() {
    const auto t = now();
    recent_.push_back(t);
    while (t - recent_.front() > spec_.intensity.within) {
        recent_.pop_front();
    }
    return recent_.size() <= spec_.intensity.max_restarts;
}

void supervisor::give_up(const std::string& child, const exit_reason& last) {
    const std::string what = self().name() + " gave up on its child '" + child + "' (" + last.describe() +
                             "): " + std::to_string(recent_.size()) + " restarts within " +
                             milliseconds(spec_.intensity.within) + " would be more than the " +
                             std::to_string(spec_.intensity.max_restarts) + " allowed";
    troupe::logger()->error("{}; it stops its children and fails", what);
    giving_up_ = std::make_exception_ptr(restart_intensity_exceeded(what, child));
    for (slot& s : slots_) {
        s.in_group = false;
    }
    report({supervisor_event::kind::gave_up, child, {}, last, false, 0});
}

std::vector<child_info> supervisor::handle(which_children) const {
    std::vector<child_info> out;
    out.reserve(slots_.size());
    for (const slot& s : slots_) {
        out.push_back(child_info{s.spec.name(), s.current, s.spec.restart(), s.restarts});
    }
    return out;
}

ref<actor> supervisor::current_of(const std::string& name, const std::type_info& wanted) const {
    for (const slot& s : slots_) {
        if (s.spec.name() != name) {
            continue;
        }
        if (wanted != typeid(actor) && wanted != s.spec.type()) {
            throw error(self().name() + ": its child '" + name + "' is a " + detail::type_name(s.spec.type()) +
                        ", not a " + detail::type_name(wanted));
        }
        return s.current;
    }
    throw error(self().name() + " has no child named '" + name + "'");
}

std::optional<std::size_t> supervisor::running_slot(std::uint64_t id) const {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].current && slots_[i].current.id() == id) {
            return i;
        }
    }
    return std::nullopt;
}

std::chrono::steady_clock::time_point supervisor::now() const {
    // The one place the supervisor reads time, so that a manual clock can stand in for it.
    return spec_.clock ? spec_.clock() : std::chrono::steady_clock::now();
}

bool supervisor::closing() const {
    // Not alive: its own stop (or kill, or failure) has begun. A system that is shutting down
    // stops every actor, children included, and starts no new ones.
    return !self().address().alive() || !self().system().running();
}

void supervisor::report(supervisor_event e) const {
    if (!spec_.observer) {
        return;
    }
    try {
        spec_.observer(e);
    } catch (...) {
        troupe::logger()->error("{}: its observer threw; ignored", self().name());
    }
}

}  // namespace troupe
