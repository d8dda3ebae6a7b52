#pragma once
/// \file
/// The errors troupe::testing throws when a test's expectation does not hold. Both derive from
/// troupe::error, so a test framework reports them with their message.

#include <troupe/core/errors.hpp>

namespace troupe::testing {

/// A probe received something other than what the test expected (another type, another
/// value, a message where none was expected), or nothing at all.
class expectation_failed : public error {
public:
    using error::error;
};

/// The test waits for something that cannot happen: the system went idle before it did (a
/// deadlock in the test, or time that was not advanced), or it kept running past the turn limit.
class stuck : public error {
public:
    using error::error;
};

}  // namespace troupe::testing
