// Monitors and links. A monitor tells an actor (troupe::down) when another ends, for whatever
// reason. A link shares a fate: when either actor ends abnormally, the other gets a
// troupe::exit_signal if it handles one, and fails too (troupe::linked_failure) if it does not.

#include <troupe/troupe.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "../check.hpp"

using namespace std::chrono_literals;

struct crash {};
class subject : public troupe::actor {
public:
    void handle(crash) { throw std::runtime_error("boom"); }
};

struct watch {
    troupe::ref<troupe::actor> target;
};
/// Monitors what it is told to watch, and reports each end.
class watcher : public troupe::actor {
public:
    explicit watcher(troupe::address report) : report_(std::move(report)) {}
    void handle(watch w) { self().monitor(w.target); }
    void handle(troupe::down d) { report_.tell(d.name + " is down: " + d.reason.describe()); }

private:
    troupe::address report_;
};

/// Has no handle(troupe::down): it cannot monitor.
class deaf : public troupe::actor {
public:
    std::string handle(watch w) {
        try {
            self().monitor(w.target);
        } catch (const troupe::error& e) {
            return e.what();
        }
        return "monitoring";
    }
};

struct link_to {
    troupe::ref<troupe::actor> other;
};
/// Asks a trapper how many exit signals it got.
struct signals {};
/// Traps exits: a linked actor's abnormal end reaches it as a message, and it goes on.
class trapper : public troupe::actor {
public:
    explicit trapper(troupe::address report) : report_(std::move(report)) {}
    void handle(link_to l) { self().link(l.other); }
    void handle(troupe::exit_signal s) {
        ++signals_;
        report_.tell("trapped: " + s.name + " " + s.reason.describe());
    }
    int handle(signals) const { return signals_; }

private:
    troupe::address report_;
    int signals_ = 0;
};
/// Does not trap exits: a linked actor's abnormal end makes it fail too.
class partner : public troupe::actor {
public:
    void handle(link_to l) { self().link(l.other); }
};

using example::check;

int main() {
    troupe::system sys;
    troupe::inbox inbox(sys);

    // A monitor hears of any end, a normal one too; an actor already ended is reported at once.
    auto w = sys.spawn<watcher>(inbox.address());
    auto target = sys.spawn<subject>();
    w.ask(watch{target}).get();
    target.stop();
    const std::string down = inbox.receive<std::string>(5s);
    std::cout << "  " << down << '\n';
    check(down == target.name() + " is down: stopped", "the watcher got a down for a stop");
    w.ask(watch{target}).get();
    check(inbox.receive<std::string>(5s) == down, "monitoring an actor that has ended reports it at once");
    const std::string refused = sys.spawn<deaf>().ask(watch{w}).get();
    std::cout << "  (" << refused << ")\n";
    check(refused.find("no handle(troupe::down)") != std::string::npos, "monitor() needs a handle(troupe::down)");

    // Links: a trapper and a partner, each linked to its own subject.
    auto t = sys.spawn<trapper>(inbox.address());
    auto p = sys.spawn<partner>();
    auto s1 = sys.spawn<subject>();
    auto s2 = sys.spawn<subject>();
    t.ask(link_to{s1}).get();
    p.ask(link_to{s2}).get();
    s1.tell(crash{});
    s2.tell(crash{});
    const std::string trapped = inbox.receive<std::string>(5s);
    std::cout << "  " << trapped << '\n';
    check(trapped == "trapped: " + s1.name() + " failed: std::runtime_error: boom", "the trapper got an exit_signal");
    check(t.alive(), "the trapper goes on");
    const troupe::exit_reason why = p.exited().get();
    std::cout << "  " << p.name() << ": " << why.describe() << '\n';
    check(why.error_type == "troupe::linked_failure", "the partner failed with linked_failure");

    // A normal end does not travel along a link. (exited() is asked for after the link, so its
    // continuation runs after the link's: once it is ready, any signal is in the trapper's mailbox.)
    auto s3 = sys.spawn<subject>();
    t.ask(link_to{s3}).get();
    troupe::future<troupe::exit_reason> s3_ended = s3.exited();
    s3.stop();
    s3_ended.get();
    check(t.ask(signals{}).get() == 1, "a normal stop sends no exit_signal");
    return example::exit_status();
}
