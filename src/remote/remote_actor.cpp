// Actors inside other process actors: the caller's endpoint for one (remote_actor), the sinks of
// its dialogs, the table of exposed actor classes, and the callee's side (peer::host and
// peer::on_hosted).

#include <troupe/core/errors.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/log.hpp>
#include <troupe/remote/actor.hpp>
#include <troupe/remote/errors.hpp>
#include <troupe/wire/errors.hpp>

#include "remote/child.hpp"
#include "remote/identity.hpp"
#include "remote/peer.hpp"
#include "remote/runtime.hpp"
#include "remote/served_call.hpp"
#include "remote/thrown.hpp"

#include <cxxabi.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace troupe::remote::detail {

using troupe::detail::actor_endpoint;
using troupe::detail::counted_ptr;

namespace {

/// An exit reason on the wire: [kind, error type, message].
using exit_record = std::tuple<std::uint8_t, std::string, std::string>;

exit_record record_of(const exit_reason& r) {
    return {static_cast<std::uint8_t>(r.what), r.error_type, r.message};
}

/// The exception a remote error stands for here: troupe's own errors keep their type (an ask
/// of a dead actor fails with actor_dead wherever the actor is); others are remote_actor_errors.
std::exception_ptr error_from(const std::string& who, const std::string& type, const std::string& message,
                              std::string backtrace = {}) {
    if (type == "troupe::actor_dead") {
        return std::make_exception_ptr(actor_dead(message));
    }
    if (type == "troupe::mailbox_full") {
        return std::make_exception_ptr(mailbox_full(message));
    }
    if (type == "troupe::unhandled_message") {
        return std::make_exception_ptr(unhandled_message(message));
    }
    return std::make_exception_ptr(remote_actor_error(who, type, message, std::move(backtrace)));
}

exit_reason reason_from(const std::string& who, const exit_record& r) {
    exit_reason reason;
    const auto what = std::get<0>(r);
    reason.what = what <= static_cast<std::uint8_t>(exit_reason::kind::killed) ? static_cast<exit_reason::kind>(what)
                                                                               : exit_reason::kind::failed;
    if (reason.what == exit_reason::kind::failed) {
        reason.error_type = std::get<1>(r);
        reason.message = std::get<2>(r);
        reason.error = error_from(who, reason.error_type, reason.message);
    }
    return reason;
}

/// The registry of exposed actor classes, filled at static initialisation.
struct actor_table {
    std::mutex lock;
    std::vector<const exposed_actor*> entries;
};
actor_table& actors() {
    static actor_table table;  // function-local: usable from other translation units' initialisers
    return table;
}

/// A fresh id for an actor elsewhere: unique in this process, and apart from the ids of its
/// systems' own actors (those count up from 1; these have the top bit set).
std::uint64_t next_remote_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return (std::uint64_t{1} << 63) | next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

/// The caller's side of an actor in another process: what a ref<A> to it points at. It exists
/// from the moment its spawn is sent (messages sent before it runs there arrive after the
/// spawn, on the same dialog); `owner`, if set, is a process started for this actor alone,
/// ended (and reaped) when the actor ends, before the actor counts as ended here.
class remote_actor final : public actor_endpoint {
public:
    remote_actor(std::shared_ptr<peer> to, std::uint64_t dialog, std::string name, std::shared_ptr<child> owner)
        : to_(std::move(to)),
          dialog_(dialog),
          id_(next_remote_id()),
          owner_(std::move(owner)),
          name_(std::move(name)) {}

    void deliver(troupe::detail::untyped_send send) override;
    std::string name() const override {
        const std::lock_guard guard(lock_);
        return name_;
    }
    std::uint64_t id() const noexcept override { return id_; }
    bool alive() const noexcept override { return alive_.load(std::memory_order_acquire); }

