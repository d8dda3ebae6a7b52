#pragma once
/// \file
/// message: a type-erased, move-only message value, as received by an inbox.

#include <troupe/core/errors.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace troupe {

namespace detail {
/// The readable name of a type ("greeter", "std::string").
std::string type_name(const std::type_info& t);
/// The name without its namespaces ("pinger" for app::pinger), used to name actors.
std::string short_type_name(const std::type_info& t);
/// A C string: sent as std::string, which owns its characters.
template <class M>
inline constexpr bool is_c_string_v = std::is_same_v<M, char*> || std::is_same_v<M, const char*>;
}  // namespace detail

/// A message of any type. Inboxes hand these out; `is<T>()` and `get<T>()` look inside.
class message {
public:
    /// An empty message (type() is void).
    message() = default;
    /// Boxes `value`.
    template <class T, class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, message>>>
    explicit message(T&& value) : box_(std::make_unique<holder<std::decay_t<T>>>(std::forward<T>(value))) {}

    /// The type of the value inside (typeid(void) when empty).
    const std::type_info& type() const noexcept { return box_ ? box_->type() : typeid(void); }
    /// The readable name of that type.
    std::string type_name() const { return detail::type_name(type()); }
    /// True if the value inside is a T.
    template <class T>
    bool is() const noexcept {
        return type() == typeid(T);
    }
    /// The value inside; throws troupe::error if it is not a T.
    template <class T>
    T& get() {
        check<T>();
        return static_cast<holder<T>*>(box_.get())->value_;
    }
    template <class T>
    const T& get() const {
        check<T>();
        return static_cast<const holder<T>*>(box_.get())->value_;
    }
    /// True unless empty.
    explicit operator bool() const noexcept { return static_cast<bool>(box_); }

private:
    struct holder_base {
        virtual ~holder_base() = default;
        virtual const std::type_info& type() const noexcept = 0;
    };
    template <class T>
    struct holder final : holder_base {
        template <class U>
        explicit holder(U&& v) : value_(std::forward<U>(v)) {}
        const std::type_info& type() const noexcept override { return typeid(T); }
        T value_;
    };
    template <class T>
    void check() const {
        if (!is<T>()) {
            throw error("message holds a " + type_name() + ", not a " + detail::type_name(typeid(T)));
        }
    }

    std::unique_ptr<holder_base> box_;
};

}  // namespace troupe
