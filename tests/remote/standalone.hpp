#pragma once
// A standalone process actor for the discovery tests: the test executable started again with
// `--standalone <registrar address>` joins that registrar as "lone", serves lone.hi and
// lone.quit, and exits once told to quit.

#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>

#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace lone {
inline std::string hi() {
    return "Hi my name is " + troupe::process_actor_name();
}
inline std::promise<void>& quit_signal() {
    static std::promise<void> p;
    return p;
}
/// Ends the standalone process's main.
inline void quit() {
    quit_signal().set_value();
}
}  // namespace lone
TROUPE_EXPOSE(lone, hi);
TROUPE_EXPOSE(lone, quit);

namespace troupe_test {

/// The arguments that make the test executable a standalone process actor joining
/// `registrar`, and listening at `listen` (empty: a private Unix socket).
inline std::vector<std::string> standalone_args(const std::string& registrar, const std::string& listen = {}) {
    std::vector<std::string> args{"--standalone", registrar};
    if (!listen.empty()) {
        args.push_back(listen);
    }
    return args;
}

/// In main, first: if this process was started as a standalone actor, serves as one and gives
/// its exit code; nullopt otherwise.
inline std::optional<int> run_standalone(int argc, char** argv) {
    if (argc < 3 || std::strcmp(argv[1], "--standalone") != 0) {
        return std::nullopt;
    }
    troupe::run_options options;
    options.name = "lone";
    options.registrar = argv[2];
    options.enable = {"lone"};
    if (argc >= 4) {
        options.listen = argv[3];
    }
    return troupe::run(
        1, argv,
        [](troupe::system&) {
            lone::quit_signal().get_future().wait();
            return 0;
        },
        options);
}

}  // namespace troupe_test
