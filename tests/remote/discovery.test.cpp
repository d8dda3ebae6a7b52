#include <troupe/remote/discovery.hpp>

#include <troupe/remote/actor_nursery.hpp>
#include <troupe/remote/expose.hpp>
#include <troupe/remote/run.hpp>
#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <future>
#include <optional>
#include <string>

#include "core/test_support.hpp"
#include "remote/process.hpp"
#include "remote/processes.hpp"
#include "remote/standalone.hpp"

// Discovery between process actors (this executable started again): the root is the
// registrar; children register, find and watch each other.

namespace movie {
std::string hi() {
    return "Hi my name is " + troupe::process_actor_name();
}
/// Finds `other` through the registrar and asks it to say hi.
troupe::task<std::string> say_hello(std::string other) {
    troupe::portal p = co_await troupe::wait_for_actor(other);
    co_return co_await p.run(&movie::hi);
}
troupe::task<bool> find_nobody() {
    std::optional<troupe::portal> p = co_await troupe::find_actor("nobody-by-this-name");
    co_return p.has_value();
}
}  // namespace movie
TROUPE_EXPOSE(movie, hi);
TROUPE_EXPOSE(movie, say_hello);
TROUPE_EXPOSE(movie, find_nobody);

namespace {

using troupe_test::patience;

class Discovery : public troupe_test::process_test {
protected:
    troupe::process_options serving() {
        troupe::process_options o;
        o.enable = {"movie"};
        return o;
    }
};

TEST_F(Discovery, DonnyAndGretchenFindEachOther) {
    // Daemons, so that neither ends (as a run_in_actor child would, once its function returns)
    // before the other has called it.
    std::string donny_heard;
    std::string gretchen_heard;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal donny = an.start_actor("donny", serving());
        troupe::portal gretchen = an.start_actor("gretchen", serving());
        troupe::future<std::string> from_donny = donny.run(&movie::say_hello, std::string("gretchen"));
        troupe::future<std::string> from_gretchen = gretchen.run(&movie::say_hello, std::string("donny"));
        donny_heard = co_await from_donny;
        gretchen_heard = co_await from_gretchen;
        an.cancel();
    });
    EXPECT_EQ(donny_heard, "Hi my name is gretchen");
    EXPECT_EQ(gretchen_heard, "Hi my name is donny");
}

TEST_F(Discovery, FindActorGivesAPortalOrNothing) {
    bool child_found_nobody = true;
    std::string answer;
    bool found_unknown = true;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        troupe::portal frank = an.start_actor("frank", serving());
        auto lookup = an.run_in_actor("looker", &movie::find_nobody);
        child_found_nobody = co_await lookup.result();
        co_await troupe::wait_for_actor("frank");
        std::optional<troupe::portal> found = co_await troupe::find_actor("frank");
        if (found) {
            answer = co_await found->run(&movie::hi);
        }
        found_unknown = (co_await troupe::find_actor("nobody")).has_value();
        co_await frank.cancel_actor();
    });
    EXPECT_FALSE(child_found_nobody);
    EXPECT_EQ(answer, "Hi my name is frank");
    EXPECT_FALSE(found_unknown);
}

TEST_F(Discovery, WaitForActorTimesOut) {
    bool timed_out = false;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        try {
            co_await troupe::wait_for_actor("never", std::chrono::milliseconds(50));
        } catch (const troupe::timeout&) {
            timed_out = true;
        }
    });
    EXPECT_TRUE(timed_out);
}

std::string describe(const std::optional<troupe::registry_event>& ev) {
    return ev ? std::string(ev->appeared ? "+" : "-") + ev->actor.name : std::string("end");
}

TEST_F(Discovery, AWatchSeesActorsComeAndGo) {
    std::vector<std::string> seen;
    troupe::open_actor_nursery(sys, [&](troupe::actor_nursery& an) -> troupe::task<void> {
        auto changes = co_await troupe::watch_actors("watched");
        troupe::portal first = an.start_actor("watched", serving());
        seen.push_back(describe(co_await changes.next()));
        co_await first.cancel_actor();
        seen.push_back(describe(co_await changes.next()));
        troupe::portal second = an.start_actor("watched", serving());
        seen.push_back(describe(co_await changes.next()));
        an.cancel();
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"+watched", "-watched", "+watched"}));
}

/// The registrar's address, read from the root's own entry (the root registers itself).
std::string registrar_address(troupe::system& sys) {
    std::string address;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        std::optional<troupe::actor_entry> me = co_await troupe::query_actor("root");
        address = me ? me->address : std::string();
    });
    return address;
}

/// Starts this executable as a standalone process actor named "lone" joining `registrar`.
std::shared_ptr<troupe::remote::detail::child_process> start_standalone(troupe::system& sys,
                                                                        const std::string& registrar) {
    troupe::remote::detail::spawn_spec spec;
    spec.executable = "/proc/self/exe";
    spec.args = troupe_test::standalone_args(registrar);
    return sys.service<troupe::remote::detail::process_service>().spawn(spec);
}

TEST_F(Discovery, AKilledActorIsUnregistered) {
    const std::string registrar = registrar_address(sys);
    ASSERT_FALSE(registrar.empty());
    std::vector<std::string> seen;
    std::shared_ptr<troupe::remote::detail::child_process> standalone;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        auto changes = co_await troupe::watch_actors("lone");
        standalone = start_standalone(sys, registrar);
        seen.push_back(describe(co_await changes.next()));
        standalone->kill();
        seen.push_back(describe(co_await changes.next()));
        std::optional<troupe::portal> gone = co_await troupe::find_actor("lone");
        seen.push_back(gone ? "still there" : "not found");
    });
    ASSERT_TRUE(standalone->wait_for(patience()));
    EXPECT_EQ(seen, (std::vector<std::string>{"+lone", "-lone", "not found"}));
}

TEST_F(Discovery, AStandaloneProcessJoinsTheTreeByTheRegistrarsAddress) {
    const std::string registrar = registrar_address(sys);
    ASSERT_FALSE(registrar.empty());
    auto lone = start_standalone(sys, registrar);
    std::string answer;
    troupe::open_nursery(sys, [&](troupe::nursery&) -> troupe::task<void> {
        troupe::portal p = co_await troupe::wait_for_actor("lone");
        answer = co_await p.run(&lone::hi);
        co_await p.run(&lone::quit);
    });
    ASSERT_TRUE(lone->wait_for(patience()));
    EXPECT_TRUE(lone->status()->success()) << lone->status()->describe();
    EXPECT_EQ(answer, "Hi my name is lone");
}

}  // namespace

int main(int argc, char** argv) {
    if (std::optional<int> code = troupe_test::run_standalone(argc, argv)) {
        return *code;
    }
    return troupe::run(argc, argv, [&] {
        ::testing::InitGoogleTest(&argc, argv);
        return RUN_ALL_TESTS();
    });
}