    bool request_stop() override {
        if (!alive_.exchange(false, std::memory_order_acq_rel)) {
            return false;
        }
        to_->send(dialog_, wire::msg::stop_actor{false});
        return true;
    }
    bool kill() override {
        if (terminated()) {
            return false;
        }
        alive_.store(false, std::memory_order_release);
        to_->send(dialog_, wire::msg::stop_actor{true});
        return true;
    }
    future<void> termination() override { return ended_.get_future(); }
    bool terminated() const noexcept override { return ended_.satisfied(); }
    exit_reason reason() const override {
        const std::lock_guard guard(lock_);
        return reason_;
    }
    bool post_notice(troupe::detail::end_notice n) noexcept override {
        // Only links tell another actor of an end; monitors and parents are told here.
        auto* signal = std::get_if<exit_signal>(&n);
        if (signal == nullptr || terminated()) {
            return false;
        }
        try {
            const exit_reason& r = signal->reason;
            return to_->send(dialog_,
                             wire::msg::exit_signal{signal->id, signal->name, static_cast<std::uint8_t>(r.what),
                                                    r.error_type, r.message});
        } catch (...) {
            return false;
        }
    }

    /// It runs there, as `name` (its name in its process).
    void started(const std::string& name) {
        const std::string full = to_->name() + "/" + name;
        const std::lock_guard guard(lock_);
        name_ = full;
    }
    /// The actor has ended there (its dialog's returned), or its connection has closed. With a
    /// process of its own, that process is ended and reaped first.
    void ended(exit_reason why) {
        {
            const std::lock_guard guard(lock_);
            if (ending_) {
                return;
            }
            ending_ = true;
            reason_ = std::move(why);
        }
        alive_.store(false, std::memory_order_release);
        if (owner_) {
            owner_->stop().then_state([self = counted_ptr<remote_actor>(this)](auto&) { self->ended_.set_value(); });
        } else {
            ended_.set_value();  // outside the lock: it runs monitors' and links' continuations
        }
    }

private:
    const std::shared_ptr<peer> to_;
    const std::uint64_t dialog_;
    const std::uint64_t id_;
    const std::shared_ptr<child> owner_;
    std::atomic<bool> alive_{true};
    mutable std::mutex lock_;
    std::string name_;
    bool ending_ = false;
    exit_reason reason_;
    promise<void> ended_;
};

namespace {

/// The reply dialog of one ask of a remote_actor.
class ask_sink final : public reply_sink {
public:
    ask_sink(troupe::detail::state_base& reply, const troupe::detail::reply_codec& coder, std::string who)
        : reply_(&reply), coder_(coder), who_(std::move(who)) {
        reply_->add_ref();
    }
    ~ask_sink() override { reply_->release(); }
    ask_sink(const ask_sink&) = delete;
    ask_sink& operator=(const ask_sink&) = delete;

    void returned(std::span<const std::byte> value) override { coder_.complete(*reply_, value); }
    void failed(std::exception_ptr e) noexcept override { reply_->try_set_error(std::move(e)); }
    const char* awaited() const noexcept override { return "the ask was answered"; }
    void failed_there(const std::string&, std::string type, std::string message,
                      std::string backtrace) noexcept override {
        try {
            failed(error_from(who_, type, message, std::move(backtrace)));
        } catch (...) {
            failed(std::current_exception());
        }
    }

private:
    troupe::detail::state_base* reply_;
    const troupe::detail::reply_codec& coder_;
    std::string who_;
};

[[noreturn]] void throw_no_codec(const std::string& what, const std::string& type, const std::string& to) {
    throw error("troupe: " + what + " " + type + " has no troupe::codec, so it cannot travel to " + to +
                " in another process (make it a TROUPE_RECORD, include <troupe/wire/codec.hpp>, or specialise "
                "troupe::codec)");
}

}  // namespace

void remote_actor::deliver(troupe::detail::untyped_send send) {
    const bool ask = send.reply != nullptr;
    try {
        if (!alive() || terminated()) {
            throw actor_dead(name() + " is not running: it did not take the " + send.msg.type_name());
        }
        if (send.msg_codec == nullptr) {
            throw_no_codec("the message", send.msg.type_name(), name());
        }
        if (ask && send.reply_coder == nullptr) {
            throw_no_codec("the reply", troupe::detail::type_name(*send.reply_type), name());
        }
        std::vector<std::byte> value;
        send.msg_codec->encode(send.msg, value);
        std::uint64_t reply_dialog = 0;
        if (ask) {
            reply_dialog = to_->open_dialog(std::make_shared<ask_sink>(*send.reply, *send.reply_coder, name()));
            if (reply_dialog == 0) {
                return;  // the connection has closed: the sink has failed the asker
            }
        }
        if (!to_->send(dialog_, wire::msg::post{send.msg_codec->type.name(), std::move(value), reply_dialog})) {
            if (ask) {
                to_->abandon_dialog(reply_dialog,
                                    std::make_exception_ptr(actor_dead(name() + ": the connection has closed")));
                return;
            }
            throw actor_dead(name() + ": the connection has closed");
        }
        // A sender faster than the connection waits here (a thread of its own, or an actor's
        // worker, as at a full blocking mailbox), so that what it sent stays bounded.
        to_->make_room();
    } catch (...) {
        if (!ask) {
            throw;
        }
        send.reply->try_set_error(std::current_exception());
    }
}

namespace {

/// The spawn dialog of one remote_actor: its start, then its end.
class spawn_sink final : public reply_sink {
public:
    spawn_sink(std::shared_ptr<peer> to, std::string name, std::shared_ptr<child> owner)
        : to_(std::move(to)), name_(std::move(name)), owner_(std::move(owner)) {}

