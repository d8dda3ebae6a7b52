// The worker's command line of an app (app::main, Faust's `faust -A app ...`): CLI11 parses it,
// and each command is a function of the topics and agents the app declared. A worker waits for
// SIGINT or SIGTERM on a pipe its signal handler writes to (the only thing a handler may safely
// do), then stops the app on the main thread, which commits what was acknowledged.

#include <troupe/streams/app.hpp>

#include <troupe/core/log.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace troupe::streams {

namespace {

int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal) {
    const char c = static_cast<char>(signal);
    const int saved = errno;
    [[maybe_unused]] const ssize_t n = ::write(stop_pipe[1], &c, 1);
    errno = saved;
}

/// SIGINT and SIGTERM, caught for the life of the object.
class stop_signals {
public:
    stop_signals() {
        if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
            throw error(std::string("worker: cannot make the pipe for its signals: ") + std::strerror(errno));
        }
        struct sigaction on_stop {};
        on_stop.sa_handler = on_stop_signal;
        sigemptyset(&on_stop.sa_mask);
        ::sigaction(SIGINT, &on_stop, &old_int_);
        ::sigaction(SIGTERM, &on_stop, &old_term_);
    }
    ~stop_signals() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
        ::close(stop_pipe[0]);
        ::close(stop_pipe[1]);
        stop_pipe[0] = stop_pipe[1] = -1;
    }
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    /// Waits for one of them; gives its name.
    static const char* wait() {
        char c = 0;
        while (::read(stop_pipe[0], &c, 1) < 0 && errno == EINTR) {}
        return c == SIGINT ? "SIGINT" : "SIGTERM";
    }

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out.empty() ? "(none)" : out;
}

/// "adding/0 at 3, adding/1 at 5": what `group` has committed in `topics`.
std::string commits_of(broker& b, const std::string& group, const std::vector<std::string>& topics) {
    std::string out;
    for (const auto& t : topics) {
        const std::uint32_t n = b.partitions(t).value_or(0);
        for (std::uint32_t p = 0; p < n; ++p) {
            if (auto c = b.committed(group, {t, p})) {
                out += (out.empty() ? "" : ", ") + t + "/" + std::to_string(p) + " at " + std::to_string(*c);
            }
        }
    }
    return out.empty() ? "nothing" : out;
}

}  // namespace

