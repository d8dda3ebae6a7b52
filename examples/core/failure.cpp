// Failure: an exception in an ask's handler goes to the asker and the actor goes on; in a tell's
// handler it is the actor's failure (on_failure, then it stops); in on_start the actor never runs.
// troupe logs these through spdlog; here the log is captured to show it.

#include <troupe/troupe.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <syncstream>

#include "../check.hpp"

struct divide {
    int a;
    int b;
};
struct crash {};

class fragile : public troupe::actor {
public:
    explicit fragile(std::string& last_words) : last_words_(last_words) {}

    int handle(divide d) {
        if (d.b == 0) {
            throw std::domain_error("division by zero");
        }
        return d.a / d.b;
    }
    void handle(crash) { throw std::runtime_error("crashed on purpose"); }

protected:
    void on_failure(std::exception_ptr error) override {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            last_words_ = e.what();
        }
    }
    void on_stop() override { last_words_ = "stopped normally"; }  // not after a failure

private:
    std::string& last_words_;
};

class misconfigured : public troupe::actor {
public:
    int handle(divide d) { return d.a / d.b; }

protected:
    void on_start() override { throw std::runtime_error("no configuration found"); }
};

using example::check;

int main() {
    // troupe writes to an spdlog logger named "troupe"; replace it to capture its lines.
    std::ostringstream log_lines;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_lines);
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", sink));

    troupe::system sys;
    std::string last_words;
    auto f = sys.spawn<fragile>(last_words);

    // The asker gets the handler's exception; the actor goes on.
    try {
        f.ask(divide{1, 0}).get();
        check(false, "the asker gets the handler's exception");
    } catch (const std::domain_error&) {
        check(true, "the asker gets the handler's exception");
    }
    check(f.ask(divide{6, 3}).get() == 2, "the actor goes on after an ask's handler threw");

    // A tell's handler that throws fails the actor: on_failure runs, then it stops.
    f.tell(crash{});
    f.terminated().get();
    check(last_words == "crashed on purpose", "on_failure gets the exception");
    check(f.ask(divide{6, 3}).failed(), "a failed actor takes no more messages");

    // on_start throws: the actor stops before its first message.
    auto m = sys.spawn<misconfigured>();
    m.terminated().get();
    check(!m.alive(), "an actor whose on_start threw is stopped");

    std::cout << "troupe's log:\n" << log_lines.str();
    check(log_lines.str().find("crashed on purpose") != std::string::npos, "the failure was logged");
    check(log_lines.str().find("no configuration found") != std::string::npos, "the on_start error was logged");
    return example::exit_status();
}
