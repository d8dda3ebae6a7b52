#pragma once
/// \file
/// app: a stream application (Faust's App): its broker, its topics and its agents.
///
///     struct add { int a = 0; int b = 0; };
///     TROUPE_RECORD(add, a, b);
///
///     troupe::streams::app app{"actor-example", {.broker = "memory://"}};
///     auto& topic = app.topic<std::string, add>("adding");
///     auto& adding = app.agent("adding", topic, [](troupe::streams::stream<std::string, add>& s)
///                                                   -> troupe::generator<int> {
///         while (std::optional<add> v = co_await s.next()) {
///             co_yield v->a + v->b;
///         }
///     });
///     app.start();
///     int eight = adding.ask(add{4, 4}, std::chrono::seconds(5)).get();
///
/// The app's id names its agents' consumer groups ("<app id>-<agent name>": every agent sees
/// every record of its topic, and several instances of one app share the partitions agent by
/// agent) and prefixes its internal topics. Topics and
/// agents are declared before start(); stop() (or the destructor) cancels the agents, waits for
/// them and commits what they finished.

#include <troupe/async/await.hpp>
#include <troupe/async/generator.hpp>
#include <troupe/async/task.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/log.hpp>
#include <troupe/streams/agent.hpp>
#include <troupe/streams/broker.hpp>
#include <troupe/streams/detail/app_core.hpp>
#include <troupe/streams/stream.hpp>
#include <troupe/streams/topic.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe::streams {

namespace app_detail {
template <class F, class K, class V>
using agent_result = std::invoke_result_t<F&, stream<K, V>&>;

template <class T>
struct yields {
    static constexpr bool valid = false;
};
template <class R>
struct yields<generator<R>> {
    static constexpr bool valid = true;
    using type = R;
};
template <>
struct yields<task<void>> {
    static constexpr bool valid = true;
    using type = void;
};
/// A value typed on a command line: the text itself for a raw type, else JSON.
template <class T>
T from_text(std::string_view text) {
    if constexpr (codec_detail::is_raw<T>) {
        return T(reinterpret_cast<const typename T::value_type*>(text.data()),
                 reinterpret_cast<const typename T::value_type*>(text.data() + text.size()));
    } else if constexpr (json_serialisable<T>) {
        return from_json<T>(text);
    } else {
        throw error("streams: a value of this type cannot be typed as text (it is not JSON-serialisable)");
    }
}
}  // namespace app_detail

class app {
public:
    /// An app named `id` (at least one character), on the broker of `options.broker`.
    explicit app(std::string id, app_options options = {})
        : core_(std::make_unique<detail::app_core>(std::move(id), std::move(options))) {}
    ~app() { stop(); }
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// Its id.
    const std::string& id() const noexcept { return core_->id(); }
    /// Its broker.
    streams::broker& broker() noexcept { return core_->brokerage(); }
    /// The actor system its agents run in.
    troupe::system& system() noexcept { return core_->sys(); }
    /// How many asks of its agents wait for their replies (for tests and tools).
    std::size_t pending_asks() const { return core_->pending_asks(); }

    /// The topic `name` with keys K and values V, made in the broker if it is not there
    /// (with `o.partitions`, or the app's topic_partitions). troupe::error if the serializers
    /// chosen cannot carry K or V, or if the topic exists with another partition count.
    template <topic_value K, topic_value V>
    topic<K, V>& topic(std::string name, topic_options o = {}) {
        check_not_started("a topic");
        auto t = std::make_unique<streams::topic<K, V>>(core_->brokerage_ptr(), std::move(name), o,
                                                        core_->options().topic_partitions);
        auto& ref = *t;
        topics_.push_back(std::shared_ptr<void>(std::move(t)));
        entries_.push_back({ref.name(), ref.partitions(), std::string(name_of(resolved<K>(o.key_serializer))),
                            std::string(name_of(resolved<V>(o.value_serializer))),
                            [&ref](std::string_view value, const std::optional<std::string>& key,
                                   std::optional<std::uint32_t> partition) {
                                send_options<K> so;
                                so.partition = partition;
                                if (key) {
                                    so.key = app_detail::from_text<K>(*key);
                                }
                                return ref.send(app_detail::from_text<V>(value), std::move(so));
                            },
                            [](std::string_view value, const std::optional<std::string>& key) {
                                if (key) {
                                    (void)app_detail::from_text<K>(*key);
                                }
                                (void)app_detail::from_text<V>(value);
                            }});
        return ref;
    }

    /// Several topics of the same types under one description (Faust's `app.topic('a', 'b')`):
    /// each name is a topic made as topic() makes it, with the same options, and what this gives
    /// reads them all as one stream, `app.agent("name", app.topics<K, V>({"a", "b"}), fn)`, as
    /// `a & b` does. Values are sent to one of the topics, by name (Faust too refuses to send
    /// to a topic of several names). troupe::error for no names or a name given twice.
    template <topic_value K, topic_value V>
    combined<K, V> topics(const std::vector<std::string>& names, topic_options o = {}) {
        if (names.empty()) {
            throw error("streams: app '" + id() + "': topics() needs at least one name");
        }
        for (auto it = names.begin(); it != names.end(); ++it) {
            if (std::find(names.begin(), it, *it) != it) {
                throw error("streams: app '" + id() + "': topics() was given '" + *it + "' twice");
            }
        }
        combined<K, V> all;
        for (const auto& name : names) {
            all.topics.push_back(&topic<K, V>(name, o));
        }
        return all;
    }

