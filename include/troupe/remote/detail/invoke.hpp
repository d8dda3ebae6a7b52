#pragma once
/// \file
/// How the runtime calls an exposed function from bytes: its kind, its decoded parameters,
/// its encoded result. TROUPE_EXPOSE (troupe/remote/expose.hpp) makes one exposed_function per
/// function; the process's table of them is the allow-list.

#include <troupe/async/generator.hpp>
#include <troupe/async/task.hpp>
#include <troupe/remote/context.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe::remote::detail {

/// What a call of an exposed function gives back.
enum class call_kind : std::uint8_t {
    function,   ///< a plain function: returns a value
    coroutine,  ///< a troupe::task<R>: returns a value after its awaits
    stream,     ///< a troupe::generator<T>: yields values, then ends
    context,    ///< a troupe::task<R> taking a troupe::stream_context& first: both sides stream
};

/// The result type of an exposed function, as its caller sees it.
template <class R>
struct call_result {
    using type = R;
    static constexpr call_kind kind = call_kind::function;
};
template <class R>
struct call_result<task<R>> {
    using type = R;
    static constexpr call_kind kind = call_kind::coroutine;
};
template <class T>
struct call_result<generator<T>> {
    using type = T;  // the item type
    static constexpr call_kind kind = call_kind::stream;
};

/// The parameters and result of a function pointer type.
template <class F>
struct function_traits;
template <class R, class... A>
struct function_traits<R (*)(A...)> {
    using raw_result = R;
    using result = typename call_result<R>::type;
    static constexpr call_kind kind = call_result<R>::kind;
    /// What the arguments travel as (and are decoded into on the far side).
    using parameters = std::tuple<std::remove_cvref_t<A>...>;
    static constexpr bool by_value_or_const_ref =
        ((!std::is_reference_v<A> || std::is_const_v<std::remove_reference_t<A>>)&&...);
};
template <class R, class... A>
struct function_traits<R (*)(stream_context&, A...)> : function_traits<R (*)(A...)> {
    static_assert(call_result<R>::kind == call_kind::coroutine,
                  "a function taking a troupe::stream_context& is a coroutine: it returns a troupe::task<R>");
    static constexpr call_kind kind = call_kind::context;
};
template <class R, class... A>
struct function_traits<R (*)(A...) noexcept> : function_traits<R (*)(A...)> {};

/// True if a value of the result type crosses processes (void does: as nothing).
template <class R>
inline constexpr bool result_crosses = std::is_void_v<R> || wire::serialisable<R>;

/// The side of a running call that the invoker talks to (the runtime implements it).
class call_context {
public:
    virtual ~call_context() = default;
    /// The call's arguments, encoded (a msgpack array).
    virtual std::span<const std::byte> arguments() const noexcept = 0;
    /// Sends the next item of a stream; suspends while the caller has no credit left.
    virtual task<void> yield(std::vector<std::byte> item) = 0;
    /// Sends the next item at once if the caller has credit left (true); else leaves `item` as it
    /// is (false), for yield() to wait. Spares a coroutine per item while credit lasts.
    virtual bool try_yield(std::vector<std::byte>& item) = 0;
    /// Suspends until a later turn of the call's actor: a fresh stack (see invoke()).
    virtual task<void> take_a_turn() = 0;
    /// The callee's side of a context's dialog.
    virtual callee_channel& channel() noexcept = 0;
};

/// Any function pointer, to find an exposed function by its address.
using any_function = void (*)();

/// An entry of the allow-list.
struct exposed_function {
    std::string_view ns;
    std::string_view name;
    any_function address;
    call_kind kind;
    /// Decodes the arguments, calls the function and gives its encoded result (empty for
    /// void); a stream's items go through call_context::yield.
    task<std::vector<std::byte>> (*invoke)(call_context& ctx);
};

/// Adds `fn` to this process's allow-list. Throws troupe::error if the name is taken.
void expose(const exposed_function& fn);
/// The exposed function called `ns`/`name`, or null.
const exposed_function* find_exposed(std::string_view ns, std::string_view name) noexcept;
/// The exposed function at `address`, or null.
const exposed_function* find_exposed(any_function address) noexcept;

/// Encodes a result for the wire (nothing for void).
template <class R>
std::vector<std::byte> encode_result(const R& value) {
    return wire::encode(value);
}

/// Calls F with the decoded arguments of `ctx` and encodes what it gives.
template <auto F>
task<std::vector<std::byte>> invoke(call_context& ctx) {
    using traits = function_traits<decltype(F)>;
    using result = typename traits::result;
    typename traits::parameters args = wire::decode<typename traits::parameters>(ctx.arguments());
    if constexpr (traits::kind == call_kind::function) {
        if constexpr (std::is_void_v<result>) {
            std::apply(F, std::move(args));
            co_return std::vector<std::byte>{};
        } else {
            co_return wire::encode(std::apply(F, std::move(args)));
        }
    } else if constexpr (traits::kind == call_kind::coroutine) {
        task<result> running = std::apply(F, std::move(args));
        if constexpr (std::is_void_v<result>) {
            co_await std::move(running);
            co_return std::vector<std::byte>{};
        } else {
            result value = co_await std::move(running);
            co_return wire::encode(value);
        }
    } else if constexpr (traits::kind == call_kind::context) {
        stream_context c(ctx.channel());
        task<result> running =
            std::apply([&c](auto&&... a) { return F(c, std::forward<decltype(a)>(a)...); }, std::move(args));
        if constexpr (std::is_void_v<result>) {
            co_await std::move(running);
            co_return std::vector<std::byte>{};
        } else {
            result value = co_await std::move(running);
            co_return wire::encode(value);
        }
    } else {
        generator<result> items = std::apply(F, std::move(args));
        // While credit lasts nothing here suspends for real: each item is a resume of the body
        // and one back. Where those transfers are not tail calls (GCC at -O0) every item deepens
        // the stack, so the loop takes a turn of its own every so many items.
        constexpr unsigned items_per_turn = 256;
        unsigned in_this_turn = 0;
        for (;;) {
            std::optional<result> item = co_await items.next();
            if (!item) {
                break;
            }
            std::vector<std::byte> encoded = wire::encode(*item);
            if (!ctx.try_yield(encoded)) {
                co_await ctx.yield(std::move(encoded));  // waits for credit: a turn of its own
                in_this_turn = 0;
            } else if (++in_this_turn == items_per_turn) {
                co_await ctx.take_a_turn();
                in_this_turn = 0;
            }
        }
        co_return std::vector<std::byte>{};
    }
}

/// The allow-list entry of F (one per function, made on first use).
template <auto F>
const exposed_function& exposed(std::string_view ns, std::string_view name) {
    using traits = function_traits<decltype(F)>;
    static_assert(traits::by_value_or_const_ref,
                  "an exposed function takes its parameters by value or by const reference");
    static_assert(wire::serialisable<typename traits::parameters>,
                  "every parameter of an exposed function must be serialisable (a standard type or a TROUPE_RECORD)");
    static_assert(
        result_crosses<typename traits::result>,
        "the result of an exposed function must be void or serialisable (a standard type or a TROUPE_RECORD)");
    static const exposed_function entry{ns, name, reinterpret_cast<any_function>(F), traits::kind, &invoke<F>};
    return entry;
}

}  // namespace troupe::remote::detail
