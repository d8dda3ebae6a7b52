#include "remote/peer.hpp"

#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/remote/errors.hpp>

#include "remote/identity.hpp"
#include "remote/runtime.hpp"
#include "remote/served_call.hpp"

#include <utility>
#include <variant>
#include <vector>

namespace troupe::remote::detail {

peer::peer(process_runtime& runtime, bool connected, bool from_parent)
    : runtime_(runtime), connected_(connected), from_parent_(from_parent), next_dialog_(connected ? 1 : 2) {}

peer::~peer() = default;

std::string peer::name() const {
    const std::lock_guard guard(lock_);
    return name_;
}

void peer::set_expected_name(std::string name) {
    const std::lock_guard guard(lock_);
    name_ = std::move(name);
}

std::string peer::close_reason() const {
    const std::lock_guard guard(lock_);
    return close_reason_;
}

std::uint64_t peer::open(const std::shared_ptr<reply_sink>& sink, const std::string& what) {
    std::uint64_t dialog = 0;
    {
        const std::lock_guard guard(lock_);
        if (closed_flag_) {
            auto dead = std::make_exception_ptr(
                actor_dead(name_ + ": cannot " + what + ": the connection has closed (" + close_reason_ + ")"));
            sink->failed(dead);
            return 0;
        }
        dialog = next_dialog_;
        next_dialog_ += 2;
        calls_.emplace(dialog, sink);
    }
    sink->bound(dialog);
    return dialog;
}

std::uint64_t peer::start_call(std::string target, std::vector<std::byte> args, std::shared_ptr<reply_sink> sink,
                               std::uint32_t credit) {
    const std::uint64_t dialog = open(sink, "call " + target);
    if (dialog != 0 && !connection_->send(dialog, wire::msg::start{std::move(target), std::move(args), credit})) {
        abandon_dialog(dialog, std::make_exception_ptr(actor_dead(name() + ": the connection has closed")));
    }
    return dialog;
}

std::uint64_t peer::start_spawn(wire::msg::spawn_actor s, std::shared_ptr<reply_sink> sink) {
    const std::uint64_t dialog = open(sink, "spawn an actor");
    if (dialog != 0 && !connection_->send(dialog, s)) {
        abandon_dialog(dialog, std::make_exception_ptr(actor_dead(name() + ": the connection has closed")));
    }
    return dialog;
}

std::uint64_t peer::open_dialog(std::shared_ptr<reply_sink> sink) {
    return open(sink, "send");
}

void peer::abandon_dialog(std::uint64_t dialog, std::exception_ptr e) {
    // Closed meanwhile: on_closed fails the sink (if it has not yet, it will).
    if (auto s = take_call(dialog)) {
        s->failed(std::move(e));
    }
}

void peer::cancel_call(std::uint64_t dialog, std::string reason) {
    {
        const std::lock_guard guard(lock_);
        if (calls_.find(dialog) == calls_.end()) {
            return;  // it has ended
        }
    }
    connection_->send(dialog, wire::msg::cancel{std::move(reason)});
}

void peer::grant_credit(std::uint64_t dialog, std::uint32_t items) {
    connection_->send(dialog, wire::msg::credit{items});
}

future<void> peer::cancel_actor() {
    bool send = false;
    bool closed = false;
    {
        const std::lock_guard guard(lock_);
        closed = closed_flag_;
        if (!closed && !cancel_sent_) {
            cancel_sent_ = true;
            send = true;
        }
    }
    if (closed) {
        acknowledge_cancel();
    } else if (send) {
        connection_->send(0, wire::msg::cancel{"cancelled by " + self_identity().full_name()});
    }
    return cancel_acked_.get_future();
}

void peer::acknowledge_cancel() {
    {
        const std::lock_guard guard(lock_);
        if (cancel_done_) {
            return;
        }
        cancel_done_ = true;
    }
    cancel_acked_.set_value();  // outside the lock: it may run continuations
}

std::shared_ptr<reply_sink> peer::take_call(std::uint64_t dialog) {
    const std::lock_guard guard(lock_);
    auto it = calls_.find(dialog);
    if (it == calls_.end()) {
        return nullptr;
    }
    std::shared_ptr<reply_sink> sink = std::move(it->second);
    calls_.erase(it);
    return sink;
}

void peer::on_open(connection& c) {
    {
        const std::lock_guard guard(lock_);
        name_ = c.peer().name;
    }
    opened_.set_value();
}

void peer::on_message(connection&, wire::message&& m) {
    if (m.dialog == 0) {
        on_connection_message(std::move(m));
    } else if (mine(m.dialog)) {
        on_reply(std::move(m));
    } else {
        on_request(std::move(m));
    }
}

void peer::on_connection_message(wire::message&& m) {
    if (auto* spawn = std::get_if<wire::msg::spawn>(&m.body)) {
        if (from_parent_) {
            runtime_.apply_spawn(*spawn);
        } else {
            logger()->warn("troupe: {}: ignored a spawn message from {}, which is not its parent",
                           self_identity().full_name(), name());
        }
    } else if (std::holds_alternative<wire::msg::cancel>(m.body)) {
        if (from_parent_) {
            runtime_.cancel_requested(std::get<wire::msg::cancel>(m.body).reason);
        } else {
            logger()->warn("troupe: {}: ignored a cancel of this actor from {}, which is not its parent",
                           self_identity().full_name(), name());
        }
    } else if (std::holds_alternative<wire::msg::cancel_ack>(m.body)) {
        acknowledge_cancel();
    } else {
        logger()->debug("troupe: {}: ignored a message of kind {} on the connection from {}",
                        self_identity().full_name(), m.body.index(), name());
    }
}

void peer::on_reply(wire::message&& m) {
    // Replies to a call this side started. One for a dialog that has ended is ignored.
    std::shared_ptr<reply_sink> sink;
    const bool final = std::holds_alternative<wire::msg::returned>(m.body) ||
                       std::holds_alternative<wire::msg::error>(m.body) ||
                       std::holds_alternative<wire::msg::cancel_ack>(m.body);
    if (final) {
        sink = take_call(m.dialog);
    } else {
        const std::lock_guard guard(lock_);
        auto it = calls_.find(m.dialog);
        if (it != calls_.end()) {
            sink = it->second;
        }
    }
    if (!sink) {
        logger()->debug("troupe: {}: ignored a message for dialog {}, which has ended", self_identity().full_name(),
                        m.dialog);
        return;
    }
    try {
        if (auto* r = std::get_if<wire::msg::returned>(&m.body)) {
            sink->returned(r->value);
        } else if (auto* e = std::get_if<wire::msg::error>(&m.body)) {
            sink->failed_there(name(), std::move(e->type), std::move(e->message), std::move(e->backtrace));
        } else if (std::holds_alternative<wire::msg::cancel_ack>(m.body)) {
            sink->failed(std::make_exception_ptr(cancelled(name() + ": the call was cancelled")));
        } else if (auto* y = std::get_if<wire::msg::yield>(&m.body)) {
            sink->yielded(y->value);
        } else if (std::holds_alternative<wire::msg::stop>(m.body)) {
            sink->stopped();
        } else if (auto* st = std::get_if<wire::msg::started>(&m.body)) {
            sink->started(st->value, st->credit);
        } else if (auto* cr = std::get_if<wire::msg::credit>(&m.body)) {
            sink->credited(cr->items);
        }
    } catch (const std::exception& e) {
        // A reply that does not decode as what the caller expects.
        sink->failed(std::make_exception_ptr(error(name() + ": the reply could not be read: " + e.what())));
        if (!final && take_call(m.dialog)) {
            connection_->send(m.dialog, wire::msg::cancel{"its reply could not be read"});
        }
    }
}

void peer::on_request(wire::message&& m) {
    if (auto* s = std::get_if<wire::msg::start>(&m.body)) {
        serve(m.dialog, std::move(*s));
        return;
    }
    if (auto* s = std::get_if<wire::msg::spawn_actor>(&m.body)) {
        host(m.dialog, std::move(*s));
        return;
    }
    if (std::holds_alternative<wire::msg::post>(m.body) || std::holds_alternative<wire::msg::stop_actor>(m.body) ||
        std::holds_alternative<wire::msg::exit_signal>(m.body)) {
        on_hosted(std::move(m));
        return;
    }
    std::shared_ptr<served_call> call;
    {
        const std::lock_guard guard(lock_);
        auto it = served_.find(m.dialog);
        if (it != served_.end()) {
            call = it->second;
        }
    }
    if (!call) {
        logger()->debug("troupe: {}: ignored a message for dialog {}, which has ended", self_identity().full_name(),
                        m.dialog);
        return;
    }
    if (std::holds_alternative<wire::msg::cancel>(m.body)) {
        call->cancel();
    } else if (auto* c = std::get_if<wire::msg::credit>(&m.body)) {
        call->add_credit(c->items);
    } else if (auto* y = std::get_if<wire::msg::yield>(&m.body)) {
        call->received(y->value);
    } else if (std::holds_alternative<wire::msg::stop>(m.body)) {
        call->caller_stopped();
    }
}

void peer::serve(std::uint64_t dialog, wire::msg::start&& s) {
    const std::size_t dot = s.target.rfind('.');
    const std::string_view target = s.target;
    const exposed_function* fn = nullptr;
    if (dot != std::string::npos) {
        const std::string_view ns = target.substr(0, dot);
        if (runtime_.serves(ns)) {
            fn = find_exposed(ns, target.substr(dot + 1));
        }
    }
    if (fn == nullptr) {
        connection_->send(dialog, wire::msg::error{"troupe::not_exposed",
                                                   s.target + " is not exposed by " + self_identity().full_name() +
                                                       " (TROUPE_EXPOSE, and its namespace enabled for this actor)",
                                                   {}});
        return;
    }
    auto call = std::make_shared<served_call>(weak_from_this(), dialog, *fn, std::move(s.args), s.credit);
    {
        const std::lock_guard guard(lock_);
        if (served_.find(dialog) != served_.end()) {
            connection_->send(
                dialog,
                wire::msg::error{"troupe::error", "dialog " + std::to_string(dialog) + " is already in use", {}});
            return;
        }
        served_.emplace(dialog, call);
    }
    if (runtime_.cancelling()) {
        served_ended(dialog);
        connection_->send(dialog, wire::msg::cancel_ack{});
        return;
    }
    call->begin(runtime_.system());
}

void peer::cancel_served(const std::string& why) {
    std::vector<std::shared_ptr<served_call>> calls;
    {
        const std::lock_guard guard(lock_);
        for (auto& [dialog, call] : served_) {
            calls.push_back(call);
        }
    }
    if (!calls.empty()) {
        logger()->debug("troupe: {}: cancelling {} calls ({})", self_identity().full_name(), calls.size(), why);
    }
    for (auto& call : calls) {
        call->cancel();
    }
    stop_hosted();
}

std::size_t peer::served() const {
    const std::lock_guard guard(lock_);
    return served_.size() + hosted_.size();
}

void peer::served_ended(std::uint64_t dialog) {
    {
        const std::lock_guard guard(lock_);
        served_.erase(dialog);
    }
    runtime_.served_call_ended();
}

void peer::on_closed(connection&, const std::string& reason) {
    std::unordered_map<std::uint64_t, std::shared_ptr<reply_sink>> calls;
    std::string who;
    {
        const std::lock_guard guard(lock_);
        closed_flag_ = true;
        close_reason_ = reason;
        calls.swap(calls_);
        who = name_;
    }
    for (auto& [dialog, sink] : calls) {
        sink->failed(std::make_exception_ptr(
            actor_dead(who + ": the connection closed before " + sink->awaited() + " (" + reason + ")")));
    }
    if (!opened_.satisfied()) {
        opened_.set_exception(std::make_exception_ptr(
            process_error(who + ": the connection closed before its handshake (" + reason + ")")));
    }
    acknowledge_cancel();
    cancel_served("the connection closed");
    closed_.set_value();
    runtime_.peer_closed(*this, from_parent_, reason);
}

// The entry points of call.hpp.

std::uint64_t start_call(peer& to, std::string target, std::vector<std::byte> args, std::shared_ptr<reply_sink> sink,
                         std::uint32_t credit) {
    return to.start_call(std::move(target), std::move(args), std::move(sink), credit);
}

void cancel_call(peer& to, std::uint64_t dialog, std::string reason) {
    to.cancel_call(dialog, std::move(reason));
}

void grant_credit(peer& to, std::uint64_t dialog, std::uint32_t items) {
    to.grant_credit(dialog, items);
}

std::string peer_name(const peer& p) {
    return p.name();
}

void send_yield(peer& to, std::uint64_t dialog, std::vector<std::byte> item) {
    to.send(dialog, wire::msg::yield{std::move(item)});
}

void send_stop(peer& to, std::uint64_t dialog) {
    to.send(dialog, wire::msg::stop{});
}

}  // namespace troupe::remote::detail
