#include <troupe/async/input.hpp>

#include <troupe/async/await.hpp>
#include <troupe/core/inbox.hpp>
#include <troupe/core/system.hpp>

#include <spdlog/sinks/base_sink.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/test_support.hpp"

namespace {

using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

/// Opens a gate when troupe logs a line containing `text` (from whatever thread logs it).
class log_gate : public spdlog::sinks::base_sink<std::mutex> {
public:
    log_gate(std::string text, gate& g) : text_(std::move(text)), gate_(g) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        if (std::string_view(msg.payload.data(), msg.payload.size()).find(text_) != std::string_view::npos) {
            gate_.open();
        }
    }
    void flush_() override {}

private:
    std::string text_;
    gate& gate_;
};

/// Installs a log_gate as troupe's logger for its lifetime.
class logged_line {
public:
    logged_line(std::string text, gate& g) : previous_(troupe::logger()) {
        troupe::set_logger(std::make_shared<spdlog::logger>("troupe", std::make_shared<log_gate>(std::move(text), g)));
    }
    ~logged_line() { troupe::set_logger(previous_); }
    logged_line(const logged_line&) = delete;
    logged_line& operator=(const logged_line&) = delete;

private:
    std::shared_ptr<spdlog::logger> previous_;
};

/// A pipe whose ends close with it; the read end does not block.
class pipe_pair {
public:
    pipe_pair() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        read_end = fds[0];
        write_end = fds[1];
        ::fcntl(read_end, F_SETFL, ::fcntl(read_end, F_GETFL) | O_NONBLOCK);
    }
    ~pipe_pair() {
        close_read();
        close_write();
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;

    void write(const std::string& s) const { ASSERT_EQ(::write(write_end, s.data(), s.size()), ssize_t(s.size())); }
    void close_read() {
        if (read_end >= 0) {
            ::close(std::exchange(read_end, -1));
        }
    }
    void close_write() {
        if (write_end >= 0) {
            ::close(std::exchange(write_end, -1));
        }
    }
    /// True if the pipe has no open read end left anywhere (a write fails with EPIPE).
    bool readers_gone() const {
        std::signal(SIGPIPE, SIG_IGN);
        const char c = 'x';
        return ::write(write_end, &c, 1) < 0 && errno == EPIPE;
    }

    int read_end = -1;
    int write_end = -1;
};

/// Reads what is available now (at most `limit` bytes); "" when nothing is.
std::string read_some(int fd, std::size_t limit = 4096) {
    std::string out;
    char buf[256];
    while (out.size() < limit) {
        const ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out.size()));
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// ---- blocking calls ---------------------------------------------------------------------------

struct compute {
    int v;
    bool fail = false;
};
/// What the blocking call's handler saw.
struct computed {
    bool ok;
    int value;
    std::string error;
};

class calculator : public troupe::actor {
public:
    explicit calculator(troupe::address out) : out_(std::move(out)) {}

    void handle(compute c) {
        troupe::run_blocking(
            troupe::ref{this},
            [c] {  // on the blocking pool
                if (c.fail) {
                    throw std::runtime_error("disk on fire");
                }
                return c.v * 2;
            },
            &calculator::on_done);
    }
    // A message of the actor, like any other: never runs alongside another handler.
    void on_done(troupe::result<int> r) {
        try {
            out_.tell(computed{true, r.get(), ""});
        } catch (const std::runtime_error& e) {
            out_.tell(computed{false, 0, e.what()});
        }
    }

private:
    troupe::address out_;
};

TEST(input, a_blocking_calls_value_reaches_the_handler) {
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto c = sys.spawn<calculator>(in.address());
    c.tell(compute{21});
    auto got = in.receive<computed>(patience());
    EXPECT_TRUE(got.ok);
    EXPECT_EQ(got.value, 42);
}

TEST(input, a_blocking_calls_exception_reaches_the_handler_as_the_error) {
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto c = sys.spawn<calculator>(in.address());
    c.tell(compute{1, true});
    auto got = in.receive<computed>(patience());
    EXPECT_FALSE(got.ok);
    EXPECT_EQ(got.error, "disk on fire");
    EXPECT_TRUE(c.alive());  // the handler dealt with it: the actor goes on
}

