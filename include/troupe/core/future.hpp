#pragma once
/// \file
/// future<T> and promise<T>: the result of an ask, with blocking get, timeouts and composition.

#include <troupe/core/detail/shared_state.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

template <class T>
class future;
template <class T>
class promise;

namespace detail {
std::string describe_duration(std::chrono::nanoseconds d);

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<future<T>> : std::true_type {};

/// The result type of calling F with the value of a future<T>.
template <class F, class T>
struct then_result {
    using type = std::invoke_result_t<F, const T&>;
};
template <class F>
struct then_result<F, void> {
    using type = std::invoke_result_t<F>;
};

template <class T>
future<T> make_future(state_ptr<shared_state<T>> s);
}  // namespace detail

/// The eventual result of an ask (or of any promise): a value of type T or an error.
/// Copies share the same result; any number of threads may wait on it.
template <class T>
class future {
public:
    using value_type = T;

    /// An empty future; using it throws troupe::no_state.
    future() = default;

    /// True if this future refers to a result (it was not default-constructed or moved from).
    bool valid() const noexcept { return static_cast<bool>(s_); }
    /// True once the result (value or error) is there.
    bool ready() const { return state().ready(); }
    /// True once the result is there and is an error.
    bool failed() const { return state().ready() && state().has_error(); }

    /// Blocks until the result is there.
    void wait() const { state().wait(); }
    /// Blocks until the result is there or `d` has passed; returns ready().
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> d) const {
        return state().wait_until(std::chrono::steady_clock::now() +
                                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
    }

    /// Blocks until the result is there and returns the value, or throws the error.
    /// May be called any number of times.
    decltype(auto) get() const& {
        wait();
        return value_ref();
    }
    /// As above; moves the value out when no other future shares it.
    T get() && {
        wait();
        return take_value();
    }
    /// Like get(), but throws troupe::timeout if the result is not there within `d`.
    template <class Rep, class Period>
    decltype(auto) get(std::chrono::duration<Rep, Period> d) const& {
        wait_or_throw(d);
        return value_ref();
    }
    template <class Rep, class Period>
    T get(std::chrono::duration<Rep, Period> d) && {
        wait_or_throw(d);
        return take_value();
    }

    /// Returns a future of `f(value)`; an error skips `f` and passes through. If `f` returns a
    /// future, the result is that future's result. Called inside an actor, `f` runs as a turn
    /// of that actor (after the current handler, in order with its messages), so it may touch
    /// the actor's state; if the actor has ended by then, the result fails with actor_dead.
    /// Elsewhere, `f` runs on the thread that completes this future, or at once if it is done.
    template <class F>
    auto then(F f) const;
    /// For the runtime: as then(), but `f` always runs on the completing thread.
    template <class F>
    auto then_anywhere(F f) const;

    /// For the runtime: the actor that will complete this future, if known.
    const detail::cell_base* producer() const noexcept { return s_ ? s_->producer() : nullptr; }
    /// For the runtime: the shared state (null for an empty future).
    const detail::state_base* state_handle() const noexcept { return s_.get(); }

    /// For the runtime: calls `f(shared state)` once complete (value or error).
    template <class F>
    void then_state(F f) const;

private:
    template <class U>
    friend future<U> detail::make_future(detail::state_ptr<detail::shared_state<U>> s);
    template <class U>
    friend class future;

    template <class F>
    auto then_on(F f, detail::cell_base* home) const;
    detail::shared_state<T>& state() const {
        if (!s_) {
            throw no_state("this future has no result to wait for (default-constructed or moved from)");
        }
        return *s_.get();
    }
    template <class Rep, class Period>
    void wait_or_throw(std::chrono::duration<Rep, Period> d) const {
        if (!wait_for(d)) {
            throw timeout("no result within " +
                          detail::describe_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(d)));
        }
    }
    decltype(auto) value_ref() const {
        state().rethrow_if_error();
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return static_cast<const T&>(s_->value());
        }
    }
    T take_value() {
        state().rethrow_if_error();
        if constexpr (std::is_void_v<T>) {
            return;
        } else if constexpr (std::is_copy_constructible_v<T>) {
            if (s_->only_owner()) {
                return std::move(s_->value());
            }
            return s_->value();
        } else {
            return std::move(s_->value());
        }
    }

    detail::state_ptr<detail::shared_state<T>> s_;
};

