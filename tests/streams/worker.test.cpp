#include <troupe/streams/app.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

// The worker's command line (app.main): listing topics and agents, sending values (one, or a
// file of them, checked before anything goes), clear errors for bad input, and a worker in a
// child process that SIGTERM stops after it committed what it finished.

namespace worker_test {

struct add {
    int a = 0;
    int b = 0;
};
TROUPE_RECORD(add, a, b);

}  // namespace worker_test

namespace {

using namespace troupe::streams;
using worker_test::add;

/// An app with the adding agent, on a broker of its own name.
struct adding_app {
    explicit adding_app(const std::string& name) : a{"worker-test", {.broker = "memory://" + name}} {
        auto& topic = a.topic<std::string, add>("adding");
        a.agent("adding", topic, [this](stream<std::string, add>& s) -> troupe::generator<int> {
            while (std::optional<add> v = co_await s.next()) {
                sums.push_back(v->a + v->b);
                co_yield v->a + v->b;
            }
        });
        a.topic<std::string, std::string>("notes", {.partitions = 3});
    }
    app a;
    std::vector<int> sums;  // the agent's; read after main() returned (it stops the app)
};

struct outcome {
    int status;
    std::string out;
    std::string err;
};

outcome run(app& a, std::vector<std::string> args) {
    args.insert(args.begin(), "worker-test");
    std::vector<char*> argv;
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int status = a.main(static_cast<int>(argv.size()), argv.data());
    std::fflush(stdout);
    std::string out = testing::internal::GetCapturedStdout();
    std::string err = testing::internal::GetCapturedStderr();
    return {status, std::move(out), std::move(err)};
}

TEST(Worker, ListsTopicsAndAgents) {
    adding_app w("worker-lists");
    const auto topics = run(w.a, {"topics"});
    EXPECT_EQ(topics.status, 0);
    EXPECT_NE(topics.out.find("adding                                    8  raw       json"), std::string::npos)
        << topics.out;
    EXPECT_NE(topics.out.find("notes                                     3  raw       raw"), std::string::npos)
        << topics.out;
    const auto agents = run(w.a, {"agents"});
    EXPECT_EQ(agents.status, 0);
    EXPECT_NE(agents.out.find("adding                   adding                           worker-test-adding"),
              std::string::npos)
        << agents.out;
}

TEST(Worker, SendsAValueAndTheAgentFinishesIt) {
    adding_app w("worker-send");
    const auto sent = run(w.a, {"send", "adding", R"({"a":4,"b":4})", "--partition", "2"});
    EXPECT_EQ(sent.status, 0) << sent.err;
    EXPECT_NE(sent.out.find("adding/2 at offset 0"), std::string::npos) << sent.out;
    EXPECT_NE(sent.out.find("agent 'adding' finished 1, committed adding/2 at 1"), std::string::npos) << sent.out;
    EXPECT_EQ(w.sums, std::vector<int>{8});
    // By the agent's name too.
    EXPECT_EQ(run(w.a, {"send", "adding", R"({"a":1,"b":1})"}).status, 0);
    EXPECT_EQ(w.sums, (std::vector<int>{8, 2}));
}

TEST(Worker, SendsAFileOfValuesAfterCheckingThemAll) {
    adding_app w("worker-file");
    const std::string path = testing::TempDir() + "worker-test-values.jsonl";
    {
        std::ofstream f(path);
        for (int i = 0; i < 100; ++i) {
            f << R"({"a":)" << i << R"(,"b":1})" << '\n';
        }
        f << '\n';  // blank lines are skipped
    }
    const auto sent = run(w.a, {"send", "adding", "--file", path});
    EXPECT_EQ(sent.status, 0) << sent.err;
    EXPECT_NE(sent.out.find("sent 100 values to adding"), std::string::npos) << sent.out;
    EXPECT_EQ(w.sums.size(), 100U);

    {
        std::ofstream f(path);
        f << R"({"a":1,"b":1})" << '\n' << R"({"a":1,"b":"two"})" << '\n';
    }
    const auto bad = run(w.a, {"send", "adding", "--file", path});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("line 2 of " + path + ": $.b: expected an integer, got a string; nothing was sent"),
              std::string::npos)
        << bad.err;
    EXPECT_EQ(w.sums.size(), 100U);  // not even the good first line went
    EXPECT_EQ(w.a.broker().end_offset({"adding", 0}) + w.a.broker().end_offset({"adding", 1}) +
                  w.a.broker().end_offset({"adding", 2}) + w.a.broker().end_offset({"adding", 3}) +
                  w.a.broker().end_offset({"adding", 4}) + w.a.broker().end_offset({"adding", 5}) +
                  w.a.broker().end_offset({"adding", 6}) + w.a.broker().end_offset({"adding", 7}),
              100U);
}

