#include <troupe/remote/errors.hpp>

#include <utility>

namespace troupe {

namespace {
std::string describe(const std::string& actor, const std::string& type, const std::string& message) {
    std::string text = actor;
    text.append(" raised ").append(type.empty() ? std::string("an exception") : type);
    if (!message.empty()) {
        text.append(": ").append(message);
    }
    return text;
}
}  // namespace

remote_actor_error::remote_actor_error(std::string actor, std::string type, std::string message, std::string backtrace)
    : error(describe(actor, type, message)),
      actor_(std::move(actor)),
      type_(std::move(type)),
      message_(std::move(message)),
      backtrace_(std::move(backtrace)) {}

}  // namespace troupe
