#include <troupe/core/log.hpp>

#include "test_support.hpp"

#include <troupe/core/address.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <gtest/gtest.h>

#include <chrono>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// Logging: the "troupe" logger, replacing it, and the exact one-line messages for failures and
// dead letters (Pykka LG-01..03, HK-02..06).

namespace log_tests {

using troupe_test::gate;
using troupe_test::log_capture;
using troupe_test::patience;
using troupe_test::small_system;

struct explode {
    std::string what;
};
struct throw_int {};
struct unknown {};
struct ping {};
struct hold {
    gate* entered;
    gate* release;
};

class bomb : public troupe::actor {
public:
    using handles = troupe::handles<explode, ping>;
    enum class fault { none, on_start, on_stop, on_failure };
    explicit bomb(fault f = fault::none) : fault_(f) {}

    int handle(explode e) { throw std::runtime_error(e.what); }
    int handle(throw_int) { throw 7; }
    std::string handle(ping) { return "pong"; }
    void handle(hold h) {
        h.entered->open();
        h.release->wait();
    }

protected:
    void on_start() override {
        if (fault_ == fault::on_start) {
            throw std::runtime_error("no start");
        }
    }
    void on_stop() override {
        if (fault_ == fault::on_stop) {
            throw std::runtime_error("bad stop");
        }
    }
    void on_failure(std::exception_ptr) override {
        if (fault_ == fault::on_failure) {
            throw std::logic_error("worse");
        }
    }

private:
    fault fault_;
};

// LG-01: by default troupe logs warnings and errors through a logger named "troupe".
TEST(log, the_default_logger_is_named_troupe_and_logs_warnings) {
    auto l = troupe::logger();
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->name(), "troupe");
    EXPECT_EQ(l->level(), spdlog::level::warn);
}

TEST(log, set_logger_replaces_the_logger) {
    auto before = troupe::logger();
    std::ostringstream out;
    auto mine = std::make_shared<spdlog::logger>("mine", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    mine->set_pattern("%v");
    troupe::set_logger(mine);
    EXPECT_EQ(troupe::logger(), mine);
    {
        troupe::system sys(small_system());
        troupe::address a = sys.spawn<bomb>(troupe_test::named("b"));
        a.tell(unknown{});
    }
    troupe::set_logger(before);
    EXPECT_EQ(troupe::logger(), before);
    EXPECT_EQ(out.str(),
              "dead letter: b#1 did not take a log_tests::unknown: it has no handler for it (see "
              "troupe::handles)\n");
}

// HK-04, LG-03: an exception in a tell's handler is one ERROR line naming the actor "name#id".
TEST(log, an_unhandled_exception_in_a_tell_is_one_error_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"));
    b.tell(explode{"boom"});
    ASSERT_NO_THROW(b.terminated().get(patience()));
    EXPECT_EQ(logs.lines_starting("error "),
              std::vector<std::string>{"error bomb#" + std::to_string(b.id()) +
                                       ": unhandled exception while handling log_tests::explode, the actor stops: "
                                       "std::runtime_error: boom"});
    EXPECT_TRUE(logs.lines_starting("warning ").empty());
}

TEST(log, the_error_line_names_an_unnamed_actor_by_its_class) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>();
    b.tell(throw_int{});
    ASSERT_NO_THROW(b.terminated().get(patience()));
    EXPECT_EQ(logs.lines_starting("error "),
              std::vector<std::string>{"error bomb#" + std::to_string(b.id()) +
                                       ": unhandled exception while handling log_tests::throw_int, the actor "
                                       "stops: an exception not derived from std::exception"});
}

// HK-06: an exception returned to an asker is not an error: one DEBUG line, nothing louder.
TEST(log, an_exception_returned_to_the_asker_is_a_debug_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"));
    EXPECT_THROW((void)b.ask(explode{"oops"}).get(patience()), std::runtime_error);
    EXPECT_EQ(b.ask(ping{}).get(patience()), "pong");
    EXPECT_EQ(logs.lines_starting("debug "),
              std::vector<std::string>{"debug bomb#" + std::to_string(b.id()) +
                                       ": handling log_tests::explode threw, the asker gets it: "
                                       "std::runtime_error: oops"});
    EXPECT_TRUE(logs.lines_starting("error ").empty());
    EXPECT_TRUE(logs.lines_starting("warning ").empty());
}

// HK-02: an exception in on_start is one ERROR line.
TEST(log, an_exception_in_on_start_is_one_error_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"), bomb::fault::on_start);
    ASSERT_NO_THROW(b.terminated().get(patience()));
    EXPECT_EQ(logs.lines_starting("error "),
              std::vector<std::string>{"error bomb#" + std::to_string(b.id()) +
                                       ": on_start threw, the actor stops: std::runtime_error: no start"});
}

