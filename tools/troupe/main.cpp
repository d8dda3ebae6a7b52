// troupe: the command line of troupe's process actors.
//
//     troupe registrar [--listen ADDRESS] [--ready-fd N]
//
// `registrar` runs a standalone registrar: process actors started on their own join it with
// run_options::registrar = ADDRESS (tractor's arbiter as a service of its own). It serves
// until SIGINT or SIGTERM.

#include <troupe/core/log.hpp>
#include <troupe/remote/discovery.hpp>
#include <troupe/remote/run.hpp>

#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

/// Blocks SIGINT and SIGTERM in every thread started from now on, and waits for one of them.
class stop_signals {
public:
    stop_signals() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    int wait() const {
        int sig = 0;
        sigwait(&set_, &sig);
        return sig;
    }

private:
    sigset_t set_{};
};

int run_registrar(const std::string& listen, int ready_fd) {
    const stop_signals signals;  // before the system's threads start, so that they inherit the mask
    troupe::run_options options;
    options.name = "registrar";
    options.listen = listen;
    char arg0[] = "troupe";
    char* argv[] = {arg0, nullptr};
    return troupe::run(
        1, argv,
        [&](troupe::system& sys) {
            const std::string address = troupe::start_registrar(sys);
            troupe::logger()->set_level(spdlog::level::info);
            troupe::logger()->info("troupe registrar: listening on {}", address);
            if (ready_fd >= 0) {
                const std::string line = address + "\n";
                if (::write(ready_fd, line.data(), line.size()) < 0) {
                    std::fprintf(stderr, "troupe registrar: cannot write to fd %d: %s\n", ready_fd,
                                 std::strerror(errno));
                }
                ::close(ready_fd);
            }
            const int sig = signals.wait();
            troupe::logger()->info("troupe registrar: {}; stopping", sig == SIGINT ? "interrupted" : "terminated");
            return 0;
        },
        options);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"troupe: process actors' tools"};
    app.require_subcommand(1);

    std::string listen;
    int ready_fd = -1;
    CLI::App* registrar = app.add_subcommand("registrar", "run a standalone registrar that process actors join");
    registrar->add_option("--listen", listen,
                          "where to accept connections: unix:/path or tcp:host:port (default: a private Unix socket)");
    registrar->add_option("--ready-fd", ready_fd, "write the address to this descriptor once listening, then close it");

    CLI11_PARSE(app, argc, argv);
    if (registrar->parsed()) {
        try {
            return run_registrar(listen, ready_fd);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "troupe registrar: %s\n", e.what());
            return 1;
        }
    }
    return 2;
}