    /// Completes once the actor runs there; fails with why it could not be spawned.
    future<void> started_future() const { return started_.get_future(); }
    const char* awaited() const noexcept override { return "the actor ended"; }
    /// The endpoint, made once the dialog has its id (null if the connection had closed).
    const counted_ptr<remote_actor>& actor() const noexcept { return actor_; }

    void bound(std::uint64_t dialog) override {
        actor_ = counted_ptr<remote_actor>::adopt(new remote_actor(to_, dialog, to_->name() + "/" + name_, owner_));
    }
    void started(std::span<const std::byte> value, std::uint32_t) override {
        const auto [id, name] = wire::decode<std::tuple<std::uint64_t, std::string>>(value);
        (void)id;
        actor_->started(name);
        started_.set_value();
    }
    void returned(std::span<const std::byte> value) override {
        actor_->ended(reason_from(actor_->name(), wire::decode<exit_record>(value)));
    }
    void failed(std::exception_ptr e) noexcept override {
        if (!actor_) {
            started_.set_exception(std::move(e));
            return;
        }
        exit_reason why;
        why.what = exit_reason::kind::failed;
        if (!started_.satisfied()) {
            // It never ran: why not is its exit reason (the supervisor of a process child sees it).
            exception_description d = describe_exception(e);
            why.error_type = std::move(d.type);
            why.message = std::move(d.message);
            why.error = e;
            started_.set_exception(std::move(e));
        } else {
            // It ran, then the connection closed (or its end did not decode): the actor is lost.
            why.error_type = "troupe::actor_dead";
            why.message = actor_->name() + ": the connection to its process closed (" + to_->close_reason() + ")";
            why.error = std::make_exception_ptr(actor_dead(why.message));
        }
        actor_->ended(std::move(why));
    }

private:
    const std::shared_ptr<peer> to_;
    const std::string name_;
    const std::shared_ptr<child> owner_;
    counted_ptr<remote_actor> actor_;
    promise<void> started_;
};

/// "counter" for "bank::counter": the last name of a qualified one (before any template arguments).
std::string short_name(const std::string& readable) {
    const std::size_t end = std::min(readable.find('<'), readable.size());
    const std::size_t colons = readable.rfind("::", end);
    return colons == std::string::npos ? readable : readable.substr(colons + 2);
}

/// "counter" for the wire name of a type (its mangled name).
std::string readable_type(const std::string& mangled) {
    int status = 0;
    char* readable = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    std::string name = status == 0 && readable != nullptr ? readable : mangled;
    std::free(readable);
    return name;
}

}  // namespace

// The table of exposed classes.

void expose_actor(const exposed_actor& a) {
    actor_table& table = actors();
    const std::lock_guard guard(table.lock);
    for (const exposed_actor* e : table.entries) {
        if (e->spawn == a.spawn) {
            throw error(std::string("TROUPE_EXPOSE_ACTOR: ") + a.name + " is exposed twice with the same parameters");
        }
    }
    table.entries.push_back(&a);
}

std::vector<const exposed_actor*> find_exposed_actors(std::string_view type) {
    actor_table& table = actors();
    const std::lock_guard guard(table.lock);
    std::vector<const exposed_actor*> found;
    for (const exposed_actor* e : table.entries) {
        if (e->type == type) {
            found.push_back(e);
        }
    }
    return found;
}

// The caller's side.

spawned_remote spawn_remote(const std::shared_ptr<peer>& to, std::string type, const spawn_options& options,
                            std::vector<std::byte> args, std::shared_ptr<child> owner) {
    std::string name = options.name.empty() ? short_name(readable_type(type)) : options.name;
    auto sink = std::make_shared<spawn_sink>(to, std::move(name), std::move(owner));
    spawned_remote out{{}, sink->started_future()};
    to->start_spawn(
        wire::msg::spawn_actor{std::move(type), options.name, std::move(args), options.mailbox.capacity,
                               static_cast<std::uint8_t>(options.mailbox.on_overflow), options.dedicated_thread},
        sink);
    out.actor = counted_ptr<actor_endpoint>(sink->actor().get());
    return out;
}

future<counted_ptr<actor_endpoint>> spawn_remote_actor(const std::shared_ptr<peer>& to, std::string type,
                                                       const spawn_options& options, std::vector<std::byte> args) {
    spawned_remote s = spawn_remote(to, std::move(type), options, std::move(args), nullptr);
    return s.started.then_anywhere([actor = std::move(s.actor)] { return actor; });
}

// The callee's side.

void send_reply(const reply_route& route, std::vector<std::byte> value) {
    if (auto p = route.to.lock()) {
        p->send(route.dialog, wire::msg::returned{std::move(value)});
    }
}

void send_failure(const reply_route& route, const std::exception_ptr& e) {
    if (auto p = route.to.lock()) {
        auto [type, message, backtrace] = describe_exception(e);
        p->send(route.dialog, wire::msg::error{std::move(type), std::move(message), std::move(backtrace)});
    }
}

void peer::host(std::uint64_t dialog, wire::msg::spawn_actor&& s) {
    const std::vector<const exposed_actor*> candidates = find_exposed_actors(s.type);
    auto refuse = [&](std::string error_type, std::string message) {
        connection_->send(dialog, wire::msg::error{std::move(error_type), std::move(message), {}});
    };
    if (candidates.empty()) {
        refuse("troupe::not_exposed", "the actor class " + readable_type(s.type) + " is not exposed by " +
                                          self_identity().full_name() + " (TROUPE_EXPOSE_ACTOR)");
        return;
    }
    if (runtime_.cancelling()) {
        refuse("troupe::cancelled", self_identity().full_name() + " is ending: it spawns no more actors");
        return;
    }
    spawn_options options;
    options.name = std::move(s.name);
    options.mailbox.capacity = static_cast<std::size_t>(s.capacity);
    if (s.overflow > static_cast<std::uint8_t>(overflow::fail)) {
        refuse("troupe::error", "unknown mailbox overflow policy " + std::to_string(s.overflow));
        return;
    }
    options.mailbox.on_overflow = static_cast<overflow>(s.overflow);
    if (options.mailbox.capacity > 0 && options.mailbox.on_overflow == overflow::block) {
        refuse("troupe::error", std::string("a ") + candidates.front()->name +
                                    " spawned from another process cannot have a blocking mailbox: its messages "
                                    "arrive on the connection's thread, which must never wait (use fail, drop_newest "
                                    "or drop_oldest)");
        return;
    }
    options.dedicated_thread = s.dedicated_thread;
    // Each exposure of the class is one constructor: the first whose parameters the arguments
    // decode as is the one.
    counted_ptr<actor_endpoint> actor;
    const exposed_actor* type = nullptr;
    for (const exposed_actor* candidate : candidates) {
        try {
            actor = candidate->spawn(runtime_.system(), options, s.args);
            type = candidate;
            break;
        } catch (const wire::decode_error& e) {
            if (candidate == candidates.back()) {
                refuse("troupe::wire::decode_error", "the arguments match no constructor of " +
                                                         std::string(candidate->name) +
                                                         " exposed with TROUPE_EXPOSE_ACTOR (" + e.what() + ")");
                return;
            }
        } catch (...) {
            auto [error_type, message, backtrace] = describe_current_exception();
            connection_->send(dialog,
                              wire::msg::error{std::move(error_type), std::move(message), std::move(backtrace)});
            return;
        }
    }
    {
        const std::lock_guard guard(lock_);
        hosted_.emplace(dialog, hosted_actor{actor, type});
    }
    connection_->send(dialog, wire::msg::started{wire::encode(std::tuple(actor->id(), actor->name())), 0});
    actor->termination().then_state([self = weak_from_this(), dialog, actor](auto&) {
        auto p = self.lock();
        if (!p) {
            return;
        }
        // Its end goes out before it stops counting as served: a cancelled process actor
        // acknowledges only once every hosted actor's end is on its way.
        p->send(dialog, wire::msg::returned{wire::encode(record_of(actor->reason()))});
        {
            const std::lock_guard guard(p->lock_);
            p->hosted_.erase(dialog);
        }
        p->runtime_.served_call_ended();
    });
}

void peer::on_hosted(wire::message&& m) {
    hosted_actor hosted;
    {
        const std::lock_guard guard(lock_);
        auto it = hosted_.find(m.dialog);
        if (it != hosted_.end()) {
            hosted = it->second;
        }
    }
    auto* post = std::get_if<wire::msg::post>(&m.body);
    if (!hosted.actor) {
        if (post != nullptr && post->reply != 0) {
            connection_->send(
                post->reply,
                wire::msg::error{
                    "troupe::actor_dead", "the actor of dialog " + std::to_string(m.dialog) + " has ended", {}});
        }
        logger()->debug("troupe: {}: ignored a message for actor dialog {}, which has ended",
                        self_identity().full_name(), m.dialog);
        return;
    }
    actor_endpoint& actor = *hosted.actor;
    if (post != nullptr) {
        deliver_post(hosted, std::move(*post));
    } else if (auto* stop = std::get_if<wire::msg::stop_actor>(&m.body)) {
        if (stop->kill) {
            actor.kill();
        } else {
            actor.request_stop();
        }
    } else if (auto* signal = std::get_if<wire::msg::exit_signal>(&m.body)) {
        exit_reason reason;
        reason.what = signal->what == static_cast<std::uint8_t>(exit_reason::kind::killed) ? exit_reason::kind::killed
                                                                                           : exit_reason::kind::failed;
        if (reason.what == exit_reason::kind::failed) {
            reason.error_type = signal->error_type;
            reason.message = signal->message;
            reason.error = error_from(name(), reason.error_type, reason.message);
        }
        actor.post_notice(
            troupe::exit_signal{{troupe::address(), signal->id, name() + "/" + signal->name, std::move(reason)}});
    }
}

void peer::deliver_post(const hosted_actor& hosted, wire::msg::post&& p) {
    const exposed_message* entry = nullptr;
    for (std::size_t i = 0; i < hosted.type->message_count; ++i) {
        if (p.type == hosted.type->messages[i].type) {
            entry = &hosted.type->messages[i];
            break;
        }
    }
    if (entry == nullptr) {
        const std::string text = hosted.actor->name() + " does not take a " + readable_type(p.type) +
                                 " from another process (not in its troupe::handles, or it or its reply has "
                                 "no troupe::codec)";
        if (p.reply != 0) {
            connection_->send(p.reply, wire::msg::error{"troupe::unhandled_message", text, {}});
        } else {
            logger()->warn("troupe: {}: a tell from {} went to dead letters: {}", self_identity().full_name(), name(),
                           text);
        }
        return;
    }
    if (p.reply == 0) {
        try {
            entry->tell(*hosted.actor, p.value);
        } catch (const std::exception& e) {
            logger()->warn("troupe: {}: a {} told by {} did not reach {}: {}", self_identity().full_name(),
                           readable_type(p.type), name(), hosted.actor->name(), e.what());
        }
        return;
    }
    reply_route route{weak_from_this(), p.reply};
    try {
        entry->ask(*hosted.actor, p.value, route);
    } catch (...) {
        send_failure(route, std::current_exception());
    }
}

void peer::stop_hosted() {
    std::vector<counted_ptr<actor_endpoint>> actors;
    {
        const std::lock_guard guard(lock_);
        for (auto& [dialog, hosted] : hosted_) {
            actors.push_back(hosted.actor);
        }
    }
    for (auto& a : actors) {
        a->request_stop();
    }
}

}  // namespace troupe::remote::detail
