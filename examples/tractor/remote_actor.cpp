// An actor inside another process actor, reached through a ref<A> like a local one (tractor has
// no such thing: there, only functions run in subactors). The parent spawns a bank account in
// a child process, tells it deposits, asks it for withdrawals and its balance, watches it with a
// local monitor, and sees the child's end as the account's.

#include <troupe/remote/actor.hpp>
#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <iostream>
#include <stdexcept>
#include <string>

#include "../check.hpp"
#include "processes.hpp"

namespace bank {

struct deposit {
    long cents = 0;
};
struct withdraw {
    long cents = 0;
};
struct balance {};
TROUPE_RECORD(deposit, cents);
TROUPE_RECORD(withdraw, cents);
TROUPE_RECORD(balance);

/// Lives in whichever process spawned it; its messages are records, so they cross processes.
class account : public troupe::actor {
public:
    using handles = troupe::handles<deposit, withdraw, balance>;
    explicit account(std::string owner) : owner_(std::move(owner)) {}

    void handle(deposit d) { cents_ += d.cents; }
    long handle(withdraw w) {
        if (w.cents > cents_) {
            throw std::domain_error(owner_ + " has only " + std::to_string(cents_) + " cents");
        }
        cents_ -= w.cents;
        return cents_;
    }
    long handle(balance) const { return cents_; }

private:
    std::string owner_;
    long cents_ = 0;
};

}  // namespace bank
TROUPE_EXPOSE_ACTOR(bank::account, std::string);

/// A local actor that reports the account's end.
class auditor : public troupe::actor {
public:
    explicit auditor(troupe::address report) : report_(std::move(report)) {}
    void handle(troupe::ref<bank::account> a) { self().monitor(a); }
    void handle(troupe::down d) { report_.tell(d.reason.describe()); }

private:
    troupe::address report_;
};

using example::check;

int main(int argc, char** argv) {
    return troupe::run(argc, argv, [](troupe::system& sys) {
        troupe::inbox reports(sys);
        auto watcher = sys.spawn<auditor>(reports.address());
        long after_withdrawal = 0;
        long final_balance = 0;
        std::string refused;
        troupe::exit_reason account_end;
        troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
            troupe::portal vault = an.start_actor("vault");
            troupe::ref<bank::account> acct = co_await vault.spawn<bank::account>(std::string("gretchen"));
            std::cout << "spawned " << acct.name() << '\n';
            co_await watcher.ask(acct);  // monitor it from here

            for (int i = 0; i < 10; ++i) {
                acct.tell(bank::deposit{100});
            }
            after_withdrawal = co_await acct.ask(bank::withdraw{250});
            try {
                (void)co_await acct.ask(bank::withdraw{1'000'000});
            } catch (const troupe::remote_actor_error& e) {
                refused = e.type() + ": " + e.message();
                std::cout << "refused there: " << e.what() << '\n';
            }
            final_balance = co_await acct.ask(bank::balance{});

            co_await vault.cancel_actor();  // its actors stop with it
            account_end = co_await acct.exited();
        });
        const std::string audit = reports.receive<std::string>(std::chrono::seconds(10));
        std::cout << "the auditor saw the account end: " << audit << '\n';

        check(after_withdrawal == 750, "ten deposits, then a withdrawal, in order");
        check(refused == "std::domain_error: gretchen has only 750 cents", "the handler's exception reached the asker");
        check(final_balance == 750, "a refused withdrawal changed nothing");
        check(account_end.what == troupe::exit_reason::kind::stopped, "cancelling its process stopped the account");
        check(audit == "stopped", "a local monitor of the remote actor got its down");
        check(example::no_child_left(), "the vault ended with the nursery");
        return example::exit_status();
    });
}