TEST(Worker, BadInputGetsClearErrors) {
    adding_app w("worker-errors");
    const auto unknown = run(w.a, {"send", "nothing", "1"});
    EXPECT_EQ(unknown.status, 2);
    EXPECT_NE(unknown.err.find("send: no topic or agent is named 'nothing' (topics: adding, notes; agents: adding)"),
              std::string::npos)
        << unknown.err;
    const auto bad_json = run(w.a, {"send", "adding", "{\"a\":1"});
    EXPECT_EQ(bad_json.status, 2);
    EXPECT_NE(bad_json.err.find("send: the value for 'adding': "), std::string::npos) << bad_json.err;
    const auto no_command = run(w.a, {});
    EXPECT_EQ(no_command.status, 2);
    const auto bad_level = run(w.a, {"-l", "chatty", "topics"});
    EXPECT_EQ(bad_level.status, 2);
    const auto missing_file = run(w.a, {"send", "adding", "--file", "/nonexistent/values.jsonl"});
    EXPECT_EQ(missing_file.status, 2);
    EXPECT_NE(missing_file.err.find("send: cannot read '/nonexistent/values.jsonl'"), std::string::npos)
        << missing_file.err;
    EXPECT_TRUE(w.sums.empty());
}

/// Reads `fd` until `text` has been read (or the end); gives everything read.
std::string read_until(int fd, const std::string& text, std::string got = {}) {
    char buffer[4096];
    while (got.find(text) == std::string::npos) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
}

TEST(Worker, SigtermStopsAWorkerThatCommitsWhatItFinished) {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::dup2(out[1], 1);
        ::close(out[0]);
        ::close(out[1]);
        int status = 3;
        {
            app a{"worker-test", {.broker = "memory://worker-sigterm", .topic_partitions = 1}};
            auto& topic = a.topic<std::string, add>("adding");
            a.agent("adding", topic, [](stream<std::string, add>& s) -> troupe::task<void> {
                int n = 0;
                while (co_await s.next()) {
                    if (++n == 3) {
                        std::printf("three finished\n");
                        std::fflush(stdout);
                    }
                }
            });
            for (int i = 0; i < 3; ++i) {
                topic.send(add{i, i}).get();
            }
            char name[] = "worker-test";
            char command[] = "worker";
            char* argv[] = {name, command, nullptr};
            status = a.main(2, argv);
        }
        std::fflush(stdout);
        ::_exit(status);
    }
    ::close(out[1]);
    std::string got = read_until(out[0], "three finished\n");
    got = read_until(out[0], "SIGINT or SIGTERM stops it\n", got);
    ASSERT_NE(got.find("worker: app 'worker-test' runs 1 agent on memory://worker-sigterm"), std::string::npos) << got;
    ::kill(child, SIGTERM);
    got = read_until(out[0], "\x04", got);  // to the end
    ::close(out[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(got.find("worker: SIGTERM: stopped"), std::string::npos) << got;
    // The third value was moved past when the agent asked for a fourth: all three committed.
    EXPECT_NE(got.find("worker: agent 'adding' committed adding/0 at 3"), std::string::npos) << got;
}

}  // namespace
