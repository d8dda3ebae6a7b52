#pragma once
/// \file
/// child_spec: how a supervisor starts one of its children, and starts it again after it ended:
/// the actor class, a copy of the constructor's arguments, a name and a restart policy. Made
/// with troupe::child<A>("name", args...).

#include <troupe/core/actor.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/system.hpp>

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe {

/// When a supervisor starts a child again after it ended.
enum class restart_policy : unsigned char {
    permanent,  ///< always, whatever the reason (the default)
    transient,  ///< only after an abnormal end (failed or killed), not after a stop
    temporary,  ///< never: once ended it stays ended, even when its siblings are restarted
};

/// How a supervisor starts one child. Every start (the first and each restart) constructs the
/// actor from copies of the same arguments. Copyable; make one with troupe::child<A>().
class child_spec {
public:
    /// Spawns the actor as a child of the actor whose context it gets, with the given options.
    using starter = std::function<ref<actor>(const context& parent, const spawn_options& options)>;

    /// A spec named `name` that starts an actor of class `type` with `start`.
    child_spec(std::string name, const std::type_info& type, starter start)
        : name_(std::move(name)), type_(&type), start_(std::make_shared<const starter>(std::move(start))) {}

    /// The child's name within its supervisor (also its actor name, unless options() say otherwise).
    const std::string& name() const noexcept { return name_; }
    /// The actor class it starts.
    const std::type_info& type() const noexcept { return *type_; }

    /// When the supervisor restarts it (permanent by default).
    restart_policy restart() const noexcept { return restart_; }
    /// Sets the restart policy: `troupe::child<a>("a").restart(troupe::restart_policy::transient)`.
    child_spec& restart(restart_policy p) & noexcept {
        restart_ = p;
        return *this;
    }
    /// Sets the restart policy of a temporary spec, for chaining after troupe::child<A>().
    child_spec&& restart(restart_policy p) && noexcept { return std::move(restart(p)); }

    /// The spawn options of every start (mailbox bound, dedicated thread, name).
    const spawn_options& options() const noexcept { return options_; }
    /// Sets the spawn options; an empty `name` in them means the spec's name.
    child_spec& options(spawn_options o) & {
        options_ = std::move(o);
        return *this;
    }
    /// Sets the spawn options of a temporary spec, for chaining after troupe::child<A>().
    child_spec&& options(spawn_options o) && { return std::move(options(std::move(o))); }

    /// Starts one incarnation as a child of `parent` (from one of its handlers or on_start).
    /// An exception from the constructor propagates and nothing is started.
    ref<actor> start(const context& parent) const {
        if (options_.name.empty()) {
            spawn_options named = options_;
            named.name = name_;
            return (*start_)(parent, named);
        }
        return (*start_)(parent, options_);
    }

private:
    std::string name_;
    const std::type_info* type_;
    std::shared_ptr<const starter> start_;  // shared: copies of a spec share the captured arguments
    restart_policy restart_ = restart_policy::permanent;
    spawn_options options_{};
};

/// A child spec that starts an actor of class A constructed from copies of `args`, taken now:
/// a restart gets the same values again (a pointer argument points at the same object).
/// `troupe::child<worker>("worker", &counter, "config")`.
template <class A, class... Args>
child_spec child(std::string name, Args&&... args) {
    static_assert(std::is_base_of_v<actor, A>, "troupe::child<A>: A must derive from troupe::actor");
    static_assert((std::is_copy_constructible_v<std::decay_t<Args>> && ...),
                  "troupe::child<A>(name, args...): every argument must be copyable, because each restart "
                  "constructs the actor from the same arguments again");
    static_assert(std::is_constructible_v<A, const std::decay_t<Args>&...>,
                  "troupe::child<A>(name, args...): A must be constructible from copies of the arguments");
    static_assert((!std::is_same_v<std::decay_t<Args>, spawn_options> && ...),
                  "troupe::child<A>(name, args...): give spawn options with .options(o), not as an argument");
    child_spec::starter start = [saved = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)](
                                    const context& parent, const spawn_options& options) {
        return std::apply([&](const auto&... a) { return ref<actor>(parent.template spawn<A>(options, a...)); }, saved);
    };
    return child_spec(std::move(name), typeid(A), std::move(start));
}

}  // namespace troupe