/// The writing end of a future: set a value or an error once. Destroying a promise that was
/// never set completes its future with troupe::broken_promise, so no waiter hangs.
template <class T>
class promise {
public:
    /// A promise with a fresh shared state.
    promise() : s_(detail::shared_state<T>::make()) {}
    /// A promise handed on (to another actor, into a member) leaves the deadlock detector's
    /// sight: waits on its future are never reported as deadlocks.
    promise(promise&& o) noexcept : s_(std::move(o.s_)) { handed_on(); }
    promise& operator=(promise&& o) noexcept {
        if (this != &o) {
            abandon();
            s_ = std::move(o.s_);
            handed_on();
        }
        return *this;
    }
    promise(const promise&) = delete;
    promise& operator=(const promise&) = delete;
    ~promise() { abandon(); }

    /// The future this promise completes; may be called more than once.
    future<T> get_future() const { return detail::make_future(s_); }

    /// Completes the future with a value; throws promise_already_satisfied the second time.
    template <class... Args>
    void set_value(Args&&... args) {
        state().set_value(std::forward<Args>(args)...);
    }
    /// Completes the future with an error; throws promise_already_satisfied the second time.
    void set_exception(std::exception_ptr e) { state().set_error(std::move(e)); }
    /// Completes the future with an error made from `e` (an exception_ptr is stored as it is).
    template <class E>
    void set_error(E e) {
        if constexpr (std::is_same_v<E, std::exception_ptr>) {
            set_exception(std::move(e));
        } else {
            set_exception(std::make_exception_ptr(std::move(e)));
        }
    }
    /// True when this promise still has a state (it was not moved from).
    bool valid() const noexcept { return static_cast<bool>(s_); }
    /// True once the future has a value or an error.
    bool satisfied() const noexcept { return s_ && s_->ready(); }

    /// For the runtime: adopt an existing state.
    explicit promise(detail::state_ptr<detail::shared_state<T>> s) noexcept : s_(std::move(s)) {}
    /// For the runtime: the state.
    const detail::state_ptr<detail::shared_state<T>>& shared() const noexcept { return s_; }

private:
    detail::shared_state<T>& state() {
        if (!s_) {
            throw no_state("this promise was moved from");
        }
        return *s_.get();
    }
    void handed_on() noexcept {
        if (s_) {
            s_->set_producer(nullptr);  // whoever answers now is not known
        }
    }
    void abandon() noexcept {
        // A promise dropped while its handler unwinds: the runtime gives the asker that
        // exception (a better answer than broken_promise) once the handler has thrown.
        const bool handler_throwing = s_ && s_->in_handler() && std::uncaught_exceptions() > 0;
        if (handler_throwing) {
            s_->mark_dropped_in_handler();  // if the handler catches it after all: broken_promise
        } else if (s_ && !s_->ready()) {
            s_->try_set_error(std::make_exception_ptr(
                broken_promise("the promise was dropped without a value (the reply will never come)")));
        }
        s_ = {};
    }

    detail::state_ptr<detail::shared_state<T>> s_;
};

/// A future that already holds `value`.
template <class T>
future<std::decay_t<T>> make_ready_future(T&& value) {
    using state = detail::shared_state<std::decay_t<T>>;
    return detail::make_future(detail::state_ptr<state>(state::make_ready(std::forward<T>(value))));
}
/// A future<void> that is already complete.
inline future<void> make_ready_future() {
    using state = detail::shared_state<void>;
    return detail::make_future(detail::state_ptr<state>(state::make_ready()));
}
/// A future that already holds the error `e` (an exception, or an exception_ptr).
template <class T, class E>
future<T> make_failed_future(E e) {
    promise<T> p;
    p.set_error(std::move(e));
    return p.get_future();
}