struct where {};
/// Compares the thread a blocking call runs on with the actor's.
class placed : public troupe::actor {
public:
    troupe::task<bool> handle(where) {
        const std::thread::id mine = std::this_thread::get_id();
        troupe::future<std::thread::id> pool = troupe::run_blocking([] { return std::this_thread::get_id(); });
        const std::thread::id theirs = co_await std::move(pool);
        co_return theirs != mine;
    }
};

TEST(input, a_blocking_call_runs_on_a_thread_of_its_own_pool) {
    troupe::system sys(small_system(1));  // one worker: it is the actor's thread before the await
    auto p = sys.spawn<placed>();
    EXPECT_TRUE(p.ask(where{}).get(patience()));
    EXPECT_NE(troupe::run_blocking(sys, [] { return std::this_thread::get_id(); }).get(patience()),
              std::this_thread::get_id());
}

TEST(input, a_result_holds_a_value_or_an_error) {
    troupe::result<std::string> fine(std::in_place, "yes");
    EXPECT_TRUE(fine.ok());
    EXPECT_EQ(fine.get(), "yes");
    EXPECT_EQ(fine.error(), nullptr);
    auto bad = troupe::result<std::string>::failure(std::make_exception_ptr(troupe::timeout("late")));
    EXPECT_FALSE(bad);
    EXPECT_THROW(bad.get(), troupe::timeout);
    troupe::result<void> done(std::in_place);
    EXPECT_TRUE(done.ok());
    EXPECT_NO_THROW(done.get());
}

struct add_up {
    int a;
    int b;
};
class coroutine_user : public troupe::actor {
public:
    troupe::task<int> handle(add_up m) {
        int sum = co_await troupe::run_blocking([m] { return m.a + m.b; });
        co_return sum;
    }
};

TEST(input, run_blocking_without_an_actor_gives_a_future_a_coroutine_can_await) {
    troupe::system sys(small_system());
    auto u = sys.spawn<coroutine_user>();
    EXPECT_EQ(u.ask(add_up{2, 3}).get(patience()), 5);
    EXPECT_EQ(troupe::run_blocking(sys, [] { return std::string("direct"); }).get(patience()), "direct");
    EXPECT_THROW(troupe::run_blocking(sys, []() -> int { throw std::logic_error("no"); }).get(patience()),
                 std::logic_error);
}

TEST(input, run_blocking_without_a_system_outside_an_actor_is_refused) {
    EXPECT_THROW(troupe::run_blocking([] { return 1; }), troupe::error);
}

TEST(input, a_blocking_function_may_start_another_on_its_own_pool) {
    troupe::system sys(small_system());
    auto outer = troupe::run_blocking(sys, [] {
        troupe::future<int> inner = troupe::run_blocking([] { return 20; });  // no system named
        return inner.get(patience()) + 1;
    });
    EXPECT_EQ(outer.get(patience()), 21);
}

/// Opens a gate when the services shut down: made after the blocking pool, it goes first.
struct releaser final : troupe::service {
    gate* release = nullptr;
    void shutdown() override { release->open(); }
};

TEST(input, the_blocking_pool_is_the_systems_it_waits_for_running_calls_then_refuses_new_ones) {
    gate started;
    gate release;
    std::atomic<bool> finished{false};
    troupe::system sys(small_system());
    auto f = troupe::run_blocking(sys, [&] {
        started.open();
        release.wait();
        finished = true;
        return 5;
    });
    ASSERT_TRUE(started.wait());
    sys.service<releaser>().release = &release;
    sys.shutdown();  // opens `release`, then shuts the pool down: that waits for the call
    EXPECT_TRUE(finished);
    EXPECT_EQ(f.get(patience()), 5);
    EXPECT_THROW(troupe::run_blocking(sys, [] { return 1; }), troupe::error);
}

/// Signals a gate when destroyed: shows when a dropped result is gone.
struct tracer {
    explicit tracer(gate* g) : g_(g) {}
    tracer(tracer&& o) noexcept : g_(std::exchange(o.g_, nullptr)) {}
    tracer& operator=(tracer&&) = delete;
    ~tracer() {
        if (g_ != nullptr) {
            g_->open();
        }
    }
    gate* g_;
};

