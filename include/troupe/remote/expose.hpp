#pragma once
/// \file
/// TROUPE_EXPOSE: the allow-list of functions another process actor may call. Only an exposed
/// function can be run through a portal, by name (`portal.run("cellar", "open_door", 3)`) or,
/// typed, by pointer (`portal.run(&cellar::open_door, 3)`); a call of anything else is answered
/// with an error. A process actor also serves only the namespaces it was started with.
///
///     namespace cellar {
///     std::string open_door(int times) { ... }                 // a plain function
///     troupe::task<int> count_bottles(std::string shelf);      // a coroutine
///     troupe::generator<int> stream_forever();                 // a stream of values
///     }
///     TROUPE_EXPOSE(cellar, open_door);       // at namespace scope, outside `cellar`
///     TROUPE_EXPOSE(cellar, count_bottles);
///     TROUPE_EXPOSE(cellar, stream_forever);
///
/// Parameters are values or const references of serialisable types (troupe::wire: standard
/// types, and records declared with TROUPE_RECORD); so are results. A function may be exposed
/// once; overloads are exposed one by one with TROUPE_EXPOSE_AS and a cast.

#include <troupe/remote/detail/invoke.hpp>

#include <string_view>

namespace troupe::remote::detail {

/// Adds `fn` to the process's allow-list at static initialisation (TROUPE_EXPOSE makes one).
struct exposure {
    explicit exposure(const exposed_function& fn) { expose(fn); }
};

}  // namespace troupe::remote::detail

#define TROUPE_DETAIL_CAT2(a, b) a##b
#define TROUPE_DETAIL_CAT(a, b) TROUPE_DETAIL_CAT2(a, b)

/// Exposes `fn` to other process actors under the namespace `ns` and the name `name` (string
/// literals). At namespace scope.
#define TROUPE_EXPOSE_AS(ns, name, fn)                                                                 \
    static const ::troupe::remote::detail::exposure TROUPE_DETAIL_CAT(troupe_exposure_, __COUNTER__) { \
        ::troupe::remote::detail::exposed<fn>(ns, name)                                                \
    }

/// Exposes the function `ns::fn` as "ns" / "fn". At namespace scope, outside `ns`.
#define TROUPE_EXPOSE(ns, fn) TROUPE_EXPOSE_AS(#ns, #fn, &ns::fn)
