// Services: something that runs beside the actors of one system, made on first use and shut
// down after every actor has ended. Here an audit log that actors write to (even from on_stop)
// and that writes everything out when the system shuts down.

#include <troupe/troupe.hpp>

#include <iostream>
#include <mutex>
#include <string>
#include <syncstream>
#include <utility>
#include <vector>

#include "../check.hpp"

/// A per-system service: collects lines from the actors, writes them out at shutdown.
class audit_log final : public troupe::service {
public:
    explicit audit_log(troupe::system& sys) : sys_(sys) {}

    void write(std::string line) {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::move(line));
    }
    /// What shutdown() wrote out, and how many actors were still live then.
    std::vector<std::string> written;
    std::size_t live_actors_at_shutdown = 0;

protected:
    // After every actor of the system has ended: nothing writes to it any more.
    void shutdown() override {
        std::lock_guard lock(mutex_);
        live_actors_at_shutdown = sys_.registry().size();
        for (const auto& line : lines_) {
            std::osyncstream(std::cout) << "audit: " << line << '\n';
        }
        written = std::move(lines_);
    }

private:
    troupe::system& sys_;
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

struct deposit {
    int amount;
};

class account : public troupe::actor {
public:
    int handle(deposit d) {
        balance_ += d.amount;
        log().write("deposit " + std::to_string(d.amount));
        return balance_;
    }

protected:
    void on_stop() override { log().write("closed with " + std::to_string(balance_)); }

private:
    // The same service for every actor of the system, made by whoever asks first.
    audit_log& log() { return self().system().service<audit_log>(); }
    int balance_ = 0;
};

using example::check;

int main() {
    troupe::system sys;
    auto a = sys.spawn<account>();
    a.ask(deposit{5}).get();
    a.ask(deposit{7}).get();
    audit_log& log = sys.service<audit_log>();  // the one the actor made

    // Stops the actors (on_stop writes its line), then shuts the services down, newest first.
    sys.shutdown();

    check(log.written == std::vector<std::string>{"deposit 5", "deposit 7", "closed with 12"},
          "the service shut down after the actor's on_stop had written to it");
    check(log.live_actors_at_shutdown == 0, "no actor was live when the service shut down");
    return example::exit_status();
}