int app::main(int argc, char** argv) {
    CLI::App cli{"The worker of stream app '" + id() + "' (on " + core_->options().broker + ")"};
    cli.require_subcommand(1);
    std::string level = "warn";
    cli.add_option("-l,--loglevel", level, "log level")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->capture_default_str();

    auto* worker = cli.add_subcommand("worker", "run the agents until SIGINT or SIGTERM");
    worker->add_option("-l,--loglevel", level, "log level")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    auto* send = cli.add_subcommand("send", "send values to a topic or an agent");
    std::string target;
    std::optional<std::string> value;
    std::string file;
    std::optional<std::string> key;
    std::optional<std::uint32_t> partition;
    double wait_seconds = 10;
    send->add_option("target", target, "a topic's name or an agent's")->required();
    auto* value_option = send->add_option("value", value, "the value: JSON, or text for a raw value type");
    auto* file_option = send->add_option("--file", file, "values, one a line (JSON lines)");
    value_option->excludes(file_option);
    send->add_option("--key", key, "the key of every value (JSON, or text for a raw key type)");
    send->add_option("--partition", partition, "the partition of every value");
    send->add_option("--wait", wait_seconds, "on the embedded broker: how long the agents may take, in seconds")
        ->capture_default_str();

    auto* agents = cli.add_subcommand("agents", "list the agents");
    auto* topics = cli.add_subcommand("topics", "list the topics");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e) == 0 ? 0 : 2;
    }
    troupe::logger()->set_level(spdlog::level::from_str(level));

    try {
        if (*topics) {
            std::printf("%-32s %10s  %-9s %-9s\n", "topic", "partitions", "key", "value");
            for (const auto& t : entries_) {
                std::printf("%-32s %10u  %-9s %-9s\n", t.name.c_str(), t.partitions, t.key_serializer.c_str(),
                            t.value_serializer.c_str());
            }
            return 0;
        }
        if (*agents) {
            std::printf("%-24s %-32s %-36s %s\n", "agent", "topics", "group", "concurrency");
            for (const auto& a : agents_) {
                const auto& c = a->core();
                std::printf("%-24s %-32s %-36s %zu\n", c.agent_name().c_str(), joined(c.topics()).c_str(),
                            c.group().c_str(), c.concurrency());
            }
            return 0;
        }
        if (*worker) {
            const stop_signals signals;
            start();
            std::printf("worker: app '%s' runs %zu agent%s on %s; SIGINT or SIGTERM stops it\n", id().c_str(),
                        agents_.size(), agents_.size() == 1 ? "" : "s", core_->options().broker.c_str());
            std::fflush(stdout);
            const char* why = stop_signals::wait();
            stop();
            std::printf("worker: %s: stopped\n", why);
            for (const auto& a : agents_) {
                const auto& c = a->core();
                std::printf("worker: agent '%s' committed %s\n", c.agent_name().c_str(),
                            commits_of(broker(), c.group(), c.topics()).c_str());
            }
            return 0;
        }

        // send
        const detail::topic_entry* to = nullptr;
        for (const auto& t : entries_) {
            if (t.name == target) {
                to = &t;
            }
        }
        for (const auto& a : agents_) {
            if (to == nullptr && a->core().agent_name() == target) {
                for (const auto& t : entries_) {
                    if (t.name == a->core().topics().front()) {
                        to = &t;
                    }
                }
            }
        }
        if (to == nullptr) {
            std::vector<std::string> topic_names;
            std::vector<std::string> agent_names;
            for (const auto& t : entries_) {
                topic_names.push_back(t.name);
            }
            for (const auto& a : agents_) {
                agent_names.push_back(a->core().agent_name());
            }
            std::fprintf(stderr, "send: no topic or agent is named '%s' (topics: %s; agents: %s)\n", target.c_str(),
                         joined(topic_names).c_str(), joined(agent_names).c_str());
            return 2;
        }
        std::vector<std::string> values;
        std::string where_from = "the value";
        if (value) {
            values.push_back(*value);
        } else if (!file.empty()) {
            std::ifstream in(file);
            if (!in) {
                std::fprintf(stderr, "send: cannot read '%s': %s\n", file.c_str(), std::strerror(errno));
                return 2;
            }
            for (std::string line; std::getline(in, line);) {
                values.push_back(std::move(line));
            }
        } else {
            std::fprintf(stderr, "send: give a value or --file\n");
            return 2;
        }
        // Everything is checked before anything is sent: a bad line sends nothing.
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (!file.empty() && values[i].find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            try {
                to->check_text(values[i], key);
            } catch (const std::exception& e) {
                if (file.empty()) {
                    std::fprintf(stderr, "send: the value for '%s': %s; nothing was sent\n", to->name.c_str(),
                                 e.what());
                } else {
                    std::fprintf(stderr, "send: line %zu of %s: %s; nothing was sent\n", i + 1, file.c_str(), e.what());
                }
                return 2;
            }
        }

        // On the embedded broker nothing but this process reads the topic: the agents run
        // while the values go, and until they have finished them.
        const bool embedded = core_->options().broker.rfind("memory://", 0) == 0;
        std::vector<detail::agent_base*> readers;
        if (embedded) {
            start();
            for (const auto& a : agents_) {
                const auto& ts = a->core().topics();
                if (std::find(ts.begin(), ts.end(), to->name) != ts.end()) {
                    readers.push_back(a.get());
                }
            }
        }
        const bool progress = !file.empty() && ::isatty(2) != 0;
        std::size_t sent = 0;
        const std::size_t total =
            static_cast<std::size_t>(std::count_if(values.begin(), values.end(), [&](const std::string& v) {
                return file.empty() || v.find_first_not_of(" \t\r") != std::string::npos;
            }));
        for (const auto& v : values) {
            if (!file.empty() && v.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            const record_metadata where = to->send_text(v, key, partition).get();
            ++sent;
            if (file.empty()) {
                std::printf("%s/%u at offset %llu\n", where.topic.c_str(), where.partition,
                            static_cast<unsigned long long>(where.offset));
            } else if (progress && (sent % 64 == 0 || sent == total)) {
                const std::size_t filled = sent * 40 / total;
                std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                             std::string(40 - filled, '.').c_str(), sent, total);
                if (sent == total) {
                    std::fprintf(stderr, "\n");
                }
            }
        }
        if (!file.empty()) {
            std::printf("sent %zu value%s to %s\n", sent, sent == 1 ? "" : "s", to->name.c_str());
        }
        if (embedded) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
            bool finished = true;
            for (auto* a : readers) {
                const auto left = deadline - std::chrono::steady_clock::now();
                finished = finished && a->when_finished(sent).wait_for(std::max(left, left.zero()));
            }
            stop();
            for (auto* a : readers) {
                const detail::agent_core* c = &a->core();
                std::printf("agent '%s' finished %llu, committed %s\n", c->agent_name().c_str(),
                            static_cast<unsigned long long>(c->finished()),
                            commits_of(broker(), c->group(), c->topics()).c_str());
            }
            if (!finished) {
                std::fprintf(stderr, "send: the agents did not finish what was sent within %g s\n", wait_seconds);
                return 1;
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n",
                     cli.get_subcommands().empty() ? "troupe" : cli.get_subcommands().front()->get_name().c_str(),
                     e.what());
        return 1;
    }
}

}  // namespace troupe::streams