namespace detail {

template <class T>
future<T> make_future(state_ptr<shared_state<T>> s) {
    future<T> f;
    f.s_ = std::move(s);
    return f;
}

/// Calls `f` with a continuation body once `s` completes.
template <class S, class F>
void on_complete(S* s, F f) {
    struct node final : continuation {
        explicit node(F fn) : fn_(std::move(fn)) {}
        void run() noexcept override {
            fn_();
            delete this;
        }
        F fn_;
    };
    s->add_continuation(new node(std::move(f)));
}

/// Completes `p` with the result of calling `f()` (void-aware), or with its exception.
template <class R, class F>
void fulfil(promise<R>& p, F&& f) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            f();
            p.set_value();
        } else {
            p.set_value(f());
        }
    } catch (...) {
        p.shared()->try_set_error(std::current_exception());
    }
}

}  // namespace detail

namespace detail {

template <class R>
struct flattened {
    using type = R;
};
template <class R>
struct flattened<future<R>> {
    using type = R;
};

template <class R>
void forward_result(const future<R>& inner, promise<R> outer) {
    inner.then_state([outer = std::move(outer)](shared_state<R>& s) mutable {
        if (s.has_error()) {
            outer.set_exception(s.error());
        } else if constexpr (std::is_void_v<R>) {
            outer.set_value();
        } else {
            outer.set_value(static_cast<const R&>(s.value()));
        }
    });
}

}  // namespace detail

template <class T>
template <class F>
auto future<T>::then(F f) const {
    return then_on(std::move(f), detail::running_cell());
}

template <class T>
template <class F>
auto future<T>::then_anywhere(F f) const {
    return then_on(std::move(f), nullptr);
}

template <class T>
template <class F>
auto future<T>::then_on(F f, detail::cell_base* home) const {
    using raw = typename detail::then_result<F, T>::type;
    using R = typename detail::flattened<raw>::type;
    promise<R> out;
    auto result = out.get_future();
    // The result comes when this one does: a wait on it deadlocks exactly when one on this would;
    // and when `f` runs as a turn of `home`, when home can take that turn. Set after the promise
    // has moved into the continuation (a move makes the producer unknown).
    detail::state_ptr<detail::shared_state<R>> out_state = out.shared();
    const detail::cell_base* producer = home != nullptr ? home : state().producer();
    auto body = [out = std::move(out), f = std::move(f)](detail::shared_state<T>& src) mutable {
        if (src.has_error()) {
            out.set_exception(src.error());
            return;
        }
        auto call = [&]() -> raw {
            if constexpr (std::is_void_v<T>) {
                return f();
            } else {
                return f(static_cast<const T&>(src.value()));
            }
        };
        if constexpr (detail::is_future<raw>::value) {
            try {
                detail::forward_result(call(), std::move(out));
            } catch (...) {
                out.set_exception(std::current_exception());
            }
        } else {
            detail::fulfil(out, call);
        }
    };
    if (home == nullptr) {
        then_state(std::move(body));
    } else {
        // Inside an actor: `f` runs as a turn of that actor, never on the thread that completes
        // this future (inside another actor's turn), so it may touch the actor's state.
        struct turn final : detail::actor_continuation {
            turn(decltype(body) b, detail::state_ptr<detail::shared_state<T>> s,
                 detail::state_ptr<detail::shared_state<R>> o)
                : body_(std::move(b)), src_(std::move(s)), out_(std::move(o)) {}
            void run() noexcept override {
                body_(*src_.get());
                delete this;
            }
            void discard(std::exception_ptr why) noexcept override {
                out_->try_set_error(std::move(why));
                delete this;
            }
            decltype(body) body_;
            detail::state_ptr<detail::shared_state<T>> src_;
            detail::state_ptr<detail::shared_state<R>> out_;
        };
        auto* t = new turn(std::move(body), s_, out_state);
        detail::post_when_complete(state(), *home, t);
    }
    if (!out_state->ready()) {
        out_state->set_producer(producer);
    }
    return result;
}

template <class T>
template <class F>
void future<T>::then_state(F f) const {
    auto* s = &state();
    detail::on_complete(s, [keep = s_, f = std::move(f)]() mutable { f(*keep.get()); });
}