struct start_slow {
    gate* started;
    gate* release;
    gate* result_gone;
};
struct cancel_it {};
struct handler_calls {};

class patient : public troupe::actor {
public:
    void handle(start_slow s) {
        task_ = troupe::run_blocking(
            troupe::ref{this},
            [s] {
                s.started->open();
                s.release->wait();
                return std::make_shared<tracer>(s.result_gone);
            },
            [](patient& self, troupe::result<std::shared_ptr<tracer>>) { ++self.calls_; });
    }
    bool handle(cancel_it) {
        task_.cancel();
        return task_.active();
    }
    int handle(handler_calls) const { return calls_; }

private:
    troupe::input_task task_;
    int calls_ = 0;
};

TEST(input, a_cancelled_blocking_call_does_not_call_its_handler) {
    troupe::system sys(small_system());
    gate started;
    gate release;
    gate result_gone;
    auto p = sys.spawn<patient>();
    p.tell(start_slow{&started, &release, &result_gone});
    ASSERT_TRUE(started.wait());  // cancelled before it started, the function would not run at all
    EXPECT_FALSE(p.ask(cancel_it{}).get(patience()));
    release.open();
    ASSERT_TRUE(result_gone.wait());  // the result reached the actor (or the pool) and was dropped
    EXPECT_EQ(p.ask(handler_calls{}).get(patience()), 0);
}

TEST(input, a_result_arriving_after_the_actor_stopped_is_dropped_quietly) {
    troupe::system sys(small_system());
    gate started;
    gate release;
    gate result_gone;
    auto p = sys.spawn<patient>();
    p.tell(start_slow{&started, &release, &result_gone});
    ASSERT_TRUE(started.wait());
    p.stop();
    release.open();
    ASSERT_TRUE(result_gone.wait());
    EXPECT_EQ(sys.dead_letters(), 0u);
}

// ---- no overlap ---------------------------------------------------------------------------------

struct poke {};
struct begin_calls {
    int count;
};
struct stats {
    int pokes;
    int results;
    int readable;
    int max_inside;
};
struct ask_stats {};
struct all_results {};
struct all_read {};

/// Every handler counts how many handlers run at once; that must never exceed one.
class busy_body : public troupe::actor {
public:
    busy_body(troupe::address out, int fd) : out_(std::move(out)), fd_(fd) {}

    void handle(poke) {
        enter();
        ++pokes_;
        leave();
    }
    void handle(begin_calls b) {
        expected_ = b.count;
        bytes_expected_ = b.count;
        for (int i = 0; i < b.count; ++i) {
            troupe::run_blocking(
                troupe::ref{this}, [i] { return i; }, &busy_body::on_result);
        }
    }
    stats handle(ask_stats) const { return {pokes_, results_, readable_, max_inside_}; }

    void on_result(troupe::result<int>) {
        enter();
        if (++results_ == expected_) {
            out_.tell(all_results{});
        }
        leave();
    }
    void on_readable() {
        enter();
        ++readable_;
        bytes_ += static_cast<int>(read_some(fd_).size());
        if (bytes_expected_ != 0 && bytes_ == bytes_expected_) {
            out_.tell(all_read{});
        }
        leave();
    }

protected:
    void on_start() override { troupe::watch_readable(troupe::ref{this}, fd_, &busy_body::on_readable); }

private:
    void enter() {
        const int now = inside_.fetch_add(1, std::memory_order_acq_rel) + 1;
        max_inside_ = std::max(max_inside_, now);
        std::this_thread::yield();  // widen the window an overlap would need
    }
    void leave() { inside_.fetch_sub(1, std::memory_order_acq_rel); }

    troupe::address out_;
    int fd_;
    std::atomic<int> inside_{0};
    int max_inside_ = 0;
    int pokes_ = 0;
    int results_ = 0;
    int readable_ = 0;
    int expected_ = 0;
    int bytes_ = 0;
    int bytes_expected_ = 0;
};

