#pragma once
/// \file
/// handles<M...>: the list of message types an actor takes through an untyped address.

namespace troupe {

/// Declare it in an actor class to make it reachable through an untyped troupe::address:
/// `using handles = troupe::handles<greet, farewell>;`. Each type needs a handle() overload.
/// Typed refs do not need it: they check handle() overloads at compile time.
template <class... Messages>
struct handles {};

}  // namespace troupe
