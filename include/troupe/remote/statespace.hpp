#pragma once
/// \file
/// statespace: named values a parent gives a process actor when it starts it, readable there
/// (tractor's statespace).
///
///     troupe::process_options o;
///     o.state.set("doggy", 10);                                  // in the parent
///     int n = troupe::statespace::current().get<int>("doggy");  // in the child

#include <troupe/core/errors.hpp>
#include <troupe/wire/codec.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

/// Values by name, each stored encoded (any serialisable type).
class statespace {
public:
    /// Sets `key` to `value`.
    template <class T>
    requires wire::serialisable<T>
    void set(std::string key, const T& value) { entries_[std::move(key)] = wire::encode(value); }
    /// The value of `key` as a T. Throws troupe::error if there is none, wire::decode_error if
    /// it is not a T.
    template <class T>
    requires wire::serialisable<T> T get(std::string_view key)
    const { return wire::decode<T>(encoded(key)); }
    /// True if `key` has a value.
    bool contains(std::string_view key) const { return entries_.find(key) != entries_.end(); }
    /// How many values there are.
    std::size_t size() const noexcept { return entries_.size(); }
    /// The encoded values by name.
    const std::map<std::string, std::vector<std::byte>, std::less<>>& entries() const noexcept { return entries_; }

    /// The statespace this process actor was started with (empty in a process that was not
    /// started by an actor_nursery).
    static const statespace& current() noexcept;
    /// For the runtime: the values a child was started with.
    explicit statespace(std::map<std::string, std::vector<std::byte>, std::less<>> entries = {})
        : entries_(std::move(entries)) {}

private:
    const std::vector<std::byte>& encoded(std::string_view key) const;

    std::map<std::string, std::vector<std::byte>, std::less<>> entries_;
};

}  // namespace troupe