TEST(input, input_handlers_never_run_alongside_other_handlers) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto b = sys.spawn<busy_body>(in.address(), pipe.read_end);
    constexpr int n = 200;
    b.tell(begin_calls{n});  // before the first byte is written: the count is known when it is read
    std::thread writer([&] {
        for (int i = 0; i < n; ++i) {
            pipe.write("x");
        }
    });
    for (int i = 0; i < n; ++i) {
        b.tell(poke{});
    }
    writer.join();
    in.receive<all_results>(patience());
    in.receive<all_read>(patience());
    stats s = b.ask(ask_stats{}).get(patience());
    EXPECT_EQ(s.max_inside, 1);
    EXPECT_EQ(s.pokes, n);
    EXPECT_EQ(s.results, n);
    EXPECT_GE(s.readable, 1);
}

// ---- file descriptors ---------------------------------------------------------------------------

/// What a readiness handler read.
struct chunk {
    std::string bytes;
};
struct hold {
    gate* until;
};
struct watch_handle {};

/// Watches a pipe; each notification reads everything (or one byte) and reports it.
class reader : public troupe::actor {
public:
    reader(troupe::address out, int fd, std::size_t per_call) : out_(std::move(out)), fd_(fd), per_call_(per_call) {}

    void handle(hold h) { h.until->wait(); }
    troupe::input_task handle(watch_handle) const { return watch_; }

    void on_readable() {
        std::string got = read_some(fd_, per_call_);
        if (got.empty()) {
            watch_.cancel();  // end of file (or a spurious wake-up, which the test would see)
        }
        out_.tell(chunk{got});
    }

protected:
    void on_start() override { watch_ = troupe::watch_readable(troupe::ref{this}, fd_, &reader::on_readable); }

private:
    troupe::address out_;
    int fd_;
    std::size_t per_call_;
    troupe::input_task watch_;
};

TEST(input, one_notification_per_batch_written_while_the_handler_could_not_run) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto r = sys.spawn<reader>(in.address(), pipe.read_end, std::size_t(4096));
    for (const char* batch : {"abc", "defgh"}) {
        gate busy;
        r.tell(hold{&busy});  // the actor is busy: the notification (one, one-shot) waits behind
        std::string text(batch);
        for (char c : text) {
            pipe.write(std::string(1, c));
        }
        busy.open();
        EXPECT_EQ(in.receive<chunk>(patience()).bytes, text);
    }
    r.stop();
    EXPECT_EQ(in.size(), 0u);  // no notification without data in between or after
}

TEST(input, the_watch_is_level_triggered_a_handler_reading_less_is_called_again) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    gate busy;
    auto r = sys.spawn<reader>(in.address(), pipe.read_end, std::size_t(1));
    r.tell(hold{&busy});
    pipe.write("xyz");
    busy.open();
    for (const char* expected : {"x", "y", "z"}) {
        EXPECT_EQ(in.receive<chunk>(patience()).bytes, expected);
    }
    pipe.close_write();  // end of file: the handler reads nothing and cancels the watch
    EXPECT_EQ(in.receive<chunk>(patience()).bytes, "");
    auto watch = r.ask(watch_handle{}).get(patience());
    EXPECT_FALSE(watch.active());
}

TEST(input, cancel_ends_the_watch_and_closes_its_duplicate_before_it_returns) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto r = sys.spawn<reader>(in.address(), pipe.read_end, std::size_t(4096));
    auto watch = r.ask(watch_handle{}).get(patience());
    EXPECT_TRUE(watch.active());
    watch.cancel();
    EXPECT_FALSE(watch.active());
    pipe.close_read();
    EXPECT_TRUE(pipe.readers_gone());  // the watch's duplicate of the read end is closed too
    EXPECT_EQ(in.size(), 0u);          // the write readers_gone() tried was refused: nothing read
}