    /// A channel with keys K and values V (Faust's app.channel()): a topic of this app's process
    /// only, whose values travel as objects, never encoded, whatever the app's broker. Agents
    /// and streams read it as they read a topic, each getting every value; `channel.send(v)`
    /// from anywhere. Named "<app id>-channel-<n>" unless `name` says (names are the app's
    /// own: another app's channel of the same name is another channel). One partition unless
    /// `o.partitions` says.
    template <topic_value K, topic_value V>
    streams::channel<K, V>& channel(std::string name = {}, topic_options o = {}) {
        check_not_started("a channel");
        if (name.empty()) {
            name = id() + "-channel-" + std::to_string(++channels_);
        }
        if (o.partitions == 0) {
            o.partitions = 1;
        }
        auto c = std::make_unique<streams::channel<K, V>>(core_->in_process_ptr(), std::move(name), o);
        auto& ref = *c;
        topics_.push_back(std::shared_ptr<void>(std::move(c)));
        return ref;
    }

    /// The agent `name` over `source`: `fn(stream<K, V>&)` returns troupe::generator<R> (the
    /// agent yields Rs) or troupe::task<void>. Started by start().
    template <topic_value K, topic_value V, class F>
    auto& agent(std::string name, const streams::topic<K, V>& source, F fn, agent_options o = {}) {
        return agent_of(std::move(name), std::vector<const streams::topic<K, V>*>{&source}, std::move(fn), o);
    }
    /// The agent `name` over several topics of the same types, `t1 & t2` (Faust's combined
    /// streams): its stream gives the values of all of them, each partition's in order.
    template <topic_value K, topic_value V, class F>
    auto& agent(std::string name, combined<K, V> sources, F fn, agent_options o = {}) {
        return agent_of(std::move(name), std::move(sources.topics), std::move(fn), o);
    }
    /// The agent `name` over a topic of its own, named "<app id>-<name>" (Faust's agent
    /// without a topic), with keys K and values V.
    template <topic_value K, topic_value V, class F>
    auto& agent(std::string name, F fn, agent_options o = {}) {
        auto& own = topic<K, V>(id() + "-" + name);
        return agent(std::move(name), own, std::move(fn), o);
    }

    /// A stream of `sources` for the app's tasks (Faust's topic.stream()), read in the consumer
    /// group "<app id>-stream-<n>" from start() to stop(). Iterate it only from tasks of this
    /// app (app.task), one at a time: they run on the actor that reads it.
    template <topic_value K, topic_value V>
    streams::stream<K, V>& stream(const streams::topic<K, V>& source) {
        return stream_of(std::vector<const streams::topic<K, V>*>{&source});
    }
    /// A stream of several topics of the same types, `t1 & t2`.
    template <topic_value K, topic_value V>
    streams::stream<K, V>& stream(combined<K, V> sources) {
        return stream_of(std::move(sources.topics));
    }

    /// Runs `fn` (a troupe::task<void>()) from start() until it ends or stop() cancels it, in
    /// the actor of the app's tasks and streams (Faust's app.task).
    template <class F>
    void task(F fn) {
        check_not_started("a task");
        static_assert(std::is_same_v<std::invoke_result_t<F&>, troupe::task<void>>,
                      "app.task: the function must return troupe::task<void>");
        core_->add_task(std::function<troupe::task<void>()>(std::move(fn)));
    }
    /// Runs `fn` (returning void or troupe::task<void>) every `interval`, the first time one
    /// interval after start(), until stop() (Faust's app.timer). An exception from it is
    /// logged, and the timer goes on.
    template <class F>
    void timer(std::chrono::milliseconds interval, F fn) {
        check_not_started("a timer");
        if (interval.count() <= 0) {
            throw error("streams: app '" + id() + "': a timer needs an interval above 0");
        }
        core_->add_task([interval, fn = std::move(fn), app_id = id()]() mutable -> troupe::task<void> {
            for (;;) {
                co_await troupe::sleep_for(interval);
                try {
                    if constexpr (std::is_same_v<std::invoke_result_t<F&>, troupe::task<void>>) {
                        troupe::task<void> t = fn();
                        co_await std::move(t);
                    } else {
                        fn();
                    }
                } catch (const troupe::cancelled&) {
                    throw;
                } catch (const std::exception& e) {
                    troupe::logger()->error("streams: app '{}': a timer threw: {}", app_id, e.what());
                }
            }
        });
    }

private:
    /// The broker all of `sources` are in; troupe::error if some are channels and some not.
    template <topic_value K, topic_value V>
    const std::shared_ptr<streams::broker>& one_broker_of(const std::vector<const streams::topic<K, V>*>& sources,
                                                          const std::string& what) const {
        for (const auto* t : sources) {
            if (t->in_process() != sources.front()->in_process()) {
                const auto* c = t->in_process() ? t : sources.front();
                const auto* other = t->in_process() ? sources.front() : t;
                throw error("streams: app '" + id() + "': " + what + " reads the channel '" + c->name() +
                            "' and the topic '" + other->name() +
                            "': a stream reads channels or topics, not both (forward one into the other with "
                            "through())");
            }
        }
        return sources.front()->broker_ptr();
    }

