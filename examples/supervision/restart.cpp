// Supervision: a supervisor starts its children in order and starts them again, from the same
// arguments, when they fail. A nested supervisor restarts a pipeline rest_for_one; when it
// needs too many restarts it gives up and its own supervisor restarts it (escalation). The
// root's stop stops everything, each supervisor's children in the reverse of their start order.

#include <troupe/supervision/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../check.hpp"
#include "journal.hpp"

using namespace std::chrono_literals;
using example::journal;

struct put {
    std::string key;
    std::string value;
};
struct lookup {
    std::string key;
};
struct crash {};

/// A key-value cache. A restart constructs it again from its original arguments: it starts empty.
class cache : public troupe::actor {
public:
    cache(std::string label, std::atomic<int>* starts) : label_(std::move(label)) {
        starts->fetch_add(1);
        starts->notify_all();  // main() waits for restarts with starts.wait(n)
    }
    void handle(put p) { data_[p.key] = p.value; }
    std::optional<std::string> handle(lookup l) const {
        auto it = data_.find(l.key);
        return it == data_.end() ? std::nullopt : std::optional(it->second);
    }
    void handle(crash) { throw std::runtime_error(label_ + " is corrupted"); }

private:
    std::string label_;
    std::map<std::string, std::string> data_;
};

/// One stage of a pipeline: logs its start and stop, counts its starts.
class stage : public troupe::actor {
public:
    stage(journal* log, std::string name, std::atomic<int>* starts) : log_(log), name_(std::move(name)) {
        log_->add(name_ + " start");
        starts->fetch_add(1);
        starts->notify_all();
    }
    void handle(crash) { throw std::runtime_error(name_ + " crashed"); }

protected:
    void on_stop() override { log_->add(name_ + " stop"); }

private:
    journal* log_;
    std::string name_;
};

using example::check;

int main() {
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", std::make_shared<spdlog::sinks::null_sink_mt>()));
    journal log;  // before the system: actors write to it until the system has shut down
    troupe::system sys;
    std::atomic<int> cache_starts{0};
    std::atomic<int> reader_starts{0};
    std::atomic<int> parser_starts{0};
    std::atomic<int> writer_starts{0};

    // A pipeline whose stages depend on the ones before them: rest_for_one. One restart a
    // minute is all it allows; the second makes it give up.
    troupe::supervisor_spec pipeline;
    pipeline.strategy = troupe::restart_strategy::rest_for_one;
    pipeline.intensity = {1, 1min};
    pipeline.children = {
        troupe::child<stage>("reader", &log, "reader", &reader_starts),
        troupe::child<stage>("parser", &log, "parser", &parser_starts),
        troupe::child<stage>("writer", &log, "writer", &writer_starts),
    };

    // The root: one_for_one over a cache and the pipeline's supervisor.
    troupe::supervisor_spec root_spec;
    root_spec.strategy = troupe::restart_strategy::one_for_one;
    root_spec.intensity = {3, 5s};
    root_spec.children = {
        troupe::child<cache>("cache", "primary cache", &cache_starts),
        troupe::child<troupe::supervisor>("pipeline", pipeline),
    };
    root_spec.observer = [&log](const troupe::supervisor_event& e) {
        if (e.what == troupe::supervisor_event::kind::ended) {
            log.add("root: " + e.child + " ended (" + e.reason.describe() + ")");
        }
    };
    auto root = sys.spawn<troupe::supervisor>(root_spec);

    std::cout << "one_for_one: the cache fails and starts again, empty\n";
    auto c = root.ask(troupe::which_child<cache>{"cache"}).get();
    c.tell(put{"answer", "42"});
    check(c.ask(lookup{"answer"}).get() == "42", "the cache holds a value");
    c.tell(crash{});
    cache_starts.wait(1);  // the constructor ran a second time, with the same arguments
    // A restart makes a new actor: the old ref is dead. Ask the supervisor for the current one.
    check(!c.alive(), "the old ref is dead after the restart");
    c = root.ask(troupe::which_child<cache>{"cache"}).get();
    check(c.alive() && !c.ask(lookup{"answer"}).get(), "the restarted cache is a new, empty actor");

    std::cout << "rest_for_one: the parser fails; the writer, started after it, restarts too\n";
    auto pipe = root.ask(troupe::which_child<troupe::supervisor>{"pipeline"}).get();
    auto parser = pipe.ask(troupe::which_child<stage>{"parser"}).get();  // answered once all stages started
    std::size_t mark = log.size();
    parser.tell(crash{});
    writer_starts.wait(1);
    check(log.since(mark) == std::vector<std::string>{"writer stop", "parser start", "writer start"},
          "the writer stopped, then parser and writer started in order");
    check(reader_starts.load() == 1, "the reader, started before the parser, was left alone");

    std::cout << "escalation: a second parser failure within a minute is one too many\n";
    pipe.ask(troupe::which_child<stage>{"parser"}).get().tell(crash{});
    reader_starts.wait(1);  // the root restarted the whole pipeline
    troupe::exit_reason why = pipe.exited().get();
    check(why.error_type == "troupe::restart_intensity_exceeded", "the pipeline's supervisor gave up");
    std::cout << "  " << why.describe() << '\n';
    check(root.alive(), "the root restarted it and goes on");
    auto pipe2 = root.ask(troupe::which_child<troupe::supervisor>{"pipeline"}).get();
    check(pipe2 != pipe && pipe2.ask(troupe::which_children{}).get().size() == 3, "a new pipeline, all stages up");

    std::cout << "stop: children stop in the reverse of their start order\n";
    mark = log.size();
    root.stop();
    check(log.since(mark) == std::vector<std::string>{"writer stop", "parser stop", "reader stop",
                                                      "root: pipeline ended (stopped)", "root: cache ended (stopped)"},
          "the pipeline's stages stopped last first, then the pipeline, then the cache");
    return example::exit_status();
}
