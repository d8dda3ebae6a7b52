#pragma once
/// \file
/// The test kit of stream apps (Faust's agent.test_context(), which was broken for years): an
/// agent's function driven in a unit test, with no broker to set up. The context runs the
/// function, with the agent's concurrency and bad-value policy, on a broker embedded in the
/// context alone (make_embedded_broker(): no URL reaches it, nothing else reads it), so values
/// go through the same codecs, acknowledgements and restarts as in the app.
///
///     troupe::streams::test_context<std::string, add, int> tc(adding);   // an agent of an app
///     EXPECT_EQ(tc.put(add{2, 3}), 5);        // what the agent yielded for the value
///     EXPECT_EQ(tc.results(), std::vector<int>{5});   // everything it yielded: what its sinks got
///
/// The agent's own app need not be started (and its broker is not touched); its sinks are not
/// run: results() is what would have gone to them, in order.

#include <troupe/core/errors.hpp>
#include <troupe/streams/app.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe::streams {

template <topic_value K, topic_value V, class R>
class test_context {
    using yielded = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

public:
    /// A context that runs `a`'s function (started now; stopped by the destructor).
    explicit test_context(const agent<K, V, R>& a)
        : app_("test-" + a.group(), app_options{.topic_partitions = a.source().partitions(),
                                                .commit_interval = std::chrono::hours(1),
                                                .broker_instance = make_embedded_broker()}) {
        const auto& origin = a.source();
        topic_ = &app_.template topic<K, V>(origin.name(), {.partitions = origin.partitions(),
                                                            .key_serializer = origin.key_serializer(),
                                                            .value_serializer = origin.value_serializer()});
        const auto& c = a.core();
        agent_options o{.concurrency = c.concurrency(),
                        .on_bad_value = c.bad_values().action,
                        .dead_letter_topic = c.bad_values().dead_letter_topic};
        agent_ = &app_.agent(a.name(), *topic_, a.body(), o);
        if constexpr (!std::is_void_v<R>) {
            agent_->sink([this](const R& r) {
                const std::lock_guard guard(lock_);
                results_.push_back(r);
            });
        }
        app_.start();
    }
    ~test_context() { app_.stop(); }
    test_context(const test_context&) = delete;
    test_context& operator=(const test_context&) = delete;

    /// Sends `value` to the function (encoded and decoded as its topic does) and gives what it
    /// yielded for it; troupe::timeout if it yields nothing within `timeout`. For an agent
    /// that yields nothing: returns once the function has finished the value.
    auto put(const V& value, std::chrono::milliseconds timeout = std::chrono::seconds(10), send_options<K> o = {}) {
        ++sent_;
        if constexpr (std::is_void_v<R>) {
            topic_->send(value, std::move(o)).get();
            if (!agent_->when_finished(sent_).wait_for(timeout)) {
                throw troupe::timeout("test_context: agent '" + agent_->name() + "' did not finish the value within " +
                                      std::to_string(timeout.count()) + " ms");
            }
        } else {
            return agent_->ask(value, timeout, std::move(o)).get();
        }
    }
    /// Sends `value` without waiting for the function.
    void put_nowait(const V& value, send_options<K> o = {}) {
        ++sent_;
        topic_->send(value, std::move(o)).get();
    }
    /// Waits until the function has finished every value sent (put_nowait's too), bad ones
    /// included; troupe::timeout after `timeout`.
    void drain(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        if (!agent_->when_finished(sent_).wait_for(timeout)) {
            throw troupe::timeout("test_context: agent '" + agent_->name() + "' did not finish " +
                                  std::to_string(sent_) + " values within " + std::to_string(timeout.count()) + " ms");
        }
    }

    /// Everything the function yielded, in order: what the agent's sinks would have got.
    std::vector<yielded> results() const {
        const std::lock_guard guard(lock_);
        return results_;
    }
    /// Values the function has finished.
    std::uint64_t finished() const noexcept { return agent_->finished(); }
    /// The context's own app (its broker holds what was sent, and the commits).
    streams::app& app() noexcept { return app_; }

private:
    streams::app app_;
    const topic<K, V>* topic_ = nullptr;
    agent<K, V, R>* agent_ = nullptr;
    std::uint64_t sent_ = 0;
    mutable std::mutex lock_;
    std::vector<yielded> results_;
};

template <topic_value K, topic_value V, class R>
test_context(const agent<K, V, R>&) -> test_context<K, V, R>;

}  // namespace troupe::streams