    template <topic_value K, topic_value V>
    streams::stream<K, V>& stream_of(std::vector<const streams::topic<K, V>*> sources) {
        check_not_started("a stream");
        std::string n = std::to_string(homes_.size() + 1);
        std::vector<std::string> names;
        for (const auto* t : sources) {
            names.push_back(t->name());
        }
        auto home = std::make_unique<detail::stream_home>(*core_, one_broker_of(sources, "stream " + n),
                                                          "stream " + n + " of '" + names.front() + "'",
                                                          id() + "-stream-" + n, std::move(names), 1);
        auto s = std::make_shared<streams::stream<K, V>>(*home, home->root(), std::move(sources));
        core_->add_stream(*home);
        homes_.push_back(std::move(home));
        auto& ref = *s;
        topics_.push_back(std::move(s));
        return ref;
    }

    template <topic_value K, topic_value V, class F>
    auto& agent_of(std::string name, std::vector<const streams::topic<K, V>*> sources, F fn, agent_options o) {
        using result = app_detail::agent_result<F, K, V>;
        static_assert(app_detail::yields<result>::valid,
                      "app.agent: the function must take a troupe::streams::stream<K, V>& and return "
                      "troupe::generator<R> or troupe::task<void>");
        using R = typename app_detail::yields<result>::type;
        check_not_started("an agent");
        if (name.empty()) {
            throw error("streams: app '" + id() + "': an agent needs a name");
        }
        if (sources.empty()) {
            throw error("streams: app '" + id() + "': agent '" + name + "' needs at least one topic");
        }
        std::vector<std::string> names;
        for (const auto* t : sources) {
            names.push_back(t->name());
        }
        bad_value_policy on_bad{o.on_bad_value, o.dead_letter_topic};
        if (on_bad.action == bad_value::dead_letter && on_bad.dead_letter_topic.empty()) {
            on_bad.dead_letter_topic = id() + "-" + name + "-dead-letter";
        }
        auto from = one_broker_of(sources, "agent '" + name + "'");
        detail::agent_settings settings{std::move(name), std::move(from), std::move(names), o.concurrency,
                                        std::move(on_bad)};
        auto a = std::make_unique<streams::agent<K, V, R>>(*core_, std::move(settings), std::move(sources),
                                                           typename streams::agent<K, V, R>::function(std::move(fn)));
        auto& ref = *a;
        agents_.push_back(std::move(a));
        return ref;
    }

public:
    /// The worker's command line (Faust's `faust -A app ...`), for the app's main():
    ///
    ///     int main(int argc, char** argv) { ...declare topics and agents...; return app.main(argc, argv); }
    ///
    /// Commands: `worker [-l info]` runs the agents until SIGINT or SIGTERM, then stops
    /// (committing what was acknowledged); `send <topic|agent> <value> [--key k] [--partition
    /// p]` or `send <topic|agent> --file values.jsonl` sends values typed as JSON (or as text
    /// for raw types), checked before anything is sent; `agents` and `topics` list what the
    /// app declares. On the embedded broker `send` runs the agents while it sends and until
    /// they have finished what it sent (nothing else would read it). Gives the exit status:
    /// 0, 1 (a runtime failure) or 2 (bad command-line input).
    int main(int argc, char** argv);

    /// Starts the agents and the reader of replies. When it returns, each agent and stream is a
    /// member of its consumer group: another instance of the app (the same id, on the same
    /// broker) shares the partitions with this one from then on. Idempotent.
    void start() {
        if (started_) {
            return;
        }
        started_ = true;
        core_->start();
        for (auto& a : agents_) {
            a->start();
        }
        core_->start_tasks();
    }
    /// Stops the agents (each commits what it finished), then the reader of replies; asks still
    /// waiting fail. Idempotent; not from inside one of its agents.
    void stop() {
        if (!started_) {
            return;
        }
        started_ = false;
        core_->stop_tasks();
        for (auto& a : agents_) {
            a->stop();
        }
        core_->stop();
    }

private:
    void check_not_started(const char* what) const {
        if (started_) {
            throw error("streams: app '" + id() + "': " + what + " is declared before start()");
        }
    }

    std::unique_ptr<detail::app_core> core_;
    std::vector<std::shared_ptr<void>> topics_;
    std::vector<std::unique_ptr<detail::agent_base>> agents_;
    std::vector<std::unique_ptr<detail::stream_home>> homes_;
    std::vector<detail::topic_entry> entries_;
    int channels_ = 0;  // made without a name
    bool started_ = false;
};

}  // namespace troupe::streams