namespace detail {

/// Collects the results of several futures into one.
template <class Out, class Slots>
struct gather {
    explicit gather(std::size_t n) : remaining(n) {}
    promise<Out> out;
    Slots slots;
    std::atomic<std::size_t> remaining;

    void fail(const std::exception_ptr& e) { out.shared()->try_set_error(e); }
    /// Called after a slot was filled; the last one builds the result.
    template <class Build>
    void arrived(Build&& build) {
        // acq_rel: the last arrival must see every slot the others filled.
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && !out.satisfied()) {
            detail::fulfil(out, std::forward<Build>(build));
        }
    }
};

}  // namespace detail

/// A future of all values of `fs`, in order (copies: `fs` stays readable). It fails with the
/// first error to arrive. Like when_any, it takes the futures by const reference.
template <class T>
future<std::vector<T>> when_all(const std::vector<future<T>>& fs) {
    using state = detail::gather<std::vector<T>, std::vector<std::optional<T>>>;
    auto g = std::make_shared<state>(fs.size());
    g->slots.resize(fs.size());
    auto result = g->out.get_future();
    if (fs.empty()) {
        g->out.set_value();
    }
    for (std::size_t i = 0; i < fs.size(); ++i) {
        fs[i].then_state([g, i](detail::shared_state<T>& s) {
            if (s.has_error()) {
                g->fail(s.error());
                return;
            }
            g->slots[i].emplace(static_cast<const T&>(s.value()));
            g->arrived([&] {
                std::vector<T> values;
                values.reserve(g->slots.size());
                for (auto& v : g->slots) {
                    values.push_back(std::move(*v));
                }
                return values;
            });
        });
    }
    return result;
}

/// A future that completes when every future in `fs` has; it fails with the first error.
inline future<void> when_all(const std::vector<future<void>>& fs) {
    using state = detail::gather<void, detail::unit>;
    auto g = std::make_shared<state>(fs.size());
    auto result = g->out.get_future();
    if (fs.empty()) {
        g->out.set_value();
    }
    for (const auto& f : fs) {
        f.then_state([g](detail::shared_state<void>& s) {
            if (s.has_error()) {
                g->fail(s.error());
                return;
            }
            g->arrived([] {});
        });
    }
    return result;
}

/// A future of a tuple of the values of `fs...` (void results become detail::unit).
template <class... Ts>
future<std::tuple<detail::stored_t<Ts>...>> when_all(future<Ts>... fs) {
    using values = std::tuple<detail::stored_t<Ts>...>;
    using state = detail::gather<values, std::tuple<std::optional<detail::stored_t<Ts>>...>>;
    auto g = std::make_shared<state>(sizeof...(Ts));
    auto result = g->out.get_future();
    auto attach = [&]<std::size_t I, class U>(std::integral_constant<std::size_t, I>, future<U>& f) {
        f.then_state([g](detail::shared_state<U>& s) {
            if (s.has_error()) {
                g->fail(s.error());
                return;
            }
            std::get<I>(g->slots).emplace(static_cast<const detail::stored_t<U>&>(s.value()));
            g->arrived([&] { return std::apply([](auto&... v) { return values(std::move(*v)...); }, g->slots); });
        });
    };
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (attach(std::integral_constant<std::size_t, I>{}, fs), ...);
    }
    (std::index_sequence_for<Ts...>{});
    return result;
}

/// A future of the index of the first future in `fs` to complete, with a value or an error
/// (read it with fs[index].get()). An empty `fs` gives an error.
template <class T>
future<std::size_t> when_any(const std::vector<future<T>>& fs) {
    promise<std::size_t> p;
    auto result = p.get_future();
    if (fs.empty()) {
        p.set_error(error("when_any of no futures"));
        return result;
    }
    auto shared = std::make_shared<promise<std::size_t>>(std::move(p));
    for (std::size_t i = 0; i < fs.size(); ++i) {
        fs[i].then_state([shared, i](detail::shared_state<T>&) { shared->shared()->try_set_value(i); });
    }
    return result;
}

}  // namespace troupe
