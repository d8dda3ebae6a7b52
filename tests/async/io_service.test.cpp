#include <troupe/async/io_service.hpp>

#include <troupe/core/detail/runtime_thread.hpp>
#include <troupe/core/inbox.hpp>
#include <troupe/core/system.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/test_support.hpp"

// The I/O service: one io_context per system, run by a runtime thread; handlers that throw are
// logged; the loop lives until every actor has ended, and what it did not run is destroyed
// with it.

namespace {

using namespace std::chrono_literals;
using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

/// Runs `fn` on the I/O thread and waits for its result.
template <class F>
auto on_io_thread(troupe::io_service& io, F fn) {
    auto done = std::make_shared<std::promise<decltype(fn())>>();
    auto result = done->get_future();
    asio::post(io.context(), [done, fn] { done->set_value(fn()); });
    EXPECT_EQ(result.wait_for(patience()), std::future_status::ready);
    return result.get();
}

TEST(io_service, one_loop_per_system_run_by_a_runtime_thread) {
    troupe::system sys(small_system());
    troupe::io_service& io = sys.service<troupe::io_service>();
    EXPECT_EQ(&sys.service<troupe::io_service>(), &io);
    troupe::system other(small_system());
    EXPECT_NE(&other.service<troupe::io_service>().context(), &io.context());

    EXPECT_FALSE(io.on_io_thread());
    EXPECT_TRUE(on_io_thread(io, [&] { return io.on_io_thread() && troupe::detail::on_runtime_thread(); }));
    EXPECT_NE(on_io_thread(io, [] { return std::this_thread::get_id(); }), std::this_thread::get_id());
}

TEST(io_service, an_io_timer_on_the_context_tells_an_actor) {
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    asio::steady_timer t(sys.service<troupe::io_service>().context(), 1ms);
    t.async_wait([to = in.address()](const asio::error_code& ec) { to.tell(ec ? ec.message() : std::string("rang")); });
    EXPECT_EQ(in.receive<std::string>(patience()), "rang");
}

TEST(io_service, a_handler_that_throws_is_logged_and_the_loop_goes_on) {
    troupe_test::log_capture logs;
    troupe::system sys(small_system());
    troupe::io_service& io = sys.service<troupe::io_service>();
    asio::post(io.context(), [] { throw std::runtime_error("wires crossed"); });
    EXPECT_EQ(on_io_thread(io, [] { return 7; }), 7);
    auto errors = logs.lines_starting("error ");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "error system 'troupe': an I/O handler threw: wires crossed");
}

struct hold {
    gate* entered;
    gate* release;
};
struct tick {};
class holder : public troupe::actor {
public:
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }
    void handle(tick) {}
};

TEST(io_service, a_handler_never_waits_for_room_in_a_mailbox) {
    gate entered;  // the gates outlive the system, and so the actor
    gate release;
    troupe::system sys(small_system());
    troupe::io_service& io = sys.service<troupe::io_service>();
    auto busy = sys.spawn<holder>(troupe_test::bounded(1, troupe::overflow::block));
    busy.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    busy.tell(tick{});  // full
    EXPECT_TRUE(on_io_thread(io, [&] {
        busy.tell(tick{});  // a dead letter, not a wait
        return true;
    }));
    EXPECT_EQ(sys.dead_letters(), 1u);
    release.open();
}

struct ping {};
/// Uses the I/O loop while it stops: the loop outlives every actor.
class stopper : public troupe::actor {
public:
    explicit stopper(bool& ran) : ran_(ran) {}
    void handle(ping) {}

protected:
    void on_stop() override {
        ran_ = on_io_thread(self().system().service<troupe::io_service>(), [] { return true; });
    }

private:
    bool& ran_;
};

TEST(io_service, the_loop_runs_until_every_actor_has_ended) {
    bool ran = false;
    troupe::system sys(small_system());
    sys.service<troupe::io_service>();
    sys.spawn<stopper>(ran);
    sys.shutdown();
    EXPECT_TRUE(ran);
}

TEST(io_service, handlers_left_at_shutdown_never_run_and_are_destroyed_with_the_system) {
    auto captured = std::make_shared<int>(1);
    bool ran = false;
    {
        troupe::system sys(small_system());
        troupe::io_service& io = sys.service<troupe::io_service>();
        sys.shutdown();
        asio::post(io.context(), [captured, &ran] { ran = true; });
        EXPECT_EQ(captured.use_count(), 2);
    }
    EXPECT_EQ(captured.use_count(), 1);
    EXPECT_FALSE(ran);
}

}  // namespace
