#pragma once
/// \file
/// What an error message to another process says of an exception: its type's name, its what()
/// and where it was thrown. Every exception this process throws has its throw site recorded
/// (thrown.cpp); describing one looks its record up.

#include <exception>
#include <string>

namespace troupe::remote::detail {

struct exception_description {
    std::string type;       ///< "std::invalid_argument"
    std::string message;    ///< what(), or a sentence saying there is none
    std::string backtrace;  ///< "#0 cellar::refuse(int)+0x4e (test_remote_nursery)\n#1 ...", or empty
};

/// Of the exception being handled (inside a catch block).
exception_description describe_current_exception();
/// Of `e` (not null).
exception_description describe_exception(const std::exception_ptr& e);

/// "std::invalid_argument": the type name of the exception being handled.
std::string current_exception_type();

}  // namespace troupe::remote::detail