TEST(input, the_watch_ends_with_its_actor) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::input_task watch;
    {
        troupe::system sys(small_system());
        troupe::inbox in(sys);
        auto r = sys.spawn<reader>(in.address(), pipe.read_end, std::size_t(4096));
        watch = r.ask(watch_handle{}).get(patience());
        EXPECT_TRUE(watch.active());
        r.stop();
        pipe.write("late");  // the actor is gone: nothing reads it
        sys.shutdown();      // the watch has ended by now at the latest (usually just after the stop)
        EXPECT_EQ(in.size(), 0u);
    }
    EXPECT_FALSE(watch.active());
    pipe.close_read();
    EXPECT_TRUE(pipe.readers_gone());  // the watch's duplicate of the read end is closed too
}

TEST(input, watching_a_descriptor_that_is_not_open_throws) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto r = sys.spawn<reader>(in.address(), pipe.read_end, std::size_t(1));
    EXPECT_THROW(troupe::watch_readable(r, -1, &reader::on_readable), troupe::error);
}

/// A coroutine handler: awaits a blocking call per byte; the watch re-arms once it completes.
class slow_reader : public troupe::actor {
public:
    slow_reader(troupe::address out, int fd) : out_(std::move(out)), fd_(fd) {}

    troupe::task<void> on_readable() {
        std::string got = read_some(fd_, 1);
        troupe::future<std::string> shouted = troupe::run_blocking([got] {
            std::string u = got;
            for (char& c : u) {
                c = static_cast<char>(c - 'a' + 'A');
            }
            return u;
        });
        std::string upper = co_await std::move(shouted);
        out_.tell(chunk{upper});
    }

protected:
    void on_start() override { troupe::watch_readable(troupe::ref{this}, fd_, &slow_reader::on_readable); }

private:
    troupe::address out_;
    int fd_;
};

TEST(input, a_coroutine_handler_is_called_again_only_after_it_completed) {
    pipe_pair pipe;  // outlives the system: the actors read it until they end
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto r = sys.spawn<slow_reader>(in.address(), pipe.read_end);
    pipe.write("abc");
    for (const char* expected : {"A", "B", "C"}) {
        EXPECT_EQ(in.receive<chunk>(patience()).bytes, expected);
    }
}

// ---- runtime threads ----------------------------------------------------------------------------

struct hold_until {
    gate* entered;
    gate* release;
};
struct filler {};

/// Watches a pipe and reports what it reads, tagged with its name; can be held in a handler.
class tagged_reader : public troupe::actor {
public:
    tagged_reader(std::string tag, troupe::address out, int fd) : tag_(std::move(tag)), out_(std::move(out)), fd_(fd) {}

    void handle(hold_until h) {
        h.entered->open();
        h.release->wait();
    }
    void handle(filler) {}
    void on_readable() { out_.tell(chunk{tag_ + ":" + read_some(fd_)}); }

protected:
    void on_start() override { troupe::watch_readable(troupe::ref{this}, fd_, &tagged_reader::on_readable); }

private:
    std::string tag_;
    troupe::address out_;
    int fd_;
};

// Defect 13: a notification into a full `block` mailbox made the I/O thread wait for room, and
// every other watch of the system with it. Now it waits on a timer instead, and is not lost.
TEST(input, a_watch_into_a_full_block_mailbox_does_not_hold_up_the_other_watches) {
    pipe_pair stuck_pipe;  // the pipes and gates outlive the system, and so the actors
    pipe_pair free_pipe;
    gate entered;
    gate release;
    gate refused;
    logged_line refusal("a readiness notification waits for room", refused);
    troupe::system sys(small_system());
    troupe::inbox in(sys);
    auto stuck = sys.spawn<tagged_reader>(troupe_test::bounded(1, troupe::overflow::block), "stuck", in.address(),
                                          stuck_pipe.read_end);
    sys.spawn<tagged_reader>("free", in.address(), free_pipe.read_end);
    stuck.tell(hold_until{&entered, &release});
    ASSERT_TRUE(entered.wait());
    stuck.tell(filler{});  // the mailbox is full now
    stuck_pipe.write("a");
    ASSERT_TRUE(refused.wait());  // the I/O thread found no room, and went on
    free_pipe.write("b");
    EXPECT_EQ(in.receive<chunk>(patience()).bytes, "free:b");
    release.open();
    EXPECT_EQ(in.receive<chunk>(patience()).bytes, "stuck:a");  // tried again once there was room
}

}  // namespace
