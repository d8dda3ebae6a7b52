// Where exceptions were thrown, as a remote error's backtrace says it (src/remote/thrown.cpp).
// The test executables are linked with -rdynamic, so their own functions have names.

#include "remote/thrown.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

namespace thrown_test {

[[gnu::noinline]] void throw_from_here(int n) {
    throw std::out_of_range("n is " + std::to_string(n));
}
[[gnu::noinline]] void call_the_thrower(int n) {
    throw_from_here(n);
}

}  // namespace thrown_test

namespace {

using troupe::remote::detail::describe_current_exception;
using troupe::remote::detail::describe_exception;
using troupe::remote::detail::exception_description;

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

TEST(Thrown, TheBacktraceBeginsAtTheFunctionThatThrew) {
    exception_description d;
    try {
        thrown_test::call_the_thrower(7);
    } catch (...) {
        d = describe_current_exception();
    }
    EXPECT_EQ(d.type, "std::out_of_range");
    EXPECT_EQ(d.message, "n is 7");
    EXPECT_TRUE(starts_with(d.backtrace, "#0 thrown_test::throw_from_here(int)+")) << d.backtrace;
    EXPECT_NE(d.backtrace.find("\n#1 thrown_test::call_the_thrower(int)+"), std::string::npos) << d.backtrace;
}

TEST(Thrown, AnExceptionThrownOnOneThreadIsDescribedOnAnother) {
    std::exception_ptr e;
    std::thread([&] {
        try {
            thrown_test::throw_from_here(1);
        } catch (...) {
            e = std::current_exception();
        }
    }).join();
    const exception_description d = describe_exception(e);
    EXPECT_EQ(d.message, "n is 1");
    EXPECT_TRUE(starts_with(d.backtrace, "#0 thrown_test::throw_from_here(int)+")) << d.backtrace;
}

TEST(Thrown, AnExceptionOfTheStandardLibraryHasItsThrowSite) {
    exception_description d;
    try {
        (void)std::stoi("not a number");
    } catch (...) {
        d = describe_current_exception();
    }
    EXPECT_EQ(d.type, "std::invalid_argument");
    // Thrown inside libstdc++, whose own throws go through the same allocation.
    EXPECT_TRUE(starts_with(d.backtrace, "#0 std::__throw_invalid_argument(char const*)+")) << d.backtrace;
    EXPECT_NE(d.backtrace.find("std::__cxx11::stoi("), std::string::npos) << d.backtrace;
}

TEST(Thrown, AnExceptionThatIsNoStdExceptionHasItsTypeButNoBacktrace) {
    exception_description d;
    try {
        throw 42;
    } catch (...) {
        d = describe_current_exception();
    }
    EXPECT_EQ(d.type, "int");
    EXPECT_EQ(d.message, "an exception that is not a std::exception");
    EXPECT_TRUE(d.backtrace.empty());
}

TEST(Thrown, OneThrownLongBeforeManyOthersHasNoBacktrace) {
    std::exception_ptr old;
    try {
        thrown_test::throw_from_here(0);
    } catch (...) {
        old = std::current_exception();
    }
    for (int i = 0; i < 100; ++i) {  // more than the 64 throws that are kept
        try {
            thrown_test::throw_from_here(i);
        } catch (...) {}
    }
    const exception_description d = describe_exception(old);
    EXPECT_EQ(d.message, "n is 0");
    EXPECT_TRUE(d.backtrace.empty()) << d.backtrace;
}

}  // namespace
