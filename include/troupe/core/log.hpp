#pragma once
/// \file
/// Logging: troupe writes through spdlog to a logger named "troupe". Every line about an actor
/// starts with its name and id ("greeter#3: ...").

#include <spdlog/logger.h>

#include <memory>

namespace troupe {

/// The logger troupe writes to. Change its level or sinks as you like; by default it logs
/// warnings and errors to stderr.
std::shared_ptr<spdlog::logger> logger();

/// Replaces the logger troupe writes to (for example to capture lines in tests).
void set_logger(std::shared_ptr<spdlog::logger> l);

}  // namespace troupe
