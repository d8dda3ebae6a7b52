#include <troupe/core/log.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace troupe {

namespace {
std::mutex& logger_mutex() {
    static std::mutex m;
    return m;
}
std::shared_ptr<spdlog::logger>& logger_slot() {
    static std::shared_ptr<spdlog::logger> l = [] {
        auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        auto made = std::make_shared<spdlog::logger>("troupe", sink);
        made->set_level(spdlog::level::warn);
        made->set_pattern("[%H:%M:%S.%e] [troupe] [%l] %v");
        return made;
    }();
    return l;
}
}  // namespace

std::shared_ptr<spdlog::logger> logger() {
    std::lock_guard lock(logger_mutex());
    return logger_slot();
}

void set_logger(std::shared_ptr<spdlog::logger> l) {
    std::lock_guard lock(logger_mutex());
    logger_slot() = std::move(l);
}

}  // namespace troupe