// HK-03: an exception in on_stop is one ERROR line.
TEST(log, an_exception_in_on_stop_is_one_error_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"), bomb::fault::on_stop);
    ASSERT_TRUE(b.stop());
    EXPECT_EQ(logs.lines_starting("error "), std::vector<std::string>{"error bomb#" + std::to_string(b.id()) +
                                                                      ": on_stop threw: std::runtime_error: bad stop"});
}

// HK-05: an exception in on_failure is a second ERROR line, after the first.
TEST(log, an_exception_in_on_failure_is_a_second_error_line) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"), bomb::fault::on_failure);
    b.tell(explode{"boom"});
    ASSERT_NO_THROW(b.terminated().get(patience()));
    const std::string name = "bomb#" + std::to_string(b.id());
    EXPECT_EQ(logs.lines_starting("error "),
              (std::vector<std::string>{"error " + name +
                                            ": unhandled exception while handling log_tests::explode, the actor "
                                            "stops: std::runtime_error: boom",
                                        "error " + name + ": on_failure threw: std::logic_error: worse"}));
}

// Dead letters: a message of a type the actor does not handle is counted; the first is a
// WARNING line, the ones after it within a second are summed up in the next line (or at
// shutdown), so that a flood of them costs no flood of log lines.
TEST(log, dead_letters_are_counted_and_logged_at_a_bounded_rate) {
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"));
    troupe::address a = b;
    const auto started = std::chrono::steady_clock::now();
    constexpr int flood = 10'000;
    for (int i = 0; i < flood; ++i) {
        a.tell(unknown{});
    }
    EXPECT_THROW((void)a.ask<int>(unknown{}).get(patience()), troupe::unhandled_message);
    EXPECT_EQ(sys.dead_letters(), flood + 1u);
    sys.shutdown();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    auto lines = logs.lines_starting("warning ");
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), "warning dead letter: bomb#" + std::to_string(b.id()) +
                                 " did not take a log_tests::unknown: it has no handler for it (see troupe::handles)");
    EXPECT_LE(lines.size(), 2u + static_cast<std::size_t>(seconds.count())) << "a line per dead letter";
    EXPECT_EQ(lines.back().rfind("warning dead letters: ", 0), 0u) << lines.back();
}

// A full drop_newest mailbox: the dropped message is a dead-letter WARNING line.
TEST(log, a_dropped_message_is_a_dead_letter_line) {
    gate entered;
    gate release;
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::bounded(1, troupe::overflow::drop_newest));
    b.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    b.tell(ping{});
    b.tell(ping{});
    release.open();
    EXPECT_EQ(logs.lines_starting("warning "),
              std::vector<std::string>{"warning dead letter: " + b.name() +
                                       " did not take a log_tests::ping: dropped: the mailbox is full"});
    EXPECT_EQ(sys.dead_letters(), 1u);
}

// Tells still queued behind a failing message go to dead letters, in one WARNING line.
TEST(log, tells_left_behind_a_failure_are_counted_dead_letters) {
    gate entered;
    gate release;
    log_capture logs;
    troupe::system sys(small_system());
    auto b = sys.spawn<bomb>(troupe_test::named("bomb"));
    b.tell(hold{&entered, &release});
    ASSERT_TRUE(entered.wait());
    b.tell(explode{"boom"});
    b.tell(ping{});
    b.tell(ping{});
    release.open();
    ASSERT_NO_THROW(b.terminated().get(patience()));
    EXPECT_EQ(logs.lines_starting("warning "),
              std::vector<std::string>{"warning dead letters: bomb#" + std::to_string(b.id()) +
                                       " did not take 2 messages, the first a log_tests::ping: it stopped before "
                                       "handling them"});
    EXPECT_EQ(sys.dead_letters(), 2u);
}

// A normal life (spawn, messages, stop, shutdown) logs nothing at warning level or above.
TEST(log, a_normal_life_logs_no_warnings) {
    log_capture logs;
    {
        troupe::system sys(small_system());
        auto b = sys.spawn<bomb>();
        EXPECT_EQ(b.ask(ping{}).get(patience()), "pong");
        EXPECT_TRUE(b.stop());
        (void)sys.spawn<bomb>(troupe_test::dedicated());
    }
    EXPECT_TRUE(logs.lines_starting("warning ").empty());
    EXPECT_TRUE(logs.lines_starting("error ").empty());
    EXPECT_TRUE(logs.lines_starting("critical ").empty());
}

}  // namespace log_tests
