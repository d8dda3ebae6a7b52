// The parts of a probe that do not depend on its message types: the log and the checks.

#include <troupe/testing/probe.hpp>

namespace troupe::testing::detail {

void probe_log::record(message m) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(m));
}

bool probe_log::empty() const {
    std::lock_guard lock(mutex_);
    return queue_.empty();
}

std::size_t probe_log::size() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

const std::type_info& probe_log::front_type() const {
    std::lock_guard lock(mutex_);
    return queue_.front().type();
}

message& probe_log::front() {
    // Only the test's thread takes messages, and appending to a deque moves no element.
    std::lock_guard lock(mutex_);
    return queue_.front();
}

message probe_log::pop() {
    std::lock_guard lock(mutex_);
    message m = std::move(queue_.front());
    queue_.pop_front();
    return m;
}

std::string probe_log::types() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& m : queue_) {
        out += (out.empty() ? "" : ", ") + m.type_name();
    }
    return out;
}

void probe_base::await_next(const std::type_info& wanted, const std::string& who) const {
    if (!system_->run_until([this] { return !log_->empty(); })) {
        throw expectation_failed(
            system_->idle_report(who + "'s expect<" + troupe::detail::type_name(wanted) + ">()", "no message arrived"));
    }
    if (log_->front_type() != wanted) {
        fail(who, "a message of type " + troupe::detail::type_name(wanted) + ", but the next one is of type " +
                      troupe::detail::type_name(log_->front_type()) + " (queued: " + log_->types() + ")");
    }
}

void probe_base::check_nothing(const std::string& who) const {
    system_->run();
    if (!log_->empty()) {
        const std::size_t n = log_->size();
        fail(who, "nothing, but " + std::to_string(n) + (n == 1 ? " message is" : " messages are") +
                      " queued: " + log_->types());
    }
}

void probe_base::fail(const std::string& who, const std::string& what) {
    throw expectation_failed(who + " expected " + what);
}

}  // namespace troupe::testing::detail
