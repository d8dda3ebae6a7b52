#include <troupe/core/service.hpp>

#include "test_support.hpp"

#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// Services: made once on first use (from any thread), shut down newest first once every actor
// has ended, while the timers still run; none made after that.

namespace service_tests {

using troupe_test::journal;
using troupe_test::patience;
using troupe_test::small_system;

/// Writes its shutdown, and how many actors were still live then, to a journal.
class recorder : public troupe::service {
public:
    recorder(troupe::system& sys, journal& log, std::string name) : sys_(sys), log_(log), name_(std::move(name)) {}
    void use(const std::string& by) { log_.add(name_ + " used by " + by); }

protected:
    void shutdown() override { log_.add(name_ + " shut down, live actors: " + std::to_string(sys_.registry().size())); }

private:
    troupe::system& sys_;
    journal& log_;
    std::string name_;
};

// Services are made by the system, from the system alone: tests hand them a journal this way.
journal* current_log = nullptr;

class first_service final : public recorder {
public:
    explicit first_service(troupe::system& sys) : recorder(sys, *current_log, "first") {}
};
class second_service final : public recorder {
public:
    explicit second_service(troupe::system& sys) : recorder(sys, *current_log, "second") {}
};
/// Uses first_service, so asks for it in its constructor.
class built_on_first final : public recorder {
public:
    explicit built_on_first(troupe::system& sys) : recorder(sys, *current_log, "built on first") {
        sys.service<first_service>();
    }
};

/// A fixture that points current_log at its own journal.
class service : public ::testing::Test {
protected:
    service() { current_log = &log; }
    ~service() override { current_log = nullptr; }
    journal log;
};

TEST_F(service, is_made_on_first_use_from_its_system_and_then_shared) {
    troupe::system sys(small_system());
    first_service& a = sys.service<first_service>();
    first_service& b = sys.service<first_service>();
    EXPECT_EQ(&a, &b);
    troupe::system other(small_system());
    EXPECT_NE(&other.service<first_service>(), &a);  // one per system
}

struct counted final : troupe::service {
    counted() { made.fetch_add(1); }
    void shutdown() override {}
    static inline std::atomic<int> made{0};
};

TEST_F(service, concurrent_first_uses_make_one_service) {
    counted::made = 0;
    troupe::system sys(small_system());
    constexpr int n = 4;
    std::latch start(n);
    std::vector<counted*> got(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();  // all ask at once
            got[i] = &sys.service<counted>();
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(counted::made.load(), 1);
    for (counted* c : got) {
        EXPECT_EQ(c, got[0]);
    }
}

struct bye {};
/// Uses first_service in on_stop, and says when it is destroyed.
class user : public troupe::actor {
public:
    explicit user(journal& log) : log_(log) {}
    ~user() override { log_.add("actor destroyed"); }
    void handle(bye) {}

protected:
    void on_stop() override { self().system().service<first_service>().use("on_stop"); }

private:
    journal& log_;
};

TEST_F(service, services_shut_down_newest_first_once_every_actor_has_ended) {
    troupe::system sys(small_system());
    sys.service<first_service>();
    sys.service<second_service>();
    sys.spawn<user>(log);
    sys.shutdown();
    // The actor ended for good (on_stop, then its destructor) before any service shut down.
    EXPECT_EQ(log.entries(),
              (std::vector<std::string>{"first used by on_stop", "actor destroyed", "second shut down, live actors: 0",
                                        "first shut down, live actors: 0"}));
    sys.shutdown();  // each is shut down once
    EXPECT_EQ(log.entries().size(), 4u);
}

TEST_F(service, a_service_made_by_another_ones_constructor_is_shut_down_after_it) {
    {
        troupe::system sys(small_system());
        sys.service<built_on_first>();  // makes first_service first
    }
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"built on first shut down, live actors: 0",
                                                       "first shut down, live actors: 0"}));
}

/// Sets a timer while shutting down, and waits for it.
class flusher final : public troupe::service {
public:
    explicit flusher(troupe::system& sys) : sys_(sys) {}
    bool timer_fired = false;

protected:
    void shutdown() override {
        auto fired = std::make_shared<std::promise<void>>();
        sys_.timers().after(std::chrono::milliseconds(1), [fired] { fired->set_value(); });
        timer_fired = fired->get_future().wait_for(patience()) == std::future_status::ready;
    }

private:
    troupe::system& sys_;
};

TEST_F(service, the_timers_still_run_while_the_services_shut_down) {
    troupe::system sys(small_system());
    flusher& f = sys.service<flusher>();
    sys.shutdown();
    EXPECT_TRUE(f.timer_fired);
}

TEST_F(service, none_is_made_once_the_services_are_shut_down) {
    troupe::system sys(small_system());
    first_service& before = sys.service<first_service>();
    sys.shutdown();
    EXPECT_EQ(&sys.service<first_service>(), &before);  // still there, shut down
    try {
        sys.service<second_service>();
        FAIL() << "expected troupe::error";
    } catch (const troupe::error& e) {
        EXPECT_NE(std::string(e.what()).find("is shut down: it makes no more services"), std::string::npos) << e.what();
    }
}

/// An actor that makes a service while it stops.
class late_user : public troupe::actor {
public:
    void handle(bye) {}

protected:
    void on_stop() override { self().system().service<second_service>().use("a stopping actor"); }
};

TEST_F(service, a_stopping_actor_may_still_make_a_service) {
    troupe::system sys(small_system());
    sys.spawn<late_user>();
    sys.shutdown();
    EXPECT_EQ(log.entries(),
              (std::vector<std::string>{"second used by a stopping actor", "second shut down, live actors: 0"}));
}

struct fragile final : troupe::service {
    fragile() {
        if (fail_next) {
            fail_next = false;
            throw std::runtime_error("not today");
        }
    }
    void shutdown() override {}
    static inline bool fail_next = true;
};

TEST_F(service, a_constructor_that_throws_leaves_no_service) {
    fragile::fail_next = true;
    troupe::system sys(small_system());
    EXPECT_THROW(sys.service<fragile>(), std::runtime_error);
    EXPECT_NO_THROW(sys.service<fragile>());  // tried again, made this time
}

struct narcissus final : troupe::service {
    explicit narcissus(troupe::system& sys) { sys.service<narcissus>(); }
    void shutdown() override {}
};

TEST_F(service, a_service_that_asks_for_itself_while_being_made_is_refused) {
    troupe::system sys(small_system());
    EXPECT_THROW(sys.service<narcissus>(), troupe::error);
}

struct clumsy final : troupe::service {
    void shutdown() override { throw std::runtime_error("dropped the keys"); }
};

TEST_F(service, a_shutdown_that_throws_is_logged_and_the_older_services_still_shut_down) {
    troupe_test::log_capture logs;
    {
        troupe::system sys(small_system());
        sys.service<first_service>();
        sys.service<clumsy>();
    }
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"first shut down, live actors: 0"}));
    auto errors = logs.lines_starting("error ");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("clumsy threw while shutting down: dropped the keys"), std::string::npos) << errors[0];
}

}  // namespace service_tests
